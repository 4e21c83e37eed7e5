"""`espresso-to-core`: lower compiled espresso layers (`espresso.*`) into the `core` dialect.

The lowering follows the espresso dialect's reference semantics: blobs are viewed as
(seq, n, k, h, w) (`canonical5`), spatial layers fold seq*n into the batch, axis codes
(w=0, h=1, k=2, n=3, seq=4) become numpy axes, and fused flags (`fused_relu`, `has_relu`,
`fused_tanh`...) become core epilogues or trailing activation ops. fp16 weight blobs stay f16
constants. Inferred forms of NeuralNetwork layers (ir/dialects/espresso_forms.py) become the nn
layers they were written from, lowered by nn-to-core. Layers and options without reference
semantics (unknown layer types, pool/reduce/flatten modes never observed in a bundle) raise
MlirCoremlError naming the layer.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlir_coreml.ir.dialects import core
from mlir_coreml.ir.dialects import espresso as esp
from mlir_coreml.ir.dialects import espresso_forms
from mlir_coreml.ir.types import TensorType
from mlir_coreml.passes.base import ModulePass, PassContext
from mlir_coreml.passes import nn_to_core
from mlir_coreml.passes._lowering import require_constant, run_lowering, static_shape, unsupported

LOWERINGS: dict = {}
ELEMENTWISE_FUNCTIONS = {esp.ELEMENTWISE_SQRT: "sqrt", esp.ELEMENTWISE_RSQRT: "rsqrt", esp.ELEMENTWISE_ABS: "abs",
                         esp.ELEMENTWISE_LOG: "log"}  # espresso operation code -> core op
IMAGE_PREPROCESS = "nn.image_preprocess"


def lowers(*names: str):
    def wrap(fn):
        for n in names:
            LOWERINGS[f"espresso.{n}"] = fn
        return fn
    return wrap


def canonical_shape(shape) -> tuple:
    return (1,) * (5 - len(shape)) + tuple(shape)


def as_batch_nchw(b, x, op):
    """(seq, n, k, h, w) as (seq*n, k, h, w)."""
    seq, n, k, h, w = canonical_shape(static_shape(x, op))
    return b.reshape(x, (seq * n, k, h, w))


def post_activation(b, y, relu, tanh):
    if relu:
        y = b.op("relu", y)
    if tanh:
        y = b.op("tanh", y)
    return y


def epilogue_attrs(relu, tanh):
    """The fused activation for a core epilogue, when a single one is set."""
    if relu and not tanh:
        return {"activation": "relu"}
    if tanh and not relu:
        return {"activation": "tanh"}
    return {}


@lowers("convolution")
def lower_convolution(op, b):
    x4 = as_batch_nchw(b, op.input, op)
    _, _, h, w = x4.type.shape
    pads = list(esp._window_pads(op, h, w, op.Ny, op.Nx, op.stride_y, op.stride_x))
    pad_value = float(op.attr("pad_value", 0))
    if pad_value != 0.0 and any(pads):
        x4 = b.op("pad", x4, pads=[0, 0, 0, 0] + pads, mode="constant", value=pad_value)
        pads = [0, 0, 0, 0]
    relu, tanh = op.fused_relu, op.fused_tanh
    attrs = {"strides": [op.stride_y, op.stride_x], "pads": pads, "groups": int(op.n_groups),
             **epilogue_attrs(relu, tanh)}
    y = b.create(core.Conv2dOp, {"input": x4, "weight": op.weights, "bias": op.biases}, attrs).result
    return post_activation(b, y, relu, tanh) if relu and tanh else y


@lowers("deconvolution")
def lower_deconvolution(op, b):
    x4 = as_batch_nchw(b, op.input, op)
    _, _, h, w = x4.type.shape
    ho, wo = static_shape(op.output, op)[-2:]
    pt, pl = op.attr("pad_t", 0), op.attr("pad_l", 0)
    bottom = (h - 1) * op.stride_y + op.Ny - pt - ho  # of the full transposed output, cropped away
    right = (w - 1) * op.stride_x + op.Nx - pl - wo
    attrs = {"strides": [op.stride_y, op.stride_x], "dilations": [1, 1], "groups": int(op.n_groups),
             "pads": [pt, max(bottom, 0), pl, max(right, 0)], "output_padding": [max(-bottom, 0), max(-right, 0)]}
    y = b.create(core.ConvTranspose2dOp, {"input": x4, "weight": b.reshape(op.weights, op.kernel_shape()),
                                          "bias": op.biases}, attrs).result
    return post_activation(b, y, op.attr("fused_relu", 0), op.attr("fused_tanh", 0))


@lowers("inner_product")
def lower_inner_product(op, b):
    shape = static_shape(op.input, op)
    x = b.reshape(op.input, (int(np.prod(shape)) // op.nB, op.nB))
    bias = None
    if op.biases is not None:
        bias = b.const(require_constant(op.biases, op, "bias").reshape(-1)[:op.nC], dtype=None)
    relu, tanh = op.has_relu, op.has_tanh
    y = b.create(core.LinearOp, {"input": x, "weight": op.weights, "bias": bias}, epilogue_attrs(relu, tanh)).result
    return post_activation(b, y, relu, tanh) if relu and tanh else y


@lowers("batchnorm")
def lower_batchnorm(op, b):
    params = require_constant(op.params, op, "batchnorm parameters").reshape(4, op.C)
    gamma, beta, mean, var = (b.const(p, dtype=None) for p in params)
    x4 = as_batch_nchw(b, op.input, op)
    return b.create(core.BatchNormOp, [x4, mean, var, gamma, beta],
                    {"eps": float(op.attr("training_eps", 1e-5))}).result


@lowers("pool")
def lower_pool(op, b):
    if op.avg_or_max not in (0, 1):
        raise unsupported(op, f"pooling kind {op.avg_or_max}")
    kind = "max" if op.avg_or_max == 1 else "avg"
    x4 = as_batch_nchw(b, op.input, op)
    _, _, h, w = x4.type.shape
    ky, kx, sy, sx = op._geometry(h, w)
    pads = list(esp._window_pads(op, h, w, ky, kx, sy, sx))
    if op.attr("is_global", 0) and not any(pads):
        return b.op("global_pool", x4, kind=kind)
    exclude = bool(op.attr("average_count_exclude_padding", 1))
    y = b.create(core.Pool2dOp, [x4], {"kind": kind, "kernel": [ky, kx], "strides": [sy, sx], "pads": pads,
                                       "ceil_mode": op.ceil_mode, "exclude_padding": exclude}).result
    if tuple(y.type.shape[-2:]) != op.output_size(h, w):
        raise unsupported(op, "this pooling geometry (espresso and core disagree on the output size)")
    return y


@lowers("activation")
def lower_activation(op, b):
    x = op.input
    alpha, beta = float(np.float32(op.attr("alpha", 1.0))), float(np.float32(op.attr("beta", 0.0)))
    mode = op.mode
    if mode == esp.ACTIVATION_RELU:
        return b.op("relu", x)
    if mode == esp.ACTIVATION_TANH:
        return b.op("tanh", x)
    if mode == esp.ACTIVATION_LEAKY:
        return b.op("leaky_relu", x, alpha=alpha)
    if mode == esp.ACTIVATION_SIGMOID:
        return b.op("sigmoid", x)
    if mode == esp.ACTIVATION_LINEAR:
        return b.op("linear_activation", x, alpha=alpha, beta=beta)
    if mode == esp.ACTIVATION_SIGMOID_HARD:
        return b.op("hard_sigmoid", x, alpha=alpha, beta=beta)
    if mode == esp.ACTIVATION_SCALED_TANH:
        return b.op("scaled_tanh", x, alpha=alpha, beta=beta)
    if mode == esp.ACTIVATION_ELU:
        return b.op("elu", x, alpha=alpha)
    if mode == esp.ACTIVATION_THRESHOLDED_RELU:
        return b.op("thresholded_relu", x, alpha=alpha)
    if mode == esp.ACTIVATION_SOFTPLUS:
        return b.op("softplus", x)
    if mode == esp.ACTIVATION_SOFTSIGN:
        return b.op("softsign", x)
    raise unsupported(op, f"activation mode {mode}")


@lowers("elementwise")
def lower_elementwise(op, b):
    xs = [b.f32(x) for x in op.inputs]
    operation = op.operation
    if operation in (esp.ELEMENTWISE_ADD, esp.ELEMENTWISE_MUL) and len(xs) > 1:
        y = xs[0]
        for x in xs[1:]:
            y = b.op("add" if operation == esp.ELEMENTWISE_ADD else "mul", y, x)
    elif operation in (esp.ELEMENTWISE_ADD_ALPHA, esp.ELEMENTWISE_MUL_ALPHA) and len(xs) == 1:
        alpha = b.scalar(np.float32(op.attr("alpha", 1.0)))
        y = b.op("add" if operation == esp.ELEMENTWISE_ADD_ALPHA else "mul", xs[0], alpha)
    elif operation == esp.ELEMENTWISE_INVERSE:
        y = b.op("reciprocal", xs[0])
    elif operation == esp.ELEMENTWISE_MAX_ALPHA:
        y = b.op("max", xs[0], b.scalar(np.float32(op.attr("alpha", 1.0))))
    elif operation == esp.ELEMENTWISE_EXP:
        y = b.op("exp", xs[0])
    elif operation in ELEMENTWISE_FUNCTIONS and len(xs) == 1:
        y = b.op(ELEMENTWISE_FUNCTIONS[operation], xs[0])
    else:
        raise unsupported(op, f"elementwise operation {operation} with {len(xs)} input(s)")
    return post_activation(b, y, op.attr("fused_relu", 0), 0)


@lowers("concat")
def lower_concat(op, b):
    rank = len(static_shape(op.inputs[0], op))
    return b.create(core.ConcatOp, list(op.inputs), {"axis": rank - 3}).result


@lowers("sequence_concat")
def lower_sequence_concat(op, b):
    parts = [b.reshape(x, canonical_shape(static_shape(x, op))) for x in op.inputs]
    return b.create(core.ConcatOp, parts, {"axis": 0}).result


@lowers("softmax")
def lower_softmax(op, b):
    x = op.input
    shape = static_shape(x, op)
    if op.C not in esp.AXIS_CODE_TO_CANONICAL:
        raise unsupported(op, f"softmax axis code {op.C}")
    axis = esp.AXIS_CODE_TO_CANONICAL[op.C] - (5 - len(shape))
    if axis < 0:  # a unit axis the blob does not spell out: softmax over one element
        x = b.reshape(x, canonical_shape(shape))
        axis = esp.AXIS_CODE_TO_CANONICAL[op.C]
    return b.op("softmax", x, axis=axis)


@lowers("softmax_nd")
def lower_softmax_nd(op, b):
    return b.op("softmax", op.input, axis=int(op.nd_axis))


@lowers("transpose")
def lower_transpose(op, b):
    x5 = b.reshape(op.input, canonical_shape(static_shape(op.input, op)))
    return b.transpose(x5, op.permutation())


@lowers("reshape")
def lower_reshape(op, b):
    shape, out = static_shape(op.input, op), static_shape(op.output, op)
    mode = op.attr("mode", 0)
    # channel-last (mode 1) equals channel-first when both blobs have h = w = 1
    if mode != 0 and not (mode == 1 and canonical_shape(shape)[3:] == (1, 1) and canonical_shape(out)[3:] == (1, 1)):
        raise unsupported(op, f"reshape mode {mode}")
    return b.reshape(op.input, out)


@lowers("flatten")
def lower_flatten(op, b):
    mode, x = op.attr("mode", 0), op.input
    if mode not in (0, 1):
        raise unsupported(op, f"flatten mode {mode}")
    if mode == 1:  # channel-last: (.., k, h, w) read in (h, w, k) order
        n = len(static_shape(x, op))
        x = b.transpose(x, list(range(n - 3)) + [n - 2, n - 1, n - 3])
    return b.reshape(x, static_shape(op.output, op))


@lowers("reduce")
def lower_reduce(op, b):
    if op.mode != esp.REDUCE_MODE_SUM or op.axis_mode not in esp.REDUCE_AXES:
        raise unsupported(op, f"reduce mode {op.mode} axis_mode {op.axis_mode}")
    x5 = b.reshape(op.input, canonical_shape(static_shape(op.input, op)))
    return b.op("reduce", x5, kind="sum", axes=list(esp.REDUCE_AXES[op.axis_mode]), keepdims=True)


@lowers("slice")
def lower_slice(op, b):
    shape5 = canonical_shape(static_shape(op.input, op))
    x5 = b.reshape(op.input, shape5)
    axis = esp.AXIS_CODE_TO_CANONICAL[op.axis]
    start, end = op._bounds(shape5[axis])
    begin, stop = [0] * 5, list(shape5)
    begin[axis], stop[axis] = start, end
    return b.op("slice", x5, begin=begin, end=stop, strides=[1] * 5)


@lowers("general_padding")
def lower_general_padding(op, b):
    if op.attr("pad_pad_mode", 0) != 0:
        raise unsupported(op, f"padding mode {op.attr('pad_pad_mode')}")
    rank = len(static_shape(op.input, op))
    return b.op("pad", op.input, pads=[0] * (2 * rank - 4) + [op.pad_t, op.pad_b, op.pad_l, op.pad_r],
                mode="constant", value=float(op.attr("pad_value", 0)))


def check_espresso(op) -> None:
    if op.op_name == "espresso.layer" and not espresso_forms.is_inferred_layer(op):
        raise unsupported(op, f"espresso layer type '{op.espresso_type}'")


@dataclass(frozen=True)
class EspressoToCore(ModulePass):
    name = "espresso-to-core"
    description = "lower compiled espresso layers (espresso.*) to the core compute dialect"

    def run(self, module, ctx: PassContext) -> None:
        for op in module.walk():
            check_espresso(op)
        # inferred forms are the nn layers they were written from: nn-to-core lowers those
        inferred = espresso_forms.rewrite_as_nn(module)
        # the bundle's image transform_params are imported as nn.image_preprocess
        table = {**LOWERINGS, IMAGE_PREPROCESS: nn_to_core.LOWERINGS[IMAGE_PREPROCESS]}
        run_lowering(module, table, "espresso", ctx, self.name)
        if inferred:
            nn_to_core.NnToCore().run(module, ctx)
        return_in_source_layout(module)


def return_in_source_layout(module) -> None:
    """Give the 4-D (n, k, h, w) results of a bundle compiled from a rank-5 network (one without
    `_rank` in its shape file) the rank-5 [seq, batch, C, H, W] shape its source network returns,
    so the bundle predicts with its source's shapes."""
    from mlir_coreml.frontend.espresso.format import COREMLDATA_ATTR, ND_SHAPES_ATTR
    from mlir_coreml.ir.opdef import build, lookup_op

    nd = module.attributes.get(ND_SHAPES_ATTR)
    if COREMLDATA_ATTR not in module.attributes or (nd is not None and nd.value):
        return
    for fn in [op for op in module.regions[0].block.ops if op.op_name == "func.func"]:
        ret = fn.return_op
        for index, value in enumerate(list(ret.operands)):
            if not isinstance(value.type, TensorType) or not value.type.is_static or len(value.type.shape) != 4:
                continue
            reshape = build(lookup_op("core.reshape"), [value], [], {"shape": [1, *value.type.shape]},
                            location=ret.location)
            fn.body.insert_before(reshape, ret)
            ret.set_operand(index, reshape.result)
        fn.set_result_types([v.type for v in ret.operands])
