"""`fuse-epilogue`: the residual add and the activation after a `core.conv2d`, `core.linear`
or `core.matmul` become that op's epilogue attributes (`residual` operand, `activation`/`alpha`/`beta`), which
the kernels apply while the result is still in registers: `act(x * W + bias + residual)`.

Run after fuse-conv-batchnorm / fuse-conv-bias (batch norm and bias fold into the weights).
"""
from __future__ import annotations

from dataclasses import dataclass

from mlir_coreml.ir.core import Operation
from mlir_coreml.ir.dialects.core import ACTIVATIONS, KERNEL_ACTIVATIONS, ActivationOp, AddOp
from mlir_coreml.ir.rewriter import PatternRewriter, RewritePattern, apply_patterns_greedily
from mlir_coreml.passes._fusion import other_operand, plain_producer, rebuild
from mlir_coreml.passes.base import ModulePass, PassContext


class FuseResidualAdd(RewritePattern):
    """add(conv(x), r) -> conv(x){residual = r} when r has the result's type."""

    def match_and_rewrite(self, op: AddOp, rewriter: PatternRewriter) -> bool:
        for value in (op.lhs, op.rhs):
            producer = plain_producer(value)
            other = other_operand(op, value)
            if producer is None or other is None or other.type != value.type or op.output.type != value.type:
                continue
            rebuild(producer, rewriter, op, residual=other)
            return True
        return False


class FuseActivation(RewritePattern):
    """act(conv(x){residual}) -> conv(x){residual, activation = act}, for the activations in
    `allowed` (by default those the kernels apply in their epilogue)."""

    def __init__(self, allowed=KERNEL_ACTIVATIONS):
        self.allowed = allowed

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> bool:
        if not isinstance(op, ActivationOp):
            return False
        act, alpha, beta = op.activation()
        producer = plain_producer(op.input, allow_residual=True)
        if producer is None or act not in self.allowed or op.output.type != op.input.type:
            return False
        rebuild(producer, rewriter, op, activation=act, alpha=float(alpha), beta=float(beta))
        return True


@dataclass(frozen=True)
class FuseEpilogue(ModulePass):
    name = "fuse-epilogue"
    description = "fold residual adds and activations into conv2d/linear/matmul epilogue attributes"
    residual: bool = True
    # False: also fold activations the kernels lack (the runtime applies them after the kernel)
    kernel_activations_only: bool = True

    def run(self, module, ctx: PassContext) -> None:
        allowed = KERNEL_ACTIVATIONS if self.kernel_activations_only else frozenset(ACTIVATIONS)
        patterns = [FuseActivation(allowed)] + ([FuseResidualAdd()] if self.residual else [])
        if apply_patterns_greedily(module, patterns, fold=False):
            ctx.stat("fuse-epilogue: rewrites")
