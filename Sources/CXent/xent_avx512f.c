// AVX-512F: Sleef_expf16_u10avx512f, reached only through the pointer-taking assembly loop in
// xent_sleef_x86_64.S (see xent_avx2_fma.c for why).
#if defined(__x86_64__)
#include <immintrin.h>
#include "xent_sleef_trampolines.h"

#define XENT_FN xent_f32_expminus_sum__avx512f
#define XENT_TARGET __attribute__((target("avx512f")))
#define XENT_W 16
typedef __m512 xent_vec;
#define XENT_ZERO() _mm512_setzero_ps()
#define XENT_SET1(s) _mm512_set1_ps(s)
#define XENT_LOADU(p) _mm512_loadu_ps(p)
#define XENT_STOREU(p, v) _mm512_storeu_ps((p), (v))
#define XENT_ADD(a, b) _mm512_add_ps((a), (b))
#define XENT_SUB(a, b) _mm512_sub_ps((a), (b))
#define XENT_MUL(a, b) _mm512_mul_ps((a), (b))
#define XENT_DIV(a, b) _mm512_div_ps((a), (b))
#define XENT_KEEP_WHERE_NONZERO(q, v) \
    _mm512_maskz_mov_ps(_mm512_cmp_ps_mask((q), _mm512_setzero_ps(), _CMP_NEQ_UQ), (v))
typedef __m512d xent_dvec;
#define XENT_DW 8
#define XENT_DZERO() _mm512_setzero_pd()
#define XENT_DADD(a, b) _mm512_add_pd((a), (b))
#define XENT_DSUB(a, b) _mm512_sub_pd((a), (b))
#define XENT_DSET1(s) _mm512_set1_pd(s)
#define XENT_DMUL(a, b) _mm512_mul_pd((a), (b))
#define XENT_DSTOREU(p, v) _mm512_storeu_pd((p), (v))
#define XENT_WIDEN_LO(v) _mm512_cvtps_pd(_mm512_castps512_ps256(v))
#define XENT_WIDEN_HI(v) _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)))
#define XENT_KEEP_WHERE_NOT_NEG_INF(x, v) \
    _mm512_maskz_mov_ps(_mm512_cmp_ps_mask((x), _mm512_set1_ps(-INFINITY), _CMP_NEQ_UQ), (v))
#define XENT_SIGN_WHERE_NEG_INF(x) \
    _mm512_maskz_mov_ps(_mm512_cmp_ps_mask((x), _mm512_set1_ps(-INFINITY), _CMP_EQ_OQ), _mm512_set1_ps(-0.0f))
// vorps on zmm needs AVX512DQ; the integer OR is AVX512F.
#define XENT_OR(a, b) _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(a), _mm512_castps_si512(b)))
#define XENT_KEEP_WHERE_NOT_NEG_ZERO(e, v) \
    _mm512_maskz_mov_ps(_mm512_cmpneq_epi32_mask(_mm512_castps_si512(e), _mm512_set1_epi32((int)0x80000000u)), (v))
#define XENT_EXP_SHIFTED(x, y, nvec, shift) xent_sleef_expf16_u10_shifted__avx512f((x), (y), (nvec), (shift))

#define XENT_TANH(x, y, nvec) xent_sleef_tanhf16_u10__avx512f((x), (y), (nvec))

#include "CXent.h"
#include <math.h>
#include "xent_expminus_sum.inc"

#define XENT_MAX_FN xent_f32_max__avx512f
#define XENT_SCALE_FN xent_f32_scale__avx512f
// maxps returns its second operand when either is NaN, so a NaN logit never becomes the max.
#define XENT_MAX_IGNORING_NAN(v, acc) _mm512_max_ps((v), (acc))
#include "xent_max_scale.inc"

#define XENT_CHUNK_FN xent_f32_chunk__avx512f
#define XENT_SCALE_CHUNK_FN xent_f32_scale_chunk__avx512f
#define XENT_ROW_FN xent_f32_row__avx512f
#include "xent_row.inc"
#endif
