/* fp16 <-> fp32 conversion: F16C (8 lanes per instruction) when the CPU has it,
   otherwise a portable bit-exact routine (round-to-nearest-even, like numpy). */
#ifndef MLIR_COREML_FP16_H
#define MLIR_COREML_FP16_H
#include <stddef.h>
#include <stdint.h>

void mc_half_to_float(const uint16_t *src, float *dst, size_t n);
void mc_float_to_half(const float *src, uint16_t *dst, size_t n);
/* 1 when the F16C path is used on this machine. */
int mc_fp16_has_f16c(void);
/* 0 turns the F16C path off for the process (the ISA self-check, when AVX2 fails it). */
void mc_fp16_allow_f16c(int allowed);
/* The portable paths, exposed so tests can compare both on any machine. */
void mc_half_to_float_portable(const uint16_t *src, float *dst, size_t n);
void mc_float_to_half_portable(const float *src, uint16_t *dst, size_t n);

#endif
