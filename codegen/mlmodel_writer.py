"""`nn`-dialect module -> `.mlmodel` (NeuralNetwork / NeuralNetworkClassifier / Regressor).

The inverse of frontend/mlmodel.py, generic over the protobuf descriptors:

* module attributes `coreml.spec_version`, `coreml.model_type`, `coreml.metadata`,
  `coreml.updatable` and the function attributes `coreml.inputs`, `coreml.outputs`,
  `coreml.predictedFeatureName`, `coreml.predictedProbabilitiesName`, `coreml.network`,
  `coreml.class_labels` give the Model message around the network;
* each `nn.*` layer op is one NeuralNetworkLayer: name = location, input/output = value names,
  every attribute (except `weight_fields` and namespaced `x.y` ones) is a params field under its
  proto name, filled by descriptor (enums by name, dicts as sub-messages, `0x..` hex as bytes);
* each weight operand (named by `weight_fields`, a proto path inside the params) is a
  WeightParams in its stored precision: f32 constant -> floatValue, f16 -> float16Value,
  `nn.dequantize` of a raw u8/i8 constant -> rawValue / int8RawValue + quantization params;
* `nn.image_preprocess` ops are the network's `preprocessing` entries;
* a `core.constant` used as a layer *input* (what constant folding leaves) becomes a
  `loadConstantND` layer named after the value.

`export_model(module, path, emit)` dispatches to this writer or to the `.mlpackage` writer.
Writes are atomic: the bytes go to a temporary file in the target directory, renamed into place.
"""
from __future__ import annotations

import os
import re

import numpy as np
from google.protobuf.descriptor import FieldDescriptor

from mlir_coreml.codegen.atomic import write_file
from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.frontend.proto import is_repeated

NN_TYPES = ("neuralNetwork", "neuralNetworkClassifier", "neuralNetworkRegressor")
SKIPPED_ATTRIBUTES = {"weight_fields"}
CONTROL_FLOW = ("loop", "branch", "loopBreak", "loopContinue")
EMITS = ("mlmodel", "mlpackage")


# -- public API ------------------------------------------------------------------------------

def export_model(module, path, emit: str) -> None:
    """Write `module` for Apple's toolchain: emit "mlmodel" (nn dialect) or "mlpackage" (mil)."""
    if emit == "mlmodel":
        write_mlmodel(module, path)
    elif emit == "mlpackage":
        from mlir_coreml.codegen.mlpackage_writer import write_mlpackage

        write_mlpackage(module, path)
    else:
        raise MlirCoremlError(f"unknown export format '{emit}' (expected one of: {', '.join(EMITS)})")


def write_mlmodel(module, path) -> None:
    """Serialize an `nn`-dialect module to a `.mlmodel` file at `path` (atomically)."""
    path = os.fspath(path)
    data = module_to_spec(module, where=path).SerializeToString()
    write_file(path, data)


def module_to_spec(module, where: str = "<module>"):
    """The `model_pb2.Model` message of an `nn`-dialect (or `classical`-dialect) module."""
    if plain_value(module.attributes.get("coreml.model_type", "neuralNetwork")) not in NN_TYPES:
        from mlir_coreml.codegen.classical_writer import classical_module_to_spec, is_classical

        if is_classical(module):
            return classical_module_to_spec(module, where)
    return SpecWriter(module, where).run()


# -- dict <-> protobuf by descriptor -------------------------------------------------------------

def plain_value(value):
    """An attribute or plain value as plain Python (attributes unwrap through `.value`)."""
    from mlir_coreml.ir.attributes import Attribute

    return value.value if isinstance(value, Attribute) else value


def scalar_to_proto(fd, value, where: str):
    """A plain value as what the protobuf field `fd` accepts (inverse of the importers' scalars)."""
    t = fd.type
    if t == FieldDescriptor.TYPE_ENUM:
        if isinstance(value, str):
            ev = fd.enum_type.values_by_name.get(value)
            if ev is not None:
                return ev.number
            try:
                return int(value)  # unknown enum numbers are kept as their number
            except ValueError:
                raise MlirCoremlError(f"'{value}' is not a value of enum {fd.enum_type.name} "
                                      f"(field '{fd.name}')", where) from None
        return int(value)
    if t == FieldDescriptor.TYPE_BYTES:
        if isinstance(value, (bytes, bytearray)):
            return bytes(value)
        text = str(value)
        return bytes.fromhex(text[2:] if text.startswith("0x") else text)
    if t in (FieldDescriptor.TYPE_FLOAT, FieldDescriptor.TYPE_DOUBLE):
        return float(value)
    if t == FieldDescriptor.TYPE_BOOL:
        return bool(value)
    if t == FieldDescriptor.TYPE_STRING:
        return str(value)
    if isinstance(value, (float, np.floating)) and float(value) != int(value):
        raise MlirCoremlError(f"field '{fd.name}' is an integer but the attribute is {value}", where)
    return int(value)


def dict_to_message(data, msg, where: str = "<module>"):
    """Fill protobuf message `msg` from a dict of its field names (the importers' dict form)."""
    data = plain_value(data)
    if not isinstance(data, dict):
        raise MlirCoremlError(f"expected a dict for message {msg.DESCRIPTOR.name}, got {type(data).__name__}", where)
    fields = msg.DESCRIPTOR.fields_by_name
    for key, value in data.items():
        fd = fields.get(key)
        if fd is None:
            raise MlirCoremlError(f"'{key}' is not a field of {msg.DESCRIPTOR.name}", where)
        set_field(msg, fd, value, where)
    return msg


def set_field(msg, fd, value, where: str) -> None:
    value = plain_value(value)
    if fd.type == FieldDescriptor.TYPE_MESSAGE:
        target = getattr(msg, fd.name)
        if fd.message_type.GetOptions().map_entry:
            kfd = fd.message_type.fields_by_name["key"]
            vfd = fd.message_type.fields_by_name["value"]
            for k, v in dict(value).items():
                key = scalar_to_proto(kfd, k, where)
                if vfd.type == FieldDescriptor.TYPE_MESSAGE:
                    dict_to_message(v, target[key], where)
                else:
                    target[key] = scalar_to_proto(vfd, plain_value(v), where)
        elif is_repeated(fd):
            for item in value:
                dict_to_message(item, target.add(), where)
        else:
            target.SetInParent()
            dict_to_message(value, target, where)
        return
    if is_repeated(fd):
        if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
            raise MlirCoremlError(f"field '{fd.name}' is repeated but the attribute is a single value", where)
        getattr(msg, fd.name).extend([scalar_to_proto(fd, plain_value(v), where) for v in value])
    else:
        setattr(msg, fd.name, scalar_to_proto(fd, value, where))


_PATH_PART = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d+)\])?$")


def field_at_path(msg, path: str, where: str):
    """The (message, field descriptor, index) that proto path `a.b[1].c` names inside `msg`;
    intermediate messages are created as needed (index None for singular fields)."""
    parts = path.split(".")
    for i, part in enumerate(parts):
        m = _PATH_PART.match(part)
        fd = msg.DESCRIPTOR.fields_by_name.get(m.group(1)) if m else None
        if fd is None:
            raise MlirCoremlError(f"weight path '{path}' does not name a field of {msg.DESCRIPTOR.name}", where)
        index = int(m.group(2)) if m.group(2) is not None else None
        if (index is not None) != is_repeated(fd):
            raise MlirCoremlError(f"weight path '{path}': '{part}' does not match the field's repetition", where)
        if i == len(parts) - 1:
            return msg, fd, index
        if fd.type != FieldDescriptor.TYPE_MESSAGE:
            raise MlirCoremlError(f"weight path '{path}': '{part}' is not a message", where)
        child = getattr(msg, fd.name)
        if index is None:
            child.SetInParent()
            msg = child
        else:
            while len(child) <= index:
                child.add()
            msg = child[index]
    raise MlirCoremlError(f"empty weight path '{path}'", where)


def all_value_names(op) -> set:
    """The names of every value defined inside `op` (block arguments and op results)."""
    names = set()
    for region in op.regions:
        for block in region.blocks:
            names.update(a.name for a in block.args if a.name)
            for inner in block.ops:
                names.update(r.name for r in inner.results if r.name)
                names |= all_value_names(inner)
    return names


def fresh_name(used: set, stem: str) -> str:
    """A name `_<stem>_<n>` not in `used` (which it joins), for values passes left unnamed."""
    n = len(used)
    while f"_{stem}_{n}" in used:
        n += 1
    name = f"_{stem}_{n}"
    used.add(name)
    return name


# -- weights -------------------------------------------------------------------------------------

def _constant_array(value):
    """The array of a `core.constant` (or any ConstantLike op) result, else None."""
    op = getattr(value, "op", None)
    if op is None:
        return None
    if op.op_name == "core.constant":
        return np.asarray(op.attributes["value"].value)
    from mlir_coreml.ir.opdef import ConstantLike

    if op.has_trait(ConstantLike) and hasattr(op, "reference"):
        return np.asarray(op.reference())
    return None


def fill_weight_params(wp, value, where: str) -> None:
    """Set WeightParams `wp` from the SSA value of a weight in its stored precision."""
    op = getattr(value, "op", None)
    if op is not None and op.op_name == "nn.dequantize":
        raw = _constant_array(op.operands[0])
        if raw is None:
            raise MlirCoremlError("quantized weight's raw bytes are not a constant", where)
        data = np.ascontiguousarray(raw).reshape(-1)
        if data.dtype == np.int8:
            wp.int8RawValue = data.tobytes()
        else:
            wp.rawValue = data.astype(np.uint8, copy=False).tobytes()
        q = wp.quantization
        q.numberOfBits = int(op.attributes["numberOfBits"].value)
        mode = op.attributes["mode"].value
        if mode == "linear":
            q.linearQuantization.SetInParent()
            q.linearQuantization.scale.extend(float(v) for v in plain_value(op.attributes.get("scale", ())) or ())
            q.linearQuantization.bias.extend(float(v) for v in plain_value(op.attributes.get("bias", ())) or ())
        elif mode == "lut":
            q.lookupTableQuantization.SetInParent()
            q.lookupTableQuantization.floatValue.extend(float(v) for v in plain_value(op.attributes.get("lut", ())) or ())
        else:
            raise MlirCoremlError(f"unknown quantization mode '{mode}'", where)
        return
    array = _constant_array(value)
    if array is None:
        raise MlirCoremlError(f"weight is computed by '{op.op_name if op else 'an argument'}', not a constant "
                              "(run constant-fold before exporting)", where)
    if array.dtype == np.float16:
        wp.float16Value = np.ascontiguousarray(array, dtype="<f2").tobytes()
    else:
        _set_float_values(wp, np.asarray(array, dtype=np.float32))


def _set_float_values(wp, array: np.ndarray) -> None:
    """`wp.floatValue = array`, parsed from its packed wire form (8x faster than extend)."""
    data = np.ascontiguousarray(array.reshape(-1), dtype="<f4").tobytes()
    if not data:
        return
    size, prefix = len(data), bytearray(b"\x0a")  # field 1 (floatValue), length-delimited
    while True:
        low, size = size & 0x7F, size >> 7
        prefix.append(low | 0x80 if size else low)
        if not size:
            break
    wp.MergeFromString(bytes(prefix) + data)


# -- the model -----------------------------------------------------------------------------------

class SpecWriter:
    def __init__(self, module, where: str):
        self.module = module
        self.where = where
        self.names: dict = {}      # Value -> blob name
        self.used_names: set = set()
        self.counter = 0

    def fail(self, message: str, layer: str | None = None):
        return MlirCoremlError(message, f"{self.where}: layer '{layer}'" if layer else self.where)

    def run(self):
        from mlir_coreml.frontend.proto import model_pb2

        functions = [op for op in self.module.body.ops if op.op_name == "func.func"]
        if len(functions) != 1:
            raise self.fail(f"a NeuralNetwork model has one function, the module has {len(functions)}")
        fn = functions[0]
        mattrs = self.module.attributes
        fattrs = fn.attributes
        default = "mlProgram" if "mil.program_version" in mattrs else "neuralNetwork"
        kind = plain_value(mattrs.get("coreml.model_type", default))
        if kind not in NN_TYPES:
            raise self.fail(f"model type '{kind}' is not a NeuralNetwork; write ML Programs as .mlpackage")
        model = model_pb2.Model()
        model.specificationVersion = int(plain_value(mattrs.get("coreml.spec_version", 4)))
        if plain_value(mattrs.get("coreml.updatable", False)):
            model.isUpdatable = True
        self.description(model.description, fn, fattrs, mattrs)
        network = getattr(model, kind)
        network.SetInParent()
        if "coreml.network" in fattrs:
            dict_to_message(fattrs["coreml.network"], network, self.where)
        labels = plain_value(fattrs.get("coreml.class_labels"))
        if labels is not None:
            if kind != "neuralNetworkClassifier":
                raise self.fail("class labels on a model that is not a classifier")
            if labels and all(isinstance(v, int) and not isinstance(v, bool) for v in labels):
                network.int64ClassLabels.vector.extend(int(v) for v in labels)
            else:
                network.stringClassLabels.vector.extend(str(v) for v in labels)
        self.used_names = all_value_names(fn)
        for arg in fn.arguments:
            self.name_of(arg)
        self.body(fn, network)
        return model

    # -- description --------------------------------------------------------------------------
    def description(self, desc, fn, fattrs, mattrs):
        for key, field, values in (("coreml.inputs", desc.input, fn.arguments),
                                   ("coreml.outputs", desc.output, self.returned(fn))):
            features = plain_value(fattrs.get(key))
            if features is None:
                features = [self.default_feature(v) for v in values]
            for feature in features:
                dict_to_message(feature, field.add(), self.where)
        for key in ("predictedFeatureName", "predictedProbabilitiesName"):
            if f"coreml.{key}" in fattrs:
                setattr(desc, key, str(plain_value(fattrs[f"coreml.{key}"])))
        if "coreml.metadata" in mattrs:
            desc.metadata.SetInParent()
            dict_to_message(mattrs["coreml.metadata"], desc.metadata, self.where)

    def returned(self, fn) -> list:
        ret = fn.body.last_op
        return list(ret.operands) if ret is not None and ret.op_name == "func.return" else []

    def default_feature(self, value) -> dict:
        """A FLOAT32 multi-array feature for a value when the module carries no description."""
        from mlir_coreml.ir.types import TensorType

        t = value.type
        shape = [int(d) for d in t.shape] if isinstance(t, TensorType) and t.is_static else []
        return {"name": self.name_of(value), "type": {"multiArrayType": {"shape": shape, "dataType": "FLOAT32"}}}

    # -- names --------------------------------------------------------------------------------
    def name_of(self, value) -> str:
        name = self.names.get(value)
        if name is None:
            name = value.name or fresh_name(self.used_names, "blob")
            self.names[value] = name
        return name

    # -- layers ---------------------------------------------------------------------------------
    def body(self, fn, network):
        self.block(fn.body, network, self.returned(fn))

    def block(self, block, network, extra_uses=()):
        """Write the ops of `block` as the layers of NeuralNetwork message `network`."""
        from mlir_coreml.ir.dialects.nn.base import NNLayer

        emitted_constants = set()
        for op in block.ops:
            name = op.location.name if op.location is not None and op.location.name else None
            if op.op_name in ("func.return", "nn.yield", "classical.yield"):
                continue  # outputs and carried blobs are named, not written
            if op.op_name == "nn.image_preprocess":
                self.preprocessing(op, network)
                continue
            if op.op_name in ("core.constant", "nn.dequantize"):
                continue  # emitted as WeightParams of their users (or below, as loadConstantND)
            if not isinstance(op, NNLayer):
                raise self.fail(f"op '{op.op_name}' has no NeuralNetwork layer (only nn.* layers, "
                                "constants and nn.image_preprocess can be written as .mlmodel)", name)
            for value in self.layer_inputs(op):
                if value not in emitted_constants and _constant_array(value) is not None:
                    self.load_constant(value, network)
                    emitted_constants.add(value)
            self.layer(op, network.layers.add(), name)
        for value in extra_uses:
            if value not in emitted_constants and _constant_array(value) is not None:
                self.load_constant(value, network)
                emitted_constants.add(value)

    @staticmethod
    def layer_inputs(op) -> list:
        """The operands that are the layer's input blobs (not weights, not carried loop values)."""
        if op.layer_kind in CONTROL_FLOW:
            carried = len(plain_value(op.attributes.get("carried", ())) or ())
            inputs = list(op.inputs)
            return inputs[:len(inputs) - carried] if op.layer_kind in ("loop", "loopBreak", "loopContinue") \
                else inputs
        return list(op.inputs)

    def layer(self, op, layer, name):
        if name is None:
            self.counter += 1
            name = f"{op.layer_kind}_{self.counter}"
        layer.name = name
        layer.input.extend(self.name_of(v) for v in self.layer_inputs(op))
        if op.layer_kind not in CONTROL_FLOW:
            layer.output.extend(self.name_of(r) for r in op.results)
        params = getattr(layer, op.layer_kind)
        params.SetInParent()
        where = f"{self.where}: layer '{name}'"
        for key, attr in op.attributes.items():
            if key in SKIPPED_ATTRIBUTES or "." in key or (key == "carried" and op.layer_kind in CONTROL_FLOW):
                continue
            fd = params.DESCRIPTOR.fields_by_name.get(key)
            if fd is None:
                raise MlirCoremlError(f"attribute '{key}' is not a field of {params.DESCRIPTOR.name}", where)
            set_field(params, fd, attr, where)
        for path, value in zip(op.weight_fields, op.weights):
            msg, fd, index = field_at_path(params, path, where)
            if fd.message_type is None or fd.message_type.name != "WeightParams":
                raise MlirCoremlError(f"weight path '{path}' is not a WeightParams field", where)
            if index is None:
                wp = getattr(msg, fd.name)
                wp.SetInParent()
            else:
                repeated = getattr(msg, fd.name)
                while len(repeated) <= index:
                    repeated.add()
                wp = repeated[index]
            fill_weight_params(wp, value, f"{where} weight '{path}'")
        if op.regions:
            self.nested(op, params, name)

    def nested(self, op, params, name):
        """The regions of `nn.loop` / `nn.branch` as their nested NeuralNetwork messages; an
        empty optional region (condition network, else branch) is left out."""
        fields = {"loop": ("conditionNetwork", "bodyNetwork"), "branch": ("ifBranch", "elseBranch")}.get(op.layer_kind)
        if fields is None or len(op.regions) != len(fields):
            raise self.fail(f"'{op.op_name}' has regions this writer does not know", name)
        required = {"bodyNetwork", "ifBranch"}
        for field, region in zip(fields, op.regions):
            block = region.blocks[0] if region.blocks else None
            if block is None:
                continue
            layers = [o for o in block.ops if o.op_name != "nn.yield"]
            if not layers and field not in required:
                continue
            for arg in block.args:
                self.name_of(arg)
            net = getattr(params, field)
            net.SetInParent()
            self.block(block, net)

    def load_constant(self, value, network):
        array = _constant_array(value)
        name = self.name_of(value)
        layer = network.layers.add()
        layer.name = name
        layer.output.append(name)
        params = layer.loadConstantND
        params.shape.extend(int(d) for d in array.shape) if array.ndim else params.shape.append(1)
        fill_weight_params(params.data, value, f"{self.where}: constant '{name}'")

    def preprocessing(self, op, network):
        source = op.operands[0]
        entry = network.preprocessing.add()
        entry.featureName = self.name_of(source)
        data = {k: v for k, v in op.attributes.items() if k != "colorSpace" and "." not in k}
        dict_to_message(data, entry, self.where)
        self.names[op.results[0]] = self.name_of(source)
