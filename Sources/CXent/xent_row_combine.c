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
    double sum = 0.0, sum_q = 0.0, sum_q_gap = 0.0;
    for (size_t c = 0; c < count; c++) {
        sum += chunks[c].sum * exp((double)chunks[c].shift - (double)max);
        sum_q += chunks[c].sum_q;
        sum_q_gap += chunks[c].sum_q_gap;
        if (chunks[c].sum_q != 0.0) sum_q_gap += chunks[c].sum_q * ((double)max - (double)chunks[c].shift);
    }
    out->max = max;
    out->sum = sum;
    out->sum_q = sum_q;
    out->sum_q_gap = sum_q_gap;
}

float xent_row_chunk_factor(const xent_row_sums *row, const xent_chunk_sums *chunk,
                            const xent_gradient_scales *scales, int soft_targets) {
    double p_coefficient = scales->p_scale * (soft_targets ? row->sum_q : 1.0);
    if (scales->p_lse_scale != 0.0) p_coefficient += scales->p_lse_scale * ((double)row->max + log(row->sum));
    const double numerator = p_coefficient / row->sum;
    return (float)(numerator * exp((double)chunk->shift - (double)row->max));
}
