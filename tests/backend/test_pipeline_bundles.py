"""Every pipeline bundle has one root layout, whatever its stages hold (networks, ML Programs, both,
pipelines of them), and reads back through one reader into a model that predicts like its source.
The expected root bytes are rebuilt here from the documented facts (docs/pipeline-bundles.md): Apple's
network pipeline (UpdatableDrawingClassifier) and coremlc 3600's ML Program pipelines, whose roots
mlmodelc-export's writer reproduces byte for byte."""
from __future__ import annotations

import struct

import numpy as np
import pytest

import mlir_coreml
from mlir_coreml.codegen.lower import lower_model
from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.frontend.espresso import format as fmt
from mlir_coreml.frontend.espresso.bundle import parse_coremldata
from mlir_coreml.frontend.proto import model_pb2

ct = pytest.importorskip("coremltools")
torch = pytest.importorskip("torch")

from tests.backend import network_kinds  # noqa: E402
from tests.models import zoo  # noqa: E402


class _Act(torch.nn.Module):
    """A weightless stage: coremltools keeps a nested pipeline's stages' weight files apart badly."""

    def __init__(self, act, scale):
        super().__init__()
        self.act, self.scale = act, scale

    def forward(self, x):
        return self.act(x * self.scale - 0.25)


def _convert(module, name_in, name_out, **kw):
    with zoo._quiet():
        return ct.convert(torch.jit.trace(module, torch.rand(1, 16)), inputs=[ct.TensorType(name=name_in, shape=(1, 16))],
                          outputs=[ct.TensorType(name=name_out)], **kw)


def _program(module, name_in, name_out):
    return _convert(module, name_in, name_out, minimum_deployment_target=ct.target.iOS16,
                    compute_precision=ct.precision.FLOAT32)


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    """kind -> (source path, its inputs, the stage kinds at the top level)."""
    folder = tmp_path_factory.mktemp("pipelines")
    torch.manual_seed(4)
    rng = np.random.default_rng(4)
    first, last = _program(_Act(torch.relu, 2.0), "x", "h"), _program(_Act(torch.tanh, 0.5), "z", "y")
    middle = _convert(torch.nn.Linear(16, 16).eval(), "h", "z", convert_to="neuralnetwork")
    with zoo._quiet():
        made = {"programs": ct.utils.make_pipeline(first, _program(_Act(torch.sigmoid, 1.5), "h", "y")),
                "mixed": ct.utils.make_pipeline(first, middle, last),
                "nested": ct.utils.make_pipeline(ct.utils.make_pipeline(first, middle), last)}
    paths = {}
    for kind, model in made.items():
        paths[kind] = folder / f"{kind}.mlpackage"
        model.save(str(paths[kind]))
    networks = [network_kinds._mlp(rng, 16, 8, 16, input_name=a, output_name=b).spec
                for a, b in (("x", "h"), ("h", "z"), ("z", "y"))]
    array = ct.models.datatypes.Array(16)
    inner = network_kinds._pipeline("pipeline", networks[:2], [("x", array)], [("z", array)])
    outer = network_kinds._pipeline("pipeline", [inner, networks[2]], [("x", array)], [("y", array)])
    paths["nested-networks"] = folder / "nested-networks.mlmodel"
    ct.utils.save_spec(outer, str(paths["nested-networks"]))
    return paths


@pytest.fixture(scope="module")
def bundles(sources, tmp_path_factory):
    folder = tmp_path_factory.mktemp("bundles")
    out = {}
    for kind, source in sources.items():
        out[kind] = folder / f"{kind}.mlmodelc"
        lower_model(source, out[kind])
    return out


def _spec(source) -> model_pb2.Model:
    path = source / "Data" / "com.apple.CoreML" / "model.mlmodel" if source.suffix == ".mlpackage" else source
    spec = model_pb2.Model()
    spec.ParseFromString(path.read_bytes())
    return spec


def _string(text: str) -> bytes:
    return struct.pack("<Q", len(text)) + text.encode()


def _expected_root(folder, spec) -> bytes:
    """The root coremldata.bin of a pipeline, from the documented layout: version (1, 0, 1), the
    stages' versions and platforms in the platform string, the description (with an empty metadata
    appended when the pipeline holds an ML Program and has none), stage count and model type."""
    from mlir_coreml.frontend.pipeline import holds_ml_program, pipeline_models

    stages = pipeline_models(spec)
    platform = "generic"
    for index, stage in enumerate(stages):
        data = parse_coremldata((folder / f"model{index}" / "coremldata.bin").read_bytes(), "stage")
        if stage.WhichOneof("Type") == "mlProgram":  # [3P: `v<spec>.0.0generic` per ML Program stage]
            assert (data.format_version, data.platform) == ((stage.specificationVersion, 0, 0), "generic")
        platform += f".model{index}v{'.'.join(map(str, data.format_version))}{data.platform}"
    description = spec.description.SerializeToString()
    if holds_ml_program(spec) and not spec.description.HasField("metadata"):
        description += b"\xa2\x06\x00"
    model_type = spec.DESCRIPTOR.fields_by_name[spec.WhichOneof("Type")].number
    return (struct.pack("<I3Q", model_type, 1, 0, 1) + _string(platform) + struct.pack("<Q", spec.specificationVersion)
            + bytes(24) + struct.pack("<Q", len(description)) + description + struct.pack("<QQ", len(stages), model_type))


KINDS = ["programs", "mixed", "nested", "nested-networks"]


@pytest.mark.parametrize("kind", KINDS)
def test_every_pipeline_root_has_the_one_layout(sources, bundles, kind):
    from mlir_coreml.frontend.pipeline import pipeline_models

    spec, bundle = _spec(sources[kind]), bundles[kind]
    assert (bundle / "coremldata.bin").read_bytes() == _expected_root(bundle, spec)
    from mlir_coreml.frontend.pipeline import holds_ml_program

    names = list(network_kinds.pipeline_of(spec).names)
    stage_names = names or [f"model{i}" for i in range(len(pipeline_models(spec)))]
    if names or holds_ml_program(spec):  # [3P] for ML Programs; Apple's network pipeline has none
        assert (bundle / "modelNames" / "coremldata.bin").read_bytes() == \
            struct.pack("<Q", len(stage_names)) + b"".join(map(_string, stage_names))
    else:
        assert not (bundle / "modelNames").exists()
    for index, stage in enumerate(pipeline_models(spec)):  # a nested pipeline's root: the same layout
        if pipeline_models(stage):
            folder = bundle / f"model{index}"
            assert (folder / "coremldata.bin").read_bytes() == _expected_root(folder, stage)
            assert not (folder / fmt.METADATA_FILE).exists()


def test_ml_program_pipeline_platform_string_is_coremlc_3600s(sources, bundles):
    spec = _spec(sources["programs"])
    data = parse_coremldata((bundles["programs"] / "coremldata.bin").read_bytes(), "root")
    version = spec.pipeline.models[0].specificationVersion
    assert data.platform == f"generic.model0v{version}.0.0generic.model1v{version}.0.0generic"
    assert data.trailer == struct.pack("<QQ", 2, 202)


@pytest.mark.parametrize("kind", KINDS)
def test_pipeline_bundles_read_back_and_predict_like_their_source(sources, bundles, kind):
    x = np.random.default_rng(5).standard_normal((1, 16)).astype(np.float32)
    inputs = {"x": x if kind != "nested-networks" else x.reshape(16)}
    want = mlir_coreml.compile_model(str(sources[kind])).predict(inputs)
    got = mlir_coreml.compile_model(str(bundles[kind])).predict(inputs)
    assert list(got) == list(want) == ["y"]
    np.testing.assert_allclose(got["y"], want["y"], rtol=1e-5, atol=1e-5)


def test_a_read_pipeline_bundle_is_not_lowered_again(bundles, tmp_path):
    with pytest.raises(MlirCoremlError, match="cannot be written back as stages"):
        lower_model(bundles["mixed"], tmp_path / "again.mlmodelc")
    assert not (tmp_path / "again.mlmodelc").exists()


def test_a_truncated_pipeline_root_is_one_clear_error(bundles, tmp_path):
    import shutil

    copy = tmp_path / "old.mlmodelc"
    shutil.copytree(bundles["programs"], copy)
    root = copy / "coremldata.bin"
    root.write_bytes(root.read_bytes()[:0x40])
    with pytest.raises(MlirCoremlError) as err:
        mlir_coreml.load(str(copy))
    assert err.value.where == str(root)


def test_named_stages_are_listed_in_model_names(sources, tmp_path):
    spec = _spec(sources["nested-networks"])
    spec.pipeline.names.extend(["features", "head"])
    source = tmp_path / "named.mlmodel"
    source.write_bytes(spec.SerializeToString())
    lower_model(source, tmp_path / "named.mlmodelc")
    names = tmp_path / "named.mlmodelc" / "modelNames" / "coremldata.bin"
    assert names.read_bytes() == struct.pack("<Q", 2) + _string("features") + _string("head")
    assert not (tmp_path / "named.mlmodelc" / "model0" / "modelNames").exists()
    x = np.ones(16, np.float32)
    want = mlir_coreml.compile_model(str(source)).predict({"x": x})
    np.testing.assert_allclose(mlir_coreml.compile_model(str(tmp_path / "named.mlmodelc")).predict({"x": x})["y"],
                               want["y"], rtol=1e-5, atol=1e-5)


def test_pipelines_nested_too_deep_are_one_clear_error(bundles, tmp_path):
    """An untrusted bundle nesting pipeline roots without end is refused, not a RecursionError."""
    from mlir_coreml.frontend.mlmodelc_pipeline import MAX_NESTING

    root = (bundles["programs"] / "coremldata.bin").read_bytes()
    folder = tmp_path / "deep.mlmodelc"
    for _ in range(MAX_NESTING + 2):
        folder.mkdir()
        (folder / "coremldata.bin").write_bytes(root)
        folder = folder / "model0"
    with pytest.raises(MlirCoremlError, match="nested more than"):
        mlir_coreml.load(str(tmp_path / "deep.mlmodelc"))
