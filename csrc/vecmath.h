/* Vector activations for the AVX-512 and AVX2 epilogues: Cephes-style exp (~2 ulp),
   Abramowitz-Stegun 7.1.26 erf (abs err 1.5e-7); sigmoid/tanh/gelu/silu built on them.
   NaN and +-Inf behave as in the numpy reference: x86 max/min return their SECOND operand
   when either is NaN, so every clamp puts the data operand second (max(0, v), not max(v, 0)),
   and exp saturates to 0 / +inf outside the range its polynomial covers. */
#ifndef MC_VECMATH_H
#define MC_VECMATH_H

#include "kernels_impl.h"

#include <math.h>

#ifdef MC_X86
#define MC_T512 __attribute__((target("avx512f,avx2,fma,f16c")))
#define MC_T256 __attribute__((target("avx2,fma,f16c")))

#define MC_EXP_COEFFS(SET1)                                                              \
    const VT c0 = SET1(1.9875691500e-4f), c1 = SET1(1.3981999507e-3f),                     \
             c2 = SET1(8.3334519073e-3f), c3 = SET1(4.1665795894e-2f),                     \
             c4 = SET1(1.6666665459e-1f), c5 = SET1(5.0000001201e-1f)

#define VT __m512
MC_T512 static inline __m512 mc_exp512(__m512 x) {
    MC_EXP_COEFFS(_mm512_set1_ps);
    const __m512 big = _mm512_set1_ps(88.3f), tiny = _mm512_set1_ps(-87.3f);
    __mmask16 over = _mm512_cmp_ps_mask(x, big, _CMP_GT_OQ), under = _mm512_cmp_ps_mask(x, tiny, _CMP_LT_OQ);
    x = _mm512_min_ps(big, _mm512_max_ps(tiny, x));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_fmadd_ps(c0, r, c1);
    p = _mm512_fmadd_ps(p, r, c2);
    p = _mm512_fmadd_ps(p, r, c3);
    p = _mm512_fmadd_ps(p, r, c4);
    p = _mm512_fmadd_ps(p, r, c5);
    p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.f)));
    p = _mm512_scalef_ps(p, n);
    p = _mm512_mask_mov_ps(p, over, _mm512_set1_ps(INFINITY));
    return _mm512_mask_mov_ps(p, under, _mm512_setzero_ps());
}

MC_T512 static inline __m512 mc_sigmoid512(__m512 x) {
    __m512 one = _mm512_set1_ps(1.f);
    return _mm512_div_ps(one, _mm512_add_ps(one, mc_exp512(_mm512_sub_ps(_mm512_setzero_ps(), x))));
}

MC_T512 static inline __m512 mc_tanh512(__m512 x) {
    /* tanh(x) = 2 sigmoid(2x) - 1 */
    __m512 s = mc_sigmoid512(_mm512_add_ps(x, x));
    return _mm512_fmsub_ps(s, _mm512_set1_ps(2.f), _mm512_set1_ps(1.f));
}

MC_T512 static inline __m512 mc_erf512(__m512 x) {
    __m512 ax = _mm512_abs_ps(x);
    __m512 t = _mm512_div_ps(_mm512_set1_ps(1.f), _mm512_fmadd_ps(ax, _mm512_set1_ps(0.3275911f), _mm512_set1_ps(1.f)));
    __m512 p = _mm512_fmadd_ps(_mm512_set1_ps(1.061405429f), t, _mm512_set1_ps(-1.453152027f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(1.421413741f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-0.284496736f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(0.254829592f));
    p = _mm512_mul_ps(p, t);
    __m512 e = mc_exp512(_mm512_sub_ps(_mm512_setzero_ps(), _mm512_mul_ps(ax, ax)));
    __m512 y = _mm512_fnmadd_ps(p, e, _mm512_set1_ps(1.f));
    /* copy the sign of x */
    __m512i sign = _mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32((int)0x80000000u));
    return _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(y), sign));
}

MC_T512 static inline __m512 mc_act512(__m512 v, const mc_epilogue *ep) {
    const __m512 half = _mm512_set1_ps(0.5f);
    switch (ep->act) {
    case MC_ACT_RELU: return _mm512_max_ps(_mm512_setzero_ps(), v);
    case MC_ACT_CLIP:
        return _mm512_min_ps(_mm512_set1_ps(ep->beta), _mm512_max_ps(_mm512_set1_ps(ep->alpha), v));
    case MC_ACT_LEAKY_RELU: {
        __mmask16 neg = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LT_OQ);
        return _mm512_mask_mul_ps(v, neg, v, _mm512_set1_ps(ep->alpha));
    }
    case MC_ACT_SIGMOID: return mc_sigmoid512(v);
    case MC_ACT_TANH: return mc_tanh512(v);
    case MC_ACT_GELU: {
        __m512 e = mc_erf512(_mm512_mul_ps(v, _mm512_set1_ps(0.70710678118654752f)));
        return _mm512_mul_ps(_mm512_mul_ps(half, v), _mm512_add_ps(e, _mm512_set1_ps(1.f)));
    }
    case MC_ACT_GELU_TANH: {
        __m512 v3 = _mm512_mul_ps(_mm512_mul_ps(v, v), v);
        __m512 u = _mm512_mul_ps(_mm512_fmadd_ps(v3, _mm512_set1_ps(0.044715f), v),
                                 _mm512_set1_ps(0.7978845608028654f));
        return _mm512_mul_ps(_mm512_mul_ps(half, v), _mm512_add_ps(mc_tanh512(u), _mm512_set1_ps(1.f)));
    }
    case MC_ACT_SILU: return _mm512_mul_ps(v, mc_sigmoid512(v));
    default: return v;
    }
}
#undef VT

#define VT __m256
MC_T256 static inline __m256 mc_exp256(__m256 x) {
    MC_EXP_COEFFS(_mm256_set1_ps);
    const __m256 big = _mm256_set1_ps(88.3f), tiny = _mm256_set1_ps(-87.3f);
    __m256 over = _mm256_cmp_ps(x, big, _CMP_GT_OQ), under = _mm256_cmp_ps(x, tiny, _CMP_LT_OQ);
    x = _mm256_min_ps(big, _mm256_max_ps(tiny, x));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_fmadd_ps(c0, r, c1);
    p = _mm256_fmadd_ps(p, r, c2);
    p = _mm256_fmadd_ps(p, r, c3);
    p = _mm256_fmadd_ps(p, r, c4);
    p = _mm256_fmadd_ps(p, r, c5);
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.f)));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    p = _mm256_mul_ps(p, _mm256_castsi256_ps(e));
    p = _mm256_blendv_ps(p, _mm256_set1_ps(INFINITY), over);
    return _mm256_andnot_ps(under, p);
}

MC_T256 static inline __m256 mc_sigmoid256(__m256 x) {
    __m256 one = _mm256_set1_ps(1.f);
    return _mm256_div_ps(one, _mm256_add_ps(one, mc_exp256(_mm256_sub_ps(_mm256_setzero_ps(), x))));
}

MC_T256 static inline __m256 mc_tanh256(__m256 x) {
    __m256 s = mc_sigmoid256(_mm256_add_ps(x, x));
    return _mm256_fmsub_ps(s, _mm256_set1_ps(2.f), _mm256_set1_ps(1.f));
}

MC_T256 static inline __m256 mc_erf256(__m256 x) {
    __m256 signmask = _mm256_set1_ps(-0.f);
    __m256 ax = _mm256_andnot_ps(signmask, x);
    __m256 t = _mm256_div_ps(_mm256_set1_ps(1.f), _mm256_fmadd_ps(ax, _mm256_set1_ps(0.3275911f), _mm256_set1_ps(1.f)));
    __m256 p = _mm256_fmadd_ps(_mm256_set1_ps(1.061405429f), t, _mm256_set1_ps(-1.453152027f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(1.421413741f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-0.284496736f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(0.254829592f));
    p = _mm256_mul_ps(p, t);
    __m256 e = mc_exp256(_mm256_sub_ps(_mm256_setzero_ps(), _mm256_mul_ps(ax, ax)));
    __m256 y = _mm256_fnmadd_ps(p, e, _mm256_set1_ps(1.f));
    return _mm256_or_ps(y, _mm256_and_ps(signmask, x));
}

MC_T256 static inline __m256 mc_act256(__m256 v, const mc_epilogue *ep) {
    const __m256 half = _mm256_set1_ps(0.5f);
    switch (ep->act) {
    case MC_ACT_RELU: return _mm256_max_ps(_mm256_setzero_ps(), v);
    case MC_ACT_CLIP:
        return _mm256_min_ps(_mm256_set1_ps(ep->beta), _mm256_max_ps(_mm256_set1_ps(ep->alpha), v));
    case MC_ACT_LEAKY_RELU: {
        __m256 neg = _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_LT_OQ);
        return _mm256_blendv_ps(v, _mm256_mul_ps(v, _mm256_set1_ps(ep->alpha)), neg);
    }
    case MC_ACT_SIGMOID: return mc_sigmoid256(v);
    case MC_ACT_TANH: return mc_tanh256(v);
    case MC_ACT_GELU: {
        __m256 e = mc_erf256(_mm256_mul_ps(v, _mm256_set1_ps(0.70710678118654752f)));
        return _mm256_mul_ps(_mm256_mul_ps(half, v), _mm256_add_ps(e, _mm256_set1_ps(1.f)));
    }
    case MC_ACT_GELU_TANH: {
        __m256 v3 = _mm256_mul_ps(_mm256_mul_ps(v, v), v);
        __m256 u = _mm256_mul_ps(_mm256_fmadd_ps(v3, _mm256_set1_ps(0.044715f), v),
                                 _mm256_set1_ps(0.7978845608028654f));
        return _mm256_mul_ps(_mm256_mul_ps(half, v), _mm256_add_ps(mc_tanh256(u), _mm256_set1_ps(1.f)));
    }
    case MC_ACT_SILU: return _mm256_mul_ps(v, mc_sigmoid256(v));
    default: return v;
    }
}
#undef VT

/* max(a, b) that is NaN when either is (max pooling, like np.max): max_ps alone keeps a NaN
   only in its second operand. */
MC_T256 static inline __m256 mc_max256_nan(__m256 a, __m256 b) {
    return _mm256_blendv_ps(_mm256_max_ps(a, b), a, _mm256_cmp_ps(a, a, _CMP_UNORD_Q));
}

/* Lane masks for AVX2 tails: mc_mask256(n) enables the first n (0..8) lanes. */
MC_T256 static inline __m256i mc_mask256(int n) {
    static const int32_t table[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    return _mm256_loadu_si256((const __m256i *)(table + 8 - n));
}

/* In-register 8x8 transpose: r[i][j] -> r[j][i]. */
MC_T256 static inline void mc_tr8x8(__m256 *r) {
    __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    r[0] = _mm256_permute2f128_ps(u0, u4, 0x20), r[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
    r[2] = _mm256_permute2f128_ps(u2, u6, 0x20), r[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
    r[4] = _mm256_permute2f128_ps(u0, u4, 0x31), r[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
    r[6] = _mm256_permute2f128_ps(u2, u6, 0x31), r[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}

static inline __mmask16 mc_mask512(int n) {
    return n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1u);
}
#endif
#endif
