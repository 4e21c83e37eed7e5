"""`quantize-weights{bits=8|6|4|2 mode=linear|linear-symmetric|lut granularity=per-channel|per-tensor|per-block
block-size=N skip=... min-size=N}`: store weights compressed, as `core.dequantize` (linear) or
`core.lut_to_dense` (palettized by k-means) constants -- or, run on an imported model before
lowering, in the model format's own form (`nn.dequantize`, MIL `constexpr_*` ops; see
passes/_quantized_forms.py), which `lower --emit mlmodel|mlpackage` writes out.

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
from mlir_coreml.ir.attributes import IntAttr, StringAttr
from mlir_coreml.ir.types import TensorType
from mlir_coreml.passes._quantization import palettize, quantize_linear
from mlir_coreml.passes._quantized_forms import core_replacement, mil_axes, mil_replacement, nn_axes, nn_replacement
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
CONSTANTS = {"core.constant": "value", "mil.const": "val"}  # constant op -> its value attribute


def core_axes(use):
    user = use.operation
    value = user.operands[use.index]
    for slot, axes in CHANNEL_AXES.get(user.op_name, {}).items():
        if getattr(user, slot, None) is value:
            if user.op_name == "core.matmul" and user.attr("transpose_b", False):
                return axes[::-1]
            return axes
    return None


def require_ios16(module) -> None:
    """constexpr ops exist from iOS16 (ML Program opset ios16, Core ML specification 7) on:
    an older program is declared at that level."""
    for fn in (op for op in module.walk() if op.op_name == "func.func"):
        if "opset" in fn.attributes and str(fn.attributes["opset"].value) < "ios16":
            fn.attributes["opset"] = StringAttr("ios16")
    version = module.attributes.get("coreml.specification_version")
    if version is not None and version.value < 7:
        module.attributes["coreml.specification_version"] = IntAttr(7)


WEIGHT_AXES = {"core": core_axes, "nn": nn_axes, "mil": mil_axes}


def weight_axes(use, skip: tuple[str, ...]):
    """(dialect, (output-channel axis, input-channel axis)) when `use` reads its value as a quantizable weight."""
    user = use.operation
    dialect = user.op_name.split(".", 1)[0]
    find = WEIGHT_AXES.get(dialect)
    axes = None if find is None or op_matches(user, skip) else find(use)
    return None if axes is None else (dialect, axes)


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

    def blocks(self, shape: tuple, axes: tuple[int, int], form: str) -> tuple:
        """Blocks on every axis for a weight of `shape` read with (output, input) channel `axes`,
        within what the storage `form` can express (see passes/_quantized_forms.py)."""
        blocks = [1] * len(shape)
        granularity = self.granularity
        if form in ("nn", "mil16"):
            granularity = "per-tensor" if self.mode == "lut" else granularity.replace("per-block", "per-channel")
        if granularity == "per-tensor" or len(shape) < 2:
            return tuple(blocks)
        out_axis, in_axis = axes
        blocks[out_axis] = shape[out_axis]
        if granularity == "per-block" and shape[in_axis] % self.block_size == 0:
            blocks[in_axis] = shape[in_axis] // self.block_size
        return tuple(blocks)

    def candidates(self, module) -> list:
        """(constant op, channel axes, storage form) of the float weights to quantize."""
        found = []
        for fn in (op for op in module.walk() if op.op_name == "func.func"):
            ios18 = str(fn.attributes["opset"].value if "opset" in fn.attributes else "") >= "ios18"
            for op in fn.walk():
                if op.op_name not in CONSTANTS:
                    continue
                value = op.results[0]
                t = value.type
                if not (isinstance(t, TensorType) and t.is_static and str(t.element) in ("f16", "f32") and value.uses):
                    continue
                if t.num_elements < max(self.min_size, 1):
                    continue
                reads = {weight_axes(use, self.skip) for use in value.uses}
                if len(reads) == 1 and None not in reads:
                    dialect, axes = reads.pop()
                    form = {"mil": "mil18" if ios18 else "mil16"}.get(dialect, dialect)
                    found.append((op, axes, form))
        return found

    def compress(self, op, axes: tuple[int, int], form: str) -> list:
        """The ops standing for constant `op`'s value, compressed (the last one gives the value)."""
        w = np.asarray(op.attributes[CONSTANTS[op.op_name]].value)
        t = op.results[0].type
        name = op.results[0].name or getattr(op.attributes[CONSTANTS[op.op_name]], "name", None) or "weight"
        blocks = self.blocks(t.shape, axes, form)
        if self.mode == "lut":
            parts = palettize(w, self.bits, blocks)
        else:
            parts = quantize_linear(w, self.bits, self.mode == "linear-symmetric", blocks)
            parts["scale"] = parts["scale"].astype(w.dtype)
        if form == "nn":
            return nn_replacement(parts, self.mode, self.bits, t, name, op.location, axes[0])
        if form.startswith("mil"):
            return mil_replacement(parts, self.mode, self.bits, t, name, op.location, form == "mil18")
        return core_replacement(parts, self.mode, self.bits, t, name, op.location)

    def run(self, module, ctx: PassContext) -> None:
        self.check_options()
        found = self.candidates(module)
        if any(form == "mil16" for _, _, form in found):
            require_ios16(module)
        for op, axes, form in found:
            old = op.results[0]
            new = self.compress(op, axes, form)
            new[-1].results[0].name = old.name
            for created in new:
                op.parent.insert_before(created, op)
            old.replace_all_uses_with(new[-1].results[0])
            op.erase()
            ctx.stat("quantize-weights: constants quantized")
