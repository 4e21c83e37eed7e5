"""`core`: the normalized compute dialect that every frontend dialect lowers into and that
optimisation passes, the reference interpreter and codegen target.

Layout conventions: activations are NCHW (rank 4) or plain N-D tensors; weights are dense
constants in their stored precision (f32 or f16); compute is f32 unless an explicit
`core.cast` says otherwise.
"""
from __future__ import annotations

import numpy as np

from mlir_coreml.ir.attributes import DenseAttr, DenseResourceAttr
from mlir_coreml.ir.core import Location, Operation
from mlir_coreml.ir.opdef import (AnyTensor, AnyType, ConstantLike, Pure, VerifyError, attribute, build,
                                  op_def, result)
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
