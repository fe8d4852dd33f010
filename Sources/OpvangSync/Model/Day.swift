import Foundation

/// A calendar day (no time, no zone): what every date rule of the domain is about.
///
/// Arithmetic goes through a day number (days since 1970-01-01), so "six weeks before" and
/// "24 months after" are exact and never shift with daylight-saving time.
public struct Day: Hashable, Comparable, Sendable, CustomStringConvertible {
    // Four bytes in all: a night's attendance lists hold millions of days.
    private let storedYear: Int16
    private let storedMonth: UInt8
    private let storedDay: UInt8

    public var year: Int { Int(storedYear) }
    public var month: Int { Int(storedMonth) }
    public var day: Int { Int(storedDay) }

    /// Creates a day, or nil when the date does not exist (31-04, 29-02 outside leap years).
    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month),
              day >= 1, day <= Day.daysInMonth(year: year, month: month) else { return nil }
        self.init(unchecked: year, month, day)
    }

    private init(unchecked year: Int, _ month: Int, _ day: Int) {
        storedYear = Int16(truncatingIfNeeded: year)
        storedMonth = UInt8(truncatingIfNeeded: month)
        storedDay = UInt8(truncatingIfNeeded: day)
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

    public static func < (lhs: Day, rhs: Day) -> Bool {
        (lhs.storedYear, lhs.storedMonth, lhs.storedDay) < (rhs.storedYear, rhs.storedMonth, rhs.storedDay)
    }

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

/// A date layout such as `dd-mm-jjjj`, `d-m-jjjj` or `jjjj-mm-dd`, parsed by hand (no DateFormatter).
///
/// Parts: `d`/`dd` (day), `m`/`mm` (month), `jjjj`/`yyyy` (year), `jj`/`yy` (a two-digit year, which needs
/// a pivot), and single separator characters. A day or month next to a separator may be written with one
/// digit (`3-2-2025` for `dd-mm-jjjj`); without a separator `dd` and `mm` take exactly two.
public struct DatePattern: Sendable, Equatable {
    enum Part: Sendable, Equatable {
        case day, month, year
        /// A two-digit year.
        case shortYear
        case separator(UInt8)
    }

    let parts: [Part]
    /// The pattern as written in the mapping file.
    public let text: String
    /// With a two-digit year: the first year of the hundred years it can mean (1950: `49` is 2049, `50` is 1950).
    public let pivot: Int?

    public static let iso = DatePattern(validated: "yyyy-mm-dd")
    public static let dutch = DatePattern(validated: "dd-mm-jjjj")

    private init(validated text: String) {
        // Only called with literals known to be valid.
        self = (try? DatePattern(text)) ?? DatePattern(parts: [], text: text, pivot: nil)
    }

    private init(parts: [Part], text: String, pivot: Int?) {
        self.parts = parts
        self.text = text
        self.pivot = pivot
    }

    /// Why a pattern cannot be used.
    public struct PatternError: Error, Sendable {
        public let reason: String
    }

    /// Parses a layout; a two-digit year (`jj`) needs `pivot`, and a pivot needs a two-digit year.
    public init(_ text: String, pivot: Int? = nil) throws(PatternError) {
        var parts: [Part] = []
        let lower = Array(text.lowercased().utf8)
        var index = 0
        func run(of byte: UInt8) -> Int {
            var end = index
            while end < lower.count, lower[end] == byte { end += 1 }
            return end - index
        }
        let letters = "use d or dd, m or mm, and jjjj (or yyyy) or jj (or yy), with separators, e.g. \"d-m-jjjj\""
        while index < lower.count {
            let byte = lower[index]
            let length = run(of: byte)
            switch byte {
            case UInt8(ascii: "d"), UInt8(ascii: "m"):
                guard length <= 2 else { throw PatternError(reason: letters) }
                parts.append(byte == UInt8(ascii: "d") ? .day : .month)
                if length == 1 { parts.append(.separator(0)) } // marks a one-letter part, removed below
                index += length
            case UInt8(ascii: "y"), UInt8(ascii: "j"):
                guard length == 4 || length == 2 else { throw PatternError(reason: letters) }
                parts.append(length == 4 ? .year : .shortYear)
                index += length
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), 0..<0x20, 0x7F:
                throw PatternError(reason: letters)
            default:
                parts.append(.separator(byte)); index += 1
            }
        }
        // A one-letter day or month has no fixed width: a separator must end it, or it must end the layout.
        var cleaned: [Part] = []
        for (position, part) in parts.enumerated() {
            if part == .separator(0) {
                let next = position + 1 < parts.count ? parts[position + 1] : nil
                if let next, case .separator = next {} else if next != nil {
                    throw PatternError(reason: "a one-letter d or m has no fixed width, so a separator must follow it (\"d-m-jjjj\", not \"dmjjjj\")")
                }
                continue
            }
            cleaned.append(part)
        }
        let fields = cleaned.filter { if case .separator = $0 { return false } else { return true } }
        let kinds = Set(fields.map { $0 == .shortYear ? "\(Part.year)" : "\($0)" })
        guard fields.count == 3, kinds.count == 3 else {
            throw PatternError(reason: "a date layout has one day, one month and one year; " + letters)
        }
        let hasShortYear = fields.contains(.shortYear)
        if hasShortYear, pivot == nil {
            throw PatternError(reason: "a two-digit year (jj) needs \"yearPivot\": the first year it can mean, e.g. 1950 (then 49 is 2049 and 50 is 1950)")
        }
        if !hasShortYear, pivot != nil {
            throw PatternError(reason: "\"yearPivot\" is only for a layout with a two-digit year (jj)")
        }
        if let pivot, !(1000...9899).contains(pivot) {
            throw PatternError(reason: "\"yearPivot\" must be a four-digit year")
        }
        self.parts = cleaned
        self.text = text
        self.pivot = pivot
    }

    /// Parses `text` (already trimmed).
    public func parse(_ text: String) -> Day? {
        var bytes = text.utf8.makeIterator()
        var pending = bytes.next()
        var year = 0, month = 0, day = 0
        for (position, part) in parts.enumerated() {
            switch part {
            case .separator(let expected):
                guard pending == expected else { return nil }
                pending = bytes.next()
            case .day, .month, .year, .shortYear:
                let maxDigits = part == .year ? 4 : 2
                // Next to a separator (before it, or after it at the end), a day or month may have one digit.
                let separated: Bool
                if position + 1 < parts.count {
                    if case .separator = parts[position + 1] { separated = true } else { separated = false }
                } else if position > 0, case .separator = parts[position - 1] {
                    separated = true
                } else {
                    separated = false
                }
                var value = 0, digits = 0
                while let byte = pending, byte >= 48, byte <= 57, digits < maxDigits {
                    value = value * 10 + Int(byte - 48)
                    digits += 1
                    pending = bytes.next()
                }
                let minDigits = (part == .day || part == .month) && separated ? 1 : maxDigits
                guard digits >= minDigits else { return nil }
                switch part {
                case .day: day = value
                case .month: month = value
                case .shortYear:
                    guard let pivot else { return nil }
                    var full = pivot / 100 * 100 + value
                    if full < pivot { full += 100 }
                    year = full
                default: year = value
                }
            }
        }
        guard pending == nil else { return nil }
        return Day(year: year, month: month, day: day)
    }
}
