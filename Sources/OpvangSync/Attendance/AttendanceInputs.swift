/// The plan an attendance list is built from, typed: placements, deviations, closing days and school
/// holidays of a set of groups. Made from the import's post-run state, or from the database for a refresh.
struct AttendanceInputs {
    struct Group {
        let code: String
        let location: String
        let name: String
        let capacity: Int?
    }

    struct Placement {
        let number: String
        let child: String
        let group: String
        let contract: String
        let start: Day
        let end: Day?
        /// Care hours per ISO weekday (index 0 = Monday).
        let hours: [TimeRange?]
        let weeks: String
    }

    struct Deviation {
        let child: String
        let group: String
        let date: Day
        let kind: String
        let from: TimeOfDay?
        let to: TimeOfDay?
        let description: String?
    }

    struct Period {
        let from: Day
        let to: Day
        let kind: String
        /// nil: every location.
        let location: String?
        let description: String?
    }

    var groups: [String: Group] = [:]
    var placements: [String: [Placement]] = [:]
    /// group → date → deviations.
    var deviations: [String: [Day: [Deviation]]] = [:]
    var calendar: [Period] = []
    /// Children whose record is active; others are not expected anywhere.
    var activeChildren: Set<String> = []

    /// Reads active records (as stored: values in schema order) of the given groups.
    init(records: [EntityKind: [String: StoredRecord]], groups wanted: Set<String>?) {
        func active(_ kind: EntityKind) -> [[String?]] {
            (records[kind] ?? [:]).values.compactMap { $0.status == .active ? $0.values : nil }
        }
        let g = EntityKind.group.schema
        for values in active(.group) {
            guard let code = values[g.index("code")], wanted?.contains(code) ?? true else { continue }
            groups[code] = Group(code: code, location: values[g.index("locationCode")] ?? "", name: values[g.index("name")] ?? code,
                                 capacity: values[g.index("capacity")].flatMap { Int($0) })
        }
        let c = EntityKind.child.schema
        for values in active(.child) { if let number = values[c.index("number")] { activeChildren.insert(number) } }
        for values in active(.placement) { add(placement: values) }
        for values in active(.deviation) { add(deviation: values) }
        for values in active(.calendar) { add(period: values) }
    }

    init() {}

    mutating func add(placement values: [String?]) {
        let p = EntityKind.placement.schema
        guard let group = values[p.index("groupCode")], groups[group] != nil,
              let number = values[p.index("number")], let child = values[p.index("childNumber")],
              let start = values[p.index("startDate")].flatMap(Day.init(iso:)) else { return }
        let days = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
        placements[group, default: []].append(Placement(
            number: number, child: child, group: group, contract: values[p.index("contractType")] ?? "",
            start: start, end: values[p.index("endDate")].flatMap(Day.init(iso:)),
            hours: days.map { values[p.index($0)].flatMap(TimeRange.init) }, weeks: values[p.index("weeks")] ?? "alle"))
    }

    mutating func add(deviation values: [String?]) {
        let d = EntityKind.deviation.schema
        guard let group = values[d.index("groupCode")], groups[group] != nil, let child = values[d.index("childNumber")],
              let date = values[d.index("date")].flatMap(Day.init(iso:)), let kind = values[d.index("kind")] else { return }
        deviations[group, default: [:]][date, default: []].append(Deviation(
            child: child, group: group, date: date, kind: kind,
            from: values[d.index("from")].flatMap { TimeOfDay(Substring($0)) }, to: values[d.index("to")].flatMap { TimeOfDay(Substring($0)) },
            description: values[d.index("description")]))
    }

    mutating func add(period values: [String?]) {
        let k = EntityKind.calendar.schema
        guard let from = values[k.index("from")].flatMap(Day.init(iso:)), let to = values[k.index("to")].flatMap(Day.init(iso:)),
              let kind = values[k.index("kind")] else { return }
        calendar.append(Period(from: from, to: to, kind: kind, location: values[k.index("locationCode")],
                               description: values[k.index("description")]))
    }
}
