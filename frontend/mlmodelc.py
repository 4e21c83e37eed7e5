"""Read an Apple-compiled NeuralNetwork bundle (`.mlmodelc`) into the `espresso` dialect.

One `func.func @main` whose arguments are the model inputs (from the ModelDescription in
`coremldata.bin`) and whose results are its outputs; one espresso op per net layer, in net
order, with its weight blobs as zero-copy `core.constant` operands. Everything else the bundle
holds (net top-level keys, description bytes, side files) is kept in module attributes, so
`codegen.espresso.bundle_writer.write_bundle` can write the bundle back:

    espresso.net           top-level keys of model.espresso.net other than `layers`
    espresso.nd_shapes     true when model.espresso.shape records `_rank` (spec-4 bundles)
    espresso.coremldata    fields of coremldata.bin (description as hex)
    espresso.preprocessing records of model/coremldata.bin
    espresso.optionals     neural_network_optionals/coremldata.bin (byte count when all zero)
    espresso.analytics     analytics/coremldata.bin sections
    espresso.metadata      metadata.json
"""
from __future__ import annotations


import numpy as np

from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.frontend import RESULT_NAMES_ATTR
from mlir_coreml.frontend.nn_params import message_to_dict
from mlir_coreml.frontend.espresso import format as fmt
from mlir_coreml.frontend.espresso.bundle import EspressoBundle, read_bundle
from mlir_coreml.frontend.espresso.format import (ANALYTICS_ATTR, COREMLDATA_ATTR, METADATA_ATTR, ND_SHAPES_ATTR,
                                                  NET_ATTR, OPTIONALS_ATTR, PREPROCESSING_ATTR)
from mlir_coreml.ir.attributes import DenseResourceAttr, to_attr
from mlir_coreml.ir.core import Location
from mlir_coreml.ir.dialects import espresso, espresso_forms
from mlir_coreml.ir.dialects.builtin import ModuleOp
from mlir_coreml.ir.dialects.constant import ConstantOp
from mlir_coreml.ir.dialects.func import FuncOp, ReturnOp
from mlir_coreml.ir.opdef import ATTR_KINDS, build
from mlir_coreml.ir.types import F32, TensorType, element_type_of



def read(path) -> ModuleOp:
    """The bundle at `path` as an espresso-dialect module (a `mil` module for ML Program bundles;
    a pipeline's stages inlined into one function)."""
    import os

    from mlir_coreml.frontend import mlmodelc_pipeline  # imports this module: not at the top

    if os.path.isfile(os.path.join(os.fspath(path), "model.mil")):
        return read_mlprogram_bundle(path)
    is_pipeline = mlmodelc_pipeline.model_type(path) in fmt.PIPELINE_MODEL_TYPES or (
        os.path.isdir(os.path.join(os.fspath(path), "model0")) and not os.path.lexists(os.path.join(os.fspath(path), fmt.NET_FILE)))
    if is_pipeline:  # every stage kind: one root layout, one reader
        return mlmodelc_pipeline.read_pipeline_bundle(path)
    bundle = read_bundle(path)
    return module_from_bundle(bundle)


def read_mlprogram_bundle(path) -> ModuleOp:
    """An ML Program bundle: `model.mil` through frontend.mil.to_ir, plus what coremldata.bin adds
    (`coreml.specification_version`, `coreml.description`), so the module matches the one read
    from the source `.mlpackage`. The empty `metadata` that compilers append to a description
    without one is dropped; an integral program version (`1.0`) becomes the protobuf's integer."""
    import os

    from mlir_coreml.frontend.mil.to_ir import read_mil
    from mlir_coreml.frontend.mlpackage import message_attr
    from mlir_coreml.ir.attributes import IntAttr, StringAttr

    root = os.fspath(path)
    module = read_mil(os.path.join(root, "model.mil"))
    attrs = {}
    core_path = os.path.join(root, "coremldata.bin")
    if os.path.isfile(core_path):
        spec_version, desc = program_coremldata(core_path, (502,))
        attrs["coreml.specification_version"] = IntAttr(spec_version)
        attrs["coreml.description"] = message_attr(desc)
    for key, value in module.attributes.items():
        if key == "mil.program_version" and isinstance(value, StringAttr):
            try:
                number = float(value.value)
            except ValueError:
                number = None
            if number is not None and number.is_integer():
                value = IntAttr(int(number))
        attrs[key] = value
    module.attributes.clear()
    module.attributes.update(attrs)
    return module


def program_coremldata(core_path: str, model_types: tuple) -> tuple:
    """(specification version, ModelDescription) of an ML Program coremldata.bin, read as every
    coremldata.bin is (frontend/espresso/bundle.parse_coremldata); the empty `metadata` compilers
    append to a description without one is dropped."""
    import os

    from mlir_coreml.frontend.espresso.bundle import parse_coremldata
    from mlir_coreml.ir.guard import read_file

    data = parse_coremldata(read_file(core_path, "protobuf", root=os.path.dirname(os.fspath(core_path))), core_path)
    if data.model_type not in model_types:
        raise MlirCoremlError(f"not the coremldata.bin of this kind of bundle (expected model type "
                              f"{' or '.join(map(str, model_types))})", core_path)
    try:
        desc = description_message(data.description)
    except MlirCoremlError as err:
        raise MlirCoremlError(err.message, core_path) from None
    if desc.HasField("metadata") and not desc.metadata.ListFields():
        desc.ClearField("metadata")
    return data.spec_version, desc


def module_from_bundle(bundle: EspressoBundle) -> ModuleOp:
    where = str(bundle.path / fmt.NET_FILE)
    try:
        desc = description_message(bundle.coremldata.description)
    except MlirCoremlError as err:
        raise MlirCoremlError(err.message, str(bundle.path / fmt.COREMLDATA_FILE)) from None
    shapes = bundle.shapes.get("layer_shapes") if isinstance(bundle.shapes, dict) else None
    if not isinstance(shapes, dict):
        raise MlirCoremlError("expected an object with a 'layer_shapes' object",
                              str(bundle.path / fmt.SHAPE_FILE))
    layers = bundle.net.get("layers") if isinstance(bundle.net, dict) else None
    if not isinstance(layers, list):
        raise MlirCoremlError("expected an object with a 'layers' array", where)
    module = ModuleOp.create()
    try:
        module.attributes.update({k: to_attr(v) for k, v in _bundle_attributes(bundle, shapes).items()})
    except TypeError as err:
        raise MlirCoremlError(f"unsupported value in the net header or metadata: {err}", where) from None

    inputs = [f.name for f in desc.input]
    input_types = [_blob_type(shapes, name, where) for name in inputs]
    # the feature descriptions, as the .mlmodel importer keeps them (predict reads image inputs here)
    features = {"coreml.inputs": [message_to_dict(f) for f in desc.input],
                "coreml.outputs": [message_to_dict(f) for f in desc.output]}
    features.update(classifier_attributes(desc, bundle.coremldata))
    fn = FuncOp.create("main", input_types, [], arg_names=inputs, attributes=features)
    module.body.append(fn)
    blobs: dict[str, object] = {arg.name: arg for arg in fn.arguments}
    transforms = bundle.net.get("transform_params") or {}
    recorded = _recorded_transforms(bundle.preprocessing)
    spaces = {f.name: f.type.imageType.colorSpace for f in desc.input if f.type.WhichOneof("Type") == "imageType"}
    for arg in fn.arguments:
        params = transforms.get(arg.name)
        params = params if isinstance(params, dict) else recorded.get(arg.name)
        if params is not None and arg.name in spaces:
            blobs[arg.name] = _image_transform(fn, arg, params, spaces[arg.name] == GRAYSCALE)
    for index, layer in enumerate(layers):
        if not isinstance(layer, dict):
            raise MlirCoremlError(f"layer #{index} is not an object", where)
        try:
            _import_layer(fn, bundle, layer, index, blobs, shapes, where)
        except (TypeError, ValueError, KeyError, AttributeError, ZeroDivisionError) as err:
            raise MlirCoremlError(f"layer #{index} ('{layer.get('name')}') is malformed: "
                                  f"{type(err).__name__}: {err}", where) from None
    results = _results(desc, bundle.coremldata, blobs, where)
    names = [f.name for f in desc.output if f.name in blobs]
    if len(results) > len(names):  # the classifier's probabilities, under the output name predict gives them
        names.append(desc.predictedProbabilitiesName or bundle.coremldata.probability_blob)
    fn.attributes[RESULT_NAMES_ATTR] = to_attr(names)
    fn.body.append(build(ReturnOp, results))
    fn.set_result_types([v.type for v in results])
    return module


def classifier_attributes(desc, data, labels=None) -> dict:
    """What predict needs to turn a classifier's probabilities into the label and the dict, under
    the names the .mlmodel importer gives them."""
    labels = data.class_labels if labels is None else labels
    if labels is None:
        return {}
    attrs = {"coreml.class_labels": list(labels)}
    for key in ("predictedFeatureName", "predictedProbabilitiesName"):
        if getattr(desc, key):
            attrs[f"coreml.{key}"] = getattr(desc, key)
    return attrs


def _results(desc, data, blobs: dict, where: str) -> list:
    """The function results, as the .mlmodel importer returns them: every description output is
    the blob of the same name [V: all samples], except a classifier's predicted label and
    probabilities, which Core ML builds from the probabilities blob named in coremldata.bin; that
    blob comes last when no output names it."""
    derived = (desc.predictedFeatureName, desc.predictedProbabilitiesName) if data.class_labels is not None else ()
    missing = [f.name for f in desc.output if f.name not in blobs and f.name not in derived]
    if missing:
        raise MlirCoremlError(f"no layer produces the model output(s) {', '.join(missing)}", where=where)
    results = [blobs[f.name] for f in desc.output if f.name in blobs]
    if data.class_labels is None:
        return results
    probabilities = blobs.get(data.probability_blob)
    if probabilities is None:
        raise MlirCoremlError(f"no layer produces the classifier's probabilities blob '{data.probability_blob}' "
                              "(named in coremldata.bin)", where=where)
    if all(probabilities is not value for value in results):
        results.append(probabilities)
    return results


GRAYSCALE = 10  # ImageFeatureType.ColorSpace


def _recorded_transforms(preprocessing) -> dict:
    """Image scalers from model/coremldata.bin, by input name, in `transform_params` terms: what
    the early-2019 compiler's bundles (no transform_params) scale their images with [V LetterClass].
    Records 3-7: blue, green, red and gray bias, channel scale (format.PREPROCESSING_RECORD_COUNT)."""
    if preprocessing is None:
        return {}
    keys = ("bias_b", "bias_g", "bias_r", "bias_gray", "scale")
    out: dict[str, dict] = {}
    for key, record in zip(keys, preprocessing.records[3:]):
        for name, value in record:
            out.setdefault(name, {})[key] = value
    return out


def _image_transform(fn, arg, params: dict, gray: bool = False):
    """espresso applies `transform_params` to an image input before the first layer; in the IR
    that is the `nn.image_preprocess` op the .mlmodel importer also emits (the bundle writer
    folds it back into `transform_params`). Its result keeps the input's blob name. A grayscale
    input's bias is `bias_gray` where recorded, else the (equal) colour biases [inferred]."""
    from mlir_coreml.ir.dialects.nn.misc import ImagePreprocessOp

    scaler = {"channelScale": float(params.get("scale", 1.0)), "redBias": float(params.get("bias_r", 0.0)),
              "greenBias": float(params.get("bias_g", 0.0)), "blueBias": float(params.get("bias_b", 0.0)),
              "grayBias": float(params.get("bias_gray", params.get("bias_g", 0.0)))}
    space = "GRAYSCALE" if gray else "BGR" if params.get("is_network_bgr") else "RGB"
    op = build(ImagePreprocessOp, [arg], [arg.type], {"colorSpace": space, "scaler": scaler},
               location=Location(name=f"{arg.name}_transform"), result_names=[arg.name])
    fn.body.append(op)
    return op.result


def description_message(description: bytes):
    from mlir_coreml.frontend.proto import model_pb2

    desc = model_pb2.ModelDescription()
    try:
        desc.ParseFromString(description)
    except Exception as err:  # protobuf raises DecodeError and, on some corruptions, others
        raise MlirCoremlError(f"the model description in coremldata.bin is corrupt ({err})") from None
    return desc


def _blob_type(shapes: dict, name: str, where: str) -> TensorType:
    shape = shapes.get(name)
    if shape is None:
        raise MlirCoremlError(f"blob '{name}' has no entry in {fmt.SHAPE_FILE}", where=where)
    if not isinstance(shape, dict) or not all(type(v) is int and 0 <= v < 1 << 31 for v in shape.values()):
        raise MlirCoremlError(f"blob '{name}' has a malformed shape entry {shape!r}", where=where)
    return espresso.type_from_shape(shape)


def _bundle_attributes(bundle: EspressoBundle, shapes: dict) -> dict:
    data = bundle.coremldata
    attrs = {
        NET_ATTR: {k: v for k, v in bundle.net.items() if k != "layers"},
        ND_SHAPES_ATTR: any("_rank" in s for s in shapes.values()),
        COREMLDATA_ATTR: {
            "model_type": data.model_type,
            "format_version": list(data.format_version),
            "platform": data.platform,
            "spec_version": data.spec_version,
            "reserved": list(data.reserved),
            "description": data.description.hex(),
            "output_names": list(data.output_names or ()),
        },
    }
    if data.class_labels is not None:
        attrs[COREMLDATA_ATTR].update(class_labels=list(data.class_labels), probability_blob=data.probability_blob)
    padded = sorted({layer["type"] for layer in bundle.net.get("layers", ()) if isinstance(layer, dict)
                     and isinstance(layer.get("blob_biases"), int) and layer["blob_biases"] in bundle.weights
                     and _padded_bias(layer, bundle.blob(layer["blob_biases"], "<f4"))})
    if "convolution" in padded:  # the early-2019 form; later bundles pad inner_product biases only
        attrs[fmt.PADDED_BIASES_ATTR] = padded
    if bundle.preprocessing is not None:
        attrs[PREPROCESSING_ATTR] = [[[name, value] for name, value in record]
                                     for record in bundle.preprocessing.records]
    if bundle.optionals is not None:
        attrs[OPTIONALS_ATTR] = len(bundle.optionals) if not any(bundle.optionals) else bundle.optionals.hex()
    if bundle.analytics is not None:
        attrs[ANALYTICS_ATTR] = bundle.analytics.sections
    if bundle.metadata is not None:
        attrs[METADATA_ATTR] = bundle.metadata
    return attrs


def _import_layer(fn: FuncOp, bundle: EspressoBundle, layer: dict, index: int, blobs: dict,
                  shapes: dict, where: str, depth: int = 0) -> None:
    name = layer.get("name", f"layer{index}")
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, got {name!r}")
    layer_type = layer.get("type")
    if not isinstance(layer_type, str):
        raise MlirCoremlError(f"layer #{index} ('{name}') has no type", where=where)
    inputs = []
    for bottom in _names(layer.get("bottom", "")):
        if bottom not in blobs:
            raise MlirCoremlError(f"layer '{name}' reads blob '{bottom}' before any layer writes it",
                                  where=where)
        inputs.append(blobs[bottom])
    tops = _names(layer.get("top", ""))
    blob_keys = sorted((key for key, value in layer.items()
                        if key in fmt.BLOB_KEY_DTYPES or (key.startswith("blob_") and isinstance(value, int))),
                       key=lambda key: layer[key])
    cls = _layer_class(layer_type, len(inputs), len(tops), blob_keys)
    regions = _nested_regions(bundle, layer, blobs, shapes, where, depth)
    networks = espresso_forms.NESTED_NETWORKS.get(layer_type, ()) if regions else ()
    if regions:
        cls = espresso.NestedLayerOp
    attrs, extra = {}, {}
    for key, value in layer.items():
        if key in networks:
            continue
        if key in espresso.STRUCTURAL_KEYS:
            if key == "weights" and value != {}:
                extra[key] = value
            continue
        if key in blob_keys:
            continue
        attr = to_attr(value)
        definition = cls.attribute_defs.get(key)
        if definition is not None and not ATTR_KINDS[definition.kind](attr):
            extra[key] = value
        else:
            attrs[key] = attr
    if extra:
        attrs["extra_fields"] = extra
    weights = [_weight_constant(fn, bundle, layer, key, name, where) for key in blob_keys]
    operands = _layer_operands(cls, inputs, dict(zip(blob_keys, weights)))
    if issubclass(cls, espresso.GenericLayerOp):
        attrs["layer_type"] = layer_type
        if blob_keys:
            attrs["blob_keys"] = blob_keys
    # a blob without a shape entry has its shape decided at run time (dynamic layers)
    result_types = [_blob_type(shapes, top, where) if top in shapes else TensorType(None, F32) for top in tops]
    op = build(cls, operands, result_types, attrs, regions, location=Location(name=name), result_names=tops)
    fn.body.append(op)
    blobs.update(zip(tops, op.results))


MAX_NESTING = 16  # nested networks deeper than this are refused (untrusted bundles)


def _nested_regions(bundle: EspressoBundle, layer: dict, blobs: dict, shapes: dict, where: str,
                    depth: int) -> list:
    """The nested networks of a control-flow layer (espresso_forms.NESTED_NETWORKS) as regions:
    each reads outer blobs by name, takes the carried blobs as arguments and yields the blobs
    it hands back. [] for any other layer."""
    from types import SimpleNamespace

    from mlir_coreml.ir.core import Block, Region
    from mlir_coreml.ir.dialects.nn.misc import YieldOp

    keys = espresso_forms.NESTED_NETWORKS.get(layer.get("type"), ())
    nets = [layer.get(key) for key in keys]
    if not nets or not all(isinstance(n, dict) and isinstance(n.get(espresso_forms.LAYERS_KEY), list)
                           for n in nets):
        return []
    name = layer.get("name")
    if depth >= MAX_NESTING:
        raise MlirCoremlError(f"layer '{name}': networks nested more than {MAX_NESTING} levels deep", where)
    params = espresso_forms.decode_params({k: v for k, v in layer.items() if k not in keys})
    regions = []
    for net, (arg_names, yield_names) in zip(nets, espresso_forms.nested_blob_names(layer["type"], params)):
        unknown = [n for n in arg_names if n not in blobs]
        if unknown:
            raise MlirCoremlError(f"layer '{name}' carries blob '{unknown[0]}' that no layer writes before it", where)
        block = Block([blobs[n].type for n in arg_names], arg_names)
        scope = {**blobs, **dict(zip(arg_names, block.args))}
        for index, nested in enumerate(net[espresso_forms.LAYERS_KEY]):
            if not isinstance(nested, dict):
                raise MlirCoremlError(f"layer #{index} of a network nested in '{name}' is not an object", where)
            _import_layer(SimpleNamespace(body=block), bundle, nested, index, scope, shapes, where, depth + 1)
        unknown = [n for n in yield_names if n not in scope]
        if unknown:
            raise MlirCoremlError(f"a network nested in layer '{name}' does not write blob '{unknown[0]}'", where)
        block.append(build(YieldOp, [scope[n] for n in yield_names]))
        regions.append(Region([block]))
    return regions


def _names(field) -> list[str]:
    if not isinstance(field, str):
        raise TypeError(f"bottom/top must be a string, got {field!r}")
    return [n for n in field.split(",") if n]


# Net key of a weight blob -> operand of the modeled layer op that holds it.
BLOB_OPERANDS = {"blob_biases": "biases", "blob_weights": "weights", "blob_weights_f16": "weights",
                 "blob_batchnorm_params": "params"}


def _layer_class(layer_type: str, n_inputs: int, n_tops: int, blob_keys: list[str]):
    """The op class modeling the layer, or GenericLayerOp when the layer does not fit it (an
    unknown type, or inputs, outputs or blobs the op does not declare), so nothing is lost."""
    cls = espresso.LAYER_OPS.get(layer_type)
    if cls is None or n_tops != 1:
        return espresso.GenericLayerOp
    first, rest = cls.operand_defs[0], cls.operand_defs[1:]
    if first.variadic:
        return cls if not blob_keys and n_inputs >= 1 else espresso.GenericLayerOp
    declared = {d.name for d in rest}
    present = {BLOB_OPERANDS.get(key) for key in blob_keys}
    required = {d.name for d in rest if not d.optional}
    if n_inputs != 1 or not present <= declared or not required <= present or len(present) != len(blob_keys):
        return espresso.GenericLayerOp
    return cls


def _layer_operands(cls, inputs: list, weights: dict):
    if issubclass(cls, espresso.GenericLayerOp):
        return inputs + list(weights.values())
    if cls.operand_defs[0].variadic:
        return inputs
    operands = {cls.operand_defs[0].name: inputs[0]}
    for key, value in weights.items():
        operands[BLOB_OPERANDS[key]] = value
    return operands


def _weight_constant(fn: FuncOp, bundle: EspressoBundle, layer: dict, key: str, name: str, where: str):
    blob_id = layer[key]
    dtype = fmt.BLOB_KEY_DTYPES.get(key, "u1")
    array = bundle.blob(blob_id, dtype)
    array = _shaped(layer, key, array)
    tensor = TensorType(array.shape, element_type_of(array.dtype))
    short = key[len("blob_"):] if key.startswith("blob_") else key
    attr = DenseResourceAttr.from_array(f"{name}_{short}", array, tensor)
    const = build(ConstantOp, [], [tensor], {"value": attr}, location=Location(name=name),
                  result_names=[f"{name}_{short}"])
    fn.body.append(const)
    return const.result


def _shaped(layer: dict, key: str, array: np.ndarray) -> np.ndarray:
    """Give a blob its logical shape when the layer fields say it; otherwise keep it flat."""
    kind = layer.get("type")
    if kind == "convolution" and key.startswith("blob_weights"):
        shape = (layer["C"], layer["K"] // layer.get("n_groups", 1), layer["Ny"], layer["Nx"])
        if int(np.prod(shape)) == array.size:
            return array.reshape(shape)
    if kind == "inner_product" and key.startswith("blob_weights"):
        shape = (layer["nC"], layer["nB"])
        if int(np.prod(shape)) == array.size:
            return array.reshape(shape)
    if key == "blob_biases" and _padded_bias(layer, array):
        return array[:layer[fmt.BIAS_CHANNEL_FIELDS[kind]]]
    return array


def _padded_bias(layer: dict, array: np.ndarray) -> bool:
    """Whether a bias blob holds the channel count's floats followed by 3x as many zeros (see
    format.PADDED_BIAS_LAYERS); only possible for the layer types that count channels."""
    field = fmt.BIAS_CHANNEL_FIELDS.get(layer.get("type"))
    if field is None or not isinstance(layer.get(field), int):
        return False
    n = layer[field]
    return array.size == n * fmt.INNER_PRODUCT_BIAS_PAD_FACTOR and not array[n:].any()
