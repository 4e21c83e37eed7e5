"""`model.mil` text, at the data level: an AST of frozen dataclasses and its parser.

`model.mil` is what coremlc writes into an ML Program `.mlmodelc` (docs/coreml-formats.md §5).
The AST mirrors the text one to one so that `codegen.mil_text.print_mil` reproduces a file in
coremlc's layout byte for byte: numbers keep the spelling they were written with, types keep
whether a scalar was written `fp16` or `tensor<fp16, []>`. A later step lowers it to `mil.*` IR.

Evidence for the syntax: the `add_model.mlmodelc/model.mil` of apple/coremltools (program
attributes, `tensor<string, []>` spellings, op and func indentation), the exact lines that
coremltools' tests expect from coremlc (BLOBFILE, `uint1` constexpr arguments, `string(...)`
scalars of program(1.3)) and third-party files (`state<...>` inputs, hex floats, function
attributes). No public file shows nested blocks, so their layout here (`{ ... } -> (outs)` after
the op, inputs in parentheses before the brace) is our own convention.
"""
from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass, field
from typing import Union

import lark
from lark import Token, v_args

from mlir_coreml.ir.parser import regex_text, substitute
from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.ir import guard

# -- types -----------------------------------------------------------------------------------

SCALAR_TYPES = frozenset({
    "bool", "string",
    "fp8e4m3fn", "fp8e5m2", "bf16", "fp16", "fp32", "fp64",
    "int4", "int8", "int16", "int32", "int64",
    "uint1", "uint2", "uint3", "uint4", "uint6", "uint8", "uint16", "uint32", "uint64",
})


@dataclass(frozen=True, slots=True)
class MilScalarType:
    """`fp16`, `string`, …: a scalar written without `tensor<…>`."""
    dtype: str


@dataclass(frozen=True, slots=True)
class MilTensorType:
    """`tensor<fp16, [1, ?, n]>`: a dim is an int, None for `?`, or a symbol name."""
    dtype: str
    shape: tuple[int | str | None, ...]


@dataclass(frozen=True, slots=True)
class MilListType:
    """`list<tensor<fp32, [2]>, 4>`; length None is `?`."""
    element: MilType
    length: int | None


@dataclass(frozen=True, slots=True)
class MilTupleType:
    elements: tuple[MilType, ...]


@dataclass(frozen=True, slots=True)
class MilDictType:
    key: MilType
    value: MilType


@dataclass(frozen=True, slots=True)
class MilStateType:
    """`state<tensor<fp16, [1, 64]>>`: a stateful input (iOS 18)."""
    wrapped: MilType


MilType = Union[MilScalarType, MilTensorType, MilListType, MilTupleType, MilDictType, MilStateType]

# -- literals --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MilNumber:
    """A number exactly as written (`1`, `-0x1.388p+13`, `0.5`, `inf`); `.value` interprets it."""
    text: str

    @property
    def value(self) -> int | float:
        text = self.text
        if "x" in text or "X" in text:
            return float.fromhex(text)
        if any(c in text for c in ".eEin"):
            return float(text)
        return int(text)


@dataclass(frozen=True, slots=True)
class MilString:
    value: str


@dataclass(frozen=True, slots=True)
class MilBool:
    value: bool


@dataclass(frozen=True, slots=True)
class MilList:
    """`[a, b]`: tensor elements (nested for rank > 1)."""
    items: tuple[MilLiteral, ...]


@dataclass(frozen=True, slots=True)
class MilTuple:
    """`(a, b)` inside a literal."""
    items: tuple[MilLiteral, ...]


@dataclass(frozen=True, slots=True)
class MilDict:
    """`{{k, v}, …}`."""
    entries: tuple[tuple[MilLiteral, MilLiteral], ...]


@dataclass(frozen=True, slots=True)
class MilBlobFile:
    """`BLOBFILE(path = string("@model_path/weights/weight.bin"), offset = uint64(64))`.

    `offset` points at the blob's metadata record in weight.bin (§4). Older compilers spell the
    two types `tensor<string, []>` / `tensor<uint64, []>`; the types are kept to print them back.
    """
    path: str
    offset: int
    path_type: MilType = MilScalarType("string")
    offset_type: MilType = MilScalarType("uint64")


@dataclass(frozen=True, slots=True)
class MilValue:
    """A typed literal `type(items…)`: `int32(1)`, `tensor<int32, [2]>([1, 1])`, `tuple<…>()`."""
    type: MilType
    items: tuple[MilLiteral, ...]


MilLiteral = Union[MilNumber, MilString, MilBool, MilList, MilTuple, MilDict, MilBlobFile, MilValue]

# -- program structure -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MilVar:
    """A use of a variable in an argument."""
    name: str


@dataclass(frozen=True, slots=True)
class MilArgTuple:
    """`values = (x, y)`: a variadic argument."""
    items: tuple[MilVar | MilValue, ...]


MilArgValue = Union[MilVar, MilValue, MilArgTuple]


@dataclass(frozen=True, slots=True)
class MilArg:
    name: str
    value: MilArgValue


@dataclass(frozen=True, slots=True)
class MilAttribute:
    """`name = value` in `[...]` after a program, a function or an op."""
    name: str
    value: MilValue


@dataclass(frozen=True, slots=True)
class MilNamedType:
    """A typed name: a function input, a block input or an op result."""
    type: MilType
    name: str


@dataclass(frozen=True, slots=True)
class MilOp:
    results: tuple[MilNamedType, ...]
    op_type: str
    args: tuple[MilArg, ...]
    attributes: tuple[MilAttribute, ...] = ()
    blocks: tuple[MilBlock, ...] = ()
    line: int = field(default=0, compare=False)  # source line for error messages; 0 if built in code

    def attribute(self, name: str) -> MilValue | None:
        return next((a.value for a in self.attributes if a.name == name), None)

    def arg(self, name: str) -> MilArgValue | None:
        return next((a.value for a in self.args if a.name == name), None)


@dataclass(frozen=True, slots=True)
class MilBlock:
    inputs: tuple[MilNamedType, ...]
    ops: tuple[MilOp, ...]
    outputs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MilFunction:
    name: str
    opset: str  # `ios16`, `ios18`, `CoreML8`, …
    inputs: tuple[MilNamedType, ...]
    attributes: tuple[MilAttribute, ...]
    body: MilBlock


@dataclass(frozen=True, slots=True)
class MilProgram:
    version: str  # as written: `1.0`, `1.3`
    attributes: tuple[MilAttribute, ...]
    functions: tuple[MilFunction, ...]

    def function(self, name: str) -> MilFunction:
        for f in self.functions:
            if f.name == name:
                return f
        raise KeyError(name)

    def attribute(self, name: str) -> MilValue | None:
        return next((a.value for a in self.attributes if a.name == name), None)


# -- strings ---------------------------------------------------------------------------------

_ESCAPE = re.compile(r'\\(x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|.)', re.S)
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "a": "\a", "b": "\b", "f": "\f",
                   "v": "\v", '"': '"', "'": "'", "\\": "\\", "?": "?"}
_NEEDS_ESCAPE = re.compile(r'[\\"\x00-\x1f\x7f]')
# Printing uses the short escapes only for these; other control characters become \xHH.
_ESCAPE_OF = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def unquote(token: str) -> str:
    """The value of a string literal `"…"` with C escapes (`\\n`, `\\"`, `\\xHH`, `\\uHHHH`)."""
    body = token[1:-1]
    if "\\" not in body:
        return body
    return substitute(_ESCAPE, _unescape_one, body)


def _unescape_one(m: re.Match) -> str:
    code = m.group(1)
    if len(code) > 1:
        return chr(int(code[1:], 16))
    if code not in _SIMPLE_ESCAPES:
        raise ValueError(f"unknown escape '\\{code}' in string")
    return _SIMPLE_ESCAPES[code]


def quote(value: str) -> str:
    """The literal that `unquote` reads back as `value` (the inverse, in canonical form)."""
    if not _NEEDS_ESCAPE.search(value):
        return f'"{value}"'
    return '"' + _NEEDS_ESCAPE.sub(_escape_one, value) + '"'


def _escape_one(m: re.Match) -> str:
    c = m.group(0)
    return _ESCAPE_OF.get(c) or f"\\x{ord(c):02x}"


# -- parser ----------------------------------------------------------------------------------

class _TokenError(Exception):
    """A semantic error found while building the AST, at a token's position."""

    def __init__(self, message: str, token: Token):
        super().__init__(message)
        self.token = token


def _seq(children) -> tuple:
    return tuple(children) if children is not None else ()


@v_args(inline=True)
class _AstBuilder(lark.Transformer):
    """Runs inside the LALR parser (no parse tree is built): each rule returns its dataclass."""

    # structure
    def start(self, program):
        return program

    def program(self, version, attributes, *functions):
        return MilProgram(str(version), _seq(attributes), functions)

    def function(self, name, opset, params, attributes, body):
        return MilFunction(str(name), str(opset), _seq(params), _seq(attributes), body)

    @v_args(inline=False)
    def params(self, children):
        return tuple(children)

    def param(self, type_, name):
        return MilNamedType(type_, str(name))

    result = param

    @v_args(inline=False)
    def results(self, children):
        return tuple(children)

    def block(self, *children):
        return MilBlock((), children[:-1], _seq(children[-1]))

    def nested_block(self, block):
        return block

    def nested_block_with_inputs(self, params, block):
        return MilBlock(_seq(params), block.ops, block.outputs)

    @v_args(inline=False)
    def names(self, children):
        return tuple(map(str, children))

    def op(self, results, op_type, args, attributes, *blocks):
        return MilOp(_seq(results), str(op_type), _seq(args), _seq(attributes), blocks, op_type.line)

    @v_args(inline=False)
    def args(self, children):
        return tuple(children)

    def arg(self, name, value):
        return MilArg(str(name), value)

    def var(self, name):
        return MilVar(str(name))

    def arg_tuple(self, items):
        return MilArgTuple(_seq(items))

    @v_args(inline=False)
    def arg_items(self, children):
        return tuple(children)

    @v_args(inline=False)
    def attributes(self, children):
        return tuple(children)

    def attribute(self, name, value):
        return MilAttribute(str(name), value)

    # types
    def tensor_type(self, tok):
        try:
            return _tensor_type_of(str(tok))
        except ValueError as e:
            raise _TokenError(str(e), tok) from None

    def simple_type(self, name):
        scalar = _SCALAR_TYPE_OF.get(name)
        if scalar is not None:
            return scalar
        if name not in SCALAR_TYPES:
            raise _TokenError(f"unknown type '{name}'; expected a scalar type "
                              f"(fp16, fp32, int32, bool, string, …) or tensor<…>", name)
        return MilScalarType(str(name))

    def generic_type(self, name, *params):
        build = _GENERIC_TYPES.get(str(name))
        if build is None:
            raise _TokenError(f"unknown type '{name}<…>'; expected one of "
                              f"{', '.join(sorted(_GENERIC_TYPES))}", name)
        built = build(params)
        if built is None:
            raise _TokenError(f"malformed '{name}<…>' type; expected {_GENERIC_FORMS[str(name)]}", name)
        return built

    def shape(self, dims):
        return _Shape(_seq(dims))

    def shape_of_numbers(self, tok):
        try:
            return _Shape(tuple(int(d) for d in tok[1:-1].split(", ")))
        except ValueError:
            raise _TokenError(f"malformed shape {tok}; expected integers, ? or names", tok) from None

    def length(self, tok):
        return int(tok)

    def unknown(self):
        return None

    @v_args(inline=False)
    def dims(self, children):
        return tuple(children)

    def known(self, tok):
        return int(tok)

    def symbol(self, tok):
        return str(tok)

    # literals
    def typed_value(self, type_, items):
        return MilValue(type_, _seq(items))

    @v_args(inline=False)
    def literals(self, children):
        return tuple(children)

    def scalar_value(self, tok):
        text = str(tok)
        split = text.index("(")
        type_text, literal = text[:split], text[split + 1:-1]
        type_ = _SCALAR_TYPE_OF.get(type_text)
        if type_ is None:
            type_ = self.tensor_type(tok) if type_text.startswith("tensor<") else self.simple_type(
                Token("NAME", type_text, tok.start_pos, tok.line, tok.column))
        if literal[0] == '"':
            return MilValue(type_, (self.string(Token("STRING", literal, tok.start_pos, tok.line, tok.column)),))
        if literal == "true" or literal == "false":
            return MilValue(type_, (MilBool(literal == "true"),))
        return MilValue(type_, (MilNumber(literal),))

    def number_list(self, tok):
        return MilList(tuple(map(MilNumber, tok[1:-1].split(", "))))

    def blob(self, tok):
        m = _BLOB.fullmatch(tok)
        path_type = _SCALAR_TYPE_OF["string"] if m.group(1) == "string" else _tensor_type_of(m.group(1))
        offset_type = _SCALAR_TYPE_OF["uint64"] if m.group(3) == "uint64" else _tensor_type_of(m.group(3))
        return MilBlobFile(unquote(m.group(2)), int(m.group(4)), path_type, offset_type)

    def number(self, tok):
        return MilNumber(str(tok))

    def string(self, tok):
        try:
            return MilString(unquote(str(tok)))
        except ValueError as e:
            raise _TokenError(str(e), tok) from None

    def true(self):
        return MilBool(True)

    def false(self):
        return MilBool(False)

    def list_literal(self, items):
        return MilList(_seq(items))

    def tuple_literal(self, items):
        return MilTuple(_seq(items))

    def dict_literal(self, entries):
        return MilDict(_seq(entries))

    @v_args(inline=False)
    def dict_entries(self, children):
        return tuple(children)

    def dict_entry(self, key, value):
        return (key, value)

    def blobfile(self, keyword, path, offset):
        path_ok = len(path.items) == 1 and isinstance(path.items[0], MilString)
        offset_ok = len(offset.items) == 1 and isinstance(offset.items[0], MilNumber)
        if not (path_ok and offset_ok) or not isinstance(offset.items[0].value, int):
            raise _TokenError('BLOBFILE needs path = string("…") and offset = uint64(<integer>)', keyword)
        return MilBlobFile(path.items[0].value, offset.items[0].value, path.type, offset.type)


_SCALAR_TYPE_OF = {name: MilScalarType(name) for name in SCALAR_TYPES}
_BLOB = re.compile(regex_text(r'BLOBFILE\(path = ([^(]*)\(("[^"\\\n]*+(?:\\.[^"\\\n]*+)*+")\), offset = ([^(]*)\(([0-9]+)\)\)'))
_DIM = re.compile(r"-?[0-9]+|\?|[A-Za-z_][A-Za-z0-9_]*")


@functools.lru_cache(maxsize=4096)
def _tensor_type_of(text: str) -> MilTensorType:
    """`tensor<fp16, [1, ?, n]>` from one TENSOR_TYPE token (models repeat a few types a lot)."""
    dtype, _, dims = text[text.index("<") + 1:text.rindex("]")].partition(",")
    dtype = dtype.strip()
    if dtype not in SCALAR_TYPES:
        raise ValueError(f"unknown element type '{dtype}' in tensor type; expected a scalar type "
                         f"(fp16, fp32, int32, bool, …)")
    dims = dims.strip()[1:]
    shape = []
    for dim in (dims.split(",") if dims.strip() else ()):
        dim = dim.strip()
        if not _DIM.fullmatch(dim):
            raise ValueError(f"malformed dimension '{dim}' in tensor type; expected an integer, ? or a name")
        shape.append(None if dim == "?" else int(dim) if dim[-1].isdigit() and dim[0] in "-0123456789" else dim)
    return MilTensorType(dtype, tuple(shape))


@dataclass(frozen=True, slots=True)
class _Shape:
    dims: tuple


def _tensor_type(params):
    if len(params) != 2 or not isinstance(params[0], MilScalarType) or not isinstance(params[1], _Shape):
        return None
    return MilTensorType(params[0].dtype, params[1].dims)


def _list_type(params):
    if len(params) != 2 or not _is_type(params[0]) or not (params[1] is None or type(params[1]) is int):
        return None
    return MilListType(params[0], params[1])


def _tuple_type(params):
    return MilTupleType(params) if all(map(_is_type, params)) else None


def _dict_type(params):
    return MilDictType(*params) if len(params) == 2 and all(map(_is_type, params)) else None


def _state_type(params):
    return MilStateType(params[0]) if len(params) == 1 and _is_type(params[0]) else None


def _is_type(x) -> bool:
    return isinstance(x, (MilScalarType, MilTensorType, MilListType, MilTupleType, MilDictType, MilStateType))


_GENERIC_TYPES = {"tensor": _tensor_type, "list": _list_type, "tuple": _tuple_type, "dict": _dict_type,
                  "state": _state_type}
_GENERIC_FORMS = {"tensor": "tensor<dtype, [dims]>", "list": "list<type, length or ?>",
                  "tuple": "tuple<type, …>", "dict": "dict<key type, value type>", "state": "state<type>"}


# Terminals that take a whole canonical construct in one token, for speed. Where the parser
# does not accept one (`program(1.0)` looks like `int32(1)`), the text is lexed again without them.
_COMPOUND_TERMINALS = frozenset({"SCALAR_VALUE", "NUMBER_LIST", "BLOB", "TENSOR_TYPE"})


class _MilLexer(lark.lexer.Lexer):
    """One master regex over lark's terminal definitions, several times faster than lark's lexer.

    Like lark's contextual lexer, a word is a keyword (`true`, `func`, `offset`, …) only where
    the parser accepts that keyword, and `inf`/`nan` are names where a number cannot appear, so
    variables may be called `offset` or `inf`.
    """
    __future_interface__ = 2

    def __init__(self, lexer_conf):
        words = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
        self.keywords = {t.pattern.value: t.name for t in lexer_conf.terminals
                         if t.pattern.type == "str" and words.fullmatch(t.pattern.value)}
        symbols = [t for t in lexer_conf.terminals if t.pattern.type == "str" and t.name not in self.keywords.values()]
        patterns = [t for t in lexer_conf.terminals if t.pattern.type == "re" and t.name not in lexer_conf.ignore]
        patterns.sort(key=lambda t: -t.priority)
        symbols.sort(key=lambda t: -len(t.pattern.value))
        self.fast = self._master(patterns + symbols)
        self.basic = self._master([t for t in patterns + symbols if t.name not in _COMPOUND_TERMINALS])

    @staticmethod
    def _master(terminals) -> re.Pattern:
        alternatives = [f"(?P<{t.name}>{t.pattern.to_regexp()})" for t in terminals]
        return re.compile(r"[ \t\r\n]*(?:" + "|".join(alternatives) + ")")

    def lex(self, lexer_state, parser_state):
        text = lexer_state.text.text if hasattr(lexer_state.text, "text") else lexer_state.text
        match = self.fast.match
        keywords = self.keywords
        states = parser_state.parse_conf.states
        stack = parser_state.state_stack
        pos, line, line_start, end = 0, 1, 0, len(text)
        # Brackets are counted as they are met, so text nested past the guard's limit stops at the
        # token that crosses it, before the decoder's recursive walk sees it.
        depth, deepest = 0, guard.limit("nesting")
        while True:
            m = match(text, pos)
            if m is not None and m.lastgroup in _COMPOUND_TERMINALS and m.lastgroup not in states[stack[-1]]:
                m = self.basic.match(text, pos)
            if m is None:
                skipped, pos = pos, _WHITESPACE.match(text, pos).end()
                line, line_start = _advance_lines(text, skipped, line, line_start, pos)
                if pos == end:
                    return
                raise lark.exceptions.UnexpectedCharacters(
                    text, pos, line, pos - line_start + 1,
                    allowed={t for t in states[stack[-1]] if t.isupper()})
            kind = m.lastgroup
            start = m.start(kind)
            if start != pos:  # skipped whitespace: keep line numbers right
                line, line_start = _advance_lines(text, pos, line, line_start, start)
            pos = m.end()
            value = m.group(kind)
            if kind == "NAME" and value in keywords and keywords[value] in states[stack[-1]]:
                kind = keywords[value]
            elif kind == "NUMBER" and value in ("inf", "nan") and "NUMBER" not in states[stack[-1]]:
                kind = "NAME"
            token = Token(kind, value, start, line, start - line_start + 1)
            if kind in _OPENING:
                depth += 1
                if depth > deepest:
                    raise _TokenError(guard.nesting_error(depth, None).message, token)
            elif kind in _CLOSING:
                depth -= 1
            yield token


_WHITESPACE = re.compile(r"[ \t\r\n]*")
_OPENING = frozenset({"LPAR", "LSQB", "LBRACE", "LESSTHAN"})
_CLOSING = frozenset({"RPAR", "RSQB", "RBRACE", "MORETHAN"})


def _advance_lines(text: str, begin: int, line: int, line_start: int, end: int) -> tuple[int, int]:
    newlines = text.count("\n", begin, end)
    if newlines:
        return line + newlines, text.rindex("\n", begin, end) + 1
    return line, line_start


@functools.lru_cache(maxsize=None)
def _parser() -> lark.Lark:
    from mlir_coreml.ir.parser import grammar_text

    grammar = grammar_text(os.path.join(os.path.dirname(__file__), "milgrammar.lark"))
    return lark.Lark(grammar, parser="lalr", lexer=_MilLexer, maybe_placeholders=True,
                     transformer=_AstBuilder())


def parse_mil(text: str, filename: str = "<string>") -> MilProgram:
    """Parse `model.mil` text. Errors raise MlirCoremlError with `where=file:line:col`."""
    parser = _parser()
    try:
        return parser.parse(text)
    except lark.exceptions.UnexpectedInput as e:
        line, column = _position(e, text)
        raise MlirCoremlError(_describe(e, text, parser), f"{filename}:{line}:{column}") from None
    except _TokenError as e:
        raise MlirCoremlError(str(e), f"{filename}:{e.token.line}:{e.token.column}") from None
    except lark.exceptions.VisitError as e:
        inner = e.orig_exc
        if isinstance(inner, _TokenError):
            raise MlirCoremlError(str(inner), f"{filename}:{inner.token.line}:{inner.token.column}") from None
        raise


def _position(e: lark.exceptions.UnexpectedInput, text: str) -> tuple[int, int]:
    at_end = isinstance(e, lark.exceptions.UnexpectedToken) and e.token.type == "$END"
    if at_end or isinstance(e, lark.exceptions.UnexpectedEOF) or getattr(e, "line", -1) in (-1, None):
        lines = text.split("\n")
        return len(lines), len(lines[-1]) + 1
    return e.line, e.column


def _describe(e: lark.exceptions.UnexpectedInput, text: str, parser: lark.Lark) -> str:
    if isinstance(e, lark.exceptions.UnexpectedCharacters):
        expected = _expected(e.allowed, parser)
        got = text[e.pos_in_stream]
        return f"unexpected character {got!r}; expected {expected}"
    if isinstance(e, lark.exceptions.UnexpectedToken):
        got = "end of input" if e.token.type == "$END" else repr(str(e.token))
        return f"unexpected {got}; expected {_expected(e.expected, parser)}"
    if isinstance(e, lark.exceptions.UnexpectedEOF):
        return f"unexpected end of input; expected {_expected(e.expected, parser)}"
    return str(e)


_TERMINAL_NAMES = {"NAME": "a name", "INT": "an integer", "NUMBER": "a number", "STRING": "a string",
                   "TENSOR_TYPE": "a type", "SCALAR_VALUE": "a value", "NUMBER_LIST": "a list",
                   "BLOB": "BLOBFILE(…)", "$END": "end of input"}


def _expected(terminals, parser: lark.Lark) -> str:
    literal = {t.name: t.pattern.value for t in parser.terminals if t.pattern.type == "str"}
    names = sorted({_TERMINAL_NAMES.get(t) or (f"'{literal[t]}'" if t in literal else t.lower())
                    for t in terminals or ()})
    if not names:
        return "something else"
    return ", ".join(names[:-1]) + (" or " if len(names) > 1 else "") + names[-1]
