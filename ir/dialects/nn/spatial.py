"""Spatial layers on the trailing [C, H, W] axes: convolution, pooling, padding, crop, resampling.

Shape rules follow NeuralNetwork.proto: `kernelSize` defaults to [3, 3], `stride` and
`dilationFactor` to [1, 1]; `valid` padding takes explicit `paddingAmounts` (H edge, W edge),
`same` pads so that out = ceil(in / stride) with the extra pixel at the bottom/right unless
`asymmetryMode` is TOP_LEFT_HEAVY.
"""
from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from mlir_coreml.ir.dialects.nn.base import NNLayer, layer_op
from mlir_coreml.ir.shapes import ShapeError, check_size, same_padding
from mlir_coreml.ir.opdef import attribute


def pair(values, default) -> tuple[int, int]:
    values = tuple(int(v) for v in (values or ()))
    if not values:
        return default
    if len(values) != 2:
        raise ShapeError(f"expected 2 values, got {list(values)}")
    return values


def border_amounts(params: dict | None) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) from a `paddingAmounts` BorderAmounts dict."""
    edges = list((params or {}).get("paddingAmounts", {}).get("borderAmounts", ()))
    edges += [{}] * (2 - len(edges))
    h, w = edges[0], edges[1]
    return (h.get("startEdgeSize", 0), h.get("endEdgeSize", 0), w.get("startEdgeSize", 0), w.get("endEdgeSize", 0))


def spatial(shape) -> tuple[int, int, int]:
    if len(shape) < 3:
        raise ShapeError(f"expects an input of rank >= 3 ([..., C, H, W]), got rank {len(shape)}")
    return shape[-3], shape[-2], shape[-1]


def windows(x: np.ndarray, kh: int, kw: int, sh: int, sw: int, dh: int = 1, dw: int = 1) -> np.ndarray:
    """View [..., H, W] as [..., Ho, Wo, kh, kw] windows (dilated, strided)."""
    eh, ew = (kh - 1) * dh + 1, (kw - 1) * dw + 1
    view = sliding_window_view(x, (eh, ew), axis=(-2, -1))
    return view[..., ::sh, ::sw, ::dh, ::dw]


# -- convolution -------------------------------------------------------------------------

class _ConvBase(NNLayer):
    outputChannels = attribute("int", default=0)
    kernelChannels = attribute("int", default=0)
    nGroups = attribute("int", default=0)
    kernelSize = attribute("ints", default=())
    stride = attribute("ints", default=())
    dilationFactor = attribute("ints", default=())
    isDeconvolution = attribute("bool", default=False)
    hasBias = attribute("bool", default=False)
    outputShape = attribute("ints", default=())

    def geometry(self, h: int, w: int):
        kh, kw = pair(self.kernelSize, (3, 3))
        sh, sw = pair(self.stride, (1, 1))
        dh, dw = pair(self.dilationFactor, (1, 1))
        eh, ew = (kh - 1) * dh + 1, (kw - 1) * dw + 1
        if self.oneof("same"):
            tlh = self.attr("same").get("asymmetryMode") == "TOP_LEFT_HEAVY"
            if self.isDeconvolution:
                # out = in * stride; the overhang of the full transposed conv is cropped.
                return (kh, kw, sh, sw, dh, dw) + same_padding(h * sh, eh, sh, tlh) + same_padding(w * sw, ew, sw, tlh)
            return (kh, kw, sh, sw, dh, dw) + same_padding(h, eh, sh, tlh) + same_padding(w, ew, sw, tlh)
        return (kh, kw, sh, sw, dh, dw) + border_amounts(self.attr("valid"))

    def groups(self) -> int:
        return max(int(self.nGroups), 1)

    def shapes(self, xs, ws):
        c, h, w = spatial(xs[0])
        kh, kw, sh, sw, dh, dw, pt, pb, pl, pr = self.geometry(h, w)
        eh, ew = (kh - 1) * dh + 1, (kw - 1) * dw + 1
        if self.isDeconvolution:
            if self.outputShape:
                ho, wo = pair(self.outputShape, None)
            elif self.oneof("same"):
                ho, wo = h * sh, w * sw
            else:
                ho, wo = (h - 1) * sh + eh - pt - pb, (w - 1) * sw + ew - pl - pr
        else:
            ho, wo = (h + pt + pb - eh) // sh + 1, (w + pl + pr - ew) // sw + 1
        if ho <= 0 or wo <= 0:
            raise ShapeError(f"output spatial size {ho}x{wo} is empty for input {h}x{w}")
        if not self.isDeconvolution and c is not None and c != self.kernelChannels * self.groups() and len(xs) == 1:
            raise ShapeError(f"input has {c} channels but kernelChannels x nGroups is "
                             f"{self.kernelChannels} x {self.groups()}")
        return [check_size(tuple(xs[0][:-3]) + (self.outputChannels, ho, wo))]

    def compute(self, xs, ws):
        x = xs[0]
        lead = x.shape[:-3]
        x = x.reshape((-1,) + x.shape[-3:])
        weight = xs[1] if len(xs) > 1 else ws["weights"]
        kh, kw, sh, sw, dh, dw, pt, pb, pl, pr = self.geometry(x.shape[-2], x.shape[-1])
        g = self.groups()
        if self.isDeconvolution:
            y = deconv(x, weight.reshape(x.shape[1], self.outputChannels // g, kh, kw), g, (sh, sw), (dh, dw))
            ho, wo = self.shapes([x.shape], {})[0][-2:]
            y = crop_or_pad(y, (pt, pl), (ho, wo))
        else:
            x = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
            y = conv2d(x, weight.reshape(self.outputChannels, x.shape[1] // g, kh, kw), g, (sh, sw), (dh, dw))
        if "bias" in ws:
            y = y + ws["bias"].reshape(1, -1, 1, 1)
        return y.reshape(lead + y.shape[1:])


def conv2d(x, w, groups, stride, dilation):
    """x [N, C, H, W] (already padded), w [O, C/g, kh, kw] -> [N, O, Ho, Wo]."""
    n, c = x.shape[:2]
    o, cg, kh, kw = w.shape
    og = o // groups
    cols = windows(x, kh, kw, *stride, *dilation)  # N, C, Ho, Wo, kh, kw
    outs = []
    for gi in range(groups):
        part = cols[:, gi * cg:(gi + 1) * cg]
        outs.append(np.einsum("nchwij,ocij->nohw", part, w[gi * og:(gi + 1) * og], optimize=True))
    return np.concatenate(outs, axis=1)


def deconv(x, w, groups, stride, dilation):
    """Full transposed convolution over the trailing len(stride) axes: x [N, C, *S], w [C, O/g, *k]
    -> [N, O, *((S - 1) * stride + (k - 1) * dilation + 1)]; each kernel tap scatters one strided slab."""
    n, c = x.shape[:2]
    dims, kernel, og = x.shape[2:], w.shape[2:], w.shape[1]
    out = [(s - 1) * st + (k - 1) * d + 1 for s, k, st, d in zip(dims, kernel, stride, dilation)]
    y = np.zeros((n, og * groups, *out), dtype=np.float32)
    cg = c // groups
    for gi in range(groups):
        xg, wg = x[:, gi * cg:(gi + 1) * cg], w[gi * cg:(gi + 1) * cg]
        for tap in np.ndindex(*kernel):
            slab = tuple(slice(t * d, t * d + (s - 1) * st + 1, st) for t, d, s, st in zip(tap, dilation, dims, stride))
            y[(slice(None), slice(gi * og, (gi + 1) * og)) + slab] += np.einsum(
                "nc...,co->no...", xg, wg[(slice(None), slice(None)) + tap], optimize=True)
    return y


def crop_or_pad(y, starts, sizes):
    """y[..., start:start + size] over the trailing len(starts) axes, zero-filled past y's end
    (a deconvolution's explicit outputShape may exceed its full output)."""
    k = len(starts)
    y = y[(Ellipsis,) + tuple(slice(s, None) for s in starts)]
    pads = [(0, max(size - d, 0)) for size, d in zip(sizes, y.shape[-k:])]
    if any(p for _, p in pads):
        y = np.pad(y, [(0, 0)] * (y.ndim - k) + pads)
    return y[(Ellipsis,) + tuple(slice(0, s) for s in sizes)]


@layer_op("convolution", n_inputs=(1, 2))
class ConvolutionOp(_ConvBase):
    """2-D (transposed) convolution; weights [O, C/g, kh, kw], or [C, O/g, kh, kw] for deconvolution."""


# -- pooling -----------------------------------------------------------------------------

@layer_op("pooling")
class PoolingOp(NNLayer):
    """MAX / AVERAGE / L2 pooling; `includeLastPixel` is Caffe-style ceil-mode padding."""

    type = attribute("str", default="MAX")
    kernelSize = attribute("ints", default=())
    stride = attribute("ints", default=())
    avgPoolExcludePadding = attribute("bool", default=False)
    globalPooling = attribute("bool", default=False)

    def geometry(self, h, w):
        if self.globalPooling:
            return h, w, 1, 1, 0, 0, 0, 0
        kh, kw = pair(self.kernelSize, (3, 3))
        sh, sw = pair(self.stride, (1, 1))
        if self.oneof("same"):
            tlh = self.attr("same").get("asymmetryMode") == "TOP_LEFT_HEAVY"
            return (kh, kw, sh, sw) + same_padding(h, kh, sh, tlh) + same_padding(w, kw, sw, tlh)
        if self.oneof("includeLastPixel"):
            ph, pw = pair(self.attr("includeLastPixel").get("paddingAmounts", ()), (0, 0))
            ho = -(-(h + 2 * ph - kh) // sh) + 1
            wo = -(-(w + 2 * pw - kw) // sw) + 1
            if ph and (ho - 1) * sh >= h + ph:
                ho -= 1
            if pw and (wo - 1) * sw >= w + pw:
                wo -= 1
            return kh, kw, sh, sw, ph, (ho - 1) * sh + kh - h - ph, pw, (wo - 1) * sw + kw - w - pw
        return (kh, kw, sh, sw) + border_amounts(self.attr("valid"))

    def shapes(self, xs, ws):
        c, h, w = spatial(xs[0])
        kh, kw, sh, sw, pt, pb, pl, pr = self.geometry(h, w)
        ho, wo = (h + pt + pb - kh) // sh + 1, (w + pl + pr - kw) // sw + 1
        if ho <= 0 or wo <= 0:
            raise ShapeError(f"pooling window {kh}x{kw} does not fit input {h}x{w}")
        return [tuple(xs[0][:-2]) + (ho, wo)]

    def compute(self, xs, ws):
        x = xs[0]
        h, w = x.shape[-2:]
        kh, kw, sh, sw, pt, pb, pl, pr = self.geometry(h, w)
        pads = [(0, 0)] * (x.ndim - 2) + [(pt, max(pb, 0)), (pl, max(pr, 0))]
        xp = np.pad(x, pads, constant_values=np.nan)
        win = windows(xp, kh, kw, sh, sw)
        ho, wo = self.shapes([x.shape], {})[0][-2:]
        win = win[..., :ho, :wo, :, :]
        if self.type == "MAX":
            return np.nanmax(win, axis=(-2, -1))
        valid = ~np.isnan(win)
        filled = np.where(valid, win, 0.0)
        if self.type == "L2":
            return np.sqrt((filled * filled).sum(axis=(-2, -1)))
        total = filled.sum(axis=(-2, -1))
        if self.avgPoolExcludePadding or self.globalPooling:
            return total / np.maximum(valid.sum(axis=(-2, -1)), 1)
        # Padding counts toward the divisor, window parts beyond the padded input do not.
        if self.oneof("includeLastPixel"):
            pb, pr = pt, pl
        region = np.pad(np.ones((h + pt + pb, w + pl + pr), np.float32),
                        ((0, max(xp.shape[-2] - h - pt - pb, 0)), (0, max(xp.shape[-1] - w - pl - pr, 0))))
        region = region[:xp.shape[-2], :xp.shape[-1]]
        count = windows(region, kh, kw, sh, sw)[:ho, :wo].sum(axis=(-2, -1))
        return total / count


# -- padding / crop ----------------------------------------------------------------------

@layer_op("padding")
class PaddingOp(NNLayer):
    """Pads H and W by `paddingAmounts`: `constant {value}`, `reflection {}` or `replication {}`."""

    def amounts(self):
        edges = list(self.attr("paddingAmounts", {}).get("borderAmounts", ()))
        edges += [{}] * (2 - len(edges))
        return [(e.get("startEdgeSize", 0), e.get("endEdgeSize", 0)) for e in edges[:2]]

    def shapes(self, xs, ws):
        (t, b), (l, r) = self.amounts()
        spatial(xs[0])
        return [tuple(xs[0][:-2]) + (xs[0][-2] + t + b, xs[0][-1] + l + r)]

    def compute(self, xs, ws):
        x = xs[0]
        pads = [(0, 0)] * (x.ndim - 2) + self.amounts()
        if self.oneof("reflection"):
            return np.pad(x, pads, mode="reflect")
        if self.oneof("replication"):
            return np.pad(x, pads, mode="edge")
        return np.pad(x, pads, constant_values=self.attr("constant", {}).get("value", 0.0))


@layer_op("crop", n_inputs=(1, 2))
class CropOp(NNLayer):
    """Crop H, W by `cropAmounts`, or (two inputs) to the second input's H, W at `offset`."""

    offset = attribute("ints", default=())

    def window(self, shape, ref_shape):
        if ref_shape is not None:
            oh, ow = pair(self.offset, (0, 0))
            return oh, ow, ref_shape[-2], ref_shape[-1]
        edges = list(self.attr("cropAmounts", {}).get("borderAmounts", ()))
        edges += [{}] * (2 - len(edges))
        t, b = edges[0].get("startEdgeSize", 0), edges[0].get("endEdgeSize", 0)
        l, r = edges[1].get("startEdgeSize", 0), edges[1].get("endEdgeSize", 0)
        return t, l, shape[-2] - t - b, shape[-1] - l - r

    def shapes(self, xs, ws):
        t, l, h, w = self.window(xs[0], xs[1] if len(xs) > 1 else None)
        if h <= 0 or w <= 0 or t + h > xs[0][-2] or l + w > xs[0][-1]:
            raise ShapeError("crop window lies outside the input")
        return [tuple(xs[0][:-2]) + (h, w)]

    def compute(self, xs, ws):
        t, l, h, w = self.window(xs[0].shape, xs[1].shape if len(xs) > 1 else None)
        return xs[0][..., t:t + h, l:l + w]


# -- resampling --------------------------------------------------------------------------

def interp_axis(x: np.ndarray, axis: int, out: int, coords: np.ndarray) -> np.ndarray:
    """Linear interpolation of `x` along `axis` at fractional source positions `coords`."""
    size = x.shape[axis]
    coords = np.clip(coords, 0, size - 1)
    lo = np.floor(coords).astype(np.int64)
    hi = np.minimum(lo + 1, size - 1)
    frac = (coords - lo).astype(np.float32)
    shape = [1] * x.ndim
    shape[axis] = out
    a, b = np.take(x, lo, axis=axis), np.take(x, hi, axis=axis)
    return a + (b - a) * frac.reshape(shape)


def align_corners_coords(size, out):
    return np.arange(out) * ((size - 1) / (out - 1) if out > 1 else 0.0)


def half_pixel_coords(size, out):
    return np.maximum((np.arange(out) + 0.5) * (size / out) - 0.5, 0.0)


def offset_corners_coords(size, out):
    """Centres of `out` equal cells spanning [0, size - 1] (at least one pixel wide)."""
    return (np.arange(out) + 0.5) * (max(1.0, size - 1) / out)


# LinearUpsampleMode per NeuralNetwork.proto: DEFAULT spaces the grid by (in - in/out) / (out - 1),
# which is in/out, i.e. the asymmetric grid i * in/out (clamped to the last pixel when sampled).
LINEAR_UPSAMPLE_COORDS = {
    "DEFAULT": lambda size, out: np.arange(out) * (size / out),
    "ALIGN_CORNERS_TRUE": align_corners_coords,
    "ALIGN_CORNERS_FALSE": half_pixel_coords,
}


@layer_op("upsample")
class UpsampleOp(NNLayer):
    """Nearest or bilinear upsampling of H, W by integer `scalingFactor` or `fractionalScalingFactor`."""

    scalingFactor = attribute("ints", default=())
    fractionalScalingFactor = attribute("floats", default=())
    mode = attribute("str", default="NN")
    linearUpsampleMode = attribute("str", default="DEFAULT")

    def factors(self):
        if self.fractionalScalingFactor:
            return tuple(float(f) for f in self.fractionalScalingFactor)
        return pair(self.scalingFactor, (1, 1))

    def shapes(self, xs, ws):
        spatial(xs[0])
        fh, fw = self.factors()
        return [tuple(xs[0][:-2]) + (int(math.floor(xs[0][-2] * fh)), int(math.floor(xs[0][-1] * fw)))]

    def compute(self, xs, ws):
        x = xs[0]
        h, w = x.shape[-2:]
        ho, wo = self.shapes([x.shape], {})[0][-2:]
        if self.mode == "NN":
            rows = np.minimum((np.arange(ho) * h) // ho, h - 1)
            cols = np.minimum((np.arange(wo) * w) // wo, w - 1)
            return x[..., rows, :][..., cols]
        coord = LINEAR_UPSAMPLE_COORDS[self.linearUpsampleMode]
        y = interp_axis(x, x.ndim - 2, ho, coord(h, ho))
        return interp_axis(y, x.ndim - 1, wo, coord(w, wo))


# SamplingMode per NeuralNetwork.proto (coremltools maps MIL's OFFSET_CORNERS to ROI_ALIGN_MODE).
# ALIGN_ENDPOINTS_MODE should sample the middle when out == 1; like the core.upsample it lowers
# to, it samples 0 there.
RESIZE_COORDS = {
    "STRICT_ALIGN_ENDPOINTS_MODE": align_corners_coords,
    "ALIGN_ENDPOINTS_MODE": align_corners_coords,
    "UPSAMPLE_MODE": lambda size, out: np.arange(out) * (size / out),
    "ROI_ALIGN_MODE": offset_corners_coords,
}


@layer_op("resizeBilinear")
class ResizeBilinearOp(NNLayer):
    """Bilinear resize of H, W to `targetSize`, source coordinates per `mode.samplingMethod`."""

    targetSize = attribute("ints", default=())

    def shapes(self, xs, ws):
        spatial(xs[0])
        return [tuple(xs[0][:-2]) + pair(self.targetSize, (1, 1))]

    def compute(self, xs, ws):
        x = xs[0]
        h, w = x.shape[-2:]
        ho, wo = pair(self.targetSize, (1, 1))
        coord = RESIZE_COORDS[self.attr("mode", {}).get("samplingMethod", "STRICT_ALIGN_ENDPOINTS_MODE")]
        y = interp_axis(x, x.ndim - 2, ho, coord(h, ho))
        return interp_axis(y, x.ndim - 1, wo, coord(w, wo))


@layer_op("cropResize", n_inputs=(2, 2))
class CropResizeOp(NNLayer):
    """Bilinear crops of x [1, B, C, H, W] at N boxes: RoIs [N, 1, 4, 1, 1] crop every batch image
    (result [N, B, C, Ho, Wo]); [N, 1, 5, 1, 1] start with the batch index (result [N, 1, C, Ho, Wo]).
    `boxIndicesMode` orders the four coordinates (corners or center-size, height or width first);
    `normalizedCoordinates` scales them by (H - 1, W - 1), `spatialScale` multiplies them. Each box
    [start, end] is sampled like resizeBilinear samples [0, size - 1] (same `mode` grids)."""

    targetSize = attribute("ints", default=())
    normalizedCoordinates = attribute("bool", default=False)
    spatialScale = attribute("float", default=0.0)

    def shapes(self, xs, ws):
        x, rois = xs
        if len(x) != 5 or len(rois) != 5 or rois[2] not in (4, 5):
            raise ShapeError(f"expects x [1, B, C, H, W] and RoIs [N, 1, 4 or 5, 1, 1], got {list(x)} and {list(rois)}")
        return [(rois[0], x[1] if rois[2] == 4 else 1, x[2]) + pair(self.targetSize, (1, 1))]

    def boxes(self, rois, h, w):
        """[N, 4] (h_start, w_start, h_end, w_end) in input pixels."""
        v = rois.reshape(rois.shape[0], -1)[:, -4:].astype(np.float64)
        mode = self.attr("boxIndicesMode", {}).get("boxMode", "CORNERS_HEIGHT_FIRST")
        if mode.endswith("WIDTH_FIRST"):
            v = v[:, [1, 0, 3, 2]]
        if mode.startswith("CENTER_SIZE"):
            v = np.concatenate([v[:, :2] - v[:, 2:] / 2, v[:, :2] + v[:, 2:] / 2], axis=1)
        if self.normalizedCoordinates:
            v = v * np.array([h - 1, w - 1, h - 1, w - 1])
        return v * (self.spatialScale or 1.0)  # proto3 0 means unset

    def compute(self, xs, ws):
        x, rois = xs
        images = x[0]
        h, w = images.shape[-2:]
        ho, wo = pair(self.targetSize, (1, 1))
        coord = RESIZE_COORDS[self.attr("mode", {}).get("samplingMethod", "STRICT_ALIGN_ENDPOINTS_MODE")]
        crops = []
        for roi, (h0, w0, h1, w1) in zip(rois.reshape(rois.shape[0], -1), self.boxes(rois, h, w)):
            src = images[int(roi[0])][None] if rois.shape[2] == 5 else images
            # the grid stays inside the box, as resizeBilinear's stays inside [0, size - 1]
            y = interp_axis(src, 2, ho, np.clip(h0 + coord(h1 - h0 + 1, ho), h0, h1))
            crops.append(interp_axis(y, 3, wo, np.clip(w0 + coord(w1 - w0 + 1, wo), w0, w1)))
        return np.stack(crops)


# -- 3-D ----------------------------------------------------------------------------------------

AXES3 = ("Depth", "Height", "Width")
EDGES3 = (("Front", "Back"), ("Top", "Bottom"), ("Left", "Right"))


class _Spatial3D(NNLayer):
    """Shared [N, C, D, H, W] geometry: kernel/stride(/dilation) per axis, CUSTOM/VALID/SAME padding."""

    paddingType = attribute("str", default="CUSTOM")

    def geometry(self, dims, transposed=False):
        kernel = [max(int(self.attr(f"kernel{a}", 1)), 1) for a in AXES3]
        stride = [max(int(self.attr(f"stride{a}", 1)), 1) for a in AXES3]
        dilation = [max(int(self.attr(f"dilation{a}", 1)), 1) for a in AXES3]
        extent = [(k - 1) * d + 1 for k, d in zip(kernel, dilation)]
        if self.paddingType == "SAME":
            # a transposed conv pads like the forward conv from its output (in * stride) back to its input
            sizes = [n * st for n, st in zip(dims, stride)] if transposed else dims
            pads = [same_padding(n, e, st, False) for n, e, st in zip(sizes, extent, stride)]
        elif self.paddingType == "VALID":
            pads = [(0, 0)] * 3
        else:
            pads = [(int(self.attr(f"customPadding{a}", 0)), int(self.attr(f"customPadding{b}", 0))) for a, b in EDGES3]
        return kernel, stride, dilation, extent, pads

    def out_dims(self, dims):
        kernel, stride, dilation, extent, pads = self.geometry(dims)
        out = [(n + p0 + p1 - e) // st + 1 for n, (p0, p1), e, st in zip(dims, pads, extent, stride)]
        if any(o <= 0 for o in out):
            raise ShapeError(f"window {extent} does not fit input {list(dims)}")
        return out

    def windows3(self, x, pad_value=0.0):
        kernel, stride, dilation, extent, pads = self.geometry(x.shape[-3:])
        xp = np.pad(x, [(0, 0)] * (x.ndim - 3) + pads, constant_values=pad_value)
        view = sliding_window_view(xp, tuple(extent), axis=(-3, -2, -1))
        return view[..., ::stride[0], ::stride[1], ::stride[2], ::dilation[0], ::dilation[1], ::dilation[2]]


@layer_op("convolution3d", n_inputs=(1, 1))
class Convolution3dOp(_Spatial3D):
    """3-D convolution, weights [outputChannels, inputChannels / nGroups, kD, kH, kW]; or deconvolution,
    weights [inputChannels, outputChannels / nGroups, kD, kH, kW] (what NeuralNetworkBuilder writes),
    output [D, H, W] = `outputShape` if set, else in * stride (SAME) or the full transposed
    convolution less the CUSTOM pads; the window starts at the front/top/left pad."""

    outputChannels = attribute("int", default=0)
    inputChannels = attribute("int", default=0)
    nGroups = attribute("int", default=0)
    hasBias = attribute("bool", default=False)
    isDeconvolution = attribute("bool", default=False)
    outputShape = attribute("ints", default=())

    def deconv_dims(self, dims):
        kernel, stride, dilation, extent, pads = self.geometry(dims, transposed=True)
        if self.outputShape:
            if len(self.outputShape) != 3:
                raise ShapeError(f"outputShape must be [D, H, W], got {list(self.outputShape)}")
            out = [int(d) for d in self.outputShape]
        elif self.paddingType == "SAME":
            out = [n * st for n, st in zip(dims, stride)]
        else:
            out = [(n - 1) * st + e - p0 - p1 for n, st, e, (p0, p1) in zip(dims, stride, extent, pads)]
        if any(o <= 0 for o in out):
            raise ShapeError(f"deconvolution output {out} is empty for input {list(dims)}")
        return out

    def shapes(self, xs, ws):
        if len(xs[0]) != 5:
            raise NotImplementedError
        if xs[0][1] != self.inputChannels:
            raise ShapeError(f"input has {xs[0][1]} channels, expected inputChannels {self.inputChannels}")
        dims = self.deconv_dims(xs[0][-3:]) if self.isDeconvolution else self.out_dims(xs[0][-3:])
        return [(xs[0][0], self.outputChannels) + tuple(dims)]

    def compute(self, xs, ws):
        x = xs[0]
        g = max(int(self.nGroups), 1)
        kernel, stride, dilation, _, pads = self.geometry(x.shape[-3:], transposed=self.isDeconvolution)
        if self.isDeconvolution:
            w = ws["weights"].reshape((x.shape[1], self.outputChannels // g) + tuple(kernel))
            y = deconv(x, w, g, stride, dilation)
            y = crop_or_pad(y, [p0 for p0, _ in pads], self.deconv_dims(x.shape[-3:]))
        else:
            w = ws["weights"].reshape((self.outputChannels, x.shape[1] // g) + tuple(kernel))
            cols = self.windows3(x)
            cg, og = x.shape[1] // g, self.outputChannels // g
            y = np.concatenate([np.einsum("ncdhwijk,ocijk->nodhw", cols[:, i * cg:(i + 1) * cg],
                                          w[i * og:(i + 1) * og], optimize=True) for i in range(g)], axis=1)
        return y + ws["bias"].reshape(1, -1, 1, 1, 1) if "bias" in ws else y


@layer_op("pooling3d")
class Pooling3dOp(_Spatial3D):
    type = attribute("str", default="MAX")
    countExcludePadding = attribute("bool", default=False)

    def shapes(self, xs, ws):
        if len(xs[0]) < 3:
            raise ShapeError("expects [..., D, H, W]")
        return [tuple(xs[0][:-3]) + tuple(self.out_dims(xs[0][-3:]))]

    def compute(self, xs, ws):
        win = self.windows3(xs[0], np.nan)
        axes = (-3, -2, -1)
        if self.type == "MAX":
            return np.nanmax(win, axis=axes)
        valid = ~np.isnan(win)
        total = np.where(valid, win, 0.0).sum(axis=axes)
        count = valid.sum(axis=axes) if self.countExcludePadding else np.prod(win.shape[-3:])
        return total / count


@layer_op("globalPooling3d")
class GlobalPooling3dOp(NNLayer):
    type = attribute("str", default="MAX")

    def shapes(self, xs, ws):
        return [tuple(xs[0][:-3]) + (1, 1, 1)]

    def compute(self, xs, ws):
        fn = np.max if self.type == "MAX" else np.mean
        return fn(xs[0], axis=(-3, -2, -1), keepdims=True)


