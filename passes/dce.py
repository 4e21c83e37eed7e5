"""`dce`: erase side-effect-free ops whose results are unused."""
from __future__ import annotations

from dataclasses import dataclass

from mlir_coreml.ir.core import Block, Operation
from mlir_coreml.ir.opdef import Pure
from mlir_coreml.passes.base import ModulePass, PassContext


def is_trivially_dead(op: Operation) -> bool:
    return op.has_trait(Pure) and all(not r.uses for r in op.results)


def erase_dead_ops(block: Block) -> int:
    """One backwards sweep erases whole dead chains; nested regions are cleaned first."""
    erased = 0
    op = block.last_op
    while op is not None:
        prev = op._prev
        for region in op.regions:
            for nested in region.blocks:
                erased += erase_dead_ops(nested)
        if is_trivially_dead(op):
            op.erase()
            erased += 1
        op = prev
    return erased


@dataclass(frozen=True)
class DeadCodeElimination(ModulePass):
    name = "dce"
    description = "erase unused side-effect-free ops"

    def run(self, module, ctx: PassContext) -> None:
        ctx.stat("dce: ops erased", sum(erase_dead_ops(b) for r in module.regions for b in r.blocks))
