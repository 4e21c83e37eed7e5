"""Flexible input shapes at predict: a model compiled once per concrete input shape.

Core ML keeps the flexibility in the feature description (`ArrayFeatureType.shapeRange` or
`.enumeratedShapes`, per function for multi-function models); the program's own types leave the
flexible dims unknown (`?`). The CPU runtime plans memory and packs kernels for static shapes,
so a flexible model is specialised on first use of each concrete input shape: a copy of the
module with the argument types fixed, result types inferred op by op, then lowered and planned
like any static model. Specialisations are cached by shape; a shape seen before is not compiled
again. This works for every dialect whose ops infer their result types (`mil`, `nn`).
"""
from __future__ import annotations

from mlir_coreml.codegen.feature_shapes import ShapeConstraint, check_shape, constraint_of, feature_descriptions
from mlir_coreml.ir.types import TensorType


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


def specialize(module, shapes: dict[str, tuple]):
    """A copy of the one-function `module` whose arguments have the given static shapes, every
    result type re-inferred from them."""
    from mlir_coreml.ir.types import FunctionType

    copy = module.clone()
    fn = next(op for op in copy.body.ops if op.op_name == "func.func")
    for arg in fn.arguments:
        if arg.name in shapes and isinstance(arg.type, TensorType):
            arg.type = TensorType(tuple(int(d) for d in shapes[arg.name]), arg.type.element)
    _reinfer_block(fn.body)
    results = tuple(v.type for v in fn.return_op.operands)
    fn.attributes["function_type"] = type(fn.attributes["function_type"])(
        FunctionType(tuple(a.type for a in fn.arguments), results))
    return copy


def _reinfer_block(block) -> None:
    for op in block.ops:
        for region in op.regions:
            for inner in region.blocks:
                _reinfer_block(inner)
        types = _inferred(op)
        if types is None or len(types) != len(op.results):
            continue
        for r, t in zip(op.results, types):
            if isinstance(t, TensorType) and t.shape is not None:
                r.type = t


def _inferred(op):
    infer = getattr(op, "infer_types", None) or getattr(op, "_infer", None)
    if infer is None or not op.results:
        return None
    try:
        return infer()
    except Exception:  # noqa: BLE001 - ops that cannot infer (yet) keep their declared types
        return None


class FlexibleModel:
    """A model with flexible inputs: `predict` validates each input's shape against the allowed
    set and runs the model compiled for that shape (compiled on first use, then cached)."""

    def __init__(self, module, fn, signature, compile_static, source=None):
        self.module = module
        self.function = fn
        self.signature = signature       # the predict API's Signature of `fn` (names, dtypes)
        self.constraints = input_constraints(module, fn)
        self.compile_static = compile_static
        self.source = source
        self.compiled: dict[tuple, object] = {}   # shape key -> CompiledModel

    @property
    def inputs(self) -> dict:
        return dict(self.signature.inputs)

    @property
    def output_names(self) -> list[str]:
        return list(self.signature.output_names)

    def __repr__(self):
        flex = ", ".join(f"{k}: {c.describe()}" for k, c in self.constraints.items())
        return f"FlexibleModel(flexible inputs=({flex}), compiled shapes={len(self.compiled)})"

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
        from mlir_coreml.runtime.state import make_state, state_names

        return make_state(self.signature, state_names(self.function))

    def predict(self, data, state=None):
        from mlir_coreml.runtime.state import state_names, with_state

        if isinstance(data, (list, tuple)):
            return [self.predict(item, state) for item in data]
        states = state_names(self.function)
        if states:
            state = state if state is not None else self.make_state()
        full = with_state(data, state, states) if states else data
        arrays = {k: v for k, v in zip(self.signature.inputs, self.signature.check_inputs(full)) if k not in states}
        shapes = {}
        for name, constraint in self.constraints.items():
            shape = tuple(arrays[name].shape)
            check_shape(name, shape, constraint, None if self.source is None else str(self.source))
            shapes[name] = shape
        key = tuple(sorted(shapes.items()))
        model = self.compiled.get(key)
        if model is None:
            model = self.compiled[key] = self.compile_static(specialize(self.module, shapes))
        return model.predict(arrays, state=state) if states else model.predict(arrays)
