// swift-tools-version:6.0
// The performance suite: its own package, so the library's manifest stays free of the
// benchmark's dependencies (as swift-nio and swift-collections do).
import PackageDescription

let package = Package(
    name: "XentBenchmarks",
    dependencies: [
        .package(name: "Xent", path: ".."),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // OpenBLAS's CBLAS for the linear head's sgemm roofline (--linear), found through pkg-config
        // (Debian and Ubuntu: libopenblas-dev), as the library's own CBLAS target finds it.
        .systemLibrary(
            name: "CBLASBench",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .executableTarget(
            name: "xent-bench",
            dependencies: [
                .product(name: "Xent", package: "Xent"),
                .product(name: "XentLinear", package: "Xent"),
                .target(name: "CBLASBench", condition: .when(platforms: [.linux, .android, .windows])),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
    ]
)
