// The micro-kernels' prefetches (CXent.h: XENT_PREFETCH_DISTANCE and the kernels'
// prefetch_limit), issued through one macro so that a test build can record them instead
// (Tests/CXentPrefetch checks that none leaves the memory its caller gave).
#ifndef XENT_PREFETCH_H
#define XENT_PREFETCH_H

#include <stddef.h>

#include "CXent.h"

/// A hint for the line at `p`, for reading (`rw` 0) or writing (`rw` 1), kept in every cache level.
#ifndef XENT_PREFETCH_HINT
#define XENT_PREFETCH_HINT(p, rw) __builtin_prefetch((p), (rw), 3)
#endif

/// A kernel prefetches the element XENT_PREFETCH_DISTANCE past element i only while i is below
/// this: that element is then below `prefetch_limit`, in the caller's memory.
static inline size_t xent_prefetch_end(size_t prefetch_limit) {
    return prefetch_limit > XENT_PREFETCH_DISTANCE ? prefetch_limit - XENT_PREFETCH_DISTANCE : 0;
}

#endif
