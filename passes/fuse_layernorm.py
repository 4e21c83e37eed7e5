"""`fuse-layernorm` (coremltools' fuse_layernorm_or_instancenorm): layer norms spelled out by
converters become one `core.layer_norm` with its gamma and beta:

    MVN + scale:  layer_norm(x) * g + b                     (NeuralNetwork mvn + scale layers)
    decomposed:   d = x - mean(x, axes); d * rsqrt(mean(d*d, axes) + eps)   (or d / sqrt(...))

g and b must be constants holding one value per normalized element (or one value)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlir_coreml.ir.dialects.constant import constant_array
from mlir_coreml.ir.dialects.core import (AddOp, DivOp, LayerNormOp, MulOp, ReduceOp, RsqrtOp, SqrtOp, SquareOp,
                                          SubOp)
from mlir_coreml.ir.opdef import build
from mlir_coreml.ir.rewriter import PatternRewriter, RewritePattern, apply_patterns_greedily
from mlir_coreml.ir.shapes import normalize_axes
from mlir_coreml.passes._matching import defining, float_constant, scalar, sole_user
from mlir_coreml.passes.base import ModulePass, PassContext
from mlir_coreml.passes.fuse_conv_batchnorm import make_constant


def normalized_param(value, norm: LayerNormOp) -> np.ndarray | None:
    """A constant (or cast constant) that broadcasts over the normalized axes only, flattened;
    else None."""
    c = float_constant(value)
    x = norm.input.type.shape
    if c is None or c.ndim > len(x):
        return None
    axes = normalize_axes(norm.axes, len(x))
    shape = (1,) * (len(x) - c.ndim) + c.shape
    if any(d != 1 for i, d in enumerate(shape) if i not in axes):
        return None
    if any(d not in (1, x[i]) for i, d in enumerate(shape) if i in axes):
        return None
    want = tuple(x[i] for i in axes)
    return np.broadcast_to(c.reshape([shape[i] for i in axes]), want).reshape(-1).astype(np.float32)


def with_params(norm: LayerNormOp, rewriter: PatternRewriter, anchor, gamma=None, beta=None):
    name = norm.location.name if norm.location and norm.location.name else "layer_norm"
    operands = {"input": norm.input, "gamma": norm.gamma, "beta": norm.beta}
    for key, array in (("gamma", gamma), ("beta", beta)):
        if array is not None:
            operands[key] = rewriter.insert_before(make_constant(array, f"{name}_{key}", norm.location), anchor).result
    attrs = {k: v for k, v in norm.attributes.items() if k != "operand_segments"}
    new = build(LayerNormOp, operands, [anchor.results[0].type], attrs, location=norm.location)
    rewriter.replace_op(anchor, new)


class ScaleIntoLayerNorm(RewritePattern):
    """layer_norm(x) * g -> layer_norm(x, gamma = g) (no gamma, beta yet)."""

    def match_and_rewrite(self, op: MulOp, rewriter: PatternRewriter) -> bool:
        for value, other in ((op.lhs, op.rhs), (op.rhs, op.lhs)):
            norm = defining(value, LayerNormOp)
            if norm is None or sole_user(value) is None or norm.gamma is not None or norm.beta is not None:
                continue
            gamma = normalized_param(other, norm)
            if gamma is not None and op.output.type == value.type:
                with_params(norm, rewriter, op, gamma=gamma)
                return True
        return False


class ShiftIntoLayerNorm(RewritePattern):
    """layer_norm(x, gamma) + b -> layer_norm(x, gamma, beta = b) (no beta yet)."""

    def match_and_rewrite(self, op: AddOp, rewriter: PatternRewriter) -> bool:
        for value, other in ((op.lhs, op.rhs), (op.rhs, op.lhs)):
            norm = defining(value, LayerNormOp)
            if norm is None or sole_user(value) is None or norm.beta is not None:
                continue
            beta = normalized_param(other, norm)
            if beta is not None and op.output.type == value.type:
                with_params(norm, rewriter, op, beta=beta)
                return True
        return False


def mean_of(value, x=None) -> ReduceOp | None:
    r = defining(value, ReduceOp)
    if r is None or r.kind != "mean" or not r.keepdims or (x is not None and r.input is not x):
        return None
    return r


def squared(value):
    """t for square(t) or t * t, else None."""
    sq = defining(value, SquareOp)
    if sq is not None:
        return sq.input
    m = defining(value, MulOp)
    return m.lhs if m is not None and m.lhs is m.rhs else None


def inverse_std(value, inverse: bool):
    """(variance value, eps) of rsqrt(var + eps) (inverse) or sqrt(var + eps), else None."""
    root = defining(value, RsqrtOp if inverse else SqrtOp)
    add = defining(root.input, AddOp) if root is not None else None
    if add is None:
        return None
    for var, eps in ((add.lhs, add.rhs), (add.rhs, add.lhs)):
        if scalar(eps) is not None and scalar(eps) >= 0:
            return var, scalar(eps)
    return None


class DecomposedLayerNorm(RewritePattern):  # rooted at a mul or a div: no single root op
    """d * rsqrt(mean(d^2) + eps) or d / sqrt(mean(d^2) + eps), d = x - mean(x) -> layer_norm(x)."""

    def match_and_rewrite(self, op, rewriter: PatternRewriter) -> bool:
        if isinstance(op, MulOp):
            pairs = [(op.lhs, op.rhs, True), (op.rhs, op.lhs, True)]
        elif isinstance(op, DivOp):
            pairs = [(op.lhs, op.rhs, False)]
        else:
            return False
        for d, scale, inverse in pairs:
            sub = defining(d, SubOp)
            mean = mean_of(sub.rhs, sub.lhs) if sub is not None else None
            found = inverse_std(scale, inverse) if mean is not None else None
            var = mean_of(found[0]) if found is not None else None
            if var is None or squared(var.input) is not d or tuple(var.axes) != tuple(mean.axes):
                continue
            x = sub.lhs
            if x.type != op.output.type or not x.type.is_static:
                continue
            axes = list(normalize_axes(mean.axes, x.type.rank))
            new = build(LayerNormOp, {"input": x, "gamma": None, "beta": None}, [op.output.type],
                        {"axes": axes, "eps": found[1]}, location=op.location)
            rewriter.replace_op(op, new)
            return True
        return False



@dataclass(frozen=True)
class FuseLayernorm(ModulePass):
    name = "fuse-layernorm"
    description = "recognise decomposed layer norms and MVN + scale as layer_norm with gamma/beta"

    def run(self, module, ctx: PassContext) -> None:
        patterns = [DecomposedLayerNorm(), ScaleIntoLayerNorm(), ShiftIntoLayerNorm()]
        if apply_patterns_greedily(module, patterns):
            ctx.stat("fuse-layernorm: rewrites")
