/* Layer normalisation over the trailing n values of each row (core.layer_norm).  Mean and
   variance accumulate in double (two passes), as close to the float64 reference as float32
   output allows; rows are independent, so results do not depend on the thread count. */
#include "kernels_impl.h"

#include <math.h>

void mc_layer_norm(const float *x, float *out, ptrdiff_t rows, ptrdiff_t n, const float *gamma,
                   const float *beta, float eps) {
    for (ptrdiff_t r = 0; r < rows; r++) {
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
