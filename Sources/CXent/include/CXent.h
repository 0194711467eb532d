// CXent: the C side of Xent — per-ISA micro-kernels over SLEEF, the config that picks them, the
// call's parameter block, and the calling thread's CPU affinity (for the automatic thread count).
// The row driver that calls the kernels is Swift (Sources/Xent/RowPipeline.swift).
//
// Nothing here takes or returns a SIMD value: Swift code is compiled for the baseline ISA, so a
// 256- or 512-bit vector crossing the Swift/C boundary would travel by a different convention on
// each side. Every function takes pointers and scalars only.
#ifndef CXENT_H
#define CXENT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// MARK: - Instruction sets

/// The instruction sets the micro-kernels are implemented for.
typedef enum xent_isa {
    XENT_ISA_SCALAR = 0,   ///< the portable Swift kernels over SLEEF's pure-C non-FMA `u10` functions (SSE2's bits)
    XENT_ISA_SSE2 = 1,     ///< x86-64 baseline, `Sleef_expf4_u10sse2`
    XENT_ISA_AVX2 = 2,     ///< AVX2 + FMA + F16C, `Sleef_expf8_u10avx2` inlined (bit for bit the same results)
    XENT_ISA_AVX512F = 3,  ///< AVX-512F, `Sleef_expf16_u10avx512f`'s algorithm inlined (bit for bit the same results)
    XENT_ISA_ADVSIMD = 4,  ///< arm64 AdvSIMD, `Sleef_expf4_u10advsimd`
} xent_isa;

/// The number of `xent_isa` values (for iteration).
#define XENT_ISA_COUNT 5

/// 1 if this build contains `isa` and the CPU and OS support it, else 0.
int xent_isa_is_supported(xent_isa isa);

/// The ISA used when the caller does not name one: the `XENT_ISA` environment variable
/// (`avx512`, `avx2`, `sse2`, `advsimd`, `scalar`) if it names a supported ISA, else the best
/// supported one (an unknown or unsupported value is reported once on standard error). Read
/// once, on first use; thread-safe.
xent_isa xent_isa_default(void);

/// The lower-case name of `isa` as `XENT_ISA` spells it; "unknown" for other values.
const char *xent_isa_name(xent_isa isa);

/// 1 for the ISAs that promise the same bits as one another (NUMERICS.md "Determinism"): AVX-512F,
/// AVX2+FMA and AdvSIMD — SLEEF's FMA exp, and the FMA double log and exp of `xent_f64_*`.
int xent_isa_is_canonical(xent_isa isa);

// MARK: - The parameter block

/// What one call of the loss asks for, built once per call by the Swift side from the checked
/// options (`Batch.run`, Sources/Xent/BatchEngine.swift) and read by the row driver
/// (`RowPipeline`), which hands the micro-kernels the parts they need. Swift builds it field by
/// field through the importer; the `_Static_assert`s below pin the layout it relies on.
typedef struct xent_params {
    /// The class weights w (one per class of the whole row), or NULL for all 1.
    const float *class_weights;
    /// α ∈ [0, 1], the label smoothing.
    double label_smoothing;
    /// The cross-entropy part's gradient scale: upstream gradient ÷ its denominator (0 when the
    /// denominator is 0). The logit scale's chain factor is the kernels' to apply.
    double cross_entropy_gradient_scale;
    /// The z-loss part's gradient scale: 2λ × upstream gradient ÷ its denominator.
    double z_loss_gradient_scale;
    /// s > 0, the logit scale (1: none).
    float logit_scale;
    /// c > 0, the softcap (0: none).
    float softcap;
    /// 1 when the row's argmax (first index of its max) is wanted.
    int32_t argmax;
    /// 1 when the rows are scored against soft targets rather than labels.
    int32_t soft_targets;
} xent_params;

_Static_assert(offsetof(xent_params, class_weights) == 0, "xent_params: the pointer first");
_Static_assert(offsetof(xent_params, label_smoothing) == sizeof(void *), "xent_params: the doubles after it");
_Static_assert(sizeof(xent_params) % 8 == 0, "xent_params: no tail padding Swift would not see");

// MARK: - Micro-kernels
//
/// How far past the element they work on the micro-kernels prefetch, in elements (8 KiB of floats:
/// the next 2048-element chunk of the row driver), for reading and — where they store — for
/// writing. Where threads work side by side in one buffer for a whole call (the 16-bit rows'
/// per-thread workspaces) each part should keep this far from the next, or the prefetches for
/// writing pull the neighbour's lines from its core; where two threads' claimed blocks of rows or
/// chunks meet, the overlap is one prefetch window per boundary (a few dozen a call at most).
///
/// A kernel that prefetches takes a `prefetch_limit` (≥ n, or 0 for no prefetches at all): it
/// prefetches its operands' elements below that index only — the memory that follows the part it
/// works on: in the caller's buffers the rest of the row and the rows after it, in a 16-bit row's
/// workspace the rest of it and its padding, in a scratch copy nothing. A prefetch never faults,
/// but one into a page that is not mapped is dropped only after a page walk (tens of nanoseconds on
/// a virtual machine), and the memory past the end of a caller's buffer often is such a page:
/// unbounded, the last rows of every call paid it once per line of a prefetch window.
#define XENT_PREFETCH_DISTANCE 2048

// Every ISA provides the kernels below with these signatures (names:
// xent_<type>_<operation>_ukernel__<isa>_u<elements per iteration>[_acc<accumulators>]). Their
// accumulation order is defined on 16 float lanes whatever the register width — vector k of a
// row part is its elements [16k, 16k + 16), a partial last vector is padded — so the ISAs that
// promise it give the same bits (xent_f32x16.h says how).

/// `*max` = the largest of `x[0 ..< n]`, ignoring NaN; −inf if every element is −inf or NaN; +0
/// rather than −0. n ≥ 1.
typedef void (*xent_f32_rmax_ukernel_fn)(size_t n, const float *x, float *max);

/// The index of the first of `x[0 ..< n]` equal to `value` by `==` (so either zero for a zero
/// value, a NaN never), or n if none: the argmax's search once a row part's max is known.
typedef size_t (*xent_f32_rfindeq_ukernel_fn)(size_t n, const float *x, float value);

/// The index of the first of the 16-bit patterns `x[0 ..< n]` equal to `pattern` or — where
/// `zero_mask` is not 0 — whose bits under `zero_mask` are all 0, or n if none: the argmax's search
/// over 16-bit logits, by the max's pattern (either zero's for a zero max: 0x7fff; and a bfloat16
/// subnormal's under denormals-are-zero: 0x7f80).
typedef size_t (*xent_u16_rfindeq_ukernel_fn)(size_t n, const uint16_t *x, uint16_t pattern, uint16_t zero_mask);

/// `e_i = exp(x_i − shift)` (SLEEF's u10) for i < n, stored into `y` (unless NULL; `y` may be
/// `x`), and `sums[0] = Σ e_i`: per 512-element block two 16-lane float accumulators, vector k
/// into the (k mod 2)-th and a partial last vector (missing lanes −inf) into the second, their sum
/// widened at the block's end into two 8-lane double accumulators (lanes 0–7 and 8–15), reduced
/// once (`xent_f64x8` tree). With soft targets `q` (not NULL) the same pass also takes
/// `sums[1] = Σ q_i` and `sums[2] = Σ q_i·(shift − x_i)` over q_i ≠ 0, in double (fused
/// multiply-adds). With `mark_masked`, a masked element (x_i = −inf) stores −0 instead of +0, so
/// the gradient kernel can skip it. `shift` must not be −inf (missing lanes are −inf, whose exp must
/// be 0); a +inf shift (a chunk holding +inf) makes every exp NaN, which marks the row bad. It
/// prefetches `x`, `q` and `y` a chunk ahead, below `prefetch_limit` (XENT_PREFETCH_DISTANCE).
typedef void (*xent_f32_raddstoreexpminusmax_ukernel_fn)(size_t n, const float *x, float shift, const float *q,
                                                          float *y, int mark_masked, double *sums,
                                                          size_t prefetch_limit);

/// The forward exp pass of a whole row whose next row's max is wanted: `*sum` =
/// `xent_f32_raddstoreexpminusmax_ukernel_fn`'s `sums[0]` without targets or a store (the same
/// bits), and `*next_max` = `xent_f32_rmax_ukernel_fn`'s result over `next[0 ..< next_n]` (next_n
/// ≥ 1; the same bits, but for the sign of a zero max under a rounding mode other than to nearest,
/// where either kernel may give −0 as rmax may across alignments: no output depends on it), its
/// loads issued beside the exps'. `x` is prefetched below
/// `prefetch_limit`, twice XENT_PREFETCH_DISTANCE ahead (past the next row); `next` is read, not
/// prefetched. AVX-512F's config alone has it (NULL elsewhere: the row driver then calls `rmax`
/// for every row).
typedef void (*xent_f32_raddexpminusmax_rmaxnext_ukernel_fn)(size_t n, const float *x, float shift, double *sum,
                                                              size_t prefetch_limit, const float *next,
                                                              size_t next_n, float *next_max);

/// `xent_f32_raddstoreexpminusmax_ukernel_fn` over t_i = s·x_i (`scale` s, finite and > 0), t_i
/// formed as the logits are loaded, in place of `x` (`shift` the max of t; the targets' gaps and the
/// marks taken from t): the bits of `xent_f32_vtransform_ukernel_fn` without a softcap, then
/// that kernel over its t, without a pass or a buffer for t. The C configs have it (NULL in the
/// Swift ones: the row driver then transforms first).
typedef void (*xent_f32_raddstoreexpscaledminusmax_ukernel_fn)(size_t n, const float *x, float scale, float shift,
                                                                const float *q, float *y, int mark_masked,
                                                                double *sums, size_t prefetch_limit);

/// `xent_f32_raddstoreexpminusmax_ukernel_fn` without targets in the exps (`mark_masked` set when
/// `y` is not NULL and `smoothing`) that also takes every sum of `xent_f32_rsumtargets_ukernel_fn`
/// over the same `x`, `shift`, `q`, `w` and `smoothing`, in its order (the same bits):
/// `sums[0]` = S, `sums[1 ... 5]` its five sums. So a chunk under label smoothing, or with soft
/// targets and class weights, is read once. `x`, `q` and `y` are prefetched as
/// `xent_f32_raddstoreexpminusmax_ukernel_fn`'s, `w` is not. The C configs have it (NULL in the
/// Swift ones: the row driver then calls rsumtargets first).
typedef void (*xent_f32_raddstoreexpminusmax_targets_ukernel_fn)(size_t n, const float *x, float shift, const float *q,
                                                                  const float *w, int smoothing, float *y,
                                                                  double *sums, size_t prefetch_limit);

/// `xent_f32_raddexpminusmax_rmaxnext_ukernel_fn` over t_i = s·x_i as
/// `xent_f32_raddstoreexpscaledminusmax_ukernel_fn` forms it; `*next_max` is the max of the next
/// row's logits (not scaled). AVX-512F's config alone has it, as the unscaled kernel.
typedef void (*xent_f32_raddexpscaledminusmax_rmaxnext_ukernel_fn)(size_t n, const float *x, float scale,
                                                                    float shift, double *sum, size_t prefetch_limit,
                                                                    const float *next, size_t next_n,
                                                                    float *next_max);

/// `xent_f32_raddexpminusmax_rmaxnext_ukernel_fn` over 16-bit logits (widened as they are loaded)
/// and a 16-bit next row (compared as patterns, not widened): `*sum` is
/// `xent_half_raddstoreexpminusmax_ukernel_fn`'s without targets or a store, `*next_max`
/// `xent_half_rmaxwiden_ukernel_fn`'s max without a destination (the same bits, in every rounding
/// mode); `x` is prefetched XENT_PREFETCH_DISTANCE ahead, below `prefetch_limit`. AVX-512F's and
/// AVX2's configs have it (NULL elsewhere).
typedef void (*xent_half_raddexpminusmax_rmaxnext_ukernel_fn)(size_t n, const uint16_t *x, float shift, double *sum,
                                                               size_t prefetch_limit, const uint16_t *next,
                                                               size_t next_n, float *next_max);

/// The target sums of a row part, in double, before its exps overwrite it (in place): with soft
/// targets `q` (not NULL), `q' = q·w` and `sums[0] = Σ q'_i`, `sums[1] = Σ q'_i·(shift − x_i)`
/// over q'_i ≠ 0; with `smoothing`, over the unmasked i (x_i ≠ −inf), `sums[2] = K` (their
/// count), `sums[3] = Σ w_i`, `sums[4] = Σ w_i·(shift − x_i)`. `w` NULL: all 1. Sums not asked
/// for are set to 0.
typedef void (*xent_f32_rsumtargets_ukernel_fn)(size_t n, const float *x, float shift, const float *q,
                                                 const float *w, int smoothing, double *sums);

/// `t_i = s·x_i` rounded to float, then with a softcap `c > 0`, `t_i = c·tanh(t_i / c)` (SLEEF's
/// u10 tanh). `t` may be `x`.
typedef void (*xent_f32_vtransform_ukernel_fn)(size_t n, const float *x, float *t, float s, float c);

/// `vtransform`, and `*max` = the max of `x[0 ..< n]` with `rmax`'s bits (a zero max +0, NaN
/// ignored, −inf for none): a chunk's max and its transform in one pass over the logits.
typedef void (*xent_f32_vtransform_rmax_ukernel_fn)(size_t n, const float *x, float *t, float s, float c,
                                                    float *max);

/// The gradient from stored exps: `y_i = y_i·a − w_i·(q_i·b + [y_i is not −0]·d)` (no `w`: 1; no
/// `q`: no q term; `smoothing` 0: no d term — the −0 marks masked classes,
/// `xent_f32_raddstoreexpminusmax`'s `mark_masked`).
typedef void (*xent_f32_vgradient_ukernel_fn)(size_t n, float *y, const float *q, const float *w, int smoothing,
                                               float a, float b, float d);

/// The gradient under a softcap `c`: `y` holds the transformed logits t and becomes
/// `(exp(t_i − shift)·a − w_i·(q_i·b + d) − [i = label]·label_term)·(1 − (t_i/c)²)` (`label` in
/// `[0, n)`, or −1 for none; `smoothing` 0: no d; a softcapped logit is never masked).
typedef void (*xent_f32_vgradientsoftcap_ukernel_fn)(size_t n, float *y, const float *q, const float *w,
                                                      int smoothing, float shift, float a, float b, float d, float c,
                                                      int64_t label, float label_term);

/// 16-bit storage widened to float, exactly (`dst[i] = src[i]`). Where it prefetches, `src` a
/// chunk ahead, below `prefetch_limit` (XENT_PREFETCH_DISTANCE).
typedef void (*xent_half_widen_ukernel_fn)(size_t n, const uint16_t *src, float *dst, size_t prefetch_limit);

/// Float rounded to 16-bit storage, to nearest with ties to even (overflow gives ±inf; NaN stays a
/// quiet NaN): the same bits on every ISA. Where it prefetches, `dst` a chunk ahead, below
/// `prefetch_limit`.
typedef void (*xent_half_round_ukernel_fn)(size_t n, const float *src, uint16_t *dst, size_t prefetch_limit);

/// The 16-bit row's first pass: `dst[i]` = `src[i]` widened to float for i < n and `*max` their
/// max — the bits of `xent_half_widen_ukernel_fn` then `xent_f32_rmax_ukernel_fn`, in one pass
/// (prefetching `src` as the widening does). `dst` NULL: the max alone.
typedef void (*xent_half_rmaxwiden_ukernel_fn)(size_t n, const uint16_t *src, float *dst, float *max,
                                               size_t prefetch_limit);

/// The 16-bit row's last pass: the gradient `xent_f32_vgradient_ukernel_fn` forms from the exps `y`
/// (which stay as they are), the element at `label` (in `[0, n)`, or −1 for none) less
/// `label_term`, rounded into `dst` — the bits of that kernel, `y[label] -= label_term`, then
/// `xent_half_round_ukernel_fn`, in one pass (prefetching `dst` as the rounding does).
typedef void (*xent_half_vgradientround_ukernel_fn)(size_t n, const float *y, const float *q, const float *w,
                                                    int smoothing, float a, float b, float d, int64_t label,
                                                    float label_term, uint16_t *dst, size_t prefetch_limit);

/// The exp pass over a 16-bit row part: `xent_f32_raddstoreexpminusmax_ukernel_fn` (without
/// `mark_masked`) over `x[i]` widened to float as it is loaded — the same bits as widening the part
/// first, without the float copy. It prefetches `x`, `q` and `y` a chunk ahead below
/// `prefetch_limit`, and when storing (`y` not NULL) `z` too, for writing: the 16-bit gradient the
/// scaling pass will round into, whose lines are then in cache (NULL: none).
typedef void (*xent_half_raddstoreexpminusmax_ukernel_fn)(size_t n, const uint16_t *x, float shift, const float *q,
                                                           float *y, uint16_t *z, double *sums, size_t prefetch_limit);

/// The 16-bit storage formats of half-precision logits, targets and gradients.
typedef enum xent_half_format {
    XENT_HALF_BINARY16 = 0,  ///< IEEE 754 binary16 (Swift's `Float16`)
    XENT_HALF_BFLOAT16 = 1,  ///< bfloat16: float's sign, exponent and top 7 fraction bits
} xent_half_format;

/// One ISA's micro-kernels, chosen per call (`xent_ukernel_config_get`). A field may point at a Swift
/// function as well as a C one (`@convention(c)`): the driver only calls through the pointers.
typedef struct xent_ukernel_config {
    xent_isa isa;
    xent_f32_rmax_ukernel_fn rmax;
    xent_f32_rfindeq_ukernel_fn rfindeq;
    xent_f32_raddstoreexpminusmax_ukernel_fn raddstoreexpminusmax;
    xent_f32_rsumtargets_ukernel_fn rsumtargets;
    xent_f32_vtransform_ukernel_fn vtransform;
    xent_f32_vgradient_ukernel_fn vgradient;
    xent_f32_vgradientsoftcap_ukernel_fn vgradientsoftcap;
    xent_half_widen_ukernel_fn f16_widen;
    xent_half_round_ukernel_fn f16_round;
    xent_half_widen_ukernel_fn bf16_widen;
    xent_half_round_ukernel_fn bf16_round;
    /// The fused 16-bit passes and the search over 16-bit patterns, NULL where the ISA has none
    /// (SSE2, the Swift ISAs): the driver then widens and rounds in passes of their own, and runs
    /// the float passes over the widened logits.
    xent_half_rmaxwiden_ukernel_fn f16_rmaxwiden;
    xent_half_vgradientround_ukernel_fn f16_vgradientround;
    xent_half_rmaxwiden_ukernel_fn bf16_rmaxwiden;
    xent_half_vgradientround_ukernel_fn bf16_vgradientround;
    xent_u16_rfindeq_ukernel_fn u16_rfindeq;
    xent_half_raddstoreexpminusmax_ukernel_fn f16_raddstoreexpminusmax;
    xent_half_raddstoreexpminusmax_ukernel_fn bf16_raddstoreexpminusmax;
    /// The forward exp passes taking the next row's max; NULL where the ISA has none (over floats all
    /// but AVX-512F, over 16-bit values all but AVX-512F and AVX2).
    xent_f32_raddexpminusmax_rmaxnext_ukernel_fn raddexpminusmax_rmaxnext;
    xent_half_raddexpminusmax_rmaxnext_ukernel_fn f16_raddexpminusmax_rmaxnext;
    xent_half_raddexpminusmax_rmaxnext_ukernel_fn bf16_raddexpminusmax_rmaxnext;
    /// The exp passes over the logits times a logit scale (no softcap), NULL where the ISA has none
    /// (the Swift ISAs; the one taking the next row's max: all but AVX-512F).
    xent_f32_raddstoreexpscaledminusmax_ukernel_fn raddstoreexpscaledminusmax;
    xent_f32_raddexpscaledminusmax_rmaxnext_ukernel_fn raddexpscaledminusmax_rmaxnext;
    /// The exp pass taking rsumtargets' sums, NULL where the ISA has none (the Swift ISAs).
    xent_f32_raddstoreexpminusmax_targets_ukernel_fn raddstoreexpminusmax_targets;
    /// The transform taking the chunk's max, NULL where the ISA has none (the Swift ISAs).
    xent_f32_vtransform_rmax_ukernel_fn vtransform_rmax;
} xent_ukernel_config;

/// The C micro-kernels of `isa` (AVX-512F, AVX2 or SSE2, which must be supported; the same pointer
/// on every call with the same DAZ setting), or NULL for an ISA whose micro-kernels are Swift
/// (AdvSIMD, the portable ones: Sources/Xent/MicroKernels.swift). Where the CPU has an extension
/// that does one of the ISA's operations faster with the same bits — AVX512_BF16's rounding to
/// bfloat16 for AVX-512F — some of the kernels use it (that one not while the calling thread has DAZ
/// set: xent_isa.c).
const xent_ukernel_config *xent_ukernel_config_get(xent_isa isa);

/// `isa`'s config with none of those extensions: xent_ukernel_config_get's on a CPU without them
/// (the tests hold both to the same bits).
const xent_ukernel_config *xent_ukernel_config_get_without_extensions(xent_isa isa);

// MARK: - SLEEF for the Swift micro-kernels
//
// The Swift micro-kernels reach SLEEF's float exp and tanh through these, a block at a time, with
// pointers (xent_sleef_blocks.c). Each lane's result depends on that lane alone.

/// The streams a block function prefetches while it works (Swift has no prefetch instruction):
/// for each 16 elements it computes from element i on, while i < `limit`, the line at
/// `read[k] + i` and, for writing, at `write + i` (NULL: none). The Swift kernels point them at
/// the next chunk, as far as their `prefetch_limit` allows.
typedef struct xent_prefetch_ahead {
    const float *read[2];
    float *write;
    size_t limit;
} xent_prefetch_ahead;

/// `y[i] = exp(x[i] − shift)` for `i < n`: `Sleef_expf4_u10advsimd`'s bits, inlined (arm64 only);
/// `ahead` may be NULL.
void xent_f32_vexpminus__advsimd(size_t n, const float *x, float shift, float *y, const xent_prefetch_ahead *ahead);
/// `y[i] = tanh(x[i])` for `i < n`: `Sleef_tanhf4_u10advsimd`'s bits, inlined (arm64 only). `y` may be
/// `x`.
void xent_f32_vtanh__advsimd(size_t n, const float *x, float *y);
/// `y[i] = exp(x[i] − shift)` for `i < n`: SLEEF's pure-C non-FMA `Sleef_expf1_u10purec`.
void xent_f32_vexpminus__scalar(size_t n, const float *x, float shift, float *y, const xent_prefetch_ahead *ahead);
/// `y[i] = tanh(x[i])` for `i < n`: `Sleef_tanhf1_u10purec`. `y` may be `x`.
void xent_f32_vtanh__scalar(size_t n, const float *x, float *y);


// MARK: - Double-precision functions of a row's statistics

/// `y[i] = log(x[i])` for `i < n`, SLEEF's 1-ULP (`u10`) double log, pinned per ISA family so that
/// `y[i]` depends on `x[i]` and the family alone (never on the host or the grouping): the FMA
/// algorithm for the canonical ISAs (`Sleef_logd2_u10avx2128` on x86-64, `Sleef_logd2_u10advsimd`
/// on arm64, for every ISA there), the non-FMA one for SSE2 and the portable kernels on x86-64
/// (`Sleef_logd2_u10sse2`), SLEEF's pure-C non-FMA `Sleef_logd1_u10purec` on other architectures
/// (the plain `Sleef_log_u10` dispatches on the host in SLEEF 3.6).
void xent_f64_log(xent_isa isa, const double *x, double *y, size_t n);

/// `exp(x)`, SLEEF's 1-ULP double exp, pinned as `xent_f64_log` is (`Sleef_expd2_u10avx2128`,
/// `Sleef_expd2_u10advsimd`, `Sleef_expd2_u10sse2`, `Sleef_expd1_u10purec`).
double xent_f64_exp(xent_isa isa, double x);

/// `tanh(x)`, SLEEF's 1-ULP double tanh, pinned as `xent_f64_log` is.
double xent_f64_tanh(xent_isa isa, double x);

// MARK: - CPU affinity

/// The calling thread's CPU affinity mask, `sched_getaffinity(0, bytes, mask)`: an array of
/// `unsigned long` (CPU i is bit i mod w of word i / w, w its width in bits), `bytes` long and
/// aligned for `unsigned long`. Returns 0, or the errno: EINVAL when `bytes` is not a whole number
/// of words or the kernel's mask is longer (call again with a longer one), ENOSYS off Linux.
int xent_get_affinity(void *mask, size_t bytes);

/// Sets the calling thread's CPU affinity mask (`sched_setaffinity(0, bytes, mask)`, the layout of
/// `xent_get_affinity`): 0 or the errno, ENOSYS off Linux. For the tests, which pin a thread to
/// check the count Xent derives from its mask.
int xent_set_affinity(const void *mask, size_t bytes);

// MARK: - Work blocks

/// Claims the next block of a loop over the items `0 ..< count` shared by `workers` threads: its
/// first item goes to `*first` and its length is returned, 0 when none is left. `*claimed` (0 before
/// the loop; changed only through this function while the loop runs) counts the items claimed.
/// Blocks shrink as the loop goes: half of what is left over the workers (`left / (2·workers)`), at
/// least `minimum` items (1 when it is 0; no workers count as one) and at most what is left — large
/// blocks first, for few claims, and small ones at the end, so that the threads finish together.
size_t xent_claim_block(size_t *claimed, size_t count, size_t workers, size_t minimum, size_t *first);

/// Claims the next item of a loop whose items are claimed one at a time, in order: returns `*claimed`
/// (0 before the loop; changed only through this function while the loop runs) and adds 1 to it,
/// atomically; an index at or past the loop's end means none is left.
size_t xent_claim_item(size_t *claimed);

// MARK: - Floating-point controls

/// The calling thread's floating-point controls: on x86-64 MXCSR's control bits (the exception
/// masks, the rounding mode, flush-to-zero and denormals-are-zero; its exception flags cleared), on
/// arm64 FPCR (the rounding mode, FZ, FZ16, default NaN, the traps); 0 elsewhere. A worker thread
/// takes the calling thread's with `xent_set_float_controls`, so that a call's bits do not depend
/// on which of its threads ran a row (Sources/Xent/Parallel.swift).
uint64_t xent_float_controls(void);

/// Sets the calling thread's floating-point controls to `controls` (from `xent_float_controls`),
/// leaving its exception flags as they are; nothing elsewhere.
void xent_set_float_controls(uint64_t controls);

// MARK: - Checks and measurement

/// For tests: of the `count` float bit patterns `first`, `first + stride`, … (modulo 2³²), how
/// many the kernel of `isa` maps to different bits with its inlined exp (xent_sleef_exp_inline.h:
/// AVX-512F and AVX2) than SLEEF's library function does (`Sleef_expf16_u10avx512f`,
/// `Sleef_expf8_u10avx2`, called through the assembly loop), NaN payloads included. −1 for an
/// ISA this CPU lacks or one whose kernel calls SLEEF itself.
int64_t xent_exp_mismatches(xent_isa isa, uint64_t first, uint64_t count, uint64_t stride);

/// For tests: the same count for the softcap transform's inlined tanh (xent_sleef_tanh_inline.h:
/// AVX-512F and AVX2; `vtransform` and `vtransform_rmax` with s = c = 1 over pieces of varied
/// lengths, their order and kernels changing from one block of 4096 patterns to the next) against
/// `Sleef_tanhf16_u10avx512f`, `Sleef_tanhf8_u10avx2`. −1 as there.
int64_t xent_tanh_mismatches(xent_isa isa, uint64_t first, uint64_t count, uint64_t stride);

/// For tests: of the `count` float bit patterns `first`, `first + stride`, … (modulo 2³²), how
/// many the bfloat16 round kernel `round` maps to different bits than the integer rounding of
/// xent_half.c (to nearest even; a NaN keeps its top bits, made quiet).
int64_t xent_bf16_round_mismatches(xent_half_round_ukernel_fn round, uint64_t first, uint64_t count,
                                   uint64_t stride);

#ifdef __cplusplus
}
#endif

#endif
