// SLEEF's 1-ULP single-precision exp (`xexpf` of src/libm/sleefsimdsp.c, SLEEF 3.5: the function
// behind Sleef_expf16_u10avx512f, Sleef_expf8_u10avx2 and Sleef_expf4_u10advsimd) written out for
// AVX-512F, for AVX2+FMA and for AdvSIMD, so that it inlines into the shim's loops: no call per
// vector, no vector register spilled around a call, and the sum of the exps kept in registers.
//
// AVX2: SLEEF's operations in SLEEF's order (the full form; a short form below). AVX-512: the
// same arithmetic with two AVX-512 instructions in place of equivalent sequences: vrndscaleps
// (round to nearest even) gives q = rint(d·log2 e) directly as a float where SLEEF converts to
// int32 and back (the two differ only where |d·log2 e| ≥ 2³¹, a range the limits below override),
// and vscalefps computes u·2^q with one rounding where SLEEF multiplies by 2^(q>>1) (exact: the
// product stays normal) and then by 2^(q−(q>>1)) (the one rounding).
//
// SLEEF's limits (+inf above 100, 0 below −104, NaN kept) in fewer operations, on both ISAs: the
// input x is first clamped to d = min(100, x) — exp(100) already overflows to +inf through the
// same arithmetic, and vminps returns its second operand, x, when x is NaN — which replaces
// SLEEF's compare and blend for the upper limit (on AVX2, cvtps_epi32 then overflows only for NaN,
// as in SLEEF, and below −1.49e9, which the lower limit zeroes); on AVX-512 the lower limit's
// mask zeroes the lanes inside vscalefps instead of a separate masked move. Each is its library
// function's result bit for bit on every one of the 2³² float inputs, NaN payloads included, in
// the default rounding mode: `xent_exp_mismatches` compares them (ExpTests; every input in CI).
// AVX2's also in MXCSR's other rounding modes, up to 100 (ExpTests checks every mode); above 100,
// rounding down or toward zero, the clamped arithmetic overflows to the largest float where
// SLEEF's compare gives +inf. AVX-512's rounds q to nearest explicitly where SLEEF's conversion
// follows MXCSR: SLEEF's bits in the default mode only.
//
// AVX2 also has a short form for |x| < 86, the range of nearly every input of the exp pass
// (logits minus their row's max, within 86 of it), which the AVX2 kernels take for a pair of
// 16-lane vectors (or a lone vector) whose every lane is in it (xent_expf8_u10_outside_short_range)
// and the full form above otherwise. There neither limit applies, so the clamp and the lower
// limit's mask go; vroundps gives q = rint(x·log2 e) as a float directly, in MXCSR's rounding mode
// as SLEEF's cvtps2dq (|q| ≤ 124, so cvtdq2ps's conversion back is exact), and cvttps2dq the
// integer from it, off the path to the result; and u·2^q, with u in [0.70, 1.42] (exponent field
// 126 or 127) and |q| ≤ 124, is a normal float, so SLEEF's two exact-then-rounded multiplications
// are exact and equal adding q to u's exponent field. Same bits, every input of the range (ExpTests'
// exhaustive check runs through it), in fewer operations. Lanes below −104 (−inf: masked classes)
// may ride along: SLEEF's exp is +0 there, so the short form's result with those lanes zeroed
// (xent_expf8_u10_below_lower_limit) is the full form's, and a vector whose only lanes outside
// the range lie there need not take the full form.
//
// AdvSIMD (arm64): SLEEF's operations in SLEEF's order, as helperadvsimd.h spells them (SLEEF 3.5
// and 3.6: rint as vrndnq then vcvtq, fused multiply-adds, 2^q in two exact-then-rounded
// multiplications, the limits by compare and select), so each lane is Sleef_expf4_u10advsimd's
// bit for bit: inlined into the block function the Swift kernels call, it saves a call through
// the PLT per four lanes and the constants' loads in each. Checked on every one of the 2³² inputs,
// every bit (NaN payloads too), against the library under qemu (Scripts/test-arm64.sh, the aarch64
// driver's --exhaustive), in the default rounding mode; in FPCR's other three modes on 2²⁶ inputs
// spread over all of them and on edge patterns (zeros, infinities, NaNs, the limits' neighbourhoods).
//
// SLEEF is Copyright Naoki Shibata and contributors 2010 - 2020, distributed under the Boost
// Software License, Version 1.0:
//
//   Boost Software License - Version 1.0 - August 17th, 2003
//
//   Permission is hereby granted, free of charge, to any person or organization obtaining a copy
//   of the software and accompanying documentation covered by this license (the "Software") to
//   use, reproduce, display, distribute, execute, and transmit the Software, and to prepare
//   derivative works of the Software, and to permit third-parties to whom the Software is
//   furnished to do so, all subject to the following:
//
//   The copyright notices in the Software and this entire statement, including the above license
//   grant, this restriction and the following disclaimer, must be included in all copies of the
//   Software, in whole or in part, and all derivative works of the Software, unless such copies
//   or derivative works are solely in the form of machine-executable object code generated by a
//   source language processor.
//
//   THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED,
//   INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR
//   PURPOSE, TITLE AND NON-INFRINGEMENT. IN NO EVENT SHALL THE COPYRIGHT HOLDERS OR ANYONE
//   DISTRIBUTING THE SOFTWARE BE LIABLE FOR ANY DAMAGES OR OTHER LIABILITY, WHETHER IN CONTRACT,
//   TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR
//   OTHER DEALINGS IN THE SOFTWARE.
#ifndef XENT_SLEEF_EXP_INLINE_H
#define XENT_SLEEF_EXP_INLINE_H
#include <math.h>

// 1/log 2, rounded to float by the compiler as SLEEF writes it.
#define XENT_LOG2E 1.442695040888963407359924681001892137426645954152985934135449406931f

#if defined(__x86_64__)
#include <immintrin.h>

/// exp(x) lane by lane, equal to Sleef_expf16_u10avx512f(x) bit for bit (1-ULP).
__attribute__((target("avx512f"), always_inline)) static inline __m512 xent_expf16_u10(__m512 x) {
    // SLEEF's upper limit: exp(min(100, x)) is +inf wherever x > 100 (NaN passes through).
    const __m512 d = _mm512_min_ps(_mm512_set1_ps(100.0f), x);
    // q = rint(d / log 2), s = d − q·log 2 in two parts (L2U exact in float, L2L the rest).
    const __m512 q = _mm512_roundscale_ps(_mm512_mul_ps(d, _mm512_set1_ps(XENT_LOG2E)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 s = _mm512_fmadd_ps(q, _mm512_set1_ps(-0.693145751953125f), d);
    s = _mm512_fmadd_ps(q, _mm512_set1_ps(-1.428606765330187045e-06f), s);
    // exp(s) − 1 − s = s²·P(s), P of degree 5 (SLEEF's coefficients), by Horner's rule.
    __m512 u = _mm512_set1_ps(0.000198527617612853646278381f);
    u = _mm512_fmadd_ps(u, s, _mm512_set1_ps(0.00139304355252534151077271f));
    u = _mm512_fmadd_ps(u, s, _mm512_set1_ps(0.00833336077630519866943359f));
    u = _mm512_fmadd_ps(u, s, _mm512_set1_ps(0.0416664853692054748535156f));
    u = _mm512_fmadd_ps(u, s, _mm512_set1_ps(0.166666671633720397949219f));
    u = _mm512_fmadd_ps(u, s, _mm512_set1_ps(0.5f));
    u = _mm512_add_ps(_mm512_set1_ps(1.0f), _mm512_fmadd_ps(_mm512_mul_ps(s, s), u, s));
    // u·2^q, 0 where x < −104 (SLEEF's lower limit; NaN kept: the comparison is unordered-true).
    return _mm512_maskz_scalef_ps(_mm512_cmp_ps_mask(x, _mm512_set1_ps(-104.0f), _CMP_NLT_US), u, q);
}

/// SLEEF's exp of the reduced argument, exp(s) for s = d − q·log 2 (in two parts: L2U exact in
/// float, L2L the rest): 1 + s + s²·P(s), P of degree 5 (SLEEF's coefficients) by Horner's rule.
__attribute__((target("avx2,fma"), always_inline)) static inline __m256 xent_expf8_u10_reduced(__m256 d, __m256 qf) {
    __m256 s = _mm256_fmadd_ps(qf, _mm256_set1_ps(-0.693145751953125f), d);
    s = _mm256_fmadd_ps(qf, _mm256_set1_ps(-1.428606765330187045e-06f), s);
    __m256 u = _mm256_set1_ps(0.000198527617612853646278381f);
    u = _mm256_fmadd_ps(u, s, _mm256_set1_ps(0.00139304355252534151077271f));
    u = _mm256_fmadd_ps(u, s, _mm256_set1_ps(0.00833336077630519866943359f));
    u = _mm256_fmadd_ps(u, s, _mm256_set1_ps(0.0416664853692054748535156f));
    u = _mm256_fmadd_ps(u, s, _mm256_set1_ps(0.166666671633720397949219f));
    u = _mm256_fmadd_ps(u, s, _mm256_set1_ps(0.5f));
    u = _mm256_add_ps(_mm256_set1_ps(1.0f), _mm256_fmadd_ps(_mm256_mul_ps(s, s), u, s));
    return u;
}

/// exp(x) lane by lane, equal to Sleef_expf8_u10avx2(x) bit for bit (1-ULP): SLEEF's operations but
/// for the limits.
__attribute__((target("avx2,fma"), always_inline)) static inline __m256 xent_expf8_u10(__m256 x) {
    // SLEEF's upper limit: exp(min(100, x)) is +inf wherever x > 100 (NaN passes through).
    const __m256 d = _mm256_min_ps(_mm256_set1_ps(100.0f), x);
    const __m256i q = _mm256_cvtps_epi32(_mm256_mul_ps(d, _mm256_set1_ps(XENT_LOG2E)));
    const __m256 qf = _mm256_cvtepi32_ps(q);
    __m256 u = xent_expf8_u10_reduced(d, qf);
    // u·2^(q>>1)·2^(q−(q>>1)): each factor a normal power of two built in the exponent field.
    const __m256i half = _mm256_srai_epi32(q, 1);
    const __m256i one = _mm256_set1_epi32(0x3f800000);
    u = _mm256_mul_ps(u, _mm256_castsi256_ps(_mm256_add_epi32(_mm256_slli_epi32(half, 23), one)));
    u = _mm256_mul_ps(u, _mm256_castsi256_ps(_mm256_add_epi32(_mm256_slli_epi32(_mm256_sub_epi32(q, half), 23), one)));
    return _mm256_andnot_ps(_mm256_cmp_ps(x, _mm256_set1_ps(-104.0f), _CMP_LT_OS), u);  // 0 below −104
}

/// All ones in the lanes of x outside xent_expf8_u10_short's range (|x| ≥ 86, or NaN), else 0.
__attribute__((target("avx2,fma"), always_inline)) static inline __m256 xent_expf8_u10_outside_short_range(__m256 x) {
    return _mm256_cmp_ps(_mm256_andnot_ps(_mm256_set1_ps(-0.0f), x), _mm256_set1_ps(86.0f), _CMP_NLT_UQ);
}

/// All ones in the lanes of x below −104, where SLEEF's exp is +0 (its lower limit; −inf, a masked
/// class, among them), else 0 (NaN included): there xent_expf8_u10_short's result, zeroed, is
/// xent_expf8_u10's.
__attribute__((target("avx2,fma"), always_inline)) static inline __m256 xent_expf8_u10_below_lower_limit(__m256 x) {
    return _mm256_cmp_ps(x, _mm256_set1_ps(-104.0f), _CMP_LT_OS);
}

/// xent_expf8_u10(x) for lanes with |x| < 86: SLEEF's arithmetic without the limits, q rounded by
/// vroundps, and 2^q added to the exponent field. Elsewhere a lane's result is meaningless (no
/// other lane's is touched): the callers zero the lanes below −104 and send any other to the full
/// form.
__attribute__((target("avx2,fma"), always_inline)) static inline __m256 xent_expf8_u10_short(__m256 x) {
    // In MXCSR's rounding mode, as cvtps2dq rounds in the full form.
    const __m256 qf = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(XENT_LOG2E)),
                                      _MM_FROUND_CUR_DIRECTION | _MM_FROUND_NO_EXC);
    const __m256i q = _mm256_cvttps_epi32(qf);
    const __m256 u = xent_expf8_u10_reduced(x, qf);
    return _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(u), _mm256_slli_epi32(q, 23)));
}

#elif defined(__aarch64__)
#include <arm_neon.h>

/// 2^q for q in the normal exponents' range: (q + 127) in the exponent field (SLEEF's vpow2i).
__attribute__((always_inline)) static inline float32x4_t xent_pow2i4(int32x4_t q) {
    return vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(q, vdupq_n_s32(0x7f)), 23));
}

/// exp(x) lane by lane, equal to Sleef_expf4_u10advsimd(x) bit for bit (1-ULP): SLEEF's xexpf.
__attribute__((always_inline)) static inline float32x4_t xent_expf4_u10(float32x4_t d) {
    const int32x4_t q = vcvtq_s32_f32(vrndnq_f32(vmulq_f32(d, vdupq_n_f32(XENT_LOG2E))));
    const float32x4_t qf = vcvtq_f32_s32(q);
    float32x4_t s = vfmaq_f32(d, qf, vdupq_n_f32(-0.693145751953125f));
    s = vfmaq_f32(s, qf, vdupq_n_f32(-1.428606765330187045e-06f));
    float32x4_t u = vdupq_n_f32(0.000198527617612853646278381f);
    u = vfmaq_f32(vdupq_n_f32(0.00139304355252534151077271f), u, s);
    u = vfmaq_f32(vdupq_n_f32(0.00833336077630519866943359f), u, s);
    u = vfmaq_f32(vdupq_n_f32(0.0416664853692054748535156f), u, s);
    u = vfmaq_f32(vdupq_n_f32(0.166666671633720397949219f), u, s);
    u = vfmaq_f32(vdupq_n_f32(0.5f), u, s);
    u = vaddq_f32(vdupq_n_f32(1.0f), vfmaq_f32(s, vmulq_f32(s, s), u));
    // u·2^(q>>1)·2^(q−(q>>1)): the first product exact, the second the one rounding.
    const int32x4_t half = vshrq_n_s32(q, 1);
    u = vmulq_f32(vmulq_f32(u, xent_pow2i4(half)), xent_pow2i4(vsubq_s32(q, half)));
    // 0 below −104, +inf above 100 (NaN kept: both compares are false).
    u = vreinterpretq_f32_u32(vbicq_u32(vreinterpretq_u32_f32(u), vcltq_f32(d, vdupq_n_f32(-104.0f))));
    return vbslq_f32(vcltq_f32(vdupq_n_f32(100.0f), d), vdupq_n_f32(INFINITY), u);
}

#endif
#endif
