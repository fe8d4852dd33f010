/// The portal as it will be once a plan is applied: the current records with the plan's changes laid over.
///
/// Account rules are decided on this, so they see exactly what the portal will hold: scoped runs, rows that
/// were rejected (and so keep their old values) and records that end this run are all accounted for.
struct PostState {
    private(set) var records: [EntityKind: [String: StoredRecord]]

    init(current: [EntityKind: [String: StoredRecord]], plan: Plan) {
        records = current
        // Room for the created records at once: on a first import that is every record.
        for (kind, counts) in plan.counts where counts.created > 0 {
            records[kind, default: [:]].reserveCapacity((current[kind]?.count ?? 0) + counts.created)
        }
        for change in plan.changes {
            var record = records[change.kind]?[change.key] ?? StoredRecord(values: change.values ?? [], status: change.status)
            if let values = change.values { record.values = values }
            if record.status != change.status { record.statusSince = nil }
            record.status = change.status
            records[change.kind, default: [:]][change.key] = record
        }
    }

    /// Active records of a kind, lazily: the planners walk hundreds of thousands of them.
    func active(_ kind: EntityKind) -> LazyMapSequence<LazyFilterSequence<[String: StoredRecord]>, (key: String, values: [String?])> {
        (records[kind] ?? [:]).lazy.filter { $0.value.status == .active }.map { ($0.key, $0.value.values) }
    }

    func record(_ kind: EntityKind, _ key: String) -> StoredRecord? { records[kind]?[key] }

    /// The records of a kind, whatever their status.
    func count(_ kind: EntityKind) -> Int { records[kind]?.count ?? 0 }
}
