// Widening 16-bit logits (IEEE binary16, bfloat16) to float and rounding float gradients back,
// for the half-precision entry points: each row is widened into a float workspace, computed in
// float, and rounded once at the end (so the target class's p_t − 1 is formed in float).
//
// Every path gives the same bits: widening is exact, and the rounding is IEEE's to-nearest-even
// (F16C's and AVX-512F's vcvtps2ph with imm 0, or the portable integer code below).
#include "CXent.h"
#include <math.h>
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

// ---- Fused 16-bit rows: widen a chunk into the workspace, compute it in L1, round it back. ----

void xent_half_chunk(xent_isa isa, xent_half_format format, const uint16_t *x, const uint16_t *q,
                     const xent_row_spec *spec, float *workspace, float *targets_workspace, int store, size_t len,
                     xent_chunk_sums *out) {
    // The next chunk's 16-bit lines, fetched while this one is computed (the float kernel's
    // exp loop prefetches the workspace, which is already in cache). A prefetch past the
    // end of the buffer is harmless.
    for (size_t i = 0; i < len; i += 32) {
        __builtin_prefetch(x + 2 * len + i, 0, 2);
        if (q) __builtin_prefetch(q + 2 * len + i, 0, 2);
    }
    xent_half_to_f32(isa, format, x, workspace, len);
    xent_row_spec part = *spec;
    part.q = NULL;
    if (q) {
        xent_half_to_f32(isa, format, q, targets_workspace, len);
        part.q = targets_workspace;
    }
    xent_f32_chunk(isa, workspace, &part, store ? workspace : NULL, len, out);
}

void xent_half_scale_chunk(xent_isa isa, xent_half_format format, float *workspace, const float *targets_workspace,
                           const xent_row_spec *spec, uint16_t *y, size_t len, float shift, float factor,
                           float q_scale, float smoothing_scale, int64_t label, float label_term) {
    for (size_t i = 0; i < len; i += 32) __builtin_prefetch(y + len + i, 1, 3);
    xent_row_spec part = *spec;
    part.q = targets_workspace;
    xent_f32_scale_chunk(isa, workspace, &part, len, shift, factor, q_scale, smoothing_scale, label, label_term);
    xent_f32_to_half(isa, format, workspace, y, len);
}

void xent_half_row(xent_isa isa, xent_half_format format, const uint16_t *x, const uint16_t *q,
                   const xent_row_spec *spec, uint16_t *y, float *workspace, size_t n,
                   const xent_gradient_scales *scales, xent_row_sums *out) {
    const int64_t label = scales->label;
    xent_chunk_sums chunks[XENT_ROW_MAX_CHUNKS];
    const size_t chunk = xent_row_chunk_length(n);
    float *targets = q ? workspace + n : NULL;
    size_t count = 0;
    for (size_t base = 0; base < n; base += chunk, count++) {
        const size_t len = n - base < chunk ? n - base : chunk;
        const xent_row_spec part = xent_row_spec_offset(spec, base);
        xent_half_chunk(isa, format, x + base, q ? q + base : NULL, &part, workspace + base,
                        targets ? targets + base : NULL, y != NULL, len, &chunks[count]);
        if (chunks[count].argmax >= 0) chunks[count].argmax += (int64_t)base;
    }
    xent_row_combine(chunks, count, out);
    if (!y || !isfinite(out->max) || isnan(out->sum)) return;  // forward only, or a bad row
    const float smoothing_scale = xent_row_smoothing_scale(out, scales);
    for (size_t c = 0, base = 0; c < count; c++, base += chunk) {
        const size_t len = n - base < chunk ? n - base : chunk;
        const xent_row_spec part = xent_row_spec_offset(spec, base);
        const int64_t at = label >= (int64_t)base && label < (int64_t)(base + len) ? label - (int64_t)base : -1;
        xent_half_scale_chunk(isa, format, workspace + base, targets ? targets + base : NULL, &part, y + base, len,
                              chunks[c].shift, xent_row_chunk_factor(out, &chunks[c], scales, q != NULL),
                              (float)scales->q_scale, smoothing_scale, at, scales->label_term);
    }
}
