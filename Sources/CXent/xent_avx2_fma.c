// AVX2 + FMA: Sleef_expf8_u10avx2, reached only through the pointer-taking assembly loop in
// xent_sleef_x86_64.S, because clang would pass a __m256 argument by the translation unit's
// baseline convention, which is not the one SLEEF's AVX2 code expects.
#if defined(__x86_64__)
#include <immintrin.h>
#include "xent_sleef_trampolines.h"

#define XENT_FN xent_f32_expminus_sum__avx2_fma
#define XENT_TARGET __attribute__((target("avx2,fma")))
#define XENT_W 8
typedef __m256 xent_vec;
#define XENT_ZERO() _mm256_setzero_ps()
#define XENT_SET1(s) _mm256_set1_ps(s)
#define XENT_LOADU(p) _mm256_loadu_ps(p)
#define XENT_STOREU(p, v) _mm256_storeu_ps((p), (v))
#define XENT_ADD(a, b) _mm256_add_ps((a), (b))
#define XENT_SUB(a, b) _mm256_sub_ps((a), (b))
#define XENT_MUL(a, b) _mm256_mul_ps((a), (b))
#define XENT_DIV(a, b) _mm256_div_ps((a), (b))
#define XENT_KEEP_WHERE_NONZERO(q, v) _mm256_and_ps(_mm256_cmp_ps((q), _mm256_setzero_ps(), _CMP_NEQ_UQ), (v))
typedef __m256d xent_dvec;
#define XENT_DW 4
#define XENT_DZERO() _mm256_setzero_pd()
#define XENT_DADD(a, b) _mm256_add_pd((a), (b))
#define XENT_DSUB(a, b) _mm256_sub_pd((a), (b))
#define XENT_DSET1(s) _mm256_set1_pd(s)
#define XENT_DMUL(a, b) _mm256_mul_pd((a), (b))
#define XENT_DSTOREU(p, v) _mm256_storeu_pd((p), (v))
#define XENT_WIDEN_LO(v) _mm256_cvtps_pd(_mm256_castps256_ps128(v))
#define XENT_WIDEN_HI(v) _mm256_cvtps_pd(_mm256_extractf128_ps((v), 1))
#define XENT_KEEP_WHERE_NOT_NEG_INF(x, v) _mm256_andnot_ps(_mm256_cmp_ps((x), _mm256_set1_ps(-INFINITY), _CMP_EQ_OQ), (v))
#define XENT_SIGN_WHERE_NEG_INF(x) _mm256_and_ps(_mm256_cmp_ps((x), _mm256_set1_ps(-INFINITY), _CMP_EQ_OQ), _mm256_set1_ps(-0.0f))
#define XENT_OR(a, b) _mm256_or_ps((a), (b))
#define XENT_KEEP_WHERE_NOT_NEG_ZERO(e, v) \
    _mm256_andnot_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(_mm256_castps_si256(e), _mm256_set1_epi32((int)0x80000000u))), (v))
#define XENT_EXP_SHIFTED(x, y, nvec, shift) xent_sleef_expf8_u10_shifted__avx2((x), (y), (nvec), (shift))

#define XENT_TANH(x, y, nvec) xent_sleef_tanhf8_u10__avx2((x), (y), (nvec))

#include "CXent.h"
#include <math.h>
#include "xent_expminus_sum.inc"

#define XENT_MAX_FN xent_f32_max__avx2_fma
#define XENT_SCALE_FN xent_f32_scale__avx2_fma
// maxps returns its second operand when either is NaN, so a NaN logit never becomes the max.
#define XENT_MAX_IGNORING_NAN(v, acc) _mm256_max_ps((v), (acc))
#include "xent_max_scale.inc"

#define XENT_CHUNK_FN xent_f32_chunk__avx2_fma
#define XENT_SCALE_CHUNK_FN xent_f32_scale_chunk__avx2_fma
#define XENT_ROW_FN xent_f32_row__avx2_fma
#include "xent_row.inc"
#endif
