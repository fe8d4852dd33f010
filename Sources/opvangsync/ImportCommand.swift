import Foundation
import OpvangSync

enum ImportCommand {
    static let help = """
        Usage: opvangsync import [EXPORT_DIR] [options]

        Reads one export of the planning system, checks it, and applies the difference to the portal
        database in one transaction. Writes a report (JSON, Markdown, CSV) for every run.

        Options:
          --org ID               organisation; with a config file, takes the newest export in its inbox
          --config FILE          configuration file (default ./opvangsync.json when present)
          --db FILE              portal database (default ./portal.sqlite)
          --reports DIR          report folder (default ./reports)
          --mapping FILE         mapping file (default: the built-in Flexkids mapping)
          --as-of DATE           "today" for every date rule, jjjj-mm-dd (default: today, Europe/Amsterdam)
          --dry-run              compare and report only: the database is not touched, no mail is queued
          --only SCOPE           apply the export to one family or location only: parent=ID, child=ID or
                                 location=CODE; with --dry-run, a preview of exactly what would change
          --force                import past the staleness and already-imported checks (needs --reason)
          --allow-mass-changes   let a run end more than maxRemovalFraction of the records (needs --reason)
          --reason TEXT          why a run is forced; kept in the report and the change log
          --send-mail            deliver the queued mail (invitations, notices) right after the commit
          --help                 this text

        Exit codes: 0 applied or skipped, 1 failed, 2 usage or configuration error,
                    3 aborted by a safety check, 4 applied with rejected rows.
        """

    static func run(_ words: [String]) throws -> ExitCode {
        let arguments = try Arguments(
            words, options: ["org", "config", "db", "reports", "mapping", "as-of", "reason", "only"],
            flags: ["dry-run", "force", "allow-mass-changes", "send-mail", "help"])
        if arguments.flag("help") {
            print(help)
            return .success
        }
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

        let exportDirectory: String
        var passedOver: [(folder: String, why: String)] = []
        if let given = arguments.positionals.first {
            exportDirectory = given
        } else if let inbox = settings.inbox {
            let choice = Inbox(path: inbox).choose()
            guard let newest = choice.newest else {
                let detail = choice.passedOver.map { "\($0.folder): \($0.why)" }.joined(separator: "; ")
                throw UsageError("no complete export in the inbox \(inbox)" + (detail.isEmpty ? "" : " (\(detail))"))
            }
            exportDirectory = newest
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
        request.allowMassChanges = arguments.flag("allow-mass-changes")
        request.reason = arguments.value("reason")
        request.sendMail = arguments.flag("send-mail")
        if let only = arguments.value("only") {
            guard let scope = Scope(argument: only) else {
                throw UsageError("--only takes parent=ID, child=ID or location=CODE, got \"\(only)\"")
            }
            request.scope = scope
        }

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
        let report = outcome.report
        let errors = report.issues.filter { $0.severity == .error }
        for issue in errors.prefix(20) { Terminal.error(issue.description) }
        if errors.count > 20 { Terminal.error("… and \(errors.count - 20) more; see the report") }
        if let reason = report.abortReason, report.status != .applied { Terminal.error("opvangsync: \(report.status.rawValue): \(reason)") }
        if let paths = outcome.reportPaths {
            print("report: \(paths.markdown)")
            print("        \(paths.json)")
        } else if let error = outcome.reportError {
            Terminal.error("opvangsync: the report could not be written: \(error)")
        }
        print(summaryLine(report))
        return outcome.exitCode
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
        return "opvangsync: " + parts.joined(separator: "; ")
    }
}
