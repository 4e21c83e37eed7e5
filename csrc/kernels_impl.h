/* Internal glue shared by the kernel files (not part of the public kernels.h API). */
#ifndef MC_KERNELS_IMPL_H
#define MC_KERNELS_IMPL_H

#include "kernels.h"
#include "fp16.h"

#if (defined(__x86_64__) || defined(_M_X64)) && !defined(MC_NO_X86)   /* MC_NO_X86: portable-only build (tests the non-x86 code) */
#include <immintrin.h>
#define MC_X86 1
#endif

#ifdef _OPENMP
#include <omp.h>
#endif

/* GEMM blocking, shared by the dense and the implicit-im2col (conv) drivers. */
#define MC_KC 256
#define MC_NC 480   /* multiple of every micro-kernel NR (48, 24, 16) */

/* B packer: writes columns [n0, n0+nc) of rows [k0, k0+kc) of the logical B matrix as
   ceil(nc/nr) panels of [kc][nr] floats, zero padded past nc. */
/* Weight panels as the drivers see them: fp16 (uint16) or fp32 (float) elements in the same
   [ceil(M/8)][K][8] layout.  fp32 panels keep fp32-stored models at fp32 accuracy; fp16 ones
   halve the weight traffic. */
/* q: 8-bit codes decoded by mc_dequant_rows, the group's rows starting at row qrow of q. */
typedef struct { const void *p; int f32; const mc_dequant *q; int qrow; } mc_panels;
static inline mc_panels mc_panels_at(mc_panels w, size_t elements) {
    w.p = w.f32 ? (const void *)((const float *)w.p + elements)
        : w.q ? (const void *)((const int8_t *)w.p + (w.q->nibbles ? elements / 2 : elements))
        : (const void *)((const uint16_t *)w.p + elements);
    return w;
}
/* Decode kc k-steps of the 8 rows of panel `panel` from element `at` into dst (row stride ldd). */
void mc_dequant_rows(mc_panels w, size_t at, int panel, int kc, float *dst, ptrdiff_t ldd);
/* GEMM over panels of any element kind, B = x read in place (mc_gemm's driver). */
void mc_gemm_panels(mc_panels w, int M, int K, int N, const float *x, ptrdiff_t ldx,
                    float *out, ptrdiff_t ldc, const mc_epilogue *ep);
/* out[m * ldc] = epilogue(sum_k W[m, k] x[k * ldx]): the N == 1 case of mc_gemm_panels (gemv.c). */
void mc_gemv_panels(mc_panels w, int M, int K, const float *x, ptrdiff_t ldx, float *out, ptrdiff_t ldc,
                    const mc_epilogue *ep);
/* kc x 8 floats of panel `panel` from k0: in place for fp32, converted into buf for fp16. */
const float *mc_panel_rows(mc_panels w, int K, int panel, int k0, int kc, float *buf);


typedef void (*mc_pack_b_fn)(const void *ctx, int k0, int kc, int n0, int nc, int nr, float *dst);

void mc_gemm_driver(mc_panels packed, int M, int K, int N, mc_pack_b_fn pack_b,
                    const void *ctx, float *out, ptrdiff_t ldc, const mc_epilogue *ep);

/* Work-sharing pool (dispatch.c): runs fn(ctx, task, thread) for task in [0, ntasks) on up
   to nthreads threads (thread 0 is the caller; thread < nthreads).  Tasks must not depend on
   which thread runs them (per-thread scratch is indexed by `thread`). */
typedef void (*mc_task_fn)(void *ctx, int task, int thread);
#define MC_POOL_MAX 64
void mc_parallel(int ntasks, int nthreads, mc_task_fn fn, void *ctx);

/* fn(ctx, i0, i1) over [0, n) cut into a few chunks per thread, for loops of independent
   iterations (planes, rows, channels); `flops` (for a copy: about 8 per float moved) sizes
   the call for mc_threads_for. */
typedef void (*mc_range_fn)(void *ctx, ptrdiff_t i0, ptrdiff_t i1);
void mc_parallel_for(ptrdiff_t n, double flops, mc_range_fn fn, void *ctx);

/* Per-thread grow-only scratch buffers, 64-byte aligned; slot < MC_SCRATCH_SLOTS.  Valid
   until the same thread asks for the same slot again. */
#define MC_SCRATCH_SLOTS 8
enum { MC_SLOT_A = 0, MC_SLOT_B, MC_SLOT_ACC, MC_SLOT_TAIL, MC_SLOT_PAD, MC_SLOT_MISC, MC_SLOT_FULLB,
       MC_SLOT_OWN };   /* MC_SLOT_OWN: the working buffer of winograd.c or dwpw.c (never both in one call) */
float *mc_scratch(int slot, size_t floats);

/* Row-major B provider for the M-vectorised GEMM: returns rows [k0, k0+kc) x columns
   [n0, n0+nc) of the logical B matrix, either in place (setting *ldb) or written to buf
   (capacity kc * nc floats, row stride nc). */
typedef const float *(*mc_rows_b_fn)(const void *ctx, int k0, int kc, int n0, int nc, float *buf,
                                     ptrdiff_t *ldb);
void mc_gemm_driver2(mc_panels packed, int M, int K, int N, mc_pack_b_fn pack_b,
                     mc_rows_b_fn rows_b, const void *ctx, float *out, ptrdiff_t ldc,
                     const mc_epilogue *ep);

/* B read straight from the zero-padded input of a stride-1 convolution (no im2col): row k of
   B is x + koff[k], and GEMM column n is padded position (n / pw, n % pw) of the output grid,
   so columns with n % pw >= ow are computed and dropped; the others are written at output
   column (n / pw) * ow + n % pw.  N = (OH - 1) * pw + ow.  Only where mc_gemm_direct_ok. */
typedef struct { const float *x; const ptrdiff_t *koff; int pw, ow; } mc_direct_b;
int mc_gemm_direct_ok(int M, int K);
void mc_gemm_direct(mc_panels packed, int M, int K, int N, const mc_direct_b *d, float *out,
                    ptrdiff_t ldc, const mc_epilogue *ep);

int mc_isa(void);           /* effective ISA (after forcing) */

/* The self-check's problems (isa_check.c): `run` writes the family's results for the ISA under
   test (< MC_ISA_CHECK_MAX floats) and returns how many. */
#define MC_ISA_CHECK_MAX 4096
typedef struct { const char *family; int (*run)(int isa, float *out); } mc_isa_check;
extern const mc_isa_check mc_isa_checks[];
extern const int mc_isa_check_count;
int mc_threads_for(double flops);
float mc_act_scalar(float v, const mc_epilogue *ep);
int mc_act_is_linear(int act);

/* max that is NaN when either operand is (np.maximum's rule; fmaxf drops the NaN). */
static inline float mc_max_nan(float m, float v) { return (v > m || v != v) ? v : m; }

#endif
