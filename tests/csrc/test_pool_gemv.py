"""Separable pooling (csrc/pool.c) and the matrix-vector path of the GEMM (csrc/gemv.c) against
numpy, on every ISA this CPU has: widths that are not multiples of the vector width, padding
wider than the window, ceil mode, every stride path (1, 2, gathered), NaN and infinities in max
pooling, and bitwise-identical results for any thread count."""
import numpy as np
import pytest

from mlir_coreml.csrc import _kernels as K

ORDER = ["portable", "avx2", "avx512"]
ISAS = ORDER[:ORDER.index(K.detect_isa()) + 1]


def close(got, ref, rtol=1e-4):
    scale = max(np.nanmax(np.abs(ref)) if ref.size else 1.0, 1.0)
    np.testing.assert_allclose(got, ref, rtol=rtol, atol=rtol * scale)


def pool_ref(x, k, s, pads, oh, ow, kind, exclude=True):
    """Windows clipped to the image; an empty window gives 0; "include padding" divides by the
    window clipped to the padded extent (ceil mode's extra cells do not count)."""
    _, _, h, w = x.shape
    t, b, l, r = pads
    out = np.zeros(x.shape[:2] + (oh, ow))
    for i in range(oh):
        for j in range(ow):
            hs, ws = i * s[0] - t, j * s[1] - l
            h0, h1, w0, w1 = max(hs, 0), min(hs + k[0], h), max(ws, 0), min(ws + k[1], w)
            if h0 >= h1 or w0 >= w1:
                continue
            win = x[:, :, h0:h1, w0:w1].astype(np.float64)
            if kind == "max":
                with np.errstate(invalid="ignore"):
                    out[:, :, i, j] = win.max(axis=(2, 3))
                continue
            cnt = (h1 - h0) * (w1 - w0) if exclude else \
                (min(hs + k[0], h + b) - hs) * (min(ws + k[1], w + r) - ws)
            out[:, :, i, j] = win.sum(axis=(2, 3)) / cnt
    return out


POOLS = [  # (C, H, W), kernel, stride, pads (t, b, l, r), ceil_mode
    ((3, 111, 111), (3, 3), (2, 2), (0, 0, 0, 0), True),      # SqueezeNet 1.1
    ((2, 112, 112), (3, 3), (2, 2), (1, 1, 1, 1), False),     # ResNet-18
    ((2, 27, 27), (3, 3), (2, 2), (0, 0, 0, 0), True),
    ((3, 9, 5), (2, 2), (2, 2), (0, 1, 0, 1), True),          # narrower than one vector
    ((2, 13, 33), (3, 3), (1, 1), (1, 1, 1, 1), False),       # stride 1, odd tail
    ((2, 17, 40), (5, 4), (3, 3), (2, 1, 1, 3), True),        # stride 3: gathered columns
    ((2, 11, 23), (2, 3), (1, 2), (0, 2, 2, 0), False),
    ((2, 8, 19), (2, 2), (2, 2), (3, 3, 3, 3), False),        # padding wider than the window
    ((2, 10, 37), (1, 1), (2, 2), (0, 0, 0, 0), False),
    ((1, 7, 70), (3, 7), (2, 4), (1, 1, 3, 3), True),
]


@pytest.mark.parametrize("shape,k,s,pads,ceil", POOLS)
def test_pooling_matches_numpy(isa, shape, k, s, pads, ceil):
    x = np.random.default_rng(sum(shape)).standard_normal((1,) + shape).astype(np.float32)
    got = K.max_pool2d(x, k, s, pads, ceil_mode=ceil)
    oh, ow = got.shape[2:]
    assert (oh, ow) == K.pool_output_size(x.shape, k, s, pads, ceil)
    close(got, pool_ref(x, k, s, pads, oh, ow, "max"))
    for exclude in (True, False):
        close(K.avg_pool2d(x, k, s, pads, exclude_padding=exclude, ceil_mode=ceil),
              pool_ref(x, k, s, pads, oh, ow, "avg", exclude))


@pytest.mark.parametrize("shape,k,s,pads,ceil", POOLS[:3] + POOLS[5:6])
def test_max_pooling_nan_and_infinities(isa, shape, k, s, pads, ceil):
    """NaN wins every window it is in, wherever it lies (first, middle or last row of a window,
    vector body or tail); +-inf win or lose as numbers; channels without NaN stay exact next to
    channels that need the NaN-propagating path."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal((1,) + shape).astype(np.float32)
    c, h, w = shape
    for _ in range(6):
        x[0, 0, rng.integers(h), rng.integers(w)] = np.nan
    x[0, 0, h - 1, w - 1] = np.nan
    x[0, -1, rng.integers(h, size=4), rng.integers(w, size=4)] = np.inf
    x[0, -1, rng.integers(h, size=4), rng.integers(w, size=4)] = -np.inf
    got = K.max_pool2d(x, k, s, pads, ceil_mode=ceil)
    want = pool_ref(x, k, s, pads, *got.shape[2:], "max")
    assert (np.isnan(got) == np.isnan(want)).all()
    assert np.isnan(got[0, 0]).any()
    finite = ~np.isnan(want)
    np.testing.assert_array_equal(got[finite], want[finite])


def test_pooling_identical_for_any_thread_count():
    x = np.random.default_rng(3).standard_normal((1, 96, 57, 61)).astype(np.float32)
    x[0, 5, 10, 10] = np.nan
    calls = [lambda: K.max_pool2d(x, 3, 2, 0, ceil_mode=True), lambda: K.max_pool2d(x, 3, 1, 1),
             lambda: K.avg_pool2d(x, 3, 2, 1, exclude_padding=False), lambda: K.avg_pool2d(x, (2, 5), 3, 2)]
    try:
        for isa in ISAS:
            K.force_isa(isa)
            K.set_num_threads(1)
            want = [f() for f in calls]
            for threads in (2, 3):
                K.set_num_threads(threads)
                for f, w in zip(calls, want):
                    np.testing.assert_array_equal(f(), w)
    finally:
        K.set_num_threads(1)
        K.force_isa(None)


# ------------------------------------------------------------------ matrix-vector (N == 1)
def f16(a):
    return a.astype(np.float16).astype(np.float64)


@pytest.mark.parametrize("m,k", [(1, 1), (7, 3), (8, 16), (9, 33), (17, 2), (24, 5), (1000, 1280), (1001, 333)])
@pytest.mark.parametrize("precision", ["fp16", "fp32"])
def test_gemv_matches_numpy(isa, m, k, precision):
    rng = np.random.default_rng(m * 7 + k)
    w = (rng.standard_normal((m, k)) / np.sqrt(k)).astype(np.float32)
    x = rng.standard_normal((k, 1)).astype(np.float32)
    bias = rng.standard_normal(m).astype(np.float32)
    res = rng.standard_normal((m, 1)).astype(np.float32)
    wr = f16(w) if precision == "fp16" else w.astype(np.float64)
    packed = K.pack_weights(w, precision)
    plain = wr @ x
    close(K.gemm(packed, x), plain)
    close(K.gemm(packed, x, bias=bias, act="relu"), np.maximum(plain + bias[:, None], 0))
    close(K.gemm(packed, x, bias=bias, residual=res, act="clip", alpha=-0.5, beta=0.5),
          np.clip(plain + bias[:, None] + res, -0.5, 0.5))
    close(K.gemm(packed, x, act="sigmoid"), 1 / (1 + np.exp(-plain)))


@pytest.mark.parametrize("m,k", [(9, 33), (1000, 300)])
def test_gemv_quantized_panels(isa, m, k):
    rng = np.random.default_rng(5)
    codes = rng.integers(-128, 128, (m, k)).astype(np.int8)
    scale = rng.uniform(0.001, 0.01, m).astype(np.float32)
    offset = rng.uniform(-0.1, 0.1, m).astype(np.float32)
    x = rng.standard_normal((k, 1)).astype(np.float32)
    packed = K.pack_quantized_weights(codes, scale=scale, offset=offset)
    wr = codes.astype(np.float64) * scale[:, None] + offset[:, None]
    close(K.gemm(packed, x, bias=scale), wr @ x + scale[:, None])


def test_gemv_matches_gemm_columns_and_threads():
    """One column through gemv equals that column of a wider GEMM (within fp32 rounding), and is
    bitwise identical for any thread count (M * K above the threading threshold)."""
    rng = np.random.default_rng(9)
    w = rng.standard_normal((1003, 1290)).astype(np.float32)
    x = rng.standard_normal((1290, 5)).astype(np.float32)
    try:
        for isa in ISAS:
            K.force_isa(isa)
            for precision in ("fp16", "fp32"):
                packed = K.pack_weights(w, precision)
                K.set_num_threads(1)
                want = K.gemm(packed, x[:, :1])
                close(want, K.gemm(packed, x)[:, :1])
                for threads in (2, 3):
                    K.set_num_threads(threads)
                    np.testing.assert_array_equal(K.gemm(packed, x[:, :1]), want)
    finally:
        K.set_num_threads(1)
        K.force_isa(None)
