import PortalStore

/// What an incremental run plans accounts and lists for: the families that its changes touch and those
/// the date alone reaches, found from the portal's indexes rather than by reading every record.
///
/// - families: a changed child, parent, relation, placement or deviation brings in its child and parent,
///   then every child of those parents and every parent of those children (as a scoped run of the family);
/// - the date: placements whose end passed or whose start came within the invitation window since the last
///   run, access windows that passed since then, and care that ended 8 weeks ago;
/// - what an account that moved to another address left behind: parents kept from its old address, and
///   members whose address is no longer the account's;
/// - lists: the groups of every changed placement and deviation (and of a child that left or returned),
///   of changed groups and of changed closing days, for the whole horizon; every other group only for the
///   days the horizon gained since the last run.
struct IncrementalScope {
    var children: Set<String> = []
    var parents: Set<String> = []
    /// Groups whose lists are built again for the whole horizon.
    var groups: Set<String> = []

    init(_ plan: Plan, current: [EntityKind: [String: StoredRecord]], asOf: Day, lastAsOf: Day, rules: Rules,
         database: Database) throws {
        let lookup = PortalLookup(database: database)
        let value = { IncrementalScope.value($0, $1, current: current) }
        var locations: Set<String> = []
        var everyGroup = false
        for change in plan.changes {
            switch change.kind {
            case .child: children.insert(change.key)
            case .parent: parents.insert(change.key)
            case .relation:
                if let child = value(change, "childNumber") { children.insert(child) }
                if let parent = value(change, "parentNumber") { parents.insert(parent) }
            case .placement, .deviation:
                if let child = value(change, "childNumber") { children.insert(child) }
            case .group: groups.insert(change.key)
            case .location: locations.insert(change.key)
            case .calendar:
                if let location = value(change, "locationCode") { locations.insert(location) } else { everyGroup = true }
            case .staff: break
            }
        }
        // The date alone: care that ended or comes within the invitation window, windows after care that passed.
        // Each from its date index (SQLite, without statistics, would take the status index: every placement).
        let window = rules.inviteDaysBeforeStart
        children.formUnion(try lookup.strings("""
            SELECT child_number FROM placements INDEXED BY placements_end WHERE status = 'active' AND end_date >= ? AND end_date < ?
            UNION SELECT child_number FROM placements INDEXED BY placements_start WHERE status = 'active' AND start_date > ? AND start_date <= ?
            """, [.text(lastAsOf.iso), .text(asOf.iso), .text(lastAsOf.adding(days: window).iso), .text(asOf.adding(days: window).iso)]))
        // Care that ended 8 weeks ago: a child no parent is linked to any more has no window to pass, and is
        // purged then (a child with windows is reached by them as well).
        let photos = AccessWindow.photoDays
        children.formUnion(try lookup.strings("""
            SELECT child_number FROM placements INDEXED BY placements_last_day
            WHERE status IN ('ended', 'vanished') AND \(PortalSchema.placementLastDay) >= ? AND \(PortalSchema.placementLastDay) < ?
            """, [.text(lastAsOf.adding(days: -photos).iso), .text(asOf.adding(days: -photos).iso)]))
        let passed: [SQLValue] = [.text(lastAsOf.iso), .text(asOf.iso)]
        try database.statement("""
            SELECT parent_number, child_number FROM access_windows WHERE photos_until >= ? AND photos_until < ?
            UNION SELECT parent_number, child_number FROM access_windows WHERE documents_until >= ? AND documents_until < ?
            """).forEachRow(passed + passed) { row in
            if let parent = row.string(0) { parents.insert(parent) }
            if let child = row.string(1) { children.insert(child) }
        }
        // An account that moved to another address is weighed against the accounts as they were before the
        // run: a full run settles what the move leaves behind on the next night, and so must this one. Parents
        // whose address another family's account held when they were last planned, where no other account
        // holds it now (a full run gives them the address); and members whose address is no longer their
        // account's (a full run detaches them). Both lists are short: the standing issues and the members.
        parents.formUnion(try lookup.strings("""
            SELECT s.parent_number FROM standing_issues s CROSS JOIN parents p ON p.key = s.parent_number
            WHERE s.code = 'address-in-use' AND +p.status = 'active' AND NOT EXISTS (
                SELECT 1 FROM accounts a WHERE lower(a.username) IN (lower(p.email), lower(p.email2)) AND a.parent_number <> s.parent_number)
            UNION
            SELECT m.parent_number FROM account_members m INDEXED BY account_members_shared CROSS JOIN accounts a ON a.parent_number = m.account
            CROSS JOIN parents p ON p.key = m.parent_number
            WHERE m.parent_number <> m.account AND lower(a.username) NOT IN (lower(COALESCE(p.email, '')), lower(COALESCE(p.email2, '')))
            """, []))
        try closeOverFamiliesAndAddresses(plan, value: value, lookup: lookup)
        if everyGroup {
            groups.formUnion(try lookup.strings("SELECT key FROM groups", []))
        } else if !locations.isEmpty {
            groups.formUnion(try lookup.strings("SELECT key FROM groups WHERE location_code IN \(PortalLookup.set)",
                                                [PortalLookup.bind(locations)]))
        }
    }

    /// The parents who share an address or an account with `parents`: every parent who has (or had) one of
    /// their addresses, and the members and owners of their accounts. Who gets an address, and who may use an
    /// account, is decided among all of them (a scoped run plans their accounts with its family's).
    static func sharingParents(of parents: Set<String>, plan: Plan, current: [EntityKind: [String: StoredRecord]],
                               database: Database) throws -> Set<String> {
        let lookup = PortalLookup(database: database)
        var sharing = try addressSharers(of: parents, plan: plan, value: { IncrementalScope.value($0, $1, current: current) },
                                         lookup: lookup)
        sharing.formUnion(try lookup.strings("""
            SELECT parent_number FROM account_members WHERE account IN \(PortalLookup.set)
            UNION SELECT account FROM account_members WHERE parent_number IN \(PortalLookup.set)
            """, [PortalLookup.bind(parents), PortalLookup.bind(parents)]))
        return sharing.subtracting(parents)
    }

    /// A field of a change's record: as the change leaves it, else as the portal holds it (`current`).
    private static func value(_ change: Change, _ field: String, current: [EntityKind: [String: StoredRecord]]) -> String? {
        let index = change.kind.schema.index(field)
        return change.values?[index] ?? current[change.kind]?[change.key]?.values[index] ?? nil
    }

    /// Whole families, as a scoped run of each would take them; then every parent who has (or had) one of
    /// their addresses, with that parent's family: who gets an address is decided among all of them.
    private mutating func closeOverFamiliesAndAddresses(_ plan: Plan, value: (Change, String) -> String?, lookup: PortalLookup) throws {
        try closeFamilies(plan, value: value, lookup: lookup)
        let sharing = try IncrementalScope.addressSharers(of: parents, plan: plan, value: value, lookup: lookup)
        if !sharing.isSubset(of: parents) {
            parents.formUnion(sharing)
            try closeFamilies(plan, value: value, lookup: lookup)
        }
    }

    /// Every parent who has, or had, an address of `parents` (in the plan, in the portal, or as an account's
    /// login name).
    private static func addressSharers(of parents: Set<String>, plan: Plan, value: (Change, String) -> String?,
                                       lookup: PortalLookup) throws -> Set<String> {
        var addresses: Set<String> = []
        for change in plan.changes where change.kind == .parent && parents.contains(change.key) {
            for field in ["email", "email2"] { if let address = value(change, field) { addresses.insert(address.lowercased()) } }
        }
        addresses.formUnion(try lookup.strings("""
            SELECT lower(email) FROM parents WHERE key IN \(PortalLookup.set) AND email IS NOT NULL
            UNION SELECT lower(email2) FROM parents WHERE key IN \(PortalLookup.set) AND email2 IS NOT NULL
            UNION SELECT lower(username) FROM accounts WHERE parent_number IN \(PortalLookup.set)
            """, [PortalLookup.bind(parents), PortalLookup.bind(parents), PortalLookup.bind(parents)]))
        return Set(try lookup.strings("""
            SELECT key FROM parents WHERE lower(email) IN \(PortalLookup.set) OR lower(email2) IN \(PortalLookup.set)
            UNION SELECT parent_number FROM accounts WHERE lower(username) IN \(PortalLookup.set)
            """, [PortalLookup.bind(addresses), PortalLookup.bind(addresses), PortalLookup.bind(addresses)]))
    }

    /// Every child of the parents, then every parent of those children (the relations in the portal and in
    /// the plan).
    private mutating func closeFamilies(_ plan: Plan, value: (Change, String) -> String?, lookup: PortalLookup) throws {
        for relation in plan.changes where relation.kind == .relation {
            if let child = value(relation, "childNumber"), let parent = value(relation, "parentNumber"),
               parents.contains(parent) { children.insert(child) }
        }
        children.formUnion(try lookup.strings("SELECT child_number FROM relations WHERE parent_number IN \(PortalLookup.set)",
                                              [PortalLookup.bind(parents)]))
        parents.formUnion(try lookup.strings("SELECT parent_number FROM relations WHERE child_number IN \(PortalLookup.set)",
                                             [PortalLookup.bind(children)]))
        for relation in plan.changes where relation.kind == .relation {
            if let child = value(relation, "childNumber"), let parent = value(relation, "parentNumber"),
               children.contains(child) { parents.insert(parent) }
        }
    }
}
