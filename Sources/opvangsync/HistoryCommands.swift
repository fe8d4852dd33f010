import Foundation
import OpvangSync

/// `runs`, `report` and `history`: read-only views for customer service and auditors.
enum HistoryCommands {
    static func open(_ arguments: Arguments) throws -> (PortalRepository, OrganisationSettings) {
        let settings = try AccountCommands.settings(arguments)
        return (try PortalRepository(readOnlyAt: settings.database), settings)
    }

    static func runs(_ words: [String]) throws -> ExitCode {
        let arguments = try Arguments(words, options: ["config", "org", "db", "format", "limit"], flags: ["help"])
        if arguments.flag("help") {
            print("""
                Usage: opvangsync runs [--db FILE] [--limit N] [--format table|json|csv]

                The runs on this portal database, newest first: when (local time), what kind of run, its status,
                the changes, who ran it and why, and which export. --format json gives every field as stored
                (times in UTC, statuses as codes), with the options and the summary as nested objects.
                """)
            return .success
        }
        let (repository, _) = try open(arguments)
        let limit = Int(arguments.value("limit") ?? "50") ?? 50
        let runs = try repository.runs(limit: limit)
        let rows = runs.map { run in
            [run.id, DutchText.localTime(run.startedAt), DutchText.runMode(run.mode), DutchText.runStatus(run.status),
             countsText(run.summary), run.operator, run.reason ?? "", run.exportPath ?? ""]
        }
        try Table.print(header: ["run", "gestart", "soort", "status", "wijzigingen", "uitgevoerd door", "reden", "export"],
                        rows: rows, json: runs, format: arguments.value("format"))
        return .success
    }

    /// `+3 ~1 -0, 2 afgewezen`: created, updated, ended or vanished, and rejected rows, from a runs row's summary.
    static func countsText(_ summary: String) -> String {
        guard let node = try? JSONParser.parse(Array(summary.utf8)) else { return "" }
        if let attendance = node["attendance"] {
            return "aanwezigheid +\(attendance["added"]?.int ?? 0) -\(attendance["removed"]?.int ?? 0) ~\(attendance["changed"]?.int ?? 0)"
        }
        guard let counts = node["counts"]?.members else { return "" }
        var totals = [String: Int]()
        for (_, entity) in counts {
            for (name, value) in entity.members ?? [] { totals[name, default: 0] += value.int ?? 0 }
        }
        let rejected = node["rejected"]?.int ?? 0
        let held = node["held"]?.int ?? 0
        return "+\(totals["created"] ?? 0) ~\(totals["updated"] ?? 0) -\((totals["ended"] ?? 0) + (totals["vanished"] ?? 0)), \(rejected) afgewezen"
            + (held > 0 ? ", \(DutchText.count(held, "locatie", "locaties")) vastgehouden" : "")
    }

    static func report(_ words: [String]) throws -> ExitCode {
        let arguments = try Arguments(words, options: ["config", "org", "db", "format"], flags: ["help"])
        if arguments.flag("help") || arguments.positionals.count != 1 {
            print("""
                Usage: opvangsync report RUN_ID [--db FILE] [--format md|html|json|csv]

                Prints a run's report: the Dutch Markdown (default), the Dutch web page (html), the JSON, or the
                CSV of its changes. Dry runs, which leave the database untouched, are found in the reports folder.
                """)
            return arguments.flag("help") ? .success : .usage
        }
        let configuration = try Configuration.load(path: arguments.value("config"))
        let settings = try configuration.settings(for: arguments.value("org"))
        let id = arguments.positionals[0]
        guard id.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) else { throw UsageError("\(id) is not a run id") }
        var jsonPath: String?
        var kept: String?
        var keptChanges: [RunReport.ReportChange] = []
        let database = arguments.value("db") ?? settings.database
        if FileManager.default.fileExists(atPath: database) {
            let repository = try PortalRepository(readOnlyAt: database)
            jsonPath = try repository.run(id: id)?.reportPath
            kept = try repository.reportJSON(runID: id)
            if kept != nil { keptChanges = try repository.reportChanges(runID: id) }
        }
        if jsonPath == nil {
            // Dry runs write only their report: look for it in the reports folder.
            let organisations = (try? FileManager.default.contentsOfDirectory(atPath: settings.reports)) ?? []
            jsonPath = organisations.map { (settings.reports as NSString).appendingPathComponent("\($0)/\(id).json") }
                .first { FileManager.default.fileExists(atPath: $0) }
        }
        guard let jsonPath else {
            throw UsageError("no run \(id) in this portal database or in \(settings.reports); `opvangsync runs` lists them")
        }
        let base = String(jsonPath.dropLast(".json".count))
        let path: String
        switch arguments.value("format") ?? "md" {
        case "md": path = base + ".md"
        case "html": path = base + ".html"
        case "json": path = jsonPath
        case "csv": path = base + "-wijzigingen.csv"
        case let other: throw UsageError("--format takes md, html, json or csv, got \(other)")
        }
        if !FileManager.default.fileExists(atPath: path), let kept {
            // The run committed but its files were never put in place (a kill right after the commit, a
            // full disk): the database kept the report, so the files are written again from it.
            var report = try JSONDecoder().decode(RunReport.self, from: Data(kept.utf8))
            // The kept report leaves its changes to the change log.
            if report.changes.isEmpty { report.changes = RunReport.ChangeList(keptChanges) }
            let folder = (jsonPath as NSString).deletingLastPathComponent
            let paths = try ReportWriter.stage(report, folder: folder.isEmpty ? "." : folder).commit()
            Terminal.warning("opvangsync: the report files of run \(id) were missing and have been written again from the database (\(paths.json))")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            if kept == nil, let run = try? PortalRepository(readOnlyAt: database).run(id: id), let started = ISO8601DateFormatter().date(from: run.startedAt),
               started < ReportRetention(days: settings.reportRetentionDays).cutoff {
                throw UsageError("the report of run \(id) was removed after \(settings.reportRetentionDays) days (reportRetentionDays): reports hold personal data; `opvangsync runs` keeps its summary")
            }
            throw UsageError("the report file \(path) is gone or unreadable")
        }
        FileHandle.standardOutput.write(data)
        return .success
    }

    /// The kinds of record `history` takes: the same list in its help, its errors and the README.
    static let historyKinds = EntityKind.allCases.map(\.rawValue)

    static func history(_ words: [String]) throws -> ExitCode {
        let arguments = try Arguments(words, options: ["config", "org", "db", "format"], flags: ["help"])
        let kinds = historyKinds.joined(separator: "|")
        guard !arguments.flag("help"), arguments.positionals.count == 2 else {
            print("""
                Usage: opvangsync history \(kinds) ID [--db FILE] [--format table|json|csv]

                Every change to one record, oldest first: the run and its date, what changed (with the export's
                own column names), who ran it and why. For a parent also what happened to its account between
                runs: a new activation link (who sent it, why, to which address) and mail that bounced.
                An ID the portal does not know is an error (exit 1).
                """)
            return arguments.flag("help") ? .success : .usage
        }
        guard let kind = EntityKind(rawValue: arguments.positionals[0]) else {
            throw UsageError("history takes \(historyKinds.joined(separator: ", ")), not \"\(TextSafety.visible(arguments.positionals[0]))\"")
        }
        let key = arguments.positionals[1]
        let (repository, settings) = try open(arguments)
        guard try repository.recordExists(kind, key: key) else {
            Terminal.error("opvangsync: onbekend: geen \(kind.dutchSingular) met nummer \(TextSafety.visible(key)) in dit portaal")
            return .failed
        }
        let entries = try repository.fullHistory(of: kind, key: key)
        if entries.isEmpty, arguments.value("format") == nil {
            print("Geen wijzigingen vastgelegd voor \(kind.dutchSingular) \(key).")
            return .success
        }
        let columns = fieldNames(settings)
        let rows = entries.map { entry in
            [entry.asOf.map { DutchText.localTime($0) } ?? "", DutchText.localTime(entry.at), entry.runId ?? "",
             entry.source == "account" ? accountAction(entry.action) : DutchText.action(entry.action),
             entry.source == "account" ? eventText(entry) : fieldsText(entry.changes, entity: kind.rawValue, columns: columns),
             entry.operator ?? "", entry.reason ?? "", entry.exportPath ?? ""]
        }
        try Table.print(header: ["peildatum", "tijdstip", "run", "actie", "wijzigingen", "uitgevoerd door", "reden", "export"],
                        rows: rows, json: entries, format: arguments.value("format"))
        return .success
    }

    /// The export's column names under the configured mapping (the default export's when none is set).
    static func fieldNames(_ settings: OrganisationSettings) -> [String: [String: String]]? {
        guard let path = settings.mapping, let mapping = try? Mapping.load(path: path) else { return nil }
        return FieldNames.columns(of: mapping)
    }

    static func fieldsText(_ changes: [FieldChange], entity: String, columns: [String: [String: String]]?) -> String {
        changes.map { change in
            let old = FieldNames.display(entity, change.field, change.old) ?? "—", new = FieldNames.display(entity, change.field, change.new) ?? "—"
            return "\(FieldNames.label(entity, change.field, in: columns)): \(old) → \(new)"
        }.joined(separator: "; ")
    }

    static func accountAction(_ kind: String) -> String {
        switch kind {
        case "resend": return "nieuwe activatielink"
        case "bounce": return "e-mail onbestelbaar"
        case "delay": return "e-mail vertraagd"
        default: return kind
        }
    }

    static func eventText(_ entry: HistoryEntry) -> String {
        [entry.address.map { "aan \($0)" }, entry.detail].compactMap { $0 }.joined(separator: ", ")
    }

}

/// Lists as an aligned table, JSON or CSV (SPEC §6).
enum Table {
    static func print<T: Encodable>(header: [String], rows: [[String]], json: T, format: String?) throws {
        switch format ?? "table" {
        case "table":
            var widths = header.map(\.count)
            for row in rows { for (index, cell) in row.enumerated() { widths[index] = min(60, max(widths[index], TextSafety.visible(cell).count)) } }
            func line(_ cells: [String]) -> String {
                cells.enumerated().map { index, raw in
                    // Cells hold text from exports (folder names, values): no escape sequence reaches a terminal.
                    let cell = TextSafety.visible(raw)
                    let text = cell.count > 60 ? String(cell.prefix(59)) + "…" : cell
                    return text.padding(toLength: widths[index], withPad: " ", startingAt: 0)
                }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
            }
            Swift.print(line(header))
            for row in rows { Swift.print(line(row)) }
        case "json":
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            Swift.print(String(decoding: try encoder.encode(json), as: UTF8.self))
        case "csv":
            Swift.print(SpreadsheetCSV.document(header: header, rows: rows.map { $0.map { Optional(TextSafety.visible($0)) } }), terminator: "")
        case let other:
            throw UsageError("--format takes table, json or csv, got \(other)")
        }
    }
}
