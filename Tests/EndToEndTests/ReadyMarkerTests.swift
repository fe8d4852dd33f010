import Foundation
import OpvangSync
import PortalStore
import TestSupport
import Testing

/// SPEC §3 manifest mode `none`: a planning system that writes no manifest drops a ready marker. The export
/// is taken when the marker is there, its time comes from the marker, the report says that integrity was
/// not verified, and the mass-removal and rejected-row guards still hold.
@Suite struct ReadyMarkerTests {
    static let mappingText = BuiltInMapping.flexkidsCSV.text.replacingOccurrences(
        of: #""manifest": "manifest.json","#, with: #""manifest": {"mode": "none", "readyMarker": "KLAAR"},"#)

    /// A work folder with the mapping and a configuration that names the organisation and its portal.
    func workFolder(_ name: String, inbox: Bool = false) throws -> URL {
        let folder = temporaryFolder(name)
        try Data(Self.mappingText.utf8).write(to: folder.appendingPathComponent("zonder-manifest.json"))
        let inboxKey = inbox ? #", "inbox": "inbox""# : ""
        try Data(#"{"mapping": "zonder-manifest.json", "portalUrl": "https://mini.example", "organisations": [{"id": "mini"\#(inboxKey)}]}"#.utf8)
            .write(to: folder.appendingPathComponent("opvangsync.json"))
        return folder
    }

    /// The mini export without its manifest, with `marker` as the ready marker's contents (nil: no marker).
    @discardableResult
    func export(_ export: MiniExport = MiniExport(), at folder: URL, marker: String?) throws -> URL {
        try export.write(to: folder)
        try FileManager.default.removeItem(at: folder.appendingPathComponent("manifest.json"))
        if let marker { try Data(marker.utf8).write(to: folder.appendingPathComponent("KLAAR")) }
        return folder
    }

    func importing(_ export: URL, in folder: URL, _ extra: [String] = []) throws -> ProcessResult {
        try opvangsync(["import", export.path, "--as-of", "2026-11-22"] + extra, in: folder)
    }

    func markdown(of result: ProcessResult) throws -> String {
        let line = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("report: ") })
        return try String(contentsOfFile: String(line.dropFirst("report: ".count)), encoding: .utf8)
    }

    @Test func anExportWithAReadyMarkerIsImportedAndTheReportSaysItsIntegrityWasNotVerified() throws {
        let folder = try workFolder("marker")
        let export = try export(at: folder.appendingPathComponent("export"), marker: "2026-11-21T23:40:00+01:00\r\n")
        let result = try importing(export, in: folder)
        #expect(result.status == 0, "\(result.stderr)")
        let report = try reportJSON(of: result, in: folder)
        #expect(report["status"] as? String == "applied")
        let exported = report["export"] as? [String: Any]
        #expect(exported?["integrity"] as? String == "none")
        #expect(exported?["exportedAt"] as? String == "2026-11-21T23:40:00+01:00")
        #expect((report["organisation"] as? [String: Any])?["id"] as? String == "mini")
        let issues = report["issues"] as? [[String: Any]] ?? []
        #expect(issues.contains { $0["code"] as? String == "integrity-not-verified" })
        let text = try markdown(of: result)
        #expect(text.contains("de volledigheid van de export is niet gecontroleerd"))
        #expect(text.contains("| Controle van de export | **niet gecontroleerd**"))
        let database = try Database(path: folder.appendingPathComponent("portal.sqlite").path, mode: .readOnly)
        #expect(try database.scalarInt("SELECT COUNT(*) FROM children WHERE status = 'active'") == 3)

        // The same folder again is the same export: skipped.
        let again = try importing(export, in: folder)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try reportJSON(of: again, in: folder)["status"] as? String == "skipped")
    }

    @Test func aManifestExportSaysItsIntegrityWasChecked() throws {
        let folder = temporaryFolder("checked")
        let export = try MiniExport().write(to: folder.appendingPathComponent("export"))
        let result = try importing(export, in: folder)
        #expect(result.status == 0, "\(result.stderr)")
        #expect((try reportJSON(of: result, in: folder)["export"] as? [String: Any])?["integrity"] as? String == "sha256")
        #expect(try markdown(of: result).contains("| Controle van de export | volledig"))
    }

    @Test func withoutATimeInTheMarkerTheExportIsAsOldAsTheMarker() throws {
        let folder = try workFolder("mtime")
        let written = Date(timeIntervalSince1970: 1_795_300_000) // 2026-11-21T22:26:40Z
        for (name, contents) in [("empty", ""), ("garbage", "KLAAR om 23 uur\u{1B}[2J\n"), ("date only", "2026-11-21")] {
            let export = try export(at: folder.appendingPathComponent(name.replacingOccurrences(of: " ", with: "-")), marker: contents)
            try FileManager.default.setAttributes([.modificationDate: written], ofItemAtPath: export.appendingPathComponent("KLAAR").path)
            let result = try importing(export, in: folder, ["--db", "\(name.prefix(1)).sqlite"])
            #expect(result.status == 0, "\(name): \(result.stderr)")
            let report = try reportJSON(of: result, in: folder)
            #expect((report["export"] as? [String: Any])?["exportedAt"] as? String == "2026-11-21T22:26:40Z", "\(name)")
            let note = (report["issues"] as? [[String: Any]] ?? []).first { $0["code"] as? String == "ready-marker-time" }
            #expect(note?["severity"] as? String == "info", "\(name)")
            // What the marker holds is never repeated: it may be anything.
            let message = note?["message"] as? String ?? ""
            #expect(!message.contains("23 uur"), "\(name)")
            #expect(!result.stdout.contains("\u{1B}") && !result.stderr.contains("\u{1B}"))
        }
    }

    @Test func withoutTheMarkerNothingIsRead() throws {
        let folder = try workFolder("no-marker")
        let export = try export(at: folder.appendingPathComponent("export"), marker: nil)
        let result = try importing(export, in: folder)
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("KLAAR") && result.stderr.contains("ready-marker-missing"))
        let database = try Database(path: folder.appendingPathComponent("portal.sqlite").path, mode: .readOnly)
        #expect(try database.scalarInt("SELECT COUNT(*) FROM children") == 0)
    }

    @Test func aMarkerThatIsALinkAPipeOrTooLargeIsRefused() throws {
        let folder = try workFolder("hostile-marker")
        let outside = folder.appendingPathComponent("elders.txt")
        try Data("2026-11-21T23:40:00Z".utf8).write(to: outside)
        let link = try export(at: folder.appendingPathComponent("link"), marker: nil)
        try FileManager.default.createSymbolicLink(atPath: link.appendingPathComponent("KLAAR").path, withDestinationPath: outside.path)
        let pipe = try export(at: folder.appendingPathComponent("pipe"), marker: nil)
        #expect(mkfifo(pipe.appendingPathComponent("KLAAR").path, 0o644) == 0)
        let huge = try export(at: folder.appendingPathComponent("huge"), marker: String(repeating: "2026-11-21T23:40:00Z\n", count: 10_000))
        for (export, code) in [(link, "file-not-regular"), (pipe, "file-not-regular"), (huge, "file-too-large")] {
            let result = try importing(export, in: folder)
            #expect(result.status == 1, "\(export.lastPathComponent): \(result.stderr)")
            #expect(result.stderr.contains(code), "\(export.lastPathComponent): \(result.stderr)")
        }
    }

    @Test func aMissingDataFileNextToTheMarkerAbortsTheRun() throws {
        let folder = try workFolder("missing-file")
        let export = try export(at: folder.appendingPathComponent("export"), marker: "2026-11-21T23:40:00+01:00")
        try FileManager.default.removeItem(at: export.appendingPathComponent("plaatsingen.csv"))
        let result = try importing(export, in: folder)
        #expect(result.status == 3, "\(result.stderr)")
        #expect(result.stderr.contains("plaatsingen.csv") && result.stderr.contains("file-missing"))
    }

    @Test func withoutAnOrganisationAnExportWithoutManifestIsAUsageError() throws {
        let folder = temporaryFolder("no-org")
        try Data(Self.mappingText.utf8).write(to: folder.appendingPathComponent("zonder-manifest.json"))
        let export = try export(at: folder.appendingPathComponent("export"), marker: "2026-11-21T23:40:00+01:00")
        let result = try opvangsync(["import", export.path, "--mapping", "zonder-manifest.json", "--as-of", "2026-11-22"], in: folder)
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("--org"))
    }

    @Test func theMassRemovalAndRejectedRowGuardsStillHold() throws {
        let folder = try workFolder("guards")
        var full = MiniExport()
        full["kinderen.csv"] += (4...40).map { "K\($0);Kind;;Test;01-01-2022;" }
        full["plaatsingen.csv"] += (4...40).map { "P\($0);K\($0);G1;KDV;52 weken;01-09-2025;;07:30-18:00;;" }
        #expect(try importing(try export(full, at: folder.appendingPathComponent("1"), marker: "2026-11-21T01:00:00+01:00"), in: folder).status == 0)

        // Half the children gone: refused, nothing applied.
        var cut = full
        cut["kinderen.csv"] = Array(full["kinderen.csv"].prefix(20))
        cut["plaatsingen.csv"] = Array(full["plaatsingen.csv"].prefix(20))
        let removal = try importing(try export(cut, at: folder.appendingPathComponent("2"), marker: "2026-11-21T02:00:00+01:00"), in: folder)
        #expect(removal.status == 3, "\(removal.stderr)")
        #expect((try reportJSON(of: removal, in: folder)["removals"] as? [Any])?.isEmpty == false)

        // A tenth of the placements unreadable: refused, nothing applied.
        var broken = full
        for index in 1...5 { broken["plaatsingen.csv"][index] = broken["plaatsingen.csv"][index].replacingOccurrences(of: "01-09-2025", with: "31-09-2025") }
        let rejected = try importing(try export(broken, at: folder.appendingPathComponent("3"), marker: "2026-11-21T03:00:00+01:00"), in: folder)
        #expect(rejected.status == 3, "\(rejected.stderr)")
        #expect(try reportJSON(of: rejected, in: folder)["abortReason"] as? String ?? "" != "")
        let database = try Database(path: folder.appendingPathComponent("portal.sqlite").path, mode: .readOnly)
        #expect(try database.scalarInt("SELECT COUNT(*) FROM children WHERE status = 'active'") == 40)
    }

    @Test func theInboxTakesTheNewestFolderWithAMarkerAndPassesOverOneWithout() throws {
        let folder = try workFolder("inbox", inbox: true)
        let inbox = folder.appendingPathComponent("inbox")
        try export(at: inbox.appendingPathComponent("2026-11-20"), marker: "2026-11-20T23:40:00+01:00")
        try export(at: inbox.appendingPathComponent("2026-11-21"), marker: "2026-11-21T23:40:00+01:00")
        try export(at: inbox.appendingPathComponent("2026-11-22"), marker: nil)
        // Newer by its modification time, as an upload that is still going on is: files written in the same
        // clock tick would otherwise leave the two folders equally new.
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(60)],
                                              ofItemAtPath: inbox.appendingPathComponent("2026-11-22").path)
        let result = try opvangsync(["import", "--org", "mini", "--as-of", "2026-11-22"], in: folder)
        #expect(result.status == 0, "\(result.stderr)")
        let report = try reportJSON(of: result, in: folder)
        let exported = report["export"] as? [String: Any]
        #expect((exported?["path"] as? String)?.hasSuffix("inbox/2026-11-21") == true, "\(exported ?? [:])")
        let passed = (report["issues"] as? [[String: Any]] ?? []).first { $0["code"] as? String == "inbox-folder-passed-over" }
        #expect((passed?["message"] as? String)?.contains("gereed-bestand") == true, "\(passed ?? [:])")
    }
}
