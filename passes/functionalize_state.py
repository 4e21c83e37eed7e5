"""`functionalize-state`: model state (iOS18 `state<...>` arguments) as plain data flow.

A state argument becomes a tensor argument holding the state's value when the prediction starts;
`mil.read_state` is replaced by the state's current value, `mil.write_state` makes its `data` the
current one, and `mil.coreml_update_state` its `value` (and is that value for its users). Each function then returns, after its
outputs, the final value of every state, in argument order; `coreml.state_arguments` names them.
The runtime feeds a state's buffer in and writes the returned value back (runtime/state.py), which
is what Core ML's in-place update means for one prediction.

Inside control flow (MIL blocks read outer values directly): a `cond` whose branches update a
state yields the state's value at the end of each branch as an extra result, which is the state's
value after it; a `while_loop` whose body updates a state carries it as an extra loop var (block
argument of both blocks, extra body yield, extra result). Reads see the innermost current value.
A state updated in a while_loop's cond block is refused: that block must yield one bool.
"""
from __future__ import annotations

from dataclasses import dataclass

from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.ir.attributes import ArrayAttr, StringAttr
from mlir_coreml.ir.core import Operation
from mlir_coreml.ir.dialects.func import ReturnOp
from mlir_coreml.ir.opdef import build
from mlir_coreml.ir.types import FunctionType, StateType
from mlir_coreml.ir.verifier import describe_location
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
    current = {}
    for arg in states:
        arg.type = arg.type.wrapped
        current[arg] = arg
    _functionalize_block(fn.body, current)
    ret = fn.return_op
    outputs = list(ret.operands) + [current[a] for a in states]
    new_ret = build(ReturnOp, outputs, [])
    fn.body.append(new_ret)
    ret.erase()
    fn.attributes["function_type"] = type(fn.attributes["function_type"])(
        FunctionType(tuple(a.type for a in fn.arguments), tuple(v.type for v in outputs)))
    fn.attributes[STATE_ARGUMENTS] = ArrayAttr(tuple(StringAttr(a.name) for a in states))


def _functionalize_block(block, current: dict) -> None:
    """Replace the state ops of `block` (and of the regions below it) by data flow; `current`
    maps each state argument to its value at the point reached, and is updated."""
    for op in list(block.ops):
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
        elif op.regions:
            _functionalize_regions(op, current)


def _written(op, current: dict) -> list:
    """The states some op nested in `op` updates, in argument order."""
    hits = {inner.operands[0] for inner in op.walk() if inner is not op and
            inner.op_name in ("mil.write_state", "mil.coreml_update_state")}
    return [s for s in current if s in hits]


def _functionalize_regions(op, current: dict) -> None:
    written = _written(op, current)
    if not written:
        for region in op.regions:
            for block in region.blocks:
                _functionalize_block(block, dict(current))
        return
    if op.op_name == "mil.cond":
        for region in op.regions:
            local = dict(current)
            _functionalize_block(region.block, local)
            _yield_also(region.block, [local[s] for s in written])
        extra_operands = []
    elif op.op_name == "mil.while_loop":
        cond, body = (r.block for r in op.regions)
        if any(s in _written_in_block(cond) for s in written):
            raise MlirCoremlError("model state updated in a while_loop's cond block is not supported "
                                  "(that block yields only the loop condition)", describe_location(op))
        for block in (cond, body):
            local = dict(current)
            local.update({s: block.add_arg(s.type) for s in written})
            _functionalize_block(block, local)
            if block is body:
                _yield_also(block, [local[s] for s in written])
        extra_operands = [current[s] for s in written]
    else:
        raise MlirCoremlError(f"model state updated inside '{op.op_name}' is not supported", describe_location(op))
    results = _with_extra_results(op, extra_operands, [s.type for s in written])
    current.update(zip(written, results))


def _written_in_block(block) -> set:
    return {inner.operands[0] for op in block.ops for inner in op.walk()
            if inner.op_name in ("mil.write_state", "mil.coreml_update_state")}


def _yield_also(block, values: list) -> None:
    terminator = block.last_op
    terminator.set_operands(list(terminator.operands) + list(values))


def _with_extra_results(op, operands: list, types: list) -> list:
    """Replace `op` by the same op with `operands` and results of `types` appended (its regions
    move over); the new results."""
    new = object.__new__(type(op))
    Operation.__init__(new, list(op.operands) + operands, [r.type for r in op.results] + types,
                       dict(op.attributes), (), op.location, op._name, [r.name for r in op.results] + [None] * len(types))
    regions, op.regions = op.regions, []
    for region in regions:
        new.add_region(region)
    op.parent.insert_before(new, op)
    for old, replacement in zip(op.results, new.results):
        old.replace_all_uses_with(replacement)
    op.erase()
    return list(new.results[len(op.results):])
