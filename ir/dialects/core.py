"""`core`: the normalized compute dialect that every frontend dialect lowers into and that
optimisation passes, the reference interpreter and codegen target.

Layout conventions: activations are NCHW (rank 4) or plain N-D tensors; weights are dense
constants in their stored precision (f32 or f16); compute is f32 unless an explicit
`core.cast` says otherwise (an op's result element type is the precision it rounds to).

Every op declares its operands/results/attributes, checks itself by re-running its shape
inference (`infer_types`, which raises VerifyError on bad attributes), and has a numpy
`reference` (the oracle for kernels and passes) and a `flops` estimate (multiply-add = 2).
Ops with two or more optional operands record which are present in `operand_segments`
(build them with `build(cls, {"input": x, "weight": w, "bias": b}, ...)`).

Recurrent ops (`lstm`, `gru`, `rnn`) follow PyTorch's gate order and equations (LSTM: i, f, g,
o; GRU: r, z, n with the reset gate applied after the hidden matmul); lowerings reorder the
Core ML weights. Weights carry a leading direction dimension (2 for bidirectional).
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from mlir_coreml.ir.core import Operation
# core.constant lives in constant.py, importable without the rest of the dialect; re-exported here.
from mlir_coreml.ir.dialects.constant import ConstantOp, constant_array, materialize_constant  # noqa: F401
from mlir_coreml.ir.opdef import (AnyTensor, Commutative, Pure, VerifyError, _group_sizes, attribute, build,
                                  op_def, operand, result)
from mlir_coreml.ir.types import BOOL, ELEMENT_TYPES, F32, I32, ElementType, TensorType

MAX_ELEMENTS = 1 << 31  # refuse inferred result shapes above this (models are untrusted)


# =========================================================================== shared helpers

def _shape(value) -> tuple | None:
    t = value.type
    return t.shape if isinstance(t, TensorType) else None


def _numel(shape) -> int:
    if shape is None or any(d is None for d in shape):
        return 0
    return int(np.prod(shape, dtype=np.int64))


def _norm_axis(axis: int, rank: int) -> int:
    if not -rank <= axis < max(rank, 1):
        raise VerifyError(f"axis {axis} is out of range for rank {rank}")
    return axis % rank if rank else 0


def _norm_axes(axes, rank: int) -> tuple[int, ...]:
    out = tuple(sorted({_norm_axis(a, rank) for a in axes}))
    if len(out) != len(tuple(axes)):
        raise VerifyError(f"axes {tuple(axes)} repeat an axis")
    return out


def broadcast_shapes(*shapes) -> tuple:
    """numpy broadcasting over shapes with `None` (dynamic) dims."""
    rank = max(len(s) for s in shapes)
    out = []
    for i in range(rank):
        dims = [s[len(s) - rank + i] for s in shapes if len(s) - rank + i >= 0]
        known = {d for d in dims if d is not None and d != 1}
        if len(known) > 1:
            raise VerifyError(f"shapes {', '.join(_fmt(s) for s in shapes)} do not broadcast")
        if known:
            out.append(known.pop())
        elif any(d is None for d in dims):
            out.append(None)
        else:
            out.append(1)
    return tuple(out)


def _fmt(shape) -> str:
    return "x".join("?" if d is None else str(d) for d in shape) if shape else "scalar"


def _f32(x) -> np.ndarray:
    a = np.asarray(x)
    return a if a.dtype == np.float32 else a.astype(np.float32)


def _check_size(shape):
    if _numel(shape) > MAX_ELEMENTS:
        raise VerifyError(f"result shape {_fmt(shape)} is too large")
    if any(d is not None and d < 0 for d in shape):
        raise VerifyError(f"result shape {_fmt(shape)} has a negative dimension")
    return tuple(shape)


def types_compatible(inferred, declared) -> bool:
    """`declared` agrees with `inferred` wherever both are known."""
    if not isinstance(inferred, TensorType) or not isinstance(declared, TensorType):
        return inferred == declared
    if inferred.element != declared.element:
        return False
    if inferred.shape is None or declared.shape is None:
        return True
    if len(inferred.shape) != len(declared.shape):
        return False
    return all(a is None or b is None or a == b for a, b in zip(inferred.shape, declared.shape))


class CoreOp(Operation):
    """Base of every compute op of the dialect: pure, verified by its own shape inference."""

    traits = frozenset({Pure})
    view_like = False  # the reference result may be a view of operand 0 (memory planning)

    def verify_(self):
        if type(self).uses_segments and "operand_segments" not in self.attributes:
            raise VerifyError("needs an 'operand_segments' attribute (which optional operands are present)")
        inferred = self.infer_types()
        for r, t in zip(self.results, inferred):
            if not types_compatible(t, r.type):
                raise VerifyError(f"result {r.index} has type {r.type} but the operands imply {t}")

    def infer_types(self):
        raise NotImplementedError

    def flops(self) -> int:
        return 0

    # -- helpers for subclasses ------------------------------------------------------------
    def arrays_by_name(self, arrays) -> dict:
        """Map the flat `reference` arguments to operand names (None for absent optionals)."""
        cls = type(self)
        sizes = _group_sizes(self, cls.operand_defs, len(arrays),
                             "operand_segments" if cls.uses_segments else None)
        out, i = {}, 0
        for d, n in zip(cls.operand_defs, sizes):
            out[d.name] = list(arrays[i:i + n]) if d.variadic else (arrays[i] if n else None)
            i += n
        return out

    def out(self, array, index: int = 0) -> np.ndarray:
        """`array` rounded to result `index`'s element type."""
        dtype = self.results[index].type.element.numpy_dtype
        a = np.asarray(array)
        return a if a.dtype == dtype else a.astype(dtype)

    def out_numel(self, index: int = 0) -> int:
        return _numel(_shape(self.results[index]))


def _unranked_like(value) -> list[TensorType]:
    return [TensorType(None, value.type.element)]


# =========================================================================== activations

def _sigmoid(x):
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
    "sigmoid": lambda x, a, b: _sigmoid(x),
    "hard_sigmoid": lambda x, a, b: np.clip(a * x + b, 0, 1),
    "tanh": lambda x, a, b: np.tanh(x),
    "scaled_tanh": lambda x, a, b: a * np.tanh(b * x),
    "gelu": lambda x, a, b: 0.5 * x * (1 + erf(x / math.sqrt(2))),
    "gelu_tanh": lambda x, a, b: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3))),
    "gelu_sigmoid": lambda x, a, b: x * _sigmoid(1.702 * x),
    "silu": lambda x, a, b: x * _sigmoid(x),
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


def _check_activation(act: str):
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
    cls = op_def(f"core.{name}")(type(_class_name(name), (ActivationOp,), body))
    globals()[cls.__name__] = cls
    return cls


def _class_name(name: str) -> str:
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
        x, s = _shape(self.input), _shape(self.slope)
        if x is not None and s is not None:
            if len(s) != 1 or len(x) < 2 or (s[0] not in (1, x[1]) and None not in (s[0], x[1])):
                raise VerifyError(f"slope shape {_fmt(s)} must be [C] or [1] for input {_fmt(x)}")
        return [self.input.type]

    def reference(self, x, slope):
        s = _f32(slope).reshape((1, -1) + (1,) * (x.ndim - 2))
        return self.out(np.where(x >= 0, x, s * _f32(x)))

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
    cls = op_def(f"core.{name}")(type(_class_name(name), (UnaryOp,), body))
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
    cls = op_def(f"core.{name}")(type(_class_name(name), (BinaryOp,), body))
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
        shapes = [_shape(v) for v in (self.cond, self.a, self.b)]
        if any(s is None for s in shapes):
            return _unranked_like(self.a)
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

def _pair(v, what: str) -> tuple[int, int]:
    v = tuple(v)
    if len(v) != 2:
        raise VerifyError(f"{what} must have 2 values, got {len(v)}")
    return v


def conv_output_size(size, kernel, stride, dilation, pad_before, pad_after):
    if size is None:
        return None
    extent = size + pad_before + pad_after - dilation * (kernel - 1) - 1
    if extent < 0:
        raise VerifyError(f"kernel {kernel} (dilation {dilation}) is larger than the padded input {size}")
    return extent // stride + 1


class FusedEpilogueMixin:
    """The epilogue conv2d and linear share: `act(y + bias + residual)` (residual before act)."""

    activation = attribute("str", default="none")
    alpha = attribute("float", default=0.0)
    beta = attribute("float", default=0.0)

    def epilogue(self, y, bias, residual, channel_axis):
        if bias is not None:
            shape = [1] * y.ndim
            shape[channel_axis] = -1
            y = y + _f32(bias).reshape(shape)
        if residual is not None:
            y = y + _f32(residual)
        return apply_activation(y, self.activation, float(self.alpha), float(self.beta))

    def check_epilogue(self, out_shape, channels):
        _check_activation(self.activation)
        if self.bias is not None and _shape(self.bias) is not None and channels is not None \
                and tuple(_shape(self.bias)) != (channels,):
            raise VerifyError(f"bias must have shape [{channels}], got {_fmt(_shape(self.bias))}")
        if self.residual is not None and _shape(self.residual) is not None and out_shape is not None:
            if not types_compatible(TensorType(out_shape, F32), TensorType(_shape(self.residual), F32)):
                raise VerifyError(f"residual shape {_fmt(_shape(self.residual))} differs from the "
                                  f"result shape {_fmt(out_shape)}")


def conv2d_reference(x, w, strides=(1, 1), dilations=(1, 1), pads=(0, 0, 0, 0), groups=1) -> np.ndarray:
    """NCHW cross-correlation in float32: im2col through sliding windows, one sgemm per group
    (for depthwise, a multiply-reduce over the window)."""
    x, w = _f32(x), _f32(w)
    pt, pb, pl, pr = pads
    sh, sw = strides
    dh, dw = dilations
    x = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    n, c, _, _ = x.shape
    cout, cg, kh, kw = w.shape
    win = sliding_window_view(x, ((kh - 1) * dh + 1, (kw - 1) * dw + 1), axis=(2, 3))
    win = win[:, :, ::sh, ::sw, ::dh, ::dw]  # N C OH OW KH KW
    oh, ow = win.shape[2], win.shape[3]
    og = cout // groups
    if cg == 1 and og == 1:  # depthwise
        return np.einsum("nchwij,cij->nchw", win, w[:, 0], optimize=False).astype(np.float32, copy=False)
    out = np.empty((n, cout, oh, ow), np.float32)
    for g in range(groups):
        cols = win[:, g * cg:(g + 1) * cg].transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, cg * kh * kw)
        y = cols @ w[g * og:(g + 1) * og].reshape(og, cg * kh * kw).T  # [N*OH*OW, og]
        out[:, g * og:(g + 1) * og] = y.reshape(n, oh, ow, og).transpose(0, 3, 1, 2)
    return out


@op_def("core.conv2d")
class Conv2dOp(FusedEpilogueMixin, CoreOp):
    """NCHW convolution: input [N, C, H, W], weight [Cout, C/groups, KH, KW], optional bias [Cout]
    and residual (shaped like the result); `pads` = (top, bottom, left, right)."""

    input = operand(AnyTensor)
    weight = operand(AnyTensor)
    bias = operand(AnyTensor, optional=True)
    residual = operand(AnyTensor, optional=True)
    output = result(AnyTensor)
    strides = attribute("ints", default=(1, 1))
    dilations = attribute("ints", default=(1, 1))
    pads = attribute("ints", default=(0, 0, 0, 0))
    groups = attribute("int", default=1)

    def infer_types(self):
        x, w = _shape(self.input), _shape(self.weight)
        sh, sw = _pair(self.strides, "strides")
        dh, dw = _pair(self.dilations, "dilations")
        if len(self.pads) != 4 or min(self.pads) < 0:
            raise VerifyError(f"pads must be 4 non-negative values (top, bottom, left, right), got {list(self.pads)}")
        if min(sh, sw, dh, dw) < 1 or self.groups < 1:
            raise VerifyError("strides, dilations and groups must be positive")
        if x is None or w is None:
            return _unranked_like(self.input)
        if len(x) != 4 or len(w) != 4:
            raise VerifyError(f"expects rank-4 input and weight, got {_fmt(x)} and {_fmt(w)}")
        cout, cg, kh, kw = w
        if cout % self.groups or (x[1] is not None and x[1] != cg * self.groups):
            raise VerifyError(f"input has {x[1]} channels but the weight {_fmt(w)} with groups={self.groups} "
                              f"expects {cg * self.groups}")
        pt, pb, pl, pr = self.pads
        oh = conv_output_size(x[2], kh, sh, dh, pt, pb)
        ow = conv_output_size(x[3], kw, sw, dw, pl, pr)
        shape = _check_size((x[0], cout, oh, ow))
        self.check_epilogue(shape, cout)
        return [TensorType(shape, self.input.type.element)]

    def reference(self, *arrays):
        a = self.arrays_by_name(arrays)
        y = conv2d_reference(a["input"], a["weight"], self.strides, self.dilations, self.pads, self.groups)
        return self.out(self.epilogue(y, a["bias"], a["residual"], 1))

    def flops(self):
        cout, cg, kh, kw = _shape(self.weight)
        return 2 * self.out_numel() * cg * kh * kw


@op_def("core.conv_transpose2d")
class ConvTranspose2dOp(CoreOp):
    """Transposed NCHW convolution (PyTorch semantics): weight [C, Cout/groups, KH, KW];
    result size (H-1)*stride - pad_t - pad_b + dilation*(KH-1) + 1 + output_padding."""

    input = operand(AnyTensor)
    weight = operand(AnyTensor)
    bias = operand(AnyTensor, optional=True)
    output = result(AnyTensor)
    strides = attribute("ints", default=(1, 1))
    dilations = attribute("ints", default=(1, 1))
    pads = attribute("ints", default=(0, 0, 0, 0))
    output_padding = attribute("ints", default=(0, 0))
    groups = attribute("int", default=1)

    def infer_types(self):
        x, w = _shape(self.input), _shape(self.weight)
        sh, sw = _pair(self.strides, "strides")
        dh, dw = _pair(self.dilations, "dilations")
        oph, opw = _pair(self.output_padding, "output_padding")
        if len(self.pads) != 4 or min(self.pads) < 0 or min(sh, sw, dh, dw, self.groups) < 1 or min(oph, opw) < 0:
            raise VerifyError("invalid pads/strides/dilations/groups/output_padding")
        if x is None or w is None:
            return _unranked_like(self.input)
        if len(x) != 4 or len(w) != 4 or (x[1] is not None and x[1] != w[0]) or w[0] % self.groups:
            raise VerifyError(f"input {_fmt(x)} does not fit weight {_fmt(w)} with groups={self.groups}")
        cout = w[1] * self.groups
        pt, pb, pl, pr = self.pads

        def size(n, k, s, d, p0, p1, op):
            return None if n is None else (n - 1) * s - p0 - p1 + d * (k - 1) + 1 + op

        shape = _check_size((x[0], cout, size(x[2], w[2], sh, dh, pt, pb, oph), size(x[3], w[3], sw, dw, pl, pr, opw)))
        if any(d is not None and d <= 0 for d in shape[2:]):
            raise VerifyError(f"padding leaves an empty result {_fmt(shape)}")
        if self.bias is not None and _shape(self.bias) not in (None, (cout,)):
            raise VerifyError(f"bias must have shape [{cout}]")
        return [TensorType(shape, self.input.type.element)]

    def reference(self, *arrays):
        a = self.arrays_by_name(arrays)
        x, w = _f32(a["input"]), _f32(a["weight"])
        n, c, h, wd = x.shape
        _, og, kh, kw = w.shape
        g = self.groups
        cg = c // g
        sh, sw = self.strides
        dh, dw = self.dilations
        oph, opw = self.output_padding
        full = np.zeros((n, og * g, (h - 1) * sh + dh * (kh - 1) + 1 + oph, (wd - 1) * sw + dw * (kw - 1) + 1 + opw),
                        np.float32)
        for gi in range(g):
            y = np.einsum("nchw,coij->noijhw", x[:, gi * cg:(gi + 1) * cg], w[gi * cg:(gi + 1) * cg], optimize=True)
            for i in range(kh):
                for j in range(kw):
                    full[:, gi * og:(gi + 1) * og, i * dh:i * dh + (h - 1) * sh + 1:sh,
                         j * dw:j * dw + (wd - 1) * sw + 1:sw] += y[:, :, i, j]
        pt, pb, pl, pr = self.pads
        y = full[:, :, pt:full.shape[2] - pb, pl:full.shape[3] - pr]
        if a["bias"] is not None:
            y = y + _f32(a["bias"]).reshape(1, -1, 1, 1)
        return self.out(y)

    def flops(self):
        c, og, kh, kw = _shape(self.weight)
        return 2 * _numel(_shape(self.input)) * og * kh * kw


@op_def("core.linear")
class LinearOp(FusedEpilogueMixin, CoreOp):
    """`act(x @ weight^T + bias + residual)`: x [..., K], weight [N, K], bias [N]."""

    input = operand(AnyTensor)
    weight = operand(AnyTensor)
    bias = operand(AnyTensor, optional=True)
    residual = operand(AnyTensor, optional=True)
    output = result(AnyTensor)

    def infer_types(self):
        x, w = _shape(self.input), _shape(self.weight)
        if w is not None and len(w) != 2:
            raise VerifyError(f"weight must be [N, K], got {_fmt(w)}")
        if x is None or w is None:
            return _unranked_like(self.input)
        if not x or (x[-1] is not None and x[-1] != w[1]):
            raise VerifyError(f"input {_fmt(x)} does not end in K={w[1]} of weight {_fmt(w)}")
        shape = tuple(x[:-1]) + (w[0],)
        self.check_epilogue(shape, w[0])
        return [TensorType(shape, self.input.type.element)]

    def reference(self, *arrays):
        a = self.arrays_by_name(arrays)
        y = _f32(a["input"]) @ _f32(a["weight"]).T
        return self.out(self.epilogue(y, a["bias"], a["residual"], -1))

    def flops(self):
        return 2 * self.out_numel() * _shape(self.weight)[1]


@op_def("core.matmul")
class MatmulOp(CoreOp):
    """numpy matmul with optional transposes of the last two axes; batch dims broadcast
    (this is also the batched matmul)."""

    a = operand(AnyTensor)
    b = operand(AnyTensor)
    output = result(AnyTensor)
    transpose_a = attribute("bool", default=False)
    transpose_b = attribute("bool", default=False)

    def _operand_shapes(self):
        a, b = _shape(self.a), _shape(self.b)
        if a is None or b is None:
            return None, None
        if len(a) < 1 or len(b) < 1:
            raise VerifyError("matmul operands must have rank >= 1")
        if self.transpose_a and len(a) >= 2:
            a = a[:-2] + (a[-1], a[-2])
        if self.transpose_b and len(b) >= 2:
            b = b[:-2] + (b[-1], b[-2])
        return a, b

    def infer_types(self):
        if self.a.type.element != self.b.type.element:
            raise VerifyError("operand element types differ")
        a, b = self._operand_shapes()
        if a is None:
            return _unranked_like(self.a)
        a2 = a if len(a) >= 2 else (1,) + a
        b2 = b if len(b) >= 2 else b + (1,)
        if None not in (a2[-1], b2[-2]) and a2[-1] != b2[-2]:
            raise VerifyError(f"contraction sizes differ: {_fmt(a)} @ {_fmt(b)}")
        shape = broadcast_shapes(a2[:-2], b2[:-2]) + (a2[-2], b2[-1])
        if len(a) == 1:
            shape = shape[:-2] + shape[-1:]
        if len(b) == 1:
            shape = shape[:-1]
        return [TensorType(_check_size(shape), self.a.type.element)]

    def reference(self, a, b):
        a, b = _f32(a), _f32(b)
        if self.transpose_a and a.ndim >= 2:
            a = np.swapaxes(a, -1, -2)
        if self.transpose_b and b.ndim >= 2:
            b = np.swapaxes(b, -1, -2)
        return self.out(np.matmul(a, b))

    def flops(self):
        a, _ = self._operand_shapes()
        return 2 * self.out_numel() * (a[-1] or 0)


@op_def("core.batch_matmul")
class BatchMatmulOp(MatmulOp):
    """`matmul` whose operands are both batched (rank >= 3); batch dims broadcast."""

    def infer_types(self):
        for v in (self.a, self.b):
            if _shape(v) is not None and len(_shape(v)) < 3:
                raise VerifyError(f"batch_matmul operands must have rank >= 3, got {v.type}")
        return super().infer_types()


# =========================================================================== pooling

def pool_output_size(size, kernel, stride, pad_before, pad_after, ceil_mode):
    """Output length of a pooling window sweep; in ceil mode the last window must start inside
    the input or the leading padding (PyTorch's rule, the kernels' rule)."""
    if size is None:
        return None
    extent = size + pad_before + pad_after - kernel
    if extent < 0:
        raise VerifyError(f"pooling window {kernel} is larger than the padded input {size}")
    if not ceil_mode:
        return extent // stride + 1
    out = -(-extent // stride) + 1
    if (out - 1) * stride >= size + pad_before:
        out -= 1
    return out


@op_def("core.pool2d")
class Pool2dOp(CoreOp):
    """Max or average pooling over NCHW; padding cells never win a max; average divides by
    the in-image cell count (`exclude_padding`) or by the window clipped to the padded extent."""

    input = operand(AnyTensor)
    output = result(AnyTensor)
    kind = attribute("str", default="max")
    kernel = attribute("ints")
    strides = attribute("ints", default=(1, 1))
    pads = attribute("ints", default=(0, 0, 0, 0))
    exclude_padding = attribute("bool", default=True)
    ceil_mode = attribute("bool", default=False)

    def infer_types(self):
        if self.kind not in ("max", "avg"):
            raise VerifyError(f"kind must be 'max' or 'avg', got '{self.kind}'")
        kh, kw = _pair(self.kernel, "kernel")
        sh, sw = _pair(self.strides, "strides")
        if len(self.pads) != 4 or min(self.pads) < 0 or min(kh, kw, sh, sw) < 1:
            raise VerifyError("invalid kernel/strides/pads")
        x = _shape(self.input)
        if x is None:
            return _unranked_like(self.input)
        if len(x) != 4:
            raise VerifyError(f"expects an NCHW input, got {_fmt(x)}")
        pt, pb, pl, pr = self.pads
        shape = (x[0], x[1], pool_output_size(x[2], kh, sh, pt, pb, self.ceil_mode),
                 pool_output_size(x[3], kw, sw, pl, pr, self.ceil_mode))
        return [TensorType(shape, self.input.type.element)]

    def reference(self, x):
        x = _f32(x)
        (kh, kw), (sh, sw), (pt, pb, pl, pr) = self.kernel, self.strides, self.pads
        n, c, h, w = x.shape
        oh = pool_output_size(h, kh, sh, pt, pb, self.ceil_mode)
        ow = pool_output_size(w, kw, sw, pl, pr, self.ceil_mode)
        # windows past the padded extent (ceil mode) read extra cells that count for nothing
        eb = max(0, (oh - 1) * sh + kh - (h + pt + pb))
        er = max(0, (ow - 1) * sw + kw - (w + pl + pr))
        pad = ((0, 0), (0, 0), (pt, pb + eb), (pl, pr + er))

        def windows(a):
            return sliding_window_view(a, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw][:, :, :oh, :ow]

        if self.kind == "max":
            return self.out(windows(np.pad(x, pad, constant_values=-np.inf)).max(axis=(4, 5)))
        total = windows(np.pad(x.astype(np.float64), pad)).sum(axis=(4, 5))
        inside = np.zeros((1, 1, h + pt + pb + eb, w + pl + pr + er))
        if self.exclude_padding:
            inside[:, :, pt:pt + h, pl:pl + w] = 1
        else:
            inside[:, :, :h + pt + pb, :w + pl + pr] = 1
        count = windows(inside).sum(axis=(4, 5))
        return self.out(total / np.maximum(count, 1))

    def flops(self):
        kh, kw = self.kernel
        return self.out_numel() * kh * kw


@op_def("core.global_pool")
class GlobalPoolOp(CoreOp):
    """[N, C, H, W] -> [N, C, 1, 1] mean or max."""

    input = operand(AnyTensor)
    output = result(AnyTensor)
    kind = attribute("str", default="avg")

    def infer_types(self):
        if self.kind not in ("max", "avg"):
            raise VerifyError(f"kind must be 'max' or 'avg', got '{self.kind}'")
        x = _shape(self.input)
        if x is None:
            return _unranked_like(self.input)
        if len(x) != 4:
            raise VerifyError(f"expects an NCHW input, got {_fmt(x)}")
        return [TensorType((x[0], x[1], 1, 1), self.input.type.element)]

    def reference(self, x):
        x = _f32(x)
        reduce = np.max if self.kind == "max" else np.mean
        return self.out(reduce(x.astype(np.float64), axis=(2, 3), keepdims=True))

    def flops(self):
        return _numel(_shape(self.input))


# =========================================================================== normalization

class AxisOp(CoreOp):
    input = operand(AnyTensor)
    output = result(AnyTensor)
    axis = attribute("int", default=-1)

    def infer_types(self):
        x = _shape(self.input)
        if x is not None:
            _norm_axis(self.axis, len(x))
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


def _broadcast_param(p, rank, axes):
    """A parameter shaped like the normalized `axes` of a rank-`rank` input, ready to broadcast."""
    shape = [1] * rank
    p = _f32(p)
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
        x = _shape(self.input)
        if x is not None:
            axes = _norm_axes(self.axes, len(x))
            want = tuple(x[a] for a in axes)
            for p in (self.gamma, self.beta):
                if p is not None and _shape(p) is not None and _numel(_shape(p)) not in (1, _numel(want)) \
                        and None not in want:
                    raise VerifyError(f"gamma/beta shape {_fmt(_shape(p))} does not fit the normalized axes {_fmt(want)}")
        return [self.input.type]

    def reference(self, *arrays):
        a = self.arrays_by_name(arrays)
        x = np.asarray(a["input"], dtype=np.float64)
        axes = _norm_axes(self.axes, x.ndim)
        mean = x.mean(axis=axes, keepdims=True)
        var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
        y = (x - mean) / np.sqrt(var + self.eps)
        if a["gamma"] is not None:
            y = y * _broadcast_param(a["gamma"], x.ndim, axes)
        if a["beta"] is not None:
            y = y + _broadcast_param(a["beta"], x.ndim, axes)
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
        x = _shape(self.input)
        if x is not None:
            if len(x) < 2:
                raise VerifyError("batch_norm needs rank >= 2 (channels on axis 1)")
            for p in (self.mean, self.variance, self.gamma, self.beta):
                s = _shape(p)
                if s is not None and x[1] is not None and _numel(s) != x[1]:
                    raise VerifyError(f"parameter shape {_fmt(s)} does not have {x[1]} channels")
        return [self.input.type]

    def reference(self, x, mean, var, gamma, beta):
        x = np.asarray(x, dtype=np.float64)
        shape = (1, -1) + (1,) * (x.ndim - 2)
        scale = _f32(gamma).astype(np.float64) / np.sqrt(_f32(var).astype(np.float64) + self.eps)
        y = (x - _f32(mean).reshape(shape)) * scale.reshape(shape) + _f32(beta).reshape(shape)
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
        x = _shape(self.input)
        if x is not None and len(x) < 3:
            raise VerifyError("instance_norm needs rank >= 3 (N, C, spatial...)")
        return [self.input.type]

    def reference(self, x, gamma, beta):
        x = np.asarray(x, dtype=np.float64)
        axes = tuple(range(2, x.ndim))
        mean = x.mean(axis=axes, keepdims=True)
        var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
        shape = (1, -1) + (1,) * (x.ndim - 2)
        y = (x - mean) / np.sqrt(var + self.eps) * _f32(gamma).reshape(shape) + _f32(beta).reshape(shape)
        return self.out(y)

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
        x = _shape(self.input)
        if x is not None:
            _norm_axes(self.axes, len(x))
        return [self.input.type]

    def reference(self, x):
        x = np.asarray(x, dtype=np.float64)
        axes = _norm_axes(self.axes, x.ndim)
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
        x = _shape(self.input)
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
        x = _shape(self.input)
        if -1 in shape:
            n = _numel(x) if x is not None and None not in x else None
            known = int(np.prod([d for d in shape if d != -1], dtype=np.int64))
            if n is None:
                shape[shape.index(-1)] = None
            elif known == 0 or n % known:
                raise VerifyError(f"cannot reshape {_fmt(x)} to {list(self.shape)}")
            else:
                shape[shape.index(-1)] = n // known
        return tuple(shape)

    def infer_types(self):
        shape = self.target_shape()
        x = _shape(self.input)
        if x is not None and None not in x and None not in shape and _numel(x) != _numel(shape):
            raise VerifyError(f"cannot reshape {_fmt(x)} ({_numel(x)} elements) to {_fmt(shape)}")
        return [TensorType(shape, self.input.type.element)]

    def reference(self, x):
        return np.reshape(x, self.output.type.shape if self.output.type.is_static else self.shape)

    def fold(self):
        if self.input.type == self.output.type and self.output.type.is_static:
            return [self.input]
        return None


def _reshape_patterns():
    from mlir_coreml.passes.rewriter import PatternRewriter, RewritePattern

    class FoldReshapeOfReshape(RewritePattern):
        root = "core.reshape"

        def match_and_rewrite(self, op, rewriter: PatternRewriter) -> bool:
            inner = getattr(op.input, "op", None)
            if not isinstance(inner, ReshapeOp) or not op.output.type.is_static:
                return False
            new = build(ReshapeOp, [inner.input], [op.output.type], {"shape": list(op.output.type.shape)},
                        location=op.location)
            rewriter.replace_op(op, new)
            return True

    return FoldReshapeOfReshape


@op_def("core.transpose")
class TransposeOp(CoreOp):
    input = operand(AnyTensor)
    output = result(AnyTensor)
    perm = attribute("ints")
    view_like = True

    def infer_types(self):
        x = _shape(self.input)
        perm = tuple(self.perm)
        if sorted(perm) != list(range(len(perm))):
            raise VerifyError(f"perm {list(perm)} is not a permutation")
        if x is None:
            return _unranked_like(self.input)
        if len(perm) != len(x):
            raise VerifyError(f"perm {list(perm)} does not fit rank {len(x)}")
        return [TensorType(tuple(x[p] for p in perm), self.input.type.element)]

    def reference(self, x):
        return np.transpose(x, self.perm)

    def fold(self):
        if tuple(self.perm) == tuple(range(len(self.perm))):
            return [self.input]
        return None


def _transpose_patterns():
    from mlir_coreml.passes.rewriter import PatternRewriter, RewritePattern

    class FoldTransposeOfTranspose(RewritePattern):
        root = "core.transpose"

        def match_and_rewrite(self, op, rewriter: PatternRewriter) -> bool:
            inner = getattr(op.input, "op", None)
            if not isinstance(inner, TransposeOp):
                return False
            perm = [inner.perm[p] for p in op.perm]
            new = build(TransposeOp, [inner.input], [op.output.type], {"perm": perm}, location=op.location)
            rewriter.replace_op(op, new)
            return True

    return FoldTransposeOfTranspose


@op_def("core.broadcast_to")
class BroadcastToOp(CoreOp):
    """numpy broadcasting of `input` to the static `shape` (a read-only view)."""

    input = operand(AnyTensor)
    output = result(AnyTensor)
    shape = attribute("ints")
    view_like = True

    def infer_types(self):
        x = _shape(self.input)
        shape = tuple(self.shape)
        if x is not None and (len(x) > len(shape) or any(
                d not in (1, None, s) for d, s in zip(x[::-1], shape[::-1]))):
            raise VerifyError(f"cannot broadcast {_fmt(x)} to {_fmt(shape)}")
        return [TensorType(_check_size(shape), self.input.type.element)]

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
        shapes = [_shape(v) for v in self.inputs]
        element = self.inputs[0].type.element
        if any(v.type.element != element for v in self.inputs):
            raise VerifyError("inputs have different element types")
        if any(s is None for s in shapes):
            return [TensorType(None, element)]
        rank = len(shapes[0])
        axis = _norm_axis(self.axis, rank)
        out = list(shapes[0])
        for s in shapes[1:]:
            if len(s) != rank or any(i != axis and None not in (a, b) and a != b
                                     for i, (a, b) in enumerate(zip(s, out))):
                raise VerifyError(f"input shapes {', '.join(_fmt(s) for s in shapes)} differ off axis {self.axis}")
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
        x = _shape(self.input)
        if any(s < 0 for s in self.sizes) or not self.sizes:
            raise VerifyError("sizes must be non-negative and not empty")
        if x is None:
            return [TensorType(None, self.input.type.element)] * len(self.sizes)
        axis = _norm_axis(self.axis, len(x))
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
        x = _shape(self.input)
        if x is None:
            return _unranked_like(self.input)
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
        x = _shape(self.input)
        if x is None:
            return _unranked_like(self.input)
        if len(self.pads) != 2 * len(x) or min(self.pads, default=0) < 0:
            raise VerifyError(f"pads need 2 non-negative values per axis ({2 * len(x)}), got {len(self.pads)}")
        shape = []
        for i, d in enumerate(x):
            before, after = self.pads[2 * i], self.pads[2 * i + 1]
            if self.mode == "reflect" and d is not None and (before >= d or after >= d) and (before or after):
                raise VerifyError(f"reflect padding {before}/{after} needs axis {i} longer than {max(before, after)}")
            shape.append(None if d is None else d + before + after)
        return [TensorType(_check_size(shape), self.input.type.element)]

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
        x = _shape(self.input)
        if x is None:
            return _unranked_like(self.input)
        if len(self.reps) != len(x) or min(self.reps, default=1) < 0:
            raise VerifyError(f"reps need one non-negative value per axis ({len(x)})")
        return [TensorType(_check_size([None if d is None else d * r for d, r in zip(x, self.reps)]),
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
        d, i = _shape(self.data), _shape(self.indices)
        if d is None or i is None:
            return _unranked_like(self.data)
        axis = _norm_axis(self.axis, len(d))
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
        d, i = _shape(self.data), _shape(self.indices)
        if d is None or i is None or i[-1] is None:
            return _unranked_like(self.data)
        if not i or i[-1] > len(d):
            raise VerifyError(f"indices {_fmt(i)} index more axes than data {_fmt(d)} has")
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


UPSAMPLE_COORDINATES = ("asymmetric", "align_corners", "half_pixel")


def _source_coordinates(out_size, in_size, mode, scale):
    """Where each output index samples the input (float)."""
    dst = np.arange(out_size, dtype=np.float64)
    ratio = (1.0 / scale) if scale else in_size / out_size
    if mode == "align_corners":
        return dst * ((in_size - 1) / (out_size - 1)) if out_size > 1 else np.zeros(out_size)
    if mode == "half_pixel":
        return (dst + 0.5) * ratio - 0.5
    return dst * ratio


@op_def("core.upsample")
class UpsampleOp(CoreOp):
    """Resize the two last axes (NCHW) to `size`. `mode`: nearest | bilinear; `coordinates`:
    asymmetric (src = dst * in/out), align_corners, half_pixel; `scales` (optional) replaces
    in/out by 1/scale as Core ML's scale-factor upsampling does."""

    input = operand(AnyTensor)
    output = result(AnyTensor)
    size = attribute("ints")
    mode = attribute("str", default="nearest")
    coordinates = attribute("str", default="asymmetric")
    scales = attribute("floats", default=())

    def infer_types(self):
        if self.mode not in ("nearest", "bilinear"):
            raise VerifyError(f"mode must be nearest or bilinear, got '{self.mode}'")
        if self.coordinates not in UPSAMPLE_COORDINATES:
            raise VerifyError(f"coordinates must be one of {', '.join(UPSAMPLE_COORDINATES)}")
        oh, ow = _pair(self.size, "size")
        if min(oh, ow) < 1 or len(self.scales) not in (0, 2):
            raise VerifyError("size must be positive and scales empty or 2 values")
        x = _shape(self.input)
        if x is None:
            return _unranked_like(self.input)
        if len(x) < 2:
            raise VerifyError("upsample needs rank >= 2")
        return [TensorType(_check_size(tuple(x[:-2]) + (oh, ow)), self.input.type.element)]

    def reference(self, x):
        x = np.asarray(x, dtype=np.float64)
        scales = tuple(self.scales) or (None, None)
        for axis, out_size, scale in ((-2, self.size[0], scales[0]), (-1, self.size[1], scales[1])):
            x = self._resample(x, axis, out_size, scale)
        return self.out(x)

    def _resample(self, x, axis, out_size, scale):
        n = x.shape[axis]
        src = _source_coordinates(out_size, n, self.coordinates, scale)
        if self.mode == "nearest":
            idx = np.floor(src + (0.5 if self.coordinates == "align_corners" else 0.0)).astype(np.int64)
            return np.take(x, np.clip(idx, 0, n - 1), axis=axis)
        src = np.clip(src, 0, n - 1)
        lo = np.floor(src).astype(np.int64)
        hi = np.minimum(lo + 1, n - 1)
        frac = (src - lo).reshape((-1,) + (1,) * (-axis - 1))
        return np.take(x, lo, axis=axis) * (1 - frac) + np.take(x, hi, axis=axis) * frac

    def flops(self):
        return (1 if self.mode == "nearest" else 8) * self.out_numel()


# =========================================================================== reductions

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
        return _norm_axes(self.axes, rank) if self.axes else tuple(range(rank))

    def infer_types(self):
        if self.kind not in REDUCTIONS:
            raise VerifyError(f"kind must be one of {', '.join(REDUCTIONS)}, got '{self.kind}'")
        x = _shape(self.input)
        if x is None:
            return _unranked_like(self.input)
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
        return 2 * _numel(_shape(self.input))


class ArgReduceOp(CoreOp):
    input = operand(AnyTensor)
    output = result(AnyTensor)
    axis = attribute("int", default=-1)
    keepdims = attribute("bool", default=False)
    fn = staticmethod(np.argmax)

    def infer_types(self):
        x = _shape(self.input)
        if x is None:
            return [TensorType(None, I32)]
        axis = _norm_axis(self.axis, len(x))
        return [TensorType(_reduced_shape(x, (axis,), self.keepdims), I32)]

    def reference(self, x):
        return self.out(type(self).fn(np.asarray(x), axis=self.axis, keepdims=self.keepdims))

    def flops(self):
        return _numel(_shape(self.input))


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
        x = _shape(self.input)
        if self.k < 0:
            raise VerifyError("k must be non-negative")
        if x is None:
            return [TensorType(None, self.input.type.element), TensorType(None, I32)]
        axis = _norm_axis(self.axis, len(x))
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
        return _numel(_shape(self.input)) * max(1, int(math.log2(max(self.k, 2))))


@op_def("core.cumsum")
class CumsumOp(CoreOp):
    input = operand(AnyTensor)
    output = result(AnyTensor)
    axis = attribute("int", default=0)
    exclusive = attribute("bool", default=False)
    reverse = attribute("bool", default=False)

    def infer_types(self):
        x = _shape(self.input)
        if x is not None:
            _norm_axis(self.axis, len(x))
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
        i = _shape(self.indices)
        if i is None:
            return [TensorType(None, F32)]
        axis = _norm_axis(self.axis, len(i) + 1)
        return [TensorType(_check_size(i[:axis] + (self.depth,) + i[axis:]), F32)]

    def reference(self, indices):
        idx = np.asarray(indices).astype(np.int64)
        idx = np.where(idx < 0, idx + self.depth, idx)
        hot = idx[..., None] == np.arange(self.depth)
        y = np.where(hot, self.on_value, self.off_value)
        axis = _norm_axis(self.axis, idx.ndim + 1)
        return self.out(np.moveaxis(y, -1, axis))


@op_def("core.shape")
class ShapeOp(CoreOp):
    """The shape of `input` as a 1-D i32 tensor."""

    input = operand(AnyTensor)
    output = result(AnyTensor)

    def infer_types(self):
        x = _shape(self.input)
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
        return [TensorType(_check_size(tuple(self.shape)), ELEMENT_TYPES[self.dtype])]

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
        return [TensorType(_check_size((max(0, int(math.ceil((end - start) / step))),)), element)]

    def reference(self, start, end, step):
        s, e, d = (np.asarray(v).reshape(-1)[0] for v in (start, end, step))
        if d == 0:
            raise ValueError("range step is 0")
        return self.out(np.arange(s, e, d))


# =========================================================================== recurrent

RNN_DIRECTIONS = ("forward", "reverse", "bidirectional")


class RecurrentOp(CoreOp):
    """Whole-sequence recurrence over x [T, B, I]; weights w_ih [D, G*H, I], w_hh [D, G*H, H],
    biases [D, G*H], initial states [D, B, H] (zeros when absent). y is [T, B, D*H] (directions
    concatenated), the final states [D, B, H]."""

    input = operand(AnyTensor)
    w_ih = operand(AnyTensor)
    w_hh = operand(AnyTensor)
    b_ih = operand(AnyTensor, optional=True)
    b_hh = operand(AnyTensor, optional=True)
    h0 = operand(AnyTensor, optional=True)
    direction = attribute("str", default="forward")
    gates = 1
    has_cell = False

    def _dims(self):
        if self.direction not in RNN_DIRECTIONS:
            raise VerifyError(f"direction must be one of {', '.join(RNN_DIRECTIONS)}")
        x, wih, whh = _shape(self.input), _shape(self.w_ih), _shape(self.w_hh)
        d = 2 if self.direction == "bidirectional" else 1
        if wih is None or whh is None or len(wih) != 3 or len(whh) != 3:
            raise VerifyError("w_ih and w_hh must be rank 3 [directions, gates*hidden, ...]")
        hidden = whh[2]
        if wih[0] != d or whh[0] != d or wih[1] != self.gates * hidden or whh[1] != self.gates * hidden:
            raise VerifyError(f"weights {_fmt(wih)} / {_fmt(whh)} do not fit {d} direction(s) of "
                              f"{self.gates} gate(s) x hidden {hidden}")
        if x is not None and (len(x) != 3 or (x[2] is not None and x[2] != wih[2])):
            raise VerifyError(f"input must be [T, B, {wih[2]}], got {_fmt(x)}")
        return x, d, hidden

    def infer_types(self):
        x, d, hidden = self._dims()
        element = self.input.type.element
        if x is None:
            y, state = TensorType(None, element), TensorType(None, element)
        else:
            y, state = TensorType((x[0], x[1], d * hidden), element), TensorType((d, x[1], hidden), element)
        return [y, state] + ([state] if self.has_cell else [])

    def cell(self, x_proj, h, c, w_hh, b_hh):
        raise NotImplementedError

    def reference(self, *arrays):
        a = self.arrays_by_name(arrays)
        x = np.asarray(a["input"], dtype=np.float64)
        t, b, _ = x.shape
        d = 2 if self.direction == "bidirectional" else 1
        hidden = np.shape(a["w_hh"])[2]
        g = self.gates * hidden
        ys, hs, cs = [], [], []
        for k in range(d):
            w_ih = np.asarray(a["w_ih"], dtype=np.float64)[k]
            w_hh = np.asarray(a["w_hh"], dtype=np.float64)[k]
            b_ih = np.zeros(g) if a["b_ih"] is None else np.asarray(a["b_ih"], dtype=np.float64)[k]
            b_hh = np.zeros(g) if a["b_hh"] is None else np.asarray(a["b_hh"], dtype=np.float64)[k]
            h = np.zeros((b, hidden)) if a["h0"] is None else np.asarray(a["h0"], dtype=np.float64)[k]
            c = np.zeros((b, hidden)) if a.get("c0") is None else np.asarray(a["c0"], dtype=np.float64)[k]
            reverse = self.direction == "reverse" or k == 1
            steps = range(t - 1, -1, -1) if reverse else range(t)
            y = np.zeros((t, b, hidden))
            projected = x @ w_ih.T + b_ih
            for s in steps:
                h, c = self.cell(projected[s], h, c, w_hh, b_hh)
                y[s] = h
            ys.append(y)
            hs.append(h)
            cs.append(c)
        outs = [self.out(np.concatenate(ys, axis=2), 0), self.out(np.stack(hs), 1)]
        if self.has_cell:
            outs.append(self.out(np.stack(cs), 2))
        return tuple(outs)

    def flops(self):
        x = _shape(self.input)
        wih, whh = _shape(self.w_ih), _shape(self.w_hh)
        return 2 * x[0] * x[1] * wih[0] * wih[1] * (wih[2] + whh[2]) + 10 * self.out_numel()


@op_def("core.rnn")
class RnnOp(RecurrentOp):
    """h' = act(W_ih x + b_ih + W_hh h + b_hh), act = tanh | relu."""

    output = result(AnyTensor)
    h_n = result(AnyTensor)
    activation = attribute("str", default="tanh")

    def infer_types(self):
        if self.activation not in ("tanh", "relu"):
            raise VerifyError("activation must be tanh or relu")
        return super().infer_types()

    def cell(self, xp, h, c, w_hh, b_hh):
        z = xp + h @ w_hh.T + b_hh
        return (np.tanh(z) if self.activation == "tanh" else np.maximum(z, 0)), c


@op_def("core.gru")
class GruOp(RecurrentOp):
    """PyTorch GRU: gates (r, z, n); n = tanh(W_in x + b_in + r * (W_hn h + b_hn))."""

    output = result(AnyTensor)
    h_n = result(AnyTensor)
    gates = 3

    def cell(self, xp, h, c, w_hh, b_hh):
        hp = h @ w_hh.T + b_hh
        hidden = h.shape[1]
        r = _sigmoid(xp[:, :hidden] + hp[:, :hidden])
        z = _sigmoid(xp[:, hidden:2 * hidden] + hp[:, hidden:2 * hidden])
        n = np.tanh(xp[:, 2 * hidden:] + r * hp[:, 2 * hidden:])
        return (1 - z) * n + z * h, c


@op_def("core.lstm")
class LstmOp(RecurrentOp):
    """PyTorch LSTM: gates (i, f, g, o); c' = f*c + i*g, h' = o*tanh(c'); optional c0."""

    c0 = operand(AnyTensor, optional=True)
    output = result(AnyTensor)
    h_n = result(AnyTensor)
    c_n = result(AnyTensor)
    gates = 4
    has_cell = True

    def cell(self, xp, h, c, w_hh, b_hh):
        z = xp + h @ w_hh.T + b_hh
        hidden = h.shape[1]
        i, f = _sigmoid(z[:, :hidden]), _sigmoid(z[:, hidden:2 * hidden])
        g, o = np.tanh(z[:, 2 * hidden:3 * hidden]), _sigmoid(z[:, 3 * hidden:])
        c = f * c + i * g
        return o * np.tanh(c), c


# =========================================================================== canonicalization

class _LazyPatterns:
    """`canonicalization_patterns` built on first use, so the dialect does not import passes/."""

    def __init__(self, *factories):
        self.factories = factories
        self.patterns = None

    def __get__(self, op, owner=None):
        if self.patterns is None:
            self.patterns = tuple(f() for f in self.factories)
        return self.patterns


ReshapeOp.canonicalization_patterns = _LazyPatterns(_reshape_patterns)
TransposeOp.canonicalization_patterns = _LazyPatterns(_transpose_patterns)
