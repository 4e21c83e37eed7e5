"""`emulate-ane-numerics`: run a function with the Neural Engine's (and Core ML's GPU's) numbers.

Core ML's mixed precision on its accelerators: weights stored in fp16, every activation stored
in fp16 between ops, each op accumulating in fp32 inside ("convolution in half precision,
intermediate results in 32-bit, final outputs stored in 16-bit"). Here that is types in the
IR: every f32 constant becomes f16, the function's f32 arguments are cast to f16 on entry,
and every op's result type is re-inferred from its (now f16) operands, so its reference and
its kernel compute in f32 and round the result to f16 (`CoreOp.out`, the executor's
`_rounded_to`). The function still takes and returns f32: casts at the boundary.

An op that cannot take f16 operands (its type rule refuses mixed types, or it holds regions:
control flow does not run on the Neural Engine) keeps f32, with casts around it. An fp16
overflow shows as inf in the result of the op that overflowed (runtime/precision.py names it).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlir_coreml.ir.dialects.core import CastOp
from mlir_coreml.ir.opdef import ConstantLike, Terminator, VerifyError, build
from mlir_coreml.ir.types import F16, F32, TensorType
from mlir_coreml.passes.base import ModulePass, PassContext
from mlir_coreml.passes.fp16_weights import retype_constant


def _is(value, element) -> bool:
    return isinstance(value.type, TensorType) and value.type.element == element


def cast(value, element, block, anchor, after: bool = False):
    """A `core.cast` of `value` to `element`, placed before (or after) `anchor`."""
    op = build(CastOp, [value], [value.type.with_element(element)], {"to": str(element)},
               location=getattr(anchor, "location", None))
    if after:
        block.insert_after(op, anchor)
    else:
        block.insert_before(op, anchor)
    return op


def _reinfer(op) -> bool:
    """Give `op` the result types its operands now imply; False if it cannot take them."""
    if op.regions or not hasattr(op, "infer_types"):
        return False
    try:
        types = op.infer_types()
    except (VerifyError, ValueError, TypeError):
        return False
    for result, t in zip(op.results, types):
        result.type = t
    return True


def _keep_f32(op, block) -> None:
    """Cast `op`'s f16 operands back to f32 before it and its f32 results to f16 after it."""
    for i, value in enumerate(op.operands):
        if _is(value, F16):
            op.set_operand(i, cast(value, F32, block, op).results[0])
    for result in op.results:
        if not _is(result, F32) or not result.uses:
            continue
        narrowed = cast(result, F16, block, op, after=True)
        for use in [u for u in result.uses if u.operation is not narrowed]:
            use.operation.set_operand(use.index, narrowed.results[0])


def emulate_function(fn, ctx: PassContext) -> None:
    block = fn.regions[0].blocks[0]
    ops = list(block.ops)
    first = ops[0]
    for arg in block.args:
        if not _is(arg, F32) or not arg.uses:
            continue
        narrowed = cast(arg, F16, block, first)
        for use in [u for u in arg.uses if u.operation is not narrowed]:
            use.operation.set_operand(use.index, narrowed.results[0])
    for op in ops:
        if op.has_trait(Terminator):
            _restore_results(fn, op, block)
            continue
        if op.has_trait(ConstantLike):
            if op.op_name == "core.constant" and _is(op.results[0], F32):
                retype_constant(op, np.asarray(op.reference()).astype(np.float16))
                ctx.stat("emulate-ane-numerics: constants to f16")
            continue
        if not any(_is(v, F16) for v in op.operands):
            continue
        if _reinfer(op) and not any(_is(r, F32) for r in op.results):
            ctx.stat("emulate-ane-numerics: ops in f16")
            continue
        _keep_f32(op, block)
        _reinfer(op)
        ctx.stat("emulate-ane-numerics: ops kept in f32")


def _restore_results(fn, terminator, block) -> None:
    """The function keeps returning the element types it declares: f16 values it declared f32
    are cast back."""
    for i, (value, declared) in enumerate(zip(terminator.operands, fn.function_type.results)):
        if _is(value, F16) and isinstance(declared, TensorType) and declared.element == F32:
            terminator.set_operand(i, cast(value, F32, block, terminator).results[0])


@dataclass(frozen=True)
class EmulateAneNumerics(ModulePass):
    name = "emulate-ane-numerics"
    description = "fp16 weights and activations between ops, fp32 accumulation inside each op (Core ML's accelerators)"

    def run(self, module, ctx: PassContext) -> None:
        for fn in [op for op in module.walk() if op.op_name == "func.func"]:
            if fn.regions and fn.regions[0].blocks and list(fn.regions[0].blocks[0].ops):
                emulate_function(fn, ctx)
