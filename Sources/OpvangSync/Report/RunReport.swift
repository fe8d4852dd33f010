import Foundation

/// The report of one run (SPEC §7), written as JSON, Dutch Markdown and CSV. Described in `docs/report.md`.
public struct RunReport: Codable, Sendable {
    public static let currentSchemaVersion = 1
    /// The organisation of a run that failed before it knew which one: not a valid organisation id, so its
    /// report folder can never be a real organisation's.
    public static let unknownOrganisation = "_onbekend"

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
        /// `location=CODE`: a location released from the per-location removal guard.
        public var release: String?
    }

    public struct Export: Codable, Sendable {
        public var path: String
        public var system: String?
        public var exportedAt: String?
        public var fingerprint: String?
        public var mapping: String?
        /// How the export's completeness was checked: `sha256` (its manifest's row counts and checksums) or
        /// `none` (a ready marker only: integrity not verified). Nil when no export was read.
        public var integrity: String?
        public var files: [FileSummary] = []

        /// Counts `count` more rows of `kind`'s file as rejected (a row refused after it was read).
        mutating func countRejected(_ count: Int, of kind: EntityKind) {
            guard count > 0, let index = files.firstIndex(where: { $0.entity == kind.rawValue }) else { return }
            files[index].rejected += count
        }
    }

    /// How many active records a run would end, per kind, against the removal threshold.
    public struct Removal: Codable, Sendable, Equatable {
        public var entity: String
        public var activeBefore: Int
        public var wouldEnd: Int
        public var fraction: Double
        public var threshold: Double
    }

    /// A location the per-location removal guard weighed as a drop (SPEC §5): held as it was, or released.
    public struct HeldLocation: Codable, Sendable, Equatable {
        public var code: String
        /// The location's name as the portal (or else the export) has it.
        public var name: String?
        /// True when `--release` applied it anyway; false when it was held.
        public var released: Bool
        public var activePlacements: Int
        /// Active placements the export no longer has (they would vanish).
        public var placementsWouldEnd: Int
        public var activeChildren: Int
        /// Active children placed here whose record the export no longer has.
        public var childrenWouldEnd: Int
        /// The location itself is missing from the locations file: weighed as a location without placements.
        public var missingFromLocationsFile: Bool
        public var threshold: Double
        /// What happened and what to do, in Dutch for customer service.
        public var message: String
    }

    public struct ComparisonMode: Codable, Sendable, Equatable {
        public var mode: ImportMode
        public var reason: String?
    }

    public struct ReportChange: Codable, Sendable {
        public var entity: String
        public var key: String
        public var action: ChangeAction
        /// Changed fields with old and new values; empty for created records (all their values are new).
        public var fields: [FieldChange]
    }

    /// The changes a report lists. A run's are its plan's changes, seen as the report shows them rather than
    /// copied: a first import plans one change per record, and a copy of them all would stay beside the plan
    /// while the accounts, the lists and the transaction are worked out. A report read back holds its own.
    public struct ChangeList: RandomAccessCollection, RangeReplaceableCollection, ExpressibleByArrayLiteral, Codable, Sendable {
        private enum Storage: Sendable {
            case planned([Change])
            case listed([ReportChange])
        }
        private var storage: Storage

        public init() { storage = .listed([]) }
        public init(_ changes: [ReportChange]) { storage = .listed(changes) }
        public init(arrayLiteral changes: ReportChange...) { storage = .listed(changes) }
        init(planned changes: [Change]) { storage = .planned(changes) }

        public var startIndex: Int { 0 }
        public var endIndex: Int {
            switch storage {
            case .planned(let changes): changes.count
            case .listed(let changes): changes.count
            }
        }
        public subscript(position: Int) -> ReportChange {
            switch storage {
            case .planned(let changes):
                let change = changes[position]
                return ReportChange(entity: change.kind.rawValue, key: change.key, action: change.action,
                                    fields: change.action == .created ? [] : change.fields)
            case .listed(let changes):
                return changes[position]
            }
        }

        /// A list that is changed becomes a list of its own.
        public mutating func replaceSubrange<C: Collection>(_ subrange: Range<Int>, with changes: C) where C.Element == ReportChange {
            var listed = Array(self)
            listed.replaceSubrange(subrange, with: changes)
            storage = .listed(listed)
        }

        public init(from decoder: Decoder) throws { storage = .listed(try [ReportChange](from: decoder)) }
        public func encode(to encoder: Encoder) throws {
            var container = encoder.unkeyedContainer()
            for change in self { try container.encode(change) }
        }
    }

    public var schemaVersion = RunReport.currentSchemaVersion
    public var runId: String
    public var organisation: Organisation
    public var asOf: String
    public var startedAt: String
    public var finishedAt: String
    public var mode: String
    /// How much of the export was compared: full, incremental or scoped, and why a full run was chosen.
    public var comparison: ComparisonMode?
    public var status: Status
    public var exitCode: Int32
    public var `operator`: String
    public var reason: String?
    public var options: Options
    public var export: Export
    public var counts: [String: ChangeCounts] = [:]
    public var removals: [Removal] = []
    /// Locations held (or released) by the per-location removal guard; null when the run stopped before
    /// the safety checks weighed them.
    public var heldLocations: [HeldLocation]?
    /// Per entity, the changes the export asked for that were not applied because their location is held;
    /// null when no location is held.
    public var heldChanges: [String: Int]?
    /// Filled by the account stage; null in runs that did not reach it.
    public var accounts: AccountSummary?
    public var mail: MailSummary?
    public var attendance: AttendanceSummary?
    public var retention: RetentionSummary?
    public var changes: ChangeList = []
    public var issues: [Issue] = []
    public var abortReason: String?
    /// How long the run held the portal's write lock (its one transaction), in seconds; nil when it wrote nothing.
    public var writeLockSeconds: Double?
    /// Entity → canonical field → the export's own column name (from the mapping): the human reports name
    /// fields as the export does (`Maandag`, `E-mail`). Nil in reports written before it was kept.
    public var columns: [String: [String: String]]?
    /// Figures per location; nil when the run stopped before comparing, and for a scoped run (which read
    /// only part of the export).
    public var locations: [LocationTotals]?
    /// The parents invited by this run and those left without an account; nil when the run stopped before
    /// the account stage.
    public var parentAccounts: ParentAccounts?
    /// Mail found undelivered since the previous report (refused, bounced later, failed): listed once.
    public var undeliveredMail: [UndeliveredMail]?
    /// Provenance: the opvangsync that made the run, and on which machine.
    public var version: String? = opvangsyncVersion
    public var host: String? = RunReport.hostName

    /// Rows rejected over all files.
    public var rejectedRows: Int { export.files.reduce(0) { $0 + $1.rejected } }

    /// The locations held as they were in this run (not those released).
    public var held: [HeldLocation] { (heldLocations ?? []).filter { !$0.released } }

    /// This machine's name, as `hostname` prints it.
    static let hostName: String = {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "onbekend" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? "onbekend" : name
    }()
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
    /// Parents taken off a shared account whose family they no longer share.
    public var detached = 0
    /// Accounts not yet activated whose open invitation was withdrawn (the address went, or the parent is
    /// no longer linked to a child in care).
    public var invitationsWithdrawn = 0
    /// Activated accounts kept as they are but flagged for customer service.
    public var flagged = 0

    public init() {}

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func count(_ key: CodingKeys) throws -> Int { try container.decodeIfPresent(Int.self, forKey: key) ?? 0 }
        created = try count(.created)
        invited = try count(.invited)
        moved = try count(.moved)
        disabled = try count(.disabled)
        enabled = try count(.enabled)
        conflicts = try count(.conflicts)
        withoutEmail = try count(.withoutEmail)
        detached = try count(.detached)
        invitationsWithdrawn = try count(.invitationsWithdrawn)
        flagged = try count(.flagged)
    }
}

/// SPEC §7 `mail`.
public struct MailSummary: Codable, Sendable, Equatable {
    public var queued = 0
    public var sent = 0
    public var failed = 0
    public var bounced = 0
}

/// SPEC §7 `attendance`.
/// A school holiday within the days a run rebuilt, and where it comes from (SPEC §4 "Attendance lists").
public struct SchoolHolidaySpan: Codable, Sendable, Equatable {
    public var name: String
    /// `rijksoverheid` (the government's open-data file) or `kalender` (the export's `Schoolvakantie` rows).
    public var source: String
    /// `noord`, `midden`, `zuid` or `heel Nederland`; null for a calendar row.
    public var region: String?
    public var schoolYear: String?
    /// The first and last day within the rebuilt days, `jjjj-mm-dd`.
    public var from: String
    public var to: String
    /// How many of the rebuilt groups it holds for.
    public var groups: Int
    /// Dutch, as the lists name it: "Herfstvakantie (regio zuid; schoolvakanties van de rijksoverheid, schooljaar 2026-2027)".
    public var description: String
}

public struct AttendanceSummary: Codable, Sendable, Equatable {
    /// Days rebuilt (the run date through `attendanceHorizonDays` ahead) and groups rebuilt.
    public var days = 0
    public var groups = 0
    /// Children added to, removed from, or with other times or absence on, a group's list for a day.
    public var added = 0
    public var removed = 0
    public var changed = 0
    /// The first `listLimit` changes in group and date order; the counts above are always complete.
    public var changes: [AttendanceChange] = []
    public var changesTruncated = false
    /// Group code → "Groepnaam (Locatie)", so the report can group the changes per location and group.
    public var groupNames: [String: String] = [:]
    /// The school holidays within the rebuilt days, each with where it comes from; nil when there were none.
    public var schoolHolidays: [SchoolHolidaySpan]?

    /// Group code → what its list gained, lost and changed (complete, unlike `changes`); nil in reports
    /// written before it was kept.
    public var perGroup: [String: GroupAttendance]? = [:]

    public static let listLimit = 2000
}

extension RunReport {
    enum CodingKeys: String, CodingKey {
        case schemaVersion, runId, organisation, asOf, startedAt, finishedAt, mode, comparison, status, exitCode, `operator`, reason,
             options, export, counts, removals, heldLocations, heldChanges, accounts, mail, attendance, retention, changes, issues,
             abortReason, writeLockSeconds, columns, locations, parentAccounts, undeliveredMail, version, host
    }

    /// Every key is written, absent values as `null`: readers of the report can rely on its shape.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(schemaVersion, forKey: .schemaVersion)
        try container.encode(runId, forKey: .runId)
        try container.encode(organisation, forKey: .organisation)
        try container.encode(asOf, forKey: .asOf)
        try container.encode(startedAt, forKey: .startedAt)
        try container.encode(finishedAt, forKey: .finishedAt)
        try container.encode(mode, forKey: .mode)
        try container.encode(comparison, forKey: .comparison)
        try container.encode(status, forKey: .status)
        try container.encode(exitCode, forKey: .exitCode)
        try container.encode(`operator`, forKey: .operator)
        try container.encode(reason, forKey: .reason)
        try container.encode(options, forKey: .options)
        try container.encode(export, forKey: .export)
        try container.encode(counts, forKey: .counts)
        try container.encode(removals, forKey: .removals)
        try container.encode(heldLocations, forKey: .heldLocations)
        try container.encode(heldChanges, forKey: .heldChanges)
        try container.encode(accounts, forKey: .accounts)
        try container.encode(mail, forKey: .mail)
        try container.encode(attendance, forKey: .attendance)
        try container.encode(retention, forKey: .retention)
        try container.encode(changes, forKey: .changes)
        try container.encode(issues, forKey: .issues)
        try container.encode(abortReason, forKey: .abortReason)
        try container.encode(writeLockSeconds, forKey: .writeLockSeconds)
        try container.encode(columns, forKey: .columns)
        try container.encode(locations, forKey: .locations)
        try container.encode(parentAccounts, forKey: .parentAccounts)
        try container.encode(undeliveredMail, forKey: .undeliveredMail)
        try container.encode(version, forKey: .version)
        try container.encode(host, forKey: .host)
    }
}

extension RunReport {
    /// The counts and the changes of what `plan` applies.
    mutating func describe(_ plan: Plan) {
        counts = Dictionary(uniqueKeysWithValues: plan.counts.map { ($0.key.rawValue, $0.value) })
        changes = ChangeList(planned: plan.changes)
    }
}

extension RunReport.Options {
    enum CodingKeys: String, CodingKey { case force, allowMassChanges, only, release }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(force, forKey: .force)
        try container.encode(allowMassChanges, forKey: .allowMassChanges)
        try container.encode(only, forKey: .only)
        try container.encode(release, forKey: .release)
    }
}

extension RunReport.Export {
    enum CodingKeys: String, CodingKey { case path, system, exportedAt, fingerprint, mapping, integrity, files }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(path, forKey: .path)
        try container.encode(system, forKey: .system)
        try container.encode(exportedAt, forKey: .exportedAt)
        try container.encode(fingerprint, forKey: .fingerprint)
        try container.encode(mapping, forKey: .mapping)
        try container.encode(integrity, forKey: .integrity)
        try container.encode(files, forKey: .files)
    }
}

extension Issue {
    enum CodingKeys: String, CodingKey { case severity, code, file, line, column, field, key, message }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(severity, forKey: .severity)
        try container.encode(code, forKey: .code)
        try container.encode(file, forKey: .file)
        try container.encode(line, forKey: .line)
        try container.encode(column, forKey: .column)
        try container.encode(field, forKey: .field)
        try container.encode(key, forKey: .key)
        try container.encode(message, forKey: .message)
    }

    /// The issue as one compact JSON object, written straight onto `bytes`: every key, sorted, an absent
    /// value as null, as `encode(to:)` gives it to an encoder that sorts keys and leaves slashes alone.
    func appendJSON(to bytes: inout [UInt8]) {
        var object = JSONMembers(&bytes)
        object.add("code", code, &bytes)
        object.add("column", column, &bytes)
        object.add("field", field, &bytes)
        object.add("file", file, &bytes)
        object.add("key", key, &bytes)
        object.add("line", line, &bytes)
        object.add("message", message, &bytes)
        object.add("severity", severity.rawValue, &bytes)
        object.close(&bytes)
    }
}
