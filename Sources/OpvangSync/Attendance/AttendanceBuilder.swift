/// One child on one group's list for one day.
public struct AttendanceEntry: Sendable, Equatable {
    public let group: String
    public let date: Day
    public let child: String
    public var start: TimeOfDay?
    public var end: TimeOfDay?
    /// On the list, but reported absent (`Afwezig`), with the reason.
    public var absent: Bool
    public var reason: String?
    /// Where the child's presence comes from: a Plaatsingsnummer, `Extra dag` or `Ruildag`.
    public var source: String

    var times: String {
        guard let start, let end else { return "" }
        return "\(start)-\(end)"
    }
}

/// SPEC §4 "Attendance lists": who is expected in each group on each day.
public struct AttendanceBuilder {
    public let holidays: HolidayCalendar

    public init(holidays: HolidayCalendar) { self.holidays = holidays }

    /// Why the group's location is closed on `day`, or nil when it is open.
    func closure(_ group: AttendanceInputs.Group, on day: Day, calendar: [AttendanceInputs.Period]) -> String? {
        if let holiday = holidays.holiday(on: day) { return holiday.name }
        for period in calendar where period.kind == "Sluitingsdag" && period.from <= day && day <= period.to
            && (period.location == nil || period.location == group.location) {
            return period.description ?? "Sluitingsdag"
        }
        return nil
    }

    func isSchoolHoliday(_ group: AttendanceInputs.Group, _ day: Day, calendar: [AttendanceInputs.Period]) -> Bool {
        calendar.contains { $0.kind == "Schoolvakantie" && $0.from <= day && day <= $0.to && ($0.location == nil || $0.location == group.location) }
    }

    /// Whether a placement brings its child on `day` (contract, weekday, week parity, date range).
    func covers(_ placement: AttendanceInputs.Placement, _ day: Day, schoolHoliday: Bool) -> TimeRange? {
        guard placement.start <= day, placement.end.map({ day <= $0 }) ?? true else { return nil }
        guard let hours = placement.hours[day.isoWeekday - 1] else { return nil }
        switch placement.weeks {
        case "even": guard day.isoWeek % 2 == 0 else { return nil }
        case "oneven": guard day.isoWeek % 2 == 1 else { return nil }
        default: break
        }
        switch placement.contract {
        case "52 weken": return hours
        case "Schoolweken": return schoolHoliday ? nil : hours
        case "Vakantie": return schoolHoliday ? hours : nil
        default: return nil // Flexibel: only approved requests (deviations) bring the child.
        }
    }

    /// The lists of every group in `inputs` for every day of `days`, and the days each group is closed.
    /// Entries come ordered by group, date and child (byte order).
    func build(_ inputs: AttendanceInputs, days: ClosedRange<Day>) -> (entries: [AttendanceEntry], closed: [GroupDay: String]) {
        var entries: [AttendanceEntry] = []
        var closed: [GroupDay: String] = [:]
        for code in inputs.groups.keys.sorted() {
            let list = build(inputs, group: code, days: days)
            entries += list.entries
            closed.merge(list.closed) { first, _ in first }
        }
        return (entries, closed)
    }

    /// One group's lists for `days`, in date and child order (as the store keeps them); a large run builds
    /// and compares one group at a time rather than holding every list of every group at once.
    func build(_ inputs: AttendanceInputs, group code: String, days: ClosedRange<Day>) -> (entries: [AttendanceEntry], closed: [GroupDay: String]) {
        var entries: [AttendanceEntry] = []
        var closed: [GroupDay: String] = [:]
        if let group = inputs.groups[code] {
            let placements = inputs.placements[group.code] ?? []
            var day = days.lowerBound
            while day <= days.upperBound {
                defer { day = day.adding(days: 1) }
                if let reason = closure(group, on: day, calendar: inputs.calendar) {
                    closed[GroupDay(group: group.code, date: day)] = reason
                    continue
                }
                let schoolHoliday = isSchoolHoliday(group, day, calendar: inputs.calendar)
                var list: [String: AttendanceEntry] = [:]
                for placement in placements where inputs.activeChildren.contains(placement.child) && list[placement.child] == nil {
                    guard let hours = covers(placement, day, schoolHoliday: schoolHoliday) else { continue }
                    list[placement.child] = AttendanceEntry(group: group.code, date: day, child: placement.child, start: hours.start,
                                                            end: hours.end, absent: false, reason: nil, source: placement.number)
                }
                let deviations = inputs.deviations[group.code]?[day] ?? []
                for deviation in deviations where deviation.kind != "Afwezig" && inputs.activeChildren.contains(deviation.child) {
                    guard list[deviation.child] == nil else { continue }
                    // Their own times, else the child's usual hours in this group on this weekday, else any.
                    let own = placements.filter { $0.child == deviation.child }
                    let usual = own.compactMap { $0.hours[day.isoWeekday - 1] }.first ?? own.lazy.flatMap { $0.hours.compactMap { $0 } }.first
                    list[deviation.child] = AttendanceEntry(group: group.code, date: day, child: deviation.child,
                                                            start: deviation.from ?? usual?.start, end: deviation.to ?? usual?.end,
                                                            absent: false, reason: deviation.description, source: deviation.kind)
                }
                for deviation in deviations where deviation.kind == "Afwezig" {
                    guard var entry = list[deviation.child] else { continue }
                    entry.absent = true
                    entry.reason = deviation.description ?? "afwezig"
                    list[deviation.child] = entry
                }
                // Byte order, as SQLite sorts text: the store's diff merges the two sequences.
                entries += list.values.sorted { $0.child.utf8.lexicographicallyPrecedes($1.child.utf8) }
            }
        }
        return (entries, closed)
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
