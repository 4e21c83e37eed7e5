"""The hybrid run of a partitioned model: one runner per device segment.

After `partition-devices,outline-segments` main is a sequence of `func.call`s, one per
segment, each callee carrying the unit it was placed on (`device`). Each segment gets its own
runner, built by the caller from the segment function alone: cpu segments run on the fast
kernels in the precision the pipeline chose (f32, or f16 weights after `fp16-weights`); gpu
and ane segments were narrowed by `emulate-ane-numerics{devices=gpu,ane}`, so their kernels
compute in f32 and store every activation in f16, with the f32 <-> f16 casts at the segment's
entry and return. Values cross segments as the calls' arguments and results, in f32.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.ir.dialects.core.placement import DEVICE_ATTR
from mlir_coreml.ir.opdef import ConstantLike, Terminator
from mlir_coreml.ir.verifier import describe_location


def functions_by_name(module) -> dict:
    return {op.attributes["sym_name"].value: op for op in module.body.ops if op.op_name == "func.func"}


def segment_calls(module, fn) -> list:
    """The `func.call`s of `fn` to device segments of `module` ([] when `fn` is not segmented)."""
    functions = functions_by_name(module)
    calls = [op for op in fn.body.ops if op.op_name == "func.call"]
    if not calls or any(DEVICE_ATTR not in functions.get(c.attributes["callee"].value, c).attributes for c in calls):
        return []
    return calls


class Segment:
    """One call of main: the segment function, its unit and the runner that executes it."""

    __slots__ = ("call", "function", "device", "runner")

    def __init__(self, call, function, runner):
        self.call = call
        self.function = function
        self.device = function.attributes[DEVICE_ATTR].value
        self.runner = runner


class HybridRunner:
    """Runs main's segments in order, each with its own runner; `run(args)` like an Executor."""

    def __init__(self, module, fn, runner_for: Callable):
        functions = functions_by_name(module)
        self.function = fn
        self.args = list(fn.arguments)
        self.constants: dict = {}
        self.segments: list[Segment] = []
        for op in fn.body.ops:
            if op.has_trait(Terminator):
                self.returned = list(op.operands)
            elif op.has_trait(ConstantLike):
                self.constants[op.results[0]] = op.reference()
            elif op.op_name == "func.call":
                callee = functions[op.attributes["callee"].value]
                self.segments.append(Segment(op, callee, runner_for(callee)))
            else:
                raise MlirCoremlError(f"'{op.op_name}' in a segmented main: only calls of device segments "
                                      f"run here (run outline-segments after partition-devices)",
                                      describe_location(op))

    def run(self, args: list[np.ndarray]) -> list[np.ndarray]:
        env = dict(self.constants)
        env.update(zip(self.args, args))
        for segment in self.segments:
            outputs = segment.runner.run([env[v] for v in segment.call.operands])
            env.update(zip(segment.call.results, outputs))
        return [np.array(env[v]) if v in self.constants else env[v] for v in self.returned]

    def describe(self) -> list[str]:
        """One line per segment: unit, function, placed ops (casts and constants not counted)."""
        return [f"{s.device} @{s.function.attributes['sym_name'].value}: "
                f"{sum(DEVICE_ATTR in op.attributes for op in s.function.body.ops)} ops" for s in self.segments]
