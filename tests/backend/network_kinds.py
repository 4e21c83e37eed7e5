"""Small network models of every kind `lower` compiles, built with coremltools' NeuralNetworkBuilder
from fixed seeds: classifiers (string and int64 labels, MultiArray and grayscale/RGB image inputs,
a probabilities blob named apart from the output), regressors, pipelines (plain, classifier,
regressor) and networks with flexible input shapes (enumerated, ranged).

`save(kind, folder, fp16)` writes one as `<kind>.mlmodel` (float16 weights with `fp16`) and returns
its path.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np


def _ct():
    import coremltools
    from coremltools.models import datatypes
    from coremltools.models.neural_network import NeuralNetworkBuilder

    return coremltools, datatypes, NeuralNetworkBuilder


def _dense(builder, rng, name, n_in, n_out, bottom, top):
    weights = rng.standard_normal((n_out, n_in)).astype(np.float32) / np.sqrt(n_in)
    builder.add_inner_product(name, weights, rng.standard_normal(n_out).astype(np.float32), n_in, n_out, True,
                              bottom, top)


def _mlp(rng, n_in, hidden, n_out, input_name="x", output_name="y", mode=None, probabilities=None):
    """input -> dense -> relu -> dense [-> softmax] network of `mode` (None, classifier, regressor)."""
    _, datatypes, Builder = _ct()
    outputs = [(output_name, datatypes.Array(n_out) if mode != "classifier" else None)]
    builder = Builder([(input_name, datatypes.Array(n_in))], outputs, mode=mode)
    _dense(builder, rng, "fc1", n_in, hidden, input_name, "h1")
    builder.add_activation("relu1", "RELU", "h1", "h1_relu")
    last = probabilities or output_name
    _dense(builder, rng, "fc2", hidden, n_out, "h1_relu", "logits" if mode == "classifier" else last)
    if mode == "classifier":
        builder.add_softmax("softmax", "logits", last)
    return builder


def classifier_string_labels(rng):
    builder = _mlp(rng, 12, 16, 5, mode="classifier", output_name="probs")
    builder.set_class_labels(["ant", "bee", "cat", "dog", "eel"], prediction_blob="probs")
    return builder.spec


def classifier_int_labels(rng):
    builder = _mlp(rng, 6, 10, 4, mode="classifier", output_name="scores")
    builder.set_class_labels([3, 1, 4, 15], predicted_feature_name="digit", prediction_blob="scores")
    return builder.spec


def classifier_probability_blob_renamed(rng):
    """The probabilities come from blob `softmax_out`; the description calls them `classProbability`."""
    builder = _mlp(rng, 8, 8, 3, mode="classifier", output_name="classProbability", probabilities="softmax_out")
    builder.set_class_labels(["low", "mid", "high"], prediction_blob="softmax_out")
    spec = builder.spec
    spec.description.predictedProbabilitiesName = "classProbability"
    return spec


def _image_classifier(rng, channels, labels, size=12, global_pool=False):
    """conv -> relu -> max pool (global with `global_pool`: any image size then fits the dense
    layer) -> flatten -> dense -> softmax, on a `size` x `size` image."""
    coremltools, datatypes, Builder = _ct()
    builder = Builder([("image", datatypes.Array(channels, size, size))], [("probs", None)], mode="classifier")
    weights = rng.standard_normal((3, 3, channels, 4)).astype(np.float32) * 0.3
    builder.add_convolution("conv", kernel_channels=channels, output_channels=4, height=3, width=3, stride_height=1,
                            stride_width=1, border_mode="valid", groups=1, W=weights,
                            b=rng.standard_normal(4).astype(np.float32), has_bias=True, input_name="image",
                            output_name="c")
    builder.add_activation("relu", "RELU", "c", "c_relu")
    builder.add_pooling("pool", 2, 2, 2, 2, "MAX", "VALID", "c_relu", "p", is_global=global_pool)
    builder.add_flatten("flatten", 0, "p", "f")
    n_flat = 4 if global_pool else 4 * ((size - 2) // 2) ** 2
    _dense(builder, rng, "fc", n_flat, len(labels), "f", "logits")
    builder.add_softmax("softmax", "logits", "probs")
    builder.set_class_labels(labels, prediction_blob="probs")
    builder.set_pre_processing_parameters(image_input_names=["image"], image_scale=1 / 255.0,
                                          gray_bias=-0.5 if channels == 1 else 0.0,
                                          red_bias=-0.25 if channels == 3 else 0.0)
    spec = builder.spec
    feature = spec.description.input[0]
    feature.type.imageType.width = size
    feature.type.imageType.height = size
    feature.type.imageType.colorSpace = 10 if channels == 1 else 20  # GRAYSCALE / RGB
    return spec


def image_classifier_gray(rng):
    return _image_classifier(rng, 1, [f"letter_{c}" for c in "ABCDEF"])


def image_classifier_rgb(rng):
    return _image_classifier(rng, 3, [7, 11, 13])


def image_classifier_flexible_sizes(rng):
    """An image classifier whose input also allows other sizes (bundles hold the default size)."""
    from coremltools.models.neural_network import flexible_shape_utils as flexible

    spec = _image_classifier(rng, 3, ["sun", "rain"], global_pool=True)
    flexible.add_enumerated_image_sizes(spec, "image", [flexible.NeuralNetworkImageSize(12, 12),
                                                        flexible.NeuralNetworkImageSize(16, 16)])
    return spec


def image_classifier_size_range(rng):
    """An image classifier whose input takes any size in a range (global pooling before the dense layer)."""
    from coremltools.models.neural_network import flexible_shape_utils as flexible

    spec = _image_classifier(rng, 1, ["dark", "light", "grey"], global_pool=True)
    sizes = flexible.NeuralNetworkImageSizeRange()
    sizes.add_height_range((8, 20))
    sizes.add_width_range((10, -1))
    flexible.update_image_size_range(spec, "image", sizes)
    return spec


def regressor(rng):
    builder = _mlp(rng, 10, 12, 2, mode="regressor", output_name="value")
    return builder.spec


def _pipeline(kind, stages, inputs, outputs, **kw):
    from coremltools.models import pipeline as pipelines

    cls = {"pipeline": pipelines.Pipeline, "classifier": pipelines.PipelineClassifier,
           "regressor": pipelines.PipelineRegressor}[kind]
    made = cls(inputs, *([kw["labels"]] if kind == "classifier" else []), output_features=outputs) \
        if kind == "classifier" else cls(inputs, outputs)
    for stage in stages:
        made.add_model(stage)
    return made.spec


def pipeline_of(spec):
    """The Pipeline message of a pipeline, pipelineClassifier or pipelineRegressor model."""
    kind = spec.WhichOneof("Type")
    return spec.pipeline if kind == "pipeline" else getattr(spec, kind).pipeline


def pipeline_plain(rng):
    _, datatypes, _ = _ct()
    first = _mlp(rng, 8, 8, 6, output_name="h").spec
    second = _mlp(rng, 6, 8, 3, input_name="h", output_name="y").spec
    return _pipeline("pipeline", [first, second], [("x", datatypes.Array(8))], [("y", datatypes.Array(3))])


def pipeline_classifier(rng):
    _, datatypes, _ = _ct()
    first = _mlp(rng, 8, 8, 6, output_name="h").spec
    builder = _mlp(rng, 6, 8, 3, input_name="h", output_name="probs", mode="classifier")
    builder.set_class_labels([10, 20, 30], prediction_blob="probs")
    return _pipeline("classifier", [first, builder.spec], [("x", datatypes.Array(8))], ["classLabel", "probs"],
                     labels=[10, 20, 30])


def pipeline_regressor(rng):
    _, datatypes, _ = _ct()
    first = _mlp(rng, 5, 8, 4, output_name="h").spec
    second = _mlp(rng, 4, 6, 1, input_name="h", output_name="value", mode="regressor").spec
    return _pipeline("regressor", [first, second], [("x", datatypes.Array(5))], [("value", datatypes.Double())])


def flexible_enumerated(rng):
    from coremltools.models.neural_network import flexible_shape_utils as flexible

    spec = _image_conv_net(rng)
    flexible.add_enumerated_multiarray_shapes(spec, "x", [flexible.NeuralNetworkMultiArrayShape(3, 10, 10),
                                                          flexible.NeuralNetworkMultiArrayShape(3, 16, 16)])
    return spec


def flexible_range(rng):
    from coremltools.models.neural_network import flexible_shape_utils as flexible

    spec = _image_conv_net(rng)
    shape_range = flexible.NeuralNetworkMultiArrayShapeRange()
    shape_range.add_channel_range((3, 3))
    shape_range.add_height_range((8, 32))
    shape_range.add_width_range((8, -1))
    flexible.update_multiarray_shape_range(spec, "x", shape_range)
    return spec


def _image_conv_net(rng):
    """A fully convolutional net on a (3, 10, 10) multi-array (so any input size works)."""
    _, datatypes, Builder = _ct()
    builder = Builder([("x", datatypes.Array(3, 10, 10))], [("y", datatypes.Array(5, 10, 10))])
    weights = rng.standard_normal((3, 3, 3, 5)).astype(np.float32) * 0.3
    builder.add_convolution("conv", kernel_channels=3, output_channels=5, height=3, width=3, stride_height=1,
                            stride_width=1, border_mode="same", groups=1, W=weights,
                            b=rng.standard_normal(5).astype(np.float32), has_bias=True, input_name="x",
                            output_name="c")
    builder.add_activation("sigmoid", "SIGMOID", "c", "y")
    return builder.spec


def same_top_left_relu_output(rng):
    """A 2x2 convolution with TOP_LEFT_HEAVY same padding (odd total padding: the extra row and
    column go first), then a dense layer whose ReLU is the model output."""
    _, datatypes, Builder = _ct()
    builder = Builder([("x", datatypes.Array(2, 5, 5))], [("y", datatypes.Array(4))])
    weights = rng.standard_normal((2, 2, 2, 3)).astype(np.float32)
    builder.add_convolution("conv", kernel_channels=2, output_channels=3, height=2, width=2, stride_height=1,
                            stride_width=1, border_mode="same", groups=1, W=weights, b=None, has_bias=False,
                            input_name="x", output_name="c", same_padding_asymmetry_mode="TOP_LEFT_HEAVY")
    builder.add_flatten("flatten", 0, "c", "f")
    _dense(builder, rng, "fc", 75, 4, "f", "fc_out")
    builder.add_activation("relu", "RELU", "fc_out", "y")
    return builder.spec


BUILDERS = {
    "classifier_string_labels": (classifier_string_labels, 1),
    "classifier_int_labels": (classifier_int_labels, 2),
    "classifier_probability_blob_renamed": (classifier_probability_blob_renamed, 3),
    "image_classifier_gray": (image_classifier_gray, 4),
    "image_classifier_rgb": (image_classifier_rgb, 5),
    "regressor": (regressor, 6),
    "pipeline_plain": (pipeline_plain, 7),
    "pipeline_classifier": (pipeline_classifier, 8),
    "pipeline_regressor": (pipeline_regressor, 9),
    "flexible_enumerated": (flexible_enumerated, 10),
    "flexible_range": (flexible_range, 11),
    "same_top_left_relu_output": (same_top_left_relu_output, 12),
    "image_classifier_flexible_sizes": (image_classifier_flexible_sizes, 13),
    "image_classifier_size_range": (image_classifier_size_range, 14),
}

# Other shapes each flexible kind allows (description level: [C, H, W] arrays, images as C x H x W
# pixels), beside its default one; predict must run them all.
OTHER_ALLOWED_SHAPES = {
    "flexible_enumerated": {"x": [(3, 16, 16)]},
    "flexible_range": {"x": [(3, 8, 8), (3, 20, 12), (1, 3, 32, 41)]},
    "image_classifier_flexible_sizes": {"image": [(3, 16, 16)]},
    "image_classifier_size_range": {"image": [(1, 8, 10), (1, 20, 33)]},
}


def to_fp16(spec):
    """The spec with float16 weights (coremltools' converter; pipelines stage by stage, which its
    converter does not walk)."""
    from coremltools.models.utils import _convert_neural_network_spec_weights_to_fp16 as convert

    if not spec.WhichOneof("Type").startswith("pipeline"):
        return convert(spec)
    pipeline = pipeline_of(spec)
    for stage in pipeline.models:
        stage.CopyFrom(convert(stage))
    spec.specificationVersion = max(spec.specificationVersion, *(m.specificationVersion for m in pipeline.models))
    return spec


def save(kind: str, folder, fp16: bool = False) -> Path:
    coremltools, _, _ = _ct()
    build, seed = BUILDERS[kind]
    spec = build(np.random.default_rng(seed))
    path = Path(folder) / f"{kind}{'_fp16' if fp16 else ''}.mlmodel"
    coremltools.utils.save_spec(to_fp16(spec) if fp16 else spec, str(path))
    return path
