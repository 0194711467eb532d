#!/usr/bin/env bash
# Checks the manifest's `swift-tools-version:6.0` against a real Swift 6.0 toolchain: Debian
# trixie's `swiftlang` package (6.0.3). The first run makes a Debian trixie amd64 root with
# mmdebstrap (swiftlang, libsleef-dev, pkg-config, libc6-dev, libstdc++-14-dev) in a directory
# outside the repository and keeps it; every run copies the repository's working tree (tracked and
# untracked files that are not ignored, so uncommitted edits count) into the root and runs, inside
# it,
#
#   swift build                 # the library, its C targets and the demo
#   swift build --build-tests   # and the test target
#
# with no network (the manifest resolves no dependency). Each step's time is printed, and the script
# exits non-zero if either build fails, after printing the compiler's errors.
#
#   sudo Scripts/swift-6.0-check.sh                   # root at /opt/xent-trixie-amd64
#   sudo XENT_TRIXIE_ROOT=/srv/t Scripts/swift-6.0-check.sh
#   sudo Scripts/swift-6.0-check.sh --rebuild-root    # make the root again (e.g. for a newer swiftlang)
#   sudo Scripts/swift-6.0-check.sh --arch arm64 --test
#
# `--arch arm64` makes and uses an arm64 root (/opt/xent-trixie-arm64) instead, run through
# qemu-user-static's binfmt handler (the script installs qemu-user-static and binfmt-support and
# enables the handler): the whole Swift package — the Swift row driver over the AdvSIMD
# micro-kernels, not only the C shim that Scripts/test-arm64.sh checks — built and, with `--test`,
# tested on arm64 under emulation. Slow (tens of minutes), so not a CI step: an occasional check.
# `--test` runs `swift test` after the builds (amd64 or arm64); `--release` builds and tests with
# `-c release` (under emulation the debug test run takes far longer than the release build).
#
# Needs root (mmdebstrap's root mode, chroot, mounts), `mmdebstrap` (apt-get install mmdebstrap) and
# Debian's mirror; the root takes about 2.6 GB and 40 s to 2.5 min to make (the builds, 11 s each
# on an idle 2-core host, 35-45 s on a busy one). Run from a Debian or Ubuntu host whose
# debian-archive-keyring knows trixie's keys (bookworm's 2023.3+deb12u2 does).
set -euo pipefail
repo=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
mirror=${XENT_TRIXIE_MIRROR:-http://deb.debian.org/debian}
# swiftlang does not pull in the C library's headers and start files (Scrt1.o, crti.o) or libstdc++,
# which the manifest's link and the C targets need.
packages=swiftlang,libsleef-dev,pkg-config,libc6-dev,libstdc++-14-dev

if [ "$(id -u)" -ne 0 ]; then
    echo "swift-6.0-check: needs root (mmdebstrap, chroot and mounts)" >&2
    exit 2
fi
arch=amd64 test=0 rebuild=0 config=debug
while [ $# -gt 0 ]; do
    case $1 in
        --rebuild-root) rebuild=1 ;;
        --arch) arch=$2; shift ;;
        --test) test=1 ;;
        --release) config=release ;;
        *) echo "swift-6.0-check: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done
[ "$arch" = amd64 ] || [ "$arch" = arm64 ] || { echo "swift-6.0-check: --arch amd64 or arm64" >&2; exit 2; }
root=${XENT_TRIXIE_ROOT:-/opt/xent-trixie-$arch}
if [ "$arch" = arm64 ]; then
    # Foreign binaries run through the kernel's binfmt_misc handler for aarch64 ELF files.
    if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user-static binfmt-support >/dev/null
        mountpoint -q /proc/sys/fs/binfmt_misc || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
        update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || true
    fi
    [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || {
        echo "swift-6.0-check: no binfmt handler for aarch64 (qemu-user-static)" >&2
        exit 2
    }
fi
[ "$rebuild" -eq 0 ] || rm -rf --one-file-system "$root"

# The root, made once: `.xent-root-complete` (which names the packages) is written only after
# mmdebstrap succeeded, so an interrupted run, or a changed package list, starts over.
if [ "$(cat "$root/.xent-root-complete" 2>/dev/null)" != "$packages" ]; then
    command -v mmdebstrap >/dev/null || { echo "swift-6.0-check: apt-get install mmdebstrap" >&2; exit 2; }
    rm -rf --one-file-system "$root"
    echo "== making the Debian trixie $arch root at $root (once)"
    start=$(date +%s)
    mmdebstrap --mode=root --variant=apt --architectures="$arch" --include="$packages" \
        trixie "$root" "$mirror"
    echo "root made in $(($(date +%s) - start)) s"
    echo "$packages" >"$root/.xent-root-complete"
fi
versions=$(chroot "$root" dpkg-query -W -f='${Package} ${Version}\n' swiftlang libsleef-dev | paste -sd ' ')
echo "== in the root: $versions"

# A fresh copy of the working tree each run (no .build directories, nothing git ignores).
work=$root/xent
rm -rf --one-file-system "$work"
mkdir -p "$work"
git -C "$repo" ls-files -z --cached --others --exclude-standard |
    tar --create -C "$repo" --null --files-from=- --ignore-failed-read -f - 2>/dev/null | tar -x -C "$work"

# The builds, in a private mount namespace (the mounts vanish with it) and a network namespace with
# only the loopback device, so nothing can be fetched. The toolchain needs /proc: glibc resolves the
# $ORIGIN of /usr/bin/swift's RUNPATH through /proc/self/exe (without it, libswiftCore.so is not
# found).
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
unshare --mount --net --fork bash -s "$root" "$log" "$test" "$config" <<'INNER' || status=$?
set -uo pipefail
root=$1 log=$2 test=$3 config=$4
mount --make-rprivate /
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
mount -t tmpfs tmpfs "$root/tmp"
ip link set lo up 2>/dev/null || true
chroot "$root" swift --version 2>&1 | sed 's/^/   /'
status=0
steps=("swift build -c $config" "swift build -c $config --build-tests")
[ "$test" -eq 0 ] || steps+=("swift test -c $config --skip-build")
for step in "${steps[@]}"; do
    echo "== $step"
    start=$(date +%s)
    s=0
    chroot "$root" env -i PATH=/usr/bin:/bin HOME=/root LANG=C.UTF-8 \
        sh -c "cd /xent && $step" 2>&1 | tee -a "$log" | { grep -vE '^(◇|✔ Test case|✔ Test "|✔ Suite)' || true; } || s=$?
    echo "$step: exit $s in $(($(date +%s) - start)) s"
    [ "$s" -eq 0 ] || { status=$s; break; }
done
exit "$status"
INNER

if [ "$status" -ne 0 ]; then
    echo "== the compiler's errors (file:line:column: error: message)"
    grep -E '^/xent/[^ ]+:[0-9]+:[0-9]+: error: ' "$log" | sed 's|^/xent/||' | sort -u -t: -k1,1 -k2,2n -k3,3n || true
    echo "swift-6.0-check: FAILED with $versions" >&2
    exit "$status"
fi
echo "swift-6.0-check: OK on $arch, the package and its tests build$([ "$test" -eq 0 ] || echo " and pass") with $versions"
