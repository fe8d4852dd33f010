import Foundation
import OpvangSync

/// Writes generated tables as a real export folder: CSV files plus a manifest with true row counts and
/// SHA-256 sums, or the JSON variant.
enum ExportWriter {
    enum Encoding: String { case utf8 = "utf-8", windows1252 = "windows-1252" }

    struct Metadata {
        var organisationID: String
        var organisationName: String
        var portalURL: String
        var exportedAt: String
    }

    static func csvText(_ table: ExportTable, lineEnd: String = "\r\n") -> String {
        var text = table.header.joined(separator: ";") + lineEnd
        for row in table.rows {
            text += row.map(quote).joined(separator: ";") + lineEnd
        }
        return text
    }

    static func quote(_ cell: String) -> String {
        // Scalars, not Characters: "\r\n" is a single Character and would slip past a Character test.
        guard cell.unicodeScalars.contains(where: { $0 == ";" || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return cell }
        return "\"" + cell.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// Unicode → Windows-1252. The generator only uses characters inside it; anything else is a bug in the
    /// generator and stops it, rather than writing a `?` that would make the CSV and JSON variants differ.
    static func windows1252(_ text: String) -> [UInt8] {
        let special: [UInt32: UInt8] = [
            0x20AC: 0x80, 0x201A: 0x82, 0x0192: 0x83, 0x201E: 0x84, 0x2026: 0x85, 0x2020: 0x86, 0x2021: 0x87,
            0x02C6: 0x88, 0x2030: 0x89, 0x0160: 0x8A, 0x2039: 0x8B, 0x0152: 0x8C, 0x017D: 0x8E, 0x2018: 0x91,
            0x2019: 0x92, 0x201C: 0x93, 0x201D: 0x94, 0x2022: 0x95, 0x2013: 0x96, 0x2014: 0x97, 0x02DC: 0x98,
            0x2122: 0x99, 0x0161: 0x9A, 0x203A: 0x9B, 0x0153: 0x9C, 0x017E: 0x9E, 0x0178: 0x9F,
        ]
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            if scalar.value < 0x80 || (0xA0...0xFF).contains(scalar.value) {
                bytes.append(UInt8(scalar.value))
            } else {
                guard let byte = special[scalar.value] else {
                    preconditionFailure("exportgen: \(scalar) (U+\(String(scalar.value, radix: 16))) is not in Windows-1252")
                }
                bytes.append(byte)
            }
        }
        return bytes
    }

    static func writeCSV(_ tables: [String: ExportTable], order: [String], to directory: String, encoding: Encoding,
                         metadata: Metadata) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var files: [[String: Any]] = []
        for name in order {
            guard let table = tables[name] else { continue }
            let text = csvText(table)
            let bytes = encoding == .windows1252 ? windows1252(text) : Array(text.utf8)
            try Data(bytes).write(to: URL(fileURLWithPath: (directory as NSString).appendingPathComponent(name)))
            files.append(["name": name, "rows": table.rows.count, "sha256": SHA256.hex(of: bytes)])
        }
        let manifest: [String: Any] = [
            "system": "Flexkids planning (export v3)",
            "organisation": ["id": metadata.organisationID, "name": metadata.organisationName, "portalUrl": metadata.portalURL],
            "exportedAt": metadata.exportedAt,
            "files": files,
        ]
        let data = try JSONSerialization.data(withJSONObject: manifest, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        try (data + Data("\n".utf8)).write(to: URL(fileURLWithPath: (directory as NSString).appendingPathComponent("manifest.json")))
    }

    /// The JSON variant: keys and date layout come from the built-in JSON mapping, so both stay in step.
    static func writeJSON(_ tables: [String: ExportTable], to directory: String, metadata: Metadata) throws {
        let csvMapping = try BuiltInMapping.flexkidsCSV.mapping()
        let jsonMapping = try BuiltInMapping.flexkidsJSON.mapping()
        var document: [String: Any] = [:]
        var files: [[String: Any]] = []
        for kind in EntityKind.allCases {
            guard let csvSource = csvMapping.entities[kind], let jsonSource = jsonMapping.entities[kind],
                  let table = tables[csvSource.name] else { continue }
            let schema = kind.schema
            var records: [[String: Any]] = []
            for row in table.rows {
                var record: [String: Any] = [:]
                for (index, field) in schema.fields.enumerated() {
                    guard let header = csvSource.columns[index], let key = jsonSource.columns[index] else { continue }
                    let cell = row[table.column(header)]
                    if cell.isEmpty { continue }
                    switch field.type {
                    case .date: record[key] = csvMapping.datePattern.parse(cell).map(\.iso) ?? cell
                    case .integer: record[key] = Int(cell) ?? cell
                    case .list: record[key] = cell.split(separator: "|").map(String.init)
                    default: record[key] = cell
                    }
                }
                records.append(record)
            }
            document[jsonSource.name] = records
            files.append(["name": jsonSource.name, "rows": records.count])
        }
        document["manifest"] = [
            "system": "Flexkids planning (export v3, JSON)",
            "organisation": ["id": metadata.organisationID, "name": metadata.organisationName, "portalUrl": metadata.portalURL],
            "exportedAt": metadata.exportedAt,
            "files": files,
        ] as [String: Any]
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let data = try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        try (data + Data("\n".utf8)).write(to: URL(fileURLWithPath: (directory as NSString).appendingPathComponent("export.json")))
    }
}
