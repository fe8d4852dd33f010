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

    /// Every record change of `plan`, each with its change-log row. Created records of one kind that follow
    /// each other (a first import, a family arriving) and all log rows go in batches (`inBatches`); rows and
    /// log rows land in the plan's order.
    func writeChanges(_ plan: Plan, runID: String, asOf: Day, progress: (Int) -> Void = { _ in }) throws {
        let day = asOf.iso
        let changes = plan.changes
        var index = 0
        /// One change written: progress every 10,000, as the plan's changes go by.
        func advance() {
            index += 1
            if index % 10_000 == 0 { progress(index) }
        }
        try inBatches(PortalWriter.logSQL, columns: 6) { log in
            while index < changes.count {
                let first = changes[index]
                if first.action == .created, first.values != nil {
                    // This created record and those of its kind that follow it, in one batched insert.
                    var end = index + 1
                    while end < changes.count, changes[end].action == .created, changes[end].kind == first.kind,
                          changes[end].values != nil { end += 1 }
                    try inBatches(PortalWriter.writeSQL[first.kind]!.into, columns: first.kind.schema.fields.count + 5) { rows in
                        for change in changes[index..<end] {
                            try rows.add(createdRow(change, runID: runID, day: day))
                            try log.add(logRow(change, runID: runID, day: day))
                            advance()
                        }
                    }
                } else {
                    try write(first, runID: runID, day: day)
                    try log.add(logRow(first, runID: runID, day: day))
                    advance()
                }
            }
        }
        progress(changes.count)
    }

    /// Rows for one `INSERT … VALUES` statement, sent `RowBatch.size` rows to a statement: SQLite then opens
    /// its cursors, and builds the lists its constraints check against, once per batch instead of once per
    /// row. Rows are inserted in the order they are added.
    struct RowBatch {
        static let size = 64
        fileprivate let database: Database
        fileprivate let single: String
        fileprivate let batched: String
        fileprivate let columns: Int
        fileprivate var pending: [SQLValue] = []

        /// Adds one row of `columns` values; a full batch is written at once.
        mutating func add(_ row: [SQLValue]) throws {
            precondition(row.count == columns, "a row of \(row.count) values for \(columns) columns")
            pending += row
            if pending.count == columns * RowBatch.size {
                try database.run(batched, pending)
                pending.removeAll(keepingCapacity: true)
            }
        }

        /// The rows of a batch not filled, one statement each.
        fileprivate mutating func flush() throws {
            var start = 0
            while start < pending.count {
                try database.run(single, Array(pending[start..<(start + columns)]))
                start += columns
            }
            pending.removeAll()
        }
    }

    /// `body` adding rows for `prefix` (`INSERT … (columns) VALUES `); every row added is written before
    /// this returns.
    func inBatches(_ prefix: String, columns: Int, _ body: (inout RowBatch) throws -> Void) throws {
        let row = "(" + Array(repeating: "?", count: columns).joined(separator: ", ") + ")"
        var batch = RowBatch(database: database, single: prefix + row,
                             batched: prefix + Array(repeating: row, count: RowBatch.size).joined(separator: ", "),
                             columns: columns)
        try body(&batch)
        try batch.flush()
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

    /// The statements that write one kind, built once per kind rather than once per row.
    private struct WriteSQL {
        /// `INSERT INTO table (…) VALUES `, for `inBatches`.
        let into: String
        let update: String
        let status: String

        init(_ schema: EntitySchema) {
            let columns = schema.fields.map(\.column)
            into = "INSERT INTO \(schema.table) (key, \(columns.joined(separator: ", ")), status, status_since, created_run, updated_run) VALUES "
            update = "UPDATE \(schema.table) SET \(columns.map { "\($0) = ?" }.joined(separator: ", ")), status_since = CASE WHEN status = ? THEN status_since ELSE ? END, status = ?, updated_run = ? WHERE key = ?"
            status = "UPDATE \(schema.table) SET status = ?, status_since = ?, updated_run = ? WHERE key = ?"
        }
    }

    private static let writeSQL: [EntityKind: WriteSQL] = Dictionary(
        uniqueKeysWithValues: EntityKind.allCases.map { ($0, WriteSQL($0.schema)) })

    private static let logSQL = "INSERT INTO change_log (run_id, entity, key, action, changes, as_of) VALUES "

    /// A change's row in the change log.
    private func logRow(_ change: Change, runID: String, day: String) -> [SQLValue] {
        [.text(runID), .text(change.kind.rawValue), .text(change.key), .text(change.action.rawValue),
         .text(change.action == .created ? JSONText.createdFields(change.kind.schema, change.values ?? [])
                                          : JSONText.fieldChanges(change.fields)), .text(day)]
    }

    /// A created record's row: its key, values, status and the run that made it.
    private func createdRow(_ change: Change, runID: String, day: String) -> [SQLValue] {
        var row: [SQLValue] = [.text(change.key)]
        row.reserveCapacity((change.values?.count ?? 0) + 5)
        for value in change.values ?? [] { row.append(value.sqlValue) }
        row += [.text(change.status.rawValue), .text(day), .text(runID), .text(runID)]
        return row
    }

    /// One record's update or change of status (created records go in batches; the caller writes the log row).
    private func write(_ change: Change, runID: String, day: String) throws {
        let sql = PortalWriter.writeSQL[change.kind]!
        if let values = change.values {
            var bindings: [SQLValue] = []
            bindings.reserveCapacity(values.count + 5)
            for value in values { bindings.append(value.sqlValue) }
            bindings += [.text(change.status.rawValue), .text(day), .text(change.status.rawValue), .text(runID), .text(change.key)]
            try database.run(sql.update, bindings)
        } else {
            try database.run(sql.status, [.text(change.status.rawValue), .text(day), .text(runID), .text(change.key)])
        }
    }
}
