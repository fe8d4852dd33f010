import Foundation
import TestSupport
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

    /// The stored lists of a few days are read for many groups a query (the day an incremental run's horizon
    /// gains, for every group), longer spans a group at a time: both must find exactly what changed, in every
    /// group, the groups of a later query too.
    @Test func storedListsReadManyGroupsAQueryFindWhatChanged() throws {
        let folder = temporaryFolder("attendance-stored")
        defer { try? FileManager.default.removeItem(at: folder) }
        let repository = try PortalRepository(path: folder.appendingPathComponent("portal.sqlite").path)
        let first = Day(iso: "2026-11-23")!
        let groups = (0..<700).map { String(format: "G%04d", $0) }
        var entries: [AttendanceEntry] = []
        var closed: [GroupDay: String] = [:]
        for group in groups {
            for offset in 0..<2 {
                for child in ["K1", "K2", "K3"] {
                    entries.append(AttendanceEntry(group: group, date: first.adding(days: offset), child: "\(group)-\(child)",
                                                   start: TimeOfDay(hour: 8, minute: 0), end: TimeOfDay(hour: 17, minute: 0),
                                                   absent: false, reason: nil, source: "P1"))
                }
            }
        }
        closed[GroupDay(group: "G0002", date: first)] = "Studiedag"
        let stored = try AttendanceStore(database: nil).diff(groups: Set(groups), days: first...first.adding(days: 1), entries: entries, closed: closed)
        let writer = PortalWriter(database: repository.database)
        let record = RunRecord(id: "R1", organisation: "test", mode: "full", status: "applied", asOf: first, startedAt: Date(),
                               finishedAt: Date(), operator: "test", options: "{}", summary: "{}", exitCode: 0)
        _ = try writer.transaction(run: record) { try writer.writeAttendance(stored, runID: "R1") }

        // One row gone in a group of the second query, one changed in the first, a closing day gone and one new.
        var rebuilt = entries.filter { $0 != entries[650 * 6 + 4] }
        rebuilt[3 * 6].start = TimeOfDay(hour: 9, minute: 0)
        let reclosed = [GroupDay(group: "G0601", date: first.adding(days: 1)): "Studiedag"]
        for days in [first...first.adding(days: 1), first.adding(days: -3)...first.adding(days: 9)] {
            let dayCount = days.lowerBound.days(until: days.upperBound) + 1
            let store = AttendanceStore(database: repository.database)
            let same = try store.diff(groups: Set(groups), days: days, entries: entries, closed: closed)
            #expect(same.upserts.count == 0 && same.deletes.isEmpty && same.summary.changed == 0, "\(days)")
            #expect(same.days.count == (dayCount > 2 ? groups.count * (dayCount - 2) : 0), "\(days)")
            let diff = try store.diff(groups: Set(groups), days: days, entries: rebuilt, closed: reclosed)
            #expect(diff.summary.removed == 1 && diff.summary.changed == 1 && diff.summary.added == 0, "\(days)")
            #expect(diff.deletes.map { "\($0.group) \($0.date.iso) \($0.child)" } == ["G0650 2026-11-24 G0650-K2"])
            #expect(Array(diff.upserts).map { "\($0.group) \($0.date.iso) \($0.child)" } == ["G0003 2026-11-23 G0003-K1"])
            // The two days whose closing changed; over the longer span also every day the portal holds nothing of.
            let changedDays: Set<GroupDay> = [GroupDay(group: "G0002", date: first), GroupDay(group: "G0601", date: first.adding(days: 1))]
            let unknownDays = dayCount > 2 ? groups.count * (dayCount - 2) : 0
            #expect(diff.days.count == changedDays.count + unknownDays && changedDays.allSatisfy { diff.days[$0] != nil }, "\(days)")
            #expect(diff.days[GroupDay(group: "G0601", date: first.adding(days: 1))]?.closed == "Studiedag" && diff.days[GroupDay(group: "G0002", date: first)]?.closed == nil)
        }
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

    /// The days to write come back as they were set, in that order, each state with its texts, a day without
    /// a closing or a school holiday included; the days of other groups appended after them keep theirs.
    @Test func theDaysToWriteComeBackAsTheyWereSet() {
        let first = Day(iso: "2026-11-23")!
        var expected: [(key: GroupDay, closed: String?, schoolHoliday: String?)] = []
        var days = AttendanceDays(), more = AttendanceDays()
        for number in 0..<3_000 {
            let key = GroupDay(group: "Groep \(number / 70)", date: first.adding(days: number % 70))
            let closed = number % 5 == 0 ? nil : (number % 2 == 0 ? "Studiedag" : "Sluiting \(number % 7) ë")
            let holiday = number % 3 == 0 ? nil : "Kerstvakantie (regio \(number % 3 == 1 ? "noord" : "zuid"))"
            expected.append((key, closed, holiday))
            if number < 2_000 { days.set(key, closed: closed, schoolHoliday: holiday) } else { more.set(key, closed: closed, schoolHoliday: holiday) }
        }
        days.append(contentsOf: more)
        #expect(days.count == expected.count)
        let found = Array(days)
        #expect(found.count == expected.count)
        for (index, day) in found.enumerated() {
            let want = expected[index]
            #expect(day.key == want.key && day.state.closed == want.closed && day.state.schoolHoliday == want.schoolHoliday, "day \(index)")
        }
        #expect(days[GroupDay(group: "Groep 1", date: first.adding(days: 1))]?.closed == "Sluiting 1 ë")
        #expect(days[GroupDay(group: "Groep 1", date: first.adding(days: 1))]?.schoolHoliday == "Kerstvakantie (regio zuid)")
        #expect(days[GroupDay(group: "Groep 0", date: first)].map { $0.closed == nil && $0.schoolHoliday == nil } == true)
        #expect(days[GroupDay(group: "Groep 99", date: first)] == nil)
        // A day set again is written again, after the first: the later state is the one that holds.
        var again = AttendanceDays()
        again.set(GroupDay(group: "G", date: first), closed: "Studiedag", schoolHoliday: nil)
        again.set(GroupDay(group: "G", date: first), closed: nil, schoolHoliday: "Herfstvakantie")
        #expect(Array(again).map { $0.state.schoolHoliday } == [nil, "Herfstvakantie"])
        #expect(again[GroupDay(group: "G", date: first)].map { $0.closed == nil && $0.schoolHoliday == "Herfstvakantie" } == true)
    }
}
