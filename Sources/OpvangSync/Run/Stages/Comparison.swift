import PortalStore

/// What comparing the export with the portal gives: the plan of record changes, and the portal's state it
/// was made against.
struct Compared {
    var plan: Plan
    /// The portal's records the plan was made against (a scoped or incremental run: those it compares).
    let current: [EntityKind: [String: StoredRecord]]
    /// The retention state: access windows, purged children and parents.
    let stored: RetentionPlanner.Stored
    /// Purged children and parents that are in care again.
    var returning: Comparison.Returning
    /// A scoped run's parents: the accounts it plans (nil: every parent).
    let scopeParents: Set<String>?
    /// The content hashes the portal keeps after this run.
    var hashes: HashUpdate
    /// The locations the safety checks hold as they were: left out of the plan, and of the planners.
    var hold = LocationHold()
}

/// The content hashes a run leaves behind: those of the rows it read and applied, none for records that
/// left the export, and the files it read whole without an issue.
struct HashUpdate {
    /// The key every hash here was made with (`RowHash.Key`), stored with them when the portal has none.
    let key: RowHash.Key
    var upserts: [EntityKind: [(key: String, hash: UInt64)]] = [:]
    var deletes: [EntityKind: Set<String>] = [:]
    /// Files read whole without a rejected row: the next run may skip them when their SHA-256 is the same,
    /// and then reports their warnings (stored as `AppliedFile.encode` gives them) again.
    var cleanFiles: [(kind: EntityKind, name: String, sha256: String, rows: Int, warnings: String?)] = []
    /// Kinds whose file record no longer holds: read in part, or with an issue.
    var clearedFiles: Set<EntityKind> = []
    /// Full and incremental runs record their basis and date; a scoped run does not.
    var basis: (text: String, asOf: Day)?

    /// The hashes of `records` that differ from the one `storedHash` gives for their key (nil: none stored).
    mutating func keep(_ kind: EntityKind, _ records: [Record], storedHash: (String) -> UInt64?) {
        var list: [(key: String, hash: UInt64)] = []
        for record in records where storedHash(record.key) != record.rowHash { list.append((record.key, record.rowHash)) }
        if !list.isEmpty { upserts[kind, default: []] += list }
    }
}

/// Stage 3 of SPEC §1, "compare": the export's records against the portal's, kind by kind. Purged
/// children and parents stay purged while the planning system still exports them; a scoped run compares
/// only its family or location, an incremental run only the rows that changed and what the date changes.
struct Comparison {
    let request: ImportRequest
    let asOf: Day

    func compare(_ read: ReadExport, export: CheckedExport, repository: PortalRepository?,
                 report: inout RunReport) throws -> Compared {
        let validated = read.validated
        let choice = read.choice
        var current: [EntityKind: [String: StoredRecord]]
        let stored: RetentionPlanner.Stored
        var hashes = HashUpdate(key: choice.rowHashKey)
        if let loaded = read.snapshot {
            (current, stored) = (loaded.current, loaded.stored)
        } else if choice.mode == .incremental {
            current = [:]
            stored = try RetentionStore(database: repository?.database).load()
        } else {
            current = try repository.map { try read.scoped?.current(validated.kinds, repository: $0) ?? $0.loadCurrent(validated.kinds) } ?? [:]
            stored = try RetentionStore(database: repository?.database).load()
        }
        var (desired, returning) = Comparison.keepPurged(validated, stored: stored, asOf: asOf)
        var plan: Plan
        var scopeParents: Set<String>?
        switch choice.mode {
        case .scoped:
            guard let scope = request.scope else { throw UsageError("a scoped run without a scope") }
            if scope.matchesNothing(desired: desired, current: current) {
                throw UsageError("--only \(scope): not in the export and not in the portal")
            }
            var (narrowed, narrowedCurrent, keys) = scope.narrow(desired, current)
            Comparison.refuseGroupsMoving(scope, desired: desired, current: current, source: export.source, report: &report)
            try Comparison.keepPlacementsMovedOut(scope, &narrowed, current: narrowedCurrent, source: export.source, report: &report)
            Comparison.refuseStaffElsewhere(scope, &narrowed, current: narrowedCurrent, groups: keys[.group] ?? [],
                                            source: export.source, report: &report)
            if let repository {
                try Comparison.refuseKeysHeldOutside(scope, &narrowed, current: narrowedCurrent, source: export.source,
                                                     repository: repository, report: &report)
            }
            scopeParents = keys[.parent] ?? []
            plan = Differ(asOf: asOf).plan(desired: narrowed, current: narrowedCurrent)
            // The mass-removal guard weighs a scoped run against the whole portal, not the family
            // (counted only where the scope ends something: a count reads the whole table).
            for kind in validated.kinds where plan.counts[kind]?.removals ?? 0 > 0 {
                plan.activeBefore[kind] = try repository?.activeCount(kind) ?? 0
            }
            // The rows it applied carry their hashes; the files it read in part are no longer "as applied".
            for kind in narrowed.kinds {
                let records = narrowed.records(of: kind)
                hashes.keep(kind, records, storedHash: { _ in nil })
                let seen = Set(records.map(\.key)).union(narrowed.protectedKeys[kind] ?? [])
                hashes.deletes[kind] = Set((narrowedCurrent[kind] ?? [:]).keys).subtracting(seen)
                hashes.clearedFiles.insert(kind)
            }
        case .full:
            plan = Differ(asOf: asOf).plan(desired: desired, current: current)
            for kind in desired.kinds {
                let known = try choice.known?.hashes(of: kind)
                hashes.keep(kind, desired.records(of: kind), storedHash: { known?[$0] })
                let seen = Set(desired.records(of: kind).map(\.key)).union(desired.protectedKeys[kind] ?? [])
                hashes.deletes[kind] = Set(known?.keys ?? []).subtracting(seen)
                choice.known?.release(kind)
            }
            hashes.basis = (choice.basis, asOf)
        case .incremental:
            guard let repository, let known = choice.known else { throw UsageError("an incremental run without a portal") }
            // Placements past their end date that the portal applied from the export: when their row did not
            // change, the date alone ends them. With the hash each was applied with. Found from the index of
            // active placements' end dates: without statistics SQLite would otherwise walk every placement's hash.
            var ending: [String: UInt64] = [:]
            try repository.database.statement("""
                SELECT p.key, h.hash FROM placements p INDEXED BY placements_end
                CROSS JOIN record_hashes h ON h.entity = 'placement' AND h.key = p.key
                WHERE p.status = 'active' AND p.end_date < ?
                """).forEachRow([.text(asOf.iso)]) { row in
                if let key = row.string(0) { ending[key] = UInt64(bitPattern: Int64(row.int(1) ?? 0)) }
            }
            var unchangedCount: [EntityKind: Int] = [:]
            let purged = stored
            for kind in desired.kinds {
                // A file skipped whole: nothing parsed, nothing missing, every stored record unchanged.
                let skipped = validated.skippedFiles.contains(kind)
                // The validator kept what is needed of the stored hashes of a kind it read, and let them go.
                let stored = validated.storedHashes[kind] ?? [:]
                let parsed = Set(desired.records(of: kind).map(\.key))
                let unchanged = validated.unchanged[kind] ?? KeyTable()
                var missing = skipped ? [] : (validated.missing[kind] ?? []).subtracting(parsed).subtracting(desired.protectedKeys[kind] ?? [])
                if !skipped {
                    // Records kept purged have no content hash: one that left the export is found here.
                    for key in try Comparison.purgedStillActive(kind, stored: purged, database: repository.database)
                    where !parsed.contains(key) && !unchanged.contains(key) && !(desired.protectedKeys[kind]?.contains(key) ?? false) {
                        missing.insert(key)
                    }
                }
                let dated = kind != .placement ? [:] : skipped ? ending : ending.filter { unchanged.contains($0.key) }
                let wanted = parsed.union(missing).union(dated.keys)
                current[kind] = wanted.isEmpty ? [:]
                    : try repository.load(kind, where: "key IN \(PortalLookup.set)", [PortalLookup.bind(wanted)])
                for key in dated.keys.sorted() {
                    guard let record = current[kind]?[key] else { continue }
                    desired.records[kind, default: []].append(Record(key: key, values: record.values, line: 0,
                                                                     rowHash: dated[key] ?? RowHash.recheck))
                }
                unchangedCount[kind] = (skipped ? known.counts[kind] ?? 0 : unchanged.count) - dated.count
                let storedHashes = skipped ? dated : stored.merging(dated) { own, _ in own }
                hashes.keep(kind, desired.records(of: kind), storedHash: { storedHashes[$0] })
                hashes.deletes[kind] = missing
            }
            plan = Differ(asOf: asOf).plan(desired: desired, current: current)
            for kind in desired.kinds {
                plan.counts[kind]?.unchanged += unchangedCount[kind] ?? 0
                // The removal guard weighs against the whole portal, not against what was compared (counted
                // only where the run ends something: a count reads the whole table, a million rows and more).
                if [EntityKind.child, .parent, .placement].contains(kind), plan.counts[kind]?.removals ?? 0 > 0 {
                    plan.activeBefore[kind] = try repository.activeCount(kind)
                }
            }
            hashes.basis = (choice.basis, asOf)
        }
        if choice.mode != .scoped, export.source is CSVExportSource {
            let listed = Dictionary(export.manifest.files.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
            for kind in validated.kinds {
                guard let name = export.source.mapping.entities[kind]?.name else { continue }
                if validated.skippedFiles.contains(kind) { continue }
                // Clean: no rejected row, and no row kept purged (whose hash the portal does not keep).
                if validated.cleanFiles.contains(kind), (desired.protectedKeys[kind] ?? []).isEmpty,
                   let file = listed[name], let sha = file.sha256 {
                    hashes.cleanFiles.append((kind, name, sha, file.rows, try AppliedFile.encode(validated.fileWarnings[kind] ?? [])))
                } else {
                    hashes.clearedFiles.insert(kind)
                }
            }
        } else if choice.mode != .scoped {
            hashes.clearedFiles.formUnion(validated.kinds)
        }
        report.describe(plan)
        for change in plan.changes where change.action == .vanished {
            report.issues.append(Issue(.warning, "placement-vanished", key: change.key, message:
                "plaatsing \(change.key) staat niet meer in de export en had geen einddatum; controleer het planningssysteem"))
        }
        return Compared(plan: plan, current: current, stored: stored, returning: returning, scopeParents: scopeParents,
                        hashes: hashes)
    }

    /// A scoped run changes the records of its scope alone. A row it selected whose key the portal holds for
    /// a record outside the scope (a placement the export now gives to this family's child, or to a group of
    /// this location) would take that record from a family or location the run does not plan: their
    /// accounts, access and lists would not follow. The row is refused, with the reason; it keeps no content
    /// hash, so the next nightly run reads it again and moves the record with both sides in view.
    static func refuseKeysHeldOutside(_ scope: Scope, _ narrowed: inout DesiredState, current: [EntityKind: [String: StoredRecord]],
                                      source: ExportSource, repository: PortalRepository, report: inout RunReport) throws {
        for kind in narrowed.kinds {
            let new = Set(narrowed.records(of: kind).lazy.map(\.key).filter { current[kind]?[$0] == nil })
            guard !new.isEmpty else { continue }
            let held = try repository.load(kind, where: "key IN \(PortalLookup.set)", [PortalLookup.bind(new)])
            guard !held.isEmpty else { continue }
            let file = source.mapping.entities[kind]?.name ?? kind.rawValue
            for record in narrowed.records(of: kind) {
                guard let stored = held[record.key] else { continue }
                // Only a placement can be held elsewhere: it is selected by its child (or group), which its key
                // does not hold; the other kinds are read whole or keyed by what selects them.
                let owner = kind != .placement ? "" : Placement(values: stored.values).map { placement in
                    " bij kind \(placement.child.text)" + (placement.group.map { " in groep \($0.text)" } ?? "")
                } ?? ""
                report.issues.append(Issue(.error, "scoped-key-elsewhere", file: file, line: record.line, key: record.key, message:
                    "\(kind.dutchSingular) \(record.key) staat in het portaal\(owner), buiten \(scope.dutchDescription). Een run voor één gezin of locatie haalt geen gegevens weg bij een ander en heeft deze regel niet verwerkt; de eerstvolgende nachtelijke import doet dat, met beide kanten erbij"))
            }
            narrowed.records[kind]?.removeAll { held[$0.key] != nil }
            narrowed.protectedKeys[kind, default: []].formUnion(held.keys)
            report.export.countRejected(held.count, of: kind)
        }
    }

    /// A location's run leaves out the groups the export moves to or from that location (`Scope.movingGroups`):
    /// each row is refused with both locations named, and counted as rejected in its file. It keeps no content
    /// hash, so the next nightly run reads it again and moves the group with both locations in view.
    static func refuseGroupsMoving(_ scope: Scope, desired: DesiredState, current: [EntityKind: [String: StoredRecord]],
                                   source: ExportSource, report: inout RunReport) {
        let moving = scope.movingGroups(desired: desired, current: current)
        guard !moving.isEmpty else { return }
        let file = source.mapping.entities[.group]?.name ?? EntityKind.group.rawValue
        for (record, from) in moving {
            let to = Group(values: record.values)?.location.text ?? "?"
            report.issues.append(Issue(.error, "scoped-key-elsewhere", file: file, line: record.line, key: record.key, message:
                "groep \(record.key) staat in het portaal bij locatie \(from) en in de export bij locatie \(to). Een run voor één locatie verplaatst geen groep naar of van een andere locatie: de groep en de plaatsingen erin zijn in deze run niet gewijzigd. De eerstvolgende nachtelijke import verplaatst de groep, met beide locaties erbij"))
        }
        report.export.countRejected(moving.count, of: .group)
    }

    /// A placement of the scope that the export gives to a child or group outside it is not in the rows a
    /// scoped run reads, and would be taken for one that left the export (vanished): its child off the lists,
    /// windows opened as if the care were over. The export's placements file is looked through once more for
    /// the keys that would end (only when there are any); each one found elsewhere stays as the portal holds
    /// it, and the report says where the export puts it. The next nightly run moves it with both sides in view.
    static func keepPlacementsMovedOut(_ scope: Scope, _ narrowed: inout DesiredState, current: [EntityKind: [String: StoredRecord]],
                                       source: ExportSource, report: inout RunReport) throws {
        guard narrowed.kinds.contains(.placement), let held = current[.placement], !held.isEmpty else { return }
        let read = Set(narrowed.records(of: .placement).lazy.map(\.key)).union(narrowed.protectedKeys[.placement] ?? [])
        let ending = Set(held.lazy.filter { $0.value.status == .active && !read.contains($0.key) }.map(\.key))
        guard !ending.isEmpty else { return }
        var elsewhere: [String: (child: String, group: String)] = [:]
        try source.project(.placement, fields: [Placement.Field.number, Placement.Field.child, Placement.Field.group]) { row in
            if ending.contains(row[0]) { elsewhere[row[0]] = (row[1], row[2]) }
        }
        guard !elsewhere.isEmpty else { return }
        narrowed.protectedKeys[.placement, default: []].formUnion(elsewhere.keys)
        for (key, place) in elsewhere.sorted(by: { $0.key < $1.key }) {
            report.issues.append(Issue(.warning, "scoped-moved-out", key: key, message:
                "plaatsing \(key) staat in de export bij kind \(place.child) in groep \(place.group), buiten \(scope.dutchDescription). Een run voor één gezin of locatie beëindigt deze plaatsing daarom niet; zij blijft ongewijzigd. De eerstvolgende nachtelijke import verwerkt de verplaatsing, met beide kanten erbij"))
        }
    }

    /// A location's run does not change a staff member who also works in a group of another location (before
    /// or after): that location's team would change without its run. The row is refused, naming those groups;
    /// a staff member the export no longer has is left as is; the night's run applies both.
    static func refuseStaffElsewhere(_ scope: Scope, _ narrowed: inout DesiredState, current: [EntityKind: [String: StoredRecord]],
                                     groups: Set<String>, source: ExportSource, report: inout RunReport) {
        guard case .location = scope, narrowed.kinds.contains(.staff) else { return }
        let held = current[.staff] ?? [:]
        func elsewhere(_ values: FieldValues?) -> [String] {
            values.flatMap { Staff(values: $0) }?.groups.map(\.text).filter { !groups.contains($0) } ?? []
        }
        let file = source.mapping.entities[.staff]?.name ?? EntityKind.staff.rawValue
        var refused: Set<String> = []
        for record in narrowed.records(of: .staff) {
            let stored = held[record.key]
            guard stored?.values != record.values || stored?.status != .active else { continue }
            let outside = Array(Set(elsewhere(record.values) + elsewhere(stored?.values))).sorted()
            guard !outside.isEmpty else { continue }
            refused.insert(record.key)
            report.issues.append(Issue(.error, "scoped-key-elsewhere", file: file, line: record.line, key: record.key, message:
                "medewerker \(record.key) werkt ook in groep \(outside.joined(separator: ", ")), buiten \(scope.dutchDescription). Een run voor één locatie wijzigt het team van een andere locatie niet: deze regel is in deze run niet verwerkt. De eerstvolgende nachtelijke import doet dat, met beide locaties erbij"))
        }
        let read = Set(narrowed.records(of: .staff).lazy.map(\.key))
        let leaving = held.filter { $0.value.status == .active && !read.contains($0.key) && !elsewhere($0.value.values).isEmpty }
        for key in leaving.keys.sorted() {
            report.issues.append(Issue(.warning, "scoped-moved-out", key: key, message:
                "medewerker \(key) staat niet meer in de export bij \(scope.dutchDescription), maar werkt ook in groep \(elsewhere(leaving[key]?.values).joined(separator: ", ")) van een andere locatie. Een run voor één locatie beëindigt deze medewerker daarom niet; de eerstvolgende nachtelijke import doet dat"))
        }
        guard !refused.isEmpty || !leaving.isEmpty else { return }
        narrowed.records[.staff]?.removeAll { refused.contains($0.key) }
        narrowed.protectedKeys[.staff, default: []].formUnion(refused.union(leaving.keys))
        report.export.countRejected(refused.count, of: .staff)
    }

    /// The records of purged children and parents, and the relations and deviations of purged children, that
    /// the portal still holds as active. Their rows are kept out of what a run applies while the export still
    /// has them, so the portal keeps no content hash of them, and a nightly run would not see one leave the
    /// export, as a full run sees it. Found from the indexes of purged keys, and by child (without `INDEXED BY`
    /// SQLite, which keeps no statistics here, would walk every active child by the status index).
    static func purgedStillActive(_ kind: EntityKind, stored: RetentionPlanner.Stored, database: Database) throws -> [String] {
        let lookup = PortalLookup(database: database)
        switch kind {
        case .child:
            guard !stored.purgedChildren.isEmpty else { return [] }
            return try lookup.strings("SELECT key FROM children INDEXED BY children_purged WHERE purged_at IS NOT NULL AND status = 'active'", [])
        case .parent:
            guard !stored.purgedParents.isEmpty else { return [] }
            return try lookup.strings("SELECT key FROM parents INDEXED BY parents_purged WHERE purged_at IS NOT NULL AND status = 'active'", [])
        case .relation:
            guard !stored.purgedChildren.isEmpty else { return [] }
            return try lookup.strings("SELECT key FROM relations INDEXED BY relations_by_child WHERE child_number IN \(PortalLookup.set) AND status = 'active'",
                                      [PortalLookup.bind(stored.purgedChildren.texts)])
        case .deviation:
            guard !stored.purgedChildren.isEmpty else { return [] }
            return try lookup.strings("SELECT key FROM deviations INDEXED BY deviations_by_child WHERE child_number IN \(PortalLookup.set) AND status = 'active'",
                                      [PortalLookup.bind(stored.purgedChildren.texts)])
        default:
            return []
        }
    }

    /// Purged children and parents stay purged while the planning system still exports them: their rows
    /// (and the relations and deviations of purged children) are left out and treated as unchanged. A
    /// child that is in care again (an active placement in the export) comes back, with its parents.
    static func keepPurged(_ desired: DesiredState, stored: RetentionPlanner.Stored, asOf: Day) -> (DesiredState, Returning) {
        guard !stored.purgedChildren.isEmpty || !stored.purgedParents.isEmpty else { return (desired, Returning()) }
        // Child and parent numbers are kept apart: child 1001 returning says nothing of parent 1001.
        var returningChildren: Set<ChildNumber> = []
        var returningParents: Set<ParentNumber> = []
        for placement in desired.records(of: .placement).lazy.compactMap({ Placement(values: $0.values) })
        where stored.purgedChildren.contains(placement.child) {
            if placement.end.map({ $0 >= asOf }) ?? true { returningChildren.insert(placement.child) }
        }
        let frozenChildren = stored.purgedChildren.subtracting(returningChildren)
        var liveParents: Set<ParentNumber> = []
        for relation in desired.records(of: .relation).lazy.compactMap({ Relation(values: $0.values) }) {
            if !frozenChildren.contains(relation.child) { liveParents.insert(relation.parent) }
            if returningChildren.contains(relation.child) { returningParents.insert(relation.parent) }
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
        freeze(.child) { frozenChildren.contains(ChildNumber($0.key)) }
        freeze(.parent) { frozenParents.contains(ParentNumber($0.key)) }
        freeze(.relation) { Relation(values: $0.values).map { frozenChildren.contains($0.child) } ?? false }
        freeze(.deviation) { Deviation(values: $0.values).map { frozenChildren.contains($0.child) } ?? false }
        return (result, Returning(children: returningChildren.intersection(stored.purgedChildren),
                                  parents: returningParents.intersection(stored.purgedParents)))
    }

    /// Purged children and parents that come back in this run, each kind in its own set.
    struct Returning: Sendable {
        var children: Set<ChildNumber> = []
        var parents: Set<ParentNumber> = []
    }
}
