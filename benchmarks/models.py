"""One command for the model yardsticks: builds MobileNetV2, ResNet-18, SqueezeNet 1.1, the
U-Net and the transformer encoder (PyTorch + coremltools, fixed seeds, cached), then times
mlir_coreml, onnxruntime and PyTorch on the same inputs, interleaved, with 1 and 2 threads.

    python benchmarks/models.py [--fp32] [--models mobilenet_v2,resnet18] [--threads 1,2] [--runs 30]
                                [--form nn_fp16]

Without --fp32 the models are the fp16-weight .mlmodel form, with it the fp32 one; both compile
with the default settings (weights computed in the precision they are stored in).  Prints
latency (ours: the generated module; exec: the same schedule on the executor), ratio to
onnxruntime, achieved GFLOP/s and its % of the FMA peak measured at start-up on this machine
(csrc fma_peak, one core per thread), weight bytes and peak RSS.  The machine may be shared:
the engines run interleaved and medians are reported.
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


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        import platform

        return platform.processor() or "unknown CPU"


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
    ap.add_argument("--fp32", action="store_true", help="the fp32-weight .mlmodel form (default: fp16 weights)")
    ap.add_argument("--form", default=None, help="Core ML form to compile: nn_fp16, nn_fp32, mlprogram_fp32")
    args = ap.parse_args(argv)
    form = args.form or ("nn_fp32" if args.fp32 else "nn_fp16")
    from mlir_coreml.csrc import _kernels as K

    peak = K.fma_peak() if hasattr(K, "fma_peak") else float("nan")
    print(f"CPU: {cpu_name()}; kernels ISA: {K.current_isa()}; measured FMA peak {peak:.1f} GFLOP/s per core; "
          f"form {form}")
    print("GFLOP counts each convolution as the direct algorithm does; Winograd steps do fewer multiplies, "
          "so the rate (GFLOP / ours) can pass the peak")
    rows = []
    print(f"{'model':<14}{'thr':>4}{'GFLOP':>7}{'ours ms':>9}{'exec ms':>9}{'ort ms':>8}{'torch ms':>9}"
          f"{'ours/ort':>9}{'GFLOP/s':>8}{'% peak':>7}{'w fp16 MB':>10}{'w fp32 MB':>10}")
    for name in args.models.split(","):
        coreml = zoo.cached_build(name, form)
        onnx_dir = zoo.cached_build(name, "onnx")
        inputs, _ = zoo.load_io(coreml)
        model_file = next(p for p in coreml.iterdir() if p.suffix in (".mlmodel", ".mlpackage"))
        for threads in (int(t) for t in args.threads.split(",")):
            # default settings: weights in their stored precision, fp32 accumulation
            compiled = compile_model(str(model_file), threads=threads)
            # the same schedule without the generated module: what codegen itself buys
            executor = compile_model(str(model_file), threads=threads, codegen=False)
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
                  f"{100 * flops / med['ours'] / 1e9 / (peak * threads):>7.1f}"
                  f"{w16 / 1e6:>10.1f}{w32 / 1e6:>10.1f}", flush=True)
    for threads in sorted({t for t, _ in rows}):
        ratios = [r for t, r in rows if t == threads]
        print(f"geometric mean ours/onnxruntime, {threads} thread(s): {np.exp(np.mean(np.log(ratios))):.2f}")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
