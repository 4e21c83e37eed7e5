/* Winograd F(m x m, 3 x 3), m = 2 or 4 (alpha = m + 2 points 0, +-1, +-2, inf; Lavin & Gray).
   The input is zero-padded once into whole tiles, each row split into its m column phases;
   the tile grid is cut into equal blocks of at most nt tiles (the block's transformed input
   and GEMM result about 1 MB, L2), each block one task (with fewer than two blocks per
   thread, each block's three stages below are split over the threads instead): per channel,
   gather the alpha x alpha tiles as contiguous runs (one per tile row) into [alpha^2][tiles]
   and transform with 1-D passes over all the block's tiles; then per xi and 8-row weight
   panel a tile-vectorised GEMM M_xi[Cout, tiles] = U_xi @ V_xi (weights broadcast, 16 tiles
   per vector: no B packing and no transposing store; the panels of kernels.h, fp16 or fp32,
   transformed at packing); then per output channel the output transform over the block's
   tiles and an interleaving store with bias, residual and activation fused.  The 1-D passes
   are plain loops compiled per ISA (portable / AVX2 / AVX-512 clones); the GEMM, phase split
   and store have AVX-512 (and AVX2 GEMM) intrinsics. */
#include "winograd.h"
#include "kernels_impl.h"
#include "vecmath.h"

#include <string.h>

enum { WINO_MAX_ALPHA = 6, WINO_BLOCK_BYTES = 1 << 20 };

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
    #pragma GCC ivdep
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
#pragma GCC ivdep
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
    #pragma GCC ivdep
    for (int t = 0; t < n; t++) {
            y0[t] = v0[t] + v1[t] + v2[t];
            y1[t] = v1[t] - v2[t] - v3[t];
        }
        return;
    }
    const float *restrict v0 = v[0], *restrict v1 = v[1], *restrict v2 = v[2], *restrict v3 = v[3],
                *restrict v4 = v[4], *restrict v5 = v[5];
    float *restrict y0 = y[0], *restrict y1 = y[1], *restrict y2 = y[2], *restrict y3 = y[3];
#pragma GCC ivdep
    for (int t = 0; t < n; t++) {
        float p = v1[t] + v2[t], q = v1[t] - v2[t], r = v3[t] + v4[t], s = v3[t] - v4[t];
        y0[t] = v0[t] + p + r;
        y1[t] = q + 2.f * s;
        y2[t] = p + 4.f * r;
        y3[t] = q + 8.f * s + v5[t];
    }
}

/* ---------------------------------------------------------------- phase-split rows --- */
/* Tile q of a row reads padded columns q*m .. q*m + m + 1.  The padded input is stored with
   each row split into its m column phases (phase k holds column q*m + k at q), so the 1-D
   passes read contiguous runs over tiles: columns q*m + k (k < m) are phase k at q, columns
   q*m + m and q*m + m + 1 are phases 0 and 1 at q + 1.  The output rows are interleaved back
   the same way. */

/* dst[k * pq + q] = row[q * m + k] for q0 <= q < pq (row holds m * pq values). */
WINO_INLINE void split_row_from(int m, const float *row, float *dst, int pq, int q0) {
    for (int q = q0; q < pq; q++)
        for (int k = 0; k < m; k++) dst[k * pq + q] = row[q * m + k];
}

/* dst[x] = act(Y[(i*m + x % m) * ld + x / m] + bias (+ res[x])) for x < len. */
WINO_INLINE void store_row(int m, const float *Y, int ld, int i, int len, float bias, const float *res,
                           float *dst, const mc_epilogue *ep) {
    for (int x = 0; x < len; x++) {
        float v = Y[(size_t)(i * m + x % m) * ld + x / m] + bias;
        dst[x] = res ? v + res[x] : v;
    }
    if (ep && ep->act != MC_ACT_NONE) mc_activation(dst, (size_t)len, ep);
}

/* The alpha x alpha input tiles of one channel, one segment of cnt tiles from tile column
   tw0 of a tile row, gathered as D[i * alpha + c][q] (row stride ld): phase k of padded row i
   of the tile row starts at base + i * rs + k * ps, and column c of tile q is phase c at q
   (c < m) or phase c - m at q + 1.  Each is a contiguous run of cnt values. */
WINO_INLINE void gather_runs(int m, const float *base, ptrdiff_t rs, ptrdiff_t ps, int cnt, float *D, int ld,
                             void (*copy)(float *dst, const float *src, int n)) {
    int alpha = m + 2;
    for (int i = 0; i < alpha; i++)
        for (int c = 0; c < alpha; c++)
            copy(D + (size_t)(i * alpha + c) * ld, base + i * rs + (c < m ? c * ps : (c - m) * ps + 1), cnt);
}

/* V[r * alpha + q] (stride vstride) = B^T d B over n gathered tiles D [alpha^2][ld]: columns
   then rows, each a 1-D pass over all n tiles; T is an [alpha^2][ld] temporary. */
WINO_INLINE void input_2d(int m, const float *D, int ld, float *T, float *V, ptrdiff_t vstride, int n) {
    int alpha = m + 2;
    const float *in[WINO_MAX_ALPHA];
    float *out[WINO_MAX_ALPHA];
    for (int c = 0; c < alpha; c++) {
        for (int i = 0; i < alpha; i++) in[i] = D + (size_t)(i * alpha + c) * ld;
        for (int r = 0; r < alpha; r++) out[r] = T + (size_t)(r * alpha + c) * ld;
        bt_1d(m, in, out, n);
    }
    for (int r = 0; r < alpha; r++) {
        for (int c = 0; c < alpha; c++) in[c] = T + (size_t)(r * alpha + c) * ld;
        for (int q = 0; q < alpha; q++) out[q] = V + (r * alpha + q) * vstride;
        bt_1d(m, in, out, n);
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

/* ---------------------------------------------------------------- tile GEMM ---------- */
/* M_xi[co][t] = sum_c U_xi[co][c] V_xi[c][t] for one 8-row weight panel (u: [C][8]) and n
   tiles, vectorised along the tiles: each step loads tile vectors of V and broadcasts the 8
   weights, so the result lands in the [co][tile] rows the output transform reads (no
   transposing store, no B packing).  Columns up to n rounded up to 16 (AVX-512: to 8) are
   computed; the block buffers are that wide. */
static void tile_gemm_portable(int K, const float *u, const float *v, ptrdiff_t ldv, float *o, ptrdiff_t ldo,
                               int rows, int n) {
    for (int t = 0; t < n; t += 16) {
        float acc[MC_MR][16] = {{0}};
        for (int k = 0; k < K; k++)
            for (int r = 0; r < MC_MR; r++)
                for (int j = 0; j < 16; j++) acc[r][j] += u[k * MC_MR + r] * v[k * ldv + t + j];
        for (int r = 0; r < rows; r++) memcpy(o + r * ldo + t, acc[r], sizeof acc[r]);
    }
}

typedef void (*split_fn)(int m, const float *row, float *dst, int pq);
typedef void (*store_fn)(int m, const float *Y, int ld, int i, int len, float bias, const float *res, float *dst,
                         const mc_epilogue *ep);
typedef void (*gather_fn)(int m, const float *base, ptrdiff_t rs, ptrdiff_t ps, int cnt, float *D, int ld);
typedef void (*input_fn)(int m, const float *D, int ld, float *T, float *V, ptrdiff_t vstride, int n);
typedef void (*output_fn)(int m, const float *M, ptrdiff_t mstride, float *Z, float *Y, int ld, int n);
typedef void (*gemm_fn)(int K, const float *u, const float *v, ptrdiff_t ldv, float *o, ptrdiff_t ldo,
                        int rows, int n);

/* m is a literal in each branch so the 1-D transforms inline fully specialised. */
#define WINO_CLONES(SUFFIX, ATTR)                                                                   \
    ATTR static void input_##SUFFIX(int m, const float *D, int ld, float *T, float *V, ptrdiff_t vs, int n) { \
        if (m == 2) input_2d(2, D, ld, T, V, vs, n);                                                 \
        else input_2d(4, D, ld, T, V, vs, n);                                                        \
    }                                                                                                \
    ATTR static void gather_##SUFFIX(int m, const float *base, ptrdiff_t rs, ptrdiff_t ps, int cnt,  \
                                     float *D, int ld) {                                             \
        if (m == 2) gather_runs(2, base, rs, ps, cnt, D, ld, copy_##SUFFIX);                         \
        else gather_runs(4, base, rs, ps, cnt, D, ld, copy_##SUFFIX);                                \
    }                                                                                                \
    ATTR static void output_##SUFFIX(int m, const float *M, ptrdiff_t ms, float *Z, float *Y, int ld, int n) { \
        if (m == 2) output_2d(2, M, ms, Z, Y, ld, n);                                                \
        else output_2d(4, M, ms, Z, Y, ld, n);                                                       \
    }

/* Scalar row split and store (portable; AVX2 compiles the same loops for its ISA). */
#define WINO_SCALAR_ROWS(SUFFIX, ATTR)                                                              \
    ATTR static void split_##SUFFIX(int m, const float *row, float *dst, int pq) {                   \
        if (m == 2) split_row_from(2, row, dst, pq, 0);                                              \
        else split_row_from(4, row, dst, pq, 0);                                                     \
    }                                                                                                \
    ATTR static void store_##SUFFIX(int m, const float *Y, int ld, int i, int len, float bias,       \
                                    const float *res, float *dst, const mc_epilogue *ep) {           \
        if (m == 2) store_row(2, Y, ld, i, len, bias, res, dst, ep);                                 \
        else store_row(4, Y, ld, i, len, bias, res, dst, ep);                                        \
    }

static inline void copy_memcpy(float *dst, const float *src, int n) { memcpy(dst, src, sizeof(float) * n); }
#define copy_portable copy_memcpy
#define copy_avx2 copy_memcpy

WINO_CLONES(portable, )
WINO_SCALAR_ROWS(portable, )
#ifdef MC_X86
/* Short runs (a tile row of a small map): masked vectors, no call. */
MC_T512 static inline __attribute__((always_inline)) void copy_avx512(float *dst, const float *src, int n) {
    for (int q = 0; q < n; q += 16) {
        __mmask16 k = mc_mask512(n - q);
        _mm512_mask_storeu_ps(dst + q, k, _mm512_maskz_loadu_ps(k, src + q));
    }
}

WINO_CLONES(avx2, MC_T256)
WINO_SCALAR_ROWS(avx2, MC_T256)
WINO_CLONES(avx512, MC_T512)

/* AVX2: 4 weight rows x 16 tiles (8 accumulators), twice per panel. */
MC_T256 static inline __attribute__((always_inline)) void
gemm_rows4_avx2(int K, const float *u, const float *v, ptrdiff_t ldv, float *o, ptrdiff_t ldo, int rows) {
    __m256 c0[4], c1[4];
#pragma GCC unroll 4
    for (int r = 0; r < 4; r++) c0[r] = c1[r] = _mm256_setzero_ps();
    for (int k = 0; k < K; k++, u += MC_MR, v += ldv) {
        __m256 b0 = _mm256_loadu_ps(v), b1 = _mm256_loadu_ps(v + 8);
#pragma GCC unroll 4
        for (int r = 0; r < 4; r++) {
            __m256 a = _mm256_broadcast_ss(u + r);
            c0[r] = _mm256_fmadd_ps(a, b0, c0[r]);
            c1[r] = _mm256_fmadd_ps(a, b1, c1[r]);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < 4; r++) {
        if (r >= rows) break;
        _mm256_storeu_ps(o + r * ldo, c0[r]);
        _mm256_storeu_ps(o + r * ldo + 8, c1[r]);
    }
}

MC_T256 static void tile_gemm_avx2(int K, const float *u, const float *v, ptrdiff_t ldv, float *o, ptrdiff_t ldo,
                                   int rows, int n) {
    for (int t = 0; t < n; t += 16) {
        gemm_rows4_avx2(K, u, v + t, ldv, o + t, ldo, rows);
        if (rows > 4) gemm_rows4_avx2(K, u + 4, v + t, ldv, o + 4 * ldo + t, ldo, rows - 4);
    }
}

/* AVX-512: 8 weight rows x NV vectors of 16 tiles (16 accumulators for NV = 2). */
MC_T512 static inline __attribute__((always_inline)) void
gemm_cols_avx512(int K, const float *u, const float *v, ptrdiff_t ldv, float *o, ptrdiff_t ldo, int rows,
                 const int NV) {
    __m512 c0[MC_MR], c1[MC_MR];
#pragma GCC unroll 8
    for (int r = 0; r < MC_MR; r++) c0[r] = c1[r] = _mm512_setzero_ps();
    for (int k = 0; k < K; k++, u += MC_MR, v += ldv) {
        __m512 b0 = _mm512_loadu_ps(v), b1 = NV > 1 ? _mm512_loadu_ps(v + 16) : b0;
#pragma GCC unroll 8
        for (int r = 0; r < MC_MR; r++) {
            __m512 a = _mm512_set1_ps(u[r]);
            c0[r] = _mm512_fmadd_ps(a, b0, c0[r]);
            if (NV > 1) c1[r] = _mm512_fmadd_ps(a, b1, c1[r]);
        }
    }
#pragma GCC unroll 8
    for (int r = 0; r < MC_MR; r++) {
        if (r >= rows) break;
        _mm512_storeu_ps(o + r * ldo, c0[r]);
        if (NV > 1) _mm512_storeu_ps(o + r * ldo + 16, c1[r]);
    }
}

/* A last run of at most 8 tiles: 8 weight rows x 8 tiles in ymm registers, half the cost of a
   16-tile vector (4 tiles of F(4,3) on a 7x7 map, the 49th tile of a 28x28 map). */
MC_T512 static void gemm_cols8_avx512(int K, const float *u, const float *v, ptrdiff_t ldv, float *o,
                                      ptrdiff_t ldo, int rows) {
    __m256 c[MC_MR];
#pragma GCC unroll 8
    for (int r = 0; r < MC_MR; r++) c[r] = _mm256_setzero_ps();
    for (int k = 0; k < K; k++, u += MC_MR, v += ldv) {
        __m256 b = _mm256_loadu_ps(v);
#pragma GCC unroll 8
        for (int r = 0; r < MC_MR; r++) c[r] = _mm256_fmadd_ps(_mm256_broadcast_ss(u + r), b, c[r]);
    }
#pragma GCC unroll 8
    for (int r = 0; r < MC_MR; r++) {
        if (r >= rows) break;
        _mm256_storeu_ps(o + r * ldo, c[r]);
    }
}

MC_T512 static void tile_gemm_avx512(int K, const float *u, const float *v, ptrdiff_t ldv, float *o,
                                     ptrdiff_t ldo, int rows, int n) {
    int t = 0, n8 = (n + 7) / 8 * 8;
    for (; t + 32 <= n8; t += 32) gemm_cols_avx512(K, u, v + t, ldv, o + t, ldo, rows, 2);
    if (t + 16 <= n8) gemm_cols_avx512(K, u, v + t, ldv, o + t, ldo, rows, 1), t += 16;
    if (t < n8) gemm_cols8_avx512(K, u, v + t, ldv, o + t, ldo, rows);
}

/* Phase split of 16 tiles per step by two-source permutes (m = 4: 64 values -> 4 phases). */
MC_T512 static void split_avx512(int m, const float *row, float *dst, int pq) {
    int q = 0;
    if (m == 4) {
        const __m512i lo = _mm512_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28, 1, 5, 9, 13, 17, 21, 25, 29);
        const __m512i hi = _mm512_setr_epi32(2, 6, 10, 14, 18, 22, 26, 30, 3, 7, 11, 15, 19, 23, 27, 31);
        for (; q + 16 <= pq; q += 16) {
            const float *r = row + q * 4;
            __m512 a = _mm512_loadu_ps(r), b = _mm512_loadu_ps(r + 16);
            __m512 c = _mm512_loadu_ps(r + 32), d = _mm512_loadu_ps(r + 48);
            __m512 x = _mm512_permutex2var_ps(a, lo, b), y = _mm512_permutex2var_ps(a, hi, b);
            __m512 x2 = _mm512_permutex2var_ps(c, lo, d), y2 = _mm512_permutex2var_ps(c, hi, d);
            _mm512_storeu_ps(dst + q, _mm512_shuffle_f32x4(x, x2, 0x44));
            _mm512_storeu_ps(dst + pq + q, _mm512_shuffle_f32x4(x, x2, 0xEE));
            _mm512_storeu_ps(dst + 2 * pq + q, _mm512_shuffle_f32x4(y, y2, 0x44));
            _mm512_storeu_ps(dst + 3 * pq + q, _mm512_shuffle_f32x4(y, y2, 0xEE));
        }
        split_row_from(4, row, dst, pq, q);
        return;
    }
    const __m512i ev = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i od = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    for (; q + 16 <= pq; q += 16) {
        __m512 a = _mm512_loadu_ps(row + 2 * q), b = _mm512_loadu_ps(row + 2 * q + 16);
        _mm512_storeu_ps(dst + q, _mm512_permutex2var_ps(a, ev, b));
        _mm512_storeu_ps(dst + pq + q, _mm512_permutex2var_ps(a, od, b));
    }
    split_row_from(2, row, dst, pq, q);
}

/* The inverse interleave, 16 tiles per step (masked at the end of the run), with bias,
   residual and activation applied on the way out. */
MC_T512 static inline __attribute__((always_inline)) void
store_row_avx512(const int m, const float *Y, int ld, int i, int len, float bias, const float *res, float *dst,
                 const mc_epilogue *ep) {
    const float *y = Y + (size_t)i * m * ld;
    int act = ep && ep->act != MC_ACT_NONE;
    __m512 b = _mm512_set1_ps(bias), r[4];
    for (int q = 0; q * m < len; q += 16) {
        __mmask16 k = mc_mask512((len - q * m + m - 1) / m);
        if (m == 4) {
            const __m512i i0 = _mm512_setr_epi32(0, 8, 16, 24, 1, 9, 17, 25, 2, 10, 18, 26, 3, 11, 19, 27);
            const __m512i i1 = _mm512_setr_epi32(4, 12, 20, 28, 5, 13, 21, 29, 6, 14, 22, 30, 7, 15, 23, 31);
            __m512 p0 = _mm512_maskz_loadu_ps(k, y + q), p1 = _mm512_maskz_loadu_ps(k, y + ld + q);
            __m512 p2 = _mm512_maskz_loadu_ps(k, y + 2 * ld + q), p3 = _mm512_maskz_loadu_ps(k, y + 3 * ld + q);
            __m512 x = _mm512_shuffle_f32x4(p0, p1, 0x44), z = _mm512_shuffle_f32x4(p2, p3, 0x44);
            __m512 x2 = _mm512_shuffle_f32x4(p0, p1, 0xEE), z2 = _mm512_shuffle_f32x4(p2, p3, 0xEE);
            r[0] = _mm512_permutex2var_ps(x, i0, z), r[1] = _mm512_permutex2var_ps(x, i1, z);
            r[2] = _mm512_permutex2var_ps(x2, i0, z2), r[3] = _mm512_permutex2var_ps(x2, i1, z2);
        } else {
            const __m512i i0 = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
            const __m512i i1 = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
            __m512 p0 = _mm512_maskz_loadu_ps(k, y + q), p1 = _mm512_maskz_loadu_ps(k, y + ld + q);
            r[0] = _mm512_permutex2var_ps(p0, i0, p1), r[1] = _mm512_permutex2var_ps(p0, i1, p1);
        }
#pragma GCC unroll 4
        for (int v = 0; v < m; v++) {
            int at = q * m + 16 * v;
            if (at >= len) break;
            __mmask16 kv = mc_mask512(len - at);
            __m512 o = _mm512_add_ps(r[v], b);
            if (res) o = _mm512_add_ps(o, _mm512_maskz_loadu_ps(kv, res + at));
            if (act) o = mc_act512(o, ep);
            _mm512_mask_storeu_ps(dst + at, kv, o);
        }
    }
}

MC_T512 static void store_avx512(int m, const float *Y, int ld, int i, int len, float bias, const float *res,
                                 float *dst, const mc_epilogue *ep) {
    if (m == 2) store_row_avx512(2, Y, ld, i, len, bias, res, dst, ep);
    else store_row_avx512(4, Y, ld, i, len, bias, res, dst, ep);
}
#endif

/* ---------------------------------------------------------------- driver ----------- */

typedef struct {
    gather_fn gather;
    input_fn input;
    output_fn output;
    split_fn split;
    store_fn store;
    gemm_fn gemm;
} wino_isa;

typedef struct {
    int m, alpha, A2;
    const mc_conv_shape *s;
    const float *x;          /* the input [C][H][W] */
    const float *P;          /* zero-padded input, whole tiles, phase-split rows [C][PH][m][PQ] */
    int PH, PQ, TW, ntiles, nt;
    mc_panels U;
    size_t usize;
    float *out;
    const mc_epilogue *ep;
    wino_isa f;
} wino_job;

/* The tiles [t0, t0 + n) of a block lie on one or more tile rows: each row's run is a segment
   (tile row th, first tile column tw0, cnt tiles, at offset off in the block). */
#define FOR_SEGMENTS(j, t0, n)                                                                     \
    for (int off = 0, th, tw0, cnt; off < (n); off += cnt)                                          \
        if (th = ((t0) + off) / (j)->TW, tw0 = ((t0) + off) % (j)->TW,                              \
            cnt = (j)->TW - tw0 < (n) - off ? (j)->TW - tw0 : (n) - off, 1)

/* Floats between the xi planes of V [xi][C][nt] or M [xi][Cout][nt]: one cache line over the
   plane, so the alpha^2 rows a transform reads or writes at once (whole-plane strides apart,
   often a multiple of 4 KB) do not all fall into the same L1 set. */
static ptrdiff_t xi_stride(int rows, int nt) { return (ptrdiff_t)rows * nt + 16; }

/* Transformed input of channel c for the block's tiles into V[xi][c][*]; D and T are
   [alpha^2][nt] temporaries. */
static void transform_input(const wino_job *j, int c, int t0, int n, float *V, float *D, float *T) {
    int m = j->m, nt = j->nt;
    ptrdiff_t rs = (ptrdiff_t)m * j->PQ;
    const float *plane = j->P + (size_t)c * j->PH * rs;
    FOR_SEGMENTS(j, t0, n) j->f.gather(m, plane + th * m * rs + tw0, rs, j->PQ, cnt, D + off, nt);
    j->f.input(m, D, nt, T, V + (size_t)c * nt, xi_stride(j->s->C, nt), n);
}

/* Y [m^2][nt] of output channel co, row by row: act(row + bias + residual) stored to out. */
static void finish_tiles(const wino_job *j, int co, int t0, int n, const float *Y) {
    const mc_conv_shape *s = j->s;
    const mc_epilogue *ep = j->ep;
    int m = j->m;
    float bias = ep && ep->bias ? ep->bias[co] : 0.f;
    const float *res = ep && ep->residual ? ep->residual + (size_t)co * ep->ldr : NULL;
    float *o = j->out + (size_t)co * s->OH * s->OW;
    FOR_SEGMENTS(j, t0, n) {
        int col = tw0 * m, len = s->OW - col < cnt * m ? s->OW - col : cnt * m;
        for (int i = 0; i < m && th * m + i < s->OH; i++) {
            size_t at = (size_t)(th * m + i) * s->OW + col;
            j->f.store(m, Y + off, j->nt, i, len, bias, res ? res + at : NULL, o + at, ep);
        }
    }
}

/* The three stages of one block of n tiles from tile t0, over parts of it: the input
   transform of channels [c0, c1); the GEMM units [u0, u1), unit u the 8-row weight panel
   u % panels of point xi = u / panels; the output transform of output channels [o0, o1).
   V and Mo hold the block's transformed input and GEMM results; D and T are [alpha^2][nt]
   temporaries.  Every output value is computed by the same arithmetic however the ranges
   are cut, so any split gives the same bits. */
static void stage_input(const wino_job *j, int c0, int c1, int t0, int n, float *V, float *D, float *T) {
    for (int c = c0; c < c1; c++) transform_input(j, c, t0, n, V, D, T);
}

static int panels_of(const wino_job *j) { return (j->s->Cout + MC_MR - 1) / MC_MR; }

static void stage_gemm(const wino_job *j, int u0, int u1, int n, const float *V, float *Mo) {
    int nt = j->nt, C = j->s->C, Cout = j->s->Cout, panels = panels_of(j);
    float *ubuf = j->U.f32 ? NULL : mc_scratch(MC_SLOT_A, (size_t)C * MC_MR + 64);
    for (int xi = u0 / panels; xi * panels < u1; xi++) {
        mc_panels u = mc_panels_at(j->U, xi * j->usize);
        const float *vx = V + xi * xi_stride(C, nt);
        float *mx = Mo + xi * xi_stride(Cout, nt);
        int p1 = u1 - xi * panels < panels ? u1 - xi * panels : panels;
        for (int p = u0 > xi * panels ? u0 - xi * panels : 0; p < p1; p++) {
            int rows = Cout - p * MC_MR < MC_MR ? Cout - p * MC_MR : MC_MR;
            j->f.gemm(C, mc_panel_rows(u, C, p, 0, C, ubuf), vx, nt, mx + (size_t)p * MC_MR * nt, nt, rows, n);
        }
    }
}

static void stage_output(const wino_job *j, int o0, int o1, int t0, int n, const float *Mo, float *T, float *Y) {
    ptrdiff_t ms = xi_stride(j->s->Cout, j->nt);
    for (int co = o0; co < o1; co++) {
        j->f.output(j->m, Mo + (size_t)co * j->nt, ms, T, Y, j->nt, n);
        finish_tiles(j, co, t0, n, Y);
    }
}

static size_t block_floats(const wino_job *j) {
    return (size_t)j->A2 * (xi_stride(j->s->C, j->nt) + xi_stride(j->s->Cout, j->nt));
}
static size_t temp_floats(const wino_job *j) { return (size_t)j->A2 * j->nt; }

/* One whole block per task: the split when there are blocks enough for every thread. */
static void wino_block(void *ctx, int task, int thread) {
    (void)thread;
    const wino_job *j = ctx;
    int t0 = task * j->nt, n = j->ntiles - t0 < j->nt ? j->ntiles - t0 : j->nt;
    size_t tsz = temp_floats(j);
    float *V = mc_scratch(MC_SLOT_OWN, block_floats(j) + 2 * tsz + 64);
    float *Mo = V + (size_t)j->A2 * xi_stride(j->s->C, j->nt), *D = V + block_floats(j), *T = D + tsz;
    stage_input(j, 0, j->s->C, t0, n, V, D, T);
    stage_gemm(j, 0, j->A2 * panels_of(j), n, V, Mo);
    stage_output(j, 0, j->s->Cout, t0, n, Mo, T, D);
}

/* Too few blocks for the threads (small maps, deep layers: mostly a single block): each
   block's stages are split instead, channels for the transforms and GEMM units for the
   GEMMs, with the block's V and Mo shared and each task's temporaries its own. */
typedef struct {
    const wino_job *j;
    int t0, n;
    int chunk;                 /* channels per transform task, or units per GEMM task */
    float *V, *Mo;
} wino_stage;

static float *stage_temps(const wino_job *j) { return mc_scratch(MC_SLOT_MISC, 2 * temp_floats(j) + 64); }

static int range_end(int start, int chunk, int total) { return start + chunk < total ? start + chunk : total; }

static void stage_input_task(void *ctx, int task, int thread) {
    (void)thread;
    const wino_stage *st = ctx;
    float *D = stage_temps(st->j);
    int c0 = task * st->chunk;
    stage_input(st->j, c0, range_end(c0, st->chunk, st->j->s->C), st->t0, st->n, st->V, D,
                D + temp_floats(st->j));
}

static void stage_gemm_task(void *ctx, int task, int thread) {
    (void)thread;
    const wino_stage *st = ctx;
    int u0 = task * st->chunk;
    stage_gemm(st->j, u0, range_end(u0, st->chunk, st->j->A2 * panels_of(st->j)), st->n, st->V, st->Mo);
}

static void stage_output_task(void *ctx, int task, int thread) {
    (void)thread;
    const wino_stage *st = ctx;
    float *T = stage_temps(st->j);
    int o0 = task * st->chunk;
    stage_output(st->j, o0, range_end(o0, st->chunk, st->j->s->Cout), st->t0, st->n, st->Mo, T,
                 T + temp_floats(st->j));
}

/* Items per task for `threads` threads: about four tasks per thread, so a late thread is covered. */
static int chunk_for(int items, int tasks_wanted) {
    int tasks = tasks_wanted < items ? tasks_wanted : items;
    return (items + tasks - 1) / tasks;
}

static void run_staged(const wino_job *j, int blocks, int threads) {
    const mc_conv_shape *s = j->s;
    wino_stage st = {j, 0, 0, 0, mc_scratch(MC_SLOT_OWN, block_floats(j) + 64), NULL};
    st.Mo = st.V + (size_t)j->A2 * xi_stride(s->C, j->nt);
    int want = 4 * threads, units = j->A2 * panels_of(j);
    int cin = chunk_for(s->C, want), cout = chunk_for(s->Cout, want), gchunk = chunk_for(units, want);
    for (int b = 0; b < blocks; b++) {
        st.t0 = b * j->nt;
        st.n = j->ntiles - st.t0 < j->nt ? j->ntiles - st.t0 : j->nt;
        st.chunk = cin;
        mc_parallel((s->C + cin - 1) / cin, threads, stage_input_task, &st);
        st.chunk = gchunk;
        mc_parallel((units + gchunk - 1) / gchunk, threads, stage_gemm_task, &st);
        st.chunk = cout;
        mc_parallel((s->Cout + cout - 1) / cout, threads, stage_output_task, &st);
    }
}

static int wino_shape_ok(int m, const mc_conv_shape *s) {
    return (m == 2 || m == 4) && s->KH == 3 && s->KW == 3 && s->stride_h == 1 && s->stride_w == 1 &&
           s->dil_h == 1 && s->dil_w == 1 && s->groups == 1 && s->OH > 0 && s->OW > 0;
}

/* Capacity of a block: its transformed input and GEMM result (alpha^2 (C + Cout) floats per
   tile) about WINO_BLOCK_BYTES, so a block's GEMMs read V and write M in L2; a multiple of
   the widest GEMM step (32 tiles). */
int mc_winograd_block_tiles(int m, int C, int Cout) {
    int alpha = m + 2;
    size_t per_tile = sizeof(float) * (size_t)alpha * alpha * ((size_t)C + Cout);
    int nt = (int)(WINO_BLOCK_BYTES / per_tile);
    nt = nt < 32 ? 32 : nt > 512 ? 512 : nt;
    return (nt + 31) / 32 * 32;
}

/* Phase length of a padded row of TW tiles: phases 0 and 1 hold TW + 1 columns. */
static int phase_len(int TW) { return TW + 2; }

size_t mc_winograd_scratch_floats(int m, const mc_conv_shape *s) {
    int alpha = m + 2, A2 = alpha * alpha, nt = mc_winograd_block_tiles(m, s->C, s->Cout);
    int TH = (s->OH + m - 1) / m, TW = (s->OW + m - 1) / m;
    size_t padded = (size_t)s->C * (TH * m + 2) * m * phase_len(TW);
    return padded + (size_t)A2 * (xi_stride(s->C, nt) + xi_stride(s->Cout, nt) + 2 * nt) + 64;
}

/* The padded input of channels [c0, c1), row by row through a zero-bordered buffer split
   into phases. */
static void pad_channels(void *ctx, ptrdiff_t c0, ptrdiff_t c1) {
    const wino_job *j = ctx;
    const mc_conv_shape *s = j->s;
    int m = j->m, rs = m * j->PQ, PW = (j->TW * m) + 2;
    float *row = mc_scratch(MC_SLOT_MISC, (size_t)rs + 64);
    int cols = s->W < PW - s->pad_l ? s->W : PW - s->pad_l;
    memset(row, 0, sizeof(float) * rs);
    for (ptrdiff_t c = c0; c < c1; c++)
        for (int r = 0; r < j->PH; r++) {
            float *dst = (float *)j->P + ((size_t)c * j->PH + r) * rs;
            int h = r - s->pad_t;
            if (h < 0 || h >= s->H) {
                memset(dst, 0, sizeof(float) * rs);
                continue;
            }
            memcpy(row + s->pad_l, j->x + ((size_t)c * s->H + h) * s->W, sizeof(float) * cols);
            j->f.split(m, row, dst, j->PQ);
        }
}

static wino_isa isa_functions(void) {
#ifdef MC_X86
    int isa = mc_isa();
    if (isa == MC_ISA_AVX512)
        return (wino_isa){gather_avx512, input_avx512, output_avx512, split_avx512, store_avx512, tile_gemm_avx512};
    if (isa == MC_ISA_AVX2)
        return (wino_isa){gather_avx2, input_avx2, output_avx2, split_avx2, store_avx2, tile_gemm_avx2};
#endif
    return (wino_isa){gather_portable, input_portable, output_portable, split_portable, store_portable, tile_gemm_portable};
}

static int winograd_panels(int m, const mc_conv_shape *s, const float *x, mc_panels U, float *out,
                           const mc_epilogue *ep) {
    if (!wino_shape_ok(m, s)) return -1;
    wino_job j = {m, m + 2, (m + 2) * (m + 2), s, x, NULL, 0, 0, 0, 0, 0, U, mc_packed_size(s->Cout, s->C),
                  out, ep, isa_functions()};
    int TH = (s->OH + m - 1) / m;
    j.TW = (s->OW + m - 1) / m;
    j.PH = TH * m + 2, j.PQ = phase_len(j.TW);
    j.ntiles = TH * j.TW;
    /* equal blocks of at most the capacity, each a multiple of 16 tiles */
    int cap = mc_winograd_block_tiles(m, s->C, s->Cout);
    int blocks = (j.ntiles + cap - 1) / cap;
    j.nt = ((j.ntiles + blocks - 1) / blocks + 15) / 16 * 16;
    blocks = (j.ntiles + j.nt - 1) / j.nt;
    j.P = mc_scratch(MC_SLOT_PAD, (size_t)s->C * j.PH * m * j.PQ + 64);
    mc_parallel_for(s->C, 8.0 * s->C * j.PH * m * j.PQ, pad_channels, &j);
    int threads = mc_threads_for(2.0 * j.A2 * s->C * (double)s->Cout * j.ntiles);
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
