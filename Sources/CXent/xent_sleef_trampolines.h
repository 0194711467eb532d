// The assembly loops (xent_sleef_x86_64.S) that call SLEEF's 256/512-bit exp and tanh with
// pointers only.
#ifndef XENT_SLEEF_TRAMPOLINES_H
#define XENT_SLEEF_TRAMPOLINES_H
#include <stddef.h>

#if defined(__x86_64__)
/// y[0 ..< 8*nvec] = Sleef_expf8_u10avx2(x), one 8-float vector per call. Needs AVX2+FMA.
/// (The reference for the AVX2 kernel's inlined exp, xent_exp_mismatches.)
void xent_sleef_expf8_u10__avx2(const float *x, float *y, size_t nvec);
/// y[0 ..< 16*nvec] = Sleef_expf16_u10avx512f(x), one 16-float vector per call. Needs AVX-512F.
/// (The reference for the AVX-512 kernel's inlined exp, xent_exp_mismatches.)
void xent_sleef_expf16_u10__avx512f(const float *x, float *y, size_t nvec);
/// y[0 ..< 8*nvec] = Sleef_tanhf8_u10avx2(x), one 8-float vector per call. Needs AVX2+FMA.
/// (The reference for the AVX2 kernel's inlined tanh, xent_tanh_mismatches.)
void xent_sleef_tanhf8_u10__avx2(const float *x, float *y, size_t nvec);
/// y[0 ..< 16*nvec] = Sleef_tanhf16_u10avx512f(x), one 16-float vector per call. Needs AVX-512F.
/// (The reference for the AVX-512 kernel's inlined tanh, xent_tanh_mismatches.)
void xent_sleef_tanhf16_u10__avx512f(const float *x, float *y, size_t nvec);
#endif

#endif
