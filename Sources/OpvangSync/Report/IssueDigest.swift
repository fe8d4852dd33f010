/// What the readable report says of a run's issues, gathered in one pass over them: the codes that occur,
/// the rejected rows and the warnings it lists and counts, and per code how often it occurred and which
/// options and keys its messages name.
///
/// A quiet night at a million children warns about 145,000 rows, and its report is made twice: before the
/// transaction (so that a report that cannot be written stops the run) and after the commit, when at most a
/// few issues were added. The second takes the first's digest and adds only those (`extended(to:)`).
struct IssueDigest {
    /// The issues this holds (in their order), kept to know them again in a longer list.
    private var issues: [Issue] = []
    private(set) var codes: Set<String> = []
    /// The first `ReportContent.listLimit` rejected rows and errors, and how many there are.
    private(set) var errors: (listed: [Issue], count: Int) = ([], 0)
    /// The same of the rest (warnings and notes).
    private(set) var others: (listed: [Issue], count: Int) = ([], 0)
    /// Issues of severity warning.
    private(set) var warningCount = 0
    /// Every code in the order it first occurred, with how often, its severity, and the terms its messages name.
    private(set) var perCode: [(code: String, count: Int, severity: Issue.Severity, terms: [String])] = []
    private var positionOfCode: [String: Int] = [:]

    init(_ issues: [Issue]) {
        add(issues[...])
        self.issues = issues
    }

    /// The digest of `issues`: when they begin with those this holds (a run only adds issues), this one
    /// with the rest added; otherwise made afresh.
    func extended(to issues: [Issue]) -> IssueDigest {
        guard self.issues.count <= issues.count, issues.prefix(self.issues.count).elementsEqual(self.issues) else { return IssueDigest(issues) }
        var digest = self
        digest.add(issues[self.issues.count...])
        digest.issues = issues
        return digest
    }

    private mutating func add(_ issues: ArraySlice<Issue>) {
        // Thousands of warnings share a handful of messages: each message is looked at once. (Not kept: the
        // digest lives through the transaction, and a few issues added later may be looked at again.)
        var looked: Set<String> = []
        for issue in issues {
            codes.insert(issue.code)
            if issue.severity == .error {
                errors.count += 1
                if errors.listed.count < ReportContent.listLimit { errors.listed.append(issue) }
            } else {
                others.count += 1
                if others.listed.count < ReportContent.listLimit { others.listed.append(issue) }
            }
            if issue.severity == .warning { warningCount += 1 }
            let position: Int
            if let known = positionOfCode[issue.code] {
                position = known
                perCode[position].count += 1
            } else {
                position = perCode.count
                positionOfCode[issue.code] = position
                perCode.append((issue.code, 1, issue.severity, []))
            }
            guard DutchText.mayNameTerms(issue.message), looked.insert(issue.code + "\u{0}" + issue.message).inserted else { continue }
            for term in DutchText.technicalTerms(issue.message) where !perCode[position].terms.contains(term) {
                perCode[position].terms.append(term)
            }
        }
    }
}
