"""Every `core` op's numpy reference against an independent PyTorch (or plain numpy) computation."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

from mlir_coreml.ir.dialects import core  # noqa: E402
from tests.codegen.helpers import Const, rel_err, run_reference, single_op  # noqa: E402

RNG = np.random.default_rng(0)


def randn(*shape, dtype=np.float32):
    return RNG.standard_normal(shape).astype(dtype)


def t(a):
    return torch.from_numpy(np.ascontiguousarray(a))


def close(got, ref, tol=1e-5):
    ref = ref.detach().numpy() if isinstance(ref, torch.Tensor) else np.asarray(ref)
    assert np.shape(got) == ref.shape, f"shape {np.shape(got)} vs {ref.shape}"
    assert rel_err(got, ref) <= tol, f"relative error {rel_err(got, ref)}"


# ------------------------------------------------------------------------- elementwise

UNARY = [
    ("exp", torch.exp, None), ("exp2", torch.exp2, None), ("log", torch.log, "pos"), ("sqrt", torch.sqrt, "pos"),
    ("rsqrt", torch.rsqrt, "pos"), ("abs", torch.abs, None), ("neg", torch.neg, None),
    ("reciprocal", torch.reciprocal, "pos"), ("floor", torch.floor, None), ("ceil", torch.ceil, None),
    ("round", torch.round, None), ("sign", torch.sign, None), ("square", torch.square, None),
    ("sin", torch.sin, None), ("cos", torch.cos, None), ("tan", torch.tan, "unit"), ("asin", torch.asin, "unit"),
    ("acos", torch.acos, "unit"), ("atan", torch.atan, None), ("sinh", torch.sinh, None), ("cosh", torch.cosh, None),
    ("asinh", torch.asinh, None), ("acosh", torch.acosh, "above1"), ("atanh", torch.atanh, "unit"),
    ("erf", torch.erf, None),
]


def domain(kind, shape=(2, 3, 5)):
    x = randn(*shape) * 2
    if kind == "pos":
        return np.abs(x) + 0.1
    if kind == "unit":
        return np.tanh(x) * 0.9
    if kind == "above1":
        return np.abs(x) + 1.1
    return x


@pytest.mark.parametrize("name,fn,kind", UNARY, ids=[u[0] for u in UNARY])
def test_unary(name, fn, kind):
    x = domain(kind)
    if kind is None:
        x[0, 0, :3] = [0.5, 1.5, -2.5]  # rounding ties: half to even like torch
    cls = getattr(core, core.op_class_name(name))
    close(run_reference(cls, [x]), fn(t(x)), 2e-6)


def test_logical_not():
    x = RNG.random((4, 3)) > 0.5
    assert (run_reference(core.LogicalNotOp, [x]) == ~x).all()


BINARY = [("add", torch.add), ("sub", torch.sub), ("mul", torch.mul), ("div", torch.div),
          ("max", torch.maximum), ("min", torch.minimum), ("floor_div", lambda a, b: torch.div(a, b, rounding_mode="floor")),
          ("mod", torch.remainder)]
COMPARE = [("equal", torch.eq), ("not_equal", torch.ne), ("less", torch.lt), ("less_equal", torch.le),
           ("greater", torch.gt), ("greater_equal", torch.ge)]


@pytest.mark.parametrize("name,fn", BINARY, ids=[b[0] for b in BINARY])
def test_binary_broadcast(name, fn):
    a, b = randn(2, 1, 4), randn(3, 1) + 3.0
    close(run_reference(getattr(core, core.op_class_name(name)), [a, b]), fn(t(a), t(b)), 1e-6)


def test_pow():
    a, b = np.abs(randn(3, 4)) + 0.5, randn(4)
    close(run_reference(core.PowOp, [a, b]), torch.pow(t(a), t(b)), 1e-6)


@pytest.mark.parametrize("name,fn", COMPARE, ids=[c[0] for c in COMPARE])
def test_comparisons(name, fn):
    a, b = np.round(randn(3, 4)), np.round(randn(4))
    got = run_reference(getattr(core, core.op_class_name(name)), [a, b])
    assert got.dtype == np.bool_ and (got == fn(t(a), t(b)).numpy()).all()


def test_logical_binary():
    a, b = RNG.random((3, 4)) > 0.5, RNG.random((4,)) > 0.5
    assert (run_reference(core.LogicalAndOp, [a, b]) == (a & b)).all()
    assert (run_reference(core.LogicalOrOp, [a, b]) == (a | b)).all()
    assert (run_reference(core.LogicalXorOp, [a, b]) == (a ^ b)).all()


def test_where():
    c, a, b = RNG.random((2, 1, 4)) > 0.5, randn(3, 4), randn(1)
    close(run_reference(core.WhereOp, [c, a, b]), torch.where(t(c), t(a), t(b)), 0)


def test_cast():
    x = randn(3, 4) * 10
    assert (run_reference(core.CastOp, [x], {"to": "i32"}) == torch.from_numpy(x).to(torch.int32).numpy()).all()
    assert run_reference(core.CastOp, [x], {"to": "f16"}).dtype == np.float16


# ------------------------------------------------------------------------- activations

ACTIVATIONS = [
    (core.ReluOp, {}, F.relu),
    (core.ClipOp, {"alpha": -0.5, "beta": 0.7}, lambda x: torch.clamp(x, -0.5, 0.7)),
    (core.LeakyReluOp, {"alpha": 0.2}, lambda x: F.leaky_relu(x, 0.2)),
    (core.SigmoidOp, {}, torch.sigmoid),
    (core.HardSigmoidOp, {"alpha": 0.2, "beta": 0.5}, lambda x: torch.clamp(0.2 * x + 0.5, 0, 1)),
    (core.TanhOp, {}, torch.tanh),
    (core.ScaledTanhOp, {"alpha": 1.7, "beta": 0.6}, lambda x: 1.7 * torch.tanh(0.6 * x)),
    (core.GeluOp, {"mode": "exact"}, F.gelu),
    (core.GeluOp, {"mode": "tanh"}, lambda x: F.gelu(x, approximate="tanh")),
    (core.GeluOp, {"mode": "sigmoid"}, lambda x: x * torch.sigmoid(1.702 * x)),
    (core.SiluOp, {}, F.silu),
    (core.EluOp, {"alpha": 0.8}, lambda x: F.elu(x, 0.8)),
    (core.SoftplusOp, {}, F.softplus),
    (core.SoftsignOp, {}, F.softsign),
    (core.LinearActivationOp, {"alpha": 2.0, "beta": -1.0}, lambda x: 2 * x - 1),
    (core.ThresholdedReluOp, {"alpha": 0.3}, lambda x: F.threshold(x, 0.3, 0.0)),
]


@pytest.mark.parametrize("cls,attrs,fn", ACTIVATIONS, ids=[f"{a[0].name}{a[1].get('mode', '')}" for a in ACTIVATIONS])
def test_activation(cls, attrs, fn):
    x = randn(2, 3, 4, 5) * 3
    close(run_reference(cls, [x], attrs), fn(t(x).double()), 1e-6)


def test_prelu():
    x, s = randn(2, 3, 4, 4), randn(3)
    close(run_reference(core.PreluOp, [x, Const(s)]), F.prelu(t(x), t(s)), 1e-6)


# ------------------------------------------------------------------------- conv / linear / matmul

CONVS = [  # (N, C, H, W, Cout, K, stride, dilation, pads t/b/l/r, groups)
    (1, 3, 9, 9, 4, 3, 1, 1, (1, 1, 1, 1), 1),
    (2, 4, 10, 7, 6, 3, 2, 1, (0, 1, 2, 0), 2),
    (1, 6, 8, 8, 6, 3, 1, 2, (2, 2, 2, 2), 6),
    (1, 5, 7, 6, 3, (1, 2), (2, 1), 1, (0, 0, 0, 0), 1),
]


@pytest.mark.parametrize("case", CONVS)
def test_conv2d(case):
    n, c, h, w, cout, k, stride, dil, pads, groups = case
    kh, kw = (k, k) if isinstance(k, int) else k
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    x, wt, b = randn(n, c, h, w), randn(cout, c // groups, kh, kw), randn(cout)
    got = run_reference(core.Conv2dOp, {"input": x, "weight": Const(wt), "bias": Const(b), "residual": None},
                        {"strides": [sh, sw], "dilations": [dil, dil], "pads": list(pads), "groups": groups})
    pt, pb, pl, pr = pads
    ref = F.conv2d(F.pad(t(x), (pl, pr, pt, pb)), t(wt), t(b), stride=(sh, sw), dilation=dil, groups=groups)
    close(got, ref, 1e-5)


def test_conv2d_fused_epilogue():
    x, wt = randn(1, 4, 6, 6), randn(4, 4, 3, 3)
    res = randn(1, 4, 6, 6)
    got = run_reference(core.Conv2dOp, {"input": x, "weight": Const(wt), "bias": None, "residual": res},
                        {"pads": [1, 1, 1, 1], "activation": "elu", "alpha": 0.5})
    close(got, F.elu(F.conv2d(t(x), t(wt), padding=1) + t(res), 0.5), 1e-5)


def test_conv2d_f16_weights_compute_in_f32():
    x, wt = randn(1, 3, 5, 5), randn(2, 3, 3, 3).astype(np.float16)
    got = run_reference(core.Conv2dOp, {"input": x, "weight": Const(wt), "bias": None, "residual": None})
    assert got.dtype == np.float32
    close(got, F.conv2d(t(x), t(wt.astype(np.float32))), 1e-5)


@pytest.mark.parametrize("stride,pad,opad,dil,groups", [(2, 1, 1, 1, 1), (1, 0, 0, 2, 1), (3, 2, 2, 1, 2)])
def test_conv_transpose2d(stride, pad, opad, dil, groups):
    x, wt, b = randn(2, 4, 5, 6), randn(4, 3, 3, 3), randn(3 * groups)
    got = run_reference(core.ConvTranspose2dOp, [x, Const(wt), Const(b)],
                        {"strides": [stride] * 2, "pads": [pad] * 4, "output_padding": [opad] * 2,
                         "dilations": [dil] * 2, "groups": groups})
    ref = F.conv_transpose2d(t(x), t(wt), t(b), stride=stride, padding=pad, output_padding=opad,
                             dilation=dil, groups=groups)
    close(got, ref, 1e-5)


def test_linear():
    x, w, b, r = randn(2, 3, 8), randn(5, 8), randn(5), randn(2, 3, 5)
    got = run_reference(core.LinearOp, {"input": x, "weight": Const(w), "bias": Const(b), "residual": r},
                        {"activation": "gelu_tanh"})
    close(got, F.gelu(F.linear(t(x), t(w), t(b)) + t(r), approximate="tanh"), 1e-5)


@pytest.mark.parametrize("sa,sb,ta,tb", [((3, 4), (4, 5), False, False), ((2, 1, 4, 3), (5, 4, 6), True, False),
                                         ((7,), (2, 5, 7), False, True), ((2, 3, 4), (4,), False, False)])
def test_matmul(sa, sb, ta, tb):
    a, b = randn(*sa), randn(*sb)
    got = run_reference(core.MatmulOp, [a, b], {"transpose_a": ta, "transpose_b": tb})
    ta_, tb_ = t(a), t(b)
    if ta:
        ta_ = ta_.transpose(-1, -2)
    if tb:
        tb_ = tb_.transpose(-1, -2)
    close(got, torch.matmul(ta_, tb_), 1e-5)


# ------------------------------------------------------------------------- pooling / norms

@pytest.mark.parametrize("kind,k,s,p,ceil,exclude", [
    ("max", 3, 2, 1, False, True), ("max", 2, 2, 0, True, True), ("max", 3, 2, 1, True, True),
    ("avg", 3, 2, 1, False, True), ("avg", 3, 2, 1, False, False), ("avg", 3, 2, 1, True, False),
    ("avg", 2, 3, 1, True, True)])
def test_pool2d(kind, k, s, p, ceil, exclude):
    x = randn(2, 3, 9, 8)
    got = run_reference(core.Pool2dOp, [x], {"kind": kind, "kernel": [k, k], "strides": [s, s], "pads": [p] * 4,
                                            "ceil_mode": ceil, "exclude_padding": exclude})
    if kind == "max":
        ref = F.max_pool2d(t(x), k, s, p, ceil_mode=ceil)
    else:
        ref = F.avg_pool2d(t(x), k, s, p, ceil_mode=ceil, count_include_pad=not exclude)
    close(got, ref, 1e-6)


def test_global_pool():
    x = randn(2, 3, 5, 4)
    close(run_reference(core.GlobalPoolOp, [x], {"kind": "avg"}), t(x).mean((2, 3), keepdim=True), 1e-6)
    close(run_reference(core.GlobalPoolOp, [x], {"kind": "max"}), t(x).amax((2, 3), keepdim=True), 0)


@pytest.mark.parametrize("axis", [-1, 1, 0])
def test_softmax(axis):
    x = randn(3, 4, 5) * 4
    close(run_reference(core.SoftmaxOp, [x], {"axis": axis}), F.softmax(t(x).double(), axis), 1e-6)
    close(run_reference(core.LogSoftmaxOp, [x], {"axis": axis}), F.log_softmax(t(x).double(), axis), 1e-6)


def test_layer_norm():
    x, g, b = randn(2, 5, 6), randn(5, 6), randn(5, 6)
    got = run_reference(core.LayerNormOp, {"input": x, "gamma": Const(g), "beta": Const(b)},
                        {"axes": [-2, -1], "eps": 1e-5})
    close(got, F.layer_norm(t(x), (5, 6), t(g), t(b), 1e-5), 1e-5)
    got = run_reference(core.LayerNormOp, {"input": x, "gamma": None, "beta": None}, {"axes": [-1]})
    close(got, F.layer_norm(t(x), (6,)), 1e-5)


def test_batch_norm():
    x = randn(2, 3, 4, 4)
    mean, var, g, b = randn(3), np.abs(randn(3)) + 0.5, randn(3), randn(3)
    got = run_reference(core.BatchNormOp, [x, Const(mean), Const(var), Const(g), Const(b)], {"eps": 1e-3})
    close(got, F.batch_norm(t(x), t(mean), t(var), t(g), t(b), False, eps=1e-3), 1e-5)


def test_instance_norm():
    x, g, b = randn(2, 3, 5, 4), randn(3), randn(3)
    got = run_reference(core.InstanceNormOp, [x, Const(g), Const(b)], {"eps": 1e-5})
    close(got, F.instance_norm(t(x), weight=t(g), bias=t(b), eps=1e-5), 1e-5)


def test_l2_norm():
    x = randn(2, 3, 4)
    got = run_reference(core.L2NormOp, [x], {"axes": [1, 2], "eps": 1e-6})
    ref = x / np.sqrt((x.astype(np.float64) ** 2).sum(axis=(1, 2), keepdims=True) + 1e-6)
    close(got, ref, 1e-6)


@pytest.mark.parametrize("size", [3, 5])
def test_lrn(size):
    x = randn(2, 7, 3, 3)
    got = run_reference(core.LrnOp, [x], {"size": size, "alpha": 1e-2, "beta": 0.75, "k": 2.0})
    close(got, F.local_response_norm(t(x), size, 1e-2, 0.75, 2.0), 1e-5)


# ------------------------------------------------------------------------- shape ops

def test_reshape_transpose():
    x = randn(2, 3, 4)
    close(run_reference(core.ReshapeOp, [x], {"shape": [4, -1]}), t(x).reshape(4, -1), 0)
    close(run_reference(core.TransposeOp, [x], {"perm": [2, 0, 1]}), t(x).permute(2, 0, 1), 0)


def test_batch_matmul_and_broadcast_to():
    a, b = randn(2, 3, 4), randn(1, 4, 5)
    close(run_reference(core.BatchMatmulOp, [a, b]), torch.bmm(t(a), t(b).expand(2, 4, 5)), 1e-5)
    x = randn(3, 1)
    close(run_reference(core.BroadcastToOp, [x], {"shape": [2, 3, 4]}), t(x).expand(2, 3, 4), 0)


def test_concat_split():
    a, b = randn(2, 3, 4), randn(2, 5, 4)
    close(run_reference(core.ConcatOp, {"inputs": [a, b]}, {"axis": 1}), torch.cat([t(a), t(b)], 1), 0)
    parts = run_reference(core.SplitOp, [b], {"axis": 1, "sizes": [2, 3]})
    for got, ref in zip(parts, torch.split(t(b), [2, 3], 1)):
        close(got, ref, 0)


def test_slice():
    x = randn(4, 6, 5)
    got = run_reference(core.SliceOp, [x], {"begin": [1, -1, 0], "end": [4, -100, 5], "strides": [2, -2, 1]})
    close(got, x[1:4:2, -1::-2, 0:5], 0)


@pytest.mark.parametrize("mode,torch_mode", [("constant", "constant"), ("reflect", "reflect"), ("replicate", "replicate")])
def test_pad(mode, torch_mode):
    x = randn(1, 2, 4, 5)
    got = run_reference(core.PadOp, [x], {"pads": [0, 0, 0, 0, 1, 2, 3, 1], "mode": mode, "value": 0.5})
    kwargs = {"value": 0.5} if mode == "constant" else {}
    close(got, F.pad(t(x), (3, 1, 1, 2), mode=torch_mode, **kwargs), 0)


def test_tile():
    x = randn(2, 3)
    close(run_reference(core.TileOp, [x], {"reps": [2, 3]}), t(x).repeat(2, 3), 0)


def test_gather():
    x, idx = randn(4, 5, 3), np.array([[0, -1], [2, 4]], dtype=np.int32)
    got = run_reference(core.GatherOp, [x, idx], {"axis": 1})
    close(got, x[:, [[0, 4], [2, 4]]], 0)


def test_gather_nd():
    x = randn(3, 4, 5)
    idx = np.array([[0, 1], [2, 3], [1, -1]], dtype=np.int32)
    got = run_reference(core.GatherNdOp, [x, idx])
    close(got, np.stack([x[0, 1], x[2, 3], x[1, 3]]), 0)


@pytest.mark.parametrize("mode,coords,size", [("nearest", "asymmetric", (8, 12)), ("bilinear", "align_corners", (7, 9)),
                                              ("bilinear", "half_pixel", (10, 4)), ("nearest", "asymmetric", (5, 7))])
def test_upsample(mode, coords, size):
    x = randn(1, 2, 4, 6)
    got = run_reference(core.UpsampleOp, [x], {"size": list(size), "mode": mode, "coordinates": coords})
    if mode == "nearest":
        ref = F.interpolate(t(x), size=size, mode="nearest")
    else:
        ref = F.interpolate(t(x), size=size, mode="bilinear", align_corners=coords == "align_corners")
    close(got, ref, 1e-5)


# ------------------------------------------------------------------------- reductions & misc

REDUCE = [("sum", lambda x, a, k: x.sum(a, keepdim=k)), ("mean", lambda x, a, k: x.mean(a, keepdim=k)),
          ("max", lambda x, a, k: x.amax(a, keepdim=k)), ("min", lambda x, a, k: x.amin(a, keepdim=k)),
          ("prod", lambda x, a, k: x.prod(a[0], keepdim=k)),
          ("l1", lambda x, a, k: x.abs().sum(a, keepdim=k)),
          ("l2", lambda x, a, k: torch.linalg.vector_norm(x, 2, a, keepdim=k)),
          ("sum_square", lambda x, a, k: (x * x).sum(a, keepdim=k)),
          ("log_sum", lambda x, a, k: x.abs().sum(a, keepdim=k).log()),
          ("logsumexp", lambda x, a, k: torch.logsumexp(x, a, keepdim=k))]


@pytest.mark.parametrize("kind,fn", REDUCE, ids=[r[0] for r in REDUCE])
@pytest.mark.parametrize("keep", [False, True])
def test_reduce(kind, fn, keep):
    x = randn(3, 4, 5)
    if kind == "log_sum":
        x = np.abs(x)
    axes = [1] if kind == "prod" else [0, -1]
    close(run_reference(core.ReduceOp, [x], {"kind": kind, "axes": axes, "keepdims": keep}),
          fn(t(x).double(), tuple(axes) if kind != "prod" else axes, keep), 1e-6)


def test_reduce_all_axes():
    x = randn(3, 4)
    close(run_reference(core.ReduceOp, [x], {"kind": "sum"}), t(x).double().sum(), 1e-6)


def test_argmax_argmin_topk():
    x = randn(3, 6)
    got = run_reference(core.ArgmaxOp, [x], {"axis": 1})
    assert got.dtype == np.int32 and (got == t(x).argmax(1).numpy()).all()
    got = run_reference(core.ArgminOp, [x], {"axis": 0, "keepdims": True})
    assert (got == t(x).argmin(0, keepdim=True).numpy()).all()
    values, indices = run_reference(core.TopkOp, [x], {"k": 3, "axis": -1})
    ref = torch.topk(t(x), 3, -1)
    close(values, ref.values, 0)
    assert (indices == ref.indices.numpy()).all()
    values, _ = run_reference(core.TopkOp, [x], {"k": 2, "axis": 0, "largest": False})
    close(values, torch.topk(t(x), 2, 0, largest=False).values, 0)


@pytest.mark.parametrize("exclusive,reverse", [(False, False), (True, False), (False, True), (True, True)])
def test_cumsum(exclusive, reverse):
    x = randn(3, 5)
    got = run_reference(core.CumsumOp, [x], {"axis": 1, "exclusive": exclusive, "reverse": reverse})
    y = np.flip(x, 1) if reverse else x
    ref = torch.cumsum(t(y.copy()).double(), 1).numpy()
    if exclusive:
        ref = ref - y
    if reverse:
        ref = np.flip(ref, 1)
    close(got, ref, 1e-6)


def test_one_hot():
    idx = np.array([[0, 2], [3, 1]], dtype=np.int32)
    close(run_reference(core.OneHotOp, [idx], {"depth": 4}), F.one_hot(t(idx).long(), 4).float(), 0)
    got = run_reference(core.OneHotOp, [idx], {"depth": 4, "axis": 0, "on_value": 2.0, "off_value": -1.0})
    ref = np.moveaxis(np.where(F.one_hot(t(idx).long(), 4).numpy() == 1, 2.0, -1.0), -1, 0)
    close(got, ref, 0)


def test_range_fill_shape():
    got = run_reference(core.RangeOp, [Const(np.array(1.0, np.float32)), Const(np.array(4.0, np.float32)),
                                       Const(np.array(0.5, np.float32))])
    close(got, torch.arange(1.0, 4.0, 0.5), 0)
    close(run_reference(core.FillOp, [], {"shape": [2, 3], "value": 1.5}), torch.full((2, 3), 1.5), 0)
    assert run_reference(core.ShapeOp, [randn(2, 3, 4)]).tolist() == [2, 3, 4]


# ------------------------------------------------------------------------- recurrent

@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_recurrent(kind, bidirectional):
    torch.manual_seed(0)
    seq, batch, inp, hidden = 5, 2, 4, 3
    layer = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[kind](
        inp, hidden, bidirectional=bidirectional)
    d = 2 if bidirectional else 1
    suffixes = ["", "_reverse"][:d]

    def stack(name):
        return np.stack([getattr(layer, f"{name}_l0{s}").detach().numpy() for s in suffixes])

    x = randn(seq, batch, inp)
    h0 = randn(d, batch, hidden)
    operands = {"input": x, "w_ih": Const(stack("weight_ih")), "w_hh": Const(stack("weight_hh")),
                "b_ih": Const(stack("bias_ih")), "b_hh": Const(stack("bias_hh")), "h0": h0}
    cls = {"lstm": core.LstmOp, "gru": core.GruOp, "rnn": core.RnnOp}[kind]
    if kind == "lstm":
        c0 = randn(d, batch, hidden)
        operands["c0"] = c0
        y, (h, c) = layer(t(x), (t(h0), t(c0)))
        refs = (y, h, c)
    else:
        y, h = layer(t(x), t(h0))
        refs = (y, h)
    got = run_reference(cls, operands, {"direction": "bidirectional" if bidirectional else "forward"})
    for g, r in zip(got, refs):
        close(g, r, 1e-5)


def test_reverse_direction_without_states():
    torch.manual_seed(1)
    layer = torch.nn.GRU(3, 2)
    x = randn(4, 1, 3)
    operands = {"input": x, "w_ih": Const(layer.weight_ih_l0.detach().numpy()[None]),
                "w_hh": Const(layer.weight_hh_l0.detach().numpy()[None]), "b_ih": None, "b_hh": None, "h0": None}
    with torch.no_grad():
        layer.bias_ih_l0.zero_()
        layer.bias_hh_l0.zero_()
        y, h = layer(t(x[::-1].copy()))
    got_y, got_h = run_reference(core.GruOp, operands, {"direction": "reverse"})
    close(got_y, y.numpy()[::-1], 1e-5)
    close(got_h, h, 1e-5)


# ------------------------------------------------------------------------- flops, verification

def test_flops():
    _, conv, _ = single_op(core.Conv2dOp, {"input": randn(1, 4, 8, 8), "weight": Const(randn(6, 2, 3, 3)),
                                           "bias": None, "residual": None}, {"groups": 2, "pads": [1, 1, 1, 1]})
    assert conv.flops() == 2 * (6 * 8 * 8) * (2 * 3 * 3)
    _, lin, _ = single_op(core.LinearOp, {"input": randn(3, 8), "weight": Const(randn(5, 8)),
                                          "bias": None, "residual": None})
    assert lin.flops() == 2 * 3 * 5 * 8
    _, mm, _ = single_op(core.MatmulOp, [randn(2, 3, 4), randn(4, 5)])
    assert mm.flops() == 2 * 2 * 3 * 5 * 4
    _, add, _ = single_op(core.AddOp, [randn(2, 3), randn(3)])
    assert add.flops() == 6


@pytest.mark.parametrize("cls,operands,attrs,message", [
    (core.Conv2dOp, {"input": randn(1, 3, 4, 4), "weight": Const(randn(2, 4, 3, 3)), "bias": None, "residual": None},
     {}, "channels"),
    (core.AddOp, [randn(2, 3), randn(4)], {}, "do not broadcast"),
    (core.ReshapeOp, [randn(2, 3)], {"shape": [4, -1]}, "cannot reshape"),
    (core.TransposeOp, [randn(2, 3)], {"perm": [0, 0]}, "not a permutation"),
    (core.Pool2dOp, [randn(1, 1, 2, 2)], {"kernel": [3, 3]}, "larger than the padded input"),
    (core.SplitOp, [randn(4, 2)], {"axis": 0, "sizes": [1, 2]}, "do not add up"),
    (core.BatchMatmulOp, [randn(2, 3), randn(3, 2)], {}, "rank >= 3"),
    (core.BroadcastToOp, [randn(2, 3)], {"shape": [3, 3]}, "cannot broadcast"),
    (core.Conv2dOp, {"input": randn(1, 2, 4, 4), "weight": Const(randn(2, 2, 1, 1)), "bias": None, "residual": None},
     {"activation": "swish2"}, "unknown activation"),
])
def test_verify_errors(cls, operands, attrs, message):
    from mlir_coreml.ir.opdef import VerifyError

    with pytest.raises(VerifyError, match=message):
        single_op(cls, operands, attrs)
