"""`cse`: common subexpression elimination over dominance scopes (a value defined in a block
is reused by identical pure ops later in it and in regions nested below it)."""
from __future__ import annotations

from dataclasses import dataclass

from mlir_coreml.ir.core import Block, Operation
from mlir_coreml.ir.opdef import IsolatedFromAbove, Pure
from mlir_coreml.passes.base import ModulePass, PassContext


def op_key(op: Operation):
    return (op.op_name, tuple(id(v) for v in op.operands), frozenset(op.attributes.items()),
            tuple(r.type for r in op.results))


def cse_block(block: Block, known: dict) -> int:
    removed = 0
    for op in list(block.ops):
        for region in op.regions:
            inner = {} if op.has_trait(IsolatedFromAbove) else dict(known)
            for nested in region.blocks:
                removed += cse_block(nested, dict(inner))
        if not op.has_trait(Pure) or op.regions or not op.results:
            continue
        key = op_key(op)
        twin = known.get(key)
        if twin is None:
            known[key] = op
            continue
        for old, new in zip(op.results, twin.results):
            old.replace_all_uses_with(new)
        op.erase()
        removed += 1
    return removed


@dataclass(frozen=True)
class CommonSubexpressionElimination(ModulePass):
    name = "cse"
    description = "merge identical side-effect-free ops"

    def run(self, module, ctx: PassContext) -> None:
        ctx.stat("cse: ops merged", sum(cse_block(b, {}) for r in module.regions for b in r.blocks))
