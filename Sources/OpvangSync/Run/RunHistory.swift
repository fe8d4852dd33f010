import Foundation
import PortalStore

/// One row of `opvangsync runs`.
public struct RunSummary: Codable, Sendable {
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
}

/// One change to one record, with the run that made it: `opvangsync history`.
public struct RecordChange: Codable, Sendable {
    public var runId: String
    public var asOf: String
    public var startedAt: String
    public var action: String
    public var changes: String
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
                         action: row.string(3) ?? "", changes: row.string(4) ?? "[]", exportPath: row.string(5),
                         operator: row.string(6) ?? "", reason: row.string(7))
        }
    }
}
