// The timing program of Scripts/compare-kernels.sh: the hot micro-kernels of two builds of one ISA's
// C files (xent_ukernels__<isa>.c, and on AVX-512F the AVX512_BF16 file), their symbols prefixed A_
// and B_ by the script, plus a second copy of build A prefixed C_ — the control: the same code at
// other addresses, whose C/A ratio shows what code placement and the host alone move a kernel by.
// The three are called in turn in one process on the same L1-resident data, so that the host's
// load, which moves a whole run of the suite by more than the change being measured, falls on all
// of them alike. Per kernel: whether A and B write the same bits, A's median time per element, and
// the medians over the rounds of the ratios B/A (with its quartiles and the rounds B was faster)
// and C/A.
//
// Built by the script with -DXENT_KERNEL_ISA=<suffix> (avx512f, avx2_fma, sse2) and
// -DXENT_KERNEL_BF16=0 or 1. A kernel not in this ISA's files is not listed; one absent from a build
// that should have it is reported. The prototypes
// are those of the script's own tree (CXent.h); the script refuses commits whose prototypes of
// these kernels differ. The calls pass prefetch_limit = 0: the data is L1-resident and no
// prefetch is issued, so a change to the prefetches does not show here.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "CXent.h"

#define PASTE_(a, b, c, d) a##b##c##d
#define PASTE(a, b, c, d) PASTE_(a, b, c, d)
#define KERNEL_OF(side, name, isa, tile) PASTE(side##_, name, isa, tile)
// Each kernel of the three builds, weakly: NULL where a build lacks it. AVX-512F's bfloat16
// rounding with AVX512_BF16 lives in a file of its own, linked where the CPU has the extension.
#define DECLARE_OF(type, name, isa, tile)                                             \
    extern __typeof__(*(type)0) KERNEL_OF(A, name, isa, tile) __attribute__((weak)); \
    extern __typeof__(*(type)0) KERNEL_OF(B, name, isa, tile) __attribute__((weak)); \
    extern __typeof__(*(type)0) KERNEL_OF(C, name, isa, tile) __attribute__((weak));
#define DECLARE(type, name, tile) DECLARE_OF(type, name, XENT_KERNEL_ISA, tile)
// The three builds' kernel, as untyped function pointers for the table below (NULL where absent).
#define SIDES(name, isa, tile)                                                             \
    {(void (*)(void))KERNEL_OF(A, name, isa, tile), (void (*)(void))KERNEL_OF(B, name, isa, tile), \
     (void (*)(void))KERNEL_OF(C, name, isa, tile)}

DECLARE(xent_f32_rmax_ukernel_fn, xent_f32_rmax_ukernel__, _u64_acc4)
DECLARE(xent_f32_raddstoreexpminusmax_ukernel_fn, xent_f32_raddstoreexpminusmax_ukernel__, _u32_acc2)
DECLARE(xent_f32_raddexpminusmax_rmaxnext_ukernel_fn, xent_f32_raddexpminusmax_rmaxnext_ukernel__, _u32_acc2)
DECLARE(xent_f32_vgradient_ukernel_fn, xent_f32_vgradient_ukernel__, _u32)
DECLARE(xent_half_rmaxwiden_ukernel_fn, xent_f16_rmaxwiden_ukernel__, _u64_acc4)
DECLARE(xent_half_rmaxwiden_ukernel_fn, xent_bf16_rmaxwiden_ukernel__, _u64_acc4)
DECLARE(xent_half_raddstoreexpminusmax_ukernel_fn, xent_f16_raddstoreexpminusmax_ukernel__, _u32_acc2)
DECLARE(xent_half_raddstoreexpminusmax_ukernel_fn, xent_bf16_raddstoreexpminusmax_ukernel__, _u32_acc2)
DECLARE(xent_half_raddexpminusmax_rmaxnext_ukernel_fn, xent_f16_raddexpminusmax_rmaxnext_ukernel__, _u32_acc2)
DECLARE(xent_half_raddexpminusmax_rmaxnext_ukernel_fn, xent_bf16_raddexpminusmax_rmaxnext_ukernel__, _u32_acc2)
DECLARE(xent_half_vgradientround_ukernel_fn, xent_f16_vgradientround_ukernel__, _u32)
DECLARE(xent_half_vgradientround_ukernel_fn, xent_bf16_vgradientround_ukernel__, _u32)
DECLARE_OF(xent_half_vgradientround_ukernel_fn, xent_bf16_vgradientround_ukernel__, avx512bf16, _u32)

#define N 2048    // elements per call: one 8 KiB chunk of floats
#define ROW 1000  // the one-chunk rows of the fused forward passes (the next row follows)
#define SIDE_COUNT 3

static float x[2 * N] __attribute__((aligned(64)));
static uint16_t h16[2 * N] __attribute__((aligned(64))), hbf[2 * N] __attribute__((aligned(64)));
static float exps[N] __attribute__((aligned(64)));  // the gradient passes' input: exps in (0, 1]
static float y[SIDE_COUNT][N] __attribute__((aligned(64)));
static uint16_t z[SIDE_COUNT][N] __attribute__((aligned(64)));
static double sums[SIDE_COUNT][8];
static float maxes[SIDE_COUNT];

// What a kernel writes, so that the bits check compares exactly that (OUT_SUMS: the sum of the exps,
// sums[0]; without targets the kernels write no other), and IN_Y where y is its input (the exps the
// gradient passes read), the same for every build.
enum { OUT_Y = 1, OUT_Z = 2, OUT_SUMS = 4, OUT_MAX = 8, IN_Y = 16 };

// The instruction sets whose files have each kernel (the script links the AVX512_BF16 file, and
// defines XENT_KERNEL_BF16, where the CPU has that extension): one expected but absent from every
// build is reported, so that a renamed kernel does not drop out unseen.
enum { ISA_SSE2 = 1, ISA_AVX2 = 2, ISA_AVX512 = 4, ISA_BF16 = 8, ISA_HALF = ISA_AVX2 | ISA_AVX512 };
static const struct {
    const char *name;
    size_t elements;  // per call
    int io;  // OUT_… and IN_Y
    int isas;
    void (*fn[SIDE_COUNT])(void);  // A's, B's and C's
} kernels[] = {
    {"f32 rmax (max pass)", N, OUT_MAX, ISA_SSE2 | ISA_HALF,
     SIDES(xent_f32_rmax_ukernel__, XENT_KERNEL_ISA, _u64_acc4)},
    {"f32 exp pass, storing", N, OUT_Y | OUT_SUMS, ISA_SSE2 | ISA_HALF,
     SIDES(xent_f32_raddstoreexpminusmax_ukernel__, XENT_KERNEL_ISA, _u32_acc2)},
    {"f32 fwd exp pass + next max", ROW, OUT_SUMS | OUT_MAX, ISA_AVX512,
     SIDES(xent_f32_raddexpminusmax_rmaxnext_ukernel__, XENT_KERNEL_ISA, _u32_acc2)},
    {"f32 vgradient (scaling pass)", N, IN_Y | OUT_Y, ISA_SSE2 | ISA_HALF,
     SIDES(xent_f32_vgradient_ukernel__, XENT_KERNEL_ISA, _u32)},
    {"f16 max pass (16-bit patterns)", N, OUT_MAX, ISA_HALF,
     SIDES(xent_f16_rmaxwiden_ukernel__, XENT_KERNEL_ISA, _u64_acc4)},
    {"bf16 max pass (16-bit patterns)", N, OUT_MAX, ISA_HALF,
     SIDES(xent_bf16_rmaxwiden_ukernel__, XENT_KERNEL_ISA, _u64_acc4)},
    {"f16 exp pass, storing", N, OUT_Y | OUT_SUMS, ISA_HALF,
     SIDES(xent_f16_raddstoreexpminusmax_ukernel__, XENT_KERNEL_ISA, _u32_acc2)},
    {"bf16 exp pass, storing", N, OUT_Y | OUT_SUMS, ISA_HALF,
     SIDES(xent_bf16_raddstoreexpminusmax_ukernel__, XENT_KERNEL_ISA, _u32_acc2)},
    {"f16 fwd exp pass + next max", ROW, OUT_SUMS | OUT_MAX, ISA_HALF,
     SIDES(xent_f16_raddexpminusmax_rmaxnext_ukernel__, XENT_KERNEL_ISA, _u32_acc2)},
    {"bf16 fwd exp pass + next max", ROW, OUT_SUMS | OUT_MAX, ISA_HALF,
     SIDES(xent_bf16_raddexpminusmax_rmaxnext_ukernel__, XENT_KERNEL_ISA, _u32_acc2)},
    {"f16 gradient + rounding", N, IN_Y | OUT_Z, ISA_HALF,
     SIDES(xent_f16_vgradientround_ukernel__, XENT_KERNEL_ISA, _u32)},
    {"bf16 gradient + rounding", N, IN_Y | OUT_Z, ISA_HALF,
     SIDES(xent_bf16_vgradientround_ukernel__, XENT_KERNEL_ISA, _u32)},
    {"bf16 gradient + rounding (BF16)", N, IN_Y | OUT_Z, ISA_BF16,
     SIDES(xent_bf16_vgradientround_ukernel__, avx512bf16, _u32)},
};

#define KERNELS (int)(sizeof(kernels) / sizeof(kernels[0]))

// `calls` calls of kernel k by `side` (0 A, 1 B, 2 C) into that side's outputs (y the input of the
// gradient passes). `check` set: the call the bits are compared on (the Float gradient pass then
// scales by 0.5, where the timed calls scale by 1 and leave y as it was).
static void run(int k, int side, int calls, int check) {
    float *ys = y[side];
    uint16_t *zs = z[side];
    double *s = sums[side];
    float *m = &maxes[side];
    switch (k) {
// `calls` calls of this side's kernel k, typed as `type`.
#define LOOP(type, ...)                                          \
    {                                                            \
        const type f = (type)kernels[k].fn[side];                \
        for (int i = 0; i < calls; i++) f(__VA_ARGS__);          \
        return;                                                  \
    }
    case 0: LOOP(xent_f32_rmax_ukernel_fn, N, x, m)
    case 1: LOOP(xent_f32_raddstoreexpminusmax_ukernel_fn, N, x, 12.0f, NULL, ys, 0, s, 0)
    case 2: LOOP(xent_f32_raddexpminusmax_rmaxnext_ukernel_fn, ROW, x, 12.0f, s, 0, x + ROW, ROW, m)
    case 3: LOOP(xent_f32_vgradient_ukernel_fn, N, ys, NULL, NULL, 0, check ? 0.5f : 1.0f, 0.0f, 0.0f)
    case 4: LOOP(xent_half_rmaxwiden_ukernel_fn, N, h16, NULL, m, 0)
    case 5: LOOP(xent_half_rmaxwiden_ukernel_fn, N, hbf, NULL, m, 0)
    case 6: LOOP(xent_half_raddstoreexpminusmax_ukernel_fn, N, h16, 12.0f, NULL, ys, NULL, s, 0)
    case 7: LOOP(xent_half_raddstoreexpminusmax_ukernel_fn, N, hbf, 12.0f, NULL, ys, NULL, s, 0)
    case 8: LOOP(xent_half_raddexpminusmax_rmaxnext_ukernel_fn, ROW, h16, 12.0f, s, 0, h16 + ROW, ROW, m)
    case 9: LOOP(xent_half_raddexpminusmax_rmaxnext_ukernel_fn, ROW, hbf, 12.0f, s, 0, hbf + ROW, ROW, m)
    case 10:
    case 11:
    case 12: LOOP(xent_half_vgradientround_ukernel_fn, N, ys, NULL, NULL, 0, 0.01f, 0.0f, 0.0f, 5, 1.0f, zs, 0)
    }
}

// Which builds have kernel k: bit 0 A, bit 1 B, bit 2 C.
static int present(int k) {
    int builds = 0;
    for (int side = 0; side < SIDE_COUNT; side++) builds |= kernels[k].fn[side] ? 1 << side : 0;
    return builds;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int by_value(const void *a, const void *b) {
    const double u = *(const double *)a, v = *(const double *)b;
    return (u > v) - (u < v);
}

// The value a fraction q (0, 0.25, 0.5, 0.75) through the sorted values, between neighbours where
// it falls between them (the median of an even count is the mean of the middle two).
static double quantile(const double *sorted, int n, double q) {
    const double at = q * (n - 1);
    const int below = (int)at;
    return below + 1 < n ? sorted[below] + (at - below) * (sorted[below + 1] - sorted[below]) : sorted[below];
}

// Nanoseconds per element of `calls` calls of kernel k by `side`.
static double timed(int k, int side, int calls) {
    const double start = now();
    run(k, side, calls, 0);
    return (now() - start) / calls / (double)kernels[k].elements * 1e9;
}

// 1 where A's and B's outputs of kernel k agree after one check call each, from outputs filled with
// different bytes beforehand (an output a build failed to write then differs), else 0; −1 where A's
// Float gradient is not exactly half its input (the check call's a = 0.5), which a build compared
// with itself would otherwise pass unwritten.
static int same_bits(int k) {
    for (int side = 0; side < 2; side++) {
        if (kernels[k].io & IN_Y) {
            memcpy(y[side], exps, sizeof exps);
        } else {
            memset(y[side], side ? 0x5a : 0xa5, sizeof y[side]);
        }
        memset(z[side], side ? 0x5a : 0xa5, sizeof z[side]);
        memset(sums[side], side ? 0x5a : 0xa5, sizeof sums[side]);
        memset(&maxes[side], side ? 0x5a : 0xa5, sizeof maxes[side]);
        run(k, side, 1, 1);
    }
    if (k == 3) {
        for (size_t i = 0; i < N; i++) {
            if (y[0][i] != 0.5f * exps[i]) return -1;
        }
    }
    const int out = kernels[k].io;
    return (!(out & OUT_Y) || memcmp(y[0], y[1], sizeof y[0]) == 0) &&
           (!(out & OUT_Z) || memcmp(z[0], z[1], sizeof z[0]) == 0) &&
           (!(out & OUT_SUMS) || memcmp(&sums[0][0], &sums[1][0], sizeof(double)) == 0) &&
           (!(out & OUT_MAX) || memcmp(&maxes[0], &maxes[1], sizeof maxes[0]) == 0);
}

#define STRING_(x) #x
#define STRING(x) STRING_(x)

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);  // each row as it is measured, even into a pipe
    const int rounds = argc > 1 ? atoi(argv[1]) : 42;
    if (rounds < 1 || rounds > 10000) {
        fprintf(stderr, "compare-kernels: rounds must be in 1...10000\n");
        return 2;
    }
    // Logits in [-12, 12) in a fixed scramble, their binary16 and bfloat16 patterns (bfloat16 by
    // truncation, binary16 normal or flushed to ±0: any patterns do for a timing), and exps in (0, 1].
    for (size_t i = 0; i < 2 * N; i++) {
        x[i] = (float)((i * 7919) % 2400) * 0.01f - 12.0f;
        uint32_t bits;
        memcpy(&bits, &x[i], 4);
        hbf[i] = (uint16_t)(bits >> 16);
        const int e = (int)((bits >> 23) & 0xff) - 127 + 15;
        h16[i] = (uint16_t)(((bits >> 16) & 0x8000) | (e > 0 ? ((uint32_t)e << 10) | ((bits >> 13) & 0x3ff) : 0));
    }
    for (size_t i = 0; i < N; i++) exps[i] = (float)(i % 997 + 1) / 997.0f;
    double *ab = malloc(sizeof(double) * (size_t)rounds), *cb = malloc(sizeof(double) * (size_t)rounds),
           *ta = malloc(sizeof(double) * (size_t)rounds);
    if (!ab || !cb || !ta) return 1;
    const char *isa = STRING(XENT_KERNEL_ISA);
    const int isas = (strcmp(isa, "sse2") == 0      ? ISA_SSE2
                      : strcmp(isa, "avx2_fma") == 0 ? ISA_AVX2
                                                     : ISA_AVX512) |
                     (XENT_KERNEL_BF16 ? ISA_BF16 : 0);
    printf("%-32s %9s %7s %15s %7s %7s  %s\n", "kernel", "A ns/elem", "B/A", "q1-q3 of B/A", "B<A", "C/A",
           "bits of B");
    for (int k = 0; k < KERNELS; k++) {
        const int builds = present(k);
        if (!(kernels[k].isas & isas)) continue;  // not in this ISA's files
        if (builds != 7) {
            printf("%-32s  absent from build %s: not compared\n", kernels[k].name,
                   builds == 0 ? "A and B" : builds & 1 ? "B" : "A");
            continue;
        }
        const int same = same_bits(k);
        for (int side = 0; side < SIDE_COUNT; side++) memcpy(y[side], exps, sizeof exps);
        // Calls per timing: about a millisecond of A's kernel.
        int calls = 16;
        while (calls < (1 << 20) && timed(k, 0, calls) * (double)kernels[k].elements * calls < 1e6) calls *= 2;
        // Each round all three builds, in the six orders in turn (a drift within a round then
        // favours none), after one round not counted.
        static const int orders[6][SIDE_COUNT] = {{0, 1, 2}, {1, 2, 0}, {2, 0, 1}, {0, 2, 1}, {2, 1, 0}, {1, 0, 2}};
        for (int side = 0; side < SIDE_COUNT; side++) timed(k, side, calls);
        int faster = 0;
        for (int r = 0; r < rounds; r++) {
            double t[SIDE_COUNT];
            for (int i = 0; i < SIDE_COUNT; i++) {
                const int side = orders[r % 6][i];
                t[side] = timed(k, side, calls);
            }
            ta[r] = t[0], ab[r] = t[1] / t[0], cb[r] = t[2] / t[0];
            faster += t[1] < t[0];
        }
        qsort(ab, (size_t)rounds, sizeof(double), by_value);
        qsort(cb, (size_t)rounds, sizeof(double), by_value);
        qsort(ta, (size_t)rounds, sizeof(double), by_value);
        char quartiles[32], count[16];
        snprintf(quartiles, sizeof quartiles, "%.3f-%.3f", quantile(ab, rounds, 0.25), quantile(ab, rounds, 0.75));
        snprintf(count, sizeof count, "%d/%d", faster, rounds);
        printf("%-32s %9.4f %7.3f %15s %7s %7.3f  %s\n", kernels[k].name, quantile(ta, rounds, 0.5),
               quantile(ab, rounds, 0.5), quartiles, count, quantile(cb, rounds, 0.5),
               same > 0 ? "same" : same == 0 ? "DIFFERENT" : "A WRONG");
    }
    free(ab), free(cb), free(ta);
    return 0;
}
