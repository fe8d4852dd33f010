/// The portal as it will be once a plan is applied: the current records with the plan's changes laid over.
///
/// Account rules are decided on this, so they see exactly what the portal will hold: scoped runs, rows that
/// were rejected (and so keep their old values) and records that end this run are all accounted for.
///
/// The changes are laid over, not copied in: a record the plan changes is made from its change when it is
/// asked for. A first import changes every record, and a table of them all beside the plan's was a tenth of
/// its memory; a nightly run changes a few, and a copy of the portal's tables with them was all of them twice.
struct PostState: Sendable {
    private let current: [EntityKind: [String: StoredRecord]]
    private let changes: [Change]
    /// Per kind, the changed keys and where their change is in `changes` (the last one, should a key have two).
    private let changed: [EntityKind: [String: Int32]]

    init(current: [EntityKind: [String: StoredRecord]], plan: Plan) {
        precondition(plan.changes.count < Int(Int32.max), "more changes than a run can hold")
        var changed: [EntityKind: [String: Int32]] = [:]
        for (kind, counts) in plan.counts {
            let total = counts.created + counts.updated + counts.restored + counts.ended + counts.vanished
            if total > 0 { changed[kind, default: [:]].reserveCapacity(total) }
        }
        for (index, change) in plan.changes.enumerated() {
            changed[change.kind, default: [:]][change.key] = Int32(index)
        }
        self.current = current
        self.changes = plan.changes
        self.changed = changed
    }

    /// Every record of a kind after the run, whatever its status, lazily: the planners walk hundreds of
    /// thousands of them.
    func records(_ kind: EntityKind) -> Records {
        Records(current: current[kind] ?? [:], changed: changed[kind] ?? [:], changes: changes)
    }

    /// Active records of a kind, lazily.
    func active(_ kind: EntityKind) -> LazyMapSequence<LazyFilterSequence<Records>, (key: String, values: FieldValues)> {
        records(kind).lazy.filter { $0.record.status == .active }.map { ($0.key, $0.record.values) }
    }

    func record(_ kind: EntityKind, _ key: String) -> StoredRecord? {
        guard let index = changed[kind]?[key] else { return current[kind]?[key] }
        return PostState.applying(changes[Int(index)], to: current[kind]?[key])
    }

    /// The records of a kind, whatever their status.
    func count(_ kind: EntityKind) -> Int {
        let stored = current[kind] ?? [:]
        return stored.count + (changed[kind] ?? [:]).keys.reduce(0) { $0 + (stored[$1] == nil ? 1 : 0) }
    }

    /// The keys of a kind's records, whatever their status.
    func keys(_ kind: EntityKind) -> Set<String> {
        var keys = Set((current[kind] ?? [:]).keys)
        keys.formUnion((changed[kind] ?? [:]).keys)
        return keys
    }

    /// `stored` (nil for a record the portal does not have) as `change` leaves it.
    static func applying(_ change: Change, to stored: StoredRecord?) -> StoredRecord {
        var record = stored ?? StoredRecord(values: change.values ?? [], status: change.status)
        if let values = change.values { record.values = values }
        if record.status != change.status { record.statusSince = nil }
        record.status = change.status
        return record
    }

    /// The records of one kind after the run: the portal's that no change reaches, then the changed ones.
    struct Records: Sequence {
        fileprivate let current: [String: StoredRecord]
        fileprivate let changed: [String: Int32]
        fileprivate let changes: [Change]

        struct Iterator: IteratorProtocol {
            fileprivate let records: Records
            fileprivate var unchanged: Dictionary<String, StoredRecord>.Iterator
            fileprivate var changed: Dictionary<String, Int32>.Iterator

            mutating func next() -> (key: String, record: StoredRecord)? {
                while let (key, stored) = unchanged.next() {
                    if records.changed.isEmpty || records.changed[key] == nil { return (key, stored) }
                }
                guard let (key, index) = changed.next() else { return nil }
                return (key, PostState.applying(records.changes[Int(index)], to: records.current[key]))
            }
        }

        func makeIterator() -> Iterator {
            Iterator(records: self, unchanged: current.makeIterator(), changed: changed.makeIterator())
        }

        var underestimatedCount: Int { changed.count }
    }
}
