/// A clock time `HH:MM` within one day, as minutes since midnight.
public struct TimeOfDay: Hashable, Comparable, Sendable, CustomStringConvertible {
    // Two bytes: a night's attendance lists hold millions of times.
    private let storedMinutes: Int16
    public var minutes: Int { Int(storedMinutes) }

    public init?(hour: Int, minute: Int) {
        guard (0...24).contains(hour), (0...59).contains(minute), hour * 60 + minute <= 24 * 60 else { return nil }
        storedMinutes = Int16(hour * 60 + minute)
    }

    /// Parses `H:MM` or `HH:MM` (also `HH.MM`, which Dutch spreadsheets write).
    public init?(_ text: Substring) {
        let bytes = Array(text.utf8)
        guard let colon = bytes.firstIndex(where: { $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ".") }),
              (1...2).contains(colon), bytes.count - colon - 1 == 2 else { return nil }
        var hour = 0, minute = 0
        for byte in bytes[..<colon] {
            guard byte >= 48, byte <= 57 else { return nil }
            hour = hour * 10 + Int(byte - 48)
        }
        for byte in bytes[(colon + 1)...] {
            guard byte >= 48, byte <= 57 else { return nil }
            minute = minute * 10 + Int(byte - 48)
        }
        self.init(hour: hour, minute: minute)
    }

    public static func < (lhs: TimeOfDay, rhs: TimeOfDay) -> Bool { lhs.minutes < rhs.minutes }

    public var description: String {
        let hour = minutes / 60, minute = minutes % 60
        return (hour < 10 ? "0" : "") + String(hour) + ":" + (minute < 10 ? "0" : "") + String(minute)
    }
}

/// Care hours on one day, `HH:MM-HH:MM`, start before end.
public struct TimeRange: Hashable, Sendable, CustomStringConvertible {
    public let start: TimeOfDay
    public let end: TimeOfDay

    public init?(start: TimeOfDay, end: TimeOfDay) {
        guard start < end else { return nil }
        self.start = start
        self.end = end
    }

    /// Parses `07:30-18:00` (spaces around the dash allowed).
    public init?(_ text: String) {
        let halves = text.split(separator: "-", omittingEmptySubsequences: false)
        guard halves.count == 2,
              let start = TimeOfDay(halves[0].trimmingSpaces),
              let end = TimeOfDay(halves[1].trimmingSpaces) else { return nil }
        self.init(start: start, end: end)
    }

    public var description: String { "\(start)-\(end)" }
}

extension Substring {
    var trimmingSpaces: Substring {
        var result = self
        while let first = result.first, first == " " || first == "\t" { result = result.dropFirst() }
        while let last = result.last, last == " " || last == "\t" { result = result.dropLast() }
        return result
    }
}

/// A time layout such as `HH:MM` (the default) or `HH:MM:SS`, parsed by hand.
///
/// Parts: `HH` or `UU` (hour; one digit allowed before a separator), `MM` (minute), optionally `SS`
/// (second), and separators; `:` and `.` stand for each other, as Dutch spreadsheets write both. The
/// portal keeps whole minutes, so seconds must be `00`.
public struct TimePattern: Sendable, Equatable {
    enum Part: Sendable, Equatable {
        case hour, minute, second
        case separator(UInt8)
    }

    let parts: [Part]
    /// The layout as written in the mapping file.
    public let text: String

    public static let standard = TimePattern(parts: [.hour, .separator(UInt8(ascii: ":")), .minute], text: "HH:MM")

    private init(parts: [Part], text: String) {
        self.parts = parts
        self.text = text
    }

    public struct PatternError: Error, Sendable {
        public let reason: String
    }

    public init(_ text: String) throws(PatternError) {
        let usage = "use HH (or UU), MM and optionally SS with separators, e.g. \"HH:MM\" or \"HH:MM:SS\""
        let bytes = Array(text.uppercased().utf8)
        var parts: [Part] = []
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            var end = index
            while end < bytes.count, bytes[end] == byte { end += 1 }
            let length = end - index
            switch byte {
            case UInt8(ascii: "H"), UInt8(ascii: "U"):
                guard length <= 2 else { throw PatternError(reason: usage) }
                parts.append(.hour)
            case UInt8(ascii: "M"):
                guard length == 2 else { throw PatternError(reason: usage) }
                parts.append(.minute)
            case UInt8(ascii: "S"):
                guard length == 2 else { throw PatternError(reason: usage) }
                parts.append(.second)
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), 0..<0x20, 0x7F:
                // A dash separates the two times of a range; it cannot be inside one.
                throw PatternError(reason: usage)
            default:
                guard length == 1 else { throw PatternError(reason: usage) }
                parts.append(.separator(byte))
            }
            index = end
        }
        let fields = parts.filter { if case .separator = $0 { return false } else { return true } }
        guard fields == [.hour, .minute] || fields == [.hour, .minute, .second], parts.first == .hour,
              parts.last.map({ if case .separator = $0 { return false } else { return true } }) == true else {
            throw PatternError(reason: "a time layout is an hour, then minutes, then optionally seconds; " + usage)
        }
        self.parts = parts
        self.text = text
    }

    /// Whether the layout has seconds.
    public var hasSeconds: Bool { parts.contains(.second) }

    /// The layout as a Dutch reader writes it (`UU:MM`: uren, minuten).
    public var dutch: String { text.uppercased().replacingOccurrences(of: "H", with: "U") }

    /// What a message says is expected.
    public var expected: String { hasSeconds ? "\(dutch) (hele minuten: seconden 00)" : dutch }

    /// Parses one time (already trimmed of white space).
    public func parse(_ text: Substring) -> TimeOfDay? {
        let bytes = Array(text.utf8)
        var index = 0
        var hour = 0, minute = 0, second = 0
        func isSeparator(_ byte: UInt8) -> Bool { byte == UInt8(ascii: ":") || byte == UInt8(ascii: ".") }
        for (position, part) in parts.enumerated() {
            switch part {
            case .separator(let expected):
                guard index < bytes.count else { return nil }
                let byte = bytes[index]
                guard byte == expected || (isSeparator(expected) && isSeparator(byte)) else { return nil }
                index += 1
            case .hour, .minute, .second:
                let separated: Bool
                if position + 1 < parts.count, case .separator = parts[position + 1] { separated = true } else { separated = false }
                let minDigits = part == .hour && separated ? 1 : 2
                var value = 0, digits = 0
                while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57, digits < 2 {
                    value = value * 10 + Int(bytes[index] - 48)
                    digits += 1
                    index += 1
                }
                guard digits >= minDigits else { return nil }
                switch part {
                case .hour: hour = value
                case .minute: minute = value
                default: second = value
                }
            }
        }
        guard index == bytes.count, second == 0 else { return nil }
        return TimeOfDay(hour: hour, minute: minute)
    }

    /// Parses care hours `start-end` (spaces around the dash allowed), start before end.
    public func parseRange(_ text: String) -> TimeRange? {
        let halves = text.split(separator: "-", omittingEmptySubsequences: false)
        guard halves.count == 2, let start = parse(halves[0].trimmingSpaces), let end = parse(halves[1].trimmingSpaces) else { return nil }
        return TimeRange(start: start, end: end)
    }
}
