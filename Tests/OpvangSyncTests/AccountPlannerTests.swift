import Testing
@testable import OpvangSync

/// SPEC §4 account rules, on the planner directly. The same rules run through the binary in EndToEndTests.
@Suite struct AccountPlannerTests {
    let asOf = Day(year: 2026, month: 11, day: 22)!

    /// A post-run portal: parents (number, email, email2), relations (child, parent) and placements (child, start, end).
    func post(parents: [(String, String?, String?)], relations: [(String, String)],
              placements: [(String, String, String?)]) -> PostState {
        func record(_ kind: EntityKind, _ fields: [String: String?]) -> StoredRecord {
            var values = [String?](repeating: nil, count: kind.schema.fields.count)
            for (name, value) in fields { values[kind.schema.index(name)] = value }
            return StoredRecord(values: values, status: .active)
        }
        var current: [EntityKind: [String: StoredRecord]] = [:]
        for (number, email, email2) in parents {
            current[.parent, default: [:]][number] = record(.parent, ["number": number, "lastName": "X", "email": email, "email2": email2])
        }
        for (child, parent) in relations {
            current[.relation, default: [:]]["\(child)/\(parent)"] = record(.relation, ["childNumber": child, "parentNumber": parent, "role": "Ouder 1"])
            current[.child, default: [:]][child] = record(.child, ["number": child])
        }
        for (index, (child, start, end)) in placements.enumerated() {
            current[.placement, default: [:]]["P\(index)"] = record(.placement, ["number": "P\(index)", "childNumber": child, "startDate": start, "endDate": end])
        }
        return PostState(current: current, plan: Plan())
    }

    /// Parent 1 with an account for een@x.nl, invited and not yet activated.
    var invitedNotActivated: ExistingAccounts {
        var existing = ExistingAccounts()
        existing.accounts["1"] = .init(owner: "1", username: "een@x.nl", activated: false, disabled: false)
        existing.ownerOfUsername["een@x.nl"] = "1"
        existing.accountOf["1"] = "1"
        existing.states["1"] = ParentAccountState(state: .account, emailColumn: "E-mail")
        return existing
    }

    func plan(_ state: PostState, existing: ExistingAccounts = ExistingAccounts()) -> AccountPlan {
        AccountPlanner(asOf: asOf, rules: Rules()).plan(state, existing: existing, parents: nil)
    }

    @Test func anAccountIsMadeSixWeeksBeforeCareStarts() {
        let result = plan(post(parents: [("1", "a@x.nl", nil), ("2", "b@x.nl", nil), ("3", "c@x.nl", nil), ("4", "d@x.nl", nil)],
                               relations: [("K1", "1"), ("K2", "2"), ("K3", "3"), ("K4", "4")],
                               placements: [("K1", "2027-01-03", nil),     // 42 days ahead: invited
                                            ("K2", "2027-01-04", nil),     // 43 days: not yet
                                            ("K3", "2025-01-01", nil),     // running
                                            ("K4", "2025-01-01", "2026-11-21")])) // ended yesterday
        let created = result.actions.compactMap { if case .create(let owner, _, _, _) = $0 { return owner } else { return nil } }
        #expect(Set(created) == ["1", "3"])
        #expect(result.states["2"]?.state == .notEligible)
        #expect(result.states["4"]?.state == .notEligible)
    }

    @Test func emailComesBeforeEmail2AndInvalidAddressesAreSkipped() {
        let result = plan(post(parents: [("1", "Een@X.nl", "twee@x.nl"), ("2", "typo@gmail", "goed@x.nl"), ("3", nil, nil)],
                               relations: [("K1", "1"), ("K2", "2"), ("K3", "3")],
                               placements: [("K1", "2025-01-01", nil), ("K2", "2025-01-01", nil), ("K3", "2025-01-01", nil)]))
        #expect(result.actions.contains(.create(owner: "1", username: "een@x.nl", emailColumn: "E-mail", members: [])))
        #expect(result.actions.contains(.create(owner: "2", username: "goed@x.nl", emailColumn: "E-mail 2", members: [])))
        #expect(result.states["3"]?.state == .noEmail)
        #expect(result.summary.withoutEmail == 1)
    }

    @Test func parentsWithTheSameAddressAndTheSameChildrenShareOneAccount() {
        let result = plan(post(parents: [("7", "gezin@x.nl", nil), ("5", "GEZIN@x.nl", nil)],
                               relations: [("K1", "5"), ("K1", "7")], placements: [("K1", "2025-01-01", nil)]))
        #expect(result.actions == [.create(owner: "5", username: "gezin@x.nl", emailColumn: "E-mail", members: ["7"])])
        #expect(result.issues.map(\.code) == ["shared-address"])
    }

    @Test func theSameAddressInAnotherFamilyIsAConflictAndTheLowestNumberKeepsIt() {
        let result = plan(post(parents: [("9", "zelfde@x.nl", nil), ("10", "zelfde@x.nl", nil)],
                               relations: [("K1", "9"), ("K2", "10")],
                               placements: [("K1", "2025-01-01", nil), ("K2", "2025-01-01", nil)]))
        #expect(result.actions == [.create(owner: "9", username: "zelfde@x.nl", emailColumn: "E-mail", members: [])])
        #expect(result.states["10"]?.state == .conflict)
        #expect(result.issues.contains { $0.code == "address-conflict" && $0.key == "10" && $0.severity == .error })
        #expect(!result.issues.contains { $0.message.contains("zelfde@x.nl") }, "no address in messages")
    }

    /// Two parents share an address and the same children whatever order their relations come in and however
    /// the numbers are spelled (a composed and a decomposed `é`, the Kelvin sign and `K`); one more child, or
    /// one child fewer, and it is a conflict.
    @Test func theSameChildrenAreTheSameSetWhateverTheOrderAndSpellingOfTheRelations() {
        let shared = plan(post(parents: [("4", "gezin@x.nl", nil), ("3", "gezin@x.nl", nil)],
                               relations: [("K\u{E9}2", "3"), ("K1", "3"), ("K1", "4"), ("Ke\u{301}2", "4"), ("\u{212A}9", "4"), ("K9", "3")],
                               placements: [("K1", "2025-01-01", nil)]))
        #expect(shared.actions == [.create(owner: "3", username: "gezin@x.nl", emailColumn: "E-mail", members: ["4"])])
        let oneMore = plan(post(parents: [("4", "gezin@x.nl", nil), ("3", "gezin@x.nl", nil)],
                                relations: [("K1", "3"), ("K1", "4"), ("K2", "4")], placements: [("K1", "2025-01-01", nil)]))
        #expect(oneMore.states["4"]?.state == .conflict)
        let oneFewer = plan(post(parents: [("4", "gezin@x.nl", nil), ("3", "gezin@x.nl", nil)],
                                 relations: [("K1", "3"), ("K2", "3"), ("K1", "4")], placements: [("K1", "2025-01-01", nil)]))
        #expect(oneFewer.states["4"]?.state == .conflict)
    }

    /// The children of each parent, as a set per parent would give them: each child once, in one order,
    /// none for a parent without a relation; canonically equal numbers are one parent and one child.
    @Test func theChildrenOfEachParentAreThoseOfASetPerParent() throws {
        var random = SeededRandom(seed: 29)
        let parents = ["1", "2", "10", "caf\u{E9}", "cafe\u{301}", "\u{212A}1", "K1", "", "P7"]
        let children = ["K1", "K2", "K10", "\u{212A}2", "Ke\u{301}", "K\u{E9}", "9"]
        var relations: [Relation] = []
        var reference: [ParentNumber: Set<ChildNumber>] = [:]
        for _ in 0..<400 {
            let parent = parents[Int(random.next() % UInt64(parents.count - 1))], child = children[Int(random.next() % UInt64(children.count))]
            var values = [String?](repeating: nil, count: EntityKind.relation.schema.fields.count)
            values[EntityKind.relation.schema.index("childNumber")] = child
            values[EntityKind.relation.schema.index("parentNumber")] = parent
            values[EntityKind.relation.schema.index("role")] = "Ouder 1"
            relations.append(try #require(Relation(values: FieldValues(values))))
            reference[ParentNumber(parent), default: []].insert(ChildNumber(child))
        }
        let families = ChildrenOfParents(relations)
        for parent in parents {
            let found = Array(families.children(of: ParentNumber(parent)))
            #expect(found.count == Set(found).count, "\(parent): each child once")
            #expect(Set(found) == reference[ParentNumber(parent)] ?? [], "\(parent)")
            #expect(found == found.sorted(), "\(parent): in order")
        }
        #expect(families.children(of: "P7").isEmpty)
    }

    /// A member of a shared account stays one night after night while it has the owner's address and children;
    /// a member whose children are no longer the owner's leaves it.
    @Test func aConfirmedMemberStaysAndAnotherFamilyLeaves() {
        var existing = ExistingAccounts()
        existing.accounts["5"] = .init(owner: "5", username: "gezin@x.nl", activated: true, disabled: false)
        existing.ownerOfUsername["gezin@x.nl"] = "5"
        existing.accountOf = ["5": "5", "7": "5"]
        existing.states = ["5": ParentAccountState(state: .account, emailColumn: "E-mail"),
                           "7": ParentAccountState(state: .member, emailColumn: "E-mail")]
        let same = plan(post(parents: [("5", "gezin@x.nl", nil), ("7", "gezin@x.nl", nil)],
                             relations: [("K1", "5"), ("K1", "7")], placements: [("K1", "2025-01-01", nil)]), existing: existing)
        #expect(same.actions.isEmpty && same.summary.detached == 0)
        let other = plan(post(parents: [("5", "gezin@x.nl", nil), ("7", "gezin@x.nl", nil)],
                              relations: [("K1", "5"), ("K1", "7"), ("K2", "7")], placements: [("K1", "2025-01-01", nil)]), existing: existing)
        #expect(other.actions == [.detach(parent: "7", owner: "5")])
    }

    /// The salutation's name is there for every parent the plan mails: a new account's owner and an owner
    /// whose address moves; the plan's other parents are not mailed and need none.
    @Test func everyParentThePlanMailsHasItsName() {
        var current: [EntityKind: [String: StoredRecord]] = [:]
        for (number, first, last) in [("1", "Inge", "Vries"), ("2", "Ahmed", "Bakker"), ("3", "Sanne", "Jong"), ("4", "Piet", "Smit")] {
            var values = [String?](repeating: nil, count: EntityKind.parent.schema.fields.count)
            values[EntityKind.parent.schema.index("number")] = number
            values[EntityKind.parent.schema.index("firstName")] = first
            values[EntityKind.parent.schema.index("lastName")] = last
            current[.parent, default: [:]][number] = StoredRecord(values: values, status: .active)
        }
        let state = PostState(current: current, plan: Plan())
        let names = ParentNames(state, mailed: [
            .create(owner: "1", username: "a@x.nl", emailColumn: "E-mail", members: []),
            .move(owner: "2", from: "oud@x.nl", to: "b@x.nl", emailColumn: "E-mail", activated: true),
            .join(parent: "3", owner: "1"), .withdraw(owner: "4", reason: "address-gone"),
        ])
        #expect(names["1"] == "Inge Vries" && names["2"] == "Ahmed Bakker")
        #expect(names["3"] == nil && names["4"] == nil)
    }

    /// Parents are grouped by address however their rows come: one account per address, each group's
    /// lowest number its owner, the last address of the sorted list included.
    @Test func everyAddressIsOneGroupWhateverTheOrderOfItsParents() {
        let result = plan(post(parents: [("12", "b@x.nl", nil), ("2", "d@x.nl", nil), ("11", "b@x.nl", nil), ("6", "c@x.nl", nil),
                                         ("1", "a@x.nl", nil), ("10", "B@x.nl", nil), ("5", "c@x.nl", nil), ("3", "e@x.nl", nil)],
                               relations: [("K1", "1"), ("K2", "2"), ("K3", "3"), ("KB", "10"), ("KB", "11"), ("KB", "12"),
                                           ("K5", "5"), ("K6", "6")],
                               placements: ["K1", "K2", "K3", "KB", "K5", "K6"].map { ($0, "2025-01-01", nil) }))
        #expect(result.actions == [
            .create(owner: "1", username: "a@x.nl", emailColumn: "E-mail", members: []),
            .create(owner: "10", username: "b@x.nl", emailColumn: "E-mail", members: ["11", "12"]),
            .create(owner: "5", username: "c@x.nl", emailColumn: "E-mail", members: []),
            .create(owner: "2", username: "d@x.nl", emailColumn: "E-mail", members: []),
            .create(owner: "3", username: "e@x.nl", emailColumn: "E-mail", members: []),
        ])
        #expect(result.states["6"]?.state == .conflict)
        #expect(result.states["11"]?.state == .member && result.states["12"]?.state == .member)
    }

    /// Oudernummers are ordered one way whatever order they come in: numbers first, numerically, then
    /// other numbers as text. (Numerically when both were numbers and as text otherwise was no order at all:
    /// "2" < "10" < "1a" < "2".)
    @Test func oudernummersHaveOneOrderWhateverTheOrderTheyCameIn() {
        let numbers = ["2", "10", "1a", "b", "007", "7"]
        for a in numbers {
            #expect(!AccountPlanner.precedes(a, a))
            for b in numbers where a != b {
                #expect(AccountPlanner.precedes(a, b) != AccountPlanner.precedes(b, a), "\(a), \(b)")
                for c in numbers where AccountPlanner.precedes(a, b) && AccountPlanner.precedes(b, c) {
                    #expect(AccountPlanner.precedes(a, c), "\(a) < \(b) < \(c)")
                }
            }
        }
        func permutations(_ items: [String]) -> [[String]] {
            guard items.count > 1 else { return [items] }
            return items.indices.flatMap { index in
                permutations(Array(items[..<index] + items[(index + 1)...])).map { [items[index]] + $0 }
            }
        }
        let orders = Set(permutations(numbers).map { $0.sorted(by: AccountPlanner.precedes) })
        #expect(orders == [["2", "007", "7", "10", "1a", "b"]])
    }

    @Test func aSharedAddressGoesToTheFirstNumberWhateverTheOtherNumbersLookLike() {
        let result = plan(post(parents: [("1a", "gedeeld@x.nl", nil), ("10", "gedeeld@x.nl", nil), ("2", "gedeeld@x.nl", nil)],
                               relations: [("K1", "1a"), ("K1", "10"), ("K1", "2")], placements: [("K1", "2025-01-01", nil)]))
        #expect(result.actions == [.create(owner: "2", username: "gedeeld@x.nl", emailColumn: "E-mail", members: ["10", "1a"])])
    }

    /// The same night gives the same report: the planner's issues come in the order of the parents' numbers,
    /// not in the order the parents happened to be looked at.
    @Test func theIssuesComeInTheOrderOfTheParentsNumbers() {
        let numbers = (1...40).map { String(200 - $0 * 3) }
        let result = plan(post(parents: numbers.map { ($0, nil, nil) }, relations: numbers.map { ("K\($0)", $0) },
                               placements: numbers.map { ("K\($0)", "2025-01-01", nil) }))
        #expect(result.issues.count == 40)
        #expect(result.issues.map(\.code) == Array(repeating: "parent-without-email", count: 40))
        #expect(result.issues.map(\.key) == numbers.sorted { Int($0)! < Int($1)! })
    }

    @Test func theAddressStaysWithTheParentWhoHadIt() {
        var existing = ExistingAccounts()
        existing.accounts["10"] = .init(owner: "10", username: "zelfde@x.nl", activated: true, disabled: false)
        existing.ownerOfUsername["zelfde@x.nl"] = "10"
        existing.accountOf["10"] = "10"
        let result = plan(post(parents: [("9", "zelfde@x.nl", nil), ("10", "zelfde@x.nl", nil)],
                               relations: [("K1", "9"), ("K2", "10")],
                               placements: [("K1", "2025-01-01", nil), ("K2", "2025-01-01", nil)]), existing: existing)
        #expect(result.actions.isEmpty)
        #expect(result.states["9"]?.state == .conflict)
    }

    @Test func anAddressChangeMovesTheAccount() {
        var existing = ExistingAccounts()
        existing.accounts["1"] = .init(owner: "1", username: "oud@x.nl", activated: false, disabled: false)
        existing.ownerOfUsername["oud@x.nl"] = "1"
        existing.accountOf["1"] = "1"
        let state = post(parents: [("1", "nieuw@x.nl", nil)], relations: [("K1", "1")], placements: [("K1", "2025-01-01", nil)])
        #expect(plan(state, existing: existing).actions == [.move(owner: "1", from: "oud@x.nl", to: "nieuw@x.nl", emailColumn: "E-mail", activated: false)])
        existing.accounts["1"]?.activated = true
        #expect(plan(state, existing: existing).actions == [.move(owner: "1", from: "oud@x.nl", to: "nieuw@x.nl", emailColumn: "E-mail", activated: true)])
    }

    @Test func aNewAddressThatBelongsToAnotherAccountChangesNothing() {
        var existing = ExistingAccounts()
        for (owner, username) in [("1", "een@x.nl"), ("2", "twee@x.nl")] {
            existing.accounts[owner] = .init(owner: owner, username: username, activated: true, disabled: false)
            existing.ownerOfUsername[username] = owner
            existing.accountOf[owner] = owner
        }
        let result = plan(post(parents: [("1", "twee@x.nl", nil), ("2", "twee@x.nl", nil)],
                               relations: [("K1", "1"), ("K2", "2")],
                               placements: [("K1", "2025-01-01", nil), ("K2", "2025-01-01", nil)]), existing: existing)
        #expect(result.actions.isEmpty)
        #expect(result.states["1"]?.state == .conflict)
    }

    /// What holds until it is solved is kept per parent, for the nights that do not plan the family; what
    /// happened this night is reported once.
    @Test func standingProblemsAreKeptPerParentAndEventsAreNot() {
        let existing = invitedNotActivated
        let result = plan(post(parents: [("1", nil, nil), ("2", nil, nil), ("3", "drie@x.nl", nil), ("4", "drie@x.nl", nil)],
                               relations: [("K1", "1"), ("K2", "2"), ("K3", "3"), ("K4", "4")],
                               placements: [("K1", "2025-01-01", nil), ("K2", "2025-01-01", nil), ("K3", "2025-01-01", nil),
                                            ("K4", "2025-01-01", nil)]), existing: existing)
        #expect(Set(result.issues.map(\.code)) == ["invitation-withdrawn", "parent-without-email", "address-conflict"])
        #expect(result.standing.mapValues { $0.map(\.code) } == ["2": ["parent-without-email"], "4": ["address-conflict"]])
        #expect(result.standing["2"] == result.issues.filter { $0.key == "2" }, "the same issue as the report's")
    }

    @Test func nothingChangesWhenNothingChanged() {
        let existing = invitedNotActivated
        let result = plan(post(parents: [("1", "een@x.nl", nil)], relations: [("K1", "1")], placements: [("K1", "2025-01-01", nil)]),
                          existing: existing)
        #expect(result.actions.isEmpty)
        #expect(result.states.isEmpty)
    }
}

@Suite struct ActivationTokenTests {
    @Test func tokensCarryAtLeast128BitsAsBase64url() {
        var seen = Set<String>()
        for _ in 0..<200 {
            let token = ActivationToken()
            #expect(token.text.count >= 22)
            #expect(token.text.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
            seen.insert(token.text)
        }
        #expect(seen.count == 200)
    }

    @Test func onlyTheHashIsKeptAndItIsSHA256() {
        let token = ActivationToken()
        #expect(token.hash == SHA256.hex(of: Array(token.text.utf8)))
        #expect(token.hash.count == 64)
        #expect(ActivationToken.base64url([0xfb, 0xff]) == "-_8")
    }
}

@Suite struct MailTemplateTests {
    @Test func theBuiltInTemplatesAreDutchAndValid() throws {
        let templates = try MailTemplates.load(overrides: [:])
        let (subject, body) = templates.render(.invitation, values: ["organisatie": "De Zonnebloem", "naam": "Zoë de Vries",
                                                                      "link": "https://p.example/activeren/abc", "geldigTot": "06-12-2026"])
        #expect(subject == "Uw account voor het ouderportaal van De Zonnebloem")
        #expect(body.contains("Beste Zoë de Vries,"))
        #expect(body.contains("https://p.example/activeren/abc"))
        #expect(body.contains("geldig tot en met 06-12-2026"))
        for kind in MailTemplates.Kind.allCases { #expect(!templates.templates[kind]!.subject.contains("{{naam}}")) }
    }

    @Test func aParentsNameMayNotGoIntoASubject() {
        let error = #expect(throws: MailTemplates.Invalid.self) {
            try MailTemplates.parse("Subject: Welkom {{naam}}\n\nBeste {{naam}}", source: "eigen.txt")
        }
        #expect(error?.source == "eigen.txt")
        #expect(throws: MailTemplates.Invalid.self) { try MailTemplates.parse("Subject: x\n\n{{wachtwoord}}", source: "t") }
        #expect(throws: MailTemplates.Invalid.self) { try MailTemplates.parse("Geen onderwerp\n\ntekst", source: "t") }
    }
}

@Suite struct MessageIDTests {
    @Test func messageIDsAreUniqueAndSortAsTheyWereMade() {
        let ids = (0..<1000).map { _ in MailContext.messageID(host: "portaal.example") }
        #expect(Set(ids).count == ids.count)
        #expect(ids == ids.sorted())
        #expect(ids.allSatisfy { $0.hasSuffix("@portaal.example") && !$0.contains(" ") })
    }
}
