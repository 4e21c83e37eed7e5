"""NeuralNetwork layers through `compile_model(...).predict`, built the way coremltools' own
NeuralNetwork tests build them: a NeuralNetworkBuilder with one or a few layers, random inputs,
a numpy expectation. Families of layers share one model per rank (one output per layer), so
many layer kinds x ranks cost few compiles; the cases of issue 18 (outputs that forward their
input, flexible shapes, quantized weights, tensors given as inputs, tile / split / upsample
semantics) each get their own model."""
from __future__ import annotations

import numpy as np
import pytest

from tests.runtime.nn_builder import builder, predict, save

ct = pytest.importorskip("coremltools")
from coremltools.models.neural_network import flexible_shape_utils  # noqa: E402

from mlir_coreml import MlirCoremlError  # noqa: E402
from mlir_coreml.runtime.predict import compile_model  # noqa: E402

RNG = np.random.default_rng(18)
SHAPES = {1: (5,), 2: (3, 4), 3: (2, 3, 4), 4: (2, 1, 3, 4), 5: (1, 2, 2, 3, 2)}


def rand(shape, low=-2.0, high=2.0):
    return RNG.uniform(low, high, size=shape).astype(np.float32)


def check(out: dict, expected: dict, rtol=1e-4, atol=1e-5):
    for name, want in expected.items():
        got = out[name]
        want = np.asarray(want)
        assert got.shape == want.shape, (name, got.shape, want.shape)
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=name)


# -- families, one model per rank ----------------------------------------------------------------

def erf(x):
    from math import erf as scalar_erf

    return np.vectorize(scalar_erf)(x.astype(np.float64))


UNARY = {
    # layer: (builder method, numpy, input range)
    "ceil": ("add_ceil", np.ceil, (-3, 3)),
    "floor": ("add_floor", np.floor, (-3, 3)),
    "sign": ("add_sign", np.sign, (-3, 3)),
    "round": ("add_round", np.round, (-3, 3)),
    "exp2": ("add_exp2", np.exp2, (-3, 3)),
    "sin": ("add_sin", np.sin, (-3, 3)),
    "cos": ("add_cos", np.cos, (-3, 3)),
    "tan": ("add_tan", np.tan, (-1, 1)),
    "asin": ("add_asin", np.arcsin, (-0.9, 0.9)),
    "acos": ("add_acos", np.arccos, (-0.9, 0.9)),
    "atan": ("add_atan", np.arctan, (-3, 3)),
    "sinh": ("add_sinh", np.sinh, (-2, 2)),
    "cosh": ("add_cosh", np.cosh, (-2, 2)),
    "tanh": ("add_tanh", np.tanh, (-2, 2)),
    "asinh": ("add_asinh", np.arcsinh, (-2, 2)),
    "acosh": ("add_acosh", np.arccosh, (1.1, 3)),
    "atanh": ("add_atanh", np.arctanh, (-0.9, 0.9)),
    "erf": ("add_erf", erf, (-2, 2)),
}


@pytest.mark.parametrize("rank", sorted(SHAPES))
def test_unary_layers(rank, tmp_path):
    inputs = {f"x_{name}": rand(SHAPES[rank], *limits) for name, (_, _, limits) in UNARY.items()}
    b = builder({k: v.shape for k, v in inputs.items()}, outputs=list(UNARY))
    for name, (method, _, _) in UNARY.items():
        getattr(b, method)(name, f"x_{name}", name)
    out = predict(b, tmp_path, inputs)
    check(out, {name: fn(inputs[f"x_{name}"]) for name, (_, fn, _) in UNARY.items()})


BINARY = {
    "add": ("add_add_broadcastable", np.add),
    "sub": ("add_subtract_broadcastable", np.subtract),
    "mul": ("add_multiply_broadcastable", np.multiply),
    "div": ("add_divide_broadcastable", np.divide),
    "max": ("add_max_broadcastable", np.maximum),
    "min": ("add_min_broadcastable", np.minimum),
    "floordiv": ("add_floor_div_broadcastable", np.floor_divide),
    "mod": ("add_mod_broadcastable", np.mod),
    "pow": ("add_pow_broadcastable", np.power),
}


@pytest.mark.parametrize("rank", sorted(SHAPES))
def test_broadcastable_binary_layers(rank, tmp_path):
    shape = SHAPES[rank]
    other = (1,) * (rank - 1) + shape[-1:] if rank > 1 else (1,)  # broadcasts over the leading axes
    inputs = {"a": rand(shape, 0.5, 2.0), "b": rand(other, 0.5, 2.0)}
    b = builder({k: v.shape for k, v in inputs.items()}, outputs=list(BINARY) + ["eq", "lt", "where"])
    for name, (method, _) in BINARY.items():
        getattr(b, method)(name, ["a", "b"], name)
    b.add_equal("eq", ["a", "b"], "eq")
    b.add_less_than("lt", ["a", "b"], "lt")
    b.add_where_broadcastable("where", ["lt", "a", "b"], "where")
    out = predict(b, tmp_path, inputs)
    a, c = inputs["a"], inputs["b"]
    expected = {name: fn(a, c) for name, (_, fn) in BINARY.items()}
    expected.update(eq=(a == c).astype(np.float32), lt=(a < c).astype(np.float32), where=np.where(a < c, a, c))
    check(out, expected)


REDUCTIONS = {
    "sum": ("add_reduce_sum", np.sum), "mean": ("add_reduce_mean", np.mean), "prod": ("add_reduce_prod", np.prod),
    "max": ("add_reduce_max", np.max), "min": ("add_reduce_min", np.min),
    "l1": ("add_reduce_l1", lambda x, **k: np.abs(x).sum(**k)),
    "l2": ("add_reduce_l2", lambda x, **k: np.sqrt((x * x).sum(**k))),
    "sumsquare": ("add_reduce_sumsquare", lambda x, **k: (x * x).sum(**k)),
    "logsum": ("add_reduce_logsum", lambda x, **k: np.log(x.sum(**k))),
    "logsumexp": ("add_reduce_logsumexp", lambda x, **k: np.log(np.exp(x).sum(**k))),
}


@pytest.mark.parametrize("keepdims", [True, False])
@pytest.mark.parametrize("rank", [2, 3, 4])
def test_reduce_layers(rank, keepdims, tmp_path):
    x = rand(SHAPES[rank], 0.5, 1.5)
    axes = [-1] if rank == 2 else [0, -1]
    names = [f"{n}_{mode}" for n in REDUCTIONS for mode in ("axes", "all")]
    b = builder({"x": x.shape}, outputs=names)
    expected = {}
    for name, (method, fn) in REDUCTIONS.items():
        getattr(b, method)(f"{name}_axes", "x", f"{name}_axes", axes=axes, keepdims=keepdims)
        getattr(b, method)(f"{name}_all", "x", f"{name}_all", keepdims=keepdims, reduce_all=True)
        expected[f"{name}_axes"] = fn(x.astype(np.float64), axis=tuple(axes), keepdims=keepdims)
        full = fn(x.astype(np.float64), axis=None, keepdims=keepdims)
        expected[f"{name}_all"] = full if keepdims else np.reshape(full, (1,))
    check(predict(b, tmp_path, {"x": x}), expected, rtol=1e-4)


@pytest.mark.parametrize("rank", [2, 3, 4, 5])
def test_shape_layers(rank, tmp_path):
    """Layers that move data around, at every rank; several forward their input unchanged
    (identity transpose / reshape, full slices), which must keep their output names."""
    shape = SHAPES[rank]
    x = rand(shape)
    perm = list(range(rank))[::-1]
    outs = ["transpose", "transpose_id", "reshape", "reshape_same", "flatten", "reverse", "slice", "slice_all",
            "expand", "squeeze", "tile", "tile_short", "concat", "split0", "split1", "softmax", "argmax", "cumsum",
            "copy", "shape", "band", "fill_like", "broadcast"]
    b = builder({"x": shape}, outputs=outs)
    b.add_transpose("transpose", perm, "x", "transpose")
    b.add_transpose("transpose_id", list(range(rank)), "x", "transpose_id")
    b.add_reshape_static("reshape", "x", "reshape", (-1,))
    b.add_reshape_static("reshape_same", "x", "reshape_same", shape)
    b.add_flatten_to_2d("flatten", "x", "flatten", axis=rank // 2)
    b.add_reverse("reverse", "x", "reverse", reverse_dim=[i % 2 == 0 for i in range(rank)])
    b.add_slice_static("slice", "x", "slice", [0] * rank, list(shape), [1] * (rank - 1) + [2],
                       [False] * rank, [False] * rank)
    b.add_slice_static("slice_all", "x", "slice_all", [0] * rank, list(shape), [1] * rank, [True] * rank, [True] * rank)
    b.add_expand_dims("expand", "x", "expand", axes=[0])
    b.add_squeeze("squeeze", "expand", "squeeze", axes=[0])
    b.add_tile("tile", "x", "tile", reps=[2] * rank)
    b.add_tile("tile_short", "x", "tile_short", reps=[3])
    b.add_concat_nd("concat", ["x", "x"], "concat", axis=-1)
    b.add_split_nd("split", "concat", ["split0", "split1"], axis=-1, num_splits=2)
    b.add_softmax_nd("softmax", "x", "softmax", axis=-1)
    b.add_argmax("argmax", "x", "argmax", axis=-1, keepdims=True)
    b.add_cumsum("cumsum", ["x"], "cumsum", axis=-1)
    b.add_copy("copy", "x", "copy")
    b.add_get_shape("shape", "x", "shape")
    b.add_matrix_band_part("band", "x", "band", num_lower=1, num_upper=0)
    b.add_fill_like("fill_like", "x", "fill_like", value=0.5)
    b.add_broadcast_to_static("broadcast", "x", "broadcast", output_shape=(2,) + shape)
    e = np.exp(x - x.max(-1, keepdims=True))
    expected = {
        "transpose": x.transpose(perm), "transpose_id": x, "reshape": x.reshape(-1), "reshape_same": x,
        "flatten": x.reshape(int(np.prod(shape[:rank // 2])), -1), "reverse": x[tuple(slice(None, None, -1)
                                                                                      if i % 2 == 0 else slice(None)
                                                                                      for i in range(rank))],
        "slice": x[..., ::2], "slice_all": x, "expand": x[None], "squeeze": x, "tile": np.tile(x, [2] * rank),
        "tile_short": np.tile(x, [3]), "concat": np.concatenate([x, x], -1), "split0": x, "split1": x,
        "softmax": e / e.sum(-1, keepdims=True), "argmax": x.argmax(-1)[..., None].astype(np.float32),
        "cumsum": np.cumsum(x, -1), "copy": x, "shape": np.asarray(shape, np.float32),
        "band": np.tril(x) - np.tril(x, -2) if rank >= 2 else x, "fill_like": np.full(shape, 0.5),
        "broadcast": np.broadcast_to(x, (2,) + shape),
    }
    check(predict(b, tmp_path, {"x": x}), expected)


# -- issue 18 (a): outputs under their declared names ---------------------------------------------

@pytest.mark.parametrize("layer", ["lower", "upper", "band", "bmm_one_input", "reshape_like", "squeeze_all"])
def test_single_layer_models_name_their_output(layer, tmp_path):
    x = rand((4, 4))
    w = rand((4, 3))
    inputs = {"data": x} if layer != "reshape_like" else {"data": x, "like": rand((2, 8))}
    b = builder({k: v.shape for k, v in inputs.items()})
    want = {
        "lower": lambda: (b.add_lower_triangular("l", "data", "output", k=-1), np.tril(x, -1)),
        "upper": lambda: (b.add_upper_triangular("l", "data", "output", k=1), np.triu(x, 1)),
        "band": lambda: (b.add_matrix_band_part("l", "data", "output", num_lower=-1, num_upper=-1), x),
        "bmm_one_input": lambda: (b.add_batched_mat_mul("l", ["data"], "output", weight_matrix_rows=4,
                                                        weight_matrix_columns=3, W=w), x @ w),
        "reshape_like": lambda: (b.add_reshape_like("l", ["data", "like"], "output"), x.reshape(2, 8)),
        "squeeze_all": lambda: (b.add_squeeze("l", "data", "output", squeeze_all=True), x),
    }[layer]()[1]
    out = predict(b, tmp_path, inputs)
    assert list(out) == ["output"]
    check(out, {"output": want})


# -- (b) enumerated and range shapes ----------------------------------------------------------------

def test_enumerated_shapes_compile_per_shape(tmp_path):
    b = builder({"data": (8, 5)})
    b.add_softmax_nd("s", "data", "output", axis=-1)
    flexible_shape_utils.add_multiarray_ndshape_enumeration(b.spec, "data", [(5, 9), (1, 3)])
    model = compile_model(save(b, tmp_path), threads=1)
    for shape in [(5, 9), (8, 5), (1, 3), (5, 9)]:
        x = rand(shape)
        e = np.exp(x)
        check(model.predict({"data": x}), {"output": e / e.sum(-1, keepdims=True)})
    assert model.schedules.compilations == 2  # (5, 9) and (1, 3), once each; (8, 5) is the default build
    with pytest.raises(MlirCoremlError, match=r"input 'data' has shape \(4, 4\).*allowed: one of 8x5, 5x9, 1x3"):
        model.predict({"data": rand((4, 4))})


def test_shape_ranges_accept_any_allowed_shape(tmp_path):
    b = builder({"data": (2, 6)})
    w = rand((6, 3))
    b.add_batched_mat_mul("mm", ["data"], "output", weight_matrix_rows=6, weight_matrix_columns=3, W=w)
    flexible_shape_utils.set_multiarray_ndshape_range(b.spec, "data", lower_bounds=[1, 6], upper_bounds=[-1, 6])
    model = compile_model(save(b, tmp_path), threads=1)
    for rows in (1, 2, 7):
        x = rand((rows, 6))
        check(model.predict({"data": x}), {"output": x @ w})
    with pytest.raises(MlirCoremlError, match=r"allowed: 1\.\.infx6"):
        model.predict({"data": rand((2, 5))})


def test_rank5_enumerated_image_sized_arrays(tmp_path):
    b = builder({"data": (2, 4, 4)}, rank5=True)
    b.add_pooling("p", 2, 2, 2, 2, "MAX", "VALID", "data", "output")
    flexible_shape_utils.add_enumerated_multiarray_shapes(
        b.spec, "data", [flexible_shape_utils.NeuralNetworkMultiArrayShape(2, 8, 6)])
    model = compile_model(save(b, tmp_path), threads=1)
    x = rand((2, 8, 6))
    out = model.predict({"data": x})["output"]
    np.testing.assert_allclose(out.reshape(2, 4, 3), x.reshape(2, 4, 2, 3, 2).max(axis=(2, 4)))


# -- (c) quantized weights ------------------------------------------------------------------------

@pytest.mark.parametrize("nbits,mode", [(8, "linear"), (4, "linear"), (2, "linear"), (1, "linear"),
                                        (4, "linear_lut"), (2, "linear_lut")])
def test_quantized_inner_product(nbits, mode, tmp_path):
    from coremltools.models.neural_network.quantization_utils import quantize_weights

    w = rand((6, 8))
    b = builder({"data": (3, 8)})
    b.add_inner_product("ip", w, None, 8, 6, False, "data", "output")
    quantized = quantize_weights(ct.models.MLModel(b.spec, skip_model_load=True), nbits, quantization_mode=mode)
    spec = quantized.get_spec() if hasattr(quantized, "get_spec") else quantized
    path = str(tmp_path / "q.mlmodel")
    ct.models.utils.save_spec(spec, path)
    from mlir_coreml.frontend.mlmodel import read
    from mlir_coreml.ir.interpreter import run_module

    x = rand((3, 8))
    want = run_module(read(path), [x])[0]  # the dequantized weights, as the format defines them
    check(compile_model(path, threads=1).predict({"data": x}), {"output": want})
    assert np.abs(want - x @ w.T).max() < 2.0 ** (2 - nbits) * np.abs(x).sum(1).max() * np.abs(w).max()


def test_int8_dynamic_quantization(tmp_path):
    w = RNG.integers(-100, 100, (6, 8)).astype(np.int8)
    wb = RNG.integers(-100, 100, (8, 5)).astype(np.int8)
    b = builder({"data": (3, 8)}, outputs=("output", "mm"))
    b.add_inner_product("ip", w.tobytes(), None, 8, 6, False, "data", "output", int_8_dynamic_quantize=True,
                        is_quantized_weight=True, quantization_type="linear", nbits=8, quant_scale=np.float32([0.01]))
    b.add_batched_mat_mul("mm", ["data"], "mm", weight_matrix_rows=8, weight_matrix_columns=5, W=wb.tobytes(),
                          is_quantized_weight=True, quantization_type="linear", nbits=8,
                          quant_scale=np.float32([0.02]), int_8_dynamic_quantize=True)
    x = rand((3, 8))
    # Core ML also quantizes the activations to int8 at run time: within a few percent
    check(predict(b, tmp_path, {"data": x}), {"output": x @ (w * 0.01).T, "mm": x @ (wb * 0.02)},
          rtol=0.05, atol=0.05)


def test_quantized_batched_matmul_with_bias(tmp_path):
    w = RNG.integers(0, 255, (8, 6)).astype(np.uint8)
    bias = rand((6,))
    b = builder({"data": (2, 3, 8)})
    b.add_batched_mat_mul("mm", ["data"], "output", weight_matrix_rows=8, weight_matrix_columns=6, W=w.tobytes(),
                          bias=bias, is_quantized_weight=True, quantization_type="linear", nbits=8,
                          quant_scale=np.float32([0.02]), quant_bias=np.float32([-1.0]))
    x = rand((2, 3, 8))
    check(predict(b, tmp_path, {"data": x}), {"output": x @ (w * 0.02 - 1.0) + bias})


# -- (d) tensors given as inputs --------------------------------------------------------------------

def test_tile_repetitions_and_top_k_given_as_inputs(tmp_path):
    x = rand((3, 4))
    inputs = {"data": x, "reps": np.float32([2, 3]), "k": np.float32([2])}
    b = builder({k: v.shape for k, v in inputs.items()}, outputs=("tiled", "values", "indices"))
    b.add_tile("tile", ["data", "reps"], "tiled")
    b.add_topk("topk", ["data", "k"], ["values", "indices"], axis=1)
    out = predict(b, tmp_path, inputs)
    order = np.argsort(-x, axis=1)[:, :2]
    check(out, {"tiled": np.tile(x, (2, 3)), "values": np.take_along_axis(x, order, 1),
                "indices": order.astype(np.float32)})


# -- (e) semantics ------------------------------------------------------------------------------------

@pytest.mark.parametrize("reps", [[2], [3, 1], [1, 2, 3], [2, 1, 1, 2]])
def test_tile_follows_numpy_for_any_repetition_length(reps, tmp_path):
    x = rand((2, 3, 4))
    b = builder({"data": x.shape})
    b.add_tile("tile", "data", "output", reps=reps)
    check(predict(b, tmp_path, {"data": x}), {"output": np.tile(x, reps)})


@pytest.mark.parametrize("sizes", [[1, 5], [2, 3, 1], [4, 2]])
def test_split_nd_with_unequal_sizes(sizes, tmp_path):
    x = rand((2, sum(sizes), 3))
    names = [f"part{i}" for i in range(len(sizes))]
    b = builder({"data": x.shape}, outputs=names)
    b.add_split_nd("split", "data", names, axis=1, split_sizes=sizes)
    parts = np.split(x, np.cumsum(sizes)[:-1], axis=1)
    check(predict(b, tmp_path, {"data": x}), dict(zip(names, parts)))


@pytest.mark.parametrize("mode,row", [
    # NeuralNetwork.proto's grids for in = 3, out = 9 (coremltools' own upsample test for DEFAULT)
    ("DEFAULT", [1, 4 / 3, 5 / 3, 2, 7 / 3, 8 / 3, 3, 3, 3]),
    ("ALIGN_CORNERS_TRUE", [1, 1.25, 1.5, 1.75, 2, 2.25, 2.5, 2.75, 3]),
    ("ALIGN_CORNERS_FALSE", [1, 1, 4 / 3, 5 / 3, 2, 7 / 3, 8 / 3, 3, 3]),
])
def test_upsample_linear_modes(mode, row, tmp_path):
    b = builder({"data": (1, 1, 3)}, rank5=True)
    b.add_upsample("up", 2, 3, "data", "output", mode="BILINEAR", linear_upsample_mode=mode)
    out = predict(b, tmp_path, {"data": np.float32([1, 2, 3]).reshape(1, 1, 3)})["output"]
    np.testing.assert_allclose(out.reshape(2, 9), np.tile(np.float32(row), (2, 1)), rtol=1e-5)


# -- classic (rank-5) layers at several blob shapes, fp32 and fp16 weights -------------------------

def classic_network(b, c: int):
    """Most classic layer kinds on one [.., C, H, W] input `x` (and `z` of the same shape), one
    output each; returns the output names."""
    w = lambda *s: RNG.standard_normal(s).astype(np.float32) * 0.5  # noqa: E731
    v = lambda n: RNG.uniform(0.5, 1.5, n).astype(np.float32)  # noqa: E731
    b.add_convolution("conv", c, 4, 3, 3, 1, 1, "same", 1, w(3, 3, c, 4), w(4), True, input_name="x",
                      output_name="conv")
    b.add_convolution("conv_grouped", 1, c, 3, 3, 2, 2, "valid", c, w(3, 3, 1, c), None, False, input_name="x",
                      output_name="conv_grouped", dilation_factors=[1, 1])
    b.add_convolution("deconv", c, 2, 2, 2, 2, 2, "valid", 1, w(2, 2, c, 2), w(2), True, is_deconv=True,
                      input_name="x", output_name="deconv")
    b.add_pooling("maxpool", 3, 3, 2, 2, "MAX", "SAME", "x", "maxpool")
    b.add_pooling("avgpool", 2, 2, 1, 1, "AVERAGE", "VALID", "x", "avgpool")
    b.add_pooling("gap", 1, 1, 1, 1, "AVERAGE", "VALID", "x", "gap", is_global=True)
    b.add_batchnorm("bn", c, v(c), w(c), w(c), v(c), "x", "bn")
    b.add_scale("scale", w(c), w(c), True, "x", "scale", shape_scale=[c, 1, 1], shape_bias=[c, 1, 1])
    b.add_bias("bias", w(c), "x", "bias", shape_bias=[c])
    b.add_softmax("softmax", "x", "softmax")
    b.add_lrn("lrn", "x", "lrn", alpha=1e-2, beta=0.75, local_size=3, k=1.0)
    b.add_mvn("mvn", "x", "mvn", across_channels=True, normalize_variance=True, epsilon=1e-5)
    b.add_l2_normalize("l2", "x", "l2")
    b.add_padding("pad", 1, 2, 0, 1, 0.5, "x", "pad")
    b.add_padding("pad_reflect", 1, 1, 1, 1, input_name="x", output_name="pad_reflect", padding_type="reflection")
    b.add_padding("pad_edge", 2, 0, 1, 0, input_name="x", output_name="pad_edge", padding_type="replication")
    b.add_crop("crop", 1, 0, 0, 1, [0, 0], ["x"], "crop")
    b.add_upsample("upsample", 2, 2, "x", "upsample", mode="NN")
    b.add_upsample("upsample_bilinear", 2, 3, "x", "upsample_bilinear", mode="BILINEAR")
    b.add_resize_bilinear("resize", "x", "resize", 5, 7)
    b.add_elementwise("add", ["x", "z"], "add", "ADD")
    b.add_elementwise("mul", ["x", "z"], "mul", "MULTIPLY")
    b.add_elementwise("max", ["x", "z"], "max", "MAX")
    b.add_elementwise("ave", ["x", "z"], "ave", "AVE")
    b.add_elementwise("add_const", ["x"], "add_const", "ADD", alpha=0.25)
    b.add_unary("sqrt", "x", "sqrt", "abs")
    b.add_activation("prelu", "PRELU", "x", "prelu", params=v(c))
    b.add_activation("leaky", "LEAKYRELU", "x", "leaky", params=[0.1])
    b.add_permute("permute", (0, 2, 3, 1), "x", "permute")
    b.add_flatten("flatten", 0, "x", "flatten")
    b.add_slice("slice", "x", "slice", "height", start_index=1, end_index=-1, stride=2)
    b.add_elementwise("concat", ["x", "z"], "concat", "CONCAT")
    b.add_split("split", "concat", ["split0", "split1"])
    b.add_reduce("reduce", "x", "reduce", "CHW", "sum")
    b.add_reorganize_data("s2d", "x", "s2d", "SPACE_TO_DEPTH", 2)
    b.add_sequence_repeat("repeat", 2, "x", "repeat")
    return ["conv", "conv_grouped", "deconv", "maxpool", "avgpool", "gap", "bn", "scale", "bias", "softmax", "lrn",
            "mvn", "l2", "pad", "pad_reflect", "pad_edge", "crop", "upsample", "upsample_bilinear", "resize", "add",
            "mul", "max", "ave", "add_const", "sqrt", "prelu", "leaky", "permute", "flatten", "slice", "split0",
            "split1", "concat", "reduce", "s2d", "repeat"]


@pytest.mark.parametrize("weights", ["fp32", "fp16"])
@pytest.mark.parametrize("chw", [(2, 4, 6), (3, 6, 4)])
def test_classic_layers_against_the_reference(chw, weights, tmp_path):
    """The compiled model (kernels, fusion, memory plan) against the numpy reference of the
    imported layers, for the classic layer kinds at two blob shapes and both weight precisions."""
    from coremltools.models.neural_network.quantization_utils import quantize_weights

    from mlir_coreml.frontend.mlmodel import read
    from mlir_coreml.ir.interpreter import run_module

    b = builder({"x": chw, "z": chw}, outputs=["conv"], rank5=True)
    names = classic_network(b, chw[0])
    del b.spec.description.output[:]
    for name in names:
        b.spec.description.output.add().name = name
        b.spec.description.output[-1].type.multiArrayType.dataType = ct.proto.FeatureTypes_pb2.ArrayFeatureType.FLOAT32
    spec = b.spec
    if weights == "fp16":
        spec = quantize_weights(ct.models.MLModel(spec, skip_model_load=True), 16).get_spec()
    path = str(tmp_path / "classic.mlmodel")
    ct.models.utils.save_spec(spec, path)
    inputs = {"x": rand(chw), "z": rand(chw)}
    want = run_module(read(path), [inputs["x"].reshape((1, 1) + chw), inputs["z"].reshape((1, 1) + chw)])
    out = compile_model(path, threads=1).predict(inputs)
    assert list(out) == names
    check(out, {name: np.asarray(w).reshape(out[name].shape) for name, w in zip(names, want)},
          rtol=2e-3 if weights == "fp16" else 1e-4, atol=1e-4)


@pytest.mark.parametrize("dtype", [np.float64, np.float16, np.int32, np.int64])
def test_inputs_of_any_numeric_dtype(dtype, tmp_path):
    b = builder({"data": (3, 4)})
    b.add_activation("relu", "RELU", "data", "output")
    x = (np.arange(12).reshape(3, 4) - 5).astype(dtype)
    check(predict(b, tmp_path, {"data": x}), {"output": np.maximum(x.astype(np.float64), 0)})


@pytest.mark.parametrize("rank", [2, 3, 4])
def test_flexible_shapes_recompile_every_layer_family(rank, tmp_path):
    """The unary and shape families of a model declared with a shape range, predicted at a shape
    other than the default: every layer's shape is inferred again for it."""
    default = SHAPES[rank]
    b = builder({"x": default}, outputs=["sin", "transpose", "softmax", "sum", "tile", "slice", "concat"])
    b.add_sin("sin", "x", "sin")
    b.add_transpose("transpose", list(range(rank))[::-1], "x", "transpose")
    b.add_softmax_nd("softmax", "x", "softmax", axis=-1)
    b.add_reduce_sum("sum", "x", "sum", axes=[-1], keepdims=False)
    b.add_tile("tile", "x", "tile", reps=[2])
    b.add_slice_static("slice", "x", "slice", [0] * rank, list(default), [1] * (rank - 1) + [2],
                       [True] * rank, [True] * rank)
    b.add_concat_nd("concat", ["x", "sin"], "concat", axis=0)
    flexible_shape_utils.set_multiarray_ndshape_range(b.spec, "x", lower_bounds=[1] * rank,
                                                      upper_bounds=[-1] * rank)
    model = compile_model(save(b, tmp_path), threads=1)
    x = rand(tuple(d + 2 for d in default))
    e = np.exp(x - x.max(-1, keepdims=True))
    check(model.predict({"x": x}), {
        "sin": np.sin(x), "transpose": x.transpose(list(range(rank))[::-1]), "softmax": e / e.sum(-1, keepdims=True),
        "sum": x.sum(-1), "tile": np.tile(x, [2]), "slice": x[..., ::2], "concat": np.concatenate([x, np.sin(x)]),
    })


# -- single N-D layers, one model each (several are run-time shaped: the reference path) ----------

X3 = rand((2, 3, 4))
ND_CASES = {
    # name: (inputs, add layer(builder), numpy expectation of "output")
    "bmm_transpose_a": ({"a": rand((2, 4, 3)), "b": rand((2, 4, 5))},
                        lambda b: b.add_batched_mat_mul("m", ["a", "b"], "output", transpose_a=True),
                        lambda a, c: np.swapaxes(a, -1, -2) @ c),
    "bmm_rank1": ({"a": rand((4,)), "b": rand((4, 5))}, lambda b: b.add_batched_mat_mul("m", ["a", "b"], "output"),
                  lambda a, c: (a @ c)[None]),  # two inputs: rank max(2, ...)
    "bmm_broadcast": ({"a": rand((3, 1, 2, 4)), "b": rand((5, 4, 3))},
                      lambda b: b.add_batched_mat_mul("m", ["a", "b"], "output"), lambda a, c: a @ c),
    "gather_nd": ({"d": X3, "i": np.float32([[0, 1], [1, 2]])}, lambda b: b.add_gather_nd("g", ["d", "i"], "output"),
                  lambda d, i: d[[0, 1], [1, 2]]),
    "gather_along_axis": ({"d": X3, "i": np.float32([[[0, 1, 2, 0]]] * 2)},
                          lambda b: b.add_gather_along_axis("g", ["d", "i"], "output", axis=1),
                          lambda d, i: np.take_along_axis(d, i.astype(int), 1)),
    "slice_by_size": ({"d": X3, "s": np.float32([1])}, lambda b: b.add_slice_by_size("s", ["d", "s"], "output", axis=1,
                                                                                     size=2), lambda d, s: d[:, 1:3]),
    "where_nonzero": ({"d": np.float32([[0, 1], [2, 0]])}, lambda b: b.add_where_nonzero("w", "d", "output"),
                      lambda d: np.argwhere(d).astype(np.float32)),
    "range_dynamic": ({"d": np.float32([5])}, lambda b: b.add_range_dynamic("r", ["d"], "output", start=1, step=2),
                      lambda d: np.arange(1, 5, 2, dtype=np.float32)),
    "fill_dynamic": ({"d": np.float32([2, 3])}, lambda b: b.add_fill_dynamic("f", "d", "output", value=1.5),
                     lambda d: np.full((2, 3), 1.5)),
    "reshape_dynamic": ({"d": X3, "s": np.float32([4, 6])}, lambda b: b.add_reshape_dynamic("r", ["d", "s"], "output"),
                        lambda d, s: d.reshape(4, 6)),
    "broadcast_dynamic": ({"d": rand((1, 4)), "s": np.float32([3, 4])},
                          lambda b: b.add_broadcast_to_dynamic("r", ["d", "s"], "output"),
                          lambda d, s: np.broadcast_to(d, (3, 4))),
    "one_hot_depth_input": ({"d": np.float32([1, 0, 2]), "n": np.float32([4])},
                            lambda b: b.add_one_hot("o", ["d", "n"], "output", axis=-1), lambda d, n: np.eye(4)[[1, 0, 2]]),
    "argsort": ({"d": X3}, lambda b: b.add_argsort("a", "d", "output", axis=-1, descending=True),
                lambda d: np.argsort(-d, -1, kind="stable").astype(np.float32)),
    "sliding_windows": ({"d": rand((2, 7))}, lambda b: b.add_sliding_windows("s", "d", "output", axis=1, window_size=3,
                                                                             step=2),
                        lambda d: np.stack([d[:, i:i + 3] for i in range(0, 5, 2)], 1)),
    "constant_pad": ({"d": X3}, lambda b: b.add_constant_pad("p", ["d"], "output", value=0.5,
                                                             pad_amounts=[0, 0, 1, 2, 0, 1]),
                     lambda d: np.pad(d, [(0, 0), (1, 2), (0, 1)], constant_values=0.5)),
    "layer_norm_two_axes": ({"d": X3}, lambda b: b.add_layer_normalization("l", "d", "output", [3, 4],
                                                                           gamma=np.ones((3, 4)), beta=np.zeros((3, 4)),
                                                                           eps=1e-5),
                            lambda d: (d - d.mean((1, 2), keepdims=True)) / np.sqrt(d.var((1, 2), keepdims=True) + 1e-5)),
    "stack_last_axis": ({"d": X3, "e": X3 + 1}, lambda b: b.add_stack("s", ["d", "e"], "output", axis=-1),
                        lambda d, e: np.stack([d, e], -1)),
    "clamped_relu": ({"d": X3}, lambda b: b.add_clamped_relu("c", "d", "output", alpha=0.1, beta=0.5),
                     lambda d: np.minimum(np.where(d > 0, d, 0.1 * d), 0.5)),
    "gelu_tanh": ({"d": X3}, lambda b: b.add_gelu("g", "d", "output", mode="TANH_APPROXIMATION"),
                  lambda d: 0.5 * d * (1 + np.tanh(np.sqrt(2 / np.pi) * (d + 0.044715 * d ** 3)))),
    "rank_preserving_reshape": ({"d": X3}, lambda b: b.add_rank_preserving_reshape("r", "d", "output", [4, 0, -1]),
                                lambda d: d.reshape(4, 3, 2)),
    "load_constant_nd": ({"d": rand((2, 3))}, lambda b: (b.add_load_constant_nd("c", "k", np.ones((2, 3)), (2, 3)),
                                                         b.add_add_broadcastable("a", ["d", "k"], "output")),
                         lambda d: d + 1),
    "split_nd_single": ({"d": X3}, lambda b: b.add_split_nd("s", "d", ["output"], axis=1, num_splits=1), lambda d: d),
    "concat_nd_single": ({"d": X3}, lambda b: b.add_concat_nd("c", ["d"], "output", axis=1), lambda d: d),
    "argmin": ({"d": X3}, lambda b: b.add_argmin("a", "d", "output", axis=0, keepdims=False),
               lambda d: d.argmin(0).astype(np.float32)),
    "equal_scalar": ({"d": np.float32([1, 2, 3])}, lambda b: b.add_equal("e", ["d"], "output", alpha=2.0),
                     lambda d: (d == 2).astype(np.float32)),
    "logical_not": ({"d": np.float32([0, 1, 2])}, lambda b: b.add_logical("n", ["d"], "output", "NOT"),
                    lambda d: (d == 0).astype(np.float32)),
}


@pytest.mark.parametrize("name", sorted(ND_CASES))
def test_nd_layer(name, tmp_path):
    inputs, add_layer, expect = ND_CASES[name]
    b = builder({k: v.shape for k, v in inputs.items()})
    add_layer(b)
    check(predict(b, tmp_path, inputs), {"output": expect(*inputs.values())})


def test_saved_flexible_model_runs_its_default_shapes_and_names_the_others(tmp_path):
    b = builder({"data": (2, 3)})
    b.add_transpose("t", [1, 0], "data", "output")
    flexible_shape_utils.set_multiarray_ndshape_range(b.spec, "data", lower_bounds=[1, 1], upper_bounds=[-1, -1])
    saved = compile_model(save(b, tmp_path), threads=1).save(tmp_path / "saved.mlir")
    again = compile_model(saved, threads=1)
    x = rand((2, 3))
    check(again.predict({"data": x}), {"output": x.T})  # names survive the saved IR
    with pytest.raises(MlirCoremlError, match=r"runs its default input shapes only .*'data' 4x5"):
        again.predict({"data": rand((4, 5))})
