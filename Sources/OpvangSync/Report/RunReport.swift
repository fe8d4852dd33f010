/// The report of one run (SPEC §7), written as JSON, Dutch Markdown and CSV. Described in `docs/report.md`.
public struct RunReport: Codable, Sendable {
    public static let currentSchemaVersion = 1

    public enum Status: String, Codable, Sendable {
        case applied, skipped, aborted, failed
    }

    public struct Organisation: Codable, Sendable {
        public var id: String
        public var name: String?
    }

    public struct Options: Codable, Sendable {
        public var force = false
        public var allowMassChanges = false
        /// `parent=ID`, `child=ID` or `location=CODE` for a scoped run.
        public var only: String?
    }

    public struct Export: Codable, Sendable {
        public var path: String
        public var system: String?
        public var exportedAt: String?
        public var fingerprint: String?
        public var mapping: String?
        public var files: [FileSummary] = []
    }

    /// How many active records a run would end, per kind, against the removal threshold.
    public struct Removal: Codable, Sendable, Equatable {
        public var entity: String
        public var activeBefore: Int
        public var wouldEnd: Int
        public var fraction: Double
        public var threshold: Double
    }

    public struct ReportChange: Codable, Sendable {
        public var entity: String
        public var key: String
        public var action: ChangeAction
        /// Changed fields with old and new values; empty for created records (all their values are new).
        public var fields: [FieldChange]
    }

    public var schemaVersion = RunReport.currentSchemaVersion
    public var runId: String
    public var organisation: Organisation
    public var asOf: String
    public var startedAt: String
    public var finishedAt: String
    public var mode: String
    public var status: Status
    public var exitCode: Int32
    public var `operator`: String
    public var reason: String?
    public var options: Options
    public var export: Export
    public var counts: [String: ChangeCounts] = [:]
    public var removals: [Removal] = []
    /// Filled by the account stage; null in runs that did not reach it.
    public var accounts: AccountSummary?
    public var mail: MailSummary?
    public var attendance: AttendanceSummary?
    public var changes: [ReportChange] = []
    public var issues: [Issue] = []
    public var abortReason: String?

    /// Rows rejected over all files.
    public var rejectedRows: Int { export.files.reduce(0) { $0 + $1.rejected } }
}

/// SPEC §7 `accounts`.
public struct AccountSummary: Codable, Sendable, Equatable {
    public var created = 0
    public var invited = 0
    public var moved = 0
    public var disabled = 0
    public var enabled = 0
    public var conflicts = 0
    public var withoutEmail = 0
}

/// SPEC §7 `mail`.
public struct MailSummary: Codable, Sendable, Equatable {
    public var queued = 0
    public var sent = 0
    public var failed = 0
    public var bounced = 0
}

/// SPEC §7 `attendance`.
public struct AttendanceSummary: Codable, Sendable, Equatable {
    public var days = 0
    public var groups = 0
    public var added = 0
    public var removed = 0
    public var changed = 0
}
