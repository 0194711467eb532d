// AVX-512F: SLEEF's u10 exp inlined (xent_sleef_exp_inline.h: Sleef_expf16_u10avx512f's results,
// bit for bit), so the exp loop keeps its sums in registers and makes no call per vector; SLEEF's
// tanh (the softcap) through the pointer-taking assembly loop of xent_sleef_x86_64.S (see
// xent_avx2_fma.c for why a 512-bit vector never crosses a call from C).
#if defined(__x86_64__)
#include <immintrin.h>
#include "xent_sleef_exp_inline.h"
#include "xent_sleef_trampolines.h"
#include "xent_block.h"

// Soft targets' sums over one vector of logits v and targets q, in double (xent_expminus_sum.inc
// says why): Σq into qs[0] and qs[1] (the low and high halves), Σ q·(shift − x) into gs[0] and
// gs[1], x replaced by 0 where q is 0 first, so that a masked class (−inf) with no target meets
// its zero weight as a finite gap.
__attribute__((target("avx512f"), always_inline)) static inline void
xent_soft_sums16(__m512 v, __m512 q, __m512d dshift, __m512d *qs, __m512d *gs) {
    const __m512 qx = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(q, _mm512_setzero_ps(), _CMP_NEQ_UQ), v);
    const __m512d qlo = _mm512_cvtps_pd(_mm512_castps512_ps256(q));
    const __m512d qhi = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(q), 1)));
    const __m512d xlo = _mm512_cvtps_pd(_mm512_castps512_ps256(qx));
    const __m512d xhi = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(qx), 1)));
    qs[0] = _mm512_add_pd(qs[0], qlo);
    qs[1] = _mm512_add_pd(qs[1], qhi);
    gs[0] = _mm512_fmadd_pd(_mm512_sub_pd(dshift, xlo), qlo, gs[0]);
    gs[1] = _mm512_fmadd_pd(_mm512_sub_pd(dshift, xhi), qhi, gs[1]);
}

// y = exp(x − shift) over n elements (y NULL: nothing stored), summed into the two double
// vectors at sum: per 512-element block, vector k of the block goes into the (k % 2)th of two
// float accumulators (at most 16 additions per lane) and a partial last vector — read through a
// masked load, its missing lanes −inf (exp 0), stored through a masked store — into the second;
// at the end of the block their sum is widened and added, its low half into sum[0] and its high
// half into sum[1]. Every iteration prefetches the lines 8 KiB ahead for reading (and, storing,
// for writing: the next chunk of xent_row.inc), so the next chunk's memory traffic overlaps this
// chunk's exps. PREFETCHW: every AVX-512 CPU has it.
//
// With soft targets q (`soft`), the same pass over the logits also takes Σq into soft_sums[0] and
// Σ q·(shift − x) over q ≠ 0 into soft_sums[1] (xent_soft_sums16) — the two sums the generic path
// takes in a loop of its own before the exps: the exp loop is bound by its float multiplications,
// and the sums' conversions and additions mostly fill other ports. `store` and `soft` are
// constants where the body is inlined.
__attribute__((target("avx512f,prfchw"), always_inline)) static inline void
xent_expf16_shifted_sum_body(const float *x, const float *q, float *y, size_t n, float shift, __m512d *sum,
                             double *soft_sums, const int store, const int soft) {
    const __m512 vs = _mm512_set1_ps(shift);
    const __m512d dshift = _mm512_set1_pd((double)shift);
    __m512d s0 = sum[0], s1 = sum[1];
    __m512d qs[2] = {_mm512_setzero_pd(), _mm512_setzero_pd()}, gs[2] = {_mm512_setzero_pd(), _mm512_setzero_pd()};
    for (size_t base = 0; base < n; base += XENT_CHUNK) {
        const size_t len = n - base < XENT_CHUNK ? n - base : XENT_CHUNK;
        const size_t nvec = len / 16, rest = len % 16;
        const float *xb = x + base;
        const float *qb = soft ? q + base : NULL;
        float *yb = store ? y + base : NULL;
        __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
        size_t k = 0;
        for (; k + 2 <= nvec; k += 2) {
            const float *xk = xb + 16 * k;
            __builtin_prefetch(xk + 2048, 0, 3);
            __builtin_prefetch(xk + 2048 + 16, 0, 3);
            const __m512 v0 = _mm512_loadu_ps(xk), v1 = _mm512_loadu_ps(xk + 16);
            if (soft) {
                const float *qk = qb + 16 * k;
                __builtin_prefetch(qk + 2048, 0, 3);
                __builtin_prefetch(qk + 2048 + 16, 0, 3);
                xent_soft_sums16(v0, _mm512_loadu_ps(qk), dshift, qs, gs);
                xent_soft_sums16(v1, _mm512_loadu_ps(qk + 16), dshift, qs, gs);
            }
            const __m512 e0 = xent_expf16_u10(_mm512_sub_ps(v0, vs));
            const __m512 e1 = xent_expf16_u10(_mm512_sub_ps(v1, vs));
            if (store) {
                float *yk = yb + 16 * k;
                __builtin_prefetch(yk + 2048, 1, 3);
                __builtin_prefetch(yk + 2048 + 16, 1, 3);
                _mm512_storeu_ps(yk, e0);
                _mm512_storeu_ps(yk + 16, e1);
            }
            a0 = _mm512_add_ps(a0, e0);
            a1 = _mm512_add_ps(a1, e1);
        }
        if (k < nvec) {
            const __m512 v0 = _mm512_loadu_ps(xb + 16 * k);
            if (soft) xent_soft_sums16(v0, _mm512_loadu_ps(qb + 16 * k), dshift, qs, gs);
            const __m512 e0 = xent_expf16_u10(_mm512_sub_ps(v0, vs));
            if (store) _mm512_storeu_ps(yb + 16 * k, e0);
            a0 = _mm512_add_ps(a0, e0);
        }
        if (rest) {
            const __mmask16 lanes = (__mmask16)((1u << rest) - 1u);
            const __m512 v = _mm512_mask_loadu_ps(_mm512_set1_ps(-INFINITY), lanes, xb + 16 * nvec);
            if (soft) xent_soft_sums16(v, _mm512_maskz_loadu_ps(lanes, qb + 16 * nvec), dshift, qs, gs);
            const __m512 e = xent_expf16_u10(_mm512_sub_ps(v, vs));
            if (store) _mm512_mask_storeu_ps(yb + 16 * nvec, lanes, e);
            a1 = _mm512_add_ps(a1, e);
        }
        const __m512 a = _mm512_add_ps(a0, a1);
        s0 = _mm512_add_pd(s0, _mm512_cvtps_pd(_mm512_castps512_ps256(a)));
        s1 = _mm512_add_pd(s1, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(a), 1))));
    }
    sum[0] = s0;
    sum[1] = s1;
    if (soft) {
        soft_sums[0] = _mm512_reduce_add_pd(_mm512_add_pd(qs[0], qs[1]));
        soft_sums[1] = _mm512_reduce_add_pd(_mm512_add_pd(gs[0], gs[1]));
    }
}

__attribute__((target("avx512f,prfchw"), always_inline)) static inline void
xent_expf16_shifted_sum__avx512f(const float *x, float *y, size_t n, float shift, __m512d *sum) {
    if (y) {
        xent_expf16_shifted_sum_body(x, NULL, y, n, shift, sum, NULL, 1, 0);
    } else {
        xent_expf16_shifted_sum_body(x, NULL, NULL, n, shift, sum, NULL, 0, 0);
    }
}

__attribute__((target("avx512f,prfchw"), always_inline)) static inline void
xent_expf16_shifted_sum_soft__avx512f(const float *x, const float *q, float *y, size_t n, float shift, __m512d *sum,
                                      double *soft) {
    if (y) {
        xent_expf16_shifted_sum_body(x, q, y, n, shift, sum, soft, 1, 1);
    } else {
        xent_expf16_shifted_sum_body(x, q, NULL, n, shift, sum, soft, 0, 1);
    }
}

// y = exp(x − shift) over n elements, the sum dropped.
__attribute__((target("avx512f,prfchw"))) static void xent_expf16_shifted__avx512f(const float *x, float *y, size_t n,
                                                                                   float shift) {
    __m512d sum[2] = {_mm512_setzero_pd(), _mm512_setzero_pd()};
    xent_expf16_shifted_sum_body(x, NULL, y, n, shift, sum, NULL, 1, 0);
}

#define XENT_FN xent_f32_expminus_sum__avx512f
#define XENT_TARGET __attribute__((target("avx512f,prfchw")))
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
#define XENT_EXP_SHIFTED(x, y, nvec, shift) xent_expf16_shifted__avx512f((x), (y), 16 * (nvec), (shift))
#define XENT_EXP_SHIFTED_SUM(x, y, n, shift, sum) xent_expf16_shifted_sum__avx512f((x), (y), (n), (shift), (sum))
#define XENT_EXP_SHIFTED_SUM_SOFT(x, q, y, n, shift, sum, soft) \
    xent_expf16_shifted_sum_soft__avx512f((x), (q), (y), (n), (shift), (sum), (soft))
// The two halves' sums added, then a fixed tree over the 8 doubles (no chain of 16 additions).
#define XENT_DSUM_LANES(sum) _mm512_reduce_add_pd(_mm512_add_pd((sum)[0], (sum)[1]))

#define XENT_TANH(x, y, nvec) xent_sleef_tanhf16_u10__avx512f((x), (y), (nvec))

#include "CXent.h"
#include <math.h>
#include "xent_expminus_sum.inc"

#define XENT_MAX_FN xent_f32_max__avx512f
#define XENT_SCALE_FN xent_f32_scale__avx512f
// maxps returns its second operand when either is NaN, so a NaN logit never becomes the max.
#define XENT_MAX_IGNORING_NAN(v, acc) _mm512_max_ps((v), (acc))
// The tail through a masked load (missing lanes −inf), the lanes by a fixed tree of maxps.
#define XENT_MAX_TAIL(x, n, acc) \
    _mm512_max_ps(_mm512_mask_loadu_ps(_mm512_set1_ps(-INFINITY), (__mmask16)((1u << (n)) - 1u), (x)), (acc))
#define XENT_REDUCE_MAX(v) _mm512_reduce_max_ps(v)
#define XENT_SCALE_TAIL(g, n, va)                                                         \
    do {                                                                                  \
        const __mmask16 lanes_ = (__mmask16)((1u << (n)) - 1u);                           \
        _mm512_mask_storeu_ps((g), lanes_, _mm512_mul_ps(_mm512_maskz_loadu_ps(lanes_, (g)), (va))); \
    } while (0)
#include "xent_max_scale.inc"

// x − 0 is x, NaN payloads included, so the shifted loop computes exp(x).
#define XENT_EXP_CHECK_FN xent_exp_mismatches__avx512f
#define XENT_EXP_INLINED(x, y, n) xent_expf16_shifted__avx512f((x), (y), (n), 0.0f)
#define XENT_EXP_LIBRARY(x, y, n) xent_sleef_expf16_u10__avx512f((x), (y), (n) / 16)
#include "xent_exp_check.inc"

#define XENT_CHUNK_FN xent_f32_chunk__avx512f
#define XENT_CHUNK_BODY xent_f32_chunk_body__avx512f
#define XENT_SCALE_CHUNK_FN xent_f32_scale_chunk__avx512f
#define XENT_ROW_FN xent_f32_row__avx512f
#include "xent_row.inc"
#endif
