"""Winograd on against off, interleaved in one process: each zoo model compiled twice with the
default pipeline, once with `select-conv-algorithm{winograd=false}`, timed alternately
(single thread, medians), plus the per-convolution choice report of the first.

    python benchmarks/conv_algorithms.py [--models resnet18,unet] [--forms nn_fp16,nn_fp32] [--runs 20]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def main(argv=None) -> int:
    from mlir_coreml.passes.pipelines import named_pipeline
    from mlir_coreml.runtime.predict import compile_model
    from tests.models import zoo

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="resnet18,unet")
    ap.add_argument("--forms", default="nn_fp16,nn_fp32")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--report", action="store_true", help="print the choice report of each model")
    args = ap.parse_args(argv)
    base = named_pipeline("coreml-cpu")
    print(f"{'model':<14} {'form':<8} {'winograd ms':>12} {'im2col ms':>10} {'on/off':>7}")
    for name in args.models.split(","):
        for form in args.forms.split(","):
            path, inputs, _ = zoo.ModelZoo(os.environ.get("MLIR_COREML_FIXTURES")).get(name, form)
            with tempfile.TemporaryDirectory() as tmp:
                report = os.path.join(tmp, "choices.txt")
                on = compile_model(str(path), threads=1, pipeline=base.replace(
                    "select-conv-algorithm", f"select-conv-algorithm{{report={report}}}"))
                off = compile_model(str(path), threads=1, pipeline=base.replace(
                    "select-conv-algorithm", "select-conv-algorithm{winograd=false}"))
                choices = open(report, encoding="utf-8").read()
            times = {on: [], off: []}
            for _ in range(args.runs):
                for model in (on, off):
                    start = time.perf_counter()
                    model.predict(dict(inputs))
                    times[model].append(time.perf_counter() - start)
            a, b = (np.median(times[m]) * 1e3 for m in (on, off))
            print(f"{name:<14} {form:<8} {a:>12.2f} {b:>10.2f} {a / b:>7.3f}")
            if args.report:
                print(choices)
    return 0


if __name__ == "__main__":
    sys.exit(main())
