"""csrc._kernels against numpy references: every dispatch path, epilogue and conv variant."""
import math

import numpy as np
import pytest

from mlir_coreml.csrc import _kernels as K

ORDER = ["portable", "avx2", "avx512"]
# Every dispatch path this CPU can execute (an ISA it lacks cannot run here at all; forcing
# one is refused, which test_force_unavailable_isa_is_refused checks).
ISAS = ORDER[:ORDER.index(K.detect_isa()) + 1]
ACTS = [("none", 0, 0), ("relu", 0, 0), ("relu6", 0, 0), ("clip", -0.5, 0.7), ("leaky_relu", 0.1, 0),
        ("sigmoid", 0, 0), ("tanh", 0, 0), ("gelu", 0, 0), ("gelu_tanh", 0, 0), ("silu", 0, 0)]
_erf = np.vectorize(math.erf)


@pytest.fixture(params=ISAS)
def isa(request):
    K.force_isa(request.param)
    yield request.param
    K.force_isa(None)


def act_ref(v, act, alpha, beta):
    v = v.astype(np.float64)
    if act == "relu":
        return np.maximum(v, 0)
    if act == "relu6":
        return np.clip(v, 0, 6)
    if act == "clip":
        return np.clip(v, alpha, beta)
    if act == "leaky_relu":
        return np.where(v >= 0, v, v * alpha)
    if act == "sigmoid":
        return 1 / (1 + np.exp(-v))
    if act == "tanh":
        return np.tanh(v)
    if act == "gelu":
        return 0.5 * v * (1 + _erf(v / math.sqrt(2)))
    if act == "gelu_tanh":
        return 0.5 * v * (1 + np.tanh(math.sqrt(2 / math.pi) * (v + 0.044715 * v ** 3)))
    if act == "silu":
        return v / (1 + np.exp(-v))
    return v


def f16(a):
    return a.astype(np.float16).astype(np.float64)


def close(got, ref, rtol=1e-4):
    scale = max(np.abs(ref).max(), 1.0)
    np.testing.assert_allclose(got, ref, rtol=rtol, atol=rtol * scale)


def conv_ref(x, w, b, stride, dil, pads, groups):
    n, c, h, wd = x.shape
    cout, cg, kh, kw = w.shape
    t, bt, l, r = pads
    xp = np.zeros((n, c, h + t + bt, wd + l + r))
    xp[:, :, t:t + h, l:l + wd] = x
    oh = (h + t + bt - (kh - 1) * dil[0] - 1) // stride[0] + 1
    ow = (wd + l + r - (kw - 1) * dil[1] - 1) // stride[1] + 1
    out = np.zeros((n, cout, oh, ow))
    mg = cout // groups
    for g in range(groups):
        xs = xp[:, g * cg:(g + 1) * cg]
        for i in range(kh):
            for j in range(kw):
                patch = xs[:, :, i * dil[0]:i * dil[0] + stride[0] * (oh - 1) + 1:stride[0],
                           j * dil[1]:j * dil[1] + stride[1] * (ow - 1) + 1:stride[1]]
                out[:, g * mg:(g + 1) * mg] += np.einsum("ncij,oc->noij", patch, f16(w[g * mg:(g + 1) * mg, :, i, j]))
    return out + (0 if b is None else b[None, :, None, None])


@pytest.mark.parametrize("m,k,n", [(1, 1, 1), (7, 5, 3), (8, 16, 48), (17, 300, 50), (33, 257, 97),
                                   (64, 513, 481), (5, 0, 9)])
def test_gemm_shapes(isa, m, k, n):
    rng = np.random.default_rng(m * 1000 + k + n)
    w = rng.standard_normal((m, k)).astype(np.float32)
    x = rng.standard_normal((k, n)).astype(np.float32)
    close(K.gemm(K.pack_weights(w), x), f16(w) @ x)


@pytest.mark.parametrize("act,alpha,beta", ACTS)
@pytest.mark.parametrize("with_residual", [False, True])
def test_gemm_epilogues(isa, act, alpha, beta, with_residual):
    rng = np.random.default_rng(1)
    m, k, n = 19, 70, 61
    w = (rng.standard_normal((m, k)) * 0.3).astype(np.float32)
    x = rng.standard_normal((k, n)).astype(np.float32)
    b = rng.standard_normal(m).astype(np.float32)
    r = rng.standard_normal((m, n)).astype(np.float32) if with_residual else None
    got = K.gemm(K.pack_weights(w), x, bias=b, act=act, alpha=alpha, beta=beta, residual=r)
    pre = f16(w) @ x + b[:, None] + (0 if r is None else r)
    close(got, act_ref(pre, act, alpha, beta))


def test_gemm_empty_k_writes_bias_and_activation():
    b = np.arange(5, dtype=np.float32) - 2
    out = np.full((5, 9), np.nan, np.float32)
    K.gemm(K.pack_weights(np.zeros((5, 0), np.float32)), np.zeros((0, 9), np.float32), out=out, bias=b, act="relu")
    np.testing.assert_array_equal(out, np.maximum(b, 0)[:, None].repeat(9, 1))


def test_gemm_accepts_float16_weights_and_out():
    rng = np.random.default_rng(2)
    w = rng.standard_normal((12, 30)).astype(np.float16)
    x = rng.standard_normal((30, 20)).astype(np.float32)
    out = np.empty((12, 20), np.float32)
    res = K.gemm(K.pack_weights(w), x, out=out)
    assert res is out
    close(out, w.astype(np.float64) @ x)


CONVS = [  # cin, cout, h, w, k, stride, dil, pads, groups
    (3, 8, 9, 11, (3, 3), (1, 1), (1, 1), (1, 1, 1, 1), 1),
    (5, 7, 13, 10, (1, 1), (1, 1), (1, 1), (0, 0, 0, 0), 1),       # pointwise GEMM path
    (6, 9, 12, 12, (1, 1), (2, 2), (1, 1), (0, 0, 0, 0), 1),       # strided 1x1
    (4, 6, 17, 15, (3, 5), (2, 1), (1, 2), (2, 0, 1, 3), 1),       # asymmetric everything
    (3, 16, 23, 23, (7, 7), (2, 2), (1, 1), (3, 3, 3, 3), 1),      # ResNet stem shape
    (8, 12, 10, 9, (3, 3), (1, 2), (2, 1), (2, 2, 1, 1), 4),       # grouped, dilated
    (16, 16, 14, 13, (3, 3), (1, 1), (1, 1), (1, 1, 1, 1), 16),    # depthwise s1
    (12, 12, 15, 17, (3, 3), (2, 2), (1, 1), (1, 1, 1, 1), 12),    # depthwise s2
    (8, 8, 19, 70, (5, 5), (2, 2), (1, 1), (2, 2, 2, 2), 8),       # depthwise 5x5 s2, wide rows
    (8, 8, 11, 40, (3, 3), (1, 3), (2, 2), (0, 2, 3, 1), 8),       # depthwise stride 3 dilated
    (16, 16, 1, 1, (3, 3), (1, 1), (1, 1), (1, 1, 1, 1), 16),      # 1x1 image
]


@pytest.mark.parametrize("cfg", CONVS, ids=[f"conv{i}" for i in range(len(CONVS))])
def test_conv_variants(isa, cfg):
    cin, cout, h, w, k, stride, dil, pads, groups = cfg
    rng = np.random.default_rng(hash(cfg) % 2**32)
    wt = (rng.standard_normal((cout, cin // groups) + k) * 0.3).astype(np.float32)
    b = rng.standard_normal(cout).astype(np.float32)
    x = rng.standard_normal((2, cin, h, w)).astype(np.float32)
    ref = conv_ref(x, wt, b, stride, dil, pads, groups)
    p = K.pack_conv_weights(wt, groups)
    got = K.conv2d(x, p, bias=b, stride=stride, dilation=dil, padding=pads)
    assert got.shape == ref.shape
    close(got, ref)
    # fused relu6 + residual on a single CHW image
    r = rng.standard_normal(ref.shape[1:]).astype(np.float32)
    got = K.conv2d(x[0], p, bias=b, stride=stride, dilation=dil, padding=pads, act="relu6", residual=r)
    close(got, np.clip(ref[0] + r, 0, 6))


@pytest.mark.parametrize("act,alpha,beta", ACTS)
@pytest.mark.parametrize("groups", [1, 6])
def test_conv_epilogues(isa, act, alpha, beta, groups):
    rng = np.random.default_rng(3)
    wt = (rng.standard_normal((6, 6 // groups, 3, 3)) * 0.3).astype(np.float32)
    b = rng.standard_normal(6).astype(np.float32)
    x = rng.standard_normal((1, 6, 9, 21)).astype(np.float32)
    got = K.conv2d(x, K.pack_conv_weights(wt, groups), bias=b, padding=1, act=act, alpha=alpha, beta=beta)
    close(got, act_ref(conv_ref(x, wt, b, (1, 1), (1, 1), (1, 1, 1, 1), groups), act, alpha, beta))


def pool_ref(x, k, s, pads, kind, exclude):
    n, c, h, w = x.shape
    t, b, l, r = pads
    oh, ow = (h + t + b - k[0]) // s[0] + 1, (w + l + r - k[1]) // s[1] + 1
    out = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            hs, ws = i * s[0] - t, j * s[1] - l
            h0, h1, w0, w1 = max(hs, 0), min(hs + k[0], h), max(ws, 0), min(ws + k[1], w)
            win = x[:, :, h0:h1, w0:w1]
            if kind == "max":
                out[:, :, i, j] = win.max(axis=(2, 3))
            else:
                cnt = (h1 - h0) * (w1 - w0) if exclude else \
                    (min(hs + k[0], h + b) - hs) * (min(ws + k[1], w + r) - ws)
                out[:, :, i, j] = win.sum(axis=(2, 3)) / cnt
    return out


@pytest.mark.parametrize("k,s,pads", [((3, 3), (2, 2), (1, 1, 1, 1)), ((2, 2), (2, 2), (0, 0, 0, 0)),
                                      ((3, 2), (1, 2), (1, 0, 0, 1))])
def test_pooling(isa, k, s, pads):
    x = np.random.default_rng(4).standard_normal((2, 3, 11, 9)).astype(np.float32)
    close(K.max_pool2d(x, k, s, pads), pool_ref(x, k, s, pads, "max", True))
    for exclude in (True, False):
        close(K.avg_pool2d(x, k, s, pads, exclude_padding=exclude), pool_ref(x, k, s, pads, "avg", exclude))
    close(K.global_avg_pool(x), x.mean(axis=(2, 3), keepdims=True))
    close(K.global_max_pool(x), x.max(axis=(2, 3), keepdims=True))


@pytest.mark.parametrize("n", [1, 5, 16, 33, 1000])
def test_softmax(isa, n):
    x = (np.random.default_rng(n).standard_normal((3, 4, n)) * 10).astype(np.float32)
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    close(K.softmax(x), e / e.sum(axis=-1, keepdims=True), rtol=1e-5)


@pytest.mark.parametrize("act,alpha,beta", ACTS)
def test_activation_array(isa, act, alpha, beta):
    x = np.linspace(-12, 12, 1037, dtype=np.float32)
    close(K.activation(x, act, alpha, beta), act_ref(x, act, alpha, beta), rtol=2e-6)


def test_threads_do_not_change_results():
    rng = np.random.default_rng(5)
    w = rng.standard_normal((64, 3, 3, 3)).astype(np.float32)
    x = rng.standard_normal((1, 3, 57, 61)).astype(np.float32)
    p = K.pack_conv_weights(w)
    outs = []
    for threads in (1, 1, 2, 3):
        K.set_num_threads(threads)
        outs.append(K.conv2d(x, p, stride=2, padding=1, act="silu"))
    K.set_num_threads(0)
    for o in outs[1:]:
        np.testing.assert_array_equal(o, outs[0])


def test_errors_name_the_problem():
    p = K.pack_conv_weights(np.zeros((4, 3, 3, 3), np.float32))
    with pytest.raises(ValueError, match="channels"):
        K.conv2d(np.zeros((1, 5, 8, 8), np.float32), p)
    with pytest.raises(ValueError, match="geometry"):
        K.conv2d(np.zeros((1, 3, 1, 1), np.float32), p)
    with pytest.raises(ValueError, match="activation"):
        K.gemm(K.pack_weights(np.zeros((2, 2))), np.zeros((2, 2)), act="swish")
    with pytest.raises(ValueError, match="force ISA"):
        K.force_isa("neon")


# ------------------------------------------------------------------ GEMM / conv dispatch paths
# The AVX2 build picks, per call: the 16x6 M-vectorised tile (K >= 32 and M % 16 == 0 or
# M >= 64; B read in place or from a row-major im2col block, several K blocks above 384),
# the 8x24 N-vectorised tile reading B rows in place (small K, M like 24), and the panel
# packers on the portable/AVX-512 paths.  These shapes hit every tail of each.
PATH_CONVS = [  # cin, cout, h, w, k, stride, dil, pads, groups
    (8, 72, 9, 7, (3, 3), (1, 1), (1, 1), (1, 1, 1, 1), 1),        # M % 16 = 8 (>= 64), N = 63
    (50, 32, 5, 7, (3, 3), (1, 1), (1, 1), (1, 1, 1, 1), 1),       # K = 450: two K blocks
    (48, 16, 10, 10, (3, 3), (1, 1), (1, 1), (1, 1, 1, 1), 1),     # K = 432, N = 100 (rest 4)
    (96, 40, 7, 7, (1, 1), (1, 1), (1, 1), (0, 0, 0, 0), 1),       # pointwise, M 40 -> 8x24 tile
    (64, 48, 13, 11, (1, 1), (2, 2), (1, 1), (0, 0, 0, 0), 1),     # 1x1 stride 2, odd sizes
    (24, 32, 15, 37, (1, 1), (3, 2), (1, 1), (0, 0, 0, 0), 2),     # 1x1 stride 3x2, grouped, OW 19
    (32, 16, 41, 40, (1, 1), (1, 1), (1, 1), (0, 0, 0, 0), 1),     # N = 1640 > one N block
    (16, 24, 57, 56, (1, 1), (1, 1), (1, 1), (0, 0, 0, 0), 1),     # K = 16, N = 3192 > block
    (3, 20, 37, 35, (7, 7), (2, 2), (1, 1), (3, 2, 3, 1), 1),      # stem-like, K = 147
    (5, 33, 17, 19, (3, 3), (2, 2), (2, 1), (2, 1, 0, 2), 1),      # stride 2 + dilation, K = 45
    (40, 64, 15, 14, (3, 3), (2, 2), (1, 1), (1, 1, 1, 1), 1),     # stride 2 copy (AVX2)
    (32, 64, 6, 6, (3, 3), (1, 1), (1, 1), (1, 1, 1, 1), 2),       # grouped, K = 144 per group
    (8, 16, 3, 3, (3, 3), (1, 1), (1, 1), (0, 0, 0, 0), 1),        # 1x1 output
]


@pytest.mark.parametrize("cfg", PATH_CONVS, ids=[f"path{i}" for i in range(len(PATH_CONVS))])
def test_conv_dispatch_paths(isa, cfg):
    cin, cout, h, w, k, stride, dil, pads, groups = cfg
    rng = np.random.default_rng(sum(map(hash, map(str, cfg))) % 2**32)
    wt = (rng.standard_normal((cout, cin // groups) + k) * 0.2).astype(np.float32)
    b = rng.standard_normal(cout).astype(np.float32)
    x = rng.standard_normal((1, cin, h, w)).astype(np.float32)
    ref = conv_ref(x, wt, b, stride, dil, pads, groups)
    p = K.pack_conv_weights(wt, groups)
    close(K.conv2d(x, p, bias=b, stride=stride, dilation=dil, padding=pads), ref)
    r = rng.standard_normal(ref.shape).astype(np.float32)
    close(K.conv2d(x, p, bias=b, stride=stride, dilation=dil, padding=pads, act="relu", residual=r),
          np.maximum(ref + r, 0))


@pytest.mark.parametrize("act,alpha,beta", ACTS)
def test_conv_epilogues_m_vectorised(isa, act, alpha, beta):
    # Cout 70 (>= 64, not a multiple of 16), K = 72: the 16x6 tile and its transposing epilogue
    rng = np.random.default_rng(31)
    wt = (rng.standard_normal((70, 8, 3, 3)) * 0.2).astype(np.float32)
    b = rng.standard_normal(70).astype(np.float32)
    x = rng.standard_normal((1, 8, 8, 11)).astype(np.float32)
    r = rng.standard_normal((1, 70, 8, 11)).astype(np.float32)
    got = K.conv2d(x, K.pack_conv_weights(wt), bias=b, padding=1, act=act, alpha=alpha, beta=beta, residual=r)
    close(got, act_ref(conv_ref(x, wt, b, (1, 1), (1, 1), (1, 1, 1, 1), 1) + r, act, alpha, beta))


@pytest.mark.parametrize("m,k,n", [(16, 32, 6), (64, 31, 25), (70, 700, 13), (24, 96, 121), (128, 33, 7)])
def test_gemm_path_shapes(isa, m, k, n):
    rng = np.random.default_rng(m + k + n)
    w = rng.standard_normal((m, k)).astype(np.float32)
    x = rng.standard_normal((k, n)).astype(np.float32)
    b = rng.standard_normal(m).astype(np.float32)
    close(K.gemm(K.pack_weights(w), x, bias=b, act="relu6"), np.clip(f16(w) @ x + b[:, None], 0, 6))


def test_conv_random_sweep():
    """Seeded random geometries (odd sizes, strides 1-3, dilation, asymmetric pads, groups)
    through the automatically chosen path."""
    rng = np.random.default_rng(2024)
    for _ in range(40):
        groups = int(rng.choice([1, 1, 1, 2, 3]))
        cin = groups * int(rng.integers(1, 12))
        cout = groups * int(rng.integers(1, 40))
        kh, kw = int(rng.integers(1, 6)), int(rng.integers(1, 6))
        st = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
        dl = (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
        pads = tuple(int(v) for v in rng.integers(0, 3, size=4))
        h = int(rng.integers((kh - 1) * dl[0] + 1, 24))
        w = int(rng.integers((kw - 1) * dl[1] + 1, 24))
        wt = (rng.standard_normal((cout, cin // groups, kh, kw)) * 0.3).astype(np.float32)
        b = rng.standard_normal(cout).astype(np.float32)
        x = rng.standard_normal((1, cin, h, w)).astype(np.float32)
        got = K.conv2d(x, K.pack_conv_weights(wt, groups), bias=b, stride=st, dilation=dl, padding=pads)
        close(got, conv_ref(x, wt, b, st, dl, pads, groups))


# ------------------------------------------------------------------ depthwise paths
DW = [  # c, h, w, k, stride, dil, pads
    (13, 7, 7, (3, 3), (1, 1), (1, 1), (1, 1, 1, 1)),      # C % 8 = 5, 7x7 map (channel-blocked)
    (24, 14, 14, (3, 3), (2, 2), (1, 1), (1, 1, 1, 1)),    # stride 2 small map
    (16, 9, 11, (5, 5), (1, 2), (2, 1), (4, 3, 2, 1)),     # 5x5 dilated, asymmetric
    (8, 28, 29, (3, 3), (3, 3), (1, 1), (0, 1, 2, 0)),     # stride 3
    (10, 6, 130, (3, 3), (1, 1), (1, 1), (1, 1, 1, 1)),    # wide rows: planar kernel
    (9, 5, 121, (3, 3), (2, 2), (1, 1), (1, 1, 1, 1)),     # wide stride 2: channel-blocked
    (8, 1, 1, (1, 1), (1, 1), (1, 1), (0, 0, 0, 0)),       # 1x1
]


@pytest.mark.parametrize("cfg", DW, ids=[f"dw{i}" for i in range(len(DW))])
def test_depthwise_paths(isa, cfg):
    c, h, w, k, stride, dil, pads = cfg
    rng = np.random.default_rng(c * 100 + h)
    wt = (rng.standard_normal((c, 1) + k) * 0.3).astype(np.float32)
    b = rng.standard_normal(c).astype(np.float32)
    x = rng.standard_normal((2, c, h, w)).astype(np.float32)
    ref = conv_ref(x, wt, b, stride, dil, pads, c)
    p = K.pack_conv_weights(wt, c)
    assert p.depthwise
    close(K.conv2d(x, p, bias=b, stride=stride, dilation=dil, padding=pads), ref)
    r = rng.standard_normal(ref.shape[1:]).astype(np.float32)
    close(K.conv2d(x[1], p, bias=b, stride=stride, dilation=dil, padding=pads, act="silu", residual=r),
          act_ref(ref[1] + r, "silu", 0, 0))


# ------------------------------------------------------------------ transposed convolution
def conv_t_ref(x, w, b, stride, dil, pads, opad, groups):
    n, cin, h, wd = x.shape
    _, mg, kh, kw = w.shape
    cg = cin // groups
    fh = (h - 1) * stride[0] + (kh - 1) * dil[0] + 1 + opad[0]
    fw = (wd - 1) * stride[1] + (kw - 1) * dil[1] + 1 + opad[1]
    full = np.zeros((n, mg * groups, fh, fw))
    for g in range(groups):
        xs = x[:, g * cg:(g + 1) * cg].astype(np.float64)
        for i in range(kh):
            for j in range(kw):
                contrib = np.einsum("nchw,co->nohw", xs, f16(w[g * cg:(g + 1) * cg, :, i, j]))
                full[:, g * mg:(g + 1) * mg, i * dil[0]:i * dil[0] + stride[0] * (h - 1) + 1:stride[0],
                     j * dil[1]:j * dil[1] + stride[1] * (wd - 1) + 1:stride[1]] += contrib
    t, bt, l, r = pads
    out = full[:, :, t:fh - bt, l:fw - r]
    return out + (0 if b is None else b[None, :, None, None])


CONVT = [  # cin, cout, h, w, k, stride, dil, pads, output_padding, groups
    (4, 6, 5, 7, (3, 3), (2, 2), (1, 1), (1, 1, 1, 1), (1, 1), 1),     # the usual x2 upsample
    (8, 4, 6, 6, (2, 2), (2, 2), (1, 1), (0, 0, 0, 0), (0, 0), 1),     # U-Net 2x2 s2
    (6, 9, 4, 5, (4, 3), (3, 1), (1, 2), (2, 0, 1, 1), (2, 0), 3),     # grouped, dilated, asymmetric
    (40, 70, 7, 6, (3, 3), (1, 1), (1, 1), (1, 1, 1, 1), (0, 0), 1),   # K = 40: M-vectorised GEMM
    (3, 2, 1, 1, (5, 5), (2, 2), (1, 1), (0, 0, 0, 0), (0, 0), 1),     # 1x1 input
]


@pytest.mark.parametrize("cfg", CONVT, ids=[f"convt{i}" for i in range(len(CONVT))])
def test_conv_transpose(isa, cfg):
    cin, cout, h, w, k, stride, dil, pads, opad, groups = cfg
    rng = np.random.default_rng(cin * 31 + cout)
    wt = (rng.standard_normal((cin, cout // groups) + k) * 0.3).astype(np.float32)
    b = rng.standard_normal(cout).astype(np.float32)
    x = rng.standard_normal((2, cin, h, w)).astype(np.float32)
    ref = conv_t_ref(x, wt, b, stride, dil, pads, opad, groups)
    p = K.pack_conv_transpose_weights(wt, groups)
    assert p.transposed and not p.depthwise
    got = K.conv_transpose2d(x, p, bias=b, stride=stride, dilation=dil, padding=pads, output_padding=opad)
    assert got.shape == ref.shape
    close(got, ref)
    r = rng.standard_normal(ref.shape[1:]).astype(np.float32)
    got = K.conv_transpose2d(x[0], p, bias=b, stride=stride, dilation=dil, padding=pads,
                             output_padding=opad, act="relu6", residual=r)
    close(got, np.clip(ref[0] + r, 0, 6))


@pytest.mark.parametrize("act,alpha,beta", ACTS)
def test_conv_transpose_epilogues(isa, act, alpha, beta):
    rng = np.random.default_rng(8)
    wt = (rng.standard_normal((5, 3, 3, 3)) * 0.3).astype(np.float16)   # fp16 weights accepted
    b = rng.standard_normal(3).astype(np.float32)
    x = rng.standard_normal((1, 5, 6, 7)).astype(np.float32)
    got = K.conv_transpose2d(x, K.pack_conv_transpose_weights(wt), bias=b, stride=2, padding=1,
                             output_padding=1, act=act, alpha=alpha, beta=beta)
    ref = conv_t_ref(x, wt.astype(np.float32), b, (2, 2), (1, 1), (1, 1, 1, 1), (1, 1), 1)
    close(got, act_ref(ref, act, alpha, beta))


def test_conv_transpose_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(9)
    wt = (rng.standard_normal((6, 2, 3, 3)) * 0.3).astype(np.float16).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    x = rng.standard_normal((1, 6, 5, 6)).astype(np.float32)
    want = torch.nn.functional.conv_transpose2d(torch.from_numpy(x), torch.from_numpy(wt), torch.from_numpy(b),
                                                stride=2, padding=1, output_padding=1, groups=2,
                                                dilation=1).numpy()
    got = K.conv_transpose2d(x, K.pack_conv_transpose_weights(wt, 2), bias=b, stride=2, padding=1,
                             output_padding=1)
    close(got, want)


def test_conv_transpose_errors():
    p = K.pack_conv_transpose_weights(np.zeros((4, 3, 3, 3), np.float32))
    with pytest.raises(ValueError, match="channels"):
        K.conv_transpose2d(np.zeros((1, 5, 4, 4), np.float32), p)
    with pytest.raises(ValueError, match="geometry"):
        K.conv_transpose2d(np.zeros((1, 4, 1, 1), np.float32), p, padding=2)
    with pytest.raises(ValueError, match="conv_transpose2d"):
        K.conv2d(np.zeros((1, 4, 4, 4), np.float32), p)
    with pytest.raises(ValueError, match="pack_conv_transpose_weights"):
        K.conv_transpose2d(np.zeros((1, 3, 4, 4), np.float32), K.pack_conv_weights(np.zeros((4, 3, 3, 3))))


# ------------------------------------------------------------------ pooling vector paths
@pytest.mark.parametrize("k,s,pads,ceil", [((3, 3), (2, 2), (1, 1, 1, 1), False), ((3, 3), (2, 2), (0, 1, 0, 1), True),
                                           ((2, 2), (2, 2), (0, 0, 0, 0), False), ((3, 3), (1, 1), (1, 1, 1, 1), False),
                                           ((5, 4), (1, 1), (2, 0, 1, 3), False), ((3, 3), (3, 3), (1, 1, 1, 1), True),
                                           ((1, 1), (2, 2), (0, 0, 0, 0), False)])
def test_pooling_wide(isa, k, s, pads, ceil):
    x = np.random.default_rng(11).standard_normal((1, 5, 19, 45)).astype(np.float32)
    got_max = K.max_pool2d(x, k, s, pads, ceil_mode=ceil)
    oh, ow = got_max.shape[2:]
    # ceil mode: extend the bottom/right padding so the floor-rule reference yields the same size
    t, b, l, r = pads
    b2 = max(b, (oh - 1) * s[0] + k[0] - x.shape[2] - t)
    r2 = max(r, (ow - 1) * s[1] + k[1] - x.shape[3] - l)
    close(got_max, pool_ref(x, k, s, (t, b2, l, r2), "max", True)[:, :, :oh, :ow])
    close(K.avg_pool2d(x, k, s, pads, exclude_padding=True, ceil_mode=ceil),
          pool_ref(x, k, s, (t, b2, l, r2), "avg", True)[:, :, :oh, :ow])
    if not ceil:
        close(K.avg_pool2d(x, k, s, pads, exclude_padding=False), pool_ref(x, k, s, pads, "avg", False))


def test_global_pool_long():
    x = np.random.default_rng(12).standard_normal((2, 3, 17, 23)).astype(np.float32)
    close(K.global_avg_pool(x), x.mean(axis=(2, 3), keepdims=True))
    close(K.global_max_pool(x), x.max(axis=(2, 3), keepdims=True))


# ------------------------------------------------------------------ thread-count determinism
def _det_cases():
    # every case is above the ~2 MFLOP threshold under which kernels stay single-threaded
    rng = np.random.default_rng(13)
    x56 = rng.standard_normal((1, 32, 30, 29)).astype(np.float32)
    pw = K.pack_conv_weights(rng.standard_normal((64, 32, 3, 3)).astype(np.float32))
    p1 = K.pack_conv_weights(rng.standard_normal((24, 32, 1, 1)).astype(np.float32))
    pd = K.pack_conv_weights(rng.standard_normal((64, 1, 3, 3)).astype(np.float32), 64)
    pt = K.pack_conv_transpose_weights(rng.standard_normal((32, 16, 2, 2)).astype(np.float32))
    xd = rng.standard_normal((1, 64, 97, 95)).astype(np.float32)
    xw = rng.standard_normal((1, 64, 20, 150)).astype(np.float32)
    big = rng.standard_normal((1, 48, 20, 20)).astype(np.float32)
    pbig = K.pack_conv_weights(rng.standard_normal((96, 48, 3, 3)).astype(np.float32))
    return [
        lambda: K.conv2d(x56, pw, padding=1, act="gelu"),                 # 16x6 tile
        lambda: K.conv2d(big, pbig, padding=1, stride=2, act="relu"),      # 16x6, K = 432 (2 blocks)
        lambda: K.conv2d(xd[:, :32, :60], p1, act="silu"),                 # 8x24 tile, M = 24
        lambda: K.conv2d(xd, pd, padding=1, stride=2),                     # channel-blocked dw
        lambda: K.conv2d(xw, pd, padding=1),                               # planar dw
        lambda: K.conv_transpose2d(x56, pt, stride=2),
        lambda: K.max_pool2d(xd, 3, 2, 1),
        lambda: K.avg_pool2d(xw, 3, 1, 1, exclude_padding=False),
    ]


def test_threads_bitwise_identical_every_path():
    cases = _det_cases()
    results = {}
    try:
        for threads in (1, 2, 3, 4, 1):
            K.set_num_threads(threads)
            for i, f in enumerate(cases):
                out = f()
                if i in results:
                    np.testing.assert_array_equal(out, results[i], err_msg=f"case {i}, {threads} threads")
                else:
                    results[i] = out
    finally:
        K.set_num_threads(0)


def test_concurrent_callers_and_fork():
    """Kernels release the GIL: calls from several Python threads at once (each may use the
    pool or fall back to serial) and calls in a forked child give the single-thread result."""
    import os
    import threading
    rng = np.random.default_rng(14)
    x = rng.standard_normal((1, 32, 30, 31)).astype(np.float32)
    p = K.pack_conv_weights(rng.standard_normal((48, 32, 3, 3)).astype(np.float32))
    pd = K.pack_conv_weights(rng.standard_normal((32, 1, 3, 3)).astype(np.float32), 32)
    K.set_num_threads(1)
    want = K.conv2d(x, p, padding=1), K.conv2d(x, pd, padding=1, stride=2)
    K.set_num_threads(2)
    errors = []

    def worker():
        for _ in range(20):
            got = K.conv2d(x, p, padding=1), K.conv2d(x, pd, padding=1, stride=2)
            if not all(np.array_equal(a, b) for a, b in zip(got, want)):
                errors.append("mismatch")

    try:
        threads = [threading.Thread(target=worker) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        if hasattr(os, "fork"):
            pid = os.fork()
            if pid == 0:   # child: the pool must restart cleanly
                ok = np.array_equal(K.conv2d(x, p, padding=1), want[0])
                os._exit(0 if ok else 1)
            _, status = os.waitpid(pid, 0)
            assert os.WEXITSTATUS(status) == 0
    finally:
        K.set_num_threads(0)


@pytest.mark.parametrize("name", [i for i in ORDER if i not in ISAS] or ["no-such-isa"])
def test_force_unavailable_isa_is_refused(name):
    with pytest.raises(ValueError):
        K.force_isa(name)
    assert K.current_isa() == K.detect_isa()
