// Cross-ISA bit checks: one driver source, built for x86-64 to WRITE a golden file of x86 results
// and for aarch64 (run under qemu-aarch64) to CHECK its own results against them.
//
// A golden file is a list of tagged sections, each a list of named arrays (inputs and the x86
// results of one test group). A test group is one function, listed in xg_groups (driver.c), that
// runs in both modes:
//
//   static void group_foo(xg_ctx *c) {
//       if (!xg_section(c, "foo")) return;                  // CHECK: skipped if the file lacks it
//       size_t n;
//       const float *x = xg_input_f32(c, "x", 1 << 20, gen_foo, &n);  // WRITE: generated, stored;
//                                                                       // CHECK: read back
//       float *y = xg_alloc(n * sizeof(float));
//   #if defined(__x86_64__)
//       foo_avx512(x, y, n); xg_put(c, "avx512f", XG_F32, y, n);   // WRITE mode only
//   #elif defined(__aarch64__)
//       foo_advsimd(x, y, n); xg_compare(c, "a64.advsimd", XG_F32, y, n, "avx512f", XG_EQUAL);
//   #endif
//       free(y);
//   }
//
// xg_compare works in both modes against the arrays of the current section (in WRITE mode, those
// already put), so the x86 build can compare its own variants too. Floats compare bit for bit,
// except that any NaN equals any NaN (payloads aside). XG_EQUAL comparisons count as passed or
// failed; XG_INFO ones only print their mismatch count (pairs known or expected to differ).
#ifndef XENT_GOLDEN_H
#define XENT_GOLDEN_H
#include <stddef.h>
#include <stdint.h>

typedef enum { XG_WRITE, XG_CHECK } xg_mode;
typedef enum { XG_F32 = 1, XG_F64 = 2, XG_U8 = 3, XG_U16 = 4 } xg_type;  // U8, U16: compared bitwise
typedef enum { XG_EQUAL, XG_INFO } xg_expect;

typedef struct xg_ctx xg_ctx;

xg_mode xg_mode_of(const xg_ctx *c);
/// Starts the section `tag`: WRITE mode appends it to the file; CHECK mode makes it current and
/// returns 0 (the group is then skipped, and reported) when the file has no such section.
int xg_section(xg_ctx *c, const char *tag);
/// Starts the section `tag` of comparisons made on x86-64 alone (e.g. AVX2 against AVX-512F):
/// WRITE mode runs it with nothing written to the file (its arrays are kept in memory); CHECK mode
/// prints `<tag>: x86-64 only: <why>`, counts it (the closing summary shows how many) and returns 0.
int xg_section_x86_only(xg_ctx *c, const char *tag, const char *why);
/// Prints `<section>: <why>: skipped` and counts it as skipped (e.g. the CPU lacks an ISA).
void xg_skip(xg_ctx *c, const char *why);
/// Stores a copy of `data` (n elements) under `name` in the current section: WRITE mode also
/// writes it to the file; CHECK mode keeps it in memory only (so that the aarch64 variants can
/// be compared with one another; use names that the golden file does not have, e.g. "a64.*").
void xg_put(xg_ctx *c, const char *name, xg_type type, const void *data, size_t n);
/// The array `name` of the current section (in CHECK mode, as read from the file), or NULL;
/// *n is its length.
const void *xg_get(xg_ctx *c, const char *name, xg_type type, size_t *n);
/// Inputs: WRITE mode calls gen(out, n) and stores the result; CHECK mode returns the stored
/// array. Owned by the context (valid until the next xg_section). *n_out: the length.
typedef void (*xg_gen_f32)(float *out, size_t n);
typedef void (*xg_gen_f64)(double *out, size_t n);
const float *xg_input_f32(xg_ctx *c, const char *name, size_t n, xg_gen_f32 gen, size_t *n_out);
const double *xg_input_f64(xg_ctx *c, const char *name, size_t n, xg_gen_f64 gen, size_t *n_out);
/// Compares `data` (n elements) with the current section's array `ref` and prints one line
/// `<section>: <name> vs <ref>: <count> mismatches ...`, plus the first few mismatches (with the
/// input `x` of the section when it has one of the same length). Returns the mismatch count, or
/// -1 when `ref` is absent (reported as skipped: e.g. the writer's CPU lacked AVX-512).
int64_t xg_compare(xg_ctx *c, const char *name, xg_type type, const void *data, size_t n, const char *ref,
                   xg_expect expect);
/// n·2^scale (driver --scale K, default 0), at least 64 and a multiple of 64: the writer's input
/// counts (the checker reads its counts from the file).
size_t xg_scaled(const xg_ctx *c, size_t n);
/// malloc that exits on failure, 64-byte aligned.
void *xg_alloc(size_t bytes);

/// Deterministic pseudo-random numbers (splitmix64) for generators.
uint64_t xg_rand(uint64_t *state);
/// Uniform in [lo, hi).
double xg_uniform(uint64_t *state, double lo, double hi);

/// The test groups, in driver order (driver.c lists them; each file defines its own).
void xg_groups_sleef(xg_ctx *c);
void xg_groups_ukernels(xg_ctx *c);
/// Every one of the 2^32 float inputs (`--exhaustive`), on `threads` threads: on x86-64 through
/// SLEEF's x86 vector functions (and with scalar_too its scalar ones), each compared with the
/// AVX-512F and the SSE2 one; on aarch64 through the shim's AdvSIMD exp block function, whose exp
/// is inlined, compared with Sleef_expf4_u10advsimd, then through its tanh block function (tanh
/// inlined, against Sleef_tanhf4_u10advsimd) in each of the four rounding modes and its exp in
/// the other three, on 1 in 2^sample_log2 of the inputs (0: all of them) and on chosen edge
/// patterns. Returns the number of failed checks.
int xg_exhaustive_sleef(int threads, int scalar_too, unsigned sample_log2);

#endif
