#!/usr/bin/env bash
# Checks the code the compiler made of the x86-64 C micro-kernels, not their bits or their time: a
# vector operation the compiler turns into one instruction per lane keeps the bits (the tests pass)
# and the kernel's speed goes only where a benchmark looks. It has happened: clang folded a compare
# of widened binary16 values into a binary16 compare, which AVX-512F without AVX512-FP16 makes lane
# by lane (Reports/2026-12-07_half-smoothing-exp-pass.txt: the pass 7-10x slower, 168 scalar
# conversions and compares in it). Compiles REV's Sources/CXent/xent_ukernels__*.c (default: the
# working tree) as SwiftPM's release build does (the toolchain's clang, -O2), disassembles them, and
# per micro-kernel (a function named *_ukernel__*, its .cold parts counted with it) checks:
#
#   1. scalar floating-point instructions (add, sub, mul, div, min, max, compare, FMA, round and
#      conversions on one ss/sd lane) and lane moves (pextr, pinsr, extractps, insertps): at most
#      SCALAR_LIMIT (32) in all. A kernel's own are a horizontal reduction's last steps and a few
#      per-row constants; a vector operation made lane by lane adds at least one per lane (8 or 16)
#      each time it occurs (a one-lane vcvtph2ps cannot be told from a packed one, but the compares
#      and lane moves around it can).
#   2. a binary16 kernel has at most TWIN_LIMIT (1.25) times the instructions of its bfloat16 twin
#      (the same name with bf16 for f16, in the same file): the two are one template over different
#      widening, and only binary16 has a hardware type the compiler can fold into (bfloat16's
#      widening is a shift).
#
# Prints one line per kernel (instructions, scalar and lane instructions, the twin ratio) and the
# failures; the last line is `check-kernel-code: N kernels, M failed`, the exit status nonzero on a
# failure. Needs clang, SLEEF's header and objdump (LLVM's, else binutils'; OBJDUMP names another); any host
# (it compiles the kernels, never runs them).
#
#   Scripts/check-kernel-code.sh [REV]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"  # the toolchain's clang, as SwiftPM's, ahead of a system one
scalar_limit=${SCALAR_LIMIT:-32}
twin_limit=${TWIN_LIMIT:-1.25}
fail() { echo "check-kernel-code: $*" >&2; exit 2; }
[ $# -le 1 ] || { sed -n '2,26p' "$0"; exit 2; }
objdump=${OBJDUMP:-$(command -v llvm-objdump || command -v objdump || true)}
[ -n "$objdump" ] || fail "needs objdump (binutils' or LLVM's)"
command -v clang >/dev/null || fail "needs clang (the Swift toolchain's)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ $# -eq 1 ]; then
    git rev-parse --verify --quiet "$1^{commit}" >/dev/null || fail "'$1' is not a commit"
    git archive "$1" Sources/CXent | tar -x -C "$work"
    dir="$work/Sources/CXent"
else
    dir=Sources/CXent
fi
sleef_cflags=$(pkg-config --cflags sleef 2>/dev/null || true)  # SSE2's file includes <sleef.h>
sources=("$dir"/xent_ukernels__*.c)
[ -e "${sources[0]}" ] || fail "no Sources/CXent/xent_ukernels__*.c"
for source in "${sources[@]}"; do
    object="$work/$(basename "$source" .c).o"
    clang -O2 -fPIC -c -I "$dir/include" $sleef_cflags "$source" -o "$object"
    # Intel syntax: the mnemonic is the first word after the address (binutils' and LLVM's layouts).
    "$objdump" -d --no-show-raw-insn -M intel "$object" | awk -v file="$(basename "$source")" '
        /^[0-9a-f]+ <[^>]+>:$/ {
            name = substr($2, 2, length($2) - 3); sub(/\.cold(\.[0-9]+)?$/, "", name); next }
        /^ *[0-9a-f]+:[ \t]+[a-z]/ && name ~ /_ukernel__/ {
            line = $0; sub(/^ *[0-9a-f]+:[ \t]+/, "", line); split(line, word, /[ \t]+/); m = word[1]
            # (compares print with their predicate: cmpltss, vcmpneq_oqss)
            arithmetic = "^v?(add|sub|mul|div|min|max|ucomi|comi|cmp[a-z_]*|sqrt|rndscale|round"
            arithmetic = arithmetic "|fn?m(add|sub)[0-9]+)(ss|sd)$"
            scalar = m ~ arithmetic || m ~ /^v?cvt[a-z0-9]*(ss|sd)(2|$)/ || m ~ /^v?cvt[a-z0-9]*2(ss|sd)$/
            lane = m ~ /^v?(pextr[bwdq]|pinsr[bwdq]|extractps|insertps)$/
            # the alignment after a function (binutils prints a 2-byte nop as xchg ax,ax)
            padding = m ~ /^(nop|int3|data16|cs)$/ || line ~ /^xchg +ax, ?ax$/
            count[name] += !padding; odd[name] += scalar + lane; files[name] = file }
        END { for (k in count) print files[k], k, count[k], odd[k] }'
done | sort >"$work/kernels"
[ -s "$work/kernels" ] || fail "no micro-kernel found in the disassembly"
awk -v scalar_limit="$scalar_limit" -v twin_limit="$twin_limit" '
    { file[NR] = $1; name[NR] = $2; count[NR] = $3; odd[NR] = $4; index_of[$1 " " $2] = NR }
    END {
        failed = 0
        printf "%-66s %6s %6s %6s\n", "kernel", "instrs", "scalar", "×bf16"
        for (i = 1; i <= NR; i++) {
            bad = ""; ratio = "-"
            if (odd[i] > scalar_limit)
                bad = bad sprintf("; %d scalar or lane instructions (limit %d)", odd[i], scalar_limit)
            if (name[i] ~ /^xent_f16_/) {
                twin = name[i]; sub(/^xent_f16_/, "xent_bf16_", twin)
                j = index_of[file[i] " " twin]
                if (j) {
                    ratio = sprintf("%.2f", count[i] / count[j])
                    if (count[i] > twin_limit * count[j])
                        bad = bad sprintf("; %.2fx the instructions of %s (limit %.2fx)", \
                            count[i] / count[j], twin, twin_limit)
                }
            }
            printf "%-66s %6d %6d %6s%s\n", name[i], count[i], odd[i], ratio, bad == "" ? "" : "  FAILED"
            if (bad != "") { failed++; failures = failures sprintf("  %s (%s)%s\n", name[i], file[i], bad) }
        }
        if (failed) printf "failed:\n%s", failures
        printf "check-kernel-code: %d kernels, %d failed\n", NR, failed
        exit failed > 0
    }' "$work/kernels"
