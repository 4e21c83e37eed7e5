"""Neural-network MIL ops: conv, conv_transpose, linear, matmul, einsum, pooling, normalization,
softmax, resampling. Activations are channel-first: x is [N, C, *spatial] (1 to 3 spatial dims).

Padding (`pad_type`): `valid` none; `custom` takes `pad` = [begin_0, end_0, begin_1, end_1, …];
`same` pads so that out = ceil(in / stride), the odd pixel at the end; `same_lower` puts it at
the beginning.
"""
from __future__ import annotations

import itertools
import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from mlir_coreml.ir.dialects.mil.base import MilOp, ints, mil_op, scalar, shape_of
from mlir_coreml.ir.shapes import broadcast_shapes, normalize_axis, window_output_size

# -- padding and windows -------------------------------------------------------------------


def padding(pad_type: str, pad, sizes, kernels, strides, dilations) -> list[tuple[int, int]]:
    """(begin, end) padding per spatial dim."""
    n = len(sizes)
    if pad_type == "valid":
        return [(0, 0)] * n
    if pad_type == "custom":
        p = ints(pad) if pad is not None else [0] * (2 * n)
        if len(p) != 2 * n:
            raise ValueError(f"pad has {len(p)} values, expected {2 * n}")
        return [(p[2 * i], p[2 * i + 1]) for i in range(n)]
    if pad_type in ("same", "same_lower"):
        out = []
        for size, k, s, d in zip(sizes, kernels, strides, dilations):
            total = max((-(-size // s) - 1) * s + (k - 1) * d + 1 - size, 0)
            small = total // 2
            out.append((small, total - small) if pad_type == "same" else (total - small, small))
        return out
    raise ValueError(f"unknown pad_type '{pad_type}'")


def windows(x, kernels, strides, dilations):
    """[N, C, *D] -> [N, C, *O, *K] strided, dilated windows (a view)."""
    n = len(kernels)
    axes = tuple(range(2, 2 + n))
    eff = tuple((k - 1) * d + 1 for k, d in zip(kernels, dilations))
    view = sliding_window_view(x, eff, axis=axes)
    index = (slice(None), slice(None)) + tuple(slice(None, None, s) for s in strides) \
        + tuple(slice(None, None, d) for d in dilations)
    return view[index]


class _Spatial(MilOp):
    """Shared parameter decoding for conv and pooling ops."""

    def geometry(self, x_shape, kernels):
        n = len(x_shape) - 2
        strides = ints(self.const_param("strides")) if self.param("strides") is not None else [1] * n
        has_dilations = "dilations" in self.param_names() and self.param("dilations") is not None
        dil = ints(self.const_param("dilations")) if has_dilations else [1] * n
        pad_type = str(scalar(self.const_param("pad_type", "valid")))
        pad = self.const_param("pad") if self.param("pad") is not None else None
        pads = padding(pad_type, pad, x_shape[2:], kernels, strides, dil)
        return strides, dil, pads


def _strides_of(a, n):
    return ints(a["strides"]) if a.get("strides") is not None else [1] * n


def _dilations_of(a, n):
    return ints(a["dilations"]) if a.get("dilations") is not None else [1] * n


def _pads_of(a, x, kernels, strides, dilations):
    return padding(str(scalar(a["pad_type"])) if a.get("pad_type") is not None else "valid",
                   a.get("pad"), x.shape[2:], kernels, strides, dilations)


# -- convolution ---------------------------------------------------------------------------


class ConvBase(_Spatial):
    def shapes(self):
        x, w = shape_of(self.x), shape_of(self.weight)
        n = len(x) - 2
        if None in x[2:] or None in w:
            raise NotImplementedError
        strides, dil, pads = self.geometry(x, w[2:])
        spatial = [window_output_size(s, k, st, d, p[0], p[1]) for s, k, st, d, p in zip(x[2:], w[2:], strides, dil, pads)]
        groups = int(scalar(self.const_param("groups", 1)))
        if x[1] is not None and x[1] != w[1] * groups:
            raise ValueError(f"input has {x[1]} channels but weight expects {w[1]} x {groups} groups")
        return [(x[0], w[0], *spatial)] if n else None

    def compute(self, a):
        x, w = a["x"], a["weight"]
        n = x.ndim - 2
        strides, dil = _strides_of(a, n), _dilations_of(a, n)
        pads = _pads_of(a, x, w.shape[2:], strides, dil)
        groups = int(scalar(a["groups"])) if a.get("groups") is not None else 1
        xp = np.pad(x, [(0, 0), (0, 0)] + pads)
        win = windows(xp, w.shape[2:], strides, dil)          # [N, C, *O, *K]
        cin_g, cout_g = w.shape[1], w.shape[0] // groups
        k_axes = list(range(2 + n, 2 + 2 * n))
        outs = []
        for g in range(groups):
            wg = w[g * cout_g:(g + 1) * cout_g]
            xg = win[:, g * cin_g:(g + 1) * cin_g]
            y = np.tensordot(xg, wg, axes=([1] + k_axes, [1] + list(range(2, 2 + n))))  # [N, *O, Co_g]
            outs.append(np.moveaxis(y, -1, 1))
        y = np.concatenate(outs, axis=1) if groups > 1 else outs[0]
        if a.get("bias") is not None:
            y = y + a["bias"].reshape((-1,) + (1,) * n)
        return y


mil_op("conv", "x weight bias? strides? pad_type? pad? dilations? groups?", base=ConvBase,
       defaults={"pad_type": "valid", "groups": 1})


class ConvTransposeBase(_Spatial):
    def getter(self, a):
        """Parameter lookup from the bound arrays `a` (running) or from the consts (shapes)."""
        if a is not None:
            return lambda k, d=None: a[k] if a.get(k) is not None else d
        return lambda k, d=None: self.const_param(k, d) if self.param(k) is not None else d

    def full_and_crop(self, x_shape, w_shape, a=None):
        """Strides, dilations, the full transposed-conv size, and the crop (begin, size) per dim."""
        n = len(x_shape) - 2
        get = self.getter(a)
        strides = ints(get("strides", [1] * n))
        dil = ints(get("dilations", [1] * n))
        pad_type = str(scalar(get("pad_type", "valid")))
        kernels = w_shape[2:]
        full = [(i - 1) * s + (k - 1) * d + 1 for i, s, k, d in zip(x_shape[2:], strides, kernels, dil)]
        out_shape = get("output_shape")
        if pad_type == "custom":
            p = ints(get("pad", [0] * 2 * n))
            begins = [p[2 * i] for i in range(n)]
            sizes = [f - p[2 * i] - p[2 * i + 1] for i, f in enumerate(full)]
        elif pad_type in ("same", "same_lower"):
            sizes = [i * s for i, s in zip(x_shape[2:], strides)]
            totals = [f - s for f, s in zip(full, sizes)]
            begins = [t // 2 if pad_type == "same" else t - t // 2 for t in totals]
        else:
            begins, sizes = [0] * n, list(full)
        if out_shape is not None:
            sizes = ints(out_shape)[-n:]
        return strides, dil, full, begins, sizes

    def shapes(self):
        x, w = shape_of(self.x), shape_of(self.weight)
        if None in x[2:] or None in w:
            raise NotImplementedError
        groups = int(scalar(self.const_param("groups", 1)))
        *_, sizes = self.full_and_crop(x, w)
        return [(x[0], w[1] * groups, *sizes)]

    def compute(self, a):
        x, w = a["x"], a["weight"]  # w: [Cin, Cout / groups, *K]
        n = x.ndim - 2
        groups = int(scalar(a["groups"])) if a.get("groups") is not None else 1
        strides, dil, full, begins, sizes = self.full_and_crop(x.shape, w.shape, a)
        cin_g, cout_g = x.shape[1] // groups, w.shape[1]
        y = np.zeros((x.shape[0], cout_g * groups, *full), dtype=np.result_type(x, w, np.float32))
        for g in range(groups):
            xg = x[:, g * cin_g:(g + 1) * cin_g]
            wg = w[g * cin_g:(g + 1) * cin_g]
            for k in itertools.product(*(range(s) for s in w.shape[2:])):
                contrib = np.tensordot(xg, wg[(slice(None), slice(None)) + k], axes=([1], [0]))  # [N, *D, Co]
                contrib = np.moveaxis(contrib, -1, 1)
                index = (slice(None), slice(g * cout_g, (g + 1) * cout_g)) + tuple(
                    slice(kk * d, kk * d + (i - 1) * s + 1, s) for kk, d, s, i in zip(k, dil, strides, x.shape[2:]))
                y[index] += contrib
        # An output_shape beyond the full result (torch's output_padding) extends it with zeros.
        pad_end = [max(b + size - f, 0) for b, size, f in zip(begins, sizes, full)]
        if any(pad_end):
            y = np.pad(y, [(0, 0), (0, 0)] + [(0, p) for p in pad_end])
        y = y[(slice(None), slice(None)) + tuple(slice(b, b + size) for b, size in zip(begins, sizes))]
        if a.get("bias") is not None:
            y = y + a["bias"].reshape((-1,) + (1,) * n)
        return y


mil_op("conv_transpose", "x weight bias? pad? output_shape? pad_type? strides? dilations? groups?",
       base=ConvTransposeBase, defaults={"pad_type": "valid", "groups": 1})

# -- linear algebra ------------------------------------------------------------------------


class LinearBase(MilOp):
    def shapes(self):
        x, w = shape_of(self.x), shape_of(self.weight)
        if x[-1] is not None and w[1] is not None and x[-1] != w[1]:
            raise ValueError(f"x has {x[-1]} features but weight expects {w[1]}")
        return [x[:-1] + (w[0],)]

    def compute(self, a):
        y = np.matmul(a["x"], a["weight"].T)
        return y if a.get("bias") is None else y + a["bias"]


mil_op("linear", "x weight bias?", base=LinearBase)


class MatmulBase(MilOp):
    def operands_t(self, x, y, tx, ty):
        if tx and x.ndim > 1:
            x = np.swapaxes(x, -1, -2)
        if ty and y.ndim > 1:
            y = np.swapaxes(y, -1, -2)
        return x, y

    def shapes(self):
        x, y = list(shape_of(self.x)), list(shape_of(self.y))
        if bool(scalar(self.const_param("transpose_x", False))) and len(x) > 1:
            x[-1], x[-2] = x[-2], x[-1]
        if bool(scalar(self.const_param("transpose_y", False))) and len(y) > 1:
            y[-1], y[-2] = y[-2], y[-1]
        if len(x) == 1 or len(y) == 1:
            raise NotImplementedError
        if x[-1] is not None and y[-2] is not None and x[-1] != y[-2]:
            raise ValueError(f"inner dimensions {x[-1]} and {y[-2]} differ")
        return [broadcast_shapes(tuple(x[:-2]), tuple(y[:-2])) + (x[-2], y[-1])]

    def compute(self, a):
        tx = bool(scalar(a["transpose_x"])) if a.get("transpose_x") is not None else False
        ty = bool(scalar(a["transpose_y"])) if a.get("transpose_y") is not None else False
        x, y = self.operands_t(a["x"], a["y"], tx, ty)
        return np.matmul(x, y)


mil_op("matmul", "x y transpose_x? transpose_y?", base=MatmulBase)
mil_op("einsum", "values* equation", compute=lambda self, a: np.einsum(str(scalar(a["equation"])), *a["values"]))

# -- pooling -------------------------------------------------------------------------------


class PoolBase(_Spatial):
    kind = "max"

    def shapes(self):
        x = shape_of(self.x)
        if None in x[2:]:
            raise NotImplementedError
        kernels = ints(self.const_param("kernel_sizes"))
        strides, dil, pads = self.geometry(x, kernels)
        ceil = bool(scalar(self.const_param("ceil_mode", False)))
        return [x[:2] + tuple(window_output_size(s, k, st, 1, p[0], p[1], ceil) for s, k, st, p in zip(x[2:], kernels, strides, pads))]

    def compute(self, a):
        x = a["x"]
        n = x.ndim - 2
        kernels = ints(a["kernel_sizes"])
        strides = _strides_of(a, n)
        pads = _pads_of(a, x, kernels, strides, [1] * n)
        ceil = bool(scalar(a["ceil_mode"])) if a.get("ceil_mode") is not None else False
        outs = [window_output_size(s, k, st, 1, p[0], p[1], ceil) for s, k, st, p in zip(x.shape[2:], kernels, strides, pads)]
        # extra end padding so that ceil-mode windows fit
        extra = [max((o - 1) * st + k - (s + p[0] + p[1]), 0) for o, st, k, s, p in zip(outs, strides, kernels, x.shape[2:], pads)]
        full_pads = [(0, 0), (0, 0)] + [(p[0], p[1] + e) for p, e in zip(pads, extra)]
        if self.kind == "max":
            xp = np.pad(x, full_pads, constant_values=-np.inf)
            return windows(xp, kernels, strides, [1] * n).max(axis=tuple(range(-n, 0)))[(Ellipsis,) + tuple(slice(0, o) for o in outs)]
        axes = tuple(range(-n, 0))
        if self.kind == "l2":
            xp = np.pad(np.square(x), full_pads)
            return np.sqrt(windows(xp, kernels, strides, [1] * n).sum(axis=axes))
        xp = np.pad(x, full_pads)
        sums = windows(xp, kernels, strides, [1] * n).sum(axis=axes)
        exclude = bool(scalar(a["exclude_padding_from_average"])) if a.get("exclude_padding_from_average") is not None else False
        ones = np.ones((1, 1) + x.shape[2:], dtype=np.float32)
        if exclude:
            mask = np.pad(ones, full_pads)
        else:  # explicit padding counts, the ceil-mode overhang does not
            mask = np.pad(np.pad(ones, [(0, 0), (0, 0)] + pads, constant_values=1.0),
                          [(0, 0), (0, 0)] + [(0, e) for e in extra])
        counts = windows(mask, kernels, strides, [1] * n).sum(axis=axes)
        return sums / np.maximum(counts, 1)


_POOL_PARAMS = "x kernel_sizes strides? pad_type pad? ceil_mode?"
mil_op("max_pool", _POOL_PARAMS, base=PoolBase, kind="max")
mil_op("l2_pool", _POOL_PARAMS, base=PoolBase, kind="l2")
mil_op("avg_pool", _POOL_PARAMS + " exclude_padding_from_average?", base=PoolBase, kind="avg")

# -- normalization -------------------------------------------------------------------------


class SameShape(MilOp):
    def shapes(self):
        return [shape_of(self.x)]


def _batch_norm(self, a):
    x = a["x"]
    shape = (-1,) + (1,) * (x.ndim - 2)
    eps = a["epsilon"]
    y = (x - a["mean"].reshape(shape)) / np.sqrt(a["variance"].reshape(shape) + eps)
    if a.get("gamma") is not None:
        y = y * a["gamma"].reshape(shape)
    if a.get("beta") is not None:
        y = y + a["beta"].reshape(shape)
    return y


def _affine_on_axes(y, gamma, beta, axes):
    """gamma/beta have the shape of x along `axes` (sorted); broadcast them into x's rank."""
    shape = [1] * y.ndim
    for ax in axes:
        shape[ax] = y.shape[ax]
    if gamma is not None:
        y = y * np.reshape(gamma, shape)
    if beta is not None:
        y = y + np.reshape(beta, shape)
    return y


def _layer_norm(self, a):
    x = a["x"]
    axes = sorted(normalize_axis(v, x.ndim) for v in ints(a["axes"])) if a.get("axes") is not None else list(range(x.ndim))
    mean = x.mean(axis=tuple(axes), keepdims=True)
    var = np.square(x - mean).mean(axis=tuple(axes), keepdims=True)
    y = (x - mean) / np.sqrt(var + a["epsilon"])
    return _affine_on_axes(y, a.get("gamma"), a.get("beta"), axes)


def _instance_norm(self, a):
    x = a["x"]
    axes = tuple(range(2, x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    var = np.square(x - mean).mean(axis=axes, keepdims=True)
    y = (x - mean) / np.sqrt(var + a["epsilon"])
    return _affine_on_axes(y, a.get("gamma"), a.get("beta"), [1])


def _l2_norm(self, a):
    x = a["x"]
    axes = tuple(range(max(x.ndim - 3, 0), x.ndim))
    return x / np.sqrt(np.square(x).sum(axis=axes, keepdims=True) + a["epsilon"])


def _local_response_norm(self, a):
    x = a["x"]
    size = int(scalar(a["size"]))
    sq = np.square(x)
    lo, hi = (size - 1) // 2, size // 2
    padded = np.pad(sq, [(0, 0), (lo, hi)] + [(0, 0)] * (x.ndim - 2))
    window = sum(padded[:, i:i + x.shape[1]] for i in range(size))
    return x / np.power(a["k"] + a["alpha"] / size * window, a["beta"])


mil_op("batch_norm", "x mean variance gamma? beta? epsilon?", base=SameShape, defaults={"epsilon": 1e-5},
       compute=_batch_norm)
mil_op("layer_norm", "x axes? gamma? beta? epsilon?", base=SameShape, defaults={"epsilon": 1e-5},
       compute=_layer_norm)
mil_op("instance_norm", "x gamma? beta? epsilon?", base=SameShape, defaults={"epsilon": 1e-5},
       compute=_instance_norm)
mil_op("l2_norm", "x epsilon?", base=SameShape, defaults={"epsilon": 1e-6}, compute=_l2_norm)
mil_op("local_response_norm", "x size alpha? beta? k?", base=SameShape,
       defaults={"alpha": 1e-4, "beta": 0.75, "k": 1.0}, compute=_local_response_norm)


def _softmax(self, a):
    x = a["x"]
    axis = int(scalar(a["axis"]))
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


mil_op("softmax", "x axis?", base=SameShape, defaults={"axis": -1}, compute=_softmax)

# -- resampling ----------------------------------------------------------------------------


def _interp_axis(x, axis, coords):
    """Linear interpolation of x along `axis` at float positions `coords` (clamped)."""
    size = x.shape[axis]
    coords = np.clip(coords, 0, size - 1)
    lo = np.floor(coords).astype(np.int64)
    hi = np.minimum(lo + 1, size - 1)
    frac = (coords - lo).astype(np.float32)
    shape = [1] * x.ndim
    shape[axis] = -1
    frac = frac.reshape(shape)
    return np.take(x, lo, axis=axis) * (1 - frac) + np.take(x, hi, axis=axis) * frac


def _grid(size_in, size_out, mode):
    i = np.arange(size_out, dtype=np.float64)
    if mode in ("ALIGN_CORNERS", "STRICT_ALIGN_CORNERS"):
        return i * ((size_in - 1) / (size_out - 1)) if size_out > 1 else np.zeros_like(i)
    if mode in ("UNALIGN_CORNERS", "HALF_PIXEL"):
        return (i + 0.5) * (size_in / size_out) - 0.5
    if mode == "OFFSET_CORNERS":  # cell centres over [0, size_in - 1] (Apple's BNNS/MIL docs)
        return (i + 0.5) * (max(1, size_in - 1) / size_out)
    return i * (size_in / size_out)  # DEFAULT


def _scale_sizes(x_shape, get):
    h = math.floor(x_shape[-2] * float(scalar(get("scale_factor_height", 1))))
    w = math.floor(x_shape[-1] * float(scalar(get("scale_factor_width", 1))))
    return h, w


class ResampleBase(MilOp):
    def get(self, name, default=None):
        return self.const_param(name, default) if self.param(name) is not None else self.defaults.get(name, default)

    def shapes(self):
        x = shape_of(self.x)
        if None in x[-2:]:
            raise NotImplementedError
        return [x[:-2] + self.out_size(x, self.get)]


def _from(a):
    return lambda name, default=None: a[name] if a.get(name) is not None else default


def _upsample_nearest(self, a):
    x = a["x"]
    h, w = self.out_size(x.shape, _from(a))
    sh, sw = float(scalar(a["scale_factor_height"])), float(scalar(a["scale_factor_width"]))
    rows = np.minimum(np.floor(np.arange(h) / sh).astype(np.int64), x.shape[-2] - 1)
    cols = np.minimum(np.floor(np.arange(w) / sw).astype(np.int64), x.shape[-1] - 1)
    return x[..., rows, :][..., cols]


def _upsample_bilinear(self, a):
    x = a["x"]
    h, w = self.out_size(x.shape, _from(a))
    align = bool(scalar(a["align_corners"]))
    half = a.get("half_pixel_centers")
    mode = "ALIGN_CORNERS" if align else "UNALIGN_CORNERS"
    if half is not None and not align and not bool(scalar(half)):
        mode = "DEFAULT"
    y = _interp_axis(x, x.ndim - 2, _grid(x.shape[-2], h, mode))
    return _interp_axis(y, x.ndim - 1, _grid(x.shape[-1], w, mode))


def _resize_bilinear(self, a):
    x = a["x"]
    h, w = self.out_size(x.shape, _from(a))
    mode = str(scalar(a["sampling_mode"]))
    y = _interp_axis(x, x.ndim - 2, _grid(x.shape[-2], h, mode))
    return _interp_axis(y, x.ndim - 1, _grid(x.shape[-1], w, mode))


def _resize_nearest(self, a):
    x = a["x"]
    h, w = self.out_size(x.shape, _from(a))
    rows = np.minimum(np.floor(np.arange(h) * x.shape[-2] / h).astype(np.int64), x.shape[-2] - 1)
    cols = np.minimum(np.floor(np.arange(w) * x.shape[-1] / w).astype(np.int64), x.shape[-1] - 1)
    return x[..., rows, :][..., cols]


def _target_size(x_shape, get):
    return int(scalar(get("target_size_height", 1))), int(scalar(get("target_size_width", 1)))


mil_op("upsample_nearest_neighbor", "x scale_factor_height? scale_factor_width?", base=ResampleBase,
       defaults={"scale_factor_height": 1, "scale_factor_width": 1},
       out_size=staticmethod(lambda shape, get: _scale_sizes(shape, get)), compute=_upsample_nearest)
mil_op("upsample_bilinear", "x scale_factor_height? scale_factor_width? align_corners? half_pixel_centers?",
       base=ResampleBase, defaults={"scale_factor_height": 1, "scale_factor_width": 1, "align_corners": True},
       out_size=staticmethod(lambda shape, get: _scale_sizes(shape, get)), compute=_upsample_bilinear)
mil_op("resize_bilinear", "x target_size_height? target_size_width? sampling_mode?", base=ResampleBase,
       defaults={"target_size_height": 1, "target_size_width": 1, "sampling_mode": "DEFAULT"},
       out_size=staticmethod(_target_size), compute=_resize_bilinear)
mil_op("resize_nearest_neighbor", "x target_size_height target_size_width", base=ResampleBase,
       out_size=staticmethod(_target_size), compute=_resize_nearest)


def _crop(self, a):
    x = a["x"]
    ch, cw = ints(a["crop_height"]), ints(a["crop_width"])
    return x[..., ch[0]:x.shape[-2] - ch[1], cw[0]:x.shape[-1] - cw[1]]


class CropBase(MilOp):
    def shapes(self):
        x = shape_of(self.x)
        ch, cw = ints(self.const_param("crop_height")), ints(self.const_param("crop_width"))
        return [x[:-2] + (x[-2] - ch[0] - ch[1], x[-1] - cw[0] - cw[1])]


mil_op("crop", "x crop_height crop_width", base=CropBase, compute=_crop)


def _pixel_shuffle(self, a):
    x = a["x"]
    r = int(scalar(a["upscale_factor"]))
    n, c, h, w = x.shape
    y = x.reshape(n, c // (r * r), r, r, h, w).transpose(0, 1, 4, 2, 5, 3)
    return y.reshape(n, c // (r * r), h * r, w * r)


def _pixel_unshuffle(self, a):
    x = a["x"]
    r = int(scalar(a["downscale_factor"]))
    n, c, h, w = x.shape
    y = x.reshape(n, c, h // r, r, w // r, r).transpose(0, 1, 3, 5, 2, 4)
    return y.reshape(n, c * r * r, h // r, w // r)


def _depth_to_space(self, a):
    x = a["x"]
    r = int(scalar(a["block_size"]))
    n, c, h, w = x.shape
    y = x.reshape(n, r, r, c // (r * r), h, w).transpose(0, 3, 4, 1, 5, 2)
    return y.reshape(n, c // (r * r), h * r, w * r)


def _space_to_depth(self, a):
    x = a["x"]
    r = int(scalar(a["block_size"]))
    n, c, h, w = x.shape
    y = x.reshape(n, c, h // r, r, w // r, r).transpose(0, 3, 5, 1, 2, 4)
    return y.reshape(n, c * r * r, h // r, w // r)


mil_op("pixel_shuffle", "x upscale_factor", compute=_pixel_shuffle)
mil_op("pixel_unshuffle", "x downscale_factor", compute=_pixel_unshuffle)
mil_op("depth_to_space", "x block_size", compute=_depth_to_space)
mil_op("space_to_depth", "x block_size", compute=_space_to_depth)


def _scaled_dot_product_attention(self, a):
    """softmax(q kᵀ / sqrt(E) + mask) v; a bool mask keeps positions where it is true."""
    q, k, v = a["query"], a["key"], a["value"]
    scores = np.matmul(q, np.swapaxes(k, -1, -2)) / math.sqrt(q.shape[-1])
    mask = a.get("attn_mask")
    if mask is not None:
        mask = np.asarray(mask)
        scores = np.where(mask, scores, -np.inf) if mask.dtype == bool else scores + mask
    scores = scores - scores.max(axis=-1, keepdims=True)
    weights = np.exp(scores)
    return np.matmul(weights / weights.sum(axis=-1, keepdims=True), v)


class AttentionBase(MilOp):
    def shapes(self):
        q, v = shape_of(self.query), shape_of(self.value)
        return [broadcast_shapes(q[:-2], v[:-2]) + (q[-2], v[-1])]


mil_op("scaled_dot_product_attention", "query key value attn_mask?", base=AttentionBase,
       compute=_scaled_dot_product_attention)


def _space_to_batch(self, a):
    x = a["x"]
    bh, bw = ints(a["block_shape"])
    (pt, pb), (pl, pr) = np.asarray(a["paddings"]).reshape(2, 2).tolist()
    x = np.pad(x, [(0, 0), (0, 0), (pt, pb), (pl, pr)])
    n, c, h, w = x.shape
    y = x.reshape(n, c, h // bh, bh, w // bw, bw).transpose(3, 5, 0, 1, 2, 4)
    return y.reshape(bh * bw * n, c, h // bh, w // bw)


def _batch_to_space(self, a):
    x = a["x"]
    bh, bw = ints(a["block_shape"])
    (ct, cb), (cl, cr) = np.asarray(a["crops"]).reshape(2, 2).tolist()
    nb, c, h, w = x.shape
    n = nb // (bh * bw)
    y = x.reshape(bh, bw, n, c, h, w).transpose(2, 3, 4, 0, 5, 1).reshape(n, c, h * bh, w * bw)
    return y[:, :, ct:h * bh - cb, cl:w * bw - cr]


mil_op("space_to_batch", "x block_shape paddings", compute=_space_to_batch)
mil_op("batch_to_space", "x block_shape crops", compute=_batch_to_space)
