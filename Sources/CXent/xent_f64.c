// A row's double-precision functions — log S, the chunks' exp(m_c − m), a softcapped label's tanh —
// pinned to one SLEEF function per ISA family, so that they depend on their argument and the
// family alone, never on the host (SLEEF's dispatchers pick an FMA variant where the CPU has FMA).
#include "CXent.h"

#include <sleef.h>
#include <stddef.h>

#if defined(__x86_64__)
#include <emmintrin.h>
// 128-bit vectors are the x86-64 baseline's: they cross these calls in xmm registers the same way
// on both sides (unlike 256/512-bit vectors). The avx2128 functions need AVX2+FMA, which every
// canonical x86 ISA implies.
#define XENT_F64_PAIR(isa, fn, in) \
    (xent_isa_is_canonical(isa) ? Sleef_##fn##d2_u10avx2128(in) : Sleef_##fn##d2_u10sse2(in))
typedef __m128d xent_f64x2;
#define XENT_F64X2_LOAD(p) _mm_loadu_pd(p)
#define XENT_F64X2_STORE(p, v) _mm_storeu_pd((p), (v))
#define XENT_F64X2_SET1(d) _mm_set1_pd(d)
#define XENT_F64X2_LANE0(v) _mm_cvtsd_f64(v)
#elif defined(__aarch64__)
#include <arm_neon.h>
// AdvSIMD has FMA: the one family here (the scalar ISA shares its log).
#define XENT_F64_PAIR(isa, fn, in) ((void)(isa), Sleef_##fn##d2_u10advsimd(in))
typedef float64x2_t xent_f64x2;
#define XENT_F64X2_LOAD(p) vld1q_f64(p)
#define XENT_F64X2_STORE(p, v) vst1q_f64((p), (v))
#define XENT_F64X2_SET1(d) vdupq_n_f64(d)
#define XENT_F64X2_LANE0(v) vgetq_lane_f64((v), 0)
#endif

void xent_f64_log(xent_isa isa, const double *x, double *y, size_t n) {
    size_t i = 0;
#if defined(XENT_F64_PAIR)
    for (; i + 2 <= n; i += 2) XENT_F64X2_STORE(y + i, XENT_F64_PAIR(isa, log, XENT_F64X2_LOAD(x + i)));
    if (i < n) y[i] = XENT_F64X2_LANE0(XENT_F64_PAIR(isa, log, XENT_F64X2_SET1(x[i])));
#else
    (void)isa;
    for (; i < n; i++) y[i] = Sleef_logd1_u10purec(x[i]);
#endif
}

double xent_f64_exp(xent_isa isa, double x) {
#if defined(XENT_F64_PAIR)
    return XENT_F64X2_LANE0(XENT_F64_PAIR(isa, exp, XENT_F64X2_SET1(x)));
#else
    (void)isa;
    return Sleef_expd1_u10purec(x);
#endif
}

double xent_f64_tanh(xent_isa isa, double x) {
#if defined(XENT_F64_PAIR)
    return XENT_F64X2_LANE0(XENT_F64_PAIR(isa, tanh, XENT_F64X2_SET1(x)));
#else
    (void)isa;
    return Sleef_tanhd1_u10purec(x);
#endif
}
