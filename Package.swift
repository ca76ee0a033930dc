// swift-tools-version:6.0
import PackageDescription

// No package dependencies: the toolchain only. Nothing avoids Foundation by
// accident: the static release binary stays small and starts in well under a
// millisecond.
//
// The targets and what each may import (the compiler checks the edges; .ci/run
// checks that SwiftmanModel never imports Glibc or the shim):
//   SwiftmanModel     pure: parsers, formation, supervisor, protocol, exporters, framing
//   SwiftmanPlatform  the only Swift that imports Glibc or CSwiftman: typed syscalls
//   SwiftmanRuntime   the event loop, its sources, the instance table (Model + Platform)
//   swiftman          the CLI: one file per command, one command table
let package = Package(
    name: "swiftman",
    products: [
        .executable(name: "swiftman", targets: ["swiftman"]),
    ],
    targets: [
        // C shims for what Swift's Glibc module hides (GNU-only calls, macros, variadics).
        .target(name: "CSwiftman"),
        .target(name: "SwiftmanModel"),
        .target(name: "SwiftmanPlatform", dependencies: ["CSwiftman"]),
        .target(name: "SwiftmanRuntime", dependencies: ["SwiftmanModel", "SwiftmanPlatform"]),
        .executableTarget(name: "swiftman", dependencies: ["SwiftmanModel", "SwiftmanPlatform", "SwiftmanRuntime"]),
        .testTarget(name: "SwiftmanModelTests", dependencies: ["SwiftmanModel", "SwiftmanPlatform", "SwiftmanRuntime"]),
        // The runtime and the platform under it (and the model's signal numbers against Glibc's).
        .testTarget(name: "SwiftmanRuntimeTests", dependencies: ["SwiftmanModel", "SwiftmanPlatform", "SwiftmanRuntime"]),
        // Resources/ holds the Python programs the tests run (by path, not bundled).
        .testTarget(name: "IntegrationTests", dependencies: ["CSwiftman", "swiftman"], exclude: ["Resources"]),
    ]
)
