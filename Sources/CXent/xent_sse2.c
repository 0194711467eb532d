// x86-64 baseline: Sleef_expf4_u10sse2. A 128-bit vector travels in an xmm register in the
// baseline ABI, so C may call SLEEF directly here (unlike the 256/512-bit variants).
#if defined(__x86_64__)
#include <emmintrin.h>
#include <sleef.h>

#define XENT_FN xent_f32_expminus_sum__sse2
#define XENT_TARGET
#define XENT_W 4
typedef __m128 xent_vec;
#define XENT_ZERO() _mm_setzero_ps()
#define XENT_SET1(s) _mm_set1_ps(s)
#define XENT_LOADU(p) _mm_loadu_ps(p)
#define XENT_STOREU(p, v) _mm_storeu_ps((p), (v))
#define XENT_ADD(a, b) _mm_add_ps((a), (b))
#define XENT_SUB(a, b) _mm_sub_ps((a), (b))
#define XENT_MUL(a, b) _mm_mul_ps((a), (b))
#define XENT_DIV(a, b) _mm_div_ps((a), (b))
#define XENT_KEEP_WHERE_NONZERO(q, v) _mm_and_ps(_mm_cmpneq_ps((q), _mm_setzero_ps()), (v))
typedef __m128d xent_dvec;
#define XENT_DW 2
#define XENT_DZERO() _mm_setzero_pd()
#define XENT_DADD(a, b) _mm_add_pd((a), (b))
#define XENT_DSUB(a, b) _mm_sub_pd((a), (b))
#define XENT_DSET1(s) _mm_set1_pd(s)
#define XENT_DMUL(a, b) _mm_mul_pd((a), (b))
#define XENT_DSTOREU(p, v) _mm_storeu_pd((p), (v))
#define XENT_WIDEN_LO(v) _mm_cvtps_pd(v)
#define XENT_WIDEN_HI(v) _mm_cvtps_pd(_mm_movehl_ps((v), (v)))
#define XENT_KEEP_WHERE_NOT_NEG_INF(x, v) _mm_andnot_ps(_mm_cmpeq_ps((x), _mm_set1_ps(-INFINITY)), (v))
#define XENT_SIGN_WHERE_NEG_INF(x) _mm_and_ps(_mm_cmpeq_ps((x), _mm_set1_ps(-INFINITY)), _mm_set1_ps(-0.0f))
#define XENT_OR(a, b) _mm_or_ps((a), (b))
#define XENT_KEEP_WHERE_NOT_NEG_ZERO(e, v) \
    _mm_andnot_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(_mm_castps_si128(e), _mm_set1_epi32((int)0x80000000u))), (v))
#define XENT_EXP_SHIFTED(x, y, nvec, shift)                                          \
    for (size_t j_ = 0; j_ < (nvec); j_++) {                                         \
        __m128 v_ = _mm_sub_ps(_mm_loadu_ps((x) + 4 * j_), _mm_set1_ps(shift));      \
        _mm_storeu_ps((y) + 4 * j_, Sleef_expf4_u10sse2(v_));                        \
    }

#define XENT_TANH(x, y, nvec)                                                        \
    for (size_t j_ = 0; j_ < (nvec); j_++) {                                         \
        _mm_storeu_ps((y) + 4 * j_, Sleef_tanhf4_u10sse2(_mm_loadu_ps((x) + 4 * j_)));  \
    }

#include "CXent.h"
#include <math.h>
#include "xent_expminus_sum.inc"

#define XENT_MAX_FN xent_f32_max__sse2
#define XENT_SCALE_FN xent_f32_scale__sse2
// maxps returns its second operand when either is NaN, so a NaN logit never becomes the max.
#define XENT_MAX_IGNORING_NAN(v, acc) _mm_max_ps((v), (acc))
#include "xent_max_scale.inc"

#define XENT_CHUNK_FN xent_f32_chunk__sse2
#define XENT_CHUNK_BODY xent_f32_chunk_body__sse2
#define XENT_SCALE_CHUNK_FN xent_f32_scale_chunk__sse2
#define XENT_ROW_FN xent_f32_row__sse2
#include "xent_row.inc"
#endif
