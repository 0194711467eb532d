#!/usr/bin/env bash
# Builds the DocC documentation of the Xent target (Sources/Xent/Xent.docc and the doc comments)
# with the toolchain's own `docc`, and fails on any warning: a broken or ambiguous symbol link, a
# parameter that the docs name but the signature lacks, a heading or article link that resolves to
# nothing. No package plugin and no network: the package resolves no dependency for its docs.
#
#   Scripts/build-docs.sh                 # the archive lands in <scratch>/Xent.doccarchive
#   XENT_DOCS_SCRATCH=/tmp/d Scripts/build-docs.sh
#
# Two steps:
#   1. `swift build --target Xent` with the compiler told to write Xent's symbol graph (public
#      symbols; extension blocks for the standard library's types that Xent extends; no members
#      synthesized from the standard library's protocols, ==, !=, hash(into:), hashValue, which Xent
#      does not document; the conformances themselves still show on each type's page);
#   2. `docc convert` of the catalog with that symbol graph, --warnings-as-errors.
#
# The scratch path (default .build-docs, git-ignored) is separate from `swift build`'s .build, so
# a docs build neither waits for nor invalidates an ordinary build (the symbol-graph flags would).
set -euo pipefail
repo=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
cd "$repo"
scratch=${XENT_DOCS_SCRATCH:-$repo/.build-docs}
graphs=$scratch/symbol-graphs
archive=$scratch/Xent.doccarchive
# docc sits next to swift in a toolchain; `xcrun docc` on macOS.
if command -v docc >/dev/null; then
    docc=(docc)
elif [ -x "$(dirname "$(command -v swift)")/docc" ]; then
    docc=("$(dirname "$(command -v swift)")/docc")
else
    docc=(xcrun docc)
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# The compiler writes the symbol graph when it emits the module, which an up-to-date build skips:
# removing the module makes the build emit it (and the graph) again, without recompiling the rest.
bin=$(swift build --scratch-path "$scratch" --show-bin-path)
rm -rf "$graphs" "$bin/Modules/Xent.swiftmodule" "$bin/Xent.swiftmodule"
mkdir -p "$graphs"

status=0
{
    swift build --scratch-path "$scratch" --target Xent \
        -Xswiftc -emit-symbol-graph -Xswiftc -emit-symbol-graph-dir -Xswiftc "$graphs" \
        -Xswiftc -symbol-graph-minimum-access-level -Xswiftc public \
        -Xswiftc -symbol-graph-skip-synthesized-members \
        -Xswiftc -emit-extension-block-symbols &&
    if [ ! -s "$graphs/Xent.symbols.json" ]; then
        echo "error: the build wrote no symbol graph for Xent in $graphs"
        false
    fi &&
    "${docc[@]}" convert Sources/Xent/Xent.docc \
        --additional-symbol-graph-dir "$graphs" \
        --fallback-display-name Xent --fallback-bundle-identifier Xent \
        --output-path "$archive" --warnings-as-errors &&
    echo "Generated documentation archive at $archive"
} 2>&1 | tee "$log" || status=$?

# Belt and braces: fail on any diagnostic line that slipped through — docc's ("warning: …" at the
# start of a line) with a docc that ignores the option, or the compiler's ("<file>:<line>:<col>:
# warning: …") from the build that writes the symbol graph, which a clean CI build always shows.
if [ "$status" -eq 0 ] && grep -Eq '(^|: )(warning|error): ' "$log"; then
    echo "build-docs: the documentation build printed warnings (above)" >&2
    status=1
fi
if [ "$status" -ne 0 ]; then
    echo "build-docs: FAILED" >&2
    exit "$status"
fi
echo "build-docs: OK, no warnings"
