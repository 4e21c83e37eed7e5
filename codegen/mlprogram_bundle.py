"""`mil`-dialect module -> ML Program `.mlmodelc` bundle, the way `xcrun coremlc compile` lays it out.

    X.mlmodelc/
      model.mil                  the program as text (docs/coreml-formats.md §5)
      weights/weight.bin         MIL blob storage v2, 64-byte aligned (§4; only when there are weights)
      coremldata.bin             model type 502 + the ModelDescription (§6)
      metadata.json              I/O schemas, op histogram, availability (espresso-format.md §9)
      analytics/coremldata.bin   analytics sections (espresso-format.md §8)

Evidence levels, per file (tags as in docs/espresso-format.md: [V] verified on a real file,
[O] observed, [3P] third-party claim, [G] our guess):

model.mil
  [V] layout, `program(v)`, `[buildInfo = dict<...>(...)]`, `func main<opset>(typed inputs)`,
      `<type> <var> = <op>(<param> = <arg>, ...)[name = ...]`, BLOBFILE references
      (apple/coremltools add_model.mlmodelc and test_load.py).
  [O] coremlc 3520 spelling (third-party files): scalars written `string("x")`, `int32(1)`,
      `bool(false)`, `dict<string, string>`; params and attributes in alphabetical order;
      consts as `const()[name = ..., val = ...]`; floats as C `%a` hex floats. We use this
      spelling for every program version (coremlc 3402 wrote `tensor<string, []>` for 1.0).
  [G] buildInfo: the source's entries are kept; we add `coremlc-component-MIL` and
      `coremlc-version` whose values start with `mlir_coreml-` (clearly not Apple's numbers).
weights/weight.bin
  [V] format (coremltools MILBlob StorageFormat.hpp); written by mlpackage_writer.BlobWriter, one
      blob per distinct resource in op order. [G] coremlc may copy/reorder the source file instead.
coremldata.bin — see `coremldata_bytes`.
metadata.json — see `metadata_for_program`.
analytics/coremldata.bin — see `analytics_for_program`.
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
import struct
from pathlib import Path

import numpy as np

from mlir_coreml.codegen.mlpackage_writer import (BlobWriter, WEIGHTS_FILE, ProgramWriter,
                                                  all_value_names, plain_value)
from mlir_coreml.codegen.atomic import write_directory, write_files
from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.frontend.mil.text import (MilArg, MilArgTuple, MilAttribute, MilBlobFile, MilBlock, MilBool,
                                           MilDict, MilDictType, MilFunction, MilList, MilListType,
                                           MilNamedType, MilNumber, MilOp, MilProgram, MilScalarType, MilStateType,
                                           MilString, MilTensorType, MilTuple, MilTupleType, MilValue, MilVar)
from mlir_coreml.ir.attributes import (ArrayAttr, BoolAttr, DenseAttr, DenseResourceAttr, DictAttr, FloatAttr,
                                       IntAttr, StringAttr)
from mlir_coreml.ir.types import DictType, ListType, StateType, TensorType, TupleType
from mlir_coreml.codegen.mlprogram_metadata import AVAILABILITY, metadata_for_program as _metadata  # noqa: F401

MODEL_TYPE_ML_PROGRAM = 502          # Model.proto oneof field number of `mlProgram`
PLATFORM = "generic"
OURS = "mlir_coreml-"                # prefix of every buildInfo value we invent
# IR element type -> MIL dtype spelling (sub-byte MIL types have no IR element of their own).
MIL_DTYPE_NAMES = {"bool": "bool", "string": "string", "f16": "fp16", "f32": "fp32", "f64": "fp64",
                   "bf16": "bf16", "i8": "int8", "i16": "int16", "i32": "int32", "i64": "int64",
                   "u8": "uint8", "u16": "uint16", "u32": "uint32", "u64": "uint64"}
_FLOATS = {"f16", "f32", "f64", "bf16"}
# -- public API ------------------------------------------------------------------------------

def write_mlprogram_bundle(module, output, *, model_name: str = "model", source_model: bytes | None = None,
                           era: str | None = None) -> None:
    """Write `module` (mil dialect) as an ML Program `.mlmodelc` at `output`, atomically.

    `source_model` is the source `model.mlmodel` protobuf (its ModelDescription bytes go to
    coremldata.bin unchanged, its SHA-256 to the analytics); without it the description comes
    from the module's `coreml.description` attribute (or main's signature)."""
    output = os.path.abspath(os.fspath(output))
    files, weights = bundle_files(module, output, model_name, source_model, era)
    write_directory(output, lambda staging: (write_files(staging, files), weights.write(staging)))


def legacy_era(era: str | None) -> bool:
    """Whether `--coremlc-version` names a compiler before coremlc 3520 (Xcode 26, "2025")."""
    return era is not None and era < "2025"


def bundle_files(module, where: str, model_name: str, source_model: bytes | None, era: str | None = None):
    """The bundle's files (relative path -> bytes) and its WeightFiles (written beside them);
    `era` as `lower --coremlc-version` (default: coremlc 3520/3600's text)."""
    weights = WeightFiles(module)
    program = program_from_module(module, weights, where=where)
    from mlir_coreml.codegen.mil_text import print_mil

    if legacy_era(era):
        program = legacy_spelling(program)
    mil_text = print_mil(program, where=where, final_newline=legacy_era(era) or program.version != "1.3").encode("utf-8")
    description = description_bytes(module, source_model, where)
    spec_version = int(plain_value(module.attributes.get("coreml.specification_version", 7)))
    functions = [op for op in module.body.ops if op.op_name == "func.func"]
    files = {
        "model.mil": mil_text,
        "coremldata.bin": coremldata_bytes(description, spec_version, len(functions)),
        "metadata.json": _metadata_json(metadata_for_program(module, description, model_name, weights)),
        "analytics/coremldata.bin": analytics_for_program(source_model if source_model is not None else mil_text,
                                                          model_name),
    }
    return files, weights


class WeightFiles:
    """Where the bundle's weights go. coremlc keeps the source's weight files as they are: the
    same names (`weights/weights.bin` stays), layout and BLOBFILE offsets [V: quantized-constexpr
    fixture]. So when every weight still comes unchanged from a source weight file, those files
    are copied; otherwise (a pass made new weights) all of them are re-packed into
    `weights/weight.bin` (blob storage v2, docs/coreml-formats.md §4)."""

    def __init__(self, module):
        from mlir_coreml.frontend.mlpackage import MODEL_PATH_PREFIX

        self.blobs = BlobWriter()
        origins = [attr.blob.origin for attr in _resources(module)]
        self.copy = all(o is not None and o.file_name.startswith(MODEL_PATH_PREFIX) for o in origins)
        self.sources = {o.file_name[len(MODEL_PATH_PREFIX):]: o.path for o in origins} if self.copy else {}

    def reference(self, attr: DenseResourceAttr, where: str) -> tuple[str, int]:
        """(BLOBFILE path, offset) of a weight."""
        if self.copy:
            return attr.blob.origin.file_name, attr.blob.origin.offset
        return WEIGHTS_FILE, self.blobs.add(attr, where)

    @classmethod
    def repacking(cls, blobs: BlobWriter) -> WeightFiles:
        """Every weight re-packed into `blobs` (what `weights/weight.bin` will hold)."""
        weights = cls.__new__(cls)
        weights.blobs, weights.copy, weights.sources = blobs, False, {}
        return weights

    def stored_dtype(self, attr: DenseResourceAttr) -> str:
        origin = attr.blob.origin  # BlobWriter packs sub-byte weights again: their dtype stays
        return origin.dtype if origin is not None else MIL_DTYPE_NAMES.get(attr.type.element.name, "fp32")

    def write(self, staging: Path) -> None:
        import shutil

        for relative, source in self.sources.items():
            target = staging / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
        if self.blobs.count:
            (staging / "weights").mkdir(exist_ok=True)
            with open(staging / "weights" / "weight.bin", "wb") as f:
                self.blobs.write(f)


def _resources(module):
    def attrs(attr):
        if isinstance(attr, DenseResourceAttr):
            yield attr
        elif isinstance(attr, ArrayAttr):
            for item in attr.data:
                yield from attrs(item)

    for op in module.walk():
        for attr in op.attributes.values():
            yield from attrs(attr)


def coremldata_bytes(description: bytes, spec_version: int, function_count: int = 1) -> bytes:
    """Root coremldata.bin of an ML Program bundle.

    0x00 u32 502                      [O docs §6 (starts with 0x1F6); 3P]
    0x04 u32 spec version, 20 zero B  [3P mlmodelc-export; NN bundles hold 1 or 3 here, meaning unknown]
    0x1C u64 7, 0x24 "generic"        [V on NN bundles; O docs §6 for ML Programs]
    0x2B u64 spec version, 24 zero B  [V on NN bundles; 3P for ML Programs]
    0x4B u64 L, 0x53 ModelDescription [O docs §6; bytes = the source's field 2, 3P: an empty
                                       `metadata` (field 100) is appended when it has none]
    then per function 16 B: u32 502 + 12 zero bytes  [3P; ends with 0x1F6 as docs §6 observed]

    This is the layout of every coremldata.bin (frontend/espresso/format.py): format version
    (spec version, 0, 0), platform `generic` [3P: that is how coremlc 3600's pipeline roots name an
    ML Program stage, `model0v<spec>.0.0generic`, docs/pipeline-bundles.md].

    Size check [O]: Apple's add_model.mlmodelc/coremldata.bin is 319 bytes; its description
    (inputs x, y and output var_3 as fp16 [1, 10], three coremltools 8.1 userDefined entries)
    serializes to 220 bytes, and 0x53 + 220 + 16 = 319, consistent with this layout. The words
    at 0x04 and 0x2B (both = spec version here) and the trailer's 12 zero bytes are not verified.
    """
    from mlir_coreml.codegen.espresso.coremldata import with_metadata

    description = with_metadata(description)
    out = bytearray(struct.pack("<II", MODEL_TYPE_ML_PROGRAM, spec_version))
    out += bytes(20)
    out += struct.pack("<Q", len(PLATFORM)) + PLATFORM.encode("ascii")
    out += struct.pack("<Q", spec_version) + bytes(24)
    out += struct.pack("<Q", len(description)) + description
    out += (struct.pack("<I", MODEL_TYPE_ML_PROGRAM) + bytes(12)) * max(1, function_count)
    return bytes(out)


def description_bytes(module, source_model: bytes | None, where: str) -> bytes:
    """The ModelDescription bytes: the source's own field 2 when we have the source protobuf."""
    if source_model is not None:
        from mlir_coreml.frontend.proto.wire import scan_fields

        found = scan_fields(source_model, where).get(2)
        if found:
            return bytes(found[-1])
    return _description_message(module, where).SerializeToString()


def _description_message(module, where: str):
    from mlir_coreml.codegen.mlmodel_writer import dict_to_message
    from mlir_coreml.frontend.proto import model_pb2

    desc = model_pb2.ModelDescription()
    if "coreml.description" in module.attributes:
        dict_to_message(module.attributes["coreml.description"], desc, where)
    else:
        functions = [op for op in module.body.ops if op.op_name == "func.func"]
        writer = ProgramWriter(BlobWriter(), where)
        writer.used_names = all_value_names(module)
        writer.describe(functions[0], desc)
    return desc


# -- analytics/coremldata.bin ----------------------------------------------------------------

def analytics_for_program(source: bytes, model_name: str) -> bytes:
    """analytics/coremldata.bin [G]: the section layout is [V] (NN bundles, espresso-format.md §8);
    what coremlc writes for ML Programs is unknown (Apple's add_model file is 243 bytes, ours is a
    4 bytes longer for that model). We write the NN-era `SpecificationDetails` (modelHash = SHA-256 of the
    source model.mlmodel, modelName) and mlmodelc-export's stub `NeuralNetworkModelDetails`
    {containsCustomLayer 0, modelDimension 0}, which it reports Core ML accepts [3P]."""
    from mlir_coreml.codegen.espresso.coremldata import sha256_base64, write_analytics
    from mlir_coreml.frontend.espresso.format import Analytics

    sections = {"NeuralNetworkModelDetails": {"containsCustomLayer": "0", "modelDimension": "0"},
                "SpecificationDetails": {"modelHash": sha256_base64(source), "modelName": model_name}}
    return write_analytics(Analytics(sections=sections))


# -- metadata.json ---------------------------------------------------------------------------

def metadata_for_program(module, description: bytes, model_name: str, weights=None) -> list:
    """metadata.json content (codegen/mlprogram_metadata.py has the rules and their evidence)."""
    from mlir_coreml.frontend.proto import model_pb2

    desc = model_pb2.ModelDescription()
    desc.ParseFromString(description)
    weights = weights if weights is not None else WeightFiles(module)
    return _metadata(module, desc, model_name, weights.stored_dtype)


def _metadata_json(metadata) -> bytes:
    from mlir_coreml.codegen.espresso.coremldata import write_metadata

    return write_metadata(metadata)


# -- IR -> model.mil AST ---------------------------------------------------------------------

def program_from_module(module, weights=None, where: str = "<module>") -> MilProgram:
    """The `model.mil` AST of a mil-dialect module; `weights` (a WeightFiles, or a BlobWriter to
    re-pack every weight into) places the dense_resource weights."""
    if weights is None:
        weights = WeightFiles(module)
    elif isinstance(weights, BlobWriter):
        weights = WeightFiles.repacking(weights)
    return _AstBuilder(weights, where).program(module)


def legacy_spelling(node):
    """`node` (a model.mil AST) with every scalar type spelled as a rank-0 tensor, as coremlc
    before 3520 writes them: `tensor<string, []>("x")`, `tensor<uint64, []>(64)` [V 3402 add_model;
    G for the eras before it]."""
    if isinstance(node, MilScalarType):
        return MilTensorType(node.dtype, ())
    if isinstance(node, tuple):
        return tuple(legacy_spelling(x) for x in node)
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        changes = {f.name: legacy_spelling(getattr(node, f.name)) for f in dataclasses.fields(node)}
        return dataclasses.replace(node, **changes)
    return node


def program_version(module, functions) -> str:
    """`program(1.3)` once a function uses an iOS17 or later opset [V coremlc 3520, 3600]; else the
    source's version (`program(1.0)` for iOS15/16 opsets [V coremlc 3402])."""
    opsets = [str(plain_value(f.attributes.get("opset", "ios15"))) for f in functions]
    if any(o.startswith("ios") and o[3:].isdigit() and int(o[3:]) >= 17 for o in opsets):
        return "1.3"
    version = plain_value(module.attributes.get("mil.program_version", 1))
    return f"{version}.0" if isinstance(version, int) else str(version)


FLEXIBLE_ATTRIBUTE = "FlexibleShapeInformation"
_STR = MilScalarType("string")
_DIMS = MilTensorType("int32", (None,))


def flexible_shape_attribute(module, fn) -> MilAttribute | None:
    """The function attribute coremlc writes for flexible inputs [V rank-1 range and enumerated
    inputs, coremlc 3520/3600]: `DefaultShapes` (input -> default shape), then `RangeDims` (input
    -> [[lower, upper], ...]) or `EnumeratedShapes` (key -> {input -> shape}). Inputs without
    flexibility are left out [G]; an unbounded upper bound is written -1 as in the description
    [G]. The enumerated keys are 8 hex digits whose derivation is unknown (not the md5/sha/crc of
    the obvious spellings): ours are the first 8 hex digits of the SHA-256 of `name:shape` [G, differs
    from Apple's], in the description's order [V: the order of Apple's (sorted) keys is the shapes' order]."""
    from mlir_coreml.codegen.feature_shapes import constraint_of, feature_descriptions

    inputs, _ = feature_descriptions(module, str(plain_value(fn.attributes["sym_name"])))
    flexible = [(f["name"], c) for f in inputs if (c := constraint_of(f)) is not None]
    if not flexible:
        return None
    defaults = MilDict(tuple((MilString(n), _int_list(c.default or ())) for n, c in flexible))
    default_part = (MilTupleType((_STR, MilDictType(_STR, _DIMS))),
                    MilTuple((MilString("DefaultShapes"), defaults)))
    ranged = [(n, c) for n, c in flexible if c.ranges is not None]
    if ranged:
        entries = tuple((MilString(n), MilList(tuple(_int_list(r) for r in c.ranges))) for n, c in ranged)
        second = (MilTupleType((_STR, MilDictType(_STR, MilListType(MilTensorType("int32", (2,)), None)))),
                  MilTuple((MilString("RangeDims"), MilDict(entries))))
    else:
        shapes = {}
        for n, c in flexible:
            for shape in c.enumerated:
                key = hashlib.sha256(f"{n}:{list(shape)}".encode()).hexdigest()[:8]
                shapes[key] = MilDict(((MilString(n), _int_list(shape)),))
        entries = tuple((MilString(k), v) for k, v in shapes.items())
        second = (MilTupleType((_STR, MilDictType(_STR, MilDictType(_STR, _DIMS)))),
                  MilTuple((MilString("EnumeratedShapes"), MilDict(entries))))
    value = MilValue(MilTupleType((default_part[0], second[0])), (MilTuple((default_part[1], second[1])),))
    return MilAttribute(FLEXIBLE_ATTRIBUTE, value)


def _int_list(values) -> MilList:
    return MilList(tuple(MilNumber(str(int(v))) for v in values))


def our_build_info() -> dict[str, str]:
    from mlir_coreml import __version__

    return {"coremlc-component-MIL": OURS + __version__, "coremlc-version": OURS + __version__}


class _AstBuilder:
    def __init__(self, weights: WeightFiles, where: str):
        self.weights = weights
        self.where = where
        self.writer = ProgramWriter(BlobWriter(), where)   # for variable names and inline-const detection
        self.module = None

    def program(self, module) -> MilProgram:
        attrs = module.attributes
        self.module = module
        self.writer.used_names = all_value_names(module)
        version = program_version(module, [op for op in module.body.ops if op.op_name == "func.func"])
        program_attrs = []
        source = attrs.get("mil.attributes")
        entries = dict(source.data) if isinstance(source, DictAttr) else {}
        build_info = {}
        if isinstance(entries.get("buildInfo"), DictAttr):
            build_info = {k: self.plain_string(v) for k, v in entries["buildInfo"].data}
        build_info.update(our_build_info())
        entries["buildInfo"] = None
        for key in sorted(entries):
            if key == "buildInfo":
                value = MilValue(MilDictType(MilScalarType("string"), MilScalarType("string")),
                                 (MilDict(tuple((MilString(k), MilString(v)) for k, v in sorted(build_info.items()))),))
            else:
                value = self.value(entries[key], self.where)
            program_attrs.append(MilAttribute(key, value))
        functions = [op for op in module.body.ops if op.op_name == "func.func"]
        if not functions:
            raise MlirCoremlError("the module has no function", self.where)
        functions.sort(key=lambda f: plain_value(f.attributes["sym_name"]) != "main")
        return MilProgram(version, tuple(program_attrs), tuple(self.function(f) for f in functions))

    def plain_string(self, attr) -> str:
        value = plain_value(attr)
        if isinstance(value, np.ndarray):
            value = value.reshape(-1)[0] if value.size == 1 else value.tolist()
        return str(value)

    def function(self, fn) -> MilFunction:
        name = str(plain_value(fn.attributes["sym_name"]))
        where = f"{self.where}:{name}"
        opset = str(plain_value(fn.attributes.get("opset", "ios15")))
        inputs = tuple(self.named(a, where) for a in fn.body.args)
        attributes = ()
        if isinstance(fn.attributes.get("mil.attributes"), DictAttr):
            attributes = tuple(MilAttribute(k, self.value(v, where)) for k, v in fn.attributes["mil.attributes"].data
                               if k != FLEXIBLE_ATTRIBUTE)
        flexible = flexible_shape_attribute(self.module, fn)
        if flexible is not None:
            attributes = _sorted_attributes({a.name: a.value for a in attributes + (flexible,)})
        body = self.block(fn.body, where, with_inputs=False)
        return MilFunction(name, opset, inputs, attributes, body)

    def block(self, block, where, with_inputs=True) -> MilBlock:
        ops, outputs = [], ()
        for op in block.ops:
            if op.op_name in ("func.return", "mil.yield"):
                outputs = tuple(self.writer.var(v, where) for v in op.operands)
                continue
            if op.op_name == "mil.const" and self.writer.inline_const(op) is not None:
                continue  # written at its use
            ops.append(self.op(op, where))
        inputs = tuple(self.named(a, where) for a in block.args) if with_inputs else ()
        return MilBlock(inputs, tuple(ops), outputs)

    def named(self, value, where) -> MilNamedType:
        return MilNamedType(self.type(value.type, where), self.writer.var(value, where))

    def op(self, op, where) -> MilOp:
        from mlir_coreml.ir.dialects.mil.base import MilOp as IrMilOp

        name = op.location.name if op.location is not None and op.location.name else None
        here = f"{where}/{name or op.op_name}"
        results = tuple(self.named(r, here) for r in op.results)
        attributes: dict = {}
        if op.op_name in ("mil.const", "core.constant"):
            key = "val" if op.op_name == "mil.const" else "value"
            attributes["val"] = self.value(op.attributes[key], here)
            if isinstance(op.attributes[key], DenseResourceAttr):  # the result has the stored type (uint4...)
                results = (MilNamedType(attributes["val"].type, results[0].name),)
            for k, v in op.attributes.items():
                if k not in (key, "operand_segments"):
                    attributes[k] = self.value(v, here)
            if name is not None:  # coremlc invents no names [V: fp16-subnormal-cast fixture]
                attributes["name"] = _string(name)
            return MilOp(results, "const", (), _sorted_attributes(attributes))
        if not isinstance(op, IrMilOp):
            raise MlirCoremlError(f"op '{op.op_name}' is not a MIL op (only the mil dialect can be written "
                                  "as model.mil)", where)
        args = []
        for d in type(op).operand_defs:
            group = op.operand_group(d.name)
            if not group:
                continue
            items = tuple(self.binding(v, here) for v in group)
            args.append(MilArg(d.name, MilArgTuple(items) if d.variadic else items[0]))
        args.sort(key=lambda a: a.name)
        for k, v in op.attributes.items():
            if k != "operand_segments":
                attributes[k] = self.value(v, here)
        if name is not None:
            attributes["name"] = _string(name)
        blocks = tuple(self.block(region.blocks[0], here) for region in op.regions)
        op_type = op.mil_type or op.op_name[len("mil."):]
        return MilOp(results, op_type, tuple(args), _sorted_attributes(attributes), blocks)

    def binding(self, v, where):
        producer = getattr(v, "op", None)
        if producer is not None and producer.op_name == "mil.const" and self.writer.inline_const(producer):
            return self.value(producer.attributes["val"], where)
        return MilVar(self.writer.var(v, where))

    # -- types and values --------------------------------------------------------------------
    def _stored_type(self, attr: DenseResourceAttr, where):
        """A weight's type as stored (a sub-byte dtype such as uint4 keeps its name)."""
        t = self.type(attr.type, where)
        stored = self.weights.stored_dtype(attr)
        if isinstance(t, MilTensorType) and stored != t.dtype:
            return MilTensorType(stored, t.shape)
        return t

    def type(self, t, where):
        if isinstance(t, TensorType):
            dtype = MIL_DTYPE_NAMES.get(t.element.name)
            if dtype is None:
                raise MlirCoremlError(f"element type {t.element} has no MIL spelling", where)
            if t.shape is None:
                raise MlirCoremlError(f"unranked tensor type {t} cannot be written in model.mil", where)
            if len(t.shape) == 0:
                return MilScalarType(dtype)
            return MilTensorType(dtype, tuple(None if d is None else int(d) for d in t.shape))
        if isinstance(t, ListType):
            return MilListType(self.type(t.element, where), None)
        if isinstance(t, TupleType):
            return MilTupleType(tuple(self.type(e, where) for e in t.elements))
        if isinstance(t, DictType):
            return MilDictType(self.type(t.key, where), self.type(t.value, where))
        if isinstance(t, StateType):
            return MilStateType(self.type(t.wrapped, where))
        raise MlirCoremlError(f"type {t} has no model.mil form", where)

    def value(self, attr, where) -> MilValue:
        if isinstance(attr, DenseResourceAttr):
            path, offset = self.weights.reference(attr, where)
            return MilValue(self._stored_type(attr, where), (MilBlobFile(path, offset),))
        if isinstance(attr, DenseAttr):
            t = attr.type
            array = np.asarray(attr.value)
            element = t.element.name
            if array.ndim == 0:
                return MilValue(self.type(t, where), (_literal(array.reshape(()).item(), element),))
            return MilValue(self.type(t, where), (_nested(array, element),))
        if isinstance(attr, ArrayAttr):
            items = tuple(self.value(x, where) for x in attr.data)
            element = items[0].type if items else MilTensorType("fp32", (0,))
            return MilValue(MilListType(element, len(items)), items)
        if isinstance(attr, DictAttr):
            entries = tuple((MilString(k), MilString(self.plain_string(v))) for k, v in attr.data)
            return MilValue(MilDictType(MilScalarType("string"), MilScalarType("string")), (MilDict(entries),))
        if isinstance(attr, StringAttr):
            return _string(attr.value)
        if isinstance(attr, BoolAttr):
            return MilValue(MilScalarType("bool"), (MilBool(bool(attr.value)),))
        if isinstance(attr, IntAttr):
            return MilValue(MilScalarType("int32"), (MilNumber(str(int(attr.value))),))
        if isinstance(attr, FloatAttr):
            return MilValue(MilScalarType("fp32"), (MilNumber(_hex_float(float(attr.value))),))
        raise MlirCoremlError(f"attribute {attr!r} has no model.mil value form", where)


def _sorted_attributes(attributes: dict) -> tuple:
    return tuple(MilAttribute(k, attributes[k]) for k in sorted(attributes))


def _string(text: str) -> MilValue:
    return MilValue(MilScalarType("string"), (MilString(str(text)),))


def _nested(array: np.ndarray, element: str):
    if array.ndim == 1:
        return MilList(tuple(_literal(x, element) for x in array.tolist()))
    return MilList(tuple(_nested(sub, element) for sub in array))


def _literal(x, element: str):
    if element == "string":
        return MilString(str(x))
    if element == "bool":
        return MilBool(bool(x))
    if element in _FLOATS:
        return MilNumber(_hex_float(float(x)))
    return MilNumber(str(int(x)))


def _hex_float(x: float) -> str:
    """A float as C's `%a` prints it (`0x1.8p+0`, `-0x1p-3`), `inf`/`nan` for non-finite values."""
    if x != x:
        return "nan"
    if x in (float("inf"), float("-inf")):
        return "inf" if x > 0 else "-inf"
    text = x.hex()                      # '-0x1.8000000000000p+0'
    mantissa, exponent = text.split("p")
    if "." in mantissa:
        whole, fraction = mantissa.split(".")
        fraction = fraction.rstrip("0")
        mantissa = f"{whole}.{fraction}" if fraction else whole
    return f"{mantissa}p{exponent}"


# -- from a source model ---------------------------------------------------------------------

def lower_ml_program(path, output, pipeline: str | None = None, era: str | None = None) -> None:
    """Read an ML Program (any form, or a pipeline holding ML Programs), run `pipeline` (none by
    default: coremlc keeps the program as the source gives it, as far as model.mil shows) and
    write the bundle at `output` as coremlc of `era` would (default: 3520/3600)."""
    from mlir_coreml.frontend import load_model
    from mlir_coreml.frontend.pipeline import pipeline_models, spec_to_module
    from mlir_coreml.passes.manager import PassManager

    path = os.fspath(path)
    name = os.path.splitext(os.path.basename(path.rstrip("/")))[0]
    model_file = _source_model_file(path)
    source = None
    if model_file is not None:
        from mlir_coreml.ir.guard import read_file

        source = read_file(model_file, "protobuf")
        from mlir_coreml.frontend.mlpackage import parse_model

        spec = parse_model(model_file)
        model_dir = os.path.dirname(os.path.abspath(model_file))
        if pipeline_models(spec):
            from mlir_coreml.codegen.pipeline_bundle import write_pipeline_bundle

            if pipeline:
                raise MlirCoremlError("a pass pipeline cannot be applied to a pipeline model's stages yet", path)
            write_pipeline_bundle(spec, model_dir, output, name, source, era, model_file)
            return
        module = spec_to_module(spec, model_dir, model_file)
    else:
        module = load_model(path)
    if pipeline:
        PassManager.from_pipeline(pipeline).run(module)
    write_mlprogram_bundle(module, output, model_name=name, source_model=source, era=era)


def _source_model_file(path: str) -> str | None:
    """The Model protobuf file of an `.mlpackage` or `.mlmodel` (None for a compiled bundle)."""
    if path.rstrip("/").endswith(".mlpackage"):
        from mlir_coreml.frontend.mlpackage import root_model_path

        return root_model_path(os.path.abspath(path))
    return path if path.endswith(".mlmodel") else None
