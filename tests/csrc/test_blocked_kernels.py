"""The blocked NCHW16c kernels (csrc/blocked_dw.c) on every ISA this CPU has, against float64
numpy references and the NCHW kernels: depthwise convolution (strides, pads, dilation, 3x3 and
5x5, every epilogue, residuals, batches), max/avg pooling (ceil mode, include/exclude padding,
NaN) and global pooling; channel counts off 16, whose tail lanes must come out zero."""
import numpy as np
import pytest

from mlir_coreml.csrc import _kernels as K
from tests.csrc.test_kernels import ACTS, ISAS, act_ref, close, pool_ref


def tail_lanes(xb, C):
    """The lanes of channels >= C (they must be zero)."""
    return xb[..., -1, :, :, C - 16 * (xb.shape[-4] - 1):]


def depthwise_ref(x, w, b, stride, dil, pads):
    n, c, h, wd = x.shape
    kh, kw = w.shape[2:]
    t, bt, l, r = pads
    xp = np.zeros((n, c, h + t + bt, wd + l + r))
    xp[:, :, t:t + h, l:l + wd] = x
    oh = (h + t + bt - (kh - 1) * dil[0] - 1) // stride[0] + 1
    ow = (wd + l + r - (kw - 1) * dil[1] - 1) // stride[1] + 1
    out = np.zeros((n, c, oh, ow)) + (0 if b is None else b[None, :, None, None])
    for i in range(kh):
        for j in range(kw):
            patch = xp[:, :, i * dil[0]:i * dil[0] + stride[0] * (oh - 1) + 1:stride[0],
                       j * dil[1]:j * dil[1] + stride[1] * (ow - 1) + 1:stride[1]]
            out += patch * w[None, :, 0, i, j, None, None]
    return out


def test_layout_round_trip_zeroes_the_tail():
    x = np.random.default_rng(0).standard_normal((2, 20, 3, 5)).astype(np.float32)
    xb = K.nchw_to_blocked(x)
    assert xb.shape == (2, 2, 3, 5, 16)
    assert np.array_equal(xb[:, 0, 1, 2], x[:, :16, 1, 2])
    assert not tail_lanes(xb, 20).any()
    assert np.array_equal(K.blocked_to_nchw(xb, 20), x)
    assert np.array_equal(K.blocked_to_nchw(K.nchw_to_blocked(x[0]), 20), x[0])


def test_pack_depthwise_blocked():
    w = np.arange(20 * 9, dtype=np.float32).reshape(20, 1, 3, 3)
    p = K.pack_depthwise_blocked(w)
    assert p.shape == (2, 3, 3, 16)
    assert p[1, 2, 1, 3] == w[19, 0, 2, 1] and not p[1, :, :, 4:].any()


# C, H, W, kernel, stride, dilation, pads (top, bottom, left, right)
DW_CASES = [(16, 9, 13, (3, 3), (1, 1), (1, 1), (1, 1, 1, 1)),
            (20, 9, 13, (3, 3), (1, 1), (1, 1), (1, 1, 1, 1)),
            (7, 12, 23, (3, 3), (2, 2), (1, 1), (1, 1, 1, 1)),
            (33, 11, 11, (5, 5), (1, 1), (1, 1), (2, 2, 2, 2)),
            (40, 14, 17, (5, 5), (2, 2), (1, 1), (2, 2, 2, 2)),
            (17, 10, 21, (3, 3), (1, 1), (2, 2), (2, 2, 2, 2)),
            (5, 8, 30, (3, 5), (2, 1), (1, 3), (0, 2, 4, 1)),
            (18, 3, 4, (3, 3), (1, 1), (1, 1), (0, 0, 0, 0)),     # one output pixel: no interior
            (24, 6, 6, (7, 7), (3, 2), (1, 1), (3, 3, 3, 3)),     # kernel wider than the interior
            (3, 1, 40, (1, 9), (1, 3), (1, 1), (0, 0, 4, 4)),
            (20, 6, 7, (3, 3), (1, 1), (1, 1), (1, 1, 1, 1)),     # narrow stride-1 rows: the padded copy
            (17, 5, 6, (3, 3), (2, 1), (2, 2), (2, 1, 2, 3)),
            (9, 4, 8, (3, 3), (1, 1), (1, 1), (1, 1, 1, 1))]      # interior of 6: groups of 6 / 3


@pytest.mark.parametrize("case", DW_CASES, ids=[f"c{c[0]}_{c[1]}x{c[2]}_k{c[3]}s{c[4]}d{c[5]}p{c[6]}" for c in DW_CASES])
def test_depthwise_blocked_geometry(isa, case):
    C, H, W, k, s, d, pads = case
    rng = np.random.default_rng(C * 100 + H)
    x = rng.standard_normal((2, C, H, W)).astype(np.float32)
    w = rng.standard_normal((C, 1) + k).astype(np.float32)
    b = rng.standard_normal(C).astype(np.float32)
    ref = depthwise_ref(x, w, b, s, d, pads)
    got = K.depthwise_blocked(K.nchw_to_blocked(x), K.pack_depthwise_blocked(w), C, bias=b, stride=s,
                              dilation=d, padding=pads)
    assert got.shape == (2, (C + 15) // 16) + ref.shape[2:] + (16,)
    close(K.blocked_to_nchw(got, C), ref)
    assert not tail_lanes(got, C).any()
    # the NCHW kernel agrees (fp32 weights)
    nchw = K.conv2d(x, K.pack_conv_weights(w, C, "fp32"), bias=b, stride=s, dilation=d, padding=pads)
    close(K.blocked_to_nchw(got, C), nchw)


@pytest.mark.parametrize("act,alpha,beta", ACTS)
def test_depthwise_blocked_epilogues(isa, act, alpha, beta):
    C = 21   # sigmoid(0) = 0.5 and clip(-0.5, 0.7) would leak into the tail lanes if not zeroed
    rng = np.random.default_rng(5)
    x = rng.standard_normal((1, C, 10, 19)).astype(np.float32)
    w = (rng.standard_normal((C, 1, 3, 3)) * 0.5).astype(np.float32)
    b = rng.standard_normal(C).astype(np.float32)
    res = rng.standard_normal((1, C, 5, 10)).astype(np.float32)
    got = K.depthwise_blocked(K.nchw_to_blocked(x), K.pack_depthwise_blocked(w), C, bias=b, stride=2, padding=1,
                              act=act, alpha=alpha, beta=beta, residual=K.nchw_to_blocked(res))
    close(K.blocked_to_nchw(got, C), act_ref(depthwise_ref(x, w, b, (2, 2), (1, 1), (1, 1, 1, 1)) + res,
                                             act, alpha, beta))
    assert not tail_lanes(got, C).any()


def test_depthwise_blocked_without_bias_single_image_and_out(isa):
    C = 48
    rng = np.random.default_rng(6)
    x = rng.standard_normal((C, 7, 9)).astype(np.float32)
    w = rng.standard_normal((C, 3, 3)).astype(np.float32)
    out = np.full((3, 7, 9, 16), np.nan, np.float32)
    got = K.depthwise_blocked(K.nchw_to_blocked(x), K.pack_depthwise_blocked(w), C, padding=1, act="relu6", out=out)
    assert np.shares_memory(got, out) and not np.isnan(out).any()
    close(K.blocked_to_nchw(out, C), np.clip(depthwise_ref(x[None], w[:, None], None, (1, 1), (1, 1), (1,) * 4)[0], 0, 6))


def test_depthwise_blocked_errors():
    xb = np.zeros((1, 2, 5, 5, 16), np.float32)
    p = K.pack_depthwise_blocked(np.zeros((20, 1, 3, 3), np.float32))
    with pytest.raises(ValueError, match="blocked input"):
        K.depthwise_blocked(xb, p, 40)
    with pytest.raises(ValueError, match="packed weights"):
        K.depthwise_blocked(xb, p[:1], 20)
    with pytest.raises(ValueError, match="geometry"):
        K.depthwise_blocked(xb, p, 20, dilation=3)


POOL_CASES = [((3, 3), (2, 2), (1, 1, 1, 1), False), ((3, 3), (2, 2), (0, 1, 0, 1), True),
              ((2, 2), (2, 2), (0, 0, 0, 0), False), ((3, 3), (1, 1), (1, 1, 1, 1), False),
              ((5, 4), (1, 1), (2, 0, 1, 3), False), ((3, 3), (3, 3), (1, 1, 1, 1), True),
              ((5, 5), (2, 3), (2, 2, 2, 2), True), ((1, 1), (2, 2), (0, 0, 0, 0), False)]


@pytest.mark.parametrize("k,s,pads,ceil", POOL_CASES)
def test_pool_blocked_matches_nchw_and_numpy(isa, k, s, pads, ceil):
    C = 19
    x = np.random.default_rng(11).standard_normal((2, C, 13, 17)).astype(np.float32)
    xb = K.nchw_to_blocked(x)
    got_max = K.max_pool2d_blocked(xb, C, k, s, pads, ceil_mode=ceil)
    oh, ow = got_max.shape[2:4]
    assert (oh, ow) == K.max_pool2d(x, k, s, pads, ceil_mode=ceil).shape[2:]
    t, b, l, r = pads
    b2 = max(b, (oh - 1) * s[0] + k[0] - x.shape[2] - t)   # ceil mode: the floor rule on a taller pad
    r2 = max(r, (ow - 1) * s[1] + k[1] - x.shape[3] - l)
    close(K.blocked_to_nchw(got_max, C), pool_ref(x, k, s, (t, b2, l, r2), "max", True)[:, :, :oh, :ow])
    for exclude in (True, False):
        got = K.avg_pool2d_blocked(xb, C, k, s, pads, exclude_padding=exclude, ceil_mode=ceil)
        close(K.blocked_to_nchw(got, C), K.avg_pool2d(x, k, s, pads, exclude_padding=exclude, ceil_mode=ceil))
        assert not tail_lanes(got, C).any()
    assert not tail_lanes(got_max, C).any()
    if not ceil:
        close(K.blocked_to_nchw(K.avg_pool2d_blocked(xb, C, k, s, pads, exclude_padding=False), C),
              pool_ref(x, k, s, pads, "avg", False))


def test_max_pool_blocked_propagates_nan_like_nchw(isa):
    C = 18
    x = np.random.default_rng(12).standard_normal((1, C, 9, 9)).astype(np.float32)
    x[0, 3, 4, 4] = np.nan     # inside windows
    x[0, 17, 0, 0] = np.nan    # a corner, in the partial block
    x[0, 5, 2, 2] = np.nan     # the first value of some windows: a later larger value must not hide it
    x[0, 5, 2, 3] = 100.0
    got = K.blocked_to_nchw(K.max_pool2d_blocked(K.nchw_to_blocked(x), C, 3, 2, 1), C)
    want = K.max_pool2d(x, 3, 2, 1)
    assert np.array_equal(np.isnan(got), np.isnan(want)) and np.isnan(got).sum() >= 3
    close(np.nan_to_num(got), np.nan_to_num(want))
    gmax = K.global_pool_blocked(K.nchw_to_blocked(x), C, is_max=True)
    assert np.array_equal(np.isnan(gmax[0, :, 0, 0].reshape(-1)[:C]), np.isnan(x).any(axis=(2, 3))[0])


@pytest.mark.parametrize("hw", [(1, 1), (3, 1), (5, 7), (17, 23)])
def test_global_pool_blocked(isa, hw):
    C = 37
    x = np.random.default_rng(13).standard_normal((2, C) + hw).astype(np.float32)
    xb = K.nchw_to_blocked(x)
    avg = K.global_pool_blocked(xb, C)
    mx = K.global_pool_blocked(xb, C, is_max=True)
    assert avg.shape == (2, 3, 1, 1, 16)
    close(K.blocked_to_nchw(avg, C), x.mean(axis=(2, 3), keepdims=True))
    close(K.blocked_to_nchw(mx, C), x.max(axis=(2, 3), keepdims=True))
    assert not tail_lanes(avg, C).any() and not tail_lanes(mx, C).any()


def test_blocked_kernels_identical_for_any_thread_count():
    rng = np.random.default_rng(14)
    C = 40   # 3 blocks: with more threads than blocks the output rows split into bands
    x = K.nchw_to_blocked(rng.standard_normal((1, C, 97, 95)).astype(np.float32))
    p = K.pack_depthwise_blocked(rng.standard_normal((C, 1, 3, 3)).astype(np.float32))
    p5 = K.pack_depthwise_blocked(rng.standard_normal((C, 1, 5, 5)).astype(np.float32))
    cases = [lambda: K.depthwise_blocked(x, p, C, padding=1, act="relu6"),
             lambda: K.depthwise_blocked(x, p5, C, stride=2, padding=2, act="silu"),
             lambda: K.max_pool2d_blocked(x, C, 3, 2, 1),
             lambda: K.avg_pool2d_blocked(x, C, 3, 1, 1, exclude_padding=False)]
    results = {}
    try:
        for threads in (1, 2, 3, 7, 1):
            K.set_num_threads(threads)
            for i, f in enumerate(cases):
                out = f()
                if i in results:
                    np.testing.assert_array_equal(out, results[i], err_msg=f"case {i}, {threads} threads")
                else:
                    results[i] = out
    finally:
        K.set_num_threads(0)
