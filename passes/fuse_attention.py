"""`fuse-attention`: scaled-dot-product attention spelled out by converters becomes one
`core.scaled_dot_product_attention`, which the runtime runs as one kernel:

    s = q @ k^T (matmul transpose_b, or of a transposed k) times scalar constants (on the
    scores or on q), plus an optional additive mask; p = softmax(s, axis=-1); y = p @ v

Then, when q, k and v are each a [B, S, H, E] -> [B, H, S, E] transpose and the result's only
reader transposes it back (the head split/merge around a multi-head attention), the op reads
and writes the [B, S, H, E] tensors directly (layout "bshd"): the four transposes go.
When those are in turn reshapes of [B, S, H * E] tensors (each perhaps one piece of a split
along the channels: the fused q/k/v projection) and the result's only reader merges the heads
back to [B, S, H * Ev], the op reads the projections' channels by offset (layout "bsc"):
the split and the reshapes, views a runtime would otherwise copy, go too.
Run after fuse-softmax."""
from __future__ import annotations

from dataclasses import dataclass

from mlir_coreml.ir.dialects.core import (AddOp, MatmulOp, ReshapeOp, ScaledDotProductAttentionOp, SoftmaxOp,
                                          SplitOp, TransposeOp)
from mlir_coreml.ir.dialects.core.canonicalization import FoldTransposeOfTranspose
from mlir_coreml.ir.opdef import build
from mlir_coreml.ir.rewriter import PatternRewriter, RewritePattern, apply_patterns_greedily
from mlir_coreml.ir.types import TensorType
from mlir_coreml.passes._matching import defining, factors, sole_user
from mlir_coreml.passes.base import ModulePass, PassContext
from mlir_coreml.passes.dce import erase_dead_ops

HEADS_SWAP = (0, 2, 1, 3)   # [B, S, H, E] <-> [B, H, S, E]


def swapped_last(value, rewriter: PatternRewriter, anchor):
    """`value` with its last two axes swapped, as a new transpose (canonicalize merges it with
    the transpose that usually produced `value`)."""
    rank = value.type.rank
    perm = list(range(rank - 2)) + [rank - 1, rank - 2]
    shape = tuple(value.type.shape[p] for p in perm)
    new = build(TransposeOp, [value], [TensorType(shape, value.type.element)], {"perm": perm},
                location=anchor.location)
    return rewriter.insert_before(new, anchor).results[0]


def has_epilogue(matmul: MatmulOp) -> bool:
    return matmul.activation != "none" or matmul.residual is not None


def scores_and_mask(value):
    """(scores value, mask or None) of softmax's input `x` or `x + mask` (either side)."""
    add = defining(value, AddOp)
    if add is None or sole_user(value) is None:
        return value, None
    for scores, mask in ((add.lhs, add.rhs), (add.rhs, add.lhs)):
        if defining(scaled_matmul(scores)[0], MatmulOp) is not None and scores.type == value.type:
            return scores, mask
    return value, None


def scaled_matmul(value):
    """(matmul result, scale) of `value` = product of one matmul and scalar constants."""
    terms, scale = factors(value)
    if len(terms) != 1:
        return None, 1.0
    return terms[0], scale


class RecognizeAttention(RewritePattern):
    """softmax(scale * q @ k^T + mask) @ v -> scaled_dot_product_attention(q, k, v, mask)."""

    def match_and_rewrite(self, op: MatmulOp, rewriter: PatternRewriter) -> bool:
        softmax = defining(op.a, SoftmaxOp)
        if softmax is None or op.transpose_a or sole_user(op.a) is not op or not op.output.type.is_static:
            return False
        if has_epilogue(op):
            return False
        if softmax.axis not in (-1, op.a.type.rank - 1):
            return False
        scores, mask = scores_and_mask(softmax.input)
        product, scale = scaled_matmul(scores)
        if product is None or (product is not scores and sole_user(product) is None):
            return False
        qk = defining(product, MatmulOp)
        if qk is None or qk.transpose_a or has_epilogue(qk):
            return False
        q_terms, q_scale = factors(qk.a)   # a scale may also sit on q
        if len(q_terms) != 1:
            return False
        q, scale = q_terms[0], scale * q_scale
        if not fits(q, qk.b, op.b, qk.transpose_b, op.transpose_b, mask, softmax.input):
            return False
        k = qk.b if qk.transpose_b else swapped_last(qk.b, rewriter, op)
        v = swapped_last(op.b, rewriter, op) if op.transpose_b else op.b
        new = build(ScaledDotProductAttentionOp, {"q": q, "k": k, "v": v, "mask": mask}, [op.output.type],
                    {"scale": float(scale), "layout": "bhsd"}, location=op.location)
        rewriter.replace_op(op, new)
        return True


def fits(q, k, v, k_transposed: bool, v_transposed: bool, mask, scores) -> bool:
    """Static operands of one rank >= 3 (a batch of heads) with equal batch dims and a float
    mask of the scores' shape or broadcasting to it."""
    values = [q, k, v] + ([mask] if mask is not None else [])
    if any(not isinstance(x.type, TensorType) or not x.type.is_static for x in values):
        return False
    rank = q.type.rank
    if rank < 3 or k.type.rank != rank or v.type.rank != rank:
        return False
    batch = q.type.shape[:-2]
    if k.type.shape[:-2] != batch or v.type.shape[:-2] != batch:
        return False
    if mask is not None and (mask.type.element != scores.type.element or mask.type.rank > rank):
        return False
    return True


class AbsorbHeadTransposes(RewritePattern):
    """attention(transpose(q'), transpose(k'), transpose(v')) followed by its only reader
    transpose, each swapping axes 1 and 2 of rank 4 -> attention(q', k', v') in layout bshd."""

    def match_and_rewrite(self, op: ScaledDotProductAttentionOp, rewriter: PatternRewriter) -> bool:
        merge = sole_user(op.output)
        if op.layout != "bhsd" or op.output.type.rank != 4 or not isinstance(merge, TransposeOp):
            return False
        splits = [defining(x, TransposeOp) for x in (op.q, op.k, op.v)]
        if tuple(merge.perm) != HEADS_SWAP or any(t is None or tuple(t.perm) != HEADS_SWAP for t in splits):
            return False
        q, k, v = (t.input for t in splits)
        new = build(ScaledDotProductAttentionOp, {"q": q, "k": k, "v": v, "mask": op.mask},
                    [merge.output.type], {"scale": op.scale, "layout": "bshd"}, location=op.location)
        rewriter.replace_op(merge, new)
        rewriter.erase_op(op)
        return True


def channels_of(heads):
    """(source, first channel) of a [B, S, H, E] operand that reshapes a [B, S, H * E] tensor:
    that tensor, or the tensor it is a piece of when a split along the last axis made it."""
    reshape = defining(heads, ReshapeOp)
    if reshape is None or not reshape.input.type.is_static:
        return None
    x, shape = reshape.input, tuple(heads.type.shape)
    if x.type.rank != 3 or tuple(x.type.shape) != (shape[0], shape[1], shape[2] * shape[3]):
        return None
    split = defining(x, SplitOp)
    if split is None or split.axis % 3 != 2 or not split.input.type.is_static:
        return x, 0
    pieces = list(split.results)
    return split.input, sum(p.type.shape[2] for p in pieces[:pieces.index(x)])


class AbsorbHeadViews(RewritePattern):
    """attention(reshape(q'), reshape(k'), reshape(v')) in layout bshd, with q' etc. [B, S, H * E]
    (or pieces of a split of one such tensor), followed by its only reader reshape to
    [B, S, H * Ev] -> attention(q', k', v') in layout bsc, reading heads at channel offsets."""

    def match_and_rewrite(self, op: ScaledDotProductAttentionOp, rewriter: PatternRewriter) -> bool:
        merge = sole_user(op.output)
        if op.layout != "bshd" or not isinstance(merge, ReshapeOp) or not op.output.type.is_static:
            return False
        B, S, H, Ev = op.output.type.shape
        if tuple(merge.output.type.shape) != (B, S, H * Ev):
            return False
        sources = [channels_of(x) for x in (op.q, op.k, op.v)]
        if any(s is None for s in sources):
            return False
        (q, oq), (k, ok), (v, ov) = sources
        attributes = {"scale": op.scale, "layout": "bsc", "heads": H, "head_dims": [op.q.type.shape[3], Ev],
                      "offsets": [oq, ok, ov]}
        new = build(ScaledDotProductAttentionOp, {"q": q, "k": k, "v": v, "mask": op.mask}, [merge.output.type],
                    attributes, location=op.location)
        rewriter.replace_op(merge, new)
        rewriter.erase_op(op)
        return True


@dataclass(frozen=True)
class FuseAttention(ModulePass):
    name = "fuse-attention"
    description = "recognise matmul -> scale -> mask -> softmax -> matmul as scaled_dot_product_attention"
    # absorb the head split/merge transposes into the op (layout bshd), then the q/k/v split and
    # head reshapes (layout bsc)
    absorb_transposes: bool = True

    def run(self, module, ctx: PassContext) -> None:
        patterns = [RecognizeAttention()]
        if self.absorb_transposes:
            patterns += [AbsorbHeadTransposes(), AbsorbHeadViews(), FoldTransposeOfTranspose()]
        if apply_patterns_greedily(module, patterns):
            ctx.stat("fuse-attention: rewrites")
            for region in module.regions:
                for block in region.blocks:
                    erase_dead_ops(block)
