#!/usr/bin/env bash
# Compares two commits' C micro-kernels in one process: compiles each commit's
# Sources/CXent/xent_ukernels__<isa>.c (in temporary git worktrees, clang -O2 as SwiftPM's release
# build), prefixes one object's symbols with A_ and the other's with B_, links both into
# Scripts/compare-kernels.c and calls the two builds' hot kernels (the max pass, the exp passes,
# the gradient passes; Float, binary16 and bfloat16) in alternation on the same L1-resident data.
# Per kernel: whether both give the same bits, each build's median ns per element, the median over
# the rounds of the ratio B/A (below 1: B is faster), its quartiles and the rounds B was faster.
#
#   Scripts/compare-kernels.sh A B [ROUNDS]
#
# Where Scripts/compare-builds.sh times whole calls of the suite (the row driver, the memory system
# and the host's load included), this isolates a kernel's own code: on a host whose load moves a
# suite run by more than a change, a difference of 2–3% in a kernel shows here. It says nothing
# about the calls around the kernels — confirm a change with compare-builds.sh. ROUNDS (default 41)
# is at least 1. The ISA is the CPU's best (avx512f, avx2_fma, else sse2); XENT_KERNEL_ISA=<suffix>
# picks another the CPU runs. Kernels whose signature differs between A and B cannot be compared
# (the prototypes are this tree's CXent.h); a kernel either commit lacks is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/opt/swift/usr/bin"
[ $# -ge 2 ] || { sed -n '2,18p' "$0"; exit 2; }
a=$1 b=$2 rounds=${3:-41}
[[ $rounds =~ ^[0-9]+$ ]] && [ "$rounds" -ge 1 ] || { echo "compare-kernels: ROUNDS must be at least 1" >&2; exit 2; }
[ "$(uname -m)" = x86_64 ] || { echo "compare-kernels: the C micro-kernels are x86-64's" >&2; exit 2; }
isa=${XENT_KERNEL_ISA:-sse2}
if [ -z "${XENT_KERNEL_ISA:-}" ]; then
    grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo && isa=avx2_fma
    grep -qw avx512f /proc/cpuinfo && isa=avx512f
fi
[ -f "Sources/CXent/xent_ukernels__$isa.c" ] || { echo "compare-kernels: no kernels for ISA '$isa'" >&2; exit 2; }

work=$(mktemp -d)
trap 'git worktree remove --force "$work/a" >/dev/null 2>&1 || true
      git worktree remove --force "$work/b" >/dev/null 2>&1 || true
      rm -rf "$work"' EXIT
# The toolchain's binary tools where it has them (Swift's ships llvm-nm and llvm-objcopy).
nm=$(command -v llvm-nm || command -v nm || true)
objcopy=$(command -v llvm-objcopy || command -v objcopy || true)
[ -n "$nm" ] && [ -n "$objcopy" ] || { echo "compare-kernels: needs nm and objcopy (LLVM's or binutils)" >&2; exit 2; }
: >"$work/undefined"
objects=()
for side in a b; do
    rev=${!side}
    git worktree add --detach "$work/$side" "$rev" >/dev/null 2>&1 ||
        { echo "compare-kernels: cannot check out '$rev'" >&2; exit 2; }
    echo "compiling $side = $rev ($(git -C "$work/$side" log -1 --format=%h)), $isa" >&2
    prefix=$(echo "$side" | tr ab AB)
    sources=("$work/$side/Sources/CXent/xent_ukernels__$isa.c")
    # AVX-512F's bfloat16 rounding with AVX512_BF16 is a file of its own.
    if [ "$isa" = avx512f ] && grep -qw avx512_bf16 /proc/cpuinfo &&
        [ -f "$work/$side/Sources/CXent/xent_ukernels__avx512bf16.c" ]; then
        sources+=("$work/$side/Sources/CXent/xent_ukernels__avx512bf16.c")
    fi
    side_objects=()
    for source in "${sources[@]}"; do
        side_objects+=("$work/$side-${#side_objects[@]}.o")
        clang -O2 -fPIC -c -I "$work/$side/Sources/CXent/include" "$source" -o "${side_objects[-1]}"
    done
    # Every symbol the side's objects define gets its prefix, in the objects that define it and in
    # those that use it, so the two builds link side by side.
    for object in "${side_objects[@]}"; do $nm -g --defined-only "$object"; done |
        awk -v p="${prefix}_" '{print $3, p $3}' >"$work/$side.syms"
    for object in "${side_objects[@]}"; do
        $objcopy --redefine-syms="$work/$side.syms" "$object"
        # What it still calls outside its build (SLEEF's library functions, for its own checks) is
        # never called here: a stub below.
        $nm -u "$object" | awk '$2 ~ /^xent_/ {print $2}' >>"$work/undefined"
    done
    objects+=("${side_objects[@]}")
done
sort -u "$work/undefined" | awk '{print "void " $1 "(void) { __builtin_trap(); }"}' >"$work/stubs.c"
# SSE2's kernels call SLEEF's library exp and tanh (the AVX ones inline them).
sleef_libs=$(pkg-config --libs sleef 2>/dev/null || echo -lsleef)
clang -O2 -DXENT_KERNEL_ISA="$isa" -I Sources/CXent/include Scripts/compare-kernels.c "$work/stubs.c" \
    "${objects[@]}" $sleef_libs -lm -o "$work/compare-kernels"
echo "A = $a, B = $b; $isa; $rounds rounds" >&2
"$work/compare-kernels" "$rounds"
