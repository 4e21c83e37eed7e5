"""`fp16-weights`: store the weights of the compute ops as f16 constants in the IR.

This is Core ML's storage precision on its accelerators (coremltools' `FP16ComputePrecision`
casts every float constant): half the bytes, and the kernels pack f16 weights as they are
(fp16 panels, fp32 accumulation), so what the IR prints is what runs. Only operands whose
precision does not set the result's element type are converted (the slots below): the op
still computes in f32, its result stays f32, so no cast is needed anywhere. On an imported
NeuralNetwork (`nn` dialect) the layers' WeightParams are converted, so `lower --emit mlmodel`
writes half-precision weights (float16Value) as coremltools' `quantize_weights(nbits=16)` does.
An ML Program cannot mix f16 weights into f32 ops (MIL's type rules): `add-fp16-cast` converts it.

Options: `skip` names ops not to touch, by kind (`linear`, `core.conv2d`) or by location
(the Core ML layer name); `min-size` keeps constants with fewer elements in f32 (biases,
scales: they cost nothing and carry the most precision per byte).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlir_coreml.ir.dialects.constant import materialize_constant
from mlir_coreml.ir.opdef import ConstantLike
from mlir_coreml.ir.attributes import DenseResourceAttr
from mlir_coreml.ir.types import F32, TensorType, element_type_of
from mlir_coreml.passes.base import ModulePass, PassContext

# op -> operands that hold weights; the op reads them in f32 whatever their storage type.
WEIGHT_SLOTS: dict[str, tuple[str, ...]] = {
    "core.conv2d": ("weight", "bias"),
    "core.conv_transpose2d": ("weight", "bias"),
    "core.linear": ("weight", "bias"),
    "core.matmul": ("b",),
    "core.lstm": ("w_ih", "w_hh", "b_ih", "b_hh"),
    "core.gru": ("w_ih", "w_hh", "b_ih", "b_hh"),
    "core.rnn": ("w_ih", "w_hh", "b_ih", "b_hh"),
}


def op_matches(op, names: tuple[str, ...]) -> bool:
    """Whether `op` is named in `names` by kind (with or without dialect) or by location."""
    kind = op.op_name.split(".", 1)[-1]
    location = op.location.name if op.location is not None else None
    return any(n in (op.op_name, kind, location) for n in names)


def is_weight_use(use, skip: tuple[str, ...]) -> bool:
    """Whether `use` reads a weight: a weight slot of a core op, or a WeightParams of a
    NeuralNetwork layer (`nn.*` ops name theirs in `weight_fields`: the last operands), which
    the `.mlmodel` writer then stores as float16Value."""
    user = use.operation
    if op_matches(user, skip):
        return False
    if user.op_name.startswith("nn.") and "weight_fields" in user.attributes:
        return use.index >= len(user.operands) - len(user.attributes["weight_fields"].value)
    slots = WEIGHT_SLOTS.get(user.op_name, ())
    return any(getattr(user, slot, None) is use.operation.operands[use.index] for slot in slots)


def f32_weight_constants(module, skip: tuple[str, ...] = (), min_size: int = 0) -> list:
    """The f32 constants read only as weights (by ops not skipped), with at least `min_size` elements."""
    found = []
    for op in module.walk():
        if not op.has_trait(ConstantLike) or op.op_name != "core.constant":
            continue
        value = op.results[0]
        t = value.type
        if not isinstance(t, TensorType) or t.element != F32 or not t.is_static or not value.uses:
            continue
        if int(np.prod(t.shape, dtype=np.int64)) < min_size:
            continue
        if all(is_weight_use(use, skip) for use in value.uses):
            found.append(op)
    return found


def constant_like(array: np.ndarray, like, suffix: str = ""):
    """A `core.constant` of `array` in the form of constant `like`: a resource stays a resource
    (named as it, plus `suffix`), an inline constant stays inline."""
    resource = getattr(like.attributes["value"], "name", None)
    if resource is None:
        return materialize_constant(array, location=like.location)
    t = TensorType(array.shape, element_type_of(array.dtype))
    return materialize_constant(DenseResourceAttr.from_array(f"{resource}{suffix}", array, t), location=like.location)


def retype_constant(op, array: np.ndarray):
    """Replace constant `op` by one holding `array` (same name, location, place and form: an
    inline constant stays inline, a resource stays a resource of the same name); returns it."""
    old = op.results[0]
    new = constant_like(array, op)
    new.results[0].name = old.name
    op.parent.insert_before(new, op)
    old.replace_all_uses_with(new.results[0])
    op.erase()
    return new


@dataclass(frozen=True)
class Fp16Weights(ModulePass):
    name = "fp16-weights"
    description = "store conv/linear/matmul/recurrent weights as f16 constants (fp32 compute)"

    skip: tuple[str, ...] = ()
    min_size: int = 0

    def run(self, module, ctx: PassContext) -> None:
        for op in f32_weight_constants(module, self.skip, self.min_size):
            array = np.asarray(op.reference())
            retype_constant(op, array.astype(np.float16))
            ctx.stat("fp16-weights: constants converted")
            ctx.stat("fp16-weights: bytes saved", array.nbytes // 2)
