"""Elementwise MIL ops: unary math, activations, binary ops with numpy broadcasting, comparisons."""
from __future__ import annotations

import math

import numpy as np

from mlir_coreml.ir.dialects.mil.base import MilOp, mil_op, scalar, shape_of
from mlir_coreml.ir.shapes import broadcast_shapes
from mlir_coreml.ir.types import ELEMENT_TYPES

BOOL = ELEMENT_TYPES["bool"]

_erf = np.frompyfunc(math.erf, 1, 1)


def erf(x):
    return _erf(np.asarray(x, dtype=np.float64)).astype(np.float64)


def sigmoid(x):
    x = np.asarray(x)
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-x))


def softplus(x):
    return np.logaddexp(0, x)


class Unary(MilOp):
    """`y = f(x)` with the shape and element type of x."""

    def shapes(self):
        return [shape_of(self.x)]

    def compute(self, a):
        return type(self).fn(self, a)


def unary(mil_type, fn, params="x", defaults=None):
    return mil_op(mil_type, params, base=Unary, defaults=defaults, fn=lambda self, a: fn(a["x"]))


for _name, _fn in {
    "abs": np.abs, "acos": np.arccos, "asin": np.arcsin, "atan": np.arctan, "atanh": np.arctanh,
    "ceil": np.ceil, "cos": np.cos, "cosh": np.cosh, "erf": erf, "exp": np.exp, "exp2": np.exp2,
    "floor": np.floor, "round": np.round, "sign": np.sign, "sin": np.sin, "sinh": np.sinh,
    "sqrt": np.sqrt, "square": np.square, "tan": np.tan, "tanh": np.tanh, "identity": lambda x: x,
    "relu": lambda x: np.maximum(x, 0), "relu6": lambda x: np.clip(x, 0, 6), "sigmoid": sigmoid,
    "silu": lambda x: x * sigmoid(x), "softplus": softplus, "softsign": lambda x: x / (1 + np.abs(x)),
    "logical_not": np.logical_not,
}.items():
    unary(_name, _fn)


def _eps(fn):
    return lambda self, a: fn(a["x"], a["epsilon"])


mil_op("inverse", "x epsilon?", base=Unary, defaults={"epsilon": 1e-4}, fn=_eps(lambda x, e: 1.0 / (x + e)))
mil_op("log", "x epsilon?", base=Unary, defaults={"epsilon": 1e-45}, fn=_eps(lambda x, e: np.log(x + e)))
mil_op("rsqrt", "x epsilon?", base=Unary, defaults={"epsilon": 1e-12}, fn=_eps(lambda x, e: 1.0 / np.sqrt(x + e)))

# -- parametrised activations --------------------------------------------------------------


def _gelu(self, a):
    x, mode = a["x"], str(scalar(a["mode"]))
    if mode == "EXACT":
        return 0.5 * x * (1.0 + erf(np.asarray(x, np.float64) / math.sqrt(2.0)))
    if mode == "TANH_APPROXIMATION":
        return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))
    if mode == "SIGMOID_APPROXIMATION":
        return x * sigmoid(1.702 * x)
    raise ValueError(f"unknown gelu mode '{mode}'")


def _channel(alpha, x):
    """Per-channel parameter [C] broadcast against x [N, C, ...] (axis -3 for rank-3 inputs)."""
    alpha = np.asarray(alpha)
    if alpha.ndim == 0:
        return alpha
    return alpha.reshape((-1,) + (1,) * (x.ndim - 2))


def _clamped_relu(x, alpha, beta):
    return np.minimum(np.where(x >= 0, x, alpha * x), beta)


mil_op("gelu", "x mode?", base=Unary, defaults={"mode": "EXACT"}, fn=_gelu)
mil_op("leaky_relu", "x alpha?", base=Unary, defaults={"alpha": 0.01},
       fn=lambda self, a: np.where(a["x"] >= 0, a["x"], a["alpha"] * a["x"]))
mil_op("elu", "x alpha?", base=Unary, defaults={"alpha": 1.0},
       fn=lambda self, a: np.where(a["x"] > 0, a["x"], a["alpha"] * np.expm1(np.minimum(a["x"], 0))))
mil_op("prelu", "x alpha", base=Unary,
       fn=lambda self, a: np.where(a["x"] >= 0, a["x"], _channel(a["alpha"], a["x"]) * a["x"]))
mil_op("threshold", "x alpha", base=Unary, fn=lambda self, a: np.maximum(a["x"], a["alpha"]))
mil_op("thresholded_relu", "x alpha?", base=Unary, defaults={"alpha": 1.0},
       fn=lambda self, a: np.where(a["x"] > a["alpha"], a["x"], 0))
mil_op("clip", "x alpha beta", base=Unary,
       fn=lambda self, a: np.minimum(np.maximum(a["x"], a["alpha"]), a["beta"]))
mil_op("sigmoid_hard", "x alpha? beta?", base=Unary, defaults={"alpha": 0.2, "beta": 0.5},
       fn=lambda self, a: np.clip(a["alpha"] * a["x"] + a["beta"], 0, 1))
mil_op("scaled_tanh", "x alpha? beta?", base=Unary, defaults={"alpha": 1.0, "beta": 1.0},
       fn=lambda self, a: a["alpha"] * np.tanh(a["beta"] * a["x"]))
mil_op("linear_activation", "x alpha? beta?", base=Unary, defaults={"alpha": 1.0, "beta": 0.0},
       fn=lambda self, a: a["alpha"] * a["x"] + a["beta"])
mil_op("clamped_relu", "x alpha? beta?", base=Unary, defaults={"alpha": 0.01, "beta": 6.0},
       fn=lambda self, a: _clamped_relu(a["x"], a["alpha"], a["beta"]))
mil_op("softplus_parametric", "x alpha beta", base=Unary,
       fn=lambda self, a: _channel(a["alpha"], a["x"]) * softplus(_channel(a["beta"], a["x"]) * a["x"]))

# -- binary ops ----------------------------------------------------------------------------


class Binary(MilOp):
    """`z = f(x, y)` with numpy broadcasting (MIL follows numpy's rules)."""

    result_bool = False

    def shapes(self):
        return [broadcast_shapes(shape_of(self.x), shape_of(self.y))]

    def result_elements(self):
        return [BOOL] if self.result_bool else [self.x.type.element]

    def compute(self, a):
        return type(self).fn(a["x"], a["y"])


def _real_div(x, y):
    """True division; on integers the quotient is truncated toward zero (MIL casts it back)."""
    if np.issubdtype(np.asarray(x).dtype, np.integer) and np.issubdtype(np.asarray(y).dtype, np.integer):
        return np.trunc(np.true_divide(x, y))
    return np.true_divide(x, y)


for _name, _fn in {
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "real_div": _real_div, "pow": np.power,
    "maximum": np.maximum, "minimum": np.minimum, "floor_div": np.floor_divide, "mod": np.mod,
}.items():
    mil_op(_name, "x y", base=Binary, fn=staticmethod(_fn))

for _name, _fn in {
    "equal": np.equal, "not_equal": np.not_equal, "less": np.less, "less_equal": np.less_equal,
    "greater": np.greater, "greater_equal": np.greater_equal, "logical_and": np.logical_and,
    "logical_or": np.logical_or, "logical_xor": np.logical_xor,
}.items():
    mil_op(_name, "x y", base=Binary, result_bool=True, fn=staticmethod(_fn))


class SelectBase(MilOp):
    def shapes(self):
        return [broadcast_shapes(shape_of(self.cond), shape_of(self.a), shape_of(self.b))]

    def result_elements(self):
        return [self.a.type.element]

    def compute(self, a):
        return np.where(np.asarray(a["cond"]).astype(bool), a["a"], a["b"])


mil_op("select", "cond a b", base=SelectBase)
