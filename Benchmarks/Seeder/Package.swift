// swift-tools-version: 6.2
import PackageDescription

// `seed-connections`: many connections written through square-onboard's own storage code, for benchmarks.
// Its own package so that the service's package carries no benchmark tooling; build it with
// `swift build -c release --package-path Benchmarks/Seeder --scratch-path .build` (from the repository root: the
// service's build folder, so the dependencies compiled for it are reused).
let package = Package(
    name: "seeder",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "seed-connections", targets: ["seed-connections"])
    ],
    dependencies: [
        .package(name: "square-onboard", path: "../..")
    ],
    targets: [
        .executableTarget(
            name: "seed-connections",
            dependencies: [
                .product(name: "Onboarding", package: "square-onboard"),
                .product(name: "SquareOAuth", package: "square-onboard"),
            ]
        )
    ]
)
