import PortalStore

/// The plan an attendance list is built from, typed: placements, deviations, closing days and school
/// holidays of a set of groups. Made from the import's post-run state, or from the database for a refresh.
struct AttendanceInputs {
    var groups: [GroupCode: Group] = [:]
    var placements: [GroupCode: [Placement]] = [:]
    /// group → date → deviations.
    var deviations: [GroupCode: [Day: [Deviation]]] = [:]
    var calendar: [CalendarEntry] = []
    /// Children whose record is active; others are not expected anywhere.
    var activeChildren: Set<ChildNumber> = []

    /// Reads the active records of the given groups (nil: every group) from the state after the run.
    init(post: PostState, groups wanted: Set<String>?) {
        func active(_ kind: EntityKind) -> LazyMapSequence<LazyFilterSequence<PostState.Records>, FieldValues> {
            post.active(kind).map(\.values)
        }
        for group in active(.group).compactMap(Group.init(values:)) where wanted?.contains(group.code.text) ?? true {
            groups[group.code] = group
        }
        for child in active(.child).compactMap(Child.init(values:)) { activeChildren.insert(child.number) }
        for placement in active(.placement).compactMap(Placement.init(values:)) { add(placement) }
        for deviation in active(.deviation).compactMap(Deviation.init(values:)) { add(deviation) }
        calendar += active(.calendar).compactMap(CalendarEntry.init(values:))
    }

    init() {}

    /// Lets go of one group's placements and deviations once its lists are built: a first import at a million
    /// children holds a million and a half placements here, let go group by group while the rows to write grow.
    mutating func release(_ group: String) {
        placements[GroupCode(group)] = nil
        deviations[GroupCode(group)] = nil
    }

    mutating func add(_ placement: Placement) {
        guard let group = placement.group, groups[group] != nil else { return }
        placements[group, default: []].append(placement)
    }

    mutating func add(_ deviation: Deviation) {
        guard groups[deviation.group] != nil else { return }
        deviations[deviation.group, default: [:]][deviation.date, default: []].append(deviation)
    }
}

extension AttendanceInputs {
    /// The inputs of the lists of `groups` on `days` that none of this run's changes reach (the days an
    /// incremental run's horizon gained, for every group it does not rebuild whole): read from the portal's
    /// columns as the lists need them, instead of as full records. Only the placements in effect on `days`
    /// (and every placement of a child with a request on them), the deviations of `days`, and which
    /// children are active; the plan is laid over them all the same, so the inputs are the post-run
    /// state's whatever the caller's choice of groups.
    init(portal repository: PortalRepository, groups wanted: Set<String>, days: ClosedRange<Day>, plan: Plan, post: PostState) throws {
        guard !wanted.isEmpty else { return }
        let set = PortalLookup.bind(wanted)
        let changed = Set(plan.changes.map { Kinded($0.kind, $0.key) })
        func stored(_ kind: EntityKind, where condition: String, _ values: [SQLValue], _ body: (FieldValues) -> Void) throws {
            try repository.forEachRecord(kind, where: "status = 'active' AND \(condition)", values) { key, record in
                // A record the plan changes is taken from the post-run state below.
                if !changed.contains(Kinded(kind, key)) { body(record.values) }
            }
        }
        try stored(.group, where: "key IN \(PortalLookup.set)", [set]) { values in
            if let group = Group(values: values) { groups[group.code] = group }
        }
        // The plan's groups, calendar, placements and deviations, as they are after the run.
        for change in plan.changes where change.status == .active {
            guard let values = post.record(change.kind, change.key)?.values else { continue }
            if change.kind == .group, wanted.contains(change.key), let group = Group(values: values) { groups[group.code] = group }
        }
        try stored(.calendar, where: "1", []) { values in
            if let entry = CalendarEntry(values: values) { calendar.append(entry) }
        }
        let first = days.lowerBound.iso, last = days.upperBound.iso
        try stored(.deviation, where: "group_code IN \(PortalLookup.set) AND date BETWEEN ? AND ?", [set, .text(first), .text(last)]) { values in
            if let deviation = Deviation(values: values), days.contains(deviation.date) { add(deviation) }
        }
        for change in plan.changes where change.status == .active && change.kind == .deviation {
            guard let values = post.record(change.kind, change.key)?.values else { continue }
            if let deviation = Deviation(values: values), days.contains(deviation.date) { add(deviation) }
        }
        // A request without times of its own takes the child's usual hours from any of its placements in the
        // group, in effect that day or not (one that begins later, one that has ended): those are read too.
        let requesting = Set(deviations.values.flatMap(\.values).joined().filter { $0.kind != "Afwezig" }.map(\.child.text))
        // Of the rest, only those with hours on a weekday among `days` bring a child.
        let span = days.upperBound.dayNumber - days.lowerBound.dayNumber + 1
        let weekdays = Set((0..<min(span, 7)).map { days.lowerBound.adding(days: $0).isoWeekday - 1 })
        let cared = weekdays.sorted().map { "\(EntityKind.placement.schema.fields[Placement.Field.weekdays[$0]].column) <> ''" }
        try stored(.placement, where: """
            group_code IN \(PortalLookup.set) AND (start_date <= ? AND (end_date IS NULL OR end_date >= ?) AND (\(cared.joined(separator: " OR ")))
                                                  OR child_number IN \(PortalLookup.set))
            """, [set, .text(last), .text(first), PortalLookup.bind(requesting)]) { values in
            if let placement = Placement(values: values) { add(placement) }
        }
        for change in plan.changes where change.status == .active {
            guard let values = post.record(change.kind, change.key)?.values else { continue }
            switch change.kind {
            case .calendar: if let entry = CalendarEntry(values: values) { calendar.append(entry) }
            case .placement: if let placement = Placement(values: values) { add(placement) }
            default: break
            }
        }
        let expected = Set(placements.values.joined().map(\.child)).union(deviations.values.flatMap(\.values).joined().map(\.child))
        try repository.database.statement("SELECT key FROM children WHERE status = 'active'").forEachRow { row in
            if let key = row.string(0), !changed.contains(Kinded(.child, key)), expected.contains(ChildNumber(key)) {
                activeChildren.insert(ChildNumber(key))
            }
        }
        for change in plan.changes where change.kind == .child && change.status == .active && expected.contains(ChildNumber(change.key)) {
            activeChildren.insert(ChildNumber(change.key))
        }
    }
}

/// A record's kind and key, as one dictionary key.
private struct Kinded: Hashable {
    let kind: EntityKind
    let key: String
    init(_ kind: EntityKind, _ key: String) {
        self.kind = kind
        self.key = key
    }
}
