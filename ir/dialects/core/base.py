"""Shared pieces of the `core` dialect: constants, shape helpers and the CoreOp base."""
from __future__ import annotations

import numpy as np

from mlir_coreml.ir.core import Operation
# core.constant lives in ir/dialects/constant.py, importable without the rest of the dialect
from mlir_coreml.ir.dialects.constant import ConstantOp, constant_array, materialize_constant  # noqa: F401
from mlir_coreml.ir.opdef import Pure, VerifyError, group_sizes
from mlir_coreml.ir.shapes import num_elements
from mlir_coreml.ir.types import TensorType


# =========================================================================== shared helpers

def shape_of(value) -> tuple | None:
    t = value.type
    return t.shape if isinstance(t, TensorType) else None


def as_f32(x) -> np.ndarray:
    a = np.asarray(x)
    return a if a.dtype == np.float32 else a.astype(np.float32)


def types_compatible(inferred, declared) -> bool:
    """`declared` agrees with `inferred` wherever both are known."""
    if not isinstance(inferred, TensorType) or not isinstance(declared, TensorType):
        return inferred == declared
    if inferred.element != declared.element:
        return False
    if inferred.shape is None or declared.shape is None:
        return True
    if len(inferred.shape) != len(declared.shape):
        return False
    return all(a is None or b is None or a == b for a, b in zip(inferred.shape, declared.shape))


class CoreOp(Operation):
    """Base of every compute op of the dialect: pure, verified by its own shape inference."""

    traits = frozenset({Pure})
    view_like = False  # the reference result may be a view of operand 0 (memory planning)

    def verify_(self):
        if type(self).uses_segments and "operand_segments" not in self.attributes:
            raise VerifyError("needs an 'operand_segments' attribute (which optional operands are present)")
        inferred = self.infer_types()
        for r, t in zip(self.results, inferred):
            if not types_compatible(t, r.type):
                raise VerifyError(f"result {r.index} has type {r.type} but the operands imply {t}")

    def infer_types(self):
        raise NotImplementedError

    def flops(self) -> int:
        return 0

    # -- helpers for subclasses ------------------------------------------------------------
    def arrays_by_name(self, arrays) -> dict:
        """Map the flat `reference` arguments to operand names (None for absent optionals)."""
        cls = type(self)
        sizes = group_sizes(self, cls.operand_defs, len(arrays),
                             "operand_segments" if cls.uses_segments else None)
        out, i = {}, 0
        for d, n in zip(cls.operand_defs, sizes):
            out[d.name] = list(arrays[i:i + n]) if d.variadic else (arrays[i] if n else None)
            i += n
        return out

    def out(self, array, index: int = 0) -> np.ndarray:
        """`array` rounded to result `index`'s element type."""
        dtype = self.results[index].type.element.numpy_dtype
        a = np.asarray(array)
        return a if a.dtype == dtype else a.astype(dtype)

    def out_numel(self, index: int = 0) -> int:
        return num_elements(shape_of(self.results[index]))


def unranked_like(value) -> list[TensorType]:
    return [TensorType(None, value.type.element)]
