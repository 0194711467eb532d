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
        .executableTarget(
            name: "xent-bench",
            dependencies: [
                .product(name: "Xent", package: "Xent"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
    ]
)
