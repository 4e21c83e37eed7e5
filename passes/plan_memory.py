"""`plan-memory`: the one liveness analysis of the project. It places every activation of a
function in one arena and writes, as attributes the runtimes read (both the executor and the
generated module bind to them; neither plans anything of its own):

- `arena_size` (bytes) on the function;
- `arena_offset` on each op with a planned result (an int; a list with -1 for unplanned
  results on multi-result ops);
- `last_use` on each op with results: per result, the index (in the function body) of the
  last top-level op that reads it, after which the runtime drops it; -1 for a returned value
  (kept to the end). A use inside a nested region counts at its top-level op;
- `scratch_offset` / `scratch_size` on each op whose kernel call needs step-local fp32
  scratch (`scratch_bytes`): the fp32 staging of a kernel result rounded to fp16. Scratch is
  live during its op only.

The arena holds what the kernels write at fixed addresses: the f32 results of the ops a
runtime runs as one kernel call (`is_kernel_call`; a split has one buffer per result), the
in-place concats (below), and scratch. Other results are arrays the runtime allocates
(reference calls, results rounded to fp16): they get release points but no buffer. A buffer
is live from the op that defines it to its last use (a returned value to the end of the
function). Results of `view_like` ops (reshape, transpose, slice, split: their numpy results
may be views of operand 0) extend the live range of the buffers operand 0 may occupy; those
the generated module runs as a C copy (reshape, transpose, split of f32) also get a buffer of
their own, which the executor, running them as numpy views, leaves unused. Buffers are
placed greedily, largest first, each at the best-fitting gap (the smallest one it fits) among
the already placed buffers whose live ranges overlap its own, at 64-byte-aligned offsets.

The operands of a concat that `concat-in-place` marked live in their slice of the concat's
buffer, which is then live from the first operand's definition on.

Statistics: peak (arena) bytes vs naive bytes (every buffer separate).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlir_coreml.ir.attributes import ArrayAttr, IntAttr
from mlir_coreml.ir.dialects.core import (ActivationOp, Conv2dBlockedOp, Conv2dOp, DepthwisePointwiseOp,
                                          FromBlockedOp, GlobalPoolBlockedOp, GlobalPoolOp, LayerNormOp, LinearOp,
                                          MatmulOp, Pool2dBlockedOp, Pool2dOp, ReshapeOp,
                                          ScaledDotProductAttentionOp, SoftmaxOp, SplitOp, ToBlockedOp,
                                          TransposeOp)
from mlir_coreml.ir.opdef import ConstantLike, Terminator
from mlir_coreml.ir.types import F16, F32, TensorType
from mlir_coreml.passes.base import ModulePass, PassContext

ALIGNMENT = 64
OFFSET_ATTR = "arena_offset"
SIZE_ATTR = "arena_size"
LAST_USE_ATTR = "last_use"
SCRATCH_OFFSET_ATTR = "scratch_offset"
SCRATCH_SIZE_ATTR = "scratch_size"
KEPT = -1  # `last_use` of a returned value
PLAN_ATTRS = (OFFSET_ATTR, LAST_USE_ATTR, SCRATCH_OFFSET_ATTR, SCRATCH_SIZE_ATTR)
# Ops whose kernels write into a given `out=` buffer: the executor (runtime/executor.py) passes
# an f32 result's arena buffer. (softmax also takes out=, but its shape check compares a typed
# ndarray's `.shape` pointer in _kernels.pyx and always fails: reported, left out.)
KERNELS_WRITE_OUT = (Conv2dOp, DepthwisePointwiseOp, LinearOp, MatmulOp, Conv2dBlockedOp, ToBlockedOp,
                     FromBlockedOp)
# Ops a runtime may run as one kernel call computing in fp32 (the executor's kernel builders,
# writing KERNELS_WRITE_OUT in place; the generated module every call with a `KernelCall`): an
# f32 result is written into its arena buffer, an f16 one is staged in fp32 scratch, then
# rounded into a fresh array.
KERNEL_OPS = KERNELS_WRITE_OUT + (Pool2dOp, GlobalPoolOp, SoftmaxOp, ActivationOp, LayerNormOp,
                                  ScaledDotProductAttentionOp, ReshapeOp, TransposeOp, SplitOp,
                                  Pool2dBlockedOp, GlobalPoolBlockedOp)


@dataclass
class Buffer:
    value: object      # the SSA value that owns the buffer (or a `Scratch`)
    size: int          # bytes, aligned
    start: int         # index of the defining op
    end: int           # index of the last op that reads it (or a view of it)
    offset: int = -1

    def overlaps_in_time(self, other: Buffer) -> bool:
        return self.start <= other.end and other.start <= self.end


@dataclass(frozen=True)
class Scratch:
    """The key of an op's scratch buffer."""
    op: object


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


def _is_constant(value) -> bool:
    producer = getattr(value, "op", None)
    return producer is not None and producer.has_trait(ConstantLike)


def row_gemm_shape(op) -> tuple[int, int, int] | None:
    """(rows, K, M) of a statically shaped linear op or matmul by a constant 2-D matrix: the
    ops a runtime runs as a row GEMM."""
    if isinstance(op, LinearOp):
        x = op.input
    elif isinstance(op, MatmulOp) and not op.transpose_a and _is_constant(op.b) and op.b.type.rank == 2:
        x = op.a
    else:
        return None
    xt, yt = x.type, op.output.type
    if not all(isinstance(t, TensorType) and t.is_static and t.rank for t in (xt, yt)):
        return None
    return int(np.prod(yt.shape[:-1], dtype=np.int64)), int(xt.shape[-1]), int(yt.shape[-1])


def is_kernel_call(op) -> bool:
    """Whether a runtime may run `op` as one kernel call writing at a fixed address (a matmul:
    by a constant 2-D matrix, a row GEMM; or of two activations, a batched matmul)."""
    if not isinstance(op, KERNEL_OPS):
        return False
    if isinstance(op, MatmulOp):
        return row_gemm_shape(op) is not None or not (op.transpose_a or op.transpose_b or _is_constant(op.b))
    return True


def scratch_bytes(op) -> int:
    """The step-local scratch `op`'s kernel call needs: the fp32 staging of a result rounded
    to fp16 (the row GEMM reads and writes rows in place: no transposed copies)."""
    if is_kernel_call(op) and op.results:
        t = op.results[0].type
        if isinstance(t, TensorType) and t.is_static and t.element == F16:
            return 4 * t.num_elements
    return 0


def concat_slices(ops) -> dict:
    """operand -> (concat result, byte offset) for the concats marked in place."""
    from mlir_coreml.passes.concat_in_place import is_in_place, operand_slices

    return {v: (op.results[0], delta) for op in ops if op.op_name == "core.concat" and is_in_place(op)
            for v, delta in operand_slices(op)}


def is_planned(op) -> bool:
    """Whether `op` (a top-level op of a function body) is a step of the plan."""
    return not (op.has_trait(Terminator) or op.has_trait(ConstantLike))


def last_uses(ops: list) -> dict:
    """value -> index of the last top-level op reading it (KEPT: returned), for every result
    of a planned op; a use inside a nested region counts at its top-level op."""
    index = {id(op): i for i, op in enumerate(ops)}
    last: dict = {}
    for i, op in enumerate(ops):
        if not is_planned(op):
            continue
        for r in op.results:
            end = i
            for use in r.uses:
                user = use.operation
                while user is not None and id(user) not in index:
                    user = user.parent_op
                if user is None:
                    continue
                if user.has_trait(Terminator):
                    end = KEPT
                    break
                end = max(end, index[id(user)])
            last[r] = end
    return last


def live_buffers(fn, within: dict | None = None, last: dict | None = None) -> list[Buffer]:
    """The buffers of `fn`'s top-level ops with their live ranges (operands of in-place
    concats, `within`, in their concat's buffer; views extending the buffers they may view)
    and the scratch buffers of their kernel calls."""
    ops = list(fn.body.ops)
    within = concat_slices(ops) if within is None else within
    last = last_uses(ops) if last is None else last
    memory: dict = {}      # value -> the owners of the buffers it may occupy (its own, or viewed)
    buffers: dict = {}     # owning value (or Scratch) -> Buffer
    for i, op in enumerate(ops):
        if not is_planned(op) or op.regions:
            continue
        scratch = scratch_bytes(op)
        if scratch:
            buffers[Scratch(op)] = Buffer(Scratch(op), align(scratch), i, i)
        kernel = is_kernel_call(op)
        for r in op.results:
            if r in buffers:
                continue  # an in-place concat: its buffer began with its first operand
            if r in within:
                whole = within[r][0]
                memory[r] = memory[whole] = (whole,)
                buffers.setdefault(whole, Buffer(whole, align(value_bytes(whole)), i, i))
                continue
            viewed = memory.get(op.operands[0], ()) if getattr(op, "view_like", False) and op.operands else ()
            size = value_bytes(r) if kernel and r.type.element == F32 else None
            if size:
                buffers[r] = Buffer(r, align(size), i, i)
            if size or viewed:
                memory[r] = ((r,) if size else ()) + viewed
    for value, owners in memory.items():
        end = last.get(value)
        for owner in owners if end is not None else ():
            buffers[owner].end = max(buffers[owner].end, len(ops) if end == KEPT else end)
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


def _per_result(op, name: str, default: int) -> list[int]:
    attr = op.attributes.get(name)
    if attr is None:
        return [default] * len(op.results)
    if isinstance(attr, IntAttr):
        return [attr.data]
    return [a.data for a in attr.data]


def result_offsets(op) -> list[int]:
    """The arena offset of each result of `op` (-1: not in the arena)."""
    return _per_result(op, OFFSET_ATTR, -1)


def result_last_uses(op) -> list[int] | None:
    """`last_use` of each result of `op`; None when plan-memory did not plan it."""
    return _per_result(op, LAST_USE_ATTR, 0) if LAST_USE_ATTR in op.attributes else None


def scratch_of(op) -> tuple[int, int]:
    """(byte offset, bytes) of `op`'s scratch in the arena; (-1, 0) when it has none."""
    size = op.attributes.get(SCRATCH_SIZE_ATTR)
    if size is None:
        return -1, 0
    return op.attributes[SCRATCH_OFFSET_ATTR].value, size.value


def arena_size(fn) -> int | None:
    """The planned arena bytes of function `fn`; None when plan-memory has not run on it."""
    attr = fn.attributes.get(SIZE_ATTR)
    return None if attr is None else attr.value


def _ints(values: list[int]):
    return IntAttr(values[0]) if len(values) == 1 else ArrayAttr(tuple(IntAttr(v) for v in values))


@dataclass(frozen=True)
class PlanMemory(ModulePass):
    name = "plan-memory"
    description = ("the one liveness analysis: arena offsets, release points and kernel scratch "
                   "(greedy best-fit, 64-byte aligned)")

    def run(self, module, ctx: PassContext) -> None:
        for fn in module.walk():
            if fn.op_name != "func.func" or not fn.regions or not fn.regions[0].blocks:
                continue
            self.plan_function(fn, ctx)

    def plan_function(self, fn, ctx: PassContext) -> None:
        ops = list(fn.body.ops)
        for op in ops:
            for name in PLAN_ATTRS:
                op.attributes.pop(name, None)
        within = concat_slices(ops)
        last = last_uses(ops)
        buffers = live_buffers(fn, within, last)
        arena = place_buffers(buffers)
        offsets = {b.value: b.offset for b in buffers}
        offsets.update({v: offsets[whole] + delta for v, (whole, delta) in within.items() if whole in offsets})
        for op in ops:
            found = [offsets.get(r, -1) for r in op.results]
            if any(o >= 0 for o in found):
                op.attributes[OFFSET_ATTR] = _ints(found)
            if op.results and is_planned(op):
                op.attributes[LAST_USE_ATTR] = _ints([last[r] for r in op.results])
            scratch = offsets.get(Scratch(op))
            if scratch is not None:
                op.attributes[SCRATCH_OFFSET_ATTR] = IntAttr(scratch)
                op.attributes[SCRATCH_SIZE_ATTR] = IntAttr(scratch_bytes(op))
        fn.attributes[SIZE_ATTR] = IntAttr(arena)
        ctx.stat("plan-memory: buffers", len(buffers))
        ctx.stat("plan-memory: naive bytes", sum(b.size for b in buffers))
        ctx.stat("plan-memory: peak bytes", arena)
        ctx.stat("plan-memory: live-bytes lower bound", peak_live_bytes(buffers))
