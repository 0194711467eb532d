// CXent: pointer-only primitives over SLEEF, one implementation per ISA, chosen at run time.
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

/// The instruction sets the primitives are implemented for.
typedef enum xent_isa {
    XENT_ISA_SCALAR = 0,   ///< portable C over SLEEF's scalar `u10` functions
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

/// Writes `y[i] = exp(x[i] - shift)` for `i < n` (if `y` is not NULL) and returns their sum,
/// computed with several float accumulators per 512-element chunk and the chunks added in double.
///
/// - exp is SLEEF's 1-ULP (`u10`) single-precision exp for `isa` (which must be supported).
/// - `y` may equal `x` (in place) but must not otherwise overlap it; `y == NULL` only sums.
/// - `shift` must not be -infinity (tails are padded with -infinity, whose exp must be 0).
double xent_f32_expminus_sum(xent_isa isa, const float *x, float *y, size_t n, float shift);

/// A row is processed in chunks of `xent_row_chunk_length(n)` elements (2048 — 8 KiB, which
/// stays in L1 between the chunk's max and its exp — or longer for rows over
/// `XENT_ROW_CHUNK × XENT_ROW_MAX_CHUNKS` elements, so per-row tables have a fixed size).
#define XENT_ROW_CHUNK 2048
#define XENT_ROW_MAX_CHUNKS 512

/// What one chunk of a row holds (`xent_f32_chunk`).
typedef struct xent_chunk_sums {
    double sum;        ///< Σ exp(x_i − shift)
    double sum_q;      ///< Σ q_i (soft targets only)
    double sum_q_gap;  ///< Σ q_i·(shift − x_i) over q_i ≠ 0 (soft targets only)
    double unmasked;   ///< K = #{i: x_i ≠ −inf} (smoothing only)
    double sum_w;      ///< Σ w_i over unmasked i (smoothing only)
    double sum_w_gap;  ///< Σ w_i·(shift − x_i) over unmasked i (smoothing only)
    int64_t argmax;    ///< the first index (in the row) holding max x, −1 if none or not asked for
    float max;         ///< max t, ignoring NaN (−inf if every element is −inf or NaN)
    float shift;       ///< max, or 0 when max is −inf
    float max_x;       ///< max x of the caller's logits, ignoring NaN (what argmax refers to)
} xent_chunk_sums;

/// What a whole row holds (`xent_f32_row`, `xent_row_combine`).
typedef struct xent_row_sums {
    double sum;        ///< S = Σ exp(x_i − max)
    double sum_q;      ///< Σ q_i (soft targets only)
    double sum_q_gap;  ///< Σ q_i·(max − x_i) over q_i ≠ 0 (soft targets only)
    double unmasked;   ///< K, the unmasked classes (smoothing only)
    double sum_w;      ///< Σ w_i over unmasked i (smoothing only)
    double sum_w_gap;  ///< Σ w_i·(max − x_i) over unmasked i (smoothing only)
    int64_t argmax;    ///< the first index holding max (when asked for), else −1
    float max;         ///< max x, ignoring NaN (−inf if every element is −inf or NaN)
} xent_row_sums;

/// How a row's gradient is formed from its probabilities p and targets q:
/// `g_i = p_i·(p_scale·(Σq or 1) + p_lse_scale·lse) − q_i·q_scale` (labels: `label_term` at the
/// label instead of the q term). `p_lse_scale` carries the z-loss, `2λ` times its reduction.
typedef struct xent_gradient_scales {
    double p_scale;       ///< the cross-entropy part's scale: upstream / the mean's denominator
    double p_lse_scale;   ///< the z-loss part: 2λ·upstream / its denominator
    double q_scale;       ///< the target term's scale: p_scale·(1 − α)
    double smoothing;     ///< α, the label smoothing
    double label_weight;  ///< w_t, the label's class weight (labels; 1 without weights)
    int64_t label;        ///< the label's index in the row (−1: soft targets, or no label term)
    float label_term;     ///< p_scale·(1 − α)·w_t, subtracted at the label (before a softcap's chain factor)
} xent_gradient_scales;

/// What a row is scored against besides its label: soft targets `q` (NULL for labels), class
/// weights `w` (NULL: all 1), whether label smoothing is on (then the sums over unmasked
/// classes are taken and masked exps are stored as −0), and the logit transforms of
/// NUMERICS.md §1: every function below works on `t = s·x` (rounded to float) and, with a
/// softcap `c > 0`, `t = c·tanh(t/c)` — sums, max and exps are those of t.
///
/// With a softcap and a gradient, the chunk pass stores t (not its exps) in the gradient and the
/// scaling pass recomputes the exps and multiplies by the chain factor `1 − (t/c)²`; the factor
/// s of the chain rule is the caller's to fold into `xent_gradient_scales`.
typedef struct xent_row_spec {
    const float *q;
    const float *w;
    int smoothing;
    int argmax;         ///< also find the first index of the max of x (xent_chunk_sums.argmax)
    float logit_scale;  ///< s > 0; 1 for none
    float softcap;      ///< c > 0; 0 for none
} xent_row_spec;

/// `spec` with its vectors advanced by `offset` elements (for a chunk of the row).
xent_row_spec xent_row_spec_offset(const xent_row_spec *spec, size_t offset);

/// For tests: of the `count` float bit patterns `first`, `first + stride`, … (modulo 2³²), how
/// many the kernel of `isa` maps to different bits with its inlined exp (xent_sleef_exp_inline.h:
/// AVX-512F and AVX2) than SLEEF's library function does (`Sleef_expf16_u10avx512f`,
/// `Sleef_expf8_u10avx2`, called through the assembly loop), NaN payloads included. −1 for an
/// ISA this CPU lacks or one whose kernel calls SLEEF itself.
int64_t xent_exp_mismatches(xent_isa isa, uint64_t first, uint64_t count, uint64_t stride);

/// The chunk length used for a row of `n` elements.
size_t xent_row_chunk_length(size_t n);

/// One row of softmax cross-entropy, fused: every chunk (`xent_f32_chunk`), the chunks combined
/// (`xent_row_combine`), then, if `y` is not NULL and the row is good (`max` finite, `sum` not
/// NaN), one scaling pass writing the gradient of `scales` into `y`.
/// One exp per element; `x` is read from memory once. `y` may equal `x`; `q` may be NULL.
void xent_f32_row(xent_isa isa, const float *x, const xent_row_spec *spec, float *y, size_t n,
                  const xent_gradient_scales *scales, xent_row_sums *out);

/// `y[i] = log(x[i])` for `i < n`, SLEEF's 1-ULP (`u10`) double log, two elements per call
/// (`Sleef_logd2_u10sse2` on x86-64 — the same function on every host, FMA or not —,
/// `Sleef_logd2_u10` on arm64, `Sleef_log_u10` one by one elsewhere). `y[i]` depends on `x[i]`
/// alone, whatever the kernel's ISA or the grouping.
void xent_log_u10(const double *x, double *y, size_t n);

/// One chunk: its max (ignoring NaN), then `y = exp(x − shift)` stored (if `y`) and summed, with
/// the sums `spec` asks for (`spec`'s vectors start at this chunk). `out->argmax` is relative to
/// the chunk; the caller adds the chunk's offset before `xent_row_combine`.
void xent_f32_chunk(xent_isa isa, const float *x, const xent_row_spec *spec, float *y, size_t len,
                    xent_chunk_sums *out);

/// Combines a row's chunks, in order, at the row max: the same arithmetic for any caller.
void xent_row_combine(const xent_chunk_sums *chunks, size_t count, xent_row_sums *out);

/// The row's target mass V = Σ_c v_c: `(1 − α)·(Σq' or w_t) + (α/K)·Σ_unmasked w`.
double xent_row_target_mass(const xent_row_sums *row, const xent_gradient_scales *scales, int soft_targets);

/// The smoothing term's scale in the gradient, `p_scale·α/K` (0 without smoothing).
float xent_row_smoothing_scale(const xent_row_sums *row, const xent_gradient_scales *scales);

/// The scaling factor of one chunk's stored exps:
/// `(p_scale·V + p_lse_scale·lse)/S·exp(shift − max)`, with `lse = max + log S`.
float xent_row_chunk_factor(const xent_row_sums *row, const xent_chunk_sums *chunk,
                            const xent_gradient_scales *scales, int soft_targets);

/// `y = y·factor − w·(q·q_scale + smoothing_scale·[y is not a masked −0])` over one chunk (no
/// w: 1; no q: 0; no smoothing: no such term). `spec`'s vectors start at this chunk. With a
/// softcap, y holds the chunk's transformed logits t and becomes
/// `(exp(t − shift)·factor − w·(q·q_scale + smoothing_scale))·(1 − (t/c)²)`; `shift` is the
/// chunk's (`xent_chunk_sums.shift`) and is unused without a softcap.
void xent_f32_scale_chunk(xent_isa isa, float *y, const xent_row_spec *spec, size_t len, float shift,
                          float factor, float q_scale, float smoothing_scale, int64_t label, float label_term);

/// The 16-bit storage formats of half-precision logits, targets and gradients.
typedef enum xent_half_format {
    XENT_HALF_BINARY16 = 0,  ///< IEEE 754 binary16 (Swift's `Float16`)
    XENT_HALF_BFLOAT16 = 1,  ///< bfloat16: float's sign, exponent and top 7 fraction bits
} xent_half_format;

/// One row of 16-bit logits `x` (and soft targets `q`, NULL for labels) in `format`, fused as
/// `xent_f32_row` is, chunk by chunk: each chunk is widened into `workspace` (`n` floats, then `n`
/// more for the targets), computed there while it is in L1, and — when `y` is not NULL and the
/// row is good — its gradient scaled (the label term of `scales` included) and rounded into `y`
/// (`y` may equal `x`). `spec`'s `q` is ignored (the widened
/// targets are used). The same chunks and combine as `xent_half_chunk` and
/// `xent_half_scale_chunk`, so a caller spreading the chunks over threads gets the same bits.
void xent_half_row(xent_isa isa, xent_half_format format, const uint16_t *x, const uint16_t *q,
                   const xent_row_spec *spec, uint16_t *y, float *workspace, size_t n,
                   const xent_gradient_scales *scales, xent_row_sums *out);

/// One chunk of `xent_half_row`: `x`, `q` and `spec`'s `w` start at the chunk; `workspace` and
/// `targets_workspace` hold the chunk's floats; `store` asks for the exps (a gradient follows).
void xent_half_chunk(xent_isa isa, xent_half_format format, const uint16_t *x, const uint16_t *q,
                     const xent_row_spec *spec, float *workspace, float *targets_workspace, int store, size_t len,
                     xent_chunk_sums *out);

/// The scaling of one chunk of `xent_half_row`, the label term at `label` (relative to the
/// chunk; −1 when it lies elsewhere) and the rounding into `y`.
void xent_half_scale_chunk(xent_isa isa, xent_half_format format, float *workspace, const float *targets_workspace,
                           const xent_row_spec *spec, uint16_t *y, size_t len, float shift, float factor,
                           float q_scale, float smoothing_scale, int64_t label, float label_term);

/// `dst[i] = src[i]` widened to float, exactly, for `i < n` (`isa` picks the instructions:
/// AVX-512F and AVX2's F16C convert 16/8 at a time, the others one at a time).
void xent_half_to_f32(xent_isa isa, xent_half_format format, const uint16_t *src, float *dst, size_t n);

/// `dst[i] = src[i]` rounded to the 16-bit format, to nearest with ties to even (overflow gives
/// ±inf; NaN stays NaN, quiet), for `i < n`. The same bits on every `isa`.
void xent_f32_to_half(xent_isa isa, xent_half_format format, const float *src, uint16_t *dst, size_t n);

#ifdef __cplusplus
}
#endif

#endif
