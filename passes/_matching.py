"""Matching helpers the pattern-recognition passes share: producers by class, a value's sole
user, scalar constants and the factors of a product tree."""
from __future__ import annotations

import numpy as np

from mlir_coreml.ir.dialects.constant import constant_array
from mlir_coreml.ir.dialects.core import CastOp, DivOp, MulOp


def defining(value, cls):
    op = getattr(value, "op", None)
    return op if isinstance(op, cls) else None


def sole_user(value):
    """The one op that reads `value`, or None when no op or several do (an op reading it twice
    counts twice). A returned value has `func.return` among its readers, so the sole user of an
    op's operand is that op only when nothing else, the function's result included, needs the
    value: the op may absorb its producer."""
    uses = value.uses
    return uses[0].operation if len(uses) == 1 else None


def float_constant(value) -> np.ndarray | None:
    """The array of a constant, or of a constant cast between float types (how lowerings
    bring an f16-stored parameter to the f32 compute type), as float32; else None."""
    cast = defining(value, CastOp)
    c = constant_array(cast.input if cast is not None else value)
    if c is None or c.dtype.kind != "f" or (cast is not None and value.type.element.numpy_dtype.kind != "f"):
        return None
    return c.astype(np.float32)


def scalar(value) -> float | None:
    c = constant_array(value)
    if c is None or c.size != 1 or c.dtype.kind != "f":
        return None
    return float(c.reshape(-1)[0])


def factors(value, root=True) -> tuple[list, float]:
    """(non-constant factors, product of scalar constants) of `value` seen as a product:
    mul and division by a scalar are looked through while nothing else reads them (the root
    may have other readers)."""
    op = getattr(value, "op", None)
    if not root and sole_user(value) is None:
        return [value], 1.0
    if isinstance(op, MulOp):
        (a, ka), (b, kb) = factors(op.lhs, False), factors(op.rhs, False)
        return a + b, ka * kb
    if isinstance(op, DivOp) and scalar(op.rhs) not in (None, 0.0):
        a, k = factors(op.lhs, False)
        return a, k / scalar(op.rhs)
    c = scalar(value)
    return ([], c) if c is not None else ([value], 1.0)


def close(a: float, b: float, rtol: float = 1e-3) -> bool:
    return bool(np.isclose(a, b, rtol=rtol, atol=0.0))
