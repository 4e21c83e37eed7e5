/* Internal glue shared by the kernel files (not part of the public kernels.h API). */
#ifndef MC_KERNELS_IMPL_H
#define MC_KERNELS_IMPL_H

#include "kernels.h"
#include "fp16.h"

#if defined(__x86_64__) || defined(_M_X64)
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
typedef void (*mc_pack_b_fn)(const void *ctx, int k0, int kc, int n0, int nc, int nr, float *dst);

void mc_gemm_driver(const uint16_t *packed, int M, int K, int N, mc_pack_b_fn pack_b,
                    const void *ctx, float *out, ptrdiff_t ldc, const mc_epilogue *ep);

int mc_isa(void);           /* effective ISA (after forcing) */
int mc_threads_for(double flops);
float mc_act_scalar(float v, const mc_epilogue *ep);
int mc_act_is_linear(int act);

#endif
