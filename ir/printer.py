"""Textual form of the IR. `parse_module(print_module(m))` prints identically, always.

Every op has the generic form  `%r = "d.op"(%a) ({regions}) {attrs} : (ins) -> outs loc("x")`;
registered ops print compactly as `%r = d.op %a {attrs} : t` (one type when all operand and
result types agree); `module`, `func.func` and `func.return` have their MLIR pretty forms.
"""
from __future__ import annotations

import re
from typing import Iterable

import numpy as np

from mlir_coreml.ir.attributes import (ArrayAttr, Attribute, BoolAttr, DenseAttr, DenseResourceAttr,
                                       DictAttr, FloatAttr, IntAttr, StringAttr, SymbolRefAttr, TypeAttr,
                                       format_float)
from mlir_coreml.ir.core import Block, Operation, Region, Value
from mlir_coreml.ir.opdef import IsolatedFromAbove, OP_REGISTRY
from mlir_coreml.ir.types import FunctionType, format_result_types

BARE_NAME = re.compile(r"[A-Za-z0-9_$.\-]+\Z")
BARE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_$.]*\Z")
INLINE_LIMIT = 16  # dense tensors up to this many elements print inline


def quote(text: str) -> str:
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7f:
            out.append(f"\\{ord(ch):02X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def format_name(prefix: str, name: str) -> str:
    return prefix + (name if BARE_NAME.match(name) else quote(name))


def format_key(key: str) -> str:
    return key if BARE_KEY.match(key) and key not in ("true", "false") else quote(key)


class Namer:
    """Unique SSA names within one IsolatedFromAbove scope; name hints are kept when free."""

    def __init__(self):
        self.names: dict[Value, str] = {}
        self.taken: set[str] = set()
        self.counter = 0

    def name(self, value: Value) -> str:
        found = self.names.get(value)
        if found is not None:
            return found
        hint = value.name
        if hint is None or hint == "":
            while str(self.counter) in self.taken:
                self.counter += 1
            chosen = str(self.counter)
            self.counter += 1
        else:
            chosen, n = hint, 1
            while chosen in self.taken:
                chosen = f"{hint}_{n}"
                n += 1
        self.taken.add(chosen)
        self.names[value] = chosen
        return chosen


class Printer:
    def __init__(self, generic: bool = False, resources: bool = False):
        self.generic = generic
        self.with_resources = resources
        self.lines: list[str] = []
        self.namers: list[Namer] = []
        self.resource_names: dict[int, str] = {}
        self.resources: dict[str, DenseResourceAttr] = {}

    # -- values -------------------------------------------------------------------------
    def value(self, v: Value) -> str:
        for namer in reversed(self.namers):
            if v in namer.names:
                return format_name("%", namer.names[v])
        return format_name("%", self.namers[-1].name(v))

    def define(self, v: Value) -> str:
        return format_name("%", self.namers[-1].name(v))

    def values(self, vs: Iterable[Value]) -> str:
        return ", ".join(self.value(v) for v in vs)

    # -- attributes -----------------------------------------------------------------------
    def attr(self, a: Attribute) -> str:
        if isinstance(a, BoolAttr):
            return "true" if a.data else "false"
        if isinstance(a, IntAttr):
            return str(a.data)
        if isinstance(a, FloatAttr):
            return format_float(a.data)
        if isinstance(a, StringAttr):
            return quote(a.data)
        if isinstance(a, ArrayAttr):
            return "[" + ", ".join(self.attr(x) for x in a.data) + "]"
        if isinstance(a, DictAttr):
            return self.attr_dict(a.data, always=True)
        if isinstance(a, TypeAttr):
            return str(a.data)
        if isinstance(a, SymbolRefAttr):
            return format_name("@", a.data)
        if isinstance(a, DenseResourceAttr):
            return f"dense_resource<{format_name('', self.resource_name(a))}> : {a.type}"
        if isinstance(a, DenseAttr):
            return f"dense<{format_dense(a.array)}> : {a.type}"
        raise TypeError(f"cannot print attribute {a!r}")

    def attr_dict(self, items, always: bool = False) -> str:
        items = list(items)
        if not items and not always:
            return ""
        return "{" + ", ".join(f"{format_key(k)} = {self.attr(v)}" for k, v in items) + "}"

    def resource_name(self, a: DenseResourceAttr) -> str:
        key = id(a.blob)
        name = self.resource_names.get(key)
        if name is None:
            name, n = a.name, 1
            while name in self.resources:
                name = f"{a.name}_{n}"
                n += 1
            self.resource_names[key] = name
            self.resources[name] = a
        return name

    # -- operations -----------------------------------------------------------------------
    def emit(self, indent: int, text: str) -> None:
        self.lines.append("  " * indent + text)

    def op(self, op: Operation, indent: int) -> None:
        isolated = op.has_trait(IsolatedFromAbove)
        if isolated:
            self.namers.append(Namer())
        try:
            special = None if self.generic else SPECIAL_FORMS.get(op.op_name)
            if special is not None:
                special(self, op, indent)
            else:
                self.generic_op(op, indent, quoted=self.generic or op.op_name not in OP_REGISTRY)
        finally:
            if isolated:
                self.namers.pop()

    def results_prefix(self, op: Operation) -> str:
        if not op.results:
            return ""
        # Results are defined in the enclosing scope even for isolated ops.
        namer = self.namers[-2] if op.has_trait(IsolatedFromAbove) and len(self.namers) > 1 else self.namers[-1]
        return ", ".join(format_name("%", namer.name(r)) for r in op.results) + " = "

    def generic_op(self, op: Operation, indent: int, quoted: bool) -> None:
        head = self.results_prefix(op)
        ins = [v.type for v in op.operands]
        outs = [r.type for r in op.results]
        if quoted:
            head += f"{quote(op.op_name)}({self.values(op.operands)})"
        else:
            head += op.op_name + (" " + self.values(op.operands) if op.operands else "")
        attrs = self.attr_dict(op.attributes.items())
        if op.regions:
            head += " ("
            self.emit(indent, head + "{")
            for i, region in enumerate(op.regions):
                if i:
                    self.emit(indent, "}, {")
                self.region_body(region, indent + 1)
            head = "})"
            if attrs:
                head += " " + attrs
        elif attrs:
            head += " " + attrs
        uniform = ins + outs
        if not quoted and uniform and all(t == uniform[0] for t in uniform) and not isinstance(uniform[0], FunctionType):
            head += f" : {uniform[0]}"
        else:
            head += f" : {FunctionType(tuple(ins), tuple(outs))}"
        self.emit(indent, head + self.loc(op))

    def loc(self, op: Operation) -> str:
        if op.location is None or op.location.name is None:
            return ""
        return f" loc({quote(op.location.name)})"

    def region_body(self, region: Region, indent: int, entry_args_printed: bool = False) -> None:
        for i, block in enumerate(region.blocks):
            skip_label = i == 0 and (entry_args_printed or (not block.args and len(region.blocks) == 1))
            if not skip_label:
                self.block_label(block, i, indent - 1)
            for op in block.ops:
                self.op(op, indent)

    def block_label(self, block: Block, index: int, indent: int) -> None:
        label = block.label or f"bb{index}"
        args = ", ".join(f"{self.define(a)}: {a.type}" for a in block.args)
        self.emit(indent, f"^{label}({args}):" if block.args else f"^{label}:")

    # -- module ---------------------------------------------------------------------------
    def module(self, module: Operation) -> str:
        self.namers.append(Namer())
        self.op(module, 0)
        if self.with_resources and self.resources:
            self.resource_section()
        return "\n".join(self.lines) + "\n"

    def resource_section(self) -> None:
        self.lines += ["", "{-#", "  dialect_resources: {", "    builtin: {"]
        entries = list(self.resources.items())
        for i, (name, attr) in enumerate(entries):
            array = np.ascontiguousarray(attr.value)
            sep = "," if i + 1 < len(entries) else ""
            blob = "0x" + (array.dtype.alignment).to_bytes(4, "little").hex().upper() + array.tobytes().hex().upper()
            self.lines.append(f"      {format_name('', name)}: \"{blob}\"{sep}")
        self.lines += ["    }", "  }", "#-}"]


def format_dense(array: np.ndarray) -> str:
    flat = array.reshape(-1)
    if flat.size >= 1 and (flat.size == 1 or _is_splat(flat)):
        return _scalar(flat[0])
    return _nested(array)


def _is_splat(flat: np.ndarray) -> bool:
    if flat.dtype == object:
        return all(x == flat[0] for x in flat)
    raw = flat.view(np.uint8).reshape(flat.size, -1)
    return bool((raw == raw[0]).all())


def _nested(array: np.ndarray) -> str:
    if array.ndim == 0:
        return _scalar(array.reshape(-1)[0])
    if array.ndim == 1:
        return "[" + ", ".join(_scalar(x) for x in array) + "]"
    return "[" + ", ".join(_nested(sub) for sub in array) + "]"


def _scalar(x) -> str:
    if isinstance(x, (bool, np.bool_)):
        return "true" if x else "false"
    if isinstance(x, (np.integer, int)):
        return str(int(x))
    if isinstance(x, (np.floating, float)):
        return format_float(float(x))
    if isinstance(x, (str, bytes)):
        return quote(x if isinstance(x, str) else x.decode("utf-8", "replace"))
    raise TypeError(f"cannot print dense element {x!r}")


# -- pretty forms ---------------------------------------------------------------------------

def print_builtin_module(p: Printer, op: Operation, indent: int) -> None:
    head = "module"
    sym = op.attributes.get("sym_name")
    if isinstance(sym, StringAttr):
        head += " " + format_name("@", sym.data)
    rest = [(k, v) for k, v in op.attributes.items() if k != "sym_name"]
    if rest:
        head += " attributes " + p.attr_dict(rest)
    p.emit(indent, head + " {")
    p.region_body(op.regions[0], indent + 1)
    p.emit(indent, "}" + p.loc(op))


def print_func(p: Printer, op: Operation, indent: int) -> None:
    fn_type = op.attributes["function_type"].value
    body = op.regions[0] if op.regions else None
    if body and body.blocks:
        args = ", ".join(f"{p.define(a)}: {a.type}" for a in body.blocks[0].args)
    else:
        args = ", ".join(str(t) for t in fn_type.inputs)
    head = f"{p.results_prefix(op)}func.func {format_name('@', op.attributes['sym_name'].value)}({args})"
    if fn_type.results:
        head += " -> " + format_result_types(fn_type.results)
    rest = [(k, v) for k, v in op.attributes.items() if k not in ("sym_name", "function_type")]
    if rest:
        head += " attributes " + p.attr_dict(rest)
    if not body or not body.blocks:
        p.emit(indent, head + p.loc(op))
        return
    p.emit(indent, head + " {")
    p.region_body(body, indent + 1, entry_args_printed=True)
    p.emit(indent, "}" + p.loc(op))


def print_return(p: Printer, op: Operation, indent: int) -> None:
    text = "func.return"
    if op.attributes:
        return p.generic_op(op, indent, quoted=False)
    if op.operands:
        text += f" {p.values(op.operands)} : {', '.join(str(v.type) for v in op.operands)}"
    p.emit(indent, text + p.loc(op))


SPECIAL_FORMS = {"builtin.module": print_builtin_module, "func.func": print_func, "func.return": print_return}


def print_module(module: Operation, generic: bool = False, resources: bool = False) -> str:
    """The module's text; `resources=True` appends the weights as a hex resources section."""
    return Printer(generic=generic, resources=resources).module(module)


def print_op(op: Operation, generic: bool = False) -> str:
    """One op (and its regions) on its own, for diagnostics."""
    p = Printer(generic=generic)
    p.namers.append(Namer())
    p.op(op, 0)
    return "\n".join(p.lines)
