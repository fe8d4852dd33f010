import Foundation

/// The JSON variant: every record in one `export.json`, the manifest under its `manifest` key.
///
/// The manifest's `files` list names the entity arrays (`{"name": "children", "rows": 150}`): a JSON
/// file cannot carry its own SHA-256, and a truncated file fails to parse anyway.
public final class JSONExportSource: ExportSource {
    public let directory: String
    public let mapping: Mapping
    public var organisation: String?
    private var root: JSONNode?
    private var rawSize = 0
    /// The encoding the export file was read in.
    private var encoding = TextEncoding.utf8

    public init(directory: String, mapping: Mapping) {
        self.directory = directory
        self.mapping = mapping
    }

    private var file: String { mapping.exportFile ?? "export.json" }

    private func document() throws(ExportFailure) -> JSONNode {
        if let root { return root }
        let bytes = try contents(of: file)
        do {
            let decoded = try JSONExportSource.utf8(bytes, encoding: mapping.encoding, file: file, mapping: mapping)
            let parsed = try JSONParser.parse(decoded.bytes)
            encoding = decoded.encoding
            guard parsed.members != nil else {
                throw ExportFailure("invalid-json", file: file, line: parsed.line, column: parsed.column,
                                    message: "de export moet een JSON-object zijn")
            }
            root = parsed
            return parsed
        } catch let error as JSONSyntaxError {
            throw ExportFailure("invalid-json", file: file, line: error.line, column: error.column,
                                message: "geen geldige JSON (\(error.reason)); het bestand is waarschijnlijk afgebroken")
        } catch let error as ExportFailure {
            throw error
        } catch {
            throw ExportFailure("invalid-json", file: file, message: "\(error)")
        }
    }

    /// JSON is UTF-8 (RFC 8259), which the parser checks itself; a mapping may name another encoding
    /// (Windows tools write UTF-16 with a byte order mark), which is decoded first.
    static func utf8(_ bytes: [UInt8], encoding: TextEncoding, file: String, mapping: Mapping) throws(ExportFailure) -> DecodedText {
        let hasUTF16BOM = bytes.starts(with: [0xFF, 0xFE]) || bytes.starts(with: [0xFE, 0xFF])
        guard encoding != .utf8, encoding != .auto || hasUTF16BOM else { return DecodedText(bytes: bytes, encoding: .utf8) }
        do {
            return try TextDecoder.decode(bytes, as: encoding)
        } catch {
            throw error.exportFailure(file: file, mapping: mapping)
        }
    }

    public func loadManifest() throws(ExportFailure) -> Manifest {
        if mapping.manifestMode == .none { return try ReadyMarker.manifest(of: self) }
        let root = try document()
        guard let node = root[mapping.manifest] else {
            throw ExportFailure("manifest-invalid", file: file, line: 1, column: 1,
                                message: "de export mist de sleutel \"\(mapping.manifest)\"")
        }
        // The fingerprint covers the whole file: a changed record is a different export.
        let bytes = try contents(of: file)
        return try Manifest(node: node, fingerprint: SHA256.hex(of: bytes), file: file)
    }

    public func verify(_ manifest: Manifest) -> [Issue] {
        if mapping.manifestMode == .none { return ReadyMarker.verify(self) }
        var issues: [Issue] = []
        for listed in manifest.files {
            if listed.sha256 != nil {
                issues.append(Issue(.error, "manifest-checksum", file: file,
                                    message: "een JSON-export kan geen SHA-256 van zichzelf bevatten (\(listed.name))"))
            }
        }
        // Every list the mapping reads is listed with its row count: a list cut short is found.
        let listed = Set(manifest.files.map(\.name))
        for kind in EntityKind.allCases {
            guard let name = mapping.entities[kind]?.name, !listed.contains(name) else { continue }
            issues.append(Issue(.error, "manifest-file-unlisted", file: "\(file)#\(name)", message:
                "de mapping leest deze lijst, maar het manifest noemt haar niet (met het aantal regels); zonder controle wordt zij niet gelezen"))
        }
        return issues
    }

    /// Every row reaches `row` whole (`probing` is not used): a JSON value's text is made as its node is
    /// parsed, so the validator hashes the cells.
    public func read(_ kind: EntityKind, selecting selection: RowSelection?, probing _: RowProbe?, warn: (Issue) -> Void,
                     reject: (Issue, RawRow?) -> Void, row: (RawRow) throws -> Void, skipped: (SkippedRow) -> Void,
                     unchanged _: (UInt64, RawRow) -> Bool) throws -> FileRead {
        guard let source = mapping.entities[kind] else { return FileRead(file: "", rows: 0, encoding: nil) }
        let root = try document()
        let label = "\(file)#\(source.name)"
        guard let arrayNode = root[source.name] else {
            throw ExportFailure("file-missing", file: label, message: "de export mist de lijst \"\(source.name)\"")
        }
        guard let elements = arrayNode.elements else {
            throw ExportFailure("invalid-json", file: label, line: arrayNode.line, column: arrayNode.column,
                                message: "\"\(source.name)\" moet een lijst zijn")
        }
        var warnedSensitive: Set<String> = []
        for element in elements {
            guard let members = element.members else {
                reject(Issue(.error, "not-an-object", file: label, line: element.line, column: element.column,
                             message: "een record moet een JSON-object zijn"), nil)
                continue
            }
            var byKey: [String: JSONNode] = [:]
            var rejection: Issue?
            for (key, node) in members {
                if isSensitiveColumn(key, mapping: mapping) {
                    if warnedSensitive.insert(key.lowercased()).inserted {
                        warn(Issue(.warning, "bsn-in-export", file: label, line: node.line, column: node.column, field: key,
                                   message: "de export bevat een BSN-veld; dat wordt niet ingelezen en niet bewaard"))
                    }
                    continue
                }
                // Keys are matched without regard to case, so `Kindnummer` and `kindnummer` are one field
                // given twice: which is meant cannot be known.
                if byKey.updateValue(node, forKey: key.lowercased()) != nil {
                    rejection = rejection ?? Issue(.error, "duplicate-field", file: label, line: node.line, column: node.column, field: key,
                                                   message: "het veld \"\(key.prefix(40))\" staat twee keer in dit record (hoofdletters tellen niet)")
                }
            }
            let schema = kind.schema
            /// The text of one key of this record, as a cell holds it.
            func text(_ column: String, field index: Int) -> (text: String, node: JSONNode)? {
                guard let node = byKey[column.lowercased()] else { return nil }
                let text: String
                switch node.value {
                case .number(let literal):
                    // A number is the integer it denotes (`100003.0` and `1.00003e5` are `100003`), so a key
                    // written as a float is the same key; a fractional one cannot be a key or a count.
                    if let integer = JSONNumber.integerText(literal) {
                        text = integer
                    } else {
                        switch schema.fields[index].type {
                        case .identifier, .integer, .list:
                            rejection = rejection ?? Issue(.error, "unparseable-number", file: label, line: node.line, column: node.column,
                                                           field: column, message: "geen geheel getal: \(literal.prefix(40))")
                            // The row is rejected; its integer part is the record it most likely means,
                            // which stays as the portal has it rather than being ended.
                            text = JSONNumber.integerText(literal, truncating: true) ?? literal
                        default:
                            text = literal
                        }
                    }
                case .array(let items):
                    text = items.compactMap(\.scalarText).joined(separator: String(mapping.listSeparator))
                case .object:
                    rejection = rejection ?? Issue(.error, "unparseable-value", file: label, line: node.line, column: node.column,
                                                   field: column, message: "verwacht een tekst, getal of lijst, maar vond een object")
                    text = ""
                default:
                    text = node.scalarText ?? ""
                }
                return (text.trimmingUnicodeSpace, node)
            }
            for (number, part) in source.parts.enumerated() {
                var cells: [RawCell] = []
                cells.reserveCapacity(part.fields.count)
                for (index, fieldSource) in part.fields.enumerated() {
                    switch fieldSource {
                    case nil:
                        cells.append(RawCell(text: "", line: element.line, column: element.column, present: false))
                    case .constant(let value)?:
                        cells.append(RawCell(text: value, line: element.line, column: element.column, present: true))
                    case .column(let column)?:
                        if let found = text(column, field: index) {
                            cells.append(RawCell(text: found.text, line: found.node.line, column: found.node.column, present: true))
                        } else {
                            cells.append(RawCell(text: "", line: element.line, column: element.column, present: true))
                        }
                    case .range(let from, let to)?:
                        let start = text(from, field: index), end = text(to, field: index)
                        let at = start?.node ?? end?.node
                        cells.append(RawCell(text: joinedRange(start?.text ?? "", end?.text ?? ""), line: at?.line ?? element.line,
                                             column: at?.column ?? element.column, present: true))
                    }
                }
                let raw = RawRow(line: element.line, cells: cells, part: number)
                if raw.isSkipped(by: part) { continue }
                if let selection, !selection.values.contains(cells[selection.field].text) {
                    if let row = SkippedRow(line: element.line, watched: selection.watch.map { SkippedRow.WatchedKey(cells[$0].text) } ?? .absent,
                                            identifiers: selection.identifiers.count, weigh: { BSN.keyEvidence(cells[selection.identifiers[$0]].text) }) {
                        skipped(row)
                    }
                    continue
                }
                if let rejection { reject(rejection, raw) } else { try row(raw) }
            }
        }
        return FileRead(file: label, rows: elements.count, encoding: encoding)
    }

    /// The whole document is parsed anyway: the fields are taken from the rows as `read` makes them.
    public func project(_ kind: EntityKind, fields: [Int], _ body: ([String]) -> Void) throws {
        _ = try read(kind, warn: { _ in }, reject: { _, _ in }, row: { row in body(fields.map { row.cells[$0].text }) })
    }
}
