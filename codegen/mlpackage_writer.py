"""`mil`-dialect module -> `.mlpackage` directory (ML Program), the inverse of frontend/mlpackage.py.

    X.mlpackage/
      Manifest.json                              fileFormatVersion, itemInfoEntries, rootModelIdentifier
      Data/com.apple.CoreML/model.mlmodel        Model proto with mlProgram
      Data/com.apple.CoreML/weights/weight.bin   MIL blob storage v2 (docs/coreml-formats.md §4)

Module attributes `coreml.specification_version`, `coreml.description` (the ModelDescription as a
dict), `mil.program_version`, `mil.doc_string`, `mil.attributes` give the Model around the
program. Each `func.func` is a Function (its `opset` attribute, `mil.attributes`), each op one
Operation: type = the MIL op type, parameters = operand groups bound by value name, `name` = the
op's location, other attributes = MIL attributes. A `mil.const` that the importer made from an
inline literal (no location, result `<param>_inline_<n>`, one use) is written back inline.

Values are encoded as coremltools encodes them: `dense_resource` weights become BlobFileValues in
weight.bin (written in op order, one blob per distinct resource; header 64 bytes `count, version
= 2`; per blob a 64-byte record `0xDEADBEEF, dtype, size, data offset, 0` at a 64-byte aligned
offset with the data right after), small tensors immediate values in the field coremltools picks
for their dtype (fp32 floats, fp16/int8/uint8/uint32 bytes, int32/int16 ints, int64 longInts...).

The package is built in a temporary directory beside the target and renamed into place.
"""
from __future__ import annotations

import json
import os
import re
import struct
import uuid
from pathlib import Path

import numpy as np

from mlir_coreml.codegen.mlmodel_writer import (plain_value, all_value_names, dict_to_message,  # noqa: F401
                                               export_model, fresh_name)
from mlir_coreml.codegen.atomic import write_directory
from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.ir.attributes import (ArrayAttr, BoolAttr, DenseAttr, DenseResourceAttr, DictAttr, FloatAttr,
                                       IntAttr, StringAttr)
from mlir_coreml.frontend.mlpackage import BLOB_DTYPES as READ_BLOB_DTYPES, PROTO_DTYPES as READ_PROTO_DTYPES
from mlir_coreml.ir.dialects.mil.base import SUB_BYTE_BITS
from mlir_coreml.ir.types import DictType, ListType, StateType, TensorType, TupleType

WEIGHTS_FILE = "@model_path/weights/weight.bin"
AUTHOR = "com.apple.CoreML"
MODEL_DIR = "com.apple.CoreML"

# IR element type -> MIL.proto DataType.
PROTO_DTYPES = {"bool": 1, "string": 2, "f16": 10, "f32": 11, "f64": 12, "bf16": 13, "i8": 21, "i16": 22,
                "i32": 23, "i64": 24, "u8": 31, "u16": 32, "u32": 33, "u64": 34}
# IR element type -> blob storage v2 BlobDataType.
BLOB_DTYPES = {"f16": 1, "f32": 2, "u8": 3, "i8": 4, "bf16": 5, "i16": 6, "u16": 7, "i32": 14, "u32": 15}
# Sub-byte MIL dtypes -> blob storage v2 BlobDataType and MIL.proto DataType codes (the reader's tables).
SUB_BYTE_BLOB_DTYPES = {name: code for code, name in READ_BLOB_DTYPES.items() if name in SUB_BYTE_BITS}
SUB_BYTE_PROTO_DTYPES = {name: code for code, name in READ_PROTO_DTYPES.items() if name in SUB_BYTE_BITS}
# IR element type -> TensorValue field coremltools writes immediate values to.
IMMEDIATE_FIELDS = {"bool": "bools", "string": "strings", "f16": "bytes", "f32": "floats", "f64": "doubles",
                    "i8": "bytes", "u8": "bytes", "u32": "bytes", "i16": "ints", "u16": "ints", "i32": "ints",
                    "i64": "longInts", "u64": "longInts"}
# IR element type -> ArrayFeatureType.ArrayDataType (model inputs and outputs).
FEATURE_DTYPES = {"f32": 65568, "f64": 65600, "i32": 131104, "f16": 65552, "i8": 131080}
# model.mil opset spellings -> protobuf spellings (inverse of the importer's normalisation).
OPSETS = {"ios15": "CoreML5", "ios16": "CoreML6", "ios17": "CoreML7", "ios18": "CoreML8"}

SENTINEL = 0xDEADBEEF
ALIGNMENT = 64
_INLINE = re.compile(r"^(.+)_inline_\d+$")


# -- public API ------------------------------------------------------------------------------

def write_mlpackage(module, path) -> None:
    """Write a `mil`-dialect module as an `.mlpackage` directory at `path` (atomically)."""
    path = os.path.abspath(os.fspath(path))
    blobs = BlobWriter()
    data = module_to_spec(module, blobs, where=path).SerializeToString()

    def fill(staging: Path) -> None:
        model_dir = staging / "Data" / MODEL_DIR
        model_dir.mkdir(parents=True)
        (model_dir / "model.mlmodel").write_bytes(data)
        entries = {str(uuid.uuid4()): {"author": AUTHOR, "description": "CoreML Model Specification",
                                       "name": "model.mlmodel", "path": f"{MODEL_DIR}/model.mlmodel"}}
        root = next(iter(entries))
        if blobs.count:
            (model_dir / "weights").mkdir()
            with open(model_dir / "weights" / "weight.bin", "wb") as f:
                blobs.write(f)
            entries[str(uuid.uuid4())] = {"author": AUTHOR, "description": "CoreML Model Weights",
                                          "name": "weights", "path": f"{MODEL_DIR}/weights"}
        manifest = {"fileFormatVersion": "1.0.0", "itemInfoEntries": entries, "rootModelIdentifier": root}
        (staging / "Manifest.json").write_text(json.dumps(manifest, indent=4, sort_keys=True), encoding="utf-8")

    write_directory(path, fill, replaceable=lambda p: (p / "Manifest.json").is_file(), kind="an .mlpackage")


def module_to_spec(module, blobs: BlobWriter | None = None, where: str = "<module>"):
    """The `model_pb2.Model` of a `mil`-dialect module; weights go to `blobs`."""
    return ProgramWriter(blobs if blobs is not None else BlobWriter(), where).model(module)


# -- weight.bin ------------------------------------------------------------------------------

class BlobWriter:
    """Collects blobs and lays them out as blob storage v2 (64-byte aligned records and data)."""

    def __init__(self):
        self.chunks: list[tuple[int, bytes]] = []   # (metadata offset, record + data)
        self.end = ALIGNMENT                        # the header
        self.offsets: dict = {}                     # (id(blob), dtype, type) -> metadata offset
        self.keep: list = []                        # keeps keyed blobs alive (ids stay unique)

    @property
    def count(self) -> int:
        return len(self.chunks)

    def add(self, attr: DenseResourceAttr, where: str) -> int:
        """The metadata offset of `attr`'s data in the file (each resource is stored once)."""
        element = attr.type.element.name
        stored = sub_byte_dtype(attr)
        code = SUB_BYTE_BLOB_DTYPES[stored] if stored else BLOB_DTYPES.get(element)
        if code is None:
            raise MlirCoremlError(f"weights of element type {element} cannot be stored in weight.bin", where)
        key = (id(attr.blob), element, attr.type)
        found = self.offsets.get(key)
        if found is not None:
            return found
        array = np.asarray(attr.value)
        padding = 0
        if stored:  # read from a sub-byte blob: packed again, as compressed as it came
            from mlir_coreml.ir.dialects.mil.control import pack_bits

            bits = SUB_BYTE_BITS[stored]
            data = pack_bits(array, bits)
            padding = len(data) * 8 - array.size * bits
        else:
            dtype = attr.type.element.numpy_dtype.newbyteorder("<")
            data = np.ascontiguousarray(array, dtype=dtype).tobytes()
        offset = _align(self.end)
        record = struct.pack("<IIQQQ", SENTINEL, code, len(data), offset + ALIGNMENT, padding).ljust(ALIGNMENT, b"\0")
        self.chunks.append((offset, record + data))
        self.end = offset + ALIGNMENT + len(data)
        self.offsets[key] = offset
        self.keep.append(attr.blob)
        return offset

    def write(self, f) -> None:
        f.write(struct.pack("<II", len(self.chunks), 2).ljust(ALIGNMENT, b"\0"))
        position = ALIGNMENT
        for offset, chunk in self.chunks:
            f.write(b"\0" * (offset - position))
            f.write(chunk)
            position = offset + len(chunk)


def sub_byte_dtype(attr) -> str | None:
    """The sub-byte MIL dtype (`uint4`, `int4`...) a weight was read as, else None (in memory it
    is unpacked one value per byte, its IR element i8/u8)."""
    origin = getattr(attr.blob, "origin", None) if isinstance(attr, DenseResourceAttr) else None
    return origin.dtype if origin is not None and origin.dtype in SUB_BYTE_BITS else None


def _align(n: int) -> int:
    return (n + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT


# -- the program -----------------------------------------------------------------------------

class ProgramWriter:
    def __init__(self, blobs: BlobWriter, where: str):
        self.blobs = blobs
        self.where = where
        self.names: dict = {}
        self.used_names: set = set()

    def model(self, module):
        from mlir_coreml.frontend.proto import model_pb2

        attrs = module.attributes
        model = model_pb2.Model()
        model.specificationVersion = int(plain_value(attrs.get("coreml.specification_version", 7)))
        functions = [op for op in module.body.ops if op.op_name == "func.func"]
        if not functions:
            raise MlirCoremlError("the module has no function", self.where)
        if "coreml.description" in attrs:
            dict_to_message(attrs["coreml.description"], model.description, self.where)
        else:  # e.g. imported from a compiled model.mil: describe main's signature
            main = next((f for f in functions if plain_value(f.attributes["sym_name"]) == "main"), functions[0])
            self.describe(main, model.description)
        program = model.mlProgram
        program.SetInParent()
        version = plain_value(attrs.get("mil.program_version", 1))
        program.version = int(float(version)) if isinstance(version, str) else int(version)
        if "mil.doc_string" in attrs:
            program.docString = str(plain_value(attrs["mil.doc_string"]))
        if "mil.attributes" in attrs:
            for key, value in attrs["mil.attributes"].data:
                program.attributes[key].CopyFrom(self.value(value, self.where))
        self.used_names = all_value_names(module)
        for fn in functions:
            self.function(fn, program.functions[str(plain_value(fn.attributes["sym_name"]))])
        return model

    def describe(self, fn, desc):
        """Multi-array features for the arguments and results of `fn` (no description kept)."""
        ret = fn.body.last_op
        results = list(ret.operands) if ret is not None and ret.op_name == "func.return" else []
        for values, features in ((fn.body.args, desc.input), (results, desc.output)):
            for v in values:
                feature = features.add()
                feature.name = self.var(v, self.where)
                array = feature.type.multiArrayType
                t = v.type
                if not isinstance(t, TensorType):
                    raise MlirCoremlError(f"feature '{feature.name}' of type {t} is not a tensor; the module "
                                          "needs its coreml.description", self.where)
                code = FEATURE_DTYPES.get(t.element.name)
                if code is None:
                    raise MlirCoremlError(f"feature '{feature.name}' has element type {t.element}, which a "
                                          "model feature cannot have", self.where)
                array.dataType = code
                if t.is_static:
                    array.shape.extend(int(d) for d in t.shape)

    def function(self, fn, out):
        name = plain_value(fn.attributes["sym_name"])
        where = f"{self.where}:{name}"
        opset = str(plain_value(fn.attributes.get("opset", "ios15")))
        opset = OPSETS.get(opset, opset)
        out.opset = opset
        for arg in fn.body.args:
            self.named(out.inputs.add(), arg, where)
        if "mil.attributes" in fn.attributes:
            for key, value in fn.attributes["mil.attributes"].data:
                out.attributes[key].CopyFrom(self.value(value, where))
        self.block(fn.body, out.block_specializations[opset], where, with_inputs=False)

    def block(self, block, out, where, with_inputs=True):
        if with_inputs:
            for arg in block.args:
                self.named(out.inputs.add(), arg, where)
        for op in block.ops:
            if op.op_name in ("func.return", "mil.yield"):
                out.outputs.extend(self.var(v, where) for v in op.operands)
                continue
            if op.op_name == "mil.const" and self.inline_const(op) is not None:
                continue  # written at its use
            self.operation(op, out.operations.add(), where)

    @staticmethod
    def inline_const(op):
        """The parameter name when `op` is a const the importer made from an inline literal."""
        if op.location is not None or len(op.results) != 1 or len(op.results[0].uses) != 1:
            return None
        m = _INLINE.match(op.results[0].name or "")
        if m is None:
            return None
        user = op.results[0].uses[0].operation
        for d in getattr(type(user), "operand_defs", ()):
            if d.name == m.group(1) and op.results[0] in user.operand_group(d.name):
                return d.name
        return None

    def operation(self, op, out, where):
        from mlir_coreml.ir.dialects.mil.base import MilOp

        if op.op_name == "core.constant":  # what constant folding leaves: a MIL const
            self.constant(op, out, where)
            return
        if not isinstance(op, MilOp) or not op.op_name.startswith("mil."):
            raise MlirCoremlError(f"op '{op.op_name}' is not a MIL op (only the mil dialect can be written "
                                  "as an ML Program)", where)
        name = op.location.name if op.location is not None and op.location.name is not None else None
        here = f"{where}/{name or op.op_name}"
        out.type = op.mil_type or op.op_name[len("mil."):]
        for d in type(op).operand_defs:
            group = op.operand_group(d.name)
            if not group:
                continue
            arg = out.inputs[d.name]
            for v in group:
                binding = arg.arguments.add()
                producer = getattr(v, "op", None)
                if producer is not None and producer.op_name == "mil.const" and self.inline_const(producer):
                    binding.value.CopyFrom(self.value(producer.attributes["val"], here))
                else:
                    binding.name = self.var(v, here)
        for r in op.results:
            self.named(out.outputs.add(), r, here)
        stored = sub_byte_dtype(op.attributes.get("val")) if op.op_name == "mil.const" else None
        if stored:  # the const's result has the stored sub-byte type too
            out.outputs[0].type.tensorType.dataType = SUB_BYTE_PROTO_DTYPES[stored]
        for region in op.regions:
            self.block(region.blocks[0], out.blocks.add(), here)
        # Blobs are laid out in the order they are met; coremltools writes an op's parameters
        # stored as attributes (iOS16 constexpr ops) in the op's parameter order.
        order = {d.name: i for i, d in enumerate(type(op).operand_defs)}
        keys = sorted((k for k in op.attributes if k != "operand_segments"),
                      key=lambda k: (order.get(k, len(order)), k))
        for key in keys:
            out.attributes[key].CopyFrom(self.value(op.attributes[key], here))
        if name is not None:
            out.attributes["name"].CopyFrom(self.value(DenseAttr(np.array(name, dtype=object),
                                                                 TensorType((), _element("string"))), here))

    def constant(self, op, out, where):
        result = op.results[0]
        name = op.location.name if op.location is not None and op.location.name else self.var(result, where)
        out.type = "const"
        self.named(out.outputs.add(), result, where)
        out.attributes["val"].CopyFrom(self.value(op.attributes["value"], f"{where}/{name}"))
        out.attributes["name"].CopyFrom(self.value(_string(name), where))

    # -- names and types --------------------------------------------------------------------
    def var(self, value, where) -> str:
        """The variable name of `value` (a fresh unique one for values passes left unnamed)."""
        if value.name:
            return value.name
        name = self.names.get(value)
        if name is None:
            name = self.names[value] = fresh_name(self.used_names, "var")
        return name

    def named(self, out, value, where):
        out.name = self.var(value, where)
        self.type(value.type, out.type, where)

    def type(self, t, out, where):
        if isinstance(t, TensorType):
            tt = out.tensorType
            code = PROTO_DTYPES.get(t.element.name)
            if code is None:
                raise MlirCoremlError(f"element type {t.element} has no MIL data type", where)
            tt.dataType = code
            if t.shape is None:
                tt.rank = -1
                return
            tt.rank = len(t.shape)
            for d in t.shape:
                dim = tt.dimensions.add()
                if d is None:
                    dim.unknown.variadic = False
                else:
                    dim.constant.size = int(d)
        elif isinstance(t, ListType):
            out.listType.SetInParent()
            self.type(t.element, out.listType.type, where)
        elif isinstance(t, TupleType):
            out.tupleType.SetInParent()
            for e in t.elements:
                self.type(e, out.tupleType.types.add(), where)
        elif isinstance(t, DictType):
            self.type(t.key, out.dictionaryType.keyType, where)
            self.type(t.value, out.dictionaryType.valueType, where)
        elif isinstance(t, StateType):
            self.type(t.wrapped, out.stateType.wrappedType, where)
        else:
            raise MlirCoremlError(f"type {t} has no ML Program form", where)

    # -- values -----------------------------------------------------------------------------
    def value(self, attr, where):
        from mlir_coreml.frontend.proto import mil_pb2

        v = mil_pb2.Value()
        if isinstance(attr, DenseResourceAttr):
            self.type(attr.type, v.type, where)
            if sub_byte_dtype(attr):
                v.type.tensorType.dataType = SUB_BYTE_PROTO_DTYPES[sub_byte_dtype(attr)]
            v.blobFileValue.fileName = WEIGHTS_FILE
            v.blobFileValue.offset = self.blobs.add(attr, where)
        elif isinstance(attr, DenseAttr):
            self.type(attr.type, v.type, where)
            self.tensor(attr.value, attr.type, v.immediateValue.tensor, where)
        elif isinstance(attr, DictAttr):
            d = v.immediateValue.dictionary
            d.SetInParent()
            value_type = None
            for key, item in attr.data:
                kv = d.values.add()
                kv.key.CopyFrom(self.value(_string(key), where))
                kv.value.CopyFrom(self.value(item, where))
                value_type = kv.value.type
            self.type(TensorType((), _element("string")), v.type.dictionaryType.keyType, where)
            if value_type is not None:
                v.type.dictionaryType.valueType.CopyFrom(value_type)
        elif isinstance(attr, ArrayAttr):
            lst = v.immediateValue.list
            lst.SetInParent()
            for item in attr.data:
                lst.values.add().CopyFrom(self.value(item, where))
            v.type.listType.SetInParent()
            if lst.values:
                v.type.listType.type.CopyFrom(lst.values[0].type)
            v.type.listType.length.constant.size = len(lst.values)
        elif isinstance(attr, (BoolAttr, IntAttr, FloatAttr, StringAttr)):
            element = {BoolAttr: "bool", IntAttr: "i32", FloatAttr: "f32", StringAttr: "string"}[type(attr)]
            dtype = object if element == "string" else _element(element).numpy_dtype
            return self.value(DenseAttr(np.array(attr.value, dtype=dtype), TensorType((), _element(element))), where)
        else:
            raise MlirCoremlError(f"attribute {attr!r} has no ML Program value form", where)
        return v

    def tensor(self, array, t: TensorType, out, where):
        element = t.element.name
        field = IMMEDIATE_FIELDS.get(element)
        if field is None:
            raise MlirCoremlError(f"immediate values of element type {element} cannot be written", where)
        array = np.asarray(array)
        if array.size == 0:
            getattr(out, field).SetInParent()
            return
        if field == "bytes":
            dtype = t.element.numpy_dtype.newbyteorder("<")
            out.bytes.values = np.ascontiguousarray(array, dtype=dtype).tobytes()
        elif field == "strings":
            out.strings.values.extend(str(x) for x in array.reshape(-1))
        elif field == "bools":
            out.bools.values.extend(bool(x) for x in array.reshape(-1))
        elif field in ("floats", "doubles"):
            getattr(out, field).values.extend(array.reshape(-1).astype(np.float64).tolist())
        else:
            getattr(out, field).values.extend(int(x) for x in array.reshape(-1))


def _element(name: str):
    from mlir_coreml.ir.types import ELEMENT_TYPES

    return ELEMENT_TYPES[name]


def _string(text: str) -> DenseAttr:
    return DenseAttr(np.array(text, dtype=object), TensorType((), _element("string")))
