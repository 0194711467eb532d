// Run-time ISA detection, the XENT_ISA override, and the dispatch of the primitives.
#include <math.h>
#include "CXent.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// The row primitives of one ISA (instantiated from xent_expminus_sum.inc and xent_max_scale.inc).
typedef struct xent_primitives {
    double (*expminus_sum)(const float *x, const xent_row_spec *spec, float *y, size_t n, float shift, double *sums);
    void (*row)(const float *x, const xent_row_spec *spec, float *y, size_t n, const xent_gradient_scales *scales,
                xent_row_sums *out);
    void (*chunk)(const float *x, const xent_row_spec *spec, float *y, size_t len, xent_chunk_sums *out);
    void (*scale_chunk)(float *y, const xent_row_spec *spec, size_t len, float shift, float factor,
                        float q_scale, float smoothing_scale, int64_t label, float label_term);
} xent_primitives;

#define XENT_DECLARE_PRIMITIVES(suffix)                                                                   \
    double xent_f32_expminus_sum__##suffix(const float *, const xent_row_spec *, float *, size_t, float,    \
                                           double *);                                                      \
    void xent_f32_row__##suffix(const float *, const xent_row_spec *, float *, size_t,                     \
                                const xent_gradient_scales *, xent_row_sums *);                            \
    void xent_f32_chunk__##suffix(const float *, const xent_row_spec *, float *, size_t, xent_chunk_sums *); \
    void xent_f32_scale_chunk__##suffix(float *, const xent_row_spec *, size_t, float, float, float, float,    \
                                        int64_t, float);                                                  \
    static const xent_primitives xent_primitives__##suffix = {                                            \
        xent_f32_expminus_sum__##suffix, xent_f32_row__##suffix, xent_f32_chunk__##suffix,                \
        xent_f32_scale_chunk__##suffix};

XENT_DECLARE_PRIMITIVES(scalar)
#if defined(__x86_64__)
#include <cpuid.h>
XENT_DECLARE_PRIMITIVES(sse2)
XENT_DECLARE_PRIMITIVES(avx2_fma)
XENT_DECLARE_PRIMITIVES(avx512f)
#elif defined(__aarch64__)
XENT_DECLARE_PRIMITIVES(advsimd)
#endif

#if defined(__x86_64__)
// XCR0: which register states the OS saves on a context switch.
static uint64_t xent_xgetbv0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

static int xent_cpu_has_avx_state(uint64_t mask) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    if (!(c & bit_OSXSAVE)) return 0;
    return (xent_xgetbv0() & mask) == mask;
}

static int xent_cpu_has_avx2_fma(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    // F16C too (every AVX2 CPU has it): the AVX2 half-precision conversions use it.
    const int fma = (c & bit_FMA) != 0 && (c & bit_AVX) != 0 && (c & bit_F16C) != 0;
    if (!fma || !xent_cpu_has_avx_state(0x6)) return 0;  // XMM and YMM state
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    return (b & bit_AVX2) != 0;
}

static int xent_cpu_has_avx512f(void) {
    unsigned a, b, c, d;
    if (!xent_cpu_has_avx_state(0xE6)) return 0;  // XMM, YMM, opmask, ZMM_Hi256, Hi16_ZMM
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    return (b & bit_AVX512F) != 0;
}
#endif

static int xent_isa_detect(xent_isa isa) {
    switch (isa) {
    case XENT_ISA_SCALAR: return 1;
#if defined(__x86_64__)
    case XENT_ISA_SSE2: return 1;
    case XENT_ISA_AVX2: return xent_cpu_has_avx2_fma();
    case XENT_ISA_AVX512F: return xent_cpu_has_avx512f();
#elif defined(__aarch64__)
    case XENT_ISA_ADVSIMD: return 1;
#endif
    default: return 0;
    }
}

// Bit i set when ISA i is supported; bit 31 marks the mask as computed. CPUID traps to the
// hypervisor in a virtual machine (microseconds per call), so it runs once, not per call.
static _Atomic uint32_t xent_isa_supported_mask = 0;

int xent_isa_is_supported(xent_isa isa) {
    if ((unsigned)isa >= XENT_ISA_COUNT) return 0;
    uint32_t mask = atomic_load_explicit(&xent_isa_supported_mask, memory_order_relaxed);
    if (!(mask & 0x80000000u)) {
        mask = 0x80000000u;
        for (int i = 0; i < XENT_ISA_COUNT; i++) {
            if (xent_isa_detect((xent_isa)i)) mask |= 1u << i;
        }
        atomic_store_explicit(&xent_isa_supported_mask, mask, memory_order_relaxed);
    }
    return (mask >> (unsigned)isa) & 1u;
}

const char *xent_isa_name(xent_isa isa) {
    switch (isa) {
    case XENT_ISA_SCALAR: return "scalar";
    case XENT_ISA_SSE2: return "sse2";
    case XENT_ISA_AVX2: return "avx2";
    case XENT_ISA_AVX512F: return "avx512";
    case XENT_ISA_ADVSIMD: return "advsimd";
    default: return "unknown";
    }
}

static xent_isa xent_isa_best(void) {
    static const xent_isa preference[] = {
        XENT_ISA_AVX512F, XENT_ISA_AVX2, XENT_ISA_SSE2, XENT_ISA_ADVSIMD, XENT_ISA_SCALAR,
    };
    for (size_t i = 0; i < sizeof preference / sizeof preference[0]; i++) {
        if (xent_isa_is_supported(preference[i])) return preference[i];
    }
    return XENT_ISA_SCALAR;
}

// -1 until the first call, then the chosen ISA. Every thread that races here computes the same
// value; the one whose store wins reports a rejected XENT_ISA, so it is reported once.
static _Atomic int xent_isa_state = -1;

xent_isa xent_isa_default(void) {
    int state = atomic_load_explicit(&xent_isa_state, memory_order_relaxed);
    if (state >= 0) return (xent_isa)state;
    const char *forced = getenv("XENT_ISA");
    int rejected = 0;
    xent_isa chosen = xent_isa_best();
    if (forced != NULL && forced[0] != '\0') {
        rejected = 1;
        for (int i = 0; i < XENT_ISA_COUNT; i++) {
            if (strcmp(forced, xent_isa_name((xent_isa)i)) == 0 && xent_isa_is_supported((xent_isa)i)) {
                chosen = (xent_isa)i;
                rejected = 0;
            }
        }
    }
    int expected = -1;
    if (atomic_compare_exchange_strong(&xent_isa_state, &expected, (int)chosen) && rejected) {
        fprintf(stderr,
                "xent: XENT_ISA=%s is not an ISA this CPU supports (avx512, avx2, sse2, advsimd, scalar); "
                "using %s\n",
                forced, xent_isa_name(chosen));
    }
    return chosen;
}

static const xent_primitives *xent_primitives_for(xent_isa isa) {
    switch (isa) {
#if defined(__x86_64__)
    case XENT_ISA_AVX512F: return &xent_primitives__avx512f;
    case XENT_ISA_AVX2: return &xent_primitives__avx2_fma;
    case XENT_ISA_SSE2: return &xent_primitives__sse2;
#elif defined(__aarch64__)
    case XENT_ISA_ADVSIMD: return &xent_primitives__advsimd;
#endif
    default: return &xent_primitives__scalar;
    }
}

double xent_f32_expminus_sum(xent_isa isa, const float *x, float *y, size_t n, float shift) {
    return xent_primitives_for(isa)->expminus_sum(x, NULL, y, n, shift, NULL);
}

void xent_f32_row(xent_isa isa, const float *x, const xent_row_spec *spec, float *y, size_t n,
                  const xent_gradient_scales *scales, xent_row_sums *out) {
    xent_primitives_for(isa)->row(x, spec, y, n, scales, out);
}

void xent_f32_chunk(xent_isa isa, const float *x, const xent_row_spec *spec, float *y, size_t len,
                    xent_chunk_sums *out) {
    xent_primitives_for(isa)->chunk(x, spec, y, len, out);
}

void xent_f32_scale_chunk(xent_isa isa, float *y, const xent_row_spec *spec, size_t len, float shift,
                          float factor, float q_scale, float smoothing_scale, int64_t label, float label_term) {
    xent_primitives_for(isa)->scale_chunk(y, spec, len, shift, factor, q_scale, smoothing_scale, label, label_term);
}

#if defined(__x86_64__)
int64_t xent_exp_mismatches__avx2_fma(uint64_t first, uint64_t count, uint64_t stride);
int64_t xent_exp_mismatches__avx512f(uint64_t first, uint64_t count, uint64_t stride);
#endif

int64_t xent_exp_mismatches(xent_isa isa, uint64_t first, uint64_t count, uint64_t stride) {
    if (!xent_isa_is_supported(isa)) return -1;
#if defined(__x86_64__)
    if (isa == XENT_ISA_AVX512F) return xent_exp_mismatches__avx512f(first, count, stride);
    if (isa == XENT_ISA_AVX2) return xent_exp_mismatches__avx2_fma(first, count, stride);
#endif
    (void)first;
    (void)count;
    (void)stride;
    return -1;
}
