"""Thread counts: the kernels' pool never runs more threads than asked (no oversubscription), a
single-thread setting starts no thread at all, and MLIR_COREML_NUM_THREADS is the default.
Each case runs in a fresh interpreter, counting the process's threads (/proc/self/task)
around a convolution large enough to be split."""
import os
import subprocess
import sys

import pytest

PROBE = """
import os, numpy as np
from mlir_coreml.csrc import _kernels as K
def count():
    return len(os.listdir('/proc/self/task'))
rng = np.random.default_rng(0)
w = K.pack_conv_weights((rng.standard_normal((64, 32, 3, 3)) * 0.1).astype(np.float32))
x = rng.standard_normal((1, 32, 40, 40)).astype(np.float32)   # 47 MFLOP: above the split threshold
n = {set_threads}
if n is not None:
    K.set_num_threads(n)
before = count()
ref = None
for _ in range(3):
    y = K.conv2d(x, w, padding=1)
    ref = y if ref is None else ref
    assert np.array_equal(y, ref)
print(K.get_num_threads(), count() - before)
"""


def started_threads(set_threads, env_threads=None):
    env = dict(os.environ)
    env.pop("MLIR_COREML_NUM_THREADS", None)
    env["OMP_NUM_THREADS"] = "2"
    if env_threads is not None:
        env["MLIR_COREML_NUM_THREADS"] = env_threads
    out = subprocess.run([sys.executable, "-c", PROBE.format(set_threads=set_threads)], env=env,
                         capture_output=True, text=True, check=True).stdout.split()
    return int(out[0]), int(out[1])


@pytest.mark.parametrize("set_threads,env_threads,want", [
    (1, None, (1, 0)),       # one thread: the calling thread only
    (2, None, (2, 1)),       # two: one pool worker beside the caller
    (4, None, (4, 3)),       # never more workers than asked
    (None, "3", (3, 2)),     # the environment variable is the default
    (1, "3", (1, 0)),        # set_num_threads (compile_model's threads=) wins over it
])
def test_pool_starts_exactly_the_threads_asked(set_threads, env_threads, want):
    assert started_threads(set_threads, env_threads) == want


IDLE = """
import time, numpy as np
from mlir_coreml.csrc import _kernels as K
rng = np.random.default_rng(0)
w = K.pack_conv_weights((rng.standard_normal((64, 32, 3, 3)) * 0.1).astype(np.float32))
x = rng.standard_normal((1, 32, 40, 40)).astype(np.float32)
K.set_num_threads(2)
K.conv2d(x, w, padding=1)           # starts the worker
time.sleep(0.05)                    # past its short spin: it sleeps now
cpu = time.process_time()
time.sleep(0.5)
print(time.process_time() - cpu)
"""


def test_idle_workers_sleep():
    # Between predictions the pool's worker must not burn a core: after a short spin it waits
    # on a condition variable, so the process uses (almost) no CPU while the caller sleeps.
    env = dict(os.environ)
    env.pop("MLIR_COREML_NUM_THREADS", None)
    out = subprocess.run([sys.executable, "-c", IDLE], env=env, capture_output=True, text=True, check=True)
    assert float(out.stdout.split()[-1]) < 0.05
