// AVX-512F with AVX512_BF16 (and AVX512DQ, for vfpclassps; every such CPU has it): the two kernels
// that round a gradient to bfloat16, with vcvtneps2bf16 and vcvtne2ps2bf16 (xent_f32x16__avx512f.h)
// instead of integer arithmetic; the same bits. The AVX-512F config takes them where the CPU has the
// extension and DAZ is clear (xent_isa.c); its other kernels are xent_ukernels__avx512f.c's.
#pragma clang fp contract(off)
#if defined(__x86_64__)
#define XENT_ISA_SUFFIX avx512bf16
#define XENT_TARGET __attribute__((target("avx512f,avx512dq,avx512bf16,prfchw")))
#define XENT_ROUND_BF16_AVX512BF16
#include "xent_f32x16__avx512f.h"

#define XENT_KERNELS 0
#include "xent_f32x16.h"

XENT_TARGET
void XENT_HALF_UKERNEL(bf16, vgradientround, u32)(size_t n, const float *y, const float *q, const float *w,
                                                  int smoothing, float a, float b, float d, int64_t label,
                                                  float label_term, uint16_t *dst, size_t prefetch_limit) {
    xent_vgradient(n, (float *)y, q, w, smoothing, a, b, d, (size_t)label, label_term, dst, prefetch_limit,
                   XENT_OUT_BF16);
}

// xent_half.c's bfloat16 round kernel (CXent.h: xent_half_round_ukernel_fn), a line of 16-bit values
// per iteration, each line asked for a chunk ahead below the prefetch limit.
XENT_TARGET
void XENT_HALF_UKERNEL(bf16, round, u32)(size_t n, const float *src, uint16_t *dst, size_t prefetch_limit) {
    const size_t prefetch_end = xent_prefetch_end(prefetch_limit);
    size_t i = 0;
    for (; i + XENT_HALF_LINE <= n; i += XENT_HALF_LINE) {
        if (i < prefetch_end) XENT_PREFETCHW(dst + i + XENT_PREFETCH_DISTANCE);
        xent_f32x16_round_bf16_store_pair(dst + i, xent_f32x16_load(src + i), xent_f32x16_load(src + i + 16));
    }
    for (; i + 16 <= n; i += 16) xent_u16x16_store(dst + i, xent_f32x16_round_bf16(xent_f32x16_load(src + i)));
    if (i < n) {
        xent_u16x16_store_tail(dst + i, n - i, xent_f32x16_round_bf16(xent_f32x16_load_tail(src + i, n - i, 0.0f)));
    }
}
#endif
