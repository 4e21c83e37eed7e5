"""Flexible input shapes, for every kind of model: one schedule compiled per concrete shape.

Core ML keeps shape flexibility in the feature descriptions (enumerated shapes, shape ranges,
image sizes; per function for multi-function models); the program's own types hold either the
default shape (NeuralNetwork) or unknown dims (`?`, ML Program). The kernels and the memory plan
need static shapes, so a flexible model is compiled per concrete input shape, on first use:
`specialize` gives the imported module with the arguments fixed to that shape and every result
type below them inferred again, and `ShapeSchedules` keeps each compiled schedule by shape (a
shape seen before is never compiled again; `compilations` counts the builds).

Both kinds of model use these two pieces: a NeuralNetwork's `CompiledModel` is built for its
default shapes and asks its `ShapeSchedules` for any other allowed shape (its inputs are checked
against the description by `Signature.fit_shape`, which maps Core ML's rank-5 blobs); an ML
Program with `?` dims is a `FlexibleModel`, whose `ShapeSchedules` checks each input against its
`ShapeConstraint` (codegen/feature_shapes.py) before compiling anything. Either way a shape
outside the allowed set is one error naming the input and the allowed shapes.
"""
from __future__ import annotations

import threading
from typing import Callable

from mlir_coreml.codegen.feature_shapes import ShapeConstraint, check_shape, constraint_of, feature_descriptions
from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.ir.types import FunctionType, TensorType
from mlir_coreml.ir.verifier import describe_location

MAX_SCHEDULES = 16  # compiled shapes kept per model; the oldest is dropped beyond this


# -- specialising a module to concrete input shapes ---------------------------------------------

def specialize(module, fn_name: str, shapes: dict[str, tuple]):
    """A copy of `module` whose function `fn_name` takes its named arguments at `shapes`, with
    the result type of every op that depends on them inferred again (ops in program order,
    nested regions first)."""
    module = module.clone()
    fn = next(op for op in module.body.ops
              if op.op_name == "func.func" and op.attributes["sym_name"].value == fn_name)
    changed = set()
    for arg in fn.arguments:
        if arg.name in shapes and isinstance(arg.type, TensorType):
            new = TensorType(tuple(int(d) for d in shapes[arg.name]), arg.type.element)
            if new != arg.type:
                arg.type = new
                changed.add(arg)
    _reinfer_block(fn.body, changed, shapes)
    fn.attributes["function_type"] = type(fn.attributes["function_type"])(
        FunctionType(tuple(a.type for a in fn.arguments), tuple(v.type for v in fn.return_op.operands)))
    return module


def _reinfer_block(block, changed: set, shapes: dict) -> bool:
    """Infer again the ops of `block` that read a value in `changed` (which grows with their
    results); True when any did."""
    touched = False
    for op in block.ops:
        reads_changed = any(v in changed for v in op.operands)
        if reads_changed:  # region arguments stand for the operands (loop vars, a branch's inputs)
            changed.update(a for region in op.regions for b in region.blocks for a in b.args)
        inner = any([_reinfer_block(b, changed, shapes) for region in op.regions for b in region.blocks])
        if not inner and not reads_changed:
            continue
        touched = True
        changed.update(op.results)
        _retype_results(op, shapes)
    return touched


def _retype_results(op, shapes: dict) -> None:
    infer = getattr(op, "infer_types", None) or getattr(op, "_infer", None)
    if infer is None or not op.results:
        return
    try:
        types = infer()
    except Exception as e:  # noqa: BLE001 - judged below: only a stale static type is an error
        types, reason = None, str(e)
    else:
        if len(types) != len(op.results):
            return  # ops whose results their regions define (nn.branch) keep their declared types
        reason = "its shape rule gives no shape"
    for i, result in enumerate(op.results):
        t = types[i] if types is not None else None
        if isinstance(t, TensorType) and t.shape is not None:
            result.type = t
        elif t is not None and not isinstance(t, TensorType) and not isinstance(result.type, TensorType):
            result.type = t
        elif _static(result.type):
            given = ", ".join(f"'{k}' {'x'.join(map(str, s))}" for k, s in shapes.items())
            raise MlirCoremlError(f"'{op.op_name}': result shape cannot be inferred for input shapes {given} "
                                  f"({reason})", describe_location(op))
        # else: an unknown (`?`) declared type stays unknown, as the program declares it


def _static(t) -> bool:
    return isinstance(t, TensorType) and t.shape is not None and None not in t.shape


# -- the cache ------------------------------------------------------------------------------

class ShapeSchedules:
    """Compiled schedules of one function by concrete input shapes: `get(shapes)` checks each
    constrained input, then compiles `build(shapes)` on the first use of those shapes only
    (thread-safe). `compilations` counts the builds."""

    def __init__(self, build: Callable[[dict[str, tuple]], object],
                 constraints: dict[str, ShapeConstraint] | None = None, where: str | None = None):
        self.build = build
        self.constraints = dict(constraints or {})
        self.where = where
        self.schedules: dict[tuple, object] = {}
        self.compilations = 0
        self.lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.schedules)

    def check(self, shapes: dict[str, tuple]) -> None:
        for name, constraint in self.constraints.items():
            check_shape(name, tuple(shapes[name]), constraint, self.where)

    def get(self, shapes: dict[str, tuple]):
        self.check(shapes)
        key = tuple(sorted((k, tuple(int(d) for d in s)) for k, s in shapes.items()))
        with self.lock:
            schedule = self.schedules.get(key)
            if schedule is None:
                schedule = self.build(dict(key))
                self.compilations += 1
                if len(self.schedules) >= MAX_SCHEDULES:
                    self.schedules.pop(next(iter(self.schedules)))
                self.schedules[key] = schedule
            return schedule


# -- ML Programs with unknown dims --------------------------------------------------------------

def input_constraints(module, fn) -> dict[str, ShapeConstraint]:
    """Input name -> its constraint, for the flexible inputs of `fn` (the description's, or a
    plain `?` in the argument type when the description says nothing)."""
    inputs, _ = feature_descriptions(module, fn.attributes["sym_name"].value)
    declared = {f.get("name"): constraint_of(f) for f in inputs}
    out = {}
    for arg in fn.arguments:
        t = arg.type
        if not isinstance(t, TensorType) or t.shape is None or None not in t.shape:
            continue
        found = declared.get(arg.name)
        out[arg.name] = found or ShapeConstraint(ranges=tuple((d, d) if d is not None else (0, -1) for d in t.shape))
    return out


def single_function_module(module, fn):
    """A copy of `module` holding only `fn` (as the lowering and the planner expect one entry)."""
    copy = module.clone()
    name = fn.attributes["sym_name"].value
    for op in list(copy.body.ops):
        if op.op_name == "func.func" and op.attributes["sym_name"].value != name:
            op.erase(check_uses=False)
    return copy


class FlexibleModel:
    """A model whose program leaves input dims unknown: there is no default build, `predict`
    checks each input's shape against the allowed set and runs the schedule compiled for it."""

    def __init__(self, module, fn, signature, compile_static, source=None):
        self.module = module
        self.function = fn
        self.signature = signature       # the predict API's Signature of `fn` (names, dtypes)
        name = fn.attributes["sym_name"].value
        self.schedules = ShapeSchedules(lambda shapes: compile_static(specialize(module, name, shapes)),
                                        input_constraints(module, fn), None if source is None else str(source))
        self.source = source

    @property
    def constraints(self) -> dict[str, ShapeConstraint]:
        return self.schedules.constraints

    @property
    def inputs(self) -> dict:
        return {k: t for k, t in self.signature.inputs.items() if k not in self.states}

    @property
    def states(self) -> list[str]:
        from mlir_coreml.runtime.state import state_names

        return state_names(self.function)

    @property
    def output_names(self) -> list[str]:
        names = self.signature.output_names
        return names[:len(names) - len(self.states)]

    def __repr__(self):
        flex = ", ".join(f"{k}: {c.describe()}" for k, c in self.constraints.items())
        return f"FlexibleModel(flexible inputs=({flex}), compiled shapes={len(self.schedules)})"

    def save(self, path) -> str:
        """Write the (not yet specialised) module as IR text (`.mlir`) with its weights."""
        import os

        from mlir_coreml.codegen.atomic import write_file
        from mlir_coreml.ir.printer import print_module

        path = os.fspath(path)
        path = path if path.endswith(".mlir") else path + ".mlir"
        write_file(path, print_module(self.module, resources=True).encode("utf-8"))
        return path

    def export_kernels(self, folder: str) -> bool:
        """No generated module to export: each input shape gets its own, built on first use."""
        return False

    def make_state(self):
        from mlir_coreml.runtime.state import make_state

        return make_state(self.signature, self.states)

    def predict(self, data, state=None):
        from mlir_coreml.runtime.state import with_state

        if isinstance(data, (list, tuple)):
            return [self.predict(item, state) for item in data]
        states = self.states
        if states:
            state = state if state is not None else self.make_state()
        full = with_state(data, state, states) if states else data
        arrays = {k: v for k, v in zip(self.signature.inputs, self.signature.check_inputs(full)) if k not in states}
        model = self.schedules.get({name: arrays[name].shape for name in self.constraints})
        return model.predict(arrays, state=state) if states else model.predict(arrays)
