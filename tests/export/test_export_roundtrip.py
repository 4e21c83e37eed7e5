"""Back to Apple's toolchain: `nn` IR -> `.mlmodel`, `mil` IR -> `.mlpackage`.

import -> export of an unmodified model gives a file coremltools reads whose spec equals the
original's (compared as `json_format.MessageToDict` of coremltools' own parse of both files);
for packages the weight blobs are compared too. Optimised modules (passes applied) export to
files coremltools loads, and that re-import to a module computing the same outputs.
"""
from __future__ import annotations

import glob
import json
import logging
import os
import struct

import numpy as np
import pytest

from mlir_coreml.codegen.mlmodel_writer import export_model, module_to_spec, write_mlmodel
from mlir_coreml.codegen.mlpackage_writer import write_mlpackage
from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.frontend import mlmodel as mlmodel_frontend
from mlir_coreml.frontend import mlpackage as mlpackage_frontend

ct = pytest.importorskip("coremltools")
from google.protobuf import json_format  # noqa: E402

logging.getLogger("coremltools").setLevel(logging.ERROR)

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLES = sorted(glob.glob(os.path.join(HERE, "..", "data", "espresso_samples", "*", "source", "*.mlmodel")))
WEIGHTS = os.path.join("Data", "com.apple.CoreML", "weights", "weight.bin")
SPEC = os.path.join("Data", "com.apple.CoreML", "model.mlmodel")


def small_models() -> list[str]:
    try:
        from tests.models.zoo import names
    except ImportError:  # torch missing: the zoo tests skip through the fixture
        return ["mlp"]
    return names(small=True)


SMALL = small_models()


def spec_dict(path) -> dict:
    return json_format.MessageToDict(ct.utils.load_spec(str(path)))


def first_difference(a, b, where="spec"):
    """A readable path to the first difference of two MessageToDict trees (None when equal)."""
    if type(a) is not type(b):
        return f"{where}: {str(a)[:120]} != {str(b)[:120]}"
    if isinstance(a, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                return f"{where}.{k}: only in {'exported' if k not in a else 'original'}"
            found = first_difference(a[k], b[k], f"{where}.{k}")
            if found:
                return found
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{where}: {len(a)} items != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            found = first_difference(x, y, f"{where}[{i}]")
            if found:
                return found
        return None
    return None if a == b else f"{where}: {str(a)[:120]} != {str(b)[:120]}"


def assert_same_spec(original, exported):
    a, b = spec_dict(original), spec_dict(exported)
    assert a == b, first_difference(a, b)


def blobs(package) -> list[tuple[int, int, bytes]]:
    """(dtype, offset of metadata, data) of every blob in a package's weight.bin."""
    path = os.path.join(str(package), WEIGHTS)
    if not os.path.exists(path):
        return []
    data = open(path, "rb").read()
    count, version = struct.unpack_from("<II", data, 0)
    assert version == 2
    out, offset = [], 64
    for _ in range(count):
        sentinel, dtype, size, data_offset, _pad = struct.unpack_from("<IIQQQ", data, offset)
        assert sentinel == 0xDEADBEEF
        assert offset % 64 == 0 and data_offset % 64 == 0
        out.append((dtype, offset, data[data_offset:data_offset + size]))
        offset = (data_offset + size + 63) // 64 * 64
    return out


# -- NeuralNetwork .mlmodel ----------------------------------------------------------------------

@pytest.mark.parametrize("form", ["nn_fp32", "nn_fp16"])
@pytest.mark.parametrize("name", SMALL)
def test_zoo_mlmodel_round_trips(model_zoo, tmp_path, name, form):
    path, _, _ = model_zoo.get(name, form)
    out = tmp_path / "out.mlmodel"
    write_mlmodel(mlmodel_frontend.read(str(path)), out)
    assert_same_spec(path, out)


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.split(os.sep)[-3])
def test_espresso_sample_sources_round_trip(tmp_path, sample):
    out = tmp_path / "out.mlmodel"
    write_mlmodel(mlmodel_frontend.read(sample), out)
    assert_same_spec(sample, out)
    # These older files (preprocessing, fp16 and fp32 weights) even come back byte for byte.
    assert out.read_bytes() == open(sample, "rb").read()


def test_four_paired_samples_are_present():
    assert len(SAMPLES) == 4


QUANTIZATIONS = [(8, "_linear_quantization"), (4, "_linear_quantization"), (8, "_linear_quantization_symmetric"),
                 (4, "_lookup_table_quantization_linear"), (2, "_lookup_table_quantization_linear")]


@pytest.mark.parametrize("nbits,mode", QUANTIZATIONS)
def test_quantized_weights_round_trip(model_zoo, tmp_path, nbits, mode):
    from coremltools.models.neural_network.quantization_utils import _quantize_spec_weights

    path, _, _ = model_zoo.get("layer_conv", "nn_fp32")
    spec = _quantize_spec_weights(ct.utils.load_spec(str(path)), nbits, mode)
    assert spec.neuralNetwork.layers[0].convolution.weights.rawValue
    source = tmp_path / "q.mlmodel"
    ct.utils.save_spec(spec, str(source))
    module = mlmodel_frontend.read(str(source))
    assert any(op.op_name == "nn.dequantize" for op in module.walk())
    out = tmp_path / "out.mlmodel"
    write_mlmodel(module, out)
    assert_same_spec(source, out)


def test_int8_raw_weights_round_trip(model_zoo, tmp_path):
    path, _, _ = model_zoo.get("layer_linear", "nn_fp32")
    spec = ct.utils.load_spec(str(path))
    ip = next(layer.innerProduct for layer in spec.neuralNetwork.layers if layer.WhichOneof("layer") == "innerProduct")
    n = len(ip.weights.floatValue)
    ip.weights.Clear()
    ip.weights.int8RawValue = np.arange(n, dtype=np.int64).astype(np.int8).tobytes()
    ip.weights.quantization.numberOfBits = 8
    ip.weights.quantization.linearQuantization.scale.extend([0.5])
    ip.weights.quantization.linearQuantization.bias.extend([0.25])
    source = tmp_path / "i8.mlmodel"
    ct.utils.save_spec(spec, str(source))
    out = tmp_path / "out.mlmodel"
    write_mlmodel(mlmodel_frontend.read(str(source)), out)
    assert_same_spec(source, out)


def classifier_spec(int_labels: bool):
    """A small image classifier with preprocessing, labels and metadata, built by coremltools."""
    from coremltools.models import datatypes
    from coremltools.models.neural_network import NeuralNetworkBuilder

    builder = NeuralNetworkBuilder([("image", datatypes.Array(3, 4, 4))], [("probs", datatypes.Array(3))],
                                   mode="classifier")
    rng = np.random.default_rng(0)
    builder.add_inner_product("fc", rng.standard_normal((3, 48)).astype(np.float32),
                              rng.standard_normal(3).astype(np.float32), 48, 3, True, "image", "fc_out")
    builder.add_softmax("softmax", "fc_out", "probs")
    builder.set_class_labels([7, 8, 9] if int_labels else ["cat", "dog", "fish"],
                             predicted_feature_name="label", prediction_blob="probs")
    builder.set_pre_processing_parameters(image_input_names=["image"], is_bgr=True, red_bias=-1.0,
                                          green_bias=-2.0, blue_bias=-3.0, image_scale=1 / 255.0)
    spec = builder.spec
    spec.description.metadata.author = "export test"
    spec.description.metadata.userDefined["k"] = "v"
    return spec


@pytest.mark.parametrize("int_labels", [False, True], ids=["string_labels", "int64_labels"])
def test_classifier_with_preprocessing_round_trips(tmp_path, int_labels):
    source = tmp_path / "classifier.mlmodel"
    ct.utils.save_spec(classifier_spec(int_labels), str(source))
    module = mlmodel_frontend.read(str(source))
    assert any(op.op_name == "nn.image_preprocess" for op in module.walk())
    out = tmp_path / "out.mlmodel"
    write_mlmodel(module, out)
    assert_same_spec(source, out)
    spec = ct.utils.load_spec(str(out))
    assert spec.WhichOneof("Type") == "neuralNetworkClassifier"
    assert spec.neuralNetwork.layers == [] and spec.neuralNetworkClassifier.preprocessing


# -- ML Program .mlpackage -----------------------------------------------------------------------

@pytest.mark.parametrize("form", ["mlprogram", "mlprogram_fp32"])
@pytest.mark.parametrize("name", SMALL)
def test_zoo_mlpackage_round_trips(model_zoo, tmp_path, name, form):
    path, _, _ = model_zoo.get(name, form)
    out = tmp_path / "out.mlpackage"
    write_mlpackage(mlpackage_frontend.read(str(path)), out)
    assert_same_spec(path, out)
    assert blobs(out) == blobs(path)


COMPRESSIONS = ["palettize4", "palettize8", "linear_symmetric8"]


@pytest.mark.parametrize("compression", COMPRESSIONS)
def test_compressed_mlpackage_round_trips(model_zoo, tmp_path, compression):
    """iOS16 constexpr ops keep their data as attributes; their blobs keep coremltools' order."""
    import coremltools.optimize.coreml as cto

    path, _, _ = model_zoo.get("mlp", "mlprogram")
    model = ct.models.MLModel(str(path), skip_model_load=True)
    if compression.startswith("palettize"):
        config = cto.OpPalettizerConfig(nbits=int(compression[-1]), mode="uniform")
        compressed = cto.palettize_weights(model, cto.OptimizationConfig(global_config=config))
    else:
        config = cto.OpLinearQuantizerConfig(mode="linear_symmetric")
        compressed = cto.linear_quantize_weights(model, cto.OptimizationConfig(global_config=config))
    source = tmp_path / "compressed.mlpackage"
    compressed.save(str(source))
    module = mlpackage_frontend.read(str(source))
    assert any(op.op_name.startswith("mil.constexpr_") for op in module.walk())
    out = tmp_path / "out.mlpackage"
    write_mlpackage(module, out)
    assert_same_spec(source, out)
    assert (out / WEIGHTS).read_bytes() == (source / WEIGHTS).read_bytes()


def test_mlpackage_layout(model_zoo, tmp_path):
    path, _, _ = model_zoo.get("mlp", "mlprogram")
    out = tmp_path / "mlp.mlpackage"
    export_model(mlpackage_frontend.read(str(path)), out, "mlpackage")
    manifest = json.loads((out / "Manifest.json").read_text())
    assert manifest["fileFormatVersion"] == "1.0.0"
    items = manifest["itemInfoEntries"]
    root = items[manifest["rootModelIdentifier"]]
    assert root["path"] == "com.apple.CoreML/model.mlmodel" and root["author"] == "com.apple.CoreML"
    assert {item["path"] for item in items.values()} == {"com.apple.CoreML/model.mlmodel", "com.apple.CoreML/weights"}
    # The same bytes as coremltools wrote: header, 64-byte aligned records and data.
    assert (out / WEIGHTS).read_bytes() == (path / WEIGHTS).read_bytes()
    header = (out / WEIGHTS).read_bytes()[:64]
    assert struct.unpack_from("<II", header) == (6, 2) and header[8:] == bytes(56)
    ct.models.MLModel(str(out), skip_model_load=True)
    # And our own reader takes it back.
    again = mlpackage_frontend.read(str(out))
    assert [op.op_name for op in again.walk()] == [op.op_name for op in mlpackage_frontend.read(str(path)).walk()]


def test_mlpackage_without_description_describes_main(model_zoo, tmp_path):
    """A module from a compiled model.mil keeps no ModelDescription: main's signature gives it."""
    path, _, _ = model_zoo.get("transformer_small", "mlprogram")
    module = mlpackage_frontend.read(str(path))
    del module.attributes["coreml.description"]
    module.attributes["mil.program_version"] = mlpackage_frontend.StringAttr("1.0")  # model.mil spelling
    out = tmp_path / "out.mlpackage"
    write_mlpackage(module, out)
    ct.models.MLModel(str(out), skip_model_load=True)
    got, want = ct.utils.load_spec(str(out)), ct.utils.load_spec(str(path))
    for a, b in ((got.description.input, want.description.input), (got.description.output, want.description.output)):
        assert [f.name for f in a] == [f.name for f in b]
        assert [list(f.type.multiArrayType.shape) for f in a] == [list(f.type.multiArrayType.shape) for f in b]
        assert [f.type.multiArrayType.dataType for f in a] == [f.type.multiArrayType.dataType for f in b]
    assert got.mlProgram == want.mlProgram


@pytest.mark.parametrize("case", ["sample", "mlprogram"])
def test_export_from_parsed_ir_text(model_zoo, tmp_path, case):
    """`import -> print (with resources) -> parse -> export` is still exact (the `opt` path)."""
    from mlir_coreml.ir.parser import parse_module
    from mlir_coreml.ir.printer import print_module

    if case == "sample":
        source, reader, writer, out = SAMPLES[0], mlmodel_frontend.read, write_mlmodel, tmp_path / "o.mlmodel"
    else:
        source = model_zoo.get("transformer_small", "mlprogram")[0]
        reader, writer, out = mlpackage_frontend.read, write_mlpackage, tmp_path / "o.mlpackage"
    module = parse_module(print_module(reader(str(source)), resources=True))
    writer(module, out)
    assert_same_spec(source, out)


# -- optimised models -----------------------------------------------------------------------------

def run(module, inputs):
    from mlir_coreml.ir.interpreter import run_module

    return [np.asarray(x, np.float64) for x in run_module(module, inputs)]


@pytest.mark.parametrize("sample", SAMPLES[:2], ids=lambda p: p.split(os.sep)[-3])
def test_optimised_nn_model_exports_and_loads(tmp_path, sample):
    from mlir_coreml.passes.manager import PassManager

    module = mlmodel_frontend.read(sample)
    arg = next(op for op in module.walk() if op.op_name == "func.func").body.args[0]
    x = {arg.name: np.random.default_rng(0).uniform(0, 255, arg.type.shape).astype(np.float32)}
    before = run(module, x)
    PassManager.from_pipeline("fuse-conv-batchnorm,fold-padding").run(module)
    assert not any(op.op_name in ("nn.batchnorm", "nn.padding") for op in module.walk())
    optimised = run(module, x)
    out = tmp_path / "optimised.mlmodel"
    export_model(module, out, "mlmodel")
    ct.models.MLModel(str(out), skip_model_load=True)
    spec = ct.utils.load_spec(str(out))
    kinds = {layer.WhichOneof("layer") for layer in spec.neuralNetwork.layers}
    assert "batchnorm" not in kinds and "padding" not in kinds
    original = ct.utils.load_spec(sample)
    assert len(spec.neuralNetwork.layers) < len(original.neuralNetwork.layers)
    assert spec.description == original.description
    after = run(mlmodel_frontend.read(str(out)), x)
    for want, got in zip(optimised, after):  # the export itself is exact
        np.testing.assert_array_equal(want, got)
    for want, got in zip(before, after):  # folding into fp16 weights rounds a little
        assert np.abs(want - got).max() <= 1e-2 * max(np.abs(want).max(), 1.0)


def test_folded_constant_input_becomes_load_constant(model_zoo, tmp_path):
    """A layer computing from constants only folds to a `core.constant`; the writer emits it as a
    loadConstantND layer."""
    from mlir_coreml.ir.dialects.core import materialize_constant

    path, inputs, _ = model_zoo.get("layer_add_broadcast", "nn_fp32")
    module = mlmodel_frontend.read(str(path))
    fn = next(op for op in module.walk() if op.op_name == "func.func")
    b = fn.body.args[1]
    const = materialize_constant(np.asarray(inputs[b.name], np.float32), name="b_const")
    fn.body.insert_before(const, fn.body.first_op)
    b.replace_all_uses_with(const.results[0])
    out = tmp_path / "const.mlmodel"
    write_mlmodel(module, out)
    ct.models.MLModel(str(out), skip_model_load=True)
    spec = ct.utils.load_spec(str(out))
    first, add = spec.neuralNetwork.layers[:2]
    assert first.WhichOneof("layer") == "loadConstantND"
    assert list(first.loadConstantND.shape) == list(inputs[b.name].shape)
    # The folded value had no name: it gets a fresh blob name that the user layer reads.
    assert first.output[0] == first.name and first.output[0] in add.input
    assert first.output[0] not in {f.name for f in spec.description.input}
    np.testing.assert_array_equal(np.array(first.loadConstantND.data.floatValue, np.float32),
                                  inputs[b.name].reshape(-1))


def test_optimised_mil_constant_exports(model_zoo, tmp_path):
    """`core.constant` (what folding leaves in a mil module) is written as a MIL const."""
    from mlir_coreml.ir.dialects.core import materialize_constant

    path, _, _ = model_zoo.get("mlp", "mlprogram_fp32")
    module = mlpackage_frontend.read(str(path))
    fn = next(op for op in module.walk() if op.op_name == "func.func")
    old = next(op for op in fn.body.ops if op.op_name == "mil.const" and op.results[0].type.rank == 2)
    new = materialize_constant(np.asarray(old.attributes["val"].value) * 2, name="doubled")
    fn.body.insert_before(new, old)
    user = old.results[0].uses[0].operation
    old.results[0].replace_all_uses_with(new.results[0])
    old.erase()
    out = tmp_path / "folded.mlpackage"
    write_mlpackage(module, out)
    ct.models.MLModel(str(out), skip_model_load=True)
    again = mlpackage_frontend.read(str(out))
    same_user = next(op for op in again.walk() if op.location == user.location)
    const = same_user.param("weight").op
    assert const.op_name == "mil.const" and const.results[0].name
    np.testing.assert_array_equal(const.attributes["val"].value, np.asarray(new.attributes["value"].value))


# -- errors and atomicity -------------------------------------------------------------------------

def test_unknown_emit_is_an_error(tmp_path):
    module = mlmodel_frontend.read(SAMPLES[0])
    with pytest.raises(MlirCoremlError, match="unknown export format"):
        export_model(module, tmp_path / "x", "onnx")


def test_nn_module_cannot_be_written_as_mlpackage_and_nothing_is_left(tmp_path):
    module = mlmodel_frontend.read(SAMPLES[0])
    target = tmp_path / "out.mlpackage"
    with pytest.raises(MlirCoremlError, match="not a MIL op"):
        write_mlpackage(module, target)
    assert os.listdir(tmp_path) == []


def test_mil_module_cannot_be_written_as_mlmodel_and_nothing_is_left(model_zoo, tmp_path):
    path, _, _ = model_zoo.get("layer_relu", "mlprogram")
    target = tmp_path / "out.mlmodel"
    with pytest.raises(MlirCoremlError, match="not a NeuralNetwork"):
        write_mlmodel(mlpackage_frontend.read(str(path)), target)
    assert os.listdir(tmp_path) == []


def test_failed_write_keeps_the_previous_file(tmp_path, monkeypatch):
    module = mlmodel_frontend.read(SAMPLES[0])
    target = tmp_path / "out.mlmodel"
    write_mlmodel(module, target)
    good = target.read_bytes()

    def broken(self, *args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken)  # fails after the temporary file is complete
    with pytest.raises(MlirCoremlError, match="No space left"):
        write_mlmodel(module, target)
    monkeypatch.undo()
    assert target.read_bytes() == good
    assert sorted(os.listdir(tmp_path)) == ["out.mlmodel"]


def test_failed_package_write_leaves_nothing_and_overwrite_works(model_zoo, tmp_path, monkeypatch):
    from mlir_coreml.codegen import mlpackage_writer

    path, _, _ = model_zoo.get("layer_conv", "mlprogram")
    module = mlpackage_frontend.read(str(path))
    target = tmp_path / "out.mlpackage"

    def broken(self, f):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(mlpackage_writer.BlobWriter, "write", broken)
    with pytest.raises(MlirCoremlError, match="No space left"):
        write_mlpackage(module, target)
    assert os.listdir(tmp_path) == []
    monkeypatch.undo()
    write_mlpackage(module, target)
    write_mlpackage(module, target)  # replaces the existing package
    assert sorted(os.listdir(tmp_path)) == ["out.mlpackage"]
    assert_same_spec(path, target)


def test_package_writer_refuses_to_replace_other_paths(model_zoo, tmp_path):
    module = mlpackage_frontend.read(str(model_zoo.get("layer_relu", "mlprogram")[0]))
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "keep.txt").write_text("mine")
    (tmp_path / "file.mlpackage").write_text("x")
    for name in ("notes", "file.mlpackage"):
        with pytest.raises(MlirCoremlError, match="not an .mlpackage"):
            write_mlpackage(module, tmp_path / name)
    assert (tmp_path / "notes" / "keep.txt").read_text() == "mine"
    assert sorted(os.listdir(tmp_path)) == ["file.mlpackage", "notes"]


def test_spec_is_built_before_anything_is_written(tmp_path):
    module = mlmodel_frontend.read(SAMPLES[1])
    spec = module_to_spec(module)
    assert spec.SerializeToString() == open(SAMPLES[1], "rb").read()
