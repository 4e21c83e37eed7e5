/* Winograd F(m x m, 3 x 3), m = 2 or 4 (alpha = m + 2 points 0, +-1, +-2, inf; Lavin & Gray).
   The input is zero-padded once into whole tiles; the tile grid is cut into blocks of nt tiles
   (nt sized so the block's transformed input and GEMM result stay near L2), each block one
   task: gather the alpha x alpha input tiles of every channel into [alpha^2][nt] (tile index
   innermost), transform with 1-D passes vectorised across the tiles, then alpha^2 GEMMs
   U_xi[Cout, C] @ V_xi[C, nt] through mc_gemm / mc_gemm_w32 (the weight panels of kernels.h,
   transformed at packing), then the output transform, bias, residual and activation on the
   [m^2][nt] tile vectors before they are scattered to NCHW.  The transforms are written once
   as plain loops and compiled per ISA (portable / AVX2 / AVX-512 clones). */
#include "winograd.h"
#include "kernels_impl.h"
#include "vecmath.h"

#include <string.h>

enum { WINO_MAX_ALPHA = 6, WINO_BLOCK_BYTES = 1 << 22 };

/* ---------------------------------------------------------------- weights ---------- */

/* G (alpha x 3) of F(2,3) and F(4,3), row-major. */
static const double G2[4 * 3] = {1, 0, 0, .5, .5, .5, .5, -.5, .5, 0, 0, 1};
static const double G4[6 * 3] = {1. / 4, 0, 0, -1. / 6, -1. / 6, -1. / 6, -1. / 6, 1. / 6, -1. / 6,
                                 1. / 24, 1. / 12, 1. / 6, 1. / 24, -1. / 12, 1. / 6, 0, 0, 1};

size_t mc_winograd_packed_size(int m, int Cout, int C) {
    int alpha = m + 2;
    return (size_t)alpha * alpha * mc_packed_size(Cout, C);
}

/* u[xi][co][c] = (G g G^T)[r][q], xi = r * alpha + q, in double rounded once to float. */
static float *transform_weights(int m, const float *w, int Cout, int C) {
    if (m != 2 && m != 4) return NULL;
    int alpha = m + 2, A2 = alpha * alpha;
    const double *G = m == 2 ? G2 : G4;
    float *u = malloc(sizeof(float) * (size_t)A2 * Cout * C + 16);
    if (!u) return NULL;
    for (size_t oc = 0; oc < (size_t)Cout * C; oc++) {
        const float *g = w + oc * 9;
        double t[WINO_MAX_ALPHA][3];   /* G g */
        for (int r = 0; r < alpha; r++)
            for (int b = 0; b < 3; b++)
                t[r][b] = G[r * 3] * g[b] + G[r * 3 + 1] * g[3 + b] + G[r * 3 + 2] * g[6 + b];
        for (int r = 0; r < alpha; r++)
            for (int q = 0; q < alpha; q++)
                u[(size_t)(r * alpha + q) * Cout * C + oc] =
                    (float)(t[r][0] * G[q * 3] + t[r][1] * G[q * 3 + 1] + t[r][2] * G[q * 3 + 2]);
    }
    return u;
}

int mc_winograd_pack_f16(int m, const float *w, int Cout, int C, uint16_t *packed) {
    float *u = transform_weights(m, w, Cout, C);
    if (!u) return -1;
    size_t ps = mc_packed_size(Cout, C);
    for (int xi = 0; xi < (m + 2) * (m + 2); xi++)
        mc_pack_weights_f32(u + (size_t)xi * Cout * C, Cout, C, C, packed + xi * ps);
    free(u);
    return 0;
}

int mc_winograd_pack_f32(int m, const float *w, int Cout, int C, float *packed) {
    float *u = transform_weights(m, w, Cout, C);
    if (!u) return -1;
    size_t ps = mc_packed_size(Cout, C);
    for (int xi = 0; xi < (m + 2) * (m + 2); xi++)
        mc_pack_weights_f32_panels(u + (size_t)xi * Cout * C, Cout, C, C, packed + xi * ps);
    free(u);
    return 0;
}

/* ---------------------------------------------------------------- 1-D transforms --- */
/* Each applies one transform matrix to alpha (or m) vectors of n tiles: in[k] + t*... */

#define WINO_INLINE static inline __attribute__((always_inline))

/* o = B^T d over the alpha vectors d[0..alpha) (element stride 1, n elements). */
WINO_INLINE void bt_1d(int m, const float *const *d, float *const *o, int n) {
    if (m == 2) {
        const float *restrict d0 = d[0], *restrict d1 = d[1], *restrict d2 = d[2], *restrict d3 = d[3];
        float *restrict o0 = o[0], *restrict o1 = o[1], *restrict o2 = o[2], *restrict o3 = o[3];
        for (int t = 0; t < n; t++) {
            o0[t] = d0[t] - d2[t];
            o1[t] = d1[t] + d2[t];
            o2[t] = d2[t] - d1[t];
            o3[t] = d1[t] - d3[t];
        }
        return;
    }
    const float *restrict d0 = d[0], *restrict d1 = d[1], *restrict d2 = d[2], *restrict d3 = d[3],
                *restrict d4 = d[4], *restrict d5 = d[5];
    float *restrict o0 = o[0], *restrict o1 = o[1], *restrict o2 = o[2], *restrict o3 = o[3],
          *restrict o4 = o[4], *restrict o5 = o[5];
    for (int t = 0; t < n; t++) {
        float a = d4[t] - 4.f * d2[t], b = d3[t] - 4.f * d1[t];   /* o1, o2 = a +- b */
        float c = d4[t] - d2[t], e = 2.f * (d3[t] - d1[t]);         /* o3, o4 = c +- e */
        o0[t] = 4.f * d0[t] - 5.f * d2[t] + d4[t];
        o1[t] = a + b;
        o2[t] = a - b;
        o3[t] = c + e;
        o4[t] = c - e;
        o5[t] = 4.f * d1[t] - 5.f * d3[t] + d5[t];
    }
}

/* y = A^T v over alpha vectors v -> m vectors y. */
WINO_INLINE void at_1d(int m, const float *const *v, float *const *y, int n) {
    if (m == 2) {
        const float *restrict v0 = v[0], *restrict v1 = v[1], *restrict v2 = v[2], *restrict v3 = v[3];
        float *restrict y0 = y[0], *restrict y1 = y[1];
        for (int t = 0; t < n; t++) {
            y0[t] = v0[t] + v1[t] + v2[t];
            y1[t] = v1[t] - v2[t] - v3[t];
        }
        return;
    }
    const float *restrict v0 = v[0], *restrict v1 = v[1], *restrict v2 = v[2], *restrict v3 = v[3],
                *restrict v4 = v[4], *restrict v5 = v[5];
    float *restrict y0 = y[0], *restrict y1 = y[1], *restrict y2 = y[2], *restrict y3 = y[3];
    for (int t = 0; t < n; t++) {
        float p = v1[t] + v2[t], q = v1[t] - v2[t], r = v3[t] + v4[t], s = v3[t] - v4[t];
        y0[t] = v0[t] + p + r;
        y1[t] = q + 2.f * s;
        y2[t] = p + 4.f * r;
        y3[t] = q + 8.f * s + v5[t];
    }
}

/* One channel, one segment of cnt tiles on a tile row: rows[i] (i < alpha) are the padded
   input rows th*m + i from column tw0*m.  The vertical pass runs along whole rows (contiguous,
   cnt*m + 2 columns) into T [alpha][tld]; each of its rows is split into m column phases
   ph[k][q] = T[r][q*m + k] (ph [m][pld]), so the horizontal pass reads tile q's columns
   0..alpha-1 as phases 0..m-1 at q and phases 0, 1 at q + 1, all contiguous in q.
   V[xi] (stride vstride) receives cnt values per xi. */
WINO_INLINE void input_segment(int m, const float *const *rows, int cnt, float *T, int tld, float *ph, int pld,
                               float *V, ptrdiff_t vstride) {
    int alpha = m + 2;
    const float *in[WINO_MAX_ALPHA];
    float *out[WINO_MAX_ALPHA];
    for (int r = 0; r < alpha; r++) out[r] = T + (size_t)r * tld;
    bt_1d(m, rows, out, cnt * m + 2);
    for (int r = 0; r < alpha; r++) {
        const float *t = T + (size_t)r * tld;
        for (int q = 0; q < cnt; q++)
            for (int k = 0; k < m; k++) ph[k * pld + q] = t[q * m + k];
        ph[cnt] = t[cnt * m];
        ph[pld + cnt] = t[cnt * m + 1];
        for (int k = 0; k < m; k++) in[k] = ph + k * pld;
        in[m] = ph + 1, in[m + 1] = ph + pld + 1;
        for (int q = 0; q < alpha; q++) out[q] = V + (r * alpha + q) * vstride;
        bt_1d(m, in, out, cnt);
    }
}

/* Y [m^2][ld] = A^T M A for M (alpha^2 vectors, stride mstride); Z is an [alpha*m][ld] temporary. */
WINO_INLINE void output_2d(int m, const float *M, ptrdiff_t mstride, float *Z, float *Y, int ld, int n) {
    int alpha = m + 2;
    const float *in[WINO_MAX_ALPHA];
    float *out[WINO_MAX_ALPHA];
    for (int r = 0; r < alpha; r++) {          /* rows: Z[r][j] = sum_q AT[j][q] M[r][q] */
        for (int q = 0; q < alpha; q++) in[q] = M + (r * alpha + q) * mstride;
        for (int j = 0; j < m; j++) out[j] = Z + (size_t)(r * m + j) * ld;
        at_1d(m, in, out, n);
    }
    for (int j = 0; j < m; j++) {              /* columns: Y[i][j] = sum_r AT[i][r] Z[r][j] */
        for (int r = 0; r < alpha; r++) in[r] = Z + (size_t)(r * m + j) * ld;
        for (int i = 0; i < m; i++) out[i] = Y + (size_t)(i * m + j) * ld;
        at_1d(m, in, out, n);
    }
}

/* Output row i of cnt tiles: row[q*m + j] = Y[i*m + j][q] (Y [m^2][ld]). */
WINO_INLINE void interleave_row(int m, const float *Y, int ld, int i, int cnt, float *row) {
    for (int q = 0; q < cnt; q++)
        for (int j = 0; j < m; j++) row[q * m + j] = Y[(size_t)(i * m + j) * ld + q];
}

typedef void (*input_fn)(int m, const float *const *rows, int cnt, float *T, int tld, float *ph, int pld,
                         float *V, ptrdiff_t vstride);
typedef void (*output_fn)(int m, const float *M, ptrdiff_t mstride, float *Z, float *Y, int ld, int n);
typedef void (*interleave_fn)(int m, const float *Y, int ld, int i, int cnt, float *row);

/* m is a literal in each branch so the 1-D transforms inline fully specialised. */
#define WINO_CLONES(SUFFIX, ATTR)                                                                   \
    ATTR static void input_##SUFFIX(int m, const float *const *rows, int cnt, float *T, int tld,     \
                                    float *ph, int pld, float *V, ptrdiff_t vs) {                    \
        if (m == 2) input_segment(2, rows, cnt, T, tld, ph, pld, V, vs);                             \
        else input_segment(4, rows, cnt, T, tld, ph, pld, V, vs);                                    \
    }                                                                                                \
    ATTR static void output_##SUFFIX(int m, const float *M, ptrdiff_t ms, float *Z, float *Y, int ld, int n) { \
        if (m == 2) output_2d(2, M, ms, Z, Y, ld, n);                                                \
        else output_2d(4, M, ms, Z, Y, ld, n);                                                       \
    }                                                                                                \
    ATTR static void interleave_##SUFFIX(int m, const float *Y, int ld, int i, int cnt, float *row) { \
        if (m == 2) interleave_row(2, Y, ld, i, cnt, row);                                           \
        else interleave_row(4, Y, ld, i, cnt, row);                                                  \
    }

WINO_CLONES(portable, )
#ifdef MC_X86
WINO_CLONES(avx2, MC_T256)
WINO_CLONES(avx512, MC_T512)
#endif

/* ---------------------------------------------------------------- driver ----------- */

typedef struct {
    int m, alpha, A2;
    const mc_conv_shape *s;
    const float *x;          /* the input [C][H][W] */
    const float *P;          /* zero-padded input [C][PH][PW], whole tiles */
    int PH, PW, TW, ntiles, nt;
    mc_panels U;
    size_t usize;
    float *out;
    const mc_epilogue *ep;
    input_fn input;
    output_fn output;
    interleave_fn interleave;
} wino_job;

/* The tiles [t0, t0 + n) of a block lie on one or more tile rows: each row's run is a segment
   (tile row th, first tile column tw0, cnt tiles, at offset off in the block). */
#define FOR_SEGMENTS(j, t0, n)                                                                     \
    for (int off = 0, th, tw0, cnt; off < (n); off += cnt)                                          \
        if (th = ((t0) + off) / (j)->TW, tw0 = ((t0) + off) % (j)->TW,                              \
            cnt = (j)->TW - tw0 < (n) - off ? (j)->TW - tw0 : (n) - off, 1)

/* Transformed input of channel c for the block's tiles into V[xi][c][*]. */
static void transform_input(const wino_job *j, int c, int t0, int n, float *V, float *T, float *ph) {
    int m = j->m, nt = j->nt, C = j->s->C;
    const float *plane = j->P + (size_t)c * j->PH * j->PW;
    const float *rows[WINO_MAX_ALPHA];
    FOR_SEGMENTS(j, t0, n) {
        for (int i = 0; i < j->alpha; i++) rows[i] = plane + (size_t)(th * m + i) * j->PW + (size_t)tw0 * m;
        j->input(m, rows, cnt, T, nt * m + 8, ph, nt + 8, V + (size_t)c * nt + off, (ptrdiff_t)C * nt);
    }
}

/* Y [m^2][nt] of output channel co, row by row: act(row + bias + residual) stored to out. */
static void finish_tiles(const wino_job *j, int co, int t0, int n, const float *Y, float *row) {
    const mc_conv_shape *s = j->s;
    const mc_epilogue *ep = j->ep;
    int m = j->m;
    float bias = ep && ep->bias ? ep->bias[co] : 0.f;
    const float *res = ep && ep->residual ? ep->residual + (size_t)co * ep->ldr : NULL;
    int act = ep && ep->act != MC_ACT_NONE;
    float *o = j->out + (size_t)co * s->OH * s->OW;
    FOR_SEGMENTS(j, t0, n) {
        int col = tw0 * m, len = s->OW - col < cnt * m ? s->OW - col : cnt * m;
        for (int i = 0; i < m && th * m + i < s->OH; i++) {
            size_t at = (size_t)(th * m + i) * s->OW + col;
            float *dst = o + at;
            j->interleave(m, Y + off, j->nt, i, cnt, row);
            if (res) for (int k = 0; k < len; k++) dst[k] = row[k] + bias + res[at + k];
            else for (int k = 0; k < len; k++) dst[k] = row[k] + bias;
            if (act) mc_activation(dst, (size_t)len, ep);
        }
    }
}

/* The three stages of one block of n tiles from tile t0: the input transform of channels
   [c0, c1), the GEMM of point xi, the output transform of output channels [o0, o1).  V and Mo
   hold the block's transformed input and GEMM results, T, Y and ph are working rows. */
static void stage_input(const wino_job *j, int c0, int c1, int t0, int n, float *V, float *T, float *ph) {
    for (int c = c0; c < c1; c++) transform_input(j, c, t0, n, V, T, ph);
}

static void stage_gemm(const wino_job *j, int xi, int n, const float *V, float *Mo) {
    int nt = j->nt, C = j->s->C, Cout = j->s->Cout;
    mc_panels u = mc_panels_at(j->U, xi * j->usize);
    const float *vx = V + (size_t)xi * C * nt;
    float *mx = Mo + (size_t)xi * Cout * nt;
    if (u.f32) mc_gemm_w32(u.p, Cout, C, n, vx, nt, mx, nt, NULL);
    else mc_gemm(u.p, Cout, C, n, vx, nt, mx, nt, NULL);
}

static void stage_output(const wino_job *j, int o0, int o1, int t0, int n, const float *Mo, float *T, float *Y,
                         float *ph) {
    int Cout = j->s->Cout, nt = j->nt;
    for (int co = o0; co < o1; co++) {
        j->output(j->m, Mo + (size_t)co * nt, (ptrdiff_t)Cout * nt, T, Y, nt, n);
        finish_tiles(j, co, t0, n, Y, ph);
    }
}

static size_t block_floats(const wino_job *j) { return (size_t)j->A2 * (j->s->C + j->s->Cout) * j->nt; }
static size_t rows_floats(const wino_job *j) { return (size_t)j->A2 * (j->nt * j->m + 8); }

/* One whole block per task: the split when there are blocks enough for every thread. */
static void wino_block(void *ctx, int task, int thread) {
    (void)thread;
    const wino_job *j = ctx;
    int t0 = task * j->nt, n = j->ntiles - t0 < j->nt ? j->ntiles - t0 : j->nt;
    size_t tsz = rows_floats(j);
    float *V = mc_scratch(MC_SLOT_OWN, block_floats(j) + 3 * tsz + 64);
    float *Mo = V + (size_t)j->A2 * j->s->C * j->nt, *T = Mo + (size_t)j->A2 * j->s->Cout * j->nt;
    float *Y = T + tsz, *ph = Y + tsz;
    stage_input(j, 0, j->s->C, t0, n, V, T, ph);
    for (int xi = 0; xi < j->A2; xi++) stage_gemm(j, xi, n, V, Mo);
    stage_output(j, 0, j->s->Cout, t0, n, Mo, T, Y, ph);
}

/* Too few blocks for the threads (small images, deep layers): each block's stages are split
   instead, channels for the transforms and the alpha^2 points for the GEMMs, with the
   block's V and Mo shared.  The stages compute exactly what wino_block does. */
typedef struct {
    const wino_job *j;
    int t0, n, chunk;               /* tiles of the block; channels per transform task */
    float *V, *Mo;
} wino_stage;

static float *stage_rows(const wino_job *j) { return mc_scratch(MC_SLOT_MISC, 3 * rows_floats(j) + 64); }

static void stage_input_task(void *ctx, int task, int thread) {
    (void)thread;
    const wino_stage *st = ctx;
    int c0 = task * st->chunk, c1 = c0 + st->chunk < st->j->s->C ? c0 + st->chunk : st->j->s->C;
    float *T = stage_rows(st->j), *ph = T + 2 * rows_floats(st->j);
    stage_input(st->j, c0, c1, st->t0, st->n, st->V, T, ph);
}

static void stage_gemm_task(void *ctx, int task, int thread) {
    (void)thread;
    const wino_stage *st = ctx;
    stage_gemm(st->j, task, st->n, st->V, st->Mo);
}

static void stage_output_task(void *ctx, int task, int thread) {
    (void)thread;
    const wino_stage *st = ctx;
    int o0 = task * st->chunk, o1 = o0 + st->chunk < st->j->s->Cout ? o0 + st->chunk : st->j->s->Cout;
    float *T = stage_rows(st->j), *Y = T + rows_floats(st->j), *ph = Y + rows_floats(st->j);
    stage_output(st->j, o0, o1, st->t0, st->n, st->Mo, T, Y, ph);
}

/* Channel chunks for `threads` threads: several per thread, so a late thread is covered. */
static int chunk_for(int channels, int threads) {
    int tasks = 4 * threads < channels ? 4 * threads : channels;
    return (channels + tasks - 1) / tasks;
}

static void run_staged(const wino_job *j, int blocks, int threads) {
    const mc_conv_shape *s = j->s;
    wino_stage st = {j, 0, 0, 0, NULL, NULL};
    st.V = mc_scratch(MC_SLOT_OWN, block_floats(j) + 64);
    st.Mo = st.V + (size_t)j->A2 * s->C * j->nt;
    int cin = chunk_for(s->C, threads), cout = chunk_for(s->Cout, threads);
    for (int b = 0; b < blocks; b++) {
        st.t0 = b * j->nt;
        st.n = j->ntiles - st.t0 < j->nt ? j->ntiles - st.t0 : j->nt;
        st.chunk = cin;
        mc_parallel((s->C + cin - 1) / cin, threads, stage_input_task, &st);
        mc_parallel(j->A2, threads, stage_gemm_task, &st);
        st.chunk = cout;
        mc_parallel((s->Cout + cout - 1) / cout, threads, stage_output_task, &st);
    }
}

static int wino_shape_ok(int m, const mc_conv_shape *s) {
    return (m == 2 || m == 4) && s->KH == 3 && s->KW == 3 && s->stride_h == 1 && s->stride_w == 1 &&
           s->dil_h == 1 && s->dil_w == 1 && s->groups == 1 && s->OH > 0 && s->OW > 0;
}

int mc_winograd_block_tiles(int m, int C, int Cout) {
    int alpha = m + 2;
    size_t per_tile = sizeof(float) * (size_t)alpha * alpha * ((size_t)C + Cout);
    int nt = (int)(WINO_BLOCK_BYTES / per_tile);
    nt = nt < 16 ? 16 : nt > 256 ? 256 : nt;
    return (nt + 7) / 8 * 8;
}

size_t mc_winograd_scratch_floats(int m, const mc_conv_shape *s) {
    int alpha = m + 2, A2 = alpha * alpha, nt = mc_winograd_block_tiles(m, s->C, s->Cout);
    int TH = (s->OH + m - 1) / m, TW = (s->OW + m - 1) / m;
    size_t padded = (size_t)s->C * (TH * m + 2) * (TW * m + 2);
    return padded + (size_t)A2 * (s->C + s->Cout) * nt + 3 * (size_t)A2 * (nt * m + 8) + 64;
}

/* Zero-padded planes of channels [c0, c1). */
static void pad_channels(void *ctx, ptrdiff_t c0, ptrdiff_t c1) {
    const wino_job *j = ctx;
    const mc_conv_shape *s = j->s;
    float *P = (float *)j->P;
    size_t plane = (size_t)j->PH * j->PW;
    memset(P + c0 * plane, 0, sizeof(float) * plane * (c1 - c0));
    int rows = s->H < j->PH - s->pad_t ? s->H : j->PH - s->pad_t;
    int cols = s->W < j->PW - s->pad_l ? s->W : j->PW - s->pad_l;
    for (ptrdiff_t c = c0; c < c1; c++)
        for (int h = 0; h < rows; h++)
            memcpy(P + ((size_t)c * j->PH + h + s->pad_t) * j->PW + s->pad_l,
                   j->x + ((size_t)c * s->H + h) * s->W, sizeof(float) * cols);
}

static int winograd_panels(int m, const mc_conv_shape *s, const float *x, mc_panels U, float *out,
                           const mc_epilogue *ep) {
    if (!wino_shape_ok(m, s)) return -1;
    wino_job j = {m, m + 2, (m + 2) * (m + 2), s, NULL, NULL, 0, 0, 0, 0, 0, U, mc_packed_size(s->Cout, s->C),
                  out, ep, input_portable, output_portable, interleave_portable};
#ifdef MC_X86
    int isa = mc_isa();
    if (isa == MC_ISA_AVX512) j.input = input_avx512, j.output = output_avx512, j.interleave = interleave_avx512;
    else if (isa == MC_ISA_AVX2) j.input = input_avx2, j.output = output_avx2, j.interleave = interleave_avx2;
#endif
    int TH = (s->OH + m - 1) / m;
    j.TW = (s->OW + m - 1) / m;
    j.PH = TH * m + 2, j.PW = j.TW * m + 2;
    j.ntiles = TH * j.TW;
    j.nt = mc_winograd_block_tiles(m, s->C, s->Cout);
    j.P = mc_scratch(MC_SLOT_PAD, (size_t)s->C * j.PH * j.PW + 64);
    double flops = 2.0 * j.A2 * s->C * (double)s->Cout * j.ntiles;
    int threads = mc_threads_for(flops);
    j.x = x;
    mc_parallel_for(s->C, 8.0 * s->C * j.PH * j.PW, pad_channels, &j);
    int blocks = (j.ntiles + j.nt - 1) / j.nt;
    if (threads > 1 && blocks < 2 * threads) run_staged(&j, blocks, threads);
    else mc_parallel(blocks, threads, wino_block, &j);
    return 0;
}

int mc_winograd_conv2d(int m, const mc_conv_shape *s, const float *x, const uint16_t *packed,
                       float *out, const mc_epilogue *ep) {
    mc_panels w = {packed, 0};
    return winograd_panels(m, s, x, w, out, ep);
}

int mc_winograd_conv2d_w32(int m, const mc_conv_shape *s, const float *x, const float *packed,
                           float *out, const mc_epilogue *ep) {
    mc_panels w = {packed, 1};
    return winograd_panels(m, s, x, w, out, ep);
}
