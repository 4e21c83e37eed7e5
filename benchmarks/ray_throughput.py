"""Ray Data batch inference throughput: rows/s with 1 and 2 actors against scoring the same
table in this process (a per-row predict loop, and the batched predictor Ray's actors run).

    python benchmarks/ray_throughput.py [--model mobilenet_v2_small] [--rows 4000] [--batch-size 32]

The table is random float rows shaped like the model's input, in memory (ray.data.from_numpy).
Ray figures are end to end for one `materialize()`: they include starting the actors and
loading the packed model in each (the driver's compile and pack are excluded, as in-process
compile is). The Ray instance is local, `ray.init(num_cpus=2)`.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(argv=None) -> int:
    import ray

    from mlir_coreml.runtime.ray import predict_dataset
    from mlir_coreml.runtime.dataset import BatchPredictor
    from mlir_coreml.runtime.predict import compile_model
    from tests.models import zoo

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="mobilenet_v2_small")
    ap.add_argument("--form", default="nn_fp16")
    ap.add_argument("--rows", type=int, default=4000)
    ap.add_argument("--batch-size", type=int, default=32)
    args = ap.parse_args(argv)
    folder = zoo.cached_build(args.model, args.form, os.environ.get("MLIR_COREML_FIXTURES"))
    path = str(next(p for p in folder.iterdir() if p.suffix in (".mlmodel", ".mlpackage")))
    model = compile_model(path, threads=1)
    (name, t), = model.inputs.items()
    rows = np.random.default_rng(0).standard_normal((args.rows, *t.shape[1:])).astype(np.float32)

    results = {}
    results["in-process, predict per row"] = timed(lambda: [model.predict({name: r[None]}) for r in rows])
    predictor = BatchPredictor(model=model, batch_size=args.batch_size)
    predictor({name: rows[:args.batch_size]})  # compile the batched variant outside the timing
    results[f"in-process, batched ({args.batch_size})"] = timed(
        lambda: [predictor({name: rows[s:s + args.batch_size]}) for s in range(0, args.rows, args.batch_size)])
    ray.init(num_cpus=2, log_to_driver=False, include_dashboard=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    table = ray.data.from_numpy(rows).rename_columns({"data": name})
    for actors in (1, 2):
        scored = predict_dataset(table, path, batch_size=args.batch_size, concurrency=actors)
        results[f"ray, {actors} actor(s)"] = timed(scored.materialize)
    ray.shutdown()
    print(f"model: {args.model} ({args.form})  rows: {args.rows}  batch: {args.batch_size}  1 thread per worker")
    print(f"{'engine':<32}{'seconds':>9}{'rows/s':>10}")
    for engine, seconds in results.items():
        print(f"{engine:<32}{seconds:>9.2f}{args.rows / seconds:>10.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
