import Foundation
import OpvangSync
import PortalStore
import TestSupport
import Testing

/// The command line of SPEC §6 and the run-level safety checks of §5, through the built binary.
@Suite struct ImportCommandTests {
    let asOf = ["--as-of", "2026-11-22"]

    @Test func usageErrorsExitWith2() throws {
        let folder = temporaryFolder("usage")
        let unknown = try opvangsync(["import", Package.sample("zonnebloem"), "--dryrun"], in: folder)
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("unknown option --dryrun"))
        let reasonless = try opvangsync(["import", Package.sample("zonnebloem"), "--force"], in: folder)
        #expect(reasonless.status == 2)
        #expect(reasonless.stderr.contains("--reason"))
        let badDate = try opvangsync(["import", Package.sample("zonnebloem"), "--as-of", "22-11-2026"], in: folder)
        #expect(badDate.status == 2)
        #expect(try opvangsync(["frobnicate"], in: folder).status == 2)
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("portal.sqlite").path))
    }

    @Test func oneLetterPathsForThePortalAndTheReportsWork() throws {
        let folder = temporaryFolder("short-paths")
        let result = try opvangsync(["import", Package.sample("zonnebloem"), "--db", "p", "--reports", "r"] + asOf, in: folder)
        #expect(result.status == 0 || result.status == 4, "\(result.stderr)")
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("p").path))
        #expect(try reportJSON(of: result, in: folder)["status"] as? String == "applied")
    }

    @Test func aBadMappingOrConfigurationIsNamedWithExit2() throws {
        let folder = temporaryFolder("config")
        try Data(#"{"rules": {"maxRemovalFraction": 2}}"#.utf8).write(to: folder.appendingPathComponent("bad.json"))
        let config = try opvangsync(["import", Package.sample("zonnebloem"), "--config", "bad.json"] + asOf, in: folder)
        #expect(config.status == 2)
        #expect(config.stderr.contains("rules.maxRemovalFraction"))
        try Data(#"{"format": "csv", "entities": {"kind": {}}}"#.utf8).write(to: folder.appendingPathComponent("map.json"))
        let mapping = try opvangsync(["import", Package.sample("zonnebloem"), "--mapping", "map.json"] + asOf, in: folder)
        #expect(mapping.status == 2)
        #expect(mapping.stderr.contains("map.json") && mapping.stderr.contains("entities.kind"))
    }

    @Test func everyCommandHasHelp() throws {
        let folder = temporaryFolder("help")
        for command in [["--help"], ["import", "--help"], ["runs", "--help"], ["report", "--help"], ["history", "--help"],
                        ["accounts", "--help"], ["mail", "send", "--help"], ["attendance", "--help"]] {
            let result = try opvangsync(command, in: folder)
            #expect(result.status == 0, "\(command)")
            #expect(result.stdout.contains("Usage: opvangsync"), "\(command)")
        }
    }

    @Test func aSecondRunOnTheSamePortalExitsAtOnceNamingTheHolder() throws {
        let folder = temporaryFolder("lock")
        let path = folder.appendingPathComponent("portal.sqlite").path
        do {
            let held = try RunLock(databasePath: path)
            let second = try opvangsync(["import", Package.sample("zonnebloem")] + asOf, in: folder)
            #expect(second.status == 1)
            #expect(second.stderr.contains("pid \(getpid())"), "\(second.stderr)")
            let report = try reportJSON(of: second, in: folder)
            #expect(report["status"] as? String == "failed")
            #expect((report["abortReason"] as? String)?.contains("pid \(getpid())") == true)
            #expect(report["organisation"].flatMap { ($0 as? [String: Any])?["id"] as? String } == "zonnebloem")
            #expect(!FileManager.default.fileExists(atPath: path), "the refused run did not touch the portal")
            withExtendedLifetime(held) {}
        }
        let after = try opvangsync(["import", Package.sample("zonnebloem")] + asOf, in: folder)
        #expect(after.status == 0, "the lock is gone with its holder: \(after.stderr)")
    }

    @Test func aFaultDuringTheApplyRollsBackAndStillLeavesAReport() throws {
        let folder = temporaryFolder("fault")
        try opvangsync(["import", Package.sample("zonnebloem")] + asOf, in: folder)
        let path = folder.appendingPathComponent("portal.sqlite").path
        try Database(path: path).execute("DROP TABLE attendance_days")
        let before = try portalContents(path)
        let source = URL(fileURLWithPath: Package.sample("zonnebloem"))
        let changed = folder.appendingPathComponent("changed")
        try FileManager.default.copyItem(at: source, to: changed)
        // A full run: one that compares nothing new would not write the attendance lists at all.
        let result = try opvangsync(["import", changed.path, "--force", "--full", "--reason", "test"] + asOf, in: folder)
        #expect(result.status == 1)
        let report = try reportJSON(of: result, in: folder)
        #expect(report["status"] as? String == "failed")
        #expect((report["issues"] as! [[String: Any]]).contains { $0["code"] as? String == "internal-error" })
        #expect(try portalContents(path) == before)
    }

    @Test func aLockLeftByAKilledRunDoesNotBlockTheNextOne() throws {
        let folder = temporaryFolder("stale-lock")
        // A lock file with a dead holder's pid in it, as `kill -9` leaves it.
        try Data("999999\n".utf8).write(to: folder.appendingPathComponent("portal.sqlite.lock"))
        let result = try opvangsync(["import", Package.sample("zonnebloem")] + asOf, in: folder)
        #expect(result.status == 0, "\(result.stderr)")
    }

    @Test func aStaleExportIsRefusedUnlessForcedWithAReason() throws {
        let folder = temporaryFolder("stale")
        let stale = try opvangsync(["import", Package.sample("zonnebloem"), "--as-of", "2026-11-24"], in: folder)
        #expect(stale.status == 3)
        let report = try reportJSON(of: stale, in: folder)
        #expect(report["status"] as? String == "aborted")
        #expect((report["abortReason"] as? String)?.contains("verouderde export") == true)
        let empty = try portalContents(folder.appendingPathComponent("portal.sqlite").path)
        #expect(empty.values.allSatisfy { $0.isEmpty })

        let forced = try opvangsync(["import", Package.sample("zonnebloem"), "--as-of", "2026-11-24", "--force", "--reason", "ouder wacht op account"], in: folder)
        #expect(forced.status == 0, "\(forced.stderr)")
        let forcedReport = try reportJSON(of: forced, in: folder)
        #expect(forcedReport["reason"] as? String == "ouder wacht op account")
        #expect((forcedReport["options"] as? [String: Any])?["force"] as? Bool == true)
        #expect((forcedReport["operator"] as? String)?.isEmpty == false)

        let runs = try opvangsync(["runs", "--format", "json"], in: folder)
        let list = try JSONSerialization.jsonObject(with: Data(runs.stdout.utf8)) as! [[String: Any]]
        #expect(list.map { $0["status"] as? String } == ["applied", "aborted"])
        #expect(list.first?["reason"] as? String == "ouder wacht op account")
    }

    @Test func aTruncatedPlacementsFileWithAMatchingManifestIsRefused() throws {
        let folder = temporaryFolder("truncated")
        try opvangsync(["import", Package.sample("zonnebloem")] + asOf, in: folder)
        let before = try portalContents(folder.appendingPathComponent("portal.sqlite").path)

        // The next night's upload holds only 60% of the placements, and its manifest agrees.
        let source = URL(fileURLWithPath: Package.sample("zonnebloem"))
        let export = folder.appendingPathComponent("truncated")
        try FileManager.default.copyItem(at: source, to: export)
        let placements = export.appendingPathComponent("plaatsingen.csv")
        let lines = try Data(contentsOf: placements).split(separator: 0x0A, omittingEmptySubsequences: false)
        let kept = Array(lines.prefix(1 + (lines.count - 2) * 6 / 10))
        let truncated = Data(kept.joined(separator: [0x0A])) + Data([0x0A])
        try truncated.write(to: placements)
        var manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: export.appendingPathComponent("manifest.json"))) as! [String: Any]
        manifest["files"] = (manifest["files"] as! [[String: Any]]).map { file in
            guard file["name"] as? String == "plaatsingen.csv" else { return file }
            return ["name": "plaatsingen.csv", "rows": kept.count - 1, "sha256": SHA256.hex(of: Array(truncated))]
        }
        manifest["exportedAt"] = "2026-11-22T23:40:00+01:00"
        try JSONSerialization.data(withJSONObject: manifest).write(to: export.appendingPathComponent("manifest.json"))

        let result = try opvangsync(["import", export.path, "--as-of", "2026-11-23"], in: folder)
        #expect(result.status == 3, "\(result.stderr)")
        let report = try reportJSON(of: result, in: folder)
        #expect(report["status"] as? String == "aborted")
        let removal = (report["removals"] as! [[String: Any]]).first { $0["entity"] as? String == "placement" }
        #expect(removal?["wouldEnd"] as? Int ?? 0 > 50)
        #expect(removal?["activeBefore"] as? Int ?? 0 > 100)
        #expect(report["accounts"] is NSNull && report["attendance"] is NSNull, "nothing was worked out past the abort")
        #expect(try portalContents(folder.appendingPathComponent("portal.sqlite").path) == before)

        let allowed = try opvangsync(["import", export.path, "--as-of", "2026-11-23", "--allow-mass-changes", "--reason", "sanering"], in: folder)
        #expect(allowed.status == 0, "\(allowed.stderr)")
        #expect((try reportJSON(of: allowed, in: folder)["options"] as? [String: Any])?["allowMassChanges"] as? Bool == true)
    }
}

/// SPEC §6: organisations with inboxes, and the history commands customer service reads.
@Suite struct OperationsTests {
    @Test func importByOrganisationTakesTheNewestCompleteExportFromItsInbox() throws {
        let folder = temporaryFolder("inbox")
        let inbox = folder.appendingPathComponent("inbox")
        var older = MiniExport()
        older.exportedAt = "2026-11-20T23:40:00+01:00"
        try older.write(to: inbox.appendingPathComponent("2026-11-20"))
        var newest = MiniExport()
        newest["ouders.csv"][1] = "O1;Marieke;Dijk;nieuw@example.nl;"
        try newest.write(to: inbox.appendingPathComponent("2026-11-21"))
        // Still being uploaded: the manifest lists a file that is not there yet.
        var uploading = MiniExport()
        uploading.exportedAt = "2026-11-22T05:00:00+01:00"
        let partial = try uploading.write(to: inbox.appendingPathComponent("2026-11-22"))
        try FileManager.default.removeItem(at: partial.appendingPathComponent("plaatsingen.csv"))

        try Data("""
            { "database": "{org}.sqlite", "reports": "rapporten",
              "organisations": [ { "id": "mini", "inbox": "inbox" } ] }
            """.utf8).write(to: folder.appendingPathComponent("opvangsync.json"))
        let result = try opvangsync(["import", "--org", "mini", "--as-of", "2026-11-22"], in: folder)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("rapporten/mini/"))
        let report = try reportJSON(of: result, in: folder)
        #expect((report["export"] as? [String: Any])?["path"] as? String == inbox.appendingPathComponent("2026-11-21").path)
        let database = try Database(path: folder.appendingPathComponent("mini.sqlite").path, mode: .queryOnly)
        #expect(try database.scalarString("SELECT email FROM parents WHERE key = 'O1'") == "nieuw@example.nl")

        let wrong = try opvangsync(["import", inbox.appendingPathComponent("2026-11-21").path, "--org", "mini", "--config", "opvangsync.json"], in: folder)
        #expect(wrong.status == 0 || wrong.status == 3, "the right organisation's export is accepted (or only refused as stale)")
        let unknown = try opvangsync(["import", "--org", "zonnebloem"], in: folder)
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("organisations"))
    }

    @Test func anExportOfAnotherOrganisationIsRefused() throws {
        let folder = temporaryFolder("other-org")
        let export = try MiniExport().write(to: folder.appendingPathComponent("export"))
        let result = try opvangsync(["import", export.path, "--org", "zonnebloem", "--as-of", "2026-11-22"], in: folder)
        #expect(result.status == 1)
        #expect(result.stderr.contains("organisation-mismatch"))
    }

    @Test func runsReportAndHistoryShowWhatHappened() throws {
        let folder = temporaryFolder("history")
        var export = MiniExport()
        try export.write(to: folder.appendingPathComponent("one"))
        let first = try opvangsync(["import", "one", "--as-of", "2026-11-22"], in: folder)
        export["plaatsingen.csv"][1] = "P1;K1;G2;BSO;52 weken;01-09-2025;;07:30-18:00;07:30-18:00;"
        export.exportedAt = "2026-11-22T06:00:00+01:00"
        try export.write(to: folder.appendingPathComponent("two"))
        let second = try opvangsync(["import", "two", "--as-of", "2026-11-22", "--force", "--reason", "groep gewisseld op verzoek ouder"], in: folder)
        #expect(first.status == 0 && second.status == 0, "\(first.stderr)\(second.stderr)")

        let runs = try opvangsync(["runs"], in: folder)
        #expect(runs.status == 0)
        let lines = runs.stdout.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines[1].contains("verwerkt") && lines[1].contains("groep gewisseld"))

        let runId = try reportJSON(of: second, in: folder)["runId"] as! String
        let markdown = try opvangsync(["report", runId], in: folder)
        #expect(markdown.stdout.contains("# Importrapport Mini"))
        #expect(markdown.stdout.contains("groep gewisseld op verzoek ouder"))
        let json = try opvangsync(["report", runId, "--format", "json"], in: folder)
        #expect((try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])?["runId"] as? String == runId)
        let csv = try opvangsync(["report", runId, "--format", "csv"], in: folder)
        #expect(csv.stdout.contains("placement;P1;updated;groupCode;G1;G2"))
        #expect(try opvangsync(["report", "nope"], in: folder).status == 2)
        let dry = try opvangsync(["import", "two", "--as-of", "2026-11-22", "--dry-run", "--force", "--reason", "voorbeeld"], in: folder)
        let dryId = try reportJSON(of: dry, in: folder)["runId"] as! String
        let dryReport = try opvangsync(["report", dryId], in: folder)
        #expect(dryReport.status == 0 && dryReport.stdout.contains("proefrun"), "\(dryReport.stderr)")

        // "Why did child K1 leave group G1?"
        let history = try opvangsync(["history", "placement", "P1", "--format", "csv"], in: folder)
        #expect(history.stdout.contains("Groepcode: G1 → G2"))
        // The first version stays readable: the created entry holds every value the export gave.
        let database = try Database(path: folder.appendingPathComponent("portal.sqlite").path, mode: .queryOnly)
        let created = try database.scalarString("SELECT changes FROM change_log WHERE entity = 'placement' AND key = 'P1' AND action = 'created'")
        let fields = (try JSONSerialization.jsonObject(with: Data((created ?? "").utf8)) as? [[String: Any]] ?? [])
        #expect(fields.map { $0["field"] as? String } == ["number", "childNumber", "groupCode", "careType", "contractType", "startDate", "monday", "tuesday", "weeks"])
        #expect(fields.allSatisfy { $0["old"] is NSNull } && fields.first { $0["field"] as? String == "groupCode" }?["new"] as? String == "G1")
        #expect(history.stdout.contains("groep gewisseld op verzoek ouder"))
        #expect(history.stdout.contains(runId))
    }
}
