"""The predict API: input checking with clear errors, output names, batches, save/reload,
the CLI's `run`, classifiers, and the error for a frontend dialect without a lowering."""
import os
import subprocess
import sys

import numpy as np
import pytest

from mlir_coreml import MlirCoremlError
from mlir_coreml.runtime.predict import compile_model, run_npz
from mlir_coreml.ir.attributes import to_attr
from mlir_coreml.ir.dialects import core
from mlir_coreml.ir.printer import print_module
from tests.codegen.helpers import Program

RNG = np.random.default_rng(2)


def small_model(classifier=False):
    p = Program(image=RNG.standard_normal((1, 3, 8, 8)).astype(np.float32),
                scale=np.ones((1, 4), np.float32))
    w = p.const(RNG.standard_normal((4, 3, 3, 3)).astype(np.float32))
    y = p.op(core.Conv2dOp, {"input": p.args["image"], "weight": w, "bias": None, "residual": None},
             {"pads": [1, 1, 1, 1], "activation": "relu"}, name="features")
    pooled = p.op(core.ReshapeOp, [p.op(core.GlobalPoolOp, [y])], {"shape": [1, 4]})
    logits = p.op(core.MulOp, [pooled, p.args["scale"]], name="logits")
    probs = p.op(core.SoftmaxOp, [logits], name="probs")
    if classifier:
        p.fn.attributes.update({"coreml.class_labels": to_attr(["a", "b", "c", "d"]),
                                "coreml.predictedFeatureName": to_attr("classLabel"),
                                "coreml.predictedProbabilitiesName": to_attr("probs")})
        return p.finish(probs), p.inputs
    return p.finish(probs, logits), p.inputs


@pytest.fixture(scope="module")
def model():
    module, inputs = small_model()
    return compile_model(module, threads=1), inputs


def test_outputs_are_keyed_by_model_output_names(model):
    m, inputs = model
    out = m.predict(inputs)
    assert list(out) == ["probs", "logits"]
    assert out["probs"].shape == (1, 4) and out["probs"].dtype == np.float32
    assert np.isclose(out["probs"].sum(), 1.0)
    assert m.inputs == {"image": m.function.arguments[0].type, "scale": m.function.arguments[1].type}


def test_batch_predict(model):
    m, inputs = model
    batch = [inputs, {"image": inputs["image"] * 2, "scale": inputs["scale"]}]
    outs = m.predict(batch)
    assert len(outs) == 2
    np.testing.assert_array_equal(outs[0]["probs"], m.predict(inputs)["probs"])


def test_outputs_are_not_overwritten_by_the_next_prediction(model):
    m, inputs = model
    first = m.predict(inputs)
    kept = {k: v.copy() for k, v in first.items()}
    m.predict({"image": inputs["image"] * -3, "scale": inputs["scale"]})
    for k in kept:
        np.testing.assert_array_equal(first[k], kept[k])


def test_unknown_input_name(model):
    m, inputs = model
    with pytest.raises(MlirCoremlError, match=r"unknown input 'imag'; the model's inputs are 'image' \(tensor<1x3x8x8xf32>\)"):
        m.predict({"imag": inputs["image"], "scale": inputs["scale"]})


def test_missing_input(model):
    m, inputs = model
    with pytest.raises(MlirCoremlError, match=r"missing input 'scale' \(expected tensor<1x4xf32>\)"):
        m.predict({"image": inputs["image"]})


def test_wrong_shape(model):
    m, inputs = model
    with pytest.raises(MlirCoremlError, match=r"input 'image' has shape \(1, 3, 8, 9\), but the model expects 1x3x8x8"):
        m.predict({"image": np.zeros((1, 3, 8, 9), np.float32), "scale": inputs["scale"]})


def test_wrong_dtype(model):
    m, inputs = model
    with pytest.raises(MlirCoremlError, match=r"input 'scale' has dtype <U1, but the model expects f32"):
        m.predict({"image": inputs["image"], "scale": np.array([["a"] * 4])})


def test_compatible_dtypes_and_dropped_unit_dims_are_accepted(model):
    m, inputs = model
    ref = m.predict(inputs)["probs"]
    out = m.predict({"image": inputs["image"][0].astype(np.float64), "scale": inputs["scale"]})["probs"]
    np.testing.assert_allclose(out, ref, rtol=1e-6)


def test_not_a_dict(model):
    m, _ = model
    with pytest.raises(MlirCoremlError, match="expects a dict"):
        m.predict(np.zeros(3))


def test_classifier_outputs():
    module, inputs = small_model(classifier=True)
    out = compile_model(module).predict(inputs)
    assert set(out) == {"probs", "classLabel"}
    assert set(out["probs"]) == {"a", "b", "c", "d"}
    assert out["classLabel"] == max(out["probs"], key=out["probs"].get)


def test_save_and_reload(tmp_path, model):
    m, inputs = model
    path = m.save(tmp_path / "model")
    assert path.endswith(".mlir") and os.path.exists(path)
    again = compile_model(path, threads=1)
    for k, v in m.predict(inputs).items():
        np.testing.assert_array_equal(again.predict(inputs)[k], v)


def test_run_npz_and_cli(tmp_path):
    module, inputs = small_model()
    model_path = tmp_path / "m.mlir"
    model_path.write_text(print_module(module, resources=True))
    np.savez(tmp_path / "in.npz", **inputs)
    out = run_npz(str(model_path), str(tmp_path / "in.npz"), str(tmp_path / "out.npz"), threads=1)
    with np.load(tmp_path / "out.npz") as f:
        np.testing.assert_array_equal(f["probs"], out["probs"])
    ref = run_npz(str(model_path), str(tmp_path / "in.npz"), str(tmp_path / "ref.npz"), reference=True)
    np.testing.assert_allclose(ref["probs"], out["probs"], rtol=2e-2, atol=1e-3)
    proc = subprocess.run([sys.executable, "-m", "mlir_coreml", "run", str(model_path), "--inputs",
                           str(tmp_path / "in.npz")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("probs: float32 (1, 4)")


def test_cli_run_reports_bad_input_in_one_line(tmp_path):
    module, inputs = small_model()
    model_path = tmp_path / "m.mlir"
    model_path.write_text(print_module(module, resources=True))
    np.savez(tmp_path / "in.npz", image=inputs["image"])
    proc = subprocess.run([sys.executable, "-m", "mlir_coreml", "run", str(model_path), "--inputs",
                           str(tmp_path / "in.npz"), "--outputs", str(tmp_path / "out.npz")],
                          capture_output=True, text=True)
    assert proc.returncode == 1
    assert proc.stderr.strip() == "error: missing input 'scale' (expected tensor<1x4xf32>); the model's inputs " \
                                  "are 'image' (tensor<1x3x8x8xf32>), 'scale' (tensor<1x4xf32>)"
    assert not (tmp_path / "out.npz").exists()


ESPRESSO_MODEL = """module {
  func.func @main(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
    %relu_out = espresso.activation %x {mode = 0, beta = 0} : tensor<1x2x4x4xf32> loc("relu")
    func.return %relu_out : tensor<1x2x4x4xf32>
  }
}
"""


def test_frontend_dialect_without_lowering_is_a_clear_error(tmp_path, monkeypatch):
    from mlir_coreml.passes import registry

    path = tmp_path / "e.mlir"
    path.write_text(ESPRESSO_MODEL)
    real = registry.get_pass_class
    monkeypatch.setattr(registry, "get_pass_class", lambda name: None if name == "espresso-to-core" else real(name))
    with pytest.raises(MlirCoremlError, match="contains 'espresso' ops, but this build has no 'espresso-to-core'"):
        compile_model(str(path))


def test_image_input_accepts_hwc_uint8():
    p = Program(image=np.zeros((1, 3, 4, 5), np.float32))
    out = p.op(core.ReluOp, [p.args["image"]], name="y")
    p.fn.attributes["coreml.inputs"] = to_attr([{"name": "image", "type": {"imageType": {"width": 5, "height": 4}}}])
    m = compile_model(p.finish(out))
    pixels = RNG.integers(0, 255, (4, 5, 3), dtype=np.uint8)
    got = m.predict({"image": pixels})["y"]
    np.testing.assert_array_equal(got[0], np.transpose(pixels, (2, 0, 1)).astype(np.float32))
    p.fn.attributes["coreml.inputs"] = to_attr([{"name": "image", "type": {"imageType": {"colorSpace": "BGR"}}}])
    bgr = compile_model(p.fn.parent_op).predict({"image": pixels})["y"]
    np.testing.assert_array_equal(bgr[0], np.transpose(pixels[..., ::-1], (2, 0, 1)).astype(np.float32))
