"""Shape arithmetic shared by every dialect: broadcasting, axis normalisation, sliding-window
output sizes and the element limit on untrusted models.

`None` is a dynamic dimension throughout. Errors are `ShapeError`, which is both a
`VerifyError` (the core dialect reports it as such) and a `ValueError` (the MIL and nn
inference fall back to an unranked result on it).
"""
from __future__ import annotations

import numpy as np

from mlir_coreml.ir.guard import max_elements
from mlir_coreml.ir.opdef import VerifyError


class ShapeError(VerifyError, ValueError):
    """Operands or parameters whose shapes do not fit together."""


def format_shape(shape) -> str:
    return "x".join("?" if d is None else str(d) for d in shape) if shape else "scalar"


def num_elements(shape) -> int:
    """Element count of a static shape; 0 when unknown or dynamic."""
    if shape is None or any(d is None for d in shape):
        return 0
    return int(np.prod(shape, dtype=np.int64))


def check_size(shape) -> tuple:
    """`shape` as a tuple, refused when a dimension is negative or it exceeds the guard's element
    limit (models are untrusted input)."""
    if any(d is not None and d < 0 for d in shape):
        raise ShapeError(f"result shape {format_shape(shape)} has a negative dimension")
    if num_elements(shape) > max_elements():
        raise ShapeError(f"result shape {format_shape(shape)} is too large")
    return tuple(shape)


def broadcast_shapes(*shapes) -> tuple:
    """numpy broadcasting over shapes with `None` (dynamic) dims."""
    rank = max(len(s) for s in shapes)
    out = []
    for i in range(rank):
        dims = [s[len(s) - rank + i] for s in shapes if len(s) - rank + i >= 0]
        known = {d for d in dims if d is not None and d != 1}
        if len(known) > 1:
            raise ShapeError(f"shapes {', '.join(format_shape(s) for s in shapes)} do not broadcast")
        if known:
            out.append(known.pop())
        elif any(d is None for d in dims):
            out.append(None)
        else:
            out.append(1)
    return tuple(out)


def normalize_axis(axis, rank: int) -> int:
    """A possibly negative axis as 0..rank-1 (a scalar's only axis is 0)."""
    axis = int(axis)
    if not -rank <= axis < max(rank, 1):
        raise ShapeError(f"axis {axis} is out of range for rank {rank}")
    return axis % rank if rank else 0


def normalize_axes(axes, rank: int) -> tuple[int, ...]:
    out = tuple(sorted({normalize_axis(a, rank) for a in axes}))
    if len(out) != len(tuple(axes)):
        raise ShapeError(f"axes {tuple(axes)} repeat an axis")
    return out


def window_output_size(size, kernel: int, stride: int, dilation: int = 1, pad_before: int = 0,
                       pad_after: int = 0, ceil_mode: bool = False):
    """Output length of a convolution or pooling window sweep (None for a dynamic input).
    In ceil mode the last window must start inside the input or the leading padding
    (PyTorch's rule, Core ML's and the kernels')."""
    if size is None:
        return None
    extent = size + pad_before + pad_after - dilation * (kernel - 1) - 1
    if extent < 0:
        raise ShapeError(f"window {kernel} (dilation {dilation}) is larger than the padded input {size}")
    if not ceil_mode:
        return extent // stride + 1
    out = -(-extent // stride) + 1
    if (out - 1) * stride >= size + pad_before:
        out -= 1
    return out


def same_padding(size: int, kernel: int, stride: int, top_left_heavy: bool = False) -> tuple[int, int]:
    """(before, after) padding of "same" mode: output ceil(size / stride); the odd pixel goes
    after the input unless `top_left_heavy` (Core ML's SAME_LOWER)."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    small = total // 2
    return (total - small, small) if top_left_heavy else (small, total - small)
