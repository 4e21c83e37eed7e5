"""Weights stored quantized in the IR (`core.dequantize`, `core.lut_to_dense`) packed as they
are: 8-bit (or, for codes below 16, 4-bit) code panels the kernels decode one micro-panel at a
time (csrc/dequant.c), so the resident weights are the codes (a quarter or an eighth of fp32)
plus a few floats per output channel.

The kernels decode per output row: a weight qualifies when its parameters vary only along
axis 0 (per-tensor or per-channel; a per-block one falls back to fp16 panels of its values).
Codes stay as stored (i8 or u8), the zero point and the NeuralNetwork
offset folded into one offset per row: code * scale + offset, one FMA in the kernel (exactly
the NeuralNetwork form's rounding when there is no zero point).
"""
from __future__ import annotations

import numpy as np

from mlir_coreml.ir.dialects.core.quantized import QUANTIZED_CONSTANTS


def quantized_producer(value):
    """The quantized constant op producing `value`, else None."""
    op = getattr(value, "op", None)
    return op if op is not None and op.op_name in QUANTIZED_CONSTANTS else None


def _per_row(array, rows: int) -> np.ndarray | None:
    """A blockwise parameter as one value per row (axis 0), or None when it varies along another axis."""
    a = np.asarray(array, np.float64)
    if a.ndim and any(d != 1 for d in a.shape[1:]):
        return None
    a = a.reshape(-1)
    return np.broadcast_to(a, (rows,)) if a.size in (1, rows) else None


def _affine(op, rows: int) -> dict | None:
    attrs = op.attributes
    scale = _per_row(attrs["scale"].value, rows)
    params = [_per_row(attrs[k].value, rows) if k in attrs else np.zeros(rows) for k in ("zero_point", "offset")]
    if scale is None or any(p is None for p in params):
        return None
    zero, offset = params
    codes = np.asarray(attrs["data"].value)  # i8 or u8: the kernels read either
    return {"codes": codes, "scale": scale, "offset": offset - zero * scale if zero.any() else offset}


def _palettized(op, rows: int) -> dict | None:
    lut = np.asarray(op.attributes["lut"].value, np.float32)
    k = lut.shape[-1]
    tables = lut.reshape(lut.shape[0] if lut.ndim > 1 else 1, -1)
    if tables.shape[1] != k:  # more than one block besides the rows
        return None
    codes = np.asarray(op.attributes["indices"].value).view(np.int8)
    if tables.shape[0] == 1:
        return {"codes": codes, "lut": tables[0], "lut_stride": 0}
    return {"codes": codes, "lut": tables, "lut_stride": k} if tables.shape[0] == rows else None


def quantized_panels(value, groups: int = 1):
    """PackedWeights of int8 panels for a conv [Cout, Cin/groups, kh, kw] or linear [N, K]
    weight produced by a quantized constant with per-row parameters; None otherwise."""
    op = quantized_producer(value)
    if op is None:
        return None
    shape = op.results[0].type.shape
    if len(shape) not in (2, 4) or (len(shape) == 4 and shape[1] == 1 and groups == shape[0] > 1):
        return None  # the depthwise kernel reads plain weights
    parts = (_palettized if op.op_name == "core.lut_to_dense" else _affine)(op, shape[0])
    if parts is None:
        return None
    from mlir_coreml.csrc import _kernels

    codes = parts.pop("codes").reshape(shape)
    # 4-bit codes (16-entry palettes, unsigned codes below 16) pack two per byte
    nibbles = ("lut" in parts or codes.dtype == np.uint8) and codes.size and \
        int(codes.view(np.uint8).max()) < 16
    return _kernels.pack_quantized_weights(codes, groups, nibbles=bool(nibbles), **parts)
