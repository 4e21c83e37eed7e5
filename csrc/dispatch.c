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
   ISA the CPU reports runs a small problem of each kernel family (isa_check.c) and is
   compared with the portable C code.  An ISA that disagrees is disabled for the process,
   with one line on stderr naming the family; F16C conversions go with AVX2.  The problems
   stay below the threading threshold, so the check runs on the calling thread only. */
#include <pthread.h>
#include <stdio.h>

static int verified_isa = MC_ISA_PORTABLE;      /* best ISA that passed */
static pthread_once_t verify_once = PTHREAD_ONCE_INIT;
static _Thread_local int verifying = -1;        /* ISA under test on the checking thread */

static const char *isa_name(int isa) {
    return isa == MC_ISA_AVX512 ? "AVX-512" : isa == MC_ISA_AVX2 ? "AVX2" : "portable";
}

/* Fault injection for the test suite: MLIR_COREML_TEST_BREAK_ISA=avx2 makes every family of
   that path "wrong", avx2:softmax only that family. */
static int broken(int isa, const char *family) {
    const char *brk = getenv("MLIR_COREML_TEST_BREAK_ISA");
    const char *name = isa == MC_ISA_AVX512 ? "avx512" : isa == MC_ISA_AVX2 ? "avx2" : NULL;
    size_t n = name ? strlen(name) : 0;
    if (!brk || !name || strncmp(brk, name, n) != 0) return 0;
    return brk[n] == 0 || (brk[n] == ':' && !strcmp(brk + n + 1, family));
}

/* Runs check `c` on `isa`; returns how many floats it wrote. */
static int verify_run(int isa, const mc_isa_check *c, float *out) {
    memset(out, 0, MC_ISA_CHECK_MAX * sizeof *out);
    verifying = isa;
    int n = c->run(isa, out);
    verifying = -1;
    if (broken(isa, c->family)) out[0] += 1.f;
    return n;
}

/* The family whose results on `isa` differ from the portable ones, or NULL. */
static const char *disagreeing_family(int isa) {
    static float want[MC_ISA_CHECK_MAX], got[MC_ISA_CHECK_MAX];
    for (int k = 0; k < mc_isa_check_count; k++) {
        int n = verify_run(MC_ISA_PORTABLE, &mc_isa_checks[k], want);
        verify_run(isa, &mc_isa_checks[k], got);
        for (int i = 0; i < n; i++)
            if (!(fabsf(got[i] - want[i]) <= 1e-4f * (1.f + fabsf(want[i]))))   /* NaN fails too */
                return mc_isa_checks[k].family;
    }
    return NULL;
}

static void verify_isas(void) {
    int best = mc_detect_isa();
    if (best == MC_ISA_PORTABLE || getenv("MLIR_COREML_SKIP_ISA_CHECK")) {
        verified_isa = best;
        return;
    }
    for (int isa = MC_ISA_AVX2; isa <= best; isa++) {
        const char *family = disagreeing_family(isa);
        if (family) {
            fprintf(stderr, "mlir_coreml: the %s kernels disagree with the portable ones on this CPU (%s); "
                    "using %s\n", isa_name(isa), family, isa_name(verified_isa));
            break;
        }
        verified_isa = isa;
    }
    if (verified_isa < MC_ISA_AVX2) mc_fp16_allow_f16c(0);
}

/* Comma-separated names of the families the self-check covers (tests compare them with the
   kernel table). */
const char *mc_isa_check_families(void) {
    static char names[512];
    if (!names[0])
        for (int k = 0; k < mc_isa_check_count; k++) {
            if (k) strncat(names, ",", sizeof names - strlen(names) - 1);
            strncat(names, mc_isa_checks[k].family, sizeof names - strlen(names) - 1);
        }
    return names;
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

static _Thread_local int in_task;   /* running a pool task: a nested call runs serially */

/* Below ~0.4 MFLOP (under 10 us at the GEMM's rate) a parallel region costs more than it
   saves: the caller publishes the call and claims tasks itself, so a region costs it a few
   hundred nanoseconds when the workers are spinning, a wake-up call when they sleep. */
int mc_threads_for(double flops) {
    if (verifying >= 0 || in_task) return 1;
    int t = mc_get_num_threads();
    return flops < 4e5 ? 1 : t;
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
   task's arithmetic, so results are identical for any thread count.
   Waiting is cheap: a worker spins MC_SPIN_NS after its last task (the gap between two
   kernels of a model is a few microseconds of Python), then sleeps on a condition variable;
   the caller spins the same while the last started tasks finish, then sleeps until the
   thread finishing the last one wakes it.  A threads=1 setting never starts a worker. */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

/* 30 us covers the gap between two kernels (microseconds in a generated module, tens in the
   executor); a longer spin measured only more CPU burnt on a loaded machine. */
#define MC_SPIN_NS 30000

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;                 /* workers: a new generation */
    pthread_cond_t done_cv;            /* caller: the last task finished */
    int started;                       /* workers created so far */
    _Atomic uint64_t state;            /* generation << 32 | next task index */
    _Atomic(mc_task_fn) fn;
    _Atomic(void *) ctx;
    _Atomic int ntasks, limit;         /* workers with id < limit may join */
    _Atomic int done;
    _Atomic int sleepers;
    _Atomic int caller_sleeps;
    _Atomic int timed;                 /* this region records task times (statistics on) */
    uint32_t gen;
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER};

static pthread_mutex_t pool_call_mu = PTHREAD_MUTEX_INITIALIZER;

static inline void cpu_relax(void) {
#ifdef MC_X86
    _mm_pause();
#endif
}

static int64_t clock_ns(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Spins until cond(arg) holds or MC_SPIN_NS pass; returns whether it holds. */
static int spin_until(int (*cond)(uint32_t), uint32_t arg) {
    int64_t deadline = 0;
    for (int i = 0;; i++) {
        if (cond(arg)) return 1;
        cpu_relax();
        if ((i & 63) == 63) {          /* the clock read costs about as much as 64 pauses */
            int64_t now = clock_ns(CLOCK_MONOTONIC);
            if (!deadline) deadline = now + MC_SPIN_NS;
            else if (now >= deadline) return 0;
        }
    }
}

/* ---- opt-in statistics (mc_thread_stats): the CPU time of every task, so the speedup two
   threads would give can be predicted from a run on a loaded machine (per-thread CPU time
   does not count the time a thread waits for a core, wall time does). */
static int stats_on;
static mc_thread_stats stats;
static int64_t *task_ns;               /* this region's task CPU times, one slot per task */
static int task_cap;

static int64_t thread_cpu_ns(void) { return clock_ns(CLOCK_THREAD_CPUTIME_ID); }

/* The finish time of `nthreads` threads claiming the tasks in index order, each taking the
   next one as soon as it is free: the pool's schedule when every thread has a core. */
static int64_t makespan(const int64_t *cost, int ntasks, int nthreads) {
    int64_t busy[MC_POOL_MAX] = {0}, end = 0;
    for (int t = 0; t < ntasks; t++) {
        int k = 0;
        for (int i = 1; i < nthreads; i++) if (busy[i] < busy[k]) k = i;
        busy[k] += cost[t];
        if (busy[k] > end) end = busy[k];
    }
    return end;
}

/* Meant for one predicting thread: calls that run concurrently (serially, see mc_parallel)
   add to the counters without synchronisation. */
void mc_thread_stats_enable(int on) {
    stats_on = on;
    memset(&stats, 0, sizeof stats);
}

void mc_thread_stats_read(mc_thread_stats *out) { *out = stats; }

static void run_task(mc_task_fn fn, void *ctx, int idx, int tid) {
    in_task = 1;
    if (!atomic_load_explicit(&pool.timed, memory_order_relaxed)) fn(ctx, idx, tid);
    else {
        int64_t t0 = thread_cpu_ns();
        fn(ctx, idx, tid);
        task_ns[idx] = thread_cpu_ns() - t0;
        if (tid == 0) stats.caller_tasks_ns += task_ns[idx];
    }
    in_task = 0;
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
            run_task(fn, ctx, (int)idx, tid);
            if (atomic_fetch_add(&pool.done, 1) + 1 == n && atomic_load(&pool.caller_sleeps)) {
                pthread_mutex_lock(&pool.mu);
                pthread_cond_signal(&pool.done_cv);
                pthread_mutex_unlock(&pool.mu);
            }
        }
    }
}

static int generation_moved(uint32_t seen) { return (uint32_t)(atomic_load(&pool.state) >> 32) != seen; }
static int all_done(uint32_t ntasks) { return atomic_load(&pool.done) >= (int)ntasks; }

static void *pool_worker(void *arg) {
    int id = (int)(intptr_t)arg;      /* worker id 0.. ; thread index id + 1 */
    uint32_t seen = 0;
    for (;;) {
        uint32_t gen = (uint32_t)(atomic_load(&pool.state) >> 32);
        if (gen != seen) {
            seen = gen;
            if (id < atomic_load(&pool.limit)) pool_work(gen, id + 1);
            continue;
        }
        if (spin_until(generation_moved, seen)) continue;
        pthread_mutex_lock(&pool.mu);
        atomic_fetch_add(&pool.sleepers, 1);
        while (!generation_moved(seen)) pthread_cond_wait(&pool.cv, &pool.mu);
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
    pthread_cond_init(&pool.done_cv, NULL);
    pthread_mutex_init(&pool_call_mu, NULL);
    pool.started = 0;
    atomic_store(&pool.sleepers, 0);
    atomic_store(&pool.caller_sleeps, 0);
    atomic_store(&pool.limit, 0);
}

static pthread_once_t pool_once = PTHREAD_ONCE_INIT;
static void pool_init_once(void) { pthread_atfork(NULL, NULL, pool_atfork_child); }

static void run_serial(int ntasks, mc_task_fn fn, void *ctx) {
    int64_t t0 = stats_on ? thread_cpu_ns() : 0;
    for (int i = 0; i < ntasks; i++) fn(ctx, i, 0);
    if (stats_on && !in_task) {
        stats.serial_regions++;
        stats.serial_ns += thread_cpu_ns() - t0;
    }
}

static void start_workers(int want) {
    while (pool.started < want) {
        pthread_t th;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        int failed = pthread_create(&th, &attr, pool_worker, (void *)(intptr_t)pool.started) != 0;
        pthread_attr_destroy(&attr);
        if (failed) break;
        pool.started++;
    }
}

/* Statistics of one finished parallel region (the pool lock still held). */
static void record_region(int ntasks, int nthreads, int64_t caller0) {
    int64_t work = 0;
    for (int i = 0; i < ntasks; i++) work += task_ns[i];
    stats.regions++;
    stats.tasks += ntasks;
    stats.work_ns += work;
    stats.critical_ns += makespan(task_ns, ntasks, nthreads);
    stats.even_ns += work / nthreads;
    stats.caller_ns += thread_cpu_ns() - caller0;
}

void mc_parallel(int ntasks, int nthreads, mc_task_fn fn, void *ctx) {
    if (ntasks <= 0) return;
    pthread_once(&pool_once, pool_init_once);
    if (nthreads > MC_POOL_MAX) nthreads = MC_POOL_MAX;
    if (nthreads > ntasks) nthreads = ntasks;
    /* one parallel call at a time; a nested or concurrent call runs serially */
    if (nthreads <= 1 || pthread_mutex_trylock(&pool_call_mu) != 0) {
        run_serial(ntasks, fn, ctx);
        return;
    }
    int timed = stats_on;              /* read once: statistics switched on mid-call start later */
    int64_t caller0 = 0;
    if (timed) {
        caller0 = thread_cpu_ns();
        if (ntasks > task_cap) {
            free(task_ns);
            task_cap = ntasks * 2;
            task_ns = malloc((size_t)task_cap * sizeof *task_ns);
            if (!task_ns) task_cap = timed = 0;
        }
    }
    start_workers(nthreads - 1);
    atomic_store(&pool.fn, fn);
    atomic_store(&pool.ctx, ctx);
    atomic_store(&pool.ntasks, ntasks);
    atomic_store(&pool.limit, nthreads - 1 < pool.started ? nthreads - 1 : pool.started);
    atomic_store(&pool.done, 0);
    atomic_store(&pool.timed, timed);
    uint32_t gen = ++pool.gen;
    if (!gen) gen = ++pool.gen;        /* generation 0 means "no job yet" */
    atomic_store(&pool.state, (uint64_t)gen << 32);
    if (atomic_load(&pool.sleepers) > 0) {
        pthread_mutex_lock(&pool.mu);
        pthread_cond_broadcast(&pool.cv);
        pthread_mutex_unlock(&pool.mu);
    }
    pool_work(gen, 0);
    /* only tasks already started remain: spin a little, then sleep until the last one ends */
    if (!spin_until(all_done, (uint32_t)ntasks)) {
        pthread_mutex_lock(&pool.mu);
        atomic_store(&pool.caller_sleeps, 1);
        while (!all_done((uint32_t)ntasks)) pthread_cond_wait(&pool.done_cv, &pool.mu);
        atomic_store(&pool.caller_sleeps, 0);
        pthread_mutex_unlock(&pool.mu);
    }
    if (timed) record_region(ntasks, nthreads, caller0);
    pthread_mutex_unlock(&pool_call_mu);
}

typedef struct { mc_range_fn fn; void *ctx; ptrdiff_t n, chunk; } range_job;

static void range_task(void *ctx, int task, int thread) {
    (void)thread;
    const range_job *r = ctx;
    ptrdiff_t i0 = task * r->chunk, i1 = i0 + r->chunk < r->n ? i0 + r->chunk : r->n;
    r->fn(r->ctx, i0, i1);
}

void mc_parallel_for(ptrdiff_t n, double flops, mc_range_fn fn, void *ctx) {
    if (n <= 0) return;
    int threads = mc_threads_for(flops);
    ptrdiff_t tasks = threads > 1 ? 4 * threads : 1;
    if (tasks > n) tasks = n;
    range_job r = {fn, ctx, n, (n + tasks - 1) / tasks};
    mc_parallel((int)((n + r.chunk - 1) / r.chunk), threads, range_task, &r);
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
