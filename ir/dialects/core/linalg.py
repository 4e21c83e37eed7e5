"""`core` convolutions, transposed convolution, linear and (batched) matmul."""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from mlir_coreml.ir.opdef import AnyTensor, VerifyError, attribute, op_def, operand, result
from mlir_coreml.ir.types import F16, F32, TensorType
from mlir_coreml.ir.dialects.core.base import CoreOp, as_f32, shape_of, unranked_like, types_compatible
from mlir_coreml.ir.shapes import broadcast_shapes, check_size, format_shape, num_elements, window_output_size
from mlir_coreml.ir.dialects.core.elementwise import (check_activation, apply_activation)


C_INT_MAX = (1 << 31) - 1  # the kernels take geometry as C ints


def c_ints(values, what: str) -> tuple[int, ...]:
    """`values` checked to fit the C int the kernels take: a model's stride of 2**32 is refused
    here, with the op named, rather than overflowing in a kernel wrapper."""
    values = tuple(values)
    if any(abs(v) > C_INT_MAX for v in values):
        raise VerifyError(f"{what} {list(values)} out of range (each must be below 2**31)")
    return values


def int_pair(v, what: str) -> tuple[int, int]:
    v = c_ints(v, what)
    if len(v) != 2:
        raise VerifyError(f"{what} must have 2 values, got {len(v)}")
    return v


class FusedEpilogueMixin:
    """The epilogue conv2d and linear share: `act(y + bias + residual)` (residual before act)."""

    activation = attribute("str", default="none")
    alpha = attribute("float", default=0.0)
    beta = attribute("float", default=0.0)

    def epilogue(self, y, bias, residual, channel_axis):
        if bias is not None:
            shape = [1] * y.ndim
            shape[channel_axis] = -1
            y = y + as_f32(bias).reshape(shape)
        if residual is not None:
            y = y + as_f32(residual)
        return apply_activation(y, self.activation, float(self.alpha), float(self.beta))

    def check_epilogue(self, out_shape, channels):
        check_activation(self.activation)
        if self.bias is not None and shape_of(self.bias) is not None and channels is not None \
                and tuple(shape_of(self.bias)) != (channels,):
            raise VerifyError(f"bias must have shape [{channels}], got {format_shape(shape_of(self.bias))}")
        if self.residual is not None and shape_of(self.residual) is not None and out_shape is not None:
            if not types_compatible(TensorType(out_shape, F32), TensorType(shape_of(self.residual), F32)):
                raise VerifyError(f"residual shape {format_shape(shape_of(self.residual))} differs from the "
                                  f"result shape {format_shape(out_shape)}")


class ConvWindowMixin:
    """The sliding window conv2d and depthwise_pointwise share: `strides` and `dilations` (H, W)
    and `pads` (top, bottom, left, right)."""

    strides = attribute("ints", default=(1, 1))
    dilations = attribute("ints", default=(1, 1))
    pads = attribute("ints", default=(0, 0, 0, 0))

    def check_window(self) -> None:
        sh, sw = int_pair(self.strides, "strides")
        dh, dw = int_pair(self.dilations, "dilations")
        if len(c_ints(self.pads, "pads")) != 4 or min(self.pads) < 0:
            raise VerifyError(f"pads must be 4 non-negative values (top, bottom, left, right), got {list(self.pads)}")
        if min(sh, sw, dh, dw) < 1:
            raise VerifyError("strides and dilations must be positive")

    def window_output_hw(self, h, w, kh, kw) -> tuple:
        """(OH, OW) of an H x W input under a KH x KW kernel (None where H or W is unknown)."""
        (sh, sw), (dh, dw), (pt, pb, pl, pr) = self.strides, self.dilations, self.pads
        return window_output_size(h, kh, sh, dh, pt, pb), window_output_size(w, kw, sw, dw, pl, pr)


def conv2d_reference(x, w, strides=(1, 1), dilations=(1, 1), pads=(0, 0, 0, 0), groups=1) -> np.ndarray:
    """NCHW cross-correlation in float32: im2col through sliding windows, one sgemm per group
    (for depthwise, a multiply-reduce over the window)."""
    x, w = as_f32(x), as_f32(w)
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


# How a conv2d is computed (passes/select_conv_algorithm.py chooses; the runtime follows):
# "auto" leaves it to the kernel's shape dispatch; "gemm" is the 1x1 stride-1 unpadded
# convolution as one GEMM on the input; "im2col" the implicit-im2col GEMM; "depthwise" the
# per-channel kernel; "winograd2" / "winograd4" Winograd F(2x2, 3x3) / F(4x4, 3x3).
CONV_ALGORITHMS = ("auto", "gemm", "im2col", "depthwise", "winograd2", "winograd4")
WINOGRAD_TILES = {"winograd2": 2, "winograd4": 4}


def conv_algorithms(weight_shape, strides, dilations, pads, groups) -> tuple[str, ...]:
    """The algorithms that compute a convolution of this geometry (besides "auto")."""
    cout, cg, kh, kw = weight_shape
    if groups > 1 and cg == 1 and groups == cout:
        return ("depthwise",)
    if (kh, kw) == (1, 1) and tuple(strides) == (1, 1) and not any(pads) and groups == 1:
        return ("gemm",)
    if (kh, kw) == (3, 3) and tuple(strides) == (1, 1) and tuple(dilations) == (1, 1) and groups == 1:
        return ("im2col", "winograd2", "winograd4")
    return ("im2col",)


def conv2d_result_shape(op, x, w) -> tuple | None:
    """The NCHW result shape of convolution `op` (a ConvWindowMixin with `groups` and an epilogue;
    all checked) for input shape `x` and weight shape `w`; None when either is unknown."""
    op.check_window()
    if not 1 <= op.groups <= C_INT_MAX:
        raise VerifyError(f"groups must be positive (and below 2**31), got {op.groups}")
    if x is None or w is None:
        return None
    if len(x) != 4 or len(w) != 4:
        raise VerifyError(f"expects rank-4 input and weight, got {format_shape(x)} and {format_shape(w)}")
    cout, cg, kh, kw = w
    if cout % op.groups or (x[1] is not None and x[1] != cg * op.groups):
        raise VerifyError(f"input has {x[1]} channels but the weight {format_shape(w)} with groups={op.groups} "
                          f"expects {cg * op.groups}")
    shape = check_size((x[0], cout, *op.window_output_hw(x[2], x[3], kh, kw)))
    op.check_epilogue(shape, cout)
    return shape


@op_def("core.conv2d")
class Conv2dOp(ConvWindowMixin, FusedEpilogueMixin, CoreOp):
    """NCHW convolution: input [N, C, H, W], weight [Cout, C/groups, KH, KW], optional bias [Cout]
    and residual (shaped like the result); `pads` = (top, bottom, left, right); `algorithm` one
    of CONV_ALGORITHMS that fits the geometry (the same result up to rounding)."""

    input = operand(AnyTensor)
    weight = operand(AnyTensor)
    bias = operand(AnyTensor, optional=True)
    residual = operand(AnyTensor, optional=True)
    output = result(AnyTensor)
    groups = attribute("int", default=1)
    algorithm = attribute("str", default="auto")

    def infer_types(self):
        if self.algorithm not in CONV_ALGORITHMS:
            raise VerifyError(f"unknown algorithm '{self.algorithm}'; expected one of {', '.join(CONV_ALGORITHMS)}")
        x, w = shape_of(self.input), shape_of(self.weight)
        shape = conv2d_result_shape(self, x, w)
        if shape is None:
            return unranked_like(self.input)
        if self.algorithm != "auto" and self.algorithm not in conv_algorithms(w, self.strides, self.dilations,
                                                                              self.pads, self.groups):
            raise VerifyError(f"algorithm '{self.algorithm}' does not compute a {w[2]}x{w[3]} convolution with "
                              f"strides {list(self.strides)}, dilations {list(self.dilations)}, groups {self.groups}")
        return [TensorType(shape, self.input.type.element)]

    def reference(self, *arrays):
        a = self.arrays_by_name(arrays)
        y = conv2d_reference(a["input"], a["weight"], self.strides, self.dilations, self.pads, self.groups)
        return self.out(self.epilogue(y, a["bias"], a["residual"], 1))

    def flops(self):
        cout, cg, kh, kw = shape_of(self.weight)
        return 2 * self.out_numel() * cg * kh * kw


@op_def("core.depthwise_pointwise")
class DepthwisePointwiseOp(ConvWindowMixin, FusedEpilogueMixin, CoreOp):
    """A depthwise convolution and the 1x1 convolution that reads it, as one op (MobileNet's
    blocks; passes/fuse_depthwise_pointwise.py forms it so the kernel keeps the depthwise result
    in cache): `act(pw_weight @ dw_act(depthwise(input) + dw_bias) + bias + residual)`.
    dw_weight [C, 1, KH, KW] with `strides`/`dilations`/`pads` and its own activation
    (`dw_activation`, `dw_alpha`, `dw_beta`); pw_weight [Cout, C, 1, 1] with the epilogue."""

    input = operand(AnyTensor)
    dw_weight = operand(AnyTensor)
    dw_bias = operand(AnyTensor, optional=True)
    pw_weight = operand(AnyTensor)
    bias = operand(AnyTensor, optional=True)
    residual = operand(AnyTensor, optional=True)
    output = result(AnyTensor)
    dw_activation = attribute("str", default="none")
    dw_alpha = attribute("float", default=0.0)
    dw_beta = attribute("float", default=0.0)

    def infer_types(self):
        x, dw, pw = shape_of(self.input), shape_of(self.dw_weight), shape_of(self.pw_weight)
        self.check_window()
        check_activation(self.dw_activation)
        if x is None or dw is None or pw is None:
            return unranked_like(self.input)
        if len(x) != 4 or len(dw) != 4 or dw[1] != 1 or (x[1] is not None and x[1] != dw[0]):
            raise VerifyError(f"dw_weight must be [C, 1, KH, KW] for input {format_shape(x)}, got {format_shape(dw)}")
        if len(pw) != 4 or tuple(pw[1:]) != (dw[0], 1, 1):
            raise VerifyError(f"pw_weight must be [Cout, {dw[0]}, 1, 1], got {format_shape(pw)}")
        if self.dw_bias is not None and shape_of(self.dw_bias) not in (None, (dw[0],)):
            raise VerifyError(f"dw_bias must have shape [{dw[0]}], got {format_shape(shape_of(self.dw_bias))}")
        shape = check_size((x[0], pw[0], *self.window_output_hw(x[2], x[3], dw[2], dw[3])))
        self.check_epilogue(shape, pw[0])
        return [TensorType(shape, self.input.type.element)]

    def reference(self, *arrays):
        a = self.arrays_by_name(arrays)
        channels = shape_of(self.dw_weight)[0]
        y = conv2d_reference(a["input"], a["dw_weight"], self.strides, self.dilations, self.pads, channels)
        if a["dw_bias"] is not None:
            y = y + as_f32(a["dw_bias"]).reshape(1, -1, 1, 1)
        y = apply_activation(y, self.dw_activation, float(self.dw_alpha), float(self.dw_beta)).astype(np.float32)
        y = conv2d_reference(y, a["pw_weight"])
        return self.out(self.epilogue(y, a["bias"], a["residual"], 1))

    def flops(self):
        cout, c = shape_of(self.pw_weight)[:2]
        kh, kw = shape_of(self.dw_weight)[2:]
        return 2 * self.out_numel() // cout * c * (cout + kh * kw)


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
        x, w = shape_of(self.input), shape_of(self.weight)
        sh, sw = int_pair(self.strides, "strides")
        dh, dw = int_pair(self.dilations, "dilations")
        oph, opw = int_pair(self.output_padding, "output_padding")
        c_ints((*self.pads, self.groups), "pads and groups")
        if len(self.pads) != 4 or min(self.pads) < 0 or min(sh, sw, dh, dw, self.groups) < 1 or min(oph, opw) < 0:
            raise VerifyError("invalid pads/strides/dilations/groups/output_padding")
        if x is None or w is None:
            return unranked_like(self.input)
        if len(x) != 4 or len(w) != 4 or (x[1] is not None and x[1] != w[0]) or w[0] % self.groups:
            raise VerifyError(f"input {format_shape(x)} does not fit weight {format_shape(w)} with groups={self.groups}")
        cout = w[1] * self.groups
        pt, pb, pl, pr = self.pads

        def size(n, k, s, d, p0, p1, op):
            return None if n is None else (n - 1) * s - p0 - p1 + d * (k - 1) + 1 + op

        shape = check_size((x[0], cout, size(x[2], w[2], sh, dh, pt, pb, oph), size(x[3], w[3], sw, dw, pl, pr, opw)))
        if any(d is not None and d <= 0 for d in shape[2:]):
            raise VerifyError(f"padding leaves an empty result {format_shape(shape)}")
        if self.bias is not None and shape_of(self.bias) not in (None, (cout,)):
            raise VerifyError(f"bias must have shape [{cout}]")
        return [TensorType(shape, self.input.type.element)]

    def reference(self, *arrays):
        a = self.arrays_by_name(arrays)
        x, w = as_f32(a["input"]), as_f32(a["weight"])
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
            y = y + as_f32(a["bias"]).reshape(1, -1, 1, 1)
        return self.out(y)

    def flops(self):
        c, og, kh, kw = shape_of(self.weight)
        return 2 * num_elements(shape_of(self.input)) * og * kh * kw


@op_def("core.linear")
class LinearOp(FusedEpilogueMixin, CoreOp):
    """`act(x @ weight^T + bias + residual)`: x [..., K], weight [N, K], bias [N]."""

    input = operand(AnyTensor)
    weight = operand(AnyTensor)
    bias = operand(AnyTensor, optional=True)
    residual = operand(AnyTensor, optional=True)
    output = result(AnyTensor)

    def infer_types(self):
        x, w = shape_of(self.input), shape_of(self.weight)
        if w is not None and len(w) != 2:
            raise VerifyError(f"weight must be [N, K], got {format_shape(w)}")
        if x is None or w is None:
            return unranked_like(self.input)
        if not x or (x[-1] is not None and x[-1] != w[1]):
            raise VerifyError(f"input {format_shape(x)} does not end in K={w[1]} of weight {format_shape(w)}")
        shape = tuple(x[:-1]) + (w[0],)
        self.check_epilogue(shape, w[0])
        return [TensorType(shape, self.input.type.element)]

    def reference(self, *arrays):
        a = self.arrays_by_name(arrays)
        y = as_f32(a["input"]) @ as_f32(a["weight"]).T
        return self.out(self.epilogue(y, a["bias"], a["residual"], -1))

    def flops(self):
        return 2 * self.out_numel() * shape_of(self.weight)[1]


@op_def("core.matmul")
class MatmulOp(FusedEpilogueMixin, CoreOp):
    """numpy matmul with optional transposes of the last two axes; batch dims broadcast
    (this is also the batched matmul). The epilogue `act(a @ b + residual)` is what
    fuse-epilogue folds in (no bias operand: a matmul by a constant is a linear layer's job)."""

    a = operand(AnyTensor)
    b = operand(AnyTensor)
    residual = operand(AnyTensor, optional=True)
    output = result(AnyTensor)
    transpose_a = attribute("bool", default=False)
    transpose_b = attribute("bool", default=False)
    bias = None

    def _operand_shapes(self):
        a, b = shape_of(self.a), shape_of(self.b)
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
        # a constant right operand may be stored in f16 (fp16-weights): it is read in f32
        if self.a.type.element != self.b.type.element and {self.a.type.element, self.b.type.element} != {F16, F32}:
            raise VerifyError("operand element types differ")
        a, b = self._operand_shapes()
        if a is None:
            return unranked_like(self.a)
        a2 = a if len(a) >= 2 else (1,) + a
        b2 = b if len(b) >= 2 else b + (1,)
        if None not in (a2[-1], b2[-2]) and a2[-1] != b2[-2]:
            raise VerifyError(f"contraction sizes differ: {format_shape(a)} @ {format_shape(b)}")
        shape = broadcast_shapes(a2[:-2], b2[:-2]) + (a2[-2], b2[-1])
        if len(a) == 1:
            shape = shape[:-2] + shape[-1:]
        if len(b) == 1:
            shape = shape[:-1]
        self.check_epilogue(shape, None)
        return [TensorType(check_size(shape), self.a.type.element)]

    def reference(self, a, b, residual=None):
        a, b = as_f32(a), as_f32(b)
        if self.transpose_a and a.ndim >= 2:
            a = np.swapaxes(a, -1, -2)
        if self.transpose_b and b.ndim >= 2:
            b = np.swapaxes(b, -1, -2)
        return self.out(self.epilogue(np.matmul(a, b), None, residual, -1))

    def flops(self):
        a, _ = self._operand_shapes()
        return 2 * self.out_numel() * (a[-1] or 0)


@op_def("core.batch_matmul")
class BatchMatmulOp(MatmulOp):
    """`matmul` whose operands are both batched (rank >= 3); batch dims broadcast."""

    def infer_types(self):
        for v in (self.a, self.b):
            if shape_of(v) is not None and len(shape_of(v)) < 3:
                raise VerifyError(f"batch_matmul operands must have rank >= 3, got {v.type}")
        return super().infer_types()


# =========================================================================== pooling

