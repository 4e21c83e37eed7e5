"""Feature-engineering models: scikit-learn transformers converted by coremltools against
scikit-learn's transform, and the types no converter makes (categorical mapping, array feature
extractor, identity, string / int64 / optional imputation, sparse one-hot) built as protobufs."""
from __future__ import annotations

import numpy as np
import pytest

from tests.classical.zoo import check_round_trip, convert, coremltools, feature, load, model_spec


def _transformers():
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import Normalizer, OneHotEncoder, StandardScaler

    return {
        "scaler": lambda: StandardScaler(),
        "normalizer-l1": lambda: Normalizer("l1"),
        "normalizer-l2": lambda: Normalizer("l2"),
        "normalizer-max": lambda: Normalizer("max"),
        "imputer-mean": lambda: SimpleImputer(strategy="mean"),
        "imputer-median": lambda: SimpleImputer(strategy="median"),
        "one_hot": lambda: OneHotEncoder(),
    }


TRANSFORMERS = ["scaler", "normalizer-l1", "normalizer-l2", "normalizer-max", "imputer-mean",
                "imputer-median", "one_hot"]


@pytest.mark.parametrize("seed", [0, 5])
@pytest.mark.parametrize("case", TRANSFORMERS)
def test_transformer_matches_sklearn(case, seed, tmp_path):
    coremltools()
    rng = np.random.default_rng(seed)
    if case == "one_hot":
        X = rng.integers(0, 3 + seed % 3, size=(30, 3)).astype(np.float64)
        names = ["a", "b", "c"]
    elif case.startswith("normalizer"):  # its converter takes one input per feature
        X = rng.normal(size=(30, 4))
        names = [f"f{i}" for i in range(4)]
    else:
        X = rng.normal(size=(30, 5)) * rng.uniform(0.5, 3, size=5) + rng.normal(size=5)
        if case.startswith("imputer"):
            X[rng.random(X.shape) < 0.2] = np.nan
        names = "x"
    model = _transformers()[case]().fit(X)
    data = convert(model, names, "out")
    compiled, path = load(data, tmp_path)
    want = model.transform(X[:10])
    want = want.toarray() if hasattr(want, "toarray") else want
    for row, expected in zip(X[:10], want):
        inputs = {n: float(v) for n, v in zip(names, row)} if isinstance(names, list) else {"x": row}
        got = compiled.predict(inputs)["out"]
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    check_round_trip(path, data)


def test_dict_vectorizer_matches_sklearn(tmp_path):
    coremltools()
    from sklearn.feature_extraction import DictVectorizer

    docs = [{"red": 1.0, "blue": 2.5}, {"green": 3.0}, {"red": -1.0, "green": 0.5, "violet": 4.0}]
    model = DictVectorizer(sparse=False).fit(docs)
    data = convert(model, "features", "out")
    compiled, path = load(data, tmp_path)
    for doc in docs + [{"blue": 1.0, "unseen": 9.0}, {}]:
        np.testing.assert_array_equal(compiled.predict({"features": doc})["out"], model.transform([doc])[0])
    check_round_trip(path, data)


def _save(spec, tmp_path, name="model"):
    data = spec.SerializeToString()
    compiled, path = load(data, tmp_path, name)
    check_round_trip(path, data)
    return compiled


@pytest.mark.parametrize("default", [None, -1])
def test_categorical_mapping_string_to_int(default, tmp_path):
    spec = model_spec()
    feature(spec.description.input, "color", "string")
    feature(spec.description.output, "code", "int64")
    table = {"red": 3, "green": 7, "blue": 11}
    spec.categoricalMapping.stringToInt64Map.map.update(table)
    if default is not None:
        spec.categoricalMapping.int64Value = default
    compiled = _save(spec, tmp_path)
    for key, code in table.items():
        out = compiled.predict({"color": key})["code"]
        assert out == code and type(out) is int
    if default is None:
        with pytest.raises(Exception, match="unknown key"):
            compiled.predict({"color": "mauve"})
    else:
        assert compiled.predict({"color": "mauve"})["code"] == default


def test_categorical_mapping_int_to_string_over_a_sequence(tmp_path):
    spec = model_spec()
    feature(spec.description.input, "ids", "sequence", key="int64")
    f = feature(spec.description.output, "names", "sequence", key="string")
    assert f.type.sequenceType.WhichOneof("Type") == "stringType"
    spec.categoricalMapping.int64ToStringMap.map.update({1: "one", 2: "two", 40: "forty"})
    spec.categoricalMapping.strValue = "?"
    compiled = _save(spec, tmp_path)
    assert compiled.predict({"ids": [40, 1, 5, 2]})["names"] == ["forty", "one", "?", "two"]


@pytest.mark.parametrize("indices", [[2], [0, 3, 1], [4, 4]])
def test_array_feature_extractor(indices, tmp_path):
    spec = model_spec()
    feature(spec.description.input, "x", "array", shape=[5])
    if len(indices) == 1:
        feature(spec.description.output, "y", "double")
    else:
        feature(spec.description.output, "y", "array", shape=[len(indices)])
    spec.arrayFeatureExtractor.extractIndex.extend(indices)
    compiled = _save(spec, tmp_path)
    x = np.arange(5.0) * 1.5 - 2
    out = compiled.predict({"x": x})["y"]
    if len(indices) == 1:
        assert out == x[indices[0]] and type(out) is float
    else:
        np.testing.assert_array_equal(out, x[indices])


def test_identity_passes_every_feature_through(tmp_path):
    spec = model_spec()
    feature(spec.description.input, "s", "string")
    feature(spec.description.input, "d", "dict")
    feature(spec.description.output, "s", "string")
    feature(spec.description.output, "d", "dict")
    spec.identity.SetInParent()
    compiled = _save(spec, tmp_path)
    assert compiled.predict({"s": "hi", "d": {"a": 1.0}}) == {"s": "hi", "d": {"a": 1.0}}


@pytest.mark.parametrize("kind", ["string", "int64", "double"])
def test_imputer_of_scalars_and_absent_optional_inputs(kind, tmp_path):
    spec = model_spec()
    feature(spec.description.input, "v", kind, optional=True)
    feature(spec.description.output, "v_out", kind)
    imputer = spec.imputer
    values = {"string": ("", "unknown", "word"), "int64": (-1, 42, 7), "double": (float("nan"), 0.25, 3.5)}[kind]
    replace, imputed, present = values
    setattr(imputer, {"string": "replaceStringValue", "int64": "replaceInt64Value",
                      "double": "replaceDoubleValue"}[kind], replace)
    setattr(imputer, {"string": "imputedStringValue", "int64": "imputedInt64Value",
                      "double": "imputedDoubleValue"}[kind], imputed)
    compiled = _save(spec, tmp_path)
    assert compiled.predict({"v": present})["v_out"] == present
    assert compiled.predict({"v": replace})["v_out"] == imputed
    assert compiled.predict({})["v_out"] == imputed  # optional input left out


def test_one_hot_encoder_strings_sparse_and_unknowns(tmp_path):
    spec = model_spec()
    feature(spec.description.input, "word", "string")
    feature(spec.description.output, "hot", "dict", key="int64")
    spec.oneHotEncoder.stringCategories.vector.extend(["a", "b", "c"])
    spec.oneHotEncoder.outputSparse = True
    spec.oneHotEncoder.handleUnknown = 1  # IgnoreUnknown
    compiled = _save(spec, tmp_path)
    assert compiled.predict({"word": "c"})["hot"] == {2: 1.0}
    assert compiled.predict({"word": "zzz"})["hot"] == {}


def test_feature_vectorizer_mixes_scalars_and_arrays(tmp_path):
    spec = model_spec()
    feature(spec.description.input, "a", "double")
    feature(spec.description.input, "v", "array", shape=[3])
    feature(spec.description.input, "n", "int64")
    feature(spec.description.output, "all", "array", shape=[5])
    for name, dims in (("v", 3), ("a", 1), ("n", 1)):  # column order differs from the inputs'
        column = spec.featureVectorizer.inputList.add()
        column.inputColumn, column.inputDimensions = name, dims
    compiled = _save(spec, tmp_path)
    out = compiled.predict({"a": 0.5, "v": np.array([1.0, 2.0, 3.0]), "n": 9})["all"]
    np.testing.assert_array_equal(out, [1, 2, 3, 0.5, 9])
