import Foundation
import PortalStore

/// `metrics: FILE`: the state of each organisation's runs and mail in Prometheus text format, for
/// node_exporter's textfile collector. Everything is read from the portal database, so the file says the
/// same whichever command (an import, `mail send`) wrote it last. Several organisations may share one
/// file: each write replaces only its own organisation's samples, under a lock, and renames a complete
/// file into place, so the collector never reads half a file.
public struct RunMetrics: Sendable {
    public let organisation: String
    /// Sample lines of this organisation: `name{labels} value`.
    public let samples: [(name: String, labels: String, value: String)]

    /// Every metric: its help text and type.
    static let families: [(name: String, help: String)] = [
        ("opvangsync_last_run_timestamp_seconds", "When the last import run ended (Unix time)."),
        ("opvangsync_last_run_status", "1 for the status of the last import run (applied, skipped, aborted, failed), 0 for the others."),
        ("opvangsync_last_run_exit_code", "The exit code of the last import run."),
        ("opvangsync_last_run_duration_seconds", "How long the last import run took."),
        ("opvangsync_last_run_changes", "Records the last import run changed, per action."),
        ("opvangsync_last_run_rejected_rows", "Rows the last import run rejected."),
        ("opvangsync_last_run_held_locations", "Locations the last import run held as they were (their data in the export looked like a mistake)."),
        ("opvangsync_last_success_timestamp_seconds", "When the last import run that applied or skipped its export ended (Unix time)."),
        ("opvangsync_mail_messages", "Messages in the portal's outbox waiting (queued), given up (failed) or refused by the recipient's server (bounced)."),
    ]

    /// Reads this organisation's metrics from its portal database.
    public init(repository: PortalRepository, organisation fallback: String?) throws {
        let database = repository.database
        let owner = try database.scalarString("SELECT id FROM organisation ORDER BY rowid LIMIT 1")
        organisation = owner ?? fallback ?? "onbekend"
        let label = "organisation=\"\(RunMetrics.escape(organisation))\""
        var samples: [(String, String, String)] = []
        let last = try database.statement("""
            SELECT status, started_at, finished_at, exit_code, summary FROM runs WHERE mode = 'apply' ORDER BY rowid DESC LIMIT 1
            """).firstRow { row in (row.string(0) ?? "", row.string(1) ?? "", row.string(2) ?? "", row.int(3) ?? 0, row.string(4) ?? "{}") }
        if let (status, started, finished, exitCode, summary) = last {
            let start = Manifest.parseTimestamp(started), end = Manifest.parseTimestamp(finished)
            if let end { samples.append(("opvangsync_last_run_timestamp_seconds", label, RunMetrics.number(end.timeIntervalSince1970))) }
            for name in ["applied", "skipped", "aborted", "failed"] {
                samples.append(("opvangsync_last_run_status", "\(label),status=\"\(name)\"", status == name ? "1" : "0"))
            }
            samples.append(("opvangsync_last_run_exit_code", label, String(exitCode)))
            if let start, let end { samples.append(("opvangsync_last_run_duration_seconds", label, RunMetrics.number(max(0, end.timeIntervalSince(start))))) }
            var totals: [String: Int] = [:]
            var rejected = 0
            var held = 0
            if let node = try? JSONParser.parse(Array(summary.utf8)) {
                for (_, counts) in node["counts"]?.members ?? [] {
                    for (action, value) in counts.members ?? [] where action != "unchanged" { totals[action, default: 0] += value.int ?? 0 }
                }
                rejected = node["rejected"]?.int ?? 0
                held = node["held"]?.int ?? 0
            }
            for action in ["created", "updated", "restored", "ended", "vanished"] {
                samples.append(("opvangsync_last_run_changes", "\(label),action=\"\(action)\"", String(totals[action] ?? 0)))
            }
            samples.append(("opvangsync_last_run_rejected_rows", label, String(rejected)))
            samples.append(("opvangsync_last_run_held_locations", label, String(held)))
        }
        if let success = try database.scalarString(
            "SELECT finished_at FROM runs WHERE mode = 'apply' AND status IN ('applied', 'skipped') ORDER BY rowid DESC LIMIT 1"),
            let date = Manifest.parseTimestamp(success) {
            samples.append(("opvangsync_last_success_timestamp_seconds", label, RunMetrics.number(date.timeIntervalSince1970)))
        }
        for status in ["queued", "failed", "bounced"] {
            let count = try database.scalarInt("SELECT COUNT(*) FROM outbox WHERE status = ?", [.text(status)]) ?? 0
            samples.append(("opvangsync_mail_messages", "\(label),status=\"\(status)\"", String(count)))
        }
        self.samples = samples
    }

    /// Writes these samples into `path`, keeping the other organisations' samples that the file holds.
    public func write(to path: String) throws {
        let lockPath = path + ".lock"
        // Never through a link or a second name: a file planted there must not be created or changed.
        let lock = open(lockPath, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard lock >= 0 else { throw ProtectedFile.Failure(path: lockPath, reason: String(cString: strerror(errno))) }
        var info = stat()
        guard fstat(lock, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_nlink == 1 else {
            close(lock)
            throw ProtectedFile.Failure(path: lockPath, reason: "the lock file is not a plain file of its own")
        }
        defer { close(lock) }
        flock(lock, LOCK_EX)
        defer { flock(lock, LOCK_UN) }

        var kept: [String: [String]] = [:]
        let mine = "organisation=\"\(RunMetrics.escape(organisation))\""
        if let old = try? String(contentsOfFile: path, encoding: .utf8) {
            for line in old.split(separator: "\n") where !line.hasPrefix("#") && !line.contains(mine) {
                let name = String(line.prefix { $0 != "{" && $0 != " " })
                kept[name, default: []].append(String(line))
            }
        }
        for sample in samples { kept[sample.name, default: []].append("\(sample.name){\(sample.labels)} \(sample.value)") }
        var text = ""
        for family in RunMetrics.families {
            guard let lines = kept[family.name], !lines.isEmpty else { continue }
            text += "# HELP \(family.name) \(family.help)\n# TYPE \(family.name) gauge\n"
            text += lines.sorted().joined(separator: "\n") + "\n"
        }
        // Staged beside the file (a name node_exporter does not read: only *.prom), readable by the
        // collector's own user, and renamed into place.
        let temporary = try ProtectedFile.stage(Array(text.utf8), for: path)
        chmod(temporary, 0o644)
        try ProtectedFile.commit(temporary, to: path)
    }

    static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    static func number(_ value: Double) -> String { String(format: "%.3f", value) }
}
