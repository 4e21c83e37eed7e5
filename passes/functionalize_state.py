"""`functionalize-state`: model state (iOS18 `state<...>` arguments) as plain data flow.

A state argument becomes a tensor argument holding the state's value when the prediction starts;
`mil.read_state` is replaced by the state's current value, `mil.write_state` makes its `data` the
current one, and `mil.coreml_update_state` its `value` (and is that value for its users). Each function then returns, after its
outputs, the final value of every state, in argument order; `coreml.state_arguments` names them.
The runtime feeds a state's buffer in and writes the returned value back (runtime/state.py), which
is what Core ML's in-place update means for one prediction.

States used inside control flow regions are refused (no sample has them).
"""
from __future__ import annotations

from dataclasses import dataclass

from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.ir.attributes import ArrayAttr, StringAttr
from mlir_coreml.ir.dialects.func import ReturnOp
from mlir_coreml.ir.opdef import build
from mlir_coreml.ir.types import FunctionType, StateType
from mlir_coreml.passes.base import ModulePass, PassContext

STATE_ARGUMENTS = "coreml.state_arguments"


@dataclass(frozen=True)
class FunctionalizeState(ModulePass):
    name = "functionalize-state"
    description = "state arguments -> tensor arguments and extra results (read_state/coreml_update_state become data flow)"

    def run(self, module, ctx: PassContext) -> None:
        for fn in [op for op in module.body.ops if op.op_name == "func.func"]:
            if any(isinstance(a.type, StateType) for a in fn.arguments):
                functionalize(fn)
                ctx.stat("functions")


def functionalize(fn) -> None:
    states = [a for a in fn.arguments if isinstance(a.type, StateType)]
    _refuse_nested_uses(fn, set(states))
    current = {}
    for arg in states:
        arg.type = arg.type.wrapped
        current[arg] = arg
    for op in list(fn.body.ops):
        if op.op_name == "mil.read_state":
            op.results[0].replace_all_uses_with(current[op.param("input")])
            op.erase()
        elif op.op_name == "mil.write_state":
            current[op.param("input")] = op.param("data")
            op.erase()
        elif op.op_name == "mil.coreml_update_state":
            value = op.param("value")
            current[op.param("state")] = value
            op.results[0].replace_all_uses_with(value)
            op.erase()
    ret = fn.return_op
    outputs = list(ret.operands) + [current[a] for a in states]
    new_ret = build(ReturnOp, outputs, [])
    fn.body.append(new_ret)
    ret.erase()
    fn.attributes["function_type"] = type(fn.attributes["function_type"])(
        FunctionType(tuple(a.type for a in fn.arguments), tuple(v.type for v in outputs)))
    fn.attributes[STATE_ARGUMENTS] = ArrayAttr(tuple(StringAttr(a.name) for a in states))


def _refuse_nested_uses(fn, states: set) -> None:
    for op in fn.body.ops:
        for inner in op.walk():
            if inner is not op and any(v in states for v in inner.operands):
                raise MlirCoremlError(f"model state used inside '{op.op_name}' (control flow) is not supported",
                                      fn.attributes["sym_name"].value)
