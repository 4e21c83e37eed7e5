"""`.mlpackage` (ML Program) reader: Manifest.json, the Model protobuf, and weights/weight.bin.

Layout (docs/coreml-formats.md §3): `Manifest.json` names the root model item; its path is
relative to `Data/` (normally `com.apple.CoreML/model.mlmodel`); `const` values point at
`@model_path/weights/weight.bin`, where `@model_path` is the directory of the model file.

weight.bin is MIL blob storage v2 (§4): a 64-byte header (`uint32 count, uint32 version = 2`),
then per blob a 64-byte metadata record (`uint32 sentinel 0xDEADBEEF, uint32 dtype,
uint64 size, uint64 data offset, uint64 padding bits`) that the proto's BlobFileValue.offset
points at. The file is memory-mapped once; every record is bounds-checked when the model is
read, and arrays are views of the map built on first use.

Everything in a package is untrusted: paths never leave the package, sizes and offsets are
checked against the file, and every problem is an MlirCoremlError naming the file.
"""
from __future__ import annotations

import mmap
import os
import struct
from dataclasses import dataclass

import numpy as np

from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.frontend.proto import is_repeated
from mlir_coreml.ir import guard
from mlir_coreml.frontend.mil.to_ir import (BlockRecord, FunctionRecord, OpRecord, build_module, tensor_type,
                                            unpack_sub_byte)
from mlir_coreml.ir.attributes import (ArrayAttr, Attribute, BoolAttr, DenseAttr, DenseResourceAttr, DictAttr,
                                       FloatAttr, IntAttr, ResourceBlob, StringAttr)
from mlir_coreml.ir.dialects.mil.base import SUB_BYTE_BITS
from mlir_coreml.ir.types import DictType, ListType, StateType, TensorType, TupleType, Type

MODEL_PATH_PREFIX = "@model_path/"

# MIL.proto DataType enum -> MIL dtype name.
PROTO_DTYPES = {1: "bool", 2: "string", 10: "fp16", 11: "fp32", 12: "fp64", 13: "bf16", 21: "int8",
                22: "int16", 23: "int32", 24: "int64", 25: "int4", 31: "uint8", 32: "uint16", 33: "uint32",
                34: "uint64", 35: "uint4", 36: "uint2", 37: "uint1", 38: "uint6", 39: "uint3",
                40: "fp8e4m3fn", 41: "fp8e5m2"}

# Blob storage v2 BlobDataType (MILBlob/Blob/BlobDataType.hpp) -> MIL dtype name.
BLOB_DTYPES = {1: "fp16", 2: "fp32", 3: "uint8", 4: "int8", 5: "bf16", 6: "int16", 7: "uint16", 8: "int4",
               9: "uint1", 10: "uint2", 11: "uint4", 12: "uint3", 13: "uint6", 14: "int32", 15: "uint32",
               16: "fp8e4m3fn", 17: "fp8e5m2"}
BLOB_SENTINEL = 0xDEADBEEF
HEADER = struct.Struct("<II")          # count, version (then 7 reserved uint64)
METADATA = struct.Struct("<IIQQQ")     # sentinel, dtype, size, offset, padding bits (then 4 reserved)
RECORD_SIZE = 64


def read(path: str):
    """Read an `.mlpackage` into a `mil` IR module."""
    package = os.path.abspath(os.fspath(path))
    model_path = root_model_path(package)
    spec = parse_model(model_path)
    from mlir_coreml.frontend.pipeline import spec_to_module

    return spec_to_module(spec, os.path.dirname(model_path), model_path)


# -- the package -----------------------------------------------------------------------------

def safe_join(root: str, relative: str, where: str) -> str:
    """`root/relative`, refusing absolute paths, `..` and symlinks that lead outside `root`."""
    if not isinstance(relative, str) or not relative:
        raise MlirCoremlError("empty path", where)
    parts = relative.replace("\\", "/").split("/")
    if relative.startswith(("/", "\\")) or os.path.isabs(relative) or (parts and ":" in parts[0]) or ".." in parts:
        raise MlirCoremlError(f"path '{relative}' escapes the package", where)
    joined = os.path.join(root, *[p for p in parts if p not in ("", ".")])
    real_root = os.path.realpath(root)
    real = os.path.realpath(joined)
    if real != real_root and not real.startswith(real_root + os.sep):
        raise MlirCoremlError(f"path '{relative}' escapes the package", where)
    return joined


def root_model_path(package: str) -> str:
    manifest = os.path.join(package, "Manifest.json")
    if not os.path.isdir(package):
        raise MlirCoremlError("not a directory (an .mlpackage is a folder)", package)
    if not os.path.lexists(manifest):
        raise MlirCoremlError("missing Manifest.json", package)
    raw = guard.read_file(manifest, "json", root=package)
    try:
        data = guard.load_json(raw, manifest)
    except MlirCoremlError as e:
        raise MlirCoremlError(f"malformed Manifest.json: {e.message}", e.where) from None
    if not isinstance(data, dict):
        raise MlirCoremlError("malformed Manifest.json: expected a JSON object", manifest)
    entries = data.get("itemInfoEntries")
    root = data.get("rootModelIdentifier")
    if not isinstance(entries, dict) or not isinstance(root, str):
        raise MlirCoremlError("malformed Manifest.json: needs 'itemInfoEntries' and 'rootModelIdentifier'", manifest)
    item = entries.get(root)
    if not isinstance(item, dict) or not isinstance(item.get("path"), str):
        raise MlirCoremlError(f"malformed Manifest.json: root model item '{root}' has no path", manifest)
    path = safe_join(os.path.join(package, "Data"), item["path"], manifest)
    if not os.path.isfile(path):
        raise MlirCoremlError(f"root model '{item['path']}' named by Manifest.json does not exist", manifest)
    return path


def parse_model(path: str):
    from google.protobuf.message import DecodeError

    from mlir_coreml.frontend.proto import model_pb2

    data = guard.read_file(path, "protobuf")
    spec = model_pb2.Model()
    try:
        spec.ParseFromString(data)
    except (DecodeError, RuntimeError, ValueError) as e:
        raise MlirCoremlError(f"not a Core ML model protobuf ({e})", path) from None
    return spec


# -- weight.bin ------------------------------------------------------------------------------

@dataclass(frozen=True)
class BlobOrigin:
    """Where a weight was read: its BLOBFILE reference and the MIL dtype it is stored as (a
    sub-byte dtype is unpacked in memory); writers that leave the weight unchanged reuse it."""
    file_name: str        # as the program spells it, e.g. "@model_path/weights/weights.bin"
    path: str             # that file on disk
    offset: int           # of the blob's metadata record
    dtype: str


class BlobFile:
    """One memory-mapped blob storage v2 file."""

    def __init__(self, path: str, where: str):
        self.path = path
        if not os.path.lexists(path):
            raise MlirCoremlError(f"missing weight file {os.path.basename(path)}", where)
        fd, size = guard.open_regular(path, "weights")
        try:
            if size < RECORD_SIZE:
                raise MlirCoremlError(f"weight file is truncated ({size} bytes, the header alone is 64)", path)
            # Map exactly the size fstat reported: a file growing behind our back changes nothing.
            self.map = mmap.mmap(fd, size, access=mmap.ACCESS_READ)
        except OSError as e:
            raise MlirCoremlError(f"cannot read weight file: {e}", path) from None
        finally:
            os.close(fd)
        self.size = size
        count, version = HEADER.unpack_from(self.map, 0)
        if version != 2:
            raise MlirCoremlError(f"unsupported blob storage version {version} (expected 2)", path)
        self.count = count
        self.cache: dict[tuple, ResourceBlob] = {}

    def blob(self, offset: int, ty: TensorType, dtype: str, where: str, file_name: str = "") -> ResourceBlob:
        key = (offset, ty, dtype)
        found = self.cache.get(key)
        if found is not None:
            return found
        place = f"{self.path}:{offset}"
        if offset < RECORD_SIZE or offset + RECORD_SIZE > self.size:
            raise MlirCoremlError(f"blob metadata offset {offset} is outside the weight file "
                                  f"({self.size} bytes) — is weight.bin truncated?", where)
        sentinel, code, nbytes, data_offset, _padding = METADATA.unpack_from(self.map, offset)
        if sentinel != BLOB_SENTINEL:
            raise MlirCoremlError(f"no blob at offset {offset} (bad sentinel 0x{sentinel:08X})", place)
        stored = BLOB_DTYPES.get(code)
        if stored is None:
            raise MlirCoremlError(f"unknown blob data type code {code}", place)
        if stored != dtype:
            raise MlirCoremlError(f"blob holds {stored} but the program declares {dtype}", place)
        if not ty.is_static:
            raise MlirCoremlError(f"weight of dynamic type {ty}", where)
        count = ty.num_elements
        bits = SUB_BYTE_BITS.get(dtype)
        expected = -(-count * bits // 8) if bits else count * ty.element.numpy_dtype.itemsize
        if nbytes != expected:
            raise MlirCoremlError(f"blob has {nbytes} bytes but {ty} ({dtype}) needs {expected}", place)
        if data_offset + nbytes > self.size or data_offset < RECORD_SIZE:
            raise MlirCoremlError(f"blob data [{data_offset}, {data_offset + nbytes}) lies outside the weight "
                                  f"file ({self.size} bytes) — is weight.bin truncated?", place)
        blob = ResourceBlob(loader=self._loader(data_offset, nbytes, ty, dtype),
                            origin=BlobOrigin(file_name, self.path, offset, dtype))
        self.cache[key] = blob
        return blob

    def _loader(self, data_offset: int, nbytes: int, ty: TensorType, dtype: str):
        buffer, count = self.map, ty.num_elements

        def load() -> np.ndarray:
            if dtype in SUB_BYTE_BITS:
                raw = np.frombuffer(buffer, dtype=np.uint8, count=nbytes, offset=data_offset)
                return unpack_sub_byte(raw, dtype, count).reshape(ty.shape)
            # A read-only view of the map: no copy.
            return np.frombuffer(buffer, dtype=ty.element.numpy_dtype, count=count, offset=data_offset).reshape(ty.shape)

        return load


class BlobStore:
    """The weight files of one model, opened on first reference (paths relative to `@model_path`)."""

    def __init__(self, model_dir: str, where: str):
        self.model_dir = model_dir
        self.where = where
        self.files: dict[str, BlobFile] = {}

    def resource(self, file_name: str, offset: int, ty: TensorType, dtype: str, where: str) -> DenseResourceAttr:
        if not file_name.startswith(MODEL_PATH_PREFIX):
            raise MlirCoremlError(f"weight path '{file_name}' must start with {MODEL_PATH_PREFIX}", where)
        path = safe_join(self.model_dir, file_name[len(MODEL_PATH_PREFIX):], where)
        blob_file = self.files.get(path)
        if blob_file is None:
            blob_file = self.files[path] = BlobFile(path, where)
        blob = blob_file.blob(int(offset), ty, dtype, where, file_name)
        return DenseResourceAttr(f"blob_{offset}", ty, blob)


# -- protobuf -> records ---------------------------------------------------------------------

def model_to_module(spec, model_dir: str, filename: str):
    kind = spec.WhichOneof("Type")
    if kind != "mlProgram":
        raise MlirCoremlError(f"not an ML Program (model type '{kind}'); read it as .mlmodel", filename)
    decoder = _ProtoDecoder(BlobStore(model_dir, filename), filename)
    program = spec.mlProgram
    functions = [decoder.function(name, fn) for name, fn in sorted(program.functions.items(),
                                                                  key=lambda kv: (kv[0] != "main", kv[0]))]
    attributes: dict[str, Attribute] = {
        "coreml.specification_version": IntAttr(spec.specificationVersion),
        "coreml.description": message_attr(spec.description),
        "mil.program_version": IntAttr(program.version),
    }
    if program.docString:
        attributes["mil.doc_string"] = StringAttr(program.docString)
    if program.attributes:
        attributes["mil.attributes"] = DictAttr(tuple((k, decoder.value(v, filename))
                                                      for k, v in sorted(program.attributes.items())))
    return build_module(functions, attributes, filename)


def message_attr(message) -> DictAttr:
    """A protobuf message as a dict attribute (proto field names; enums as their names)."""
    items = []
    for fd, value in message.ListFields():
        items.append((fd.name, _field_attr(fd, value)))
    return DictAttr(tuple(items))


def _field_attr(fd, value) -> Attribute:
    if fd.message_type is not None and fd.message_type.GetOptions().map_entry:
        value_fd = fd.message_type.fields_by_name["value"]
        return DictAttr(tuple((str(k), _scalar_attr(value_fd, value[k])) for k in sorted(value)))
    if is_repeated(fd):
        return ArrayAttr(tuple(_scalar_attr(fd, v) for v in value))
    return _scalar_attr(fd, value)


def _scalar_attr(fd, value) -> Attribute:
    if fd.message_type is not None:
        return message_attr(value)
    if fd.enum_type is not None:
        enum_value = fd.enum_type.values_by_number.get(value)
        return StringAttr(enum_value.name if enum_value else str(value))
    if isinstance(value, bool):
        return BoolAttr(value)
    if isinstance(value, int):
        return IntAttr(value)
    if isinstance(value, float):
        return FloatAttr(value)
    if isinstance(value, bytes):
        return StringAttr(value.hex())
    return StringAttr(str(value))


class _ProtoDecoder:
    def __init__(self, blobs: BlobStore, filename: str):
        self.blobs = blobs
        self.filename = filename

    def type(self, vt, where) -> Type:
        kind = vt.WhichOneof("type")
        if kind == "tensorType":
            tt = vt.tensorType
            dtype = PROTO_DTYPES.get(tt.dataType)
            if dtype is None:
                raise MlirCoremlError(f"unknown MIL data type code {tt.dataType}", where)
            if tt.rank < 0:
                return tensor_type(dtype, None, where)
            if len(tt.dimensions) != tt.rank:
                raise MlirCoremlError(f"tensor type of rank {tt.rank} lists {len(tt.dimensions)} dimensions", where)
            dims = [d.constant.size if d.WhichOneof("dimension") == "constant" else None for d in tt.dimensions]
            return tensor_type(dtype, dims, where)
        if kind == "listType":
            return ListType(self.type(vt.listType.type, where))
        if kind == "tupleType":
            return TupleType(tuple(self.type(t, where) for t in vt.tupleType.types))
        if kind == "dictionaryType":
            return DictType(self.type(vt.dictionaryType.keyType, where), self.type(vt.dictionaryType.valueType, where))
        if kind == "stateType":
            return StateType(self.type(vt.stateType.wrappedType, where))
        raise MlirCoremlError(f"unsupported MIL value type '{kind}'", where)

    def named(self, items, where) -> list[tuple[str, Type]]:
        return [(x.name, self.type(x.type, where)) for x in items]

    def function(self, name: str, fn) -> FunctionRecord:
        where = f"{self.filename}:{name}"
        block = fn.block_specializations.get(fn.opset) if fn.opset in fn.block_specializations else None
        if block is None:
            if len(fn.block_specializations) != 1:
                raise MlirCoremlError(f"function has no block for its opset '{fn.opset}'", where)
            block = next(iter(fn.block_specializations.values()))
        attrs = {}
        if fn.attributes:
            attrs["mil.attributes"] = DictAttr(tuple((k, self.value(v, where)) for k, v in sorted(fn.attributes.items())))
        return FunctionRecord(name, fn.opset, self.named(fn.inputs, where), self.block(block, where), attrs)

    def block(self, b, where, depth: int = 0) -> BlockRecord:
        guard.check_depth(depth, where)  # before descending: the walk below recurses per level
        return BlockRecord(self.named(b.inputs, where), [self.op(op, where, depth) for op in b.operations],
                           list(b.outputs))

    def op(self, op, fn_where, depth: int = 0) -> OpRecord:
        name = None
        if "name" in op.attributes:
            attr = self.value(op.attributes["name"], fn_where)
            if not isinstance(attr, DenseAttr) or attr.array.size != 1 or attr.type.element.name != "string":
                raise MlirCoremlError(f"'{op.type}' op has a 'name' attribute that is not a string", fn_where)
            name = str(attr.array.reshape(-1)[0])
        where = f"{fn_where}/{name}" if name else f"{fn_where}/{op.type}"
        inputs = {}
        for param in sorted(op.inputs):
            inputs[param] = [b.name if b.WhichOneof("binding") == "name" else self.value(b.value, where)
                             for b in op.inputs[param].arguments]
        attrs = {k: self.value(v, where) for k, v in sorted(op.attributes.items()) if k != "name"}
        return OpRecord(op.type, inputs, self.named(op.outputs, where), attrs, name,
                        [self.block(b, where, depth + 1) for b in op.blocks], where)

    def value(self, v, where) -> Attribute:
        ty = self.type(v.type, where)
        kind = v.WhichOneof("value")
        if kind == "blobFileValue":
            if not isinstance(ty, TensorType):
                raise MlirCoremlError("a weight blob must have a tensor type", where)
            dtype = PROTO_DTYPES[v.type.tensorType.dataType]
            return self.blobs.resource(v.blobFileValue.fileName, v.blobFileValue.offset, ty, dtype, where)
        if kind != "immediateValue":
            raise MlirCoremlError("value has neither an immediate value nor a blob", where)
        imm = v.immediateValue
        which = imm.WhichOneof("value")
        if which == "tensor":
            return self.tensor(imm.tensor, ty, PROTO_DTYPES[v.type.tensorType.dataType], where)
        if which == "dictionary":
            return DictAttr(tuple((str(self.plain(kv.key, where)), self.value(kv.value, where))
                                  for kv in imm.dictionary.values))
        if which in ("list", "tuple"):
            return ArrayAttr(tuple(self.value(x, where) for x in getattr(imm, which).values))
        raise MlirCoremlError(f"unsupported immediate value '{which}'", where)

    def plain(self, v, where):
        attr = self.value(v, where)
        if isinstance(attr, DenseAttr) and attr.array.size == 1:
            return attr.array.reshape(-1)[0]
        raise MlirCoremlError("dictionary keys must be scalars", where)

    def tensor(self, tv, ty: TensorType, dtype: str, where) -> DenseAttr:
        if not isinstance(ty, TensorType) or not ty.is_static:
            raise MlirCoremlError(f"an immediate value needs a static tensor type, got {ty}", where)
        count = ty.num_elements
        which = tv.WhichOneof("value")
        np_dtype = np.dtype(object) if ty.element.name == "string" else ty.element.numpy_dtype
        if which == "bytes":
            raw = np.frombuffer(tv.bytes.values, dtype=np.uint8)
            if dtype in SUB_BYTE_BITS:
                if len(raw) * 8 < count * SUB_BYTE_BITS[dtype]:
                    raise MlirCoremlError(f"immediate value is too short for {ty}", where)
                array = unpack_sub_byte(raw, dtype, count)
            else:
                if len(raw) != count * np_dtype.itemsize:
                    raise MlirCoremlError(f"immediate value has {len(raw)} bytes for {ty}", where)
                array = raw.view(np_dtype)
        elif which is None:
            array = np.zeros(0, dtype=np_dtype)
        else:
            values = list(getattr(tv, which).values)
            try:
                array = np.array(values, dtype=np_dtype) if values else np.zeros(0, dtype=np_dtype)
            except (TypeError, ValueError, OverflowError):
                raise MlirCoremlError(f"immediate value ({which}) does not fit its type {ty}", where) from None
        if array.size != count:
            raise MlirCoremlError(f"immediate value has {array.size} elements but {ty} needs {count}", where)
        return DenseAttr(array.reshape(ty.shape), ty)
