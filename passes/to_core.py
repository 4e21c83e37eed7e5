"""`to-core`: lower every frontend dialect the module contains (`nn`, `mil`, `espresso`) into
`core` with that dialect's `<dialect>-to-core` pass, so one pipeline serves every model kind."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.passes.base import ModulePass, PassContext

# espresso first: a bundle's control-flow layers hold nn.yield terminators that only
# espresso-to-core (which lowers the nn layers it rewrites them into) knows what to do with
FRONTEND_DIALECTS = ("espresso", "nn", "mil")


def dialects_in(module) -> set[str]:
    return {op.op_name.split(".", 1)[0] for op in module.walk() if "." in op.op_name}


def record_result_names(fn) -> None:
    """Keep the output names the frontend gave the returned values: a lowering that forwards its
    input (an identity reshape, a full slice) returns another value, named differently."""
    from mlir_coreml.frontend import RESULT_NAMES_ATTR
    from mlir_coreml.ir.attributes import to_attr

    if RESULT_NAMES_ATTR not in fn.attributes:
        fn.attributes[RESULT_NAMES_ATTR] = to_attr([v.name or f"output_{i}"
                                                     for i, v in enumerate(fn.return_op.operands)])


def lower_to_core(module, ctx: PassContext | None = None, fallback: bool = True) -> None:
    """Record each function's output names, then apply the lowering pass of every frontend
    dialect the module contains. With `fallback`, an op a lowering cannot map stays as it is
    for the runtime's reference path (the lowering pass's own `fallback` option); without it,
    such an op is an error."""
    from mlir_coreml.passes.registry import get_pass_class

    for fn in module.walk():
        if fn.op_name == "func.func":
            record_result_names(fn)
    present = dialects_in(module)
    for dialect in FRONTEND_DIALECTS:
        if dialect not in present:
            continue
        name = f"{dialect}-to-core"
        cls = get_pass_class(name)
        if cls is None:
            raise MlirCoremlError(f"the model contains '{dialect}' ops, but this build has no '{name}' lowering "
                                  f"to run them; use `run --reference` to run the model with the reference "
                                  f"interpreter instead")
        takes_fallback = "fallback" in {f.name for f in dataclasses.fields(cls)}
        lowering = cls(fallback=fallback) if takes_fallback else cls()
        lowering.run(module, ctx or PassContext())


@dataclass(frozen=True)
class ToCore(ModulePass):
    name = "to-core"
    description = "lower every frontend dialect present (nn, mil, espresso) to core"

    fallback: bool = True  # ops without a core mapping stay for the runtime's reference path

    def run(self, module, ctx: PassContext) -> None:
        lower_to_core(module, ctx, self.fallback)
