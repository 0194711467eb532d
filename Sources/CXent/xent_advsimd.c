// arm64 AdvSIMD: Sleef_expf4_u10advsimd. 128-bit vectors are baseline on arm64, so C calls
// SLEEF directly.
#if defined(__aarch64__)
#include <arm_neon.h>
#include <sleef.h>

#define XENT_FN xent_f32_expminus_sum__advsimd
#define XENT_TARGET
#define XENT_W 4
typedef float32x4_t xent_vec;
#define XENT_ZERO() vdupq_n_f32(0.0f)
#define XENT_SET1(s) vdupq_n_f32(s)
#define XENT_LOADU(p) vld1q_f32(p)
#define XENT_STOREU(p, v) vst1q_f32((p), (v))
#define XENT_ADD(a, b) vaddq_f32((a), (b))
#define XENT_SUB(a, b) vsubq_f32((a), (b))
#define XENT_MUL(a, b) vmulq_f32((a), (b))
#define XENT_DIV(a, b) vdivq_f32((a), (b))
#define XENT_KEEP_WHERE_NONZERO(q, v) vbslq_f32(vceqq_f32((q), vdupq_n_f32(0.0f)), vdupq_n_f32(0.0f), (v))
typedef float64x2_t xent_dvec;
#define XENT_DW 2
#define XENT_DZERO() vdupq_n_f64(0.0)
#define XENT_DADD(a, b) vaddq_f64((a), (b))
#define XENT_DSUB(a, b) vsubq_f64((a), (b))
#define XENT_DSET1(s) vdupq_n_f64(s)
#define XENT_DMUL(a, b) vmulq_f64((a), (b))
#define XENT_DSTOREU(p, v) vst1q_f64((p), (v))
#define XENT_WIDEN_LO(v) vcvt_f64_f32(vget_low_f32(v))
#define XENT_WIDEN_HI(v) vcvt_high_f64_f32(v)
#define XENT_KEEP_WHERE_NOT_NEG_INF(x, v) vbslq_f32(vceqq_f32((x), vdupq_n_f32(-INFINITY)), vdupq_n_f32(0.0f), (v))
#define XENT_SIGN_WHERE_NEG_INF(x) \
    vreinterpretq_f32_u32(vandq_u32(vceqq_f32((x), vdupq_n_f32(-INFINITY)), vdupq_n_u32(0x80000000u)))
#define XENT_OR(a, b) vreinterpretq_f32_u32(vorrq_u32(vreinterpretq_u32_f32(a), vreinterpretq_u32_f32(b)))
#define XENT_KEEP_WHERE_NOT_NEG_ZERO(e, v) \
    vbslq_f32(vceqq_u32(vreinterpretq_u32_f32(e), vdupq_n_u32(0x80000000u)), vdupq_n_f32(0.0f), (v))
#define XENT_EXP_SHIFTED(x, y, nvec, shift)                                          \
    for (size_t j_ = 0; j_ < (nvec); j_++) {                                         \
        float32x4_t v_ = vsubq_f32(vld1q_f32((x) + 4 * j_), vdupq_n_f32(shift));     \
        vst1q_f32((y) + 4 * j_, Sleef_expf4_u10advsimd(v_));                         \
    }

#define XENT_TANH(x, y, nvec)                                                        \
    for (size_t j_ = 0; j_ < (nvec); j_++) {                                         \
        vst1q_f32((y) + 4 * j_, Sleef_tanhf4_u10advsimd(vld1q_f32((x) + 4 * j_)));   \
    }

#include "CXent.h"
#include <math.h>
#include "xent_expminus_sum.inc"

#define XENT_MAX_FN xent_f32_max__advsimd
#define XENT_SCALE_FN xent_f32_scale__advsimd
// vmaxnm returns the number when one operand is NaN, so a NaN logit never becomes the max.
#define XENT_MAX_IGNORING_NAN(v, acc) vmaxnmq_f32((v), (acc))
#include "xent_max_scale.inc"

#define XENT_CHUNK_FN xent_f32_chunk__advsimd
#define XENT_CHUNK_BODY xent_f32_chunk_body__advsimd
#define XENT_SCALE_CHUNK_FN xent_f32_scale_chunk__advsimd
#define XENT_ROW_FN xent_f32_row__advsimd
#include "xent_row.inc"
#endif
