"""`plan-memory`: place every activation of a function in one arena, by liveness.

A value is live from the op that defines it to its last use (a returned value to the end of
the function). Results of `view_like` ops (reshape, transpose, slice, split: their numpy
results may be views of operand 0) get no buffer of their own: they extend the live range of
the buffer they view. Buffers are placed greedily, largest first, each at the best-fitting
gap (the smallest one it fits) among the already placed buffers whose live ranges overlap
its own, at 64-byte-aligned offsets.

The operands of a concat that `concat-in-place` marked live in their slice of the concat's
buffer, which is then live from the first operand's definition on.

Results: `arena_offset` on each op with a planned result (an int; a list with -1 for
unplanned results on multi-result ops), `arena_size` (bytes) on the function. Statistics:
peak (arena) bytes vs naive bytes (every buffer separate).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlir_coreml.ir.attributes import ArrayAttr, IntAttr
from mlir_coreml.ir.opdef import ConstantLike, Terminator
from mlir_coreml.ir.types import TensorType
from mlir_coreml.passes.base import ModulePass, PassContext

ALIGNMENT = 64
OFFSET_ATTR = "arena_offset"
SIZE_ATTR = "arena_size"


@dataclass
class Buffer:
    value: object      # the SSA value that owns the buffer
    size: int          # bytes, aligned
    start: int         # index of the defining op
    end: int           # index of the last op that reads it (or a view of it)
    offset: int = -1

    def overlaps_in_time(self, other: Buffer) -> bool:
        return self.start <= other.end and other.start <= self.end


def align(n: int, alignment: int = ALIGNMENT) -> int:
    return -(-n // alignment) * alignment


def value_bytes(value) -> int | None:
    """Bytes of a statically shaped tensor value with a numpy dtype, else None."""
    t = value.type
    if not isinstance(t, TensorType) or not t.is_static:
        return None
    try:
        itemsize = t.element.numpy_dtype.itemsize
    except TypeError:
        return None
    if t.element.numpy_dtype == np.dtype(object):
        return None
    return t.num_elements * itemsize


def concat_slices(ops) -> dict:
    """operand -> (concat result, byte offset) for the concats marked in place."""
    from mlir_coreml.passes.concat_in_place import is_in_place, operand_slices

    return {v: (op.results[0], delta) for op in ops if op.op_name == "core.concat" and is_in_place(op)
            for v, delta in operand_slices(op)}


def live_buffers(fn, within: dict | None = None) -> list[Buffer]:
    """The buffers of `fn`'s top-level ops with their live ranges (views merged into roots;
    operands of in-place concats, `within`, into their concat's buffer)."""
    ops = list(fn.body.ops)
    within = concat_slices(ops) if within is None else within
    index = {id(op): i for i, op in enumerate(ops)}
    end_of_function = len(ops)
    root: dict = {}        # value -> value owning its memory
    buffers: dict = {}     # owning value -> Buffer
    for i, op in enumerate(ops):
        if op.has_trait(Terminator) or op.has_trait(ConstantLike) or op.regions:
            continue
        for r in op.results:
            if r in buffers:
                continue  # an in-place concat: its buffer began with its first operand
            if r in within:
                whole = within[r][0]
                root[r] = root[whole] = whole
                buffers.setdefault(whole, Buffer(whole, align(value_bytes(whole)), i, i))
                continue
            if getattr(op, "view_like", False) and op.operands:
                if op.operands[0] in root:  # else it views an input or a constant: no buffer
                    root[r] = root[op.operands[0]]
                continue
            size = value_bytes(r)
            if size is None or size == 0:
                continue
            root[r] = r
            buffers[r] = Buffer(r, align(size), i, i)
    for value, owner in root.items():
        buf = buffers[owner]
        for use in value.uses:
            user = use.operation
            while user is not None and id(user) not in index:
                user = user.parent_op  # a use inside a nested region counts at its top-level op
            if user is None:
                continue
            last = end_of_function if user.has_trait(Terminator) else index[id(user)]
            buf.end = max(buf.end, last)
    return list(buffers.values())


def place_buffers(buffers: list[Buffer]) -> int:
    """Greedy best-fit by size; sets each buffer's offset and returns the arena size."""
    placed: list[Buffer] = []
    arena = 0
    for buf in sorted(buffers, key=lambda b: (-b.size, b.start)):
        busy = sorted((p for p in placed if p.overlaps_in_time(buf)), key=lambda p: p.offset)
        best, best_gap, cursor = None, None, 0
        for p in busy:
            gap = p.offset - cursor
            if gap >= buf.size and (best_gap is None or gap < best_gap):
                best, best_gap = cursor, gap
            cursor = max(cursor, p.offset + p.size)
        buf.offset = cursor if best is None else best
        arena = max(arena, buf.offset + buf.size)
        placed.append(buf)
    return arena


def peak_live_bytes(buffers: list[Buffer]) -> int:
    """The lower bound for any placement: the most bytes live at one time."""
    events = sorted({b.start for b in buffers})
    return max((sum(b.size for b in buffers if b.start <= t <= b.end) for t in events), default=0)


def result_offsets(op) -> list[int]:
    """The arena offset of each result of `op` (-1: not in the arena)."""
    attr = op.attributes.get(OFFSET_ATTR)
    if attr is None:
        return [-1] * len(op.results)
    if isinstance(attr, IntAttr):
        return [attr.data]
    return [a.data for a in attr.data]


@dataclass(frozen=True)
class PlanMemory(ModulePass):
    name = "plan-memory"
    description = "liveness-based arena offsets for activations (greedy best-fit, 64-byte aligned)"

    def run(self, module, ctx: PassContext) -> None:
        for fn in module.walk():
            if fn.op_name != "func.func" or not fn.regions or not fn.regions[0].blocks:
                continue
            self.plan_function(fn, ctx)

    def plan_function(self, fn, ctx: PassContext) -> None:
        for op in fn.body.ops:
            op.attributes.pop(OFFSET_ATTR, None)
        within = concat_slices(list(fn.body.ops))
        buffers = live_buffers(fn, within)
        arena = place_buffers(buffers)
        offsets = {b.value: b.offset for b in buffers}
        offsets.update({v: offsets[whole] + delta for v, (whole, delta) in within.items() if whole in offsets})
        for op in fn.body.ops:
            found = [offsets.get(r, -1) for r in op.results]
            if all(o < 0 for o in found):
                continue
            op.attributes[OFFSET_ATTR] = IntAttr(found[0]) if len(found) == 1 else \
                ArrayAttr(tuple(IntAttr(o) for o in found))
        fn.attributes[SIZE_ATTR] = IntAttr(arena)
        ctx.stat("plan-memory: buffers", len(buffers))
        ctx.stat("plan-memory: naive bytes", sum(b.size for b in buffers))
        ctx.stat("plan-memory: peak bytes", arena)
        ctx.stat("plan-memory: live-bytes lower bound", peak_live_bytes(buffers))
