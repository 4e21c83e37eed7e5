"""Runs a function of a lowered (`core`) module: the kernel path of the runtime.

At construction every op becomes a step. conv2d, conv_transpose2d, linear, matmul by a constant
matrix, pool2d, global_pool, upsample, layer_norm, softmax over the last axis and the activations the kernels know run
through csrc._kernels with their weights packed once here (fp16 or fp32 panels, fp32 accumulation);
a conv2d/linear applies the epilogue its attributes name (bias, residual, activation: the
fusion passes wrote them; this runtime fuses nothing of its own);
every other op runs its numpy `reference`. `weight_precision="stored"` keeps f32-stored
weights in f32 (fp32 panels) for fp32 parity; "fp16" packs every weight as fp16.

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

from mlir_coreml.codegen.kernel_calls import (ActivationCall, Conv2dCall, GemmCall, GlobalPoolCall, KernelCall,
                                             Pool2dCall, SoftmaxCall, Window2d)
from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.ir.dialects.core import (KERNEL_ACTIVATIONS, ActivationOp, Conv2dOp, ConvTranspose2dOp,
                                          GlobalPoolOp, LayerNormOp, LinearOp, UpsampleOp,
                                          MatmulOp, Pool2dOp, SoftmaxOp, apply_activation, constant_array)
from mlir_coreml.ir.opdef import ConstantLike, Terminator
from mlir_coreml.ir.types import F16, F32, TensorType
from mlir_coreml.ir.verifier import describe_location
from mlir_coreml.passes.plan_memory import (KEPT, arena_size, gemm_scratch_elements, result_last_uses,
                                            result_offsets)

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

    __slots__ = ("op", "inputs", "outputs", "run", "out_offset", "kind", "release")

    def __init__(self, op, run: Kernel, kind: str, out_offset: int = -1, inputs=None, outputs=None):
        self.op = op
        self.inputs = list(op.operands if inputs is None else inputs)
        self.outputs = list(op.results if outputs is None else outputs)
        self.run = run
        self.kind = kind          # "kernel" or "reference"
        self.out_offset = out_offset
        self.release: list = []   # values last read by this step: dropped after it


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


def _packable(w, precision: str) -> bool:
    return w is not None and w.dtype in (np.float16, np.float32)


def _panel_precision(w, precision: str) -> str:
    """fp16 mode packs every weight as fp16 (Core ML's accelerator precision); stored mode keeps
    f32-stored weights in fp32 panels, for fp32 parity."""
    return "fp32" if precision == "stored" and w.dtype != np.float16 else "fp16"


def _f32(a: np.ndarray | None) -> np.ndarray | None:
    return None if a is None else np.ascontiguousarray(a, dtype=np.float32)


def _packed_layer(op, precision: str, pack: Callable) -> tuple | None:
    """(packed weights, fp32 bias or None) of a conv/linear op the kernels can run: static float
    activations, a packable constant weight and a constant (or no) bias. `pack(w, panels)` packs
    the weight in the panel dtype `precision` asks for: every kernel takes either."""
    w = constant_array(op.weight)
    if not _packable(w, precision) or not (_is_float_static(op.input) and _is_float_static(op.output)):
        return None
    bias = None if op.bias is None else constant_array(op.bias)
    if op.bias is not None and bias is None:
        return None
    return pack(w, _panel_precision(w, precision)), _f32(bias)


def _direct(packed, post) -> bool:
    """Whether a generated module makes the call itself: its kernel table binds fp16 panels and
    the kernels' own epilogues only; any other step runs through its callback."""
    return post is None and not packed.f32


def conv2d_kernel(op: Conv2dOp, precision: str) -> Kernel | None:
    """The conv kernel for `op` with the epilogue its attributes name."""
    K = _kernels()
    layer = _packed_layer(op, precision, lambda w, panels: K.pack_conv_weights(w, op.groups, panels))
    if layer is None:
        return None
    packed, bias = layer
    alpha, beta, has_residual = float(op.alpha), float(op.beta), op.residual is not None
    act, post = _post_activation(op.activation, alpha, beta)
    stride, dilation, pads = tuple(op.strides), tuple(op.dilations), tuple(op.pads)

    def run(inputs, out):
        residual = inputs[-1] if has_residual else None
        y = K.conv2d(inputs[0], packed, bias=bias, stride=stride, dilation=dilation, padding=pads, act=act,
                     alpha=alpha, beta=beta, residual=residual, out=None if post else out)
        return post(y) if post else y

    in_shape, out_shape = _static4(op.input), _static4(op.output)
    spec = None
    if _direct(packed, post) and in_shape and out_shape and \
            K.conv_output_size(in_shape[2], in_shape[3], packed.KH, packed.KW, stride, dilation, pads) == out_shape[2:]:
        window = Window2d(in_shape, out_shape, (packed.KH, packed.KW), stride, pads, dilation)
        spec = Conv2dCall(out_elements=np.prod(out_shape), weights=packed.data, bias=bias, act=act, alpha=alpha,
                          beta=beta, has_residual=has_residual, window=window, groups=packed.groups,
                          depthwise=packed.depthwise)
    return _with_spec(run, spec)


def conv_transpose2d_kernel(op: ConvTranspose2dOp, precision: str) -> Kernel | None:
    K = _kernels()
    layer = _packed_layer(op, precision, lambda w, panels: K.pack_conv_transpose_weights(w, op.groups, panels))
    if layer is None:
        return None
    packed, bias = layer
    stride, dilation, pads = tuple(op.strides), tuple(op.dilations), tuple(op.pads)
    output_padding = tuple(op.output_padding)
    return lambda inputs, out: K.conv_transpose2d(inputs[0], packed, bias=bias, stride=stride, dilation=dilation,
                                                  padding=pads, output_padding=output_padding)


def upsample_kernel(op: UpsampleOp, precision: str) -> Kernel | None:
    if not (_is_float_static(op.input) and _is_float_static(op.output)) or op.input.type.rank < 2:
        return None
    K = _kernels()
    h, w = op.input.type.shape[-2:]
    rows, cols = op.sampling(-2, h), op.sampling(-1, w)
    if op.mode == "nearest":
        return lambda inputs, out: K.resize_nearest(inputs[0], rows, cols)
    return lambda inputs, out: K.resize_bilinear(inputs[0], *rows, *cols)


def layer_norm_kernel(op: LayerNormOp, precision: str) -> Kernel | None:
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
    return lambda inputs, out: K.layer_norm(inputs[0], n, gamma, beta, eps).reshape(shape)


def row_gemm_kernel(packed, bias, out_shape, act="none", alpha=0.0, beta=0.0, has_residual=False) -> Kernel:
    """`act(x @ w^T + bias + residual)` for x [..., K] through the packed GEMM of w [N, K]."""
    K = _kernels()
    act, post = _post_activation(act, alpha, beta)
    n_out, k_in = packed.M, packed.K
    rows = int(np.prod(out_shape[:-1], dtype=np.int64))

    def run(inputs, out):
        # gemm computes W @ X with X [K, rows]: the row vectors go in as columns
        x = inputs[0].reshape(rows, k_in).T
        residual = inputs[-1].reshape(rows, n_out).T if has_residual else None
        direct = out is not None and rows == 1 and post is None
        y = K.gemm(packed, x, bias=bias, act=act, alpha=alpha, beta=beta, residual=residual,
                   out=out.reshape(n_out, 1) if direct else None)
        if direct:
            return out
        y = np.ascontiguousarray(y.T).reshape(out_shape)
        return post(y) if post else y

    spec = None
    if _direct(packed, post):
        spec = GemmCall(out_elements=rows * n_out, weights=packed.data, bias=bias, act=act, alpha=alpha, beta=beta,
                        has_residual=has_residual, M=n_out, K=k_in, rows=rows,
                        scratch_elements=gemm_scratch_elements(rows, k_in, n_out))
    return _with_spec(run, spec)


def linear_kernel(op: LinearOp, precision: str) -> Kernel | None:
    layer = _packed_layer(op, precision, _kernels().pack_weights)
    if layer is None:
        return None
    packed, bias = layer
    return row_gemm_kernel(packed, bias, op.output.type.shape, op.activation, float(op.alpha), float(op.beta),
                           op.residual is not None)


def matmul_kernel(op: MatmulOp, precision: str) -> Kernel | None:
    """x @ B with a constant 2-D B is a linear layer with weight B^T."""
    b = constant_array(op.b)
    if not _packable(b, precision) or b.ndim != 2 or op.transpose_a or \
            not (_is_float_static(op.a) and _is_float_static(op.output)):
        return None
    w = b if op.transpose_b else b.T
    return row_gemm_kernel(_kernels().pack_weights(w, _panel_precision(b, precision)), None, op.output.type.shape)


def pool2d_kernel(op: Pool2dOp, precision: str) -> Kernel | None:
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


def global_pool_kernel(op: GlobalPoolOp, precision: str) -> Kernel | None:
    if not (_is_float_static(op.input) and _is_float_static(op.output)):
        return None
    K = _kernels()
    fn = K.global_max_pool if op.kind == "max" else K.global_avg_pool
    in_shape = _static4(op.input)
    spec = None if not in_shape else GlobalPoolCall(out_elements=in_shape[0] * in_shape[1], pool=op.kind,
                                                     in_shape=in_shape)
    return _with_spec(lambda inputs, out: fn(inputs[0]), spec)


def softmax_kernel(op: SoftmaxOp, precision: str) -> Kernel | None:
    rank = op.input.type.rank
    if not (_is_float_static(op.input) and _is_float_static(op.output)) or op.axis not in (-1, rank - 1):
        return None
    K = _kernels()
    shape = op.input.type.shape
    n = shape[-1] if shape else 1
    size = int(np.prod(shape, dtype=np.int64))
    spec = SoftmaxCall(out_elements=size, rows=size // n if n else 0, n=n) if op.input.type.is_static else None
    return _with_spec(lambda inputs, out: K.softmax(inputs[0], out=out), spec)


def activation_kernel(op: ActivationOp, precision: str) -> Kernel | None:
    act, alpha, beta = op.activation()
    if act not in KERNEL_ACTIVATIONS or not (_is_float_static(op.input) and _is_float_static(op.output)):
        return None
    K = _kernels()
    spec = ActivationCall(out_elements=op.input.type.num_elements, act=act, alpha=alpha, beta=beta) \
        if op.input.type.is_static else None
    return _with_spec(lambda inputs, out: K.activation(inputs[0], act, alpha, beta), spec)


KERNEL_BUILDERS: dict[type, Callable] = {
    Conv2dOp: conv2d_kernel,
    ConvTranspose2dOp: conv_transpose2d_kernel,
    UpsampleOp: upsample_kernel,
    LayerNormOp: layer_norm_kernel,
    LinearOp: linear_kernel,
    MatmulOp: matmul_kernel,
    Pool2dOp: pool2d_kernel,
    GlobalPoolOp: global_pool_kernel,
    SoftmaxOp: softmax_kernel,
}
# Kernels that write into `out=`. (softmax also takes out=, but its shape check compares a
# typed ndarray's `.shape` pointer in _kernels.pyx and always fails: reported, left out.)
KERNELS_WRITE_OUT = frozenset({Conv2dOp, LinearOp, MatmulOp})
WEIGHT_PRECISIONS = ("fp16", "stored")


def release_points(op) -> list[int]:
    """plan-memory's `last_use` of each result of `op`: the body index of the op after which it
    is dropped (KEPT: returned)."""
    last = result_last_uses(op)
    if last is None or len(last) != len(op.results):
        raise MlirCoremlError(f"'{op.op_name}' has no 'last_use' for each result: the memory plan is missing or "
                              f"stale, run plan-memory last", describe_location(op))
    return last


def kernel_for(op, precision: str = "fp16") -> Kernel | None:
    builder = KERNEL_BUILDERS.get(type(op))
    if builder is None and isinstance(op, ActivationOp):
        builder = activation_kernel
    return builder(op, precision) if builder is not None else None


class Executor:
    """Steps for one function; `run(args)` returns the values its `func.return` yields. The
    function must carry plan-memory's attributes: kernel results go to their `arena_offset`,
    and every value is dropped after the op its `last_use` names."""

    def __init__(self, module, fn, use_kernels: bool = True, weight_precision: str = "stored"):
        if weight_precision not in WEIGHT_PRECISIONS:
            raise MlirCoremlError(f"weight_precision must be one of {', '.join(WEIGHT_PRECISIONS)}, "
                                  f"got '{weight_precision}'")
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
            kernel = kernel_for(op, weight_precision) if use_kernels else None
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
        out = self.arena_view(step.out_offset, step.outputs[0]) if step.out_offset >= 0 else None
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
