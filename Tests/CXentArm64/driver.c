// The cross-ISA bit-check driver (golden.h): the golden file's format, the comparisons, main.
//
//   x86-64:  driver --write FILE [--scale K]   runs every group, writes the x86 results to FILE
//                                              (input counts times 2^K, default K = 0)
//            driver --exhaustive [T [all]]     SLEEF's x86 float functions on all 2^32 inputs
//                                              on T threads (all: the scalar ones too)
//   aarch64: driver --check FILE        runs every group, compares with FILE
//            driver --exhaustive [T [K]]  the shim's AdvSIMD exp block (its exp inlined) against
//                                       Sleef_expf4_u10advsimd on all 2^32 inputs, then its tanh
//                                       block (its tanh inlined) against Sleef_tanhf4_u10advsimd in
//                                       each rounding mode and the exp in the other three, on 1 in
//                                       2^K inputs (default K = 6; 0: all) and on edge patterns,
//                                       on T threads
//   both:    --only TAG                 runs only the sections whose tag starts with TAG
//
// Prints `N passed, M failed` last (plus the informational, skipped and x86-only counts); exits 1
// if M > 0.
//
// File format (little-endian, both targets): "XENTGLD1", then records. A section record is
// u32 1, u32 length, the tag; an array record is u32 2, u32 length, the name, u32 type,
// u64 count, the elements.
#include "golden.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define XG_MAX_ARRAYS 128

typedef struct {
    char name[64];
    xg_type type;
    size_t n;
    void *data;
    int owned;    // allocated here (else a pointer into the CHECK mode's file image)
} xg_array;

struct xg_ctx {
    xg_mode mode;
    FILE *file;                 // WRITE: the output
    unsigned char *image;       // CHECK: the whole file
    size_t image_size;
    const char *only;
    int scale;
    char section[128];
    int in_section;
    int local;                  // the current section is x86-only: kept in memory, never written
    xg_array arrays[XG_MAX_ARRAYS];
    int count;
    long passed, failed, skipped, info, x86_only;
};

static size_t xg_size(xg_type t) { return t == XG_F64 ? 8 : t == XG_F32 ? 4 : t == XG_U16 ? 2 : 1; }

void *xg_alloc(size_t bytes) {
    void *p = NULL;
    if (posix_memalign(&p, 64, bytes ? bytes : 64) != 0) {
        fprintf(stderr, "out of memory (%zu bytes)\n", bytes);
        exit(2);
    }
    return p;
}

uint64_t xg_rand(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

double xg_uniform(uint64_t *s, double lo, double hi) {
    return lo + (hi - lo) * ((double)(xg_rand(s) >> 11) * 0x1p-53);
}

xg_mode xg_mode_of(const xg_ctx *c) { return c->mode; }

size_t xg_scaled(const xg_ctx *c, size_t n) {
    n = c->scale >= 0 ? n << c->scale : n >> -c->scale;
    return n < 64 ? 64 : n / 64 * 64;
}

static void xg_clear(xg_ctx *c) {
    for (int i = 0; i < c->count; i++) {
        if (c->arrays[i].owned) free(c->arrays[i].data);
    }
    c->count = 0;
}

static void xg_write_record(xg_ctx *c, uint32_t kind, const char *name) {
    const uint32_t len = (uint32_t)strlen(name);
    fwrite(&kind, 4, 1, c->file);
    fwrite(&len, 4, 1, c->file);
    fwrite(name, 1, len, c->file);
}

// CHECK mode: loads the arrays of section `tag` (pointers into the image). 0 if absent.
static int xg_load_section(xg_ctx *c, const char *tag) {
    size_t at = 8;
    int found = 0;
    while (at + 8 <= c->image_size) {
        uint32_t kind, len;
        memcpy(&kind, c->image + at, 4);
        memcpy(&len, c->image + at + 4, 4);
        const char *name = (const char *)c->image + at + 8;
        at += 8 + len;
        if (kind == 1) {
            if (found) return 1;
            found = len == strlen(tag) && memcmp(name, tag, len) == 0;
        } else if (kind == 2) {
            uint32_t type;
            uint64_t n;
            memcpy(&type, c->image + at, 4);
            memcpy(&n, c->image + at + 4, 8);
            at += 12;
            if (found && c->count < XG_MAX_ARRAYS) {
                xg_array *a = &c->arrays[c->count++];
                snprintf(a->name, sizeof a->name, "%.*s", (int)len, name);
                a->type = (xg_type)type;
                a->n = (size_t)n;
                a->data = c->image + at;
                a->owned = 0;
            }
            at += (size_t)n * xg_size((xg_type)type);
        } else {
            fprintf(stderr, "golden file: bad record at %zu\n", at);
            exit(2);
        }
    }
    return found;
}

int xg_section(xg_ctx *c, const char *tag) {
    xg_clear(c);
    snprintf(c->section, sizeof c->section, "%s", tag);
    c->in_section = 0;
    c->local = 0;
    if (c->only && strncmp(tag, c->only, strlen(c->only)) != 0) return 0;
    if (c->mode == XG_WRITE) {
        xg_write_record(c, 1, tag);
    } else if (!xg_load_section(c, tag)) {
        printf("%s: not in the golden file: skipped\n", tag);
        c->skipped++;
        return 0;
    }
    c->in_section = 1;
    return 1;
}

int xg_section_x86_only(xg_ctx *c, const char *tag, const char *why) {
    xg_clear(c);
    snprintf(c->section, sizeof c->section, "%s", tag);
    c->in_section = 0;
    c->local = 0;
    if (c->only && strncmp(tag, c->only, strlen(c->only)) != 0) return 0;
    if (c->mode != XG_WRITE) {
        printf("%s: x86-64 only: %s\n", tag, why);
        c->x86_only++;
        return 0;
    }
    c->in_section = 1;
    c->local = 1;
    return 1;
}

void xg_skip(xg_ctx *c, const char *why) {
    if (!c->in_section) return;
    printf("%s: %s: skipped\n", c->section, why);
    c->skipped++;
}

void xg_put(xg_ctx *c, const char *name, xg_type type, const void *data, size_t n) {
    if (!c->in_section) return;
    if (c->count == XG_MAX_ARRAYS) {
        fprintf(stderr, "%s: too many arrays\n", c->section);
        exit(2);
    }
    xg_array *a = &c->arrays[c->count++];
    snprintf(a->name, sizeof a->name, "%s", name);
    a->type = type;
    a->n = n;
    a->data = xg_alloc(n * xg_size(type));
    memcpy(a->data, data, n * xg_size(type));
    a->owned = 1;
    if (c->mode != XG_WRITE || c->local) return;  // CHECK mode, x86-only sections: in memory only
    xg_write_record(c, 2, name);
    const uint32_t t = (uint32_t)type;
    const uint64_t count = n;
    fwrite(&t, 4, 1, c->file);
    fwrite(&count, 8, 1, c->file);
    fwrite(data, xg_size(type), n, c->file);
}

const void *xg_get(xg_ctx *c, const char *name, xg_type type, size_t *n) {
    for (int i = 0; i < c->count; i++) {
        if (strcmp(c->arrays[i].name, name) == 0 && c->arrays[i].type == type) {
            if (n) *n = c->arrays[i].n;
            return c->arrays[i].data;
        }
    }
    if (n) *n = 0;
    return NULL;
}

static const void *xg_input(xg_ctx *c, const char *name, xg_type type, size_t n, void (*gen)(void *, size_t),
                            size_t *n_out) {
    if (c->mode == XG_WRITE) {
        void *x = xg_alloc(n * xg_size(type));
        gen(x, n);
        xg_put(c, name, type, x, n);
        free(x);
    }
    const void *x = xg_get(c, name, type, n_out);
    if (!x) {
        fprintf(stderr, "%s: no input %s\n", c->section, name);
        exit(2);
    }
    return x;
}

const float *xg_input_f32(xg_ctx *c, const char *name, size_t n, xg_gen_f32 gen, size_t *n_out) {
    return xg_input(c, name, XG_F32, n, (void (*)(void *, size_t))gen, n_out);
}

const double *xg_input_f64(xg_ctx *c, const char *name, size_t n, xg_gen_f64 gen, size_t *n_out) {
    return xg_input(c, name, XG_F64, n, (void (*)(void *, size_t))gen, n_out);
}

// The distance in units in the last place between two finite values of the same sign
// (else a large number), for the mismatch lines.
static int64_t xg_ulps(xg_type type, const void *a, const void *b, size_t i) {
    if (type == XG_F32) {
        int32_t x, y;
        memcpy(&x, (const char *)a + 4 * i, 4);
        memcpy(&y, (const char *)b + 4 * i, 4);
        if ((x < 0) != (y < 0)) return INT64_MAX;
        return x > y ? (int64_t)x - y : (int64_t)y - x;
    }
    if (type == XG_F64) {
        int64_t x, y;
        memcpy(&x, (const char *)a + 8 * i, 8);
        memcpy(&y, (const char *)b + 8 * i, 8);
        if ((x < 0) != (y < 0)) return INT64_MAX;
        return x > y ? x - y : y - x;
    }
    return INT64_MAX;
}

static int xg_same(xg_type type, const void *a, const void *b, size_t i) {
    if (type == XG_F32) {
        float x, y;
        memcpy(&x, (const char *)a + 4 * i, 4);
        memcpy(&y, (const char *)b + 4 * i, 4);
        if (isnan(x) && isnan(y)) return 1;
        return memcmp(&x, &y, 4) == 0;
    }
    if (type == XG_F64) {
        double x, y;
        memcpy(&x, (const char *)a + 8 * i, 8);
        memcpy(&y, (const char *)b + 8 * i, 8);
        if (isnan(x) && isnan(y)) return 1;
        return memcmp(&x, &y, 8) == 0;
    }
    if (type == XG_U16) return ((const uint16_t *)a)[i] == ((const uint16_t *)b)[i];
    return ((const unsigned char *)a)[i] == ((const unsigned char *)b)[i];
}

static double xg_value(xg_type type, const void *p, size_t i) {
    if (type == XG_F32) return ((const float *)p)[i];
    if (type == XG_F64) return ((const double *)p)[i];
    if (type == XG_U16) return ((const uint16_t *)p)[i];
    return ((const unsigned char *)p)[i];
}

int64_t xg_compare(xg_ctx *c, const char *name, xg_type type, const void *data, size_t n, const char *ref,
                   xg_expect expect) {
    if (!c->in_section) return -1;
    size_t rn;
    const void *r = xg_get(c, ref, type, &rn);
    if (!r) {
        printf("%s: %s vs %s: no %s in the golden file: skipped\n", c->section, name, ref, ref);
        c->skipped++;
        return -1;
    }
    if (rn != n) {
        printf("%s: %s vs %s: lengths %zu and %zu: FAILED\n", c->section, name, ref, n, rn);
        c->failed++;
        return (int64_t)(n > rn ? n : rn);
    }
    size_t xn;
    const void *x = xg_get(c, "x", type, &xn);
    if (xn != n) x = NULL;
    int64_t mismatches = 0, max_ulps = 0;
    size_t shown = 0;
    for (size_t i = 0; i < n; i++) {
        if (xg_same(type, data, r, i)) continue;
        mismatches++;
        const int64_t u = xg_ulps(type, data, r, i);
        if (u > max_ulps) max_ulps = u;
        if (expect == XG_EQUAL && shown < 4) {
            shown++;
            if (x) {
                printf("    [%zu] x = %a (%.9g): %s %a, %s %a\n", i, xg_value(type, x, i), xg_value(type, x, i), name,
                       xg_value(type, data, i), ref, xg_value(type, r, i));
            } else {
                printf("    [%zu]: %s %a, %s %a\n", i, name, xg_value(type, data, i), ref, xg_value(type, r, i));
            }
        }
    }
    const char *verdict = expect == XG_INFO ? "info" : mismatches == 0 ? "ok" : "FAILED";
    if (mismatches == 0) {
        printf("%s: %s vs %s: 0 of %zu differ: %s\n", c->section, name, ref, n, verdict);
    } else if (max_ulps == INT64_MAX) {
        printf("%s: %s vs %s: %lld of %zu differ (sign or class differs): %s\n", c->section, name, ref,
               (long long)mismatches, n, verdict);
    } else {
        printf("%s: %s vs %s: %lld of %zu differ (max %lld ulp): %s\n", c->section, name, ref, (long long)mismatches, n,
               (long long)max_ulps, verdict);
    }
    if (expect == XG_INFO) {
        c->info++;
    } else if (mismatches == 0) {
        c->passed++;
    } else {
        c->failed++;
    }
    fflush(stdout);
    return mismatches;
}

// Every group, in order. A new file of groups adds its entry point here (and in golden.h).
static void (*const xg_groups[])(xg_ctx *) = {
    xg_groups_sleef,
    xg_groups_ukernels,
};

static void usage(void) {
    fprintf(stderr,
            "usage: driver --write FILE [--scale K] [--only TAG]   (x86-64: input counts times 2^K)\n"
            "       driver --check FILE [--only TAG]\n"
            "       driver --exhaustive [THREADS [all]]   (all: on x86-64, the scalar functions too)\n"
            "       driver --exhaustive [THREADS [K]]     (aarch64: the rounding modes' checks on 1 in 2^K\n"
            "                                             inputs, 0 <= K <= 16, default 6)\n"
            "       THREADS: 1 to 64, default 2\n");
    exit(2);
}

int main(int argc, char **argv) {
    xg_ctx c;
    memset(&c, 0, sizeof c);
    const char *path = NULL;
    int mode = -1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--write") == 0 && i + 1 < argc) {
            mode = XG_WRITE;
            path = argv[++i];
        } else if (strcmp(argv[i], "--check") == 0 && i + 1 < argc) {
            mode = XG_CHECK;
            path = argv[++i];
        } else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
            c.only = argv[++i];
        } else if (strcmp(argv[i], "--scale") == 0 && i + 1 < argc) {
            c.scale = atoi(argv[++i]);
            if (c.scale < -16 || c.scale > 8) usage();
        } else if (strcmp(argv[i], "--exhaustive") == 0) {
            long threads = 2;
            if (i + 1 < argc) {
                char *end;
                threads = strtol(argv[i + 1], &end, 10);
                if (*argv[i + 1] == '\0' || *end != '\0' || threads < 1 || threads > 64) usage();
            }
            int scalar_too = 0;
            long sample_log2 = 6;
            if (i + 2 < argc) {
#if defined(__x86_64__)
                if (strcmp(argv[i + 2], "all") != 0) usage();
                scalar_too = 1;
#else
                char *end;
                sample_log2 = strtol(argv[i + 2], &end, 10);
                if (*argv[i + 2] == '\0' || *end != '\0' || sample_log2 < 0 || sample_log2 > 16) usage();
#endif
            }
            return xg_exhaustive_sleef((int)threads, scalar_too, (unsigned)sample_log2) == 0 ? 0 : 1;
        } else {
            usage();
        }
    }
    if (mode < 0) usage();
    c.mode = (xg_mode)mode;
#if !defined(__x86_64__)
    if (c.mode == XG_WRITE) {
        fprintf(stderr, "--write: the golden file holds x86-64 results; build the driver for x86-64\n");
        return 2;
    }
#endif
    if (c.mode == XG_WRITE) {
        c.file = fopen(path, "wb");
        if (!c.file) {
            perror(path);
            return 2;
        }
        fwrite("XENTGLD1", 1, 8, c.file);
    } else {
        FILE *f = fopen(path, "rb");
        if (!f) {
            perror(path);
            return 2;
        }
        fseek(f, 0, SEEK_END);
        c.image_size = (size_t)ftell(f);
        fseek(f, 0, SEEK_SET);
        c.image = xg_alloc(c.image_size);
        if (fread(c.image, 1, c.image_size, f) != c.image_size || c.image_size < 8 ||
            memcmp(c.image, "XENTGLD1", 8) != 0) {
            fprintf(stderr, "%s: not a golden file\n", path);
            return 2;
        }
        fclose(f);
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (size_t g = 0; g < sizeof xg_groups / sizeof xg_groups[0]; g++) xg_groups[g](&c);
    xg_clear(&c);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (c.file && fclose(c.file) != 0) {
        perror(path);
        return 2;
    }
    printf("(%s, %.1f s; %ld informational, %ld skipped, %ld sections x86-64 only)\n",
           c.mode == XG_WRITE ? "written" : "checked",
           (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec), c.info, c.skipped, c.x86_only);
    printf("%ld passed, %ld failed\n", c.passed, c.failed);
    return c.failed ? 1 : 0;
}
