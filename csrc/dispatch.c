/* Runtime CPU-feature dispatch and the thread-count setting shared by all kernels. */
#include "kernels_impl.h"
#include "winograd.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int forced_isa = MC_ISA_AUTO;
static int num_threads = 0;   /* 0: OpenMP default */

int mc_detect_isa(void) {
#ifdef MC_X86
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")
                   && __builtin_cpu_supports("f16c");
        int avx512 = avx2 && __builtin_cpu_supports("avx512f");
        cached = avx512 ? MC_ISA_AVX512 : avx2 ? MC_ISA_AVX2 : MC_ISA_PORTABLE;
    }
    return cached;
#else
    return MC_ISA_PORTABLE;
#endif
}

/* ---------------------------------------------------------------- ISA self-check --- */
/* The machines this runs on vary (hypervisors masking features, new microcode, compilers),
   and an unverified vector path must never give wrong answers: at first use every vector
   ISA the CPU reports runs a few small problems covering each kernel family (both GEMM
   tilings with fp16 and fp32 panels, padded im2col conv, depthwise, vector activations)
   and is compared with the portable C code.  An ISA that disagrees is disabled for the
   process, with one line on stderr.  The problems stay below the threading threshold, so
   the check runs on the calling thread only. */
#include <pthread.h>
#include <stdio.h>

static int verified_isa = MC_ISA_PORTABLE;      /* best ISA that passed */
static pthread_once_t verify_once = PTHREAD_ONCE_INIT;
static _Thread_local int verifying = -1;        /* ISA under test on the checking thread */

static const char *isa_name(int isa) {
    return isa == MC_ISA_AVX512 ? "AVX-512" : isa == MC_ISA_AVX2 ? "AVX2" : "portable";
}

static float lcg(uint32_t *state) {
    *state = *state * 1664525u + 1013904223u;
    return (float)((*state >> 8) & 0xffff) / 32768.f - 1.f;
}

enum { CHK_GEMM = 32 * 13 + 20 * 30, CHK_CONV = 16 * 81, CHK_DW = 8 * 81, CHK_ACT = 37,
       CHK_WINO = 2 * 16 * 81,
       CHK_ATT = 2 * 6 * 19,  /* attention: 2 heads, 6 queries, 19 values each */
       CHK_OUT = CHK_GEMM + CHK_CONV + CHK_DW + CHK_ACT + CHK_WINO + CHK_ATT };

/* Runs the check problems with every kernel on `isa`; writes CHK_OUT floats. */
static void verify_run(int isa, float *out) {
    verifying = isa;
    uint32_t st = 12345u;
    static float x[40 * 30], w[32 * 40], cx[8 * 81], cw[16 * 8 * 9], dw[8 * 9], bias[32], act[CHK_ACT];
    static uint16_t wh[32 * 40], p16[32 * 40 + 64];
    static float p32[16 * 72 + 64];
    for (size_t i = 0; i < sizeof x / sizeof *x; i++) x[i] = lcg(&st);
    for (size_t i = 0; i < sizeof w / sizeof *w; i++) w[i] = lcg(&st) * 0.5f;
    for (size_t i = 0; i < sizeof cx / sizeof *cx; i++) cx[i] = lcg(&st);
    for (size_t i = 0; i < sizeof cw / sizeof *cw; i++) cw[i] = lcg(&st) * 0.3f;
    for (size_t i = 0; i < sizeof dw / sizeof *dw; i++) dw[i] = lcg(&st) * 0.3f;
    for (size_t i = 0; i < sizeof bias / sizeof *bias; i++) bias[i] = lcg(&st);
    for (int i = 0; i < CHK_ACT; i++) act[i] = 4.f * lcg(&st);
    mc_epilogue relu = {bias, NULL, 0, MC_ACT_RELU, 0.f, 0.f}, none = {bias, NULL, 0, MC_ACT_NONE, 0.f, 0.f};
    /* M-vectorised tile (K >= 32), fp16 panels with the ISA's half conversion */
    mc_float_to_half(w, wh, 32 * 40);
    mc_pack_weights_f16(wh, 32, 40, 40, p16);
    mc_gemm(p16, 32, 40, 13, x, 13, out, 13, &relu);
    out += 32 * 13;
    /* N-vectorised tile (K < 32), fp32 panels */
    mc_pack_weights_f32_panels(w, 20, 12, 12, p32);
    mc_gemm_w32(p32, 20, 12, 30, x, 30, out, 30, &none);
    out += 20 * 30;
    /* padded 3x3 convolution (implicit im2col), fp32 panels */
    mc_conv_shape cs = {8, 9, 9, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0};
    mc_conv_out_shape(&cs);
    mc_pack_weights_f32_panels(cw, 16, 72, 72, p32);
    mc_conv2d_w32(&cs, cx, p32, out, &relu);
    out += CHK_CONV;
    mc_conv_shape ds = {8, 9, 9, 8, 3, 3, 8, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0};
    mc_conv_out_shape(&ds);
    mc_depthwise_conv2d_w32(&ds, cx, dw, out, &none);
    out += CHK_DW;
    /* Winograd F(2,3) and F(4,3) on the same padded 3x3 problem (transforms are per-ISA clones) */
    static float pw[36 * 16 * 8];
    for (int m = 2; m <= 4; m += 2) {
        mc_winograd_pack_f32(m, cw, 16, 8, pw);
        mc_winograd_conv2d_w32(m, &cs, cx, pw, out, &relu);
        out += 16 * 81;
    }
    mc_epilogue sig = {NULL, NULL, 0, MC_ACT_GELU, 0.f, 0.f};
    memcpy(out, act, sizeof act);
    mc_activation(out, CHK_ACT, &sig);
    out += CHK_ACT;
    /* attention over 2 heads (6 queries, 21 keys, E 5, Ev 19: vector tails everywhere) on
       the check inputs, with a mask broadcast over the heads */
    mc_attention_shape as = {1, 2, 6, 21, 5, 19, 0, 6 * 5, 5, 0, 21 * 5, 5, 0, 21 * 19, 19,
                             0, 6 * 19, 19, 0, 0, 21, 1, 0.4f};
    mc_attention(&as, cx, cx + 64, x, w, out);
    verifying = -1;
    /* fault injection for the test suite: MLIR_COREML_TEST_BREAK_ISA=avx2 makes that path "wrong" */
    const char *brk = getenv("MLIR_COREML_TEST_BREAK_ISA");
    if (brk && ((isa == MC_ISA_AVX2 && !strcmp(brk, "avx2")) || (isa == MC_ISA_AVX512 && !strcmp(brk, "avx512"))))
        out[0] += 1.f;
}

static void verify_isas(void) {
    int best = mc_detect_isa();
    static float want[CHK_OUT], got[CHK_OUT];
    if (best == MC_ISA_PORTABLE || getenv("MLIR_COREML_SKIP_ISA_CHECK")) {
        verified_isa = best;
        return;
    }
    memset(want, 0, sizeof want);
    verify_run(MC_ISA_PORTABLE, want);
    for (int isa = MC_ISA_AVX2; isa <= best; isa++) {
        memset(got, 0, sizeof got);
        verify_run(isa, got);
        int ok = 1;
        for (int i = 0; i < CHK_OUT && ok; i++)
            ok = fabsf(got[i] - want[i]) <= 1e-4f * (1.f + fabsf(want[i]));   /* NaN fails too */
        if (!ok) {
            fprintf(stderr, "mlir_coreml: the %s kernels disagree with the portable ones on this CPU; "
                    "using %s\n", isa_name(isa), isa_name(verified_isa));
            break;
        }
        verified_isa = isa;
    }
}

/* The best ISA that passed the self-check (MC_ISA_PORTABLE while it runs). */
int mc_verified_isa(void) {
    if (verifying >= 0) return verifying;
    pthread_once(&verify_once, verify_isas);
    return verified_isa;
}

int mc_force_isa(int isa) {
    if (isa < MC_ISA_AUTO || isa > MC_ISA_AVX512 || isa > mc_verified_isa()) return -1;
    forced_isa = isa;
    return 0;
}

int mc_current_isa(void) {
    if (verifying >= 0) return verifying;
    return forced_isa ? forced_isa : mc_verified_isa();
}
int mc_isa(void) { return mc_current_isa(); }

void mc_set_num_threads(int n) { num_threads = n > 0 ? n : 0; }

/* Unset: MLIR_COREML_NUM_THREADS, else OpenMP's default (OMP_NUM_THREADS or the CPU count).
   The variable is read on every call (a getenv is cheap next to a kernel) so a process may
   set it after import. */
int mc_get_num_threads(void) {
    if (num_threads) return num_threads;
    const char *env = getenv("MLIR_COREML_NUM_THREADS");
    if (env && *env) {
        char *end;
        long n = strtol(env, &end, 10);
        if (*end == '\0' && n > 0) return n > MC_POOL_MAX ? MC_POOL_MAX : (int)n;
    }
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

/* Below ~2 MFLOP a parallel region costs more than it saves. */
int mc_threads_for(double flops) {
    if (verifying >= 0) return 1;
    int t = mc_get_num_threads();
    return flops < 2e6 ? 1 : t;
}

int mc_act_is_linear(int act) {
    return act == MC_ACT_NONE || act == MC_ACT_RELU || act == MC_ACT_CLIP || act == MC_ACT_LEAKY_RELU;
}

float mc_act_scalar(float v, const mc_epilogue *ep) {
    switch (ep->act) {
    case MC_ACT_RELU: return v < 0.f ? 0.f : v;  /* NaN stays NaN */
    case MC_ACT_CLIP: return v < ep->alpha ? ep->alpha : (v > ep->beta ? ep->beta : v);
    case MC_ACT_LEAKY_RELU: return v >= 0.f ? v : v * ep->alpha;
    case MC_ACT_SIGMOID: return 1.f / (1.f + expf(-v));
    case MC_ACT_TANH: return tanhf(v);
    case MC_ACT_GELU: return 0.5f * v * (1.f + erff(v * 0.70710678118654752f));
    case MC_ACT_GELU_TANH:
        return 0.5f * v * (1.f + tanhf(0.7978845608028654f * (v + 0.044715f * v * v * v)));
    case MC_ACT_SILU: return v / (1.f + expf(-v));
    default: return v;
    }
}

/* ---------------------------------------------------------------- thread pool ------ */
/* A small work-sharing pool instead of OpenMP parallel regions.  The calling thread takes
   part and claims tasks from the same atomic counter as the workers, and it only ever waits
   for tasks some thread has already *started*.  On a shared machine a worker that is not
   scheduled simply takes no task, so a parallel call never stalls for a time slice (an
   OpenMP barrier waits for every team member).  Which thread runs a task never changes the
   task's arithmetic, so results are identical for any thread count. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#define MC_SPIN_ITERS 40000

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int started;                       /* workers created so far */
    _Atomic uint64_t state;            /* generation << 32 | next task index */
    _Atomic(mc_task_fn) fn;
    _Atomic(void *) ctx;
    _Atomic int ntasks, limit;         /* workers with id < limit may join */
    _Atomic int done;
    _Atomic int sleepers;
    uint32_t gen;
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER};

static pthread_mutex_t pool_call_mu = PTHREAD_MUTEX_INITIALIZER;

static inline void cpu_relax(void) {
#ifdef MC_X86
    _mm_pause();
#endif
}

/* Claim and run tasks of generation gen until none is left. */
static void pool_work(uint32_t gen, int tid) {
    for (;;) {
        uint64_t s = atomic_load(&pool.state);
        if ((uint32_t)(s >> 32) != gen) return;
        mc_task_fn fn = atomic_load_explicit(&pool.fn, memory_order_relaxed);
        void *ctx = atomic_load_explicit(&pool.ctx, memory_order_relaxed);
        int n = atomic_load_explicit(&pool.ntasks, memory_order_relaxed);
        uint32_t idx = (uint32_t)s;
        if ((int)idx >= n) return;
        if (atomic_compare_exchange_weak(&pool.state, &s, s + 1)) {
            fn(ctx, (int)idx, tid);
            atomic_fetch_add(&pool.done, 1);
        }
    }
}

static void *pool_worker(void *arg) {
    int id = (int)(intptr_t)arg;      /* worker id 0.. ; thread index id + 1 */
    uint32_t seen = 0;
    for (;;) {
        uint64_t s = atomic_load(&pool.state);
        uint32_t gen = (uint32_t)(s >> 32);
        if (gen != seen) {
            seen = gen;
            if (id < atomic_load(&pool.limit)) pool_work(gen, id + 1);
            continue;
        }
        int spins = 0;
        while ((uint32_t)(atomic_load(&pool.state) >> 32) == seen && spins < MC_SPIN_ITERS) {
            cpu_relax();
            spins++;
        }
        if ((uint32_t)(atomic_load(&pool.state) >> 32) != seen) continue;
        pthread_mutex_lock(&pool.mu);
        atomic_fetch_add(&pool.sleepers, 1);
        while ((uint32_t)(atomic_load(&pool.state) >> 32) == seen) pthread_cond_wait(&pool.cv, &pool.mu);
        atomic_fetch_sub(&pool.sleepers, 1);
        pthread_mutex_unlock(&pool.mu);
    }
    return NULL;
}

/* A forked child has none of the parent's workers: start from an empty pool (the parent's
   threads may have held these locks at fork time). */
static void pool_atfork_child(void) {
    pthread_mutex_init(&pool.mu, NULL);
    pthread_cond_init(&pool.cv, NULL);
    pthread_mutex_init(&pool_call_mu, NULL);
    pool.started = 0;
    atomic_store(&pool.sleepers, 0);
    atomic_store(&pool.limit, 0);
}

static pthread_once_t pool_once = PTHREAD_ONCE_INIT;
static void pool_init_once(void) { pthread_atfork(NULL, NULL, pool_atfork_child); }

void mc_parallel(int ntasks, int nthreads, mc_task_fn fn, void *ctx) {
    if (ntasks <= 0) return;
    pthread_once(&pool_once, pool_init_once);
    if (nthreads > MC_POOL_MAX) nthreads = MC_POOL_MAX;
    if (nthreads > ntasks) nthreads = ntasks;
    /* one parallel call at a time; a nested or concurrent call runs serially */
    if (nthreads <= 1 || pthread_mutex_trylock(&pool_call_mu) != 0) {
        for (int i = 0; i < ntasks; i++) fn(ctx, i, 0);
        return;
    }
    while (pool.started < nthreads - 1) {
        pthread_t th;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&th, &attr, pool_worker, (void *)(intptr_t)pool.started) != 0) {
            pthread_attr_destroy(&attr);
            break;
        }
        pthread_attr_destroy(&attr);
        pool.started++;
    }
    atomic_store(&pool.fn, fn);
    atomic_store(&pool.ctx, ctx);
    atomic_store(&pool.ntasks, ntasks);
    atomic_store(&pool.limit, nthreads - 1 < pool.started ? nthreads - 1 : pool.started);
    atomic_store(&pool.done, 0);
    uint32_t gen = ++pool.gen;
    if (!gen) gen = ++pool.gen;        /* generation 0 means "no job yet" */
    atomic_store(&pool.state, (uint64_t)gen << 32);
    if (atomic_load(&pool.sleepers) > 0) {
        pthread_mutex_lock(&pool.mu);
        pthread_cond_broadcast(&pool.cv);
        pthread_mutex_unlock(&pool.mu);
    }
    pool_work(gen, 0);
    /* only tasks already started remain; yield if their thread was preempted */
    for (int spins = 0; atomic_load(&pool.done) < ntasks; spins++) {
        if (spins < 4000) cpu_relax();
        else sched_yield();
    }
    pthread_mutex_unlock(&pool_call_mu);
}

/* Grow-only, 64-byte aligned per-thread scratch (a few independent slots per thread). */
#include <stdlib.h>
static _Thread_local float *scratch_ptr[MC_SCRATCH_SLOTS];
static _Thread_local size_t scratch_cap[MC_SCRATCH_SLOTS];

float *mc_scratch(int slot, size_t floats) {
    if (floats > scratch_cap[slot]) {
        free(scratch_ptr[slot]);
        size_t cap = floats + floats / 4 + 64;
        scratch_ptr[slot] = aligned_alloc(64, ((cap * sizeof(float) + 63) / 64) * 64);
        scratch_cap[slot] = scratch_ptr[slot] ? cap : 0;
    }
    return scratch_ptr[slot];
}

/* ---------------------------------------------------------------- FMA peak probe --- */
/* The benchmarks' yardstick (benchmarks/kernels, benchmarks/models.py): `iters` rounds of
   2*NACC independent vector FMAs on the current ISA, enough independent chains to cover
   the FMA latency on two ports.  Returns the flops done; the caller times it, so the peak
   is measured on the machine the benchmark runs on rather than taken from a spec sheet. */
#include "vecmath.h"
#define NACC 12

#ifdef MC_X86
MC_T512 static double probe_avx512(long iters) {
    __m512 acc[NACC], a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
    for (int i = 0; i < NACC; i++) acc[i] = _mm512_set1_ps((float)i);
    for (long it = 0; it < iters; it++) {
#pragma GCC unroll 12
        for (int i = 0; i < NACC; i++) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
#pragma GCC unroll 12
        for (int i = 0; i < NACC; i++) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
    }
    volatile float sink = 0.f;
    for (int i = 0; i < NACC; i++) sink += _mm512_reduce_add_ps(acc[i]);
    (void)sink;
    return 2.0 * NACC * 16 * 2 * (double)iters;
}

MC_T256 static double probe_avx2(long iters) {
    __m256 acc[NACC], a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
    for (int i = 0; i < NACC; i++) acc[i] = _mm256_set1_ps((float)i);
    for (long it = 0; it < iters; it++) {
#pragma GCC unroll 12
        for (int i = 0; i < NACC; i++) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
#pragma GCC unroll 12
        for (int i = 0; i < NACC; i++) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
    }
    float out[8], s = 0.f;
    for (int i = 0; i < NACC; i++) {
        _mm256_storeu_ps(out, acc[i]);
        for (int j = 0; j < 8; j++) s += out[j];
    }
    volatile float sink = s;
    (void)sink;
    return 2.0 * NACC * 8 * 2 * (double)iters;
}
#endif

double mc_fma_probe(long iters) {
#ifdef MC_X86
    int isa = mc_isa();
    if (isa == MC_ISA_AVX512) return probe_avx512(iters);
    if (isa == MC_ISA_AVX2) return probe_avx2(iters);
#endif
    float acc[NACC];
    for (int i = 0; i < NACC; i++) acc[i] = (float)i;
    for (long it = 0; it < iters; it++)
        for (int i = 0; i < NACC; i++) acc[i] = acc[i] * 0.999999f + 1e-7f;
    volatile float sink = acc[0] + acc[NACC - 1];
    (void)sink;
    return 2.0 * NACC * (double)iters;
}
