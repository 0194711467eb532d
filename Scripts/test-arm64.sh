#!/bin/sh
# Builds the C shim (Sources/CXent/*.c) and the cross-ISA bit-check driver (Tests/CXentArm64) for
# x86-64 and for aarch64, writes the x86 results into a golden file and checks the aarch64
# results against it under qemu-aarch64 (Tests/CXentArm64/README.md).
#
# What the shim holds on arm64 is checked there: SLEEF's functions, the block functions the Swift
# micro-kernels call (xent_f32_vexpminus__advsimd / __scalar, xent_f32_vtanh__*) and xent_f64_*. The
# C micro-kernels are AVX-512F's and AVX2's only: their sections run on x86-64 alone (AVX2 asserted
# equal to AVX-512F) and are listed as `x86-64 only`; the Swift micro-kernels of AdvSIMD, SSE2 and
# the portable ISA are checked across architectures by Scripts/test-arm64-swift.sh.
#
#   Scripts/test-arm64.sh [driver options]     e.g. --only sleef.tanhf
#
# The compiler is $CC (default: /opt/swift/usr/bin/clang, else clang), with plain -O2 as SwiftPM
# builds the package: no -m flags and clang's default -ffp-contract=on (so a*b+c within one C
# expression may be fused, always on aarch64, on x86-64 only inside functions compiled for FMA).
# Installs the toolchain first if it is missing (Scripts/arm64-toolchain.sh: root or sudo).
# XG_SCALE=K multiplies the golden file's input counts by 2^K (e.g. -2 for a quick run).
# Everything is built in .build-arm64/ (ignored by git; the drivers' logs: write.log, check.log).
# After the check, the aarch64 driver's --exhaustive: AdvSIMD's exp block, whose exp the shim
# inlines, against Sleef_expf4_u10advsimd on all 2^32 inputs (8-11 min), then its tanh block against
# Sleef_tanhf4_u10advsimd in each rounding mode and the exp in the other three, on 2^26 inputs and
# 7682 edge patterns each (about 5 min; XENT_ROUNDING_SAMPLE_LOG2 below); not with driver options or a
# nonzero XG_SCALE. The last line is `N passed, M failed` (both drivers' asserted checks, the 15
# exhaustive checks, plus one failure per shim source that does not compile); exits non-zero if
# M > 0. The line before it gives each part's counts.
set -eu

cd "$(dirname "$0")/.."
root="${XENT_ARM64_ROOT:-/opt/xent-arm64}"
sysroot=/usr/aarch64-linux-gnu
if [ -z "${CC:-}" ]; then
    if [ -x /opt/swift/usr/bin/clang ]; then CC=/opt/swift/usr/bin/clang; else CC=clang; fi
fi
out=.build-arm64
mkdir -p "$out/x86_64" "$out/aarch64"

qemu="$(command -v qemu-aarch64-static || command -v qemu-aarch64 || true)"
if [ -z "$qemu" ] || [ ! -e "$root/usr/lib/aarch64-linux-gnu/libsleef.so.3" ] ||
    [ ! -e "$sysroot/lib/ld-linux-aarch64.so.1" ] || ! ls /usr/lib/gcc-cross/aarch64-linux-gnu/*/crtbegin.o >/dev/null 2>&1; then
    XENT_ARM64_ROOT="$root" sh Scripts/arm64-toolchain.sh
    qemu="$(command -v qemu-aarch64-static || command -v qemu-aarch64)"
fi

start=$(date +%s.%N)
elapsed() { echo "$(date +%s.%N) $1" | awk '{printf "%.1f s", $1 - $2}'; }

# The shim, file by file: a file that does not compile is reported and left out (the driver then
# links without the shim if the rest does not link).
failed_sources=""
compile_shim() {  # target, object directory, extra include flags
    objs=""
    for src in Sources/CXent/*.c; do
        obj="$2/$(basename "$src" .c).o"
        # shellcheck disable=SC2086
        if $CC --target="$1" -O2 -c -ISources/CXent/include $3 -o "$obj" "$src" 2>"$obj.log"; then
            objs="$objs $obj"
        else
            echo "COMPILE ERROR ($1): $src"
            sed 's/^/    /' "$obj.log"
            failed_sources="$failed_sources $1:$src"
        fi
    done
}

x86_target=x86_64-linux-gnu
a64_target=aarch64-linux-gnu
a64_inc="-isystem $root/usr/include/aarch64-linux-gnu"
a64_lib="-L$root/usr/lib/aarch64-linux-gnu -Wl,-rpath,$root/usr/lib/aarch64-linux-gnu"
driver_src="Tests/CXentArm64/driver.c Tests/CXentArm64/sleef_groups.c Tests/CXentArm64/ukernel_groups.c"
warn="-Wall -Wextra"

# x86-64: the shim (with its assembly), the driver, the golden file.
compile_shim $x86_target "$out/x86_64" ""
x86_objs="$objs"
$CC --target=$x86_target -c -o "$out/x86_64/xent_sleef_x86_64.o" Sources/CXent/xent_sleef_x86_64.S
x86_objs="$x86_objs $out/x86_64/xent_sleef_x86_64.o"
# shellcheck disable=SC2086
$CC --target=$x86_target -O2 $warn -ISources/CXent/include -o "$out/driver-x86_64" $driver_src $x86_objs \
    -lsleef -lm -lpthread
echo "built for x86-64: $(elapsed "$start")"
t=$(date +%s.%N)
# The counts of a driver's closing line `N passed, M failed` (empty if it has none: it crashed).
counts() { tail -n 1 "$1" | sed -n 's/^\([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed$/\1 \2/p'; }
# A failed x86 comparison still leaves a complete golden file: reported, counted, and the check goes on.
# shellcheck disable=SC2086
"$out/driver-x86_64" --write "$out/golden.bin" --scale "${XG_SCALE:-0}" "$@" >"$out/write.log" || true
x86_counts=$(counts "$out/write.log")
[ -n "$x86_counts" ] || { cat "$out/write.log"; echo "the x86-64 driver failed"; exit 1; }
grep -E ': FAILED$|^    ' "$out/write.log" || true
echo "golden file written ($(du -h "$out/golden.bin" | cut -f1)): $(elapsed "$t"); its x86 comparisons: $(tail -n 1 "$out/write.log")"

# aarch64: the same, checked under qemu.
t=$(date +%s.%N)
compile_shim $a64_target "$out/aarch64" "$a64_inc"
a64_objs="$objs"
# shellcheck disable=SC2086
if ! $CC --target=$a64_target -fuse-ld=lld -O2 $warn -ISources/CXent/include $a64_inc -o "$out/driver-aarch64" \
    $driver_src $a64_objs $a64_lib -lsleef -lm -pthread 2>"$out/link.log"; then
    echo "LINK ERROR (aarch64, with the shim):"
    sed 's/^/    /' "$out/link.log"
    failed_sources="$failed_sources aarch64:link"
    # shellcheck disable=SC2086
    $CC --target=$a64_target -fuse-ld=lld -O2 $warn $a64_inc -o "$out/driver-aarch64" $driver_src $a64_lib -lsleef -lm \
        -pthread
fi
echo "built for aarch64: $(elapsed "$t")"
t=$(date +%s.%N)
"$qemu" -L "$sysroot" "$out/driver-aarch64" --check "$out/golden.bin" "$@" >"$out/check.log" 2>&1 || true
sed '$d' "$out/check.log"
a64_counts=$(counts "$out/check.log")
echo "checked under $(basename "$qemu"): $(elapsed "$t"); total $(elapsed "$start")"
[ -n "$a64_counts" ] || { tail -n 1 "$out/check.log"; echo "the aarch64 driver failed"; a64_counts="0 1"; }
# The sections the aarch64 driver has nothing to run for (the C micro-kernels' are x86-64's only).
x86_only=$(sed -n 's/^\([^ :]*\): x86-64 only: .*/\1/p' "$out/check.log" | tr '\n' ' ')
[ -z "$x86_only" ] || echo "x86-64 only, not checked on aarch64 (arm64's kernels are Swift:" \
    "Scripts/test-arm64-swift.sh): $(echo $x86_only | wc -w) sections: $(echo $x86_only)"
# Every one of the 2^32 floats through AdvSIMD's exp block function, whose exp the shim inlines,
# against Sleef_expf4_u10advsimd: the bits the sampled sections above check, on every input
# (8-11 min under qemu on 2 threads); then AdvSIMD's tanh block function, whose tanh the shim
# inlines, against Sleef_tanhf4_u10advsimd in each of the four rounding modes, and the exp block in
# the other three, on 1 in 2^XENT_ROUNDING_SAMPLE_LOG2 inputs (default 6: 2^26 a mode, every sign,
# exponent and leading mantissa bits; the tanh 0.8-1.3 min a mode; 0 for all 2^32, 1-1.5 hours a
# mode) and on edge patterns a sample can miss (zeros, infinities, NaNs, each exponent's ends, the
# limits' neighbourhoods). Left out by driver options or a nonzero XG_SCALE: quick runs.
exhaustive_counts="0 0"
if [ $# -eq 0 ] && [ "${XG_SCALE:-0}" = 0 ]; then
    t=$(date +%s.%N)
    "$qemu" -L "$sysroot" "$out/driver-aarch64" --exhaustive 2 "${XENT_ROUNDING_SAMPLE_LOG2:-6}" \
        >"$out/exhaustive.log" 2>&1 || true
    grep -E '^ukernel' "$out/exhaustive.log" || true
    exhaustive_failed=$(tail -n 1 "$out/exhaustive.log" | sed -n 's/^\([0-9][0-9]*\) failed$/\1/p')
    if [ -z "$exhaustive_failed" ]; then
        tail -n 3 "$out/exhaustive.log"
        echo "the aarch64 exhaustive check failed"
        exhaustive_counts="0 1"
    else
        exhaustive_counts="$(grep -c '^ukernel.*: ok$' "$out/exhaustive.log" || true) $exhaustive_failed"
    fi
    echo "exhaustive under $(basename "$qemu"): $(elapsed "$t")"
fi
build_failures=$(echo $failed_sources | wc -w)
[ -z "$failed_sources" ] || echo "shim build failures:$failed_sources"
# The last line: the x86 and aarch64 drivers' asserted comparisons and the exhaustive checks
# together, a build failure counting as one failed check.
set -- $x86_counts $a64_counts $exhaustive_counts
passed=$(($1 + $3 + $5))
failed=$(($2 + $4 + $6 + build_failures))
echo "x86-64 $1 passed, $2 failed; aarch64 $3 passed, $4 failed; exhaustive $5 passed, $6 failed;" \
    "shim build failures $build_failures"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
