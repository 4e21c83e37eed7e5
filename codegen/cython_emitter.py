"""Emit one Cython module specialised to an Executor's schedule.

The generated `Program.run(env)` walks the schedule in order. A step whose kernel left a typed
`KernelCall` (codegen/kernel_calls.py) becomes a direct call through the kernel table (csrc/kernel_table.h)
with its static shapes and fused epilogue written in as numbers, reading and writing fp32
activations at fixed offsets of one arena; every other step calls back into Python by its
index. `Schedule` plans nothing: the arena size, each kernel result's offset (one per result of
a split), each call's scratch and the release points are plan-memory's attributes on the IR
(passes/plan_memory.py), and a concat `concat-in-place` marked costs nothing when its operands
were computed into it. Each value gets an env slot (a Python list entry).

The source holds only step indices, op names of our own dialects and numbers: names and
strings from the model never reach it (model files are untrusted input).
"""
from __future__ import annotations

import numpy as np

from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.ir.dialects.core import ConcatOp
from mlir_coreml.ir.verifier import describe_location
from mlir_coreml.passes.concat_in_place import is_in_place
from mlir_coreml.passes.plan_memory import result_offsets, scratch_of


def _kernels():
    from mlir_coreml.csrc import _kernels

    return _kernels


class Unsupported(Exception):
    """The schedule has a step the generated module cannot drive (control flow)."""


class Schedule:
    """Where every value of an Executor lives while the generated module runs, as plan-memory
    placed it.

    slots: value -> env index; `offset`: the values that live in the arena (results of direct
    kernel calls, and in-place concats of them) -> byte offset; `scratch`: step -> byte offset
    of its scratch; `weights` / `biases`: the arrays the Program points into, in the order the
    source indexes them."""

    def __init__(self, executor):
        self.executor = executor
        self.steps = executor.steps
        for step in self.steps:
            if step.op.regions or (step.kind == "reference" and hasattr(step.op, "execute")):
                raise Unsupported(f"'{step.op.op_name}' has regions (control flow)")
        self.specs = [getattr(step.run, "spec", None) for step in self.steps]
        self.slots: dict = {}
        for value in list(executor.args) + list(executor.constants):
            self._slot(value)
        for step in self.steps:
            for value in step.inputs + step.outputs:
                self._slot(value)
        for value in executor.returned:
            self._slot(value)
        self.weights: list[np.ndarray] = []
        self.biases: list[np.ndarray] = []
        self.weight_index: dict[int, int] = {}   # step -> index into weights (and biases, -1: none)
        self.bias_index: dict[int, int] = {}
        for i, spec in enumerate(self.specs):
            if spec is not None and spec.weights is not None:
                self.weight_index[i] = len(self.weights)
                self.weights.append(spec.weights)
            if spec is not None and spec.bias is not None:
                self.bias_index[i] = len(self.biases)
                self.biases.append(spec.bias)
        self.arena_size = executor.arena_size
        self.offset: dict = {}
        self.scratch: dict[int, int] = {}
        self.elided: set[int] = set()   # in-place concats: their operands were written into them
        for i, (step, spec) in enumerate(zip(self.steps, self.specs)):
            if spec is not None:
                self._place_call(i, step, spec)
            elif isinstance(step.op, ConcatOp) and is_in_place(step.op) and all(v in self.offset for v in step.inputs):
                self.offset[step.outputs[0]] = self._planned_offsets(step)[0]
                self.elided.add(i)
        self.releases = self._releases()

    def _slot(self, value) -> int:
        if value not in self.slots:
            self.slots[value] = len(self.slots)
        return self.slots[value]

    @staticmethod
    def _planned_offsets(step) -> list[int]:
        offsets = result_offsets(step.op)
        if any(offset < 0 for offset in offsets):
            raise MlirCoremlError(f"'{step.op.op_name}' has no arena_offset for each result: the memory plan is "
                                  f"missing or stale, run plan-memory last", describe_location(step.op))
        return offsets

    def _place_call(self, i: int, step, spec) -> None:
        """Bind a direct kernel call to its planned result buffers (fp16 results are rounded
        into fresh arrays) and its planned scratch."""
        if not spec.out_f16:
            self.offset.update(zip(step.outputs, self._planned_offsets(step)))
        need = 4 * spec.staging_elements
        if need:
            at, size = scratch_of(step.op)
            if size < need:
                raise MlirCoremlError(f"'{step.op.op_name}' has {size} bytes of planned scratch, its kernel call "
                                      f"needs {need}: the memory plan is stale, run plan-memory last",
                                      describe_location(step.op))
            self.scratch[i] = at

    def _releases(self) -> dict[int, list[int]]:
        """Step -> env slots to drop after it: plan-memory's release points, minus arena views
        (they live in the template for the Program's lifetime)."""
        return {i: [self.slots[v] for v in step.release if v not in self.offset]
                for i, step in enumerate(self.steps) if step.release}

    def source_pointer(self, value, n: int) -> str:
        """A C expression for the fp32 data of `value` with `n` elements."""
        if value in self.offset:
            return f"<const float *>(self.base + {self.offset[value]})"
        return f"_f32(env, {self.slots[value]}, {n}, keep)"


_HEAD = '''# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# Generated by mlir_coreml.codegen.cython_emitter for one model schedule; do not edit.
cimport numpy as cnp
import numpy as np
from cpython.pycapsule cimport PyCapsule_GetPointer
from libc.stdint cimport uint16_t
from libc.string cimport memcpy
include "kernel_table.pxi"

cnp.import_array()
cdef const mc_kernel_table *T = NULL

def bind(capsule):
    """Take the kernel table of the loaded _kernels module; refuse another table version."""
    global T
    cdef const mc_kernel_table *t = <const mc_kernel_table *>PyCapsule_GetPointer(capsule, MC_KERNEL_TABLE_CAPSULE)
    if t.version != MC_KERNEL_TABLE_VERSION:
        raise ImportError(f"kernel table version {{t.version}}, this module was built for {{MC_KERNEL_TABLE_VERSION}}")
    T = t


cdef const float *_f32(list env, Py_ssize_t slot, Py_ssize_t n, list keep) except NULL:
    a = env[slot]
    if not (cnp.PyArray_Check(a) and cnp.PyArray_TYPE(<cnp.ndarray>a) == cnp.NPY_FLOAT32
            and cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>a)):
        a = np.ascontiguousarray(a, dtype=np.float32)
        keep.append(a)
    if cnp.PyArray_SIZE(<cnp.ndarray>a) != n:
        raise ValueError(f"operand has {{cnp.PyArray_SIZE(<cnp.ndarray>a)}} elements, the kernel expects {{n}}")
    return <const float *>cnp.PyArray_DATA(<cnp.ndarray>a)


cdef const void *_data(a, int typenum, Py_ssize_t n, str what) except NULL:
    if not (cnp.PyArray_Check(a) and cnp.PyArray_TYPE(<cnp.ndarray>a) == typenum
            and cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>a) and cnp.PyArray_SIZE(<cnp.ndarray>a) == n):
        raise ValueError(f"{{what}} must be a contiguous array of {{n}} elements of type {{typenum}}")
    return cnp.PyArray_DATA(<cnp.ndarray>a)


cdef inline void _epilogue(mc_epilogue *ep, const float *bias, const float *residual, Py_ssize_t ldr,
                           int act, float alpha, float beta) noexcept nogil:
    ep.bias = bias
    ep.residual = residual
    ep.ldr = ldr
    ep.act = act
    ep.alpha = alpha
    ep.beta = beta


cdef void _conv(const mc_conv_shape *s, int n, int winograd, bint depthwise, const float *x, const void *w,
                bint w32, float *o, mc_epilogue *ep) noexcept nogil:
    """w: fp16 panels, or fp32 ones when w32 (always, for Winograd F(winograd, 3))."""
    cdef size_t isz = <size_t>s.C * s.H * s.W, osz = <size_t>s.Cout * s.OH * s.OW
    cdef const float *r = ep.residual
    cdef int b
    for b in range(n):
        if r != NULL:
            ep.residual = r + b * osz
        if winograd:
            T.winograd_conv2d_w32(winograd, s, x + b * isz, <const float *>w, o + b * osz, ep)
        elif depthwise and w32:
            T.depthwise_conv2d_w32(s, x + b * isz, <const float *>w, o + b * osz, ep)
        elif depthwise:
            T.depthwise_conv2d(s, x + b * isz, <const uint16_t *>w, o + b * osz, ep)
        elif w32:
            T.conv2d_w32(s, x + b * isz, <const float *>w, o + b * osz, ep)
        else:
            T.conv2d(s, x + b * isz, <const uint16_t *>w, o + b * osz, ep)


cdef void _conv_blocked(const mc_conv_shape *s, int n, bint depthwise, const float *x, const void *w, bint w32,
                        float *o, mc_epilogue *ep) noexcept nogil:
    """NCHW16c: dense (fp16 or fp32 panels) or depthwise (fp32 weights) blocked convolution."""
    cdef size_t isz = <size_t>((s.C + 15) // 16) * s.H * s.W * 16
    cdef size_t osz = <size_t>((s.Cout + 15) // 16) * s.OH * s.OW * 16
    cdef const float *r = ep.residual
    cdef int b
    for b in range(n):
        if r != NULL:
            ep.residual = r + b * osz
        if depthwise:
            T.depthwise_blocked(s, x + b * isz, <const float *>w, o + b * osz, ep)
        elif w32:
            T.conv2d_blocked_w32(s, x + b * isz, <const float *>w, o + b * osz, ep)
        else:
            T.conv2d_blocked(s, x + b * isz, <const uint16_t *>w, o + b * osz, ep)


cdef void _reorder(bint to_blocked, int n, int c, int h, int w, const float *x, float *o) noexcept nogil:
    """NCHW <-> NCHW16c, image by image."""
    cdef size_t plain = <size_t>c * h * w, blocked = <size_t>((c + 15) // 16) * h * w * 16
    cdef int b
    for b in range(n):
        if to_blocked:
            T.to_blocked(x + b * plain, c, h, w, o + b * blocked)
        else:
            T.from_blocked(x + b * blocked, c, h, w, o + b * plain)


cdef void _rows_gemm(const void *w, bint w32, int M, int K, Py_ssize_t rows, const float *x, float *o,
                     const mc_epilogue *ep) noexcept nogil:
    """o[rows, M] = x[rows, K] @ W^T + epilogue, row-major in and out (csrc/gemm_rows.c)."""
    if w32:
        T.gemm_rows_w32(<const float *>w, M, K, rows, x, K, o, M, ep)
    else:
        T.gemm_rows(<const uint16_t *>w, M, K, rows, x, K, o, M, ep)


cdef object _half(const float *src, Py_ssize_t n, tuple shape):
    """A new float16 array of `shape` from n floats, rounded as numpy's astype does."""
    cdef cnp.ndarray a = np.empty(shape, dtype=np.float16)
    T.float_to_half(src, <uint16_t *>cnp.PyArray_DATA(a), n)
    return a


cdef class Program:
    """The schedule, bound to its arena and weights (arrays owned by the caller's Python side)."""
    cdef object keepalive
    cdef char *base
    cdef const void *w[{n_weights}]
    cdef const float *b[{n_biases}]
    cdef list callbacks
    cdef public int at

    def __cinit__(self, arena, list weights, list biases, list callbacks):
        if T == NULL:
            raise RuntimeError("bind() the kernel table first")
        cdef int i
        self.base = <char *>_data(arena, cnp.NPY_UINT8, {arena_size}, "arena")
        for i, (n, typenum) in enumerate(zip({weight_sizes}, {weight_types})):
            self.w[i] = _data(weights[i], typenum, n, "weights")
        for i, n in enumerate({bias_sizes}):
            self.b[i] = <const float *>_data(biases[i], cnp.NPY_FLOAT32, n, "bias")
        if len(callbacks) != {n_steps}:
            raise ValueError("one callback entry per step")
        self.keepalive = (arena, weights, biases)
        self.callbacks = callbacks
        self.at = -1

    def run(self, list env):
        cdef mc_conv_shape s
        cdef mc_pool_shape ps
        cdef mc_epilogue ep
        cdef mc_attention_shape at
        cdef mc_matmul_shape mm
        cdef const float *x
        cdef const float *qp
        cdef const float *kp
        cdef const float *vp
        cdef const float *mp
        cdef Py_ssize_t cshape[8]
        cdef Py_ssize_t cstrides[8]
        cdef const float *r
        cdef float *o
        cdef list keep = []
        cdef list cb = self.callbacks
'''


_NPY_UINT16, _NPY_FLOAT32 = np.dtype(np.uint16).num, np.dtype(np.float32).num   # the panel element types


def _w32(weights: np.ndarray) -> bool:
    """fp32 weight panels (the kernel table's *_w32 entries) rather than fp16 ones."""
    return weights.dtype == np.float32


def _f(x: float) -> str:
    """A float literal that round-trips float32 (repr of the float32 value)."""
    return repr(float(np.float32(x)))


class Emitter:
    def __init__(self, schedule: Schedule):
        self.s = schedule
        self.lines: list[str] = []

    def emit(self) -> str:
        s = self.s
        head = _HEAD.format(
            n_weights=max(len(s.weights), 1), n_biases=max(len(s.biases), 1),
            arena_size=s.arena_size, n_steps=len(s.steps),
            weight_sizes=tuple(int(w.size) for w in s.weights),
            weight_types=tuple(_NPY_FLOAT32 if _w32(w) else _NPY_UINT16 for w in s.weights), bias_sizes=tuple(int(b.size) for b in s.biases))
        for i, (step, spec) in enumerate(zip(s.steps, s.specs)):
            label = f"step {i}: {step.op.op_name}"
            self.line(f"# {label}")
            self.line(f"self.at = {i}")
            if i in s.elided:
                self.line("pass  # its operands were written in place")
            elif spec is None:
                self.line(f"cb[{i}](env)")
            else:
                getattr(self, f"emit_{spec.kind}")(i, step, spec)
                if spec.out_f16:
                    shape = tuple(int(d) for d in step.outputs[0].type.shape)
                    self.line(f"env[{s.slots[step.outputs[0]]}] = _half({self.out_pointer(i, step, spec)}, "
                              f"{spec.out_elements}, {shape})")
            for slot in s.releases.get(i, ()):
                self.line(f"env[{slot}] = None")
        self.line("self.at = -1")
        self.line("return env")
        return head + "\n".join(self.lines) + "\n"

    def line(self, text: str, indent: int = 2) -> None:
        self.lines.append("    " * indent + text)

    def call_on_input(self, step, elements: int, call: str) -> None:
        """`x` = the step's first input (`elements` floats), then `call` without the GIL."""
        self.line(f"x = {self.s.source_pointer(step.inputs[0], elements)}")
        self.line("with nogil:")
        self.line(call, 3)

    # -- operands ---------------------------------------------------------------------------

    def out_pointer(self, i: int, step, spec) -> str:
        """Where the kernel writes its fp32 result: the value's arena buffer, or for a result
        rounded to fp16 the staging part of the step's scratch."""
        if spec.out_f16:
            return f"<float *>(self.base + {self.s.scratch[i]})"
        return f"<float *>(self.base + {self.s.offset[step.outputs[0]]})"

    def weights(self, i: int) -> str:
        """The step's weight panels and whether they are fp32 (C arguments `w, w32`)."""
        index = self.s.weight_index[i]
        return f"self.w[{index}], {int(_w32(self.s.weights[index]))}"

    def bias(self, i: int) -> str:
        return f"self.b[{self.s.bias_index[i]}]" if i in self.s.bias_index else "NULL"

    def epilogue(self, i: int, step, spec, ldr: int) -> None:
        residual = "NULL"
        if spec.has_residual:
            self.line(f"r = {self.s.source_pointer(step.inputs[-1], spec.out_elements)}")
            residual = "r"
        code, alpha, beta = _kernels().epilogue_constants(spec.act, spec.alpha, spec.beta)
        self.line(f"_epilogue(&ep, {self.bias(i)}, {residual}, {ldr}, {code}, {_f(alpha)}, {_f(beta)})")

    # -- kernels ----------------------------------------------------------------------------

    def emit_conv2d(self, i, step, spec) -> None:
        window = spec.window
        n, c = window.in_shape[:2]
        fields = dict(C=c, Cout=window.out_shape[1], groups=spec.groups, dil_h=window.dilation[0],
                      dil_w=window.dilation[1], **window.shape_fields())
        self.line("; ".join(f"s.{k} = {v}" for k, v in fields.items()))
        self.line(f"x = {self.s.source_pointer(step.inputs[0], window.in_elements)}")
        self.epilogue(i, step, spec, fields["OH"] * fields["OW"])
        self.line("with nogil:")
        self.line(f"_conv(&s, {n}, {spec.winograd}, {int(spec.depthwise)}, x, {self.weights(i)}, "
                  f"{self.out_pointer(i, step, spec)}, &ep)", 3)

    def emit_conv2d_blocked(self, i, step, spec) -> None:
        window = spec.window
        c, cout = spec.channels
        fields = dict(C=c, Cout=cout, groups=c if spec.depthwise else 1, dil_h=window.dilation[0],
                      dil_w=window.dilation[1], **window.shape_fields())
        self.line("; ".join(f"s.{k} = {v}" for k, v in fields.items()))
        self.line(f"x = {self.s.source_pointer(step.inputs[0], window.in_elements)}")
        self.epilogue(i, step, spec, 0)
        self.line("with nogil:")
        self.line(f"_conv_blocked(&s, {window.in_shape[0]}, {int(spec.depthwise)}, x, {self.weights(i)}, "
                  f"{self.out_pointer(i, step, spec)}, &ep)", 3)

    def emit_reorder(self, i, step, spec) -> None:
        n, c, h, w = spec.shape
        o = self.out_pointer(i, step, spec)
        self.call_on_input(step, spec.in_elements, f"_reorder({int(spec.to_blocked)}, {n}, {c}, {h}, {w}, x, {o})")

    def emit_pool_blocked(self, i, step, spec) -> None:
        """The images' blocks are consecutive and pooled alike: one call over N * CB blocks."""
        n, cb, h, w, lanes = spec.in_shape
        self.line(f"x = {self.s.source_pointer(step.inputs[0], n * cb * h * w * lanes)}")
        o = self.out_pointer(i, step, spec)
        if spec.window is None:
            self.line("with nogil:")
            self.line(f"T.global_pool_blocked({n * cb * lanes}, {h * w}, x, {o}, {int(spec.pool == 'max')})", 3)
            return
        fields = dict(C=n * cb * lanes, **spec.window.shape_fields())
        self.line("; ".join(f"ps.{k} = {v}" for k, v in fields.items()))
        self.line("with nogil:")
        self.line(f"T.pool_blocked(&ps, x, {o}, {int(spec.pool == 'max')}, {int(spec.exclude_padding)})", 3)

    def emit_gemm(self, i, step, spec) -> None:
        self.line(f"x = {self.s.source_pointer(step.inputs[0], spec.rows * spec.K)}")
        self.epilogue(i, step, spec, spec.M)
        self.line("with nogil:")
        self.line(f"_rows_gemm({self.weights(i)}, {spec.M}, {spec.K}, {spec.rows}, x, "
                  f"{self.out_pointer(i, step, spec)}, &ep)", 3)

    def emit_pool2d(self, i, step, spec) -> None:
        window = spec.window
        n, c = window.in_shape[:2]
        fields = dict(C=n * c, **window.shape_fields())
        self.line("; ".join(f"ps.{k} = {v}" for k, v in fields.items()))
        self.line(f"x = {self.s.source_pointer(step.inputs[0], window.in_elements)}")
        call = "T.max_pool2d(&ps, x, o)" if spec.pool == "max" else \
            f"T.avg_pool2d(&ps, x, o, {int(spec.exclude_padding)})"
        self.line(f"o = {self.out_pointer(i, step, spec)}")
        self.line("with nogil:")
        self.line(call, 3)

    def emit_global_pool(self, i, step, spec) -> None:
        n, c, h, w = spec.in_shape
        o = self.out_pointer(i, step, spec)
        self.call_on_input(step, n * c * h * w, f"T.global_pool({n * c}, {h * w}, x, {o}, {int(spec.pool == 'max')})")

    def emit_softmax(self, i, step, spec) -> None:
        self.call_on_input(step, spec.out_elements,
                           f"T.softmax(x, {self.out_pointer(i, step, spec)}, {spec.rows}, {spec.n})")

    def emit_activation(self, i, step, spec) -> None:
        n = spec.out_elements
        self.line(f"x = {self.s.source_pointer(step.inputs[0], n)}")
        self.line(f"o = {self.out_pointer(i, step, spec)}")
        self.epilogue(i, step, spec, 0)
        self.line("with nogil:")
        self.line(f"memcpy(o, x, {n * 4})", 3)
        self.line(f"T.activation(o, {n}, &ep)", 3)


    def emit_layer_norm(self, i, step, spec) -> None:
        x = self.s.source_pointer(step.inputs[0], spec.out_elements)
        params = self.bias(i)
        gamma = params if spec.has_gamma else "NULL"
        beta = "NULL" if not spec.has_beta else (f"{params} + {spec.n}" if spec.has_gamma else params)
        self.line(f"x = {x}")
        self.line("with nogil:")
        self.line(f"T.layer_norm(x, {self.out_pointer(i, step, spec)}, {spec.rows}, {spec.n}, {gamma}, {beta}, "
                  f"{_f(spec.eps)})", 3)

    def emit_attention(self, i, step, spec) -> None:
        names = ("B", "H", "Sq", "Sk", "E", "Ev")
        strides = ("q_b", "q_h", "q_s", "k_b", "k_h", "k_s", "v_b", "v_h", "v_s", "o_b", "o_h", "o_s",
                   "m_b", "m_h", "m_s", "m_t")
        fields = dict(zip(names, spec.dims)) | dict(zip(strides, spec.strides))
        self.line("; ".join(f"at.{k} = {v}" for k, v in fields.items()) + f"; at.scale = {_f(spec.scale)}")
        pointers = ["qp", "kp", "vp"] + (["mp"] if spec.has_mask else [])
        for name, value, n, offset in zip(pointers, step.inputs, spec.operand_elements, spec.offsets + (0,)):
            self.line(f"{name} = {self.s.source_pointer(value, n)}" + (f" + {offset}" if offset else ""))
        mask = "mp" if spec.has_mask else "NULL"
        self.line("with nogil:")
        self.line(f"T.attention(&at, qp, kp, vp, {mask}, {self.out_pointer(i, step, spec)})", 3)

    def emit_copy(self, i, step, spec) -> None:
        rank = len(spec.shape)
        self.line("; ".join([f"cshape[{d}] = {n}" for d, n in enumerate(spec.shape)] +
                            [f"cstrides[{d}] = {n}" for d, n in enumerate(spec.strides)]))
        self.call_on_input(step, spec.in_elements,
                           f"T.strided_copy(x, {self.out_pointer(i, step, spec)}, {rank}, cshape, cstrides)")

    def emit_split(self, i, step, spec) -> None:
        self.line(f"x = {self.s.source_pointer(step.inputs[0], spec.in_elements)}")
        for value, (offset, shape, strides) in zip(step.outputs, spec.parts):
            self.line("; ".join([f"cshape[{d}] = {n}" for d, n in enumerate(shape)] +
                                [f"cstrides[{d}] = {n}" for d, n in enumerate(strides)]))
            self.line("with nogil:")
            self.line(f"T.strided_copy(x + {offset}, <float *>(self.base + {self.s.offset[value]}), {len(shape)}, "
                      f"cshape, cstrides)", 3)

    def emit_matmul(self, i, step, spec) -> None:
        b_batch = 0 if spec.b_shared else spec.K * spec.N
        self.line(f"mm.batch = {spec.batch}; mm.M = {spec.M}; mm.K = {spec.K}; mm.N = {spec.N}; "
                  f"mm.a_b = {spec.M * spec.K}; mm.b_b = {b_batch}")
        self.line(f"qp = {self.s.source_pointer(step.inputs[0], spec.batch * spec.M * spec.K)}")
        self.line(f"kp = {self.s.source_pointer(step.inputs[1], (1 if spec.b_shared else spec.batch) * spec.K * spec.N)}")
        self.epilogue(i, step, spec, 0)
        self.line("with nogil:")
        self.line(f"T.batched_matmul(&mm, qp, kp, {self.out_pointer(i, step, spec)}, &ep)", 3)


def emit(schedule: Schedule) -> str:
    return Emitter(schedule).emit()

