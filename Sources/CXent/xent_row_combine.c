// ISA-independent parts of a fused row: chunk lengths, combining chunks, the scaling factors.
#include "CXent.h"

#include <math.h>

size_t xent_row_chunk_length(size_t n) {
    if (n <= (size_t)XENT_ROW_CHUNK * XENT_ROW_MAX_CHUNKS) return XENT_ROW_CHUNK;
    const size_t chunk = (n + XENT_ROW_MAX_CHUNKS - 1) / XENT_ROW_MAX_CHUNKS;
    return (chunk + 63) / 64 * 64;
}

void xent_row_combine(const xent_chunk_sums *chunks, size_t count, xent_row_sums *out) {
    float max = -INFINITY;
    for (size_t c = 0; c < count; c++) {
        if (chunks[c].max > max) max = chunks[c].max;
    }
    // S = Σ_c S_c·exp(s_c − M) and Σ q·(M − x) = Σ_c [Σ q·(s_c − x) + Q_c·(M − s_c)]: every term
    // ≥ 0, so nothing cancels.
    double sum = 0.0, sum_q = 0.0, sum_q_gap = 0.0, unmasked = 0.0, sum_w = 0.0, sum_w_gap = 0.0;
    for (size_t c = 0; c < count; c++) {
        const double lift = (double)max - (double)chunks[c].shift;
        sum += chunks[c].sum * (lift == 0.0 ? 1.0 : exp(-lift));  // exp(0) = 1 exactly, without the call
        sum_q += chunks[c].sum_q;
        sum_q_gap += chunks[c].sum_q_gap;
        if (chunks[c].sum_q != 0.0) sum_q_gap += chunks[c].sum_q * lift;
        unmasked += chunks[c].unmasked;
        sum_w += chunks[c].sum_w;
        sum_w_gap += chunks[c].sum_w_gap;
        if (chunks[c].sum_w != 0.0) sum_w_gap += chunks[c].sum_w * lift;
    }
    // The argmax is that of the caller's logits: the first chunk holding their largest value
    // (a softcap can round distinct chunk maxima to the same transformed max).
    float max_x = -INFINITY;
    for (size_t c = 0; c < count; c++) {
        if (chunks[c].max_x > max_x) max_x = chunks[c].max_x;
    }
    out->argmax = -1;
    for (size_t c = 0; c < count; c++) {
        if (chunks[c].max_x == max_x && chunks[c].argmax >= 0) {
            out->argmax = chunks[c].argmax;
            break;
        }
    }
    out->max = max;
    out->sum = sum;
    out->sum_q = sum_q;
    out->sum_q_gap = sum_q_gap;
    out->unmasked = unmasked;
    out->sum_w = sum_w;
    out->sum_w_gap = sum_w_gap;
}

xent_row_spec xent_row_spec_offset(const xent_row_spec *spec, size_t offset) {
    xent_row_spec part = *spec;
    if (part.q) part.q += offset;
    if (part.w) part.w += offset;
    return part;
}

double xent_row_target_mass(const xent_row_sums *row, const xent_gradient_scales *scales, int soft_targets) {
    const double alpha = scales->smoothing;
    double mass = (1.0 - alpha) * (soft_targets ? row->sum_q : scales->label_weight);
    if (alpha != 0.0) mass += alpha / row->unmasked * row->sum_w;
    return mass;
}

float xent_row_smoothing_scale(const xent_row_sums *row, const xent_gradient_scales *scales) {
    return scales->smoothing != 0.0 ? (float)(scales->p_scale * scales->smoothing / row->unmasked) : 0.0f;
}

float xent_row_chunk_factor(const xent_row_sums *row, const xent_chunk_sums *chunk,
                            const xent_gradient_scales *scales, int soft_targets) {
    double p_coefficient = scales->p_scale * xent_row_target_mass(row, scales, soft_targets);
    if (scales->p_lse_scale != 0.0) p_coefficient += scales->p_lse_scale * ((double)row->max + log(row->sum));
    const double numerator = p_coefficient / row->sum;
    const double lift = (double)chunk->shift - (double)row->max;
    return (float)(lift == 0.0 ? numerator : numerator * exp(lift));  // exp(0) = 1 exactly
}
