import Foundation

/// A calendar day (no time, no zone): what every date rule of the domain is about.
///
/// Arithmetic goes through a day number (days since 1970-01-01), so "six weeks before" and
/// "24 months after" are exact and never shift with daylight-saving time.
public struct Day: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    /// Creates a day, or nil when the date does not exist (31-04, 29-02 outside leap years).
    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month),
              day >= 1, day <= Day.daysInMonth(year: year, month: month) else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    private init(unchecked year: Int, _ month: Int, _ day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    public static func isLeapYear(_ year: Int) -> Bool {
        (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
    }

    public static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: return isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 (Howard Hinnant's days_from_civil).
    public var dayNumber: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146097 + dayOfEra - 719468
    }

    /// The day with the given day number (inverse of `dayNumber`).
    public init(dayNumber: Int) {
        let z = dayNumber + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let dayOfEra = z - era * 146097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let d = dayOfYear - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        self.init(unchecked: yearOfEra + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    public func adding(days: Int) -> Day { Day(dayNumber: dayNumber + days) }

    /// Adds calendar months; a day past the end of the target month becomes its last day (29-02 + 24 months = 28-02).
    public func adding(months: Int) -> Day {
        let total = year * 12 + (month - 1) + months
        let newYear = total / 12
        let newMonth = total % 12 + 1
        return Day(unchecked: newYear, newMonth, min(day, Day.daysInMonth(year: newYear, month: newMonth)))
    }

    public func days(until other: Day) -> Int { other.dayNumber - dayNumber }

    /// ISO weekday: 1 = Monday ... 7 = Sunday.
    public var isoWeekday: Int {
        // 1970-01-01 was a Thursday (4).
        let offset = (dayNumber % 7 + 7) % 7
        return (offset + 3) % 7 + 1
    }

    /// ISO 8601 week number (1...53).
    public var isoWeek: Int {
        let thursday = adding(days: 4 - isoWeekday)
        let firstOfYear = Day(unchecked: thursday.year, 1, 1)
        return firstOfYear.days(until: thursday) / 7 + 1
    }

    public static func < (lhs: Day, rhs: Day) -> Bool { lhs.dayNumber < rhs.dayNumber }

    /// `jjjj-mm-dd`, the form stored in the database and written in JSON reports.
    public var iso: String {
        Day.digits(year, 4) + "-" + Day.digits(month, 2) + "-" + Day.digits(day, 2)
    }

    /// `dd-mm-jjjj`, the form Dutch readers expect.
    public var dutch: String {
        Day.digits(day, 2) + "-" + Day.digits(month, 2) + "-" + Day.digits(year, 4)
    }

    /// Zero-padded decimal; hand-written because `String(format:)` is slow on hot paths.
    static func digits(_ value: Int, _ width: Int) -> String {
        var bytes = [UInt8](repeating: UInt8(ascii: "0"), count: width)
        var rest = value
        var index = width - 1
        while index >= 0, rest > 0 {
            bytes[index] = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
            index -= 1
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    public var description: String { iso }

    /// Parses `jjjj-mm-dd`.
    public init?(iso text: String) {
        guard let parsed = DatePattern.iso.parse(text) else { return nil }
        self = parsed
    }

    /// Today in Europe/Amsterdam, the organisation's day.
    public static func today(in timeZone: TimeZone = TimeZone(identifier: "Europe/Amsterdam") ?? .current,
                             now: Date = Date()) -> Day {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.year, .month, .day], from: now)
        return Day(year: parts.year ?? 1970, month: parts.month ?? 1, day: parts.day ?? 1)
            ?? Day(dayNumber: 0)
    }
}

/// A date layout such as `dd-mm-jjjj` or `yyyy-mm-dd`, parsed by hand (no DateFormatter).
public struct DatePattern: Sendable, Equatable {
    enum Part: Sendable, Equatable {
        case day, month, year
        case separator(UInt8)
    }

    let parts: [Part]
    /// The pattern as written in the mapping file.
    public let text: String

    public static let iso = DatePattern(validated: "yyyy-mm-dd")
    public static let dutch = DatePattern(validated: "dd-mm-jjjj")

    private init(validated text: String) {
        // Only called with literals known to be valid.
        self = (try? DatePattern(text)) ?? DatePattern(parts: [], text: text)
    }

    private init(parts: [Part], text: String) {
        self.parts = parts
        self.text = text
    }

    /// Parses a pattern made of `dd`, `mm`, `yyyy` (or Dutch `jjjj`) and single separator characters.
    public init(_ text: String) throws {
        var parts: [Part] = []
        let lower = Array(text.lowercased().utf8)
        var index = 0
        func run(of byte: UInt8) -> Int {
            var end = index
            while end < lower.count, lower[end] == byte { end += 1 }
            return end - index
        }
        while index < lower.count {
            let byte = lower[index]
            switch byte {
            case UInt8(ascii: "d"):
                guard run(of: byte) == 2 else { throw PatternError(text: text) }
                parts.append(.day); index += 2
            case UInt8(ascii: "m"):
                guard run(of: byte) == 2 else { throw PatternError(text: text) }
                parts.append(.month); index += 2
            case UInt8(ascii: "y"), UInt8(ascii: "j"):
                guard run(of: byte) == 4 else { throw PatternError(text: text) }
                parts.append(.year); index += 4
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                throw PatternError(text: text)
            default:
                parts.append(.separator(byte)); index += 1
            }
        }
        let fields = parts.filter { if case .separator = $0 { return false } else { return true } }
        guard fields.count == 3, Set(fields.map { "\($0)" }).count == 3 else { throw PatternError(text: text) }
        self.parts = parts
        self.text = text
    }

    struct PatternError: Error { let text: String }

    /// Parses `text` (already trimmed). Day and month may have one digit (`3-2-2025`) when separated.
    public func parse(_ text: String) -> Day? {
        var bytes = text.utf8.makeIterator()
        var pending = bytes.next()
        var year = 0, month = 0, day = 0
        for (position, part) in parts.enumerated() {
            switch part {
            case .separator(let expected):
                guard pending == expected else { return nil }
                pending = bytes.next()
            case .day, .month, .year:
                let maxDigits = part == .year ? 4 : 2
                let nextIsSeparator = position + 1 < parts.count
                var value = 0, digits = 0
                while let byte = pending, byte >= 48, byte <= 57, digits < maxDigits {
                    value = value * 10 + Int(byte - 48)
                    digits += 1
                    pending = bytes.next()
                }
                let minDigits = part == .year ? 4 : (nextIsSeparator || position > 0 ? 1 : 2)
                guard digits >= minDigits else { return nil }
                switch part {
                case .day: day = value
                case .month: month = value
                default: year = value
                }
            }
        }
        guard pending == nil else { return nil }
        return Day(year: year, month: month, day: day)
    }
}
