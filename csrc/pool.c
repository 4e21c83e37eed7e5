/* Pooling (NCHW, one image) and last-axis softmax.
   Pooling is separable: for each output row, the window's input rows are first reduced
   column by column (contiguous loads) into a row buffer that holds the pool's identity
   (-inf for max, 0 for average) left and right of the image, then each output column
   reduces its KW cells of that buffer (plain loads at stride 1, de-interleaving permutes at
   stride 2, gathers otherwise).  The vector loops have no border cases, and a row costs
   W*(KH-1) + OW*(KW-1) operations instead of OW*KH*KW.  Averages multiply by a table of
   1/count (count = rows x columns of the clipped window).  Output rows go in blocks of 16
   (one call per block and pass).  Max keeps np.maximum's NaN rule without a blend per
   element: the row pass also sums the cells it reads, and a block whose cells sum to NaN (a
   NaN among them, or opposite infinities) is redone with the NaN-propagating max; the others
   use plain max_ps.  Channels are split over the thread pool; each output value is computed
   the same way for any thread count. */
#include "kernels_impl.h"
#include "vecmath.h"

#include <float.h>
#include <math.h>
#include <string.h>

/* How cells combine: sum (average pooling), max_ps, or max that propagates NaN. */
enum { POOL_SUM, POOL_MAX, POOL_MAX_NAN };

static inline float comb_scalar(float a, float b, int mode) {
    return mode == POOL_SUM ? a + b : mc_max_nan(a, b);
}

/* The vector paths instantiate their bodies for the common window shapes (3 or 2 rows; 3x3 or
   2x2 at stride 2, 3x3 at stride 1) with the sizes as constants, and for any shape otherwise;
   the NaN-propagating max (rare: a NaN in the input) only for any shape. */
#define POOL_ROWS_CASES(BODY, mode) \
    if (n == 3) BODY(3, mode); else if (n == 2) BODY(2, mode); else BODY(n, mode)
#define POOL_COLS_CASES(BODY, mode) \
    if (sw == 2 && KW == 3) BODY(2, 3, mode); else if (sw == 2 && KW == 2) BODY(2, 2, mode); \
    else if (sw == 1 && KW == 3) BODY(1, 3, mode); else BODY(sw, KW, mode)
#define POOL_DISPATCH(CASES, BODY, NAN_CALL) \
    if (mode == POOL_MAX_NAN) NAN_CALL; \
    else if (mode == POOL_MAX) { CASES(BODY, POOL_MAX); } \
    else { CASES(BODY, POOL_SUM); }

/* One output row: its window's n input rows from x (n <= 0: the window lies in the padding),
   its row buffer (image columns at row + pad_l), output, and 1/count row (average) or NULL. */
typedef struct {
    const float *x;
    int n;
    float *row, *o;
    const float *scale;
} pool_line;

typedef struct {
    const mc_pool_shape *s;
    const float *x;
    float *out;
    int is_max, exclude, chunk, isa;
    int row_len;    /* floats of the padded row buffer: image row at offset pad_l */
    int ows;        /* OW rounded up to 16: row stride of the 1/count table */
    int c0, c1;     /* output columns [c0, c1) have windows that meet the image; others are 0 */
} pool_job;

/* ---------------------------------------------------------------- AVX-512 ---------- */
#ifdef MC_X86
MC_T512 static inline __m512 comb512(__m512 a, __m512 b, const int mode) {
    if (mode == POOL_SUM) return _mm512_add_ps(a, b);
    __m512 m = _mm512_max_ps(a, b);   /* b when either is NaN */
    if (mode == POOL_MAX) return m;
    return _mm512_mask_mov_ps(m, _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q), a);
}

/* dst[w] = combination of x[h * W + w] over h < n.  In POOL_MAX mode also returns 1 when the
   cells summed to NaN (a NaN among them, or opposite infinities): the caller then redoes the
   rows with POOL_MAX_NAN.  The check costs one add per cell and no extra pass over the input. */
MC_T512 static inline __attribute__((always_inline)) __m512
column512(const float *x, int W, int n, __mmask16 k, __m512 *chk, const int mode) {
    __m512 v = _mm512_maskz_loadu_ps(k, x), acc = v, sum = v;
    for (int h = 1; h < n; h++) {
        v = _mm512_maskz_loadu_ps(k, x + (ptrdiff_t)h * W);
        acc = comb512(acc, v, mode);
        if (mode == POOL_MAX) sum = _mm512_add_ps(sum, v);
    }
    if (mode == POOL_MAX) *chk = _mm512_add_ps(*chk, sum);
    return acc;
}

MC_T512 static inline __attribute__((always_inline)) int
rows512_body(const float *x, int W, int n, float *dst, const int mode) {
    __m512 chk = _mm512_setzero_ps();
    int w = 0;
    for (; w + 16 <= W; w += 16) _mm512_storeu_ps(dst + w, column512(x + w, W, n, 0xffff, &chk, mode));
    if (w < W) {
        __mmask16 k = mc_mask512(W - w);
        _mm512_mask_storeu_ps(dst + w, k, column512(x + w, W, n, k, &chk, mode));
    }
    return _mm512_cmp_ps_mask(chk, chk, _CMP_UNORD_Q) != 0;
}

/* o[ow] = combination of row[ow * sw + kw] over kw < KW, times scale[ow] if scale */
MC_T512 static inline __attribute__((always_inline)) void
cols512_body(const float *row, float *o, int OW, int sw, int KW, const float *scale, const int mode) {
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
    const __m512i step = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                            _mm512_set1_epi32(sw));
    for (int ow = 0; ow < OW; ow += 16) {
        const float *p = row + (ptrdiff_t)ow * sw;
        __m512 acc;
        if (sw == 1) {
            acc = _mm512_loadu_ps(p);
            for (int kw = 1; kw < KW; kw++) acc = comb512(acc, _mm512_loadu_ps(p + kw), mode);
        } else if (sw == 2) {
            /* one pair of loads gives cells kw (even lanes) and kw + 1 (odd lanes) */
            __m512 lo = _mm512_loadu_ps(p), hi = _mm512_loadu_ps(p + 16);
            acc = _mm512_permutex2var_ps(lo, even, hi);
            if (KW > 1) acc = comb512(acc, _mm512_permutex2var_ps(lo, odd, hi), mode);
            for (int kw = 2; kw < KW; kw += 2) {
                lo = _mm512_loadu_ps(p + kw), hi = _mm512_loadu_ps(p + kw + 16);
                acc = comb512(acc, _mm512_permutex2var_ps(lo, even, hi), mode);
                if (kw + 1 < KW) acc = comb512(acc, _mm512_permutex2var_ps(lo, odd, hi), mode);
            }
        } else {
            acc = _mm512_i32gather_ps(step, p, 4);
            for (int kw = 1; kw < KW; kw++) acc = comb512(acc, _mm512_i32gather_ps(step, p + kw, 4), mode);
        }
        if (scale) acc = _mm512_mul_ps(acc, _mm512_loadu_ps(scale + ow));
        if (ow + 16 <= OW) _mm512_storeu_ps(o + ow, acc);
        else _mm512_mask_storeu_ps(o + ow, mc_mask512(OW - ow), acc);
    }
}

MC_T512 static int rows512(const pool_line *L, int count, int W, int pad_l, int mode) {
    int nan = 0;
    for (int i = 0; i < count; i++) {
        const float *x = L[i].x;
        float *dst = L[i].row + pad_l;
        int n = L[i].n;
        if (n <= 0) continue;
#define ROWS(N, M) nan |= rows512_body(x, W, N, dst, M)
        POOL_DISPATCH(POOL_ROWS_CASES, ROWS, ROWS(n, POOL_MAX_NAN))
#undef ROWS
    }
    return mode == POOL_MAX && nan;
}

MC_T512 static void cols512(const pool_line *L, int count, int OW, int sw, int KW, int mode) {
    for (int i = 0; i < count; i++) {
        if (L[i].n <= 0) continue;
#define COLS(SW, K, M) cols512_body(L[i].row, L[i].o, OW, SW, K, L[i].scale, M)
        POOL_DISPATCH(POOL_COLS_CASES, COLS, COLS(sw, KW, POOL_MAX_NAN))
#undef COLS
    }
}

/* ---------------------------------------------------------------- AVX2 ------------- */
MC_T256 static inline __m256 comb256(__m256 a, __m256 b, const int mode) {
    if (mode == POOL_SUM) return _mm256_add_ps(a, b);
    return mode == POOL_MAX ? _mm256_max_ps(a, b) : mc_max256_nan(a, b);
}

MC_T256 static inline __attribute__((always_inline)) __m256
column256(const float *x, int W, int n, __m256i k, __m256 *chk, const int mode) {
    __m256 v = _mm256_maskload_ps(x, k), acc = v, sum = v;
    for (int h = 1; h < n; h++) {
        v = _mm256_maskload_ps(x + (ptrdiff_t)h * W, k);
        acc = comb256(acc, v, mode);
        if (mode == POOL_MAX) sum = _mm256_add_ps(sum, v);
    }
    if (mode == POOL_MAX) *chk = _mm256_add_ps(*chk, sum);
    return acc;
}

MC_T256 static inline __attribute__((always_inline)) int
rows256_body(const float *x, int W, int n, float *dst, const int mode) {
    __m256 chk = _mm256_setzero_ps();
    const __m256i all = _mm256_set1_epi32(-1);
    int w = 0;
    for (; w + 8 <= W; w += 8) _mm256_storeu_ps(dst + w, column256(x + w, W, n, all, &chk, mode));
    if (w < W) {   /* masked loads, then a whole-vector store that keeps the identity past W
                      (the buffer has room; masked stores are slow on AMD) */
        __m256i k = mc_mask256(W - w);
        __m256 identity = _mm256_set1_ps(mode == POOL_SUM ? 0.f : -INFINITY);
        __m256 acc = column256(x + w, W, n, k, &chk, mode);
        _mm256_storeu_ps(dst + w, _mm256_blendv_ps(identity, acc, _mm256_castsi256_ps(k)));
    }
    return _mm256_movemask_ps(_mm256_cmp_ps(chk, chk, _CMP_UNORD_Q)) != 0;
}

/* the first n (< 8) lanes of v, in 4-, 2- and 1-float pieces */
MC_T256 static inline void store_tail256(float *o, __m256 v, int n) {
    __m128 q = _mm256_castps256_ps128(v);
    if (n & 4) {
        _mm_storeu_ps(o, q);
        q = _mm256_extractf128_ps(v, 1);
        o += 4;
    }
    if (n & 2) {
        _mm_storel_pi((__m64 *)o, q);
        q = _mm_movehl_ps(q, q);
        o += 2;
    }
    if (n & 1) _mm_store_ss(o, q);
}

/* even and odd cells of the 16 floats at p */
MC_T256 static inline void deinterleave256(const float *p, __m256 *even, __m256 *odd) {
    __m256 lo = _mm256_loadu_ps(p), hi = _mm256_loadu_ps(p + 8);
    *even = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(lo, hi, 0x88)), 0xD8));
    *odd = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(lo, hi, 0xDD)), 0xD8));
}

MC_T256 static inline __attribute__((always_inline)) void
cols256_body(const float *row, float *o, int OW, int sw, int KW, const float *scale, const int mode) {
    const __m256i step = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(sw));
    for (int ow = 0; ow < OW; ow += 8) {
        const float *p = row + (ptrdiff_t)ow * sw;
        __m256 acc, e, d;
        if (sw == 1) {
            acc = _mm256_loadu_ps(p);
            for (int kw = 1; kw < KW; kw++) acc = comb256(acc, _mm256_loadu_ps(p + kw), mode);
        } else if (sw == 2) {
            deinterleave256(p, &acc, &d);
            if (KW > 1) acc = comb256(acc, d, mode);
            for (int kw = 2; kw < KW; kw += 2) {
                deinterleave256(p + kw, &e, &d);
                acc = comb256(acc, e, mode);
                if (kw + 1 < KW) acc = comb256(acc, d, mode);
            }
        } else {
            acc = _mm256_i32gather_ps(p, step, 4);
            for (int kw = 1; kw < KW; kw++) acc = comb256(acc, _mm256_i32gather_ps(p + kw, step, 4), mode);
        }
        if (scale) acc = _mm256_mul_ps(acc, _mm256_loadu_ps(scale + ow));
        if (ow + 8 <= OW) {
            _mm256_storeu_ps(o + ow, acc);
            continue;
        }
        store_tail256(o + ow, acc, OW - ow);
    }
}

MC_T256 static int rows256(const pool_line *L, int count, int W, int pad_l, int mode) {
    int nan = 0;
    for (int i = 0; i < count; i++) {
        const float *x = L[i].x;
        float *dst = L[i].row + pad_l;
        int n = L[i].n;
        if (n <= 0) continue;
#define ROWS(N, M) nan |= rows256_body(x, W, N, dst, M)
        POOL_DISPATCH(POOL_ROWS_CASES, ROWS, ROWS(n, POOL_MAX_NAN))
#undef ROWS
    }
    return mode == POOL_MAX && nan;
}

MC_T256 static void cols256(const pool_line *L, int count, int OW, int sw, int KW, int mode) {
    for (int i = 0; i < count; i++) {
        if (L[i].n <= 0) continue;
#define COLS(SW, K, M) cols256_body(L[i].row, L[i].o, OW, SW, K, L[i].scale, M)
        POOL_DISPATCH(POOL_COLS_CASES, COLS, COLS(sw, KW, POOL_MAX_NAN))
#undef COLS
    }
}

#endif

/* ---------------------------------------------------------------- portable --------- */
/* Its max always propagates NaN (a scalar max costs the same either way): never asks for a redo. */
static int rows_portable(const pool_line *L, int count, int W, int pad_l, int mode) {
    for (int i = 0; i < count; i++)
        for (int w = 0; w < W && L[i].n > 0; w++) {
            float acc = L[i].x[w];
            for (int h = 1; h < L[i].n; h++) acc = comb_scalar(acc, L[i].x[(ptrdiff_t)h * W + w], mode);
            L[i].row[pad_l + w] = acc;
        }
    return 0;
}

static void cols_portable(const pool_line *L, int count, int OW, int sw, int KW, int mode) {
    for (int i = 0; i < count; i++)
        for (int ow = 0; ow < OW && L[i].n > 0; ow++) {
            const float *p = L[i].row + (ptrdiff_t)ow * sw;
            float acc = p[0];
            for (int kw = 1; kw < KW; kw++) acc = comb_scalar(acc, p[kw], mode);
            L[i].o[ow] = L[i].scale ? acc * L[i].scale[ow] : acc;
        }
}

/* ---------------------------------------------------------------- driver ----------- */
/* inv[(r - 1) * ows + ow] = 1 / (r * columns(ow)) for window row counts r = 1..KH, where
   columns(ow) counts the window's cells in the image (exclude) or in the padded extent. */
static void inverse_counts(const pool_job *j, float *inv) {
    const mc_pool_shape *s = j->s;
    for (int ow = 0; ow < j->ows; ow++) {
        int ws = ow * s->stride_w - s->pad_l, we = ws + s->KW;
        int w0 = ws < 0 ? 0 : ws, w1 = we > s->W ? s->W : we;
        int pwe = we < s->W + s->pad_r ? we : s->W + s->pad_r;
        int cols = ow >= s->OW ? 0 : j->exclude ? w1 - w0 : pwe - ws;
        for (int r = 1; r <= s->KH; r++) inv[(size_t)(r - 1) * j->ows + ow] = cols > 0 ? 1.f / (float)(r * cols) : 0.f;
    }
}

static int rows_isa(int isa, const pool_line *L, int count, int W, int pad_l, int mode) {
#ifdef MC_X86
    if (isa == MC_ISA_AVX512) return rows512(L, count, W, pad_l, mode);
    if (isa == MC_ISA_AVX2) return rows256(L, count, W, pad_l, mode);
#endif
    (void)isa;
    return rows_portable(L, count, W, pad_l, mode);
}

static void cols_isa(int isa, const pool_line *L, int count, int OW, int sw, int KW, int mode) {
#ifdef MC_X86
    if (isa == MC_ISA_AVX512) { cols512(L, count, OW, sw, KW, mode); return; }
    if (isa == MC_ISA_AVX2) { cols256(L, count, OW, sw, KW, mode); return; }
#endif
    (void)isa;
    cols_portable(L, count, OW, sw, KW, mode);
}

/* Output rows go in blocks: the column pass reads row buffers written a block earlier, not the
   stores just issued (a load straddling a recent store waits for it). */
#define POOL_BLOCK 16

/* Rows [oh0, oh1) of one channel; bufs holds POOL_BLOCK row buffers. */
static void pool_rows(const pool_job *j, const float *xc, float *oc, int oh0, int oh1, float *bufs,
                      const float *inv) {
    const mc_pool_shape *s = j->s;
    pool_line L[POOL_BLOCK];
    int count = oh1 - oh0;
    for (int i = 0; i < count; i++) {
        int hs = (oh0 + i) * s->stride_h - s->pad_t, he = hs + s->KH;
        int h0 = hs < 0 ? 0 : hs, h1 = he > s->H ? s->H : he;
        int phe = he < s->H + s->pad_b ? he : s->H + s->pad_b;
        pool_line line = {xc + (size_t)h0 * s->W, h1 - h0, bufs + (size_t)i * j->row_len,
                          oc + (size_t)(oh0 + i) * s->OW, NULL};
        if (line.n > 0 && !j->is_max) line.scale = inv + (size_t)((j->exclude ? line.n : phe - hs) - 1) * j->ows;
        L[i] = line;
    }
    int mode = j->is_max ? POOL_MAX : POOL_SUM;
    /* a NaN (or inf - inf) among the cells: redo the block with the NaN-propagating max */
    if (rows_isa(j->isa, L, count, s->W, s->pad_l, mode))
        rows_isa(j->isa, L, count, s->W, s->pad_l, mode = POOL_MAX_NAN);
    cols_isa(j->isa, L, count, s->OW, s->stride_w, s->KW, mode);
    for (int i = 0; i < count; i++) {
        if (L[i].n <= 0) {   /* the window lies in the padding: 0, as for an empty column */
            memset(L[i].o, 0, sizeof(float) * s->OW);
            continue;
        }
        for (int ow = 0; ow < j->c0; ow++) L[i].o[ow] = 0.f;
        for (int ow = j->c1; ow < s->OW; ow++) L[i].o[ow] = 0.f;
    }
}

static void pool_task(void *ctx, int t, int thread) {
    (void)thread;
    const pool_job *j = ctx;
    const mc_pool_shape *s = j->s;
    size_t buf_len = (size_t)POOL_BLOCK * j->row_len;
    float *bufs = mc_scratch(MC_SLOT_MISC, buf_len + (j->is_max ? 0 : (size_t)s->KH * j->ows));
    float *inv = bufs + buf_len;
    float identity = j->is_max ? -INFINITY : 0.f;
    for (size_t i = 0; i < buf_len; i++) bufs[i] = identity;
    if (!j->is_max) inverse_counts(j, inv);
    int c1 = (t + 1) * j->chunk < s->C ? (t + 1) * j->chunk : s->C;
    for (int c = t * j->chunk; c < c1; c++) {
        const float *xc = j->x + (size_t)c * s->H * s->W;
        float *oc = j->out + (size_t)c * s->OH * s->OW;
        for (int oh = 0; oh < s->OH; oh += POOL_BLOCK)
            pool_rows(j, xc, oc, oh, oh + POOL_BLOCK < s->OH ? oh + POOL_BLOCK : s->OH, bufs, inv);
    }
}

static void pool_run(const mc_pool_shape *s, const float *x, float *out, int is_max, int exclude) {
    if (s->C <= 0 || s->OH <= 0 || s->OW <= 0) return;
    int threads = mc_threads_for((double)s->C * s->OH * s->OW * s->KH * s->KW * 4);
    pool_job j = {s, x, out, is_max, exclude, 1, mc_isa(), 0, 0, 0, 0};
    j.ows = (s->OW + 15) / 16 * 16;
    /* the column pass reads up to 32 floats (stride 2) or one gather span past a window start */
    int reach = j.ows * s->stride_w + s->KW + 32;
    /* the AVX2 row pass stores whole vectors: up to 7 floats past the image row */
    j.row_len = s->pad_l + s->W + 8 > reach ? s->pad_l + s->W + 8 : reach;
    j.row_len = (j.row_len + 15) / 16 * 16;
    /* windows [ow*sw - pad_l, +KW) meeting [0, W) */
    j.c0 = s->pad_l >= s->KW ? (s->pad_l - s->KW) / s->stride_w + 1 : 0;
    j.c1 = (s->W + s->pad_l + s->stride_w - 1) / s->stride_w;
    if (j.c1 > s->OW) j.c1 = s->OW;
    if (j.c0 > j.c1) j.c0 = j.c1;
    int ntasks = threads > 1 ? 4 * threads : 1;
    if (ntasks > s->C) ntasks = s->C;
    j.chunk = (s->C + ntasks - 1) / ntasks;
    ntasks = (s->C + j.chunk - 1) / j.chunk;
    mc_parallel(ntasks, threads, pool_task, &j);
}

void mc_max_pool2d(const mc_pool_shape *s, const float *x, float *out) {
    pool_run(s, x, out, 1, 0);
}

void mc_avg_pool2d(const mc_pool_shape *s, const float *x, float *out, int exclude_padding) {
    pool_run(s, x, out, 0, exclude_padding);
}

#ifdef MC_X86
MC_T256 static float global_avx2(const float *xc, int HW, int is_max) {
    __m256 a0 = is_max ? _mm256_set1_ps(-INFINITY) : _mm256_setzero_ps(), a1 = a0;
    int i = 0;
    for (; i + 16 <= HW; i += 16) {
        __m256 v0 = _mm256_loadu_ps(xc + i), v1 = _mm256_loadu_ps(xc + i + 8);
        if (is_max) a0 = mc_max256_nan(a0, v0), a1 = mc_max256_nan(a1, v1);
        else a0 = _mm256_add_ps(a0, v0), a1 = _mm256_add_ps(a1, v1);
    }
    float t[8];
    _mm256_storeu_ps(t, is_max ? mc_max256_nan(a0, a1) : _mm256_add_ps(a0, a1));
    float r = t[0];
    for (int q = 1; q < 8; q++) r = is_max ? mc_max_nan(r, t[q]) : r + t[q];
    for (; i < HW; i++) r = is_max ? mc_max_nan(r, xc[i]) : r + xc[i];
    return r;
}
#endif

void mc_global_pool(int C, int HW, const float *x, float *out, int is_max) {
    int isa = mc_isa();
    (void)isa;
    for (int c = 0; c < C; c++) {
        const float *xc = x + (size_t)c * HW;
        if (HW <= 0) { out[c] = 0.f; continue; }
        float r;
#ifdef MC_X86
        if (isa >= MC_ISA_AVX2) r = global_avx2(xc, HW, is_max);
        else
#endif
        if (is_max) {
            r = -INFINITY;
            for (int i = 0; i < HW; i++) r = mc_max_nan(r, xc[i]);
        } else {
            r = 0.f;
            for (int i = 0; i < HW; i++) r += xc[i];
        }
        out[c] = is_max ? r : r / (float)HW;
    }
}

#ifdef MC_X86
MC_T512 static void softmax_row_avx512(const float *x, float *y, ptrdiff_t n) {
    __m512 vm = _mm512_set1_ps(-FLT_MAX);
    ptrdiff_t i = 0;
    for (; i + 16 <= n; i += 16) vm = _mm512_max_ps(vm, _mm512_loadu_ps(x + i));
    float m = _mm512_reduce_max_ps(vm);
    for (; i < n; i++) m = x[i] > m ? x[i] : m;
    __m512 vs = _mm512_setzero_ps(), mm = _mm512_set1_ps(m);
    for (i = 0; i < n; i += 16) {
        __mmask16 k = mc_mask512((int)(n - i < 16 ? n - i : 16));
        __m512 e = mc_exp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, x + i), mm));
        e = _mm512_maskz_mov_ps(k, e);
        vs = _mm512_add_ps(vs, e);
        _mm512_mask_storeu_ps(y + i, k, e);
    }
    __m512 inv = _mm512_set1_ps(1.f / _mm512_reduce_add_ps(vs));
    for (i = 0; i < n; i += 16) {
        __mmask16 k = mc_mask512((int)(n - i < 16 ? n - i : 16));
        _mm512_mask_storeu_ps(y + i, k, _mm512_mul_ps(_mm512_maskz_loadu_ps(k, y + i), inv));
    }
}

/* AVX2: max, then exp(x - max) stored and summed, then scale; the tail goes through a
   zero-masked lane-vector so every element uses the same vector exp. */
MC_T256 static void softmax_row_avx2(const float *x, float *y, ptrdiff_t n) {
    __m256 vm = _mm256_set1_ps(-FLT_MAX);
    ptrdiff_t i = 0;
    for (; i + 8 <= n; i += 8) vm = _mm256_max_ps(vm, _mm256_loadu_ps(x + i));
    float t[8];
    _mm256_storeu_ps(t, vm);
    float m = t[0];
    for (int q = 1; q < 8; q++) m = t[q] > m ? t[q] : m;
    for (; i < n; i++) m = x[i] > m ? x[i] : m;
    __m256 mm = _mm256_set1_ps(m), vs = _mm256_setzero_ps();
    for (i = 0; i + 8 <= n; i += 8) {
        __m256 e = mc_exp256(_mm256_sub_ps(_mm256_loadu_ps(x + i), mm));
        vs = _mm256_add_ps(vs, e);
        _mm256_storeu_ps(y + i, e);
    }
    int rest = (int)(n - i);
    if (rest) {
        __m256i k = mc_mask256(rest);
        __m256 e = mc_exp256(_mm256_sub_ps(_mm256_maskload_ps(x + i, k), mm));
        e = _mm256_and_ps(e, _mm256_castsi256_ps(k));
        vs = _mm256_add_ps(vs, e);
        _mm256_storeu_ps(t, e);
        memcpy(y + i, t, sizeof(float) * rest);
    }
    _mm256_storeu_ps(t, vs);
    float sum = ((t[0] + t[1]) + (t[2] + t[3])) + ((t[4] + t[5]) + (t[6] + t[7]));
    __m256 inv = _mm256_set1_ps(1.f / sum);
    for (i = 0; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(y + i), inv));
    for (; i < n; i++) y[i] *= 1.f / sum;
}
#endif

static void softmax_row_portable(const float *x, float *y, ptrdiff_t n) {
    float m = -FLT_MAX, sum = 0.f;
    for (ptrdiff_t i = 0; i < n; i++) m = x[i] > m ? x[i] : m;
    for (ptrdiff_t i = 0; i < n; i++) sum += (y[i] = expf(x[i] - m));
    float inv = 1.f / sum;
    for (ptrdiff_t i = 0; i < n; i++) y[i] *= inv;
}

typedef struct { const float *x; float *out; ptrdiff_t n; int isa; } softmax_job;

static void softmax_rows(void *ctx, ptrdiff_t r0, ptrdiff_t r1) {
    const softmax_job *j = ctx;
    ptrdiff_t n = j->n;
    for (ptrdiff_t r = r0; r < r1; r++) {
#ifdef MC_X86
        if (j->isa == MC_ISA_AVX512) { softmax_row_avx512(j->x + r * n, j->out + r * n, n); continue; }
        if (j->isa == MC_ISA_AVX2) { softmax_row_avx2(j->x + r * n, j->out + r * n, n); continue; }
#endif
        softmax_row_portable(j->x + r * n, j->out + r * n, n);
    }
}

/* Rows are independent: split over the threads (an exp is ~16 flops of GEMM time). */
void mc_softmax(const float *x, float *out, ptrdiff_t rows, ptrdiff_t n) {
    softmax_job j = {x, out, n, mc_isa()};
    mc_parallel_for(rows, 16.0 * rows * n, softmax_rows, &j);
}
