// The 16-bit micro-kernels of the C ISAs (AVX-512F, AVX2 with F16C, SSE2): widening IEEE binary16
// and bfloat16 to float, and rounding float back (CXent.h: xent_half_widen_ukernel_fn,
// xent_half_round_ukernel_fn). The other ISAs' are Swift (Sources/Xent/HalfKernels.swift).
//
// Every ISA gives the same bits: widening is exact, and the rounding is IEEE's to-nearest-even
// (F16C's and AVX-512F's vcvtps2ph with imm 0, or the integer code below: SSE2's, and the tails).
//
// The row driver widens a row chunk by chunk just before computing the chunk, and rounds each
// chunk's gradient just after scaling it. Where it calls these kernels (soft targets, a softcap's
// gradient, SSE2; AVX-512F and AVX2 otherwise fuse them into the neighbouring pass, xent_f32x16.h)
// they are where the 16-bit data meets memory, and nothing else overlaps that traffic with
// arithmetic. Each kernel therefore asks for the lines of the next chunk (XENT_PREFETCH_DISTANCE
// elements ahead, one request per 64-byte line, below its prefetch limit) while it works on this
// one: they arrive while the chunk's exps run, as the Float kernels' own prefetches do for Float
// rows.
#include "CXent.h"
#include "xent_prefetch.h"
#include <math.h>
#include <string.h>

/// Elements of 16 bits per 64-byte line.
#define XENT_HALF_LINE 32
/// Element i's line a chunk ahead (`rw` 0: for reading, 1: for writing), while that element is below
/// the prefetch limit.
#define XENT_HALF_PREFETCH_RW(p, i, limit, rw)                                                          \
    do {                                                                                                \
        if ((i) < xent_prefetch_end(limit)) XENT_PREFETCH_HINT((p) + (i) + XENT_PREFETCH_DISTANCE, rw); \
    } while (0)
#define XENT_HALF_PREFETCH(p, i, limit) XENT_HALF_PREFETCH_RW(p, i, limit, 0)
#define XENT_HALF_PREFETCHW(p, i, limit) XENT_HALF_PREFETCH_RW(p, i, limit, 1)

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
static inline uint16_t xent_f32_to_bf16_one(float f) {
    const uint32_t u = xent_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x0040u);
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

// On every architecture, as CXent.h declares it (a test holds any round kernel to it).
int64_t xent_bf16_round_mismatches(xent_half_round_ukernel_fn round, uint64_t first, uint64_t count,
                                   uint64_t stride) {
    float x[4096];
    uint16_t got[4096];
    int64_t mismatches = 0;
    uint32_t next = (uint32_t)first;
    for (uint64_t done = 0; done < count;) {
        const size_t n = count - done < 4096 ? (size_t)(count - done) : 4096;
        for (size_t i = 0; i < n; i++, next += (uint32_t)stride) x[i] = xent_float(next);
        round(n, x, got, n);
        for (size_t i = 0; i < n; i++) mismatches += got[i] != xent_f32_to_bf16_one(x[i]);
        done += n;
    }
    return mismatches;
}

#if defined(__x86_64__)
static inline float xent_bf16_to_f32_one(uint16_t h) { return xent_float((uint32_t)h << 16); }

// binary16 in integer arithmetic (no library call per element, unlike a _Float16 cast on a
// CPU without F16C), after F. Giesen's half conversions: exact widening, and rounding to
// nearest even — the normal range by adding half an ulp minus one (plus the kept lsb) before
// truncating, the subnormal range by letting a float addition round at 2⁻²⁴.
static inline float xent_f16_to_f32_one(uint16_t h) {
    const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    const uint32_t exponent = (h >> 10) & 0x1fu;
    const uint32_t fraction = h & 0x3ffu;
    if (exponent == 0x1fu) return xent_float(sign | 0x7f800000u | (fraction << 13));  // inf, NaN
    if (exponent == 0) {
        const float magnitude = (float)fraction * 0x1p-24f;  // zero or subnormal: exact
        return sign ? -magnitude : magnitude;
    }
    return xent_float(sign | ((exponent + 112u) << 23) | (fraction << 13));
}

static inline uint16_t xent_f32_to_f16_one(float f) {
    uint32_t x = xent_bits(f);
    const uint32_t sign = x & 0x80000000u;
    x ^= sign;
    uint16_t h;
    if (x >= 0x47800000u) {                  // ≥ 65536, inf or NaN
        h = x > 0x7f800000u ? (uint16_t)(0x7e00u | ((x >> 13) & 0x3ffu)) : 0x7c00u;
    } else if (x < 0x38800000u) {            // below 2⁻¹⁴: subnormal or zero
        const float shifted = xent_float(x) + 0.5f;  // rounds at 2⁻²⁴, to nearest even
        h = (uint16_t)(xent_bits(shifted) - xent_bits(0.5f));
    } else {
        const uint32_t odd = (x >> 13) & 1u;
        x += ((uint32_t)(15 - 127) << 23) + 0xfffu + odd;
        h = (uint16_t)(x >> 13);             // a carry into the exponent rounds up to inf
    }
    return (uint16_t)(h | (sign >> 16));
}

// bfloat16: integer code the compiler vectorizes for the target it is given, a line at a time.
#define XENT_BF16_UKERNELS(isa, TARGET)                                                                 \
    TARGET void xent_bf16_widen_ukernel__##isa(size_t n, const uint16_t *src, float *dst,               \
                                               size_t prefetch_limit) {                                 \
        size_t i = 0;                                                                                   \
        for (; i + XENT_HALF_LINE <= n; i += XENT_HALF_LINE) {                                          \
            XENT_HALF_PREFETCH(src, i, prefetch_limit);                                                 \
            for (size_t j = 0; j < XENT_HALF_LINE; j++) dst[i + j] = xent_bf16_to_f32_one(src[i + j]);  \
        }                                                                                               \
        for (; i < n; i++) dst[i] = xent_bf16_to_f32_one(src[i]);                                       \
    }                                                                                                   \
    TARGET void xent_bf16_round_ukernel__##isa(size_t n, const float *src, uint16_t *dst,               \
                                               size_t prefetch_limit) {                                 \
        size_t i = 0;                                                                                   \
        for (; i + XENT_HALF_LINE <= n; i += XENT_HALF_LINE) {                                          \
            XENT_HALF_PREFETCHW(dst, i, prefetch_limit);                                                \
            for (size_t j = 0; j < XENT_HALF_LINE; j++) dst[i + j] = xent_f32_to_bf16_one(src[i + j]);  \
        }                                                                                               \
        for (; i < n; i++) dst[i] = xent_f32_to_bf16_one(src[i]);                                       \
    }

XENT_BF16_UKERNELS(sse2, )

void xent_f16_widen_ukernel__sse2(size_t n, const uint16_t *src, float *dst, size_t prefetch_limit) {
    for (size_t i = 0; i < n; i++) {
        if (i % XENT_HALF_LINE == 0) XENT_HALF_PREFETCH(src, i, prefetch_limit);
        dst[i] = xent_f16_to_f32_one(src[i]);
    }
}

void xent_f16_round_ukernel__sse2(size_t n, const float *src, uint16_t *dst, size_t prefetch_limit) {
    for (size_t i = 0; i < n; i++) {
        if (i % XENT_HALF_LINE == 0) XENT_HALF_PREFETCHW(dst, i, prefetch_limit);
        dst[i] = xent_f32_to_f16_one(src[i]);
    }
}

#include <immintrin.h>
XENT_BF16_UKERNELS(avx2, __attribute__((target("avx2"))))
XENT_BF16_UKERNELS(avx512f, __attribute__((target("avx512f"))))  // AVX512BW is not detected

__attribute__((target("avx,f16c"))) void xent_f16_widen_ukernel__f16c_u8(size_t n, const uint16_t *src, float *dst,
                                                                         size_t prefetch_limit) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        if (i % XENT_HALF_LINE == 0) XENT_HALF_PREFETCH(src, i, prefetch_limit);
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i))));
    }
    for (; i < n; i++) dst[i] = xent_f16_to_f32_one(src[i]);
}

__attribute__((target("avx,f16c"))) void xent_f16_round_ukernel__f16c_u8(size_t n, const float *src, uint16_t *dst,
                                                                         size_t prefetch_limit) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        if (i % XENT_HALF_LINE == 0) XENT_HALF_PREFETCHW(dst, i, prefetch_limit);
        _mm_storeu_si128((__m128i *)(dst + i),
                         _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    }
    for (; i < n; i++) dst[i] = xent_f32_to_f16_one(src[i]);
}

__attribute__((target("avx512f"))) void xent_f16_widen_ukernel__avx512f_u16(size_t n, const uint16_t *src, float *dst,
                                                                              size_t prefetch_limit) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        if (i % XENT_HALF_LINE == 0) XENT_HALF_PREFETCH(src, i, prefetch_limit);
        _mm512_storeu_ps(dst + i, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(src + i))));
    }
    for (; i < n; i++) dst[i] = xent_f16_to_f32_one(src[i]);
}

__attribute__((target("avx512f"))) void xent_f16_round_ukernel__avx512f_u16(size_t n, const float *src, uint16_t *dst,
                                                                              size_t prefetch_limit) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        if (i % XENT_HALF_LINE == 0) XENT_HALF_PREFETCHW(dst, i, prefetch_limit);
        _mm256_storeu_si256((__m256i *)(dst + i),
                            _mm512_cvtps_ph(_mm512_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    }
    for (; i < n; i++) dst[i] = xent_f32_to_f16_one(src[i]);
}
#endif
