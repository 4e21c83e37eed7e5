"""`nn-to-core` on single NeuralNetwork layers built with coremltools' NeuralNetworkBuilder, for
the lowerings the zoo's converted models do not reach (classic rank-5 layouts, rarer modes):
interpreter(before) == interpreter(after) within 1e-5 relative."""
import numpy as np
import pytest

ct = pytest.importorskip("coremltools")
from coremltools.models import datatypes  # noqa: E402
from coremltools.models.neural_network import NeuralNetworkBuilder  # noqa: E402

from mlir_coreml.frontend.mlmodel import read  # noqa: E402
from tests.lowering.helpers import lower_and_compare, rel_err  # noqa: E402

X = (1, 4, 6, 6)
R = np.random.RandomState(7)
W44 = R.randn(4, 4).astype(np.float32)
W48 = R.randn(4, 8).astype(np.float32)
V4 = R.rand(4).astype(np.float32) + 0.5


def _batch_statistics(layer):
    # the builder refuses statistics over the batch; the format allows them
    layer.batchnorm.instanceNormalization = False


def act(kind, **kw):
    return lambda b: b.add_activation("a", kind, "x", "y", **kw)


def unary(kind, **kw):
    return lambda b: b.add_unary("u", "x", "y", mode=kind, **kw)


CASES = {
    # name: (input shapes, add layers(builder), outputs, positive inputs)
    "scaled_tanh": ({"x": X}, act("SCALED_TANH", params=[1.5, 0.7]), ["y"], False),
    "linear": ({"x": X}, act("LINEAR", params=[2.0, -1.0]), ["y"], False),
    "softsign": ({"x": X}, act("SOFTSIGN"), ["y"], False),
    "thresholded_relu": ({"x": X}, act("THRESHOLDEDRELU", params=0.3), ["y"], False),
    "parametric_softplus": ({"x": X}, act("PARAMETRICSOFTPLUS", params=[V4, V4[::-1].copy()]), ["y"], False),
    "sigmoid_hard": ({"x": X}, act("SIGMOID_HARD", params=[0.3, 0.4]), ["y"], False),
    "prelu_rank4": ({"x": X}, act("PRELU", params=V4), ["y"], False),
    "rsqrt_eps": ({"x": X}, unary("rsqrt", epsilon=1e-3), ["y"], True),
    "inverse": ({"x": X}, unary("inverse", epsilon=1e-2), ["y"], True),
    "power": ({"x": X}, unary("power", alpha=1.7), ["y"], True),
    "threshold": ({"x": X}, unary("threshold", alpha=0.2), ["y"], False),
    "log_scale_shift": ({"x": X}, unary("log", scale=2.0, shift=1.0), ["y"], True),
    "reshape_channel_last": ({"x": X}, lambda b: b.add_reshape("r", "x", "y", (6, 4, 6), mode=1), ["y"], False),
    "flatten_channel_last": ({"x": X}, lambda b: b.add_flatten("f", mode=1, input_name="x", output_name="y"),
                             ["y"], False),
    "permute": ({"x": X}, lambda b: b.add_permute("p", (0, 3, 1, 2), "x", "y"), ["y"], False),
    "lrn": ({"x": X}, lambda b: b.add_lrn("l", "x", "y", alpha=1e-2, beta=0.75, local_size=3, k=2.0), ["y"], False),
    "mvn": ({"x": X}, lambda b: b.add_mvn("m", "x", "y", across_channels=True, normalize_variance=True,
                                          epsilon=1e-5), ["y"], False),
    "mvn_mean_only": ({"x": X}, lambda b: b.add_mvn("m", "x", "y", across_channels=False, normalize_variance=False,
                                                    epsilon=1e-5), ["y"], False),
    "l2_normalize": ({"x": X}, lambda b: b.add_l2_normalize("n", "x", "y", epsilon=1e-6), ["y"], False),
    "reduce_hw_avg": ({"x": X}, lambda b: b.add_reduce("r", "x", "y", axis="HW", mode="avg"), ["y"], False),
    "reduce_c_logsum": ({"x": X}, lambda b: b.add_reduce("r", "x", "y", axis="C", mode="logsum", epsilon=1e-3),
                        ["y"], True),
    "reduce_argmax": ({"x": X}, lambda b: b.add_reduce("r", "x", "y", axis="C", mode="argmax"), ["y"], False),
    "crop": ({"x": X}, lambda b: b.add_crop("c", 1, 2, 0, 1, [0, 0], ["x"], "y"), ["y"], False),
    "resize_bilinear": ({"x": X}, lambda b: b.add_resize_bilinear("r", "x", "y", 9, 11, mode="ALIGN_ENDPOINTS_MODE"),
                        ["y"], False),
    "resize_bilinear_roi": ({"x": X}, lambda b: b.add_resize_bilinear("r", "x", "y", 9, 11, mode="ROI_ALIGN_MODE"),
                            ["y"], False),
    "upsample_fractional": ({"x": X}, lambda b: b.add_upsample("u", 1.5, 2.5, "x", "y", mode="BILINEAR",
                                                               linear_upsample_mode="ALIGN_CORNERS_FALSE"),
                            ["y"], False),
    "upsample_nearest_3x": ({"x": X}, lambda b: b.add_upsample("u", 3, 2, "x", "y", mode="NN"), ["y"], False),
    "space_to_depth": ({"x": X}, lambda b: b.add_reorganize_data("r", "x", "y", mode="SPACE_TO_DEPTH", block_size=2),
                       ["y"], False),
    "depth_to_space": ({"x": X}, lambda b: b.add_reorganize_data("r", "x", "y", mode="DEPTH_TO_SPACE", block_size=2),
                       ["y"], False),
    "compare_and_logic": ({"x": X, "z": X}, lambda b: (b.add_greater_than("g", ["x", "z"], "g1"),
                                                     b.add_less_than("l", ["x"], "l1", alpha=0.1),
                                                     b.add_logical("a", ["g1", "l1"], "y", mode="OR")),
                          ["y"], False),
    "where": ({"x": X, "z": X}, lambda b: (b.add_greater_than("g", ["x"], "c", alpha=0.0),
                                           b.add_where_broadcastable("w", ["c", "x", "z"], "y")), ["y"], False),
    "average_max_alpha": ({"x": X, "z": X}, lambda b: (b.add_elementwise("a", ["x", "z"], "t", "AVE"),
                                                       b.add_elementwise("m", ["t"], "t2", "ADD", alpha=0.1),
                                                       b.add_elementwise("n", ["t2", "x", "z"], "y", "MAX")),
                          ["y"], False),
    "batchnorm_computed_stats": ({"x": X}, lambda b: _batch_statistics(b.add_batchnorm(
        "bn", 4, V4, V4 - 1, None, None, "x", "y", compute_mean_var=True, instance_normalization=True,
        epsilon=1e-5)), ["y"], False),
    "instance_norm": ({"x": X}, lambda b: b.add_batchnorm("bn", 4, V4, V4 - 1, None, None, "x", "y",
                                                          compute_mean_var=True, instance_normalization=True,
                                                          epsilon=1e-5), ["y"], False),
    "slice_static": ({"x": X}, lambda b: b.add_slice_static("s", "x", "y", [0, 1, 5, 0], [1, 4, 0, 6], [1, 2, -2, 1],
                                                            [True, False, False, True], [True, False, True, True]),
                     ["y"], False),
    "slice_classic": ({"x": X}, lambda b: b.add_slice("s", "x", "y", axis="width", start_index=1, end_index=5,
                                                      stride=2), ["y"], False),
    "topk": ({"x": X}, lambda b: b.add_topk("t", ["x"], ["y", "i"], k=3, axis=2), ["y", "i"], False),
    "concat_interleave_stack_tile": ({"x": X, "z": X}, lambda b: (
        b.add_concat_nd("c", ["x", "z"], "c1", axis=1, interleave=True),
        b.add_stack("s", ["x", "z"], "s1", axis=0),
        b.add_tile("t", "x", "y", reps=[1, 2, 1, 1])), ["c1", "s1", "y"], False),
    "reductions_nd": ({"x": X}, lambda b: (b.add_reduce_prod("p", "x", "p1", axes=[1], keepdims=False),
                                           b.add_reduce_logsumexp("e", "x", "e1", axes=[2, 3]),
                                           b.add_argmax("a", "x", "y", axis=3, keepdims=False)),
                      ["p1", "e1", "y"], False),
    "cumsum_clamped_round_floordiv": ({"x": X, "z": X}, lambda b: (
        b.add_cumsum("c", ["x"], "c1", axis=2, reverse=True, exclusive=True),
        b.add_clamped_relu("r", "x", "r1", alpha=0.1, beta=0.5),
        b.add_round("o", "x", "o1"),
        b.add_floor_div_broadcastable("f", ["x", "z"], "y")), ["c1", "r1", "o1", "y"], True),
    "inner_product_rank4_batched_matmul_weight": ({"x": (2, 6, 4)}, lambda b: (
        b.add_batched_mat_mul("m", ["x"], "m1", weight_matrix_rows=4, weight_matrix_columns=8, W=W48,
                              bias=V4[:2].repeat(4), transpose_a=False),
        b.add_inner_product("i", W44, V4, 4, 4, True, "x", "y")), ["m1", "y"], False),
    "reverse_band_argsort": ({"x": X}, lambda b: (b.add_reverse("r", "x", "r1", reverse_dim=[False, True, False, True]),
                                                  b.add_matrix_band_part("m", "x", "m1", num_lower=1, num_upper=2),
                                                  b.add_argsort("s", "x", "y", axis=2, descending=True)),
                             ["r1", "m1", "y"], False),
    "gather_nd_one_hot": ({"x": (3, 4), "i": (2, 2)}, lambda b: (b.add_gather_nd("g", ["x", "i"], "g1"),
                                                              b.add_one_hot("o", ["i"], "y", one_hot_vector_size=3,
                                                                            axis=-1, on_value=2.0, off_value=-1.0)),
                          ["g1", "y"], "indices"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_layer_lowering_keeps_semantics(tmp_path, name):
    shapes, add, outputs, positive = CASES[name]
    builder = NeuralNetworkBuilder([(n, datatypes.Array(*s)) for n, s in shapes.items()], [(n, None) for n in outputs],
                                   disable_rank5_shape_mapping=True)
    add(builder)
    path = str(tmp_path / "model.mlmodel")
    ct.utils.save_spec(builder.spec, path)
    module = read(path)
    rng = np.random.default_rng(1)
    inputs = {n: rng.standard_normal(s).astype(np.float32) for n, s in shapes.items()}
    if positive == "indices":
        inputs["i"] = np.array([[1, 2], [0, 3]], np.float32)
    elif positive:
        inputs = {n: np.abs(v) + 0.5 for n, v in inputs.items()}
    before, after = lower_and_compare(module, inputs, "nn-to-core")
    for b, a in zip(before, after):
        assert rel_err(a, b) <= 1e-5


def test_every_layer_is_lowered_or_kept_on_the_reference_path():
    from mlir_coreml.ir.dialects.nn import LAYER_OPS
    from mlir_coreml.passes.nn_to_core import LOWERINGS, REFERENCE_PATH

    names = {cls.name for cls in LAYER_OPS.values()}
    assert not names - set(LOWERINGS) - REFERENCE_PATH
    assert not set(LOWERINGS) & REFERENCE_PATH


def test_layer_kept_on_the_reference_path_runs_in_the_lowered_module(tmp_path):
    import mlir_coreml
    from mlir_coreml.passes.manager import PassManager

    builder = NeuralNetworkBuilder([("x", datatypes.Array(3, 4)), ("i", datatypes.Array(2)),
                                    ("u", datatypes.Array(2, 4))], [("y", None)], disable_rank5_shape_mapping=True)
    builder.add_scatter("scatter_layer", ["x", "i", "u"], "y", axis=0)
    path = str(tmp_path / "model.mlmodel")
    ct.utils.save_spec(builder.spec, path)
    module = read(path)
    PassManager.from_pipeline("nn-to-core").run(module)
    assert [op.op_name for op in module.walk() if op.op_name.startswith("nn.")] == ["nn.scatter"]
    x, u = np.zeros((3, 4), np.float32), np.ones((2, 4), np.float32)
    y = mlir_coreml.compile_model(path).predict({"x": x, "i": np.array([2, 0], np.float32), "u": u})["y"]
    np.testing.assert_array_equal(y, [[1] * 4, [0] * 4, [1] * 4])
