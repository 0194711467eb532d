#!/bin/sh
# Builds the C shim with its prefetch hints recorded (Tests/CXentPrefetch/probe.h) and checks that
# every micro-kernel prefetches only inside the memory its caller gives it (its prefetch_limit,
# CXent.h), on every x86-64 ISA this CPU has. x86-64 only: arm64's micro-kernels are Swift, and
# their prefetches go through the block functions checked here. The last line is
# `N passed, M failed`; the exit status is nonzero on a failure.
set -eu
cd "$(dirname "$0")/.."
if [ -z "${CC:-}" ]; then
    if [ -x /opt/swift/usr/bin/clang ]; then CC=/opt/swift/usr/bin/clang; else CC=clang; fi
fi
out=.build-prefetch
mkdir -p "$out"
objs=""
for src in Sources/CXent/*.c; do
    obj="$out/$(basename "$src" .c).o"
    $CC -O2 -c -ISources/CXent/include -include Tests/CXentPrefetch/probe.h -o "$obj" "$src"
    objs="$objs $obj"
done
$CC -c -o "$out/xent_sleef_x86_64.o" Sources/CXent/xent_sleef_x86_64.S
# shellcheck disable=SC2086
$CC -O2 -Wall -Wextra -ISources/CXent/include -o "$out/prefetch-bounds" Tests/CXentPrefetch/prefetch_bounds.c \
    $objs "$out/xent_sleef_x86_64.o" -lsleef -lm -lpthread
"$out/prefetch-bounds"
