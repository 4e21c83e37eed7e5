/* Packed GEMM, fp16 weights -> fp32: A is stored as fp16 panels [M/8][K][8] and converted to
   fp32 one 8 x KC micro-panel at a time (L1); B is packed in KC x NC blocks (L2) as NR-wide
   panels; micro-kernels 8x48 (AVX-512), 8x24 as two 4x24 passes (AVX2), 8x16 (portable C),
   with bias / residual / activation fused into the final store. Threads split M x N tiles;
   the K order never depends on the thread count, so results are identical for any count. */
#include "kernels_impl.h"
#include "vecmath.h"

#include <stdlib.h>
#include <string.h>

size_t mc_packed_size(int M, int K) {
    return (size_t)((M + MC_MR - 1) / MC_MR) * (size_t)K * MC_MR;
}

void mc_pack_weights_f16(const uint16_t *w, int M, int K, ptrdiff_t ldw, uint16_t *packed) {
    for (int p = 0; p * MC_MR < M; p++) {
        uint16_t *dst = packed + (size_t)p * K * MC_MR;
        for (int k = 0; k < K; k++)
            for (int i = 0; i < MC_MR; i++) {
                int row = p * MC_MR + i;
                dst[(size_t)k * MC_MR + i] = row < M ? w[row * ldw + k] : 0;
            }
    }
}

void mc_pack_weights_f32(const float *w, int M, int K, ptrdiff_t ldw, uint16_t *packed) {
    uint16_t *rows = malloc(sizeof(uint16_t) * (size_t)M * K + 2);
    for (int i = 0; i < M; i++) mc_float_to_half(w + i * ldw, rows + (size_t)i * K, (size_t)K);
    mc_pack_weights_f16(rows, M, K, K, packed);
    free(rows);
}

/* ---------------------------------------------------------------- micro-kernels ---- */

typedef void (*ukr_fn)(int kc, const float *A, const float *B, float *C, ptrdiff_t ldc,
                       int mr, int nr, int accumulate, const mc_epilogue *ep, int row0);

/* ep (only on the last K block) carries bias/residual pointers already offset to C's tile. */
static void ukr_portable(int kc, const float *A, const float *B, float *C, ptrdiff_t ldc,
                         int mr, int nr, int accumulate, const mc_epilogue *ep, int row0) {
    enum { NR = 16 };
    float acc[MC_MR][NR];
    memset(acc, 0, sizeof acc);
    for (int k = 0; k < kc; k++) {
        const float *a = A + k * MC_MR, *b = B + k * NR;
        for (int i = 0; i < MC_MR; i++)
            for (int j = 0; j < NR; j++) acc[i][j] += a[i] * b[j];
    }
    for (int i = 0; i < mr; i++) {
        float *c = C + i * ldc;
        for (int j = 0; j < nr; j++) {
            float v = acc[i][j] + (accumulate ? c[j] : 0.f);
            if (ep) {
                if (ep->bias) v += ep->bias[row0 + i];
                if (ep->residual) v += ep->residual[i * ep->ldr + j];
                v = mc_act_scalar(v, ep);
            }
            c[j] = v;
        }
    }
}

#ifdef MC_X86
MC_T512 static void ukr_avx512(int kc, const float *A, const float *B, float *C, ptrdiff_t ldc,
                               int mr, int nr, int accumulate, const mc_epilogue *ep, int row0) {
    __m512 c00 = _mm512_setzero_ps(), c01 = c00, c02 = c00, c10 = c00, c11 = c00, c12 = c00;
    __m512 c20 = c00, c21 = c00, c22 = c00, c30 = c00, c31 = c00, c32 = c00;
    __m512 c40 = c00, c41 = c00, c42 = c00, c50 = c00, c51 = c00, c52 = c00;
    __m512 c60 = c00, c61 = c00, c62 = c00, c70 = c00, c71 = c00, c72 = c00;
    for (int k = 0; k < kc; k++) {
        __m512 b0 = _mm512_load_ps(B), b1 = _mm512_load_ps(B + 16), b2 = _mm512_load_ps(B + 32);
        __m512 a;
#define ROW(i) a = _mm512_set1_ps(A[i]); \
        c##i##0 = _mm512_fmadd_ps(a, b0, c##i##0); c##i##1 = _mm512_fmadd_ps(a, b1, c##i##1); \
        c##i##2 = _mm512_fmadd_ps(a, b2, c##i##2);
        ROW(0) ROW(1) ROW(2) ROW(3) ROW(4) ROW(5) ROW(6) ROW(7)
#undef ROW
        A += MC_MR;
        B += 48;
    }
    __m512 acc[8][3] = {{c00, c01, c02}, {c10, c11, c12}, {c20, c21, c22}, {c30, c31, c32},
                        {c40, c41, c42}, {c50, c51, c52}, {c60, c61, c62}, {c70, c71, c72}};
    __mmask16 m[3] = {mc_mask512(nr), mc_mask512(nr - 16 > 0 ? nr - 16 : 0),
                      mc_mask512(nr - 32 > 0 ? nr - 32 : 0)};
    for (int i = 0; i < mr; i++) {
        float *c = C + i * ldc;
        for (int j = 0; j < 3; j++) {
            if (!m[j]) break;
            __m512 v = acc[i][j];
            if (accumulate) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m[j], c + 16 * j));
            if (ep) {
                if (ep->bias) v = _mm512_add_ps(v, _mm512_set1_ps(ep->bias[row0 + i]));
                if (ep->residual)
                    v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m[j], ep->residual + i * ep->ldr + 16 * j));
                v = mc_act512(v, ep);
            }
            _mm512_mask_storeu_ps(c + 16 * j, m[j], v);
        }
    }
}

/* AVX2: 16 ymm registers fit a 4x24 tile; the 8-row panel is done as two passes. */
MC_T256 static void ukr_avx2_half(int kc, const float *A, const float *B, float *C, ptrdiff_t ldc,
                                  int mr, int nr, int accumulate, const mc_epilogue *ep, int row0) {
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c02 = c00, c10 = c00, c11 = c00, c12 = c00;
    __m256 c20 = c00, c21 = c00, c22 = c00, c30 = c00, c31 = c00, c32 = c00;
    for (int k = 0; k < kc; k++) {
        __m256 b0 = _mm256_load_ps(B), b1 = _mm256_load_ps(B + 8), b2 = _mm256_load_ps(B + 16);
        __m256 a;
#define ROW(i) a = _mm256_broadcast_ss(A + i); \
        c##i##0 = _mm256_fmadd_ps(a, b0, c##i##0); c##i##1 = _mm256_fmadd_ps(a, b1, c##i##1); \
        c##i##2 = _mm256_fmadd_ps(a, b2, c##i##2);
        ROW(0) ROW(1) ROW(2) ROW(3)
#undef ROW
        A += MC_MR;
        B += 24;
    }
    __m256 acc[4][3] = {{c00, c01, c02}, {c10, c11, c12}, {c20, c21, c22}, {c30, c31, c32}};
    for (int i = 0; i < mr; i++) {
        float *c = C + i * ldc;
        for (int j = 0; j < 3; j++) {
            int n = nr - 8 * j;
            if (n <= 0) break;
            __m256i m = mc_mask256(n > 8 ? 8 : n);
            __m256 v = acc[i][j];
            if (accumulate) v = _mm256_add_ps(v, _mm256_maskload_ps(c + 8 * j, m));
            if (ep) {
                if (ep->bias) v = _mm256_add_ps(v, _mm256_set1_ps(ep->bias[row0 + i]));
                if (ep->residual)
                    v = _mm256_add_ps(v, _mm256_maskload_ps(ep->residual + i * ep->ldr + 8 * j, m));
                v = mc_act256(v, ep);
            }
            _mm256_maskstore_ps(c + 8 * j, m, v);
        }
    }
}

MC_T256 static void ukr_avx2(int kc, const float *A, const float *B, float *C, ptrdiff_t ldc,
                             int mr, int nr, int accumulate, const mc_epilogue *ep, int row0) {
    ukr_avx2_half(kc, A, B, C, ldc, mr < 4 ? mr : 4, nr, accumulate, ep, row0);
    if (mr <= 4) return;
    mc_epilogue lower;
    const mc_epilogue *ep2 = NULL;
    if (ep) {
        lower = *ep;
        if (lower.residual) lower.residual += 4 * lower.ldr;
        ep2 = &lower;
    }
    ukr_avx2_half(kc, A + 4, B, C + 4 * ldc, ldc, mr - 4, nr, accumulate, ep2, row0 + 4);
}
#endif

static void select_ukr(ukr_fn *fn, int *nr) {
#ifdef MC_X86
    int isa = mc_isa();
    if (isa == MC_ISA_AVX512) { *fn = ukr_avx512; *nr = 48; return; }
    if (isa == MC_ISA_AVX2) { *fn = ukr_avx2; *nr = 24; return; }
#endif
    *fn = ukr_portable;
    *nr = 16;
}

/* ---------------------------------------------------------------- driver ----------- */

typedef struct {
    const uint16_t *packed;
    int M, K, N;
    mc_pack_b_fn pack_b;
    const void *ctx;
    float *out;
    ptrdiff_t ldc;
    const mc_epilogue *ep;
    ukr_fn ukr;
    int nr;
} gemm_job;

static void run_tile(const gemm_job *g, int m0, int m1, int n0, int n1, float *abuf, float *bbuf) {
    int portable = mc_isa() == MC_ISA_PORTABLE;
    for (int jc = n0; jc < n1; jc += MC_NC) {
        int nc = n1 - jc < MC_NC ? n1 - jc : MC_NC;
        int pc = 0;
        do {
            int kc = g->K - pc < MC_KC ? g->K - pc : MC_KC;
            int last = pc + kc >= g->K;
            g->pack_b(g->ctx, pc, kc, jc, nc, g->nr, bbuf);
            for (int ic = m0; ic < m1; ic += MC_MR) {
                int mr = m1 - ic < MC_MR ? m1 - ic : MC_MR;
                const uint16_t *ap = g->packed + (size_t)(ic / MC_MR) * g->K * MC_MR + (size_t)pc * MC_MR;
                if (portable) mc_half_to_float_portable(ap, abuf, (size_t)kc * MC_MR);
                else mc_half_to_float(ap, abuf, (size_t)kc * MC_MR);
                for (int jr = 0; jr < nc; jr += g->nr) {
                    int nr = nc - jr < g->nr ? nc - jr : g->nr;
                    float *c = g->out + (ptrdiff_t)ic * g->ldc + jc + jr;
                    mc_epilogue tile_ep;
                    const mc_epilogue *ep = NULL;
                    if (last && g->ep) {
                        tile_ep = *g->ep;
                        if (tile_ep.residual) tile_ep.residual += (ptrdiff_t)ic * tile_ep.ldr + jc + jr;
                        ep = &tile_ep;
                    }
                    g->ukr(kc, abuf, bbuf + (size_t)jr * kc, c, g->ldc, mr, nr, pc > 0, ep, ic);
                }
            }
            pc += kc;
        } while (pc < g->K);
    }
}

static int ceil_div(int a, int b) { return (a + b - 1) / b; }

void mc_gemm_driver(const uint16_t *packed, int M, int K, int N, mc_pack_b_fn pack_b,
                    const void *ctx, float *out, ptrdiff_t ldc, const mc_epilogue *ep) {
    if (M <= 0 || N <= 0) return;
    gemm_job g = {packed, M, K, N, pack_b, ctx, out, ldc, ep, NULL, 0};
    select_ukr(&g.ukr, &g.nr);
    int threads = mc_threads_for(2.0 * M * (double)K * N);
    /* Tiles: N split into NR-aligned chunks, M into MR-aligned chunks, about 2 per thread
       when there is enough work so static scheduling stays balanced. */
    int panels_n = ceil_div(N, g.nr), panels_m = ceil_div(M, MC_MR);
    int tn = 1, tm = 1;
    if (threads > 1) {
        tn = panels_n < 2 * threads ? panels_n : 2 * threads;
        while (tn * tm < 2 * threads && tm * 2 <= panels_m) tm *= 2;
        if (tn * tm < threads) tn = tm = 1, threads = 1;
    }
    int chunk_n = ceil_div(panels_n, tn) * g.nr, chunk_m = ceil_div(panels_m, tm) * MC_MR;
    int ntiles = tm * tn;
    size_t abytes = sizeof(float) * MC_KC * MC_MR, bbytes = sizeof(float) * MC_KC * (MC_NC + 48);
#ifdef _OPENMP
#pragma omp parallel num_threads(threads) if (threads > 1)
#endif
    {
        float *abuf = aligned_alloc(64, abytes), *bbuf = aligned_alloc(64, bbytes);
#ifdef _OPENMP
#pragma omp for schedule(static)
#endif
        for (int t = 0; t < ntiles; t++) {
            int m0 = (t / tn) * chunk_m, n0 = (t % tn) * chunk_n;
            int m1 = m0 + chunk_m < M ? m0 + chunk_m : M, n1 = n0 + chunk_n < N ? n0 + chunk_n : N;
            if (m0 < m1 && n0 < n1) run_tile(&g, m0, m1, n0, n1, abuf, bbuf);
        }
        free(abuf);
        free(bbuf);
    }
}

/* Dense B: X[K, N] with row stride ldx. */
typedef struct { const float *x; ptrdiff_t ldx; } dense_b;

static void pack_dense(const void *ctx, int k0, int kc, int n0, int nc, int nr, float *dst) {
    const dense_b *d = ctx;
    for (int jr = 0; jr < nc; jr += nr) {
        int w = nc - jr < nr ? nc - jr : nr;
        const float *src = d->x + (ptrdiff_t)k0 * d->ldx + n0 + jr;
        for (int k = 0; k < kc; k++) {
            memcpy(dst, src, sizeof(float) * w);
            if (w < nr) memset(dst + w, 0, sizeof(float) * (nr - w));
            dst += nr;
            src += d->ldx;
        }
    }
}

void mc_gemm(const uint16_t *packed, int M, int K, int N, const float *x, ptrdiff_t ldx,
             float *out, ptrdiff_t ldc, const mc_epilogue *ep) {
    dense_b d = {x, ldx};
    mc_gemm_driver(packed, M, K, N, pack_dense, &d, out, ldc, ep);
}

/* Activation over a flat array, through the same vector code as the epilogues. */
#ifdef MC_X86
MC_T512 static size_t act_avx512(float *x, size_t n, const mc_epilogue *ep) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(x + i, mc_act512(_mm512_loadu_ps(x + i), ep));
    return i;
}

MC_T256 static size_t act_avx2(float *x, size_t n, const mc_epilogue *ep) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, mc_act256(_mm256_loadu_ps(x + i), ep));
    return i;
}
#endif

void mc_activation(float *x, size_t n, const mc_epilogue *ep) {
    size_t i = 0;
#ifdef MC_X86
    int isa = mc_isa();
    if (isa == MC_ISA_AVX512) i = act_avx512(x, n, ep);
    else if (isa == MC_ISA_AVX2) i = act_avx2(x, n, ep);
#endif
    for (; i < n; i++) x[i] = mc_act_scalar(x[i], ep);
}
