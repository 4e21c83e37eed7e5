/* Resizing the two last axes of [planes, H, W] (core.upsample).  The caller precomputes where
   each output row and column samples the input, so one kernel serves every coordinate mode of
   Core ML (asymmetric, align corners, half pixel, offset corners) and scale-factor upsampling.
   Bilinear interpolates along H first, then W, in float32, as the reference does in float64. */
#include "kernels_impl.h"

void mc_resize_bilinear(const float *x, float *out, ptrdiff_t planes, int H, int W, int OH, int OW,
                        const int *ylo, const int *yhi, const float *yfrac,
                        const int *xlo, const int *xhi, const float *xfrac) {
    for (ptrdiff_t p = 0; p < planes; p++) {
        const float *xp = x + p * (ptrdiff_t)H * W;
        float *op = out + p * (ptrdiff_t)OH * OW;
        for (int oy = 0; oy < OH; oy++) {
            const float *r0 = xp + (ptrdiff_t)ylo[oy] * W, *r1 = xp + (ptrdiff_t)yhi[oy] * W;
            float fy = yfrac[oy], gy = 1.f - fy;
            float *o = op + (ptrdiff_t)oy * OW;
            for (int ox = 0; ox < OW; ox++) {
                int a = xlo[ox], b = xhi[ox];
                float left = r0[a] * gy + r1[a] * fy, right = r0[b] * gy + r1[b] * fy;
                o[ox] = left * (1.f - xfrac[ox]) + right * xfrac[ox];
            }
        }
    }
}

void mc_resize_nearest(const float *x, float *out, ptrdiff_t planes, int H, int W, int OH, int OW,
                       const int *yidx, const int *xidx) {
    for (ptrdiff_t p = 0; p < planes; p++) {
        const float *xp = x + p * (ptrdiff_t)H * W;
        float *op = out + p * (ptrdiff_t)OH * OW;
        for (int oy = 0; oy < OH; oy++) {
            const float *row = xp + (ptrdiff_t)yidx[oy] * W;
            float *o = op + (ptrdiff_t)oy * OW;
            for (int ox = 0; ox < OW; ox++) o[ox] = row[xidx[ox]];
        }
    }
}
