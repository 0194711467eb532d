#!/usr/bin/env bash
# Builds and runs the libFuzzer target in Fuzz/ (every kernel against a Double truth of
# NUMERICS.md; see Fuzz/README.md).
#
#   Scripts/fuzz.sh build           build .build-fuzz/release/xent-fuzz
#   Scripts/fuzz.sh run SECONDS     fuzz from Fuzz/Corpus, then merge (-merge=1) what it found
#                                   into it, minimized (set cover of the features, + seed-*)
#   Scripts/fuzz.sh replay [FILE…]  run every file of Fuzz/Corpus (or the FILEs) once; for CI
#
# A failing input is saved as Fuzz/Crashes/crash-<sha1> (timeouts and out-of-memory inputs
# alike); replay one with `Scripts/fuzz.sh replay Fuzz/Crashes/crash-…` (add
# XENT_FUZZ_VERBOSE=1 to print the decoded case).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"

scratch="$PWD/.build-fuzz"
binary="$scratch/release/xent-fuzz"
corpus=Fuzz/Corpus
crashes=Fuzz/Crashes

# Swift code gets libFuzzer's coverage and AddressSanitizer through swiftc (-parse-as-library:
# the entry point is LLVMFuzzerTestOneInput, main is libFuzzer's); the C shim gets the same
# coverage, AddressSanitizer and UndefinedBehaviorSanitizer (which swiftc cannot apply to Swift
# on Linux) through clang. Release, as the kernels ship.
build() {
    swift build -c release --package-path Fuzz --scratch-path "$scratch" \
        -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library \
        -Xcc -fsanitize=fuzzer-no-link,address,undefined -Xcc -fno-sanitize-recover=undefined \
        2>&1 | grep -vE "ld.gold: warning: Cannot export local symbol '__asan|^\[[0-9]+/[0-9]+\] "
    [ -x "$binary" ] || { echo "fuzz.sh: $binary was not built"; exit 1; }
}

# Sanitizer reports stop the run and count as a crash. The Swift runtime's backtracer is off:
# on a trap it would symbolicate the (instrumented) process for minutes before libFuzzer saves
# the input.
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS="${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=1:detect_leaks=1:allocator_may_return_null=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
# Inputs are small (the bulk of a row comes from a seed in the input); 1 KiB is plenty.
options=(-max_len=1024 -timeout=20 -rss_limit_mb=2048 -print_final_stats=1)

case "${1:-}" in
build)
    build
    ;;
run)
    seconds="${2:?usage: fuzz.sh run SECONDS}"
    build
    mkdir -p "$corpus" "$crashes"
    found=$(mktemp -d)
    trap 'rm -rf "$found"' EXIT
    start=$(wc -l < <(ls "$corpus"))
    # New inputs go to $found (libFuzzer writes to its first directory); Fuzz/Corpus seeds it.
    set +e
    "$binary" "${options[@]}" -max_total_time="$seconds" -artifact_prefix="$crashes/" "$found" "$corpus" 2>&1 \
        | grep -vE "^#[0-9]+.*(NEW|REDUCE) |^\"|^###### "
    status=${PIPESTATUS[0]}
    set -e
    # Minimize: the smallest set of Fuzz/Corpus and the new inputs that keeps every feature
    # (-merge=1 into an empty directory), plus the hand-made seeds; it replaces Fuzz/Corpus.
    minimized=$(mktemp -d)
    trap 'rm -rf "$found" "$minimized"' EXIT
    "$binary" "${options[@]}" -merge=1 "$minimized" "$corpus" "$found" 2>&1 \
        | grep -E "MERGE-OUTER: [0-9]+ new files" || true
    if [ -n "$(ls "$minimized")" ]; then
        cp "$corpus"/seed-* "$minimized"/ 2>/dev/null || true
        find "$corpus" -maxdepth 1 -type f -delete
        mv "$minimized"/* "$corpus"/
    fi
    echo "fuzz.sh: corpus $start → $(wc -l < <(ls "$corpus")) files, $(cat "$corpus"/* | wc -c) bytes"
    exit "$status"
    ;;
replay)
    build
    shift
    if [ $# -eq 0 ]; then set -- "$corpus"/*; fi
    # With files as arguments libFuzzer runs each once and exits non-zero on the first failure.
    set +e
    "$binary" "${options[@]}" "$@" 2>&1 | grep -vE "^(Running: |Executed .* in [0-9]+ ms)" | tail -40
    status=${PIPESTATUS[0]}
    [ "$status" -eq 0 ] && echo "fuzz.sh: replayed $# inputs, no failure"
    exit "$status"
    ;;
*)
    sed -n '2,13p' "$0"
    exit 2
    ;;
esac
