"""Every model form predicts alike (issue 18): the source `.mlmodel`, the bundle `lower` writes from it
and, where there is one, Apple's compiled bundle give the same output names (the description's), the
same shapes and dtypes, and the same values within the usual tolerances, for

* every zoo model (test-sized and full-size) in NN fp32 and NN fp16 form,
* every Apple sample bundle (with its source where the sample has one),
* classifiers (string and int64 labels), regressors, pipelines (plain, classifier, regressor) and
  flexible-shape networks built with coremltools' NeuralNetworkBuilder from fixed seeds
  (tests/backend/network_kinds.py).
"""
from __future__ import annotations

import numpy as np
import pytest

import mlir_coreml
from mlir_coreml.codegen.lower import lower_model
from tests.backend import network_kinds
from tests.samples import SAMPLES, SHARED_ONLY, SHARED_SAMPLES

ZOO_FORMS = ("nn_fp32", "nn_fp16")
TOLERANCE = {"fp32": 1e-4, "fp16": 3e-2}


def _zoo_names():
    try:
        from tests.models.zoo import names
    except ImportError:  # torch is a test-only dependency
        return []
    return names()  # the full-size networks too: the Done-when of issue 18 is every zoo model


def _sample_dirs():
    dirs = sorted(p for p in SAMPLES.iterdir() if p.is_dir())
    dirs += [SHARED_SAMPLES / name for name in SHARED_ONLY]
    return dirs


def feeds_for(model, values: dict) -> dict:
    """`values` (one array per input name) in the shape each compiled model declares."""
    return {name: np.asarray(values[name]).astype(t.element.numpy_dtype).reshape(t.shape)
            for name, t in model.inputs.items()}


def random_inputs(model, seed: int = 0, scale: float = 1.0) -> dict:
    rng = np.random.default_rng(seed)
    return {name: (rng.random(t.shape) * scale).astype(np.float32) for name, t in model.inputs.items()}


def assert_same_outputs(expected: dict, actual: dict, tolerance: float, what: str) -> None:
    assert list(actual) == list(expected), f"{what}: output names"
    for name, want in expected.items():
        got = actual[name]
        if isinstance(want, dict):  # a classifier's probabilities
            assert list(got) == list(want), f"{what}: labels of '{name}'"
            got, want = np.array(list(got.values())), np.array(list(want.values()))
        elif not isinstance(want, np.ndarray):  # a classifier's label
            assert type(got) is type(want), f"{what}: type of '{name}'"
            continue  # equal when the probabilities are (a near tie may pick another label)
        else:
            assert got.shape == want.shape, f"{what}: shape of '{name}'"
            assert got.dtype == want.dtype, f"{what}: dtype of '{name}'"
        scale = max(1.0, float(np.abs(want).max()))
        np.testing.assert_allclose(got, want, atol=tolerance * scale, rtol=0, err_msg=f"{what}: '{name}'")


def assert_forms_agree(paths: list, tolerance: float, scale: float = 1.0, values: dict | None = None) -> list[str]:
    """The forms at `paths` predict alike on `values` (default: one random input); returns the
    output names."""
    models = [mlir_coreml.compile_model(str(p)) for p in paths]
    values = random_inputs(models[0], scale=scale) if values is None else values
    expected = models[0].predict(feeds_for(models[0], values))
    for path, model in zip(paths[1:], models[1:]):
        assert_same_outputs(expected, model.predict(feeds_for(model, values)), tolerance, str(path))
    return list(expected)


def description_output_names(mlmodel) -> list[str]:
    from mlir_coreml.frontend.proto import model_pb2

    spec = model_pb2.Model()
    spec.ParseFromString(mlmodel.read_bytes())
    return [f.name for f in spec.description.output]


# -- the zoo --------------------------------------------------------------------------------------
@pytest.mark.parametrize("form", ZOO_FORMS)
@pytest.mark.parametrize("name", _zoo_names())
def test_zoo_model_source_and_bundle_agree(model_zoo, tmp_path, name, form):
    path, inputs, _ = model_zoo.get(name, form)  # the zoo's inputs: normal values, valid indices
    bundle = tmp_path / "model.mlmodelc"
    lower_model(path, bundle)
    names = assert_forms_agree([path, bundle], TOLERANCE[form[-4:]], values=inputs)
    assert names == description_output_names(path)


# -- Apple's samples ------------------------------------------------------------------------------
@pytest.mark.parametrize("sample", _sample_dirs(), ids=lambda p: p.name.split("__")[-1])
def test_apple_sample_source_ours_and_apple_agree(tmp_path, sample):
    if not sample.is_dir():
        pytest.skip(f"shared sample folder {sample} is absent (set MLIR_COREML_SHARED_SAMPLES)")
    from tests.backend.test_paired_samples import PAIRED

    apple = next(sample.glob("*.mlmodelc"))
    sources = sorted((sample / "source").glob("*.mlmodel"))
    if not sources:  # no source: Apple's bundle runs, outputs named as its description says
        from mlir_coreml.frontend.espresso import read_bundle
        from mlir_coreml.frontend.proto import model_pb2

        model = mlir_coreml.compile_model(str(apple))
        out = model.predict(random_inputs(model, scale=255.0))
        desc = model_pb2.ModelDescription()
        desc.ParseFromString(read_bundle(apple).coremldata.description)
        assert list(out) == [f.name for f in desc.output]  # uxmodel: `output1`, not its last blob's name
        assert all(np.all(np.isfinite(v)) for v in out.values() if isinstance(v, np.ndarray))
        return
    ours = tmp_path / apple.name
    era = PAIRED.get(sample.name, ("2021",))[0]
    lower_model(sources[0], ours, coremlc_version=era)
    fp16 = "fp16" in sample.name or "SSDOcr" in sample.name
    # images scaled like real pixels; fp16 samples are compared at fp16 tolerance
    names = assert_forms_agree([sources[0], ours, apple], TOLERANCE["fp16" if fp16 else "fp32"], scale=255.0)
    assert sorted(names) == sorted(description_output_names(sources[0]))


def _other_allowed_shape(rule) -> tuple[tuple, int | None]:
    """A shape `rule` allows besides the smallest one, and the one dim that differs (None for an
    enumeration)."""
    if rule.enumerated:
        return rule.enumerated[-1], None
    lows = [lo for lo, _ in rule.ranges]
    axis = next(i for i, (lo, hi) in enumerate(rule.ranges) if hi < 0 or hi > lo)
    lows[axis] += 2
    return tuple(lows), axis


def test_apple_flexible_bundles_predict_other_allowed_shapes():
    """Apple's bundles with flexible inputs (parkinson_wave: any batch) run at other allowed shapes;
    a batch predicts what its samples predict one by one."""
    from mlir_coreml.codegen.espresso.bundle_writer import main_function
    from mlir_coreml.runtime.predict import Signature

    bundles = [str(next(d.glob("*.mlmodelc"))) for d in _sample_dirs() if d.is_dir()]
    if not bundles:
        pytest.skip(f"no sample bundles at {SAMPLES} or {SHARED_SAMPLES}")
    flexible = [b for b in bundles if Signature(main_function(mlir_coreml.load(b))).shape_rules]
    assert flexible, "the samples include a flexible-shape bundle (parkinson_wave)"
    models = [mlir_coreml.compile_model(b) for b in flexible]
    rng = np.random.default_rng(0)
    for model in models:
        (name, rule), = model.signature.shape_rules.items()
        shape, axis = _other_allowed_shape(rule)
        x = rng.random(shape).astype(np.float32)
        out = model.predict({name: x})
        assert list(out) == model.output_names
        if axis != 0:
            continue
        for i in range(shape[0]):
            one = model.predict({name: x[i:i + 1]})
            for key, value in out.items():
                np.testing.assert_allclose(value[i:i + 1], one[key], rtol=1e-5, atol=1e-6, err_msg=key)


# -- classifiers, regressors, pipelines, flexible shapes ----------------------------------------------
@pytest.mark.parametrize("form", ZOO_FORMS)
@pytest.mark.parametrize("kind", sorted(network_kinds.BUILDERS))
def test_network_kind_source_and_bundle_agree(tmp_path, kind, form):
    pytest.importorskip("coremltools")
    source = network_kinds.save(kind, tmp_path, fp16=form == "nn_fp16")
    bundle = tmp_path / "model.mlmodelc"
    lower_model(source, bundle)
    names = assert_forms_agree([source, bundle], TOLERANCE[form[-4:]])
    assert sorted(names) == sorted(description_output_names(source))


@pytest.mark.parametrize("form", ZOO_FORMS)
@pytest.mark.parametrize("kind", sorted(network_kinds.OTHER_ALLOWED_SHAPES))
def test_flexible_bundle_predicts_other_allowed_shapes_like_source(tmp_path, kind, form):
    """A bundle keeps its source's flexibility: at every allowed shape, same names, shapes, values."""
    pytest.importorskip("coremltools")
    source = network_kinds.save(kind, tmp_path, fp16=form == "nn_fp16")
    bundle = tmp_path / "model.mlmodelc"
    lower_model(source, bundle)
    models = [mlir_coreml.compile_model(str(p)) for p in (source, bundle)]
    rng = np.random.default_rng(0)
    for name, shapes in network_kinds.OTHER_ALLOWED_SHAPES[kind].items():
        for shape in shapes:
            feeds = {name: rng.random(shape).astype(np.float32)}
            expected = models[0].predict(feeds)
            assert_same_outputs(expected, models[1].predict(feeds), TOLERANCE[form[-4:]], f"{kind} at {shape}")
