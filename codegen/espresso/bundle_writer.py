"""Write an `espresso`-dialect module as a compiled `.mlmodelc` bundle, atomically.

The module is what `frontend.mlmodelc.read` produces or what `nn-to-espresso` lowering leaves:
`func.func @main` with espresso layer ops and `core.constant` weights, plus the `espresso.*`
module attributes for the side files (see frontend/mlmodelc.py). The bundle is built in a
temporary directory next to the output and renamed into place; on any error nothing is left
at the output path.
"""
from __future__ import annotations


import numpy as np

from mlir_coreml.codegen.espresso import coremldata as cd
from mlir_coreml.codegen.espresso.weights import weights_parts
from mlir_coreml.codegen.atomic import write_directory, write_files
from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.frontend.espresso import format as fmt
from mlir_coreml.frontend.espresso.format import Analytics, CoremlData, PreprocessingRecords
from mlir_coreml.frontend.espresso.format import (ANALYTICS_ATTR, COREMLDATA_ATTR, METADATA_ATTR, ND_SHAPES_ATTR,
                                                  NET_ATTR, OPTIONALS_ATTR, PREPROCESSING_ATTR)
from mlir_coreml.ir.core import Value
from mlir_coreml.ir.dialects.espresso import Layer, json_value, shape_of_type
from mlir_coreml.ir.dialects.espresso_forms import LAYERS_KEY, NESTED_NETWORKS
from mlir_coreml.ir.verifier import describe_location


def main_function(module):
    funcs = [op for op in module.regions[0].block.ops if op.op_name == "func.func"]
    main = [f for f in funcs if f.attributes["sym_name"].value == "main"] or funcs
    if not main:
        raise MlirCoremlError("module has no function to write as a bundle")
    return main[0]


class _BlobNames:
    """The espresso blob name of each SSA value: its name hint, made up when it has none."""

    def __init__(self):
        self.names: dict[int, str] = {}
        self.counter = 0

    def __call__(self, value: Value) -> str:
        name = self.names.get(id(value))
        if name is None:
            name = value.name or f"blob_{self.counter}"
            self.counter += value.name is None
            self.names[id(value)] = name
        return name


def _constant_array(value: Value, op) -> np.ndarray:
    producer = getattr(value, "op", None)
    if producer is None or producer.op_name != "core.constant":
        raise MlirCoremlError(f"weight operand of '{op.op_name}' is not a core.constant "
                              "(run constant folding before writing the bundle)", describe_location(op))
    return np.ascontiguousarray(producer.attributes["value"].value)


def _blob_payload(op: Layer, key: str, array: np.ndarray, padded_biases) -> np.ndarray:
    if key in fmt.BLOB_KEY_DTYPES:
        array = array.astype(fmt.BLOB_KEY_DTYPES[key], copy=False)
    kind = op.espresso_type
    if kind in padded_biases and key == "blob_biases" and array.size == op.attr(fmt.BIAS_CHANNEL_FIELDS[kind]):
        padded = np.zeros(array.size * fmt.INNER_PRODUCT_BIAS_PAD_FACTOR, array.dtype)
        padded[:array.size] = array.reshape(-1)
        return padded
    return array.reshape(-1)


def net_and_weights(module) -> tuple[dict, dict, list]:
    """(net JSON, shape JSON, data blobs as (id, array)) for the module's main function."""
    fn = main_function(module)
    names = _BlobNames()
    nd = bool(module.attributes.get(ND_SHAPES_ATTR).value) if ND_SHAPES_ATTR in module.attributes else False
    shapes = {names(arg): shape_of_type(arg.type, nd) for arg in fn.body.args}
    padded = module.attributes.get(fmt.PADDED_BIASES_ATTR)
    padded_biases = json_value(padded) if padded is not None else fmt.DEFAULT_PADDED_BIAS_LAYERS
    blobs: list = []
    layers = _layers(fn.body, names, shapes, blobs, nd, padded_biases)
    top = json_value(module.attributes[NET_ATTR]) if NET_ATTR in module.attributes else _default_net_header()
    net = {**top, "layers": layers}
    return net, {"layer_shapes": shapes}, blobs


def _layers(block, names, shapes: dict, blobs: list, nd: bool, padded_biases) -> list[dict]:
    """The net layers of `block`'s ops; the networks nested in control-flow layers recursively
    (their blob ids and shapes share the net's weights and shape files)."""
    layers = []
    for op in block.ops:
        if op.op_name in ("core.constant", "func.return", "nn.yield"):
            continue
        if op.op_name == "nn.image_preprocess":  # written as the net's transform_params
            names.names[id(op.result)] = names(op.operands[0])
            continue
        if not isinstance(op, Layer):
            raise MlirCoremlError(f"'{op.op_name}' is not an espresso layer; lower the model with "
                                  "nn-to-espresso first", describe_location(op))
        layer = {"name": op.layer_name, "type": op.espresso_type,
                 "bottom": ",".join(names(v) for v in op.data_inputs()),
                 "top": ",".join(names(r) for r in op.results), "weights": {}}
        for key, value in op.blobs():
            blob_id = fmt.data_blob_id(len(blobs))
            blobs.append((blob_id, _blob_payload(op, key, _constant_array(value, op), padded_biases)))
            layer[key] = blob_id
        layer.update(op.fields())
        for key, region in zip(NESTED_NETWORKS.get(op.espresso_type, ()), op.regions):
            for arg in region.blocks[0].args:
                if arg.type.is_static:
                    shapes[names(arg)] = shape_of_type(arg.type, nd)
            layer[key] = {LAYERS_KEY: _layers(region.blocks[0], names, shapes, blobs, nd, padded_biases)}
        layers.append(layer)
        for r in op.results:
            if r.type.is_static:  # a shape known only at run time has no entry
                shapes[names(r)] = shape_of_type(r.type, nd)
    return layers


def _default_net_header() -> dict:
    return {"storage": fmt.WEIGHTS_FILE, "properties": {}, "format_version": fmt.NET_FORMAT_VERSION}


def bundle_files(module) -> dict[str, bytes]:
    """Every file of the bundle, by relative path."""
    return {path: b"".join(data) if isinstance(data, list) else data for path, data in _contents(module).items()}


def _contents(module) -> dict[str, bytes | list]:
    """Every file of the bundle; the weights file as the list of its parts (see weights_parts)."""
    net, shapes, blobs = net_and_weights(module)
    files = {fmt.NET_FILE: cd.write_json(net), fmt.SHAPE_FILE: cd.write_json(shapes),
             fmt.WEIGHTS_FILE: weights_parts(blobs)}
    attrs = {key: json_value(attr) for key, attr in module.attributes.items() if key.startswith("espresso.")}
    if COREMLDATA_ATTR in attrs:
        files[fmt.COREMLDATA_FILE] = cd.write_coremldata(_coremldata(attrs[COREMLDATA_ATTR]))
    if PREPROCESSING_ATTR in attrs:
        records = tuple(tuple((name, value) for name, value in record) for record in attrs[PREPROCESSING_ATTR])
        files[fmt.PREPROCESSING_FILE] = cd.write_preprocessing(PreprocessingRecords(records=records))
    if attrs.get(OPTIONALS_ATTR) is not None:
        optionals = attrs[OPTIONALS_ATTR]
        files[fmt.OPTIONALS_FILE] = bytes(optionals) if isinstance(optionals, int) else bytes.fromhex(optionals)
    if METADATA_ATTR in attrs:
        files[fmt.METADATA_FILE] = cd.write_metadata(attrs[METADATA_ATTR])
    if ANALYTICS_ATTR in attrs:
        files[fmt.ANALYTICS_FILE] = cd.write_analytics(_analytics(attrs[ANALYTICS_ATTR], files))
    return files


def _coremldata(fields: dict) -> CoremlData:
    names = tuple(fields.get("output_names", ()))
    labels = tuple(fields["class_labels"]) if fields.get("class_labels") is not None else None
    probabilities = fields.get("probability_blob")
    return CoremlData(model_type=fields["model_type"], format_version=tuple(fields["format_version"]),
                      platform=fields.get("platform", fmt.COREMLDATA_PLATFORM),
                      spec_version=fields["spec_version"], description=bytes.fromhex(fields["description"]),
                      output_names=names, trailer=cd.network_trailer(fields["model_type"], names, labels, probabilities),
                      reserved=tuple(fields.get("reserved", (0,) * fmt.COREMLDATA_RESERVED_WORDS)),
                      class_labels=labels, probability_blob=probabilities)


def _analytics(sections: dict, files: dict) -> Analytics:
    """The recorded analytics with the file hashes recomputed for the files being written."""
    out = {}
    for name, entries in sections.items():
        entries = dict(entries)
        for key, path in fmt.ANALYTICS_HASHED_FILES.items():
            if key in entries:
                entries[key] = cd.sha256_base64(files[path])
        out[name] = entries
    return Analytics(sections=out)


def write_bundle(module, output) -> None:
    """Write the bundle to `output` (a directory path), replacing what is there, atomically."""
    files = _contents(module)
    write_directory(output, lambda staging: write_files(staging, files))


