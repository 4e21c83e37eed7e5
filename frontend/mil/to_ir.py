"""ML Programs into `mil` IR, from either form: the protobuf of an `.mlpackage` (frontend/mlpackage.py
decodes it) or the `model.mil` text of a compiled `.mlmodelc` (the AST of frontend/mil/text.py).

Both decoders produce the records below, and `build_module` turns records into one IR module,
so the two forms of the same program give the same IR.
"""
from __future__ import annotations

import os
from collections import ChainMap
from dataclasses import dataclass, field

import numpy as np

from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.ir.attributes import (ArrayAttr, Attribute, DenseAttr, DenseResourceAttr, DictAttr,
                                       StringAttr)
from mlir_coreml.ir.core import Block, Location, Region
from mlir_coreml.ir.dialects.builtin import ModuleOp
from mlir_coreml.ir.dialects.func import FuncOp, ReturnOp
from mlir_coreml.ir.guard import check_elements, check_depth
from mlir_coreml.ir.dialects.mil import MIL_DTYPES, MIL_OPS, OPSETS
from mlir_coreml.ir.dialects.mil.base import SUB_BYTE_BITS
from mlir_coreml.ir.dialects.mil.control import ConstOp, YieldOp, value_type
from mlir_coreml.ir.opdef import build
from mlir_coreml.ir.types import DictType, ListType, StateType, TensorType, TupleType, Type

MAX_DIM = 1 << 31


# -- records (what both decoders produce) --------------------------------------------------

@dataclass
class BlockRecord:
    inputs: list[tuple[str, Type]]
    ops: list[OpRecord]
    outputs: list[str]


@dataclass
class OpRecord:
    op_type: str
    inputs: dict[str, list]            # parameter -> bindings: a variable name (str) or a literal (Attribute)
    outputs: list[tuple[str, Type]]
    attributes: dict[str, Attribute]   # MIL op attributes except `name`
    name: str | None
    blocks: list[BlockRecord] = field(default_factory=list)
    where: str | None = None           # for errors: file:line or file:function/op


@dataclass
class FunctionRecord:
    name: str
    opset: str
    inputs: list[tuple[str, Type]]
    body: BlockRecord
    attributes: dict[str, Attribute] = field(default_factory=dict)


# -- types and values shared by both decoders ----------------------------------------------

def tensor_type(dtype: str, shape, where: str | None) -> TensorType:
    """`tensor<dtype, shape>` with MIL dtype names; None dims are dynamic. Refuses absurd shapes."""
    element = MIL_DTYPES.get(dtype)
    if element is None:
        raise MlirCoremlError(f"unsupported MIL element type '{dtype}'", where)
    if shape is None:
        return TensorType(None, element)
    dims = []
    total = 1
    for d in shape:
        if d is None:
            dims.append(None)
            continue
        d = int(d)
        if d < 0 or d > MAX_DIM:
            raise MlirCoremlError(f"tensor dimension {d} is out of range", where)
        total *= d
        dims.append(d)
    check_elements(total, where, f"tensor shape {tuple(dims)}")
    return TensorType(tuple(dims), element)


def normalize_opset(opset: str) -> str:
    return OPSETS.get(opset, opset)


def unpack_sub_byte(raw: np.ndarray, dtype: str, count: int) -> np.ndarray:
    """Unpack `count` sub-byte values (little-endian bit order) to one value per byte."""
    from mlir_coreml.ir.dialects.mil.control import unpack_bits

    nbits = SUB_BYTE_BITS[dtype]
    values = unpack_bits(raw, nbits, count)
    if dtype == "int4":
        return np.where(values >= 8, values.astype(np.int16) - 16, values).astype(np.int8)
    return values.astype(np.uint8)


# -- building the IR -----------------------------------------------------------------------

class _Builder:
    def __init__(self, filename: str):
        self.filename = filename
        self.inline_count = 0

    def function(self, record: FunctionRecord) -> FuncOp:
        arg_types = [t for _, t in record.inputs]
        names = [n for n, _ in record.inputs]
        attrs = {"opset": normalize_opset(record.opset), **record.attributes}
        fn = FuncOp.create(record.name, arg_types, [], names, attrs)
        scope = ChainMap(dict(zip(names, fn.body.args)))
        results = self.block_ops(record.body, fn.body, scope, f"{self.filename}:{record.name}", 0)
        fn.body.append(build(ReturnOp, results, []))
        fn.set_result_types([v.type for v in results])
        return fn

    def block_ops(self, record: BlockRecord, block: Block, scope: ChainMap, where: str, depth: int) -> list:
        check_depth(depth, where)
        for op_record in record.ops:
            self.op(op_record, block, scope, depth)
        outputs = []
        for name in record.outputs:
            if name not in scope:
                raise MlirCoremlError(f"block output '{name}' is not defined", where)
            outputs.append(scope[name])
        return outputs

    def op(self, r: OpRecord, block: Block, scope: ChainMap, depth: int) -> None:
        where = r.where or (f"{self.filename}:{r.name}" if r.name else self.filename)
        cls = MIL_OPS.get(r.op_type)
        if cls is None:
            raise MlirCoremlError(f"unknown MIL op '{r.op_type}' (not in the mil dialect; add it to "
                                  f"ir/dialects/mil/ to import this model)", where)
        if not r.outputs and cls.result_defs:
            raise MlirCoremlError(f"'{r.op_type}' op has no outputs", where)
        location = Location(r.name) if r.name is not None else None
        result_types = [t for _, t in r.outputs]
        result_names = [n for n, _ in r.outputs]
        if cls is ConstOp:
            op = self.const(r, where, location)
        else:
            operands = self.operands(cls, r, block, scope, where)
            regions = [self.region(b, scope, where, depth + 1) for b in r.blocks]
            if len(regions) != len(cls.region_defs):
                raise MlirCoremlError(f"'{r.op_type}' expects {len(cls.region_defs)} block(s), "
                                      f"got {len(regions)}", where)
            stem = result_names[0] if result_names else r.op_type
            attrs = {k: DenseResourceAttr(f"{stem}_{k}", v.type, v.blob) if isinstance(v, DenseResourceAttr) else v
                     for k, v in r.attributes.items()}  # weights carried as attributes (iOS16 constexpr)
            op = build(cls, operands, result_types, attrs, regions, location, result_names)
        if len(op.results) != len(r.outputs):
            raise MlirCoremlError(f"'{r.op_type}' declares {len(r.outputs)} outputs", where)
        block.append(op)
        for name, value in zip(result_names, op.results):
            scope[name] = value

    def const(self, r: OpRecord, where: str, location):
        val = r.attributes.get("val")
        if not _is_constant(val):
            raise MlirCoremlError("const op without a tensor (or list of tensors) 'val' attribute", where)
        if len(r.outputs) != 1:
            raise MlirCoremlError("const op must have one output", where)
        name, out_type = r.outputs[0]
        if out_type != value_type(val):
            raise MlirCoremlError(f"const output is declared {out_type} but its value is {value_type(val)}", where)
        if isinstance(val, DenseResourceAttr):  # name the weight after its variable
            val = DenseResourceAttr(name, val.type, val.blob)
        extra = {k: v for k, v in r.attributes.items() if k != "val"}
        return build(ConstOp, [], [out_type], {"val": val, **extra}, location=location, result_names=[name])

    def operands(self, cls, r: OpRecord, block: Block, scope: ChainMap, where: str) -> dict:
        defs = {d.name: d for d in cls.operand_defs}
        operands = {}
        for param, bindings in r.inputs.items():
            d = defs.get(param)
            if d is None:
                raise MlirCoremlError(f"'{r.op_type}' has no parameter '{param}' (known: "
                                      f"{', '.join(defs)})", where)
            values = [self.binding(b, param, block, scope, where) for b in bindings]
            if d.variadic:
                operands[param] = values
            elif len(values) != 1:
                raise MlirCoremlError(f"'{r.op_type}' parameter '{param}' takes one value, got {len(values)}", where)
            else:
                operands[param] = values[0]
        for name, d in defs.items():
            if not d.optional and not d.variadic and name not in operands and name not in r.attributes:
                raise MlirCoremlError(f"'{r.op_type}' is missing required parameter '{name}'", where)
        return operands

    def binding(self, b, param: str, block: Block, scope: ChainMap, where: str):
        if isinstance(b, str):
            value = scope.get(b)
            if value is None:
                raise MlirCoremlError(f"parameter '{param}' uses undefined variable '{b}'", where)
            return value
        # An inline literal becomes a const just before its user, without a location and named
        # `<param>_inline_<n>` (the exporter writes such consts back inline).
        self.inline_count += 1
        name = f"{param}_inline_{self.inline_count}"
        if isinstance(b, DenseResourceAttr):
            b = DenseResourceAttr(name, b.type, b.blob)
        if not _is_constant(b):
            raise MlirCoremlError(f"parameter '{param}' has an inline value that is not a tensor", where)
        op = build(ConstOp, [], [value_type(b)], {"val": b}, result_names=[name])
        block.append(op)
        return op.result

    def region(self, record: BlockRecord, scope: ChainMap, where: str, depth: int) -> Region:
        block = Block([t for _, t in record.inputs], [n for n, _ in record.inputs])
        inner = scope.new_child(dict(zip((n for n, _ in record.inputs), block.args)))
        results = self.block_ops(record, block, inner, where, depth)
        block.append(build(YieldOp, results, []))
        return Region([block])


def _is_constant(attr) -> bool:
    """A tensor, or a non-empty list of tensors (what `mil.const` can hold)."""
    if isinstance(attr, ArrayAttr):
        return bool(attr.data) and all(isinstance(x, (DenseAttr, DenseResourceAttr)) for x in attr.data)
    return isinstance(attr, (DenseAttr, DenseResourceAttr))


def build_module(functions: list[FunctionRecord], attributes: dict[str, Attribute], filename: str) -> ModuleOp:
    """The IR module of an ML Program: one func.func per function (in the given order)."""
    module = ModuleOp.create()
    for key, value in attributes.items():
        module.attributes[key] = value
    builder = _Builder(filename)
    for record in functions:
        module.body.append(builder.function(record))
    return module


# -- model.mil text ------------------------------------------------------------------------

def read_mil(path: str):
    """Read a `model.mil` file (BLOBFILE paths resolve inside the bundle that holds it)."""
    from mlir_coreml.frontend.mil.text import parse_mil

    from mlir_coreml.ir.guard import read_text

    text = read_text(path, "text", root=os.path.dirname(os.path.abspath(path)))
    program = parse_mil(text, filename=path)
    return program_to_module(program, os.path.dirname(os.path.abspath(path)), path)


def program_to_module(program, bundle_dir: str, filename: str) -> ModuleOp:
    """A parsed `model.mil` program as IR; `bundle_dir` is what `@model_path` names."""
    from mlir_coreml.frontend.mlpackage import BlobStore

    decoder = _TextDecoder(BlobStore(bundle_dir, filename), filename)
    functions = [decoder.function(f) for f in program.functions]
    attributes = {"mil.program_version": StringAttr(program.version)}
    if program.attributes:
        attributes["mil.attributes"] = DictAttr(tuple((a.name, decoder.value(a.value, filename))
                                                      for a in program.attributes))
    return build_module(functions, attributes, filename)


class _TextDecoder:
    def __init__(self, blobs, filename: str):
        self.blobs = blobs
        self.filename = filename

    def where(self, line: int) -> str:
        return f"{self.filename}:{line}" if line else self.filename

    def type(self, t, where) -> Type:
        from mlir_coreml.frontend.mil import text as T

        if isinstance(t, T.MilScalarType):
            return tensor_type(t.dtype, (), where)
        if isinstance(t, T.MilTensorType):
            return tensor_type(t.dtype, [d if isinstance(d, int) else None for d in t.shape], where)
        if isinstance(t, T.MilListType):
            return ListType(self.type(t.element, where))
        if isinstance(t, T.MilTupleType):
            return TupleType(tuple(self.type(e, where) for e in t.elements))
        if isinstance(t, T.MilDictType):
            return DictType(self.type(t.key, where), self.type(t.value, where))
        if isinstance(t, T.MilStateType):
            return StateType(self.type(t.wrapped, where))
        raise MlirCoremlError(f"unsupported MIL type {type(t).__name__}", where)

    def named(self, items, where) -> list[tuple[str, Type]]:
        return [(x.name, self.type(x.type, where)) for x in items]

    def function(self, f) -> FunctionRecord:
        where = f"{self.filename}:{f.name}"
        attrs = {}
        # FlexibleShapeInformation restates the description's shape flexibility (coremldata.bin
        # holds it; the bundle writer derives the attribute from there again).
        kept = [a for a in f.attributes if a.name != "FlexibleShapeInformation"]
        if kept:
            attrs["mil.attributes"] = DictAttr(tuple((a.name, self.value(a.value, where)) for a in kept))
        return FunctionRecord(f.name, f.opset, self.named(f.inputs, where), self.block(f.body, where), attrs)

    def block(self, b, where, depth: int = 0) -> BlockRecord:
        check_depth(depth, where)  # before descending: the walk below recurses per level
        return BlockRecord(self.named(b.inputs, where), [self.op(op, depth) for op in b.ops], list(b.outputs))

    def op(self, op, depth: int = 0) -> OpRecord:
        from mlir_coreml.frontend.mil import text as T

        where = self.where(op.line)
        inputs = {}
        for arg in op.args:
            v = arg.value
            items = v.items if isinstance(v, T.MilArgTuple) else (v,)
            inputs[arg.name] = [x.name if isinstance(x, T.MilVar) else self.value(x, where) for x in items]
        name, attrs = None, {}
        for a in op.attributes:
            if a.name == "name":
                name = str(self.value(a.value, where).value)
            else:
                attrs[a.name] = self.value(a.value, where)
        return OpRecord(op.op_type, inputs, self.named(op.results, where), attrs, name,
                        [self.block(b, where, depth + 1) for b in op.blocks], where)

    def value(self, v, where) -> Attribute:
        """A typed MIL literal as an attribute (tensors as dense, BLOBFILE as dense_resource)."""
        from mlir_coreml.frontend.mil import text as T

        if isinstance(v.type, T.MilDictType):
            entries = v.items[0].entries if v.items and isinstance(v.items[0], T.MilDict) else ()
            return DictAttr(tuple((str(_literal(k)), self.plain(val, where)) for k, val in entries))
        if isinstance(v.type, (T.MilListType, T.MilTupleType)):
            return ArrayAttr(tuple(self.value(x, where) if isinstance(x, T.MilValue) else self.plain(x, where)
                                   for x in v.items))
        ty = self.type(v.type, where)
        if len(v.items) == 1 and isinstance(v.items[0], T.MilBlobFile):
            blob = v.items[0]
            dtype = v.type.dtype
            return self.blobs.resource(blob.path, blob.offset, ty, dtype, where)
        if ty.shape is None or None in ty.shape:
            raise MlirCoremlError("a literal needs a static shape", where)
        flat = _flatten(v.items)
        dtype = np.dtype(object) if ty.element.name == "string" else ty.element.numpy_dtype
        count = int(np.prod(ty.shape, dtype=np.int64))
        if len(flat) != count:
            raise MlirCoremlError(f"literal has {len(flat)} values for type with {count}", where)
        try:
            array = np.array(flat, dtype=dtype).reshape(ty.shape)
        except (TypeError, ValueError, OverflowError) as e:
            raise MlirCoremlError(f"bad literal for {ty}: {e}", where) from None
        return DenseAttr(array, ty)

    def plain(self, x, where) -> Attribute:
        from mlir_coreml.frontend.mil import text as T
        from mlir_coreml.ir.attributes import to_attr

        if isinstance(x, T.MilValue):
            return self.value(x, where)
        return to_attr(_literal(x))


def _literal(x):
    from mlir_coreml.frontend.mil import text as T

    if isinstance(x, (T.MilNumber, T.MilString, T.MilBool)):
        return x.value
    if isinstance(x, T.MilValue) and len(x.items) == 1:
        return _literal(x.items[0])
    raise MlirCoremlError(f"unsupported literal {type(x).__name__}")


def _flatten(items) -> list:
    from mlir_coreml.frontend.mil import text as T

    out = []
    for x in items:
        if isinstance(x, T.MilList):
            out.extend(_flatten(x.items))
        else:
            out.append(_literal(x))
    return out
