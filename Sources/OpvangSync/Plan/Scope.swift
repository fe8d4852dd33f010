/// A scoped run (SPEC §5): the export applied to one family or one location only, so customer service
/// can fix a family now instead of waiting for the night.
public enum Scope: Sendable, Equatable, CustomStringConvertible {
    /// A parent, their children, and those children's other parents: the family.
    case parent(String)
    /// A child and its parents.
    case child(String)
    /// A location, its groups, the placements and deviations in those groups, the children placed there
    /// with their parents, the staff of those groups and the location's closing days.
    case location(String)

    /// Whether the scope is a family (a parent's or a child's), found from the relations alone.
    var findsAFamily: Bool {
        if case .location = self { return false }
        return true
    }

    /// Parses `parent=ID`, `child=ID` or `location=CODE`.
    public init?(argument: String) {
        let parts = argument.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[1].isEmpty else { return nil }
        switch parts[0] {
        case "parent": self = .parent(parts[1])
        case "child": self = .child(parts[1])
        case "location": self = .location(parts[1])
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .parent(let id): return "parent=\(id)"
        case .child(let id): return "child=\(id)"
        case .location(let code): return "location=\(code)"
        }
    }

    /// "gezin van ouder O1", for the report.
    var dutchDescription: String {
        switch self {
        case .parent(let id): return "het gezin van ouder \(id)"
        case .child(let id): return "kind \(id) en zijn ouders"
        case .location(let code): return "locatie \(code)"
        }
    }

    /// The keys in scope per kind, from the export and the portal together: a child that left the family
    /// in the export is still in scope, so that its relation can be ended.
    public func keys(desired: DesiredState, current: [EntityKind: [String: StoredRecord]]) -> [EntityKind: Set<String>] {
        func rows(_ kind: EntityKind) -> [(key: String, values: FieldValues)] {
            desired.records(of: kind).map { ($0.key, $0.values) }
                + (current[kind] ?? [:]).map { ($0.key, $0.value.values) }
        }
        func value(_ row: (key: String, values: FieldValues), _ kind: EntityKind, _ field: String) -> String? {
            row.values[kind.schema.index(field)]
        }
        let relations = rows(.relation)
        func parents(of children: Set<String>) -> Set<String> {
            Set(relations.filter { children.contains(value($0, .relation, "childNumber") ?? "") }
                .compactMap { value($0, .relation, "parentNumber") })
        }

        var keys: [EntityKind: Set<String>] = [:]
        var children: Set<String> = []
        var groups: Set<String> = []
        switch self {
        case .parent(let id):
            children = Set(relations.filter { value($0, .relation, "parentNumber") == id }.compactMap { value($0, .relation, "childNumber") })
            keys[.parent] = parents(of: children).union([id])
        case .child(let id):
            children = [id]
            keys[.parent] = parents(of: children)
        case .location(let code):
            keys[.location] = [code]
            // A group the export and the portal place at different locations is the business of neither
            // location's run alone (`movingGroups`): it is left out, and its placements with it.
            let moving = Set(movingGroups(desired: desired, current: current).map(\.record.key))
            groups = Set(rows(.group).filter { value($0, .group, "locationCode") == code }.map(\.key)).subtracting(moving)
            keys[.group] = groups
            children = Set(rows(.placement).filter { groups.contains(value($0, .placement, "groupCode") ?? "") }
                .compactMap { value($0, .placement, "childNumber") })
            keys[.parent] = parents(of: children)
            keys[.staff] = Set(rows(.staff).filter { row in
                (value(row, .staff, "groupCodes") ?? "").split(separator: "|").contains { groups.contains(String($0)) }
            }.map(\.key))
            keys[.calendar] = Set(rows(.calendar).filter { value($0, .calendar, "locationCode") == code }.map(\.key))
        }
        keys[.child] = children
        keys[.relation] = Set(relations.filter { children.contains(value($0, .relation, "childNumber") ?? "") }.map(\.key))
        for kind in [EntityKind.placement, .deviation] {
            keys[kind] = Set(rows(kind).filter { row in
                if case .location = self { return groups.contains(value(row, kind, "groupCode") ?? "") }
                return children.contains(value(row, kind, "childNumber") ?? "")
            }.map(\.key))
        }
        return keys
    }

    /// The groups of a location's run whose location the export changes, to or from this one: the export's
    /// row, and the location the portal holds the group at. A location's run does not move a group: the other
    /// location would gain or lose a group, its placements and its lists without being weighed by the removal
    /// guard or planned. The next run of the whole export moves it, with both locations in view. Empty for a
    /// family's run, which does not change groups.
    func movingGroups(desired: DesiredState, current: [EntityKind: [String: StoredRecord]]) -> [(record: Record, from: String)] {
        guard case .location(let code) = self, let held = current[.group], !held.isEmpty else { return [] }
        return desired.records(of: .group).compactMap { record in
            guard let stored = held[record.key], stored.status == .active,
                  let from = Group(values: stored.values)?.location.text,
                  let to = Group(values: record.values)?.location.text,
                  from != to, from == code || to == code else { return nil }
            return (record, from)
        }
    }

    /// True when the scope names something that neither the export nor the portal has.
    public func matchesNothing(desired: DesiredState, current: [EntityKind: [String: StoredRecord]]) -> Bool {
        let (kind, key): (EntityKind, String) = switch self {
        case .parent(let id): (.parent, id)
        case .child(let id): (.child, id)
        case .location(let code): (.location, code)
        }
        return !desired.acceptedKey(key, of: kind) && current[kind]?[key] == nil
            && !(desired.protectedKeys[kind]?.contains(key) ?? false)
    }
}

extension Scope {
    /// Narrows the desired and current state to the scope; kinds outside it are left out entirely.
    func narrow(_ desired: DesiredState, _ current: [EntityKind: [String: StoredRecord]])
        -> (DesiredState, [EntityKind: [String: StoredRecord]], [EntityKind: Set<String>]) {
        let keys = keys(desired: desired, current: current)
        var narrowed = desired
        narrowed.kinds = desired.kinds.filter { keys[$0] != nil }
        var narrowedCurrent: [EntityKind: [String: StoredRecord]] = [:]
        for kind in narrowed.kinds {
            let inScope = keys[kind] ?? []
            narrowed.records[kind] = desired.records(of: kind).filter { inScope.contains($0.key) }
            narrowedCurrent[kind] = (current[kind] ?? [:]).filter { inScope.contains($0.key) }
        }
        return (narrowed, narrowedCurrent, keys)
    }
}
