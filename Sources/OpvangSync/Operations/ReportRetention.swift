import Foundation
import PortalStore

/// `reportRetentionDays` (default 730): reports hold personal data, so the report files of runs older
/// than that are removed at each run, and so is the copy of the report kept in the runs row. The runs row
/// itself (when, which export, status, counts, operator and reason) stays: `opvangsync runs` keeps it.
public struct ReportRetention: Sendable {
    public let days: Int
    public let now: Date

    public init(days: Int, now: Date = Date()) {
        self.days = days
        self.now = now
    }

    /// The files a report consists of, beside its JSON.
    static let suffixes = [".json", ".md", ".html", "-wijzigingen.csv", "-afgewezen.csv"]

    public var cutoff: Date { now.addingTimeInterval(-Double(days) * 86_400) }

    /// Removes the old reports of one organisation: the files of its runs in the database that started
    /// before the cutoff, and files in `<reports>/<organisation>/` whose name is the id of a run made
    /// before it (dry runs leave only files). Returns the number of files removed.
    @discardableResult
    public func apply(reports: String, organisation: String, repository: PortalRepository?) throws -> Int {
        var removed = 0
        let cutoffText = Timestamp.iso(cutoff)
        if let database = repository?.database {
            let old = try database.query(
                "SELECT id, report_path FROM runs WHERE started_at < ? AND (report_json IS NOT NULL OR report_path IS NOT NULL)",
                [.text(cutoffText)]) { row in (row.string(0) ?? "", row.string(1)) }
            for (_, path) in old {
                guard let path, path.hasSuffix(".json") else { continue }
                // Only in a real folder of reports: never through a link planted where the folder was.
                guard (try? ProtectedFile.requireRealDirectory(Paths.parent(of: path))) != nil else { continue }
                let base = String(path.dropLast(".json".count))
                for suffix in ReportRetention.suffixes where unlink(base + suffix) == 0 { removed += 1 }
            }
            if !old.isEmpty {
                try PortalWriter(database: database).releaseKeptReports(startedBefore: cutoffText)
            }
        }
        guard OrganisationID.isValid(organisation) else { return removed }
        let folder = (reports as NSString).appendingPathComponent(organisation)
        guard (try? ProtectedFile.requireRealDirectory(folder)) != nil else { return removed }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] {
            guard let started = ReportRetention.runStart(fileName: name), started < cutoff else { continue }
            if unlink((folder as NSString).appendingPathComponent(name)) == 0 { removed += 1 }
        }
        return removed
    }

    /// When the run a report file belongs to started, from its name (`20261122T013000Z-1a2b3c.md`); nil
    /// for any other file.
    static func runStart(fileName: String) -> Date? {
        guard let suffix = suffixes.first(where: { fileName.hasSuffix($0) }) else { return nil }
        let id = fileName.dropLast(suffix.count)
        let parts = id.split(separator: "-")
        guard parts.count == 2, parts[1].count == 6, parts[1].allSatisfy(\.isHexDigit), parts[0].count == 16 else { return nil }
        let s = Array(parts[0].utf8)
        func number(_ range: Range<Int>) -> Int? { Int(String(decoding: s[range], as: UTF8.self)) }
        guard s[8] == UInt8(ascii: "T"), s[15] == UInt8(ascii: "Z"), let year = number(0..<4), let month = number(4..<6),
              let day = number(6..<8), let hour = number(9..<11), let minute = number(11..<13), let second = number(13..<15) else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? .current
        return calendar.date(from: DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: second))
    }
}
