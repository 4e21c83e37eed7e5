"""`fuse-activation`: fold a ReLU into the convolution or inner product that feeds it, as
coremlc does (`fused_relu: 1` on convolutions, `has_relu: 1` on inner products).

The fused layer keeps its own name (and `debug_info`) but takes the ReLU's output blob as its
`top`, so later layers still read the blob name of the source model [V S1-S4].
"""
from __future__ import annotations

from dataclasses import dataclass

from mlir_coreml.ir.attributes import IntAttr
from mlir_coreml.ir.dialects.espresso import ACTIVATION_RELU, ActivationOp, ConvolutionOp, InnerProductOp
from mlir_coreml.passes.base import ModulePass, PassContext
from mlir_coreml.ir.rewriter import PatternRewriter, RewritePattern, apply_patterns_greedily

RELU_FLAGS = {ConvolutionOp: "fused_relu", InnerProductOp: "has_relu"}


class FuseReluIntoProducer(RewritePattern):
    def match_and_rewrite(self, op: ActivationOp, rewriter: PatternRewriter) -> bool:
        if op.mode != ACTIVATION_RELU:
            return False
        producer = getattr(op.input, "op", None)
        flag = RELU_FLAGS.get(type(producer))
        if flag is None or len(op.input.uses) != 1 or producer.attr(flag, 0) or producer.attr("fused_tanh", 0):
            return False
        if any(user.op_name == "func.return" for user in op.output.users):
            return False  # a ReLU giving a model output stays a layer [O: UpdatableDrawingClassifier/model0]
        producer.attributes[flag] = IntAttr(1)
        producer.output.name = op.output.name
        rewriter.modified_in_place(producer)
        rewriter.replace_all_uses_with(op.output, producer.output)
        rewriter.erase_op(op)
        return True


@dataclass(frozen=True)
class FuseActivation(ModulePass):
    name = "fuse-activation"
    description = "fuse ReLU layers into the preceding espresso convolution / inner product"

    def run(self, module, ctx: PassContext) -> None:
        before = sum(1 for _ in module.walk())
        apply_patterns_greedily(module, [FuseReluIntoProducer()], fold=False)
        ctx.stat("fuse-activation: layers removed", before - sum(1 for _ in module.walk()))
