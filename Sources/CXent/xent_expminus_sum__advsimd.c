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
#define XENT_LOADU(p) vld1q_f32(p)
#define XENT_ADD(a, b) vaddq_f32((a), (b))
#define XENT_STOREU(p, v) vst1q_f32((p), (v))
#define XENT_EXP_SHIFTED(x, y, nvec, shift)                                          \
    for (size_t j_ = 0; j_ < (nvec); j_++) {                                         \
        float32x4_t v_ = vsubq_f32(vld1q_f32((x) + 4 * j_), vdupq_n_f32(shift));     \
        vst1q_f32((y) + 4 * j_, Sleef_expf4_u10advsimd(v_));                         \
    }

#include "xent_expminus_sum.inc"
#endif
