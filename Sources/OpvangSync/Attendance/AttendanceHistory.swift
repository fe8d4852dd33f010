import PortalStore

/// SPEC §4 "Lifecycle edges": no run rewrites days before the latest run's as-of date unless forced.
///
/// Every applied run (an import, a scoped import, a refresh) rebuilt the lists from its as-of date on, and
/// the days before it are history. A run whose as-of date lies before the latest one (a mistyped `--as-of`,
/// a clock that is behind) would rebuild days that were already history, so it is refused.
public enum AttendanceHistory {
    /// The latest as-of date of an applied run, or nil when none applied yet.
    public static func latestAsOf(_ repository: PortalRepository) throws -> Day? {
        try repository.database.scalarString("SELECT MAX(as_of) FROM runs WHERE status = 'applied'").flatMap(Day.init(iso:))
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
