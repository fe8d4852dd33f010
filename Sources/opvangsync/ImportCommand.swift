import Foundation
import OpvangSync

enum ImportCommand {
    static let help = """
        Usage: opvangsync import [EXPORT_DIR] [options]

        Reads one export of the planning system, checks it, and applies the difference to the portal
        database in one transaction. Writes a report (JSON, Markdown, a web page, CSV) for every run.

        Options:
          --org ID               organisation; with a config file, takes the newest export in its inbox
          --config FILE          configuration file (default ./opvangsync.json when present)
          --db FILE              portal database (default ./portal.sqlite)
          --reports DIR          report folder (default ./reports)
          --mapping FILE         mapping file (default: the built-in Flexkids mapping); how to write one for
                                 another planning system: docs/mapping.md
          --as-of DATE           "today" for every date rule, jjjj-mm-dd (default: today, Europe/Amsterdam)
          --dry-run              compare and report only: the database is not touched, no mail is queued
          --only SCOPE           apply the export to one family or location only: parent=ID, child=ID or
                                 location=CODE; with --dry-run, a preview of exactly what would change
          --full                 read and compare every row of the export with the whole portal, instead of
                                 only the rows that changed since the last import (verification, recovery)
          --force                import past the staleness and already-imported checks (needs --reason)
          --allow-mass-changes   let a run end more than maxRemovalFraction of the records (needs --reason)
          --release location=CODE
                                 apply a location that the per-location removal guard holds
                                 (maxRemovalFractionPerLocation), its removals included (needs --reason)
          --reason TEXT          why a run is forced; kept in the report and the change log
          --send-mail            deliver the queued mail (invitations, notices) right after the commit
          --quiet                print nothing when the run applied or skipped its export and held no
                                 location (for cron, which mails any output); problems still go to stderr
          --help                 this text

        Exit codes: 0 applied or skipped, 1 failed, 2 usage or configuration error,
                    3 aborted by a safety check, 4 applied with rejected rows,
                    5 applied, but one or more locations were held as they were.
        """

    static func run(_ words: [String]) throws -> ExitCode {
        let arguments = try Arguments(
            words, options: ["org", "config", "db", "reports", "mapping", "as-of", "reason", "only", "release"],
            flags: ["dry-run", "force", "full", "allow-mass-changes", "send-mail", "quiet", "help"])
        if arguments.flag("help") {
            print(help)
            return .success
        }
        Terminal.quiet = arguments.flag("quiet")
        guard arguments.positionals.count <= 1 else {
            throw UsageError("import takes one export folder, got \(arguments.positionals.count)")
        }
        let configuration = try Configuration.load(path: arguments.value("config"))
        // Without --org, an export folder's own manifest says which organisation's settings apply (its
        // configured portal URL, database and reports), never the defaults of whichever comes first.
        var organisation = arguments.value("org")
        if organisation == nil, let folder = arguments.positionals.first {
            organisation = Importer.organisation(ofExportAt: folder, mapping: arguments.value("mapping") ?? configuration.defaults.mapping)
        }
        var settings = try configuration.settings(for: organisation)
        if let db = arguments.value("db") { settings.database = db }
        if let reports = arguments.value("reports") { settings.reports = reports }
        if let mapping = arguments.value("mapping") { settings.mapping = mapping }
        // The runs table keeps the report's path: `opvangsync report RUN_ID` must find it from any folder.
        settings.reports = AfterRun.absolute(settings.reports)

        let exportDirectory: String
        var passedOver: [(folder: String, why: String)] = []
        var inboxProblem: String?
        if let given = arguments.positionals.first {
            // A typo or a misplaced option is a usage mistake, not a failed run: no report, no runs row, no alert.
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: given, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw UsageError("export folder \"\(given)\" does not exist" + (given.hasPrefix("-") ? "; options start with --, see import --help" : ""))
            }
            exportDirectory = given
        } else if let inbox = settings.inbox {
            // The configured mapping says what a complete export looks like (a manifest, or a ready marker).
            let mapping: Mapping?
            do {
                mapping = try settings.mapping.map { path throws(Mapping.Failure) in try Mapping.load(path: path) }
            } catch {
                throw UsageError(error.description)
            }
            let choice = Inbox(path: inbox, mapping: mapping, organisation: organisation ?? settings.id).choose()
            if let newest = choice.newest {
                exportDirectory = newest
            } else {
                let detail = choice.passedOver.map { "\($0.folder): \($0.why)" }.joined(separator: "; ")
                inboxProblem = "no complete export in the inbox \(inbox)" + (detail.isEmpty ? "" : " (\(detail))")
                exportDirectory = inbox
            }
            passedOver = choice.passedOver
        } else {
            throw UsageError("name an export folder, or --org ID with an inbox in the configuration")
        }
        var request = ImportRequest(exportDirectory: exportDirectory, settings: settings, operatorName: Operator.current())
        request.organisation = organisation
        request.passedOver = passedOver
        if let text = arguments.value("as-of") {
            guard let day = Day(iso: text) else { throw UsageError("--as-of takes a date as jjjj-mm-dd, got \"\(text)\"") }
            request.asOf = day
        }
        request.dryRun = arguments.flag("dry-run")
        request.force = arguments.flag("force")
        request.full = arguments.flag("full")
        request.allowMassChanges = arguments.flag("allow-mass-changes")
        request.reason = arguments.value("reason")
        request.sendMail = arguments.flag("send-mail")
        if let release = arguments.value("release") {
            guard case .location(let code)? = Scope(argument: release) else {
                throw UsageError("--release takes location=CODE, got \"\(TextSafety.visible(release))\"")
            }
            request.release = code
        }
        if let only = arguments.value("only") {
            guard let scope = Scope(argument: only) else {
                throw UsageError("--only takes parent=ID, child=ID or location=CODE, got \"\(only)\"")
            }
            request.scope = scope
            // A scoped run fixes a family in an existing portal; it never makes a new one.
            guard FileManager.default.fileExists(atPath: settings.database) else {
                throw UsageError("--only needs an existing portal database; there is none at \(settings.database) (pass --db FILE or --config FILE)")
            }
        }

        let outcome: ImportOutcome
        do {
            // Only a run that takes its export from the inbox can find the inbox empty of new exports.
            if arguments.positionals.isEmpty, let missed = try MissedExport.find(request) {
                outcome = try missed.record(request)
            } else if let inboxProblem {
                throw UsageError(inboxProblem)
            } else {
                outcome = try importing(request)
            }
        } catch let error as UsageError {
            throw error
        } catch let error as Configuration.Failure {
            throw error
        } catch let error as MailTemplates.Invalid {
            throw error
        } catch let error as ForeignDatabase {
            throw error
        } catch {
            // A run that could not even record itself still tells the people who must act.
            AfterRun.importFinished(nil, failure: "\(error)", exitCode: .failed, settings: settings, dryRun: request.dryRun)
            throw error
        }
        show(outcome)
        AfterRun.importFinished(outcome, failure: nil, exitCode: outcome.exitCode, settings: settings, dryRun: request.dryRun)
        return outcome.exitCode
    }

    static func importing(_ request: ImportRequest) throws -> ImportOutcome {
        let outcome = try Importer().run(request) { event in
            switch event {
            case .phase(let name):
                Terminal.progress("opvangsync: \(name)…")
            case .file(let file, let index, let total):
                Terminal.progress("opvangsync: lezen \(index * 100 / max(total, 1))% — \(file.name): \(file.rows) regels, \(file.rejected) afgewezen")
            case .applying(let done, let total):
                Terminal.progress("opvangsync: toepassen \(total == 0 ? 100 : done * 100 / total)% — \(done) van \(total) wijzigingen")
            }
        }
        Terminal.endProgress()
        return outcome
    }

    /// Errors on stderr, the report's paths and the summary on stdout. With `--quiet` a run that applied
    /// or skipped its export, and held no location, prints nothing; any other run prints its report path and
    /// summary on stderr.
    static func show(_ outcome: ImportOutcome) {
        let report = outcome.report
        let applied = report.status == .applied || report.status == .skipped
        let errors = report.issues.filter { $0.severity == .error }
        // Rejected rows of an applied run are a job for the morning, not a failure of the run.
        let write: (String) -> Void = applied ? { Terminal.warning($0) } : { Terminal.error($0) }
        if !(Terminal.quiet && applied) {
            for issue in errors.prefix(20) { write(issue.description) }
            if errors.count > 20 { write("… and \(errors.count - 20) more; see the report") }
        }
        if let reason = report.abortReason, report.status != .applied { Terminal.error("opvangsync: \(report.status.rawValue): \(reason)") }
        // A held location waits for someone to decide: said even with --quiet, so cron mails it.
        let held = report.held.map(\.code)
        if !held.isEmpty {
            Terminal.warning("opvangsync: \(held.count == 1 ? "location" : "locations") \(held.map { TextSafety.visible($0) }.joined(separator: ", ")) held as \(held.count == 1 ? "it was" : "they were"): the export would remove more of \(held.count == 1 ? "its" : "their") placements or children than maxRemovalFractionPerLocation allows; see the report")
        }
        let output: (String) -> Void
        if !Terminal.quiet {
            output = { Swift.print($0) }
        } else if applied, !held.isEmpty {
            output = { Terminal.warning($0) }
        } else if applied {
            output = { _ in }
        } else {
            output = { Terminal.error($0) }
        }
        if let paths = outcome.reportPaths {
            output("report: \(paths.markdown)")
            output("        \(paths.html)")
            output("        \(paths.json)")
        } else if let error = outcome.reportError {
            Terminal.error("opvangsync: the report could not be written: \(error)")
        }
        output(summaryLine(report))
    }

    /// The last line of stdout: one line a cron mail or a log can show.
    static func summaryLine(_ report: RunReport) -> String {
        let totals = report.counts.values.reduce(into: ChangeCounts()) { sum, counts in
            sum.created += counts.created
            sum.updated += counts.updated
            sum.restored += counts.restored
            sum.ended += counts.ended
            sum.vanished += counts.vanished
            sum.unchanged += counts.unchanged
        }
        var parts = ["\(report.organisation.id)", "run \(report.runId)", report.mode == "dry-run" ? "dry-run \(report.status.rawValue)" : report.status.rawValue]
        // Counts only where something was (or, in a dry run, would be) applied: a failed run changed nothing.
        if !report.counts.isEmpty, report.status == .applied {
            parts.append("\(totals.created) created, \(totals.updated) updated, \(totals.restored) restored, \(totals.ended) ended, \(totals.vanished) vanished, \(totals.unchanged) unchanged")
        }
        parts.append("\(report.rejectedRows) rejected")
        if !report.held.isEmpty { parts.append("\(report.held.count) \(report.held.count == 1 ? "location" : "locations") held") }
        return "opvangsync: " + parts.joined(separator: "; ")
    }
}
