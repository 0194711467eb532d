// swift-tools-version:6.0
// An example app: a softmax-regression digit classifier trained with Xent's fused loss and
// gradient. Its own package, depending on the library by path as an app would by version.
import PackageDescription

let package = Package(
    name: "DigitsClassifier",
    dependencies: [
        .package(name: "Xent", path: "../.."),
    ],
    targets: [
        .executableTarget(
            name: "digits-classifier",
            dependencies: [.product(name: "Xent", package: "Xent")],
            path: "Sources/DigitsClassifier"
        ),
    ]
)
