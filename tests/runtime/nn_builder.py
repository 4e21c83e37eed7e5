"""Layer-level NeuralNetwork models in the style of coremltools' own NeuralNetwork tests: a
NeuralNetworkBuilder with one or a few layers, saved as `.mlmodel`, run through our predict."""
from __future__ import annotations

import os

import numpy as np
import pytest

ct = pytest.importorskip("coremltools")
from coremltools.models import datatypes  # noqa: E402
from coremltools.models.neural_network import NeuralNetworkBuilder  # noqa: E402
from coremltools.models.utils import save_spec  # noqa: E402

from mlir_coreml.runtime.predict import compile_model  # noqa: E402


def builder(inputs: dict, outputs=("output",), rank5: bool = False) -> NeuralNetworkBuilder:
    """A builder with multi-array inputs `name -> shape` (exact ND mapping unless `rank5`)."""
    features = [(name, datatypes.Array(*shape)) for name, shape in inputs.items()]
    return NeuralNetworkBuilder(features, [(name, None) for name in outputs],
                                disable_rank5_shape_mapping=not rank5)


def save(b: NeuralNetworkBuilder, folder, name: str = "model") -> str:
    path = os.path.join(os.fspath(folder), f"{name}.mlmodel")
    save_spec(b.spec, path)
    return path


def predict(b: NeuralNetworkBuilder, folder, inputs: dict, **options) -> dict:
    return compile_model(save(b, folder), threads=1, **options).predict(inputs)
