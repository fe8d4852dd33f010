import PortalStore

/// SPEC §5, the mass-removal guard per location: a location whose active placements or children the
/// export would mostly remove (more than `maxRemovalFractionPerLocation`) is held as it was, and the rest
/// of the export is applied (exit 5). `--release location=CODE` applies such a location anyway.
///
/// Runs after the overall guard, which still stops the whole run when the drop is spread over many
/// locations. What this stage holds is left out of the plan, so every stage after it (accounts,
/// retention, attendance, the write) sees a portal in which the held location stays exactly as it was;
/// the report says what was held, with the numbers and what to do.
struct LocationGuard {
    let request: ImportRequest

    func check(_ compared: Compared, repository: PortalRepository?, report: inout RunReport) throws -> Compared {
        let threshold = request.settings.rules.maxRemovalFractionPerLocation
        let weights = try LocationWeighing.weigh(compared.plan, repository: repository)
        let release = request.release
        if let release { try checkExists(release, plan: compared.plan, repository: repository) }
        let tripped = weights.filter { $0.value.exceeds(threshold) }
        let held = Set(tripped.keys).subtracting([release].compactMap { $0 })
        report.heldLocations = []
        if let release, tripped[release] == nil {
            report.issues.append(Issue(.info, "location-not-held", key: release, message:
                "locatie \(release) is vrijgegeven, maar deze export hoefde haar niet vast te houden: ze is verwerkt zoals elke andere locatie"))
        }
        guard !tripped.isEmpty else { return compared }

        var result = compared
        var elsewhere: [String: Set<ChildNumber>] = [:]
        if !held.isEmpty, let repository {
            let reach = try LocationReach(held: held, plan: compared.plan, current: compared.current, repository: repository)
            elsewhere = hold(&result, reach: reach, report: &report)
        }
        let names = try LocationGuard.names(Set(tripped.keys), plan: compared.plan, repository: repository)
        for (code, weight) in tripped.sorted(by: { $0.key < $1.key }) {
            let released = code == release
            var entry = RunReport.HeldLocation(
                code: code, name: names[code], released: released, activePlacements: weight.activePlacements,
                placementsWouldEnd: weight.placementsWouldEnd, activeChildren: weight.activeChildren,
                childrenWouldEnd: weight.childrenWouldEnd, missingFromLocationsFile: weight.missingFromLocationsFile,
                threshold: threshold, message: "")
            entry.message = HeldLocationsReport.message(entry, childrenElsewhere: elsewhere[code]?.count ?? 0, reason: request.reason)
            report.heldLocations?.append(entry)
            report.issues.append(Issue(released ? .info : .warning, released ? "location-released" : "location-held", key: code,
                                       message: entry.message))
        }
        return result
    }

    /// Leaves the held locations' changes out of the plan and the report, and records what stays.
    /// Returns, per held location, the children the export places elsewhere while their placement here is held.
    private func hold(_ compared: inout Compared, reach: LocationReach, report: inout RunReport) -> [String: Set<ChildNumber>] {
        var plan = compared.plan
        plan.changes = []
        plan.changes.reserveCapacity(compared.plan.changes.count)
        var dropped: [EntityKind: Set<String>] = [:]
        // Records applied in part (a staff member's held groups kept).
        var partial: [EntityKind: Set<String>] = [:]
        var heldChanges: [String: Int] = [:]
        // Children whose placement at a held location is kept, and children given a placement elsewhere.
        var keptAt: [String: Set<ChildNumber>] = [:]
        var placedElsewhere: Set<ChildNumber> = []
        // New placements at a held location: they wait (with their family's invitation) for the location.
        var waiting: [(placement: String, child: ChildNumber, location: String)] = []
        func placement(_ values: FieldValues?) -> Placement? { values.flatMap(Placement.init(values:)) }
        func child(of change: Change) -> ChildNumber? {
            placement(change.values ?? reach.stored[.placement]?[change.key]?.values)?.child
        }
        var verdicts = compared.plan.changes.map(reach.verdict)
        // A child moving into a held location keeps the placement it leaves (one that vanished, not one that
        // reached its end date): the move waits as a whole, and the child is not left off every list.
        var arriving: Set<ChildNumber> = []
        for (change, verdict) in zip(compared.plan.changes, verdicts) where change.kind == .placement && change.action == .created {
            if case .hold = verdict, let child = child(of: change) { arriving.insert(child) }
        }
        var staying: Set<ChildNumber> = []
        for (index, change) in compared.plan.changes.enumerated() where change.kind == .placement && change.action == .vanished {
            if case .apply = verdicts[index], let child = child(of: change), arriving.contains(child) {
                verdicts[index] = .hold
                staying.insert(child)
            }
        }
        for (change, verdict) in zip(compared.plan.changes, verdicts) {
            switch verdict {
            case .apply:
                plan.changes.append(change)
                // A new placement, or one moved to another group: the child is placed at another location now.
                if change.kind == .placement, change.status == .active,
                   change.action != .updated || change.fields.contains(where: { $0.field == "groupCode" }),
                   let child = child(of: change) {
                    placedElsewhere.insert(child)
                }
            case .rewrite(let applied):
                plan.changes.append(applied)
                partial[change.kind, default: []].insert(change.key)
            case .hold:
                dropped[change.kind, default: []].insert(change.key)
                heldChanges[change.kind.rawValue, default: 0] += 1
                var counts = plan.counts[change.kind] ?? ChangeCounts()
                switch change.action {
                case .created: counts.created -= 1
                case .updated: counts.updated -= 1
                case .restored: counts.restored -= 1
                case .ended: counts.ended -= 1
                case .vanished: counts.vanished -= 1
                }
                // The record stays as the portal has it (a new one is not made at all).
                if change.action != .created { counts.unchanged += 1 }
                plan.counts[change.kind] = counts
                if change.kind == .placement, change.action == .ended || change.action == .vanished, let child = child(of: change),
                   let group = placement(reach.stored[.placement]?[change.key]?.values)?.group,
                   let location = reach.heldLocation(ofGroup: group.text) {
                    keptAt[location, default: []].insert(child)
                }
                if change.kind == .placement, change.action == .created, let child = child(of: change),
                   let group = placement(change.values)?.group, let location = reach.heldLocation(ofGroup: group.text) {
                    waiting.append((change.key, child, location))
                }
            }
        }
        compared.plan = plan
        compared.returning.children.subtract((dropped[.child] ?? []).map(ChildNumber.init))
        compared.returning.parents.subtract((dropped[.parent] ?? []).map(ParentNumber.init))
        compared.hold = LocationHold(locations: reach.held, groups: reach.heldGroups, parents: reach.heldParents.texts,
                                     rebuildLater: reach.heldGroups.filter { reach.groupBefore[$0] != nil })
        // The portal keeps the content hashes it has for what is held, so that the next run reads those rows
        // again (and holds or applies them) instead of passing them over as applied; a file with a held row
        // is not "as applied" either.
        for (kind, keys) in dropped.merging(partial, uniquingKeysWith: { $0.union($1) }) {
            compared.hashes.upserts[kind]?.removeAll { keys.contains($0.key) }
            compared.hashes.deletes[kind]?.subtract(keys)
            compared.hashes.cleanFiles.removeAll { $0.kind == kind }
            compared.hashes.clearedFiles.insert(kind)
        }

        // The report describes what is applied: the held changes are counted apart.
        report.describe(plan)
        report.issues.removeAll { $0.code == "placement-vanished" && (dropped[.placement]?.contains($0.key ?? "") ?? false) }
        report.heldChanges = heldChanges
        for new in waiting {
            report.issues.append(Issue(.warning, "held-placement-waiting", key: new.placement, message:
                "plaatsing \(new.placement) van kind \(new.child) is nieuw bij locatie \(new.location), die is vastgehouden: ze wordt verwerkt (en het gezin zo nodig uitgenodigd) zodra de locatie is vrijgegeven of weer volledig in de export staat"
                + (staying.contains(new.child) ? "; tot dan blijft ook de plaatsing staan die het kind verlaat" : "")))
        }
        var elsewhere: [String: Set<ChildNumber>] = [:]
        for (location, children) in keptAt.sorted(by: { $0.key < $1.key }) {
            let moved = children.intersection(placedElsewhere)
            guard !moved.isEmpty else { continue }
            elsewhere[location] = moved
            for child in moved.sorted() {
                report.issues.append(Issue(.warning, "held-child-placed-elsewhere", key: child.text, message:
                    "kind \(child) heeft in de export een plaatsing bij een andere locatie; die is verwerkt, en zijn plaatsing bij de vastgehouden locatie \(location) blijft staan tot die locatie is vrijgegeven of weer volledig in de export staat. Tot dan staat het kind op de lijsten van beide locaties"))
            }
        }
        return elsewhere
    }

    /// `--release location=CODE` must name a location of the export or the portal: a typo is a usage error,
    /// not a night applied without the release it asked for.
    private func checkExists(_ code: String, plan: Plan, repository: PortalRepository?) throws {
        if plan.changes.contains(where: { $0.kind == .location && $0.key == code }) { return }
        if try repository?.database.scalarInt("SELECT COUNT(*) FROM locations WHERE key = ?", [.text(code)]) ?? 0 > 0 { return }
        throw UsageError("--release location=\(TextSafety.visible(code)): there is no location \(TextSafety.visible(code)) in the export or in the portal")
    }

    /// The locations' names as the portal has them (a held location keeps its own), else as the export has them.
    static func names(_ codes: Set<String>, plan: Plan, repository: PortalRepository?) throws -> [String: String] {
        var names: [String: String] = [:]
        try repository?.database.statement("SELECT key, name FROM locations WHERE key IN \(PortalLookup.set)")
            .forEachRow([PortalLookup.bind(codes)]) { row in
                if let key = row.string(0), let name = row.string(1) { names[key] = name }
            }
        for change in plan.changes where change.kind == .location && codes.contains(change.key) && names[change.key] == nil {
            if let name = change.values.flatMap(Location.init(values:))?.name { names[change.key] = name }
        }
        return names
    }
}
