/* Matrix-vector product over the GEMM weight panels (N == 1: classifier and other one-row
   linear layers).  Memory-bound: the panels ([ceil(M/8)][K][8], fp16, fp32 or quantized) are
   streamed once, front to back, two panels at a time so every broadcast of x[k] serves 16
   rows.  fp16 and fp32 panels are read in place by the vector path: one k-step of a panel
   (8 rows) per 8-lane vector, on AVX-512 CPUs too -- a 16-lane version (two k-steps per
   vector against x expanded to [K][8]) measured 10-30 % slower on AMD EPYC: the expanded x
   doubles the loads and the weight stream, not the FMAs, is the limit.  Quantized panels (and
   the portable path) are decoded a K block at a time into L1 by mc_panel_rows.  fp32 accumulation; each row's K order depends only on the ISA,
   never on the thread count (threads take whole panels).  The epilogue is the GEMM's: bias,
   then residual, then activation. */
#include "kernels_impl.h"
#include "vecmath.h"

#define GEMV_KC 256   /* K block of the decoded path: 8 KB of fp32 rows per panel */

typedef struct {
    mc_panels w;
    int M, K, panels, chunk, isa;
    const float *x;    /* x, contiguous */
    float *out;
    ptrdiff_t ldc;
    const mc_epilogue *ep;
} gemv_job;

/* rows [row0, row0 + rows) of the output from the panel's 8 sums (rows past M sum to 0) */
static void finish(const gemv_job *g, float *sum, int row0, int rows) {
    const mc_epilogue *ep = g->ep;
    for (int i = 0; i < rows && ep; i++) {
        if (ep->bias) sum[i] += ep->bias[row0 + i];
        if (ep->residual) sum[i] += ep->residual[(ptrdiff_t)(row0 + i) * ep->ldr];
    }
    if (ep && ep->act != MC_ACT_NONE) mc_activation(sum, MC_MR, ep);   /* the epilogues' vector code */
    for (int i = 0; i < rows; i++) g->out[(ptrdiff_t)(row0 + i) * g->ldc] = sum[i];
}

#ifdef MC_X86
/* AVX2: one k-step of a panel per vector against a broadcast x[k], two accumulators per panel. */
MC_T256 static inline __attribute__((always_inline)) void
panels256(const gemv_job *g, int p, const int P, const int f32) {
    int K = g->K;
    __m256 acc[2][2];
    const uint16_t *h[2];
    const float *f[2];
    for (int q = 0; q < P; q++) {
        size_t at = (size_t)(p + q) * K * MC_MR;
        h[q] = (const uint16_t *)g->w.p + at;
        f[q] = (const float *)g->w.p + at;
        acc[q][0] = acc[q][1] = _mm256_setzero_ps();
    }
#define W8(q, e) (f32 ? _mm256_loadu_ps(f[q] + (e)) \
                      : _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(h[q] + (e)))))
    int k = 0;
    for (; k + 2 <= K; k += 2) {
        __m256 x0 = _mm256_broadcast_ss(g->x + k), x1 = _mm256_broadcast_ss(g->x + k + 1);
        for (int q = 0; q < P; q++) {
            acc[q][0] = _mm256_fmadd_ps(W8(q, (size_t)k * 8), x0, acc[q][0]);
            acc[q][1] = _mm256_fmadd_ps(W8(q, (size_t)k * 8 + 8), x1, acc[q][1]);
        }
    }
    if (k < K) {
        __m256 x0 = _mm256_broadcast_ss(g->x + k);
        for (int q = 0; q < P; q++) acc[q][0] = _mm256_fmadd_ps(W8(q, (size_t)k * 8), x0, acc[q][0]);
    }
#undef W8
    for (int q = 0; q < P; q++) {
        float sum[8];
        _mm256_storeu_ps(sum, _mm256_add_ps(acc[q][0], acc[q][1]));
        int row0 = (p + q) * MC_MR;
        finish(g, sum, row0, g->M - row0 < MC_MR ? g->M - row0 : MC_MR);
    }
}

MC_T256 static void run256(const gemv_job *g, int p0, int p1) {
    int p = p0;
    if (g->w.f32) {
        for (; p + 2 <= p1; p += 2) panels256(g, p, 2, 1);
        if (p < p1) panels256(g, p, 1, 1);
        return;
    }
    for (; p + 2 <= p1; p += 2) panels256(g, p, 2, 0);
    if (p < p1) panels256(g, p, 1, 0);
}
#endif

/* Any panel kind: K blocks decoded to fp32 rows (in place for fp32), plain C accumulation. */
static void run_decoded(const gemv_job *g, int p0, int p1) {
    float *buf = mc_scratch(MC_SLOT_A, (size_t)GEMV_KC * MC_MR);
    for (int p = p0; p < p1; p++) {
        float sum[8] = {0};
        for (int k0 = 0; k0 < g->K; k0 += GEMV_KC) {
            int kc = g->K - k0 < GEMV_KC ? g->K - k0 : GEMV_KC;
            const float *a = mc_panel_rows(g->w, g->K, p, k0, kc, buf);
            for (int k = 0; k < kc; k++)
                for (int i = 0; i < MC_MR; i++) sum[i] += a[k * MC_MR + i] * g->x[k0 + k];
        }
        finish(g, sum, p * MC_MR, g->M - p * MC_MR < MC_MR ? g->M - p * MC_MR : MC_MR);
    }
}

static void gemv_task(void *ctx, int t, int thread) {
    (void)thread;
    const gemv_job *g = ctx;
    int p0 = t * g->chunk, p1 = p0 + g->chunk < g->panels ? p0 + g->chunk : g->panels;
#ifdef MC_X86
    if (!g->w.q && g->isa >= MC_ISA_AVX2) { run256(g, p0, p1); return; }
#endif
    run_decoded(g, p0, p1);
}

void mc_gemv_panels(mc_panels w, int M, int K, const float *x, ptrdiff_t ldx, float *out, ptrdiff_t ldc,
                    const mc_epilogue *ep) {
    if (M <= 0) return;
    gemv_job g = {w, M, K, (M + MC_MR - 1) / MC_MR, 0, mc_isa(), x, out, ldc, ep};
    if (ldx != 1) {   /* x made contiguous once, read by every task */
        float *xs = mc_scratch(MC_SLOT_B, (size_t)K + 16);
        for (int k = 0; k < K; k++) xs[k] = x[(ptrdiff_t)k * ldx];
        g.x = xs;
    }
    int threads = mc_threads_for(2.0 * M * (double)K);
    int ntasks = threads > 1 ? 4 * threads : 1;
    if (ntasks > g.panels) ntasks = g.panels;
    g.chunk = (g.panels + ntasks - 1) / ntasks;
    ntasks = (g.panels + g.chunk - 1) / g.chunk;
    mc_parallel(ntasks, threads, gemv_task, &g);
}
