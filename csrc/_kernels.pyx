# cython: language_level=3
"""Fast CPU kernels: fp16-packed weights, fp32 NCHW activations, fp32 accumulation.

Epilogue (GEMM and every convolution): out = act(W @ x + bias[row] + residual); the
residual (same shape as out, must not alias it) is added *before* the activation.
act is one of ACTIVATIONS; "clip" uses [alpha, beta], "relu6" is clip(0, 6),
"leaky_relu" uses slope alpha, "gelu" is the exact erf form, "gelu_tanh" the tanh form.
"""
import numpy as np
cimport numpy as cnp
from cpython.pycapsule cimport PyCapsule_New
from libc.stdint cimport uint16_t

cdef extern from "kernels.h":
    int MC_ISA_AUTO, MC_ISA_PORTABLE, MC_ISA_AVX2, MC_ISA_AVX512
    int mc_detect_isa()
    int mc_force_isa(int isa)
    int mc_current_isa()
    int mc_verified_isa()
    const char *mc_isa_check_families()
    void mc_set_num_threads(int n)
    double mc_fma_probe(long iters) nogil
    int mc_get_num_threads()

    ctypedef struct mc_epilogue:
        const float *bias
        const float *residual
        Py_ssize_t ldr
        int act
        float alpha
        float beta

    size_t mc_packed_size(int M, int K)
    void mc_pack_weights_f16(const uint16_t *w, int M, int K, Py_ssize_t ldw, uint16_t *packed) nogil
    void mc_pack_weights_f32_panels(const float *w, int M, int K, Py_ssize_t ldw, float *packed) nogil
    void mc_gemm(const uint16_t *packed, int M, int K, int N, const float *x, Py_ssize_t ldx,
                 float *out, Py_ssize_t ldc, const mc_epilogue *ep) nogil
    void mc_gemm_w32(const float *packed, int M, int K, int N, const float *x, Py_ssize_t ldx,
                     float *out, Py_ssize_t ldc, const mc_epilogue *ep) nogil

    ctypedef struct mc_conv_shape:
        int C, H, W, Cout, KH, KW, groups
        int stride_h, stride_w, dil_h, dil_w
        int pad_t, pad_b, pad_l, pad_r
        int OH, OW
    int mc_conv_out_shape(mc_conv_shape *s)
    void mc_conv2d(const mc_conv_shape *s, const float *x, const uint16_t *packed, float *out,
                   const mc_epilogue *ep) nogil
    void mc_depthwise_conv2d(const mc_conv_shape *s, const float *x, const uint16_t *w,
                             float *out, const mc_epilogue *ep) nogil
    void mc_conv2d_w32(const mc_conv_shape *s, const float *x, const float *packed, float *out,
                       const mc_epilogue *ep) nogil
    void mc_depthwise_conv2d_w32(const mc_conv_shape *s, const float *x, const float *w,
                                 float *out, const mc_epilogue *ep) nogil
    int mc_conv_transpose_out_shape(mc_conv_shape *s, int out_pad_h, int out_pad_w)
    void mc_conv_transpose2d(const mc_conv_shape *s, const float *x, const uint16_t *packed,
                             float *out, const mc_epilogue *ep) nogil
    void mc_conv_transpose2d_w32(const mc_conv_shape *s, const float *x, const float *packed,
                                 float *out, const mc_epilogue *ep) nogil

    ctypedef struct mc_pool_shape:
        int C, H, W, KH, KW, stride_h, stride_w, pad_t, pad_b, pad_l, pad_r, OH, OW
    void mc_max_pool2d(const mc_pool_shape *s, const float *x, float *out) nogil
    void mc_avg_pool2d(const mc_pool_shape *s, const float *x, float *out, int exclude_padding) nogil
    void mc_global_pool(int C, int HW, const float *x, float *out, int is_max) nogil
    void mc_softmax(const float *x, float *out, Py_ssize_t rows, Py_ssize_t n) nogil
    void mc_resize_bilinear(const float *x, float *out, Py_ssize_t planes, int H, int W, int OH, int OW,
                            const int *ylo, const int *yhi, const float *yfrac,
                            const int *xlo, const int *xhi, const float *xfrac) nogil
    void mc_layer_norm(const float *x, float *out, Py_ssize_t rows, Py_ssize_t n, const float *gamma,
                       const float *beta, float eps) nogil
    void mc_resize_nearest(const float *x, float *out, Py_ssize_t planes, int H, int W, int OH, int OW,
                           const int *yidx, const int *xidx) nogil
    void mc_activation(float *x, size_t n, const mc_epilogue *ep) nogil

cdef extern from "kernel_table.h":
    int MC_KERNEL_TABLE_VERSION
    const char *MC_KERNEL_TABLE_CAPSULE
    const void *mc_kernel_table_get()

cnp.import_array()

ACTIVATIONS = ("none", "relu", "relu6", "clip", "leaky_relu", "sigmoid", "tanh", "gelu",
               "gelu_tanh", "silu")
ACT_CODES = {"none": 0, "relu": 1, "relu6": 2, "clip": 2, "leaky_relu": 3, "sigmoid": 4,
              "tanh": 5, "gelu": 6, "gelu_tanh": 7, "silu": 8}
_ISA_NAMES = {"auto": 0, "portable": 1, "avx2": 2, "avx512": 3}


# ------------------------------------------------------------------ runtime settings

def fma_peak(double seconds=0.05, int repeats=5):
    """Single-core FMA peak of the current ISA in GFLOP/s, measured here: the best of
    `repeats` runs of independent FMA chains, timed on this thread's CPU clock (time the
    thread was descheduled on a shared machine does not count; the best is the closest to
    the hardware's)."""
    import time
    cdef long iters = 1000
    cdef double flops
    t = time.thread_time()
    with nogil:
        mc_fma_probe(iters)
    iters = max(1000, <long>(iters * seconds / max(time.thread_time() - t, 1e-6)))
    best = 0.0
    for _ in range(repeats):
        t = time.thread_time()
        with nogil:
            flops = mc_fma_probe(iters)
        best = max(best, flops / (time.thread_time() - t) / 1e9)
    return best


def set_num_threads(int n):
    """Threads used by every kernel (n <= 0: OpenMP default). 1 thread is deterministic."""
    mc_set_num_threads(n)


def get_num_threads():
    return mc_get_num_threads()


def detect_isa():
    """Best instruction set this CPU supports: "avx512", "avx2" or "portable"."""
    return _isa_name(mc_detect_isa())


def current_isa():
    return _isa_name(mc_current_isa())


def verified_isa():
    """Best ISA that passed the first-use self-check against the portable kernels (runs it if
    it has not run yet); one that failed is disabled for the process."""
    return _isa_name(mc_verified_isa())


def isa_check_families():
    """The kernel families the first-use self-check runs on each vector ISA (csrc/isa_check.c)."""
    return mc_isa_check_families().decode("ascii").split(",")


def force_isa(name):
    """Force a dispatch path (tests): "avx512" | "avx2" | "portable" | "auto"/None."""
    code = _ISA_NAMES.get("auto" if name is None else name)
    if code is None or mc_force_isa(code) != 0:
        raise ValueError(f"cannot force ISA {name!r}: this CPU supports up to {detect_isa()!r}"
                         f" (verified: {verified_isa()!r})")


def _isa_name(int code):
    return {1: "portable", 2: "avx2", 3: "avx512"}[code]


KERNEL_TABLE_VERSION = MC_KERNEL_TABLE_VERSION


def kernel_table():
    """The kernels' function-pointer table (kernel_table.h) in a PyCapsule, for generated modules."""
    return PyCapsule_New(<void *>mc_kernel_table_get(), MC_KERNEL_TABLE_CAPSULE, NULL)


# ------------------------------------------------------------------ weights

cdef class PackedWeights:
    """fp16 (or, with f32 set, fp32) weights in the GEMM panel layout (see kernels.h); for
    depthwise convolutions the plain [C, KH, KW] array. `groups` packings of [M, K] each are stored back to back.
    Transposed-convolution weights (pack_conv_transpose_weights) have transposed=True,
    M = (Cout/groups)*KH*KW, K = Cin/groups and cout_per_group set."""
    cdef readonly object data
    cdef readonly int M, K, groups, KH, KW, cin_per_group
    cdef readonly bint depthwise
    cdef readonly bint transposed
    cdef readonly int cout_per_group
    cdef readonly bint f32

    def __repr__(self):
        kind = "depthwise" if self.depthwise else "transposed" if self.transposed else "gemm"
        return (f"PackedWeights({kind}, {'fp32' if self.f32 else 'fp16'}, M={self.M}, K={self.K}, groups={self.groups}, "
                f"kernel=({self.KH}, {self.KW}))")


cdef _pack_matrix(w16, PackedWeights p, int groups):
    """w16: [groups * M, K] (float16, or float32 when p.f32) -> p.data"""
    cdef int M = p.M, K = p.K, g
    cdef size_t psize = mc_packed_size(M, K)
    if p.f32:
        _pack_matrix_f32(w16, p, groups, psize)
        return
    cdef cnp.ndarray src = np.ascontiguousarray(w16, dtype=np.float16)
    cdef cnp.ndarray dst = np.zeros(max(psize * groups, 1), dtype=np.uint16)
    cdef const uint16_t *s = <const uint16_t *>cnp.PyArray_DATA(src)
    cdef uint16_t *d = <uint16_t *>cnp.PyArray_DATA(dst)
    for g in range(groups):
        mc_pack_weights_f16(s + <size_t>g * M * K, M, K, K, d + g * psize)
    p.data = dst


cdef _pack_matrix_f32(w32, PackedWeights p, int groups, size_t psize):
    cdef int M = p.M, K = p.K, g
    cdef cnp.ndarray src = np.ascontiguousarray(w32, dtype=np.float32)
    cdef cnp.ndarray dst = np.zeros(max(psize * groups, 1), dtype=np.float32)
    cdef const float *s = <const float *>cnp.PyArray_DATA(src)
    cdef float *d = <float *>cnp.PyArray_DATA(dst)
    for g in range(groups):
        mc_pack_weights_f32_panels(s + <size_t>g * M * K, M, K, K, d + g * psize)
    p.data = dst


cdef _panel_dtype(PackedWeights p, str precision):
    """Sets p.f32 from precision ("fp16": half panels; "fp32": float panels) -> element dtype."""
    if precision not in ("fp16", "fp32"):
        raise ValueError(f"precision must be 'fp16' or 'fp32', got {precision!r}")
    p.f32 = precision == "fp32"
    return np.float32 if p.f32 else np.float16


def pack_weights(w, str precision="fp16"):
    """w: [M, K] float32 or float16 -> PackedWeights: fp16 panels (rounded to nearest even),
    or fp32 panels with precision="fp32"."""
    w = np.asarray(w)
    if w.ndim != 2:
        raise ValueError(f"pack_weights expects a [M, K] matrix, got shape {w.shape}")
    cdef PackedWeights p = PackedWeights()
    p.M, p.K, p.groups, p.KH, p.KW, p.cin_per_group, p.depthwise = w.shape[0], w.shape[1], 1, 1, 1, w.shape[1], False
    _pack_matrix(w.astype(_panel_dtype(p, precision)), p, 1)
    return p


def pack_conv_weights(w, int groups=1, str precision="fp16"):
    """w: [Cout, Cin/groups, KH, KW] float32/float16 -> PackedWeights for conv2d (fp16 or, with
    precision="fp32", fp32 elements).  Depthwise (Cin/groups == 1 and groups == Cout) keeps
    the plain [C, KH, KW] array."""
    w = np.asarray(w)
    if w.ndim != 4 or groups <= 0 or w.shape[0] % groups:
        raise ValueError(f"conv weights must be [Cout, Cin/groups, KH, KW] with Cout divisible "
                         f"by groups={groups}, got shape {w.shape}")
    cout, cg, kh, kw = w.shape
    cdef PackedWeights p = PackedWeights()
    p.groups, p.KH, p.KW, p.cin_per_group = groups, kh, kw, cg
    p.M, p.K = cout // groups, cg * kh * kw
    p.depthwise = cg == 1 and groups == cout and groups > 1
    w16 = w.astype(_panel_dtype(p, precision))
    if p.depthwise:
        flat = np.ascontiguousarray(w16.reshape(cout, kh * kw))
        p.data = flat if p.f32 else flat.view(np.uint16)
    else:
        _pack_matrix(w16.reshape(cout, p.K), p, groups)
    return p


# ------------------------------------------------------------------ epilogue helper

def epilogue_constants(str act, float alpha=0.0, float beta=0.0):
    """(MC_ACT_* code, alpha, beta) as the kernels take an activation; relu6 is clip(0, 6)."""
    code = ACT_CODES.get(act)
    if code is None:
        raise ValueError(f"unknown activation {act!r}; expected one of {ACTIVATIONS}")
    return (code, 0.0, 6.0) if act == "relu6" else (code, alpha, beta)


cdef int _fill_epilogue(mc_epilogue *ep, str act, float alpha, float beta, object bias,
                        object residual, list keep) except -1:
    ep.act, ep.alpha, ep.beta = epilogue_constants(act, alpha, beta)
    ep.bias = NULL
    ep.residual = NULL
    ep.ldr = 0
    cdef cnp.ndarray arr
    if bias is not None:
        arr = np.ascontiguousarray(bias, dtype=np.float32)
        keep.append(arr)
        ep.bias = <const float *>cnp.PyArray_DATA(arr)
    if residual is not None:
        arr = np.ascontiguousarray(residual, dtype=np.float32)
        keep.append(arr)
        ep.residual = <const float *>cnp.PyArray_DATA(arr)
    return 0


cdef cnp.ndarray _output(out, shape, other=None):
    if out is None:
        return np.empty(shape, dtype=np.float32)
    if (out.dtype != np.float32 or tuple(out.shape) != tuple(shape)
            or not out.flags.c_contiguous):
        raise ValueError(f"out must be a C-contiguous float32 array of shape {tuple(shape)}")
    if other is not None and np.may_share_memory(out, other):
        raise ValueError("out must not alias the input or the residual")
    return out


# ------------------------------------------------------------------ GEMM

def gemm(PackedWeights packed, x, out=None, bias=None, str act="none", float alpha=0.0,
         float beta=0.0, residual=None):
    """out[M, N] = act(W @ x + bias[:, None] + residual); x: [K, N] float32."""
    if packed.depthwise or packed.transposed or packed.groups != 1:
        raise ValueError("gemm needs weights from pack_weights (one group)")
    cdef cnp.ndarray xa = np.ascontiguousarray(x, dtype=np.float32)
    if xa.ndim != 2 or xa.shape[0] != packed.K:
        raise ValueError(f"x must be [K={packed.K}, N], got shape {np.shape(x)}")
    cdef int M = packed.M, K = packed.K, N = xa.shape[1]
    _check_vec(bias, M, "bias")
    _check_shape(residual, (M, N), "residual")
    cdef cnp.ndarray o = _output(out, (M, N), residual)
    cdef mc_epilogue ep
    keep = []
    _fill_epilogue(&ep, act, alpha, beta, bias, residual, keep)
    ep.ldr = N
    cdef cnp.ndarray data = packed.data
    cdef const void *w = cnp.PyArray_DATA(data)
    cdef const float *xp = <const float *>cnp.PyArray_DATA(xa)
    cdef float *op = <float *>cnp.PyArray_DATA(o)
    cdef bint f32 = packed.f32
    with nogil:
        if f32:
            mc_gemm_w32(<const float *>w, M, K, N, xp, N, op, N, &ep)
        else:
            mc_gemm(<const uint16_t *>w, M, K, N, xp, N, op, N, &ep)
    return o


def _check_vec(v, n, name):
    if v is not None and np.shape(v) != (n,):
        raise ValueError(f"{name} must have shape ({n},), got {np.shape(v)}")


def _check_shape(v, shape, name):
    if v is not None and tuple(np.shape(v)) != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, got {np.shape(v)}")


# ------------------------------------------------------------------ convolution

def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def _pads(padding):
    if isinstance(padding, int):
        return (padding,) * 4
    if len(padding) == 2:
        return (padding[0], padding[0], padding[1], padding[1])
    return tuple(padding)


def conv2d(x, PackedWeights packed, bias=None, stride=1, dilation=1, padding=0,
           str act="none", float alpha=0.0, float beta=0.0, residual=None, out=None):
    """NCHW convolution, x: [N, C, H, W] (or [C, H, W]) float32.  padding: int,
    (pad_h, pad_w) or explicit (top, bottom, left, right).  Depthwise weights go to the
    dedicated kernel; 1x1/stride 1/no pad is a direct GEMM; the rest is implicit im2col."""
    cdef cnp.ndarray xa = np.ascontiguousarray(x, dtype=np.float32)
    squeeze = xa.ndim == 3
    if squeeze:
        xa = xa[None]
    if xa.ndim != 4:
        raise ValueError(f"conv2d input must be NCHW, got shape {np.shape(x)}")
    cdef mc_conv_shape s
    s.C, s.H, s.W = xa.shape[1], xa.shape[2], xa.shape[3]
    s.Cout, s.KH, s.KW, s.groups = packed.M * packed.groups, packed.KH, packed.KW, packed.groups
    s.stride_h, s.stride_w = _pair(stride)
    s.dil_h, s.dil_w = _pair(dilation)
    s.pad_t, s.pad_b, s.pad_l, s.pad_r = _pads(padding)
    if packed.transposed:
        raise ValueError("conv2d got transposed-convolution weights; use conv_transpose2d")
    if s.C != packed.cin_per_group * packed.groups:
        raise ValueError(f"input has {s.C} channels, weights expect "
                         f"{packed.cin_per_group * packed.groups}")
    if min(s.pad_t, s.pad_b, s.pad_l, s.pad_r) < 0 or mc_conv_out_shape(&s) != 0:
        raise ValueError(f"invalid convolution geometry for input {tuple(np.shape(xa))[1:]}: kernel "
                         f"({s.KH}, {s.KW}), stride {stride}, dilation {dilation}, padding {padding}")
    cdef int n = xa.shape[0], b
    shape = (n, s.Cout, s.OH, s.OW)
    _check_vec(bias, s.Cout, "bias")
    if residual is not None:
        residual = np.ascontiguousarray(residual, dtype=np.float32).reshape(shape)
    cdef cnp.ndarray o = _output(None if out is None else (out[None] if squeeze else out), shape, residual)
    cdef mc_epilogue ep
    keep = []
    _fill_epilogue(&ep, act, alpha, beta, bias, residual, keep)
    ep.ldr = s.OH * s.OW
    cdef const float *res0 = ep.residual
    cdef cnp.ndarray data = packed.data
    cdef const void *w = cnp.PyArray_DATA(data)
    cdef bint f32 = packed.f32
    cdef const float *xp = <const float *>cnp.PyArray_DATA(xa)
    cdef float *op = <float *>cnp.PyArray_DATA(o)
    cdef size_t in_sz = <size_t>s.C * s.H * s.W, out_sz = <size_t>s.Cout * s.OH * s.OW
    cdef bint dw = packed.depthwise
    with nogil:
        for b in range(n):
            if res0 != NULL:
                ep.residual = res0 + b * out_sz
            if dw and f32:
                mc_depthwise_conv2d_w32(&s, xp + b * in_sz, <const float *>w, op + b * out_sz, &ep)
            elif dw:
                mc_depthwise_conv2d(&s, xp + b * in_sz, <const uint16_t *>w, op + b * out_sz, &ep)
            elif f32:
                mc_conv2d_w32(&s, xp + b * in_sz, <const float *>w, op + b * out_sz, &ep)
            else:
                mc_conv2d(&s, xp + b * in_sz, <const uint16_t *>w, op + b * out_sz, &ep)
    return o[0] if squeeze else o


def conv_output_size(int H, int W, int KH, int KW, stride=1, dilation=1, padding=0):
    """(OH, OW) of a convolution over an H x W input (what conv2d computes), or None."""
    cdef mc_conv_shape s
    s.C, s.H, s.W, s.Cout, s.KH, s.KW, s.groups = 1, H, W, 1, KH, KW, 1
    s.stride_h, s.stride_w = _pair(stride)
    s.dil_h, s.dil_w = _pair(dilation)
    s.pad_t, s.pad_b, s.pad_l, s.pad_r = _pads(padding)
    if min(s.pad_t, s.pad_b, s.pad_l, s.pad_r) < 0 or mc_conv_out_shape(&s) != 0:
        return None
    return s.OH, s.OW


def pack_conv_transpose_weights(w, int groups=1, str precision="fp16"):
    """w: [Cin, Cout/groups, KH, KW] float32/float16 (PyTorch ConvTranspose2d / Core ML
    deconvolution layout) -> PackedWeights for conv_transpose2d (fp16 GEMM panels)."""
    w = np.asarray(w)
    if w.ndim != 4 or groups <= 0 or w.shape[0] % groups:
        raise ValueError(f"transposed conv weights must be [Cin, Cout/groups, KH, KW] with Cin "
                         f"divisible by groups={groups}, got shape {w.shape}")
    cin, mg, kh, kw = w.shape
    cdef PackedWeights p = PackedWeights()
    p.groups, p.KH, p.KW, p.cin_per_group, p.cout_per_group = groups, kh, kw, cin // groups, mg
    p.M, p.K = mg * kh * kw, cin // groups
    p.depthwise, p.transposed = False, True
    # group g: [Cg, Mg, KH, KW] -> rows (co, kh, kw), columns ci
    w16 = w.astype(_panel_dtype(p, precision)).reshape(groups, cin // groups, mg * kh * kw).transpose(0, 2, 1)
    _pack_matrix(np.ascontiguousarray(w16).reshape(groups * p.M, p.K), p, groups)
    return p


def conv_transpose2d(x, PackedWeights packed, bias=None, stride=1, dilation=1, padding=0,
                     output_padding=0, str act="none", float alpha=0.0, float beta=0.0,
                     residual=None, out=None):
    """NCHW transposed convolution (x: [N, C, H, W] or [C, H, W] float32), same epilogue as
    conv2d.  padding (int, (h, w) or (top, bottom, left, right)) crops the full output;
    output_padding (int or (h, w)) extends it at the bottom/right.  Output size:
    (H-1)*stride + (KH-1)*dilation + 1 + output_padding - pad_top - pad_bottom."""
    if not packed.transposed:
        raise ValueError("conv_transpose2d needs weights from pack_conv_transpose_weights")
    cdef cnp.ndarray xa = np.ascontiguousarray(x, dtype=np.float32)
    squeeze = xa.ndim == 3
    if squeeze:
        xa = xa[None]
    if xa.ndim != 4:
        raise ValueError(f"conv_transpose2d input must be NCHW, got shape {np.shape(x)}")
    cdef mc_conv_shape s
    s.C, s.H, s.W = xa.shape[1], xa.shape[2], xa.shape[3]
    s.Cout, s.KH, s.KW, s.groups = packed.cout_per_group * packed.groups, packed.KH, packed.KW, packed.groups
    s.stride_h, s.stride_w = _pair(stride)
    s.dil_h, s.dil_w = _pair(dilation)
    s.pad_t, s.pad_b, s.pad_l, s.pad_r = _pads(padding)
    oph, opw = _pair(output_padding)
    if s.C != packed.cin_per_group * packed.groups:
        raise ValueError(f"input has {s.C} channels, weights expect "
                         f"{packed.cin_per_group * packed.groups}")
    if mc_conv_transpose_out_shape(&s, oph, opw) != 0:
        raise ValueError(f"invalid transposed convolution geometry for input {tuple(np.shape(xa))[1:]}: "
                         f"kernel ({s.KH}, {s.KW}), stride {stride}, dilation {dilation}, "
                         f"padding {padding}, output_padding {output_padding}")
    cdef int n = xa.shape[0], b
    shape = (n, s.Cout, s.OH, s.OW)
    _check_vec(bias, s.Cout, "bias")
    if residual is not None:
        residual = np.ascontiguousarray(residual, dtype=np.float32).reshape(shape)
    cdef cnp.ndarray o = _output(None if out is None else (out[None] if squeeze else out), shape, residual)
    if np.may_share_memory(o, xa):
        raise ValueError("out must not alias the input or the residual")
    cdef mc_epilogue ep
    keep = []
    _fill_epilogue(&ep, act, alpha, beta, bias, residual, keep)
    ep.ldr = s.OH * s.OW
    cdef const float *res0 = ep.residual
    cdef cnp.ndarray data = packed.data
    cdef const void *w = cnp.PyArray_DATA(data)
    cdef bint f32 = packed.f32
    cdef const float *xp = <const float *>cnp.PyArray_DATA(xa)
    cdef float *op = <float *>cnp.PyArray_DATA(o)
    cdef size_t in_sz = <size_t>s.C * s.H * s.W, out_sz = <size_t>s.Cout * s.OH * s.OW
    with nogil:
        for b in range(n):
            if res0 != NULL:
                ep.residual = res0 + b * out_sz
            if f32:
                mc_conv_transpose2d_w32(&s, xp + b * in_sz, <const float *>w, op + b * out_sz, &ep)
            else:
                mc_conv_transpose2d(&s, xp + b * in_sz, <const uint16_t *>w, op + b * out_sz, &ep)
    return o[0] if squeeze else o


# ------------------------------------------------------------------ pooling, softmax

cdef _pool_shape(mc_pool_shape *s, cnp.ndarray xa, kernel, stride, padding, bint ceil_mode):
    s.C, s.H, s.W = xa.shape[0] * xa.shape[1], xa.shape[2], xa.shape[3]
    s.KH, s.KW = _pair(kernel)
    s.stride_h, s.stride_w = _pair(kernel if stride is None else stride)
    s.pad_t, s.pad_b, s.pad_l, s.pad_r = _pads(padding)
    ph, pw = s.H + s.pad_t + s.pad_b - s.KH, s.W + s.pad_l + s.pad_r - s.KW
    if ph < 0 or pw < 0 or s.stride_h <= 0 or s.stride_w <= 0:
        raise ValueError(f"invalid pooling geometry for input {tuple(np.shape(xa))[2:]}: kernel {kernel}")
    if ceil_mode:
        s.OH, s.OW = -(-ph // s.stride_h) + 1, -(-pw // s.stride_w) + 1
        # the last window must start inside the input or the top/left padding
        if (s.OH - 1) * s.stride_h >= s.H + s.pad_t:
            s.OH -= 1
        if (s.OW - 1) * s.stride_w >= s.W + s.pad_l:
            s.OW -= 1
    else:
        s.OH, s.OW = ph // s.stride_h + 1, pw // s.stride_w + 1


def pool_output_size(shape, kernel, stride, padding, bint ceil_mode=False):
    """(OH, OW) of pooling an NCHW input of `shape` (what max/avg_pool2d compute)."""
    cdef mc_pool_shape s
    _pool_shape(&s, np.broadcast_to(np.uint8(0), tuple(shape)), kernel, stride, padding, ceil_mode)
    return s.OH, s.OW


def _nchw(x):
    xa = np.ascontiguousarray(x, dtype=np.float32)
    if xa.ndim != 4:
        raise ValueError(f"pooling input must be NCHW, got shape {np.shape(x)}")
    return xa


def max_pool2d(x, kernel, stride=None, padding=0, bint ceil_mode=False):
    """Max pooling, padding cells never win (they are ignored, not zeros)."""
    cdef cnp.ndarray xa = _nchw(x)
    cdef mc_pool_shape s
    _pool_shape(&s, xa, kernel, stride, padding, ceil_mode)
    cdef cnp.ndarray o = np.empty((xa.shape[0], xa.shape[1], s.OH, s.OW), dtype=np.float32)
    with nogil:
        mc_max_pool2d(&s, <const float *>cnp.PyArray_DATA(xa), <float *>cnp.PyArray_DATA(o))
    return o


def avg_pool2d(x, kernel, stride=None, padding=0, bint exclude_padding=True, bint ceil_mode=False):
    """Average pooling; exclude_padding divides by the in-image cell count (Core ML's
    excludePadArea), otherwise by the window clipped to the padded extent."""
    cdef cnp.ndarray xa = _nchw(x)
    cdef mc_pool_shape s
    _pool_shape(&s, xa, kernel, stride, padding, ceil_mode)
    cdef cnp.ndarray o = np.empty((xa.shape[0], xa.shape[1], s.OH, s.OW), dtype=np.float32)
    with nogil:
        mc_avg_pool2d(&s, <const float *>cnp.PyArray_DATA(xa), <float *>cnp.PyArray_DATA(o),
                      exclude_padding)
    return o


def _global(x, int is_max):
    cdef cnp.ndarray xa = _nchw(x)
    cdef cnp.ndarray o = np.empty((xa.shape[0], xa.shape[1], 1, 1), dtype=np.float32)
    cdef int c = xa.shape[0] * xa.shape[1], hw = xa.shape[2] * xa.shape[3]
    with nogil:
        mc_global_pool(c, hw, <const float *>cnp.PyArray_DATA(xa), <float *>cnp.PyArray_DATA(o), is_max)
    return o


def global_avg_pool(x):
    """[N, C, H, W] -> [N, C, 1, 1] mean."""
    return _global(x, 0)


def global_max_pool(x):
    """[N, C, H, W] -> [N, C, 1, 1] max."""
    return _global(x, 1)


def _indices(a, int n, int bound, str name):
    cdef cnp.ndarray r = np.ascontiguousarray(a, dtype=np.intc)
    if r.ndim != 1 or r.shape[0] != n or (n and (r.min() < 0 or r.max() >= bound)):
        raise ValueError(f"{name} must be {n} indices in [0, {bound})")
    return r


cdef tuple _resize_io(x, Py_ssize_t OH, Py_ssize_t OW):
    """(contiguous float32 input, new output, planes, H, W) for the resize kernels."""
    cdef cnp.ndarray xa = np.ascontiguousarray(x, dtype=np.float32)
    if xa.ndim < 2:
        raise ValueError("resize needs rank >= 2")
    cdef int H = xa.shape[xa.ndim - 2], W = xa.shape[xa.ndim - 1]
    cdef cnp.ndarray o = np.empty(np.shape(x)[:-2] + (OH, OW), dtype=np.float32)
    return xa, o, (xa.size // (H * W) if H * W else 0), H, W


def resize_bilinear(x, ylo, yhi, yfrac, xlo, xhi, xfrac):
    """[..., H, W] float32 -> [..., OH, OW]: out row i blends input rows ylo[i], yhi[i] by yfrac[i]
    (then the same along W); OH, OW are the lengths of the row and column tables."""
    cdef int OH = len(ylo), OW = len(xlo), H, W
    cdef Py_ssize_t planes
    cdef cnp.ndarray xa, o
    xa, o, planes, H, W = _resize_io(x, OH, OW)
    cdef cnp.ndarray a = _indices(ylo, OH, H, "ylo"), b = _indices(yhi, OH, H, "yhi")
    cdef cnp.ndarray c = _indices(xlo, OW, W, "xlo"), d = _indices(xhi, OW, W, "xhi")
    cdef cnp.ndarray fy = np.ascontiguousarray(yfrac, dtype=np.float32), fx = np.ascontiguousarray(xfrac, dtype=np.float32)
    if fy.shape[0] != OH or fx.shape[0] != OW:
        raise ValueError("one fraction per output row and column")
    with nogil:
        mc_resize_bilinear(<const float *>cnp.PyArray_DATA(xa), <float *>cnp.PyArray_DATA(o), planes, H, W, OH, OW,
                           <const int *>cnp.PyArray_DATA(a), <const int *>cnp.PyArray_DATA(b),
                           <const float *>cnp.PyArray_DATA(fy), <const int *>cnp.PyArray_DATA(c),
                           <const int *>cnp.PyArray_DATA(d), <const float *>cnp.PyArray_DATA(fx))
    return o


def resize_nearest(x, yidx, xidx):
    """[..., H, W] float32 -> [..., len(yidx), len(xidx)] taking input rows yidx, columns xidx."""
    cdef int OH = len(yidx), OW = len(xidx), H, W
    cdef Py_ssize_t planes
    cdef cnp.ndarray xa, o
    xa, o, planes, H, W = _resize_io(x, OH, OW)
    cdef cnp.ndarray a = _indices(yidx, OH, H, "yidx"), c = _indices(xidx, OW, W, "xidx")
    with nogil:
        mc_resize_nearest(<const float *>cnp.PyArray_DATA(xa), <float *>cnp.PyArray_DATA(o), planes, H, W, OH, OW,
                          <const int *>cnp.PyArray_DATA(a), <const int *>cnp.PyArray_DATA(c))
    return o


def layer_norm(x, int n, gamma=None, beta=None, float eps=1e-5):
    """Normalise each run of the last `n` values of float32 x; gamma/beta: n values or None."""
    cdef cnp.ndarray xa = np.ascontiguousarray(x, dtype=np.float32)
    if n <= 0 or xa.size % n:
        raise ValueError(f"x has {xa.size} values, not a multiple of n={n}")
    cdef cnp.ndarray g = None if gamma is None else np.ascontiguousarray(gamma, dtype=np.float32).reshape(-1)
    cdef cnp.ndarray b = None if beta is None else np.ascontiguousarray(beta, dtype=np.float32).reshape(-1)
    for p, name in ((g, "gamma"), (b, "beta")):
        if p is not None and p.shape[0] != n:
            raise ValueError(f"{name} must have {n} values")
    cdef cnp.ndarray o = np.empty_like(xa)
    cdef const float *gp = NULL if g is None else <const float *>cnp.PyArray_DATA(g)
    cdef const float *bp = NULL if b is None else <const float *>cnp.PyArray_DATA(b)
    with nogil:
        mc_layer_norm(<const float *>cnp.PyArray_DATA(xa), <float *>cnp.PyArray_DATA(o), xa.size // n, n, gp, bp, eps)
    return o


def softmax(x, out=None):
    """fp32 softmax over the last axis (max-subtracted); out may be x itself."""
    cdef cnp.ndarray xa = np.ascontiguousarray(x, dtype=np.float32)
    cdef cnp.ndarray o
    if out is None:
        o = np.empty_like(xa)
    else:
        o = out
        if o.dtype != np.float32 or o.shape != xa.shape or not o.flags.c_contiguous:
            raise ValueError("out must be a C-contiguous float32 array shaped like x")
    cdef Py_ssize_t n = xa.shape[xa.ndim - 1] if xa.ndim else 1
    cdef Py_ssize_t rows = xa.size // n if n else 0
    with nogil:
        mc_softmax(<const float *>cnp.PyArray_DATA(xa), <float *>cnp.PyArray_DATA(o), rows, n)
    return o


def activation(x, str act, float alpha=0.0, float beta=0.0):
    """New float32 array act(x), through the same vector code as the fused epilogues."""
    cdef cnp.ndarray o = np.array(x, dtype=np.float32, order="C", copy=True)
    cdef mc_epilogue ep
    keep = []
    _fill_epilogue(&ep, act, alpha, beta, None, None, keep)
    with nogil:
        mc_activation(<float *>cnp.PyArray_DATA(o), <size_t>o.size, &ep)
    return o
