"""Pickling IR without deep recursion: `IRPickler(file, protocol=5, ...)`, read back by plain
`pickle.load`.

Pickle's default reduction follows every reference depth-first, and IR is one long chain of
them (an op's `_next` sibling, each value's `uses`), so a model of a few thousand ops exceeds
the recursion limit. Here a block is reduced to its arguments and its ops in order, an op to
its operands, results, attributes and regions (no sibling or parent links), a value to its
type, name and owner (no uses). Because SSA values are defined before they are used, every
operand is already in pickle's memo when an op refers to it: the depth follows the nesting of
regions, not the length of the program. Loading links the ops back into their blocks and
rebuilds the use lists. A lazily loaded resource (`ResourceBlob` with a loader) is stored by
its array, so the pickle never holds a closure.
"""
from __future__ import annotations

import pickle

from mlir_coreml.ir.attributes import ResourceBlob
from mlir_coreml.ir.core import Block, Operation, Use, Value

OP_LINKS = frozenset({"parent", "_prev", "_next", "__weakref__"})  # restored by the block
VALUE_LINKS = frozenset({"uses"})  # rebuilt from the operands


class IRPickler(pickle.Pickler):
    def reducer_override(self, obj):
        if isinstance(obj, Operation):
            return _new, (type(obj),), _state(obj, OP_LINKS), None, None, _set_op
        if isinstance(obj, Value):
            return _new, (type(obj),), _state(obj, VALUE_LINKS), None, None, _set_value
        if type(obj) is Block:
            return _new, (Block,), (obj.args, obj.label, obj.parent, list(obj.ops)), None, None, _set_block
        if type(obj) is ResourceBlob:
            return ResourceBlob, (obj.array(), None, obj.origin)
        return NotImplemented


def _new(cls):
    return object.__new__(cls)


def _slots(cls) -> list[str]:
    return [name for klass in cls.__mro__ for name in getattr(klass, "__slots__", ())]


def _state(obj, links: frozenset) -> dict:
    """The object's slots and instance dict, without the links the block restores."""
    state = {name: getattr(obj, name) for name in _slots(type(obj)) if name not in links and hasattr(obj, name)}
    state.update(getattr(obj, "__dict__", {}))
    return state


def _set_op(op: Operation, state: dict) -> None:
    for name, value in state.items():
        setattr(op, name, value)
    op.parent = op._prev = op._next = None


def _set_value(value: Value, state: dict) -> None:
    for name, item in state.items():
        setattr(value, name, item)
    value.uses = []


def _set_block(block: Block, state: tuple) -> None:
    block.args, block.label, block.parent, ops = state
    block._first = block._last = None
    block._len = 0
    for op in ops:
        block.append(op)
        for index, operand in enumerate(op.operands):
            operand.uses.append(Use(op, index))
