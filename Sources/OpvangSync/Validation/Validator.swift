/// Checks every row of an export and turns it into canonical records (SPEC §2, §5 "Bad rows").
///
/// A bad row is rejected with file, line, column and reason; the rest of the export goes on. Kinds are
/// validated in dependency order, so a reference is checked against the records already accepted.
public struct Validator {
    public let mapping: Mapping

    public init(mapping: Mapping) { self.mapping = mapping }

    /// Reads and validates every mapped entity of `source`.
    ///
    /// `expectedRows` holds the manifest's row count per file; a mismatch is reported as an error issue
    /// with code `manifest-rows` (the caller aborts on it). `progress` is told each file as it finishes.
    /// `selections` narrows kinds to the rows a scoped run needs; other rows are counted, not checked.
    public func validate(_ source: ExportSource, expectedRows: [String: Int], selections: [EntityKind: RowSelection] = [:],
                         progress: (FileSummary) -> Void = { _ in }) throws -> DesiredState {
        var state = DesiredState()
        state.issues.append(contentsOf: mapping.warnings)
        for kind in EntityKind.allCases where mapping.entities[kind] != nil {
            state.kinds.append(kind)
            try validate(kind, from: source, into: &state, expectedRows: expectedRows, selection: selections[kind])
            if let summary = state.files.last { progress(summary) }
        }
        return state
    }

    private func validate(_ kind: EntityKind, from source: ExportSource, into state: inout DesiredState,
                          expectedRows: [String: Int], selection: RowSelection?) throws {
        let schema = kind.schema
        // Rows left out by a selection: their keys, when the selection does not determine the key.
        var selection = selection
        if let chosen = selection, !schema.keyFields.contains(chosen.field), schema.keyFields.count == 1 {
            selection?.watch = schema.keyFields[0]
        }
        var outside: [String: Int] = [:]
        var accepted: [Record] = []
        var positionOfKey: [String: Int] = [:]
        var duplicateLines: [String: [Int]] = [:]
        var rejectedCount = 0
        var rejectedKeys: Set<String> = []
        var issues: [Issue] = []
        let roleIndex = schema.fieldIndex("role")
        var firstParentOf: [String: Int] = [:]
        let groupCareType = Dictionary(
            state.records(of: .group).map { ($0.key, $0.values[EntityKind.group.schema.index("careType")]) },
            uniquingKeysWith: { first, _ in first })
        let fileName = source.mapping.entities[kind]?.name ?? kind.rawValue
        // Column names (CSV header or JSON key) per field, for messages.
        let columnNames = source.mapping.entities[kind]?.columns ?? []
        func columnName(_ index: Int, _ cell: RawCell) -> String? { cell.present && index < columnNames.count ? columnNames[index] : nil }
        // A key of the planning system's own numbers is watched for citizen service numbers.
        let keyIndex = schema.keyFields.count == 1 && schema.fields[schema.keyFields[0]].type == .identifier
            ? schema.keyFields[0] : nil
        var keyCheck = KeyColumnCheck()

        let read = try source.read(kind, selecting: selection, warn: { issues.append($0) }, reject: { issue in
            issues.append(issue)
            rejectedCount += 1
        }, row: { row in
            var rowIssues: [Issue] = []
            var values = [String?](repeating: nil, count: schema.fields.count)
            if let keyIndex { keyCheck.count(row.cells[keyIndex].text) }
            let label = kind == .calendar || kind == .deviation ? nil : row.cells[schema.keyFields[0]].text
            func reject(_ code: String, _ index: Int, _ message: String) {
                let cell = row.cells[index]
                rowIssues.append(Issue(.error, code, file: fileLabel(source, fileName), line: cell.line,
                                       column: cell.column > 0 ? cell.column : nil, field: columnName(index, cell),
                                       key: label?.isEmpty == false ? label : nil, message: message))
            }
            for (index, field) in schema.fields.enumerated() {
                let cell = row.cells[index]
                if cell.text.isEmpty {
                    if field.required {
                        let column = source.mapping.entities[kind]?.columns[index] ?? field.name
                        reject("missing-required-field", index, "verplicht veld \"\(column)\" is leeg")
                    }
                    values[index] = field.defaultValue
                    continue
                }
                switch normalise(cell.text, as: field) {
                case .success(let value):
                    values[index] = value
                case .failure(let reason):
                    reject(reason.code, index, reason.message)
                case .warning(let value, let reason):
                    values[index] = value
                    issues.append(Issue(.warning, reason.code, file: fileLabel(source, fileName), line: cell.line,
                                        column: cell.column, field: columnName(index, cell), key: label, message: reason.message))
                }
            }
            let key = schema.key(of: values)
            if rowIssues.isEmpty {
                checkReferences(schema, values, row, state: state, reject: reject)
                checkRecord(kind, values, row, groupCareType: groupCareType, reject: reject, warn: { code, message in
                    issues.append(Issue(.warning, code, file: fileLabel(source, fileName), line: row.line, key: key, message: message))
                })
            }
            if !rowIssues.isEmpty {
                issues.append(contentsOf: rowIssues)
                rejectedCount += 1
                if let key { rejectedKeys.insert(key) }
                return
            }
            guard let key else { return }
            if let earlier = positionOfKey[key] {
                duplicateLines[key, default: [accepted[earlier].line]].append(row.line)
                return
            }
            if kind == .relation, let roleIndex, values[roleIndex] == "Ouder 1", let childIndex = schema.fieldIndex("childNumber"),
               let child = values[childIndex] {
                if let line = firstParentOf[child] {
                    issues.append(Issue(.warning, "two-first-parents", file: fileLabel(source, fileName), line: row.line, key: key,
                                        message: "kind \(child) heeft al een \"Ouder 1\" (regel \(line)); alleen één ouder hoort documenten te zien"))
                } else {
                    firstParentOf[child] = row.line
                }
            }
            positionOfKey[key] = accepted.count
            accepted.append(Record(key: key, values: values, line: row.line))
        }, skipped: { row in
            if !row.watched.isEmpty { outside[row.watched] = outside[row.watched] ?? row.line }
        })

        // A selected key that a row outside the selection uses too is as ambiguous as any duplicate.
        for (key, line) in outside {
            guard let position = positionOfKey[key] else { continue }
            duplicateLines[key, default: [accepted[position].line]].append(line)
        }
        for key in duplicateLines.keys { duplicateLines[key]?.sort() }
        // Every occurrence of a duplicated key is rejected: which row is right cannot be known.
        if !duplicateLines.isEmpty {
            for (key, lines) in duplicateLines.sorted(by: { $0.value[0] < $1.value[0] }) {
                for line in lines {
                    let others = lines.filter { $0 != line }.map(String.init).joined(separator: ", ")
                    issues.append(Issue(.error, "duplicate-key", file: fileLabel(source, fileName), line: line, key: key,
                                        message: "sleutel \(key) komt meer dan eens voor (ook op regel \(others)); geen van deze regels is verwerkt"))
                }
                rejectedCount += lines.count
                rejectedKeys.insert(key)
            }
            accepted.removeAll { duplicateLines[$0.key] != nil }
        }

        if let keyIndex, let issue = keyCheck.issue(file: fileLabel(source, fileName),
                                                    column: (keyIndex < columnNames.count ? columnNames[keyIndex] : nil) ?? schema.fields[keyIndex].name) {
            issues.append(issue)
        }
        if let expected = expectedRows[read.file], expected != read.rows {
            issues.append(Issue(.error, "manifest-rows", file: read.file, message:
                "het manifest noemt \(expected) regels, het bestand heeft er \(read.rows); de export is onvolledig"))
        }
        state.records[kind] = accepted
        state.acceptedKeys[kind] = Set(accepted.map(\.key))
        state.protectedKeys[kind] = rejectedKeys
        state.issues.append(contentsOf: issues)
        state.files.append(FileSummary(entity: kind.rawValue, name: read.file, rows: read.rows, rejected: rejectedCount,
                                       encoding: read.encoding?.rawValue))
    }

    private func fileLabel(_ source: ExportSource, _ name: String) -> String {
        source is JSONExportSource ? "\(source.mapping.exportFile ?? "export.json")#\(name)" : name
    }

    enum Normalised {
        case success(String)
        case warning(String, (code: String, message: String))
        case failure((code: String, message: String))
    }

    /// Parses one non-empty cell into its canonical text.
    func normalise(_ text: String, as field: FieldSpec) -> Normalised {
        // Values are echoed in messages only when they are not personal, and never with a BSN in them.
        let shown = field.personal ? "" : " \"\(BSN.redacted(String(text.prefix(40))) ?? String(text.prefix(40)))\""
        switch field.type {
        case .freeText:
            // Free text (a note, an address) may carry a citizen service number: it is never stored.
            if field.type.scrubsBSN, let redacted = BSN.redacted(text) {
                return .warning(redacted, ("bsn-in-value", "de waarde bevat een burgerservicenummer; dat is verwijderd en niet opgeslagen"))
            }
            return .success(text)
        case .identifier, .contact, .registration:
            // Kept exactly as written: a 9-digit number here is an identifier, not a BSN to scrub. A key
            // column that holds BSNs is refused as a whole (`KeyColumnCheck`).
            return .success(text)
        case .email:
            return EmailAddress.isValid(text)
                ? .success(text)
                : .warning(text, ("invalid-email", "ongeldig e-mailadres; het wordt niet gebruikt voor een account"))
        case .date:
            guard let day = mapping.datePattern.parse(text) else {
                return .failure(("unparseable-date", "ongeldige datum\(shown); verwacht \(mapping.datePattern.text)"))
            }
            return .success(day.iso)
        case .time:
            guard let time = TimeOfDay(Substring(text)) else {
                return .failure(("unparseable-time", "ongeldige tijd\(shown); verwacht UU:MM"))
            }
            return .success(time.description)
        case .timeRange:
            guard let range = TimeRange(text) else {
                return .failure(("unparseable-time", "ongeldige tijden\(shown); verwacht UU:MM-UU:MM met begin vóór einde"))
            }
            return .success(range.description)
        case .integer:
            guard let number = Int(text), number >= 0 else {
                return .failure(("unparseable-number", "geen geheel getal\(shown)"))
            }
            return .success(String(number))
        case .code(let table):
            guard let code = mapping.translate(text, in: table) else {
                return .failure(("unknown-code", "onbekende code\(shown); bekend zijn \(table.values.joined(separator: ", ")) en de vertalingen in de mapping"))
            }
            return .success(code)
        case .list:
            let items = text.split(separator: mapping.listSeparator).map { String($0.trimmingSpaces) }.filter { !$0.isEmpty }
            return .success(items.joined(separator: "|"))
        }
    }

    private func checkReferences(_ schema: EntitySchema, _ values: [String?], _ row: RawRow, state: DesiredState,
                                 reject: (String, Int, String) -> Void) {
        for (index, field) in schema.fields.enumerated() {
            guard let target = field.references, let value = values[index], state.kinds.contains(target) else { continue }
            let keys = field.type == .list ? value.split(separator: "|").map(String.init) : [value]
            for key in keys where !state.acceptedKey(key, of: target) {
                let why = state.protectedKeys[target]?.contains(key) == true
                    ? "die regel is zelf afgewezen" : "die staat niet in de export"
                reject("unknown-reference", index,
                       "verwijst naar \(target.dutchSingular) \"\(key)\", maar \(why)")
            }
        }
    }

    private func checkRecord(_ kind: EntityKind, _ values: [String?], _ row: RawRow, groupCareType: [String: String?],
                             reject: (String, Int, String) -> Void, warn: (String, String) -> Void) {
        let schema = kind.schema
        func day(_ name: String) -> Day? { values[schema.index(name)].flatMap(Day.init(iso:)) }
        switch kind {
        case .placement:
            if let start = day("startDate"), let end = day("endDate"), end < start {
                reject("end-before-start", schema.index("endDate"), "einddatum ligt vóór de ingangsdatum")
            }
            let weekdays = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
            let hasDays = weekdays.contains { values[schema.index($0)] != nil }
            let contract = values[schema.index("contractType")]
            if !hasDays, contract != "Flexibel" {
                warn("placement-without-days", "plaatsing met contract \(contract ?? "?") zonder dagen: het kind staat op geen enkele lijst")
            }
            if let group = values[schema.index("groupCode")], let groupType = groupCareType[group] ?? nil,
               let careType = values[schema.index("careType")], groupType != careType {
                warn("care-type-mismatch", "opvangsoort \(careType) wijkt af van groep \(group) (\(groupType))")
            }
        case .calendar:
            if let from = day("from"), let to = day("to"), to < from {
                reject("end-before-start", schema.index("to"), "de einddatum ligt vóór de begindatum")
            }
        case .deviation:
            let from = values[schema.index("from")], to = values[schema.index("to")]
            if (from == nil) != (to == nil) {
                reject("incomplete-times", schema.index(from == nil ? "from" : "to"), "geef zowel Van als Tot, of geen van beide")
            } else if let from, let to, from >= to {
                reject("end-before-start", schema.index("to"), "Tot ligt niet na Van")
            }
        default:
            break
        }
    }
}

extension DesiredState {
    func acceptedKey(_ key: String, of kind: EntityKind) -> Bool {
        acceptedKeys[kind]?.contains(key) == true
    }
}

extension EntityKind {
    /// Dutch singular, for messages.
    public var dutchSingular: String {
        switch self {
        case .location: return "locatie"
        case .group: return "groep"
        case .staff: return "medewerker"
        case .child: return "kind"
        case .parent: return "ouder"
        case .relation: return "relatie"
        case .placement: return "plaatsing"
        case .deviation: return "afwijking"
        case .calendar: return "kalenderregel"
        }
    }
}
