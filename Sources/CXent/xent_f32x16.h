// The micro-kernels of every ISA, written once over 16-lane vectors (CXent.h lists them).
//
// Why one source: NUMERICS.md promises the same bits on AVX-512F, AVX2+FMA and AdvSIMD. Every sum
// below is therefore defined on 16 float lanes and 8 double lanes — vector k of a row part is its
// elements [16k, 16k + 16), a partial last vector is padded with values that add nothing — and an
// ISA with narrower registers emulates a 16-lane vector with two (AVX2) or four (SSE2) registers.
// The kernels here are the only C code that adds or reduces; an ISA file only says how its
// registers do each lane-wise operation, as SLEEF builds one algorithm source per ISA over small
// helper headers. AdvSIMD's kernels are the same algorithms in Swift (Sources/Xent/SIMDKernels.swift,
// held to these kernels' bits by SIMDKernelTests).
//
// The contract: an ISA file includes this header after defining
//   XENT_ISA_SUFFIX                 the ISA part of the kernels' names (avx512f, avx2_fma, …)
//   XENT_REGISTER_BYTES             the width of its vector registers (16, 32 or 64)
//   XENT_TARGET                     a target attribute for every function here (or nothing)
//   xent_f32x16, xent_f64x8         16 floats and 8 doubles
// and these lane-wise operations (static inline, always inlined; lane i of the result depends on
// lane i of the operands only, except the reductions):
//   xent_f32x16_set1(s) _load(p) _store(p, v)           unaligned
//   xent_f32x16_load_tail(p, n, fill)                   n in 1…15 floats, the other lanes `fill`;
//                                                       reads p[0 ..< n] only
//   xent_f32x16_store_tail(p, n, v)                     n in 1…15 floats; writes p[0 ..< n] only
//   xent_f32x16_add _sub _mul _div(a, b)
//   xent_f32x16_max(v, acc)                             the larger lane; acc's where v's is a NaN
//                                                       (±0 may come out either way: rmax makes it +0)
//   xent_f32x16_reduce_max(v)                           the largest lane (no lane is NaN)
//   xent_f32x16_eq_lanes(a, b)                          bit i (i < 16) set where lane i of a == b's
//                                                       (±0 equal, a NaN never), the others clear
//   xent_f32x16_exp(x)                                  SLEEF's u10 expf
//   xent_f32x16_exp_pair(a, b, ea, eb)                  *ea = xent_f32x16_exp(a), *eb = …(b), the same
//                                                       bits; an ISA may choose its form once for the pair
//   xent_f32x16_keep_nonzero(q, v)                      v where q ≠ 0 (NaN counts), else +0
//   xent_f32x16_keep_unmasked(x, v)                     v where x ≠ −inf, else +0
//   xent_f32x16_keep_unmasked_or(x, v, fill)            v where x ≠ −inf, else fill
//   xent_f32x16_mark_masked(x, e)                       −0 where x = −inf, else e
//   xent_f32x16_keep_unmarked(e, v)                     v where e is not −0 (bitwise), else +0
//   xent_f32x16_tanh(v, n)                              v[k] = tanh(v[k]) for k < n, SLEEF's u10; n in
//                                                       1…XENT_TANH_VECTORS, the most the ISA takes at once
//   xent_f64x8_zero() _set1(d) _lo(v) _hi(v)            _lo/_hi: float lanes 0–7 / 8–15 widened
//   xent_f64x8_add _sub _mul(a, b), xent_f64x8_fma(a, b, c)   a·b + c, fused on the canonical ISAs
//                                                       (xent_isa_is_canonical), two roundings otherwise
//   xent_f64x8_reduce(v)                                ((v0+v4) + (v2+v6)) + ((v1+v5) + (v3+v7)),
//                                                       exactly in this order
//   XENT_PREFETCH(p), XENT_PREFETCHW(p)                 read / write prefetch hints (xent_prefetch.h's
//                                                       XENT_PREFETCH_HINT, or empty)
//   XENT_TANH_VECTORS                                   how many vectors xent_f32x16_tanh takes at once
// and, if its exp is inlined rather than SLEEF's library call, XENT_EXP_LIBRARY(x, y, n): SLEEF's
// library exp over n floats (n a multiple of 16), which xent_exp_mismatches compares against; if its
// tanh is, XENT_TANH_LIBRARY(x, y, n) likewise (xent_tanh_mismatches).
//
// Every file that includes this header turns off floating-point contraction: clang would
// otherwise fuse a·b + c written in one expression where the target has FMA, which changes bits
// between ISAs (FMA is used only where a kernel says so).
#pragma clang fp contract(off)

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "CXent.h"
#include "xent_prefetch.h"

#define XENT_PASTE_(a, b, c, d) a##b##c##d
#define XENT_PASTE(a, b, c, d) XENT_PASTE_(a, b, c, d)
// XENT_KERNELS 0: the inline bodies alone, for a file that defines a few kernels of its own from
// them (xent_ukernels__avx512bf16.c); 1, the default: every kernel below.
#ifndef XENT_KERNELS
#define XENT_KERNELS 1
#endif
/// xent_f32_<op>_ukernel__<isa>_<tile>
#define XENT_UKERNEL(op, tile) XENT_PASTE(xent_f32_##op##_ukernel__, XENT_ISA_SUFFIX, _, tile)
#define XENT_INLINE XENT_TARGET __attribute__((always_inline)) static inline

/// The block of the exp sums: its float accumulators are added into double ones at its end, so no
/// float lane takes more than 512 / (16 · 2) = 16 additions.
#define XENT_EXP_BLOCK 512
// The next row's pairs of vectors in the fused exp pass start on its blocks' starts.
_Static_assert(XENT_EXP_BLOCK % 32 == 0, "XENT_EXP_BLOCK: a multiple of 32 elements");

/// The elements before `p`'s first XENT_REGISTER_BYTES boundary, at most n: the head that rmax
/// takes apart from `x` and vgradient from `y`, so that their full vectors of that operand neither
/// load nor store across a cache line where a row starts off a register boundary (a Swift array's
/// elements start 32 bytes into their heap block; a row whose width is no multiple of 16 floats
/// starts anywhere). Only where no order is involved, a max or one value per element: the exp
/// pass's sums are grouped from the row part's start (NUMERICS.md), so it loads and stores as the
/// row lies. At most 15 elements: load_tail's and store_tail's n.
_Static_assert(XENT_REGISTER_BYTES >= 16 && XENT_REGISTER_BYTES <= 64 && XENT_REGISTER_BYTES % 16 == 0,
               "xent_f32x16.h: a register head must fit one partial vector");
static inline size_t xent_head_to_register(const void *p, size_t n) {
    const size_t head = ((size_t)0 - (size_t)(uintptr_t)p) % XENT_REGISTER_BYTES / sizeof(float);
    return head < n ? head : n;
}

// MARK: rmax

// A zero max as +0, by a compare: −0 + 0 would do it too, but an addition flushes a subnormal max to
// zero under flush-to-zero alone, where the max from 16-bit patterns keeps it. Under
// denormals-are-zero a subnormal max compares equal to zero and becomes +0, as that addition made it.
XENT_INLINE float xent_plus_zero(float m) { return m == 0.0f ? 0.0f : m; }

#if XENT_KERNELS
XENT_TARGET
void XENT_UKERNEL(rmax, u64_acc4)(size_t n, const float *x, float *max) {
    xent_f32x16 acc0 = xent_f32x16_set1(-INFINITY), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    // The max of a set in any order: the head apart (into acc3), the loads then on register boundaries.
    const size_t head = xent_head_to_register(x, n);
    if (head > 0) {
        acc3 = xent_f32x16_max(xent_f32x16_load_tail(x, head, -INFINITY), acc3);
        x += head;
        n -= head;
    }
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        acc0 = xent_f32x16_max(xent_f32x16_load(x + i), acc0);
        acc1 = xent_f32x16_max(xent_f32x16_load(x + i + 16), acc1);
        acc2 = xent_f32x16_max(xent_f32x16_load(x + i + 32), acc2);
        acc3 = xent_f32x16_max(xent_f32x16_load(x + i + 48), acc3);
    }
    for (; i + 16 <= n; i += 16) acc0 = xent_f32x16_max(xent_f32x16_load(x + i), acc0);
    if (i < n) acc1 = xent_f32x16_max(xent_f32x16_load_tail(x + i, n - i, -INFINITY), acc1);
    acc0 = xent_f32x16_max(acc1, acc0);
    acc2 = xent_f32x16_max(acc3, acc2);
    acc0 = xent_f32x16_max(acc2, acc0);
    // The max is exact in any order, but for the sign of a zero max (x86's maxps keeps its second
    // operand of ±0, AdvSIMD's fmaxnm prefers +0): xent_plus_zero makes it one.
    *max = xent_plus_zero(xent_f32x16_reduce_max(acc0));
}
#endif

// MARK: rfindeq
//
// The argmax's search, once a chunk's max is known: 64 elements compared an iteration into one bit
// each, the first set bit the index. A tail's missing lanes all hold one value: where it matches,
// the first of them, index n, is found, which is "none".

/// The first lane set in four vectors' hits (their lanes 0–15, 16–31, …), one of them set. The loop
/// tests their OR alone (on AVX-512, mask registers OR-ed: no move out of them per vector).
XENT_INLINE size_t xent_first_hit(uint32_t h0, uint32_t h1, uint32_t h2, uint32_t h3) {
    const uint64_t hits = (uint64_t)h0 | (uint64_t)h1 << 16 | (uint64_t)h2 << 32 | (uint64_t)h3 << 48;
    return (size_t)__builtin_ctzll(hits);
}

#if XENT_KERNELS
XENT_TARGET
size_t XENT_UKERNEL(rfindeq, u64)(size_t n, const float *x, float value) {
    const xent_f32x16 s = xent_f32x16_set1(value);
    // The head first (the lowest indices), the loads then on register boundaries (as rmax's).
    size_t i = xent_head_to_register(x, n);
    if (i > 0) {
        const uint32_t hits = xent_f32x16_eq_lanes(xent_f32x16_load_tail(x, i, NAN), s);
        if (hits != 0) return (size_t)__builtin_ctz(hits);
    }
    for (; i + 64 <= n; i += 64) {
        const uint32_t h0 = xent_f32x16_eq_lanes(xent_f32x16_load(x + i), s);
        const uint32_t h1 = xent_f32x16_eq_lanes(xent_f32x16_load(x + i + 16), s);
        const uint32_t h2 = xent_f32x16_eq_lanes(xent_f32x16_load(x + i + 32), s);
        const uint32_t h3 = xent_f32x16_eq_lanes(xent_f32x16_load(x + i + 48), s);
        if ((h0 | h1 | h2 | h3) != 0) return i + xent_first_hit(h0, h1, h2, h3);
    }
    for (; i < n; i += 16) {
        const xent_f32x16 v = n - i >= 16 ? xent_f32x16_load(x + i) : xent_f32x16_load_tail(x + i, n - i, NAN);
        const uint32_t hits = xent_f32x16_eq_lanes(v, s);
        if (hits != 0) return i + (size_t)__builtin_ctz(hits);
    }
    return n;
}
#endif

// MARK: 16-bit lanes and rmaxwiden
//
// The 16-bit row's touches of its data, fused with the pass next to them: the widening with the max
// (or the max alone), the exp pass widening as it loads, the rounding with the gradient. Each gives
// the bits of the kernels it replaces (xent_half.c's widen and round, then rmax,
// raddstoreexpminusmax or vgradient): the conversions are exact or rounded lane by lane, and the
// arithmetic is the same. Each prefetches the next chunk's 16-bit data it reads or writes first.
// An ISA that has them defines XENT_HALF_LANES and
//   xent_u16x16                                      16 binary16 or bfloat16 values (their bits)
//   xent_u16x16_load(p) _store(p, h)                 unaligned
//   xent_u16x16_load_tail(p, n, fill)                n in 1…15 values, the other lanes `fill` (16
//                                                    bits, not a float); reads p[0 ..< n] only
//   xent_u16x16_store_tail(p, n, h)                  writes p[0 ..< n] only
//   xent_u16x16_set1(h)
//   xent_u16x16_max_i16(a, b) _min_u16(a, b)         the patterns' signed max, unsigned min
//   xent_u16x16_and(a, b)                            bitwise
//   xent_u16x16_eq_lanes(a, b)                       bit i (i < 16) set where a_i = b_i, the others
//                                                    clear
//   xent_f32x16_widen_f16(h) _widen_bf16(h)          exact
//   xent_f32x16_sub_lane(v, k, x)                    v with x subtracted from lane k (0…15) alone
//   xent_f32x16_round_f16(v) _round_bf16(v)          to nearest even (NaN stays a quiet NaN), as
//                                                    xent_half.c rounds
// and it may define XENT_HALF_LOAD_BF16 and
//   xent_f32x16_load_bf16(p)                         xent_f32x16_widen_bf16(xent_u16x16_load(p)) in a
//                                                    form that suits the exp pass (its loads only)
// and XENT_ROUND_BF16_PAIR and
//   xent_f32x16_round_bf16_store_pair(p, lo, hi)     lo's and hi's rounding into p[0 ..< 32], as
//                                                    two _round_bf16 and stores write it

/// 16-bit elements per 64-byte line.
#define XENT_HALF_LINE 32

#if defined(XENT_HALF_LANES)
/// xent_<format>_<op>_ukernel__<isa>_<tile>
#define XENT_HALF_UKERNEL(format, op, tile) XENT_PASTE(xent_##format##_##op##_ukernel__, XENT_ISA_SUFFIX, _, tile)

#if !defined(XENT_ROUND_BF16_PAIR)
XENT_INLINE void xent_f32x16_round_bf16_store_pair(uint16_t *p, xent_f32x16 lo, xent_f32x16 hi) {
    xent_u16x16_store(p, xent_f32x16_round_bf16(lo));
    xent_u16x16_store(p + 16, xent_f32x16_round_bf16(hi));
}
#endif

XENT_INLINE xent_f32x16 xent_half_widen(xent_u16x16 h, const int bf16) {
    return bf16 ? xent_f32x16_widen_bf16(h) : xent_f32x16_widen_f16(h);
}

XENT_INLINE xent_f32x16 xent_half_load(const uint16_t *p, const int bf16) {
    return xent_half_widen(xent_u16x16_load(p), bf16);
}

// −inf's bits in either format, so the missing lanes never win the max.
XENT_INLINE xent_f32x16 xent_half_load_tail_minus_infinity(const uint16_t *p, size_t n, const int bf16) {
    return xent_half_widen(xent_u16x16_load_tail(p, n, bf16 ? 0xff80 : 0xfc00), bf16);
}

// rmax's accumulators over the widened values, which are stored to `dst` on the way with `store`
// (without rmax's register head: the same max, and the widened row starts on the workspace's line).
XENT_INLINE void xent_rmaxwiden(size_t n, const uint16_t *src, float *dst, float *max, size_t prefetch_limit,
                                const int bf16, const int store) {
    const size_t prefetch_end = xent_prefetch_end(prefetch_limit);
    xent_f32x16 acc0 = xent_f32x16_set1(-INFINITY), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        if (i < prefetch_end) XENT_PREFETCH(src + i + XENT_PREFETCH_DISTANCE);
        if (i + XENT_HALF_LINE < prefetch_end) XENT_PREFETCH(src + i + XENT_PREFETCH_DISTANCE + XENT_HALF_LINE);
        const xent_f32x16 v0 = xent_half_load(src + i, bf16), v1 = xent_half_load(src + i + 16, bf16);
        const xent_f32x16 v2 = xent_half_load(src + i + 32, bf16), v3 = xent_half_load(src + i + 48, bf16);
        if (store) {
            xent_f32x16_store(dst + i, v0);
            xent_f32x16_store(dst + i + 16, v1);
            xent_f32x16_store(dst + i + 32, v2);
            xent_f32x16_store(dst + i + 48, v3);
        }
        acc0 = xent_f32x16_max(v0, acc0);
        acc1 = xent_f32x16_max(v1, acc1);
        acc2 = xent_f32x16_max(v2, acc2);
        acc3 = xent_f32x16_max(v3, acc3);
    }
    for (; i + 16 <= n; i += 16) {
        const xent_f32x16 v = xent_half_load(src + i, bf16);
        if (store) xent_f32x16_store(dst + i, v);
        acc0 = xent_f32x16_max(v, acc0);
    }
    if (i < n) {
        const xent_f32x16 v = xent_half_load_tail_minus_infinity(src + i, n - i, bf16);
        if (store) xent_f32x16_store_tail(dst + i, n - i, v);
        acc1 = xent_f32x16_max(v, acc1);
    }
    acc0 = xent_f32x16_max(acc1, acc0);
    acc2 = xent_f32x16_max(acc3, acc2);
    acc0 = xent_f32x16_max(acc2, acc0);
    *max = xent_plus_zero(xent_f32x16_reduce_max(acc0));  // as rmax
}

// rmaxwiden's max alone, from the 16-bit patterns, none widened: sign-magnitude values order as
// their patterns do among the non-negative ones (a signed 16-bit max) and in reverse among the
// negative ones (an unsigned min of patterns whose sign bit is set), and widening is exact and
// monotonic, so the max is the winning pattern widened. A NaN above +inf's pattern can win the
// signed max: such a part is taken again by the widening max, which skips NaNs as rmax does.
// A negative NaN wins the unsigned min only where every lane is one (the tail's lanes are −inf):
// no max, −inf. Any grouping of the patterns gives these bits, so the fused exp pass that takes
// the next row's max (below) keeps accumulators of its own and ends with
// xent_half_patterns_finish as this does.
XENT_INLINE void xent_half_patterns_add(xent_u16x16 v, xent_u16x16 *hi, xent_u16x16 *lo) {
    *hi = xent_u16x16_max_i16(*hi, v);
    *lo = xent_u16x16_min_u16(*lo, v);
}

// The patterns src[i ..< n] into the accumulators (hi: signed max from 0x8000, lo: unsigned min from
// 0xffff), then the max.
XENT_INLINE void xent_half_patterns_finish(size_t n, const uint16_t *src, size_t i, xent_u16x16 hi0, xent_u16x16 hi1,
                                           xent_u16x16 lo0, xent_u16x16 lo1, float *max, const int bf16) {
    const uint16_t inf = bf16 ? 0x7f80 : 0x7c00, minus_inf = inf | 0x8000;
    for (; i < n; i += 16) {
        xent_half_patterns_add(
            n - i >= 16 ? xent_u16x16_load(src + i) : xent_u16x16_load_tail(src + i, n - i, minus_inf), &hi0, &lo0);
    }
    uint16_t hi[16], lo[16];
    xent_u16x16_store(hi, xent_u16x16_max_i16(hi0, hi1));
    xent_u16x16_store(lo, xent_u16x16_min_u16(lo0, lo1));
    int16_t top = INT16_MIN;
    uint16_t least = 0xffff;
    for (int k = 0; k < 16; k++) {
        top = (int16_t)hi[k] > top ? (int16_t)hi[k] : top;
        least = lo[k] < least ? lo[k] : least;
    }
    const uint16_t pattern = top >= 0 ? (uint16_t)top : least > minus_inf ? minus_inf : least;
    // A NaN, or a zero max (whose sign the widening max leaves to its comparisons' order and the
    // rounding mode), goes to the widening max: the same bits in every rounding mode.
    if ((top >= 0 && pattern > inf) || (pattern & 0x7fff) == 0) {
        xent_rmaxwiden(n, src, NULL, max, 0, bf16, 0);
        return;
    }
    *max = xent_f32x16_reduce_max(xent_half_widen(xent_u16x16_set1(pattern), bf16));
}

// The prefetches are rmaxwiden's.
XENT_INLINE void xent_half_rmax_patterns(size_t n, const uint16_t *src, float *max, size_t prefetch_limit,
                                         const int bf16) {
    const size_t prefetch_end = xent_prefetch_end(prefetch_limit);
    xent_u16x16 hi0 = xent_u16x16_set1(0x8000), hi1 = hi0, lo0 = xent_u16x16_set1(0xffff), lo1 = lo0;
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        if (i < prefetch_end) XENT_PREFETCH(src + i + XENT_PREFETCH_DISTANCE);
        if (i + XENT_HALF_LINE < prefetch_end) XENT_PREFETCH(src + i + XENT_PREFETCH_DISTANCE + XENT_HALF_LINE);
        xent_half_patterns_add(xent_u16x16_load(src + i), &hi0, &lo0);
        xent_half_patterns_add(xent_u16x16_load(src + i + 16), &hi1, &lo1);
        xent_half_patterns_add(xent_u16x16_load(src + i + 32), &hi0, &lo0);
        xent_half_patterns_add(xent_u16x16_load(src + i + 48), &hi1, &lo1);
    }
    xent_half_patterns_finish(n, src, i, hi0, hi1, lo0, lo1, max, bf16);
}

#if XENT_KERNELS
XENT_TARGET
void XENT_HALF_UKERNEL(f16, rmaxwiden, u64_acc4)(size_t n, const uint16_t *src, float *dst, float *max,
                                                  size_t prefetch_limit) {
    if (dst) {
        xent_rmaxwiden(n, src, dst, max, prefetch_limit, 0, 1);
    } else {
        xent_half_rmax_patterns(n, src, max, prefetch_limit, 0);
    }
}

XENT_TARGET
void XENT_HALF_UKERNEL(bf16, rmaxwiden, u64_acc4)(size_t n, const uint16_t *src, float *dst, float *max,
                                                  size_t prefetch_limit) {
    if (dst) {
        xent_rmaxwiden(n, src, dst, max, prefetch_limit, 1, 1);
    } else {
        xent_half_rmax_patterns(n, src, max, prefetch_limit, 1);
    }
}

// The lanes of `h` equal to `p`, or with a zero rule, whose bits under `mask` are all 0.
XENT_INLINE uint32_t xent_u16_matches(xent_u16x16 h, xent_u16x16 p, xent_u16x16 mask, const int zero_rule) {
    const uint32_t hits = xent_u16x16_eq_lanes(h, p);
    return zero_rule ? hits | xent_u16x16_eq_lanes(xent_u16x16_and(h, mask), xent_u16x16_set1(0)) : hits;
}

// The kernel's body; `zero_rule` a constant where it is inlined (a compare a vector without it).
XENT_INLINE size_t xent_u16_rfindeq(size_t n, const uint16_t *x, uint16_t pattern, uint16_t zero_mask,
                                    const int zero_rule) {
    const xent_u16x16 p = xent_u16x16_set1(pattern), mask = xent_u16x16_set1(zero_mask);
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        const uint32_t h0 = xent_u16_matches(xent_u16x16_load(x + i), p, mask, zero_rule);
        const uint32_t h1 = xent_u16_matches(xent_u16x16_load(x + i + 16), p, mask, zero_rule);
        const uint32_t h2 = xent_u16_matches(xent_u16x16_load(x + i + 32), p, mask, zero_rule);
        const uint32_t h3 = xent_u16_matches(xent_u16x16_load(x + i + 48), p, mask, zero_rule);
        if ((h0 | h1 | h2 | h3) != 0) return i + xent_first_hit(h0, h1, h2, h3);
    }
    for (; i < n; i += 16) {
        const xent_u16x16 v = n - i >= 16 ? xent_u16x16_load(x + i) : xent_u16x16_load_tail(x + i, n - i, 0);
        const uint32_t hits = xent_u16_matches(v, p, mask, zero_rule);
        if (hits != 0) return i + (size_t)__builtin_ctz(hits);
    }
    return n;
}

XENT_TARGET
size_t XENT_HALF_UKERNEL(u16, rfindeq, u64)(size_t n, const uint16_t *x, uint16_t pattern, uint16_t zero_mask) {
    return zero_mask != 0 ? xent_u16_rfindeq(n, x, pattern, zero_mask, 1) : xent_u16_rfindeq(n, x, pattern, 0, 0);
}
#endif
#endif

// MARK: raddstoreexpminusmax

// Label smoothing's sums over one vector v of logits without class weights: the unmasked lanes
// (v ≠ −inf) counted into `live`, Σ (shift − v) over them into g0/g1 (lanes 0–7 and 8–15), in
// double — rsumtargets' K and Σw·(shift − x) with every w = 1, in its order. A masked lane takes
// the shift for its logit and adds shift − shift = +0 where the general form adds (shift − 0)·0:
// both leave a sum that is not −0 as it is, and to nearest no sum is −0 (+0 to start, x − x = +0).
// So plain adds replace the fused multiply-adds by a weight of 1, with the same bits: adds run
// beside the exp's multiply-adds rather than on their pipes.
XENT_INLINE void xent_add_smoothing_sums(xent_f32x16 v, xent_f32x16 vshift, xent_f64x8 dshift, size_t *live,
                                         xent_f64x8 *g0, xent_f64x8 *g1) {
    const xent_f32x16 lx = xent_f32x16_keep_unmasked_or(v, v, vshift);
    // K is exact in double however it is added: an integer count gives its bits without the
    // conversions and adds of a double sum.
    *live += 16 - (size_t)__builtin_popcount(xent_f32x16_eq_lanes(v, xent_f32x16_set1(-INFINITY)));
    *g0 = xent_f64x8_add(*g0, xent_f64x8_sub(dshift, xent_f64x8_lo(lx)));
    *g1 = xent_f64x8_add(*g1, xent_f64x8_sub(dshift, xent_f64x8_hi(lx)));
}

typedef struct xent_target_sums {
    xent_f64x8 q[2], q_gap[2], unmasked[2], w[2], w_gap[2];
    size_t live;  // without class weights: the unmasked lanes, counted as integers
} xent_target_sums;

// One vector's target sums (CXent.h: xent_f32_rsumtargets_ukernel_fn); `q`, `w`, `smoothing` are
// whether each is present. Products and sums in double: the loss adds Σq·log S to these sums,
// and its error must stay within 1e-6·lse even when Σ q·(m − z) is many times lse; q·w in double
// is exact.
XENT_INLINE void xent_add_target_sums(xent_f32x16 v, xent_f32x16 vq, xent_f32x16 vw, xent_f32x16 vshift,
                                      xent_f64x8 dshift, int q, int w, int smoothing, xent_target_sums *acc) {
    if (q) {
        const xent_f32x16 qx = xent_f32x16_keep_nonzero(vq, w ? xent_f32x16_keep_nonzero(vw, v) : v);
        const xent_f64x8 ql = w ? xent_f64x8_mul(xent_f64x8_lo(vq), xent_f64x8_lo(vw)) : xent_f64x8_lo(vq);
        const xent_f64x8 qh = w ? xent_f64x8_mul(xent_f64x8_hi(vq), xent_f64x8_hi(vw)) : xent_f64x8_hi(vq);
        acc->q[0] = xent_f64x8_add(acc->q[0], ql);
        acc->q[1] = xent_f64x8_add(acc->q[1], qh);
        acc->q_gap[0] = xent_f64x8_fma(xent_f64x8_sub(dshift, xent_f64x8_lo(qx)), ql, acc->q_gap[0]);
        acc->q_gap[1] = xent_f64x8_fma(xent_f64x8_sub(dshift, xent_f64x8_hi(qx)), qh, acc->q_gap[1]);
    }
    if (smoothing) {
        if (w) {
            const xent_f32x16 lx = xent_f32x16_keep_unmasked(v, v);
            const xent_f32x16 lw = xent_f32x16_keep_unmasked(v, vw);
            const xent_f32x16 live = xent_f32x16_keep_unmasked(v, xent_f32x16_set1(1.0f));
            acc->unmasked[0] = xent_f64x8_add(acc->unmasked[0], xent_f64x8_lo(live));
            acc->unmasked[1] = xent_f64x8_add(acc->unmasked[1], xent_f64x8_hi(live));
            acc->w[0] = xent_f64x8_add(acc->w[0], xent_f64x8_lo(lw));
            acc->w[1] = xent_f64x8_add(acc->w[1], xent_f64x8_hi(lw));
            acc->w_gap[0] = xent_f64x8_fma(xent_f64x8_sub(dshift, xent_f64x8_lo(lx)), xent_f64x8_lo(lw), acc->w_gap[0]);
            acc->w_gap[1] = xent_f64x8_fma(xent_f64x8_sub(dshift, xent_f64x8_hi(lx)), xent_f64x8_hi(lw), acc->w_gap[1]);
        } else {
            // K and Σw are then both the count of unmasked lanes (xent_add_smoothing_sums).
            xent_add_smoothing_sums(v, vshift, dshift, &acc->live, &acc->w_gap[0], &acc->w_gap[1]);
        }
    }
}

// The five target sums in rsumtargets' layout (CXent.h: xent_f32_rsumtargets_ukernel_fn), 0 where not
// asked for.
XENT_INLINE void xent_target_sums_store(const xent_target_sums *acc, int q, int w, int smoothing, double *sums) {
    sums[0] = q ? xent_f64x8_reduce(xent_f64x8_add(acc->q[0], acc->q[1])) : 0.0;
    sums[1] = q ? xent_f64x8_reduce(xent_f64x8_add(acc->q_gap[0], acc->q_gap[1])) : 0.0;
    const double live = w ? xent_f64x8_reduce(xent_f64x8_add(acc->unmasked[0], acc->unmasked[1])) : (double)acc->live;
    sums[2] = smoothing ? live : 0.0;
    sums[3] = smoothing ? (w ? xent_f64x8_reduce(xent_f64x8_add(acc->w[0], acc->w[1])) : live) : 0.0;
    sums[4] = smoothing ? xent_f64x8_reduce(xent_f64x8_add(acc->w_gap[0], acc->w_gap[1])) : 0.0;
}

XENT_INLINE void xent_target_sums_zero(xent_target_sums *acc) {
    const xent_f64x8 z = xent_f64x8_zero();
    for (int h = 0; h < 2; h++) acc->q[h] = acc->q_gap[h] = acc->unmasked[h] = acc->w[h] = acc->w_gap[h] = z;
    acc->live = 0;
}

// Where the exp pass's logits come from: floats (`in` 0), or binary16 (1) or bfloat16 (2) widened as
// they are loaded (the 16-bit exp pass, in the 16-bit section below), or floats multiplied by the
// logit scale as they are loaded (3: t = s·x rounded, vtransform's bits without a softcap).
#define XENT_IN_F32 0
#define XENT_IN_F16 1
#define XENT_IN_BF16 2
#define XENT_IN_F32_SCALED 3
#define XENT_IN_FLOATS(in) ((in) == XENT_IN_F32 || (in) == XENT_IN_F32_SCALED)

// A loaded vector as the exp pass uses it: times the logit scale where `in` says so (−inf, NaN and
// the tails' −inf padding stay what they are, the scale being finite and > 0).
XENT_INLINE xent_f32x16 xent_logits_scaled(xent_f32x16 v, xent_f32x16 vscale, const int in) {
    return in == XENT_IN_F32_SCALED ? xent_f32x16_mul(v, vscale) : v;
}

XENT_INLINE xent_f32x16 xent_logits_load(const void *x, size_t i, const int in) {
#if defined(XENT_HALF_LANES)
    if (in == XENT_IN_F16) return xent_f32x16_widen_f16(xent_u16x16_load((const uint16_t *)x + i));
#if defined(XENT_HALF_LOAD_BF16)
    if (in == XENT_IN_BF16) return xent_f32x16_load_bf16((const uint16_t *)x + i);
#else
    if (in == XENT_IN_BF16) return xent_f32x16_widen_bf16(xent_u16x16_load((const uint16_t *)x + i));
#endif
#endif
    (void)in;
    return xent_f32x16_load((const float *)x + i);
}

// n in 1…15 logits, the other lanes −inf (in either 16-bit format, −inf's bits).
XENT_INLINE xent_f32x16 xent_logits_load_tail(const void *x, size_t i, size_t n, const int in) {
#if defined(XENT_HALF_LANES)
    if (in == XENT_IN_F16) return xent_f32x16_widen_f16(xent_u16x16_load_tail((const uint16_t *)x + i, n, 0xfc00));
    if (in == XENT_IN_BF16) return xent_f32x16_widen_bf16(xent_u16x16_load_tail((const uint16_t *)x + i, n, 0xff80));
#endif
    (void)in;
    return xent_f32x16_load_tail((const float *)x + i, n, -INFINITY);
}

// The kernel's body; `store`, `soft`, `weighted`, `mark`, `smooth`, `all_sums` and `in` are constants
// where it is inlined (`scale` is read only under XENT_IN_F32_SCALED). The target sums are
// rsumtargets': `soft` (soft targets `q`), `weighted` (class weights `w`, with `soft` or `smooth`),
// `smooth` (label smoothing), vector by vector in its order, so with the same bits; with `all_sums`
// into sums[1 ... 5] in its layout, else (`soft` alone) Σq and Σ q·(shift − x) into sums[1] and
// sums[2]. Every iteration prefetches the lines XENT_PREFETCH_DISTANCE
// elements ahead (for writing, too, when storing) that lie below `prefetch_limit`, so the next
// chunk's memory traffic overlaps this chunk's exps; over 16-bit logits, also the lines of `z` (the
// 16-bit gradient; NULL, a constant in every other form, for none). With `next_max` (NULL, a
// constant, in every form but rmaxnext's) it also takes the max of `next[0 ..< next_n]` (next_n ≥
// 1; in the logits' format), its loads beside the logits' while the exps keep the FMA units busy:
// rmax's result over floats; over 16-bit values rmaxwiden's, from their patterns as
// xent_half_rmax_patterns takes it (integer compares, no widening). Float logits are then
// prefetched twice as far ahead, past the next row; 16-bit ones one distance ahead (past the next
// row up to 1024 values; beyond, the prefetches fall in the next row, which the pass loads itself:
// twice the distance measured no different).
XENT_INLINE void xent_raddstoreexpminusmax_rmaxnext(size_t n, const void *x, float scale, float shift, const float *q,
                                                    const float *w, float *y, uint16_t *z, double *sums,
                                                    size_t prefetch_limit, const int store, const int soft,
                                                    const int weighted, const int mark, const int smooth,
                                                    const int all_sums, const int in, const void *next,
                                                    size_t next_n, float *next_max) {
    const size_t prefetch_end = xent_prefetch_end(prefetch_limit);
    const size_t x_distance = next_max && XENT_IN_FLOATS(in) ? 2 * XENT_PREFETCH_DISTANCE : XENT_PREFETCH_DISTANCE;
    const size_t x_prefetch_end = next_max && XENT_IN_FLOATS(in) ? xent_prefetch_end(prefetch_end) : prefetch_end;
    // The next row is the caller's logits, unscaled: its max is rmax's.
    const int next_in = in == XENT_IN_F32_SCALED ? XENT_IN_F32 : in;
    const xent_f32x16 vscale = xent_f32x16_set1(scale);
    // The next row's max in rmax's order-free form (16-bit rows: xent_half_rmax_patterns's): any
    // grouping gives its bits.
    xent_f32x16 m0 = xent_f32x16_set1(-INFINITY), m1 = m0;
#if defined(XENT_HALF_LANES)
    xent_u16x16 hi0 = xent_u16x16_set1(0x8000), hi1 = hi0, lo0 = xent_u16x16_set1(0xffff), lo1 = lo0;
#endif
    const xent_f32x16 vs = xent_f32x16_set1(shift);
    const xent_f64x8 dshift = xent_f64x8_set1((double)shift);
    const xent_f32x16 one = xent_f32x16_set1(1.0f), zero = xent_f32x16_set1(0.0f);
    xent_f64x8 s0 = xent_f64x8_zero(), s1 = s0;
    xent_target_sums acc;
    xent_target_sums_zero(&acc);
    for (size_t base = 0; base < n; base += XENT_EXP_BLOCK) {
        const size_t len = n - base < XENT_EXP_BLOCK ? n - base : XENT_EXP_BLOCK;
        const size_t nvec = len / 16, rest = len % 16;
        const size_t xbytes = XENT_IN_FLOATS(in) ? sizeof(float) : sizeof(uint16_t);
        const char *xb = (const char *)x + base * xbytes;
        const float *qb = soft ? q + base : NULL;
        const float *wb = weighted ? w + base : NULL;
        float *yb = store ? y + base : NULL;
        xent_f32x16 a0 = xent_f32x16_set1(0.0f), a1 = a0;
        size_t k = 0;
        for (; k + 2 <= nvec; k += 2) {
            const char *xk = xb + 16 * k * xbytes;
            const int ahead0 = base + 16 * k < prefetch_end, ahead1 = base + 16 * k + 16 < prefetch_end;
            const int x_ahead0 = base + 16 * k < x_prefetch_end, x_ahead1 = base + 16 * k + 16 < x_prefetch_end;
            // 32 logits: two lines of floats, one of 16-bit values.
            if (x_ahead0) XENT_PREFETCH(xk + x_distance * xbytes);
            if (x_ahead1 && XENT_IN_FLOATS(in)) XENT_PREFETCH(xk + (x_distance + 16) * xbytes);
            if (next_max && base + 16 * k + 32 <= next_n) {
#if defined(XENT_HALF_LANES)
                if (!XENT_IN_FLOATS(in)) {
                    const uint16_t *h = (const uint16_t *)next + base + 16 * k;
                    // One pair of accumulators with 16 registers (AVX2: a second spilled more in the
                    // exp's loop), two with 32.
                    xent_half_patterns_add(xent_u16x16_load(h), &hi0, &lo0);
                    xent_half_patterns_add(xent_u16x16_load(h + 16), XENT_REGISTER_BYTES == 64 ? &hi1 : &hi0,
                                           XENT_REGISTER_BYTES == 64 ? &lo1 : &lo0);
                } else
#endif
                {
                    m0 = xent_f32x16_max(xent_logits_load(next, base + 16 * k, next_in), m0);
                    m1 = xent_f32x16_max(xent_logits_load(next, base + 16 * k + 16, next_in), m1);
                }
            }
            if (z && ahead0) XENT_PREFETCHW(z + base + 16 * k + XENT_PREFETCH_DISTANCE);
            const xent_f32x16 v0 = xent_logits_scaled(xent_logits_load(xk, 0, in), vscale, in);
            const xent_f32x16 v1 = xent_logits_scaled(xent_logits_load(xk, 16, in), vscale, in);
            if (soft) {
                const float *qk = qb + 16 * k;
                if (ahead0) XENT_PREFETCH(qk + XENT_PREFETCH_DISTANCE);
                if (ahead1) XENT_PREFETCH(qk + XENT_PREFETCH_DISTANCE + 16);
            }
            if (soft || smooth) {
                // The class weights are not prefetched: rsumtargets, which read them, did not either,
                // and nothing here knows where the caller's weights end.
                const float *qk = soft ? qb + 16 * k : NULL, *wk = weighted ? wb + 16 * k : NULL;
                xent_add_target_sums(v0, soft ? xent_f32x16_load(qk) : zero, weighted ? xent_f32x16_load(wk) : one, vs,
                                     dshift, soft, weighted, smooth, &acc);
                xent_add_target_sums(v1, soft ? xent_f32x16_load(qk + 16) : zero,
                                     weighted ? xent_f32x16_load(wk + 16) : one, vs, dshift, soft, weighted, smooth,
                                     &acc);
            }
            xent_f32x16 e0, e1;
            xent_f32x16_exp_pair(xent_f32x16_sub(v0, vs), xent_f32x16_sub(v1, vs), &e0, &e1);
            if (store) {
                float *yk = yb + 16 * k;
                if (ahead0) XENT_PREFETCHW(yk + XENT_PREFETCH_DISTANCE);
                if (ahead1) XENT_PREFETCHW(yk + XENT_PREFETCH_DISTANCE + 16);
                if (mark) {
                    xent_f32x16_store(yk, xent_f32x16_mark_masked(v0, e0));
                    xent_f32x16_store(yk + 16, xent_f32x16_mark_masked(v1, e1));
                } else {
                    xent_f32x16_store(yk, e0);
                    xent_f32x16_store(yk + 16, e1);
                }
            }
            a0 = xent_f32x16_add(a0, e0);
            a1 = xent_f32x16_add(a1, e1);
        }
        if (k < nvec) {
            const xent_f32x16 v0 = xent_logits_scaled(xent_logits_load(xb, 16 * k, in), vscale, in);
            if (soft || smooth) {
                xent_add_target_sums(v0, soft ? xent_f32x16_load(qb + 16 * k) : zero,
                                     weighted ? xent_f32x16_load(wb + 16 * k) : one, vs, dshift, soft, weighted,
                                     smooth, &acc);
            }
            const xent_f32x16 e0 = xent_f32x16_exp(xent_f32x16_sub(v0, vs));
            if (store) xent_f32x16_store(yb + 16 * k, mark ? xent_f32x16_mark_masked(v0, e0) : e0);
            a0 = xent_f32x16_add(a0, e0);
        }
        if (rest) {
            // Missing lanes: x = −inf (exp 0), q = 0 (no target) and w = 0, so they add nothing.
            const xent_f32x16 v = xent_logits_scaled(xent_logits_load_tail(xb, 16 * nvec, rest, in), vscale, in);
            if (soft || smooth) {
                xent_add_target_sums(v, soft ? xent_f32x16_load_tail(qb + 16 * nvec, rest, 0.0f) : zero,
                                     weighted ? xent_f32x16_load_tail(wb + 16 * nvec, rest, 0.0f) : one, vs, dshift,
                                     soft, weighted, smooth, &acc);
            }
            const xent_f32x16 e = xent_f32x16_exp(xent_f32x16_sub(v, vs));
            if (store) xent_f32x16_store_tail(yb + 16 * nvec, rest, mark ? xent_f32x16_mark_masked(v, e) : e);
            a1 = xent_f32x16_add(a1, e);
        }
        const xent_f32x16 a = xent_f32x16_add(a0, a1);
        s0 = xent_f64x8_add(s0, xent_f64x8_lo(a));
        s1 = xent_f64x8_add(s1, xent_f64x8_hi(a));
    }
    sums[0] = xent_f64x8_reduce(xent_f64x8_add(s0, s1));
    if (all_sums) {
        xent_target_sums_store(&acc, soft, weighted, smooth, sums + 1);
    } else if (soft) {
        sums[1] = xent_f64x8_reduce(xent_f64x8_add(acc.q[0], acc.q[1]));
        sums[2] = xent_f64x8_reduce(xent_f64x8_add(acc.q_gap[0], acc.q_gap[1]));
    }
    if (next_max) {
        // The loop above took next's pairs of vectors below both lengths' last whole pair.
        size_t i = (n < next_n ? n : next_n) / 32 * 32;
#if defined(XENT_HALF_LANES)
        if (!XENT_IN_FLOATS(in)) {
            xent_half_patterns_finish(next_n, (const uint16_t *)next, i, hi0, hi1, lo0, lo1, next_max,
                                      in == XENT_IN_BF16);
            return;
        }
#endif
        for (; i + 16 <= next_n; i += 16) m0 = xent_f32x16_max(xent_logits_load(next, i, next_in), m0);
        if (i < next_n) m1 = xent_f32x16_max(xent_logits_load_tail(next, i, next_n - i, next_in), m1);
        *next_max = xent_plus_zero(xent_f32x16_reduce_max(xent_f32x16_max(m1, m0)));  // as rmax
    }
}

XENT_INLINE void xent_raddstoreexpminusmax(size_t n, const void *x, float shift, const float *q, float *y,
                                           uint16_t *z, double *sums, size_t prefetch_limit, const int store,
                                           const int soft, const int mark, const int in) {
    xent_raddstoreexpminusmax_rmaxnext(n, x, 1.0f, shift, q, NULL, y, z, sums, prefetch_limit, store, soft, 0, mark, 0,
                                       0, in, NULL, 0, NULL);
}

// The float exp pass's forms, one per combination of targets, store and marks; `in` XENT_IN_F32 or
// XENT_IN_F32_SCALED (then `scale` is the logit scale).
XENT_INLINE void xent_raddstoreexpminusmax_forms(size_t n, const float *x, float scale, float shift, const float *q,
                                                 float *y, int mark_masked, double *sums, size_t prefetch_limit,
                                                 const int in) {
#define XENT_EXP_FORM(qq, yy, store, soft, mark)                                                                \
    xent_raddstoreexpminusmax_rmaxnext(n, x, scale, shift, qq, NULL, yy, NULL, sums, prefetch_limit, store, soft, 0, \
                                       mark, 0, 0, in, NULL, 0, NULL)
    if (q) {
        if (!y) {
            XENT_EXP_FORM(q, NULL, 0, 1, 0);
        } else if (mark_masked) {
            XENT_EXP_FORM(q, y, 1, 1, 1);
        } else {
            XENT_EXP_FORM(q, y, 1, 1, 0);
        }
    } else if (!y) {
        XENT_EXP_FORM(NULL, NULL, 0, 0, 0);
    } else if (mark_masked) {
        XENT_EXP_FORM(NULL, y, 1, 0, 1);
    } else {
        XENT_EXP_FORM(NULL, y, 1, 0, 0);
    }
#undef XENT_EXP_FORM
}

#if XENT_KERNELS
XENT_TARGET
void XENT_UKERNEL(raddstoreexpminusmax, u32_acc2)(size_t n, const float *x, float shift, const float *q, float *y,
                                                   int mark_masked, double *sums, size_t prefetch_limit) {
    xent_raddstoreexpminusmax_forms(n, x, 1.0f, shift, q, y, mark_masked, sums, prefetch_limit, XENT_IN_F32);
}

// The exp pass over s·x (vtransform's t without a softcap) formed as the logits are loaded, so that
// a logit scale needs neither a transform pass nor a place to keep t.
XENT_TARGET
void XENT_UKERNEL(raddstoreexpscaledminusmax, u32_acc2)(size_t n, const float *x, float scale, float shift,
                                                         const float *q, float *y, int mark_masked, double *sums,
                                                         size_t prefetch_limit) {
    xent_raddstoreexpminusmax_forms(n, x, scale, shift, q, y, mark_masked, sums, prefetch_limit, XENT_IN_F32_SCALED);
}

// The exp pass taking rsumtargets' sums beside the exps, so that a chunk under label smoothing or
// with soft targets and class weights is read once: one form per combination of the sums and of
// storing or not (a branch on the store measured slower on AVX-512F), but for the two combinations
// the plain exp pass takes.
XENT_TARGET
void XENT_UKERNEL(raddstoreexpminusmax_targets, u32_acc2)(size_t n, const float *x, float shift, const float *q,
                                                           const float *w, int smoothing, float *y, double *sums,
                                                           size_t prefetch_limit) {
#define XENT_TARGETS_FORM(soft, weighted, smooth)                                                                   \
    do {                                                                                                            \
        if (y) {                                                                                                    \
            xent_raddstoreexpminusmax_rmaxnext(n, x, 1.0f, shift, q, w, y, NULL, sums, prefetch_limit, 1, soft,      \
                                               weighted, smooth, smooth, 1, XENT_IN_F32, NULL, 0, NULL);            \
        } else {                                                                                                    \
            xent_raddstoreexpminusmax_rmaxnext(n, x, 1.0f, shift, q, w, NULL, NULL, sums, prefetch_limit, 0, soft,   \
                                               weighted, 0, smooth, 1, XENT_IN_F32, NULL, 0, NULL);                 \
        }                                                                                                           \
    } while (0)
    // The weights count only beside targets or smoothing (rsumtargets' sums are 0 otherwise).
    const int weighted = w != NULL && (q != NULL || smoothing);
    switch ((q != NULL ? 4 : 0) | (weighted ? 2 : 0) | (smoothing ? 1 : 0)) {
    case 1: XENT_TARGETS_FORM(0, 0, 1); break;
    case 3: XENT_TARGETS_FORM(0, 1, 1); break;
    case 5: XENT_TARGETS_FORM(1, 0, 1); break;
    case 6: XENT_TARGETS_FORM(1, 1, 0); break;
    case 7: XENT_TARGETS_FORM(1, 1, 1); break;
    default:
        // No sum but the ones the plain exp pass takes (S; Σq and its gap with soft targets alone).
        XENT_UKERNEL(raddstoreexpminusmax, u32_acc2)(n, x, shift, q, y, 0, sums, prefetch_limit);
        if (!q) sums[1] = sums[2] = 0.0;
        sums[3] = sums[4] = sums[5] = 0.0;
        break;
    }
#undef XENT_TARGETS_FORM
}
#endif

// The forward exp pass (no soft targets, nothing stored) of one row that also takes the next row's max,
// in the ISAs that define XENT_RMAXNEXT_F32 (AVX-512F: on AVX2 the two extra 16-lane accumulators took
// registers the exp needs, and the fused pass measured slower than the two; Performance article).
#if XENT_KERNELS && defined(XENT_RMAXNEXT_F32)
XENT_TARGET
void XENT_UKERNEL(raddexpminusmax_rmaxnext, u32_acc2)(size_t n, const float *x, float shift, double *sum,
                                                       size_t prefetch_limit, const float *next, size_t next_n,
                                                       float *next_max) {
    xent_raddstoreexpminusmax_rmaxnext(n, x, 1.0f, shift, NULL, NULL, NULL, NULL, sum, prefetch_limit, 0, 0, 0, 0, 0, 0,
                                       XENT_IN_F32, next, next_n, next_max);
}

// The same over s·x (raddstoreexpscaledminusmax's t); the next row's max is that of its logits.
XENT_TARGET
void XENT_UKERNEL(raddexpscaledminusmax_rmaxnext, u32_acc2)(size_t n, const float *x, float scale, float shift,
                                                             double *sum, size_t prefetch_limit, const float *next,
                                                             size_t next_n, float *next_max) {
    xent_raddstoreexpminusmax_rmaxnext(n, x, scale, shift, NULL, NULL, NULL, NULL, sum, prefetch_limit, 0, 0, 0, 0, 0,
                                       0, XENT_IN_F32_SCALED, next, next_n, next_max);
}
#endif

// MARK: rsumtargets

#if XENT_KERNELS
XENT_TARGET
void XENT_UKERNEL(rsumtargets, u16)(size_t n, const float *x, float shift, const float *q, const float *w,
                                     int smoothing, double *sums) {
    const xent_f64x8 dshift = xent_f64x8_set1((double)shift);
    const xent_f32x16 vshift = xent_f32x16_set1(shift);
    const xent_f32x16 one = xent_f32x16_set1(1.0f), zero = xent_f32x16_set1(0.0f);
    xent_target_sums acc;
    xent_target_sums_zero(&acc);
    const int has_q = q != NULL, has_w = w != NULL;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        xent_add_target_sums(xent_f32x16_load(x + i), has_q ? xent_f32x16_load(q + i) : zero,
                             has_w ? xent_f32x16_load(w + i) : one, vshift, dshift, has_q, has_w, smoothing, &acc);
    }
    if (i < n) {
        // Missing lanes: x = −inf (masked), q = 0 and w = 0, so they add nothing.
        const size_t rest = n - i;
        xent_add_target_sums(xent_f32x16_load_tail(x + i, rest, -INFINITY),
                             has_q ? xent_f32x16_load_tail(q + i, rest, 0.0f) : zero,
                             has_w ? xent_f32x16_load_tail(w + i, rest, 0.0f) : one, vshift, dshift, has_q, has_w,
                             smoothing, &acc);
    }
    xent_target_sums_store(&acc, has_q, has_w, smoothing, sums);
}
#endif

// MARK: vtransform

// c·tanh(s·x/c) for n ≤ XENT_TANH_VECTORS whole vectors, their tanh chains issued together; with
// `acc`, each vector's logits into acc[k]'s max as they are loaded.
XENT_INLINE void xent_softcap_vectors(const float *x, float *t, size_t n, xent_f32x16 vs, xent_f32x16 vc,
                                      xent_f32x16 *acc) {
    xent_f32x16 v[XENT_TANH_VECTORS];
    for (size_t k = 0; k < n; k++) {
        const xent_f32x16 xk = xent_f32x16_load(x + 16 * k);
        if (acc) acc[k] = xent_f32x16_max(xk, acc[k]);
        v[k] = xent_f32x16_div(xent_f32x16_mul(xk, vs), vc);
    }
    xent_f32x16_tanh(v, n);
    for (size_t k = 0; k < n; k++) xent_f32x16_store(t + 16 * k, xent_f32x16_mul(v[k], vc));
}

// vtransform, and with `max` rmax's result over x as well (the max of a set in any order, a zero
// max as +0, NaN ignored): a transformed chunk's max in the pass that transforms it.
XENT_INLINE void xent_vtransform(size_t n, const float *x, float *t, float s, float c, float *max) {
    const xent_f32x16 vs = xent_f32x16_set1(s), vc = xent_f32x16_set1(c);
    xent_f32x16 acc[XENT_TANH_VECTORS];
    for (size_t k = 0; k < XENT_TANH_VECTORS; k++) acc[k] = xent_f32x16_set1(-INFINITY);
    size_t i = 0;
    if (c > 0.0f) {
        for (; i + 16 * XENT_TANH_VECTORS <= n; i += 16 * XENT_TANH_VECTORS)
            xent_softcap_vectors(x + i, t + i, XENT_TANH_VECTORS, vs, vc, max ? acc : NULL);
        for (; i + 16 <= n; i += 16) xent_softcap_vectors(x + i, t + i, 1, vs, vc, max ? acc : NULL);
    } else {
        for (; i + 16 <= n; i += 16) {
            const xent_f32x16 xi = xent_f32x16_load(x + i);
            if (max) acc[0] = xent_f32x16_max(xi, acc[0]);
            xent_f32x16_store(t + i, xent_f32x16_mul(xi, vs));
        }
    }
    if (i < n) {
        // The tail through one padded vector, so an element gets the same bits wherever it sits; its
        // max from the logits padded with −inf, before t (which may be x) is written.
        if (max) acc[0] = xent_f32x16_max(xent_f32x16_load_tail(x + i, n - i, -INFINITY), acc[0]);
        xent_f32x16 v = xent_f32x16_mul(xent_f32x16_load_tail(x + i, n - i, 0.0f), vs);
        if (c > 0.0f) {
            v = xent_f32x16_div(v, vc);
            xent_f32x16_tanh(&v, 1);
            v = xent_f32x16_mul(v, vc);
        }
        xent_f32x16_store_tail(t + i, n - i, v);
    }
    if (max) {
        for (size_t k = 1; k < XENT_TANH_VECTORS; k++) acc[0] = xent_f32x16_max(acc[k], acc[0]);
        *max = xent_plus_zero(xent_f32x16_reduce_max(acc[0]));
    }
}

#if XENT_KERNELS
XENT_TARGET
void XENT_UKERNEL(vtransform, u16)(size_t n, const float *x, float *t, float s, float c) {
    xent_vtransform(n, x, t, s, c, NULL);
}

XENT_TARGET
void XENT_UKERNEL(vtransform_rmax, u16)(size_t n, const float *x, float *t, float s, float c, float *max) {
    xent_vtransform(n, x, t, s, c, max);
}
#endif

// MARK: vgradient

// One vector of the general form: y·a − w·(q·b + [y not −0]·d).
XENT_INLINE xent_f32x16 xent_gradient_vec(xent_f32x16 e, xent_f32x16 vq, xent_f32x16 vw, xent_f32x16 va,
                                          xent_f32x16 vb, xent_f32x16 vd, int q, int w) {
    xent_f32x16 t = xent_f32x16_keep_unmarked(e, vd);
    if (q) t = xent_f32x16_add(xent_f32x16_mul(vq, vb), t);
    if (w) t = xent_f32x16_mul(t, vw);
    return xent_f32x16_sub(xent_f32x16_mul(e, va), t);
}

// Where vgradient's vectors go: back into y (`out` 0), or rounded to binary16 (1) or bfloat16 (2)
// into `dst` (the vgradientround kernels below), y left as it is.
#define XENT_OUT_F32 0
#define XENT_OUT_F16 1
#define XENT_OUT_BF16 2

XENT_INLINE void xent_gradient_put(float *y, uint16_t *dst, size_t i, xent_f32x16 g, const int out) {
#if defined(XENT_HALF_LANES)
    if (out != XENT_OUT_F32) {
        xent_u16x16_store(dst + i, out == XENT_OUT_BF16 ? xent_f32x16_round_bf16(g) : xent_f32x16_round_f16(g));
        return;
    }
#endif
    (void)dst, (void)out;
    xent_f32x16_store(y + i, g);
}

XENT_INLINE void xent_gradient_put_tail(float *y, uint16_t *dst, size_t i, size_t n, xent_f32x16 g, const int out) {
#if defined(XENT_HALF_LANES)
    if (out != XENT_OUT_F32) {
        xent_u16x16_store_tail(dst + i, n,
                               out == XENT_OUT_BF16 ? xent_f32x16_round_bf16(g) : xent_f32x16_round_f16(g));
        return;
    }
#endif
    (void)dst, (void)out;
    xent_f32x16_store_tail(y + i, n, g);
}

// Two vectors from i: for bfloat16, rounded together (xent_f32x16_round_bf16_store_pair). (The
// loops call it for bfloat16 alone, their other outputs' code left as it was measured.)
XENT_INLINE void xent_gradient_put_pair(float *y, uint16_t *dst, size_t i, xent_f32x16 g0, xent_f32x16 g1,
                                        const int out) {
#if defined(XENT_HALF_LANES)
    if (out == XENT_OUT_BF16) {
        xent_f32x16_round_bf16_store_pair(dst + i, g0, g1);
        return;
    }
#endif
    xent_gradient_put(y, dst, i, g0, out);
    xent_gradient_put(y, dst, i + 16, g1, out);
}

// The 16-bit output is the row's first touch of its gradient lines: prefetched for writing, one
// line per XENT_HALF_LINE elements, a chunk ahead, below the prefetch limit (`end`:
// xent_prefetch_end's).
XENT_INLINE void xent_gradient_prefetch(uint16_t *dst, size_t i, size_t end, const int out) {
    if (out != XENT_OUT_F32 && i % XENT_HALF_LINE == 0 && i < end) XENT_PREFETCHW(dst + i + XENT_PREFETCH_DISTANCE);
}

// vgradient's value at the lanes from i: 16 of them, or `len` < 16 (the other lanes' values unused),
// in the form its arguments select, lane by lane as xent_vgradient's branches compute it.
XENT_INLINE xent_f32x16 xent_gradient_at(const float *y, const float *q, const float *w, int smoothing, size_t i,
                                         size_t len, float a, float b, float d) {
    const int tail = len < 16;
    const xent_f32x16 zero = xent_f32x16_set1(0.0f), va = xent_f32x16_set1(a), vb = xent_f32x16_set1(b);
    const xent_f32x16 e = tail ? xent_f32x16_load_tail(y + i, len, 0.0f) : xent_f32x16_load(y + i);
    const xent_f32x16 vq = !q ? zero : tail ? xent_f32x16_load_tail(q + i, len, 0.0f) : xent_f32x16_load(q + i);
    if (w || smoothing) {
        const xent_f32x16 vw = !w ? zero : tail ? xent_f32x16_load_tail(w + i, len, 0.0f) : xent_f32x16_load(w + i);
        return xent_gradient_vec(e, vq, vw, va, vb, xent_f32x16_set1(smoothing ? d : 0.0f), q != NULL, w != NULL);
    }
    if (q) return xent_f32x16_sub(xent_f32x16_mul(e, va), xent_f32x16_mul(vq, vb));
    return xent_f32x16_mul(e, va);
}

// vgradient's three branches (class weights or smoothing; targets; neither); `out` is a constant
// where it is inlined. Rounding into `dst`, the element at `label` (none: `label` ≥ n) less
// `label_term`: its vector once more after the loop, over what the loop stored for it (the
// caller's one-element calls measured slower: each load read the element the call before had just
// stored).
XENT_INLINE void xent_vgradient(size_t n, float *y, const float *q, const float *w, int smoothing, float a, float b,
                                float d, size_t label, float label_term, uint16_t *dst, size_t prefetch_limit,
                                const int out) {
    const xent_f32x16 va = xent_f32x16_set1(a);
    const size_t prefetch_end = xent_prefetch_end(prefetch_limit);
    size_t i = 0;
    if (w || smoothing) {
        const xent_f32x16 vb = xent_f32x16_set1(b), vd = xent_f32x16_set1(smoothing ? d : 0.0f);
        const xent_f32x16 zero = xent_f32x16_set1(0.0f);
        const int has_q = q != NULL, has_w = w != NULL;
        for (; out == XENT_OUT_BF16 && i + 32 <= n; i += 32) {
            xent_gradient_prefetch(dst, i, prefetch_end, out);
            const xent_f32x16 g0 = xent_gradient_vec(xent_f32x16_load(y + i), has_q ? xent_f32x16_load(q + i) : zero,
                                                     has_w ? xent_f32x16_load(w + i) : zero, va, vb, vd, has_q, has_w);
            const xent_f32x16 g1 =
                xent_gradient_vec(xent_f32x16_load(y + i + 16), has_q ? xent_f32x16_load(q + i + 16) : zero,
                                  has_w ? xent_f32x16_load(w + i + 16) : zero, va, vb, vd, has_q, has_w);
            xent_gradient_put_pair(y, dst, i, g0, g1, out);
        }
        for (; i + 16 <= n; i += 16) {
            xent_gradient_prefetch(dst, i, prefetch_end, out);
            const xent_f32x16 g = xent_gradient_vec(xent_f32x16_load(y + i), has_q ? xent_f32x16_load(q + i) : zero,
                                                    has_w ? xent_f32x16_load(w + i) : zero, va, vb, vd, has_q, has_w);
            xent_gradient_put(y, dst, i, g, out);
        }
        if (i < n) {
            const size_t rest = n - i;
            const xent_f32x16 g = xent_gradient_vec(
                xent_f32x16_load_tail(y + i, rest, 0.0f), has_q ? xent_f32x16_load_tail(q + i, rest, 0.0f) : zero,
                has_w ? xent_f32x16_load_tail(w + i, rest, 0.0f) : zero, va, vb, vd, has_q, has_w);
            xent_gradient_put_tail(y, dst, i, rest, g, out);
        }
    } else if (q) {
        const xent_f32x16 vb = xent_f32x16_set1(b);
        for (; out == XENT_OUT_BF16 && i + 32 <= n; i += 32) {
            xent_gradient_prefetch(dst, i, prefetch_end, out);
            xent_gradient_put_pair(y, dst, i,
                                   xent_f32x16_sub(xent_f32x16_mul(xent_f32x16_load(y + i), va),
                                                   xent_f32x16_mul(xent_f32x16_load(q + i), vb)),
                                   xent_f32x16_sub(xent_f32x16_mul(xent_f32x16_load(y + i + 16), va),
                                                   xent_f32x16_mul(xent_f32x16_load(q + i + 16), vb)),
                                   out);
        }
        for (; i + 16 <= n; i += 16) {
            xent_gradient_prefetch(dst, i, prefetch_end, out);
            xent_gradient_put(y, dst, i,
                              xent_f32x16_sub(xent_f32x16_mul(xent_f32x16_load(y + i), va),
                                              xent_f32x16_mul(xent_f32x16_load(q + i), vb)),
                              out);
        }
        if (i < n) {
            const size_t rest = n - i;
            xent_gradient_put_tail(y, dst, i, rest,
                                   xent_f32x16_sub(xent_f32x16_mul(xent_f32x16_load_tail(y + i, rest, 0.0f), va),
                                                   xent_f32x16_mul(xent_f32x16_load_tail(q + i, rest, 0.0f), vb)),
                                   out);
        }
    } else {
        for (; i + 32 <= n; i += 32) {
            xent_gradient_prefetch(dst, i, prefetch_end, out);
            if (out == XENT_OUT_BF16) {
                xent_gradient_put_pair(y, dst, i, xent_f32x16_mul(xent_f32x16_load(y + i), va),
                                       xent_f32x16_mul(xent_f32x16_load(y + i + 16), va), out);
                continue;
            }
            xent_gradient_put(y, dst, i, xent_f32x16_mul(xent_f32x16_load(y + i), va), out);
            xent_gradient_put(y, dst, i + 16, xent_f32x16_mul(xent_f32x16_load(y + i + 16), va), out);
        }
        for (; i + 16 <= n; i += 16) xent_gradient_put(y, dst, i, xent_f32x16_mul(xent_f32x16_load(y + i), va), out);
        if (i < n) {
            xent_gradient_put_tail(y, dst, i, n - i, xent_f32x16_mul(xent_f32x16_load_tail(y + i, n - i, 0.0f), va),
                                   out);
        }
    }
#if defined(XENT_HALF_LANES)
    if (out != XENT_OUT_F32 && label < n) {
        const size_t at = label / 16 * 16, len = n - at < 16 ? n - at : 16;
        const xent_f32x16 g =
            xent_f32x16_sub_lane(xent_gradient_at(y, q, w, smoothing, at, len, a, b, d), label - at, label_term);
        if (len == 16) {
            xent_gradient_put(y, dst, at, g, out);
        } else {
            xent_gradient_put_tail(y, dst, at, len, g, out);
        }
    }
#else
    (void)label, (void)label_term;
#endif
}

#if XENT_KERNELS
XENT_TARGET
void XENT_UKERNEL(vgradient, u32)(size_t n, float *y, const float *q, const float *w, int smoothing, float a, float b,
                                  float d) {
    // One value per element: the head apart, the loads and stores of y then on register boundaries.
    const size_t head = xent_head_to_register(y, n);
    if (head > 0) {
        xent_vgradient(head, y, q, w, smoothing, a, b, d, SIZE_MAX, 0.0f, NULL, 0, XENT_OUT_F32);
        y += head;
        q = q ? q + head : NULL;
        w = w ? w + head : NULL;
        n -= head;
    }
    xent_vgradient(n, y, q, w, smoothing, a, b, d, SIZE_MAX, 0.0f, NULL, 0, XENT_OUT_F32);
}
#endif

// MARK: vgradientsoftcap

// One vector: (exp(t − shift)·a − w·(q·b + d))·(1 − (t/c)²).
XENT_INLINE xent_f32x16 xent_gradient_softcap_vec(xent_f32x16 t, xent_f32x16 vq, xent_f32x16 vw, xent_f32x16 vs,
                                                  xent_f32x16 va, xent_f32x16 vb, xent_f32x16 vd, xent_f32x16 vc,
                                                  int q, int w) {
    const xent_f32x16 r = xent_f32x16_div(t, vc);
    xent_f32x16 target = vd;
    if (q) target = xent_f32x16_add(xent_f32x16_mul(vq, vb), target);
    if (w) target = xent_f32x16_mul(target, vw);
    const xent_f32x16 e = xent_f32x16_exp(xent_f32x16_sub(t, vs));
    const xent_f32x16 g = xent_f32x16_sub(xent_f32x16_mul(e, va), target);
    return xent_f32x16_mul(g, xent_f32x16_sub(xent_f32x16_set1(1.0f), xent_f32x16_mul(r, r)));
}

#if XENT_KERNELS
XENT_TARGET
void XENT_UKERNEL(vgradientsoftcap, u16)(size_t n, float *y, const float *q, const float *w, int smoothing,
                                         float shift, float a, float b, float d, float c, int64_t label,
                                         float label_term) {
    const xent_f32x16 vs = xent_f32x16_set1(shift), va = xent_f32x16_set1(a), vb = xent_f32x16_set1(b);
    const xent_f32x16 vd = xent_f32x16_set1(smoothing ? d : 0.0f), vc = xent_f32x16_set1(c);
    const xent_f32x16 zero = xent_f32x16_set1(0.0f);
    const int has_q = q != NULL, has_w = w != NULL;
    const float label_t = label >= 0 ? y[label] : 0.0f;  // before it is overwritten
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        xent_f32x16_store(y + i, xent_gradient_softcap_vec(xent_f32x16_load(y + i),
                                                           has_q ? xent_f32x16_load(q + i) : zero,
                                                           has_w ? xent_f32x16_load(w + i) : zero, vs, va, vb, vd,
                                                           vc, has_q, has_w));
    }
    if (i < n) {
        const size_t rest = n - i;
        xent_f32x16_store_tail(
            y + i, rest,
            xent_gradient_softcap_vec(xent_f32x16_load_tail(y + i, rest, 0.0f),
                                      has_q ? xent_f32x16_load_tail(q + i, rest, 0.0f) : zero,
                                      has_w ? xent_f32x16_load_tail(w + i, rest, 0.0f) : zero, vs, va, vb, vd, vc,
                                      has_q, has_w));
    }
    // The label's term inside the chain factor: where p_t ≈ 1 the bracket cancels to ≈ 0 before the
    // (then tiny) factor multiplies it, as NUMERICS.md's chain rule reads. Lane 0 of one vector, so
    // its exp is the kernels' exp.
    if (label >= 0) {
        float e[16] __attribute__((aligned(64)));
        xent_f32x16_store(e, xent_f32x16_exp(xent_f32x16_sub(xent_f32x16_set1(label_t), vs)));
        const float r = label_t / c;
        float target = smoothing ? d : 0.0f;
        if (q) target = q[label] * b + target;
        if (w) target = target * w[label];
        y[label] = (e[0] * a - target - label_term) * (1.0f - r * r);
    }
}
#endif

// MARK: 16-bit raddstoreexpminusmax and vgradientround
//
// (The 16-bit lanes: above, with rmaxwiden.)

#if defined(XENT_HALF_LANES)
// raddstoreexpminusmax over the widened logits (without mark_masked), which are never stored;
// `in` is XENT_IN_F16 or XENT_IN_BF16.
XENT_INLINE void xent_half_raddstoreexpminusmax(size_t n, const uint16_t *x, float shift, const float *q, float *y,
                                                uint16_t *z, double *sums, size_t prefetch_limit, const int in) {
    if (q) {
        if (y) xent_raddstoreexpminusmax(n, x, shift, q, y, z, sums, prefetch_limit, 1, 1, 0, in);
        else xent_raddstoreexpminusmax(n, x, shift, q, NULL, NULL, sums, prefetch_limit, 0, 1, 0, in);
    } else if (y) {
        xent_raddstoreexpminusmax(n, x, shift, NULL, y, z, sums, prefetch_limit, 1, 0, 0, in);
    } else {
        xent_raddstoreexpminusmax(n, x, shift, NULL, NULL, NULL, sums, prefetch_limit, 0, 0, 0, in);
    }
}

#if XENT_KERNELS
// The forward exp pass over 16-bit logits that also takes the next row's max from its patterns, as
// rmaxwiden does without a destination (its bits: NaN ignored, a zero max +0), in the ISAs that
// define XENT_RMAXNEXT_HALF (AVX-512F and AVX2, whose accumulators of 16-bit patterns are single
// ymm registers).
#if defined(XENT_RMAXNEXT_HALF)
XENT_TARGET
void XENT_HALF_UKERNEL(f16, raddexpminusmax_rmaxnext, u32_acc2)(size_t n, const uint16_t *x, float shift, double *sum,
                                                                 size_t prefetch_limit, const uint16_t *next,
                                                                 size_t next_n, float *next_max) {
    xent_raddstoreexpminusmax_rmaxnext(n, x, 1.0f, shift, NULL, NULL, NULL, NULL, sum, prefetch_limit, 0, 0, 0, 0, 0, 0,
                                       XENT_IN_F16, next, next_n, next_max);
}

XENT_TARGET
void XENT_HALF_UKERNEL(bf16, raddexpminusmax_rmaxnext, u32_acc2)(size_t n, const uint16_t *x, float shift,
                                                                  double *sum, size_t prefetch_limit,
                                                                  const uint16_t *next, size_t next_n,
                                                                  float *next_max) {
    xent_raddstoreexpminusmax_rmaxnext(n, x, 1.0f, shift, NULL, NULL, NULL, NULL, sum, prefetch_limit, 0, 0, 0, 0, 0, 0,
                                       XENT_IN_BF16, next, next_n, next_max);
}
#endif

XENT_TARGET
void XENT_HALF_UKERNEL(f16, raddstoreexpminusmax, u32_acc2)(size_t n, const uint16_t *x, float shift, const float *q,
                                                             float *y, uint16_t *z, double *sums,
                                                             size_t prefetch_limit) {
    xent_half_raddstoreexpminusmax(n, x, shift, q, y, z, sums, prefetch_limit, XENT_IN_F16);
}

XENT_TARGET
void XENT_HALF_UKERNEL(bf16, raddstoreexpminusmax, u32_acc2)(size_t n, const uint16_t *x, float shift, const float *q,
                                                              float *y, uint16_t *z, double *sums,
                                                              size_t prefetch_limit) {
    xent_half_raddstoreexpminusmax(n, x, shift, q, y, z, sums, prefetch_limit, XENT_IN_BF16);
}
#endif

// vgradient's forms over `y`, which is only read here (out ≠ XENT_OUT_F32), each vector rounded
// into `dst`.
#if XENT_KERNELS
XENT_TARGET
void XENT_HALF_UKERNEL(f16, vgradientround, u32)(size_t n, const float *y, const float *q, const float *w,
                                                 int smoothing, float a, float b, float d, int64_t label,
                                                 float label_term, uint16_t *dst, size_t prefetch_limit) {
    xent_vgradient(n, (float *)y, q, w, smoothing, a, b, d, (size_t)label, label_term, dst, prefetch_limit,
                   XENT_OUT_F16);
}

XENT_TARGET
void XENT_HALF_UKERNEL(bf16, vgradientround, u32)(size_t n, const float *y, const float *q, const float *w,
                                                  int smoothing, float a, float b, float d, int64_t label,
                                                  float label_term, uint16_t *dst, size_t prefetch_limit) {
    xent_vgradient(n, (float *)y, q, w, smoothing, a, b, d, (size_t)label, label_term, dst, prefetch_limit,
                   XENT_OUT_BF16);
}
#endif
#endif

// MARK: The inlined exp and tanh against SLEEF's library functions

#if (defined(XENT_EXP_LIBRARY) || defined(XENT_TANH_LIBRARY)) && XENT_KERNELS
// A kernel's function of x over 4096 floats, or SLEEF's library function it must equal; `batch`
// counts the calls (a layout may change from one batch to the next).
typedef void (*xent_f32_map_4096_fn)(const float *x, float *y, uint64_t batch);

// How many of the count patterns first, first + stride, … `inlined` maps to other bits than
// `library`, NaN payloads included.
XENT_TARGET
static int64_t xent_library_mismatches(uint64_t first, uint64_t count, uint64_t stride, xent_f32_map_4096_fn inlined,
                                       xent_f32_map_4096_fn library) {
    uint32_t bits[4096] __attribute__((aligned(64)));
    float got[4096] __attribute__((aligned(64)));
    float expected[4096] __attribute__((aligned(64)));
    int64_t mismatches = 0;
    uint64_t next = first;
    for (uint64_t done = 0, batch = 0; done < count; batch++) {
        const size_t n = count - done < 4096 ? (size_t)(count - done) : 4096;
        for (size_t i = 0; i < 4096; i++) {
            bits[i] = (uint32_t)next;  // past n: repeats of real patterns, not counted
            if (i < n) next += stride;
        }
        const float *x = (const float *)(const void *)bits;
        inlined(x, got, batch);
        library(x, expected, batch);
        for (size_t i = 0; i < n; i++) {
            uint32_t a, b;
            memcpy(&a, &got[i], 4);
            memcpy(&b, &expected[i], 4);
            mismatches += a != b;
        }
        done += n;
    }
    return mismatches;
}
#endif

#if defined(XENT_EXP_LIBRARY) && XENT_KERNELS
// The exp pass storing exp(x − 0): x − 0 is x, NaN payloads included.
XENT_TARGET
static void xent_exp_pass_4096(const float *x, float *y, uint64_t batch) {
    (void)batch;
    double sum;
    XENT_UKERNEL(raddstoreexpminusmax, u32_acc2)(4096, x, 0.0f, NULL, y, 0, &sum, 4096);
}

static void xent_exp_library_4096(const float *x, float *y, uint64_t batch) {
    (void)batch;
    XENT_EXP_LIBRARY(x, y, 4096);
}

int64_t XENT_PASTE(xent_exp_mismatches__, XENT_ISA_SUFFIX, , )(uint64_t first, uint64_t count, uint64_t stride) {
    return xent_library_mismatches(first, count, stride, xent_exp_pass_4096, xent_exp_library_4096);
}
#endif

#if defined(XENT_TANH_LIBRARY) && XENT_KERNELS
// The softcap transform's pieces, with one more of the rest of 4096: groups of XENT_TANH_VECTORS,
// single vectors and tails, starting at varied offsets within a group.
static const uint16_t xent_tanh_piece_lengths[] = {1,  15,  16,  17,  31,  32,  33,  47,  48,  63,  64,
                                                   65, 79, 100, 127, 128, 129, 250, 255, 256, 257, 1022};
#define XENT_TANH_PIECES (sizeof(xent_tanh_piece_lengths) / sizeof(uint16_t) + 1)

// The softcap transform with s = c = 1 (x·1/1 is x, and the tanh times 1 the tanh), piece by piece:
// the pieces' order rotated by one each batch and every other piece through vtransform_rmax (whose
// max is not looked at), alternating each batch, so that a pattern's place in a batch does not fix
// the path it takes.
XENT_TARGET
static void xent_softcap_4096(const float *x, float *y, uint64_t batch) {
    size_t rest = 4096;
    for (size_t p = 0; p + 1 < XENT_TANH_PIECES; p++) rest -= xent_tanh_piece_lengths[p];
    size_t at = 0;
    for (size_t p = 0; p < XENT_TANH_PIECES; p++) {
        const size_t piece = (p + batch) % XENT_TANH_PIECES;
        const size_t length = piece + 1 < XENT_TANH_PIECES ? xent_tanh_piece_lengths[piece] : rest;
        float max;
        if ((p + batch) % 2) {
            XENT_UKERNEL(vtransform_rmax, u16)(length, x + at, y + at, 1.0f, 1.0f, &max);
        } else {
            XENT_UKERNEL(vtransform, u16)(length, x + at, y + at, 1.0f, 1.0f);
        }
        at += length;
    }
}

static void xent_tanh_library_4096(const float *x, float *y, uint64_t batch) {
    (void)batch;
    XENT_TANH_LIBRARY(x, y, 4096);
}

int64_t XENT_PASTE(xent_tanh_mismatches__, XENT_ISA_SUFFIX, , )(uint64_t first, uint64_t count, uint64_t stride) {
    return xent_library_mismatches(first, count, stride, xent_softcap_4096, xent_tanh_library_4096);
}
#endif
