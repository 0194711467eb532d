// arm64 AdvSIMD: a 16-lane vector is four q registers, so the sums run in the same order as on
// AVX-512F and AVX2, and the exp is Sleef_expf4_u10advsimd (128-bit vectors are baseline on arm64,
// so C calls SLEEF directly; its results equal Sleef_expf16_u10avx512f's on every 2³² input).
// Before the operations below: clang would otherwise fuse a·b + c where the target has FMA.
#pragma clang fp contract(off)
#include <math.h>
#if defined(__aarch64__)
#include <arm_neon.h>
#include <sleef.h>

#define XENT_ISA_SUFFIX advsimd
#define XENT_TARGET
#define XENT_OP __attribute__((always_inline)) static inline

typedef struct { float32x4_t v[4]; } xent_f32x16;
typedef struct { float64x2_t v[4]; } xent_f64x8;

#define XENT_MAP1(T, expr) \
    T r;                  \
    for (int k = 0; k < 4; k++) r.v[k] = expr; \
    return r
XENT_OP xent_f32x16 xent_f32x16_set1(float s) { XENT_MAP1(xent_f32x16, vdupq_n_f32(s)); }
XENT_OP xent_f32x16 xent_f32x16_load(const float *p) { XENT_MAP1(xent_f32x16, vld1q_f32(p + 4 * k)); }
XENT_OP void xent_f32x16_store(float *p, xent_f32x16 v) {
    for (int k = 0; k < 4; k++) vst1q_f32(p + 4 * k, v.v[k]);
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
XENT_LANEWISE(xent_f32x16, xent_f32x16_add, vaddq_f32)
XENT_LANEWISE(xent_f32x16, xent_f32x16_sub, vsubq_f32)
XENT_LANEWISE(xent_f32x16, xent_f32x16_mul, vmulq_f32)
XENT_LANEWISE(xent_f32x16, xent_f32x16_div, vdivq_f32)
// fmaxnm returns the number when one operand is NaN, so a NaN logit never becomes the max.
XENT_LANEWISE(xent_f32x16, xent_f32x16_max, vmaxnmq_f32)
XENT_OP float xent_f32x16_reduce_max(xent_f32x16 v) {
    return vmaxnmvq_f32(vmaxnmq_f32(vmaxnmq_f32(v.v[0], v.v[1]), vmaxnmq_f32(v.v[2], v.v[3])));
}
XENT_OP xent_f32x16 xent_f32x16_exp(xent_f32x16 x) { XENT_MAP1(xent_f32x16, Sleef_expf4_u10advsimd(x.v[k])); }
XENT_OP float32x4_t xent_keep_nonzero4(float32x4_t q, float32x4_t v) {
    return vbslq_f32(vceqq_f32(q, vdupq_n_f32(0.0f)), vdupq_n_f32(0.0f), v);
}
XENT_OP float32x4_t xent_keep_unmasked4(float32x4_t x, float32x4_t v) {
    return vbslq_f32(vceqq_f32(x, vdupq_n_f32(-INFINITY)), vdupq_n_f32(0.0f), v);
}
XENT_OP float32x4_t xent_mark_masked4(float32x4_t x, float32x4_t e) {
    return vbslq_f32(vceqq_f32(x, vdupq_n_f32(-INFINITY)), vdupq_n_f32(-0.0f), e);
}
XENT_OP float32x4_t xent_keep_unmarked4(float32x4_t e, float32x4_t v) {
    return vbslq_f32(vceqq_u32(vreinterpretq_u32_f32(e), vdupq_n_u32(0x80000000u)), vdupq_n_f32(0.0f), v);
}
XENT_LANEWISE(xent_f32x16, xent_f32x16_keep_nonzero, xent_keep_nonzero4)
XENT_LANEWISE(xent_f32x16, xent_f32x16_keep_unmasked, xent_keep_unmasked4)
XENT_LANEWISE(xent_f32x16, xent_f32x16_mark_masked, xent_mark_masked4)
XENT_LANEWISE(xent_f32x16, xent_f32x16_keep_unmarked, xent_keep_unmarked4)
XENT_OP void xent_f32_tanh_block(const float *x, float *y, size_t nvec) {
    for (size_t j = 0; j < 4 * nvec; j++) vst1q_f32(y + 4 * j, Sleef_tanhf4_u10advsimd(vld1q_f32(x + 4 * j)));
}

XENT_OP xent_f64x8 xent_f64x8_zero(void) { XENT_MAP1(xent_f64x8, vdupq_n_f64(0.0)); }
XENT_OP xent_f64x8 xent_f64x8_set1(double d) { XENT_MAP1(xent_f64x8, vdupq_n_f64(d)); }
XENT_OP xent_f64x8 xent_f64x8_lo(xent_f32x16 v) {
    return (xent_f64x8){{vcvt_f64_f32(vget_low_f32(v.v[0])), vcvt_high_f64_f32(v.v[0]),
                         vcvt_f64_f32(vget_low_f32(v.v[1])), vcvt_high_f64_f32(v.v[1])}};
}
XENT_OP xent_f64x8 xent_f64x8_hi(xent_f32x16 v) {
    return (xent_f64x8){{vcvt_f64_f32(vget_low_f32(v.v[2])), vcvt_high_f64_f32(v.v[2]),
                         vcvt_f64_f32(vget_low_f32(v.v[3])), vcvt_high_f64_f32(v.v[3])}};
}
XENT_LANEWISE(xent_f64x8, xent_f64x8_add, vaddq_f64)
XENT_LANEWISE(xent_f64x8, xent_f64x8_sub, vsubq_f64)
XENT_LANEWISE(xent_f64x8, xent_f64x8_mul, vmulq_f64)
XENT_OP xent_f64x8 xent_f64x8_fma(xent_f64x8 a, xent_f64x8 b, xent_f64x8 c) {
    XENT_MAP1(xent_f64x8, vfmaq_f64(c.v[k], a.v[k], b.v[k]));
}
XENT_OP double xent_f64x8_reduce(xent_f64x8 v) {
    const float64x2_t u = vaddq_f64(vaddq_f64(v.v[0], v.v[2]), vaddq_f64(v.v[1], v.v[3]));
    return vgetq_lane_f64(u, 0) + vgetq_lane_f64(u, 1);
}
#define XENT_PREFETCH(p) __builtin_prefetch((p), 0, 3)
#define XENT_PREFETCHW(p) __builtin_prefetch((p), 1, 3)

#include "xent_f32x16.h"
#endif
