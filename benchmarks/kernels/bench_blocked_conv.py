"""The dense blocked convolution (csrc/blocked.c) against the NCHW conv kernel on ResNet-18 and
MobileNetV2 layer shapes: one thread, CPU-time medians of 7 interleaved calls each, GFLOP/s.

    python benchmarks/kernels/bench_blocked_conv.py [fp16|fp32]
"""
import sys
import time

import numpy as np

from mlir_coreml.csrc import _kernels as K

# C, Cout, H, W, kernel, stride, padding
LAYERS = [(64, 64, 56, 56, 3, 1, 1), (128, 128, 28, 28, 3, 1, 1), (256, 256, 14, 14, 3, 1, 1),
          (512, 512, 7, 7, 3, 1, 1), (64, 128, 56, 56, 3, 2, 1), (32, 192, 56, 56, 1, 1, 0),
          (96, 24, 56, 56, 1, 1, 0), (576, 160, 7, 7, 1, 1, 0), (960, 160, 7, 7, 1, 1, 0)]


def main(precision: str = "fp16") -> None:
    K.set_num_threads(1)
    rng = np.random.default_rng(0)
    print(f"{precision} panels, ISA {K.current_isa()}, one thread, CPU time")
    for c, co, h, w, k, s, p in LAYERS:
        x = rng.standard_normal((1, c, h, w)).astype(np.float32)
        wt = rng.standard_normal((co, c, k, k)).astype(np.float32)
        nchw, blocked = K.pack_conv_weights(wt, 1, precision), K.pack_conv_blocked_weights(wt, precision)
        xb = K.to_blocked(x)
        times = {"nchw": [], "blocked": []}
        for _ in range(7):
            start = time.process_time()
            K.conv2d(x, nchw, stride=s, padding=p)
            times["nchw"].append(time.process_time() - start)
            start = time.process_time()
            K.conv2d_blocked(xb, blocked, stride=s, padding=p)
            times["blocked"].append(time.process_time() - start)
        a, b = (float(np.median(times[key])) for key in ("nchw", "blocked"))
        oh, ow = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
        gflop = 2 * c * co * k * k * oh * ow / 1e9
        print(f"C{c:4} Cout{co:4} {h}x{w} k{k} s{s}: nchw {a * 1e3:6.2f} ms ({gflop / a:5.1f} GFLOP/s)  "
              f"blocked {b * 1e3:6.2f} ms ({gflop / b:5.1f} GFLOP/s)  blocked/nchw {b / a:.2f}")


if __name__ == "__main__":
    main(*sys.argv[1:])
