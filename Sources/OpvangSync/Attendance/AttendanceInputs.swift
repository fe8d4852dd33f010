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

    /// Reads active records (as stored: values in schema order) of the given groups.
    init(records: [EntityKind: [String: StoredRecord]], groups wanted: Set<String>?) {
        func active(_ kind: EntityKind) -> [[String?]] {
            (records[kind] ?? [:]).values.compactMap { $0.status == .active ? $0.values : nil }
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

    mutating func add(_ placement: Placement) {
        guard let group = placement.group, groups[group] != nil else { return }
        placements[group, default: []].append(placement)
    }

    mutating func add(_ deviation: Deviation) {
        guard groups[deviation.group] != nil else { return }
        deviations[deviation.group, default: [:]][deviation.date, default: []].append(deviation)
    }
}
