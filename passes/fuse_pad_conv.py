"""`fuse-pad-conv`: a zero `core.pad` of the spatial dims feeding a convolution becomes the
convolution's own padding (the kernels pad on the fly; the padded copy disappears)."""
from __future__ import annotations

from dataclasses import dataclass

from mlir_coreml.ir.dialects.core import Conv2dOp, PadOp
from mlir_coreml.ir.opdef import build
from mlir_coreml.ir.rewriter import PatternRewriter, RewritePattern, apply_patterns_greedily
from mlir_coreml.passes.base import ModulePass, PassContext


class FoldPadIntoConv2d(RewritePattern):
    def match_and_rewrite(self, op: Conv2dOp, rewriter: PatternRewriter) -> bool:
        pad = getattr(op.input, "op", None)
        if not isinstance(pad, PadOp) or pad.mode != "constant" or pad.value != 0.0 or len(pad.pads) != 8:
            return False
        if any(pad.pads[:4]):
            return False  # batch or channel padding is not a convolution's
        top, bottom, left, right = pad.pads[4:]
        pads = [a + b for a, b in zip(op.pads, (top, bottom, left, right))]
        attributes = {k: v for k, v in op.attributes.items() if k != "operand_segments"}
        attributes["pads"] = pads
        operands = {"input": pad.input, "weight": op.weight, "bias": op.bias, "residual": op.residual}
        rewriter.replace_op(op, build(Conv2dOp, operands, [op.output.type], attributes, location=op.location))
        return True


@dataclass(frozen=True)
class FusePadConv(ModulePass):
    name = "fuse-pad-conv"
    description = "fold a zero spatial pad before a convolution into the convolution's padding"

    def run(self, module, ctx: PassContext) -> None:
        if apply_patterns_greedily(module, [FoldPadIntoConv2d()], fold=False):
            ctx.stat("fuse-pad-conv: pads folded")
