"""Flexible input shapes (range and enumerated) and multi-function ML Programs, end to end.

Zoo models (every small network whose input length or size can vary, and a layer model) converted
again with flexible inputs predict like PyTorch at three shapes each; each
shape compiles once (a shape seen before reuses its compiled schedule); a shape outside the
allowed set is one clear error naming the input and the allowed shapes; the lowered bundle keeps
the flexibility (model.mil's FlexibleShapeInformation, metadata.json's schema fields) and
predicts like its source. Multi-function packages (coremltools' save_multifunction) run the
default function unless `function_name` picks another.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

import mlir_coreml
from mlir_coreml.codegen.lower import lower_model
from mlir_coreml.errors import MlirCoremlError

pytest.importorskip("coremltools")
pytest.importorskip("torch")

from tests.mlprogram.flexible_models import FLEXIBLE, cached_convert, expected, multifunction  # noqa: E402

# every zoo model with range shapes; the network (the slow one to compile per shape) not twice
CASES = [(name, kind) for name in FLEXIBLE for kind in ("range", "enumerated")
         if (name, kind) != ("mobilenet_v2_small", "enumerated")]


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    """Conversions are cached beside the zoo's (MLIR_COREML_FIXTURES, else tests/.fixtures)."""
    import os
    from pathlib import Path

    root = os.environ.get("MLIR_COREML_FIXTURES") or Path(__file__).resolve().parent.parent / ".fixtures"

    def get(name, kind, target="iOS17"):
        return cached_convert(name, kind, target, root)

    return get


def _close(got: dict, want: dict):
    for key, w in want.items():
        g = np.asarray(got[key], np.float64).reshape(w.shape)
        err = np.abs(g - w).max() / max(np.abs(w).max(), 1e-12)
        assert err <= 1e-4, (key, err)


@pytest.mark.parametrize("name, kind", CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_flexible_model_predicts_at_three_shapes(converted, tmp_path, name, kind):
    path = converted(name, kind)
    model = mlir_coreml.compile_model(path)
    _, shapes = FLEXIBLE[name]
    for shape in shapes + shapes[:1]:
        inputs, want = expected(name, shape)
        _close(model.predict(inputs), want)
    assert model.schedules.compilations == 3  # the repeated first shape did not compile again

    bundle = tmp_path / "model.mlmodelc"
    lower_model(path, bundle)
    text = (bundle / "model.mil").read_text()
    assert "[FlexibleShapeInformation = " in text
    assert ("RangeDims" if kind == "range" else "EnumeratedShapes") in text
    schema = json.loads((bundle / "metadata.json").read_text())[0]["inputSchema"][0]
    assert schema["hasShapeFlexibility"] == "1"
    assert ("shapeRange" if kind == "range" else "enumeratedShapes") in schema
    compiled = mlir_coreml.compile_model(bundle)
    for shape in shapes:
        inputs, want = expected(name, shape)
        _close(compiled.predict(inputs), want)


def test_flexibility_survives_the_ir_text(converted):
    """The allowed shapes live in the module's description attribute: print -> parse keeps them."""
    from mlir_coreml.ir.parser import parse_module
    from mlir_coreml.ir.printer import print_module

    module = mlir_coreml.load(converted("layer_conv", "enumerated"))
    text = print_module(module, resources=True)
    assert print_module(parse_module(text), resources=True) == text
    model = mlir_coreml.compile_model(parse_module(text))
    inputs, want = expected("layer_conv", FLEXIBLE["layer_conv"][1][1])
    _close(model.predict(inputs), want)
    with pytest.raises(MlirCoremlError, match="input 'x' has shape 1x8x5x5"):
        model.predict({"x": np.zeros((1, 8, 5, 5), np.float32)})


def test_shape_outside_the_allowed_set_is_a_clear_error(converted):
    path = converted("layer_conv", "enumerated")
    model = mlir_coreml.compile_model(path)
    with pytest.raises(MlirCoremlError) as err:
        model.predict({"x": np.zeros((1, 8, 5, 5), np.float32)})
    message = str(err.value)
    assert "input 'x'" in message and "1x8x16x16" in message and "1x8x4x9" in message
    assert str(path) in message
    path = converted("layer_conv", "range")
    with pytest.raises(MlirCoremlError, match=r"input 'x' has shape 1x8x40x4.*1x8x4\.\.32x4\.\.32"):
        mlir_coreml.compile_model(path).predict({"x": np.zeros((1, 8, 40, 4), np.float32)})


def test_multifunction_model_runs_the_chosen_function(converted, tmp_path):
    first = converted("layer_conv", "range", "iOS18")
    second = converted("mlp", "enumerated", "iOS18")
    package = multifunction({"conv": first, "mlp": second}, tmp_path / "multi.mlpackage", default="mlp")
    bundle = tmp_path / "multi.mlmodelc"
    lower_model(package, bundle)
    for source in (package, bundle):
        default = mlir_coreml.compile_model(source)
        conv = mlir_coreml.compile_model(source, function_name="conv")
        for i in range(3):
            inputs, want = expected("mlp", FLEXIBLE["mlp"][1][i])
            _close(default.predict(inputs), want)
            inputs, want = expected("layer_conv", FLEXIBLE["layer_conv"][1][i])
            _close(conv.predict(inputs), want)
        with pytest.raises(MlirCoremlError, match="no function 'nope'.*conv, mlp|no function 'nope'.*mlp, conv"):
            mlir_coreml.compile_model(source, function_name="nope")
    meta = json.loads((bundle / "metadata.json").read_text())[0]
    assert meta["defaultFunctionName"] == "mlp"
    assert sorted(f["name"] for f in meta["functions"]) == ["conv", "mlp"]
    assert all(f["inputSchema"] and f["outputSchema"] for f in meta["functions"])


def test_every_flexible_zoo_model_as_a_function_of_one_multifunction_model(converted, tmp_path):
    """All of FLEXIBLE in one multi-function package (range and enumerated shapes alternating):
    each function, picked by name, predicts like PyTorch at its three shapes, from the package and
    from the lowered bundle, compiling each shape once."""
    kinds = {name: ("range", "enumerated")[i % 2] for i, name in enumerate(FLEXIBLE)}
    kinds["mobilenet_v2_small"] = "range"  # the slow one to compile per shape: not twice
    paths = {name: converted(name, kind, "iOS18") for name, kind in kinds.items()}
    package = multifunction(paths, tmp_path / "zoo.mlpackage", default=next(iter(paths)))
    bundle = tmp_path / "zoo.mlmodelc"
    lower_model(package, bundle)
    meta = json.loads((bundle / "metadata.json").read_text())[0]
    assert sorted(f["name"] for f in meta["functions"]) == sorted(FLEXIBLE)
    for source in (package, bundle):
        for name, kind in kinds.items():
            model = mlir_coreml.compile_model(source, function_name=name)
            for shape in FLEXIBLE[name][1]:
                inputs, want = expected(name, shape)
                _close(model.predict(inputs), want)
            assert model.schedules.compilations == 3, (source, name)
