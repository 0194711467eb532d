#!/bin/sh
# Compiles the C shim (Sources/CXent: every .c and the .S) as Mach-O objects for Intel macOS and
# checks that every xent_ symbol one of them calls is defined by another: what the macOS linker
# would need from the shim itself. No macOS SDK here, so the C library's headers are this machine's
# glibc ones (clang's Apple target predefines __nonnull as a nullability keyword, where glibc
# defines a macro of that name: it is undefined first); the objects are never linked or run.
#
#   Scripts/check-macho-symbols.sh
#
# The compiler is $CC (default: /opt/swift/usr/bin/clang, else clang), at -O2 with no -m flags, as
# SwiftPM builds the package. The last line is `N xent_ symbols called, all defined` or lists the
# missing ones (exit status 1).
set -eu

cd "$(dirname "$0")/.."
if [ -z "${CC:-}" ]; then
    if [ -x /opt/swift/usr/bin/clang ]; then CC=/opt/swift/usr/bin/clang; else CC=clang; fi
fi
NM="${NM:-$(command -v llvm-nm || echo /opt/swift/usr/bin/llvm-nm)}"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
multiarch=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)

for source in Sources/CXent/*.c Sources/CXent/*.S; do
    "$CC" -target x86_64-apple-macos11 -O2 -U__nonnull -isystem "/usr/include/$multiarch" \
        -ISources/CXent/include -c "$source" -o "$out/$(basename "$source").o"
done

"$NM" -j -u "$out"/*.o | grep '^_xent_' | sort -u >"$out/called"
"$NM" -j -g --defined-only "$out"/*.o | grep '^_xent_' | sort -u >"$out/defined"
missing=$(comm -23 "$out/called" "$out/defined")
if [ -n "$missing" ]; then
    echo "called but not defined in the Mach-O objects:" $missing
    exit 1
fi
echo "$(wc -l <"$out/called") xent_ symbols called, all defined"
