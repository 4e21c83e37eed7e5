"""csrc/norm.c against a float64 layer norm on every dispatch path this CPU has: row lengths
around the vector widths (double lanes: 4 and 8 wide, two accumulators), with and without
gamma/beta, rows far from zero mean (the two-pass variance keeps them exact)."""
import numpy as np
import pytest

from mlir_coreml.csrc import _kernels as K

ORDER = ["portable", "avx2", "avx512"]
ISAS = ORDER[:ORDER.index(K.detect_isa()) + 1]
RNG = np.random.default_rng(21)


def reference(x, n, gamma, beta, eps):
    r = x.astype(np.float64).reshape(-1, n)
    y = (r - r.mean(axis=1, keepdims=True)) / np.sqrt(r.var(axis=1, keepdims=True) + eps)
    if gamma is not None:
        y = y * gamma
    if beta is not None:
        y = y + beta
    return y.reshape(x.shape)


@pytest.mark.parametrize("n", [1, 3, 4, 7, 8, 9, 15, 16, 17, 37, 128, 1001])
@pytest.mark.parametrize("params", ["both", "gamma", "beta", "none"])
def test_matches_float64(isa, n, params):
    x = (RNG.standard_normal((5, n)) * 3 + 100).astype(np.float32)
    gamma = RNG.standard_normal(n).astype(np.float32) if params in ("both", "gamma") else None
    beta = RNG.standard_normal(n).astype(np.float32) if params in ("both", "beta") else None
    got = K.layer_norm(x, n, gamma, beta, 1e-5)
    np.testing.assert_allclose(got, reference(x, n, gamma, beta, 1e-5), rtol=2e-6, atol=2e-6)
