import PortalStore

/// SPEC §5, the mass-removal guard per location: how many of a location's active placements and active
/// children a plan would remove because the export no longer has them.
///
/// Weighed against the portal as a whole (the database, not the records a scoped run compared), so that
/// a scoped run weighs a location exactly as the night's full run does. A placement that reaches its own
/// Einddatum is not counted, as in the overall guard: the export says so explicitly. A location that is
/// missing from the locations file altogether is weighed as a location without placements.
struct LocationWeighing {
    /// One location's share of the plan's removals.
    struct Weight: Equatable, Sendable {
        var activePlacements = 0
        /// Active placements that vanish: the export no longer has them, and they had no end date.
        var placementsWouldEnd = 0
        /// Active children (their record active) with an active placement here.
        var activeChildren = 0
        /// Those of them whose record the export no longer has.
        var childrenWouldEnd = 0
        var missingFromLocationsFile = false

        /// More than `threshold` of its active placements or of its active children would go.
        func exceeds(_ threshold: Double) -> Bool {
            func over(_ part: Int, _ whole: Int) -> Bool { whole > 0 && Double(part) / Double(whole) > threshold }
            return over(placementsWouldEnd, activePlacements) || over(childrenWouldEnd, activeChildren)
        }

        var placementFraction: Double { activePlacements == 0 ? 0 : Double(placementsWouldEnd) / Double(activePlacements) }
        var childFraction: Double { activeChildren == 0 ? 0 : Double(childrenWouldEnd) / Double(activeChildren) }
    }

    /// The weight of every location the plan removes something from; empty when it removes nothing (most
    /// nights cost no more than one pass over the plan).
    static func weigh(_ plan: Plan, repository: PortalRepository?) throws -> [String: Weight] {
        var vanished: Set<String> = []
        var endedChildren: Set<String> = []
        var endedLocations: Set<String> = []
        for change in plan.changes {
            switch (change.kind, change.action) {
            case (.placement, .vanished): vanished.insert(change.key)
            case (.child, .ended): endedChildren.insert(change.key)
            case (.location, .ended): endedLocations.insert(change.key)
            default: break
            }
        }
        guard let repository, !(vanished.isEmpty && endedChildren.isEmpty && endedLocations.isEmpty) else { return [:] }
        let database = repository.database
        var weights: [String: Weight] = [:]
        if !vanished.isEmpty {
            try database.statement("""
                SELECT g.location_code, COUNT(*) FROM placements p JOIN groups g ON g.key = p.group_code
                WHERE p.key IN \(PortalLookup.set) GROUP BY g.location_code
                """).forEachRow([PortalLookup.bind(vanished)]) { row in
                if let code = row.string(0) { weights[code, default: Weight()].placementsWouldEnd += row.int(1) ?? 0 }
            }
        }
        if !endedChildren.isEmpty {
            // A child placed at two locations counts at both.
            try database.statement("""
                SELECT g.location_code, COUNT(DISTINCT p.child_number) FROM placements p JOIN groups g ON g.key = p.group_code
                WHERE p.status = 'active' AND p.child_number IN \(PortalLookup.set) GROUP BY g.location_code
                """).forEachRow([PortalLookup.bind(endedChildren)]) { row in
                if let code = row.string(0) { weights[code, default: Weight()].childrenWouldEnd += row.int(1) ?? 0 }
            }
        }
        for code in endedLocations { weights[code, default: Weight()].missingFromLocationsFile = true }
        // Through the locations' groups, so that the cost follows the locations weighed, not the portal.
        try database.statement("""
            SELECT g.location_code, COUNT(*), COUNT(DISTINCT CASE WHEN c.status = 'active' THEN p.child_number END)
            FROM placements p JOIN groups g ON g.key = p.group_code LEFT JOIN children c ON c.key = p.child_number
            WHERE p.status = 'active' AND p.group_code IN (SELECT key FROM groups WHERE location_code IN \(PortalLookup.set))
            GROUP BY g.location_code
            """).forEachRow([PortalLookup.bind(Set(weights.keys))]) { row in
            guard let code = row.string(0) else { return }
            weights[code]?.activePlacements = row.int(1) ?? 0
            weights[code]?.activeChildren = row.int(2) ?? 0
        }
        for (code, weight) in weights where weight.missingFromLocationsFile {
            weights[code]?.placementsWouldEnd = weight.activePlacements
            weights[code]?.childrenWouldEnd = weight.activeChildren
        }
        return weights
    }
}
