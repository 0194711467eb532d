// Every prefetch of every C micro-kernel (and of the block functions the Swift kernels prefetch
// through) stays inside the memory its caller gave: below `prefetch_limit` elements from each
// operand it may prefetch (CXent.h). The shim is built with its hints recorded (probe.h); each
// kernel runs over lengths and limits around the prefetch distance, and every recorded address
// must lie in one of the operands' [start, start + limit) ranges. A kernel whose limit leaves a
// chunk of room must also have prefetched something, so the check cannot pass by prefetching
// nothing at all.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "CXent.h"

enum { MAX_RECORDS = 1 << 20, MAX_RANGES = 4 };

static const void *records[MAX_RECORDS];
static size_t record_count;

void xent_probe_prefetch(const void *address, int rw) {
    (void)rw;
    if (record_count < MAX_RECORDS) records[record_count] = address;
    record_count++;
}

typedef struct range {
    const char *start;
    size_t bytes;
} range;

static int failures, checks;

// The recorded prefetches since the last call against `ranges`; `expect_some`: at least one.
static void check(const char *what, size_t n, size_t limit, const range *ranges, int nranges, int expect_some) {
    checks++;
    size_t outside = 0;
    const void *first = NULL;
    for (size_t r = 0; r < record_count && r < MAX_RECORDS; r++) {
        const char *p = records[r];
        int inside = 0;
        for (int k = 0; k < nranges; k++) {
            if (ranges[k].start && p >= ranges[k].start && p < ranges[k].start + ranges[k].bytes) inside = 1;
        }
        if (!inside && outside++ == 0) first = p;
    }
    if (outside || (expect_some && record_count == 0) || record_count > MAX_RECORDS) {
        failures++;
        if (failures <= 20) {
            printf("FAILED %s n=%zu limit=%zu: %zu of %zu prefetches outside the caller's memory (first %p)\n", what,
                   n, limit, outside, record_count, first);
        }
    }
    record_count = 0;
}

// Followed by more than a prefetch distance of floats that belong to no operand, so that a prefetch
// past one operand's limit cannot land in another's range and pass.
static void *zeroed(size_t bytes) {
    void *p = calloc(bytes + 4 * XENT_PREFETCH_DISTANCE * sizeof(float) + 64, 1);
    if (!p) abort();
    return p;
}

static void run_config(const xent_ukernel_config *k, const char *name) {
    static const size_t lengths[] = {1, 31, 32, 64, 100, 2048, 2049, 5000, 9000};
    static const size_t extras[] = {0, 1, 40, 2047, 2048, 2049, 3000};
    char what[128];
    for (size_t a = 0; a < sizeof lengths / sizeof *lengths; a++) {
        for (size_t b = 0; b < sizeof extras / sizeof *extras; b++) {
            const size_t n = lengths[a], limit = n + extras[b];
            // A chunk of room and a loop body long enough to prefetch in: something must be asked for.
            const int room = extras[b] >= XENT_PREFETCH_DISTANCE && n >= 64;
            float *x = zeroed(limit * 4), *q = zeroed(limit * 4), *y = zeroed(limit * 4), *w = zeroed(limit * 4);
            uint16_t *h = zeroed(limit * 2);
            double sums[6];
            float max;
            for (int soft = 0; soft < 2; soft++) {
                for (int store = 0; store < 3; store++) {  // none, separate, in place
                    float *out = store == 0 ? NULL : store == 1 ? y : x;
                    record_count = 0;
                    k->raddstoreexpminusmax(n, x, 0.0f, soft ? q : NULL, out, store == 1, sums, limit);
                    const range r[] = {{(char *)x, limit * 4}, {soft ? (char *)q : NULL, limit * 4},
                                       {out ? (char *)out : NULL, limit * 4}};
                    snprintf(what, sizeof what, "%s raddstoreexpminusmax soft=%d store=%d", name, soft, store);
                    check(what, n, limit, r, 3, room);
                    // The class weights are read, never prefetched: no range of theirs.
                    for (int form = 0; k->raddstoreexpminusmax_targets && form < 4; form++) {
                        const int weighted = form & 2, smoothing = form & 1;
                        record_count = 0;
                        k->raddstoreexpminusmax_targets(n, x, 0.0f, soft ? q : NULL, weighted ? w : NULL, smoothing,
                                                        out, sums, limit);
                        snprintf(what, sizeof what,
                                 "%s raddstoreexpminusmax_targets soft=%d w=%d smoothing=%d store=%d", name, soft,
                                 weighted != 0, smoothing, store);
                        check(what, n, limit, r, 3, room);
                    }
                    if (k->raddstoreexpscaledminusmax) {
                        record_count = 0;
                        k->raddstoreexpscaledminusmax(n, x, 0.5f, 0.0f, soft ? q : NULL, out, store == 1, sums, limit);
                        snprintf(what, sizeof what, "%s raddstoreexpscaledminusmax soft=%d store=%d", name, soft,
                                 store);
                        check(what, n, limit, r, 3, room);
                    }
                }
            }
            if (k->raddexpminusmax_rmaxnext) {
                // The forward exp pass with the next row's max (read, not prefetched), its logits
                // prefetched twice as far ahead: a limit of twice the extra room, so that some is.
                const size_t limit2 = n + 2 * extras[b];
                float *x2 = zeroed(limit2 * 4), *next = zeroed((n + 40) * 4);
                for (size_t next_n = n > 40 ? n - 40 : 1; next_n <= n + 40; next_n += 40) {
                    record_count = 0;
                    k->raddexpminusmax_rmaxnext(n, x2, 0.0f, sums, limit2, next, next_n, &max);
                    const range r[] = {{(char *)x2, limit2 * 4}};
                    snprintf(what, sizeof what, "%s raddexpminusmax_rmaxnext next_n=%zu", name, next_n);
                    check(what, n, limit2, r, 1, room);
                    if (k->raddexpscaledminusmax_rmaxnext) {
                        record_count = 0;
                        k->raddexpscaledminusmax_rmaxnext(n, x2, 0.5f, 0.0f, sums, limit2, next, next_n, &max);
                        snprintf(what, sizeof what, "%s raddexpscaledminusmax_rmaxnext next_n=%zu", name, next_n);
                        check(what, n, limit2, r, 1, room);
                    }
                }
                free(x2), free(next);
            }
            const range src_range[] = {{(char *)h, limit * 2}};
            const range dst_range[] = {{(char *)h, limit * 2}};
            xent_half_widen_ukernel_fn widen[] = {k->f16_widen, k->bf16_widen};
            xent_half_round_ukernel_fn round[] = {k->f16_round, k->bf16_round};
            xent_half_rmaxwiden_ukernel_fn rmaxwiden[] = {k->f16_rmaxwiden, k->bf16_rmaxwiden};
            xent_half_vgradientround_ukernel_fn vgradientround[] = {k->f16_vgradientround, k->bf16_vgradientround};
            xent_half_raddstoreexpminusmax_ukernel_fn raddstoreexpminusmax[] = {k->f16_raddstoreexpminusmax,
                                                                                k->bf16_raddstoreexpminusmax};
            uint16_t *g = zeroed(limit * 2);
            for (int f = 0; f < 2; f++) {
                const char *format = f ? "bf16" : "f16";
                widen[f](n, h, x, limit);
                snprintf(what, sizeof what, "%s %s_widen", name, format);
                check(what, n, limit, src_range, 1, room);
                round[f](n, x, h, limit);
                snprintf(what, sizeof what, "%s %s_round", name, format);
                check(what, n, limit, dst_range, 1, room);
                if (!rmaxwiden[f]) continue;  // no fused passes on this ISA
                rmaxwiden[f](n, h, x, &max, limit);
                snprintf(what, sizeof what, "%s %s_rmaxwiden", name, format);
                check(what, n, limit, src_range, 1, room);
                // The max alone (a prefetch limit of 0: nothing may be prefetched; else below it).
                rmaxwiden[f](n, h, NULL, &max, 0);
                snprintf(what, sizeof what, "%s %s_rmaxwiden max only", name, format);
                check(what, n, 0, src_range, 0, 0);
                rmaxwiden[f](n, h, NULL, &max, limit);
                snprintf(what, sizeof what, "%s %s_rmaxwiden max only, a limit", name, format);
                check(what, n, limit, src_range, 1, room);
                for (int soft = 0; soft < 2; soft++) {
                    for (int store = 0; store < 3; store++) {  // none, exps and gradient, exps alone
                        uint16_t *gradient = store == 1 ? g : NULL;
                        raddstoreexpminusmax[f](n, h, 0.0f, soft ? q : NULL, store ? y : NULL, gradient, sums, limit);
                        const range r[] = {{(char *)h, limit * 2},
                                           {soft ? (char *)q : NULL, limit * 4},
                                           {store ? (char *)y : NULL, limit * 4},
                                           {gradient ? (char *)gradient : NULL, limit * 2}};
                        snprintf(what, sizeof what, "%s %s_raddstoreexpminusmax soft=%d store=%d", name, format, soft,
                                 store);
                        check(what, n, limit, r, 4, room);
                    }
                }
                xent_half_raddexpminusmax_rmaxnext_ukernel_fn rmaxnext[] = {k->f16_raddexpminusmax_rmaxnext,
                                                                             k->bf16_raddexpminusmax_rmaxnext};
                if (rmaxnext[f]) {
                    // As the float form above (the next row read, not prefetched), with the same limits.
                    const size_t limit2 = n + 2 * extras[b];
                    uint16_t *h2 = zeroed(limit2 * 2), *next = zeroed((n + 40) * 2);
                    for (size_t next_n = n > 40 ? n - 40 : 1; next_n <= n + 40; next_n += 40) {
                        record_count = 0;
                        rmaxnext[f](n, h2, 0.0f, sums, limit2, next, next_n, &max);
                        const range r[] = {{(char *)h2, limit2 * 2}};
                        snprintf(what, sizeof what, "%s %s_raddexpminusmax_rmaxnext next_n=%zu", name, format, next_n);
                        check(what, n, limit2, r, 1, room);
                    }
                    free(h2), free(next);
                }
                for (int form = 0; form < 3; form++) {  // weights and smoothing, targets, neither
                    const int64_t label = form == 0 ? (int64_t)n - 1 : form == 1 ? (int64_t)(n / 2) : -1;
                    vgradientround[f](n, y, form < 2 ? q : NULL, form == 0 ? w : NULL, form == 0, 1.0f, 0.5f, 0.25f,
                                      label, 0.125f, h, limit);
                    snprintf(what, sizeof what, "%s %s_vgradientround form %d", name, format, form);
                    check(what, n, limit, dst_range, 1, room);
                }
            }
            free(x), free(q), free(y), free(w), free(h), free(g);
        }
    }
}

// The block function the portable Swift kernels prefetch through, on x86-64: its streams below
// their `limit` elements.
static void run_blocks(void) {
    static const size_t lengths[] = {1, 16, 17, 256};
    for (size_t a = 0; a < sizeof lengths / sizeof *lengths; a++) {
        for (size_t limit = 0; limit <= 300; limit += 7) {
            const size_t n = lengths[a];
            float *x = zeroed(n * 4), *y = zeroed(n * 4), *ahead = zeroed((limit + 1) * 4);
            xent_prefetch_ahead streams = {{ahead, ahead}, ahead, limit};
            record_count = 0;
            xent_f32_vexpminus__scalar(n, x, 0.0f, y, &streams);
            const range r[] = {{(char *)ahead, limit * 4}};
            check("xent_f32_vexpminus__scalar", n, limit, r, 1, limit > 0);
            free(x), free(y), free(ahead);
        }
    }
}

int main(void) {
    static const struct {
        xent_isa isa;
        const char *name;
    } isas[] = {{XENT_ISA_AVX512F, "avx512f"}, {XENT_ISA_AVX2, "avx2"}, {XENT_ISA_SSE2, "sse2"}};
    for (size_t i = 0; i < sizeof isas / sizeof *isas; i++) {
        if (!xent_isa_is_supported(isas[i].isa)) {
            printf("%s: not supported by this CPU, not checked\n", isas[i].name);
            continue;
        }
        // The CPU's config, and the ISA's own where an extension changes some of its kernels.
        const xent_ukernel_config *configs[] = {xent_ukernel_config_get(isas[i].isa),
                                                xent_ukernel_config_get_without_extensions(isas[i].isa)};
        for (int c = 0; c < 2 && (c == 0 || configs[1] != configs[0]); c++) {
            const int before = failures, checks_before = checks;
            const char *label = c == 0 && configs[1] != configs[0] ? "with extensions" : "";
            char name[64];
            snprintf(name, sizeof name, "%s%s%s", isas[i].name, *label ? " " : "", label);
            run_config(configs[c], name);
            printf("%s: %d kernel calls checked, %d failed\n", name, checks - checks_before, failures - before);
        }
    }
    run_blocks();
    printf("%d passed, %d failed\n", checks - failures, failures);
    return failures != 0;
}
