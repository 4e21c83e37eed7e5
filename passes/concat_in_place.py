"""`concat-in-place`: mark the concats whose operands can be written straight into their slice
of the result (`in_place = true`): plan-memory then gives the operands no buffers of their own
but that slice, and the generated module skips the copy.

A concat qualifies when its result is static f32 and one contiguous run per operand (every dim
before the axis is 1), and each operand is a distinct, single-use, non-returned result of a
top-level op that computes it (not a view, argument or constant)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlir_coreml.ir.attributes import BoolAttr
from mlir_coreml.ir.dialects.core import ConcatOp
from mlir_coreml.ir.opdef import ConstantLike
from mlir_coreml.ir.types import F32
from mlir_coreml.passes._matching import sole_user
from mlir_coreml.passes.base import ModulePass, PassContext

IN_PLACE_ATTR = "in_place"


def is_in_place(op) -> bool:
    attr = op.attributes.get(IN_PLACE_ATTR)
    return attr is not None and bool(attr.value)


def operand_slices(op) -> list[tuple[object, int]]:
    """(operand, byte offset inside the result) of an in-place concat."""
    out, delta = [], 0
    for v in op.inputs:
        out.append((v, delta))
        delta += v.type.num_elements * v.type.element.numpy_dtype.itemsize
    return out


def qualifies(op, block) -> bool:
    t = op.output.type
    if not (t.is_static and t.element == F32) or len(set(op.inputs)) != len(op.inputs):
        return False
    if int(np.prod(t.shape[:op.axis % t.rank], dtype=np.int64)) != 1:
        return False
    for v in op.inputs:
        producer = getattr(v, "op", None)
        if producer is None or producer.parent is not block or producer.regions or \
                producer.has_trait(ConstantLike) or getattr(producer, "view_like", False):
            return False
        # read by the concat alone: neither returned nor read by another op
        if sole_user(v) is not op or v.type.element != F32 or not v.type.is_static:
            return False
    return True


@dataclass(frozen=True)
class ConcatInPlace(ModulePass):
    name = "concat-in-place"
    description = "let a concat's operands be computed into their slice of its result"

    def run(self, module, ctx: PassContext) -> None:
        for fn in module.walk():
            if fn.op_name != "func.func" or not fn.regions or not fn.regions[0].blocks:
                continue
            for op in fn.body.ops:
                if isinstance(op, ConcatOp) and qualifies(op, fn.body):
                    op.attributes[IN_PLACE_ATTR] = BoolAttr(True)
                    ctx.stat("concat-in-place: concats")
