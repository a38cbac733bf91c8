// swift-tools-version:6.0
import PackageDescription

/// The practical limit of a route on this machine: Hummingbird answering one short text, nothing else.
let package = Package(
    name: "HelloWorld",
    platforms: [.macOS(.v14)],
    products: [.executable(name: "hello-world", targets: ["HelloWorld"])],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1")
    ],
    targets: [
        .executableTarget(
            name: "HelloWorld",
            dependencies: [.product(name: "Hummingbird", package: "hummingbird")]
        )
    ]
)
