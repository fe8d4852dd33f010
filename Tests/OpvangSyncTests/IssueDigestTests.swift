import Testing
@testable import OpvangSync

/// `IssueDigest`: what the readable report says of a run's issues, gathered once, and extended by the issues a
/// run adds after its report was first staged. Extended, it must say what a digest made afresh says, and that
/// must be what the issues hold.
@Suite struct IssueDigestTests {
    @Test func countsListsAndNamesTheTermsOfEveryCodeExtendedAsMadeAfresh() {
        let first = [
            Issue(.warning, "invalid-email", key: "O1", message: "ongeldig e-mailadres (zie rules.maxRemovalFraction)"),
            Issue(.error, "address-conflict", key: "O2", message: "het adres is in gebruik"),
            Issue(.info, "scoped-read", message: "gelezen"),
            Issue(.warning, "invalid-email", key: "O3", message: "ongeldig e-mailadres, zie `opvangsync accounts resend O3`"),
            // The same message again: its terms are counted once.
            Issue(.warning, "invalid-email", key: "O1", message: "ongeldig e-mailadres (zie rules.maxRemovalFraction)"),
        ]
        let later = [Issue(.warning, "mail-not-sent", message: "niet verstuurd (`opvangsync mail send`)"),
                     Issue(.error, "address-conflict", key: "O4", message: "het adres is in gebruik")]
        let all = first + later
        let terms = ["invalid-email": DutchText.technicalTerms(first[0].message) + DutchText.technicalTerms(first[3].message),
                     "mail-not-sent": DutchText.technicalTerms(later[0].message)]
        #expect(terms["invalid-email"]?.count == 2 && terms["mail-not-sent"]?.count == 1, "the messages name terms: \(terms)")
        for digest in [IssueDigest(all), IssueDigest(first).extended(to: all), IssueDigest([]).extended(to: all)] {
            #expect(digest.codes == ["invalid-email", "address-conflict", "scoped-read", "mail-not-sent"])
            #expect(digest.errors.count == 2 && digest.errors.listed.map(\.key) == ["O2", "O4"])
            #expect(digest.others.count == 5 && digest.others.listed == all.filter { $0.severity != .error })
            #expect(digest.warningCount == 4)
            #expect(digest.perCode.map(\.code) == ["invalid-email", "address-conflict", "scoped-read", "mail-not-sent"])
            #expect(digest.perCode.map(\.count) == [3, 2, 1, 1])
            #expect(digest.perCode.map(\.severity) == [.warning, .error, .info, .warning])
            #expect(digest.perCode.map(\.terms) == [terms["invalid-email"] ?? [], [], [], terms["mail-not-sent"] ?? []])
        }
    }

    /// The first `listLimit` of each kind are listed, across the issues staged and those added since; issues
    /// that are not those of the digest with more after them make it afresh.
    @Test func listsTheFirstOfEachKindAndStartsAfreshForOtherIssues() {
        let limit = ReportContent.listLimit
        let errors = (0..<(limit - 1)).map { Issue(.error, "row-rejected", key: "E\($0)", message: "afgewezen") }
        let more = (0..<6).map { Issue(.error, "row-rejected", key: "F\($0)", message: "afgewezen") }
        let digest = IssueDigest(errors).extended(to: errors + more)
        #expect(digest.errors.count == limit + 5 && digest.errors.listed.map(\.key) == (errors + more).prefix(limit).map(\.key))
        #expect(digest.perCode.map(\.count) == [limit + 5])

        var changed = errors + more
        changed[0] = Issue(.warning, "invalid-email", key: "W0", message: "ongeldig")
        let afresh = digest.extended(to: changed)
        #expect(afresh.errors.count == limit + 4 && afresh.others.count == 1 && afresh.others.listed.map(\.key) == ["W0"])
        #expect(afresh.perCode.map(\.code) == ["invalid-email", "row-rejected"] && afresh.perCode.map(\.count) == [1, limit + 4])
    }
}
