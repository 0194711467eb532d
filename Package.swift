// swift-tools-version:6.0
// Xent: fused, numerically stable softmax cross-entropy (loss and gradient) for the CPU.
import PackageDescription

let package = Package(
    name: "Xent",
    products: [
        .library(name: "Xent", targets: ["Xent"]),
        // The fused linear head over a BLAS: OpenBLAS on Linux, Accelerate on Apple platforms.
        .library(name: "XentLinear", targets: ["XentLinear"]),
    ],
    targets: [
        // SLEEF, found through pkg-config; Debian and Ubuntu ship it as libsleef-dev.
        .systemLibrary(
            name: "CSleef",
            pkgConfig: "sleef",
            providers: [.apt(["libsleef-dev"])]
        ),
        // Per-ISA micro-kernels over SLEEF (pointer-only), one config of them per ISA, chosen at run time.
        .target(
            name: "CXent",
            dependencies: ["CSleef"]
        ),
        // The public Swift API, validation, the row driver, the reference, scalar and vector kernels.
        .target(
            name: "Xent",
            dependencies: ["CXent"]
        ),
        // OpenBLAS's CBLAS interface, found through pkg-config (Debian and Ubuntu: libopenblas-dev);
        // Apple platforms use Accelerate instead.
        .systemLibrary(
            name: "CBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        // The fused linear head: row blocks of logits through sgemm, Xent's loss and gradient in place.
        .target(
            name: "XentLinear",
            dependencies: ["Xent", .target(name: "CBLAS", condition: .when(platforms: [.linux, .android, .windows]))]
        ),
        // A toy batch: prints a loss and a gradient (the quick start's first command).
        .executableTarget(
            name: "xent-demo",
            dependencies: ["Xent"],
            path: "Sources/XentDemo"
        ),
        .testTarget(
            name: "XentTests",
            dependencies: ["Xent", "CXent", "CSleef"]
        ),
        .testTarget(
            name: "XentLinearTests",
            dependencies: ["XentLinear", "Xent"]
        ),
    ]
)
