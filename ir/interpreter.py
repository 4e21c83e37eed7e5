"""The numpy reference interpreter: runs a module through each op's `reference` semantics.

It is the oracle for kernels and passes, not the product path. Ops with regions (loops,
branches) implement `execute(interp, *inputs)` and call `interp.run_region`.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.ir.core import Operation, Region, Value
from mlir_coreml.ir.opdef import Terminator
from mlir_coreml.ir.verifier import describe_location


class Interpreter:
    def __init__(self, module: Operation):
        self.module = module

    def function(self, name: str | None = None) -> Operation:
        funcs = [op for op in self.module.regions[0].block.ops if op.op_name == "func.func"]
        if not funcs:
            raise MlirCoremlError("module has no function to run")
        if name is None:
            main = [f for f in funcs if f.attributes["sym_name"].value == "main"]
            return main[0] if main else funcs[0]
        for f in funcs:
            if f.attributes["sym_name"].value == name:
                return f
        raise MlirCoremlError(f"no function @{name}")

    def call(self, name: str | None, args: list[Any]) -> list[Any]:
        fn = self.function(name)
        return self.run_region(fn.regions[0], args)

    def run_region(self, region: Region, args: list[Any], env: dict[Value, Any] | None = None) -> list[Any]:
        """Run the region's entry block with `args` bound to its arguments; returns the values
        its terminator yields. `env` holds values visible from enclosing regions."""
        env = dict(env or {})
        block = region.blocks[0]
        if len(args) != len(block.args):
            raise MlirCoremlError(f"region expects {len(block.args)} arguments, got {len(args)}")
        env.update(zip(block.args, args))
        for op in block.ops:
            if op.has_trait(Terminator):
                return [env[v] for v in op.operands]
            self.run_op(op, env)
        return []

    def run_op(self, op: Operation, env: dict[Value, Any]) -> None:
        inputs = [env[v] for v in op.operands]
        try:
            if hasattr(op, "execute"):
                outputs = op.execute(self, env, *inputs)
            elif hasattr(op, "reference"):
                outputs = op.reference(*inputs)
            else:
                raise MlirCoremlError(f"'{op.op_name}' has no reference semantics", describe_location(op))
        except MlirCoremlError:
            raise
        except Exception as e:  # numpy errors inside an op: name the op
            raise MlirCoremlError(f"'{op.op_name}' failed: {type(e).__name__}: {e}", describe_location(op)) from e
        outputs = outputs if isinstance(outputs, (tuple, list)) else (outputs,)
        if len(outputs) != len(op.results):
            raise MlirCoremlError(f"'{op.op_name}' produced {len(outputs)} values for {len(op.results)} results",
                                  describe_location(op))
        env.update(zip(op.results, outputs))


def run_module(module: Operation, inputs: dict[str, np.ndarray] | list, function: str | None = None) -> list:
    """Run `function` (default: main) on inputs given by argument name or position."""
    interp = Interpreter(module)
    fn = interp.function(function)
    args = fn.regions[0].blocks[0].args
    if isinstance(inputs, dict):
        missing = [a.name for a in args if a.name not in inputs]
        if missing:
            raise MlirCoremlError(f"missing input(s): {', '.join(map(str, missing))}")
        inputs = [inputs[a.name] for a in args]
    return interp.run_region(fn.regions[0], list(inputs))
