/* Row-major GEMM for linear layers on [rows, K] activations (a transformer's [seq, d]):
   out[r, m] = epilogue(sum_k x[r, k] * W[m, k]), W in the packed panels of mc_gemm
   ([ceil(M/8)][K][8], fp16 or fp32).  mc_gemm computes W @ X with X [K, N], so these rows
   would have to be transposed in and out; here the output is vectorised along M instead:
   a tile of R rows x RW_W output columns keeps R x (RW_W / lanes) accumulators, each k
   broadcasts x[r, k] and multiplies it with one row of an RW_W-wide weight panel.

   One task per RW_W output columns: its panel is first gathered (fp16 converted to fp32)
   into per-thread scratch as [K][RW_W], zero padded past M, where it stays in L1/L2 for
   every row tile.  The epilogue (bias per output column, residual [rows, M] at row stride
   ldr, activation) is applied to the accumulators before the only store.  Every ISA sums over
   k in ascending order, so the paths differ only by FMA rounding. */
#include "kernels_impl.h"
#include "vecmath.h"

#include <string.h>

typedef struct {
    const void *w;
    int f32, M, K, width;
    ptrdiff_t rows;
    const float *x;
    ptrdiff_t ldx;
    float *out;
    ptrdiff_t ldo;
    const mc_epilogue *ep;
} rows_job;

/* The RW_W-wide panel of columns [c0, c0 + width) as [K][width] floats: 8-row weight panels
   p0 .. side by side (zeros past the last panel). */
static void gather_portable(const rows_job *g, int c0, float *dst) {
    int panels = (g->M + MC_MR - 1) / MC_MR;
    for (int j = 0; j * MC_MR < g->width; j++) {
        int p = c0 / MC_MR + j;
        for (int k = 0; k < g->K; k++) {
            float *d = dst + (size_t)k * g->width + j * MC_MR;
            size_t at = ((size_t)p * g->K + k) * MC_MR;
            if (p >= panels) memset(d, 0, sizeof(float) * MC_MR);
            else if (g->f32) memcpy(d, (const float *)g->w + at, sizeof(float) * MC_MR);
            else mc_half_to_float_portable((const uint16_t *)g->w + at, d, MC_MR);
        }
    }
}

static void tile_portable(const rows_job *g, const float *B, ptrdiff_t r0, int R, int c0) {
    enum { W = 16 };
    const mc_epilogue *ep = g->ep;
    int cols = g->M - c0 < W ? g->M - c0 : W;
    for (int r = 0; r < R; r++) {
        const float *x = g->x + (r0 + r) * g->ldx;
        float acc[W] = {0};
        for (int k = 0; k < g->K; k++)
            for (int j = 0; j < W; j++) acc[j] += x[k] * B[(size_t)k * W + j];
        float *o = g->out + (r0 + r) * g->ldo + c0;
        for (int j = 0; j < cols; j++) {
            float v = acc[j];
            if (ep) {
                if (ep->bias) v += ep->bias[c0 + j];
                if (ep->residual) v += ep->residual[(r0 + r) * ep->ldr + c0 + j];
                v = mc_act_scalar(v, ep);
            }
            o[j] = v;
        }
    }
}

#ifdef MC_X86
MC_T256 static void gather_avx(const rows_job *g, int c0, float *dst) {
    int panels = (g->M + MC_MR - 1) / MC_MR;
    for (int j = 0; j * MC_MR < g->width; j++) {
        int p = c0 / MC_MR + j;
        float *d = dst + j * MC_MR;
        size_t at = (size_t)p * g->K * MC_MR;
        for (int k = 0; k < g->K; k++, d += g->width, at += MC_MR) {
            __m256 v = p >= panels ? _mm256_setzero_ps()
                     : g->f32 ? _mm256_loadu_ps((const float *)g->w + at)
                     : _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)g->w + at)));
            _mm256_store_ps(d, v);
        }
    }
}

/* AVX-512: R rows x 32 columns (two zmm per row, up to 8 rows: 16 accumulators). */
#define RW512 32
#define R512 8   /* 12 rows (24 accumulators) measured 25 % slower */
MC_T512 static inline __attribute__((always_inline)) void
tile512_n(const rows_job *g, const float *B, ptrdiff_t r0, int c0, const int R) {
    __m512 c[R512][2];
#pragma GCC unroll 8
    for (int r = 0; r < R; r++) c[r][0] = c[r][1] = _mm512_setzero_ps();
    const float *x = g->x + r0 * g->ldx;
    const ptrdiff_t ldx = g->ldx;
#pragma GCC unroll 2
    for (int k = 0; k < g->K; k++) {
        __m512 b0 = _mm512_load_ps(B + (size_t)k * RW512), b1 = _mm512_load_ps(B + (size_t)k * RW512 + 16);
#pragma GCC unroll 8
        for (int r = 0; r < R; r++) {
            __m512 a = _mm512_set1_ps(x[r * ldx + k]);
            c[r][0] = _mm512_fmadd_ps(a, b0, c[r][0]);
            c[r][1] = _mm512_fmadd_ps(a, b1, c[r][1]);
        }
    }
    /* the epilogue indexes rows and vectors at run time: it reads the accumulators from memory,
       so the loop above keeps them in registers (without this copy they are spilled every k) */
    float acc[R512][RW512] __attribute__((aligned(64)));
#pragma GCC unroll 8
    for (int r = 0; r < R; r++) _mm512_store_ps(acc[r], c[r][0]), _mm512_store_ps(acc[r] + 16, c[r][1]);
    const mc_epilogue *ep = g->ep;
    int cols = g->M - c0;
    __mmask16 m[2] = {mc_mask512(cols), mc_mask512(cols > 16 ? cols - 16 : 0)};
    __m512 bias[2] = {_mm512_setzero_ps(), _mm512_setzero_ps()};
    if (ep && ep->bias)
        for (int j = 0; j < 2; j++) bias[j] = _mm512_maskz_loadu_ps(m[j], ep->bias + c0 + 16 * j);
    for (int r = 0; r < R; r++) {
        float *o = g->out + (r0 + r) * g->ldo + c0;
        for (int j = 0; j < 2 && m[j]; j++) {
            __m512 v = _mm512_load_ps(acc[r] + 16 * j);
            if (ep) {
                v = _mm512_add_ps(v, bias[j]);
                if (ep->residual)
                    v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m[j], ep->residual + (r0 + r) * ep->ldr + c0 + 16 * j));
                v = mc_act512(v, ep);
            }
            _mm512_mask_storeu_ps(o + 16 * j, m[j], v);
        }
    }
}

MC_T512 static void tile512(const rows_job *g, const float *B, ptrdiff_t r0, int R, int c0) {
    switch (R) {
    case 1: tile512_n(g, B, r0, c0, 1); break;
    case 2: tile512_n(g, B, r0, c0, 2); break;
    case 3: tile512_n(g, B, r0, c0, 3); break;
    case 4: tile512_n(g, B, r0, c0, 4); break;
    case 5: tile512_n(g, B, r0, c0, 5); break;
    case 6: tile512_n(g, B, r0, c0, 6); break;
    case 7: tile512_n(g, B, r0, c0, 7); break;
    default: tile512_n(g, B, r0, c0, R512);
    }
}

/* AVX2: R rows x 16 columns (two ymm per row, up to 6 rows: 12 accumulators). */
#define RW256 16
#define R256 6
MC_T256 static inline __attribute__((always_inline)) void
tile256_n(const rows_job *g, const float *B, ptrdiff_t r0, int c0, const int R) {
    __m256 c[R256][2];
#pragma GCC unroll 6
    for (int r = 0; r < R; r++) c[r][0] = c[r][1] = _mm256_setzero_ps();
    const float *x = g->x + r0 * g->ldx;
    const ptrdiff_t ldx = g->ldx;
#pragma GCC unroll 2
    for (int k = 0; k < g->K; k++) {
        __m256 b0 = _mm256_load_ps(B + (size_t)k * RW256), b1 = _mm256_load_ps(B + (size_t)k * RW256 + 8);
#pragma GCC unroll 6
        for (int r = 0; r < R; r++) {
            __m256 a = _mm256_broadcast_ss(x + r * ldx + k);
            c[r][0] = _mm256_fmadd_ps(a, b0, c[r][0]);
            c[r][1] = _mm256_fmadd_ps(a, b1, c[r][1]);
        }
    }
    float acc[R256][RW256] __attribute__((aligned(32)));   /* as in tile512_n */
#pragma GCC unroll 6
    for (int r = 0; r < R; r++) _mm256_store_ps(acc[r], c[r][0]), _mm256_store_ps(acc[r] + 8, c[r][1]);
    const mc_epilogue *ep = g->ep;
    int cols = g->M - c0 < RW256 ? g->M - c0 : RW256;
    for (int r = 0; r < R; r++) {
        float *o = g->out + (r0 + r) * g->ldo + c0;
        const float *res = ep && ep->residual ? ep->residual + (r0 + r) * ep->ldr + c0 : NULL;
        for (int j = 0; j < 2; j++) {
            int n = cols - 8 * j;
            if (n <= 0) break;
            __m256 v = _mm256_load_ps(acc[r] + 8 * j);
            if (n >= 8) {   /* full vectors: plain loads and stores (masked ones are slow on AMD) */
                if (ep) {
                    if (ep->bias) v = _mm256_add_ps(v, _mm256_loadu_ps(ep->bias + c0 + 8 * j));
                    if (res) v = _mm256_add_ps(v, _mm256_loadu_ps(res + 8 * j));
                    v = mc_act256(v, ep);
                }
                _mm256_storeu_ps(o + 8 * j, v);
                continue;
            }
            __m256i m = mc_mask256(n);
            if (ep) {
                if (ep->bias) v = _mm256_add_ps(v, _mm256_maskload_ps(ep->bias + c0 + 8 * j, m));
                if (res) v = _mm256_add_ps(v, _mm256_maskload_ps(res + 8 * j, m));
                v = mc_act256(v, ep);
            }
            _mm256_maskstore_ps(o + 8 * j, m, v);
        }
    }
}

MC_T256 static void tile256(const rows_job *g, const float *B, ptrdiff_t r0, int R, int c0) {
    switch (R) {
    case 1: tile256_n(g, B, r0, c0, 1); break;
    case 2: tile256_n(g, B, r0, c0, 2); break;
    case 3: tile256_n(g, B, r0, c0, 3); break;
    case 4: tile256_n(g, B, r0, c0, 4); break;
    case 5: tile256_n(g, B, r0, c0, 5); break;
    default: tile256_n(g, B, r0, c0, R256);
    }
}
#endif

typedef void (*tile_fn)(const rows_job *g, const float *B, ptrdiff_t r0, int R, int c0);

static void rows_task(void *ctx, int t, int thread) {
    (void)thread;
    const rows_job *g = ctx;
    int c0 = t * g->width, R = 4;
    float *B = mc_scratch(MC_SLOT_A, (size_t)g->K * g->width + 16);
    if (!B) return;
    tile_fn tile = tile_portable;
#ifdef MC_X86
    int isa = mc_isa();
    if (isa != MC_ISA_PORTABLE) gather_avx(g, c0, B);
    else gather_portable(g, c0, B);
    if (isa == MC_ISA_AVX512) tile = tile512, R = R512;
    else if (isa == MC_ISA_AVX2) tile = tile256, R = R256;
#else
    gather_portable(g, c0, B);
#endif
    /* The next block's panels (they follow this block's in memory) are prefetched a slice per
       row tile while this block computes: weights are read once per call, so they come from
       L3 or memory, and the gather would otherwise wait for every line. */
    size_t esize = g->f32 ? sizeof(float) : sizeof(uint16_t);
    size_t start = (size_t)(c0 + g->width) * g->K, end = (size_t)(g->M + MC_MR - 1) / MC_MR * MC_MR * g->K;
    size_t next = start < end ? ((end - start < (size_t)g->width * g->K ? end - start : (size_t)g->width * g->K)) * esize : 0;
    size_t tiles = (size_t)((g->rows + R - 1) / R), slice = (next / tiles + 63) / 64 * 64;
    const char *ahead = (const char *)g->w + start * esize;
    for (ptrdiff_t r0 = 0; r0 < g->rows; r0 += R) {
        size_t from = (size_t)(r0 / R) * slice, to = from + slice < next ? from + slice : next;
        for (size_t at = from; at < to; at += 64) __builtin_prefetch(ahead + at);
        tile(g, B, r0, g->rows - r0 < R ? (int)(g->rows - r0) : R, c0);
    }
}

static void gemm_rows(const void *w, int f32, int M, int K, ptrdiff_t rows, const float *x, ptrdiff_t ldx,
                      float *out, ptrdiff_t ldo, const mc_epilogue *ep) {
    if (M <= 0 || rows <= 0) return;
    if (rows == 1) {   /* one row (classifiers): the matrix-vector kernel streams the panels once */
        mc_epilogue one;
        if (ep) one = *ep, one.ldr = 1;   /* residual element m: row m of the [M, 1] product */
        mc_panels p = {w, f32};
        mc_gemv_panels(p, M, K, x, 1, out, 1, ep ? &one : NULL);
        return;
    }
    int width = 16;
#ifdef MC_X86
    if (mc_isa() == MC_ISA_AVX512) width = RW512;
#endif
    rows_job g = {w, f32, M, K, width, rows, x, ldx, out, ldo, ep};
    int tasks = (M + width - 1) / width;
    mc_parallel(tasks, mc_threads_for(2.0 * M * (double)K * rows), rows_task, &g);
}

void mc_gemm_rows(const uint16_t *packed, int M, int K, ptrdiff_t rows, const float *x, ptrdiff_t ldx,
                  float *out, ptrdiff_t ldo, const mc_epilogue *ep) {
    gemm_rows(packed, 0, M, K, rows, x, ldx, out, ldo, ep);
}

void mc_gemm_rows_w32(const float *packed, int M, int K, ptrdiff_t rows, const float *x, ptrdiff_t ldx,
                      float *out, ptrdiff_t ldo, const mc_epilogue *ep) {
    gemm_rows(packed, 1, M, K, rows, x, ldx, out, ldo, ep);
}
