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
#define XENT_LOADU(p) _mm256_loadu_ps(p)
#define XENT_ADD(a, b) _mm256_add_ps((a), (b))
#define XENT_STOREU(p, v) _mm256_storeu_ps((p), (v))
#define XENT_EXP_SHIFTED(x, y, nvec, shift) xent_sleef_expf8_u10_shifted__avx2((x), (y), (nvec), (shift))

#include "xent_expminus_sum.inc"
#endif
