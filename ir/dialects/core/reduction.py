"""`core` reductions, arg-reductions, top-k and cumulative sums."""
from __future__ import annotations

import math

import numpy as np

from mlir_coreml.ir.opdef import AnyTensor, VerifyError, attribute, op_def, operand, result
from mlir_coreml.ir.types import I32, TensorType
from mlir_coreml.ir.dialects.core.base import CoreOp, shape_of, unranked_like
from mlir_coreml.ir.shapes import normalize_axes, normalize_axis, num_elements


REDUCTIONS = {
    "sum": lambda x, ax: x.sum(axis=ax, keepdims=True),
    "mean": lambda x, ax: x.mean(axis=ax, keepdims=True),
    "max": lambda x, ax: x.max(axis=ax, keepdims=True),
    "min": lambda x, ax: x.min(axis=ax, keepdims=True),
    "prod": lambda x, ax: x.prod(axis=ax, keepdims=True),
    "l1": lambda x, ax: np.abs(x).sum(axis=ax, keepdims=True),
    "l2": lambda x, ax: np.sqrt((x * x).sum(axis=ax, keepdims=True)),
    "sum_square": lambda x, ax: (x * x).sum(axis=ax, keepdims=True),
    "log_sum": lambda x, ax: np.log(x.sum(axis=ax, keepdims=True)),
    "logsumexp": lambda x, ax: np.logaddexp.reduce(x, axis=ax, keepdims=True) if x.size else
    np.full([1 if i in ax else d for i, d in enumerate(x.shape)], -np.inf),
}


def _reduced_shape(x, axes, keepdims):
    return tuple((1 if keepdims else None) if i in axes else d for i, d in enumerate(x)) if keepdims else \
        tuple(d for i, d in enumerate(x) if i not in axes)


@op_def("core.reduce")
class ReduceOp(CoreOp):
    """Reduce over `axes` (empty: all axes) with `kind` in REDUCTIONS."""

    input = operand(AnyTensor)
    output = result(AnyTensor)
    kind = attribute("str")
    axes = attribute("ints", default=())
    keepdims = attribute("bool", default=False)

    def _axes(self, rank):
        return normalize_axes(self.axes, rank) if self.axes else tuple(range(rank))

    def infer_types(self):
        if self.kind not in REDUCTIONS:
            raise VerifyError(f"kind must be one of {', '.join(REDUCTIONS)}, got '{self.kind}'")
        x = shape_of(self.input)
        if x is None:
            return unranked_like(self.input)
        return [TensorType(_reduced_shape(x, self._axes(len(x)), self.keepdims), self.input.type.element)]

    def reference(self, x):
        a = np.asarray(x)
        if a.dtype.kind == "f":
            a = a.astype(np.float64)
        axes = self._axes(a.ndim)
        with np.errstate(divide="ignore", invalid="ignore"):
            y = REDUCTIONS[self.kind](a, axes)
        if not self.keepdims:
            y = y.reshape(_reduced_shape(a.shape, axes, False))
        return self.out(y)

    def flops(self):
        return 2 * num_elements(shape_of(self.input))


class ArgReduceOp(CoreOp):
    input = operand(AnyTensor)
    output = result(AnyTensor)
    axis = attribute("int", default=-1)
    keepdims = attribute("bool", default=False)
    fn = staticmethod(np.argmax)

    def infer_types(self):
        x = shape_of(self.input)
        if x is None:
            return [TensorType(None, I32)]
        axis = normalize_axis(self.axis, len(x))
        return [TensorType(_reduced_shape(x, (axis,), self.keepdims), I32)]

    def reference(self, x):
        return self.out(type(self).fn(np.asarray(x), axis=self.axis, keepdims=self.keepdims))

    def flops(self):
        return num_elements(shape_of(self.input))


@op_def("core.argmax")
class ArgmaxOp(ArgReduceOp):
    """Index (i32) of the first maximum along `axis`."""

    fn = staticmethod(np.argmax)


@op_def("core.argmin")
class ArgminOp(ArgReduceOp):
    """Index (i32) of the first minimum along `axis`."""

    fn = staticmethod(np.argmin)


@op_def("core.topk")
class TopkOp(CoreOp):
    """The `k` largest (or smallest) values along `axis`, sorted, and their i32 indices; ties
    keep the lower index first."""

    input = operand(AnyTensor)
    values = result(AnyTensor)
    indices = result(AnyTensor)
    k = attribute("int")
    axis = attribute("int", default=-1)
    largest = attribute("bool", default=True)

    def infer_types(self):
        x = shape_of(self.input)
        if self.k < 0:
            raise VerifyError("k must be non-negative")
        if x is None:
            return [TensorType(None, self.input.type.element), TensorType(None, I32)]
        axis = normalize_axis(self.axis, len(x))
        if x[axis] is not None and self.k > x[axis]:
            raise VerifyError(f"k={self.k} exceeds the axis size {x[axis]}")
        shape = x[:axis] + (self.k,) + x[axis + 1:]
        return [TensorType(shape, self.input.type.element), TensorType(shape, I32)]

    def reference(self, x):
        x = np.asarray(x)
        key = -x.astype(np.float64) if self.largest else x.astype(np.float64)
        order = np.argsort(key, axis=self.axis, kind="stable")
        idx = np.take(order, np.arange(self.k), axis=self.axis)
        return self.out(np.take_along_axis(x, idx, axis=self.axis), 0), self.out(idx, 1)

    def flops(self):
        return num_elements(shape_of(self.input)) * max(1, int(math.log2(max(self.k, 2))))


@op_def("core.cumsum")
class CumsumOp(CoreOp):
    input = operand(AnyTensor)
    output = result(AnyTensor)
    axis = attribute("int", default=0)
    exclusive = attribute("bool", default=False)
    reverse = attribute("bool", default=False)

    def infer_types(self):
        x = shape_of(self.input)
        if x is not None:
            normalize_axis(self.axis, len(x))
        return [self.input.type]

    def reference(self, x):
        a = np.asarray(x)
        a = a.astype(np.float64) if a.dtype.kind == "f" else a
        if self.reverse:
            a = np.flip(a, self.axis)
        y = np.cumsum(a, axis=self.axis)
        if self.exclusive:
            y = y - a
        if self.reverse:
            y = np.flip(y, self.axis)
        return self.out(y)

    def flops(self):
        return self.out_numel()


