"""`fuse-linear-bias`: `core.add` of a constant vector (one value per output feature, or one
for all) to a linear layer's result becomes (part of) its bias."""
from __future__ import annotations

from dataclasses import dataclass

from mlir_coreml.ir.dialects.core import AddOp, LinearOp
from mlir_coreml.ir.rewriter import PatternRewriter, RewritePattern, apply_patterns_greedily
from mlir_coreml.passes._fusion import fold_constant_bias
from mlir_coreml.passes.base import ModulePass, PassContext


class FoldAddIntoLinearBias(RewritePattern):
    def match_and_rewrite(self, op: AddOp, rewriter: PatternRewriter) -> bool:
        return fold_constant_bias(op, LinearOp, -1, rewriter)


@dataclass(frozen=True)
class FuseLinearBias(ModulePass):
    name = "fuse-linear-bias"
    description = "fold a constant vector add after a linear layer into its bias"

    def run(self, module, ctx: PassContext) -> None:
        if apply_patterns_greedily(module, [FoldAddIntoLinearBias()], fold=False):
            ctx.stat("fuse-linear-bias: adds folded")
