"""`core.constant`, the one `core` op that model readers and the espresso lowering need: kept in
a module of its own so that `lower` does not import (and compile) the whole core dialect.
ir/dialects/core/ re-exports everything here; the dialect is still one namespace."""
from __future__ import annotations

import numpy as np

from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.ir.attributes import DenseAttr, DenseResourceAttr
from mlir_coreml.ir.core import Location, Operation
from mlir_coreml.ir.opdef import AnyType, ConstantLike, Pure, VerifyError, attribute, build, op_def, result
from mlir_coreml.ir.types import TensorType, element_type_of


@op_def("core.constant")
class ConstantOp(Operation):
    """A tensor constant: inline `dense<...>` for small values, `dense_resource<...>` for weights."""

    value = attribute("dense")
    output = result(AnyType)
    traits = frozenset({Pure, ConstantLike})

    def verify_(self):
        attr = self.attributes["value"]
        if attr.type != self.output.type:
            raise VerifyError(f"value has type {attr.type} but the result is {self.output.type}")

    def reference(self):
        return self.attributes["value"].value

    def infer_types(self):
        return [self.attributes["value"].type]

    def flops(self):
        return 0


def materialize_constant(value, type: TensorType | None = None, location: Location | None = None,
                         name: str | None = None) -> ConstantOp:
    """A `core.constant` for a folded value (numpy array or attribute)."""
    if isinstance(value, (DenseAttr, DenseResourceAttr)):
        attr = value
    else:
        array = np.asarray(value)
        if type is not None and isinstance(type, TensorType):
            array = array.astype(type.element.numpy_dtype, copy=False)
        tensor = TensorType(array.shape, element_type_of(array.dtype))
        attr = DenseAttr(array, tensor) if array.size <= 16 or name is None else \
            DenseResourceAttr.from_array(name, array, tensor)
    return build(ConstantOp, [], [attr.type], {"value": attr}, location=location)


def constant_array(value) -> np.ndarray | None:
    """The array of a value produced by a constant op, else None."""
    op = getattr(value, "op", None)
    if op is None or not op.has_trait(ConstantLike):
        return None
    try:
        return np.asarray(op.reference())
    except MlirCoremlError:  # a resource printed without its data
        return None
