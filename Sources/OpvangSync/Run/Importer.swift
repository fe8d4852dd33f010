import Foundation
import PortalStore

/// What customer service or the timer asked for.
public struct ImportRequest: Sendable {
    public var exportDirectory: String
    public var settings: OrganisationSettings
    /// `--org`: must match the manifest's organisation when both are given.
    public var organisation: String?
    public var asOf: Day?
    public var dryRun = false
    public var force = false
    public var allowMassChanges = false
    public var reason: String?
    /// `--only`: apply the export to one family or location.
    public var scope: Scope?
    /// `--release location=CODE`: apply this location even when the per-location removal guard would hold it.
    public var release: String?
    /// `--full`: compare every row with the whole portal, not only what changed (verification, recovery).
    public var full = false
    /// `--send-mail`: deliver the queued mail right after the commit.
    public var sendMail = false
    public var operatorName: String
    /// The wall clock, for the staleness check and timestamps.
    public var now = Date()
    /// Inbox folders newer than the export chosen that could not be used (a broken or incomplete manifest).
    public var passedOver: [(folder: String, why: String)] = []

    public init(exportDirectory: String, settings: OrganisationSettings, operatorName: String) {
        self.exportDirectory = exportDirectory
        self.settings = settings
        self.operatorName = operatorName
    }
}

/// How a run ended.
public struct ImportOutcome: Sendable {
    public let report: RunReport
    public let exitCode: ExitCode
    /// nil when the report could not be written (the error is in `reportError`).
    public let reportPaths: ReportPaths?
    public let reportError: String?
}

/// A request that cannot start: bad mapping, bad flags. Exit code 2.
public struct UsageError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Progress a terminal can show.
public enum ImportProgress: Sendable {
    case phase(String)
    /// One file read and checked: `index` of `total` files.
    case file(FileSummary, index: Int, total: Int)
    /// Changes written so far inside the transaction.
    case applying(done: Int, total: Int)
}

/// One import run: SPEC §1 from export folder to report, with the safety checks of §5 in order.
public struct Importer {
    public init() {}

    public func run(_ request: ImportRequest, progress: (ImportProgress) -> Void = { _ in }) throws -> ImportOutcome {
        if let organisation = request.organisation, !OrganisationID.isValid(organisation) {
            throw UsageError("--org \"\(OrganisationID.shown(organisation))\" is not an organisation id: it must match \(OrganisationID.rule)")
        }
        if (request.force || request.allowMassChanges || request.release != nil),
           request.reason?.trimmingCharacters(in: .whitespaces).isEmpty ?? true {
            throw UsageError("--force, --allow-mass-changes and --release need --reason TEXT: the report and change log keep why")
        }
        let mapping = try resolveMapping(request)
        // An export without a manifest does not say whose it is: the configuration or --org must.
        let organisation = request.organisation ?? request.settings.id
        if mapping.manifestMode == .none, organisation == nil {
            throw UsageError("the mapping \(mapping.path) reads exports without a manifest, which do not say whose they are: name the organisation with --org ID or configure it")
        }
        let schoolHolidays = try SchoolHolidayCalendar.configured(request.settings)
        let templates: MailTemplates
        do {
            templates = try MailTemplates.load(overrides: request.settings.mail.templates)
        } catch {
            throw UsageError("\(error)")
        }
        if request.sendMail {
            // A mail setting that cannot work is found now, not after the import has been committed.
            _ = try request.settings.mail.makeTransport()
        }
        let source: ExportSource = exportSource(in: request.exportDirectory, mapping: mapping, organisation: organisation)
        let asOf = request.asOf ?? Day.today(now: request.now)
        let started = request.now
        var run = RunState(request: request, mapping: mapping, asOf: asOf, started: started)
        for (folder, why) in request.passedOver {
            run.report.issues.append(Issue(.warning, "inbox-folder-passed-over", file: folder, message:
                "deze map in de inbox is nieuwer dan de export die is ingelezen, maar is overgeslagen: \(why). Als het planningssysteem nog aan het uploaden was, leest de volgende run haar in; anders is er een nieuwe export nodig"))
        }

        // One writer per portal: taken before anything is read, released when this run returns.
        let lock: RunLock?
        do {
            let folder = Paths.parent(of: request.settings.database)
            if !request.dryRun, !folder.isEmpty { try ProtectedFile.makeDirectory(folder) }
            lock = request.dryRun ? nil : try RunLock(databasePath: request.settings.database)
        } catch let held as RunLock.Held {
            // File the refusal under the export's organisation when its manifest says which that is.
            if let manifest = try? source.loadManifest() {
                run.report.organisation = .init(id: manifest.organisationID, name: manifest.organisationName)
            }
            run.report.issues.append(Issue(.error, "locked", message:
                "een andere run (pid \(held.holder)) werkt aan dit portaal; deze run is niet gestart"))
            return try finish(&run, .failed, nil, abort: "een andere run (pid \(held.holder)) houdt het portaal vast")
        }
        defer { withExtendedLifetime(lock) {} }
        let repository = try openRepository(request)

        do {
            // SPEC §1, in order: check the export, read it, compare, the safety checks, plan accounts and
            // lists, write, report. A stage that stops the run throws `RunStop`; nothing is written before
            // the transaction at the end.
            progress(.phase("manifest"))
            let export = try ExportGate(request: request, mapping: mapping, asOf: asOf)
                .check(source, repository: repository, report: &run.report)
            let choice = try ModeChoice.choose(request, mapping: mapping, manifest: export.manifest, asOf: asOf, repository: repository)
            run.report.comparison = .init(mode: choice.mode, reason: choice.reason)
            progress(.phase("lezen en controleren"))
            var read = try ExportReading(request: request, mapping: mapping, asOf: asOf)
                .read(export, choice: choice, repository: repository, report: &run.report, progress: progress)
            progress(.phase("vergelijken met het portaal"))
            let compared = try Comparison(request: request, asOf: asOf)
                .compare(read, export: export, repository: repository, report: &run.report)
            // The plan holds what is needed from here on; the export's records (a third of the memory of a
            // large run) are let go before accounts and attendance build their own.
            read.validated = DesiredState()
            let safe = try SafetyChecks(request: request).check(compared, repository: repository, report: &run.report)
            let planned = try RunPlanning(request: request, asOf: asOf, schoolHolidays: schoolHolidays)
                .plan(safe, scoped: read.scoped, choice: choice, repository: repository, report: &run.report, progress: progress)
            if request.dryRun {
                return try finish(&run, .applied, nil)
            }
            progress(.phase("toepassen"))
            guard let repository else { throw UsageError("no portal database") }
            let staged = try write(&run, export: export, compared: safe, planned: planned,
                                   writer: PortalWriter(database: repository.database), progress: progress)
            if request.sendMail {
                progress(.phase("mail versturen"))
                deliverMail(&run, repository: repository, templates: templates)
            }
            return committed(&run, repository, staged: staged)
        } catch let stop as RunStop {
            return try finish(&run, stop.status, repository, abort: stop.reason)
        } catch let failure as ExportFailure {
            run.report.issues.append(failure.issue)
            return try finish(&run, .failed, repository, abort: "de export is onleesbaar: \(failure.issue.description)")
        } catch let error as UsageError {
            throw error
        } catch {
            // Anything else (a full disk, a database error): the transaction rolled back, nothing is
            // applied; the run still leaves its report and, where the database allows, its record.
            run.report.issues.append(Issue(.error, "internal-error", message: "de run is gestopt door een fout: \(error)"))
            return try finish(&run, .failed, repository, abort: "fout tijdens de run, er is niets gewijzigd: \(error)")
        }
    }

    /// Stage 6, "write": the run, its record changes, accounts and mail, attendance and retention in one
    /// transaction. The report files are staged just before it, so a report that cannot be written (a full
    /// disk) stops the run before the portal changes, and the portal's own writes never wait for the report.
    private func write(_ run: inout RunState, export: CheckedExport, compared: Compared, planned: PlannedRun,
                       writer: PortalWriter, progress: (ImportProgress) -> Void) throws -> StagedReport? {
        let request = run.request, plan = compared.plan, manifest = export.manifest
        let asOf = Day(iso: run.report.asOf) ?? Day(dayNumber: 0)
        run.report.status = .applied
        run.report.exitCode = run.exitCodeForApplied.rawValue
        // Provisional: stamped again after the commit and any mail delivery.
        run.finishedAt = Date()
        run.report.finishedAt = Timestamp.iso(run.finishedAt ?? Date())
        var record = run.record(status: .applied, exit: run.exitCodeForApplied)
        // The runs row keeps the report without its list of changes: the change log, written in the same
        // transaction, holds every one of them (a first import's list is as large as the export).
        var kept = run.report
        kept.changes = []
        let keptJSON = try ReportWriter.written(kept)
        record.reportJSON = String(decoding: try keptJSON.bytes ?? ReportWriter.json(kept), as: UTF8.self)
        let context = MailContext(name: manifest.organisationName ?? manifest.organisationID, portalURL: export.portalURL)
        var report = run.report
        // Without changes the two are the same report, serialised once; with them, its issues are copied.
        let staged = try ReportWriter.stage(report, json: keptJSON, to: request.settings.reports)
        do {
            // How long the portal's own writes waited for this run (SPEC §5): the report says it.
            report.writeLockSeconds = try writer.transaction(run: record, rows: plan.changes.count + planned.attendance.upserts.count + planned.attendance.deletes.count) {
                try writer.writeChanges(plan, runID: record.id, asOf: asOf) { done in
                    progress(.applying(done: done, total: plan.changes.count))
                }
                try writer.writeOrganisation(id: manifest.organisationID, name: context.name, portalURL: context.portalURL,
                                             runID: record.id)
                let accounts = try writer.applyAccounts(planned.accounts, names: planned.names, organisation: context,
                                                        runID: record.id, now: request.now)
                report.mail?.queued = accounts.queued
                try writer.replaceStandingIssues(planned.accounts.standing, parents: planned.standingParents,
                                                 kept: planned.standingKept, runID: record.id)
                for owner in accounts.activatedMeanwhile {
                    report.issues.append(Issue(.info, "activated-during-run", key: owner, message:
                        "ouder \(owner) heeft het account geactiveerd terwijl deze import liep; het is behandeld als geactiveerd account: het wachtwoord blijft, een nieuw adres krijgt een melding aan het oude en het nieuwe adres in plaats van een nieuwe activatielink"))
                }
                try writer.markReported(outbox: planned.undelivered.map(\.id), runID: record.id)
                try writer.writeAttendance(planned.attendance, runID: record.id)
                // The hashes before the purges: a purge forgets the hashes of what it clears.
                try writer.writeHashes(compared.hashes, runID: record.id)
                try writer.applyRetention(planned.retention, runID: record.id, asOf: asOf)
                try writer.restorePurged(children: compared.returning.children, parents: compared.returning.parents)
            }
        } catch {
            staged.discard()
            throw error
        }
        run.report = report
        return staged
    }

    /// `--send-mail`: the import is committed; mail that cannot go now stays queued for `opvangsync mail send`.
    private func deliverMail(_ run: inout RunState, repository: PortalRepository, templates: MailTemplates) {
        do {
            let delivered = try Importer.sendQueuedMail(repository, settings: run.request.settings, templates: templates)
            run.report.mail?.sent += delivered.summary.sent
            run.report.mail?.failed += delivered.summary.failed
            run.report.mail?.bounced += delivered.summary.bounced
            if let problem = delivered.transportProblem {
                run.report.issues.append(Issue(.warning, "mail-not-sent", message:
                    "de import is verwerkt, maar niet alle mail is verstuurd: \(problem); de mail blijft klaarstaan en gaat mee met de volgende verzendronde"))
            }
        } catch {
            run.report.issues.append(Issue(.warning, "mail-not-sent", message:
                "de import is verwerkt, maar de mail is niet verstuurd: \(error); hij blijft klaarstaan en gaat mee met de volgende verzendronde"))
        }
    }

    /// Sends every due message, holding the mail lock so two senders never send the same message.
    public static func sendQueuedMail(_ repository: PortalRepository, settings: OrganisationSettings, templates: MailTemplates,
                                      limit: Int? = nil, ids: [Int64]? = nil) throws -> MailDelivery.Result {
        let lock = try RunLock(databasePath: settings.database + ".mail")
        defer { withExtendedLifetime(lock) {} }
        let delivery = MailDelivery(repository: repository, transport: try settings.mail.makeTransport(), templates: templates,
                                    settings: settings.mail, rules: settings.rules)
        return try delivery.deliver(limit: limit, ids: ids)
    }

    /// The organisation id an export's manifest names, when it can be read and is a valid id; nil otherwise
    /// (the run itself then says what is wrong with the manifest).
    public static func organisation(ofExportAt folder: String, mapping: String?) -> String? {
        var settings = Configuration.builtIn.defaults
        settings.mapping = mapping
        let request = ImportRequest(exportDirectory: folder, settings: settings, operatorName: "")
        guard let resolved = try? Importer().resolveMapping(request) else { return nil }
        let source: ExportSource = exportSource(in: folder, mapping: resolved)
        return try? source.loadManifest().organisationID
    }

    /// The mapping the settings name; else `mappings/<built-in>.json` in the working folder when present,
    /// else the built-in copy. A folder with `export.json` and no `manifest.json` is read as JSON.
    func resolveMapping(_ request: ImportRequest) throws -> Mapping {
        let result: Result<Mapping, Mapping.Failure>
        if let path = request.settings.mapping {
            result = Result { () throws(Mapping.Failure) in try Mapping.load(path: path) }
        } else {
            let directory = request.exportDirectory as NSString
            let isJSON = FileManager.default.fileExists(atPath: directory.appendingPathComponent("export.json"))
                && !FileManager.default.fileExists(atPath: directory.appendingPathComponent("manifest.json"))
            let builtIn = isJSON ? BuiltInMapping.flexkidsJSON : BuiltInMapping.flexkidsCSV
            if FileManager.default.fileExists(atPath: builtIn.path) {
                result = Result { () throws(Mapping.Failure) in try Mapping.load(path: builtIn.path) }
            } else {
                result = Result { () throws(Mapping.Failure) in try builtIn.mapping() }
            }
        }
        switch result {
        case .success(let mapping): return mapping
        case .failure(let failure): throw UsageError(failure.description)
        }
    }

    private func openRepository(_ request: ImportRequest) throws -> PortalRepository? {
        let path = request.settings.database
        if request.dryRun {
            // A dry run must leave the file byte-for-byte as it was: open read-only, or not at all.
            guard FileManager.default.fileExists(atPath: path) else { return nil }
            return try PortalRepository(readOnlyAt: path)
        }
        let folder = Paths.parent(of: path)
        if !folder.isEmpty { try ProtectedFile.makeDirectory(folder) }
        return try PortalRepository(path: path)
    }

    /// Hours between the export and "now". With `--as-of`, "now" is noon of that day in Europe/Amsterdam,
    /// so a replayed export is judged against the day it is replayed for.
    static func staleness(_ exportedAt: Date, asOf: Day?, now: Date) -> Double {
        var reference = now
        if let asOf {
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: "Europe/Amsterdam") ?? .current
            reference = calendar.date(from: DateComponents(year: asOf.year, month: asOf.month, day: asOf.day, hour: 12)) ?? now
        }
        return reference.timeIntervalSince(exportedAt) / 3600
    }

    /// The end of a committed run: `finishedAt` stamped after the commit and any mail, the final report kept
    /// in the runs row and its files put in place. Nothing here can undo the commit, so nothing here changes
    /// the exit code: a file that cannot be renamed is reported, and `opvangsync report RUN_ID` writes it
    /// again from the database.
    private func committed(_ run: inout RunState, _ repository: PortalRepository, staged: StagedReport?) -> ImportOutcome {
        let exit = run.exitCodeForApplied
        run.finishedAt = Date()
        run.report.finishedAt = Timestamp.iso(run.finishedAt ?? Date())
        let finishedAt = run.finishedAt ?? Date()
        var problems: [String] = []
        // The final report is serialised once: for its files, and only when they cannot be put in place, for
        // the runs row (which otherwise keeps no copy once the files are there).
        var files = staged
        var final = true
        do {
            // The JSON, the Markdown and the web page carry the end time and the mail counts (and the issues
            // CSV a note made inside the transaction); the changes CSV staged before the commit is final.
            files = try files?.restaging(run.report)
        } catch {
            // The files staged before the transaction are put in place all the same (they hold every change
            // and every rejected row), but they do not know what the transaction found: the runs row keeps
            // the final report, and `opvangsync report` writes the files again from it.
            problems.append("\(error)")
            final = false
        }
        var kept = run.report
        kept.changes = []
        let keptJSON = { (try? ReportWriter.json(kept)).map { String(decoding: $0, as: UTF8.self) } }
        do {
            if let paths = try files?.commit() {
                try? PortalWriter(database: repository.database).finishRun(runID: run.report.runId, finishedAt: finishedAt,
                                                                           reportJSON: final ? nil : keptJSON())
                return ImportOutcome(report: run.report, exitCode: exit, reportPaths: paths, reportError: final ? nil :
                    "the import is applied, but its report files could not be brought up to date after the commit (\(problems.joined(separator: "; "))); the files in place were written just before it, `opvangsync report \(run.report.runId)` writes the final ones from the database")
            }
        } catch {
            problems.append("\(error)")
        }
        try? PortalWriter(database: repository.database).finishRun(runID: run.report.runId, finishedAt: finishedAt,
                                                                   reportJSON: keptJSON())
        return ImportOutcome(report: run.report, exitCode: exit, reportPaths: nil, reportError:
            "the import is applied, but its report files could not be written (\(problems.joined(separator: "; "))); `opvangsync report \(run.report.runId)` writes them from the database")
    }

    /// Sets the final status, records the run (unless it applied already or is a dry run) and writes the report.
    private func finish(_ run: inout RunState, _ status: RunReport.Status, _ repository: PortalRepository?,
                        abort: String? = nil) throws -> ImportOutcome {
        run.report.status = status
        run.report.abortReason = abort
        var exit: ExitCode = switch status {
        case .applied: run.exitCodeForApplied
        case .skipped: .success
        case .aborted: .aborted
        case .failed: .failed
        }
        run.report.exitCode = exit.rawValue
        run.finishedAt = run.finishedAt ?? Date()
        run.report.finishedAt = Timestamp.iso(run.finishedAt ?? Date())
        // The report is staged first: when it cannot be written, the run's record says so too, and the exit
        // code and the runs row agree.
        var staged: StagedReport?
        var reportError: String?
        do {
            staged = try ReportWriter.stage(run.report, to: run.request.settings.reports)
        } catch {
            reportError = "\(error)"
            // Whatever the run would have said, without its report nobody can read it: it failed.
            if exit != .failed {
                exit = .failed
                run.report.status = .failed
                run.report.exitCode = exit.rawValue
                run.report.abortReason = "het rapport kon niet worden geschreven: \(error)"
            }
        }
        if let repository, !run.request.dryRun {
            do {
                var record = run.record(status: run.report.status, exit: exit)
                record.reportJSON = try String(decoding: ReportWriter.json(run.report), as: UTF8.self)
                try PortalWriter(database: repository.database).recordRun(record)
            } catch {
                // The report below still says what happened; the runs table could not be written.
                run.report.issues.append(Issue(.error, "run-not-recorded", message: "de run kon niet in de database worden vastgelegd: \(error)"))
                if let again = try? ReportWriter.stage(run.report, to: run.request.settings.reports) {
                    staged?.discard()
                    staged = again
                }
            }
        }
        do {
            if let paths = try staged?.commit() {
                if !run.request.dryRun, let repository { try? PortalWriter(database: repository.database).releaseKeptReport(runID: run.report.runId) }
                return ImportOutcome(report: run.report, exitCode: exit, reportPaths: paths, reportError: nil)
            }
        } catch {
            reportError = "\(error)"
        }
        return ImportOutcome(report: run.report, exitCode: exit, reportPaths: nil, reportError: reportError)
    }
}

/// The mutable bookkeeping of one run.
struct RunState {
    let request: ImportRequest
    var report: RunReport
    var finishedAt: Date?

    init(request: ImportRequest, mapping: Mapping, asOf: Day, started: Date) {
        self.request = request
        report = RunReport(
            runId: RunID.make(started), organisation: .init(id: request.organisation ?? RunReport.unknownOrganisation, name: nil),
            asOf: asOf.iso, startedAt: Timestamp.iso(started), finishedAt: Timestamp.iso(started),
            mode: request.dryRun ? "dry-run" : "apply", status: .failed, exitCode: ExitCode.failed.rawValue,
            operator: request.operatorName, reason: request.reason,
            options: .init(force: request.force, allowMassChanges: request.allowMassChanges, only: request.scope?.description,
                           release: request.release.map { "location=\($0)" }),
            export: .init(path: RunState.absolute(request.exportDirectory), mapping: mapping.path))
        report.columns = FieldNames.columns(of: mapping)
    }

    /// Auditors read the report later and elsewhere: a path relative to some working folder says little.
    static func absolute(_ path: String) -> String {
        let url = path.hasPrefix("/") ? URL(fileURLWithPath: path)
            : URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(path)
        return url.standardizedFileURL.path
    }

    var exitCodeForApplied: ExitCode {
        if !report.held.isEmpty { return .appliedWithHeldLocations }
        return report.rejectedRows > 0 ? .appliedWithRejections : .success
    }

    /// The runs-table row; written with the apply transaction, or alone for runs that apply nothing.
    func record(status: RunReport.Status, exit: ExitCode) -> RunRecord {
        let summary = report.counts.sorted { $0.key < $1.key }.map { "\"\($0.key)\":{\"created\":\($0.value.created),\"updated\":\($0.value.updated),\"restored\":\($0.value.restored),\"ended\":\($0.value.ended),\"vanished\":\($0.value.vanished),\"unchanged\":\($0.value.unchanged)}" }
        let options = "{\"force\":\(report.options.force),\"allowMassChanges\":\(report.options.allowMassChanges),\"only\":\(JSONText.quote(report.options.only)),\"release\":\(JSONText.quote(report.options.release))}"
        let folder = (request.settings.reports as NSString).appendingPathComponent(report.organisation.id)
        return RunRecord(
            id: report.runId, organisation: report.organisation.id, mode: report.mode, status: status.rawValue,
            asOf: Day(iso: report.asOf) ?? Day(dayNumber: 0), startedAt: request.now, finishedAt: finishedAt ?? Date(),
            exportPath: report.export.path, exportFingerprint: report.export.fingerprint,
            exportedAt: report.export.exportedAt, operator: report.operator, reason: report.reason, options: options,
            summary: "{\"counts\":{\(summary.joined(separator: ","))},\"rejected\":\(report.rejectedRows),\"held\":\(report.held.count),\"issues\":\(report.issues.count)}",
            reportPath: (folder as NSString).appendingPathComponent(report.runId + ".json"), exitCode: exit.rawValue)
    }
}

/// Run ids sort by time and stay unique when two runs start in the same second.
enum RunID {
    static func make(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let p = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let stamp = String(format: "%04d%02d%02dT%02d%02d%02dZ", p.year ?? 0, p.month ?? 0, p.day ?? 0, p.hour ?? 0, p.minute ?? 0, p.second ?? 0)
        var random = SystemRandomNumberGenerator()
        let suffix = (0..<3).map { _ in UInt8.random(in: 0...255, using: &random) }.hexString
        return "\(stamp)-\(suffix)"
    }
}

/// What a full run reads of the portal before it compares: every record of the export's kinds and the
/// retention state. Read through a connection of its own, so that it can be read on another thread
/// while the export is being checked. (The accounts are read later, once the export's records are gone.)
struct PortalSnapshot: Sendable {
    let current: [EntityKind: [String: StoredRecord]]
    let stored: RetentionPlanner.Stored

    init(path: String, kinds: [EntityKind]) throws {
        let repository = try PortalRepository(readOnlyAt: path)
        current = try repository.loadCurrent(kinds)
        stored = try RetentionStore(database: repository.database).load()
    }
}
