"""Classical Core ML models for the tests, made the way users make them: coremltools' scikit-learn
converters (and its proto classes where no converter fits), with fixed seeds.

coremltools 9.0 gates its scikit-learn converters on scikit-learn <= 1.5.1; the converters
themselves work with the installed 1.9 for every model used here, so `convert` lifts the gate
(and gives LogisticRegression back the `multi_class` attribute 1.8 removed).
"""
from __future__ import annotations

import logging
import warnings

import numpy as np


def coremltools():
    import pytest

    ct = pytest.importorskip("coremltools")
    pytest.importorskip("sklearn")
    logging.getLogger("coremltools").setLevel(logging.ERROR)
    import coremltools._deps as deps

    deps._HAS_SKLEARN = True
    return ct


def convert(model, inputs, output) -> bytes:
    """The serialized Model protobuf coremltools' scikit-learn converter makes of `model`."""
    coremltools()
    from coremltools.converters import sklearn as converter

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return converter.convert(model, inputs, output).get_spec().SerializeToString()


def load(data: bytes, tmp_path, name="model"):
    """Write `data` as an .mlmodel and compile it with the public API."""
    import mlir_coreml

    path = tmp_path / f"{name}.mlmodel"
    path.write_bytes(data)
    return mlir_coreml.compile_model(str(path)), path


def dataset(seed: int, rows: int = 80, features: int = 4, classes: int = 2):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, features))
    w = rng.normal(size=(features, classes))
    y = np.argmax(X @ w + 0.3 * rng.normal(size=(rows, classes)), axis=1)
    return X, y, X @ w[:, 0] + 0.1 * rng.normal(size=rows)


# -- protobufs built directly (coremltools' own proto classes) ------------------------------------

def model_spec(spec_version: int = 4):
    coremltools()
    from coremltools.proto import Model_pb2

    spec = Model_pb2.Model()
    spec.specificationVersion = spec_version
    return spec


def feature(features, name: str, kind: str, shape=(), key: str = "string", optional: bool = False):
    """Add a FeatureDescription: kind is double, int64, string, array (DOUBLE multi-array of
    `shape`), dict (keyed by `key`), sequence (of `key`) or image (`shape` = (h, w))."""
    f = features.add()
    f.name = name
    t = f.type
    if kind == "array":
        t.multiArrayType.shape.extend(shape)
        t.multiArrayType.dataType = 65600  # DOUBLE
    elif kind == "dict":
        (t.dictionaryType.stringKeyType if key == "string" else t.dictionaryType.int64KeyType).SetInParent()
    elif kind == "sequence":
        (t.sequenceType.stringType if key == "string" else t.sequenceType.int64Type).SetInParent()
    elif kind == "image":
        t.imageType.height, t.imageType.width = shape
        t.imageType.colorSpace = 20  # RGB
    else:
        getattr(t, f"{kind}Type").SetInParent()
    if optional:
        t.isOptional = True
    return f


def check_round_trip(path, data: bytes) -> None:
    """The IR of `path` prints, parses and prints identically, and exports to the source protobuf."""
    import mlir_coreml
    from mlir_coreml.codegen.mlmodel_writer import module_to_spec
    from mlir_coreml.frontend.proto import model_pb2
    from mlir_coreml.ir.parser import parse_module
    from mlir_coreml.ir.printer import print_module

    module = mlir_coreml.load(str(path))
    text = print_module(module, resources=True)
    again = parse_module(text)
    assert print_module(again, resources=True) == text
    source = model_pb2.Model.FromString(data)
    assert module_to_spec(module) == source
    assert module_to_spec(again) == source
