/// The Dutch national holidays on which childcare closes (SPEC §4), computed, not listed by hand.
public enum DutchHoliday: String, CaseIterable, Sendable, Codable {
    case nieuwjaarsdag, tweedePaasdag, koningsdag, bevrijdingsdag, hemelvaartsdag, tweedePinksterdag
    case eersteKerstdag, tweedeKerstdag

    /// The Dutch name, as staff read it on the attendance list.
    public var name: String {
        switch self {
        case .nieuwjaarsdag: return "Nieuwjaarsdag"
        case .tweedePaasdag: return "Tweede paasdag"
        case .koningsdag: return "Koningsdag"
        case .bevrijdingsdag: return "Bevrijdingsdag"
        case .hemelvaartsdag: return "Hemelvaartsdag"
        case .tweedePinksterdag: return "Tweede pinksterdag"
        case .eersteKerstdag: return "Eerste kerstdag"
        case .tweedeKerstdag: return "Tweede kerstdag"
        }
    }

    /// The day in `year`, or nil when it is no closing day that year (Bevrijdingsdag outside lustrum years).
    public func day(in year: Int) -> Day? {
        let easter = DutchHoliday.easter(year)
        switch self {
        case .nieuwjaarsdag: return Day(year: year, month: 1, day: 1)
        case .tweedePaasdag: return easter.adding(days: 1)
        case .koningsdag:
            // 27 April, or the 26th when the 27th is a Sunday.
            guard let twentySeventh = Day(year: year, month: 4, day: 27) else { return nil }
            return twentySeventh.isoWeekday == 7 ? twentySeventh.adding(days: -1) : twentySeventh
        case .bevrijdingsdag: return year % 5 == 0 ? Day(year: year, month: 5, day: 5) : nil
        case .hemelvaartsdag: return easter.adding(days: 39)
        case .tweedePinksterdag: return easter.adding(days: 50)
        case .eersteKerstdag: return Day(year: year, month: 12, day: 25)
        case .tweedeKerstdag: return Day(year: year, month: 12, day: 26)
        }
    }

    /// Easter Sunday by the anonymous Gregorian computus (Meeus/Jones/Butcher).
    public static func easter(_ year: Int) -> Day {
        let a = year % 19, b = year / 100, c = year % 100
        let d = b / 4, e = b % 4, f = (b + 8) / 25, g = (b - f + 1) / 3
        let h = (19 * a + b - d - g + 15) % 30
        let i = c / 4, k = c % 4
        let l = (32 + 2 * e + 2 * i - h - k) % 7
        let m = (a + 11 * h + 22 * l) / 451
        let month = (h + l - 7 * m + 114) / 31
        let day = (h + l - 7 * m + 114) % 31 + 1
        return Day(year: year, month: month, day: day) ?? Day(dayNumber: 0)
    }
}

/// The closing holidays an organisation observes: all by default, some switched off in the configuration.
public struct HolidayCalendar: Sendable, Equatable {
    public var enabled: Set<DutchHoliday> = Set(DutchHoliday.allCases)

    public init() {}

    /// The holiday on `day`, if it is one this organisation closes for.
    public func holiday(on day: Day) -> DutchHoliday? {
        enabled.first { $0.day(in: day.year) == day }
    }
}
