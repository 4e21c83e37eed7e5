"""Epilogue fusion at compile time: a conv2d or linear run by the kernels absorbs the ops that
only post-process its result, so one kernel call produces the chain's final value.

From the producer's result, following single-use values (reshapes in between are looked
through, as the `nn` lowering wraps rank-5 blobs around every layer):

    conv2d -> [batch_norm] -> [add residual] -> [activation the kernels know]
    linear ->                 [add residual] -> [activation the kernels know]

A batch norm with constant parameters folds into the weights and bias before packing; an add
becomes the kernel's residual when its other operand has the same shape and already exists
when the producer runs; the activation becomes the epilogue's. The IR is not changed: this is
how the executor schedules it, and the reference path (the oracle) still runs every op.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mlir_coreml.ir.dialects.core import (KERNEL_ACTIVATIONS, ActivationOp, AddOp, BatchNormOp, Conv2dOp,
                                          ReshapeOp, constant_array)


@dataclass
class Epilogue:
    """What a producer absorbs: `ops` (in program order) and the value it now produces."""

    result: object
    ops: list = field(default_factory=list)
    scale: np.ndarray | None = None     # batch norm folded as y * scale + shift per channel
    shift: np.ndarray | None = None
    residual: object = None
    act: str = "none"
    alpha: float = 0.0
    beta: float = 0.0

    @property
    def fuses_anything(self) -> bool:
        return self.scale is not None or self.residual is not None or self.act != "none"


def _single_user(value, block, keep: set):
    """The only reader of `value` when it sits in `block` (not in a nested region)."""
    if value in keep or len(value.uses) != 1:
        return None
    user = value.uses[0].operation
    return user if user.parent is block else None


def _batch_norm_params(op: BatchNormOp):
    params = [constant_array(v) for v in (op.mean, op.variance, op.gamma, op.beta)]
    if any(p is None for p in params):
        return None
    mean, var, gamma, beta = (p.astype(np.float64).reshape(-1) for p in params)
    scale = gamma / np.sqrt(var + float(op.eps))
    return scale, beta - mean * scale


def find_epilogue(producer, keep: set, available) -> Epilogue | None:
    """The chain `producer` (conv2d or linear, activation none, no residual) can absorb.
    `keep`: values that must stay observable (function results); `available(value)`: whether
    a value exists when the producer runs."""
    if producer.activation != "none" or producer.residual is not None:
        return None
    chain = Epilogue(producer.output)
    value, pending = producer.output, []
    while True:
        user = _single_user(value, producer.parent, keep)
        if user is None:
            break
        if isinstance(user, ReshapeOp) and user.output.type.is_static:
            pending.append(user)
            value = user.output
            continue
        step = _absorb(chain, producer, user, value, available)
        if step is None:
            break
        chain.ops += pending + [user]
        chain.result = value = user.results[0]
        pending = []
        if step == "last":
            break
    return chain if chain.fuses_anything else None


def _absorb(chain: Epilogue, producer, user, value, available) -> str | None:
    """Fold `user` into `chain`: "more" to keep going, "last" to stop after it, None if it
    does not fit."""
    if isinstance(user, BatchNormOp) and isinstance(producer, Conv2dOp) and user.input is value \
            and chain.scale is None and chain.residual is None and value.type.rank == 4:
        params = _batch_norm_params(user)
        if params is None:
            return None
        chain.scale, chain.shift = params
        return "more"
    if isinstance(user, AddOp) and chain.residual is None:
        other = user.rhs if user.lhs is value else user.lhs
        if other is value or other.type != value.type or user.output.type != value.type or not available(other):
            return None
        chain.residual = other
        return "more"
    if isinstance(user, ActivationOp):
        act, alpha, beta = user.activation()
        if act not in KERNEL_ACTIVATIONS or user.output.type != value.type:
            return None
        chain.act, chain.alpha, chain.beta = act, alpha, beta
        return "last"
    return None


def folded_conv_weights(op: Conv2dOp, chain: Epilogue):
    """(weights, bias) of `op` with the chain's batch norm folded in (float32)."""
    w = constant_array(op.weight).astype(np.float32)
    bias = None if op.bias is None else constant_array(op.bias).astype(np.float64)
    if chain.scale is None:
        return w, None if bias is None else bias.astype(np.float32)
    w = (w * chain.scale.reshape(-1, 1, 1, 1)).astype(np.float32)
    bias = (np.zeros(w.shape[0]) if bias is None else bias) * chain.scale + chain.shift
    return w, bias.astype(np.float32)
