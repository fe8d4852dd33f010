/// What the portal knows about accounts before the run.
public struct ExistingAccounts: Sendable {
    public struct Account: Sendable, Equatable {
        /// The Oudernummer the account belongs to (the first of a shared account).
        public var owner: String
        /// The login address, lowercased.
        public var username: String
        public var emailColumn: String?
        /// Set by the portal when the parent chose a password.
        public var activated: Bool
        public var disabled: Bool
    }

    public var accounts: [String: Account] = [:]
    /// Lowercased username → owner.
    public var ownerOfUsername: [String: String] = [:]
    /// Parent → the owner of the account they use (owners map to themselves).
    public var accountOf: [String: String] = [:]
    public var states: [String: ParentAccountState] = [:]

    public init() {}
}

/// Where one parent stands, as `accounts list` shows it.
public struct ParentAccountState: Sendable, Equatable {
    public enum State: String, Sendable {
        /// Owns an account.
        case account
        /// Uses a shared account (same address, same children).
        case member
        /// Eligible, but neither E-mail nor E-mail 2 is usable.
        case noEmail = "no-email"
        /// The address belongs to another family's account: no account, customer service must act.
        case conflict
        /// No child with a placement that started or starts within the invitation window.
        case notEligible = "not-eligible"
    }

    public var state: State
    /// `E-mail` or `E-mail 2`: which column the login address came from.
    public var emailColumn: String?
    public var detail: String?
}

/// One change to accounts that a run makes.
public enum AccountAction: Sendable, Equatable {
    /// A new account with an invitation to `username`.
    case create(owner: String, username: String, emailColumn: String, members: [String])
    /// A parent joins an existing shared account.
    case join(parent: String, owner: String)
    /// The planning system changed the login address. Before activation the invitation moves (old link
    /// dies, new invitation); after activation the username changes and both addresses get a notice.
    case move(owner: String, from: String, to: String, emailColumn: String, activated: Bool)
    /// A parent leaves a shared account: its children no longer equal the owner's.
    case detach(parent: String, owner: String)
    /// The open invitation of an account not yet activated dies: the address it went to is gone, or the
    /// parent no longer has a child in care. Its queued mail is cancelled.
    case withdraw(owner: String, reason: String)
}

/// The account side of a run.
public struct AccountPlan: Sendable {
    public var actions: [AccountAction] = []
    /// Parent states that differ from what the portal holds.
    public var states: [String: ParentAccountState] = [:]
    public var summary = AccountSummary()
    public var issues: [Issue] = []
    /// Parents with a child in care who get no account, each with the reason in Dutch: the report lists
    /// them every night until the planning system is corrected.
    public var withoutAccount: [(parent: String, reason: String)] = []
    /// The issues of `issues` that hold until someone solves them (a missing or shared address, a conflict, a
    /// flagged account), per parent: a run that does not plan a parent reports that parent's again from the
    /// portal (`standing_issues`). Events of one night (a withdrawn invitation, a detached member) are not here.
    public var standing: [String: [Issue]] = [:]

    /// Adds an issue that `parent` keeps until it is solved.
    mutating func addStanding(_ parent: String, _ issue: Issue) {
        issues.append(issue)
        standing[parent, default: []].append(issue)
    }
}

/// SPEC §4 "Which e-mail", "When an account is made", "One address, one account" and "Address changes".
public struct AccountPlanner {
    public let asOf: Day
    public let rules: Rules

    public init(asOf: Day, rules: Rules) {
        self.asOf = asOf
        self.rules = rules
    }

    /// The login address of a parent: `E-mail` when valid, else `E-mail 2` when valid, else none; in the
    /// form it is mailed to (`EmailAddress.normalised`: lowercase, an internationalised domain as A-label).
    public static func loginAddress(email: String?, email2: String?) -> (address: String, column: String)? {
        if let email, EmailAddress.isValid(email.trimmingUnicodeSpace) {
            return (EmailAddress.normalised(email), "E-mail")
        }
        if let email2, EmailAddress.isValid(email2.trimmingUnicodeSpace) {
            return (EmailAddress.normalised(email2), "E-mail 2")
        }
        return nil
    }

    /// Why neither address of a parent can be a login, in Dutch, without repeating either address:
    /// `E-mail is leeg; E-mail 2: twee punten achter elkaar`.
    public static func unusable(email: String?, email2: String?) -> String {
        func why(_ value: String?) -> String {
            guard let value, !value.trimmingUnicodeSpace.isEmpty else { return "is leeg" }
            return "is ongeldig: " + (EmailAddress.problem(value.trimmingUnicodeSpace) ?? "onbekende reden")
        }
        return "geen bruikbaar e-mailadres (E-mail \(why(email)); E-mail 2 \(why(email2)))"
    }

    /// Oudernummers in their natural order: numbers first, numerically (and `007` before `7`), then any
    /// other number as text. A strict total order, so that which parent of a shared address owns it, and the
    /// order of the lists in the report, never depend on the order the rows came in.
    static func precedes(_ lhs: String, _ rhs: String) -> Bool {
        switch (Int(lhs), Int(rhs)) {
        case let (left?, right?): return left != right ? left < right : lhs < rhs
        case (.some, nil): return true
        case (nil, .some): return false
        case (nil, nil): return lhs < rhs
        }
    }

    /// Plans accounts for `parents` (all parents, or those of a scoped run).
    func plan(_ post: PostState, existing: ExistingAccounts, parents scope: Set<String>?, excluded: Set<String> = []) -> AccountPlan {
        var result = AccountPlan()
        // Children with a placement that has started and not ended, or starts within the window.
        let horizon = asOf.adding(days: rules.inviteDaysBeforeStart)
        var childrenInCare: Set<ChildNumber> = []
        for placement in post.active(.placement).compactMap({ Placement(values: $0.values) }) {
            guard placement.start <= horizon else { continue }
            if let end = placement.end, end < asOf { continue }
            if post.record(.child, placement.child.text)?.status == .active { childrenInCare.insert(placement.child) }
        }
        let families = ChildrenOfParents(post.active(.relation).compactMap { Relation(values: $0.values) }, expected: post.count(.relation))
        func childrenOf(_ parent: String) -> ChildrenOfParents.Children { families.children(of: ParentNumber(parent)) }

        struct Candidate { let parent: String; let address: String; let column: String }
        // The account each parent that is a member of another's account is confirmed a member (or owner) of in
        // this run: what the members are checked against below. Kept for those parents alone: a table for
        // every parent was the largest of a first import's, which has no members yet.
        var memberOf: [String: String] = [:]
        func confirm(_ parent: String, in account: String) {
            if let used = existing.accountOf[parent], used != parent { memberOf[parent] = account }
        }
        // An account whose address is gone or taken: not yet activated, its open invitation dies; activated,
        // it is kept (the password stays) and flagged for customer service.
        func lostAddress(_ parent: String, _ account: ExistingAccounts.Account, why: String, state: ParentAccountState.State) {
            // Withdrawn once, the night it happens; a flag stays in every report until it is solved.
            let firstTime = existing.states[parent]?.state != state
            if account.activated {
                result.summary.flagged += 1
                result.addStanding(parent, Issue(.error, "account-flagged", key: parent, message:
                    "ouder \(parent) \(why); het geactiveerde account (gebruikersnaam \(account.emailColumn ?? "e-mailadres") van vroeger) blijft bestaan met hetzelfde wachtwoord. Klantenservice: zet het juiste adres in het planningssysteem"))
            } else if firstTime {
                result.actions.append(.withdraw(owner: parent, reason: "address-gone"))
                result.summary.invitationsWithdrawn += 1
                result.issues.append(Issue(.warning, "invitation-withdrawn", key: parent, message:
                    "ouder \(parent) \(why): het account was nog niet geactiveerd en de openstaande uitnodiging is ingetrokken; er gaat pas weer een uitnodiging uit als er een bruikbaar adres is"))
            }
        }
        // One list, not a table of lists per address: on a first import that is a list for nearly every parent.
        var candidates: [Candidate] = []
        var newStates: [String: ParentAccountState] = [:]
        // Room for every parent looked at, made once: on a first import that is every parent, and tables
        // grown by doubling would hold the old and the new table at once, beside everything else of the run.
        let looked = scope?.count ?? post.count(.parent)
        candidates.reserveCapacity(looked)
        var newcomers = 0
        newStates.reserveCapacity(looked)
        for (parent, values) in post.active(.parent) where (scope?.contains(parent) ?? true) && !excluded.contains(parent) {
            guard let record = Parent(values: values) else { continue }
            let login = AccountPlanner.loginAddress(email: record.email, email2: record.email2)
            let eligible = childrenOf(parent).contains(where: childrenInCare.contains)
            guard eligible else {
                if existing.accountOf[parent] == nil {
                    newStates[parent] = ParentAccountState(state: .notEligible, emailColumn: login?.column)
                } else if childrenOf(parent).isEmpty, let account = existing.accounts[parent] {
                    // Unlinked from every child (a change of custody, a mistake upstream): an invitation
                    // not yet used must not open the portal any more.
                    newStates[parent] = ParentAccountState(state: .notEligible, emailColumn: login?.column,
                                                           detail: "niet meer gekoppeld aan een kind")
                    if !account.activated, existing.states[parent]?.state != .notEligible {
                        result.actions.append(.withdraw(owner: parent, reason: "no-children"))
                        result.summary.invitationsWithdrawn += 1
                        result.issues.append(Issue(.warning, "invitation-withdrawn", key: parent, message:
                            "ouder \(parent) is aan geen enkel kind meer gekoppeld: de openstaande uitnodiging is ingetrokken en werkt niet meer"))
                    }
                } else if let account = existing.accounts[parent] {
                    // No child in care any more (the windows after care may still be open), but the account
                    // stays, and so do the address rules: a link must never outlive the address it went to.
                    newStates[parent] = ParentAccountState(state: .notEligible, emailColumn: login?.column,
                                                           detail: "geen kind meer in de opvang; het account blijft tot de termijnen verstreken zijn")
                    if let login {
                        if login.address != account.username {
                            if account.activated, existing.ownerOfUsername[login.address].map({ $0 == parent }) ?? true {
                                result.actions.append(.move(owner: parent, from: account.username, to: login.address,
                                                            emailColumn: login.column, activated: true))
                                result.summary.moved += 1
                            } else {
                                lostAddress(parent, account, why: account.activated
                                    ? "heeft nu het adres van een ander account" : "heeft een ander e-mailadres en geen kind meer in de opvang",
                                            state: .notEligible)
                            }
                        }
                    } else {
                        lostAddress(parent, account, why: "heeft geen bruikbaar e-mailadres meer (E-mail en E-mail 2 leeg of ongeldig)", state: .notEligible)
                    }
                }
                continue
            }
            guard let login else {
                newStates[parent] = ParentAccountState(state: .noEmail)
                result.summary.withoutEmail += 1
                if let account = existing.accounts[parent] {
                    // The account stays (the parent may have a password); what happens to it is said exactly.
                    lostAddress(parent, account, why: "heeft geen bruikbaar e-mailadres meer (E-mail en E-mail 2 leeg of ongeldig)", state: .noEmail)
                } else {
                    result.withoutAccount.append((parent, AccountPlanner.unusable(email: record.email, email2: record.email2)))
                    result.addStanding(parent, Issue(.warning, "parent-without-email", key: parent, message:
                        "ouder \(parent) heeft een kind in de opvang, maar geen bruikbaar e-mailadres (E-mail en E-mail 2 leeg of ongeldig): geen account"))
                }
                continue
            }
            candidates.append(Candidate(parent: parent, address: login.address, column: login.column))
            if existing.accountOf[parent] == nil { newcomers += 1 }
        }

        // Addresses in a fixed order, so that runs are repeatable; compared as bytes, which is cheap. A login
        // address is ASCII (its local part must be, its domain is an A-label), so two addresses are equal as
        // text only when their bytes are: a group is a run of equal bytes.
        candidates.sort { $0.address.utf8.lexicographicallyPrecedes($1.address.utf8) }
        // A parent without an account gets at most one action (its account made or joined): room for them at
        // once, as a first import makes one for nearly every parent.
        result.actions.reserveCapacity(result.actions.count + newcomers)
        var next = candidates.startIndex
        while next < candidates.endIndex {
            let address = candidates[next].address
            let first = next
            next += 1
            while next < candidates.endIndex, candidates[next].address == address { next += 1 }
            let group = next - first == 1 ? [candidates[first]]
                : candidates[first..<next].sorted { AccountPlanner.precedes($0.parent, $1.parent) }
            let members = Set(group.map(\.parent))
            let holder = existing.ownerOfUsername[address]

            if let holder, !members.contains(holder), existing.accountOf[holder] != nil,
               !group.contains(where: { existing.accountOf[$0.parent] == holder }) {
                // The address belongs to another family's account: nothing changes for this group.
                for candidate in group {
                    newStates[candidate.parent] = ParentAccountState(state: .conflict, emailColumn: candidate.column,
                                                                      detail: "adres in gebruik bij het account van ouder \(holder)")
                    result.summary.conflicts += 1
                    if let account = existing.accounts[candidate.parent], account.username != address {
                        lostAddress(candidate.parent, account, why: "heeft nu het adres van een ander gezin", state: .conflict)
                    }
                    if existing.accountOf[candidate.parent] == nil {
                        result.withoutAccount.append((candidate.parent,
                            "het e-mailadres (\(candidate.column)) is al de gebruikersnaam van het account van ouder \(holder), een ander gezin"))
                    }
                    result.addStanding(candidate.parent, Issue(.error, "address-in-use", key: candidate.parent, message:
                        "het e-mailadres (\(candidate.column)) van ouder \(candidate.parent) is al de gebruikersnaam van het account van ouder \(holder); er verandert niets tot dit in het planningssysteem is opgelost"))
                }
                continue
            }

            // Only a shared address needs the comparison of children (one parent per address is the rule).
            let sameChildren = group.count == 1 || group.dropFirst().allSatisfy { childrenOf($0.parent).elementsEqual(childrenOf(group[0].parent)) }
            // The address stays with the parent who has it; then with a parent who already has an account
            // (an address change); otherwise the lowest Oudernummer gets it.
            let owner = group.first { $0.parent == holder }
                ?? group.first { existing.accounts[$0.parent] != nil }
                ?? group[0]
            var sharing: [String] = []
            if group.count > 1 {
                if sameChildren {
                    sharing = group.map(\.parent).filter { $0 != owner.parent }
                    result.addStanding(owner.parent, Issue(.warning, "shared-address", key: owner.parent, message:
                        "ouders \(group.map(\.parent).joined(separator: " en ")) hebben hetzelfde e-mailadres en dezelfde kinderen: zij delen één account"))
                } else {
                    for loser in group where loser.parent != owner.parent {
                        newStates[loser.parent] = ParentAccountState(state: .conflict, emailColumn: loser.column,
                                                                      detail: "adres ook gebruikt door ouder \(owner.parent) (ander gezin)")
                        result.summary.conflicts += 1
                        if let account = existing.accounts[loser.parent], account.username != address {
                            lostAddress(loser.parent, account, why: "heeft nu het adres van een ander gezin", state: .conflict)
                        }
                        if existing.accountOf[loser.parent] == nil {
                            result.withoutAccount.append((loser.parent,
                                "hetzelfde e-mailadres (\(loser.column)) als ouder \(owner.parent), maar niet dezelfde kinderen"))
                        }
                        result.addStanding(loser.parent, Issue(.error, "address-conflict", key: loser.parent, message:
                            "ouder \(loser.parent) heeft hetzelfde e-mailadres (\(loser.column)) als ouder \(owner.parent), maar niet dezelfde kinderen: geen account voor \(loser.parent), zodat gezinnen elkaars gegevens niet zien"))
                    }
                }
            }

            let ownAccount = existing.accounts[owner.parent]
            if let ownAccount {
                if ownAccount.username != address {
                    result.actions.append(.move(owner: owner.parent, from: ownAccount.username, to: address,
                                                emailColumn: owner.column, activated: ownAccount.activated))
                    result.summary.moved += 1
                    if !ownAccount.activated { result.summary.invited += 1 }
                }
                newStates[owner.parent] = ParentAccountState(state: .account, emailColumn: owner.column)
            } else if let sharedOwner = existing.accountOf[owner.parent], sharedOwner != owner.parent,
                      existing.accounts[sharedOwner]?.username == address {
                // Already a member of the account that has this address.
                newStates[owner.parent] = ParentAccountState(state: .member, emailColumn: owner.column)
                confirm(owner.parent, in: sharedOwner)
            } else {
                result.actions.append(.create(owner: owner.parent, username: address, emailColumn: owner.column, members: sharing))
                result.summary.created += 1
                result.summary.invited += 1
                newStates[owner.parent] = ParentAccountState(state: .account, emailColumn: owner.column)
                confirm(owner.parent, in: owner.parent)
                for member in sharing {
                    newStates[member] = ParentAccountState(state: .member, emailColumn: group.first { $0.parent == member }?.column)
                    confirm(member, in: owner.parent)
                }
                sharing = []
            }
            let accountOwner = existing.accountOf[owner.parent].flatMap { existing.accounts[$0] != nil ? $0 : nil } ?? owner.parent
            for member in sharing where existing.accountOf[member] != accountOwner {
                result.actions.append(.join(parent: member, owner: accountOwner))
                newStates[member] = ParentAccountState(state: .member, emailColumn: group.first { $0.parent == member }?.column)
                confirm(member, in: accountOwner)
            }
            for member in sharing where existing.accountOf[member] == accountOwner {
                newStates[member] = ParentAccountState(state: .member, emailColumn: group.first { $0.parent == member }?.column)
                confirm(member, in: accountOwner)
            }
        }

        // Members are recomputed every night: one that this run did not confirm as a member of the account
        // it uses (its children no longer equal the owner's, its address went elsewhere) leaves it now, so
        // the account shows only its own family's children.
        var detached: [AccountAction] = []
        // The post-run address of every parent with a record, for members this run did not look at.
        func loginOf(_ parent: String) -> String? {
            guard let stored = post.record(.parent, parent), stored.status == .active, let record = Parent(values: stored.values) else { return nil }
            return AccountPlanner.loginAddress(email: record.email, email2: record.email2)?.address
        }
        for (parent, account) in existing.accountOf.sorted(by: { $0.key < $1.key })
        where account != parent && memberOf[parent] != account && (scope?.contains(parent) ?? true) && !excluded.contains(parent) {
            if newStates[parent] == nil {
                // Not looked at as a candidate this run (no child in care, or gone from the export): still a
                // member only while it has the owner's address and exactly the owner's children.
                let sameFamily = childrenOf(parent).elementsEqual(childrenOf(account))
                    && loginOf(parent) != nil && loginOf(parent) == existing.accounts[account]?.username
                if sameFamily { continue }
            }
            detached.append(.detach(parent: parent, owner: account))
            result.summary.detached += 1
            result.issues.append(Issue(.warning, "member-detached", key: parent, message:
                "ouder \(parent) deelde het account van ouder \(account), maar hoort daar niet meer bij (niet meer hetzelfde adres en dezelfde kinderen): losgekoppeld; het account toont alleen nog de kinderen van het gezin van ouder \(account)"))
        }
        result.actions.insert(contentsOf: detached, at: 0)

        // Before any account (a first import) every state is new: the table is taken whole, not copied.
        if existing.states.isEmpty {
            result.states = newStates
        } else {
            for (parent, state) in newStates where existing.states[parent] != state {
                result.states[parent] = state
            }
        }
        // Parents were looked at in no fixed order: their issues are put in the order of their numbers (each
        // parent's own in the order they arose), so that the same night gives the same report.
        result.issues = result.issues.enumerated().sorted { lhs, rhs in
            let left = lhs.element.key ?? "", right = rhs.element.key ?? ""
            return left != right ? AccountPlanner.precedes(left, right) : lhs.offset < rhs.offset
        }.map(\.element)
        // Conflicts stay in every report until they are solved, not only the night they appear.
        return result
    }
}

/// Every parent's children after the run, from the relations: pairs of parent and child in the order of the
/// parents' numbers, then the children's, each pair once (`GroupedPairs`).
struct ChildrenOfParents {
    typealias Children = GroupedPairs<ParentNumber, ChildNumber>.Values
    private let pairs: GroupedPairs<ParentNumber, ChildNumber>

    /// `expected`: about how many relations there are, so that the list is made once rather than grown by doubling.
    init(_ relations: some Sequence<Relation>, expected: Int = 0) {
        var pairs: [(key: ParentNumber, value: ChildNumber)] = []
        pairs.reserveCapacity(expected)
        for relation in relations { pairs.append((relation.parent, relation.child)) }
        self.pairs = GroupedPairs(distinct: consume pairs)
    }

    /// The children of `parent` in order, each once; none for a parent without a relation. Two parents
    /// have the same children when these are equal, element by element.
    func children(of parent: ParentNumber) -> Children { pairs[parent] }

}
