import Foundation
import OpvangSync

/// One folder per realistic fault in a planning-system export, each with `EXPECTED.json`: the exit code,
/// the report status and the issue (code, file, line, column) a run must give.
enum BrokenExports {
    struct Expected: Encodable {
        var description: String
        var exitCode: Int
        var status: String
        var issue: ExpectedIssue
    }

    struct ExpectedIssue: Encodable {
        var code: String
        var file: String
        var line: Int?
        var column: Int?
    }

    static func write(to root: String) throws {
        var options = GeneratorOptions()
        options.children = 60
        options.seed = 7
        options.locations = 1
        options.groupsPerLocation = 4
        options.organisationID = "zonnebloem"
        var generator = Generator(options: options)
        let base = generator.generate()
        let meta = ExportWriter.Metadata(organisationID: options.organisationID, organisationName: options.organisationName,
                                         portalURL: options.portalURL, exportedAt: "\(options.asOf.adding(days: -1).iso)T23:40:00+01:00")

        func make(_ name: String, _ expected: Expected, tables: [String: ExportTable] = base,
                  afterWrite: (String) throws -> Void = { _ in }) throws {
            let folder = (root as NSString).appendingPathComponent(name)
            try? FileManager.default.removeItem(atPath: folder)
            try ExportWriter.writeCSV(tables, order: Generator.fileOrder, to: folder, encoding: .windows1252, metadata: meta)
            try afterWrite(folder)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            try (try encoder.encode(expected) + Data("\n".utf8))
                .write(to: URL(fileURLWithPath: (folder as NSString).appendingPathComponent("EXPECTED.json")))
        }
        func changed(_ file: String, _ change: (inout ExportTable) -> Void) -> [String: ExportTable] {
            var tables = base
            change(&tables[file]!)
            return tables
        }
        /// Rewrites one file from its generated text, for faults a well-formed writer cannot produce.
        func rewrite(_ folder: String, _ file: String, _ transform: (String) -> String) throws {
            let path = (folder as NSString).appendingPathComponent(file)
            let text = ExportWriter.csvText(base[file]!)
            try Data(ExportWriter.windows1252(transform(text))).write(to: URL(fileURLWithPath: path))
        }
        /// Edits the `files` list of a folder's manifest in place.
        func editManifestFiles(_ folder: String, _ edit: (inout [[String: Any]]) throws -> Void) throws {
            let path = (folder as NSString).appendingPathComponent("manifest.json")
            var manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
            var files = manifest["files"] as! [[String: Any]]
            try edit(&files)
            manifest["files"] = files
            let data = try JSONSerialization.data(withJSONObject: manifest, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
            try (data + Data("\n".utf8)).write(to: URL(fileURLWithPath: path))
        }
        /// Recomputes the checksums after a file was edited by hand, so only the intended fault remains.
        func resealManifest(_ folder: String) throws {
            try editManifestFiles(folder) { files in
                for index in files.indices {
                    let name = files[index]["name"] as! String
                    let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: (folder as NSString).appendingPathComponent(name))))
                    files[index]["sha256"] = SHA256.hex(of: bytes)
                }
            }
        }

        let children = base["kinderen.csv"]!
        let placements = base["plaatsingen.csv"]!

        // A quote opened in a name and never closed: the file cannot be split into rows safely.
        try make("unbalanced-quote", Expected(
            description: "kinderen.csv: an opening quote on line 6 is never closed, so the rest of the file is one field. Structural: nothing is applied.",
            exitCode: 1, status: "failed", issue: .init(code: "unbalanced-quote", file: "kinderen.csv", line: 6, column: 2)),
            afterWrite: { folder in
                try rewrite(folder, "kinderen.csv") { text in
                    var lines = text.components(separatedBy: "\r\n")
                    var cells = lines[5].components(separatedBy: ";")
                    cells[1] = "\"" + cells[1]
                    lines[5] = cells.joined(separator: ";")
                    return lines.joined(separator: "\r\n")
                }
                try resealManifest(folder)
            })

        // The start-date column was dropped from the export definition.
        try make("missing-column", Expected(
            description: "plaatsingen.csv has no Ingangsdatum column. Structural: nothing is applied.",
            exitCode: 1, status: "failed", issue: .init(code: "missing-column", file: "plaatsingen.csv", line: 1, column: nil)),
            tables: {
                var tables = base
                let column = placements.column("Ingangsdatum")
                tables["plaatsingen.csv"] = ExportTable(
                    name: "plaatsingen.csv", header: placements.header.enumerated().filter { $0.offset != column }.map(\.element),
                    rows: placements.rows.map { $0.enumerated().filter { $0.offset != column }.map(\.element) })
                return tables
            }())

        try make("bad-date", Expected(
            description: "kinderen.csv line 4 has birth date 31-02-2021, which does not exist. The row (and that child's relations and placements) is rejected; the rest is applied.",
            exitCode: 4, status: "applied", issue: .init(code: "unparseable-date", file: "kinderen.csv", line: 4, column: children.column("Geboortedatum") + 1)),
            tables: changed("kinderen.csv") { $0.rows[2][$0.column("Geboortedatum")] = "31-02-2021" })

        try make("unknown-code", Expected(
            description: "plaatsingen.csv line 3 has care type KDO, which is no code. The row is rejected; the rest is applied.",
            exitCode: 4, status: "applied", issue: .init(code: "unknown-code", file: "plaatsingen.csv", line: 3, column: placements.column("Opvangsoort") + 1)),
            tables: changed("plaatsingen.csv") { $0.rows[1][$0.column("Opvangsoort")] = "KDO" })

        try make("unknown-reference", Expected(
            description: "plaatsingen.csv line 5 places child 999999, who is not in kinderen.csv. The row is rejected; the rest is applied.",
            exitCode: 4, status: "applied", issue: .init(code: "unknown-reference", file: "plaatsingen.csv", line: 5, column: placements.column("Kindnummer") + 1)),
            tables: changed("plaatsingen.csv") { $0.rows[3][$0.column("Kindnummer")] = "999999" })

        try make("missing-required-field", Expected(
            description: "ouders.csv line 7 has no Achternaam. The row (and its relations) is rejected; the rest is applied.",
            exitCode: 4, status: "applied", issue: .init(code: "missing-required-field", file: "ouders.csv", line: 7, column: 4)),
            tables: changed("ouders.csv") { $0.rows[5][$0.column("Achternaam")] = "" })

        try make("duplicate-key", Expected(
            description: "ouders.csv holds parent number 200003 twice (lines 4 and the last). Which is right cannot be known: both are rejected and the portal keeps what it had.",
            exitCode: 4, status: "applied", issue: .init(code: "duplicate-key", file: "ouders.csv", line: 4, column: nil)),
            tables: changed("ouders.csv") { table in
                var copy = table.rows[2]
                copy[table.column("Mobiel")] = "06-11111111"
                table.rows.append(copy)
            })

        try make("checksum-mismatch", Expected(
            description: "plaatsingen.csv was cut off after the manifest was written (an interrupted upload): its SHA-256 no longer matches. Nothing is applied.",
            exitCode: 3, status: "aborted", issue: .init(code: "manifest-checksum", file: "plaatsingen.csv", line: nil, column: nil)),
            afterWrite: { folder in
                let path = (folder as NSString).appendingPathComponent("plaatsingen.csv")
                let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
                try bytes.prefix(bytes.count * 6 / 10).write(to: URL(fileURLWithPath: path))
            })

        try make("file-missing", Expected(
            description: "The manifest lists afwijkingen.csv, but the file is not in the export. Nothing is applied.",
            exitCode: 3, status: "aborted", issue: .init(code: "manifest-file-missing", file: "afwijkingen.csv", line: nil, column: nil)),
            afterWrite: { folder in try FileManager.default.removeItem(atPath: (folder as NSString).appendingPathComponent("afwijkingen.csv")) })

        try make("row-count-mismatch", Expected(
            description: "The manifest says relaties.csv has 5 rows more than it does. Nothing is applied.",
            exitCode: 3, status: "aborted", issue: .init(code: "manifest-rows", file: "relaties.csv", line: nil, column: nil)),
            afterWrite: { folder in
                try editManifestFiles(folder) { files in
                    let index = files.firstIndex { $0["name"] as? String == "relaties.csv" }!
                    files[index]["rows"] = (files[index]["rows"] as! Int) + 5
                }
            })

        try make("too-many-rejected", Expected(
            description: "5 of the 60 rows of kinderen.csv have an impossible birth date: more than 5% (maxRejectedFraction). Nothing is applied.",
            exitCode: 3, status: "aborted", issue: .init(code: "unparseable-date", file: "kinderen.csv", line: 3, column: children.column("Geboortedatum") + 1)),
            tables: changed("kinderen.csv") { table in
                for row in [1, 11, 21, 31, 41] { table.rows[row][table.column("Geboortedatum")] = "00-00-0000" }
            })

        try make("invalid-manifest", Expected(
            description: "manifest.json is cut off, so the export cannot be checked. Nothing is applied.",
            exitCode: 1, status: "failed", issue: .init(code: "manifest-invalid", file: "manifest.json", line: nil, column: nil)),
            afterWrite: { folder in
                let path = (folder as NSString).appendingPathComponent("manifest.json")
                let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
                try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: path))
            })
    }
}
