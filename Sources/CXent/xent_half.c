// Widening 16-bit logits (IEEE binary16, bfloat16) to float and rounding float gradients back,
// for the half-precision entry points: each row is widened into a float workspace, computed in
// float, and rounded once at the end (so the target class's p_t − 1 is formed in float).
//
// Every path gives the same bits: widening is exact, and the rounding is IEEE's to-nearest-even
// (F16C's and AVX-512F's vcvtps2ph with imm 0, or the portable code below).
#include "CXent.h"
#include <string.h>

static inline uint32_t xent_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static inline float xent_float(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

// bfloat16 is float's top half: widening is a shift; rounding adds half an ulp of the kept part
// (ties to even) and keeps NaN a quiet NaN (the addition could carry a NaN's payload into inf).
static inline float xent_bf16_to_f32_one(uint16_t h) { return xent_float((uint32_t)h << 16); }

static inline uint16_t xent_f32_to_bf16_one(float f) {
    const uint32_t u = xent_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x0040u);
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

// binary16 through the compiler's _Float16 (IEEE conversions, to nearest even).
static inline float xent_f16_to_f32_one(uint16_t h) {
    _Float16 v;
    memcpy(&v, &h, 2);
    return (float)v;
}

static inline uint16_t xent_f32_to_f16_one(float f) {
    const _Float16 v = (_Float16)f;
    uint16_t h;
    memcpy(&h, &v, 2);
    return h;
}

#define XENT_HALF_LOOPS(suffix, TARGET)                                                                  \
    TARGET static void xent_bf16_widen__##suffix(const uint16_t *src, float *dst, size_t n) {           \
        for (size_t i = 0; i < n; i++) dst[i] = xent_bf16_to_f32_one(src[i]);                           \
    }                                                                                                   \
    TARGET static void xent_bf16_round__##suffix(const float *src, uint16_t *dst, size_t n) {          \
        for (size_t i = 0; i < n; i++) dst[i] = xent_f32_to_bf16_one(src[i]);                           \
    }

XENT_HALF_LOOPS(portable, )

#if defined(__x86_64__)
#include <immintrin.h>
XENT_HALF_LOOPS(avx2, __attribute__((target("avx2"))))
XENT_HALF_LOOPS(avx512, __attribute__((target("avx512f,avx512bw"))))

__attribute__((target("avx,f16c"))) static void xent_f16_widen__f16c(const uint16_t *src, float *dst, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i))));
    }
    for (; i < n; i++) dst[i] = xent_f16_to_f32_one(src[i]);
}

__attribute__((target("avx,f16c"))) static void xent_f16_round__f16c(const float *src, uint16_t *dst, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        _mm_storeu_si128((__m128i *)(dst + i),
                         _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    }
    for (; i < n; i++) dst[i] = xent_f32_to_f16_one(src[i]);
}

__attribute__((target("avx512f"))) static void xent_f16_widen__avx512(const uint16_t *src, float *dst, size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        _mm512_storeu_ps(dst + i, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(src + i))));
    }
    for (; i < n; i++) dst[i] = xent_f16_to_f32_one(src[i]);
}

__attribute__((target("avx512f"))) static void xent_f16_round__avx512(const float *src, uint16_t *dst, size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        _mm256_storeu_si256((__m256i *)(dst + i),
                            _mm512_cvtps_ph(_mm512_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    }
    for (; i < n; i++) dst[i] = xent_f32_to_f16_one(src[i]);
}
#endif

static void xent_f16_widen__portable(const uint16_t *src, float *dst, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = xent_f16_to_f32_one(src[i]);
}

static void xent_f16_round__portable(const float *src, uint16_t *dst, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = xent_f32_to_f16_one(src[i]);
}

void xent_half_to_f32(xent_isa isa, xent_half_format format, const uint16_t *src, float *dst, size_t n) {
    const int bf16 = format == XENT_HALF_BFLOAT16;
#if defined(__x86_64__)
    if (isa == XENT_ISA_AVX512F) {
        bf16 ? xent_bf16_widen__avx512(src, dst, n) : xent_f16_widen__avx512(src, dst, n);
        return;
    }
    if (isa == XENT_ISA_AVX2) {
        bf16 ? xent_bf16_widen__avx2(src, dst, n) : xent_f16_widen__f16c(src, dst, n);
        return;
    }
#endif
    (void)isa;
    bf16 ? xent_bf16_widen__portable(src, dst, n) : xent_f16_widen__portable(src, dst, n);
}

void xent_f32_to_half(xent_isa isa, xent_half_format format, const float *src, uint16_t *dst, size_t n) {
    const int bf16 = format == XENT_HALF_BFLOAT16;
#if defined(__x86_64__)
    if (isa == XENT_ISA_AVX512F) {
        bf16 ? xent_bf16_round__avx512(src, dst, n) : xent_f16_round__avx512(src, dst, n);
        return;
    }
    if (isa == XENT_ISA_AVX2) {
        bf16 ? xent_bf16_round__avx2(src, dst, n) : xent_f16_round__f16c(src, dst, n);
        return;
    }
#endif
    (void)isa;
    bf16 ? xent_bf16_round__portable(src, dst, n) : xent_f16_round__portable(src, dst, n);
}
