// The timing program of Scripts/compare-kernels.sh: the hot micro-kernels of two builds of one ISA's
// C file (xent_ukernels__<isa>.c, its defined symbols prefixed A_ and B_ by the script), called in
// alternation in one process on the same L1-resident data, so that the host's load, which moves a
// whole run of the suite by more than the change being measured, falls on both builds alike. For
// each kernel: whether the two give the same bits, each build's median time per element, and the
// median over the rounds of the time ratio B/A with its quartiles and the rounds B was faster.
//
// Built by the script with -DXENT_KERNEL_ISA=<suffix> (avx512f, avx2_fma, sse2); a kernel absent
// from either build (weak references) is skipped. Kernels whose signature differs between the two
// builds cannot be compared: the prototypes are those of the script's own tree (CXent.h).
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "CXent.h"

#define PASTE_(a, b, c, d) a##b##c##d
#define PASTE(a, b, c, d) PASTE_(a, b, c, d)
#define KERNEL_OF(side, name, isa, tile) PASTE(side##_, name, isa, tile)
#define KERNEL(side, name, tile) KERNEL_OF(side, name, XENT_KERNEL_ISA, tile)
// Each kernel of both builds, weakly: NULL where a build lacks it. AVX-512F's bfloat16 rounding
// with AVX512_BF16 lives in a file of its own (xent_ukernels__avx512bf16.c), whose kernels the
// script links where the CPU has the extension.
#define DECLARE_OF(type, name, isa, tile)                                               \
    extern __typeof__(*(type)0) KERNEL_OF(A, name, isa, tile) __attribute__((weak));   \
    extern __typeof__(*(type)0) KERNEL_OF(B, name, isa, tile) __attribute__((weak));
#define DECLARE(type, name, tile) DECLARE_OF(type, name, XENT_KERNEL_ISA, tile)

#define N 2048     // elements per call: one 8 KiB chunk of floats
#define ROW 1000   // the one-chunk rows of the fused forward pass

DECLARE(xent_f32_rmax_ukernel_fn, xent_f32_rmax_ukernel__, _u64_acc4)
DECLARE(xent_f32_raddstoreexpminusmax_ukernel_fn, xent_f32_raddstoreexpminusmax_ukernel__, _u32_acc2)
DECLARE(xent_f32_raddexpminusmax_rmaxnext_ukernel_fn, xent_f32_raddexpminusmax_rmaxnext_ukernel__, _u32_acc2)
DECLARE(xent_f32_vgradient_ukernel_fn, xent_f32_vgradient_ukernel__, _u32)
DECLARE(xent_half_raddstoreexpminusmax_ukernel_fn, xent_f16_raddstoreexpminusmax_ukernel__, _u32_acc2)
DECLARE(xent_half_raddstoreexpminusmax_ukernel_fn, xent_bf16_raddstoreexpminusmax_ukernel__, _u32_acc2)
DECLARE(xent_half_vgradientround_ukernel_fn, xent_f16_vgradientround_ukernel__, _u32)
DECLARE(xent_half_vgradientround_ukernel_fn, xent_bf16_vgradientround_ukernel__, _u32)
DECLARE_OF(xent_half_vgradientround_ukernel_fn, xent_bf16_vgradientround_ukernel__, avx512bf16, _u32)

static float x[2 * N] __attribute__((aligned(64)));
static uint16_t h16[N] __attribute__((aligned(64))), hbf[N] __attribute__((aligned(64)));
static float y[2][N] __attribute__((aligned(64)));
static uint16_t z[2][N] __attribute__((aligned(64)));
static double sums[2][8];
static float maxes[2];

// One call of kernel k by build `side` (0: A, 1: B) into that build's outputs; 0 if either build
// lacks the kernel. The calls leave their inputs as they found them (vgradient scales by 1).
static int call(int k, int side) {
    float *ys = y[side];
    double *s = sums[side];
    switch (k) {
#define BOTH_OF(name, isa, tile) (KERNEL_OF(A, name, isa, tile) && KERNEL_OF(B, name, isa, tile))
#define PICK_OF(name, isa, tile) (side ? KERNEL_OF(B, name, isa, tile) : KERNEL_OF(A, name, isa, tile))
#define BOTH(name, tile) BOTH_OF(name, XENT_KERNEL_ISA, tile)
#define PICK(name, tile) PICK_OF(name, XENT_KERNEL_ISA, tile)
    case 0:
        if (!BOTH(xent_f32_rmax_ukernel__, _u64_acc4)) return 0;
        PICK(xent_f32_rmax_ukernel__, _u64_acc4)(N, x, &maxes[side]);
        return 1;
    case 1:
        if (!BOTH(xent_f32_raddstoreexpminusmax_ukernel__, _u32_acc2)) return 0;
        PICK(xent_f32_raddstoreexpminusmax_ukernel__, _u32_acc2)(N, x, 12.0f, NULL, ys, 0, s, N);
        return 1;
    case 2:
        if (!BOTH(xent_f32_raddexpminusmax_rmaxnext_ukernel__, _u32_acc2)) return 0;
        PICK(xent_f32_raddexpminusmax_rmaxnext_ukernel__, _u32_acc2)(ROW, x, 12.0f, s, ROW, x + ROW, ROW,
                                                                    &maxes[side]);
        return 1;
    case 3:
        if (!BOTH(xent_f32_vgradient_ukernel__, _u32)) return 0;
        PICK(xent_f32_vgradient_ukernel__, _u32)(N, ys, NULL, NULL, 0, 1.0f, 0.0f, 0.0f);
        return 1;
    case 4:
        if (!BOTH(xent_f16_raddstoreexpminusmax_ukernel__, _u32_acc2)) return 0;
        PICK(xent_f16_raddstoreexpminusmax_ukernel__, _u32_acc2)(N, h16, 12.0f, NULL, ys, NULL, s, N);
        return 1;
    case 5:
        if (!BOTH(xent_bf16_raddstoreexpminusmax_ukernel__, _u32_acc2)) return 0;
        PICK(xent_bf16_raddstoreexpminusmax_ukernel__, _u32_acc2)(N, hbf, 12.0f, NULL, ys, NULL, s, N);
        return 1;
    case 6:
        if (!BOTH(xent_f16_vgradientround_ukernel__, _u32)) return 0;
        PICK(xent_f16_vgradientround_ukernel__, _u32)(N, x, NULL, NULL, 0, 0.01f, 0.0f, 0.0f, 5, 1.0f, z[side], N);
        return 1;
    case 7:
        if (!BOTH(xent_bf16_vgradientround_ukernel__, _u32)) return 0;
        PICK(xent_bf16_vgradientround_ukernel__, _u32)(N, x, NULL, NULL, 0, 0.01f, 0.0f, 0.0f, 5, 1.0f, z[side], N);
        return 1;
    case 8:
        if (!BOTH_OF(xent_bf16_vgradientround_ukernel__, avx512bf16, _u32)) return 0;
        PICK_OF(xent_bf16_vgradientround_ukernel__, avx512bf16, _u32)(N, x, NULL, NULL, 0, 0.01f, 0.0f, 0.0f, 5, 1.0f,
                                                                       z[side], N);
        return 1;
    }
    return 0;
}

static const char *names[] = {
    "f32 rmax (max pass)",          "f32 exp pass, storing",     "f32 fwd exp pass + next max (1000)",
    "f32 vgradient (scaling pass)", "f16 exp pass, storing",     "bf16 exp pass, storing",
    "f16 gradient + rounding",      "bf16 gradient + rounding",  "bf16 gradient + rounding (BF16)",
};
static const size_t elements[] = {N, N, ROW, N, N, N, N, N, N};
#define KERNELS (sizeof(names) / sizeof(names[0]))

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int by_value(const void *a, const void *b) {
    const double u = *(const double *)a, v = *(const double *)b;
    return (u > v) - (u < v);
}

// Nanoseconds per element of `calls` calls of kernel k by `side`.
static double timed(int k, int side, int calls) {
    const double start = now();
    for (int i = 0; i < calls; i++) call(k, side);
    return (now() - start) / calls / (double)elements[k] * 1e9;
}

int main(int argc, char **argv) {
    const int rounds = argc > 1 ? atoi(argv[1]) : 41;
    if (rounds < 1 || rounds > 10000) {
        fprintf(stderr, "compare-kernels: rounds must be in 1...10000\n");
        return 2;
    }
    // Logits in [-12, 12) in a fixed scramble, and their binary16 and bfloat16 patterns (bfloat16
    // by truncation: any pattern will do for a timing).
    for (size_t i = 0; i < 2 * N; i++) x[i] = (float)((i * 7919) % 2400) * 0.01f - 12.0f;
    for (size_t i = 0; i < N; i++) {
        uint32_t bits;
        memcpy(&bits, &x[i], 4);
        hbf[i] = (uint16_t)(bits >> 16);
        const int e = (int)((bits >> 23) & 0xff) - 127 + 15;  // normal in binary16 or flushed to ±0
        h16[i] = (uint16_t)(((bits >> 16) & 0x8000) | (e > 0 ? ((uint32_t)e << 10) | ((bits >> 13) & 0x3ff) : 0));
    }
    double *ratios = malloc(sizeof(double) * (size_t)rounds), *ta = malloc(sizeof(double) * (size_t)rounds),
           *tb = malloc(sizeof(double) * (size_t)rounds);
    if (!ratios || !ta || !tb) return 1;
    printf("%-34s %10s %10s %8s %15s %6s  %s\n", "kernel", "A ns/elem", "B ns/elem", "B/A",
           "q1-q3 of B/A", "B<A", "bits");
    for (size_t k = 0; k < KERNELS; k++) {
        memset(y, 0, sizeof y);
        memset(sums, 0, sizeof sums);
        if (!call((int)k, 0)) {
            printf("%-34s  (absent from a build: skipped)\n", names[k]);
            continue;
        }
        call((int)k, 1);
        const int same = memcmp(y[0], y[1], sizeof y[0]) == 0 && memcmp(sums[0], sums[1], sizeof sums[0]) == 0 &&
                         memcmp(&maxes[0], &maxes[1], sizeof(float)) == 0 && memcmp(z[0], z[1], sizeof z[0]) == 0;
        // Calls per timing: about a millisecond of A's kernel.
        int calls = 16;
        while (calls < (1 << 20) && timed((int)k, 0, calls) * (double)elements[k] * calls < 1e6) calls *= 2;
        int faster = 0;
        for (int r = 0; r < rounds; r++) {
            // Each round both builds, the first of them alternating, so neither always follows the other.
            double a, b;
            if (r & 1) {
                b = timed((int)k, 1, calls);
                a = timed((int)k, 0, calls);
            } else {
                a = timed((int)k, 0, calls);
                b = timed((int)k, 1, calls);
            }
            ta[r] = a, tb[r] = b, ratios[r] = b / a;
            faster += b < a;
        }
        qsort(ratios, (size_t)rounds, sizeof(double), by_value);
        qsort(ta, (size_t)rounds, sizeof(double), by_value);
        qsort(tb, (size_t)rounds, sizeof(double), by_value);
        char quartiles[32];
        snprintf(quartiles, sizeof quartiles, "%.3f-%.3f", ratios[rounds / 4], ratios[(3 * rounds) / 4]);
        printf("%-34s %10.4f %10.4f %8.3f %15s %3d/%-3d %s\n", names[k], ta[rounds / 2], tb[rounds / 2],
               ratios[rounds / 2], quartiles, faster, rounds, same ? "same" : "DIFFERENT");
    }
    free(ratios), free(ta), free(tb);
    return 0;
}
