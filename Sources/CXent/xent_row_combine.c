// ISA-independent parts of a fused row: chunk lengths, combining chunks, the scaling factors.
#include "CXent.h"
#include "xent_row_combine.h"

#include <math.h>

size_t xent_row_chunk_length(size_t n) {
    if (n <= (size_t)XENT_ROW_CHUNK * XENT_ROW_MAX_CHUNKS) return XENT_ROW_CHUNK;
    const size_t chunk = (n + XENT_ROW_MAX_CHUNKS - 1) / XENT_ROW_MAX_CHUNKS;
    return (chunk + 63) / 64 * 64;
}

void xent_row_combine(const xent_chunk_sums *chunks, size_t count, xent_row_sums *out) {
    xent_row_combine_inline(chunks, count, out);
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
