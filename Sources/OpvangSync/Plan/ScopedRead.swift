import Foundation
import PortalStore

/// What a scoped run reads: the export's rows of one family or location and the portal's records
/// around them, instead of everything (SPEC §5 "Scoped runs": customer service fixes a family while
/// the parent waits).
///
/// The family is found first from the key columns alone (relations, and for a location its groups and
/// placements), in the export and in the portal together; then only the rows of those children and
/// parents are parsed and checked. The result is a superset of `Scope.keys`, so narrowing it further
/// gives the same plan as narrowing the whole export would.
struct ScopedRead {
    /// nil for the families an incremental run plans for (`IncrementalScope`).
    let scope: Scope?
    /// Children whose rows are read: the family's, or those placed at the location.
    private(set) var children: Set<String> = []
    /// Parents of those children (and the named parent): the parents the run plans accounts for.
    private(set) var parents: Set<String> = []
    /// The location's groups (location scope only).
    private(set) var groups: Set<String> = []

    /// The families an incremental run found from its changes and the date.
    init(children: Set<String>, parents: Set<String>) {
        scope = nil
        self.children = children
        self.parents = parents
    }

    /// The kinds whose rows a scoped run selects (`selections`, whatever its scope); the others are read whole.
    static let selectedKinds = Set(ScopedRead(children: [], parents: []).selections.keys)

    /// Finds the children, parents and groups of `scope` in the export and the portal.
    init(_ scope: Scope, source: ExportSource, repository: PortalRepository?) throws {
        try self.init(scope, source: source, relations: ScopedRead.relations(in: source), repository: repository)
    }

    /// Every relation of the export, child and parent, from those two columns alone: where a family is
    /// found first. It needs the export only, so it can be read on another core while the files that no
    /// scope selects are read (`ExportReading`).
    static func relations(in source: ExportSource) throws -> [(child: ChildNumber, parent: ParentNumber)] {
        var relations: [(child: ChildNumber, parent: ParentNumber)] = []
        if source.mapping.entities[.relation] != nil {
            try source.project(.relation, fields: [Relation.Field.child, Relation.Field.parent]) {
                relations.append((ChildNumber($0[0]), ParentNumber($0[1])))
            }
        }
        return relations
    }

    /// Finds the children, parents and groups of `scope` from the export's `relations` (`relations(in:)`),
    /// the rest of the export and the portal.
    init(_ scope: Scope, source: ExportSource, relations: [(child: ChildNumber, parent: ParentNumber)],
         repository: PortalRepository?) throws {
        self.scope = scope
        let portal = repository.map { PortalLookup(database: $0.database) }
        switch scope {
        case .parent(let id):
            children = Set(relations.lazy.filter { $0.parent == ParentNumber(id) }.map(\.child.text))
            children.formUnion(try portal?.strings("SELECT child_number FROM relations WHERE parent_number = ?", [.text(id)]) ?? [])
            parents = [id]
        case .child(let id):
            children = [id]
        case .location(let code):
            if source.mapping.entities[.group] != nil {
                try source.project(.group, fields: [Group.Field.code, Group.Field.location]) { if $0[1] == code { groups.insert($0[0]) } }
            }
            groups.formUnion(try portal?.strings("SELECT key FROM groups WHERE location_code = ?", [.text(code)]) ?? [])
            if source.mapping.entities[.placement] != nil {
                try source.project(.placement, fields: [Placement.Field.child, Placement.Field.group]) { [groups] in
                    if groups.contains($0[1]) { children.insert($0[0]) }
                }
            }
            children.formUnion(try portal?.strings("SELECT child_number FROM placements WHERE group_code IN \(PortalLookup.set)",
                                                   [PortalLookup.bind(groups)]) ?? [])
            // A deviation in one of its groups may be of a child placed elsewhere (an extra day here): that
            // child's row is read too, so the deviation refers to a child the run knows.
            if source.mapping.entities[.deviation] != nil {
                try source.project(.deviation, fields: [Deviation.Field.child, Deviation.Field.group]) { [groups] in
                    if groups.contains($0[1]) { children.insert($0[0]) }
                }
            }
        }
        for relation in relations where children.contains(relation.child.text) { parents.insert(relation.parent.text) }
        parents.formUnion(try portal?.strings("SELECT parent_number FROM relations WHERE child_number IN \(PortalLookup.set)",
                                              [PortalLookup.bind(children)]) ?? [])
    }

    /// The rows to read of each kind; kinds without a selection (locations, groups, staff, calendar:
    /// small, and needed whole to check references) are read in full, unless a family's run skips them as
    /// the files the portal applied.
    var selections: [EntityKind: RowSelection] {
        var result: [EntityKind: RowSelection] = [
            .child: RowSelection(field: Child.Field.number, values: children),
            .parent: RowSelection(field: Parent.Field.number, values: parents),
            .relation: RowSelection(field: Relation.Field.child, values: children),
        ]
        if case .location? = scope {
            result[.placement] = RowSelection(field: Placement.Field.group, values: groups)
            result[.deviation] = RowSelection(field: Deviation.Field.group, values: groups)
        } else {
            result[.placement] = RowSelection(field: Placement.Field.child, values: children)
            result[.deviation] = RowSelection(field: Deviation.Field.child, values: children)
        }
        return result
    }

    /// The portal's records of `kinds` that the selections cover (all records of unselected kinds).
    func current(_ kinds: [EntityKind], repository: PortalRepository) throws -> [EntityKind: [String: StoredRecord]] {
        var result: [EntityKind: [String: StoredRecord]] = [:]
        for kind in kinds {
            guard let selection = selections[kind] else {
                result[kind] = try repository.load(kind)
                continue
            }
            let field = kind.schema.fields[selection.field]
            let column = kind.schema.keyFields == [selection.field] ? "key" : field.column
            result[kind] = try repository.load(kind, where: "\(column) IN \(PortalLookup.set)", [PortalLookup.bind(selection.values)])
        }
        return result
    }

    /// What the account and retention planners look at besides the scope itself: every relation of the
    /// scope's parents and of their children (a step-parent's other child counts for their account),
    /// and those children with all their placements. `children`: the children so read whole, with every
    /// placement and relation: the only ones whose care a planner may judge over (another child's records
    /// may be in view in part, a placement the run compared, and say nothing of the rest of its care).
    func plannerContext(repository: PortalRepository) throws -> (records: [EntityKind: [String: StoredRecord]], children: Set<String>) {
        var relations = try repository.load(.relation, where: "parent_number IN \(PortalLookup.set)", [PortalLookup.bind(parents)])
        let linked = children.union(relations.values.compactMap { Relation(values: $0.values)?.child.text })
        relations.merge(try repository.load(.relation, where: "child_number IN \(PortalLookup.set)", [PortalLookup.bind(linked)])) { old, _ in old }
        return ([
            .relation: relations,
            .child: try repository.load(.child, where: "key IN \(PortalLookup.set)", [PortalLookup.bind(linked)]),
            .placement: try repository.load(.placement, where: "child_number IN \(PortalLookup.set)", [PortalLookup.bind(linked)]),
            .parent: try repository.load(.parent, where: "key IN \(PortalLookup.set)", [PortalLookup.bind(parents)]),
        ], linked)
    }

    /// What the attendance lists of `groups` are built from: their placements and the deviations in
    /// the horizon (of every child, not only the scope's), those children, the groups, every location
    /// and the calendar.
    static func attendanceContext(groups: Set<String>, days: ClosedRange<Day>,
                                  repository: PortalRepository) throws -> [EntityKind: [String: StoredRecord]] {
        let placements = try repository.load(.placement, where: "group_code IN \(PortalLookup.set)", [PortalLookup.bind(groups)])
        let deviations = try repository.load(.deviation, where: "group_code IN \(PortalLookup.set) AND date BETWEEN ? AND ?",
                                             [PortalLookup.bind(groups), .text(days.lowerBound.iso), .text(days.upperBound.iso)])
        let children = Set(placements.values.compactMap { Placement(values: $0.values)?.child })
            .union(deviations.values.compactMap { Deviation(values: $0.values)?.child }).texts
        return [
            .group: try repository.load(.group, where: "key IN \(PortalLookup.set)", [PortalLookup.bind(groups)]),
            .location: try repository.load(.location),
            .calendar: try repository.load(.calendar),
            .placement: placements,
            .deviation: deviations,
            .child: try repository.load(.child, where: "key IN \(PortalLookup.set)", [PortalLookup.bind(children)]),
        ]
    }

    /// Adds `extra` to `records`, keeping what `records` has: the scope's own records win.
    static func merge(_ records: inout [EntityKind: [String: StoredRecord]], _ extra: [EntityKind: [String: StoredRecord]]) {
        for (kind, more) in extra { records[kind, default: [:]].merge(more) { own, _ in own } }
    }
}

/// Set membership in SQL without one placeholder per value: the set travels as one JSON array.
struct PortalLookup {
    /// `column IN \(set)` with `bind(values)` as its one parameter.
    static let set = "(SELECT value FROM json_each(?))"

    /// The values as one JSON array. SQLite compares text by its bytes, and `String`s are equal when
    /// canonically equivalent: a key the portal holds composed (`é`) must be found by a key the export now
    /// spells decomposed (`e` and a combining accent), as a full run's comparison finds it. So a value that is
    /// not ASCII is bound in both canonical forms, and in its own spelling.
    static func bind(_ values: Set<String>) -> SQLValue {
        var spellings: [String] = []
        spellings.reserveCapacity(values.count)
        for value in values {
            spellings.append(value)
            if !value.utf8.allSatisfy({ $0 < 0x80 }) {
                spellings.append(value.precomposedStringWithCanonicalMapping)
                spellings.append(value.decomposedStringWithCanonicalMapping)
            }
        }
        return .text("[" + spellings.map { JSONText.quote($0) }.joined(separator: ",") + "]")
    }

    let database: Database

    func strings(_ sql: String, _ values: [SQLValue]) throws -> [String] {
        try database.query(sql, values) { $0.string(0) }.compactMap { $0 }
    }
}
