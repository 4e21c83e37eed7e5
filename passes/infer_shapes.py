"""`infer-shapes`: refine result types from the ops' shape/type inference, in program order,
and update function signatures to what they now return."""
from __future__ import annotations

from dataclasses import dataclass

from mlir_coreml.ir.types import TensorType
from mlir_coreml.passes.base import ModulePass, PassContext


def refines(old, new) -> bool:
    """`new` is at least as precise as `old` and agrees with it where `old` is known."""
    if old == new:
        return False
    if not (isinstance(old, TensorType) and isinstance(new, TensorType)) or old.element != new.element:
        return False
    if old.shape is None:
        return True
    if new.shape is None or len(old.shape) != len(new.shape):
        return False
    return all(o is None or o == n for o, n in zip(old.shape, new.shape))


@dataclass(frozen=True)
class InferShapes(ModulePass):
    name = "infer-shapes"
    description = "refine dynamic result shapes from operand shapes"

    def run(self, module, ctx: PassContext) -> None:
        for op in module.walk():
            infer = getattr(op, "infer_types", None)
            if infer is None or not op.results:
                continue
            for r, t in zip(op.results, infer()):
                if refines(r.type, t):
                    r.type = t
                    ctx.stat("infer-shapes: results refined")
        for fn in module.walk():
            if fn.op_name == "func.func" and fn.regions and fn.regions[0].blocks:
                fn.set_result_types([v.type for v in fn.return_op.operands])
