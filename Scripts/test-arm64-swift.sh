#!/usr/bin/env bash
# The Swift package on arm64, bit for bit against x86-64: NUMERICS.md promises the `.vector` kernel
# the same bits on AVX-512F, AVX2+FMA and arm64's AdvSIMD, and Scripts/test-arm64.sh checks only
# the C shim's micro-kernels; this checks the whole path — the public API, the Swift row driver,
# threads, 16-bit logits — through Tests/CrossPlatformBits, an executable that computes a fixed
# list of seeded batches with every option (1005 cases: labels and soft targets, ignore
# index, smoothing, class weights, z-loss, logit scale, softcap, gradient scale, divisor, every
# reduction, masked, NaN and +inf rows, every entry point and row output, Float, Float16 and
# BFloat16, 1 to 3 threads, 1 to 9000 classes and rows of ~70,000) and writes one line per case,
# its name and hashes of every output's bits.
#
#   1. the x86-64 golden file: the package built on this host (`swift` on PATH, -c release) writes
#      it with XENT_ISA=avx512 (avx2 where the CPU lacks AVX-512F), and XENT_ISA=avx2 checks it
#      here (the two canonical x86 ISAs must already agree);
#   2. the Debian trixie arm64 root (Swift 6.0.3, SLEEF 3.6.1), made once by Scripts/trixie-root.sh
#      (shared with Scripts/swift-6.0-check.sh) and run through qemu-user-static's binfmt handler;
#   3. the working tree copied into the root, Tests/CrossPlatformBits built there (-c release, as
#      the library ships; --debug for a debug build), with no network;
#   4. `cross-platform-bits check` there with XENT_ISA=advsimd: each mismatching case is printed
#      with the outputs that differ (loss, row losses, log-sum-exp, argmax, gradient), then
#      `N cases, all bits equal` or `M of N cases differ`;
#   5. (release builds) the guest instructions per element of 13 calls (instruction-probe, the
#      same package: Float, binary16 and bfloat16, labels and soft targets, the options), counted
#      exactly under qemu, against Tests/CrossPlatformBits/arm64-instructions.txt: more than 1.10x
#      a recorded count fails (25-40 s; Reports/2026-12-07_arm64-instruction-counts.txt). No
#      arm64 core is at hand to time the Swift kernels; a vector operation the compiler makes lane
#      by lane shows here as a multiple (it did: Reports/2026-12-06_arm64-swift-simd-instructions.txt).
#
# Each step's time is printed; the last line is `arm64-swift: N passed, M failed` (N cases
# checked on arm64, bits and counts; M cases that differ or exceed their count, or 1 if a step
# failed before its cases) and the exit status is non-zero if anything failed.
#
#   sudo Scripts/test-arm64-swift.sh                  # root at /opt/xent-trixie-arm64
#   sudo Scripts/test-arm64-swift.sh --rebuild-root   # make the root again
#   sudo Scripts/test-arm64-swift.sh --debug          # build with -c debug in the root
#
# Time from nothing, measured twice on this project's 2-core host while another build and a benchmark
# ran beside it (Reports/2026-12-02_arm64-swift-golden.log): making the root 557 and 648 s (dpkg
# unpacks swiftlang under qemu; later runs reuse the root), the x86-64 build 19-26 s and its two
# runs 1 s, the arm64 release build 480 and 527 s, the check 7-8 s: 18 and 20 min in all, so a CI
# step (.ci/run). A debug build is quicker to make (333 s) but its check takes 311 s, so release,
# which is what ships, is also the quicker.
# Needs root, Debian's mirror (for the root, mmdebstrap and qemu-user-static) and about 3 GB of
# disk. The golden file and the build and check logs go to .build-arm64-swift/.
set -euo pipefail
trixie_who=arm64-swift
# shellcheck source=Scripts/trixie-root.sh
. "$(dirname "$0")/trixie-root.sh"
cd "$(dirname "$0")/.."

rebuild="" config=release
while [ $# -gt 0 ]; do
    case $1 in
        --rebuild-root) rebuild=--rebuild ;;
        --debug) config=debug ;;
        *) echo "arm64-swift: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done

out=.build-arm64-swift
mkdir -p "$out"
golden=$out/golden-x86_64.txt
package=Tests/CrossPlatformBits
tool=.build/$config/cross-platform-bits
tool_probe=.build/$config/instruction-probe
total_start=$(date +%s)
step_start=0
begin() { echo "== $1"; step_start=$(date +%s); }
took() { echo "$1: $(($(date +%s) - step_start)) s"; }
failed() {
    echo "arm64-swift: $1" >&2
    echo "arm64-swift: 0 passed, 1 failed"
    exit 1
}

# 5. (below): each instruction-probe case run once under qemu-aarch64 with its trace on (from the host,
# the root as qemu's library prefix, the trace piped to Scripts/count-guest-instructions.py), its
# guest instructions per element against the count recorded in $budget: more than
# $budget_tolerance times that fails (a vector operation made lane by lane costs a multiple), fewer
# than 1/$budget_tolerance asks for the file to be updated. One line per case; under a failing one,
# the 8 symbols that executed most of its instructions.
budget=$package/arm64-instructions.txt
budget_tolerance=1.10
count_instructions() {
    local probe=$TRIXIE_ROOT/xent/$package/$tool_probe qemu names name recorded elements count
    qemu=$(command -v qemu-aarch64-static || command -v qemu-aarch64) ||
        { echo "no qemu-aarch64 to count with"; return 1; }
    [ -f "$budget" ] || { echo "no $budget"; return 1; }
    names=$("$qemu" -L "$TRIXIE_ROOT" "$probe" list) && [ -n "$names" ] ||
        { echo "instruction-probe list failed or listed nothing"; return 1; }
    # A recorded case the probe no longer has would never be checked.
    for name in $(awk '!/^#/ && NF {print $1}' "$budget"); do
        grep -qx "$name" <<<"$names" || echo "$name recorded in the file, not a case of instruction-probe FAILED"
    done
    for name in $names; do
        recorded=$(awk -v n="$name" '$1 == n {print $2}' "$budget")
        # One traced run: the trace (qemu's log, on stderr) counted, the case's own line
        # (`NAME RxC on advsimd: …`, on stdout) giving its element count and its ISA.
        count=$("$qemu" -L "$TRIXIE_ROOT" -E XENT_ISA=advsimd -d in_asm,exec,nochain "$probe" "$name" 2>&1 \
            >"$out/probe-stdout" | python3 Scripts/count-guest-instructions.py /dev/stdin) ||
            { echo "$name not counted ($(cat "$out/probe-stdout")) FAILED"; continue; }
        elements=$(sed -n 's/^[^ ]* \([0-9][0-9]*\)x\([0-9][0-9]*\) on advsimd: .*/\1 * \2/p' "$out/probe-stdout")
        [ -n "$elements" ] || { echo "$name did not run on advsimd ($(cat "$out/probe-stdout")) FAILED"; continue; }
        awk -v n="$name" -v c="$count" -v r="$recorded" -v t="$budget_tolerance" -v e="$((elements))" 'BEGIN {
            per = c / e
            if (r == "") { printf "%-32s %7.2f per element, none recorded in the file FAILED\n", n, per; exit }
            verdict = per > r * t ? sprintf("above %.2fx FAILED", t) : per < r / t ? "fewer: record them ok" : "ok"
            printf "%-32s %7.2f per element, recorded %6.2f (%.3fx) %s\n", n, per, r, per / r, verdict }' |
            tee "$out/probe-line"
        # Where a failing case's instructions went: its 8 busiest symbols.
        if grep -q FAILED "$out/probe-line"; then
            "$qemu" -L "$TRIXIE_ROOT" -E XENT_ISA=advsimd -d in_asm,exec,nochain "$probe" "$name" 2>&1 >/dev/null |
                python3 Scripts/count-guest-instructions.py --by-symbol /dev/stdin | sed -n 2,9p | cut -c1-150 |
                sed 's/^/    /'
        fi
    done
}

# 1. The golden file on x86-64.
if grep -qw avx512f /proc/cpuinfo && grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo; then
    isa=avx512
elif grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo; then
    isa=avx2
else
    failed "this CPU has no canonical x86 ISA (AVX-512F or AVX2+FMA) to write the golden file with"
fi
begin "x86-64: build $package (-c release, $(swift --version 2>&1 | head -1))"
swift build -c release --package-path "$package" >"$out/x86_64-build.log" 2>&1 ||
    { tail -30 "$out/x86_64-build.log"; failed "the x86-64 build failed"; }
took "x86-64 build"
begin "x86-64: write the golden file with XENT_ISA=$isa"
XENT_ISA=$isa "$package/.build/release/cross-platform-bits" write "$golden" || failed "the golden run failed"
if [ "$isa" = avx512 ]; then
    XENT_ISA=avx2 "$package/.build/release/cross-platform-bits" check "$golden" ||
        failed "AVX2 differs from AVX-512F on x86-64"
fi
took "x86-64 golden"

# 2. The root.
begin "arm64 root"
trixie_root arm64 $rebuild || failed "no arm64 root"
took "arm64 root"

# 3. The build in the root.
trixie_copy_tree
cp "$golden" "$TRIXIE_ROOT/xent/golden-x86_64.txt"
begin "arm64 (qemu): swift build -c $config --package-path $package"
trixie_run "swift build -c $config --package-path $package" >"$out/arm64-build.log" 2>&1 ||
    { tail -30 "$out/arm64-build.log"; failed "the arm64 build failed"; }
grep -E '^(Build complete|.*warning: .*Tests/CrossPlatformBits)' "$out/arm64-build.log" || true
took "arm64 build"

# 4. The check.
begin "arm64 (qemu): cross-platform-bits check golden-x86_64.txt (XENT_ISA=advsimd, -c $config)"
status=0
TRIXIE_ENV=XENT_ISA=advsimd trixie_run "$package/$tool check golden-x86_64.txt" 2>&1 |
    tee "$out/arm64-check.log" || status=$?
took "arm64 check"

# 5. Instructions per element (release only: the recorded counts are the release build's).
probe_passed=0 probe_failed=0
if [ "$config" = release ]; then
    begin "arm64 (qemu): instruction-probe, guest instructions per element against $budget"
    probe_status=0
    probe_out=$(count_instructions) || probe_status=$?
    echo "$probe_out"
    probe_passed=$(grep -c ' ok$' <<<"$probe_out" || true)
    probe_failed=$(grep -c ' FAILED' <<<"$probe_out" || true)
    [ "$probe_status" -eq 0 ] || [ "$probe_failed" -gt 0 ] || probe_failed=1  # it stopped before a case
    took "arm64 instructions"
fi
echo "total: $(($(date +%s) - total_start)) s"
summary=$(tail -n 1 "$out/arm64-check.log")
cases=$(grep -oE '^[0-9]+ cases, all bits equal' <<<"$summary" | grep -oE '^[0-9]+' || true)
if [ "$status" -eq 0 ] && [ -n "$cases" ]; then
    echo "arm64-swift: $((cases + probe_passed)) passed, $probe_failed failed"
    [ "$probe_failed" -eq 0 ] || exit 1
    exit 0
fi
differ=$(grep -oE '^[0-9]+ of [0-9]+ cases differ' <<<"$summary" || true)
if [ -n "$differ" ]; then
    read -r bad _ n _ <<<"$differ"
    echo "arm64-swift: $((n - bad + probe_passed)) passed, $((bad + probe_failed)) failed"
else
    echo "arm64-swift: the check did not run to the end (exit $status)" >&2
    echo "arm64-swift: 0 passed, $((1 + probe_failed)) failed"
fi
exit 1
