"""Every kernel family that splits work over the pool gives the same bits for any thread count,
on every ISA and panel precision: a task computes the same arithmetic whichever thread runs it
and however the work is cut (csrc/dispatch.c).  The shapes sit on both sides of each family's
split rules (several Winograd blocks per thread vs one block cut into stages, N-only vs M x N
GEMM splits, small layers that now split too).  One thread is the reference the other kernel
tests check against numpy; here a second check against numpy guards the split paths directly."""
import numpy as np
import pytest

from tests.csrc.test_kernels import ISAS
from tests.csrc.test_tile_edges import conv_ref, weights_seen
from mlir_coreml.csrc import _kernels as K

THREADS = (1, 2, 3)


@pytest.fixture(params=[(isa, panels) for isa in ISAS for panels in ("fp16", "fp32")],
                ids=lambda p: f"{p[0]}-{p[1]}")
def isa_panels(request):
    K.force_isa(request.param[0])
    yield request.param[1]
    K.force_isa(None)


def per_threads(fn, threads=THREADS):
    """fn() at each thread count; asserts they are bit-identical and returns the 1-thread one."""
    old = K.get_num_threads()
    try:
        results = []
        for t in threads:
            K.set_num_threads(t)
            results.append(fn())
    finally:
        K.set_num_threads(old)
    for t, r in zip(threads[1:], results[1:]):
        np.testing.assert_array_equal(r, results[0], err_msg=f"{t} threads differ from 1")
    return results[0]


def close(got, want, tol=2e-3):
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * max(1.0, float(np.abs(want).max())))


rng = np.random.default_rng(11)


def randn(*shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


@pytest.mark.parametrize("M,Kd,N", [(64, 200, 300), (24, 96, 40), (512, 256, 49), (40, 16, 500)])
def test_gemm(isa_panels, M, Kd, N):
    w, x, b = randn(M, Kd, scale=0.1), randn(Kd, N), randn(M)
    p = K.pack_weights(w, isa_panels)
    got = per_threads(lambda: K.gemm(p, x, bias=b, act="relu"))
    close(got, np.maximum(weights_seen(w, isa_panels) @ x + b[:, None], 0))


@pytest.mark.parametrize("C,H,Cout,k,stride,groups", [
    (32, 28, 64, 3, 2, 1),     # im2col, several M chunks over one B
    (256, 7, 512, 3, 2, 1),    # deep and small: M-only split
    (3, 56, 16, 7, 2, 1),      # stem
    (64, 14, 128, 1, 1, 1),    # 1x1
    (96, 28, 96, 3, 1, 96),    # depthwise
    (32, 10, 32, 3, 2, 32),    # depthwise, small
    (32, 20, 64, 3, 1, 4),     # grouped
])
def test_conv(isa_panels, C, H, Cout, k, stride, groups):
    w, x, b = randn(Cout, C // groups, k, k, scale=0.1), randn(1, C, H, H), randn(Cout)
    p = K.pack_conv_weights(w, groups, isa_panels)
    pad = k // 2
    got = per_threads(lambda: K.conv2d(x, p, bias=b, stride=stride, padding=pad))
    ref = conv_ref(x, weights_seen(w, isa_panels), None, (1, 1), (pad,) * 4, groups)
    close(got, ref[:, :, ::stride, ::stride] + b[None, :, None, None])


def winograd_blocks(m, C, H, Cout):
    """Blocks of the tile grid as csrc/winograd.c cuts it: equal, at most the capacity, 16-tile multiples."""
    def ceil_div(a, b):
        return -(-a // b)
    tiles = ceil_div(H, m) ** 2
    blocks = ceil_div(tiles, K.winograd_block_tiles(m, C, Cout))
    nt = ceil_div(ceil_div(tiles, blocks), 16) * 16
    return ceil_div(tiles, nt)


def parallel_regions(fn, threads):
    """Pool regions (parallel calls run on several threads) of fn() at `threads` threads."""
    old = K.get_num_threads()
    K.set_num_threads(threads)
    K.thread_stats_enable(True)
    try:
        fn()
        return K.thread_stats()["regions"]
    finally:
        K.thread_stats_enable(False)
        K.set_num_threads(old)


# 5 threads: GEMM tasks (ranges of (point, weight panel) units) that start and end inside a point.
WINO_THREADS = (1, 2, 3, 5)


@pytest.mark.parametrize("m", [2, 4])
@pytest.mark.parametrize("C,H,Cout", [
    (16, 112, 16),     # many blocks: one block per task (F(4,3) at 3 and 5 threads: stages)
    (64, 28, 64),      # one or two blocks: stages split over channels and points
    (256, 7, 256),     # deep, a single small block
    (24, 13, 20),      # ragged: partial weight panel, partial tiles
])
def test_winograd(isa_panels, m, C, H, Cout):
    w, x, b, r = randn(Cout, C, 3, 3, scale=0.1), randn(1, C, H, H), randn(Cout), randn(1, Cout, H, H)
    p = K.pack_winograd_weights(w, m, isa_panels)
    run = lambda: K.conv2d(x, p, bias=b, padding=1, act="relu", residual=r)  # noqa: E731
    got = per_threads(run, WINO_THREADS)
    ref = conv_ref(x, w.astype(np.float64), None, (1, 1), (1,) * 4, 1)
    close(got, np.maximum(ref + b[None, :, None, None] + r, 0), tol=2e-2 if isa_panels == "fp16" else 2e-3)
    # the split taken at each thread count: fewer than two blocks per thread runs each block in
    # three staged regions (input, GEMM, output transforms), else one region of whole blocks
    blocks = winograd_blocks(m, C, H, Cout)
    for t in WINO_THREADS[1:]:
        staged = parallel_regions(run, t) >= 3 * blocks
        assert staged == (blocks < 2 * t), (t, blocks)


def test_depthwise_pointwise(isa_panels):
    C, Cout, H = 64, 96, 28
    dw, pw, x = randn(C, 1, 3, 3, scale=0.3), randn(Cout, C, scale=0.1), randn(1, C, H, H)
    pdw, ppw = K.pack_conv_weights(dw, C, isa_panels), K.pack_weights(pw, isa_panels)
    got = per_threads(lambda: K.depthwise_pointwise(x, pdw, ppw, dw_act="relu6", padding=1))
    mid = np.clip(conv_ref(x, weights_seen(dw, isa_panels), None, (1, 1), (1,) * 4, C), 0, 6)
    close(got, np.einsum("oc,nchw->nohw", weights_seen(pw, isa_panels), mid))


def test_conv_transpose(isa_panels):
    C, Cout, H = 64, 32, 14
    w, x = randn(C, Cout, 2, 2, scale=0.1), randn(1, C, H, H)
    p = K.pack_conv_transpose_weights(w, 1, isa_panels)
    got = per_threads(lambda: K.conv_transpose2d(x, p, stride=2))
    ws = weights_seen(w, isa_panels)
    ref = np.zeros((1, Cout, 2 * H, 2 * H))
    for i in range(2):
        for j in range(2):
            ref[:, :, i::2, j::2] = np.einsum("nchw,co->nohw", x, ws[:, :, i, j])
    close(got, ref)


@pytest.mark.parametrize("C,H", [(64, 112), (16, 30)])
def test_pool(isa_panels, C, H):
    x = randn(1, C, H, H)
    mx = per_threads(lambda: K.max_pool2d(x, 3, 2, 1))
    av = per_threads(lambda: K.avg_pool2d(x, 2, 2))
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=-np.inf)
    oh = (H + 2 - 3) // 2 + 1
    want = np.full((1, C, oh, oh), -np.inf, dtype=np.float32)
    for i in range(3):
        for j in range(3):
            want = np.maximum(want, xp[:, :, i:i + 2 * oh:2, j:j + 2 * oh:2])
    np.testing.assert_array_equal(mx, want)
    close(av, x.reshape(1, C, H // 2, 2, H // 2, 2).mean(axis=(3, 5)))


def test_attention(isa_panels):
    q, k, v = randn(1, 4, 64, 32), randn(1, 4, 64, 32), randn(1, 4, 64, 32)
    got = per_threads(lambda: K.attention(q, k, v, scale=0.2))
    s = np.einsum("bhie,bhje->bhij", q, k).astype(np.float64) * 0.2
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    close(got, np.einsum("bhij,bhje->bhie", e / e.sum(axis=-1, keepdims=True), v))


def test_row_kernels(isa_panels):
    x = randn(256, 512)
    sm = per_threads(lambda: K.softmax(x))
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    close(sm, e / e.sum(axis=-1, keepdims=True), tol=1e-4)
    g, b = randn(512), randn(512)
    ln = per_threads(lambda: K.layer_norm(x, 512, g, b))
    mu, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    close(ln, (x - mu) / np.sqrt(var + 1e-5) * g + b, tol=1e-4)


def test_resize(isa_panels):
    x = randn(1, 64, 28, 28)
    up = np.arange(56) // 2
    near = per_threads(lambda: K.resize_nearest(x, up, up))
    np.testing.assert_array_equal(near, x[:, :, up][:, :, :, up])
    src = (np.arange(56) + 0.5) / 2 - 0.5
    lo = np.clip(np.floor(src), 0, 27).astype(np.int32)
    hi = np.minimum(lo + 1, 27).astype(np.int32)
    frac = np.clip(src - lo, 0, 1).astype(np.float32)
    bil = per_threads(lambda: K.resize_bilinear(x, lo, hi, frac, lo, hi, frac))
    rows = x[:, :, lo] * (1 - frac[:, None]) + x[:, :, hi] * frac[:, None]
    close(bil, rows[:, :, :, lo] * (1 - frac) + rows[:, :, :, hi] * frac, tol=1e-5)
