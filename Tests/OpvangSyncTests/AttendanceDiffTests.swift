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
}
