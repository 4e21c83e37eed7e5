/* Winograd F(m x m, 3 x 3) convolution for 3x3, stride 1, dilation 1, groups 1 (m = 2 or 4):
   out = A^T [ (G g G^T) .* (B^T d B) ] A per m x m output tile, the elementwise products over
   input channels done as alpha^2 GEMMs (alpha = m + 2) with the transformed weights packed
   once, fp16 or fp32 panels, fp32 accumulation (csrc/winograd.c). */
#ifndef MC_WINOGRAD_H
#define MC_WINOGRAD_H

#include "kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Elements (halves or floats) of the packed transformed weights: alpha^2 GEMM packings of
   U_xi [Cout, C] back to back, each mc_packed_size(Cout, C) long. */
size_t mc_winograd_packed_size(int m, int Cout, int C);
/* w: [Cout][C][3][3] fp32; returns -1 (writing nothing) when m is not 2 or 4. */
int mc_winograd_pack_f16(int m, const float *w, int Cout, int C, uint16_t *packed);
int mc_winograd_pack_f32(int m, const float *w, int Cout, int C, float *packed);

/* One image x [C, H, W] -> out [Cout, OH, OW] (s->OH/OW filled by mc_conv_out_shape); the
   shape must be 3x3, stride 1, dilation 1, groups 1 (else nothing is written, returns -1). */
int mc_winograd_conv2d(int m, const mc_conv_shape *s, const float *x, const uint16_t *packed,
                       float *out, const mc_epilogue *ep);
int mc_winograd_conv2d_w32(int m, const mc_conv_shape *s, const float *x, const float *packed,
                           float *out, const mc_epilogue *ep);

/* Output tiles per block (one task: one GEMM's N) for C input and Cout output channels. */
int mc_winograd_block_tiles(int m, int C, int Cout);

/* Per-thread working set of one call in floats (tile block: transformed input, GEMM result,
   transform buffers) plus the shared zero-padded input copy; for memory planning. */
size_t mc_winograd_scratch_floats(int m, const mc_conv_shape *s);

#ifdef __cplusplus
}
#endif
#endif
