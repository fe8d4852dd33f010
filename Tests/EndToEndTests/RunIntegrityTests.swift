import Foundation
import OpvangSync
import PortalStore
import TestSupport
import Testing

/// SPEC §5: a run applies in order, all or nothing, together with its report; retention removes what it
/// must and nothing of anyone else. Through the built binary, over several nights where it matters.
@Suite struct RunIntegrityTests {
    func run(_ export: MiniExport, asOf: String, in folder: URL, exportedAt: String? = nil, _ extra: [String] = [],
             shell limit: String? = nil) throws -> ProcessResult {
        var copy = export
        copy.exportedAt = exportedAt ?? "\(asOf)T01:00:00+01:00"
        let path = try copy.write(to: folder.appendingPathComponent("export-\(UUID().uuidString)"))
        let arguments = ["import", path.path, "--as-of", asOf] + extra
        guard let limit else { return try opvangsync(arguments, in: folder) }
        // A resource limit, as `ulimit` in a shell script or a systemd unit sets it, with every signal at
        // its default and none blocked (a test runner may leave SIGXFSZ ignored or blocked, and both are
        // inherited across exec).
        let script = """
            import os, resource, signal, sys
            signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_SETMASK, [])
            \(limit)
            os.execv(sys.argv[1], sys.argv[1:])
            """
        return try runProcess("/usr/bin/python3", ["-c", script, Package.binary("opvangsync")] + arguments, in: folder)
    }

    func db(_ folder: URL) throws -> Database { try Database(path: folder.appendingPathComponent("portal.sqlite").path) }

    func report(_ result: ProcessResult, _ folder: URL) throws -> [String: Any] { try reportJSON(of: result, in: folder) }

    func codes(_ report: [String: Any]) -> [String] {
        (report["issues"] as? [[String: Any]] ?? []).compactMap { $0["code"] as? String }
    }

    // MARK: Exports in order

    @Test func anExportOlderThanTheLastOneAppliedIsRefusedUnlessForced() throws {
        let folder = temporaryFolder("older")
        var late = MiniExport()
        late["kinderen.csv"][1] = "K1;Zoë;van;Dijk-Bakker;03-02-2024;M1"
        #expect(try run(late, asOf: "2026-11-22", in: folder, exportedAt: "2026-11-21T23:40:00+01:00").status == 0)
        let early = MiniExport()
        let refused = try run(early, asOf: "2026-11-22", in: folder, exportedAt: "2026-11-21T20:00:00+01:00")
        #expect(refused.status == 3, "\(refused.stderr)")
        #expect(codes(try report(refused, folder)).contains("older-export"))
        #expect(try db(folder).scalarString("SELECT last_name FROM children WHERE key = 'K1'") == "Dijk-Bakker")
        #expect(try db(folder).scalarInt("SELECT exit_code FROM runs ORDER BY started_at DESC, rowid DESC LIMIT 1") == 3)

        let forced = try run(early, asOf: "2026-11-22", in: folder, exportedAt: "2026-11-21T20:00:00+01:00",
                             ["--force", "--reason", "planningssysteem teruggezet"])
        #expect(forced.status == 0)
        #expect(try db(folder).scalarString("SELECT last_name FROM children WHERE key = 'K1'") == "Dijk")
    }

    // MARK: Dead invitations

    @Test func anInvitationARunSupersedesIsNeverDelivered() throws {
        let folder = temporaryFolder("superseded")
        var export = MiniExport()
        export["ouders.csv"].append("O5;Bas;Dijk;bas@example.nl;")
        export["relaties.csv"].append("K1;O5;Ouder 2")
        #expect(try run(export, asOf: "2026-11-22", in: folder).status == 0)
        #expect(try db(folder).scalarInt("SELECT COUNT(*) FROM outbox WHERE recipient = 'bas@example.nl' AND status = 'queued'") == 1)

        // Night 2: O5 now has O1's address and the same child: one shared account, O5's own link is dead.
        export["ouders.csv"][4] = "O5;Bas;Dijk;marieke@example.nl;"
        let second = try run(export, asOf: "2026-11-23", in: folder)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(try db(folder).scalarInt("SELECT COUNT(*) FROM outbox WHERE recipient = 'bas@example.nl' AND status = 'queued'") == 0)
        #expect(try db(folder).scalarInt("SELECT COUNT(*) FROM invitations WHERE address = 'bas@example.nl' AND revoked_at IS NULL AND used_at IS NULL") == 0)

        #expect(try opvangsync(["mail", "send"], in: folder).status == 0)
        let delivered = (FileManager.default.enumerator(atPath: folder.appendingPathComponent("outbox").path)?.allObjects as? [String] ?? [])
            .filter { $0.hasSuffix(".eml") }
            .compactMap { try? String(contentsOf: folder.appendingPathComponent("outbox").appendingPathComponent($0), encoding: .utf8) }
        #expect(!delivered.isEmpty)
        #expect(!delivered.contains { $0.contains("To: bas@example.nl") || $0.contains("<bas@example.nl>") })
    }

    // MARK: A run and its report are one

    @Test func aReportThatCannotBeWrittenRollsTheRunBack() throws {
        let folder = temporaryFolder("no-report")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("reports"), withIntermediateDirectories: true)
        // The organisation's report folder is taken by a file: nothing can be written there.
        try Data("in de weg\n".utf8).write(to: folder.appendingPathComponent("reports/mini"))
        let result = try run(MiniExport(), asOf: "2026-11-22", in: folder)
        #expect(result.status == 1, "\(result.stdout)\n\(result.stderr)")
        #expect(try db(folder).scalarInt("SELECT COUNT(*) FROM children") == 0)
        #expect(try db(folder).scalarInt("SELECT COUNT(*) FROM outbox") == 0)
        #expect(try db(folder).query("SELECT status, exit_code FROM runs") { "\($0.string(0) ?? "") \($0.int(1) ?? -1)" } == ["failed 1"])
    }

    @Test func aRunKilledBetweenItsCommitAndItsReportFilesGetsThemFromTheDatabase() throws {
        let folder = temporaryFolder("kept-report")
        // A mail server that accepts the connection and never answers: `--send-mail` waits in delivery,
        // after the commit and before the report files are renamed into place. There the run is killed.
        let server = try SMTPServer(in: folder, mode: .silent)
        defer { server.stop() }
        try Data(#"{"mail": {"transport": "smtp://127.0.0.1:\#(server.port)", "connectTimeoutSeconds": 120, "replyTimeoutSeconds": 120, "batchDeadlineSeconds": 600}}"#.utf8)
            .write(to: folder.appendingPathComponent("opvangsync.json"))
        var export = MiniExport()
        export.exportedAt = "2026-11-22T01:00:00+01:00"
        let path = try export.write(to: folder.appendingPathComponent("export"))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Package.binary("opvangsync"))
        process.arguments = ["import", path.path, "--as-of", "2026-11-22", "--send-mail"]
        process.currentDirectoryURL = folder
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        var runID: String?
        for _ in 0..<600 where runID == nil {
            Thread.sleep(forTimeInterval: 0.1)
            if FileManager.default.fileExists(atPath: folder.appendingPathComponent("portal.sqlite").path) {
                runID = try? Database(path: folder.appendingPathComponent("portal.sqlite").path, mode: .readOnly)
                    .scalarString("SELECT id FROM runs WHERE status = 'applied'")
            }
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let id = try #require(runID, "the run committed")
        let database = try db(folder)
        #expect(try database.scalarInt("SELECT COUNT(*) FROM children") == 3)
        let kept = try #require(try database.scalarString("SELECT report_json FROM runs WHERE id = ?", [.text(id)]))
        #expect((try JSONSerialization.jsonObject(with: Data(kept.utf8)) as? [String: Any])?["status"] as? String == "applied")
        #expect(try database.scalarInt("SELECT exit_code FROM runs WHERE id = ?", [.text(id)]) == 0)
        let base = folder.appendingPathComponent("reports/mini/\(id)")
        #expect(!FileManager.default.fileExists(atPath: base.path + ".json"), "killed before the rename")

        let shown = try opvangsync(["report", id], in: folder)
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(shown.stdout.contains("# Importrapport"))
        for suffix in [".json", ".md", "-wijzigingen.csv", "-afgewezen.csv"] {
            #expect(FileManager.default.fileExists(atPath: base.path + suffix), "\(suffix)")
        }
        let written = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: base.path + ".json"))) as! [String: Any]
        #expect(written["runId"] as? String == id)
        // The kept report left its changes to the change log; the rewritten one has them all.
        let changes = try #require(written["changes"] as? [[String: Any]])
        #expect(changes.count == (try database.scalarInt("SELECT COUNT(*) FROM change_log WHERE run_id = ?", [.text(id)]) ?? -1))
        #expect(changes.count > 0)
        #expect(kept.utf8.count < 20_000, "the runs row keeps no copy of the list of changes")
    }

    @Test func aCompletedRunKeepsItsReportInItsFilesAndItsRowAgreesWithIt() throws {
        let folder = temporaryFolder("released-report")
        let result = try run(MiniExport(), asOf: "2026-11-22", in: folder)
        #expect(result.status == 0)
        let written = try report(result, folder)
        let runID = written["runId"] as! String
        let database = try db(folder)
        #expect(try database.scalarString("SELECT finished_at FROM runs WHERE id = ?", [.text(runID)]) == written["finishedAt"] as? String)
        #expect(try database.scalarInt("SELECT exit_code FROM runs WHERE id = ?", [.text(runID)]) == Int(result.status))
        // Once the files are in place, the database keeps no second copy of the personal data in them.
        #expect(try database.scalarString("SELECT report_json FROM runs WHERE id = ?", [.text(runID)]) == nil)
        let temporaries = try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("reports/mini").path)
            .filter { $0.contains(".tmp-") }
        #expect(temporaries.isEmpty)
    }

    // MARK: A full disk

    @Test func aFileSizeLimitIsAnErrorThatRollsBackNotASignal() throws {
        let folder = temporaryFolder("fsize")
        #expect(try run(MiniExport(), asOf: "2026-11-22", in: folder).status == 0)
        var big = MiniExport()
        for index in 0..<3000 {
            big["kinderen.csv"].append("KX\(index);Kind\(index);;Achternaam\(index);01-01-2023;M1")
        }
        // 100 KiB: the new rows in the WAL do not fit.
        let result = try run(big, asOf: "2026-11-23", in: folder, shell: "resource.setrlimit(resource.RLIMIT_FSIZE, (100 * 1024, 100 * 1024))")
        #expect(result.status == 1, "killed by SIGXFSZ gives 153 or a signal: \(result.status) \(result.stderr)")
        #expect(result.stderr.contains("File too large") || result.stderr.contains("disk"), "\(result.stderr)")
        #expect(try db(folder).scalarInt("SELECT COUNT(*) FROM children") == 3)
        #expect(try db(folder).integrityCheck() == "ok")
        // The next run, with room, succeeds.
        #expect(try run(big, asOf: "2026-11-23", in: folder).status == 0)
        #expect(try db(folder).scalarInt("SELECT COUNT(*) FROM children") == 3003)
    }

    @Test func aTightAddressSpaceLimitEndsTheRunInsteadOfHangingIt() throws {
        // Under these limits a second thread's stack may not fit; the run must then go on with one thread
        // (or fail cleanly), never wait for ever. 90 to 140 MiB spans "cannot start a thread" to "fits".
        var outcomes: [String] = []
        for mebibytes in stride(from: 90, through: 140, by: 5) {
            let folder = temporaryFolder("as-limit")
            let limit = mebibytes << 20
            let result = try run(MiniExport(), asOf: "2026-11-22", in: folder,
                                 shell: "resource.setrlimit(resource.RLIMIT_AS, (\(limit), \(limit)))\nsys.argv[1:1] = ['/usr/bin/timeout', '60']")
            outcomes.append("\(mebibytes) MiB: \(result.status)")
            #expect(result.status != 124, "the run hung under a \(mebibytes) MiB limit")
            // It finishes, fails cleanly, cannot even load (127 from the loader), or is stopped by the runtime: SIGILL
            // (status 4, like "applied with rejected rows", which MiniExport never is) when a Swift trap ends it,
            // while it registers the binary's images or later; SIGABRT when memory runs out; SIGSEGV when the
            // runtime's own fatal-error path finds no memory either. Which limits do what shifts with the size of
            // the binary. Whichever, the portal is whole and holds the run entirely or not at all.
            let path = folder.appendingPathComponent("portal.sqlite").path
            #expect([0, 1, 127, 4, 6, 11].contains(result.status), "\(mebibytes) MiB: \(result.status) \(result.stderr.suffix(300))")
            if result.status != 0, FileManager.default.fileExists(atPath: path), let database = try? Database(path: path, mode: .readOnly),
               (try? database.scalarInt("SELECT COUNT(*) FROM sqlite_master WHERE name = 'children'")) == 1 {
                #expect(try database.integrityCheck() == "ok")
                #expect(try database.scalarInt("SELECT COUNT(*) FROM children") == 0, "\(mebibytes) MiB: half applied")
            }
        }
        #expect(outcomes.contains { $0.hasSuffix(": 0") }, "no limit let a run through: \(outcomes)")
    }

    // MARK: Retention

    /// Child 1001 and parent 1001 are different people; both families' care ended on 15-08-2026.
    func twoFamilies() -> MiniExport {
        var export = MiniExport()
        export["kinderen.csv"].append(contentsOf: ["1001;Lotte;;Jansen;01-01-2023;", "3001;Sem;;Visser;01-01-2023;"])
        export["ouders.csv"].append(contentsOf: ["2001;Eva;Jansen;eva@example.nl;", "1001;Tom;Visser;tom@example.nl;"])
        export["relaties.csv"].append(contentsOf: ["1001;2001;Ouder 1", "3001;1001;Ouder 1"])
        export["plaatsingen.csv"].append(contentsOf: ["P1001;1001;G1;KDV;52 weken;01-01-2026;15-08-2026;08:00-17:00;;",
                                                      "P3001;3001;G1;KDV;52 weken;01-01-2026;15-08-2026;08:00-17:00;;"])
        return export
    }

    @Test func aReturningChildBringsBackNoUnrelatedParentWithTheSameNumber() throws {
        let folder = temporaryFolder("kinds-apart")
        var export = twoFamilies()
        #expect(try run(export, asOf: "2026-08-01", in: folder).status == 0)
        let purged = try run(export, asOf: "2028-08-16", in: folder)
        #expect(purged.status == 0, "\(purged.stderr)")
        #expect(try db(folder).scalarString("SELECT purged_at FROM parents WHERE key = '1001'") == "2028-08-16")
        #expect(try db(folder).scalarString("SELECT purged_at FROM children WHERE key = '1001'") == "2028-08-16")

        // Child 1001 is in care again; parent 1001 (Tom, of child 3001) is not.
        export["plaatsingen.csv"].append("P1002;1001;G1;KDV;52 weken;01-09-2028;;08:00-17:00;;")
        #expect(try run(export, asOf: "2028-08-17", in: folder).status == 0)
        #expect(try run(export, asOf: "2028-08-18", in: folder).status == 0)
        let database = try db(folder)
        #expect(try database.scalarString("SELECT first_name FROM children WHERE key = '1001'") == "Lotte")
        #expect(try database.scalarString("SELECT purged_at FROM parents WHERE key = '1001'") == "2028-08-16")
        #expect(try database.scalarString("SELECT first_name FROM parents WHERE key = '1001'") == nil)
        #expect(try database.scalarString("SELECT last_name FROM parents WHERE key = '2001'") == "Jansen", "the returning child's own parent")
    }

    @Test func purgingAChildClearsItsAbsenceReasonsOnPastLists() throws {
        let folder = temporaryFolder("reasons")
        var export = twoFamilies()
        export["afwijkingen.csv"].append("1001;G1;03-08-2026;Afwezig;;;ziekenhuisopname")
        #expect(try run(export, asOf: "2026-08-01", in: folder).status == 0)
        #expect(try db(folder).scalarString("SELECT reason FROM attendance WHERE child_number = '1001' AND date = '2026-08-03'") == "ziekenhuisopname")
        #expect(try run(export, asOf: "2028-08-16", in: folder).status == 0)
        let database = try db(folder)
        #expect(try database.scalarInt("SELECT COUNT(*) FROM attendance WHERE child_number = '1001' AND reason IS NOT NULL") == 0)
        #expect(try database.scalarInt("SELECT COUNT(*) FROM attendance WHERE child_number = '1001' AND absent = 1") == 1)
    }

    @Test func theChangeLogIsClearedByExactKeysAndAnUnreadableEntryStopsThePurge() throws {
        let folder = temporaryFolder("exact-keys")
        var export = twoFamilies()
        // `1%` as a LIKE pattern would also match child 1001's and 3001's deviations... and `K1`'s.
        export["kinderen.csv"].append("1%;Pim;;Bos;01-01-2023;")
        export["relaties.csv"].append("1%;2001;Ouder 2")
        export["plaatsingen.csv"].append("P1%;1%;G1;KDV;52 weken;01-01-2026;15-08-2026;08:00-17:00;;")
        export["afwijkingen.csv"].append(contentsOf: ["1%;G1;03-08-2026;Afwezig;;;griep", "10;G1;03-08-2026;Afwezig;;;ander kind"])
        export["kinderen.csv"].append("10;Ida;;Kok;01-01-2023;")
        export["relaties.csv"].append("10;O1;Ouder 2")
        export["plaatsingen.csv"].append("P10;10;G1;KDV;52 weken;01-01-2026;;08:00-17:00;;")
        #expect(try run(export, asOf: "2026-08-01", in: folder).status == 0)
        let log = "SELECT changes FROM change_log WHERE entity = 'deviation' AND key LIKE '10/%'"
        #expect(try db(folder).scalarString(log)?.contains("ander kind") == true)

        // An entry that cannot be read: the purge stops, nothing of it is applied.
        try db(folder).run("UPDATE change_log SET changes = 'kapot' WHERE entity = 'child' AND key = '1001'")
        let stopped = try run(export, asOf: "2028-08-16", in: folder)
        #expect(stopped.status == 1, "\(stopped.stderr)")
        #expect(try db(folder).scalarString("SELECT first_name FROM children WHERE key = '1001'") == "Lotte")
        try db(folder).run("UPDATE change_log SET changes = '[]' WHERE entity = 'child' AND key = '1001'")

        #expect(try run(export, asOf: "2028-08-16", in: folder).status == 0)
        #expect(try db(folder).scalarString("SELECT first_name FROM children WHERE key = '1%'") == nil)
        #expect(try db(folder).scalarString(log)?.contains("ander kind") == true, "another child's deviation is untouched")
        #expect(try db(folder).scalarString("SELECT changes FROM change_log WHERE entity = 'deviation' AND key LIKE '1\\%/%' ESCAPE '\\'")?.contains("griep") == false)
    }

    // MARK: The inbox

    @Test func aNewerFolderWithABrokenManifestIsNamedInTheReport() throws {
        let folder = temporaryFolder("inbox")
        let inbox = folder.appendingPathComponent("inbox")
        try MiniExport().write(to: inbox.appendingPathComponent("2026-11-21"))
        let arriving = inbox.appendingPathComponent("2026-11-22")
        try MiniExport().write(to: arriving)
        try Data("{\"organisation\": ".utf8).write(to: arriving.appendingPathComponent("manifest.json"))
        // The broken folder arrived later.
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -3600)],
                                              ofItemAtPath: inbox.appendingPathComponent("2026-11-21").path)
        try Data(#"{"organisations": [{"id": "mini", "inbox": "inbox"}]}"#.utf8).write(to: folder.appendingPathComponent("opvangsync.json"))
        let result = try opvangsync(["import", "--org", "mini", "--as-of", "2026-11-22"], in: folder)
        #expect(result.status == 0, "\(result.stderr)")
        let issues = try report(result, folder)["issues"] as! [[String: Any]]
        let warning = issues.first { $0["code"] as? String == "inbox-folder-passed-over" }
        #expect((warning?["file"] as? String)?.hasSuffix("2026-11-22") == true, "\(issues)")
        #expect((warning?["message"] as? String)?.contains("onleesbaar") == true)
    }
}
