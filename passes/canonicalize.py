"""`canonicalize`: each op's folds and canonicalization patterns, plus dead-code removal,
applied greedily to a fixed point."""
from __future__ import annotations

from dataclasses import dataclass

from mlir_coreml.passes.base import ModulePass, PassContext
from mlir_coreml.ir.rewriter import apply_patterns_greedily


def collect_canonicalization_patterns(module) -> list:
    """Patterns declared by the op classes that occur in the module."""
    patterns, seen = [], set()
    for op in module.walk():
        cls = type(op)
        if cls in seen:
            continue
        seen.add(cls)
        patterns += [p() for p in getattr(cls, "canonicalization_patterns", ())]
    return patterns


@dataclass(frozen=True)
class Canonicalize(ModulePass):
    name = "canonicalize"
    description = "fold ops, apply their canonicalization patterns, remove dead code"

    def run(self, module, ctx: PassContext) -> None:
        if apply_patterns_greedily(module, collect_canonicalization_patterns(module)):
            ctx.stat("canonicalize: rewrites")
