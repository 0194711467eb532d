// SSE2, the x86-64 baseline: a 16-lane vector is four xmm registers, and the exp is
// Sleef_expf4_u10sse2 (a 128-bit vector travels in an xmm register in the baseline ABI, so C calls
// SLEEF directly). Without FMA its exp and its fused multiply-adds differ from the canonical ISAs'
// in the last bit: this ISA is held to NUMERICS.md's bounds, not to their bits. The baseline ISA's
// kernels are otherwise Swift (SIMDKernels.swift); SSE2 keeps these C ones because the Swift kernels
// measured slower on it (the Architecture article says by how much and why).
// Before the operations below: clang would otherwise fuse a·b + c where the target has FMA.
#pragma clang fp contract(off)
#include <math.h>
#if defined(__x86_64__)
#include <emmintrin.h>
#include <sleef.h>

#define XENT_ISA_SUFFIX sse2
#define XENT_REGISTER_BYTES 16
#define XENT_TARGET
#define XENT_OP __attribute__((always_inline)) static inline

typedef struct { __m128 v[4]; } xent_f32x16;
typedef struct { __m128d v[4]; } xent_f64x8;

#define XENT_MAP1(T, expr) \
    T r;                  \
    for (int k = 0; k < 4; k++) r.v[k] = expr; \
    return r
XENT_OP xent_f32x16 xent_f32x16_set1(float s) { XENT_MAP1(xent_f32x16, _mm_set1_ps(s)); }
XENT_OP xent_f32x16 xent_f32x16_load(const float *p) { XENT_MAP1(xent_f32x16, _mm_loadu_ps(p + 4 * k)); }
XENT_OP void xent_f32x16_store(float *p, xent_f32x16 v) {
    for (int k = 0; k < 4; k++) _mm_storeu_ps(p + 4 * k, v.v[k]);
}
XENT_OP xent_f32x16 xent_f32x16_load_tail(const float *p, size_t n, float fill) {
    float lanes[16] __attribute__((aligned(16)));
    for (size_t i = 0; i < 16; i++) lanes[i] = i < n ? p[i] : fill;
    return xent_f32x16_load(lanes);
}
XENT_OP void xent_f32x16_store_tail(float *p, size_t n, xent_f32x16 v) {
    float lanes[16] __attribute__((aligned(16)));
    xent_f32x16_store(lanes, v);
    for (size_t i = 0; i < n; i++) p[i] = lanes[i];
}
#define XENT_LANEWISE(T, name, op) \
    XENT_OP T name(T a, T b) { XENT_MAP1(T, op(a.v[k], b.v[k])); }
XENT_LANEWISE(xent_f32x16, xent_f32x16_add, _mm_add_ps)
XENT_LANEWISE(xent_f32x16, xent_f32x16_sub, _mm_sub_ps)
XENT_LANEWISE(xent_f32x16, xent_f32x16_mul, _mm_mul_ps)
XENT_LANEWISE(xent_f32x16, xent_f32x16_div, _mm_div_ps)
// maxps returns its second operand when either is NaN, so a NaN logit never becomes the max.
XENT_LANEWISE(xent_f32x16, xent_f32x16_max, _mm_max_ps)
XENT_OP uint32_t xent_f32x16_eq_lanes(xent_f32x16 a, xent_f32x16 b) {
    uint32_t bits = 0;
    for (int k = 0; k < 4; k++) bits |= (uint32_t)_mm_movemask_ps(_mm_cmpeq_ps(a.v[k], b.v[k])) << (4 * k);
    return bits;
}
XENT_OP float xent_f32x16_reduce_max(xent_f32x16 v) {
    __m128 m = _mm_max_ps(_mm_max_ps(v.v[0], v.v[1]), _mm_max_ps(v.v[2], v.v[3]));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
    return _mm_cvtss_f32(m);
}
XENT_OP xent_f32x16 xent_f32x16_exp(xent_f32x16 x) { XENT_MAP1(xent_f32x16, Sleef_expf4_u10sse2(x.v[k])); }
XENT_OP void xent_f32x16_exp_pair(xent_f32x16 a, xent_f32x16 b, xent_f32x16 *ea, xent_f32x16 *eb) {
    *ea = xent_f32x16_exp(a);
    *eb = xent_f32x16_exp(b);
}
XENT_OP __m128 xent_keep_nonzero4(__m128 q, __m128 v) { return _mm_and_ps(_mm_cmpneq_ps(q, _mm_setzero_ps()), v); }
XENT_OP __m128 xent_keep_unmasked4(__m128 x, __m128 v) {
    return _mm_andnot_ps(_mm_cmpeq_ps(x, _mm_set1_ps(-INFINITY)), v);
}
XENT_OP __m128 xent_keep_unmasked_or4(__m128 x, __m128 v, __m128 fill) {
    const __m128 masked = _mm_cmpeq_ps(x, _mm_set1_ps(-INFINITY));
    return _mm_or_ps(_mm_andnot_ps(masked, v), _mm_and_ps(masked, fill));
}
XENT_OP __m128 xent_mark_masked4(__m128 x, __m128 e) {
    const __m128 masked = _mm_cmpeq_ps(x, _mm_set1_ps(-INFINITY));
    return _mm_or_ps(_mm_andnot_ps(masked, e), _mm_and_ps(masked, _mm_set1_ps(-0.0f)));
}
XENT_OP __m128 xent_keep_unmarked4(__m128 e, __m128 v) {
    const __m128i marked = _mm_cmpeq_epi32(_mm_castps_si128(e), _mm_set1_epi32((int)0x80000000u));
    return _mm_andnot_ps(_mm_castsi128_ps(marked), v);
}
XENT_LANEWISE(xent_f32x16, xent_f32x16_keep_nonzero, xent_keep_nonzero4)
XENT_LANEWISE(xent_f32x16, xent_f32x16_keep_unmasked, xent_keep_unmasked4)
XENT_LANEWISE(xent_f32x16, xent_f32x16_mark_masked, xent_mark_masked4)
XENT_OP xent_f32x16 xent_f32x16_keep_unmasked_or(xent_f32x16 x, xent_f32x16 v, xent_f32x16 fill) {
    XENT_MAP1(xent_f32x16, xent_keep_unmasked_or4(x.v[k], v.v[k], fill.v[k]));
}
XENT_LANEWISE(xent_f32x16, xent_f32x16_keep_unmarked, xent_keep_unmarked4)
// SLEEF's own 128-bit tanh, called per register (a baseline-ISA call): nothing to interleave here.
#define XENT_TANH_VECTORS 1
_Static_assert(XENT_TANH_VECTORS == 1, "xent_f32x16_tanh below takes one vector");
XENT_OP void xent_f32x16_tanh(xent_f32x16 *v, size_t n) {
    (void)n;  // 1, XENT_TANH_VECTORS
    for (size_t k = 0; k < 4; k++) v->v[k] = Sleef_tanhf4_u10sse2(v->v[k]);
}

XENT_OP xent_f64x8 xent_f64x8_zero(void) { XENT_MAP1(xent_f64x8, _mm_setzero_pd()); }
XENT_OP xent_f64x8 xent_f64x8_set1(double d) { XENT_MAP1(xent_f64x8, _mm_set1_pd(d)); }
XENT_OP xent_f64x8 xent_f64x8_lo(xent_f32x16 v) {
    return (xent_f64x8){{_mm_cvtps_pd(v.v[0]), _mm_cvtps_pd(_mm_movehl_ps(v.v[0], v.v[0])), _mm_cvtps_pd(v.v[1]),
                         _mm_cvtps_pd(_mm_movehl_ps(v.v[1], v.v[1]))}};
}
XENT_OP xent_f64x8 xent_f64x8_hi(xent_f32x16 v) {
    return (xent_f64x8){{_mm_cvtps_pd(v.v[2]), _mm_cvtps_pd(_mm_movehl_ps(v.v[2], v.v[2])), _mm_cvtps_pd(v.v[3]),
                         _mm_cvtps_pd(_mm_movehl_ps(v.v[3], v.v[3]))}};
}
XENT_LANEWISE(xent_f64x8, xent_f64x8_add, _mm_add_pd)
XENT_LANEWISE(xent_f64x8, xent_f64x8_sub, _mm_sub_pd)
XENT_LANEWISE(xent_f64x8, xent_f64x8_mul, _mm_mul_pd)
// No FMA in SSE2: a product and a sum, two roundings.
XENT_OP xent_f64x8 xent_f64x8_fma(xent_f64x8 a, xent_f64x8 b, xent_f64x8 c) {
    XENT_MAP1(xent_f64x8, _mm_add_pd(_mm_mul_pd(a.v[k], b.v[k]), c.v[k]));
}
XENT_OP double xent_f64x8_reduce(xent_f64x8 v) {
    const __m128d u = _mm_add_pd(_mm_add_pd(v.v[0], v.v[2]), _mm_add_pd(v.v[1], v.v[3]));
    return _mm_cvtsd_f64(_mm_add_sd(u, _mm_unpackhi_pd(u, u)));
}
#define XENT_PREFETCH(p) XENT_PREFETCH_HINT((p), 0)
#define XENT_PREFETCHW(p) XENT_PREFETCH_HINT((p), 1)

#include "xent_f32x16.h"
#endif
