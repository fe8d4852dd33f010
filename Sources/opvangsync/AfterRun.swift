import Foundation
import OpvangSync

/// What happens after an import, whatever its outcome: old reports removed, the metrics file rewritten,
/// and the alert mail sent. None of it changes the exit code: a problem is a warning on stderr.
enum AfterRun {
    static func importFinished(_ outcome: ImportOutcome?, failure: String?, exitCode: ExitCode, settings: OrganisationSettings,
                               dryRun: Bool) {
        if !dryRun, FileManager.default.fileExists(atPath: settings.database) {
            do {
                let repository = try PortalRepository(afterRunAt: settings.database)
                let organisation = try repository.owner()?.id ?? outcome?.report.organisation.id ?? settings.id
                if let organisation {
                    try ReportRetention(days: settings.reportRetentionDays)
                        .apply(reports: settings.reports, organisation: organisation, repository: repository)
                }
                writeMetrics(settings: settings, repository: repository)
            } catch {
                Terminal.warning("opvangsync: after the run: \(error)")
            }
        }
        if let alert = RunAlert(report: outcome?.report, exitCode: exitCode, reportPath: outcome?.reportPaths?.markdown,
                                failure: failure, settings: settings) {
            if let problem = alert.send(settings: settings) { Terminal.warning("opvangsync: \(problem)") }
        }
    }

    /// Rewrites `metrics: FILE` from the portal database, when configured.
    static func writeMetrics(settings: OrganisationSettings, repository: PortalRepository) {
        guard let path = settings.metrics else { return }
        do {
            try RunMetrics(repository: repository, organisation: settings.id).write(to: path)
        } catch {
            Terminal.warning("opvangsync: the metrics file could not be written: \(error)")
        }
    }

    /// The runs table and every message keep paths; relative ones would mean nothing from another folder.
    /// The path is only prefixed with the working folder, not normalised: `x/..` still makes `x`, as the
    /// folder rules expect.
    static func absolute(_ path: String) -> String {
        guard !path.hasPrefix("/") else { return path }
        let folder = FileManager.default.currentDirectoryPath
        return (folder.hasSuffix("/") ? folder : folder + "/") + path
    }
}
