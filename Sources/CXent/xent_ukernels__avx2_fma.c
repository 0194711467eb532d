// AVX2 + FMA: a 16-lane vector is two ymm registers (lanes 0–7 and 8–15), so the sums run in the
// same order as on AVX-512F. SLEEF's u10 exp inlined (xent_sleef_exp_inline.h: Sleef_expf8_u10avx2's
// operations, or a shorter exact form where every input is within ±86 or below −104, and its results
// bit for bit — and Sleef_expf16_u10avx512f's, every 2³² input), and its u10 tanh
// (xent_sleef_tanh_inline.h: Sleef_tanhf8_u10avx2's operations, and Sleef_tanhf16_u10avx512f's
// results).
// Before the operations below: clang would otherwise fuse a·b + c where the target has FMA.
#pragma clang fp contract(off)
#include <math.h>
#include <stdint.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>

#include "xent_sleef_exp_inline.h"
#include "xent_sleef_tanh_inline.h"
#include "xent_sleef_trampolines.h"

#define XENT_ISA_SUFFIX avx2_fma
#define XENT_REGISTER_BYTES 32
#define XENT_TARGET __attribute__((target("avx2,fma,f16c,prfchw")))
#define XENT_OP XENT_TARGET __attribute__((always_inline)) static inline

typedef struct { __m256 lo, hi; } xent_f32x16;
typedef struct { __m256d lo, hi; } xent_f64x8;

// Lanes i < n of a ymm register: vmaskmovps loads 0 where the mask is clear, without touching that
// memory.
XENT_OP __m256 xent_load8_tail(const float *p, size_t n, float fill) {
    const __m256i lanes = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    return _mm256_blendv_ps(_mm256_set1_ps(fill), _mm256_maskload_ps(p, lanes), _mm256_castsi256_ps(lanes));
}
XENT_OP xent_f32x16 xent_f32x16_set1(float s) { return (xent_f32x16){_mm256_set1_ps(s), _mm256_set1_ps(s)}; }
XENT_OP xent_f32x16 xent_f32x16_load(const float *p) {
    return (xent_f32x16){_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8)};
}
XENT_OP void xent_f32x16_store(float *p, xent_f32x16 v) {
    _mm256_storeu_ps(p, v.lo);
    _mm256_storeu_ps(p + 8, v.hi);
}
XENT_OP xent_f32x16 xent_f32x16_load_tail(const float *p, size_t n, float fill) {
    if (n > 8) return (xent_f32x16){_mm256_loadu_ps(p), xent_load8_tail(p + 8, n - 8, fill)};
    if (n == 8) return (xent_f32x16){_mm256_loadu_ps(p), _mm256_set1_ps(fill)};
    return (xent_f32x16){xent_load8_tail(p, n, fill), _mm256_set1_ps(fill)};
}
// vmaskmovps's store is slow on some CPUs: the lanes (n in 1…15) go out in pieces of 8, 4, 2 and 1,
// each one store from a register.
XENT_OP void xent_f32x16_store_tail(float *p, size_t n, xent_f32x16 v) {
    __m256 rest = v.lo;
    if (n >= 8) {
        _mm256_storeu_ps(p, v.lo);
        p += 8, n -= 8, rest = v.hi;
    }
    __m128 part = _mm256_castps256_ps128(rest);
    if (n & 4) {
        _mm_storeu_ps(p, part);
        p += 4, part = _mm256_extractf128_ps(rest, 1);
    }
    if (n & 2) {
        _mm_storeu_si64(p, _mm_castps_si128(part));
        p += 2, part = _mm_movehl_ps(part, part);
    }
    if (n & 1) _mm_store_ss(p, part);
}
#define XENT_LANEWISE(name, op)                                              \
    XENT_OP xent_f32x16 name(xent_f32x16 a, xent_f32x16 b) {                 \
        return (xent_f32x16){op(a.lo, b.lo), op(a.hi, b.hi)};                 \
    }
XENT_LANEWISE(xent_f32x16_add, _mm256_add_ps)
XENT_LANEWISE(xent_f32x16_sub, _mm256_sub_ps)
XENT_LANEWISE(xent_f32x16_mul, _mm256_mul_ps)
XENT_LANEWISE(xent_f32x16_div, _mm256_div_ps)
// maxps returns its second operand when either is NaN, so a NaN logit never becomes the max.
XENT_LANEWISE(xent_f32x16_max, _mm256_max_ps)
XENT_OP uint32_t xent_f32x16_eq_lanes(xent_f32x16 a, xent_f32x16 b) {
    return (uint32_t)_mm256_movemask_ps(_mm256_cmp_ps(a.lo, b.lo, _CMP_EQ_OQ))
        | (uint32_t)_mm256_movemask_ps(_mm256_cmp_ps(a.hi, b.hi, _CMP_EQ_OQ)) << 8;
}
XENT_OP float xent_f32x16_reduce_max(xent_f32x16 v) {
    const __m256 m8 = _mm256_max_ps(v.lo, v.hi);
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(m8), _mm256_extractf128_ps(m8, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
    return _mm_cvtss_f32(m);
}
// The short form when every lane is in its range: one test and one branch per 16 lanes, or per 32
// for a pair (the exp pass's two vectors per iteration), which keeps the branches and the code
// around them fewer. Else a second test: the short form with the lanes below −104 zeroed when
// those are the only ones outside (masked classes, −inf; a row's last vector, padded with −inf),
// SLEEF's full form when any other is.
// Nonzero in some lane if any of the 16 lanes is outside the short form's range.
XENT_OP __m256 xent_f32x16_outside_short_range(xent_f32x16 x) {
    return _mm256_or_ps(xent_expf8_u10_outside_short_range(x.lo), xent_expf8_u10_outside_short_range(x.hi));
}
XENT_OP xent_f32x16 xent_f32x16_exp_short(xent_f32x16 x) {
    return (xent_f32x16){xent_expf8_u10_short(x.lo), xent_expf8_u10_short(x.hi)};
}
XENT_OP xent_f32x16 xent_f32x16_exp_full(xent_f32x16 x) {
    return (xent_f32x16){xent_expf8_u10(x.lo), xent_expf8_u10(x.hi)};
}
// Nonzero in some lane if any of the 16 lanes is outside the short range and not below −104.
XENT_OP __m256 xent_f32x16_needs_full_form(xent_f32x16 x) {
    return _mm256_or_ps(
        _mm256_andnot_ps(xent_expf8_u10_below_lower_limit(x.lo), xent_expf8_u10_outside_short_range(x.lo)),
        _mm256_andnot_ps(xent_expf8_u10_below_lower_limit(x.hi), xent_expf8_u10_outside_short_range(x.hi)));
}
XENT_OP xent_f32x16 xent_f32x16_exp_short_lower_limit(xent_f32x16 x) {
    return (xent_f32x16){_mm256_andnot_ps(xent_expf8_u10_below_lower_limit(x.lo), xent_expf8_u10_short(x.lo)),
                         _mm256_andnot_ps(xent_expf8_u10_below_lower_limit(x.hi), xent_expf8_u10_short(x.hi))};
}
XENT_OP xent_f32x16 xent_f32x16_exp(xent_f32x16 x) {
    const __m256 outside = xent_f32x16_outside_short_range(x);
    if (__builtin_expect(_mm256_testz_ps(outside, outside), 1)) return xent_f32x16_exp_short(x);
    const __m256 full = xent_f32x16_needs_full_form(x);
    return _mm256_testz_ps(full, full) ? xent_f32x16_exp_short_lower_limit(x) : xent_f32x16_exp_full(x);
}
XENT_OP void xent_f32x16_exp_pair(xent_f32x16 a, xent_f32x16 b, xent_f32x16 *ea, xent_f32x16 *eb) {
    const __m256 outside = _mm256_or_ps(xent_f32x16_outside_short_range(a), xent_f32x16_outside_short_range(b));
    if (__builtin_expect(_mm256_testz_ps(outside, outside), 1)) {
        *ea = xent_f32x16_exp_short(a);
        *eb = xent_f32x16_exp_short(b);
        return;
    }
    const __m256 full = _mm256_or_ps(xent_f32x16_needs_full_form(a), xent_f32x16_needs_full_form(b));
    if (_mm256_testz_ps(full, full)) {
        *ea = xent_f32x16_exp_short_lower_limit(a);
        *eb = xent_f32x16_exp_short_lower_limit(b);
    } else {
        *ea = xent_f32x16_exp_full(a);
        *eb = xent_f32x16_exp_full(b);
    }
}
XENT_OP __m256 xent_keep_nonzero8(__m256 q, __m256 v) {
    return _mm256_and_ps(_mm256_cmp_ps(q, _mm256_setzero_ps(), _CMP_NEQ_UQ), v);
}
XENT_OP __m256 xent_keep_unmasked8(__m256 x, __m256 v) {
    return _mm256_andnot_ps(_mm256_cmp_ps(x, _mm256_set1_ps(-INFINITY), _CMP_EQ_OQ), v);
}
XENT_OP __m256 xent_keep_unmasked_or8(__m256 x, __m256 v, __m256 fill) {
    return _mm256_blendv_ps(v, fill, _mm256_cmp_ps(x, _mm256_set1_ps(-INFINITY), _CMP_EQ_OQ));
}
XENT_OP __m256 xent_mark_masked8(__m256 x, __m256 e) {
    return _mm256_blendv_ps(e, _mm256_set1_ps(-0.0f), _mm256_cmp_ps(x, _mm256_set1_ps(-INFINITY), _CMP_EQ_OQ));
}
XENT_OP __m256 xent_keep_unmarked8(__m256 e, __m256 v) {
    const __m256i marked = _mm256_cmpeq_epi32(_mm256_castps_si256(e), _mm256_set1_epi32((int)0x80000000u));
    return _mm256_andnot_ps(_mm256_castsi256_ps(marked), v);
}
XENT_LANEWISE(xent_f32x16_keep_nonzero, xent_keep_nonzero8)
XENT_LANEWISE(xent_f32x16_keep_unmasked, xent_keep_unmasked8)
XENT_LANEWISE(xent_f32x16_mark_masked, xent_mark_masked8)
XENT_OP xent_f32x16 xent_f32x16_keep_unmasked_or(xent_f32x16 x, xent_f32x16 v, xent_f32x16 fill) {
    return (xent_f32x16){xent_keep_unmasked_or8(x.lo, v.lo, fill.lo), xent_keep_unmasked_or8(x.hi, v.hi, fill.hi)};
}
XENT_LANEWISE(xent_f32x16_keep_unmarked, xent_keep_unmarked8)
// One vector (two ymm chains) at a time: with two vectors the sixteen ymm registers spill.
#define XENT_TANH_VECTORS 1
_Static_assert(XENT_TANH_VECTORS == 1, "xent_f32x16_tanh below takes one vector");
XENT_OP void xent_f32x16_tanh(xent_f32x16 *v, size_t n) {
    (void)n;  // 1, XENT_TANH_VECTORS
    __m256 halves[2] = {v->lo, v->hi};
    xent_tanhf8_tanh(halves, 2);
    *v = (xent_f32x16){halves[0], halves[1]};
}

XENT_OP xent_f64x8 xent_f64x8_zero(void) { return (xent_f64x8){_mm256_setzero_pd(), _mm256_setzero_pd()}; }
XENT_OP xent_f64x8 xent_f64x8_set1(double d) { return (xent_f64x8){_mm256_set1_pd(d), _mm256_set1_pd(d)}; }
XENT_OP xent_f64x8 xent_f64x8_lo(xent_f32x16 v) {
    return (xent_f64x8){_mm256_cvtps_pd(_mm256_castps256_ps128(v.lo)), _mm256_cvtps_pd(_mm256_extractf128_ps(v.lo, 1))};
}
XENT_OP xent_f64x8 xent_f64x8_hi(xent_f32x16 v) {
    return (xent_f64x8){_mm256_cvtps_pd(_mm256_castps256_ps128(v.hi)), _mm256_cvtps_pd(_mm256_extractf128_ps(v.hi, 1))};
}
XENT_OP xent_f64x8 xent_f64x8_add(xent_f64x8 a, xent_f64x8 b) {
    return (xent_f64x8){_mm256_add_pd(a.lo, b.lo), _mm256_add_pd(a.hi, b.hi)};
}
XENT_OP xent_f64x8 xent_f64x8_sub(xent_f64x8 a, xent_f64x8 b) {
    return (xent_f64x8){_mm256_sub_pd(a.lo, b.lo), _mm256_sub_pd(a.hi, b.hi)};
}
XENT_OP xent_f64x8 xent_f64x8_mul(xent_f64x8 a, xent_f64x8 b) {
    return (xent_f64x8){_mm256_mul_pd(a.lo, b.lo), _mm256_mul_pd(a.hi, b.hi)};
}
XENT_OP xent_f64x8 xent_f64x8_fma(xent_f64x8 a, xent_f64x8 b, xent_f64x8 c) {
    return (xent_f64x8){_mm256_fmadd_pd(a.lo, b.lo, c.lo), _mm256_fmadd_pd(a.hi, b.hi, c.hi)};
}
XENT_OP double xent_f64x8_reduce(xent_f64x8 v) {
    const __m256d t = _mm256_add_pd(v.lo, v.hi);
    const __m128d u = _mm_add_pd(_mm256_castpd256_pd128(t), _mm256_extractf128_pd(t, 1));
    return _mm_cvtsd_f64(_mm_add_sd(u, _mm_unpackhi_pd(u, u)));
}
// PREFETCHW is a NOP on the few AVX2 CPUs without it.
#define XENT_PREFETCH(p) XENT_PREFETCH_HINT((p), 0)
#define XENT_PREFETCHW(p) XENT_PREFETCH_HINT((p), 1)
#define XENT_EXP_LIBRARY(x, y, n) xent_sleef_expf8_u10__avx2((x), (y), (n) / 8)
#define XENT_TANH_LIBRARY(x, y, n) xent_sleef_tanhf8_u10__avx2((x), (y), (n) / 8)

// 16-bit lanes (this config's CPUs have F16C): binary16 through vcvtph2ps/vcvtps2ph, bfloat16 in
// integer arithmetic, packed with vpackusdw (whose 128-bit halves vpermq puts back in order).
#define XENT_HALF_LANES 1
typedef __m256i xent_u16x16;
XENT_OP xent_u16x16 xent_u16x16_load(const uint16_t *p) { return _mm256_loadu_si256((const __m256i *)p); }
XENT_OP void xent_u16x16_store(uint16_t *p, xent_u16x16 h) { _mm256_storeu_si256((__m256i *)p, h); }
// n / 2 whole 32-bit pairs by vpmaskmovd (which loads 0 where the mask is clear, without touching
// that memory), an odd last element into the next pair's low half.
XENT_OP xent_u16x16 xent_u16x16_load_tail(const uint16_t *p, size_t n, uint16_t fill) {
    const __m256i pair = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), pairs = _mm256_set1_epi32((int)(n / 2));
    const __m256i whole = _mm256_cmpgt_epi32(pairs, pair);
    __m256i v = _mm256_blendv_epi8(_mm256_set1_epi32((int)(fill * 0x10001u)),
                                   _mm256_maskload_epi32((const int *)(const void *)p, whole), whole);
    if (n & 1) {
        v = _mm256_blendv_epi8(v, _mm256_set1_epi32((int)((uint32_t)fill << 16 | p[n - 1])),
                               _mm256_cmpeq_epi32(pairs, pair));
    }
    return v;
}
// Through the stack, then in pieces of 8, 4, 2 and 1 as xent_f32x16_store_tail (each of constant
// size, so no memcpy call).
XENT_OP void xent_u16x16_store_tail(uint16_t *p, size_t n, xent_u16x16 h) {
    uint16_t lanes[16] __attribute__((aligned(32)));
    _mm256_store_si256((__m256i *)lanes, h);
    size_t i = 0;
    if (n & 8) memcpy(p, lanes, 16), i = 8;
    if (n & 4) memcpy(p + i, lanes + i, 8), i += 4;
    if (n & 2) memcpy(p + i, lanes + i, 4), i += 2;
    if (n & 1) p[i] = lanes[i];
}
// Lane-wise on the 16-bit patterns: the signed maximum, the unsigned minimum (AVX2's, on 16 lanes).
XENT_OP xent_u16x16 xent_u16x16_set1(uint16_t h) { return _mm256_set1_epi16((short)h); }
XENT_OP xent_u16x16 xent_u16x16_max_i16(xent_u16x16 a, xent_u16x16 b) { return _mm256_max_epi16(a, b); }
XENT_OP xent_u16x16 xent_u16x16_min_u16(xent_u16x16 a, xent_u16x16 b) { return _mm256_min_epu16(a, b); }
XENT_OP xent_u16x16 xent_u16x16_and(xent_u16x16 a, xent_u16x16 b) { return _mm256_and_si256(a, b); }
// One bit a lane by a signed pack of the compare.
XENT_OP uint32_t xent_u16x16_eq_lanes(xent_u16x16 a, xent_u16x16 b) {
    const __m256i eq = _mm256_cmpeq_epi16(a, b);
    return (uint32_t)_mm_movemask_epi8(_mm_packs_epi16(_mm256_castsi256_si128(eq), _mm256_extracti128_si256(eq, 1)));
}
// Lane k's half by a lane-index compare, the subtraction kept where it matches.
XENT_OP xent_f32x16 xent_f32x16_sub_lane(xent_f32x16 v, size_t k, float x) {
    const __m256i index = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256 lo = _mm256_castsi256_ps(_mm256_cmpeq_epi32(index, _mm256_set1_epi32((int)k)));
    const __m256 hi = _mm256_castsi256_ps(_mm256_cmpeq_epi32(index, _mm256_set1_epi32((int)k - 8)));
    const __m256 vx = _mm256_set1_ps(x);
    return (xent_f32x16){_mm256_blendv_ps(v.lo, _mm256_sub_ps(v.lo, vx), lo),
                         _mm256_blendv_ps(v.hi, _mm256_sub_ps(v.hi, vx), hi)};
}
XENT_OP xent_f32x16 xent_f32x16_widen_f16(xent_u16x16 h) {
    return (xent_f32x16){_mm256_cvtph_ps(_mm256_castsi256_si128(h)), _mm256_cvtph_ps(_mm256_extracti128_si256(h, 1))};
}
// A bfloat16 is a float's top half: interleaving zeros below each value widens it, with no shift.
// vpunpck{l,h}wd interleave within 128-bit halves, so the quarters are put in order e0–3, e8–11 |
// e4–7, e12–15 first.
XENT_OP xent_f32x16 xent_f32x16_widen_bf16(xent_u16x16 h) {
    const __m256i q = _mm256_permute4x64_epi64(h, 0xd8), zero = _mm256_setzero_si256();
    return (xent_f32x16){_mm256_castsi256_ps(_mm256_unpacklo_epi16(zero, q)),
                         _mm256_castsi256_ps(_mm256_unpackhi_epi16(zero, q))};
}
// The exp pass's bfloat16 loads: zero-extended from memory and shifted, which takes no zero register
// in a loop that is short of registers (the Performance article).
#define XENT_HALF_LOAD_BF16 1
XENT_OP __m256 xent_bf16x8_load(const uint16_t *p) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p)), 16));
}
XENT_OP xent_f32x16 xent_f32x16_load_bf16(const uint16_t *p) {
    return (xent_f32x16){xent_bf16x8_load(p), xent_bf16x8_load(p + 8)};
}
XENT_OP xent_u16x16 xent_f32x16_round_f16(xent_f32x16 v) {
    return _mm256_set_m128i(_mm256_cvtps_ph(v.hi, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC),
                            _mm256_cvtps_ph(v.lo, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}
// Half an ulp of the kept part, ties to even: right for every value but NaN (whose payload the
// addition could carry into inf or the sign). The results (< 2¹⁶) in 32-bit lanes.
XENT_OP __m256i xent_bf16_round8_not_nan(__m256 v) {
    const __m256i u = _mm256_castps_si256(v);
    const __m256i odd = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
    return _mm256_srli_epi32(_mm256_add_epi32(u, _mm256_add_epi32(_mm256_set1_epi32(0x7fff), odd)), 16);
}
// As above, and a NaN keeps its top bits and is made quiet.
XENT_OP __m256i xent_bf16_round8(__m256 v) {
    const __m256i u = _mm256_castps_si256(v);
    const __m256i nan = _mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    const __m256i quiet = _mm256_or_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(0x0040));
    return _mm256_blendv_epi8(xent_bf16_round8_not_nan(v), quiet, nan);
}
XENT_OP xent_u16x16 xent_bf16_pack(__m256i lo, __m256i hi) {
    return _mm256_permute4x64_epi64(_mm256_packus_epi32(lo, hi), 0xd8);
}
// A NaN is rare (a good row's gradient is finite unless it overflows): one test per 16 lanes, and
// the blend that keeps NaN only where there is one, which makes the bfloat16 gradient pass
// markedly cheaper on AVX2 (Performance article).
XENT_OP xent_u16x16 xent_f32x16_round_bf16(xent_f32x16 v) {
    const __m256 unordered =
        _mm256_or_ps(_mm256_cmp_ps(v.lo, v.lo, _CMP_UNORD_Q), _mm256_cmp_ps(v.hi, v.hi, _CMP_UNORD_Q));
    if (__builtin_expect(!_mm256_testz_ps(unordered, unordered), 0)) {
        return xent_bf16_pack(xent_bf16_round8(v.lo), xent_bf16_round8(v.hi));
    }
    return xent_bf16_pack(xent_bf16_round8_not_nan(v.lo), xent_bf16_round8_not_nan(v.hi));
}

#define XENT_RMAXNEXT_HALF 1
#include "xent_f32x16.h"
#endif
