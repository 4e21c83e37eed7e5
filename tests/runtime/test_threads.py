"""compile_model's `threads=` and MLIR_COREML_NUM_THREADS reach the kernels from both runtimes
(the executor and the generated module): the pool starts exactly the workers asked for (none
for one thread), splits the convolution only when asked to, and the result has the same bits
for any thread count.  Each case runs in a fresh interpreter, counting the process's threads
(/proc/self/task) around predict and reading the pool's statistics (kernels.h)."""
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

PROBE = """
import json, os, sys
import numpy as np
from mlir_coreml.csrc import _kernels as K
from mlir_coreml.ir.dialects import core
from mlir_coreml.runtime.executor import Executor
from mlir_coreml.runtime.predict import compile_model
from tests.codegen.helpers import Const, single_op

rng = np.random.default_rng(0)
operands = {"input": rng.standard_normal((1, 32, 40, 40)).astype(np.float32),
            "weight": Const((rng.standard_normal((64, 32, 3, 3)) * 0.1).astype(np.float32)),
            "bias": Const(rng.standard_normal(64).astype(np.float32)), "residual": None}
module, _, args = single_op(core.Conv2dOp, operands, {"pads": [1, 1, 1, 1], "activation": "relu"})
model = compile_model(module, threads=THREADS, codegen=CODEGEN, precision="fp16")
generated = not isinstance(model.runner, Executor)
tasks = lambda: len(os.listdir("/proc/self/task"))
before = tasks()
K.thread_stats_enable(True)
y = model.predict({"in0": args[0]})["out0"]
stats = K.thread_stats()
np.save(sys.argv[1], y)
print(json.dumps({"generated": generated, "workers": tasks() - before, "regions": stats["regions"]}))
"""


def run_probe(tmp_path, threads, codegen, env_threads):
    env = dict(os.environ, OMP_NUM_THREADS="2", PYTHONPATH=ROOT)
    env.pop("MLIR_COREML_NUM_THREADS", None)
    if env_threads is not None:
        env["MLIR_COREML_NUM_THREADS"] = env_threads
    out = tmp_path / f"y_{threads}_{codegen}_{env_threads}.npy"
    proc = subprocess.run([sys.executable, "-c", PROBE.replace("THREADS", str(threads)).replace("CODEGEN", str(codegen)), str(out)],
                          env=env, cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    import numpy as np

    return json.loads(proc.stdout.strip().splitlines()[-1]), np.load(out)


@pytest.mark.parametrize("codegen", [False, True], ids=["executor", "generated"])
def test_threads_reach_the_kernels(tmp_path, codegen):
    cases = {  # (threads=, MLIR_COREML_NUM_THREADS) -> workers started
        (1, None): 0,     # one thread: the calling thread only, nothing split
        (2, None): 1,
        (3, None): 2,
        (None, "2"): 1,   # the environment variable is the default
        (None, "1"): 0,
        (1, "3"): 0,      # threads= wins over it
    }
    results = {}
    for (threads, env_threads), workers in cases.items():
        info, y = run_probe(tmp_path, threads, codegen, env_threads)
        assert info["generated"] == codegen
        assert info["workers"] == workers, (threads, env_threads, info)
        assert (info["regions"] > 0) == (workers > 0), (threads, env_threads, info)
        results[threads, env_threads] = y
    one = results[1, None]
    assert (one >= 0).all() and one.any()   # relu of a real convolution
    for key, y in results.items():
        assert (y == one).all(), f"{key} differs from one thread"
