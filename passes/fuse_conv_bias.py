"""`fuse-conv-bias`: `core.add` of a per-channel (or scalar) constant to a convolution's result
becomes (part of) its bias: conv(x, W, b) + c = conv(x, W, b + c)."""
from __future__ import annotations

from dataclasses import dataclass

from mlir_coreml.ir.dialects.core import AddOp, Conv2dOp
from mlir_coreml.ir.rewriter import PatternRewriter, RewritePattern, apply_patterns_greedily
from mlir_coreml.passes._fusion import fold_constant_bias
from mlir_coreml.passes.base import ModulePass, PassContext


class FoldAddIntoConv2dBias(RewritePattern):
    def match_and_rewrite(self, op: AddOp, rewriter: PatternRewriter) -> bool:
        return fold_constant_bias(op, Conv2dOp, 1, rewriter)


@dataclass(frozen=True)
class FuseConvBias(ModulePass):
    name = "fuse-conv-bias"
    description = "fold a per-channel constant add after a convolution into its bias"

    def run(self, module, ctx: PassContext) -> None:
        if apply_patterns_greedily(module, [FoldAddIntoConv2dBias()], fold=False):
            ctx.stat("fuse-conv-bias: adds folded")
