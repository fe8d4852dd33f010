import Foundation
import Testing
@testable import OpvangSync

/// SPEC §5: files with personal data are never left behind. A run killed while its report waited for the
/// commit leaves temporary files; the next run removes those of processes that are gone, and no other.
@Suite struct ProtectedFileTests {
    @Test func abandonedTemporariesOfDeadProcessesAreRemovedAndNoOthers() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("protected-\(UUID().uuidString)").path
        try ProtectedFile.makeDirectory(folder)
        defer { try? FileManager.default.removeItem(atPath: folder) }

        // A process that has ended: its number is free (waited for, so not a zombie either).
        let ended = Process()
        ended.executableURL = URL(fileURLWithPath: "/bin/true")
        try ended.run()
        ended.waitUntilExit()
        let dead = ended.processIdentifier

        let names = [
            "20261122T010000Z-abcdef.json.tmp-\(dead)-1x2y3z",          // a dead run's staged report: removed
            "20261122T010000Z-abcdef-afgewezen.csv.tmp-\(dead)-9q8r",   // the same run's CSV: removed
            "20261122T020000Z-123456.json.tmp-\(getpid())-4k5l",        // this process's own: kept
            "20261122T030000Z-654321.md.tmp-1-7m8n",                    // a live process (init): kept
            "20261122T040000Z-aaaaaa.json",                             // a report in place: kept
            "notes.tmp-draft",                                          // not a staged file: kept
        ]
        for name in names { try ProtectedFile.write("x", to: (folder as NSString).appendingPathComponent(name)) }

        ProtectedFile.removeAbandonedTemporaries(in: folder)

        let left = Set(try FileManager.default.contentsOfDirectory(atPath: folder))
        #expect(left == Set(names.dropFirst(2)))
    }
}
