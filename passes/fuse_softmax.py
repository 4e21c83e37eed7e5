"""`fuse-softmax`: exp(x - max(x)) / sum(exp(x - max(x))) over one axis (or without the max
shift) becomes `core.softmax`, which the kernels run in one pass per row."""
from __future__ import annotations

from dataclasses import dataclass

from mlir_coreml.ir.dialects.core import DivOp, ExpOp, ReduceOp, SoftmaxOp, SubOp
from mlir_coreml.ir.opdef import build
from mlir_coreml.ir.rewriter import PatternRewriter, RewritePattern, apply_patterns_greedily
from mlir_coreml.ir.shapes import normalize_axes
from mlir_coreml.passes._matching import defining
from mlir_coreml.passes.base import ModulePass, PassContext


def single_axis_reduction(value, kind: str, of) -> int | None:
    """The axis of `value = reduce_<kind>(of, [axis], keepdims)`, else None."""
    r = defining(value, ReduceOp)
    if r is None or r.kind != kind or not r.keepdims or r.input is not of or len(r.axes) != 1:
        return None
    return normalize_axes(r.axes, of.type.rank)[0]


class RecognizeSoftmax(RewritePattern):
    def match_and_rewrite(self, op: DivOp, rewriter: PatternRewriter) -> bool:
        exp = defining(op.lhs, ExpOp)
        axis = single_axis_reduction(op.rhs, "sum", op.lhs) if exp is not None else None
        if axis is None or not op.lhs.type.is_static or op.output.type != op.lhs.type:
            return False
        x = exp.input
        shift = defining(x, SubOp)
        if shift is not None and single_axis_reduction(shift.rhs, "max", shift.lhs) == axis:
            x = shift.lhs  # the max shift only guards the exponent: softmax does it itself
        if x.type != op.output.type:
            return False
        rewriter.replace_op(op, build(SoftmaxOp, [x], [op.output.type], {"axis": axis}, location=op.location))
        return True


@dataclass(frozen=True)
class FuseSoftmax(ModulePass):
    name = "fuse-softmax"
    description = "recognise exp / sum(exp) (with or without the max shift) as softmax"

    def run(self, module, ctx: PassContext) -> None:
        if apply_patterns_greedily(module, [RecognizeSoftmax()]):
            ctx.stat("fuse-softmax: recognised")
