import Foundation
import OpvangSync
import PortalStore
import TestSupport
import Testing

/// What an operator relies on around the import: alerts, the missed night, metrics, journal priorities,
/// report retention and paths, and usage mistakes that are no runs. Through the built binary.
@Suite(.serialized) struct OperatorTests {
    /// A configuration with one organisation ("mini") and its inbox; `extra` is added at the top level.
    func configure(_ folder: URL, extra: String = "") throws {
        try Data("""
            { "database": "portal.sqlite", "reports": "reports", \(extra)
              "organisations": [ { "id": "mini", "inbox": "inbox" } ] }
            """.utf8).write(to: folder.appendingPathComponent("opvangsync.json"))
    }

    func mailConfiguration(_ server: SMTPServer, onRejected: Bool = false) -> String {
        """
        "mail": { "transport": "smtp://127.0.0.1:\(server.port)", "from": "Kinderopvang Mini <noreply@mini.example>" },
        "alerts": { "to": ["beheer@mini.example", "klantenservice@mini.example"], "onRejected": \(onRejected) },
        """
    }

    /// An export with one row rejected out of enough rows to stay under the 5% limit: applied, exit 4.
    func withOneRejectedRow(_ base: MiniExport = MiniExport()) -> MiniExport {
        var export = base
        for number in 10..<40 { export["kinderen.csv"].append("K\(number);Kind;;Nummer\(number);01-01-2022;") }
        export["kinderen.csv"].append("K4;Bram;;Jansen;31-02-2024;")
        return export
    }

    func runs(_ folder: URL) throws -> [[String: Any]] {
        let result = try opvangsync(["runs", "--format", "json", "--org", "mini"], in: folder)
        return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]] ?? []
    }

    // MARK: usage mistakes are not runs

    @Test(arguments: ["/no/such/export", "-h", "--"])
    func anExportFolderThatDoesNotExistIsAUsageErrorAndNoRun(_ word: String) throws {
        let folder = temporaryFolder("usage")
        try MiniExport().write(to: folder.appendingPathComponent("inbox/one"))
        try configure(folder)
        let imported = try opvangsync(["import", "--org", "mini", "--as-of", "2026-11-22"], in: folder)
        #expect(imported.status == 0, "\(imported.stderr)")
        let before = try runs(folder).count
        let reportsBefore = try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("reports/mini").path).count

        let result = try opvangsync(["import", word, "--as-of", "2026-11-22"], in: folder)
        #expect(result.status == 2)
        #expect(result.stderr.contains("export folder \"\(word)\" does not exist"), "\(result.stderr)")
        #expect(!result.stderr.contains("nieuwe export"), "no advice to ask for a new export")
        #expect(try runs(folder).count == before, "no run recorded")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("reports/mini").path).count == reportsBefore)
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("reports/onbekend").path))
    }

    @Test func aScopedRunOnAPortalThatDoesNotExistIsAUsageError() throws {
        let folder = temporaryFolder("scoped")
        let export = try MiniExport().write(to: folder.appendingPathComponent("export"))
        let result = try opvangsync(["import", export.path, "--only", "parent=O1", "--as-of", "2026-11-22"], in: folder)
        #expect(result.status == 2)
        #expect(result.stderr.contains("--only needs an existing portal database"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("portal.sqlite").path), "no new portal made")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("reports").path), "no report written")
    }

    @Test func versionPrintsTheVersion() throws {
        let result = try opvangsync(["--version"], in: temporaryFolder("version"))
        #expect(result.status == 0)
        #expect(result.stdout.range(of: #"^opvangsync [0-9]+\.[0-9]+\.[0-9]+\n$"#, options: .regularExpression) != nil, "\(result.stdout)")
    }

    // MARK: report paths

    @Test func theRunsTableKeepsAbsoluteReportPathsAndReportWorksFromAnyFolder() throws {
        let folder = temporaryFolder("paths")
        let export = try MiniExport().write(to: folder.appendingPathComponent("export"))
        let imported = try opvangsync(["import", export.path, "--as-of", "2026-11-22"], in: folder)
        #expect(imported.status == 0, "\(imported.stderr)")
        let list = try opvangsync(["runs", "--format", "json"], in: folder)
        let rows = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]] ?? []
        let path = rows.first?["reportPath"] as? String ?? ""
        #expect(path.hasPrefix("/"), "\(path)")
        #expect(FileManager.default.fileExists(atPath: path))

        let elsewhere = temporaryFolder("elsewhere")
        let runID = rows.first?["id"] as? String ?? ""
        let shown = try opvangsync(["report", runID, "--db", folder.appendingPathComponent("portal.sqlite").path], in: elsewhere)
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(shown.stdout.contains(runID))
    }

    @Test func aRefreshRunHasAReport() throws {
        let folder = temporaryFolder("refresh")
        let export = try MiniExport().write(to: folder.appendingPathComponent("export"))
        #expect(try opvangsync(["import", export.path, "--as-of", "2026-11-22"], in: folder).status == 0)
        let refreshed = try opvangsync(["attendance", "refresh", "--group", "G1", "--as-of", "2026-11-22"], in: folder)
        #expect(refreshed.status == 0, "\(refreshed.stderr)")
        let list = try opvangsync(["runs", "--format", "json"], in: folder)
        let rows = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]] ?? []
        let refresh = try #require(rows.first { $0["mode"] as? String == "refresh" })
        let path = try #require(refresh["reportPath"] as? String)
        #expect(path.hasPrefix("/") && FileManager.default.fileExists(atPath: path))
        let shown = try opvangsync(["report", refresh["id"] as? String ?? ""], in: folder)
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(shown.stdout.contains("planning verversen"))
    }

    // MARK: cron and the journal

    @Test func quietPrintsNothingWhenTheRunAppliedAndEverythingWhenItDidNot() throws {
        let folder = temporaryFolder("quiet")
        let export = try MiniExport().write(to: folder.appendingPathComponent("export"))
        let applied = try opvangsync(["import", export.path, "--as-of", "2026-11-22", "--quiet"], in: folder)
        #expect(applied.status == 0)
        #expect(applied.stdout.isEmpty && applied.stderr.isEmpty, "cron mails any output: \(applied.stdout)\(applied.stderr)")
        let skipped = try opvangsync(["import", export.path, "--as-of", "2026-11-22", "--quiet"], in: folder)
        #expect(skipped.status == 0)
        #expect(skipped.stdout.isEmpty && skipped.stderr.isEmpty)
        let sent = try opvangsync(["mail", "send", "--quiet"], in: folder)
        #expect(sent.status == 0)
        #expect(sent.stdout.isEmpty && sent.stderr.isEmpty)

        let stale = try opvangsync(["import", export.path, "--as-of", "2026-11-30", "--quiet"], in: folder)
        #expect(stale.status == 3)
        #expect(stale.stdout.isEmpty)
        #expect(stale.stderr.contains("aborted"), "\(stale.stderr)")
        #expect(stale.stderr.contains("report: /"), "the report's path goes to cron's mail")
    }

    @Test func underTheJournalEveryStderrLineCarriesItsPriority() throws {
        let folder = temporaryFolder("journal")
        let path = try withOneRejectedRow().write(to: folder.appendingPathComponent("export"))
        // JOURNAL_STREAM names the stream stderr really is, as systemd sets it.
        let script = """
            JOURNAL_STREAM=$(stat -L -c %d:%i /proc/self/fd/2) exec "$0" "$@"
            """
        let rejected = try runProcess("/bin/sh", ["-c", script, Package.binary("opvangsync"), "import", path.path, "--as-of", "2026-11-22"], in: folder)
        #expect(rejected.status == 4)
        let stale = try runProcess("/bin/sh", ["-c", script, Package.binary("opvangsync"), "import", path.path, "--as-of", "2026-11-30", "--force"], in: folder)
        #expect(stale.status == 2, "--force without --reason")
        let aborted = try runProcess("/bin/sh", ["-c", script, Package.binary("opvangsync"), "import", path.path, "--as-of", "2026-12-30"], in: folder)
        #expect(aborted.status == 3)
        for result in [rejected, stale, aborted] {
            let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
            #expect(!lines.isEmpty)
            for line in lines {
                #expect(line.range(of: #"^<[0-7]>"#, options: .regularExpression) != nil, "\(line)")
            }
        }
        #expect(rejected.stderr.contains("<4>kinderen.csv"), "rejected rows of an applied run are warnings: \(rejected.stderr)")
        #expect(aborted.stderr.contains("<3>opvangsync: aborted"), "\(aborted.stderr)")

        // A stderr that is not the stream systemd named (a child redirected it) gets no prefixes.
        let redirected = try opvangsync(["import", path.path, "--as-of", "2026-12-30"], in: folder, environment: ["JOURNAL_STREAM": "8:12345"])
        #expect(redirected.status == 3)
        #expect(!redirected.stderr.contains("<3>"))
    }

    // MARK: alerts

    @Test func anAbortedRunSendsOneAlertThroughTheConfiguredTransport() throws {
        let folder = temporaryFolder("alert")
        let server = try SMTPServer(in: folder)
        try configure(folder, extra: mailConfiguration(server))
        try MiniExport().write(to: folder.appendingPathComponent("inbox/one"))
        let applied = try opvangsync(["import", "--org", "mini", "--as-of", "2026-11-22"], in: folder)
        #expect(applied.status == 0, "\(applied.stderr)")
        #expect(server.messages().isEmpty, "no alert for an applied run")

        var newer = MiniExport()
        newer.exportedAt = "2026-11-23T23:40:00+01:00"
        try newer.write(to: folder.appendingPathComponent("inbox/two"))
        let stale = try opvangsync(["import", "--org", "mini", "--as-of", "2026-11-30"], in: folder)
        #expect(stale.status == 3)
        let report = try reportJSON(of: stale, in: folder)
        let messages = server.messages()
        #expect(messages.count == 2, "one alert, to each of alerts.to")
        #expect(Set(messages.compactMap { $0.headers["to"] }) == ["beheer@mini.example", "klantenservice@mini.example"])
        let alert = try #require(messages.first)
        #expect(alert.headers["from"] == "Kinderopvang Mini <noreply@mini.example>")
        #expect(alert.subject.contains("Mini") && alert.subject.contains("afgebroken"), "\(alert.subject)")
        #expect(alert.body.contains("Organisatie: Mini (mini)"))
        #expect(alert.body.contains("Status:      afgebroken"))
        #expect(alert.body.contains("verouderde export"))
        #expect(alert.body.contains("Rapport:     \(folder.path)/reports/mini/\(report["runId"] as? String ?? "?").md")
            || alert.body.contains("/reports/mini/\(report["runId"] as? String ?? "?").md"), "\(alert.body)")
        // Dutch for customer service: no configuration keys, flags or codes.
        for word in ["maxExportAgeHours", "--", "stale-export", "alerts.to"] {
            #expect(!alert.body.contains(word), "\(word) in \(alert.body)")
        }
    }

    @Test func aFailedRunSendsAnAlertAndAUsageErrorDoesNot() throws {
        let folder = temporaryFolder("failed")
        let server = try SMTPServer(in: folder)
        try configure(folder, extra: mailConfiguration(server))
        // The export of another organisation: it cannot be imported into this portal (exit 1).
        var other = MiniExport()
        other.organisation = "ander"
        let path = try other.write(to: folder.appendingPathComponent("other"))
        let failed = try opvangsync(["import", path.path, "--org", "mini", "--as-of", "2026-11-22"], in: folder)
        #expect(failed.status == 1, "\(failed.stderr)")
        #expect(server.messages().count == 2)
        let body = server.messages().first?.body ?? ""
        #expect(body.contains("Status:      mislukt"), "\(body)")
        #expect(body.contains("Reden:       de export is onleesbaar"), "\(body)")

        let usage = try opvangsync(["import", "/no/such/export", "--org", "mini"], in: folder)
        #expect(usage.status == 2)
        #expect(server.messages().count == 2, "a usage mistake sends no alert")
    }

    @Test(arguments: [true, false])
    func rejectedRowsSendAnAlertOnlyWhenAskedFor(_ onRejected: Bool) throws {
        let folder = temporaryFolder("rejected")
        let server = try SMTPServer(in: folder)
        try configure(folder, extra: mailConfiguration(server, onRejected: onRejected))
        let path = try withOneRejectedRow().write(to: folder.appendingPathComponent("export"))
        let imported = try opvangsync(["import", path.path, "--org", "mini", "--as-of", "2026-11-22"], in: folder)
        #expect(imported.status == 4, "\(imported.stderr)")
        let alerts = server.messages().filter { $0.subject.contains("opvangsync") }
        #expect(alerts.count == (onRejected ? 2 : 0))
        if onRejected { #expect(alerts.first?.body.contains("afgewezen") == true) }
    }

    // MARK: a missed night

    @Test(arguments: [false, true])
    func aMissedNightAbortsAsNoNewExportAndAlerts(_ inboxEmptied: Bool) throws {
        let folder = temporaryFolder("missed")
        let server = try SMTPServer(in: folder)
        try configure(folder, extra: mailConfiguration(server))
        try MiniExport().write(to: folder.appendingPathComponent("inbox/one"))
        #expect(try opvangsync(["import", "--org", "mini", "--as-of", "2026-11-22"], in: folder).status == 0)
        // The next night, within maxExportAgeHours (36): the same export is skipped, as before.
        let next = try opvangsync(["import", "--org", "mini", "--as-of", "2026-11-22"], in: folder)
        #expect(next.status == 0)
        #expect(next.summary.contains("skipped"))
        #expect(server.messages().isEmpty)
        if inboxEmptied { try FileManager.default.removeItem(at: folder.appendingPathComponent("inbox/one")) }

        let missed = try opvangsync(["import", "--org", "mini", "--as-of", "2026-11-25"], in: folder)
        #expect(missed.status == 3, "\(missed.stdout)\(missed.stderr)")
        let report = try reportJSON(of: missed, in: folder)
        #expect(report["status"] as? String == "aborted")
        let codes = (report["issues"] as? [[String: Any]] ?? []).compactMap { $0["code"] as? String }
        #expect(codes.contains("no-new-export"), "\(codes)")
        #expect(try runs(folder).first?["status"] as? String == "aborted")
        let messages = server.messages()
        #expect(messages.count == 2)
        #expect(messages.first?.body.contains("geen nieuwe export") == true, "\(messages.first?.body ?? "")")
    }

    // MARK: metrics

    @Test func everyRunWritesAPrometheusFileThatPromtoolAccepts() throws {
        let folder = temporaryFolder("metrics")
        let metrics = folder.appendingPathComponent("textfile/opvangsync.prom")
        try FileManager.default.createDirectory(at: metrics.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data("""
            { "database": "{org}.sqlite", "reports": "reports", "metrics": "textfile/opvangsync.prom",
              "organisations": [ { "id": "mini", "inbox": "inbox-mini" }, { "id": "ander", "inbox": "inbox-ander" } ] }
            """.utf8).write(to: folder.appendingPathComponent("opvangsync.json"))
        try withOneRejectedRow().write(to: folder.appendingPathComponent("inbox-mini/one"))
        var other = MiniExport()
        other.organisation = "ander"
        try other.write(to: folder.appendingPathComponent("inbox-ander/one"))

        #expect(try opvangsync(["import", "--org", "mini", "--as-of", "2026-11-22"], in: folder).status == 4)
        #expect(try opvangsync(["import", "--org", "ander", "--as-of", "2026-11-22"], in: folder).status == 0)
        #expect(try opvangsync(["import", "--org", "ander", "--as-of", "2026-11-30"], in: folder).status == 3)

        let text = try String(contentsOf: metrics, encoding: .utf8)
        let check = try runProcess("/bin/sh", ["-c", "promtool check metrics < textfile/opvangsync.prom"], in: folder)
        #expect(check.status == 0, "promtool: \(check.stdout)\(check.stderr)\n\(text)")
        for line in [
            #"opvangsync_last_run_status{organisation="mini",status="applied"} 1"#,
            #"opvangsync_last_run_status{organisation="ander",status="aborted"} 1"#,
            #"opvangsync_last_run_exit_code{organisation="ander"} 3"#,
            #"opvangsync_last_run_rejected_rows{organisation="mini"} 1"#,
            #"opvangsync_last_run_changes{organisation="mini",action="created"} "#,
            #"opvangsync_mail_messages{organisation="mini",status="queued"} 3"#,
            #"opvangsync_mail_messages{organisation="ander",status="bounced"} 0"#,
            #"opvangsync_last_success_timestamp_seconds{organisation="ander"} "#,
            #"opvangsync_last_run_duration_seconds{organisation="mini"} "#,
            #"opvangsync_last_run_timestamp_seconds{organisation="ander"} "#,
        ] {
            #expect(text.contains(line), "\(line) not in\n\(text)")
        }
        // The aborted run did not move the time of the last success.
        #expect(text.components(separatedBy: "\n").filter { $0.hasPrefix("opvangsync_last_success_timestamp_seconds") }.count == 2)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: metrics.deletingLastPathComponent().path)
            .filter { $0.hasSuffix(".prom") && $0 != "opvangsync.prom" }
        #expect(leftovers.isEmpty)

        // mail send brings the mail counts up to date.
        #expect(try opvangsync(["mail", "send", "--org", "mini", "--quiet"], in: folder).status == 0)
        let after = try String(contentsOf: metrics, encoding: .utf8)
        #expect(after.contains(#"opvangsync_mail_messages{organisation="mini",status="queued"} 0"#), "\(after)")
    }

    // MARK: report retention

    @Test func reportsOlderThanTheRetentionAreRemovedAndRunsKeepsTheirSummary() throws {
        let folder = temporaryFolder("retention")
        try configure(folder, extra: #""reportRetentionDays": 30,"#)
        let first = try MiniExport().write(to: folder.appendingPathComponent("first"))
        let old = try opvangsync(["import", first.path, "--org", "mini", "--as-of", "2026-11-22"], in: folder)
        #expect(old.status == 0)
        let oldID = try reportJSON(of: old, in: folder)["runId"] as? String ?? ""
        let reports = folder.appendingPathComponent("reports/mini")
        #expect(try FileManager.default.contentsOfDirectory(atPath: reports.path).contains { $0.hasPrefix(oldID) })
        // That run started long ago, as far as the runs table knows; a dry run of then left only files.
        let database = try Database(path: folder.appendingPathComponent("portal.sqlite").path)
        try database.run("UPDATE runs SET started_at = '2024-01-01T01:00:00Z' WHERE id = ?", [.text(oldID)])
        let oldDryRun = reports.appendingPathComponent("20240101T010000Z-abcdef.json")
        try Data("{}".utf8).write(to: oldDryRun)
        let unrelated = reports.appendingPathComponent("notities.txt")
        try Data("blijft".utf8).write(to: unrelated)

        var newer = MiniExport()
        newer.exportedAt = "2026-11-22T23:40:00+01:00"
        let second = try newer.write(to: folder.appendingPathComponent("second"))
        let now = try opvangsync(["import", second.path, "--org", "mini", "--as-of", "2026-11-23"], in: folder)
        #expect(now.status == 0, "\(now.stderr)")
        let newID = try reportJSON(of: now, in: folder)["runId"] as? String ?? ""

        let left = try FileManager.default.contentsOfDirectory(atPath: reports.path)
        #expect(!left.contains { $0.hasPrefix(oldID) }, "\(left)")
        #expect(!left.contains("20240101T010000Z-abcdef.json"))
        #expect(left.contains("notities.txt"))
        #expect(left.contains("\(newID).md") && left.contains("\(newID).json"))
        let kept = try database.scalarString("SELECT report_json FROM runs WHERE id = ?", [.text(oldID)])
        #expect(kept == nil, "the copy in the runs row holds personal data too")

        let history = try runs(folder)
        let row = try #require(history.first { $0["id"] as? String == oldID })
        #expect(((row["summary"] as? [String: Any])?["counts"] as? [String: Any])?.isEmpty == false)
        let shown = try opvangsync(["report", oldID, "--org", "mini"], in: folder)
        #expect(shown.status == 2)
        #expect(shown.stderr.contains("removed after 30 days"), "\(shown.stderr)")
    }
}
