"""Typed descriptions of the kernel calls a generated module makes directly: one dataclass per
C kernel, holding its packed fp16 weights, fp32 bias and static numbers only (no model
strings: model files are untrusted). The executor attaches one to a kernel step
(`run.spec`) when the call is fully static; codegen/cython_emitter.py emits `emit_<kind>` for
it. A step without one stays a call back into Python (a kernel wrapper or a reference).
Where the call reads and writes (arena offsets, scratch) is not here: plan-memory wrote it on
the op (passes/plan_memory.py)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np


@dataclass(frozen=True)
class Window2d:
    """The geometry of a 2-D window sliding over NCHW activations (conv and pool calls)."""

    in_shape: tuple     # (N, C, H, W)
    out_shape: tuple    # (N, C_out, OH, OW)
    kernel: tuple       # (KH, KW)
    stride: tuple
    pads: tuple         # (top, bottom, left, right)
    dilation: tuple = (1, 1)

    @property
    def in_elements(self) -> int:
        return int(np.prod(self.in_shape, dtype=np.int64))

    def shape_fields(self) -> dict:
        """The fields mc_conv_shape and mc_pool_shape (csrc/kernels.h) share."""
        return dict(H=self.in_shape[2], W=self.in_shape[3], KH=self.kernel[0], KW=self.kernel[1],
                    stride_h=self.stride[0], stride_w=self.stride[1], pad_t=self.pads[0], pad_b=self.pads[1],
                    pad_l=self.pads[2], pad_r=self.pads[3], OH=self.out_shape[2], OW=self.out_shape[3])


@dataclass(kw_only=True)
class KernelCall:
    kind: ClassVar[str] = ""
    out_elements: int
    weights: np.ndarray | None = None
    bias: np.ndarray | None = None
    scratch_elements: int = 0          # fp32 elements of the call's own scratch (plan-memory's scratch_bytes)
    act: str = "none"                  # the epilogue the kernel applies
    alpha: float = 0.0
    beta: float = 0.0
    has_residual: bool = False
    out_f16: bool = False              # the fp32 result is rounded to fp16 (ML Programs in fp16)

    def __post_init__(self):
        self.out_elements, self.scratch_elements = int(self.out_elements), int(self.scratch_elements)
        self.alpha, self.beta = float(self.alpha), float(self.beta)

    @property
    def staging_elements(self) -> int:
        """fp32 elements of the staging an fp16 result is computed in, after the scratch."""
        return self.out_elements if self.out_f16 else 0


@dataclass(kw_only=True)
class Conv2dCall(KernelCall):
    kind: ClassVar[str] = "conv2d"
    window: Window2d
    groups: int
    depthwise: bool


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
    window: Window2d
    pool: str
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
