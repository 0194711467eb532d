// AVX2 + FMA: SLEEF's u10 exp inlined (xent_sleef_exp_inline.h: Sleef_expf8_u10avx2's operations
// and results, bit for bit), so the exp loop keeps its sums in registers and makes no call per
// vector; SLEEF's tanh (the softcap) through the pointer-taking assembly loop of
// xent_sleef_x86_64.S, because clang would pass a __m256 argument by the translation unit's
// baseline convention, which is not the one SLEEF's AVX2 code expects.
#if defined(__x86_64__)
#include <immintrin.h>
#include "xent_sleef_exp_inline.h"
#include "xent_sleef_trampolines.h"

// y = exp(x − shift) over n elements, two vectors of 8 per iteration, their sums into two
// accumulators stored at acc (when non-NULL), a partial last vector (missing lanes −inf) into the
// second; prefetching 8 KiB ahead for reading and writing as the AVX-512 loop does (PREFETCHW is
// a NOP on the few AVX2 CPUs without it).
__attribute__((target("avx2,fma,prfchw"))) static void xent_expf8_shifted__avx2(const float *x, float *y, size_t n,
                                                                                float shift, float *acc) {
    const size_t nvec = n / 8, rest = n % 8;
    const __m256 vs = _mm256_set1_ps(shift);
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    size_t k = 0;
    for (; k + 2 <= nvec; k += 2) {
        const float *xk = x + 8 * k;
        float *yk = y + 8 * k;
        __builtin_prefetch(xk + 2048, 0, 3);  // two vectors of 8: one 64-byte line
        __builtin_prefetch(yk + 2048, 1, 3);
        const __m256 e0 = xent_expf8_u10(_mm256_sub_ps(_mm256_loadu_ps(xk), vs));
        const __m256 e1 = xent_expf8_u10(_mm256_sub_ps(_mm256_loadu_ps(xk + 8), vs));
        _mm256_storeu_ps(yk, e0);
        _mm256_storeu_ps(yk + 8, e1);
        a0 = _mm256_add_ps(a0, e0);
        a1 = _mm256_add_ps(a1, e1);
    }
    if (k < nvec) {
        const __m256 e0 = xent_expf8_u10(_mm256_sub_ps(_mm256_loadu_ps(x + 8 * k), vs));
        _mm256_storeu_ps(y + 8 * k, e0);
        a0 = _mm256_add_ps(a0, e0);
    }
    if (rest) {
        // vmaskmovps loads 0 where the mask is clear (without touching that memory); those lanes
        // become −inf. Its masked store is slow on some CPUs: the rest is stored lane by lane.
        const __m256i lanes = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)rest), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        const __m256 v = _mm256_blendv_ps(_mm256_set1_ps(-INFINITY), _mm256_maskload_ps(x + 8 * nvec, lanes),
                                          _mm256_castsi256_ps(lanes));
        const __m256 e = xent_expf8_u10(_mm256_sub_ps(v, vs));
        float out[8] __attribute__((aligned(32)));
        _mm256_store_ps(out, e);
        for (size_t k = 0; k < rest; k++) y[8 * nvec + k] = out[k];
        a1 = _mm256_add_ps(a1, e);
    }
    if (acc) {
        _mm256_storeu_ps(acc, a0);
        _mm256_storeu_ps(acc + 8, a1);
    }
}

#define XENT_FN xent_f32_expminus_sum__avx2_fma
#define XENT_TARGET __attribute__((target("avx2,fma,prfchw")))
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
#define XENT_EXP_SHIFTED(x, y, nvec, shift) xent_expf8_shifted__avx2((x), (y), 8 * (nvec), (shift), NULL)
#define XENT_EXP_SHIFTED_SUM(x, y, n, shift, acc) xent_expf8_shifted__avx2((x), (y), (n), (shift), (acc))

#define XENT_TANH(x, y, nvec) xent_sleef_tanhf8_u10__avx2((x), (y), (nvec))

#include "CXent.h"
#include <math.h>
#include "xent_expminus_sum.inc"

#define XENT_MAX_FN xent_f32_max__avx2_fma
#define XENT_SCALE_FN xent_f32_scale__avx2_fma
// maxps returns its second operand when either is NaN, so a NaN logit never becomes the max.
#define XENT_MAX_IGNORING_NAN(v, acc) _mm256_max_ps((v), (acc))
#include "xent_max_scale.inc"

// x − 0 is x, NaN payloads included, so the shifted loop computes exp(x).
#define XENT_EXP_CHECK_FN xent_exp_mismatches__avx2_fma
#define XENT_EXP_INLINED(x, y, n) xent_expf8_shifted__avx2((x), (y), (n), 0.0f, NULL)
#define XENT_EXP_LIBRARY(x, y, n) xent_sleef_expf8_u10__avx2((x), (y), (n) / 8)
#include "xent_exp_check.inc"

#define XENT_CHUNK_FN xent_f32_chunk__avx2_fma
#define XENT_SCALE_CHUNK_FN xent_f32_scale_chunk__avx2_fma
#define XENT_ROW_FN xent_f32_row__avx2_fma
#include "xent_row.inc"
#endif
