"""Print a `model.mil` AST in coremlc's layout, so that parse → print is byte-identical.

Layout of a real coremlc file (apple/coremltools `add_model.mlmodelc/model.mil`): `program(v)`,
the program attributes on the next line, `{`, each function at 4 spaces, its block's ops at 12
and the block's closing `} -> (outputs);` at 8: a block is indented 4 past its owner and its ops
4 past the block. Blocks nested in an op follow the same rule (op at 12: ops at 20, `}` at 16).
"""
from __future__ import annotations

import re

from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.frontend.mil.text import (MilArgTuple, MilBlobFile, MilBlock, MilBool, MilDict,
                                           MilDictType, MilFunction, MilList, MilListType,
                                           MilNamedType, MilNumber, MilOp, MilProgram,
                                           MilScalarType, MilStateType, MilString, MilTensorType,
                                           MilTuple, MilTupleType, MilValue, MilVar, quote)

INDENT = 4
# model.mil has no quoting for names (milgrammar.lark NAME): anything else would be read back
# as different tokens, i.e. a different program, so it is refused.
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def print_mil(program: MilProgram, where: str | None = None, final_newline: bool = True) -> str:
    """The text of `program`; a name model.mil cannot spell is an error naming it (`where`: the
    output). coremlc 3520 and later end the file without a newline after the closing brace [V],
    3402 with one [V add_model.mlmodelc]."""
    check_names(program, where)
    out = [f"program({program.version})\n"]
    if program.attributes:
        out.append(f"{format_attributes(program.attributes)}\n")
    out.append("{\n")
    for function in program.functions:
        _print_function(function, out)
    out.append("}\n" if final_newline else "}")
    return "".join(out)


def check_names(program: MilProgram, where: str | None) -> None:
    for function in program.functions:
        _check_name(function.name, "function", where)
        _check_name(function.opset, f"opset of function {function.name}", where)
        _check_block(function.body, f"function {function.name}", where)


def _check_block(block: MilBlock, context: str, where: str | None) -> None:
    for name in (*(x.name for x in block.inputs), *block.outputs):
        _check_name(name, f"value in {context}", where)
    for op in block.ops:
        for name in (op.op_type, *(x.name for x in op.results), *(a.name for a in op.args),
                     *(a.name for a in op.attributes), *_var_names(op)):
            _check_name(name, f"name in a '{op.op_type}' op of {context}", where)
        for nested in op.blocks:
            _check_block(nested, context, where)


def _var_names(op: MilOp):
    for arg in op.args:
        items = arg.value.items if isinstance(arg.value, MilArgTuple) else (arg.value,)
        yield from (x.name for x in items if isinstance(x, MilVar))


def _check_name(name: str, what: str, where: str | None) -> None:
    if not IDENTIFIER.fullmatch(name):
        raise MlirCoremlError(f"the {what} {name!r} cannot be written in model.mil (names there are "
                              "letters, digits and '_', not starting with a digit); rename it", where)


def _print_function(function: MilFunction, out: list[str]) -> None:
    attributes = f" {format_attributes(function.attributes)}" if function.attributes else ""
    out.append(f"{' ' * INDENT}func {function.name}<{function.opset}>"
               f"({_named_types(function.inputs)}){attributes} {{\n")
    _print_block_body(function.body, INDENT * 2, out)
    out.append(";\n")


def _print_block_body(block: MilBlock, indent: int, out: list[str]) -> None:
    """Ops and the closing `} -> (outputs)`; the caller wrote the opening brace."""
    for op in block.ops:
        _print_op(op, indent + INDENT, out)
    out.append(f"{' ' * indent}}} -> ({', '.join(block.outputs)})")


def _print_op(op: MilOp, indent: int, out: list[str]) -> None:
    results = f"{_named_types(op.results)} = " if op.results else ""
    args = ", ".join(f"{a.name} = {format_arg(a.value)}" for a in op.args)
    attributes = format_attributes(op.attributes) if op.attributes else ""
    out.append(f"{' ' * indent}{results}{op.op_type}({args}){attributes}")
    for block in op.blocks:
        inputs = f" ({_named_types(block.inputs)})" if block.inputs else ""
        out.append(f"{inputs} {{\n")
        _print_block_body(block, indent + INDENT, out)
    out.append(";\n")


def _named_types(items: tuple[MilNamedType, ...]) -> str:
    return ", ".join(f"{format_type(x.type)} {x.name}" for x in items)


def format_attributes(attributes) -> str:
    return "[" + ", ".join(f"{a.name} = {format_value(a.value)}" for a in attributes) + "]"


def format_arg(value) -> str:
    return _ARG_FORMATTERS[type(value)](value)


_ARG_FORMATTERS = {
    MilVar: lambda v: v.name,
    MilValue: lambda v: format_value(v),
    MilArgTuple: lambda v: "(" + ", ".join(format_arg(x) for x in v.items) + ")",
}

# -- types -----------------------------------------------------------------------------------


def format_type(t) -> str:
    return _TYPE_FORMATTERS[type(t)](t)


def _dim(d) -> str:
    return "?" if d is None else str(d)


_TYPE_FORMATTERS = {
    MilScalarType: lambda t: t.dtype,
    MilTensorType: lambda t: f"tensor<{t.dtype}, [{', '.join(map(_dim, t.shape))}]>",
    MilListType: lambda t: f"list<{format_type(t.element)}, {_dim(t.length)}>",
    MilTupleType: lambda t: f"tuple<{', '.join(map(format_type, t.elements))}>",
    MilDictType: lambda t: f"dict<{format_type(t.key)}, {format_type(t.value)}>",
    MilStateType: lambda t: f"state<{format_type(t.wrapped)}>",
}

# -- literals --------------------------------------------------------------------------------


def format_value(v: MilValue) -> str:
    return f"{format_type(v.type)}({_literals(v.items)})"


def format_literal(x) -> str:
    return _LITERAL_FORMATTERS[type(x)](x)


def _literals(items) -> str:
    return ", ".join(_LITERAL_FORMATTERS[type(x)](x) for x in items)


def _blobfile(b: MilBlobFile) -> str:
    return (f"BLOBFILE(path = {format_type(b.path_type)}({quote(b.path)}), "
            f"offset = {format_type(b.offset_type)}({b.offset}))")


_LITERAL_FORMATTERS = {
    MilNumber: lambda x: x.text,
    MilString: lambda x: quote(x.value),
    MilBool: lambda x: "true" if x.value else "false",
    MilList: lambda x: f"[{_literals(x.items)}]",
    MilTuple: lambda x: f"({_literals(x.items)})",
    MilDict: lambda x: "{" + ", ".join(f"{{{format_literal(k)}, {format_literal(v)}}}" for k, v in x.entries) + "}",
    MilBlobFile: _blobfile,
    MilValue: format_value,
}
