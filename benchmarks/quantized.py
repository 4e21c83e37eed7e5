"""Quantized weights on the kernels: resident bytes, accuracy and latency of a precision mode
against fp32 and fp16 weights (ResNet-18 from the zoo by default).

    python benchmarks/quantized.py [--model resnet18] [--form nn_fp32] [--precision int8]
        [--inputs 100] [--runs 20]

Resident bytes: the packed weights the executor holds (panels plus decoding tables).
Accuracy: relative output error ||y - y_fp32|| / ||y_fp32|| (the worst of the inputs) and the
top-1 agreement with fp32 over `--inputs` random inputs (uniform in the zoo input's range).
Latency: median ms per prediction, the modes run interleaved in one process (the machine is
shared: compare the ratio, not the milliseconds).
"""
from __future__ import annotations

import argparse
import inspect
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def resident_weight_bytes(model) -> int:
    """Bytes of the weight panels the compiled model's kernel steps hold."""
    seen, total = set(), 0
    for step in model.executor.steps:
        packed = inspect.getclosurevars(step.run).nonlocals.get("packed") if callable(step.run) else None
        if packed is not None and id(packed) not in seen:
            seen.add(id(packed))
            total += packed.nbytes
    return total


def main(argv=None) -> int:
    from mlir_coreml.csrc import _kernels
    from mlir_coreml.runtime.predict import compile_model
    from tests.models.zoo import ModelZoo

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="resnet18")
    p.add_argument("--form", default="nn_fp32")
    p.add_argument("--precision", default="int8")
    p.add_argument("--inputs", type=int, default=100)
    p.add_argument("--runs", type=int, default=20)
    args = p.parse_args(argv)
    zoo = ModelZoo(os.environ.get("MLIR_COREML_FIXTURES") or os.path.join(ROOT, "tests", ".fixtures"))
    path, sample, _ = zoo.get(args.model, args.form)
    modes = {"fp32": None, "fp16": "fp16", args.precision: args.precision}
    models = {name: compile_model(str(path), precision=mode) for name, mode in modes.items()}
    print(f"{args.model} ({args.form}), kernels on {_kernels.current_isa()}")
    base = resident_weight_bytes(models["fp32"])
    for name, model in models.items():
        b = resident_weight_bytes(model)
        print(f"  resident weights {name:6s} {b:>12d} B  ({b / base:.3f}x fp32)")

    rng = np.random.default_rng(0)
    name0, x0 = next(iter(sample.items()))
    lo, hi = float(x0.min()), float(x0.max())
    worst, agree = 0.0, 0
    for _ in range(args.inputs):
        x = {name0: rng.uniform(lo, hi, x0.shape).astype(x0.dtype)}
        ref = next(iter(models["fp32"].predict(x).values()))
        got = next(iter(models[args.precision].predict(x).values()))
        worst = max(worst, float(np.linalg.norm(got - ref) / np.linalg.norm(ref)))
        agree += int(np.argmax(got) == np.argmax(ref))
    print(f"  {args.precision}: relative output error vs fp32 (worst of {args.inputs}) {worst:.3g}; "
          f"top-1 agreement {agree}/{args.inputs}")

    times = {name: [] for name in models}
    for _ in range(args.runs):
        for name, model in models.items():
            t = time.perf_counter()
            model.predict(sample)
            times[name].append(time.perf_counter() - t)
    med = {name: float(np.median(t)) * 1e3 for name, t in times.items()}
    for name in models:
        print(f"  latency {name:6s} median {med[name]:.2f} ms  ({med[name] / med['fp16']:.3f}x fp16)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
