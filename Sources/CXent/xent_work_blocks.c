// The blocks (or single items) of a loop shared by several threads, claimed as the threads come
// (Sources/Xent/Parallel.swift). Here in C for its atomics: Swift's (the Synchronization module)
// need macOS 15 or iOS 18, and the library is embedded in apps that run on older systems.
#include "CXent.h"

#include <stdatomic.h>

// The count is a size_t that Swift allocates and this file alone changes, atomically.
_Static_assert(sizeof(_Atomic size_t) == sizeof(size_t) && _Alignof(_Atomic size_t) == _Alignof(size_t),
               "an atomic size_t must be laid out as a size_t");

size_t xent_claim_block(size_t *claimed, size_t count, size_t workers, size_t minimum, size_t *first) {
    _Atomic size_t *shared = (_Atomic size_t *)claimed;
    // A block of 0 would end the loop with items left; no workers is one.
    if (minimum == 0) minimum = 1;
    if (workers == 0) workers = 1;
    size_t start = atomic_load_explicit(shared, memory_order_relaxed);
    for (;;) {
        if (start >= count) return 0;
        const size_t left = count - start;
        size_t length = left / 2 / workers;  // not left / (2·workers), which can wrap
        if (length < minimum) length = minimum;
        if (length > left) length = left;
        // Relaxed: the count only divides the items; what the threads write is published by the join
        // that ends the loop (Dispatch's concurrentPerform).
        if (atomic_compare_exchange_weak_explicit(shared, &start, start + length, memory_order_relaxed,
                                                  memory_order_relaxed)) {
            *first = start;
            return length;
        }
    }
}

size_t xent_claim_item(size_t *claimed) {
    // Relaxed, as above.
    return atomic_fetch_add_explicit((_Atomic size_t *)claimed, 1, memory_order_relaxed);
}
