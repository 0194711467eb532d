// OpenBLAS's CBLAS interface (cblas_sgemm, cblas_sgemv) and its thread control, for XentLinear.
// The include directory comes from pkg-config `openblas` (Debian: .../openblas-pthread/).
#ifndef XENT_CBLAS_H
#define XENT_CBLAS_H
#include <cblas.h>
#endif
