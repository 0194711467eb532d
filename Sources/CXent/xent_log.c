// The rows' log S, many at a time: SLEEF's 1-ULP double log on two lanes per call.
#include "CXent.h"

#include <sleef.h>
#include <stddef.h>

#if defined(__x86_64__)
#include <emmintrin.h>
#elif defined(__aarch64__)
#include <arm_neon.h>
#endif

#if defined(__x86_64__)
// The SSE2 function by name, not the Sleef_logd2_u10 dispatcher: on a CPU with FMA that runs the
// FMA variant, whose last bit differs on ~1 input in 1.4 million, so the loss would depend on
// the host. A 128-bit vector is the x86-64 baseline's: it crosses the call in xmm registers the
// same way on both sides (unlike 256/512-bit vectors).
#define XENT_LOG2(in, out) _mm_storeu_pd((out), Sleef_logd2_u10sse2(_mm_loadu_pd(in)))
#elif defined(__aarch64__)
#define XENT_LOG2(in, out) vst1q_f64((out), Sleef_logd2_u10(vld1q_f64(in)))
#endif

void xent_log_u10(const double *x, double *y, size_t n) {
    size_t i = 0;
#if defined(XENT_LOG2)
    for (; i + 2 <= n; i += 2) XENT_LOG2(x + i, y + i);
    if (i < n) {
        const double pair[2] = {x[i], 1.0};  // the second lane's value changes no bit of the first
        double out[2];
        XENT_LOG2(pair, out);
        y[i] = out[0];
    }
#else
    for (; i < n; i++) y[i] = Sleef_log_u10(x[i]);
#endif
}
