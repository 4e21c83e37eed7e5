"""csrc._kernels against numpy references: every dispatch path, epilogue and conv variant."""
import math

import numpy as np
import pytest

from mlir_coreml.csrc import _kernels as K

ORDER = ["portable", "avx2", "avx512"]
ISAS = ORDER[:ORDER.index(K.detect_isa()) + 1]
ALL_ISAS = [pytest.param(i, marks=pytest.mark.skipif(i not in ISAS, reason=f"CPU lacks {i}"))
            for i in ORDER]
ACTS = [("none", 0, 0), ("relu", 0, 0), ("relu6", 0, 0), ("clip", -0.5, 0.7), ("leaky_relu", 0.1, 0),
        ("sigmoid", 0, 0), ("tanh", 0, 0), ("gelu", 0, 0), ("gelu_tanh", 0, 0), ("silu", 0, 0)]
_erf = np.vectorize(math.erf)


@pytest.fixture(params=ALL_ISAS)
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
