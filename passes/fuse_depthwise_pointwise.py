"""`fuse-depthwise-pointwise{min-bytes=262144}`: a depthwise `core.conv2d` whose only reader is a
1x1 convolution becomes one `core.depthwise_pointwise` (MobileNet's blocks), which the kernel
computes in bands of output rows so the depthwise result never makes a round trip through
memory (csrc/dwpw.c).

Fused only where that saves a pass over memory: the depthwise result (fp32) is at least
`min-bytes` (smaller ones stay in cache between the two kernels anyway), shapes are static and
f32 (an f16 result would be rounded between the two convolutions; the fused op does not round).
Run after fuse-epilogue: the depthwise activation and the 1x1's bias, residual and activation
move into the fused op's attributes. Not in `coreml-cpu` yet (passes/pipelines.py says why).
"""
from __future__ import annotations

from dataclasses import dataclass

from mlir_coreml.ir.dialects.core import Conv2dOp, DepthwisePointwiseOp
from mlir_coreml.ir.opdef import build
from mlir_coreml.ir.rewriter import PatternRewriter, RewritePattern, apply_patterns_greedily
from mlir_coreml.ir.types import F32
from mlir_coreml.passes._matching import sole_user
from mlir_coreml.passes.base import ModulePass, PassContext


def _static_f32(value) -> bool:
    t = value.type
    return getattr(t, "is_static", False) and t.element == F32 and t.rank == 4


def is_depthwise(op) -> bool:
    if not isinstance(op, Conv2dOp):
        return False
    w = op.weight.type
    return w.is_static and w.shape[1] == 1 and op.groups == w.shape[0] > 1


def is_pointwise(op: Conv2dOp) -> bool:
    w = op.weight.type
    return w.is_static and tuple(w.shape[2:]) == (1, 1) and op.groups == 1 and tuple(op.strides) == (1, 1) \
        and not any(op.pads) and op.algorithm in ("auto", "gemm")


class FuseDepthwisePointwise(RewritePattern):
    def __init__(self, min_bytes: int):
        self.min_bytes = min_bytes

    def match_and_rewrite(self, op: Conv2dOp, rewriter: PatternRewriter) -> bool:
        dw = getattr(op.input, "op", None)
        if not is_pointwise(op) or dw is None or not is_depthwise(dw) or sole_user(op.input) is not op:
            return False
        if dw.residual is not None or not all(_static_f32(v) for v in (dw.input, op.input, op.output)):
            return False
        if op.input.type.num_elements * 4 < self.min_bytes:
            return False
        operands = {"input": dw.input, "dw_weight": dw.weight, "dw_bias": dw.bias, "pw_weight": op.weight,
                    "bias": op.bias, "residual": op.residual}
        attributes = {"strides": dw.strides, "dilations": dw.dilations, "pads": dw.pads,
                      "dw_activation": dw.activation, "dw_alpha": dw.alpha, "dw_beta": dw.beta,
                      "activation": op.activation, "alpha": op.alpha, "beta": op.beta}
        fused = build(DepthwisePointwiseOp, operands, [op.output.type], attributes, location=op.location)
        rewriter.replace_op(op, fused)
        rewriter.erase_op(dw)
        return True


@dataclass(frozen=True)
class FuseDepthwisePointwiseConv(ModulePass):
    name = "fuse-depthwise-pointwise"
    description = "fuse a depthwise conv2d with the 1x1 conv2d reading it where its result would leave the cache"

    min_bytes: int = 256 * 1024

    def run(self, module, ctx: PassContext) -> None:
        if apply_patterns_greedily(module, [FuseDepthwisePointwise(self.min_bytes)], fold=False):
            ctx.stat("fuse-depthwise-pointwise: rewrites")
