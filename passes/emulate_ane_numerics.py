"""`emulate-ane-numerics`: run a function with the Neural Engine's (and Core ML's GPU's) numbers.

Core ML's mixed precision on its accelerators: weights stored in fp16, every activation stored
in fp16 between ops, each op accumulating in fp32 inside ("convolution in half precision,
intermediate results in 32-bit, final outputs stored in 16-bit"). Here that is types in the
IR: every f32 constant becomes f16, the function's f32 arguments are cast to f16 on entry,
and every op's result type is re-inferred from its (now f16) operands, so its reference and
its kernel compute in f32 and round the result to f16 (`CoreOp.out`, the executor's
`_rounded_to`). The function still takes and returns f32: casts at the boundary.

An op that cannot take f16 operands (its type rule refuses them, or it holds regions: control
flow does not run on the Neural Engine) keeps f32, with casts around it. With `devices=gpu,ane`
only the ops partition-devices placed there are narrowed: after outline-segments those are
whole segment functions, so the casts sit at their entry and return (the hybrid run of a
partitioned model, runtime/hybrid.py). An fp16 overflow shows as inf in the result of the op
that overflowed (runtime/precision.py names it).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlir_coreml.ir.dialects.core import CastOp
from mlir_coreml.ir.dialects.core.placement import DEVICE_ATTR
from mlir_coreml.ir.opdef import ConstantLike, Terminator, VerifyError, build
from mlir_coreml.ir.types import F16, F32, TensorType
from mlir_coreml.passes.base import ModulePass, PassContext
from mlir_coreml.passes.fp16_weights import constant_like, retype_constant


def _is(value, element) -> bool:
    return isinstance(value.type, TensorType) and value.type.element == element


class Narrowing:
    """The state of one function's rewrite: which values this pass made f16, and the casts it
    made (one per value and direction, placed before the first op that needs it). The hooks
    below build `core` casts and constants; add-fp16-cast overrides them for `mil`."""

    constant_op = "core.constant"

    def __init__(self, block):
        self.block = block
        self.narrowed: set = set()   # f32 values of the input that are now f16
        self.casts: dict = {}        # (value, element) -> cast result

    def cast(self, value, element, anchor):
        key = (value, element)
        if key not in self.casts:
            ops = self.constant_copy(value, element) or self.cast_ops(value, element, anchor)
            for op in ops:
                self.block.insert_before(op, anchor)
            self.casts[key] = ops[-1].results[0]
        return self.casts[key]

    def cast_ops(self, value, element, anchor) -> list:
        return [build(CastOp, [value], [value.type.with_element(element)], {"to": str(element)},
                      location=anchor.location)]

    def constant_copy(self, value, element) -> list:
        """A weight shared with an op that stays f32 gets an f16 copy, not a cast: the kernels
        pack constant weights only."""
        producer = getattr(value, "op", None)
        if producer is None or producer.op_name != self.constant_op:
            return []
        copy = self.constant(np.asarray(producer.reference()).astype(element.numpy_dtype), producer,
                             f"_{element}")
        copy.results[0].name = f"{value.name}_{element}" if value.name else None
        return [copy]

    @staticmethod
    def constant(array, like, suffix: str = ""):
        """A constant holding `array` where `like` was, in its form (a resource renamed with `suffix`)."""
        return constant_like(array, like, suffix)

    def narrow_constant(self, op) -> None:
        retype_constant(op, np.asarray(op.reference()).astype(np.float16))

    def widen_operands(self, op) -> None:
        """An op that stays f32 reads the values this pass narrowed through casts back to f32."""
        for i, value in enumerate(op.operands):
            if value in self.narrowed:
                op.set_operand(i, self.cast(value, F32, op))

    def narrow(self, op) -> bool:
        """Run `op` on f16 operands with the result types they imply; False (and `op` as it
        was) when its type rule refuses them."""
        original = list(op.operands)
        for i, value in enumerate(original):
            if _is(value, F32):
                op.set_operand(i, self.cast(value, F16, op))
        try:
            types = op.infer_types()
        except (VerifyError, ValueError, TypeError, NotImplementedError):
            for i, value in enumerate(original):
                op.set_operand(i, value)
            self.widen_operands(op)
            return False
        for result, t in zip(op.results, types):
            if _is(result, F32) and isinstance(t, TensorType) and t.element == F16:
                self.narrowed.add(result)
            result.type = t
        return True


def narrow_function(fn, selected, ctx: PassContext, rewrite_type: type[Narrowing] = Narrowing,
                    stat: str = "emulate-ane-numerics") -> None:
    """Give the ops `selected(op)` accepts fp16 storage between ops; the rest keep their types,
    with casts where values cross. Constants read only by selected ops become f16 themselves."""
    block = fn.regions[0].blocks[0]
    rewrite = rewrite_type(block)
    for op in list(block.ops):
        if op.has_trait(ConstantLike):
            value = op.results[0]
            if op.op_name == rewrite.constant_op and _is(value, F32) and value.uses and \
                    all(selected(u.operation) for u in value.uses):
                rewrite.narrow_constant(op)
                ctx.stat(f"{stat}: constants to f16")
            continue
        if op.has_trait(Terminator) or op.regions or not hasattr(op, "infer_types") or not selected(op):
            rewrite.widen_operands(op)
            continue
        if rewrite.narrow(op):
            ctx.stat(f"{stat}: ops in f16")
        else:
            ctx.stat(f"{stat}: ops kept in f32")


def on_devices(devices: tuple[str, ...]):
    """The op predicate for `devices` (empty: every op)."""
    if not devices:
        return lambda op: True

    def selected(op) -> bool:
        attr = op.attributes.get(DEVICE_ATTR)
        return attr is not None and attr.value in devices
    return selected


@dataclass(frozen=True)
class EmulateAneNumerics(ModulePass):
    name = "emulate-ane-numerics"
    description = "fp16 weights and activations between ops, fp32 accumulation inside each op (Core ML's accelerators)"

    devices: tuple[str, ...] = ()  # only ops that partition-devices placed on these units

    def run(self, module, ctx: PassContext) -> None:
        selected = on_devices(self.devices)
        for fn in [op for op in module.walk() if op.op_name == "func.func"]:
            if fn.regions and fn.regions[0].blocks:
                narrow_function(fn, selected, ctx)
