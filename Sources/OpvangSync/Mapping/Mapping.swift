import Foundation

/// How one planning system's export becomes canonical records (SPEC §3): which file or key holds which
/// entity, which column is which field, and how codes, dates and text are written.
public struct Mapping: Sendable {
    public enum Format: String, Sendable { case csv, json }

    /// Where one entity comes from.
    public struct Source: Sendable {
        /// CSV: the file name. JSON: the top-level key in the export file.
        public let name: String
        /// Source column (CSV header or JSON key) per canonical field index; nil when not mapped.
        public let columns: [String?]
    }

    /// The mapping file, as named in errors.
    public let path: String
    public let name: String
    public let format: Format
    public let delimiter: UInt8
    public let encoding: TextEncoding
    public let datePattern: DatePattern
    public let listSeparator: Character
    /// CSV: the manifest file name. JSON: the export file name (the manifest is its `manifest` key).
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
        let allowed: Set = ["name", "description", "format", "delimiter", "encoding", "dateFormat", "listSeparator",
                            "manifest", "file", "entities", "codes", "sensitiveColumns"]
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
            throw fail("encoding", "must be \"auto\", \"utf-8\" or \"windows-1252\"")
        }
        self.encoding = encoding

        let dateText = try string("dateFormat", default: "dd-mm-jjjj")
        do {
            datePattern = try DatePattern(dateText)
        } catch {
            throw fail("dateFormat", "\"\(dateText)\" is not a date layout; use dd, mm and jjjj (or yyyy) with separators, e.g. \"dd-mm-jjjj\"")
        }
        let separator = try string("listSeparator", default: "|")
        guard separator.count == 1, let separatorCharacter = separator.first else {
            throw fail("listSeparator", "must be one character")
        }
        listSeparator = separatorCharacter

        if format == .json {
            exportFile = try string("file", default: "export.json")
            manifest = try string("manifest", default: "manifest")
        } else {
            if root["file"] != nil { throw fail("file", "only JSON mappings name one export file") }
            exportFile = nil
            manifest = try string("manifest", default: "manifest.json")
        }

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
            let schema = kind.schema
            let sourceKey = format == .csv ? "file" : "key"
            for (key, _) in entityNode.members ?? [] where key != sourceKey && key != "fields" {
                throw fail("entities.\(entityKey).\(key)", "unknown key; an entity has \"\(sourceKey)\" and \"fields\"")
            }
            guard let sourceName = entityNode[sourceKey]?.string, !sourceName.isEmpty else {
                throw fail("entities.\(entityKey).\(sourceKey)", "required string is missing")
            }
            guard let fieldMembers = entityNode["fields"]?.members else {
                throw fail("entities.\(entityKey).fields", "required object is missing")
            }
            var columns = [String?](repeating: nil, count: schema.fields.count)
            for (fieldName, columnNode) in fieldMembers {
                let keyPath = "entities.\(entityKey).fields.\(fieldName)"
                guard let column = columnNode.string, !column.trimmingCharacters(in: .whitespaces).isEmpty else {
                    throw fail(keyPath, "must name a column")
                }
                let isBSN = Mapping.bsnColumnNames.contains(fieldName.lowercased())
                    || sensitive.contains(column.trimmingCharacters(in: .whitespaces).lowercased())
                if isBSN {
                    warnings.append(Issue(.warning, "bsn-in-mapping", message:
                        "de mapping \((path as NSString).lastPathComponent) noemt een BSN-kolom (\(keyPath)); die wordt nooit ingelezen"))
                    continue
                }
                guard let index = schema.fieldIndex(fieldName) else {
                    throw fail(keyPath, "unknown field of \(entityKey); known are \(schema.fields.map(\.name).joined(separator: ", "))")
                }
                columns[index] = column.trimmingCharacters(in: .whitespaces)
            }
            for (index, field) in schema.fields.enumerated() where field.required && columns[index] == nil {
                throw fail("entities.\(entityKey).fields.\(field.name)", "required field is not mapped")
            }
            entities[kind] = Source(name: sourceName, columns: columns)
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
    }

    /// The canonical code for a source code, or nil when the code is unknown.
    public func translate(_ code: String, in table: CodeTable) -> String? {
        codes[table]?[code.lowercased()]
    }
}
