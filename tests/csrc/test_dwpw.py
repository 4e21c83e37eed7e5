"""The fused depthwise + pointwise kernel (csrc/dwpw.c) on every ISA this CPU has, against the
two convolutions in float64: strides 1 and 2, kernels 3 and 5, padding 0..2, maps from one row
to several bands, channel counts off the vector widths, with both epilogues, batches, fp32 and
fp16 panels (fp16-exact weights, so both bounds are rounding of the fp32 arithmetic)."""
import itertools

import numpy as np
import pytest

from mlir_coreml.csrc import _kernels as K
from mlir_coreml.ir.dialects.core.elementwise import apply_activation
from tests.csrc.test_kernels import ISAS
from tests.csrc.test_winograd import rel_err


@pytest.fixture(params=ISAS)
def isa(request):
    K.force_isa(request.param)
    yield request.param
    K.force_isa(None)


def depthwise_ref64(x, w, stride, pad):
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    k = w.shape[-1]
    oh, ow = (xp.shape[2] - k) // stride + 1, (xp.shape[3] - k) // stride + 1
    out = np.zeros((x.shape[0], x.shape[1], oh, ow))
    for i, j in itertools.product(range(k), range(k)):
        out += xp[:, :, i:i + stride * oh:stride, j:j + stride * ow:stride] * w[None, :, 0, i, j, None, None]
    return out


CASES = [(n, c, cout, h, w, k, s, p) for n, c, cout, h, w, k, s, p in [
    (1, 3, 5, 1, 9, 3, 1, 1), (2, 17, 24, 7, 30, 3, 2, 1), (1, 96, 24, 30, 30, 3, 1, 1),
    (1, 32, 16, 45, 12, 5, 2, 2), (1, 8, 40, 9, 9, 3, 1, 0), (1, 144, 24, 56, 56, 3, 1, 1)]]


@pytest.mark.parametrize("panels", ["fp32", "fp16"])
@pytest.mark.parametrize("case", CASES, ids=[f"{c[1]}to{c[2]}_{c[3]}x{c[4]}_k{c[5]}s{c[6]}p{c[7]}" for c in CASES])
def test_matches_the_two_convolutions(isa, panels, case):
    n, c, cout, h, w, k, s, p = case
    rng = np.random.default_rng(c * 31 + h)
    x = rng.standard_normal((n, c, h, w)).astype(np.float32)
    wd = rng.standard_normal((c, 1, k, k)).astype(np.float16).astype(np.float32)
    wp = (rng.standard_normal((cout, c)) / np.sqrt(c)).astype(np.float16).astype(np.float32)
    bd, bp = rng.standard_normal(c).astype(np.float32), rng.standard_normal(cout).astype(np.float32)
    d = np.clip(depthwise_ref64(x, wd, s, p) + bd[None, :, None, None], 0, 6)
    want = np.einsum("oc,nchw->nohw", wp.astype(np.float64), d) + bp[None, :, None, None]
    res = rng.standard_normal(want.shape).astype(np.float32)
    want = apply_activation(want + res, "silu")
    got = K.depthwise_pointwise(x, K.pack_conv_weights(wd, c, panels), K.pack_weights(wp, panels), dw_bias=bd,
                                dw_act="relu6", bias=bp, act="silu", residual=res, stride=s, padding=p)
    assert rel_err(got, want) <= 1e-5


def test_refuses_mismatched_weights():
    wd = K.pack_conv_weights(np.zeros((8, 1, 3, 3), np.float32), 8)
    with pytest.raises(ValueError, match="one precision"):
        K.depthwise_pointwise(np.zeros((1, 8, 4, 4), np.float32), wd, K.pack_weights(np.zeros((4, 8)), "fp32"))
    with pytest.raises(ValueError, match="input must be"):
        K.depthwise_pointwise(np.zeros((1, 6, 4, 4), np.float32), wd, K.pack_weights(np.zeros((4, 8))))
