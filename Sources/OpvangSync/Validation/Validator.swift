import Foundation

/// What the portal knows of the export it applied last (an incremental or full run, and a family's scoped
/// run for the files it reads whole): how many rows of each kind it keeps a content hash for, which files it
/// applied byte for byte, the hashes themselves, read one kind at a time and only when the run reads that
/// kind (a file skipped whole needs none of them), and the care types of its groups.
///
/// Read on the thread that runs the validator and the comparison, through the run's own connection.
public final class KnownRows {
    /// Per kind: how many rows the portal keeps a hash for.
    public let counts: [EntityKind: Int]
    /// Whether the rows of a file that is read are compared with the hashes (an incremental read); false
    /// for a family's scoped run, which only skips whole files it would read for their keys alone.
    let comparesRows: Bool
    /// Kinds whose file has the SHA-256 of the file last applied, which gave no rejected row.
    public var unchangedFiles: [EntityKind: AppliedFile] = [:]
    private let read: (EntityKind) throws -> KeyTable
    private let readCareTypes: () throws -> [String: String]
    private var loaded: [EntityKind: KeyTable] = [:]

    /// `careTypes` gives the care type of every group the portal keeps, by key.
    init(counts: [EntityKind: Int], comparesRows: Bool = true, read: @escaping (EntityKind) throws -> KeyTable,
         careTypes: @escaping () throws -> [String: String]) {
        self.counts = counts
        self.comparesRows = comparesRows
        self.read = read
        readCareTypes = careTypes
    }

    /// The same, with each kind's hashes given as a dictionary.
    convenience init(counts: [EntityKind: Int], comparesRows: Bool = true, read: @escaping (EntityKind) throws -> [String: UInt64],
                     careTypes: @escaping () throws -> [String: String]) {
        self.init(counts: counts, comparesRows: comparesRows, read: { KeyTable(try read($0)) }, careTypes: careTypes)
    }

    /// True when the portal keeps no hash at all.
    public var isEmpty: Bool { counts.values.allSatisfy { $0 == 0 } }

    /// The content hash of every row of `kind` the portal applied, by canonical key.
    func hashes(of kind: EntityKind) throws -> KeyTable {
        if let hashes = loaded[kind] { return hashes }
        let hashes = counts[kind] ?? 0 > 0 ? try read(kind) : KeyTable()
        loaded[kind] = hashes
        return hashes
    }

    /// The hashes a read of `kind` compares its rows with: nil when rows are not compared.
    func rowHashes(of kind: EntityKind) throws -> KeyTable? {
        comparesRows ? try hashes(of: kind) : nil
    }

    /// Lets the hashes of `kind` go: its comparison is done.
    func release(_ kind: EntityKind) { loaded[kind] = nil }

    /// The care type the portal keeps for each of `groups`, when `kind` is weighed against its group's: a
    /// placement read again is compared with the care type of a group whose row was not parsed this run (the
    /// row applied, so the portal holds its value). Nil for any other kind, or when no group is unparsed.
    func careTypes(for kind: EntityKind, of groups: KeyTable?) throws -> [String: String]? {
        guard kind == .placement, let groups, !groups.isEmpty else { return nil }
        return try readCareTypes().filter { groups.contains($0.key) }
    }
}

/// A file as the portal applied it last: its row count and the warnings it gave, which a run that skips the
/// same bytes reports again (the same bytes under the same basis give the same warnings: none of them
/// depends on the run date).
public struct AppliedFile: Sendable {
    public let rows: Int
    /// The warnings as stored (`AppliedFile.encode`); nil when the file gave none.
    let warnings: String?

    /// The stored form of a file's warnings, a JSON list: the same warnings always give the same text.
    /// Written by hand (`Issue.appendJSON`), with sorted keys and slashes left alone; `JSONEncoder` took some
    /// 50 ms of a next night at 100,000. Text stored by an earlier version (slashes escaped) reads back the same.
    static func encode(_ warnings: [Issue]) throws -> String? {
        guard !warnings.isEmpty else { return nil }
        var bytes: [UInt8] = [UInt8(ascii: "[")]
        for (index, issue) in warnings.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            issue.appendJSON(to: &bytes)
        }
        bytes.append(UInt8(ascii: "]"))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The warnings to report again; nil when what the portal keeps cannot be read (then the file is read).
    /// Read with the export's own JSON parser, field by field as `Issue`'s `Decodable` would (its encoder
    /// wrote them): what `JSONDecoder` took for 8,000 warnings was a twentieth of a quiet night.
    func decodedWarnings() -> [Issue]? {
        guard let warnings else { return [] }
        guard let elements = (try? JSONParser.parse(Array(warnings.utf8)))?.elements else { return nil }
        var issues: [Issue] = []
        issues.reserveCapacity(elements.count)
        for element in elements {
            guard let members = element.members else { return nil }
            var severity: Issue.Severity?, code: String?, message: String?
            var file: String?, line: Int?, column: Int?, field: String?, key: String?
            for (name, node) in members {
                // Absent and null are both "no value"; any other kind where a value is expected is damage.
                if case .null = node.value { continue }
                switch name {
                case "severity": guard let text = node.string, let value = Issue.Severity(rawValue: text) else { return nil }; severity = value
                case "code": guard let text = node.string else { return nil }; code = text
                case "message": guard let text = node.string else { return nil }; message = text
                case "file": guard let text = node.string else { return nil }; file = text
                case "field": guard let text = node.string else { return nil }; field = text
                case "key": guard let text = node.string else { return nil }; key = text
                case "line": guard let number = node.int else { return nil }; line = number
                case "column": guard let number = node.int else { return nil }; column = number
                default: continue
                }
            }
            guard let severity, let code, let message else { return nil }
            // As stored: the key and message were made safe when the issue was first made.
            var issue = Issue(severity, code, file: file, line: line, column: column, field: field, message: "")
            issue.key = key
            issue.message = message
            issues.append(issue)
        }
        return issues
    }
}

/// Checks every row of an export and turns it into canonical records (SPEC §2, §5 "Bad rows").
///
/// A bad row is rejected with file, line, column and reason; the rest of the export goes on. Kinds are
/// validated in dependency order, so a reference is checked against the records already accepted.
public struct Validator: Sendable {
    public let mapping: Mapping
    /// The longest value any field takes (a description, an address): beyond it a value is no data but
    /// damage or an attack, and would be copied into the portal and every report.
    static let maxValueBytes = 10_000
    /// The run date: a birth date after it is impossible. Nil checks no date against the run date.
    public let asOf: Day?
    /// The portal's secret for row hashes (`RowHash.Key`): the hashes made here are compared with, and stored
    /// beside, the ones it made before.
    let rowHashKey: RowHash.Key

    /// Whether `rowHashKey` was made for this reading alone: its hashes then match no portal's.
    private let keyIsItsOwn: Bool

    init(mapping: Mapping, asOf: Day? = nil, rowHashKey: RowHash.Key) {
        self.mapping = mapping
        self.asOf = asOf
        self.rowHashKey = rowHashKey
        keyIsItsOwn = false
    }

    /// A reading of an export on its own, compared with no portal: its row hashes are under a key of its own,
    /// so it cannot be given a portal's hashes (`known`).
    public init(mapping: Mapping, asOf: Day? = nil) {
        self.mapping = mapping
        self.asOf = asOf
        rowHashKey = .random()
        keyIsItsOwn = true
    }

    /// Reads and validates every mapped entity of `source`.
    ///
    /// `expectedRows` holds the manifest's row count per file; a mismatch is reported as an error issue
    /// with code `manifest-rows` (the caller aborts on it). `progress` is told each file as it finishes.
    /// `selections` narrows kinds to the rows a scoped run needs; other rows are counted, not checked.
    ///
    /// With `known` (an incremental run), a row whose content hash is the one the portal applied last, whose
    /// key occurs once and whose references still hold, is not parsed: its key is noted in `unchanged`. A
    /// file the portal applied byte for byte, without a rejected row, is not read at all while the kinds it
    /// refers to are unchanged too; the warnings it gave then are reported again. A family's scoped run gives a
    /// `known` that does not compare rows (`KnownRows.comparesRows`): only such whole files are skipped.
    public func validate(_ source: ExportSource, expectedRows: [String: Int], selections: [EntityKind: RowSelection] = [:],
                         known: KnownRows? = nil, progress: (FileSummary) -> Void = { _ in }) throws -> DesiredState {
        try validate(source, expectedRows: expectedRows, selections: selections, pending: nil, known: known, progress: progress)
    }

    /// The selections of a scoped run that is still finding its family (on another core) while the files
    /// no scope selects are read: `resolve` waits for it and gives them, and is called once, before the
    /// first file of `kinds` is read.
    struct PendingSelections {
        let kinds: Set<EntityKind>
        let resolve: () throws -> [EntityKind: RowSelection]
    }

    /// `validate`, with the selections of `pending` added to `selections` as soon as a kind of it is read.
    func validate(_ source: ExportSource, expectedRows: [String: Int], selections: [EntityKind: RowSelection],
                  pending: PendingSelections?, known: KnownRows?, progress: (FileSummary) -> Void) throws -> DesiredState {
        precondition(known == nil || !keyIsItsOwn, "an incremental read needs the key of the portal whose hashes it is given")
        var selections = selections, pending = pending
        func selection(_ kind: EntityKind) throws -> RowSelection? {
            if let waiting = pending, waiting.kinds.contains(kind) {
                pending = nil
                let found = try waiting.resolve()
                precondition(Set(found.keys).isSubset(of: waiting.kinds), "a pending selection of a kind that may have been read whole")
                selections.merge(found) { _, new in new }
            }
            return selections[kind]
        }
        var state = DesiredState()
        state.issues.append(contentsOf: mapping.warnings)
        // The files that are the bytes last applied are hashed first, on both cores: those that are then not
        // read are held to the manifest all the same (one that is read after all is hashed again as it is parsed).
        if let known {
            try source.confirmUnread(EntityKind.allCases.filter { mapping.entities[$0] != nil && known.unchangedFiles[$0] != nil })
        }
        let kinds = EntityKind.allCases.filter { mapping.entities[$0] != nil }
        /// Whether the file of `kind` is the one last applied, with everything it refers to as it was: then
        /// it is not read, and its warnings are those it gave.
        func skippable(_ kind: EntityKind) -> (applied: AppliedFile, warnings: [Issue])? {
            guard mayBeSkipped(kind), let applied = known?.unchangedFiles[kind], let warnings = applied.decodedWarnings() else { return nil }
            return (applied, warnings)
        }
        func mayBeSkipped(_ kind: EntityKind) -> Bool {
            // A file applied without a rejected row left a hash for each of its rows: fewer (hashes deleted by
            // hand, a location held) and its keys are not all known, so it is read.
            guard let known, let applied = known.unchangedFiles[kind], known.counts[kind] == applied.rows else { return false }
            return referencesUnchanged(kind, state: state, known: known)
        }
        /// The keys of a skipped file that `kind` refers to: the records the portal keeps hashes for.
        func prepare(_ kind: EntityKind) throws {
            guard let known else { return }
            for target in Set(kind.schema.fields.compactMap(\.references))
            where state.skippedFiles.contains(target) && state.unchanged[target] == nil {
                state.unchanged[target] = try known.hashes(of: target)
                known.release(target)
            }
        }
        var index = 0
        while index < kinds.count {
            let kind = kinds[index]
            index += 1
            state.kinds.append(kind)
            if let (applied, warnings) = skippable(kind) {
                // The same bytes as last applied, and everything they refer to is as it was: the same result,
                // warnings and all. Its keys are read only when a later file that refers to it is read. That
                // it is the same bytes is known from the manifest; the file itself was hashed above to hold it to that.
                state.skippedFiles.insert(kind)
                state.cleanFiles.insert(kind)
                if !warnings.isEmpty { state.fileWarnings[kind] = warnings }
                state.issues.append(contentsOf: warnings)
                state.files.append(FileSummary(entity: kind.rawValue, name: source.label(of: mapping.entities[kind]?.name ?? kind.rawValue),
                                               rows: applied.rows, rejected: 0, encoding: nil))
                if let summary = state.files.last { progress(summary) }
                continue
            }
            try prepare(kind)
            // The next file, when it does not refer to this one and is read too, is read beside it on the other
            // core (children and parents; relations and placements): each from the state before both, and its
            // results are added after this one's, as if read after it.
            if index < kinds.count, let csv = source as? CSVExportSource, case let next = kinds[index],
               !next.schema.fields.contains(where: { $0.references == kind }), !mayBeSkipped(next) {
                index += 1
                try prepare(next)
                let base = state
                let (kindSelection, nextSelection) = (try selection(kind), try selection(next))
                let (kindKnown, nextKnown) = (try known?.rowHashes(of: kind), try known?.rowHashes(of: next))
                let (kindCareTypes, nextCareTypes) = (try known?.careTypes(for: kind, of: state.unchanged[.group]),
                                                      try known?.careTypes(for: next, of: state.unchanged[.group]))
                let (besides, own) = try sideBySide({ [self] in
                    Result { () throws -> DesiredState in
                        var other = base
                        try validate(next, from: csv, into: &other, expectedRows: expectedRows, selection: nextSelection, known: nextKnown,
                                     storedCareTypes: nextCareTypes)
                        return other
                    }
                }, {
                    Result { try validate(kind, from: csv, into: &state, expectedRows: expectedRows, selection: kindSelection, known: kindKnown,
                                          storedCareTypes: kindCareTypes) }
                })
                // As in turn: a broken first file fails the read whatever the second gave, and the first is
                // told done before a broken second fails it.
                try own.get()
                known?.release(kind)
                if let summary = state.files.last { progress(summary) }
                state.kinds.append(next)
                let other = try besides.get()
                known?.release(next)
                state.adopt(next, from: other, since: base)
                if let summary = state.files.last { progress(summary) }
                continue
            }
            try validate(kind, from: source, into: &state, expectedRows: expectedRows, selection: try selection(kind),
                         known: try known?.rowHashes(of: kind), storedCareTypes: try known?.careTypes(for: kind, of: state.unchanged[.group]))
            known?.release(kind)
            if let summary = state.files.last { progress(summary) }
        }
        return state
    }

    /// True when every kind `kind` refers to was read with nothing new, changed, missing or rejected: the
    /// references of an unchanged file then hold as they did.
    private func referencesUnchanged(_ kind: EntityKind, state: DesiredState, known: KnownRows) -> Bool {
        for target in Set(kind.schema.fields.compactMap(\.references)) where mapping.entities[target] != nil {
            guard (state.records[target] ?? []).isEmpty, (state.protectedKeys[target] ?? []).isEmpty else { return false }
            if state.skippedFiles.contains(target) { continue }
            guard let unchanged = state.unchanged[target], let count = known.counts[target], unchanged.count == count else { return false }
        }
        return true
    }

    /// `storedCareTypes`: the portal's care types of the groups read unchanged (an incremental read of the
    /// placements), which the rows read are weighed against as against the groups parsed.
    private func validate(_ kind: EntityKind, from source: ExportSource, into state: inout DesiredState,
                          expectedRows: [String: Int], selection: RowSelection?, known: KeyTable?,
                          storedCareTypes: [String: String]?) throws {
        let schema = kind.schema
        // Rows left out by a selection: their keys, when the selection does not determine the key.
        var selection = selection
        if let chosen = selection, !schema.keyFields.contains(chosen.field), schema.keyFields.count == 1 {
            selection?.watch = schema.keyFields[0]
        }
        // The planning system's own numbers (keys and references) are watched for citizen service numbers,
        // in every row: a row a selection leaves out reports them too.
        let watched = KeyColumnCheck.watchedFields(of: kind)
        var keyChecks = [KeyColumnCheck](repeating: KeyColumnCheck(), count: watched.count)
        selection?.identifiers = watched
        var outside = OutsideKeys()
        var accepted: [Record] = []
        // Rows not parsed because the portal applied the same content: key → line.
        // Room for every row the portal applied at once: grown by doubling, each key would be placed again.
        var unchangedLine = KeyTable(minimumCapacity: known?.count ?? 0)
        let references = schema.fields.indices.compactMap { index in schema.fields[index].references.map { (index, $0) } }
        // The keys read unchanged of each kind referred to, in the order of `references`: fixed while this kind
        // is read (no kind refers to itself), so taken from the state once instead of once per row.
        let unchangedTargets = known == nil ? [] : references.map { state.unchanged[$0.1] ?? KeyTable() }
        var positionOfKey: [String: Int] = [:]
        var duplicateLines: [String: [Int]] = [:]
        var rejectedCount = 0
        var rejectedKeys: Set<String> = []
        var issues: [Issue] = []
        let roleIndex = schema.fieldIndex("role")
        // Child → the line of its "Ouder 1": as many as the children, so kept as the row keys are.
        var firstParentOf = KeyTable(minimumCapacity: kind == .relation ? (known?.count ?? 0) / 2 : 0)
        // What a placement is weighed against: the groups parsed, and those read unchanged as the portal has them.
        var groupCareType: [String: String?] = storedCareTypes ?? [:]
        if kind == .placement {
            for group in state.records(of: .group) where groupCareType[group.key] == nil {
                groupCareType[group.key] = group.values[Group.Field.careType]
            }
        }
        let fileName = source.mapping.entities[kind]?.name ?? kind.rawValue
        // Column names (CSV header or JSON key) per field, for messages; one list per part of the mapping.
        let partColumns = source.mapping.entities[kind]?.parts.map(\.columns) ?? [[]]
        let columnNames = partColumns[0]
        func columnName(_ index: Int, _ cell: RawCell, part: Int = 0) -> String? {
            let names = part < partColumns.count ? partColumns[part] : columnNames
            return cell.present && index < names.count ? names[index] : nil
        }

        // An unparsed "Ouder 1" still counts as the child's first: a second one, parsed, is warned about.
        let childIndex = schema.fieldIndex("childNumber")
        func firstParentHolds(_ row: RawRow) -> Bool {
            guard kind == .relation, let roleIndex, let childIndex,
                  mapping.translate(row.cells[roleIndex].text, in: .role) == "Ouder 1" else { return true }
            let child = row.cells[childIndex].text
            if firstParentOf.contains(child) { return false }
            firstParentOf.updateValue(UInt64(row.line), forKey: child)
            return true
        }
        /// Counts the row's identifiers, and tells whether it is the row the portal applied: then it needs no
        /// more than its key noted.
        func passesUnchanged(_ row: RawRow, hash rowHash: UInt64) -> Bool {
            for (slot, field) in watched.enumerated() { keyChecks[slot].count(row.cells[field].text) }
            guard let known, let key = protectionKey(schema, row), known[key] == rowHash,
                  positionOfKey.isEmpty || positionOfKey[key] == nil, duplicateLines.isEmpty || duplicateLines[key] == nil,
                  referencesHold(row, schema, references, unchangedTargets) else { return false }
            // Applied before exactly as it is, its key once so far, what it refers to still there. (Noted and
            // looked up in one step; a key seen before is put back as it was.)
            guard let earlier = unchangedLine.updateValue(UInt64(row.line), forKey: key) else {
                if firstParentHolds(row) { return true }
                unchangedLine.removeValue(forKey: key)
                return false
            }
            unchangedLine.updateValue(earlier, forKey: key)
            return false
        }
        // What that takes of a row, when the source can hash it from its bytes.
        let probing = known == nil ? nil : RowProbe(fields:
            Array(Set(schema.keyFields + watched + references.map(\.0) + (kind == .relation ? [roleIndex, childIndex].compactMap { $0 } : []))), key: rowHashKey)

        let read = try source.read(kind, selecting: selection, probing: probing, warn: { issues.append($0) }, reject: { issue, row in
            // Rejected while reading: whenever its key can be read, the record stays as the portal has it.
            var issue = issue
            if let row {
                for (slot, field) in watched.enumerated() where field < row.cells.count { keyChecks[slot].count(row.cells[field].text) }
            }
            if let row, let key = protectionKey(schema, row) {
                rejectedKeys.insert(key)
                issue.key = issue.key ?? key
            }
            issues.append(issue)
            rejectedCount += 1
        }, row: { row in
            var rowIssues: [Issue] = []
            var values = [String?](repeating: nil, count: schema.fields.count)
            // A probed row was counted and weighed already (and found not unchanged).
            let rowHash = row.hash ?? RowHash.of(row.cells, key: rowHashKey)
            if row.hash == nil, passesUnchanged(row, hash: rowHash) { return }
            let issuesBefore = issues.count
            let label = kind == .calendar || kind == .deviation ? nil : Validator.visible(row.cells[schema.keyFields[0]].text)
            func reject(_ code: String, _ index: Int, _ message: String) {
                let cell = row.cells[index]
                rowIssues.append(Issue(.error, code, file: source.label(of: fileName), line: cell.line,
                                       column: cell.column > 0 ? cell.column : nil, field: columnName(index, cell, part: row.part),
                                       key: label?.isEmpty == false ? label : nil, message: message))
            }
            for (index, field) in schema.fields.enumerated() {
                let cell = row.cells[index]
                if cell.text.utf8.count > Validator.maxValueBytes {
                    reject("value-too-long", index, "de waarde is \(cell.text.utf8.count) bytes lang; meer dan \(Validator.maxValueBytes) past in geen veld van het portaal")
                    continue
                }
                if cell.text.isEmpty {
                    if field.required {
                        let column = columnName(index, cell, part: row.part) ?? field.name
                        reject("missing-required-field", index, "verplicht veld \"\(column)\" is leeg")
                    }
                    values[index] = field.defaultValue
                    continue
                }
                if let problem = characterProblem(cell.text, as: field) {
                    reject(problem.code, index, problem.message)
                    continue
                }
                switch normalise(cell.text, as: field) {
                case .success(let value):
                    values[index] = value
                case .failure(let reason):
                    reject(reason.code, index, reason.message)
                case .warning(let value, let reason):
                    values[index] = value
                    issues.append(Issue(.warning, reason.code, file: source.label(of: fileName), line: cell.line,
                                        column: cell.column, field: columnName(index, cell, part: row.part), key: label, message: reason.message))
                }
            }
            let key = schema.key(of: values)
            if rowIssues.isEmpty {
                checkReferences(schema, &values, row, state: state, reject: reject, warn: { index, message in
                    let cell = row.cells[index]
                    issues.append(Issue(.warning, "unknown-optional-reference", file: source.label(of: fileName), line: cell.line,
                                        column: cell.column > 0 ? cell.column : nil, field: columnName(index, cell, part: row.part),
                                        key: label?.isEmpty == false ? label : nil, message: message))
                })
                checkRecord(kind, values, row, groupCareType: groupCareType, reject: reject, warn: { code, message in
                    issues.append(Issue(.warning, code, file: source.label(of: fileName), line: row.line, key: key, message: message))
                })
            }
            if !rowIssues.isEmpty {
                issues.append(contentsOf: rowIssues)
                rejectedCount += 1
                if let key = key ?? protectionKey(schema, row) { rejectedKeys.insert(key) }
                return
            }
            guard let key else { return }
            if duplicateLines[key] != nil {
                duplicateLines[key]?.append(row.line)
                return
            }
            if let earlier = positionOfKey[key] {
                duplicateLines[key] = [accepted[earlier].line, row.line]
                return
            }
            if let line = unchangedLine[key] {
                duplicateLines[key] = [Int(line), row.line]
                return
            }
            if kind == .relation, let roleIndex, values[roleIndex] == "Ouder 1", let childIndex, let child = values[childIndex] {
                if let line = firstParentOf[child].map(Int.init) {
                    issues.append(Issue(.warning, "two-first-parents", file: source.label(of: fileName), line: row.line, key: key,
                                        message: "kind \(child) heeft al een \"Ouder 1\" (regel \(line)); alleen één ouder hoort documenten te zien"))
                } else {
                    firstParentOf.updateValue(UInt64(row.line), forKey: child)
                }
            }
            // A row with a warning is checked again every night, so its warning is reported until it is fixed.
            let warned = issues.count > issuesBefore
            if warned, let known, known[key] == RowHash.warned(rowHash), referencesHold(row, schema, references, unchangedTargets) {
                // Applied before exactly as it is, with its warning: reported again, and unchanged all the same.
                unchangedLine.updateValue(UInt64(row.line), forKey: key)
                return
            }
            positionOfKey[key] = accepted.count
            accepted.append(Record(key: key, values: FieldValues(values), line: row.line, rowHash: warned ? RowHash.warned(rowHash) : rowHash))
        }, skipped: { row in
            for (slot, evidence) in row.identifierEvidence.enumerated() { keyChecks[slot].count(evidence) }
            outside.note(row.watched, line: row.line)
        }, unchanged: { hash, row in passesUnchanged(row, hash: hash) })

        // A selected key that a row outside the selection uses too is as ambiguous as any duplicate.
        if !outside.isEmpty {
            for (key, use) in outside.firstUses(of: positionOfKey.keys) {
                duplicateLines[use.spelling, default: [accepted[positionOfKey[key]!].line]].append(use.line)
            }
        }
        for key in duplicateLines.keys { duplicateLines[key]?.sort() }
        // Every occurrence of a duplicated key is rejected: which row is right cannot be known.
        if !duplicateLines.isEmpty {
            for (key, lines) in duplicateLines.sorted(by: { $0.value[0] < $1.value[0] }) {
                for line in lines {
                    let others = lines.filter { $0 != line }.map(String.init).joined(separator: ", ")
                    issues.append(Issue(.error, "duplicate-key", file: source.label(of: fileName), line: line, key: key,
                                        message: "sleutel \(key) komt meer dan eens voor (ook op regel \(others)); geen van deze regels is verwerkt"))
                }
                rejectedCount += lines.count
                rejectedKeys.insert(key)
            }
            accepted.removeAll { duplicateLines[$0.key] != nil }
            for key in duplicateLines.keys { unchangedLine.removeValue(forKey: key) }
        }

        for (slot, field) in watched.enumerated() {
            let column = (field < columnNames.count ? columnNames[field] : nil) ?? schema.fields[field].name
            if let issue = keyChecks[slot].issue(file: source.label(of: fileName), column: column) { issues.append(issue) }
        }
        if let expected = expectedRows[read.file], expected != read.rows {
            issues.append(Issue(.error, "manifest-rows", file: read.file, message:
                "het manifest noemt \(expected) regels, het bestand heeft er \(read.rows); de export is onvolledig"))
        }
        state.records[kind] = accepted
        state.acceptedKeys[kind] = Set(accepted.lazy.map(\.key))
        state.protectedKeys[kind] = rejectedKeys
        if let known {
            state.unchanged[kind] = unchangedLine
            // All the comparison needs of the portal's hashes of this kind: the stored keys the export no longer
            // has, and the hashes of the rows parsed. The run lets the rest go as soon as the kind is read.
            var parsed: [String: UInt64] = [:]
            for record in accepted { if let hash = known[record.key] { parsed[record.key] = hash } }
            state.storedHashes[kind] = parsed
            // Every stored key is unchanged, parsed or rejected unless fewer of them were seen than are stored:
            // only then is each stored key looked up (the keys read unchanged and those parsed have a stored hash).
            let rejectedStored = rejectedKeys.count { known.contains($0) && !unchangedLine.contains($0) && parsed[$0] == nil }
            state.missing[kind] = unchangedLine.count + parsed.count + rejectedStored == known.count ? [] : Set(known.keys.lazy.filter { key in
                !unchangedLine.contains(key) && parsed[key] == nil && !rejectedKeys.contains(key)
            })
        }
        if rejectedCount == 0, !issues.contains(where: { $0.severity == .error }) {
            state.cleanFiles.insert(kind)
            if !issues.isEmpty { state.fileWarnings[kind] = issues }
        }
        state.issues.append(contentsOf: issues)
        state.files.append(FileSummary(entity: kind.rawValue, name: read.file, rows: read.rows, rejected: rejectedCount,
                                       encoding: read.encoding?.rawValue))
    }


    /// True when every reference of an unparsed row names a record accepted in this run (read or unchanged)
    /// whose content did not change: then the checks that look beyond the row give what they gave before.
    /// `unchangedTargets` holds the keys read unchanged of each kind `references` names, in its order.
    private func referencesHold(_ row: RawRow, _ schema: EntitySchema, _ references: [(Int, EntityKind)],
                                _ unchangedTargets: [KeyTable]) -> Bool {
        for (position, (index, _)) in references.enumerated() where index < row.cells.count {
            let text = row.cells[index].text
            guard !text.isEmpty else { continue }
            // The keys read unchanged are accepted keys too (`DesiredState.unchanged`): being among them is enough.
            let unchanged = unchangedTargets[position]
            if schema.fields[index].type == .list {
                for item in text.split(separator: mapping.listSeparator) {
                    let code = String(item).trimmingUnicodeSpace
                    if !code.isEmpty, !unchanged.contains(code) { return false }
                }
            } else if !unchanged.contains(text) {
                return false
            }
        }
        return true
    }

    enum Normalised {
        case success(String)
        case warning(String, (code: String, message: String))
        case failure((code: String, message: String))
    }

    /// Parses one non-empty cell into its canonical text.
    func normalise(_ text: String, as field: FieldSpec) -> Normalised {
        // Values are echoed in messages only when they are not personal, and never with a BSN in them.
        // Worked out only for a message: every cell of every row passes through here.
        var shown: String { field.personal ? "" : " \"\(BSN.redacted(String(text.prefix(40))) ?? String(text.prefix(40)))\"" }
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
            // Kept as the planning system wrote it; the login address is derived from it (A-label domain,
            // lowercase) by `EmailAddress.normalised`.
            guard let problem = EmailAddress.problem(text) else { return .success(text) }
            return .warning(text, ("invalid-email", "ongeldig e-mailadres (\(problem)); het wordt niet gebruikt voor een account"))
        case .date:
            guard let day = mapping.datePattern.parse(text) else {
                return .failure(("unparseable-date", "ongeldige datum\(shown); verwacht \(mapping.datePattern.text)"))
            }
            return .success(day.iso)
        case .time:
            guard let time = mapping.timePattern.parse(Substring(text)) else {
                return .failure(("unparseable-time", "ongeldige tijd\(shown); verwacht \(mapping.timePattern.expected)"))
            }
            return .success(time.description)
        case .timeRange:
            guard let range = mapping.timePattern.parseRange(text) else {
                if text.hasPrefix("-") || text.hasSuffix("-") {
                    // Care hours from two columns, one of them empty.
                    return .failure(("unparseable-time", "alleen een \(text.hasPrefix("-") ? "eindtijd" : "begintijd") ingevuld\(shown); geef begin- en eindtijd, of geen van beide"))
                }
                return .failure(("unparseable-time", "ongeldige tijden\(shown); verwacht \(mapping.timePattern.dutch)-\(mapping.timePattern.dutch)\(mapping.timePattern.hasSeconds ? " (hele minuten: seconden 00)" : "") met begin vóór einde"))
            }
            return .success(range.description)
        case .integer:
            guard let number = Int(text), number >= 0 else {
                return .failure(("unparseable-number", "geen geheel getal\(shown)"))
            }
            return .success(String(number))
        case .code(let table):
            guard let code = mapping.translate(text, in: table) else {
                // Where to add it: the mapping file and the key (SPEC §3).
                let code = field.personal ? nil : BSN.redacted(text) == nil ? String(text.prefix(80)) : nil
                return .failure(("unknown-code", mapping.unknownCodeMessage(code, table: table)))
            }
            return .success(code)
        case .list:
            let items = text.split(separator: mapping.listSeparator).map { String($0.trimmingSpaces) }.filter { !$0.isEmpty }
            return .success(items.joined(separator: "|"))
        }
    }

    /// Why the characters of a trimmed, non-empty value are not acceptable for `field`, or nil (SPEC §2):
    /// no control characters anywhere; line breaks (LF or CR LF) only in a multi-line description; no
    /// white space or invisible format characters inside a key, a reference or a list of them.
    func characterProblem(_ text: String, as field: FieldSpec) -> (code: String, message: String)? {
        func code(_ scalar: Unicode.Scalar) -> String {
            let hex = String(scalar.value, radix: 16, uppercase: true)
            return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        }
        let isKey = field.type == .identifier || field.type == .list
        // Almost every value is printable ASCII without a space in a key: nothing to find, no scalar walk.
        if field.type != .list, text.utf8.allSatisfy({ $0 >= 0x21 && $0 <= 0x7E || ($0 == 0x20 && !isKey) }) { return nil }
        let separator = field.type == .list ? mapping.listSeparator.unicodeScalars.first : nil
        var pendingCR = false
        for scalar in text.unicodeScalars {
            if pendingCR, scalar != "\n" { return ("control-character", "losse CR (U+000D) in de tekst; alleen regeleinden (CR LF of LF) mogen") }
            switch scalar {
            case "\r" where field.multiline:
                pendingCR = true
                continue
            case "\n" where field.multiline:
                pendingCR = false
                continue
            case "\r", "\n", "\u{2028}", "\u{2029}":
                return ("control-character", "de waarde bevat een regeleinde (\(code(scalar))); in dit veld mag de tekst maar één regel zijn")
            default:
                break
            }
            if UnicodeText.isControl(scalar) {
                return ("control-character", "de waarde bevat een stuurteken (\(code(scalar))); dat hoort niet in een export")
            }
            if isKey, scalar != separator, scalar == " " || UnicodeText.isTrimmed(scalar) {
                return ("invalid-key", "de sleutel bevat een spatie of onzichtbaar teken (\(code(scalar))); zo is niet zeker welk record bedoeld is")
            }
        }
        if pendingCR { return ("control-character", "losse CR (U+000D) in de tekst; alleen regeleinden (CR LF of LF) mogen") }
        if field.type == .list {
            // Items are trimmed around the separator; inside an item no space is allowed.
            for item in text.split(separator: mapping.listSeparator) {
                let trimmed = String(item).trimmingUnicodeSpace
                if let scalar = trimmed.unicodeScalars.first(where: { $0 == " " || UnicodeText.isTrimmed($0) }) {
                    return ("invalid-key", "een code in de lijst bevat een spatie of onzichtbaar teken (\(code(scalar)))")
                }
            }
        }
        return nil
    }

    /// The key a rejected row would have had, to protect that record in the portal: the key fields as
    /// `normalise` reads them, an identifier read leniently (without any white space, format or control
    /// character) because protecting a record can only keep it as it is. Nil when a required part is
    /// missing or unreadable.
    func protectionKey(_ schema: EntitySchema, _ row: RawRow) -> String? {
        func part(_ index: Int) -> String? {
            let field = schema.fields[index]
            let text = index < row.cells.count ? row.cells[index].text : ""
            if text.isEmpty { return field.required ? nil : "*" }
            if field.type == .identifier {
                let visible = Validator.visible(text)
                return visible.isEmpty ? nil : visible
            }
            switch normalise(text, as: field) {
            case .success(let value), .warning(let value, _): return value
            case .failure: return nil
            }
        }
        // Most kinds have a key of one field: every row of an incremental run asks for it.
        if schema.keyFields.count == 1 { return part(schema.keyFields[0]) }
        var parts: [String] = []
        for index in schema.keyFields {
            guard let text = part(index) else { return nil }
            parts.append(text)
        }
        return parts.joined(separator: "/")
    }

    /// `text` without white space, format and control characters: how a key reads to a person.
    static func visible(_ text: String) -> String {
        // Printable ASCII without a space, as nearly every key is: nothing to take out.
        if text.utf8.allSatisfy({ $0 &- 0x21 < 0x5E }) { return text }
        guard text.unicodeScalars.contains(where: { $0 == " " || UnicodeText.isTrimmed($0) || UnicodeText.isControl($0) }) else { return text }
        var scalars = String.UnicodeScalarView()
        scalars.append(contentsOf: text.unicodeScalars.filter { !($0 == " " || UnicodeText.isTrimmed($0) || UnicodeText.isControl($0)) })
        return String(scalars)
    }

    /// A reference to a record that is not in the export rejects the row, unless the field is optional and
    /// empty means something harmless (SPEC §4 "Lifecycle edges"): a mentor who left, a group a staff member
    /// no longer works in. Then the reference is left out and the report warns. (A calendar row's location
    /// is optional too, but empty there means every location: an unknown one still rejects the row.)
    private func checkReferences(_ schema: EntitySchema, _ values: inout [String?], _ row: RawRow, state: DesiredState,
                                 reject: (String, Int, String) -> Void, warn: (Int, String) -> Void) {
        for (index, field) in schema.fields.enumerated() {
            guard let target = field.references, let value = values[index], state.kinds.contains(target) else { continue }
            let soft = !field.required && schema.kind != .calendar
            let keys = field.type == .list ? value.split(separator: "|").map(String.init) : [value]
            var kept: [String] = []
            for key in keys {
                guard !state.acceptedKey(key, of: target) else {
                    kept.append(key)
                    continue
                }
                let why = state.protectedKeys[target]?.contains(key) == true
                    ? "die regel is zelf afgewezen" : "die staat niet in de export"
                if soft {
                    warn(index, "verwijst naar \(target.dutchSingular) \"\(key)\", maar \(why); de regel is verwerkt zonder deze verwijzing")
                } else {
                    reject("unknown-reference", index, "verwijst naar \(target.dutchSingular) \"\(key)\", maar \(why)")
                }
            }
            if soft, kept.count != keys.count {
                values[index] = kept.isEmpty ? nil : kept.joined(separator: "|")
            }
        }
    }

    private func checkRecord(_ kind: EntityKind, _ values: [String?], _ row: RawRow, groupCareType: [String: String?],
                             reject: (String, Int, String) -> Void, warn: (String, String) -> Void) {
        // The row may still lack a required value here, so the fields are read one by one, at the
        // positions the typed records resolved.
        func day(_ index: Int) -> Day? { values[index].flatMap(Day.init(iso:)) }
        switch kind {
        case .child:
            if let asOf, let born = day(Child.Field.birthDate), born > asOf {
                // The date itself is personal data and stays out of the message.
                reject("birth-date-in-future", Child.Field.birthDate, "de geboortedatum ligt na de rundatum (\(asOf.iso)); het kind kan nog niet geboren zijn")
            }
        case .placement:
            if let start = day(Placement.Field.start), let end = day(Placement.Field.end), end < start {
                reject("end-before-start", Placement.Field.end, "einddatum ligt vóór de ingangsdatum")
            }
            let hasDays = Placement.Field.weekdays.contains { values[$0] != nil }
            let contract = values[Placement.Field.contract]
            if !hasDays, contract != "Flexibel" {
                warn("placement-without-days", "plaatsing met contract \(contract ?? "?") zonder dagen: het kind staat op geen enkele lijst")
            }
            if let group = values[Placement.Field.group], let groupType = groupCareType[group] ?? nil,
               let careType = values[Placement.Field.careType], groupType != careType {
                warn("care-type-mismatch", "opvangsoort \(careType) wijkt af van groep \(group) (\(groupType))")
            }
        case .calendar:
            if let from = day(CalendarEntry.Field.from), let to = day(CalendarEntry.Field.to), to < from {
                reject("end-before-start", CalendarEntry.Field.to, "de einddatum ligt vóór de begindatum")
            }
        case .deviation:
            let from = values[Deviation.Field.from], to = values[Deviation.Field.to]
            if (from == nil) != (to == nil) {
                reject("incomplete-times", from == nil ? Deviation.Field.from : Deviation.Field.to, "geef zowel Van als Tot, of geen van beide")
            } else if let from, let to, from >= to {
                reject("end-before-start", Deviation.Field.to, "Tot ligt niet na Van")
            }
        default:
            break
        }
    }
}

extension DesiredState {
    func acceptedKey(_ key: String, of kind: EntityKind) -> Bool {
        acceptedKeys[kind]?.contains(key) == true || unchanged[kind]?.contains(key) == true
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

/// The watched keys of the rows a selection left out, with the line each stood on: an ASCII key by its
/// fingerprint (`ASCIIKey`), any other by its text (as `SkippedRow.WatchedKey` gives them).
///
/// A scoped run leaves out nearly every row of a file, and only a handful of selected keys are looked up
/// at the end. So a fingerprint is only noted in a list, not put in a hash table (which would hash it once
/// more, row by row, in a table as large as the file); the few keys looked up are found in one pass over it.
private struct OutsideKeys {
    private var fingerprints: [(fingerprint: UInt64, line: Int)] = []
    private var byText: [String: Int] = [:]

    var isEmpty: Bool { fingerprints.isEmpty && byText.isEmpty }

    mutating func note(_ key: SkippedRow.WatchedKey, line: Int) {
        switch key {
        case .absent:
            return
        case .fingerprint(let fingerprint):
            fingerprints.append((fingerprint, line))
        case .text(let text):
            if byText[text] == nil { byText[text] = line }
        }
    }

    /// For each of `keys` that a line left out uses too, the first such line and how it spells the key. That
    /// equality is canonical equivalence: a text that is not ASCII may equal an ASCII one (the Kelvin sign
    /// and `K`), so a key is looked up by its text, and by the fingerprint of its composed form when that is
    /// ASCII (which is then exactly how the line spells it).
    func firstUses(of keys: some Sequence<String>) -> [String: (line: Int, spelling: String)] {
        var uses: [String: (line: Int, spelling: String)] = [:]
        func use(_ key: String, line: Int, spelling: String) {
            if uses[key].map({ line < $0.line }) ?? true { uses[key] = (line, spelling) }
        }
        // The fingerprints sought, in a table indexed by their low bits: they are SipHash values already.
        var sought: [(fingerprint: UInt64, key: String, composed: String)] = []
        for key in keys {
            if let index = byText.index(forKey: key) { use(key, line: byText[index].value, spelling: byText[index].key) }
            let composed = ASCIIKey.composed(key)
            if let fingerprint = composed.fingerprint { sought.append((fingerprint, key, composed.text)) }
        }
        guard !sought.isEmpty, !fingerprints.isEmpty else { return uses }
        var width = 1
        while width < sought.count * 2 { width <<= 1 }
        let mask = UInt64(width - 1)
        var slots = [[Int]](repeating: [], count: width)
        for (index, entry) in sought.enumerated() { slots[Int(entry.fingerprint & mask)].append(index) }
        for entry in fingerprints {
            for index in slots[Int(entry.fingerprint & mask)] where sought[index].fingerprint == entry.fingerprint {
                use(sought[index].key, line: entry.line, spelling: sought[index].composed)
            }
        }
        return uses
    }
}
