"""Matrix products, embeddings, normalizations, softmax and reductions."""
from __future__ import annotations

import numpy as np

from mlir_coreml.ir.dialects.nn.base import NNLayer, declare_layers, layer_op
from mlir_coreml.ir.shapes import ShapeError, broadcast_shapes, normalize_axis
from mlir_coreml.ir.opdef import attribute


class _SameShape(NNLayer):
    def shapes(self, xs, ws):
        return [xs[0]]


# -- products ----------------------------------------------------------------------------

@layer_op("innerProduct")
class InnerProductOp(NNLayer):
    """y = W x + b; weights [outputChannels, inputChannels]. Rank 1-3 inputs contract the last axis;
    rank 4 [N, C, H, W] and rank 5 [S, N, C, H, W] contract C*H*W and give [.., O, 1, 1]."""

    inputChannels = attribute("int", default=0)
    outputChannels = attribute("int", default=0)
    hasBias = attribute("bool", default=False)
    int8DynamicQuantize = attribute("bool", default=False)

    def shapes(self, xs, ws):
        s = xs[0]
        o = self.outputChannels
        if len(s) <= 3:
            if s[-1] is not None and s[-1] != self.inputChannels:
                raise ShapeError(f"last axis is {s[-1]}, expected inputChannels {self.inputChannels}")
            return [tuple(s[:-1]) + (o,)]
        flat = s[-3] * s[-2] * s[-1]
        if flat != self.inputChannels:
            raise ShapeError(f"C*H*W is {flat}, expected inputChannels {self.inputChannels}")
        return [tuple(s[:-3]) + (o, 1, 1)]

    def compute(self, xs, ws):
        x = xs[0]
        w = ws["weights"].reshape(self.outputChannels, self.inputChannels)
        lead = x.shape[:-1] if x.ndim <= 3 else x.shape[:-3]
        y = x.reshape(-1, self.inputChannels) @ w.T
        if "bias" in ws:
            y = y + ws["bias"].reshape(-1)
        out = self.shapes([x.shape], {})[0]
        return y.reshape(out if x.ndim > 3 else lead + (self.outputChannels,))


@layer_op("batchedMatmul", n_inputs=(1, 2))
class BatchedMatmulOp(NNLayer):
    """Broadcasting matmul of two inputs, or of one input with the stored weight (stored
    transposed, [weightMatrixSecondDimension, weightMatrixFirstDimension]) plus bias."""

    transposeA = attribute("bool", default=False)
    transposeB = attribute("bool", default=False)
    weightMatrixFirstDimension = attribute("int", default=0)
    weightMatrixSecondDimension = attribute("int", default=0)
    hasBias = attribute("bool", default=False)
    int8DynamicQuantize = attribute("bool", default=False)

    def shapes(self, xs, ws):
        a = list(xs[0])
        if len(xs) == 1:
            b = [self.weightMatrixFirstDimension, self.weightMatrixSecondDimension]
        else:
            b = list(xs[1])
        if len(a) == 1:
            a = [1] + a
        if len(b) == 1:
            b = b + [1]
        if self.transposeA:
            a[-2], a[-1] = a[-1], a[-2]
        if self.transposeB and len(xs) > 1:
            b[-2], b[-1] = b[-1], b[-2]
        if a[-1] != b[-2]:
            raise ShapeError(f"inner dimensions {a[-1]} and {b[-2]} differ")
        lead = broadcast_shapes(tuple(a[:-2]), tuple(b[:-2]))
        return [lead + (a[-2], b[-1])]

    def compute(self, xs, ws):
        a = xs[0]
        a = np.swapaxes(a, -1, -2) if self.transposeA else a
        if len(xs) == 1:
            w = ws["weights"].reshape(self.weightMatrixSecondDimension, self.weightMatrixFirstDimension).T
            y = np.matmul(a, w)
            return y + ws["bias"].reshape(-1) if "bias" in ws else y
        b = np.swapaxes(xs[1], -1, -2) if self.transposeB else xs[1]
        return np.matmul(a, b)


@layer_op("embedding")
class EmbeddingOp(NNLayer):
    """Indices [..., 1, 1, 1] -> [..., outputChannels, 1, 1]; weights [outputChannels, inputDim]."""

    inputDim = attribute("int", default=0)
    outputChannels = attribute("int", default=0)
    hasBias = attribute("bool", default=False)

    def shapes(self, xs, ws):
        return [tuple(xs[0][:-3]) + (self.outputChannels, 1, 1)]

    def compute(self, xs, ws):
        x = xs[0]
        idx = x.reshape(x.shape[:-3]).astype(np.int64)
        w = ws["weights"].reshape(self.outputChannels, self.inputDim)
        y = w.T[idx]
        if "bias" in ws:
            y = y + ws["bias"].reshape(-1)
        return y.reshape(self.shapes([x.shape], {})[0])


@layer_op("embeddingND")
class EmbeddingNDOp(NNLayer):
    """Indices [..., 1] -> [..., embeddingSize]; weights [embeddingSize, vocabSize]."""

    vocabSize = attribute("int", default=0)
    embeddingSize = attribute("int", default=0)
    hasBias = attribute("bool", default=False)

    def shapes(self, xs, ws):
        return [tuple(xs[0][:-1]) + (self.embeddingSize,)]

    def compute(self, xs, ws):
        idx = xs[0][..., 0].astype(np.int64)
        y = ws["weights"].reshape(self.embeddingSize, self.vocabSize).T[idx]
        return y + ws["bias"].reshape(-1) if "bias" in ws else y


# -- normalization -----------------------------------------------------------------------

@layer_op("batchnorm")
class BatchnormOp(_SameShape):
    """Per-channel (axis -3) gamma * (x - mean) / sqrt(variance + epsilon) + beta; with
    `computeMeanVar` the statistics come from the input (per instance with `instanceNormalization`)."""

    channels = attribute("int", default=0)
    computeMeanVar = attribute("bool", default=False)
    instanceNormalization = attribute("bool", default=False)
    epsilon = attribute("float", default=0.0)

    def shapes(self, xs, ws):
        if len(xs[0]) < 3:
            raise ShapeError(f"expects rank >= 3 input, got rank {len(xs[0])}")
        if xs[0][-3] is not None and xs[0][-3] != self.channels:
            raise ShapeError(f"input has {xs[0][-3]} channels, expected {self.channels}")
        return [xs[0]]

    def compute(self, xs, ws):
        x = xs[0].astype(np.float64)
        shape = (-1, 1, 1)
        if self.computeMeanVar:
            axes = (-2, -1) if self.instanceNormalization else tuple(i for i in range(x.ndim) if i != x.ndim - 3)
            mean = x.mean(axis=axes, keepdims=True)
            var = x.var(axis=axes, keepdims=True)
        else:
            mean, var = ws["mean"].reshape(shape), ws["variance"].reshape(shape)
        return ws["gamma"].reshape(shape) * (x - mean) / np.sqrt(var + self.epsilon) + ws["beta"].reshape(shape)


@layer_op("mvn")
class MvnOp(_SameShape):
    acrossChannels = attribute("bool", default=False)
    normalizeVariance = attribute("bool", default=False)
    epsilon = attribute("float", default=0.0)

    def compute(self, xs, ws):
        x = xs[0].astype(np.float64)
        axes = (-3, -2, -1) if self.acrossChannels else (-2, -1)
        y = x - x.mean(axis=axes, keepdims=True)
        if self.normalizeVariance:
            y = y / np.sqrt((y * y).mean(axis=axes, keepdims=True) + self.epsilon)
        return y


@layer_op("l2normalize")
class L2normalizeOp(_SameShape):
    epsilon = attribute("float", default=0.0)

    def compute(self, xs, ws):
        x = xs[0].astype(np.float64)
        return x / np.sqrt((x * x).sum(axis=(-3, -2, -1), keepdims=True) + self.epsilon)


def softmax(x: np.ndarray, axis: int) -> np.ndarray:
    x = x.astype(np.float64)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@layer_op("softmax")
class SoftmaxOp(_SameShape):
    """Softmax over the channel axis (-3) of [..., C, H, W]."""

    def compute(self, xs, ws):
        return softmax(xs[0], -3 if xs[0].ndim >= 3 else -1)


@layer_op("softmaxND")
class SoftmaxNDOp(_SameShape):
    axis = attribute("int", default=0)

    def shapes(self, xs, ws):
        normalize_axis(self.axis, len(xs[0]))
        return [xs[0]]

    def compute(self, xs, ws):
        return softmax(xs[0], self.axis)


@layer_op("lrn")
class LrnOp(_SameShape):
    """x / (k + alpha / localSize * sum of x^2 over a localSize window of channels) ^ beta."""

    alpha = attribute("float", default=0.0)
    beta = attribute("float", default=0.0)
    localSize = attribute("int", default=0)
    k = attribute("float", default=0.0)

    def compute(self, xs, ws):
        x = xs[0].astype(np.float64)
        c = x.shape[-3]
        n = int(self.localSize)
        sq = np.moveaxis(x * x, -3, 0)
        padded = np.concatenate([np.zeros(((n - 1) // 2,) + sq.shape[1:]), sq, np.zeros((n // 2,) + sq.shape[1:])])
        window = sum(padded[i:i + c] for i in range(n))
        return x / np.power(self.k + self.alpha / n * np.moveaxis(window, 0, -3), self.beta)


@layer_op("layerNormalization")
class LayerNormalizationOp(_SameShape):
    """Normalizes over the trailing `normalizedShape` axes, then gamma * y + beta."""

    normalizedShape = attribute("ints", default=())
    eps = attribute("float", default=0.0)

    def shapes(self, xs, ws):
        n = len(self.normalizedShape)
        if tuple(xs[0][len(xs[0]) - n:]) != tuple(self.normalizedShape):
            raise ShapeError(f"trailing axes {xs[0][len(xs[0]) - n:]} are not normalizedShape {self.normalizedShape}")
        return [xs[0]]

    def compute(self, xs, ws):
        x = xs[0].astype(np.float64)
        shape = tuple(self.normalizedShape)
        axes = tuple(range(x.ndim - len(shape), x.ndim))
        mean = x.mean(axis=axes, keepdims=True)
        var = x.var(axis=axes, keepdims=True)
        y = (x - mean) / np.sqrt(var + self.eps)
        return y * ws["gamma"].reshape(shape) + ws["beta"].reshape(shape)


# -- reductions --------------------------------------------------------------------------

CLASSIC_REDUCE_AXES = {"CHW": (-3, -2, -1), "HW": (-2, -1), "C": (-3,), "H": (-2,), "W": (-1,)}


def _reduce(mode: str, x: np.ndarray, axes: tuple, eps: float = 0.0) -> np.ndarray:
    x = x.astype(np.float64)
    if mode == "SUM":
        return x.sum(axis=axes, keepdims=True)
    if mode == "AVG":
        return x.mean(axis=axes, keepdims=True)
    if mode == "PROD":
        return x.prod(axis=axes, keepdims=True)
    if mode == "LOGSUM":
        return np.log(x.sum(axis=axes, keepdims=True) + eps)
    if mode == "SUMSQUARE":
        return (x * x).sum(axis=axes, keepdims=True)
    if mode == "L1":
        return np.abs(x).sum(axis=axes, keepdims=True)
    if mode == "L2":
        return np.sqrt((x * x).sum(axis=axes, keepdims=True))
    if mode == "MAX":
        return x.max(axis=axes, keepdims=True)
    if mode == "MIN":
        return x.min(axis=axes, keepdims=True)
    if mode == "LOGSUMEXP":
        m = x.max(axis=axes, keepdims=True)
        return m + np.log(np.exp(x - m).sum(axis=axes, keepdims=True))
    if mode == "ARGMAX":
        (axis,) = axes
        return np.argmax(x, axis=axis).astype(np.float64)[(slice(None),) * (axis % x.ndim) + (None,)]
    raise ShapeError(f"unknown reduce mode {mode}")


@layer_op("reduce")
class ReduceOp(NNLayer):
    """Classic reduction over CHW / HW / C / H / W; reduced axes are kept with size 1."""

    mode = attribute("str", default="SUM")
    epsilon = attribute("float", default=0.0)
    axis = attribute("str", default="CHW")

    def shapes(self, xs, ws):
        axes = CLASSIC_REDUCE_AXES[self.axis]
        s = list(xs[0])
        if len(s) < len(axes) or (self.mode == "ARGMAX" and len(axes) != 1):
            raise ShapeError(f"cannot reduce {self.axis} of rank {len(s)}")
        for a in axes:
            s[a] = 1
        return [tuple(s)]

    def compute(self, xs, ws):
        return _reduce(self.mode, xs[0], CLASSIC_REDUCE_AXES[self.axis], self.epsilon)


ND_REDUCE = {"reduceL1": "L1", "reduceL2": "L2", "reduceMax": "MAX", "reduceMin": "MIN", "reduceSum": "SUM",
             "reduceProd": "PROD", "reduceMean": "AVG", "reduceLogSum": "LOGSUM", "reduceSumSquare": "SUMSQUARE",
             "reduceLogSumExp": "LOGSUMEXP"}


class _ReduceND(NNLayer):
    axes = attribute("ints", default=())
    keepDims = attribute("bool", default=False)
    reduceAll = attribute("bool", default=False)

    def reduced_axes(self, rank):
        if self.reduceAll or not self.axes:
            return tuple(range(rank))
        return tuple(sorted({normalize_axis(a, rank) for a in self.axes}))

    def shapes(self, xs, ws):
        axes = self.reduced_axes(len(xs[0]))
        if self.keepDims:
            return [tuple(1 if i in axes else d for i, d in enumerate(xs[0]))]
        out = tuple(d for i, d in enumerate(xs[0]) if i not in axes)
        return [out or (1,)]

    def compute(self, xs, ws):
        x = xs[0]
        y = _reduce(ND_REDUCE[self.layer_kind], x, self.reduced_axes(x.ndim))
        return y.reshape(self.shapes([x.shape], {})[0])


declare_layers(list(ND_REDUCE), _ReduceND, namespace=globals())


class _ArgReduce(NNLayer):
    axis = attribute("int", default=0)
    removeDim = attribute("bool", default=False)

    def shapes(self, xs, ws):
        a = normalize_axis(self.axis, len(xs[0]))
        if self.removeDim:
            return [tuple(d for i, d in enumerate(xs[0]) if i != a) or (1,)]
        return [tuple(1 if i == a else d for i, d in enumerate(xs[0]))]

    def compute(self, xs, ws):
        fn = np.argmax if self.layer_kind == "argMax" else np.argmin
        y = fn(xs[0], axis=self.axis)
        return y.reshape(self.shapes([xs[0].shape], {})[0])


declare_layers(["argMax", "argMin"], _ArgReduce, namespace=globals())


@layer_op("cumSum", n_inputs=(1, 2))
class CumSumOp(_SameShape):
    axis = attribute("int", default=0)
    excludeFinalSum = attribute("bool", default=False)
    reverse = attribute("bool", default=False)

    def compute(self, xs, ws):
        x = xs[0].astype(np.float64)
        axis = int(xs[1].reshape(-1)[0]) if len(xs) > 1 else self.axis
        if self.reverse:
            x = np.flip(x, axis)
        y = np.cumsum(x, axis=axis)
        if self.excludeFinalSum:
            y = y - x
        return np.flip(y, axis) if self.reverse else y


@layer_op("topK", n_inputs=(1, 2))
class TopKOp(NNLayer):
    """Values and indices of the K largest (smallest with `useBottomK`) along `axis`."""

    axis = attribute("int", default=0)
    K = attribute("int", default=0)
    useBottomK = attribute("bool", default=False)
    _result_count = 2

    def shapes(self, xs, ws):
        if len(xs) > 1:
            raise NotImplementedError  # K known only at run time
        a = normalize_axis(self.axis, len(xs[0]))
        s = tuple(self.K if i == a else d for i, d in enumerate(xs[0]))
        return [s, s]

    def compute(self, xs, ws):
        x = xs[0]
        k = int(xs[1].reshape(-1)[0]) if len(xs) > 1 else self.K
        order = np.argsort(x if self.useBottomK else -x, axis=self.axis, kind="stable")
        idx = np.take(order, np.arange(k), axis=self.axis)
        return np.take_along_axis(x, idx, axis=self.axis), idx.astype(np.float32)


@layer_op("argSort")
class ArgSortOp(_SameShape):
    axis = attribute("int", default=0)
    descending = attribute("bool", default=False)

    def compute(self, xs, ws):
        x = xs[0]
        return np.argsort(-x if self.descending else x, axis=self.axis, kind="stable")
