"""SSA values, operations, blocks and regions, with def-use chains.

Blocks keep their operations in an intrusive doubly linked list so that insertion and
erasure are O(1) while rewriting large models, as in MLIR.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Sequence

from mlir_coreml.ir.attributes import Attribute, to_attr
from mlir_coreml.ir.types import Type


@dataclass(frozen=True, slots=True)
class Location:
    """Where an op came from: the Core ML layer name, or file:line:col of IR text."""

    name: str | None = None
    file: str | None = None
    line: int = 0
    col: int = 0

    def __str__(self) -> str:
        if self.name is not None:
            return self.name
        return f"{self.file}:{self.line}:{self.col}" if self.file else "<unknown>"


@dataclass(slots=True)
class Use:
    """The `index`-th operand slot of `operation`."""

    operation: Operation
    index: int


class Value:
    """An SSA value; `name` is a hint kept through printing (Core ML blob names live here)."""

    __slots__ = ("type", "name", "uses")

    def __init__(self, type: Type, name: str | None = None):
        self.type = type
        self.name = name
        self.uses: list[Use] = []

    @property
    def users(self) -> list[Operation]:
        return [u.operation for u in self.uses]

    def has_uses(self) -> bool:
        return bool(self.uses)

    def replace_all_uses_with(self, other: Value) -> None:
        for use in list(self.uses):
            use.operation.set_operand(use.index, other)

    def owner(self):
        raise NotImplementedError


class OpResult(Value):
    __slots__ = ("op", "index")

    def __init__(self, type: Type, op: Operation, index: int, name: str | None = None):
        super().__init__(type, name)
        self.op = op
        self.index = index

    def owner(self) -> Operation:
        return self.op

    def __repr__(self):
        return f"<result {self.index} of {self.op.name}: {self.type}>"


class BlockArgument(Value):
    __slots__ = ("block", "index")

    def __init__(self, type: Type, block: Block, index: int, name: str | None = None):
        super().__init__(type, name)
        self.block = block
        self.index = index

    def owner(self) -> Block:
        return self.block

    def __repr__(self):
        return f"<block argument {self.index}: {self.type}>"


class Operation:
    """A generic operation. Registered ops subclass it (see opdef.py); unregistered ops are
    plain `Operation`s that still print, parse and verify structurally."""

    name: str = ""
    __slots__ = ("_name", "_operands", "results", "attributes", "regions", "location",
                 "parent", "_prev", "_next", "__weakref__")

    def __init__(self, operands: Sequence[Value] = (), result_types: Sequence[Type] = (),
                 attributes: dict[str, Attribute] | None = None, regions: Sequence[Region] = (),
                 location: Location | None = None, name: str | None = None,
                 result_names: Sequence[str | None] | None = None):
        self._name = name
        self._operands: list[Value] = []
        self.results = tuple(OpResult(t, self, i, result_names[i] if result_names else None)
                             for i, t in enumerate(result_types))
        self.attributes = {k: to_attr(v) for k, v in (attributes or {}).items()}
        self.regions: list[Region] = []
        self.location = location
        self.parent: Block | None = None
        self._prev: Operation | None = None
        self._next: Operation | None = None
        for v in operands:
            self._append_operand(v)
        for r in regions:
            self.add_region(r)

    # -- identity -------------------------------------------------------------------------
    @property
    def op_name(self) -> str:
        return self._name or type(self).name

    def __repr__(self):
        return f"<{self.op_name} at {self.location}>" if self.location else f"<{self.op_name}>"

    # -- operands -------------------------------------------------------------------------
    @property
    def operands(self) -> tuple[Value, ...]:
        return tuple(self._operands)

    def _append_operand(self, value: Value) -> None:
        if not isinstance(value, Value):
            raise TypeError(f"{self.op_name}: operand must be a Value, got {type(value).__name__}")
        value.uses.append(Use(self, len(self._operands)))
        self._operands.append(value)

    def set_operand(self, index: int, value: Value) -> None:
        old = self._operands[index]
        old.uses = [u for u in old.uses if not (u.operation is self and u.index == index)]
        self._operands[index] = value
        value.uses.append(Use(self, index))

    def set_operands(self, values: Sequence[Value]) -> None:
        self.drop_operands()
        for v in values:
            self._append_operand(v)

    def drop_operands(self) -> None:
        for i, v in enumerate(self._operands):
            v.uses = [u for u in v.uses if not (u.operation is self and u.index == i)]
        self._operands = []

    # -- results --------------------------------------------------------------------------
    @property
    def result(self) -> OpResult:
        if len(self.results) != 1:
            raise ValueError(f"{self.op_name} has {len(self.results)} results, not 1")
        return self.results[0]

    # -- regions and nesting --------------------------------------------------------------
    def add_region(self, region: Region) -> Region:
        region.parent = self
        self.regions.append(region)
        return region

    @property
    def parent_op(self) -> Operation | None:
        return self.parent.parent_op if self.parent else None

    def walk(self) -> Iterator[Operation]:
        """Pre-order walk over this op and every op nested in its regions."""
        yield self
        for region in self.regions:
            for block in region.blocks:
                for op in list(block.ops):
                    yield from op.walk()

    def is_ancestor_of(self, other: Operation) -> bool:
        while other is not None:
            if other is self:
                return True
            other = other.parent_op
        return False

    # -- mutation -------------------------------------------------------------------------
    def detach(self) -> None:
        if self.parent is not None:
            self.parent._unlink(self)

    def erase(self, check_uses: bool = True) -> None:
        """Remove from the IR; results must be unused (unless check_uses=False)."""
        if check_uses:
            for r in self.results:
                if r.uses:
                    raise ValueError(f"cannot erase {self.op_name}: result {r.index} still has "
                                     f"{len(r.uses)} use(s)")
        for region in self.regions:
            region.drop_all_references()
        self.drop_operands()
        self.detach()

    def clone(self, mapping: dict[Value, Value] | None = None) -> Operation:
        """Deep copy; operands are remapped through `mapping`, which receives the new results."""
        mapping = {} if mapping is None else mapping
        new = object.__new__(type(self))
        Operation.__init__(new, [mapping.get(v, v) for v in self._operands],
                           [r.type for r in self.results], dict(self.attributes), (),
                           self.location, self._name, [r.name for r in self.results])
        for r_old, r_new in zip(self.results, new.results):
            mapping[r_old] = r_new
        for region in self.regions:
            new.add_region(region.clone(mapping))
        return new

    # -- hooks for registered ops ----------------------------------------------------------
    traits: frozenset = frozenset()

    def has_trait(self, trait) -> bool:
        return trait in type(self).traits

    def verify_(self) -> None:
        """Extra per-op checks; raise VerifyError. Structural checks are done by the verifier."""


class Block:
    """A list of operations with typed arguments; ops are linked for O(1) insert/erase."""

    __slots__ = ("args", "parent", "_first", "_last", "_len", "label")

    def __init__(self, arg_types: Sequence[Type] = (), arg_names: Sequence[str | None] | None = None):
        self.args: list[BlockArgument] = [BlockArgument(t, self, i, arg_names[i] if arg_names else None)
                                          for i, t in enumerate(arg_types)]
        self.parent: Region | None = None
        self._first: Operation | None = None
        self._last: Operation | None = None
        self._len = 0
        self.label: str | None = None

    @property
    def ops(self) -> Iterator[Operation]:
        op = self._first
        while op is not None:
            nxt = op._next
            yield op
            op = nxt

    def __len__(self) -> int:
        return self._len

    @property
    def first_op(self) -> Operation | None:
        return self._first

    @property
    def last_op(self) -> Operation | None:
        return self._last

    @property
    def parent_op(self) -> Operation | None:
        return self.parent.parent if self.parent else None

    def add_arg(self, type: Type, name: str | None = None) -> BlockArgument:
        arg = BlockArgument(type, self, len(self.args), name)
        self.args.append(arg)
        return arg

    def append(self, op: Operation) -> Operation:
        return self._link(op, self._last, None)

    def insert_before(self, op: Operation, anchor: Operation) -> Operation:
        return self._link(op, anchor._prev, anchor)

    def insert_after(self, op: Operation, anchor: Operation) -> Operation:
        return self._link(op, anchor, anchor._next)

    def _link(self, op: Operation, prev: Operation | None, nxt: Operation | None) -> Operation:
        if op.parent is not None:
            raise ValueError(f"{op.op_name} is already in a block; detach it first")
        op.parent, op._prev, op._next = self, prev, nxt
        if prev is None:
            self._first = op
        else:
            prev._next = op
        if nxt is None:
            self._last = op
        else:
            nxt._prev = op
        self._len += 1
        return op

    def _unlink(self, op: Operation) -> None:
        if op._prev is None:
            self._first = op._next
        else:
            op._prev._next = op._next
        if op._next is None:
            self._last = op._prev
        else:
            op._next._prev = op._prev
        op.parent = op._prev = op._next = None
        self._len -= 1

    def drop_all_references(self) -> None:
        for op in self.ops:
            for region in op.regions:
                region.drop_all_references()
            op.drop_operands()

    def clone(self, mapping: dict[Value, Value]) -> Block:
        new = Block([a.type for a in self.args], [a.name for a in self.args])
        new.label = self.label
        for a_old, a_new in zip(self.args, new.args):
            mapping[a_old] = a_new
        for op in self.ops:
            new.append(op.clone(mapping))
        return new


class Region:
    """A list of blocks owned by an operation (function bodies, loop bodies, branches)."""

    __slots__ = ("blocks", "parent")

    def __init__(self, blocks: Sequence[Block] = ()):
        self.blocks: list[Block] = []
        self.parent: Operation | None = None
        for b in blocks:
            self.add_block(b)

    def add_block(self, block: Block) -> Block:
        block.parent = self
        self.blocks.append(block)
        return block

    @property
    def block(self) -> Block:
        """The single block of a single-block region."""
        if len(self.blocks) != 1:
            raise ValueError(f"region has {len(self.blocks)} blocks, not 1")
        return self.blocks[0]

    def drop_all_references(self) -> None:
        for b in self.blocks:
            b.drop_all_references()

    def clone(self, mapping: dict[Value, Value]) -> Region:
        return Region([b.clone(mapping) for b in self.blocks])
