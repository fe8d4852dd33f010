import Foundation
import OpvangSync
import PortalStore
import TestSupport
import Testing

/// SPEC §4 "Lifecycle edges" of the attendance lists: part-day absences, an Extra dag on a contract day,
/// requests on closing days, and history that is never rewritten backwards. Each is a sequence of nights
/// through the built binary, on the organisation of `AttendanceTests` (first night Monday 30-11-2026).
@Suite struct AttendanceEdgeTests {
    /// One night's import of `export`, made at 01:00 of `asOf` unless `exportedAt` says otherwise.
    func night(_ export: MiniExport, _ asOf: String, in folder: URL, exportedAt: String? = nil,
               _ extra: [String] = []) throws -> (ProcessResult, [String: Any]) {
        var copy = export
        copy.exportedAt = exportedAt ?? "\(asOf)T01:00:00+01:00"
        let path = try copy.write(to: folder.appendingPathComponent("export-\(asOf)-\(UUID().uuidString)"))
        let result = try opvangsync(["import", path.path, "--as-of", asOf] + extra, in: folder)
        return (result, try reportJSON(of: result, in: folder))
    }

    func issues(_ report: [String: Any], _ code: String) -> [[String: Any]] {
        (report["issues"] as? [[String: Any]] ?? []).filter { $0["code"] as? String == code }
    }

    /// The child's entry on `attendance show --format json` for one group and day.
    func child(_ folder: URL, _ group: String, _ date: String, _ number: String) throws -> [String: Any]? {
        let result = try opvangsync(["attendance", "show", "--group", group, "--date", date, "--format", "json"], in: folder)
        let days = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]] ?? []
        return (days.first?["children"] as? [[String: Any]] ?? []).first { $0["number"] as? String == number }
    }

    func expectedCount(_ folder: URL, _ group: String, _ date: String) throws -> Int? {
        let result = try opvangsync(["attendance", "show", "--group", group, "--date", date, "--format", "json"], in: folder)
        let days = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]] ?? []
        return days.first?["expected"] as? Int
    }

    /// Every stored list row and built day, with the run that wrote it: what "nothing changed" compares.
    func lists(_ folder: URL) throws -> [String] {
        let database = try Database(path: folder.appendingPathComponent("portal.sqlite").path, mode: .readOnly)
        let rows = try database.query("SELECT group_code, date, child_number, start_time, end_time, absent, reason, source, run_id FROM attendance ORDER BY 1, 2, 3") { row in
            (0..<row.count).map { row.string($0) ?? "∅" }.joined(separator: "|")
        }
        let days = try database.query("SELECT group_code, date, closed_reason, run_id FROM attendance_days ORDER BY 1, 2") { row in
            (0..<row.count).map { row.string($0) ?? "∅" }.joined(separator: "|")
        }
        return rows + days
    }

    func runCount(_ folder: URL) throws -> Int {
        try Database(path: folder.appendingPathComponent("portal.sqlite").path, mode: .readOnly).scalarInt("SELECT COUNT(*) FROM runs") ?? -1
    }

    @Test func aPartDayAbsenceShowsItsHoursAndTheChildIsExpectedTheRestOfTheDay() throws {
        let folder = temporaryFolder("attendance-part-day")
        var export = AttendanceTests.export()
        // K1 comes 07:30-18:00 every weekday: away in the morning on Wednesday, the whole day on Thursday.
        export["afwijkingen.csv"] += ["K1;G1;02-12-2026;Afwezig;07:30;12:00;tandarts", "K1;G1;03-12-2026;Afwezig;07:00;18:30;logeren"]
        let (first, _) = try night(export, "2026-11-30", in: folder)
        #expect(first.status == 0, "\(first.stderr)")

        let morning = try #require(try child(folder, "G1", "2026-12-02", "K1"))
        #expect(morning["absent"] as? Bool == false, "part of the day away is not absent")
        #expect(morning["absentHours"] as? String == "07:30-12:00")
        #expect(morning["expectedHours"] as? String == "12:00-18:00")
        #expect(morning["reason"] as? String == "tandarts")
        #expect(morning["times"] as? String == "07:30-18:00")
        #expect(try expectedCount(folder, "G1", "2026-12-02") == 2, "K1 counts as expected, with K4's Extra dag")
        let whole = try #require(try child(folder, "G1", "2026-12-03", "K1"))
        #expect(whole["absent"] as? Bool == true, "an absence covering the whole day stays absent all day")
        #expect(whole["absentHours"] == nil || whole["absentHours"] is NSNull)
        let noTimes = try #require(try child(folder, "G1", "2026-12-01", "K1"))
        #expect(noTimes["absent"] as? Bool == true, "an absence without times stays absent all day")

        let table = try opvangsync(["attendance", "show", "--group", "G1", "--date", "2026-12-02"], in: folder)
        #expect(table.stdout.contains("verwacht 12:00-18:00"), "\(table.stdout)")
        #expect(table.stdout.contains("afwezig 07:30-12:00: tandarts"), "\(table.stdout)")
        let csv = try opvangsync(["attendance", "show", "--group", "G1", "--date", "2026-12-02", "--format", "csv"], in: folder)
        #expect(csv.stdout.contains("2026-12-02;G1;K1;Kind1 Test;07:30-18:00;deels afwezig;tandarts;;07:30-12:00;12:00-18:00"), "\(csv.stdout)")

        // Night 2: the appointment moves to the middle of the day; the report says what changed, in hours.
        export["afwijkingen.csv"] = export["afwijkingen.csv"].map { $0.hasPrefix("K1;G1;02-12-2026") ? "K1;G1;02-12-2026;Afwezig;10:00;12:00;tandarts" : $0 }
        let (second, report) = try night(export, "2026-12-01", in: folder)
        #expect(second.status == 0, "\(second.stderr)")
        let middle = try #require(try child(folder, "G1", "2026-12-02", "K1"))
        #expect(middle["expectedHours"] as? String == "07:30-10:00, 12:00-18:00")
        let changes = (report["attendance"] as? [String: Any])?["changes"] as? [[String: Any]] ?? []
        let change = changes.first { $0["child"] as? String == "K1" && $0["date"] as? String == "2026-12-02" }
        #expect(change?["old"] as? String == "07:30-18:00, afwezig 07:30-12:00: tandarts")
        #expect(change?["new"] as? String == "07:30-18:00, afwezig 10:00-12:00: tandarts")
        let markdown = try String(contentsOf: folder.appendingPathComponent("reports/mini/\(report["runId"] as? String ?? "").md"), encoding: .utf8)
        #expect(markdown.contains("afwezig 10:00-12:00: tandarts"))
    }

    @Test func anExtraDayOnAContractDayWidensItAndOverlappingPlacementsMergeWithAWarning() throws {
        let folder = temporaryFolder("attendance-extra-day")
        var export = AttendanceTests.export()
        // K6 comes Wednesday mornings from 09-12; K8 gets a second placement in G3 on Fridays from 07-12.
        export["plaatsingen.csv"] = export["plaatsingen.csv"].map { $0.hasPrefix("P6;") ? "P6;K6;G1;KDV;52 weken;09-12-2026;;;;08:00-12:00;;;" : $0 }
        export["plaatsingen.csv"].append("P10;K8;G3;KDV;52 weken;07-12-2026;;;;;;12:00-19:00;")
        export["afwijkingen.csv"] += ["K6;G1;09-12-2026;Extra dag;12:00;18:00;", "K6;G1;23-12-2026;Extra dag;10:00;13:00;"]
        let (first, report) = try night(export, "2026-11-30", in: folder)
        #expect(first.status == 0, "\(first.stderr)")

        let touching = try #require(try child(folder, "G1", "2026-12-09", "K6"))
        #expect(touching["times"] as? String == "08:00-18:00", "08:00-12:00 and 12:00-18:00 touch")
        let overlapping = try #require(try child(folder, "G1", "2026-12-23", "K6"))
        #expect(overlapping["times"] as? String == "08:00-13:00", "08:00-12:00 and 10:00-13:00 overlap")
        #expect(try child(folder, "G1", "2026-12-16", "K6")?["times"] as? String == "08:00-12:00", "no Extra dag that week")

        #expect(try child(folder, "G3", "2026-12-04", "K8")?["times"] as? String == "07:30-18:00", "before P10 starts")
        let merged = try #require(try child(folder, "G3", "2026-12-11", "K8"))
        #expect(merged["times"] as? String == "07:30-19:00")
        let warning = try #require(issues(report, "overlapping-placements").first)
        #expect(warning["severity"] as? String == "warning")
        let message = warning["message"] as? String ?? ""
        #expect(message.contains("K8") && message.contains("P10") && message.contains("P8") && message.contains("G3"), "\(message)")
        #expect(!message.contains("Kind8"), "no names in the report's issues")
        #expect(issues(report, "overlapping-placements").count == 1, "one warning per pair, not one per day")

        // Night 2: an Extra dag that does not touch the contract hours; the day runs from first to last, and says so.
        export["afwijkingen.csv"].append("K6;G1;16-12-2026;Extra dag;14:00;18:00;")
        let (second, next) = try night(export, "2026-12-01", in: folder)
        #expect(second.status == 0, "\(second.stderr)")
        let apart = try #require(try child(folder, "G1", "2026-12-16", "K6"))
        #expect(apart["times"] as? String == "08:00-18:00")
        let reason = apart["reason"] as? String ?? ""
        #expect(reason.contains("08:00-12:00") && reason.contains("14:00-18:00"), "\(reason)")
        let changes = (next["attendance"] as? [String: Any])?["changes"] as? [[String: Any]] ?? []
        let change = changes.first { $0["child"] as? String == "K6" && $0["date"] as? String == "2026-12-16" }
        #expect(change?["old"] as? String == "08:00-12:00" && change?["new"] as? String == "08:00-18:00")
        #expect(issues(next, "overlapping-placements").count == 1, "still there the next night")
    }

    @Test func requestsOnClosingDaysAreReportedForCustomerService() throws {
        let folder = temporaryFolder("attendance-closing-requests")
        var export = AttendanceTests.export()
        // 07-12 is L1's Studiedag team; 25-12 is Eerste kerstdag; 14-12 is an ordinary Monday, for now.
        export["afwijkingen.csv"] += ["K4;G1;07-12-2026;Extra dag;09:00;13:00;", "K2;G2;25-12-2026;Ruildag;;;", "K4;G1;14-12-2026;Extra dag;09:00;13:00;"]
        let (first, report) = try night(export, "2026-11-30", in: folder)
        #expect(first.status == 0, "\(first.stderr)")
        let warnings = issues(report, "request-on-closing-day").map { $0["message"] as? String ?? "" }
        #expect(warnings.count == 2, "\(warnings)")
        #expect(warnings.contains { $0.contains("K4") && $0.contains("G1") && $0.contains("07-12-2026") && $0.contains("Studiedag team") && $0.contains("Extra dag") })
        #expect(warnings.contains { $0.contains("K2") && $0.contains("G2") && $0.contains("25-12-2026") && $0.contains("Eerste kerstdag") && $0.contains("Ruildag") })
        #expect(try child(folder, "G1", "2026-12-07", "K4") == nil, "the request is still dropped")
        #expect(try child(folder, "G1", "2026-12-14", "K4")?["times"] as? String == "09:00-13:00")
        let markdown = try String(contentsOf: folder.appendingPathComponent("reports/mini/\(report["runId"] as? String ?? "").md"), encoding: .utf8)
        #expect(markdown.contains("Studiedag team"))

        // Night 2: the location closes on 14-12 too, after the request was granted.
        export["kalender.csv"].append("14-12-2026;14-12-2026;Sluitingsdag;L1;Ontruimingsoefening")
        let (second, next) = try night(export, "2026-12-01", in: folder)
        #expect(second.status == 0, "\(second.stderr)")
        let later = issues(next, "request-on-closing-day").map { $0["message"] as? String ?? "" }
        #expect(later.contains { $0.contains("K4") && $0.contains("14-12-2026") && $0.contains("Ontruimingsoefening") }, "\(later)")
        #expect(try child(folder, "G1", "2026-12-14", "K4") == nil)
    }

    @Test func aRunWithAnAsOfDateBeforeTheLatestRunsIsRefusedUnlessForced() throws {
        let folder = temporaryFolder("attendance-backwards")
        var export = AttendanceTests.export()
        #expect(try night(export, "2026-11-30", in: folder).0.status == 0)
        // Night 2 (02-12): K1 leaves G1; the days before 02-12 keep K1, they are history.
        export["plaatsingen.csv"] = export["plaatsingen.csv"].filter { !$0.hasPrefix("P1;") }
        let (second, _) = try night(export, "2026-12-02", in: folder, ["--allow-mass-changes", "--reason", "K1 vertrekt"])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(try child(folder, "G1", "2026-12-01", "K1") != nil)
        let before = try lists(folder), runs = try runCount(folder)

        // A refresh two days back (a mistyped date, a clock behind) is refused and changes nothing.
        let back = try opvangsync(["attendance", "refresh", "--group", "G1", "--as-of", "2026-11-30"], in: folder)
        #expect(back.status == 3, "\(back.stdout)\(back.stderr)")
        #expect(back.stderr.contains("02-12-2026"), "\(back.stderr)")
        #expect(try lists(folder) == before)
        #expect(try runCount(folder) == runs, "a refused refresh is no run")
        #expect(try child(folder, "G1", "2026-12-01", "K1") != nil)

        // An import with an as-of date before the last run's, of an export newer than the last: aborted.
        let (import1, refused) = try night(export, "2026-12-01", in: folder, exportedAt: "2026-12-02T02:00:00+01:00",
                                           ["--allow-mass-changes", "--reason", "K1 vertrekt"])
        #expect(import1.status == 3, "\(import1.stdout)\(import1.stderr)")
        #expect(refused["status"] as? String == "aborted")
        #expect(issues(refused, "as-of-before-last-run").first?["severity"] as? String == "error")
        #expect(try lists(folder) == before)

        // Forced with a reason, the import goes ahead and says so; its date is now where history ends.
        let (import2, forcedImport) = try night(export, "2026-12-01", in: folder, exportedAt: "2026-12-02T03:00:00+01:00",
                                                ["--force", "--allow-mass-changes", "--reason", "herstel na storing"])
        #expect(import2.status == 0, "\(import2.stderr)")
        #expect(issues(forcedImport, "as-of-before-last-run").first?["severity"] as? String == "warning")
        #expect(try child(folder, "G1", "2026-12-01", "K1") == nil, "forced: 01-12 rebuilt from the plan without K1")
        #expect(try child(folder, "G1", "2026-11-30", "K1") != nil)

        let again = try opvangsync(["attendance", "refresh", "--group", "G1", "--as-of", "2026-11-30"], in: folder)
        #expect(again.status == 3 && again.stderr.contains("01-12-2026"), "measured against the latest run: \(again.stderr)")
        let forced = try opvangsync(["attendance", "refresh", "--group", "G1", "--as-of", "2026-11-30", "--force", "--reason", "herstel na storing"], in: folder)
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(try child(folder, "G1", "2026-11-30", "K1") == nil)
        let forcedReport = try reportJSON(of: forced, in: folder)
        #expect(issues(forcedReport, "as-of-before-last-run").first?["severity"] as? String == "warning")
        #expect((forcedReport["reason"] as? String ?? "").contains("herstel na storing"))
        // After a forced run the next ones are measured against it, not refused night after night.
        #expect(try opvangsync(["attendance", "refresh", "--group", "G1", "--as-of", "2026-11-30"], in: folder).status == 0)
        #expect(try opvangsync(["attendance", "refresh", "--group", "G1", "--as-of", "2026-11-30", "--force"], in: folder).status == 2,
                "--force needs --reason")
    }
}
