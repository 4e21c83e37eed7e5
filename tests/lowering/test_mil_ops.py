"""`mil-to-core` on ML Program ops the zoo's converted models do not reach, built with coremltools'
MIL builder and converted (fp32 and fp16 compute): interpreter(before) == interpreter(after)
within 1e-5 (fp32) / 2e-2 (fp16)."""
import numpy as np
import pytest

ct = pytest.importorskip("coremltools")
from coremltools.converters.mil import Builder as mb  # noqa: E402

import mlir_coreml  # noqa: E402
from tests.lowering.helpers import lower_and_compare, rel_err  # noqa: E402

R = np.random.RandomState(5)
X = (1, 4, 6, 6)
SEQ = (5, 1, 3)
H = 4


def lstm_weights(directions):
    out = {}
    for suffix in ("", "_back")[:directions]:
        out["weight_ih" + suffix] = R.randn(4 * H, 3).astype(np.float32) * 0.5
        out["weight_hh" + suffix] = R.randn(4 * H, H).astype(np.float32) * 0.5
        out["bias" + suffix] = R.randn(4 * H).astype(np.float32) * 0.5
    return out


def lstm(direction, output_sequence):
    d = 2 if direction == "bidirectional" else 1
    weights = lstm_weights(d)

    def program(x):
        zeros = np.zeros((1, d * H), np.float32)
        return mb.lstm(x=x, initial_h=zeros, initial_c=zeros, direction=direction,
                       output_sequence=output_sequence, **weights)
    return SEQ, program


CASES = {
    "upsample_bilinear_half_pixel": (X, lambda x: mb.upsample_bilinear(x=x, scale_factor_height=2.0,
                                                                       scale_factor_width=3.0, align_corners=False)),
    "resize_bilinear_modes": (X, lambda x: [mb.resize_bilinear(x=x, target_size_height=9, target_size_width=4,
                                                               sampling_mode=m)
                                            for m in ("ALIGN_CORNERS", "UNALIGN_CORNERS", "DEFAULT", "OFFSET_CORNERS")]),
    "upsample_nearest_fractional": ((1, 4, 5, 7), lambda x: [mb.upsample_nearest_neighbor(
        x=x, scale_factor_height=1.5, scale_factor_width=2.5), mb.upsample_nearest_neighbor(
        x=x, scale_factor_height=3.0, scale_factor_width=2.0)]),
    "resize_nearest": (X, lambda x: mb.resize_nearest_neighbor(x=x, target_size_height=9, target_size_width=13)),
    "space_depth_shuffles": (X, lambda x: [mb.space_to_depth(x=x, block_size=2),
                                           mb.pixel_unshuffle(x=x, downscale_factor=np.uint32(2)),
                                           mb.depth_to_space(x=x, block_size=2)]),
    "slices": (X, lambda x: [mb.slice_by_size(x=x, begin=[0, 1, 2, 0], size=[1, 2, -1, 3]),
                             mb.slice_by_index(x=x, begin=[0, 3, 5, 0], end=[1, 0, 0, 6], stride=[1, -1, -2, 2],
                                               begin_mask=[True, False, False, False],
                                               end_mask=[True, True, True, True],
                                               squeeze_mask=[True, False, False, False])]),
    "arg_cumsum_select": (X, lambda x: [mb.reduce_argmax(x=x, axis=1, keep_dims=True),
                                        mb.cumsum(x=x, axis=2, exclusive=True, reverse=True),
                                        mb.select(cond=mb.greater(x=x, y=0.0), a=x, b=mb.mul(x=x, y=-2.0))]),
    "eps_unaries": (X, lambda x: [mb.inverse(x=mb.add(x=mb.abs(x=x), y=0.5), epsilon=1e-3),
                                  mb.rsqrt(x=mb.add(x=mb.abs(x=x), y=0.5), epsilon=1e-3),
                                  mb.log(x=mb.add(x=mb.abs(x=x), y=0.5))]),
    "activations": (X, lambda x: [mb.clamped_relu(x=x, alpha=0.2, beta=0.8),
                                  mb.softplus_parametric(x=x, alpha=R.rand(4).astype(np.float32) + 0.5,
                                                         beta=R.rand(4).astype(np.float32) + 0.5),
                                  mb.scaled_tanh(x=x, alpha=1.3, beta=0.4), mb.softsign(x=x),
                                  mb.prelu(x=x, alpha=R.rand(4).astype(np.float32)), mb.relu6(x=x),
                                  mb.linear_activation(x=x, alpha=2.0, beta=1.0), mb.threshold(x=x, alpha=0.1)]),
    "norms": (X, lambda x: [mb.l2_norm(x=x, epsilon=1e-6),
                            mb.local_response_norm(x=x, size=3, alpha=1e-2, beta=0.75, k=2.0),
                            mb.instance_norm(x=x, epsilon=1e-5),
                            mb.batch_norm(x=x, mean=R.randn(4).astype(np.float32),
                                          variance=R.rand(4).astype(np.float32) + 0.5)]),
    "conv_transpose_same_and_shape": (X, lambda x: [
        mb.conv_transpose(x=x, weight=R.randn(4, 2, 3, 3).astype(np.float32), strides=[2, 2], pad_type="same"),
        mb.conv_transpose(x=x, weight=R.randn(4, 3, 3, 3).astype(np.float32), strides=[2, 2], pad_type="custom",
                          pad=[1, 1, 1, 1], output_shape=[1, 6, 12, 12], groups=2)]),
    "pools": (X, lambda x: [mb.avg_pool(x=x, kernel_sizes=[3, 3], strides=[2, 2], pad_type="custom", pad=[1, 1, 1, 1],
                                        ceil_mode=True, exclude_padding_from_average=True),
                            mb.max_pool(x=x, kernel_sizes=[2, 3], strides=[2, 2], pad_type="same")]),
    "reverse_topk_argsort_band": (X, lambda x: [mb.reverse(x=x, axes=[1, 3]), *mb.topk(x=x, k=2, axis=2),
                                                mb.argsort(x=x, axis=-1, ascending=True),
                                                mb.band_part(x=x, lower=1, upper=0)]),
    "gather_nd_one_hot": (X, lambda x: [mb.gather_nd(x=x, indices=np.array([[0, 1], [0, 3]], np.int32)),
                                        mb.one_hot(indices=np.array([2, 0, 1], np.int32), one_hot_vector_size=4,
                                                   on_value=1.0, off_value=0.0)]),
    "lstm_reverse_last": lstm("reverse", False),
    "lstm_bidirectional_sequence": lstm("bidirectional", True),
    "lstm_bidirectional_last": lstm("bidirectional", False),
}


def convert(tmp_path, shape, body, precision):
    @mb.program(input_specs=[mb.TensorSpec(shape=shape)])
    def program(x):
        out = body(x)
        return tuple(out) if isinstance(out, (list, tuple)) else out

    model = ct.convert(program, convert_to="mlprogram", compute_precision=precision,
                       minimum_deployment_target=ct.target.iOS16)
    path = str(tmp_path / "model.mlpackage")
    model.save(path)
    return path


@pytest.mark.parametrize("precision", ["fp32", "fp16"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_mil_op_lowering_keeps_semantics(tmp_path, name, precision):
    shape, body = CASES[name]
    path = convert(tmp_path, shape, body, ct.precision.FLOAT32 if precision == "fp32" else ct.precision.FLOAT16)
    module = mlir_coreml.load(path)
    fn = next(op for op in module.regions[0].block.ops if op.op_name == "func.func")
    arg = fn.regions[0].blocks[0].args[0]
    inputs = {arg.name: np.random.default_rng(2).standard_normal(shape).astype(np.float32)}
    before, after = lower_and_compare(module, inputs, "mil-to-core")
    for b, a in zip(before, after):
        assert rel_err(a, b) <= (1e-5 if precision == "fp32" else 2e-2)


@pytest.mark.parametrize("mode", ["palettize", "linear_quantize"])
def test_compressed_weights_lower_to_constants(tmp_path, model_zoo, mode):
    """iOS16+ constexpr weight decompression is evaluated into constants of the declared type."""
    from coremltools.optimize import coreml as cto

    path, inputs, _ = model_zoo.get("layer_conv", "mlprogram")
    model = ct.models.MLModel(str(path), skip_model_load=True)
    if mode == "palettize":
        palettizer = cto.OpPalettizerConfig(mode="uniform", nbits=4, weight_threshold=0)
        config = cto.OptimizationConfig(global_config=palettizer)
        compressed = cto.palettize_weights(model, config)
    else:
        config = cto.OptimizationConfig(global_config=cto.OpLinearQuantizerConfig(weight_threshold=0))
        compressed = cto.linear_quantize_weights(model, config)
    out = str(tmp_path / "compressed.mlpackage")
    compressed.save(out)
    module = mlir_coreml.load(out)
    assert any(op.op_name.startswith("mil.constexpr") for op in module.walk())
    before, after = lower_and_compare(module, inputs, "mil-to-core")
    for b, a in zip(before, after):
        assert rel_err(a, b) <= 2e-2
