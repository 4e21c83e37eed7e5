"""GFLOP/s of the csrc._kernels GEMM and convolutions against onnxruntime, same process.

    python benchmarks/kernels/bench_kernels.py [--threads 1,2] [--model resnet18,mobilenetv2]
                                               [--extra] [--cpu-time] [--weights fp16,fp32]
                                               [--isa avx512,avx2] [--baseline OTHER_BUILD.so]

Each layer runs as a one-node ONNX model in onnxruntime (intra_op_num_threads = threads)
and through our kernels (fp16 or fp32 weight panels, fp32 accumulation), timed interleaved; the
median of the rounds is reported (the machine may be shared: interleaving and medians keep the
comparison fair, not the absolute numbers).  ratio = our time / onnxruntime time (< 1 is
faster).  "% peak" is GFLOP/s over the single-core FMA peak of the ISA in use times the thread
count, that peak measured here at start-up by csrc's fma_peak probe (best of 5 runs).  Every thread
count in --threads, weight precision in --weights (comma-separated) and ISA in --isa gets its
own per-layer table; a summary of all of them closes the run.
--cpu-time (1 thread only) times with the calling thread's CPU clock, far less sensitive to
other processes on a shared machine than wall time; --stat min reports the fastest round
instead of the median (contention only ever adds time).  --extra adds transposed convolution,
pooling and softmax (ours only, wall time).  --isa takes a comma-separated list (one run per
ISA, forced).  --baseline loads a second build of csrc._kernels (e.g. the main branch's
_kernels*.so) into the same process and times it interleaved with ours and onnxruntime, so a
before/after comparison sees the same machine load: columns "base %pk" and "speedup" (base
time / our time).
"""
import argparse
import importlib.util
import statistics
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

from mlir_coreml.csrc import _kernels as K


def resnet18_layers():
    layers = [(3, 64, 7, 2, 3, 224, 1, 1)]                       # cin, cout, k, s, p, hw, groups, count
    layers += [(64, 64, 3, 1, 1, 56, 1, 4)]
    for cin, cout, hw in [(64, 128, 56), (128, 256, 28), (256, 512, 14)]:
        layers += [(cin, cout, 3, 2, 1, hw, 1, 1), (cout, cout, 3, 1, 1, hw // 2, 1, 3),
                   (cin, cout, 1, 2, 0, hw, 1, 1)]
    return layers


def mobilenetv2_layers():
    layers = {(3, 32, 3, 2, 1, 224, 1): 1}
    cin, hw = 32, 112
    for t, c, n, s in [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                       (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]:
        for i in range(n):
            stride = s if i == 0 else 1
            hidden = cin * t
            block = []
            if t != 1:
                block.append((cin, hidden, 1, 1, 0, hw, 1))
            block.append((hidden, hidden, 3, stride, 1, hw, hidden))
            hw = (hw + 2 - 3) // stride + 1
            block.append((hidden, c, 1, 1, 0, hw, 1))
            for layer in block:
                layers[layer] = layers.get(layer, 0) + 1
            cin = c
    layers[(320, 1280, 1, 1, 0, 7, 1)] = 1
    return [key + (count,) for key, count in layers.items()]


def onnx_conv(w, b, stride, pad, groups, x_shape):
    y_shape = None
    node = helper.make_node("Conv", ["x", "w", "b"], ["y"], strides=[stride, stride],
                            pads=[pad] * 4, group=groups)
    graph = helper.make_graph([node], "conv", [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, y_shape)],
                              initializer=[numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def session(model, threads):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])


CLOCK = time.perf_counter
STAT = statistics.median
WEIGHTS = "fp16"
PEAK = float("nan")   # GFLOP/s of one core, measured in main()
BASE = None           # --baseline: another build of _kernels, timed interleaved with ours


def load_build(path):
    """Another build of csrc._kernels, loaded beside ours under its own module name."""
    spec = importlib.util.spec_from_file_location("baseline_build._kernels", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def interleaved(fns, budget=0.25, rounds=7):
    """seconds per call of each fn (median of the rounds, or STAT), alternating rounds."""
    for f in fns:
        f()
    t0 = CLOCK()
    fns[0]()
    reps = max(1, int(budget / rounds / max(CLOCK() - t0, 1e-6)))
    samples = [[] for _ in fns]
    for _ in range(rounds):
        for f, s in zip(fns, samples):
            # let the other side's idle pool threads (onnxruntime spins after a run) go
            # to sleep first, so neither side is timed against the other's spinning threads
            time.sleep(0.003)
            t0 = CLOCK()
            for _ in range(reps):
                f()
            s.append((CLOCK() - t0) / reps)
    return [STAT(s) for s in samples]


def conv_runner(kernels, w, b, x, s, p, groups):
    packed = kernels.pack_conv_weights(w, groups, WEIGHTS)
    out = kernels.conv2d(x, packed, bias=b, stride=s, padding=p)
    return out, lambda: kernels.conv2d(x, packed, bias=b, stride=s, padding=p, out=out)


def bench_conv(layer, threads, rng):
    """flops, seconds of ours, onnxruntime's and the baseline's (nan without one), rel. error."""
    cin, cout, k, s, p, hw, groups, _ = layer
    w = (rng.standard_normal((cout, cin // groups, k, k)) * 0.1).astype(np.float32)
    b = rng.standard_normal(cout).astype(np.float32)
    x = rng.standard_normal((1, cin, hw, hw)).astype(np.float32)
    out, ours = conv_runner(K, w, b, x, s, p, groups)
    sess = session(onnx_conv(w, b, s, p, groups, list(x.shape)), threads)
    ref = sess.run(None, {"x": x})[0]
    err = np.abs(out - ref).max() / max(np.abs(ref).max(), 1e-6)
    fns = [ours, lambda: sess.run(None, {"x": x})]
    if BASE is not None:
        fns.append(conv_runner(BASE, w, b, x, s, p, groups)[1])
    times = interleaved(fns) + [float("nan")]
    flops = 2.0 * out.size * (cin // groups) * k * k
    return flops, times[0], times[1], times[2], err


def bench_gemm(n, threads, rng):
    w = rng.standard_normal((n, n)).astype(np.float32)
    x = rng.standard_normal((n, n)).astype(np.float32)
    packed = K.pack_weights(w, WEIGHTS)
    out = np.empty((n, n), np.float32)
    node = helper.make_node("MatMul", ["w", "x"], ["y"])
    graph = helper.make_graph([node], "mm", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [n, n])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                              initializer=[numpy_helper.from_array(w, "w")])
    sess = session(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), threads)
    ours, theirs, np_t = interleaved([lambda: K.gemm(packed, x, out=out), lambda: sess.run(None, {"x": x}),
                                      lambda: np.matmul(w, x, out=out)])
    flops = 2.0 * n ** 3
    print(f"GEMM {n}x{n}x{n} ({K.current_isa()}, {threads}t): ours {flops / ours / 1e9:6.1f} GFLOP/s, "
          f"onnxruntime {flops / theirs / 1e9:6.1f}, numpy {flops / np_t / 1e9:6.1f}, "
          f"ratio ours/ort time {ours / theirs:.2f}")


def bench_extra(rng):
    """Kernels without an onnxruntime twin here: ours only (wall ms, median)."""
    x = rng.standard_normal((1, 64, 56, 56)).astype(np.float32)
    wt = K.pack_conv_transpose_weights((rng.standard_normal((64, 32, 2, 2)) * 0.1).astype(np.float32))
    xs = rng.standard_normal((128, 1000)).astype(np.float32)
    xp = rng.standard_normal((1, 64, 112, 112)).astype(np.float32)
    cases = [("conv_transpose2d 64->32 2x2 s2 on 56x56", lambda: K.conv_transpose2d(x, wt, stride=2)),
             ("max_pool2d 3x3 s2 p1 on 64x112x112", lambda: K.max_pool2d(xp, 3, 2, 1)),
             ("avg_pool2d 3x3 s1 p1 on 64x56x56", lambda: K.avg_pool2d(x, 3, 1, 1)),
             ("global_avg_pool 64x56x56", lambda: K.global_avg_pool(x)),
             ("softmax 128 x 1000", lambda: K.softmax(xs))]
    times = interleaved([f for _, f in cases])
    for (name, _), t in zip(cases, times):
        print(f"  {name:45s} {t * 1e3:8.3f} ms")


def run_model(name, layers, threads, rng):
    print(f"\n{name} 224, batch 1, {threads} thread(s), isa {K.current_isa()}, {WEIGHTS} weights")
    print(f"{'cin':>5} {'cout':>5} {'k':>2} {'s':>2} {'hw':>4} {'grp':>4} {'x':>2} "
          f"{'MFLOP':>7} {'ours ms':>8} {'ort ms':>8} {'ours GF/s':>9} {'ort GF/s':>9} {'ours %pk':>8} "
          f"{'ort %pk':>7} {'ratio':>6} {'base %pk':>8} {'speedup':>7} {'relerr':>8}")
    peak = PEAK * threads
    tot_ours = tot_ort = tot_base = tot_flops = 0.0
    for layer in layers:
        flops, ours, theirs, base, err = bench_conv(layer, threads, rng)
        count = layer[-1]
        tot_ours += ours * count
        tot_ort += theirs * count
        tot_base += base * count
        tot_flops += flops * count
        cin, cout, k, s, p, hw, groups, _ = layer
        print(f"{cin:5d} {cout:5d} {k:2d} {s:2d} {hw:4d} {groups:4d} {count:2d} {flops / 1e6:7.1f} "
              f"{ours * 1e3:8.3f} {theirs * 1e3:8.3f} {flops / ours / 1e9:9.1f} {flops / theirs / 1e9:9.1f} "
              f"{100 * flops / ours / 1e9 / peak:8.1f} {100 * flops / theirs / 1e9 / peak:7.1f} "
              f"{ours / theirs:6.2f} {100 * flops / base / 1e9 / peak:8.1f} {base / ours:7.2f} {err:8.1e}")
    base_note = "" if BASE is None else (f", baseline {tot_base * 1e3:.2f} ms "
                                         f"({100 * tot_flops / tot_base / 1e9 / peak:.0f} % of peak, speedup {tot_base / tot_ours:.2f})")
    print(f"all conv layers: {tot_flops / 1e9:.2f} GFLOP, ours {tot_ours * 1e3:.2f} ms "
          f"({tot_flops / tot_ours / 1e9:.1f} GFLOP/s, {100 * tot_flops / tot_ours / 1e9 / peak:.0f} % of peak), onnxruntime {tot_ort * 1e3:.2f} ms "
          f"({tot_flops / tot_ort / 1e9:.1f} GFLOP/s), ratio {tot_ours / tot_ort:.2f}{base_note}")
    return tot_ours, tot_ort, tot_base


def main():
    global CLOCK
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts (default 1,2)")
    ap.add_argument("--model", default="resnet18,mobilenetv2")
    ap.add_argument("--isa", default=None, help="force avx512|avx2|portable (comma-separated: one run each)")
    ap.add_argument("--cpu-time", action="store_true", help="time with the process CPU clock (1 thread)")
    ap.add_argument("--extra", action="store_true", help="also time conv_transpose2d, pooling, softmax")
    ap.add_argument("--stat", choices=("median", "min"), default="median",
                    help="per-layer statistic over the rounds; min approximates an idle machine")
    ap.add_argument("--weights", default="fp16", help="weight panel precisions: fp16, fp32 or fp16,fp32")
    ap.add_argument("--baseline", default=None, help="another build's _kernels*.so, timed interleaved")
    args = ap.parse_args()
    global STAT, WEIGHTS, PEAK, BASE
    if args.baseline:
        BASE = load_build(args.baseline)
    precisions = args.weights.split(",")
    if not set(precisions) <= {"fp16", "fp32"}:
        ap.error("--weights takes fp16 and/or fp32")
    STAT = min if args.stat == "min" else statistics.median
    thread_counts = [int(t) for t in str(args.threads).split(",")]
    if args.cpu_time:
        if thread_counts != [1]:
            ap.error("--cpu-time needs --threads 1 (CPU time adds up over threads)")
        CLOCK = time.thread_time
    summary = []
    for isa in (args.isa or K.current_isa()).split(","):
        K.force_isa(isa)
        if BASE is not None:
            BASE.force_isa(isa)
        PEAK = K.fma_peak()
        for WEIGHTS in precisions:
            print(f"isa {K.current_isa()}: measured FMA peak {PEAK:.1f} GFLOP/s per core; {WEIGHTS} weight panels")
            models = {"resnet18": resnet18_layers, "mobilenetv2": mobilenetv2_layers}
            for threads in thread_counts:
                K.set_num_threads(threads)
                if BASE is not None:
                    BASE.set_num_threads(threads)
                rng = np.random.default_rng(0)
                bench_gemm(512, threads, rng)
                for name in args.model.split(","):
                    ours, theirs, base = run_model(name, models[name](), threads, rng)
                    summary.append((name, K.current_isa(), WEIGHTS, threads, ours, theirs, base))
                if args.extra:
                    print(f"\nother kernels, {threads} thread(s):")
                    bench_extra(rng)
    print(f"\nsummary ({'CPU' if args.cpu_time else 'wall'} time, {args.stat} of rounds, conv layers only)")
    print(f"{'model':>12} {'isa':>8} {'weights':>7} {'threads':>7} {'ours ms':>9} {'ort ms':>9} {'ratio':>6} "
          f"{'base ms':>9} {'speedup':>7}")
    for name, isa, weights, threads, ours, theirs, base in summary:
        print(f"{name:>12} {isa:>8} {weights:>7} {threads:7d} {ours * 1e3:9.2f} {theirs * 1e3:9.2f} {ours / theirs:6.2f} "
              f"{base * 1e3:9.2f} {base / ours:7.2f}")


if __name__ == "__main__":
    main()
