// OpenBLAS's CBLAS interface for xent-bench's sgemm roofline (cblas_sgemm on the full shapes) and
// its thread control (openblas_set_num_threads). The include directory comes from pkg-config
// `openblas` (Debian: .../openblas-pthread/).
#ifndef XENT_BENCH_CBLAS_H
#define XENT_BENCH_CBLAS_H
#include <cblas.h>
#endif
