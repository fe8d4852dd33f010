// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "opvangsync",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "opvangsync", targets: ["opvangsync"]),
        .executable(name: "exportgen", targets: ["exportgen"]),
    ],
    targets: [
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite", providers: [.apt(["libsqlite3-dev"])]),
        .target(name: "PortalStore", dependencies: ["CSQLite"]),
        .target(name: "OpvangSync", dependencies: ["PortalStore"]),
        .executableTarget(name: "opvangsync", dependencies: ["OpvangSync"]),
        .executableTarget(name: "exportgen", dependencies: ["OpvangSync"]),
        // Export builders and process helpers shared by the test targets.
        .target(name: "TestSupport", dependencies: ["OpvangSync", "PortalStore"], path: "Tests/TestSupport"),
        .testTarget(name: "PortalStoreTests", dependencies: ["PortalStore"]),
        .testTarget(name: "OpvangSyncTests", dependencies: ["OpvangSync", "PortalStore", "TestSupport"]),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["OpvangSync", "PortalStore", "TestSupport", "opvangsync", "exportgen"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
