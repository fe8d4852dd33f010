/// What comparing the export with the portal gives: the plan of record changes, and the portal's state it
/// was made against.
struct Compared {
    var plan: Plan
    /// The portal's records the plan was made against (a scoped run: the scope's).
    let current: [EntityKind: [String: StoredRecord]]
    /// The retention state: access windows, purged children and parents.
    let stored: RetentionPlanner.Stored
    /// Purged children and parents that are in care again.
    let returning: Comparison.Returning
    /// A scoped run's parents: the accounts it plans (nil: every parent).
    let scopeParents: Set<String>?
}

/// Stage 3 of SPEC §1, "compare": the export's records against the portal's, kind by kind. Purged
/// children and parents stay purged while the planning system still exports them; a scoped run compares
/// only its family or location.
struct Comparison {
    let request: ImportRequest
    let asOf: Day

    func compare(_ read: ReadExport, repository: PortalRepository?, report: inout RunReport) throws -> Compared {
        let validated = read.validated
        let current: [EntityKind: [String: StoredRecord]]
        let stored: RetentionPlanner.Stored
        if let loaded = read.snapshot {
            (current, stored) = (loaded.current, loaded.stored)
        } else {
            current = try repository.map { try read.scoped?.current(validated.kinds, repository: $0) ?? $0.loadCurrent(validated.kinds) } ?? [:]
            stored = try RetentionStore(database: repository?.database).load()
        }
        let (desired, returning) = Comparison.keepPurged(validated, stored: stored, asOf: asOf)
        var plan: Plan
        var scopeParents: Set<String>?
        if let scope = request.scope {
            if scope.matchesNothing(desired: desired, current: current) {
                throw UsageError("--only \(scope): not in the export and not in the portal")
            }
            let (narrowed, narrowedCurrent, keys) = scope.narrow(desired, current)
            scopeParents = keys[.parent] ?? []
            plan = Differ(asOf: asOf).plan(desired: narrowed, current: narrowedCurrent)
            // The mass-removal guard weighs a scoped run against the whole portal, not the family
            // (counted only where the scope ends something: a count reads the whole table).
            for kind in validated.kinds where plan.counts[kind]?.removals ?? 0 > 0 {
                plan.activeBefore[kind] = try repository?.activeCount(kind) ?? 0
            }
        } else {
            plan = Differ(asOf: asOf).plan(desired: desired, current: current)
        }
        report.counts = Dictionary(uniqueKeysWithValues: plan.counts.map { ($0.key.rawValue, $0.value) })
        report.changes = plan.changes.map { change in
            RunReport.ReportChange(entity: change.kind.rawValue, key: change.key, action: change.action,
                                   fields: change.action == .created ? [] : change.fields)
        }
        for change in plan.changes where change.action == .vanished {
            report.issues.append(Issue(.warning, "placement-vanished", key: change.key, message:
                "plaatsing \(change.key) staat niet meer in de export en had geen einddatum; controleer het planningssysteem"))
        }
        return Compared(plan: plan, current: current, stored: stored, returning: returning, scopeParents: scopeParents)
    }

    /// Purged children and parents stay purged while the planning system still exports them: their rows
    /// (and the relations and deviations of purged children) are left out and treated as unchanged. A
    /// child that is in care again (an active placement in the export) comes back, with its parents.
    static func keepPurged(_ desired: DesiredState, stored: RetentionPlanner.Stored, asOf: Day) -> (DesiredState, Returning) {
        guard !stored.purgedChildren.isEmpty || !stored.purgedParents.isEmpty else { return (desired, Returning()) }
        let p = EntityKind.placement.schema, r = EntityKind.relation.schema, d = EntityKind.deviation.schema
        // Child and parent numbers are kept apart: child 1001 returning says nothing of parent 1001.
        var returningChildren: Set<String> = []
        var returningParents: Set<String> = []
        for record in desired.records(of: .placement) {
            guard let child = record.values[p.index("childNumber")], stored.purgedChildren.contains(child) else { continue }
            if record.values[p.index("endDate")].flatMap(Day.init(iso:)).map({ $0 >= asOf }) ?? true { returningChildren.insert(child) }
        }
        let frozenChildren = stored.purgedChildren.subtracting(returningChildren)
        var liveParents: Set<String> = []
        for record in desired.records(of: .relation) {
            guard let child = record.values[r.index("childNumber")], let parent = record.values[r.index("parentNumber")] else { continue }
            if !frozenChildren.contains(child) { liveParents.insert(parent) }
            if returningChildren.contains(child) { returningParents.insert(parent) }
        }
        let frozenParents = stored.purgedParents.filter { !liveParents.contains($0) }
        var result = desired
        func freeze(_ kind: EntityKind, _ isFrozen: (Record) -> Bool) {
            let frozen = desired.records(of: kind).filter(isFrozen)
            guard !frozen.isEmpty else { return }
            let keys = Set(frozen.map(\.key))
            result.records[kind] = desired.records(of: kind).filter { !keys.contains($0.key) }
            result.protectedKeys[kind, default: []].formUnion(keys)
        }
        freeze(.child) { frozenChildren.contains($0.key) }
        freeze(.parent) { frozenParents.contains($0.key) }
        freeze(.relation) { frozenChildren.contains($0.values[r.index("childNumber")] ?? "") }
        freeze(.deviation) { frozenChildren.contains($0.values[d.index("childNumber")] ?? "") }
        return (result, Returning(children: returningChildren.intersection(stored.purgedChildren),
                                  parents: returningParents.intersection(stored.purgedParents)))
    }

    /// Purged children and parents that come back in this run, each kind in its own set.
    struct Returning: Sendable {
        var children: Set<String> = []
        var parents: Set<String> = []
    }
}
