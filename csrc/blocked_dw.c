/* Depthwise convolution and pooling on the blocked channel layout NCHW16c: one image is
   [ceil(C/16)][H][W][16] floats, lanes of channels >= C zero (read as zero, written as zero).
   A pixel of a channel block is one 16-lane vector (one zmm, two ymm), so every tap of any
   kernel, stride or dilation is a full-width FMA with no masks or transposes.  Each output row
   splits into border columns (taps outside the image skipped) and interior columns, computed
   DW_NO pixels at a time in registers; rows outside the image only narrow the kh range.  A
   pixel is one cache line when the buffers are 64-byte aligned (plan-memory's arena is).  Tasks
   are (channel block, band of output rows); a pixel's arithmetic never depends on the split,
   so results are identical for any thread count. */
#include "kernels_impl.h"
#include "vecmath.h"

#include <math.h>
#include <string.h>

#define DW_MAX_NO 8
#define DW_MAX_IN ((DW_MAX_NO - 1) * 2 + 5)   /* the preloaded span of the widest specialisation (5x5, stride 2) */

/* The taps [k0, k1) of a window starting at `start` (step dil, k taps) inside [0, n). */
static inline void tap_range(int start, int dil, int k, int n, int *k0, int *k1) {
    if (dil == 1) {   /* no integer division on the common path */
        *k0 = start >= 0 ? 0 : -start;
        *k1 = n - start;
    } else {
        *k0 = start >= 0 ? 0 : (-start + dil - 1) / dil;
        *k1 = n - 1 - start < 0 ? 0 : (n - 1 - start) / dil + 1;
    }
    if (*k1 < 0) *k1 = 0;
    if (*k1 > k) *k1 = k;
    if (*k0 > *k1) *k0 = *k1;
}

/* The group size for an interior of w pixels among sizes a > b > c: the fewest groups times
   (size + 2), the 2 standing for a group's weight loads and call; 0 if w < c. */
static inline int dw_group_size(int w, int a, int b, int c) {
    int best = 0, cost = 0, sizes[3] = {a, b, c};
    for (int i = 0; i < 3; i++) {
        if (w < sizes[i]) continue;
        int k = ((w + sizes[i] - 1) / sizes[i]) * (sizes[i] + 2);
        if (!best || k < cost) best = sizes[i], cost = k;
    }
    return best;
}

/* A pooling window [start, start + k) clipped to the image [0, n) as [*lo, *hi); returns its
   length clipped to the padded extent [start, n + pad_end) instead ("include padding" count). */
static inline int clip_window(int start, int k, int n, int pad_end, int *lo, int *hi) {
    int end = start + k, padded_end = end < n + pad_end ? end : n + pad_end;
    *lo = start < 0 ? 0 : start;
    *hi = end > n ? n : end;
    return padded_end - start;
}

typedef struct {
    const mc_conv_shape *s;
    const float *x;           /* the block's input [H][W][16] */
    const float *w;           /* the block's weights [KH][KW][16] */
    const float *bias;        /* [16], zero past the block's channels */
    const float *res;         /* the row's residual [OW][16] or NULL */
    float *out;               /* the row's output [OW][16] */
    const mc_epilogue *act;   /* NULL: identity */
    int clamp;                /* relu or clip: act is the clamp to [lo, hi] */
    float lo, hi;
    int ih0, kh0, kh1;        /* first input row of kh = 0; the taps inside the image */
    int lanes;                /* channels of this block (16 except in the last) */
} dw_row;

typedef struct {
    const mc_pool_shape *s;
    const float *x;           /* the block's input [H][W][16] */
    float *out;               /* the row's output [OW][16] */
    int h0, h1, ch;           /* window rows in the image; rows of the padded extent */
    int is_max, exclude;
} pool_row;

/* ---------------------------------------------------------------- per-ISA bodies --- */
#ifdef MC_X86
MC_T512 static inline __m512 max_nan512(__m512 m, __m512 v) {
    return _mm512_mask_mov_ps(_mm512_max_ps(m, v), _mm512_cmp_ps_mask(m, m, _CMP_UNORD_Q), m);
}
#define VEC __m512
#define V_LOAD(p) _mm512_loadu_ps(p)
#define V_STORE(p, v) _mm512_storeu_ps(p, v)
#define V_ZERO() _mm512_setzero_ps()
#define V_SET1(f) _mm512_set1_ps(f)
#define V_FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define V_ADD(a, b) _mm512_add_ps(a, b)
#define V_MUL(a, b) _mm512_mul_ps(a, b)
#define V_MIN(a, b) _mm512_min_ps(a, b)
#define V_MAX(a, b) _mm512_max_ps(a, b)
#define V_MAX_NAN(m, v) max_nan512(m, v)
#define V_ACT(v, ep) mc_act512(v, ep)
#define V_KEEP_LANES(v, n) _mm512_maskz_mov_ps(mc_mask512(n), v)
#define ISA_FN(name) name##_avx512
#define ISA_TARGET MC_T512
#define DW_NO 8
#define DW_NO_B 6
#define DW_NO_C 4
#define DW_PRELOAD 1
#include "blocked_dw_isa.h"

/* AVX2: a pixel is two ymm (lanes 0-7, 8-15). */
typedef struct { __m256 lo, hi; } v8x2;
MC_T256 static inline v8x2 ld8x2(const float *p) { return (v8x2){_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8)}; }
MC_T256 static inline void st8x2(float *p, v8x2 v) { _mm256_storeu_ps(p, v.lo), _mm256_storeu_ps(p + 8, v.hi); }
MC_T256 static inline v8x2 set8x2(float f) { return (v8x2){_mm256_set1_ps(f), _mm256_set1_ps(f)}; }
MC_T256 static inline v8x2 fma8x2(v8x2 a, v8x2 b, v8x2 c) {
    return (v8x2){_mm256_fmadd_ps(a.lo, b.lo, c.lo), _mm256_fmadd_ps(a.hi, b.hi, c.hi)};
}
MC_T256 static inline v8x2 add8x2(v8x2 a, v8x2 b) { return (v8x2){_mm256_add_ps(a.lo, b.lo), _mm256_add_ps(a.hi, b.hi)}; }
MC_T256 static inline v8x2 mul8x2(v8x2 a, v8x2 b) { return (v8x2){_mm256_mul_ps(a.lo, b.lo), _mm256_mul_ps(a.hi, b.hi)}; }
MC_T256 static inline v8x2 min8x2(v8x2 a, v8x2 b) { return (v8x2){_mm256_min_ps(a.lo, b.lo), _mm256_min_ps(a.hi, b.hi)}; }
MC_T256 static inline v8x2 max8x2(v8x2 a, v8x2 b) { return (v8x2){_mm256_max_ps(a.lo, b.lo), _mm256_max_ps(a.hi, b.hi)}; }
MC_T256 static inline v8x2 max_nan8x2(v8x2 m, v8x2 v) {
    return (v8x2){mc_max256_nan(m.lo, v.lo), mc_max256_nan(m.hi, v.hi)};
}
MC_T256 static inline v8x2 act8x2(v8x2 v, const mc_epilogue *ep) { return (v8x2){mc_act256(v.lo, ep), mc_act256(v.hi, ep)}; }
MC_T256 static inline v8x2 keep8x2(v8x2 v, int n) {
    return (v8x2){_mm256_and_ps(v.lo, _mm256_castsi256_ps(mc_mask256(n < 8 ? n : 8))),
                  _mm256_and_ps(v.hi, _mm256_castsi256_ps(mc_mask256(n > 8 ? n - 8 : 0)))};
}
#define VEC v8x2
#define V_LOAD(p) ld8x2(p)
#define V_STORE(p, v) st8x2(p, v)
#define V_ZERO() set8x2(0.f)
#define V_SET1(f) set8x2(f)
#define V_FMA(a, b, c) fma8x2(a, b, c)
#define V_ADD(a, b) add8x2(a, b)
#define V_MUL(a, b) mul8x2(a, b)
#define V_MIN(a, b) min8x2(a, b)
#define V_MAX(a, b) max8x2(a, b)
#define V_MAX_NAN(m, v) max_nan8x2(m, v)
#define V_ACT(v, ep) act8x2(v, ep)
#define V_KEEP_LANES(v, n) keep8x2(v, n)
#define ISA_FN(name) name##_avx2
#define ISA_TARGET MC_T256
#define DW_NO 4
#define DW_NO_B 3
#define DW_NO_C 2
#define DW_PRELOAD 0   /* 16 ymm: the accumulators and weights leave no room */
#include "blocked_dw_isa.h"
#endif

/* Portable: 16 floats, lane by lane (the reference the self-check compares against). */
typedef struct { float f[16]; } v16p;
#define LANEWISE(expr) do { for (int l = 0; l < 16; l++) { expr; } } while (0)
static inline v16p ld16p(const float *p) { v16p r; memcpy(r.f, p, sizeof r.f); return r; }
static inline void st16p(float *p, v16p v) { memcpy(p, v.f, sizeof v.f); }
static inline v16p set16p(float f) { v16p r; LANEWISE(r.f[l] = f); return r; }
static inline v16p fma16p(v16p a, v16p b, v16p c) { LANEWISE(c.f[l] += a.f[l] * b.f[l]); return c; }
static inline v16p add16p(v16p a, v16p b) { LANEWISE(a.f[l] += b.f[l]); return a; }
static inline v16p mul16p(v16p a, v16p b) { LANEWISE(a.f[l] *= b.f[l]); return a; }
/* x86 min/max: the second operand when either is NaN (a clamp keeps a NaN datum, see vecmath.h) */
static inline v16p min16p(v16p a, v16p b) { LANEWISE(a.f[l] = a.f[l] < b.f[l] ? a.f[l] : b.f[l]); return a; }
static inline v16p max16p(v16p a, v16p b) { LANEWISE(a.f[l] = a.f[l] > b.f[l] ? a.f[l] : b.f[l]); return a; }
static inline v16p max_nan16p(v16p m, v16p v) { LANEWISE(m.f[l] = mc_max_nan(m.f[l], v.f[l])); return m; }
static inline v16p act16p(v16p v, const mc_epilogue *ep) { LANEWISE(v.f[l] = mc_act_scalar(v.f[l], ep)); return v; }
static inline v16p keep16p(v16p v, int n) { LANEWISE(if (l >= n) v.f[l] = 0.f); return v; }
#define VEC v16p
#define V_LOAD(p) ld16p(p)
#define V_STORE(p, v) st16p(p, v)
#define V_ZERO() set16p(0.f)
#define V_SET1(f) set16p(f)
#define V_FMA(a, b, c) fma16p(a, b, c)
#define V_ADD(a, b) add16p(a, b)
#define V_MUL(a, b) mul16p(a, b)
#define V_MIN(a, b) min16p(a, b)
#define V_MAX(a, b) max16p(a, b)
#define V_MAX_NAN(m, v) max_nan16p(m, v)
#define V_ACT(v, ep) act16p(v, ep)
#define V_KEEP_LANES(v, n) keep16p(v, n)
#define ISA_FN(name) name##_portable
#define ISA_TARGET
#define DW_NO 1
#define DW_NO_B 1
#define DW_NO_C 1
#define DW_PRELOAD 0
#include "blocked_dw_isa.h"

/* ---------------------------------------------------------------- depthwise --------- */
typedef void (*dw_row_fn)(const dw_row *r, int lo, int hi);
typedef void (*pool_row_fn)(const pool_row *r);
typedef void (*global_fn)(const float *x, int HW, float *out, int is_max);

static dw_row_fn dw_row_for(int isa) {
#ifdef MC_X86
    if (isa == MC_ISA_AVX512) return dw_row_run_avx512;
    if (isa == MC_ISA_AVX2) return dw_row_run_avx2;
#endif
    (void)isa;
    return dw_row_run_portable;
}

size_t mc_depthwise_blocked_packed_size(int C, int KH, int KW) {
    return (size_t)((C + 15) / 16) * KH * KW * 16;
}

void mc_pack_depthwise_blocked(const float *w, int C, int KH, int KW, float *packed) {
    int taps = KH * KW;
    memset(packed, 0, sizeof(float) * mc_depthwise_blocked_packed_size(C, KH, KW));
    for (int c = 0; c < C; c++)
        for (int t = 0; t < taps; t++) packed[((size_t)(c / 16) * taps + t) * 16 + c % 16] = w[(size_t)c * taps + t];
}

/* Output rows split into `bands` tasks per channel block. */
typedef struct {
    int bands, rows;
} band_split;

static band_split split_rows(int blocks, int OH, int threads) {
    band_split b = {1, OH};
    if (threads > 1 && blocks < 4 * threads) {
        b.bands = (4 * threads + blocks - 1) / blocks;
        if (b.bands > OH) b.bands = OH;
        b.rows = (OH + b.bands - 1) / b.bands;
        b.bands = (OH + b.rows - 1) / b.rows;
    }
    return b;
}

/* Stride-1 output rows narrower than this run on a zero-padded copy of the block's input:
   every pixel is then interior (whole groups in registers, no border pixels, no kh clipping).
   Measured (interleaved, AVX-512): 0.87x the time on 960x7x7, but 1.04-1.16x on 14 and 28
   wide maps and 1.6-2x at stride 2, where the copy outweighs the few outputs.  The choice
   depends on the shape only, so every ISA and thread count takes the same path. */
#define DW_PAD_MAX_OW 8

typedef struct {
    const mc_conv_shape *s;
    const float *x, *w;
    float *out;
    const mc_epilogue *ep;
    dw_row_fn row;
    band_split split;
    int lo, hi;               /* interior output columns */
    mc_conv_shape padded;     /* the geometry on the padded copy (H, W padded, pads 0), or C == 0 */
} dw_job;

/* The block's input into P [PH][PW][16] with zero borders. */
static const float *pad_block(const mc_conv_shape *s, const mc_conv_shape *p, const float *x, float *P) {
    size_t row = (size_t)s->W * 16;
    memset(P, 0, sizeof(float) * p->H * p->W * 16);
    for (int h = 0; h < s->H; h++)
        memcpy(P + ((size_t)(h + s->pad_t) * p->W + s->pad_l) * 16, x + h * row, sizeof(float) * row);
    return P;
}

static void dw_task(void *ctx, int t, int thread) {
    (void)thread;
    const dw_job *j = ctx;
    const mc_conv_shape *s = j->padded.C ? &j->padded : j->s;
    int cb = t / j->split.bands, oh0 = (t % j->split.bands) * j->split.rows;
    int oh1 = oh0 + j->split.rows < s->OH ? oh0 + j->split.rows : s->OH;
    const mc_epilogue *ep = j->ep;
    float bias[16] = {0};
    int lanes = s->C - cb * 16 < 16 ? s->C - cb * 16 : 16;
    if (ep && ep->bias) memcpy(bias, ep->bias + cb * 16, sizeof(float) * lanes);
    size_t out_plane = (size_t)s->OH * s->OW * 16;
    const float *x = j->x + (size_t)cb * j->s->H * j->s->W * 16;
    if (j->padded.C) x = pad_block(j->s, s, x, mc_scratch(MC_SLOT_PAD, (size_t)s->H * s->W * 16));
    int act = ep ? ep->act : MC_ACT_NONE;
    dw_row r = {s, x, j->w + (size_t)cb * s->KH * s->KW * 16, bias, NULL,
                NULL, act != MC_ACT_NONE ? ep : NULL, act == MC_ACT_RELU || act == MC_ACT_CLIP,
                act == MC_ACT_CLIP ? ep->alpha : 0.f, act == MC_ACT_CLIP ? ep->beta : INFINITY, 0, 0, 0, lanes};
    for (int oh = oh0; oh < oh1; oh++) {
        size_t at = cb * out_plane + (size_t)oh * s->OW * 16;
        r.res = ep && ep->residual ? ep->residual + at : NULL;
        r.out = j->out + at;
        r.ih0 = oh * s->stride_h - s->pad_t;
        tap_range(r.ih0, s->dil_h, s->KH, s->H, &r.kh0, &r.kh1);
        j->row(&r, j->lo, j->hi);
    }
}

void mc_depthwise_blocked(const mc_conv_shape *s, const float *x, const float *packed, float *out,
                          const mc_epilogue *ep) {
    if (s->C <= 0 || s->OH <= 0 || s->OW <= 0) return;
    int blocks = (s->C + 15) / 16;
    int threads = mc_threads_for(2.0 * s->KH * s->KW * (double)s->OH * s->OW * blocks * 16);
    dw_job j = {s, x, packed, out, ep, dw_row_for(mc_isa()), split_rows(blocks, s->OH, threads), 0, 0, {0}};
    const mc_conv_shape *g = s;
    if (s->OW < DW_PAD_MAX_OW && s->stride_w == 1 && (s->pad_t | s->pad_b | s->pad_l | s->pad_r)) {
        j.padded = *s;
        j.padded.H += s->pad_t + s->pad_b, j.padded.W += s->pad_l + s->pad_r;
        j.padded.pad_t = j.padded.pad_b = j.padded.pad_l = j.padded.pad_r = 0;
        g = &j.padded;
    }
    /* interior: ow * sw - pad_l >= 0 and ow * sw - pad_l + (KW - 1) * dil_w <= W - 1 */
    int last = g->W - 1 - (g->KW - 1) * g->dil_w + g->pad_l;
    j.lo = (g->pad_l + g->stride_w - 1) / g->stride_w;
    j.hi = last < 0 ? 0 : last / g->stride_w + 1;
    if (j.lo > g->OW) j.lo = g->OW;
    if (j.hi > g->OW) j.hi = g->OW;
    if (j.hi < j.lo) j.hi = j.lo;
    mc_parallel(blocks * j.split.bands, threads, dw_task, &j);
}

/* ---------------------------------------------------------------- pooling ----------- */
typedef struct {
    const mc_pool_shape *s;
    const float *x;
    float *out;
    pool_row_fn row;
    band_split split;
    int is_max, exclude;
} pool_job;

static void pool_task(void *ctx, int t, int thread) {
    (void)thread;
    const pool_job *j = ctx;
    const mc_pool_shape *s = j->s;
    int cb = t / j->split.bands, oh0 = (t % j->split.bands) * j->split.rows;
    int oh1 = oh0 + j->split.rows < s->OH ? oh0 + j->split.rows : s->OH;
    pool_row r = {s, j->x + (size_t)cb * s->H * s->W * 16, NULL, 0, 0, 0, j->is_max, j->exclude};
    for (int oh = oh0; oh < oh1; oh++) {
        r.out = j->out + ((size_t)cb * s->OH + oh) * s->OW * 16;
        r.ch = clip_window(oh * s->stride_h - s->pad_t, s->KH, s->H, s->pad_b, &r.h0, &r.h1);
        j->row(&r);
    }
}

void mc_pool2d_blocked(const mc_pool_shape *s, const float *x, float *out, int is_max, int exclude_padding) {
    if (s->C <= 0 || s->OH <= 0 || s->OW <= 0) return;
    int blocks = (s->C + 15) / 16, isa = mc_isa();
    int threads = mc_threads_for((double)blocks * 16 * s->OH * s->OW * s->KH * s->KW * 4);
    pool_job j = {s, x, out, pool_row_run_portable, split_rows(blocks, s->OH, threads), is_max, exclude_padding};
#ifdef MC_X86
    if (isa == MC_ISA_AVX512) j.row = pool_row_run_avx512;
    if (isa == MC_ISA_AVX2) j.row = pool_row_run_avx2;
#endif
    (void)isa;
    mc_parallel(blocks * j.split.bands, threads, pool_task, &j);
}

typedef struct {
    const float *x;
    float *out;
    global_fn block;
    int HW, is_max;
} global_job;

static void global_task(void *ctx, int t, int thread) {
    (void)thread;
    const global_job *j = ctx;
    j->block(j->x + (size_t)t * j->HW * 16, j->HW, j->out + (size_t)t * 16, j->is_max);
}

void mc_global_pool_blocked(int C, int HW, const float *x, float *out, int is_max) {
    int blocks = (C + 15) / 16, isa = mc_isa();
    global_job j = {x, out, global_block_portable, HW, is_max};
#ifdef MC_X86
    if (isa == MC_ISA_AVX512) j.block = global_block_avx512;
    if (isa == MC_ISA_AVX2) j.block = global_block_avx2;
#endif
    (void)isa;
    mc_parallel(blocks, mc_threads_for((double)blocks * 16 * HW), global_task, &j);
}
