"""Pipelines: a dictionary-input text classifier, Create ML style NeuralNetwork feature extractor +
GLM / kNN classifier, nested pipelines; closed Apple types and `lower` refuse with one clear line."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import mlir_coreml
from tests.classical.zoo import check_round_trip, convert, coremltools, feature, load, model_spec

DOCS = [{"good": 2.0, "movie": 1.0}, {"bad": 1.0, "movie": 1.0}, {"great": 1.0, "good": 1.0, "plot": 1.0},
        {"awful": 2.0, "bad": 1.0}, {"boring": 1.0, "plot": 2.0}, {"great": 2.0, "fun": 1.0},
        {"fun": 1.0, "good": 1.0}, {"awful": 1.0, "boring": 1.0, "movie": 1.0}]
SENTIMENT = ["pos", "neg", "pos", "neg", "neg", "pos", "pos", "neg"]
QUERIES = DOCS + [{"good": 1.0}, {"unseen": 3.0, "bad": 0.5}, {}]


def _text_classifier(C=1.0):
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = DictVectorizer(sparse=False).fit(DOCS)
    classifier = LogisticRegression(C=C).fit(vectorizer.transform(DOCS), SENTIMENT)
    classifier.multi_class = "ovr"
    return vectorizer, classifier


@pytest.mark.parametrize("C", [0.3, 10.0])
def test_converted_text_pipeline_with_dictionary_input(C, tmp_path):
    coremltools()
    from sklearn.pipeline import Pipeline

    vectorizer, classifier = _text_classifier(C)
    data = convert(Pipeline([("vectorize", vectorizer), ("classify", classifier)]), "words", "label")
    compiled, path = load(data, tmp_path)
    for doc in QUERIES:
        out = compiled.predict({"words": doc})
        x = vectorizer.transform([doc])
        assert out["label"] == classifier.predict(x)[0]
        np.testing.assert_allclose([out["classProbability"][k] for k in classifier.classes_],
                                   classifier.predict_proba(x)[0], atol=1e-6)
    check_round_trip(path, data)
    saved = mlir_coreml.compile_model(compiled.save(tmp_path / "saved"))
    assert all(saved.predict({"words": doc}) == compiled.predict({"words": doc}) for doc in QUERIES)


def test_sentiment_shaped_pipeline_dict_vectorizer_feature_vectorizer_glm(tmp_path):
    """The public sentiment model's shape: DictVectorizer -> FeatureVectorizer -> GLMClassifier."""
    vectorizer, classifier = _text_classifier()
    spec = model_spec(1)
    feature(spec.description.input, "input", "dict")
    feature(spec.description.output, "classLabel", "string")
    feature(spec.description.output, "classProbability", "dict")
    spec.description.predictedFeatureName = "classLabel"
    spec.description.predictedProbabilitiesName = "classProbability"
    stages = spec.pipelineClassifier.pipeline.models
    n = len(vectorizer.feature_names_)

    dv = stages.add()
    dv.specificationVersion = 1
    feature(dv.description.input, "input", "dict")
    feature(dv.description.output, "__sparse__", "dict", key="int64")
    dv.dictVectorizer.stringToIndex.vector.extend(vectorizer.feature_names_)
    fv = stages.add()
    fv.specificationVersion = 1
    feature(fv.description.input, "__sparse__", "dict", key="int64")
    feature(fv.description.output, "__vector__", "array", shape=[n])
    column = fv.featureVectorizer.inputList.add()
    column.inputColumn, column.inputDimensions = "__sparse__", n
    glm = stages.add()
    glm.specificationVersion = 1
    feature(glm.description.input, "__vector__", "array", shape=[n])
    feature(glm.description.output, "classLabel", "string")
    feature(glm.description.output, "classProbability", "dict")
    glm.description.predictedFeatureName = "classLabel"
    glm.description.predictedProbabilitiesName = "classProbability"
    glm.glmClassifier.weights.add().value.extend(classifier.coef_[0])
    glm.glmClassifier.offset.append(classifier.intercept_[0])
    glm.glmClassifier.stringClassLabels.vector.extend(classifier.classes_)
    data = spec.SerializeToString()
    compiled, path = load(data, tmp_path)
    for doc in QUERIES:
        out = compiled.predict({"input": doc})
        x = vectorizer.transform([doc])
        assert out["classLabel"] == classifier.predict(x)[0]
        np.testing.assert_allclose([out["classProbability"][k] for k in classifier.classes_],
                                   classifier.predict_proba(x)[0], atol=1e-6)
    check_round_trip(path, data)


def test_dictionary_vectorizer_refuses_a_non_dictionary(tmp_path):
    coremltools()
    from sklearn.pipeline import Pipeline

    vectorizer, classifier = _text_classifier()
    compiled, _ = load(convert(Pipeline([("v", vectorizer), ("c", classifier)]), "words", "label"), tmp_path)
    with pytest.raises(mlir_coreml.MlirCoremlError, match="'words' is a dictionary feature"):
        compiled.predict({"words": np.zeros(3)})


# -- Create ML style: a NeuralNetwork feature extractor followed by a classical classifier ---------

H = W = 6
FEATURES = 10


def _feature_extractor(seed):
    """An image -> `features` NeuralNetwork (flatten, inner product, ReLU) and its numpy twin."""
    ct = coremltools()
    from coremltools.models import datatypes
    from coremltools.models.neural_network import NeuralNetworkBuilder

    rng = np.random.default_rng(seed)
    weight = rng.normal(size=(FEATURES, 3 * H * W)) / 20
    bias = rng.normal(size=FEATURES) / 5
    builder = NeuralNetworkBuilder([("image", datatypes.Array(3, H, W))], [("features", datatypes.Array(FEATURES))])
    builder.add_flatten("flatten", mode=0, input_name="image", output_name="flat")
    builder.add_inner_product("dense", weight, bias, 3 * H * W, FEATURES, True, "flat", "dense")
    builder.add_activation("relu", "RELU", "dense", "features")
    spec = builder.spec
    image = spec.description.input[0]
    image.type.imageType.height, image.type.imageType.width = H, W
    image.type.imageType.colorSpace = 20  # RGB

    def forward(pixels):  # H x W x 3 uint8 -> features
        x = np.transpose(pixels.astype(np.float64), (2, 0, 1)).reshape(-1)
        return np.maximum(weight @ x + bias, 0.0)

    assert ct is not None
    return spec, forward


def _images(seed, n=24):
    return np.random.default_rng(seed + 100).integers(0, 256, size=(n, H, W, 3), dtype=np.uint8)


def _pipeline_with(extractor, classifier_spec):
    spec = model_spec(4)
    feature(spec.description.input, "image", "image", shape=(H, W))
    for f in classifier_spec.description.output:
        spec.description.output.add().CopyFrom(f)
    spec.description.predictedFeatureName = classifier_spec.description.predictedFeatureName
    spec.description.predictedProbabilitiesName = classifier_spec.description.predictedProbabilitiesName
    spec.pipelineClassifier.pipeline.models.add().CopyFrom(extractor)
    spec.pipelineClassifier.pipeline.models.add().CopyFrom(classifier_spec)
    spec.pipelineClassifier.pipeline.names.extend(["FeatureExtractor", "Classifier"])
    return spec


def _classifier_stage(sk_model):
    from coremltools.proto import Model_pb2

    stage = Model_pb2.Model.FromString(convert(sk_model, "features", "label"))
    stage.description.input[0].name = "features"
    return stage


@pytest.mark.parametrize("seed", [0, 1])
def test_create_ml_style_nn_feature_extractor_then_glm_classifier(seed, tmp_path):
    from sklearn.linear_model import LogisticRegression

    extractor, forward = _feature_extractor(seed)
    images = _images(seed)
    feats = np.array([forward(img) for img in images])
    labels = np.array(["cat", "dog"])[(feats[:, 0] > np.median(feats[:, 0])).astype(int)]
    lr = LogisticRegression().fit(feats, labels)
    lr.multi_class = "ovr"
    stage = _classifier_stage(lr)
    assert stage.WhichOneof("Type") == "glmClassifier"
    data = _pipeline_with(extractor, stage).SerializeToString()
    compiled, path = load(data, tmp_path)
    for img, f in zip(images[:8], feats):
        out = compiled.predict({"image": img})
        assert out["label"] == lr.predict(f[None, :])[0]
        np.testing.assert_allclose([out["classProbability"][k] for k in lr.classes_], lr.predict_proba(f[None, :])[0],
                                   atol=1e-5)  # the network computes in f32, as Core ML does
    check_round_trip(path, data)


def test_create_ml_style_nn_feature_extractor_then_knn(tmp_path):
    from sklearn.neighbors import KNeighborsClassifier

    extractor, forward = _feature_extractor(7)
    images = _images(7)
    feats = np.array([forward(img) for img in images])
    labels = (feats[:, 1] > np.median(feats[:, 1])).astype(int)
    knn = KNeighborsClassifier(3).fit(feats, labels)
    stage = _classifier_stage(knn)
    assert stage.WhichOneof("Type") == "kNearestNeighborsClassifier"
    data = _pipeline_with(extractor, stage).SerializeToString()
    compiled, path = load(data, tmp_path)
    for img, f in zip(images[:8], feats):
        assert compiled.predict({"image": img})["label"] == knn.predict(f[None, :])[0]
    check_round_trip(path, data)


def test_nested_pipelines_with_a_network_stage_inside(tmp_path):
    """pipelineRegressor[ pipeline[ Scaler, NeuralNetwork ], GLMRegressor ]."""
    ct = coremltools()
    from coremltools.models import datatypes
    from coremltools.models.neural_network import NeuralNetworkBuilder

    rng = np.random.default_rng(3)
    shift, scale = rng.normal(size=4), rng.uniform(0.5, 2, size=4)
    w_nn, w_glm = rng.normal(size=(3, 4)), rng.normal(size=3)
    builder = NeuralNetworkBuilder([("scaled", datatypes.Array(4))], [("hidden", datatypes.Array(3))])
    builder.add_inner_product("ip", w_nn, None, 4, 3, False, "scaled", "pre")
    builder.add_activation("tanh", "TANH", "pre", "hidden")
    network = builder.spec

    spec = model_spec(4)
    feature(spec.description.input, "x", "array", shape=[4])
    feature(spec.description.output, "y", "double")
    spec.description.predictedFeatureName = "y"
    outer = spec.pipelineRegressor.pipeline
    inner = outer.models.add()
    inner.specificationVersion = 4
    feature(inner.description.input, "x", "array", shape=[4])
    feature(inner.description.output, "hidden", "array", shape=[3])
    scaler = inner.pipeline.models.add()
    scaler.specificationVersion = 1
    feature(scaler.description.input, "x", "array", shape=[4])
    feature(scaler.description.output, "scaled", "array", shape=[4])
    scaler.scaler.shiftValue.extend(shift)
    scaler.scaler.scaleValue.extend(scale)
    inner.pipeline.models.add().CopyFrom(network)
    glm = outer.models.add()
    glm.specificationVersion = 1
    feature(glm.description.input, "hidden", "array", shape=[3])
    feature(glm.description.output, "y", "double")
    glm.glmRegressor.weights.add().value.extend(w_glm)
    glm.glmRegressor.offset.append(0.25)
    data = spec.SerializeToString()
    compiled, path = load(data, tmp_path)
    for x in rng.normal(size=(6, 4)):
        want = float(w_glm @ np.tanh(w_nn @ ((x + shift) * scale)) + 0.25)
        assert compiled.predict({"x": x})["y"] == pytest.approx(want, abs=1e-5)
    check_round_trip(path, data)
    assert ct is not None


# -- refusals ---------------------------------------------------------------------------------------

def _cli(*args):
    return subprocess.run([sys.executable, "-m", "mlir_coreml", *args], capture_output=True, text=True)


@pytest.mark.parametrize("kind,name", [("visionFeaturePrint", "VisionFeaturePrint"),
                                       ("textClassifier", "TextClassifier"), ("wordTagger", "WordTagger"),
                                       ("gazetteer", "Gazetteer"), ("wordEmbedding", "WordEmbedding"),
                                       ("soundAnalysisPreprocessing", "SoundAnalysisPreprocessing"),
                                       ("itemSimilarityRecommender", "ItemSimilarityRecommender")])
def test_closed_apple_types_are_refused_by_name(kind, name, tmp_path):
    spec = model_spec(4)
    feature(spec.description.input, "in", "string")
    feature(spec.description.output, "out", "string")
    getattr(spec, kind).SetInParent()
    path = tmp_path / "closed.mlmodel"
    path.write_bytes(spec.SerializeToString())
    with pytest.raises(mlir_coreml.MlirCoremlError, match=f"'{kind}' is Apple's closed {name}"):
        mlir_coreml.load(str(path))
    if kind == "visionFeaturePrint":  # inside a pipeline too, through the CLI: one line, no traceback
        outer = model_spec(4)
        feature(outer.description.input, "in", "string")
        feature(outer.description.output, "out", "string")
        outer.pipeline.models.add().CopyFrom(spec)
        path.write_bytes(outer.SerializeToString())
        result = _cli("import", str(path))
        assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1
        assert "stage 'model0'" in result.stderr and "VisionFeaturePrint" in result.stderr


def test_lower_refuses_classical_models_in_one_line_and_compile_model_runs_them(tmp_path):
    coremltools()
    from sklearn.preprocessing import StandardScaler

    X = np.random.default_rng(0).normal(size=(20, 3))
    model = StandardScaler().fit(X)
    path = tmp_path / "scaler.mlmodel"
    path.write_bytes(convert(model, "x", "out"))
    out = tmp_path / "scaler.mlmodelc"
    result = _cli("lower", str(path), "-o", str(out))
    assert result.returncode == 1 and not out.exists()
    assert len(result.stderr.strip().splitlines()) == 1 and "classical" in result.stderr and str(path) in result.stderr
    exported = tmp_path / "again.mlmodel"
    assert _cli("lower", str(path), "-o", str(exported), "--emit", "mlmodel").returncode == 0
    from mlir_coreml.frontend.proto import model_pb2

    assert model_pb2.Model.FromString(exported.read_bytes()) == model_pb2.Model.FromString(path.read_bytes())
    np.savez(tmp_path / "in.npz", x=X[0])
    result = _cli("run", str(path), "--inputs", str(tmp_path / "in.npz"), "--outputs", str(tmp_path / "out.npz"))
    assert result.returncode == 0, result.stderr
    np.testing.assert_allclose(np.load(tmp_path / "out.npz")["out"], model.transform(X[:1])[0])


def test_verifier_rejects_inconsistent_params():
    from mlir_coreml.ir.parser import parse_module
    from mlir_coreml.ir.verifier import verify

    text = """module {
  func.func @main(%x: tensor<2xf64>) -> tensor<f64> {
    %y = classical.glm_regressor %x {weights = [{value = dense<[1.0, 2.0]> : tensor<2xf64>}, {value = dense<[1.0]> : tensor<1xf64>}]} : (tensor<2xf64>) -> tensor<f64> loc("glm")
    func.return %y : tensor<f64>
  }
}
"""
    with pytest.raises(mlir_coreml.MlirCoremlError, match=r'loc\("glm"\).*different lengths'):
        verify(parse_module(text))


def test_network_classifier_stage_after_a_scaler(tmp_path):
    """pipelineClassifier[ Scaler, NeuralNetworkClassifier ]: the network stage's probability
    blob becomes the label and the probability dict."""
    coremltools()
    from coremltools.models import datatypes
    from coremltools.models.neural_network import NeuralNetworkBuilder

    rng = np.random.default_rng(11)
    shift, scale, w = rng.normal(size=3), rng.uniform(0.5, 2, size=3), rng.normal(size=(4, 3))
    builder = NeuralNetworkBuilder([("scaled", datatypes.Array(3))], [("probs", datatypes.Array(4))],
                                   mode="classifier")
    builder.add_inner_product("ip", w, None, 3, 4, False, "scaled", "logits")
    builder.add_softmax("softmax", "logits", "probs")
    builder.set_class_labels(["a", "b", "c", "d"], predicted_feature_name="label", prediction_blob="probs")
    network = builder.spec
    network.description.output[0].name = "probs"
    assert [o.name for o in network.description.output] == ["probs", "label"]

    spec = model_spec(4)
    feature(spec.description.input, "x", "array", shape=[3])
    for f in network.description.output:
        spec.description.output.add().CopyFrom(f)
    spec.description.predictedFeatureName = "label"
    spec.description.predictedProbabilitiesName = "probs"
    scaler = spec.pipelineClassifier.pipeline.models.add()
    scaler.specificationVersion = 1
    feature(scaler.description.input, "x", "array", shape=[3])
    feature(scaler.description.output, "scaled", "array", shape=[3])
    scaler.scaler.shiftValue.extend(shift)
    scaler.scaler.scaleValue.extend(scale)
    spec.pipelineClassifier.pipeline.models.add().CopyFrom(network)
    data = spec.SerializeToString()
    compiled, path = load(data, tmp_path)
    for x in rng.normal(size=(5, 3)):
        z = w @ ((x + shift) * scale)
        p = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
        out = compiled.predict({"x": x})
        assert out["label"] == "abcd"[int(np.argmax(p))]
        np.testing.assert_allclose([out["probs"][k] for k in "abcd"], p, atol=1e-5)
    check_round_trip(path, data)
