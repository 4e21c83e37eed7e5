"""Compressed weight constants: `core.dequantize` (linear: integer codes, scale, zero point),
`core.lut_to_dense` (palettized: indices into a lookup table) and `core.sparse_to_dense`
(pruned: a bit mask and the nonzero values).

All are constants (`ConstantLike`): they hold their payload as attributes, as Core ML's
`constexpr_*` ops do, and `reference()` decompresses it. Every consumer that reads a weight
through `constant_array` therefore sees the dense values (the numeric oracle), while the IR,
the exporters and the kernels' packing see the compressed form and keep it.

Parameters are blockwise, as in iOS18's `constexpr_blockwise_shift_scale`: `scale` (and
`zero_point`, `offset`) have the data's rank, or are scalars, and each of their dims divides
the data's dim; element `i` uses the parameter of block `i // (dim / blocks)` on every axis.
Per-tensor is all ones, per-channel `[C, 1, ...]`, per-block `[C, K / block, 1, ...]`.

    dequantize:   out = (data - zero_point) * scale + offset      (absent zero_point/offset: 0;
                  `bits` (default 8) is the codes' width as stored in a file: 1..8)
    lut_to_dense: out = lut[block(i)][indices[i]]                  (lut: [*blocks, 2^bits])
    sparse_to_dense: out[i] = nonzero[rank(i)] if mask bit i else 0  (mask: u8, one bit per element
                  in row-major order, least significant bit first as in MIL blobs; rank(i) = set
                  bits before i)

`zero_point` is an integer of the data's type (ML Program zero points) or a float (iOS18
offsets); `offset` is the NeuralNetwork form (`q * scale + bias`), kept as stored so that an
imported `.mlmodel` exports byte-identical.
"""
from __future__ import annotations

import numpy as np

from mlir_coreml.ir.attributes import DenseAttr, DenseResourceAttr, IntAttr
from mlir_coreml.ir.core import Operation
from mlir_coreml.ir.opdef import AnyType, ConstantLike, Pure, VerifyError, attribute, op_def, result
from mlir_coreml.ir.types import TensorType, element_type_of

__all__ = ["DequantizeOp", "LutToDenseOp", "SparseToDenseOp", "expand_blocks", "QUANTIZED_CONSTANTS",
           "COMPRESSED_CONSTANTS", "storage_label", "stored_bits", "dequantize_attributes", "lut_attributes",
           "sparse_attributes", "along_axis"]

INTEGER_CODES = ("i8", "u8")


def expand_blocks(values, shape) -> np.ndarray:
    """A blockwise parameter (scalar, or one entry per block on every axis) repeated up to `shape`."""
    values = np.asarray(values)
    if values.ndim == 0:
        return np.broadcast_to(values, shape)
    for axis, (dim, blocks) in enumerate(zip(shape, values.shape)):
        if blocks != dim:
            values = np.repeat(values, dim // blocks, axis=axis)
    return values


def _check_blocks(name: str, param: TensorType, shape) -> None:
    if param.rank == 0:
        return
    if param.rank != len(shape):
        raise VerifyError(f"{name} has rank {param.rank}, expected 0 or {len(shape)} (one entry per block)")
    for axis, (dim, blocks) in enumerate(zip(shape, param.shape)):
        if blocks <= 0 or dim % blocks:
            raise VerifyError(f"{name}: axis {axis} of size {dim} is not a whole number of {blocks} blocks")


class _QuantizedConstant(Operation):
    traits = frozenset({Pure, ConstantLike})
    output = result(AnyType)  # the dense values

    def infer_types(self):
        return [self.output.type]

    def flops(self):
        return 0

    def _payload_types(self, *names: str) -> tuple[TensorType, ...]:
        return tuple(self.attributes[name].type for name in names)

    def _static_result(self) -> TensorType:
        t = self.output.type
        if not (isinstance(t, TensorType) and t.is_static):
            raise VerifyError("result must be a static tensor")
        return t

    def _check_output(self, codes: TensorType, element) -> tuple:
        """The result's shape, checked to be the codes' (one code per element) with the
        parameters' element type."""
        t = self._static_result()
        if codes.shape != t.shape:
            raise VerifyError(f"codes have shape {codes.shape} but the result is {t}")
        if t.element != element:
            raise VerifyError(f"result element {t.element} differs from the parameters' {element}")
        return t.shape


@op_def("core.dequantize")
class DequantizeOp(_QuantizedConstant):
    """Linear quantization: i8/u8 codes with blockwise scale, zero point and offset."""

    data = attribute("dense")
    scale = attribute("dense")

    def verify_(self):
        data, scale = self._payload_types("data", "scale")
        if str(data.element) not in INTEGER_CODES:
            raise VerifyError(f"data must be i8 or u8 codes, got {data.element}")
        if not scale.element.is_float:
            raise VerifyError(f"scale must be a float tensor, got {scale.element}")
        shape = self._check_output(data, scale.element)
        if not 1 <= self.code_bits <= 8:
            raise VerifyError(f"bits must be 1..8, got {self.code_bits}")
        _check_blocks("scale", scale, shape)
        for name in ("zero_point", "offset"):
            attr = self.attributes.get(name)
            if attr is not None:
                _check_blocks(name, attr.type, shape)
        zp = self.attributes.get("zero_point")
        if zp is not None and not (zp.type.element == data.element or zp.type.element.is_float):
            raise VerifyError(f"zero_point must be {data.element} or float, got {zp.type.element}")

    @property
    def code_bits(self) -> int:
        bits = self.attributes.get("bits")
        return 8 if bits is None else int(bits.value)

    def reference(self):
        q = np.asarray(self.attributes["data"].value)
        shape = q.shape
        w = q.astype(np.float32)
        zp = self.attributes.get("zero_point")
        if zp is not None:
            w = w - expand_blocks(np.asarray(zp.value).astype(np.float32), shape)
        w = w * expand_blocks(np.asarray(self.attributes["scale"].value, np.float32), shape)
        offset = self.attributes.get("offset")
        if offset is not None:
            w = w + expand_blocks(np.asarray(offset.value, np.float32), shape)
        return w.astype(self.output.type.element.numpy_dtype, copy=False)


@op_def("core.lut_to_dense")
class LutToDenseOp(_QuantizedConstant):
    """Palettization: u8 indices (one per element, `bits` significant) into blockwise lookup tables."""

    indices = attribute("dense")
    lut = attribute("dense")
    bits = attribute("int")

    def verify_(self):
        indices, lut = self._payload_types("indices", "lut")
        if str(indices.element) != "u8":
            raise VerifyError(f"indices must be u8, got {indices.element}")
        if not 1 <= self.bits <= 8:
            raise VerifyError(f"bits must be 1..8, got {self.bits}")
        if not lut.element.is_float:
            raise VerifyError(f"lut must be a float tensor, got {lut.element}")
        shape = self._check_output(indices, lut.element)
        if lut.rank != len(shape) + 1 or lut.shape[-1] != 1 << self.bits:
            raise VerifyError(f"lut must be [*blocks, {1 << self.bits}] with one block dim per result dim, "
                              f"got {lut}")
        _check_blocks("lut", TensorType(lut.shape[:-1], lut.element), shape)

    def reference(self):
        idx = np.asarray(self.attributes["indices"].value)
        luts = np.asarray(self.attributes["lut"].value)
        grids = []
        for axis, (dim, blocks) in enumerate(zip(idx.shape, luts.shape[:-1])):
            shape = [1] * idx.ndim
            shape[axis] = -1
            grids.append((np.arange(dim) // (dim // blocks)).reshape(shape))
        return luts[tuple(grids) + (idx.astype(np.intp),)]


@op_def("core.sparse_to_dense")
class SparseToDenseOp(_QuantizedConstant):
    """Pruning: a packed bit mask over the result (set bit = stored value) and the stored values."""

    mask = attribute("dense")
    nonzero = attribute("dense")

    def verify_(self):
        mask, nonzero = self._payload_types("mask", "nonzero")
        t = self._static_result()
        if str(mask.element) != "u8" or mask.shape != (-(-t.num_elements // 8),):
            raise VerifyError(f"mask must be tensor<{-(-t.num_elements // 8)}xu8> (one bit per element of {t}), "
                              f"got {mask}")
        if nonzero.rank != 1 or nonzero.element != t.element:
            raise VerifyError(f"nonzero must be a 1-D tensor of {t.element}, got {nonzero}")
        stored = int(self.bitmask().sum())
        if stored != nonzero.shape[0]:
            raise VerifyError(f"the mask has {stored} set bits but {nonzero.shape[0]} nonzero values are stored")

    def bitmask(self) -> np.ndarray:
        t = self.output.type
        bits = np.unpackbits(np.asarray(self.attributes["mask"].value, np.uint8), bitorder="little")
        return bits[:t.num_elements].astype(bool).reshape(t.shape)

    def reference(self):
        out = np.zeros(self.output.type.shape, self.output.type.element.numpy_dtype)
        out[self.bitmask()] = np.asarray(self.attributes["nonzero"].value)
        return out


QUANTIZED_CONSTANTS = ("core.dequantize", "core.lut_to_dense")  # what the int8 kernel panels decode
COMPRESSED_CONSTANTS = QUANTIZED_CONSTANTS + ("core.sparse_to_dense",)


def stored_bits(op) -> int:
    """Bits a compressed constant occupies as stored (codes at their bit width plus parameters)."""
    attrs = op.attributes
    if op.op_name == "core.sparse_to_dense":
        codes, params = 0, [attrs["mask"], attrs["nonzero"]]
    elif op.op_name == "core.lut_to_dense":
        codes = attrs["indices"].type.num_elements * int(op.bits)
        params = [attrs["lut"]]
    else:
        codes = attrs["data"].type.num_elements * op.code_bits
        params = [attrs[k] for k in ("scale", "zero_point", "offset") if k in attrs]
    return codes + sum(8 * p.type.num_elements * p.type.element.numpy_dtype.itemsize for p in params)


def storage_label(op) -> str:
    """How a compressed constant stores its values: `i8`, `u4`, ... (linear codes), `lut4` or
    `sparse` (a mask and the nonzero values)."""
    if op.op_name == "core.sparse_to_dense":
        return "sparse"
    if op.op_name == "core.lut_to_dense":
        return f"lut{op.bits}"
    return f"{str(op.attributes['data'].type.element)[0]}{op.code_bits}"


INLINE_ELEMENTS = 16  # parameters up to this size print inline, larger ones as resources


def _attr(array, name: str):
    array = np.ascontiguousarray(array)
    t = TensorType(array.shape, element_type_of(array.dtype))
    return DenseAttr(array, t) if array.size <= INLINE_ELEMENTS else DenseResourceAttr.from_array(name, array, t)


def along_axis(values, axis: int, rank: int) -> np.ndarray:
    """A per-channel vector (or a scalar) as a blockwise parameter of a rank-`rank` tensor."""
    values = np.asarray(values)
    if values.size == 1:
        return values.reshape((1,) * rank)
    shape = [1] * rank
    shape[axis] = -1
    return values.reshape(shape)


def dequantize_attributes(name: str, data, scale, zero_point=None, offset=None, bits: int = 8) -> dict:
    """The attributes of a `core.dequantize` (arrays named `<name>.data`, `<name>.scale`, ...)."""
    parts = {"data": data, "scale": scale, "zero_point": zero_point, "offset": offset}
    attrs = {key: _attr(value, f"{name}.{key}") for key, value in parts.items() if value is not None}
    if bits != 8:
        attrs["bits"] = IntAttr(bits)
    return attrs


def lut_attributes(name: str, indices, lut, bits: int) -> dict:
    """The attributes of a `core.lut_to_dense`."""
    return {"indices": _attr(np.asarray(indices, np.uint8), f"{name}.indices"), "lut": _attr(lut, f"{name}.lut"),
            "bits": IntAttr(bits)}


def sparse_attributes(name: str, mask, nonzero) -> dict:
    """The attributes of a `core.sparse_to_dense` from a boolean `mask` of the result's shape."""
    packed = np.packbits(np.asarray(mask, bool).reshape(-1), bitorder="little")
    return {"mask": _attr(packed, f"{name}.mask"), "nonzero": _attr(np.asarray(nonzero).reshape(-1), f"{name}.nonzero")}
