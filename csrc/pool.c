/* Pooling (NCHW, one image) and last-axis softmax.  Pooling is plain C over output rows
   (the compiler vectorises the inner loops); it is memory bound and a few % of a CNN. */
#include "kernels_impl.h"
#include "vecmath.h"

#include <float.h>
#include <math.h>

static void window(const mc_pool_shape *s, int oh, int ow, int *h0, int *h1, int *w0, int *w1,
                   int *full) {
    int hs = oh * s->stride_h - s->pad_t, ws = ow * s->stride_w - s->pad_l;
    int he = hs + s->KH, we = ws + s->KW;
    /* the window as clipped to the padded extent: what "include padding" divides by */
    int phe = he < s->H + s->pad_b ? he : s->H + s->pad_b, pwe = we < s->W + s->pad_r ? we : s->W + s->pad_r;
    *full = (phe - hs) * (pwe - ws);
    *h0 = hs < 0 ? 0 : hs;
    *w0 = ws < 0 ? 0 : ws;
    *h1 = he > s->H ? s->H : he;
    *w1 = we > s->W ? s->W : we;
}

void mc_max_pool2d(const mc_pool_shape *s, const float *x, float *out) {
    int threads = mc_threads_for((double)s->C * s->OH * s->OW * s->KH * s->KW);
#ifdef _OPENMP
#pragma omp parallel for num_threads(threads) if (threads > 1) schedule(static)
#endif
    for (int c = 0; c < s->C; c++) {
        const float *xc = x + (size_t)c * s->H * s->W;
        float *oc = out + (size_t)c * s->OH * s->OW;
        for (int oh = 0; oh < s->OH; oh++)
            for (int ow = 0; ow < s->OW; ow++) {
                int h0, h1, w0, w1, full;
                window(s, oh, ow, &h0, &h1, &w0, &w1, &full);
                float m = -FLT_MAX;
                for (int h = h0; h < h1; h++)
                    for (int w = w0; w < w1; w++) m = xc[h * s->W + w] > m ? xc[h * s->W + w] : m;
                oc[oh * s->OW + ow] = h0 < h1 && w0 < w1 ? m : 0.f;
            }
    }
}

void mc_avg_pool2d(const mc_pool_shape *s, const float *x, float *out, int exclude_padding) {
    int threads = mc_threads_for((double)s->C * s->OH * s->OW * s->KH * s->KW);
#ifdef _OPENMP
#pragma omp parallel for num_threads(threads) if (threads > 1) schedule(static)
#endif
    for (int c = 0; c < s->C; c++) {
        const float *xc = x + (size_t)c * s->H * s->W;
        float *oc = out + (size_t)c * s->OH * s->OW;
        for (int oh = 0; oh < s->OH; oh++)
            for (int ow = 0; ow < s->OW; ow++) {
                int h0, h1, w0, w1, full;
                window(s, oh, ow, &h0, &h1, &w0, &w1, &full);
                float sum = 0.f;
                for (int h = h0; h < h1; h++)
                    for (int w = w0; w < w1; w++) sum += xc[h * s->W + w];
                int count = exclude_padding ? (h1 - h0) * (w1 - w0) : full;
                oc[oh * s->OW + ow] = count > 0 ? sum / (float)count : 0.f;
            }
    }
}

void mc_global_pool(int C, int HW, const float *x, float *out, int is_max) {
    for (int c = 0; c < C; c++) {
        const float *xc = x + (size_t)c * HW;
        if (is_max) {
            float m = -FLT_MAX;
            for (int i = 0; i < HW; i++) m = xc[i] > m ? xc[i] : m;
            out[c] = HW ? m : 0.f;
        } else {
            float sum = 0.f;
            for (int i = 0; i < HW; i++) sum += xc[i];
            out[c] = HW ? sum / (float)HW : 0.f;
        }
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
#endif

static void softmax_row_portable(const float *x, float *y, ptrdiff_t n) {
    float m = -FLT_MAX, sum = 0.f;
    for (ptrdiff_t i = 0; i < n; i++) m = x[i] > m ? x[i] : m;
    for (ptrdiff_t i = 0; i < n; i++) sum += (y[i] = expf(x[i] - m));
    float inv = 1.f / sum;
    for (ptrdiff_t i = 0; i < n; i++) y[i] *= inv;
}

void mc_softmax(const float *x, float *out, ptrdiff_t rows, ptrdiff_t n) {
    int isa = mc_isa();
    for (ptrdiff_t r = 0; r < rows; r++) {
#ifdef MC_X86
        if (isa == MC_ISA_AVX512) { softmax_row_avx512(x + r * n, out + r * n, n); continue; }
#endif
        (void)isa;
        softmax_row_portable(x + r * n, out + r * n, n);
    }
}
