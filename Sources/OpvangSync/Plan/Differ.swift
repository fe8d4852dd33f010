/// Compares the desired state with the portal's current state, in memory, kind by kind (SPEC §4 "Entities").
public struct Differ {
    public let asOf: Day

    public init(asOf: Day) { self.asOf = asOf }

    public func plan(desired: DesiredState, current: [EntityKind: [String: StoredRecord]]) -> Plan {
        var plan = Plan()
        // A kind the portal does not hold yet (a first import) becomes one change per record: room for them
        // all is made at once, instead of by doubling, which leaves up to half of it unused.
        plan.changes.reserveCapacity(desired.kinds.reduce(0) { total, kind in
            total + ((current[kind] ?? [:]).isEmpty ? desired.records(of: kind).count : 0)
        })
        for kind in desired.kinds {
            diff(kind, desired: desired, current: current[kind] ?? [:], into: &plan)
        }
        return plan
    }

    /// The status a record present in the export should have today.
    func presentStatus(_ kind: EntityKind, _ values: FieldValues) -> RecordStatus {
        guard kind == .placement else { return .active }
        let schema = kind.schema
        if let end = values[schema.index("endDate")].flatMap(Day.init(iso:)), end < asOf { return .ended }
        return .active
    }

    /// The status an active record missing from the export gets.
    func missingStatus(_ kind: EntityKind, _ stored: StoredRecord) -> RecordStatus {
        guard kind == .placement else { return .inactive }
        let schema = kind.schema
        if let end = stored.values[schema.index("endDate")].flatMap(Day.init(iso:)), end < asOf { return .ended }
        return .vanished
    }

    private func diff(_ kind: EntityKind, desired: DesiredState, current: [String: StoredRecord], into plan: inout Plan) {
        let schema = kind.schema
        var counts = ChangeCounts()
        var seen = Set<String>()
        seen.reserveCapacity(desired.records(of: kind).count)
        plan.activeBefore[kind] = current.values.lazy.filter { $0.status == .active }.count

        for record in desired.records(of: kind) {
            seen.insert(record.key)
            let status = presentStatus(kind, record.values)
            guard let position = current.index(forKey: record.key) else {
                // A created record's fields are its values: the change log writes them from `values`.
                plan.changes.append(Change(kind: kind, key: record.key, action: .created, fields: [],
                                           values: record.values, status: status))
                counts.created += 1
                continue
            }
            // The key as the portal holds it: the export may spell it in another canonical form (`é` composed
            // or decomposed), and the portal finds its rows by their bytes.
            let (storedKey, stored) = current[position]
            var fields: [FieldChange] = []
            // The same bytes are the same values: most records of a night, compared without a text made.
            let sameBytes = stored.values.hasSameBytes(as: record.values)
            for index in schema.fields.indices where !sameBytes && stored.values[index] != record.values[index] {
                fields.append(FieldChange(field: schema.fields[index].name, old: stored.values[index], new: record.values[index]))
            }
            let action: ChangeAction?
            switch (stored.status, status) {
            case (.active, .ended): action = .ended
            case (.inactive, .active), (.vanished, .active), (.ended, .active): action = .restored
            case (.inactive, .ended), (.vanished, .ended):
                // Back in the export, but already past its end date: the record is current again, and ended.
                action = .ended
            default: action = fields.isEmpty ? nil : .updated
            }
            guard let action else {
                counts.unchanged += 1
                continue
            }
            plan.changes.append(Change(kind: kind, key: storedKey, action: action, fields: fields,
                                       values: fields.isEmpty ? nil : record.values, status: status))
            switch action {
            case .updated: counts.updated += 1
            case .restored: counts.restored += 1
            case .ended: counts.ended += 1
            default: break
            }
        }

        let protected = desired.protectedKeys[kind] ?? []
        for (key, stored) in current.sorted(by: { $0.key < $1.key }) where !seen.contains(key) && !protected.contains(key) {
            guard stored.status == .active else { continue }
            let status = missingStatus(kind, stored)
            let action: ChangeAction = status == .vanished ? .vanished : .ended
            plan.changes.append(Change(kind: kind, key: key, action: action, fields: [], values: nil, status: status))
            if action == .vanished { counts.vanished += 1 } else { counts.ended += 1 }
            counts.missing += 1
        }
        plan.counts[kind] = counts
    }
}
