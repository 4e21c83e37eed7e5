"""`fuse-conv-scale`: `core.mul` of a convolution's result by a per-channel (or scalar) constant
folds into the weights and bias: conv(x, W, b) * s = conv(x, W*s, b*s)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlir_coreml.ir.dialects.core import Conv2dOp, MulOp
from mlir_coreml.ir.rewriter import PatternRewriter, RewritePattern, apply_patterns_greedily
from mlir_coreml.passes._fusion import constant_weights, other_operand, per_channel, plain_producer, rebuild
from mlir_coreml.passes.base import ModulePass, PassContext


class FoldScaleIntoConv2d(RewritePattern):
    def match_and_rewrite(self, op: MulOp, rewriter: PatternRewriter) -> bool:
        for value in (op.lhs, op.rhs):
            conv = plain_producer(value, (Conv2dOp,))
            if conv is None or op.output.type != value.type:
                continue
            weights = constant_weights(conv)
            scale = per_channel(other_operand(op, value), value.type.shape[1], 1, 4)
            if weights is None or scale is None:
                continue
            w, b = weights
            new_w = (w.astype(np.float64) * scale.reshape(-1, 1, 1, 1)).astype(np.float32).astype(w.dtype)
            new_b = None if b is None else (b.astype(np.float64) * scale).astype(np.float32)
            rebuild(conv, rewriter, op, weight=new_w, bias=new_b)
            return True
        return False


@dataclass(frozen=True)
class FuseConvScale(ModulePass):
    name = "fuse-conv-scale"
    description = "fold a per-channel constant multiply after a convolution into its weights and bias"

    def run(self, module, ctx: PassContext) -> None:
        if apply_patterns_greedily(module, [FoldScaleIntoConv2d()], fold=False):
            ctx.stat("fuse-conv-scale: scales folded")
