"""`nn-to-core`: lower NeuralNetwork layers (`nn.*`) into the normalized `core` dialect.

Every lowering preserves the `nn` op's reference semantics (interpreter before == after) and
ends with exactly the `nn` result types, reshaping where the core op's natural shape differs.
Classic layers address the trailing [C, H, W] axes of rank 3..5 blobs ([S, B, C, H, W] legacy
layout); spatial ops fold the leading axes into N so that core sees NCHW. Weights keep their
stored precision: f16 constants stay f16 and are cast to f32 where an op computes with them
elementwise (core.conv2d / linear / norms read f16 weights directly).

A layer without a mapping raises MlirCoremlError naming the op and the layer before anything
is rewritten; an unsupported option of a mapped layer (e.g. LSTM peepholes) raises when that
layer is reached, failing the pass. With `nn-to-core{fallback=true}` (what compile_model runs)
such layers stay as they are instead, for the runtime's reference path. The `CoreBuilder` and
`run_lowering` here are shared by `mil-to-core` and `espresso-to-core`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from mlir_coreml.ir.core import Value
from mlir_coreml.ir.dialects import core
from mlir_coreml.ir.dialects.nn.misc import unpack_bits
from mlir_coreml.passes._lowering import (CoreBuilder, evaluate_constant, require_constant, run_lowering,
                                          slice_bounds, static_shape, unsupported)
from mlir_coreml.passes.base import ModulePass, PassContext

# =========================================================================== nn helpers

LOWERINGS: dict[str, Callable] = {}


def lowers(*names: str):
    def wrap(fn):
        for n in names:
            LOWERINGS[n] = fn
        return fn
    return wrap


def weight(op, b: CoreBuilder, field: str, shape=None) -> Value | None:
    value = op.weight(field)
    if value is None or shape is None:
        return value
    return b.reshape(value, shape)


def channel_param(b: CoreBuilder, value: Value, rank: int) -> Value:
    """A per-channel [C] or [1] parameter shaped to broadcast over [..., C, H, W] (f32)."""
    n = value.type.num_elements
    value = b.f32(value)
    if n == 1:
        return b.reshape(value, ())
    return b.reshape(value, (n, 1, 1) if rank >= 3 else (n,))


def as_nchw(b: CoreBuilder, x: Value, op) -> Value:
    """[..., C, H, W] of rank 3..5 as a rank-4 [N, C, H, W] value."""
    shape = static_shape(x, op)
    if len(shape) == 4:
        return x
    if len(shape) < 3:
        raise unsupported(op, f"a rank-{len(shape)} input (spatial layers need [.., C, H, W])")
    return b.reshape(x, (int(np.prod(shape[:-3])),) + shape[-3:])


def fold_binary(b: CoreBuilder, name: str, values: list[Value]) -> Value:
    out = values[0]
    for v in values[1:]:
        out = b.op(name, out, v)
    return out


def single(op):
    return op.inputs[0]


# =========================================================================== activations

def _activation(op, b: CoreBuilder, x: Value, kind: str, p: dict) -> Value:
    alpha, beta = float(p.get("alpha", 0.0)), float(p.get("beta", 0.0))
    rank = len(static_shape(x, op))
    if kind == "ReLU":
        return b.op("relu", x)
    if kind == "leakyReLU":
        return b.op("leaky_relu", x, alpha=alpha)
    if kind == "thresholdedReLU":
        return b.op("thresholded_relu", x, alpha=alpha)
    if kind == "tanh":
        return b.op("tanh", x)
    if kind == "scaledTanh":
        return b.op("scaled_tanh", x, alpha=alpha, beta=beta)
    if kind == "sigmoid":
        return b.op("sigmoid", x)
    if kind == "sigmoidHard":
        return b.op("hard_sigmoid", x, alpha=alpha, beta=beta)
    if kind == "ELU":
        return b.op("elu", x, alpha=alpha)
    if kind == "softsign":
        return b.op("softsign", x)
    if kind == "softplus":
        return b.op("softplus", x)
    if kind == "linear":
        return b.op("linear_activation", x, alpha=alpha, beta=beta)
    if kind == "PReLU":
        slope = op.weight("PReLU.alpha")
        if rank == 4:
            return b.op("prelu", x, b.f32(b.reshape(slope, (slope.type.num_elements,))))
        s = channel_param(b, slope, rank)
        zero = b.scalar(0.0)
        return b.op("add", b.op("max", x, zero), b.op("mul", s, b.op("min", x, zero)))
    if kind == "parametricSoftplus":
        a = channel_param(b, op.weight("parametricSoftplus.alpha"), rank)
        s = channel_param(b, op.weight("parametricSoftplus.beta"), rank)
        return b.op("mul", a, b.op("softplus", b.op("mul", s, x)))
    raise unsupported(op, f"activation '{kind}'")


@lowers("nn.activation")
def lower_activation(op, b):
    kind = op.kind()
    return _activation(op, b, single(op), kind, op.attr(kind) or {})


@lowers("nn.clip")
def lower_clip(op, b):
    return b.op("clip", single(op), alpha=float(op.minVal), beta=float(op.maxVal))


@lowers("nn.clamped_relu")
def lower_clamped_relu(op, b):
    y = b.op("leaky_relu", single(op), alpha=float(op.alpha))
    return b.op("min", y, b.scalar(op.beta))


GELU_MODES = {"EXACT": "exact", "TANH_APPROXIMATION": "tanh", "SIGMOID_APPROXIMATION": "sigmoid"}


@lowers("nn.gelu")
def lower_gelu(op, b):
    if op.mode not in GELU_MODES:
        raise unsupported(op, f"gelu mode '{op.mode}'")
    return b.op("gelu", single(op), mode=GELU_MODES[op.mode])


# =========================================================================== elementwise

@lowers("nn.unary")
def lower_unary(op, b):
    x = single(op)
    if float(op.scale) != 1.0 or float(op.shift) != 0.0:
        x = b.op("add", b.op("mul", x, b.scalar(op.scale)), b.scalar(op.shift))
    kind = op.type
    if kind in ("RSQRT", "INVERSE") and float(op.epsilon) != 0.0:
        x = b.op("add", x, b.scalar(op.epsilon))
    simple = {"SQRT": "sqrt", "RSQRT": "rsqrt", "INVERSE": "reciprocal", "EXP": "exp", "LOG": "log", "ABS": "abs"}
    if kind in simple:
        return b.op(simple[kind], x)
    if kind == "POWER":
        return b.op("pow", x, b.scalar(op.alpha))
    if kind == "THRESHOLD":
        return b.op("max", x, b.scalar(op.alpha))
    raise unsupported(op, f"unary function '{kind}'")


CLASSIC = {"nn.add": "add", "nn.multiply": "mul", "nn.max": "max", "nn.min": "min"}


@lowers(*CLASSIC)
def lower_classic(op, b):
    name = CLASSIC[op.op_name]
    xs = list(op.inputs)
    if len(xs) == 1 and name in ("add", "mul"):
        xs.append(b.scalar(op.attr("alpha", 0.0)))  # MaxLayerParams / MinLayerParams have no alpha
    return fold_binary(b, name, xs)


@lowers("nn.average")
def lower_average(op, b):
    total = fold_binary(b, "add", list(op.inputs))
    return b.op("div", total, b.scalar(len(op.inputs)))


BROADCASTABLE = {"nn.add_broadcastable": "add", "nn.subtract_broadcastable": "sub",
                 "nn.multiply_broadcastable": "mul", "nn.divide_broadcastable": "div",
                 "nn.mod_broadcastable": "mod", "nn.pow_broadcastable": "pow",
                 "nn.max_broadcastable": "max", "nn.min_broadcastable": "min"}


@lowers(*BROADCASTABLE)
def lower_broadcastable(op, b):
    return fold_binary(b, BROADCASTABLE[op.op_name], list(op.inputs))


@lowers("nn.floor_div_broadcastable")
def lower_floor_div(op, b):
    out = op.inputs[0]
    for x in op.inputs[1:]:
        out = b.op("floor", b.op("div", out, x))
    return out


COMPARE = {"nn.equal": "equal", "nn.not_equal": "not_equal", "nn.less_than": "less", "nn.less_equal": "less_equal",
           "nn.greater_than": "greater", "nn.greater_equal": "greater_equal"}
LOGICAL = {"nn.logical_and": "logical_and", "nn.logical_or": "logical_or", "nn.logical_xor": "logical_xor"}


@lowers(*COMPARE, *LOGICAL)
def lower_compare(op, b):
    a = op.inputs[0]
    other = op.inputs[1] if len(op.inputs) > 1 else b.scalar(op.alpha)
    if op.op_name in LOGICAL:
        zero = b.scalar(0.0)
        a, other = b.op("not_equal", a, zero), b.op("not_equal", other, zero)
        return b.cast(b.op(LOGICAL[op.op_name], a, other), "f32")
    return b.cast(b.op(COMPARE[op.op_name], a, other), "f32")


@lowers("nn.logical_not")
def lower_logical_not(op, b):
    return b.cast(b.op("equal", single(op), b.scalar(0.0)), "f32")


UNARY_MATH = {"ceil": "ceil", "floor": "floor", "sign": "sign", "exp2": "exp2", "sin": "sin", "cos": "cos",
              "tan": "tan", "asin": "asin", "acos": "acos", "atan": "atan", "sinh": "sinh", "cosh": "cosh",
              "tanh": "tanh", "asinh": "asinh", "acosh": "acosh", "atanh": "atanh", "erf": "erf"}


@lowers(*(f"nn.{k}" for k in UNARY_MATH))
def lower_unary_math(op, b):
    return b.op(UNARY_MATH[op.op_name[3:]], single(op))


@lowers("nn.round")
def lower_round(op, b):
    # Core ML rounds half away from zero; numpy's round is half-to-even.
    x = single(op)
    return b.op("mul", b.op("sign", x), b.op("floor", b.op("add", b.op("abs", x), b.scalar(0.5))))


@lowers("nn.scale")
def lower_scale(op, b):
    x = single(op)
    rank = len(static_shape(x, op))
    y = b.op("mul", x, shaped_param(op, b, "scale", op.shapeScale, rank))
    if op.weight("bias") is not None:
        y = b.op("add", y, shaped_param(op, b, "bias", op.shapeBias, rank))
    return y


@lowers("nn.bias")
def lower_bias(op, b):
    x = single(op)
    return b.op("add", x, shaped_param(op, b, "bias", op.attr("shape", ()), len(static_shape(x, op))))


def shaped_param(op, b, field, shape, rank) -> Value:
    value = op.weight(field)
    shape = tuple(shape or ()) or (value.type.num_elements,)
    if len(shape) == 1:
        return channel_param(b, value, rank)
    return b.f32(b.reshape(value, shape))


@lowers("nn.dot")
def lower_dot(op, b):
    if op.attr("cosineSimilarity", False):
        raise unsupported(op, "cosine similarity")
    return b.op("reduce", b.op("mul", op.inputs[0], op.inputs[1]), kind="sum", axes=[-3, -2, -1], keepdims=True)


@lowers("nn.copy")
def lower_copy(op, b):
    return single(op)


@lowers("nn.where_broadcastable")
def lower_where(op, b):
    cond = b.op("not_equal", op.inputs[0], b.scalar(0.0))
    return b.op("where", cond, op.inputs[1], op.inputs[2])


# =========================================================================== linear algebra

@lowers("nn.inner_product")
def lower_inner_product(op, b):
    if op.attr("int8DynamicQuantize", False):
        raise unsupported(op, "int8 dynamic quantization")
    x = single(op)
    shape = static_shape(x, op)
    o, i = int(op.outputChannels), int(op.inputChannels)
    w = weight(op, b, "weights", (o, i))
    bias = weight(op, b, "bias", (o,))
    if len(shape) > 3:
        x = b.reshape(x, shape[:-3] + (i,))
    return b.create(core.LinearOp, {"input": x, "weight": w, "bias": bias}).result


@lowers("nn.batched_matmul")
def lower_batched_matmul(op, b):
    if op.attr("int8DynamicQuantize", False):
        raise unsupported(op, "int8 dynamic quantization")
    a = op.inputs[0]
    if len(op.inputs) == 2:
        return b.create(core.MatmulOp, [a, op.inputs[1]],
                        {"transpose_a": bool(op.transposeA), "transpose_b": bool(op.transposeB)}).result
    shape = static_shape(a, op)
    if len(shape) == 1:
        a = b.reshape(a, (1,) + shape)
        shape = (1,) + shape
    if op.transposeA:
        a = b.transpose(a, list(range(len(shape) - 2)) + [len(shape) - 1, len(shape) - 2])
    first, second = int(op.weightMatrixFirstDimension), int(op.weightMatrixSecondDimension)
    w = weight(op, b, "weights", (second, first))
    bias = weight(op, b, "bias", (second,))
    return b.create(core.LinearOp, {"input": a, "weight": w, "bias": bias}).result


@lowers("nn.embedding_nd")
def lower_embedding_nd(op, b):
    x = single(op)
    table = require_constant(op.weight("weights"), op, "embedding table")
    table = table.reshape(int(op.embeddingSize), int(op.vocabSize)).T.copy()
    idx = b.cast(b.reshape(x, static_shape(x, op)[:-1]), "i32")
    y = b.f32(b.create(core.GatherOp, [b.const(table, dtype=None), idx], {"axis": 0}).result)
    if op.weight("bias") is not None:
        y = b.op("add", y, b.f32(weight(op, b, "bias", (int(op.embeddingSize),))))
    return y


@lowers("nn.embedding")
def lower_embedding(op, b):
    x = single(op)
    table = require_constant(op.weight("weights"), op, "embedding table")
    table = table.reshape(int(op.outputChannels), int(op.inputDim)).T.copy()
    idx = b.cast(b.reshape(x, static_shape(x, op)[:-3]), "i32")
    y = b.f32(b.create(core.GatherOp, [b.const(table, dtype=None), idx], {"axis": 0}).result)
    if op.weight("bias") is not None:
        y = b.op("add", y, b.f32(weight(op, b, "bias", (int(op.outputChannels),))))
    return y


@lowers("nn.batchnorm")
def lower_batchnorm(op, b):
    c = int(op.channels)
    gamma, beta, mean, var = (weight(op, b, f, (c,)) for f in ("gamma", "beta", "mean", "variance"))
    x4 = as_nchw(b, single(op), op)
    eps = float(op.epsilon)
    if not op.computeMeanVar:
        return b.create(core.BatchNormOp, [x4, mean, var, gamma, beta], {"eps": eps}).result
    if op.instanceNormalization:
        return b.create(core.InstanceNormOp, [x4, gamma, beta], {"eps": eps}).result
    # statistics over every axis but the channel axis
    y = b.create(core.LayerNormOp, {"input": x4}, {"axes": [0, 2, 3], "eps": eps}).result
    return b.op("add", b.op("mul", y, channel_param(b, gamma, 4)), channel_param(b, beta, 4))


@lowers("nn.mvn")
def lower_mvn(op, b):
    x = single(op)
    axes = [-3, -2, -1] if op.acrossChannels else [-2, -1]
    if op.normalizeVariance:
        return b.create(core.LayerNormOp, {"input": x}, {"axes": axes, "eps": float(op.epsilon)}).result
    mean = b.op("reduce", x, kind="mean", axes=axes, keepdims=True)
    return b.op("sub", x, mean)


@lowers("nn.l2normalize")
def lower_l2normalize(op, b):
    return b.op("l2_norm", single(op), axes=[-3, -2, -1], eps=float(op.epsilon))


@lowers("nn.softmax")
def lower_softmax(op, b):
    x = single(op)
    return b.op("softmax", x, axis=-3 if len(static_shape(x, op)) >= 3 else -1)


@lowers("nn.softmax_nd")
def lower_softmax_nd(op, b):
    return b.op("softmax", single(op), axis=int(op.axis))


@lowers("nn.lrn")
def lower_lrn(op, b):
    x4 = as_nchw(b, single(op), op)
    return b.op("lrn", x4, size=int(op.localSize), alpha=float(op.alpha), beta=float(op.beta), k=float(op.k))


@lowers("nn.layer_normalization")
def lower_layer_normalization(op, b):
    shape = tuple(int(d) for d in op.normalizedShape)
    rank = len(static_shape(single(op), op))
    axes = list(range(rank - len(shape), rank))
    gamma = weight(op, b, "gamma", shape)
    beta = weight(op, b, "beta", shape)
    return b.create(core.LayerNormOp, {"input": single(op), "gamma": gamma, "beta": beta},
                    {"axes": axes, "eps": float(op.eps)}).result


CLASSIC_REDUCE_AXES = {"CHW": [-3, -2, -1], "HW": [-2, -1], "C": [-3], "H": [-2], "W": [-1]}
REDUCE_KINDS = {"SUM": "sum", "AVG": "mean", "PROD": "prod", "SUMSQUARE": "sum_square", "L1": "l1",
                "L2": "l2", "MAX": "max", "MIN": "min", "LOGSUMEXP": "logsumexp", "LOGSUM": "log_sum"}


def _reduce(op, b, x, mode, axes, keepdims, eps=0.0):
    if mode == "LOGSUM" and eps:
        total = b.op("reduce", x, kind="sum", axes=axes, keepdims=keepdims)
        return b.op("log", b.op("add", total, b.scalar(eps)))
    if mode not in REDUCE_KINDS:
        raise unsupported(op, f"reduction mode '{mode}'")
    return b.op("reduce", x, kind=REDUCE_KINDS[mode], axes=axes, keepdims=keepdims)


@lowers("nn.reduce")
def lower_reduce(op, b):
    axes = CLASSIC_REDUCE_AXES[op.axis]
    if op.mode == "ARGMAX":
        return b.cast(b.op("argmax", single(op), axis=axes[0], keepdims=True), "f32")
    return _reduce(op, b, single(op), op.mode, axes, True, float(op.epsilon))


ND_REDUCE = {"nn.reduce_l1": "L1", "nn.reduce_l2": "L2", "nn.reduce_max": "MAX", "nn.reduce_min": "MIN",
             "nn.reduce_sum": "SUM", "nn.reduce_prod": "PROD", "nn.reduce_mean": "AVG", "nn.reduce_log_sum": "LOGSUM",
             "nn.reduce_sum_square": "SUMSQUARE", "nn.reduce_log_sum_exp": "LOGSUMEXP"}


@lowers(*ND_REDUCE)
def lower_reduce_nd(op, b):
    x = single(op)
    rank = len(static_shape(x, op))
    axes = list(op.reduced_axes(rank))
    return _reduce(op, b, x, ND_REDUCE[op.op_name], axes, bool(op.keepDims))


@lowers("nn.arg_max", "nn.arg_min")
def lower_arg_reduce(op, b):
    name = "argmax" if op.op_name == "nn.arg_max" else "argmin"
    return b.cast(b.op(name, single(op), axis=int(op.axis), keepdims=not op.removeDim), "f32")


@lowers("nn.cum_sum")
def lower_cumsum(op, b):
    if len(op.inputs) > 1:
        raise unsupported(op, "an axis given as an input")
    return b.op("cumsum", single(op), axis=int(op.axis), exclusive=bool(op.excludeFinalSum), reverse=bool(op.reverse))


@lowers("nn.top_k")
def lower_top_k(op, b):
    k = op.K if len(op.inputs) == 1 else evaluate_constant(op.inputs[1])
    if k is None:
        raise unsupported(op, "K computed at run time")
    k = int(np.asarray(k).reshape(-1)[0])
    top = b.create(core.TopkOp, [single(op)], {"k": k, "axis": int(op.axis), "largest": not op.useBottomK})
    return [top.results[0], b.cast(top.results[1], "f32")]


# =========================================================================== spatial

@lowers("nn.convolution")
def lower_convolution(op, b):
    x = single(op)
    shape = static_shape(x, op)
    x4 = as_nchw(b, x, op)
    h, w = shape[-2:]
    kh, kw, sh, sw, dh, dw, pt, pb, pl, pr = op.geometry(h, w)
    g = op.groups()
    cout, cin = int(op.outputChannels), shape[-3]
    wv = op.inputs[1] if len(op.inputs) > 1 else op.weight("weights")
    bias = weight(op, b, "bias", (cout,))
    if not op.isDeconvolution:
        wv = b.reshape(wv, (cout, cin // g, kh, kw))
        return b.create(core.Conv2dOp, {"input": x4, "weight": wv, "bias": bias},
                        {"strides": [sh, sw], "dilations": [dh, dw], "pads": [pt, pb, pl, pr], "groups": g}).result
    wv = b.reshape(wv, (cin, cout // g, kh, kw))
    ho, wo = op.shapes([shape], {})[0][-2:]
    full_h, full_w = (h - 1) * sh + (kh - 1) * dh + 1, (w - 1) * sw + (kw - 1) * dw + 1
    bottom, right = full_h - pt - ho, full_w - pl - wo
    if pt > full_h or pl > full_w:
        raise unsupported(op, "deconvolution padding larger than the output")
    return b.create(core.ConvTranspose2dOp, {"input": x4, "weight": wv, "bias": bias},
                    {"strides": [sh, sw], "dilations": [dh, dw], "groups": g,
                     "pads": [pt, max(bottom, 0), pl, max(right, 0)],
                     "output_padding": [max(-bottom, 0), max(-right, 0)]}).result


POOL_KINDS = {"MAX": "max", "AVERAGE": "avg"}


@lowers("nn.pooling")
def lower_pooling(op, b):
    if op.type not in POOL_KINDS:
        raise unsupported(op, f"{op.type} pooling")
    x = single(op)
    shape = static_shape(x, op)
    x4 = as_nchw(b, x, op)
    kind = POOL_KINDS[op.type]
    if op.globalPooling:
        return b.op("global_pool", x4, kind=kind)
    h, w = shape[-2:]
    kh, kw, sh, sw, pt, pb, pl, pr = op.geometry(h, w)
    ceil_mode = False
    if op.oneof("includeLastPixel"):
        ceil_mode, pb, pr = True, pt, pl
    y = b.create(core.Pool2dOp, [x4], {"kind": kind, "kernel": [kh, kw], "strides": [sh, sw],
                                       "pads": [pt, pb, pl, pr], "ceil_mode": ceil_mode,
                                       "exclude_padding": bool(op.avgPoolExcludePadding)}).result
    if tuple(y.type.shape[-2:]) != tuple(op.outputs[0].type.shape[-2:]):
        raise unsupported(op, "this pooling geometry (Core ML and core disagree on the output size)")
    return y


PAD_MODES = {"constant": "constant", "reflection": "reflect", "replication": "replicate"}


@lowers("nn.padding")
def lower_padding(op, b):
    x = single(op)
    rank = len(static_shape(x, op))
    (t, bt), (l, r) = op.amounts()
    mode = op.oneof(*PAD_MODES) or "constant"
    value = float(op.attr("constant", {}).get("value", 0.0)) if mode == "constant" else 0.0
    return b.op("pad", x, pads=[0] * (2 * rank - 4) + [t, bt, l, r], mode=PAD_MODES[mode], value=value)


@lowers("nn.constant_pad")
def lower_constant_pad(op, b):
    x = single(op)
    if len(op.inputs) > 1:
        raise unsupported(op, "pad amounts given as an input")
    pads = [p for pair in op.pads(static_shape(x, op)) for p in pair]
    return b.op("pad", x, pads=pads, mode="constant", value=float(op.value))


@lowers("nn.crop")
def lower_crop(op, b):
    x = single(op)
    shape = static_shape(x, op)
    ref = static_shape(op.inputs[1], op) if len(op.inputs) > 1 else None
    t, l, h, w = op.window(shape, ref)
    n = len(shape)
    return b.op("slice", x, begin=[0] * (n - 2) + [t, l], end=list(shape[:-2]) + [t + h, l + w], strides=[1] * n)


def nearest_resize(b: CoreBuilder, x: Value, rows: np.ndarray, cols: np.ndarray, op) -> Value:
    """Nearest-neighbour resampling of the last two axes at source indices `rows`, `cols`:
    core.upsample when its float coordinates give exactly these indices, else two gathers."""
    h, w = static_shape(x, op)[-2:]
    scales = []
    for src, size in ((rows, h), (cols, w)):
        factor = len(src) // size if len(src) % size == 0 else 0
        if factor & (factor - 1) or not factor or not np.array_equal(src, np.arange(len(src)) // factor):
            break  # not a power-of-two integer factor: 1/scale would not be exact
        scales.append(float(factor))
    if len(scales) == 2:
        return b.op("upsample", x, size=[len(rows), len(cols)], mode="nearest", coordinates="asymmetric",
                    scales=scales)
    rank = len(static_shape(x, op))
    y = b.create(core.GatherOp, [x, b.const(rows, dtype=np.int32)], {"axis": rank - 2}).result
    return b.create(core.GatherOp, [y, b.const(cols, dtype=np.int32)], {"axis": rank - 1}).result


@lowers("nn.upsample")
def lower_upsample(op, b):
    x = single(op)
    out = op.outputs[0].type.shape
    if op.mode == "NN":
        h, w = static_shape(x, op)[-2:]
        ho, wo = out[-2:]
        rows = np.minimum((np.arange(ho) * h) // ho, h - 1)
        cols = np.minimum((np.arange(wo) * w) // wo, w - 1)
        return nearest_resize(b, x, rows, cols, op)
    return b.op("upsample", x, size=list(out[-2:]), mode="bilinear",
                coordinates=LINEAR_UPSAMPLE_COORDS[op.linearUpsampleMode])


LINEAR_UPSAMPLE_COORDS = {"DEFAULT": "asymmetric", "ALIGN_CORNERS_TRUE": "align_corners",
                          "ALIGN_CORNERS_FALSE": "half_pixel"}


RESIZE_COORDS = {"STRICT_ALIGN_ENDPOINTS_MODE": "align_corners", "ALIGN_ENDPOINTS_MODE": "align_corners",
                 "UPSAMPLE_MODE": "asymmetric", "ROI_ALIGN_MODE": "offset_corners"}


@lowers("nn.resize_bilinear")
def lower_resize_bilinear(op, b):
    mode = op.attr("mode", {}).get("samplingMethod", "STRICT_ALIGN_ENDPOINTS_MODE")
    out = op.outputs[0].type.shape
    return b.op("upsample", single(op), size=list(out[-2:]), mode="bilinear", coordinates=RESIZE_COORDS[mode])


@lowers("nn.reorganize_data")
def lower_reorganize_data(op, b):
    x4 = as_nchw(b, single(op), op)
    n, c, h, w = x4.type.shape
    k = int(op.blockSize)
    if op.mode == "SPACE_TO_DEPTH":
        y = b.reshape(x4, (n, c, h // k, k, w // k, k))
        return b.reshape(b.transpose(y, [0, 3, 5, 1, 2, 4]), (n, c * k * k, h // k, w // k))
    co = c // (k * k)
    if op.mode == "DEPTH_TO_SPACE":
        y = b.transpose(b.reshape(x4, (n, k, k, co, h, w)), [0, 3, 4, 1, 5, 2])
    else:
        y = b.transpose(b.reshape(x4, (n, co, k, k, h, w)), [0, 1, 4, 2, 5, 3])
    return b.reshape(y, (n, co, h * k, w * k))


# =========================================================================== tensor reorganization

def _result_reshape(op, b):
    return b.reshape(single(op), static_shape(op.outputs[0], op))


for _name in ("nn.reshape_static", "nn.squeeze", "nn.expand_dims", "nn.flatten_to_2d", "nn.rank_preserving_reshape",
              "nn.reshape_like"):
    LOWERINGS[_name] = _result_reshape


@lowers("nn.reshape")
def lower_reshape(op, b):
    x = single(op)
    shape = static_shape(x, op)
    out = static_shape(op.outputs[0], op)
    s5, o5 = (1,) + shape if len(shape) == 4 else shape, (1,) + out if len(out) == 4 else out
    if s5[1] != 1 and (s5[0] != 1 or o5[0] != 1):
        raise unsupported(op, "a sequence reshape with batch > 1")
    if op.mode != "CHANNEL_LAST":
        return b.reshape(x, out)
    # channel-last: reshape the [.., H, W, C] view, then move C back
    xl = b.transpose(x, list(range(len(shape) - 3)) + [len(shape) - 2, len(shape) - 1, len(shape) - 3])
    yl = b.reshape(xl, out[:-3] + (out[-2], out[-1], out[-3]))
    return b.transpose(yl, list(range(len(out) - 3)) + [len(out) - 1, len(out) - 3, len(out) - 2])


@lowers("nn.flatten")
def lower_flatten(op, b):
    x = single(op)
    shape = static_shape(x, op)
    if op.mode == "CHANNEL_LAST":
        n = len(shape)
        x = b.transpose(x, list(range(n - 3)) + [n - 2, n - 1, n - 3])
    return b.reshape(x, static_shape(op.outputs[0], op))


@lowers("nn.permute")
def lower_permute(op, b):
    x = single(op)
    shape = static_shape(x, op)
    perm = op.perm()
    if len(shape) == 5:
        return b.transpose(x, perm)
    x5 = b.reshape(x, (1,) + shape)
    return b.transpose(x5, perm)


@lowers("nn.transpose")
def lower_transpose(op, b):
    x = single(op)
    shape = op.operand_shape(static_shape(x, op))
    return b.transpose(b.reshape(x, shape), op.perm(len(shape)))


@lowers("nn.concat")
def lower_concat(op, b):
    rank = len(static_shape(op.inputs[0], op))
    return b.create(core.ConcatOp, list(op.inputs), {"axis": op.axis(rank)}).result


@lowers("nn.concat_nd")
def lower_concat_nd(op, b):
    shape = static_shape(op.inputs[0], op)
    axis = int(op.axis) % len(shape)
    if not op.interleave:
        return b.create(core.ConcatOp, list(op.inputs), {"axis": axis}).result
    parts = [b.reshape(x, shape[:axis + 1] + (1,) + shape[axis + 1:]) for x in op.inputs]
    return b.create(core.ConcatOp, parts, {"axis": axis + 1}).result


@lowers("nn.stack")
def lower_stack(op, b):
    shape = static_shape(op.inputs[0], op)
    axis = int(op.axis) % (len(shape) + 1)
    parts = [b.reshape(x, shape[:axis] + (1,) + shape[axis:]) for x in op.inputs]
    return b.create(core.ConcatOp, parts, {"axis": axis}).result


@lowers("nn.split")
def lower_split(op, b):
    x = single(op)
    shape = static_shape(x, op)
    n = len(op.outputs)
    return list(b.create(core.SplitOp, [x], {"axis": len(shape) - 3, "sizes": [shape[-3] // n] * n}).results)


@lowers("nn.split_nd")
def lower_split_nd(op, b):
    x = single(op)
    shape = static_shape(x, op)
    axis = int(op.axis) % len(shape)
    return list(b.create(core.SplitOp, [x], {"axis": axis, "sizes": op.sizes(shape[axis])}).results)


@lowers("nn.slice")
def lower_slice(op, b):
    x = single(op)
    shape = static_shape(x, op)
    axis, sl = op.index(len(shape))
    begin, end, strides = [0] * len(shape), list(shape), [1] * len(shape)
    begin[axis], end[axis], strides[axis] = sl.start, sl.stop, sl.step
    return b.op("slice", x, begin=begin, end=end, strides=strides)


@lowers("nn.slice_static")
def lower_slice_static(op, b):
    x = single(op)
    shape = static_shape(x, op)
    slices, _ = op.slices(shape)
    return b.op("slice", x, **slice_bounds(slices, shape))


@lowers("nn.tile")
def lower_tile(op, b):
    reps = op.reps if len(op.inputs) == 1 else evaluate_constant(op.inputs[1])
    if reps is None:
        raise unsupported(op, "repetitions computed at run time")
    x, reps = single(op), [int(r) for r in np.asarray(reps).reshape(-1)]
    shape = static_shape(x, op)
    if len(reps) > len(shape):  # numpy's rule: the input gains leading unit dims
        x = b.reshape(x, (1,) * (len(reps) - len(shape)) + shape)
    reps = [1] * (len(shape) - len(reps)) + reps
    return b.op("tile", x, reps=reps)


@lowers("nn.gather")
def lower_gather(op, b):
    data, idx = op.inputs
    return b.create(core.GatherOp, [data, b.cast(idx, "i32")], {"axis": int(op.axis)}).result


@lowers("nn.load_constant_nd", "nn.load_constant")
def lower_load_constant(op, b):
    return b.f32(b.reshape(op.weight("data"), static_shape(op.outputs[0], op)))


@lowers("nn.fill_static")
def lower_fill_static(op, b):
    return b.create(core.FillOp, [], {"shape": [int(d) for d in op.targetShape], "value": float(op.value)}).result


@lowers("nn.fill_like")
def lower_fill_like(op, b):
    shape = static_shape(single(op), op)
    return b.create(core.FillOp, [], {"shape": list(shape), "value": float(op.value)}).result


@lowers("nn.broadcast_to_static", "nn.broadcast_to_like")
def lower_broadcast_to(op, b):
    x = single(op)
    shape = static_shape(x, op)
    out = static_shape(op.outputs[0], op)
    x = b.reshape(x, (1,) * (len(out) - len(shape)) + shape)
    return b.op("tile", x, reps=[o // max(d, 1) if d == 1 else 1 for d, o in zip(x.type.shape, out)])


@lowers("nn.range_static")
def lower_range_static(op, b):
    return b.create(core.RangeOp, [b.const([op.startValue]), b.const([op.endValue]),
                                   b.const([op.stepSizeValue])]).result


@lowers("nn.lower_triangular", "nn.upper_triangular")
def lower_triangular(op, b):
    x = single(op)
    shape = static_shape(x, op)
    fn = np.tril if op.op_name == "nn.lower_triangular" else np.triu
    return b.op("mul", x, b.const(fn(np.ones(shape[-2:], np.float32), int(op.k))))


def flip(b: CoreBuilder, x: Value, axes, op) -> Value:
    """x reversed along `axes` (a negative-stride slice)."""
    shape = static_shape(x, op)
    axes = {a % len(shape) for a in axes}
    begin = [d - 1 if i in axes else 0 for i, d in enumerate(shape)]
    end = [-d - 1 if i in axes else d for i, d in enumerate(shape)]
    strides = [-1 if i in axes else 1 for i in range(len(shape))]
    return b.op("slice", x, begin=begin, end=end, strides=strides)


@lowers("nn.reverse")
def lower_reverse(op, b):
    axes = [i for i, r in enumerate(op.reverseDim) if r]
    return flip(b, single(op), axes, op) if axes else single(op)


@lowers("nn.gather_nd")
def lower_gather_nd(op, b):
    data, idx = op.inputs
    return b.create(core.GatherNdOp, [data, b.cast(idx, "i32")]).result


@lowers("nn.one_hot")
def lower_one_hot(op, b):
    if len(op.inputs) > 1:
        raise unsupported(op, "a depth given as an input")
    return b.create(core.OneHotOp, [b.cast(single(op), "i32")],
                    {"depth": int(op.oneHotVectorSize), "axis": int(op.axis), "on_value": float(op.onValue),
                     "off_value": float(op.offValue)}).result


@lowers("nn.matrix_band_part")
def lower_matrix_band_part(op, b):
    x = single(op)
    m, n = static_shape(x, op)[-2:]
    i, j = np.arange(m)[:, None], np.arange(n)[None, :]
    lower, upper = int(op.numLower), int(op.numUpper)
    keep = ((lower < 0) | (i - j <= lower)) & ((upper < 0) | (j - i <= upper))
    return b.op("mul", x, b.const(keep.astype(np.float32)))


@lowers("nn.sequence_repeat")
def lower_sequence_repeat(op, b):
    x = single(op)
    shape = static_shape(x, op)
    x5 = b.reshape(x, (1,) + shape if len(shape) == 4 else shape)
    return b.op("tile", x5, reps=[max(int(op.nRepetitions), 1), 1, 1, 1, 1])


@lowers("nn.arg_sort")
def lower_arg_sort(op, b):
    x = single(op)
    axis = int(op.axis)
    # a full stable top-k is a stable argsort (ties keep the lower index first)
    top = b.create(core.TopkOp, [x], {"k": static_shape(x, op)[axis], "axis": axis, "largest": bool(op.descending)})
    return b.cast(top.results[1], "f32")


# =========================================================================== recurrent

LSTM_GATES = ("inputGate", "forgetGate", "blockInput", "outputGate")  # = PyTorch's i, f, g, o
DEFAULT_LSTM_ACTIVATIONS = ("sigmoid", "tanh", "tanh")


def _check_lstm(op, activation_lists, seq_len: int, c0_bound: float | None):
    params = op.attr("params", {}) or {}
    for flag in ("hasPeepholeVectors", "coupledInputAndForgetGate"):
        if params.get(flag):
            raise unsupported(op, f"an LSTM with {flag}")
    clip = float(params.get("cellClipThreshold", 0.0))
    # |c_t| <= max|c_0| + t since |f| <= 1 and |i * g| <= 1: a threshold above that bound never
    # clips (coremltools writes 500), so the clip-free core.lstm is exact.
    if clip and (c0_bound is None or clip < c0_bound + seq_len):
        raise unsupported(op, f"an LSTM with cell clipping at {clip}")
    for acts in activation_lists:
        kinds = tuple(next(iter(a)) if a else d for a, d in zip(list(acts) + [None] * 3, DEFAULT_LSTM_ACTIVATIONS))
        if kinds != DEFAULT_LSTM_ACTIVATIONS:
            raise unsupported(op, f"LSTM activations {list(kinds)}")
    return params


def _lstm_weights(op, prefix, params, hsz, xsz):
    """(w_ih [4H, X], w_hh [4H, H], bias [4H] or None) of one direction, in the stored precision."""
    def arr(name, shape):
        return require_constant(op.weight(prefix + name), op, "LSTM weight").reshape(shape)

    w_ih = np.concatenate([arr(g + "WeightMatrix", (hsz, xsz)) for g in LSTM_GATES])
    w_hh = np.concatenate([arr(g + "RecursionMatrix", (hsz, hsz)) for g in LSTM_GATES])
    bias = None
    if params.get("hasBiasVectors"):
        bias = np.concatenate([arr(g + "BiasVector", (hsz,)).astype(np.float32) for g in LSTM_GATES])
    if params.get("forgetBias"):
        bias = np.zeros(4 * hsz, np.float32) if bias is None else bias
        bias[hsz:2 * hsz] += 1.0
    return w_ih, w_hh, bias


def _cell_state_bound(op, directions) -> float | None:
    """max |c0| over the initial cell states (0 when absent), None when not constant."""
    extra = list(op.inputs[1:])
    cells = extra[1:2] if directions == 1 else extra[1:2] + extra[3:4]
    bound = 0.0
    for c in cells:
        array = evaluate_constant(c)
        if array is None:
            return None
        bound = max(bound, float(np.max(np.abs(array.astype(np.float64)))) if array.size else 0.0)
    return bound


def _sequence_length(x, op) -> int:
    shape = static_shape(x, op)
    return shape[0] if len(shape) == 5 else 1


def _sequence(b, x, op):
    shape = static_shape(x, op)
    seq, batch = (shape[0], shape[1]) if len(shape) == 5 else (1, shape[0])
    return b.reshape(x, (seq, batch, int(np.prod(shape[-3:])))), seq, batch


def _states(b, op, inputs, batch, hsz):
    """Initial states [D, B, H] from optional [1, B, H, 1, 1] inputs (None when absent)."""
    if not inputs:
        return None
    parts = [b.reshape(v, (1, batch, hsz)) for v in inputs]
    return parts[0] if len(parts) == 1 else b.create(core.ConcatOp, parts, {"axis": 0}).result


def _lstm(op, b, directions):
    hsz, xsz = int(op.outputVectorSize), int(op.inputVectorSize)
    seq_len, c0_bound = _sequence_length(single(op), op), _cell_state_bound(op, directions)
    if directions == 1:
        params = _check_lstm(op, [op.attr("activations", ())], seq_len, c0_bound)
        dirs = [_lstm_weights(op, "weightParams.", params, hsz, xsz)]
        direction = "reverse" if op.reverseInput else "forward"
    else:
        params = _check_lstm(op, [op.attr("activationsForwardLSTM", ()), op.attr("activationsBackwardLSTM", ())],
                             seq_len, c0_bound)
        dirs = [_lstm_weights(op, f"weightParams[{k}].", params, hsz, xsz) for k in range(2)]
        direction = "bidirectional"
    x, seq, batch = _sequence(b, single(op), op)
    extra = list(op.inputs[1:])
    if directions == 1:
        h0, c0 = extra[0:1], extra[1:2]
    else:
        h0, c0 = extra[0:1] + extra[2:3], extra[1:2] + extra[3:4]
    if len(h0) != len(c0) or (h0 and len(h0) != directions):
        raise unsupported(op, "partial initial states")
    operands = {"input": x,
                "w_ih": b.const(np.stack([d[0] for d in dirs]), dtype=None),
                "w_hh": b.const(np.stack([d[1] for d in dirs]), dtype=None),
                "b_ih": None if dirs[0][2] is None else b.const(np.stack([d[2] for d in dirs])),
                "b_hh": None, "h0": _states(b, op, h0, batch, hsz), "c0": _states(b, op, c0, batch, hsz)}
    lstm = b.create(core.LstmOp, operands, {"direction": direction})
    y, h_n, c_n = lstm.results
    if not params.get("sequenceOutput"):
        # unidirectional: the output at the last time index (for reverseInput that is the first
        # step run); bidirectional: both final states
        y = last_step(b, y, seq, batch, hsz) if directions == 1 else \
            b.create(core.ConcatOp, [b.op("slice", h_n, begin=[k, 0, 0], end=[k + 1, batch, hsz],
                                                 strides=[1, 1, 1]) for k in range(2)], {"axis": 2}).result
    states = []
    for k in range(directions):
        for s in (h_n, c_n):
            states.append(s if directions == 1 else
                          b.op("slice", s, begin=[k, 0, 0], end=[k + 1, batch, hsz], strides=[1, 1, 1]))
    return [y] + states


@lowers("nn.uni_directional_lstm")
def lower_uni_lstm(op, b):
    return _lstm(op, b, 1)


@lowers("nn.bi_directional_lstm")
def lower_bi_lstm(op, b):
    return _lstm(op, b, 2)


@lowers("nn.simple_recurrent")
def lower_simple_recurrent(op, b):
    act = op.attr("activation") or {"linear": {}}
    kind = next(iter(act))
    if kind not in ("tanh", "ReLU"):
        raise unsupported(op, f"a simple recurrent layer with activation '{kind}'")
    hsz, xsz = int(op.outputVectorSize), int(op.inputVectorSize)
    x, seq, batch = _sequence(b, single(op), op)
    w = require_constant(op.weight("weightMatrix"), op, "weight").reshape(1, hsz, xsz)
    r = require_constant(op.weight("recursionMatrix"), op, "weight").reshape(1, hsz, hsz)
    bias = op.weight("biasVector")
    operands = {"input": x, "w_ih": b.const(w, dtype=None), "w_hh": b.const(r, dtype=None),
                "b_ih": None if bias is None else b.reshape(b.f32(bias), (1, hsz)), "b_hh": None,
                "h0": _states(b, op, list(op.inputs[1:2]), batch, hsz)}
    rnn = b.create(core.RnnOp, operands, {"direction": "reverse" if op.reverseInput else "forward",
                                          "activation": "tanh" if kind == "tanh" else "relu"})
    y, h_n = rnn.results
    if not op.sequenceOutput:
        y = last_step(b, y, seq, batch, hsz)
    return [y, h_n]


def last_step(b, y, seq, batch, hsz):
    """y[seq - 1:] of a [seq, batch, hsz] sequence output."""
    return b.op("slice", y, begin=[seq - 1, 0, 0], end=[seq, batch, hsz], strides=[1, 1, 1])


# =========================================================================== weights and inputs

@lowers("nn.dequantize")
def lower_dequantize(op, b):
    """Quantized WeightParams stay quantized: a core.dequantize (code * scale + bias, per tensor
    or per channel along `axis`) or core.lut_to_dense of the unpacked codes."""
    raw = require_constant(op.raw, op, "quantized weight")
    shape = op.output.type.shape
    n, bits = int(np.prod(shape)), op.numberOfBits
    codes = raw.reshape(-1)[:n] if raw.dtype == np.int8 else unpack_bits(raw, n, bits).astype(np.uint8)
    codes = codes.reshape(shape)
    name = f"{op.location.name if op.location is not None and op.location.name else 'weight'}.q"
    rank, axis = len(shape), op.axis if len(shape) > 1 else 0
    if op.mode == "lut":
        lut = np.asarray(op.lut, np.float32).reshape((1,) * rank + (-1,))
        attrs = core.lut_attributes(name, codes, lut, bits)
        return b.create(core.LutToDenseOp, [], attrs, [op.output.type]).result
    scale = core.along_axis(np.asarray(op.scale or (1.0,), np.float32), axis, rank)
    offset = core.along_axis(np.asarray(op.bias, np.float32), axis, rank) if any(op.bias) else None
    attrs = core.dequantize_attributes(name, codes, scale, offset=offset, bits=8 if raw.dtype == np.int8 else bits)
    return b.create(core.DequantizeOp, [], attrs, [op.output.type]).result


@lowers("nn.image_preprocess")
def lower_image_preprocess(op, b):
    x = op.input
    shape = static_shape(x, op)
    scaled, mean = op.scale_and_bias(), op.mean_image()
    if scaled is not None:
        scale, bias = scaled
        y = b.op("mul", x, b.scalar(scale))
        return b.op("add", y, b.const(bias.reshape((-1, 1, 1) if len(shape) >= 3 else (-1,))))
    return x if mean is None else b.op("sub", x, b.const(mean.reshape(shape[-3:])))


# Layers `core` cannot express, run by the runtime on their numpy reference semantics:
# control flow, Core ML's GRU (reset gate before the hidden matmul; core.gru follows PyTorch),
# and custom layers (their implementation is registered by the user).
# Layers the runtime runs on the numpy reference path, as they are: control flow and app-defined
# layers; result shapes known only at run time (dynamic reshape/slice/fill/range/broadcast,
# get_shape, where_non_zero, NMS), which `core`'s static kernels cannot plan; 3-D spatial layers,
# scatters/gathers along an axis, sequence reversal, sliding windows and crop-resize, which have
# no core op yet; and random draws (numpy's generator, seeded by the layer).
REFERENCE_PATH = frozenset({
    "nn.loop", "nn.branch", "nn.gru", "nn.custom", "nn.loop_break", "nn.loop_continue",
    "nn.reshape_dynamic", "nn.slice_dynamic", "nn.slice_by_size", "nn.fill_dynamic", "nn.range_dynamic",
    "nn.broadcast_to_dynamic", "nn.get_shape", "nn.where_non_zero", "nn.non_maximum_suppression",
    "nn.convolution3d", "nn.pooling3d", "nn.global_pooling3d", "nn.scatter", "nn.scatter_nd",
    "nn.scatter_along_axis", "nn.gather_along_axis", "nn.reverse_seq", "nn.sliding_windows", "nn.crop_resize",
    "nn.categorical_distribution", "nn.random_bernoulli_dynamic", "nn.random_bernoulli_like",
    "nn.random_bernoulli_static", "nn.random_normal_dynamic", "nn.random_normal_like", "nn.random_normal_static",
    "nn.random_uniform_dynamic", "nn.random_uniform_like", "nn.random_uniform_static",
})


@dataclass(frozen=True)
class NnToCore(ModulePass):
    name = "nn-to-core"
    description = "lower NeuralNetwork layers (nn.*) to the core compute dialect"
    fallback: bool = False  # keep layers without a core mapping for the runtime's reference path

    def run(self, module, ctx: PassContext) -> None:
        run_lowering(module, LOWERINGS, "nn", ctx, self.name, reference_path=REFERENCE_PATH, fallback=self.fallback)
