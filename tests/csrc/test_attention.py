"""csrc attention and strided-copy kernels against numpy, on every dispatch path this CPU has."""
import numpy as np
import pytest

from mlir_coreml.csrc import _kernels as K

ORDER = ["portable", "avx2", "avx512"]
ISAS = ORDER[:ORDER.index(K.detect_isa()) + 1]


@pytest.fixture(params=ISAS)
def isa(request):
    K.force_isa(request.param)
    yield request.param
    K.force_isa(None)


def attention_ref(q, k, v, mask, scale):
    s = scale * (q.astype(np.float64) @ np.swapaxes(k, -1, -2))
    if mask is not None:
        s = s + mask
    p = np.exp(s - s.max(axis=-1, keepdims=True))
    return (p / p.sum(axis=-1, keepdims=True)) @ v


@pytest.mark.parametrize("B,H,Sq,Sk,E,Ev", [(1, 4, 64, 64, 32, 32), (2, 3, 7, 19, 5, 13), (1, 1, 1, 1, 1, 1),
                                            (1, 2, 33, 17, 24, 40)])
@pytest.mark.parametrize("mask_shape", [None, (1, 1, -1, -1), (-1, -1, -1, -1), (1, -1, 1, -1)])
def test_attention_matches_numpy(isa, B, H, Sq, Sk, E, Ev, mask_shape):
    """Heads interleaved in rows ([B, S, H, E], read through transposed views, as layout bshd)."""
    rng = np.random.default_rng(B * 1000 + Sq)
    x, y, z = (rng.standard_normal((B, S, H, n)).astype(np.float32) for S, n in ((Sq, E), (Sk, E), (Sk, Ev)))
    q, k, v = (a.transpose(0, 2, 1, 3) for a in (x, y, z))
    full = (B, H, Sq, Sk)
    mask = None if mask_shape is None else \
        rng.standard_normal([full[i] if d == -1 else 1 for i, d in enumerate(mask_shape)]).astype(np.float32)
    out = np.empty((B, Sq, H, Ev), np.float32)
    K.attention(q, k, v, mask, 0.3, out=out.transpose(0, 2, 1, 3))
    np.testing.assert_allclose(out.transpose(0, 2, 1, 3), attention_ref(q, k, v, mask, 0.3), rtol=1e-5, atol=1e-5)


def test_attention_saturated_scores_stay_finite():
    q = np.full((1, 1, 3, 4), 50.0, np.float32)
    k = np.full((1, 1, 5, 4), 50.0, np.float32)
    v = np.arange(20, dtype=np.float32).reshape(1, 1, 5, 4)
    np.testing.assert_allclose(K.attention(q, k, v, None, 1.0), attention_ref(q, k, v, None, 1.0), rtol=1e-5)


def test_attention_refuses_bad_shapes():
    q = np.zeros((1, 2, 3, 4), np.float32)
    with pytest.raises(ValueError, match="attention shapes"):
        K.attention(q, np.zeros((1, 2, 5, 3), np.float32), np.zeros((1, 2, 5, 4), np.float32))
    with pytest.raises(ValueError, match="contiguous in its last dim"):
        K.attention(q, q, np.zeros((1, 2, 4, 3), np.float32).transpose(0, 1, 3, 2))


@pytest.mark.parametrize("shared_b", [False, True])
def test_batched_matmul_matches_numpy(isa, shared_b):
    rng = np.random.default_rng(3)
    a = rng.standard_normal((3, 5, 37)).astype(np.float32)
    b = rng.standard_normal((37, 19) if shared_b else (3, 37, 19)).astype(np.float32)
    r = rng.standard_normal((3, 5, 19)).astype(np.float32)
    np.testing.assert_allclose(K.batched_matmul(a, b), a.astype(np.float64) @ b, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(K.batched_matmul(a, b, "relu", residual=r), np.maximum(a.astype(np.float64) @ b + r, 0),
                               rtol=1e-5, atol=1e-5)
