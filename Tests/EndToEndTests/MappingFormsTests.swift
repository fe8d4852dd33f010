import Foundation
import OpvangSync
import PortalStore
import TestSupport
import Testing

/// SPEC §3: another planning system's export is read by writing a mapping, without code changes. The sample
/// organisation's data is written in the forms real systems use (Excel's "Unicode text", two columns per
/// weekday, one row per family, ISO-8859, a two-digit year, no manifest), each read through a mapping written
/// here; every one must give the portal the default export gives.
@Suite(.serialized) struct MappingFormsTests {
    static let asOf = ["--as-of", "2026-11-22"]

    /// One CSV file of the sample: its header and rows, as text.
    struct Table {
        var header: [String]
        var rows: [[String]]

        func column(_ name: String) -> Int { header.firstIndex(of: name) ?? -1 }

        /// Rewrites the cells of `columns` with `change`; empty cells stay empty.
        mutating func map(_ columns: [String], _ change: (String) -> String) {
            for name in columns {
                let index = column(name)
                precondition(index >= 0, "no column \(name)")
                for row in rows.indices where !rows[row][index].isEmpty { rows[row][index] = change(rows[row][index]) }
            }
        }
    }

    /// The default sample export, read as the planning system wrote it (Windows-1252, `;`).
    static func sample() throws -> [String: Table] {
        var tables: [String: Table] = [:]
        let folder = URL(fileURLWithPath: Package.sample("zonnebloem"))
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) where name.hasSuffix(".csv") {
            let data = try Data(contentsOf: folder.appendingPathComponent(name))
            let text = try #require(String(data: data, encoding: .windowsCP1252))
            var records: [[String]] = []
            try CSVReader.read(Array(text.utf8), delimiter: UInt8(ascii: ";"), file: name) { record in
                records.append((0..<record.count).map { record.field($0) })
            }
            tables[name] = Table(header: records[0], rows: Array(records.dropFirst()))
        }
        return tables
    }

    static let dateColumns = ["kinderen.csv": ["Geboortedatum"], "plaatsingen.csv": ["Ingangsdatum", "Einddatum"],
                              "afwijkingen.csv": ["Datum"], "kalender.csv": ["Van", "Tot"]]
    static let weekdays = ["Maandag", "Dinsdag", "Woensdag", "Donderdag", "Vrijdag", "Zaterdag", "Zondag"]

    /// `dd-mm-jjjj` of the sample as another layout.
    static func redate(_ text: String, _ layout: (Int, Int, Int) -> String) -> String {
        let parts = text.split(separator: "-").compactMap { Int($0) }
        precondition(parts.count == 3, "not a date: \(text)")
        return layout(parts[0], parts[1], parts[2])
    }

    static func two(_ number: Int) -> String { number < 10 ? "0\(number)" : "\(number)" }

    /// RFC 4180 text: every field quoted, or only those that need it.
    static func csv(_ table: Table, delimiter: Character, quoteAll: Bool, lineEnd: String) -> String {
        ([table.header] + table.rows).map { row in
            row.map { field in
                let needs = quoteAll || field.contains(delimiter) || field.contains("\"") || field.contains("\n") || field.contains("\r")
                return needs ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
            }.joined(separator: String(delimiter))
        }.joined(separator: lineEnd) + lineEnd
    }

    static func utf16(_ text: String, bigEndian: Bool) -> [UInt8] {
        var bytes: [UInt8] = bigEndian ? [0xFE, 0xFF] : [0xFF, 0xFE]
        for unit in text.utf16 {
            bytes += bigEndian ? [UInt8(unit >> 8), UInt8(unit & 0xFF)] : [UInt8(unit & 0xFF), UInt8(unit >> 8)]
        }
        return bytes
    }

    /// ISO-8859-1 or -15 bytes; every character of the sample has one.
    static func iso8859(_ text: String, latin9: Bool) throws -> [UInt8] {
        let nine: [Unicode.Scalar: UInt8] = ["€": 0xA4, "Š": 0xA6, "š": 0xA8, "Ž": 0xB4, "ž": 0xB8, "Œ": 0xBC, "œ": 0xBD, "Ÿ": 0xBE]
        return try text.unicodeScalars.map { scalar in
            if latin9, let byte = nine[scalar] { return byte }
            let replaced: Set<UInt32> = latin9 ? [0xA4, 0xA6, 0xA8, 0xB4, 0xB8, 0xBC, 0xBD, 0xBE] : []
            guard scalar.value < 0x80 || ((0xA0...0xFF).contains(scalar.value) && !replaced.contains(scalar.value)) else {
                throw Unrepresentable(scalar: scalar)
            }
            return UInt8(scalar.value)
        }
    }

    struct Unrepresentable: Error { let scalar: Unicode.Scalar }
    struct BaselineFailed: Error { let stderr: String }

    /// The default import of the sample, once per test process.
    static let baseline: Result<URL, any Error> = Result {
        let folder = temporaryFolder("forms-baseline")
        let result = try opvangsync(["import", Package.sample("zonnebloem"), "--db", "base.sqlite"] + asOf, in: folder)
        guard result.status == 0 else { throw BaselineFailed(stderr: result.stderr) }
        return folder.appendingPathComponent("base.sqlite")
    }

    /// The attendance lists and closed days, without run ids.
    static func attendance(_ path: String) throws -> [String] {
        let database = try Database(path: path, mode: .readOnly)
        let entries = try database.query("""
            SELECT group_code, date, child_number, start_time, end_time, absent, absent_from, absent_until, reason, source
            FROM attendance ORDER BY group_code, date, child_number
            """) { row in (0..<row.count).map { row.string($0) ?? "∅" }.joined(separator: "|") }
        let days = try database.query("SELECT group_code, date, closed_reason FROM attendance_days ORDER BY group_code, date") { row in
            (0..<row.count).map { row.string($0) ?? "∅" }.joined(separator: "|")
        }
        return entries + days
    }

    /// Imports `export` through `mapping` (written into the work folder) and compares the portal with the baseline.
    func expectSamePortal(_ name: String, export: URL, mapping: String, organisation: Bool, in folder: URL) throws -> [String: Any] {
        try Data(mapping.utf8).write(to: folder.appendingPathComponent("\(name).json"))
        try Data(#"{"portalUrl": "https://zonnebloem.ouderportaal.example"}"#.utf8).write(to: folder.appendingPathComponent("opvangsync.json"))
        let result = try opvangsync(["import", export.path, "--mapping", "\(name).json", "--db", "\(name).sqlite"]
                                    + (organisation ? ["--org", "zonnebloem"] : []) + Self.asOf, in: folder)
        #expect(result.status == 0, "\(name): \(result.stderr)")
        let base = try Self.baseline.get().path
        let portal = folder.appendingPathComponent("\(name).sqlite").path
        let left = try portalContents(base), right = try portalContents(portal)
        for table in left.keys.sorted() {
            #expect(left[table] == right[table], "\(name): table \(table) differs from the default export's")
            if left[table] != right[table] {
                let missing = Set(left[table] ?? []).subtracting(right[table] ?? []).sorted().prefix(3)
                let extra = Set(right[table] ?? []).subtracting(left[table] ?? []).sorted().prefix(3)
                Issue.record("\(name) \(table): only in default \(Array(missing)); only here \(Array(extra))")
            }
        }
        #expect(left["children"]?.count == 150 && left["relations"]?.count == 296)
        #expect(try Self.attendance(base) == Self.attendance(portal), "\(name): the attendance lists differ")
        return try reportJSON(of: result, in: folder)
    }

    func encodings(_ report: [String: Any]) -> Set<String> {
        Set(((report["export"] as? [String: Any])?["files"] as? [[String: Any]] ?? []).compactMap { $0["encoding"] as? String })
    }

    // MARK: The forms

    /// Excel's "Unicode text": UTF-16 LE with a BOM, tabs, every field quoted, CRLF; dates `d-m-jjjj`, times
    /// with seconds, gender `F`, other file names, and no manifest (a ready marker with the export's time).
    @Test func excelUnicodeTextWithSecondsAndAReadyMarker() throws {
        var tables = try Self.sample()
        for (file, columns) in Self.dateColumns { tables[file]?.map(columns) { Self.redate($0) { d, m, y in "\(d)-\(m)-\(y)" } } }
        tables["plaatsingen.csv"]?.map(Self.weekdays) { $0.split(separator: "-").map { "\($0):00" }.joined(separator: "-") }
        tables["afwijkingen.csv"]?.map(["Van", "Tot"]) { "\($0):00" }
        tables["kinderen.csv"]?.map(["Geslacht"]) { $0 == "V" ? "F" : $0 }
        let folder = temporaryFolder("forms-excel")
        let export = folder.appendingPathComponent("export")
        try FileManager.default.createDirectory(at: export, withIntermediateDirectories: true)
        for (name, table) in tables {
            let text = Self.csv(table, delimiter: "\t", quoteAll: true, lineEnd: "\r\n")
            try Data(Self.utf16(text, bigEndian: false)).write(to: export.appendingPathComponent(name.replacingOccurrences(of: ".csv", with: ".txt")))
        }
        try Data("2026-11-21T23:40:00+01:00\r\n".utf8).write(to: export.appendingPathComponent("export.klaar"))
        let mapping = BuiltInMapping.flexkidsCSV.text
            .replacingOccurrences(of: ".csv\"", with: ".txt\"")
            .replacingOccurrences(of: #""delimiter": ";""#, with: #""delimiter": "\t""#)
            .replacingOccurrences(of: #""encoding": "auto""#, with: #""encoding": "utf-16""#)
            .replacingOccurrences(of: #""dateFormat": "dd-mm-jjjj""#, with: #""dateFormat": "d-m-jjjj", "timeFormat": "HH:MM:SS""#)
            .replacingOccurrences(of: #""manifest": "manifest.json""#, with: #""manifest": {"mode": "none", "readyMarker": "export.klaar"}"#)
            .replacingOccurrences(of: #""gender": {"#, with: #""gender": { "F": "V","#)
        #expect(mapping.contains("utf-16") && mapping.contains("export.klaar") && mapping.contains(#""F": "V""#))
        let report = try expectSamePortal("excel", export: export, mapping: mapping, organisation: true, in: folder)
        #expect(encodings(report) == ["utf-16le"])
        #expect((report["export"] as? [String: Any])?["integrity"] as? String == "none")
        #expect((report["export"] as? [String: Any])?["exportedAt"] as? String == "2026-11-21T23:40:00+01:00")
    }

    /// A system with start and end times in two columns per weekday (`H.MM`), one row per child with its
    /// parents side by side, UTF-16 BE, commas, `dd/mm/jj` with a pivot, gender `J`/`M`, and an empty
    /// ready marker (its modification time is the export's).
    @Test func twoColumnsPerWeekdayAndOneRowPerFamily() throws {
        var tables = try Self.sample()
        for (file, columns) in Self.dateColumns {
            tables[file]?.map(columns) { Self.redate($0) { d, m, y in "\(Self.two(d))/\(Self.two(m))/\(Self.two(y % 100))" } }
        }
        tables["afwijkingen.csv"]?.map(["Van", "Tot"]) { $0.replacingOccurrences(of: ":", with: ".") }
        // Jongen/meisje: here M means a girl, which only the code table can say.
        tables["kinderen.csv"]?.map(["Geslacht"]) { $0 == "M" ? "J" : "M" }
        // Care hours: two columns per weekday.
        var placements = try #require(tables["plaatsingen.csv"])
        let short = ["ma", "di", "wo", "do", "vr", "za", "zo"]
        let dayIndexes = Self.weekdays.map(placements.column)
        var header = placements.header.enumerated().filter { !dayIndexes.contains($0.offset) }.map(\.element)
        header += short.flatMap { ["\($0)_van", "\($0)_tot"] }
        placements.rows = placements.rows.map { row in
            row.enumerated().filter { !dayIndexes.contains($0.offset) }.map(\.element) + dayIndexes.flatMap { index -> [String] in
                let halves = row[index].split(separator: "-").map { String($0).replacingOccurrences(of: ":", with: ".") }
                return halves.count == 2 ? halves : ["", ""]
            }
        }
        placements.header = header
        tables["plaatsingen.csv"] = placements
        // Relations: one row per child, a column per role.
        let relations = try #require(tables["relaties.csv"])
        tables["relaties.csv"] = nil
        var families: [String: [String: String]] = [:]
        var order: [String] = []
        for row in relations.rows {
            if families[row[0]] == nil { order.append(row[0]) }
            #expect(families[row[0], default: [:]][row[2]] == nil, "one parent per role and child")
            families[row[0], default: [:]][row[2]] = row[1]
        }
        tables["gezinnen.csv"] = Table(header: ["Kind", "Ouder1", "Ouder2", "Verzorger"],
                                       rows: order.map { child in [child] + ["Ouder 1", "Ouder 2", "Verzorger"].map { families[child]?[$0] ?? "" } })
        let folder = temporaryFolder("forms-columns")
        let export = folder.appendingPathComponent("export")
        try FileManager.default.createDirectory(at: export, withIntermediateDirectories: true)
        for (name, table) in tables {
            try Data(Self.utf16(Self.csv(table, delimiter: ",", quoteAll: false, lineEnd: "\n"), bigEndian: true)).write(to: export.appendingPathComponent(name))
        }
        let marker = export.appendingPathComponent("READY")
        try Data().write(to: marker)
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 1_795_300_000)], ofItemAtPath: marker.path)
        let days = zip(["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"], short)
            .map { #""\#($0)": {"from": "\#($1)_van", "to": "\#($1)_tot"}"# }.joined(separator: ", ")
        var mapping = BuiltInMapping.flexkidsCSV.text
            .replacingOccurrences(of: #""delimiter": ";""#, with: #""delimiter": ",""#)
            .replacingOccurrences(of: #""encoding": "auto""#, with: #""encoding": "UTF-16""#)
            .replacingOccurrences(of: #""dateFormat": "dd-mm-jjjj""#, with: #""dateFormat": "dd/mm/jj", "yearPivot": 1970, "timeFormat": "UU.MM""#)
            .replacingOccurrences(of: #""manifest": "manifest.json""#, with: #""manifest": {"mode": "none", "readyMarker": "READY"}"#)
            .replacingOccurrences(of: #""gender": { "Jongen": "M","#, with: #""gender": { "J": "M", "M": "V", "Jongen": "M","#)
        mapping = mapping.replacingOccurrences(
            of: #""monday": "Maandag", "tuesday": "Dinsdag", "wednesday": "Woensdag", "thursday": "Donderdag",\#n        "friday": "Vrijdag", "saturday": "Zaterdag", "sunday": "Zondag","#,
            with: days + ",")
        mapping = mapping.replacingOccurrences(
            of: #""relation": {\#n      "file": "relaties.csv",\#n      "fields": { "childNumber": "Kindnummer", "parentNumber": "Oudernummer", "role": "Rol" }\#n    }"#,
            with: #"""
                "relation": {
                  "file": "gezinnen.csv",
                  "parts": [
                    { "fields": { "childNumber": "Kind", "parentNumber": "Ouder1", "role": { "value": "Ouder 1" } }, "onlyRowsWith": ["parentNumber"] },
                    { "fields": { "childNumber": "Kind", "parentNumber": "Ouder2", "role": { "value": "Ouder 2" } }, "onlyRowsWith": ["parentNumber"] },
                    { "fields": { "childNumber": "Kind", "parentNumber": "Verzorger", "role": { "value": "Verzorger" } }, "onlyRowsWith": ["parentNumber"] }
                  ]
                }
                """#)
        #expect(mapping.contains("gezinnen.csv") && mapping.contains("ma_van") && mapping.contains(#""M": "V""#), "the mapping was rewritten")
        let report = try expectSamePortal("columns", export: export, mapping: mapping, organisation: true, in: folder)
        #expect(encodings(report) == ["utf-16be"])
        #expect((report["export"] as? [String: Any])?["exportedAt"] as? String == "2026-11-21T22:26:40Z")
    }

    /// ISO-8859-1 and -15, `jjjj-m-d` dates, and a manifest of the system's own name.
    @Test(arguments: [false, true])
    func isoLatinWithItsOwnManifestName(latin9: Bool) throws {
        var tables = try Self.sample()
        for (file, columns) in Self.dateColumns { tables[file]?.map(columns) { Self.redate($0) { d, m, y in "\(y)-\(m)-\(d)" } } }
        let folder = temporaryFolder("forms-latin")
        let export = folder.appendingPathComponent("export")
        try FileManager.default.createDirectory(at: export, withIntermediateDirectories: true)
        var listed: [[String: Any]] = []
        for (name, table) in tables.sorted(by: { $0.key < $1.key }) {
            let bytes = try Self.iso8859(Self.csv(table, delimiter: ";", quoteAll: false, lineEnd: "\r\n"), latin9: latin9)
            try Data(bytes).write(to: export.appendingPathComponent(name))
            listed.append(["name": name, "rows": table.rows.count, "sha256": SHA256.hex(of: bytes)])
        }
        var manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Package.sample("zonnebloem") + "/manifest.json"))) as! [String: Any]
        manifest["files"] = listed
        try JSONSerialization.data(withJSONObject: manifest).write(to: export.appendingPathComponent("inhoud.json"))
        let encoding = latin9 ? "iso-8859-15" : "latin1"
        let mapping = BuiltInMapping.flexkidsCSV.text
            .replacingOccurrences(of: #""encoding": "auto""#, with: #""encoding": "\#(encoding)""#)
            .replacingOccurrences(of: #""dateFormat": "dd-mm-jjjj""#, with: #""dateFormat": "jjjj-m-d""#)
            .replacingOccurrences(of: #""manifest": "manifest.json""#, with: #""manifest": {"mode": "sha256", "file": "inhoud.json"}"#)
        let report = try expectSamePortal(latin9 ? "latin9" : "latin1", export: export, mapping: mapping, organisation: false, in: folder)
        #expect(encodings(report) == [latin9 ? "iso-8859-15" : "iso-8859-1"])
        #expect((report["export"] as? [String: Any])?["integrity"] as? String == "sha256")
    }

    /// The JSON variant as Windows PowerShell writes it (UTF-16 LE with a BOM), without a manifest.
    @Test func jsonInUTF16WithoutManifest() throws {
        let original = try Data(contentsOf: URL(fileURLWithPath: Package.sample("zonnebloem-json") + "/export.json"))
        var document = try JSONSerialization.jsonObject(with: original) as! [String: Any]
        document["manifest"] = nil
        let text = String(decoding: try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys]), as: UTF8.self)
        let folder = temporaryFolder("forms-json")
        let export = folder.appendingPathComponent("export")
        try FileManager.default.createDirectory(at: export, withIntermediateDirectories: true)
        try Data(Self.utf16(text, bigEndian: false)).write(to: export.appendingPathComponent("export.json"))
        try Data("2026-11-21T23:40:00+01:00".utf8).write(to: export.appendingPathComponent("export.json.done"))
        let mapping = BuiltInMapping.flexkidsJSON.text
            .replacingOccurrences(of: #""encoding": "utf-8""#, with: #""encoding": "utf-16""#)
            .replacingOccurrences(of: #""manifest": "manifest""#, with: #""manifest": {"mode": "none", "readyMarker": "export.json.done"}"#)
        #expect(mapping.contains("export.json.done"))
        let report = try expectSamePortal("json16", export: export, mapping: mapping, organisation: true, in: folder)
        #expect((report["export"] as? [String: Any])?["integrity"] as? String == "none")
        #expect(encodings(report) == ["utf-16le"])
    }
}
