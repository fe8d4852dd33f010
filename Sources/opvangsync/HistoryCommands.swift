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

                The runs on this portal database, newest first: when, which export, status, counts and operator.
                """)
            return .success
        }
        let (repository, _) = try open(arguments)
        let limit = Int(arguments.value("limit") ?? "50") ?? 50
        let runs = try repository.runs(limit: limit)
        let rows = runs.map { run in
            [run.id, run.startedAt, run.mode, run.status, countsText(run.summary), run.operator,
             run.reason ?? "", run.exportPath ?? ""]
        }
        try Table.print(header: ["run", "started", "mode", "status", "changes", "operator", "reason", "export"],
                        rows: rows, json: runs, format: arguments.value("format"))
        return .success
    }

    static func countsText(_ summary: String) -> String {
        guard let node = try? JSONParser.parse(Array(summary.utf8)), let counts = node["counts"]?.members else { return "" }
        var totals = [String: Int]()
        for (_, entity) in counts {
            for (name, value) in entity.members ?? [] { totals[name, default: 0] += value.int ?? 0 }
        }
        let rejected = node["rejected"]?.int ?? 0
        let held = node["held"]?.int ?? 0
        return "+\(totals["created"] ?? 0) ~\(totals["updated"] ?? 0) -\((totals["ended"] ?? 0) + (totals["vanished"] ?? 0)) rejected \(rejected)"
            + (held > 0 ? " held \(held)" : "")
    }

    static func report(_ words: [String]) throws -> ExitCode {
        let arguments = try Arguments(words, options: ["config", "org", "db", "format"], flags: ["help"])
        if arguments.flag("help") || arguments.positionals.count != 1 {
            print("""
                Usage: opvangsync report RUN_ID [--db FILE] [--format md|json|csv]

                Prints a run's report: the Dutch Markdown (default), the JSON, or the CSV of its changes. Dry runs,
                which leave the database untouched, are found in the reports folder.
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
        case "json": path = jsonPath
        case "csv": path = base + "-wijzigingen.csv"
        case let other: throw UsageError("--format takes md, json or csv, got \(other)")
        }
        if !FileManager.default.fileExists(atPath: path), let kept {
            // The run committed but its files were never put in place (a kill right after the commit, a
            // full disk): the database kept the report, so the files are written again from it.
            var report = try JSONDecoder().decode(RunReport.self, from: Data(kept.utf8))
            // The kept report leaves its changes to the change log.
            if report.changes.isEmpty { report.changes = keptChanges }
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

    static func history(_ words: [String]) throws -> ExitCode {
        let arguments = try Arguments(words, options: ["config", "org", "db", "format"], flags: ["help"])
        guard !arguments.flag("help"), arguments.positionals.count == 2 else {
            print("Usage: opvangsync history child|parent|placement|group|location|relation ID [--db FILE] [--format table|json|csv]")
            return arguments.flag("help") ? .success : .usage
        }
        guard let kind = EntityKind(rawValue: arguments.positionals[0]) else {
            throw UsageError("history takes child, parent, placement, group, location, staff, relation, deviation or calendar")
        }
        let (repository, _) = try open(arguments)
        let changes = try repository.history(of: kind, key: arguments.positionals[1])
        if changes.isEmpty, arguments.value("format") == nil {
            print("No changes recorded for \(kind.rawValue) \(arguments.positionals[1]).")
            return .success
        }
        let rows = changes.map { change in
            [change.asOf, change.runId, change.action, fieldsText(change.changes), change.operator, change.reason ?? "", change.exportPath ?? ""]
        }
        try Table.print(header: ["as of", "run", "action", "changes", "operator", "reason", "export"],
                        rows: rows, json: changes, format: arguments.value("format"))
        return .success
    }

    static func fieldsText(_ json: String) -> String {
        guard let node = try? JSONParser.parse(Array(json.utf8)), let list = node.elements else { return "" }
        return list.map { item in
            "\(item["field"]?.string ?? "?"): \(item["old"]?.string ?? "—") → \(item["new"]?.string ?? "—")"
        }.joined(separator: "; ")
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
