"""Data reorganization: classic rank-5 reshape/permute/concat/split/slice, and the spec-4 N-D
tensor ops (reshape, transpose, concat/split, squeeze/expand, gather, slices, constants, fills).

Classic layers see a blob as [S, B, C, H, W]; they address S, C, H, W and keep B in place. On a
rank-4 blob the S axis is absent (taken as 1); rank < 4 blobs are rejected by the shape rules.
"""
from __future__ import annotations

import numpy as np

from mlir_coreml.ir.dialects.nn.base import NNLayer, declare_layers, layer_op
from mlir_coreml.ir.shapes import ShapeError, broadcast_shapes, check_size, normalize_axis
from mlir_coreml.ir.opdef import attribute


class _SameShape(NNLayer):
    def shapes(self, xs, ws):
        return [xs[0]]


def as_rank5(shape) -> tuple:
    if len(shape) == 5:
        return tuple(shape)
    if len(shape) == 4:
        return (1,) + tuple(shape)
    raise ShapeError(f"classic layer expects a rank-4 or rank-5 blob, got rank {len(shape)}")


def from_rank5(shape5, rank) -> tuple:
    if rank == 4:
        if shape5[0] != 1:
            raise ShapeError(f"result {shape5} needs a sequence axis but the input is rank 4")
        return tuple(shape5[1:])
    return tuple(shape5)


def resolve_shape(target, total) -> tuple:
    target = [int(t) for t in target]
    if target.count(-1) > 1:
        raise ShapeError(f"target shape {target} has more than one -1")
    known = int(np.prod([t for t in target if t != -1])) if target else 1
    if -1 in target:
        if known == 0 or total % known:
            raise ShapeError(f"cannot reshape {total} elements to {target}")
        target[target.index(-1)] = total // known
    elif known != total:
        raise ShapeError(f"cannot reshape {total} elements to {target}")
    return check_size(tuple(target))


# -- classic ------------------------------------------------------------------------------

@layer_op("reshape")
class ReshapeOp(NNLayer):
    """targetShape [C, H, W] (per sequence step) or [S, C, H, W]; mode CHANNEL_FIRST or CHANNEL_LAST."""

    targetShape = attribute("ints", default=())
    mode = attribute("str", default="CHANNEL_FIRST")

    def shapes(self, xs, ws):
        s, b, c, h, w = as_rank5(xs[0])
        target = tuple(self.targetShape)
        if len(target) == 3:
            out = (s, b) + resolve_shape(target, c * h * w)
        elif len(target) == 4:
            t = resolve_shape(target, s * c * h * w)
            out = (t[0], b) + t[1:]
        else:
            raise ShapeError(f"targetShape must have 3 or 4 values, got {list(target)}")
        return [from_rank5(out, len(xs[0]))]

    def compute(self, xs, ws):
        x = xs[0]
        x5 = x.reshape(as_rank5(x.shape))
        out5 = as_rank5(self.shapes([x.shape], {})[0])
        last = self.mode == "CHANNEL_LAST"
        data = np.moveaxis(x5, 1, 0)  # B, S, C, H, W
        if last:
            data = data.transpose(0, 1, 3, 4, 2)
        b = data.shape[0]
        if len(self.targetShape) == 3:
            s_out = out5[0]
            body = (out5[3], out5[4], out5[2]) if last else out5[2:]
            y = data.reshape((b, s_out) + body)
        else:
            body = (out5[0], out5[3], out5[4], out5[2]) if last else (out5[0],) + out5[2:]
            y = data.reshape((b,) + body)
        if last:
            y = y.transpose(0, 1, 4, 2, 3)
        return np.moveaxis(y, 0, 1).reshape(self.shapes([x.shape], {})[0])


@layer_op("flatten")
class FlattenOp(NNLayer):
    """[..., C, H, W] -> [..., C*H*W, 1, 1] in CHANNEL_FIRST (C, H, W) or CHANNEL_LAST (H, W, C) order."""

    mode = attribute("str", default="CHANNEL_FIRST")

    def shapes(self, xs, ws):
        s = xs[0]
        if len(s) < 3:
            raise ShapeError(f"expects rank >= 3, got {len(s)}")
        return [tuple(s[:-3]) + (s[-3] * s[-2] * s[-1], 1, 1)]

    def compute(self, xs, ws):
        x = xs[0]
        if self.mode == "CHANNEL_LAST":
            x = np.moveaxis(x, -3, -1)
        return x.reshape(self.shapes([xs[0].shape], {})[0])


@layer_op("permute")
class PermuteOp(NNLayer):
    """Permutes the [S, C, H, W] axes (`axis` is a permutation of 0..3); batch stays in place."""

    axis = attribute("ints", default=())

    def perm(self):
        axes = [int(a) for a in self.axis]
        if sorted(axes) != [0, 1, 2, 3]:
            raise ShapeError(f"axis {axes} is not a permutation of [0, 1, 2, 3]")
        full = [0, 2, 3, 4]
        return [full[axes[0]], 1] + [full[a] for a in axes[1:]]

    def shapes(self, xs, ws):
        s5 = as_rank5(xs[0])
        return [from_rank5(tuple(s5[p] for p in self.perm()), len(xs[0]))]

    def compute(self, xs, ws):
        x = xs[0]
        y = x.reshape(as_rank5(x.shape)).transpose(self.perm())
        return y.reshape(self.shapes([x.shape], {})[0])


@layer_op("concat", n_inputs=(1, None))
class ConcatOp(NNLayer):
    """Concatenate along C (axis -3), or along S (axis 0 of a rank-5 blob) with `sequenceConcat`."""

    sequenceConcat = attribute("bool", default=False)

    def axis(self, rank):
        if self.sequenceConcat:
            if rank != 5:
                raise ShapeError("sequenceConcat needs rank-5 blobs")
            return 0
        if rank < 3:
            raise ShapeError(f"channel concat needs rank >= 3, got {rank}")
        return rank - 3

    def shapes(self, xs, ws):
        return [concat_shape(xs, self.axis(len(xs[0])))]

    def compute(self, xs, ws):
        return np.concatenate(xs, axis=self.axis(xs[0].ndim))


def concat_shape(shapes, axis) -> tuple:
    first = list(shapes[0])
    total = 0
    for s in shapes:
        if len(s) != len(first) or any(d != first[i] for i, d in enumerate(s) if i != axis):
            raise ShapeError(f"cannot concatenate {', '.join(map(str, shapes))} along axis {axis}")
        total += s[axis]
    first[axis] = total
    return tuple(first)


@layer_op("split")
class SplitOp(NNLayer):
    """Split C (axis -3) into `nOutputs` equal parts."""

    nOutputs = attribute("int", default=0)

    def shapes(self, xs, ws):
        s = list(xs[0])
        n = int(self.nOutputs) or len(self.results) or 1
        if s[-3] % n:
            raise ShapeError(f"{s[-3]} channels do not split into {n} parts")
        s[-3] //= n
        return [tuple(s)] * n

    def compute(self, xs, ws):
        return tuple(np.split(xs[0], len(self.outputs), axis=-3))


@layer_op("sequenceRepeat")
class SequenceRepeatOp(NNLayer):
    nRepetitions = attribute("int", default=0)

    def shapes(self, xs, ws):
        s = list(as_rank5(xs[0]))
        s[0] *= max(int(self.nRepetitions), 1)
        return [from_rank5(tuple(s), len(xs[0]))]

    def compute(self, xs, ws):
        x5 = xs[0].reshape(as_rank5(xs[0].shape))
        return np.tile(x5, (max(int(self.nRepetitions), 1), 1, 1, 1, 1)).reshape(self.shapes([xs[0].shape], {})[0])


@layer_op("reorganizeData")
class ReorganizeDataOp(NNLayer):
    """SPACE_TO_DEPTH, DEPTH_TO_SPACE (depth-column-row order) and PIXEL_SHUFFLE (torch order)."""

    mode = attribute("str", default="SPACE_TO_DEPTH")
    blockSize = attribute("int", default=0)

    def shapes(self, xs, ws):
        *lead, c, h, w = xs[0]
        b = int(self.blockSize)
        if b < 1:
            raise ShapeError("blockSize must be >= 1")
        if self.mode == "SPACE_TO_DEPTH":
            if h % b or w % b:
                raise ShapeError(f"{h}x{w} is not divisible by blockSize {b}")
            return [tuple(lead) + (c * b * b, h // b, w // b)]
        if c % (b * b):
            raise ShapeError(f"{c} channels are not divisible by blockSize^2")
        return [tuple(lead) + (c // (b * b), h * b, w * b)]

    def compute(self, xs, ws):
        x = xs[0]
        *lead, c, h, w = x.shape
        b = int(self.blockSize)
        n = int(np.prod(lead)) if lead else 1
        x = x.reshape(n, c, h, w)
        if self.mode == "SPACE_TO_DEPTH":
            y = x.reshape(n, c, h // b, b, w // b, b).transpose(0, 3, 5, 1, 2, 4).reshape(n, c * b * b, h // b, w // b)
        elif self.mode == "DEPTH_TO_SPACE":
            y = x.reshape(n, b, b, c // (b * b), h, w).transpose(0, 3, 4, 1, 5, 2).reshape(n, c // (b * b), h * b, w * b)
        else:
            y = x.reshape(n, c // (b * b), b, b, h, w).transpose(0, 1, 4, 2, 5, 3).reshape(n, c // (b * b), h * b, w * b)
        return y.reshape(tuple(lead) + y.shape[1:])


@layer_op("slice")
class SliceOp(NNLayer):
    """Python-style [startIndex:endIndex:stride] along C, H or W (`axis`)."""

    startIndex = attribute("int", default=0)
    endIndex = attribute("int", default=0)
    stride = attribute("int", default=0)
    axis = attribute("str", default="CHANNEL_AXIS")

    def index(self, rank):
        axis = {"CHANNEL_AXIS": -3, "HEIGHT_AXIS": -2, "WIDTH_AXIS": -1}[self.axis]
        return rank + axis, slice(self.startIndex, self.endIndex, max(int(self.stride), 1))

    def shapes(self, xs, ws):
        a, sl = self.index(len(xs[0]))
        s = list(xs[0])
        s[a] = len(range(*sl.indices(s[a])))
        if s[a] == 0:
            raise ShapeError("slice is empty")
        return [tuple(s)]

    def compute(self, xs, ws):
        a, sl = self.index(xs[0].ndim)
        return xs[0][(slice(None),) * a + (sl,)]


@layer_op("loadConstant", n_inputs=(0, 0))
class LoadConstantOp(NNLayer):
    """The stored `data` as a [1, 1, C, H, W] blob (`shape` is [C, H, W])."""

    shape = attribute("ints", default=())

    def shapes(self, xs, ws):
        if len(self.shape) != 3:
            raise ShapeError(f"shape must be [C, H, W], got {list(self.shape)}")
        return [check_size((1, 1) + tuple(self.shape))]

    def compute(self, xs, ws):
        return ws["data"].reshape((1, 1) + tuple(self.shape))


# -- N-D (spec 4) ----------------------------------------------------------------------------

@layer_op("loadConstantND", n_inputs=(0, 0))
class LoadConstantNDOp(NNLayer):
    shape = attribute("ints", default=())

    def shapes(self, xs, ws):
        return [check_size(tuple(self.shape))]

    def compute(self, xs, ws):
        return ws["data"].reshape(tuple(self.shape))


@layer_op("reshapeStatic")
class ReshapeStaticOp(NNLayer):
    targetShape = attribute("ints", default=())

    def shapes(self, xs, ws):
        total = int(np.prod(xs[0]))
        return [resolve_shape(self.targetShape, total)]

    def compute(self, xs, ws):
        return xs[0].reshape(self.shapes([xs[0].shape], {})[0])


@layer_op("reshapeLike", n_inputs=(2, 2))
class ReshapeLikeOp(NNLayer):
    def shapes(self, xs, ws):
        return [tuple(xs[1])]

    def compute(self, xs, ws):
        return xs[0].reshape(xs[1].shape)


@layer_op("reshapeDynamic", n_inputs=(2, 2))
class ReshapeDynamicOp(NNLayer):
    def compute(self, xs, ws):
        return xs[0].reshape([int(d) for d in xs[1].reshape(-1)])


@layer_op("rankPreservingReshape")
class RankPreservingReshapeOp(NNLayer):
    """targetShape of the same rank; 0 copies the input dim, -1 is inferred."""

    targetShape = attribute("ints", default=())

    def shapes(self, xs, ws):
        target = [xs[0][i] if t == 0 else t for i, t in enumerate(self.targetShape)]
        if len(target) != len(xs[0]):
            raise ShapeError("targetShape must have the input's rank")
        return [resolve_shape(target, int(np.prod(xs[0])))]

    def compute(self, xs, ws):
        return xs[0].reshape(self.shapes([xs[0].shape], {})[0])


@layer_op("flattenTo2D")
class FlattenTo2DOp(NNLayer):
    axis = attribute("int", default=0)

    def shapes(self, xs, ws):
        rank = len(xs[0])
        a = self.axis + rank if self.axis < 0 else self.axis
        if not 0 <= a <= rank:
            raise ShapeError(f"axis {self.axis} out of range")
        return [(int(np.prod(xs[0][:a])), int(np.prod(xs[0][a:])))]

    def compute(self, xs, ws):
        return xs[0].reshape(self.shapes([xs[0].shape], {})[0])


@layer_op("transpose")
class TransposeOp(NNLayer):
    axes = attribute("ints", default=())

    def perm(self, rank):
        axes = [normalize_axis(a, rank) for a in self.axes] if self.axes else list(range(rank))[::-1]
        if sorted(axes) != list(range(rank)):
            raise ShapeError(f"axes {list(self.axes)} is not a permutation of rank {rank}")
        return axes

    def operand_shape(self, shape) -> tuple:
        """The shape the axes permute: an image blob ([1, C, H, W], or rank 5) under a transpose
        written for the [C, H, W] array it replaced (coremltools' NHWC image inputs add one
        with axes [1, 2, 0]) loses its leading unit dims."""
        shape = tuple(shape)
        extra = len(shape) - len(self.axes)
        if self.axes and extra > 0 and all(d == 1 for d in shape[:extra]):
            return shape[extra:]
        return shape

    def shapes(self, xs, ws):
        shape = self.operand_shape(xs[0])
        return [tuple(shape[p] for p in self.perm(len(shape)))]

    def compute(self, xs, ws):
        x = xs[0].reshape(self.operand_shape(xs[0].shape))
        return x.transpose(self.perm(x.ndim))


@layer_op("concatND", n_inputs=(1, None))
class ConcatNDOp(NNLayer):
    axis = attribute("int", default=0)
    interleave = attribute("bool", default=False)

    def shapes(self, xs, ws):
        return [concat_shape(xs, normalize_axis(self.axis, len(xs[0])))]

    def compute(self, xs, ws):
        axis = normalize_axis(self.axis, xs[0].ndim)
        if not self.interleave:
            return np.concatenate(xs, axis=axis)
        stacked = np.stack(xs, axis=axis + 1)
        return stacked.reshape(self.shapes([x.shape for x in xs], {})[0])


@layer_op("splitND")
class SplitNDOp(NNLayer):
    axis = attribute("int", default=0)
    numSplits = attribute("int", default=0)
    splitSizes = attribute("ints", default=())

    def sizes(self, dim):
        if self.splitSizes:
            sizes = [int(s) for s in self.splitSizes]
        else:
            n = max(int(self.numSplits), 1)
            if dim % n:
                raise ShapeError(f"{dim} does not split into {n} equal parts")
            sizes = [dim // n] * n
        if sum(sizes) != dim:
            raise ShapeError(f"split sizes {sizes} do not add up to {dim}")
        return sizes

    def shapes(self, xs, ws):
        a = normalize_axis(self.axis, len(xs[0]))
        out = []
        for size in self.sizes(xs[0][a]):
            s = list(xs[0])
            s[a] = size
            out.append(tuple(s))
        return out

    def compute(self, xs, ws):
        a = normalize_axis(self.axis, xs[0].ndim)
        cuts = np.cumsum(self.sizes(xs[0].shape[a]))[:-1]
        return tuple(np.split(xs[0], cuts, axis=a))


@layer_op("squeeze")
class SqueezeOp(NNLayer):
    axes = attribute("ints", default=())
    squeezeAll = attribute("bool", default=False)

    def shapes(self, xs, ws):
        rank = len(xs[0])
        if self.squeezeAll or not self.axes:
            out = tuple(d for d in xs[0] if d != 1)
        else:
            axes = {normalize_axis(a, rank) for a in self.axes}
            if any(xs[0][a] != 1 for a in axes):
                raise ShapeError(f"cannot squeeze non-unit axes of {xs[0]}")
            out = tuple(d for i, d in enumerate(xs[0]) if i not in axes)
        return [out or (1,)]

    def compute(self, xs, ws):
        return xs[0].reshape(self.shapes([xs[0].shape], {})[0])


@layer_op("expandDims")
class ExpandDimsOp(NNLayer):
    axes = attribute("ints", default=())

    def shapes(self, xs, ws):
        rank = len(xs[0]) + len(self.axes)
        axes = {normalize_axis(a, rank) for a in self.axes}
        it = iter(xs[0])
        return [tuple(1 if i in axes else next(it) for i in range(rank))]

    def compute(self, xs, ws):
        return xs[0].reshape(self.shapes([xs[0].shape], {})[0])


@layer_op("gather", n_inputs=(2, 2))
class GatherOp(NNLayer):
    axis = attribute("int", default=0)

    def shapes(self, xs, ws):
        a = normalize_axis(self.axis, len(xs[0]))
        return [tuple(xs[0][:a]) + tuple(xs[1]) + tuple(xs[0][a + 1:])]

    def compute(self, xs, ws):
        a = normalize_axis(self.axis, xs[0].ndim)
        idx = xs[1].astype(np.int64)
        idx = np.where(idx < 0, idx + xs[0].shape[a], idx)
        return np.take(xs[0], idx, axis=a)


@layer_op("gatherAlongAxis", n_inputs=(2, 2))
class GatherAlongAxisOp(NNLayer):
    axis = attribute("int", default=0)

    def shapes(self, xs, ws):
        return [tuple(xs[1])]

    def compute(self, xs, ws):
        a = normalize_axis(self.axis, xs[0].ndim)
        idx = xs[1].astype(np.int64)
        return np.take_along_axis(xs[0], np.where(idx < 0, idx + xs[0].shape[a], idx), axis=a)


@layer_op("gatherND", n_inputs=(2, 2))
class GatherNDOp(NNLayer):
    def shapes(self, xs, ws):
        k = xs[1][-1]
        return [tuple(xs[1][:-1]) + tuple(xs[0][k:])]

    def compute(self, xs, ws):
        idx = xs[1].astype(np.int64)
        return xs[0][tuple(np.moveaxis(idx, -1, 0))]


@layer_op("tile", n_inputs=(1, 2))
class TileOp(NNLayer):
    reps = attribute("ints", default=())

    def shapes(self, xs, ws):
        if len(xs) > 1:
            raise NotImplementedError
        return [check_size(tiled_shape(xs[0], self.reps))]

    def compute(self, xs, ws):
        reps = [int(r) for r in xs[1].reshape(-1)] if len(xs) > 1 else list(self.reps)
        check_size(tiled_shape(xs[0].shape, reps))
        return np.tile(xs[0], reps)


def tiled_shape(shape, reps) -> tuple:
    """numpy's tile rule, which Core ML's follows: the shorter of shape and reps is padded
    with leading 1s."""
    shape, reps = [int(d) for d in shape], [int(r) for r in reps]
    if any(r < 1 for r in reps):
        raise ShapeError(f"tile repetitions must be positive, got {reps}")
    n = max(len(shape), len(reps))
    shape, reps = [1] * (n - len(shape)) + shape, [1] * (n - len(reps)) + reps
    return tuple(d * r for d, r in zip(shape, reps))


@layer_op("stack", n_inputs=(1, None))
class StackOp(NNLayer):
    axis = attribute("int", default=0)

    def shapes(self, xs, ws):
        if any(tuple(s) != tuple(xs[0]) for s in xs):
            raise ShapeError("stack inputs must have one shape")
        a = normalize_axis(self.axis, len(xs[0]) + 1)
        return [tuple(xs[0][:a]) + (len(xs),) + tuple(xs[0][a:])]

    def compute(self, xs, ws):
        return np.stack(xs, axis=normalize_axis(self.axis, xs[0].ndim + 1))


@layer_op("reverse")
class ReverseOp(_SameShape):
    reverseDim = attribute("bools", default=())

    def compute(self, xs, ws):
        axes = tuple(i for i, r in enumerate(self.reverseDim) if r)
        return np.flip(xs[0], axes) if axes else xs[0]


@layer_op("sliceStatic")
class SliceStaticOp(NNLayer):
    beginIds = attribute("ints", default=())
    beginMasks = attribute("bools", default=())
    endIds = attribute("ints", default=())
    endMasks = attribute("bools", default=())
    strides = attribute("ints", default=())
    squeezeMasks = attribute("bools", default=())

    def slices(self, shape):
        rank = len(shape)
        out, squeeze = [], []
        for i in range(rank):
            get = lambda seq, d: seq[i] if i < len(seq) else d  # noqa: E731
            stride = int(get(self.strides, 1)) or 1
            begin = None if get(self.beginMasks, False) else int(get(self.beginIds, 0))
            end = None if get(self.endMasks, False) else int(get(self.endIds, shape[i]))
            if get(self.squeezeMasks, False):
                squeeze.append(i)
                begin = begin or 0
                end = begin + 1 if begin != -1 else None
                stride = 1
            out.append(slice(begin, end, stride))
        return out, squeeze

    def shapes(self, xs, ws):
        slices, squeeze = self.slices(xs[0])
        dims = [len(range(*s.indices(d))) for s, d in zip(slices, xs[0])]
        out = tuple(d for i, d in enumerate(dims) if i not in squeeze)
        return [out or (1,)]

    def compute(self, xs, ws):
        slices, _ = self.slices(xs[0].shape)
        return xs[0][tuple(slices)].reshape(self.shapes([xs[0].shape], {})[0])


@layer_op("getShape")
class GetShapeOp(NNLayer):
    def shapes(self, xs, ws):
        return [(len(xs[0]),)]

    def compute(self, xs, ws):
        return np.array(xs[0].shape, dtype=np.float32)


@layer_op("fillStatic", n_inputs=(0, 0))
class FillStaticOp(NNLayer):
    value = attribute("float", default=0.0)
    targetShape = attribute("ints", default=())

    def shapes(self, xs, ws):
        return [check_size(tuple(self.targetShape))]

    def compute(self, xs, ws):
        return np.full(tuple(self.targetShape), self.value, np.float32)


@layer_op("fillLike")
class FillLikeOp(_SameShape):
    value = attribute("float", default=0.0)

    def compute(self, xs, ws):
        return np.full(xs[0].shape, self.value, np.float32)


@layer_op("fillDynamic")
class FillDynamicOp(NNLayer):
    value = attribute("float", default=0.0)

    def compute(self, xs, ws):
        return np.full(check_size([int(d) for d in xs[0].reshape(-1)]), self.value, np.float32)


@layer_op("broadcastToStatic")
class BroadcastToStaticOp(NNLayer):
    targetShape = attribute("ints", default=())

    def shapes(self, xs, ws):
        return [check_size(broadcast_shapes(tuple(xs[0]), tuple(self.targetShape)))]

    def compute(self, xs, ws):
        return np.broadcast_to(xs[0], self.shapes([xs[0].shape], {})[0])


@layer_op("broadcastToLike", n_inputs=(2, 2))
class BroadcastToLikeOp(NNLayer):
    def shapes(self, xs, ws):
        return [broadcast_shapes(tuple(xs[0]), tuple(xs[1]))]

    def compute(self, xs, ws):
        return np.broadcast_to(xs[0], broadcast_shapes(xs[0].shape, xs[1].shape))


@layer_op("broadcastToDynamic", n_inputs=(2, 2))
class BroadcastToDynamicOp(NNLayer):
    def compute(self, xs, ws):
        target = tuple(int(d) for d in xs[1].reshape(-1))
        return np.broadcast_to(xs[0], check_size(broadcast_shapes(xs[0].shape, target)))


@layer_op("constantPad", n_inputs=(1, 2))
class ConstantPadOp(NNLayer):
    """Pads the trailing axes by `padAmounts` [begin0, end0, begin1, end1, ...] with `value`."""

    value = attribute("float", default=0.0)
    padAmounts = attribute("ints", default=())
    padToGivenOutputSizeMode = attribute("bool", default=False)

    def pads(self, shape):
        amounts = [int(a) for a in self.padAmounts]
        k = len(amounts) // 2
        pads = [(0, 0)] * (len(shape) - k) + [(amounts[2 * i], amounts[2 * i + 1]) for i in range(k)]
        if self.padToGivenOutputSizeMode:
            pads = [(b, max(e - d - b, 0) if e else 0) for (b, e), d in zip(pads, shape)]
        return pads

    def shapes(self, xs, ws):
        if len(xs) > 1:
            raise NotImplementedError
        return [tuple(d + b + e for d, (b, e) in zip(xs[0], self.pads(xs[0])))]

    def compute(self, xs, ws):
        return np.pad(xs[0], self.pads(xs[0].shape), constant_values=self.value)


@layer_op("copy")
class CopyOp(_SameShape):
    def compute(self, xs, ws):
        return xs[0].copy()


@layer_op("rangeStatic", n_inputs=(0, 0))
class RangeStaticOp(NNLayer):
    endValue = attribute("float", default=0.0)
    startValue = attribute("float", default=0.0)
    stepSizeValue = attribute("float", default=0.0)

    def shapes(self, xs, ws):
        n = int(np.ceil((self.endValue - self.startValue) / self.stepSizeValue))
        return [check_size((max(n, 0),))]

    def compute(self, xs, ws):
        return np.arange(self.startValue, self.endValue, self.stepSizeValue)


@layer_op("whereBroadcastable", n_inputs=(3, 3))
class WhereBroadcastableOp(NNLayer):
    def shapes(self, xs, ws):
        return [broadcast_shapes(*xs)]

    def compute(self, xs, ws):
        return np.where(xs[0] != 0, xs[1], xs[2])


class _Triangular(_SameShape):
    k = attribute("int", default=0)

    def compute(self, xs, ws):
        fn = np.tril if self.layer_kind == "lowerTriangular" else np.triu
        return fn(xs[0], self.k)


declare_layers(["lowerTriangular", "upperTriangular"], _Triangular, namespace=globals())


@layer_op("matrixBandPart")
class MatrixBandPartOp(_SameShape):
    numLower = attribute("int", default=0)
    numUpper = attribute("int", default=0)

    def compute(self, xs, ws):
        x = xs[0]
        m, n = x.shape[-2:]
        i, j = np.arange(m)[:, None], np.arange(n)[None, :]
        keep = ((self.numLower < 0) | (i - j <= self.numLower)) & ((self.numUpper < 0) | (j - i <= self.numUpper))
        return np.where(keep, x, 0)


@layer_op("oneHot", n_inputs=(1, 2))
class OneHotOp(NNLayer):
    oneHotVectorSize = attribute("int", default=0)
    axis = attribute("int", default=0)
    onValue = attribute("float", default=0.0)
    offValue = attribute("float", default=0.0)

    def shapes(self, xs, ws):
        if len(xs) > 1:
            raise NotImplementedError
        rank = len(xs[0]) + 1
        a = normalize_axis(self.axis, rank)
        return [tuple(xs[0][:a]) + (self.oneHotVectorSize,) + tuple(xs[0][a:])]

    def compute(self, xs, ws):
        depth = int(xs[1].reshape(-1)[0]) if len(xs) > 1 else self.oneHotVectorSize
        idx = xs[0].astype(np.int64)
        hot = idx[..., None] == np.arange(depth)
        y = np.where(hot, self.onValue, self.offValue)
        return np.moveaxis(y, -1, normalize_axis(self.axis, idx.ndim + 1))


SCATTER_MODES = {
    "SCATTER_UPDATE": lambda a, b: b, "SCATTER_ADD": np.add, "SCATTER_SUB": np.subtract,
    "SCATTER_MUL": np.multiply, "SCATTER_DIV": np.divide, "SCATTER_MAX": np.maximum, "SCATTER_MIN": np.minimum,
}


class _Scatter(NNLayer):
    """Inputs (data, indices, updates); indexed slots of a copy of data combine with updates by `mode`."""

    mode = attribute("str", default="SCATTER_UPDATE")

    def shapes(self, xs, ws):
        return [xs[0]]

    def combine(self, a, b):
        return SCATTER_MODES[self.mode](a, b)


@layer_op("scatter", n_inputs=(3, 3))
class ScatterOp(_Scatter):
    """updates has shape data[:axis] + indices.shape + data[axis+1:]."""

    axis = attribute("int", default=0)

    def compute(self, xs, ws):
        data, idx, upd = xs
        a = normalize_axis(self.axis, data.ndim)
        idx = idx.astype(np.int64).reshape(-1)
        out = np.moveaxis(data.copy(), a, 0)
        upd = np.moveaxis(upd.reshape(data.shape[:a] + (idx.size,) + data.shape[a + 1:]), a, 0)
        for k, i in enumerate(idx):
            out[i] = self.combine(out[i], upd[k])
        return np.moveaxis(out, 0, a)


@layer_op("scatterND", n_inputs=(3, 3))
class ScatterNDOp(_Scatter):
    """indices [..., K] address data[:K]; updates has shape indices.shape[:-1] + data.shape[K:]."""

    def compute(self, xs, ws):
        data, idx, upd = xs
        out = data.copy()
        idx = idx.astype(np.int64)
        k = idx.shape[-1]
        flat_idx = idx.reshape(-1, k)
        flat_upd = upd.reshape((flat_idx.shape[0],) + data.shape[k:])
        for i, u in zip(flat_idx, flat_upd):
            out[tuple(i)] = self.combine(out[tuple(i)], u)
        return out


@layer_op("scatterAlongAxis", n_inputs=(3, 3))
class ScatterAlongAxisOp(_Scatter):
    """indices and updates share a shape; element j of updates goes to indices[j] along `axis`."""

    axis = attribute("int", default=0)

    def compute(self, xs, ws):
        data, idx, upd = xs
        a = normalize_axis(self.axis, data.ndim)
        out = data.copy()
        idx = idx.astype(np.int64)
        for pos in np.ndindex(*idx.shape):
            target = pos[:a] + (int(idx[pos]),) + pos[a + 1:]
            out[target] = self.combine(out[target], upd[pos])
        return out


@layer_op("reverseSeq", n_inputs=(2, 2))
class ReverseSeqOp(NNLayer):
    """Reverses the first lengths[b] entries along `seqAxis` for each b along `batchAxis`."""

    batchAxis = attribute("int", default=0)
    sequenceAxis = attribute("int", default=0)

    def shapes(self, xs, ws):
        return [xs[0]]

    def compute(self, xs, ws):
        x, lengths = xs
        b, t = normalize_axis(self.batchAxis, x.ndim), normalize_axis(self.sequenceAxis, x.ndim)
        out = np.moveaxis(x.copy(), (b, t), (0, 1))
        src = np.moveaxis(x, (b, t), (0, 1))
        for i, n in enumerate(lengths.astype(np.int64).reshape(-1)):
            out[i, :n] = src[i, :n][::-1]
        return np.moveaxis(out, (0, 1), (b, t))


@layer_op("sliceBySize", n_inputs=(2, 2))
class SliceBySizeOp(NNLayer):
    """x[begin : begin + size] along `axis`, begin from the second input."""

    size = attribute("int", default=0)
    axis = attribute("int", default=0)

    def shapes(self, xs, ws):
        s = list(xs[0])
        s[normalize_axis(self.axis, len(s))] = self.size
        return [tuple(s)]

    def compute(self, xs, ws):
        a = normalize_axis(self.axis, xs[0].ndim)
        begin = int(xs[1].reshape(-1)[0])
        return np.take(xs[0], np.arange(begin, begin + self.size), axis=a)


@layer_op("sliceDynamic", n_inputs=(2, 6))
class SliceDynamicOp(NNLayer):
    """Strided slice whose begin (and optionally end, strides) come from inputs 2..4."""

    beginMasks = attribute("bools", default=())
    endIds = attribute("ints", default=())
    endMasks = attribute("bools", default=())
    strides = attribute("ints", default=())
    squeezeMasks = attribute("bools", default=())

    def compute(self, xs, ws):
        x = xs[0]
        begin = [int(v) for v in xs[1].reshape(-1)]
        end = [int(v) for v in xs[2].reshape(-1)] if len(xs) > 2 else list(self.endIds)
        strides = [int(v) for v in xs[3].reshape(-1)] if len(xs) > 3 else list(self.strides)
        slices, squeeze = [], []
        for i in range(x.ndim):
            get = lambda seq, d: seq[i] if i < len(seq) else d  # noqa: E731
            stride = get(strides, 1) or 1
            b = None if get(self.beginMasks, False) else get(begin, 0)
            e = None if get(self.endMasks, False) else get(end, x.shape[i])
            if get(self.squeezeMasks, False):
                squeeze.append(i)
                e, stride = (b + 1 if b != -1 else None), 1
            slices.append(slice(b, e, stride))
        y = x[tuple(slices)]
        return y.reshape([d for i, d in enumerate(y.shape) if i not in squeeze] or [1])


@layer_op("slidingWindows")
class SlidingWindowsOp(NNLayer):
    """Windows of `windowSize` every `step` along `axis`, stacked on a new axis before it."""

    axis = attribute("int", default=0)
    windowSize = attribute("int", default=0)
    step = attribute("int", default=0)

    def shapes(self, xs, ws):
        s = list(xs[0])
        a = normalize_axis(self.axis, len(s))
        n = (s[a] - self.windowSize) // max(self.step, 1) + 1
        if n <= 0:
            raise ShapeError("window is longer than the axis")
        return [tuple(s[:a]) + (n, self.windowSize) + tuple(s[a + 1:])]

    def compute(self, xs, ws):
        from numpy.lib.stride_tricks import sliding_window_view

        a = normalize_axis(self.axis, xs[0].ndim)
        view = sliding_window_view(xs[0], self.windowSize, axis=a)[(slice(None),) * a + (slice(None, None, max(self.step, 1)),)]
        return np.moveaxis(view, -1, a + 1)


@layer_op("rangeDynamic", n_inputs=(1, 3))
class RangeDynamicOp(NNLayer):
    """arange(start, end, step): end from input 1, start and step from inputs 2, 3 or attributes."""

    startValue = attribute("float", default=0.0)
    stepSizeValue = attribute("float", default=0.0)

    def compute(self, xs, ws):
        end = float(xs[0].reshape(-1)[0])
        start = float(xs[1].reshape(-1)[0]) if len(xs) > 1 else self.startValue
        step = float(xs[2].reshape(-1)[0]) if len(xs) > 2 else self.stepSizeValue
        check_size((max(int(np.ceil((end - start) / step)), 0),))
        return np.arange(start, end, step)


@layer_op("whereNonZero")
class WhereNonZeroOp(NNLayer):
    """Coordinates [N, rank] of the non-zero elements."""

    def compute(self, xs, ws):
        return np.argwhere(xs[0] != 0)
