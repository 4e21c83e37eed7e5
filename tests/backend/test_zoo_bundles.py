"""Bundles we write for the zoo's NeuralNetwork models (fp32 and fp16 weights) load back through
our own bundle reader and predict what the source predicts: the reference interpreter on the
bundle against PyTorch, and `predict` on the bundle against `predict` on the `.mlmodel` (names,
shapes, values)."""
import numpy as np
import pytest

import mlir_coreml
from mlir_coreml.codegen.lower import lower_model
from mlir_coreml.frontend.mlmodelc import read
from mlir_coreml.ir.interpreter import run_module

NETWORKS = ("mobilenet_v2_small", "resnet18_small", "squeezenet1_1_small", "unet_small", "transformer_small",
            "lstm", "gru", "gru_loop", "gru_loop_scripted", "mlp")
MODELS = [(name, form) for name in NETWORKS for form in ("nn_fp32", "nn_fp16")]


@pytest.mark.parametrize("name, form", MODELS, ids=[f"{n}-{f}" for n, f in MODELS])
def test_lowered_bundle_predicts_the_source_outputs(model_zoo, tmp_path, monkeypatch, name, form):
    monkeypatch.setenv("MLIR_COREML_CODEGEN", "0")  # the executor: no C build per model
    path, inputs, outputs = model_zoo.get(name, form)
    bundle = tmp_path / "model.mlmodelc"
    lower_model(path, bundle)
    module = read(bundle)
    args = module.body.first_op.body.args
    actual = run_module(module, [np.asarray(inputs[a.name]).reshape(a.type.shape) for a in args])
    tolerance = 1e-4 if form == "nn_fp32" else 3e-2
    for got, (key, want) in zip(actual, outputs.items()):
        want = np.asarray(want, np.float32)
        np.testing.assert_allclose(np.asarray(got).reshape(-1), want.reshape(-1),
                                   atol=tolerance * max(1.0, float(np.abs(want).max())), err_msg=key)
    source = mlir_coreml.compile_model(str(path), threads=1).predict(inputs)
    ours = mlir_coreml.compile_model(str(bundle), threads=1).predict(inputs)
    assert list(ours) == list(source)
    for key, want in source.items():
        got = np.asarray(ours[key])
        assert got.shape == np.asarray(want).shape, key
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * max(1.0, float(np.abs(want).max())),
                                   err_msg=key)
