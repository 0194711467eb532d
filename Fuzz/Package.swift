// swift-tools-version:6.0
// The libFuzzer target: its own package, so the library's manifest stays free of fuzzing flags.
// Build it with Scripts/fuzz.sh (it passes -sanitize=fuzzer,address); see Fuzz/README.md.
import PackageDescription

let package = Package(
    name: "XentFuzz",
    dependencies: [
        .package(name: "Xent", path: ".."),
    ],
    targets: [
        // The process entry: starts libFuzzer's driver (SwiftPM renames an executable's main).
        .target(name: "CXentFuzzMain"),
        .executableTarget(
            name: "xent-fuzz",
            dependencies: ["CXentFuzzMain", .product(name: "Xent", package: "Xent")],
            path: "Sources/XentFuzz"
        ),
    ]
)
