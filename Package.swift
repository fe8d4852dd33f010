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
        .systemLibrary(name: "CCurl", path: "Sources/CCurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CMalloc", path: "Sources/CMalloc"),
        .target(name: "PortalStore", dependencies: ["CSQLite"]),
        .target(name: "Mail", dependencies: ["CCurl"]),
        .target(name: "OpvangSync", dependencies: ["PortalStore", "Mail"]),
        .executableTarget(name: "opvangsync", dependencies: ["OpvangSync", "CMalloc"]),
        .executableTarget(name: "exportgen", dependencies: ["OpvangSync"]),
        // Export builders and process helpers shared by the test targets.
        .target(name: "TestSupport", dependencies: ["OpvangSync", "PortalStore"], path: "Tests/TestSupport"),
        .testTarget(name: "PortalStoreTests", dependencies: ["PortalStore"]),
        .testTarget(name: "MailTests", dependencies: ["Mail", "TestSupport"]),
        .testTarget(name: "OpvangSyncTests", dependencies: ["OpvangSync", "PortalStore", "TestSupport"]),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["OpvangSync", "PortalStore", "Mail", "TestSupport", "opvangsync", "exportgen"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
