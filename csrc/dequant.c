/* Quantized weight panels: 8-bit codes in the GEMM panel layout ([ceil(M/8)][K][8]), decoded
   to fp32 one micro-panel (kc x 8) at a time, in L1, where fp16 panels are converted: a
   quarter of fp32's resident bytes and memory traffic for the same arithmetic.  Affine codes
   decode with one FMA per 8 rows (code * scale + offset, per row); palettized codes with an
   8-lane gather from the rows' lookup tables. */
#include "kernels_impl.h"
#include "vecmath.h"

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

static void decode_portable(const int8_t *codes, const mc_dequant *q, const panel_rows *r, int kc,
                            float *dst, ptrdiff_t ldd) {
    for (int k = 0; k < kc; k++, codes += MC_MR, dst += ldd)
        for (int i = 0; i < MC_MR; i++) {
            if (!r->valid[i]) dst[i] = 0.f;
            else if (q->lut) dst[i] = q->lut[r->base[i] + (uint8_t)codes[i]];
            else dst[i] = (q->codes_unsigned ? (float)(uint8_t)codes[i] : (float)codes[i]) * r->scale[i] + r->offset[i];
        }
}

#ifdef MC_X86
MC_T256 static void decode_avx2(const int8_t *codes, const mc_dequant *q, const panel_rows *r, int kc,
                                float *dst, ptrdiff_t ldd) {
    if (q->lut) {
        __m256i base = _mm256_loadu_si256((const __m256i *)r->base);
        __m256 keep = _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_loadu_si256((const __m256i *)r->valid),
                                                             _mm256_setzero_si256()));
        for (int k = 0; k < kc; k++, codes += MC_MR, dst += ldd) {
            __m256i idx = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)codes));
            __m256 v = _mm256_i32gather_ps(q->lut, _mm256_add_epi32(idx, base), 4);
            _mm256_storeu_ps(dst, _mm256_and_ps(v, keep));
        }
        return;
    }
    __m256 scale = _mm256_loadu_ps(r->scale), offset = _mm256_loadu_ps(r->offset);
    for (int k = 0; k < kc; k++, codes += MC_MR, dst += ldd) {
        __m128i bytes = _mm_loadl_epi64((const __m128i *)codes);
        __m256i wide = q->codes_unsigned ? _mm256_cvtepu8_epi32(bytes) : _mm256_cvtepi8_epi32(bytes);
        _mm256_storeu_ps(dst, _mm256_fmadd_ps(_mm256_cvtepi32_ps(wide), scale, offset));
    }
}
#endif

void mc_dequant_rows(mc_panels w, size_t at, int panel, int kc, float *dst, ptrdiff_t ldd) {
    panel_rows r;
    rows_of(&w, panel, &r);
    const int8_t *codes = (const int8_t *)w.p + at;
#ifdef MC_X86
    if (mc_isa() >= MC_ISA_AVX2) {
        decode_avx2(codes, w.q, &r, kc, dst, ldd);
        return;
    }
#endif
    decode_portable(codes, w.q, &r, kc, dst, ldd);
}
