import Foundation
import Testing
import TestSupport
@testable import OpvangSync

/// A file a run does not parse is only hashed (the manifest's SHA-256, SPEC §2): it is read through a small
/// buffer instead of whole, with the same checks as a file that is read.
@Suite struct ExportFileHashTests {
    private func source(_ folder: URL) throws -> CSVExportSource {
        CSVExportSource(directory: folder.path, mapping: try BuiltInMapping.flexkidsCSV.mapping())
    }

    /// Lengths on both sides of the buffer's size and of a block of 64 bytes: the digest is the one of the
    /// file's bytes read whole.
    @Test func aFileHashedPieceByPieceHasTheDigestOfItsBytes() throws {
        let folder = temporaryFolder("hash-pieces")
        let source = try source(folder)
        var seed: UInt64 = 0x2545_F491_4F6C_DD1D
        for length in [0, 1, 63, 64, 65, 262_143, 262_144, 262_145, 524_288 + 7, 1_000_003] {
            let bytes = (0..<length).map { _ in
                seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return UInt8(truncatingIfNeeded: seed >> 56)
            }
            let name = "file-\(length).csv"
            try Data(bytes).write(to: folder.appendingPathComponent(name))
            #expect(try source.sha256(of: name) == SHA256.hex(of: bytes), "\(length) bytes")
            #expect(try source.sha256(of: name) == SHA256.hex(of: try source.contents(of: name)), "\(length) bytes")
        }
    }

    /// What is not a plain file of the export is refused unread, as by a read of the whole file.
    @Test func onlyAPlainFileOfTheExportIsHashed() throws {
        let folder = temporaryFolder("hash-refused")
        let source = try source(folder)
        let outside = folder.deletingLastPathComponent().appendingPathComponent("outside-\(UUID().uuidString).csv")
        try Data("Kindnummer\n1\n".utf8).write(to: outside)
        defer { try? FileManager.default.removeItem(at: outside) }
        try FileManager.default.createSymbolicLink(atPath: folder.appendingPathComponent("link.csv").path, withDestinationPath: outside.path)
        #expect(mkfifo(folder.appendingPathComponent("pipe.csv").path, 0o600) == 0)
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("folder.csv"), withIntermediateDirectories: true)
        let cases = [("link.csv", "file-not-regular"), ("pipe.csv", "file-not-regular"), ("folder.csv", "file-not-regular"),
                     ("absent.csv", "file-missing"), ("../\(outside.lastPathComponent)", "file-not-plain")]
        for (name, code) in cases {
            var refused: String?
            do { _ = try source.sha256(of: name) } catch { refused = error.issue.code }
            #expect(refused == code, "\(name)")
            var whole: String?
            do { _ = try source.contents(of: name) } catch { whole = error.issue.code }
            #expect(whole == code, "\(name), read whole")
        }
    }
}
