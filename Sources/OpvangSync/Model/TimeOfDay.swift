/// A clock time `HH:MM` within one day, as minutes since midnight.
public struct TimeOfDay: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let minutes: Int

    public init?(hour: Int, minute: Int) {
        guard (0...24).contains(hour), (0...59).contains(minute), hour * 60 + minute <= 24 * 60 else { return nil }
        minutes = hour * 60 + minute
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
