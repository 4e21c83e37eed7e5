"""Tree ensemble kernel (csrc/trees.c) against scikit-learn's own predict on a 500-tree forest.

    python benchmarks/tree_ensemble.py [--trees 500] [--depth 10] [--rows 10000]

Converts a RandomForestClassifier with coremltools' scikit-learn converter, compiles it with
mlir_coreml.compile_model and times, single-threaded (scikit-learn with n_jobs=1):
  batch:  the kernel over `rows` rows vs `predict_proba` on the same rows;
  single: `CompiledModel.predict` of one row (feature checks, interpreter, kernel, label + dict)
          vs `predict_proba` of one row.
Also checks that both give the same probabilities.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def median_seconds(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trees", type=int, default=500)
    parser.add_argument("--depth", type=int, default=10)
    parser.add_argument("--rows", type=int, default=10000)
    parser.add_argument("--features", type=int, default=20)
    args = parser.parse_args(argv)

    from sklearn.ensemble import RandomForestClassifier

    from tests.classical.zoo import convert

    logging.disable(logging.WARNING)
    warnings.simplefilter("ignore")
    from mlir_coreml.runtime.predict import compile_model

    rng = np.random.default_rng(0)
    X = rng.normal(size=(4000, args.features))
    y = (X[:, 0] + X[:, 1] * X[:, 2] + 0.5 * rng.normal(size=len(X)) > 0).astype(int)
    forest = RandomForestClassifier(args.trees, max_depth=args.depth, random_state=0, n_jobs=1).fit(X, y)
    nodes = sum(t.tree_.node_count for t in forest.estimators_)
    start = time.perf_counter()
    data = convert(forest, "x", "label")
    convert_s = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "forest.mlmodel")
        with open(path, "wb") as f:
            f.write(data)
        start = time.perf_counter()
        compiled = compile_model(path)
        compile_s = time.perf_counter() - start
    op = next(o for o in compiled.module.walk() if o.op_name == "classical.tree_ensemble_classifier")
    rows = rng.normal(size=(args.rows, args.features))

    ours = op.scores(rows)[:, 0]
    theirs = forest.predict_proba(rows)[:, 1]
    np.testing.assert_allclose(ours, theirs, atol=1e-9)
    single = compiled.predict({"x": rows[0]})["classProbability"][1]
    assert abs(single - theirs[0]) < 1e-9

    batch_ours = median_seconds(lambda: op.scores(rows), 7)
    batch_sklearn = median_seconds(lambda: forest.predict_proba(rows), 7)
    one = rows[:1]
    single_ours = median_seconds(lambda: compiled.predict({"x": one[0]}), 200)
    single_kernel = median_seconds(lambda: op.scores(one), 200)
    single_sklearn = median_seconds(lambda: forest.predict_proba(one), 50)

    print(f"forest: {args.trees} trees, max depth {args.depth}, {nodes} nodes, {args.features} features; "
          f"coremltools convert {convert_s:.1f} s, compile_model {compile_s:.2f} s")
    print(f"{'':28}{'mlir_coreml':>14}{'scikit-learn':>14}{'speed-up':>10}")
    print(f"{'batch of %d rows (ms)' % args.rows:28}{batch_ours * 1e3:14.2f}{batch_sklearn * 1e3:14.2f}"
          f"{batch_sklearn / batch_ours:9.1f}x")
    print(f"{'one row, predict (ms)':28}{single_ours * 1e3:14.3f}{single_sklearn * 1e3:14.3f}"
          f"{single_sklearn / single_ours:9.1f}x")
    print(f"{'one row, kernel only (ms)':28}{single_kernel * 1e3:14.3f}")


if __name__ == "__main__":
    main()
