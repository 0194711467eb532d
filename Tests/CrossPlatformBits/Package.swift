// swift-tools-version:6.0
// The cross-platform bit check: an executable that computes a fixed list of seeded batches with
// every option of SoftmaxCrossEntropy through the public API and writes (or checks) a hash of
// every output's bits, so a golden file written by the x86-64 build can be checked on arm64
// (Scripts/test-arm64-swift.sh). Beside it, instruction-probe: one call between two markers, for the
// same script to count the instructions an arm64 call executes under qemu. Its own package,
// depending on the library by path.
import PackageDescription

let package = Package(
    name: "CrossPlatformBits",
    dependencies: [
        .package(name: "Xent", path: "../.."),
    ],
    targets: [
        .executableTarget(
            name: "cross-platform-bits",
            dependencies: [.product(name: "Xent", package: "Xent")],
            path: "Sources/CrossPlatformBits"
        ),
        .executableTarget(
            name: "instruction-probe",
            dependencies: [.product(name: "Xent", package: "Xent")],
            path: "Sources/InstructionProbe"
        ),
    ]
)
