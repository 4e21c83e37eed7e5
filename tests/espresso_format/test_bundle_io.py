"""Reading and re-writing every file of the real Apple-compiled bundles reproduces them byte for
byte; damaged files raise MlirCoremlError naming the file."""
import json
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest

from mlir_coreml.codegen.espresso import coremldata as cd
from mlir_coreml.codegen.espresso import nsjson
from mlir_coreml.codegen.espresso.weights import write_weights
from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.frontend.espresso import format as fmt
from mlir_coreml.frontend.espresso import read_bundle

from tests.samples import SAMPLES
BUNDLES = sorted(SAMPLES.glob("*/*.mlmodelc"))
ERAS = {"FourRecognize-2019": "2019", "FindFour-2020": "2020", "SSDOcr-2020": "2020",
        "SSDOcr-2021": "2021", "uxmodel-2020": "2020", "parkinson_wave": "2025"}
PAIRED = [b for b in BUNDLES if list((b.parent / "source").glob("*.mlmodel"))]

pytestmark = pytest.mark.skipif(not BUNDLES, reason="sample bundles not available")


def era_of(bundle: Path) -> str:
    return next(era for key, era in ERAS.items() if key in bundle.parent.name)


def source_of(bundle: Path) -> Path:
    return next((bundle.parent / "source").glob("*.mlmodel"))


def ids(paths):
    return [p.parent.name.split("__")[-1] for p in paths]


@pytest.fixture(params=BUNDLES, ids=ids(BUNDLES))
def sample(request):
    return request.param


# --- round trips -------------------------------------------------------------------------------
def test_json_files_round_trip(sample):
    bundle = read_bundle(sample)
    assert cd.write_json(bundle.net) == (sample / fmt.NET_FILE).read_bytes()
    assert cd.write_json(bundle.shapes) == (sample / fmt.SHAPE_FILE).read_bytes()
    if bundle.metadata is not None:
        assert cd.write_metadata(bundle.metadata) == (sample / fmt.METADATA_FILE).read_bytes()


def test_weights_round_trip(sample):
    bundle = read_bundle(sample)
    assert write_weights(bundle.data_blobs()) == (sample / fmt.WEIGHTS_FILE).read_bytes()


def test_weights_are_zero_copy_views_with_the_padding_rule(sample):
    bundle = read_bundle(sample)
    offset = fmt.WEIGHTS_COUNT_SIZE + len(bundle.weights) * fmt.WEIGHTS_ENTRY_SIZE
    for blob_id, view in bundle.weights.items():
        assert not view.flags.owndata and isinstance(view.base, np.memmap)
        if fmt.is_padding_blob(blob_id):
            assert view.nbytes == fmt.padding_before(offset) and not view.any()
        else:
            assert offset % fmt.WEIGHTS_ALIGNMENT == 0
        offset += view.nbytes
    referenced = sorted(v for layer in bundle.net["layers"] for k, v in layer.items() if k.startswith("blob_"))
    assert referenced == [blob_id for blob_id, _ in bundle.data_blobs()]


def test_typed_blob_views(sample):
    bundle = read_bundle(sample)
    conv = next(layer for layer in bundle.net["layers"] if layer["type"] == "convolution")
    weight_key = "blob_weights_f16" if "blob_weights_f16" in conv else "blob_weights"
    weights = bundle.blob(conv[weight_key])
    assert weights.dtype == np.dtype(fmt.BLOB_KEY_DTYPES[weight_key])
    assert weights.size == conv["C"] * conv["K"] // conv["n_groups"] * conv["Nx"] * conv["Ny"]
    biases = bundle.blob(conv["blob_biases"])
    assert biases.dtype == np.float32 and biases.size == conv["C"]


def test_coremldata_round_trip(sample):
    bundle = read_bundle(sample)
    data = bundle.coremldata
    assert cd.write_coremldata(data) == (sample / fmt.COREMLDATA_FILE).read_bytes()
    assert data.model_type == fmt.MODEL_TYPE_NEURAL_NETWORK and data.platform == "generic"
    assert data.format_version == fmt.coremldata_format_version(data.model_type, data.spec_version)
    assert data.trailer == cd.nn_trailer(data.output_names)


def test_side_files_round_trip(sample):
    bundle = read_bundle(sample)
    if bundle.preprocessing is not None:
        assert cd.write_preprocessing(bundle.preprocessing) == (sample / fmt.PREPROCESSING_FILE).read_bytes()
    if bundle.optionals is not None:
        assert bundle.optionals == cd.write_optionals(era_of(sample))
    if bundle.analytics is not None:
        assert cd.write_analytics(bundle.analytics) == (sample / fmt.ANALYTICS_FILE).read_bytes()


# --- generation from the source .mlmodel -----------------------------------------------------------
@pytest.mark.parametrize("bundle_path", PAIRED, ids=ids(PAIRED))
def test_coremldata_from_source_mlmodel(bundle_path):
    Model_pb2 = pytest.importorskip("coremltools.proto.Model_pb2")
    source = source_of(bundle_path).read_bytes()
    model = Model_pb2.Model.FromString(source)
    generated = cd.coremldata_from_mlmodel(source)
    assert generated.description == model.description.SerializeToString()
    assert generated.output_names == tuple(reversed([o.name for o in model.description.output]))
    assert cd.write_coremldata(generated) == (bundle_path / fmt.COREMLDATA_FILE).read_bytes()


@pytest.mark.parametrize("bundle_path", PAIRED, ids=ids(PAIRED))
def test_preprocessing_from_source_scaler(bundle_path):
    Model_pb2 = pytest.importorskip("coremltools.proto.Model_pb2")
    model = Model_pb2.Model.FromString(source_of(bundle_path).read_bytes())
    (pre,) = model.neuralNetwork.preprocessing
    scaler = pre.scaler
    records = cd.preprocessing_from_scaler(
        pre.featureName, channel_scale=scaler.channelScale,
        blue_bias=scaler.blueBias, green_bias=scaler.greenBias, red_bias=scaler.redBias,
        gray_bias=scaler.grayBias)
    assert cd.write_preprocessing(records) == (bundle_path / fmt.PREPROCESSING_FILE).read_bytes()


def test_analytics_from_bundle_files_and_source():
    Model_pb2 = pytest.importorskip("coremltools.proto.Model_pb2")
    bundle_path = next(b for b in BUNDLES if "SSDOcr-2021" in b.parent.name)
    source = source_of(bundle_path).read_bytes()
    model = Model_pb2.Model.FromString(source)
    analytics = cd.analytics_for(
        net=(bundle_path / fmt.NET_FILE).read_bytes(), shape=(bundle_path / fmt.SHAPE_FILE).read_bytes(),
        weights=(bundle_path / fmt.WEIGHTS_FILE).read_bytes(), mlmodel=source,
        model_name=source_of(bundle_path).stem, layer_count=len(model.neuralNetwork.layers))
    assert cd.write_analytics(analytics) == (bundle_path / fmt.ANALYTICS_FILE).read_bytes()


# --- nsjson ----------------------------------------------------------------------------------------
def test_nsjson_style():
    obj = {"a/b": [], "e": {}, "n": {"x": [1, {}]}, "f": 0.1666666716337204, "i": -6.0,
           "t": True, "z": None, "s": "Color 600 × 375\n\"q\""}
    assert nsjson.dumps(obj) == (
        '{\n  "a\\/b" : [\n\n  ],\n  "e" : {\n\n  },\n  "n" : {\n    "x" : [\n      1,\n'
        '      {\n\n      }\n    ]\n  },\n  "f" : 0.1666666716337204,\n  "i" : -6,\n'
        '  "t" : true,\n  "z" : null,\n  "s" : "Color 600 × 375\\n\\"q\\""\n}')
    assert nsjson.dumps(float(np.float32(1 / 255))) == "0.0039215688593685627"
    with pytest.raises(ValueError):
        nsjson.dumps(float("nan"))


def test_write_weights_assigns_padding():
    blob = write_weights([(1, b"\x01" * 12), (3, np.arange(4, dtype=np.float32))])
    count, = struct.unpack_from("<Q", blob)
    table = [struct.unpack_from("<QQ", blob, 8 + 16 * i) for i in range(count)]
    assert table == [(0, 56), (1, 12), (2, 52), (3, 16)]
    assert blob[128:140] == b"\x01" * 12 and len(blob) == 192 + 16
    with pytest.raises(ValueError):
        write_weights([(2, b"")])


# --- damaged inputs --------------------------------------------------------------------------------
@pytest.fixture
def copied(tmp_path):
    source = next(b for b in BUNDLES if "SSDOcr-2021" in b.parent.name)
    target = tmp_path / source.name
    shutil.copytree(source, target, copy_function=shutil.copyfile)
    return target


def expect_error(bundle: Path, relative: str, match: str):
    with pytest.raises(MlirCoremlError, match=match) as info:
        read_bundle(bundle)
    assert info.value.where == str(bundle / relative)


def rewrite(path: Path, edit):
    path.write_bytes(edit(path.read_bytes()))


@pytest.mark.parametrize("edit, match", [
    (lambda d: d[:4], "truncated"),
    (lambda d: d[:1000], "truncated"),
    (lambda d: d[:-1], "truncated"),
    (lambda d: d + b"\0", "after the last blob"),
    (lambda d: struct.pack("<Q", 1 << 40) + d[8:], "truncated"),
    (lambda d: d[:24] + struct.pack("<Q", 7) + d[32:], "blob id"),
    (lambda d: d[:32] + struct.pack("<Q", 1 << 62) + d[40:], "truncated"),
    (lambda d: fmt.PBZE_MAGIC + d[4:], "LZFSE"),
])
def test_damaged_weights(copied, edit, match):
    rewrite(copied / fmt.WEIGHTS_FILE, edit)
    expect_error(copied, fmt.WEIGHTS_FILE, match)


def test_every_truncation_of_coremldata_fails(copied):
    path = copied / fmt.COREMLDATA_FILE
    original = path.read_bytes()
    for size in range(len(original)):
        path.write_bytes(original[:size])
        expect_error(copied, fmt.COREMLDATA_FILE, "truncated")


def test_coremldata_extra_bytes_and_bad_counts(copied):
    path = copied / fmt.COREMLDATA_FILE
    original = path.read_bytes()
    path.write_bytes(original + b"x")
    expect_error(copied, fmt.COREMLDATA_FILE, "unexpected")
    path.write_bytes(original[:0x4B] + struct.pack("<Q", 1 << 60) + original[0x53:])
    expect_error(copied, fmt.COREMLDATA_FILE, "truncated")


@pytest.mark.parametrize("relative", [fmt.PREPROCESSING_FILE, fmt.ANALYTICS_FILE])
def test_truncated_side_files(copied, relative):
    rewrite(copied / relative, lambda d: d[:-3])
    expect_error(copied, relative, "truncated")


def test_preprocessing_huge_count(copied):
    rewrite(copied / fmt.PREPROCESSING_FILE, lambda d: struct.pack("<Q", 1 << 50) + d[8:])
    expect_error(copied, fmt.PREPROCESSING_FILE, "cannot fit")


@pytest.mark.parametrize("relative", [fmt.NET_FILE, fmt.SHAPE_FILE, fmt.METADATA_FILE])
def test_bad_json(copied, relative):
    rewrite(copied / relative, lambda d: d[:-2])
    expect_error(copied, relative, r"invalid JSON at \d+:\d+")
    rewrite(copied / relative, lambda d: fmt.PBZE_MAGIC + bytes(24) + b"bvx2")
    expect_error(copied, relative, "LZFSE-compressed espresso files are not supported")


@pytest.mark.parametrize("relative", [fmt.NET_FILE, fmt.WEIGHTS_FILE, fmt.COREMLDATA_FILE])
def test_missing_required_file(copied, relative):
    (copied / relative).unlink()
    expect_error(copied, relative, "missing")


def test_optional_files_may_be_absent(copied):
    for relative in (fmt.PREPROCESSING_FILE, fmt.OPTIONALS_FILE, fmt.ANALYTICS_FILE, fmt.METADATA_FILE):
        (copied / relative).unlink()
    bundle = read_bundle(copied)
    assert bundle.preprocessing is bundle.optionals is bundle.analytics is bundle.metadata is None


def test_not_a_directory(tmp_path):
    with pytest.raises(MlirCoremlError) as info:
        read_bundle(tmp_path / "nothing.mlmodelc")
    assert info.value.where == str(tmp_path / "nothing.mlmodelc")
