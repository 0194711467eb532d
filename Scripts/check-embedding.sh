#!/usr/bin/env bash
# Builds and runs a second package that depends on Xent by version (both products, Xent and
# XentLinear), as an app would: a clone of this repository's HEAD, tagged, used through
# `.package(url:from:)` with default flags.
# SwiftPM refuses unsafeFlags in a versioned dependency, so this fails if the manifest grows any.
set -euo pipefail
repo=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

git clone --quiet "$repo" "$work/Xent"
git -C "$work/Xent" -c user.name=ci -c user.email=ci@localhost tag -a 1.0.0 -m "embedding check"

mkdir -p "$work/App/Sources/App"
cat > "$work/App/Package.swift" <<MANIFEST
// swift-tools-version:6.0
import PackageDescription
let package = Package(
    name: "App",
    dependencies: [.package(url: "file://$work/Xent", from: "1.0.0")],
    targets: [
        .executableTarget(
            name: "App",
            dependencies: [.product(name: "Xent", package: "Xent"), .product(name: "XentLinear", package: "Xent")])
    ]
)
MANIFEST
cat > "$work/App/Sources/App/main.swift" <<'SOURCE'
import Xent
import XentLinear

let ce = SoftmaxCrossEntropy()
var gradient = [Float]()
let loss = try ce.lossAndGradient(
    logits: [1, 2, 3, 4, 4, 3, 2, 1], labels: [3, 0], classes: 4, gradient: &gradient)
// Both rows are the same distribution with the label on its largest logit.
let expected: Float = 0.4401897
guard abs(loss - expected) < 1e-6, abs(gradient.reduce(0, +)) < 1e-6 else {
    fatalError("embedded Xent computed loss \(loss), expected \(expected)")
}
print("embedded Xent \(InstructionSet.active): loss \(loss) OK")

// The fused linear head from the second product: H = identity rows, so the logits are W's rows
// and the loss is the one above.
let head = LinearCrossEntropy()
let linearLoss = try head.loss(
    hidden: [1, 0, 0, 1], weight: [1, 4, 2, 3, 3, 2, 4, 1], labels: [3 as Int32, 0], classes: 4)
guard abs(linearLoss - expected) < 1e-6 else {
    fatalError("embedded XentLinear computed loss \(linearLoss), expected \(expected)")
}
print("embedded XentLinear: loss \(linearLoss) OK")
SOURCE

cd "$work/App"
swift build -c release 2>&1 | tail -3
swift run -c release --skip-build App
