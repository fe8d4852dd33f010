import Foundation
import PortalStore

extension PortalWriter {
    /// The attendance rows and days that changed.
    func writeAttendance(_ diff: AttendanceDiff, runID: String) throws {
        for group in diff.rebuilt.sorted() where !diff.flagged.contains(group) {
            try database.run("DELETE FROM attendance_flags WHERE group_code = ?", [.text(group)])
        }
        for group in diff.flagged.sorted() {
            try database.run("INSERT OR REPLACE INTO attendance_flags (group_code, run_id) VALUES (?, ?)", [.text(group), .text(runID)])
        }
        for (group, date, child) in diff.deletes {
            try database.run("DELETE FROM attendance WHERE group_code = ? AND date = ? AND child_number = ?",
                             [.text(group), .text(date.iso), .text(child)])
        }
        try inBatches("""
            INSERT OR REPLACE INTO attendance (group_code, date, child_number, start_time, end_time, absent, absent_from,
                                               absent_until, reason, source, run_id) VALUES
            """, columns: 11) { rows in
            for entry in diff.upserts {
                try rows.add([.text(entry.group), .text(entry.date.iso), .text(entry.child), entry.start?.description.sqlValue ?? .null,
                              entry.end?.description.sqlValue ?? .null, .integer(entry.absent ? 1 : 0),
                              entry.absentHours?.start.description.sqlValue ?? .null, entry.absentHours?.end.description.sqlValue ?? .null,
                              entry.reason.sqlValue, .text(entry.source), .text(runID)])
            }
        }
        try inBatches("INSERT OR REPLACE INTO attendance_days (group_code, date, closed_reason, school_holiday, run_id) VALUES ",
                      columns: 5) { rows in
            for (key, state) in diff.days {
                try rows.add([.text(key.group), .text(key.date.iso), state.closed.sqlValue, state.schoolHoliday.sqlValue, .text(runID)])
            }
        }
    }
}
