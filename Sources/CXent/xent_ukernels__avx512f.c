// AVX-512F's micro-kernels: xent_f32x16.h over the operations of xent_f32x16__avx512f.h.
// Before the operations: clang would otherwise fuse a·b + c where the target has FMA.
#pragma clang fp contract(off)
#if defined(__x86_64__)
#define XENT_ISA_SUFFIX avx512f
#define XENT_TARGET __attribute__((target("avx512f,prfchw")))
#define XENT_RMAXNEXT_F32 1
#define XENT_RMAXNEXT_HALF 1
#include "xent_f32x16__avx512f.h"

#include "xent_f32x16.h"
#endif
