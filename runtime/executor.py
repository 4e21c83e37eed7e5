"""Runs a function of a lowered (`core`) module: the kernel path of the runtime.

At construction every op becomes a step. conv2d, conv_transpose2d, linear, matmul by a constant
matrix, pool2d, global_pool, upsample, layer_norm, softmax over the last axis, scaled-dot-product attention,
the blocked-layout ops (NCHW16c reorders, blocked convolutions and pooling) and the activations the kernels
know run through csrc._kernels with their weights packed once here in the precision the IR stores them
(f16 constants: fp16 panels; f32: fp32 panels, for fp32 parity; fp32 accumulation either way:
precision is chosen by the pipeline, `fp16-weights`, not here);
a conv2d/linear applies the epilogue its attributes name (bias, residual, activation: the
fusion passes wrote them; this runtime fuses nothing of its own);
every other op runs its numpy `reference`.

The executor plans nothing: kernel results that `plan-memory` placed in the arena are written
there in place (`out=`), and each value is dropped after the op plan-memory's `last_use` names.
A function without the plan is refused. One executor is not reentrant: `run` holds a lock.
"""
from __future__ import annotations

import functools
import threading
import time
from typing import Any, Callable

import numpy as np

from mlir_coreml.codegen.kernel_calls import (ActivationCall, AttentionCall, BlockedConvCall, BlockedPoolCall,
                                             Conv2dCall, CopyCall, GemmCall, GlobalPoolCall, KernelCall, LayerNormCall,
                                             MatmulCall, Pool2dCall, ReorderCall, SoftmaxCall, SplitCall, Window2d)
from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.ir.dialects.core import (KERNEL_ACTIVATIONS, ActivationOp, Conv2dBlockedOp, Conv2dOp,
                                          ConvTranspose2dOp, DepthwisePointwiseOp, FromBlockedOp,
                                          GlobalPoolBlockedOp, Pool2dBlockedOp, ToBlockedOp,
                                          GlobalPoolOp, LayerNormOp, LinearOp, UpsampleOp,
                                          MatmulOp, Pool2dOp, ReshapeOp, ScaledDotProductAttentionOp, SoftmaxOp,
                                          SplitOp, TransposeOp, WINOGRAD_TILES, apply_activation, bsc_heads,
                                          constant_array)
from mlir_coreml.ir.opdef import ConstantLike, Terminator
from mlir_coreml.ir.types import F16, F32, TensorType
from mlir_coreml.ir.verifier import describe_location
from mlir_coreml.passes.plan_memory import KEPT, KERNELS_WRITE_OUT, arena_size, result_last_uses, result_offsets
from mlir_coreml.runtime.quantized_panels import quantized_panels, quantized_producer
from mlir_coreml.runtime import pack_memo

Kernel = Callable[..., Any]  # (inputs: list[np.ndarray], out: np.ndarray | None) -> array(s)


def _kernels():
    from mlir_coreml.csrc import _kernels

    return _kernels


def _is_float_static(value) -> bool:
    """f32, or f16 (ML Programs computing in fp16: the kernels compute in fp32 and the
    result is rounded to fp16, see `_rounded_to`)."""
    t = value.type
    return isinstance(t, TensorType) and t.element in (F16, F32) and t.is_static


def _rounded_to(run: Kernel, outputs) -> Kernel:
    """`run` with its result rounded to the f16 element type of `outputs` (when it is f16)."""
    if all(v.type.element == F32 for v in outputs):
        return run
    spec = getattr(run, "spec", None)
    if spec is not None:
        spec.out_f16 = True
    return _with_spec(lambda inputs, out: run(inputs, None).astype(np.float16), spec)


class Step:
    """One op: how to compute its results from its operands."""

    __slots__ = ("op", "inputs", "outputs", "run", "out_offset", "kind", "release", "out_view")

    def __init__(self, op, run: Kernel, kind: str, out_offset: int = -1, inputs=None, outputs=None):
        self.op = op
        self.inputs = list(op.operands if inputs is None else inputs)
        self.outputs = list(op.results if outputs is None else outputs)
        self.run = run
        self.kind = kind          # "kernel" or "reference"
        self.out_offset = out_offset
        self.release: list = []   # values last read by this step: dropped after it
        self.out_view = None      # its result's arena view, made on first run (the arena never moves)


def _with_spec(run: Kernel, spec: KernelCall | None) -> Kernel:
    run.spec = spec
    return run


def _static4(value) -> tuple | None:
    t = value.type
    return tuple(t.shape) if isinstance(t, TensorType) and t.is_static and t.rank == 4 else None


# -- kernel builders: each returns a Kernel or None when the op does not fit the kernel ------

def _post_activation(act: str, alpha: float, beta: float):
    """(kernel act, post-op) for a fused activation the kernels may not know."""
    if act in KERNEL_ACTIVATIONS:
        return act, None
    return "none", (lambda y: apply_activation(y, act, alpha, beta).astype(np.float32))


def _packable(w) -> bool:
    return w is not None and w.dtype in (np.float16, np.float32)


def _panel_precision(w, value=None) -> str:
    """Weights are packed as stored: f16 constants in fp16 panels, f32 ones in fp32 panels (values
    a quantized constant decodes to are no more precise than fp16: fp16 panels)."""
    if value is not None and quantized_producer(value) is not None:
        return "fp16"
    return "fp16" if w.dtype == np.float16 else "fp32"


def _weight_and_bias(op) -> tuple | None:
    """(weight, bias or None) of a conv/linear op the kernels can run: static float activations,
    a packable constant weight and a constant (or no) bias."""
    w = constant_array(op.weight)
    if not _packable(w) or not (_is_float_static(op.input) and _is_float_static(op.output)):
        return None
    bias = None if op.bias is None else constant_array(op.bias)
    if op.bias is not None and bias is None:
        return None
    return w, bias


def _pack_conv(op: Conv2dOp, w):
    """The packed weights for the algorithm `op` names. Winograd's transformed weights
    (sums of weights with factors 1/4 .. 1/24) are not fp16 values, and its output transform
    amplifies their rounding (up to ~1e-2 relative for F(4,3)): they are always fp32 panels."""
    K = _kernels()
    tile = WINOGRAD_TILES.get(op.algorithm)
    if tile is not None:
        return K.pack_winograd_weights(w, tile, "fp32")
    return quantized_panels(op.weight, op.groups) or \
        pack_memo.pack_conv_weights(w, op.groups, _panel_precision(w, op.weight))  # cached panels when warm


def conv2d_kernel(op: Conv2dOp) -> Kernel | None:
    """The conv kernel for `op` with the epilogue its attributes name."""
    params = _weight_and_bias(op)
    if params is None:
        return None
    w, bias = params
    act, alpha, beta, has_residual = op.activation, op.alpha, op.beta, op.residual is not None
    K = _kernels()
    packed = _pack_conv(op, w)
    bias = None if bias is None else np.ascontiguousarray(bias, dtype=np.float32)
    act, post = _post_activation(act, float(alpha), float(beta))
    alpha, beta = float(alpha), float(beta)
    stride, dilation, pads = tuple(op.strides), tuple(op.dilations), tuple(op.pads)

    def run(inputs, out):
        residual = inputs[-1] if has_residual else None
        y = K.conv2d(inputs[0], packed, bias=bias, stride=stride, dilation=dilation, padding=pads, act=act,
                     alpha=alpha, beta=beta, residual=residual, out=None if post else out)
        return post(y) if post else y

    in_shape, out_shape = _static4(op.input), _static4(op.output)
    spec = None
    # generated modules bind fp16 and fp32 panels (the table's *_w32 entries); int8 ones run
    # through their callback
    if post is None and not packed.quantized and in_shape and out_shape and \
            K.conv_output_size(in_shape[2], in_shape[3], packed.KH, packed.KW, stride, dilation, pads) == out_shape[2:]:
        window = Window2d(in_shape, out_shape, (packed.KH, packed.KW), stride, pads, dilation)
        spec = Conv2dCall(out_elements=np.prod(out_shape), weights=packed.data, bias=bias, act=act,
                          alpha=alpha, beta=beta, has_residual=has_residual, window=window, groups=packed.groups,
                          depthwise=packed.depthwise, winograd=packed.winograd)
    return _with_spec(run, spec)


def depthwise_pointwise_kernel(op: DepthwisePointwiseOp) -> Kernel | None:
    """The fused depthwise + 1x1 kernel (csrc/dwpw.c); both weights in one panel precision."""
    dw, pw = constant_array(op.dw_weight), constant_array(op.pw_weight)
    biases = [None if v is None else constant_array(v) for v in (op.dw_bias, op.bias)]
    if not (_packable(dw) and _packable(pw)) or op.dw_activation not in KERNEL_ACTIVATIONS \
            or any(b is None and v is not None for b, v in zip(biases, (op.dw_bias, op.bias))) \
            or not (_is_float_static(op.input) and _is_float_static(op.output)):
        return None
    panels = "fp32" if "fp32" in (_panel_precision(dw), _panel_precision(pw)) else "fp16"
    K = _kernels()
    packed_dw = K.pack_conv_weights(dw, dw.shape[0], panels)
    packed_pw = K.pack_weights(pw.reshape(pw.shape[0], pw.shape[1]), panels)
    dw_bias, bias = (None if b is None else np.ascontiguousarray(b, dtype=np.float32) for b in biases)
    act, post = _post_activation(op.activation, float(op.alpha), float(op.beta))
    has_residual = op.residual is not None
    geometry = dict(stride=tuple(op.strides), dilation=tuple(op.dilations), padding=tuple(op.pads))
    dw_epilogue = dict(dw_bias=dw_bias, dw_act=op.dw_activation, dw_alpha=float(op.dw_alpha),
                       dw_beta=float(op.dw_beta))

    def run(inputs, out):
        y = K.depthwise_pointwise(inputs[0], packed_dw, packed_pw, bias=bias, act=act, alpha=float(op.alpha),
                                  beta=float(op.beta), residual=inputs[-1] if has_residual else None,
                                  out=None if post else out, **dw_epilogue, **geometry)
        return post(y) if post else y

    return run


def conv_transpose2d_kernel(op: ConvTranspose2dOp) -> Kernel | None:
    params = _weight_and_bias(op)
    if params is None:
        return None
    w, bias = params
    K = _kernels()
    packed = pack_memo.pack_conv_transpose_weights(w, op.groups, _panel_precision(w, op.weight))
    bias = None if bias is None else np.ascontiguousarray(bias, dtype=np.float32)
    stride, dilation, pads = tuple(op.strides), tuple(op.dilations), tuple(op.pads)
    output_padding = tuple(op.output_padding)
    return lambda inputs, out: K.conv_transpose2d(inputs[0], packed, bias=bias, stride=stride, dilation=dilation,
                                                  padding=pads, output_padding=output_padding)


def upsample_kernel(op: UpsampleOp) -> Kernel | None:
    if not (_is_float_static(op.input) and _is_float_static(op.output)) or op.input.type.rank < 2:
        return None
    K = _kernels()
    h, w = op.input.type.shape[-2:]
    rows, cols = op.sampling(-2, h), op.sampling(-1, w)
    if op.mode == "nearest":
        return lambda inputs, out: K.resize_nearest(inputs[0], rows, cols)
    return lambda inputs, out: K.resize_bilinear(inputs[0], *rows, *cols)


def layer_norm_kernel(op: LayerNormOp) -> Kernel | None:
    """Normalisation over trailing axes with constant (or no) gamma/beta."""
    if not (_is_float_static(op.input) and _is_float_static(op.output)):
        return None
    shape = op.input.type.shape
    axes = sorted(a % len(shape) for a in op.axes) if shape else []
    if not axes or axes != list(range(len(shape) - len(axes), len(shape))):
        return None
    n = int(np.prod([shape[a] for a in axes], dtype=np.int64))
    params = []
    for value in (op.gamma, op.beta):
        p = None if value is None else constant_array(value)
        if value is not None and (p is None or p.size not in (1, n)):
            return None
        params.append(None if p is None else np.broadcast_to(p.astype(np.float32).reshape(-1), (n,)).copy())
    K, (gamma, beta), eps = _kernels(), params, float(op.eps)
    rows = int(np.prod(shape, dtype=np.int64)) // n if n else 0
    both = [p for p in (gamma, beta) if p is not None]
    spec = LayerNormCall(out_elements=rows * n, rows=rows, n=n, eps=eps, has_gamma=gamma is not None,
                         has_beta=beta is not None, bias=np.concatenate(both) if both else None)
    return _with_spec(lambda inputs, out: K.layer_norm(inputs[0], n, gamma, beta, eps).reshape(shape), spec)


def _heads_views(op: ScaledDotProductAttentionOp, arrays) -> list[np.ndarray]:
    """q, k, v and the result (`arrays`) as the kernel's [B, H, S, E] views (no copy)."""
    arrays = [np.asarray(x, dtype=np.float32) for x in arrays]
    if op.layout == "bsc":
        (E, Ev), (oq, ok, ov) = op.head_dims, op.offsets
        return [bsc_heads(x, o, op.heads, d) for x, o, d in zip(arrays, (oq, ok, ov, 0), (E, E, Ev, Ev))]
    if op.layout == "bshd":
        return [x.transpose(0, 2, 1, 3) for x in arrays]
    return [x[:, None] if x.ndim == 3 else x for x in arrays]


def _contiguous_strides(shape) -> list[int]:
    strides, step = [], 1
    for d in reversed(shape):
        strides.insert(0, step if d != 1 else 0)
        step *= d
    return strides


def attention_kernel(op: ScaledDotProductAttentionOp) -> Kernel | None:
    """The fused attention kernel for rank-3/4 operands: q, k, v and the result are read and
    written in place by strides (a "bshd" operand is its transposed view, a "bsc" one the view
    of its channels from an offset: the kernel's pointer plus that offset)."""
    values = [op.q, op.k, op.v, op.output] + ([op.mask] if op.mask is not None else [])
    if any(not _is_float_static(x) for x in values) or op.q.type.rank not in (3, 4):
        return None
    K, scale = _kernels(), float(op.scale)
    out_shape = tuple(op.output.type.shape)
    has_mask = op.mask is not None

    def run(inputs, out):
        y = np.empty(out_shape, dtype=np.float32)
        q, k, v, o = _heads_views(op, inputs[:3] + [y])
        K.attention(q, k, v, inputs[3] if has_mask else None, scale, out=o)
        return y

    heads = _heads_views(op, [np.empty(x.type.shape, np.float32) for x in (op.q, op.k, op.v, op.output)])
    B, H, Sq, E = heads[0].shape
    Sk, Ev = heads[1].shape[2], heads[2].shape[3]
    strides = [st // 4 for x in heads for st in x.strides[:3]]
    if has_mask:
        m = (1,) * (op.q.type.rank - op.mask.type.rank) + tuple(op.mask.type.shape)
        m = m if len(m) == 4 else (m[0], 1) + m[1:]
        strides += _contiguous_strides(m)
    else:
        strides += [0, 0, 0, 0]
    offsets = tuple(op.offsets) if op.layout == "bsc" else (0, 0, 0)
    spec = AttentionCall(out_elements=op.output.type.num_elements, dims=(B, H, Sq, Sk, E, Ev), strides=tuple(strides),
                         scale=scale, has_mask=has_mask, offsets=offsets,
                         operand_elements=tuple(x.type.num_elements for x in values if x is not op.output))
    return _with_spec(run, spec)


def row_gemm_kernel(w, bias, out_shape, act="none", alpha=0.0, beta=0.0, has_residual=False,
                    result_shape=None, panels: str = "fp16", packed=None) -> Kernel:
    """`act(x @ w^T + bias + residual)` for x [..., K] and w [N, K] through the row-major packed
    GEMM, no transposes (`panels`: "fp16" or "fp32", unless already `packed`); the result is reshaped to
    `result_shape` when given (a fused chain's final value)."""
    K = _kernels()
    packed = packed or pack_memo.pack_weights(w, panels)
    bias = None if bias is None else np.ascontiguousarray(bias, dtype=np.float32)
    act, post = _post_activation(act, alpha, beta)
    n_out, k_in = w.shape
    rows = int(np.prod(out_shape[:-1], dtype=np.int64))

    def run(inputs, out):
        x = inputs[0].reshape(rows, k_in)
        residual = inputs[-1].reshape(rows, n_out) if has_residual else None
        if packed.quantized:   # 8-bit panels: the column GEMM on transposed rows
            y = K.gemm(packed, x.T, bias=bias, act=act, alpha=alpha, beta=beta,
                       residual=None if residual is None else residual.T).T
        else:
            direct = out is not None and post is None
            y = K.gemm_rows(packed, x, bias=bias, act=act, alpha=alpha, beta=beta, residual=residual,
                            out=out.reshape(rows, n_out) if direct else None)
            if direct:
                return out
        y = np.ascontiguousarray(y).reshape(out_shape)
        y = post(y) if post else y
        return y if result_shape is None else y.reshape(result_shape)

    spec = None
    if not (post or packed.quantized):
        spec = GemmCall(out_elements=rows * n_out, weights=packed.data, bias=bias, act=act, alpha=alpha, beta=beta,
                        has_residual=has_residual, M=n_out, K=k_in, rows=rows)
    return _with_spec(run, spec)


def linear_kernel(op: LinearOp) -> Kernel | None:
    params = _weight_and_bias(op)
    if params is None:
        return None
    w, bias = params
    return row_gemm_kernel(w, bias, op.output.type.shape, op.activation, float(op.alpha), float(op.beta),
                           op.residual is not None, panels=_panel_precision(w, op.weight),
                           packed=quantized_panels(op.weight))


def matmul_kernel(op: MatmulOp) -> Kernel | None:
    """x @ B with a constant 2-D B is a linear layer with weight B^T; a product of two
    activations is the row-major batched matmul. Both apply the fused epilogue."""
    b = constant_array(op.b)
    if op.transpose_a or not (_is_float_static(op.a) and _is_float_static(op.output)):
        return None
    epilogue = (op.activation, float(op.alpha), float(op.beta), op.residual is not None)
    if b is None:
        return activations_matmul_kernel(op, *epilogue)
    if not _packable(b) or b.ndim != 2:
        return None
    return row_gemm_kernel(b if op.transpose_b else b.T, None, op.output.type.shape, *epilogue,
                           panels=_panel_precision(b, op.b),
                           packed=quantized_panels(op.b) if op.transpose_b else None)


def activations_matmul_kernel(op: MatmulOp, act: str, alpha: float, beta: float, has_residual: bool):
    """a [..., M, K] @ b [..., K, N] (or b [K, N]) with equal batch dims, no transposes."""
    a_shape, out = op.a.type.shape, op.output.type.shape
    if op.transpose_b or not _is_float_static(op.b) or len(a_shape) < 2 or act not in KERNEL_ACTIVATIONS:
        return None
    b_shape = op.b.type.shape
    if len(b_shape) != 2 and (len(b_shape) != len(a_shape) or b_shape[:-2] != a_shape[:-2]):
        return None
    K = _kernels()
    M, k_in, N = a_shape[-2], a_shape[-1], b_shape[-1]
    batch = int(np.prod(a_shape[:-2], dtype=np.int64))

    def run(inputs, out_view):
        a = inputs[0].reshape(batch, M, k_in)
        b = inputs[1] if len(b_shape) == 2 else inputs[1].reshape(batch, k_in, N)
        residual = inputs[-1] if has_residual else None
        return K.batched_matmul(a, b, act, alpha, beta, residual).reshape(out)

    spec = MatmulCall(out_elements=batch * M * N, act=act, alpha=alpha, beta=beta, has_residual=has_residual,
                      batch=batch, M=M, K=k_in, N=N, b_shared=len(b_shape) == 2)
    return _with_spec(run, spec)


def pool2d_kernel(op: Pool2dOp) -> Kernel | None:
    if not (_is_float_static(op.input) and _is_float_static(op.output)):
        return None
    K = _kernels()
    kernel, stride, pads, ceil = tuple(op.kernel), tuple(op.strides), tuple(op.pads), bool(op.ceil_mode)
    exclude = bool(op.exclude_padding)
    if op.kind == "max":
        run = lambda inputs, out: K.max_pool2d(inputs[0], kernel, stride, pads, ceil)  # noqa: E731
    else:
        run = lambda inputs, out: K.avg_pool2d(inputs[0], kernel, stride, pads, exclude, ceil)  # noqa: E731
    in_shape, out_shape = _static4(op.input), _static4(op.output)
    spec = None
    if in_shape and out_shape and in_shape[:2] == out_shape[:2] and \
            K.pool_output_size(in_shape, kernel, stride, pads, ceil) == out_shape[2:]:
        spec = Pool2dCall(out_elements=np.prod(out_shape), pool=op.kind, exclude_padding=exclude,
                          window=Window2d(in_shape, out_shape, kernel, stride, pads))
    return _with_spec(run, spec)


def global_pool_kernel(op: GlobalPoolOp) -> Kernel | None:
    if not (_is_float_static(op.input) and _is_float_static(op.output)):
        return None
    K = _kernels()
    fn = K.global_max_pool if op.kind == "max" else K.global_avg_pool
    in_shape = _static4(op.input)
    spec = None if not in_shape else GlobalPoolCall(out_elements=in_shape[0] * in_shape[1], pool=op.kind,
                                                     in_shape=in_shape)
    return _with_spec(lambda inputs, out: fn(inputs[0]), spec)


def softmax_kernel(op: SoftmaxOp) -> Kernel | None:
    rank = op.input.type.rank
    if not (_is_float_static(op.input) and _is_float_static(op.output)) or op.axis not in (-1, rank - 1):
        return None
    K = _kernels()
    shape = op.input.type.shape
    n = shape[-1] if shape else 1
    size = int(np.prod(shape, dtype=np.int64))
    spec = SoftmaxCall(out_elements=size, rows=size // n if n else 0, n=n) if op.input.type.is_static else None
    return _with_spec(lambda inputs, out: K.softmax(inputs[0], out=out), spec)


def activation_kernel(op: ActivationOp) -> Kernel | None:
    act, alpha, beta = op.activation()
    if act not in KERNEL_ACTIVATIONS or not (_is_float_static(op.input) and _is_float_static(op.output)):
        return None
    K = _kernels()
    spec = ActivationCall(out_elements=op.input.type.num_elements, act=act, alpha=alpha, beta=beta) \
        if op.input.type.is_static else None
    return _with_spec(lambda inputs, out: K.activation(inputs[0], act, alpha, beta), spec)


def data_movement_kernel(op) -> Kernel | None:
    """reshape/transpose of f32 tensors: numpy views here (as their references), a strided
    copy in C in the generated module (CopyCall)."""
    if not (_is_float_static(op.input) and _is_float_static(op.output)) or op.output.type.element != F32:
        return None
    if op.input.type.rank > _kernels().COPY_MAX_RANK:
        return None
    n = op.input.type.num_elements
    if isinstance(op, ReshapeOp):
        spec = CopyCall(out_elements=n, shape=(n,), strides=(1,), in_elements=n)
    else:
        contiguous = _contiguous_strides(op.input.type.shape)
        spec = CopyCall(out_elements=n, shape=tuple(op.output.type.shape),
                        strides=tuple(contiguous[p] for p in op.perm), in_elements=n)
    return _with_spec(lambda inputs, out: op.reference(*inputs), spec)


def split_kernel(op: SplitOp) -> Kernel | None:
    """The pieces as numpy views here (as the reference), strided copies in C in the
    generated module (SplitCall)."""
    values = [op.input] + list(op.results)
    if any(not _is_float_static(v) or v.type.element != F32 for v in values) or \
            op.input.type.rank > _kernels().COPY_MAX_RANK:
        return None
    shape = op.input.type.shape
    axis = op.axis % len(shape)
    strides = [int(np.prod(shape[d + 1:], dtype=np.int64)) for d in range(len(shape))]
    parts, start = [], 0
    for value in op.results:
        parts.append((start * strides[axis], tuple(value.type.shape), tuple(strides)))
        start += value.type.shape[axis]
    spec = SplitCall(out_elements=op.input.type.num_elements, parts=tuple(parts),
                     in_elements=op.input.type.num_elements)
    return _with_spec(lambda inputs, out: op.reference(*inputs), spec)


def reorder_kernel(op) -> Kernel | None:
    """core.to_blocked / core.from_blocked of f32 tensors (csrc/blocked.c)."""
    to = isinstance(op, ToBlockedOp)
    nchw = op.input if to else op.output
    if not (_is_float_static(op.input) and _is_float_static(op.output)) or op.output.type.element != F32:
        return None
    K, shape = _kernels(), tuple(nchw.type.shape)
    if to:
        run = lambda inputs, out: K.to_blocked(inputs[0], out=out)  # noqa: E731
    else:
        run = lambda inputs, out: K.from_blocked(inputs[0], shape[1], out=out)  # noqa: E731
    return _with_spec(run, ReorderCall(out_elements=op.output.type.num_elements, to_blocked=to, shape=shape))


def conv2d_blocked_kernel(op: Conv2dBlockedOp) -> Kernel | None:
    """Dense blocked conv (csrc/blocked.c: fp16 or fp32 panels as stored) or depthwise
    (csrc/blocked_dw.c: fp32 weights), with the epilogue its attributes name."""
    params = _weight_and_bias(op)
    if params is None or op.activation not in KERNEL_ACTIVATIONS:
        return None   # the pass blocks only convs whose activation the kernels apply
    w, bias = params
    K = _kernels()
    c, cout = op.in_channels, w.shape[0]
    bias = None if bias is None else np.ascontiguousarray(bias, dtype=np.float32)
    epilogue = dict(bias=bias, stride=tuple(op.strides), dilation=tuple(op.dilations), padding=tuple(op.pads),
                    act=op.activation, alpha=float(op.alpha), beta=float(op.beta))
    has_residual = op.residual is not None
    if op.depthwise:
        packed = K.pack_depthwise_blocked(w)

        def run(inputs, out):
            return K.depthwise_blocked(inputs[0], packed, c, residual=inputs[-1] if has_residual else None,
                                       out=out, **epilogue)
        weights = packed.reshape(-1)
    else:
        packed = K.pack_conv_blocked_weights(w, _panel_precision(w, op.weight))

        def run(inputs, out):
            return K.conv2d_blocked(inputs[0], packed, residual=inputs[-1] if has_residual else None, out=out,
                                    **epilogue)
        weights = packed.data
    kh, kw = w.shape[2:]
    window = Window2d(tuple(op.input.type.shape), tuple(op.output.type.shape), (kh, kw), tuple(op.strides),
                      tuple(op.pads), tuple(op.dilations))
    spec = BlockedConvCall(out_elements=op.output.type.num_elements, weights=weights, bias=bias, act=op.activation,
                           alpha=float(op.alpha), beta=float(op.beta), has_residual=has_residual, window=window,
                           channels=(c, cout), depthwise=op.depthwise)
    return _with_spec(run, spec)


def pool_blocked_kernel(op) -> Kernel | None:
    """core.pool2d_blocked / core.global_pool_blocked (csrc/blocked_dw.c): every lane pooled as
    a channel (tail lanes are zeros and pool to zeros)."""
    if not (_is_float_static(op.input) and _is_float_static(op.output)) or op.output.type.element != F32:
        return None
    K, in_shape = _kernels(), tuple(op.input.type.shape)
    lanes = in_shape[1] * in_shape[4]
    if isinstance(op, GlobalPoolBlockedOp):
        is_max = op.kind == "max"
        spec = BlockedPoolCall(out_elements=op.output.type.num_elements, pool=op.kind, exclude_padding=False,
                               in_shape=in_shape)
        return _with_spec(lambda inputs, out: K.global_pool_blocked(inputs[0], lanes, is_max), spec)
    kernel, stride, pads, ceil = tuple(op.kernel), tuple(op.strides), tuple(op.pads), bool(op.ceil_mode)
    exclude = bool(op.exclude_padding)
    if op.kind == "max":
        run = lambda inputs, out: K.max_pool2d_blocked(inputs[0], lanes, kernel, stride, pads, ceil)  # noqa: E731
    else:
        run = lambda inputs, out: K.avg_pool2d_blocked(inputs[0], lanes, kernel, stride, pads, exclude,  # noqa: E731
                                                       ceil)
    spec = BlockedPoolCall(out_elements=op.output.type.num_elements, pool=op.kind, exclude_padding=exclude,
                           in_shape=in_shape, window=Window2d(in_shape, tuple(op.output.type.shape), kernel,
                                                              stride, pads))
    return _with_spec(run, spec)


KERNEL_BUILDERS: dict[type, Callable] = {
    Conv2dOp: conv2d_kernel,
    ConvTranspose2dOp: conv_transpose2d_kernel,
    DepthwisePointwiseOp: depthwise_pointwise_kernel,
    UpsampleOp: upsample_kernel,
    LayerNormOp: layer_norm_kernel,
    LinearOp: linear_kernel,
    MatmulOp: matmul_kernel,
    Pool2dOp: pool2d_kernel,
    GlobalPoolOp: global_pool_kernel,
    SoftmaxOp: softmax_kernel,
    ScaledDotProductAttentionOp: attention_kernel,
    ReshapeOp: data_movement_kernel,
    TransposeOp: data_movement_kernel,
    SplitOp: split_kernel,
    ToBlockedOp: reorder_kernel,
    FromBlockedOp: reorder_kernel,
    Conv2dBlockedOp: conv2d_blocked_kernel,
    Pool2dBlockedOp: pool_blocked_kernel,
    GlobalPoolBlockedOp: pool_blocked_kernel,
}


def release_points(op) -> list[int]:
    """plan-memory's `last_use` of each result of `op`: the body index of the op after which it
    is dropped (KEPT: returned)."""
    last = result_last_uses(op)
    if last is None or len(last) != len(op.results):
        raise MlirCoremlError(f"'{op.op_name}' has no 'last_use' for each result: the memory plan is missing or "
                              f"stale, run plan-memory last", describe_location(op))
    return last


def kernel_for(op) -> Kernel | None:
    builder = KERNEL_BUILDERS.get(type(op))
    if builder is None and isinstance(op, ActivationOp):
        builder = activation_kernel
    return builder(op) if builder is not None else None


class Executor:
    """Steps for one function; `run(args)` returns the values its `func.return` yields. The
    function must carry plan-memory's attributes: kernel results go to their `arena_offset`,
    and every value is dropped after the op its `last_use` names."""

    def __init__(self, module, fn, use_kernels: bool = True):
        self.arena_size = arena_size(fn)
        if self.arena_size is None:
            raise MlirCoremlError("the function has no memory plan (no 'arena_size'): run the plan-memory pass "
                                  "last, as compile_model's pipelines do", describe_location(fn))
        self.module = module
        self.fn = fn
        self.args = list(fn.arguments)
        self.constants: dict = {}
        self.steps: list[Step] = []
        self.lock = threading.Lock()
        self._interpreter = None
        ops = list(fn.body.ops)
        self.returned = list(ops[-1].operands) if ops and ops[-1].has_trait(Terminator) else []
        at: dict[int, Step] = {}  # op index in the body -> its step
        for i, op in enumerate(ops):
            if op.has_trait(Terminator):
                continue
            if op.has_trait(ConstantLike):
                self.constants[op.results[0]] = op.reference()
                continue
            if not (hasattr(op, "reference") or hasattr(op, "execute")):
                raise MlirCoremlError(f"'{op.op_name}' has neither a kernel nor reference semantics; lower it to "
                                      f"the core dialect first", describe_location(op))
            kernel = kernel_for(op) if use_kernels else None
            if kernel is None:
                at[i] = Step(op, self._reference_step(op), "reference")
            else:
                writes_out = type(op) in KERNELS_WRITE_OUT and op.results[0].type.element == F32
                offset = result_offsets(op)[0] if writes_out else -1
                at[i] = Step(op, _rounded_to(kernel, op.results), "kernel", offset)
            self.steps.append(at[i])
        for i, step in at.items():
            for value, last in zip(step.outputs, release_points(step.op)):
                if last == KEPT:
                    continue
                if last not in at:
                    raise MlirCoremlError(f"'{step.op.op_name}': last_use {last} is not an op of the function: the "
                                          f"memory plan is stale, run plan-memory again", describe_location(step.op))
                at[last].release.append(value)

    @staticmethod
    def _reference_step(op) -> Kernel:
        return lambda inputs, out: op.reference(*inputs)  # ops with `execute` are run in run_step

    @functools.cached_property
    def arena(self) -> np.ndarray:
        """plan-memory's arena, allocated on first use: a generated module runs in its own."""
        return np.empty(self.arena_size, dtype=np.uint8)

    def arena_view(self, offset: int, value) -> np.ndarray:
        t = value.type
        dtype = t.element.numpy_dtype
        nbytes = t.num_elements * dtype.itemsize
        return self.arena[offset:offset + nbytes].view(dtype).reshape(t.shape)

    @property
    def interpreter(self):
        """For ops with regions (control flow), which run through the reference interpreter."""
        if self._interpreter is None:
            from mlir_coreml.ir.interpreter import Interpreter

            self._interpreter = Interpreter(self.module)
        return self._interpreter

    @property
    def kernel_ops(self) -> int:
        return sum(1 for s in self.steps if s.kind == "kernel")

    def run(self, args: list[np.ndarray], timings: list[float] | None = None) -> list[np.ndarray]:
        """The results; `timings` (one float per step) accumulates each step's seconds."""
        with self.lock:
            env = dict(self.constants)
            env.update(zip(self.args, args))
            for i, step in enumerate(self.steps):
                if timings is None:
                    self.run_step(step, env)
                else:
                    start = time.perf_counter()
                    self.run_step(step, env)
                    timings[i] += time.perf_counter() - start
                for value in step.release:
                    del env[value]
            return [self.detach(v, env[v]) for v in self.returned]

    def run_step(self, step: Step, env: dict) -> None:
        inputs = [env[v] for v in step.inputs]
        if step.out_view is None and step.out_offset >= 0:
            step.out_view = self.arena_view(step.out_offset, step.outputs[0])
        out = step.out_view
        try:
            if step.kind == "reference" and hasattr(step.op, "execute"):
                outputs = step.op.execute(self.interpreter, env, *inputs)
            else:
                outputs = step.run(inputs, out)
        except MlirCoremlError:
            raise
        except Exception as e:
            raise MlirCoremlError(f"'{step.op.op_name}' failed: {type(e).__name__}: {e}",
                                  describe_location(step.op)) from e
        outputs = outputs if isinstance(outputs, (tuple, list)) else (outputs,)
        if len(outputs) != len(step.outputs):
            raise MlirCoremlError(f"'{step.op.op_name}' produced {len(outputs)} values for "
                                  f"{len(step.outputs)} results", describe_location(step.op))
        for value, array in zip(step.outputs, outputs):
            env[value] = self._own(step, np.asarray(array))

    def _own(self, step: Step, array: np.ndarray) -> np.ndarray:
        """A reference op's result may view an arena buffer that the plan reuses later unless
        the op is declared view-like: copy it then."""
        if step.kind == "reference" and not getattr(step.op, "view_like", False) and self.arena.size \
                and np.may_share_memory(array, self.arena):
            return array.copy()
        return array

    def detach(self, value, array, arena: np.ndarray | None = None) -> np.ndarray:
        """Results handed to the caller own their memory: never the arena (ours, or the one a
        generated module runs in), never a constant."""
        array = np.asarray(array)
        arena = self.arena if arena is None else arena
        if value in self.constants or (arena.size and np.may_share_memory(array, arena)):
            return array.copy()
        if not array.flags.owndata and any(np.may_share_memory(array, c) for c in self.constants.values()
                                           if isinstance(c, np.ndarray)):
            return array.copy()
        return array
