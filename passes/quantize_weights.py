"""`quantize-weights{bits=8|6|4|2 mode=linear|linear-symmetric|lut granularity=per-channel|per-tensor|per-block
block-size=N skip=... min-size=N}`: store weights compressed, as `core.dequantize` (linear) or
`core.lut_to_dense` (palettized by k-means) constants.

coremltools' `linear_quantize_weights` / `palettize_weights` as an IR pass: the compressed
constant is what the IR prints, what the exporters write, and what the kernels pack (int8
panels, dequantized while the GEMM packs each micro-panel), so the resident weights are the
codes. Only the matrices of conv/linear/matmul/recurrent ops are quantized (biases stay
as they are: small, and the most precision per byte); a constant read by anything else too stays.

Channels are output channels (conv weight [Cout, Cin, kh, kw]: axis 0; a transposed conv's
[Cin, Cout, kh, kw] and matmul's [K, N]: axis 1); `per-block` splits the input-channel axis
into blocks of `block-size` (falling back to per-channel when it does not divide).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.ir.dialects.constant import ConstantOp
from mlir_coreml.ir.dialects.core.quantized import DequantizeOp, LutToDenseOp, dequantize_attributes, lut_attributes
from mlir_coreml.ir.opdef import build
from mlir_coreml.ir.types import TensorType
from mlir_coreml.passes._quantization import palettize, quantize_linear
from mlir_coreml.passes.base import ModulePass, PassContext
from mlir_coreml.passes.fp16_weights import op_matches

# op -> {weight operand: (output-channel axis, input-channel axis)} of the matrices quantized
CHANNEL_AXES: dict[str, dict[str, tuple[int, int]]] = {
    "core.conv2d": {"weight": (0, 1)},
    "core.conv_transpose2d": {"weight": (1, 0)},
    "core.linear": {"weight": (0, 1)},
    "core.matmul": {"b": (1, 0)},
    "core.lstm": {"w_ih": (1, 2), "w_hh": (1, 2)},
    "core.gru": {"w_ih": (1, 2), "w_hh": (1, 2)},
    "core.rnn": {"w_ih": (1, 2), "w_hh": (1, 2)},
}
MODES = ("linear", "linear-symmetric", "lut")
GRANULARITIES = ("per-channel", "per-tensor", "per-block")


def weight_axes(use, skip: tuple[str, ...]) -> tuple[int, int] | None:
    """(output-channel axis, input-channel axis) when `use` reads its value as a quantizable weight."""
    user = use.operation
    if op_matches(user, skip):
        return None
    value = user.operands[use.index]
    for slot, axes in CHANNEL_AXES.get(user.op_name, {}).items():
        if getattr(user, slot, None) is value:
            if user.op_name == "core.matmul" and user.attr("transpose_b", False):
                return axes[::-1]
            return axes
    return None


@dataclass(frozen=True)
class QuantizeWeights(ModulePass):
    name = "quantize-weights"
    description = "store conv/linear/matmul/recurrent weights as int8/n-bit linear or palettized (LUT) constants"

    bits: int = 8
    mode: str = "linear"
    granularity: str = "per-channel"
    block_size: int = 32
    skip: tuple[str, ...] = ()
    min_size: int = 2048

    def check_options(self) -> None:
        if self.mode not in MODES:
            raise MlirCoremlError(f"quantize-weights: mode must be one of {', '.join(MODES)}, got '{self.mode}'")
        if self.granularity not in GRANULARITIES:
            raise MlirCoremlError(f"quantize-weights: granularity must be one of {', '.join(GRANULARITIES)}, "
                                  f"got '{self.granularity}'")
        if self.bits not in (2, 3, 4, 6, 8) or (self.mode == "linear-symmetric" and self.bits < 4):
            raise MlirCoremlError(f"quantize-weights: bits must be 8, 6, 4 or 2 (lut also 3; linear-symmetric "
                                  f"at least 4), got {self.bits}")
        if self.granularity == "per-block" and self.block_size <= 0:
            raise MlirCoremlError(f"quantize-weights: block-size must be positive, got {self.block_size}")

    def blocks(self, shape: tuple, axes: tuple[int, int]) -> tuple:
        """Blocks on every axis for a weight of `shape` read with (output, input) channel `axes`."""
        blocks = [1] * len(shape)
        if self.granularity == "per-tensor" or len(shape) < 2:
            return tuple(blocks)
        out_axis, in_axis = axes
        blocks[out_axis] = shape[out_axis]
        if self.granularity == "per-block" and shape[in_axis] % self.block_size == 0:
            blocks[in_axis] = shape[in_axis] // self.block_size
        return tuple(blocks)

    def candidates(self, module) -> list:
        """(constant op, channel axes) of the float weights to quantize."""
        found = []
        for op in module.walk():
            if op.op_name != "core.constant":
                continue
            value = op.results[0]
            t = value.type
            if not (isinstance(t, TensorType) and t.is_static and t.element.is_float and value.uses):
                continue
            if t.num_elements < max(self.min_size, 1) or str(t.element) not in ("f16", "f32"):
                continue
            axes = {weight_axes(use, self.skip) for use in value.uses}
            if len(axes) == 1 and None not in axes:
                found.append((op, axes.pop()))
        return found

    def compress(self, op: ConstantOp, axes: tuple[int, int]):
        """The quantized constant standing for `op`'s value."""
        w = np.asarray(op.reference())
        t = op.results[0].type
        name = getattr(op.attributes["value"], "name", None) or op.results[0].name or "weight"
        blocks = self.blocks(t.shape, axes)
        if self.mode == "lut":
            parts = palettize(w, self.bits, blocks)
            return build(LutToDenseOp, [], [t], lut_attributes(name, parts["indices"], parts["lut"], self.bits),
                         location=op.location)
        parts = quantize_linear(w, self.bits, self.mode == "linear-symmetric", blocks)
        parts["scale"] = parts["scale"].astype(w.dtype)
        return build(DequantizeOp, [], [t], dequantize_attributes(name, bits=self.bits, **parts), location=op.location)

    def run(self, module, ctx: PassContext) -> None:
        self.check_options()
        for op, axes in self.candidates(module):
            old = op.results[0]
            new = self.compress(op, axes)
            new.results[0].name = old.name
            op.parent.insert_before(new, op)
            old.replace_all_uses_with(new.results[0])
            op.erase()
            ctx.stat("quantize-weights: constants quantized")
