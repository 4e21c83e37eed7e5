"""Canonicalization patterns of the `core` dialect (run by `canonicalize`): they remove the
noise the converters leave, so later passes and the runtime see one spelling per computation.

- reshape/transpose pairs merge (and fold away when the result is the input);
- a reshape moves above the elementwise ops and pads feeding it, and an elementwise op or
  layer norm moves below a reshape that only inserts unit dims (rank_lifting.py), so the
  rank-5 <-> rank-4 (and rank-4 <-> rank-3) wrappers Core ML's NeuralNetwork layers leave
  around each layer meet and cancel;
- `linear_activation`s compose, the identity one disappears, `-max(-x, c)` is `min(x, -c)`;
- `min`/`max` with scalar constants (ReLU6's relu/neg/max/neg chain) become `clip` or `relu`;
- consecutive constant pads merge; small expressions on constants (shape arithmetic) fold.

Each pattern is attached to its root op classes at the end of this module; folds that need
no new op live on the op classes (`fold`).
"""
from __future__ import annotations

import numpy as np

from mlir_coreml.ir.core import Operation
from mlir_coreml.ir.dialects.constant import constant_array, materialize_constant
from mlir_coreml.ir.dialects.core.base import CoreOp
from mlir_coreml.ir.dialects.core.elementwise import (ActivationOp, BinaryOp, ClipOp, LinearActivationOp, MaxOp,
                                                      MinOp, ReluOp, UnaryOp)
from mlir_coreml.ir.dialects.core.norm import LayerNormOp
from mlir_coreml.ir.dialects.core.rank_lifting import LiftElementwiseOutOfWrapper, LiftLayerNormOutOfWrapper
from mlir_coreml.ir.dialects.core.tensor import PadOp, ReshapeOp, TransposeOp
from mlir_coreml.ir.opdef import ConstantLike, build
from mlir_coreml.ir.rewriter import PatternRewriter, RewritePattern
from mlir_coreml.ir.types import TensorType

SMALL_CONSTANT = 64  # fold constant expressions up to this many elements (shape arithmetic)


def producer(value, cls=None):
    """The op defining `value` (of class `cls` when given), else None."""
    op = getattr(value, "op", None)
    if op is None or (cls is not None and not isinstance(op, cls)):
        return None
    return op


def only_use(value) -> bool:
    return len(value.uses) == 1


def scalar_constant(value) -> float | None:
    """The value of a one-element float constant, else None."""
    c = constant_array(value)
    if c is None or c.size != 1 or c.dtype.kind != "f":
        return None
    return float(c.reshape(-1)[0])


def split_scalar_operand(op: BinaryOp):
    """(tensor operand, scalar) of a binary op with one one-element constant operand, else None."""
    for keep, other in ((op.lhs, op.rhs), (op.rhs, op.lhs)):
        c = scalar_constant(other)
        if c is not None and keep.type == op.output.type:
            return keep, c
    return None


def activation(cls, x, out_type, location, **attrs) -> Operation:
    return build(cls, [x], [out_type], attrs, location=location)


# -- reshape / transpose ---------------------------------------------------------------------

class FoldReshapeOfReshape(RewritePattern):
    """reshape(reshape(x)) -> reshape(x): only the final shape matters."""

    def match_and_rewrite(self, op: ReshapeOp, rewriter: PatternRewriter) -> bool:
        inner = producer(op.input, ReshapeOp)
        if inner is None or not op.output.type.is_static:
            return False
        new = build(ReshapeOp, [inner.input], [op.output.type], {"shape": list(op.output.type.shape)},
                    location=op.location)
        rewriter.replace_op(op, new)
        return True


class FoldTransposeOfTranspose(RewritePattern):
    """transpose(transpose(x, p), q) -> transpose(x, p∘q) (an identity result then folds away)."""

    def match_and_rewrite(self, op: TransposeOp, rewriter: PatternRewriter) -> bool:
        inner = producer(op.input, TransposeOp)
        if inner is None:
            return False
        perm = [inner.perm[p] for p in op.perm]
        new = build(TransposeOp, [inner.input], [op.output.type], {"perm": perm}, location=op.location)
        rewriter.replace_op(op, new)
        return True


def reshaped(value, shape, rewriter: PatternRewriter, anchor: Operation):
    """`value` reshaped to `shape` (a constant is re-materialised rather than reshaped)."""
    t = TensorType(tuple(shape), value.type.element)
    if value.type == t:
        return value
    c = constant_array(value) if producer(value) is not None and producer(value).has_trait(ConstantLike) else None
    if c is not None and c.size <= SMALL_CONSTANT:
        return rewriter.insert_before(materialize_constant(c.reshape(shape), t, anchor.location), anchor).result
    new = build(ReshapeOp, [value], [t], {"shape": list(shape)}, location=anchor.location)
    return rewriter.insert_before(new, anchor).results[0]


def elementwise_operands(op, out_shape):
    """The operands of an elementwise op that take the reshape with its result: every operand
    of the result's shape; one-element operands stay as they are. None when another operand
    broadcasts (moving the reshape would change what the broadcast means)."""
    moved = []
    for v in op.operands:
        t = v.type
        if not isinstance(t, TensorType) or t.shape is None:
            return None
        if t.shape == op.results[0].type.shape:
            moved.append(True)
        elif t.num_elements == 1 and len(t.shape) <= len(out_shape):
            moved.append(False)
        else:
            return None
    return moved


class HoistReshapeAboveElementwise(RewritePattern):
    """reshape(f(x, ...)) -> f(reshape(x), ...) for an elementwise f used only by the reshape:
    moves the rank wrappers towards each other so that the pair cancels."""

    def match_and_rewrite(self, op: ReshapeOp, rewriter: PatternRewriter) -> bool:
        inner = producer(op.input)
        if not isinstance(inner, (ActivationOp, UnaryOp, BinaryOp)) or not only_use(op.input):
            return False
        out = op.output.type
        if not out.is_static or not inner.results[0].type.is_static or inner.results[0].type.element != out.element:
            return False
        if out.rank > inner.results[0].type.rank:  # raising the op's rank: rank_lifting lowers it back
            return False
        moved = elementwise_operands(inner, out.shape)
        if moved is None or not any(moved):
            return False
        operands = [reshaped(v, out.shape, rewriter, inner) if m else v for v, m in zip(inner.operands, moved)]
        new = build(type(inner), operands, [out], dict(inner.attributes), location=inner.location)
        rewriter.replace_op(op, new)
        return True


def leading_units_dropped(src: tuple, dst: tuple) -> int | None:
    """How many trailing dims `src` and `dst` share when they differ only in leading unit dims."""
    a, b = list(src), list(dst)
    while a and a[0] == 1 and len(a) > len(b):
        a.pop(0)
    while b and b[0] == 1 and len(b) > len(a):
        b.pop(0)
    return len(a) if a == b else None


class HoistReshapeAbovePad(RewritePattern):
    """reshape(pad(x)) -> pad(reshape(x)) when the reshape only adds or drops unpadded leading
    unit dims (a NeuralNetwork padding layer at rank 5 feeding a rank-4 convolution)."""

    def match_and_rewrite(self, op: ReshapeOp, rewriter: PatternRewriter) -> bool:
        pad = producer(op.input, PadOp)
        if pad is None or not only_use(op.input) or not op.output.type.is_static or not pad.output.type.is_static:
            return False
        src, dst = pad.output.type.shape, op.output.type.shape
        shared = leading_units_dropped(src, dst)
        if shared is None or any(pad.pads[:2 * (len(src) - shared)]):
            return False
        pads = [0] * (2 * (len(dst) - shared)) + list(pad.pads[2 * (len(src) - shared):])
        in_shape = list(dst)
        for i in range(len(dst)):
            in_shape[i] -= pads[2 * i] + pads[2 * i + 1]
        x = reshaped(pad.input, in_shape, rewriter, pad)
        attrs = dict(pad.attributes, pads=pads)
        rewriter.replace_op(op, build(PadOp, [x], [op.output.type], attrs, location=pad.location))
        return True


class MergePads(RewritePattern):
    """pad(pad(x)) -> pad(x) with the amounts added, for constant pads of the same value."""

    def match_and_rewrite(self, op: PadOp, rewriter: PatternRewriter) -> bool:
        inner = producer(op.input, PadOp)
        if inner is None or op.mode != "constant" or inner.mode != "constant" or op.value != inner.value:
            return False
        pads = [a + b for a, b in zip(op.pads, inner.pads)]
        attrs = dict(op.attributes, pads=pads)
        rewriter.replace_op(op, build(PadOp, [inner.input], [op.output.type], attrs, location=op.location))
        return True


# -- linear_activation -----------------------------------------------------------------------

def linear(op: LinearActivationOp) -> tuple[float, float]:
    _, alpha, beta = op.activation()
    return alpha, beta


class FoldLinearActivation(RewritePattern):
    """alpha*x+beta of another linear_activation composes into one; 1*x+0 is x."""

    def match_and_rewrite(self, op: LinearActivationOp, rewriter: PatternRewriter) -> bool:
        alpha, beta = linear(op)
        if (alpha, beta) == (1.0, 0.0) and op.input.type == op.output.type:
            rewriter.replace_op(op, [op.input])
            return True
        inner = producer(op.input, LinearActivationOp)
        if inner is None:
            return False
        a2, b2 = linear(inner)
        new = activation(LinearActivationOp, inner.input, op.output.type, op.location,
                         alpha=alpha * a2, beta=alpha * b2 + beta)
        rewriter.replace_op(op, new)
        return True


class NegatedMinMax(RewritePattern):
    """-max(-x, c) -> min(x, -c) and -min(-x, c) -> max(x, -c) (how converters spell a clip)."""

    def match_and_rewrite(self, op: LinearActivationOp, rewriter: PatternRewriter) -> bool:
        if linear(op) != (-1.0, 0.0):
            return False
        mm = producer(op.input, (MaxOp, MinOp))
        if mm is None or not only_use(op.input):
            return False
        split = split_scalar_operand(mm)
        neg = producer(split[0], LinearActivationOp) if split else None
        if neg is None or linear(neg) != (-1.0, 0.0) or neg.input.type != op.output.type:
            return False
        flipped = MinOp if isinstance(mm, MaxOp) else MaxOp
        scalar_type = TensorType((), op.output.type.element)
        bound = rewriter.insert_before(materialize_constant(np.float32(-split[1]), scalar_type, op.location), op).result
        rewriter.replace_op(op, build(flipped, [neg.input, bound], [op.output.type], location=op.location))
        return True


# -- clip recognition --------------------------------------------------------------------------

class MinMaxToClip(RewritePattern):
    """min(relu(x), c) -> clip(x, 0, c); min(max(x, a), b) -> clip(x, a, b) for scalars a <= b."""

    def match_and_rewrite(self, op: MinOp, rewriter: PatternRewriter) -> bool:
        split = split_scalar_operand(op)
        if split is None:
            return False
        x, upper = split
        inner = producer(x)
        if isinstance(inner, ReluOp) and upper >= 0:
            lower, source = 0.0, inner.input
        elif isinstance(inner, MaxOp) and split_scalar_operand(inner) is not None:
            source, lower = split_scalar_operand(inner)
        else:
            return False
        if lower > upper or source.type != op.output.type:
            return False
        rewriter.replace_op(op, activation(ClipOp, source, op.output.type, op.location, alpha=lower, beta=upper))
        return True


class MaxZeroToRelu(RewritePattern):
    """max(x, 0) -> relu(x)."""

    def match_and_rewrite(self, op: MaxOp, rewriter: PatternRewriter) -> bool:
        split = split_scalar_operand(op)
        if split is None or split[1] != 0.0:
            return False
        rewriter.replace_op(op, activation(ReluOp, split[0], op.output.type, op.location))
        return True


class ClipOfRelu(RewritePattern):
    """clip(relu(x), a, b) with a >= 0 -> clip(x, a, b): the clip's lower bound covers the relu."""

    def match_and_rewrite(self, op: ClipOp, rewriter: PatternRewriter) -> bool:
        inner = producer(op.input, ReluOp)
        _, lower, upper = op.activation()
        if inner is None or lower < 0:
            return False
        rewriter.replace_op(op, activation(ClipOp, inner.input, op.output.type, op.location, alpha=lower, beta=upper))
        return True


# -- constants ---------------------------------------------------------------------------------

class FoldSmallConstantExpression(RewritePattern):
    """A pure op whose operands are all constants and whose results are small (shape
    arithmetic: shape -> slice -> mul -> concat) becomes a constant."""

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> bool:
        if not isinstance(op, CoreOp) or op.regions or not op.operands:
            return False
        if any(not isinstance(r.type, TensorType) or not r.type.is_static or r.type.num_elements > SMALL_CONSTANT
               for r in op.results):
            return False
        inputs = [constant_array(v) for v in op.operands]
        if any(x is None for x in inputs):
            return False
        outputs = op.reference(*inputs)
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        consts = [rewriter.insert_before(materialize_constant(o, r.type, op.location), op).result
                  for o, r in zip(outputs, op.results)]
        rewriter.replace_op(op, consts)
        return True


ReshapeOp.canonicalization_patterns = (FoldReshapeOfReshape, HoistReshapeAboveElementwise, HoistReshapeAbovePad)
TransposeOp.canonicalization_patterns = (FoldTransposeOfTranspose,)
PadOp.canonicalization_patterns = (MergePads,)
LinearActivationOp.canonicalization_patterns = (FoldLinearActivation, NegatedMinMax)
MinOp.canonicalization_patterns = (MinMaxToClip,)
MaxOp.canonicalization_patterns = (MaxZeroToRelu,)
ClipOp.canonicalization_patterns = (ClipOfRelu,)
CoreOp.canonicalization_patterns = (FoldSmallConstantExpression,)
for _elementwise in (ActivationOp, UnaryOp, BinaryOp):
    _elementwise.canonicalization_patterns = (LiftElementwiseOutOfWrapper,)
LayerNormOp.canonicalization_patterns = (LiftLayerNormOutOfWrapper,)
