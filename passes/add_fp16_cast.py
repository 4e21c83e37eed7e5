"""`add-fp16-cast`: an ML Program (`mil` dialect) in fp16, as coremltools writes it.

coremltools' `compute_precision=FLOAT16` (its `common::add_fp16_cast` pass) stores every float
constant in fp16 and computes every op in fp16, with a `cast(dtype="fp16")` after each fp32
input and a `cast(dtype="fp32")` before each fp32 output: MIL's type rules make an op's
operands share one float type, so fp16 weights in an ML Program mean fp16 ops. This is the
rewrite of emulate-ane-numerics (passes/emulate_ane_numerics.py) with MIL's cast and const
ops; `lower --emit mlpackage -p add-fp16-cast` then writes fp16 blobs into weight.bin.
An op whose type rule refuses fp16 keeps fp32, with casts around it, as coremltools does.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlir_coreml.ir.attributes import DenseAttr, DenseResourceAttr
from mlir_coreml.ir.dialects.mil.base import MIL_OPS
from mlir_coreml.ir.dialects.mil.control import ConstOp
from mlir_coreml.ir.core import Location
from mlir_coreml.ir.opdef import Terminator, build
from mlir_coreml.ir.types import STRING, TensorType, element_type_of
from mlir_coreml.passes.base import ModulePass, PassContext
from mlir_coreml.passes.emulate_ane_numerics import Narrowing, narrow_function

MIL_DTYPE = {"f16": "fp16", "f32": "fp32"}  # IR element -> MIL dtype name (cast's `dtype`)


def mil_constant(array, location=None, name: str | None = None):
    """A `mil.const` of `array`: a resource named `name`, inline when unnamed."""
    array = np.asarray(array)
    t = TensorType(array.shape, STRING if array.dtype == object else element_type_of(array.dtype))
    attr = DenseAttr(array, t) if name is None else DenseResourceAttr.from_array(name, array, t)
    return build(ConstOp, [], [t], {"val": attr}, location=location)


class MilNarrowing(Narrowing):
    constant_op = "mil.const"

    def cast_ops(self, value, element, anchor) -> list:
        """`cast(x=value, dtype="fp16")`, named as coremltools names it; a returned value keeps its
        name (the model's output name) on the cast back to fp32, the fp16 value is renamed."""
        stem = f"{value.name or 'var'}_to_{MIL_DTYPE[str(element)]}"
        if anchor.has_trait(Terminator) and value.name:
            stem, value.name = value.name, f"{value.name}_cast_fp16"
        dtype = mil_constant(np.array(MIL_DTYPE[str(element)], dtype=object), Location(f"{stem}_dtype_0"))
        dtype.results[0].name = f"{stem}_dtype_0"
        cast = build(MIL_OPS["cast"], [value, dtype.results[0]], [value.type.with_element(element)],
                     location=Location(stem), result_names=[stem])
        return [dtype, cast]

    @staticmethod
    def constant(array, like, suffix: str = ""):
        resource = getattr(like.attributes["val"], "name", None)
        return mil_constant(array, like.location, resource and f"{resource}{suffix}")

    def narrow_constant(self, op) -> None:
        new = self.constant(np.asarray(op.reference()).astype(np.float16), op)
        new.results[0].name = op.results[0].name
        op.parent.insert_before(new, op)
        op.results[0].replace_all_uses_with(new.results[0])
        op.erase()


@dataclass(frozen=True)
class AddFp16Cast(ModulePass):
    name = "add-fp16-cast"
    description = "ML Program in fp16 as coremltools writes it: fp16 consts and ops, casts at inputs and outputs"

    def run(self, module, ctx: PassContext) -> None:
        for fn in [op for op in module.walk() if op.op_name == "func.func"]:
            if fn.regions and fn.regions[0].blocks and any(op.op_name.startswith("mil.") for op in fn.body.ops):
                narrow_function(fn, lambda op: op.op_name.startswith("mil."), ctx, MilNarrowing, self.name)
