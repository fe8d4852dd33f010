import Foundation
import Testing
import TestSupport
@testable import OpvangSync

/// The layouts a mapping can choose (SPEC §3): dates, times, encodings.
@Suite struct LayoutTests {
    @Test func aTimeLayoutWithSecondsReadsWholeMinutesOnly() throws {
        let pattern = try TimePattern("HH:MM:SS")
        #expect(pattern.parse("14:00:00") == TimeOfDay(hour: 14, minute: 0))
        #expect(pattern.parse("7:30:00") == TimeOfDay(hour: 7, minute: 30))
        #expect(pattern.parseRange("14:00:00-18:30:00")?.description == "14:00-18:30")
        #expect(pattern.parseRange("14:00:00 - 18:30:00")?.description == "14:00-18:30")
        #expect(pattern.parse("14:00:30") == nil, "the portal keeps whole minutes")
        #expect(pattern.parse("14:00") == nil, "the layout says seconds")
        #expect(pattern.parse("14:00:00:00") == nil)
        #expect(pattern.parse("24:00:00") == TimeOfDay(hour: 24, minute: 0))
        #expect(pattern.parse("24:01:00") == nil)
    }

    @Test func theDefaultTimeLayoutIsTheOneOfTheDefaultExport() throws {
        let pattern = TimePattern.standard
        for text in ["7:30", "07:30", "07.30", "18:00"] {
            #expect(pattern.parse(Substring(text)) == TimeOfDay(Substring(text)), "\(text)")
        }
        for text in ["730", "07:3", "07:300", "7:30:00", "x7:30"] {
            #expect(pattern.parse(Substring(text)) == nil, "\(text)")
        }
        #expect(try TimePattern("HHMM").parse("0730") == TimeOfDay(hour: 7, minute: 30))
        #expect(try TimePattern("HHMM").parse("730") == nil, "without a separator the hour takes two digits")
    }

    @Test func aTimeLayoutMustBeHourMinutesAndOptionallySeconds() {
        for text in ["HH", "MM:HH", "HH-MM", "HH:MM:", "HHH:MM", "HH:M", "HH:MM:SS:SS", "tijd", "HH\u{0}MM", "HH\tMM"] {
            #expect(throws: TimePattern.PatternError.self, "\(text)") { try TimePattern(text) }
        }
    }

    @Test func singleLetterDayAndMonthAndTwoDigitYearsWithAPivot() throws {
        let excel = try DatePattern("d-m-jjjj")
        #expect(excel.parse("3-2-2025") == Day(year: 2025, month: 2, day: 3))
        #expect(excel.parse("03-02-2025") == Day(year: 2025, month: 2, day: 3))
        #expect(excel.parse("3-2-25") == nil)
        let short = try DatePattern("d-m-jj", pivot: 1950)
        #expect(short.parse("3-2-49") == Day(year: 2049, month: 2, day: 3))
        #expect(short.parse("3-2-50") == Day(year: 1950, month: 2, day: 3))
        #expect(short.parse("3-2-2025") == nil, "a two-digit year is two digits")
        let recent = try DatePattern("dd/mm/yy", pivot: 1970)
        #expect(recent.parse("29/02/24") == Day(year: 2024, month: 2, day: 29))
        #expect(recent.parse("29/02/23") == nil, "2023 has no 29 February")
        #expect(recent.parse("01/01/70") == Day(year: 1970, month: 1, day: 1))
        #expect(recent.parse("31/12/69") == Day(year: 2069, month: 12, day: 31))
    }

    @Test func withoutSeparatorsDayAndMonthTakeTwoDigits() throws {
        let compact = try DatePattern("jjjjmmdd")
        #expect(compact.parse("20250203") == Day(year: 2025, month: 2, day: 3))
        #expect(compact.parse("2025023") == nil)
        #expect(throws: DatePattern.PatternError.self) { try DatePattern("dmjjjj") }
        #expect(throws: DatePattern.PatternError.self) { try DatePattern("jjjjmd") }
    }

    @Test func aPivotGoesWithATwoDigitYearOnly() {
        let missing = #expect(throws: DatePattern.PatternError.self) { try DatePattern("dd-mm-jj") }
        #expect(missing?.reason.contains("yearPivot") == true)
        #expect(throws: DatePattern.PatternError.self) { try DatePattern("dd-mm-jjjj", pivot: 1950) }
        #expect(throws: DatePattern.PatternError.self) { try DatePattern("dd-mm-jj", pivot: 50) }
        #expect(throws: DatePattern.PatternError.self) { try DatePattern("dd-ddd-jjjj") }
        #expect(throws: DatePattern.PatternError.self) { try DatePattern("dd-mm-jjj") }
        #expect(throws: DatePattern.PatternError.self) { try DatePattern("d\u{0}m\u{0}jjjj") }
        #expect(throws: DatePattern.PatternError.self) { try DatePattern("dd\nmm\njjjj") }
    }
}

@Suite struct EncodingTests {
    static let text = "Naam;Plaats\nZoë Ütrecht;’s-Hertogenbosch €\n😀 Ça\n"

    static func utf16(_ text: String, bigEndian: Bool, bom: Bool = true) -> [UInt8] {
        var bytes: [UInt8] = bom ? (bigEndian ? [0xFE, 0xFF] : [0xFF, 0xFE]) : []
        for unit in text.utf16 {
            let pair = [UInt8(unit & 0xFF), UInt8(unit >> 8)]
            bytes += bigEndian ? pair.reversed() : pair
        }
        return bytes
    }

    @Test func utf16WithAByteOrderMarkIsReadInEitherOrder() throws {
        for bigEndian in [false, true] {
            let bytes = Self.utf16(Self.text, bigEndian: bigEndian)
            for encoding in [TextEncoding.utf16, .auto] {
                let decoded = try TextDecoder.decode(bytes, as: encoding)
                #expect(String(decoding: decoded.bytes, as: UTF8.self) == Self.text)
                #expect(decoded.encoding == (bigEndian ? .utf16BE : .utf16LE))
            }
        }
    }

    @Test func utf16WithoutAByteOrderMarkCutShortOrWithAHalfCharacterIsRefusedWithWhere() {
        let noMark = #expect(throws: EncodingFailure.self) { try TextDecoder.decode(Self.utf16("a;b\n", bigEndian: false, bom: false), as: .utf16) }
        #expect(noMark?.reason == .missingUTF16BOM)
        let cut = #expect(throws: EncodingFailure.self) { try TextDecoder.decode(Self.utf16("a;b\nc", bigEndian: false).dropLast(), as: .utf16) }
        #expect(cut?.reason == .truncatedUTF16)
        #expect((cut?.line, cut?.column) == (2, 1))
        // A high surrogate followed by an ordinary character on line 2, column 3.
        let lone = Self.utf16("a\nbc", bigEndian: true) + [0xD8, 0x3D, 0x00, 0x41]
        let failure = #expect(throws: EncodingFailure.self) { try TextDecoder.decode(lone, as: .utf16) }
        #expect(failure?.reason == .loneSurrogate)
        #expect((failure?.line, failure?.column) == (2, 3))
        let trailing = Self.utf16("a", bigEndian: false) + [0x00, 0xDC]
        #expect(throws: EncodingFailure.self) { try TextDecoder.decode(trailing, as: .auto) }
    }

    @Test func latin1AndLatin9DifferInTheEuroSign() throws {
        // "€ café Š" in ISO-8859-15; in ISO-8859-1 the same bytes are "¤ café ¦".
        let bytes: [UInt8] = [0xA4, 0x20, 0x63, 0x61, 0x66, 0xE9, 0x20, 0xA6]
        let latin9 = try TextDecoder.decode(bytes, as: .iso885915)
        #expect(String(decoding: latin9.bytes, as: UTF8.self) == "€ café Š")
        #expect(latin9.encoding == .iso885915)
        let latin1 = try TextDecoder.decode(bytes, as: .iso88591)
        #expect(String(decoding: latin1.bytes, as: UTF8.self) == "¤ café ¦")
        #expect(latin1.encoding == .iso88591)
        let every = try TextDecoder.decode(Array(0xA0...0xFF), as: .iso88591)
        #expect(String(decoding: every.bytes, as: UTF8.self).unicodeScalars.map(\.value) == Array(0xA0...0xFF))
    }

    @Test func aWindows1252ByteInAnISO8859FileIsRefusedWithWhere() {
        // 0x80 is € in Windows-1252 and a control character in ISO-8859-1.
        let failure = #expect(throws: EncodingFailure.self) { try TextDecoder.decode(Array("a;b\nx;".utf8) + [0x80], as: .iso88591) }
        #expect(failure?.reason == .controlInISO8859)
        #expect((failure?.line, failure?.column) == (2, 3))
    }

    @Test func aUTF8ByteOrderMarkInAFileTheMappingCallsSingleByteIsRefused() {
        for encoding in [TextEncoding.iso88591, .iso885915, .windows1252] {
            let failure = #expect(throws: EncodingFailure.self) { try TextDecoder.decode([0xEF, 0xBB, 0xBF] + Array("Zoë".utf8), as: encoding) }
            #expect(failure?.reason == .utf8BOMInSingleByteFile)
        }
    }

    @Test func aMappingNamesEveryEncodingByItsUsualSpellings() {
        let spellings: [String: TextEncoding] = ["UTF-16": .utf16, "utf16": .utf16, "ISO-8859-1": .iso88591, "latin1": .iso88591,
                                                 "ISO_8859-15": .iso885915, "latin9": .iso885915, "utf-8": .utf8, "cp1252": .windows1252]
        for (text, encoding) in spellings { #expect(TextEncoding(mappingValue: text) == encoding, "\(text)") }
        #expect(TextEncoding(mappingValue: "utf-32") == nil)
        #expect(TextEncoding(mappingValue: "ebcdic") == nil)
    }
}

@Suite struct MappingFormatTests {
    func mapping(_ top: String = "", entities: String = minimalEntities) throws(Mapping.Failure) -> Mapping {
        try parseMapping("{\(top)\(top.isEmpty ? "" : ", ")\"entities\": {\(entities)}}")
    }

    @Test func theNewTopLevelKeysAreRead() throws {
        let read = try mapping(#""encoding": "utf-16", "delimiter": "\t", "dateFormat": "d-m-jj", "yearPivot": 1970, "timeFormat": "HH:MM:SS""#)
        #expect(read.encoding == .utf16)
        #expect(read.delimiter == 0x09)
        #expect(read.datePattern.parse("3-2-25") == Day(year: 2025, month: 2, day: 3))
        #expect(read.timePattern.hasSeconds)
        #expect(read.manifestMode == .sha256)
        #expect(read.manifest == "manifest.json")
    }

    @Test func badLayoutsAndEncodingsNameTheirKey() {
        let cases: [(String, String)] = [
            (#""encoding": "utf-32""#, "encoding"),
            (#""dateFormat": "d-m-jj""#, "dateFormat"),
            (#""dateFormat": "dd-mm-jjjj", "yearPivot": 1950"#, "yearPivot"),
            (#""dateFormat": "dd-mm-jj", "yearPivot": "1950""#, "yearPivot"),
            (#""timeFormat": "HH:MM:SS:FF""#, "timeFormat"),
        ]
        for (top, key) in cases {
            let error = #expect(throws: Mapping.Failure.self, "\(top)") { try mapping(top) }
            #expect(error?.key == key, "\(top): \(error?.description ?? "")")
        }
    }

    @Test func theManifestIsAModeOfTheMapping() throws {
        let none = try mapping(#""manifest": {"mode": "none", "readyMarker": "KLAAR.txt"}"#)
        #expect(none.manifestMode == .none)
        #expect(none.manifest == "KLAAR.txt")
        let sha = try mapping(#""manifest": {"mode": "sha256", "file": "inhoud.json"}"#)
        #expect((sha.manifestMode, sha.manifest) == (.sha256, "inhoud.json"))
        let cases: [(String, String)] = [
            (#""manifest": {"mode": "md5"}"#, "manifest.mode"),
            (#""manifest": {"mode": "none"}"#, "manifest.readyMarker"),
            (#""manifest": {"mode": "none", "readyMarker": "../KLAAR"}"#, "manifest.readyMarker"),
            (#""manifest": {"mode": "none", "readyMarker": "k.csv"}"#, "manifest.readyMarker"),
            (#""manifest": {"mode": "none", "readyMarker": "KLAAR", "file": "m.json"}"#, "manifest.file"),
            (#""manifest": 3"#, "manifest"),
        ]
        for (top, key) in cases {
            let error = #expect(throws: Mapping.Failure.self, "\(top)") { try mapping(top) }
            #expect(error?.key == key, "\(top): \(error?.description ?? "")")
        }
    }

    @Test func aFieldIsAColumnTwoColumnsOrAConstant() throws {
        let entities = minimalEntities
            .replacingOccurrences(of: #""relation": {"file": "r.csv", "fields": {"childNumber": "K", "parentNumber": "O", "role": "R"}}"#,
                                  with: #""relation": {"file": "r.csv", "fields": {"childNumber": "K", "parentNumber": "O", "role": {"value": "Ouder1"}}}"#)
            .replacingOccurrences(of: #""startDate": "S"}"#, with: #""startDate": "S", "monday": {"from": "ma_van", "to": "ma_tot"}}"#)
        let read = try mapping(#""codes": {"role": {"Ouder1": "Ouder 1"}}"#, entities: entities)
        let role = EntityKind.relation.schema.index("role"), monday = EntityKind.placement.schema.index("monday")
        #expect(read.entities[.relation]?.parts[0].fields[role] == .constant("Ouder1"))
        #expect(read.entities[.placement]?.parts[0].fields[monday] == .range(from: "ma_van", to: "ma_tot"))
        #expect(read.entities[.placement]?.columns[monday] == "ma_van + ma_tot")
    }

    @Test func aConstantIsCheckedWhenTheMappingIsLoaded() {
        let badRole = minimalEntities.replacingOccurrences(of: #""role": "R""#, with: #""role": {"value": "Oma"}"#)
        let error = #expect(throws: Mapping.Failure.self) { try mapping(entities: badRole) }
        #expect(error?.key == "entities.relation.fields.role.value")
        let badDate = minimalEntities.replacingOccurrences(of: #""startDate": "S""#, with: #""startDate": {"value": "2025-13-01"}"#)
        #expect(throws: Mapping.Failure.self) { try mapping(entities: badDate) }
        let empty = minimalEntities.replacingOccurrences(of: #""role": "R""#, with: #""role": {"value": " "}"#)
        #expect(throws: Mapping.Failure.self) { try mapping(entities: empty) }
    }

    @Test func twoColumnsAreForCareHoursOnlyAndAFieldHasOneForm() {
        let notHours = minimalEntities.replacingOccurrences(of: #""startDate": "S""#, with: #""startDate": {"from": "a", "to": "b"}"#)
        let error = #expect(throws: Mapping.Failure.self) { try mapping(entities: notHours) }
        #expect(error?.key == "entities.placement.fields.startDate")
        let both = minimalEntities.replacingOccurrences(of: #""role": "R""#, with: #""role": {"value": "Ouder 1", "from": "x"}"#)
        #expect(throws: Mapping.Failure.self) { try mapping(entities: both) }
        let emptyColumn = minimalEntities.replacingOccurrences(of: #""startDate": "S""#, with: #""startDate": "S", "monday": {"from": "", "to": "b"}"#)
        #expect(throws: Mapping.Failure.self) { try mapping(entities: emptyColumn) }
        let sameColumn = minimalEntities.replacingOccurrences(of: #""startDate": "S""#, with: #""startDate": "S", "monday": {"from": "Ma", "to": "ma "}"#)
        let same = #expect(throws: Mapping.Failure.self) { try mapping(entities: sameColumn) }
        #expect(same?.key == "entities.placement.fields.monday")
    }

    @Test func anEntityMayReadSeveralRecordsFromOneRow() throws {
        let parts = minimalEntities.replacingOccurrences(
            of: #""relation": {"file": "r.csv", "fields": {"childNumber": "K", "parentNumber": "O", "role": "R"}}"#,
            with: #""relation": {"file": "k.csv", "parts": [{"fields": {"childNumber": "N", "parentNumber": "O1", "role": {"value": "Ouder 1"}}}, {"fields": {"childNumber": "N", "parentNumber": "O2", "role": {"value": "Ouder 2"}}, "onlyRowsWith": ["parentNumber"]}]}"#)
        let read = try mapping(entities: parts)
        let source = try #require(read.entities[.relation])
        #expect(source.parts.count == 2)
        #expect(source.parts[1].onlyRowsWith == [EntityKind.relation.schema.index("parentNumber")])
        #expect(read.fieldKeyPath(.relation, "parentNumber", part: 1) == #""entities" → "relation" → "parts" (deel 2) → "fields" → "parentNumber""#)

        let cases: [(String, String)] = [
            (#"{"file": "k.csv", "fields": {}, "parts": []}"#, "entities.relation.parts"),
            (#"{"file": "k.csv", "parts": []}"#, "entities.relation.parts"),
            (#"{"file": "k.csv", "parts": [{"fields": {"childNumber": "N", "parentNumber": "O1"}}]}"#, "entities.relation.parts[1].fields.role"),
            (#"{"file": "k.csv", "parts": [{"fields": {"childNumber": "N", "parentNumber": "O1", "role": "R"}, "when": "x"}]}"#, "entities.relation.parts[1].when"),
            (#"{"file": "k.csv", "fields": {"childNumber": "N", "parentNumber": "O1", "role": "R"}, "onlyRowsWith": ["shoeSize"]}"#, "entities.relation.onlyRowsWith"),
            (#"{"file": "k.csv", "fields": {"childNumber": "N", "parentNumber": "O1", "role": {"value": "Ouder 1"}}, "onlyRowsWith": "role"}"#, "entities.relation.onlyRowsWith"),
        ]
        for (relation, key) in cases {
            let entities = minimalEntities.replacingOccurrences(
                of: #""relation": {"file": "r.csv", "fields": {"childNumber": "K", "parentNumber": "O", "role": "R"}}"#, with: #""relation": "# + relation)
            let error = #expect(throws: Mapping.Failure.self, "\(relation)") { try mapping(entities: entities) }
            #expect(error?.key == key, "\(relation): \(error?.description ?? "")")
        }
    }

    @Test func genderIsACodeTable() throws {
        let read = try mapping(#""codes": {"gender": {"F": "V"}}"#)
        #expect(read.translate("F", in: .gender) == "V")
        #expect(read.translate("m", in: .gender) == "M")
        #expect(read.translate("Q", in: .gender) == nil)
        let wrong = #expect(throws: Mapping.Failure.self) { try mapping(#""codes": {"gender": {"F": "W"}}"#) }
        #expect(wrong?.key == "codes.gender.F")
        let shipped = try BuiltInMapping.flexkidsCSV.mapping()
        #expect(shipped.translate("Meisje", in: .gender) == "V")
    }
}

/// Rows through a mapping that uses the new forms, checked by the validator.
@Suite struct MappingFormatValidationTests {
    func state(_ files: [String: [String]], mapping json: String) throws -> DesiredState {
        var export = MiniExport()
        export.files = files
        let folder = try export.write(to: temporaryFolder("forms"))
        let mapping = try parseMapping(json, path: "/srv/mappings/ander-systeem.json")
        return try Validator(mapping: mapping).validate(CSVExportSource(directory: folder.path, mapping: mapping), expectedRows: [:])
    }

    static let files: [String: [String]] = [
        "l.csv": ["C;N", "L1;Locatie"],
        "g.csv": ["C;L;N;T", "G1;L1;Groep;KDV"],
        "k.csv": ["N;F;L;B;S;O1;O2", "K1;Zoë;Dijk;3-2-24;F;O1;O2", "K2;Daan;Smit;15-6-19;M;O3;", "K3;Noa;Bos;1-1-23;Q;O1;"],
        "o.csv": ["N;L", "O1;Dijk", "O2;Dijk", "O3;Smit"],
        "p.csv": ["N;K;G;T;C;S;ma_van;ma_tot;di_van;di_tot",
                  "P1;K1;G1;KDV;52 weken;1-9-25;07:30:00;18:00:00;;",
                  "P2;K2;G1;KDV;52 weken;1-9-25;08:00:00;;;",
                  "P3;K3;G1;KDV;52 weken;1-9-25;;;08:00:30;12:00:00"],
    ]

    static let mapping = """
        {"dateFormat": "d-m-jj", "yearPivot": 1970, "timeFormat": "HH:MM:SS", "codes": {"gender": {"F": "V"}},
         "entities": {
          "location": {"file": "l.csv", "fields": {"code": "C", "name": "N"}},
          "group": {"file": "g.csv", "fields": {"code": "C", "locationCode": "L", "name": "N", "careType": "T"}},
          "child": {"file": "k.csv", "fields": {"number": "N", "firstName": "F", "lastName": "L", "birthDate": "B", "gender": "S"}},
          "parent": {"file": "o.csv", "fields": {"number": "N", "lastName": "L"}},
          "relation": {"file": "k.csv", "parts": [
            {"fields": {"childNumber": "N", "parentNumber": "O1", "role": {"value": "Ouder 1"}}},
            {"fields": {"childNumber": "N", "parentNumber": "O2", "role": {"value": "Ouder 2"}}, "onlyRowsWith": ["parentNumber"]}]},
          "placement": {"file": "p.csv", "fields": {"number": "N", "childNumber": "K", "groupCode": "G", "careType": "T",
            "contractType": "C", "startDate": "S", "monday": {"from": "ma_van", "to": "ma_tot"}, "tuesday": {"from": "di_van", "to": "di_tot"}}}
         }}
        """

    @Test func rowsReadThroughTheNewFormsBecomeTheSameCanonicalRecords() throws {
        let state = try state(Self.files, mapping: Self.mapping)
        let c = EntityKind.child.schema, p = EntityKind.placement.schema
        let zoe = try #require(state.records(of: .child).first { $0.key == "K1" })
        #expect(zoe.values[c.index("birthDate")] == "2024-02-03")
        #expect(zoe.values[c.index("gender")] == "V")
        // One row, two parents; an empty second parent is no relation and no rejection.
        #expect(state.records(of: .relation).map(\.key).sorted() == ["K1/O1", "K1/O2", "K2/O3"])
        #expect(state.records(of: .relation).first { $0.key == "K1/O2" }?.values[EntityKind.relation.schema.index("role")] == "Ouder 2")
        let first = try #require(state.records(of: .placement).first { $0.key == "P1" })
        #expect(first.values[p.index("monday")] == "07:30-18:00")
        #expect(first.values[p.index("tuesday")] == nil)
    }

    @Test func badValuesInTheNewFormsAreRejectedWithTheirColumn() throws {
        let state = try state(Self.files, mapping: Self.mapping)
        // K3's gender Q is unknown: the child is rejected, its personal value never shown.
        let gender = try #require(state.issues.first { $0.code == "unknown-code" })
        #expect((gender.file, gender.line, gender.column, gender.field) == ("k.csv", 4, 5, "S"))
        #expect(!gender.message.contains("\"Q\""), "\(gender.message)")
        #expect(gender.message.contains(#""codes" → "gender""#) && gender.message.contains("/srv/mappings/ander-systeem.json"))
        // P2 has a start time but no end time; P3 has seconds that are not 00.
        let half = try #require(state.issues.first { $0.code == "unparseable-time" && $0.key == "P2" })
        #expect(half.message.contains("alleen een begintijd"), "\(half.message)")
        #expect((half.line, half.column, half.field) == (3, 7, "ma_van + ma_tot"))
        let seconds = try #require(state.issues.first { $0.code == "unparseable-time" && $0.key == "P3" })
        #expect(seconds.message.contains("seconden 00"), "\(seconds.message)")
        #expect(state.records(of: .placement).map(\.key) == ["P1"])
    }

    @Test func aColumnOfAPairMissingFromTheHeaderStopsTheFileAndNamesBoth() throws {
        var files = Self.files
        files["p.csv"] = ["N;K;G;T;C;S;ma_van", "P1;K1;G1;KDV;52 weken;1-9-25;07:30:00"]
        let error = #expect(throws: ExportFailure.self) { try state(files, mapping: Self.mapping) }
        #expect(error?.issue.code == "missing-column")
        #expect(error?.issue.field == "ma_tot")
        #expect(error?.issue.message.contains(#""entities" → "placement" → "fields" → "monday""#) == true, "\(error?.issue.message ?? "")")
    }
}

/// The time of an export without a manifest, from its ready marker.
@Suite struct ReadyMarkerTimeTests {
    @Test func aMarkerTimeWithoutAZoneIsAmsterdamTime() throws {
        #expect(ReadyMarker.timestamp("2026-11-21T23:40:00") == ReadyMarker.timestamp("2026-11-21T22:40:00Z"))
        #expect(ReadyMarker.timestamp("2026-07-01 12:00:00") == ReadyMarker.timestamp("2026-07-01T10:00:00Z"))
        #expect(ReadyMarker.timestamp("2026-07-01T12:00:00.250+02:00") != nil)
        for text in ["21-11-2026 23:40", "2026-11-21", "2026-11-21T25:00:00", "2026-11-21T23:40:00 extra", "", String(repeating: "9", count: 100)] {
            #expect(ReadyMarker.timestamp(text) == nil, "\(text)")
        }
    }
}

/// docs/mapping.md stays true: its worked examples are mappings that load.
@Suite struct MappingReferenceTests {
    @Test func theWorkedExamplesOfTheReferenceAreValidMappings() throws {
        let text = try String(contentsOf: Package.root.appendingPathComponent("docs/mapping.md"), encoding: .utf8)
        let blocks = text.components(separatedBy: "<!-- mapping example -->\n```json\n").dropFirst().map { $0.components(separatedBy: "\n```")[0] }
        #expect(blocks.count == 2)
        for block in blocks {
            let mapping = try parseMapping(block, path: "docs/mapping.md")
            #expect(mapping.entities.count >= 6)
        }
        let first = try parseMapping(blocks[0])
        #expect((first.encoding, first.delimiter, first.manifestMode) == (.utf16, 0x09, .none))
        #expect(first.translate("F", in: .gender) == "V")
        let second = try parseMapping(blocks[1])
        #expect(second.entities[.relation]?.parts.count == 2)
        #expect(second.datePattern.parse("28/02/98") == Day(year: 1998, month: 2, day: 28))
        #expect(second.timePattern.parseRange("08.30-12.30")?.description == "08:30-12:30")
        #expect(second.translate("M", in: .gender) == "V" && second.translate("J", in: .gender) == "M")
    }

    @Test func everyCodeTableAndCanonicalCodeIsDocumented() throws {
        let text = try String(contentsOf: Package.root.appendingPathComponent("docs/mapping.md"), encoding: .utf8)
        for table in CodeTable.allCases {
            let row = try #require(text.split(separator: "\n").first { $0.hasPrefix("| `\(table.rawValue)` |") }, "\(table.rawValue)")
            for code in table.values { #expect(row.contains("`\(code)`"), "\(table.rawValue): \(code)") }
        }
        for value in TextEncoding.mappingValues { #expect(text.contains("| `\(value)` |"), "encoding \(value)") }
        for kind in EntityKind.allCases {
            let row = try #require(text.split(separator: "\n").first { $0.hasPrefix("| `\(kind.rawValue)` |") }, "\(kind.rawValue)")
            for field in kind.schema.fields { #expect(row.contains("`\(field.name)`"), "\(kind.rawValue).\(field.name)") }
        }
    }
}
