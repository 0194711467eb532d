// Included first in every shim source of the probe build (Scripts/test-prefetch-bounds.sh): the
// kernels' prefetch hints become calls that record the address (xent_prefetch.h).
#include <stddef.h>

void xent_probe_prefetch(const void *address, int rw);
#define XENT_PREFETCH_HINT(p, rw) xent_probe_prefetch((const void *)(p), (rw))
