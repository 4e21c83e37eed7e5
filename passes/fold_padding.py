"""`fold-padding`: fold a constant-zero `nn.padding` into the `valid` padding amounts of the
`nn.convolution` that reads it.

coremlc 2020 and later do this (S2 FindFour: all three `conv*_pad` layers became the next
convolution's `pad_b`/`pad_r`); the 2019 compiler kept them as `general_padding` (S1
FourRecognize, same layer pattern) [O: two samples]. The lowering adds this pass by era.
"""
from __future__ import annotations

from dataclasses import dataclass

from mlir_coreml.ir.attributes import to_attr
from mlir_coreml.passes.base import ModulePass, PassContext
from mlir_coreml.ir.rewriter import PatternRewriter, RewritePattern, apply_patterns_greedily


def _edges(border: dict | None) -> list[tuple[int, int]]:
    """[(start, end) for H, (start, end) for W] of a BorderAmounts dict."""
    edges = list((border or {}).get("borderAmounts", ()))
    edges += [{}] * (2 - len(edges))
    return [(int(e.get("startEdgeSize", 0)), int(e.get("endEdgeSize", 0))) for e in edges[:2]]


def _border(edges) -> dict:
    return {"borderAmounts": [{"startEdgeSize": start, "endEdgeSize": end} for start, end in edges]}


class FoldPaddingIntoConvolution(RewritePattern):
    root = "nn.padding"

    def match_and_rewrite(self, op, rewriter: PatternRewriter) -> bool:
        constant = op.attr("constant")
        if constant is None or float(constant.get("value", 0.0)) != 0.0 or len(op.outputs[0].uses) != 1:
            return False
        conv = op.outputs[0].uses[0].operation
        if conv.op_name != "nn.convolution" or conv.attr("isDeconvolution", False) or conv.attr("same") is not None:
            return False
        if conv.operands[0] is not op.outputs[0] or len(conv.inputs) != 1:
            return False
        pad = _edges(op.attr("paddingAmounts"))
        valid = dict(conv.attr("valid") or {})
        own = _edges(valid.get("paddingAmounts"))
        valid["paddingAmounts"] = _border([(a + c, b + d) for (a, b), (c, d) in zip(own, pad)])
        conv.attributes["valid"] = to_attr(valid)
        conv.set_operand(0, op.inputs[0])
        rewriter.modified_in_place(conv)
        rewriter.erase_op(op)
        return True


@dataclass(frozen=True)
class FoldPadding(ModulePass):
    name = "fold-padding"
    description = "fold zero padding layers into the next convolution's padding"

    def run(self, module, ctx: PassContext) -> None:
        count = sum(1 for op in module.walk() if op.op_name == "nn.padding")
        apply_patterns_greedily(module, [FoldPaddingIntoConvolution()], fold=False)
        ctx.stat("fold-padding: layers folded", count - sum(1 for op in module.walk() if op.op_name == "nn.padding"))
