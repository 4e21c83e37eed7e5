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
from libc.stdint cimport int8_t, uint16_t

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
    ctypedef struct mc_thread_stats:
        long long regions, tasks, serial_regions
        long long work_ns, critical_ns, even_ns, caller_ns, caller_tasks_ns, serial_ns
    void mc_thread_stats_enable(int on)
    void mc_thread_stats_read(mc_thread_stats *out)

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
    void mc_gemm_rows(const uint16_t *packed, int M, int K, Py_ssize_t rows, const float *x, Py_ssize_t ldx,
                      float *out, Py_ssize_t ldo, const mc_epilogue *ep) nogil
    void mc_gemm_rows_w32(const float *packed, int M, int K, Py_ssize_t rows, const float *x, Py_ssize_t ldx,
                          float *out, Py_ssize_t ldo, const mc_epilogue *ep) nogil

    ctypedef struct mc_dequant:
        const float *scale
        const float *offset
        const float *lut
        int lut_stride, rows, codes_unsigned, nibbles
    void mc_pack_weights_i8(const int8_t *w, int M, int K, Py_ssize_t ldw, int8_t *packed) nogil
    void mc_gemm_q8(const int8_t *packed, const mc_dequant *dq, int M, int K, int N, const float *x,
                    Py_ssize_t ldx, float *out, Py_ssize_t ldc, const mc_epilogue *ep) nogil

    ctypedef struct mc_conv_shape:
        int C, H, W, Cout, KH, KW, groups
        int stride_h, stride_w, dil_h, dil_w
        int pad_t, pad_b, pad_l, pad_r
        int OH, OW
    int mc_conv_out_shape(mc_conv_shape *s)
    void mc_conv2d(const mc_conv_shape *s, const float *x, const uint16_t *packed, float *out,
                   const mc_epilogue *ep) nogil
    void mc_conv2d_q8(const mc_conv_shape *s, const float *x, const int8_t *packed, const mc_dequant *dq,
                      float *out, const mc_epilogue *ep) nogil
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

    ctypedef struct mc_attention_shape:
        int B, H, Sq, Sk, E, Ev
        Py_ssize_t q_b, q_h, q_s, k_b, k_h, k_s, v_b, v_h, v_s, o_b, o_h, o_s
        Py_ssize_t m_b, m_h, m_s, m_t
        float scale
    void mc_attention(const mc_attention_shape *s, const float *q, const float *k, const float *v,
                      const float *mask, float *out) nogil
    void mc_strided_copy(const float *src, float *dst, int rank, const Py_ssize_t *shape,
                         const Py_ssize_t *strides) nogil
    ctypedef struct mc_matmul_shape:
        int batch, M, K, N
        Py_ssize_t a_b, b_b
    void mc_batched_matmul(const mc_matmul_shape *s, const float *a, const float *b, float *out,
                           const mc_epilogue *ep) nogil
    size_t mc_depthwise_blocked_packed_size(int C, int KH, int KW)
    void mc_pack_depthwise_blocked(const float *w, int C, int KH, int KW, float *packed) nogil
    void mc_depthwise_blocked(const mc_conv_shape *s, const float *x, const float *packed, float *out,
                              const mc_epilogue *ep) nogil
    void mc_pool2d_blocked(const mc_pool_shape *s, const float *x, float *out, int is_max,
                           int exclude_padding) nogil
    void mc_global_pool_blocked(int C, int HW, const float *x, float *out, int is_max) nogil

cdef extern from "winograd.h":
    size_t mc_winograd_packed_size(int m, int Cout, int C)
    int mc_winograd_pack_f16(int m, const float *w, int Cout, int C, uint16_t *packed) nogil
    int mc_winograd_pack_f32(int m, const float *w, int Cout, int C, float *packed) nogil
    int mc_winograd_conv2d(int m, const mc_conv_shape *s, const float *x, const uint16_t *packed,
                           float *out, const mc_epilogue *ep) nogil
    int mc_winograd_conv2d_w32(int m, const mc_conv_shape *s, const float *x, const float *packed,
                               float *out, const mc_epilogue *ep) nogil
    size_t mc_winograd_scratch_floats(int m, const mc_conv_shape *s)
    int mc_winograd_block_tiles(int m, int C, int Cout)

cdef extern from "dwpw.h":
    void mc_dwpw_conv2d(const mc_conv_shape *s, const float *x, const void *dw_w, const mc_epilogue *dw_ep,
                        const void *pw_packed, int Cout, int f32, float *out, const mc_epilogue *pw_ep) nogil

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
COPY_MAX_RANK = 8  # MC_COPY_MAX_RANK of kernels.h


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


def thread_stats_enable(bint on):
    """Start (and reset) or stop the thread pool's statistics (kernels.h: mc_thread_stats)."""
    mc_thread_stats_enable(on)


def thread_stats():
    """The pool's statistics since thread_stats_enable(True): counts, and CPU seconds."""
    cdef mc_thread_stats s
    mc_thread_stats_read(&s)
    return {"regions": s.regions, "tasks": s.tasks, "serial_regions": s.serial_regions,
            "work": s.work_ns * 1e-9, "critical": s.critical_ns * 1e-9, "even": s.even_ns * 1e-9,
            "caller": s.caller_ns * 1e-9,
            "caller_tasks": s.caller_tasks_ns * 1e-9, "serial": s.serial_ns * 1e-9}


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
    M = (Cout/groups)*KH*KW, K = Cin/groups and cout_per_group set.  Winograd weights
    (pack_winograd_weights) have winograd = m (the output tile), M = Cout, K = Cin."""
    cdef readonly object data
    cdef readonly int M, K, groups, KH, KW, cin_per_group
    cdef readonly bint depthwise
    cdef readonly bint transposed
    cdef readonly int cout_per_group
    cdef readonly bint f32
    # 8-bit codes (pack_quantized_weights): data is int8 panels, decoded per row by these
    cdef readonly bint quantized
    cdef readonly object dq_scale, dq_offset, dq_lut
    cdef readonly int lut_stride
    cdef readonly bint codes_unsigned, nibbles
    cdef readonly int winograd

    @property
    def nbytes(self):
        """Resident bytes: the panels plus the decoding tables."""
        extra = [a for a in (self.dq_scale, self.dq_offset, self.dq_lut) if a is not None]
        return self.data.nbytes + sum(a.nbytes for a in extra)

    def __repr__(self):
        kind = "depthwise" if self.depthwise else "transposed" if self.transposed else \
            f"winograd F({self.winograd},3)" if self.winograd else "gemm"
        storage = "q8" if self.quantized else "fp32" if self.f32 else "fp16"
        return (f"PackedWeights({kind}, {storage}, M={self.M}, K={self.K}, groups={self.groups}, "
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


def pack_quantized_weights(codes, int groups=1, scale=None, offset=None, lut=None, int lut_stride=0,
                           bint nibbles=False):
    """codes: [M, K] (a GEMM) or [Cout, Cin/groups, KH, KW] (a convolution) int8 or uint8 codes
    -> PackedWeights of 8-bit panels; output row r decodes as codes * scale[r] + offset[r], or as
    lut[r * lut_stride + uint8(code)] when `lut` is given (float32 arrays over all rows).
    `nibbles`: codes are 0..15 and pack two per byte (half the bytes)."""
    codes = np.asarray(codes)
    unsigned = codes.dtype == np.uint8
    if unsigned:
        codes = codes.view(np.int8)
    if codes.dtype != np.int8 or codes.ndim not in (2, 4) or groups <= 0 or codes.shape[0] % groups:
        raise ValueError(f"codes must be int8 [M, K] or [Cout, Cin/groups, KH, KW], got {codes.dtype} {codes.shape}")
    cdef PackedWeights p = PackedWeights()
    shape = codes.shape if codes.ndim == 4 else codes.shape + (1, 1)
    cout, cg, kh, kw = shape
    p.groups, p.KH, p.KW, p.cin_per_group = groups, kh, kw, cg
    p.M, p.K = cout // groups, cg * kh * kw
    p.depthwise, p.quantized, p.codes_unsigned = False, True, unsigned
    if lut is None:
        p.dq_scale = np.ascontiguousarray(np.broadcast_to(scale, (cout,)), dtype=np.float32)
        p.dq_offset = np.ascontiguousarray(np.broadcast_to(0.0 if offset is None else offset, (cout,)),
                                           dtype=np.float32)
    else:
        p.dq_lut = np.ascontiguousarray(lut, dtype=np.float32).reshape(-1)
        entries = lut_stride or p.dq_lut.size
        if lut_stride < 0 or p.dq_lut.size < lut_stride * cout or codes.size and \
                int(codes.view(np.uint8).max()) >= entries:
            raise ValueError(f"lut of {p.dq_lut.size} entries (stride {lut_stride}) does not cover the codes")
        p.lut_stride = lut_stride
    cdef cnp.ndarray src = np.ascontiguousarray(codes.reshape(cout, p.K))
    cdef size_t psize = mc_packed_size(p.M, p.K)
    cdef cnp.ndarray dst = np.zeros(max(psize * groups, 1), dtype=np.int8)
    cdef const int8_t *sp = <const int8_t *>cnp.PyArray_DATA(src)
    cdef int8_t *dp = <int8_t *>cnp.PyArray_DATA(dst)
    cdef int g
    for g in range(groups):
        mc_pack_weights_i8(sp + <size_t>g * p.M * p.K, p.M, p.K, p.K, dp + g * psize)
    if nibbles:
        if codes.size and int(codes.view(np.uint8).max()) > 15:
            raise ValueError("nibble codes must be 0..15")
        if p.dq_lut is not None and lut_stride == 0 and p.dq_lut.size < 16:  # the kernel reads 16 entries
            p.dq_lut = np.concatenate([p.dq_lut, np.zeros(16 - p.dq_lut.size, np.float32)])
        pairs = np.concatenate([dst, np.zeros(dst.size % 2, np.int8)]).view(np.uint8).reshape(-1, 2)
        dst = (pairs[:, 0] | (pairs[:, 1] << 4)).astype(np.uint8).view(np.int8)
        p.codes_unsigned = True
    p.nibbles = nibbles
    p.data = dst
    return p


def pack_winograd_weights(w, int m, str precision="fp16"):
    """w: [Cout, Cin, 3, 3] -> PackedWeights for conv2d through Winograd F(m x m, 3 x 3)
    (m = 2 or 4): the (m+2)^2 transformed matrices G g G^T computed in float64 from the
    weights as given, then rounded once to the panels' precision."""
    w = np.asarray(w)
    if w.ndim != 4 or tuple(w.shape[2:]) != (3, 3) or m not in (2, 4):
        raise ValueError(f"winograd weights must be [Cout, Cin, 3, 3] with m 2 or 4, got shape {w.shape}, m={m}")
    cdef PackedWeights p = PackedWeights()
    cdef int cout = w.shape[0], cin = w.shape[1]
    p.groups, p.KH, p.KW, p.cin_per_group, p.M, p.K, p.depthwise, p.winograd = 1, 3, 3, cin, cout, cin, False, m
    _panel_dtype(p, precision)
    cdef cnp.ndarray src = np.ascontiguousarray(w, dtype=np.float32)
    cdef size_t n = mc_winograd_packed_size(m, cout, cin)
    cdef cnp.ndarray dst = np.zeros(max(n, 1), dtype=np.float32 if p.f32 else np.uint16)
    cdef const float *s = <const float *>cnp.PyArray_DATA(src)
    cdef void *d = cnp.PyArray_DATA(dst)
    cdef int rc
    with nogil:
        rc = mc_winograd_pack_f32(m, s, cout, cin, <float *>d) if p.f32 else \
            mc_winograd_pack_f16(m, s, cout, cin, <uint16_t *>d)
    if rc != 0:
        raise MemoryError("winograd weight transform")
    p.data = dst
    return p


cdef mc_dequant _dequant_none():
    cdef mc_dequant dq
    dq.scale = dq.offset = dq.lut = NULL
    dq.lut_stride = dq.rows = dq.codes_unsigned = dq.nibbles = 0
    return dq


cdef mc_dequant _dequant(PackedWeights p):
    cdef mc_dequant dq
    dq.scale = dq.offset = dq.lut = NULL
    dq.lut_stride, dq.rows, dq.codes_unsigned, dq.nibbles = p.lut_stride, p.M, p.codes_unsigned, p.nibbles
    cdef cnp.ndarray a
    if p.dq_lut is not None:
        a = p.dq_lut
        dq.lut = <const float *>cnp.PyArray_DATA(a)
    else:
        a = p.dq_scale
        dq.scale = <const float *>cnp.PyArray_DATA(a)
        a = p.dq_offset
        dq.offset = <const float *>cnp.PyArray_DATA(a)
    return dq


def winograd_block_tiles(int m, int C, int Cout):
    """Output tiles per block of the Winograd kernel (the N of its GEMMs; each block streams
    the transformed weights once)."""
    return mc_winograd_block_tiles(m, C, Cout)


def winograd_scratch_floats(int m, int C, int H, int W, int Cout, padding=1):
    """The floats of scratch one Winograd conv2d call uses (padded input + one tile block)."""
    cdef mc_conv_shape s
    s.C, s.H, s.W, s.Cout, s.KH, s.KW, s.groups = C, H, W, Cout, 3, 3, 1
    s.stride_h = s.stride_w = s.dil_h = s.dil_w = 1
    s.pad_t, s.pad_b, s.pad_l, s.pad_r = _pads(padding)
    if mc_conv_out_shape(&s) != 0:
        raise ValueError("invalid convolution geometry")
    return mc_winograd_scratch_floats(m, &s)


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
    cdef bint f32 = packed.f32, q8 = packed.quantized
    cdef mc_dequant dq = _dequant(packed) if q8 else _dequant_none()
    with nogil:
        if q8:
            mc_gemm_q8(<const int8_t *>w, &dq, M, K, N, xp, N, op, N, &ep)
        elif f32:
            mc_gemm_w32(<const float *>w, M, K, N, xp, N, op, N, &ep)
        else:
            mc_gemm(<const uint16_t *>w, M, K, N, xp, N, op, N, &ep)
    return o


def gemm_rows(PackedWeights packed, x, out=None, bias=None, str act="none", float alpha=0.0,
              float beta=0.0, residual=None):
    """out[rows, M] = act(x @ W^T + bias + residual); x: [rows, K] float32, row-major
    (csrc/gemm_rows.c: no transposes). fp16 or fp32 panels from pack_weights."""
    if packed.depthwise or packed.transposed or packed.groups != 1 or packed.quantized:
        raise ValueError("gemm_rows needs fp16 or fp32 weights from pack_weights (one group)")
    cdef cnp.ndarray xa = np.ascontiguousarray(x, dtype=np.float32)
    if xa.ndim != 2 or xa.shape[1] != packed.K:
        raise ValueError(f"x must be [rows, K={packed.K}], got shape {np.shape(x)}")
    cdef int M = packed.M, K = packed.K
    cdef Py_ssize_t rows = xa.shape[0]
    _check_vec(bias, M, "bias")
    _check_shape(residual, (rows, M), "residual")
    cdef cnp.ndarray o = _output(out, (rows, M), residual)
    if np.may_share_memory(o, xa):
        raise ValueError("out must not alias the input or the residual")
    cdef mc_epilogue ep
    keep = []
    _fill_epilogue(&ep, act, alpha, beta, bias, residual, keep)
    ep.ldr = M
    cdef cnp.ndarray data = packed.data
    cdef const void *w = cnp.PyArray_DATA(data)
    cdef const float *xp = <const float *>cnp.PyArray_DATA(xa)
    cdef float *op = <float *>cnp.PyArray_DATA(o)
    cdef bint f32 = packed.f32
    with nogil:
        if f32:
            mc_gemm_rows_w32(<const float *>w, M, K, rows, xp, K, op, M, &ep)
        else:
            mc_gemm_rows(<const uint16_t *>w, M, K, rows, xp, K, op, M, &ep)
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
    if packed.winograd and (s.stride_h, s.stride_w, s.dil_h, s.dil_w) != (1, 1, 1, 1):
        raise ValueError(f"winograd weights need stride 1 and dilation 1, got stride {stride}, dilation {dilation}")
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
    cdef bint dw = packed.depthwise, q8 = packed.quantized
    cdef mc_dequant dq = _dequant(packed) if q8 else _dequant_none()
    cdef int wm = packed.winograd
    with nogil:
        for b in range(n):
            if res0 != NULL:
                ep.residual = res0 + b * out_sz
            if q8:
                mc_conv2d_q8(&s, xp + b * in_sz, <const int8_t *>w, &dq, op + b * out_sz, &ep)
            elif wm and f32:
                mc_winograd_conv2d_w32(wm, &s, xp + b * in_sz, <const float *>w, op + b * out_sz, &ep)
            elif wm:
                mc_winograd_conv2d(wm, &s, xp + b * in_sz, <const uint16_t *>w, op + b * out_sz, &ep)
            elif dw and f32:
                mc_depthwise_conv2d_w32(&s, xp + b * in_sz, <const float *>w, op + b * out_sz, &ep)
            elif dw:
                mc_depthwise_conv2d(&s, xp + b * in_sz, <const uint16_t *>w, op + b * out_sz, &ep)
            elif f32:
                mc_conv2d_w32(&s, xp + b * in_sz, <const float *>w, op + b * out_sz, &ep)
            else:
                mc_conv2d(&s, xp + b * in_sz, <const uint16_t *>w, op + b * out_sz, &ep)
    return o[0] if squeeze else o


def depthwise_pointwise(x, PackedWeights dw, PackedWeights pw, dw_bias=None, str dw_act="none",
                        float dw_alpha=0.0, float dw_beta=0.0, bias=None, str act="none", float alpha=0.0,
                        float beta=0.0, residual=None, stride=1, dilation=1, padding=0, out=None):
    """pw_epilogue(Wp @ dw_epilogue(depthwise(x))) over NCHW x [N, C, H, W], in bands of output
    rows (csrc/dwpw.c). dw: depthwise weights (pack_conv_weights with groups = C); pw: the 1x1
    weights as pack_weights([Cout, C]), the same panel precision; the residual is added before
    the pointwise activation."""
    if not dw.depthwise or pw.depthwise or pw.transposed or pw.groups != 1 or pw.KH != 1 or pw.KW != 1 \
            or pw.K != dw.groups or dw.f32 != pw.f32:
        raise ValueError(f"depthwise_pointwise needs depthwise weights and [Cout, C] pointwise weights of one "
                         f"precision, got {dw!r} and {pw!r}")
    cdef cnp.ndarray xa = np.ascontiguousarray(x, dtype=np.float32)
    if xa.ndim != 4 or xa.shape[1] != dw.groups:
        raise ValueError(f"input must be [N, {dw.groups}, H, W], got shape {np.shape(x)}")
    cdef mc_conv_shape s
    s.C, s.H, s.W = xa.shape[1], xa.shape[2], xa.shape[3]
    s.Cout, s.KH, s.KW, s.groups = dw.groups, dw.KH, dw.KW, dw.groups
    s.stride_h, s.stride_w = _pair(stride)
    s.dil_h, s.dil_w = _pair(dilation)
    s.pad_t, s.pad_b, s.pad_l, s.pad_r = _pads(padding)
    if min(s.pad_t, s.pad_b, s.pad_l, s.pad_r) < 0 or mc_conv_out_shape(&s) != 0:
        raise ValueError(f"invalid depthwise geometry for input {tuple(np.shape(xa))[1:]}")
    cdef int n = xa.shape[0], b, cout = pw.M
    shape = (n, cout, s.OH, s.OW)
    _check_vec(dw_bias, s.C, "dw_bias")
    _check_vec(bias, cout, "bias")
    if residual is not None:
        residual = np.ascontiguousarray(residual, dtype=np.float32).reshape(shape)
    cdef cnp.ndarray o = _output(out, shape, residual)
    cdef mc_epilogue dep, pep
    keep = []
    _fill_epilogue(&dep, dw_act, dw_alpha, dw_beta, dw_bias, None, keep)
    _fill_epilogue(&pep, act, alpha, beta, bias, residual, keep)
    pep.ldr = s.OH * s.OW
    cdef const float *res0 = pep.residual
    cdef cnp.ndarray dwd = dw.data, pwd = pw.data
    cdef const void *dwp = cnp.PyArray_DATA(dwd)
    cdef const void *pwp = cnp.PyArray_DATA(pwd)
    cdef int f32 = dw.f32
    cdef const float *xp = <const float *>cnp.PyArray_DATA(xa)
    cdef float *op = <float *>cnp.PyArray_DATA(o)
    cdef size_t in_sz = <size_t>s.C * s.H * s.W, out_sz = <size_t>cout * s.OH * s.OW
    with nogil:
        for b in range(n):
            if res0 != NULL:
                pep.residual = res0 + b * out_sz
            mc_dwpw_conv2d(&s, xp + b * in_sz, dwp, &dep, pwp, cout, f32, op + b * out_sz, &pep)
    return o


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


# ------------------------------------------------------------------ blocked layout (NCHW16c)
# One image [C, H, W] as [ceil(C/16), H, W, 16], lanes of channels >= C zero (csrc/blocked_dw.c).

def nchw_to_blocked(x):
    """numpy reorder [N, C, H, W] (or [C, H, W]) -> [N, ceil(C/16), H, W, 16], zero tail lanes."""
    xa = np.asarray(x, dtype=np.float32)
    squeeze = xa.ndim == 3
    if squeeze:
        xa = xa[None]
    n, c, h, w = xa.shape
    cb = -(-c // 16)
    padded = np.zeros((n, cb * 16, h, w), np.float32)
    padded[:, :c] = xa
    out = np.ascontiguousarray(padded.reshape(n, cb, 16, h, w).transpose(0, 1, 3, 4, 2))
    return out[0] if squeeze else out


def blocked_to_nchw(x, int C):
    """numpy reorder [N, CB, H, W, 16] (or [CB, H, W, 16]) -> [N, C, H, W]."""
    xa = np.asarray(x, dtype=np.float32)
    squeeze = xa.ndim == 4
    if squeeze:
        xa = xa[None]
    n, cb, h, w, _ = xa.shape
    out = np.ascontiguousarray(xa.transpose(0, 1, 4, 2, 3).reshape(n, cb * 16, h, w)[:, :C])
    return out[0] if squeeze else out


def _blocked_input(x, int C):
    """x as a C-contiguous float32 [N, ceil(C/16), H, W, 16] array, and whether it had no N."""
    cdef cnp.ndarray xa = np.ascontiguousarray(x, dtype=np.float32)
    squeeze = xa.ndim == 4
    if squeeze:
        xa = xa[None]
    if xa.ndim != 5 or xa.shape[4] != 16 or C <= 0 or xa.shape[1] != (C + 15) // 16:
        raise ValueError(f"blocked input for {C} channels must be [N, {(C + 15) // 16}, H, W, 16], "
                         f"got shape {np.shape(x)}")
    return xa, squeeze


def pack_depthwise_blocked(w):
    """Depthwise weights [C, 1, KH, KW] (or [C, KH, KW]) -> [ceil(C/16), KH, KW, 16] float32."""
    cdef cnp.ndarray wa = np.ascontiguousarray(w, dtype=np.float32)
    if wa.ndim == 4 and wa.shape[1] == 1:
        wa = np.ascontiguousarray(wa[:, 0])
    if wa.ndim != 3:
        raise ValueError(f"depthwise weights must be [C, 1, KH, KW] or [C, KH, KW], got shape {np.shape(w)}")
    cdef int C = wa.shape[0], KH = wa.shape[1], KW = wa.shape[2]
    cdef cnp.ndarray packed = np.empty(((C + 15) // 16, KH, KW, 16), np.float32)
    mc_pack_depthwise_blocked(<const float *>cnp.PyArray_DATA(wa), C, KH, KW, <float *>cnp.PyArray_DATA(packed))
    return packed


def depthwise_blocked(x, packed, int C, bias=None, stride=1, dilation=1, padding=0, str act="none",
                      float alpha=0.0, float beta=0.0, residual=None, out=None):
    """Depthwise convolution of blocked x [N, CB, H, W, 16] (or [CB, H, W, 16]) with weights from
    pack_depthwise_blocked; bias [C], residual blocked like the output; the conv2d epilogue."""
    xa, squeeze = _blocked_input(x, C)
    cdef cnp.ndarray pa = np.ascontiguousarray(packed, dtype=np.float32)
    if pa.ndim != 4 or pa.shape[0] != xa.shape[1] or pa.shape[3] != 16:
        raise ValueError(f"packed weights must be [{xa.shape[1]}, KH, KW, 16], got shape {np.shape(packed)}")
    cdef mc_conv_shape s
    s.C, s.H, s.W = C, xa.shape[2], xa.shape[3]
    s.Cout, s.KH, s.KW, s.groups = C, pa.shape[1], pa.shape[2], C
    s.stride_h, s.stride_w = _pair(stride)
    s.dil_h, s.dil_w = _pair(dilation)
    s.pad_t, s.pad_b, s.pad_l, s.pad_r = _pads(padding)
    if min(s.pad_t, s.pad_b, s.pad_l, s.pad_r) < 0 or mc_conv_out_shape(&s) != 0:
        raise ValueError(f"invalid depthwise geometry for input {tuple(xa.shape)[1:]}")
    cdef int n = xa.shape[0], b
    shape = (n, xa.shape[1], s.OH, s.OW, 16)
    _check_vec(bias, C, "bias")
    if residual is not None:
        residual = np.ascontiguousarray(residual, dtype=np.float32).reshape(shape)
    cdef cnp.ndarray o = _output(None if out is None else (out[None] if squeeze else out), shape, residual)
    if np.may_share_memory(o, xa):
        raise ValueError("out must not alias the input or the residual")
    cdef mc_epilogue ep
    keep = []
    _fill_epilogue(&ep, act, alpha, beta, bias, residual, keep)
    cdef const float *res0 = ep.residual
    cdef const float *xp = <const float *>cnp.PyArray_DATA(xa)
    cdef const float *wp = <const float *>cnp.PyArray_DATA(pa)
    cdef float *op = <float *>cnp.PyArray_DATA(o)
    cdef size_t in_sz = <size_t>xa.shape[1] * s.H * s.W * 16, out_sz = <size_t>xa.shape[1] * s.OH * s.OW * 16
    with nogil:
        for b in range(n):
            if res0 != NULL:
                ep.residual = res0 + b * out_sz
            mc_depthwise_blocked(&s, xp + b * in_sz, wp, op + b * out_sz, &ep)
    return o[0] if squeeze else o


def _pool_blocked(x, int C, kernel, stride, padding, bint ceil_mode, int is_max, bint exclude_padding):
    xa, squeeze = _blocked_input(x, C)
    cdef mc_pool_shape s
    _pool_shape(&s, np.broadcast_to(np.uint8(0), (1, C, xa.shape[2], xa.shape[3])), kernel, stride, padding,
                ceil_mode)
    cdef cnp.ndarray o = np.empty((xa.shape[0], xa.shape[1], s.OH, s.OW, 16), dtype=np.float32)
    cdef const float *xp = <const float *>cnp.PyArray_DATA(<cnp.ndarray>xa)
    cdef float *op = <float *>cnp.PyArray_DATA(o)
    cdef size_t in_sz = <size_t>xa.shape[1] * s.H * s.W * 16, out_sz = <size_t>xa.shape[1] * s.OH * s.OW * 16
    cdef int n = xa.shape[0], b
    with nogil:
        for b in range(n):
            mc_pool2d_blocked(&s, xp + b * in_sz, op + b * out_sz, is_max, exclude_padding)
    return o[0] if squeeze else o


def max_pool2d_blocked(x, int C, kernel, stride=None, padding=0, bint ceil_mode=False):
    """max_pool2d on blocked x [N, CB, H, W, 16] (or [CB, H, W, 16]) of C channels."""
    return _pool_blocked(x, C, kernel, stride, padding, ceil_mode, 1, False)


def avg_pool2d_blocked(x, int C, kernel, stride=None, padding=0, bint exclude_padding=True,
                       bint ceil_mode=False):
    """avg_pool2d on blocked x [N, CB, H, W, 16] (or [CB, H, W, 16]) of C channels."""
    return _pool_blocked(x, C, kernel, stride, padding, ceil_mode, 0, exclude_padding)


def global_pool_blocked(x, int C, bint is_max=False):
    """Global mean (or max) of blocked x [N, CB, H, W, 16] -> [N, CB, 1, 1, 16]."""
    xa, squeeze = _blocked_input(x, C)
    cdef cnp.ndarray o = np.empty((xa.shape[0], xa.shape[1], 1, 1, 16), dtype=np.float32)
    cdef const float *xp = <const float *>cnp.PyArray_DATA(<cnp.ndarray>xa)
    cdef float *op = <float *>cnp.PyArray_DATA(o)
    cdef int hw = xa.shape[2] * xa.shape[3], n = xa.shape[0], b, cb = xa.shape[1]
    with nogil:
        for b in range(n):
            mc_global_pool_blocked(C, hw, xp + <size_t>b * cb * hw * 16, op + <size_t>b * cb * 16, is_max)
    return o[0] if squeeze else o


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


# ------------------------------------------------------------------ attention, data movement

def _float_strides(a, str name):
    """The element strides of a 4-D float32 view whose last dim is contiguous."""
    if not isinstance(a, np.ndarray) or a.ndim != 4 or a.dtype != np.float32:
        raise ValueError(f"{name} must be a 4-D float32 array")
    if any(st % 4 for st in a.strides):
        raise ValueError(f"{name} is not float-aligned")
    st = tuple(x // 4 for x in a.strides)
    if a.shape[3] > 1 and st[3] != 1:
        raise ValueError(f"{name} must be contiguous in its last dim")
    return st


def attention(q, k, v, mask=None, float scale=1.0, out=None):
    """softmax(scale * q @ k^T + mask) @ v per batch and head. q [B, H, Sq, E], k [B, H, Sk, E],
    v [B, H, Sk, Ev] are float32 views of any strides (the last dim contiguous: a [B, S, H, E]
    projection passes its transposed view, read in place); mask broadcasts to [B, H, Sq, Sk];
    out, when given, is a writable float32 [B, H, Sq, Ev] view (else a new array)."""
    qs, ks, vs = _float_strides(q, "q"), _float_strides(k, "k"), _float_strides(v, "v")
    B, H, Sq, E = q.shape
    Sk, Ev = k.shape[2], v.shape[3]
    if tuple(k.shape) != (B, H, Sk, E) or tuple(v.shape) != (B, H, Sk, Ev):
        raise ValueError(f"attention shapes do not fit: q {q.shape}, k {k.shape}, v {v.shape}")
    if out is None:
        out = np.empty((B, H, Sq, Ev), dtype=np.float32)
    os_ = _float_strides(out, "out")
    if tuple(out.shape) != (B, H, Sq, Ev) or not out.flags.writeable:
        raise ValueError(f"out must be a writable float32 array of shape {(B, H, Sq, Ev)}")
    cdef mc_attention_shape s
    s.B, s.H, s.Sq, s.Sk, s.E, s.Ev, s.scale = B, H, Sq, Sk, E, Ev, scale
    s.q_b, s.q_h, s.q_s = qs[:3]
    s.k_b, s.k_h, s.k_s = ks[:3]
    s.v_b, s.v_h, s.v_s = vs[:3]
    s.o_b, s.o_h, s.o_s = os_[:3]
    cdef cnp.ndarray qa = q, ka = k, va = v, oa = out, ma
    cdef const float *mp = NULL
    if mask is not None:
        m = np.broadcast_to(np.asarray(mask, dtype=np.float32), (B, H, Sq, Sk))
        if any(st % 4 for st in m.strides):
            raise ValueError("mask is not float-aligned")
        s.m_b, s.m_h, s.m_s, s.m_t = (st // 4 for st in m.strides)
        ma = m
        mp = <const float *>cnp.PyArray_DATA(ma)
    with nogil:
        mc_attention(&s, <const float *>cnp.PyArray_DATA(qa), <const float *>cnp.PyArray_DATA(ka),
                     <const float *>cnp.PyArray_DATA(va), mp, <float *>cnp.PyArray_DATA(oa))
    return out


def batched_matmul(a, b, str act="none", float alpha=0.0, float beta=0.0, residual=None):
    """act(a @ b + residual) for float32 a [T, M, K] and b [T, K, N] (or [K, N], shared), the
    row-major activation GEMM of core.matmul; a new [T, M, N] array."""
    cdef cnp.ndarray aa = np.ascontiguousarray(a, dtype=np.float32)
    cdef cnp.ndarray ba = np.ascontiguousarray(b, dtype=np.float32)
    if aa.ndim != 3 or ba.ndim not in (2, 3) or ba.shape[ba.ndim - 2] != aa.shape[2] or \
            (ba.ndim == 3 and ba.shape[0] != aa.shape[0]):
        raise ValueError(f"batched_matmul shapes do not fit: {np.shape(a)} @ {np.shape(b)}")
    cdef mc_matmul_shape s
    s.batch, s.M, s.K, s.N = aa.shape[0], aa.shape[1], aa.shape[2], ba.shape[ba.ndim - 1]
    s.a_b, s.b_b = s.M * s.K, (s.K * s.N if ba.ndim == 3 else 0)
    cdef cnp.ndarray o = np.empty((s.batch, s.M, s.N), dtype=np.float32)
    cdef mc_epilogue ep
    keep = []
    if residual is not None and np.size(residual) != o.size:
        raise ValueError(f"residual must have {o.size} values")
    _fill_epilogue(&ep, act, alpha, beta, None, residual, keep)
    with nogil:
        mc_batched_matmul(&s, <const float *>cnp.PyArray_DATA(aa), <const float *>cnp.PyArray_DATA(ba),
                          <float *>cnp.PyArray_DATA(o), &ep)
    return o


# ------------------------------------------------------------------ blocked layout (NCHW16c)

cdef extern from "kernels.h":
    void mc_to_blocked(const float *x, int C, int H, int W, float *out) nogil
    void mc_from_blocked(const float *x, int C, int H, int W, float *out) nogil
    size_t mc_conv_blocked_packed_size(int Cout, int C, int KH, int KW)
    void mc_pack_conv_blocked_f32(const float *w, int Cout, int C, int KH, int KW, float *packed)
    void mc_pack_conv_blocked_f16(const float *w, int Cout, int C, int KH, int KW, uint16_t *packed)
    void mc_conv2d_blocked(const mc_conv_shape *s, const float *x, const uint16_t *packed, float *out,
                           const mc_epilogue *ep) nogil
    void mc_conv2d_blocked_w32(const mc_conv_shape *s, const float *x, const float *packed, float *out,
                               const mc_epilogue *ep) nogil

BLOCK = 16


def _blocks(int c):
    return (c + BLOCK - 1) // BLOCK


def to_blocked(x, out=None):
    """[N, C, H, W] float32 -> NCHW16c [N, ceil(C/16), H, W, 16], tail lanes zero."""
    cdef cnp.ndarray xa = np.ascontiguousarray(x, dtype=np.float32)
    if xa.ndim != 4:
        raise ValueError(f"to_blocked expects NCHW, got shape {np.shape(x)}")
    cdef int n = xa.shape[0], C = xa.shape[1], H = xa.shape[2], W = xa.shape[3], b
    cdef cnp.ndarray o = _output(out, (n, _blocks(C), H, W, BLOCK), xa)
    cdef size_t isz = <size_t>C * H * W, osz = <size_t>_blocks(C) * H * W * BLOCK
    cdef const float *xp = <const float *>cnp.PyArray_DATA(xa)
    cdef float *op = <float *>cnp.PyArray_DATA(o)
    with nogil:
        for b in range(n):
            mc_to_blocked(xp + b * isz, C, H, W, op + b * osz)
    return o


def from_blocked(x, int channels, out=None):
    """NCHW16c [N, ceil(C/16), H, W, 16] float32 -> [N, C, H, W] for C = channels."""
    cdef cnp.ndarray xa = np.ascontiguousarray(x, dtype=np.float32)
    if xa.ndim != 5 or xa.shape[4] != BLOCK or xa.shape[1] != _blocks(channels):
        raise ValueError(f"from_blocked expects [N, {_blocks(channels)}, H, W, 16], got shape {np.shape(x)}")
    cdef int n = xa.shape[0], H = xa.shape[2], W = xa.shape[3], b
    cdef cnp.ndarray o = _output(out, (n, channels, H, W), xa)
    cdef size_t isz = <size_t>xa.shape[1] * H * W * BLOCK, osz = <size_t>channels * H * W
    cdef const float *xp = <const float *>cnp.PyArray_DATA(xa)
    cdef float *op = <float *>cnp.PyArray_DATA(o)
    with nogil:
        for b in range(n):
            mc_from_blocked(xp + b * isz, channels, H, W, op + b * osz)
    return o


cdef class BlockedConvWeights:
    """Dense conv weights [Cout, C, KH, KW] packed for conv2d_blocked: 16 x 16 panels per
    (output block, input block, tap), fp16 (uint16 data) or fp32."""
    cdef readonly object data
    cdef readonly int Cout, C, KH, KW
    cdef readonly bint f32

    def __repr__(self):
        return (f"BlockedConvWeights({'fp32' if self.f32 else 'fp16'}, Cout={self.Cout}, C={self.C}, "
                f"kernel=({self.KH}, {self.KW}))")


def pack_conv_blocked_weights(w, str precision="fp16"):
    """w: [Cout, C, KH, KW] float32/float16 -> BlockedConvWeights (fp16 or fp32 panels)."""
    w = np.asarray(w)
    if w.ndim != 4:
        raise ValueError(f"conv weights must be [Cout, C, KH, KW], got shape {w.shape}")
    cdef BlockedConvWeights p = BlockedConvWeights()
    p.Cout, p.C, p.KH, p.KW = w.shape
    if precision not in ("fp16", "fp32"):
        raise ValueError(f"precision must be 'fp16' or 'fp32', got {precision!r}")
    p.f32 = precision == "fp32"
    cdef cnp.ndarray src = np.ascontiguousarray(w, dtype=np.float32)
    cdef size_t n = mc_conv_blocked_packed_size(p.Cout, p.C, p.KH, p.KW)
    cdef cnp.ndarray dst = np.empty(n, dtype=np.float32 if p.f32 else np.uint16)
    if p.f32:
        mc_pack_conv_blocked_f32(<const float *>cnp.PyArray_DATA(src), p.Cout, p.C, p.KH, p.KW,
                                 <float *>cnp.PyArray_DATA(dst))
    else:
        mc_pack_conv_blocked_f16(<const float *>cnp.PyArray_DATA(src), p.Cout, p.C, p.KH, p.KW,
                                 <uint16_t *>cnp.PyArray_DATA(dst))
    p.data = dst
    return p


def conv2d_blocked(x, BlockedConvWeights packed, bias=None, stride=1, dilation=1, padding=0,
                   str act="none", float alpha=0.0, float beta=0.0, residual=None, out=None):
    """Dense convolution on NCHW16c: x [N, ceil(C/16), H, W, 16] -> [N, ceil(Cout/16), OH, OW, 16];
    the residual is blocked like the result."""
    cdef cnp.ndarray xa = np.ascontiguousarray(x, dtype=np.float32)
    if xa.ndim != 5 or xa.shape[4] != BLOCK or xa.shape[1] != _blocks(packed.C):
        raise ValueError(f"conv2d_blocked input must be [N, {_blocks(packed.C)}, H, W, 16], got {np.shape(x)}")
    cdef mc_conv_shape s
    s.C, s.H, s.W = packed.C, xa.shape[2], xa.shape[3]
    s.Cout, s.KH, s.KW, s.groups = packed.Cout, packed.KH, packed.KW, 1
    s.stride_h, s.stride_w = _pair(stride)
    s.dil_h, s.dil_w = _pair(dilation)
    s.pad_t, s.pad_b, s.pad_l, s.pad_r = _pads(padding)
    if min(s.pad_t, s.pad_b, s.pad_l, s.pad_r) < 0 or mc_conv_out_shape(&s) != 0:
        raise ValueError(f"invalid convolution geometry for input {np.shape(x)}")
    cdef int n = xa.shape[0], b
    shape = (n, _blocks(s.Cout), s.OH, s.OW, BLOCK)
    _check_vec(bias, s.Cout, "bias")
    _check_shape(residual, shape, "residual")
    cdef cnp.ndarray o = _output(out, shape, residual)
    cdef mc_epilogue ep
    keep = []
    _fill_epilogue(&ep, act, alpha, beta, bias, residual, keep)
    cdef const float *res0 = ep.residual
    cdef cnp.ndarray data = packed.data
    cdef const void *w = cnp.PyArray_DATA(data)
    cdef bint f32 = packed.f32
    cdef const float *xp = <const float *>cnp.PyArray_DATA(xa)
    cdef float *op = <float *>cnp.PyArray_DATA(o)
    cdef size_t isz = <size_t>xa.shape[1] * s.H * s.W * BLOCK, osz = <size_t>shape[1] * s.OH * s.OW * BLOCK
    with nogil:
        for b in range(n):
            if res0 != NULL:
                ep.residual = res0 + b * osz
            if f32:
                mc_conv2d_blocked_w32(&s, xp + b * isz, <const float *>w, op + b * osz, &ep)
            else:
                mc_conv2d_blocked(&s, xp + b * isz, <const uint16_t *>w, op + b * osz, &ep)
    return o
