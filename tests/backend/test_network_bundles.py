"""What `lower` writes for classifiers, regressors, pipelines and flexible-shape networks, and how the
bundle reader takes Apple's: the coremldata.bin network trailer (class labels, probabilities blob),
the `model0/`, `model1/`, ... stages of a pipeline, the early-2019 era, built-in pipeline stages.
Layouts and evidence levels: frontend/espresso/format.py, docs/espresso-model-kinds.md."""
from __future__ import annotations

import json
import struct

import numpy as np
import pytest

import mlir_coreml
from mlir_coreml.codegen.espresso import coremldata as cd
from mlir_coreml.codegen.lower import lower_model
from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.frontend.espresso import format as fmt
from mlir_coreml.frontend.espresso.bundle import parse_coremldata
from mlir_coreml.frontend.proto import model_pb2
from tests.backend import network_kinds
from tests.samples import SHARED_SAMPLES

pytest.importorskip("coremltools")

LETTERCLASS = SHARED_SAMPLES / "Veeit__wwdc-2019-dyslexia_is_a_problem__LetterClass_image-2019"


def _spec(path) -> model_pb2.Model:
    spec = model_pb2.Model()
    spec.ParseFromString(path.read_bytes())
    return spec


def _coremldata(bundle):
    path = bundle / fmt.COREMLDATA_FILE
    return parse_coremldata(path.read_bytes(), str(path))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("kinds")
    cache = {}

    def get(kind: str, era: str = "2021"):
        if (kind, era) not in cache:
            source = network_kinds.save(kind, folder) if kind not in {k for k, _ in cache} else cache[kind, "src"]
            cache[kind, "src"] = source
            bundle = folder / f"{kind}-{era}.mlmodelc"
            lower_model(source, bundle, coremlc_version=era)
            cache[kind, era] = bundle
        return cache[kind, "src"], cache[kind, era]

    return get


@pytest.mark.parametrize("kind, labels", [("classifier_string_labels", ["ant", "bee", "cat", "dog", "eel"]),
                                          ("classifier_int_labels", [3, 1, 4, 15])])
def test_classifier_trailer_holds_labels_probabilities_blob_and_outputs(built, kind, labels):
    source, bundle = built(kind)
    data = _coremldata(bundle)
    spec = _spec(source)
    assert data.model_type == fmt.MODEL_TYPE_NN_CLASSIFIER
    assert list(data.class_labels) == labels
    assert data.probability_blob == spec.neuralNetworkClassifier.labelProbabilityLayerName
    # the description's outputs but the predicted label, in reverse order (as for plain networks)
    assert list(data.output_names) == [f.name for f in reversed(spec.description.output)
                                       if f.name != spec.description.predictedFeatureName]
    assert data.description == spec.description.SerializeToString()


def test_classifier_trailer_round_trips_int64_labels_beyond_32_bits():
    labels = (-(2 ** 40), 0, 7, 2 ** 62)
    trailer = cd.network_trailer(fmt.MODEL_TYPE_NN_CLASSIFIER, ("probs",), labels, "softmax_out")
    data = cd.write_coremldata(fmt.CoremlData(
        model_type=fmt.MODEL_TYPE_NN_CLASSIFIER, format_version=(1, 3, 0), platform="generic", spec_version=4,
        description=b"", output_names=("probs",), trailer=trailer, class_labels=labels,
        probability_blob="softmax_out"))
    parsed = parse_coremldata(data, "test")
    assert (parsed.class_labels, parsed.probability_blob, parsed.output_names) == (labels, "softmax_out", ("probs",))
    assert struct.unpack_from("<Q", data, len(data) - len(trailer) + 8)[0] == 101  # int64ClassLabels


def test_regressor_is_a_network_with_its_own_model_type(built):
    _, bundle = built("regressor")
    data = _coremldata(bundle)
    assert data.model_type == fmt.MODEL_TYPE_NN_REGRESSOR and data.class_labels is None
    assert data.output_names == ("value",)


@pytest.mark.parametrize("kind, model_type", [("pipeline_plain", 202), ("pipeline_classifier", 200),
                                              ("pipeline_regressor", 201)])
def test_pipeline_stages_are_sub_bundles(built, kind, model_type):
    source, bundle = built(kind)
    spec = _spec(source)
    root = _coremldata(bundle)
    assert root.model_type == model_type and root.description == spec.description.SerializeToString()
    # the layout of Apple's UpdatableDrawingClassifier bundle (docs/espresso-model-kinds.md)
    assert root.format_version == (1, 0, 1)
    assert root.trailer == struct.pack("<QQ", 2, model_type)
    assert root.platform == "".join(["generic", ".model0v1.2.1generic", ".model1v1.2.1generic"])
    files = sorted(str(p.relative_to(bundle)) for p in bundle.rglob("*") if p.is_file())
    assert [f for f in files if "/" not in f or f.startswith("analytics/")] == \
        [fmt.ANALYTICS_FILE, fmt.COREMLDATA_FILE, fmt.METADATA_FILE]
    analytics = json.loads(json.dumps(_analytics(bundle / fmt.ANALYTICS_FILE)))
    assert analytics[fmt.ANALYTICS_PIPELINE_SECTION] == {"modelDimension": "2"}
    metadata = json.loads((bundle / fmt.METADATA_FILE).read_text())[0]
    assert metadata["modelType"]["structure"] == [{"name": f"MLModelType_{s.WhichOneof('Type')}"}
                                                  for s in network_kinds.pipeline_of(spec).models]
    for index, stage in enumerate(network_kinds.pipeline_of(spec).models):
        folder = bundle / f"model{index}"
        assert _coremldata(folder).description == stage.description.SerializeToString()
        assert (folder / fmt.NET_FILE).is_file() and not (folder / fmt.METADATA_FILE).exists()
        assert list(_analytics(folder / fmt.ANALYTICS_FILE)) == [fmt.ANALYTICS_NN_SECTION]


def _analytics(path) -> dict:
    from mlir_coreml.frontend.espresso.bundle import parse_analytics

    return parse_analytics(path.read_bytes(), str(path)).sections


def test_a_pipeline_stage_that_is_an_apple_built_in_model_is_named(built, tmp_path):
    import shutil

    _, bundle = built("pipeline_plain")
    copy = tmp_path / "featureprint.mlmodelc"
    shutil.copytree(bundle, copy)
    stage = copy / "model0"
    for item in list(stage.iterdir()):
        shutil.rmtree(item) if item.is_dir() else item.unlink()
    (stage / fmt.COREMLDATA_FILE).write_bytes(struct.pack("<I", 2002) + bytes(60))  # visionFeaturePrint
    with pytest.raises(MlirCoremlError, match="built-in 'visionFeaturePrint' model") as err:
        mlir_coreml.compile_model(str(copy))
    assert err.value.where == str(stage)


def test_a_non_network_pipeline_stage_cannot_be_lowered(tmp_path):
    from coremltools.models import datatypes
    from coremltools.models.pipeline import Pipeline
    from coremltools.models.feature_vectorizer import create_feature_vectorizer

    vectorizer, _ = create_feature_vectorizer([("a", datatypes.Double()), ("b", datatypes.Double())], "v")
    rng = np.random.default_rng(0)
    network = network_kinds._mlp(rng, 2, 4, 1, input_name="v", output_name="y").spec
    pipeline = Pipeline([("a", datatypes.Double()), ("b", datatypes.Double())], [("y", datatypes.Array(1))])
    pipeline.add_model(vectorizer)
    pipeline.add_model(network)
    source = tmp_path / "mixed.mlmodel"
    source.write_bytes(pipeline.spec.SerializeToString())
    with pytest.raises(MlirCoremlError, match="stage model0 is a 'featureVectorizer' model"):
        lower_model(source, tmp_path / "mixed.mlmodelc")
    assert not (tmp_path / "mixed.mlmodelc").exists()


@pytest.mark.parametrize("kind, name, default", [("flexible_enumerated", "x", (3, 10, 10)),
                                                 ("flexible_range", "x", (3, 10, 10)),
                                                 ("image_classifier_flexible_sizes", "image", (3, 12, 12))])
def test_flexible_inputs_keep_their_flexibility_and_default_shape(built, kind, name, default):
    source, bundle = built(kind)
    spec = _spec(source)
    assert _coremldata(bundle).description == spec.description.SerializeToString()
    shapes = json.loads((bundle / fmt.SHAPE_FILE).read_text())["layer_shapes"]
    assert shapes[name] == dict(zip("nkhw", (1, *default)))  # the description's default shape
    metadata = json.loads((bundle / fmt.METADATA_FILE).read_text())[0]
    flags = [f.get("hasShapeFlexibility", f.get("hasSizeFlexibility")) for f in metadata["inputSchema"]]
    assert flags == ["1"]


@pytest.mark.parametrize("era", fmt.COREMLC_ERAS)
def test_every_era_lowers_an_image_classifier(built, era):
    source, bundle = built("image_classifier_gray", era)
    files = {str(p.relative_to(bundle)) for p in bundle.rglob("*") if p.is_file()}
    assert (fmt.OPTIONALS_FILE in files) == (era != "2019-early")
    net = json.loads((bundle / fmt.NET_FILE).read_text())
    assert ("transform_params" in net) == (era != "2019-early")
    model, reference = mlir_coreml.compile_model(str(bundle)), mlir_coreml.compile_model(str(source))
    pixels = np.random.default_rng(5).random((12, 12)).astype(np.float32) * 255
    got = model.predict({"image": pixels.reshape(model.inputs["image"].shape)})
    want = reference.predict({"image": pixels.reshape(reference.inputs["image"].shape)})
    assert got["classLabel"] == want["classLabel"]
    np.testing.assert_allclose(list(got["probs"].values()), list(want["probs"].values()), atol=1e-5)


@pytest.mark.skipif(not LETTERCLASS.is_dir(), reason=f"shared sample {LETTERCLASS} is absent")
def test_letterclass_bundle_reads_and_writes_back_byte_for_byte(tmp_path):
    apple = LETTERCLASS / "LetterClass_image.mlmodelc"
    copy = tmp_path / "LetterClass_image.mlmodelc"
    lower_model(apple, copy)
    for name in (fmt.COREMLDATA_FILE, fmt.PREPROCESSING_FILE, fmt.WEIGHTS_FILE):
        assert (copy / name).read_bytes() == (apple / name).read_bytes(), name
    for name in (fmt.NET_FILE, fmt.SHAPE_FILE):
        assert json.loads((copy / name).read_text()) == json.loads((apple / name).read_text()), name


@pytest.mark.skipif(not LETTERCLASS.is_dir(), reason=f"shared sample {LETTERCLASS} is absent")
def test_letterclass_bundle_predicts_label_and_probabilities():
    model = mlir_coreml.compile_model(str(LETTERCLASS / "LetterClass_image.mlmodelc"))
    out = model.predict({"image": np.full(model.inputs["image"].shape, 255.0, np.float32)})
    assert list(out) == ["letter", "classLabel"]
    assert len(out["letter"]) == 32 and abs(sum(out["letter"].values()) - 1.0) < 1e-4
    assert out["classLabel"] == max(out["letter"], key=out["letter"].get)


def test_top_left_heavy_same_padding_and_an_output_relu_as_coremlc_writes_them(built):
    """pad_mode 4, and a ReLU giving a model output kept as a layer with `mode` only, as in Apple's
    MNISTClassifier and UpdatableDrawingClassifier bundles (docs/espresso-model-kinds.md)."""
    _, bundle = built("same_top_left_relu_output")
    layers = json.loads((bundle / fmt.NET_FILE).read_text())["layers"]
    conv = next(layer for layer in layers if layer["type"] == "convolution")
    assert conv["pad_mode"] == 4
    last = layers[-1]
    assert last["type"] == "activation" and last["top"] == "y"
    assert {k: v for k, v in last.items() if k in ("mode", "alpha", "beta")} == {"mode": 0}
    assert layers[-2]["type"] == "inner_product" and layers[-2]["has_relu"] == 0
