import PortalStore

/// SPEC §4 "Lifecycle edges": no run rewrites days before the latest run's as-of date unless forced.
///
/// Every applied run (an import, a scoped import, a refresh) rebuilt the lists from its as-of date on, and
/// the days before it are history. A run whose as-of date lies before the latest one (a mistyped `--as-of`,
/// a clock that is behind) would rebuild days that were already history, so it is refused.
public enum AttendanceHistory {
    /// The as-of date of the latest applied run, or nil when none applied yet.
    ///
    /// The latest run, not the highest date: after a forced run with an earlier date (or one that put a
    /// mistyped future date right), that run's date is where history ends, so the following nights are not
    /// refused one by one. Latest by insertion order, not by `started_at`, which a clock that is behind gets wrong.
    public static func latestAsOf(_ repository: PortalRepository) throws -> Day? {
        try repository.database.scalarString("SELECT as_of FROM runs WHERE status = 'applied' ORDER BY rowid DESC LIMIT 1")
            .flatMap(Day.init(iso:))
    }

    /// Why a run with `asOf` would rewrite history, in Dutch for the report and the terminal; nil when it would not.
    public static func refusal(asOf: Day, repository: PortalRepository) throws -> String? {
        guard let latest = try latestAsOf(repository), asOf < latest else { return nil }
        return "de peildatum \(asOf.dutch) ligt vóór die van de laatste run (\(latest.dutch)); de aanwezigheidslijsten vóór \(latest.dutch) zijn geschiedenis en worden niet opnieuw opgebouwd. Loopt de klok van deze computer achter?"
    }

    /// A refresh refused because its as-of date lies before the latest run's: nothing changed. Exit code 3.
    public struct Refused: Error, CustomStringConvertible, Sendable {
        public let message: String
        public var description: String { message }
    }
}
