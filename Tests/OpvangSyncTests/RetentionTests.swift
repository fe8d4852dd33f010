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

@Suite struct BSNKeyEvidenceTests {
    @Test(arguments: [("123456782", true, true), ("K123456782", true, true), ("111.222.333", true, true),
                      ("098430001", true, false), ("098430002", true, true), ("K098430001", true, false), ("1234567820", false, false),
                      ("12345678", true, false), ("12345672", true, true), ("1234567", false, false), ("P12-345", false, false)])
    func aKeyIsEvidenceOnlyWithARunOfNineOrEightDigits(_ text: String, _ nineDigits: Bool, _ passes: Bool) {
        let evidence = BSN.keyEvidence(text)
        #expect(evidence.nineDigits == nineDigits)
        #expect(evidence.passes == passes)
    }

    @Test func aColumnIsRefusedOnlyWhenMoreThanHalfPassAndWarnedAboveAQuarter() {
        func check(passing: Int, of total: Int) -> OpvangSync.Issue? {
            var check = KeyColumnCheck()
            let valid = (100_000_000..<100_010_000).map(String.init).filter { BSN.keyEvidence($0).passes }
            let invalid = (100_000_000..<100_010_000).map(String.init).filter { !BSN.keyEvidence($0).passes }
            for value in valid.prefix(passing) + invalid.prefix(total - passing) { check.count(value) }
            check.count("L1")  // not a 9-digit value: not counted
            return check.issue(file: "kinderen.csv", column: "Kindnummer")
        }
        #expect(check(passing: 9, of: 100) == nil, "chance")
        #expect(check(passing: 30, of: 100)?.severity == .warning)
        #expect(check(passing: 51, of: 100)?.severity == .error)
        #expect(check(passing: 50, of: 100)?.severity == .warning)
        #expect(check(passing: 2, of: 2)?.severity == .warning, "too few values to refuse a run on")
        #expect(check(passing: 3, of: 3)?.severity == .error)
        #expect(check(passing: 2, of: 3)?.severity == .error)
        #expect(check(passing: 0, of: 0) == nil)
    }
}
