// Test groups: the C micro-kernels of the shim (Sources/CXent, CXent.h: AVX-512F's and AVX2's,
// reached through xent_ukernel_config_get), the SLEEF blocks the Swift micro-kernels of the other
// ISAs call (xent_f32_vexpminus__*, xent_f32_vtanh__*), and the pinned double functions
// xent_f64_log/exp/tanh, on seeded rows.
//
// The canonical ISAs (xent_isa_is_canonical: AVX-512F, AVX2+FMA, AdvSIMD) promise the same bits.
// The C micro-kernels exist on x86-64 only (SSE2's, AdvSIMD's and the portable ones are Swift,
// Sources/Xent/MicroKernels.swift, checked across architectures by Tests/CrossPlatformBits and
// Scripts/test-arm64-swift.sh), so their sections ("ukernel.<kernel>") are x86-only
// (xg_section_x86_only): the x86 build asserts the AVX2 config's outputs equal the AVX-512F
// config's, on every option path, and writes nothing to the golden file; the aarch64 build reports
// each as x86-only.
//
// "ukernel.sleefblocks.vexpminus" and ".vtanh": the x86 build stores SLEEF's canonical library
// function's results (Sleef_expf16_u10avx512f / Sleef_tanhf16_u10avx512f, else the AVX2 ones) as
// "canonical", SLEEF's Sleef_expf4_u10sse2/Sleef_tanhf4_u10sse2 as "x86.sse2" and
// xent_f32_v*__scalar's as "x86.scalar" (asserted equal to x86.sse2), and asserts the C configs' exps (raddstoreexpminusmax's y) and tanh
// (vtransform with s = c = 1) equal canonical; the aarch64 build asserts xent_f32_v*__advsimd's
// equal to canonical and xent_f32_v*__scalar's to x86.sse2 and x86.scalar.
//
// "ukernel.f64": the x86 build stores the AVX-512F ISA's results (AVX2's on a CPU without it) as
// "canonical", asserts AVX2's equal, and stores XENT_ISA_SCALAR's as "x86.scalar"; the aarch64
// build asserts AdvSIMD's equal to canonical. SSE2 and scalar are not promised equal: their
// comparisons are informational.
//
// A row section's inputs are one buffer of rows (each row at a 64-byte boundary plus an offset of
// 0–3 floats, padding between rows) and per-row parameters, generated on x86 (and stored, when the
// aarch64 build needs them); a section's outputs are every option path's results concatenated into
// one array per type (named segments). A buffer-shaped output keeps the rows' positions, so a kernel
// that writes past a row's end changes the padding and is caught. On a mismatch the segments that
// differ are listed with their smallest failing row (length, offset, kind, first element); for
// the informational comparisons too when XG_LOCATE is set.
#pragma clang fp contract(off)  // the generators' arithmetic is only on x86, but to be safe

#include "golden.h"

#include "CXent.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

// ---- The rows --------------------------------------------------------------------------------

enum {
    K_NORMAL,   // N(0, 3²)
    K_HUGE,     // ±U(0.5, 2)·1e30
    K_TINY,     // ±10^U(−45, −30) (float subnormals included), some ±0
    K_OFFSET,   // ±3e4 + N(0, 3²)
    K_MASKED,   // N(0, 3²), ~30% −inf
    K_NAN,      // N(0, 3²), some NaN (at least one)
    K_POSINF,   // N(0, 3²), some +inf (at least one), some −inf
    K_ALLNEG,   // every element −inf
    K_COUNT
};
static const char *const kind_names[K_COUNT] = {"normal", "huge", "tiny", "offset", "masked", "nan", "+inf", "all-inf"};

typedef struct {
    size_t len, pos;  // pos: its first element in the buffer
    int offset, kind;
} row_t;

static row_t *rows;
static size_t nrows, nbuf;  // nbuf: the buffer's length in floats

static void add_row(size_t len, int offset, int kind) {
    static size_t cap;
    if (nrows == cap) {
        cap = cap ? 2 * cap : 1024;
        rows = realloc(rows, cap * sizeof *rows);
        if (!rows) exit(2);
    }
    const size_t pos = (nbuf + 15) / 16 * 16 + (size_t)offset;
    rows[nrows++] = (row_t){len, pos, offset, kind};
    nbuf = pos + len + 1;  // at least one float of padding after each row
}

// The same rows in both builds (integer arithmetic only): lengths 1…70, every offset for the
// normal and masked kinds and one offset for the others; the large lengths (the 512-element exp
// blocks, their tails, the 16-lane tails) with every kind and the normal kind at every offset.
static void build_rows(void) {
    if (rows) return;
    for (size_t len = 1; len <= 70; len++) {
        for (int off = 0; off < 4; off++) {
            add_row(len, off, K_NORMAL);
            add_row(len, off, K_MASKED);
        }
        for (int k = K_HUGE; k < K_COUNT; k++) {
            if (k != K_MASKED) add_row(len, (int)((len + (size_t)k) % 4), k);
        }
    }
    static const size_t large[] = {511, 512, 513, 2047, 2048, 4100, 9000};
    for (size_t i = 0; i < sizeof large / sizeof large[0]; i++) {
        for (int k = 0; k < K_COUNT; k++) add_row(large[i], (int)((i + (size_t)k) % 4), k);
        for (int off = 1; off < 4; off++) add_row(large[i], (int)((i + (size_t)off) % 4), K_NORMAL);
    }
    nbuf = (nbuf + 15) / 16 * 16;
}

// ---- Generators (x86 only: their outputs are stored) ------------------------------------------

static uint64_t seed(uint64_t salt) { return 0x5eed0000ull + salt * 0x9e3779b97f4a7c15ull; }

static double normal(uint64_t *s) {
    const double u = xg_uniform(s, 0x1p-53, 1.0), v = xg_uniform(s, 0.0, 1.0);
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

static void gen_x(float *x, size_t n) {
    (void)n;
    uint64_t s = seed(1);
    for (size_t i = 0; i < nbuf; i++) x[i] = 0.0f;  // padding
    for (size_t r = 0; r < nrows; r++) {
        float *p = x + rows[r].pos;
        const size_t len = rows[r].len;
        const double sign = (r & 1) ? -1.0 : 1.0;
        for (size_t i = 0; i < len; i++) {
            const uint64_t u = xg_rand(&s);
            double v = 3.0 * normal(&s);
            switch (rows[r].kind) {
            case K_HUGE: v = ((u & 1) ? -1.0 : 1.0) * xg_uniform(&s, 0.5, 2.0) * 1e30; break;
            case K_TINY: v = (u % 16 == 0) ? 0.0 : ((u & 2) ? -1.0 : 1.0) * pow(10.0, xg_uniform(&s, -45.0, -30.0)); break;
            case K_OFFSET: v += sign * 3e4; break;
            case K_MASKED: if (u % 10 < 3) v = -INFINITY; break;
            case K_NAN: if (u % 12 == 0) v = NAN; break;
            case K_POSINF: v = u % 12 == 0 ? INFINITY : u % 12 == 1 ? -INFINITY : v; break;
            case K_ALLNEG: v = -INFINITY; break;
            default: break;
            }
            p[i] = (float)v;
        }
        if (rows[r].kind == K_NAN) p[(size_t)(xg_rand(&s) % len)] = NAN;
        if (rows[r].kind == K_POSINF) p[(size_t)(xg_rand(&s) % len)] = INFINITY;
    }
}

// Soft targets: half 0, else U(0, 1), a few 1 and tiny ones (some fall on masked classes).
static void gen_q(float *q, size_t n) {
    uint64_t s = seed(2);
    for (size_t i = 0; i < n; i++) {
        const uint64_t u = xg_rand(&s) % 40;
        q[i] = u < 20 ? 0.0f : u < 37 ? (float)xg_uniform(&s, 0.0, 1.0) : u < 39 ? 1.0f : 1e-30f;
    }
}

// Class weights: 10% 0, else U(0.1, 3).
static void gen_w(float *w, size_t n) {
    uint64_t s = seed(3);
    for (size_t i = 0; i < n; i++) w[i] = xg_rand(&s) % 10 == 0 ? 0.0f : (float)xg_uniform(&s, 0.1, 3.0);
}

// Stored exps: U(0, 1], 15% −0 (masked marks), 5% +0, 5% subnormal, 3% 1.
static void gen_e(float *e, size_t n) {
    uint64_t s = seed(4);
    for (size_t i = 0; i < n; i++) {
        const uint64_t u = xg_rand(&s) % 100;
        e[i] = u < 15 ? -0.0f : u < 20 ? 0.0f : u < 25 ? (float)xg_uniform(&s, 0x1p-149, 0x1p-126) : u < 28 ? 1.0f
                                                                                                  : (float)xg_uniform(&s, 0x1p-30, 1.0);
    }
}

// Softcapped logits t = c·tanh(z/c) for the row's c (parameters: P_C), z ~ N(0, 6²), some ±c.
#define NPAR 8
enum { P_A, P_B, P_D, P_C, P_SHIFT_T, P_LABEL_TERM, P_M, P_SHIFT };
static float *gen_params_buf;  // set before gen_t (its c per row)

static void gen_t(float *t, size_t n) {
    (void)n;
    uint64_t s = seed(5);
    for (size_t i = 0; i < nbuf; i++) t[i] = 0.0f;
    for (size_t r = 0; r < nrows; r++) {
        const double c = gen_params_buf[r * NPAR + P_C];
        float *p = t + rows[r].pos;
        for (size_t i = 0; i < rows[r].len; i++) {
            const uint64_t u = xg_rand(&s) % 50;
            p[i] = u == 0 ? (float)c : u == 1 ? (float)-c : (float)(c * tanh(6.0 * normal(&s) / c));
        }
    }
}

// Per-row parameters: the gradient's a (log-uniform 1e−3…10), b (U(−2, 2)), d (U(0, 0.01)), the
// softcap c ∈ {5, 20, 30}, the label term U(0, 1); the rows' max and the softcapped rows' max are
// filled in by the writer (the canonical rmax, the driver's shift rule).
static void gen_p(float *p, size_t n) {
    uint64_t s = seed(6);
    static const float caps[] = {5.0f, 20.0f, 30.0f};
    for (size_t i = 0; i < n; i++) p[i] = 0.0f;
    for (size_t r = 0; r < nrows; r++) {
        float *q = p + r * NPAR;
        q[P_A] = (float)pow(10.0, xg_uniform(&s, -3.0, 1.0));
        q[P_B] = (float)xg_uniform(&s, -2.0, 2.0);
        q[P_D] = (float)xg_uniform(&s, 0.0, 0.01);
        q[P_C] = caps[xg_rand(&s) % 3];
        q[P_LABEL_TERM] = (float)xg_uniform(&s, 0.0, 1.0);
    }
}

// ---- Outputs: named segments of one array per type ---------------------------------------------

typedef enum { L_BUF, L_ROWS, L_FLAT } layout_t;  // buffer-shaped, k values per row, plain

typedef struct {
    char name[80];
    xg_type type;
    size_t start, n;
    layout_t layout;
    int per_row;
} seg_t;

typedef struct {
    seg_t seg[96];
    int nseg;
    float *f32;
    double *f64;
    uint16_t *u16;
    size_t n[5], cap[5];  // by xg_type
} outs_t;

static void *outs_take(outs_t *o, const char *name, xg_type type, size_t n, layout_t layout, int per_row) {
    if (o->nseg == 96) {
        fprintf(stderr, "ukernel groups: too many segments\n");
        exit(2);
    }
    const size_t size = type == XG_F64 ? 8 : type == XG_F32 ? 4 : 2;
    void **data = type == XG_F64 ? (void **)&o->f64 : type == XG_F32 ? (void **)&o->f32 : (void **)&o->u16;
    if (o->n[type] + n > o->cap[type]) {
        size_t cap = o->cap[type] ? o->cap[type] : 1 << 16;
        while (cap < o->n[type] + n) cap *= 2;
        void *p = xg_alloc(cap * size);
        if (*data) {
            memcpy(p, *data, o->n[type] * size);
            free(*data);
        }
        *data = p;
        o->cap[type] = cap;
    }
    seg_t *s = &o->seg[o->nseg++];
    snprintf(s->name, sizeof s->name, "%s", name);
    s->type = type;
    s->start = o->n[type];
    s->n = n;
    s->layout = layout;
    s->per_row = per_row;
    o->n[type] += n;
    return (char *)*data + s->start * size;
}

static void outs_free(outs_t *o) {
    free(o->f32);
    free(o->f64);
    free(o->u16);
    memset(o, 0, sizeof *o);
}

static int same_bits(xg_type type, const void *a, const void *b, size_t i) {
    if (type == XG_F32) {
        const float x = ((const float *)a)[i], y = ((const float *)b)[i];
        return (isnan(x) && isnan(y)) || memcmp(&x, &y, 4) == 0;
    }
    if (type == XG_F64) {
        const double x = ((const double *)a)[i], y = ((const double *)b)[i];
        return (isnan(x) && isnan(y)) || memcmp(&x, &y, 8) == 0;
    }
    return ((const uint16_t *)a)[i] == ((const uint16_t *)b)[i];
}

static double value_at(xg_type type, const void *p, size_t i) {
    return type == XG_F64 ? ((const double *)p)[i] : type == XG_F32 ? ((const float *)p)[i] : ((const uint16_t *)p)[i];
}

// The row holding buffer position i (binary search), or nrows for padding.
static size_t row_of(size_t i) {
    size_t lo = 0, hi = nrows;
    while (hi - lo > 1) {
        const size_t mid = (lo + hi) / 2;
        if (rows[mid].pos <= i) lo = mid; else hi = mid;
    }
    return i >= rows[lo].pos && i < rows[lo].pos + rows[lo].len ? lo : nrows;
}

// After an asserted comparison failed: per segment, the mismatch count and the smallest failing row.
static void locate(const outs_t *o, xg_type type, const void *mine, const void *ref, const float *x) {
    for (int k = 0; k < o->nseg; k++) {
        const seg_t *s = &o->seg[k];
        if (s->type != type) continue;
        size_t count = 0, best = (size_t)-1, best_len = (size_t)-1, best_row = nrows;
        for (size_t i = 0; i < s->n; i++) {
            if (same_bits(type, mine, ref, s->start + i)) continue;
            count++;
            const size_t r = s->layout == L_BUF ? row_of(i) : s->layout == L_ROWS ? i / (size_t)s->per_row : nrows;
            const size_t len = r < nrows ? rows[r].len : 0;
            if (best == (size_t)-1 || (r < nrows && len < best_len)) {
                best = i;
                best_len = len;
                best_row = r;
            }
        }
        if (!count) continue;
        const size_t at = s->start + best;
        printf("    %s: %zu differ; ", s->name, count);
        if (best_row < nrows) {
            const row_t *r = &rows[best_row];
            printf("smallest: row %zu (n %zu, offset %d, %s)", best_row, r->len, r->offset, kind_names[r->kind]);
            if (s->layout == L_BUF) {
                printf(" element %zu", best - r->pos);
                if (x) printf(" (input %a)", x[best]);
            } else {
                printf(" value %zu", best % (size_t)s->per_row);
            }
        } else if (s->layout == L_BUF) {
            printf("padding at %zu", best);
        } else {
            printf("index %zu", best);
        }
        printf(": %a vs %a\n", value_at(type, mine, at), value_at(type, ref, at));
    }
}

static const xg_type out_types[] = {XG_F32, XG_F64, XG_U16};

static const void *outs_data(const outs_t *o, xg_type type) {
    return type == XG_F64 ? (const void *)o->f64 : type == XG_F32 ? (const void *)o->f32 : o->u16;
}

static const char *type_suffix(xg_type type) { return type == XG_F64 ? "f64" : type == XG_F32 ? "f32" : "u16"; }

// Stores one run's outputs as "<role>.<f32|f64|u16>" (WRITE: into the golden file, unless the
// section is x86-only).
static void put_outs(xg_ctx *c, const outs_t *o, const char *role) {
    for (int t = 0; t < 3; t++) {
        const xg_type type = out_types[t];
        if (!o->n[type]) continue;
        char name[96];
        snprintf(name, sizeof name, "%s.%s", role, type_suffix(type));
        xg_put(c, name, type, outs_data(o, type), o->n[type]);
    }
}

// Compares one run's outputs with the section's arrays "<ref>.<type>" (skipped when absent, unless
// `if_present`); an asserted mismatch (any, with XG_LOCATE) lists the segments that differ.
static void compare_outs(xg_ctx *c, const outs_t *o, const char *role, const char *ref_role, xg_expect expect,
                         int if_present, const float *x) {
    for (int t = 0; t < 3; t++) {
        const xg_type type = out_types[t];
        if (!o->n[type]) continue;
        const void *data = outs_data(o, type);
        char name[96], ref[96];
        snprintf(name, sizeof name, "%s.%s", role, type_suffix(type));
        snprintf(ref, sizeof ref, "%s.%s", ref_role, type_suffix(type));
        size_t rn;
        const void *r = xg_get(c, ref, type, &rn);
        if (!r && if_present) continue;
        const int64_t bad = xg_compare(c, name, type, data, o->n[type], ref, expect);
        const int show = expect == XG_EQUAL || getenv("XG_LOCATE");
        if (bad > 0 && r && rn == o->n[type] && show) locate(o, type, data, r, x);
    }
}

// Stores, or compares, one ISA's outputs. role: "canonical" (x86: stored), "x86.scalar" (x86:
// stored, compared with canonical for information), else a name compared with canonical
// (asserted when `canonical_isa`) and, for non-canonical ISAs, with x86.scalar (information).
static void emit(xg_ctx *c, const outs_t *o, const char *role, int canonical_isa, const float *x) {
    if (strcmp(role, "canonical") == 0 || strcmp(role, "x86.scalar") == 0) {
        put_outs(c, o, role);
        if (strcmp(role, "x86.scalar") == 0) compare_outs(c, o, role, "canonical", XG_INFO, 0, x);
        return;
    }
    compare_outs(c, o, role, "canonical", canonical_isa ? XG_EQUAL : XG_INFO, 0, x);
    if (!canonical_isa) compare_outs(c, o, role, "x86.scalar", XG_INFO, 1, x);
}

// ---- The ISAs ---------------------------------------------------------------------------------

typedef struct {
    const char *role;
    xent_isa isa;
    int canonical;
} isa_run;

// The C micro-kernel configs of this build, in order: x86 — the canonical one stored first
// (AVX-512F, else AVX2), then AVX2 (asserted, when AVX-512F was the reference); none on aarch64
// (xent_ukernel_config_get returns NULL for every ISA there).
static int config_runs(isa_run *runs) {
    int n = 0;
#if defined(__x86_64__)
    const int has512 = xent_isa_is_supported(XENT_ISA_AVX512F), has2 = xent_isa_is_supported(XENT_ISA_AVX2);
    if (has512) runs[n++] = (isa_run){"canonical", XENT_ISA_AVX512F, 1};
    if (has2) runs[n++] = (isa_run){has512 ? "avx2" : "canonical", XENT_ISA_AVX2, 1};
#else
    (void)runs;
#endif
    return n;
}

// Said on aarch64 for the sections of the C micro-kernels.
#define C_KERNELS_X86_ONLY \
    "the C micro-kernels are AVX-512F's and AVX2's; AdvSIMD's are Swift (Scripts/test-arm64-swift.sh)"

// The configs an x86-only section compares (AVX2's with AVX-512F's), or 0, reported as skipped,
// when this CPU lacks one of them.
static int configs_to_compare(xg_ctx *c, isa_run *runs) {
    const int n = config_runs(runs);
    if (n < 2) xg_skip(c, n ? "no AVX-512F on this CPU: AVX2's kernels have no partner" : "no AVX2 on this CPU");
    return n < 2 ? 0 : n;
}

// The ISAs xent_f64_log/exp/tanh are run for, in order: x86 — the canonical one stored first
// (AVX-512F, else AVX2), then AVX2 (asserted, when AVX-512F was the reference), XENT_ISA_SCALAR
// (stored), SSE2; aarch64 — AdvSIMD (asserted), XENT_ISA_SCALAR.
static int f64_runs(isa_run *runs) {
    int n = 0;
#if defined(__x86_64__)
    const int has512 = xent_isa_is_supported(XENT_ISA_AVX512F), has2 = xent_isa_is_supported(XENT_ISA_AVX2);
    if (has512) runs[n++] = (isa_run){"canonical", XENT_ISA_AVX512F, 1};
    if (has2) runs[n++] = (isa_run){has512 ? "avx2" : "canonical", XENT_ISA_AVX2, 1};
    runs[n++] = (isa_run){"x86.scalar", XENT_ISA_SCALAR, 0};
    runs[n++] = (isa_run){"sse2", XENT_ISA_SSE2, 0};
#elif defined(__aarch64__)
    runs[n++] = (isa_run){"a64.advsimd", XENT_ISA_ADVSIMD, 1};
    runs[n++] = (isa_run){"a64.scalar", XENT_ISA_SCALAR, 0};
#endif
    return n;
}

// The section's inputs (each stored by the writer).
typedef struct {
    const float *x, *q, *w, *e, *t, *p;
    float *work, *work2;  // nbuf floats each, 64-byte aligned like the inputs
} inputs_t;

static const float *input(xg_ctx *c, const char *name, size_t n, xg_gen_f32 gen) {
    size_t got;
    const float *v = xg_input_f32(c, name, n, gen, &got);
    if (got != n) {
        fprintf(stderr, "ukernel groups: %s has %zu elements, expected %zu (the row list changed?)\n", name, got, n);
        exit(2);
    }
    return v;
}

// An input the writer stored itself (generated from others).
static const float *stored(xg_ctx *c, const char *name, size_t n) {
    size_t got;
    const float *v = xg_get(c, name, XG_F32, &got);
    if (!v || got != n) {
        fprintf(stderr, "ukernel groups: no %s of %zu elements\n", name, n);
        exit(2);
    }
    return v;
}

static float shift_of(float m) { return m == -INFINITY ? 0.0f : m; }  // RowPipeline.chunk's rule

static void fill(float *y, float v) {
    for (size_t i = 0; i < nbuf; i++) y[i] = v;
}

// ---- The kernels' option paths ----------------------------------------------------------------

static void run_rmax(const xent_ukernel_config *k, const inputs_t *in, outs_t *o) {
    float *m = outs_take(o, "rmax", XG_F32, nrows, L_ROWS, 1);
    for (size_t r = 0; r < nrows; r++) k->rmax(rows[r].len, in->x + rows[r].pos, &m[r]);
}

// q NULL / q; y NULL / separate / in place; mark 0 / 1; shift the driver's (max, or 0) / 0.
static void run_raddstore(const xent_ukernel_config *k, const inputs_t *in, outs_t *o) {
    char name[80];
    for (int sh = 0; sh < 2; sh++) {
        for (int hq = 0; hq < 2; hq++) {
            for (int yv = 0; yv < 5; yv++) {  // 0: y NULL; 1, 2: separate, mark 0/1; 3, 4: in place
                const int mark = yv == 2 || yv == 4, inplace = yv >= 3;
                snprintf(name, sizeof name, "shift=%s q=%d y=%s mark=%d", sh ? "0" : "max", hq,
                         yv == 0 ? "NULL" : inplace ? "x" : "sep", mark);
                double *sums = outs_take(o, name, XG_F64, 3 * nrows, L_ROWS, 3);
                float *y = NULL;
                if (yv) {
                    char yname[96];
                    snprintf(yname, sizeof yname, "%s: y", name);
                    y = outs_take(o, yname, XG_F32, nbuf, L_BUF, 0);
                    if (inplace) memcpy(y, in->x, nbuf * 4); else for (size_t i = 0; i < nbuf; i++) y[i] = 1234.5f;
                }
                for (size_t r = 0; r < nrows; r++) {
                    const size_t at = rows[r].pos;
                    const float shift = sh ? 0.0f : shift_of(in->p[r * NPAR + P_M]);
                    double *s = sums + 3 * r;
                    s[0] = s[1] = s[2] = -777.0;  // a sum not asked for stays
                    k->raddstoreexpminusmax(rows[r].len, inplace ? y + at : in->x + at, shift, hq ? in->q + at : NULL,
                                            y ? y + at : NULL, mark, s, rows[r].len);
                }
            }
        }
    }
}

// Every combination of q, w, smoothing; shift the driver's / 0.
static void run_rsumtargets(const xent_ukernel_config *k, const inputs_t *in, outs_t *o) {
    char name[80];
    for (int sh = 0; sh < 2; sh++) {
        for (int v = 0; v < 8; v++) {
            const int hq = v & 1, hw = (v >> 1) & 1, sm = (v >> 2) & 1;
            snprintf(name, sizeof name, "shift=%s q=%d w=%d smoothing=%d", sh ? "0" : "max", hq, hw, sm);
            double *sums = outs_take(o, name, XG_F64, 5 * nrows, L_ROWS, 5);
            for (size_t r = 0; r < nrows; r++) {
                const size_t at = rows[r].pos;
                const float shift = sh ? 0.0f : shift_of(in->p[r * NPAR + P_M]);
                k->rsumtargets(rows[r].len, in->x + at, shift, hq ? in->q + at : NULL, hw ? in->w + at : NULL, sm,
                               sums + 5 * r);
            }
        }
    }
}

// (s, c): s ≠ 1 without a softcap, softcaps with s = 1 and s ≠ 1; into a separate buffer and in place.
static void run_vtransform(const xent_ukernel_config *k, const inputs_t *in, outs_t *o) {
    static const float sc[][2] = {{0.7f, 0.0f}, {1.3f, 20.0f}, {1.0f, 30.0f}, {2.5f, 5.0f}};
    char name[80];
    for (size_t v = 0; v < sizeof sc / sizeof sc[0]; v++) {
        for (int inplace = 0; inplace < 2; inplace++) {
            snprintf(name, sizeof name, "s=%g c=%g %s", sc[v][0], sc[v][1], inplace ? "in place" : "separate");
            float *t = outs_take(o, name, XG_F32, nbuf, L_BUF, 0);
            if (inplace) memcpy(t, in->x, nbuf * 4); else fill(t, 1234.5f);
            for (size_t r = 0; r < nrows; r++) {
                const size_t at = rows[r].pos;
                k->vtransform(rows[r].len, inplace ? t + at : in->x + at, t + at, sc[v][0], sc[v][1]);
            }
        }
    }
}

// Every combination of q, w, smoothing, on the stored exps e (with −0 marks).
static void run_vgradient(const xent_ukernel_config *k, const inputs_t *in, outs_t *o) {
    char name[80];
    for (int v = 0; v < 8; v++) {
        const int hq = v & 1, hw = (v >> 1) & 1, sm = (v >> 2) & 1;
        snprintf(name, sizeof name, "q=%d w=%d smoothing=%d", hq, hw, sm);
        float *y = outs_take(o, name, XG_F32, nbuf, L_BUF, 0);
        memcpy(y, in->e, nbuf * 4);
        for (size_t r = 0; r < nrows; r++) {
            const size_t at = rows[r].pos;
            const float *p = in->p + r * NPAR;
            k->vgradient(rows[r].len, y + at, hq ? in->q + at : NULL, hw ? in->w + at : NULL, sm, p[P_A], p[P_B], p[P_D]);
        }
    }
}

// Every combination of q, w, smoothing, with label −1 and a label inside the row, on the
// softcapped logits t (shift: their max).
static void run_vgradientsoftcap(const xent_ukernel_config *k, const inputs_t *in, outs_t *o) {
    char name[80];
    for (int v = 0; v < 16; v++) {
        const int hq = v & 1, hw = (v >> 1) & 1, sm = (v >> 2) & 1, lab = (v >> 3) & 1;
        snprintf(name, sizeof name, "q=%d w=%d smoothing=%d label=%s", hq, hw, sm, lab ? "inside" : "-1");
        float *y = outs_take(o, name, XG_F32, nbuf, L_BUF, 0);
        memcpy(y, in->t, nbuf * 4);
        for (size_t r = 0; r < nrows; r++) {
            const size_t at = rows[r].pos;
            const float *p = in->p + r * NPAR;
            const int64_t label = lab ? (int64_t)((r * 37 + 11) % rows[r].len) : -1;
            k->vgradientsoftcap(rows[r].len, y + at, hq ? in->q + at : NULL, hw ? in->w + at : NULL, sm, p[P_SHIFT_T],
                                p[P_A], p[P_B], p[P_D], p[P_C], label, p[P_LABEL_TERM]);
        }
    }
}

typedef void (*runner)(const xent_ukernel_config *, const inputs_t *, outs_t *);

// One row-kernel section: inputs, then every ISA of this build.
static void row_section(xg_ctx *c, const char *tag, runner run, char show) {
    if (!xg_section_x86_only(c, tag, C_KERNELS_X86_ONLY)) return;
    isa_run runs[4];
    const int nruns = configs_to_compare(c, runs);
    if (!nruns) return;
    inputs_t in = {0};
    in.x = input(c, "x", nbuf, gen_x);
    in.q = input(c, "q", nbuf, gen_q);
    in.w = input(c, "w", nbuf, gen_w);
    in.e = input(c, "e", nbuf, gen_e);
    float *p = NULL;
    if (xg_mode_of(c) == XG_WRITE) {
        // The parameters, then the max of every row (the canonical rmax, so every ISA gets the same
        // shifts) and of every softcapped row (plain C: the max of finite values is exact).
        p = xg_alloc(nrows * NPAR * 4);
        gen_p(p, nrows * NPAR);
        gen_params_buf = p;
        float *t = xg_alloc(nbuf * 4);
        gen_t(t, nbuf);
        const xent_ukernel_config *k = xent_ukernel_config_get(runs[0].isa);
        for (size_t r = 0; r < nrows; r++) {
            k->rmax(rows[r].len, in.x + rows[r].pos, &p[r * NPAR + P_M]);
            float mt = -INFINITY;
            for (size_t i = 0; i < rows[r].len; i++) mt = t[rows[r].pos + i] > mt ? t[rows[r].pos + i] : mt;
            p[r * NPAR + P_SHIFT_T] = mt;
        }
        xg_put(c, "t", XG_F32, t, nbuf);
        xg_put(c, "p", XG_F32, p, nrows * NPAR);
        free(t);
    }
    in.t = stored(c, "t", nbuf);
    in.p = stored(c, "p", nrows * NPAR);
    free(p);
    const float *shown = show == 'e' ? in.e : show == 't' ? in.t : in.x;
    for (int i = 0; i < nruns; i++) {
        outs_t o = {0};
        run(xent_ukernel_config_get(runs[i].isa), &in, &o);
        emit(c, &o, runs[i].role, runs[i].canonical, shown);
        outs_free(&o);
    }
}

// ---- 16-bit widen and round ----------------------------------------------------------------------

#define NROUND (1u << 16)

static float from_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

// Floats to round: random bit patterns; the binary16 range; exact binary16 and bfloat16 ties (odd
// and even kept parts) and their neighbours; binary16 subnormals and their ties; the overflow
// boundary (65504, 65519.99, 65520, 65536, 1e10); float subnormals; ±0, ±inf; quiet and signalling
// NaNs with assorted payloads.
static void gen_round(float *f, size_t n) {
    uint64_t s = seed(7);
    static const float fixed[] = {0.0f, -0.0f, INFINITY, -INFINITY, 65504.0f, 65519.99f, 65520.0f, -65520.0f,
                                  65536.0f, 1e10f, -1e10f, 0x1p-24f, 0x1p-25f, 0x1.8p-24f, 0x1p-14f, 0x1.ff8p-15f,
                                  3.3895314e38f, FLT_MAX, -FLT_MAX, 0x1p-149f, 1.0f, -1.0f};
    size_t i = 0;
    for (; i < sizeof fixed / sizeof fixed[0]; i++) f[i] = fixed[i];
    static const uint32_t nans[] = {0x7fc00000u, 0xffc00000u, 0x7f800001u, 0xff800001u, 0x7fa00000u,
                                    0x7f802000u, 0x7fffffffu, 0xffffffffu, 0x7f801fffu, 0x7fc01234u};
    for (size_t j = 0; j < sizeof nans / sizeof nans[0]; j++) f[i++] = from_bits(nans[j]);
    for (; i < n; i++) {
        const uint64_t u = xg_rand(&s);
        const uint32_t sign = (uint32_t)(u >> 63) << 31;
        const uint32_t r32 = (uint32_t)(u >> 8);
        switch (u % 10) {
        case 0: case 1: f[i] = from_bits((uint32_t)u); break;                             // any pattern
        case 2: f[i] = from_bits(sign | (0x33000000u + r32 % (0x47800000u - 0x33000000u))); break;  // f16 range
        case 3: {  // a binary16 tie (normal range), ± one float ulp
            const uint32_t b = sign | ((0x38800000u + r32 % (0x47800000u - 0x38800000u)) & ~0x1fffu) | 0x1000u;
            f[i] = from_bits(b + (uint32_t)((int)(u >> 40) % 3 - 1));
            break;
        }
        case 4: {  // a bfloat16 tie, ± one float ulp
            const uint32_t b = ((uint32_t)u & 0xffff0000u) | 0x8000u;
            f[i] = from_bits(b + (uint32_t)((int)(u >> 40) % 3 - 1));
            break;
        }
        case 5: f[i] = (float)((double)(int)(r32 % 2048 - 1024) * 0x1p-25); break;   // f16 subnormal ties
        case 6: f[i] = from_bits(sign | (r32 % 0x00800000u)); break;                 // float subnormals
        case 7: f[i] = from_bits(sign | (0x47000000u + r32 % 0x01000000u)); break;   // near the f16 overflow
        case 8: f[i] = from_bits(sign | 0x7f800000u | (r32 % 0x00800000u | 1u)); break;  // NaNs
        default: f[i] = (float)xg_uniform(&s, -70000.0, 70000.0); break;
        }
    }
}

// Called in pieces of 1, 2, …, 40 elements (then again), so every kernel's tails are used.
static void in_pieces(size_t n, void (*fn)(size_t, const void *, void *, size_t), const void *src, size_t ssize,
                      void *dst, size_t dsize) {
    size_t piece = 1;
    for (size_t i = 0; i < n;) {
        const size_t m = n - i < piece ? n - i : piece;
        fn(m, (const char *)src + i * ssize, (char *)dst + i * dsize, m);
        i += m;
        piece = piece == 40 ? 1 : piece + 1;
    }
}

static void run_half(const xent_ukernel_config *k, const float *round_in, outs_t *o) {
    uint16_t *bits = xg_alloc(65536 * 2);
    for (uint32_t i = 0; i < 65536; i++) bits[i] = (uint16_t)i;
    in_pieces(65536, (void (*)(size_t, const void *, void *, size_t))k->f16_widen, bits, 2,
              outs_take(o, "f16_widen (all 65536)", XG_F32, 65536, L_FLAT, 0), 4);
    in_pieces(65536, (void (*)(size_t, const void *, void *, size_t))k->bf16_widen, bits, 2,
              outs_take(o, "bf16_widen (all 65536)", XG_F32, 65536, L_FLAT, 0), 4);
    in_pieces(NROUND, (void (*)(size_t, const void *, void *, size_t))k->f16_round, round_in, 4,
              outs_take(o, "f16_round", XG_U16, NROUND, L_FLAT, 0), 2);
    in_pieces(NROUND, (void (*)(size_t, const void *, void *, size_t))k->bf16_round, round_in, 4,
              outs_take(o, "bf16_round", XG_U16, NROUND, L_FLAT, 0), 2);
    // The same in one call each (the vector bodies).
    k->f16_widen(65536, bits, outs_take(o, "f16_widen one call", XG_F32, 65536, L_FLAT, 0), 65536);
    k->bf16_widen(65536, bits, outs_take(o, "bf16_widen one call", XG_F32, 65536, L_FLAT, 0), 65536);
    k->f16_round(NROUND, round_in, outs_take(o, "f16_round one call", XG_U16, NROUND, L_FLAT, 0), NROUND);
    k->bf16_round(NROUND, round_in, outs_take(o, "bf16_round one call", XG_U16, NROUND, L_FLAT, 0), NROUND);
    free(bits);
}

static void half_section(xg_ctx *c) {
    if (!xg_section_x86_only(c, "ukernel.half", C_KERNELS_X86_ONLY)) return;
    isa_run runs[4];
    const int nruns = configs_to_compare(c, runs);
    if (!nruns) return;
    const float *r = input(c, "x", NROUND, gen_round);
    for (int i = 0; i < nruns; i++) {
        outs_t o = {0};
        run_half(xent_ukernel_config_get(runs[i].isa), r, &o);
        emit(c, &o, runs[i].role, runs[i].canonical, NULL);
        outs_free(&o);
    }
}

// ---- SLEEF's float exp and tanh in blocks (xent_sleef_blocks.c, for the Swift micro-kernels) -----

typedef void (*vexpminus_fn)(size_t n, const float *x, float shift, float *y);
typedef void (*vtanh_fn)(size_t n, const float *x, float *y);

#if defined(__x86_64__)
// The canonical references: SLEEF's library functions (sleef.h declares the 256/512-bit ones only
// when the translation unit is compiled for them; declared as sleef_groups.c does), over any n, a
// vector at a time, the tail through a padded copy.
__attribute__((target("avx512f"))) __m512 Sleef_expf16_u10avx512f(__m512);
__attribute__((target("avx512f"))) __m512 Sleef_tanhf16_u10avx512f(__m512);
__attribute__((target("avx2,fma"))) __m256 Sleef_expf8_u10avx2(__m256);
__attribute__((target("avx2,fma"))) __m256 Sleef_tanhf8_u10avx2(__m256);
__m128 Sleef_expf4_u10sse2(__m128);
__m128 Sleef_tanhf4_u10sse2(__m128);

#define LIBRARY_BLOCKS(sfx, tgt, W, V, loadu, storeu, sub, set1, expfn, tanhfn)                           \
    __attribute__((target(tgt))) static void vexpminus_##sfx(size_t n, const float *x, float shift, float *y) { \
        for (size_t i = 0; i < n; i += W) {                                                               \
            const size_t m = n - i < W ? n - i : W;                                                       \
            float lanes[W] = {0};                                                                         \
            memcpy(lanes, x + i, m * 4);                                                                  \
            const V e = expfn(sub(loadu(lanes), set1(shift)));                                            \
            storeu(lanes, e);                                                                             \
            memcpy(y + i, lanes, m * 4);                                                                  \
        }                                                                                                 \
    }                                                                                                     \
    __attribute__((target(tgt))) static void vtanh_##sfx(size_t n, const float *x, float *y) {            \
        for (size_t i = 0; i < n; i += W) {                                                               \
            const size_t m = n - i < W ? n - i : W;                                                       \
            float lanes[W] = {0};                                                                         \
            memcpy(lanes, x + i, m * 4);                                                                  \
            const V t = tanhfn(loadu(lanes));                                                             \
            storeu(lanes, t);                                                                             \
            memcpy(y + i, lanes, m * 4);                                                                  \
        }                                                                                                 \
    }
LIBRARY_BLOCKS(avx512f, "avx512f", 16, __m512, _mm512_loadu_ps, _mm512_storeu_ps, _mm512_sub_ps, _mm512_set1_ps,
               Sleef_expf16_u10avx512f, Sleef_tanhf16_u10avx512f)
LIBRARY_BLOCKS(sse2, "sse2", 4, __m128, _mm_loadu_ps, _mm_storeu_ps, _mm_sub_ps, _mm_set1_ps, Sleef_expf4_u10sse2,
               Sleef_tanhf4_u10sse2)
LIBRARY_BLOCKS(avx2, "avx2,fma", 8, __m256, _mm256_loadu_ps, _mm256_storeu_ps, _mm256_sub_ps, _mm256_set1_ps,
               Sleef_expf8_u10avx2, Sleef_tanhf8_u10avx2)

// The C configs' exp and tanh as block functions: raddstoreexpminusmax storing y (no marks), and
// vtransform with s = c = 1 (s·x and c·tanh(t/c) are then x and tanh(t) exactly).
static void raddstore_y(xent_isa isa, size_t n, const float *x, float shift, float *y) {
    double sums[3];
    xent_ukernel_config_get(isa)->raddstoreexpminusmax(n, x, shift, NULL, y, 0, sums, n);
}
static void vexpminus_config_avx512f(size_t n, const float *x, float shift, float *y) {
    raddstore_y(XENT_ISA_AVX512F, n, x, shift, y);
}
static void vexpminus_config_avx2(size_t n, const float *x, float shift, float *y) {
    raddstore_y(XENT_ISA_AVX2, n, x, shift, y);
}
static void vtanh_config_avx512f(size_t n, const float *x, float *y) {
    xent_ukernel_config_get(XENT_ISA_AVX512F)->vtransform(n, x, y, 1.0f, 1.0f);
}
static void vtanh_config_avx2(size_t n, const float *x, float *y) {
    xent_ukernel_config_get(XENT_ISA_AVX2)->vtransform(n, x, y, 1.0f, 1.0f);
}
#endif

// The shim's block exps without prefetch streams (a hint only: it cannot change a result).
#if defined(__aarch64__)
static void shim_vexpminus_advsimd(size_t n, const float *x, float shift, float *y) {
    xent_f32_vexpminus__advsimd(n, x, shift, y, NULL);
}
#endif
static void shim_vexpminus_scalar(size_t n, const float *x, float shift, float *y) {
    xent_f32_vexpminus__scalar(n, x, shift, y, NULL);
}

typedef struct {
    const char *role;    // its outputs' name
    void *fn;            // a vexpminus_fn or a vtanh_fn
    int stored;          // a reference (x86): into the golden file
    const char *ref[2];  // compared with these (NULL: no more)
    xg_expect expect[2];
} block_run;

// The runs of this build, in order: x86 — SLEEF's canonical library function (AVX-512F's, else
// AVX2's: the same family) stored as "canonical", SLEEF's SSE2 function stored (canonical: information),
// xent_f32_v*__scalar stored and asserted equal to SSE2's, the C configs' exp or tanh asserted equal
// to canonical; aarch64 — xent_f32_v*__advsimd asserted equal to canonical (SSE2: information),
// xent_f32_v*__scalar asserted equal to x86's SSE2 and scalar ones.
static int block_runs(block_run *runs, int tanh) {
    int n = 0;
#if defined(__x86_64__)
    const int has512 = xent_isa_is_supported(XENT_ISA_AVX512F), has2 = xent_isa_is_supported(XENT_ISA_AVX2);
    void *const library = has512 ? (tanh ? (void *)vtanh_avx512f : (void *)vexpminus_avx512f)
                                 : (tanh ? (void *)vtanh_avx2 : (void *)vexpminus_avx2);
    if (has512 || has2) runs[n++] = (block_run){"canonical", library, 1, {NULL, NULL}, {XG_EQUAL, XG_EQUAL}};
    runs[n++] = (block_run){"x86.sse2", tanh ? (void *)vtanh_sse2 : (void *)vexpminus_sse2, 1,
                            {"canonical", NULL}, {XG_INFO, XG_EQUAL}};
    runs[n++] = (block_run){"x86.scalar", tanh ? (void *)xent_f32_vtanh__scalar : (void *)shim_vexpminus_scalar,
                            1, {"x86.sse2", NULL}, {XG_EQUAL, XG_EQUAL}};
    if (has512) {
        runs[n++] = (block_run){"x86.avx512f.config", tanh ? (void *)vtanh_config_avx512f
                                                           : (void *)vexpminus_config_avx512f,
                                0, {"canonical", NULL}, {XG_EQUAL, XG_EQUAL}};
    }
    if (has2) {
        runs[n++] = (block_run){"x86.avx2.config", tanh ? (void *)vtanh_config_avx2 : (void *)vexpminus_config_avx2, 0,
                                {"canonical", NULL}, {XG_EQUAL, XG_EQUAL}};
    }
#elif defined(__aarch64__)
    runs[n++] = (block_run){"a64.advsimd", tanh ? (void *)xent_f32_vtanh__advsimd : (void *)shim_vexpminus_advsimd,
                            0, {"canonical", "x86.sse2"}, {XG_EQUAL, XG_INFO}};
    runs[n++] = (block_run){"a64.scalar", tanh ? (void *)xent_f32_vtanh__scalar : (void *)shim_vexpminus_scalar,
                            0, {"x86.sse2", "x86.scalar"}, {XG_EQUAL, XG_EQUAL}};
#endif
    return n;
}

// Flat inputs, called in pieces of 1, 2, …, 70 elements (then again): specials, `planted` and their
// negatives, a quarter random bit patterns (every class), the rest uniform over [lo, hi).
static void gen_z(float *z, size_t n, uint64_t salt, double lo, double hi, const float *planted, size_t nplanted) {
    static const float special[] = {0.0f, -0.0f, INFINITY, -INFINITY, NAN, FLT_MAX, -FLT_MAX, FLT_MIN, 0x1p-149f,
                                    -0x1p-149f, 88.72283935546875f, 88.7228470f, -87.3365479f, -103.972076f,
                                    -104.0f, 100.0f, 8.66433907f, -8.66433907f, 0x1p-12f, 1.0f, -1.0f};
    uint64_t s = seed(salt);
    size_t i = 0;
    for (; i < sizeof special / sizeof special[0] && i < n; i++) z[i] = special[i];
    for (size_t k = 0; k < 2 * nplanted && i < n; k++) z[i++] = k < nplanted ? planted[k] : -planted[k - nplanted];
    for (; i < n; i++) {
        const uint64_t u = xg_rand(&s);
        z[i] = u % 4 == 0 ? from_bits((uint32_t)(u >> 16)) : (float)xg_uniform(&s, lo, hi);
    }
}

// exp's range (exp(x − shift) under- and overflows below −104 and above 88.7); tanh's (saturation
// near ±9), with 12 of the 488 positive floats whose tanh SLEEF's FMA and no-FMA functions round
// differently (976 of 2^32 with their negatives, all in ±[3.5e−4, 6.2]: an x86 scan; the random
// inputs meet a few in a million).
static void gen_z_exp(float *z, size_t n) { gen_z(z, n, 9, -110.0, 100.0, NULL, 0); }
static void gen_z_tanh(float *z, size_t n) {
    static const float fma_differs[] = {0x1.713762p-12f, 0x1.943f3ep-10f, 0x1.a52cb6p-9f, 0x1.944a0ep-4f,
                                        0x1.00fbfap-2f,  0x1.50bb42p-2f,  0x1.6f045cp-2f, 0x1.977ep-2f,
                                        0x1.140604p+0f,  0x1.b310dcp+0f,  0x1.36ce1cp+1f, 0x1.8bd194p+2f};
    gen_z(z, n, 10, -12.0, 12.0, fma_differs, sizeof fma_differs / sizeof fma_differs[0]);
}

static void in_pieces_of_70(size_t n, const float *z, float shift, void *fn, int tanh, float *y) {
    size_t piece = 1;
    for (size_t i = 0; i < n;) {
        const size_t m = n - i < piece ? n - i : piece;
        if (tanh) ((vtanh_fn)fn)(m, z + i, y + i); else ((vexpminus_fn)fn)(m, z + i, shift, y + i);
        i += m;
        piece = piece == 70 ? 1 : piece + 1;
    }
}

// exp(x − shift) over the rows, with the driver's shift (the row's max, or 0), 0, −80 (overflow
// for the larger logits) and 95 (subnormal and zero exps), into a separate buffer (a call with
// n = 0 at every row's end must leave the padding); then the flat inputs with shifts 0 and −0.5.
static void run_vexpminus(vexpminus_fn f, const float *x, const float *shift, const float *z, size_t nz, outs_t *o) {
    static const float shifts[] = {0.0f, -80.0f, 95.0f};
    char name[80];
    for (int v = 0; v < 4; v++) {
        if (v) {
            snprintf(name, sizeof name, "rows shift=%g", shifts[v - 1]);
        } else {
            snprintf(name, sizeof name, "rows shift=max");
        }
        float *y = outs_take(o, name, XG_F32, nbuf, L_BUF, 0);
        fill(y, 1234.5f);
        for (size_t r = 0; r < nrows; r++) {
            const size_t at = rows[r].pos, len = rows[r].len;
            f(len, x + at, v ? shifts[v - 1] : shift[r], y + at);
            f(0, x + at, 0.0f, y + at + len);
        }
    }
    for (int v = 0; v < 2; v++) {
        snprintf(name, sizeof name, "flat shift=%g, in pieces of 1…70", v ? -0.5 : 0.0);
        in_pieces_of_70(nz, z, v ? -0.5f : 0.0f, (void *)f, 0, outs_take(o, name, XG_F32, nz, L_FLAT, 0));
    }
}

// tanh over the rows and over the rows ÷ 8 (exact but for subnormals: more of them inside
// (−3, 3)), into a separate buffer (with the n = 0 calls) and in place; then the flat inputs.
static void run_vtanh(vtanh_fn f, const float *x, const float *x8, const float *z, size_t nz, outs_t *o) {
    char name[80];
    for (int v = 0; v < 4; v++) {
        const int inplace = v & 1;
        const float *src = v >> 1 ? x8 : x;
        snprintf(name, sizeof name, "rows %s %s", v >> 1 ? "x/8" : "x", inplace ? "in place" : "separate");
        float *y = outs_take(o, name, XG_F32, nbuf, L_BUF, 0);
        if (inplace) memcpy(y, src, nbuf * 4); else fill(y, 1234.5f);
        for (size_t r = 0; r < nrows; r++) {
            const size_t at = rows[r].pos, len = rows[r].len;
            f(len, inplace ? y + at : src + at, y + at);
            if (!inplace) f(0, src + at, y + at + len);
        }
    }
    in_pieces_of_70(nz, z, 0.0f, (void *)f, 1, outs_take(o, "flat, in pieces of 1…70", XG_F32, nz, L_FLAT, 0));
}

static void sleefblocks_section(xg_ctx *c, const char *tag, int tanh) {
    if (!xg_section(c, tag)) return;
    const float *x = input(c, "x", nbuf, gen_x);
    size_t nz;
    const float *z = xg_input_f32(c, "z", xg_scaled(c, (size_t)1 << 19), tanh ? gen_z_tanh : gen_z_exp, &nz);
    if (xg_mode_of(c) == XG_WRITE && !tanh) {
        // The driver's shift per row: the max (NaN ignored), or 0 when it is −inf.
        float *m = xg_alloc(nrows * 4);
        for (size_t r = 0; r < nrows; r++) {
            float v = -INFINITY;
            for (size_t i = 0; i < rows[r].len; i++) v = x[rows[r].pos + i] > v ? x[rows[r].pos + i] : v;
            m[r] = shift_of(v);
        }
        xg_put(c, "shift", XG_F32, m, nrows);
        free(m);
    }
    const float *shift = tanh ? NULL : stored(c, "shift", nrows);
    float *x8 = NULL;
    if (tanh) {
        x8 = xg_alloc(nbuf * 4);
        for (size_t i = 0; i < nbuf; i++) x8[i] = x[i] * 0.125f;
    }
    block_run runs[6];
    const int nruns = block_runs(runs, tanh);
    for (int i = 0; i < nruns; i++) {
        outs_t o = {0};
        if (tanh) {
            run_vtanh((vtanh_fn)runs[i].fn, x, x8, z, nz, &o);
        } else {
            run_vexpminus((vexpminus_fn)runs[i].fn, x, shift, z, nz, &o);
        }
        if (runs[i].stored) put_outs(c, &o, runs[i].role);
        for (int k = 0; k < 2 && runs[i].ref[k]; k++) {
            compare_outs(c, &o, runs[i].role, runs[i].ref[k], runs[i].expect[k], 0, x);
        }
        outs_free(&o);
    }
    free(x8);
}

// ---- xent_f64_log / exp / tanh --------------------------------------------------------------------

#define NF64 (3u << 15)  // per function

// Row sums S (log): the 8 sums where SLEEF's FMA and non-FMA logs differ (sleef_groups.c), then
// log-uniform in [1, 1e7], integers, 1 + k ulps, chunk sums in [1e−30, 1]; lifts (exp): [−200, 0],
// [−1e−3, 0], −745.5…−700, [0, 60]; tanh arguments: [−20, 20], [−1, 1], [−1e−4, 1e−4].
static void gen_f64(double *v, size_t n) {
    uint64_t s = seed(8);
    const size_t third = n / 3;
    static const double planted[] = {0x1.66da1a8ce6871p+0, 0x1.709150623aa8cp+0, 0x1.5594ba48decbbp+0,
                                     0x1.76b90347d9d3dp+0, 0x1.3a02eb35a98afp+1, 0x1.66ab50c63d08p+0,
                                     0x1.a065f071eb268p+0, 0x1.5b0b4840b70d7p+0, 1.0, 2.0, 1e7};
    for (size_t i = 0; i < sizeof planted / sizeof planted[0]; i++) v[i] = planted[i];
    for (size_t i = sizeof planted / sizeof planted[0]; i < third; i++) {
        const uint64_t u = xg_rand(&s) % 10;
        v[i] = u < 5 ? pow(10.0, xg_uniform(&s, 0.0, 7.0)) : u < 7 ? (double)(1 + xg_rand(&s) % 100000)
             : u < 8 ? 1.0 + (double)(xg_rand(&s) % 4096) * 0x1p-52 : pow(10.0, xg_uniform(&s, -30.0, 0.0));
    }
    for (size_t i = third; i < 2 * third; i++) {
        const uint64_t u = xg_rand(&s) % 10;
        v[i] = u < 6 ? xg_uniform(&s, -200.0, 0.0) : u < 8 ? xg_uniform(&s, -1e-3, 0.0) : u < 9 ? xg_uniform(&s, -745.5, -700.0)
             : xg_uniform(&s, 0.0, 60.0);
    }
    for (size_t i = 2 * third; i < n; i++) {
        const uint64_t u = xg_rand(&s) % 4;
        v[i] = u < 2 ? xg_uniform(&s, -20.0, 20.0) : u < 3 ? xg_uniform(&s, -1.0, 1.0) : xg_uniform(&s, -1e-4, 1e-4);
    }
}

static void run_f64(xent_isa isa, const double *v, size_t n, outs_t *o) {
    const size_t third = n / 3;
    double *y = outs_take(o, "xent_f64_log", XG_F64, third, L_FLAT, 0);
    size_t piece = 1;  // 1…7 doubles per call: the pairs and the odd one
    for (size_t i = 0; i < third;) {
        const size_t m = third - i < piece ? third - i : piece;
        xent_f64_log(isa, v + i, y + i, m);
        i += m;
        piece = piece == 7 ? 1 : piece + 1;
    }
    y = outs_take(o, "xent_f64_exp", XG_F64, third, L_FLAT, 0);
    for (size_t i = 0; i < third; i++) y[i] = xent_f64_exp(isa, v[third + i]);
    y = outs_take(o, "xent_f64_tanh", XG_F64, n - 2 * third, L_FLAT, 0);
    for (size_t i = 0; i < n - 2 * third; i++) y[i] = xent_f64_tanh(isa, v[2 * third + i]);
}

static void f64_section(xg_ctx *c) {
    if (!xg_section(c, "ukernel.f64")) return;
    size_t n;
    const double *v = xg_input_f64(c, "x", NF64, gen_f64, &n);
    isa_run runs[4];
    const int nruns = f64_runs(runs);
    for (int i = 0; i < nruns; i++) {
        outs_t o = {0};
        run_f64(runs[i].isa, v, n, &o);
        emit(c, &o, runs[i].role, runs[i].canonical, NULL);
        outs_free(&o);
    }
}

void xg_groups_ukernels(xg_ctx *c) {
    build_rows();
    if (xg_mode_of(c) == XG_WRITE) {
        size_t elements = 0;
        for (size_t r = 0; r < nrows; r++) elements += rows[r].len;
        printf("ukernel rows: %zu (%zu elements, buffer %zu floats)\n", nrows, elements, nbuf);
    }
    row_section(c, "ukernel.rmax", run_rmax, 'x');
    row_section(c, "ukernel.raddstoreexpminusmax", run_raddstore, 'x');
    row_section(c, "ukernel.rsumtargets", run_rsumtargets, 'x');
    row_section(c, "ukernel.vtransform", run_vtransform, 'x');
    row_section(c, "ukernel.vgradient", run_vgradient, 'e');
    row_section(c, "ukernel.vgradientsoftcap", run_vgradientsoftcap, 't');
    half_section(c);
    sleefblocks_section(c, "ukernel.sleefblocks.vexpminus", 0);
    sleefblocks_section(c, "ukernel.sleefblocks.vtanh", 1);
    f64_section(c);
}
