// The AVX-512F operations of xent_f32x16.h's contract: a 16-lane vector is one zmm register. SLEEF's
// u10 exp and tanh inlined (xent_sleef_exp_inline.h, xent_sleef_tanh_inline.h: the results of
// Sleef_expf16_u10avx512f and Sleef_tanhf16_u10avx512f, bit for bit), so no loop makes a call per
// vector. Included by xent_ukernels__avx512f.c and xent_ukernels__avx512bf16.c, after they define
// XENT_TARGET (and the latter XENT_ROUND_BF16_AVX512BF16).
#ifndef XENT_F32X16_AVX512F_H
#define XENT_F32X16_AVX512F_H
#include <immintrin.h>
#include <math.h>
#include <stdint.h>

#include "xent_sleef_exp_inline.h"
#include "xent_sleef_tanh_inline.h"
#include "xent_sleef_trampolines.h"

#define XENT_REGISTER_BYTES 64
#define XENT_OP XENT_TARGET __attribute__((always_inline)) static inline

typedef __m512 xent_f32x16;
typedef __m512d xent_f64x8;

XENT_OP __mmask16 xent_tail_mask(size_t n) { return (__mmask16)((1u << n) - 1u); }
XENT_OP xent_f32x16 xent_f32x16_set1(float s) { return _mm512_set1_ps(s); }
XENT_OP xent_f32x16 xent_f32x16_load(const float *p) { return _mm512_loadu_ps(p); }
XENT_OP void xent_f32x16_store(float *p, xent_f32x16 v) { _mm512_storeu_ps(p, v); }
XENT_OP xent_f32x16 xent_f32x16_load_tail(const float *p, size_t n, float fill) {
    return _mm512_mask_loadu_ps(_mm512_set1_ps(fill), xent_tail_mask(n), p);
}
XENT_OP void xent_f32x16_store_tail(float *p, size_t n, xent_f32x16 v) {
    _mm512_mask_storeu_ps(p, xent_tail_mask(n), v);
}
XENT_OP xent_f32x16 xent_f32x16_add(xent_f32x16 a, xent_f32x16 b) { return _mm512_add_ps(a, b); }
XENT_OP xent_f32x16 xent_f32x16_sub(xent_f32x16 a, xent_f32x16 b) { return _mm512_sub_ps(a, b); }
XENT_OP xent_f32x16 xent_f32x16_mul(xent_f32x16 a, xent_f32x16 b) { return _mm512_mul_ps(a, b); }
XENT_OP xent_f32x16 xent_f32x16_div(xent_f32x16 a, xent_f32x16 b) { return _mm512_div_ps(a, b); }
// maxps returns its second operand when either is NaN, so a NaN logit never becomes the max.
XENT_OP xent_f32x16 xent_f32x16_max(xent_f32x16 v, xent_f32x16 acc) { return _mm512_max_ps(v, acc); }
XENT_OP float xent_f32x16_reduce_max(xent_f32x16 v) { return _mm512_reduce_max_ps(v); }
XENT_OP uint32_t xent_f32x16_eq_lanes(xent_f32x16 a, xent_f32x16 b) {
    return _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ);
}
XENT_OP xent_f32x16 xent_f32x16_exp(xent_f32x16 x) { return xent_expf16_u10(x); }
XENT_OP void xent_f32x16_exp_pair(xent_f32x16 a, xent_f32x16 b, xent_f32x16 *ea, xent_f32x16 *eb) {
    *ea = xent_expf16_u10(a);
    *eb = xent_expf16_u10(b);
}
XENT_OP xent_f32x16 xent_f32x16_keep_nonzero(xent_f32x16 q, xent_f32x16 v) {
    return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(q, _mm512_setzero_ps(), _CMP_NEQ_UQ), v);
}
XENT_OP xent_f32x16 xent_f32x16_keep_unmasked(xent_f32x16 x, xent_f32x16 v) {
    return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(x, _mm512_set1_ps(-INFINITY), _CMP_NEQ_UQ), v);
}
XENT_OP xent_f32x16 xent_f32x16_keep_unmasked_or(xent_f32x16 x, xent_f32x16 v, xent_f32x16 fill) {
    return _mm512_mask_mov_ps(fill, _mm512_cmp_ps_mask(x, _mm512_set1_ps(-INFINITY), _CMP_NEQ_UQ), v);
}
XENT_OP xent_f32x16 xent_f32x16_mark_masked(xent_f32x16 x, xent_f32x16 e) {
    return _mm512_mask_mov_ps(e, _mm512_cmp_ps_mask(x, _mm512_set1_ps(-INFINITY), _CMP_EQ_OQ), _mm512_set1_ps(-0.0f));
}
XENT_OP xent_f32x16 xent_f32x16_keep_unmarked(xent_f32x16 e, xent_f32x16 v) {
    const __mmask16 marked = _mm512_cmpeq_epi32_mask(_mm512_castps_si512(e), _mm512_set1_epi32((int)0x80000000u));
    return _mm512_maskz_mov_ps((__mmask16)~marked, v);
}
// Four vectors' tanh chains at once: the most this width gains from (the Performance article).
#define XENT_TANH_VECTORS 4
_Static_assert(XENT_TANH_VECTORS <= XENT_TANH_MAX_VECTORS, "the inlined tanh's arrays hold XENT_TANH_MAX_VECTORS");
XENT_OP void xent_f32x16_tanh(xent_f32x16 *v, size_t n) { xent_tanhf16_tanh(v, n); }

XENT_OP xent_f64x8 xent_f64x8_zero(void) { return _mm512_setzero_pd(); }
XENT_OP xent_f64x8 xent_f64x8_set1(double d) { return _mm512_set1_pd(d); }
XENT_OP xent_f64x8 xent_f64x8_lo(xent_f32x16 v) { return _mm512_cvtps_pd(_mm512_castps512_ps256(v)); }
XENT_OP xent_f64x8 xent_f64x8_hi(xent_f32x16 v) {
    return _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
}
XENT_OP xent_f64x8 xent_f64x8_add(xent_f64x8 a, xent_f64x8 b) { return _mm512_add_pd(a, b); }
XENT_OP xent_f64x8 xent_f64x8_sub(xent_f64x8 a, xent_f64x8 b) { return _mm512_sub_pd(a, b); }
XENT_OP xent_f64x8 xent_f64x8_mul(xent_f64x8 a, xent_f64x8 b) { return _mm512_mul_pd(a, b); }
XENT_OP xent_f64x8 xent_f64x8_fma(xent_f64x8 a, xent_f64x8 b, xent_f64x8 c) { return _mm512_fmadd_pd(a, b, c); }
XENT_OP double xent_f64x8_reduce(xent_f64x8 v) {
    const __m256d t = _mm256_add_pd(_mm512_castpd512_pd256(v), _mm512_extractf64x4_pd(v, 1));
    const __m128d u = _mm_add_pd(_mm256_castpd256_pd128(t), _mm256_extractf128_pd(t, 1));
    return _mm_cvtsd_f64(_mm_add_sd(u, _mm_unpackhi_pd(u, u)));
}
// PREFETCHW: every AVX-512 CPU has it.
#define XENT_PREFETCH(p) XENT_PREFETCH_HINT((p), 0)
#define XENT_PREFETCHW(p) XENT_PREFETCH_HINT((p), 1)
#define XENT_EXP_LIBRARY(x, y, n) xent_sleef_expf16_u10__avx512f((x), (y), (n) / 16)
#define XENT_TANH_LIBRARY(x, y, n) xent_sleef_tanhf16_u10__avx512f((x), (y), (n) / 16)

// 16-bit lanes: binary16 through vcvtph2ps/vcvtps2ph (AVX-512F); bfloat16 rounded in integer
// arithmetic, packed with vpmovdw, or where the includer asks for it with AVX512_BF16 (below).
#define XENT_HALF_LANES 1
typedef __m256i xent_u16x16;
XENT_OP xent_u16x16 xent_u16x16_load(const uint16_t *p) { return _mm256_loadu_si256((const __m256i *)p); }
XENT_OP void xent_u16x16_store(uint16_t *p, xent_u16x16 h) { _mm256_storeu_si256((__m256i *)p, h); }
// n / 2 whole 32-bit pairs by a masked load, an odd last element into the next pair's low half:
// no 16-bit masked load without AVX512BW.
XENT_OP xent_u16x16 xent_u16x16_load_tail(const uint16_t *p, size_t n, uint16_t fill) {
    const size_t pairs = n / 2;
    __m512i v = _mm512_mask_loadu_epi32(_mm512_set1_epi32((int)(fill * 0x10001u)), xent_tail_mask(pairs), p);
    if (n & 1) v = _mm512_mask_set1_epi32(v, (__mmask16)(1u << pairs), (int)((uint32_t)fill << 16 | p[n - 1]));
    return _mm512_castsi512_si256(v);
}
// vpmovdw's masked store writes 16-bit elements, AVX-512F alone.
XENT_OP void xent_u16x16_store_tail(uint16_t *p, size_t n, xent_u16x16 h) {
    _mm512_mask_cvtepi32_storeu_epi16(p, xent_tail_mask(n), _mm512_cvtepu16_epi32(h));
}
// Lane-wise on the 16-bit patterns: the signed maximum, the unsigned minimum (AVX2's, on 16 lanes).
XENT_OP xent_u16x16 xent_u16x16_set1(uint16_t h) { return _mm256_set1_epi16((short)h); }
XENT_OP xent_u16x16 xent_u16x16_max_i16(xent_u16x16 a, xent_u16x16 b) { return _mm256_max_epi16(a, b); }
XENT_OP xent_u16x16 xent_u16x16_min_u16(xent_u16x16 a, xent_u16x16 b) { return _mm256_min_epu16(a, b); }
XENT_OP xent_u16x16 xent_u16x16_and(xent_u16x16 a, xent_u16x16 b) { return _mm256_and_si256(a, b); }
// On 32-bit lanes, into a mask register: no 16-bit compare into one without AVX512BW.
XENT_OP uint32_t xent_u16x16_eq_lanes(xent_u16x16 a, xent_u16x16 b) {
    return _mm512_cmpeq_epi32_mask(_mm512_cvtepu16_epi32(a), _mm512_cvtepu16_epi32(b));
}
XENT_OP xent_f32x16 xent_f32x16_widen_f16(xent_u16x16 h) { return _mm512_cvtph_ps(h); }
XENT_OP xent_f32x16 xent_f32x16_sub_lane(xent_f32x16 v, size_t k, float x) {
    return _mm512_mask_sub_ps(v, (__mmask16)(1u << k), v, _mm512_set1_ps(x));
}
XENT_OP xent_f32x16 xent_f32x16_widen_bf16(xent_u16x16 h) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}
XENT_OP xent_u16x16 xent_f32x16_round_f16(xent_f32x16 v) {
    return _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}
// Half an ulp of the kept part, ties to even; a NaN keeps its top bits and is made quiet.
XENT_OP xent_u16x16 xent_f32x16_round_bf16_integer(xent_f32x16 v) {
    const __m512i u = _mm512_castps_si512(v), top = _mm512_srli_epi32(u, 16);
    const __m512i odd = _mm512_and_si512(top, _mm512_set1_epi32(1));
    const __m512i half_ulp = _mm512_add_epi32(_mm512_set1_epi32(0x7fff), odd);
    const __m512i rounded = _mm512_srli_epi32(_mm512_add_epi32(u, half_ulp), 16);
    const __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(u, _mm512_set1_epi32(0x7fffffff)),
                                                  _mm512_set1_epi32(0x7f800000));
    return _mm512_cvtepi32_epi16(_mm512_mask_mov_epi32(rounded, nan, _mm512_or_si512(top, _mm512_set1_epi32(0x0040))));
}

#if defined(XENT_ROUND_BF16_AVX512BF16)
// AVX512_BF16's vcvtneps2bf16 rounds as the code above does (NaNs included) but reads a subnormal
// float as zero: a vector holding one (a value below 2⁻¹²⁶, rare in a gradient) takes the integer
// rounding. The same bits on all 2³² floats (BFloat16RoundingTests, exhaustive in CI).
XENT_OP xent_u16x16 xent_f32x16_round_bf16(xent_f32x16 v) {
    if (__builtin_expect(_mm512_fpclass_ps_mask(v, 0x20) != 0, 0)) {  // 0x20: subnormal (AVX512DQ)
        return xent_f32x16_round_bf16_integer(v);
    }
    return (__m256i)_mm512_cvtneps_pbh(v);
}

// Two vectors' rounding in one vcvtne2ps2bf16 and one 64-byte store (faster than two
// vcvtneps2bf16: Reports/2026-12-06_bf16-pair-rounding.txt); a pair holding a subnormal takes the
// integer rounding, as above.
#define XENT_ROUND_BF16_PAIR
XENT_OP void xent_f32x16_round_bf16_store_pair(uint16_t *p, xent_f32x16 lo, xent_f32x16 hi) {
    if (__builtin_expect((_mm512_fpclass_ps_mask(lo, 0x20) | _mm512_fpclass_ps_mask(hi, 0x20)) != 0, 0)) {
        xent_u16x16_store(p, xent_f32x16_round_bf16_integer(lo));
        xent_u16x16_store(p + 16, xent_f32x16_round_bf16_integer(hi));
        return;
    }
    _mm512_storeu_si512(p, (__m512i)_mm512_cvtne2ps_pbh(hi, lo));
}
#else
XENT_OP xent_u16x16 xent_f32x16_round_bf16(xent_f32x16 v) { return xent_f32x16_round_bf16_integer(v); }
#endif
#endif
