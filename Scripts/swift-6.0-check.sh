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
# enables the handler): the whole Swift package — the Swift row driver over the Swift AdvSIMD
# micro-kernels, not only the C shim that Scripts/test-arm64.sh checks — built and, with `--test`,
# tested on arm64 under emulation (Scripts/test-arm64-swift.sh, in CI, compares its bits with
# x86's). Slow (tens of minutes), so not a CI step: an occasional check.
# `--test` runs `swift test` after the builds (amd64 or arm64); `--release` builds and tests with
# `-c release` (under emulation the debug test run takes far longer than the release build).
#
# The root is made and entered by Scripts/trixie-root.sh (shared with Scripts/test-arm64-swift.sh),
# whose header gives what it needs: root (mmdebstrap's root mode, chroot, mounts), `mmdebstrap`
# (apt-get install mmdebstrap) and Debian's mirror; the root takes about 2.6 GB and 40 s to 2.5 min
# to make (the builds, 11 s each on an idle 2-core host, 35-45 s on a busy one).
set -euo pipefail
trixie_who=swift-6.0-check
# shellcheck source=Scripts/trixie-root.sh
. "$(dirname "$0")/trixie-root.sh"

arch=amd64 test=0 rebuild="" config=debug
while [ $# -gt 0 ]; do
    case $1 in
        --rebuild-root) rebuild=--rebuild ;;
        --arch) arch=$2; shift ;;
        --test) test=1 ;;
        --release) config=release ;;
        *) echo "swift-6.0-check: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done
trixie_root "$arch" $rebuild
versions=$TRIXIE_VERSIONS
# A fresh copy of the working tree each run (no .build directories, nothing git ignores).
trixie_copy_tree

# The builds, with no network (the manifest resolves no dependency).
log=$(mktemp)
trap 'rm -f "$log"' EXIT
trixie_run "swift --version" 2>&1 | sed 's/^/   /'
status=0
# A release build of the tests compiles Xent for testing (some suites `@testable import Xent`).
testing=""
[ "$config" = debug ] || testing=" -Xswiftc -enable-testing"
steps=("swift build -c $config" "swift build -c $config --build-tests$testing")
[ "$test" -eq 0 ] || steps+=("swift test -c $config --skip-build$testing")
for step in "${steps[@]}"; do
    echo "== $step"
    start=$(date +%s)
    s=0
    trixie_run "$step" 2>&1 | tee -a "$log" | { grep -vE '^(◇|✔ Test case|✔ Test "|✔ Suite)' || true; } || s=$?
    echo "$step: exit $s in $(($(date +%s) - start)) s"
    [ "$s" -eq 0 ] || { status=$s; break; }
done

if [ "$status" -ne 0 ]; then
    echo "== the compiler's errors (file:line:column: error: message)"
    grep -E '^/xent/[^ ]+:[0-9]+:[0-9]+: error: ' "$log" | sed 's|^/xent/||' | sort -u -t: -k1,1 -k2,2n -k3,3n || true
    echo "swift-6.0-check: FAILED with $versions" >&2
    exit "$status"
fi
echo "swift-6.0-check: OK on $arch, the package and its tests build$([ "$test" -eq 0 ] || echo " and pass") with $versions"
