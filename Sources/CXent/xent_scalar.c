// The portable implementation: SLEEF's scalar u10 exp, one element at a time.
#include <sleef.h>

#define XENT_FN xent_f32_expminus_sum__scalar
#define XENT_TARGET
#define XENT_W 1
typedef float xent_vec;
#define XENT_ZERO() 0.0f
#define XENT_SET1(s) (s)
#define XENT_LOADU(p) (*(p))
#define XENT_STOREU(p, v) (*(p) = (v))
#define XENT_ADD(a, b) ((a) + (b))
#define XENT_SUB(a, b) ((a) - (b))
#define XENT_MUL(a, b) ((a) * (b))
#define XENT_DIV(a, b) ((a) / (b))
#define XENT_KEEP_WHERE_NONZERO(q, v) ((q) != 0.0f ? (v) : 0.0f)
typedef double xent_dvec;
#define XENT_DW 1
#define XENT_DZERO() 0.0
#define XENT_DADD(a, b) ((a) + (b))
#define XENT_DSUB(a, b) ((a) - (b))
#define XENT_DSET1(s) (s)
#define XENT_DMUL(a, b) ((a) * (b))
#define XENT_DSTOREU(p, v) (*(p) = (v))
#define XENT_WIDEN_LO(v) ((double)(v))
#define XENT_WIDEN_HI(v) 0.0
#define XENT_KEEP_WHERE_NOT_NEG_INF(x, v) ((x) != -INFINITY ? (v) : 0.0f)
#define XENT_SIGN_WHERE_NEG_INF(x) ((x) == -INFINITY ? -0.0f : 0.0f)
#define XENT_OR(a, b) xent_scalar_or((a), (b))
#define XENT_KEEP_WHERE_NOT_NEG_ZERO(e, v) (xent_scalar_is_neg_zero(e) ? 0.0f : (v))
#include <string.h>
static inline float xent_scalar_or(float a, float b) {
    unsigned ua, ub;
    memcpy(&ua, &a, 4);
    memcpy(&ub, &b, 4);
    ua |= ub;
    memcpy(&a, &ua, 4);
    return a;
}
static inline int xent_scalar_is_neg_zero(float e) {
    unsigned u;
    memcpy(&u, &e, 4);
    return u == 0x80000000u;
}
#define XENT_EXP_ONE(x, shift) Sleef_expf_u10((x) - (shift))
#define XENT_EXP_SHIFTED(x, y, nvec, shift)                     \
    for (size_t j_ = 0; j_ < (nvec); j_++) {                    \
        (y)[j_] = Sleef_expf_u10((x)[j_] - (shift));            \
    }

#define XENT_TANH(x, y, nvec)                                   \
    for (size_t j_ = 0; j_ < (nvec); j_++) {                    \
        (y)[j_] = Sleef_tanhf_u10((x)[j_]);                     \
    }

#include "CXent.h"
#include <math.h>
#include "xent_expminus_sum.inc"

#define XENT_MAX_FN xent_f32_max__scalar
#define XENT_SCALE_FN xent_f32_scale__scalar
// A comparison with NaN is false, so a NaN logit never becomes the max.
#define XENT_MAX_IGNORING_NAN(v, acc) ((v) > (acc) ? (v) : (acc))
#include "xent_max_scale.inc"

#define XENT_CHUNK_FN xent_f32_chunk__scalar
#define XENT_CHUNK_BODY xent_f32_chunk_body__scalar
#define XENT_SCALE_CHUNK_FN xent_f32_scale_chunk__scalar
#define XENT_ROW_FN xent_f32_row__scalar
#include "xent_row.inc"
