import Foundation
import OpvangSync
import PortalStore
import TestSupport
import Testing

/// SPEC §4, §5: the portal is live while the import runs. Its own columns keep every write it makes, and
/// a decision that depends on them is checked where it is applied.
@Suite struct LivePortalTests {
    func settings(_ folder: URL) -> OrganisationSettings {
        var settings = Configuration.builtIn.defaults
        settings.database = folder.appendingPathComponent("portal.sqlite").path
        settings.reports = folder.appendingPathComponent("reports").path
        return settings
    }

    /// The race forced: the parent activates the account after the run planned it (as not activated) and
    /// before its transaction, through the portal's own connection.
    @Test func anAccountActivatedBetweenThePlanAndTheTransactionGetsItsNoticesNotANewLink() throws {
        let folder = temporaryFolder("race")
        var export = MiniExport()
        let first = try opvangsync(["import", export.write(to: folder.appendingPathComponent("n1")).path, "--as-of", "2026-11-22"], in: folder)
        #expect(first.status == 0, "\(first.stderr)")
        export["ouders.csv"][1] = "O1;Marieke;Dijk;marieke.nieuw@example.nl;"
        export.exportedAt = "2026-11-22T09:00:00+01:00"
        let next = try export.write(to: folder.appendingPathComponent("n2"))

        var request = ImportRequest(exportDirectory: next.path, settings: settings(folder), operatorName: "test")
        request.asOf = Day(iso: "2026-11-22")
        var activated = false
        // Inside the transaction: the report's files must be staged already, not written while portal writes wait.
        var stagedInTransaction: [String]?
        let outcome = try Importer().run(request) { progress in
            if case .applying = progress, stagedInTransaction == nil {
                let folder = URL(fileURLWithPath: request.settings.reports).appendingPathComponent(export.organisation).path
                stagedInTransaction = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.contains(".tmp-") }
            }
            guard case .phase("toepassen") = progress, !activated else { return }
            activated = true
            let portal = try? Database(path: request.settings.database)
            try? portal?.inTransaction {
                try portal?.run("UPDATE accounts SET activated_at = '2026-11-22T08:30:00Z', password_hash = '$argon2id$geheim' WHERE parent_number = 'O1'")
                try portal?.run("UPDATE invitations SET used_at = '2026-11-22T08:30:00Z' WHERE account = 'O1' AND used_at IS NULL AND revoked_at IS NULL")
            }
        }
        #expect(activated)
        #expect(outcome.exitCode == .success)
        let database = try Database(path: request.settings.database, mode: .readOnly)
        let queued = try database.query("SELECT kind FROM outbox WHERE account = 'O1' AND run_id = ? ORDER BY id", [.text(outcome.report.runId)]) {
            $0.string(0) ?? ""
        }
        #expect(queued == ["address-change-old", "address-change-new"], "notices to both addresses, no new activation link")
        #expect(try database.scalarInt("SELECT COUNT(*) FROM invitations WHERE account = 'O1'") == 1, "no new invitation")
        #expect(try database.scalarString("SELECT username || ' ' || password_hash FROM accounts WHERE parent_number = 'O1'")
                == "marieke.nieuw@example.nl $argon2id$geheim")
        #expect(try database.scalarString("SELECT revoked_at FROM invitations WHERE account = 'O1'") == nil, "the used link is not revoked")
        #expect(outcome.report.issues.contains { $0.code == "activated-during-run" && $0.key == "O1" })
        #expect(stagedInTransaction.map { Set($0.map { $0.components(separatedBy: ".tmp-")[0] }).count } == 5,
                "all five report files staged before the write lock: \(stagedInTransaction ?? [])")
        // The note made inside the transaction reaches every file the run leaves, the issues CSV included.
        let paths = try #require(outcome.reportPaths)
        for path in [paths.json, paths.markdown, paths.html, paths.rejectedCSV] {
            #expect(try String(contentsOfFile: path, encoding: .utf8).contains("terwijl deze import liep"), "\(path)")
        }
        #expect(outcome.report.mail?.queued == 2)
        #expect((outcome.report.writeLockSeconds ?? -1) >= 0)
    }

    /// A portal process writes throughout a sequence of nightly imports, through its own connection with a
    /// 5 s busy timeout: activations (some of accounts whose address the night changes), terms, consents and
    /// notification settings.
    @Test func thePortalKeepsEveryWriteItMakesDuringNightlyImports() throws {
        let folder = temporaryFolder("live")
        let generated = folder.appendingPathComponent("n1")
        #expect(try exportgen(["--children", "300", "--encoding", "utf-8", "--as-of", "2026-11-22", "--out", generated.path], in: folder).status == 0)
        try Data(#"{"rules": {"maxRemovalFraction": 0.5}}"#.utf8).write(to: folder.appendingPathComponent("opvangsync.json"))
        let first = try opvangsync(["import", generated.path, "--as-of", "2026-11-22"], in: folder)
        #expect([0, 4].contains(first.status), "\(first.stderr)")
        let database = folder.appendingPathComponent("portal.sqlite").path

        let stop = folder.appendingPathComponent("stop")
        let log = folder.appendingPathComponent("portal-log.json")
        let script = folder.appendingPathComponent("portal.py")
        try Data(Self.portal.utf8).write(to: script)
        let portal = Process()
        portal.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        portal.arguments = [script.path, database, stop.path, log.path]
        try portal.run()
        // Should a night throw, the portal still stops (it would otherwise write on until killed).
        defer {
            if portal.isRunning { portal.terminate() }
        }

        // Four nights, each changing the address of a fifth of the parents.
        var lines = try String(contentsOf: generated.appendingPathComponent("ouders.csv"), encoding: .utf8)
            .split(whereSeparator: \.isNewline).map(String.init)
        let others = try FileManager.default.contentsOfDirectory(atPath: generated.path).filter { $0.hasSuffix(".csv") && $0 != "ouders.csv" }
        for night in 1...4 {
            Thread.sleep(forTimeInterval: 0.3)
            var export = MiniExport()
            export.organisation = "zonnebloem"
            export.organisationName = "Kinderopvang De Zonnebloem"
            for name in others {
                export.files[name] = try String(contentsOf: generated.appendingPathComponent(name), encoding: .utf8)
                    .split(whereSeparator: \.isNewline).map(String.init)
            }
            for index in lines.indices.dropFirst() where index % 5 == night % 5 {
                var fields = lines[index].split(separator: ";", omittingEmptySubsequences: false).map(String.init)
                if let at = fields[4].firstIndex(of: "@") { fields[4].insert(contentsOf: ".n\(night)", at: at) }
                lines[index] = fields.joined(separator: ";")
            }
            export.files["ouders.csv"] = lines
            let day = Day(iso: "2026-11-22")!.adding(days: night)
            export.exportedAt = day.adding(days: -1).iso + "T23:40:00+01:00"
            let result = try opvangsync(["import", export.write(to: folder.appendingPathComponent("night\(night)")).path,
                                         "--as-of", day.iso], in: folder)
            #expect([0, 4].contains(result.status), "night \(night): \(result.stderr)")
        }
        Thread.sleep(forTimeInterval: 0.3)
        _ = FileManager.default.createFile(atPath: stop.path, contents: nil)
        portal.waitUntilExit()
        #expect(portal.terminationStatus == 0)

        let written = try JSONSerialization.jsonObject(with: Data(contentsOf: log)) as! [String: Any]
        let failures = written["failures"] as! [String]
        #expect(failures.isEmpty, "every portal write succeeds: \(failures.prefix(3))")
        let writes = written["writes"] as! Int
        #expect(writes > 20, "the portal kept writing: \(writes)")
        print("portal writes during the imports: \(writes); longest wait \(written["maxWait"] as! Double) s")

        let db = try Database(path: database, mode: .readOnly)
        // Every write is present afterwards: the last value the portal wrote per column.
        for (key, value) in written["last"] as! [String: String] {
            let parts = key.split(separator: "|").map(String.init)
            let stored: String?
            if parts[0] == "consent" {
                stored = try db.scalarString("SELECT granted || '@' || set_at FROM consents WHERE child_number = ? AND kind = ?",
                                             [.text(parts[1]), .text(parts[2])])
            } else {
                stored = try db.scalarString("SELECT \(parts[0]) FROM accounts WHERE parent_number = ?", [.text(parts[1])])
            }
            #expect(stored == value, "\(key): the portal wrote \(value), the portal now holds \(stored ?? "nothing")")
        }
        // No activated account got an activation mail queued after its activation; one whose address changed
        // after it got its notices.
        for activation in written["activations"] as! [[String: Any]] {
            let owner = activation["account"] as! String, last = activation["lastOutbox"] as! Int
            let username = activation["username"] as! String
            let later = try db.query("SELECT kind FROM outbox WHERE account = ? AND id > ?", [.text(owner), .integer(Int64(last))]) {
                $0.string(0) ?? ""
            }
            #expect(!later.contains("invitation") && !later.contains("resend"), "\(owner) activated, then got \(later)")
            if try db.scalarString("SELECT username FROM accounts WHERE parent_number = ?", [.text(owner)]) != username {
                #expect(later.contains("address-change-old") && later.contains("address-change-new"), "\(owner): \(later)")
            }
        }
    }

    /// The simulated portal: writes the portal's own columns in a loop until told to stop.
    static let portal = #"""
    import json, os, random, sqlite3, sys, time
    path, stop, out = sys.argv[1], sys.argv[2], sys.argv[3]
    db = sqlite3.connect(path, timeout=5.0, isolation_level=None)
    random.seed(7)
    failures, activations, last = [], [], {}
    writes, max_wait = 0, 0.0
    def now():
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    while not os.path.exists(stop):
        began = time.monotonic()
        try:
            db.execute("BEGIN IMMEDIATE")
            action = random.choice(["activate", "activate", "terms", "notify", "consent"])
            stamp = now()
            if action == "activate":
                row = db.execute("SELECT parent_number, username FROM accounts WHERE activated_at IS NULL ORDER BY random() LIMIT 1").fetchone()
                if row:
                    owner, username = row
                    most = db.execute("SELECT COALESCE(MAX(id), 0) FROM outbox WHERE account = ?", (owner,)).fetchone()[0]
                    db.execute("UPDATE accounts SET activated_at = ?, password_hash = ? WHERE parent_number = ?", (stamp, "$argon2id$" + owner, owner))
                    db.execute("UPDATE invitations SET used_at = ? WHERE account = ? AND used_at IS NULL AND revoked_at IS NULL", (stamp, owner))
                    activations.append({"account": owner, "username": username, "lastOutbox": most})
                    last["activated_at|" + owner] = stamp
                    last["password_hash|" + owner] = "$argon2id$" + owner
            elif action in ("terms", "notify"):
                row = db.execute("SELECT parent_number FROM accounts ORDER BY random() LIMIT 1").fetchone()
                if row:
                    if action == "terms":
                        db.execute("UPDATE accounts SET terms_accepted_at = ? WHERE parent_number = ?", (stamp, row[0]))
                        last["terms_accepted_at|" + row[0]] = stamp
                    else:
                        value = json.dumps({"dagboek": random.choice([True, False]), "nieuws": random.choice([True, False])})
                        db.execute("UPDATE accounts SET notification_settings = ? WHERE parent_number = ?", (value, row[0]))
                        last["notification_settings|" + row[0]] = value
            else:
                row = db.execute("SELECT key FROM children ORDER BY random() LIMIT 1").fetchone()
                if row:
                    kind, granted = random.choice(["foto", "dagboek", "uitstapje"]), random.choice([0, 1])
                    db.execute("INSERT OR REPLACE INTO consents (child_number, kind, granted, set_at) VALUES (?, ?, ?, ?)", (row[0], kind, granted, stamp))
                    last["consent|%s|%s" % (row[0], kind)] = "%d@%s" % (granted, stamp)
            db.execute("COMMIT")
            writes += 1
        except Exception as error:
            failures.append("%s: %s" % (type(error).__name__, error))
            try:
                db.execute("ROLLBACK")
            except Exception:
                pass
        max_wait = max(max_wait, time.monotonic() - began)
        time.sleep(0.01)
    json.dump({"writes": writes, "failures": failures, "activations": activations, "last": last, "maxWait": max_wait}, open(out, "w"))
    """#
}
