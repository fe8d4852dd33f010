import Foundation
import PortalStore

/// One change to a stored list, for the report.
public struct AttendanceChange: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable { case added, removed, changed }
    public var group: String
    public var date: String
    public var child: String
    public var change: Kind
    /// `07:30-18:00`, `07:30-18:00, afwezig: ziek`, or for part of the day `07:30-18:00, afwezig 07:30-12:00: tandarts`.
    public var old: String?
    public var new: String?
}

/// The result of rebuilding lists: what to write, and what changed.
struct AttendanceDiff {
    var upserts = AttendanceRows()
    var deletes: [(group: String, date: Day, child: String)] = []
    /// Days whose state changed: why the group is closed, and where a school holiday comes from (Dutch, or nil).
    var days = AttendanceDays()
    /// What the rebuild found that customer service must hear about (requests on closing days, overlapping placements).
    var issues: [Issue] = []
    /// Groups whose rebuild found an issue: an incremental run rebuilds them every night, so the issue is
    /// reported until it is solved (`attendance_flags`).
    var flagged: Set<String> = []
    /// Groups rebuilt over the whole horizon: their flag is whatever this rebuild found.
    var rebuilt: Set<String> = []
    /// The first changes in group and date order, one more than the report lists (so it can say the list
    /// goes on); the summary counts all of them. A first import adds every entry: describing each
    /// would cost more than building the lists.
    private(set) var changes: [AttendanceChange] = []
    var summary = AttendanceSummary()

    /// Keeps `change` when the report can still list it; `describe` is only called then.
    mutating func note(_ change: @autoclosure () -> AttendanceChange) {
        if changes.count <= AttendanceSummary.listLimit { changes.append(change()) }
    }

    /// Adds the rebuild of other groups (or other days): an incremental run rebuilds some groups whole and
    /// the others only for the days the horizon gained.
    mutating func append(_ other: AttendanceDiff) {
        upserts.append(contentsOf: other.upserts)
        deletes += other.deletes
        days.append(contentsOf: other.days)
        issues += other.issues
        flagged.formUnion(other.flagged)
        rebuilt.formUnion(other.rebuilt)
        for change in other.changes { note(change) }
        summary.groups += other.summary.groups
        summary.days = max(summary.days, other.summary.days)
        summary.added += other.summary.added
        summary.removed += other.summary.removed
        summary.changed += other.summary.changed
    }
}

/// The stored attendance lists: compares a rebuild with what is stored and writes only the difference.
/// Days before the run date are history and are never read for rewriting, let alone written.
struct AttendanceStore {
    /// nil for a dry run on a portal that does not exist yet: everything is new.
    let database: Database?

    static func describe(_ row: (start: String?, end: String?, absent: Bool, away: String?, reason: String?)) -> String {
        let times = row.start.flatMap { start in row.end.map { "\(start)-\($0)" } } ?? "tijden onbekend"
        if row.absent { return "\(times), afwezig: \(row.reason ?? "")" }
        if let away = row.away { return "\(times), afwezig \(away): \(row.reason ?? "")" }
        return times
    }

    /// Compares `entries` and `closed` (the rebuild of `groups` over `days`) with the stored lists.
    ///
    /// `entries` are ordered by group, date and child (byte order), as the builder makes them; the stored
    /// rows of each group are read in the same order, so one merge pass finds every difference.
    /// Compares built lists (every group's, in group, date and child order) with the stored ones.
    func diff(groups: Set<String>, days: ClosedRange<Day>, entries: [AttendanceEntry], closed: [GroupDay: String],
              schoolHolidays: [GroupDay: [SchoolHolidaySource]] = [:], issues: [Issue] = []) throws -> AttendanceDiff {
        var ranges: [String: Range<Int>] = [:]
        var start = 0
        while start < entries.count {
            var end = start + 1
            while end < entries.count, entries[end].group == entries[start].group { end += 1 }
            ranges[entries[start].group] = start..<end
            start = end
        }
        var result = try diff(groups: groups, days: days) { group in (entries[ranges[group] ?? 0..<0], closed, schoolHolidays) }
        result.issues = issues
        return result
    }

    /// Compares each group's lists, built by `build` one group at a time, with the stored ones, and keeps
    /// the issues each rebuild found.
    func diff(groups: Set<String>, days: ClosedRange<Day>, build: (String) -> AttendanceLists) throws -> AttendanceDiff {
        var issues: [Issue] = []
        var flagged: Set<String> = []
        var result = try diff(groups: groups, days: days) { group in
            let lists = build(group)
            issues += lists.issues
            if !lists.issues.isEmpty { flagged.insert(group) }
            return (lists.entries[...], lists.closed, lists.schoolHolidays)
        }
        result.issues = issues
        result.flagged = flagged
        return result
    }

    /// Compares each group's lists, built by `build` one group at a time, with the stored ones.
    func diff(groups: Set<String>, days: ClosedRange<Day>,
              build: (String) -> (entries: ArraySlice<AttendanceEntry>, closed: [GroupDay: String],
                                  schoolHolidays: [GroupDay: [SchoolHolidaySource]])) throws -> AttendanceDiff {
        var result = AttendanceDiff()
        result.summary.groups = groups.count
        result.summary.days = days.lowerBound.days(until: days.upperBound) + 1
        let from = days.lowerBound.iso, through = days.upperBound.iso
        var spans = SchoolHolidaySpans()
        // The stored lists of a few days (the days an incremental run's horizon gained, for every group it
        // does not rebuild: 50,000 at a million children) are read for many groups a query: a query per group
        // cost more than its rows. Longer spans hold many rows per group, and are read a group at a time.
        let ordered = groups.sorted()
        let perQuery = result.summary.days <= 7 ? 512 : 1
        var start = 0
        while start < ordered.count {
            let chunk = ordered[start..<min(start + perQuery, ordered.count)]
            start = chunk.endIndex
            let stored = try storedLists(of: chunk, from: from, through: through)
            for group in chunk {
                diff(group: group, days: days, built: build(group), stored: stored[group] ?? ([], [:]), spans: &spans, into: &result)
            }
        }
        result.summary.schoolHolidays = spans.list
        return result
    }

    /// What the portal holds of the lists of `groups` from `from` through `through`: per group its rows (by date
    /// and child) and its days' closing reasons and school holidays.
    private func storedLists(of groups: ArraySlice<String>, from: String, through: String) throws -> [String: StoredLists] {
        var stored: [String: StoredLists] = [:]
        guard let database, let first = groups.first else { return stored }
        // One group by its key; more as one set.
        let (which, bound): (String, SQLValue) = groups.count == 1
            ? ("group_code = ?", .text(first)) : ("group_code IN \(PortalLookup.set)", PortalLookup.bind(Set(groups)))
        try database.statement("""
            SELECT group_code, date, child_number, start_time, end_time, absent, absent_from, absent_until, reason, source FROM attendance
            WHERE \(which) AND date BETWEEN ? AND ? ORDER BY group_code, date, child_number
            """).forEachRow([bound, .text(from), .text(through)]) { row in
            guard let group = row.string(0), let day = row.string(1).flatMap(Day.init(iso:)), let child = row.string(2) else { return }
            let away = row.string(6).flatMap { from in row.string(7).map { "\(from)-\($0)" } }
            stored[group, default: ([], [:])].entries.append(StoredEntry(
                day: day.dayNumber, child: child, start: row.string(3), end: row.string(4), absent: row.int(5) == 1, away: away,
                reason: row.string(8), source: row.string(9) ?? ""))
        }
        try database.statement("SELECT group_code, date, closed_reason, school_holiday FROM attendance_days WHERE \(which) AND date BETWEEN ? AND ?")
            .forEachRow([bound, .text(from), .text(through)]) { row in
                guard let group = row.string(0), let day = row.string(1).flatMap(Day.init(iso:)) else { return }
                stored[group, default: ([], [:])].days[day.dayNumber] = (row.string(2), row.string(3))
            }
        return stored
    }

    /// One group's lists, `built`, against what the portal holds of them.
    private func diff(group: String, days: ClosedRange<Day>,
                      built: (entries: ArraySlice<AttendanceEntry>, closed: [GroupDay: String], schoolHolidays: [GroupDay: [SchoolHolidaySource]]),
                      stored: StoredLists,
                      spans: inout SchoolHolidaySpans, into result: inout AttendanceDiff) {
        let (mine, closed, schoolHolidays) = built
        let storedDays = stored.days
        merge(group: group, built: mine, stored: stored.entries, into: &result)
        var day = days.lowerBound
        while day <= days.upperBound {
            let key = GroupDay(group: group, date: day)
            let reason = closed[key]
            let sources = schoolHolidays[key] ?? []
            let note = sources.isEmpty ? nil : sources.map(\.dutch).joined(separator: "; ")
            if let known = storedDays[day.dayNumber], known.closed == reason, known.schoolHoliday == note {} else {
                result.days.set(key, closed: reason, schoolHoliday: note)
            }
            for source in sources { spans.add(source, day: day, group: group) }
            day = day.adding(days: 1)
        }
    }

    /// What the portal holds of one group's lists: its rows (by date and child), and per day its closing reason
    /// and school holiday.
    typealias StoredLists = (entries: [StoredEntry], days: [Int: (closed: String?, schoolHoliday: String?)])

    /// A stored row, as the merge compares it.
    struct StoredEntry {
        let day: Int
        let child: String
        let start: String?
        let end: String?
        let absent: Bool
        /// A part-day absence, `HH:MM-HH:MM`.
        let away: String?
        let reason: String?
        let source: String
    }

    private func merge(group: String, built: ArraySlice<AttendanceEntry>, stored: [StoredEntry], into result: inout AttendanceDiff) {
        var b = built.startIndex, s = 0
        // What this group's list gained, lost and changed, for the report's figures per group.
        let before = (added: result.summary.added, removed: result.summary.removed, changed: result.summary.changed)
        defer { result.summary.record(group: group, since: before) }
        func removed(_ old: StoredEntry) {
            let day = Day(dayNumber: old.day)
            result.deletes.append((group, day, old.child))
            result.summary.removed += 1
            result.note(AttendanceChange(group: group, date: day.iso, child: old.child, change: .removed,
                                                   old: AttendanceStore.describe((old.start, old.end, old.absent, old.away, old.reason)), new: nil))
        }
        func added(_ entry: AttendanceEntry) {
            result.upserts.append(entry)
            result.summary.added += 1
            result.note(AttendanceChange(group: group, date: entry.date.iso, child: entry.child, change: .added, old: nil,
                                                   new: AttendanceStore.describe((entry.start?.description, entry.end?.description, entry.absent, entry.absentHours?.description, entry.reason))))
        }
        while b < built.endIndex || s < stored.count {
            guard b < built.endIndex else { removed(stored[s]); s += 1; continue }
            guard s < stored.count else { added(built[b]); b += 1; continue }
            let entry = built[b], old = stored[s]
            let entryDay = entry.date.dayNumber
            if entryDay < old.day || (entryDay == old.day && entry.child.utf8.lexicographicallyPrecedes(old.child.utf8)) {
                added(entry)
                b += 1
            } else if entryDay > old.day || (entryDay == old.day && old.child.utf8.lexicographicallyPrecedes(entry.child.utf8)) {
                removed(old)
                s += 1
            } else {
                let start = entry.start?.description, end = entry.end?.description
                let away = entry.absentHours?.description
                let differs = old.start != start || old.end != end || old.absent != entry.absent || old.away != away
                    || old.reason != entry.reason
                if differs || old.source != entry.source { result.upserts.append(entry) }
                if differs {
                    result.summary.changed += 1
                    result.note(AttendanceChange(group: group, date: entry.date.iso, child: entry.child, change: .changed,
                                                           old: AttendanceStore.describe((old.start, old.end, old.absent, old.away, old.reason)),
                                                           new: AttendanceStore.describe((start, end, entry.absent, away, entry.reason))))
                }
                b += 1
                s += 1
            }
        }
    }
}

/// The school holidays a rebuild met, for the report: each one's first and last day within the horizon and
/// the groups it held for.
struct SchoolHolidaySpans {
    private var spans: [SchoolHolidaySource: (from: Day, to: Day, groups: Set<String>)] = [:]

    mutating func add(_ source: SchoolHolidaySource, day: Day, group: String) {
        // Changed where it is stored: a copy taken out of the table would share its set of groups, and each
        // insert would then copy that whole set (quadratic in the groups a holiday covers).
        if let index = spans.index(forKey: source) {
            spans.values[index].from = min(spans.values[index].from, day)
            spans.values[index].to = max(spans.values[index].to, day)
            spans.values[index].groups.insert(group)
        } else {
            spans[source] = (day, day, [group])
        }
    }

    /// In date order, then by name and source.
    var list: [SchoolHolidaySpan]? {
        guard !spans.isEmpty else { return nil }
        return spans.map { source, span in
            SchoolHolidaySpan(name: source.name, source: source.origin.rawValue, region: source.region, schoolYear: source.schoolYear,
                              from: span.from.iso, to: span.to.iso, groups: span.groups.count, description: source.dutch)
        }.sorted { ($0.from, $0.name, $0.description) < ($1.from, $1.name, $1.description) }
    }
}
