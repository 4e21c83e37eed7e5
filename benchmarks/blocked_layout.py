"""The blocked layout before/after: each model compiled with the default coreml-cpu pipeline and
with `blocked-layout` inserted after select-conv-algorithm (with and without its Winograd convs
blocked), timed interleaved in one process (generated modules), one line per model with the
medians and the ratios to the default. The times are CPU seconds of the process
(time.process_time): on a shared machine they vary far less than wall time, and at one thread
they are the work done.

    python benchmarks/blocked_layout.py [--models mobilenet_v2,resnet18] [--threads 1] [--runs 10] [--fp32] [--ort]

With --ort, onnxruntime (same thread count) is timed in the same rounds and the default
pipeline's ratio to it printed.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

MODELS = ["mobilenet_v2", "squeezenet1_1", "resnet18", "unet"]
VARIANTS = {"blocked": "blocked-layout", "blocked+wino": "blocked-layout{winograd=true}"}


def pipeline_with(pass_text: str) -> str:
    from mlir_coreml.passes.pipelines import CPU_PIPELINE, named_pipeline

    default = named_pipeline(CPU_PIPELINE)
    if "blocked-layout" in default:   # measuring against a default that already has it: drop it there
        default = ",".join(p for p in default.split(",") if not p.startswith("blocked-layout"))
    return default.replace("select-conv-algorithm,", f"select-conv-algorithm,{pass_text},")


def cpu_times(runners: dict, feeds: dict, runs: int, warmup: int = 3) -> dict[str, list]:
    """CPU seconds per call of each runner, one call of each per round."""
    for run in runners.values():
        for _ in range(warmup):
            run(feeds)
    samples = {name: [] for name in runners}
    for _ in range(runs):
        for name, run in runners.items():
            start = time.process_time()
            run(feeds)
            samples[name].append(time.process_time() - start)
    return samples


def main(argv=None) -> int:
    from mlir_coreml.runtime.bench import onnxruntime_runner
    from mlir_coreml.runtime.predict import compile_model
    from tests.models import zoo

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--fp32", action="store_true")
    ap.add_argument("--ort", action="store_true", help="time onnxruntime too")
    args = ap.parse_args(argv)
    form = "nn_fp32" if args.fp32 else "nn_fp16"
    print(f"form {form}, {args.threads} thread(s), CPU-time medians of {args.runs} interleaved runs")
    print(f"{'model':<14}{'nchw ms':>9}" + "".join(f"{v + ' ms':>17}{'ratio':>7}" for v in VARIANTS) +
          (f"{'ort ms':>9}{'default/ort':>12}" if args.ort else ""))
    for name in args.models.split(","):
        coreml = zoo.cached_build(name, form)
        inputs, _ = zoo.load_io(coreml)
        path = str(next(p for p in coreml.iterdir() if p.suffix in (".mlmodel", ".mlpackage")))
        feeds = {k: np.ascontiguousarray(v) for k, v in inputs.items()}
        runners = {"nchw": compile_model(path, pipeline=pipeline_with("cse"), threads=args.threads).predict}
        for variant, text in VARIANTS.items():
            runners[variant] = compile_model(path, pipeline=pipeline_with(text), threads=args.threads).predict
        if args.ort:
            runners["default"] = compile_model(path, threads=args.threads).predict
            runners["ort"] = onnxruntime_runner(str(zoo.cached_build(name, "onnx") / "model.onnx"), args.threads)
        med = {k: float(np.median(v)) for k, v in cpu_times(runners, feeds, args.runs).items()}
        print(f"{name:<14}{med['nchw'] * 1e3:>9.2f}" +
              "".join(f"{med[v] * 1e3:>17.2f}{med[v] / med['nchw']:>7.2f}" for v in VARIANTS) +
              (f"{med['ort'] * 1e3:>9.2f}{med['default'] / med['ort']:>12.2f}" if args.ort else ""), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
