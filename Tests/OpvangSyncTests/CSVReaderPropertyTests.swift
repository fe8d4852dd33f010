import Foundation
import Testing
@testable import OpvangSync

/// A failing case is reproduced by its seed.
typealias SeededGenerator = SeededRandom

/// The CSV reader against what it must give by construction: fields are generated, written as RFC 4180
/// CSV (in UTF-8, and in Windows-1252 when every character has a byte there), read back, and compared
/// field by field, with the line each record starts on.
@Suite struct CSVReaderPropertyTests {
    /// Pieces fields are made of: delimiters, quotes, line breaks, padding, Latin, Windows-1252 and
    /// non-Latin characters, invisible ones.
    static let latin: [String] = ["a", "Z", "7", " ", "\t", ";", ",", "\"", "\"\"", "\r", "\n", "\r\n", "ë", "é", "€", "“", "”",
                                  "Š", "£", "½", "°", "–", "’", "ß", "\u{A0}"]
    static let wide: [String] = ["Ж", "中", "ç", "İ", "😀", "👨‍👩‍👧", "\u{200B}", "\u{FEFF}", "\u{3000}", "e\u{301}"]

    static func field(_ random: inout SeededGenerator, latinOnly: Bool) -> String {
        let pieces = latinOnly ? latin : latin + wide
        return (0..<Int.random(in: 0...6, using: &random)).map { _ in pieces.randomElement(using: &random)! }.joined()
    }

    /// RFC 4180: a field with a delimiter, quote, line break or padding is quoted, quotes doubled.
    static func encode(_ rows: [[String]], delimiter: Character, lineEnd: String) -> String {
        rows.map { row in
            row.map { field in
                let needsQuotes = field.contains(delimiter) || field.contains("\"") || field.unicodeScalars.contains { $0 == "\r" || $0 == "\n" }
                return needsQuotes ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
            }.joined(separator: String(delimiter))
        }.joined(separator: lineEnd) + lineEnd
    }

    /// Reference trimming: White_Space and format characters (Cf) at either end.
    static func trimmed(_ text: String) -> String {
        var scalars = Array(text.unicodeScalars)
        func trim(_ s: Unicode.Scalar) -> Bool { s.properties.isWhitespace || s.properties.generalCategory == .format }
        while let first = scalars.first, trim(first) { scalars.removeFirst() }
        while let last = scalars.last, trim(last) { scalars.removeLast() }
        return String(String.UnicodeScalarView(scalars))
    }

    /// Windows-1252 bytes of `text`, or nil when a character has none.
    static func windows1252(_ text: String) -> [UInt8]? {
        let high: [Unicode.Scalar: UInt8] = ["€": 0x80, "“": 0x93, "”": 0x94, "Š": 0x8A, "–": 0x96, "’": 0x92]
        var bytes: [UInt8] = []
        for scalar in text.unicodeScalars {
            if scalar.value < 0x80 || (0xA0...0xFF).contains(scalar.value) { bytes.append(UInt8(scalar.value)) }
            else if let byte = high[scalar] { bytes.append(byte) }
            else { return nil }
        }
        return bytes
    }

    func read(_ bytes: [UInt8], delimiter: Character) throws -> [(line: Int, raw: [String], trimmed: [String])] {
        var result: [(Int, [String], [String])] = []
        try CSVReader.read(bytes, delimiter: UInt8(ascii: delimiter.unicodeScalars.first!), file: "p.csv") { record in
            result.append((record.line, (0..<record.count).map { record.rawField($0) }, (0..<record.count).map { record.field($0) }))
        }
        return result
    }

    @Test(arguments: 0..<400 as Range<UInt64>)
    func generatedFieldsWrittenAsCSVReadBackTheSame(_ seed: UInt64) throws {
        var random = SeededGenerator(seed: seed)
        let latinOnly = seed % 2 == 0
        // Tab-delimited files are what Excel writes as "Unicode text".
        let delimiter: Character = seed % 7 == 0 ? "\t" : seed % 3 == 0 ? "," : ";"
        let lineEnd = seed % 5 == 0 ? "\n" : "\r\n"
        let width = Int.random(in: 2...6, using: &random)
        let generated = (0..<Int.random(in: 1...12, using: &random)).map { _ in
            (0..<width).map { _ in Self.field(&random, latinOnly: latinOnly) }
        }
        // A record of empty fields only would be a blank line when the width is 1; the width is ≥ 2.
        let text = Self.encode(generated, delimiter: delimiter, lineEnd: lineEnd)
        // Line of each record: 1 + the line feeds written before it.
        var lines: [Int] = []
        var line = 1
        for row in generated {
            lines.append(line)
            line += 1 + row.reduce(0) { $0 + $1.unicodeScalars.filter { $0 == "\n" }.count }
        }

        let decoded = try TextDecoder.decode(Array(text.utf8), as: .auto)
        let records = try read(decoded.bytes, delimiter: delimiter)
        var rows = generated
        if text.unicodeScalars.first == "\u{FEFF}" {
            // At the very start of a file, U+FEFF is the byte order mark, not text.
            rows[0][0] = String(String.UnicodeScalarView(rows[0][0].unicodeScalars.dropFirst()))
        }
        #expect(records.count == rows.count, "seed \(seed)")
        for (index, record) in records.enumerated() where index < rows.count {
            #expect(record.raw == rows[index], "seed \(seed) row \(index)")
            #expect(record.trimmed == rows[index].map(Self.trimmed), "seed \(seed) row \(index)")
            #expect(record.line == lines[index], "seed \(seed) row \(index)")
        }

        // The same text in Windows-1252, when it has no byte pair that could pass for UTF-8.
        guard latinOnly, let bytes = Self.windows1252(text),
              !zip(bytes, bytes.dropFirst()).contains(where: { (0xC2...0xF4).contains($0) && (0x80...0xBF).contains($1) }) else { return }
        let fromWindows = try TextDecoder.decode(bytes, as: .auto)
        #expect(fromWindows.encoding == (bytes.allSatisfy { $0 < 0x80 } ? .utf8 : .windows1252), "seed \(seed)")
        let again = try read(fromWindows.bytes, delimiter: delimiter)
        #expect(again.map(\.raw) == records.map(\.raw), "seed \(seed): Windows-1252 reads as UTF-8 does")
    }

    /// A field's bytes, where the reader gives them, are its text byte for byte; and what is found on them (a
    /// row left out by a selection: whether it is selected, its key, its citizen service numbers) is what its
    /// text gives.
    @Test(arguments: 0..<200 as Range<UInt64>)
    func aFieldsBytesAreItsText(_ seed: UInt64) throws {
        var random = SeededGenerator(seed: seed)
        let pieces = Self.latin + Self.wide + ["K", "\u{212A}", "123", "456", "782", ".", "0"]
        let generated = (0..<Int.random(in: 1...12, using: &random)).map { _ in
            (0..<4).map { _ in (0..<Int.random(in: 0...6, using: &random)).map { _ in pieces.randomElement(using: &random)! }.joined() }
        }
        let text = Self.encode(generated, delimiter: ";", lineEnd: "\n")
        var fields: [(text: String, bytes: [UInt8]?)] = []
        try CSVReader.read(Array(text.utf8), delimiter: UInt8(ascii: ";"), file: "p.csv") { record in
            for index in 0...record.count { fields.append((record.field(index), record.fieldBytes(index).map(Array.init))) }
        }
        for (text, bytes) in fields {
            guard let bytes else {
                // Only a field with quotes to collapse has no bytes of its own.
                #expect(text.contains("\""), "seed \(seed): \(text.debugDescription)")
                continue
            }
            #expect(bytes == Array(text.utf8), "seed \(seed): \(text.debugDescription)")
            #expect(BSN.keyEvidence(utf8: bytes) == BSN.keyEvidence(text), "seed \(seed): \(text.debugDescription)")
            for (other, _) in fields {
                let selection = RowSelection(field: 0, values: [other])
                let excluded = bytes.withUnsafeBufferPointer { selection.excludes($0) }
                // Never a selected text left out; an ASCII text that is not selected left out without its text.
                if text == other { #expect(!excluded, "seed \(seed): \(text.debugDescription)") }
                if text != other, bytes.allSatisfy({ $0 < 0x80 }), other.utf8.allSatisfy({ $0 < 0x80 }) {
                    #expect(excluded, "seed \(seed): \(text.debugDescription) vs \(other.debugDescription)")
                }
            }
        }
    }
}
