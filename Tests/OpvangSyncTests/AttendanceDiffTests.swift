import Testing
@testable import OpvangSync

/// The attendance diff counts every change but keeps only the ones the report can list (SPEC §7
/// `attendance`): a first import adds every entry of every group.
@Suite struct AttendanceDiffTests {
    @Test func everyChangeIsCountedAndTheListStopsOneBeyondTheReportsLimit() throws {
        let first = Day(iso: "2026-11-23")!
        let days = first...first.adding(days: 27)
        var entries: [AttendanceEntry] = []
        for offset in 0..<28 {
            for child in 0..<100 {
                entries.append(AttendanceEntry(group: "G1", date: first.adding(days: offset), child: String(1000 + child),
                                               start: TimeOfDay(hour: 8, minute: 0), end: TimeOfDay(hour: 17, minute: 0),
                                               absent: false, reason: nil, source: "P\(child)"))
            }
        }
        let diff = try AttendanceStore(database: nil).diff(groups: ["G1"], days: days, entries: entries, closed: [:])
        #expect(diff.summary.added == 2800)
        #expect(diff.upserts.count == 2800)
        #expect(diff.changes.count == AttendanceSummary.listLimit + 1)
        #expect(diff.changes.first.map { "\($0.date) \($0.child) \($0.new ?? "")" } == "2026-11-23 1000 08:00-17:00")

        let summary = RunPlanning.summary(diff, groups: [:], post: PostState(current: [:], plan: Plan()))
        #expect(summary.changes.count == AttendanceSummary.listLimit)
        #expect(summary.changesTruncated)
    }

    /// The rows a run writes are kept packed (texts numbered, times in minutes); each must come back as it
    /// was built, whatever it holds, across the blocks they are kept in.
    @Test func theRowsToWriteComeBackAsTheyWereBuilt() {
        let first = Day(iso: "2026-11-23")!
        var entries: [AttendanceEntry] = []
        for number in 0..<40_000 {
            let start = number % 7 == 0 ? nil : TimeOfDay(hour: 7 + number % 3, minute: number % 60)
            let end = number % 11 == 0 ? nil : TimeOfDay(hour: number % 13 == 0 ? 24 : 17, minute: 0)
            let away = number % 5 == 0 ? TimeRange(start: TimeOfDay(hour: 9, minute: 15)!, end: TimeOfDay(hour: 12, minute: 45)!) : nil
            entries.append(AttendanceEntry(
                group: "Groep \(number / 9_000)", date: first.adding(days: number % 70 - 3), child: "K\(number % 4_000)-lang-kindnummer",
                start: start, end: end, absent: number % 4 == 0, absentHours: away,
                reason: number % 3 == 0 ? nil : (number % 2 == 0 ? "ziek" : "tandarts \(number % 17) ë"),
                source: number % 6 == 0 ? "Extra dag" : "P\(number)+Ruildag"))
        }
        var rows = AttendanceRows()
        rows.append(contentsOf: entries[..<25_000])
        var more = AttendanceRows()
        more.append(contentsOf: entries[25_000...])
        rows.append(contentsOf: more)
        #expect(rows.count == entries.count)
        #expect(Array(rows) == entries)
        #expect(rows[16_384] == entries[16_384])
        let far = AttendanceEntry(group: "G", date: Day(year: 9999, month: 12, day: 31)!, child: "1", start: TimeOfDay(hour: 0, minute: 0),
                                  end: TimeOfDay(hour: 24, minute: 0), absent: false, reason: "", source: "")
        var one = AttendanceRows()
        one.append(far)
        #expect(one[0] == far)
    }
}
