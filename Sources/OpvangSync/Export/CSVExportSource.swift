import Foundation

/// The default export: one CSV file per entity plus `manifest.json` (SPEC §2).
public struct CSVExportSource: ExportSource, Sendable {
    public let directory: String
    public let mapping: Mapping
    public var organisation: String?
    /// The SHA-256 the manifest gives each file: a file is hashed as it is read for parsing (the bytes
    /// hashed are the bytes parsed), and a file the run does not read is hashed by `confirmUnread`, so a
    /// file that differs from the manifest, or is replaced while the run reads the export, is never applied.
    public var expectedSHA256: [String: String] = [:]

    public init(directory: String, mapping: Mapping) {
        self.directory = directory
        self.mapping = mapping
    }

    public func loadManifest() throws(ExportFailure) -> Manifest {
        if mapping.manifestMode == .none { return try ReadyMarker.manifest(of: self) }
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

    /// Where a field's text is found in a record, once the header is known.
    enum Slot {
        case absent
        case column(Int)
        case range(Int, Int)
        case constant(String)

        /// The trimmed text of this slot in `record`.
        func text(_ record: CSVRecord) -> String {
            switch self {
            case .absent: return ""
            case .column(let position): return record.field(position)
            case .range(let from, let to): return joinedRange(record.field(from), record.field(to))
            case .constant(let value): return value
            }
        }

        /// `RowHash.of` the cells of `part` in `record`, from the record's bytes.
        static func hash(_ part: [Slot], _ record: CSVRecord, key: RowHash.Key) -> UInt64 {
            var hash = RowHash.Builder(key: key)
            for slot in part {
                switch slot {
                case .absent:
                    hash.begin(present: false)
                case .column(let position):
                    hash.begin(present: true)
                    record.hashField(position, into: &hash)
                case .range, .constant:
                    hash.begin(present: true)
                    for byte in slot.text(record).utf8 { hash.mix(byte) }
                }
                hash.end()
            }
            return hash.value
        }

        /// The bytes of this slot's text in `record`, when they stand in the file as they are (see
        /// `CSVRecord.fieldBytes`); nil when only the text can be had.
        func bytes(_ record: CSVRecord) -> UnsafeBufferPointer<UInt8>? {
            switch self {
            case .absent: return UnsafeBufferPointer(start: nil, count: 0)
            case .column(let position): return record.fieldBytes(position)
            case .range, .constant: return nil
            }
        }

        /// What a row left out tells of its watched key: the fingerprint of an ASCII key, made from its bytes.
        func watchedKey(_ record: CSVRecord) -> SkippedRow.WatchedKey {
            if let bytes = bytes(record) {
                if bytes.isEmpty { return .absent }
                if let fingerprint = ASCIIKey.fingerprint(bytes) { return .fingerprint(fingerprint) }
            }
            return SkippedRow.WatchedKey(text(record))
        }

        /// `BSN.keyEvidence` of this slot's text in `record`, from its bytes where they are its text.
        func keyEvidence(_ record: CSVRecord) -> BSN.KeyEvidence {
            bytes(record).map { BSN.keyEvidence(utf8: $0) } ?? BSN.keyEvidence(text(record))
        }

        func cell(_ record: CSVRecord) -> RawCell {
            switch self {
            case .absent: return RawCell(text: "", line: record.line, column: 0, present: false)
            case .column(let position), .range(let position, _):
                return RawCell(text: text(record), line: record.line, column: position + 1, present: true)
            case .constant(let value): return RawCell(text: value, line: record.line, column: 0, present: true)
            }
        }
    }

    /// A selection applied to the records of one file. A row outside it is told by the bytes of its selected
    /// field, and what it must still report is taken from its bytes too: no text of it is made. Only a field
    /// that is not ASCII, or that fingerprints as a selected value, is compared as text.
    struct Selecting {
        let selection: RowSelection

        init(_ selection: RowSelection) {
            self.selection = selection
        }

        /// Whether `record`, read through `part`, is left out; when it is, `skipped` is told what it must
        /// still report, if anything (`SkippedRow`).
        func leavesOut(_ record: CSVRecord, _ part: [Slot], skipped: (SkippedRow) -> Void) -> Bool {
            let selected = part[selection.field]
            guard selected.bytes(record).map(selection.excludes) ?? false || !selection.values.contains(selected.text(record)) else {
                return false
            }
            if let row = SkippedRow(line: record.line, watched: selection.watch.map { part[$0].watchedKey(record) } ?? .absent,
                                    identifiers: selection.identifiers.count, weigh: { part[selection.identifiers[$0]].keyEvidence(record) }) {
                skipped(row)
            }
            return true
        }
    }

    /// The slots of every part, from the header; throws when a column a required field needs is missing.
    func slots(_ kind: EntityKind, _ source: Mapping.Source, header positions: [String: Int], file: String, line: Int) throws -> [[Slot]] {
        let schema = kind.schema
        return try source.parts.enumerated().map { number, part in
            try part.fields.enumerated().map { index, fieldSource -> Slot in
                let field = schema.fields[index]
                func missing(_ column: String, _ what: String, _ besides: String = "") -> ExportFailure {
                    ExportFailure("missing-column", file: file, line: line, field: column, message:
                        "\(what) \"\(column)\" ontbreekt in de kopregel\(besides); de mapping \(mapping.path) leest haar voor \(mapping.fieldKeyPath(kind, field.name, part: number)): pas die sleutel aan als de kolom in deze export anders heet")
                }
                switch fieldSource {
                case nil:
                    return .absent
                case .column(let column)?:
                    if let position = positions[column.lowercased()] { return .column(position) }
                    // An optional column that is absent: the field has no value.
                    if field.required { throw missing(column, "verplichte kolom") }
                    return .absent
                case .range(let from, let to)?:
                    switch (positions[from.lowercased()], positions[to.lowercased()]) {
                    case let (start?, end?): return .range(start, end)
                    case (nil, nil): return .absent
                    case (nil, _): throw missing(from, "de kolom met de begintijd", " (de eindtijd staat wel in \"\(to)\")")
                    case (_, nil): throw missing(to, "de kolom met de eindtijd", " (de begintijd staat wel in \"\(from)\")")
                    }
                case .constant(let value)?:
                    return .constant(value)
                }
            }
        }
    }

    public func read(_ kind: EntityKind, selecting selection: RowSelection?, probing: RowProbe?, warn: (Issue) -> Void,
                     reject: (Issue, RawRow?) -> Void, row: (RawRow) throws -> Void, skipped: (SkippedRow) -> Void,
                     unchanged: (UInt64, RawRow) -> Bool) throws -> FileRead {
        guard let source = mapping.entities[kind] else { return FileRead(file: "", rows: 0, encoding: nil) }
        let file = source.name
        let selecting = selection.map(Selecting.init)
        return try parsing(file) { decoded in
        var slots: [[Slot]] = []
        var headerCount = 0
        var rows = 0
        var sawHeader = false
        let readColumns = source.columnNames
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
                        if readColumns.contains(name.lowercased()) {
                            throw ExportFailure("duplicate-column", file: file, line: record.line, column: index + 1, field: name,
                                                message: "de kolom \"\(name)\" staat twee keer in de kopregel (ook als kolom \(first + 1)); welke bedoeld is, is niet te weten")
                        }
                        continue
                    }
                    positions[name.lowercased()] = index
                }
                slots = try self.slots(kind, source, header: positions, file: file, line: record.line)
                return
            }
            rows += 1
            for (number, part) in slots.enumerated() {
                let mapped = source.parts[number]
                if !mapped.onlyRowsWith.isEmpty, mapped.onlyRowsWith.allSatisfy({ part[$0].text(record).isEmpty }) { continue }
                if let selecting, selecting.leavesOut(record, part, skipped: skipped) { continue }
                // An incremental run: the row's hash from its bytes, and the few fields that tell whether it
                // is the row applied before; only a row that is not has its every cell made.
                var hash: UInt64?
                if let probing, record.count == headerCount {
                    let rowHash = Slot.hash(part, record, key: probing.key)
                    var cells = [RawCell](repeating: RawCell(text: "", line: record.line, column: 0, present: false), count: part.count)
                    for field in probing.fields where field < part.count { cells[field] = part[field].cell(record) }
                    if unchanged(rowHash, RawRow(line: record.line, cells: cells, part: number)) { continue }
                    hash = rowHash
                }
                var cells: [RawCell] = []
                cells.reserveCapacity(part.count)
                for slot in part { cells.append(slot.cell(record)) }
                var raw = RawRow(line: record.line, cells: cells, part: number)
                raw.hash = hash
                // A row of another width cannot be trusted cell by cell: a delimiter inside a value shifts
                // every later cell, and a short row would blank the fields it lacks (SPEC §2). Its key, read
                // from the first cells, still protects the record.
                if record.count > headerCount {
                    reject(Issue(.error, "extra-fields", file: file, line: record.line, column: headerCount + 1, message:
                        "de regel heeft \(record.count) velden, de kopregel \(headerCount); staat er een scheidingsteken in een waarde zonder aanhalingstekens?"),
                           raw)
                    continue
                }
                if record.count < headerCount {
                    reject(Issue(.error, "missing-fields", file: file, line: record.line, column: record.count + 1, message:
                        "de regel heeft \(record.count) velden, de kopregel \(headerCount); ontbrekende velden worden niet als leeg gelezen"),
                           raw)
                    continue
                }
                try row(raw)
            }
        }
        guard sawHeader else {
            throw ExportFailure("missing-header", file: file, line: 1, message: "bestand is leeg: de kopregel ontbreekt")
        }
        return FileRead(file: file, rows: rows, encoding: decoded.encoding)
        }
    }

    /// Gives `body` a file of the export as UTF-8, decoded from the mapping's encoding, while the other core
    /// takes the SHA-256 of the very same bytes. Nothing `body` made is returned unless the file is the one
    /// the manifest lists: a file that is not fails as `manifest-checksum`, whatever `body` found in it.
    private func parsing<T>(_ file: String, _ body: (DecodedText) throws -> T) throws -> T {
        let bytes = try contents(of: file)
        let source = self
        let (listed, outcome) = try sideBySide({ source.isListed(bytes, as: file) }, {
            Result { () throws -> T in
                let decoded: DecodedText
                do {
                    decoded = try TextDecoder.decode(bytes, as: mapping.encoding)
                } catch let failure as EncodingFailure {
                    throw failure.exportFailure(file: file, mapping: mapping)
                }
                return try body(decoded)
            }
        })
        guard listed else { throw CSVExportSource.checksumFailure(file) }
        return try outcome.get()
    }

    static func checksumFailure(_ file: String) -> ExportFailure {
        ExportFailure("manifest-checksum", file: file, message:
            "de SHA-256 van het bestand wijkt af van het manifest (het is onvolledig, of gewijzigd terwijl de export werd gelezen); er is niets verwerkt")
    }

    /// Whether `bytes` are the file the manifest lists as `file` (true when it gives no SHA-256 for it).
    private func isListed(_ bytes: [UInt8], as file: String) -> Bool {
        expectedSHA256[file] == nil || isListed(sha256: SHA256.hex(of: bytes), as: file)
    }

    /// Whether a file whose SHA-256 is `sha256` is the one the manifest lists as `file`.
    private func isListed(sha256: String, as file: String) -> Bool {
        expectedSHA256[file].map { sha256 == $0 } ?? true
    }

    /// The files are hashed on both cores: each file whole on one of two lanes, the largest first to the
    /// lane with less to do.
    public func confirmUnread(_ kinds: [EntityKind]) throws {
        let files = kinds.compactMap { mapping.entities[$0]?.name }.filter { expectedSHA256[$0] != nil }
        var lanes: [[(order: Int, file: String)]] = [[], []], load: [Int64] = [0, 0]
        let sized = files.enumerated().map { order, file in
            var info = stat()
            let size = lstat((directory as NSString).appendingPathComponent(file), &info) == 0 ? Int64(info.st_size) : 0
            return (order: order, file: file, size: size)
        }
        for entry in sized.sorted(by: { $0.size > $1.size }) {
            let lane = load[0] <= load[1] ? 0 : 1
            lanes[lane].append((entry.order, entry.file))
            load[lane] += entry.size
        }
        @Sendable func check(_ lane: [(order: Int, file: String)], _ source: CSVExportSource) -> [(order: Int, failure: ExportFailure)] {
            lane.compactMap { entry in
                do throws(ExportFailure) {
                    return source.isListed(sha256: try source.sha256(of: entry.file), as: entry.file) ? nil
                        : (entry.order, CSVExportSource.checksumFailure(entry.file))
                } catch {
                    return (entry.order, error)
                }
            }
        }
        let source = self, other = lanes[1]
        let (theirs, mine) = try sideBySide({ check(other, source) }, { check(lanes[0], source) })
        if let first = (theirs + mine).min(by: { $0.order < $1.order }) { throw first.failure }
    }

    public func project(_ kind: EntityKind, fields: [Int], _ body: ([String]) -> Void) throws {
        guard let source = mapping.entities[kind] else { return }
        let file = source.name
        try parsing(file) { decoded in
        var slots: [[Slot]]?
        var texts = [String](repeating: "", count: fields.count)
        try CSVReader.read(decoded.bytes, delimiter: mapping.delimiter, file: file) { record in
            guard let slots else {
                var byName: [String: Int] = [:]
                for index in 0..<record.count {
                    let name = record.field(index).lowercased()
                    byName[name] = byName[name] ?? index
                }
                // A missing column is found (and named) when the file is read in full.
                slots = (try? self.slots(kind, source, header: byName, file: file, line: record.line))
                    ?? source.parts.map { _ in [Slot](repeating: .absent, count: kind.schema.fields.count) }
                return
            }
            for (number, part) in slots.enumerated() {
                let mapped = source.parts[number]
                if !mapped.onlyRowsWith.isEmpty, mapped.onlyRowsWith.allSatisfy({ part[$0].text(record).isEmpty }) { continue }
                for (index, field) in fields.enumerated() { texts[index] = part[field].text(record) }
                body(texts)
            }
        }
        }
    }
}
