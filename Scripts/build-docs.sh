#!/usr/bin/env bash
# Builds the DocC documentation of the library targets — Xent (Sources/Xent/Xent.docc) and
# XentLinear (Sources/XentLinear/XentLinear.docc), each with its doc comments — with the
# toolchain's own `docc`, and fails on any warning: a broken or ambiguous symbol link, a parameter
# that the docs name but the signature lacks, a heading or article link that resolves to nothing.
# No package plugin and no network: the package resolves no dependency for its docs.
#
#   Scripts/build-docs.sh                 # the archives land in <scratch>/<module>.doccarchive
#   XENT_DOCS_SCRATCH=/tmp/d Scripts/build-docs.sh
#
# Two steps per module, Xent first (XentLinear depends on it):
#   1. `swift build --target <module>` with the compiler told to write symbol graphs (public
#      symbols; extension blocks for the standard library's types that the module extends; no
#      members synthesized from the standard library's protocols, ==, !=, hash(into:), hashValue,
#      which the docs do not document; the conformances themselves still show on each type's page);
#   2. `docc convert` of the module's catalog with the module's own symbol graphs only,
#      --warnings-as-errors. Each catalog is its own archive: a link from one module's docs to the
#      other's symbols does not resolve, so XentLinear names Xent's types in code voice.
#
# The scratch path (default .build-docs, git-ignored) is separate from `swift build`'s .build, so
# a docs build neither waits for nor invalidates an ordinary build (the symbol-graph flags would).
set -euo pipefail
repo=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
cd "$repo"
scratch=${XENT_DOCS_SCRATCH:-$repo/.build-docs}
graphs=$scratch/symbol-graphs
modules=(Xent XentLinear)
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

# The compiler writes a symbol graph when it emits the module, which an up-to-date build skips:
# removing the modules makes the builds emit them (and the graphs) again, without recompiling the rest.
bin=$(swift build --scratch-path "$scratch" --show-bin-path)
rm -rf "$graphs"
for module in "${modules[@]}"; do
    rm -rf "$bin/Modules/$module.swiftmodule" "$bin/$module.swiftmodule"
done

# One module: build it, the compiler writing every graph it emits into <graphs>/emitted (one
# directory for both builds: the same flags, so XentLinear's build does not rebuild Xent); keep the
# module's own graphs (<module>.symbols.json, <module>@<extended module>.symbols.json) in
# <graphs>/<module>; convert its catalog with them.
document() {
    local module=$1 emitted=$graphs/emitted own=$graphs/$1
    mkdir -p "$emitted" "$own"
    swift build --scratch-path "$scratch" --target "$module" \
        -Xswiftc -emit-symbol-graph -Xswiftc -emit-symbol-graph-dir -Xswiftc "$emitted" \
        -Xswiftc -symbol-graph-minimum-access-level -Xswiftc public \
        -Xswiftc -symbol-graph-skip-synthesized-members \
        -Xswiftc -emit-extension-block-symbols &&
    if [ ! -s "$emitted/$module.symbols.json" ]; then
        echo "error: the build wrote no symbol graph for $module in $emitted"
        false
    fi &&
    cp "$emitted/$module".symbols.json "$own/" &&
    { cp "$emitted/$module"@*.symbols.json "$own/" 2>/dev/null || true; } &&
    "${docc[@]}" convert "Sources/$module/$module.docc" \
        --additional-symbol-graph-dir "$own" \
        --fallback-display-name "$module" --fallback-bundle-identifier "$module" \
        --output-path "$scratch/$module.doccarchive" --warnings-as-errors &&
    echo "Generated documentation archive at $scratch/$module.doccarchive"
}

status=0
{
    for module in "${modules[@]}"; do
        document "$module" || exit 1
    done
} 2>&1 | tee "$log" || status=$?

# Belt and braces: fail on any diagnostic line that slipped through — docc's ("warning: …" at the
# start of a line) with a docc that ignores the option, or the compiler's ("<file>:<line>:<col>:
# warning: …") from the builds that write the symbol graphs, which a clean CI build always shows.
if [ "$status" -eq 0 ] && grep -Eq '(^|: )(warning|error): ' "$log"; then
    echo "build-docs: the documentation build printed warnings (above)" >&2
    status=1
fi
if [ "$status" -ne 0 ]; then
    echo "build-docs: FAILED" >&2
    exit "$status"
fi
echo "build-docs: OK, no warnings (${modules[*]})"
