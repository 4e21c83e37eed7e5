"""`canonicalize`: each op's folds and canonicalization patterns, plus dead-code removal,
applied greedily to a fixed point."""
from __future__ import annotations

from dataclasses import dataclass

from mlir_coreml.passes.base import ModulePass, PassContext
from mlir_coreml.ir.rewriter import apply_patterns_greedily


def collect_canonicalization_patterns(module) -> list:
    """Patterns declared by the op classes of every dialect the module uses, and by their base
    classes (a dialect's base op class declares the patterns all its ops share). The whole
    dialect counts, not only the ops present: a pattern may create an op whose own patterns
    must then run (a `min` becomes a `clip`)."""
    from mlir_coreml.ir.opdef import OP_REGISTRY

    dialects = {op.op_name.split(".", 1)[0] for op in module.walk()}
    classes = [cls for name, cls in sorted(OP_REGISTRY.items()) if name.split(".", 1)[0] in dialects]
    pattern_classes = {}
    for cls in classes:
        for klass in cls.__mro__:
            for p in vars(klass).get("canonicalization_patterns", ()):
                pattern_classes.setdefault(p, None)
    return [p() for p in pattern_classes]


@dataclass(frozen=True)
class Canonicalize(ModulePass):
    name = "canonicalize"
    description = "fold ops, apply their canonicalization patterns, remove dead code"

    def run(self, module, ctx: PassContext) -> None:
        if apply_patterns_greedily(module, collect_canonicalization_patterns(module)):
            ctx.stat("canonicalize: rewrites")
