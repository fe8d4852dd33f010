import Foundation
import PortalStore

/// The one place that changes the portal: every statement that writes to it is here, in this type and its
/// extensions (accounts, attendance, retention, mail delivery and bounces, report retention), and
/// `PortalOwnershipTests` fails on one anywhere else. The stages before it only read; a run's writes
/// happen inside `transaction`, so that they land together or not at all (SPEC §5).
///
/// Statements are prepared once per text and reused for every row (`Database.run` caches them).
struct PortalWriter {
    let database: Database

    /// `body` inside one `BEGIN IMMEDIATE` transaction, the run's row written first; returns how long the
    /// portal's writes had to wait: from asking for the write lock to the end of the commit (the WAL
    /// checkpoint after it does not hold the lock). A transaction of more than `PortalWriter.largeRun` rows
    /// (a first import, a night of mass change) gets a larger page cache.
    @discardableResult
    func transaction(run: RunRecord, rows: Int = 0, _ body: () throws -> Void) throws -> TimeInterval {
        func apply() throws -> TimeInterval {
            try database.checkpointingAfter {
                let asked = Date()
                try database.inTransaction {
                    try insertRun(run)
                    try body()
                }
                return Date().timeIntervalSince(asked)
            }
        }
        return rows > PortalWriter.largeRun ? try database.withPageCache(megabytes: 64, apply) : try apply()
    }

    /// Above this many rows a run's transaction spills its pages out of SQLite's default cache.
    static let largeRun = 50_000

    /// Records a run that applied nothing (skipped, aborted, failed) so that `opvangsync runs` shows it.
    func recordRun(_ run: RunRecord) throws {
        try database.inTransaction { try insertRun(run) }
    }

    /// Every record change of `plan`, each with its change-log row.
    func writeChanges(_ plan: Plan, runID: String, asOf: Day, progress: (Int) -> Void = { _ in }) throws {
        for (index, change) in plan.changes.enumerated() {
            try write(change, runID: runID, asOf: asOf)
            if index % 10_000 == 9_999 { progress(index + 1) }
        }
        progress(plan.changes.count)
    }

    /// The organisation's row: the portal's owner (written by its first import) and its portal address.
    func writeOrganisation(id: String, name: String, portalURL: String, runID: String) throws {
        try database.run("""
            INSERT INTO organisation (id, name, portal_url, updated_run) VALUES (?, ?, ?, ?)
            ON CONFLICT (id) DO UPDATE SET name = excluded.name, portal_url = excluded.portal_url, updated_run = excluded.updated_run
            """, [.text(id), .text(name), .text(portalURL), .text(runID)])
    }

    /// Failed and bounced mail this run's report names: the next report does not name it again.
    func markReported(outbox ids: [Int64], runID: String) throws {
        for id in ids {
            try database.run("UPDATE outbox SET reported_run = ? WHERE id = ?", [.text(runID), .integer(id)])
        }
    }

    /// Purged children and parents in care again: their data is imported anew from here on.
    func restorePurged(children: Set<ChildNumber>, parents: Set<ParentNumber>) throws {
        for key in children.sorted() {
            try database.run("UPDATE children SET purged_at = NULL WHERE key = ?", [.text(key.text)])
        }
        for key in parents.sorted() {
            try database.run("UPDATE parents SET purged_at = NULL WHERE key = ?", [.text(key.text)])
        }
    }

    /// The run's row in the runs table.
    func insertRun(_ run: RunRecord) throws {
        try database.run("""
            INSERT INTO runs (id, organisation, mode, status, as_of, started_at, finished_at, export_path,
                              export_fingerprint, exported_at, operator, reason, options, summary, report_path, exit_code,
                              report_json)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [
                .text(run.id), .text(run.organisation), .text(run.mode), .text(run.status), .text(run.asOf.iso),
                .text(Timestamp.iso(run.startedAt)), .text(Timestamp.iso(run.finishedAt)), run.exportPath.sqlValue,
                run.exportFingerprint.sqlValue, run.exportedAt.sqlValue, .text(run.operator), run.reason.sqlValue,
                .text(run.options), .text(run.summary), run.reportPath.sqlValue, .integer(Int64(run.exitCode)),
                run.reportJSON.sqlValue,
            ])
    }

    /// Stamps a committed run's end (after any mail delivery) and its final report.
    /// `reportJSON` nil: the report's files are in place, so the row keeps no copy.
    func finishRun(runID: String, finishedAt: Date, reportJSON: String?) throws {
        try database.run("UPDATE runs SET finished_at = ?, report_json = ? WHERE id = ?",
                             [.text(Timestamp.iso(finishedAt)), reportJSON.sqlValue, .text(runID)])
    }

    /// Drops the run's kept report once its files are in place: from then on the files are the report (and
    /// report retention governs them), so the database keeps no second copy of the personal data in it.
    func releaseKeptReport(runID: String) throws {
        try database.run("UPDATE runs SET report_json = NULL WHERE id = ?", [.text(runID)])
    }

    /// The three statements that write one kind, built once per kind rather than once per row.
    private struct WriteSQL {
        let insert: String
        let update: String
        let status: String

        init(_ schema: EntitySchema) {
            let columns = schema.fields.map(\.column)
            let placeholders = Array(repeating: "?", count: columns.count + 5).joined(separator: ", ")
            insert = "INSERT INTO \(schema.table) (key, \(columns.joined(separator: ", ")), status, status_since, created_run, updated_run) VALUES (\(placeholders))"
            update = "UPDATE \(schema.table) SET \(columns.map { "\($0) = ?" }.joined(separator: ", ")), status_since = CASE WHEN status = ? THEN status_since ELSE ? END, status = ?, updated_run = ? WHERE key = ?"
            status = "UPDATE \(schema.table) SET status = ?, status_since = ?, updated_run = ? WHERE key = ?"
        }
    }

    private static let writeSQL: [EntityKind: WriteSQL] = Dictionary(
        uniqueKeysWithValues: EntityKind.allCases.map { ($0, WriteSQL($0.schema)) })

    /// One record's change and its change-log row.
    private func write(_ change: Change, runID: String, asOf: Day) throws {
        let sql = PortalWriter.writeSQL[change.kind]!
        var bindings: [SQLValue] = []
        bindings.reserveCapacity((change.values?.count ?? 0) + 5)
        if change.action == .created, let values = change.values {
            bindings.append(.text(change.key))
            for value in values { bindings.append(value.sqlValue) }
            bindings += [.text(change.status.rawValue), .text(asOf.iso), .text(runID), .text(runID)]
            try database.run(sql.insert, bindings)
        } else if let values = change.values {
            for value in values { bindings.append(value.sqlValue) }
            bindings += [.text(change.status.rawValue), .text(asOf.iso), .text(change.status.rawValue), .text(runID), .text(change.key)]
            try database.run(sql.update, bindings)
        } else {
            try database.run(sql.status, [.text(change.status.rawValue), .text(asOf.iso), .text(runID), .text(change.key)])
        }
        try database.run(
            "INSERT INTO change_log (run_id, entity, key, action, changes, as_of) VALUES (?, ?, ?, ?, ?, ?)",
            [.text(runID), .text(change.kind.rawValue), .text(change.key), .text(change.action.rawValue),
             .text(change.action == .created ? JSONText.createdFields(change.kind.schema, change.values ?? [])
                                              : JSONText.fieldChanges(change.fields)), .text(asOf.iso)])
    }
}
