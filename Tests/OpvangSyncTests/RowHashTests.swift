import Foundation
import Testing
@testable import OpvangSync

/// An incremental run hashes a CSV row from its bytes before any of its text is made; the hash must be the
/// one its cells give, which is the one the portal stored (else every row would be read as changed, or,
/// worse, two different rows could pass for the same).
@Suite struct RowHashTests {
    @Test func aRowHashedFromItsBytesHasTheHashOfItsCells() throws {
        var random = SeededGenerator(seed: 20261124)
        for _ in 0..<300 {
            let rows = (0..<3).map { _ in (0..<5).map { _ in CSVReaderPropertyTests.field(&random, latinOnly: false) } }
            let text = CSVReaderPropertyTests.encode(rows, delimiter: ";", lineEnd: "\r\n")
            // Every kind of slot: a column, two columns joined as hours, a constant, a field the export lacks.
            let part: [CSVExportSource.Slot] = [.column(0), .column(1), .range(2, 3), .constant("Ouder 1"), .absent, .column(4)]
            try CSVReader.read(Array(text.utf8), delimiter: UInt8(ascii: ";"), file: "t.csv") { record in
                guard record.count == 5 else { return }
                #expect(CSVExportSource.Slot.hash(part, record) == RowHash.of(part.map { $0.cell(record) }),
                        "line \(record.line): \(rows)")
            }
        }
    }

    @Test func absentEmptyAndMovedTextAreDifferentRows() {
        func hash(_ cells: [(String, Bool)]) -> UInt64 {
            RowHash.of(cells.map { RawCell(text: $0.0, line: 1, column: 1, present: $0.1) })
        }
        #expect(hash([("", true), ("a", true)]) != hash([("", false), ("a", true)]))
        #expect(hash([("ab", true), ("", true)]) != hash([("a", true), ("b", true)]))
        #expect(hash([("a", true)]) & 1 == 0)
    }
}
