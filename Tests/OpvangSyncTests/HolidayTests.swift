import Testing
@testable import OpvangSync

/// The closing holidays of SPEC §4 against real dates, 2024–2032.
@Suite struct HolidayTests {
    func day(_ iso: String) -> Day { Day(iso: iso)! }

    @Test(arguments: [
        (2024, "2024-03-31"), (2025, "2025-04-20"), (2026, "2026-04-05"), (2027, "2027-03-28"), (2028, "2028-04-16"),
        (2029, "2029-04-01"), (2030, "2030-04-21"), (2031, "2031-04-13"), (2032, "2032-03-28"),
    ])
    func easterFollowsTheGregorianComputus(year: Int, easter: String) {
        #expect(DutchHoliday.easter(year) == day(easter))
        #expect(DutchHoliday.tweedePaasdag.day(in: year) == day(easter).adding(days: 1))
        #expect(DutchHoliday.hemelvaartsdag.day(in: year) == day(easter).adding(days: 39))
        #expect(DutchHoliday.tweedePinksterdag.day(in: year) == day(easter).adding(days: 50))
    }

    @Test func theDatesTheIssueNames() {
        #expect(DutchHoliday.tweedePaasdag.day(in: 2026) == day("2026-04-06"))
        #expect(DutchHoliday.tweedePaasdag.day(in: 2027) == day("2027-03-29"))
        #expect(DutchHoliday.hemelvaartsdag.day(in: 2026) == day("2026-05-14"))
        #expect(DutchHoliday.tweedePinksterdag.day(in: 2026) == day("2026-05-25"))
        #expect(DutchHoliday.koningsdag.day(in: 2025) == day("2025-04-26"))
        #expect(DutchHoliday.koningsdag.day(in: 2031) == day("2031-04-26"))
        #expect(DutchHoliday.bevrijdingsdag.day(in: 2025) == day("2025-05-05"))
        #expect(DutchHoliday.bevrijdingsdag.day(in: 2026) == nil)
    }

    @Test func koningsdagMovesOnlyWhenTheTwentySeventhIsASunday() {
        for year in 2024...2032 {
            let expected = (year == 2025 || year == 2031) ? day("\(year)-04-26") : day("\(year)-04-27")
            #expect(DutchHoliday.koningsdag.day(in: year) == expected, "\(year)")
        }
    }

    @Test func bevrijdingsdagOnlyInLustrumYears() {
        let years = (2024...2032).filter { DutchHoliday.bevrijdingsdag.day(in: $0) != nil }
        #expect(years == [2025, 2030])
    }

    @Test func fixedHolidays() {
        for year in 2024...2032 {
            #expect(DutchHoliday.nieuwjaarsdag.day(in: year) == day("\(year)-01-01"))
            #expect(DutchHoliday.eersteKerstdag.day(in: year) == day("\(year)-12-25"))
            #expect(DutchHoliday.tweedeKerstdag.day(in: year) == day("\(year)-12-26"))
        }
    }

    @Test func anOrganisationCanSwitchAHolidayOff() throws {
        var calendar = HolidayCalendar()
        #expect(calendar.holiday(on: day("2030-05-05")) == .bevrijdingsdag)
        calendar.enabled.remove(.bevrijdingsdag)
        #expect(calendar.holiday(on: day("2030-05-05")) == nil)
        #expect(calendar.holiday(on: day("2026-12-25")) == .eersteKerstdag)
        let configuration = try parseConfiguration(#"{"holidays": {"bevrijdingsdag": false}}"#)
        #expect(try configuration.settings(for: nil).holidays.enabled.contains(.bevrijdingsdag) == false)
        #expect(throws: Configuration.Failure.self) { try parseConfiguration(#"{"holidays": {"sinterklaas": false}}"#) }
    }
}
