import Testing
@testable import OpvangSync

@Suite struct RetentionTests {
    /// A stored record of `kind` with the named fields set, the others absent.
    func record(_ kind: EntityKind, _ fields: [String: String?], _ status: RecordStatus = .active) -> StoredRecord {
        var values = [String?](repeating: nil, count: kind.schema.fields.count)
        for (name, value) in fields { values[kind.schema.index(name)] = value }
        return StoredRecord(values: values, status: status)
    }

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

    /// A shared account stays enabled while a child of any of its members is in care, and is disabled once
    /// every window of every member's children has passed: the owner's own children are not the whole family.
    @Test func aSharedAccountFollowsTheChildrenOfEveryMember() {
        let asOf = Day(year: 2026, month: 11, day: 22)!
        func post(memberChildEnded: Bool) -> PostState {
            var current: [EntityKind: [String: StoredRecord]] = [:]
            for parent in ["5", "7"] { current[.parent, default: [:]][parent] = record(.parent, ["number": parent, "lastName": "X"]) }
            for (child, parent) in [("K1", "5"), ("K2", "7")] {
                current[.child, default: [:]][child] = record(.child, ["number": child])
                current[.relation, default: [:]]["\(child)/\(parent)"] = record(.relation, ["childNumber": child, "parentNumber": parent, "role": "Ouder 1"])
            }
            current[.placement, default: [:]]["P1"] = record(.placement, ["number": "P1", "childNumber": "K1", "startDate": "2018-01-01", "endDate": "2020-01-01"], .ended)
            current[.placement, default: [:]]["P2"] = memberChildEnded
                ? record(.placement, ["number": "P2", "childNumber": "K2", "startDate": "2018-01-01", "endDate": "2020-01-01"], .ended)
                : record(.placement, ["number": "P2", "childNumber": "K2", "startDate": "2018-01-01"])
            return PostState(current: current, plan: Plan())
        }
        func existing(disabled: Bool) -> ExistingAccounts {
            var existing = ExistingAccounts()
            existing.accounts["5"] = .init(owner: "5", username: "gezin@x.nl", activated: true, disabled: disabled)
            existing.ownerOfUsername["gezin@x.nl"] = "5"
            existing.accountOf = ["5": "5", "7": "5"]
            return existing
        }
        let planner = RetentionPlanner(asOf: asOf)
        let inCare = planner.plan(post(memberChildEnded: false), existing: existing(disabled: false), stored: .init(), scope: nil)
        #expect(inCare.disable.isEmpty, "the member's child is in care")
        let enabled = planner.plan(post(memberChildEnded: false), existing: existing(disabled: true), stored: .init(), scope: nil)
        #expect(enabled.enable == ["5"])
        let passed = planner.plan(post(memberChildEnded: true), existing: existing(disabled: false), stored: .init(), scope: nil)
        #expect(passed.disable == ["5"], "every window of every member's children has passed")
    }

    /// A scoped or nightly run holds some records of children it did not read whole: an old placement it
    /// compared says nothing of the rest of their care. Retention opens no window and purges no child on
    /// those, and purges no parent outside the parents it may change.
    @Test func retentionDecidesOnlyForChildrenReadWholeAndParentsInScope() {
        let asOf = Day(year: 2026, month: 11, day: 22)!
        var current: [EntityKind: [String: StoredRecord]] = [:]
        for (child, parent) in [("K1", "O1"), ("K2", "O2")] {
            current[.child, default: [:]][child] = record(.child, ["number": child])
            current[.parent, default: [:]][parent] = record(.parent, ["number": parent, "lastName": "X"])
            current[.relation, default: [:]]["\(child)/\(parent)"] = record(.relation, ["childNumber": child, "parentNumber": parent, "role": "Ouder 1"])
        }
        // Both children's care ended long ago, as far as these records go.
        current[.placement, default: [:]]["P1"] = record(.placement, ["number": "P1", "childNumber": "K1", "startDate": "2018-01-01", "endDate": "2020-01-01"], .ended)
        current[.placement, default: [:]]["P2"] = record(.placement, ["number": "P2", "childNumber": "K2", "startDate": "2018-01-01", "endDate": "2020-01-01"], .ended)
        let post = PostState(current: current, plan: Plan())
        let planner = RetentionPlanner(asOf: asOf)
        let whole = planner.plan(post, existing: ExistingAccounts(), stored: .init(), scope: nil)
        #expect(whole.purgeChildren == ["K1", "K2"] && whole.purgeParents == ["O1", "O2"], "a full run has read every child whole")
        let part = planner.plan(post, existing: ExistingAccounts(), stored: .init(), scope: ["O1", "O2"], children: ["K1"])
        #expect(part.purgeChildren == ["K1"], "K2 was not read whole")
        #expect(part.purgeParents == ["O1"])
        #expect(part.windows.keys.allSatisfy { !$0.hasSuffix("/K2") })
        let scoped = planner.plan(post, existing: ExistingAccounts(), stored: .init(), scope: ["O1"], children: ["K1", "K2"])
        #expect(scoped.purgeChildren == ["K1"] && scoped.purgeParents == ["O1"], "O2 is outside the parents this run may change")
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
