import Foundation

/// The default export: one CSV file per entity plus `manifest.json` (SPEC §2).
public struct CSVExportSource: ExportSource {
    public let directory: String
    public let mapping: Mapping
    /// The SHA-256 the manifest gives each file, once it is checked: every file is hashed again as it is
    /// read for parsing, so a file replaced between the check and the read is never applied.
    public var expectedSHA256: [String: String] = [:]

    public init(directory: String, mapping: Mapping) {
        self.directory = directory
        self.mapping = mapping
    }

    public func loadManifest() throws(ExportFailure) -> Manifest {
        let bytes = try contents(of: mapping.manifest)
        do {
            let node = try JSONParser.parse(bytes)
            return try Manifest(node: node, fingerprint: SHA256.hex(of: bytes), file: mapping.manifest)
        } catch let error as JSONSyntaxError {
            throw ExportFailure("manifest-invalid", file: mapping.manifest, line: error.line, column: error.column,
                                message: "manifest is geen geldige JSON: \(error.reason)")
        } catch let error as ExportFailure {
            throw error
        } catch {
            throw ExportFailure("manifest-invalid", file: mapping.manifest, message: "\(error)")
        }
    }

    public func read(_ kind: EntityKind, selecting selection: RowSelection?, warn: (Issue) -> Void,
                     reject: (Issue, RawRow?) -> Void, row: (RawRow) throws -> Void, skipped: (SkippedRow) -> Void) throws -> FileRead {
        guard let source = mapping.entities[kind] else { return FileRead(file: "", rows: 0, encoding: nil) }
        let file = source.name
        let decoded = try decodedContents(of: file)
        let schema = kind.schema
        var headerIndex: [Int?] = []
        var headerCount = 0
        var rows = 0
        var sawHeader = false
        try CSVReader.read(decoded.bytes, delimiter: mapping.delimiter, file: file) { record in
            guard sawHeader else {
                sawHeader = true
                headerCount = record.count
                var positions: [String: Int] = [:]
                for index in 0..<record.count {
                    let name = record.field(index)
                    if isSensitiveColumn(name, mapping: mapping) {
                        warn(Issue(.warning, "bsn-in-export", file: file, line: record.line, column: index + 1, field: name,
                                   message: "de export bevat een BSN-kolom; die wordt niet ingelezen en niet bewaard"))
                        continue
                    }
                    if let first = positions[name.lowercased()] {
                        // Which of the two is meant cannot be known: a column the mapping reads may not be doubled.
                        if source.columns.contains(where: { $0?.lowercased() == name.lowercased() }) {
                            throw ExportFailure("duplicate-column", file: file, line: record.line, column: index + 1, field: name,
                                                message: "de kolom \"\(name)\" staat twee keer in de kopregel (ook als kolom \(first + 1)); welke bedoeld is, is niet te weten")
                        }
                        continue
                    }
                    positions[name.lowercased()] = index
                }
                headerIndex = source.columns.map { column in column.flatMap { positions[$0.lowercased()] } }
                for (index, field) in schema.fields.enumerated() {
                    guard let column = source.columns[index], headerIndex[index] == nil else { continue }
                    if field.required {
                        throw ExportFailure("missing-column", file: file, line: record.line, field: column,
                                            message: "verplichte kolom \"\(column)\" ontbreekt in de kopregel; de mapping \(mapping.path) leest haar voor \(mapping.fieldKeyPath(kind, field.name)): pas die sleutel aan als de kolom in deze export anders heet")
                    }
                    // An optional column that is absent: the field has no value.
                }
                return
            }
            rows += 1
            if let selection {
                // Only the selected field is turned into text; a row outside the selection costs no more.
                let text = headerIndex[selection.field].map { record.field($0) } ?? ""
                if !selection.values.contains(text) {
                    if let watch = selection.watch {
                        skipped(SkippedRow(line: record.line, watched: headerIndex[watch].map { record.field($0) } ?? ""))
                    }
                    return
                }
            }
            var cells: [RawCell] = []
            cells.reserveCapacity(headerIndex.count)
            for position in headerIndex {
                if let position {
                    cells.append(RawCell(text: record.field(position), line: record.line, column: position + 1, present: true))
                } else {
                    cells.append(RawCell(text: "", line: record.line, column: 0, present: false))
                }
            }
            // A row of another width cannot be trusted cell by cell: a delimiter inside a value shifts
            // every later cell, and a short row would blank the fields it lacks (SPEC §2). Its key, read
            // from the first cells, still protects the record.
            if record.count > headerCount {
                reject(Issue(.error, "extra-fields", file: file, line: record.line, column: headerCount + 1, message:
                    "de regel heeft \(record.count) velden, de kopregel \(headerCount); staat er een scheidingsteken in een waarde zonder aanhalingstekens?"),
                       RawRow(line: record.line, cells: cells))
                return
            }
            if record.count < headerCount {
                reject(Issue(.error, "missing-fields", file: file, line: record.line, column: record.count + 1, message:
                    "de regel heeft \(record.count) velden, de kopregel \(headerCount); ontbrekende velden worden niet als leeg gelezen"),
                       RawRow(line: record.line, cells: cells))
                return
            }
            try row(RawRow(line: record.line, cells: cells))
        }
        guard sawHeader else {
            throw ExportFailure("missing-header", file: file, line: 1, message: "bestand is leeg: de kopregel ontbreekt")
        }
        return FileRead(file: file, rows: rows, encoding: decoded.encoding)
    }

    /// A file of the export as UTF-8, decoded from the mapping's encoding.
    private func decodedContents(of file: String) throws -> DecodedText {
        do {
            let bytes = try contents(of: file)
            if let expected = expectedSHA256[file], SHA256.hex(of: bytes) != expected {
                throw ExportFailure("manifest-checksum", file: file, message:
                    "het bestand is gewijzigd nadat het manifest was gecontroleerd (SHA-256 wijkt nu af); er is niets verwerkt")
            }
            return try TextDecoder.decode(bytes, as: mapping.encoding)
        } catch let failure as EncodingFailure {
            let byte = "0x" + String(failure.byte, radix: 16, uppercase: true)
            let message: String
            switch failure.reason {
            case .invalidUTF8:
                message = "ongeldige UTF-8 (byte \(byte)) terwijl de mapping of het BOM UTF-8 voorschrijft"
            case .invalidUTF8InUTF8File:
                message = "ongeldige UTF-8 (byte \(byte)) in een bestand dat verder UTF-8 is; het bestand is beschadigd en wordt niet als Windows-1252 gelezen"
            case .undefinedInWindows1252:
                message = "byte \(byte) bestaat niet in Windows-1252; het bestand is beschadigd of in een andere tekenset geschreven"
            }
            throw ExportFailure("invalid-encoding", file: file, line: failure.line, column: failure.column, message: message)
        }
    }

    public func project(_ kind: EntityKind, fields: [Int], _ body: ([String]) -> Void) throws {
        guard let source = mapping.entities[kind] else { return }
        let file = source.name
        let decoded = try decodedContents(of: file)
        var positions: [Int?]?
        var texts = [String](repeating: "", count: fields.count)
        try CSVReader.read(decoded.bytes, delimiter: mapping.delimiter, file: file) { record in
            guard let positions else {
                var byName: [String: Int] = [:]
                for index in 0..<record.count {
                    let name = record.field(index).lowercased()
                    byName[name] = byName[name] ?? index
                }
                positions = fields.map { field in source.columns[field].flatMap { byName[$0.lowercased()] } }
                return
            }
            for (slot, position) in positions.enumerated() { texts[slot] = position.map { record.field($0) } ?? "" }
            body(texts)
        }
    }
}
