// Test groups: SLEEF 3.5.1's 1-ULP exp, tanh (float) and log, exp (double), the library's
// x86-64 functions (AVX-512F, AVX2, AVX2 on 128 bits, SSE2, their no-FMA twins, the scalar
// "purec"/"purecfma" ones and the plain scalar ones) against its aarch64 functions (AdvSIMD,
// AdvSIMD without FMA, the same scalar ones), plus glibc's exp and log in double (no longer called
// by the shim: xent_f64.c pins SLEEF's double log, exp and tanh per ISA family).
//
// Each variant has a family; a comparison asserts equality (XG_EQUAL) when the two families
// are the same, and is informational (XG_INFO) otherwise. The families are what this driver
// measured (Tests/CXentArm64/README.md):
//   "fma"    SLEEF's FMA code path: avx512f, avx2, avx2128, purecfma; advsimd, purecfma
//   "nofma"  SLEEF's code path without FMA: sse2, avx512fnofma, purec; advsimdnofma, purec
//   the plain scalar functions (Sleef_expf_u10 ...) and libm are each their own family.
//
// The 256/512-bit x86 functions are called from functions with the matching target attribute,
// so the driver needs no -m flags.
#include "golden.h"

#include <float.h>
#include <math.h>
#include <sleef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__)
#include <immintrin.h>
#elif defined(__aarch64__)
#include <arm_neon.h>
#endif

// n a multiple of 16, except in the exhaustive checks' last block, whose inputs are zero-padded to
// the buffers' 4096.
typedef void (*vf32)(const float *x, float *y, size_t n);
typedef void (*vf64)(const double *x, double *y, size_t n);

typedef struct {
    const char *name;    // the array's name (aarch64 variants: "a64." + the SLEEF suffix)
    const char *family;  // comparisons within a family must be bitwise equal
    void *fn;            // vf32 or vf64
    int available;       // the CPU runs it
} variant;

// ---- The variants' loops -------------------------------------------------------------------

#if defined(__x86_64__)
// sleef.h declares the x86 scalar FMA functions only when the translation unit is compiled for FMA.
float Sleef_expf1_u10purecfma(float);
float Sleef_tanhf1_u10purecfma(float);
double Sleef_logd1_u10purecfma(double);
double Sleef_expd1_u10purecfma(double);
#endif

#define SCALAR_LOOP(wrapper, T, fn)                                         \
    static void wrapper(const T *x, T *y, size_t n) {                       \
        for (size_t i = 0; i < n; i++) y[i] = fn(x[i]);                     \
    }
SCALAR_LOOP(expf_scalar, float, Sleef_expf_u10)
SCALAR_LOOP(expf_purec, float, Sleef_expf1_u10purec)
SCALAR_LOOP(expf_purecfma, float, Sleef_expf1_u10purecfma)
SCALAR_LOOP(tanhf_scalar, float, Sleef_tanhf_u10)
SCALAR_LOOP(tanhf_purec, float, Sleef_tanhf1_u10purec)
SCALAR_LOOP(tanhf_purecfma, float, Sleef_tanhf1_u10purecfma)
SCALAR_LOOP(logd_scalar, double, Sleef_log_u10)
SCALAR_LOOP(logd_purec, double, Sleef_logd1_u10purec)
SCALAR_LOOP(logd_purecfma, double, Sleef_logd1_u10purecfma)
SCALAR_LOOP(logd_libm, double, log)
SCALAR_LOOP(expd_scalar, double, Sleef_exp_u10)
SCALAR_LOOP(expd_purec, double, Sleef_expd1_u10purec)
SCALAR_LOOP(expd_purecfma, double, Sleef_expd1_u10purecfma)
SCALAR_LOOP(expd_libm, double, exp)

#if defined(__x86_64__)
// sleef.h declares the 256/512-bit functions only when the translation unit is compiled for them;
// declared here with the target attribute that lets clang pass the wide vectors in registers.
__attribute__((target("avx512f"))) __m512 Sleef_expf16_u10avx512f(__m512);
__attribute__((target("avx512f"))) __m512 Sleef_expf16_u10avx512fnofma(__m512);
__attribute__((target("avx512f"))) __m512 Sleef_tanhf16_u10avx512f(__m512);
__attribute__((target("avx512f"))) __m512 Sleef_tanhf16_u10avx512fnofma(__m512);
__attribute__((target("avx512f"))) __m512d Sleef_logd8_u10avx512f(__m512d);
__attribute__((target("avx512f"))) __m512d Sleef_logd8_u10avx512fnofma(__m512d);
__attribute__((target("avx512f"))) __m512d Sleef_expd8_u10avx512f(__m512d);
__attribute__((target("avx512f"))) __m512d Sleef_expd8_u10avx512fnofma(__m512d);
__attribute__((target("avx2,fma"))) __m256 Sleef_expf8_u10avx2(__m256);
__attribute__((target("avx2,fma"))) __m256 Sleef_tanhf8_u10avx2(__m256);
__attribute__((target("avx2,fma"))) __m256d Sleef_logd4_u10avx2(__m256d);
__attribute__((target("avx2,fma"))) __m256d Sleef_expd4_u10avx2(__m256d);

#define VEC_LOOP(wrapper, T, W, isa, vload, vstore, fn)                     \
    __attribute__((target(isa))) static void wrapper(const T *x, T *y, size_t n) { \
        for (size_t i = 0; i < n; i += W) vstore(y + i, fn(vload(x + i)));  \
    }
VEC_LOOP(expf_avx512f, float, 16, "avx512f", _mm512_loadu_ps, _mm512_storeu_ps, Sleef_expf16_u10avx512f)
VEC_LOOP(expf_avx512fnofma, float, 16, "avx512f", _mm512_loadu_ps, _mm512_storeu_ps, Sleef_expf16_u10avx512fnofma)
VEC_LOOP(expf_avx2, float, 8, "avx2,fma", _mm256_loadu_ps, _mm256_storeu_ps, Sleef_expf8_u10avx2)
VEC_LOOP(expf_avx2128, float, 4, "avx2,fma", _mm_loadu_ps, _mm_storeu_ps, Sleef_expf4_u10avx2128)
VEC_LOOP(expf_sse2, float, 4, "sse2", _mm_loadu_ps, _mm_storeu_ps, Sleef_expf4_u10sse2)
VEC_LOOP(tanhf_avx512f, float, 16, "avx512f", _mm512_loadu_ps, _mm512_storeu_ps, Sleef_tanhf16_u10avx512f)
VEC_LOOP(tanhf_avx512fnofma, float, 16, "avx512f", _mm512_loadu_ps, _mm512_storeu_ps, Sleef_tanhf16_u10avx512fnofma)
VEC_LOOP(tanhf_avx2, float, 8, "avx2,fma", _mm256_loadu_ps, _mm256_storeu_ps, Sleef_tanhf8_u10avx2)
VEC_LOOP(tanhf_avx2128, float, 4, "avx2,fma", _mm_loadu_ps, _mm_storeu_ps, Sleef_tanhf4_u10avx2128)
VEC_LOOP(tanhf_sse2, float, 4, "sse2", _mm_loadu_ps, _mm_storeu_ps, Sleef_tanhf4_u10sse2)
VEC_LOOP(logd_avx512f, double, 8, "avx512f", _mm512_loadu_pd, _mm512_storeu_pd, Sleef_logd8_u10avx512f)
VEC_LOOP(logd_avx512fnofma, double, 8, "avx512f", _mm512_loadu_pd, _mm512_storeu_pd, Sleef_logd8_u10avx512fnofma)
VEC_LOOP(logd_avx2, double, 4, "avx2,fma", _mm256_loadu_pd, _mm256_storeu_pd, Sleef_logd4_u10avx2)
VEC_LOOP(logd_avx2128, double, 2, "avx2,fma", _mm_loadu_pd, _mm_storeu_pd, Sleef_logd2_u10avx2128)
VEC_LOOP(logd_sse2, double, 2, "sse2", _mm_loadu_pd, _mm_storeu_pd, Sleef_logd2_u10sse2)
VEC_LOOP(expd_avx512f, double, 8, "avx512f", _mm512_loadu_pd, _mm512_storeu_pd, Sleef_expd8_u10avx512f)
VEC_LOOP(expd_avx512fnofma, double, 8, "avx512f", _mm512_loadu_pd, _mm512_storeu_pd, Sleef_expd8_u10avx512fnofma)
VEC_LOOP(expd_avx2, double, 4, "avx2,fma", _mm256_loadu_pd, _mm256_storeu_pd, Sleef_expd4_u10avx2)
VEC_LOOP(expd_avx2128, double, 2, "avx2,fma", _mm_loadu_pd, _mm_storeu_pd, Sleef_expd2_u10avx2128)
VEC_LOOP(expd_sse2, double, 2, "sse2", _mm_loadu_pd, _mm_storeu_pd, Sleef_expd2_u10sse2)

static int has_avx512f(void) { return __builtin_cpu_supports("avx512f"); }
static int has_avx2_fma(void) { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }

#define X86_VARIANTS(f)                                                        \
    {"avx512f", "fma", (void *)f##_avx512f, 1 + 2},                                  \
    {"avx2", "fma", (void *)f##_avx2, 1 + 4},                                        \
    {"avx2128", "fma", (void *)f##_avx2128, 1 + 4},                                  \
    {"purecfma", "fma", (void *)f##_purecfma, 1 + 4},                                \
    {"sse2", "nofma", (void *)f##_sse2, 1},                                          \
    {"avx512fnofma", "nofma", (void *)f##_avx512fnofma, 1 + 2},                      \
    {"purec", "nofma", (void *)f##_purec, 1},                                        \
    {"scalar", "scalar", (void *)f##_scalar, 1}
// (available: 1, plus 2 "needs AVX-512F", 4 "needs AVX2 and FMA"; resolved in run_group)
static variant expf_variants[] = {X86_VARIANTS(expf)};
static variant tanhf_variants[] = {X86_VARIANTS(tanhf)};
static variant logd_variants[] = {X86_VARIANTS(logd), {"libm", "libm", (void *)logd_libm, 1}};
static variant expd_variants[] = {X86_VARIANTS(expd), {"libm", "libm", (void *)expd_libm, 1}};

#elif defined(__aarch64__)

#define VEC_LOOP(wrapper, T, W, vload, vstore, fn)                          \
    static void wrapper(const T *x, T *y, size_t n) {                       \
        for (size_t i = 0; i < n; i += W) vstore(y + i, fn(vload(x + i)));  \
    }
VEC_LOOP(expf_advsimd, float, 4, vld1q_f32, vst1q_f32, Sleef_expf4_u10advsimd)
VEC_LOOP(expf_advsimdnofma, float, 4, vld1q_f32, vst1q_f32, Sleef_expf4_u10advsimdnofma)
VEC_LOOP(expf_dispatch, float, 4, vld1q_f32, vst1q_f32, Sleef_expf4_u10)
VEC_LOOP(tanhf_advsimd, float, 4, vld1q_f32, vst1q_f32, Sleef_tanhf4_u10advsimd)
VEC_LOOP(tanhf_advsimdnofma, float, 4, vld1q_f32, vst1q_f32, Sleef_tanhf4_u10advsimdnofma)
VEC_LOOP(tanhf_dispatch, float, 4, vld1q_f32, vst1q_f32, Sleef_tanhf4_u10)
VEC_LOOP(logd_advsimd, double, 2, vld1q_f64, vst1q_f64, Sleef_logd2_u10advsimd)
VEC_LOOP(logd_advsimdnofma, double, 2, vld1q_f64, vst1q_f64, Sleef_logd2_u10advsimdnofma)
VEC_LOOP(logd_dispatch, double, 2, vld1q_f64, vst1q_f64, Sleef_logd2_u10)
VEC_LOOP(expd_advsimd, double, 2, vld1q_f64, vst1q_f64, Sleef_expd2_u10advsimd)
VEC_LOOP(expd_advsimdnofma, double, 2, vld1q_f64, vst1q_f64, Sleef_expd2_u10advsimdnofma)
VEC_LOOP(expd_dispatch, double, 2, vld1q_f64, vst1q_f64, Sleef_expd2_u10)

// "dispatch": SLEEF's Sleef_expf4_u10 etc. (on arm64, the AdvSIMD functions).
#define A64_VARIANTS(f)                                                \
    {"a64.advsimd", "fma", (void *)f##_advsimd, 1},                    \
    {"a64.dispatch", "fma", (void *)f##_dispatch, 1},                  \
    {"a64.purecfma", "fma", (void *)f##_purecfma, 1},                  \
    {"a64.advsimdnofma", "nofma", (void *)f##_advsimdnofma, 1},        \
    {"a64.purec", "nofma", (void *)f##_purec, 1},                      \
    {"a64.scalar", "scalar", (void *)f##_scalar, 1}
static variant expf_variants[] = {A64_VARIANTS(expf)};
static variant tanhf_variants[] = {A64_VARIANTS(tanhf)};
static variant logd_variants[] = {A64_VARIANTS(logd), {"a64.libm", "libm", (void *)logd_libm, 1}};
static variant expd_variants[] = {A64_VARIANTS(expd), {"a64.libm", "libm", (void *)expd_libm, 1}};
// The x86 names a comparison may refer to (in the golden file), with their families.
static const variant x86_names[] = {
    {"avx512f", "fma", NULL, 0},  {"avx2", "fma", NULL, 0},          {"avx2128", "fma", NULL, 0},
    {"purecfma", "fma", NULL, 0}, {"sse2", "nofma", NULL, 0},        {"avx512fnofma", "nofma", NULL, 0},
    {"purec", "nofma", NULL, 0},  {"scalar", "scalar", NULL, 0},     {"libm", "libm", NULL, 0},
};
#else
#error "x86-64 or aarch64"
#endif

// ---- Inputs ---------------------------------------------------------------------------------

typedef struct {
    double lo, hi;
} range;

static float bits_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static double bits_f64(uint64_t u) {
    double d;
    memcpy(&d, &u, 8);
    return d;
}

// Specials, then for each of `count` ranges an equal share of uniform values, with a quarter of
// everything random bit patterns (every class, NaNs included) and a tenth log-uniform magnitudes
// from 2^-150 to 1 (subnormals too) of either sign.
static void fill_f32(float *x, size_t n, uint64_t seed, const range *r, size_t count, const float *special,
                     size_t nspecial) {
    uint64_t s = seed;
    size_t i = 0;
    for (; i < nspecial && i < n; i++) x[i] = special[i];
    const size_t random_bits = n / 4, tiny = n / 10;
    for (size_t k = 0; k < random_bits && i < n; k++) x[i++] = bits_f32((uint32_t)xg_rand(&s));
    for (size_t k = 0; k < tiny && i < n; k++) {
        const float m = (float)ldexp(xg_uniform(&s, 1.0, 2.0), (int)(xg_rand(&s) % 151) - 151);
        x[i++] = (xg_rand(&s) & 1) ? -m : m;
    }
    const size_t left = n - i;
    for (size_t j = 0; j < count; j++) {
        const size_t share = j + 1 < count ? left / count : n - i;
        for (size_t k = 0; k < share; k++) x[i++] = (float)xg_uniform(&s, r[j].lo, r[j].hi);
    }
}

static void fill_f64(double *x, size_t n, uint64_t seed, const range *r, size_t count, const double *special,
                     size_t nspecial, int log_uniform) {
    uint64_t s = seed;
    size_t i = 0;
    for (; i < nspecial && i < n; i++) x[i] = special[i];
    const size_t random_bits = n / 8;
    for (size_t k = 0; k < random_bits && i < n; k++) x[i++] = bits_f64(xg_rand(&s));
    const size_t left = n - i;
    for (size_t j = 0; j < count; j++) {
        const size_t share = j + 1 < count ? left / count : n - i;
        for (size_t k = 0; k < share; k++) {
            if (log_uniform && r[j].lo > 0) {
                x[i++] = exp(xg_uniform(&s, log(r[j].lo), log(r[j].hi)));
            } else {
                x[i++] = xg_uniform(&s, r[j].lo, r[j].hi);
            }
        }
    }
}

#define F32_SPECIALS                                                                                       \
    0.0f, -0.0f, INFINITY, -INFINITY, NAN, -NAN, bits_f32(0x7f800001u), bits_f32(0xffc12345u), FLT_MAX,     \
        -FLT_MAX, FLT_MIN, -FLT_MIN, bits_f32(1), bits_f32(0x80000001u), bits_f32(0x007fffffu),            \
        bits_f32(0x807fffffu), 1.0f, -1.0f

static void gen_expf(float *x, size_t n) {
    static const range r[] = {
        {-110.0, 0.0},        // exp(x − max): the kernels' arguments
        {-200.0, 200.0},      //
        {-105.0, -103.0},     // SLEEF's lower limit (0 below −104)
        {-88.0, -86.5},       // the normal/subnormal boundary of the result
        {88.0, 89.0},         // overflow (88.72)
        {99.0, 101.0},        // SLEEF's upper limit (inf above 100)
        {-1.0, 1.0},          //
    };
    const float special[] = {F32_SPECIALS, 88.72283935546875f, 88.7228470f, -103.972076f, -104.0f, 100.0f,
                             -87.3365479f};
    fill_f32(x, n, 1, r, sizeof r / sizeof r[0], special, sizeof special / sizeof special[0]);
}

static void gen_tanhf(float *x, size_t n) {
    static const range r[] = {
        {-12.0, 12.0},        // softcapped logits z/c: |z/c| up to a few, saturation near 9
        {-3.0, 3.0},          //
        {-1e-3, 1e-3},        //
        {8.0, 10.0},          // saturation to ±1
        {-10.0, -8.0},        //
        {-200.0, 200.0},      //
    };
    const float special[] = {F32_SPECIALS, 8.66433907f, -8.66433907f, 0x1p-12f, -0x1p-12f};
    fill_f32(x, n, 2, r, sizeof r / sizeof r[0], special, sizeof special / sizeof special[0]);
}

#define F64_SPECIALS                                                                                    \
    0.0, -0.0, INFINITY, -INFINITY, NAN, -NAN, DBL_MAX, -DBL_MAX, DBL_MIN, bits_f64(1), bits_f64(0x000fffffffffffffull), \
        1.0, -1.0

static void gen_logd(double *x, size_t n) {
    static const range r[] = {
        {1.0, 1e7},           // a row sum S (log-uniform)
        {1.0, 1e7},           // (log-uniform again: the bulk of the test)
        {1.0, 1.001},         // S barely above 1 (the max's own term dominates)
        {1e-300, 1e300},      //
    };
    // Then sums on which SLEEF's FMA and no-FMA logs differ in the last bit (a scan of 2^28
    // log-uniform S in [1, 1e7] on x86 found 244, 1 in 1.1 million): xent_f64_log picks by ISA
    // family (ukernel.f64 checks it).
    const double special[] = {F64_SPECIALS, 2.0, 1e7, 0.5, -2.0, 1.0 + 0x1p-52, 1.0 - 0x1p-53,
                              0x1.66da1a8ce6871p+0, 0x1.709150623aa8cp+0, 0x1.5594ba48decbbp+0, 0x1.76b90347d9d3dp+0,
                              0x1.3a02eb35a98afp+1, 0x1.66ab50c63d08p+0, 0x1.a065f071eb268p+0, 0x1.5b0b4840b70d7p+0};
    fill_f64(x, n, 3, r, sizeof r / sizeof r[0], special, sizeof special / sizeof special[0], 1);
    // A share of sums that are exact small integers or n·(1 + tiny): many equal terms.
    uint64_t s = 33;
    for (size_t i = n / 2; i < n / 2 + n / 16 && i < n; i++) x[i] = (double)(1 + xg_rand(&s) % 10000000);
}

static void gen_expd(double *x, size_t n) {
    static const range r[] = {
        {-200.0, 0.0},        // log-sum-exp lifts: exp(s_c − M)
        {-200.0, 0.0},        //
        {-1e-3, 0.0},         //
        {-746.0, -707.0},     // underflow to subnormal and to 0
        {708.0, 710.0},       // overflow
        {-30.0, 30.0},        //
    };
    const double special[] = {F64_SPECIALS, 709.782712893384, -745.1332191019411, -708.3964185322641};
    fill_f64(x, n, 4, r, sizeof r / sizeof r[0], special, sizeof special / sizeof special[0], 0);
}

// ---- Running a group ------------------------------------------------------------------------

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int available(const variant *v) {
#if defined(__x86_64__)
    if (v->available & 2) return has_avx512f();
    if (v->available & 4) return has_avx2_fma();
#endif
    return v->available != 0;
}

static void run_group(xg_ctx *c, const char *tag, xg_type type, size_t n, void *gen, variant *v, size_t nv) {
    if (!xg_section(c, tag)) return;
    size_t len;
    const void *x = type == XG_F32 ? (const void *)xg_input_f32(c, "x", n, (xg_gen_f32)gen, &len)
                                   : (const void *)xg_input_f64(c, "x", n, (xg_gen_f64)gen, &len);
    const size_t size = type == XG_F32 ? 4 : 8;
    void *y = xg_alloc(len * size);
    // Every variant, timed, kept in the section under its name.
    for (size_t i = 0; i < nv; i++) {
        if (!available(&v[i])) {
            printf("%s: %s: not supported by this CPU: not run\n", tag, v[i].name);
            continue;
        }
        const double t0 = now();
        if (type == XG_F32) {
            ((vf32)v[i].fn)(x, y, len);
        } else {
            ((vf64)v[i].fn)(x, y, len);
        }
        const double t = now() - t0;
        printf("%s: %s: %zu values in %.3f s\n", tag, v[i].name, len, t);
        xg_put(c, v[i].name, type, y, len);
    }
#if defined(__x86_64__)
    // The x86 variants against the first of their family and of every other family.
    for (size_t i = 0; i < nv; i++) {
        size_t has;
        const void *yi = xg_get(c, v[i].name, type, &has);
        if (!yi) continue;
        for (size_t j = 0; j < i; j++) {
            int first = 1;  // j is the first variant of its family
            for (size_t k = 0; k < j; k++) first &= strcmp(v[k].family, v[j].family) != 0;
            if (!first || !xg_get(c, v[j].name, type, &has)) continue;
            xg_compare(c, v[i].name, type, yi, len, v[j].name,
                       strcmp(v[i].family, v[j].family) == 0 ? XG_EQUAL : XG_INFO);
        }
    }
#else
    // Every aarch64 variant against every x86 one of its family (asserted equal) and the first
    // x86 one of each other family (informational).
    const size_t nx = sizeof x86_names / sizeof x86_names[0];
    for (size_t i = 0; i < nv; i++) {
        size_t has;
        const void *yi = xg_get(c, v[i].name, type, &has);
        if (!yi) continue;
        for (size_t j = 0; j < nx; j++) {
            const int same = strcmp(x86_names[j].family, v[i].family) == 0;
            int first = 1;
            for (size_t k = 0; k < j; k++) first &= strcmp(x86_names[k].family, x86_names[j].family) != 0;
            if (!same && !first) continue;
            size_t rn;
            if (!xg_get(c, x86_names[j].name, type, &rn)) continue;  // e.g. libm in a float group
            xg_compare(c, v[i].name, type, yi, len, x86_names[j].name, same ? XG_EQUAL : XG_INFO);
        }
    }
#endif
    free(y);
}

void xg_groups_sleef(xg_ctx *c) {
    // Sizes (the writer's; times 2^scale): ~40 s for the whole check under qemu-aarch64 on one
    // Zen 4 core (README.md), tanh's three scalar variants the most of it.
    run_group(c, "sleef.expf_u10", XG_F32, xg_scaled(c, (size_t)1 << 22), (void *)gen_expf, expf_variants,
              sizeof expf_variants / sizeof expf_variants[0]);
    run_group(c, "sleef.tanhf_u10", XG_F32, xg_scaled(c, (size_t)1 << 21), (void *)gen_tanhf, tanhf_variants,
              sizeof tanhf_variants / sizeof tanhf_variants[0]);
    run_group(c, "sleef.logd_u10", XG_F64, xg_scaled(c, (size_t)1 << 20), (void *)gen_logd, logd_variants,
              sizeof logd_variants / sizeof logd_variants[0]);
    run_group(c, "sleef.expd_u10", XG_F64, xg_scaled(c, (size_t)1 << 20), (void *)gen_expd, expd_variants,
              sizeof expd_variants / sizeof expd_variants[0]);
}

// ---- Exhaustive: all 2^32 floats through the x86 variants, or on aarch64 through the exp and the
// ---- tanh that the shim inlines into its AdvSIMD block functions against SLEEF's (driver
// ---- --exhaustive) ------

#include <pthread.h>

#include "CXent.h"

#define EXH_BLOCK 4096
#define EXH_MAX 16

typedef struct {
    uint64_t lo, hi;                    // indices of the inputs (below)
    const uint32_t *list;               // if set, input i is the pattern list[i]
    unsigned sample_log2;               // else 0: input i is the pattern i; else 1 in 2^sample_log2 (below)
    int has_controls;                   // run under `controls` (the FPCR or MXCSR; the rounding mode)
    uint64_t controls;
    const variant *v;
    size_t nv;
    size_t ref[2];                      // the variants compared against: avx512f and sse2
    int exact;                          // NaN payloads compared too (else any NaN equals any NaN)
    int64_t mismatches[EXH_MAX][2];
    int64_t max_ulps[EXH_MAX][2];
    uint32_t example[EXH_MAX][2];
} exh_job;

static int64_t ulps_f32(float a, float b) {
    int32_t x, y;
    memcpy(&x, &a, 4);
    memcpy(&y, &b, 4);
    if ((x < 0) != (y < 0)) return INT64_MAX;
    return x > y ? (int64_t)x - y : (int64_t)y - x;
}

// The pattern of input i: i itself, or with a sample of 1 in 2^k, i's bits shifted up by k over k
// low bits drawn from i (every sign, exponent and leading mantissa bits, low bits spread).
static uint32_t exh_pattern(uint64_t i, unsigned k) {
    if (k == 0) return (uint32_t)i;
    const uint32_t low = (uint32_t)((i * 0x9E3779B97F4A7C15ull) >> (64 - k));
    return (uint32_t)(i << k) | low;
}

static uint32_t exh_input(const exh_job *job, uint64_t i) {
    return job->list ? job->list[i] : exh_pattern(i, job->sample_log2);
}

static void *exh_worker(void *arg) {
    exh_job *job = arg;
    if (job->has_controls) xent_set_float_controls(job->controls);
    float *x = xg_alloc(EXH_BLOCK * sizeof(float));
    float *y = xg_alloc(EXH_MAX * EXH_BLOCK * sizeof(float));
    for (uint64_t base = job->lo; base < job->hi; base += EXH_BLOCK) {
        const size_t n = job->hi - base < EXH_BLOCK ? (size_t)(job->hi - base) : EXH_BLOCK;
        for (size_t i = 0; i < n; i++) x[i] = bits_f32(exh_input(job, base + i));
        for (size_t i = n; i < EXH_BLOCK; i++) x[i] = 0.0f;  // what a function's last vector reads
        for (size_t k = 0; k < job->nv; k++) ((vf32)job->v[k].fn)(x, y + k * EXH_BLOCK, n);
        for (size_t k = 0; k < job->nv; k++) {
            for (int r = 0; r < 2; r++) {
                const float *a = y + k * EXH_BLOCK, *b = y + job->ref[r] * EXH_BLOCK;
                for (size_t i = 0; i < n; i++) {
                    if (!job->exact && isnan(a[i]) && isnan(b[i])) continue;
                    if (memcmp(&a[i], &b[i], 4) == 0) continue;
                    if (job->mismatches[k][r]++ == 0) job->example[k][r] = exh_input(job, base + i);
                    const int64_t u = ulps_f32(a[i], b[i]);
                    if (u > job->max_ulps[k][r]) job->max_ulps[k][r] = u;
                }
            }
        }
    }
    free(x);
    free(y);
    return NULL;
}

// How a check runs: the inputs — `list` (`nlist` patterns) if set, else 1 in 2^`sample_log2` of
// all 2^32 (0: every one) — and, with `has_controls`, the floating-point controls each thread sets
// first (`mode`, a name for them, for the output).
typedef struct {
    const uint32_t *list;
    size_t nlist;
    unsigned sample_log2;
    int has_controls;
    uint64_t controls;
    const char *mode;
} exh_run;

static int exhaustive_one(const char *tag, const variant *all, size_t nall, int threads, int scalar_too, int exact,
                          exh_run run) {
    // The vector variants (and with scalar_too the scalar ones: three times the time).
    variant v[EXH_MAX];
    size_t nv = 0;
    for (size_t k = 0; k < nall && nv < EXH_MAX; k++) {
        if (scalar_too || (strncmp(all[k].name, "pure", 4) != 0 && strcmp(all[k].name, "scalar") != 0)) v[nv++] = all[k];
    }
    size_t ref[2] = {0, 0};
    for (size_t k = 0; k < nv; k++) {
        if (strcmp(v[k].name, "sse2") == 0) ref[1] = k;
        if (!available(&v[k])) {
            printf("%s: %s not supported by this CPU: no exhaustive check\n", tag, v[k].name);
            return 0;
        }
    }
    exh_job jobs[64];
    pthread_t tid[64];
    if (threads > 64) threads = 64;
    const double t0 = now();
    const uint64_t total = run.list ? run.nlist : (uint64_t)1 << (32 - run.sample_log2);
    const uint64_t per = total / (uint64_t)threads;
    for (int t = 0; t < threads; t++) {
        memset(&jobs[t], 0, sizeof jobs[t]);
        jobs[t].lo = per * (uint64_t)t;
        jobs[t].hi = t + 1 == threads ? total : per * (uint64_t)(t + 1);
        jobs[t].list = run.list;
        jobs[t].sample_log2 = run.sample_log2;
        jobs[t].has_controls = run.has_controls;
        jobs[t].controls = run.controls;
        jobs[t].v = v;
        jobs[t].nv = nv;
        jobs[t].ref[0] = ref[0];
        jobs[t].ref[1] = ref[1];
        jobs[t].exact = exact;
        pthread_create(&tid[t], NULL, exh_worker, &jobs[t]);
    }
    for (int t = 0; t < threads; t++) pthread_join(tid[t], NULL);
    int failed = 0;
    char inputs[64], of[16];
    if (run.list) {
        snprintf(inputs, sizeof inputs, "%zu chosen inputs", run.nlist);
        snprintf(of, sizeof of, "%zu", run.nlist);
    } else if (run.sample_log2 == 0) {
        snprintf(inputs, sizeof inputs, "all 2^32 inputs");
        snprintf(of, sizeof of, "2^32");
    } else {
        snprintf(inputs, sizeof inputs, "2^%u inputs (1 in 2^%u, every high bit)", 32 - run.sample_log2,
                 run.sample_log2);
        snprintf(of, sizeof of, "2^%u", 32 - run.sample_log2);
    }
    printf("%s: %s%s%s, %zu variants, %d threads%s: %.1f s\n", tag, inputs, run.mode ? ", rounding " : "",
           run.mode ? run.mode : "", nv, threads, exact ? ", every bit (NaN payloads too)" : "", now() - t0);
    for (size_t k = 0; k < nv; k++) {
        for (int r = 0; r < 2; r++) {
            const variant *ref_v = &v[ref[r]];
            // (sse2 vs avx512f is printed once; with one reference, as on aarch64, r = 0 alone)
            if (k == ref[r] || (r == 1 && (k == ref[0] || ref[1] == ref[0]))) continue;
            int64_t m = 0, u = 0;
            uint32_t ex = 0;
            for (int t = 0; t < threads; t++) {
                if (jobs[t].mismatches[k][r] && !m) ex = jobs[t].example[k][r];
                m += jobs[t].mismatches[k][r];
                if (jobs[t].max_ulps[k][r] > u) u = jobs[t].max_ulps[k][r];
            }
            const int equal = strcmp(v[k].family, ref_v->family) == 0;
            const char *verdict = !equal ? "info" : m == 0 ? "ok" : "FAILED";
            failed += equal && m != 0;
            if (m == 0) {
                printf("%s: %s vs %s: 0 of %s differ: %s\n", tag, v[k].name, ref_v->name, of, verdict);
            } else {
                printf("%s: %s vs %s: %lld of %s differ (max %lld ulp; first x = %a, bits 0x%08x): %s\n", tag,
                       v[k].name, ref_v->name, (long long)m, of, (long long)(u == INT64_MAX ? -1 : u),
                       (double)bits_f32(ex), ex, verdict);
            }
        }
    }
    fflush(stdout);
    return failed;
}

#if defined(__x86_64__)
int xg_exhaustive_sleef(int threads, int scalar_too, unsigned sample_log2) {
    (void)sample_log2;
    const exh_run all = {NULL, 0, 0, 0, 0, NULL};
    int failed = 0;
    failed += exhaustive_one("sleef.tanhf_u10", tanhf_variants, sizeof tanhf_variants / sizeof tanhf_variants[0], threads,
                             scalar_too, 0, all);
    failed += exhaustive_one("sleef.expf_u10", expf_variants, sizeof expf_variants / sizeof expf_variants[0], threads,
                             scalar_too, 0, all);
    printf("%d failed\n", failed);
    return failed;
}
#else
// The block functions the AdvSIMD Swift kernels call: exp with shift 0 — exp(x − 0), x − 0 being x
// (a NaN stays a NaN; ±0 gives ±0 or, rounding down, −0, and exp(±0) = 1 either way) — and tanh,
// through the exp and the tanh the shim inlines (xent_sleef_exp_inline.h, xent_sleef_tanh_inline.h).
static void expf_block_advsimd(const float *x, float *y, size_t n) {
    xent_f32_vexpminus__advsimd(n, x, 0.0f, y, NULL);
}

static void tanhf_block_advsimd(const float *x, float *y, size_t n) { xent_f32_vtanh__advsimd(n, x, y); }

// The inputs a sample of 1 in 2^K can miss: with every sign and exponent, the mantissas 0, 1, 2,
// 2^22, 2^22 + 1 and the largest two (zeros, infinities, the default NaN, powers of two, the
// least subnormals, FLT_MAX), NaN payloads, and around the limits the 256 nearest patterns and
// every 256th within 2^15: the tanh's ±8.664339742 (where SLEEF's result is the float below 1 up
// to the limit), the exp's 100 and −104 (and ±88.72, its overflow). Returns their number; `out`
// holds XG_EDGES_MAX.
#define XG_EDGES_MAX 8192
static size_t edge_patterns(uint32_t *out) {
    static const uint32_t mantissas[] = {0, 1, 2, 0x400000u, 0x400001u, 0x7ffffeu, 0x7fffffu};
    static const float limits[] = {8.664339742f, 100.0f, 104.0f, 88.72283935546875f};
    size_t n = 0;
    for (uint32_t sign = 0; sign < 2; sign++)
        for (uint32_t e = 0; e < 256; e++)
            for (size_t m = 0; m < sizeof mantissas / sizeof mantissas[0]; m++)
                out[n++] = sign << 31 | e << 23 | mantissas[m];
    out[n++] = 0x7fc12345u;
    out[n++] = 0xffc00001u;
    for (size_t l = 0; l < sizeof limits / sizeof limits[0]; l++) {
        uint32_t u;
        memcpy(&u, &limits[l], 4);
        for (uint32_t d = 0; d < 256; d++) {  // the 128 patterns either side, then every 256th
            out[n++] = u - 128 + d;
            out[n++] = (u - 128 + d) | 0x80000000u;
        }
        for (uint32_t d = 0; d < 256; d++) {
            out[n++] = u - (1u << 15) + d * 256;
            out[n++] = (u - (1u << 15) + d * 256) | 0x80000000u;
        }
    }
    return n;
}

// The exp on all 2^32 inputs in the default rounding mode; the tanh, then the exp, in each of
// FPCR's four rounding modes (RMode, bits 22-23; the exp's default mode aside) on 1 in
// 2^sample_log2 inputs (0: all; under qemu the tanh takes 5-8 times the exp's time a mode) and
// on the edge patterns above. Every bit: the same operations in the same order, so NaN payloads
// too.
int xg_exhaustive_sleef(int threads, int scalar_too, unsigned sample_log2) {
    (void)scalar_too;
    variant exp_v[] = {{"a64.advsimd", "fma", (void *)expf_advsimd, 1},
                       {"a64.xent_f32_vexpminus__advsimd", "fma", (void *)expf_block_advsimd, 1}};
    variant tanh_v[] = {{"a64.advsimd", "fma", (void *)tanhf_advsimd, 1},
                        {"a64.xent_f32_vtanh__advsimd", "fma", (void *)tanhf_block_advsimd, 1}};
    static uint32_t edges[XG_EDGES_MAX];
    const size_t nedges = edge_patterns(edges);
    if (nedges > XG_EDGES_MAX) abort();  // written past the array: make it larger
    int failed = exhaustive_one("ukernel.sleefblocks.expf", exp_v, sizeof exp_v / sizeof exp_v[0], threads, 0, 1,
                                (exh_run){NULL, 0, 0, 0, 0, NULL});
    static const char *const modes[4] = {"to nearest", "up", "down", "toward zero"};
    const uint64_t rmode_mask = (uint64_t)3 << 22, controls = xent_float_controls();
    for (uint64_t m = 0; m < 4; m++) {
        const uint64_t c = (controls & ~rmode_mask) | (m << 22);
        const exh_run sampled = {NULL, 0, sample_log2, 1, c, modes[m]}, chosen = {edges, nedges, 0, 1, c, modes[m]};
        failed += exhaustive_one("ukernel.sleefblocks.tanhf", tanh_v, sizeof tanh_v / sizeof tanh_v[0], threads, 0, 1,
                                 sampled);
        failed += exhaustive_one("ukernel.sleefblocks.tanhf", tanh_v, sizeof tanh_v / sizeof tanh_v[0], threads, 0, 1,
                                 chosen);
        if (m != 0) {
            failed += exhaustive_one("ukernel.sleefblocks.expf", exp_v, sizeof exp_v / sizeof exp_v[0], threads, 0, 1,
                                     sampled);
            failed += exhaustive_one("ukernel.sleefblocks.expf", exp_v, sizeof exp_v / sizeof exp_v[0], threads, 0, 1,
                                     chosen);
        }
    }
    printf("%d failed\n", failed);
    return failed;
}
#endif
