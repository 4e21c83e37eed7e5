"""Batched predict throughput: inferences/s at batch 1, 8 and 32 (one kernel run per batch,
runtime/batch.py) against the same samples predicted one at a time.

    python benchmarks/batch_throughput.py [--models mobilenet_v2,transformer,mlp] [--batches 1,8,32]
                                          [--threads 1] [--runs 10] [--form nn_fp32] [--executor]

Models come from the test zoo (built once, cached). Compile time is excluded: every variant is
compiled and warmed up before timing; each figure is the best of `runs` batches.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def best_seconds(fns: dict, runs: int) -> dict[str, float]:
    """Fastest of `runs` calls of each function (as timeit reports), timed interleaved round by
    round: on a shared machine a longer call is preempted more often, and a median would count
    that against the larger batches."""
    samples = {name: [] for name in fns}
    for fn in fns.values():
        fn()  # warm-up
    for _ in range(runs):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - start)
    return {name: float(np.min(s)) for name, s in samples.items()}


def main(argv=None) -> int:
    from mlir_coreml.runtime.predict import compile_model
    from tests.models import zoo

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="mobilenet_v2,transformer,mlp")
    ap.add_argument("--batches", default="1,8,32")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--form", default="nn_fp32")
    ap.add_argument("--executor", action="store_true", help="time the executor instead of generated modules")
    args = ap.parse_args(argv)
    batches = [int(b) for b in args.batches.split(",")]
    print(f"threads: {args.threads}  weights: fp16  runner: {'executor' if args.executor else 'generated module'}")
    print(f"{'model':<14}{'batch':>6}{'batched inf/s':>15}{'one-by-one inf/s':>18}{'speed-up':>10}")
    for name in args.models.split(","):
        folder = zoo.cached_build(name, args.form, os.environ.get("MLIR_COREML_FIXTURES"))
        model_file = next(p for p in folder.iterdir() if p.suffix in (".mlmodel", ".mlpackage"))
        model = compile_model(str(model_file), threads=args.threads, precision="fp16",
                              codegen=False if args.executor else None)
        rng = np.random.default_rng(0)
        for batch in batches:
            samples = [{k: rng.standard_normal(t.shape).astype(np.float32) for k, t in model.inputs.items()}
                       for _ in range(batch)]
            if batch > 1 and model.batched(batch) is None:
                print(f"{name:<14}{batch:>6}  not batchable: {model.unbatchable_reason}")
                continue
            t = best_seconds({"batched": lambda: model.predict_batch(samples, batch_size=batch),
                                "single": lambda: [model.predict(s) for s in samples]}, args.runs)
            batched, single = t["batched"], t["single"]
            print(f"{name:<14}{batch:>6}{batch / batched:>15.1f}{batch / single:>18.1f}{single / batched:>10.2f}",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
