"""`core` pooling and upsampling."""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from mlir_coreml.ir.opdef import AnyTensor, VerifyError, attribute, op_def, operand, result
from mlir_coreml.ir.types import TensorType
from mlir_coreml.ir.dialects.core.base import CoreOp, as_f32, shape_of, unranked_like
from mlir_coreml.ir.shapes import check_size, format_shape, num_elements, window_output_size
from mlir_coreml.ir.dialects.core.linalg import c_ints, int_pair


class PoolWindowMixin:
    """The kind and window attributes core.pool2d and its blocked twin share, and their checks."""

    kind = attribute("str", default="max")
    kernel = attribute("ints")
    strides = attribute("ints", default=(1, 1))
    pads = attribute("ints", default=(0, 0, 0, 0))
    exclude_padding = attribute("bool", default=True)
    ceil_mode = attribute("bool", default=False)

    def check_window(self) -> None:
        if self.kind not in ("max", "avg"):
            raise VerifyError(f"kind must be 'max' or 'avg', got '{self.kind}'")
        kh, kw = int_pair(self.kernel, "kernel")
        sh, sw = int_pair(self.strides, "strides")
        if len(c_ints(self.pads, "pads")) != 4 or min(self.pads) < 0 or min(kh, kw, sh, sw) < 1:
            raise VerifyError("invalid kernel/strides/pads")

    def pool_output_hw(self, h, w) -> tuple:
        """(OH, OW) of this pooling over an h x w map."""
        (kh, kw), (sh, sw), (pt, pb, pl, pr) = self.kernel, self.strides, self.pads
        return (window_output_size(h, kh, sh, 1, pt, pb, self.ceil_mode),
                window_output_size(w, kw, sw, 1, pl, pr, self.ceil_mode))


@op_def("core.pool2d")
class Pool2dOp(PoolWindowMixin, CoreOp):
    """Max or average pooling over NCHW; padding cells never win a max; average divides by
    the in-image cell count (`exclude_padding`) or by the window clipped to the padded extent."""

    input = operand(AnyTensor)
    output = result(AnyTensor)

    def infer_types(self):
        self.check_window()
        x = shape_of(self.input)
        if x is None:
            return unranked_like(self.input)
        if len(x) != 4:
            raise VerifyError(f"expects an NCHW input, got {format_shape(x)}")
        return [TensorType((x[0], x[1], *self.pool_output_hw(x[2], x[3])), self.input.type.element)]

    def reference(self, x):
        x = as_f32(x)
        (kh, kw), (sh, sw), (pt, pb, pl, pr) = self.kernel, self.strides, self.pads
        n, c, h, w = x.shape
        oh = window_output_size(h, kh, sh, 1, pt, pb, self.ceil_mode)
        ow = window_output_size(w, kw, sw, 1, pl, pr, self.ceil_mode)
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
        x = shape_of(self.input)
        if x is None:
            return unranked_like(self.input)
        if len(x) != 4:
            raise VerifyError(f"expects an NCHW input, got {format_shape(x)}")
        return [TensorType((x[0], x[1], 1, 1), self.input.type.element)]

    def reference(self, x):
        x = as_f32(x)
        reduce = np.max if self.kind == "max" else np.mean
        return self.out(reduce(x.astype(np.float64), axis=(2, 3), keepdims=True))

    def flops(self):
        return num_elements(shape_of(self.input))


# =========================================================================== normalization

UPSAMPLE_COORDINATES = ("asymmetric", "align_corners", "half_pixel", "offset_corners")


def _source_coordinates(out_size, in_size, mode, scale):
    """Where each output index samples the input (float)."""
    dst = np.arange(out_size, dtype=np.float64)
    ratio = (1.0 / scale) if scale else in_size / out_size
    if mode == "align_corners":
        return dst * ((in_size - 1) / (out_size - 1)) if out_size > 1 else np.zeros(out_size)
    if mode == "half_pixel":
        return (dst + 0.5) * ratio - 0.5
    if mode == "offset_corners":  # NeuralNetwork ROI_ALIGN_MODE: centres of out cells over [0, in - 1]
        return (dst + 0.5) * (max(1.0, in_size - 1) / out_size)
    return dst * ratio


@op_def("core.upsample")
class UpsampleOp(CoreOp):
    """Resize the two last axes (NCHW) to `size`. `mode`: nearest | bilinear; `coordinates`:
    asymmetric (src = dst * in/out), align_corners, half_pixel, offset_corners (cell centres over
    [0, in - 1]: NeuralNetwork's ROI_ALIGN_MODE); `scales` (optional) replaces
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
        oh, ow = int_pair(self.size, "size")
        if min(oh, ow) < 1 or len(self.scales) not in (0, 2):
            raise VerifyError("size must be positive and scales empty or 2 values")
        x = shape_of(self.input)
        if x is None:
            return unranked_like(self.input)
        if len(x) < 2:
            raise VerifyError("upsample needs rank >= 2")
        return [TensorType(check_size(tuple(x[:-2]) + (oh, ow)), self.input.type.element)]

    def reference(self, x):
        x = np.asarray(x, dtype=np.float64)
        for axis in (-2, -1):
            table = self.sampling(axis, x.shape[axis])
            if self.mode == "nearest":
                x = np.take(x, table, axis=axis)
            else:
                lo, hi, frac = table
                frac = frac.reshape((-1,) + (1,) * (-axis - 1))
                x = np.take(x, lo, axis=axis) * (1 - frac) + np.take(x, hi, axis=axis) * frac
        return self.out(x)

    def sampling(self, axis: int, n: int):
        """Where the outputs along `axis` (-2 or -1; input length n) sample the input: source
        indices (nearest), or (lo, hi, fraction of hi) per output (bilinear). The kernel path
        takes the same tables."""
        out_size = self.size[axis]
        scale = (tuple(self.scales) or (None, None))[axis]
        src = _source_coordinates(out_size, n, self.coordinates, scale)
        if self.mode == "nearest":
            idx = np.floor(src + (0.5 if self.coordinates == "align_corners" else 0.0)).astype(np.int64)
            return np.clip(idx, 0, n - 1)
        src = np.clip(src, 0, n - 1)
        lo = np.floor(src).astype(np.int64)
        return lo, np.minimum(lo + 1, n - 1), src - lo

    def flops(self):
        return (1 if self.mode == "nearest" else 8) * self.out_numel()


# =========================================================================== reductions

