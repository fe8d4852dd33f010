import Foundation
import Testing
@testable import OpvangSync

/// An incremental run hashes a CSV row from its bytes before any of its text is made; the hash must be the
/// one its cells give, which is the one the portal stored (else every row would be read as changed, or,
/// worse, two different rows could pass for the same).
@Suite struct RowHashTests {
    @Test func aRowHashedFromItsBytesHasTheHashOfItsCells() throws {
        var random = SeededGenerator(seed: 20261124)
        let key = RowHash.Key.random()
        for _ in 0..<300 {
            let rows = (0..<3).map { _ in (0..<5).map { _ in CSVReaderPropertyTests.field(&random, latinOnly: false) } }
            let text = CSVReaderPropertyTests.encode(rows, delimiter: ";", lineEnd: "\r\n")
            // Every kind of slot: a column, two columns joined as hours, a constant, a field the export lacks.
            let part: [CSVExportSource.Slot] = [.column(0), .column(1), .range(2, 3), .constant("Ouder 1"), .absent, .column(4)]
            try CSVReader.read(Array(text.utf8), delimiter: UInt8(ascii: ";"), file: "t.csv") { record in
                guard record.count == 5 else { return }
                #expect(CSVExportSource.Slot.hash(part, record, key: key) == RowHash.of(part.map { $0.cell(record) }, key: key),
                        "line \(record.line): \(rows)")
            }
        }
    }

    @Test func absentEmptyAndMovedTextAreDifferentRows() {
        let key = RowHash.Key.random()
        func hash(_ cells: [(String, Bool)]) -> UInt64 {
            RowHash.of(cells.map { RawCell(text: $0.0, line: 1, column: 1, present: $0.1) }, key: key)
        }
        #expect(hash([("", true), ("a", true)]) != hash([("", false), ("a", true)]))
        #expect(hash([("ab", true), ("", true)]) != hash([("a", true), ("b", true)]))
        #expect(hash([("a", true)]) & 1 == 0)
    }

    /// SipHash-2-4 as its authors give it: key 00 01 … 0f, messages 00 01 … of every length from 0 to 63.
    @Test func theHashIsSipHash24() {
        let vectors: [UInt64] = [
            0x726fdb47dd0e0e31, 0x74f839c593dc67fd, 0x0d6c8009d9a94f5a, 0x85676696d7fb7e2d, 0xcf2794e0277187b7, 0x18765564cd99a68d,
            0xcbc9466e58fee3ce, 0xab0200f58b01d137, 0x93f5f5799a932462, 0x9e0082df0ba9e4b0, 0x7a5dbbc594ddb9f3, 0xf4b32f46226bada7,
            0x751e8fbc860ee5fb, 0x14ea5627c0843d90, 0xf723ca908e7af2ee, 0xa129ca6149be45e5, 0x3f2acc7f57c29bdb, 0x699ae9f52cbe4794,
            0x4bc1b3f0968dd39c, 0xbb6dc91da77961bd, 0xbed65cf21aa2ee98, 0xd0f2cbb02e3b67c7, 0x93536795e3a33e88, 0xa80c038ccd5ccec8,
            0xb8ad50c6f649af94, 0xbce192de8a85b8ea, 0x17d835b85bbb15f3, 0x2f2e6163076bcfad, 0xde4daaaca71dc9a5, 0xa6a2506687956571,
            0xad87a3535c49ef28, 0x32d892fad841c342, 0x7127512f72f27cce, 0xa7f32346f95978e3, 0x12e0b01abb051238, 0x15e034d40fa197ae,
            0x314dffbe0815a3b4, 0x027990f029623981, 0xcadcd4e59ef40c4d, 0x9abfd8766a33735c, 0x0e3ea96b5304a7d0, 0xad0c42d6fc585992,
            0x187306c89bc215a9, 0xd4a60abcf3792b95, 0xf935451de4f21df2, 0xa9538f0419755787, 0xdb9acddff56ca510, 0xd06c98cd5c0975eb,
            0xe612a3cb9ecba951, 0xc766e62cfcadaf96, 0xee64435a9752fe72, 0xa192d576b245165a, 0x0a8787bf8ecb74b2, 0x81b3e73d20b49b6f,
            0x7fa8220ba3b2ecea, 0x245731c13ca42499, 0xb78dbfaf3a8d83bd, 0xea1ad565322a1a0b, 0x60e61c23a3795013, 0x6606d7e446282b93,
            0x6ca4ecb15c5f91e1, 0x9f626da15c9625f3, 0xe51b38608ef25f57, 0x958a324ceb064572,
        ]
        let key = RowHash.Key(hex: "000102030405060708090a0b0c0d0e0f")!
        #expect(key == RowHash.Key(k0: 0x0706050403020100, k1: 0x0f0e0d0c0b0a0908))
        for (length, expected) in vectors.enumerated() {
            var hash = RowHash.Builder(key: key)
            for byte in 0..<UInt8(length) { hash.mix(byte) }
            #expect(hash.digest == expected, "\(length) bytes")
        }
    }

    /// The portal's key is what the hashes depend on: another key gives other hashes, so that no one who
    /// lacks it can make a changed row hash as the row the portal applied.
    @Test func theSameRowHashesAlikeUnderOneKeyAndOtherwiseUnderAnother() {
        let cells = ["K1", "Zoë", "van", "Dijk", "2024-02-03"].map { RawCell(text: $0, line: 2, column: 1, present: true) }
        let key = RowHash.Key.random(), other = RowHash.Key.random()
        #expect(key != other)
        #expect(RowHash.of(cells, key: key) == RowHash.of(cells, key: key))
        #expect(RowHash.of(cells, key: key) != RowHash.of(cells, key: other))
    }

    @Test func aKeyIsStoredAsThirtyTwoHexadecimalDigits() {
        let key = RowHash.Key.random()
        #expect(key.hex.count == 32 && key.hex.allSatisfy(\.isHexDigit))
        #expect(RowHash.Key(hex: key.hex) == key)
        #expect(RowHash.Key(hex: "000102030405060708090A0B0C0D0E0F") == RowHash.Key(hex: "000102030405060708090a0b0c0d0e0f"))
        for broken in ["", "00", String(repeating: "0", count: 31), String(repeating: "0", count: 33), String(repeating: "g", count: 32),
                       "+0" + String(repeating: "0", count: 30), "0x" + String(repeating: "0", count: 30), String(repeating: "é", count: 16)] {
            #expect(RowHash.Key(hex: broken) == nil, "\(broken)")
        }
    }
}

