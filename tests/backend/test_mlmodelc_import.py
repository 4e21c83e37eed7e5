"""Apple-compiled bundles read into the espresso dialect: the IR verifies, prints and parses back,
writes back to the same files, and computes what the source model computes."""
import json
from pathlib import Path

import numpy as np
import pytest

from mlir_coreml.codegen.espresso import coremldata as cd
from mlir_coreml.codegen.espresso.bundle_writer import bundle_files, write_bundle
from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.frontend.espresso import format as fmt
from mlir_coreml.frontend.mlmodelc import read
from mlir_coreml.ir.interpreter import run_module
from mlir_coreml.ir.parser import parse_module
from mlir_coreml.ir.printer import print_module
from mlir_coreml.ir.verifier import verify

from tests.samples import SAMPLES
BUNDLES = sorted(SAMPLES.glob("*/*.mlmodelc"))
pytestmark = pytest.mark.skipif(not BUNDLES, reason="sample bundles not available")
JSON_FILES = {fmt.NET_FILE, fmt.SHAPE_FILE, fmt.METADATA_FILE}


def ids(paths):
    return [p.parent.name.split("__")[-1] for p in paths]


def relative_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


@pytest.mark.parametrize("bundle", BUNDLES, ids=ids(BUNDLES))
def test_import_print_parse_write_reproduces_the_bundle(bundle, tmp_path):
    module = read(bundle)
    verify(module)
    text = print_module(module, resources=True)
    reparsed = parse_module(text)
    assert print_module(reparsed, resources=True) == text
    out = tmp_path / bundle.name
    write_bundle(reparsed, out)
    assert relative_files(out) == relative_files(bundle)
    for name in relative_files(bundle):
        ours, apple = (out / name).read_bytes(), (bundle / name).read_bytes()
        if name in JSON_FILES:
            assert json.loads(ours) == json.loads(apple), name
        elif name == fmt.ANALYTICS_FILE:
            continue  # hashes of the JSON files depend on key order; checked below
        else:
            assert ours == apple, name


@pytest.mark.parametrize("bundle", [b for b in BUNDLES if (b / fmt.ANALYTICS_FILE).exists()],
                         ids=ids([b for b in BUNDLES if (b / fmt.ANALYTICS_FILE).exists()]))
def test_analytics_hash_the_written_files(bundle):
    files = bundle_files(read(bundle))
    from mlir_coreml.frontend.espresso.bundle import parse_analytics

    ours = parse_analytics(files[fmt.ANALYTICS_FILE], "ours").sections
    apple = parse_analytics((bundle / fmt.ANALYTICS_FILE).read_bytes(), "apple").sections
    for key, path in fmt.ANALYTICS_HASHED_FILES.items():
        assert ours[fmt.ANALYTICS_NN_SECTION].pop(key) == cd.sha256_base64(files[path])
        apple[fmt.ANALYTICS_NN_SECTION].pop(key)
    assert ours == apple
    # The weights file is byte-identical, so its hash is Apple's too.
    assert cd.sha256_base64(files[fmt.WEIGHTS_FILE]) == cd.sha256_base64((bundle / fmt.WEIGHTS_FILE).read_bytes())


def test_layers_keep_names_blob_names_and_fields():
    bundle = next(b for b in BUNDLES if "FindFour" in str(b))
    module = read(bundle)
    conv = next(op for op in module.walk() if op.op_name == "espresso.convolution")
    assert conv.location.name == "conv1"
    assert conv.output.name == "conv1_relu_output_relu"
    assert conv.weights.type.element.name == "f16" and conv.biases.type.element.name == "f32"
    assert conv.fields()["pad_b"] == 1 and conv.fused_relu == 1


def test_source_model_and_apple_bundle_compute_the_same():
    """The fp32 sample: Apple's compiled layers (BN folded, ReLU fused, ReLU6 chains) under our
    espresso reference semantics, after the bundle's image `transform_params`, give the source
    model's outputs on the same raw pixels."""
    from mlir_coreml.frontend.mlmodel import read as read_mlmodel

    sample = SAMPLES / "getbouncer__cardscan-ios__FourRecognize-2019"
    source = read_mlmodel(str(sample / "source" / "FourRecognize.mlmodel"))
    compiled = read(sample / "FourRecognize.mlmodelc")
    pixels = np.random.default_rng(0).uniform(0, 255, size=(1, 1, 3, 36, 80)).astype(np.float32)
    (expected,) = run_module(source, [pixels])
    arg = compiled.body.first_op.body.args[0]
    assert any(op.op_name == "nn.image_preprocess" for op in compiled.walk())
    (actual,) = run_module(compiled, [pixels.reshape(arg.type.shape)])
    np.testing.assert_allclose(np.asarray(actual).reshape(-1), np.asarray(expected).reshape(-1), atol=1e-5)


def test_missing_output_blob_is_an_error(tmp_path):
    bundle = next(b for b in BUNDLES if "FourRecognize" in str(b))
    copy = tmp_path / bundle.name
    for name in relative_files(bundle):
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        (copy / name).write_bytes((bundle / name).read_bytes())
    net = json.loads((copy / fmt.NET_FILE).read_bytes())
    net["layers"] = net["layers"][:-1]
    (copy / fmt.NET_FILE).write_text(json.dumps(net))
    with pytest.raises(MlirCoremlError, match="output1"):
        read(copy)


def test_failed_write_leaves_nothing_at_the_output(tmp_path):
    bundle = next(b for b in BUNDLES if "FourRecognize" in str(b))
    module = read(bundle)
    fn = module.body.first_op
    const = next(op for op in fn.body.ops if op.op_name == "core.constant")
    const.attributes["value"].blob._array = None  # the weight data is gone: writing must fail
    out = tmp_path / "out.mlmodelc"
    with pytest.raises(MlirCoremlError):
        write_bundle(module, out)
    assert list(tmp_path.iterdir()) == []


def test_unknown_layer_types_and_fields_round_trip(tmp_path):
    """A layer type the dialect does not model (with a weight blob and an extra field) and an
    unknown field on a modeled layer survive import -> write unchanged."""
    bundle = next(b for b in BUNDLES if "parkinson" in str(b))
    copy = tmp_path / "in.mlmodelc"
    for name in relative_files(bundle):
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        (copy / name).write_bytes((bundle / name).read_bytes())
    net = json.loads((copy / fmt.NET_FILE).read_bytes())
    dense = next(layer for layer in net["layers"] if layer["type"] == "inner_product")
    dense["type"] = "inner_product_v9"
    dense["future_knob"] = [1, 2.5, "x"]
    pool = next(layer for layer in net["layers"] if layer["type"] == "pool")
    pool["size_x"] = 2.5  # not an int: kept verbatim in extra_fields
    (copy / fmt.NET_FILE).write_bytes(cd.write_json(net))
    module = read(copy)
    generic = next(op for op in module.walk() if op.op_name == "espresso.layer")
    assert generic.attributes["layer_type"].value == "inner_product_v9"
    out = tmp_path / "out.mlmodelc"
    write_bundle(parse_module(print_module(module, resources=True)), out)
    assert json.loads((out / fmt.NET_FILE).read_bytes()) == net
    assert (out / fmt.WEIGHTS_FILE).read_bytes() == (bundle / fmt.WEIGHTS_FILE).read_bytes()
