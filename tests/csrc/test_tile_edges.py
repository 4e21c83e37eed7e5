"""Every GEMM / convolution kernel variant at the edges of its tiles, on every ISA this CPU has
(force_isa) with fp16 and fp32 weight panels, against float64 numpy references.

Tile sizes in play (csrc/gemm.c): the M-vectorised 16x12 (AVX-512, K >= 128; a 1..3-column
remainder merged with the last full tile into two near-halves) and 16x6 (AVX2, K >= 32) tiles
with K blocks of up to 384, the N-vectorised tiles below those K (8x48 reading B in place
under column masks on AVX-512, 8x24 on AVX2), the packed 8x48 / 8x16 panels (portable), and
the direct-rows path of stride-1 convolutions (B read from the padded input, columns past each
output row dropped)."""
import numpy as np
import pytest

from tests.csrc.test_kernels import ISAS, act_ref
from mlir_coreml.csrc import _kernels as K


@pytest.fixture(params=[(isa, panels) for isa in ISAS for panels in ("fp16", "fp32")],
                ids=lambda p: f"{p[0]}-{p[1]}")
def isa_panels(request):
    K.force_isa(request.param[0])
    yield request.param[1]
    K.force_isa(None)


def weights_seen(w, panels):
    """The weights as the kernels hold them (fp16 panels round them)."""
    return (w.astype(np.float16) if panels == "fp16" else w).astype(np.float64)


def conv_ref(x, w, b, dil, pads, groups):
    """float64 stride-1 convolution with the weights exactly as given."""
    t, bt, l, r = pads
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (t, bt), (l, r)))
    cout, cg, kh, kw = w.shape
    oh, ow = xp.shape[2] - (kh - 1) * dil[0], xp.shape[3] - (kw - 1) * dil[1]
    out = np.zeros((x.shape[0], cout, oh, ow))
    mg = cout // groups
    for g in range(groups):
        for i in range(kh):
            for j in range(kw):
                patch = xp[:, g * cg:(g + 1) * cg, i * dil[0]:i * dil[0] + oh, j * dil[1]:j * dil[1] + ow]
                out[:, g * mg:(g + 1) * mg] += np.einsum("ncij,oc->noij", patch, w[g * mg:(g + 1) * mg, :, i, j])
    return out + (0 if b is None else b[None, :, None, None])


def close(got, ref, tol=2e-5):
    scale = max(np.abs(ref).max(), 1.0)
    np.testing.assert_allclose(got, ref, rtol=tol, atol=tol * scale)


# M around 8 / 16 / 64 row blocks, N around 6 / 12 / 16 / 24 / 32 / 48 columns (49, 50, 51:
# remainders of 1..3 merged), K around the vector widths, the small-K switches (32 on AVX2,
# 128 on AVX-512) and the K block (384).
EDGE_M = [1, 7, 8, 15, 16, 17, 63, 64, 65, 80]
EDGE_N = [1, 5, 6, 7, 11, 12, 13, 17, 23, 25, 33, 47, 49, 50, 51, 97]
EDGE_K = [1, 7, 9, 17, 31, 32, 33, 127, 128, 385, 769]


@pytest.mark.parametrize("k", EDGE_K)
def test_gemm_tile_edges(isa_panels, k):
    rng = np.random.default_rng(k)
    for m in EDGE_M:
        w = rng.standard_normal((m, k)).astype(np.float32)
        b = rng.standard_normal(m).astype(np.float32)
        p = K.pack_weights(w, isa_panels)
        ws = weights_seen(w, isa_panels)
        for n in EDGE_N:
            x = rng.standard_normal((k, n)).astype(np.float32)
            r = rng.standard_normal((m, n)).astype(np.float32)
            got = K.gemm(p, x, bias=b, act="relu", residual=r)
            close(got, np.maximum(ws @ x + b[:, None] + r, 0))


# Stride-1 convolutions wide enough for the direct-rows path (output width >= 8x the padding
# overhang), with every tail: M not a multiple of 16, output widths that end a 6- or 12-column
# tile mid-row, K over one block, dilation, asymmetric padding, 1x1 with padding, groups.
DIRECT = [  # cin, cout, h, w, k, dil, pads, groups
    (8, 16, 5, 17, (3, 3), (1, 1), (1, 1, 1, 1), 1),       # OW 17: tiles straddle rows
    (5, 70, 9, 23, (3, 3), (1, 1), (1, 1, 1, 1), 1),       # M 70, K 45 (odd)
    (48, 64, 6, 19, (3, 3), (1, 1), (1, 1, 1, 1), 1),      # K 432: two K blocks
    (16, 80, 7, 29, (3, 5), (2, 1), (2, 0, 1, 3), 1),      # dilated, asymmetric pads
    (40, 32, 4, 16, (1, 1), (1, 1), (0, 0, 1, 1), 1),      # 1x1 with padding (not pointwise)
    (12, 64, 8, 33, (5, 5), (1, 2), (2, 2, 4, 4), 1),      # 5x5, dilation 2 along W
    (32, 32, 6, 21, (3, 3), (1, 1), (1, 1, 1, 1), 2),      # grouped: 16 per group, K 144
    (64, 64, 3, 56, (3, 3), (1, 1), (1, 1, 1, 1), 1),      # ResNet-like width
    (32, 48, 4, 17, (3, 3), (1, 1), (1, 1, 1, 1), 1),      # K 288, grid 74 = 6 x 12 + 2: merged tail
]


@pytest.mark.parametrize("cfg", DIRECT, ids=[f"direct{i}" for i in range(len(DIRECT))])
def test_conv_direct_rows(isa_panels, cfg):
    cin, cout, h, w, k, dil, pads, groups = cfg
    rng = np.random.default_rng(cin * 31 + cout * 7 + w)
    wt = (rng.standard_normal((cout, cin // groups) + k) * 0.2).astype(np.float32)
    b = rng.standard_normal(cout).astype(np.float32)
    x = rng.standard_normal((1, cin, h, w)).astype(np.float32)
    p = K.pack_conv_weights(wt, groups, isa_panels)
    ref = conv_ref(x, weights_seen(wt, isa_panels), b, dil, pads, groups)
    r = rng.standard_normal(ref.shape).astype(np.float32)
    close(K.conv2d(x, p, bias=b, dilation=dil, padding=pads), ref)
    close(K.conv2d(x, p, bias=b, dilation=dil, padding=pads, act="gelu", residual=r),
          act_ref(ref + r, "gelu", 0, 0))


def test_conv_direct_rows_threads_identical(isa_panels):
    """The direct path splits columns of the padded grid over tasks: same bits for 1 or 2 threads."""
    rng = np.random.default_rng(5)
    wt = (rng.standard_normal((96, 64, 3, 3)) * 0.1).astype(np.float32)
    x = rng.standard_normal((1, 64, 30, 30)).astype(np.float32)
    p = K.pack_conv_weights(wt, 1, isa_panels)
    old = K.get_num_threads()
    try:
        K.set_num_threads(1)
        one = K.conv2d(x, p, padding=1)
        K.set_num_threads(2)
        two = K.conv2d(x, p, padding=1)
    finally:
        K.set_num_threads(old)
    np.testing.assert_array_equal(one, two)
    close(one, conv_ref(x, weights_seen(wt, isa_panels), None, (1, 1), (1, 1, 1, 1), 1))
