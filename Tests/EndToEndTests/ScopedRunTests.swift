import Foundation
import OpvangSync
import PortalStore
import TestSupport
import Testing

/// SPEC §5 "Scoped runs": `--only` applies the export to one family or location; nothing else moves.
@Suite struct ScopedRunTests {
    /// A portal with MiniExport applied, and a next export in which three families changed.
    func setUp(_ name: String) throws -> (folder: URL, next: URL) {
        let folder = temporaryFolder(name)
        // Three families only: one ending placement is a third of them, so relax the removal guard.
        try Data(#"{"rules": {"maxRemovalFraction": 0.5}}"#.utf8).write(to: folder.appendingPathComponent("opvangsync.json"))
        let base = try MiniExport().write(to: folder.appendingPathComponent("base"))
        let first = try opvangsync(["import", base.path, "--as-of", "2026-11-22"], in: folder)
        #expect(first.status == 0, "\(first.stderr)")
        var next = MiniExport()
        next["ouders.csv"][1] = "O1;Marieke;Dijk;marieke.dijk@example.nl;"        // family of K1
        next["ouders.csv"][2] = "O2;Joost;Smit-Bakker;joost@example.nl;"           // family of K2
        next["plaatsingen.csv"].removeLast()                                        // K3's placement P3
        next.exportedAt = "2026-11-22T09:00:00+01:00"
        return (folder, try next.write(to: folder.appendingPathComponent("next")))
    }

    func value(_ folder: URL, _ sql: String) throws -> String? {
        try Database(path: folder.appendingPathComponent("portal.sqlite").path, mode: .queryOnly).scalarString(sql)
    }

    @Test func aScopedDryRunPreviewsExactlyThatFamilyAndWritesNothing() throws {
        let (folder, next) = try setUp("scope-preview")
        let path = folder.appendingPathComponent("portal.sqlite").path
        let before = databaseBytes(path)
        let preview = try opvangsync(["import", next.path, "--only", "parent=O1", "--dry-run", "--as-of", "2026-11-22"], in: folder)
        #expect(preview.status == 0, "\(preview.stderr)")
        let report = try reportJSON(of: preview, in: folder)
        let changes = report["changes"] as! [[String: Any]]
        #expect(changes.map { "\($0["entity"]!)/\($0["key"]!)" } == ["parent/O1"])
        #expect((report["options"] as? [String: Any])?["only"] as? String == "parent=O1")
        #expect(databaseBytes(path) == before)
    }

    @Test func aScopedRunChangesThatFamilyAndNothingElse() throws {
        let (folder, next) = try setUp("scope-apply")
        let result = try opvangsync(["import", next.path, "--only", "parent=O1", "--as-of", "2026-11-22"], in: folder)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try value(folder, "SELECT email FROM parents WHERE key = 'O1'") == "marieke.dijk@example.nl")
        #expect(try value(folder, "SELECT last_name FROM parents WHERE key = 'O2'") == "Smit", "another family is untouched")
        #expect(try value(folder, "SELECT status FROM placements WHERE key = 'P3'") == "active", "nothing outside the scope is ended")

        let child = try opvangsync(["import", next.path, "--only", "child=K3", "--as-of", "2026-11-22"], in: folder)
        #expect(child.status == 0, "\(child.stderr)")
        #expect(try value(folder, "SELECT status FROM placements WHERE key = 'P3'") == "vanished")
        #expect(try value(folder, "SELECT last_name FROM parents WHERE key = 'O2'") == "Smit")

        // The full export is still to be imported: a scoped run does not count as having imported it.
        let full = try opvangsync(["import", next.path, "--as-of", "2026-11-22"], in: folder)
        #expect(full.status == 0)
        #expect(try reportJSON(of: full, in: folder)["status"] as? String == "applied")
        #expect(try value(folder, "SELECT last_name FROM parents WHERE key = 'O2'") == "Smit-Bakker")
    }

    @Test func aLocationScopeCoversItsGroupsChildrenAndFamilies() throws {
        let (folder, next) = try setUp("scope-location")
        let result = try opvangsync(["import", next.path, "--only", "location=L1", "--dry-run", "--as-of", "2026-11-22"], in: folder)
        let keys = Set((try reportJSON(of: result, in: folder)["changes"] as! [[String: Any]]).map { "\($0["entity"]!)/\($0["key"]!)" })
        #expect(keys == ["parent/O1", "parent/O2", "placement/P3"])
    }

    @Test func aScopeThatMatchesNothingIsAUsageError() throws {
        let (folder, next) = try setUp("scope-unknown")
        let result = try opvangsync(["import", next.path, "--only", "parent=O999", "--as-of", "2026-11-22"], in: folder)
        #expect(result.status == 2)
        #expect(result.stderr.contains("parent=O999"))
        #expect(try opvangsync(["import", next.path, "--only", "family=O1"], in: folder).status == 2)
    }
}
