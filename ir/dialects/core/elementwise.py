"""`core` activations, unary and binary elementwise ops, where and cast."""
from __future__ import annotations

import math
from typing import Callable

import numpy as np

from mlir_coreml.ir.opdef import AnyTensor, Commutative, Pure, VerifyError, attribute, op_def, operand, result
from mlir_coreml.ir.types import BOOL, ELEMENT_TYPES, ElementType, TensorType
from mlir_coreml.ir.dialects.core.base import CoreOp, as_f32, shape_of, unranked_like, constant_array
from mlir_coreml.ir.shapes import format_shape, broadcast_shapes


# =========================================================================== activations

def sigmoid(x):
    e = np.exp(-np.abs(x))  # never overflows
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


_ERF = np.frompyfunc(math.erf, 1, 1)


def erf(x) -> np.ndarray:
    a = np.asarray(x)
    return _ERF(a.astype(np.float64)).astype(np.float64) if a.size else a.astype(np.float64)


def _softplus(x):
    return np.logaddexp(0, x)


# name -> f(x, alpha, beta) in float64; the fused-activation vocabulary of conv2d/linear and
# the semantics of the standalone activation ops.
ACTIVATIONS: dict[str, Callable] = {
    "none": lambda x, a, b: x,
    "relu": lambda x, a, b: np.maximum(x, 0),
    "relu6": lambda x, a, b: np.clip(x, 0, 6),
    "clip": lambda x, a, b: np.minimum(np.maximum(x, a), b),
    "leaky_relu": lambda x, a, b: np.where(x >= 0, x, a * x),
    "sigmoid": lambda x, a, b: sigmoid(x),
    "hard_sigmoid": lambda x, a, b: np.clip(a * x + b, 0, 1),
    "tanh": lambda x, a, b: np.tanh(x),
    "scaled_tanh": lambda x, a, b: a * np.tanh(b * x),
    "gelu": lambda x, a, b: 0.5 * x * (1 + erf(x / math.sqrt(2))),
    "gelu_tanh": lambda x, a, b: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3))),
    "gelu_sigmoid": lambda x, a, b: x * sigmoid(1.702 * x),
    "silu": lambda x, a, b: x * sigmoid(x),
    "elu": lambda x, a, b: np.where(x > 0, x, a * np.expm1(np.minimum(x, 0))),
    "softplus": lambda x, a, b: _softplus(x),
    "softsign": lambda x, a, b: x / (1 + np.abs(x)),
    "linear": lambda x, a, b: a * x + b,
    "thresholded_relu": lambda x, a, b: np.where(x > a, x, 0),
}

# The activations the fp16 kernels fuse (csrc/_kernels.pyx ACTIVATIONS).
KERNEL_ACTIVATIONS = frozenset({"none", "relu", "relu6", "clip", "leaky_relu", "sigmoid", "tanh",
                                "gelu", "gelu_tanh", "silu"})


def apply_activation(x, act: str, alpha: float = 0.0, beta: float = 0.0) -> np.ndarray:
    if act == "none":
        return x
    with np.errstate(over="ignore", invalid="ignore"):
        return ACTIVATIONS[act](np.asarray(x, dtype=np.float64), alpha, beta)


def check_activation(act: str):
    if act not in ACTIVATIONS:
        raise VerifyError(f"unknown activation '{act}'; expected one of {', '.join(ACTIVATIONS)}")


class ActivationOp(CoreOp):
    """`y = act(x)` elementwise; `act`, and how alpha/beta are read, come from the class."""

    input = operand(AnyTensor)
    output = result(AnyTensor)
    act = "none"
    flops_per_element = 1

    def activation(self) -> tuple[str, float, float]:
        """(activation name, alpha, beta) in the ACTIVATIONS vocabulary."""
        return self.act, 0.0, 0.0

    def infer_types(self):
        return [self.input.type]

    def reference(self, x):
        act, alpha, beta = self.activation()
        return self.out(apply_activation(x, act, alpha, beta))

    def flops(self):
        return self.flops_per_element * self.out_numel()


def _attr(op, name, default):
    a = op.attributes.get(name)
    return default if a is None else a.value


def _activation_op(name: str, act: str, flops_per_element: int = 1, alpha=None, beta=None, doc: str = ""):
    body = {"act": act, "flops_per_element": flops_per_element, "__doc__": doc or f"`{name}` activation",
            "__module__": __name__}
    if alpha is not None:
        body["alpha"] = attribute("float", default=alpha)
    if beta is not None:
        body["beta"] = attribute("float", default=beta)

    def activation(self):
        return act, float(_attr(self, "alpha", alpha or 0.0)), float(_attr(self, "beta", beta or 0.0))

    body["activation"] = activation
    cls = op_def(f"core.{name}")(type(op_class_name(name), (ActivationOp,), body))
    globals()[cls.__name__] = cls
    return cls


def op_class_name(name: str) -> str:
    return "".join(p.capitalize() for p in name.split("_")) + "Op"


_activation_op("relu", "relu")
_activation_op("clip", "clip", alpha=0.0, beta=6.0, doc="`min(max(x, alpha), beta)`")
_activation_op("leaky_relu", "leaky_relu", alpha=0.01, doc="`x if x >= 0 else alpha * x`")
_activation_op("sigmoid", "sigmoid", 4)
_activation_op("hard_sigmoid", "hard_sigmoid", 3, alpha=0.2, beta=0.5, doc="`clip(alpha * x + beta, 0, 1)`")
_activation_op("tanh", "tanh", 4)
_activation_op("scaled_tanh", "scaled_tanh", 5, alpha=1.0, beta=1.0, doc="`alpha * tanh(beta * x)`")
_activation_op("silu", "silu", 5)
_activation_op("elu", "elu", 4, alpha=1.0)
_activation_op("softplus", "softplus", 4)
_activation_op("softsign", "softsign", 3)
_activation_op("linear_activation", "linear", 2, alpha=1.0, beta=0.0, doc="`alpha * x + beta`")
_activation_op("thresholded_relu", "thresholded_relu", 1, alpha=1.0, doc="`x if x > alpha else 0`")

GELU_MODES = {"exact": "gelu", "tanh": "gelu_tanh", "sigmoid": "gelu_sigmoid"}


@op_def("core.gelu")
class GeluOp(ActivationOp):
    """GELU: `exact` (erf), `tanh` approximation, or `sigmoid` approximation x*sigmoid(1.702x)."""

    mode = attribute("str", default="exact")
    flops_per_element = 8

    def activation(self):
        return GELU_MODES.get(self.mode, "gelu"), 0.0, 0.0

    def infer_types(self):
        if self.mode not in GELU_MODES:
            raise VerifyError(f"gelu mode must be one of {', '.join(GELU_MODES)}, got '{self.mode}'")
        return [self.input.type]


@op_def("core.prelu")
class PreluOp(CoreOp):
    """Leaky ReLU with a per-channel slope (axis 1), `slope` of shape [C] (or [1])."""

    input = operand(AnyTensor)
    slope = operand(AnyTensor)
    output = result(AnyTensor)

    def infer_types(self):
        x, s = shape_of(self.input), shape_of(self.slope)
        if x is not None and s is not None:
            if len(s) != 1 or len(x) < 2 or (s[0] not in (1, x[1]) and None not in (s[0], x[1])):
                raise VerifyError(f"slope shape {format_shape(s)} must be [C] or [1] for input {format_shape(x)}")
        return [self.input.type]

    def reference(self, x, slope):
        s = as_f32(slope).reshape((1, -1) + (1,) * (x.ndim - 2))
        return self.out(np.where(x >= 0, x, s * as_f32(x)))

    def flops(self):
        return 2 * self.out_numel()


# =========================================================================== elementwise

class UnaryOp(CoreOp):
    input = operand(AnyTensor)
    output = result(AnyTensor)
    fn: Callable = staticmethod(lambda x: x)
    flops_per_element = 1
    result_element: ElementType | None = None

    def infer_types(self):
        t = self.input.type
        return [t if self.result_element is None else t.with_element(self.result_element)]

    def reference(self, x):
        a = np.asarray(x)
        if a.dtype.kind == "f":
            a = a.astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return self.out(type(self).fn(a))

    def flops(self):
        return self.flops_per_element * self.out_numel()


def _unary(name: str, fn, flops_per_element: int = 1, result_element=None):
    body = {"fn": staticmethod(fn), "flops_per_element": flops_per_element, "result_element": result_element,
            "__doc__": f"elementwise `{name}`", "__module__": __name__}
    cls = op_def(f"core.{name}")(type(op_class_name(name), (UnaryOp,), body))
    globals()[cls.__name__] = cls
    return cls


UNARY_FUNCTIONS = {
    "exp": (np.exp, 4), "exp2": (np.exp2, 4), "log": (np.log, 4), "sqrt": (np.sqrt, 2),
    "rsqrt": (lambda x: 1 / np.sqrt(x), 3), "abs": (np.abs, 1), "neg": (np.negative, 1),
    "reciprocal": (lambda x: 1 / x, 1), "floor": (np.floor, 1), "ceil": (np.ceil, 1),
    "round": (np.round, 1), "sign": (np.sign, 1), "square": (np.square, 1),
    "sin": (np.sin, 4), "cos": (np.cos, 4), "tan": (np.tan, 4), "asin": (np.arcsin, 4),
    "acos": (np.arccos, 4), "atan": (np.arctan, 4), "sinh": (np.sinh, 4), "cosh": (np.cosh, 4),
    "asinh": (np.arcsinh, 4), "acosh": (np.arccosh, 4), "atanh": (np.arctanh, 4), "erf": (erf, 8),
}
for _name, (_fn, _cost) in UNARY_FUNCTIONS.items():
    _unary(_name, _fn, _cost)
_unary("logical_not", np.logical_not, 1)


class BinaryOp(CoreOp):
    """`y = f(lhs, rhs)` with numpy broadcasting."""

    lhs = operand(AnyTensor)
    rhs = operand(AnyTensor)
    output = result(AnyTensor)
    fn: Callable = staticmethod(lambda a, b: a)
    result_element: ElementType | None = None
    identity: float | None = None  # rhs value that makes the op the identity (x + 0, x * 1)

    def infer_types(self):
        a, b = self.lhs.type, self.rhs.type
        if a.element != b.element:
            raise VerifyError(f"operand element types differ: {a.element} vs {b.element}")
        element = self.result_element or a.element
        if a.shape is None or b.shape is None:
            return [TensorType(None, element)]
        return [TensorType(broadcast_shapes(a.shape, b.shape), element)]

    def reference(self, a, b):
        a, b = np.asarray(a), np.asarray(b)
        if a.dtype.kind == "f":
            a, b = a.astype(np.float64), b.astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return self.out(type(self).fn(a, b))

    def flops(self):
        return self.out_numel()

    def fold(self):
        """`x op identity` -> x when the constant does not change the shape or type."""
        if self.identity is None:
            return None
        for keep, other in self._identity_candidates():
            c = constant_array(other)
            if c is None or keep.type != self.output.type or c.size == 0:
                continue
            if np.all(c == self.identity):
                return [keep]
        return None

    def _identity_candidates(self):
        yield self.lhs, self.rhs
        if self.has_trait(Commutative):
            yield self.rhs, self.lhs


def _binary(name: str, fn, result_element=None, commutative=False, identity=None):
    body = {"fn": staticmethod(fn), "result_element": result_element, "identity": identity,
            "__doc__": f"elementwise `{name}` with numpy broadcasting", "__module__": __name__}
    if commutative:
        body["traits"] = frozenset({Pure, Commutative})
    cls = op_def(f"core.{name}")(type(op_class_name(name), (BinaryOp,), body))
    globals()[cls.__name__] = cls
    return cls


_binary("add", np.add, commutative=True, identity=0.0)
_binary("sub", np.subtract, identity=0.0)
_binary("mul", np.multiply, commutative=True, identity=1.0)
_binary("div", np.divide, identity=1.0)
_binary("max", np.maximum, commutative=True)
_binary("min", np.minimum, commutative=True)
_binary("pow", np.power, identity=1.0)
_binary("floor_div", np.floor_divide)
_binary("mod", np.mod)
for _name, _fn in {"equal": np.equal, "not_equal": np.not_equal, "less": np.less, "less_equal": np.less_equal,
                   "greater": np.greater, "greater_equal": np.greater_equal}.items():
    _binary(_name, _fn, result_element=BOOL)
_binary("logical_and", np.logical_and, commutative=True)
_binary("logical_or", np.logical_or, commutative=True)
_binary("logical_xor", np.logical_xor, commutative=True)


@op_def("core.where")
class WhereOp(CoreOp):
    """`cond ? a : b` with numpy broadcasting; `cond` is bool."""

    cond = operand(AnyTensor)
    a = operand(AnyTensor)
    b = operand(AnyTensor)
    output = result(AnyTensor)

    def infer_types(self):
        if self.a.type.element != self.b.type.element:
            raise VerifyError(f"branches have different element types: {self.a.type.element} vs {self.b.type.element}")
        shapes = [shape_of(v) for v in (self.cond, self.a, self.b)]
        if any(s is None for s in shapes):
            return unranked_like(self.a)
        return [TensorType(broadcast_shapes(*shapes), self.a.type.element)]

    def reference(self, cond, a, b):
        return self.out(np.where(np.asarray(cond).astype(bool), a, b))

    def flops(self):
        return self.out_numel()


@op_def("core.cast")
class CastOp(CoreOp):
    """Element type conversion; float -> int truncates toward zero."""

    input = operand(AnyTensor)
    output = result(AnyTensor)
    to = attribute("str")

    def infer_types(self):
        if self.to not in ELEMENT_TYPES:
            raise VerifyError(f"unknown element type '{self.to}'")
        return [self.input.type.with_element(ELEMENT_TYPES[self.to])]

    def reference(self, x):
        return self.out(x)

    def fold(self):
        if self.input.type == self.output.type:
            return [self.input]
        return None

    def flops(self):
        return 0


# =========================================================================== convolution, GEMM

