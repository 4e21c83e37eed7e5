/* Scaled-dot-product attention (core.scaled_dot_product_attention), fp32 throughout:
   out[b,h,i,:] = softmax_j(scale * q[b,h,i,:] . k[b,h,j,:] + mask[b,h,i,j]) @ v[b,h,:,:].
   Operands are addressed by strides (the head dim contiguous), so heads interleaved in the
   rows of a projection ([B, S, H, E]) are read in place, without transposes.  One task per
   (batch, head): K is transposed once into per-thread scratch ([E][Sk]), then blocks of
   ATT_ROWS query rows go through a vector FMA sweep over the keys (scores), the row softmax
   (mc_softmax), and a vector FMA sweep over the values; the vector paths keep ATT_ROWS x 2
   accumulators in flight (FMA latency, not loads, bounds a single-row sweep).  Every ISA sums in the same order (over E, then over keys), so
   the AVX2/AVX-512 paths differ from the portable one only by FMA rounding.
   The batched matmul of two activations (core.matmul, row-major, no transposes) is the same
   weighted-sum sweep with a row of `a` as the weights. */
#include "kernels_impl.h"
#include "vecmath.h"

typedef struct {
    const mc_attention_shape *s;
    const float *q, *k, *v, *mask;
    float *out;
    int qblocks, qrows;      /* query rows split into qblocks tasks of qrows (ATT_ROWS multiples) */
} attention_task;

/* scores[j] = scale * sum_e q[e] * kt[e][j], j < n */
static void scores_portable(const float *q, const float *kt, int E, int n, float scale, float *scores) {
    for (int j = 0; j < n; j++) {
        float acc = 0.f;
        for (int e = 0; e < E; e++) acc += q[e] * kt[(size_t)e * n + j];
        scores[j] = acc * scale;
    }
}

/* o[c] = sum_j p[j] * v[j * ldv + c], c < n */
static void weighted_sum_portable(const float *p, const float *v, ptrdiff_t ldv, int Sk, int n, float *o) {
    for (int c = 0; c < n; c++) {
        float acc = 0.f;
        for (int j = 0; j < Sk; j++) acc += p[j] * v[j * ldv + c];
        o[c] = acc;
    }
}

#define ATT_ROWS 4

#ifdef MC_X86
/* scores of ATT_ROWS query rows (rows[r]) into sc[r * n + j]: two 16-wide key chunks each */
MC_T512 static void scores_rows_avx512(const float *const *rows, const float *kt, int E, int n, float scale,
                                       float *sc) {
    for (int j = 0; j < n; j += 32) {
        __mmask16 m0 = (__mmask16)(n - j >= 16 ? 0xffff : (1u << (n - j)) - 1);
        __mmask16 m1 = (__mmask16)(n - j - 16 >= 16 ? 0xffff : n - j > 16 ? (1u << (n - j - 16)) - 1 : 0);
        __m512 acc[ATT_ROWS][2];
        for (int r = 0; r < ATT_ROWS; r++) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
        for (int e = 0; e < E; e++) {
            __m512 k0 = _mm512_maskz_loadu_ps(m0, kt + (size_t)e * n + j);
            __m512 k1 = _mm512_maskz_loadu_ps(m1, kt + (size_t)e * n + j + 16);
            for (int r = 0; r < ATT_ROWS; r++) {
                __m512 qv = _mm512_set1_ps(rows[r][e]);
                acc[r][0] = _mm512_fmadd_ps(qv, k0, acc[r][0]);
                acc[r][1] = _mm512_fmadd_ps(qv, k1, acc[r][1]);
            }
        }
        for (int r = 0; r < ATT_ROWS; r++) {
            _mm512_mask_storeu_ps(sc + (size_t)r * n + j, m0, _mm512_mul_ps(acc[r][0], _mm512_set1_ps(scale)));
            _mm512_mask_storeu_ps(sc + (size_t)r * n + j + 16, m1, _mm512_mul_ps(acc[r][1], _mm512_set1_ps(scale)));
        }
    }
}

/* out[r][c] = sum_j p[r * Sk + j] * v[j * ldv + c] for ATT_ROWS rows, two 16-wide chunks */
MC_T512 static void weighted_rows_avx512(const float *p, const float *v, ptrdiff_t ldv, int Sk, int n,
                                         float *const *out) {
    for (int c = 0; c < n; c += 32) {
        __mmask16 m0 = (__mmask16)(n - c >= 16 ? 0xffff : (1u << (n - c)) - 1);
        __mmask16 m1 = (__mmask16)(n - c - 16 >= 16 ? 0xffff : n - c > 16 ? (1u << (n - c - 16)) - 1 : 0);
        __m512 acc[ATT_ROWS][2];
        for (int r = 0; r < ATT_ROWS; r++) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
        for (int j = 0; j < Sk; j++) {
            __m512 v0 = _mm512_maskz_loadu_ps(m0, v + j * ldv + c);
            __m512 v1 = _mm512_maskz_loadu_ps(m1, v + j * ldv + c + 16);
            for (int r = 0; r < ATT_ROWS; r++) {
                __m512 pv = _mm512_set1_ps(p[(size_t)r * Sk + j]);
                acc[r][0] = _mm512_fmadd_ps(pv, v0, acc[r][0]);
                acc[r][1] = _mm512_fmadd_ps(pv, v1, acc[r][1]);
            }
        }
        for (int r = 0; r < ATT_ROWS; r++) {
            _mm512_mask_storeu_ps(out[r] + c, m0, acc[r][0]);
            _mm512_mask_storeu_ps(out[r] + c + 16, m1, acc[r][1]);
        }
    }
}

MC_T512 static void weighted_sum_avx512(const float *p, const float *v, ptrdiff_t ldv, int Sk, int n, float *o) {
    for (int c = 0; c < n; c += 16) {
        __mmask16 m = (__mmask16)(n - c >= 16 ? 0xffff : (1u << (n - c)) - 1);
        __m512 acc = _mm512_setzero_ps();
        for (int j = 0; j < Sk; j++)
            acc = _mm512_fmadd_ps(_mm512_set1_ps(p[j]), _mm512_maskz_loadu_ps(m, v + j * ldv + c), acc);
        _mm512_mask_storeu_ps(o + c, m, acc);
    }
}

MC_T256 static inline __m256i tail_mask256(int left) {
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(left), lanes);
}

MC_T256 static void weighted_sum_avx2(const float *p, const float *v, ptrdiff_t ldv, int Sk, int n, float *o) {
    for (int c = 0; c < n; c += 8) {
        __m256i m = tail_mask256(n - c);
        __m256 acc = _mm256_setzero_ps();
        for (int j = 0; j < Sk; j++)
            acc = _mm256_fmadd_ps(_mm256_set1_ps(p[j]), _mm256_maskload_ps(v + j * ldv + c, m), acc);
        _mm256_maskstore_ps(o + c, m, acc);
    }
}

/* AVX2 twins of scores_rows_avx512 / weighted_rows_avx512: ATT_ROWS rows x two 8-wide
   chunks, eight independent accumulators (a single-row sweep waits on one FMA chain). */
MC_T256 static void scores_rows_avx2(const float *const *rows, const float *kt, int E, int n, float scale,
                                     float *sc) {
    for (int j = 0; j < n; j += 16) {
        __m256i m0 = tail_mask256(n - j), m1 = tail_mask256(n - j - 8);
        __m256 acc[ATT_ROWS][2];
        for (int r = 0; r < ATT_ROWS; r++) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
        for (int e = 0; e < E; e++) {
            __m256 k0 = _mm256_maskload_ps(kt + (size_t)e * n + j, m0);
            __m256 k1 = _mm256_maskload_ps(kt + (size_t)e * n + j + 8, m1);
            for (int r = 0; r < ATT_ROWS; r++) {
                __m256 qv = _mm256_broadcast_ss(rows[r] + e);
                acc[r][0] = _mm256_fmadd_ps(qv, k0, acc[r][0]);
                acc[r][1] = _mm256_fmadd_ps(qv, k1, acc[r][1]);
            }
        }
        for (int r = 0; r < ATT_ROWS; r++) {
            _mm256_maskstore_ps(sc + (size_t)r * n + j, m0, _mm256_mul_ps(acc[r][0], _mm256_set1_ps(scale)));
            _mm256_maskstore_ps(sc + (size_t)r * n + j + 8, m1, _mm256_mul_ps(acc[r][1], _mm256_set1_ps(scale)));
        }
    }
}

MC_T256 static void weighted_rows_avx2(const float *p, const float *v, ptrdiff_t ldv, int Sk, int n,
                                       float *const *out) {
    for (int c = 0; c < n; c += 16) {
        __m256i m0 = tail_mask256(n - c), m1 = tail_mask256(n - c - 8);
        __m256 acc[ATT_ROWS][2];
        for (int r = 0; r < ATT_ROWS; r++) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
        for (int j = 0; j < Sk; j++) {
            __m256 v0 = _mm256_maskload_ps(v + j * ldv + c, m0);
            __m256 v1 = _mm256_maskload_ps(v + j * ldv + c + 8, m1);
            for (int r = 0; r < ATT_ROWS; r++) {
                __m256 pv = _mm256_broadcast_ss(p + (size_t)r * Sk + j);
                acc[r][0] = _mm256_fmadd_ps(pv, v0, acc[r][0]);
                acc[r][1] = _mm256_fmadd_ps(pv, v1, acc[r][1]);
            }
        }
        for (int r = 0; r < ATT_ROWS; r++) {
            _mm256_maskstore_ps(out[r] + c, m0, acc[r][0]);
            _mm256_maskstore_ps(out[r] + c + 8, m1, acc[r][1]);
        }
    }
}
#endif

static void weighted_sum(int isa, const float *p, const float *v, ptrdiff_t ldv, int Sk, int n, float *o) {
#ifdef MC_X86
    if (isa == MC_ISA_AVX512) { weighted_sum_avx512(p, v, ldv, Sk, n, o); return; }
    if (isa == MC_ISA_AVX2) { weighted_sum_avx2(p, v, ldv, Sk, n, o); return; }
#endif
    (void)isa;
    weighted_sum_portable(p, v, ldv, Sk, n, o);
}

/* kt[e][j] = k[j * ks + e] for j0 <= j < j1, e0 <= e < e1 (kt rows of Sk floats). */
static void transpose_keys_portable(const float *k, ptrdiff_t ks, int Sk, int j0, int j1, int e0, int e1,
                                    float *kt) {
    for (int j = j0; j < j1; j++)
        for (int e = e0; e < e1; e++) kt[(size_t)e * Sk + j] = k[j * ks + e];
}

#ifdef MC_X86
/* 8x8 blocks through registers (the scalar loop writes one float per line of kt and costs
   about a fifth of a small head's time), scalar edges. */
MC_T256 static void transpose_keys_avx2(const float *k, ptrdiff_t ks, int Sk, int E, float *kt) {
    int j8 = Sk / 8 * 8, e8 = E / 8 * 8;
    for (int j = 0; j < j8; j += 8)
        for (int e = 0; e < e8; e += 8) {
            __m256 r[8];
            for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(k + (j + i) * ks + e);
            mc_tr8x8(r);
            for (int i = 0; i < 8; i++) _mm256_storeu_ps(kt + (size_t)(e + i) * Sk + j, r[i]);
        }
    transpose_keys_portable(k, ks, Sk, 0, j8, e8, E, kt);
    transpose_keys_portable(k, ks, Sk, j8, Sk, 0, E, kt);
}
#endif

static void transpose_keys(int isa, const float *k, ptrdiff_t ks, int Sk, int E, float *kt) {
#ifdef MC_X86
    if (isa != MC_ISA_PORTABLE) { transpose_keys_avx2(k, ks, Sk, E, kt); return; }
#endif
    (void)isa;
    transpose_keys_portable(k, ks, Sk, 0, Sk, 0, E, kt);
}

static void attention_head(void *ctx, int task, int thread) {
    (void)thread;
    const attention_task *t = ctx;
    const mc_attention_shape *s = t->s;
    int head = task / t->qblocks, b = head / s->H, h = head % s->H, isa = mc_isa();
    int q0 = task % t->qblocks * t->qrows, q1 = q0 + t->qrows < s->Sq ? q0 + t->qrows : s->Sq;
    const float *q = t->q + b * s->q_b + h * s->q_h;
    const float *k = t->k + b * s->k_b + h * s->k_h;
    const float *v = t->v + b * s->v_b + h * s->v_h;
    float *o = t->out + b * s->o_b + h * s->o_h;
    /* [E][Sk] keys, ATT_ROWS score rows, one output row for the block's padding rows */
    float *kt = mc_scratch(MC_SLOT_MISC, (size_t)s->E * s->Sk + (size_t)ATT_ROWS * s->Sk + s->Ev + 16);
    if (!kt) return;
    float *scores = kt + (size_t)s->E * s->Sk;
    transpose_keys(isa, k, s->k_s, s->Sk, s->E, kt);
    for (int i0 = q0; i0 < q1; i0 += ATT_ROWS) {
        int nrows = q1 - i0 < ATT_ROWS ? q1 - i0 : ATT_ROWS;
        const float *rows[ATT_ROWS];
        float *outs[ATT_ROWS];
        float *tail = scores + (size_t)ATT_ROWS * s->Sk;   /* sink for the rows past Sq */
        for (int r = 0; r < ATT_ROWS; r++) {
            int i = i0 + (r < nrows ? r : nrows - 1);      /* past the end: recompute the last row */
            rows[r] = q + i * s->q_s;
            outs[r] = r < nrows ? o + i * s->o_s : tail;
        }
#ifdef MC_X86
        if (isa == MC_ISA_AVX512) scores_rows_avx512(rows, kt, s->E, s->Sk, s->scale, scores);
        else if (isa == MC_ISA_AVX2) scores_rows_avx2(rows, kt, s->E, s->Sk, s->scale, scores);
        else
#endif
            for (int r = 0; r < ATT_ROWS; r++)
                scores_portable(rows[r], kt, s->E, s->Sk, s->scale, scores + (size_t)r * s->Sk);
        for (int r = 0; r < ATT_ROWS; r++) {
            float *sr = scores + (size_t)r * s->Sk;
            if (t->mask) {
                const float *m = t->mask + b * s->m_b + h * s->m_h + (i0 + (r < nrows ? r : nrows - 1)) * s->m_s;
                for (int j = 0; j < s->Sk; j++) sr[j] += m[j * s->m_t];
            }
        }
        mc_softmax(scores, scores, ATT_ROWS, s->Sk);
#ifdef MC_X86
        if (isa == MC_ISA_AVX512) { weighted_rows_avx512(scores, v, s->v_s, s->Sk, s->Ev, outs); continue; }
        if (isa == MC_ISA_AVX2) { weighted_rows_avx2(scores, v, s->v_s, s->Sk, s->Ev, outs); continue; }
#endif
        for (int r = 0; r < ATT_ROWS; r++)
            weighted_sum(isa, scores + (size_t)r * s->Sk, v, s->v_s, s->Sk, s->Ev, outs[r]);
    }
}

void mc_attention(const mc_attention_shape *s, const float *q, const float *k, const float *v,
                  const float *mask, float *out) {
    attention_task t = {s, q, k, v, mask, out, 1, s->Sq};
    int tasks = s->B * s->H;
    if (s->Sk == 0) {  /* no keys: an empty weighted sum, as the reference's p @ v */
        for (int task = 0; task < tasks; task++)
            for (int i = 0; i < s->Sq; i++)
                for (int c = 0; c < s->Ev; c++)
                    out[(task / s->H) * s->o_b + (task % s->H) * s->o_h + i * s->o_s + c] = 0.f;
        return;
    }
    double flops = 2.0 * tasks * s->Sq * (double)s->Sk * (s->E + s->Ev);
    int threads = mc_threads_for(flops);
    /* fewer heads than a few per thread: split the query rows too, in whole ATT_ROWS groups
       (each task transposes its head's keys again, a small cost next to its rows' work) */
    if (threads > 1 && tasks < 4 * threads) {
        int groups = (s->Sq + ATT_ROWS - 1) / ATT_ROWS, want = (4 * threads + tasks - 1) / tasks;
        int per = (groups + want - 1) / want;
        t.qrows = per * ATT_ROWS;
        t.qblocks = (s->Sq + t.qrows - 1) / t.qrows;
    }
    mc_parallel(tasks * t.qblocks, threads, attention_head, &t);
}

void mc_batched_matmul(const mc_matmul_shape *s, const float *a, const float *b, float *out,
                       const mc_epilogue *ep) {
    int isa = mc_isa();
    size_t rows = (size_t)s->batch * s->M;
    for (int t = 0; t < s->batch; t++)
        for (int i = 0; i < s->M; i++)
            weighted_sum(isa, a + t * s->a_b + (ptrdiff_t)i * s->K, b + t * s->b_b, s->N, s->K, s->N,
                         out + ((size_t)t * s->M + i) * s->N);
    if (ep && ep->residual)
        for (size_t i = 0; i < rows * s->N; i++) out[i] += ep->residual[i];
    if (ep && ep->act != MC_ACT_NONE) mc_activation(out, rows * s->N, ep);
}
