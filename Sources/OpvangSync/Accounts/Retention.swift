import PortalStore

/// How long parents keep access after a child's last placement ended (SPEC §4 "Access after the last
/// placement"): photos and diary for 8 weeks, documents for 24 months and only for `Ouder 1`.
public struct AccessWindow: Sendable, Equatable {
    public var parent: String
    public var child: String
    public var lastEnd: Day
    public var photosUntil: Day
    /// nil: this parent does not see documents (not `Ouder 1`).
    public var documentsUntil: Day?

    public init(parent: String, child: String, lastEnd: Day, firstParent: Bool) {
        self.parent = parent
        self.child = child
        self.lastEnd = lastEnd
        photosUntil = lastEnd.adding(days: AccessWindow.photoDays)
        documentsUntil = firstParent ? lastEnd.adding(months: 24) : nil
    }

    /// Photos and diary stay for 8 weeks after the last day of care; so long, too, a child without any
    /// parent linked is kept before it is purged.
    static let photoDays = 8 * 7

    /// The last day this parent sees anything of this child.
    public var until: Day { max(photosUntil, documentsUntil ?? photosUntil) }
}

/// SPEC §7 `retention`: what a run disabled, enabled and purged.
public struct RetentionSummary: Codable, Sendable, Equatable {
    public var windowsOpened = 0
    public var childrenPurged: [String] = []
    public var parentsPurged: [String] = []
    public var relationsRemoved = 0
}

/// The retention side of a run, decided on the post-run state.
struct RetentionPlan {
    var windows: [String: AccessWindow] = [:]          // "parent/child" → window
    var removedWindows: [String] = []                  // "parent/child"
    var disable: [String] = []                          // account owners
    var enable: [String] = []
    var purgeChildren: [String] = []
    var purgeParents: [String] = []
    var removeRelations: [String] = []                  // relation keys
    /// Account owners disabled because their family is no longer linked to any child.
    var unlinked: [String] = []
    var summary = RetentionSummary()
    var disabledCount = 0
    var enabledCount = 0
}

/// Access windows, account disabling and purging, from what the portal will hold after the run.
struct RetentionPlanner {
    let asOf: Day

    struct Stored {
        var windows: [String: AccessWindow] = [:]
        var purgedChildren: Set<ChildNumber> = []
        var purgedParents: Set<ParentNumber> = []
    }

    /// `scope`: the parents whose windows and accounts may change (nil: every parent). `children`: the
    /// children whose every placement and relation `post` holds (nil: all of them). A scoped or incremental
    /// run holds some records of other children too (a placement it compared, one of a group it lists),
    /// which say nothing of the rest of their care: no window is opened and no child purged on those.
    func plan(_ post: PostState, existing: ExistingAccounts, stored: Stored, scope: Set<String>?, children inView: Set<String>? = nil) -> RetentionPlan {
        var result = RetentionPlan()
        let seenWhole = { (child: ChildNumber) in inView?.contains(child.text) ?? true }
        var inCare: Set<ChildNumber> = []
        var lastEnd: [ChildNumber: Day] = [:]
        for (_, record) in post.records(.placement) {
            guard let placement = Placement(values: record.values) else { continue }
            let child = placement.child
            switch record.status {
            case .active: inCare.insert(child)
            case .ended:
                if let end = placement.end { lastEnd[child] = max(lastEnd[child] ?? end, end) }
            case .vanished:
                // Care that vanished from the export without an end date ended the day it vanished (SPEC §4
                // "Lifecycle edges"): otherwise its access would never end and the child never be purged.
                let end = record.statusSince ?? asOf
                lastEnd[child] = max(lastEnd[child] ?? end, end)
            default: break
            }
        }
        // Relations in any status: a family that left the export still had these children. But a relation
        // removed while the child and the parent are both still exported is a change of custody: that
        // parent loses access to the child at once, without a window (SPEC §4 "Lifecycle edges").
        // Each child's parents and each parent's children, as lists of pairs (`GroupedPairs`): a table of
        // arrays and one of sets were two and a half million small objects at the scale of the whole market.
        var links: [(key: ChildNumber, value: (parent: ParentNumber, key: String, first: Bool))] = []
        var families: [(key: ParentNumber, value: ChildNumber)] = []
        links.reserveCapacity(post.count(.relation))
        families.reserveCapacity(post.count(.relation))
        for (key, record) in post.records(.relation) {
            guard let relation = Relation(values: record.values) else { continue }
            let child = relation.child, parent = relation.parent
            if record.status != .active, post.record(.child, child.text)?.status == .active, post.record(.parent, parent.text)?.status == .active {
                continue
            }
            links.append((child, (parent, key, relation.isFirstParent)))
            families.append((parent, child))
        }
        let parentsOf = GroupedPairs(consume links)
        let childrenOf = GroupedPairs(distinct: consume families)

        for (child, end) in lastEnd where !inCare.contains(child) && seenWhole(child) {
            for link in parentsOf[child] where scope?.contains(link.parent.text) ?? true {
                let window = AccessWindow(parent: link.parent.text, child: child.text, lastEnd: end, firstParent: link.first)
                result.windows["\(link.parent)/\(child)"] = window
            }
        }
        for (key, window) in stored.windows where result.windows[key] == nil && (scope?.contains(window.parent) ?? true) {
            result.removedWindows.append(key)
        }
        result.summary.windowsOpened = result.windows.keys.filter { stored.windows[$0] == nil }.count
        for key in result.windows.keys where stored.windows[key] == result.windows[key] { result.windows[key] = nil }
        let windows = stored.windows.merging(result.windows) { _, new in new }.filter { !result.removedWindows.contains($0.key) }

        // An account is disabled once every window of every linked child has passed; care again enables it.
        let membersOf = GroupedPairs(existing.accountOf.map { (key: $0.value, value: $0.key) })
        for (owner, account) in existing.accounts where scope?.contains(owner) ?? true {
            let found = membersOf[owner]
            let members = found.isEmpty ? [owner] : Array(found)
            let links = members.flatMap { parent in childrenOf[ParentNumber(parent)].map { (parent, $0) } }
            guard !links.isEmpty else {
                // Unlinked from every child: nothing left to see, so the account is disabled now.
                if !account.disabled, members.contains(where: { post.record(.parent, $0)?.status == .active }) {
                    result.disable.append(owner)
                    result.unlinked.append(owner)
                }
                continue
            }
            if links.contains(where: { inCare.contains($0.1) }) {
                if account.disabled { result.enable.append(owner) }
                continue
            }
            let allPassed = links.allSatisfy { parent, child in windows["\(parent)/\(child)"].map { $0.until < asOf } ?? false }
            if allPassed, !account.disabled { result.disable.append(owner) }
        }
        result.disabledCount = result.disable.count
        result.enabledCount = result.enable.count

        // A child is purged once all its windows have passed; its parents once they have no child left.
        var purged = stored.purgedChildren
        var purgeChildren: [ChildNumber] = []
        for (child, end) in lastEnd where !inCare.contains(child) && !stored.purgedChildren.contains(child) && seenWhole(child) {
            let links = parentsOf[child]
            guard links.allSatisfy({ scope?.contains($0.parent.text) ?? true }) || scope == nil else { continue }
            let until = links.map { AccessWindow(parent: $0.parent.text, child: child.text, lastEnd: end, firstParent: $0.first).until }.max()
                ?? end.adding(days: AccessWindow.photoDays)
            if until < asOf {
                purgeChildren.append(child)
                purged.insert(child)
            }
        }
        let keptChildren = { (parent: ParentNumber) in childrenOf[parent].filter { !purged.contains($0) } }
        for child in purgeChildren {
            for link in parentsOf[child] where keptChildren(link.parent).isEmpty {
                result.removeRelations.append(link.key)
            }
        }
        var purgeParents: [ParentNumber] = []
        let purgedNow = Set(purgeChildren)
        for (parent, children) in childrenOf.groups where !purgedNow.isEmpty && children.contains(where: { purgedNow.contains($0) })
            && (scope?.contains(parent.text) ?? true) && keptChildren(parent).isEmpty && !stored.purgedParents.contains(parent) {
            purgeParents.append(parent)
        }
        result.purgeChildren = purgeChildren.sorted().map(\.text)
        result.purgeParents = purgeParents.sorted().map(\.text)
        result.summary.childrenPurged = result.purgeChildren
        result.summary.parentsPurged = result.purgeParents
        result.summary.relationsRemoved = result.removeRelations.count
        return result
    }
}

/// Reads and writes retention state; writes are part of the run's transaction.
struct RetentionStore {
    let database: Database?

    func load() throws -> RetentionPlanner.Stored {
        var stored = RetentionPlanner.Stored()
        guard let database else { return stored }
        try database.statement("SELECT parent_number, child_number, last_end, photos_until, documents_until FROM access_windows").forEachRow { row in
            guard let parent = row.string(0), let child = row.string(1), let end = row.string(2).flatMap(Day.init(iso:)) else { return }
            var window = AccessWindow(parent: parent, child: child, lastEnd: end, firstParent: !row.isNull(4))
            window.photosUntil = row.string(3).flatMap(Day.init(iso:)) ?? window.photosUntil
            window.documentsUntil = row.string(4).flatMap(Day.init(iso:))
            stored.windows["\(parent)/\(child)"] = window
        }
        stored.purgedChildren = Set(try database.query("SELECT key FROM children WHERE purged_at IS NOT NULL") { ChildNumber($0.string(0) ?? "") })
        stored.purgedParents = Set(try database.query("SELECT key FROM parents WHERE purged_at IS NOT NULL") { ParentNumber($0.string(0) ?? "") })
        return stored
    }

}

/// A purge that cannot be completed: the run rolls back rather than keep personal data it must remove.
struct RetentionFailure: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
