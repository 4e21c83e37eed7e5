"""Convolution algorithms, measured three ways (single thread, interleaved in one process):

    python benchmarks/conv_algorithms.py [--models resnet18,unet] [--forms nn_fp16,nn_fp32] [--runs 20]
        Winograd on against off: each zoo model compiled twice with the default pipeline, once
        with `select-conv-algorithm{winograd=false}`, timed alternately (medians), plus the
        per-convolution choice report with --report.
    python benchmarks/conv_algorithms.py --layers [--runs 30]
        The ResNet-18 and SqueezeNet 1.1 3x3 layers and ResNet-18's strided 1x1 downsamples, one
        at a time: our kernels (im2col, Winograd F(2,3), F(4,3), fp32 panels, bias + relu fused)
        against onnxruntime on a one-node ONNX model (Conv + Relu) of the same layer; medians of
        thread CPU time (the machine may be shared), the ratio to onnxruntime, and the algorithm
        select-conv-algorithm picks.
    python benchmarks/conv_algorithms.py --calibrate [--runs 15]
        Times im2col, F(2,3) and F(4,3) over a grid of channel counts and map sizes and fits the
        cost rule's Winograd constants (passes/select_conv_algorithm.py) by least squares: each
        Winograd time, in units of the im2col kernel's time per flop-equivalent on the same layer,
        is  gemm_flops / WINOGRAD_GEMM_RATE + TRANSFORM * transformed elements
            + WEIGHT_STREAM[tier] * transformed weights * tile blocks  (one coefficient per cache tier).
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

# (name, cin, cout, map size, kernel, stride): the distinct 3x3 stride-1 layers of ResNet-18 and
# SqueezeNet 1.1 (224 input) and ResNet-18's 1x1 stride-2 downsamples
LAYERS = [("resnet18 64@56", 64, 64, 56, 3, 1), ("resnet18 128@28", 128, 128, 28, 3, 1),
          ("resnet18 256@14", 256, 256, 14, 3, 1), ("resnet18 512@7", 512, 512, 7, 3, 1),
          ("squeeze 16->64@55", 16, 64, 55, 3, 1), ("squeeze 32->128@27", 32, 128, 27, 3, 1),
          ("squeeze 48->192@13", 48, 192, 13, 3, 1), ("squeeze 64->256@13", 64, 256, 13, 3, 1),
          ("resnet18 ds 64->128@56/2", 64, 128, 56, 1, 2), ("resnet18 ds 128->256@28/2", 128, 256, 28, 1, 2),
          ("resnet18 ds 256->512@14/2", 256, 512, 14, 1, 2)]
CALIBRATION_CHANNELS = [(16, 64), (32, 128), (64, 64), (64, 256), (128, 128), (256, 256), (512, 512)]
CALIBRATION_MAPS = [7, 13, 28, 56]


def onnx_conv(w: np.ndarray, b: np.ndarray, stride: int, x_shape: tuple, y_shape: tuple):
    """onnxruntime session (one thread) of Conv + Relu with these weights, same padding."""
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    k = w.shape[2]
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], kernel_shape=[k, k], strides=[stride] * 2,
                              pads=[k // 2] * 4), helper.make_node("Relu", ["c"], ["y"])]
    graph = helper.make_graph(nodes, "conv", [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, y_shape)],
                              [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


def layer_runners(cin, cout, hw, k, stride, seed=0, with_ort=True):
    """name -> zero-argument callable for each algorithm of the layer (and onnxruntime)."""
    from mlir_coreml.csrc import _kernels as K

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((1, cin, hw, hw)).astype(np.float32)
    w = (rng.standard_normal((cout, cin, k, k)) / np.sqrt(cin * k * k)).astype(np.float32)
    b = rng.standard_normal(cout).astype(np.float32)
    oh = (hw + 2 * (k // 2) - k) // stride + 1
    out = np.empty((1, cout, oh, oh), np.float32)
    runners = {}
    if with_ort:
        session = onnx_conv(w, b, stride, x.shape, out.shape)
        runners["ort"] = lambda: session.run(None, {"x": x})[0]
    packings = {"im2col": K.pack_conv_weights(w, 1, "fp32")}
    if k == 3 and stride == 1:
        packings.update({f"winograd{m}": K.pack_winograd_weights(w, m, "fp32") for m in (2, 4)})
    for name, packed in packings.items():
        runners[name] = (lambda p: lambda: K.conv2d(x, p, bias=b, stride=stride, padding=k // 2, act="relu",
                                                    out=out).copy())(packed)
    return runners


def interleaved_cpu_medians(runners: dict, runs: int) -> dict:
    """Median thread CPU time (s) of each runner, the runners alternating."""
    times = {name: [] for name in runners}
    for f in runners.values():
        f()
    for _ in range(runs):
        for name, f in runners.items():
            start = time.thread_time()
            f()
            times[name].append(time.thread_time() - start)
    return {name: float(np.median(t)) for name, t in times.items()}


def layer_costs(cin, cout, hw, k, stride):
    from mlir_coreml.passes.select_conv_algorithm import geometry_costs

    oh = (hw + 2 * (k // 2) - k) // stride + 1
    return geometry_costs(cin, cout, (k, k), (stride, stride), 1, oh, oh)


def run_layers(runs: int) -> None:
    from mlir_coreml.csrc import _kernels as K
    from mlir_coreml.passes.select_conv_algorithm import choose

    K.set_num_threads(1)
    print(f"{'layer':<26} {'ort us':>8} " + " ".join(f"{a + ' us':>13}" for a in ("im2col", "winograd2", "winograd4"))
          + f" {'chosen':>10} {'chosen/ort':>10}")
    for name, cin, cout, hw, k, stride in LAYERS:
        runners = layer_runners(cin, cout, hw, k, stride)
        want = runners["ort"]()
        for algorithm, f in runners.items():
            got = f()
            assert np.abs(got - want).max() <= 1e-4 * np.abs(want).max(), (name, algorithm)
        med = interleaved_cpu_medians(runners, runs)
        chosen = choose(layer_costs(cin, cout, hw, k, stride), (2, 4), 1.1)
        cells = " ".join(f"{med[a] * 1e6:>7.0f} ({med[a] / med['ort']:.2f})" if a in med else f"{'-':>13}"
                         for a in ("im2col", "winograd2", "winograd4"))
        print(f"{name:<26} {med['ort'] * 1e6:>8.0f} {cells} {chosen:>10} {med[chosen] / med['ort']:>10.2f}")


def winograd_terms(m, cin, cout, oh, ow):
    """The cost rule's Winograd terms: GEMM flops (over the lane-padded tiles), transformed
    elements, and the weights streamed per tile block in the column of their cache tier."""
    from mlir_coreml.passes.select_conv_algorithm import WEIGHT_STREAM, weight_stream_tier, winograd_blocks

    tiles, padded_tiles, blocks = winograd_blocks(m, cin, cout, oh, ow)
    a2 = (m + 2) ** 2
    streamed = np.zeros(len(WEIGHT_STREAM))
    streamed[weight_stream_tier(a2 * cin * cout)] = a2 * cin * cout * blocks
    return np.concatenate([[2.0 * a2 * cin * cout * padded_tiles, a2 * (cin + cout) * tiles], streamed])


def run_calibration(runs: int) -> None:
    from mlir_coreml.csrc import _kernels as K
    from mlir_coreml.passes.select_conv_algorithm import im2col_cost

    K.set_num_threads(1)
    rows, targets = [], []
    print(f"{'cin->cout@map':<16} {'im2col us':>10} {'w2/im2col':>10} {'w4/im2col':>10}")
    for cin, cout in CALIBRATION_CHANNELS:
        for hw in CALIBRATION_MAPS:
            med = interleaved_cpu_medians(layer_runners(cin, cout, hw, 3, 1, with_ort=False), runs)
            unit = med["im2col"] / im2col_cost(cin, cout, (3, 3), 1, hw * hw)   # seconds per flop-equivalent
            for m in (2, 4):
                terms = winograd_terms(m, cin, cout, hw, hw)
                target = med[f"winograd{m}"] / unit
                rows.append(terms / target)   # relative residuals: every layer weighs the same
                targets.append(1.0)
            print(f"{f'{cin}->{cout}@{hw}':<16} {med['im2col'] * 1e6:>10.0f} "
                  f"{med['winograd2'] / med['im2col']:>10.2f} {med['winograd4'] / med['im2col']:>10.2f}")
    rows = np.array(rows)
    used = np.abs(rows).sum(axis=0) > 0   # a tier no layer reaches stays at its value
    coef = np.zeros(rows.shape[1])
    coef[used] = np.linalg.lstsq(rows[:, used], np.array(targets), rcond=None)[0]
    worst = np.abs(rows @ coef - 1).max()
    print(f"fit: WINOGRAD_GEMM_RATE = {1 / coef[0]:.2f}, TRANSFORM = {coef[1]:.1f}, WEIGHT_STREAM per tier = "
          f"{', '.join(f'{c:.1f}' for c in coef[2:])} (worst relative error {worst:.0%})")


def run_models(args) -> None:
    from mlir_coreml.passes.pipelines import named_pipeline
    from mlir_coreml.runtime.predict import compile_model
    from tests.models import zoo

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


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="resnet18,unet")
    ap.add_argument("--forms", default="nn_fp16,nn_fp32")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--report", action="store_true", help="print the choice report of each model")
    ap.add_argument("--layers", action="store_true", help="per-layer kernels against onnxruntime")
    ap.add_argument("--calibrate", action="store_true", help="fit the cost rule's Winograd constants")
    args = ap.parse_args(argv)
    if args.layers:
        run_layers(args.runs)
    elif args.calibrate:
        run_calibration(args.runs)
    else:
        run_models(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
