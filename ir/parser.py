"""Parser for the textual IR: lark (LALR) builds a light tree, then a builder resolves SSA
names scope by scope and creates the operations. Errors carry `file:line:col`."""
from __future__ import annotations

import functools
import io
import os
import re
import sys
from typing import Any

import lark
import numpy as np
from lark import Token, v_args

from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.ir import guard
from mlir_coreml.ir.attributes import (ArrayAttr, BoolAttr, DenseAttr, DenseResourceAttr, DictAttr,
                                       FloatAttr, IntAttr, ResourceBlob, StringAttr, SymbolRefAttr,
                                       TypeAttr)
from mlir_coreml.ir.core import Block, Location, Operation, Region, Value
from mlir_coreml.ir.opdef import IsolatedFromAbove, lookup_op
from mlir_coreml.ir.types import (ELEMENT_TYPES, DictType, FunctionType, ListType, NoneType, StateType,
                                  TensorType, TupleType)

_ESCAPE = re.compile(r'\\([0-9A-Fa-f]{2}|.)')
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


def unquote(token: str) -> str:
    body = token[1:-1]
    if "\\" not in body:
        return body
    return substitute(_ESCAPE, lambda m: _SIMPLE_ESCAPES.get(m.group(1)) or chr(int(m.group(1), 16)), body)


def substitute(pattern: re.Pattern, replace, text: str) -> str:
    """`pattern.sub(replace, text)` in bounded memory: re.sub keeps two string objects per match
    until it joins them (~90 bytes per escape), so a long string of escapes is written through a
    buffer instead, one match at a time."""
    if len(text) < 1 << 16:
        return pattern.sub(replace, text)
    out, last = io.StringIO(), 0
    for m in pattern.finditer(text):
        out.write(text[last:m.start()])
        out.write(replace(m))
        last = m.end()
    out.write(text[last:])
    return out.getvalue()


def name_of(token: str) -> str:
    """`%x`, `@x`, `^x`, `%"a/b"` -> the bare name."""
    body = token[1:] if token[0] in "%@^" else token
    return unquote(body) if body.startswith('"') else body


def parse_tensor_type(text: str) -> TensorType:
    parts = text[len("tensor<"):-1].split("x")
    element = ELEMENT_TYPES[parts[-1]]
    if parts[0] == "*":
        return TensorType(None, element)
    return TensorType(tuple(None if d == "?" else int(d) for d in parts[:-1]), element)


def _items(children) -> list:
    return [] if children == [None] else list(children)


@v_args(inline=True)
class _TreeBuilder(lark.Transformer):
    """Bottom-up: types and attributes become IR objects; ops become plain tuples."""

    def __init__(self, blobs: dict[str, ResourceBlob]):
        super().__init__()
        self.blobs = blobs

    # types
    def tensor_type(self, tok):
        return parse_tensor_type(str(tok))

    def element_type(self, tok):
        return ELEMENT_TYPES[str(tok)]

    def list_type(self, t):
        return ListType(t)

    def tuple_type(self, seq):
        return TupleType(seq or ())

    def dict_type(self, k, v):
        return DictType(k, v)

    def state_type(self, t):
        return StateType(t)

    def none_type(self):
        return NoneType()

    @v_args(inline=False)
    def type_seq(self, children):
        return tuple(children)

    def function_type(self, seq, results):
        return FunctionType(seq or (), results)

    def single_result(self, t):
        return (t,)

    def multi_result(self, seq):
        return seq or ()

    # attributes
    def int_attr(self, tok):
        return IntAttr(int(tok))

    def float_attr(self, tok):
        return FloatAttr(float(tok))

    def true_attr(self):
        return BoolAttr(True)

    def false_attr(self):
        return BoolAttr(False)

    def string_attr(self, tok):
        return StringAttr(unquote(str(tok)))

    @v_args(inline=False)
    def array_attr(self, children):
        return ArrayAttr(tuple(_items(children)))

    def dict_attr(self, entries):
        return DictAttr(entries)

    @v_args(inline=False)
    def attr_dict(self, children):
        return tuple(_items(children))

    def attr_entry(self, key, value):
        key = str(key)
        return (unquote(key) if key.startswith('"') else key, value)

    def symbol_attr(self, tok):
        return SymbolRefAttr(name_of(str(tok)))

    def type_attr(self, t):
        return TypeAttr(t)

    def dense_attr(self, value, tok):
        return make_dense(value, parse_tensor_type(str(tok)), tok)

    def resource_attr(self, name_tok, type_tok):
        name = name_of(str(name_tok))
        blob = self.blobs.setdefault(name, ResourceBlob())
        return DenseResourceAttr(name, parse_tensor_type(str(type_tok)), blob)

    def dense_true(self):
        return True

    def dense_false(self):
        return False

    @v_args(inline=False)
    def dense_list(self, children):
        return _items(children)

    # structure
    @v_args(inline=False)
    def value_uses(self, children):
        return list(children)

    @v_args(inline=False)
    def results(self, children):
        return list(children)

    def func_arg(self, tok, t):
        return (tok, t)

    @v_args(inline=False)
    def func_args(self, children):
        return list(children)

    def loc(self, tok):
        return unquote(str(tok))

    @v_args(inline=False)
    def regions(self, children):
        return list(children)

    def region(self, entry, *labeled):
        blocks = [] if entry is None else [entry]
        return blocks + list(labeled)

    @v_args(inline=False)
    def entry_block(self, ops):
        return (None, [], ops)

    def labeled_block(self, label, *ops):
        return (label[0], label[1], list(ops))

    def block_label(self, tok, args):
        return (name_of(str(tok)), args or [])

    def op(self, results, body, loc):
        return ("op", results or [], body, loc)

    def generic_op(self, name, uses, regions, attrs, ftype):
        return ("generic", name, unquote(str(name)), uses or [], regions or [], attrs or (), ftype)

    def compact_op(self, name, uses, regions, attrs, types):
        return ("compact", name, str(name), uses or [], regions or [], attrs or (), types)

    def func_op(self, sym, args, results, attrs, region):
        return ("func", sym, args or [], results or (), attrs or (), region)

    def module_op(self, sym, attrs, region):
        return ("module", sym, attrs or (), region)

    @v_args(inline=False)
    def start(self, items):
        return items


def _dense_scalar(x, element, tok):
    if element.name == "string":
        return unquote(str(x))
    if element.name == "bool":
        return bool(x)
    text = str(x)
    return float(text) if element.is_float else int(text)


def make_dense(value, tensor: TensorType, tok) -> DenseAttr:
    element = tensor.element
    try:
        dtype = element.numpy_dtype
        if not isinstance(value, list):
            array = np.full(tensor.shape or (), _dense_scalar(value, element, tok), dtype=dtype)
        else:
            array = np.array(_map_nested(value, lambda x: _dense_scalar(x, element, tok)), dtype=dtype)
            if array.size == 0 and tensor.num_elements == 0:
                array = array.reshape(tensor.shape)
            if array.shape != tensor.shape:
                raise ValueError(f"dense literal has shape {array.shape} but the type says {tensor}")
    except (TypeError, ValueError, OverflowError) as e:
        raise _TokenError(str(e), tok) from None
    return DenseAttr(array, tensor)


def _map_nested(value, fn):
    return [_map_nested(v, fn) for v in value] if isinstance(value, list) else fn(value)


class _TokenError(Exception):
    def __init__(self, message, token):
        super().__init__(message)
        self.token = token


def regex_text(pattern: str) -> str:
    """`pattern` for this Python: possessive repeats (`*+`, 3.11 and later) become plain ones
    before that, still correct, only costlier on long strings."""
    return pattern if sys.version_info >= (3, 11) else pattern.replace("*+", "*")


def grammar_text(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        return regex_text(f.read())


@functools.lru_cache(maxsize=None)
def _grammar() -> str:
    return grammar_text(os.path.join(os.path.dirname(__file__), "grammar.lark"))


class _Builder:
    """Creates ops from the tuple tree with MLIR's scoping: names are visible in nested
    regions unless the op is IsolatedFromAbove; redefinitions and undefined uses are errors."""

    def __init__(self, filename: str):
        self.filename = filename
        self.scopes: list[tuple[dict[str, Value], bool]] = []

    def error(self, message: str, tok) -> MlirCoremlError:
        where = f"{self.filename}:{tok.line}:{tok.column}" if isinstance(tok, Token) else self.filename
        return MlirCoremlError(message, where)

    def lookup(self, tok) -> Value:
        name = name_of(str(tok))
        for names, isolated in reversed(self.scopes):
            if name in names:
                return names[name]
            if isolated:
                break
        raise self.error(f"use of undefined value %{name}", tok)

    def define(self, tok, value: Value) -> None:
        name = name_of(str(tok))
        for names, isolated in reversed(self.scopes):
            if name in names:
                raise self.error(f"redefinition of SSA value %{name}", tok)
            if isolated:
                break
        value.name = name
        self.scopes[-1][0][name] = value

    def build_block(self, spec, block: Block | None = None) -> Block:
        label, args, ops = spec
        if block is None:
            block = Block([t for _, t in args])
            block.label = label
        for (tok, _), arg in zip(args, block.args):
            self.define(tok, arg)
        for op_spec in ops:
            block.append(self.build_op(op_spec))
        return block

    def build_region(self, blocks, isolated: bool, entry: Block | None = None) -> Region:
        self.scopes.append(({}, isolated))
        try:
            region = Region()
            for i, spec in enumerate(blocks):
                region.add_block(self.build_block(spec, entry if i == 0 else None))
            if entry is not None and not blocks:
                region.add_block(entry)
            return region
        finally:
            self.scopes.pop()

    def build_op(self, spec) -> Operation:
        _, result_toks, body, loc = spec
        kind = body[0]
        if kind == "func":
            op, tok = self.build_func(body), body[1]
        elif kind == "module":
            op, tok = self.build_module(body), None
        else:
            op, tok = self.build_plain(body, len(result_toks)), body[1]
        if loc is not None:
            op.location = Location(name=loc)
        elif isinstance(tok, Token):
            op.location = Location(file=self.filename, line=tok.line, col=tok.column)
        if len(result_toks) != len(op.results):
            raise self.error(f"'{op.op_name}' has {len(op.results)} results but {len(result_toks)} names",
                             result_toks[0] if result_toks else tok)
        for t, r in zip(result_toks, op.results):
            self.define(t, r)
        return op

    def new_op(self, name: str, operands, result_types, attrs, location=None) -> Operation:
        cls = lookup_op(name)
        if cls is None:
            return Operation(operands, result_types, dict(attrs), name=name)
        op = object.__new__(cls)
        Operation.__init__(op, operands, result_types, dict(attrs))
        return op

    def build_plain(self, body, n_results: int) -> Operation:
        _, tok, name, use_toks, region_specs, attrs, types = body
        operands = [self.lookup(t) for t in use_toks]
        if isinstance(types, FunctionType):
            ins, outs = types.inputs, types.results
        elif types is None:
            ins, outs = (), ()
        elif len(types) == 1 and (operands or n_results):
            ins, outs = types * len(operands), types * n_results
        elif n_results == 0:
            ins, outs = types, ()
        else:
            raise self.error(f"'{name}': expected one type or a function type", tok)
        if len(ins) != len(operands):
            raise self.error(f"'{name}' has {len(operands)} operands but {len(ins)} operand types", tok)
        for t, v, u in zip(ins, operands, use_toks):
            if t != v.type:
                raise self.error(f"%{name_of(str(u))} has type {v.type} but is used as {t}", u)
        op = self.new_op(name, operands, outs, attrs)
        isolated = op.has_trait(IsolatedFromAbove)
        for spec in region_specs:
            op.add_region(self.build_region(spec, isolated))
        return op

    def build_func(self, body) -> Operation:
        _, sym, args, results, attrs, region_spec = body
        arg_types = [t for _, t in args]
        fn_type = FunctionType(tuple(arg_types), tuple(results))
        all_attrs = [("sym_name", StringAttr(name_of(str(sym)))), ("function_type", TypeAttr(fn_type)), *attrs]
        op = self.new_op("func.func", [], [], all_attrs)
        if region_spec is not None:
            entry = Block(arg_types)
            self.scopes.append(({}, True))
            try:
                for (tok, _), arg in zip(args, entry.args):
                    self.define(tok, arg)
                blocks = region_spec
                if blocks and blocks[0][0] is None:
                    for op_spec in blocks[0][2]:
                        entry.append(self.build_op(op_spec))
                    blocks = blocks[1:]
                region = Region([entry])
                for spec in blocks:
                    region.add_block(self.build_block(spec))
            finally:
                self.scopes.pop()
            op.add_region(region)
        return op

    def build_module(self, body) -> Operation:
        _, sym, attrs, region_spec = body
        all_attrs = ([("sym_name", StringAttr(name_of(str(sym))))] if sym is not None else []) + list(attrs)
        op = self.new_op("builtin.module", [], [], all_attrs)
        op.add_region(self.build_region(region_spec or [(None, [], [])], isolated=True))
        return op


def _fill_resources(entries, blobs: dict[str, ResourceBlob], attrs_by_name) -> None:
    for token, raw, where in entries:
        name = name_of(token)
        attr = attrs_by_name.get(name)
        if attr is None:
            continue  # unused resources are dropped, like MLIR
        size = len(raw) - 4  # after the 4-byte alignment prefix
        dtype = attr.type.element.numpy_dtype
        count = attr.type.num_elements
        if count is None or size != count * dtype.itemsize:
            raise MlirCoremlError(f"resource '{name}' has {max(size, 0)} bytes but {attr.type} needs "
                                  f"{(count or 0) * dtype.itemsize}", where)
        blobs[name]._array = np.frombuffer(raw, dtype=dtype, offset=4).reshape(attr.type.shape)


def _resource_attrs(attrs):
    """The dense_resource attributes among `attrs`, including those nested in arrays and dicts."""
    for a in attrs:
        if isinstance(a, DenseResourceAttr):
            yield a
        elif isinstance(a, ArrayAttr):
            yield from _resource_attrs(a.data)
        elif isinstance(a, DictAttr):
            yield from _resource_attrs(v for _, v in a.data)


def parse_module(text: str | bytes, filename: str = "<string>") -> Operation:
    """Parse IR text (str, or UTF-8 bytes) into a `builtin.module` (top-level ops without one
    get an implicit module). The trailing resources section is read by ir/resource_section.py."""
    from mlir_coreml.ir import resource_section
    from mlir_coreml.ir.dialects.builtin import ModuleOp

    start = resource_section.split(text)
    entries = resource_section.read_entries(text, start, filename) if start < len(text) else None
    head = text[:start]
    if isinstance(head, bytes):
        try:
            head = head.decode("utf-8")
        except UnicodeDecodeError as e:
            raise MlirCoremlError(f"not UTF-8 text (byte {e.start})", filename) from None
    blobs: dict[str, ResourceBlob] = {}
    try:
        items = _parser(blobs).parse(head)
    except lark.exceptions.UnexpectedInput as e:
        raise MlirCoremlError(_describe(e, text), f"{filename}:{e.line}:{e.column}") from None
    except _TokenError as e:
        raise MlirCoremlError(str(e), f"{filename}:{e.token.line}:{e.token.column}") from None
    ops = [x for x in items if x[0] == "op"]
    builder = _Builder(filename)
    builder.scopes.append(({}, True))
    built = [builder.build_op(spec) for spec in ops]
    if len(built) == 1 and built[0].op_name == "builtin.module":
        module = built[0]
    else:
        module = ModuleOp.create()
        for op in built:
            module.body.append(op)
    if entries:
        attrs_by_name = {}
        for op in module.walk():
            for a in _resource_attrs(op.attributes.values()):
                attrs_by_name.setdefault(a.name, a)
        _fill_resources(entries, blobs, attrs_by_name)
    return module


_PARSERS: dict[int, Any] = {}


class _Depth:
    """Counts open brackets as the lexer meets them (regions and dicts `{`, arrays `[`, types
    `<`), so text nested past the guard's limit stops at the token that crosses it, before any
    recursive step (tree building, printing) sees it."""

    OPEN = ("LBRACE", "LSQB", "LESSTHAN")
    CLOSE = ("RBRACE", "RSQB", "MORETHAN")

    def __init__(self):
        self.depth = 0
        self.limit = 0

    def reset(self) -> None:
        self.depth = 0
        self.limit = guard.limit("nesting")

    def open(self, tok):
        self.depth += 1
        if self.depth > self.limit:
            raise _TokenError(guard.nesting_error(self.depth, None).message, tok)
        return tok

    def close(self, tok):
        self.depth -= 1
        return tok


def _parser(blobs):
    # The transformer needs the per-parse blob table, so keep one LALR table and swap it in.
    base = _PARSERS.get(0)
    if base is None:
        depth = _Depth()
        callbacks = {**{name: depth.open for name in _Depth.OPEN}, **{name: depth.close for name in _Depth.CLOSE}}
        base = lark.Lark(_grammar(), parser="lalr", lexer="contextual", maybe_placeholders=True,
                         transformer=_TreeBuilder({}), lexer_callbacks=callbacks)
        base.depth = depth
        _PARSERS[0] = base
    base.options.transformer.blobs = blobs
    base.depth.reset()
    return base


def _describe(e: lark.exceptions.UnexpectedInput, text: str) -> str:
    if isinstance(e, lark.exceptions.UnexpectedEOF):
        return "unexpected end of input"
    if isinstance(e, lark.exceptions.UnexpectedToken):
        expected = sorted(_pretty_terminal(t) for t in e.expected if not t.startswith("__"))
        got = "end of input" if e.token.type == "$END" else repr(str(e.token))
        return f"unexpected {got}; expected {', '.join(expected[:8]) or 'something else'}"
    if isinstance(e, lark.exceptions.UnexpectedCharacters):
        return f"unexpected character {text[e.pos_in_stream]!r}"
    return str(e)


_TERMINAL_NAMES = {"VALUE_ID": "%value", "SYMBOL": "@symbol", "OP_NAME": "op name", "STRING": "string",
                   "TENSOR_TYPE": "tensor type", "ELEMENT_TYPE": "element type", "INT": "integer",
                   "FLOAT": "float", "BARE_ID": "identifier", "BLOCK_ID": "^block", "RESOURCE_NAME": "resource name",
                   "LPAR": "'('", "RPAR": "')'", "LBRACE": "'{'", "RBRACE": "'}'", "LSQB": "'['", "RSQB": "']'",
                   "COMMA": "','", "COLON": "':'", "EQUAL": "'='", "LESSTHAN": "'<'", "MORETHAN": "'>'"}


def _pretty_terminal(name: str) -> str:
    return _TERMINAL_NAMES.get(name, name.lower().replace("_", " "))
