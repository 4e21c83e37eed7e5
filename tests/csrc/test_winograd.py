"""Winograd F(2,3) / F(4,3) (csrc/winograd.c) on every ISA this CPU has, against float64 numpy:
odd and tiny maps (partial tiles at the right and bottom edges, maps smaller than one tile),
channel counts that are not multiples of any vector width, padding 0, 1 and asymmetric,
with and without bias, residual and each kind of activation, fp32 and fp16 panels, batches.

Bounds (max |err| / max |ref|): fp32 panels 2e-5 (F(4,3)) and 2e-6 (F(2,3)); fp16 panels, whose
transformed weights are rounded once, 5e-3 and 3e-2. The fp16 bounds are why the runtime packs
Winograd weights in fp32 panels (test_fp16_panels_lose_accuracy shows the gap)."""
import itertools

import numpy as np
import pytest

from mlir_coreml.csrc import _kernels as K
from mlir_coreml.ir.dialects.core.elementwise import apply_activation
from tests.csrc.test_kernels import ISAS

BOUND = {("fp32", 2): 2e-6, ("fp32", 4): 2e-5, ("fp16", 2): 5e-3, ("fp16", 4): 3e-2}


@pytest.fixture(params=ISAS)
def isa(request):
    K.force_isa(request.param)
    yield request.param
    K.force_isa(None)


def conv_ref64(x, w, pads):
    """Direct cross-correlation in float64 (numpy only)."""
    t, b, l, r = pads
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (t, b), (l, r)))
    oh, ow = xp.shape[2] - 2, xp.shape[3] - 2
    out = np.zeros((x.shape[0], w.shape[0], oh, ow))
    for i, j in itertools.product(range(3), range(3)):
        out += np.einsum("nchw,oc->nohw", xp[:, :, i:i + oh, j:j + ow], w[:, :, i, j].astype(np.float64))
    return out


def rel_err(got, want) -> float:
    return float(np.abs(got - want).max() / max(np.abs(want).max(), 1e-30))


def run_case(rng, n, cin, cout, h, w, pads, tile, panels, bias=True, act="none", residual=False):
    x = rng.standard_normal((n, cin, h, w)).astype(np.float32)
    wt = (rng.standard_normal((cout, cin, 3, 3)) / np.sqrt(9 * cin)).astype(np.float32)
    b = rng.standard_normal(cout).astype(np.float32) if bias else None
    want = conv_ref64(x, wt, pads)
    res = rng.standard_normal(want.shape).astype(np.float32) if residual else None
    if b is not None:
        want = want + b[None, :, None, None]
    if res is not None:
        want = want + res
    want = apply_activation(want, act, 0.1, 0.0) if act != "relu6" else np.clip(want, 0, 6)
    packed = K.pack_winograd_weights(wt, tile, panels)
    got = K.conv2d(x, packed, bias=b, padding=pads, act=act, alpha=0.1, residual=res)
    assert got.shape == want.shape
    return rel_err(got, want)


SHAPES = [  # (n, cin, cout, h, w, pads)
    (1, 1, 1, 3, 3, (0, 0, 0, 0)),        # one output pixel
    (1, 3, 5, 1, 1, (1, 1, 1, 1)),        # map smaller than a tile
    (1, 7, 9, 5, 7, (1, 1, 1, 1)),        # partial tiles on both edges
    (2, 17, 33, 9, 13, (0, 0, 0, 0)),     # batch, no padding
    (1, 16, 16, 8, 8, (1, 1, 1, 1)),      # whole tiles
    (1, 24, 40, 11, 6, (1, 0, 0, 1)),     # asymmetric padding
    (1, 65, 31, 14, 14, (2, 1, 1, 2)),    # padding wider than the kernel's reach on one side
    (1, 64, 64, 23, 29, (1, 1, 1, 1)),    # several tile blocks
]


@pytest.mark.parametrize("tile", [2, 4])
@pytest.mark.parametrize("panels", ["fp32", "fp16"])
@pytest.mark.parametrize("shape", SHAPES, ids=[f"{s[1]}to{s[2]}_{s[3]}x{s[4]}_p{''.join(map(str, s[5]))}"
                                                for s in SHAPES])
def test_accuracy_against_float64(isa, tile, panels, shape):
    n, cin, cout, h, w, pads = shape
    rng = np.random.default_rng(cin * 131 + cout * 7 + h)
    assert run_case(rng, n, cin, cout, h, w, pads, tile, panels) <= BOUND[panels, tile]


@pytest.mark.parametrize("act", ["none", "relu", "relu6", "leaky_relu", "sigmoid", "gelu", "silu"])
@pytest.mark.parametrize("residual", [False, True])
@pytest.mark.parametrize("bias", [False, True])
def test_fused_epilogue(isa, act, residual, bias):
    rng = np.random.default_rng(7)
    for tile in (2, 4):
        assert run_case(rng, 1, 12, 20, 10, 7, (1, 1, 1, 1), tile, "fp32", bias, act, residual) <= BOUND["fp32", tile]


# The model layers' map sizes (odd: partial tiles, tile rows shorter than a 16-tile vector) and
# channel counts that are not multiples of 16; one map wide enough for whole 16-tile vectors in
# the phase split and the interleaving store plus a masked remainder (70: 18 tiles of 4).
MODEL_SHAPES = [(16, 24, 55, 55), (35, 40, 27, 27), (48, 20, 13, 13), (20, 24, 7, 7), (5, 9, 70, 70)]


@pytest.mark.parametrize("tile", [2, 4])
@pytest.mark.parametrize("shape", MODEL_SHAPES, ids=[f"{s[0]}to{s[1]}_{s[2]}" for s in MODEL_SHAPES])
def test_model_maps_with_residual_and_relu(isa, tile, shape):
    cin, cout, h, w = shape
    rng = np.random.default_rng(cin + h)
    assert run_case(rng, 1, cin, cout, h, w, (1, 1, 1, 1), tile, "fp32", True, "relu", True) <= BOUND["fp32", tile]


def test_matches_direct_kernel_and_isas_agree():
    """The same problem on every ISA gives results within rounding of each other and of the
    direct (im2col) kernel with fp32 panels."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((1, 32, 15, 17)).astype(np.float32)
    wt = (rng.standard_normal((48, 32, 3, 3)) * 0.1).astype(np.float32)
    direct = K.conv2d(x, K.pack_conv_weights(wt, 1, "fp32"), padding=1)
    results = []
    for name in ISAS:
        K.force_isa(name)
        try:
            results.append(K.conv2d(x, K.pack_winograd_weights(wt, 4, "fp32"), padding=1))
        finally:
            K.force_isa(None)
    for got in results:
        assert rel_err(got, direct) <= 2e-5
        assert rel_err(got, results[0]) <= 1e-5   # FMA contraction and summation order differ


def test_fp16_panels_lose_accuracy():
    """fp16 panels of F(4,3) are measurably worse than fp32 ones on the same problem: the
    transformed weights are not fp16 values and the output transform amplifies their rounding."""
    rng = np.random.default_rng(11)
    x = rng.standard_normal((1, 32, 12, 12)).astype(np.float32)
    wt = rng.standard_normal((32, 32, 3, 3)).astype(np.float16).astype(np.float32)  # fp16-exact weights
    want = conv_ref64(x, wt, (1, 1, 1, 1))
    err = {p: rel_err(K.conv2d(x, K.pack_winograd_weights(wt, 4, p), padding=1), want) for p in ("fp32", "fp16")}
    assert err["fp16"] > 20 * err["fp32"]


def test_rejects_shapes_it_does_not_compute():
    wt = np.zeros((4, 2, 3, 3), np.float32)
    x = np.zeros((1, 2, 8, 8), np.float32)
    with pytest.raises(ValueError, match="stride 1 and dilation 1"):
        K.conv2d(x, K.pack_winograd_weights(wt, 4), stride=2, padding=1)
    with pytest.raises(ValueError, match="3, 3"):
        K.pack_winograd_weights(np.zeros((4, 2, 5, 5), np.float32), 4)
    with pytest.raises(ValueError, match="m 2 or 4"):
        K.pack_winograd_weights(wt, 6)
    assert "winograd F(4,3)" in repr(K.pack_winograd_weights(wt, 4))


def test_scratch_and_block_sizes_are_reported():
    assert K.winograd_block_tiles(4, 64, 64) % 8 == 0
    assert K.winograd_scratch_floats(4, 64, 56, 56, 64, 1) >= 64 * 58 * 58
