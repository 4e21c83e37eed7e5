"""Typed descriptions of the kernel calls a generated module makes directly: one dataclass per
C kernel, holding its packed fp16 weights, fp32 bias and static numbers only (no model
strings: model files are untrusted). The executor attaches one to a kernel step
(`run.spec`) when the call is fully static; codegen/cython_emitter.py emits `emit_<kind>` for
it. A step without one stays a call back into Python (a kernel wrapper or a reference)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np


@dataclass(kw_only=True)
class KernelCall:
    kind: ClassVar[str] = ""
    out_elements: int
    weights: np.ndarray | None = None
    bias: np.ndarray | None = None
    scratch_elements: int = 0          # fp32 elements of step-local scratch in the arena
    act: str = "none"                  # the epilogue the kernel applies
    alpha: float = 0.0
    beta: float = 0.0
    has_residual: bool = False
    out_f16: bool = False              # the fp32 result is rounded to fp16 (ML Programs in fp16)

    def __post_init__(self):
        self.out_elements, self.scratch_elements = int(self.out_elements), int(self.scratch_elements)
        self.alpha, self.beta = float(self.alpha), float(self.beta)


@dataclass(kw_only=True)
class Conv2dCall(KernelCall):
    kind: ClassVar[str] = "conv2d"
    in_shape: tuple
    out_shape: tuple
    groups: int
    kernel: tuple
    stride: tuple
    dilation: tuple
    pads: tuple
    depthwise: bool
    winograd: int = 0                  # output tile m of Winograd F(m, 3) (its weights are fp32 panels)


def winograd_scratch_elements(call: Conv2dCall) -> int:
    """fp32 elements of per-thread scratch the Winograd kernel takes for `call` (its zero-padded
    input and one tile block); 0 for other convolutions. The kernel holds it itself today
    (csrc/winograd.c, grow-only per thread): this is the size a memory plan would reserve."""
    if not call.winograd:
        return 0
    from mlir_coreml.csrc import _kernels

    _, c, h, w = call.in_shape
    return int(_kernels.winograd_scratch_floats(call.winograd, c, h, w, call.out_shape[1], call.pads))


@dataclass(kw_only=True)
class GemmCall(KernelCall):
    """`rows` rows of x [rows, K] times the packed W [M, K]."""

    kind: ClassVar[str] = "gemm"
    M: int
    K: int
    rows: int


@dataclass(kw_only=True)
class Pool2dCall(KernelCall):
    kind: ClassVar[str] = "pool2d"
    pool: str
    in_shape: tuple
    out_shape: tuple
    kernel: tuple
    stride: tuple
    pads: tuple
    exclude_padding: bool


@dataclass(kw_only=True)
class GlobalPoolCall(KernelCall):
    kind: ClassVar[str] = "global_pool"
    pool: str
    in_shape: tuple


@dataclass(kw_only=True)
class SoftmaxCall(KernelCall):
    kind: ClassVar[str] = "softmax"
    rows: int
    n: int


@dataclass(kw_only=True)
class ActivationCall(KernelCall):
    kind: ClassVar[str] = "activation"
