/* Pooling (NCHW, one image) and last-axis softmax.  Pooling vectorises along the output row
   over the columns whose window lies inside the image horizontally (stride 1 and 2 are plain
   or de-interleaved vector loads); border columns use the scalar window rule.  Channels are
   split over the thread pool; each output value is computed the same way for any thread
   count. */
#include "kernels_impl.h"
#include "vecmath.h"

#include <float.h>
#include <math.h>
#include <string.h>

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

static float pool_scalar(const mc_pool_shape *s, const float *xc, int oh, int ow, int is_max,
                         int exclude_padding) {
    int h0, h1, w0, w1, full;
    window(s, oh, ow, &h0, &h1, &w0, &w1, &full);
    if (is_max) {
        float m = -INFINITY;
        for (int h = h0; h < h1; h++)
            for (int w = w0; w < w1; w++) m = mc_max_nan(m, xc[h * s->W + w]);
        return h0 < h1 && w0 < w1 ? m : 0.f;
    }
    float sum = 0.f;
    for (int h = h0; h < h1; h++)
        for (int w = w0; w < w1; w++) sum += xc[h * s->W + w];
    int count = exclude_padding ? (h1 - h0) * (w1 - w0) : full;
    return count > 0 ? sum / (float)count : 0.f;
}

typedef struct {
    const mc_pool_shape *s;
    const float *x;
    float *out;
    int is_max, exclude, chunk, isa;
} pool_job;

#ifdef MC_X86
/* 8 values src[0], src[sw], ... (sw 1 or 2; for 2 reads src[0..15]) */
MC_T256 static inline __m256 load_strided(const float *src, int sw) {
    if (sw == 1) return _mm256_loadu_ps(src);
    __m256 lo = _mm256_loadu_ps(src), hi = _mm256_loadu_ps(src + 8);
    __m256 e = _mm256_shuffle_ps(lo, hi, 0x88);
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), 0xD8));
}

MC_T256 static void pool_channel_avx2(const pool_job *j, const float *xc, float *oc) {
    const mc_pool_shape *s = j->s;
    int sw = s->stride_w;
    /* interior columns: 0 <= ow*sw - pad_l and ow*sw - pad_l + KW <= W */
    int lo = (s->pad_l + sw - 1) / sw;
    int hi = s->W + s->pad_l - s->KW < 0 ? 0 : (s->W + s->pad_l - s->KW) / sw + 1;
    if (hi > s->OW) hi = s->OW;
    if (lo > hi) lo = hi;
    /* with stride 2 the de-interleaving load reads one float past the last window */
    int vec_end = sw == 2 ? hi - 1 : hi;
    for (int oh = 0; oh < s->OH; oh++) {
        float *o = oc + (size_t)oh * s->OW;
        int hs = oh * s->stride_h - s->pad_t, he = hs + s->KH;
        int h0 = hs < 0 ? 0 : hs, h1 = he > s->H ? s->H : he;
        int phe = he < s->H + s->pad_b ? he : s->H + s->pad_b;
        int count = j->exclude ? (h1 - h0) * s->KW : (phe - hs) * s->KW;
        int ow = 0;
        for (; ow < lo; ow++) o[ow] = pool_scalar(s, xc, oh, ow, j->is_max, j->exclude);
        if (h0 < h1 && count > 0) {
            __m256 inv = _mm256_set1_ps(1.f / (float)count);
            for (; ow + 8 <= vec_end; ow += 8) {
                const float *base = xc + (ptrdiff_t)ow * sw - s->pad_l;
                __m256 acc = j->is_max ? _mm256_set1_ps(-INFINITY) : _mm256_setzero_ps();
                for (int h = h0; h < h1; h++) {
                    const float *row = base + (size_t)h * s->W;
                    for (int kw = 0; kw < s->KW; kw++) {
                        __m256 v = load_strided(row + kw, sw);
                        acc = j->is_max ? mc_max256_nan(acc, v) : _mm256_add_ps(acc, v);
                    }
                }
                if (!j->is_max) acc = _mm256_mul_ps(acc, inv);
                _mm256_storeu_ps(o + ow, acc);
            }
        }
        for (; ow < s->OW; ow++) o[ow] = pool_scalar(s, xc, oh, ow, j->is_max, j->exclude);
    }
}
#endif

static void pool_task(void *ctx, int t, int thread) {
    (void)thread;
    const pool_job *j = ctx;
    const mc_pool_shape *s = j->s;
    int c1 = (t + 1) * j->chunk < s->C ? (t + 1) * j->chunk : s->C;
    for (int c = t * j->chunk; c < c1; c++) {
        const float *xc = j->x + (size_t)c * s->H * s->W;
        float *oc = j->out + (size_t)c * s->OH * s->OW;
#ifdef MC_X86
        if (j->isa >= MC_ISA_AVX2 && (s->stride_w == 1 || s->stride_w == 2)) {
            pool_channel_avx2(j, xc, oc);
            continue;
        }
#endif
        for (int oh = 0; oh < s->OH; oh++)
            for (int ow = 0; ow < s->OW; ow++)
                oc[oh * s->OW + ow] = pool_scalar(s, xc, oh, ow, j->is_max, j->exclude);
    }
}

static void pool_run(const mc_pool_shape *s, const float *x, float *out, int is_max, int exclude) {
    if (s->C <= 0 || s->OH <= 0 || s->OW <= 0) return;
    int threads = mc_threads_for((double)s->C * s->OH * s->OW * s->KH * s->KW * 4);
    pool_job j = {s, x, out, is_max, exclude, 1, mc_isa()};
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
