"""`core` data movement: reshape, transpose, concat, split, slice, pad, gather, fill, range."""
from __future__ import annotations

import math

import numpy as np

from mlir_coreml.ir.opdef import AnyTensor, VerifyError, attribute, op_def, operand, result
from mlir_coreml.ir.types import BOOL, ELEMENT_TYPES, F32, I32, TensorType
from mlir_coreml.ir.dialects.core.base import CoreOp, shape_of, unranked_like, constant_array
from mlir_coreml.ir.shapes import check_size, format_shape, normalize_axis, num_elements


@op_def("core.reshape")
class ReshapeOp(CoreOp):
    """Row-major reshape to the static `shape` (may contain one -1)."""

    input = operand(AnyTensor)
    output = result(AnyTensor)
    shape = attribute("ints")
    view_like = True

    def target_shape(self):
        shape = list(self.shape)
        if shape.count(-1) > 1 or any(d < -1 for d in shape):
            raise VerifyError(f"shape {shape} may contain at most one -1 and no other negative value")
        x = shape_of(self.input)
        if -1 in shape:
            n = num_elements(x) if x is not None and None not in x else None
            known = int(np.prod([d for d in shape if d != -1], dtype=np.int64))
            if n is None:
                shape[shape.index(-1)] = None
            elif known == 0 or n % known:
                raise VerifyError(f"cannot reshape {format_shape(x)} to {list(self.shape)}")
            else:
                shape[shape.index(-1)] = n // known
        return tuple(shape)

    def infer_types(self):
        shape = self.target_shape()
        x = shape_of(self.input)
        if x is not None and None not in x and None not in shape and num_elements(x) != num_elements(shape):
            raise VerifyError(f"cannot reshape {format_shape(x)} ({num_elements(x)} elements) to {format_shape(shape)}")
        return [TensorType(shape, self.input.type.element)]

    def reference(self, x):
        return np.reshape(x, self.output.type.shape if self.output.type.is_static else self.shape)

    def fold(self):
        if self.input.type == self.output.type and self.output.type.is_static:
            return [self.input]
        return None


@op_def("core.transpose")
class TransposeOp(CoreOp):
    input = operand(AnyTensor)
    output = result(AnyTensor)
    perm = attribute("ints")
    view_like = True

    def infer_types(self):
        x = shape_of(self.input)
        perm = tuple(self.perm)
        if sorted(perm) != list(range(len(perm))):
            raise VerifyError(f"perm {list(perm)} is not a permutation")
        if x is None:
            return unranked_like(self.input)
        if len(perm) != len(x):
            raise VerifyError(f"perm {list(perm)} does not fit rank {len(x)}")
        return [TensorType(tuple(x[p] for p in perm), self.input.type.element)]

    def reference(self, x):
        return np.transpose(x, self.perm)

    def fold(self):
        if tuple(self.perm) == tuple(range(len(self.perm))):
            return [self.input]
        return None


@op_def("core.broadcast_to")
class BroadcastToOp(CoreOp):
    """numpy broadcasting of `input` to the static `shape` (a read-only view)."""

    input = operand(AnyTensor)
    output = result(AnyTensor)
    shape = attribute("ints")
    view_like = True

    def infer_types(self):
        x = shape_of(self.input)
        shape = tuple(self.shape)
        if x is not None and (len(x) > len(shape) or any(
                d not in (1, None, s) for d, s in zip(x[::-1], shape[::-1]))):
            raise VerifyError(f"cannot broadcast {format_shape(x)} to {format_shape(shape)}")
        return [TensorType(check_size(shape), self.input.type.element)]

    def reference(self, x):
        return np.broadcast_to(x, self.shape)

    def fold(self):
        if self.input.type == self.output.type:
            return [self.input]
        return None


@op_def("core.concat")
class ConcatOp(CoreOp):
    inputs = operand(AnyTensor, variadic=True)
    output = result(AnyTensor)
    axis = attribute("int")

    def infer_types(self):
        if not self.inputs:
            raise VerifyError("needs at least one input")
        shapes = [shape_of(v) for v in self.inputs]
        element = self.inputs[0].type.element
        if any(v.type.element != element for v in self.inputs):
            raise VerifyError("inputs have different element types")
        if any(s is None for s in shapes):
            return [TensorType(None, element)]
        rank = len(shapes[0])
        axis = normalize_axis(self.axis, rank)
        out = list(shapes[0])
        for s in shapes[1:]:
            if len(s) != rank or any(i != axis and None not in (a, b) and a != b
                                     for i, (a, b) in enumerate(zip(s, out))):
                raise VerifyError(f"input shapes {', '.join(format_shape(s) for s in shapes)} differ off axis {self.axis}")
        out[axis] = None if any(s[axis] is None for s in shapes) else sum(s[axis] for s in shapes)
        return [TensorType(tuple(out), element)]

    def reference(self, *xs):
        return self.out(np.concatenate(xs, axis=self.axis))

    def fold(self):
        if len(self.inputs) == 1 and self.inputs[0].type == self.output.type:
            return [self.inputs[0]]
        return None


@op_def("core.split")
class SplitOp(CoreOp):
    """Split along `axis` into pieces of `sizes`."""

    input = operand(AnyTensor)
    outputs = result(AnyTensor, variadic=True)
    axis = attribute("int")
    sizes = attribute("ints")
    view_like = True

    def infer_types(self):
        x = shape_of(self.input)
        if any(s < 0 for s in self.sizes) or not self.sizes:
            raise VerifyError("sizes must be non-negative and not empty")
        if x is None:
            return [TensorType(None, self.input.type.element)] * len(self.sizes)
        axis = normalize_axis(self.axis, len(x))
        if x[axis] is not None and sum(self.sizes) != x[axis]:
            raise VerifyError(f"sizes {list(self.sizes)} do not add up to {x[axis]}")
        return [TensorType(x[:axis] + (s,) + x[axis + 1:], self.input.type.element) for s in self.sizes]

    def reference(self, x):
        bounds = np.cumsum(self.sizes)[:-1]
        return tuple(np.split(x, bounds, axis=self.axis))


@op_def("core.slice")
class SliceOp(CoreOp):
    """Python slicing per axis: `x[begin[i]:end[i]:strides[i]]` (clamped; negative counts from the end)."""

    input = operand(AnyTensor)
    output = result(AnyTensor)
    begin = attribute("ints")
    end = attribute("ints")
    strides = attribute("ints", default=())
    view_like = True

    def _slices(self, rank):
        strides = tuple(self.strides) or (1,) * rank
        if not (len(self.begin) == len(self.end) == len(strides) == rank):
            raise VerifyError(f"begin/end/strides need {rank} values each")
        if 0 in strides:
            raise VerifyError("strides must not be 0")
        return [slice(b, e, s) for b, e, s in zip(self.begin, self.end, strides)]

    def infer_types(self):
        x = shape_of(self.input)
        if x is None:
            return unranked_like(self.input)
        slices = self._slices(len(x))
        shape = tuple(None if d is None else len(range(*s.indices(d))) for s, d in zip(slices, x))
        return [TensorType(shape, self.input.type.element)]

    def reference(self, x):
        return x[tuple(self._slices(np.ndim(x)))]

    def fold(self):
        if self.input.type == self.output.type and self.output.type.is_static and all(
                s.indices(d) == (0, d, 1) for s, d in zip(self._slices(self.output.type.rank), self.output.type.shape)):
            return [self.input]
        return None


@op_def("core.pad")
class PadOp(CoreOp):
    """`pads` = (before_0, after_0, before_1, after_1, ...); mode constant/reflect/replicate."""

    input = operand(AnyTensor)
    output = result(AnyTensor)
    pads = attribute("ints")
    mode = attribute("str", default="constant")
    value = attribute("float", default=0.0)

    def infer_types(self):
        if self.mode not in ("constant", "reflect", "replicate"):
            raise VerifyError(f"mode must be constant, reflect or replicate, got '{self.mode}'")
        x = shape_of(self.input)
        if x is None:
            return unranked_like(self.input)
        if len(self.pads) != 2 * len(x) or min(self.pads, default=0) < 0:
            raise VerifyError(f"pads need 2 non-negative values per axis ({2 * len(x)}), got {len(self.pads)}")
        shape = []
        for i, d in enumerate(x):
            before, after = self.pads[2 * i], self.pads[2 * i + 1]
            if self.mode == "reflect" and d is not None and (before >= d or after >= d) and (before or after):
                raise VerifyError(f"reflect padding {before}/{after} needs axis {i} longer than {max(before, after)}")
            shape.append(None if d is None else d + before + after)
        return [TensorType(check_size(shape), self.input.type.element)]

    def reference(self, x):
        pairs = [(self.pads[2 * i], self.pads[2 * i + 1]) for i in range(np.ndim(x))]
        if self.mode == "constant":
            return self.out(np.pad(x, pairs, constant_values=self.value))
        return self.out(np.pad(x, pairs, mode="reflect" if self.mode == "reflect" else "edge"))

    def fold(self):
        if not any(self.pads) and self.input.type == self.output.type:
            return [self.input]
        return None


@op_def("core.tile")
class TileOp(CoreOp):
    input = operand(AnyTensor)
    output = result(AnyTensor)
    reps = attribute("ints")

    def infer_types(self):
        x = shape_of(self.input)
        if x is None:
            return unranked_like(self.input)
        if len(self.reps) != len(x) or min(self.reps, default=1) < 0:
            raise VerifyError(f"reps need one non-negative value per axis ({len(x)})")
        return [TensorType(check_size([None if d is None else d * r for d, r in zip(x, self.reps)]),
                           self.input.type.element)]

    def reference(self, x):
        return np.tile(x, self.reps)

    def fold(self):
        if all(r == 1 for r in self.reps) and self.input.type == self.output.type:
            return [self.input]
        return None


def _check_index_element(value):
    if value.type.element.is_float or value.type.element == BOOL:
        raise VerifyError(f"indices must be integers, got {value.type.element}")


@op_def("core.gather")
class GatherOp(CoreOp):
    """`np.take(data, indices, axis)`; negative indices count from the end."""

    data = operand(AnyTensor)
    indices = operand(AnyTensor)
    output = result(AnyTensor)
    axis = attribute("int", default=0)

    def infer_types(self):
        _check_index_element(self.indices)
        d, i = shape_of(self.data), shape_of(self.indices)
        if d is None or i is None:
            return unranked_like(self.data)
        axis = normalize_axis(self.axis, len(d))
        return [TensorType(d[:axis] + tuple(i) + d[axis + 1:], self.data.type.element)]

    def reference(self, data, indices):
        data = np.asarray(data)
        idx = np.asarray(indices).astype(np.int64)
        n = data.shape[self.axis]
        if idx.size and (idx.min() < -n or idx.max() >= n):
            raise IndexError(f"gather index out of range for axis size {n}")
        return self.out(np.take(data, np.where(idx < 0, idx + n, idx), axis=self.axis))


@op_def("core.gather_nd")
class GatherNdOp(CoreOp):
    """indices [..., k] index the first k axes of data: result shape indices[:-1] + data[k:]."""

    data = operand(AnyTensor)
    indices = operand(AnyTensor)
    output = result(AnyTensor)

    def infer_types(self):
        _check_index_element(self.indices)
        d, i = shape_of(self.data), shape_of(self.indices)
        if d is None or i is None or i[-1] is None:
            return unranked_like(self.data)
        if not i or i[-1] > len(d):
            raise VerifyError(f"indices {format_shape(i)} index more axes than data {format_shape(d)} has")
        return [TensorType(tuple(i[:-1]) + tuple(d[i[-1]:]), self.data.type.element)]

    def reference(self, data, indices):
        data = np.asarray(data)
        idx = np.asarray(indices).astype(np.int64)
        k = idx.shape[-1]
        sizes = np.array(data.shape[:k])
        idx = np.where(idx < 0, idx + sizes, idx)
        if idx.size and ((idx < 0) | (idx >= sizes)).any():
            raise IndexError("gather_nd index out of range")
        return self.out(data[tuple(np.moveaxis(idx, -1, 0))])


@op_def("core.one_hot")
class OneHotOp(CoreOp):
    """Integer indices -> a new axis of length `depth` at `axis` holding on/off values (f32)."""

    indices = operand(AnyTensor)
    output = result(AnyTensor)
    depth = attribute("int")
    axis = attribute("int", default=-1)
    on_value = attribute("float", default=1.0)
    off_value = attribute("float", default=0.0)

    def infer_types(self):
        _check_index_element(self.indices)
        if self.depth < 0:
            raise VerifyError("depth must be non-negative")
        i = shape_of(self.indices)
        if i is None:
            return [TensorType(None, F32)]
        axis = normalize_axis(self.axis, len(i) + 1)
        return [TensorType(check_size(i[:axis] + (self.depth,) + i[axis:]), F32)]

    def reference(self, indices):
        idx = np.asarray(indices).astype(np.int64)
        idx = np.where(idx < 0, idx + self.depth, idx)
        hot = idx[..., None] == np.arange(self.depth)
        y = np.where(hot, self.on_value, self.off_value)
        axis = normalize_axis(self.axis, idx.ndim + 1)
        return self.out(np.moveaxis(y, -1, axis))


@op_def("core.shape")
class ShapeOp(CoreOp):
    """The shape of `input` as a 1-D i32 tensor."""

    input = operand(AnyTensor)
    output = result(AnyTensor)

    def infer_types(self):
        x = shape_of(self.input)
        return [TensorType((None if x is None else len(x),), I32)]

    def reference(self, x):
        return np.asarray(np.shape(x), dtype=np.int32)

    def fold(self):
        if self.input.type.is_static:
            return [np.asarray(self.input.type.shape, dtype=np.int32)]
        return None


@op_def("core.fill")
class FillOp(CoreOp):
    """A tensor of the static `shape` filled with `value`, of element type `dtype`."""

    output = result(AnyTensor)
    shape = attribute("ints")
    value = attribute("float", default=0.0)
    dtype = attribute("str", default="f32")

    def infer_types(self):
        if self.dtype not in ELEMENT_TYPES:
            raise VerifyError(f"unknown element type '{self.dtype}'")
        return [TensorType(check_size(tuple(self.shape)), ELEMENT_TYPES[self.dtype])]

    def reference(self):
        return self.out(np.full(self.shape, self.value))


@op_def("core.range")
class RangeOp(CoreOp):
    """`np.arange(start, end, step)` from three scalar (rank 0 or [1]) operands."""

    start = operand(AnyTensor)
    end = operand(AnyTensor)
    step = operand(AnyTensor)
    output = result(AnyTensor)

    def infer_types(self):
        element = self.start.type.element
        values = [constant_array(v) for v in (self.start, self.end, self.step)]
        if any(v is None for v in values):
            return [TensorType((None,), element)]
        start, end, step = (v.reshape(-1)[0] for v in values)
        if step == 0:
            raise VerifyError("step must not be 0")
        return [TensorType(check_size((max(0, int(math.ceil((end - start) / step))),)), element)]

    def reference(self, start, end, step):
        s, e, d = (np.asarray(v).reshape(-1)[0] for v in (start, end, step))
        if d == 0:
            raise ValueError("range step is 0")
        return self.out(np.arange(s, e, d))


# =========================================================================== recurrent


