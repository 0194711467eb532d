#!/usr/bin/env bash
# Compares two commits' C micro-kernels in one process: compiles each commit's
# Sources/CXent/xent_ukernels__<isa>.c (and, on AVX-512F with AVX512_BF16, xent_ukernels__avx512bf16.c)
# with the Swift toolchain's clang -O2, as SwiftPM's release build does; prefixes one build's symbols
# with A_, the other's with B_, and a second copy of A's with C_ (the control: the same code at other
# addresses); links the three into Scripts/compare-kernels.c and calls their hot kernels in turn on
# the same L1-resident data: the max passes (Float, binary16, bfloat16), the exp passes that store
# and the forward ones that take the next row's max (Float, binary16, bfloat16), and the gradient
# passes (Float's scaling, the 16-bit gradient and rounding). Per kernel: whether A and B write the
# same bits (and, for Float's gradient, whether A's is right), A's median ns per element, the median
# over the rounds of the ratio B/A (below 1: B is faster) with its quartiles and the rounds B was
# faster, and the median C/A.
#
#   Scripts/compare-kernels.sh A B [ROUNDS]
#
# Where Scripts/compare-builds.sh times whole calls of the suite (the row driver, the memory system
# and the host's load included), this isolates the kernels' own code, with no prefetch issued (the
# data is in L1). Read B/A against C/A: identical code moves by where it lies and by the host, and
# on a contended host by several percent for some kernels (the max passes by up to a quarter); a
# difference is B's only where B/A stands clear of C/A and of 1 across runs. Confirm a change with
# compare-builds.sh. ROUNDS (default 42: the six orders of the three builds, seven times) is 1 to
# 10000. The ISA is the CPU's best (avx512f, avx2_fma, else sse2); XENT_KERNEL_ISA=avx2_fma or sse2
# picks another the CPU runs (avx2_fma needs AVX2, FMA and F16C). Linux on x86-64; the commits must
# declare the kernels it calls as this tree's CXent.h does.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"  # the toolchain's clang, as SwiftPM's, ahead of a system one
[ $# -ge 2 ] || { sed -n '2,24p' "$0"; exit 2; }
a=$1 b=$2 rounds=${3:-42}
fail() { echo "compare-kernels: $*" >&2; exit 2; }
[[ $rounds =~ ^[0-9]{1,5}$ ]] && [ "$rounds" -ge 1 ] && [ "$rounds" -le 10000 ] || fail "ROUNDS must be 1 to 10000"
[ "$(uname -s)" = Linux ] && [ "$(uname -m)" = x86_64 ] || fail "the C micro-kernels compared are x86-64's, on Linux"
has() { grep -qw "$1" /proc/cpuinfo; }
isa=${XENT_KERNEL_ISA:-}
if [ -z "$isa" ]; then
    isa=sse2
    has avx2 && has fma && has f16c && isa=avx2_fma
    has avx512f && isa=avx512f
fi
case $isa in
    avx512f) has avx512f || fail "this CPU has no AVX-512F" ;;
    avx2_fma) { has avx2 && has fma && has f16c; } || fail "this CPU has no AVX2, FMA and F16C" ;;
    sse2) ;;
    *) fail "XENT_KERNEL_ISA must be avx512f, avx2_fma or sse2" ;;
esac
nm=$(command -v llvm-nm || command -v nm || true)
objcopy=$(command -v llvm-objcopy || command -v objcopy || true)
[ -n "$nm" ] && [ -n "$objcopy" ] || fail "needs nm and objcopy (LLVM's or binutils)"

# The prototypes of the kernels compare-kernels.c calls, whitespace folded, from a CXent.h.
prototypes() {
    local names='f32_rmax|f32_raddstoreexpminusmax|f32_raddexpminusmax_rmaxnext|f32_vgradient|half_rmaxwiden'
    names+='|half_raddstoreexpminusmax|half_raddexpminusmax_rmaxnext|half_vgradientround'
    # Comments dropped and spacing folded: a rewrapped or respaced declaration is the same one.
    sed -E 's://.*$::' | awk -v names="$names" '$0 ~ "^typedef .*\\(\\*xent_(" names ")_ukernel_fn\\)" {on = 1}
         on {printf "%s ", $0} on && /\) *;/ {print ""; on = 0}' | tr -s ' \t' '  ' | sed -E 's/ ?([(),;*]) ?/\1/g'
}
# AVX-512F's bfloat16 rounding with AVX512_BF16, a file of its own, where the CPU has the extension
# and both commits the file.
bf16=0
bf16_file=Sources/CXent/xent_ukernels__avx512bf16.c
if [ "$isa" = avx512f ] && has avx512_bf16 && git cat-file -e "$a:$bf16_file" 2>/dev/null &&
    git cat-file -e "$b:$bf16_file" 2>/dev/null; then
    bf16=1
fi
sleef_cflags=$(pkg-config --cflags sleef 2>/dev/null || true)  # SSE2's file includes <sleef.h>
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prototypes <Sources/CXent/include/CXent.h >"$work/prototypes"
undefined=()
objects=()
for side in a b; do
    rev=${!side}
    git rev-parse --verify --quiet "$rev^{commit}" >/dev/null || fail "'$rev' is not a commit"
    git cat-file -e "$rev:Sources/CXent/xent_ukernels__$isa.c" 2>/dev/null ||
        fail "$rev has no Sources/CXent/xent_ukernels__$isa.c"
    mkdir -p "$work/$side"
    git archive "$rev" Sources/CXent | tar -x -C "$work/$side"
    dir="$work/$side/Sources/CXent"
    prototypes <"$dir/include/CXent.h" | cmp -s - "$work/prototypes" ||
        fail "$rev declares a compared kernel unlike this tree's CXent.h: the program cannot call it"
    echo "compiling $side = $rev ($(git rev-parse --short "$rev")), $isa" >&2
    sources=("$dir/xent_ukernels__$isa.c")
    [ "$bf16" = 0 ] || sources+=("$dir/xent_ukernels__avx512bf16.c")
    built=()
    for source in "${sources[@]}"; do
        built+=("$work/$side-${#built[@]}.o")
        clang -O2 -fPIC -c -I "$dir/include" $sleef_cflags "$source" -o "${built[-1]}"
    done
    # A's objects again for the control, C.
    prefixes=$([ "$side" = a ] && echo "A C" || echo B)
    for prefix in $prefixes; do
        # Every symbol the side's objects define gets the prefix, where defined and where used.
        for object in "${built[@]}"; do "$nm" -g --defined-only "$object"; done |
            awk -v p="${prefix}_" '{print $3, p $3}' >"$work/$prefix.syms"
        for object in "${built[@]}"; do
            cp "$object" "$object.$prefix.o"
            "$objcopy" --redefine-syms="$work/$prefix.syms" "$object.$prefix.o"
            objects+=("$object.$prefix.o")
            while read -r symbol; do undefined+=("$symbol"); done < <("$nm" -u "$object.$prefix.o" | awk '{print $2}')
        done
    done
done
# What the kernels call outside their files: SLEEF's library functions (SSE2's exp and tanh), linked
# from libsleef, and the shim's assembly trampolines to them (xent_sleef_*, called only by the
# files' checks against the library, never here), stubbed with a trap. Any other symbol of the shim
# is refused; the C library's are the linker's.
stubs=() sleef=0
for symbol in "${undefined[@]}"; do
    case $symbol in
        xent_sleef_*) stubs+=("$symbol") ;;
        Sleef_*) sleef=1 ;;
        xent_*) fail "the kernels use $symbol from another file of the shim: not supported" ;;
    esac
done
for symbol in $(printf '%s\n' "${stubs[@]}" | sort -u); do echo "void $symbol(void) { __builtin_trap(); }"; done \
    >"$work/stubs.c"
libraries=(-lm)
[ "$sleef" = 0 ] || libraries+=($(pkg-config --libs sleef 2>/dev/null || echo -lsleef))
clang -O2 -DXENT_KERNEL_ISA="$isa" -DXENT_KERNEL_BF16="$bf16" -I Sources/CXent/include Scripts/compare-kernels.c \
    "$work/stubs.c" "${objects[@]}" "${libraries[@]}" -o "$work/compare-kernels"
echo "A = $a, B = $b, C = A again (the control); $isa; $rounds rounds" >&2
"$work/compare-kernels" "$rounds"
