# shellcheck shell=bash
# A Debian trixie root with its Swift 6.0.3 (`swiftlang`), SLEEF (`libsleef-dev`) and OpenBLAS
# (`libopenblas-dev`, for XentLinear), for amd64 or
# arm64 (through qemu-user-static's binfmt handler), made once with mmdebstrap outside the
# repository and kept. Sourced, not run, by Scripts/swift-6.0-check.sh and
# Scripts/test-arm64-swift.sh, which call:
#
#   trixie_root ARCH [--rebuild]   makes or reuses the root: sets TRIXIE_ROOT (the directory:
#                                  $XENT_TRIXIE_ROOT, else /opt/xent-trixie-ARCH) and
#                                  TRIXIE_VERSIONS (swiftlang's and libsleef-dev's versions)
#   trixie_copy_tree               copies the repository's working tree (tracked and untracked
#                                  files that git does not ignore, so uncommitted edits count; no
#                                  .build directories) to $TRIXIE_ROOT/xent, after taking a lock
#                                  on the root that the calling script holds until it exits
#   trixie_run COMMAND             runs `sh -c COMMAND` in /xent inside the root, in a private mount
#                                  namespace and a network namespace with only the loopback
#                                  device (nothing can be fetched), with a clean environment plus
#                                  any `NAME=value` words in $TRIXIE_ENV; returns its exit status
#
# Needs root (mmdebstrap's root mode, chroot, mounts), bash and Debian's mirror
# ($XENT_TRIXIE_MIRROR, default http://deb.debian.org/debian); installs mmdebstrap if missing, for
# arm64 qemu-user-static and binfmt-support too, and enables the aarch64 handler. The root takes about 2.6 GB
# and 40 s to 2.5 min to make (amd64; arm64 about as long: mmdebstrap runs the maintainer scripts
# under qemu). Run from a Debian or Ubuntu host whose debian-archive-keyring knows trixie's keys
# (bookworm's 2023.3+deb12u2 does). Messages start with $trixie_who (the calling script's name).

# swiftlang does not pull in the C library's headers and start files (Scrt1.o, crti.o) or
# libstdc++, which the manifest's link and the C targets need.
trixie_packages=swiftlang,libsleef-dev,libopenblas-dev,pkg-config,libc6-dev,libstdc++-14-dev
trixie_repo=$(git -C "$(dirname "${BASH_SOURCE[0]}")/.." rev-parse --show-toplevel)

trixie_root() {
    local arch=$1 rebuild=${2:-} who=${trixie_who:-trixie-root} start
    local mirror=${XENT_TRIXIE_MIRROR:-http://deb.debian.org/debian}
    if [ "$(id -u)" -ne 0 ]; then
        echo "$who: needs root (mmdebstrap, chroot and mounts)" >&2
        return 2
    fi
    [ "$arch" = amd64 ] || [ "$arch" = arm64 ] || { echo "$who: --arch amd64 or arm64" >&2; return 2; }
    TRIXIE_ROOT=${XENT_TRIXIE_ROOT:-/opt/xent-trixie-$arch}
    [ "$rebuild" != --rebuild ] || rm -rf --one-file-system "$TRIXIE_ROOT"
    # The root is made once: `.xent-root-complete` (which names the packages) is written only after
    # mmdebstrap succeeded, so an interrupted run, or a changed package list, starts over.
    local made=0 need=""
    [ "$(cat "$TRIXIE_ROOT/.xent-root-complete" 2>/dev/null)" = "$trixie_packages" ] || made=1
    # What the host lacks, from Debian: mmdebstrap to make the root, qemu-user-static and
    # binfmt-support to run arm64 binaries.
    [ "$made" -eq 0 ] || command -v mmdebstrap >/dev/null || need=" mmdebstrap"
    if [ "$arch" = arm64 ] && [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] &&
        ! { command -v qemu-aarch64-static && command -v update-binfmts; } >/dev/null; then
        need="$need qemu-user-static binfmt-support"
    fi
    if [ -n "$need" ]; then
        echo "== installing on the host:$need"
        apt-get update -qq
        # shellcheck disable=SC2086  # a list of package names
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null
    fi
    if [ "$arch" = arm64 ]; then
        # Foreign binaries run through the kernel's binfmt_misc handler for aarch64 ELF files.
        if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
            mountpoint -q /proc/sys/fs/binfmt_misc || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
            # qemu-user-static registers its formats only if binfmt-support was there before it.
            update-binfmts --import qemu-aarch64 >/dev/null 2>&1 || true
            update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || true
        fi
        [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || {
            echo "$who: no binfmt handler for aarch64 (qemu-user-static)" >&2
            return 2
        }
    fi
    if [ "$made" -eq 1 ]; then
        rm -rf --one-file-system "$TRIXIE_ROOT"
        echo "== making the Debian trixie $arch root at $TRIXIE_ROOT (once)"
        start=$(date +%s)
        mmdebstrap --mode=root --variant=apt --architectures="$arch" --include="$trixie_packages" \
            trixie "$TRIXIE_ROOT" "$mirror" || return
        echo "root made in $(($(date +%s) - start)) s"
        echo "$trixie_packages" >"$TRIXIE_ROOT/.xent-root-complete"
    fi
    TRIXIE_VERSIONS=$(chroot "$TRIXIE_ROOT" dpkg-query -W -f='${Package} ${Version}\n' swiftlang libsleef-dev |
        paste -sd ' ')
    echo "== in the root: $TRIXIE_VERSIONS"
}

trixie_copy_tree() {
    local work=$TRIXIE_ROOT/xent
    # One user of /xent at a time: the lock (on fd 9) is held until the calling script exits, so a
    # second run waits instead of replacing the tree under the first one's build.
    exec 9>"$TRIXIE_ROOT/.xent-lock"
    if ! flock -n 9; then
        echo "== waiting for another run that uses $TRIXIE_ROOT"
        flock 9
    fi
    rm -rf --one-file-system "$work"
    mkdir -p "$work"
    git -C "$trixie_repo" ls-files -z --cached --others --exclude-standard |
        tar --create -C "$trixie_repo" --null --files-from=- --ignore-failed-read -f - 2>/dev/null | tar -x -C "$work"
}

# The toolchain needs /proc: glibc resolves the $ORIGIN of /usr/bin/swift's RUNPATH through
# /proc/self/exe (without it, libswiftCore.so is not found). The mounts vanish with the namespace.
trixie_run() {
    # shellcheck disable=SC2086  # TRIXIE_ENV is a list of words
    unshare --mount --net --fork bash -s "$TRIXIE_ROOT" "$1" ${TRIXIE_ENV:-} <<'INNER'
set -u
root=$1 command=$2
shift 2
mount --make-rprivate /
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
mount -t tmpfs tmpfs "$root/tmp"
ip link set lo up 2>/dev/null || true
exec chroot "$root" env -i PATH=/usr/bin:/bin HOME=/root LANG=C.UTF-8 "$@" sh -c "cd /xent && $command"
INNER
}
