/* fp16 <-> fp32 conversion with runtime dispatch. The F16C path converts 8 values per
   instruction; the portable path is exact IEEE-754 binary16 with round-to-nearest-even. */
#include "fp16.h"

#include <string.h>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define MC_X86 1
#endif

static float half_bits_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t man = h & 0x3ffu;
    uint32_t bits;
    if (exp == 0x1f) {                      /* inf / nan */
        bits = sign | 0x7f800000u | (man << 13);
    } else if (exp != 0) {                  /* normal */
        bits = sign | ((exp + 112u) << 23) | (man << 13);
    } else if (man == 0) {                  /* signed zero */
        bits = sign;
    } else {                                /* subnormal: renormalise */
        int shift = 0;
        while (!(man & 0x400u)) { man <<= 1; shift++; }
        man &= 0x3ffu;
        bits = sign | ((uint32_t)(113 - shift) << 23) | (man << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static uint16_t float_to_half_bits(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t absx = x & 0x7fffffffu;
    if (absx >= 0x7f800000u)                /* inf / nan (keep nan quiet) */
        return (uint16_t)(sign | 0x7c00u | (absx > 0x7f800000u ? 0x200u | ((absx >> 13) & 0x3ffu) : 0));
    if (absx >= 0x477ff000u)                /* rounds to >= 65520: overflow to inf */
        return (uint16_t)(sign | 0x7c00u);
    if (absx < 0x38800000u) {               /* result is subnormal or zero */
        if (absx < 0x33000000u) return (uint16_t)sign;
        uint32_t e = absx >> 23;
        uint32_t m = (absx & 0x7fffffu) | 0x800000u;
        uint32_t shift = 126u - e;          /* 14..24 */
        uint32_t q = m >> shift;
        uint32_t rem = m & ((1u << shift) - 1u);
        uint32_t half = 1u << (shift - 1u);
        if (rem > half || (rem == half && (q & 1u))) q++;
        return (uint16_t)(sign | q);
    }
    uint32_t r = absx + 0xfffu + ((absx >> 13) & 1u) - 0x38000000u;   /* rebias + RNE */
    return (uint16_t)(sign | (r >> 13));
}

void mc_half_to_float_portable(const uint16_t *src, float *dst, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = half_bits_to_float(src[i]);
}

void mc_float_to_half_portable(const float *src, uint16_t *dst, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = float_to_half_bits(src[i]);
}

#ifdef MC_X86
__attribute__((target("avx,f16c")))
static void half_to_float_f16c(const uint16_t *src, float *dst, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i))));
    mc_half_to_float_portable(src + i, dst + i, n - i);
}

__attribute__((target("avx,f16c")))
static void float_to_half_f16c(const float *src, uint16_t *dst, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(dst + i),
                         _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
    mc_float_to_half_portable(src + i, dst + i, n - i);
}
#endif

static int f16c_allowed = 1;   /* cleared when the AVX2 kernels fail the self-check (dispatch.c) */

void mc_fp16_allow_f16c(int allowed) { f16c_allowed = allowed; }

int mc_fp16_has_f16c(void) {
#ifdef MC_X86
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx") && __builtin_cpu_supports("f16c");
    }
    return cached && f16c_allowed;
#else
    return 0;
#endif
}

void mc_half_to_float(const uint16_t *src, float *dst, size_t n) {
#ifdef MC_X86
    if (mc_fp16_has_f16c()) { half_to_float_f16c(src, dst, n); return; }
#endif
    mc_half_to_float_portable(src, dst, n);
}

void mc_float_to_half(const float *src, uint16_t *dst, size_t n) {
#ifdef MC_X86
    if (mc_fp16_has_f16c()) { float_to_half_f16c(src, dst, n); return; }
#endif
    mc_float_to_half_portable(src, dst, n);
}
