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
///
/// The connection stays inside this module: the command line reads through the repository's questions
/// and changes the portal through `Importer`, `MailDelivery` and the other owners of a `PortalWriter`.
public final class PortalRepository {
    let database: Database

    public init(database: Database) throws {
        self.database = database
        try database.migrate(PortalSchema.migrations)
        try database.claim(applicationID: PortalSchema.applicationID)
    }

    /// The portal as it is: neither migrated nor checked for its schema (see `init(afterRunAt:)`).
    init(asItIs database: Database) {
        self.database = database
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
        var records: [String: StoredRecord] = [:]
        try forEachRecord(kind, where: condition, values) { key, record in records[key] = record }
        return records
    }

    /// The stored records of one kind, one at a time, optionally narrowed by an SQL condition on its columns:
    /// for a caller that keeps only what it makes of them.
    func forEachRecord(_ kind: EntityKind, where condition: String? = nil, _ values: [SQLValue] = [],
                       _ body: (String, StoredRecord) throws -> Void) throws {
        let schema = kind.schema
        let columns = schema.fields.map(\.column).joined(separator: ", ")
        let fieldCount = schema.fields.count
        let sql = "SELECT key, status, status_since, \(columns) FROM \(schema.table)" + (condition.map { " WHERE \($0)" } ?? "")
        try database.statement(sql).forEachRow(values) { row in
            guard let key = row.string(0) else { return }
            // Each column's bytes asked of SQLite once (asking again after it made text of a number is not
            // defined), then read from here as often as the buffer is laid out.
            let values = withUnsafeTemporaryAllocation(of: UnsafeBufferPointer<UInt8>?.self, capacity: fieldCount) { columns in
                for index in 0..<fieldCount { columns.initializeElement(at: index, to: row.textBytes(index + 3)) }
                return FieldValues(count: fieldCount) { columns[$0] }
            }
            let status = RecordStatus(rawValue: row.string(1) ?? "") ?? .active
            // Only an ended or vanished record's day is needed (access after care); the rest skip the parse.
            let since = status == .vanished ? row.string(2).flatMap(Day.init(iso:)) : nil
            try body(key, StoredRecord(values: values, status: status, statusSince: since))
        }
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

    /// The basis and run date of the last full or incremental run; nil before the first (or on a portal
    /// made before content hashes were kept).
    func importBasis() throws -> (basis: String, asOf: Day)? {
        try database.statement("SELECT basis, as_of FROM import_basis WHERE id = 1").firstRow { row in
            guard let basis = row.string(0), let day = row.string(1).flatMap(Day.init(iso:)) else { return nil }
            return (basis, day)
        } ?? nil
    }

    /// The portal's secret for row hashes (`RowHash.Key`); nil before the first run that stored one, and when
    /// what is stored is not a key (the next full or incremental run then stores a new one).
    func rowHashKey() throws -> RowHash.Key? {
        guard try database.scalarInt("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'row_hash_key'") == 1 else {
            return nil
        }
        return try RowHash.Key.stored(in: database)
    }

    /// The content hash of every row the portal applied, per kind; and, when the basis is the same, the kinds
    /// whose file in this export is byte for byte the one last applied without a rejected row (CSV exports).
    func knownRows(manifest: Manifest, mapping: Mapping, sameBasis: Bool) throws -> KnownRows {
        var counts: [EntityKind: Int] = [:]
        try database.statement("SELECT entity, COUNT(*) FROM record_hashes GROUP BY entity").forEachRow { row in
            guard let kind = row.string(0).flatMap(EntityKind.init(rawValue:)) else { return }
            counts[kind] = row.int(1) ?? 0
        }
        return try known(counts: counts, comparesRows: true, manifest: manifest, mapping: mapping, sameBasis: sameBasis)
    }

    /// What a family's scoped run, made under the basis stored, needs to skip the files of `kinds` it reads
    /// whole only to check what its rows refer to: whether each is the file last applied, and the keys the
    /// portal applied from it. Its rows are not compared (`comparesRows` is false), and the rows of every
    /// other table are not counted.
    func knownFiles(_ kinds: Set<EntityKind>, manifest: Manifest, mapping: Mapping) throws -> KnownRows {
        var counts: [EntityKind: Int] = [:]
        let count = try database.statement("SELECT COUNT(*) FROM record_hashes WHERE entity = ?")
        for kind in kinds {
            // The primary key's range of one kind: a few thousand rows, not every row hash.
            if let rows = try count.firstRow([.text(kind.rawValue)], { $0.int(0) }) ?? nil, rows > 0 { counts[kind] = rows }
        }
        let known = try known(counts: counts, comparesRows: false, manifest: manifest, mapping: mapping, sameBasis: true)
        known.unchangedFiles = known.unchangedFiles.filter { kinds.contains($0.key) }
        return known
    }

    private func known(counts: [EntityKind: Int], comparesRows: Bool, manifest: Manifest, mapping: Mapping,
                       sameBasis: Bool) throws -> KnownRows {
        let database = database
        let known = KnownRows(counts: counts, comparesRows: comparesRows, read: { kind in
            // Each key placed from the column's bytes: a short ASCII one without a `String` made.
            var hashes = KeyTable(minimumCapacity: counts[kind] ?? 0)
            try database.statement("SELECT key, hash FROM record_hashes WHERE entity = ?").forEachRow([.text(kind.rawValue)]) { row in
                guard let key = row.textBytes(0) else { return }
                hashes.updateValue(UInt64(bitPattern: Int64(row.int(1) ?? 0)), forKeyBytes: key)
            }
            return hashes
        }, careTypes: {
            var careTypes: [String: String] = [:]
            try database.statement("SELECT key, care_type FROM groups").forEachRow { row in
                if let key = row.string(0), let careType = row.string(1) { careTypes[key] = careType }
            }
            return careTypes
        })
        guard sameBasis, mapping.format == .csv else { return known }
        let listed = Dictionary(manifest.files.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        try database.statement("SELECT entity, name, sha256, rows, issues FROM applied_files").forEachRow { row in
            guard let kind = row.string(0).flatMap(EntityKind.init(rawValue:)), let name = row.string(1),
                  mapping.entities[kind]?.name == name, let file = listed[name], let sha = file.sha256,
                  sha == row.string(2), file.rows == row.int(3) else { return }
            known.unchangedFiles[kind] = AppliedFile(rows: file.rows, warnings: row.string(4))
        }
        return known
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
        text.reserveCapacity(changes.reduce(2) { $0 + 32 + $1.field.utf8.count + ($1.old?.utf8.count ?? 4) + ($1.new?.utf8.count ?? 4) })
        for (index, change) in changes.enumerated() {
            if index > 0 { text += "," }
            appendEntry(change.field, old: change.old, new: change.new, to: &text)
        }
        text += "]"
        return text
    }

    /// The change-log entry of a created record: every stored value, as `{field, old: null, new}`. Written
    /// into one string sized up front: a first import makes one for every record it creates.
    static func createdFields(_ schema: EntitySchema, _ values: FieldValues) -> String {
        var capacity = 2
        for (index, field) in schema.fields.enumerated() where index < values.count {
            capacity += values.withUTF8(index) { $0.map { 36 + field.name.utf8.count + $0.count } ?? 0 }
        }
        var text = "["
        text.reserveCapacity(capacity)
        var first = true
        for (index, field) in schema.fields.enumerated() {
            guard index < values.count, let value = values[index] else { continue }
            if !first { text += "," }
            first = false
            appendEntry(field.name, old: nil, new: value, to: &text)
        }
        text += "]"
        return text
    }

    /// One `{field, old, new}` object of a change-log entry, appended to `text`.
    private static func appendEntry(_ field: String, old: String?, new: String?, to text: inout String) {
        text += "{\"field\":"
        append(field, to: &text)
        text += ",\"old\":"
        append(old, to: &text)
        text += ",\"new\":"
        append(new, to: &text)
        text += "}"
    }

    /// Whether `value` holds anything a JSON string must escape. Most values hold nothing: their bytes are
    /// checked once and copied as they are.
    private static func needsEscaping(_ value: String) -> Bool {
        value.utf8.contains { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }
    }

    /// `quote(value)`, written straight onto `bytes`. A value with nothing to escape (nearly every one) is
    /// checked and copied from its own bytes: a report at a million children writes 40 MB of them.
    static func append(_ value: String?, to bytes: inout [UInt8]) {
        guard let value else { bytes.append(contentsOf: "null".utf8); return }
        let copied = value.utf8.withContiguousStorageIfAvailable { utf8 -> Bool in
            for byte in utf8 where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { return false }
            bytes.append(UInt8(ascii: "\""))
            bytes.append(contentsOf: utf8)
            bytes.append(UInt8(ascii: "\""))
            return true
        }
        if copied == true { return }
        if copied == nil, !needsEscaping(value) {
            bytes.append(UInt8(ascii: "\""))
            bytes.append(contentsOf: value.utf8)
            bytes.append(UInt8(ascii: "\""))
        } else {
            bytes.append(contentsOf: quote(value).utf8)
        }
    }

    /// `quote(value)`, appended to `text`.
    static func append(_ value: String?, to text: inout String) {
        guard let value else { text += "null"; return }
        if !needsEscaping(value) {
            text += "\""
            text += value
            text += "\""
        } else {
            text += quote(value)
        }
    }

    static func quote(_ value: String?) -> String {
        guard let value else { return "null" }
        if !needsEscaping(value) {
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

extension RowHash.Key {
    /// The key in `database`'s `row_hash_key` table (which must exist); nil when there is none, or when what
    /// is there does not read as a key.
    static func stored(in database: Database) throws -> RowHash.Key? {
        try database.scalarString("SELECT key FROM row_hash_key WHERE id = 1").flatMap(RowHash.Key.init(hex:))
    }
}
