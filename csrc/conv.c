/* Convolution on NCHW, one image at a time.  General/grouped/1x1: implicit im2col, i.e.
   the GEMM's B packer reads the input directly (row k = (c, kh, kw), column n = (oh, ow)),
   copying contiguous row segments with zero borders, so no K x N scratch is ever built.
   Depthwise: per channel the padded input is split into `stride_w` column phases so every
   tap of every stride/dilation becomes a contiguous vector load along the output row. */
#include "kernels_impl.h"
#include "vecmath.h"

#include <stdlib.h>
#include <string.h>

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

void mc_conv2d(const mc_conv_shape *s, const float *x, const uint16_t *packed, float *out,
               const mc_epilogue *ep) {
    int G = s->groups, Mg = s->Cout / G, Cg = s->C / G;
    int K = Cg * s->KH * s->KW, N = s->OH * s->OW;
    size_t psize = mc_packed_size(Mg, K);
    int pointwise = s->KH == 1 && s->KW == 1 && s->stride_h == 1 && s->stride_w == 1 &&
                    !s->pad_t && !s->pad_b && !s->pad_l && !s->pad_r;
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
        if (pointwise) {
            mc_gemm(packed + g * psize, Mg, K, N, xg, N, og, N, epp);
        } else {
            im2col_b b = {&gs, xg};
            mc_gemm_driver(packed + g * psize, Mg, K, N, pack_im2col, &b, og, N, epp);
        }
    }
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

void mc_depthwise_conv2d(const mc_conv_shape *s, const float *x, const uint16_t *w,
                         float *out, const mc_epilogue *ep) {
    dw_geom g = {s, s->H + s->pad_t + s->pad_b, 0};
    int PW = s->W + s->pad_l + s->pad_r;
    g.QW = (PW + s->stride_w - 1) / s->stride_w;
    size_t plane_floats = (size_t)s->stride_w * g.PH * g.QW + 64;
    int taps = s->KH * s->KW, isa = mc_isa();
    size_t per_out = (size_t)s->OH * s->OW;
    int threads = mc_threads_for(2.0 * taps * per_out * s->C);
#ifdef _OPENMP
#pragma omp parallel num_threads(threads) if (threads > 1)
#endif
    {
        float *planes = calloc(plane_floats, sizeof(float));
        float *wt = malloc(sizeof(float) * (size_t)taps);
        ptrdiff_t *off = malloc(sizeof(ptrdiff_t) * (size_t)taps);
        dw_tap_offsets(&g, off);
#ifdef _OPENMP
#pragma omp for schedule(static)
#endif
        for (int c = 0; c < s->C; c++) {
            if (isa == MC_ISA_PORTABLE) mc_half_to_float_portable(w + (size_t)c * taps, wt, taps);
            else mc_half_to_float(w + (size_t)c * taps, wt, taps);
            dw_split_phases(&g, x + (size_t)c * s->H * s->W, planes);
            float bias = ep && ep->bias ? ep->bias[c] : 0.f;
            const float *res = ep && ep->residual ? ep->residual + (size_t)c * ep->ldr : NULL;
            const mc_epilogue *act = ep && ep->act != MC_ACT_NONE ? ep : NULL;
            float *o = out + (size_t)c * per_out;
#ifdef MC_X86
            if (isa == MC_ISA_AVX512) { dw_channel_avx512(&g, planes, off, wt, bias, o, res, act); continue; }
            if (isa == MC_ISA_AVX2) { dw_channel_avx2(&g, planes, off, wt, bias, o, res, act); continue; }
#endif
            dw_channel_portable(&g, planes, off, wt, bias, o, res, act);
        }
        free(planes);
        free(wt);
        free(off);
    }
}
