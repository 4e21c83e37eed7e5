"""The fp16 routines agree bit for bit with numpy on every half value and on hard floats."""
import numpy as np
import pytest

from mlir_coreml.csrc import _fp16

ALL_HALVES = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16).view(np.float16)


def hard_floats():
    rng = np.random.default_rng(0)
    bits = rng.integers(0, 1 << 32, size=200_000, dtype=np.uint64).astype(np.uint32)
    edges = np.array([0.0, -0.0, 65504.0, 65519.99, 65520.0, 6e-8, 2.98e-8, 5.96e-8, 6.1e-5,
                      np.inf, -np.inf, 1e-45, 3.0e38], dtype=np.float32)
    return np.concatenate([bits.view(np.float32), edges, ALL_HALVES.astype(np.float32)])


@pytest.mark.parametrize("portable", [False, True])
def test_half_to_float_matches_numpy_on_every_half(portable):
    got = _fp16.half_to_float(ALL_HALVES, portable=portable)
    want = ALL_HALVES.astype(np.float32)
    same = (got.view(np.uint32) == want.view(np.uint32)) | (np.isnan(got) & np.isnan(want))
    assert same.all()


@pytest.mark.parametrize("portable", [False, True])
def test_float_to_half_rounds_like_numpy(portable):
    x = hard_floats()
    got = _fp16.float_to_half(x, portable=portable)
    want = x.astype(np.float16)
    same = (got.view(np.uint16) == want.view(np.uint16)) | (np.isnan(got) & np.isnan(want))
    assert same.all(), x[~same][:10]


def test_shape_is_kept():
    x = np.ones((2, 3, 5), np.float32)
    assert _fp16.float_to_half(x).shape == (2, 3, 5)
    assert _fp16.half_to_float(x.astype(np.float16)).shape == (2, 3, 5)
