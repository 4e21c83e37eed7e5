"""csrc/gemm_rows.c, the row-major GEMM of linear layers (out[rows, M] = x[rows, K] @ W^T with
the fused epilogue), against numpy on every dispatch path this CPU has: row tails of every
tile height, column tails of the 16/32-wide panels, K not a multiple of 8 or 16, fp16 and
fp32 panels, every epilogue part."""
import numpy as np
import pytest

from mlir_coreml.csrc import _kernels as K

ORDER = ["portable", "avx2", "avx512"]
ISAS = ORDER[:ORDER.index(K.detect_isa()) + 1]
RNG = np.random.default_rng(11)


def gelu(y):
    from scipy.special import erf

    return 0.5 * y * (1 + erf(y / np.sqrt(2)))


ACTS = {"none": lambda y: y, "relu": lambda y: np.maximum(y, 0), "gelu": gelu,
        "gelu_tanh": lambda y: 0.5 * y * (1 + np.tanh(0.7978845608028654 * (y + 0.044715 * y ** 3))),
        "sigmoid": lambda y: 1 / (1 + np.exp(-y))}


def reference(x, w, bias, residual, act):
    y = x.astype(np.float64) @ w.astype(np.float64).T
    if bias is not None:
        y = y + bias
    if residual is not None:
        y = y + residual
    return ACTS[act](y)


def weights(M, K_, panels):
    w = RNG.standard_normal((M, K_)).astype(np.float32) / np.sqrt(K_)
    # fp16 panels hold fp16 values: compare against exactly what they store
    return w.astype(np.float16).astype(np.float32) if panels == "fp16" else w


@pytest.mark.parametrize("panels", ["fp16", "fp32"])
@pytest.mark.parametrize("rows", list(range(1, 18)) + [31, 64, 70])
def test_every_row_count(isa, panels, rows):
    M, K_ = 37, 21
    w, x = weights(M, K_, panels), RNG.standard_normal((rows, K_)).astype(np.float32)
    bias = RNG.standard_normal(M).astype(np.float32)
    residual = RNG.standard_normal((rows, M)).astype(np.float32)
    got = K.gemm_rows(K.pack_weights(w, panels), x, bias=bias, residual=residual, act="relu")
    np.testing.assert_allclose(got, reference(x, w, bias, residual, "relu"), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("panels", ["fp16", "fp32"])
@pytest.mark.parametrize("M", [1, 5, 8, 15, 16, 17, 31, 32, 33, 48, 100, 384])
@pytest.mark.parametrize("K_", [1, 3, 7, 8, 13, 16, 33, 128, 517])
def test_column_and_depth_tails(isa, panels, M, K_):
    rows = 9
    w, x = weights(M, K_, panels), RNG.standard_normal((rows, K_)).astype(np.float32)
    got = K.gemm_rows(K.pack_weights(w, panels), x)
    np.testing.assert_allclose(got, reference(x, w, None, None, "none"), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("act", sorted(ACTS))
@pytest.mark.parametrize("bias, residual", [(True, False), (False, True), (True, True), (False, False)])
def test_epilogues(isa, act, bias, residual):
    rows, M, K_ = 13, 45, 40
    w, x = weights(M, K_, "fp32"), RNG.standard_normal((rows, K_)).astype(np.float32)
    b = RNG.standard_normal(M).astype(np.float32) if bias else None
    r = RNG.standard_normal((rows, M)).astype(np.float32) if residual else None
    got = K.gemm_rows(K.pack_weights(w, "fp32"), x, bias=b, residual=r, act=act)
    np.testing.assert_allclose(got, reference(x, w, b, r, act), rtol=1e-4, atol=1e-5)


def test_writes_out_in_place_and_matches_the_column_gemm(isa):
    """The same products as mc_gemm on the transposed rows (the path it replaces)."""
    rows, M, K_ = 64, 128, 96
    w, x = weights(M, K_, "fp16"), RNG.standard_normal((rows, K_)).astype(np.float32)
    packed = K.pack_weights(w, "fp16")
    out = np.full((rows, M), np.nan, np.float32)
    assert K.gemm_rows(packed, x, out=out, act="gelu") is out
    np.testing.assert_allclose(out, K.gemm(packed, x.T, act="gelu").T, rtol=1e-5, atol=1e-5)


def test_threads_give_the_same_bits():
    rows, M, K_ = 64, 512, 256
    w, x = weights(M, K_, "fp32"), RNG.standard_normal((rows, K_)).astype(np.float32)
    packed = K.pack_weights(w, "fp32")
    before = K.get_num_threads()
    try:
        K.set_num_threads(1)
        one = K.gemm_rows(packed, x, act="gelu")
        K.set_num_threads(2)
        two = K.gemm_rows(packed, x, act="gelu")
    finally:
        K.set_num_threads(before)
    np.testing.assert_array_equal(one, two)


def test_refuses_bad_operands():
    packed = K.pack_weights(np.ones((4, 6), np.float32), "fp32")
    with pytest.raises(ValueError, match="rows, K=6"):
        K.gemm_rows(packed, np.ones((3, 5), np.float32))
    with pytest.raises(ValueError, match="residual"):
        K.gemm_rows(packed, np.ones((3, 6), np.float32), residual=np.ones((4, 3), np.float32))
    x = np.ones((4, 6), np.float32)
    with pytest.raises(ValueError, match="alias"):
        K.gemm_rows(packed, x, out=x.reshape(-1)[:16].reshape(4, 4))
