"""Flexible input shapes: one compiled variant of a model per concrete input shape.

The kernels and the memory plan need static shapes, so a model whose inputs allow several
shapes (enumerated shapes, shape ranges, image size ranges) is compiled for its default shapes
and, on the first prediction with other allowed shapes, again for those: `retyped` gives the
imported (frontend-dialect) module with new argument shapes and every result type inferred
again, and `VariantCache` keeps each compiled variant by its input shapes. Nothing here depends
on the frontend dialect: ML Programs use the same two pieces.
"""
from __future__ import annotations

import threading
from typing import Callable

from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.ir.types import FunctionType, TensorType
from mlir_coreml.ir.verifier import describe_location

MAX_VARIANTS = 16  # compiled shapes kept per model; the oldest is dropped beyond this


def retyped(module, fn_name: str, shapes: list[tuple]) -> object:
    """A copy of `module` whose function `fn_name` takes arguments of `shapes`, with every
    result type below inferred again from them (ops in program order)."""
    module = module.clone()
    fn = next(op for op in module.walk() if op.op_name == "func.func" and op.attributes["sym_name"].value == fn_name)
    for arg, shape in zip(fn.arguments, shapes):
        if isinstance(arg.type, TensorType):
            arg.type = TensorType(tuple(shape), arg.type.element)
    for op in fn.walk():
        if op is not fn:
            _infer_again(op, shapes)
    fn.attributes["function_type"] = type(fn.attributes["function_type"])(
        FunctionType(tuple(a.type for a in fn.arguments), tuple(v.type for v in fn.return_op.operands)))
    return module


def _infer_again(op, shapes: list[tuple]) -> None:
    types = op.infer_types() if op.results and hasattr(op, "infer_types") else ()
    if len(types) != len(op.results):
        return
    for result, t in zip(op.results, types):
        known = isinstance(result.type, TensorType) and result.type.shape is not None
        if isinstance(t, TensorType) and t.shape is None and known:
            if not op.operands:
                continue  # nothing to infer from: the declared shape stands
            raise MlirCoremlError(f"'{op.op_name}': result shape cannot be inferred for input shapes "
                                  f"{', '.join('x'.join(map(str, s)) for s in shapes)}", describe_location(op))
        result.type = t


class VariantCache:
    """Compiled variants by input shapes, built once each by `build(shapes)` (thread-safe)."""

    def __init__(self, build: Callable[[list[tuple]], object]):
        self.build = build
        self.variants: dict[tuple, object] = {}
        self.lock = threading.Lock()

    def get(self, shapes: list[tuple]):
        key = tuple(tuple(s) for s in shapes)
        with self.lock:
            variant = self.variants.get(key)
            if variant is None:
                variant = self.build(list(key))
                if len(self.variants) >= MAX_VARIANTS:
                    self.variants.pop(next(iter(self.variants)))
                self.variants[key] = variant
            return variant
