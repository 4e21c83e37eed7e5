# Cython view of kernel_table.h, included by the generated modules (codegen/cython_emitter.py).
from libc.stdint cimport uint16_t


cdef extern from "kernel_table.h":
    int MC_KERNEL_TABLE_VERSION
    const char *MC_KERNEL_TABLE_CAPSULE

    ctypedef struct mc_epilogue:
        const float *bias
        const float *residual
        Py_ssize_t ldr
        int act
        float alpha
        float beta

    ctypedef struct mc_conv_shape:
        int C, H, W, Cout, KH, KW, groups
        int stride_h, stride_w, dil_h, dil_w
        int pad_t, pad_b, pad_l, pad_r
        int OH, OW

    ctypedef struct mc_pool_shape:
        int C, H, W, KH, KW, stride_h, stride_w, pad_t, pad_b, pad_l, pad_r, OH, OW

    ctypedef struct mc_attention_shape:
        int B, H, Sq, Sk, E, Ev
        Py_ssize_t q_b, q_h, q_s, k_b, k_h, k_s, v_b, v_h, v_s, o_b, o_h, o_s
        Py_ssize_t m_b, m_h, m_s, m_t
        float scale

    ctypedef struct mc_matmul_shape:
        int batch, M, K, N
        Py_ssize_t a_b, b_b

    ctypedef struct mc_kernel_table:
        int version
        void (*gemm)(const uint16_t *packed, int M, int K, int N, const float *x, Py_ssize_t ldx,
                     float *out, Py_ssize_t ldc, const mc_epilogue *ep) noexcept nogil
        void (*conv2d)(const mc_conv_shape *s, const float *x, const uint16_t *packed, float *out,
                       const mc_epilogue *ep) noexcept nogil
        void (*depthwise_conv2d)(const mc_conv_shape *s, const float *x, const uint16_t *w,
                                 float *out, const mc_epilogue *ep) noexcept nogil
        void (*max_pool2d)(const mc_pool_shape *s, const float *x, float *out) noexcept nogil
        void (*avg_pool2d)(const mc_pool_shape *s, const float *x, float *out,
                           int exclude_padding) noexcept nogil
        void (*global_pool)(int C, int HW, const float *x, float *out, int is_max) noexcept nogil
        void (*softmax)(const float *x, float *out, Py_ssize_t rows, Py_ssize_t n) noexcept nogil
        void (*activation)(float *x, size_t n, const mc_epilogue *ep) noexcept nogil
        void (*float_to_half)(const float *src, uint16_t *dst, size_t n) noexcept nogil
        int (*winograd_conv2d_w32)(int m, const mc_conv_shape *s, const float *x, const float *packed,
                                   float *out, const mc_epilogue *ep) noexcept nogil
        void (*layer_norm)(const float *x, float *out, Py_ssize_t rows, Py_ssize_t n, const float *gamma,
                           const float *beta, float eps) noexcept nogil
        void (*attention)(const mc_attention_shape *s, const float *q, const float *k, const float *v,
                          const float *mask, float *out) noexcept nogil
        void (*strided_copy)(const float *src, float *dst, int rank, const Py_ssize_t *shape,
                             const Py_ssize_t *strides) noexcept nogil
        void (*batched_matmul)(const mc_matmul_shape *s, const float *a, const float *b, float *out,
                               const mc_epilogue *ep) noexcept nogil
        void (*gemm_w32)(const float *packed, int M, int K, int N, const float *x, Py_ssize_t ldx,
                         float *out, Py_ssize_t ldc, const mc_epilogue *ep) noexcept nogil
        void (*conv2d_w32)(const mc_conv_shape *s, const float *x, const float *packed, float *out,
                           const mc_epilogue *ep) noexcept nogil
        void (*depthwise_conv2d_w32)(const mc_conv_shape *s, const float *x, const float *w,
                                     float *out, const mc_epilogue *ep) noexcept nogil
        void (*gemm_rows)(const uint16_t *packed, int M, int K, Py_ssize_t rows, const float *x, Py_ssize_t ldx,
                          float *out, Py_ssize_t ldo, const mc_epilogue *ep) noexcept nogil
        void (*gemm_rows_w32)(const float *packed, int M, int K, Py_ssize_t rows, const float *x, Py_ssize_t ldx,
                              float *out, Py_ssize_t ldo, const mc_epilogue *ep) noexcept nogil
        void (*to_blocked)(const float *x, int C, int H, int W, float *out) noexcept nogil
        void (*from_blocked)(const float *x, int C, int H, int W, float *out) noexcept nogil
        void (*conv2d_blocked)(const mc_conv_shape *s, const float *x, const uint16_t *packed, float *out,
                               const mc_epilogue *ep) noexcept nogil
        void (*conv2d_blocked_w32)(const mc_conv_shape *s, const float *x, const float *packed, float *out,
                                   const mc_epilogue *ep) noexcept nogil
        void (*depthwise_blocked)(const mc_conv_shape *s, const float *x, const float *packed, float *out,
                                  const mc_epilogue *ep) noexcept nogil
        void (*pool_blocked)(const mc_pool_shape *s, const float *x, float *out, int is_max,
                             int exclude_padding) noexcept nogil
        void (*global_pool_blocked)(int C, int HW, const float *x, float *out, int is_max) noexcept nogil
