"""Tensor MIL ops: cast, reshaping and slicing, gather/scatter, fill/range/tile, reductions."""
from __future__ import annotations

import numpy as np

from mlir_coreml.ir.dialects.mil.base import MIL_DTYPES, MilOp, NotConstant, ints, mil_op, numpy_dtype, scalar, shape_of
from mlir_coreml.ir.shapes import normalize_axis
from mlir_coreml.ir.types import ELEMENT_TYPES

I32 = ELEMENT_TYPES["i32"]


class CastBase(MilOp):
    def shapes(self):
        return [shape_of(self.x)]

    def result_elements(self):
        return [MIL_DTYPES[str(scalar(self.const_param("dtype")))]]

    def compute(self, a):
        dtype = str(scalar(a["dtype"]))
        if dtype not in MIL_DTYPES:
            raise ValueError(f"unknown cast dtype '{dtype}'")
        target = numpy_dtype(MIL_DTYPES[dtype])
        x = np.asarray(a["x"])
        if np.issubdtype(target, np.integer) and np.issubdtype(x.dtype, np.floating):
            x = np.trunc(x)
        return x.astype(target)


mil_op("cast", "x dtype", base=CastBase)

# -- reshaping -----------------------------------------------------------------------------


def reshape_target(in_shape, shape) -> tuple:
    shape = [int(s) for s in shape]
    out = [in_shape[i] if s == 0 else s for i, s in enumerate(shape)]
    if -1 in out:
        known = int(np.prod([d for d in out if d != -1]))
        total = int(np.prod(in_shape))
        out[out.index(-1)] = total // known if known else 0
    if int(np.prod(out)) != int(np.prod(in_shape)):
        raise ValueError(f"cannot reshape {tuple(in_shape)} into {tuple(shape)}")
    return tuple(out)


class ReshapeBase(MilOp):
    def shapes(self):
        x = shape_of(self.x)
        if None in x:
            raise NotImplementedError
        return [reshape_target(x, ints(self.const_param("shape")))]

    def compute(self, a):
        return np.reshape(a["x"], reshape_target(a["x"].shape, ints(a["shape"])))


mil_op("reshape", "x shape", base=ReshapeBase)


class TransposeBase(MilOp):
    def shapes(self):
        x = shape_of(self.x)
        perm = ints(self.const_param("perm"))
        if sorted(normalize_axis(p, len(x)) for p in perm) != list(range(len(x))):
            raise ValueError(f"perm {perm} is not a permutation of rank {len(x)}")
        return [tuple(x[p] for p in perm)]

    def compute(self, a):
        return np.transpose(a["x"], ints(a["perm"]))


mil_op("transpose", "x perm", base=TransposeBase)


class ConcatBase(MilOp):
    def shapes(self):
        shapes = [shape_of(v) or (1,) for v in self.values]  # scalars concatenate as [1]
        axis = normalize_axis(scalar(self.const_param("axis")), len(shapes[0]))
        dims = [s[axis] for s in shapes]
        out = list(shapes[0])
        out[axis] = None if None in dims else sum(dims)
        return [tuple(out)]

    def compute(self, a):
        axis = int(scalar(a["axis"]))
        values = [np.atleast_1d(v) for v in a["values"]]
        if a.get("interleave") is not None and bool(scalar(a["interleave"])):
            stacked = np.stack(values, axis=axis + 1 if axis >= 0 else axis)
            shape = list(values[0].shape)
            shape[axis] = sum(v.shape[axis] for v in values)
            return stacked.reshape(shape)
        return np.concatenate(values, axis=axis)


mil_op("concat", "values* axis interleave?", base=ConcatBase)


def _stack(self, a):
    return np.stack(a["values"], axis=int(scalar(a["axis"])))


mil_op("stack", "values* axis", compute=_stack)


class SplitBase(MilOp):
    def sizes(self, dim, num_splits, split_sizes):
        if split_sizes is not None:
            return ints(split_sizes)
        n = int(scalar(num_splits))
        return [dim // n] * n

    def shapes(self):
        x = shape_of(self.x)
        axis = normalize_axis(scalar(self.const_param("axis")), len(x))
        sizes = self.sizes(x[axis],
                           self.const_param("num_splits") if self.param("num_splits") is not None else None,
                           self.const_param("split_sizes") if self.param("split_sizes") is not None else None)
        return [x[:axis] + (s,) + x[axis + 1:] for s in sizes]

    def compute(self, a):
        x = a["x"]
        axis = normalize_axis(scalar(a["axis"]), x.ndim)
        sizes = self.sizes(x.shape[axis], a.get("num_splits"), a.get("split_sizes"))
        return tuple(np.split(x, np.cumsum(sizes)[:-1], axis=axis))


mil_op("split", "x num_splits? split_sizes? axis", results="outputs*", base=SplitBase)


def slice_index(shape, begin, end, stride, begin_mask, end_mask, squeeze_mask):
    index = []
    for i, dim in enumerate(shape):
        s = stride[i] if stride is not None else 1
        b = None if begin_mask is not None and begin_mask[i] else begin[i]
        e = None if end_mask is not None and end_mask[i] else end[i]
        if squeeze_mask is not None and squeeze_mask[i]:
            index.append(b if b is not None else (0 if s > 0 else -1))
        else:
            index.append(slice(b, e, s))
    return tuple(index)


def _masks(get, n):
    def mask(name):
        v = get(name)
        return None if v is None else [bool(x) for x in np.asarray(v).reshape(-1)]

    stride = get("stride")
    return (ints(get("begin")), ints(get("end")), ints(stride) if stride is not None else None,
            mask("begin_mask"), mask("end_mask"), mask("squeeze_mask"))


class SliceByIndexBase(MilOp):
    def shapes(self):
        x = shape_of(self.x)
        if None in x:
            raise NotImplementedError
        get = lambda k: self.const_param(k) if self.param(k) is not None else None  # noqa: E731
        probe = np.empty(x, dtype=np.uint8) if np.prod(x) < (1 << 24) else None
        if probe is None:
            raise NotImplementedError
        return [probe[slice_index(x, *_masks(get, len(x)))].shape]

    def compute(self, a):
        x = a["x"]
        return np.array(x[slice_index(x.shape, *_masks(lambda k: a.get(k), x.ndim))])


mil_op("slice_by_index", "x begin end stride? begin_mask? end_mask? squeeze_mask?", base=SliceByIndexBase)


def _slice_by_size(self, a):
    x = a["x"]
    begin, size = ints(a["begin"]), ints(a["size"])
    index = tuple(slice(b % d if d else 0, None if s == -1 else (b % d if d else 0) + s)
                  for b, s, d in zip(begin, size, x.shape))
    return np.array(x[index])


mil_op("slice_by_size", "x begin size", compute=_slice_by_size)


class SqueezeBase(MilOp):
    def squeeze_axes(self, shape, axes):
        if axes is None:
            return [i for i, d in enumerate(shape) if d == 1]
        return sorted(normalize_axis(v, len(shape)) for v in ints(axes))

    def shapes(self):
        x = shape_of(self.x)
        axes = self.squeeze_axes(x, self.const_param("axes") if self.param("axes") is not None else None)
        return [tuple(d for i, d in enumerate(x) if i not in axes)]

    def compute(self, a):
        x = a["x"]
        return np.squeeze(x, axis=tuple(self.squeeze_axes(x.shape, a.get("axes"))))


mil_op("squeeze", "x axes?", base=SqueezeBase)


def expanded_shape(shape, axes):
    rank = len(shape) + len(axes)
    axes = sorted(normalize_axis(v, rank) for v in axes)
    out, it = [], iter(shape)
    for i in range(rank):
        out.append(1 if i in axes else next(it))
    return tuple(out)


class ExpandDimsBase(MilOp):
    def shapes(self):
        return [expanded_shape(shape_of(self.x), ints(self.const_param("axes")))]

    def compute(self, a):
        return np.reshape(a["x"], expanded_shape(a["x"].shape, ints(a["axes"])))


mil_op("expand_dims", "x axes", base=ExpandDimsBase)


def _flatten2d(self, a):
    x = a["x"]
    axis = normalize_axis(scalar(a["axis"]), x.ndim + 1) if x.ndim else 0
    return x.reshape(int(np.prod(x.shape[:axis])), -1)


mil_op("flatten2d", "x axis?", defaults={"axis": 1}, compute=_flatten2d)


class PadBase(MilOp):
    def widths(self, shape, pad):
        pad = ints(pad)
        k = len(pad) // 2
        return [(0, 0)] * (len(shape) - k) + [(pad[2 * i], pad[2 * i + 1]) for i in range(k)]

    def shapes(self):
        x = shape_of(self.x)
        return [tuple(None if d is None else d + b + e for d, (b, e) in zip(x, self.widths(x, self.const_param("pad"))))]

    def compute(self, a):
        x = a["x"]
        widths = self.widths(x.shape, a["pad"])
        mode = str(scalar(a["mode"]))
        if mode == "constant":
            return np.pad(x, widths, constant_values=scalar(a["constant_val"]))
        if mode == "reflect":
            return np.pad(x, widths, mode="reflect")
        if mode == "replicate":
            return np.pad(x, widths, mode="edge")
        raise ValueError(f"unknown pad mode '{mode}'")


mil_op("pad", "x pad mode? constant_val?", base=PadBase, defaults={"mode": "constant", "constant_val": 0.0})


class TileBase(MilOp):
    def shapes(self):
        x = shape_of(self.x)
        reps = ints(self.const_param("reps"))
        return [tuple(None if d is None else d * r for d, r in zip(x, reps))]

    def compute(self, a):
        return np.tile(a["x"], ints(a["reps"]))


mil_op("tile", "x reps", base=TileBase)


def _reverse(self, a):
    x = a["x"]
    axes = tuple(ints(a["axes"])) if a.get("axes") is not None else tuple(range(x.ndim))
    return np.flip(x, axis=axes)


mil_op("reverse", "x axes?", compute=_reverse)

# -- gather / scatter ----------------------------------------------------------------------


def _gather(self, a):
    x, idx = a["x"], np.asarray(a["indices"]).astype(np.int64)
    axis = normalize_axis(scalar(a["axis"]), x.ndim)
    batch = int(scalar(a["batch_dims"])) if a.get("batch_dims") is not None else 0
    if batch == 0:
        return np.take(x, idx, axis=axis)
    outs = [_gather_batch(x[i], idx[i], axis - 1, batch - 1) for i in range(x.shape[0])]
    return np.stack(outs)


def _gather_batch(x, idx, axis, batch):
    if batch == 0:
        return np.take(x, idx, axis=axis)
    return np.stack([_gather_batch(x[i], idx[i], axis - 1, batch - 1) for i in range(x.shape[0])])


class GatherBase(MilOp):
    def shapes(self):
        x, idx = shape_of(self.x), shape_of(self.indices)
        if self.param("batch_dims") is not None and int(scalar(self.const_param("batch_dims"))) != 0:
            return None
        axis = normalize_axis(scalar(self.const_param("axis", 0)), len(x))
        return [x[:axis] + idx + x[axis + 1:]]


mil_op("gather", "x indices axis? batch_dims? validate_indices?", base=GatherBase, defaults={"axis": 0},
       compute=_gather)
mil_op("gather_along_axis", "x indices axis? validate_indices?", defaults={"axis": 0},
       compute=lambda self, a: np.take_along_axis(a["x"], np.asarray(a["indices"]).astype(np.int64),
                                                  axis=int(scalar(a["axis"]))))


def _gather_nd(self, a):
    x, idx = a["x"], np.asarray(a["indices"]).astype(np.int64)
    batch = int(scalar(a["batch_dims"])) if a.get("batch_dims") is not None else 0
    if batch:
        return np.stack([_gather_nd(self, {"x": x[i], "indices": idx[i], "batch_dims": batch - 1})
                         for i in range(x.shape[0])])
    k = idx.shape[-1]
    return x[tuple(np.moveaxis(idx, -1, 0))] if k else np.broadcast_to(x, idx.shape[:-1] + x.shape)


mil_op("gather_nd", "x indices batch_dims? validate_indices?", compute=_gather_nd)

_SCATTER_UFUNCS = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.true_divide,
                   "max": np.maximum, "min": np.minimum}


def _apply_scatter(out, index, updates, mode):
    if mode == "update":
        out[index] = updates
        return
    if mode not in _SCATTER_UFUNCS:
        raise ValueError(f"unknown scatter mode '{mode}'")
    _SCATTER_UFUNCS[mode].at(out, index, updates)


def _scatter(self, a):
    data = np.array(a["data"])
    idx = np.asarray(a["indices"]).astype(np.int64).reshape(-1)
    axis = normalize_axis(scalar(a["axis"]), data.ndim)
    moved = np.moveaxis(data, axis, 0)  # a view into `data`
    updates = np.moveaxis(np.asarray(a["updates"]), axis, 0)
    _apply_scatter(moved, idx % data.shape[axis], updates, str(scalar(a["mode"])))
    return data


def _scatter_along_axis(self, a):
    data = np.array(a["data"])
    idx = np.asarray(a["indices"]).astype(np.int64)
    axis = normalize_axis(scalar(a["axis"]), data.ndim)
    grids = list(np.indices(idx.shape, sparse=True))
    grids[axis] = idx % data.shape[axis]
    _apply_scatter(data, tuple(grids), a["updates"], str(scalar(a["mode"])))
    return data


def _scatter_nd(self, a):
    data = np.array(a["data"])
    idx = np.asarray(a["indices"]).astype(np.int64)
    _apply_scatter(data, tuple(np.moveaxis(idx, -1, 0)), a["updates"], str(scalar(a["mode"])))
    return data


_SCATTER_SAME = dict(shapes=lambda self: [shape_of(self.data)])
mil_op("scatter", "data indices updates axis? mode? validate_indices?", defaults={"axis": 0, "mode": "add"},
       compute=_scatter, **_SCATTER_SAME)
mil_op("scatter_along_axis", "data indices updates axis? mode? validate_indices?",
       defaults={"axis": 0, "mode": "add"}, compute=_scatter_along_axis, **_SCATTER_SAME)
mil_op("scatter_nd", "data indices updates mode? validate_indices?", defaults={"mode": "add"},
       compute=_scatter_nd, **_SCATTER_SAME)

# -- creation ------------------------------------------------------------------------------


class ShapeBase(MilOp):
    def shapes(self):
        return [(len(shape_of(self.x)),)]

    def result_elements(self):
        return [I32]

    def compute(self, a):
        return np.array(np.shape(a["x"]), dtype=np.int32)


mil_op("shape", "x", base=ShapeBase)


class FillBase(MilOp):
    def shapes(self):
        try:
            return [tuple(ints(self.const_param("shape")))]
        except NotConstant:
            return None

    def result_elements(self):
        return [self.results[0].type.element] if self.results else [ELEMENT_TYPES["f32"]]

    def compute(self, a):
        return np.full(ints(a["shape"]), scalar(a["value"]))


mil_op("fill", "shape value?", base=FillBase, defaults={"value": 0.0})
mil_op("fill_like", "ref_tensor value?", defaults={"value": 0.0},
       compute=lambda self, a: np.full(np.shape(a["ref_tensor"]), scalar(a["value"])))
mil_op("range_1d", "end start step",
       compute=lambda self, a: np.arange(scalar(a["start"]), scalar(a["end"]), scalar(a["step"])))


def _one_hot(self, a):
    idx = np.asarray(a["indices"]).astype(np.int64)
    depth = int(scalar(a["one_hot_vector_size"]))
    axis = int(scalar(a["axis"]))
    hot = idx[..., None] == np.arange(depth)
    out = np.where(hot, scalar(a["on_value"]), scalar(a["off_value"]))
    return np.moveaxis(out, -1, axis)


mil_op("one_hot", "indices one_hot_vector_size axis? on_value? off_value?",
       defaults={"axis": -1, "on_value": 1, "off_value": 0}, compute=_one_hot)


def _band_part(self, a):
    x = a["x"]
    lower, upper = int(scalar(a["lower"])), int(scalar(a["upper"]))
    m, n = x.shape[-2:]
    i, j = np.arange(m)[:, None], np.arange(n)[None, :]
    keep = ((lower < 0) | (i - j <= lower)) & ((upper < 0) | (j - i <= upper))
    return np.where(keep, x, 0)


mil_op("band_part", "x lower? upper?", defaults={"lower": -1, "upper": -1}, compute=_band_part)


def _cumsum(self, a):
    x = a["x"]
    axis = int(scalar(a["axis"]))
    if bool(scalar(a["reverse"])):
        x = np.flip(x, axis)
    y = np.cumsum(x, axis=axis)
    if bool(scalar(a["exclusive"])):
        y = y - x
    return np.flip(y, axis) if bool(scalar(a["reverse"])) else y


mil_op("cumsum", "x axis? exclusive? reverse?", defaults={"axis": 0, "exclusive": False, "reverse": False},
       compute=_cumsum)


def _topk(self, a):
    x = a["x"]
    k, axis = int(scalar(a["k"])), int(scalar(a["axis"]))
    ascending = bool(scalar(a["ascending"]))
    order = np.argsort(x if ascending else -x, axis=axis, kind="stable")
    idx = np.take(order, np.arange(k), axis=axis)
    return np.take_along_axis(x, idx, axis=axis), idx.astype(np.int32)


mil_op("topk", "x k? axis? ascending? sort? return_indices? output_indices_dtype?",
       results="values indices", defaults={"k": 1, "axis": -1, "ascending": False}, compute=_topk)


def _argsort(self, a):
    x = a["x"]
    ascending = bool(scalar(a["ascending"]))
    return np.argsort(x if ascending else -x, axis=int(scalar(a["axis"])), kind="stable").astype(np.int32)


mil_op("argsort", "x axis? ascending?", defaults={"axis": -1, "ascending": False}, compute=_argsort)

# -- reductions ----------------------------------------------------------------------------


class ReduceBase(MilOp):
    def reduce_axes(self, rank, axes):
        if axes is None:
            return tuple(range(rank))
        return tuple(sorted(normalize_axis(v, rank) for v in ints(axes)))

    def shapes(self):
        x = shape_of(self.x)
        axes = self.reduce_axes(len(x), self.const_param("axes") if self.param("axes") is not None else None)
        keep = bool(scalar(self.const_param("keep_dims", False)))
        return [tuple(1 if i in axes else d for i, d in enumerate(x) if keep or i not in axes)]

    def compute(self, a):
        x = a["x"]
        axes = self.reduce_axes(x.ndim, a.get("axes"))
        keep = bool(scalar(a["keep_dims"])) if a.get("keep_dims") is not None else False
        return type(self).fn(x, axes, keep)


_REDUCTIONS = {
    "reduce_sum": lambda x, ax, k: np.sum(x, axis=ax, keepdims=k),
    "reduce_mean": lambda x, ax, k: np.mean(x, axis=ax, keepdims=k),
    "reduce_max": lambda x, ax, k: np.max(x, axis=ax, keepdims=k),
    "reduce_min": lambda x, ax, k: np.min(x, axis=ax, keepdims=k),
    "reduce_prod": lambda x, ax, k: np.prod(x, axis=ax, keepdims=k),
    "reduce_l1_norm": lambda x, ax, k: np.sum(np.abs(x), axis=ax, keepdims=k),
    "reduce_l2_norm": lambda x, ax, k: np.sqrt(np.sum(np.square(x), axis=ax, keepdims=k)),
    "reduce_sum_square": lambda x, ax, k: np.sum(np.square(x), axis=ax, keepdims=k),
    "reduce_log_sum": lambda x, ax, k: np.log(np.sum(x, axis=ax, keepdims=k)),
    "reduce_log_sum_exp": lambda x, ax, k: _logsumexp(x, ax, k),
}


def _logsumexp(x, axes, keep):
    m = np.max(x, axis=axes, keepdims=True)
    y = np.log(np.sum(np.exp(x - m), axis=axes, keepdims=True)) + m
    return y if keep else np.squeeze(y, axis=axes)


for _name, _fn in _REDUCTIONS.items():
    mil_op(_name, "x axes? keep_dims?", base=ReduceBase, defaults={"keep_dims": False}, fn=staticmethod(_fn))


class ArgReduceBase(MilOp):
    def shapes(self):
        x = shape_of(self.x)
        axis = normalize_axis(scalar(self.const_param("axis", -1)), len(x))
        keep = bool(scalar(self.const_param("keep_dims", False)))
        return [tuple(1 if i == axis else d for i, d in enumerate(x) if keep or i != axis)]

    def result_elements(self):
        if self.param("output_dtype") is not None:
            return [MIL_DTYPES[str(scalar(self.const_param("output_dtype")))]]
        return [I32]

    def compute(self, a):
        x = a["x"]
        axis = int(scalar(a["axis"]))
        y = type(self).fn(x, axis=axis)
        return np.expand_dims(y, axis) if bool(scalar(a["keep_dims"])) else y


mil_op("reduce_argmax", "x axis? keep_dims? output_dtype?", base=ArgReduceBase,
       defaults={"axis": -1, "keep_dims": False}, fn=staticmethod(np.argmax))
mil_op("reduce_argmin", "x axis? keep_dims? output_dtype?", base=ArgReduceBase,
       defaults={"axis": -1, "keep_dims": False}, fn=staticmethod(np.argmin))


def _slice_update(self, a):
    x = np.array(a["x"])
    index = slice_index(x.shape, *_masks(lambda k: a.get(k), x.ndim))
    x[index] = np.reshape(a["update"], x[index].shape)
    return x


mil_op("slice_update", "x update begin end stride? begin_mask? end_mask? squeeze_mask?", compute=_slice_update,
       shapes=lambda self: [shape_of(self.x)])
mil_op("non_zero", "x", compute=lambda self, a: np.transpose(np.nonzero(a["x"])).astype(np.int32),
       result_elements=lambda self: [I32])


def _sliding_windows(self, a):
    x = a["x"]
    axis, size = normalize_axis(scalar(a["axis"]), x.ndim), int(scalar(a["size"]))
    stride = int(scalar(a["stride"]))
    view = np.lib.stride_tricks.sliding_window_view(x, size, axis=axis)[(slice(None),) * axis + (slice(None, None, stride),)]
    return np.moveaxis(view, -1, axis + 1)


mil_op("sliding_windows", "x axis size stride?", defaults={"stride": 1}, compute=_sliding_windows)


def _along_axis(values, axis, rank):
    values = np.asarray(values)
    if values.ndim != 1 or axis is None:
        return values
    shape = [1] * rank
    shape[axis] = -1
    return values.reshape(shape)


def _quantize(self, a):
    x = a["input"]
    axis = None if a.get("axis") is None else normalize_axis(scalar(a["axis"]), x.ndim)
    dtype = numpy_dtype(MIL_DTYPES[str(scalar(a["output_dtype"]))])
    zero = 0 if a.get("zero_point") is None else _along_axis(a["zero_point"], axis, x.ndim).astype(np.float32)
    q = np.round(x / _along_axis(a["scale"], axis, x.ndim)) + zero
    info = np.iinfo(dtype)
    return np.clip(q, info.min, info.max).astype(dtype)


def _dequantize(self, a):
    x = np.asarray(a["input"]).astype(np.float32)
    axis = None if a.get("axis") is None else normalize_axis(scalar(a["axis"]), x.ndim)
    if a.get("zero_point") is not None:
        x = x - _along_axis(a["zero_point"], axis, x.ndim).astype(np.float32)
    return x * _along_axis(a["scale"], axis, x.ndim)


mil_op("quantize", "input zero_point? scale axis? output_dtype", compute=_quantize)
mil_op("dequantize", "input zero_point? scale axis?", compute=_dequantize)
