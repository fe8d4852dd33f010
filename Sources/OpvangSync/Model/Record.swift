/// One canonical record: the key the planning system gave it and its normalised field values.
public struct Record: Sendable, Equatable {
    /// The planning system's key; composite keys are joined with `/` (`K0012/O0034`).
    public let key: String
    /// Canonical text per schema field (nil = no value), in schema order.
    public var values: FieldValues
    /// The line the record came from, for messages.
    public let line: Int
    /// The content hash of the row it came from (`RowHash`); `RowHash.warned` of it for a row with a warning.
    public var rowHash: UInt64

    public init(key: String, values: FieldValues, line: Int, rowHash: UInt64 = 0) {
        self.key = key
        self.values = values
        self.line = line
        self.rowHash = rowHash
    }

    public init(key: String, values: [String?], line: Int, rowHash: UInt64 = 0) {
        self.init(key: key, values: FieldValues(values), line: line, rowHash: rowHash)
    }
}

/// A file's share of the run: rows read and rows rejected.
public struct FileSummary: Codable, Sendable, Equatable {
    public var entity: String
    public var name: String
    public var rows: Int
    public var rejected: Int
    public var encoding: String?
}

/// Everything a valid export says the portal should hold.
public struct DesiredState: Sendable {
    /// Accepted records per kind, in export order.
    public var records: [EntityKind: [Record]] = [:]
    /// The keys of `records`, for reference checks (`acceptedKey(_:of:)`, which counts `unchanged` too).
    var acceptedKeys: [EntityKind: Set<String>] = [:]
    /// Keys of rows that were rejected: the portal keeps what it has for them rather than ending them.
    public var protectedKeys: [EntityKind: Set<String>] = [:]
    /// Kinds the mapping carries: only these are compared with the portal.
    public var kinds: [EntityKind] = []
    public var files: [FileSummary] = []
    public var issues: [Issue] = []
    /// An incremental read (and a family's scoped read, for the files it skips whole and the kinds that refer
    /// to them): the keys of rows whose content the portal applied before, which were not
    /// parsed again (each kind read; a kind whose file was skipped whole has its stored keys here only when a
    /// file read after it refers to it). Each of them is an accepted key too, though not among `acceptedKeys`.
    /// Only the keys count: the values are those of the table they came from (the line read, or the hash stored).
    var unchanged: [EntityKind: KeyTable] = [:]
    /// Kinds whose file was not read at all: its SHA-256 is the one last applied, which had no rejected
    /// row, so every record the portal keeps a hash for is unchanged (its warnings are repeated).
    public var skippedFiles: Set<EntityKind> = []
    /// Kinds whose file gave no rejected row and no error: a file the next run may skip when unchanged.
    public var cleanFiles: Set<EntityKind> = []
    /// The warnings of each clean file that gave any: kept with the file, so that a run that skips it
    /// still reports them (SPEC §5: a warned row is reported every night until it is fixed).
    public var fileWarnings: [EntityKind: [Issue]] = [:]
    /// An incremental read, per kind read: the keys the portal keeps a hash for that the export no longer
    /// has (not parsed, not unchanged, not rejected), and the stored hashes of the rows that were parsed.
    public var missing: [EntityKind: Set<String>] = [:]
    public var storedHashes: [EntityKind: [String: UInt64]] = [:]

    public func records(of kind: EntityKind) -> [Record] { records[kind] ?? [] }

    /// What reading `kind` added to `other`, which was `base` before: its records and keys, and the issues and
    /// file summary it appended, after this state's own.
    mutating func adopt(_ kind: EntityKind, from other: DesiredState, since base: DesiredState) {
        records[kind] = other.records[kind]
        acceptedKeys[kind] = other.acceptedKeys[kind]
        protectedKeys[kind] = other.protectedKeys[kind]
        unchanged[kind] = other.unchanged[kind]
        if other.cleanFiles.contains(kind) { cleanFiles.insert(kind) }
        fileWarnings[kind] = other.fileWarnings[kind]
        missing[kind] = other.missing[kind]
        storedHashes[kind] = other.storedHashes[kind]
        issues += other.issues[base.issues.count...]
        files += other.files[base.files.count...]
    }
}

extension EntitySchema {
    /// The record key from canonical values; nil when a key field is empty.
    func key<Values: RandomAccessCollection<String?>>(of values: Values) -> String? where Values.Index == Int {
        var parts: [String] = []
        for index in keyFields {
            guard let value = values[index] else {
                // An optional key part (a calendar row for all locations) is written as `*`.
                if fields[index].required { return nil }
                parts.append("*")
                continue
            }
            parts.append(value)
        }
        return parts.joined(separator: "/")
    }
}
