import Testing
@testable import OpvangSync

@Suite struct DayTests {
    @Test func dayNumbersRoundTripOverCenturies() {
        for number in stride(from: -30_000, through: 60_000, by: 37) {
            #expect(Day(dayNumber: number).dayNumber == number)
        }
        #expect(Day(year: 1970, month: 1, day: 1)!.dayNumber == 0)
        #expect(Day(year: 2000, month: 3, day: 1)!.dayNumber == 11_017)
    }

    /// Days are kept in four bytes and compared on their parts: the order must be the calendar's.
    @Test func daysCompareAsTheirNumbers() {
        // Neighbours within a month and a year, and days centuries apart.
        let base = Day(year: 2024, month: 1, day: 1)!.dayNumber
        for lhs in stride(from: base - 400, through: base + 800, by: 1) {
            for offset in [-400, -33, -29, -1, 0, 1, 2, 28, 31, 62, 365, 1_000_000] {
                let rhs = lhs + offset
                let left = Day(dayNumber: lhs), right = Day(dayNumber: rhs)
                #expect((left < right) == (lhs < rhs))
                #expect((left == right) == (lhs == rhs))
                #expect(Day(year: left.year, month: left.month, day: left.day) == left)
            }
        }
        #expect(Day(year: 9999, month: 12, day: 31)!.adding(days: -1) < Day(year: 9999, month: 12, day: 31)!)
    }

    @Test func impossibleDatesDoNotExist() {
        #expect(Day(year: 2021, month: 2, day: 29) == nil)
        #expect(Day(year: 2024, month: 2, day: 29) != nil)
        #expect(Day(year: 1900, month: 2, day: 29) == nil)
        #expect(Day(year: 2000, month: 2, day: 29) != nil)
        #expect(Day(year: 2026, month: 4, day: 31) == nil)
        #expect(Day(year: 2026, month: 13, day: 1) == nil)
    }

    @Test func weekdaysAndISOWeeks() {
        #expect(Day(year: 2026, month: 11, day: 22)!.isoWeekday == 7) // a Sunday
        #expect(Day(year: 2026, month: 11, day: 23)!.isoWeekday == 1)
        #expect(Day(year: 2026, month: 11, day: 23)!.isoWeek == 48)
        #expect(Day(year: 2027, month: 1, day: 1)!.isoWeek == 53)  // Friday in week 53 of 2026
        #expect(Day(year: 2021, month: 1, day: 3)!.isoWeek == 53)
        #expect(Day(year: 2024, month: 12, day: 30)!.isoWeek == 1)
    }

    @Test func addingMonthsClampsToTheEndOfTheMonth() {
        #expect(Day(year: 2024, month: 2, day: 29)!.adding(months: 24) == Day(year: 2026, month: 2, day: 28))
        #expect(Day(year: 2026, month: 8, day: 31)!.adding(months: 24) == Day(year: 2028, month: 8, day: 31))
        #expect(Day(year: 2026, month: 1, day: 31)!.adding(months: 1) == Day(year: 2026, month: 2, day: 28))
        #expect(Day(year: 2026, month: 11, day: 30)!.adding(months: -12) == Day(year: 2025, month: 11, day: 30))
    }

    @Test func sixWeeksBeforeIsExactAcrossDaylightSaving() {
        // The clocks go back on 2026-10-25; a calendar day is still one day.
        #expect(Day(year: 2026, month: 11, day: 1)!.adding(days: -42) == Day(year: 2026, month: 9, day: 20))
        #expect(Day(year: 2026, month: 9, day: 20)!.days(until: Day(year: 2026, month: 11, day: 1)!) == 42)
    }

    @Test func datePatternsParseWhatTheyDescribe() throws {
        #expect(DatePattern.dutch.parse("03-02-2025") == Day(year: 2025, month: 2, day: 3))
        #expect(DatePattern.dutch.parse("3-2-2025") == Day(year: 2025, month: 2, day: 3))
        #expect(DatePattern.iso.parse("2025-02-03") == Day(year: 2025, month: 2, day: 3))
        let slashed = try DatePattern("jjjj/mm/dd")
        #expect(slashed.parse("2025/02/03") == Day(year: 2025, month: 2, day: 3))
        #expect(DatePattern.dutch.parse("31-02-2025") == nil)
        #expect(DatePattern.dutch.parse("03-02-25") == nil)
        #expect(DatePattern.dutch.parse("03-02-2025x") == nil)
        #expect(DatePattern.dutch.parse("2025-02-03") == nil)
        #expect(throws: (any Error).self) { try DatePattern("dd-mm") }
        #expect(throws: (any Error).self) { try DatePattern("dd-mm-yy") }
    }

    @Test func timesAndRanges() {
        #expect(TimeRange("07:30-18:00")?.description == "07:30-18:00")
        #expect(TimeRange("7:30 - 18:00")?.description == "07:30-18:00")
        #expect(TimeRange("18:00-07:30") == nil)
        #expect(TimeRange("25:00-26:00") == nil)
        #expect(TimeRange("0730-1800") == nil)
        #expect(TimeOfDay("8.15")?.description == "08:15")
    }
}
