/* The kernels as a table of function pointers, handed to model-specialised modules
   (codegen/cython_emitter.py) in a PyCapsule by `_kernels.kernel_table()`.  Python loads
   extension modules with RTLD_LOCAL, so a generated module cannot link against the
   symbols of _kernels; it calls through this table instead.  Bump the version whenever
   a field is added, removed or changes signature: generated modules check it in bind(). */
#ifndef MC_KERNEL_TABLE_H
#define MC_KERNEL_TABLE_H

#include "kernels.h"
#include "fp16.h"
#include "winograd.h"

#define MC_KERNEL_TABLE_VERSION 7
#define MC_KERNEL_TABLE_CAPSULE "mlir_coreml.csrc.kernel_table"

typedef struct {
    int version;
    void (*gemm)(const uint16_t *packed, int M, int K, int N, const float *x, ptrdiff_t ldx,
                 float *out, ptrdiff_t ldc, const mc_epilogue *ep);
    void (*conv2d)(const mc_conv_shape *s, const float *x, const uint16_t *packed, float *out,
                   const mc_epilogue *ep);
    void (*depthwise_conv2d)(const mc_conv_shape *s, const float *x, const uint16_t *w,
                             float *out, const mc_epilogue *ep);
    void (*max_pool2d)(const mc_pool_shape *s, const float *x, float *out);
    void (*avg_pool2d)(const mc_pool_shape *s, const float *x, float *out, int exclude_padding);
    void (*global_pool)(int C, int HW, const float *x, float *out, int is_max);
    void (*softmax)(const float *x, float *out, ptrdiff_t rows, ptrdiff_t n);
    void (*activation)(float *x, size_t n, const mc_epilogue *ep);
    void (*float_to_half)(const float *src, uint16_t *dst, size_t n);  /* numpy's rounding */
    int (*winograd_conv2d_w32)(int m, const mc_conv_shape *s, const float *x, const float *packed,
                               float *out, const mc_epilogue *ep);
    void (*layer_norm)(const float *x, float *out, ptrdiff_t rows, ptrdiff_t n, const float *gamma,
                       const float *beta, float eps);
    void (*attention)(const mc_attention_shape *s, const float *q, const float *k, const float *v,
                      const float *mask, float *out);
    void (*strided_copy)(const float *src, float *dst, int rank, const ptrdiff_t *shape,
                         const ptrdiff_t *strides);
    void (*batched_matmul)(const mc_matmul_shape *s, const float *a, const float *b, float *out,
                           const mc_epilogue *ep);
    void (*gemm_w32)(const float *packed, int M, int K, int N, const float *x, ptrdiff_t ldx,
                     float *out, ptrdiff_t ldc, const mc_epilogue *ep);  /* fp32 panels */
    void (*conv2d_w32)(const mc_conv_shape *s, const float *x, const float *packed, float *out,
                       const mc_epilogue *ep);
    void (*depthwise_conv2d_w32)(const mc_conv_shape *s, const float *x, const float *w,
                                 float *out, const mc_epilogue *ep);
    void (*gemm_rows)(const uint16_t *packed, int M, int K, ptrdiff_t rows, const float *x, ptrdiff_t ldx,
                      float *out, ptrdiff_t ldo, const mc_epilogue *ep);
    void (*gemm_rows_w32)(const float *packed, int M, int K, ptrdiff_t rows, const float *x, ptrdiff_t ldx,
                          float *out, ptrdiff_t ldo, const mc_epilogue *ep);  /* fp32 panels */
    /* the blocked layout NCHW16c (csrc/blocked.c) */
    void (*to_blocked)(const float *x, int C, int H, int W, float *out);
    void (*from_blocked)(const float *x, int C, int H, int W, float *out);
    void (*conv2d_blocked)(const mc_conv_shape *s, const float *x, const uint16_t *packed, float *out,
                           const mc_epilogue *ep);
    void (*conv2d_blocked_w32)(const mc_conv_shape *s, const float *x, const float *packed, float *out,
                               const mc_epilogue *ep);
    void (*depthwise_blocked)(const mc_conv_shape *s, const float *x, const float *packed, float *out,
                              const mc_epilogue *ep);   /* csrc/blocked_dw.c */
    void (*pool_blocked)(const mc_pool_shape *s, const float *x, float *out, int is_max, int exclude_padding);
    void (*global_pool_blocked)(int C, int HW, const float *x, float *out, int is_max);
} mc_kernel_table;

const mc_kernel_table *mc_kernel_table_get(void);

#endif
