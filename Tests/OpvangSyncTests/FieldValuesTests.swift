import Foundation
import PortalStore
import TestSupport
import Testing
@testable import OpvangSync

/// A record's values kept in one buffer (`FieldValues`) read back exactly as the array of optional strings they
/// replace: every value, absent or empty, whatever its length or script, and from the portal's bytes as
/// `String(decoding:as:)` reads them.
@Suite struct FieldValuesTests {
    @Test func everyValueReadsBackAsItWasGiven() {
        let samples: [[String?]] = [
            [],
            [nil],
            [""],
            ["", nil, ""],
            [nil, nil, nil],
            ["K0012", nil, "Jansen", "", "2024-03-01", "08:30-12:30"],
            ["Zoë", "d\u{2019}Hondt", "Ĳsselmeer", "日本", "👩‍👧", "\u{FFFE}\u{FFFF}", "a\u{0}b", "\r\n"],
            [String](repeating: "x", count: 255).map { $0 },
        ]
        for values in samples {
            let stored = FieldValues(values)
            #expect(stored.count == values.count)
            #expect(Array(stored) == values)
            for index in values.indices {
                #expect(stored[index] == values[index])
                #expect(stored.isAbsent(index) == (values[index] == nil))
                stored.withUTF8(index) { bytes in #expect(bytes.map(Array.init) == values[index].map { Array($0.utf8) }) }
            }
        }
    }

    /// Where each value ends is kept in 1, 2 or 4 bytes, after the length of all the texts: every value reads
    /// back on both sides of each step, wherever the long one stands.
    @Test func valuesReadBackAcrossEveryWidthOfTheirEnds() {
        for total in [254, 255, 256, 257, 65_534, 65_535, 65_536, 65_537, 200_000] {
            for position in 0..<3 {
                var values: [String?] = ["a", nil, "bc"]
                let fixed = values.reduce(0) { $0 + ($1?.utf8.count ?? 1) }
                values.insert(String(repeating: "z", count: total - fixed), at: position)
                let stored = FieldValues(values)
                #expect(Array(stored) == values, "total \(total), long value at \(position)")
            }
        }
    }

    /// The bytes of two records are the same only when every byte of every value is: their length is read from
    /// their own layout, at each width of the ends, up to the last byte of the last value.
    @Test func twoRecordsHaveTheSameBytesOnlyWhenEveryByteIs() {
        for total in [10, 300, 70_000] {
            let long = String(repeating: "z", count: total)
            let values: [String?] = ["K1", nil, long, "Jansen"]
            #expect(FieldValues(values).hasSameBytes(as: FieldValues(values)), "total \(total)")
            for changed in [["K2", nil, long, "Jansen"], ["K1", "", long, "Jansen"], ["K1", nil, long, "Jansem"],
                            ["K1", nil, long + "z", "Jansen"], ["K1", nil, long, "Jansen", nil]] as [[String?]] {
                #expect(!FieldValues(values).hasSameBytes(as: FieldValues(changed)), "total \(total): \(changed.map { $0?.prefix(8) })")
                #expect(FieldValues(values) != FieldValues(changed))
            }
        }
        #expect(FieldValues().hasSameBytes(as: FieldValues()))
        #expect(!FieldValues().hasSameBytes(as: FieldValues([])))
    }

    @Test func anAbsentValueIsNotAnEmptyOne() {
        #expect(FieldValues([nil]) != FieldValues([""]))
        #expect(FieldValues(["", nil]) != FieldValues([nil, ""]))
        #expect(FieldValues(["a", nil]) != FieldValues(["a"]))
        #expect(FieldValues([]) == FieldValues())
        #expect(FieldValues([]).isEmpty)
    }

    /// Equal as the array of strings was: canonically equivalent texts are equal, with equal hashes.
    @Test func valuesAreEqualAsTheirStringsAre() {
        let composed = FieldValues(["K1", "Zo\u{EB}"])
        let decomposed = FieldValues(["K1", "Zoe\u{308}"])
        #expect(["K1", "Zo\u{EB}"] as [String?] == ["K1", "Zoe\u{308}"] as [String?])
        #expect(composed == decomposed)
        #expect(composed.hashValue == decomposed.hashValue)
        #expect(Set([composed, decomposed]).count == 1)
        #expect(FieldValues(["K1", "Zoe"]) != composed)
        #expect(FieldValues(["K1", "Zoë", nil]) != FieldValues(["K1", "Zoë", "x"]))
    }

    @Test func changingOneValueKeepsTheOthers() {
        var values = FieldValues(["K1", nil, "Jansen", "2024-03-01"])
        values[1] = "Anna"
        #expect(values == ["K1", "Anna", "Jansen", "2024-03-01"])
        values[2] = nil
        values[3] = String(repeating: "x", count: 300)
        #expect(Array(values) == ["K1", "Anna", nil, String(repeating: "x", count: 300)])
        values[3] = ""
        #expect(Array(values) == ["K1", "Anna", nil, ""])
    }

    /// Bytes from the portal's columns are read as `String(decoding:as:)` reads them: a broken sequence is
    /// U+FFFD, and a lone 0xFE (the mark of an absent value inside the buffer) is a text, never "absent".
    /// `FieldValues(count:bytes:)` over columns given as byte arrays, all in one buffer for the call.
    func fromColumns(_ columns: [[UInt8]?]) -> FieldValues {
        let flat = columns.flatMap { $0 ?? [] }
        var ranges: [Range<Int>?] = []
        var start = 0
        for column in columns {
            ranges.append(column.map { start..<(start + $0.count) })
            start += column?.count ?? 0
        }
        return flat.withUnsafeBufferPointer { bytes in
            FieldValues(count: columns.count) { index in ranges[index].map { UnsafeBufferPointer(rebasing: bytes[$0]) } }
        }
    }

    /// The portal's columns are nearly always ASCII: taken as they are, laid out as from the strings, at every
    /// width of the ends, with absent and empty values.
    @Test func asciiColumnsAreLaidOutAsTheirStringsAre() {
        for long in [0, 250, 300, 70_000] {
            let values: [String?] = ["K1", nil, "", String(repeating: "x", count: long), nil, "2024-03-01", ""]
            let stored = fromColumns(values.map { $0.map { Array($0.utf8) } })
            #expect(Array(stored) == values, "a value of \(long) bytes")
            #expect(stored.hasSameBytes(as: FieldValues(values)), "a value of \(long) bytes")
        }
        #expect(fromColumns([]).isEmpty)
    }

    @Test func bytesThatAreNotUTF8ReadAsTheirRepairedText() {
        let columns: [[UInt8]?] = [Array("K1".utf8), [0xFE], nil, [0x41, 0xFF, 0x42], [0xC3], [], Array("Zoë".utf8), [0xFE, 0xFE]]
        let stored = fromColumns(columns)
        let expected = columns.map { $0.map { String(decoding: $0, as: UTF8.self) } }
        #expect(Array(stored) == expected)
        #expect(stored[1] == "\u{FFFD}")
        #expect(!stored.isAbsent(1))
        #expect(stored.isAbsent(2))
    }

    /// The same, through the portal: what a column holds, however it got there, loads as its repaired text.
    @Test func aRecordLoadedFromThePortalReadsAsItsColumns() throws {
        let folder = temporaryFolder("field-values")
        defer { try? FileManager.default.removeItem(at: folder) }
        let repository = try PortalRepository(path: folder.appendingPathComponent("portal.sqlite").path)
        try repository.database.run("""
            INSERT INTO children (key, status, status_since, created_run, updated_run, number, first_name, infix, last_name, birth_date, gender, mentor)
            VALUES ('K1', 'active', '2026-11-01', 'R1', 'R1', 'K1', CAST(x'FE' AS TEXT), NULL, CAST(x'4AC3A96E' AS TEXT), '2024-03-01', '', 12)
            """)
        let loaded = try repository.load(.child)
        let values = try #require(loaded["K1"]).values
        let schema = EntityKind.child.schema
        #expect(values.count == schema.fields.count)
        #expect(values[schema.index("firstName")] == "\u{FFFD}")
        #expect(values[schema.index("infix")] == nil)
        #expect(values[schema.index("lastName")] == "Jén")
        #expect(values[schema.index("gender")] == "")
        #expect(values[schema.index("mentor")] == "12")
    }
}
