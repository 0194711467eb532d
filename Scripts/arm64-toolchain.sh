#!/bin/sh
# Installs what Scripts/test-arm64.sh needs to build the C shim for arm64 (AArch64, AdvSIMD) on an
# x86-64 Debian bookworm host and to run it there under user-mode QEMU:
#
#   qemu-user-static              qemu-aarch64-static, which runs aarch64 Linux binaries
#   libc6-dev-arm64-cross         the aarch64 C library, headers and loader in /usr/aarch64-linux-gnu
#   libgcc-12-dev-arm64-cross     crtbegin.o, libgcc for aarch64 in /usr/lib/gcc-cross (clang
#                                 --target=aarch64-linux-gnu finds both there)
#   SLEEF for arm64               libsleef3 and libsleef-dev 3.5.1 (arm64 .debs), unpacked with
#                                 dpkg-deb -x into $XENT_ARM64_ROOT (default /opt/xent-arm64)
#
# The cross packages are ordinary amd64 packages (Architecture: all / amd64), so nothing foreign
# is installed into the host. SLEEF's arm64 packages are only downloaded and unpacked: no
# `dpkg --add-architecture arm64` (installing libsleef3:arm64 would pull libc6:arm64, which must
# be exactly the host's libc6 version, and would leave the host multiarch). apt sees arm64 only
# for the one `update` and `download` below, through -o APT::Architectures; the next plain
# `apt-get update` drops those indices again.
#
# $XENT_ARM64_ROOT is outside the repository so that every worktree shares one copy and
# `git clean` never removes it; set XENT_ARM64_ROOT to put it elsewhere (a path inside the
# repository would need an entry in .gitignore).
#
# Idempotent: run it again and it does nothing (a second run takes well under a second). Needs
# root (uses sudo otherwise) and Debian's package repositories. Prints the paths at the end.
set -eu

root="${XENT_ARM64_ROOT:-/opt/xent-arm64}"
if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive

need_pkgs=""
command -v qemu-aarch64-static >/dev/null 2>&1 || command -v qemu-aarch64 >/dev/null 2>&1 ||
    need_pkgs="$need_pkgs qemu-user-static"
[ -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ] && [ -e /usr/aarch64-linux-gnu/include/stdio.h ] ||
    need_pkgs="$need_pkgs libc6-dev-arm64-cross"
ls /usr/lib/gcc-cross/aarch64-linux-gnu/*/crtbegin.o >/dev/null 2>&1 ||
    need_pkgs="$need_pkgs libgcc-12-dev-arm64-cross"
command -v dpkg-deb >/dev/null 2>&1 || { echo "arm64-toolchain.sh: needs dpkg-deb (Debian)" >&2; exit 1; }

sleef_lib="$root/usr/lib/aarch64-linux-gnu/libsleef.so.3"
sleef_inc="$root/usr/include/aarch64-linux-gnu/sleef.h"
need_sleef=0
[ -e "$sleef_lib" ] && [ -e "$sleef_inc" ] || need_sleef=1

if [ -n "$need_pkgs" ] || [ "$need_sleef" -eq 1 ]; then
    # One update serves both: the host's architectures plus arm64's indices for the download.
    host_arch="$(dpkg --print-architecture)"
    apt_arches="-o APT::Architectures::=$host_arch -o APT::Architectures::=arm64"
    # shellcheck disable=SC2086
    $sudo apt-get $apt_arches update -qq
    if [ -n "$need_pkgs" ]; then
        # shellcheck disable=SC2086
        $sudo apt-get install -y -qq --no-install-recommends $need_pkgs >/dev/null
    fi
    if [ "$need_sleef" -eq 1 ]; then
        tmp="$(mktemp -d)"
        # (As root, apt would warn that its _apt user cannot write into the private directory.)
        # shellcheck disable=SC2086
        (cd "$tmp" && $sudo apt-get $apt_arches -o APT::Sandbox::User=root download -qq libsleef3:arm64 libsleef-dev:arm64)
        $sudo mkdir -p "$root"
        for deb in "$tmp"/*.deb; do $sudo dpkg-deb -x "$deb" "$root"; done
        # Record what was unpacked (the versions), for the test's log.
        for deb in "$tmp"/*.deb; do dpkg-deb -W --showformat='${Package} ${Version} ${Architecture}\n' "$deb"; done |
            $sudo tee "$root/PACKAGES" >/dev/null
        rm -rf "$tmp"
    fi
fi

qemu="$(command -v qemu-aarch64-static || command -v qemu-aarch64)"
[ -e "$sleef_lib" ] && [ -e "$sleef_inc" ] && [ -x "$qemu" ] || { echo "arm64-toolchain.sh: install failed" >&2; exit 1; }
echo "qemu:    $qemu"
echo "sysroot: /usr/aarch64-linux-gnu"
echo "sleef:   $root ($(cat "$root/PACKAGES" 2>/dev/null | awk '{print $1":"$3"="$2}' | tr '\n' ' '))"
