"""`nn-to-espresso`: lower NeuralNetwork layers (`nn.*`) to compiled espresso layers, as coremlc.

One espresso layer per source layer, same name and blob names, in source order (fusions are
separate passes: fuse-conv-batchnorm and fold-padding before this one, fuse-activation after),
except `clip(0, M)` (coremltools' ReLU6), which becomes the ReLU / negate / max(x, -M) / negate
chain that older converters wrote as separate layers, with their helper names [O: S1, S2].
Field values and enumeration codes are the ones observed in coremlc output [V S1-S4, see
docs/espresso-format.md 2.4-2.5]. A layer kind (or option) without an observed form is written
in its inferred form (ir/dialects/espresso_forms.py: the params as keys of a layer named after the
kind; loop/branch keep their nested networks as regions), as are blobs whose shapes are known
only at run time. Some espresso types are used beyond what the samples show (deconvolution,
ceil-mode pool, ND transpose, batchnorm, codes from third-party tables); those and every
inferred form are listed in the module attribute `nn-to-espresso.inferred`, so that `lower` can
say which it wrote. docs/espresso-layers.md gives every kind's form and evidence level.

`coremlc-version` picks the era-dependent fields: 2021+ adds `debug_info` (the source layer
name) to every layer, `attributes = {is_output = 1}` to layers producing a model output and
`version = 1` to reshapes. Every era omits an activation's `alpha` when it is 1.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.frontend.espresso.format import COREMLC_ERAS as ERAS, era_at_least
from mlir_coreml.ir.attributes import DenseResourceAttr, IntAttr, to_attr
from mlir_coreml.ir.core import Location
from mlir_coreml.ir.dialects import espresso as esp
from mlir_coreml.ir.dialects import espresso_forms as forms
from mlir_coreml.ir.dialects.constant import ConstantOp
from mlir_coreml.ir.opdef import build
from mlir_coreml.ir.types import F32, TensorType, element_type_of
from mlir_coreml.ir.verifier import describe_location
from mlir_coreml.passes.base import ModulePass, PassContext

INFERRED_ATTR = "nn-to-espresso.inferred"  # module attribute: the inferred forms written
IMAGE_PREPROCESS = "nn.image_preprocess"
YIELD = "nn.yield"  # ends a nested network; the bundle names what it yields by blob name

ACTIVATION_MODES = {"ReLU": esp.ACTIVATION_RELU, "tanh": esp.ACTIVATION_TANH, "leakyReLU": esp.ACTIVATION_LEAKY,
                    "sigmoid": esp.ACTIVATION_SIGMOID, "linear": esp.ACTIVATION_LINEAR,
                    "sigmoidHard": esp.ACTIVATION_SIGMOID_HARD, "scaledTanh": esp.ACTIVATION_SCALED_TANH,
                    "ELU": esp.ACTIVATION_ELU, "thresholdedReLU": esp.ACTIVATION_THRESHOLDED_RELU,
                    "softplus": esp.ACTIVATION_SOFTPLUS, "softsign": esp.ACTIVATION_SOFTSIGN}
# modes known from third-party tables only: `lower` names them among its inferred forms
THIRD_PARTY_ACTIVATIONS = frozenset({"scaledTanh", "ELU", "thresholdedReLU", "softplus", "softsign"})
UNARY_OPERATIONS = {"THRESHOLD": esp.ELEMENTWISE_MAX_ALPHA, "EXP": esp.ELEMENTWISE_EXP,
                    "INVERSE": esp.ELEMENTWISE_INVERSE, "SQRT": esp.ELEMENTWISE_SQRT, "RSQRT": esp.ELEMENTWISE_RSQRT,
                    "ABS": esp.ELEMENTWISE_ABS, "LOG": esp.ELEMENTWISE_LOG}
THIRD_PARTY_UNARY = frozenset({"SQRT", "RSQRT", "ABS", "LOG"})  # codes from third-party tables only
CLASSIC_ELEMENTWISE = {"add": esp.ELEMENTWISE_ADD, "multiply": esp.ELEMENTWISE_MUL}
CONSTANT_ELEMENTWISE = {"add": esp.ELEMENTWISE_ADD_ALPHA, "multiply": esp.ELEMENTWISE_MUL_ALPHA}
# NeuralNetwork [S, C, H, W] axis index -> espresso axis code (w=0, h=1, k=2, n=3, seq=4).
PERMUTE_AXIS_CODES = {0: 4, 1: 2, 2: 1, 3: 0}
SLICE_AXIS_CODES = {"CHANNEL_AXIS": 2, "HEIGHT_AXIS": 1, "WIDTH_AXIS": 0}
REDUCE_MODES = {"SUM": esp.REDUCE_MODE_SUM}
REDUCE_AXIS_MODES = {"C": 4}
RESHAPE_MODES = {"CHANNEL_FIRST": 0, "CHANNEL_LAST": 1}
POOL_TYPES = {"AVERAGE": 0, "MAX": 1}
# A blob whose float4 texture array needs more than this many slices (ceil(seq*n*k/4)) makes
# coremlc mark the layer `hint_fallback_from_metal` [O: exact on every layer of the six samples].
METAL_TEXTURE_SLICE_LIMIT = 2048


def f32(value) -> float:
    """A source float as coremlc writes it: the float32 value, widened to double."""
    return float(np.float32(value))


class NoObservedForm(MlirCoremlError):
    """The layer (or this option of it) has no observed espresso form: it gets its inferred one."""


class Lowering:
    """Converters from one nn layer to (espresso op class, data inputs, weights, fields)."""

    def __init__(self, era: str, nd: bool = False):
        self.era = era
        self.nd = nd
        self.inferred_forms: list[str] = []  # what `lower` warns about

    @property
    def modern(self) -> bool:
        return self.era >= "2021"

    def unsupported(self, op, what: str):
        raise NoObservedForm(f"{op.op_name}: {what} has no observed espresso form", describe_location(op))

    def inferred(self, op):
        """The inferred form (see ir/dialects/espresso_forms.py) of any nn layer."""
        params = {}
        for key, attr in op.attributes.items():
            if key != "weight_fields":
                params[key] = esp.json_value(attr)
        weights, shapes = {}, {}
        for field, value in zip(op.weight_fields, op.weights):
            array = weight_source_array(value, op)
            weights[forms.blob_key(field, element_type_of(array.dtype))] = (array, array.shape, None)
            shapes[field] = list(array.shape)
        fields = forms.encode_params(params)
        if shapes:
            fields[forms.WEIGHT_SHAPES] = shapes
        if self.nd:
            fields[forms.ND_MODE] = True
        fields[forms.SOURCE_KIND] = op.layer_kind
        fields["layer_type"] = forms.espresso_type_of(op.layer_kind)
        data = op.operands[:len(op.operands) - len(op.weight_fields)]  # a loop's carried values too
        return (esp.NestedLayerOp if op.regions else esp.GenericLayerOp), list(data), weights, fields

    # -- weighted layers ------------------------------------------------------------------
    def convolution(self, op):
        if op.attr("isDeconvolution", False):
            return self.deconvolution(op)
        if len(op.inputs) != 1:
            self.unsupported(op, "a convolution with weights as an input")
        if any(int(d) != 1 for d in op.attr("dilationFactor", ()) or ()):
            self.unsupported(op, "dilated convolution")
        kh, kw = (tuple(op.attr("kernelSize", ())) or (3, 3))
        sh, sw = (tuple(op.attr("stride", ())) or (1, 1))
        groups = max(int(op.attr("nGroups", 1)), 1)
        c_out, k_group = int(op.attr("outputChannels")), int(op.attr("kernelChannels"))
        fields = {"C": c_out, "K": k_group * groups, "Nx": int(kw), "Ny": int(kh), "n_groups": groups}
        if sw != 1:
            fields["stride_x"] = int(sw)
        if sh != 1:
            fields["stride_y"] = int(sh)
        if op.attr("same") is not None:
            pads, pad_mode = (0, 0, 0, 0), _same_pad_mode(op)
        else:
            pads, pad_mode = _border(op.attr("valid", {}).get("paddingAmounts")), esp.PAD_EXPLICIT
        fields.update(pad_t=pads[0], pad_b=pads[1], pad_l=pads[2], pad_r=pads[3], pad_mode=pad_mode,
                      pad_value=0, pad_fill_mode=0)
        bias = op.weight("bias") if op.attr("hasBias", False) else None
        fields.update(has_biases=int(bias is not None), fused_relu=0, fused_tanh=0, has_batch_norm=0,
                      n_parallel=1)
        weights = {"weights": (op.weight("weights"), (c_out, k_group, int(kh), int(kw)), None)}
        if bias is not None:
            weights["biases"] = (bias, (c_out,), F32)
        return esp.ConvolutionOp, [op.inputs[0]], weights, fields

    def deconvolution(self, op):
        """A transposed convolution as espresso's `deconvolution` [inferred: readers know the type
        with convolution's keys]: explicit pads (SAME ones computed), the output size in the
        shape file; weights [K = input channels][C/n_groups][Ny][Nx] as the source stores them."""
        if len(op.inputs) != 1 or any(int(d) != 1 for d in op.attr("dilationFactor", ()) or ()):
            self.unsupported(op, "a dilated deconvolution or one with weights as an input")
        h, w = op.inputs[0].type.shape[-2:]
        kh, kw, sh, sw, _, _, pt, pb, pl, pr = op.geometry(h, w)
        groups = op.groups()
        c_in, c_out = int(op.inputs[0].type.shape[-3]), int(op.attr("outputChannels"))
        fields = {"C": c_out, "K": c_in, "Nx": int(kw), "Ny": int(kh), "n_groups": groups, "stride_x": int(sw),
                  "stride_y": int(sh), "pad_t": pt, "pad_b": pb, "pad_l": pl, "pad_r": pr,
                  "pad_mode": esp.PAD_EXPLICIT}
        bias = op.weight("bias") if op.attr("hasBias", False) else None
        fields.update(has_biases=int(bias is not None), fused_relu=0, fused_tanh=0)
        weights = {"weights": (op.weight("weights"), (c_in, c_out // groups, int(kh), int(kw)), None)}
        if bias is not None:
            weights["biases"] = (bias, (c_out,), F32)
        self.inferred_forms.append("deconvolution")
        return esp.DeconvolutionOp, [op.inputs[0]], weights, fields

    def innerProduct(self, op):
        n_in, n_out = int(op.attr("inputChannels")), int(op.attr("outputChannels"))
        bias = op.weight("bias") if op.attr("hasBias", False) else None
        fields = {"nB": n_in, "nC": n_out, "has_biases": int(bias is not None), "has_relu": 0, "has_tanh": 0,
                  "has_prelu": 0}
        weights = {"weights": (op.weight("weights"), (n_out, n_in), None)}
        if bias is not None:
            weights["biases"] = (bias, (n_out,), F32)
        return esp.InnerProductOp, [op.inputs[0]], weights, fields

    def batchnorm(self, op):
        """A batchnorm coremlc could not fold into a convolution, as espresso's `batchnorm`: the
        `blob_batchnorm_params` blob is gamma, beta, mean, variance [type and keys seen in an
        Apple-internal net, whose layers normalise per instance; this use is inferred]."""
        rank = len(op.inputs[0].type.shape)
        if op.attr("computeMeanVar", False) or op.attr("instanceNormalization", False) or rank < 3:
            self.unsupported(op, "a batchnorm computing its statistics or over a rank < 3 blob")
        channels = int(op.attr("channels"))
        parts = [weight_source_array(op.weight(f), op).astype(np.float32).reshape(-1)
                 for f in ("gamma", "beta", "mean", "variance")]
        self.inferred_forms.append("batchnorm")
        fields = {"C": channels, "training_eps": f32(op.attr("epsilon", 0.0))}
        return esp.BatchnormOp, [op.inputs[0]], {"params": (np.concatenate(parts), (4 * channels,), F32)}, fields

    # -- element-wise ---------------------------------------------------------------------
    def activation(self, op):
        kind = op.kind()
        if kind not in ACTIVATION_MODES:
            self.unsupported(op, f"activation {kind}")
        params = op.attr(kind) or {}
        if kind in THIRD_PARTY_ACTIVATIONS:
            self.inferred_forms.append(f"activation ({kind})")
        alpha = f32(params.get("alpha", 1.0 if kind in ("ReLU", "tanh", "sigmoid", "softplus", "softsign") else 0.0))
        fields = {"mode": ACTIVATION_MODES[kind]}
        if alpha != 1.0:  # omitted when 1 [V: S3 (2020) and S4 (2021) hard sigmoids and linears]
            fields["alpha"] = alpha
        if kind != "ReLU":  # a ReLU layer has mode only [O: UpdatableDrawingClassifier/model0, 2024+]
            fields["beta"] = f32(params.get("beta", 0.0))
        return esp.ActivationOp, [op.inputs[0]], {}, fields

    def unary(self, op):
        kind = op.attr("type")
        if kind not in UNARY_OPERATIONS or f32(op.attr("shift", 0.0)) != 0.0 \
                or f32(op.attr("scale", 1.0)) not in (0.0, 1.0):
            self.unsupported(op, f"unary {kind} with shift/scale")
        if kind == "RSQRT" and f32(op.attr("epsilon", 0.0)) != 0.0:
            self.unsupported(op, "rsqrt with an epsilon")
        if kind in THIRD_PARTY_UNARY:
            self.inferred_forms.append(f"elementwise ({kind.lower()})")
        fields = {"operation": UNARY_OPERATIONS[kind], "alpha": f32(op.attr("alpha", 0.0)), "beta": 0,
                  "fused_relu": 0}
        return esp.ElementwiseOp, list(op.inputs), {}, fields

    def _classic(self, op):
        if len(op.inputs) < 2:  # x + alpha, x * alpha [seen: an Apple-internal net]
            operation = CONSTANT_ELEMENTWISE[op.layer_kind]
            alpha = f32(op.attr("alpha", 0.0 if op.layer_kind == "add" else 1.0))
            return esp.ElementwiseOp, list(op.inputs), {}, {"operation": operation, "alpha": alpha, "beta": 0,
                                                             "fused_relu": 0}
        fields = {"operation": CLASSIC_ELEMENTWISE[op.layer_kind], "alpha": 1, "beta": 0, "fused_relu": 0}
        return esp.ElementwiseOp, list(op.inputs), {}, fields

    add = multiply = _classic

    def clip(self, op):
        """clip(0, M) as coremltools writes ReLU6, which coremlc compiles layer by layer:
        ReLU, negate, max(x, -M), negate, with the converter's helper names."""
        low, high = f32(op.attr("minVal", 0.0)), f32(op.attr("maxVal", 0.0))
        if low != 0.0:
            self.unsupported(op, f"clip with minVal {low}")
        name = op.location.name if op.location and op.location.name else op.outputs[0].name
        blob = op.outputs[0].name or name
        negate = {"mode": esp.ACTIVATION_LINEAR, "alpha": -1.0, "beta": 0.0}
        return [Step(esp.ActivationOp, [op.inputs[0]], {}, {"mode": esp.ACTIVATION_RELU, "beta": 0.0},
                     name, f"{blob}_relu"),
                Step(esp.ActivationOp, [PREVIOUS], {}, negate, f"{name}__neg__", f"{blob}_relu_neg"),
                Step(esp.ElementwiseOp, [PREVIOUS], {}, {"operation": esp.ELEMENTWISE_MAX_ALPHA, "alpha": -high,
                                                         "beta": 0, "fused_relu": 0},
                     f"{name}__clip__", f"{blob}_relu_clip"),
                Step(esp.ActivationOp, [PREVIOUS], {}, negate, f"{name}_neg2")]

    def softmax(self, op):
        return esp.SoftmaxOp, [op.inputs[0]], {}, {"C": 2}

    def softmaxND(self, op):
        return esp.SoftmaxNdOp, [op.inputs[0]], {}, {"nd_axis": int(op.attr("axis", 0))}

    # -- data movement --------------------------------------------------------------------
    def permute(self, op):
        axes = [int(a) for a in op.attr("axis", ())]
        if sorted(axes) != [0, 1, 2, 3]:
            self.unsupported(op, f"permute axis {axes}")
        codes = [PERMUTE_AXIS_CODES[a] for a in axes]
        fields = {"axis_n": 3, "axis_k": codes[1], "axis_h": codes[2], "axis_w": codes[3], "axis_seq": codes[0]}
        return esp.TransposeOp, [op.inputs[0]], {}, fields

    def transpose(self, op):
        """ND transpose of rank <= 5 as espresso's `transpose`: the blob seen as (seq, n, k, h, w)
        with its leading unit axes, each output axis coded by the input axis it takes [inferred
        from permute's paired form]."""
        axes = [int(a) for a in op.attr("axes", ())]
        rank = len(axes)
        if not self.nd or not 1 <= rank <= 5 or sorted(axes) != list(range(rank)):
            self.unsupported(op, f"transpose axes {axes}")
        lead = 5 - rank
        codes = [4 - a for a in list(range(lead)) + [lead + a for a in axes]]  # code = 4 - canonical axis
        self.inferred_forms.append("transpose (ND)")
        fields = {"axis_n": codes[1], "axis_k": codes[2], "axis_h": codes[3], "axis_w": codes[4],
                  "axis_seq": codes[0]}
        return esp.TransposeOp, [op.inputs[0]], {}, fields

    def reshape(self, op):
        target = [int(t) for t in op.attr("targetShape", ())]
        if len(target) == 3:
            target = [1] + target
        if len(target) != 4:
            self.unsupported(op, f"reshape to {target}")
        fields = {"mode": RESHAPE_MODES[op.attr("mode", "CHANNEL_FIRST")], "dst_seq": target[0], "dst_n": 0,
                  "dst_k": target[1], "dst_h": target[2], "dst_w": target[3]}
        if self.modern:
            fields["version"] = 1
        return esp.ReshapeOp, [op.inputs[0]], {}, fields

    def reshapeStatic(self, op):
        """ND reshape: the target right-aligned into (n, k, h, w) [O: S6, 2025]."""
        target = [int(t) for t in op.attr("targetShape", ())]
        if not 1 <= len(target) <= 4:
            self.unsupported(op, f"static reshape to rank {len(target)}")
        dims = [1] * (4 - len(target)) + target
        fields = {"mode": 0, "dst_seq": 1, "dst_n": dims[0], "dst_k": dims[1], "dst_h": dims[2], "dst_w": dims[3],
                  "dst_nd_rank": len(target), "dynamic_shape": False}
        if self.modern:
            fields["version"] = 1
        return esp.ReshapeOp, [op.inputs[0]], {}, fields

    def flatten(self, op):
        mode = {"CHANNEL_FIRST": 0, "CHANNEL_LAST": 1}[op.attr("mode", "CHANNEL_FIRST")]
        fields = {"mode": mode}
        if era_at_least(self.era, "2019"):  # the early-2019 compiler writes no nd_axis [V LetterClass]
            fields["nd_axis"] = 0
        return esp.FlattenOp, [op.inputs[0]], {}, fields

    def concat(self, op):
        if op.attr("sequenceConcat", False):
            return esp.SequenceConcatOp, list(op.inputs), {}, {"simple_concat": 1}
        return esp.ConcatOp, list(op.inputs), {}, {}

    def reduce(self, op):
        mode, axis = op.attr("mode", "SUM"), op.attr("axis", "CHW")
        if mode not in REDUCE_MODES or axis not in REDUCE_AXIS_MODES:
            self.unsupported(op, f"reduce {mode} over {axis}")
        fields = {"mode": REDUCE_MODES[mode], "axis_mode": REDUCE_AXIS_MODES[axis], "use_version": 1}
        return esp.ReduceOp, [op.inputs[0]], {}, fields

    def slice(self, op):
        if int(op.attr("stride", 1)) not in (0, 1):
            self.unsupported(op, "a strided slice")
        fields = {"axis": SLICE_AXIS_CODES[op.attr("axis", "CHANNEL_AXIS")],
                  "start": int(op.attr("startIndex", 0)), "end": int(op.attr("endIndex", 0))}
        return esp.SliceOp, [op.inputs[0]], {}, fields

    def padding(self, op):
        constant = op.attr("constant")
        if constant is None:
            self.unsupported(op, "reflection/replication padding")
        pads = _border(op.attr("paddingAmounts"))
        fields = {"pad_t": pads[0], "pad_b": pads[1], "pad_l": pads[2], "pad_r": pads[3],
                  "pad_value": f32(constant.get("value", 0.0)), "pad_fill_mode": 0, "pad_pad_mode": 0}
        return esp.GeneralPaddingOp, [op.inputs[0]], {}, fields

    def pooling(self, op):
        kind = op.attr("type", "MAX")
        if kind not in POOL_TYPES:
            self.unsupported(op, f"{kind} pooling")
        kh, kw = (tuple(op.attr("kernelSize", ())) or (3, 3))
        sh, sw = (tuple(op.attr("stride", ())) or (1, 1))
        ceil = op.attr("includeLastPixel")
        if ceil is not None:  # Caffe's ceil rule, symmetric pads [seen: top_shape_style 2]
            ph, pw = (list(ceil.get("paddingAmounts", ())) + [0, 0])[:2]
            pads, pad_mode = (int(ph), int(ph), int(pw), int(pw)), esp.PAD_EXPLICIT
            self.inferred_forms.append("pool (includeLastPixel)")
        elif op.attr("same") is not None:
            pads, pad_mode = (0, 0, 0, 0), _same_pad_mode(op)
        else:
            pads = _border(op.attr("valid", {}).get("paddingAmounts"))
            # [O] unpadded valid pools are pad_mode 2 (S5, S6); padded ones are written as explicit
            # padding like convolutions (no sample shows one).
            pad_mode = esp.PAD_EXPLICIT if any(pads) else esp.PAD_VALID
        fields = {"avg_or_max": POOL_TYPES[kind], "size_x": int(kw), "size_y": int(kh), "stride_x": int(sw),
                  "stride_y": int(sh), "pad_t": pads[0], "pad_b": pads[1], "pad_l": pads[2], "pad_r": pads[3],
                  "pad_mode": pad_mode, "pad_value": 0, "pad_fill_mode": 0,
                  "average_count_exclude_padding": int(bool(op.attr("avgPoolExcludePadding", False))),
                  "top_shape_style": esp.TOP_SHAPE_CEIL if ceil is not None else 0}
        if op.attr("globalPooling", False):
            fields["is_global"] = 1
        return esp.PoolOp, [op.inputs[0]], {}, fields


PREVIOUS = object()  # a Step input standing for the previous step's result


@dataclass
class Step:
    """One espresso layer emitted for a source layer; helper layers (all but the last) carry
    their synthesized layer `name` and `top` blob name."""

    cls: type
    inputs: list
    weights: dict
    fields: dict
    name: str | None = None
    top: str | None = None
    regions: list = ()


def _same_pad_mode(op) -> int:
    """TOP_LEFT_HEAVY same padding is its own pad_mode [V MNISTClassifier convolutions; pools inferred]."""
    heavy = (op.attr("same") or {}).get("asymmetryMode") == "TOP_LEFT_HEAVY"
    return esp.PAD_SAME_TOP_LEFT if heavy else esp.PAD_SAME


def _border(amounts) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) of a BorderAmounts dict."""
    edges = list((amounts or {}).get("borderAmounts", ()))
    edges += [{}] * (2 - len(edges))
    h, w = edges[0], edges[1]
    return (int(h.get("startEdgeSize", 0)), int(h.get("endEdgeSize", 0)),
            int(w.get("startEdgeSize", 0)), int(w.get("endEdgeSize", 0)))


def espresso_type(type: TensorType, keep_rank: bool = False) -> TensorType:
    """A NeuralNetwork blob type in espresso's (n, k, h, w) / (seq, n, k, h, w) convention; the
    sequence axis is kept only when it is not 1 (as in every sample shape file). Spec-4+ bundles
    record each blob's rank (`_rank`), and ND layers address axes by rank: `keep_rank` keeps it."""
    shape = tuple(type.shape)
    if keep_rank:
        return TensorType(shape, F32)
    if len(shape) == 5 and shape[0] == 1:
        shape = shape[1:]
    elif len(shape) == 3:
        shape = (1,) + shape
    elif len(shape) == 1:
        shape = (1, shape[0], 1, 1)
    return TensorType(shape, F32)


def needs_metal_fallback(types) -> bool:
    for t in types:
        if not t.is_static:  # known at run time only: nothing to decide on
            continue
        dims = (1,) * (5 - len(t.shape)) + tuple(t.shape)
        if math.ceil(dims[0] * dims[1] * dims[2] / 4) > METAL_TEXTURE_SLICE_LIMIT:
            return True
    return False


def weight_source_array(value, where) -> np.ndarray:
    """The array a weight operand stands for: a constant's data (zero-copy), or a quantized
    weight dequantized to f32 (no observed form keeps coremltools' quantization parameters)."""
    producer = getattr(value, "op", None)
    if producer is not None and producer.op_name == "core.constant":
        return np.asarray(producer.attributes["value"].value)
    if producer is not None and producer.op_name == "nn.dequantize":
        return producer.reference(weight_source_array(producer.raw, where))
    where = where if isinstance(where, str) else describe_location(where)
    raise MlirCoremlError("a weight that is not a constant cannot be written to a bundle", where)


def weight_constant(source, shape, element, name: str, location) -> ConstantOp:
    """A constant with the source weight's data (a Value or an array), in espresso's shape and
    precision (zero-copy when nothing changes)."""
    array = source if isinstance(source, np.ndarray) else weight_source_array(source, str(location))
    if element is not None and array.dtype != element.numpy_dtype:
        array = array.astype(element.numpy_dtype)
    if array.size != math.prod(shape):
        raise MlirCoremlError(f"weight '{name}' has {array.size} values, the layer needs {shape}",
                              str(location))
    array = array.reshape(shape)
    tensor = TensorType(array.shape, element_type_of(array.dtype))
    attr = DenseResourceAttr.from_array(name, array, tensor)
    return build(ConstantOp, [], [tensor], {"value": attr}, location=location, result_names=[name])


@dataclass(frozen=True)
class NnToEspresso(ModulePass):
    name = "nn-to-espresso"
    description = "lower NeuralNetwork layers to espresso layers as coremlc compiles them"
    coremlc_version: str = "2021"

    def run(self, module, ctx: PassContext) -> None:
        if self.coremlc_version not in ERAS:
            raise MlirCoremlError(f"unknown coremlc version '{self.coremlc_version}' "
                                  f"(expected one of {', '.join(ERAS)})", "pipeline")
        spec = module.attributes.get("coreml.spec_version")
        lowering = Lowering(self.coremlc_version, nd=spec is not None and int(spec.value) >= 4)
        for fn in [op for op in module.regions[0].block.ops if op.op_name == "func.func"]:
            self.lower_function(fn, lowering, ctx)
        if lowering.inferred_forms:
            module.attributes[INFERRED_ATTR] = to_attr(sorted(set(lowering.inferred_forms)))

    def lower_function(self, fn, lowering: Lowering, ctx: PassContext) -> None:
        outputs = {id(v) for v in fn.return_op.operands}
        self.lower_block(fn.body, lowering, ctx, outputs)
        fn.attributes["function_type"] = type(fn.attributes["function_type"])(
            type(fn.function_type)(tuple(a.type for a in fn.body.args),
                                   tuple(v.type for v in fn.return_op.operands)))

    def lower_block(self, block, lowering: Lowering, ctx: PassContext, outputs: set) -> None:
        """Lower the layers of `block`, and of the networks nested in its control flow first."""
        for arg in block.args:
            if isinstance(arg.type, TensorType) and arg.type.shape is not None:
                arg.type = espresso_type(arg.type, lowering.nd)
        for op in list(block.ops):
            if not op.op_name.startswith("nn.") or op.op_name == YIELD:
                continue
            if op.op_name == IMAGE_PREPROCESS:
                # espresso applies the image scaler from the net's `transform_params`, not a layer
                op.results[0].replace_all_uses_with(op.operands[0])
                op.erase()
                continue
            for region in op.regions:
                self.lower_block(region.blocks[0], lowering, ctx, set())
            converted = self.convert(op, lowering)
            steps = converted if isinstance(converted, list) else [Step(*converted)]
            if op.regions:  # the nested networks move to the espresso layer
                steps[-1].regions, op.regions = op.regions, []
            layer = self.lower_steps(op, steps, lowering, outputs)
            for old, new in zip(op.outputs, layer.results):
                old.replace_all_uses_with(new)
            op.erase()
            ctx.stat("nn-to-espresso: layers lowered")

    @staticmethod
    def convert(op, lowering: Lowering):
        """The observed form of `op` where there is one, else its inferred form."""
        converter = getattr(lowering, getattr(op, "layer_kind", ""), None)
        # the observed forms are for blobs of known shapes (the shape file records each one)
        known = all(isinstance(v.type, TensorType) and v.type.is_static for v in list(op.inputs) + list(op.outputs))
        if converter is not None and known:
            try:
                return converter(op)
            except NoObservedForm:
                pass
        converted = lowering.inferred(op)
        lowering.inferred_forms.append(converted[3]["layer_type"])
        return converted

    def lower_steps(self, op, steps: list, lowering: Lowering, outputs: set):
        """Emit the espresso layers for `op`; the last one stands for the source layer."""
        previous = None
        for index, step in enumerate(steps):
            inputs = [previous.results[0] if v is PREVIOUS else v for v in step.inputs]
            last = index == len(steps) - 1
            previous = self.lower_layer(op, step, inputs, lowering, outputs if last else set(), last)
        return previous

    def lower_layer(self, op, step: "Step", inputs: list, lowering: Lowering, outputs: set, last: bool):
        cls = step.cls
        source_name = op.location.name if op.location and op.location.name else op.outputs[0].name
        name = step.name or source_name
        location = Location(name=name) if step.name else (op.location or Location(name=name))
        generic = issubclass(cls, esp.GenericLayerOp)
        operands = {cls.operand_defs[0].name: list(inputs) if cls.operand_defs[0].variadic else inputs[0]}
        for operand_name, (source, shape, element) in step.weights.items():
            const = weight_constant(source, shape, element, f"{name}_{operand_name}", location)
            op.parent.insert_before(const, op)
            if generic:  # one variadic group: the data inputs, then the blobs
                operands[cls.operand_defs[0].name].append(const.result)
            else:
                operands[operand_name] = const.result
        attrs = dict(step.fields)
        if generic and step.weights:
            attrs["blob_keys"] = list(step.weights)
        if lowering.modern:
            attrs["debug_info"] = name
        if lowering.modern and any(id(r) in outputs for r in op.outputs):
            attrs["attributes"] = {"is_output": 1}
        static = [espresso_type(r.type, lowering.nd) for r in op.outputs
                  if isinstance(r.type, TensorType) and r.type.is_static]
        result_types = static if len(static) == len(op.outputs) else ()
        if generic and not result_types:  # shapes known at run time only stay unranked
            result_types = [espresso_type(r.type, lowering.nd) if r.type.is_static else r.type for r in op.outputs]
        names = [r.name for r in op.outputs] if last else [step.top]
        layer = build(cls, operands, result_types, attrs, step.regions, location=location, result_names=names)
        if needs_metal_fallback([v.type for v in inputs] + [r.type for r in layer.results]):
            layer.attributes["hint_fallback_from_metal"] = IntAttr(1)
        op.parent.insert_before(layer, op)
        return layer
