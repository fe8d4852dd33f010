import Foundation
import PortalStore

/// What the runs table keeps of one run.
public struct RunRecord: Sendable {
    public var id: String
    public var organisation: String
    public var mode: String
    public var status: String
    public var asOf: Day
    public var startedAt: Date
    public var finishedAt: Date
    public var exportPath: String?
    public var exportFingerprint: String?
    public var exportedAt: String?
    public var `operator`: String
    public var reason: String?
    /// The run's flags (force, allowMassChanges, only) as JSON.
    public var options: String
    /// Counts as JSON, for `opvangsync runs`.
    public var summary: String
    public var reportPath: String?
    public var exitCode: Int32
    /// The run's report JSON, kept with the run so that its files can be written again from the database.
    public var reportJSON: String?
}

/// The portal database as the import sees it: load the current state once, write a plan at once.
///
/// Every statement is prepared once and reused for every row; nothing here queries per record.
public final class PortalRepository {
    public let database: Database

    public init(database: Database) throws {
        self.database = database
        try database.migrate(PortalSchema.migrations)
        try database.claim(applicationID: PortalSchema.applicationID)
    }

    init(readOnly database: Database) throws {
        self.database = database
        let latest = PortalSchema.migrations.map(\.version).max() ?? 0
        let hasSchema = try database.scalarInt(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'") ?? 0 > 0
        let version = hasSchema ? try database.scalarInt("SELECT COALESCE(MAX(version), 0) FROM schema_migrations") ?? 0 : 0
        guard version == latest else {
            throw DatabaseError(code: 1, message: "the portal database has schema version \(version), this opvangsync needs \(latest); run an import (not a dry run) first to migrate it",
                                sql: nil, path: database.path)
        }
    }

    /// Opens (creating when needed) and migrates the portal database at `path`.
    public convenience init(path: String) throws {
        try self.init(database: try Database(path: path, owner: PortalSchema.applicationID, legacyTables: PortalSchema.legacyTables))
    }

    /// Every stored record of `kinds`, by key.
    public func loadCurrent(_ kinds: [EntityKind]) throws -> [EntityKind: [String: StoredRecord]] {
        var result: [EntityKind: [String: StoredRecord]] = [:]
        for kind in kinds { result[kind] = try load(kind) }
        return result
    }

    /// The stored records of one kind, optionally narrowed by an SQL condition on its columns.
    public func load(_ kind: EntityKind, where condition: String? = nil, _ values: [SQLValue] = []) throws -> [String: StoredRecord] {
        let schema = kind.schema
        let columns = schema.fields.map(\.column).joined(separator: ", ")
        var records: [String: StoredRecord] = [:]
        let fieldCount = schema.fields.count
        let sql = "SELECT key, status, status_since, \(columns) FROM \(schema.table)" + (condition.map { " WHERE \($0)" } ?? "")
        try database.statement(sql).forEachRow(values) { row in
            guard let key = row.string(0) else { return }
            var values: [String?] = []
            values.reserveCapacity(fieldCount)
            for index in 0..<fieldCount { values.append(row.string(index + 3)) }
            let status = RecordStatus(rawValue: row.string(1) ?? "") ?? .active
            // Only an ended or vanished record's day is needed (access after care); the rest skip the parse.
            let since = status == .vanished ? row.string(2).flatMap(Day.init(iso:)) : nil
            records[key] = StoredRecord(values: values, status: status, statusSince: since)
        }
        return records
    }

    /// The organisation this portal belongs to, as its first import recorded it; nil before that.
    public func owner() throws -> (id: String, portalURL: String?)? {
        try database.statement("SELECT id, portal_url FROM organisation ORDER BY rowid LIMIT 1").firstRow { row in
            (row.string(0) ?? "", row.string(1))
        }
    }

    /// The number of active records of one kind.
    public func activeCount(_ kind: EntityKind) throws -> Int {
        try database.scalarInt("SELECT COUNT(*) FROM \(kind.schema.table) WHERE status = 'active'") ?? 0
    }

    /// Writes the run record, every change of `plan` and its change-log rows in one transaction.
    ///
    /// `extra` runs inside the same transaction (accounts, outbox, attendance) so that everything a run
    /// does lands together or not at all.
    public func apply(_ plan: Plan, run: RunRecord, progress: (Int) -> Void = { _ in },
                      extra: (Database) throws -> Void = { _ in }) throws {
        try database.inTransaction {
            try insert(run)
            for (index, change) in plan.changes.enumerated() {
                try write(change, runID: run.id, asOf: run.asOf)
                if index % 10_000 == 9_999 { progress(index + 1) }
            }
            progress(plan.changes.count)
            try extra(database)
        }
    }

    /// Records a run that applied nothing (skipped, aborted, failed) so that `opvangsync runs` shows it.
    public func record(_ run: RunRecord) throws {
        try database.inTransaction { try insert(run) }
    }

    private func insert(_ run: RunRecord) throws {
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
    public func finish(runID: String, finishedAt: Date, reportJSON: String?) throws {
        try database.inTransaction {
            try database.run("UPDATE runs SET finished_at = ?, report_json = ? WHERE id = ?",
                             [.text(Timestamp.iso(finishedAt)), reportJSON.sqlValue, .text(runID)])
        }
    }

    /// Drops the run's kept report once its files are in place: from then on the files are the report (and
    /// report retention governs them), so the database keeps no second copy of the personal data in it.
    public func releaseKeptReport(runID: String) throws {
        try database.inTransaction {
            try database.run("UPDATE runs SET report_json = NULL WHERE id = ?", [.text(runID)])
        }
    }

    /// The changes a run applied, from the change log: what a kept report leaves out.
    public func reportChanges(runID: String) throws -> [RunReport.ReportChange] {
        try database.query("SELECT entity, key, action, changes FROM change_log WHERE run_id = ? ORDER BY id", [.text(runID)]) { row in
            let action = ChangeAction(rawValue: row.string(2) ?? "") ?? .updated
            var fields: [FieldChange] = []
            if action != .created, let text = row.string(3), let list = try? JSONParser.parse(Array(text.utf8)).elements {
                fields = list.map { FieldChange(field: $0["field"]?.string ?? "", old: $0["old"]?.string, new: $0["new"]?.string) }
            }
            return RunReport.ReportChange(entity: row.string(0) ?? "", key: row.string(1) ?? "", action: action, fields: fields)
        }
    }

    /// The report JSON a run kept, nil for runs recorded before reports were kept.
    public func reportJSON(runID: String) throws -> String? {
        try database.scalarString("SELECT report_json FROM runs WHERE id = ?", [.text(runID)])
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

    private func write(_ change: Change, runID: String, asOf: Day) throws {
        let sql = PortalRepository.writeSQL[change.kind]!
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

    /// The newest `exportedAt` of an export this portal applied in full (as the manifest wrote it).
    public func newestAppliedExport() throws -> [String] {
        try database.query("""
            SELECT DISTINCT exported_at FROM runs
            WHERE status = 'applied' AND mode = 'apply' AND exported_at IS NOT NULL AND json_extract(options, '$.only') IS NULL
            """) { $0.string(0) ?? "" }
    }

    /// True when an export with this manifest fingerprint was applied before, in full (not scoped).
    public func wasImported(fingerprint: String) throws -> Bool {
        try database.scalarInt(
            "SELECT COUNT(*) FROM runs WHERE export_fingerprint = ? AND status = 'applied' AND json_extract(options, '$.only') IS NULL",
            [.text(fingerprint)]) ?? 0 > 0
    }
}

/// Timestamps in reports and the runs table: UTC, ISO 8601, seconds.
public enum Timestamp {
    public static func iso(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}

/// Small JSON writers for the change log, where Codable's overhead per row is not worth it.
enum JSONText {
    static func fieldChanges(_ changes: [FieldChange]) -> String {
        var text = "["
        for (index, change) in changes.enumerated() {
            if index > 0 { text += "," }
            text += entry(change.field, old: change.old, new: change.new)
        }
        return text + "]"
    }

    /// The change-log entry of a created record: every stored value, as `{field, old: null, new}`.
    static func createdFields(_ schema: EntitySchema, _ values: [String?]) -> String {
        var text = "["
        for (index, field) in schema.fields.enumerated() {
            guard index < values.count, let value = values[index] else { continue }
            if text.utf8.count > 1 { text += "," }
            text += entry(field.name, old: nil, new: value)
        }
        return text + "]"
    }

    /// One `{field, old, new}` object of a change-log entry.
    private static func entry(_ field: String, old: String?, new: String?) -> String {
        "{\"field\":\(quote(field)),\"old\":\(quote(old)),\"new\":\(quote(new))}"
    }

    static func quote(_ value: String?) -> String {
        guard let value else { return "null" }
        // Most values need no escaping at all: check the bytes once and copy.
        if !value.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            return "\"" + value + "\""
        }
        var text = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            case _ where scalar.value < 0x20: text += String(format: "\\u%04x", scalar.value)
            default: text.unicodeScalars.append(scalar)
            }
        }
        return text + "\""
    }
}

extension PortalRepository {
    /// Opens an existing portal for reading only (dry runs, listings): no migration, no write of any kind,
    /// and no WAL files left behind.
    public convenience init(readOnlyAt path: String) throws {
        let database = try Database(path: path, mode: .queryOnly, owner: PortalSchema.applicationID,
                                    legacyTables: PortalSchema.legacyTables)
        try self.init(readOnly: database)
    }
}
