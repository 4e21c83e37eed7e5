/* Core CPU kernels: fp16 or fp32 weights, fp32 activations (NCHW) and fp32 accumulation.
   Every entry point dispatches at run time to AVX-512, AVX2+FMA+F16C or portable C. */
#ifndef MC_KERNELS_H
#define MC_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ISA selection: mc_force_isa(MC_ISA_AUTO) restores detection; forcing an ISA the CPU
   lacks (or that failed the self-check) is refused (returns -1). */
enum { MC_ISA_AUTO = 0, MC_ISA_PORTABLE = 1, MC_ISA_AVX2 = 2, MC_ISA_AVX512 = 3 };
int mc_detect_isa(void);
int mc_force_isa(int isa);
int mc_current_isa(void);
/* Best ISA that passed the first-use self-check against the portable code (dispatch.c); an
   ISA that failed is disabled: never chosen, and forcing it is refused. */
int mc_verified_isa(void);
/* The kernel families the self-check covers, comma-separated. */
const char *mc_isa_check_families(void);

/* FMA peak probe (benchmarks): runs on the current ISA and returns the flops it did. */
double mc_fma_probe(long iters);

void mc_set_num_threads(int n);
int mc_get_num_threads(void);

/* Opt-in statistics of the thread pool (benchmarks/kernels/bench_threads.py --threads-report),
   accumulated from mc_thread_stats_enable(1) (which resets them) until it is called with 0.
   Times are thread CPU time, so they predict the two-thread speedup even on a loaded machine.
   A region is one parallel call that ran on several threads:
     work_ns      summed CPU time of its tasks;
     critical_ns  its finish time if every thread had a core, the tasks claimed in order;
     even_ns      work / threads, the critical path of a perfect split;
     caller_ns    the calling thread's CPU time in the call (its tasks, spinning, waking);
     caller_tasks_ns  the part of caller_ns spent in tasks (the rest is waiting);
   serial_* are calls that ran on the calling thread alone (below the threading threshold,
   or a single task). */
typedef struct {
    long long regions, tasks, serial_regions;
    long long work_ns, critical_ns, even_ns, caller_ns, caller_tasks_ns, serial_ns;
} mc_thread_stats;
void mc_thread_stats_enable(int on);
void mc_thread_stats_read(mc_thread_stats *out);

/* Fused epilogue: out = act(acc + bias[row] + residual[row, col]).  The residual is added
   before the activation (ResNet's relu(conv + skip); MobileNetV2 uses act = none). */
enum {
    MC_ACT_NONE = 0, MC_ACT_RELU, MC_ACT_CLIP, MC_ACT_LEAKY_RELU, MC_ACT_SIGMOID,
    MC_ACT_TANH, MC_ACT_GELU, MC_ACT_GELU_TANH, MC_ACT_SILU
};
typedef struct {
    const float *bias;        /* [M] or NULL */
    const float *residual;    /* same layout as the output (row stride ldr) or NULL */
    ptrdiff_t ldr;
    int act;
    float alpha, beta;        /* clip: [alpha, beta]; leaky relu: slope alpha */
} mc_epilogue;

/* Packed fp16 weights: panels of MC_MR rows, k-major ([ceil(M/MR)][K][MR] halves, zero
   padded).  mc_packed_size gives the number of uint16 elements. */
#define MC_MR 8
size_t mc_packed_size(int M, int K);
void mc_pack_weights_f32(const float *w, int M, int K, ptrdiff_t ldw, uint16_t *packed);
void mc_pack_weights_f16(const uint16_t *w, int M, int K, ptrdiff_t ldw, uint16_t *packed);

/* fp32 panels: the same layout with float elements (mc_packed_size floats); the *_w32 entry
   points below take them and compute exactly as their fp16 twins otherwise. */
void mc_pack_weights_f32_panels(const float *w, int M, int K, ptrdiff_t ldw, float *packed);

/* out[M, N] (row stride ldc) = epilogue(W @ X), X[K, N] with row stride ldx. */
void mc_gemm(const uint16_t *packed, int M, int K, int N, const float *x, ptrdiff_t ldx,
             float *out, ptrdiff_t ldc, const mc_epilogue *ep);
void mc_gemm_w32(const float *packed, int M, int K, int N, const float *x, ptrdiff_t ldx,
                 float *out, ptrdiff_t ldc, const mc_epilogue *ep);

/* Row-major GEMM (csrc/gemm_rows.c): out[r, m] (row stride ldo) = epilogue(x[r, :] . W[m, :])
   for r < rows, x [rows, K] with row stride ldx, W in the panels above; the epilogue's bias
   is per output column m, its residual [rows, M] at row stride ldr. */
void mc_gemm_rows(const uint16_t *packed, int M, int K, ptrdiff_t rows, const float *x, ptrdiff_t ldx,
                  float *out, ptrdiff_t ldo, const mc_epilogue *ep);
void mc_gemm_rows_w32(const float *packed, int M, int K, ptrdiff_t rows, const float *x, ptrdiff_t ldx,
                      float *out, ptrdiff_t ldo, const mc_epilogue *ep);

/* Quantized weights (csrc/dequant.c): the panel layout with one 8-bit code per element
   (mc_packed_size bytes), decoded to fp32 one micro-panel at a time as the GEMM packs it.
   Row r (0 <= r < M, counted over all groups) decodes as code * scale[r] + offset[r] (affine
   codes, int8 or, with codes_unsigned, uint8) or, when lut is set, lut[r * lut_stride + (uint8)code]
   (palettized; stride 0: one table for every row).  `rows` is M per group: padding rows decode to 0.
   With `nibbles`, codes are 4-bit unsigned, two per byte (element 2j in the low nibble of byte j):
   the panels take mc_packed_size / 2 bytes. */
typedef struct {
    const float *scale, *offset, *lut;
    int lut_stride, rows, codes_unsigned, nibbles;
} mc_dequant;
void mc_pack_weights_i8(const int8_t *w, int M, int K, ptrdiff_t ldw, int8_t *packed);
void mc_gemm_q8(const int8_t *packed, const mc_dequant *dq, int M, int K, int N, const float *x,
                ptrdiff_t ldx, float *out, ptrdiff_t ldc, const mc_epilogue *ep);

/* One image: x [C, H, W] -> out [Cout, OH, OW]; packed holds `groups` packings of
   W_g[Cout/groups, (C/groups)*KH*KW] back to back (each mc_packed_size long). */
typedef struct {
    int C, H, W, Cout, KH, KW, groups;
    int stride_h, stride_w, dil_h, dil_w;
    int pad_t, pad_b, pad_l, pad_r;
    int OH, OW;
} mc_conv_shape;
int mc_conv_out_shape(mc_conv_shape *s);  /* fills OH/OW; returns 0, or -1 if invalid */
void mc_conv2d(const mc_conv_shape *s, const float *x, const uint16_t *packed, float *out,
               const mc_epilogue *ep);
void mc_conv2d_w32(const mc_conv_shape *s, const float *x, const float *packed, float *out,
                   const mc_epilogue *ep);
void mc_conv2d_q8(const mc_conv_shape *s, const float *x, const int8_t *packed, const mc_dequant *dq,
                  float *out, const mc_epilogue *ep);
/* Depthwise (groups == C == Cout): weights fp16 [C, KH, KW]; any K, stride, dilation. */
void mc_depthwise_conv2d(const mc_conv_shape *s, const float *x, const uint16_t *w,
                         float *out, const mc_epilogue *ep);
void mc_depthwise_conv2d_w32(const mc_conv_shape *s, const float *x, const float *w,
                             float *out, const mc_epilogue *ep);

/* Transposed convolution on one image: x [C, H, W] -> out [Cout, OH, OW] with
   OH = (H-1)*stride_h + (KH-1)*dil_h + 1 + out_pad_h - pad_t - pad_b (pads crop the output).
   packed holds `groups` packings of the [(Cout/groups)*KH*KW, C/groups] matrix
   (W[ci, co, kh, kw] -> row (co*KH + kh)*KW + kw, column ci), each mc_packed_size long. */
int mc_conv_transpose_out_shape(mc_conv_shape *s, int out_pad_h, int out_pad_w);
void mc_conv_transpose2d(const mc_conv_shape *s, const float *x, const uint16_t *packed,
                         float *out, const mc_epilogue *ep);
void mc_conv_transpose2d_w32(const mc_conv_shape *s, const float *x, const float *packed,
                             float *out, const mc_epilogue *ep);

/* Pooling on one image [C, H, W]; ceil_mode picks the output size rule. */
typedef struct {
    int C, H, W, KH, KW, stride_h, stride_w, pad_t, pad_b, pad_l, pad_r, OH, OW;
} mc_pool_shape;
void mc_max_pool2d(const mc_pool_shape *s, const float *x, float *out);
void mc_avg_pool2d(const mc_pool_shape *s, const float *x, float *out, int exclude_padding);
void mc_global_pool(int C, int HW, const float *x, float *out, int is_max);

/* Blocked channel layout NCHW16c (csrc/blocked_dw.c): one image [C, H, W] is stored as
   [ceil(C/16)][H][W][16] floats, lanes of channels >= C zero; kernels read them as zero and
   write zeros there.  Depthwise weights [C][KH][KW] are packed to [ceil(C/16)][KH][KW][16]
   (mc_depthwise_blocked_packed_size floats); s has groups == C == Cout; ep's bias is [C] or
   NULL, its residual blocked like out (ldr ignored).  Pooling follows mc_max_pool2d /
   mc_avg_pool2d (s->C real channels); global pooling writes [ceil(C/16)][16]. */
size_t mc_depthwise_blocked_packed_size(int C, int KH, int KW);
void mc_pack_depthwise_blocked(const float *w, int C, int KH, int KW, float *packed);
void mc_depthwise_blocked(const mc_conv_shape *s, const float *x, const float *packed, float *out,
                          const mc_epilogue *ep);
void mc_pool2d_blocked(const mc_pool_shape *s, const float *x, float *out, int is_max, int exclude_padding);
void mc_global_pool_blocked(int C, int HW, const float *x, float *out, int is_max);

/* Resize the two last axes of [planes, H, W] to [planes, OH, OW]: bilinear from per-row and
   per-column (lo, hi, fraction) source positions, nearest from source indices (csrc/resize.c). */
void mc_resize_bilinear(const float *x, float *out, ptrdiff_t planes, int H, int W, int OH, int OW,
                        const int *ylo, const int *yhi, const float *yfrac,
                        const int *xlo, const int *xhi, const float *xfrac);
void mc_resize_nearest(const float *x, float *out, ptrdiff_t planes, int H, int W, int OH, int OW,
                       const int *yidx, const int *xidx);

/* Layer norm over the last n values of each of `rows` rows; gamma/beta [n] or NULL (csrc/norm.c). */
void mc_layer_norm(const float *x, float *out, ptrdiff_t rows, ptrdiff_t n, const float *gamma,
                   const float *beta, float eps);

/* Softmax over the last axis of a [rows, n] matrix (in place allowed). */
void mc_softmax(const float *x, float *out, ptrdiff_t rows, ptrdiff_t n);

/* Activation over a contiguous array (used by tests and elementwise lowering). */
void mc_activation(float *x, size_t n, const mc_epilogue *ep);

/* Scaled-dot-product attention over B batches x H heads (csrc/attention.c): strides in floats
   for the batch, head and sequence dims of q [Sq, E], k [Sk, E], v [Sk, Ev] and out [Sq, Ev]
   (the last dim contiguous); an additive mask broadcasts over [B, H, Sq, Sk] by its strides
   (0 for a broadcast dim), or is NULL. */
typedef struct {
    int B, H, Sq, Sk, E, Ev;
    ptrdiff_t q_b, q_h, q_s, k_b, k_h, k_s, v_b, v_h, v_s, o_b, o_h, o_s;
    ptrdiff_t m_b, m_h, m_s, m_t;
    float scale;
} mc_attention_shape;
void mc_attention(const mc_attention_shape *s, const float *q, const float *k, const float *v,
                  const float *mask, float *out);

/* out[t] = act(a[t] @ b[t] + residual[t]) for t < batch: a [M, K] and b [K, N] row-major at
   batch strides a_b / b_b (0 broadcasts one matrix), out and the residual contiguous
   [batch, M, N]; ep's bias is ignored (csrc/attention.c). */
typedef struct { int batch, M, K, N; ptrdiff_t a_b, b_b; } mc_matmul_shape;
void mc_batched_matmul(const mc_matmul_shape *s, const float *a, const float *b, float *out,
                       const mc_epilogue *ep);

/* dst (contiguous, `shape`) = src read with `strides` (in floats), rank <= MC_COPY_MAX_RANK
   (csrc/copy.c: transpose, split, reshape). */
#define MC_COPY_MAX_RANK 8
void mc_strided_copy(const float *src, float *dst, int rank, const ptrdiff_t *shape,
                     const ptrdiff_t *strides);

/* The blocked channel layout NCHW16c (csrc/blocked.c): one image [C, H, W] as
   [ceil(C/16)][H][W][16], lanes of channels >= C zero. */
void mc_to_blocked(const float *x, int C, int H, int W, float *out);     /* NCHW -> NCHW16c */
void mc_from_blocked(const float *x, int C, int H, int W, float *out);   /* NCHW16c -> NCHW */
/* Dense blocked convolution (groups 1): x [ceil(C/16)][H][W][16] -> out [ceil(Cout/16)][OH][OW][16];
   weights [Cout][C][KH][KW] packed as [ceil(Cout/16)][ceil(C/16)][KH][KW][16 in][16 out] panels
   (mc_conv_blocked_packed_size elements, fp16 or fp32); epilogue bias [Cout], residual blocked
   like out (ldr ignored), activation. */
size_t mc_conv_blocked_packed_size(int Cout, int C, int KH, int KW);
void mc_pack_conv_blocked_f32(const float *w, int Cout, int C, int KH, int KW, float *packed);
void mc_pack_conv_blocked_f16(const float *w, int Cout, int C, int KH, int KW, uint16_t *packed);
void mc_conv2d_blocked(const mc_conv_shape *s, const float *x, const uint16_t *packed, float *out,
                       const mc_epilogue *ep);
void mc_conv2d_blocked_w32(const mc_conv_shape *s, const float *x, const float *packed, float *out,
                           const mc_epilogue *ep);

#ifdef __cplusplus
}
#endif
#endif
