"""`core` ops on the blocked channel layout NCHW16c (passes/blocked_layout.py chooses it for
chains of convolutions; the contract with the kernels is csrc/blocked.c's header comment).

A blocked activation is the explicit rank-5 tensor [N, CB, H, W, 16] with CB = ceil(C / 16):
channel c of image n lives at [n, c // 16, h, w, c % 16], and the lanes of channels >= C are
zero (every op reads them as zeros and writes zeros there). The block is 16 on every ISA, so
the IR does not depend on the machine. `core.to_blocked` / `core.from_blocked` reorder at the
boundaries of a blocked region; `from_blocked` carries the logical channel count C, as the
convolutions carry it in their weight's shape. Pooling needs no C: zero lanes pool to zero.
Elementwise ops and `core.concat` on axis 1 apply to blocked operands unchanged when every
channel count is a multiple of 16 (no tail lanes), so they have no blocked twins.
"""
from __future__ import annotations

import numpy as np

from mlir_coreml.ir.opdef import AnyTensor, VerifyError, attribute, op_def, operand, result
from mlir_coreml.ir.types import TensorType
from mlir_coreml.ir.dialects.core.base import CoreOp, as_f32, shape_of, unranked_like
from mlir_coreml.ir.dialects.core.linalg import (ConvWindowMixin, FusedEpilogueMixin, conv2d_reference,
                                                conv2d_result_shape)
from mlir_coreml.ir.dialects.core.spatial import Pool2dOp, PoolWindowMixin
from mlir_coreml.ir.shapes import format_shape, num_elements

BLOCK = 16


def channel_blocks(channels: int | None) -> int | None:
    return None if channels is None else -(-channels // BLOCK)


def blocked_shape(shape) -> tuple:
    """The rank-5 blocked shape of an NCHW shape."""
    n, c, h, w = shape
    return (n, channel_blocks(c), h, w, BLOCK)


def to_blocked_array(x, channels: int | None = None) -> np.ndarray:
    """NCHW -> NCHW16c with zero tail lanes."""
    x = as_f32(x)
    n, c, h, w = x.shape
    cb = channel_blocks(c)
    padded = np.zeros((n, cb * BLOCK, h, w), np.float32)
    padded[:, :c] = x
    return np.ascontiguousarray(padded.reshape(n, cb, BLOCK, h, w).transpose(0, 1, 3, 4, 2))


def from_blocked_array(x, channels: int | None = None) -> np.ndarray:
    """NCHW16c -> NCHW, the first `channels` channels (all lanes when None)."""
    x = as_f32(x)
    n, cb, h, w, _ = x.shape
    y = x.transpose(0, 1, 4, 2, 3).reshape(n, cb * BLOCK, h, w)
    return np.ascontiguousarray(y if channels is None else y[:, :channels])


def blocked_operand(value, what: str, channels: int | None = None) -> tuple | None:
    """`value`'s rank-5 blocked shape, checked (and its block count against `channels`)."""
    shape = shape_of(value)
    if shape is None:
        return None
    if len(shape) != 5 or shape[4] != BLOCK:
        raise VerifyError(f"{what} must be a blocked tensor [N, CB, H, W, {BLOCK}], got {format_shape(shape)}")
    if channels is not None and shape[1] is not None and shape[1] != channel_blocks(channels):
        raise VerifyError(f"{what} has {shape[1]} channel blocks, {channels} channels need {channel_blocks(channels)}")
    return shape


@op_def("core.to_blocked")
class ToBlockedOp(CoreOp):
    """NCHW [N, C, H, W] -> NCHW16c [N, ceil(C/16), H, W, 16], tail lanes zero."""

    input = operand(AnyTensor)
    output = result(AnyTensor)

    def infer_types(self):
        x = shape_of(self.input)
        if x is None:
            return unranked_like(self.input)
        if len(x) != 4:
            raise VerifyError(f"expects an NCHW input, got {format_shape(x)}")
        return [TensorType(blocked_shape(x), self.input.type.element)]

    def reference(self, x):
        return self.out(to_blocked_array(x))


@op_def("core.from_blocked")
class FromBlockedOp(CoreOp):
    """NCHW16c [N, ceil(C/16), H, W, 16] -> NCHW [N, C, H, W] for C = `channels`."""

    input = operand(AnyTensor)
    output = result(AnyTensor)
    channels = attribute("int")

    def infer_types(self):
        if self.channels < 1:
            raise VerifyError(f"channels must be positive, got {self.channels}")
        x = blocked_operand(self.input, "input", self.channels)
        if x is None:
            return unranked_like(self.input)
        return [TensorType((x[0], self.channels, x[2], x[3]), self.input.type.element)]

    def reference(self, x):
        return self.out(from_blocked_array(x, self.channels))


@op_def("core.conv2d_blocked")
class Conv2dBlockedOp(ConvWindowMixin, FusedEpilogueMixin, CoreOp):
    """core.conv2d on blocked activations: input [N, ceil(C/16), H, W, 16], weight [Cout,
    C/groups, KH, KW] as core.conv2d's, bias [Cout], residual and result [N, ceil(Cout/16), OH,
    OW, 16]; dense (groups 1) or depthwise (groups == C == Cout). Same epilogue."""

    input = operand(AnyTensor)
    weight = operand(AnyTensor)
    bias = operand(AnyTensor, optional=True)
    residual = operand(AnyTensor, optional=True)
    output = result(AnyTensor)
    groups = attribute("int", default=1)

    @property
    def in_channels(self) -> int | None:
        w = shape_of(self.weight)
        return None if w is None or len(w) != 4 else w[1] * self.groups

    @property
    def depthwise(self) -> bool:
        return self.groups > 1

    def infer_types(self):
        w = shape_of(self.weight)
        x = blocked_operand(self.input, "input", self.in_channels)
        if self.groups != 1 and w is not None and not (w[1] == 1 and w[0] == self.groups):
            raise VerifyError(f"groups must be 1 or the channel count (depthwise), got {self.groups} "
                              f"for weight {format_shape(w)}")
        logical = None if x is None else (x[0], self.in_channels, x[2], x[3])
        shape = conv2d_result_shape(self, logical, w)
        if shape is None:
            return unranked_like(self.input)
        return [TensorType(blocked_shape(shape), self.input.type.element)]

    def check_epilogue(self, out_shape, channels):
        """The residual is blocked like the result."""
        super().check_epilogue(blocked_shape(out_shape), channels)

    def reference(self, *arrays):
        a = self.arrays_by_name(arrays)
        cout = shape_of(self.weight)[0]
        y = conv2d_reference(from_blocked_array(a["input"], self.in_channels), a["weight"], self.strides,
                             self.dilations, self.pads, self.groups)
        residual = None if a["residual"] is None else from_blocked_array(a["residual"], cout)
        return self.out(to_blocked_array(self.epilogue(y, a["bias"], residual, 1)))

    def flops(self):
        cout, cg, kh, kw = shape_of(self.weight)
        n, _, oh, ow, _ = shape_of(self.output)
        return 2 * n * cout * oh * ow * cg * kh * kw


@op_def("core.pool2d_blocked")
class Pool2dBlockedOp(PoolWindowMixin, CoreOp):
    """core.pool2d on blocked activations [N, CB, H, W, 16] -> [N, CB, OH, OW, 16]."""

    input = operand(AnyTensor)
    output = result(AnyTensor)

    def infer_types(self):
        self.check_window()
        x = blocked_operand(self.input, "input")
        if x is None:
            return unranked_like(self.input)
        return [TensorType((x[0], x[1], *self.pool_output_hw(x[2], x[3]), BLOCK), self.input.type.element)]

    def reference(self, x):
        # every lane as a channel: tail lanes (zeros) pool to zeros
        return self.out(to_blocked_array(Pool2dOp.reference(self, from_blocked_array(x))))

    def flops(self):
        kh, kw = self.kernel
        return num_elements(shape_of(self.output)) * kh * kw


@op_def("core.global_pool_blocked")
class GlobalPoolBlockedOp(CoreOp):
    """core.global_pool on blocked activations: [N, CB, H, W, 16] -> [N, CB, 1, 1, 16]."""

    input = operand(AnyTensor)
    output = result(AnyTensor)
    kind = attribute("str", default="avg")

    def infer_types(self):
        if self.kind not in ("max", "avg"):
            raise VerifyError(f"kind must be 'max' or 'avg', got '{self.kind}'")
        x = blocked_operand(self.input, "input")
        if x is None:
            return unranked_like(self.input)
        return [TensorType((x[0], x[1], 1, 1, BLOCK), self.input.type.element)]

    def reference(self, x):
        reduce = np.max if self.kind == "max" else np.mean
        return self.out(reduce(as_f32(x).astype(np.float64), axis=(2, 3), keepdims=True))

    def flops(self):
        return num_elements(shape_of(self.input))
