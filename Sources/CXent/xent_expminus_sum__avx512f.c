// AVX-512F: Sleef_expf16_u10avx512f, reached only through the pointer-taking assembly loop in
// xent_sleef_x86_64.S (see xent_expminus_sum__avx2_fma.c for why).
#if defined(__x86_64__)
#include <immintrin.h>
#include "xent_sleef_trampolines.h"

#define XENT_FN xent_f32_expminus_sum__avx512f
#define XENT_TARGET __attribute__((target("avx512f")))
#define XENT_W 16
typedef __m512 xent_vec;
#define XENT_ZERO() _mm512_setzero_ps()
#define XENT_LOADU(p) _mm512_loadu_ps(p)
#define XENT_ADD(a, b) _mm512_add_ps((a), (b))
#define XENT_STOREU(p, v) _mm512_storeu_ps((p), (v))
#define XENT_EXP_SHIFTED(x, y, nvec, shift) xent_sleef_expf16_u10_shifted__avx512f((x), (y), (nvec), (shift))

#include "xent_expminus_sum.inc"
#endif
