"""How `quantize-weights` stores a compressed weight in each dialect, so that what it writes is
what the exporters serialize:

* `core`: `core.dequantize` / `core.lut_to_dense` (ir/dialects/core/quantized.py);
* `nn` (a NeuralNetwork `.mlmodel`): an `nn.dequantize` of the raw codes, i.e. WeightParams
  `rawValue` (u8 codes packed most-significant bit first) or `int8RawValue` with
  QuantizationParams: linear (per tensor or per output channel: code * scale + bias) or one
  lookup table per weight. The format has no blocks and no per-channel tables: per-block falls
  back to per-channel, LUTs are per tensor;
* `mil` (an ML Program): iOS16 `constexpr_affine_dequantize` / `constexpr_lut_to_dense` (codes
  as attributes, 8-bit affine along one axis, packed LUT indices) in iOS16/17 functions, iOS18
  `constexpr_blockwise_shift_scale` / `constexpr_lut_to_dense` (per-block parameters; sub-byte
  codes written as `int4`/`uint4`... blobs) in iOS18 ones.

Each `*_axes(use)` says whether a use reads its value as a weight matrix, and along which
(output-channel, input-channel) axes; each `*_replacement` builds the ops standing for it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlir_coreml.ir.attributes import DenseAttr, DenseResourceAttr, ResourceBlob
from mlir_coreml.ir.dialects.constant import ConstantOp
from mlir_coreml.ir.dialects.core.quantized import DequantizeOp, LutToDenseOp, dequantize_attributes, lut_attributes
from mlir_coreml.ir.opdef import build, lookup_op
from mlir_coreml.ir.types import TensorType, element_type_of

# NeuralNetwork layer kind -> (output-channel axis, input-channel axis) of its `weights`
NN_WEIGHTS = {"nn.convolution": (0, 1), "nn.inner_product": (0, 1)}
# ML Program op -> parameter holding the weight -> axes
MIL_WEIGHTS = {"mil.conv": ("weight", (0, 1)), "mil.conv_transpose": ("weight", (1, 0)),
               "mil.linear": ("weight", (0, 1))}


@dataclass(frozen=True)
class StoredAs:
    """A new blob's origin: only the MIL dtype it is to be written as (a sub-byte one); no file
    to copy it from (the ML Program writers re-pack it)."""
    dtype: str
    file_name: str = ""
    path: str = ""
    offset: int = -1


def _array_attr(array, name: str, stored_as: str | None = None):
    array = np.ascontiguousarray(array)
    t = TensorType(array.shape, element_type_of(array.dtype))
    if array.size <= 16 and stored_as is None:
        return DenseAttr(array, t)
    return DenseResourceAttr(name, t, ResourceBlob(array, origin=StoredAs(stored_as) if stored_as else None))


# -- which uses are weights ------------------------------------------------------------------

def nn_axes(use):
    layer = use.operation
    axes = NN_WEIGHTS.get(layer.op_name)
    fields = list(layer.attr("weight_fields", ()))
    first_weight = len(layer.operands) - len(fields)
    if axes is None or use.index < first_weight or fields[use.index - first_weight] != "weights":
        return None
    return (1, 0) if layer.attr("isDeconvolution", False) else axes


def mil_axes(use):
    slot = MIL_WEIGHTS.get(use.operation.op_name)
    if slot is None or use.operation.param(slot[0]) is not use.operation.operands[use.index]:
        return None
    return slot[1]


# -- replacements ----------------------------------------------------------------------------

def core_replacement(parts: dict, mode: str, bits: int, t: TensorType, name: str, loc) -> list:
    if mode == "lut":
        return [build(LutToDenseOp, [], [t], lut_attributes(name, parts["indices"], parts["lut"], bits), location=loc)]
    return [build(DequantizeOp, [], [t], dequantize_attributes(name, bits=bits, **parts), location=loc)]


def _msb_packed(codes, bits: int) -> np.ndarray:
    codes = np.asarray(codes, np.uint8).reshape(-1)
    if bits == 8:
        return codes
    return np.packbits(np.unpackbits(codes[:, None], axis=1)[:, 8 - bits:].reshape(-1))


def nn_replacement(parts: dict, mode: str, bits: int, t: TensorType, name: str, loc, axis: int) -> list:
    """A raw-codes constant and the nn.dequantize reading it, as frontend/mlmodel.py imports them."""
    if mode == "lut":
        raw = _msb_packed(parts["indices"], bits)
        qparams = {"mode": "lut", "lut": [float(v) for v in np.asarray(parts["lut"]).reshape(-1)]}
    else:
        scale = np.asarray(parts["scale"], np.float32).reshape(-1)
        zero = np.asarray(parts.get("zero_point", 0)).astype(np.float32).reshape(-1)
        codes = np.asarray(parts["data"])
        if codes.dtype == np.int8 and bits == 8:
            raw, bias = codes.reshape(-1), []
        else:  # unsigned codes: symmetric ones shift by 2^(bits-1), into the bias
            if codes.dtype == np.int8:
                codes, zero = (codes.astype(np.int16) + (1 << (bits - 1))).astype(np.uint8), zero + (1 << (bits - 1))
            raw = _msb_packed(codes, bits)
            bias = [float(v) for v in np.broadcast_to(-zero * scale, scale.shape)]
        qparams = {"mode": "linear", "scale": [float(v) for v in scale], "bias": bias}
    qparams["numberOfBits"] = bits if raw.dtype == np.uint8 else 8
    if axis:
        qparams["axis"] = axis
    raw_t = TensorType((raw.size,), element_type_of(raw.dtype))
    const = build(ConstantOp, [], [raw_t], {"value": DenseResourceAttr.from_array(f"{name}.raw", raw, raw_t)},
                  location=loc, result_names=[f"{name}.raw"])
    # WeightParams dequantize to f32 whatever the weight's stored precision (as frontend/mlmodel.py reads them)
    f32 = TensorType(t.shape, element_type_of(np.float32))
    return [const, build(lookup_op("nn.dequantize"), [const.results[0]], [f32], qparams, location=loc)]


def _mil_const(array, name: str, stored_as: str | None = None):
    attr = _array_attr(array, name, stored_as)
    return build(lookup_op("mil.const"), [], [attr.type], {"val": attr}, result_names=[name])


def mil_replacement(parts: dict, mode: str, bits: int, t: TensorType, name: str, loc, ios18: bool) -> list:
    if ios18:
        return _mil18(parts, mode, bits, t, name, loc)
    rank = len(t.shape)
    if mode == "lut":
        from mlir_coreml.ir.dialects.mil.control import pack_bits

        indices = np.frombuffer(pack_bits(parts["indices"], bits), np.uint8)
        attrs = {"indices": _array_attr(indices, f"{name}_indices"),
                 "lut": _array_attr(np.asarray(parts["lut"]).reshape(-1), f"{name}_lut"),
                 "shape": DenseAttr(np.asarray(t.shape, np.uint32), TensorType((rank,), element_type_of(np.uint32)))}
        op_name = "mil.constexpr_lut_to_dense"
    else:
        scale = np.asarray(parts["scale"])
        axis = next((i for i, d in enumerate(scale.shape) if d > 1), 0)
        zero = parts.get("zero_point")
        data = np.asarray(parts["data"])
        zero = np.zeros(scale.shape, data.dtype) if zero is None else np.asarray(zero)
        attrs = {"axis": DenseAttr(np.asarray(axis, np.int32), TensorType((), element_type_of(np.int32))),
                 "quantized_data": _array_attr(data, f"{name}_quantized_data"),
                 "scale": _array_attr(scale.reshape(-1), f"{name}_scale"),
                 "zero_point": _array_attr(zero.reshape(-1), f"{name}_zero_point")}
        op_name = "mil.constexpr_affine_dequantize"
    attrs["operand_segments"] = [0, 0, 0, 0]
    return [build(lookup_op(op_name), [], [t], attrs, location=loc)]


def _mil18(parts: dict, mode: str, bits: int, t: TensorType, name: str, loc) -> list:
    if mode == "lut":
        lut = np.asarray(parts["lut"])[..., None]
        consts = [_mil_const(parts["indices"], f"{name}_indices", f"uint{bits}" if bits < 8 else None),
                  _mil_const(lut, f"{name}_lut")]
        op_name, segments = "mil.constexpr_lut_to_dense", [1, 1, 0, 0]
    else:
        data = np.asarray(parts["data"])
        sub_byte = f"{'int' if data.dtype == np.int8 else 'uint'}{bits}" if bits == 4 else None
        consts = [_mil_const(data, f"{name}_data", sub_byte), _mil_const(parts["scale"], f"{name}_scale")]
        if parts.get("zero_point") is not None:
            consts.append(_mil_const(parts["zero_point"], f"{name}_offset"))
        op_name, segments = "mil.constexpr_blockwise_shift_scale", [1, 1, len(consts) - 2]
    values = [c.results[0] for c in consts]
    return consts + [build(lookup_op(op_name), values, [t], {"operand_segments": segments}, location=loc)]
