"""ML Program -> `.mlmodelc` bundle (codegen/mlprogram_bundle.py), as `xcrun coremlc compile` lays it out.

For zoo models in both ML Program forms (fp16 compute, the coremltools default, and FLOAT32):
`lower` writes model.mil, weights/weight.bin, coremldata.bin, metadata.json and
analytics/coremldata.bin; model.mil parses with our parser and prints back identically; the
bundle re-imports (`mlir_coreml.load`) to the same IR as the source `.mlpackage` — except
`mil.attributes`, whose buildInfo gains our `coremlc-*` entries and whose values the text form
holds as plain strings — and the reference interpreter gives the same outputs.
"""
from __future__ import annotations

import json
import os
import re
import struct
import subprocess
import sys

import numpy as np
import pytest

import mlir_coreml
from mlir_coreml.codegen.lower import lower_model
from mlir_coreml.codegen.mil_text import print_mil
from mlir_coreml.codegen.mlprogram_bundle import (AVAILABILITY, OURS, coremldata_bytes,
                                                  program_from_module)
from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.frontend import is_ml_program
from mlir_coreml.frontend.mil.text import parse_mil
from mlir_coreml.frontend.proto import model_pb2
from mlir_coreml.ir.attributes import DenseResourceAttr
from mlir_coreml.ir.interpreter import run_module
from mlir_coreml.ir.printer import print_module

FORMS = ["mlprogram", "mlprogram_fp32"]
MODELS = ["mobilenet_v2_small", "resnet18_small", "transformer_small", "gru_loop_scripted", "lstm",
          "layer_conv", "layer_mul_const", "layer_split", "layer_embedding", "layer_concat"]
CASES = [(m, f) for m in MODELS for f in FORMS]
IDS = [f"{m}-{f}" for m, f in CASES]
TOLERANCE = {"mlprogram_fp32": 1e-4, "mlprogram": 5e-2}
SPEC = os.path.join("Data", "com.apple.CoreML", "model.mlmodel")


def _lower(model_zoo, tmp_path, name, form):
    path, inputs, outputs = model_zoo.get(name, form)
    bundle = tmp_path / "model.mlmodelc"
    lower_model(path, bundle)
    return path, bundle, inputs, outputs


def _without_program_attributes(module) -> str:
    module.attributes.pop("mil.attributes", None)
    return print_module(module)


def _has_weights(module) -> bool:
    def walk(ops):
        for op in ops:
            if any(isinstance(v, DenseResourceAttr) for v in op.attributes.values()):
                return True
            for region in op.regions:
                for block in region.blocks:
                    if walk(block.ops):
                        return True
        return False
    return walk(module.body.ops)


@pytest.mark.parametrize("name, form", CASES, ids=IDS)
def test_bundle_reimports_to_the_same_ir_and_outputs(model_zoo, tmp_path, name, form):
    path, bundle, inputs, expected = _lower(model_zoo, tmp_path, name, form)
    source = mlir_coreml.load(str(path))
    compiled = mlir_coreml.load(str(bundle))

    # layout
    files = sorted(os.path.relpath(os.path.join(d, f), bundle) for d, _, fs in os.walk(bundle) for f in fs)
    want = ["analytics/coremldata.bin", "coremldata.bin", "metadata.json", "model.mil"]
    if _has_weights(source):
        want.append("weights/weight.bin")
    assert files == sorted(want)
    assert not [p for p in os.listdir(tmp_path) if p != "model.mlmodelc"]  # no temporary left behind

    # model.mil: our parser reads it and our printer writes it back byte for byte
    text = (bundle / "model.mil").read_text(encoding="utf-8")
    assert print_mil(parse_mil(text)) == text
    assert text.startswith("program(1.0)\n[buildInfo = dict<string, string>({{")
    assert re.search(r"\n    func main<ios\d+>\(", text)
    assert '[name = string("' in text

    # buildInfo: the source's entries kept, ours added and marked
    build_info = dict(compiled.attributes["mil.attributes"].data)["buildInfo"]
    ours = {k: v.value for k, v in build_info.data}
    for key, value in dict(source.attributes["mil.attributes"].data)["buildInfo"].data:
        assert ours.pop(key) == str(np.asarray(value.value).reshape(-1)[0])
    assert ours and all(v.startswith(OURS) for v in ours.values())
    assert set(ours) == {"coremlc-component-MIL", "coremlc-version"}

    # the same IR (modulo mil.attributes), hence the same outputs
    assert _without_program_attributes(compiled) == _without_program_attributes(source)
    got = run_module(compiled, inputs)
    want_outputs = run_module(source, inputs)
    assert len(got) == len(want_outputs) == len(expected)
    for g, w, (key, e) in zip(got, want_outputs, expected.items()):
        np.testing.assert_array_equal(np.asarray(g), np.asarray(w), err_msg=key)
        e = np.asarray(e, np.float64)
        err = np.abs(np.asarray(g, np.float64).reshape(e.shape) - e).max() / max(np.abs(e).max(), 1e-12)
        assert err <= TOLERANCE[form], key


@pytest.mark.parametrize("name, form", [("mobilenet_v2_small", "mlprogram"), ("layer_split", "mlprogram_fp32")])
def test_side_files(model_zoo, tmp_path, name, form):
    path, bundle, _, _ = _lower(model_zoo, tmp_path, name, form)
    source_bytes = (path / SPEC).read_bytes()
    spec = model_pb2.Model()
    spec.ParseFromString(source_bytes)

    # coremldata.bin: header, the source's ModelDescription bytes, one 16-byte trailer per function
    data = (bundle / "coremldata.bin").read_bytes()
    assert struct.unpack_from("<II", data, 0) == (502, spec.specificationVersion)
    assert struct.unpack_from("<Q", data, 0x1C)[0] == 7 and data[0x24:0x2B] == b"generic"
    assert struct.unpack_from("<Q", data, 0x2B)[0] == spec.specificationVersion
    length = struct.unpack_from("<Q", data, 0x4B)[0]
    from mlir_coreml.frontend.proto.wire import scan_fields
    assert data[0x53:0x53 + length] == scan_fields(source_bytes, None)[2][-1]  # has metadata: copied as is
    assert data[0x53 + length:] == struct.pack("<I", 502) + bytes(12)

    # metadata.json
    meta = json.loads((bundle / "metadata.json").read_text(encoding="utf-8"))
    assert isinstance(meta, list) and len(meta) == 1
    entry = meta[0]
    for key, kind in (("metadataOutputVersion", str), ("specificationVersion", int), ("modelType", dict),
                      ("computePrecision", str), ("mlProgramOperationTypeHistogram", dict),
                      ("availability", dict), ("inputSchema", list), ("outputSchema", list),
                      ("stateSchema", list), ("userDefinedMetadata", dict), ("generatedClassName", str),
                      ("method", str), ("isUpdatable", str), ("modelParameters", list)):
        assert isinstance(entry[key], kind), key
    assert entry["metadataOutputVersion"] == "3.0"
    assert entry["specificationVersion"] == spec.specificationVersion
    assert entry["modelType"] == {"name": "MLModelType_mlProgram"}
    assert entry["method"] == "predict" and entry["generatedClassName"] == "model"
    assert entry["availability"] == AVAILABILITY[spec.specificationVersion]
    assert entry["userDefinedMetadata"] == dict(spec.description.metadata.userDefined)
    assert entry["computePrecision"] in ("Float16", "Float32") or entry["computePrecision"].startswith("Mixed (")
    opset = spec.mlProgram.functions["main"].opset
    prefix = {"CoreML5": "Ios15", "CoreML6": "Ios16", "CoreML7": "Ios17", "CoreML8": "Ios18"}[opset]
    histogram = entry["mlProgramOperationTypeHistogram"]
    assert histogram and all(k.startswith(prefix + ".") and v > 0 for k, v in histogram.items())
    ops = spec.mlProgram.functions["main"].block_specializations[opset].operations
    assert sum(histogram.values()) == sum(1 for op in ops if op.type != "const")
    for schema, features in ((entry["inputSchema"], spec.description.input),
                             (entry["outputSchema"], spec.description.output)):
        assert [s["name"] for s in schema] == [f.name for f in features]
        for s, f in zip(schema, features):
            assert s["type"] == "MultiArray"
            assert s["shape"] == "[" + ", ".join(map(str, f.type.multiArrayType.shape)) + "]"
            assert s["formattedType"].startswith("MultiArray (" + s["dataType"])

    # analytics/coremldata.bin: `u64 len; name; u64 count; count x (key, value)` sections
    raw = (bundle / "analytics" / "coremldata.bin").read_bytes()
    sections, pos = {}, 0

    def string():
        nonlocal pos
        (n,) = struct.unpack_from("<Q", raw, pos)
        pos += 8 + n
        return raw[pos - n:pos].decode("utf-8")
    while pos < len(raw):
        section = string()
        (count,) = struct.unpack_from("<Q", raw, pos)
        pos += 8
        sections[section] = dict((string(), string()) for _ in range(count))
    assert pos == len(raw)
    import base64
    import hashlib
    assert sections["SpecificationDetails"] == {
        "modelHash": base64.b64encode(hashlib.sha256(source_bytes).digest()).decode(), "modelName": "model"}


def test_weight_file_is_blob_storage_v2(model_zoo, tmp_path):
    _, bundle, _, _ = _lower(model_zoo, tmp_path, "resnet18_small", "mlprogram")
    blob = (bundle / "weights" / "weight.bin").read_bytes()
    count, version = struct.unpack_from("<II", blob, 0)
    assert version == 2 and blob[8:64] == bytes(56)
    offsets = [int(m) for m in re.findall(r'offset = uint64\((\d+)\)', (bundle / "model.mil").read_text())]
    assert len(set(offsets)) == count > 0
    for offset in set(offsets):
        assert offset % 64 == 0
        sentinel, dtype, size, data_offset, padding = struct.unpack_from("<IIQQQ", blob, offset)
        assert sentinel == 0xDEADBEEF and dtype in (1, 2) and padding == 0
        assert data_offset % 64 == 0 and data_offset + size <= len(blob)
        assert blob[offset + 24:offset + 64] == bytes(40)


def test_bundle_of_a_bundle_and_cli(model_zoo, tmp_path):
    path, _, _ = model_zoo.get("layer_conv_bn_relu", "mlprogram")
    first = tmp_path / "first.mlmodelc"
    proc = subprocess.run([sys.executable, "-m", "mlir_coreml", "lower", str(path), "-o", str(first)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert is_ml_program(first) and is_ml_program(path)
    second = tmp_path / "second.mlmodelc"
    lower_model(first, second)  # an ML Program bundle compiles again to the same program text
    assert (second / "model.mil").read_text() == (first / "model.mil").read_text()
    assert (second / "weights" / "weight.bin").read_bytes() == (first / "weights" / "weight.bin").read_bytes()
    a, b = mlir_coreml.load(str(first)), mlir_coreml.load(str(second))
    assert print_module(a) == print_module(b)


def test_ml_program_mlmodel_file_is_dispatched(model_zoo, tmp_path):
    path, inputs, _ = model_zoo.get("layer_mul_const", "mlprogram_fp32")  # no weight.bin: a lone .mlmodel works
    lone = tmp_path / "mul.mlmodel"
    lone.write_bytes((path / SPEC).read_bytes())
    assert is_ml_program(lone)
    bundle = tmp_path / "mul.mlmodelc"
    lower_model(lone, bundle)
    meta = json.loads((bundle / "metadata.json").read_text())
    assert meta[0]["generatedClassName"] == "mul"
    source = mlir_coreml.load(str(path))
    assert _without_program_attributes(mlir_coreml.load(str(bundle))) == _without_program_attributes(source)


def test_atomic_write_replaces_and_leaves_nothing_on_error(model_zoo, tmp_path, monkeypatch):
    path, _, _ = model_zoo.get("layer_conv", "mlprogram")
    out = tmp_path / "out.mlmodelc"
    out.mkdir()
    (out / "coremldata.bin").write_bytes(b"")  # recognisably a bundle: only those are replaced
    (out / "stale.txt").write_text("old")
    lower_model(path, out)
    assert not (out / "stale.txt").exists() and (out / "model.mil").is_file()
    before = (out / "model.mil").read_bytes()

    from mlir_coreml.codegen import mlprogram_bundle

    def boom(self, staging):
        (staging / "weights").mkdir(exist_ok=True)
        (staging / "weights" / "weight.bin").write_bytes(b"partial")
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(mlprogram_bundle.WeightFiles, "write", boom)
    with pytest.raises(MlirCoremlError):
        lower_model(path, out)
    assert (out / "model.mil").read_bytes() == before  # the old bundle is untouched
    fresh = tmp_path / "fresh.mlmodelc"
    with pytest.raises(MlirCoremlError):
        lower_model(path, fresh)
    assert not fresh.exists()
    assert sorted(os.listdir(tmp_path)) == ["out.mlmodelc"]


def test_coremldata_appends_empty_metadata_only_when_missing():
    desc = model_pb2.ModelDescription()
    desc.input.add().name = "x"
    raw = desc.SerializeToString()
    data = coremldata_bytes(raw, 7, 2)
    length = struct.unpack_from("<Q", data, 0x4B)[0]
    assert data[0x53:0x53 + length] == raw + b"\xa2\x06\x00"
    assert len(data) == 0x53 + length + 32
    desc.metadata.author = "me"
    raw = desc.SerializeToString()
    assert coremldata_bytes(raw, 7)[0x53:-16] == raw


def test_literals_print_exactly(model_zoo):
    path, _, _ = model_zoo.get("layer_clamp", "mlprogram_fp32")
    module = mlir_coreml.load(str(path))
    text = print_mil(program_from_module(module))
    assert "0x1.8p-1" in text  # 0.75 as C's %a spells it


def test_coremldata_size_matches_apples_add_model():
    """Apple's add_model.mlmodelc/coremldata.bin (coremltools repo) is 319 bytes: header, this
    description (the model as docs/coreml-formats.md §5 shows it, converted by coremltools 8.1)
    and one function trailer."""
    desc = model_pb2.ModelDescription()
    for features, name in ((desc.input, "x"), (desc.input, "y"), (desc.output, "var_3")):
        f = features.add()
        f.name = name
        f.type.multiArrayType.shape.extend([1, 10])
        f.type.multiArrayType.dataType = 65552  # ArrayFeatureType.FLOAT16
    user = desc.metadata.userDefined
    user.update({"com.github.apple.coremltools.source": "torch==2.5.1",
                 "com.github.apple.coremltools.version": "8.1",
                 "com.github.apple.coremltools.source_dialect": "TorchScript"})
    assert len(coremldata_bytes(desc.SerializeToString(), 7)) == 319
