/* Layer normalisation over the trailing n values of each row (core.layer_norm).  Mean and
   variance accumulate in double (two passes), as close to the float64 reference as float32
   output allows; rows are independent, so results do not depend on the thread count.
   The vector paths convert floats to double lanes (8 per zmm, 4 per ymm) and keep two
   accumulators per pass: the scalar loop is bound by its add latency (one chain per row). */
#include "kernels_impl.h"
#include "vecmath.h"

#include <math.h>

/* Elements [i, n) of the row's sums (scalar tails and the portable path). */
static double sum_from(const float *x, ptrdiff_t i, ptrdiff_t n) {
    double s = 0.0;
    for (; i < n; i++) s += x[i];
    return s;
}

static double sq_from(const float *x, ptrdiff_t i, ptrdiff_t n, double mean) {
    double s = 0.0;
    for (; i < n; i++) {
        double d = x[i] - mean;
        s += d * d;
    }
    return s;
}

static void scale_from(const float *x, float *o, ptrdiff_t i, ptrdiff_t n, double mean, double inv,
                       const float *gamma, const float *beta) {
    for (; i < n; i++) {
        double y = (x[i] - mean) * inv;
        if (gamma) y *= gamma[i];
        if (beta) y += beta[i];
        o[i] = (float)y;
    }
}

static double inverse_std(double sq, ptrdiff_t n, float eps) {
    return 1.0 / sqrt((n ? sq / (double)n : 0.0) + (double)eps);
}

static void row_portable(const float *x, float *o, ptrdiff_t n, const float *gamma, const float *beta, float eps) {
    double mean = n ? sum_from(x, 0, n) / (double)n : 0.0;
    scale_from(x, o, 0, n, mean, inverse_std(sq_from(x, 0, n, mean), n, eps), gamma, beta);
}

#ifdef MC_X86
MC_T512 static void row_avx512(const float *x, float *o, ptrdiff_t n, const float *gamma, const float *beta,
                               float eps) {
    __m512d s0 = _mm512_setzero_pd(), s1 = s0;
    ptrdiff_t i = 0, v = n / 16 * 16;
    for (; i < v; i += 16) {
        s0 = _mm512_add_pd(s0, _mm512_cvtps_pd(_mm256_loadu_ps(x + i)));
        s1 = _mm512_add_pd(s1, _mm512_cvtps_pd(_mm256_loadu_ps(x + i + 8)));
    }
    double mean = n ? (_mm512_reduce_add_pd(_mm512_add_pd(s0, s1)) + sum_from(x, v, n)) / (double)n : 0.0;
    __m512d m = _mm512_set1_pd(mean);
    s0 = s1 = _mm512_setzero_pd();
    for (i = 0; i < v; i += 16) {
        __m512d d0 = _mm512_sub_pd(_mm512_cvtps_pd(_mm256_loadu_ps(x + i)), m);
        __m512d d1 = _mm512_sub_pd(_mm512_cvtps_pd(_mm256_loadu_ps(x + i + 8)), m);
        s0 = _mm512_fmadd_pd(d0, d0, s0);
        s1 = _mm512_fmadd_pd(d1, d1, s1);
    }
    double inv = inverse_std(_mm512_reduce_add_pd(_mm512_add_pd(s0, s1)) + sq_from(x, v, n, mean), n, eps);
    __m512d k = _mm512_set1_pd(inv);
    for (i = 0; i + 8 <= n; i += 8) {
        __m512d y = _mm512_mul_pd(_mm512_sub_pd(_mm512_cvtps_pd(_mm256_loadu_ps(x + i)), m), k);
        if (gamma) y = _mm512_mul_pd(y, _mm512_cvtps_pd(_mm256_loadu_ps(gamma + i)));
        if (beta) y = _mm512_add_pd(y, _mm512_cvtps_pd(_mm256_loadu_ps(beta + i)));
        _mm256_storeu_ps(o + i, _mm512_cvtpd_ps(y));
    }
    scale_from(x, o, i, n, mean, inv, gamma, beta);
}

MC_T256 static double hsum256d(__m256d a) {
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(a), _mm256_extractf128_pd(a, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}

MC_T256 static void row_avx2(const float *x, float *o, ptrdiff_t n, const float *gamma, const float *beta,
                             float eps) {
    __m256d s0 = _mm256_setzero_pd(), s1 = s0;
    ptrdiff_t i = 0, v = n / 8 * 8;
    for (; i < v; i += 8) {
        s0 = _mm256_add_pd(s0, _mm256_cvtps_pd(_mm_loadu_ps(x + i)));
        s1 = _mm256_add_pd(s1, _mm256_cvtps_pd(_mm_loadu_ps(x + i + 4)));
    }
    double mean = n ? (hsum256d(_mm256_add_pd(s0, s1)) + sum_from(x, v, n)) / (double)n : 0.0;
    __m256d m = _mm256_set1_pd(mean);
    s0 = s1 = _mm256_setzero_pd();
    for (i = 0; i < v; i += 8) {
        __m256d d0 = _mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(x + i)), m);
        __m256d d1 = _mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(x + i + 4)), m);
        s0 = _mm256_fmadd_pd(d0, d0, s0);
        s1 = _mm256_fmadd_pd(d1, d1, s1);
    }
    double inv = inverse_std(hsum256d(_mm256_add_pd(s0, s1)) + sq_from(x, v, n, mean), n, eps);
    __m256d k = _mm256_set1_pd(inv);
    for (i = 0; i + 4 <= n; i += 4) {
        __m256d y = _mm256_mul_pd(_mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(x + i)), m), k);
        if (gamma) y = _mm256_mul_pd(y, _mm256_cvtps_pd(_mm_loadu_ps(gamma + i)));
        if (beta) y = _mm256_add_pd(y, _mm256_cvtps_pd(_mm_loadu_ps(beta + i)));
        _mm_storeu_ps(o + i, _mm256_cvtpd_ps(y));
    }
    scale_from(x, o, i, n, mean, inv, gamma, beta);
}
#endif

typedef void (*norm_row_fn)(const float *x, float *o, ptrdiff_t n, const float *gamma, const float *beta,
                            float eps);
typedef struct { const float *x; float *out; ptrdiff_t n; const float *gamma, *beta; float eps; norm_row_fn row; } norm_job;

static void norm_rows(void *ctx, ptrdiff_t r0, ptrdiff_t r1) {
    const norm_job *j = ctx;
    for (ptrdiff_t r = r0; r < r1; r++) j->row(j->x + r * j->n, j->out + r * j->n, j->n, j->gamma, j->beta, j->eps);
}

void mc_layer_norm(const float *x, float *out, ptrdiff_t rows, ptrdiff_t n, const float *gamma,
                   const float *beta, float eps) {
    norm_job j = {x, out, n, gamma, beta, eps, row_portable};
#ifdef MC_X86
    int isa = mc_isa();
    if (isa == MC_ISA_AVX512) j.row = row_avx512;
    else if (isa == MC_ISA_AVX2) j.row = row_avx2;
#endif
    mc_parallel_for(rows, 8.0 * rows * n, norm_rows, &j);
}
