// AVX2 + FMA: SLEEF's u10 exp inlined (xent_sleef_exp_inline.h: Sleef_expf8_u10avx2's operations
// and results, bit for bit), so the exp loop keeps its sums in registers and makes no call per
// vector; SLEEF's tanh (the softcap) through the pointer-taking assembly loop of
// xent_sleef_x86_64.S, because clang would pass a __m256 argument by the translation unit's
// baseline convention, which is not the one SLEEF's AVX2 code expects.
#if defined(__x86_64__)
#include <immintrin.h>
#include "xent_sleef_exp_inline.h"
#include "xent_sleef_trampolines.h"
#include "xent_block.h"

__attribute__((target("avx2"), always_inline)) static inline double xent_dsum_lanes__avx2(__m256d a, __m256d b) {
    const __m256d s = _mm256_add_pd(a, b);
    const __m128d h = _mm_add_pd(_mm256_castpd256_pd128(s), _mm256_extractf128_pd(s, 1));
    return _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
}

// y = exp(x − shift) over n elements (y NULL: nothing stored), summed into the two double
// vectors at sum as the AVX-512 loop does (xent_avx512f.c), with two vectors of 8 per iteration:
// per 512-element block two float accumulators (at most 32 additions per lane), a partial last
// vector — missing lanes −inf — into the second, their sum's halves widened into sum[0] and
// sum[1] at the block's end; prefetching 8 KiB ahead for reading and writing (PREFETCHW is a NOP
// on the few AVX2 CPUs without it). `store` is a constant where it is inlined.
__attribute__((target("avx2,fma,prfchw"), always_inline)) static inline void
xent_expf8_shifted_sum_body(const float *x, float *y, size_t n, float shift, __m256d *sum, const int store) {
    const __m256 vs = _mm256_set1_ps(shift);
    __m256d s0 = sum[0], s1 = sum[1];
    for (size_t base = 0; base < n; base += XENT_CHUNK) {
        const size_t len = n - base < XENT_CHUNK ? n - base : XENT_CHUNK;
        const size_t nvec = len / 8, rest = len % 8;
        const float *xb = x + base;
        float *yb = store ? y + base : NULL;
        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
        size_t k = 0;
        for (; k + 2 <= nvec; k += 2) {
            const float *xk = xb + 8 * k;
            __builtin_prefetch(xk + 2048, 0, 3);  // two vectors of 8: one 64-byte line
            const __m256 e0 = xent_expf8_u10(_mm256_sub_ps(_mm256_loadu_ps(xk), vs));
            const __m256 e1 = xent_expf8_u10(_mm256_sub_ps(_mm256_loadu_ps(xk + 8), vs));
            if (store) {
                float *yk = yb + 8 * k;
                __builtin_prefetch(yk + 2048, 1, 3);
                _mm256_storeu_ps(yk, e0);
                _mm256_storeu_ps(yk + 8, e1);
            }
            a0 = _mm256_add_ps(a0, e0);
            a1 = _mm256_add_ps(a1, e1);
        }
        if (k < nvec) {
            const __m256 e0 = xent_expf8_u10(_mm256_sub_ps(_mm256_loadu_ps(xb + 8 * k), vs));
            if (store) _mm256_storeu_ps(yb + 8 * k, e0);
            a0 = _mm256_add_ps(a0, e0);
        }
        if (rest) {
            // vmaskmovps loads 0 where the mask is clear (without touching that memory); those
            // lanes become −inf. Its masked store is slow on some CPUs: the rest is stored lane by
            // lane.
            const __m256i lanes = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)rest), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
            const __m256 v = _mm256_blendv_ps(_mm256_set1_ps(-INFINITY), _mm256_maskload_ps(xb + 8 * nvec, lanes),
                                              _mm256_castsi256_ps(lanes));
            const __m256 e = xent_expf8_u10(_mm256_sub_ps(v, vs));
            if (store) {
                float out[8] __attribute__((aligned(32)));
                _mm256_store_ps(out, e);
                for (size_t i = 0; i < rest; i++) yb[8 * nvec + i] = out[i];
            }
            a1 = _mm256_add_ps(a1, e);
        }
        const __m256 a = _mm256_add_ps(a0, a1);
        s0 = _mm256_add_pd(s0, _mm256_cvtps_pd(_mm256_castps256_ps128(a)));
        s1 = _mm256_add_pd(s1, _mm256_cvtps_pd(_mm256_extractf128_ps(a, 1)));
    }
    sum[0] = s0;
    sum[1] = s1;
}

__attribute__((target("avx2,fma,prfchw"), always_inline)) static inline void
xent_expf8_shifted_sum__avx2(const float *x, float *y, size_t n, float shift, __m256d *sum) {
    if (y) {
        xent_expf8_shifted_sum_body(x, y, n, shift, sum, 1);
    } else {
        xent_expf8_shifted_sum_body(x, NULL, n, shift, sum, 0);
    }
}

// y = exp(x − shift) over n elements, the sum dropped.
__attribute__((target("avx2,fma,prfchw"))) static void xent_expf8_shifted__avx2(const float *x, float *y, size_t n,
                                                                                float shift) {
    __m256d sum[2] = {_mm256_setzero_pd(), _mm256_setzero_pd()};
    xent_expf8_shifted_sum_body(x, y, n, shift, sum, 1);
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
#define XENT_EXP_SHIFTED(x, y, nvec, shift) xent_expf8_shifted__avx2((x), (y), 8 * (nvec), (shift))
#define XENT_EXP_SHIFTED_SUM(x, y, n, shift, sum) xent_expf8_shifted_sum__avx2((x), (y), (n), (shift), (sum))
// The two halves' sums added, then their two 128-bit halves, then the two lanes left.
#define XENT_DSUM_LANES(sum) xent_dsum_lanes__avx2((sum)[0], (sum)[1])

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
#define XENT_EXP_INLINED(x, y, n) xent_expf8_shifted__avx2((x), (y), (n), 0.0f)
#define XENT_EXP_LIBRARY(x, y, n) xent_sleef_expf8_u10__avx2((x), (y), (n) / 8)
#include "xent_exp_check.inc"

#define XENT_CHUNK_FN xent_f32_chunk__avx2_fma
#define XENT_CHUNK_BODY xent_f32_chunk_body__avx2_fma
#define XENT_SCALE_CHUNK_FN xent_f32_scale_chunk__avx2_fma
#define XENT_ROW_FN xent_f32_row__avx2_fma
#include "xent_row.inc"
#endif
