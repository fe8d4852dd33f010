import Foundation

/// How one planning system's export becomes canonical records (SPEC §3): which file or key holds which
/// entity, which column is which field, and how codes, dates and text are written.
public struct Mapping: Sendable {
    public enum Format: String, Sendable { case csv, json }

    /// Where one canonical field's value comes from.
    public enum FieldSource: Sendable, Equatable {
        /// One column (CSV header) or key (JSON).
        case column(String)
        /// Care hours from two columns, the start and the end (`{"from": "ma_van", "to": "ma_tot"}`).
        case range(from: String, to: String)
        /// The same value for every row (`{"value": "Ouder 1"}`), read as if it stood in a cell.
        case constant(String)

        /// The columns this reads.
        var columns: [String] {
            switch self {
            case .column(let name): return [name]
            case .range(let from, let to): return [from, to]
            case .constant: return []
            }
        }

        /// How a message names it: the column, both columns, or the fixed value.
        var label: String {
            switch self {
            case .column(let name): return name
            case .range(let from, let to): return "\(from) + \(to)"
            case .constant(let value): return "vaste waarde \(Mapping.quoted(value))"
            }
        }
    }

    /// One way of reading a record from each row: most entities have one; a file with two parents per
    /// row has a part per parent.
    public struct Part: Sendable {
        /// The source of each canonical field (by index); nil when not mapped.
        public let fields: [FieldSource?]
        /// Fields (by index) of which a row must have at least one for this part to read it; a row in
        /// which all are empty is skipped, neither read nor rejected (a second parent's empty columns).
        public let onlyRowsWith: [Int]
        /// How messages name each field's source (its column, both columns, or the fixed value).
        public let columns: [String?]

        init(fields: [FieldSource?], onlyRowsWith: [Int] = []) {
            self.fields = fields
            self.onlyRowsWith = onlyRowsWith
            columns = fields.map { $0?.label }
        }
    }

    /// Where one entity comes from.
    public struct Source: Sendable {
        /// CSV: the file name. JSON: the top-level key in the export file.
        public let name: String
        /// Each row gives one record per part (most entities: one part).
        public let parts: [Part]

        /// How messages name each field's source in the first part; `parts` has the others.
        public var columns: [String?] { parts[0].columns }

        /// Every column the entity reads, lowercased.
        var columnNames: Set<String> {
            Set(parts.flatMap { $0.fields.compactMap { $0 }.flatMap(\.columns) }.map { $0.lowercased() })
        }
    }

    /// How the export shows it is complete and unchanged (SPEC §3, §5).
    public enum ManifestMode: String, Sendable {
        /// The manifest of SPEC §2: every file with its row count and SHA-256.
        case sha256
        /// No manifest: a ready-marker file says the export is complete; nothing is checked against it.
        case none
    }

    /// The mapping file, as named in errors.
    public let path: String
    public let name: String
    public let format: Format
    public let delimiter: UInt8
    public let encoding: TextEncoding
    public let datePattern: DatePattern
    /// How times are written (care hours, the times of a deviation).
    public let timePattern: TimePattern
    public let listSeparator: Character
    public let manifestMode: ManifestMode
    /// `sha256`: the manifest, a file (CSV) or a key in the export file (JSON). `none`: the ready-marker file.
    public let manifest: String
    /// JSON only: the file holding every record.
    public let exportFile: String?
    public let entities: [EntityKind: Source]
    /// Per code table: lowercased source code → canonical code.
    public let codes: [CodeTable: [String: String]]
    /// Columns that hold a citizen service number: never read, and their presence is reported.
    public let sensitiveColumns: [String]
    /// Warnings found while loading (a BSN field the mapping asked for, which is dropped).
    public let warnings: [Issue]

    /// Column names that mean a BSN in Dutch exports, whatever the mapping says.
    public static let bsnColumnNames = ["bsn", "burgerservicenummer", "sofinummer", "sofi-nummer", "bsn kind", "bsn ouder"]

    /// A mapping file that cannot be used.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let path: String
        public let key: String?
        public let reason: String
        public var description: String {
            "mapping \(path)" + (key.map { ", key \"\($0)\"" } ?? "") + ": \(reason)"
        }
    }

    /// Loads and checks a mapping file.
    public static func load(path: String) throws(Failure) -> Mapping {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Failure(path: path, key: nil, reason: "cannot read the file")
        }
        let root: JSONNode
        do {
            root = try JSONParser.parse(Array(data))
        } catch {
            throw Failure(path: path, key: nil, reason: "invalid JSON at line \(error.line), column \(error.column): \(error.reason)")
        }
        return try Mapping(root: root, path: path)
    }

    init(root: JSONNode, path: String) throws(Failure) {
        func fail(_ key: String?, _ reason: String) -> Failure { Failure(path: path, key: key, reason: reason) }
        guard let members = root.members else { throw fail(nil, "the mapping must be a JSON object") }
        let allowed: Set = ["name", "description", "format", "delimiter", "encoding", "dateFormat", "yearPivot", "timeFormat",
                            "listSeparator", "manifest", "file", "entities", "codes", "sensitiveColumns"]
        for (key, _) in members where !allowed.contains(key) {
            throw fail(key, "unknown key; allowed are \(allowed.sorted().joined(separator: ", "))")
        }
        func string(_ key: String, default value: String? = nil) throws(Failure) -> String {
            guard let node = root[key] else {
                if let value { return value }
                throw fail(key, "required key is missing")
            }
            guard let text = node.string else { throw fail(key, "must be a string, found \(node.kindName)") }
            return text
        }

        self.path = path
        name = try string("name", default: (path as NSString).lastPathComponent)
        guard let format = Format(rawValue: try string("format", default: "csv")) else {
            throw fail("format", "must be \"csv\" or \"json\"")
        }
        self.format = format

        let delimiterText = try string("delimiter", default: ";")
        let delimiterBytes = Array(delimiterText == "\\t" ? "\t".utf8 : delimiterText.utf8)
        guard delimiterBytes.count == 1, delimiterBytes[0] != 0x22, delimiterBytes[0] != 0x0A, delimiterBytes[0] != 0x0D else {
            throw fail("delimiter", "must be one character other than a quote or line break, such as \";\" or \",\"")
        }
        delimiter = delimiterBytes[0]

        guard let encoding = TextEncoding(mappingValue: try string("encoding", default: "auto")) else {
            throw fail("encoding", "must be one of \(TextEncoding.mappingValues.map { "\"\($0)\"" }.joined(separator: ", "))")
        }
        self.encoding = encoding

        var pivot: Int?
        if let node = root["yearPivot"] {
            guard let year = node.int else { throw fail("yearPivot", "must be a four-digit year, such as 1950") }
            pivot = year
        }
        let dateText = try string("dateFormat", default: "dd-mm-jjjj")
        do {
            datePattern = try DatePattern(dateText, pivot: pivot)
        } catch {
            throw fail(error.reason.contains("yearPivot") && pivot != nil ? "yearPivot" : "dateFormat", "\"\(dateText)\": \(error.reason)")
        }
        let timeText = try string("timeFormat", default: "HH:MM")
        do {
            timePattern = timeText == "HH:MM" ? .standard : try TimePattern(timeText)
        } catch {
            throw fail("timeFormat", "\"\(timeText)\": \(error.reason)")
        }
        let separator = try string("listSeparator", default: "|")
        guard separator.count == 1, let separatorCharacter = separator.first else {
            throw fail("listSeparator", "must be one character")
        }
        listSeparator = separatorCharacter

        if format == .json {
            exportFile = try string("file", default: "export.json")
        } else {
            if root["file"] != nil { throw fail("file", "only JSON mappings name one export file") }
            exportFile = nil
        }
        (manifestMode, manifest) = try Mapping.manifest(root["manifest"], format: format, fail: fail)

        var sensitive = Mapping.bsnColumnNames
        if let node = root["sensitiveColumns"] {
            guard let elements = node.elements else { throw fail("sensitiveColumns", "must be an array of column names") }
            for element in elements {
                guard let text = element.string else { throw fail("sensitiveColumns", "must hold strings") }
                sensitive.append(text.lowercased())
            }
        }

        var warnings: [Issue] = []
        guard let entityMembers = root["entities"]?.members else {
            throw fail("entities", "required object is missing")
        }
        var entities: [EntityKind: Source] = [:]
        for (entityKey, entityNode) in entityMembers {
            guard let kind = EntityKind(rawValue: entityKey) else {
                throw fail("entities.\(entityKey)", "unknown entity; known are \(EntityKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let sourceKey = format == .csv ? "file" : "key"
            guard entityNode.members != nil else { throw fail("entities.\(entityKey)", "must be an object with \"\(sourceKey)\" and \"fields\"") }
            for (key, _) in entityNode.members ?? [] where ![sourceKey, "fields", "onlyRowsWith", "parts"].contains(key) {
                throw fail("entities.\(entityKey).\(key)", "unknown key; an entity has \"\(sourceKey)\" and \"fields\" (or \"parts\"), and may have \"onlyRowsWith\"")
            }
            guard let sourceName = entityNode[sourceKey]?.string, !sourceName.isEmpty else {
                throw fail("entities.\(entityKey).\(sourceKey)", "required string is missing")
            }
            var parts: [Part] = []
            if let partsNode = entityNode["parts"] {
                // Several records from each row, such as one relation per parent column.
                if entityNode["fields"] != nil || entityNode["onlyRowsWith"] != nil {
                    throw fail("entities.\(entityKey).parts", "an entity has either \"fields\" or \"parts\", each part its own \"fields\"")
                }
                guard let elements = partsNode.elements, !elements.isEmpty else {
                    throw fail("entities.\(entityKey).parts", "must be a list of parts, each with \"fields\"")
                }
                for (number, element) in elements.enumerated() {
                    let keyPath = "entities.\(entityKey).parts[\(number + 1)]"
                    guard let members = element.members else { throw fail(keyPath, "must be an object with \"fields\"") }
                    for (key, _) in members where key != "fields" && key != "onlyRowsWith" {
                        throw fail("\(keyPath).\(key)", "unknown key; a part has \"fields\" and may have \"onlyRowsWith\"")
                    }
                    parts.append(try Mapping.part(element, kind: kind, keyPath: keyPath, path: path, sensitive: sensitive, warnings: &warnings))
                }
            } else {
                parts.append(try Mapping.part(entityNode, kind: kind, keyPath: "entities.\(entityKey)", path: path, sensitive: sensitive,
                                             warnings: &warnings))
            }
            entities[kind] = Source(name: sourceName, parts: parts)
        }
        for kind in [EntityKind.location, .group, .child, .parent, .relation, .placement] where entities[kind] == nil {
            throw fail("entities.\(kind.rawValue)", "required entity is not mapped")
        }
        self.entities = entities

        var codes: [CodeTable: [String: String]] = [:]
        for table in CodeTable.allCases {
            codes[table] = Dictionary(uniqueKeysWithValues: table.values.map { ($0.lowercased(), $0) })
        }
        for (tableKey, tableNode) in root["codes"]?.members ?? [] {
            guard let table = CodeTable(rawValue: tableKey) else {
                throw fail("codes.\(tableKey)", "unknown code table; known are \(CodeTable.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard let translations = tableNode.members else { throw fail("codes.\(tableKey)", "must be an object") }
            for (source, targetNode) in translations {
                guard let target = targetNode.string, let canonical = table.values.first(where: { $0.lowercased() == target.lowercased() }) else {
                    throw fail("codes.\(tableKey).\(source)", "must translate to one of \(table.values.map { "\"\($0)\"" }.joined(separator: ", "))")
                }
                codes[table, default: [:]][source.trimmingCharacters(in: .whitespaces).lowercased()] = canonical
            }
        }
        self.codes = codes
        sensitiveColumns = sensitive
        self.warnings = warnings
        try checkConstants(fail)
        try checkManifest(fail)
    }

    /// Reads one part's `fields` and `onlyRowsWith`.
    private static func part(_ node: JSONNode, kind: EntityKind, keyPath: String, path: String, sensitive: [String],
                             warnings: inout [Issue]) throws(Failure) -> Part {
        func fail(_ key: String, _ reason: String) -> Failure { Failure(path: path, key: key, reason: reason) }
        let schema = kind.schema
        guard let fieldMembers = node["fields"]?.members else {
            throw fail("\(keyPath).fields", "required object is missing")
        }
        var fields = [FieldSource?](repeating: nil, count: schema.fields.count)
        for (fieldName, columnNode) in fieldMembers {
            let fieldPath = "\(keyPath).fields.\(fieldName)"
            let source: FieldSource
            if let column = columnNode.string {
                source = .column(column.trimmingCharacters(in: .whitespaces))
            } else if let members = columnNode.members {
                let keys = Set(members.map(\.key))
                if keys == ["value"] {
                    guard let value = columnNode["value"]?.scalarText, !value.trimmingUnicodeSpace.isEmpty else {
                        throw fail("\(fieldPath).value", "must be a non-empty text or number")
                    }
                    source = .constant(value.trimmingUnicodeSpace)
                } else if keys == ["from", "to"] {
                    guard let from = columnNode["from"]?.string, let to = columnNode["to"]?.string else {
                        throw fail(fieldPath, "\"from\" and \"to\" must each name a column")
                    }
                    source = .range(from: from.trimmingCharacters(in: .whitespaces), to: to.trimmingCharacters(in: .whitespaces))
                    guard from.trimmingCharacters(in: .whitespaces).lowercased() != to.trimmingCharacters(in: .whitespaces).lowercased() else {
                        throw fail(fieldPath, "\"from\" and \"to\" must be two different columns")
                    }
                } else {
                    throw fail(fieldPath, "must name a column, or be {\"value\": ...} for the same value in every row, or {\"from\": ..., \"to\": ...} for care hours in two columns")
                }
            } else {
                throw fail(fieldPath, "must name a column, or be {\"value\": ...} or {\"from\": ..., \"to\": ...}")
            }
            if source.columns.contains(where: \.isEmpty) { throw fail(fieldPath, "must name a column") }
            let isBSN = Mapping.bsnColumnNames.contains(fieldName.lowercased())
                || source.columns.contains { sensitive.contains($0.lowercased()) }
            if isBSN {
                warnings.append(Issue(.warning, "bsn-in-mapping", message:
                    "de mapping \((path as NSString).lastPathComponent) noemt een BSN-kolom (\(fieldPath)); die wordt nooit ingelezen"))
                continue
            }
            guard let index = schema.fieldIndex(fieldName) else {
                throw fail(fieldPath, "unknown field of \(kind.rawValue); known are \(schema.fields.map(\.name).joined(separator: ", "))")
            }
            if case .range = source, schema.fields[index].type != .timeRange {
                throw fail(fieldPath, "only care hours (monday ... sunday) can be built from a \"from\" and a \"to\" column")
            }
            fields[index] = source
        }
        for (index, field) in schema.fields.enumerated() where field.required && fields[index] == nil {
            throw fail("\(keyPath).fields.\(field.name)", "required field is not mapped")
        }
        var onlyRowsWith: [Int] = []
        if let node = node["onlyRowsWith"] {
            for element in node.elements ?? [node] {
                guard let name = element.string, let index = schema.fieldIndex(name) else {
                    throw fail("\(keyPath).onlyRowsWith", "must name canonical fields of \(kind.rawValue), such as [\"parentNumber\"]")
                }
                guard let source = fields[index], source.columns.count > 0 else {
                    throw fail("\(keyPath).onlyRowsWith", "\(name) must be read from a column in this part")
                }
                onlyRowsWith.append(index)
            }
        }
        return Part(fields: fields, onlyRowsWith: onlyRowsWith)
    }

    /// A constant is checked once, here, as a cell of its field would be: a code must translate, a date or
    /// time must fit the layout.
    private func checkConstants(_ fail: (String?, String) -> Failure) throws(Failure) {
        for (kind, source) in entities {
            for (number, part) in source.parts.enumerated() {
                for (index, fieldSource) in part.fields.enumerated() {
                    guard case .constant(let value)? = fieldSource else { continue }
                    let field = kind.schema.fields[index]
                    let keyPath = "entities.\(kind.rawValue)" + (source.parts.count > 1 ? ".parts[\(number + 1)]" : "") + ".fields.\(field.name).value"
                    switch field.type {
                    case .code(let table):
                        guard translate(value, in: table) != nil else {
                            throw fail(keyPath, "\"\(value)\" is not a code of \(table.rawValue): use one of \(table.values.map { "\"\($0)\"" }.joined(separator: ", ")) or a translation in \"codes\"")
                        }
                    case .date:
                        guard datePattern.parse(value) != nil else { throw fail(keyPath, "\"\(value)\" is not a date in the layout \(datePattern.text)") }
                    case .time:
                        guard timePattern.parse(Substring(value)) != nil else { throw fail(keyPath, "\"\(value)\" is not a time in the layout \(timePattern.text)") }
                    case .timeRange:
                        guard timePattern.parseRange(value) != nil else { throw fail(keyPath, "\"\(value)\" is not care hours such as \(timePattern.text)-\(timePattern.text)") }
                    case .integer:
                        guard let number = Int(value), number >= 0 else { throw fail(keyPath, "\"\(value)\" is not a whole number") }
                    default:
                        break
                    }
                }
            }
        }
    }

    /// The ready marker is a plain file name and none of the export's data files.
    private func checkManifest(_ fail: (String?, String) -> Failure) throws(Failure) {
        guard manifestMode == .none else { return }
        if let problem = Manifest.fileNameProblem(manifest) {
            throw fail("manifest.readyMarker", "must be a plain file name in the export folder: \(problem)")
        }
        let dataFiles = format == .csv ? Set(entities.values.map(\.name)) : [exportFile ?? "export.json"]
        if dataFiles.contains(manifest) {
            throw fail("manifest.readyMarker", "must be a file of its own, not one of the export's data files")
        }
    }

    /// Reads `manifest`: a name (the SHA-256 manifest, as before), or `{"mode": ..., ...}`.
    private static func manifest(_ node: JSONNode?, format: Format, fail: (String?, String) -> Failure) throws(Failure) -> (ManifestMode, String) {
        let nameKey = format == .csv ? "file" : "key"
        let defaultName = format == .csv ? "manifest.json" : "manifest"
        guard let node else { return (.sha256, defaultName) }
        if let name = node.string {
            guard !name.isEmpty else { throw fail("manifest", "must name the manifest") }
            return (.sha256, name)
        }
        guard let members = node.members else {
            throw fail("manifest", "must name the manifest \(format == .csv ? "file" : "key"), or be an object with \"mode\"")
        }
        guard let modeText = node["mode"]?.string, let mode = ManifestMode(rawValue: modeText) else {
            throw fail("manifest.mode", "must be \"sha256\" (the manifest of every file, with row counts and checksums) or \"none\" (a ready-marker file)")
        }
        switch mode {
        case .sha256:
            for (key, _) in members where key != "mode" && key != nameKey {
                throw fail("manifest.\(key)", "unknown key; with mode sha256 the manifest has \"\(nameKey)\"")
            }
            let name = node[nameKey]?.string ?? defaultName
            guard !name.isEmpty else { throw fail("manifest.\(nameKey)", "must name the manifest") }
            return (.sha256, name)
        case .none:
            for (key, _) in members where key != "mode" && key != "readyMarker" {
                throw fail("manifest.\(key)", "unknown key; with mode none the manifest has \"readyMarker\"")
            }
            guard let marker = node["readyMarker"]?.string, !marker.isEmpty else {
                throw fail("manifest.readyMarker", "required with mode none: the file whose presence says the export is complete")
            }
            return (.none, marker)
        }
    }

    /// The canonical code for a source code, or nil when the code is unknown.
    public func translate(_ code: String, in table: CodeTable) -> String? {
        codes[table]?[code.lowercased()]
    }
}
