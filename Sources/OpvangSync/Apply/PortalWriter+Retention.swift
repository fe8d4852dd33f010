import Foundation
import PortalStore

extension PortalWriter {
    /// The retention plan: access windows, accounts disabled and enabled, children and parents purged.
    func applyRetention(_ plan: RetentionPlan, runID: String, asOf: Day) throws {
        for window in plan.windows.values {
            try database.run("""
                INSERT OR REPLACE INTO access_windows (parent_number, child_number, last_end, photos_until, documents_until, run_id)
                VALUES (?, ?, ?, ?, ?, ?)
                """, [.text(window.parent), .text(window.child), .text(window.lastEnd.iso), .text(window.photosUntil.iso),
                      window.documentsUntil?.iso.sqlValue ?? .null, .text(runID)])
        }
        for key in plan.removedWindows {
            let parts = key.split(separator: "/", maxSplits: 1).map(String.init)
            try database.run("DELETE FROM access_windows WHERE parent_number = ? AND child_number = ?", [.text(parts[0]), .text(parts[1])])
        }
        for owner in plan.disable {
            try database.run("UPDATE accounts SET disabled_at = ?, updated_run = ? WHERE parent_number = ?", [.text(asOf.iso), .text(runID), .text(owner)])
        }
        for owner in plan.enable {
            try database.run("UPDATE accounts SET disabled_at = NULL, updated_run = ? WHERE parent_number = ?", [.text(runID), .text(owner)])
        }
        let childPersonal = EntityKind.child.schema.fields.filter(\.personal).map { "\($0.column) = NULL" }.joined(separator: ", ")
        for child in plan.purgeChildren {
            try forgetHash(.child, where: "key = ?", [.text(child)])
            try forgetHash(.deviation, where: "child_number = ?", [.text(child)])
            try database.run("UPDATE children SET \(childPersonal), purged_at = ? WHERE key = ?", [.text(asOf.iso), .text(child)])
            try database.run("UPDATE deviations SET description = NULL WHERE child_number = ?", [.text(child)])
            // The absence reasons on past attendance lists are the same descriptions.
            try database.run("UPDATE attendance SET reason = NULL WHERE child_number = ?", [.text(child)])
            try redactChangeLog(entity: .child, where: "key = ?", [.text(child)])
            try dropKeptReports(mentioning: child, except: runID)
            // The child's own deviations by their exact keys: a pattern on the key could reach another child's.
            try redactChangeLog(entity: .deviation, where: "key IN (SELECT key FROM deviations WHERE child_number = ?)", [.text(child)])
        }
        for key in plan.removeRelations {
            try forgetHash(.relation, where: "key = ?", [.text(key)])
            try database.run("DELETE FROM relations WHERE key = ?", [.text(key)])
        }
        let parentPersonal = EntityKind.parent.schema.fields.filter(\.personal).map { "\($0.column) = NULL" }.joined(separator: ", ")
        for parent in plan.purgeParents {
            try forgetHash(.parent, where: "key = ?", [.text(parent)])
            try database.run("UPDATE parents SET \(parentPersonal), purged_at = ? WHERE key = ?", [.text(asOf.iso), .text(parent)])
            try redactChangeLog(entity: .parent, where: "key = ?", [.text(parent)])
            try dropKeptReports(mentioning: parent, except: runID)
            // The account's username is an address: the account goes with the parent's data.
            if let owner = try database.scalarString("SELECT account FROM account_members WHERE parent_number = ?", [.text(parent)]) {
                let others = try database.scalarInt("SELECT COUNT(*) FROM account_members WHERE account = ? AND parent_number != ?",
                                                    [.text(owner), .text(parent)]) ?? 0
                try database.run("DELETE FROM account_members WHERE parent_number = ?", [.text(parent)])
                if others == 0 {
                    try database.run("DELETE FROM outbox WHERE account = ?", [.text(owner)])
                    try database.run("DELETE FROM invitations WHERE account = ?", [.text(owner)])
                    try database.run("DELETE FROM accounts WHERE parent_number = ?", [.text(owner)])
                }
            }
            try database.run("DELETE FROM account_state WHERE parent_number = ?", [.text(parent)])
            try database.run("DELETE FROM access_windows WHERE parent_number = ?", [.text(parent)])
        }
    }

    /// A report still kept in the runs table (a run that crashed before its files were in place) that names
    /// a purged record may hold its personal data: it goes. Its files, if any, fall under report retention.
    /// (The run doing the purge names the key only in its list of what it purged.)
    private func dropKeptReports(mentioning key: String, except runID: String) throws {
        try database.run("UPDATE runs SET report_json = NULL WHERE report_json IS NOT NULL AND id <> ? AND instr(report_json, ?) > 0",
                         [.text(runID), .text(JSONText.quote(key))])
    }

    /// Replaces personal values in the change log of purged records; keys, dates and actions stay.
    private func redactChangeLog(entity: EntityKind, where condition: String, _ values: [SQLValue]) throws {
        let personal = Set(entity.schema.fields.filter(\.personal).map(\.name))
        let rows = try database.query("SELECT id, changes FROM change_log WHERE entity = ? AND \(condition)",
                                      [.text(entity.rawValue)] + values) { ($0.int(0) ?? 0, $0.string(1) ?? "[]") }
        for (id, json) in rows {
            // An entry that cannot be read cannot be shown to be free of personal data: the purge stops
            // (and the run rolls back) rather than leave it as it is.
            guard let node = try? JSONParser.parse(Array(json.utf8)), let list = node.elements,
                  list.allSatisfy({ $0.members != nil && $0["field"]?.string != nil }) else {
                throw RetentionFailure(message: "change log entry \(id) of \(entity.rawValue) cannot be read, so it cannot be cleared of personal data")
            }
            let redacted = list.map { item -> FieldChange in
                let field = item["field"]?.string ?? ""
                let hidden = personal.contains(field)
                return FieldChange(field: field, old: hidden ? nil : item["old"]?.string, new: hidden ? nil : item["new"]?.string)
            }
            try database.run("UPDATE change_log SET changes = ? WHERE id = ?", [.text(JSONText.fieldChanges(redacted)), .integer(Int64(id))])
        }
    }
}
