/* The per-ISA body of blocked_dw.c, included once per ISA with VEC (one 16-lane pixel of a
   channel block), its V_* operations, ISA_FN (name suffix) and ISA_TARGET defined; it
   undefines them at its end.  Keeping one body keeps the three paths' arithmetic identical:
   bias first, then the taps in (kh, kw) order, then residual and activation; sums and maxima
   in the same order. */

#define DW_INLINE ISA_TARGET static inline __attribute__((always_inline))

/* act(acc + residual) into pixel ow of the row, lanes past the block's channels zeroed; relu
   and clip are a clamp to [lo, hi] (vectors hoisted by the caller). */
DW_INLINE void ISA_FN(dw_store)(const dw_row *r, int ow, VEC acc, VEC lo, VEC hi) {
    if (r->res) acc = V_ADD(acc, V_LOAD(r->res + (size_t)ow * 16));
    if (r->clamp) acc = V_MIN(hi, V_MAX(lo, acc));
    else if (r->act) acc = V_ACT(acc, r->act);
    if (r->lanes < 16) acc = V_KEEP_LANES(acc, r->lanes);
    V_STORE(r->out + (size_t)ow * 16, acc);
}

/* NO pixels from ow whose taps all lie inside the image columns.  With NO, KW, SW and DW
   constants the loops unroll; with DW_PRELOAD (enough registers) each input pixel of a kernel
   row is loaded once into a register and feeds every (pixel, kw) pair that reads it, instead
   of one load per FMA (stride 1, 3x3: 10 loads for 24 FMAs). */
DW_INLINE void ISA_FN(dw_interior)(const dw_row *r, int ow, const int NO, const int KW, const int SW,
                                   const int DW, const int preload) {
    const mc_conv_shape *s = r->s;
    VEC acc[DW_MAX_NO], in[DW_MAX_IN];
    VEC b = V_LOAD(r->bias);
#pragma GCC unroll 16
    for (int i = 0; i < NO; i++) acc[i] = b;
    const float *xo = r->x + ((ptrdiff_t)ow * SW - s->pad_l) * 16;
    const int span = (NO - 1) * SW + (KW - 1) * DW + 1;
    for (int kh = r->kh0; kh < r->kh1; kh++) {
        const float *xr = xo + (ptrdiff_t)(r->ih0 + kh * s->dil_h) * s->W * 16;
        const float *wr = r->w + (size_t)kh * KW * 16;
        if (preload)
#pragma GCC unroll 32
            for (int p = 0; p < span; p++) in[p] = V_LOAD(xr + (ptrdiff_t)p * 16);
#pragma GCC unroll 8
        for (int kw = 0; kw < KW; kw++) {
            VEC wv = V_LOAD(wr + kw * 16);
#pragma GCC unroll 16
            for (int i = 0; i < NO; i++)
                acc[i] = V_FMA(wv, preload ? in[i * SW + kw * DW] : V_LOAD(xr + (ptrdiff_t)(i * SW + kw * DW) * 16),
                               acc[i]);
        }
    }
    VEC lo = V_SET1(r->lo), hi = V_SET1(r->hi);
#pragma GCC unroll 16
    for (int i = 0; i < NO; i++) ISA_FN(dw_store)(r, ow + i, acc[i], lo, hi);
}

/* A border pixel: the taps outside the image columns are skipped (the same order otherwise). */
ISA_TARGET static void ISA_FN(dw_border)(const dw_row *r, int ow) {
    const mc_conv_shape *s = r->s;
    int iw = ow * s->stride_w - s->pad_l, kw0, kw1;
    tap_range(iw, s->dil_w, s->KW, s->W, &kw0, &kw1);
    VEC acc = V_LOAD(r->bias);
    for (int kh = r->kh0; kh < r->kh1; kh++) {
        const float *xr = r->x + ((ptrdiff_t)(r->ih0 + kh * s->dil_h) * s->W + iw) * 16;
        const float *wr = r->w + (size_t)kh * s->KW * 16;
        for (int kw = kw0; kw < kw1; kw++)
            acc = V_FMA(V_LOAD(wr + kw * 16), V_LOAD(xr + (ptrdiff_t)kw * s->dil_w * 16), acc);
    }
    ISA_FN(dw_store)(r, ow, acc, V_SET1(r->lo), V_SET1(r->hi));
}

/* Groups of `no` pixels, the size picked per row by dw_group_size among DW_NO and two smaller
   ones (an interior of 12 runs as 6 + 6, of 7 as 4 + 4, of 54 as 8s); a remainder is covered
   by one more group ending at hi, which recomputes (bit for bit) a few pixels of the previous
   one; singles only when the interior is narrower than every size. */
#define DW_GROUPS(NO, KW, SW, DW, PRE)                                                             \
    do {                                                                                           \
        for (; ow + NO <= hi; ow += NO) ISA_FN(dw_interior)(r, ow, NO, KW, SW, DW, PRE);            \
        if (ow < hi && hi - lo >= NO) ISA_FN(dw_interior)(r, hi - NO, NO, KW, SW, DW, PRE), ow = hi; \
    } while (0)
#define DW_INTERIOR_RUN(KW, SW, DW, PRE)                                                           \
    do {                                                                                           \
        int no = dw_group_size(hi - lo, DW_NO, DW_NO_B, DW_NO_C);                                 \
        if (no == DW_NO) DW_GROUPS(DW_NO, KW, SW, DW, PRE);                                        \
        else if (no == DW_NO_B) DW_GROUPS(DW_NO_B, KW, SW, DW, PRE);                               \
        else if (no == DW_NO_C) DW_GROUPS(DW_NO_C, KW, SW, DW, PRE);                               \
        for (; ow < hi; ow++) ISA_FN(dw_interior)(r, ow, 1, KW, SW, DW, PRE);                      \
    } while (0)

/* One output row: border columns [0, lo) and [hi, OW), interior [lo, hi) in groups of DW_NO;
   MobileNet's 3x3 and 5x5 kernels at strides 1 and 2 get unrolled copies. */
ISA_TARGET static void ISA_FN(dw_row_run)(const dw_row *r, int lo, int hi) {
    const mc_conv_shape *s = r->s;
    int ow = 0;
    for (; ow < lo; ow++) ISA_FN(dw_border)(r, ow);
    int k = s->KW, sw = s->stride_w;
    if (s->dil_w == 1 && k == 3 && sw == 1) DW_INTERIOR_RUN(3, 1, 1, DW_PRELOAD);
    else if (s->dil_w == 1 && k == 3 && sw == 2) DW_INTERIOR_RUN(3, 2, 1, DW_PRELOAD);
    else if (s->dil_w == 1 && k == 5 && sw == 1) DW_INTERIOR_RUN(5, 1, 1, DW_PRELOAD);
    else if (s->dil_w == 1 && k == 5 && sw == 2) DW_INTERIOR_RUN(5, 2, 1, DW_PRELOAD);
    else DW_INTERIOR_RUN(k, sw, s->dil_w, 0);
    for (; ow < s->OW; ow++) ISA_FN(dw_border)(r, ow);
}
#undef DW_INTERIOR_RUN
#undef DW_GROUPS

/* Pixel ow of a pooling row: its window clipped to the image (no per-element tests); max
   propagates NaN, an empty window gives 0. */
DW_INLINE VEC ISA_FN(pool_pixel)(const pool_row *r, int ow, const int is_max) {
    const mc_pool_shape *s = r->s;
    int w0, w1, cw = clip_window(ow * s->stride_w - s->pad_l, s->KW, s->W, s->pad_r, &w0, &w1);
    if (r->h0 >= r->h1 || w0 >= w1) return V_ZERO();
    VEC acc = is_max ? V_SET1(-INFINITY) : V_ZERO();
    for (int h = r->h0; h < r->h1; h++) {
        const float *xr = r->x + ((size_t)h * s->W + w0) * 16;
        for (int w = 0; w < w1 - w0; w++)
            acc = is_max ? V_MAX_NAN(acc, V_LOAD(xr + (size_t)w * 16)) : V_ADD(acc, V_LOAD(xr + (size_t)w * 16));
    }
    if (is_max) return acc;
    int count = r->exclude ? (r->h1 - r->h0) * (w1 - w0) : r->ch * cw;
    return count > 0 ? V_MUL(acc, V_SET1(1.f / (float)count)) : V_ZERO();
}

ISA_TARGET static void ISA_FN(pool_row_run)(const pool_row *r) {
    for (int ow = 0; ow < r->s->OW; ow++)
        V_STORE(r->out + (size_t)ow * 16, r->is_max ? ISA_FN(pool_pixel)(r, ow, 1) : ISA_FN(pool_pixel)(r, ow, 0));
}

/* Sum or max of HW pixels of one block into out[16]: four partial results (pixel p into
   p % 4) combined as (0, 1), (2, 3). */
DW_INLINE VEC ISA_FN(global_reduce)(const float *x, int HW, const int is_max) {
    VEC a[4];
#pragma GCC unroll 4
    for (int k = 0; k < 4; k++) a[k] = is_max ? V_SET1(-INFINITY) : V_ZERO();
    int p = 0;
    for (; p + 4 <= HW; p += 4)
#pragma GCC unroll 4
        for (int k = 0; k < 4; k++) {
            VEC v = V_LOAD(x + (size_t)(p + k) * 16);
            a[k] = is_max ? V_MAX_NAN(a[k], v) : V_ADD(a[k], v);
        }
#pragma GCC unroll 4
    for (int k = 0; k < 3; k++)
        if (p + k < HW) {
            VEC v = V_LOAD(x + (size_t)(p + k) * 16);
            a[k] = is_max ? V_MAX_NAN(a[k], v) : V_ADD(a[k], v);
        }
    return is_max ? V_MAX_NAN(V_MAX_NAN(a[0], a[1]), V_MAX_NAN(a[2], a[3]))
                  : V_ADD(V_ADD(a[0], a[1]), V_ADD(a[2], a[3]));
}

ISA_TARGET static void ISA_FN(global_block)(const float *x, int HW, float *out, int is_max) {
    VEC r = HW <= 0 ? V_ZERO() : is_max ? ISA_FN(global_reduce)(x, HW, 1)
                             : V_MUL(ISA_FN(global_reduce)(x, HW, 0), V_SET1(1.f / (float)HW));
    V_STORE(out, r);
}

#undef DW_INLINE
/* the parameters, so the next ISA can define its own */
#undef VEC
#undef V_LOAD
#undef V_STORE
#undef V_ZERO
#undef V_SET1
#undef V_FMA
#undef V_ADD
#undef V_MUL
#undef V_MIN
#undef V_MAX
#undef V_MAX_NAN
#undef V_ACT
#undef V_KEEP_LANES
#undef ISA_FN
#undef ISA_TARGET
#undef DW_NO
#undef DW_NO_B
#undef DW_NO_C
#undef DW_PRELOAD
