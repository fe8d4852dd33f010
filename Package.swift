// swift-tools-version:6.0
import PackageDescription

#if arch(x86_64)
let shaInstructionSettings: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-msha", "-Xcc", "-mssse3", "-Xcc", "-msse4.1"])]
#else
let shaInstructionSettings: [SwiftSetting] = []
#endif

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
        // SHA-256 on the processor's SHA instructions: the only code built for them, called only where the
        // processor has them.
        .target(name: "SHA256Instructions", swiftSettings: shaInstructionSettings),
        .target(name: "OpvangSync", dependencies: ["PortalStore", "Mail", "SHA256Instructions"]),
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
