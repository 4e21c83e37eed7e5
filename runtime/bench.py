"""`bench MODEL`: batch-1 latency of the compiled model on random inputs, optionally against
onnxruntime and PyTorch on the same inputs, timed interleaved in one process.

`--compare` takes `onnxruntime=model.onnx` and/or `torch=model.pt` (TorchScript); the other
engines are test/benchmark-only dependencies, imported only when asked for.
"""
from __future__ import annotations

import os
import time

import numpy as np
from tqdm import tqdm

from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.ir.types import DictType, ListType, TensorType


def random_inputs(inputs: dict, seed: int = 0) -> dict[str, np.ndarray]:
    """Inputs shaped like the model's declared ones (dynamic dims become 1)."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, t in inputs.items():
        if not isinstance(t, TensorType) or t.element.name == "string":  # classical models' features
            out[name] = {} if isinstance(t, DictType) else [] if isinstance(t, ListType) else ""
            continue
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


def onnx_beside(model) -> str | None:
    """The ONNX export of `model`: `<stem>.onnx` next to it, else the only .onnx in its folder."""
    if model is None:
        return None
    model = os.path.abspath(os.fspath(model)).rstrip(os.sep)
    stem, folder = os.path.splitext(model)[0], os.path.dirname(model)
    if os.path.isfile(stem + ".onnx"):
        return stem + ".onnx"
    found = sorted(f for f in os.listdir(folder) if f.endswith(".onnx")) if os.path.isdir(folder) else []
    return os.path.join(folder, found[0]) if len(found) == 1 else None


def parse_compare(spec: str, threads: int, model=None) -> dict:
    engines = {}
    for item in filter(None, (s.strip() for s in spec.split(","))):
        name, _, path = item.partition("=")
        if name not in ENGINES:
            raise MlirCoremlError(f"unknown engine '{name}' (expected {', '.join(ENGINES)})", "--compare")
        if not path and name == "onnxruntime":
            path = onnx_beside(model)
            if path is None:
                raise MlirCoremlError(f"no .onnx file beside {model} to compare with; give one with "
                                      f"--compare onnxruntime=PATH.onnx", "--compare")
        if not path:
            raise MlirCoremlError(f"'{name}' needs a model file: {name}=PATH", "--compare")
        if not os.path.exists(path):
            raise MlirCoremlError(f"no such file for {name}", path)
        engines[name] = ENGINES[name](path, threads)
    return engines


def interleaved_latencies(runners: dict, feeds: dict, runs: int, warmup: int = 3) -> dict[str, np.ndarray]:
    """Median-ready latency samples (seconds), one call of each engine per round."""
    for run in runners.values():
        for _ in range(warmup):
            run(feeds)
    samples = {name: [] for name in runners}
    for _ in tqdm(range(runs), desc="mlir_coreml: timing", unit="round", leave=False, disable=None):
        for name, run in runners.items():
            start = time.perf_counter()
            run(feeds)
            samples[name].append(time.perf_counter() - start)
    return {name: np.array(s) for name, s in samples.items()}


def bench_model(model, threads: int = 1, compare: str = "", runs: int = 50) -> str:
    from mlir_coreml.runtime.predict import compile_model

    engines = parse_compare(compare, threads, model)  # a missing engine file fails before the compile
    compiled = compile_model(model, threads=threads, precision="fp16")  # Core ML's precision model
    feeds = random_inputs(compiled.inputs)
    runners = {"mlir_coreml": compiled.predict, **engines}
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


FALLBACK = "fallback"


def step_kind(step) -> str:
    """kernel | reference (a core op without a kernel) | fallback (a frontend op that no
    lowering could map, run by its own reference implementation)."""
    if step.kind == "reference" and not step.op.op_name.startswith("core."):
        return FALLBACK
    return step.kind


def epilogue_label(op) -> str:
    """` +residual+relu` for a conv2d/linear whose attributes fuse those (empty otherwise)."""
    parts = ["residual"] if getattr(op, "residual", None) is not None else []
    act = getattr(op, "activation", "none")
    if isinstance(act, str) and act != "none":  # an activation op's `activation` is a method
        parts.append(act)
    return f" +{'+'.join(parts)}" if parts else ""


def step_times(model, threads: int = 1, runs: int = 10, pipeline: str | None = None):
    """(compiled model, seconds per run of each executor step): the executor path, one step
    at a time, fp16 weights as bench uses."""
    from mlir_coreml.runtime.predict import compile_model

    compiled = compile_model(model, pipeline=pipeline, threads=threads, precision="fp16", codegen=False)
    if not hasattr(compiled, "executor"):
        raise MlirCoremlError("--profile times the steps of a neural network schedule; this model holds classical "
                              "models, run `bench` without --profile", str(model))
    executor = compiled.executor
    args = compiled.signature.check_inputs(random_inputs(compiled.inputs))
    executor.run(args)  # warm-up
    timings = [0.0] * len(executor.steps)
    for _ in tqdm(range(runs), desc="mlir_coreml: profiling", unit="run", leave=False, disable=None):
        executor.run(args, timings)
    return compiled, [seconds / runs for seconds in timings]


def profile_ops(model, threads: int = 1, runs: int = 10, pipeline: str | None = None):
    """For the graph view: (compiled module, op -> seconds, op -> fused group index). Fusion
    happens in the IR (fuse-epilogue): an op that carries an epilogue is one fused group."""
    compiled, seconds = step_times(model, threads, runs, pipeline)
    steps = compiled.executor.steps
    times = {step.op: t for step, t in zip(steps, seconds)}
    groups = {op: k for k, op in enumerate(s.op for s in steps if epilogue_label(s.op))}
    return compiled.module, times, groups


def profile_model(model, threads: int = 1, runs: int = 10) -> str:
    """Where the time goes: seconds per step of the schedule (executor path, one step at a time),
    summed by op (a conv2d/linear with an epilogue is named with its activation and residual)."""
    compiled, seconds = step_times(model, threads, runs)
    by_op: dict[str, list] = {}
    for step, t in zip(compiled.executor.steps, seconds):
        key = step.op.op_name + epilogue_label(step.op) + f" [{step_kind(step)}]"
        entry = by_op.setdefault(key, [0, 0.0])
        entry[0] += 1
        entry[1] += t
    total = sum(t for _, t in by_op.values()) or 1e-12
    lines = [f"model: {model}  threads: {threads}  runs: {runs}  total: {total * 1e3:.2f} ms per run"]
    fell_back = sorted({s.op.op_name for s in compiled.executor.steps if step_kind(s) == FALLBACK})
    if fell_back:
        lines.append(f"no core lowering, run by their reference implementation: {', '.join(fell_back)}")
    lines.append(f"{'op':<48}{'count':>6}{'ms':>9}{'%':>7}")
    for key, (count, t) in sorted(by_op.items(), key=lambda kv: -kv[1][1]):
        lines.append(f"{key:<48}{count:>6}{t * 1e3:>9.3f}{100 * t / total:>7.1f}")
    return "\n".join(lines) + "\n"
