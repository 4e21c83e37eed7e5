"""fp32 weight panels: every GEMM / conv dispatch path on every ISA this CPU has, against float64
references with the weights NOT rounded to fp16 (an fp16 panel misses the tolerance by ~100x)."""
import numpy as np
import pytest

from mlir_coreml.csrc import _kernels as K
from tests.csrc.test_kernels import CONVT, DW, ISAS, PATH_CONVS, act_ref

TOL = 2e-5   # fp16 weight rounding alone gives ~5e-4 relative error on these problems


@pytest.fixture(params=ISAS)
def isa(request):
    K.force_isa(request.param)
    yield request.param
    K.force_isa(None)


def close32(got, ref):
    scale = max(np.abs(ref).max(), 1.0)
    np.testing.assert_allclose(got, ref, rtol=TOL, atol=TOL * scale)


def conv_ref64(x, w, b, stride, dil, pads, groups):
    torch = pytest.importorskip("torch")
    t, bt, l, r = pads
    xp = torch.nn.functional.pad(torch.from_numpy(x).double(), (l, r, t, bt))
    y = torch.nn.functional.conv2d(xp, torch.from_numpy(w).double(), torch.from_numpy(b).double(),
                                   stride=stride, dilation=dil, groups=groups)
    return y.numpy()


@pytest.mark.parametrize("m,k,n", [(7, 5, 3), (16, 32, 6), (64, 31, 25), (70, 700, 13), (33, 257, 97),
                                   (128, 33, 7)])
def test_gemm_fp32_panels(isa, m, k, n):
    rng = np.random.default_rng(m * 7 + k + n)
    w = rng.standard_normal((m, k)).astype(np.float32)
    x = rng.standard_normal((k, n)).astype(np.float32)
    b = rng.standard_normal(m).astype(np.float32)
    p = K.pack_weights(w, "fp32")
    assert p.f32 and p.data.dtype == np.float32
    close32(K.gemm(p, x, bias=b, act="gelu"), act_ref(w.astype(np.float64) @ x + b[:, None], "gelu", 0, 0))
    # the same weights in fp16 panels are measurably further off: the check above can fail
    err16 = np.abs(K.gemm(K.pack_weights(w), x, bias=b) - (w.astype(np.float64) @ x + b[:, None])).max()
    assert err16 > 10 * TOL


CONVS32 = list(PATH_CONVS) + [(c, c, h, w, k, s, d, p, c) for c, h, w, k, s, d, p in DW]


@pytest.mark.parametrize("cfg", CONVS32, ids=[f"conv{i}" for i in range(len(CONVS32))])
def test_conv_fp32_panels(isa, cfg):
    cin, cout, h, w, k, stride, dil, pads, groups = cfg
    rng = np.random.default_rng(cin * 1000 + cout * 10 + h)
    wt = (rng.standard_normal((cout, cin // groups) + k) * 0.2).astype(np.float32)
    b = rng.standard_normal(cout).astype(np.float32)
    x = rng.standard_normal((1, cin, h, w)).astype(np.float32)
    ref = conv_ref64(x, wt, b, stride, dil, pads, groups)
    r = rng.standard_normal(ref.shape).astype(np.float32)
    p = K.pack_conv_weights(wt, groups, "fp32")
    assert p.f32
    got = K.conv2d(x, p, bias=b, stride=stride, dilation=dil, padding=pads, act="relu", residual=r)
    close32(got, np.maximum(ref + r, 0))


@pytest.mark.parametrize("cfg", CONVT, ids=[f"convt{i}" for i in range(len(CONVT))])
def test_conv_transpose_fp32_panels(isa, cfg):
    torch = pytest.importorskip("torch")
    cin, cout, h, w, k, stride, dil, pads, opad, groups = cfg
    rng = np.random.default_rng(cin * 31 + cout + 1)
    wt = (rng.standard_normal((cin, cout // groups) + k) * 0.3).astype(np.float32)
    b = rng.standard_normal(cout).astype(np.float32)
    x = rng.standard_normal((1, cin, h, w)).astype(np.float32)
    full = torch.nn.functional.conv_transpose2d(torch.from_numpy(x).double(), torch.from_numpy(wt).double(),
                                                torch.from_numpy(b).double(), stride=stride, dilation=dil,
                                                output_padding=opad, groups=groups).numpy()
    t, bt, l, rr = pads
    ref = full[:, :, t:full.shape[2] - bt, l:full.shape[3] - rr]
    got = K.conv_transpose2d(x, K.pack_conv_transpose_weights(wt, groups, "fp32"), bias=b, stride=stride,
                             dilation=dil, padding=pads, output_padding=opad)
    close32(got, ref)


def test_unknown_panel_precision_is_refused():
    with pytest.raises(ValueError, match="precision must be 'fp16' or 'fp32'"):
        K.pack_weights(np.zeros((2, 2), np.float32), "fp64")
