"""Canonicalization patterns of the `core` dialect (run by `canonicalize`): they remove the
noise the converters leave, so later passes and the runtime see one spelling per computation.

Each pattern is attached to its root op class as `canonicalization_patterns` at the end of
this module; folds that need no new ops live on the op classes (`fold`).
"""
from __future__ import annotations

from mlir_coreml.ir.dialects.core.tensor import ReshapeOp, TransposeOp
from mlir_coreml.ir.opdef import build
from mlir_coreml.ir.rewriter import PatternRewriter, RewritePattern


class FoldReshapeOfReshape(RewritePattern):
    """reshape(reshape(x)) -> reshape(x): only the final shape matters."""

    def match_and_rewrite(self, op: ReshapeOp, rewriter: PatternRewriter) -> bool:
        inner = getattr(op.input, "op", None)
        if not isinstance(inner, ReshapeOp) or not op.output.type.is_static:
            return False
        new = build(ReshapeOp, [inner.input], [op.output.type], {"shape": list(op.output.type.shape)},
                    location=op.location)
        rewriter.replace_op(op, new)
        return True


class FoldTransposeOfTranspose(RewritePattern):
    """transpose(transpose(x, p), q) -> transpose(x, p∘q) (an identity result then folds away)."""

    def match_and_rewrite(self, op: TransposeOp, rewriter: PatternRewriter) -> bool:
        inner = getattr(op.input, "op", None)
        if not isinstance(inner, TransposeOp):
            return False
        perm = [inner.perm[p] for p in op.perm]
        new = build(TransposeOp, [inner.input], [op.output.type], {"perm": perm}, location=op.location)
        rewriter.replace_op(op, new)
        return True


ReshapeOp.canonicalization_patterns = (FoldReshapeOfReshape,)
TransposeOp.canonicalization_patterns = (FoldTransposeOfTranspose,)
