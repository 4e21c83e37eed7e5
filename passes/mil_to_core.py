"""`mil-to-core`: lower ML Program ops (`mil.*`) into the normalized `core` dialect.

MIL's precision model maps one to one: a MIL op computes in f32 and rounds each result to its
declared element type; a core op rounds its result to its element type, which it takes from
its operands. So the lowering keeps every element type (f16 activations stay f16 between the
converter's casts) and only `mil.cast` changes precision. Parameters that must be compile-time
constants (strides, axes, modes...) become attributes; the `mil.const` ops they came from are
dropped, the remaining ones (weights, scalars used as tensors) become `core.constant`s.

Unsupported ops (control flow, scatter, ...) and options raise MlirCoremlError naming the op
and its location before anything is rewritten.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlir_coreml.ir.attributes import DenseAttr, DenseResourceAttr, ResourceBlob
from mlir_coreml.ir.dialects import core
from mlir_coreml.ir.dialects.mil.base import MIL_DTYPES, NotConstant, defining_const, ints, rounded, scalar
from mlir_coreml.ir.dialects.mil.control import unpack_bits
from mlir_coreml.ir.shapes import window_output_size
from mlir_coreml.ir.opdef import build
from mlir_coreml.ir.types import TensorType
from mlir_coreml.passes.base import ModulePass, PassContext
from mlir_coreml.passes._lowering import (evaluate_constant, require_constant, run_lowering, slice_bounds,
                                          static_shape, unsupported)
from mlir_coreml.passes.nn_to_core import flip, nearest_resize

LOWERINGS: dict = {}


def lowers(*names: str):
    def wrap(fn):
        for n in names:
            LOWERINGS[f"mil.{n}"] = fn
        return fn
    return wrap


def param(op, name, default=None):
    """The compile-time value of MIL parameter `name` (default when absent)."""
    try:
        return op.const_param(name, default)
    except NotConstant:
        raise unsupported(op, f"a run-time value for parameter '{name}'") from None


def pscalar(op, name, default=None):
    value = param(op, name, default)
    return None if value is None else scalar(value)


def const_like(b, value, x):
    """A constant of x's element type (MIL scalar parameters follow x's precision)."""
    return b.const(np.asarray(value, dtype=x.type.element.numpy_dtype), dtype=None)


def rank4(op, x):
    shape = static_shape(x, op)
    if len(shape) != 4:
        raise unsupported(op, f"a rank-{len(shape)} input (only 2-D spatial ops lower to core)")
    return shape


# =========================================================================== elementwise

UNARY = {"abs": "abs", "acos": "acos", "asin": "asin", "atan": "atan", "atanh": "atanh", "ceil": "ceil",
         "cos": "cos", "cosh": "cosh", "erf": "erf", "exp": "exp", "exp2": "exp2", "floor": "floor",
         "round": "round", "sign": "sign", "sin": "sin", "sinh": "sinh", "sqrt": "sqrt", "square": "square",
         "tan": "tan", "tanh": "tanh", "relu": "relu", "sigmoid": "sigmoid", "silu": "silu",
         "softplus": "softplus", "softsign": "softsign", "logical_not": "logical_not"}


@lowers(*UNARY)
def lower_unary(op, b):
    return b.op(UNARY[op.mil_type], op.x)


@lowers("identity")
def lower_identity(op, b):
    return op.x


@lowers("relu6")
def lower_relu6(op, b):
    return b.op("clip", op.x, alpha=0.0, beta=6.0)


def _with_epsilon(op, b, name, default_eps):
    """f(x + epsilon) computed in f32 (a tiny epsilon would vanish in f16), rounded back."""
    x = op.x
    eps = float(pscalar(op, "epsilon", default_eps))
    wide = b.f32(x)
    y = b.op(name, b.op("add", wide, b.scalar(eps)) if eps else wide)
    return b.cast(y, str(x.type.element))


@lowers("inverse")
def lower_inverse(op, b):
    return _with_epsilon(op, b, "reciprocal", 1e-4)


@lowers("log")
def lower_log(op, b):
    return _with_epsilon(op, b, "log", 1e-45)


@lowers("rsqrt")
def lower_rsqrt(op, b):
    return _with_epsilon(op, b, "rsqrt", 1e-12)


GELU_MODES = {"EXACT": "exact", "TANH_APPROXIMATION": "tanh", "SIGMOID_APPROXIMATION": "sigmoid"}


@lowers("gelu")
def lower_gelu(op, b):
    mode = str(pscalar(op, "mode", "EXACT"))
    if mode not in GELU_MODES:
        raise unsupported(op, f"gelu mode '{mode}'")
    return b.op("gelu", op.x, mode=GELU_MODES[mode])


def _activation(core_name, *params):
    def lower(op, b):
        attrs = {}
        for attr, mil_name in params:
            attrs[attr] = float(pscalar(op, mil_name))
        return b.op(core_name, op.x, **attrs)
    return lower


for _mil, _core, _params in (
        ("leaky_relu", "leaky_relu", (("alpha", "alpha"),)),
        ("elu", "elu", (("alpha", "alpha"),)),
        ("thresholded_relu", "thresholded_relu", (("alpha", "alpha"),)),
        ("clip", "clip", (("alpha", "alpha"), ("beta", "beta"))),
        ("sigmoid_hard", "hard_sigmoid", (("alpha", "alpha"), ("beta", "beta"))),
        ("scaled_tanh", "scaled_tanh", (("alpha", "alpha"), ("beta", "beta"))),
        ("linear_activation", "linear_activation", (("alpha", "alpha"), ("beta", "beta")))):
    LOWERINGS[f"mil.{_mil}"] = _activation(_core, *_params)


@lowers("threshold")
def lower_threshold(op, b):
    return b.op("max", op.x, const_like(b, pscalar(op, "alpha"), op.x))


@lowers("clamped_relu")
def lower_clamped_relu(op, b):
    y = b.op("leaky_relu", op.x, alpha=float(pscalar(op, "alpha")))
    return b.op("min", y, const_like(b, pscalar(op, "beta"), op.x))


def _channel(b, op, name, x):
    array = np.asarray(param(op, name))
    rank = len(static_shape(x, op))
    shape = () if array.ndim == 0 else (-1,) + (1,) * (rank - 2)
    return const_like(b, array.reshape(shape), x)


@lowers("prelu")
def lower_prelu(op, b):
    x = op.x
    alpha = np.asarray(param(op, "alpha")).reshape(-1)
    return b.op("prelu", x, b.const(alpha, dtype=x.type.element.numpy_dtype))


@lowers("softplus_parametric")
def lower_softplus_parametric(op, b):
    x = op.x
    inner = b.op("mul", _channel(b, op, "beta", x), x)
    return b.op("mul", _channel(b, op, "alpha", x), b.op("softplus", inner))


BINARY = {"add": "add", "sub": "sub", "mul": "mul", "pow": "pow", "maximum": "max", "minimum": "min",
          "floor_div": "floor_div", "mod": "mod", "equal": "equal", "not_equal": "not_equal", "less": "less",
          "less_equal": "less_equal", "greater": "greater", "greater_equal": "greater_equal",
          "logical_and": "logical_and", "logical_or": "logical_or", "logical_xor": "logical_xor"}


def _operands(op, b):
    x, y = op.x, op.y
    if x.type.element != y.type.element:
        raise unsupported(op, f"mixed operand types {x.type.element} and {y.type.element}")
    return x, y


@lowers(*BINARY)
def lower_binary(op, b):
    return b.op(BINARY[op.mil_type], *_operands(op, b))


@lowers("real_div")
def lower_real_div(op, b):
    x, y = _operands(op, b)
    return b.op("floor_div" if not x.type.element.is_float else "div", x, y)


@lowers("select")
def lower_select(op, b):
    return b.op("where", op.cond, op.a, op.b)


@lowers("cast")
def lower_cast(op, b):
    dtype = str(pscalar(op, "dtype"))
    if dtype not in MIL_DTYPES:
        raise unsupported(op, f"cast to '{dtype}'")
    return b.cast(op.x, str(MIL_DTYPES[dtype]))


# =========================================================================== nn ops

@lowers("conv")
def lower_conv(op, b):
    x, w = op.x, op.weight
    shape = rank4(op, x)
    wshape = static_shape(w, op)
    strides, dil, pads = op.geometry(shape, wshape[2:])
    return b.create(core.Conv2dOp, {"input": x, "weight": w, "bias": op.param("bias")},
                    {"strides": strides, "dilations": dil, "pads": [p for pair in pads for p in pair],
                     "groups": int(pscalar(op, "groups", 1))}).result


@lowers("conv_transpose")
def lower_conv_transpose(op, b):
    x, w = op.x, op.weight
    shape = rank4(op, x)
    wshape = static_shape(w, op)
    try:
        strides, dil, full, begins, sizes = op.full_and_crop(shape, wshape)
    except NotConstant as e:
        raise unsupported(op, f"a run-time value for parameter '{e}'") from None
    pads, extra = [], []
    for begin, size, f in zip(begins, sizes, full):
        end = f - begin - size
        pads += [begin, max(end, 0)]
        extra.append(max(-end, 0))
    return b.create(core.ConvTranspose2dOp, {"input": x, "weight": w, "bias": op.param("bias")},
                    {"strides": strides, "dilations": dil, "pads": pads, "output_padding": extra,
                     "groups": int(pscalar(op, "groups", 1))}).result


@lowers("linear")
def lower_linear(op, b):
    return b.create(core.LinearOp, {"input": op.x, "weight": op.weight, "bias": op.param("bias")}).result


@lowers("matmul")
def lower_matmul(op, b):
    return b.create(core.MatmulOp, [op.x, op.y], {"transpose_a": bool(pscalar(op, "transpose_x", False)),
                                                  "transpose_b": bool(pscalar(op, "transpose_y", False))}).result


@lowers("max_pool", "avg_pool")
def lower_pool(op, b):
    x = op.x
    shape = rank4(op, x)
    kernels = ints(param(op, "kernel_sizes"))
    strides, _, pads = op.geometry(shape, kernels)
    ceil_mode = bool(pscalar(op, "ceil_mode", False))
    exclude = bool(pscalar(op, "exclude_padding_from_average", False)) if op.mil_type == "avg_pool" else True
    y = b.create(core.Pool2dOp, [x], {"kind": "max" if op.mil_type == "max_pool" else "avg", "kernel": kernels,
                                      "strides": strides, "pads": [p for pair in pads for p in pair],
                                      "ceil_mode": ceil_mode, "exclude_padding": exclude}).result
    want = [window_output_size(s, k, st, 1, p[0], p[1], ceil_mode)
            for s, k, st, p in zip(shape[2:], kernels, strides, pads)]
    if list(y.type.shape[2:]) != want:
        raise unsupported(op, "this pooling geometry (MIL and core disagree on the output size)")
    return y


def _param_or(b, op, name, x, fill: float):
    """The value of optional parameter `name`, or a constant `fill` vector of x's channels."""
    value = op.param(name)
    if value is not None:
        return value
    channels = static_shape(x, op)[1]
    return const_like(b, np.full(channels, fill), x)


@lowers("batch_norm")
def lower_batch_norm(op, b):
    x = op.x
    eps = float(pscalar(op, "epsilon", 1e-5))
    gamma, beta = _param_or(b, op, "gamma", x, 1.0), _param_or(b, op, "beta", x, 0.0)
    return b.create(core.BatchNormOp, [x, op.mean, op.variance, gamma, beta], {"eps": eps}).result


@lowers("instance_norm")
def lower_instance_norm(op, b):
    x = op.x
    eps = float(pscalar(op, "epsilon", 1e-5))
    gamma, beta = _param_or(b, op, "gamma", x, 1.0), _param_or(b, op, "beta", x, 0.0)
    return b.create(core.InstanceNormOp, [x, gamma, beta], {"eps": eps}).result


@lowers("layer_norm")
def lower_layer_norm(op, b):
    x = op.x
    rank = len(static_shape(x, op))
    axes = param(op, "axes")
    axes = sorted(int(a) % rank for a in ints(axes)) if axes is not None else list(range(rank))
    return b.create(core.LayerNormOp, {"input": x, "gamma": op.param("gamma"), "beta": op.param("beta")},
                    {"axes": axes, "eps": float(pscalar(op, "epsilon", 1e-5))}).result


@lowers("l2_norm")
def lower_l2_norm(op, b):
    rank = len(static_shape(op.x, op))
    return b.op("l2_norm", op.x, axes=list(range(max(rank - 3, 0), rank)), eps=float(pscalar(op, "epsilon", 1e-6)))


@lowers("local_response_norm")
def lower_lrn(op, b):
    return b.op("lrn", op.x, size=int(pscalar(op, "size")), alpha=float(pscalar(op, "alpha", 1e-4)),
                beta=float(pscalar(op, "beta", 0.75)), k=float(pscalar(op, "k", 1.0)))


@lowers("softmax")
def lower_softmax(op, b):
    return b.op("softmax", op.x, axis=int(pscalar(op, "axis", -1)))


def _out_hw(op):
    return list(static_shape(op.results[0], op)[-2:])


@lowers("upsample_nearest_neighbor")
def lower_upsample_nearest(op, b):
    h, w = static_shape(op.x, op)[-2:]
    ho, wo = _out_hw(op)
    sh, sw = float(pscalar(op, "scale_factor_height", 1)), float(pscalar(op, "scale_factor_width", 1))
    rows = np.minimum(np.floor(np.arange(ho) / sh).astype(np.int64), h - 1)
    cols = np.minimum(np.floor(np.arange(wo) / sw).astype(np.int64), w - 1)
    return nearest_resize(b, op.x, rows, cols, op)


@lowers("upsample_bilinear")
def lower_upsample_bilinear(op, b):
    align = bool(pscalar(op, "align_corners", True))
    half = pscalar(op, "half_pixel_centers")
    coords = "align_corners" if align else ("asymmetric" if half is not None and not bool(half) else "half_pixel")
    return b.op("upsample", op.x, size=_out_hw(op), mode="bilinear", coordinates=coords)


RESIZE_COORDS = {"ALIGN_CORNERS": "align_corners", "STRICT_ALIGN_CORNERS": "align_corners",
                 "UNALIGN_CORNERS": "half_pixel", "HALF_PIXEL": "half_pixel", "DEFAULT": "asymmetric",
                 "OFFSET_CORNERS": "offset_corners"}


@lowers("resize_bilinear")
def lower_resize_bilinear(op, b):
    mode = str(pscalar(op, "sampling_mode", "DEFAULT"))
    if mode not in RESIZE_COORDS:
        raise unsupported(op, f"sampling mode '{mode}'")
    return b.op("upsample", op.x, size=_out_hw(op), mode="bilinear", coordinates=RESIZE_COORDS[mode])


@lowers("resize_nearest_neighbor")
def lower_resize_nearest(op, b):
    h, w = static_shape(op.x, op)[-2:]
    ho, wo = _out_hw(op)
    rows = np.minimum(np.arange(ho) * h // ho, h - 1)
    cols = np.minimum(np.arange(wo) * w // wo, w - 1)
    return nearest_resize(b, op.x, rows, cols, op)


@lowers("crop")
def lower_crop(op, b):
    shape = static_shape(op.x, op)
    ch, cw = ints(param(op, "crop_height")), ints(param(op, "crop_width"))
    n = len(shape)
    return b.op("slice", op.x, begin=[0] * (n - 2) + [ch[0], cw[0]],
                end=list(shape[:-2]) + [shape[-2] - ch[1], shape[-1] - cw[1]], strides=[1] * n)


def _shuffle(b, x, inner, perm, out):
    return b.reshape(b.transpose(b.reshape(x, inner), perm), out)


@lowers("pixel_shuffle", "depth_to_space")
def lower_to_space(op, b):
    n, c, h, w = rank4(op, op.x)
    r = int(pscalar(op, "upscale_factor" if op.mil_type == "pixel_shuffle" else "block_size"))
    co = c // (r * r)
    if op.mil_type == "pixel_shuffle":
        return _shuffle(b, op.x, (n, co, r, r, h, w), [0, 1, 4, 2, 5, 3], (n, co, h * r, w * r))
    return _shuffle(b, op.x, (n, r, r, co, h, w), [0, 3, 4, 1, 5, 2], (n, co, h * r, w * r))


@lowers("pixel_unshuffle", "space_to_depth")
def lower_to_depth(op, b):
    n, c, h, w = rank4(op, op.x)
    r = int(pscalar(op, "downscale_factor" if op.mil_type == "pixel_unshuffle" else "block_size"))
    perm = [0, 1, 3, 5, 2, 4] if op.mil_type == "pixel_unshuffle" else [0, 3, 5, 1, 2, 4]
    return _shuffle(b, op.x, (n, c, h // r, r, w // r, r), perm, (n, c * r * r, h // r, w // r))


# =========================================================================== tensor ops

@lowers("reshape", "squeeze", "expand_dims", "flatten2d")
def lower_reshape(op, b):
    return b.reshape(op.x, static_shape(op.results[0], op))


@lowers("transpose")
def lower_transpose(op, b):
    rank = len(static_shape(op.x, op))
    return b.transpose(op.x, [p % rank for p in ints(param(op, "perm"))])


@lowers("concat")
def lower_concat(op, b):
    values = op.param("values")
    if bool(pscalar(op, "interleave", False)):
        raise unsupported(op, "interleaved concat")
    rank = len(static_shape(values[0], op))
    return b.create(core.ConcatOp, values, {"axis": int(pscalar(op, "axis")) % max(rank, 1)}).result


@lowers("stack")
def lower_stack(op, b):
    values = op.param("values")
    shape = static_shape(values[0], op)
    axis = int(pscalar(op, "axis")) % (len(shape) + 1)
    parts = [b.reshape(v, shape[:axis] + (1,) + shape[axis:]) for v in values]
    return b.create(core.ConcatOp, parts, {"axis": axis}).result


@lowers("split")
def lower_split(op, b):
    return list(b.create(core.SplitOp, [op.x], {"axis": _split_axis(op),
                                                "sizes": [r.type.shape[_split_axis(op)] for r in op.results]}).results)


def _split_axis(op):
    return int(pscalar(op, "axis")) % len(static_shape(op.x, op))


@lowers("slice_by_index")
def lower_slice_by_index(op, b):
    x = op.x
    shape = static_shape(x, op)
    get = lambda k: param(op, k) if op.param(k) is not None else None  # noqa: E731
    begin, end, stride = ints(get("begin")), ints(get("end")), get("stride")
    stride = ints(stride) if stride is not None else [1] * len(shape)

    def mask(name):
        v = get(name)
        return [False] * len(shape) if v is None else [bool(m) for m in np.asarray(v).reshape(-1)]

    bmask, emask, squeeze = mask("begin_mask"), mask("end_mask"), mask("squeeze_mask")
    slices = []
    for i, d in enumerate(shape):
        s = stride[i]
        start = None if bmask[i] else begin[i]
        stop = None if emask[i] else end[i]
        if squeeze[i]:
            start = start if start is not None else (0 if s > 0 else -1)
            start = start % d
            stop, s = start + 1, 1
        slices.append(slice(start, stop, s))
    return b.op("slice", x, **slice_bounds(slices, shape))


@lowers("slice_by_size")
def lower_slice_by_size(op, b):
    shape = static_shape(op.x, op)
    begin, size = ints(param(op, "begin")), ints(param(op, "size"))
    starts = [bb % d if d else 0 for bb, d in zip(begin, shape)]
    ends = [d if s == -1 else st + s for st, s, d in zip(starts, size, shape)]
    return b.op("slice", op.x, begin=starts, end=ends, strides=[1] * len(shape))


PAD_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "replicate"}


@lowers("pad")
def lower_pad(op, b):
    shape = static_shape(op.x, op)
    mode = str(pscalar(op, "mode", "constant"))
    if mode not in PAD_MODES:
        raise unsupported(op, f"pad mode '{mode}'")
    widths = op.widths(shape, param(op, "pad"))
    return b.op("pad", op.x, pads=[p for pair in widths for p in pair], mode=PAD_MODES[mode],
                value=float(pscalar(op, "constant_val", 0.0)))


@lowers("tile")
def lower_tile(op, b):
    return b.op("tile", op.x, reps=ints(param(op, "reps")))


@lowers("gather")
def lower_gather(op, b):
    if int(pscalar(op, "batch_dims", 0)):
        raise unsupported(op, "gather with batch_dims")
    idx = op.indices
    if idx.type.element.is_float:
        raise unsupported(op, "float indices")
    return b.create(core.GatherOp, [op.x, idx], {"axis": int(pscalar(op, "axis", 0))}).result


REDUCTIONS = {"reduce_sum": "sum", "reduce_mean": "mean", "reduce_max": "max", "reduce_min": "min",
              "reduce_prod": "prod", "reduce_l1_norm": "l1", "reduce_l2_norm": "l2",
              "reduce_sum_square": "sum_square", "reduce_log_sum": "log_sum", "reduce_log_sum_exp": "logsumexp"}


@lowers(*REDUCTIONS)
def lower_reduce(op, b):
    rank = len(static_shape(op.x, op))
    axes = param(op, "axes")
    axes = sorted(int(a) % rank for a in ints(axes)) if axes is not None else list(range(rank))
    return b.op("reduce", op.x, kind=REDUCTIONS[op.mil_type], axes=axes,
                keepdims=bool(pscalar(op, "keep_dims", False)))


@lowers("reduce_argmax", "reduce_argmin")
def lower_arg_reduce(op, b):
    name = "argmax" if op.mil_type == "reduce_argmax" else "argmin"
    y = b.op(name, op.x, axis=int(pscalar(op, "axis", -1)), keepdims=bool(pscalar(op, "keep_dims", False)))
    return b.cast(y, str(op.results[0].type.element))


@lowers("cumsum")
def lower_cumsum(op, b):
    return b.op("cumsum", op.x, axis=int(pscalar(op, "axis", 0)), exclusive=bool(pscalar(op, "exclusive", False)),
                reverse=bool(pscalar(op, "reverse", False)))


@lowers("reverse")
def lower_reverse(op, b):
    rank = len(static_shape(op.x, op))
    axes = param(op, "axes")
    return flip(b, op.x, ints(axes) if axes is not None else range(rank), op)


@lowers("gather_nd")
def lower_gather_nd(op, b):
    if int(pscalar(op, "batch_dims", 0)):
        raise unsupported(op, "gather_nd with batch_dims")
    return b.create(core.GatherNdOp, [op.x, op.indices]).result


@lowers("topk")
def lower_topk(op, b):
    x = op.x
    ascending = bool(pscalar(op, "ascending", False))
    if not bool(pscalar(op, "sort", True)) or not bool(pscalar(op, "return_indices", True)):
        raise unsupported(op, "topk without sorting or indices")
    top = b.create(core.TopkOp, [x], {"k": int(pscalar(op, "k", 1)), "axis": int(pscalar(op, "axis", -1)),
                                      "largest": not ascending})
    return [top.results[0], b.cast(top.results[1], str(op.results[1].type.element))]


@lowers("argsort")
def lower_argsort(op, b):
    x = op.x
    axis = int(pscalar(op, "axis", -1))
    top = b.create(core.TopkOp, [x], {"k": static_shape(x, op)[axis], "axis": axis,
                                      "largest": not bool(pscalar(op, "ascending", False))})
    return b.cast(top.results[1], str(op.results[0].type.element))


@lowers("one_hot")
def lower_one_hot(op, b):
    y = b.create(core.OneHotOp, [op.indices], {"depth": int(pscalar(op, "one_hot_vector_size")),
                                               "axis": int(pscalar(op, "axis", -1)),
                                               "on_value": float(pscalar(op, "on_value", 1)),
                                               "off_value": float(pscalar(op, "off_value", 0))}).result
    return b.cast(y, str(op.results[0].type.element))


@lowers("band_part")
def lower_band_part(op, b):
    x = op.x
    m, n = static_shape(x, op)[-2:]
    i, j = np.arange(m)[:, None], np.arange(n)[None, :]
    lower, upper = int(pscalar(op, "lower", -1)), int(pscalar(op, "upper", -1))
    keep = ((lower < 0) | (i - j <= lower)) & ((upper < 0) | (j - i <= upper))
    return b.op("mul", x, const_like(b, keep, x))


@lowers("constexpr_affine_dequantize", "constexpr_cast", "constexpr_lut_to_dense", "constexpr_sparse_to_dense",
        "constexpr_blockwise_shift_scale", "constexpr_lut_to_sparse", "constexpr_sparse_blockwise_shift_scale")
def lower_constexpr(op, b):
    """Compressed weights stay compressed until they are used: the constant's blob decompresses
    (the op's reference semantics) on first access, i.e. when the executor packs the weight.
    iOS18 joint compression (palettized or quantized nonzero values of a sparse weight) keeps
    the sparsity: its (mask, values) pair, lowered first, feeds a `core.sparse_to_dense`."""
    arrays = []
    for v in op.operands:
        array = defining_const(v)
        if array is None:  # a joint-compression (mask, values) pair, already lowered
            array = evaluate_constant(v)
        if array is None:
            raise unsupported(op, "a run-time operand")
        arrays.append(array)
    result = op.results[0].type
    if len(op.results) > 1:
        values = op.reference(*arrays)
        return [b.const(np.asarray(v), dtype=None) for v in values]
    if not isinstance(result, TensorType) or not result.is_static:
        value = op.reference(*arrays)
        return b.const(np.asarray(value[0] if isinstance(value, tuple) else value), dtype=None)

    bound = op.bind(arrays)  # now: the mil op is erased before the weight is first used
    name = op.location.name if op.location is not None and op.location.name else "constexpr"
    compressed = compressed_constant(op.mil_type, bound, result)
    if compressed is not None:
        cls, parts = compressed
        float_part, attributes = CORE_FORMS[cls]
        parts[float_part] = np.asarray(parts[float_part]).astype(result.element.numpy_dtype)  # the result's precision
        return b.create(cls, [], attributes(name, **parts), [result]).result

    def decompress():
        value = op.compute(bound)
        return np.asarray(rounded(value[0] if isinstance(value, tuple) else value, result)).reshape(result.shape)

    attr = DenseResourceAttr(f"{name}.dense", result, ResourceBlob(loader=decompress))
    return b.create(core.ConstantOp, [], {"value": attr}, [result]).result


def _to_rank(values, rank: int) -> np.ndarray:
    values = np.asarray(values)
    return values.reshape((1,) * (rank - values.ndim) + values.shape)


# core compressed constant -> (its part held in the result's precision, its attributes' builder)
CORE_FORMS = {core.DequantizeOp: ("scale", core.dequantize_attributes),
              core.LutToDenseOp: ("lut", core.lut_attributes),
              core.SparseToDenseOp: ("nonzero", core.sparse_attributes)}


def compressed_constant(kind: str, a: dict, result: TensorType):
    """(core op class, its parts) keeping an affine / blockwise / palettized / sparse constexpr
    compressed, or None for forms `core` does not hold (vector palettization, casts)."""
    rank = len(result.shape)
    if kind == "constexpr_sparse_to_dense":
        if a.get("shape") is not None:  # iOS16: the mask packed one bit per element
            mask = unpack_bits(a["mask"], 1, result.num_elements).astype(bool)
        else:  # iOS18: a uint1 tensor of the result's shape
            mask = np.asarray(a["mask"]).astype(bool)
        return core.SparseToDenseOp, {"mask": mask, "nonzero": np.asarray(a["nonzero_data"])}
    if kind == "constexpr_affine_dequantize":
        q = np.asarray(a["quantized_data"])
        axis = int(scalar(a["axis"])) % max(rank, 1)
        return core.DequantizeOp, {"data": q, "scale": core.along_axis(a["scale"], axis, rank),
                                   "zero_point": core.along_axis(np.asarray(a["zero_point"]).astype(q.dtype), axis, rank)}
    if kind == "constexpr_blockwise_shift_scale":
        offset = a.get("offset")
        return core.DequantizeOp, {"data": np.asarray(a["data"]), "scale": _to_rank(a["scale"], rank),
                                   "zero_point": None if offset is None else _to_rank(offset, rank)}
    if kind != "constexpr_lut_to_dense":
        return None
    lut = np.asarray(a["lut"])
    if a.get("shape") is not None:  # iOS16: packed indices, one flat table
        bits = int(np.log2(lut.shape[-1]))
        indices = unpack_bits(a["indices"], bits, result.num_elements).astype(np.uint8).reshape(result.shape)
        return core.LutToDenseOp, {"indices": indices, "lut": lut.reshape((1,) * rank + (-1,)), "bits": bits}
    if lut.shape[-1] != 1:
        return None
    lut = _to_rank(lut[..., 0], rank + 1)
    return core.LutToDenseOp, {"indices": np.asarray(a["indices"]).astype(np.uint8), "lut": lut,
                               "bits": int(np.log2(lut.shape[-1]))}


# =========================================================================== recurrent

MIL_TO_TORCH_LSTM = (0, 1, 3, 2)  # MIL gates [i, f, o, g] -> core's [i, f, g, o]


def _reorder_gates(array, order):
    blocks = np.split(np.asarray(array), len(order), axis=0)
    return np.concatenate([blocks[k] for k in order], axis=0)


@lowers("lstm")
def lower_lstm(op, b):
    x = op.x
    seq, batch, _ = static_shape(x, op)
    direction = str(pscalar(op, "direction", "forward"))
    acts = tuple(str(pscalar(op, k, d)) for k, d in (("recurrent_activation", "sigmoid"),
                                                     ("cell_activation", "tanh"), ("activation", "tanh")))
    if acts != ("sigmoid", "tanh", "tanh"):
        raise unsupported(op, f"LSTM activations {list(acts)}")
    if op.param("peephole") is not None or op.param("peephole_back") is not None:
        raise unsupported(op, "an LSTM with peepholes")
    h0 = op.initial_h
    c0 = op.initial_c
    clip = pscalar(op, "clip")
    if clip is not None:
        # |c_t| <= max|c_0| + t: a threshold above that never clips
        c0_array = evaluate_constant(c0)
        if c0_array is None or float(clip) < float(np.max(np.abs(c0_array), initial=0.0)) + seq:
            raise unsupported(op, f"an LSTM with cell clipping at {clip}")
    suffixes = [""] + (["_back"] if direction == "bidirectional" else [])
    if direction not in ("forward", "reverse", "bidirectional"):
        raise unsupported(op, f"direction '{direction}'")
    w_ih, w_hh, biases = [], [], []
    for s in suffixes:
        w_ih.append(_reorder_gates(require_constant(op.param("weight_ih" + s), op, "LSTM weight"), MIL_TO_TORCH_LSTM))
        w_hh.append(_reorder_gates(require_constant(op.param("weight_hh" + s), op, "LSTM weight"), MIL_TO_TORCH_LSTM))
        bias = op.param("bias" + s)
        biases.append(None if bias is None else
                      _reorder_gates(require_constant(bias, op, "LSTM bias"), MIL_TO_TORCH_LSTM))
    d, hidden = len(suffixes), w_hh[0].shape[1]
    dtype = x.type.element.numpy_dtype
    if any(bb is None for bb in biases) and not all(bb is None for bb in biases):
        raise unsupported(op, "a bias on one direction only")

    def states(v):
        # [B, D*H] -> [D, B, H]
        return b.transpose(b.reshape(v, (batch, d, hidden)), [1, 0, 2])

    operands = {"input": x, "w_ih": b.const(np.stack(w_ih), dtype=dtype), "w_hh": b.const(np.stack(w_hh), dtype=dtype),
                "b_ih": None if biases[0] is None else b.const(np.stack(biases), dtype=dtype), "b_hh": None,
                "h0": states(h0), "c0": states(c0)}
    y, h_n, c_n = b.create(core.LstmOp, operands, {"direction": direction}).results

    def flat(v):
        # [D, B, H] -> [B, D*H]
        return b.reshape(b.transpose(v, [1, 0, 2]), (batch, d * hidden))

    if not bool(pscalar(op, "output_sequence", False)):
        y = b.reshape(flat(h_n), (1, batch, d * hidden))
    return [y, flat(h_n), flat(c_n)]


# Ops `core` cannot express, run by the runtime on their numpy reference semantics.
REFERENCE_PATH = frozenset({"mil.while_loop", "mil.cond", "mil.scatter", "mil.gru", "mil.rnn"})


def lower_constants(module) -> None:
    """Used `mil.const`s become `core.constant`s; unused ones (parameters) are dropped."""
    for op in [o for o in module.walk() if o.op_name == "mil.const"]:
        if not op.results[0].uses:
            op.erase()
            continue
        attr = op.attributes.get("val")
        if not isinstance(attr, (DenseAttr, DenseResourceAttr)) or not isinstance(op.results[0].type, TensorType):
            raise unsupported(op, "a non-tensor constant used as a tensor")
        new = build(core.ConstantOp, [], [attr.type], {"value": attr}, location=op.location,
                    result_names=[op.results[0].name])
        op.parent.insert_before(new, op)
        op.results[0].replace_all_uses_with(new.result)
        op.erase()


@dataclass(frozen=True)
class MilToCore(ModulePass):
    name = "mil-to-core"
    description = "lower ML Program ops (mil.*) to the core compute dialect"
    fallback: bool = False  # keep ops without a core mapping for the runtime's reference path

    def run(self, module, ctx: PassContext) -> None:
        # constants go last: the other lowerings read their parameters from them
        run_lowering(module, LOWERINGS, "mil", ctx, self.name, skip={"mil.const"}, finish=lower_constants,
                     reference_path=REFERENCE_PATH, fallback=self.fallback)
