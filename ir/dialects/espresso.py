"""`espresso`: the layers of a compiled NeuralNetwork bundle (`model.espresso.net`), one op each.

The dialect mirrors the format so that import -> export is exact:

* op name `espresso.<type>` for every espresso layer `type` (`espresso.layer` with a
  `layer_type` attribute for types this dialect does not know);
* the layer `name` is the op's location, `bottom` the names of its operands, `top` the names of
  its results (SSA value names are the blob names);
* every other field is an op attribute under its espresso key (`C`, `pad_t`, `debug_info`, ...),
  in the order the layer had them; fields that do not fit an attribute kind, and a non-empty
  `weights` object, go in the `extra_fields` dict;
* weight blobs are `core.constant` operands after the inputs (biases before weights, as their
  blob ids are allocated), in their stored precision: `blob_weights_f16` -> f16, else f32.

Blob shapes: tensors are `n x k x h x w` (rank 4) or `seq x n x k x h x w` (rank 5); spec-4
bundles record an ND rank (`_rank`) and keep the last `_rank` of `(n, k, h, w)`. Axis codes of
the format (transpose `axis_*`, slice `axis`, softmax `C`) number the axes w=0, h=1, k=2, n=3,
seq=4 [O: consistent over every sample layer]; `canonical5` gives the numpy view that matches.
"""
from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from mlir_coreml.ir.attributes import (ArrayAttr, Attribute, BoolAttr, DictAttr, FloatAttr, IntAttr,
                                       JSON_NULL, StringAttr)
from mlir_coreml.ir.core import Operation
from mlir_coreml.ir.opdef import AnyTensor, Pure, VerifyError, attribute, op_def, operand, region, result
from mlir_coreml.ir.types import F16, F32, TensorType
from mlir_coreml.ir.shapes import same_padding, window_output_size

# Espresso axis code (w=0 ... seq=4) -> axis of the canonical rank-5 (seq, n, k, h, w) array.
AXIS_CODE_TO_CANONICAL = {0: 4, 1: 3, 2: 2, 3: 1, 4: 0}
SHAPE_KEYS = ("n", "k", "h", "w")

# Keys that are not attributes: structure (name/type/bottom/top), and the always-empty `weights`.
STRUCTURAL_KEYS = frozenset({"name", "type", "bottom", "top", "weights"})
INTERNAL_ATTRIBUTES = frozenset({"extra_fields", "layer_type", "blob_keys", "operand_segments"})

ACTIVATION_RELU, ACTIVATION_TANH, ACTIVATION_LEAKY, ACTIVATION_SIGMOID = 0, 1, 2, 3
ACTIVATION_LINEAR, ACTIVATION_SIGMOID_HARD = 6, 7
# third-party mode tables [3P, docs/espresso-format.md 2.5], used for kinds no sample shows
ACTIVATION_SCALED_TANH, ACTIVATION_ELU, ACTIVATION_THRESHOLDED_RELU = 5, 8, 9
ACTIVATION_SOFTPLUS, ACTIVATION_SOFTSIGN = 10, 12
ELEMENTWISE_ADD, ELEMENTWISE_MUL, ELEMENTWISE_INVERSE = 0, 1, 10
# one input and a constant alpha [seen: Apple-internal net, hard-swish's x + 3 and x * 1/6]
ELEMENTWISE_ADD_ALPHA, ELEMENTWISE_MUL_ALPHA = 2, 3
ELEMENTWISE_MAX_ALPHA, ELEMENTWISE_EXP = 25, 27
# one-input functions from third-party operation tables [3P, docs/espresso-format.md 2.5]
ELEMENTWISE_FUNCTIONS = {11: np.sqrt, 12: lambda x: np.float32(1) / np.sqrt(x), 24: np.abs, 26: np.log}
ELEMENTWISE_SQRT, ELEMENTWISE_RSQRT, ELEMENTWISE_ABS, ELEMENTWISE_LOG = 11, 12, 24, 26
PAD_EXPLICIT, PAD_SAME, PAD_VALID = 0, 1, 2
# "same" padding with the odd pixel at the top/left (NeuralNetwork SamePadding TOP_LEFT_HEAVY)
# [V: MNISTClassifier's three convolutions, a 2024+ coremlc bundle with its source]
PAD_SAME_TOP_LEFT = 4
SAME_PAD_MODES = (PAD_SAME, PAD_SAME_TOP_LEFT)


# -- blob shapes ------------------------------------------------------------------------------

def type_from_shape(shape: dict, element=F32) -> TensorType:
    """The tensor type of a `model.espresso.shape` entry."""
    nkhw = tuple(int(shape.get(key, 1)) for key in SHAPE_KEYS)
    if "_rank" in shape:
        rank = int(shape["_rank"])
        if rank > 4:
            return TensorType((int(shape.get("seq", 1)),) + nkhw, element)
        return TensorType(nkhw[4 - rank:], element)
    if "seq" in shape:
        return TensorType((int(shape["seq"]),) + nkhw, element)
    return TensorType(nkhw, element)


def shape_of_type(type: TensorType, nd_rank: bool = False) -> dict:
    """The `model.espresso.shape` entry for a blob of `type` (`_rank` for spec-4 bundles)."""
    dims = list(type.shape)
    entry = {}
    if len(dims) == 5:
        entry["seq"] = dims.pop(0)
    dims = [1] * (4 - len(dims)) + dims
    entry.update(zip(SHAPE_KEYS, dims))
    if nd_rank:
        entry["_rank"] = len(type.shape)
    return {key: entry[key] for key in ("n", "k", "h", "w", "seq", "_rank") if key in entry}


def canonical5(array: np.ndarray) -> np.ndarray:
    """A blob as (seq, n, k, h, w): lower ranks are padded with leading 1s."""
    return array.reshape((1,) * (5 - array.ndim) + array.shape)


def _f32(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float32)


# -- attribute <-> JSON -----------------------------------------------------------------------

def json_value(attr: Attribute):
    """The JSON value an attribute stands for (ints stay ints, float32 values stay doubles)."""
    if isinstance(attr, DictAttr):
        return {key: json_value(value) for key, value in attr.data}
    if isinstance(attr, ArrayAttr):
        return [json_value(value) for value in attr.data]
    if isinstance(attr, (IntAttr, FloatAttr, BoolAttr, StringAttr)):
        return attr.data
    if attr == JSON_NULL:
        return None
    raise TypeError(f"attribute {attr!r} has no JSON form")


# -- the layer base -----------------------------------------------------------------------------

class Layer(Operation):
    """Common behaviour of espresso layers. Subclasses set `blob_operands` to name the weight
    operands in blob-id order with their net key."""

    layer_type: ClassVar[str] = ""
    traits = frozenset({Pure})

    @property
    def espresso_type(self) -> str:
        return self.layer_type

    @property
    def layer_name(self) -> str:
        return self.location.name if self.location and self.location.name else ""

    def blobs(self) -> list[tuple[str, object]]:
        """(net key, value) of the weight operands, in blob-id order."""
        return []

    def data_inputs(self) -> list:
        blob_values = {id(value) for _, value in self.blobs()}
        return [v for v in self.operands if id(v) not in blob_values]

    def fields(self) -> dict:
        """The layer's JSON fields other than name/type/bottom/top/weights/blob ids."""
        out = {}
        for key, attr in self.attributes.items():
            if key in INTERNAL_ATTRIBUTES:
                continue
            out[key] = json_value(attr)
        extra = self.attributes.get("extra_fields")
        if extra is not None:
            out.update(json_value(extra))
        return out

    def attr(self, key: str, default=None):
        value = self.attributes.get(key)
        return default if value is None else value.value

    def reference_output(self, array: np.ndarray) -> np.ndarray:
        """Reshape a canonical rank-5 result to the declared result shape."""
        return _f32(array).reshape(self.results[0].type.shape)


def _weighted_blobs(op, weights_key: str = "blob_weights") -> list:
    out = []
    if op.biases is not None:
        out.append(("blob_biases", op.biases))
    key = weights_key + ("_f16" if op.weights.type.element == F16 else "")
    out.append((key, op.weights))
    return out


def _check_channels(op, expected: int, what: str) -> None:
    shape = op.input.type.shape
    if shape is None or len(shape) < 3 or shape[-3] is None:
        return
    if shape[-3] != expected:
        raise VerifyError(f"{what} expects {expected} input channels, the input has {shape[-3]}")


def _conv_out(size: int, kernel: int, stride: int, before: int, after: int, pad_mode: int) -> int:
    if pad_mode in SAME_PAD_MODES:
        return -(-size // stride)
    if pad_mode == PAD_VALID:
        before = after = 0
    return window_output_size(size, kernel, stride, 1, before, after)


def _window_pads(op, h: int, w: int, ky: int, kx: int, sy: int, sx: int) -> tuple[int, int, int, int]:
    mode = op.attr("pad_mode", PAD_EXPLICIT)
    if mode == PAD_SAME:
        return same_padding(h, ky, sy) + same_padding(w, kx, sx)
    if mode == PAD_SAME_TOP_LEFT:
        return same_padding(h, ky, sy, top_left_heavy=True) + same_padding(w, kx, sx, top_left_heavy=True)
    if mode == PAD_VALID:
        return 0, 0, 0, 0
    return op.attr("pad_t", 0), op.attr("pad_b", 0), op.attr("pad_l", 0), op.attr("pad_r", 0)


# -- weighted layers ----------------------------------------------------------------------------

@op_def("espresso.convolution")
class ConvolutionOp(Layer):
    """`weights` is [C][K/n_groups][Ny][Nx]; `fused_relu`/`fused_tanh` apply after the bias."""

    layer_type = "convolution"
    input = operand(AnyTensor)
    weights = operand(AnyTensor)
    biases = operand(AnyTensor, optional=True)
    output = result(AnyTensor)
    C = attribute("int")
    K = attribute("int")
    Nx = attribute("int")
    Ny = attribute("int")
    n_groups = attribute("int", default=1)
    stride_x = attribute("int", default=1)
    stride_y = attribute("int", default=1)
    pad_mode = attribute("int", default=PAD_EXPLICIT)
    has_biases = attribute("int", default=0)
    fused_relu = attribute("int", default=0)
    fused_tanh = attribute("int", default=0)

    def blobs(self):
        return _weighted_blobs(self)

    def verify_(self):
        shape = self.weights.type.shape
        expected = (self.C, self.K // max(self.n_groups, 1), self.Ny, self.Nx)
        if shape is not None and tuple(shape) != expected:
            raise VerifyError(f"weights have shape {tuple(shape)}, C/K/n_groups/Ny/Nx say {expected}")
        if self.biases is not None and self.biases.type.shape != (self.C,):
            raise VerifyError(f"biases have shape {self.biases.type.shape}, expected ({self.C},)")
        if bool(self.has_biases) != (self.biases is not None):
            raise VerifyError(f"has_biases is {self.has_biases} but the op has "
                              f"{'a' if self.biases is not None else 'no'} biases operand")
        _check_channels(self, self.K, "convolution")

    def infer_types(self):
        n, _, h, w = self.input.type.shape[-4:]
        pads = [self.attr(k, 0) for k in ("pad_t", "pad_b", "pad_l", "pad_r")]
        oh = _conv_out(h, self.Ny, self.stride_y, pads[0], pads[1], self.pad_mode)
        ow = _conv_out(w, self.Nx, self.stride_x, pads[2], pads[3], self.pad_mode)
        return [self.input.type.with_shape(self.input.type.shape[:-4] + (n, self.C, oh, ow))]

    def reference(self, x, weights, biases=None):
        x = canonical5(_f32(x))
        seq, n, k, h, w = x.shape
        x = x.reshape(seq * n, k, h, w)
        pt, pb, pl, pr = _window_pads(self, h, w, self.Ny, self.Nx, self.stride_y, self.stride_x)
        x = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)), constant_values=self.attr("pad_value", 0))
        out = convolve(x, _f32(weights), self.n_groups, self.stride_y, self.stride_x)
        if biases is not None:
            out += _f32(biases)[None, :, None, None]
        out = _post_activation(out, self.fused_relu, self.fused_tanh)
        return out.reshape(self.output.type.shape)


def convolve(x: np.ndarray, weights: np.ndarray, groups: int, sy: int, sx: int) -> np.ndarray:
    """Grouped 2-D cross-correlation of an already padded NCHW batch (float32 accumulate)."""
    batch, k, h, w = x.shape
    c_out, k_group, ky, kx = weights.shape
    oh, ow = (h - ky) // sy + 1, (w - kx) // sx + 1
    out = np.zeros((batch, c_out, oh, ow), np.float32)
    c_group = c_out // groups
    for g in range(groups):
        xg = x[:, g * k_group:(g + 1) * k_group]
        wg = weights[g * c_group:(g + 1) * c_group]
        for i in range(ky):
            for j in range(kx):
                patch = xg[:, :, i:i + sy * (oh - 1) + 1:sy, j:j + sx * (ow - 1) + 1:sx]
                out[:, g * c_group:(g + 1) * c_group] += np.einsum("bkhw,ck->bchw", patch, wg[:, :, i, j])
    return out


def _post_activation(out: np.ndarray, relu, tanh) -> np.ndarray:
    if relu:
        out = np.maximum(out, 0)
    if tanh:
        out = np.tanh(out)
    return out


@op_def("espresso.deconvolution")
class DeconvolutionOp(Layer):
    """Transposed convolution [inferred form; the type and its convolution keys are known to open
    readers]: `weights` is [K][C/n_groups][Ny][Nx], input channels first as the source layer
    stores them; the full transposed output is cropped from (pad_t, pad_l) to the result blob's
    height and width, which the shape file records (a source `outputShape` included)."""

    layer_type = "deconvolution"
    input = operand(AnyTensor)
    weights = operand(AnyTensor)
    biases = operand(AnyTensor, optional=True)
    output = result(AnyTensor)
    C = attribute("int")
    K = attribute("int")
    Nx = attribute("int")
    Ny = attribute("int")
    n_groups = attribute("int", default=1)
    stride_x = attribute("int", default=1)
    stride_y = attribute("int", default=1)
    has_biases = attribute("int", default=0)

    def blobs(self):
        return _weighted_blobs(self)

    def kernel_shape(self) -> tuple[int, int, int, int]:
        return self.K, self.C // max(self.n_groups, 1), self.Ny, self.Nx

    def verify_(self):
        weights = self.weights.type
        if weights.shape is not None and weights.num_elements != math.prod(self.kernel_shape()):
            raise VerifyError(f"weights have shape {tuple(weights.shape)}, K/C/n_groups/Ny/Nx say "
                              f"{self.kernel_shape()}")
        _check_channels(self, self.K, "deconvolution")

    def infer_types(self):
        shape = self.input.type.shape
        h, w = shape[-2:]
        oh = (h - 1) * self.stride_y + self.Ny - self.attr("pad_t", 0) - self.attr("pad_b", 0)
        ow = (w - 1) * self.stride_x + self.Nx - self.attr("pad_l", 0) - self.attr("pad_r", 0)
        return [self.input.type.with_shape(shape[:-3] + (self.C, oh, ow))]

    def reference(self, x, weights, biases=None):
        from mlir_coreml.ir.dialects.nn.spatial import crop_or_pad, deconv

        x = canonical5(_f32(x))
        seq, n, k, h, w = x.shape
        full = deconv(x.reshape(seq * n, k, h, w), _f32(weights).reshape(self.kernel_shape()), self.n_groups,
                      (self.stride_y, self.stride_x), (1, 1))
        out = crop_or_pad(full, (self.attr("pad_t", 0), self.attr("pad_l", 0)), self.output.type.shape[-2:])
        if biases is not None:
            out = out + _f32(biases).reshape(1, -1, 1, 1)
        out = _post_activation(out, self.attr("fused_relu", 0), self.attr("fused_tanh", 0))
        return self.reference_output(out)


@op_def("espresso.inner_product")
class InnerProductOp(Layer):
    """`weights` is [nC][nB]; biases are nC floats (written padded to 4*nC in the bundle)."""

    layer_type = "inner_product"
    input = operand(AnyTensor)
    weights = operand(AnyTensor)
    biases = operand(AnyTensor, optional=True)
    output = result(AnyTensor)
    nB = attribute("int")
    nC = attribute("int")
    has_biases = attribute("int", default=0)
    has_relu = attribute("int", default=0)
    has_tanh = attribute("int", default=0)

    def blobs(self):
        return _weighted_blobs(self)

    def verify_(self):
        if self.weights.type.shape is not None and tuple(self.weights.type.shape) != (self.nC, self.nB):
            raise VerifyError(f"weights have shape {self.weights.type.shape}, expected ({self.nC}, {self.nB})")
        if bool(self.has_biases) != (self.biases is not None):
            raise VerifyError(f"has_biases is {self.has_biases} but the biases operand is "
                              f"{'present' if self.biases is not None else 'absent'}")

    def infer_types(self):
        shape = tuple(self.input.type.shape)
        if len(shape) >= 4 and (shape[-1] != self.nB or shape[-3:] == (self.nB, 1, 1)):
            # a rank-4/5 blob is one vector of k*h*w per (seq, n): the result is (.., n, nC, 1, 1)
            return [self.input.type.with_shape(shape[:-3] + (self.nC, 1, 1))]
        return [self.input.type.with_shape(shape[:-1] + (self.nC,))]  # N-D: over the last axis

    def reference(self, x, weights, biases=None):
        x = _f32(x)
        flat = x.reshape(-1, self.nB)
        out = flat @ _f32(weights).T
        if biases is not None:
            out = out + _f32(biases)[:self.nC]
        out = _post_activation(out, self.has_relu, self.has_tanh)
        return out.reshape(self.output.type.shape)


@op_def("espresso.batchnorm")
class BatchnormOp(Layer):
    """`params` is the `blob_batchnorm_params` blob (layout [O]: gamma, beta, mean, variance)."""

    layer_type = "batchnorm"
    input = operand(AnyTensor)
    params = operand(AnyTensor)
    output = result(AnyTensor)
    C = attribute("int")

    def blobs(self):
        return [("blob_batchnorm_params", self.params)]

    def infer_types(self):
        return [self.input.type]

    def reference(self, x, params):
        gamma, beta, mean, var = _f32(params).reshape(4, self.C)
        eps = self.attr("training_eps", 1e-5)
        x5 = canonical5(_f32(x))
        shape = (1, 1, self.C, 1, 1)
        out = (x5 - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps) * gamma.reshape(shape) \
            + beta.reshape(shape)
        return self.reference_output(out)


# -- layers without weights -----------------------------------------------------------------------

# pool `top_shape_style` 2: Caffe's ceil rule for the output size (pads symmetric; a window may
# hang over the bottom/right edge) [seen: 2017 SqueezeNet/Fruit nets, an Apple-internal net]
TOP_SHAPE_CEIL = 2


def _ceil_out(size: int, kernel: int, stride: int, pad: int) -> int:
    out = -(-(size + 2 * pad - kernel) // stride) + 1
    if pad and (out - 1) * stride >= size + pad:
        out -= 1  # the last window must start inside the input or its leading padding
    return out


@op_def("espresso.pool")
class PoolOp(Layer):
    layer_type = "pool"
    input = operand(AnyTensor)
    output = result(AnyTensor)
    avg_or_max = attribute("int")
    size_x = attribute("int", default=1)
    size_y = attribute("int", default=1)
    stride_x = attribute("int", default=1)
    stride_y = attribute("int", default=1)
    pad_mode = attribute("int", default=PAD_EXPLICIT)

    def _geometry(self, h, w):
        if self.attr("is_global", 0):
            return h, w, 1, 1
        return self.size_y, self.size_x, self.stride_y, self.stride_x

    @property
    def ceil_mode(self) -> bool:
        return self.attr("top_shape_style", 0) == TOP_SHAPE_CEIL

    def output_size(self, h, w) -> tuple[int, int]:
        ky, kx, sy, sx = self._geometry(h, w)
        pt, pb, pl, pr = [self.attr(k, 0) for k in ("pad_t", "pad_b", "pad_l", "pad_r")]
        if self.ceil_mode:
            return _ceil_out(h, ky, sy, pt), _ceil_out(w, kx, sx, pl)
        return _conv_out(h, ky, sy, pt, pb, self.pad_mode), _conv_out(w, kx, sx, pl, pr, self.pad_mode)

    def infer_types(self):
        shape = self.input.type.shape
        return [self.input.type.with_shape(shape[:-2] + self.output_size(*shape[-2:]))]

    def reference(self, x):
        x = canonical5(_f32(x))
        seq, n, k, h, w = x.shape
        x = x.reshape(seq * n, k, h, w)
        ky, kx, sy, sx = self._geometry(h, w)
        pt, pb, pl, pr = _window_pads(self, h, w, ky, kx, sy, sx)
        declared_b, declared_r = pb, pr
        if self.ceil_mode:  # pad the bottom/right as far as the last window reaches
            oh, ow = self.output_size(h, w)
            pb, pr = max((oh - 1) * sy + ky - h - pt, 0), max((ow - 1) * sx + kx - w - pl, 0)
        is_max = self.avg_or_max == 1
        pad_value = -np.inf if is_max else 0.0
        padded = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)), constant_values=pad_value)
        oh, ow = (padded.shape[2] - ky) // sy + 1, (padded.shape[3] - kx) // sx + 1

        def windows(a):
            return np.stack([a[:, :, i:i + sy * (oh - 1) + 1:sy, j:j + sx * (ow - 1) + 1:sx]
                             for i in range(ky) for j in range(kx)])
        if is_max:
            return self.reference_output(windows(padded).max(axis=0))
        total = windows(padded).sum(axis=0, dtype=np.float32)
        if self.attr("average_count_exclude_padding", 1):
            counts = windows(np.pad(np.ones((1, 1, h, w), np.float32), ((0, 0), (0, 0), (pt, pb), (pl, pr))))
        else:  # the padding counts, window parts beyond it do not
            region = np.pad(np.ones((1, 1, h + pt + declared_b, w + pl + declared_r), np.float32),
                            ((0, 0), (0, 0), (0, max(pb - declared_b, 0)), (0, max(pr - declared_r, 0))))
            counts = windows(region[:, :, :padded.shape[2], :padded.shape[3]])
        return self.reference_output(total / counts.sum(axis=0))


@op_def("espresso.activation")
class ActivationOp(Layer):
    """mode 0 ReLU, 1 tanh, 2 leaky ReLU(alpha), 3 sigmoid, 6 linear alpha*x+beta,
    7 hard sigmoid clip(alpha*x+beta, 0, 1); `alpha` is omitted when 1 by 2021+ coremlc.
    From third-party tables: 5 alpha*tanh(beta*x), 8 ELU(alpha), 9 x if x > alpha else 0,
    10 softplus, 12 softsign."""

    layer_type = "activation"
    input = operand(AnyTensor)
    output = result(AnyTensor)
    mode = attribute("int")

    def infer_types(self):
        return [self.input.type]

    def reference(self, x):
        x = _f32(x)
        alpha, beta = np.float32(self.attr("alpha", 1.0)), np.float32(self.attr("beta", 0.0))
        mode = self.mode
        if mode == ACTIVATION_RELU:
            return np.maximum(x, 0)
        if mode == ACTIVATION_TANH:
            return np.tanh(x)
        if mode == ACTIVATION_LEAKY:
            return np.where(x >= 0, x, alpha * x).astype(np.float32)
        if mode == ACTIVATION_SIGMOID:
            return (1 / (1 + np.exp(-x))).astype(np.float32)
        if mode == ACTIVATION_LINEAR:
            return alpha * x + beta
        if mode == ACTIVATION_SIGMOID_HARD:
            return np.clip(alpha * x + beta, 0, 1)
        if mode == ACTIVATION_SCALED_TANH:
            return (alpha * np.tanh(beta * x)).astype(np.float32)
        if mode == ACTIVATION_ELU:
            return np.where(x >= 0, x, alpha * np.expm1(np.minimum(x, 0))).astype(np.float32)
        if mode == ACTIVATION_THRESHOLDED_RELU:
            return np.where(x > alpha, x, 0).astype(np.float32)
        if mode == ACTIVATION_SOFTPLUS:
            return np.logaddexp(0, x).astype(np.float32)
        if mode == ACTIVATION_SOFTSIGN:
            return (x / (1 + np.abs(x))).astype(np.float32)
        raise NotImplementedError(f"activation mode {mode} has no reference semantics")


@op_def("espresso.elementwise")
class ElementwiseOp(Layer):
    """operation 0 add, 1 multiply (over the inputs, broadcasting), 2 x + alpha, 3 x * alpha,
    10 inverse 1/x, 25 max(x, alpha), 27 exp; from third-party tables 11 sqrt, 12 rsqrt, 24 abs,
    26 log; `fused_relu` applies after."""

    layer_type = "elementwise"
    inputs = operand(AnyTensor, variadic=True)
    output = result(AnyTensor)
    operation = attribute("int")

    def verify_(self):
        if not self.inputs:
            raise VerifyError("needs at least one input")

    def infer_types(self):
        shapes = [v.type.shape for v in self.inputs]
        return [self.inputs[0].type.with_shape(np.broadcast_shapes(*shapes))]

    def reference(self, *xs):
        xs = [_f32(x) for x in xs]
        alpha = np.float32(self.attr("alpha", 1.0))
        op = self.operation
        if op == ELEMENTWISE_ADD and len(xs) > 1:
            out = xs[0]
            for x in xs[1:]:
                out = out + x
        elif op == ELEMENTWISE_MUL and len(xs) > 1:
            out = xs[0]
            for x in xs[1:]:
                out = out * x
        elif op == ELEMENTWISE_ADD_ALPHA and len(xs) == 1:
            out = xs[0] + alpha
        elif op == ELEMENTWISE_MUL_ALPHA and len(xs) == 1:
            out = xs[0] * alpha
        elif op == ELEMENTWISE_INVERSE:
            out = np.float32(1) / xs[0]
        elif op == ELEMENTWISE_MAX_ALPHA:
            out = np.maximum(xs[0], alpha)
        elif op == ELEMENTWISE_EXP:
            out = np.exp(xs[0])
        elif op in ELEMENTWISE_FUNCTIONS and len(xs) == 1:
            out = ELEMENTWISE_FUNCTIONS[op](xs[0])
        else:
            raise NotImplementedError(f"elementwise operation {op} with {len(xs)} input(s) "
                                      "has no reference semantics")
        return _post_activation(_f32(out), self.attr("fused_relu", 0), 0)


def _concat_type(op, canonical_axis: int):
    first = op.inputs[0].type
    rank = first.rank
    axis = canonical_axis - (5 - rank)
    total = sum(v.type.shape[axis] for v in op.inputs)
    shape = list(first.shape)
    shape[axis] = total
    return [first.with_shape(shape)]


@op_def("espresso.concat")
class ConcatOp(Layer):
    """Channel (k) concatenation."""

    layer_type = "concat"
    inputs = operand(AnyTensor, variadic=True)
    output = result(AnyTensor)

    def infer_types(self):
        return _concat_type(self, 2)

    def reference(self, *xs):
        return self.reference_output(np.concatenate([canonical5(_f32(x)) for x in xs], axis=2))


@op_def("espresso.sequence_concat")
class SequenceConcatOp(Layer):
    """Concatenation along the sequence axis."""

    layer_type = "sequence_concat"
    inputs = operand(AnyTensor, variadic=True)
    output = result(AnyTensor)

    def infer_types(self):
        first = self.inputs[0].type
        if first.rank < 5:
            return [first.with_shape((len(self.inputs),) + tuple(first.shape[-4:]))]
        return _concat_type(self, 0)

    def reference(self, *xs):
        return self.reference_output(np.concatenate([canonical5(_f32(x)) for x in xs], axis=0))


def _softmax(x: np.ndarray, axis: int) -> np.ndarray:
    shifted = x - x.max(axis=axis, keepdims=True)
    e = np.exp(shifted)
    return (e / e.sum(axis=axis, keepdims=True)).astype(np.float32)


@op_def("espresso.softmax")
class SoftmaxOp(Layer):
    """`C` is an axis code (2 = channels), not a channel count."""

    layer_type = "softmax"
    input = operand(AnyTensor)
    output = result(AnyTensor)
    C = attribute("int", default=2)

    def infer_types(self):
        return [self.input.type]

    def reference(self, x):
        return self.reference_output(_softmax(canonical5(_f32(x)), AXIS_CODE_TO_CANONICAL[self.C]))


@op_def("espresso.softmax_nd")
class SoftmaxNdOp(Layer):
    layer_type = "softmax_nd"
    input = operand(AnyTensor)
    output = result(AnyTensor)
    nd_axis = attribute("int", default=-1)

    def infer_types(self):
        return [self.input.type]

    def reference(self, x):
        return _softmax(_f32(x), self.nd_axis)


@op_def("espresso.transpose")
class TransposeOp(Layer):
    """Output axis X takes input axis `axis_X` (codes w=0, h=1, k=2, n=3, seq=4)."""

    layer_type = "transpose"
    input = operand(AnyTensor)
    output = result(AnyTensor)
    axis_n = attribute("int", default=3)
    axis_k = attribute("int", default=2)
    axis_h = attribute("int", default=1)
    axis_w = attribute("int", default=0)
    axis_seq = attribute("int", default=4)

    def permutation(self) -> tuple[int, ...]:
        """numpy axes of the canonical (seq, n, k, h, w) input, one per output axis."""
        codes = (self.axis_seq, self.axis_n, self.axis_k, self.axis_h, self.axis_w)
        return tuple(AXIS_CODE_TO_CANONICAL[c] for c in codes)

    def verify_(self):
        codes = sorted((self.axis_seq, self.axis_n, self.axis_k, self.axis_h, self.axis_w))
        if codes != [0, 1, 2, 3, 4]:
            raise VerifyError(f"axis_* must be a permutation of 0..4, got {codes}")

    def infer_types(self):
        shape = (1,) * (5 - self.input.type.rank) + tuple(self.input.type.shape)
        out = tuple(shape[a] for a in self.permutation())
        return [self.input.type.with_shape(out[5 - self.input.type.rank:])]

    def reference(self, x):
        return self.reference_output(np.transpose(canonical5(_f32(x)), self.permutation()))


@op_def("espresso.reshape")
class ReshapeOp(Layer):
    """`dst_*` per axis: a size, 0 = keep the input's, -1 = infer. Shape comes from the result."""

    layer_type = "reshape"
    input = operand(AnyTensor)
    output = result(AnyTensor)

    def infer_types(self):
        src = (1,) * (5 - self.input.type.rank) + tuple(self.input.type.shape)
        dst = [self.attr(f"dst_{k}", 0) for k in ("seq", "n", "k", "h", "w")]
        dst = [src[i] if d == 0 else d for i, d in enumerate(dst)]
        if -1 in dst:
            known = math.prod(d for d in dst if d != -1)
            dst[dst.index(-1)] = math.prod(src) // known
        if "dst_nd_rank" in self.attributes:
            return [self.input.type.with_shape(dst[5 - self.attr("dst_nd_rank"):])]
        return [self.input.type.with_shape(dst if dst[0] != 1 else dst[1:])]

    def reference(self, x):
        return self.reference_output(_f32(x))


@op_def("espresso.flatten")
class FlattenOp(Layer):
    """(seq, n, k, h, w) -> (seq, n, k*h*w, 1, 1): mode 0 in channel-first order, mode 1 in
    channel-last (h, w, k) order, as NeuralNetwork's FlattenLayerParams modes [V LetterClass]."""

    layer_type = "flatten"
    input = operand(AnyTensor)
    output = result(AnyTensor)

    def infer_types(self):
        shape = tuple(self.input.type.shape)
        return [self.input.type.with_shape(shape[:-3] + (math.prod(shape[-3:]), 1, 1))]

    def reference(self, x):
        x = _f32(x)
        if self.attr("mode", 0) == 1:
            x = np.moveaxis(x, -3, -1)
        return self.reference_output(np.ascontiguousarray(x))


# reduce `axis_mode` -> canonical axes [O: 4 for the source axis C].
REDUCE_AXES = {4: (2,)}
REDUCE_MODE_SUM = 0


@op_def("espresso.reduce")
class ReduceOp(Layer):
    layer_type = "reduce"
    input = operand(AnyTensor)
    output = result(AnyTensor)
    mode = attribute("int", default=REDUCE_MODE_SUM)
    axis_mode = attribute("int")

    def infer_types(self):
        shape = [1] * (5 - self.input.type.rank) + list(self.input.type.shape)
        for axis in REDUCE_AXES[self.axis_mode]:
            shape[axis] = 1
        return [self.input.type.with_shape(shape[5 - self.input.type.rank:])]

    def reference(self, x):
        if self.mode != REDUCE_MODE_SUM or self.axis_mode not in REDUCE_AXES:
            raise NotImplementedError(f"reduce mode {self.mode} axis_mode {self.axis_mode} "
                                      "has no reference semantics")
        out = canonical5(_f32(x)).sum(axis=REDUCE_AXES[self.axis_mode], keepdims=True, dtype=np.float32)
        return self.reference_output(out)


@op_def("espresso.slice")
class SliceOp(Layer):
    """Elements [start, end) of axis code `axis` (2 = channels)."""

    layer_type = "slice"
    input = operand(AnyTensor)
    output = result(AnyTensor)
    axis = attribute("int")
    start = attribute("int", default=0)
    end = attribute("int", default=-1)

    def _bounds(self, size: int) -> tuple[int, int]:
        end = self.end if self.end >= 0 else size + 1 + self.end
        return self.start, min(end, size)

    def infer_types(self):
        shape = [1] * (5 - self.input.type.rank) + list(self.input.type.shape)
        axis = AXIS_CODE_TO_CANONICAL[self.axis]
        start, end = self._bounds(shape[axis])
        shape[axis] = end - start
        return [self.input.type.with_shape(shape[5 - self.input.type.rank:])]

    def reference(self, x):
        x = canonical5(_f32(x))
        axis = AXIS_CODE_TO_CANONICAL[self.axis]
        start, end = self._bounds(x.shape[axis])
        return self.reference_output(np.take(x, range(start, end), axis=axis))


@op_def("espresso.general_padding")
class GeneralPaddingOp(Layer):
    """Constant padding (pad_pad_mode 0) of h/w by pad_t/b/l/r with `pad_value`."""

    layer_type = "general_padding"
    input = operand(AnyTensor)
    output = result(AnyTensor)
    pad_t = attribute("int", default=0)
    pad_b = attribute("int", default=0)
    pad_l = attribute("int", default=0)
    pad_r = attribute("int", default=0)

    def infer_types(self):
        shape = tuple(self.input.type.shape)
        return [self.input.type.with_shape(shape[:-2] + (shape[-2] + self.pad_t + self.pad_b,
                                                         shape[-1] + self.pad_l + self.pad_r))]

    def reference(self, x):
        if self.attr("pad_pad_mode", 0) != 0:
            raise NotImplementedError("only constant padding (pad_pad_mode 0) has reference semantics")
        x = _f32(x)
        widths = [(0, 0)] * (x.ndim - 2) + [(self.pad_t, self.pad_b), (self.pad_l, self.pad_r)]
        return np.pad(x, widths, constant_values=self.attr("pad_value", 0))


@op_def("espresso.layer")
class GenericLayerOp(Layer):
    """A layer type this dialect does not model, kept field for field: `layer_type` is its
    espresso type, `blob_keys` the net key of each weight operand (the last operands)."""

    inputs = operand(AnyTensor, variadic=True)
    outputs = result(AnyTensor, variadic=True)
    # not Pure: an unknown layer may draw random numbers or jump out of a loop (loop_break)
    traits = frozenset()

    @property
    def espresso_type(self) -> str:
        return self.attributes["layer_type"].value

    def blobs(self):
        keys = self.attr("blob_keys", ())
        values = self.operands[len(self.operands) - len(keys):] if keys else ()
        return list(zip(keys, values))

    def verify_(self):
        if not isinstance(self.attributes.get("layer_type"), StringAttr):
            raise VerifyError("requires a string attribute 'layer_type'")

    def infer_types(self):
        """An inferred form's result types are those of its nn layer (flexible shapes retype the
        bundle), at the blob ranks the layer declares; other layers keep the types the shape file
        declares (no types: nothing inferred)."""
        from mlir_coreml.ir.core import Value
        from mlir_coreml.ir.dialects import espresso_forms

        if self.regions or not espresso_forms.is_inferred_layer(self):
            return []
        classic = espresso_forms.is_classic(self)
        data = [Value(espresso_forms.rank5(v.type)) for v in self.data_inputs()] if classic else self.data_inputs()
        layer = espresso_forms.nn_layer(self, data, [value for _, value in self.blobs()])
        try:
            types = layer.infer_types() if hasattr(layer, "infer_types") else []
        finally:
            layer.drop_operands()
        if not classic or len(types) != len(self.results):
            return types
        return [_at_blob_rank(t, r.type) for t, r in zip(types, self.results)]

    def execute(self, interp, env, *arrays):
        """Inferred forms of NeuralNetwork layers run as the nn layer they were written from."""
        from mlir_coreml.ir.dialects import espresso_forms

        if not espresso_forms.is_inferred_layer(self):
            raise NotImplementedError(f"espresso layer type '{self.espresso_type}' has no reference semantics")
        return espresso_forms.execute(self, interp, env, *arrays)


def _at_blob_rank(view: TensorType, declared) -> TensorType:
    """A classic layer's rank-5 result type at the rank of the blob it declares (leading unit axes
    dropped; a blob that outgrew them keeps rank 5)."""
    if not isinstance(declared, TensorType) or declared.shape is None or view.shape is None:
        return view
    cut = len(view.shape) - len(declared.shape)
    if cut <= 0 or any(d != 1 for d in view.shape[:cut]):
        return view
    return view.with_shape(tuple(view.shape[cut:]))


@op_def("espresso.nested_layer")
class NestedLayerOp(GenericLayerOp):
    """A layer holding two nested networks (inferred forms of `loop` and `branch`): its regions,
    in the order espresso_forms.NESTED_NETWORKS names their net keys. Blob names inside are
    those of the source network: a region reads outer blobs by name, its arguments are the
    blobs the layer carries, and it ends with the `nn.yield` of the blobs it hands back."""

    first_network = region()
    second_network = region()
    traits = frozenset()


LAYER_OPS: dict[str, type[Layer]] = {
    cls.layer_type: cls for cls in (ConvolutionOp, DeconvolutionOp, InnerProductOp, BatchnormOp, PoolOp,
                                    ActivationOp, ElementwiseOp, ConcatOp, SequenceConcatOp, SoftmaxOp,
                                    SoftmaxNdOp, TransposeOp, ReshapeOp, FlattenOp, ReduceOp, SliceOp,
                                    GeneralPaddingOp)
}
