"""coremltools' `MLModel.predict` conventions through our predict: image inputs (PIL images,
H x W x C uint8 arrays, NHWC models, renamed inputs), image outputs as PIL images, classifiers
(label + probability dict), output shapes and dtypes from the description, the Apple samples
agreeing with their sources; and the runtime never refusing a model: a layer without a core
lowering runs its reference inside the compiled schedule."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from tests.runtime.nn_builder import builder, predict, save
from tests.samples import SAMPLES

ct = pytest.importorskip("coremltools")
Image = pytest.importorskip("PIL.Image")
from coremltools.models.neural_network import utils as nn_utils  # noqa: E402

from mlir_coreml.runtime.predict import compile_model  # noqa: E402

RNG = np.random.default_rng(7)
HWC = RNG.integers(0, 256, (6, 5, 3)).astype(np.uint8)
RGB, BGR = 20, 30  # ImageFeatureType.ColorSpace


def save_spec(spec, folder, name="model"):
    path = str(folder / f"{name}.mlmodel")
    ct.models.utils.save_spec(spec, path)
    return path


def image_model(tmp_path, is_bgr=False, scale=1.0, **bias):
    b = builder({"image": (3, 6, 5)}, rank5=True)
    b.add_activation("identity", "LINEAR", "image", "output", params=[1.0, 0.0])
    b.set_pre_processing_parameters(image_input_names=["image"], is_bgr=is_bgr, image_scale=scale, **bias)
    return b.spec


@pytest.mark.parametrize("as_pil", [True, False])
def test_image_inputs_take_pil_images_and_hwc_arrays(as_pil, tmp_path):
    spec = image_model(tmp_path, scale=0.5, red_bias=-1.0)
    model = compile_model(save_spec(spec, tmp_path), threads=1)
    value = Image.fromarray(HWC) if as_pil else HWC
    out = model.predict({"image": value})["output"]
    want = HWC.transpose(2, 0, 1) * 0.5 + np.float32([-1, 0, 0]).reshape(3, 1, 1)
    np.testing.assert_allclose(out.reshape(want.shape), want, rtol=1e-6)


def test_bgr_models_see_swapped_channels_and_renamed_inputs_keep_preprocessing(tmp_path):
    spec = image_model(tmp_path, is_bgr=True, blue_bias=3.0)
    ct.utils.rename_feature(spec, "image", "picture")
    out = compile_model(save_spec(spec, tmp_path), threads=1).predict({"picture": Image.fromarray(HWC)})["output"]
    want = HWC[..., ::-1].transpose(2, 0, 1) + np.float32([3, 0, 0]).reshape(3, 1, 1)
    np.testing.assert_allclose(out.reshape(want.shape), want)


def test_nhwc_image_input_adds_a_transpose_to_the_hwc_array(tmp_path):
    """coremltools' make_image_input(image_format="NHWC") on an H x W x C array model: a rank-3
    transpose after the (rank-4) image blob."""
    b = builder({"data": (6, 5, 3)})
    b.add_activation("affine", "LINEAR", "data", "output", params=[2.0, 1.0])
    model = nn_utils.make_image_input(ct.models.MLModel(b.spec, skip_model_load=True), "data", scale=1 / 255.0,
                                      image_format="NHWC")
    out = compile_model(save_spec(model.get_spec(), tmp_path), threads=1).predict({"data": Image.fromarray(HWC)})
    np.testing.assert_allclose(out["output"], HWC / 255.0 * 2 + 1, rtol=1e-5)


@pytest.mark.parametrize("space", [RGB, BGR])
def test_image_outputs_are_pil_images(space, tmp_path):
    spec = image_model(tmp_path)
    out = spec.description.output[0].type.imageType
    out.width, out.height, out.colorSpace = 5, 6, space
    result = compile_model(save_spec(spec, tmp_path), threads=1).predict({"image": HWC})["output"]
    assert isinstance(result, Image.Image) and result.mode == "RGB" and result.size == (5, 6)
    # a BGR output's blob holds B, G, R: here the RGB input passed through, so R and B swap
    np.testing.assert_array_equal(np.asarray(result), HWC if space == RGB else HWC[..., ::-1])


@pytest.mark.parametrize("labels", [["cat", "dog", "eel"], [10, 20, 30]])
def test_classifiers_return_label_and_probability_dict(labels, tmp_path):
    w = RNG.standard_normal((3, 4)).astype(np.float32)
    b = builder({"data": (4,)}, outputs=("probs",))
    b.add_inner_product("ip", w, None, 4, 3, False, "data", "logits")
    b.add_softmax_nd("softmax", "logits", "probs", axis=-1)
    model = nn_utils.make_nn_classifier(ct.models.MLModel(b.spec, skip_model_load=True), labels,
                                        predicted_feature_name="label", predicted_probabilities_output="probs")
    x = RNG.standard_normal(4).astype(np.float32)
    out = compile_model(save_spec(model.get_spec(), tmp_path), threads=1).predict({"data": x})
    logits = w @ x
    probs = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    assert set(out) == {"probs", "label"}
    assert list(out["probs"]) == labels
    np.testing.assert_allclose(list(out["probs"].values()), probs, rtol=1e-5)
    assert out["label"] == labels[int(np.argmax(probs))]


def test_outputs_take_the_declared_shape_and_data_type(tmp_path):
    """A rank-5 NeuralNetwork declaring [C] DOUBLE gets [C] float64, as Core ML returns it."""
    b = builder({"data": (6,)}, outputs=("output",), rank5=True)
    b.add_activation("relu", "RELU", "data", "output")
    b.spec.description.output[0].type.multiArrayType.shape.extend([6])
    x = RNG.standard_normal(6).astype(np.float32)
    out = predict(b, tmp_path, {"data": x})["output"]
    assert out.shape == (6,) and out.dtype == np.float64
    np.testing.assert_array_equal(out, np.maximum(x, 0))


def test_undeclared_output_shape_of_a_rank5_network_is_rank5(tmp_path):
    b = builder({"data": (6,)}, outputs=("output",), rank5=True)
    b.add_activation("relu", "RELU", "data", "output")
    out = predict(b, tmp_path, {"data": RNG.standard_normal(6).astype(np.float32)})["output"]
    assert out.shape == (1, 1, 6, 1, 1)


# -- the Apple samples: the bundle predicts like its source, under the same names and shapes ------

PAIRS = sorted(p for p in SAMPLES.glob("*") if list(p.glob("source/*.mlmodel")) and list(p.glob("*.mlmodelc")))


def sample_inputs(model):
    feeds = {}
    for name, t in model.inputs.items():
        kind = (model.signature.input_features.get(name) or {}).get("type", {})
        shape = tuple(t.shape)
        feeds[name] = RNG.integers(0, 256, shape[-2:] + shape[-3:-2]).astype(np.uint8) if "imageType" in kind \
            else RNG.standard_normal(shape).astype(np.float32)
    return feeds


@pytest.mark.skipif(not PAIRS, reason="no paired Apple samples in tests/data/espresso_samples")
@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: p.name)
def test_apple_and_our_bundles_predict_like_their_source(pair, tmp_path):
    from mlir_coreml.codegen.lower import lower_model

    source_path = str(next(pair.glob("source/*.mlmodel")))
    ours = tmp_path / "ours.mlmodelc"
    lower_model(source_path, str(ours))
    source = compile_model(source_path, threads=1)
    feeds = sample_inputs(source)
    want = source.predict(feeds)
    for bundle in (next(pair.glob("*.mlmodelc")), ours):
        got = compile_model(str(bundle), threads=1).predict(feeds)
        assert list(got) == list(want), bundle.name
        for name in want:
            assert got[name].shape == want[name].shape and got[name].dtype == want[name].dtype, (bundle.name, name)
            scale = max(float(np.abs(want[name]).max()), 1.0)
            assert float(np.abs(got[name] - want[name]).max()) <= 1e-3 * scale, (bundle.name, name)


# -- no model refused ---------------------------------------------------------------------------------

def lstm_with_cell_clipping(tmp_path):
    """The recurrent core of a Turi Create activity classifier: an LSTM with cell clipping,
    which no core lowering maps."""
    hidden, features = 4, 3
    b = builder({"data": (features,)}, outputs=("output",), rank5=True)
    w_h = [RNG.standard_normal((hidden, hidden)).astype(np.float32) * 0.5 for _ in range(4)]
    w_x = [RNG.standard_normal((hidden, features)).astype(np.float32) * 0.5 for _ in range(4)]
    bias = [RNG.standard_normal(hidden).astype(np.float32) for _ in range(4)]
    b.add_unilstm("lstm", w_h, w_x, bias, hidden, features, ["data"], ["lstm_out", "h", "c"],
                  cell_clip_threshold=0.25, output_all=True)
    b.add_inner_product("dense", RNG.standard_normal((2, hidden)).astype(np.float32), None, hidden, 2, False,
                        "lstm_out", "logits")
    b.add_softmax("softmax", "logits", "output")
    return save(b, tmp_path, "activity")


@pytest.mark.parametrize("codegen", [False, True])
def test_layer_without_lowering_falls_back_inside_the_schedule(codegen, tmp_path):
    from mlir_coreml.frontend.mlmodel import read
    from mlir_coreml.ir.interpreter import run_module

    path = lstm_with_cell_clipping(tmp_path)
    model = compile_model(path, threads=1, codegen=codegen)
    assert {s.op.op_name for s in model.executor.steps if s.kind == "reference"} >= {"nn.uni_directional_lstm"}
    assert model.executor.kernel_ops + len(model.executor.steps) > 1  # the rest is compiled as usual
    x = RNG.standard_normal((1, 1, 3, 1, 1)).astype(np.float32)
    want = run_module(read(path), [x])[0]
    np.testing.assert_allclose(model.predict({"data": x})["output"], want, rtol=1e-5, atol=1e-6)


def test_bench_profile_names_the_ops_that_fell_back(tmp_path):
    from mlir_coreml.runtime.bench import profile_model

    report = profile_model(lstm_with_cell_clipping(tmp_path), runs=1)
    assert "run by their reference implementation: nn.uni_directional_lstm" in report
    assert "nn.uni_directional_lstm [fallback]" in report


def test_nn_to_core_without_fallback_still_names_the_layer(tmp_path):
    import mlir_coreml
    from mlir_coreml.passes.manager import PassManager

    module = mlir_coreml.load(lstm_with_cell_clipping(tmp_path))
    with pytest.raises(mlir_coreml.MlirCoremlError, match=r"layer 'lstm'"):
        PassManager.from_pipeline("nn-to-core").run(module)


# -- run --inputs: one error line ---------------------------------------------------------------------

@pytest.mark.parametrize("content", [b"a,b\n1,2\n", b"\x93NUMPY\x01\x00v\x00{'descr': '<f8'}", b"PK\x03\x04broken"])
def test_run_with_an_inputs_file_that_is_not_an_npz(content, tmp_path):
    b = builder({"data": (3,)})
    b.add_activation("relu", "RELU", "data", "output")
    model = save(b, tmp_path)
    bad = tmp_path / "inputs.csv"
    bad.write_bytes(content)
    out = tmp_path / "out.npz"
    proc = subprocess.run([sys.executable, "-m", "mlir_coreml", "run", model, "--inputs", str(bad),
                           "--outputs", str(out)], capture_output=True, text=True)
    assert proc.returncode != 0 and not out.exists()
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and str(bad) in lines[0] and "npz" in lines[0], proc.stderr


def test_flexible_image_sizes(tmp_path):
    from coremltools.models.neural_network import flexible_shape_utils as flexible

    from mlir_coreml import MlirCoremlError

    b = builder({"image": (3, 6, 5)}, rank5=True)
    b.add_pooling("pool", 2, 2, 2, 2, "AVERAGE", "VALID", "image", "output")
    b.set_pre_processing_parameters(image_input_names=["image"])
    flexible.update_image_size_range(b.spec, "image", flexible.NeuralNetworkImageSizeRange(
        height_range=(4, 16), width_range=(4, -1)))
    model = compile_model(save(b, tmp_path), threads=1)
    for h, w in [(6, 5), (10, 20), (4, 4)]:
        pixels = RNG.integers(0, 256, (h, w, 3)).astype(np.uint8)
        out = model.predict({"image": Image.fromarray(pixels)})["output"]
        want = pixels[:h // 2 * 2, :w // 2 * 2].reshape(h // 2, 2, w // 2, 2, 3).mean(axis=(1, 3)).transpose(2, 0, 1)
        np.testing.assert_allclose(out.reshape(want.shape), want, rtol=1e-5)
    with pytest.raises(MlirCoremlError, match=r"input 'image' is an image of 20x5 .*allowed: 4\.\.16x4\.\.inf"):
        model.predict({"image": RNG.integers(0, 256, (20, 5, 3)).astype(np.uint8)})


def test_pipelines_and_regressors_predict_under_their_declared_names(tmp_path):
    from coremltools.models import datatypes
    from coremltools.models.neural_network import NeuralNetworkBuilder
    from coremltools.models.pipeline import Pipeline

    first = builder({"data": (4,)}, outputs=("mid",))
    first.add_activation("relu", "RELU", "data", "mid")
    second = NeuralNetworkBuilder([("mid", datatypes.Array(4))], [("score", None)], mode="regressor",
                                  disable_rank5_shape_mapping=True)
    w = RNG.standard_normal((1, 4)).astype(np.float32)
    second.add_inner_product("dense", w, None, 4, 1, False, "mid", "score")
    pipeline = Pipeline([("data", datatypes.Array(4))], [("score", datatypes.Array(1))])
    pipeline.add_model(first.spec)
    pipeline.add_model(second.spec)
    x = RNG.standard_normal(4).astype(np.float32)
    out = compile_model(save_spec(pipeline.spec, tmp_path), threads=1).predict({"data": x})
    assert list(out) == ["score"] and out["score"].dtype == np.float64
    np.testing.assert_allclose(out["score"], w @ np.maximum(x, 0), rtol=1e-5)


def test_ml_program_flexible_shapes_and_description(tmp_path):
    """An ML Program's description (module attribute) drives the same conventions and the same
    per-shape variants."""
    torch = pytest.importorskip("torch")

    class Net(torch.nn.Module):
        def forward(self, x):
            return torch.softmax(x * 2.0, dim=-1).transpose(0, 1)

    traced = torch.jit.trace(Net().eval(), torch.randn(2, 5))
    shape = (ct.RangeDim(1, 8, default=2), 5)
    mlmodel = ct.convert(traced, inputs=[ct.TensorType(name="x", shape=shape)], convert_to="mlprogram",
                         compute_precision=ct.precision.FLOAT32)
    path = str(tmp_path / "flexible.mlpackage")
    mlmodel.save(path)
    model = compile_model(path, threads=1)
    (name,) = [o.name for o in mlmodel.get_spec().description.output]
    for rows in (2, 6):
        x = RNG.standard_normal((rows, 5)).astype(np.float32)
        e = np.exp(2 * x)
        out = model.predict({"x": x})
        assert list(out) == [name]
        np.testing.assert_allclose(out[name], (e / e.sum(-1, keepdims=True)).T, rtol=1e-5)


def test_grayscale_image_input(tmp_path):
    b = builder({"gray": (1, 6, 5)}, rank5=True)
    b.add_activation("identity", "LINEAR", "gray", "output", params=[1.0, 0.0])
    b.set_pre_processing_parameters(image_input_names=["gray"], image_scale=1 / 255.0)
    model = compile_model(save(b, tmp_path), threads=1)
    pixels = HWC[..., 0]
    for value in (pixels, Image.fromarray(pixels, mode="L"), Image.fromarray(HWC)):
        out = model.predict({"gray": value})["output"]
        want = np.asarray(Image.fromarray(HWC).convert("L")) if isinstance(value, Image.Image) and \
            value.mode == "RGB" else pixels
        np.testing.assert_allclose(out.reshape(6, 5), want / 255.0, rtol=1e-6)


# Our bundle of every zoo model predicting like its source: tests/backend/test_predict_parity.py.


def test_rank0_inputs_stay_rank0():
    """An ML Program's scalar input (`tensor<f32>`, a MIL rank-0 tensor) is fed as a 0-d array
    (numpy's ascontiguousarray alone would make it 1-d and miss the compiled shape)."""
    from mlir_coreml.ir.parser import parse_module

    module = parse_module("""module attributes {mil.program_version = 1} {
  func.func @main(%x: tensor<f32>, %v: tensor<3xf32>) -> tensor<3xf32> attributes {opset = "ios17"} {
    %y = mil.mul %v, %x : (tensor<3xf32>, tensor<f32>) -> tensor<3xf32> loc("y")
    func.return %y : tensor<3xf32>
  }
}""")
    model = compile_model(module, threads=1)
    v = np.array([1.0, -2.0, 3.0], np.float32)
    np.testing.assert_allclose(model.predict({"x": np.float32(-2.0), "v": v})["y"], -2.0 * v)
