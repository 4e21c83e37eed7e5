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
    act: str = "none"                  # the epilogue the kernel applies
    alpha: float = 0.0
    beta: float = 0.0
    has_residual: bool = False
    out_f16: bool = False              # the fp32 result is rounded to fp16 (ML Programs in fp16)

    def __post_init__(self):
        self.out_elements = int(self.out_elements)
        self.alpha, self.beta = float(self.alpha), float(self.beta)

    @property
    def staging_elements(self) -> int:
        """fp32 elements of the staging (plan-memory's scratch) an fp16 result is computed in."""
        return self.out_elements if self.out_f16 else 0


@dataclass(kw_only=True)
class Conv2dCall(KernelCall):
    kind: ClassVar[str] = "conv2d"
    window: Window2d
    groups: int
    depthwise: bool
    winograd: int = 0                  # output tile m of Winograd F(m, 3) (its weights are fp32 panels)


def winograd_scratch_elements(call: Conv2dCall) -> int:
    """fp32 elements of per-thread scratch the Winograd kernel takes for `call` (its zero-padded
    input and one tile block); 0 for other convolutions. The kernel holds it itself today
    (csrc/winograd.c, grow-only per thread): this is the size a memory plan would reserve."""
    if not call.winograd:
        return 0
    from mlir_coreml.csrc import _kernels

    window = call.window
    _, c, h, w = window.in_shape
    return int(_kernels.winograd_scratch_floats(call.winograd, c, h, w, window.out_shape[1], window.pads))


@dataclass(kw_only=True)
class GemmCall(KernelCall):
    """`rows` rows of x [rows, K] times the packed W [M, K] (csrc/gemm_rows.c: row-major, out [rows, M])."""

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


@dataclass(kw_only=True)
class LayerNormCall(KernelCall):
    """`rows` runs of `n` values normalised; gamma/beta (n floats each or None) ride in
    `bias` as [gamma | beta] so the Program binds them like a bias."""

    kind: ClassVar[str] = "layer_norm"
    rows: int
    n: int
    eps: float
    has_gamma: bool
    has_beta: bool


@dataclass(kw_only=True)
class AttentionCall(KernelCall):
    """csrc/attention.c on B x H heads; strides (in floats) of q, k, v, out and the mask, as
    mc_attention_shape holds them; q, k, v may be one operand read at three offsets."""

    kind: ClassVar[str] = "attention"
    dims: tuple          # B, H, Sq, Sk, E, Ev
    strides: tuple       # q_b, q_h, q_s, k_b, k_h, k_s, v_b, v_h, v_s, o_b, o_h, o_s, m_b, m_h, m_s, m_t
    scale: float
    has_mask: bool
    operand_elements: tuple  # elements of q, k, v (and mask)
    offsets: tuple = (0, 0, 0)   # floats from the start of q, k, v to their first head (layout "bsc")


@dataclass(kw_only=True)
class CopyCall(KernelCall):
    """csrc/copy.c: the contiguous result of `shape` gathers the input by `strides` (floats):
    a reshape is one run, a transpose its permuted strides."""

    kind: ClassVar[str] = "copy"
    shape: tuple
    strides: tuple
    in_elements: int


@dataclass(kw_only=True)
class SplitCall(KernelCall):
    """core.split as one strided copy per result: (offset into the input in floats, shape,
    strides) each; `out_elements` counts them all."""

    kind: ClassVar[str] = "split"
    parts: tuple
    in_elements: int


@dataclass(kw_only=True)
class MatmulCall(KernelCall):
    """core.matmul of two activations (csrc/attention.c mc_batched_matmul): `batch` products
    of a [M, K] and b [K, N], b shared when `b_shared`; epilogue: residual and activation."""

    kind: ClassVar[str] = "matmul"
    batch: int
    M: int
    K: int
    N: int
    b_shared: bool


@dataclass(kw_only=True)
class ReorderCall(KernelCall):
    """csrc/blocked.c: NCHW [N, C, H, W] to NCHW16c (`to_blocked`) or back, image by image."""

    kind: ClassVar[str] = "reorder"
    to_blocked: bool
    shape: tuple         # the NCHW side (N, C, H, W)

    @property
    def in_elements(self) -> int:
        n, c, h, w = self.shape
        return n * c * h * w if self.to_blocked else n * -(-c // 16) * 16 * h * w


@dataclass(kw_only=True)
class BlockedConvCall(KernelCall):
    """core.conv2d_blocked: dense (csrc/blocked.c, fp16 or fp32 panels) or depthwise
    (csrc/blocked_dw.c, fp32 [CB][KH][KW][16] weights); `window` on the blocked shapes
    (N, CB, H, W, 16), `channels` the logical C and Cout."""

    kind: ClassVar[str] = "conv2d_blocked"
    window: Window2d
    channels: tuple      # (C, Cout)
    depthwise: bool


@dataclass(kw_only=True)
class BlockedPoolCall(KernelCall):
    """core.pool2d_blocked (window) or core.global_pool_blocked (window None; in_shape) on
    blocked activations, every lane pooled as a channel."""

    kind: ClassVar[str] = "pool_blocked"
    pool: str
    exclude_padding: bool
    in_shape: tuple      # (N, CB, H, W, 16)
    window: Window2d | None = None
