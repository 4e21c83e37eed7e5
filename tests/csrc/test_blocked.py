"""csrc/blocked.c: the NCHW16c reorders and the dense blocked convolution on every ISA this CPU
has (force_isa), fp16 and fp32 panels, against the NCHW numpy reference (ir/dialects/core)."""
import numpy as np
import pytest

from tests.csrc.test_kernels import ISAS, act_ref
from mlir_coreml.csrc import _kernels as K
from mlir_coreml.ir.dialects.core import conv2d_reference
from mlir_coreml.ir.dialects.core.blocked import from_blocked_array, to_blocked_array


@pytest.fixture(params=[(isa, panels) for isa in ISAS for panels in ("fp16", "fp32")],
                ids=lambda p: f"{p[0]}-{p[1]}")
def isa_panels(request):
    K.force_isa(request.param[0])
    yield request.param[1]
    K.force_isa(None)


@pytest.mark.parametrize("c,h,w", [(20, 5, 7), (16, 3, 3), (1, 2, 9), (48, 4, 4)])
def test_reorders_round_trip_with_zero_tail_lanes(c, h, w):
    x = np.random.default_rng(c).standard_normal((2, c, h, w)).astype(np.float32)
    b = K.to_blocked(x)
    np.testing.assert_array_equal(b, to_blocked_array(x))
    assert not b.reshape(2, -1, h, w, 16)[:, -1, ..., c % 16 or 16:].any()
    np.testing.assert_array_equal(K.from_blocked(b, c), x)


# C, Cout, H, W, kernel, stride, pads (t, b, l, r), dilation: tails of C and Cout, full and
# narrow tiles (12 / 6 wide), border taps, strides 1 / 2 / 3, asymmetric padding, dilation
GEOMETRIES = [
    (20, 24, 9, 13, 3, 1, (1, 1, 1, 1), 1),
    (16, 32, 8, 27, 3, 2, (1, 1, 1, 1), 1),
    (35, 17, 7, 7, 1, 1, (0, 0, 0, 0), 1),
    (8, 40, 11, 30, 3, 1, (0, 2, 1, 0), 2),
    (3, 16, 10, 10, 7, 3, (3, 3, 3, 3), 1),
    (64, 64, 6, 25, 3, 1, (1, 1, 1, 1), 1),
]


@pytest.mark.parametrize("geometry", GEOMETRIES, ids=lambda g: "C{}-Co{}-{}x{}-k{}-s{}".format(*g[:6]))
@pytest.mark.parametrize("act,alpha,beta,residual", [("none", 0, 0, False), ("relu", 0, 0, True),
                                                      ("sigmoid", 0, 0, True), ("clip", 0, 6, False)])
def test_conv2d_blocked_matches_the_nchw_reference(isa_panels, geometry, act, alpha, beta, residual):
    c, cout, h, w, k, stride, pads, dil = geometry
    rng = np.random.default_rng(c * 100 + cout)
    x = rng.standard_normal((2, c, h, w)).astype(np.float32)
    wt = (rng.standard_normal((cout, c, k, k)) / np.sqrt(c * k * k)).astype(np.float32)
    bias = rng.standard_normal(cout).astype(np.float32)
    seen = wt.astype(np.float16).astype(np.float32) if isa_panels == "fp16" else wt
    y = conv2d_reference(x, seen, (stride, stride), (dil, dil), pads).astype(np.float64) + bias[:, None, None]
    res = rng.standard_normal(y.shape).astype(np.float32) if residual else None
    if residual:
        y = y + res
    expected = act_ref(y, act, alpha, beta)
    packed = K.pack_conv_blocked_weights(wt, isa_panels)
    out = K.conv2d_blocked(K.to_blocked(x), packed, bias=bias, stride=stride, dilation=dil, padding=pads, act=act,
                           alpha=alpha, beta=beta, residual=None if res is None else to_blocked_array(res))
    assert out.shape == (2, -(-cout // 16), y.shape[2], y.shape[3], 16)
    assert not out[:, -1, ..., cout % 16 or 16:].any()   # tail lanes written as zeros
    np.testing.assert_allclose(from_blocked_array(out, cout), expected, rtol=1e-4, atol=1e-4)


def test_conv2d_blocked_is_identical_for_any_thread_count():
    rng = np.random.default_rng(7)
    x = K.to_blocked(rng.standard_normal((1, 64, 28, 28)).astype(np.float32))
    packed = K.pack_conv_blocked_weights(rng.standard_normal((96, 64, 3, 3)).astype(np.float32), "fp16")
    results = []
    for threads in (1, 2, 3):
        K.set_num_threads(threads)
        results.append(K.conv2d_blocked(x, packed, padding=1, act="relu"))
    K.set_num_threads(0)
    for r in results[1:]:
        np.testing.assert_array_equal(r, results[0])
