"""MobileNetV2's depthwise layers (3x3, bias, relu6) on one thread: the blocked NCHW16c kernel
against our NCHW kernel and onnxruntime, timed interleaved in one process.

    python benchmarks/kernels/bench_blocked.py [--rounds 101] [--isa avx512,avx2] [--layers 96x112s2,...]

Each round times ours blocked, ours NCHW and onnxruntime once each (A, B, C, A, B, C, ...),
each timed call right after an untimed one of the same function, so that every kernel reads a
cache-warm input as in a model, where the producer has just written it (onnxruntime's Conv
reads what its ReorderInput just wrote); medians are reported.  onnxruntime runs a one-node model (Conv + Clip, which it fuses) with
intra_op_num_threads = 1; its graph optimiser rewrites the Conv to its NCHWc kernel between a
ReorderInput and a ReorderOutput, so two onnxruntime figures are given: "ort run" (the whole
session.run, reorders included) and "ort conv" (the NCHWc Conv node alone, from onnxruntime's
own profiler in the same rounds) -- the fair yardstick for a kernel whose input and output
already are blocked.  Arrays handed to our kernels are 64-byte aligned, as plan-memory's arena
is.  ratio = blocked / ort conv (< 1: faster).  Our columns include the Python wrapper's call
overhead, which "ort conv" does not; it is printed once (a 1x1 problem) to read small layers by.
"""
import argparse
import json
import os
import statistics
import sys
import time

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

from mlir_coreml.csrc import _kernels as K

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_kernels import mobilenetv2_layers  # noqa: E402  (sibling script, not a package)


def cpu_name():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown CPU"


def aligned(a):
    """A 64-byte aligned copy of a (numpy only guarantees 16)."""
    buf = np.empty(a.nbytes + 64, np.uint8)
    off = -buf.ctypes.data % 64
    out = buf[off:off + a.nbytes].view(a.dtype).reshape(a.shape)
    out[...] = a
    return out


def onnx_dw_relu6(w, b, stride, x_shape):
    c = x_shape[1]
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["t"], strides=[stride] * 2, pads=[1] * 4, group=c),
             helper.make_node("Clip", ["t", "lo", "hi"], ["y"])]
    inits = [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b"),
             numpy_helper.from_array(np.float32(0), "lo"), numpy_helper.from_array(np.float32(6), "hi")]
    graph = helper.make_graph(nodes, "dw", [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], initializer=inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def ort_session(model, prefix):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.enable_profiling = True
    opts.profile_file_prefix = prefix
    return ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])


def ort_conv_times(sess):
    """Per-run durations (s) of the Conv node from the session's profile, and the node kinds seen."""
    events = json.load(open(sess.end_profiling()))
    conv, kinds = [], set()
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
            kinds.add(e["args"].get("op_name"))
            if e["args"].get("op_name") == "Conv":
                conv.append(e["dur"] * 1e-6)
    return conv, kinds


def bench_layer(c, hw, stride, rounds, rng):
    w = (rng.standard_normal((c, 1, 3, 3)) * 0.3).astype(np.float32)
    b = rng.standard_normal(c).astype(np.float32)
    x = rng.standard_normal((1, c, hw, hw)).astype(np.float32)
    xb, pb = aligned(K.nchw_to_blocked(x)), K.pack_depthwise_blocked(w)
    ob = aligned(K.depthwise_blocked(xb, pb, c, bias=b, stride=stride, padding=1, act="relu6"))
    pn = K.pack_conv_weights(w, c, "fp32")
    on = aligned(K.conv2d(x, pn, bias=b, stride=stride, padding=1, act="relu6"))
    sess = ort_session(onnx_dw_relu6(w, b, stride, list(x.shape)), f"/tmp/bench_blocked_{os.getpid()}")
    ref = sess.run(None, {"x": x})[0]
    got = K.blocked_to_nchw(K.depthwise_blocked(xb, pb, c, bias=b, stride=stride, padding=1, act="relu6"), c)
    err = float(np.abs(got - ref).max())
    calls = [lambda: K.depthwise_blocked(xb, pb, c, bias=b, stride=stride, padding=1, act="relu6", out=ob),
             lambda: K.conv2d(x, pn, bias=b, stride=stride, padding=1, act="relu6", out=on),
             lambda: sess.run(None, {"x": x})]
    samples = [[] for _ in calls]
    for _ in range(rounds):
        for f, s in zip(calls, samples):
            f()
            t0 = time.perf_counter()
            f()
            s.append(time.perf_counter() - t0)
    conv, kinds = ort_conv_times(sess)
    conv = conv[-2 * rounds:][1::2]   # the timed calls' nodes
    return [statistics.median(s) for s in samples] + [statistics.median(conv)], err, kinds


def call_overhead(rounds):
    """Median time of depthwise_blocked on a one-pixel, one-block problem: the wrapper's cost."""
    x, o = np.zeros((1, 1, 1, 1, 16), np.float32), np.zeros((1, 1, 1, 1, 16), np.float32)
    p, b = K.pack_depthwise_blocked(np.zeros((16, 1, 1, 1), np.float32)), np.zeros(16, np.float32)
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        K.depthwise_blocked(x, p, 16, bias=b, stride=1, padding=0, act="relu6", out=o)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=101)
    ap.add_argument("--isa", default=None, help="comma-separated ISAs to force (default: the best)")
    ap.add_argument("--layers", default=None, help="e.g. 96x112s2,144x56s1 (channels x input size, stride)")
    args = ap.parse_args()
    layers = sorted({(cin, hw, s) for cin, _, k, s, _, hw, groups, _ in mobilenetv2_layers() if groups > 1},
                    key=lambda l: (-l[1], l[0], l[2]))
    if args.layers:
        want = {tuple(int(v) for v in name.replace("x", " ").replace("s", " ").split()) for name in args.layers.split(",")}
        layers = [l for l in layers if l in want]
    K.set_num_threads(1)
    rng = np.random.default_rng(0)
    print(f"{cpu_name()}, 1 thread, onnxruntime {ort.__version__}, {args.rounds} interleaved rounds, medians (us)")
    for isa in (args.isa or K.current_isa()).split(","):
        K.force_isa(isa)
        print(f"\nISA {isa}")
        print(f"{'layer':>12} {'blocked':>8} {'nchw':>8} {'ort run':>8} {'ort conv':>8} {'blk/ortconv':>11} "
              f"{'blk/nchw':>8}  max|err|")
        totals = np.zeros(4)
        for c, hw, s in layers:
            t, err, kinds = bench_layer(c, hw, s, args.rounds, rng)
            totals += t
            print(f"{c:>4}x{hw:<3}s{s:<2} {t[0] * 1e6:8.1f} {t[1] * 1e6:8.1f} {t[2] * 1e6:8.1f} {t[3] * 1e6:8.1f} "
                  f"{t[0] / t[3]:11.2f} {t[0] / t[1]:8.2f}  {err:.1e}")
        print(f"{'sum':>12} {totals[0] * 1e6:8.1f} {totals[1] * 1e6:8.1f} {totals[2] * 1e6:8.1f} "
              f"{totals[3] * 1e6:8.1f} {totals[0] / totals[3]:11.2f} {totals[0] / totals[1]:8.2f}")
        print(f"onnxruntime nodes: {sorted(k for k in kinds if k)}; our call overhead "
              f"{call_overhead(10 * args.rounds) * 1e6:.1f} us per call")
    K.force_isa(None)


if __name__ == "__main__":
    main()
