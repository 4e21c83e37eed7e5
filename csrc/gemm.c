/* Packed GEMM, fp16 or fp32 weights -> fp32: A is stored as panels [M/8][K][8] (the
   M-vectorised tiles read fp32 and fp16 panels in place, converting fp16 in registers; the
   N-vectorised ones convert one micro-panel at a time, in L1), fp32 accumulation, bias /
   residual / activation fused into the final store.  Two families of drivers:
   - AVX2 (also used on AVX-512 CPUs), when the caller can hand out B as a row-major block
     (mc_gemm: the input itself; conv: an im2col block or nothing at all):
       K >= 32 (AVX2) / 128 (AVX-512): a 16x6 (AVX2) or 16x12 (AVX-512) tile vectorised along
                M (weights in vectors, broadcast B columns), reading B in place -- no panel
                packing, at most 5 (11) padded columns for any N;
       smaller K: N-vectorised tiles reading B rows in place, 8x24 (two 4x24 passes, AVX2)
                or 8x48 (AVX-512, partial tiles under masks): no transposing store.
   - otherwise (portable, or a caller with only a panel packer): B packed in KC x NC blocks
     as NR-wide panels, micro-kernels 8x48 (AVX-512), 8x24 (AVX2), 8x16 (portable C).
   Tiles are tasks on the work-sharing pool (dispatch.c); the K order never depends on the
   tiling or the thread count, so results are identical for any count. */
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

void mc_pack_weights_f32_panels(const float *w, int M, int K, ptrdiff_t ldw, float *packed) {
    for (int p = 0; p * MC_MR < M; p++) {
        float *dst = packed + (size_t)p * K * MC_MR;
        for (int k = 0; k < K; k++)
            for (int i = 0; i < MC_MR; i++) {
                int row = p * MC_MR + i;
                dst[(size_t)k * MC_MR + i] = row < M ? w[row * ldw + k] : 0.f;
            }
    }
}

const float *mc_panel_rows(mc_panels w, int K, int panel, int k0, int kc, float *buf) {
    size_t at = (size_t)panel * K * MC_MR + (size_t)k0 * MC_MR;
    if (w.f32) return (const float *)w.p + at;
    if (w.q) {
        mc_dequant_rows(w, at, panel, kc, buf, MC_MR);
        return buf;
    }
    if (mc_isa() == MC_ISA_PORTABLE) mc_half_to_float_portable((const uint16_t *)w.p + at, buf, (size_t)kc * MC_MR);
    else mc_half_to_float((const uint16_t *)w.p + at, buf, (size_t)kc * MC_MR);
    return buf;
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
/* 8 x 16*NV tile (NV zmm columns, a constant after inlining), B rows of stride ldb read in
   place; the last column vector loads under the nr mask, so a partial tile reads no column
   past nr and costs its vector count, not a whole tile. */
MC_T512 static inline __attribute__((always_inline)) void
ukr_avx512_n(int kc, const float *A, const float *B, ptrdiff_t ldb, float *C, ptrdiff_t ldc, int mr, int nr,
             int accumulate, const mc_epilogue *ep, int row0, const int NV) {
    __m512 c[8][3];
    __mmask16 m[3];
#pragma GCC unroll 3
    for (int j = 0; j < NV; j++) {
        int left = nr - 16 * j;
        m[j] = mc_mask512(left < 0 ? 0 : left);
#pragma GCC unroll 8
        for (int i = 0; i < 8; i++) c[i][j] = _mm512_setzero_ps();
    }
#pragma GCC unroll 2
    for (int k = 0; k < kc; k++) {
        __m512 b[3];
#pragma GCC unroll 3
        for (int j = 0; j < NV; j++)
            b[j] = j < NV - 1 ? _mm512_loadu_ps(B + 16 * j) : _mm512_maskz_loadu_ps(m[j], B + 16 * j);
#pragma GCC unroll 8
        for (int i = 0; i < 8; i++) {
            __m512 a = _mm512_set1_ps(A[i]);
#pragma GCC unroll 3
            for (int j = 0; j < NV; j++) c[i][j] = _mm512_fmadd_ps(a, b[j], c[i][j]);
        }
        A += MC_MR;
        B += ldb;
    }
#pragma GCC unroll 8
    for (int i = 0; i < 8; i++) {   /* fully unrolled, so c[][] stays in registers */
        if (i >= mr) break;
        float *ci = C + i * ldc;
#pragma GCC unroll 3
        for (int j = 0; j < NV; j++) {
            __m512 v = c[i][j];
            if (accumulate) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m[j], ci + 16 * j));
            if (ep) {
                if (ep->bias) v = _mm512_add_ps(v, _mm512_set1_ps(ep->bias[row0 + i]));
                if (ep->residual)
                    v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m[j], ep->residual + i * ep->ldr + 16 * j));
                v = mc_act512(v, ep);
            }
            _mm512_mask_storeu_ps(ci + 16 * j, m[j], v);
        }
    }
}

MC_T512 static void ukr_avx512_ld(int kc, const float *A, const float *B, ptrdiff_t ldb, float *C,
                                  ptrdiff_t ldc, int mr, int nr, int accumulate, const mc_epilogue *ep,
                                  int row0) {
    if (nr > 32) ukr_avx512_n(kc, A, B, ldb, C, ldc, mr, nr, accumulate, ep, row0, 3);
    else if (nr > 16) ukr_avx512_n(kc, A, B, ldb, C, ldc, mr, nr, accumulate, ep, row0, 2);
    else ukr_avx512_n(kc, A, B, ldb, C, ldc, mr, nr, accumulate, ep, row0, 1);
}

/* packed B panels: 48 floats per k */
MC_T512 static void ukr_avx512(int kc, const float *A, const float *B, float *C, ptrdiff_t ldc,
                               int mr, int nr, int accumulate, const mc_epilogue *ep, int row0) {
    ukr_avx512_ld(kc, A, B, 48, C, ldc, mr, nr, accumulate, ep, row0);
}

/* AVX2: 16 ymm registers fit a 4x24 tile; the 8-row panel is done as two passes. */
MC_T256 static void ukr_avx2_half(int kc, const float *A, const float *B, ptrdiff_t ldb, float *C,
                                  ptrdiff_t ldc, int mr, int nr, int accumulate, const mc_epilogue *ep,
                                  int row0) {
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c02 = c00, c10 = c00, c11 = c00, c12 = c00;
    __m256 c20 = c00, c21 = c00, c22 = c00, c30 = c00, c31 = c00, c32 = c00;
    for (int k = 0; k < kc; k++) {
        __m256 b0 = _mm256_loadu_ps(B), b1 = _mm256_loadu_ps(B + 8), b2 = _mm256_loadu_ps(B + 16);
        __m256 a;
#define ROW(i) a = _mm256_broadcast_ss(A + i); \
        c##i##0 = _mm256_fmadd_ps(a, b0, c##i##0); c##i##1 = _mm256_fmadd_ps(a, b1, c##i##1); \
        c##i##2 = _mm256_fmadd_ps(a, b2, c##i##2);
        ROW(0) ROW(1) ROW(2) ROW(3)
#undef ROW
        A += MC_MR;
        B += ldb;
    }
    __m256 acc[4][3] = {{c00, c01, c02}, {c10, c11, c12}, {c20, c21, c22}, {c30, c31, c32}};
    for (int i = 0; i < mr; i++) {
        float *c = C + i * ldc;
        for (int j = 0; j < 3; j++) {
            int n = nr - 8 * j;
            if (n <= 0) break;
            __m256 v = acc[i][j];
            if (n >= 8) {   /* full vectors: plain loads/stores (masked stores are slow on AMD) */
                if (accumulate) v = _mm256_add_ps(v, _mm256_loadu_ps(c + 8 * j));
                if (ep) {
                    if (ep->bias) v = _mm256_add_ps(v, _mm256_set1_ps(ep->bias[row0 + i]));
                    if (ep->residual) v = _mm256_add_ps(v, _mm256_loadu_ps(ep->residual + i * ep->ldr + 8 * j));
                    v = mc_act256(v, ep);
                }
                _mm256_storeu_ps(c + 8 * j, v);
                continue;
            }
            __m256i m = mc_mask256(n);
            if (accumulate) v = _mm256_add_ps(v, _mm256_maskload_ps(c + 8 * j, m));
            if (ep) {
                if (ep->bias) v = _mm256_add_ps(v, _mm256_set1_ps(ep->bias[row0 + i]));
                if (ep->residual)
                    v = _mm256_add_ps(v, _mm256_maskload_ps(ep->residual + i * ep->ldr + 8 * j, m));
                v = mc_act256(v, ep);
            }
            float tmp[8];
            _mm256_storeu_ps(tmp, v);
            memcpy(c + 8 * j, tmp, sizeof(float) * n);
        }
    }
}

/* B rows with stride ldb (24 for packed panels, the block's row stride otherwise) */
MC_T256 static void ukr_avx2_ld(int kc, const float *A, const float *B, ptrdiff_t ldb, float *C,
                                ptrdiff_t ldc, int mr, int nr, int accumulate, const mc_epilogue *ep,
                                int row0) {
    ukr_avx2_half(kc, A, B, ldb, C, ldc, mr < 4 ? mr : 4, nr, accumulate, ep, row0);
    if (mr <= 4) return;
    mc_epilogue lower;
    const mc_epilogue *ep2 = NULL;
    if (ep) {
        lower = *ep;
        if (lower.residual) lower.residual += 4 * lower.ldr;
        ep2 = &lower;
    }
    ukr_avx2_half(kc, A + 4, B, ldb, C + 4 * ldc, ldc, mr - 4, nr, accumulate, ep2, row0 + 4);
}

MC_T256 static void ukr_avx2(int kc, const float *A, const float *B, float *C, ptrdiff_t ldc,
                             int mr, int nr, int accumulate, const mc_epilogue *ep, int row0) {
    ukr_avx2_ld(kc, A, B, 24, C, ldc, mr, nr, accumulate, ep, row0);
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

/* ---------------------------------------------------------------- M-vectorised ----- */
/* AVX2 16x6 tile vectorised along M: two 8-row vectors of the weight panels times six
   broadcast B values per k, 12 accumulators.  The 16 x kc weight micro-panel
   stays in L1 while B is read straight from a row-major block (the input itself for dense
   and 1x1 convs, an im2col block otherwise), so no B panel packing is needed and any N
   wastes at most 5 columns (7x7 maps: 49 -> 54, where 24-wide panels give 72).
   Partial sums between K blocks live in a per-thread [16][6]-tile buffer. */
#ifndef MV_MR
#define MV_MR 16
#define MV_NR 6
#endif
/* K block of the tile (A micro-panel 16 x 384: 24 KB fp32, 12 KB fp16, L1; 128..512 measured
   the same) and the B block budget in floats (kc x nc about 192 KB, L2).  Copying B into 6-wide k-major panels was
   measured (conv and dense, ldb up to 12544) and gave nothing over reading the row-major
   block in place, so B is never packed on this path. */
#define MV_KC 384
#define MV_NCB (48 * 1024)

#ifdef MC_X86
/* The 16 weight rows of a tile: two 8-row panels read in place (k-step 8 elements), fp16
   converted in registers.  The conversion rides in issue slots the FMA-bound loop leaves
   free, where converting a kc x 16 slab into a buffer first cost 10-25 % on small maps
   (7x7, 14x14: a slab serves few columns) and its memory latency was not hidden. */
typedef struct { const void *p0, *p1; } mv_a;

MC_T256 static inline __attribute__((always_inline)) __m256 mv_load8(const void *p, int k, const int F16) {
    if (F16) return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)p + (size_t)k * 8)));
    return _mm256_loadu_ps((const float *)p + (size_t)k * 8);
}

/* NR columns (a constant after inlining): 2*NR accumulators */
MC_T256 static inline __attribute__((always_inline)) void
ukr_mv_n(int kc, mv_a A, const float *B, const ptrdiff_t *koff, ptrdiff_t ldb, float *acc, int load,
         const int NR, const int F16) {
    enum { V = MV_MR / 8 };
    __m256 c[V][MV_NR];
#pragma GCC unroll 8
    for (int j = 0; j < NR; j++)
#pragma GCC unroll 8
        for (int v = 0; v < V; v++) c[v][j] = load ? _mm256_load_ps(acc + j * MV_MR + 8 * v) : _mm256_setzero_ps();
#pragma GCC unroll 2
    for (int k = 0; k < kc; k++) {
        const float *bk = koff ? B + koff[k] : B + k * ldb;
        __m256 a[V] = {mv_load8(A.p0, k, F16), mv_load8(A.p1, k, F16)};
#pragma GCC unroll 8
        for (int j = 0; j < NR; j++) {
            __m256 b = _mm256_broadcast_ss(bk + j);
#pragma GCC unroll 8
            for (int v = 0; v < V; v++) c[v][j] = _mm256_fmadd_ps(a[v], b, c[v][j]);
        }
    }
#pragma GCC unroll 8
    for (int j = 0; j < NR; j++)
#pragma GCC unroll 8
        for (int v = 0; v < V; v++) _mm256_store_ps(acc + j * MV_MR + 8 * v, c[v][j]);
}

/* One switch case per narrow width, so each inlined kernel has its column count as a constant. */
#define MV_NARROW_CASES(CALL) \
    case 1: CALL(1); break; case 2: CALL(2); break; case 3: CALL(3); break; \
    case 4: CALL(4); break; case 5: CALL(5); break;

/* nr <= 6 columns; a column tail (nr < 6, e.g. 49 = 8*6 + 1 on 7x7 maps) reads and computes
   only nr columns, so B is used in place and the tail costs nr/6 of a tile, not a full one.
   Columns >= nr of acc are left untouched.  B rows at koff[k] (direct rows) or k * ldb. */
MC_T256 static void ukr_mv(int kc, mv_a A, int f16, const float *B, const ptrdiff_t *koff, ptrdiff_t ldb,
                           float *acc, int load, int nr) {
#define MV_CALL(n) do { if (f16) ukr_mv_n(kc, A, B, koff, ldb, acc, load, n, 1); \
                        else ukr_mv_n(kc, A, B, koff, ldb, acc, load, n, 0); } while (0)
    if (nr == MV_NR && koff) {
        if (f16) ukr_mv_n(kc, A, B, koff, 0, acc, load, MV_NR, 1);
        else ukr_mv_n(kc, A, B, koff, 0, acc, load, MV_NR, 0);
        return;
    }
    if (nr == MV_NR) {
        if (f16) ukr_mv_n(kc, A, B, NULL, ldb, acc, load, MV_NR, 1);
        else ukr_mv_n(kc, A, B, NULL, ldb, acc, load, MV_NR, 0);
        return;
    }
    switch (nr) { MV_NARROW_CASES(MV_CALL) default: break; }
#undef MV_CALL
}

/* AVX-512 twin of ukr_mv_n: the 16 rows are one zmm vector, so a tile is 16 x MV_NR512
   columns (12 accumulators + the A vector + a broadcast) and each FMA does twice the work
   of the AVX2 tile's.  Same acc layout (column-major [NR][16]), same K order. */
#define MV_NR512 12
MC_T512 static inline __attribute__((always_inline)) __m512 mv_load16(mv_a A, int k, const int F16) {
    if (F16) {
        __m128i lo = _mm_loadu_si128((const __m128i *)((const uint16_t *)A.p0 + (size_t)k * 8));
        __m128i hi = _mm_loadu_si128((const __m128i *)((const uint16_t *)A.p1 + (size_t)k * 8));
        return _mm512_cvtph_ps(_mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1));
    }
    __m256d lo = _mm256_castps_pd(_mm256_loadu_ps((const float *)A.p0 + (size_t)k * 8));
    __m256d hi = _mm256_castps_pd(_mm256_loadu_ps((const float *)A.p1 + (size_t)k * 8));
    return _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castpd256_pd512(lo), hi, 1));
}

MC_T512 static inline __attribute__((always_inline)) void
ukr_mv512_n(int kc, mv_a A, const float *B, const ptrdiff_t *koff, ptrdiff_t ldb, float *acc, int load,
            const int NR, const int F16) {
    __m512 c[MV_NR512];
#pragma GCC unroll 12
    for (int j = 0; j < NR; j++) c[j] = load ? _mm512_load_ps(acc + j * MV_MR) : _mm512_setzero_ps();
#pragma GCC unroll 2
    for (int k = 0; k < kc; k++) {
        __m512 a = mv_load16(A, k, F16);
        const float *b = koff ? B + koff[k] : B + k * ldb;
#pragma GCC unroll 12
        for (int j = 0; j < NR; j++) c[j] = _mm512_fmadd_ps(a, _mm512_set1_ps(b[j]), c[j]);
    }
#pragma GCC unroll 12
    for (int j = 0; j < NR; j++) _mm512_store_ps(acc + j * MV_MR, c[j]);
}

MC_T512 static inline __attribute__((always_inline)) void
ukr_mv512_w(int kc, mv_a A, const float *B, const ptrdiff_t *koff, ptrdiff_t ldb, float *acc,
            int load, int nr, const int F16) {
#define MV_CALL(n) ukr_mv512_n(kc, A, B, koff, ldb, acc, load, n, F16)
    switch (nr) {
    MV_NARROW_CASES(MV_CALL)
    case 6: MV_CALL(6); break;
    case 7: MV_CALL(7); break;
    case 8: MV_CALL(8); break;
    case 9: MV_CALL(9); break;
    case 10: MV_CALL(10); break;
    case 11: MV_CALL(11); break;
    default: MV_CALL(MV_NR512);
    }
#undef MV_CALL
}

/* B rows at koff[k] (direct rows) or k * ldb (koff NULL): two instantiations, so the strided
   case keeps a plain pointer increment (measured 5 % faster on small-K pointwise layers). */
MC_T512 static void ukr_mv512(int kc, mv_a A, int f16, const float *B, const ptrdiff_t *koff, ptrdiff_t ldb,
                              float *acc, int load, int nr) {
    if (f16 && koff) ukr_mv512_w(kc, A, B, koff, 0, acc, load, nr, 1);
    else if (f16) ukr_mv512_w(kc, A, B, NULL, ldb, acc, load, nr, 1);
    else if (koff) ukr_mv512_w(kc, A, B, koff, 0, acc, load, nr, 0);
    else ukr_mv512_w(kc, A, B, NULL, ldb, acc, load, nr, 0);
}

/* acc is column-major [6][16]; writes rows [0, mr) x columns [0, nr) of C. */
MC_T256 static void mv_finish(const float *acc, float *C, ptrdiff_t ldc, int mr, int nr,
                              const mc_epilogue *ep, const float *res, int row0) {
    __m256i mask = mc_mask256(nr);
    for (int v = 0; v * 8 < mr; v++) {
        __m256 r[8];
        for (int j = 0; j < 8; j++) r[j] = j < MV_NR ? _mm256_load_ps(acc + j * MV_MR + 8 * v) : _mm256_setzero_ps();
        mc_tr8x8(r);   /* r[i] = row 8v+i, columns 0..7 */
        int rows = mr - 8 * v < 8 ? mr - 8 * v : 8;
        for (int i = 0; i < rows; i++) {
            int m = 8 * v + i;
            __m256 x = r[i];
            if (ep) {
                if (ep->bias) x = _mm256_add_ps(x, _mm256_set1_ps(ep->bias[row0 + m]));
                if (res) x = _mm256_add_ps(x, _mm256_maskload_ps(res + m * ep->ldr, mask));
                if (ep->act != MC_ACT_NONE) x = mc_act256(x, ep);
            }
            float *c = C + m * ldc;
            if (nr == 6) {
                _mm_storeu_ps(c, _mm256_castps256_ps128(x));
                _mm_storel_pi((__m64 *)(c + 4), _mm256_extractf128_ps(x, 1));
            } else if (nr == 4) {
                _mm_storeu_ps(c, _mm256_castps256_ps128(x));
            } else {
                float row[8];
                _mm256_storeu_ps(row, x);
                for (int j = 0; j < nr; j++) c[j] = row[j];
            }
        }
    }
}

/* The two weight panels of rows [ic, ic+MV_MR) from k-step pc: fp32 and fp16 panels in place
   (*f16 says which), a missing second panel (M past ic + 8) as zeros; 8-bit codes decoded
   into abuf (2 x kc x 8 floats). */
MC_T256 static mv_a mv_weights(mc_panels w, int M, int K, int ic, int pc, int kc, float *abuf, int *f16) {
    const void *p[2];
    for (int v = 0; v < 2; v++) {
        float *d = abuf + (size_t)v * kc * 8;
        size_t at = (size_t)(ic / MC_MR + v) * K * MC_MR + (size_t)pc * MC_MR;
        p[v] = d;
        if (ic + 8 * v >= M) memset(d, 0, sizeof(float) * (size_t)kc * 8);   /* zero fp32 and fp16 alike */
        else if (w.q) mc_dequant_rows(w, at, ic / MC_MR + v, kc, d, 8);
        else p[v] = mc_panels_at(w, at).p;
    }
    *f16 = !w.f32 && !w.q;
    return (mv_a){p[0], p[1]};
}
#endif


/* ---------------------------------------------------------------- driver ----------- */

typedef struct {
    mc_panels packed;
    int M, K, N;
    mc_pack_b_fn pack_b;
    mc_rows_b_fn rows_b;
    const void *ctx;
    float *out;
    ptrdiff_t ldc;
    const mc_epilogue *ep;
    ukr_fn ukr;
    int nr;
    int mv, kc, nk, nc;       /* M-vectorised path: K block, number of K blocks, N block */
    int mvnr;                 /* its tile width: MV_NR (AVX2) or MV_NR512 */
    const mc_direct_b *direct;  /* B rows straight from the padded input (mc_gemm_direct) */
    int tm, tn, chunk_m, chunk_n;
} gemm_job;

static void run_tile(const gemm_job *g, int m0, int m1, int n0, int n1) {
    float *abuf = mc_scratch(MC_SLOT_A, (size_t)MC_KC * MC_MR);
    float *bbuf = mc_scratch(MC_SLOT_B, (size_t)MC_KC * (MC_NC + 48));
    for (int jc = n0; jc < n1; jc += MC_NC) {
        int nc = n1 - jc < MC_NC ? n1 - jc : MC_NC;
        int pc = 0;
        do {
            int kc = g->K - pc < MC_KC ? g->K - pc : MC_KC;
            int last = pc + kc >= g->K;
            g->pack_b(g->ctx, pc, kc, jc, nc, g->nr, bbuf);
            for (int ic = m0; ic < m1; ic += MC_MR) {
                int mr = m1 - ic < MC_MR ? m1 - ic : MC_MR;
                const float *A = mc_panel_rows(g->packed, g->K, ic / MC_MR, pc, kc, abuf);
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
                    g->ukr(kc, A, bbuf + (size_t)jr * kc, c, g->ldc, mr, nr, pc > 0, ep, ic);
                }
            }
            pc += kc;
        } while (pc < g->K);
    }
}

#ifdef MC_X86
/* Writes columns [n, n + cols) of the GEMM (an acc tile, column-major [cols][16]) to the
   output.  With direct rows (stride-1 conv on the padded input) GEMM column n is padded
   position (n / pw, n % pw): the columns past the output width are dropped and the others
   land at oh * ow + ow'; otherwise column n is output column n. */
MC_T256 static inline __attribute__((always_inline)) void mv_store(const gemm_job *g, const float *acc, int ic, int mr, int n, int cols) {
    const mc_epilogue *ep = g->ep;
    for (int j = 0; j < cols;) {
        int o = n + j, seg = cols - j;
        if (g->direct) {
            int oh = o / g->direct->pw, ow = o % g->direct->pw;
            if (ow >= g->direct->ow) { j += g->direct->pw - ow; continue; }
            if (seg > g->direct->ow - ow) seg = g->direct->ow - ow;
            o = oh * g->direct->ow + ow;
        }
        /* the transposing store works on MV_NR columns at a time */
        for (int j0 = 0; j0 < seg; j0 += MV_NR) {
            int nr = seg - j0 < MV_NR ? seg - j0 : MV_NR;
            const float *res = ep && ep->residual ? ep->residual + (ptrdiff_t)ic * ep->ldr + o + j0 : NULL;
            mv_finish(acc + (j + j0) * MV_MR, g->out + (ptrdiff_t)ic * g->ldc + o + j0, g->ldc, mr, nr, ep, res, ic);
        }
        j += seg;
    }
}

MC_T256 static void run_tile_mv(const gemm_job *g, int m0, int m1, int n0, int n1) {
    const int NRT = g->mvnr;
    int nb = (g->nc + NRT - 1) / NRT, mb = (m1 - m0 + MV_MR - 1) / MV_MR;
    float *abuf = mc_scratch(MC_SLOT_A, (size_t)g->kc * MV_MR);
    float *bbuf = g->direct ? NULL : mc_scratch(MC_SLOT_B, (size_t)g->kc * g->nc + 64);
    /* + MV_NR columns: mv_finish reads a whole MV_NR-column group from any start column */
    float *accs = mc_scratch(MC_SLOT_ACC, (g->nk > 1 ? (size_t)mb * nb * MV_MR * NRT : MV_MR * NRT) + MV_MR * MV_NR);
    for (int jc = n0; jc < n1; jc += g->nc) {
        int nc = n1 - jc < g->nc ? n1 - jc : g->nc;
        int full = nc / NRT, npan = (nc + NRT - 1) / NRT, rest = nc - full * NRT;
        /* AVX-512: a 1..3-column remainder has too few accumulator chains to cover the FMA
           latency; it and the last full tile become two near-halves (49 = 4 x 12 + 1 ->
           3 x 12 + 7 + 6), measured 1-4 % on 7x7 maps (on AVX2, 6 + 1 -> 4 + 3 measured no
           gain).  The K order per column is unchanged. */
        int merge = NRT == MV_NR512 && rest > 0 && rest < 4 && full > 0 ? (NRT + rest + 1) / 2 : 0;
        for (int kb = 0; kb < g->nk; kb++) {
            int pc = kb * g->kc, kc = g->K - pc < g->kc ? g->K - pc : g->kc;
            int last = kb == g->nk - 1;
            const float *B;
            const ptrdiff_t *koff = NULL;
            ptrdiff_t ldb = nc;
            if (g->direct) {
                B = g->direct->x + jc;
                koff = g->direct->koff + pc;
            } else {
                B = g->rows_b(g->ctx, pc, kc, jc, nc, bbuf, &ldb);
            }
            for (int ic = m0; ic < m1; ic += MV_MR) {
                int mr = m1 - ic < MV_MR ? m1 - ic : MV_MR;
                int f16;
                mv_a A = mv_weights(g->packed, g->M, g->K, ic, pc, kc, abuf, &f16);
                for (int jp = 0; jp < npan; jp++) {
                    float *acc = g->nk > 1 ? accs + ((size_t)((ic - m0) / MV_MR) * nb + jp) * (MV_MR * NRT) : accs;
                    int c0 = jp * NRT, cols = jp < full ? NRT : rest;
                    if (merge && jp >= npan - 2) {
                        c0 = (npan - 2) * NRT + (jp == npan - 1 ? merge : 0);
                        cols = jp == npan - 1 ? NRT + rest - merge : merge;
                    }
                    const float *Bp = B + c0;
                    if (NRT == MV_NR512) ukr_mv512(kc, A, f16, Bp, koff, ldb, acc, kb > 0, cols);
                    else ukr_mv(kc, A, f16, Bp, koff, ldb, acc, kb > 0, cols);
                    if (last) mv_store(g, acc, ic, mr, jc + c0, cols);
                }
            }
        }
    }
}

/* Small K: the N-vectorised kernels reading B rows in place (no panel packing, no transposing
   store): 8x48 on AVX-512 (partial tiles under masks), 8x24 on AVX2 (a partial tile's
   columns copied to a zero-padded panel). */
MC_T256 static void run_tile_nv(const gemm_job *g, int m0, int m1, int n0, int n1) {
    int avx512 = mc_isa() == MC_ISA_AVX512, W = avx512 ? 48 : 24;
    float *abuf = mc_scratch(MC_SLOT_A, (size_t)MC_KC * MC_MR);
    float *bbuf = mc_scratch(MC_SLOT_B, (size_t)MC_KC * g->nc + 64);
    float *tail = mc_scratch(MC_SLOT_TAIL, (size_t)MC_KC * 24 + 16);
    for (int jc = n0; jc < n1; jc += g->nc) {
        int nc = n1 - jc < g->nc ? n1 - jc : g->nc;
        int full = avx512 ? nc : nc / 24 * 24, rest = nc - full;
        for (int pc = 0; pc < g->K; pc += MC_KC) {
            int kc = g->K - pc < MC_KC ? g->K - pc : MC_KC;
            int last = pc + kc >= g->K;
            ptrdiff_t ldb = nc;
            const float *B = g->rows_b(g->ctx, pc, kc, jc, nc, bbuf, &ldb);
            if (rest) {
                const float *src = B + full;
                for (int k = 0; k < kc; k++) {
                    memcpy(tail + k * 24, src + k * ldb, sizeof(float) * rest);
                    memset(tail + k * 24 + rest, 0, sizeof(float) * (24 - rest));
                }
            }
            for (int ic = m0; ic < m1; ic += MC_MR) {
                int mr = m1 - ic < MC_MR ? m1 - ic : MC_MR;
                const float *A = mc_panel_rows(g->packed, g->K, ic / MC_MR, pc, kc, abuf);
                for (int jr = 0; jr < nc; jr += W) {
                    int nr = nc - jr < W ? nc - jr : W;
                    float *c = g->out + (ptrdiff_t)ic * g->ldc + jc + jr;
                    mc_epilogue tile_ep;
                    const mc_epilogue *ep = NULL;
                    if (last && g->ep) {
                        tile_ep = *g->ep;
                        if (tile_ep.residual) tile_ep.residual += (ptrdiff_t)ic * tile_ep.ldr + jc + jr;
                        ep = &tile_ep;
                    }
                    if (avx512) ukr_avx512_ld(kc, A, B + jr, ldb, c, g->ldc, mr, nr, pc > 0, ep, ic);
                    else if (jr < full) ukr_avx2_ld(kc, A, B + jr, ldb, c, g->ldc, mr, nr, pc > 0, ep, ic);
                    else ukr_avx2_ld(kc, A, tail, 24, c, g->ldc, mr, nr, pc > 0, ep, ic);
                }
            }
        }
    }
}
#endif

static void gemm_task(void *ctx, int t, int thread) {
    (void)thread;
    const gemm_job *g = ctx;
    int m0 = (t / g->tn) * g->chunk_m, n0 = (t % g->tn) * g->chunk_n;
    int m1 = m0 + g->chunk_m < g->M ? m0 + g->chunk_m : g->M;
    int n1 = n0 + g->chunk_n < g->N ? n0 + g->chunk_n : g->N;
    if (m0 >= m1 || n0 >= n1) return;
#ifdef MC_X86
    if (g->mv == 1) { run_tile_mv(g, m0, m1, n0, n1); return; }
    if (g->mv == 2) { run_tile_nv(g, m0, m1, n0, n1); return; }
#endif
    run_tile(g, m0, m1, n0, n1);
}

static int ceil_div(int a, int b) { return (a + b - 1) / b; }

/* Dense B: X[K, N] with row stride ldx. */
typedef struct { const float *x; ptrdiff_t ldx; } dense_b;

static const float *rows_dense(const void *ctx, int k0, int kc, int n0, int nc, float *buf,
                              ptrdiff_t *ldb) {
    (void)kc, (void)nc, (void)buf;
    const dense_b *d = ctx;
    *ldb = d->ldx;
    return d->x + (ptrdiff_t)k0 * d->ldx + n0;
}

/* Rows [k0, k1) of B, built by its provider into buf (row stride N). */
typedef struct { mc_rows_b_fn rows_b; const void *ctx; float *buf; int N; } full_b;

static void build_rows(void *ctx, ptrdiff_t k0, ptrdiff_t k1) {
    const full_b *f = ctx;
    float *dst = f->buf + k0 * f->N;
    ptrdiff_t ldb = f->N;
    const float *got = f->rows_b(f->ctx, (int)k0, (int)(k1 - k0), 0, f->N, dst, &ldb);
    if (got != dst)   /* a provider that answered in place */
        for (ptrdiff_t k = 0; k < k1 - k0; k++) memcpy(dst + k * f->N, got + k * ldb, sizeof(float) * f->N);
}

/* K below this goes to the N-vectorised kernels: the transposing epilogue of the M-vectorised
   tile costs about as much as 32 k-steps of the AVX2 16x6 tile.  The AVX-512 8x48 tile
   (no transpose, one B vector load per 8 FMAs) was measured above the 16x12 one below
   K = 128 (MobileNetV2's pointwise layers: 1.3-1.7x on K = 16..96, 3136..12544 columns),
   level at 128..144 and 8 % behind on ResNet-18's first layer (K = 147). */
static int mv_min_k(void) { return mc_isa() == MC_ISA_AVX512 ? 128 : 32; }

/* The M-vectorised tile takes M in 16-row blocks; ragged M only pays when the blocks are many. */
static int mv_fits(int M, int K) {
#ifdef MC_X86
    return mc_isa() >= MC_ISA_AVX2 && K >= mv_min_k() && (M % MV_MR == 0 || M >= 64);
#else
    (void)M, (void)K;
    return 0;
#endif
}

int mc_gemm_direct_ok(int M, int K) { return mv_fits(M, K); }

/* Chooses the path, blocking and task split of g (its operands set) and runs it. */
static void gemm_launch(gemm_job *gp) {
    gemm_job g = *gp;
    int M = g.M, K = g.K, N = g.N;
    select_ukr(&g.ukr, &g.nr);
    int threads = mc_threads_for(2.0 * M * (double)K * N);
    int mr_unit = MC_MR, nr_unit = g.nr;
#ifdef MC_X86
    if ((g.rows_b || g.direct) && mv_fits(M, K)) {
        g.mv = 1;
        g.mvnr = mc_isa() == MC_ISA_AVX512 ? MV_NR512 : MV_NR;
        g.nk = ceil_div(K, MV_KC);
        g.kc = ceil_div(K, g.nk);
        /* B block (kc x nc) about 192 KB so it stays in L2 next to the weights */
        int nc = (MV_NCB / g.kc) / g.mvnr * g.mvnr;
        g.nc = nc < 48 ? 48 : nc > 4092 ? 4092 : nc;   /* multiples of 6 and 12 */
        /* a little over budget beats converting the weights twice (14x14: N = 196) */
        if (N <= g.nc * 8 / 5) g.nc = ceil_div(N, g.mvnr) * g.mvnr;
        mr_unit = MV_MR;
        nr_unit = g.mvnr;
    } else if (mc_isa() >= MC_ISA_AVX2 && g.rows_b && K > 0) {
        g.mv = 2;
        int kc = K < MC_KC ? K : MC_KC;
        int nc = (MV_NCB / (kc > 0 ? kc : 1)) / g.nr * g.nr;   /* whole 48- or 24-wide tiles */
        g.nc = nc < 96 ? 96 : nc > 4800 ? 4800 : nc;
    }
#endif
    /* Tasks: N chunks of at least 8 panels where possible (no duplicated B packing),
       then M chunks; several per thread so a late or busy thread is covered by the others. */
    int panels_n = ceil_div(N, nr_unit), panels_m = ceil_div(M, mr_unit);
    int tn = 1, tm = 1;
    if (threads > 1) {
        int target = 8 * threads;
        tn = panels_n / 8;
        tn = tn < 1 ? 1 : tn > target ? target : tn;
        tm = ceil_div(target, tn);
        if (tm > panels_m) tm = panels_m;
        if (tn * tm < 2) threads = 1, tn = tm = 1;
    }
    /* Several M chunks over the same columns would each build the same im2col block: build
       all of B once here and let the tasks read it in place. */
    dense_b full;
    if (g.mv && !g.direct && tm > 1 && g.rows_b != rows_dense && (size_t)K * N <= ((size_t)4 << 20)) {
        full_b fb = {g.rows_b, g.ctx, mc_scratch(MC_SLOT_FULLB, (size_t)K * N + 64), N};
        mc_parallel_for(K, 8.0 * K * N, build_rows, &fb);   /* split over rows of B as well */
        full.x = fb.buf;
        full.ldx = N;
        g.rows_b = rows_dense;
        g.ctx = &full;
    }
    g.tn = tn;
    g.tm = tm;
    g.chunk_n = ceil_div(panels_n, tn) * nr_unit;
    g.chunk_m = ceil_div(panels_m, tm) * mr_unit;
    mc_parallel(tn * tm, threads, gemm_task, &g);
}

void mc_gemm_driver2(mc_panels packed, int M, int K, int N, mc_pack_b_fn pack_b,
                     mc_rows_b_fn rows_b, const void *ctx, float *out, ptrdiff_t ldc,
                     const mc_epilogue *ep) {
    if (M <= 0 || N <= 0) return;
    gemm_job g = {packed, M, K, N, pack_b, rows_b, ctx, out, ldc, ep, NULL, 0, 0, 0, 0, 0, MV_NR, NULL, 1, 1, 0, 0};
    gemm_launch(&g);
}

void mc_gemm_direct(mc_panels packed, int M, int K, int N, const mc_direct_b *d, float *out,
                    ptrdiff_t ldc, const mc_epilogue *ep) {
    if (M <= 0 || N <= 0) return;
    gemm_job g = {packed, M, K, N, NULL, NULL, NULL, out, ldc, ep, NULL, 0, 0, 0, 0, 0, MV_NR, d, 1, 1, 0, 0};
    gemm_launch(&g);
}

void mc_gemm_driver(mc_panels packed, int M, int K, int N, mc_pack_b_fn pack_b,
                    const void *ctx, float *out, ptrdiff_t ldc, const mc_epilogue *ep) {
    mc_gemm_driver2(packed, M, K, N, pack_b, NULL, ctx, out, ldc, ep);
}


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


void mc_gemm_panels(mc_panels w, int M, int K, int N, const float *x, ptrdiff_t ldx,
                    float *out, ptrdiff_t ldc, const mc_epilogue *ep) {
    if (N == 1) {   /* matrix-vector (classifiers): a memory-bound kernel of its own */
        mc_gemv_panels(w, M, K, x, ldx, out, ldc, ep);
        return;
    }
    dense_b d = {x, ldx};
    mc_gemm_driver2(w, M, K, N, pack_dense, rows_dense, &d, out, ldc, ep);
}

void mc_gemm(const uint16_t *packed, int M, int K, int N, const float *x, ptrdiff_t ldx,
             float *out, ptrdiff_t ldc, const mc_epilogue *ep) {
    mc_panels w = {packed, 0};
    mc_gemm_panels(w, M, K, N, x, ldx, out, ldc, ep);
}

void mc_gemm_w32(const float *packed, int M, int K, int N, const float *x, ptrdiff_t ldx,
                 float *out, ptrdiff_t ldc, const mc_epilogue *ep) {
    mc_panels w = {packed, 1};
    mc_gemm_panels(w, M, K, N, x, ldx, out, ldc, ep);
}

void mc_gemm_q8(const int8_t *packed, const mc_dequant *dq, int M, int K, int N, const float *x,
                ptrdiff_t ldx, float *out, ptrdiff_t ldc, const mc_epilogue *ep) {
    mc_panels w = {packed, 0, dq, 0};
    mc_gemm_panels(w, M, K, N, x, ldx, out, ldc, ep);
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
