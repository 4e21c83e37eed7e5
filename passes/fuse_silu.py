"""`fuse-silu`: x * sigmoid(x) -> core.silu(x) (one pass over the data, a kernel activation)."""
from __future__ import annotations

from dataclasses import dataclass

from mlir_coreml.ir.dialects.core import MulOp, SigmoidOp, SiluOp
from mlir_coreml.ir.opdef import build
from mlir_coreml.ir.rewriter import PatternRewriter, RewritePattern, apply_patterns_greedily
from mlir_coreml.passes._matching import defining
from mlir_coreml.passes.base import ModulePass, PassContext


class RecognizeSilu(RewritePattern):
    def match_and_rewrite(self, op: MulOp, rewriter: PatternRewriter) -> bool:
        for x, other in ((op.lhs, op.rhs), (op.rhs, op.lhs)):
            sig = defining(other, SigmoidOp)
            if sig is not None and sig.input is x and x.type == op.output.type:
                rewriter.replace_op(op, build(SiluOp, [x], [op.output.type], location=op.location))
                return True
        return False


@dataclass(frozen=True)
class FuseSilu(ModulePass):
    name = "fuse-silu"
    description = "recognise x * sigmoid(x) as silu"

    def run(self, module, ctx: PassContext) -> None:
        if apply_patterns_greedily(module, [RecognizeSilu()]):
            ctx.stat("fuse-silu: recognised")
