// The portable kernels: a 16-lane vector is 16 floats in a struct, and the exp and tanh are SLEEF's
// pure-C non-FMA functions (Sleef_expf1_u10purec, Sleef_tanhf1_u10purec) by name: SLEEF 3.6's plain
// Sleef_expf_u10 dispatches on the host's FMA, and 3.5's is another algorithm. These give SSE2's
// bits on any host; held to NUMERICS.md's bounds, not to the canonical ISAs' bits.
// Before the operations below: clang would otherwise fuse a·b + c where the target has FMA.
#pragma clang fp contract(off)
#include <math.h>
#include <sleef.h>

#define XENT_ISA_SUFFIX scalar
#define XENT_TARGET
#define XENT_OP __attribute__((always_inline)) static inline

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct { float v[16]; } xent_f32x16;
typedef struct { double v[8]; } xent_f64x8;

#define XENT_MAP(T, lanes, expr) \
    T r;                        \
    for (int k = 0; k < lanes; k++) r.v[k] = expr; \
    return r
XENT_OP xent_f32x16 xent_f32x16_set1(float s) { XENT_MAP(xent_f32x16, 16, s); }
XENT_OP xent_f32x16 xent_f32x16_load(const float *p) { XENT_MAP(xent_f32x16, 16, p[k]); }
XENT_OP void xent_f32x16_store(float *p, xent_f32x16 v) {
    for (int k = 0; k < 16; k++) p[k] = v.v[k];
}
XENT_OP xent_f32x16 xent_f32x16_load_tail(const float *p, size_t n, float fill) {
    XENT_MAP(xent_f32x16, 16, (size_t)k < n ? p[k] : fill);
}
XENT_OP void xent_f32x16_store_tail(float *p, size_t n, xent_f32x16 v) {
    for (size_t k = 0; k < n; k++) p[k] = v.v[k];
}
XENT_OP xent_f32x16 xent_f32x16_add(xent_f32x16 a, xent_f32x16 b) { XENT_MAP(xent_f32x16, 16, a.v[k] + b.v[k]); }
XENT_OP xent_f32x16 xent_f32x16_sub(xent_f32x16 a, xent_f32x16 b) { XENT_MAP(xent_f32x16, 16, a.v[k] - b.v[k]); }
XENT_OP xent_f32x16 xent_f32x16_mul(xent_f32x16 a, xent_f32x16 b) { XENT_MAP(xent_f32x16, 16, a.v[k] * b.v[k]); }
XENT_OP xent_f32x16 xent_f32x16_div(xent_f32x16 a, xent_f32x16 b) { XENT_MAP(xent_f32x16, 16, a.v[k] / b.v[k]); }
// A comparison with NaN is false, so a NaN logit never becomes the max.
XENT_OP xent_f32x16 xent_f32x16_max(xent_f32x16 v, xent_f32x16 acc) {
    XENT_MAP(xent_f32x16, 16, v.v[k] > acc.v[k] ? v.v[k] : acc.v[k]);
}
XENT_OP float xent_f32x16_reduce_max(xent_f32x16 v) {
    float m = v.v[0];
    for (int k = 1; k < 16; k++) m = v.v[k] > m ? v.v[k] : m;
    return m;
}
XENT_OP xent_f32x16 xent_f32x16_exp(xent_f32x16 x) { XENT_MAP(xent_f32x16, 16, Sleef_expf1_u10purec(x.v[k])); }
XENT_OP xent_f32x16 xent_f32x16_keep_nonzero(xent_f32x16 q, xent_f32x16 v) {
    XENT_MAP(xent_f32x16, 16, q.v[k] != 0.0f ? v.v[k] : 0.0f);
}
XENT_OP xent_f32x16 xent_f32x16_keep_unmasked(xent_f32x16 x, xent_f32x16 v) {
    XENT_MAP(xent_f32x16, 16, x.v[k] != -INFINITY ? v.v[k] : 0.0f);
}
XENT_OP xent_f32x16 xent_f32x16_mark_masked(xent_f32x16 x, xent_f32x16 e) {
    XENT_MAP(xent_f32x16, 16, x.v[k] == -INFINITY ? -0.0f : e.v[k]);
}
XENT_OP int xent_is_negative_zero(float e) {
    uint32_t u;
    memcpy(&u, &e, 4);
    return u == 0x80000000u;
}
XENT_OP xent_f32x16 xent_f32x16_keep_unmarked(xent_f32x16 e, xent_f32x16 v) {
    XENT_MAP(xent_f32x16, 16, xent_is_negative_zero(e.v[k]) ? 0.0f : v.v[k]);
}
XENT_OP void xent_f32_tanh_block(const float *x, float *y, size_t nvec) {
    for (size_t i = 0; i < 16 * nvec; i++) y[i] = Sleef_tanhf1_u10purec(x[i]);
}

XENT_OP xent_f64x8 xent_f64x8_zero(void) { XENT_MAP(xent_f64x8, 8, 0.0); }
XENT_OP xent_f64x8 xent_f64x8_set1(double d) { XENT_MAP(xent_f64x8, 8, d); }
XENT_OP xent_f64x8 xent_f64x8_lo(xent_f32x16 v) { XENT_MAP(xent_f64x8, 8, (double)v.v[k]); }
XENT_OP xent_f64x8 xent_f64x8_hi(xent_f32x16 v) { XENT_MAP(xent_f64x8, 8, (double)v.v[k + 8]); }
XENT_OP xent_f64x8 xent_f64x8_add(xent_f64x8 a, xent_f64x8 b) { XENT_MAP(xent_f64x8, 8, a.v[k] + b.v[k]); }
XENT_OP xent_f64x8 xent_f64x8_sub(xent_f64x8 a, xent_f64x8 b) { XENT_MAP(xent_f64x8, 8, a.v[k] - b.v[k]); }
XENT_OP xent_f64x8 xent_f64x8_mul(xent_f64x8 a, xent_f64x8 b) { XENT_MAP(xent_f64x8, 8, a.v[k] * b.v[k]); }
// Two roundings (no FMA assumed; xent_f32x16.h turns contraction off).
XENT_OP xent_f64x8 xent_f64x8_fma(xent_f64x8 a, xent_f64x8 b, xent_f64x8 c) {
    XENT_MAP(xent_f64x8, 8, a.v[k] * b.v[k] + c.v[k]);
}
XENT_OP double xent_f64x8_reduce(xent_f64x8 v) {
    return ((v.v[0] + v.v[4]) + (v.v[2] + v.v[6])) + ((v.v[1] + v.v[5]) + (v.v[3] + v.v[7]));
}
#define XENT_PREFETCH(p) ((void)(p))
#define XENT_PREFETCHW(p) ((void)(p))

#include "xent_f32x16.h"
