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
# SwiftPM builds the package. glibc has no <sys/sysctl.h> (xent_isa.c asks Darwin's sysctl about
# AVX-512): a header declaring Darwin's sysctlbyname stands in for it. The last line is
# `N xent_ symbols called, all defined` or lists the missing ones (exit status 1).
set -eu

cd "$(dirname "$0")/.."
if [ -z "${CC:-}" ]; then
    if [ -x /opt/swift/usr/bin/clang ]; then CC=/opt/swift/usr/bin/clang; else CC=clang; fi
fi
# llvm-nm reads Mach-O (GNU nm does not): Debian's llvm package or the Swift toolchain's.
NM="${NM:-$(command -v llvm-nm || echo /opt/swift/usr/bin/llvm-nm)}"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
multiarch=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
mkdir -p "$out/darwin/sys"
cat >"$out/darwin/sys/sysctl.h" <<'EOF'
#include <stddef.h>
int sysctlbyname(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen);
EOF

for source in Sources/CXent/*.c Sources/CXent/*.S; do
    "$CC" -target x86_64-apple-macos11 -O2 -U__nonnull -isystem "$out/darwin" -isystem "/usr/include/$multiarch" \
        -ISources/CXent/include -c "$source" -o "$out/$(basename "$source").o"
done

# nm outside a pipeline, so that its failure stops the script (GNU nm does not read Mach-O).
"$NM" -j -u "$out"/*.o >"$out/undefined"
"$NM" -j -g --defined-only "$out"/*.o >"$out/global"
grep '^_xent_' "$out/undefined" | sort -u >"$out/called" || true
grep '^_xent_' "$out/global" | sort -u >"$out/defined" || true
if [ ! -s "$out/called" ] || [ ! -s "$out/defined" ]; then
    echo "no _xent_ symbols read from the Mach-O objects: is $NM an nm that reads Mach-O (llvm-nm)?"
    exit 1
fi
missing=$(comm -23 "$out/called" "$out/defined")
if [ -n "$missing" ]; then
    echo "called but not defined in the Mach-O objects:" $missing
    exit 1
fi
echo "$(wc -l <"$out/called") xent_ symbols called, all defined"
