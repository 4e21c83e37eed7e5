/* Quantized weight panels: 8-bit (or 4-bit, two per byte) codes in the GEMM panel layout
   ([ceil(M/8)][K][8]), decoded to fp32 one micro-panel (kc x 8) at a time, in L1, where fp16
   panels are converted: a quarter (an eighth) of fp32's resident bytes and memory traffic for
   the same arithmetic.  Affine codes decode with one FMA per 8 rows (code * scale + offset, per
   row); palettized codes with an 8-lane gather from the rows' lookup tables, or with two
   in-register permutes of one shared 16-entry table. */
#include "kernels_impl.h"
#include "vecmath.h"

#include <string.h>

void mc_pack_weights_i8(const int8_t *w, int M, int K, ptrdiff_t ldw, int8_t *packed) {
    for (int p = 0; p * MC_MR < M; p++) {
        int8_t *dst = packed + (size_t)p * K * MC_MR;
        for (int k = 0; k < K; k++)
            for (int i = 0; i < MC_MR; i++) {
                int row = p * MC_MR + i;
                dst[(size_t)k * MC_MR + i] = row < M ? w[row * ldw + k] : 0;
            }
    }
}

/* Per-row decoding constants of a panel's 8 rows: affine scale/offset, or LUT row bases;
   rows past the group's end get scale 0 / an all-zero decode. */
typedef struct { float scale[8], offset[8]; int base[8]; int valid[8]; } panel_rows;

static void rows_of(const mc_panels *w, int panel, panel_rows *r) {
    const mc_dequant *q = w->q;
    for (int i = 0; i < MC_MR; i++) {
        int local = panel * MC_MR + i, row = w->qrow + local;
        r->valid[i] = local < q->rows;
        r->scale[i] = r->valid[i] && q->scale ? q->scale[row] : 0.f;
        r->offset[i] = r->valid[i] && q->offset ? q->offset[row] : 0.f;
        r->base[i] = r->valid[i] ? row * q->lut_stride : 0;
    }
}

/* the 8 codes of one k-step as unsigned bytes (nibbles unpacked) or as stored */
static inline void step_codes(const int8_t *codes, int nibbles, int8_t out[8]) {
    for (int i = 0; i < MC_MR; i++)
        out[i] = nibbles ? (int8_t)(((uint8_t)codes[i / 2] >> (4 * (i & 1))) & 15) : codes[i];
}

static void decode_portable(const int8_t *codes, const mc_dequant *q, const panel_rows *r, int kc,
                            float *dst, ptrdiff_t ldd) {
    int step = q->nibbles ? MC_MR / 2 : MC_MR;
    for (int k = 0; k < kc; k++, codes += step, dst += ldd) {
        int8_t c[8];
        step_codes(codes, q->nibbles, c);
        for (int i = 0; i < MC_MR; i++) {
            if (!r->valid[i]) dst[i] = 0.f;
            else if (q->lut) dst[i] = q->lut[r->base[i] + (uint8_t)c[i]];
            else dst[i] = (q->codes_unsigned ? (float)(uint8_t)c[i] : (float)c[i]) * r->scale[i] + r->offset[i];
        }
    }
}

#ifdef MC_X86
/* 8 codes of one k-step in the low 8 bytes: 4 bytes of nibbles interleaved low, high. */
MC_T256 static inline __m128i load_step(const int8_t *codes, int nibbles) {
    if (!nibbles) return _mm_loadl_epi64((const __m128i *)codes);
    int32_t word;
    memcpy(&word, codes, 4);
    __m128i b = _mm_cvtsi32_si128(word), m = _mm_set1_epi8(15);
    return _mm_unpacklo_epi8(_mm_and_si128(b, m), _mm_and_si128(_mm_srli_epi16(b, 4), m));
}

MC_T256 static void decode_avx2(const int8_t *codes, const mc_dequant *q, const panel_rows *r, int kc,
                                float *dst, ptrdiff_t ldd) {
    int step = q->nibbles ? MC_MR / 2 : MC_MR;
    if (q->lut) {
        __m256i base = _mm256_loadu_si256((const __m256i *)r->base);
        __m256 keep = _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_loadu_si256((const __m256i *)r->valid),
                                                             _mm256_setzero_si256()));
        if (q->nibbles && q->lut_stride == 0) {  /* one 16-entry table: two in-register permutes */
            __m256 lo = _mm256_loadu_ps(q->lut), hi = _mm256_loadu_ps(q->lut + 8);
            for (int k = 0; k < kc; k++, codes += step, dst += ldd) {
                __m256i idx = _mm256_cvtepu8_epi32(load_step(codes, 1));
                __m256 upper = _mm256_castsi256_ps(_mm256_cmpgt_epi32(idx, _mm256_set1_epi32(7)));
                __m256 v = _mm256_blendv_ps(_mm256_permutevar8x32_ps(lo, idx), _mm256_permutevar8x32_ps(hi, idx), upper);
                _mm256_storeu_ps(dst, _mm256_and_ps(v, keep));
            }
            return;
        }
        for (int k = 0; k < kc; k++, codes += step, dst += ldd) {
            __m256i idx = _mm256_cvtepu8_epi32(load_step(codes, q->nibbles));
            __m256 v = _mm256_i32gather_ps(q->lut, _mm256_add_epi32(idx, base), 4);
            _mm256_storeu_ps(dst, _mm256_and_ps(v, keep));
        }
        return;
    }
    __m256 scale = _mm256_loadu_ps(r->scale), offset = _mm256_loadu_ps(r->offset);
    for (int k = 0; k < kc; k++, codes += step, dst += ldd) {
        __m128i bytes = load_step(codes, q->nibbles);
        __m256i wide = q->codes_unsigned ? _mm256_cvtepu8_epi32(bytes) : _mm256_cvtepi8_epi32(bytes);
        _mm256_storeu_ps(dst, _mm256_fmadd_ps(_mm256_cvtepi32_ps(wide), scale, offset));
    }
}
#endif

void mc_dequant_rows(mc_panels w, size_t at, int panel, int kc, float *dst, ptrdiff_t ldd) {
    panel_rows r;
    rows_of(&w, panel, &r);
    const int8_t *codes = (const int8_t *)w.p + (w.q->nibbles ? at / 2 : at);
#ifdef MC_X86
    if (mc_isa() >= MC_ISA_AVX2) {
        decode_avx2(codes, w.q, &r, kc, dst, ldd);
        return;
    }
#endif
    decode_portable(codes, w.q, &r, kc, dst, ldd);
}
