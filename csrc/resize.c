/* Resizing the two last axes of [planes, H, W] (core.upsample).  The caller precomputes where
   each output row and column samples the input, so one kernel serves every coordinate mode of
   Core ML (asymmetric, align corners, half pixel, offset corners) and scale-factor upsampling.
   Bilinear interpolates along H first, then W, in float32, as the reference does in float64. */
#include "kernels_impl.h"

/* The planes are independent: split over the threads. */
typedef struct {
    const float *x;
    float *out;
    int H, W, OH, OW;
    const int *ylo, *yhi, *xlo, *xhi;
    const float *yfrac, *xfrac;
} resize_job;

static void bilinear_planes(void *ctx, ptrdiff_t p0, ptrdiff_t p1) {
    const resize_job *j = ctx;
    int H = j->H, W = j->W, OH = j->OH, OW = j->OW;
    const int *ylo = j->ylo, *yhi = j->yhi, *xlo = j->xlo, *xhi = j->xhi;
    const float *yfrac = j->yfrac, *xfrac = j->xfrac, *x = j->x;
    float *out = j->out;
    for (ptrdiff_t p = p0; p < p1; p++) {
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

void mc_resize_bilinear(const float *x, float *out, ptrdiff_t planes, int H, int W, int OH, int OW,
                        const int *ylo, const int *yhi, const float *yfrac,
                        const int *xlo, const int *xhi, const float *xfrac) {
    resize_job j = {x, out, H, W, OH, OW, ylo, yhi, xlo, xhi, yfrac, xfrac};
    mc_parallel_for(planes, 8.0 * planes * OH * OW, bilinear_planes, &j);
}

static void nearest_planes(void *ctx, ptrdiff_t p0, ptrdiff_t p1) {
    const resize_job *j = ctx;
    int H = j->H, W = j->W, OH = j->OH, OW = j->OW;
    const int *yidx = j->ylo, *xidx = j->xlo;
    const float *x = j->x;
    float *out = j->out;
    for (ptrdiff_t p = p0; p < p1; p++) {
        const float *xp = x + p * (ptrdiff_t)H * W;
        float *op = out + p * (ptrdiff_t)OH * OW;
        for (int oy = 0; oy < OH; oy++) {
            const float *row = xp + (ptrdiff_t)yidx[oy] * W;
            float *o = op + (ptrdiff_t)oy * OW;
            for (int ox = 0; ox < OW; ox++) o[ox] = row[xidx[ox]];
        }
    }
}

void mc_resize_nearest(const float *x, float *out, ptrdiff_t planes, int H, int W, int OH, int OW,
                       const int *yidx, const int *xidx) {
    resize_job j = {x, out, H, W, OH, OW, yidx, NULL, xidx, NULL, NULL, NULL};
    mc_parallel_for(planes, 4.0 * planes * OH * OW, nearest_planes, &j);
}
