import Foundation
import PortalStore

/// One change to a stored list, for the report.
public struct AttendanceChange: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable { case added, removed, changed }
    public var group: String
    public var date: String
    public var child: String
    public var change: Kind
    /// `07:30-18:00`, or `afwezig: ziek`.
    public var old: String?
    public var new: String?
}

/// The result of rebuilding lists: what to write, and what changed.
struct AttendanceDiff {
    var upserts: [AttendanceEntry] = []
    var deletes: [(group: String, date: Day, child: String)] = []
    var days: [GroupDay: String?] = [:]
    var changes: [AttendanceChange] = []
    var summary = AttendanceSummary()
}

/// The stored attendance lists: compares a rebuild with what is stored and writes only the difference.
/// Days before the run date are history and are never read for rewriting, let alone written.
struct AttendanceStore {
    /// nil for a dry run on a portal that does not exist yet: everything is new.
    let database: Database?

    static func describe(_ row: (start: String?, end: String?, absent: Bool, reason: String?)) -> String {
        let times = row.start.flatMap { start in row.end.map { "\(start)-\($0)" } } ?? "tijden onbekend"
        return row.absent ? "\(times), afwezig: \(row.reason ?? "")" : times
    }

    /// Compares `entries` and `closed` (the rebuild of `groups` over `days`) with the stored lists.
    func diff(groups: Set<String>, days: ClosedRange<Day>, entries: [AttendanceEntry], closed: [GroupDay: String]) throws -> AttendanceDiff {
        var stored: [String: (start: String?, end: String?, absent: Bool, reason: String?, source: String)] = [:]
        var storedDays: [GroupDay: String?] = [:]
        let from = days.lowerBound.iso, through = days.upperBound.iso
        for group in groups {
            guard let database else { break }
            try database.statement("""
                SELECT date, child_number, start_time, end_time, absent, reason, source FROM attendance
                WHERE group_code = ? AND date BETWEEN ? AND ?
                """).forEachRow([.text(group), .text(from), .text(through)]) { row in
                stored["\(group)|\(row.string(0) ?? "")|\(row.string(1) ?? "")"] =
                    (row.string(2), row.string(3), row.int(4) == 1, row.string(5), row.string(6) ?? "")
            }
            try database.statement("SELECT date, closed_reason FROM attendance_days WHERE group_code = ? AND date BETWEEN ? AND ?")
                .forEachRow([.text(group), .text(from), .text(through)]) { row in
                    if let day = row.string(0).flatMap(Day.init(iso:)) { storedDays[GroupDay(group: group, date: day)] = row.string(1) }
                }
        }
        var result = AttendanceDiff()
        result.summary.groups = groups.count
        result.summary.days = days.lowerBound.days(until: days.upperBound) + 1
        for entry in entries {
            let key = "\(entry.group)|\(entry.date.iso)|\(entry.child)"
            let new = (start: entry.start?.description, end: entry.end?.description, absent: entry.absent, reason: entry.reason)
            if let old = stored.removeValue(forKey: key) {
                if old.start != new.start || old.end != new.end || old.absent != new.absent || old.reason != new.reason || old.source != entry.source {
                    result.upserts.append(entry)
                    if old.start != new.start || old.end != new.end || old.absent != new.absent || old.reason != new.reason {
                        result.summary.changed += 1
                        result.changes.append(AttendanceChange(group: entry.group, date: entry.date.iso, child: entry.child, change: .changed,
                                                               old: AttendanceStore.describe((old.start, old.end, old.absent, old.reason)),
                                                               new: AttendanceStore.describe(new)))
                    }
                }
            } else {
                result.upserts.append(entry)
                result.summary.added += 1
                result.changes.append(AttendanceChange(group: entry.group, date: entry.date.iso, child: entry.child, change: .added,
                                                       old: nil, new: AttendanceStore.describe(new)))
            }
        }
        for (key, old) in stored {
            let parts = key.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 3, let day = Day(iso: parts[1]) else { continue }
            result.deletes.append((parts[0], day, parts[2]))
            result.summary.removed += 1
            result.changes.append(AttendanceChange(group: parts[0], date: parts[1], child: parts[2], change: .removed,
                                                   old: AttendanceStore.describe((old.start, old.end, old.absent, old.reason)), new: nil))
        }
        for group in groups {
            var day = days.lowerBound
            while day <= days.upperBound {
                let key = GroupDay(group: group, date: day)
                let reason = closed[key]
                if storedDays[key] == nil || storedDays[key]! != reason { result.days[key] = reason }
                day = day.adding(days: 1)
            }
        }
        result.changes.sort { ($0.group, $0.date, $0.child) < ($1.group, $1.date, $1.child) }
        return result
    }

    /// Writes a diff; part of the caller's transaction.
    func write(_ diff: AttendanceDiff, runID: String) throws {
        guard let database else { return }
        for (group, date, child) in diff.deletes {
            try database.run("DELETE FROM attendance WHERE group_code = ? AND date = ? AND child_number = ?",
                             [.text(group), .text(date.iso), .text(child)])
        }
        for entry in diff.upserts {
            try database.run("""
                INSERT OR REPLACE INTO attendance (group_code, date, child_number, start_time, end_time, absent, reason, source, run_id)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, [.text(entry.group), .text(entry.date.iso), .text(entry.child), entry.start?.description.sqlValue ?? .null,
                      entry.end?.description.sqlValue ?? .null, .integer(entry.absent ? 1 : 0), entry.reason.sqlValue,
                      .text(entry.source), .text(runID)])
        }
        for (key, reason) in diff.days {
            try database.run("INSERT OR REPLACE INTO attendance_days (group_code, date, closed_reason, run_id) VALUES (?, ?, ?, ?)",
                             [.text(key.group), .text(key.date.iso), reason.sqlValue, .text(runID)])
        }
    }
}
