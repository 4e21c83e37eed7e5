"""`core` softmax and the normalizations (layer, batch, instance, l2, LRN)."""
from __future__ import annotations

import numpy as np

from mlir_coreml.ir.opdef import AnyTensor, VerifyError, attribute, op_def, operand, result
from mlir_coreml.ir.dialects.core.base import CoreOp, as_f32, shape_of
from mlir_coreml.ir.shapes import format_shape, normalize_axes, normalize_axis, num_elements


class AxisOp(CoreOp):
    input = operand(AnyTensor)
    output = result(AnyTensor)
    axis = attribute("int", default=-1)

    def infer_types(self):
        x = shape_of(self.input)
        if x is not None:
            normalize_axis(self.axis, len(x))
        return [self.input.type]


def softmax_reference(x, axis):
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@op_def("core.softmax")
class SoftmaxOp(AxisOp):
    def reference(self, x):
        return self.out(softmax_reference(x, self.axis))

    def flops(self):
        return 5 * self.out_numel()


@op_def("core.log_softmax")
class LogSoftmaxOp(AxisOp):
    def reference(self, x):
        x = np.asarray(x, dtype=np.float64)
        m = np.max(x, axis=self.axis, keepdims=True)
        return self.out(x - m - np.log(np.exp(x - m).sum(axis=self.axis, keepdims=True)))

    def flops(self):
        return 5 * self.out_numel()


def standardize(x, axes, eps) -> np.ndarray:
    """`(x - mean) / sqrt(var + eps)` over `axes`, in float64."""
    x = np.asarray(x, dtype=np.float64)
    mean = x.mean(axis=axes, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + eps)


def _broadcast_param(p, rank, axes):
    """A parameter shaped like the normalized `axes` of a rank-`rank` input, ready to broadcast."""
    shape = [1] * rank
    p = as_f32(p)
    if p.size == 1:
        return p.reshape(())
    sizes = list(p.shape) if p.ndim == len(axes) else [p.size]
    for a, s in zip(axes if p.ndim == len(axes) else axes[-1:], sizes):
        shape[a] = s
    return p.reshape(shape)


@op_def("core.layer_norm")
class LayerNormOp(CoreOp):
    """`(x - mean) / sqrt(var + eps) * gamma + beta` over `axes`; gamma/beta shaped like the
    normalized axes."""

    input = operand(AnyTensor)
    gamma = operand(AnyTensor, optional=True)
    beta = operand(AnyTensor, optional=True)
    output = result(AnyTensor)
    axes = attribute("ints", default=(-1,))
    eps = attribute("float", default=1e-5)

    def infer_types(self):
        x = shape_of(self.input)
        if x is not None:
            axes = normalize_axes(self.axes, len(x))
            want = tuple(x[a] for a in axes)
            for p in (self.gamma, self.beta):
                if p is not None and shape_of(p) is not None and num_elements(shape_of(p)) not in (1, num_elements(want)) \
                        and None not in want:
                    raise VerifyError(f"gamma/beta shape {format_shape(shape_of(p))} does not fit the normalized axes {format_shape(want)}")
        return [self.input.type]

    def reference(self, *arrays):
        a = self.arrays_by_name(arrays)
        rank = np.ndim(a["input"])
        axes = normalize_axes(self.axes, rank)
        y = standardize(a["input"], axes, self.eps)
        if a["gamma"] is not None:
            y = y * _broadcast_param(a["gamma"], rank, axes)
        if a["beta"] is not None:
            y = y + _broadcast_param(a["beta"], rank, axes)
        return self.out(y)

    def flops(self):
        return 8 * self.out_numel()


@op_def("core.batch_norm")
class BatchNormOp(CoreOp):
    """Inference batch norm over channel axis 1: `(x - mean) / sqrt(var + eps) * gamma + beta`."""

    input = operand(AnyTensor)
    mean = operand(AnyTensor)
    variance = operand(AnyTensor)
    gamma = operand(AnyTensor)
    beta = operand(AnyTensor)
    output = result(AnyTensor)
    eps = attribute("float", default=1e-5)

    def infer_types(self):
        x = shape_of(self.input)
        if x is not None:
            if len(x) < 2:
                raise VerifyError("batch_norm needs rank >= 2 (channels on axis 1)")
            for p in (self.mean, self.variance, self.gamma, self.beta):
                s = shape_of(p)
                if s is not None and x[1] is not None and num_elements(s) != x[1]:
                    raise VerifyError(f"parameter shape {format_shape(s)} does not have {x[1]} channels")
        return [self.input.type]

    def reference(self, x, mean, var, gamma, beta):
        x = np.asarray(x, dtype=np.float64)
        shape = (1, -1) + (1,) * (x.ndim - 2)
        scale = as_f32(gamma).astype(np.float64) / np.sqrt(as_f32(var).astype(np.float64) + self.eps)
        y = (x - as_f32(mean).reshape(shape)) * scale.reshape(shape) + as_f32(beta).reshape(shape)
        return self.out(y)

    def flops(self):
        return 2 * self.out_numel()


@op_def("core.instance_norm")
class InstanceNormOp(CoreOp):
    """Normalize each (n, c) over the spatial axes 2..; gamma/beta per channel."""

    input = operand(AnyTensor)
    gamma = operand(AnyTensor)
    beta = operand(AnyTensor)
    output = result(AnyTensor)
    eps = attribute("float", default=1e-5)

    def infer_types(self):
        x = shape_of(self.input)
        if x is not None and len(x) < 3:
            raise VerifyError("instance_norm needs rank >= 3 (N, C, spatial...)")
        return [self.input.type]

    def reference(self, x, gamma, beta):
        rank = np.ndim(x)
        shape = (1, -1) + (1,) * (rank - 2)
        y = standardize(x, tuple(range(2, rank)), self.eps)
        return self.out(y * as_f32(gamma).reshape(shape) + as_f32(beta).reshape(shape))

    def flops(self):
        return 8 * self.out_numel()


@op_def("core.l2_norm")
class L2NormOp(CoreOp):
    """`x / sqrt(sum(x^2 over axes) + eps)`."""

    input = operand(AnyTensor)
    output = result(AnyTensor)
    axes = attribute("ints", default=(-1,))
    eps = attribute("float", default=1e-6)

    def infer_types(self):
        x = shape_of(self.input)
        if x is not None:
            normalize_axes(self.axes, len(x))
        return [self.input.type]

    def reference(self, x):
        x = np.asarray(x, dtype=np.float64)
        axes = normalize_axes(self.axes, x.ndim)
        return self.out(x / np.sqrt((x * x).sum(axis=axes, keepdims=True) + self.eps))

    def flops(self):
        return 3 * self.out_numel()


@op_def("core.lrn")
class LrnOp(CoreOp):
    """Local response normalization across channels (axis 1):
    `x / (k + alpha / size * sum_{window} x^2) ^ beta`, window centred (size // 2 before)."""

    input = operand(AnyTensor)
    output = result(AnyTensor)
    size = attribute("int")
    alpha = attribute("float", default=1e-4)
    beta = attribute("float", default=0.75)
    k = attribute("float", default=1.0)

    def infer_types(self):
        x = shape_of(self.input)
        if self.size < 1:
            raise VerifyError("size must be positive")
        if x is not None and len(x) < 2:
            raise VerifyError("lrn needs channels on axis 1")
        return [self.input.type]

    def reference(self, x):
        x = np.asarray(x, dtype=np.float64)
        sq = x * x
        c = x.shape[1]
        before = (self.size - 1) // 2
        after = self.size - 1 - before
        pad = [(0, 0)] * x.ndim
        pad[1] = (before, after)
        padded = np.pad(sq, pad)
        total = sum(padded[:, i:i + c] for i in range(self.size))
        return self.out(x / (self.k + self.alpha / self.size * total) ** self.beta)

    def flops(self):
        return (2 * self.size + 4) * self.out_numel()


# =========================================================================== shape manipulation

