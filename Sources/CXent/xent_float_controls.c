// The calling thread's floating-point controls, read and set, for the threads a call runs on
// (Sources/Xent/Parallel.swift). A thread starts with the controls of the thread that created it,
// so Dispatch's worker threads need not have the caller's flush-to-zero or rounding mode. Here in
// C because MXCSR and FPCR are reached only through intrinsics or assembly.
#include "CXent.h"

#if defined(__x86_64__)
#include <xmmintrin.h>

// MXCSR bits 0-5 are the exception flags; bit 6 (DAZ) and bits 7-15 (masks, rounding, FZ) control;
// the bits above are reserved (setting one faults).
static const unsigned xent_mxcsr_flags = 0x3F;
static const unsigned xent_mxcsr_controls = 0xFFC0;

uint64_t xent_float_controls(void) { return _mm_getcsr() & xent_mxcsr_controls; }

void xent_set_float_controls(uint64_t controls) {
    _mm_setcsr((_mm_getcsr() & xent_mxcsr_flags) | ((unsigned)controls & xent_mxcsr_controls));
}

#elif defined(__aarch64__)

uint64_t xent_float_controls(void) {
    uint64_t fpcr;
    __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
    return fpcr;
}

void xent_set_float_controls(uint64_t controls) { __asm__ volatile("msr fpcr, %0" : : "r"(controls)); }

#else

uint64_t xent_float_controls(void) { return 0; }

void xent_set_float_controls(uint64_t controls) { (void)controls; }

#endif
