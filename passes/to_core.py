"""`to-core`: lower every frontend dialect the module contains (`nn`, `mil`, `espresso`) into
`core` with that dialect's `<dialect>-to-core` pass, so one pipeline serves every model kind."""
from __future__ import annotations

from dataclasses import dataclass

from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.passes.base import ModulePass, PassContext

FRONTEND_DIALECTS = ("nn", "mil", "espresso")


def dialects_in(module) -> set[str]:
    return {op.op_name.split(".", 1)[0] for op in module.walk() if "." in op.op_name}


def lower_to_core(module, ctx: PassContext | None = None) -> None:
    """Apply the lowering pass of every frontend dialect the module contains."""
    from mlir_coreml.passes.registry import get_pass_class

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
        cls().run(module, ctx or PassContext())


@dataclass(frozen=True)
class ToCore(ModulePass):
    name = "to-core"
    description = "lower every frontend dialect present (nn, mil, espresso) to core"

    def run(self, module, ctx: PassContext) -> None:
        lower_to_core(module, ctx)
