/* Layer normalisation over the trailing n values of each row (core.layer_norm).  Mean and
   variance accumulate in double (two passes), as close to the float64 reference as float32
   output allows; rows are independent, so results do not depend on the thread count. */
#include "kernels_impl.h"

#include <math.h>

typedef struct { const float *x; float *out; ptrdiff_t n; const float *gamma, *beta; float eps; } norm_job;

static void norm_rows(void *ctx, ptrdiff_t r0, ptrdiff_t r1) {
    const norm_job *j = ctx;
    const float *x = j->x, *gamma = j->gamma, *beta = j->beta;
    float *out = j->out, eps = j->eps;
    ptrdiff_t n = j->n;
    for (ptrdiff_t r = r0; r < r1; r++) {
        const float *xr = x + r * n;
        float *o = out + r * n;
        double sum = 0.0, sq = 0.0;
        for (ptrdiff_t i = 0; i < n; i++) sum += xr[i];
        double mean = n ? sum / (double)n : 0.0;
        for (ptrdiff_t i = 0; i < n; i++) {
            double d = xr[i] - mean;
            sq += d * d;
        }
        double inv = 1.0 / sqrt((n ? sq / (double)n : 0.0) + (double)eps);
        for (ptrdiff_t i = 0; i < n; i++) {
            double y = (xr[i] - mean) * inv;
            if (gamma) y *= gamma[i];
            if (beta) y += beta[i];
            o[i] = (float)y;
        }
    }
}

void mc_layer_norm(const float *x, float *out, ptrdiff_t rows, ptrdiff_t n, const float *gamma,
                   const float *beta, float eps) {
    norm_job j = {x, out, n, gamma, beta, eps};
    mc_parallel_for(rows, 8.0 * rows * n, norm_rows, &j);
}
