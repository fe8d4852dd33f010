import Foundation
import PortalStore

/// One row of `opvangsync runs`.
public struct RunSummary: Encodable, Sendable {
    public var id: String
    public var organisation: String
    public var mode: String
    public var status: String
    public var asOf: String
    public var startedAt: String
    public var finishedAt: String
    public var exportPath: String?
    public var exportedAt: String?
    public var `operator`: String
    public var reason: String?
    public var options: String
    public var summary: String
    public var reportPath: String?
    public var exitCode: Int

    enum CodingKeys: String, CodingKey {
        case id, organisation, mode, status, asOf, startedAt, finishedAt, exportPath, exportedAt, `operator`, reason, options,
             summary, reportPath, exitCode
    }

    /// As nested JSON: the options and the summary the runs table keeps as text are written as the objects they are.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(organisation, forKey: .organisation)
        try container.encode(mode, forKey: .mode)
        try container.encode(status, forKey: .status)
        try container.encode(asOf, forKey: .asOf)
        try container.encode(startedAt, forKey: .startedAt)
        try container.encode(finishedAt, forKey: .finishedAt)
        try container.encode(exportPath, forKey: .exportPath)
        try container.encode(exportedAt, forKey: .exportedAt)
        try container.encode(`operator`, forKey: .operator)
        try container.encode(reason, forKey: .reason)
        try container.encode(RunSummary.nested(options), forKey: .options)
        try container.encode(RunSummary.nested(summary), forKey: .summary)
        try container.encode(reportPath, forKey: .reportPath)
        try container.encode(exitCode, forKey: .exitCode)
    }

    /// Stored JSON text as a value; text that is no JSON stays text.
    static func nested(_ text: String) -> JSONNode {
        (try? JSONParser.parse(Array(text.utf8))) ?? JSONNode(value: .string(text), line: 1, column: 1)
    }
}

/// One change to one record, with the run that made it: `opvangsync history`.
public struct RecordChange: Codable, Sendable {
    public var runId: String
    public var asOf: String
    public var startedAt: String
    public var action: String
    /// The changed fields with old and new values (canonical field names).
    public var changes: [FieldChange]
    public var exportPath: String?
    public var `operator`: String
    public var reason: String?
}

extension PortalRepository {
    /// Past runs, newest first. Runs never overlap (the run lock), so insertion order is time order.
    public func runs(limit: Int = 50) throws -> [RunSummary] {
        try database.query("\(PortalRepository.runColumns) FROM runs ORDER BY rowid DESC LIMIT ?",
                           [.integer(Int64(limit))], PortalRepository.runSummary)
    }

    /// The run with this id.
    public func run(id: String) throws -> RunSummary? {
        try database.statement("\(PortalRepository.runColumns) FROM runs WHERE id = ?").firstRow([.text(id)], PortalRepository.runSummary)
    }

    private static let runColumns = """
        SELECT id, organisation, mode, status, as_of, started_at, finished_at, export_path, exported_at,
               operator, reason, options, summary, report_path, exit_code
        """

    private static func runSummary(_ row: Row) -> RunSummary {
        RunSummary(id: row.string(0) ?? "", organisation: row.string(1) ?? "", mode: row.string(2) ?? "",
                   status: row.string(3) ?? "", asOf: row.string(4) ?? "", startedAt: row.string(5) ?? "",
                   finishedAt: row.string(6) ?? "", exportPath: row.string(7), exportedAt: row.string(8),
                   operator: row.string(9) ?? "", reason: row.string(10), options: row.string(11) ?? "{}",
                   summary: row.string(12) ?? "{}", reportPath: row.string(13), exitCode: row.int(14) ?? 0)
    }

    /// Every change-log entry of one record, oldest first.
    public func history(of kind: EntityKind, key: String) throws -> [RecordChange] {
        try database.query("""
            SELECT c.run_id, c.as_of, r.started_at, c.action, c.changes, r.export_path, r.operator, r.reason
            FROM change_log c JOIN runs r ON r.id = c.run_id
            WHERE c.entity = ? AND c.key = ? ORDER BY c.id
            """, [.text(kind.rawValue), .text(key)]) { row in
            RecordChange(runId: row.string(0) ?? "", asOf: row.string(1) ?? "", startedAt: row.string(2) ?? "",
                         action: row.string(3) ?? "", changes: RecordChange.fields(row.string(4) ?? "[]"), exportPath: row.string(5),
                         operator: row.string(6) ?? "", reason: row.string(7))
        }
    }
}

extension RecordChange {
    /// The change log's `[{"field","old","new"}]` text as field changes; nothing for text that is no such list.
    static func fields(_ json: String) -> [FieldChange] {
        guard let node = try? JSONParser.parse(Array(json.utf8)), let list = node.elements else { return [] }
        return list.map { item in
            FieldChange(field: item["field"]?.string ?? "?", old: item["old"]?.string, new: item["new"]?.string)
        }
    }
}

/// One entry of `opvangsync history`: a run that changed the record, or something done to a parent's
/// account between runs (a new activation link sent by customer service, a bounce that came back).
public struct HistoryEntry: Encodable, Sendable {
    /// `change` (a run changed the record) or `account` (an event of the parent's account).
    public var source: String
    /// When: the start of the run, or the moment of the event (UTC, ISO 8601).
    public var at: String
    /// The run's as-of date; nil for account events.
    public var asOf: String?
    public var runId: String?
    /// A change's `created`, `updated`, `restored`, `ended`, `vanished`; an account event's `resend`, `bounce`, `delay`.
    public var action: String
    public var changes: [FieldChange]
    public var exportPath: String?
    public var `operator`: String?
    public var reason: String?
    /// An account event's address (where a link went, which address bounced).
    public var address: String?
    /// An account event's detail (the e-mail column, the bounce's status and diagnostic).
    public var detail: String?
}

/// Something done to a parent's account outside an import run.
public struct AccountEvent: Codable, Sendable, Equatable {
    public var parent: String
    public var at: String
    /// `resend`, `bounce` or `delay`.
    public var kind: String
    public var `operator`: String?
    public var reason: String?
    public var address: String?
    public var detail: String?
}

extension PortalRepository {
    /// Whether the portal has (or had) a record of this kind with this key: a row in its table, or an entry
    /// in the change log (a purged record keeps its key there).
    public func recordExists(_ kind: EntityKind, key: String) throws -> Bool {
        try database.scalarInt("SELECT COUNT(*) FROM \(kind.schema.table) WHERE key = ?", [.text(key)]) ?? 0 > 0
            || database.scalarInt("SELECT COUNT(*) FROM change_log WHERE entity = ? AND key = ?", [.text(kind.rawValue), .text(key)]) ?? 0 > 0
    }

    /// The account events of a parent, oldest first.
    public func accountEvents(parent: String) throws -> [AccountEvent] {
        try database.query("""
            SELECT parent_number, at, kind, operator, reason, address, detail FROM account_events WHERE parent_number = ? ORDER BY id
            """, [.text(parent)]) { row in
            AccountEvent(parent: row.string(0) ?? "", at: row.string(1) ?? "", kind: row.string(2) ?? "", operator: row.string(3),
                         reason: row.string(4), address: row.string(5), detail: row.string(6))
        }
    }

    /// Every change to one record, and for a parent the events of its account, in time order.
    public func fullHistory(of kind: EntityKind, key: String) throws -> [HistoryEntry] {
        var entries = try history(of: kind, key: key).map { change in
            HistoryEntry(source: "change", at: change.startedAt, asOf: change.asOf, runId: change.runId, action: change.action,
                         changes: change.changes, exportPath: change.exportPath, operator: change.operator, reason: change.reason)
        }
        if kind == .parent {
            entries += try accountEvents(parent: key).map { event in
                HistoryEntry(source: "account", at: event.at, asOf: nil, runId: nil, action: event.kind, changes: [], exportPath: nil,
                             operator: event.operator, reason: event.reason, address: event.address, detail: event.detail)
            }
            // Both lists are in order already; a stable sort on the time keeps each list's own order.
            entries = entries.enumerated().sorted { ($0.element.at, $0.offset) < ($1.element.at, $1.offset) }.map(\.element)
        }
        return entries
    }
}
