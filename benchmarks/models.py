"""One command for the model yardsticks: builds MobileNetV2, ResNet-18, SqueezeNet 1.1, the
U-Net and the transformer encoder (PyTorch + coremltools, fixed seeds, cached), then times
mlir_coreml, onnxruntime and PyTorch on the same inputs, interleaved, with 1 and 2 threads.

    python benchmarks/models.py [--models mobilenet_v2,resnet18] [--threads 1,2] [--runs 30] [--form nn_fp32]

Prints latency (ours: the generated module; exec: the same schedule on the executor), ratio
to onnxruntime, achieved GFLOP/s, weight bytes and peak RSS.
"""
from __future__ import annotations

import argparse
import os
import resource
import sys

# Engines run interleaved in one process: no engine's idle threads may spin on the shared cores
# (PyTorch's OpenMP threads would, and onnxruntime's do unless told otherwise, see runtime/bench.py).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

MODELS = ["mobilenet_v2", "resnet18", "squeezenet1_1", "unet", "transformer"]


def torch_model(name: str, inputs: dict, threads: int):
    import torch

    from tests.models import zoo

    torch.set_num_threads(threads)
    module = zoo.instantiate(name).eval()
    args = tuple(torch.from_numpy(v) for v in inputs.values())
    traced = torch.jit.trace(module, args)

    def run(feeds):
        with torch.inference_mode():
            return traced(*[torch.from_numpy(v) for v in feeds.values()])

    return run


def weight_bytes(module) -> tuple[int, int]:
    """(bytes as our kernels keep them: fp16, bytes as fp32) over conv/linear/matmul weights."""
    from mlir_coreml.ir.opdef import ConstantLike

    n = 0
    for op in module.walk():
        if op.has_trait(ConstantLike) and op.results[0].type.rank and op.results[0].type.rank >= 2:
            n += op.results[0].type.num_elements or 0
    return 2 * n, 4 * n


def main(argv=None) -> int:
    from mlir_coreml.runtime.bench import interleaved_latencies, model_flops, onnxruntime_runner
    from mlir_coreml.runtime.predict import compile_model
    from tests.models import zoo

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--form", default="nn_fp32", help="Core ML form to compile: nn_fp32, nn_fp16, mlprogram_fp32")
    args = ap.parse_args(argv)
    rows = []
    print(f"{'model':<14}{'thr':>4}{'GFLOP':>7}{'ours ms':>9}{'exec ms':>9}{'ort ms':>8}{'torch ms':>9}"
          f"{'ours/ort':>9}{'GFLOP/s':>8}{'w fp16 MB':>10}{'w fp32 MB':>10}")
    for name in args.models.split(","):
        coreml = zoo.cached_build(name, args.form)
        onnx_dir = zoo.cached_build(name, "onnx")
        inputs, _ = zoo.load_io(coreml)
        model_file = next(p for p in coreml.iterdir() if p.suffix in (".mlmodel", ".mlpackage"))
        for threads in (int(t) for t in args.threads.split(",")):
            # Core ML's precision model: fp16 weights, fp32 accumulation
            compiled = compile_model(str(model_file), threads=threads, precision="fp16")
            # the same schedule without the generated module: what codegen itself buys
            executor = compile_model(str(model_file), threads=threads, precision="fp16", codegen=False)
            feeds = {k: np.ascontiguousarray(v) for k, v in inputs.items()}
            runners = {"ours": compiled.predict, "exec": executor.predict,
                       "ort": onnxruntime_runner(str(onnx_dir / "model.onnx"), threads),
                       "torch": torch_model(name, feeds, threads)}
            s = interleaved_latencies(runners, feeds, args.runs)
            med = {k: float(np.median(v)) for k, v in s.items()}
            flops = model_flops(compiled.module)
            w16, w32 = weight_bytes(compiled.module)
            ratio = med["ours"] / med["ort"]
            rows.append((threads, ratio))
            print(f"{name:<14}{threads:>4}{flops / 1e9:>7.2f}{med['ours'] * 1e3:>9.2f}{med['exec'] * 1e3:>9.2f}"
                  f"{med['ort'] * 1e3:>8.2f}"
                  f"{med['torch'] * 1e3:>9.2f}{ratio:>9.2f}{flops / med['ours'] / 1e9:>8.1f}"
                  f"{w16 / 1e6:>10.1f}{w32 / 1e6:>10.1f}", flush=True)
    for threads in sorted({t for t, _ in rows}):
        ratios = [r for t, r in rows if t == threads]
        print(f"geometric mean ours/onnxruntime, {threads} thread(s): {np.exp(np.mean(np.log(ratios))):.2f}")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
