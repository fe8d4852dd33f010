/// Stage 4 of SPEC §1, "safety checks" (SPEC §5): a plan that would end more than `maxRemovalFraction` of
/// the active children, parents or placements stops the run unless customer service allows it. Checked
/// before accounts and lists are worked out, so an aborted run's report describes nothing that was not made.
/// Then each location is weighed on its own (`LocationGuard`): one the export would mostly empty is held
/// as it was, and what is returned is the plan without it.
struct SafetyChecks {
    let request: ImportRequest

    func check(_ compared: Compared, repository: PortalRepository?, report: inout RunReport) throws -> Compared {
        try checkOverall(compared, report: &report)
        return try LocationGuard(request: request).check(compared, repository: repository, report: &report)
    }

    /// The overall guard, on the whole plan: a drop spread over many locations is as suspect as one export
    /// gone wrong, held locations or not.
    private func checkOverall(_ compared: Compared, report: inout RunReport) throws {
        let threshold = request.settings.rules.maxRemovalFraction
        let removals = SafetyChecks.massRemovals(compared.plan, threshold: threshold)
        guard !removals.isEmpty else { return }
        report.removals = removals
        if request.allowMassChanges { return }
        let detail = removals.map { "\($0.wouldEnd) van \($0.activeBefore) \(EntityKind(rawValue: $0.entity)?.dutchPlural.lowercased() ?? $0.entity)" }
            .joined(separator: ", ")
        throw RunStop.aborted("de import zou \(detail) beëindigen; meer dan \(MarkdownReport.percent(threshold)) (maxRemovalFraction)")
    }

    static func massRemovals(_ plan: Plan, threshold: Double) -> [RunReport.Removal] {
        [EntityKind.child, .parent, .placement].compactMap { kind in
            guard let counts = plan.counts[kind], let base = plan.activeBefore[kind], base > 0 else { return nil }
            let fraction = Double(counts.removals) / Double(base)
            guard fraction > threshold else { return nil }
            return RunReport.Removal(entity: kind.rawValue, activeBefore: base, wouldEnd: counts.removals,
                                     fraction: fraction, threshold: threshold)
        }
    }
}
