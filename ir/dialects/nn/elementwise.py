"""Element-wise layers: activations, unary math, classic multi-input arithmetic, broadcastable
binary/comparison/logical ops (numpy broadcasting, as spec-4 layers define it)."""
from __future__ import annotations

import math

import numpy as np

from mlir_coreml.ir.dialects.nn.base import NNLayer, declare_layers, layer_op
from mlir_coreml.ir.shapes import ShapeError, broadcast_shapes
from mlir_coreml.ir.opdef import attribute


class _SameShape(NNLayer):
    def shapes(self, xs, ws):
        return [xs[0]]


def channel_param(p: np.ndarray, rank: int) -> np.ndarray:
    """A per-channel [C] (or [1]) parameter shaped to broadcast over [..., C, H, W]."""
    p = p.reshape(-1)
    return p.reshape((-1, 1, 1)) if rank >= 3 and p.size > 1 else (p if p.size > 1 else p[0])


def erf(x: np.ndarray) -> np.ndarray:
    return np.vectorize(math.erf, otypes=[np.float64])(x)


def _softplus(x):
    return np.logaddexp(0.0, x)


ACTIVATIONS = {
    "linear": lambda op, x, p, w: p.get("alpha", 0.0) * x + p.get("beta", 0.0),
    "ReLU": lambda op, x, p, w: np.maximum(x, 0),
    "leakyReLU": lambda op, x, p, w: np.where(x >= 0, x, p.get("alpha", 0.0) * x),
    "thresholdedReLU": lambda op, x, p, w: np.where(x > p.get("alpha", 0.0), x, 0),
    "PReLU": lambda op, x, p, w: np.where(x >= 0, x, channel_param(w["PReLU.alpha"], x.ndim) * x),
    "tanh": lambda op, x, p, w: np.tanh(x),
    "scaledTanh": lambda op, x, p, w: p.get("alpha", 0.0) * np.tanh(p.get("beta", 0.0) * x),
    "sigmoid": lambda op, x, p, w: 1.0 / (1.0 + np.exp(-x.astype(np.float64))),
    "sigmoidHard": lambda op, x, p, w: np.clip(p.get("alpha", 0.0) * x + p.get("beta", 0.0), 0, 1),
    "ELU": lambda op, x, p, w: np.where(x >= 0, x, p.get("alpha", 0.0) * np.expm1(np.minimum(x, 0))),
    "softsign": lambda op, x, p, w: x / (1 + np.abs(x)),
    "softplus": lambda op, x, p, w: _softplus(x),
    "parametricSoftplus": lambda op, x, p, w: channel_param(w["parametricSoftplus.alpha"], x.ndim)
    * _softplus(channel_param(w["parametricSoftplus.beta"], x.ndim) * x),
}


@layer_op("activation")
class ActivationOp(_SameShape):
    """One of the 13 NonlinearityTypes, chosen by which dict attribute is present (`ReLU = {}`)."""

    def kind(self) -> str:
        found = self.oneof(*ACTIVATIONS)
        if found is None:
            raise ShapeError("no nonlinearity type is set")
        return found

    def shapes(self, xs, ws):
        self.kind()
        return [xs[0]]

    def compute(self, xs, ws):
        kind = self.kind()
        return ACTIVATIONS[kind](self, xs[0], self.attr(kind), ws)


UNARY = {
    "SQRT": lambda x, op: np.sqrt(x),
    "RSQRT": lambda x, op: 1.0 / np.sqrt(x + op.epsilon),
    "INVERSE": lambda x, op: 1.0 / (x + op.epsilon),
    "POWER": lambda x, op: np.power(x, op.alpha),
    "EXP": lambda x, op: np.exp(x),
    "LOG": lambda x, op: np.log(x),
    "ABS": lambda x, op: np.abs(x),
    "THRESHOLD": lambda x, op: np.maximum(x, op.alpha),
}


@layer_op("unary")
class UnaryOp(_SameShape):
    """f(scale * x + shift) for f in SQRT, RSQRT, INVERSE, POWER, EXP, LOG, ABS, THRESHOLD."""

    type = attribute("str", default="SQRT")
    alpha = attribute("float", default=0.0)
    epsilon = attribute("float", default=0.0)
    shift = attribute("float", default=0.0)
    scale = attribute("float", default=0.0)

    def compute(self, xs, ws):
        with np.errstate(divide="ignore", invalid="ignore"):
            return UNARY[self.type](self.scale * xs[0].astype(np.float64) + self.shift, self)


# -- classic multi-input arithmetic --------------------------------------------------------

class _Classic(NNLayer):
    """add / multiply / max / min: inputs broadcast; a single input of add / multiply combines with
    `alpha` (max / min of one input is the input)."""

    combine = None

    def shapes(self, xs, ws):
        return [broadcast_shapes(*xs)]

    def compute(self, xs, ws):
        if len(xs) == 1 and "alpha" in type(self).attribute_defs:
            return type(self).combine([xs[0], np.float32(self.alpha)])
        return type(self).combine(xs)


def _fold(fn):
    def combine(xs):
        out = xs[0]
        for x in xs[1:]:
            out = fn(out, x)
        return out
    return staticmethod(combine)


declare_layers(["add", "multiply", "max", "min"], _Classic, n_inputs=(1, None), namespace=globals(),
               add={"alpha": attribute("float", default=0.0)}, multiply={"alpha": attribute("float", default=0.0)})
AddOp.combine = _fold(np.add)  # noqa: F821 (declared above)
MultiplyOp.combine = _fold(np.multiply)  # noqa: F821
MaxOp.combine = _fold(np.maximum)  # noqa: F821
MinOp.combine = _fold(np.minimum)  # noqa: F821


@layer_op("average", n_inputs=(1, None))
class AverageOp(NNLayer):
    def shapes(self, xs, ws):
        return [broadcast_shapes(*xs)]

    def compute(self, xs, ws):
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out / len(xs)


class _ShapedParam(_SameShape):
    """scale / bias: a parameter of shape [1], [C], [1, H, W] or [C, H, W] over [..., C, H, W]."""

    def param(self, ws, field, shape_attr, rank):
        p = ws[field]
        shape = tuple(self.attr(shape_attr, ())) or (p.size,)
        if len(shape) == 1:
            return channel_param(p, rank)
        return p.reshape(shape)


@layer_op("scale")
class ScaleOp(_ShapedParam):
    hasBias = attribute("bool", default=False)
    shapeScale = attribute("ints", default=())
    shapeBias = attribute("ints", default=())

    def compute(self, xs, ws):
        y = xs[0] * self.param(ws, "scale", "shapeScale", xs[0].ndim)
        if "bias" in ws:
            y = y + self.param(ws, "bias", "shapeBias", xs[0].ndim)
        return y


@layer_op("bias")
class BiasOp(_ShapedParam):
    shape = attribute("ints", default=())

    def compute(self, xs, ws):
        return xs[0] + self.param(ws, "bias", "shape", xs[0].ndim)


@layer_op("dot", n_inputs=(2, 2))
class DotOp(NNLayer):
    """Dot product over C of two [..., C, 1, 1] blobs (cosine similarity when `cosineSimilarity`)."""

    cosineSimilarity = attribute("bool", default=False)

    def shapes(self, xs, ws):
        return [tuple(xs[0][:-3]) + (1, 1, 1)]

    def compute(self, xs, ws):
        a, b = xs[0], xs[1]
        axes = (-3, -2, -1)
        d = (a * b).sum(axis=axes, keepdims=True)
        if self.cosineSimilarity:
            d = d / (np.sqrt((a * a).sum(axis=axes, keepdims=True) * (b * b).sum(axis=axes, keepdims=True)) + 1e-12)
        return d


# -- spec-4 unary math -------------------------------------------------------------------

UNARY_MATH = {
    "ceil": np.ceil, "floor": np.floor, "sign": np.sign, "round": lambda x: np.trunc(x + np.copysign(0.5, x)), "exp2": np.exp2,
    "sin": np.sin, "cos": np.cos, "tan": np.tan, "asin": np.arcsin, "acos": np.arccos, "atan": np.arctan,
    "sinh": np.sinh, "cosh": np.cosh, "tanh": np.tanh, "asinh": np.arcsinh, "acosh": np.arccosh,
    "atanh": np.arctanh, "erf": erf, "logicalNot": lambda x: (x == 0).astype(np.float32),
}


class _UnaryMath(_SameShape):
    def compute(self, xs, ws):
        with np.errstate(invalid="ignore", divide="ignore"):
            return UNARY_MATH[self.layer_kind](xs[0].astype(np.float64))


declare_layers(list(UNARY_MATH), _UnaryMath, namespace=globals())


@layer_op("clip")
class ClipOp(_SameShape):
    minVal = attribute("float", default=0.0)
    maxVal = attribute("float", default=0.0)

    def compute(self, xs, ws):
        return np.minimum(np.maximum(xs[0], self.minVal), self.maxVal)


@layer_op("clampedReLU")
class ClampedReLUOp(_SameShape):
    """min(beta, x >= 0 ? x : alpha * x)."""

    alpha = attribute("float", default=0.0)
    beta = attribute("float", default=0.0)

    def compute(self, xs, ws):
        x = xs[0]
        return np.minimum(np.where(x >= 0, x, self.alpha * x), self.beta)


@layer_op("gelu")
class GeluOp(_SameShape):
    mode = attribute("str", default="EXACT")

    def compute(self, xs, ws):
        x = xs[0].astype(np.float64)
        if self.mode == "TANH_APPROXIMATION":
            return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
        if self.mode == "SIGMOID_APPROXIMATION":
            return x / (1 + np.exp(-1.702 * x))
        return 0.5 * x * (1 + erf(x / math.sqrt(2)))


# -- broadcastable binary ops ---------------------------------------------------------------

def _floor_div(a, b):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.floor(a / b)


BINARY = {
    "addBroadcastable": np.add, "subtractBroadcastable": np.subtract,
    "multiplyBroadcastable": np.multiply, "divideBroadcastable": np.divide,
    "floorDivBroadcastable": _floor_div, "modBroadcastable": np.mod, "powBroadcastable": np.power,
    "maxBroadcastable": np.maximum, "minBroadcastable": np.minimum,
}
COMPARE = {
    "equal": np.equal, "notEqual": np.not_equal, "lessThan": np.less, "lessEqual": np.less_equal,
    "greaterThan": np.greater, "greaterEqual": np.greater_equal,
    "logicalAnd": lambda a, b: (a != 0) & (b != 0), "logicalOr": lambda a, b: (a != 0) | (b != 0),
    "logicalXor": lambda a, b: (a != 0) ^ (b != 0),
}


class _Broadcast(NNLayer):
    def shapes(self, xs, ws):
        return [broadcast_shapes(*xs)]

    def compute(self, xs, ws):
        fn = BINARY[self.layer_kind]
        out = xs[0]
        for x in xs[1:]:
            with np.errstate(divide="ignore", invalid="ignore"):
                out = fn(out, x)
        return out


class _Compare(NNLayer):
    """Comparisons: two inputs, or one input against the `alpha` attribute; logical and / or / xor
    (no alpha) take two inputs. Results are 0.0 / 1.0."""

    def shapes(self, xs, ws):
        return [broadcast_shapes(*xs)]

    def compute(self, xs, ws):
        other = xs[1] if len(xs) > 1 else np.float32(self.attr("alpha", 0.0))
        return COMPARE[self.layer_kind](xs[0], other).astype(np.float32)


declare_layers(list(BINARY), _Broadcast, n_inputs=(2, None), namespace=globals())
declare_layers([k for k in COMPARE if not k.startswith("logical")], _Compare, n_inputs=(1, 2), namespace=globals(),
               **{k: {"alpha": attribute("float", default=0.0)} for k in COMPARE if not k.startswith("logical")})
declare_layers([k for k in COMPARE if k.startswith("logical")], _Compare, n_inputs=(2, 2), namespace=globals())
