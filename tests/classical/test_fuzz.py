"""Classical model files are untrusted too: mutated converted models (bit flips, truncation,
splices, huge values) must only ever raise MlirCoremlError from load, compile and predict."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mlir_coreml
from mlir_coreml.errors import MlirCoremlError
from tests.classical.zoo import convert, coremltools, dataset
from tests.frontend.test_fuzz_importers import mutate, mutations


@pytest.fixture(scope="module")
def sources():
    coremltools()
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.svm import SVC

    X, y, _ = dataset(0, rows=40, classes=3)
    lr = LogisticRegression()
    text = Pipeline([("v", DictVectorizer()), ("c", lr)]).fit([{"a": 1.0}, {"b": 2.0}, {"a": 1.0, "c": 1.0}],
                                                               ["x", "y", "x"])
    lr.multi_class = "ovr"
    return [(convert(GradientBoostingClassifier(n_estimators=3).fit(X, y > 0), "x", "y"), {"x": X[0]}),
            (convert(SVC(probability=True, random_state=0).fit(X, y), "x", "y"), {"x": X[0]}),
            (convert(text, "words", "label"), {"words": {"a": 1.0}})]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutations, st.integers(0, 2))
def test_mutated_classical_models_raise_only_our_errors(sources, tmp_path, steps, which):
    data, inputs = sources[which]
    path = tmp_path / "fuzz.mlmodel"
    path.write_bytes(mutate(data, steps))
    try:
        mlir_coreml.compile_model(str(path)).predict(inputs)
    except MlirCoremlError:
        pass
