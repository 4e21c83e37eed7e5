"""Declarative op definitions: an op is declared once, as data.

    @op_def("nn.relu")
    class Relu(Operation):
        input = operand(AnyTensor)
        output = result(AnyTensor)
        traits = frozenset({Pure})
        def reference(self, x): return np.maximum(x, 0)

The decorator collects the operand/result/attribute/region definitions in declaration order,
turns them into accessors, registers the class under its name, and gives the verifier what it
needs. Ops with several optional/variadic operand groups store their group sizes in the
`operand_segments` attribute, as MLIR does.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

from mlir_coreml.ir.attributes import (ArrayAttr, Attribute, BoolAttr, DenseAttr, DenseResourceAttr,
                                       DictAttr, FloatAttr, IntAttr, StringAttr, SymbolRefAttr,
                                       TypeAttr)
from mlir_coreml.ir.core import Location, Operation, Region, Value
from mlir_coreml.ir.types import ElementType, TensorType, Type


class VerifyError(Exception):
    """Raised by op checks; the verifier adds the op name and location."""


# -- traits -------------------------------------------------------------------------------

class Trait:
    def __init__(self, name: str):
        self.name = name

    def __repr__(self):
        return self.name


Pure = Trait("Pure")                            # no side effects: removable when unused, CSE-able
Commutative = Trait("Commutative")
Terminator = Trait("Terminator")                # must be the last op of its block
IsolatedFromAbove = Trait("IsolatedFromAbove")  # regions cannot use values from outside
ConstantLike = Trait("ConstantLike")            # produces its `value` attribute
SameOperandsAndResultType = Trait("SameOperandsAndResultType")
SymbolTable = Trait("SymbolTable")


# -- type constraints ---------------------------------------------------------------------

class Constraint:
    """A predicate on types with a human-readable description for diagnostics."""

    def __init__(self, description: str, check: Callable[[Type], bool]):
        self.description = description
        self.check = check

    def __repr__(self):
        return self.description


AnyType = Constraint("any type", lambda t: True)
AnyTensor = Constraint("tensor", lambda t: isinstance(t, TensorType))


def TensorOf(*elements: ElementType) -> Constraint:
    allowed = frozenset(elements)
    names = "/".join(str(e) for e in elements)
    return Constraint(f"tensor of {names}", lambda t: isinstance(t, TensorType) and t.element in allowed)


def OneOf(*constraints: Constraint) -> Constraint:
    return Constraint(" or ".join(c.description for c in constraints),
                      lambda t: any(c.check(t) for c in constraints))


# -- attribute kinds ----------------------------------------------------------------------

def _array_of(kind):
    return lambda a: isinstance(a, ArrayAttr) and all(isinstance(x, kind) for x in a.data)


ATTR_KINDS: dict[str, Callable[[Attribute], bool]] = {
    "int": lambda a: isinstance(a, IntAttr),
    "float": lambda a: isinstance(a, (FloatAttr, IntAttr)),
    "bool": lambda a: isinstance(a, BoolAttr),
    "str": lambda a: isinstance(a, StringAttr),
    "ints": _array_of(IntAttr),
    "floats": _array_of((FloatAttr, IntAttr)),
    "strs": _array_of(StringAttr),
    "bools": _array_of(BoolAttr),
    "array": lambda a: isinstance(a, ArrayAttr),
    "dict": lambda a: isinstance(a, DictAttr),
    "type": lambda a: isinstance(a, TypeAttr),
    "symbol": lambda a: isinstance(a, SymbolRefAttr),
    "dense": lambda a: isinstance(a, (DenseAttr, DenseResourceAttr)),
    "any": lambda a: True,
}

REQUIRED = object()


# -- definition descriptors ---------------------------------------------------------------

@dataclass
class OperandDef:
    constraint: Constraint = AnyType
    variadic: bool = False
    optional: bool = False
    name: str = ""

    def __get__(self, op, owner=None):
        if op is None:
            return self
        values = op.operand_group(self.name)
        if self.variadic:
            return values
        return values[0] if values else None


@dataclass
class ResultDef:
    constraint: Constraint = AnyType
    variadic: bool = False
    name: str = ""

    def __get__(self, op, owner=None):
        if op is None:
            return self
        group = op.result_group(self.name)
        return group if self.variadic else group[0]


@dataclass
class AttributeDef:
    kind: str = "any"
    default: Any = REQUIRED
    name: str = ""
    doc: str = ""

    def __get__(self, op, owner=None):
        """The attribute's plain value (the default when absent)."""
        if op is None:
            return self
        attr = op.attributes.get(self.name)
        if attr is None:
            return None if self.default is REQUIRED else self.default
        return attr.value


@dataclass
class RegionDef:
    name: str = ""

    def __get__(self, op, owner=None):
        if op is None:
            return self
        return op.regions[type(op).region_defs.index(self)]


def operand(constraint: Constraint = AnyType, *, variadic: bool = False, optional: bool = False) -> Any:
    return OperandDef(constraint, variadic, optional)


def result(constraint: Constraint = AnyType, *, variadic: bool = False) -> Any:
    return ResultDef(constraint, variadic)


def attribute(kind: str = "any", default: Any = REQUIRED, doc: str = "") -> Any:
    if kind not in ATTR_KINDS:
        raise ValueError(f"unknown attribute kind '{kind}'")
    return AttributeDef(kind, default, doc=doc)


def region() -> Any:
    return RegionDef()


# -- the registry -------------------------------------------------------------------------

OP_REGISTRY: dict[str, type[Operation]] = {}
_FIELD_KINDS = (OperandDef, ResultDef, AttributeDef, RegionDef)
_OWN_FIELDS: dict[type, list] = {}


def _own_fields(cls: type) -> list:
    """(name, field) of the descriptor fields `cls` itself declares. Bases (Operation, dialect
    layer classes) are shared by hundreds of ops: each namespace is scanned once, not once per op."""
    fields = _OWN_FIELDS.get(cls)
    if fields is None:
        fields = _OWN_FIELDS[cls] = [(key, value) for key, value in vars(cls).items()
                                     if isinstance(value, _FIELD_KINDS)]
    return fields


def op_def(name: str):
    """Class decorator: declare an op from its descriptor fields and register it."""

    def wrap(cls):
        cls.name = name
        operand_defs, result_defs, attr_defs, region_defs = [], [], [], []
        for base in reversed(cls.__mro__):
            for key, value in _own_fields(base):
                value.name = key
                target = {OperandDef: operand_defs, ResultDef: result_defs,
                          AttributeDef: attr_defs, RegionDef: region_defs}[type(value)]
                target[:] = [d for d in target if d.name != key] + [value]
        cls.operand_defs = tuple(operand_defs)
        cls.result_defs = tuple(result_defs)
        cls.attribute_defs = {d.name: d for d in attr_defs}
        cls.region_defs = tuple(region_defs)
        cls.uses_segments = sum(1 for d in operand_defs if d.variadic or d.optional) > 1
        OP_REGISTRY[name] = cls
        return cls

    return wrap


def lookup_op(name: str) -> type[Operation] | None:
    """The registered class for `name`, loading its dialect on first use."""
    cls = OP_REGISTRY.get(name)
    if cls is None and "." in name:
        from mlir_coreml.ir.dialects import load_dialect

        if load_dialect(name.split(".", 1)[0]):
            cls = OP_REGISTRY.get(name)
    return cls


# -- Operation helpers that depend on the definitions ------------------------------------

def group_sizes(op: Operation, defs, count: int, segments_attr: str | None) -> list[int]:
    if segments_attr and segments_attr in op.attributes:
        return list(op.attributes[segments_attr].value)
    flexible = [i for i, d in enumerate(defs) if d.variadic or getattr(d, "optional", False)]
    sizes = [1] * len(defs)
    if flexible:
        sizes[flexible[0]] = count - (len(defs) - 1)
    return sizes


def operand_group(self: Operation, name: str) -> list[Value]:
    defs = type(self).operand_defs
    sizes = group_sizes(self, defs, len(self._operands),
                         "operand_segments" if type(self).uses_segments else None)
    start = 0
    for d, n in zip(defs, sizes):
        if d.name == name:
            return self._operands[start:start + n]
        start += n
    raise KeyError(name)


def result_group(self: Operation, name: str) -> tuple:
    defs = type(self).result_defs
    sizes = group_sizes(self, defs, len(self.results), None)
    start = 0
    for d, n in zip(defs, sizes):
        if d.name == name:
            return self.results[start:start + n]
        start += n
    raise KeyError(name)


Operation.operand_defs = ()
Operation.result_defs = ()
Operation.attribute_defs = {}
Operation.region_defs = ()
Operation.uses_segments = False
Operation.operand_group = operand_group
Operation.result_group = result_group


def build(cls: type[Operation], operands: dict[str, Value | Sequence[Value] | None] | Sequence[Value] = (),
          result_types: Sequence[Type] = (), attributes: dict[str, Any] | None = None,
          regions: Sequence[Region] = (), location: Location | None = None,
          result_names: Sequence[str | None] | None = None) -> Operation:
    """Create a registered op. `operands` may be a flat list or a dict by operand name (for ops
    with optional/variadic groups, the dict form records the group sizes)."""
    attrs = dict(attributes or {})
    if isinstance(operands, dict):
        flat, sizes = [], []
        for d in cls.operand_defs:
            v = operands.get(d.name)
            group = [] if v is None else (list(v) if d.variadic else [v])
            flat += group
            sizes.append(len(group))
        if cls.uses_segments:
            attrs["operand_segments"] = sizes
        operands = flat
    if not result_types and hasattr(cls, "infer_types"):
        probe = object.__new__(cls)
        Operation.__init__(probe, operands, (), attrs, ())
        result_types = probe.infer_types()
        probe.drop_operands()
    op = object.__new__(cls)
    Operation.__init__(op, operands, result_types, attrs, regions, location, None, result_names)
    return op
