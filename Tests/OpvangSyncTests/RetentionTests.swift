import Testing
@testable import OpvangSync

@Suite struct RetentionTests {
    @Test func windowsRunEightWeeksAndTwentyFourMonthsAcrossMonthEnds() {
        let august = AccessWindow(parent: "O1", child: "K1", lastEnd: Day(year: 2026, month: 8, day: 31)!, firstParent: true)
        #expect(august.photosUntil == Day(year: 2026, month: 10, day: 26))
        #expect(august.documentsUntil == Day(year: 2028, month: 8, day: 31))
        let leap = AccessWindow(parent: "O1", child: "K1", lastEnd: Day(year: 2024, month: 2, day: 29)!, firstParent: true)
        #expect(leap.documentsUntil == Day(year: 2026, month: 2, day: 28))
        let second = AccessWindow(parent: "O2", child: "K1", lastEnd: Day(year: 2026, month: 8, day: 31)!, firstParent: false)
        #expect(second.documentsUntil == nil, "only Ouder 1 sees documents")
        #expect(second.until == second.photosUntil)
    }

    @Test(arguments: ["123456782", "111222333", "111.222.333", "999 999 990"])
    func elfProefRecognisesABSN(_ text: String) {
        #expect(BSN.redacted("nummer \(text) bekend") == "nummer [BSN verwijderd] bekend")
    }

    @Test(arguments: ["123456789", "12345678", "1234567890", "06-12345678", "030-1234567", "000000000", "2026-11-22"])
    func otherNumbersAreLeftAlone(_ text: String) {
        #expect(BSN.redacted(text) == nil)
    }
}
