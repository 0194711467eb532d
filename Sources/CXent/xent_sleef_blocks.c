// SLEEF's float exp and tanh over pointers, for the Swift SIMD micro-kernels (AdvSIMD and the
// portable ones, Sources/Xent/SIMDKernels.swift): Swift reaches SLEEF's vector functions only
// through C, and only with pointers (CXent.h). One function per ISA and operation, each a loop over
// SLEEF's 4-lane (or 1-lane) function with a padded tail: every lane's result depends on that lane
// alone. AdvSIMD's exp and tanh are SLEEF's written out (xent_sleef_exp_inline.h,
// xent_sleef_tanh_inline.h: the same bits), inlined into their loops; the portable ones stay the
// library's.
#pragma clang fp contract(off)
#include "CXent.h"
#include "xent_prefetch.h"
#include "xent_sleef_exp_inline.h"
#include "xent_sleef_tanh_inline.h"
#include <math.h>
#include <sleef.h>
#include <string.h>

#if defined(__aarch64__)
#include <arm_neon.h>
#define XENT_V4 float32x4_t
#define XENT_V4_LOAD vld1q_f32
#define XENT_V4_STORE vst1q_f32
#define XENT_V4_SUB vsubq_f32
#define XENT_V4_SET1 vdupq_n_f32
#define XENT_V4_EXP xent_expf4_u10  // Sleef_expf4_u10advsimd's bits, inlined (xent_sleef_exp_inline.h)
#define XENT_V4_TANH xent_tanhf4_tanh  // Sleef_tanhf4_u10advsimd's bits, inlined (xent_sleef_tanh_inline.h)
#define XENT_V4_TANH_VECTORS XENT_TANH_ADVSIMD_VECTORS
#define XENT_V4_SUFFIX advsimd
#endif

// The lines of the 16 floats at element i of each stream `ahead` names, below its limit (hints:
// they never fault, but CXent.h says why the limit).
static inline void xent_prefetch_line(const xent_prefetch_ahead *ahead, size_t i) {
    if (!ahead || i >= ahead->limit) return;
    if (ahead->read[0]) XENT_PREFETCH_HINT(ahead->read[0] + i, 0);
    if (ahead->read[1]) XENT_PREFETCH_HINT(ahead->read[1] + i, 0);
    if (ahead->write) XENT_PREFETCH_HINT(ahead->write + i, 1);
}

#if defined(XENT_V4)
#define XENT_PASTE_(a, b) a##b
#define XENT_PASTE(a, b) XENT_PASTE_(a, b)

void XENT_PASTE(xent_f32_vexpminus__, XENT_V4_SUFFIX)(size_t n, const float *x, float shift, float *y,
                                                     const xent_prefetch_ahead *ahead) {
    const XENT_V4 s = XENT_V4_SET1(shift);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        xent_prefetch_line(ahead, i);
        for (size_t j = i; j < i + 16; j += 4) XENT_V4_STORE(y + j, XENT_V4_EXP(XENT_V4_SUB(XENT_V4_LOAD(x + j), s)));
    }
    if (i < n) xent_prefetch_line(ahead, i);
    for (; i + 4 <= n; i += 4) XENT_V4_STORE(y + i, XENT_V4_EXP(XENT_V4_SUB(XENT_V4_LOAD(x + i), s)));
    if (i < n) {
        float lanes[4] = {0.0f, 0.0f, 0.0f, 0.0f};
        memcpy(lanes, x + i, (n - i) * sizeof(float));
        XENT_V4_STORE(lanes, XENT_V4_EXP(XENT_V4_SUB(XENT_V4_LOAD(lanes), s)));
        memcpy(y + i, lanes, (n - i) * sizeof(float));
    }
}

// XENT_V4_TANH_VECTORS vectors a step, their tanh chains issued together (xent_sleef_tanh_inline.h
// says how many and why), then one at a time.
void XENT_PASTE(xent_f32_vtanh__, XENT_V4_SUFFIX)(size_t n, const float *x, float *y) {
    XENT_V4 v[XENT_V4_TANH_VECTORS];
    size_t i = 0;
    for (; i + 4 * XENT_V4_TANH_VECTORS <= n; i += 4 * XENT_V4_TANH_VECTORS) {
        for (size_t k = 0; k < XENT_V4_TANH_VECTORS; k++) v[k] = XENT_V4_LOAD(x + i + 4 * k);
        XENT_V4_TANH(v, XENT_V4_TANH_VECTORS);
        for (size_t k = 0; k < XENT_V4_TANH_VECTORS; k++) XENT_V4_STORE(y + i + 4 * k, v[k]);
    }
    for (; i + 4 <= n; i += 4) {
        v[0] = XENT_V4_LOAD(x + i);
        XENT_V4_TANH(v, 1);
        XENT_V4_STORE(y + i, v[0]);
    }
    if (i < n) {
        float lanes[4] = {0.0f, 0.0f, 0.0f, 0.0f};
        memcpy(lanes, x + i, (n - i) * sizeof(float));
        v[0] = XENT_V4_LOAD(lanes);
        XENT_V4_TANH(v, 1);
        XENT_V4_STORE(lanes, v[0]);
        memcpy(y + i, lanes, (n - i) * sizeof(float));
    }
}
#endif

// Portable: SLEEF's pure-C non-FMA functions by name (SLEEF 3.6's plain Sleef_expf_u10 dispatches
// on the host's FMA); their bits are SSE2's on any host.
void xent_f32_vexpminus__scalar(size_t n, const float *x, float shift, float *y, const xent_prefetch_ahead *ahead) {
    for (size_t i = 0; i < n; i++) {
        if (i % 16 == 0) xent_prefetch_line(ahead, i);
        y[i] = Sleef_expf1_u10purec(x[i] - shift);
    }
}

void xent_f32_vtanh__scalar(size_t n, const float *x, float *y) {
    for (size_t i = 0; i < n; i++) y[i] = Sleef_tanhf1_u10purec(x[i]);
}

