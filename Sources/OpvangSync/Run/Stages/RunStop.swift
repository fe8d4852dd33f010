/// A stage's verdict that the run goes no further: how it ends and the reason its report opens with.
///
/// A stage appends its issues to the run's report and throws this; the orchestrator records the run and
/// writes the report (`Importer.finish`). Nothing has been written to the portal when a stage stops.
struct RunStop: Error {
    let status: RunReport.Status
    let reason: String?

    /// A safety check or the export's integrity stopped the run: exit 3.
    static func aborted(_ reason: String) -> RunStop { RunStop(status: .aborted, reason: reason) }
    /// The export could not be used at all: exit 1.
    static func failed(_ reason: String) -> RunStop { RunStop(status: .failed, reason: reason) }
    /// Nothing to do (this export was applied before): exit 0.
    static let skipped = RunStop(status: .skipped, reason: nil)

    /// The export's files do not match its manifest (`issues`, one per file): aborted, naming each file.
    static func manifestMismatch(_ issues: [Issue]) -> RunStop {
        aborted("export komt niet overeen met het manifest (\(issues.compactMap(\.file).joined(separator: ", ")))")
    }
}
