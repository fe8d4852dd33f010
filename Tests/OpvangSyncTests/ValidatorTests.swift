import Foundation
import Testing
import TestSupport
@testable import OpvangSync

func validate(_ export: MiniExport) throws -> DesiredState {
    let folder = try export.write(to: temporaryFolder("export"))
    let mapping = try BuiltInMapping.flexkidsCSV.mapping()
    return try Validator(mapping: mapping).validate(CSVExportSource(directory: folder.path, mapping: mapping), expectedRows: [:])
}

@Suite struct ValidatorTests {
    /// One portal's key for the reads of a test, as its runs share it: their row hashes are compared.
    let rowHashKey = RowHash.Key.random()

    @Test func aValidExportBecomesCanonicalRecords() throws {
        let state = try validate(MiniExport())
        #expect(state.issues.filter { $0.severity == .error }.isEmpty)
        let child = try #require(state.records(of: .child).first)
        #expect(child.key == "K1")
        #expect(child.values[EntityKind.child.schema.index("birthDate")] == "2024-02-03")
        let placement = try #require(state.records(of: .placement).first { $0.key == "P2" })
        #expect(placement.values[EntityKind.placement.schema.index("weeks")] == "even")
        let first = try #require(state.records(of: .placement).first { $0.key == "P1" })
        #expect(first.values[EntityKind.placement.schema.index("weeks")] == "alle", "an empty Weken means every week")
        #expect(state.records(of: .relation).map(\.key) == ["K1/O1", "K2/O2", "K3/O3"])
        #expect(state.records(of: .calendar).first?.key == "2026-12-19/2027-01-03/Schoolvakantie/*")
        #expect(state.records(of: .staff).first?.values[EntityKind.staff.schema.index("groupCodes")] == "G1|G2")
    }

    func rejection(_ state: DesiredState, _ code: String) -> OpvangSync.Issue? {
        state.issues.first { $0.code == code && $0.severity == .error }
    }

    @Test func aMissingRequiredFieldRejectsTheRowWithFileLineAndColumn() throws {
        var export = MiniExport()
        export["kinderen.csv"][2] = "K2;;;Smit;15-06-2019;M1"
        let state = try validate(export)
        let issue = try #require(rejection(state, "missing-required-field"))
        #expect((issue.file, issue.line, issue.column, issue.field, issue.key) == ("kinderen.csv", 3, 2, "Roepnaam", "K2"))
        #expect(!state.records(of: .child).contains { $0.key == "K2" })
        #expect(state.records(of: .child).count == 2)
    }

    @Test func anUnparseableDateOrTimeRejectsTheRow() throws {
        var export = MiniExport()
        export["plaatsingen.csv"][1] = "P1;K1;G1;KDV;52 weken;2025-09-01;;07:30-18:00;;"
        export["plaatsingen.csv"][3] = "P3;K3;G1;KDV;52 weken;01-01-2026;;;8-17;"
        let state = try validate(export)
        #expect(rejection(state, "unparseable-date")?.column == 6)
        #expect(rejection(state, "unparseable-time")?.field == "Dinsdag")
        #expect(state.records(of: .placement).map(\.key) == ["P2"])
        #expect(state.files.first { $0.name == "plaatsingen.csv" }?.rejected == 2)
    }

    @Test func anUnknownCodeRejectsTheRow() throws {
        var export = MiniExport()
        export["relaties.csv"][1] = "K1;O1;Oma"
        let state = try validate(export)
        let issue = try #require(rejection(state, "unknown-code"))
        #expect((issue.line, issue.column) == (2, 3))
        #expect(state.records(of: .relation).count == 2)
    }

    @Test func aReferenceToAnUnknownRecordRejectsTheRow() throws {
        var export = MiniExport()
        export["plaatsingen.csv"][2] = "P2;K9;G2;BSO;Schoolweken;01-09-2025;;14:00-18:30;;"
        export["kinderen.csv"][1] = "K1;Zoë;van;Dijk;03-02-2024;M7"
        let state = try validate(export)
        let placement = try #require(state.issues.first { $0.code == "unknown-reference" && $0.key == "P2" })
        #expect(placement.line == 3)
        #expect(placement.column == 2)
        // An optional reference (a mentor who left) is a warning: the child is kept, without a mentor.
        #expect(state.issues.contains { $0.code == "unknown-optional-reference" && $0.severity == .warning && $0.field == "Mentor" && $0.key == "K1" })
        #expect(state.records(of: .child).contains { $0.key == "K1" && $0.values[EntityKind.child.schema.index("mentor")] == nil })
    }

    @Test func rowsReferringToARejectedRecordAreRejectedToo() throws {
        var export = MiniExport()
        export["kinderen.csv"][1] = "K1;Zoë;van;Dijk;31-02-2024;M1"
        let state = try validate(export)
        #expect(state.protectedKeys[.child] == ["K1"])
        #expect(state.protectedKeys[.placement] == ["P1"])
        #expect(state.issues.contains { $0.code == "unknown-reference" && $0.message.contains("zelf afgewezen") })
    }

    /// An incremental read passes over a row the portal applied byte for byte, but not when what it refers
    /// to is rejected now: the placement and the relation of a child whose own row broke are rejected as a
    /// full read rejects them, though their bytes did not change.
    /// `export` read as an incremental run reads it, against the rows of `applied` (nil: a full read).
    func read(_ export: MiniExport, applied: DesiredState?) throws -> DesiredState {
        let mapping = try BuiltInMapping.flexkidsCSV.mapping()
        let folder = try export.write(to: temporaryFolder("export"))
        var known: KnownRows?
        if let applied {
            var hashes: [EntityKind: [String: UInt64]] = [:]
            for kind in EntityKind.allCases {
                for record in applied.records(of: kind) { hashes[kind, default: [:]][record.key] = record.rowHash }
            }
            known = KnownRows(counts: hashes.mapValues(\.count), read: { [hashes] in hashes[$0] ?? [:] }, careTypes: { [:] })
        }
        return try Validator(mapping: mapping, rowHashKey: rowHashKey).validate(CSVExportSource(directory: folder.path, mapping: mapping),
                                                                                 expectedRows: [:], known: known)
    }

    @Test func anUnchangedRowReferringToARecordRejectedNowIsRejectedAsInAFullRead() throws {
        let applied = try read(MiniExport(), applied: nil)
        let same = try read(MiniExport(), applied: applied)
        #expect(same.records(of: .placement).isEmpty && same.unchanged[.placement]?.contains("P1") == true,
                "an unchanged night reads no placement")

        var export = MiniExport()
        export["kinderen.csv"][1] = "K1;Zoë;van;Dijk;31-02-2024;M1"
        let full = try read(export, applied: nil)
        let incremental = try read(export, applied: applied)
        func rejected(_ state: DesiredState) -> [String] {
            state.issues.filter { $0.severity == .error }.map { "\($0.code) \($0.file ?? "") \($0.line ?? 0) \($0.key ?? "")" }.sorted()
        }
        #expect(rejected(incremental) == rejected(full))
        #expect(rejected(full).contains { $0.hasPrefix("unknown-reference plaatsingen.csv") })
        #expect(incremental.protectedKeys[.placement] == full.protectedKeys[.placement])
        #expect(incremental.unchanged[.placement]?.contains("P1") != true)
    }

    /// A row that comes twice, byte for byte, is a duplicate in an incremental read as in a full one: both
    /// of its lines are rejected, though the portal applied that very row. And an applied "Ouder 1" that a
    /// new one now comes before is warned about as the child's second, as a full read warns.
    @Test func aRowThatComesTwiceUnchangedIsADuplicateAsInAFullRead() throws {
        let applied = try read(MiniExport(), applied: nil)
        var export = MiniExport()
        export["plaatsingen.csv"].append(export["plaatsingen.csv"][1])
        let firstParent = try #require(export["relaties.csv"].first { $0.hasSuffix(";Ouder 1") })
        // A new first parent, on a line before the one applied.
        export["relaties.csv"].insert(firstParent.replacingOccurrences(of: ";O1;", with: ";O2;"), at: 1)
        let full = try read(export, applied: nil)
        let incremental = try read(export, applied: applied)
        func found(_ state: DesiredState) -> [String] {
            state.issues.filter { $0.code == "duplicate-key" || $0.code == "two-first-parents" }
                .map { "\($0.code) \($0.file ?? "") \($0.line ?? 0) \($0.key ?? "") \($0.message)" }.sorted()
        }
        #expect(found(full).filter { $0.hasPrefix("duplicate-key plaatsingen.csv") }.count == 2, "\(found(full))")
        #expect(found(full).contains { $0.hasPrefix("two-first-parents relaties.csv") }, "\(found(full))")
        #expect(found(incremental) == found(full))
        #expect(incremental.unchanged[.placement]?.contains("P1") != true)
    }

    /// The warnings a file gave are kept with it and read back when its bytes come again: exactly as
    /// encoded, and not at all (the file is then read) when what the portal keeps is damaged.
    @Test func aFilesWarningsReadBackAsTheyWereStored() throws {
        var keyed = OpvangSync.Issue(.warning, "invalid-email", file: "ouders.csv", line: 12, column: 4, field: "E-mail",
                                     key: "O1", message: "adres \"x@@y\" is ongeldig; ëé – \\ \u{1}")
        keyed.key = "111222333"
        let warnings = [keyed, OpvangSync.Issue(.info, "note", message: "zonder plaats"),
                        OpvangSync.Issue(.warning, "w", file: "a.csv", line: 1, message: "😀\n")]
        let stored = try #require(try AppliedFile.encode(warnings))
        let read = try #require(AppliedFile(rows: 3, warnings: stored).decodedWarnings())
        #expect(read == warnings)
        #expect(read == (try JSONDecoder().decode([OpvangSync.Issue].self, from: Data(stored.utf8))))
        #expect(AppliedFile(rows: 3, warnings: nil).decodedWarnings() == [])
        for damaged in ["", "{", "[{\"code\":\"x\",\"message\":\"m\"}]", "[{\"severity\":\"fatal\",\"code\":\"x\",\"message\":\"m\"}]",
                        "[{\"severity\":\"warning\",\"code\":\"x\",\"message\":\"m\",\"line\":\"12\"}]", "[1]", "{}"] {
            #expect(AppliedFile(rows: 3, warnings: damaged).decodedWarnings() == nil, "\(damaged)")
        }
    }

    /// Files that do not refer to each other are read side by side (children and parents, relations and
    /// placements): the result must be the one reading them one after the other gives, issues in the same
    /// order, in full and incremental reads alike.
    @Test func filesReadSideBySideGiveWhatReadingThemInTurnGives() throws {
        /// The same files, read one by one: a source the validator does not pair.
        struct InTurn: ExportSource {
            let csv: CSVExportSource
            var directory: String { csv.directory }
            var mapping: Mapping { csv.mapping }
            var organisation: String? { csv.organisation }
            func loadManifest() throws(ExportFailure) -> Manifest { try csv.loadManifest() }
            func verify(_ manifest: Manifest) -> [OpvangSync.Issue] { csv.verify(manifest) }
            func confirmUnread(_ kinds: [EntityKind]) throws { try csv.confirmUnread(kinds) }
            func read(_ kind: EntityKind, selecting selection: RowSelection?, probing: RowProbe?, warn: (OpvangSync.Issue) -> Void,
                      reject: (OpvangSync.Issue, RawRow?) -> Void, row: (RawRow) throws -> Void, skipped: (SkippedRow) -> Void,
                      unchanged: (UInt64, RawRow) -> Bool) throws -> FileRead {
                try csv.read(kind, selecting: selection, probing: probing, warn: warn, reject: reject, row: row, skipped: skipped,
                             unchanged: unchanged)
            }
            func project(_ kind: EntityKind, fields: [Int], _ body: ([String]) -> Void) throws { try csv.project(kind, fields: fields, body) }
        }
        var export = MiniExport()
        // Issues in every file that is paired: a bad birth date, a bad address, a relation and a placement
        // of a child that does not exist, a deviation on an impossible day.
        export["kinderen.csv"].append("K4;Bo;;Bos;31-02-2024;M1")
        export["kinderen.csv"].append("K5;Ties;;Bos;01-02-2024;M9")
        export["ouders.csv"].append("O4;Els;Bos;els@@example.nl;")
        export["ouders.csv"].append("O5;Piet;Bos;;")
        export["relaties.csv"].append("K9;O1;Ouder 2")
        export["relaties.csv"].append("K4;O4;Ouder 1")
        export["plaatsingen.csv"].append("P9;K9;G1;KDV;52 weken;01-09-2025;;07:30-18:00;;")
        export["plaatsingen.csv"].append("P4;K4;G1;KDV;52 weken;01-09-2025;;07:30-18:00;;")
        export["afwijkingen.csv"].append("K2;G2;31-11-2026;Extra dag;;;")
        let folder = try export.write(to: temporaryFolder("export"))
        let mapping = try BuiltInMapping.flexkidsCSV.mapping()
        let csv = CSVExportSource(directory: folder.path, mapping: mapping)
        func summary(_ state: DesiredState) -> [String] {
            state.issues.map { "\($0.severity) \($0.code) \($0.file ?? "") \($0.line ?? 0) \($0.key ?? "") \($0.message)" }
                + state.files.map { "\($0.name) \($0.rows) \($0.rejected)" } + state.kinds.map(\.rawValue)
                + EntityKind.allCases.map { kind in
                    "\(kind): \(state.records(of: kind).map { "\($0.key) \($0.rowHash)" }) \(state.protectedKeys[kind]?.sorted() ?? []) "
                        + "\(state.acceptedKeys[kind]?.sorted() ?? []) \(state.unchanged[kind]?.sorted() ?? []) \(state.cleanFiles.contains(kind)) "
                        + "\(state.missing[kind]?.sorted() ?? []) \(state.storedHashes[kind]?.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" } ?? [])"
                }
        }
        // One portal's key for every read, as one portal's runs share it: the row hashes are compared.
        let key = RowHash.Key.random()
        let paired = try Validator(mapping: mapping, rowHashKey: key).validate(csv, expectedRows: [:])
        let inTurn = try Validator(mapping: mapping, rowHashKey: key).validate(InTurn(csv: csv), expectedRows: [:])
        #expect(summary(paired) == summary(inTurn))
        // The issues come file by file, in the order of the files, from each of the paired files.
        let order = EntityKind.allCases.compactMap { mapping.entities[$0]?.name }
        let files = paired.issues.compactMap(\.file).compactMap { order.firstIndex(of: $0) }
        #expect(files == files.sorted(), "\(paired.issues.compactMap(\.file))")
        #expect(Set(paired.issues.compactMap(\.file)).isSuperset(of: ["kinderen.csv", "ouders.csv", "relaties.csv", "plaatsingen.csv", "afwijkingen.csv"]))

        // Incremental: what the portal applied is the export with its first child and parent changed since.
        var hashes: [EntityKind: [String: UInt64]] = [:]
        for kind in EntityKind.allCases { for record in paired.records(of: kind) { hashes[kind, default: [:]][record.key] = record.rowHash } }
        export["kinderen.csv"][1] = "K1;Zoë;van;Dijk;04-02-2024;M1"
        export["ouders.csv"][2] = "O2;Joost;Smit;joost.smit@example.nl;"
        let changed = try export.write(to: temporaryFolder("export"))
        let source = CSVExportSource(directory: changed.path, mapping: mapping)
        func known() -> KnownRows { KnownRows(counts: hashes.mapValues(\.count), read: { hashes[$0] ?? [:] }, careTypes: { [:] }) }
        let pairedAgain = try Validator(mapping: mapping, rowHashKey: key).validate(source, expectedRows: [:], known: known())
        let inTurnAgain = try Validator(mapping: mapping, rowHashKey: key).validate(InTurn(csv: source), expectedRows: [:], known: known())
        #expect(summary(pairedAgain) == summary(inTurnAgain))
        // Not a comparison of two empty reads: the changed child and parent were read, the others passed over.
        let children = pairedAgain.records(of: .child).map(\.key), parents = pairedAgain.records(of: .parent).map(\.key)
        #expect(children.contains("K1") && !children.contains("K2") && pairedAgain.unchanged[.child]?.contains("K2") == true, "\(children)")
        #expect(parents.contains("O2") && !parents.contains("O1") && pairedAgain.unchanged[.parent]?.contains("O1") == true, "\(parents)")
    }

    /// A read of the export in `folder` whose manifest lists another SHA-256 for each of the `broken` files:
    /// the file the read failed on (nil when it did not fail on an export's fault), and the files it told done.
    func failure(reading folder: URL, mapping: Mapping, broken: [String]) -> (file: String?, told: [String]) {
        var csv = CSVExportSource(directory: folder.path, mapping: mapping)
        for name in broken { csv.expectedSHA256[name] = String(repeating: "0", count: 64) }
        var told: [String] = []
        do {
            _ = try Validator(mapping: mapping).validate(csv, expectedRows: [:], progress: { told.append($0.name) })
        } catch let failure as ExportFailure {
            return (failure.issue.file, told)
        } catch {}
        return (nil, told)
    }

    /// A pair read side by side fails as reading its files in turn does: on the first file's fault when both
    /// are broken, and only after the first was told done when the second alone is.
    @Test func aBrokenPairFailsAsReadingItInTurnDoes() throws {
        let folder = try MiniExport().write(to: temporaryFolder("export"))
        let mapping = try BuiltInMapping.flexkidsCSV.mapping()
        func failure(_ broken: [String]) -> (file: String?, told: [String]) {
            self.failure(reading: folder, mapping: mapping, broken: broken)
        }
        for pair in [["kinderen.csv", "ouders.csv"], ["relaties.csv", "plaatsingen.csv"], ["afwijkingen.csv", "kalender.csv"]] {
            let both = failure(pair)
            #expect(both.file == pair[0])
            #expect(!both.told.contains(pair[0]) && !both.told.contains(pair[1]), "\(both.told)")
            let second = failure([pair[1]])
            #expect(second.file == pair[1])
            #expect(second.told.last == pair[0], "\(second.told)")
        }
    }

    /// Files read on the two cores fail as reading them in turn does, whichever files are broken: on the first
    /// broken file in kind order, after every file before it was told done and none after.
    @Test func aBrokenFileFailsTheReadInItsTurnWhereverItIsRead() throws {
        let folder = try MiniExport().write(to: temporaryFolder("export"))
        let mapping = try BuiltInMapping.flexkidsCSV.mapping()
        let order = EntityKind.allCases.compactMap { mapping.entities[$0]?.name }
        for (position, first) in order.enumerated() {
            for broken in [[first]] + order[(position + 1)...].map({ [first, $0] }) {
                let (failed, told) = failure(reading: folder, mapping: mapping, broken: broken)
                #expect(failed == first, "\(broken)")
                #expect(told == Array(order[..<position]), "\(broken): \(told)")
            }
        }
    }

    @Test func aDuplicateKeyRejectsEveryOccurrence() throws {
        var export = MiniExport()
        export["ouders.csv"].append("O2;Joost;Smit;joost.smit@example.nl;")
        let state = try validate(export)
        let duplicates = state.issues.filter { $0.code == "duplicate-key" }
        #expect(duplicates.map(\.line) == [3, 5])
        #expect(!state.records(of: .parent).contains { $0.key == "O2" })
        #expect(state.protectedKeys[.parent]?.contains("O2") == true)
    }

    @Test func headersMatchAfterTrimmingAnyCaseAndExtraColumnsAreIgnored() throws {
        var export = MiniExport()
        export["locaties.csv"] = [" LOCATIECODE ; naam ;Kleur van de deur", "L1;De Zonnebloem;geel"]
        let state = try validate(export)
        #expect(state.records(of: .location).first?.values.compactMap { $0 } == ["L1", "De Zonnebloem"])
    }

    @Test func aMissingRequiredColumnIsStructural() throws {
        var export = MiniExport()
        export["groepen.csv"] = ["Groepcode;Locatiecode;Naam", "G1;L1;Egeltjes"]
        let error = #expect(throws: ExportFailure.self) { try validate(export) }
        #expect(error?.issue.code == "missing-column")
        #expect(error?.issue.field == "Opvangsoort")
        #expect(error?.issue.file == "groepen.csv")
    }

    @Test func endBeforeStartIsRejected() throws {
        var export = MiniExport()
        export["plaatsingen.csv"][1] = "P1;K1;G1;KDV;52 weken;01-09-2025;01-08-2025;07:30-18:00;;"
        let state = try validate(export)
        #expect(rejection(state, "end-before-start")?.field == "Einddatum")
    }

    @Test func anInvalidEmailIsAWarningNotARejection() throws {
        var export = MiniExport()
        export["ouders.csv"][1] = "O1;Marieke;Dijk;marieke@gmail;"
        let state = try validate(export)
        #expect(state.issues.contains { $0.code == "invalid-email" && $0.severity == .warning && $0.key == "O1" })
        #expect(state.records(of: .parent).contains { $0.key == "O1" })
    }

    @Test func aBSNColumnInTheExportIsNeverReadAndIsReported() throws {
        var export = MiniExport()
        export["kinderen.csv"] = export["kinderen.csv"].enumerated().map { index, line in
            index == 0 ? line + ";BSN" : line + ";123456782"
        }
        let state = try validate(export)
        #expect(state.issues.contains { $0.code == "bsn-in-export" && $0.file == "kinderen.csv" })
        #expect(!state.records(of: .child).flatMap(\.values).contains("123456782"))
    }

    /// A scoped read parses one family's rows but weighs the key columns of every row: a JSON export keyed
    /// by citizen service numbers gives the same key-column issues read in part as read whole, as a CSV one does.
    @Test func aScopedReadWeighsTheKeyColumnsOfEveryRowOfAJSONExport() throws {
        var text = try String(contentsOfFile: Package.sample("zonnebloem-json") + "/export.json", encoding: .utf8)
        let document = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        let numbers = ((document?["children"] as? [[String: Any]]) ?? []).compactMap { $0["kindnummer"] as? String }
        let keys = (111_222_000..<111_240_000).map(String.init).filter { BSN.keyEvidence($0).passes }.prefix(numbers.count)
        #expect(numbers.count > 10 && keys.count == numbers.count)
        for (number, key) in zip(numbers, keys) { text = text.replacingOccurrences(of: "\"\(number)\"", with: "\"\(key)\"") }
        let folder = temporaryFolder("bsn-json")
        try Data(text.utf8).write(to: folder.appendingPathComponent("export.json"))
        let mapping = try BuiltInMapping.flexkidsJSON.mapping()
        let source = JSONExportSource(directory: folder.path, mapping: mapping)
        func keyColumns(_ selections: [EntityKind: RowSelection]) throws -> [String] {
            try Validator(mapping: mapping).validate(source, expectedRows: [:], selections: selections).issues
                .filter { $0.code == "bsn-key-column" }.map { "\($0.severity)|\($0.file ?? "-")|\($0.field ?? "-")|\($0.message)" }.sorted()
        }
        let whole = try keyColumns([:])
        #expect(whole.contains { $0.hasPrefix("error|") }, "\(whole)")
        let family = ScopedRead(children: [keys[keys.startIndex]], parents: [])
        #expect(try keyColumns(family.selections) == whole)
    }

    /// MiniExport with `placements` (number, child and group; the rest alike) added to its own, read for child
    /// K1's family alone; and the line of the file each of those rows stands on.
    private func readForK1(placements: [String]) throws -> (state: DesiredState, line: (String) -> Int) {
        var export = MiniExport()
        let care = ";KDV;52 weken;01-09-2025;;07:30-18:00;;"
        export["plaatsingen.csv"] += placements.map { $0 + care }
        let folder = try export.write(to: temporaryFolder("export"))
        let mapping = try BuiltInMapping.flexkidsCSV.mapping()
        let state = try Validator(mapping: mapping).validate(CSVExportSource(directory: folder.path, mapping: mapping), expectedRows: [:],
                                                             selections: ScopedRead(children: ["K1"], parents: []).selections)
        let lines = export["plaatsingen.csv"]
        return (state, { row in lines.firstIndex(of: row + care)! + 1 })
    }

    /// A scoped read tells the rows it leaves out from their bytes, not their text; what it finds must be what
    /// comparing their text finds. Keys are `String`s, equal when canonically equivalent (`K` and the Kelvin
    /// sign `\u{212A}`, `É` composed and decomposed), and a field is trimmed and unquoted before it is compared.
    @Test func aRowLeftOutIsJudgedOnItsBytesAsOnItsText() throws {
        // Selected: the rows of child K1, in every way its number can be written.
        let selected = ["P4;K1;G1", "\"P\"\"6\";K1;G1", "KP7;K1;G1", "\u{00C9}8;K1;G1", "\u{212A}P9;K1;G1", "P12;K1;G1",
                        "P13;\u{212A}1;G1", "P14; K1 ;G1", "P15;\"K1\";G1"]
        // Left out: other children's rows, whose numbers are P1, P4, P"6, KP7, É8 and KP9 all the same.
        let leftOut = [" P1 ;K2;G1", "\"P4\";K2;G1", "\"P\"\"6\";K2;G1", "\u{212A}P7;K2;G1", "E\u{0301}8;K2;G1", "KP9;K2;G1",
                       "P120;K2;G1", "P16;K3;G1"]
        // Header and P1-P3 are lines 1-4; the selected rows follow from line 5, those left out from line 14.
        let (state, line) = try readForK1(placements: selected + leftOut)
        // P1 of MiniExport itself is line 2.
        let twins = [(2, line(" P1 ;K2;G1"))] + zip(selected.prefix(5), leftOut[1...5]).map { (line($0), line($1)) }
        let duplicated = Set(state.issues.filter { $0.code == "duplicate-key" && $0.file == "plaatsingen.csv" }.compactMap(\.line))
        #expect(duplicated == Set(twins.flatMap { [$0.0, $0.1] }), "\(state.issues.filter { $0.code == "duplicate-key" })")
        let read = Set(state.records(of: .placement).map(\.key))
        #expect(read == ["P12", "P13", "P14", "P15"], "\(state.issues)")
        // The issue names the key as the row left out spells it, byte for byte.
        let spellings = Set(state.issues.filter { $0.code == "duplicate-key" }.compactMap { $0.key.map { Array($0.utf8) } })
        #expect(spellings == Set(["P1", "P4", "P\"6", "\u{212A}P7", "E\u{0301}8", "KP9"].map { Array($0.utf8) }), "\(spellings)")
    }

    /// A selected key that rows left out use more than once is reported with the first of those lines, as a
    /// whole read reports a key's first two lines; every other selected row is read.
    @Test func aKeyLeftOutTwiceIsReportedWithItsFirstLine() throws {
        let selected = (20..<40).map { "P\($0);K1;G1" }
        let leftOut = ["P30;K2;G1", "P31;K3;G1", "P30;K3;G1", "P31;K2;G1", "P99;K2;G1"]
        let (state, line) = try readForK1(placements: selected + leftOut)
        let duplicated = state.issues.filter { $0.code == "duplicate-key" }.map { "\($0.key ?? "-")|\($0.line ?? 0)" }.sorted()
        #expect(duplicated == ["P30|\(line("P30;K1;G1"))", "P30|\(line("P30;K2;G1"))", "P31|\(line("P31;K1;G1"))", "P31|\(line("P31;K3;G1"))"],
                "\(duplicated)")
        let read = Set(state.records(of: .placement).map(\.key))
        #expect(read.isSuperset(of: Set(selected.map { String($0.prefix(3)) }).subtracting(["P30", "P31"])), "\(state.issues)")
        #expect(read.isDisjoint(with: ["P30", "P31", "P99"]), "\(read)")
    }

    @Test func personalValuesStayOutOfMessages() throws {
        var export = MiniExport()
        export["kinderen.csv"][1] = "K1;Zoë;van;Dijk;03-13-2024;M1"
        let state = try validate(export)
        let issue = try #require(rejection(state, "unparseable-date"))
        #expect(!issue.message.contains("03-13-2024"))
    }
}

@Suite struct EmailAddressTests {
    @Test(arguments: ["jan@example.nl", "j.de.vries+opvang@mail.example.com", "JAN@EXAMPLE.NL"])
    func valid(_ address: String) { #expect(EmailAddress.isValid(address)) }

    @Test(arguments: ["jan@gmail", "jan @example.nl", "@example.nl", "jan@", "jan@@example.nl", "jan@example..nl", "jan@-x.nl", ""])
    func invalid(_ address: String) { #expect(!EmailAddress.isValid(address)) }
}
