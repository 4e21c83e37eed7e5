"""`bench MODEL`: batch-1 latency of the compiled model on random inputs, optionally against
onnxruntime and PyTorch on the same inputs, timed interleaved in one process.

`--compare` takes `onnxruntime=model.onnx` and/or `torch=model.pt` (TorchScript); the other
engines are test/benchmark-only dependencies, imported only when asked for.
"""
from __future__ import annotations

import time

import numpy as np

from mlir_coreml.errors import MlirCoremlError


def random_inputs(inputs: dict, seed: int = 0) -> dict[str, np.ndarray]:
    """Inputs shaped like the model's declared ones (dynamic dims become 1)."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, t in inputs.items():
        shape = tuple(1 if d is None else d for d in (t.shape or ()))
        dtype = t.element.numpy_dtype
        out[name] = rng.standard_normal(shape).astype(dtype) if dtype.kind == "f" else \
            rng.integers(0, 4, size=shape).astype(dtype)
    return out


def model_flops(module) -> int:
    return sum(int(op.flops()) for op in module.walk() if hasattr(op, "flops"))


def onnxruntime_runner(path: str, threads: int):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # idle onnxruntime threads otherwise spin and steal the cores from the engines timed after it
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    # inputs are matched by position: exporters name them differently from Core ML
    return lambda feeds: session.run(None, dict(zip(names, feeds.values())))


def torch_runner(path: str, threads: int):
    import torch

    torch.set_num_threads(threads)
    module = torch.jit.load(path).eval()

    def run(feeds):
        with torch.inference_mode():
            return module(*[torch.from_numpy(v) for v in feeds.values()])

    return run


ENGINES = {"onnxruntime": onnxruntime_runner, "torch": torch_runner}


def parse_compare(spec: str, threads: int) -> dict:
    engines = {}
    for item in filter(None, (s.strip() for s in spec.split(","))):
        name, _, path = item.partition("=")
        if name not in ENGINES:
            raise MlirCoremlError(f"unknown engine '{name}' (expected {', '.join(ENGINES)})", "--compare")
        if not path:
            raise MlirCoremlError(f"'{name}' needs a model file: {name}=PATH", "--compare")
        engines[name] = ENGINES[name](path, threads)
    return engines


def interleaved_latencies(runners: dict, feeds: dict, runs: int, warmup: int = 3) -> dict[str, np.ndarray]:
    """Median-ready latency samples (seconds), one call of each engine per round."""
    for run in runners.values():
        for _ in range(warmup):
            run(feeds)
    samples = {name: [] for name in runners}
    for _ in range(runs):
        for name, run in runners.items():
            start = time.perf_counter()
            run(feeds)
            samples[name].append(time.perf_counter() - start)
    return {name: np.array(s) for name, s in samples.items()}


def bench_model(model, threads: int = 1, compare: str = "", runs: int = 50) -> str:
    from mlir_coreml.runtime.predict import compile_model

    compiled = compile_model(model, threads=threads, weight_precision="fp16")  # Core ML's precision model
    feeds = random_inputs(compiled.inputs)
    runners = {"mlir_coreml": compiled.predict, **parse_compare(compare, threads)}
    samples = interleaved_latencies(runners, feeds, runs)
    flops = model_flops(compiled.module)
    ours = float(np.median(samples["mlir_coreml"]))
    lines = [f"model: {model}  threads: {threads}  runs: {runs}  FLOPs: {flops / 1e9:.3f} G",
             f"{'engine':<14}{'median ms':>11}{'p90 ms':>9}{'ratio':>8}{'GFLOP/s':>9}"]
    for name, s in samples.items():
        median = float(np.median(s))
        lines.append(f"{name:<14}{median * 1e3:>11.3f}{np.percentile(s, 90) * 1e3:>9.3f}"
                     f"{ours / median:>8.2f}{flops / median / 1e9:>9.1f}")
    lines.append("ratio = our median / engine median (below 1: we are faster)")
    return "\n".join(lines) + "\n"


def epilogue_label(op) -> str:
    """` +residual+relu` for a conv2d/linear whose attributes fuse those (empty otherwise)."""
    parts = ["residual"] if getattr(op, "residual", None) is not None else []
    act = getattr(op, "activation", "none")
    if isinstance(act, str) and act != "none":  # an activation op's `activation` is a method
        parts.append(act)
    return f" +{'+'.join(parts)}" if parts else ""


def profile_model(model, threads: int = 1, runs: int = 10) -> str:
    """Where the time goes: seconds per step of the schedule (executor path, one step at a time),
    summed by op (a conv2d/linear with an epilogue is named with its activation and residual)."""
    from mlir_coreml.runtime.predict import compile_model

    compiled = compile_model(model, threads=threads, weight_precision="fp16", codegen=False)
    executor = compiled.executor
    args = compiled.signature.check_inputs(random_inputs(compiled.inputs))
    executor.run(args)  # warm-up
    timings = [0.0] * len(executor.steps)
    for _ in range(runs):
        executor.run(args, timings)
    by_op: dict[str, list] = {}
    for step, seconds in zip(executor.steps, timings):
        key = step.op.op_name + epilogue_label(step.op) + f" [{step.kind}]"
        entry = by_op.setdefault(key, [0, 0.0])
        entry[0] += 1
        entry[1] += seconds / runs
    total = sum(seconds for _, seconds in by_op.values()) or 1e-12
    lines = [f"model: {model}  threads: {threads}  runs: {runs}  total: {total * 1e3:.2f} ms per run",
             f"{'op':<48}{'count':>6}{'ms':>9}{'%':>7}"]
    for key, (count, seconds) in sorted(by_op.items(), key=lambda kv: -kv[1][1]):
        lines.append(f"{key:<48}{count:>6}{seconds * 1e3:>9.3f}{100 * seconds / total:>7.1f}")
    return "\n".join(lines) + "\n"
