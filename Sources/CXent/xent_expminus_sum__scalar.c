// The portable implementation: SLEEF's scalar u10 exp, one element at a time.
#include <sleef.h>

#define XENT_FN xent_f32_expminus_sum__scalar
#define XENT_TARGET
#define XENT_W 1
typedef float xent_vec;
#define XENT_ZERO() 0.0f
#define XENT_LOADU(p) (*(p))
#define XENT_ADD(a, b) ((a) + (b))
#define XENT_STOREU(p, v) (*(p) = (v))
#define XENT_EXP_SHIFTED(x, y, nvec, shift)                     \
    for (size_t j_ = 0; j_ < (nvec); j_++) {                    \
        (y)[j_] = Sleef_expf_u10((x)[j_] - (shift));            \
    }

#include "xent_expminus_sum.inc"
