"""Thread scaling of whole CNNs on a possibly shared machine: 1 vs 2 threads, interleaved.

    python benchmarks/kernels/bench_threads.py [--models resnet18,mobilenet_v2] [--runs 20]

Each model (the zoo's fp16 .mlmodel form by default, --fp32 for the fp32 one) is compiled
with threads=1 and threads=2 and the two are run alternately.  Per run it records wall time
and the process CPU time (all threads), and reports their medians:

- speedup = wall(1 thread) / wall(2 threads): what a user sees, and what the machine's other
  load cuts into;
- cores = CPU(2 threads) / wall(2 threads): how many cores the 2-thread run actually had on
  average (2.0 on an idle machine; less when other processes took the second core);
- work = CPU(2 threads) / CPU(1 thread): the extra CPU the split costs (1.0 ideal);
- projected = 2 / work: the speedup with both cores to ourselves, the CPU-time-aware figure;
- single-thread cores = CPU(1) / wall(1): a threads=1 run must use one core (~1.0, never 2).
The load average before and after says how busy the machine was.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)


def timed(fn, feeds):
    w0, c0 = time.perf_counter(), time.process_time()
    fn(feeds)
    return time.perf_counter() - w0, time.process_time() - c0


def main(argv=None) -> int:
    from mlir_coreml.runtime.predict import compile_model
    from tests.models import zoo

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="resnet18,mobilenet_v2")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--fp32", action="store_true")
    args = ap.parse_args(argv)
    form = "nn_fp32" if args.fp32 else "nn_fp16"
    print(f"load average before: {os.getloadavg()[0]:.2f} (cores: {os.cpu_count()}); form {form}")
    print(f"{'model':<14}{'1t ms':>8}{'2t ms':>8}{'speedup':>8}{'cores':>7}{'work':>7}{'projected':>10}{'1t cores':>9}")
    for name in args.models.split(","):
        coreml = zoo.cached_build(name, form)
        inputs, _ = zoo.load_io(coreml)
        model_file = next(p for p in coreml.iterdir() if p.suffix in (".mlmodel", ".mlpackage"))
        feeds = {k: np.ascontiguousarray(v) for k, v in inputs.items()}
        models = {t: compile_model(str(model_file), threads=t) for t in (1, 2)}
        for m in models.values():
            m.predict(feeds)
        samples = {1: [], 2: []}
        for _ in range(args.runs):
            for t, m in models.items():
                time.sleep(0.002)
                samples[t].append(timed(m.predict, feeds))
        (w1, c1), (w2, c2) = (np.median(np.array(samples[t]), axis=0) for t in (1, 2))
        work = c2 / c1
        print(f"{name:<14}{w1 * 1e3:>8.2f}{w2 * 1e3:>8.2f}{w1 / w2:>8.2f}{c2 / w2:>7.2f}{work:>7.2f}"
              f"{2 / work:>10.2f}{c1 / w1:>9.2f}", flush=True)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
