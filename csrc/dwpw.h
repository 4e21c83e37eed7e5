/* Depthwise convolution fused with the 1x1 convolution that reads it (MobileNet blocks):
   out = pw_epilogue(Wp @ dw_epilogue(depthwise(x))), computed in bands of output rows so the
   depthwise result of a band stays in cache for the pointwise GEMM instead of making a round
   trip through memory (csrc/dwpw.c). */
#ifndef MC_DWPW_H
#define MC_DWPW_H

#include "kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/* s: the depthwise geometry (groups == C == Cout of the depthwise, OH/OW filled by
   mc_conv_out_shape); dw_w [C][KH*KW] and pw_packed (mc_pack_weights_* of [Cout, C]) are
   fp32 when f32, else fp16; out [Cout, OH, OW]; pw_ep's residual has row stride OH*OW. */
void mc_dwpw_conv2d(const mc_conv_shape *s, const float *x, const void *dw_w, const mc_epilogue *dw_ep,
                    const void *pw_packed, int Cout, int f32, float *out, const mc_epilogue *pw_ep);

/* Output rows per band for this geometry (what the kernel uses). */
int mc_dwpw_band_rows(const mc_conv_shape *s);

#ifdef __cplusplus
}
#endif
#endif
