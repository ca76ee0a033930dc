// swift-tools-version:6.0
import PackageDescription

// No package dependencies: the toolchain only. The core avoids Foundation so the
// static release binary stays small and starts in well under a millisecond.
let package = Package(
    name: "swiftman",
    products: [
        .executable(name: "swiftman", targets: ["swiftman"]),
    ],
    targets: [
        // C shims for what Swift's Glibc module hides (GNU-only calls, macros, variadics).
        .target(name: "CSwiftman"),
        .target(name: "SwiftmanCore", dependencies: ["CSwiftman"]),
        .executableTarget(name: "swiftman", dependencies: ["SwiftmanCore"]),
        .testTarget(name: "SwiftmanCoreTests", dependencies: ["SwiftmanCore"]),
        // Resources/ holds the Python programs the tests run (by path, not bundled).
        .testTarget(name: "IntegrationTests", dependencies: ["CSwiftman", "swiftman"], exclude: ["Resources"]),
    ]
)
