#!/usr/bin/env bash
# Runs the test suite under AddressSanitizer (+ UndefinedBehaviorSanitizer on the C shim) and
# under ThreadSanitizer; fails on any sanitizer report or test failure.
#
#   Scripts/sanitizers.sh [asan|tsan|all] [swift test options…, e.g. --filter Thread]
#
# Each sanitizer builds in its own scratch directory (.build-asan, .build-tsan). Measured on the
# 2-core CI machine (Swift 6.3.1, 61 tests): ASan+UBSan ~50 s build + 21 s tests, TSan ~50 s
# build + 66 s tests.
#
# Choices, and why:
# - Release (-c release). A debug build under ASan had not finished its first test function
#   after 13 minutes (the Double-truth checks of the 1,048,576-class tests in unoptimized Swift);
#   release runs the whole suite in ~21 s. The sanitizers instrument optimized code just the same
#   (Swift keeps its bounds and overflow traps in -O). -enable-testing: the suites that test the
#   micro-kernels one by one (SIMDKernelTests, ShimTests…) `@testable import Xent`, which a release
#   build allows only when Xent is compiled for testing.
# - UBSan on C only. swiftc refuses -sanitize=undefined on Linux ("unsupported option
#   '-sanitize=undefined' for target 'x86_64-unknown-linux-gnu'"), so it is passed to clang
#   for the CXent shim (-Xcc -fsanitize=undefined, no recovery) in the ASan build; the ASan
#   runtime carries UBSan's handlers, so one run does both. Swift code traps on overflow and
#   out-of-bounds accesses by itself.
# - --disable-xctest. The suite is Swift Testing only; the empty XCTest pass that swift test
#   also runs makes LeakSanitizer report XCTest's own objects at exit (libXCTest's SuiteRun),
#   which is not Xent's memory.
# - SWIFT_BACKTRACE=enable=no. On a sanitizer abort the Swift runtime's backtracer attaches to
#   the instrumented process and was seen spinning for over 10 minutes instead of exiting.
# - The whole suite under TSan, not a filter: threads run in ThreadTests, ThreadOptionTests,
#   ArgmaxTests, TransformTests, PropertyTests, HalfPrecisionTests and HostileInputTests, and the
#   whole run takes about a minute. Pass `--filter Thread` to run only the thread suites.
# - No suppressions. SLEEF (a system library) and the shim's assembly loops
#   (xent_sleef_x86_64.S) are not instrumented: ASan and TSan do not see the loads and stores
#   they make themselves (a blind spot, not a source of false reports), while every buffer the
#   C and Swift code hands them is allocated and checked in instrumented code. Neither sanitizer
#   reported anything from them, so nothing is suppressed.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
export SWIFT_BACKTRACE=enable=no
# allocator_may_return_null: an allocation the sanitizer's allocator refuses returns NULL, as
# malloc does (a test asks for a workspace of terabytes and expects the refusal as a typed error).
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=1:detect_stack_use_after_return=1"
ASAN_OPTIONS+=":check_initialization_order=1:strict_init_order=1:allocator_may_return_null=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export TSAN_OPTIONS="halt_on_error=1:abort_on_error=1:second_deadlock_stack=1:allocator_may_return_null=1"

which="${1:-all}"
[ $# -gt 0 ] && shift
case "$which" in asan|tsan|all) ;; *) sed -n '2,6p' "$0"; exit 2 ;; esac

# run NAME SCRATCH FLAGS… -- TEST-OPTIONS…: build, test, and check the log for reports.
run() {
    local name=$1 scratch=$2
    shift 2
    local flags=()
    while [ "$1" != "--" ]; do flags+=("$1"); shift; done
    shift
    local log="$scratch/sanitizer-test.log" start=$SECONDS
    mkdir -p "$scratch"
    echo "== $name: build"
    swift build -c release --build-tests --scratch-path "$scratch" "${flags[@]}" 2>&1 \
        | grep -vE "ld.gold: warning: Cannot export local symbol '__asan|^\[[0-9]+/[0-9]+\] " | tail -3
    local built=$SECONDS
    echo "== $name: test"
    set +e
    swift test -c release --skip-build --disable-xctest --scratch-path "$scratch" "${flags[@]}" "$@" > "$log" 2>&1
    local status=$?
    set -e
    grep -E "Test run with [0-9]+ tests?" "$log" | tail -1 || true
    local report="ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|WARNING: ThreadSanitizer"
    if grep -qE "$report|SUMMARY: (Address|Thread|UndefinedBehavior|Leak)Sanitizer" "$log"; then
        echo "$name: sanitizer report (full log: $log):"
        grep -nE -A40 "$report" "$log" | head -80
        exit 1
    fi
    if [ $status -ne 0 ] || ! grep -qE "Test run with [0-9]+ tests?.* passed" "$log"; then
        echo "$name: the tests failed (exit $status; full log: $log):"
        grep -E "✘|error:" "$log" | head -40
        exit 1
    fi
    echo "$name: clean (build $((built - start)) s, tests $((SECONDS - built)) s)"
}

if [ "$which" = asan ] || [ "$which" = all ]; then
    run "ASan+UBSan" "$PWD/.build-asan" --sanitize=address -Xswiftc -enable-testing \
        -Xcc -fsanitize=undefined -Xcc -fno-sanitize-recover=undefined -- "$@"
fi
if [ "$which" = tsan ] || [ "$which" = all ]; then
    run "TSan" "$PWD/.build-tsan" --sanitize=thread -Xswiftc -enable-testing -- "$@"
fi
