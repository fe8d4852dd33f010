import PortalStore

/// The parents a run invited, and those it left without an account: SPEC §7 "the invited parents with the
/// e-mail column used".
public struct ParentAccounts: Codable, Sendable, Equatable {
    /// A parent whose invitation this run queued (a dry run: would queue).
    public struct Invited: Codable, Sendable, Equatable {
        public var parent: String
        public var name: String?
        /// The address the invitation goes to.
        public var address: String
        /// `E-mail` or `E-mail 2`: the column the address came from.
        public var column: String
        /// `new-account`, or `address-changed` (an account not yet activated moved to a new address).
        public var why: String
    }

    /// A parent with a child in care who gets no account.
    public struct WithoutAccount: Codable, Sendable, Equatable {
        public var parent: String
        public var name: String?
        /// Why, in Dutch.
        public var reason: String
    }

    /// The first `listLimit` invitations, in Oudernummer order; `accounts.invited` counts them all.
    public var invited: [Invited] = []
    public var invitedTruncated = false
    public var withoutAccount: [WithoutAccount] = []

    public static let listLimit = 2000

    public init() {}

    /// The invitations and refusals of an account plan, with the parents' names from the post-run state.
    static func of(_ plan: AccountPlan, post: PostState) -> ParentAccounts {
        func name(_ parent: String) -> String? {
            guard let text = post.record(.parent, parent).flatMap({ Parent(values: $0.values) })?.fullName else { return nil }
            return text.isEmpty ? nil : text
        }
        var invitations: [(parent: String, address: String, column: String, why: String)] = []
        for action in plan.actions {
            switch action {
            case .create(let owner, let username, let column, _):
                invitations.append((owner, username, column, "new-account"))
            case .move(let owner, _, let to, let column, let activated) where !activated:
                invitations.append((owner, to, column, "address-changed"))
            default:
                break
            }
        }
        invitations.sort { AccountPlanner.precedes($0.parent, $1.parent) }
        var result = ParentAccounts()
        result.invited = invitations.prefix(listLimit).map {
            Invited(parent: $0.parent, name: name($0.parent), address: $0.address, column: $0.column, why: $0.why)
        }
        result.invitedTruncated = invitations.count > listLimit
        result.withoutAccount = plan.withoutAccount.sorted { AccountPlanner.precedes($0.parent, $1.parent) }.map {
            WithoutAccount(parent: $0.parent, name: name($0.parent), reason: $0.reason)
        }
        return result
    }
}

extension ParentAccounts {
    /// An incremental run plans accounts only for the families it touches: the parents it leaves alone
    /// who are without an account are taken from the states the portal keeps (`account_state`), so the
    /// list stays complete every night, as a full run's is.
    mutating func addStored(from database: Database, except planned: Set<String>) throws {
        // From the few parents in these states to their rows (CROSS JOIN keeps that order): the other way
        // round reads every parent. In the order of their numbers, so that the pages of the parents' key
        // index are read one after another rather than each on its own (tens of thousands at a million
        // children); `LIMIT -1` keeps SQLite from dropping the subquery's order inside the join.
        var listed = Set(withoutAccount.map(\.parent))
        try database.statement("""
            SELECT s.parent_number, s.state, s.detail, \(PortalRepository.fullName("p")), p.email, p.email2
            FROM (SELECT parent_number, state, detail FROM account_state WHERE state IN ('no-email', 'conflict') ORDER BY parent_number LIMIT -1) s
              CROSS JOIN parents p ON p.key = s.parent_number AND p.status = 'active' AND p.purged_at IS NULL
            WHERE NOT EXISTS (SELECT 1 FROM account_members m WHERE m.parent_number = s.parent_number)
            """).forEachRow([]) { row in
            guard let parent = row.string(0), !planned.contains(parent), listed.insert(parent).inserted else { return }
            let reason = row.string(1) == "conflict"
                ? (row.string(2) ?? "het e-mailadres hoort bij een ander gezin")
                : AccountPlanner.unusable(email: row.string(4), email2: row.string(5))
            let name = row.string(3)
            withoutAccount.append(WithoutAccount(parent: parent, name: name?.isEmpty == false ? name : nil, reason: reason))
        }
        withoutAccount.sort { AccountPlanner.precedes($0.parent, $1.parent) }
    }
}

/// The figures of one location, so that each location's staff find their own part of the run.
public struct LocationTotals: Codable, Sendable, Equatable {
    public var code: String
    public var name: String?
    /// Active groups of the location after the run.
    public var groups = 0
    /// Children with a placement in one of its groups that has started and not ended on the run date.
    public var childrenInCare = 0
    /// Active placements (started or yet to start) after the run.
    public var placements = 0
    /// This run's placement changes in its groups.
    public var placementsCreated = 0
    public var placementsUpdated = 0
    /// Ended or vanished in this run.
    public var placementsEnded = 0

    /// Every location of the post-run state, in code order, with the placement changes of `plan`.
    static func of(_ post: PostState, plan: Plan, asOf: Day) -> [LocationTotals] {
        var totals: [String: LocationTotals] = [:]
        for (code, values) in post.active(.location) {
            totals[code] = LocationTotals(code: code, name: Location(values: values)?.name)
        }
        var locationOfGroup: [GroupCode: String] = [:]
        for (key, record) in post.records(.group) {
            guard let location = Group(values: record.values)?.location.text else { continue }
            locationOfGroup[GroupCode(key)] = location
            if record.status == .active { totals[location, default: LocationTotals(code: location)].groups += 1 }
        }
        var children: [String: Set<ChildNumber>] = [:]
        for placement in post.active(.placement).compactMap({ Placement(values: $0.values) }) {
            guard let group = placement.group, let location = locationOfGroup[group] else { continue }
            totals[location, default: LocationTotals(code: location)].placements += 1
            if placement.runs(on: asOf) { children[location, default: []].insert(placement.child) }
        }
        for (location, set) in children { totals[location]?.childrenInCare = set.count }
        for change in plan.changes where change.kind == .placement {
            let record = post.record(.placement, change.key)
            guard let group = record.flatMap({ Placement(values: $0.values) })?.group, let location = locationOfGroup[group] else { continue }
            switch change.action {
            case .created, .restored: totals[location, default: LocationTotals(code: location)].placementsCreated += 1
            case .updated: totals[location, default: LocationTotals(code: location)].placementsUpdated += 1
            case .ended, .vanished: totals[location, default: LocationTotals(code: location)].placementsEnded += 1
            }
        }
        return totals.values.sorted { $0.code < $1.code }
    }
}

extension LocationTotals {
    /// A group after the run: its location, and whether it is active.
    typealias GroupAfter = (location: String, active: Bool)

    /// Every group after an incremental run, whose post-run state holds only the records it compared: what the
    /// run did not touch as the portal holds it, what it touched as the plan leaves it.
    static func groupsAfter(_ post: PostState, plan: Plan, database: Database) throws -> [String: GroupAfter] {
        var groups: [String: GroupAfter] = [:]
        try database.statement("SELECT key, location_code, status FROM groups").forEachRow([]) { row in
            if let key = row.string(0), let location = row.string(1) { groups[key] = (location, row.string(2) == "active") }
        }
        for change in plan.changes where change.kind == .group {
            if let record = post.record(.group, change.key), let group = Group(values: record.values) {
                groups[change.key] = (group.location.text, record.status == .active)
            }
        }
        return groups
    }

    /// The same figures for an incremental run, whose post-run state holds only the records it compared:
    /// what the run did not touch is counted in the portal, what it touched is taken from the plan.
    /// `groups`: every group after the run (`groupsAfter`).
    static func incremental(_ post: PostState, plan: Plan, asOf: Day, groups: [String: GroupAfter],
                            database: Database) throws -> [LocationTotals] {
        var names: [String: String?] = [:]
        try database.statement("SELECT key, name FROM locations WHERE status = 'active'").forEachRow([]) { row in
            if let key = row.string(0) { names[key] = row.string(1) }
        }
        let touched = Set(plan.changes.filter { $0.kind == .placement }.map(\.key))
        for change in plan.changes where change.kind == .location {
            let record = post.record(.location, change.key)
            if record?.status == .active { names[change.key] = record.flatMap({ Location(values: $0.values) })?.name } else { names[change.key] = nil }
        }
        var totals: [String: LocationTotals] = [:]
        for (code, name) in names { totals[code] = LocationTotals(code: code, name: name) }
        for (_, group) in groups where group.active { totals[group.location, default: LocationTotals(code: group.location)].groups += 1 }
        // Every active placement is counted, a million at the scale of the whole market: per row, a group is
        // looked up once by its bytes and its location's figures are counted in an array, and a child is
        // counted by the fingerprint of its number (`InCare`), without a `String` made of either.
        var locations: [String] = []
        var slotOf: [String: Int] = [:]
        var slotOfGroup = KeyTable(minimumCapacity: groups.count)
        for (code, group) in groups {
            let slot = slotOf[group.location] ?? { locations.append(group.location); return locations.count - 1 }()
            slotOf[group.location] = slot
            slotOfGroup.updateValue(UInt64(slot), forKey: code)
        }
        var placements = [Int](repeating: 0, count: locations.count)
        var inCare = [InCare](repeating: InCare(), count: locations.count)
        // The placements the run left alone, as the portal holds them; the touched ones as they will be. Read
        // in table order (`+status`): nearly every placement is active, and the status index would fetch each
        // row on its own.
        try database.statement("""
            SELECT group_code, child_number, start_date <= ? AND (end_date IS NULL OR end_date >= ?) FROM placements
            WHERE +status = 'active' AND key NOT IN \(PortalLookup.set)
            """).forEachRow([.text(asOf.iso), .text(asOf.iso), PortalLookup.bind(touched)]) { row in
            guard let group = row.textBytes(0), let slot = slotOfGroup.value(forKeyBytes: group).map(Int.init) else { return }
            placements[slot] += 1
            if row.int(2) == 1, let child = row.textBytes(1) { inCare[slot].insert(child) }
        }
        for key in touched {
            guard let record = post.record(.placement, key), record.status == .active, let placement = Placement(values: record.values),
                  let group = placement.group, let slot = slotOfGroup[group.text].map(Int.init) else { continue }
            placements[slot] += 1
            if placement.runs(on: asOf) { inCare[slot].insert(placement.child.text) }
        }
        for (slot, location) in locations.enumerated() where placements[slot] > 0 {
            totals[location, default: LocationTotals(code: location)].placements += placements[slot]
            totals[location]?.childrenInCare = inCare[slot].distinct()
        }
        for change in plan.changes where change.kind == .placement {
            guard let group = post.record(.placement, change.key).flatMap({ Placement(values: $0.values) })?.group,
                  let location = groups[group.text]?.location else { continue }
            switch change.action {
            case .created, .restored: totals[location, default: LocationTotals(code: location)].placementsCreated += 1
            case .updated: totals[location, default: LocationTotals(code: location)].placementsUpdated += 1
            case .ended, .vanished: totals[location, default: LocationTotals(code: location)].placementsEnded += 1
            }
        }
        return totals.values.sorted { $0.code < $1.code }
    }
}

/// Mail that could not be delivered, listed once in the next report: a refusal at sending (SMTP 5xx), a
/// delivery status notification that came back later, or a message that failed after its last attempt.
public struct UndeliveredMail: Codable, Sendable, Equatable {
    public var parent: String?
    /// `invitation`, `resend`, `address-change-old`, `address-change-new`.
    public var kind: String
    /// `bounced` or `failed`.
    public var status: String
    public var address: String
    /// The enhanced status code of a bounce (`5.1.1`), when known.
    public var statusCode: String?
    /// What the receiving server said, cleaned of control characters and addresses.
    public var diagnostic: String?
    /// When it was found (a bounce report's arrival, or the last attempt).
    public var at: String?
}

/// Changes to one group's attendance list over the horizon.
public struct GroupAttendance: Codable, Sendable, Equatable {
    public var added = 0
    public var removed = 0
    public var changed = 0
}

extension AttendanceSummary {
    /// Adds to `perGroup` what the counts grew by since `before`, for one group whose list was just compared.
    mutating func record(group: String, since before: (added: Int, removed: Int, changed: Int)) {
        let counts = GroupAttendance(added: added - before.added, removed: removed - before.removed, changed: changed - before.changed)
        guard counts.added + counts.removed + counts.changed > 0 else { return }
        perGroup = perGroup ?? [:]
        perGroup?[group] = counts
    }
}

/// The children in care at one location, counted once each. A child's number is a `String`, equal to another
/// when canonically equivalent: an ASCII number is kept by its fingerprint (`ASCIIKey`, equal bytes), any
/// other by its composed form, or by that form's fingerprint when it is ASCII (the Kelvin sign and `K`).
///
/// The fingerprints are gathered in a list and counted once, sorted, at the end: a million children at the
/// scale of the whole market, nearly each in care at one location once, were a million insertions in hash
/// sets, a hash of a hash each.
private struct InCare {
    private var ascii: [UInt64] = []
    private var other: Set<String> = []

    mutating func insert(_ bytes: UnsafeBufferPointer<UInt8>) {
        if let fingerprint = ASCIIKey.fingerprint(bytes) { ascii.append(fingerprint) } else { insert(String(decoding: bytes, as: UTF8.self)) }
    }

    mutating func insert(_ text: String) {
        let composed = ASCIIKey.composed(text)
        if let fingerprint = composed.fingerprint { ascii.append(fingerprint) } else { other.insert(composed.text) }
    }

    /// How many different children were inserted.
    mutating func distinct() -> Int {
        ascii.sort()
        var count = 0
        for (index, fingerprint) in ascii.enumerated() where index == 0 || ascii[index - 1] != fingerprint { count += 1 }
        return count + other.count
    }
}
