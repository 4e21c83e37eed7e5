"""Shared pieces of the `core` dialect: constants, shape helpers and the CoreOp base."""
from __future__ import annotations

import numpy as np

from mlir_coreml.ir.core import Operation
from mlir_coreml.ir.guard import max_elements
# core.constant lives in ir/dialects/constant.py, importable without the rest of the dialect
from mlir_coreml.ir.dialects.constant import ConstantOp, constant_array, materialize_constant  # noqa: F401
from mlir_coreml.ir.opdef import Pure, VerifyError, _group_sizes
from mlir_coreml.ir.types import TensorType


# =========================================================================== shared helpers

def _shape(value) -> tuple | None:
    t = value.type
    return t.shape if isinstance(t, TensorType) else None


def _numel(shape) -> int:
    if shape is None or any(d is None for d in shape):
        return 0
    return int(np.prod(shape, dtype=np.int64))


def _norm_axis(axis: int, rank: int) -> int:
    if not -rank <= axis < max(rank, 1):
        raise VerifyError(f"axis {axis} is out of range for rank {rank}")
    return axis % rank if rank else 0


def _norm_axes(axes, rank: int) -> tuple[int, ...]:
    out = tuple(sorted({_norm_axis(a, rank) for a in axes}))
    if len(out) != len(tuple(axes)):
        raise VerifyError(f"axes {tuple(axes)} repeat an axis")
    return out


def broadcast_shapes(*shapes) -> tuple:
    """numpy broadcasting over shapes with `None` (dynamic) dims."""
    rank = max(len(s) for s in shapes)
    out = []
    for i in range(rank):
        dims = [s[len(s) - rank + i] for s in shapes if len(s) - rank + i >= 0]
        known = {d for d in dims if d is not None and d != 1}
        if len(known) > 1:
            raise VerifyError(f"shapes {', '.join(_fmt(s) for s in shapes)} do not broadcast")
        if known:
            out.append(known.pop())
        elif any(d is None for d in dims):
            out.append(None)
        else:
            out.append(1)
    return tuple(out)


def _fmt(shape) -> str:
    return "x".join("?" if d is None else str(d) for d in shape) if shape else "scalar"


def _f32(x) -> np.ndarray:
    a = np.asarray(x)
    return a if a.dtype == np.float32 else a.astype(np.float32)


def _check_size(shape):
    if _numel(shape) > max_elements():
        raise VerifyError(f"result shape {_fmt(shape)} is too large")
    if any(d is not None and d < 0 for d in shape):
        raise VerifyError(f"result shape {_fmt(shape)} has a negative dimension")
    return tuple(shape)


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
        sizes = _group_sizes(self, cls.operand_defs, len(arrays),
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
        return _numel(_shape(self.results[index]))


def _unranked_like(value) -> list[TensorType]:
    return [TensorType(None, value.type.element)]



class _LazyPatterns:
    """`canonicalization_patterns` built on first use, so the dialect does not import passes/."""

    def __init__(self, *factories):
        self.factories = factories
        self.patterns = None

    def __get__(self, op, owner=None):
        if self.patterns is None:
            self.patterns = tuple(f() for f in self.factories)
        return self.patterns

