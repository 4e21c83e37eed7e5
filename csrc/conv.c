/* Convolution on NCHW, one image at a time.
   General/grouped/padded: implicit im2col.  On AVX2 the input is zero-padded once per
   call and the GEMM asks for row-major K-block x N-block slices of the im2col matrix (row
   k = (c, kh, kw), column n = (oh, ow)), each row written across the whole column block as
   whole output rows (memcpy, or a de-interleaving copy for stride 2); elsewhere the panel
   packer below.  1x1 stride 1 without padding is the GEMM on the input itself; strided 1x1
   without padding the GEMM on the subsampled input, copied once.
   Depthwise: AVX2 uses a channel-blocked kernel (8 channels interleaved) for small maps and
   any stride; wide stride-1 rows, and the other ISAs, use the planar kernel that splits the
   padded input into `stride_w` column phases.
   Transposed: GEMM into columns, then col2im (see the end of the file). */
#include "kernels_impl.h"
#include "vecmath.h"

#include <stdlib.h>
#include <string.h>

/* The public fp16-panel entry point `name` and its fp32-panel twin `name##_w32`, both on the
   one implementation `impl` taking mc_panels. */
#define MC_PANEL_ENTRIES(name, impl)                                                          \
    void name(const mc_conv_shape *s, const float *x, const uint16_t *w, float *out,          \
              const mc_epilogue *ep) {                                                        \
        impl(s, x, (mc_panels){w, 0}, out, ep);                                               \
    }                                                                                         \
    void name##_w32(const mc_conv_shape *s, const float *x, const float *w, float *out,       \
                    const mc_epilogue *ep) {                                                  \
        impl(s, x, (mc_panels){w, 1}, out, ep);                                               \
    }

int mc_conv_out_shape(mc_conv_shape *s) {
    if (s->groups <= 0 || s->C % s->groups || s->Cout % s->groups || s->stride_h <= 0 ||
        s->stride_w <= 0 || s->dil_h <= 0 || s->dil_w <= 0 || s->KH <= 0 || s->KW <= 0)
        return -1;
    int eh = (s->KH - 1) * s->dil_h + 1, ew = (s->KW - 1) * s->dil_w + 1;
    int ph = s->H + s->pad_t + s->pad_b, pw = s->W + s->pad_l + s->pad_r;
    if (ph < eh || pw < ew) return -1;
    s->OH = (ph - eh) / s->stride_h + 1;
    s->OW = (pw - ew) / s->stride_w + 1;
    return 0;
}

typedef struct { const mc_conv_shape *s; const float *x; } im2col_b;

#ifndef DIRECT_MAX_WASTE
#define DIRECT_MAX_WASTE 8   /* at most 1/8 of the computed columns dropped */
#endif

static void pack_im2col(const void *ctx, int k0, int kc, int n0, int nc, int nr, float *dst) {
    const im2col_b *b = ctx;
    const mc_conv_shape *s = b->s;
    int KHW = s->KH * s->KW;
    for (int jr = 0; jr < nc; jr += nr) {
        int w = nc - jr < nr ? nc - jr : nr;
        int nstart = n0 + jr;
        for (int k = k0; k < k0 + kc; k++, dst += nr) {
            int c = k / KHW, kh = (k % KHW) / s->KW, kw = k % s->KW;
            const float *plane = b->x + (size_t)c * s->H * s->W;
            int dh = kh * s->dil_h - s->pad_t, dw = kw * s->dil_w - s->pad_l;
            /* valid ow range: 0 <= ow*sw + dw < W */
            int ow_lo = dw >= 0 ? 0 : (-dw + s->stride_w - 1) / s->stride_w;
            int ow_hi = s->W - dw <= 0 ? 0 : (s->W - dw - 1) / s->stride_w + 1;
            if (ow_hi > s->OW) ow_hi = s->OW;
            int j = 0, oh = nstart / s->OW, ow = nstart % s->OW;
            while (j < w) {
                int seg = s->OW - ow < w - j ? s->OW - ow : w - j;
                int ih = oh * s->stride_h + dh;
                float *d = dst + j;
                if (ih < 0 || ih >= s->H || ow_lo >= ow_hi) {
                    memset(d, 0, sizeof(float) * seg);
                } else {
                    const float *row = plane + (size_t)ih * s->W;
                    int end = ow + seg;
                    int a = ow_lo < ow ? ow : ow_lo > end ? end : ow_lo;
                    int e = ow_hi < a ? a : ow_hi > end ? end : ow_hi;
                    if (a > ow) memset(d, 0, sizeof(float) * (a - ow));
                    if (s->stride_w == 1) {
                        if (e > a) memcpy(d + (a - ow), row + a + dw, sizeof(float) * (e - a));
                    } else {
                        for (int q = a; q < e; q++) d[q - ow] = row[q * s->stride_w + dw];
                    }
                    if (ow + seg > e) memset(d + (e - ow), 0, sizeof(float) * (ow + seg - e));
                }
                j += seg;
                ow = 0;
                oh++;
            }
            if (w < nr) memset(dst + w, 0, sizeof(float) * (nr - w));
        }
    }
}

/* Row-major im2col block for the M-vectorised GEMM: each row k = (c, kh, kw) is written
   across the whole column block, one output row (OW contiguous or stride_w-strided source
   values) at a time.  The source is the zero-padded copy of the input, so no clipping. */
typedef struct {
    const mc_conv_shape *s;
    const float *x;    /* [Cg][PH][PW], padding already applied */
    int PH, PW;
} im2col_rows;

#ifdef MC_X86
MC_T256 static void copy_stride2_avx2(float *d, const float *src, int n) {
    int q = 0;
    for (; q + 8 < n; q += 8) {
        __m256 lo = _mm256_loadu_ps(src + 2 * q), hi = _mm256_loadu_ps(src + 2 * q + 8);
        __m256 e = _mm256_shuffle_ps(lo, hi, 0x88);
        _mm256_storeu_ps(d + q, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), 0xD8)));
    }
    for (; q < n; q++) d[q] = src[2 * q];
}
#endif

static const float *rows_im2col(const void *ctx, int k0, int kc, int n0, int nc, float *buf,
                                ptrdiff_t *ldb) {
    const im2col_rows *r = ctx;
    const mc_conv_shape *s = r->s;
    int KHW = s->KH * s->KW, OW = s->OW, sw = s->stride_w;
    int oh0 = n0 / OW, ow0 = n0 % OW;
#ifdef MC_X86
    int avx2 = mc_isa() >= MC_ISA_AVX2;
#endif
    *ldb = nc;
    for (int k = k0; k < k0 + kc; k++) {
        int c = k / KHW, kh = (k % KHW) / s->KW, kw = k % s->KW;
        const float *base = r->x + ((size_t)c * r->PH + (size_t)kh * s->dil_h) * r->PW + (size_t)kw * s->dil_w;
        float *d = buf + (size_t)(k - k0) * nc;
        int j = 0, oh = oh0, ow = ow0;
        while (j < nc) {
            int seg = OW - ow < nc - j ? OW - ow : nc - j;
            const float *src = base + (size_t)oh * s->stride_h * r->PW + (size_t)ow * sw;
            if (sw == 1) {
                memcpy(d + j, src, sizeof(float) * seg);
            }
#ifdef MC_X86
            else if (sw == 2 && avx2) {
                copy_stride2_avx2(d + j, src, seg);
            }
#endif
            else {
                for (int q = 0; q < seg; q++) d[j + q] = src[q * sw];
            }
            j += seg;
            ow = 0;
            oh++;
        }
    }
    return buf;
}

typedef struct { im2col_b b; im2col_rows r; } im2col_both;

static const float *rows_im2col_both(const void *ctx, int k0, int kc, int n0, int nc, float *buf,
                                     ptrdiff_t *ldb) {
    return rows_im2col(&((const im2col_both *)ctx)->r, k0, kc, n0, nc, buf, ldb);
}

/* x [C][H][W] -> zero-padded [C][PH][PW], channels split over the threads. */
typedef struct { const mc_conv_shape *s; const float *x; float *dst; int PH, PW; } pad_job;

static void pad_channels(void *ctx, ptrdiff_t c0, ptrdiff_t c1) {
    const pad_job *j = ctx;
    const mc_conv_shape *s = j->s;
    int PW = j->PW;
    for (ptrdiff_t c = c0; c < c1; c++) {
        float *p = j->dst + (size_t)c * j->PH * PW;
        memset(p, 0, sizeof(float) * (size_t)s->pad_t * PW);
        for (int h = 0; h < s->H; h++) {
            float *row = p + (size_t)(h + s->pad_t) * PW;
            if (s->pad_l) memset(row, 0, sizeof(float) * s->pad_l);
            memcpy(row + s->pad_l, j->x + ((size_t)c * s->H + h) * s->W, sizeof(float) * s->W);
            if (s->pad_r) memset(row + s->pad_l + s->W, 0, sizeof(float) * s->pad_r);
        }
        memset(p + (size_t)(s->pad_t + s->H) * PW, 0, sizeof(float) * (size_t)s->pad_b * PW);
    }
}

static void pad_input(const mc_conv_shape *s, int C, const float *x, float *dst, int PH, int PW) {
    pad_job j = {s, x, dst, PH, PW};
    mc_parallel_for(C, 8.0 * C * PH * PW, pad_channels, &j);
}

/* x [C][H][W] -> [C][OH][OW] at the strides (a strided 1x1 convolution's GEMM operand). */
static void subsample_input(const mc_conv_shape *s, int C, const float *x, float *dst) {
#ifdef MC_X86
    int avx2 = mc_isa() >= MC_ISA_AVX2;
#endif
    for (int c = 0; c < C; c++)
        for (int oh = 0; oh < s->OH; oh++) {
            const float *src = x + ((size_t)c * s->H + (size_t)oh * s->stride_h) * s->W;
            float *d = dst + ((size_t)c * s->OH + oh) * s->OW;
#ifdef MC_X86
            if (s->stride_w == 2 && avx2) {
                copy_stride2_avx2(d, src, s->OW);
                continue;
            }
#endif
            for (int q = 0; q < s->OW; q++) d[q] = src[q * s->stride_w];
        }
}

/* Stride-1 convolutions read B straight from the padded input (mc_gemm_direct) when the
   columns computed past each output row (PW - OW of every PW) cost less than building the
   im2col rows: measured, the copy costs about a tenth of the GEMM. */
static int direct_rows(const mc_conv_shape *s, int Mg, int K) {
    int PW = s->W + s->pad_l + s->pad_r;
    return s->stride_h == 1 && s->stride_w == 1 && mc_gemm_direct_ok(Mg, K) &&
           (PW - s->OW) * DIRECT_MAX_WASTE <= s->OW;
}

static void conv2d_panels(const mc_conv_shape *s, const float *x, mc_panels packed, float *out,
                          const mc_epilogue *ep) {
    int G = s->groups, Mg = s->Cout / G, Cg = s->C / G;
    int K = Cg * s->KH * s->KW, N = s->OH * s->OW;
    size_t psize = mc_packed_size(Mg, K);
    int pointwise = s->KH == 1 && s->KW == 1 && s->stride_h == 1 && s->stride_w == 1 &&
                    !s->pad_t && !s->pad_b && !s->pad_l && !s->pad_r;
    int padded = s->pad_t || s->pad_b || s->pad_l || s->pad_r;
    int subsampled = s->KH == 1 && s->KW == 1 && !padded && !pointwise;
    int PH = s->H + s->pad_t + s->pad_b, PW = s->W + s->pad_l + s->pad_r;
    mc_conv_shape gs = *s;
    gs.C = Cg;
    for (int g = 0; g < G; g++) {
        const float *xg = x + (size_t)g * Cg * s->H * s->W;
        float *og = out + (size_t)g * Mg * N;
        mc_epilogue gep, *epp = NULL;
        if (ep) {
            gep = *ep;
            if (gep.bias) gep.bias += (size_t)g * Mg;
            if (gep.residual) gep.residual += (size_t)g * Mg * gep.ldr;
            epp = &gep;
        }
        mc_panels wg = mc_panels_at(packed, g * psize);
        wg.qrow = g * Mg;
        if (pointwise) {
            mc_gemm_panels(wg, Mg, K, N, xg, N, og, N, epp);
        } else if (subsampled) {
            float *p = mc_scratch(MC_SLOT_PAD, (size_t)Cg * N + 64);
            subsample_input(s, Cg, xg, p);
            mc_gemm_panels(wg, Mg, K, N, p, N, og, N, epp);
        } else if (direct_rows(s, Mg, K)) {
            float *p = mc_scratch(MC_SLOT_PAD, (size_t)Cg * PH * PW + 64);
            pad_input(s, Cg, xg, p, PH, PW);
            ptrdiff_t *koff = (ptrdiff_t *)mc_scratch(MC_SLOT_MISC, 2 * (size_t)K + 16);
            for (int k = 0; k < K; k++) {
                int c = k / (s->KH * s->KW), kh = k / s->KW % s->KH, kw = k % s->KW;
                koff[k] = ((ptrdiff_t)c * PH + (ptrdiff_t)kh * s->dil_h) * PW + (ptrdiff_t)kw * s->dil_w;
            }
            mc_direct_b d = {p, koff, PW, s->OW};
            mc_gemm_direct(wg, Mg, K, (s->OH - 1) * PW + s->OW, &d, og, N, epp);
        } else {
            /* one context for both B providers: pack_im2col reads the leading im2col_b */
            im2col_both both = {{&gs, xg}, {&gs, xg, s->H, s->W}};
            int rows_ok = !padded;
            if (padded && mc_isa() >= MC_ISA_AVX2) {
                float *p = mc_scratch(MC_SLOT_PAD, (size_t)Cg * PH * PW + 64);
                pad_input(s, Cg, xg, p, PH, PW);
                both.r.x = p, both.r.PH = PH, both.r.PW = PW;
                rows_ok = 1;
            }
            mc_gemm_driver2(wg, Mg, K, N, pack_im2col, rows_ok ? rows_im2col_both : NULL,
                            &both, og, N, epp);
        }
    }
}

MC_PANEL_ENTRIES(mc_conv2d, conv2d_panels)

void mc_conv2d_q8(const mc_conv_shape *s, const float *x, const int8_t *packed, const mc_dequant *dq,
                  float *out, const mc_epilogue *ep) {
    mc_panels w = {packed, 0, dq, 0};
    conv2d_panels(s, x, w, out, ep);
}

/* ---------------------------------------------------------------- depthwise -------- */

typedef struct {
    const mc_conv_shape *s;
    int PH, QW;        /* padded height, width of one column phase */
} dw_geom;

/* planes[p][ih][q] = padded(ih, q * sw + p).  Only in-image cells are written: the zero
   border is set once per thread and survives because the geometry is fixed per call. */
static void dw_split_phases(const dw_geom *g, const float *x, float *planes) {
    const mc_conv_shape *s = g->s;
    int sw = s->stride_w;
    for (int h = 0; h < s->H; h++) {
        const float *row = x + (size_t)h * s->W;
        int ih = h + s->pad_t;
        if (sw == 1) {
            memcpy(planes + (size_t)ih * g->QW + s->pad_l, row, sizeof(float) * s->W);
            continue;
        }
        for (int p = 0; p < sw; p++) {
            /* padded column iw = q * sw + p holds input column iw - pad_l */
            float *dst = planes + ((size_t)p * g->PH + ih) * g->QW;
            int first = p - s->pad_l, q = 0;
            while (first < 0) first += sw, q++;
            for (int w = first; w < s->W; w += sw, q++) dst[q] = row[w];
        }
    }
}

/* tap t = kh * KW + kw reads planes + oh * stride_h * QW + off[t] + ow */
static void dw_tap_offsets(const dw_geom *g, ptrdiff_t *off) {
    const mc_conv_shape *s = g->s;
    for (int kh = 0; kh < s->KH; kh++)
        for (int kw = 0; kw < s->KW; kw++) {
            int t = kw * s->dil_w, p = t % s->stride_w;
            off[kh * s->KW + kw] = ((ptrdiff_t)p * g->PH + kh * s->dil_h) * g->QW + t / s->stride_w;
        }
}

static void dw_channel_portable(const dw_geom *g, const float *planes, const ptrdiff_t *off,
                                const float *wt, float bias, float *out, const float *res,
                                const mc_epilogue *ep) {
    const mc_conv_shape *s = g->s;
    int taps = s->KH * s->KW;
    for (int oh = 0; oh < s->OH; oh++) {
        float *o = out + (size_t)oh * s->OW;
        const float *base = planes + (ptrdiff_t)oh * s->stride_h * g->QW;
        for (int ow = 0; ow < s->OW; ow++) o[ow] = bias;
        for (int t = 0; t < taps; t++) {
            const float *src = base + off[t];
            float wv = wt[t];
            for (int ow = 0; ow < s->OW; ow++) o[ow] += wv * src[ow];
        }
        for (int ow = 0; ow < s->OW; ow++) {
            float v = o[ow] + (res ? res[(size_t)oh * s->OW + ow] : 0.f);
            o[ow] = ep ? mc_act_scalar(v, ep) : v;
        }
    }
}

#ifdef MC_X86
/* 4 accumulators of full vectors per step, then single (masked) vectors for the tail. */
MC_T512 static void dw_channel_avx512(const dw_geom *g, const float *planes, const ptrdiff_t *off,
                                      const float *wt, float bias, float *out, const float *res,
                                      const mc_epilogue *ep) {
    const mc_conv_shape *s = g->s;
    int taps = s->KH * s->KW, OW = s->OW;
    for (int oh = 0; oh < s->OH; oh++) {
        const float *base = planes + (ptrdiff_t)oh * s->stride_h * g->QW;
        float *o = out + (size_t)oh * OW;
        const float *r = res ? res + (size_t)oh * OW : NULL;
        int ow = 0;
        for (; ow + 64 <= OW; ow += 64) {
            __m512 a0 = _mm512_set1_ps(bias), a1 = a0, a2 = a0, a3 = a0;
            for (int t = 0; t < taps; t++) {
                const float *src = base + off[t] + ow;
                __m512 wv = _mm512_set1_ps(wt[t]);
                a0 = _mm512_fmadd_ps(wv, _mm512_loadu_ps(src), a0);
                a1 = _mm512_fmadd_ps(wv, _mm512_loadu_ps(src + 16), a1);
                a2 = _mm512_fmadd_ps(wv, _mm512_loadu_ps(src + 32), a2);
                a3 = _mm512_fmadd_ps(wv, _mm512_loadu_ps(src + 48), a3);
            }
            if (r) {
                a0 = _mm512_add_ps(a0, _mm512_loadu_ps(r + ow));
                a1 = _mm512_add_ps(a1, _mm512_loadu_ps(r + ow + 16));
                a2 = _mm512_add_ps(a2, _mm512_loadu_ps(r + ow + 32));
                a3 = _mm512_add_ps(a3, _mm512_loadu_ps(r + ow + 48));
            }
            if (ep) a0 = mc_act512(a0, ep), a1 = mc_act512(a1, ep), a2 = mc_act512(a2, ep), a3 = mc_act512(a3, ep);
            _mm512_storeu_ps(o + ow, a0);
            _mm512_storeu_ps(o + ow + 16, a1);
            _mm512_storeu_ps(o + ow + 32, a2);
            _mm512_storeu_ps(o + ow + 48, a3);
        }
        for (; ow < OW; ow += 16) {
            __mmask16 m = mc_mask512(OW - ow);
            __m512 a0 = _mm512_set1_ps(bias);
            for (int t = 0; t < taps; t++)
                a0 = _mm512_fmadd_ps(_mm512_set1_ps(wt[t]), _mm512_maskz_loadu_ps(m, base + off[t] + ow), a0);
            if (r) a0 = _mm512_add_ps(a0, _mm512_maskz_loadu_ps(m, r + ow));
            if (ep) a0 = mc_act512(a0, ep);
            _mm512_mask_storeu_ps(o + ow, m, a0);
        }
    }
}

MC_T256 static void dw_channel_avx2(const dw_geom *g, const float *planes, const ptrdiff_t *off,
                                    const float *wt, float bias, float *out, const float *res,
                                    const mc_epilogue *ep) {
    const mc_conv_shape *s = g->s;
    int taps = s->KH * s->KW, OW = s->OW;
    for (int oh = 0; oh < s->OH; oh++) {
        const float *base = planes + (ptrdiff_t)oh * s->stride_h * g->QW;
        float *o = out + (size_t)oh * OW;
        const float *r = res ? res + (size_t)oh * OW : NULL;
        int ow = 0;
        for (; ow + 32 <= OW; ow += 32) {
            __m256 a0 = _mm256_set1_ps(bias), a1 = a0, a2 = a0, a3 = a0;
            for (int t = 0; t < taps; t++) {
                const float *src = base + off[t] + ow;
                __m256 wv = _mm256_broadcast_ss(wt + t);
                a0 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(src), a0);
                a1 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(src + 8), a1);
                a2 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(src + 16), a2);
                a3 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(src + 24), a3);
            }
            if (r) {
                a0 = _mm256_add_ps(a0, _mm256_loadu_ps(r + ow));
                a1 = _mm256_add_ps(a1, _mm256_loadu_ps(r + ow + 8));
                a2 = _mm256_add_ps(a2, _mm256_loadu_ps(r + ow + 16));
                a3 = _mm256_add_ps(a3, _mm256_loadu_ps(r + ow + 24));
            }
            if (ep) a0 = mc_act256(a0, ep), a1 = mc_act256(a1, ep), a2 = mc_act256(a2, ep), a3 = mc_act256(a3, ep);
            _mm256_storeu_ps(o + ow, a0);
            _mm256_storeu_ps(o + ow + 8, a1);
            _mm256_storeu_ps(o + ow + 16, a2);
            _mm256_storeu_ps(o + ow + 24, a3);
        }
        for (; ow + 8 <= OW; ow += 8) {
            __m256 a0 = _mm256_set1_ps(bias);
            for (int t = 0; t < taps; t++)
                a0 = _mm256_fmadd_ps(_mm256_broadcast_ss(wt + t), _mm256_loadu_ps(base + off[t] + ow), a0);
            if (r) a0 = _mm256_add_ps(a0, _mm256_loadu_ps(r + ow));
            if (ep) a0 = mc_act256(a0, ep);
            _mm256_storeu_ps(o + ow, a0);
        }
        if (ow < OW) {
            /* masked loads are cheap on AMD, masked stores are not: store through a buffer */
            __m256i m = mc_mask256(OW - ow);
            __m256 a0 = _mm256_set1_ps(bias);
            for (int t = 0; t < taps; t++)
                a0 = _mm256_fmadd_ps(_mm256_broadcast_ss(wt + t), _mm256_maskload_ps(base + off[t] + ow, m), a0);
            if (r) a0 = _mm256_add_ps(a0, _mm256_maskload_ps(r + ow, m));
            if (ep) a0 = mc_act256(a0, ep);
            float tmp[8];
            _mm256_storeu_ps(tmp, a0);
            memcpy(o + ow, tmp, sizeof(float) * (OW - ow));
        }
    }
}
#endif


/* Channel-blocked depthwise (AVX2): 8 channels are interleaved into one zero-padded
   [PH][PW][8] image, so every tap of any kernel/stride/dilation is a full 8-lane FMA with no
   masks or per-row tails -- the win on small maps (7-28 px) and on stride 2, where the
   planar kernel runs mostly masked or phase-split rows.  Output is computed interleaved and
   transposed back (with residual and activation) along the flat output plane. */
#ifdef MC_X86
/* stride-1 output rows at least this wide stay on the planar kernel (measured: equal at 56,
   planar ahead at 112) */
#define DW_PLANAR_MIN_OW 100

typedef struct {
    const mc_conv_shape *s;
    const float *x;
    mc_panels w;      /* [C][taps], fp16 or fp32 */
    float *out;
    const mc_epilogue *ep;
    int PH, PW, blocks_per_task;
} dwb_job;

MC_T256 static void dwb_block(const dwb_job *j, int c0, float *P, float *O, float *wv) {
    const mc_conv_shape *s = j->s;
    const mc_epilogue *ep = j->ep;
    int nv = s->C - c0 < 8 ? s->C - c0 : 8, taps = s->KH * s->KW;
    int HW = s->H * s->W, PW = j->PW, OW = s->OW, ON = s->OH * s->OW;
    /* weights [taps][8] (8 channels' halves gathered per tap, then F16C) */
    for (int t = 0; t < taps; t++) {
        if (j->w.f32) {
            for (int i = 0; i < 8; i++) wv[t * 8 + i] = i < nv ? ((const float *)j->w.p)[(size_t)(c0 + i) * taps + t] : 0.f;
            continue;
        }
        uint16_t h8[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        for (int i = 0; i < nv; i++) h8[i] = ((const uint16_t *)j->w.p)[(size_t)(c0 + i) * taps + t];
        _mm256_store_ps(wv + t * 8, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)h8)));
    }
    float bb[8] = {0};
    if (ep && ep->bias) for (int i = 0; i < nv; i++) bb[i] = ep->bias[c0 + i];
    __m256 bias = _mm256_loadu_ps(bb);
    /* interleave the input into the padded image */
    const float *xc = j->x + (size_t)c0 * HW;
    int h = 0, w = 0, p = 0;
    for (; p + 8 <= HW; p += 8) {
        __m256 r[8];
        for (int i = 0; i < 8; i++) r[i] = i < nv ? _mm256_loadu_ps(xc + (size_t)i * HW + p) : _mm256_setzero_ps();
        mc_tr8x8(r);
        for (int q = 0; q < 8; q++) {
            _mm256_store_ps(P + ((size_t)(h + s->pad_t) * PW + w + s->pad_l) * 8, r[q]);
            if (++w == s->W) w = 0, h++;
        }
    }
    for (; p < HW; p++) {
        float *d = P + ((size_t)(h + s->pad_t) * PW + w + s->pad_l) * 8;
        for (int i = 0; i < 8; i++) d[i] = i < nv ? xc[(size_t)i * HW + p] : 0.f;
        if (++w == s->W) w = 0, h++;
    }
    /* compute O[OH*OW][8] */
    ptrdiff_t toff[64], *to = taps <= 64 ? toff : malloc(sizeof(ptrdiff_t) * (size_t)taps);
    for (int kh = 0; kh < s->KH; kh++)
        for (int kw = 0; kw < s->KW; kw++)
            to[kh * s->KW + kw] = ((ptrdiff_t)kh * s->dil_h * PW + (ptrdiff_t)kw * s->dil_w) * 8;
    /* outputs in groups of 4 along the flat output plane (across row ends), so short rows
       still keep 4 independent accumulators in flight */
    ptrdiff_t st = (ptrdiff_t)s->stride_w * 8, sh = (ptrdiff_t)s->stride_h * PW * 8;
    int oh = 0, ow = 0;
    for (int q = 0; q < ON; q += 4) {
        const float *b[4];
        int n = ON - q < 4 ? ON - q : 4;
        for (int i = 0; i < 4; i++) {
            b[i] = P + oh * sh + ow * st;
            if (i < n - 1 || n == 4) { if (++ow == OW) ow = 0, oh++; }
        }
        __m256 a0 = bias, a1 = bias, a2 = bias, a3 = bias;
        for (int t = 0; t < taps; t++) {
            __m256 wt = _mm256_load_ps(wv + t * 8);
            ptrdiff_t o = to[t];
            a0 = _mm256_fmadd_ps(wt, _mm256_load_ps(b[0] + o), a0);
            a1 = _mm256_fmadd_ps(wt, _mm256_load_ps(b[1] + o), a1);
            a2 = _mm256_fmadd_ps(wt, _mm256_load_ps(b[2] + o), a2);
            a3 = _mm256_fmadd_ps(wt, _mm256_load_ps(b[3] + o), a3);
        }
        float *o = O + (size_t)q * 8;
        _mm256_store_ps(o, a0);
        if (n > 1) _mm256_store_ps(o + 8, a1);
        if (n > 2) _mm256_store_ps(o + 16, a2);
        if (n > 3) _mm256_store_ps(o + 24, a3);
    }
    if (to != toff) free(to);
    /* back to planar, with residual and activation */
    const mc_epilogue *act = ep && ep->act != MC_ACT_NONE ? ep : NULL;
    float *oc = j->out + (size_t)c0 * ON;
    const float *res = ep && ep->residual ? ep->residual + (size_t)c0 * ep->ldr : NULL;
    p = 0;
    for (; p + 8 <= ON; p += 8) {
        __m256 r[8];
        for (int q = 0; q < 8; q++) r[q] = _mm256_load_ps(O + (size_t)(p + q) * 8);
        mc_tr8x8(r);
        for (int i = 0; i < nv; i++) {
            __m256 v = r[i];
            if (res) v = _mm256_add_ps(v, _mm256_loadu_ps(res + (size_t)i * ep->ldr + p));
            if (act) v = mc_act256(v, act);
            _mm256_storeu_ps(oc + (size_t)i * ON + p, v);
        }
    }
    if (p < ON) {
        int n = ON - p;
        for (int i = 0; i < nv; i++) {
            float t8[8] = {0};
            for (int q = 0; q < n; q++) t8[q] = O[(size_t)(p + q) * 8 + i] + (res ? res[(size_t)i * ep->ldr + p + q] : 0.f);
            __m256 v = _mm256_loadu_ps(t8);
            if (act) v = mc_act256(v, act);
            _mm256_storeu_ps(t8, v);
            memcpy(oc + (size_t)i * ON + p, t8, sizeof(float) * n);
        }
    }
}

static void dwb_task(void *ctx, int t, int thread) {
    (void)thread;
    const dwb_job *j = ctx;
    const mc_conv_shape *s = j->s;
    size_t pfl = (size_t)j->PH * j->PW * 8;
    float *P = mc_scratch(MC_SLOT_PAD, pfl + 16);
    float *O = mc_scratch(MC_SLOT_B, (size_t)s->OH * s->OW * 8 + 16);
    float *wv = mc_scratch(MC_SLOT_MISC, (size_t)s->KH * s->KW * 8 + 16);
    /* zero border (the interior is rewritten by every block) */
    int PW = j->PW;
    for (int h = 0; h < j->PH; h++) {
        float *row = P + (size_t)h * PW * 8;
        if (h < s->pad_t || h >= s->pad_t + s->H) { memset(row, 0, sizeof(float) * PW * 8); continue; }
        memset(row, 0, sizeof(float) * s->pad_l * 8);
        memset(row + (size_t)(s->pad_l + s->W) * 8, 0, sizeof(float) * s->pad_r * 8);
    }
    int nblocks = (s->C + 7) / 8;
    int b1 = (t + 1) * j->blocks_per_task < nblocks ? (t + 1) * j->blocks_per_task : nblocks;
    for (int b = t * j->blocks_per_task; b < b1; b++) dwb_block(j, b * 8, P, O, wv);
}
#endif

typedef struct {
    const mc_conv_shape *s;
    dw_geom g;
    const float *x;
    mc_panels w;      /* [C][taps], fp16 or fp32 */
    float *out;
    const mc_epilogue *ep;
    int chunk, isa;
    size_t plane_floats;
} dw_job;

static void dw_task(void *ctx, int t, int thread) {
    (void)thread;
    const dw_job *j = ctx;
    const mc_conv_shape *s = j->s;
    int taps = s->KH * s->KW, isa = j->isa;
    size_t per_out = (size_t)s->OH * s->OW;
    float *planes = mc_scratch(MC_SLOT_PAD, j->plane_floats);
    float *wt = mc_scratch(MC_SLOT_MISC, (size_t)taps + 16);
    ptrdiff_t off[64], *offp = taps <= 64 ? off : malloc(sizeof(ptrdiff_t) * (size_t)taps);
    memset(planes, 0, sizeof(float) * j->plane_floats);   /* zero border for this geometry */
    dw_tap_offsets(&j->g, offp);
    const mc_epilogue *ep = j->ep;
    int c1 = (t + 1) * j->chunk < s->C ? (t + 1) * j->chunk : s->C;
    for (int c = t * j->chunk; c < c1; c++) {
        const uint16_t *wh = (const uint16_t *)j->w.p + (size_t)c * taps;
        if (j->w.f32) memcpy(wt, (const float *)j->w.p + (size_t)c * taps, sizeof(float) * taps);
        else if (isa == MC_ISA_PORTABLE) mc_half_to_float_portable(wh, wt, taps);
        else mc_half_to_float(wh, wt, taps);
        dw_split_phases(&j->g, j->x + (size_t)c * s->H * s->W, planes);
        float bias = ep && ep->bias ? ep->bias[c] : 0.f;
        const float *res = ep && ep->residual ? ep->residual + (size_t)c * ep->ldr : NULL;
        const mc_epilogue *act = ep && ep->act != MC_ACT_NONE ? ep : NULL;
        float *o = j->out + (size_t)c * per_out;
#ifdef MC_X86
        if (isa == MC_ISA_AVX512) { dw_channel_avx512(&j->g, planes, offp, wt, bias, o, res, act); continue; }
        if (isa == MC_ISA_AVX2) { dw_channel_avx2(&j->g, planes, offp, wt, bias, o, res, act); continue; }
#endif
        dw_channel_portable(&j->g, planes, offp, wt, bias, o, res, act);
    }
    if (offp != off) free(offp);
}

static void depthwise_panels(const mc_conv_shape *s, const float *x, mc_panels w, float *out,
                             const mc_epilogue *ep) {
#ifdef MC_X86
    if (mc_isa() >= MC_ISA_AVX2 && (s->OW < DW_PLANAR_MIN_OW || s->stride_w > 1)) {
        int threads0 = mc_threads_for(2.0 * s->KH * s->KW * (double)s->OH * s->OW * s->C);
        dwb_job b = {s, x, w, out, ep, s->H + s->pad_t + s->pad_b, s->W + s->pad_l + s->pad_r, 1};
        int nblocks = (s->C + 7) / 8;
        int ntasks = threads0 > 1 ? 4 * threads0 : 1;
        if (ntasks > nblocks) ntasks = nblocks;
        b.blocks_per_task = (nblocks + ntasks - 1) / ntasks;
        ntasks = (nblocks + b.blocks_per_task - 1) / b.blocks_per_task;
        mc_parallel(ntasks, threads0, dwb_task, &b);
        return;
    }
#endif
    dw_job j;
    j.s = s;
    j.g.s = s;
    j.g.PH = s->H + s->pad_t + s->pad_b;
    int PW = s->W + s->pad_l + s->pad_r;
    j.g.QW = (PW + s->stride_w - 1) / s->stride_w;
    j.plane_floats = (size_t)s->stride_w * j.g.PH * j.g.QW + 64;
    j.x = x, j.w = w, j.out = out, j.ep = ep, j.isa = mc_isa();
    int taps = s->KH * s->KW;
    size_t per_out = (size_t)s->OH * s->OW;
    int threads = mc_threads_for(2.0 * taps * per_out * s->C);
    int ntasks = threads > 1 ? 4 * threads : 1;
    if (ntasks > s->C) ntasks = s->C;
    j.chunk = (s->C + ntasks - 1) / ntasks;
    ntasks = (s->C + j.chunk - 1) / j.chunk;
    mc_parallel(ntasks, threads, dw_task, &j);
}

MC_PANEL_ENTRIES(mc_depthwise_conv2d, depthwise_panels)

/* ---------------------------------------------------------------- transposed -------- */
/* Transposed convolution (the gradient of conv2d w.r.t. its input; Core ML deconvolution,
   PyTorch ConvTranspose2d).  Per group: cols[Mg*KH*KW, H*W] = W_g^T x_g with the packed fp16
   GEMM, then col2im scatter-adds every tap into the (cropped) output, then the epilogue.
   Output channels are independent in col2im, so it splits over the pool deterministically. */

int mc_conv_transpose_out_shape(mc_conv_shape *s, int out_pad_h, int out_pad_w) {
    if (s->groups <= 0 || s->C % s->groups || s->Cout % s->groups || s->stride_h <= 0 ||
        s->stride_w <= 0 || s->dil_h <= 0 || s->dil_w <= 0 || s->KH <= 0 || s->KW <= 0 ||
        s->H <= 0 || s->W <= 0 || out_pad_h < 0 || out_pad_w < 0 ||
        s->pad_t < 0 || s->pad_b < 0 || s->pad_l < 0 || s->pad_r < 0)
        return -1;
    int fh = (s->H - 1) * s->stride_h + (s->KH - 1) * s->dil_h + 1 + out_pad_h;
    int fw = (s->W - 1) * s->stride_w + (s->KW - 1) * s->dil_w + 1 + out_pad_w;
    s->OH = fh - s->pad_t - s->pad_b;
    s->OW = fw - s->pad_l - s->pad_r;
    return s->OH > 0 && s->OW > 0 ? 0 : -1;
}

typedef struct {
    const mc_conv_shape *s;
    const float *cols;      /* [Mg*KH*KW][H*W] for this group */
    float *out;             /* [Mg][OH][OW] for this group */
    const mc_epilogue *ep;  /* bias/residual already offset to the group */
    int Mg, chunk;
} col2im_job;

static void epilogue_plane(float *o, size_t n, float bias, const float *res, const mc_epilogue *ep) {
    if (bias != 0.f || res)
        for (size_t i = 0; i < n; i++) o[i] += bias + (res ? res[i] : 0.f);
    if (ep && ep->act != MC_ACT_NONE) mc_activation(o, n, ep);
}

static void col2im_task(void *ctx, int t, int thread) {
    (void)thread;
    const col2im_job *j = ctx;
    const mc_conv_shape *s = j->s;
    int HW = s->H * s->W, taps = s->KH * s->KW;
    size_t ON = (size_t)s->OH * s->OW;
    int c1 = (t + 1) * j->chunk < j->Mg ? (t + 1) * j->chunk : j->Mg;
    for (int co = t * j->chunk; co < c1; co++) {
        float *o = j->out + (size_t)co * ON;
        memset(o, 0, sizeof(float) * ON);
        for (int kh = 0; kh < s->KH; kh++)
            for (int kw = 0; kw < s->KW; kw++) {
                const float *src = j->cols + ((size_t)co * taps + kh * s->KW + kw) * HW;
                int dh = kh * s->dil_h - s->pad_t, dw = kw * s->dil_w - s->pad_l;
                /* valid iw: 0 <= iw*sw + dw < OW */
                int iw_lo = dw >= 0 ? 0 : (-dw + s->stride_w - 1) / s->stride_w;
                int iw_hi = s->OW - dw <= 0 ? 0 : (s->OW - dw - 1) / s->stride_w + 1;
                if (iw_hi > s->W) iw_hi = s->W;
                for (int ih = 0; ih < s->H; ih++) {
                    int oh = ih * s->stride_h + dh;
                    if (oh < 0 || oh >= s->OH) continue;
                    float *orow = o + (size_t)oh * s->OW;
                    const float *srow = src + (size_t)ih * s->W;
                    if (s->stride_w == 1)
                        for (int iw = iw_lo; iw < iw_hi; iw++) orow[iw + dw] += srow[iw];
                    else
                        for (int iw = iw_lo; iw < iw_hi; iw++) orow[iw * s->stride_w + dw] += srow[iw];
                }
            }
        const mc_epilogue *ep = j->ep;
        epilogue_plane(o, ON, ep && ep->bias ? ep->bias[co] : 0.f,
                       ep && ep->residual ? ep->residual + (size_t)co * ep->ldr : NULL, ep);
    }
}

static void conv_transpose_panels(const mc_conv_shape *s, const float *x, mc_panels packed,
                                  float *out, const mc_epilogue *ep) {
    int G = s->groups, Mg = s->Cout / G, Cg = s->C / G, taps = s->KH * s->KW;
    int M = Mg * taps, HW = s->H * s->W;
    size_t psize = mc_packed_size(M, Cg), ON = (size_t)s->OH * s->OW;
    float *cols = malloc(sizeof(float) * (size_t)M * HW + 64);
    if (!cols) return;
    for (int g = 0; g < G; g++) {
        mc_panels wg = mc_panels_at(packed, g * psize);
        mc_gemm_panels(wg, M, Cg, HW, x + (size_t)g * Cg * HW, HW, cols, HW, NULL);
        mc_epilogue gep, *epp = NULL;
        if (ep) {
            gep = *ep;
            if (gep.bias) gep.bias += (size_t)g * Mg;
            if (gep.residual) gep.residual += (size_t)g * Mg * gep.ldr;
            epp = &gep;
        }
        col2im_job j = {s, cols, out + (size_t)g * Mg * ON, epp, Mg, 1};
        int threads = mc_threads_for(2.0 * M * (double)HW);
        int ntasks = threads > 1 ? 4 * threads : 1;
        if (ntasks > Mg) ntasks = Mg;
        j.chunk = (Mg + ntasks - 1) / ntasks;
        ntasks = (Mg + j.chunk - 1) / j.chunk;
        mc_parallel(ntasks, threads, col2im_task, &j);
    }
    free(cols);
}

MC_PANEL_ENTRIES(mc_conv_transpose2d, conv_transpose_panels)
