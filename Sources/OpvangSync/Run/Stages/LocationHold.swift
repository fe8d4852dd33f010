import PortalStore

/// The locations a run holds as they were (SPEC §5), and what holding them keeps: their groups, and the
/// parents whose every child is placed there. The planners leave those alone; the rest of the export is
/// applied.
///
/// Held means kept exactly: no record of the location changes, its attendance lists are not rebuilt, and
/// the accounts of its families are neither disabled nor stripped of an invitation. A child or family
/// that is also placed at a location that is not held is updated there, but nothing of it is ended.
struct LocationHold: Sendable {
    /// Location codes held.
    var locations: Set<String> = []
    /// Groups that are, or that the export would move, at a held location.
    var groups: Set<String> = []
    /// Parents all of whose children with a placement are placed at held locations only.
    var parents: Set<String> = []
    /// The held groups the portal has: their lists are rebuilt whole once they are no longer held.
    var rebuildLater: Set<String> = []

    var isEmpty: Bool { locations.isEmpty }

    /// The groups whose attendance lists a run rebuilds: `groups` (nil: every group of `post`) without
    /// the held ones. Unchanged when nothing is held.
    func listedGroups(_ groups: Set<String>?, post: PostState) -> Set<String>? {
        guard !isEmpty else { return groups }
        return (groups ?? post.keys(.group)).subtracting(self.groups)
    }

    /// The parents whose access windows and accounts retention may change: `scope` (nil: every parent of
    /// `post`) without the held families. Unchanged when nothing is held.
    func retentionScope(_ scope: Set<String>?, post: PostState) -> Set<String>? {
        guard !isEmpty else { return scope }
        return (scope ?? post.keys(.parent)).subtracting(parents)
    }
}

/// Who and what a held location reaches, worked out from the portal (all statuses: a child whose care
/// there ended is still the location's) with the plan's new values laid over it.
struct LocationReach {
    let held: Set<String>
    /// Group code → location, before the run and as the plan would leave it.
    private(set) var groupBefore: [String: String] = [:]
    private(set) var groupAfter: [String: String] = [:]
    private(set) var heldGroups: Set<String> = []
    /// Children whose placements are all at held locations; children also placed elsewhere.
    private(set) var heldChildren: Set<ChildNumber> = []
    private(set) var spanningChildren: Set<ChildNumber> = []
    private(set) var heldParents: Set<ParentNumber> = []
    private(set) var spanningParents: Set<ParentNumber> = []
    /// The stored records of the plan's changes, by kind and key (for changes that carry no values).
    private(set) var stored: [EntityKind: [String: StoredRecord]] = [:]

    init(held: Set<String>, plan: Plan, current: [EntityKind: [String: StoredRecord]], repository: PortalRepository) throws {
        self.held = held
        // The stored record of every change, from what the comparison read, else from the database.
        var missing: [EntityKind: Set<String>] = [:]
        for change in plan.changes where change.action != .created {
            if let record = current[change.kind]?[change.key] {
                stored[change.kind, default: [:]][change.key] = record
            } else {
                missing[change.kind, default: []].insert(change.key)
            }
        }
        for (kind, keys) in missing {
            stored[kind, default: [:]].merge(try repository.load(kind, where: "key IN \(PortalLookup.set)", [PortalLookup.bind(keys)])) { own, _ in own }
        }

        for (code, record) in try repository.load(.group) {
            if let group = Group(values: record.values) { groupBefore[code] = group.location.text }
        }
        groupAfter = groupBefore
        for change in plan.changes where change.kind == .group {
            if let group = change.values.flatMap(Group.init(values:)) { groupAfter[change.key] = group.location.text }
        }
        for (code, location) in groupBefore where held.contains(location) { heldGroups.insert(code) }
        for (code, location) in groupAfter where held.contains(location) { heldGroups.insert(code) }

        // Placements per child: the portal's, with the plan's laid over (a new one, a changed group).
        struct Placing { var groups: Set<String>; var active: Bool }
        var placings: [ChildNumber: [String: Placing]] = [:]
        func place(_ key: String, _ placement: Placement?, active: Bool) {
            guard let placement else { return }
            var placing = placings[placement.child]?[key] ?? Placing(groups: [], active: false)
            if let group = placement.group { placing.groups.insert(group.text) }
            placing.active = placing.active || active
            placings[placement.child, default: [:]][key] = placing
        }
        /// A placement change's stored version and its new one.
        func versions(_ change: Change) -> [Placement] {
            [stored[.placement]?[change.key]?.values, change.values].compactMap { $0.flatMap(Placement.init(values:)) }
        }
        func placeFromPlan(children: Set<ChildNumber>) {
            for change in plan.changes where change.kind == .placement {
                let wasActive = stored[.placement]?[change.key]?.status == .active
                for placement in versions(change) where children.contains(placement.child) {
                    place(change.key, placement, active: wasActive || change.status == .active)
                }
            }
        }
        // Children reached: a placement (in any status) in a held group, in the portal or in the plan.
        var reached: Set<ChildNumber> = []
        try repository.database.statement("SELECT child_number FROM placements WHERE group_code IN \(PortalLookup.set)")
            .forEachRow([PortalLookup.bind(heldGroups)]) { row in if let child = row.string(0) { reached.insert(ChildNumber(child)) } }
        for change in plan.changes where change.kind == .placement {
            for placement in versions(change) where placement.group.map({ heldGroups.contains($0.text) }) ?? false { reached.insert(placement.child) }
        }
        for (key, record) in try repository.load(.placement, where: "child_number IN \(PortalLookup.set)", [PortalLookup.bind(reached.texts)]) {
            place(key, Placement(values: record.values), active: record.status == .active)
        }
        placeFromPlan(children: reached)

        /// The locations a child is placed at: those of its active placements, else of all it ever had.
        func locations(of child: ChildNumber) -> Set<String> {
            let all = Array((placings[child] ?? [:]).values)
            let active = all.filter(\.active)
            var result: Set<String> = []
            for placing in active.isEmpty ? all : active {
                for group in placing.groups {
                    if let location = groupBefore[group] { result.insert(location) }
                    if let location = groupAfter[group] { result.insert(location) }
                }
            }
            return result
        }
        for child in reached {
            let at = locations(of: child)
            if !at.isEmpty, at.isSubset(of: held) { heldChildren.insert(child) } else if !at.isDisjoint(with: held) { spanningChildren.insert(child) }
        }

        // Their parents, and every child of those parents: a family is held only when all of it is.
        var relations: [Relation] = []
        func relate(_ values: FieldValues) {
            if let relation = Relation(values: values) { relations.append(relation) }
        }
        let touching = heldChildren.union(spanningChildren)
        for record in try repository.load(.relation, where: "child_number IN \(PortalLookup.set)", [PortalLookup.bind(touching.texts)]).values {
            relate(record.values)
        }
        for change in plan.changes where change.kind == .relation {
            for values in [stored[.relation]?[change.key]?.values, change.values].compactMap({ $0 }) { relate(values) }
        }
        let parents = Set(relations.filter { touching.contains($0.child) }.map(\.parent))
        for record in try repository.load(.relation, where: "parent_number IN \(PortalLookup.set)", [PortalLookup.bind(parents.texts)]).values {
            relate(record.values)
        }
        var childrenOf: [ParentNumber: Set<ChildNumber>] = [:]
        for relation in relations where parents.contains(relation.parent) { childrenOf[relation.parent, default: []].insert(relation.child) }
        // The other children of those parents: placed anywhere at all (then never at a held location)?
        let others = Set(childrenOf.values.joined()).subtracting(reached)
        var placedElsewhere = Set(try repository.database.query(
            "SELECT DISTINCT child_number FROM placements WHERE child_number IN \(PortalLookup.set)", [PortalLookup.bind(others.texts)]) { $0.string(0) }
            .compactMap { $0.map(ChildNumber.init) })
        for change in plan.changes where change.kind == .placement {
            if let child = change.values.flatMap(Placement.init(values:))?.child, others.contains(child) { placedElsewhere.insert(child) }
        }
        // A child reached through a placement that ended at a held location, now placed elsewhere only.
        let movedOn = Set(reached.subtracting(touching).filter { !locations(of: $0).isEmpty })
        let elsewhere = spanningChildren.union(placedElsewhere).union(movedOn)
        for (parent, children) in childrenOf where !children.isDisjoint(with: touching) {
            if children.isDisjoint(with: elsewhere) { heldParents.insert(parent) } else { spanningParents.insert(parent) }
        }
    }

    /// The held location a group is at, before the run or as the export would move it.
    func heldLocation(ofGroup code: String) -> String? {
        [groupBefore[code], groupAfter[code]].compactMap { $0 }.first(where: held.contains)
    }

    /// What becomes of one change of the plan.
    enum Verdict {
        case apply
        case hold
        /// Applied in part: a staff member's groups at held locations stay as they were.
        case rewrite(Change)
    }

    func verdict(_ change: Change) -> Verdict {
        let before = stored[change.kind]?[change.key]?.values
        let versions = [before, change.values].compactMap { $0 }
        /// A field of the stored version and of the new one.
        func values<Value: Hashable>(_ read: (FieldValues) -> Value?) -> Set<Value> { Set(versions.compactMap(read)) }
        let ending = change.action == .ended || change.action == .vanished
        switch change.kind {
        case .location:
            return held.contains(change.key) ? .hold : .apply
        case .group:
            let at = values { Group(values: $0)?.location.text }.union([groupBefore[change.key]].compactMap { $0 })
            return at.isDisjoint(with: held) ? .apply : .hold
        case .placement:
            return values { Placement(values: $0)?.group?.text }.isDisjoint(with: heldGroups) ? .apply : .hold
        case .deviation:
            return values { Deviation(values: $0)?.group.text }.isDisjoint(with: heldGroups) ? .apply : .hold
        case .calendar:
            return values { CalendarEntry(values: $0)?.location?.text }.isDisjoint(with: held) ? .apply : .hold
        case .child:
            let child = ChildNumber(change.key)
            if heldChildren.contains(child) { return .hold }
            return ending && spanningChildren.contains(child) ? .hold : .apply
        case .parent:
            let parent = ParentNumber(change.key)
            if heldParents.contains(parent) { return .hold }
            return ending && spanningParents.contains(parent) ? .hold : .apply
        case .relation:
            let relations = versions.compactMap(Relation.init(values:))
            let children = Set(relations.map(\.child)), parents = Set(relations.map(\.parent))
            if !children.isDisjoint(with: heldChildren) { return .hold }
            let touching = !children.isDisjoint(with: spanningChildren) || !parents.isDisjoint(with: heldParents.union(spanningParents))
            return ending && touching ? .hold : .apply
        case .staff:
            return staffVerdict(change, before: before)
        }
    }

    /// A staff member working only in held groups is held; one who also works elsewhere is updated there,
    /// while the held groups keep them as their team (and they are not ended).
    private func staffVerdict(_ change: Change, before: FieldValues?) -> Verdict {
        let index = Staff.Field.groups
        func codes(_ values: FieldValues?) -> [String] { values.flatMap(Staff.init(values:))?.groups.map(\.text) ?? [] }
        let old = codes(before), new = codes(change.values)
        let all = Set(old + new)
        guard !all.isDisjoint(with: heldGroups) else { return .apply }
        if all.isSubset(of: heldGroups) || change.action == .ended || change.action == .vanished { return .hold }
        // Restored without other changes: back in the groups it had, held ones included.
        guard var values = change.values else { return .apply }
        // The export's groups in its order, without held groups it adds; then the held groups it drops.
        let kept = new.filter { !heldGroups.contains($0) || old.contains($0) } + old.filter { heldGroups.contains($0) && !new.contains($0) }
        values[index] = kept.isEmpty ? nil : kept.joined(separator: "|")
        if values == change.values { return .apply }
        guard let before else {
            return .rewrite(Change(kind: change.kind, key: change.key, action: change.action, fields: [], values: values, status: change.status))
        }
        if values == before, change.action == .updated { return .hold }
        let schema = EntityKind.staff.schema
        let fields = schema.fields.indices.filter { before[$0] != values[$0] }
            .map { FieldChange(field: schema.fields[$0].name, old: before[$0], new: values[$0]) }
        return .rewrite(Change(kind: change.kind, key: change.key, action: change.action, fields: fields, values: values, status: change.status))
    }
}
