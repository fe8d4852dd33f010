import Foundation
import PortalStore

/// "Planning verversen": rebuilds one group's list from the plan last imported (placements, deviations and
/// the calendar as the portal holds them), without a new export. Reads only that group's records.
public struct AttendanceRefresh {
    public let repository: PortalRepository
    public let settings: OrganisationSettings

    public init(repository: PortalRepository, settings: OrganisationSettings) {
        self.repository = repository
        self.settings = settings
    }

    /// Rebuilds `group` from `asOf` on. An as-of date before the latest run's is refused (`AttendanceHistory.Refused`)
    /// unless `force` is set with a reason, which the run keeps.
    public func run(group: String, asOf: Day, operator name: String, force: Bool = false, forceReason: String? = nil,
                    now: Date = Date()) throws -> AttendanceSummary {
        if force, forceReason?.trimmingCharacters(in: .whitespaces).isEmpty ?? true {
            throw UsageError("--force needs --reason TEXT: the report and the runs table keep why")
        }
        var records: [EntityKind: [String: StoredRecord]] = [:]
        records[.group] = try repository.load(.group, where: "key = ?", [.text(group)])
        guard records[.group]?[group]?.status == .active else {
            throw UsageError("no active group \(group) in this portal")
        }
        let schoolHolidays = try SchoolHolidayCalendar.configured(settings)
        let refusal = try AttendanceHistory.refusal(asOf: asOf, repository: repository)
        if let refusal, !force { throw AttendanceHistory.Refused(message: refusal) }
        let horizon = asOf...asOf.adding(days: settings.rules.attendanceHorizonDays)
        records[.placement] = try repository.load(.placement, where: "group_code = ?", [.text(group)])
        records[.deviation] = try repository.load(.deviation, where: "group_code = ? AND date BETWEEN ? AND ?",
                                                  [.text(group), .text(horizon.lowerBound.iso), .text(horizon.upperBound.iso)])
        records[.calendar] = try repository.load(.calendar)
        let children = Set((records[.placement] ?? [:]).values.compactMap { Placement(values: $0.values)?.child })
            .union((records[.deviation] ?? [:]).values.compactMap { Deviation(values: $0.values)?.child })
        var childRecords: [String: StoredRecord] = [:]
        for child in children {
            for (key, record) in try repository.load(.child, where: "key = ?", [.text(child.text)]) { childRecords[key] = record }
        }
        records[.child] = childRecords

        let inputs = AttendanceInputs(post: PostState(current: records, plan: Plan()), groups: [group])
        let builder = AttendanceBuilder(holidays: settings.holidays, schoolHolidays: schoolHolidays)
        let built = builder.build(inputs, days: horizon)
        let store = AttendanceStore(database: repository.database)
        var diff = try store.diff(groups: [group], days: horizon, entries: built.entries, closed: built.closed,
                                  schoolHolidays: built.schoolHolidays, issues: builder.schoolHolidayIssues(inputs, days: horizon) + built.issues)
        diff.rebuilt = [group]
        if !built.issues.isEmpty { diff.flagged = [group] }
        let runID = RunID.make(now)
        var summary = diff.summary
        summary.changes = Array(diff.changes.prefix(AttendanceSummary.listLimit))
        summary.changesTruncated = diff.changes.count > AttendanceSummary.listLimit
        if let name = records[.group]?[group].flatMap({ Group(values: $0.values) })?.name { summary.groupNames[group] = name }
        // A refresh changes what staff see, so it has a report like every other run.
        let owner = try repository.owner()
        let organisation = owner?.id ?? settings.id ?? "onbekend"
        let organisationName = try repository.database.scalarString("SELECT name FROM organisation LIMIT 1")
        let reason = "Planning verversen, groep \(group)" + (refusal == nil ? "" : "; geforceerd: \(forceReason ?? "")")
        var report = RunReport(
            runId: runID, organisation: .init(id: organisation, name: organisationName), asOf: asOf.iso,
            startedAt: Timestamp.iso(now), finishedAt: Timestamp.iso(Date()), mode: "refresh", status: .applied,
            exitCode: ExitCode.success.rawValue, operator: name, reason: reason, options: .init(force: force), export: .init(path: ""))
        report.attendance = summary
        report.issues = diff.issues
        if let refusal {
            report.issues.insert(Issue(.warning, "as-of-before-last-run", message: refusal + "; geforceerd opnieuw opgebouwd"), at: 0)
        }
        let staged = try ReportWriter.stage(report, to: settings.reports)
        var record = RunRecord(
            id: runID, organisation: organisation, mode: "refresh", status: "applied", asOf: asOf, startedAt: now,
            finishedAt: Date(), exportPath: nil, exportFingerprint: nil, exportedAt: nil, operator: name,
            reason: reason, options: "{\"refresh\":\(JSONText.quote(group))\(force ? ",\"force\":true" : "")}",
            summary: "{\"attendance\":{\"added\":\(diff.summary.added),\"removed\":\(diff.summary.removed),\"changed\":\(diff.summary.changed)}}",
            reportPath: staged.paths.json, exitCode: 0)
        record.reportJSON = String(decoding: try ReportWriter.json(report), as: UTF8.self)
        do {
            let writer = PortalWriter(database: repository.database)
            try writer.transaction(run: record) { try writer.writeAttendance(diff, runID: runID) }
        } catch {
            staged.discard()
            throw error
        }
        _ = try staged.commit()
        return summary
    }
}

/// One day of one group's list, as `attendance show` prints it.
public struct AttendanceDay: Codable, Sendable {
    public struct Child: Codable, Sendable {
        public var number: String
        public var name: String
        /// The day's care hours, `07:30-18:00`.
        public var times: String
        /// Absent all day.
        public var absent: Bool
        /// A part-day absence: the hours the child is away (`07:30-12:00`); nil otherwise.
        public var absentHours: String?
        /// When `absentHours` is set: the hours the child is still expected (`12:00-18:00`, or
        /// `07:30-10:00, 12:00-18:00` around an absence in the middle of the day); nil otherwise.
        public var expectedHours: String?
        public var reason: String?
        public var source: String
    }

    public var group: String
    public var groupName: String
    public var date: String
    public var weekday: String
    /// Why the location is closed that day, or nil.
    public var closed: String?
    /// Where the day's school holiday comes from (the government's file for the location's region, or the
    /// export's calendar), or nil on a school day.
    public var schoolHoliday: String?
    public var children: [Child]
    public var expected: Int
    public var capacity: Int?
    public var overCapacity: Bool
    /// False when no run has built this day yet (outside the horizon).
    public var built: Bool
}

extension AttendanceDay {
    /// The parts of `hours` outside `absent`, as `12:00-18:00` or `07:30-10:00, 12:00-18:00`; `tijden onbekend`
    /// when the day's hours are not known.
    static func remaining(_ hours: TimeRange?, absent: TimeRange) -> String {
        guard let hours else { return "tijden onbekend" }
        let parts = [TimeRange(start: hours.start, end: min(hours.end, absent.start)),
                     TimeRange(start: max(hours.start, absent.end), end: hours.end)].compactMap { $0 }
        return parts.isEmpty ? "" : parts.map(\.description).joined(separator: ", ")
    }
}

extension PortalRepository {
    /// The stored list of `group` for `days` days from `from`.
    public func attendance(group: String, from: Day, days: Int) throws -> [AttendanceDay] {
        let groupRow = try database.statement("SELECT name, capacity FROM groups WHERE key = ?").firstRow([.text(group)]) { row in
            (row.string(0) ?? group, row.int(1))
        }
        guard let (groupName, capacity) = groupRow else { throw UsageError("no group \(group) in this portal") }
        let weekdays = ["maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"]
        var result: [AttendanceDay] = []
        for offset in 0..<max(1, days) {
            let day = from.adding(days: offset)
            let state = try database.statement("SELECT closed_reason, school_holiday FROM attendance_days WHERE group_code = ? AND date = ?")
                .firstRow([.text(group), .text(day.iso)]) { row in (closed: row.string(0), schoolHoliday: row.string(1)) }
            let children = try database.query("""
                SELECT a.child_number, \(PortalRepository.fullName("c")),
                       a.start_time, a.end_time, a.absent, a.reason, a.source, a.absent_from, a.absent_until
                FROM attendance a LEFT JOIN children c ON c.key = a.child_number
                WHERE a.group_code = ? AND a.date = ? ORDER BY a.absent, a.start_time, c.first_name
                """, [.text(group), .text(day.iso)]) { row in
                let hours = row.string(2).flatMap { start in row.string(3).flatMap { TimeRange("\(start)-\($0)") } }
                let away = row.string(7).flatMap { from in row.string(8).flatMap { TimeRange("\(from)-\($0)") } }
                return AttendanceDay.Child(number: row.string(0) ?? "", name: row.string(1) ?? "",
                                           times: [row.string(2), row.string(3)].compactMap { $0 }.joined(separator: "-"),
                                           absent: row.int(4) == 1, absentHours: away?.description,
                                           expectedHours: away.map { away in AttendanceDay.remaining(hours, absent: away) },
                                           reason: row.string(5), source: row.string(6) ?? "")
            }
            let expected = children.filter { !$0.absent }.count
            result.append(AttendanceDay(group: group, groupName: groupName, date: day.iso, weekday: weekdays[day.isoWeekday - 1],
                                        closed: state?.closed, schoolHoliday: state?.schoolHoliday, children: children, expected: expected, capacity: capacity,
                                        overCapacity: capacity.map { expected > $0 } ?? false, built: state != nil))
        }
        return result
    }
}
