"""Pooling and matrix-vector (classifier) kernels against onnxruntime, same process, interleaved.

    python benchmarks/kernels/bench_pool_gemv.py [--threads 1] [--isa avx512,avx2]
                                                 [--cpu-time] [--baseline OTHER_BUILD.so]

The shapes are the zoo models' pooling layers (SqueezeNet 1.1's ceil-mode max pools, ResNet-18's
padded max pool, an average pool, the global pools) and classifiers (MobileNetV2 1000x1280,
ResNet-18 1000x512, as a one-row linear layer with fp16 and fp32 weight panels).  Each runs as a
one-node ONNX model in onnxruntime and through csrc._kernels, timed in alternating rounds (median;
see bench_kernels.interleaved).  ratio = our time / onnxruntime's.  --baseline loads another build
of _kernels (e.g. the main branch's) and times it in the same rounds: "base/ort" and "speedup"
(base time / our time) give a before/after comparison under the same machine load.
"""
import argparse
import os
import sys
import time

import numpy as np
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_kernels as B  # noqa: E402  (session, interleaved, load_build)

from mlir_coreml.csrc import _kernels as K  # noqa: E402

# name, ONNX op, C, H, W, kernel, stride, pads (t, l, b, r), ceil_mode
POOLS = [
    ("squeezenet maxpool1", "MaxPool", 64, 111, 111, 3, 2, (0, 0, 0, 0), 1),
    ("squeezenet maxpool2", "MaxPool", 128, 55, 55, 3, 2, (0, 0, 0, 0), 1),
    ("squeezenet maxpool3", "MaxPool", 256, 27, 27, 3, 2, (0, 0, 0, 0), 1),
    ("resnet18 maxpool", "MaxPool", 64, 112, 112, 3, 2, (1, 1, 1, 1), 0),
    ("avgpool 3x3 s1 p1", "AveragePool", 64, 56, 56, 3, 1, (1, 1, 1, 1), 0),
    ("global avg 1280x7x7", "GlobalAveragePool", 1280, 7, 7, 0, 0, None, 0),
    ("global avg 512x7x7", "GlobalAveragePool", 512, 7, 7, 0, 0, None, 0),
    ("global max 512x7x7", "GlobalMaxPool", 512, 7, 7, 0, 0, None, 0),
]
# name, M (outputs), K (inputs)
LINEARS = [("mobilenet_v2 classifier", 1000, 1280), ("resnet18 classifier", 1000, 512),
           ("odd 1001x333", 1001, 333)]


def onnx_model(node, x_shape, inits=()):
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], initializer=list(inits))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def pool_calls(kernels, op, k, s, pads, ceil, x):
    t, l, b, r = pads or (0, 0, 0, 0)
    if op == "MaxPool":
        return lambda: kernels.max_pool2d(x, k, s, (t, b, l, r), ceil_mode=bool(ceil))
    if op == "AveragePool":
        return lambda: kernels.avg_pool2d(x, k, s, (t, b, l, r), exclude_padding=False, ceil_mode=bool(ceil))
    return (lambda: kernels.global_avg_pool(x)) if op == "GlobalAveragePool" else (lambda: kernels.global_max_pool(x))


def bench_pool(case, threads, rng):
    name, op, c, h, w, k, s, pads, ceil = case
    x = rng.standard_normal((1, c, h, w)).astype(np.float32)
    attrs = {} if pads is None else {"kernel_shape": [k, k], "strides": [s, s], "pads": list(pads), "ceil_mode": ceil}
    if op == "AveragePool":
        attrs["count_include_pad"] = 1
    sess = B.session(onnx_model(helper.make_node(op, ["x"], ["y"], **attrs), list(x.shape)), threads)
    fns = [pool_calls(K, op, k, s, pads, ceil, x), lambda: sess.run(None, {"x": x})]
    if B.BASE is not None:
        fns.append(pool_calls(B.BASE, op, k, s, pads, ceil, x))
    want = sess.run(None, {"x": x})[0]
    err = float(np.abs(fns[0]() - want).max())
    return name, B.interleaved(fns), err


def bench_linear(case, precision, threads, rng):
    name, m, k = case
    w = (rng.standard_normal((m, k)) / np.sqrt(k)).astype(np.float32)
    bias = rng.standard_normal(m).astype(np.float32)
    x = rng.standard_normal((1, k)).astype(np.float32)
    node = helper.make_node("Gemm", ["x", "w", "b"], ["y"], transB=1)
    sess = B.session(onnx_model(node, [1, k], [numpy_helper.from_array(w, "w"), numpy_helper.from_array(bias, "b")]),
                     threads)
    xt = np.ascontiguousarray(x.T)
    out = np.empty((m, 1), np.float32)

    def runner(kernels):
        packed = kernels.pack_weights(w, precision)
        return lambda: kernels.gemm(packed, xt, out=out, bias=bias)

    fns = [runner(K), lambda: sess.run(None, {"x": x})]
    if B.BASE is not None:
        fns.append(runner(B.BASE))
    fns[0]()
    err = float(np.abs(out[:, 0] - sess.run(None, {"x": x})[0][0]).max())
    return f"{name} {precision}", B.interleaved(fns), err


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--isa", default=None, help="force avx512|avx2|portable (comma-separated: one run each)")
    ap.add_argument("--cpu-time", action="store_true", help="time with the calling thread's CPU clock (1 thread)")
    ap.add_argument("--baseline", default=None, help="another build's _kernels*.so, timed interleaved")
    args = ap.parse_args()
    if args.cpu_time:
        B.CLOCK = time.thread_time
    if args.baseline:
        B.BASE = B.load_build(args.baseline)
    for isa in (args.isa or K.current_isa()).split(","):
        K.force_isa(isa)
        K.set_num_threads(args.threads)
        if B.BASE is not None:
            B.BASE.force_isa(isa)
            B.BASE.set_num_threads(args.threads)
        rng = np.random.default_rng(0)
        print(f"isa {K.current_isa()}, {args.threads} thread(s), {'CPU' if args.cpu_time else 'wall'} time, "
              f"median of interleaved rounds (us)")
        print(f"{'shape':34s} {'ours':>8} {'ort':>8} {'ratio':>6} {'base':>8} {'base/ort':>8} {'speedup':>7} {'max err':>8}")
        rows = [bench_pool(c, args.threads, rng) for c in POOLS]
        rows += [bench_linear(c, p, args.threads, rng) for c in LINEARS for p in ("fp16", "fp32")]
        for name, times, err in rows:
            ours, ort = times[0], times[1]
            base = times[2] if len(times) > 2 else float("nan")
            print(f"{name:34s} {ours * 1e6:8.1f} {ort * 1e6:8.1f} {ours / ort:6.2f} {base * 1e6:8.1f} "
                  f"{base / ort:8.2f} {base / ours:7.2f} {err:8.1e}")


if __name__ == "__main__":
    main()
