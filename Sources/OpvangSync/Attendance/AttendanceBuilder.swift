import Foundation

/// One child on one group's list for one day.
public struct AttendanceEntry: Sendable, Equatable {
    public let group: String
    public let date: Day
    public let child: String
    public var start: TimeOfDay?
    public var end: TimeOfDay?
    /// On the list, but reported absent (`Afwezig`) for the whole day, with the reason.
    public var absent: Bool
    /// A part-day absence (`Afwezig` with Van/Tot that leaves part of the day): the hours the child is
    /// away; the child is expected the rest of `start`-`end`. nil when the child is absent all day or not at all.
    public var absentHours: TimeRange?
    public var reason: String?
    /// Where the child's presence comes from: a Plaatsingsnummer, `Extra dag` or `Ruildag`; several joined
    /// by `+` when they were merged into one day (`P1+P10`, `P1+Extra dag`).
    public var source: String

    public init(group: String, date: Day, child: String, start: TimeOfDay?, end: TimeOfDay?, absent: Bool,
                absentHours: TimeRange? = nil, reason: String?, source: String) {
        self.group = group
        self.date = date
        self.child = child
        self.start = start
        self.end = end
        self.absent = absent
        self.absentHours = absentHours
        self.reason = reason
        self.source = source
    }

    var times: String {
        guard let start, let end else { return "" }
        return "\(start)-\(end)"
    }

    var hours: TimeRange? { start.flatMap { start in end.flatMap { TimeRange(start: start, end: $0) } } }
}

/// The lists of one or more groups over some days: the entries, the days each group is closed, and what
/// customer service must hear about (requests dropped on closing days, overlapping placements).
struct AttendanceLists {
    var entries: [AttendanceEntry] = []
    var closed: [GroupDay: String] = [:]
    /// The open days that are school holidays for the group's location, and where each comes from.
    var schoolHolidays: [GroupDay: [SchoolHolidaySource]] = [:]
    var issues: [Issue] = []
}

/// SPEC §4 "Attendance lists": who is expected in each group on each day.
public struct AttendanceBuilder {
    public let holidays: HolidayCalendar
    /// The government's school holidays per region (`schoolHolidays`), merged with the export's `Schoolvakantie` rows.
    public let schoolHolidays: SchoolHolidayCalendar

    public init(holidays: HolidayCalendar, schoolHolidays: SchoolHolidayCalendar = .none) {
        self.holidays = holidays
        self.schoolHolidays = schoolHolidays
    }

    /// Why the group's location is closed on `day`, or nil when it is open.
    func closure(_ group: Group, on day: Day, calendar: [CalendarEntry]) -> String? {
        if let holiday = holidays.holiday(on: day) { return holiday.name }
        for period in calendar where period.kind == "Sluitingsdag" && period.covers(day)
            && (period.location == nil || period.location == group.location) {
            return period.description ?? "Sluitingsdag"
        }
        return nil
    }

    /// Why `day` is a school holiday at the group's location: the `Schoolvakantie` rows of the export's
    /// calendar and the government's holidays of the location's region (`government`, already narrowed to
    /// the location), each named once. Empty on a school day.
    func schoolHolidaySources(_ group: Group, _ day: Day, calendar: [CalendarEntry],
                              government: [SchoolHoliday]) -> [SchoolHolidaySource] {
        var sources: [SchoolHolidaySource] = []
        for holiday in government where holiday.from <= day && day <= holiday.to {
            let source = SchoolHolidaySource(name: holiday.name, origin: .rijksoverheid, region: holiday.region?.rawValue ?? "heel Nederland",
                                             schoolYear: holiday.schoolYear)
            if !sources.contains(source) { sources.append(source) }
        }
        for period in calendar where period.kind == "Schoolvakantie" && period.covers(day)
            && (period.location == nil || period.location == group.location) {
            let source = SchoolHolidaySource(name: period.description ?? "Schoolvakantie", origin: .kalender)
            if !sources.contains(source) { sources.append(source) }
        }
        return sources
    }

    /// What customer service must hear about the school holidays of `inputs`' locations over `days`: a
    /// location without a region, and a horizon past the last school year of the files.
    func schoolHolidayIssues(_ inputs: AttendanceInputs, days: ClosedRange<Day>) -> [Issue] {
        schoolHolidayIssues(locations: Set(inputs.groups.values.map(\.location.text)), days: days)
    }

    /// The same for the lists of `locations`.
    func schoolHolidayIssues(locations listed: Set<String>, days: ClosedRange<Day>) -> [Issue] {
        guard let settings = schoolHolidays.settings else { return [] }
        var issues: [Issue] = []
        let file = settings.files.last.map { ($0 as NSString).lastPathComponent }
        let locations = listed.filter { settings.region(of: $0) == nil }.sorted()
        if !locations.isEmpty {
            issues.append(Issue(.warning, "school-holiday-region-unknown", file: file, message:
                "voor \(locations.count == 1 ? "locatie" : "locaties") \(locations.joined(separator: ", ")) is geen schoolvakantieregio ingesteld; daar gelden alleen de vakanties voor heel Nederland en die uit de kalender van het planningssysteem"))
        }
        if let covered = schoolHolidays.coveredUntil, covered < days.upperBound {
            issues.append(Issue(.warning, "school-holidays-outdated", file: file, message:
                "het bestand met schoolvakanties loopt tot en met \(covered.dutch); de lijsten lopen tot en met \(days.upperBound.dutch). Download het bestand van het nieuwe schooljaar, anders staan kinderen met een contract voor schoolweken in de vakantie op de lijst"))
        }
        return issues
    }

    /// Whether a placement brings its child on `day` (contract, weekday, week parity, date range).
    func covers(_ placement: Placement, _ day: Day, schoolHoliday: Bool) -> TimeRange? {
        guard placement.runs(on: day), let hours = placement.hours(on: day), placement.weeks.includes(day) else { return nil }
        switch placement.contract {
        case "52 weken": return hours
        case "Schoolweken": return schoolHoliday ? nil : hours
        case "Vakantie": return schoolHoliday ? hours : nil
        default: return nil // Flexibel: only approved requests (deviations) bring the child.
        }
    }

    /// The lists of every group in `inputs` for every day of `days`, the days each group is closed and the
    /// issues found. Entries come ordered by group, date and child (byte order).
    func build(_ inputs: AttendanceInputs, days: ClosedRange<Day>) -> AttendanceLists {
        var lists = AttendanceLists()
        for code in inputs.groups.keys.sorted() {
            let list = build(inputs, group: code.text, days: days)
            lists.entries += list.entries
            lists.closed.merge(list.closed) { first, _ in first }
            lists.schoolHolidays.merge(list.schoolHolidays) { first, _ in first }
            lists.issues += list.issues
        }
        return lists
    }

    /// One group's lists for `days`, in date and child order (as the store keeps them); a large run builds
    /// and compares one group at a time rather than holding every list of every group at once.
    func build(_ inputs: AttendanceInputs, group code: String, days: ClosedRange<Day>) -> AttendanceLists {
        var lists = AttendanceLists()
        guard let group = inputs.groups[GroupCode(code)] else { return lists }
        // In byte order, so a merged day, its source and its warnings never depend on the order records were read.
        let placements = (inputs.placements[group.code] ?? []).sorted { $0.number.text.utf8.lexicographicallyPrecedes($1.number.text.utf8) }
        var overlaps: [[String]: (first: Day, days: Int)] = [:]
        let government = schoolHolidays.holidays(of: group.location.text, in: days)
        var day = days.lowerBound
        while day <= days.upperBound {
            defer { day = day.adding(days: 1) }
            let deviations = (inputs.deviations[group.code]?[day] ?? []).sorted { ($0.child, $0.kind) < ($1.child, $1.kind) }
            if let reason = closure(group, on: day, calendar: inputs.calendar) {
                lists.closed[GroupDay(group: group.code.text, date: day)] = reason
                // Dropped as before, but a parent who asked for the day must hear that it is off.
                for request in deviations where request.kind != "Afwezig" && inputs.activeChildren.contains(request.child) {
                    let why = holidays.holiday(on: day) != nil ? "feestdag: \(reason)" : "sluitingsdag van de locatie: \(reason)"
                    lists.issues.append(Issue(.warning, "request-on-closing-day", key: request.child.text, message:
                        "het verzoek (\(request.kind)) van kind \(request.child) voor groep \(group.code) op \(day.dutch) vervalt: de locatie is die dag gesloten (\(why)). Laat de ouder dit weten"))
                }
                continue
            }
            let sources = schoolHolidaySources(group, day, calendar: inputs.calendar, government: government)
            let schoolHoliday = !sources.isEmpty
            if schoolHoliday { lists.schoolHolidays[GroupDay(group: group.code.text, date: day)] = sources }
            var covering: [ChildNumber: [(number: PlacementNumber, hours: TimeRange)]] = [:]
            for placement in placements where inputs.activeChildren.contains(placement.child) {
                guard let hours = covers(placement, day, schoolHoliday: schoolHoliday) else { continue }
                covering[placement.child, default: []].append((placement.number, hours))
            }
            var list: [ChildNumber: AttendanceEntry] = [:]
            for (child, parts) in covering {
                let merged = AttendanceBuilder.union(parts.map(\.hours))
                var entry = AttendanceEntry(group: group.code.text, date: day, child: child.text, start: merged.hours.start, end: merged.hours.end,
                                            absent: false, reason: nil, source: parts.map(\.number.text).joined(separator: "+"))
                if parts.count > 1 {
                    // Two placements of one child in one group on one day: a mistake upstream, merged like an Extra dag.
                    for i in parts.indices { for j in parts.indices where j > i {
                        let key = [child.text, parts[i].number.text, parts[j].number.text]
                        overlaps[key] = overlaps[key].map { ($0.first, $0.days + 1) } ?? (day, 1)
                    } }
                    if merged.gap {
                        entry.reason = parts.map { "plaatsing \($0.number) \($0.hours)" }.joined(separator: " en ") + ", daartussen niet verwacht"
                    }
                }
                list[child] = entry
            }
            for request in deviations where request.kind != "Afwezig" && inputs.activeChildren.contains(request.child) {
                // Their own times, else the child's usual hours in this group on this weekday, else any.
                let own = placements.filter { $0.child == request.child }
                let usual = own.compactMap { $0.hours(on: day) }.first ?? own.lazy.flatMap { $0.hours.compactMap { $0 } }.first
                let start = request.from ?? usual?.start, end = request.to ?? usual?.end
                guard var entry = list[request.child] else {
                    list[request.child] = AttendanceEntry(group: group.code.text, date: day, child: request.child.text, start: start, end: end,
                                                          absent: false, reason: request.description, source: request.kind)
                    continue
                }
                // SPEC §4 "Lifecycle edges": an Extra dag on a contract day widens the day to the union of both.
                guard request.kind == "Extra dag", let extra = start.flatMap({ s in end.flatMap { TimeRange(start: s, end: $0) } }),
                      let current = entry.hours else { continue }
                let merged = AttendanceBuilder.union([current, extra])
                guard merged.hours != current else { continue }
                let detail = merged.gap ? "contract \(current) en extra dag \(extra), daartussen niet verwacht" : "verruimd met extra dag \(extra)"
                entry.start = merged.hours.start
                entry.end = merged.hours.end
                entry.source += "+Extra dag"
                entry.reason = ([entry.reason, detail, request.description].compactMap { $0 }).joined(separator: "; ")
                list[request.child] = entry
            }
            for absence in deviations where absence.kind == "Afwezig" {
                guard var entry = list[absence.child] else { continue }
                let why = absence.description ?? "afwezig"
                // A merged day keeps its note (which parts make it up) after the reason.
                let note = entry.source.contains("+") ? entry.reason : nil
                entry.reason = ([why, note].compactMap { $0 }).joined(separator: "; ")
                let away = absence.from.flatMap { from in absence.to.flatMap { TimeRange(start: from, end: $0) } }
                if let away, let hours = entry.hours, away.start <= hours.start, hours.end <= away.end {
                    entry.absent = true
                } else if let away {
                    // Part of the day: the child is expected the rest of it. Only the hours within the day count.
                    entry.absentHours = entry.hours.flatMap { TimeRange(start: max($0.start, away.start), end: min($0.end, away.end)) } ?? away
                } else {
                    entry.absent = true
                }
                list[absence.child] = entry
            }
            // Byte order, as SQLite sorts text: the store's diff merges the two sequences.
            lists.entries += list.values.sorted { $0.child.utf8.lexicographicallyPrecedes($1.child.utf8) }
        }
        for (key, seen) in overlaps.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            lists.issues.append(Issue(.warning, "overlapping-placements", key: key[0], message:
                "kind \(key[0]) heeft in groep \(group.code) twee plaatsingen die elkaar overlappen: \(key[1]) en \(key[2]) gelden allebei op \(seen.days) \(seen.days == 1 ? "dag" : "dagen") vanaf \(seen.first.dutch); de aanwezigheidslijst voegt hun tijden samen. Controleer de plaatsingen in het planningssysteem"))
        }
        return lists
    }

    /// The union of care hours on one day: one range when they touch or overlap, else the earliest start to
    /// the latest end with `gap` set (the entry's reason then names each part).
    static func union(_ ranges: [TimeRange]) -> (hours: TimeRange, gap: Bool) {
        let sorted = ranges.sorted { ($0.start, $0.end) < ($1.start, $1.end) }
        guard var reach = sorted.first?.end, let first = sorted.first else { preconditionFailure("union of no ranges") }
        var gap = false
        for range in sorted.dropFirst() {
            if range.start > reach { gap = true }
            reach = max(reach, range.end)
        }
        return (TimeRange(start: first.start, end: reach) ?? first, gap)
    }
}

/// A group on a day.
public struct GroupDay: Hashable, Sendable, Comparable {
    public let group: String
    public let date: Day

    public static func < (lhs: GroupDay, rhs: GroupDay) -> Bool {
        lhs.group != rhs.group ? lhs.group < rhs.group : lhs.date < rhs.date
    }
}
