"""Lifting ops out of the rank wrappers converters put around them: Core ML's NeuralNetwork
layers work at rank 4/5, so a converted rank-3 residual add or layer norm arrives as
`reshape(x) -> [1, S, 1, D]`, the op, and a reshape back. These patterns (run by
`canonicalize`) move an op below a reshape that only inserts unit dims, so the op computes at
its operands' natural rank and the wrappers meet and cancel (reshape of reshape folds).

Each pattern only ever lowers an op's rank, so it cannot cycle with the reshape hoisting in
canonicalization.py (which only moves rank-lowering reshapes).
"""
from __future__ import annotations

from mlir_coreml.ir.dialects.core.elementwise import ActivationOp, BinaryOp, UnaryOp
from mlir_coreml.ir.dialects.core.norm import LayerNormOp
from mlir_coreml.ir.dialects.core.tensor import ReshapeOp
from mlir_coreml.ir.opdef import build
from mlir_coreml.ir.rewriter import PatternRewriter, RewritePattern
from mlir_coreml.ir.shapes import normalize_axes
from mlir_coreml.ir.types import TensorType


def inserted_unit_dims(src: tuple, dst: tuple) -> tuple[int, ...] | None:
    """The positions of `dst` that are unit dims inserted into `src` (dst is src with only
    1s added), None when dst is not such a shape or adds nothing. src is matched greedily as
    a subsequence: a unit dim both could claim is src's own, which means the same."""
    if len(dst) <= len(src):
        return None
    inserted, i = [], 0
    for pos, d in enumerate(dst):
        if i < len(src) and d == src[i]:
            i += 1
        elif d == 1:
            inserted.append(pos)
        else:
            return None
    return tuple(inserted) if i == len(src) else None


def unit_wrapper(value):
    """(source value, inserted positions) when `value` is a reshape that only inserts unit dims."""
    op = getattr(value, "op", None)
    if not isinstance(op, ReshapeOp) or not op.input.type.is_static or not op.output.type.is_static:
        return None
    inserted = inserted_unit_dims(tuple(op.input.type.shape), tuple(op.output.type.shape))
    return None if inserted is None else (op.input, inserted)


def dropped(shape: tuple, positions: tuple, rank: int) -> tuple | None:
    """`shape`, broadcast to `rank`, without the dims at `positions` (which must be 1)."""
    full = (1,) * (rank - len(shape)) + tuple(shape)
    if any(full[p] != 1 for p in positions):
        return None
    return tuple(d for p, d in enumerate(full) if p not in positions)


def lowered_operands(op, rewriter: PatternRewriter):
    """The operands of elementwise `op` at the rank below its unit-dim wrappers, or None:
    every operand of the result's shape must be such a reshape of one source shape; the
    others (broadcast operands) lose the inserted dims, which must be 1 for them."""
    out = op.results[0].type
    if not out.is_static:
        return None
    wrapped = [unit_wrapper(v) if v.type == out else None for v in op.operands]
    found = [w for w in wrapped if w is not None]
    if not found or any(w[0].type.shape != found[0][0].type.shape or w[1] != found[0][1] for w in found):
        return None
    if any(w is None and v.type == out for w, v in zip(wrapped, op.operands)):
        return None
    positions, rank = found[0][1], out.rank
    operands = []
    for v, w in zip(op.operands, wrapped):
        if w is not None:
            operands.append(w[0])
            continue
        if not isinstance(v.type, TensorType) or not v.type.is_static:
            return None
        shape = dropped(tuple(v.type.shape), positions, rank)
        if shape is None:
            return None
        operands.append((v, shape))
    return operands, found[0][0].type.shape


def reshape_to(value, shape, rewriter: PatternRewriter, anchor):
    t = TensorType(tuple(shape), value.type.element)
    new = build(ReshapeOp, [value], [t], {"shape": list(shape)}, location=anchor.location)
    return rewriter.insert_before(new, anchor).results[0]


def keep_or_reshape(v, shape, rewriter, anchor):
    """A broadcast operand at the lower rank: as it is when its shape already broadcasts the
    same way there, else reshaped."""
    current = tuple(v.type.shape)
    n = max(len(current), len(shape))
    if (1,) * (n - len(current)) + current == (1,) * (n - len(shape)) + tuple(shape):
        return v
    return reshape_to(v, shape, rewriter, anchor)


class LiftElementwiseOutOfWrapper(RewritePattern):
    """f(reshape(a), reshape(b), c) -> reshape(f(a, b, c')) for an elementwise f whose
    full-shape operands are unit-dim-inserting reshapes of one shape (c' drops those dims)."""

    def match_and_rewrite(self, op, rewriter: PatternRewriter) -> bool:
        if not isinstance(op, (ActivationOp, UnaryOp, BinaryOp)) or len(op.results) != 1:
            return False
        found = lowered_operands(op, rewriter)
        if found is None:
            return False
        operands, shape = found
        values = [v if not isinstance(v, tuple) else keep_or_reshape(v[0], v[1], rewriter, op) for v in operands]
        out = op.results[0].type
        lifted = rewriter.insert_before(build(type(op), values, [TensorType(tuple(shape), out.element)],
                                              dict(op.attributes), location=op.location), op)
        wrap = build(ReshapeOp, [lifted.results[0]], [out], {"shape": list(out.shape)}, location=op.location)
        rewriter.replace_op(op, wrap)
        return True


class LiftLayerNormOutOfWrapper(RewritePattern):
    """layer_norm(reshape(x), axes) -> reshape(layer_norm(x, axes')) when the reshape only
    inserts unit dims: a unit dim adds nothing to the mean or variance, so the normalized
    axes are the remaining ones (gamma/beta keep their elements)."""

    def match_and_rewrite(self, op: LayerNormOp, rewriter: PatternRewriter) -> bool:
        wrapper = unit_wrapper(op.input)
        if wrapper is None or not op.output.type.is_static:
            return False
        x, inserted = wrapper
        rank = op.input.type.rank
        kept = [p for p in range(rank) if p not in inserted]
        axes = [kept.index(a) for a in normalize_axes(op.axes, rank) if a not in inserted]
        if not axes:
            return False
        operands = {"input": x, "gamma": op.gamma, "beta": op.beta}
        attrs = {k: v for k, v in op.attributes.items() if k != "operand_segments"}
        attrs["axes"] = axes
        lifted = rewriter.insert_before(build(LayerNormOp, operands, [x.type], attrs, location=op.location), op)
        out = op.output.type
        wrap = build(ReshapeOp, [lifted.results[0]], [out], {"shape": list(out.shape)}, location=op.location)
        rewriter.replace_op(op, wrap)
        return True
