/// Attendance entries kept compactly until they are written: the rows a run will store.
///
/// A first import writes every entry of the horizon (821,000 at 100,000 children, eight million at a
/// million). As `AttendanceEntry` values they took 150 bytes each, and an array grown by doubling held one and
/// a half times that at its peak. Here an entry is 32 bytes: its texts (group, child, source, reason) are
/// numbered once per run in a table of their own, and the rows are kept in fixed-size blocks, so growing never
/// copies what is already held.
struct AttendanceRows: RandomAccessCollection {
    private struct Packed {
        var group: UInt32
        var child: UInt32
        var source: UInt32
        /// 0 for none, otherwise the text's number plus one.
        var reason: UInt32
        var day: Int32
        /// Minutes since midnight; -1 for none.
        var start: Int16
        var end: Int16
        var awayStart: Int16
        var awayEnd: Int16
        var absent: Bool
    }

    private static let blockShift = 14
    private static let blockSize = 1 << blockShift

    private var blocks: [[Packed]] = []
    private var texts = NumberedTexts()
    /// The last group appended: entries come group by group, so most appends find their group here.
    private var lastGroup: (text: String, number: UInt32)?

    private(set) var count = 0

    init() {}

    var startIndex: Int { 0 }
    var endIndex: Int { count }

    subscript(position: Int) -> AttendanceEntry {
        precondition(position >= 0 && position < count, "attendance row out of range")
        let packed = blocks[position >> Self.blockShift][position & (Self.blockSize - 1)]
        let away = packed.awayStart < 0 ? nil : TimeRange(unchecked: TimeOfDay(minutes: packed.awayStart), TimeOfDay(minutes: packed.awayEnd))
        return AttendanceEntry(group: texts[packed.group], date: Day(dayNumber: Int(packed.day)), child: texts[packed.child],
                               start: packed.start < 0 ? nil : TimeOfDay(minutes: packed.start),
                               end: packed.end < 0 ? nil : TimeOfDay(minutes: packed.end), absent: packed.absent,
                               absentHours: away, reason: packed.reason == 0 ? nil : texts[packed.reason - 1],
                               source: texts[packed.source])
    }

    mutating func append(_ entry: AttendanceEntry) {
        let group: UInt32
        if let lastGroup, lastGroup.text == entry.group {
            group = lastGroup.number
        } else {
            group = number(entry.group)
            lastGroup = (entry.group, group)
        }
        let packed = Packed(group: group, child: number(entry.child), source: number(entry.source),
                            reason: entry.reason.map { number($0) + 1 } ?? 0, day: Int32(entry.date.dayNumber),
                            start: entry.start.map { Int16($0.minutes) } ?? -1, end: entry.end.map { Int16($0.minutes) } ?? -1,
                            awayStart: entry.absentHours.map { Int16($0.start.minutes) } ?? -1,
                            awayEnd: entry.absentHours.map { Int16($0.end.minutes) } ?? -1, absent: entry.absent)
        if count & (Self.blockSize - 1) == 0 {
            blocks.append([])
            blocks[blocks.count - 1].reserveCapacity(Self.blockSize)
        }
        blocks[blocks.count - 1].append(packed)
        count += 1
    }

    mutating func append<S: Sequence>(contentsOf entries: S) where S.Element == AttendanceEntry {
        for entry in entries { append(entry) }
    }

    private mutating func number(_ text: String) -> UInt32 { texts.number(text) }
}

extension TimeOfDay {
    /// A time this program stored itself, so known to be valid.
    fileprivate init(minutes: Int16) {
        self.init(hour: Int(minutes) / 60, minute: Int(minutes) % 60)!
    }
}

extension TimeRange {
    fileprivate init(unchecked start: TimeOfDay, _ end: TimeOfDay) {
        self.init(start: start, end: end)!
    }
}

/// The days of the lists whose state is to be written: per group and date, why the group is closed and where
/// a school holiday comes from (Dutch), either of them nil. A first import writes every day of every group's
/// horizon: as a table keyed by group and date, with two optional texts each, that was 56 bytes an entry
/// and a third more for the table. Here a day is 16 bytes: the group and the texts are numbered, in tables of
/// their own, and the days are kept in the order they were set.
struct AttendanceDays: Sequence {
    private struct Packed {
        var group: Int32
        var day: Int32
        /// -1 for none, otherwise the text's number.
        var closed: Int32
        var schoolHoliday: Int32
    }

    private var entries: [Packed] = []
    private var groups: [String] = []
    private var texts = NumberedTexts()

    var count: Int { entries.count }

    /// Sets the state of one group's day. The days are set group by group, each day once: a day set twice
    /// is written twice, the later state last.
    mutating func set(_ key: GroupDay, closed: String?, schoolHoliday: String?) {
        if groups.last != key.group { groups.append(key.group) }
        let closed = closed.map { number($0) } ?? -1, schoolHoliday = schoolHoliday.map { number($0) } ?? -1
        entries.append(Packed(group: Int32(groups.count - 1), day: Int32(key.date.dayNumber), closed: closed, schoolHoliday: schoolHoliday))
    }

    /// The state set for `key`, the later one of a day set twice; nil when it was not set. A walk over every
    /// day: for checks, not for a loop.
    subscript(key: GroupDay) -> (closed: String?, schoolHoliday: String?)? {
        guard let found = entries.last(where: { groups[Int($0.group)] == key.group && $0.day == Int32(key.date.dayNumber) }) else { return nil }
        return state(found)
    }

    mutating func append(contentsOf other: AttendanceDays) {
        for (key, state) in other { set(key, closed: state.closed, schoolHoliday: state.schoolHoliday) }
    }

    func makeIterator() -> some IteratorProtocol<(key: GroupDay, state: (closed: String?, schoolHoliday: String?))> {
        entries.lazy.map { packed in
            (key: GroupDay(group: groups[Int(packed.group)], date: Day(dayNumber: Int(packed.day))), state: state(packed))
        }.makeIterator()
    }

    private func state(_ packed: Packed) -> (closed: String?, schoolHoliday: String?) {
        (packed.closed < 0 ? nil : texts[UInt32(packed.closed)], packed.schoolHoliday < 0 ? nil : texts[UInt32(packed.schoolHoliday)])
    }

    private mutating func number(_ text: String) -> Int32 { Int32(texts.number(text)) }
}

/// Texts numbered once each, in the order they first came: what the packed attendance rows and days hold
/// instead of the texts themselves.
private struct NumberedTexts {
    private var texts: [String] = []
    private var numbers: [String: UInt32] = [:]

    subscript(number: UInt32) -> String { texts[Int(number)] }

    mutating func number(_ text: String) -> UInt32 {
        if let known = numbers[text] { return known }
        let new = UInt32(texts.count)
        texts.append(text)
        numbers[text] = new
        return new
    }
}
