"""Our ML Program bundles against Apple's: for every case in tests/data/coremlc_mlprogram (coremlc
3520.5.1 / 3600.25.1 output, SOURCES.md), the source rebuilt by its `sources.py`, lowered by us:
every `model.mil` equal except the `buildInfo` line, `metadata.json` equal as JSON, the source's
weight files carried over byte for byte, and the bundle predicting like its source.

Known difference, asserted as such: the keys of `EnumeratedShapes` in FlexibleShapeInformation
(8 hex digits whose derivation is unknown, see codegen/mlprogram_bundle.flexible_shape_attribute).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

import mlir_coreml
from mlir_coreml.codegen.lower import lower_model
from tests.data.coremlc_mlprogram.sources import CASES, build

FIXTURES = Path(__file__).resolve().parent.parent / "data" / "coremlc_mlprogram"
ENUMERATED_KEY = re.compile(r'\{"[0-9a-f]{8}", \{')
# input name -> shapes to predict at (flexible inputs at three allowed shapes)
SHAPES = {"flexible-range": {"input": [(4,), (1,), (3,)]}, "flexible-enumerated": {"input": [(4,), (1,), (2,)]},
          "flexible-multifunction": {"input": [(2,), (4,), (1,)]},
          "flexible-weighted-legacy": {"input": [(1, 4), (2, 4), (4, 4)]},
          "flexible-gather": {"data": [(3, 2)] * 3, "indices": [(2, 4), (1, 1), (2, 3)]},
          "pipeline-dynamic": {"input": [(4,), (2,), (1,)]}, "pipeline-dynamic-boundary": {"input": [(8,), (3,), (7,)]}}


def _mil_files(bundle: Path) -> dict[str, str]:
    return {str(p.relative_to(bundle)): p.read_text(encoding="utf-8") for p in sorted(bundle.rglob("model.mil"))}


def _without_build_info(text: str) -> str:
    lines = text.split("\n")
    assert lines[1].startswith("[buildInfo = dict<string, string>({{")
    return "\n".join(lines[:1] + lines[2:])


@pytest.fixture
def lowered(tmp_path):
    def make(case):
        source = build(case, tmp_path / "source")
        bundle = tmp_path / "out.mlmodelc"
        lower_model(source, bundle)
        return source, bundle
    return make


@pytest.mark.parametrize("case", sorted(CASES))
def test_bundle_matches_coremlc(lowered, case):
    source, bundle = lowered(case)
    expected = FIXTURES / case / "expected.mlmodelc"
    want, got = _mil_files(expected), _mil_files(bundle)
    assert sorted(got) == sorted(want)
    for name in want:
        w, g = _without_build_info(want[name]), _without_build_info(got[name])
        if case == "flexible-enumerated":  # the one known difference: the shapes' keys
            w, g = ENUMERATED_KEY.sub('{"KEY", {', w), ENUMERATED_KEY.sub('{"KEY", {', g)
        assert g == w, name
    got_meta = json.loads((bundle / "metadata.json").read_text(encoding="utf-8"))
    want_meta = json.loads((expected / "metadata.json").read_text(encoding="utf-8"))
    assert got_meta == want_meta
    stages = sorted(bundle.glob("model[0-9]*")) or [bundle]  # a pipeline's stages each keep a copy
    for weights in source.parent.rglob("weights/*.bin"):  # carried over as they are
        for stage in stages:
            assert (stage / weights.relative_to(source.parent)).read_bytes() == weights.read_bytes()


@pytest.mark.parametrize("case", sorted(CASES))
def test_bundle_predicts_like_its_source(lowered, case):
    source, bundle = lowered(case)
    model, compiled = mlir_coreml.compile_model(source), mlir_coreml.compile_model(bundle)
    shapes = SHAPES.get(case) or {name: [tuple(t.shape)] for name, t in model.inputs.items()}
    rng = np.random.default_rng(7)
    for i in range(len(next(iter(shapes.values())))):
        inputs = {}
        for name, t in model.inputs.items():
            shape = shapes[name][i]
            if t.element.name == "i32":
                inputs[name] = rng.integers(-3, 3, size=shape).astype(np.int32)
            else:
                inputs[name] = rng.standard_normal(shape).astype(np.float32)
        want, got = model.predict(inputs), compiled.predict(inputs)
        assert sorted(want) == sorted(got)
        for key in want:
            np.testing.assert_array_equal(np.asarray(got[key]), np.asarray(want[key]), err_msg=key)


APPLE_ADD_MODEL = FIXTURES.parent / "apple_add_model" / "add_model.mlmodelc"


def test_apples_compiled_bundle_loads_runs_and_lowers_again(tmp_path):
    """coremltools' add_model.mlmodelc (coremlc 3402.4.1): predicts x * y in fp16 and lowers to
    the same metadata.json, and, for an era before 2025, to the same model.mil except buildInfo
    (the default, 3520's text, spells scalars `string(...)` where 3402 wrote `tensor<string, []>`)."""
    model = mlir_coreml.compile_model(APPLE_ADD_MODEL)
    rng = np.random.default_rng(3)
    x, y = (rng.standard_normal((1, 10)).astype(np.float16) for _ in range(2))
    np.testing.assert_array_equal(model.predict({"x": x, "y": y})["var_3"], x * y)
    apple = (APPLE_ADD_MODEL / "model.mil").read_text()
    apple_lines = apple.split("\n")
    for era, expected_mil in (("2021", apple), (None, apple.replace("tensor<string, []>", "string"))):
        bundle = tmp_path / f"{era}" / "add_model.mlmodelc"
        bundle.parent.mkdir()
        lower_model(APPLE_ADD_MODEL, bundle, coremlc_version=era)
        assert json.loads((bundle / "metadata.json").read_text()) == \
            json.loads((APPLE_ADD_MODEL / "metadata.json").read_text())
        ours = (bundle / "model.mil").read_text().split("\n")
        assert ours[1].startswith("[buildInfo = dict<") and apple_lines[1].startswith("[buildInfo = dict<")
        assert ours[:1] + ours[2:] == expected_mil.split("\n")[:1] + expected_mil.split("\n")[2:]
    np.testing.assert_array_equal(mlir_coreml.compile_model(bundle).predict({"x": x, "y": y})["var_3"], x * y)
