"""Bundles we write for the zoo's NeuralNetwork models load back through our own bundle reader
and predict what the source model (PyTorch) predicts."""
import numpy as np
import pytest

from mlir_coreml.codegen.lower import lower_model
from mlir_coreml.frontend.mlmodelc import read
from mlir_coreml.ir.interpreter import run_module

MODELS = [("mobilenet_v2_small", "nn_fp32"), ("resnet18_small", "nn_fp32"), ("mobilenet_v2_small", "nn_fp16")]


@pytest.mark.parametrize("name, form", MODELS, ids=[f"{n}-{f}" for n, f in MODELS])
def test_lowered_bundle_predicts_the_source_outputs(model_zoo, tmp_path, name, form):
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
