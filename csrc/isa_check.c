/* The problems of the first-use ISA self-check (dispatch.c runs them on every vector ISA the CPU
   reports and compares with the portable code): one entry per kernel family of the kernel table
   and of _kernels, each sized to reach the family's vector paths (both GEMM tilings, padded
   im2col conv with fp16 and fp32 panels, blocked and planar depthwise (OW >= 100), pooling at
   strides 1, 2 and 3, odd tails for the row kernels, every activation).  A family added to the
   kernels needs an entry here: tests/csrc/test_isa_check.py checks the kernel table against
   `mc_isa_check_families`.  All problems stay below the threading threshold. */
#include "kernels_impl.h"
#include "winograd.h"

#include <stdlib.h>
#include <string.h>

static float lcg(uint32_t *state) {
    *state = *state * 1664525u + 1013904223u;
    return (float)((*state >> 8) & 0xffff) / 32768.f - 1.f;
}

static void fill(float *x, size_t n, float scale, uint32_t seed) {
    for (size_t i = 0; i < n; i++) x[i] = lcg(&seed) * scale;
}

static mc_conv_shape conv_shape(int C, int H, int W, int Cout, int K, int groups, int stride, int pad) {
    mc_conv_shape s = {C, H, W, Cout, K, K, groups, stride, stride, 1, 1, pad, pad, pad, pad, 0, 0};
    mc_conv_out_shape(&s);
    return s;
}

static int check_gemm(int isa, float *out) {
    (void)isa;
    static float x[40 * 30], w[32 * 40], bias[32], p32[16 * 72 + 64];
    static uint16_t wh[32 * 40], p16[32 * 40 + 64];
    fill(x, 40 * 30, 1.f, 1), fill(w, 32 * 40, .5f, 2), fill(bias, 32, 1.f, 3);
    mc_epilogue relu = {bias, NULL, 0, MC_ACT_RELU, 0.f, 0.f}, none = {bias, NULL, 0, MC_ACT_NONE, 0.f, 0.f};
    /* M-vectorised tile (K >= 32), fp16 panels */
    mc_float_to_half_portable(w, wh, 32 * 40);
    mc_pack_weights_f16(wh, 32, 40, 40, p16);
    mc_gemm(p16, 32, 40, 13, x, 13, out, 13, &relu);
    /* N-vectorised tile (K < 32), fp32 panels */
    mc_pack_weights_f32_panels(w, 20, 12, 12, p32);
    mc_gemm_w32(p32, 20, 12, 30, x, 30, out + 32 * 13, 30, &none);
    /* one column: the matrix-vector path (gemv.c), M and K off the vector widths */
    mc_gemm(p16, 29, 39, 1, x, 1, out + 32 * 13 + 20 * 30, 1, &relu);
    return 32 * 13 + 20 * 30 + 29;
}

static int check_conv2d(int isa, float *out) {
    (void)isa;
    static float x[8 * 81], w[16 * 72], bias[16], res[16 * 81], p32[16 * 72 + 64];
    static uint16_t p16[16 * 72 + 64];
    fill(x, 8 * 81, 1.f, 4), fill(w, 16 * 72, .3f, 5), fill(bias, 16, 1.f, 6), fill(res, 16 * 81, 1.f, 7);
    mc_conv_shape s = conv_shape(8, 9, 9, 16, 3, 1, 1, 1);   /* padded 3x3: implicit im2col */
    mc_epilogue relu = {bias, NULL, 0, MC_ACT_RELU, 0.f, 0.f}, skip = {bias, res, 81, MC_ACT_RELU, 0.f, 0.f};
    mc_pack_weights_f32_panels(w, 16, 72, 72, p32);
    mc_conv2d_w32(&s, x, p32, out, &relu);
    mc_pack_weights_f32(w, 16, 72, 72, p16);
    mc_conv2d(&s, x, p16, out + 16 * 81, &skip);
    mc_conv_shape t = conv_shape(8, 9, 9, 16, 3, 1, 2, 0);   /* strided, unpadded */
    mc_conv2d(&t, x, p16, out + 2 * 16 * 81, &relu);
    return 2 * 16 * 81 + 16 * t.OH * t.OW;
}

static int check_depthwise_conv2d(int isa, float *out) {
    (void)isa;
    enum { C = 8, H = 9, W = 9, PC = 3, PH = 4, PW = 104 };
    static float x[C * H * W], px[PC * PH * PW], w[C * 9], bias[C];
    static uint16_t wh[C * 9];
    fill(x, C * H * W, 1.f, 8), fill(px, PC * PH * PW, 1.f, 9), fill(w, C * 9, .3f, 10), fill(bias, C, 1.f, 11);
    mc_float_to_half_portable(w, wh, C * 9);
    mc_epilogue none = {bias, NULL, 0, MC_ACT_NONE, 0.f, 0.f}, clip = {bias, NULL, 0, MC_ACT_CLIP, 0.f, 1.f};
    mc_conv_shape s = conv_shape(C, H, W, C, 3, C, 1, 1);        /* blocked (narrow rows) */
    mc_depthwise_conv2d_w32(&s, x, w, out, &none);
    int n = C * s.OH * s.OW;
    mc_conv_shape t = conv_shape(C, H, W, C, 3, C, 2, 1);        /* strided, fp16 weights */
    mc_depthwise_conv2d(&t, x, wh, out + n, &clip);
    n += C * t.OH * t.OW;
    mc_conv_shape p = conv_shape(PC, PH, PW, PC, 3, PC, 1, 1);   /* planar: OW >= 100 */
    mc_depthwise_conv2d_w32(&p, px, w, out + n, &clip);
    return n + PC * p.OH * p.OW;
}

static int check_conv_transpose2d(int isa, float *out) {
    (void)isa;
    static float x[4 * 25], w[4 * 6 * 9], bias[6];
    static uint16_t p16[6 * 9 * 4 + 64];
    fill(x, 4 * 25, 1.f, 12), fill(w, 4 * 6 * 9, .3f, 13), fill(bias, 6, 1.f, 14);
    mc_conv_shape s = {4, 5, 5, 6, 3, 3, 1, 2, 2, 1, 1, 1, 1, 1, 1, 0, 0};
    mc_conv_transpose_out_shape(&s, 1, 1);
    mc_pack_weights_f32(w, 6 * 9, 4, 4, p16);   /* any [Cout*KH*KW, C] matrix will do */
    mc_epilogue ep = {bias, NULL, 0, MC_ACT_NONE, 0.f, 0.f};
    mc_conv_transpose2d(&s, x, p16, out, &ep);
    return 6 * s.OH * s.OW;
}

static int pool(int is_max, float *out) {
    static float x[4 * 81];
    fill(x, 4 * 81, 2.f, 15);
    mc_pool_shape s1 = {4, 9, 9, 3, 3, 1, 1, 1, 1, 1, 1, 9, 9};
    mc_pool_shape s2 = {4, 9, 9, 3, 3, 2, 2, 1, 1, 1, 1, 5, 5};
    mc_pool_shape s3 = {4, 9, 9, 3, 3, 3, 3, 1, 1, 1, 1, 3, 3};   /* gathered columns */
    if (is_max) {
        mc_max_pool2d(&s1, x, out);
        mc_max_pool2d(&s2, x, out + 4 * 81);
        mc_max_pool2d(&s3, x, out + 4 * 106);
    } else {
        mc_avg_pool2d(&s1, x, out, 1);
        mc_avg_pool2d(&s2, x, out + 4 * 81, 0);
        mc_avg_pool2d(&s3, x, out + 4 * 106, 1);
    }
    return 4 * 106 + 4 * 9;
}

static int check_max_pool2d(int isa, float *out) { (void)isa; return pool(1, out); }
static int check_avg_pool2d(int isa, float *out) { (void)isa; return pool(0, out); }

static int check_global_pool(int isa, float *out) {
    (void)isa;
    static float x[3 * 37];
    fill(x, 3 * 37, 2.f, 16);
    mc_global_pool(3, 37, x, out, 1);
    mc_global_pool(3, 37, x, out + 3, 0);
    return 6;
}

static int check_softmax(int isa, float *out) {
    (void)isa;
    static float x[3 * 37];
    fill(x, 3 * 37, 4.f, 17);
    mc_softmax(x, out, 3, 37);
    return 3 * 37;
}

static int check_activation(int isa, float *out) {
    (void)isa;
    static const int acts[] = {MC_ACT_RELU, MC_ACT_CLIP, MC_ACT_LEAKY_RELU, MC_ACT_SIGMOID, MC_ACT_TANH,
                               MC_ACT_GELU, MC_ACT_GELU_TANH, MC_ACT_SILU};
    int n = 0;
    for (size_t a = 0; a < sizeof acts / sizeof *acts; a++, n += 37) {
        mc_epilogue ep = {NULL, NULL, 0, acts[a], -.5f, .5f};
        if (acts[a] == MC_ACT_LEAKY_RELU) ep.alpha = .1f;
        fill(out + n, 37, 4.f, 18 + (uint32_t)a);
        mc_activation(out + n, 37, &ep);
    }
    return n;
}

/* F16C does not follow the forced ISA (fp16.c is shared with _fp16): compare it by name */
static int check_float_to_half(int isa, float *out) {
    static float x[37];
    static uint16_t h[37];
    fill(x, 37, 300.f, 30);
    x[0] = 65520.f, x[1] = 1e-8f, x[2] = -0.f;   /* overflow to inf, subnormal, signed zero */
    if (isa == MC_ISA_PORTABLE) mc_float_to_half_portable(x, h, 37);
    else mc_float_to_half(x, h, 37);
    mc_half_to_float_portable(h, out, 37);
    if (isa == MC_ISA_PORTABLE) mc_half_to_float_portable(h, out + 37, 37);
    else mc_half_to_float(h, out + 37, 37);
    out[0] = out[37] = 0.f;   /* inf - inf is NaN: the bits are checked through the other lanes */
    return 2 * 37;
}

static int check_layer_norm(int isa, float *out) {
    (void)isa;
    static float x[3 * 37], gamma[37], beta[37];
    fill(x, 3 * 37, 2.f, 31), fill(gamma, 37, 1.f, 32), fill(beta, 37, 1.f, 33);
    mc_layer_norm(x, out, 3, 37, gamma, beta, 1e-5f);
    return 3 * 37;
}

static int check_resize(int isa, float *out) {
    (void)isa;
    enum { H = 5, W = 7, OH = 9, OW = 13 };
    static float x[2 * H * W], yf[OH], xf[OW];
    static int ylo[OH], yhi[OH], xlo[OW], xhi[OW];
    fill(x, 2 * H * W, 1.f, 34);
    for (int i = 0; i < OH; i++) ylo[i] = i * (H - 1) / OH, yhi[i] = ylo[i] + 1, yf[i] = (float)(i % 3) / 3.f;
    for (int i = 0; i < OW; i++) xlo[i] = i * (W - 1) / OW, xhi[i] = xlo[i] + 1, xf[i] = (float)(i % 4) / 4.f;
    mc_resize_bilinear(x, out, 2, H, W, OH, OW, ylo, yhi, yf, xlo, xhi, xf);
    mc_resize_nearest(x, out + 2 * OH * OW, 2, H, W, OH, OW, yhi, xhi);
    return 4 * OH * OW;
}

static int check_winograd_conv2d(int isa, float *out) {
    (void)isa;
    static float x[8 * 81], w[16 * 72], bias[16], pw[36 * 16 * 8];
    fill(x, 8 * 81, 1.f, 40), fill(w, 16 * 72, .3f, 41), fill(bias, 16, 1.f, 42);
    mc_conv_shape s = conv_shape(8, 9, 9, 16, 3, 1, 1, 1);   /* padded 3x3, stride 1 */
    mc_epilogue relu = {bias, NULL, 0, MC_ACT_RELU, 0.f, 0.f};
    for (int m = 2; m <= 4; m += 2) {   /* F(2,3) and F(4,3): transforms are per-ISA clones */
        mc_winograd_pack_f32(m, w, 16, 8, pw);
        mc_winograd_conv2d_w32(m, &s, x, pw, out + (m / 2 - 1) * 16 * 81, &relu);
    }
    return 2 * 16 * 81;
}

static int check_attention(int isa, float *out) {
    (void)isa;
    /* 2 heads, 6 queries, 21 keys, E 5, Ev 19 (vector tails everywhere), a mask broadcast over heads */
    static float q[2 * 6 * 5], k[2 * 21 * 5], v[2 * 21 * 19], mask[6 * 21];
    fill(q, sizeof q / sizeof *q, 1.f, 43), fill(k, sizeof k / sizeof *k, 1.f, 44);
    fill(v, sizeof v / sizeof *v, 1.f, 45), fill(mask, sizeof mask / sizeof *mask, 1.f, 46);
    mc_attention_shape as = {1, 2, 6, 21, 5, 19, 0, 6 * 5, 5, 0, 21 * 5, 5, 0, 21 * 19, 19,
                             0, 6 * 19, 19, 0, 0, 21, 1, 0.4f};
    mc_attention(&as, q, k, v, mask, out);
    return 2 * 6 * 19;
}

static int check_batched_matmul(int isa, float *out) {
    (void)isa;
    static float a[2 * 7 * 13], b[2 * 13 * 19], res[2 * 7 * 19];
    fill(a, sizeof a / sizeof *a, 1.f, 47), fill(b, sizeof b / sizeof *b, 1.f, 48), fill(res, sizeof res / sizeof *res, 1.f, 49);
    mc_matmul_shape s = {2, 7, 13, 19, 7 * 13, 13 * 19};
    mc_epilogue gelu = {NULL, res, 19, MC_ACT_GELU, 0.f, 0.f};
    mc_batched_matmul(&s, a, b, out, &gelu);
    return 2 * 7 * 19;
}

static int check_strided_copy(int isa, float *out) {
    (void)isa;
    static float x[3 * 5 * 7];
    fill(x, sizeof x / sizeof *x, 1.f, 50);
    ptrdiff_t shape[3] = {7, 3, 5}, strides[3] = {1, 35, 7};   /* a transpose */
    mc_strided_copy(x, out, 3, shape, strides);
    return 3 * 5 * 7;
}

static int check_gemm_rows(int isa, float *out) {
    (void)isa;
    /* 11 rows (a full tile and a tail on every ISA), 37 columns (a masked tail), K = 21 */
    static float x[11 * 21], w[37 * 21], bias[37], res[11 * 37], p32[40 * 21];
    static uint16_t p16[40 * 21];
    fill(x, sizeof x / sizeof *x, 1.f, 51), fill(w, sizeof w / sizeof *w, .5f, 52);
    fill(bias, 37, 1.f, 53), fill(res, sizeof res / sizeof *res, 1.f, 54);
    mc_epilogue gelu = {bias, res, 37, MC_ACT_GELU, 0.f, 0.f}, none = {bias, NULL, 0, MC_ACT_NONE, 0.f, 0.f};
    mc_pack_weights_f32(w, 37, 21, 21, p16);
    mc_gemm_rows(p16, 37, 21, 11, x, 21, out, 37, &gelu);
    mc_pack_weights_f32_panels(w, 37, 21, 21, p32);
    mc_gemm_rows_w32(p32, 37, 21, 11, x, 21, out + 11 * 37, 37, &none);
    return 2 * 11 * 37;
}

/* Blocked layout: C = 20 and Cout = 24 leave tail lanes; 3x3 padded at stride 1 (3 x 13: a
   full AVX-512 tile and a narrow one, border taps) and stride 2, a 1x1; fp16 and fp32 panels. */
static int check_conv2d_blocked(int isa, float *out) {
    (void)isa;
    static float x[20 * 3 * 13], xb[2 * 3 * 13 * 16], w[24 * 20 * 9], bias[24], res[2 * 3 * 13 * 16];
    static float p32[2 * 2 * 9 * 256];
    static uint16_t p16[2 * 2 * 9 * 256];
    fill(x, sizeof x / sizeof *x, 1.f, 60), fill(w, sizeof w / sizeof *w, .2f, 61), fill(bias, 24, 1.f, 62);
    mc_to_blocked(x, 20, 3, 13, xb);
    mc_to_blocked(x, 20, 3, 13, res);
    mc_epilogue relu = {bias, NULL, 0, MC_ACT_RELU, 0.f, 0.f}, skip = {bias, res, 0, MC_ACT_SIGMOID, 0.f, 0.f};
    mc_conv_shape s = conv_shape(20, 3, 13, 24, 3, 1, 1, 1), t = conv_shape(20, 3, 13, 24, 3, 1, 2, 1);
    mc_pack_conv_blocked_f32(w, 24, 20, 3, 3, p32);
    mc_conv2d_blocked_w32(&s, xb, p32, out, &relu);
    mc_pack_conv_blocked_f16(w, 24, 20, 3, 3, p16);
    int n = 2 * 3 * 13 * 16;
    mc_conv2d_blocked(&t, xb, p16, out + n, &relu);
    n += 2 * t.OH * t.OW * 16;
    mc_conv_shape u = conv_shape(20, 3, 13, 20, 1, 1, 1, 0);
    mc_pack_conv_blocked_f32(w, 20, 20, 1, 1, p32);
    mc_conv2d_blocked_w32(&u, xb, p32, out + n, &skip);
    return n + 2 * 3 * 13 * 16;
}

static int check_to_blocked(int isa, float *out) {
    (void)isa;
    static float x[20 * 5 * 7];
    fill(x, sizeof x / sizeof *x, 1.f, 63);
    mc_to_blocked(x, 20, 5, 7, out);
    return 2 * 5 * 7 * 16;
}

static int check_from_blocked(int isa, float *out) {
    (void)isa;
    static float x[2 * 5 * 7 * 16];
    fill(x, sizeof x / sizeof *x, 1.f, 64);
    mc_from_blocked(x, 20, 5, 7, out);
    return 20 * 5 * 7;
}

/* Blocked NCHW16c problems: 20 channels (a full block and one with zero tail lanes). */
static void fill_blocked(float *x, int C, int HW, float scale, uint32_t seed) {
    int blocks = (C + 15) / 16;
    fill(x, (size_t)blocks * HW * 16, scale, seed);
    for (int p = 0; p < blocks * HW; p++)
        for (int l = 0; l < 16; l++)
            if ((p / HW) * 16 + l >= C) x[(size_t)p * 16 + l] = 0.f;
}

static int check_depthwise_blocked(int isa, float *out) {
    (void)isa;
    enum { C = 20, H = 5, W = 11 };
    static float x[2 * H * W * 16], res[2 * H * W * 16], w[C * 25], bias[C], packed[2 * 25 * 16];
    fill_blocked(x, C, H * W, 1.f, 51), fill_blocked(res, C, H * W, 1.f, 52);
    fill(w, C * 25, .3f, 53), fill(bias, C, 1.f, 54);
    mc_epilogue skip = {bias, res, 0, MC_ACT_CLIP, 0.f, 1.f}, sig = {bias, NULL, 0, MC_ACT_SIGMOID, 0.f, 0.f};
    mc_conv_shape s = conv_shape(C, H, W, C, 3, C, 1, 1);      /* interior groups and singles */
    mc_pack_depthwise_blocked(w, C, 3, 3, packed);
    mc_depthwise_blocked(&s, x, packed, out, &skip);
    int n = 2 * s.OH * s.OW * 16;
    mc_conv_shape t = conv_shape(C, H, W, C, 3, C, 2, 1);      /* stride 2; sigmoid(0) in the tail */
    mc_depthwise_blocked(&t, x, packed, out + n, &sig);
    n += 2 * t.OH * t.OW * 16;
    mc_conv_shape f = conv_shape(C, H, W, C, 5, C, 2, 2);      /* 5x5 stride 2 */
    mc_pack_depthwise_blocked(w, C, 5, 5, packed);
    mc_depthwise_blocked(&f, x, packed, out + n, &skip);
    n += 2 * f.OH * f.OW * 16;
    mc_conv_shape d = conv_shape(10, H, 7, 10, 3, 10, 1, 2);   /* dilation 2 (generic interior), padded copy */
    d.dil_h = d.dil_w = 2;
    mc_conv_out_shape(&d);
    fill_blocked(x, 10, H * 7, 1.f, 57);
    mc_pack_depthwise_blocked(w, 10, 3, 3, packed);
    mc_depthwise_blocked(&d, x, packed, out + n, &sig);
    return n + d.OH * d.OW * 16;
}

static int check_pool_blocked(int isa, float *out) {
    (void)isa;
    static float x[2 * 81 * 16];
    fill_blocked(x, 20, 81, 2.f, 55);
    mc_pool_shape s1 = {20, 9, 9, 3, 3, 1, 1, 1, 1, 1, 1, 9, 9};
    mc_pool_shape s2 = {20, 9, 9, 3, 3, 2, 2, 1, 1, 1, 1, 5, 5};
    mc_pool2d_blocked(&s1, x, out, 1, 0);
    mc_pool2d_blocked(&s2, x, out + 2 * 81 * 16, 0, 0);
    return 2 * 81 * 16 + 2 * 25 * 16;
}

static int check_global_pool_blocked(int isa, float *out) {
    (void)isa;
    static float x[2 * 37 * 16];
    fill_blocked(x, 20, 37, 2.f, 56);
    mc_global_pool_blocked(20, 37, x, out, 1);
    mc_global_pool_blocked(20, 37, x, out + 32, 0);
    return 64;
}

const mc_isa_check mc_isa_checks[] = {
    {"gemm", check_gemm},
    {"conv2d", check_conv2d},
    {"depthwise_conv2d", check_depthwise_conv2d},
    {"conv_transpose2d", check_conv_transpose2d},
    {"max_pool2d", check_max_pool2d},
    {"avg_pool2d", check_avg_pool2d},
    {"global_pool", check_global_pool},
    {"softmax", check_softmax},
    {"activation", check_activation},
    {"float_to_half", check_float_to_half},
    {"layer_norm", check_layer_norm},
    {"resize", check_resize},
    {"winograd_conv2d_w32", check_winograd_conv2d},
    {"attention", check_attention},
    {"batched_matmul", check_batched_matmul},
    {"strided_copy", check_strided_copy},
    {"gemm_w32", check_gemm},                       /* fp32 panels: checked by the same problems */
    {"conv2d_w32", check_conv2d},
    {"depthwise_conv2d_w32", check_depthwise_conv2d},
    {"gemm_rows", check_gemm_rows},
    {"gemm_rows_w32", check_gemm_rows},              /* both panel kinds in one problem */
    {"to_blocked", check_to_blocked},
    {"from_blocked", check_from_blocked},
    {"conv2d_blocked", check_conv2d_blocked},
    {"conv2d_blocked_w32", check_conv2d_blocked},
    {"depthwise_blocked", check_depthwise_blocked},
    {"pool_blocked", check_pool_blocked},
    {"global_pool_blocked", check_global_pool_blocked},
};
const int mc_isa_check_count = sizeof mc_isa_checks / sizeof *mc_isa_checks;
