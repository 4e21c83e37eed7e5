"""Rank, shape, flexible-shape and weight-dtype sweep of the N-D layer kinds through bundles.

The per-layer tests (tests/frontend/test_mlmodel_import.py, run through bundles by
test_espresso_forms.py) pin each kind's semantics, mostly at one shape. Here one NeuralNetworkBuilder
model per rank (1 to 5) holds every kind of the tables (about 50 N-D kinds, parameters chosen per
rank), its input declared with a shape range; the `.mlmodel`, and the bundle `lower` writes from it,
must give numpy's values at the declared shape (float32 feed) and at another allowed one (float64
feed). Weighted N-D kinds run with fp32 and fp16 weights; classic (rank-5 blob) kinds on a [C, H, W]
range at three shapes.
"""
from __future__ import annotations

import numpy as np
import pytest

import mlir_coreml
from mlir_coreml.codegen.lower import lower_model

ct = pytest.importorskip("coremltools")
from coremltools.models import datatypes  # noqa: E402
from coremltools.models.neural_network import NeuralNetworkBuilder  # noqa: E402
from coremltools.models.neural_network import flexible_shape_utils as flexible  # noqa: E402

SHAPES = {1: (7,), 2: (3, 5), 3: (2, 3, 4), 4: (2, 1, 3, 4), 5: (1, 2, 3, 2, 3)}


def _unary(method, **kw):
    return lambda b, name, x, out: getattr(b, method)(name, x, out, **kw)


def _binary(method, **kw):  # the input with itself reversed: two different operands of one shape
    return lambda b, name, x, out: getattr(b, method)(name, [x, "x_rev"], out, **kw)


# layer kind -> (add the layer from input blob `x` to `out`, numpy of x (inputs in (0.1, 0.9)))
KINDS = {
    "acos": (_unary("add_acos"), np.arccos), "asin": (_unary("add_asin"), np.arcsin),
    "atan": (_unary("add_atan"), np.arctan), "atanh": (_unary("add_atanh"), np.arctanh),
    "asinh": (_unary("add_asinh"), np.arcsinh), "cos": (_unary("add_cos"), np.cos),
    "sin": (_unary("add_sin"), np.sin), "tan": (_unary("add_tan"), np.tan), "cosh": (_unary("add_cosh"), np.cosh),
    "sinh": (_unary("add_sinh"), np.sinh), "tanh": (_unary("add_tanh"), np.tanh),
    "ceil": (_unary("add_ceil"), np.ceil), "floor": (_unary("add_floor"), np.floor),
    "round": (_unary("add_round"), np.round), "sign": (_unary("add_sign"), np.sign),
    "exp2": (_unary("add_exp2"), np.exp2), "erf": (_unary("add_erf"), None),
    "clip": (_unary("add_clip", min_value=0.3, max_value=0.6), lambda x: np.clip(x, 0.3, 0.6)),
    "clampedReLU": (_unary("add_clamped_relu", alpha=0.5, beta=0.7),
                    lambda x: np.minimum(np.where(x > 0, x, 0.5 * x), 0.7)),
    "softmaxND": (_unary("add_softmax_nd", axis=-1),
                  lambda x: np.exp(x) / np.exp(x).sum(-1, keepdims=True)),
    "reduceSum": (_unary("add_reduce_sum", axes=[-1]), lambda x: x.sum(-1, keepdims=True)),
    "reduceMean": (_unary("add_reduce_mean", axes=[-1]), lambda x: x.mean(-1, keepdims=True)),
    "reduceMax": (_unary("add_reduce_max", axes=[0]), lambda x: x.max(0, keepdims=True)),
    "reduceProd": (_unary("add_reduce_prod", axes=[-1]), lambda x: x.prod(-1, keepdims=True)),
    "reduceLogSumExp": (_unary("add_reduce_logsumexp", axes=[-1]),
                        lambda x: np.log(np.exp(x).sum(-1, keepdims=True))),
    "cumSum": (lambda b, name, x, out: b.add_cumsum(name, [x], out, axis=-1), lambda x: np.cumsum(x, -1)),
    "addBroadcastable": (_binary("add_add_broadcastable"), lambda x: x + x[..., ::-1]),
    "multiplyBroadcastable": (_binary("add_multiply_broadcastable"), lambda x: x * x[..., ::-1]),
    "subtractBroadcastable": (_binary("add_subtract_broadcastable"), lambda x: x - x[..., ::-1]),
    "divideBroadcastable": (_binary("add_divide_broadcastable"), lambda x: x / x[..., ::-1]),
    "maxBroadcastable": (_binary("add_max_broadcastable"), lambda x: np.maximum(x, x[..., ::-1])),
    "minBroadcastable": (_binary("add_min_broadcastable"), lambda x: np.minimum(x, x[..., ::-1])),
    "powBroadcastable": (_binary("add_pow_broadcastable"), lambda x: x ** x[..., ::-1]),
    "greaterThan": (_binary("add_greater_than"), lambda x: (x > x[..., ::-1]).astype(np.float32)),
    "lessEqual": (_binary("add_less_than", use_less_than_equal=True),
                  lambda x: (x <= x[..., ::-1]).astype(np.float32)),
    "equal": (_binary("add_equal"), lambda x: (x == x[..., ::-1]).astype(np.float32)),
}

# kinds whose parameters depend on the rank: rank -> {kind: (add, numpy)}, merged into KINDS per model
def _rank_kinds(rank: int) -> dict:
    kinds = {
        "argMin": (_unary("add_argmin", axis=-1), lambda x: np.argmin(x, -1)[..., None]),
        "argSort": (_unary("add_argsort", axis=-1), lambda x: np.argsort(x, -1, kind="stable")),
        "reduceL1": (_unary("add_reduce_l1", axes=[-1]), lambda x: np.abs(x).sum(-1, keepdims=True)),
        "reduceL2": (_unary("add_reduce_l2", axes=[0]), lambda x: np.sqrt((x * x).sum(0, keepdims=True))),
        "reduceLogSum": (_unary("add_reduce_logsum", axes=[-1]), lambda x: np.log(x.sum(-1, keepdims=True))),
        "reduceMin": (_unary("add_reduce_min", axes=[-1]), lambda x: x.min(-1, keepdims=True)),
        "reduceSumSquare": (_unary("add_reduce_sumsquare", axes=[-1]), lambda x: (x * x).sum(-1, keepdims=True)),
        "concatND": (_binary("add_concat_nd", axis=-1), lambda x: np.concatenate([x, x[..., ::-1]], -1)),
        "tile": (_unary("add_tile", reps=[2] + [1] * (rank - 1)), lambda x: np.tile(x, [2] + [1] * (rank - 1))),
        "transpose": (lambda b, name, x, out: b.add_transpose(name, list(reversed(range(rank))), x, out),
                      lambda x: x.transpose()),
    }
    if rank < 5:  # a rank-6 result is beyond Core ML's blobs
        kinds.update({
            "stack": (_binary("add_stack", axis=0), lambda x: np.stack([x, x[..., ::-1]], 0)),
            "expandDims": (_unary("add_expand_dims", axes=[0]), lambda x: x[None]),
        })
    if rank >= 2:
        kinds.update({
            "lowerTriangular": (_unary("add_lower_triangular", k=0), lambda x: np.tril(x)),
            "upperTriangular": (_unary("add_upper_triangular", k=1), lambda x: np.triu(x, 1)),
            "matrixBandPart": (_unary("add_matrix_band_part", num_lower=1, num_upper=0),
                               lambda x: np.triu(np.tril(x), -1)),
            "flattenTo2D": (_unary("add_flatten_to_2d", axis=1), lambda x: x.reshape(x.shape[0], -1)),
        })
    return kinds


def _sweep_kinds(rank: int) -> dict:
    return {**KINDS, **_rank_kinds(rank)}


def _sweep_model(rank: int, folder) -> str:
    shape = SHAPES[rank]
    outputs = [(f"y_{kind}", None) for kind in _sweep_kinds(rank)]
    builder = NeuralNetworkBuilder([("x", datatypes.Array(*shape))], outputs, disable_rank5_shape_mapping=True)
    builder.add_reverse("rev", "x", "x_rev", reverse_dim=[i == rank - 1 for i in range(rank)])
    for kind, (add, _) in _sweep_kinds(rank).items():
        add(builder, kind, "x", f"y_{kind}")
    spec = builder.spec
    flexible.set_multiarray_ndshape_range(spec, "x", lower_bounds=list(shape), upper_bounds=[d + 2 for d in shape])
    path = f"{folder}/sweep_rank{rank}.mlmodel"
    ct.utils.save_spec(spec, path)
    return path


@pytest.mark.parametrize("rank", sorted(SHAPES))
def test_nd_kinds_at_every_rank_and_allowed_shape(tmp_path, rank):
    from scipy.special import erf

    source = _sweep_model(rank, tmp_path)
    bundle = tmp_path / "sweep.mlmodelc"
    lower_model(source, bundle)
    models = [mlir_coreml.compile_model(str(p)) for p in (source, bundle)]
    rng = np.random.default_rng(rank)
    dtypes = {}
    # the declared shape fed as float32, another allowed one as float64 (a DOUBLE feature takes both)
    for shape, dtype in ((SHAPES[rank], np.float32), (tuple(d + 1 for d in SHAPES[rank]), np.float64)):
        x = rng.uniform(0.1, 0.9, shape).astype(dtype)
        for model, what in zip(models, ("source", "bundle")):
            out = model.predict({"x": x})
            assert list(out) == [f"y_{kind}" for kind in _sweep_kinds(rank)], what
            assert dtypes.setdefault(shape, {k: v.dtype for k, v in out.items()}) == {k: v.dtype for k, v in out.items()}
            for kind, (_, reference) in _sweep_kinds(rank).items():
                want = (reference or erf)(x.astype(np.float64))
                got = out[f"y_{kind}"]
                assert got.shape == want.shape, f"{what} {kind} at {shape}"
                np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5, err_msg=f"{what} {kind} at {shape}")


# weighted N-D kinds at ranks 2 and 3 (an N-D inner product of rank 4+ flattens C*H*W), fp32 and fp16 weights
@pytest.mark.parametrize("fp16", [False, True], ids=["fp32", "fp16"])
@pytest.mark.parametrize("rank", [2, 3])
def test_weighted_nd_kinds_at_ranks_and_weight_dtypes(tmp_path, rank, fp16):
    from coremltools.models.utils import _convert_neural_network_spec_weights_to_fp16 as to_fp16

    shape = SHAPES[rank][:-1] + (6,)
    rng = np.random.default_rng(10 + rank)
    w = rng.standard_normal((4, 6)).astype(np.float32)
    bias = rng.standard_normal(4).astype(np.float32)
    const = rng.standard_normal(shape[:-1] + (4,)).astype(np.float32)
    gamma, beta = rng.standard_normal(6).astype(np.float32), rng.standard_normal(6).astype(np.float32)
    builder = NeuralNetworkBuilder([("x", datatypes.Array(*shape))], [("dense", None), ("matmul", None),
                                                                       ("norm", None)],
                                   disable_rank5_shape_mapping=True)
    builder.add_inner_product("fc", w, bias, 6, 4, True, "x", "fc_out")
    builder.add_load_constant_nd("k", "k_out", const, const.shape)
    builder.add_add_broadcastable("plus", ["fc_out", "k_out"], "dense")
    builder.add_batched_mat_mul("bmm", ["x"], "matmul", weight_matrix_rows=6, weight_matrix_columns=4,
                                W=w.T.copy(), bias=bias)
    builder.add_layer_normalization("ln", "x", "norm", [6], gamma, beta, eps=1e-5)
    spec = to_fp16(builder.spec) if fp16 else builder.spec
    source = str(tmp_path / "weighted.mlmodel")
    ct.utils.save_spec(spec, source)
    bundle = tmp_path / "weighted.mlmodelc"
    lower_model(source, bundle)
    x = rng.standard_normal(shape).astype(np.float32)
    w16 = w.astype(np.float16).astype(np.float32) if fp16 else w
    mean, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    want = {"dense": x @ w16.T + bias + const, "matmul": x @ w16.T + bias,
            "norm": (x - mean) / np.sqrt(var + 1e-5) * gamma + beta}
    tolerance = 3e-2 if fp16 else 1e-4
    for path in (source, bundle):
        out = mlir_coreml.compile_model(str(path)).predict({"x": x})
        assert list(out) == list(want), path
        for name, value in want.items():
            assert out[name].shape == value.shape, f"{path}: {name}"
            np.testing.assert_allclose(out[name], value, rtol=0, atol=tolerance * max(1.0, np.abs(value).max()),
                                       err_msg=f"{path}: {name}")


# classic (rank-5 blob) kinds on a [C, H, W] input with a shape range: layer kind -> add it from `x` to `out`
CLASSIC_KINDS = {
    "upsample": lambda b, name, x, out: b.add_upsample(name, 2, 2, x, out, mode="NN"),
    "lrn": lambda b, name, x, out: b.add_lrn(name, x, out, alpha=1e-2, beta=0.75, local_size=3, k=1.0),
    "l2normalize": lambda b, name, x, out: b.add_l2_normalize(name, x, out),
    "mvn": lambda b, name, x, out: b.add_mvn(name, x, out, across_channels=False, normalize_variance=True),
    "unary": lambda b, name, x, out: b.add_unary(name, x, out, mode="sqrt"),
    "activation": lambda b, name, x, out: b.add_activation(name, "ELU", x, out, params=0.5),
    "pooling": lambda b, name, x, out: b.add_pooling(name, 2, 2, 1, 1, "AVERAGE", "SAME", x, out),
    "padding": lambda b, name, x, out: b.add_padding(name, 1, 2, 0, 1, value=0.5, input_name=x, output_name=out),
    "softmax": lambda b, name, x, out: b.add_softmax(name, x, out),
    "permute": lambda b, name, x, out: b.add_permute(name, (0, 2, 3, 1), x, out),
    "reduce": lambda b, name, x, out: b.add_reduce(name, x, out, axis="HW", mode="max"),
}


@pytest.mark.parametrize("fp16", [False, True], ids=["fp32", "fp16"])
def test_classic_kinds_at_other_allowed_shapes(tmp_path, fp16):
    """Source and bundle agree at the declared [C, H, W] shape and at other sizes of the range."""
    from coremltools.models.utils import _convert_neural_network_spec_weights_to_fp16 as to_fp16

    outputs = [(f"y_{kind}", None) for kind in CLASSIC_KINDS]
    builder = NeuralNetworkBuilder([("x", datatypes.Array(3, 4, 6))], outputs)
    for kind, add in CLASSIC_KINDS.items():
        add(builder, kind, "x", f"y_{kind}")
    ranges = flexible.NeuralNetworkMultiArrayShapeRange()
    ranges.add_channel_range((3, 3))
    ranges.add_height_range((2, 10))
    ranges.add_width_range((4, -1))
    spec = builder.spec
    flexible.update_multiarray_shape_range(spec, "x", ranges)
    source = str(tmp_path / "classic.mlmodel")
    ct.utils.save_spec(to_fp16(spec) if fp16 else spec, source)
    bundle = tmp_path / "classic.mlmodelc"
    lower_model(source, bundle)
    models = [mlir_coreml.compile_model(str(p)) for p in (source, bundle)]
    rng = np.random.default_rng(int(fp16))
    for shape in ((3, 4, 6), (3, 2, 9), (3, 10, 4)):
        x = rng.uniform(0.1, 2.0, shape).astype(np.float32)
        want, got = (model.predict({"x": x}) for model in models)
        assert list(got) == list(want) == [name for name, _ in outputs]
        for name, value in want.items():
            assert (got[name].shape, got[name].dtype) == (value.shape, value.dtype), f"{name} at {shape}"
            np.testing.assert_allclose(got[name], value, rtol=1e-5, atol=1e-5, err_msg=f"{name} at {shape}")


def test_branch_at_other_allowed_shapes(tmp_path):
    """Control flow (a branch holding nested networks) in a bundle retyped for another allowed shape."""
    builder = NeuralNetworkBuilder([("x", datatypes.Array(2, 3)), ("c", datatypes.Array(1))], [("y", None)],
                                   disable_rank5_shape_mapping=True)
    branch = builder.add_branch("br", "c")
    NeuralNetworkBuilder(nn_spec=branch.branch.ifBranch, disable_rank5_shape_mapping=True) \
        .add_activation("relu", "RELU", "x", "y")
    NeuralNetworkBuilder(nn_spec=branch.branch.elseBranch, disable_rank5_shape_mapping=True) \
        .add_activation("neg", "LINEAR", "x", "y", params=[-1.0, 0.0])
    spec = builder.spec
    flexible.set_multiarray_ndshape_range(spec, "x", lower_bounds=[2, 3], upper_bounds=[4, 6])
    source = str(tmp_path / "branch.mlmodel")
    ct.utils.save_spec(spec, source)
    lower_model(source, tmp_path / "branch.mlmodelc")
    rng = np.random.default_rng(7)
    for path in (source, tmp_path / "branch.mlmodelc"):
        model = mlir_coreml.compile_model(str(path))
        for shape, condition in (((2, 3), 1.0), ((4, 5), 0.0), ((3, 6), 1.0)):
            x = rng.standard_normal(shape).astype(np.float32)
            y = model.predict({"x": x, "c": np.array([condition], np.float32)})["y"]
            np.testing.assert_allclose(y, np.maximum(x, 0) if condition else -x, err_msg=f"{path} at {shape}")
