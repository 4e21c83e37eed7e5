"""`constant-fold`: evaluate pure ops whose operands are all constants with the ops' own
numpy reference semantics, and replace them by `core.constant`."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlir_coreml.ir.core import Operation
from mlir_coreml.ir.opdef import ConstantLike, Pure
from mlir_coreml.passes.base import ModulePass, PassContext


def constant_value(value):
    """The numpy value of an SSA value produced by a constant op, else None."""
    op = getattr(value, "op", None)
    if op is None or not op.has_trait(ConstantLike):
        return None
    return op.reference()


def try_fold_constants(op: Operation, max_elements: int):
    if not op.has_trait(Pure) or op.has_trait(ConstantLike) or op.regions or not op.results:
        return None
    reference = getattr(op, "reference", None)
    if reference is None or not op.operands:
        return None
    inputs = [constant_value(v) for v in op.operands]
    if any(x is None for x in inputs):
        return None
    outputs = reference(*inputs)
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    if any(np.size(o) > max_elements for o in outputs):
        return None
    return outputs


@dataclass(frozen=True)
class ConstantFold(ModulePass):
    name = "constant-fold"
    description = "evaluate ops on constant operands at compile time"
    max_elements: int = 1 << 22

    def run(self, module, ctx: PassContext) -> None:
        from mlir_coreml.ir.dialects.core import materialize_constant

        for op in list(module.walk()):
            if op.parent is None:
                continue
            outputs = try_fold_constants(op, self.max_elements)
            if outputs is None:
                continue
            for r, value in zip(op.results, outputs):
                name = f"{r.name or 'folded'}_const"
                const = materialize_constant(value, r.type, op.location, name=name)
                const.result.name = r.name
                op.parent.insert_before(const, op)
                r.replace_all_uses_with(const.result)
            op.erase()
            ctx.stat("constant-fold: ops folded")
