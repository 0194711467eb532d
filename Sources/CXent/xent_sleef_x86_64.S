// Pointer-taking loops around SLEEF's AVX2 and AVX-512 functions, so that no 256/512-bit vector
// ever crosses a C call boundary whose convention clang would pick from the baseline ISA: the
// library functions the kernels' inlined exp and tanh (xent_sleef_exp_inline.h,
// xent_sleef_tanh_inline.h) are tested against (xent_exp_mismatches, xent_tanh_mismatches).
//
// void NAME(const float *x /*rdi*/, float *y /*rsi*/, size_t nvec /*rdx*/)
// y = f(x), one vector per call (vector in and out in ymm0/zmm0, as SLEEF's own -mavx2/-mavx512f
// build expects). Every vector register is caller-saved in the System V ABI, so the pointers and
// the count live in rbx/r12/r13. No prefetch: the inputs are blocks in L1.
//
// ELF (Linux) and Mach-O (Intel macOS) differ in four places, named below: a C symbol's assembly
// name (Mach-O prefixes an underscore), how a symbol is kept inside the library (.hidden,
// .private_extern), the type and size that only ELF records, and a call into a shared library
// (through the PLT on ELF; Mach-O's linker makes the stub itself).
#if defined(__x86_64__) && (defined(__ELF__) || defined(__APPLE__))

#if defined(__APPLE__)
#define XENT_ASM_NAME(name) _##name
#define XENT_ASM_CALL(name) _##name
#define XENT_ASM_HIDE .private_extern
#else
#define XENT_ASM_NAME(name) name
#define XENT_ASM_CALL(name) name@PLT
#define XENT_ASM_HIDE .hidden
#endif

    .text

.macro XENT_MAP_LOOP name, sleef, reg, bytes
    .globl \name
    XENT_ASM_HIDE \name
#if defined(__ELF__)
    .type \name, @function
#endif
    .p2align 4
\name:
    .cfi_startproc
    pushq %rbx
    .cfi_adjust_cfa_offset 8
    .cfi_offset %rbx, -16
    pushq %r12
    .cfi_adjust_cfa_offset 8
    .cfi_offset %r12, -24
    pushq %r13
    .cfi_adjust_cfa_offset 8
    .cfi_offset %r13, -32              // three pushes: rsp is 16-byte aligned at each call
    movq %rdi, %rbx
    movq %rsi, %r12
    movq %rdx, %r13
    testq %r13, %r13
    jz 2f
1:
    vmovups (%rbx), \reg\()0
    call \sleef
    vmovups \reg\()0, (%r12)
    addq $\bytes, %rbx
    addq $\bytes, %r12
    decq %r13
    jnz 1b
2:
    popq %r13
    .cfi_adjust_cfa_offset -8
    popq %r12
    .cfi_adjust_cfa_offset -8
    popq %rbx
    .cfi_adjust_cfa_offset -8
    vzeroupper
    ret
    .cfi_endproc
#if defined(__ELF__)
    .size \name, .-\name
#endif
.endm

    XENT_MAP_LOOP XENT_ASM_NAME(xent_sleef_expf8_u10__avx2), XENT_ASM_CALL(Sleef_expf8_u10avx2), %ymm, 32
    XENT_MAP_LOOP XENT_ASM_NAME(xent_sleef_expf16_u10__avx512f), XENT_ASM_CALL(Sleef_expf16_u10avx512f), %zmm, 64
    XENT_MAP_LOOP XENT_ASM_NAME(xent_sleef_tanhf8_u10__avx2), XENT_ASM_CALL(Sleef_tanhf8_u10avx2), %ymm, 32
    XENT_MAP_LOOP XENT_ASM_NAME(xent_sleef_tanhf16_u10__avx512f), XENT_ASM_CALL(Sleef_tanhf16_u10avx512f), %zmm, 64

#endif

#if defined(__ELF__)
    .section .note.GNU-stack,"",@progbits
#endif
