// The calling thread's CPU affinity mask, for the thread count a call chooses when `threads` is nil
// (Sources/Xent/AvailableCPUs.swift). Here in C because glibc declares sched_getaffinity and
// sched_setaffinity only under _GNU_SOURCE, which Swift's Glibc module is built without (and
// CPU_COUNT and the other CPU_* helpers are macros Swift cannot import). _GNU_SOURCE comes first:
// it must precede every system header, CXent.h's included.
#if defined(__linux__)
#define _GNU_SOURCE
#endif

#include "CXent.h"

#include <errno.h>
#include <stddef.h>

#if defined(__linux__)
#include <sched.h>
#endif

int xent_get_affinity(void *mask, size_t bytes) {
#if defined(__linux__)
    return sched_getaffinity(0, bytes, (cpu_set_t *)mask) == 0 ? 0 : errno;
#else
    (void)mask;
    (void)bytes;
    return ENOSYS;
#endif
}

int xent_set_affinity(const void *mask, size_t bytes) {
#if defined(__linux__)
    return sched_setaffinity(0, bytes, (const cpu_set_t *)mask) == 0 ? 0 : errno;
#else
    (void)mask;
    (void)bytes;
    return ENOSYS;
#endif
}
