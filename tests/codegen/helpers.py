"""Build one-op (or small) `core` modules from numpy arrays for the codegen tests."""
from __future__ import annotations

import numpy as np

from mlir_coreml.ir.dialects.builtin import ModuleOp
from mlir_coreml.ir.dialects.core import materialize_constant
from mlir_coreml.ir.dialects.func import FuncOp, ReturnOp
from mlir_coreml.ir.opdef import build
from mlir_coreml.ir.types import TensorType, element_type_of
from mlir_coreml.ir.verifier import verify


def tensor_type(array) -> TensorType:
    array = np.asarray(array)
    return TensorType(array.shape, element_type_of(array.dtype))


class Const:
    """Marks an operand array that becomes a `core.constant` (weights)."""

    def __init__(self, array):
        self.array = np.asarray(array)




def single_op(cls, operands, attributes=None):
    """A module whose main runs one `cls` op. `operands` is a list, or a dict by operand name
    (None = absent optional, list = variadic); plain arrays become function arguments,
    `Const(array)` becomes a core.constant. Returns (module, op, argument arrays)."""
    named = isinstance(operands, dict)
    items = list(operands.items()) if named else [(None, v) for v in operands]
    args, arg_types = [], []

    def collect(v):
        if isinstance(v, Const) or v is None:
            return
        args.append(np.asarray(v))
        arg_types.append(tensor_type(v))

    for _, v in items:
        for x in (v if isinstance(v, list) else [v]):
            collect(x)
    fn = FuncOp.create("main", arg_types, [], arg_names=[f"in{i}" for i in range(len(args))])
    arg_iter = iter(fn.arguments)

    def value_of(v):
        if v is None:
            return None
        if isinstance(v, Const):
            const = materialize_constant(v.array, name="w")
            fn.body.append(const)
            return const.result
        return next(arg_iter)

    if named:
        values = {k: ([value_of(x) for x in v] if isinstance(v, list) else value_of(v)) for k, v in items}
    else:
        values = [value_of(v) for _, v in items]
    op = build(cls, values, attributes=attributes or {})
    for i, r in enumerate(op.results):
        r.name = f"out{i}"
    fn.body.append(op)
    fn.body.append(build(ReturnOp, list(op.results)))
    fn.set_result_types([r.type for r in op.results])
    module = ModuleOp.create()
    module.body.append(fn)
    verify(module)
    return module, op, args


def run_reference(cls, operands, attributes=None):
    """Verify a one-op module and return the op's reference outputs (a tuple for multi-result ops)."""
    module, op, args = single_op(cls, operands, attributes)
    arrays = []
    it = iter(args)
    for v in op.operands:
        producer = getattr(v, "op", None)
        arrays.append(producer.reference() if producer is not None else next(it))
    out = op.reference(*arrays)
    for r, o in zip(op.results, out if isinstance(out, tuple) else (out,)):
        assert tuple(np.shape(o)) == r.type.shape, f"{op.op_name}: reference shape {np.shape(o)} vs type {r.type}"
        assert np.asarray(o).dtype == r.type.element.numpy_dtype, f"{op.op_name}: dtype {np.asarray(o).dtype} vs {r.type}"
    return out


def rel_err(got, ref) -> float:
    got, ref = np.asarray(got, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    if ref.size == 0:
        return 0.0
    return float(np.abs(got - ref).max() / max(np.abs(ref).max(), 1e-12))


class Program:
    """A `main` function built op by op: `p.op(core.ReluOp, [x])` returns the result value(s)."""

    def __init__(self, **inputs):
        self.inputs = {k: np.asarray(v) for k, v in inputs.items()}
        self.fn = FuncOp.create("main", [tensor_type(v) for v in self.inputs.values()], [],
                                arg_names=list(self.inputs))
        self.args = dict(zip(self.inputs, self.fn.arguments))

    def const(self, array, name="w"):
        op = materialize_constant(np.asarray(array), name=name)
        self.fn.body.append(op)
        return op.result

    def op(self, cls, operands, attributes=None, name=None):
        op = build(cls, operands, attributes=attributes or {})
        if name is not None:
            for i, r in enumerate(op.results):
                r.name = name if len(op.results) == 1 else f"{name}_{i}"
        self.fn.body.append(op)
        return op.results[0] if len(op.results) == 1 else op.results

    def finish(self, *outputs):
        self.fn.body.append(build(ReturnOp, list(outputs)))
        self.fn.set_result_types([v.type for v in outputs])
        module = ModuleOp.create()
        module.body.append(self.fn)
        verify(module)
        return module
