"""Helpers the core fusion passes share: what a conv2d/linear/matmul producer may still absorb,
and rebuilding it with new weights, bias, residual or activation (the attributes the kernels
read)."""
from __future__ import annotations

import numpy as np

from mlir_coreml.ir.dialects.constant import constant_array
from mlir_coreml.ir.dialects.core import Conv2dOp, LinearOp, MatmulOp
from mlir_coreml.ir.opdef import build
from mlir_coreml.ir.rewriter import PatternRewriter
from mlir_coreml.passes._matching import sole_user
from mlir_coreml.passes.fuse_conv_batchnorm import make_constant

PRODUCERS = (Conv2dOp, LinearOp, MatmulOp)


def plain_producer(value, classes=PRODUCERS, allow_residual: bool = False):
    """The conv2d/linear/matmul defining `value` when nothing reads it but one op and its epilogue is
    still empty (no activation; no residual unless allowed, as the residual is added before
    the activation): it may absorb that op."""
    op = getattr(value, "op", None)
    if not isinstance(op, classes) or sole_user(value) is None:
        return None
    if op.activation != "none" or (op.residual is not None and not allow_residual):
        return None
    return op


def constant_weights(op):
    """(weight, bias or None) as arrays when both are constants, else None."""
    w = constant_array(op.weight)
    b = None if op.bias is None else constant_array(op.bias)
    if w is None or (op.bias is not None and b is None):
        return None
    return w, b


def per_channel(value, channels: int, channel_axis: int, rank: int) -> np.ndarray | None:
    """A constant that broadcasts as one value per channel (or one value for all) along
    `channel_axis` of a rank-`rank` result, as a float64 vector of `channels`; else None."""
    c = constant_array(value)
    if c is None or c.dtype.kind != "f" or c.ndim > rank:
        return None
    shape = (1,) * (rank - c.ndim) + c.shape
    axis = channel_axis % rank
    if any(d != 1 for i, d in enumerate(shape) if i != axis) or shape[axis] not in (1, channels):
        return None
    return np.broadcast_to(c.astype(np.float64).reshape(-1), (channels,))


def other_operand(op, value):
    """The operand of a binary `op` that is not `value` (None when both are)."""
    if op.lhs is value and op.rhs is not value:
        return op.rhs
    if op.rhs is value and op.lhs is not value:
        return op.lhs
    return None


def rebuild(producer, rewriter: PatternRewriter, replaced, weight=None, bias=None, residual=None, **attrs):
    """A copy of `producer` that replaces the op `replaced` (its single user, or itself):
    arrays become new constants named after the producer; `residual` and `attrs` (activation,
    alpha, beta) fill the epilogue. Inserted where `replaced` was, after every operand."""
    name = producer.location.name if producer.location and producer.location.name else "fused"
    operands = {d.name: getattr(producer, d.name) for d in type(producer).operand_defs}
    operands["residual"] = producer.residual if residual is None else residual
    for key, array in (("weight", weight), ("bias", bias)):
        if array is not None:
            const = make_constant(np.ascontiguousarray(array), f"{name}_{key}", producer.location)
            operands[key] = rewriter.insert_before(const, replaced).result
    attributes = {k: v for k, v in producer.attributes.items() if k != "operand_segments"}
    attributes.update(attrs)
    new = build(type(producer), operands, [replaced.results[0].type], attributes, location=producer.location)
    rewriter.replace_op(replaced, new)
    if producer is not replaced and producer.parent is not None and not any(r.uses for r in producer.results):
        rewriter.erase_op(producer)
    return new


def fold_constant_bias(op, producer_class, channel_axis: int, rewriter: PatternRewriter) -> bool:
    """add(producer(x), c) -> producer with bias + c, for a per-channel or scalar constant c."""
    for value in (op.lhs, op.rhs):
        producer = plain_producer(value, (producer_class,))
        if producer is None or op.output.type != value.type or not value.type.is_static:
            continue
        weights = constant_weights(producer)
        channels = value.type.shape[channel_axis]
        extra = per_channel(other_operand(op, value), channels, channel_axis, value.type.rank)
        if weights is None or extra is None:
            continue
        bias = extra if weights[1] is None else weights[1].astype(np.float64).reshape(-1) + extra
        rebuild(producer, rewriter, op, bias=bias.astype(np.float32))
        return True
    return False
