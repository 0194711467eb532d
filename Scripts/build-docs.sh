#!/usr/bin/env bash
# Builds the DocC documentation of the Xent target (Sources/Xent/Xent.docc and the doc comments)
# with swift-docc-plugin, and fails on any warning: a broken or ambiguous symbol link, a parameter
# that the docs name but the signature lacks, a heading or article link that resolves to nothing.
#
#   Scripts/build-docs.sh                 # the archive lands in <scratch>/plugins/Swift-DocC/outputs/
#   XENT_DOCS_SCRATCH=/tmp/d Scripts/build-docs.sh
#
# The scratch path (default .build-docs, git-ignored) is separate from `swift build`'s .build, so
# a docs build neither waits for nor invalidates an ordinary build.
set -euo pipefail
repo=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
cd "$repo"
scratch=${XENT_DOCS_SCRATCH:-$repo/.build-docs}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# --warnings-as-errors is docc's own option (the plugin passes it through to `docc convert`): a
# warning makes docc, and so the plugin, exit non-zero. --experimental-skip-synthesized-symbols is
# the plugin's: it leaves out the members the compiler synthesizes from the standard library's
# protocols (==, !=, hash(into:), hashValue), which Xent does not document; the conformances
# themselves still show on each type's page.
status=0
swift package --scratch-path "$scratch" \
    generate-documentation --target Xent \
    --experimental-skip-synthesized-symbols --warnings-as-errors 2>&1 | tee "$log" || status=$?

# Belt and braces: fail on any diagnostic line that slipped through — docc's ("warning: …" at the
# start of a line) with a docc that ignores the option, or the compiler's ("<file>:<line>:<col>:
# warning: …") from the build that extracts the symbol graph, which a clean CI build always shows.
if [ "$status" -eq 0 ] && grep -Eq '(^|: )(warning|error): ' "$log"; then
    echo "build-docs: the documentation build printed warnings (above)" >&2
    status=1
fi
if [ "$status" -ne 0 ]; then
    echo "build-docs: FAILED" >&2
    exit "$status"
fi
echo "build-docs: OK, no warnings"
