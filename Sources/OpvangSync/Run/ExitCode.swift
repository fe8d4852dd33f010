/// The process exit codes of SPEC §6.
public enum ExitCode: Int32, Sendable {
    /// Applied (warnings allowed), or skipped.
    case success = 0
    /// Failed: nothing applied.
    case failed = 1
    /// Usage or configuration error.
    case usage = 2
    /// Aborted by a safety check: nothing applied.
    case aborted = 3
    /// Applied, but rows were rejected.
    case appliedWithRejections = 4
    /// Applied, but one or more locations were held as they were (SPEC §5): their data in the export
    /// looked like a mistake. Takes precedence over 4: a held location needs someone to decide.
    case appliedWithHeldLocations = 5
}
