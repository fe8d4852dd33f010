import Foundation

/// A missed night (SPEC §5, staleness): the inbox holds no export newer than the last one imported, and
/// that one is older than `maxExportAgeHours`. The portal is drifting away from the planning system while
/// every run would otherwise be `skipped`; this makes it an aborted run (`no-new-export`, exit 3) with a
/// report, a runs row and so an alert.
public struct MissedExport: Sendable {
    /// The folder the inbox would offer, if any (it is not newer than the last import).
    public let newestInInbox: String?
    /// `exportedAt` of the last export applied, as the manifest wrote it.
    public let lastImported: String
    public let ageHours: Double

    /// The missed night this request runs into, or nil when there is a newer export, the last import is
    /// recent enough, the portal has no import yet, or the run is forced, scoped, a release (which re-applies the
    /// export it names) or a dry run (which writes nothing).
    public static func find(_ request: ImportRequest) throws -> MissedExport? {
        guard !request.force, !request.dryRun, request.scope == nil, request.release == nil, let inbox = request.settings.inbox,
              FileManager.default.fileExists(atPath: request.settings.database) else { return nil }
        let repository = try PortalRepository(readOnlyAt: request.settings.database)
        let applied = try repository.newestAppliedExport().compactMap { text in Manifest.parseTimestamp(text).map { (text, $0) } }
        guard let last = applied.max(by: { $0.1 < $1.1 }) else { return nil }
        let mapping = request.settings.mapping == nil ? nil : try Importer().resolveMapping(request)
        let organisation = request.organisation ?? request.settings.id
        let newest = Inbox(path: inbox, mapping: mapping, organisation: organisation).choose().newest
        if let newest, let exported = MissedExport.exportedAt(folder: newest, mapping: mapping, organisation: organisation), exported > last.1 { return nil }
        let age = Importer.staleness(last.1, asOf: request.asOf, now: request.now)
        guard age > request.settings.rules.maxExportAgeHours else { return nil }
        return MissedExport(newestInInbox: newest, lastImported: last.0, ageHours: age)
    }

    /// `exportedAt` of the export in `folder`, read with the configured mapping, else with whichever built-in
    /// mapping finds its manifest.
    static func exportedAt(folder: String, mapping: Mapping?, organisation: String?) -> Date? {
        for mapping in mapping.map({ [$0] }) ?? BuiltInMapping.all.compactMap({ try? $0.mapping() }) {
            let source: ExportSource = exportSource(in: folder, mapping: mapping, organisation: organisation)
            if let manifest = try? source.loadManifest() { return manifest.exportedAt }
        }
        return nil
    }

    /// Records the missed night as an aborted run: its report, its runs row, exit 3.
    public func record(_ request: ImportRequest) throws -> ImportOutcome {
        let lock = try RunLock(databasePath: request.settings.database)
        defer { withExtendedLifetime(lock) {} }
        let repository = try PortalRepository(path: request.settings.database)
        let owner = try repository.owner()
        let mapping = try Importer().resolveMapping(request)
        let asOf = request.asOf ?? Day.today(now: request.now)
        var run = RunState(request: request, mapping: mapping, asOf: asOf, started: request.now)
        run.report.organisation = .init(id: owner?.id ?? request.organisation ?? "onbekend",
                                        name: try repository.database.scalarString("SELECT name FROM organisation LIMIT 1"))
        run.report.export.path = newestInInbox.map(RunState.absolute) ?? RunState.absolute(request.settings.inbox ?? "")
        let hours = Int(ageHours)
        let limit = Int(request.settings.rules.maxExportAgeHours)
        let text = "er is geen nieuwe export binnengekomen: de laatst ingelezen export is van \(lastImported), \(hours) uur geleden; de grens is \(limit) uur"
        run.report.issues.append(Issue(.error, "no-new-export", message: text + ". Het ouderportaal loopt achter op het planningssysteem: controleer de exporttaak van het planningssysteem en de inbox"))
        run.report.status = .aborted
        run.report.exitCode = ExitCode.aborted.rawValue
        run.report.abortReason = "geen nieuwe export: \(text)"
        run.finishedAt = Date()
        run.report.finishedAt = Timestamp.iso(run.finishedAt ?? Date())
        let staged = try ReportWriter.stage(run.report, to: request.settings.reports)
        var record = run.record(status: .aborted, exit: .aborted)
        record.reportJSON = String(decoding: try ReportWriter.json(run.report), as: UTF8.self)
        do {
            try PortalWriter(database: repository.database).recordRun(record)
        } catch {
            staged.discard()
            throw error
        }
        return ImportOutcome(report: run.report, exitCode: .aborted, reportPaths: try staged.commit(), reportError: nil)
    }
}
