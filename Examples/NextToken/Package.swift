// swift-tools-version:6.0
// An example app: the output layer of a small next-token model (and its input embeddings, through
// ∂H) trained with XentLinear's fused linear cross-entropy. Its own package, depending on the
// library by path as an app would by version.
import PackageDescription

let package = Package(
    name: "NextToken",
    dependencies: [
        .package(name: "Xent", path: "../.."),
    ],
    targets: [
        .executableTarget(
            name: "next-token",
            dependencies: [
                .product(name: "XentLinear", package: "Xent"),
                .product(name: "Xent", package: "Xent"),
            ],
            path: "Sources/NextToken"
        ),
    ]
)
