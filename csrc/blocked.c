/* The blocked channel layout NCHW16c (ir/dialects/core/blocked.py): reorders and the dense
   blocked convolution.

   One image [C, H, W] is stored as [CB = ceil(C/16)][H][W][16]: channel c in block c/16, lane
   c%16, lanes of channels >= C zero (inputs are read as zeros there, outputs written as zeros).

   Dense convolution (groups 1).  Weights are packed per output block as 16-lane panels,
   [ceil(Cout/16)][CB][KH][KW][16 input lanes][16 output lanes] (zero past C and Cout), fp16
   or fp32.  A tile is 16 output channels x NR consecutive output pixels of one row: per
   tap and input lane, one weight vector (the 16 output channels) times NR broadcast input
   values, read at pixel stride 16 * stride_w floats straight from the blocked input (no
   im2col, no packing of B), and the 16 x NR accumulators are stored as they are: the 16
   lanes of a pixel ARE the output layout (no transpose).  Padding taps are skipped: a tap
   whose input column falls outside for some of the tile's pixels only updates the others.
   Tiles: AVX-512 16 x 12 (one zmm per pixel), AVX2 16 x 6 (two ymm per pixel), portable
   scalar loops.  Tasks (output block, band of rows) go to mc_parallel; every output's
   K order is fixed, so results are identical for any thread count. */
#include "kernels_impl.h"
#include "vecmath.h"

#include <string.h>

#define BL 16          /* block width (lanes) */
#define NR512 12
#define NR256 6

static int cdiv(int a, int b) { return (a + b - 1) / b; }

void mc_to_blocked(const float *x, int C, int H, int W, float *out) {
    size_t hw = (size_t)H * W;
    for (int cb = 0; cb < cdiv(C, BL); cb++) {
        float *o = out + (size_t)cb * hw * BL;
        int lanes = C - cb * BL < BL ? C - cb * BL : BL;
        if (lanes < BL) memset(o, 0, sizeof(float) * hw * BL);
        for (int l = 0; l < lanes; l++) {
            const float *src = x + (size_t)(cb * BL + l) * hw;
            for (size_t p = 0; p < hw; p++) o[p * BL + l] = src[p];
        }
    }
}

void mc_from_blocked(const float *x, int C, int H, int W, float *out) {
    size_t hw = (size_t)H * W;
    for (int c = 0; c < C; c++) {
        const float *src = x + (size_t)(c / BL) * hw * BL + c % BL;
        float *o = out + (size_t)c * hw;
        for (size_t p = 0; p < hw; p++) o[p] = src[p * BL];
    }
}

/* ---------------------------------------------------------------- weights ---------- */

size_t mc_conv_blocked_packed_size(int Cout, int C, int KH, int KW) {
    return (size_t)cdiv(Cout, BL) * cdiv(C, BL) * KH * KW * BL * BL;
}

/* Element index in the packed panels of weight [co][ci][kh][kw]. */
static size_t packed_at(int C, int KH, int KW, int co, int ci, int kh, int kw) {
    size_t panel = (size_t)(co / BL) * cdiv(C, BL);
    return ((((panel + ci / BL) * KH + kh) * KW + kw) * BL + ci % BL) * BL + co % BL;
}

void mc_pack_conv_blocked_f32(const float *w, int Cout, int C, int KH, int KW, float *packed) {
    memset(packed, 0, sizeof(float) * mc_conv_blocked_packed_size(Cout, C, KH, KW));
    for (int co = 0; co < Cout; co++)
        for (int ci = 0; ci < C; ci++)
            for (int kh = 0; kh < KH; kh++)
                for (int kw = 0; kw < KW; kw++)
                    packed[packed_at(C, KH, KW, co, ci, kh, kw)] = w[(((size_t)co * C + ci) * KH + kh) * KW + kw];
}

void mc_pack_conv_blocked_f16(const float *w, int Cout, int C, int KH, int KW, uint16_t *packed) {
    size_t n = mc_conv_blocked_packed_size(Cout, C, KH, KW);
    memset(packed, 0, sizeof(uint16_t) * n);
    for (int co = 0; co < Cout; co++)
        for (int ci = 0; ci < C; ci++)
            for (int kh = 0; kh < KH; kh++)
                for (int kw = 0; kw < KW; kw++)
                    mc_float_to_half_portable(w + (((size_t)co * C + ci) * KH + kh) * KW + kw,
                                              packed + packed_at(C, KH, KW, co, ci, kh, kw), 1);
}

/* ---------------------------------------------------------------- driver ----------- */

typedef struct {
    const mc_conv_shape *s;
    const float *x;
    const void *w;
    int w32;
    float *out;
    const mc_epilogue *ep;
    int cib, cob, band;       /* input / output blocks, rows per task */
    size_t panel;             /* floats of one output block's weights */
} bconv_job;

/* The tile's view of one output row: which taps of which rows are inside the image. */
typedef struct {
    const bconv_job *j;
    const float *A;           /* fp32 panel of the output block */
    const float *bias;        /* 16 lanes (zero past Cout) */
    int oh, ob, tail;         /* tail: valid lanes of this output block (16 except the last) */
} brow;

/* Columns [jlo, jhi) of the tile at ow0 (NR wide) whose input column for tap kw is inside. */
static void tap_columns(const mc_conv_shape *s, int ow0, int nr, int kw, int *jlo, int *jhi) {
    int off = kw * s->dil_w - s->pad_l;           /* input column of ow = off + ow * stride */
    int lo = 0, hi = nr;
    while (lo < nr && off + (ow0 + lo) * s->stride_w < 0) lo++;
    while (hi > lo && off + (ow0 + hi - 1) * s->stride_w >= s->W) hi--;
    *jlo = lo, *jhi = hi;
}

/* Width of tile t of `tiles` balanced tiles over n pixels (no 1-wide leftover tile: 49 pixels
   are 10+10+10+10+9, not 4*12+1). */
static int tile_width(int n, int tiles, int t) {
    return n / tiles + (t < n % tiles);
}

/* Input lanes of block ib that hold channels: the zero tail lanes are skipped (a 3-channel
   stem reads 3 of 16). */
static int lanes_in(const mc_conv_shape *s, int ib) {
    return s->C - ib * BL < BL ? s->C - ib * BL : BL;
}

static int row_inside(const mc_conv_shape *s, int oh, int kh) {
    int ih = oh * s->stride_h - s->pad_t + kh * s->dil_h;
    return ih >= 0 && ih < s->H;
}

/* Pointer to input [ib][ih][iw][0] for output pixel (oh, ow) and tap (kh, kw), iw possibly outside. */
static const float *tap_input(const brow *r, int ib, int kh, int kw, int ow) {
    const mc_conv_shape *s = r->j->s;
    ptrdiff_t ih = (ptrdiff_t)r->oh * s->stride_h - s->pad_t + kh * s->dil_h;
    ptrdiff_t iw = (ptrdiff_t)ow * s->stride_w - s->pad_l + kw * s->dil_w;
    return r->j->x + (((ptrdiff_t)ib * s->H + ih) * s->W + iw) * BL;
}

static void portable_tile(const brow *r, int ow0, int nr, float *o) {
    const mc_conv_shape *s = r->j->s;
    float acc[NR512][BL];
    memset(acc, 0, sizeof acc);
    for (int ib = 0; ib < r->j->cib; ib++)
        for (int kh = 0, cl = lanes_in(s, ib); kh < s->KH; kh++) {
            if (!row_inside(s, r->oh, kh)) continue;
            for (int kw = 0; kw < s->KW; kw++) {
                int jlo, jhi;
                tap_columns(s, ow0, nr, kw, &jlo, &jhi);
                const float *a = r->A + (((size_t)ib * s->KH + kh) * s->KW + kw) * BL * BL;
                for (int jj = jlo; jj < jhi; jj++) {
                    const float *b = tap_input(r, ib, kh, kw, ow0 + jj);
                    for (int ci = 0; ci < cl; ci++)
                        for (int l = 0; l < BL; l++) acc[jj][l] += a[ci * BL + l] * b[ci];
                }
            }
        }
    const mc_epilogue *ep = r->j->ep;
    for (int jj = 0; jj < nr; jj++)
        for (int l = 0; l < BL; l++) {
            float v = acc[jj][l] + r->bias[l];
            if (ep->residual) v += ep->residual[o - r->j->out + jj * BL + l];
            o[jj * BL + l] = l < r->tail ? mc_act_scalar(v, ep) : 0.f;
        }
}

#ifdef MC_X86
/* 16 x NR tile, NR and the pixel step SW (input floats between neighbouring output pixels / 16;
   0: s->stride_w at run time) constants after inlining.  A tap whose columns are all inside
   takes the unchecked loop; a border tap updates columns [jlo, jhi) only. */
MC_T512 static inline __attribute__((always_inline)) void
tile512(const brow *r, int ow0, float *o, const int NR, const int SW) {
    const mc_conv_shape *s = r->j->s;
    const ptrdiff_t step = (ptrdiff_t)(SW ? SW : s->stride_w) * BL;
    __m512 c[NR512];
#pragma GCC unroll 12
    for (int jj = 0; jj < NR; jj++) c[jj] = _mm512_setzero_ps();
    for (int ib = 0; ib < r->j->cib; ib++)
        for (int kh = 0, cl = lanes_in(s, ib); kh < s->KH; kh++) {
            if (!row_inside(s, r->oh, kh)) continue;
            for (int kw = 0; kw < s->KW; kw++) {
                int jlo, jhi;
                tap_columns(s, ow0, NR, kw, &jlo, &jhi);
                const float *a = r->A + (((size_t)ib * s->KH + kh) * s->KW + kw) * BL * BL;
                const float *b = tap_input(r, ib, kh, kw, ow0);
                if (jlo == 0 && jhi == NR) {
#pragma GCC unroll 2
                    for (int ci = 0; ci < cl; ci++) {
                        __m512 av = _mm512_loadu_ps(a + ci * BL);
#pragma GCC unroll 12
                        for (int jj = 0; jj < NR; jj++)
                            c[jj] = _mm512_fmadd_ps(av, _mm512_set1_ps(b[jj * step + ci]), c[jj]);
                    }
                } else {
                    for (int ci = 0; ci < cl; ci++) {
                        __m512 av = _mm512_loadu_ps(a + ci * BL);
#pragma GCC unroll 12
                        for (int jj = 0; jj < NR; jj++)
                            if (jj >= jlo && jj < jhi)
                                c[jj] = _mm512_fmadd_ps(av, _mm512_set1_ps(b[jj * step + ci]), c[jj]);
                    }
                }
            }
        }
    const mc_epilogue *ep = r->j->ep;
    const __m512 bias = _mm512_loadu_ps(r->bias);
    const __mmask16 keep = mc_mask512(r->tail);
    const float *res = ep->residual ? ep->residual + (o - r->j->out) : NULL;
#pragma GCC unroll 12
    for (int jj = 0; jj < NR; jj++) {
        __m512 v = _mm512_add_ps(c[jj], bias);
        if (res) v = _mm512_add_ps(v, _mm512_loadu_ps(res + jj * BL));
        if (ep->act != MC_ACT_NONE) v = mc_act512(v, ep);
        _mm512_storeu_ps(o + jj * BL, _mm512_maskz_mov_ps(keep, v));
    }
}

/* The output row in tiles of at most NR pixels, through `tile` with the stride a constant
   (1, 2, or 0 for any other): inlined, so the calls are direct and the stride specialises. */
typedef void tile_sw_fn(const brow *r, int ow0, int nr, float *o, const int SW);
static inline __attribute__((always_inline)) void row_tiles(const brow *r, float *o, int NR, tile_sw_fn *tile) {
    const mc_conv_shape *s = r->j->s;
    int tiles = cdiv(s->OW, NR);
    for (int t0 = 0, ow0 = 0; t0 < tiles; t0++) {
        int nr = tile_width(s->OW, tiles, t0);
        float *t = o + (size_t)ow0 * BL;
        if (s->stride_w == 1) tile(r, ow0, nr, t, 1);
        else if (s->stride_w == 2) tile(r, ow0, nr, t, 2);
        else tile(r, ow0, nr, t, 0);
        ow0 += nr;
    }
}

#define NARROW_CASES(CALL) \
    case 1: CALL(1); break; case 2: CALL(2); break; case 3: CALL(3); break; \
    case 4: CALL(4); break; case 5: CALL(5); break;

MC_T512 static void tile512_sw(const brow *r, int ow0, int nr, float *o, const int SW) {
#define CALL(n) tile512(r, ow0, o, n, SW)
    switch (nr) {
    NARROW_CASES(CALL)
    case 6: CALL(6); break; case 7: CALL(7); break; case 8: CALL(8); break;
    case 9: CALL(9); break; case 10: CALL(10); break; case 11: CALL(11); break;
    default: CALL(NR512);
    }
#undef CALL
}

MC_T512 static void row512(const brow *r, float *o) { row_tiles(r, o, NR512, tile512_sw); }

/* AVX2: the 16 output lanes are two ymm, 6 pixels: 12 accumulators. */
MC_T256 static inline __attribute__((always_inline)) void
tile256(const brow *r, int ow0, float *o, const int NR, const int SW) {
    const mc_conv_shape *s = r->j->s;
    const ptrdiff_t step = (ptrdiff_t)(SW ? SW : s->stride_w) * BL;
    __m256 c[NR256][2];
#pragma GCC unroll 6
    for (int jj = 0; jj < NR; jj++) c[jj][0] = c[jj][1] = _mm256_setzero_ps();
    for (int ib = 0; ib < r->j->cib; ib++)
        for (int kh = 0, cl = lanes_in(s, ib); kh < s->KH; kh++) {
            if (!row_inside(s, r->oh, kh)) continue;
            for (int kw = 0; kw < s->KW; kw++) {
                int jlo, jhi;
                tap_columns(s, ow0, NR, kw, &jlo, &jhi);
                const float *a = r->A + (((size_t)ib * s->KH + kh) * s->KW + kw) * BL * BL;
                const float *b = tap_input(r, ib, kh, kw, ow0);
                int full = jlo == 0 && jhi == NR;
#pragma GCC unroll 2
                for (int ci = 0; ci < cl; ci++) {
                    __m256 a0 = _mm256_loadu_ps(a + ci * BL), a1 = _mm256_loadu_ps(a + ci * BL + 8);
#pragma GCC unroll 6
                    for (int jj = 0; jj < NR; jj++) {
                        if (!full && (jj < jlo || jj >= jhi)) continue;
                        __m256 bv = _mm256_broadcast_ss(b + jj * step + ci);
                        c[jj][0] = _mm256_fmadd_ps(a0, bv, c[jj][0]);
                        c[jj][1] = _mm256_fmadd_ps(a1, bv, c[jj][1]);
                    }
                }
            }
        }
    const mc_epilogue *ep = r->j->ep;
    const float *res = ep->residual ? ep->residual + (o - r->j->out) : NULL;
    __m256 keep[2] = {_mm256_castsi256_ps(mc_mask256(r->tail < 8 ? r->tail : 8)),
                      _mm256_castsi256_ps(mc_mask256(r->tail > 8 ? r->tail - 8 : 0))};
#pragma GCC unroll 6
    for (int jj = 0; jj < NR; jj++)
        for (int h = 0; h < 2; h++) {
            __m256 v = _mm256_add_ps(c[jj][h], _mm256_loadu_ps(r->bias + 8 * h));
            if (res) v = _mm256_add_ps(v, _mm256_loadu_ps(res + jj * BL + 8 * h));
            if (ep->act != MC_ACT_NONE) v = mc_act256(v, ep);
            _mm256_storeu_ps(o + jj * BL + 8 * h, _mm256_and_ps(v, keep[h]));
        }
}

MC_T256 static void tile256_sw(const brow *r, int ow0, int nr, float *o, const int SW) {
#define CALL(n) tile256(r, ow0, o, n, SW)
    switch (nr) { NARROW_CASES(CALL) default: CALL(NR256); }
#undef CALL
}

MC_T256 static void row256(const brow *r, float *o) { row_tiles(r, o, NR256, tile256_sw); }
#endif

static void portable_row(const brow *r, float *o) {
    const mc_conv_shape *s = r->j->s;
    for (int ow0 = 0; ow0 < s->OW; ow0 += NR512)
        portable_tile(r, ow0, s->OW - ow0 < NR512 ? s->OW - ow0 : NR512, o + (size_t)ow0 * BL);
}

/* One task: output block ob, rows [band * t, band * (t + 1)). */
static void bconv_task(void *ctx, int task, int thread) {
    (void)thread;
    const bconv_job *j = ctx;
    const mc_conv_shape *s = j->s;
    int bands = cdiv(s->OH, j->band);
    int ob = task / bands, oh0 = task % bands * j->band;
    int oh1 = oh0 + j->band < s->OH ? oh0 + j->band : s->OH;
    const float *A;
    if (j->w32) {
        A = (const float *)j->w + ob * j->panel;
    } else {
        float *buf = mc_scratch(MC_SLOT_A, j->panel);
        const uint16_t *h = (const uint16_t *)j->w + ob * j->panel;
        if (mc_isa() == MC_ISA_PORTABLE) mc_half_to_float_portable(h, buf, j->panel);
        else mc_half_to_float(h, buf, j->panel);
        A = buf;
    }
    float bias[BL] = {0};
    int tail = s->Cout - ob * BL < BL ? s->Cout - ob * BL : BL;
    if (j->ep->bias)
        for (int l = 0; l < tail; l++) bias[l] = j->ep->bias[ob * BL + l];
    int isa = mc_isa();
    for (int oh = oh0; oh < oh1; oh++) {
        brow r = {j, A, bias, oh, ob, tail};
        float *o = j->out + (((size_t)ob * s->OH + oh) * s->OW) * BL;
#ifdef MC_X86
        if (isa == MC_ISA_AVX512) { row512(&r, o); continue; }
        if (isa == MC_ISA_AVX2) { row256(&r, o); continue; }
#endif
        (void)isa;
        portable_row(&r, o);
    }
}

static void conv_blocked(const mc_conv_shape *s, const float *x, const void *w, int w32, float *out,
                         const mc_epilogue *ep) {
    mc_epilogue none = {NULL, NULL, 0, MC_ACT_NONE, 0.f, 0.f};
    /* a 1x1, stride 1, unpadded conv maps pixel p to pixel p: one row of H * W pixels, so
       small maps (7x7) still fill whole tiles */
    mc_conv_shape flat = *s;
    if (s->KH == 1 && s->KW == 1 && s->stride_h == 1 && s->stride_w == 1 &&
        !(s->pad_t | s->pad_b | s->pad_l | s->pad_r)) {
        flat.W = flat.OW = s->H * s->W;
        flat.H = flat.OH = 1;
        s = &flat;
    }
    bconv_job j = {s, x, w, w32, out, ep ? ep : &none, cdiv(s->C, BL), cdiv(s->Cout, BL), s->OH, 0};
    j.panel = (size_t)j.cib * s->KH * s->KW * BL * BL;
    int threads = mc_threads_for(2.0 * s->Cout * s->C * s->KH * s->KW * (double)s->OH * s->OW);
    /* about four tasks per thread; a task keeps one output block's panel hot over its rows */
    int per_block = cdiv(4 * threads, j.cob);
    j.band = cdiv(s->OH, per_block < s->OH ? per_block : s->OH);
    mc_parallel(j.cob * cdiv(s->OH, j.band), threads, bconv_task, &j);
}

void mc_conv2d_blocked(const mc_conv_shape *s, const float *x, const uint16_t *packed, float *out,
                       const mc_epilogue *ep) {
    conv_blocked(s, x, packed, 0, out, ep);
}

void mc_conv2d_blocked_w32(const mc_conv_shape *s, const float *x, const float *packed, float *out,
                           const mc_epilogue *ep) {
    conv_blocked(s, x, packed, 1, out, ep);
}
