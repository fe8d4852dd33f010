/// The lifecycle state of an imported record in the portal.
public enum RecordStatus: String, Codable, Sendable {
    /// In the export and current.
    case active
    /// Missing from a complete export: kept (never deleted) and restored when it comes back.
    case inactive
    /// A placement past its Einddatum.
    case ended
    /// A placement that disappeared from the export without having ended: usually an upstream mistake.
    case vanished
}

/// What a run does to one record.
public enum ChangeAction: String, Codable, Sendable {
    case created, updated, restored, ended, vanished
}

/// One changed field, old and new as stored.
public struct FieldChange: Codable, Sendable, Equatable {
    public let field: String
    public let old: String?
    public let new: String?

    enum CodingKeys: String, CodingKey { case field, old, new }

    /// `old` and `new` are always written, `null` when there was or is no value.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(field, forKey: .field)
        try container.encode(old, forKey: .old)
        try container.encode(new, forKey: .new)
    }
}

/// One record's change.
///
/// The words first and the three one-byte values together: in the order of the initialiser a change was 56
/// bytes, of which 15 padding, and a first import at a million children holds six million of them.
public struct Change: Sendable {
    public let key: String
    /// The changed fields, old and new; empty for a created record (every value is new: see `values`).
    public let fields: [FieldChange]
    /// Values to write (created and updated records); nil when only the status changes.
    public let values: FieldValues?
    public let kind: EntityKind
    public let action: ChangeAction
    public let status: RecordStatus

    init(kind: EntityKind, key: String, action: ChangeAction, fields: [FieldChange], values: FieldValues?, status: RecordStatus) {
        self.key = key
        self.fields = fields
        self.values = values
        self.kind = kind
        self.action = action
        self.status = status
    }
}

extension Change {
    init<Values: Collection<String?>>(kind: EntityKind, key: String, action: ChangeAction, fields: [FieldChange], values: Values?,
                                      status: RecordStatus) {
        self.init(kind: kind, key: key, action: action, fields: fields, values: values.map { FieldValues($0) }, status: status)
    }
}

/// A record as the portal holds it now.
public struct StoredRecord: Sendable {
    public var values: FieldValues
    public var status: RecordStatus
    /// The day the record got its status (the portal's `status_since`); nil for a status this run gives it.
    public var statusSince: Day?

    public init(values: FieldValues, status: RecordStatus, statusSince: Day? = nil) {
        self.values = values
        self.status = status
        self.statusSince = statusSince
    }

    public init(values: [String?], status: RecordStatus, statusSince: Day? = nil) {
        self.init(values: FieldValues(values), status: status, statusSince: statusSince)
    }
}

/// Per-kind tallies (SPEC §7 `counts`).
public struct ChangeCounts: Codable, Sendable, Equatable {
    public var created = 0
    public var updated = 0
    public var restored = 0
    public var ended = 0
    public var vanished = 0
    public var unchanged = 0
    /// Active records that are missing from the export (part of `ended`, plus all of `vanished`): what
    /// the mass-removal check weighs. A placement that reaches its own Einddatum is not counted: the
    /// export says so explicitly, and at the end of a school year many do at once.
    public var missing = 0

    public init() {}

    /// Records the plan would end because the export no longer has them.
    public var removals: Int { missing }
    public var total: Int { created + updated + restored + ended + vanished }
}

/// The difference between the export and the portal: everything a run would write.
public struct Plan: Sendable {
    public var changes: [Change] = []
    public var counts: [EntityKind: ChangeCounts] = [:]
    /// Records of each kind that were active before the run (the base of the removal fraction). An incremental
    /// run counts the portal's only for the kinds it ends something of; for the others this is what the
    /// comparison saw, which the removal guard does not need.
    public var activeBefore: [EntityKind: Int] = [:]

    public var isEmpty: Bool { changes.isEmpty }
}
