// Run-time ISA detection, the XENT_ISA override, and the configs of the C micro-kernels (AVX-512F,
// AVX2, SSE2); the other ISAs' micro-kernels are Swift (Sources/Xent/MicroKernels.swift).
#include "CXent.h"

#include <stddef.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <xmmintrin.h>
#endif
#if defined(__x86_64__) && defined(__APPLE__)
#include <sys/sysctl.h>
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

#if defined(__APPLE__)
// Darwin gives a thread the AVX-512 register state when it first runs an AVX-512 instruction, so
// XCR0 lacks those bits until then: the kernel's own flag says whether the CPU and the OS support it.
static int xent_darwin_sysctl_flag(const char *name) {
    int value = 0;
    size_t size = sizeof value;
    return sysctlbyname(name, &value, &size, NULL, 0) == 0 && value != 0;
}
#endif

// AVX-512F, and AVX2 with FMA beside it (every AVX-512F CPU has them; a VM could hide them): the
// canonical double functions of xent_f64.c are AVX2+FMA's.
static int xent_cpu_has_avx512f(void) {
    unsigned a, b, c, d;
    if (!xent_cpu_has_avx2_fma()) return 0;
#if defined(__APPLE__)
    if (!xent_darwin_sysctl_flag("hw.optional.avx512f")) return 0;
#else
    if (!xent_cpu_has_avx_state(0xE6)) return 0;  // XMM, YMM, opmask, ZMM_Hi256, Hi16_ZMM
#endif
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    return (b & bit_AVX512F) != 0;
}

// AVX512_BF16 (CPUID.(EAX=7,ECX=1):EAX) with AVX512DQ beside it, on a CPU with AVX-512F (which the
// caller has checked): xent_ukernels__avx512bf16.c.
static int xent_cpu_has_avx512bf16(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(b & bit_AVX512DQ)) return 0;
    if (a < 1 || !__get_cpuid_count(7, 1, &a, &b, &c, &d)) return 0;
    return (a & bit_AVX512BF16) != 0;
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

// Bit i set when ISA i is supported, bit 30 when AVX512_BF16 is; bit 31 marks the mask as computed.
// CPUID traps to the hypervisor in a virtual machine (microseconds per call), so it runs once, not
// per call.
static _Atomic uint32_t xent_cpu_feature_mask = 0;
#define XENT_EXTENSION_AVX512BF16 (1u << 30)
_Static_assert(XENT_ISA_COUNT < 30, "xent_cpu_feature_mask: the ISAs' bits below the extensions'");

static uint32_t xent_cpu_features(void) {
    uint32_t mask = atomic_load_explicit(&xent_cpu_feature_mask, memory_order_relaxed);
    if (!(mask & 0x80000000u)) {
        mask = 0x80000000u;
        for (int i = 0; i < XENT_ISA_COUNT; i++) {
            if (xent_isa_detect((xent_isa)i)) mask |= 1u << i;
        }
#if defined(__x86_64__)
        if ((mask & (1u << XENT_ISA_AVX512F)) && xent_cpu_has_avx512bf16()) mask |= XENT_EXTENSION_AVX512BF16;
#endif
        atomic_store_explicit(&xent_cpu_feature_mask, mask, memory_order_relaxed);
    }
    return mask;
}

int xent_isa_is_supported(xent_isa isa) {
    if ((unsigned)isa >= XENT_ISA_COUNT) return 0;
    return (xent_cpu_features() >> (unsigned)isa) & 1u;
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
        char supported[64] = "";  // the names of the supported ISAs, widest first
        for (int i = XENT_ISA_COUNT - 1; i >= 0; i--) {
            if (!xent_isa_is_supported((xent_isa)i)) continue;
            if (supported[0] != '\0') strncat(supported, ", ", sizeof supported - strlen(supported) - 1);
            strncat(supported, xent_isa_name((xent_isa)i), sizeof supported - strlen(supported) - 1);
        }
        fprintf(stderr, "xent: XENT_ISA=%s is not an ISA this CPU supports (it has: %s); using %s\n", forced,
                supported, xent_isa_name(chosen));
    }
    return chosen;
}

int xent_isa_is_canonical(xent_isa isa) {
    return isa == XENT_ISA_AVX512F || isa == XENT_ISA_AVX2 || isa == XENT_ISA_ADVSIMD;
}

// MARK: - The configs

#define XENT_DECLARE_UKERNELS(isa)                                                                            \
    void xent_f32_rmax_ukernel__##isa##_u64_acc4(size_t, const float *, float *);                              \
    size_t xent_f32_rfindeq_ukernel__##isa##_u64(size_t, const float *, float);                               \
    void xent_f32_raddstoreexpminusmax_ukernel__##isa##_u32_acc2(size_t, const float *, float, const float *,  \
                                                                  float *, int, double *, size_t);             \
    void xent_f32_raddstoreexpscaledminusmax_ukernel__##isa##_u32_acc2(size_t, const float *, float, float,    \
                                                                        const float *, float *, int, double *,  \
                                                                        size_t);                                \
    void xent_f32_raddstoreexpminusmax_targets_ukernel__##isa##_u32_acc2(size_t, const float *, float,         \
                                                                          const float *, const float *, int,     \
                                                                          float *, double *, size_t);             \
    void xent_f32_rsumtargets_ukernel__##isa##_u16(size_t, const float *, float, const float *, const float *, \
                                                    int, double *);                                            \
    void xent_f32_vtransform_ukernel__##isa##_u16(size_t, const float *, float *, float, float);               \
    void xent_f32_vtransform_rmax_ukernel__##isa##_u16(size_t, const float *, float *, float, float, float *); \
    void xent_f32_vgradient_ukernel__##isa##_u32(size_t, float *, const float *, const float *, int, float,     \
                                                  float, float);                                               \
    void xent_f32_vgradientsoftcap_ukernel__##isa##_u16(size_t, float *, const float *, const float *, int,    \
                                                         float, float, float, float, float, int64_t, float);

#define XENT_DECLARE_HALF_UKERNELS(f16_widen_fn, f16_round_fn, bf16_isa)                     \
    void f16_widen_fn(size_t, const uint16_t *, float *, size_t);                        \
    void f16_round_fn(size_t, const float *, uint16_t *, size_t);                        \
    void xent_bf16_widen_ukernel__##bf16_isa(size_t, const uint16_t *, float *, size_t); \
    void xent_bf16_round_ukernel__##bf16_isa(size_t, const float *, uint16_t *, size_t);

#define XENT_DECLARE_FUSED_HALF_UKERNELS(isa)                                                                          \
    void xent_f16_rmaxwiden_ukernel__##isa##_u64_acc4(size_t, const uint16_t *, float *, float *, size_t);             \
    void xent_bf16_rmaxwiden_ukernel__##isa##_u64_acc4(size_t, const uint16_t *, float *, float *, size_t);            \
    size_t xent_u16_rfindeq_ukernel__##isa##_u64(size_t, const uint16_t *, uint16_t, uint16_t);                      \
    void xent_f16_vgradientround_ukernel__##isa##_u32(size_t, const float *, const float *, const float *, int,        \
                                                       float, float, float, int64_t, float, uint16_t *, size_t);       \
    void xent_bf16_vgradientround_ukernel__##isa##_u32(size_t, const float *, const float *, const float *,            \
                                                        int, float, float, float, int64_t, float, uint16_t *, size_t); \
    void xent_f16_raddstoreexpminusmax_ukernel__##isa##_u32_acc2(size_t, const uint16_t *, float, const float *,       \
                                                                  float *, uint16_t *, double *, size_t);              \
    void xent_bf16_raddstoreexpminusmax_ukernel__##isa##_u32_acc2(size_t, const uint16_t *, float, const float *,      \
                                                                   float *, uint16_t *, double *, size_t);

// `bf16_vgradientround`: the bfloat16 gradient-rounding kernel, the ISA's own or an extension's.
#define XENT_FUSED_HALF(sfx, bf16_vgradientround_fn)                                                                   \
    .f16_rmaxwiden = xent_f16_rmaxwiden_ukernel__##sfx##_u64_acc4,                                                     \
    .f16_vgradientround = xent_f16_vgradientround_ukernel__##sfx##_u32,                                                \
    .bf16_rmaxwiden = xent_bf16_rmaxwiden_ukernel__##sfx##_u64_acc4,                                                   \
    .u16_rfindeq = xent_u16_rfindeq_ukernel__##sfx##_u64,                                                              \
    .bf16_vgradientround = bf16_vgradientround_fn,                                                                     \
    .f16_raddstoreexpminusmax = xent_f16_raddstoreexpminusmax_ukernel__##sfx##_u32_acc2,                               \
    .bf16_raddstoreexpminusmax = xent_bf16_raddstoreexpminusmax_ukernel__##sfx##_u32_acc2,

#define XENT_CONFIG(name, isa_value, sfx, f16_widen_fn, f16_round_fn, bf16_isa, bf16_round_fn, ...)              \
    static const xent_ukernel_config name = {                                                                \
        .isa = isa_value,                                                                                    \
        .rmax = xent_f32_rmax_ukernel__##sfx##_u64_acc4,                                                     \
        .rfindeq = xent_f32_rfindeq_ukernel__##sfx##_u64,                                                    \
        .raddstoreexpminusmax = xent_f32_raddstoreexpminusmax_ukernel__##sfx##_u32_acc2,                     \
        .raddstoreexpscaledminusmax = xent_f32_raddstoreexpscaledminusmax_ukernel__##sfx##_u32_acc2,         \
        .raddstoreexpminusmax_targets = xent_f32_raddstoreexpminusmax_targets_ukernel__##sfx##_u32_acc2,     \
        .rsumtargets = xent_f32_rsumtargets_ukernel__##sfx##_u16,                                            \
        .vtransform = xent_f32_vtransform_ukernel__##sfx##_u16,                                              \
        .vtransform_rmax = xent_f32_vtransform_rmax_ukernel__##sfx##_u16,                                    \
        .vgradient = xent_f32_vgradient_ukernel__##sfx##_u32,                                                \
        .vgradientsoftcap = xent_f32_vgradientsoftcap_ukernel__##sfx##_u16,                                  \
        .f16_widen = f16_widen_fn,                                                                              \
        .f16_round = f16_round_fn,                                                                              \
        .bf16_widen = xent_bf16_widen_ukernel__##bf16_isa,                                                   \
        .bf16_round = bf16_round_fn,                                                                         \
        __VA_ARGS__                                                                                          \
    };

#if defined(__x86_64__)
XENT_DECLARE_UKERNELS(sse2)
XENT_DECLARE_UKERNELS(avx2_fma)
XENT_DECLARE_UKERNELS(avx512f)
XENT_DECLARE_HALF_UKERNELS(xent_f16_widen_ukernel__f16c_u8, xent_f16_round_ukernel__f16c_u8, avx2)
XENT_DECLARE_HALF_UKERNELS(xent_f16_widen_ukernel__avx512f_u16, xent_f16_round_ukernel__avx512f_u16, avx512f)
XENT_DECLARE_HALF_UKERNELS(xent_f16_widen_ukernel__sse2, xent_f16_round_ukernel__sse2, sse2)
XENT_DECLARE_FUSED_HALF_UKERNELS(avx2_fma)
XENT_DECLARE_FUSED_HALF_UKERNELS(avx512f)
void xent_bf16_round_ukernel__avx512bf16_u32(size_t, const float *, uint16_t *, size_t);
void xent_bf16_vgradientround_ukernel__avx512bf16_u32(size_t, const float *, const float *, const float *, int, float,
                                                      float, float, int64_t, float, uint16_t *, size_t);
// SSE2 has no fused 16-bit passes (no F16C) nor 16-bit lanes: its config leaves them and u16_rfindeq NULL.
XENT_CONFIG(xent_config_sse2, XENT_ISA_SSE2, sse2, xent_f16_widen_ukernel__sse2, xent_f16_round_ukernel__sse2, sse2,
            xent_bf16_round_ukernel__sse2, )
// The forward exp passes taking the next row's max (xent_f32x16.h): over 16-bit rows AVX2's and
// AVX-512F's (their files define XENT_RMAXNEXT_HALF), over floats AVX-512F's alone (XENT_RMAXNEXT_F32).
#define XENT_RMAXNEXT_HALF_DECLARE(sfx)                                                                                \
    void xent_f16_raddexpminusmax_rmaxnext_ukernel__##sfx##_u32_acc2(size_t, const uint16_t *, float, double *,        \
                                                                     size_t, const uint16_t *, size_t, float *);       \
    void xent_bf16_raddexpminusmax_rmaxnext_ukernel__##sfx##_u32_acc2(size_t, const uint16_t *, float, double *,       \
                                                                      size_t, const uint16_t *, size_t, float *);
#define XENT_RMAXNEXT_HALF_FIELDS(sfx)                                                                                 \
    .f16_raddexpminusmax_rmaxnext = xent_f16_raddexpminusmax_rmaxnext_ukernel__##sfx##_u32_acc2,                       \
    .bf16_raddexpminusmax_rmaxnext = xent_bf16_raddexpminusmax_rmaxnext_ukernel__##sfx##_u32_acc2,
XENT_RMAXNEXT_HALF_DECLARE(avx2_fma)
XENT_RMAXNEXT_HALF_DECLARE(avx512f)
void xent_f32_raddexpminusmax_rmaxnext_ukernel__avx512f_u32_acc2(size_t, const float *, float, double *, size_t,
                                                                 const float *, size_t, float *);
void xent_f32_raddexpscaledminusmax_rmaxnext_ukernel__avx512f_u32_acc2(size_t, const float *, float, float, double *,
                                                                       size_t, const float *, size_t, float *);
XENT_CONFIG(xent_config_avx2, XENT_ISA_AVX2, avx2_fma, xent_f16_widen_ukernel__f16c_u8,
            xent_f16_round_ukernel__f16c_u8, avx2, xent_bf16_round_ukernel__avx2,
            XENT_FUSED_HALF(avx2_fma, xent_bf16_vgradientround_ukernel__avx2_fma_u32)
                XENT_RMAXNEXT_HALF_FIELDS(avx2_fma))
#define XENT_RMAXNEXT_AVX512F                                                                                          \
    .raddexpminusmax_rmaxnext = xent_f32_raddexpminusmax_rmaxnext_ukernel__avx512f_u32_acc2,                           \
    .raddexpscaledminusmax_rmaxnext = xent_f32_raddexpscaledminusmax_rmaxnext_ukernel__avx512f_u32_acc2,               \
    XENT_RMAXNEXT_HALF_FIELDS(avx512f)
XENT_CONFIG(xent_config_avx512f, XENT_ISA_AVX512F, avx512f, xent_f16_widen_ukernel__avx512f_u16,
            xent_f16_round_ukernel__avx512f_u16, avx512f, xent_bf16_round_ukernel__avx512f,
            XENT_FUSED_HALF(avx512f, xent_bf16_vgradientround_ukernel__avx512f_u32) XENT_RMAXNEXT_AVX512F)
// AVX-512F's config on a CPU with AVX512_BF16: its bfloat16 rounding by vcvtneps2bf16.
XENT_CONFIG(xent_config_avx512f_avx512bf16, XENT_ISA_AVX512F, avx512f, xent_f16_widen_ukernel__avx512f_u16,
            xent_f16_round_ukernel__avx512f_u16, avx512f, xent_bf16_round_ukernel__avx512bf16_u32,
            XENT_FUSED_HALF(avx512f, xent_bf16_vgradientround_ukernel__avx512bf16_u32) XENT_RMAXNEXT_AVX512F)
#endif

const xent_ukernel_config *xent_ukernel_config_get(xent_isa isa) {
#if defined(__x86_64__)
    // Not while the calling thread has DAZ (MXCSR bit 6) set, which a call's threads inherit: the
    // AVX512_BF16 kernels find subnormals with vfpclassps, which then reports none (seen on Zen 4),
    // so they would round them as vcvtneps2bf16 does, to zero, where every other config keeps them.
    if (isa == XENT_ISA_AVX512F && (xent_cpu_features() & XENT_EXTENSION_AVX512BF16) && !(_mm_getcsr() & 0x40)) {
        return &xent_config_avx512f_avx512bf16;
    }
#endif
    return xent_ukernel_config_get_without_extensions(isa);
}

const xent_ukernel_config *xent_ukernel_config_get_without_extensions(xent_isa isa) {
    switch (isa) {
#if defined(__x86_64__)
    case XENT_ISA_AVX512F: return &xent_config_avx512f;
    case XENT_ISA_AVX2: return &xent_config_avx2;
    case XENT_ISA_SSE2: return &xent_config_sse2;
#endif
    default: return NULL;
    }
}

// The config Swift reads by field names through the importer: its pointers, nothing else.
_Static_assert(sizeof(xent_ukernel_config) == 26 * sizeof(void *), "xent_ukernel_config: isa + 25 pointers");

// MARK: - Checks and measurement

#if defined(__x86_64__)
int64_t xent_exp_mismatches__avx2_fma(uint64_t first, uint64_t count, uint64_t stride);
int64_t xent_exp_mismatches__avx512f(uint64_t first, uint64_t count, uint64_t stride);
int64_t xent_tanh_mismatches__avx2_fma(uint64_t first, uint64_t count, uint64_t stride);
int64_t xent_tanh_mismatches__avx512f(uint64_t first, uint64_t count, uint64_t stride);
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

int64_t xent_tanh_mismatches(xent_isa isa, uint64_t first, uint64_t count, uint64_t stride) {
    if (!xent_isa_is_supported(isa)) return -1;
#if defined(__x86_64__)
    if (isa == XENT_ISA_AVX512F) return xent_tanh_mismatches__avx512f(first, count, stride);
    if (isa == XENT_ISA_AVX2) return xent_tanh_mismatches__avx2_fma(first, count, stride);
#endif
    (void)first;
    (void)count;
    (void)stride;
    return -1;
}
