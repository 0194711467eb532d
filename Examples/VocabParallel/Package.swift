// swift-tools-version:6.0
// Vocabulary-parallel cross-entropy over Open MPI: every rank holds a slice of the classes of a
// rows × 128256 batch, the ranks exchange O(rows) statistics, and rank 0 checks the loss and the
// gathered gradient against one single-process call. Its own package, so that Xent's core
// product keeps SLEEF as its only dependency.
import PackageDescription

let package = Package(
    name: "VocabParallel",
    dependencies: [
        .package(name: "Xent", path: "../.."),
    ],
    targets: [
        .systemLibrary(
            name: "CMPI",
            path: "Sources/CMPI",
            pkgConfig: "ompi-c",
            providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]
        ),
        .executableTarget(
            name: "vocab-parallel",
            dependencies: ["CMPI", .product(name: "Xent", package: "Xent")],
            path: "Sources/VocabParallel"
        ),
    ]
)
