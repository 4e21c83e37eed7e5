/* Depthwise + pointwise in bands of output rows: for rows [r0, r1) the depthwise kernel runs on
   the sub-problem whose input rows are those the band reads (the padding that falls inside the
   band kept, the rest of the image cut off), writing [C][rows*OW] into a per-thread buffer sized
   to stay in L2; the pointwise GEMM then reads it in place and writes the band's columns of the
   [Cout][OH*OW] output with its epilogue.  Bands are independent tasks on the pool (the inner
   kernels then run on the calling thread). */
#include "dwpw.h"
#include "kernels_impl.h"

#include <string.h>

enum { DWPW_BAND_BYTES = 256 << 10, DWPW_MIN_COLUMNS = 96 };

int mc_dwpw_band_rows(const mc_conv_shape *s) {
    size_t row_bytes = sizeof(float) * (size_t)s->C * s->OW;
    int rows = (int)(DWPW_BAND_BYTES / (row_bytes ? row_bytes : 1));
    int min_rows = (DWPW_MIN_COLUMNS + s->OW - 1) / s->OW;
    if (rows < min_rows) rows = min_rows;
    return rows < 1 ? 1 : rows > s->OH ? s->OH : rows;
}

typedef struct {
    const mc_conv_shape *s;
    const float *x;
    mc_panels dw, pw;
    const mc_epilogue *dw_ep, *pw_ep;
    int Cout, rows;
    float *out;
} dwpw_job;

/* The depthwise sub-problem of output rows [r0, r0 + n): its first input row and shape. */
static const float *band_shape(const mc_conv_shape *s, const float *x, int r0, int n, mc_conv_shape *b) {
    int top = r0 * s->stride_h - s->pad_t;                                  /* first padded row read */
    int bottom = (r0 + n - 1) * s->stride_h - s->pad_t + (s->KH - 1) * s->dil_h;   /* last one */
    int first = top < 0 ? 0 : top, last = bottom >= s->H ? s->H - 1 : bottom;
    *b = *s;
    b->H = last - first + 1;
    b->pad_t = first - top;
    b->pad_b = bottom - last;
    b->OH = n;
    return x + (size_t)first * s->W;
}

static void dwpw_band(void *ctx, int task, int thread) {
    (void)thread;
    const dwpw_job *j = ctx;
    const mc_conv_shape *s = j->s;
    int r0 = task * j->rows, n = s->OH - r0 < j->rows ? s->OH - r0 : j->rows;
    size_t cols = (size_t)n * s->OW, plane = (size_t)s->OH * s->OW;
    mc_conv_shape b;
    const float *xb = band_shape(s, j->x, r0, n, &b);
    /* the sub-problem reads rows of each channel plane at the full plane stride */
    float *tile = mc_scratch(MC_SLOT_OWN, (size_t)s->C * cols + (size_t)s->C * b.H * s->W + 64);
    float *xin = tile + (size_t)s->C * cols;
    for (int c = 0; c < s->C; c++)
        memcpy(xin + (size_t)c * b.H * s->W, xb + (size_t)c * s->H * s->W, sizeof(float) * b.H * s->W);
    if (j->dw.f32) mc_depthwise_conv2d_w32(&b, xin, j->dw.p, tile, j->dw_ep);
    else mc_depthwise_conv2d(&b, xin, j->dw.p, tile, j->dw_ep);
    mc_epilogue ep, *epp = NULL;
    if (j->pw_ep) {
        ep = *j->pw_ep;
        if (ep.residual) ep.residual += (size_t)r0 * s->OW;
        epp = &ep;
    }
    float *o = j->out + (size_t)r0 * s->OW;
    if (j->pw.f32) mc_gemm_w32(j->pw.p, j->Cout, s->C, (int)cols, tile, (ptrdiff_t)cols, o, (ptrdiff_t)plane, epp);
    else mc_gemm(j->pw.p, j->Cout, s->C, (int)cols, tile, (ptrdiff_t)cols, o, (ptrdiff_t)plane, epp);
}

void mc_dwpw_conv2d(const mc_conv_shape *s, const float *x, const void *dw_w, const mc_epilogue *dw_ep,
                    const void *pw_packed, int Cout, int f32, float *out, const mc_epilogue *pw_ep) {
    dwpw_job j = {s, x, {dw_w, f32}, {pw_packed, f32}, dw_ep, pw_ep, Cout, mc_dwpw_band_rows(s), out};
    int bands = (s->OH + j.rows - 1) / j.rows;
    double flops = 2.0 * s->OH * s->OW * (double)s->C * (Cout + s->KH * s->KW);
    mc_parallel(bands, mc_threads_for(flops), dwpw_band, &j);
}
