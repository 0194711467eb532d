// Combining a row's chunks at the row max (xent_row_combine), inline: the ISA files' one-chunk
// rows call it where the chunk's sums are still in registers.
#ifndef XENT_ROW_COMBINE_H
#define XENT_ROW_COMBINE_H
#include "CXent.h"

#include <math.h>

static inline void xent_row_combine_inline(const xent_chunk_sums *chunks, size_t count, xent_row_sums *out) {
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

#endif

