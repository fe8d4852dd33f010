import Testing
@testable import OpvangSync

func records(_ text: String, delimiter: Character = ";") throws -> [(line: Int, fields: [String])] {
    var result: [(Int, [String])] = []
    try CSVReader.read(Array(text.utf8), delimiter: UInt8(ascii: delimiter.unicodeScalars.first!), file: "t.csv") { record in
        result.append((record.line, (0..<record.count).map { record.field($0) }))
    }
    return result
}

@Suite struct CSVReaderTests {
    @Test func quotedFieldsHoldDelimitersQuotesAndLineBreaks() throws {
        let rows = try records("a;b;c\r\n1;\"x;y\";\"he said \"\"hi\"\"\"\r\n2;\"two\r\nlines\";z\r\n")
        #expect(rows.count == 3)
        #expect(rows[1].fields == ["1", "x;y", "he said \"hi\""])
        #expect(rows[2].fields == ["2", "two\r\nlines", "z"])
        #expect(rows[2].line == 3)
    }

    @Test func lineNumbersCountPhysicalLinesAfterMultilineFields() throws {
        let rows = try records("h\n\"a\nb\nc\"\nnext\n")
        #expect(rows.map(\.line) == [1, 2, 5])
    }

    @Test func crlfAndLfGiveTheSameRecords() throws {
        let lf = try records("a;b\n1;2\n3;4\n")
        let crlf = try records("a;b\r\n1;2\r\n3;4\r\n")
        #expect(lf.map(\.fields) == crlf.map(\.fields))
        #expect(lf.map(\.line) == crlf.map(\.line))
    }

    @Test func commaDelimiterAndMissingFinalLineEnd() throws {
        let rows = try records("a,b\n1,\"2,5\"", delimiter: ",")
        #expect(rows[1].fields == ["1", "2,5"])
    }

    @Test func blankLinesAreSkippedAndFieldsTrimmed() throws {
        let rows = try records("a;b\n\n  1 ; 2  \n\r\n")
        #expect(rows.map(\.fields) == [["a", "b"], ["1", "2"]])
    }

    @Test func emptyFieldsArePreserved() throws {
        let rows = try records("a;b;c\n;;\n")
        #expect(rows[1].fields == ["", "", ""])
    }

    @Test func anUnclosedQuoteIsAStructuralErrorAtItsLineAndField() throws {
        let error = #expect(throws: ExportFailure.self) { try records("a;b\n1;2\n3;\"oops\n4;5\n") }
        #expect(error?.issue.code == "unbalanced-quote")
        #expect(error?.issue.line == 3)
        #expect(error?.issue.column == 2)
        #expect(error?.issue.file == "t.csv")
    }

    @Test func tabDelimitedFilesWithQuotedFieldsAreRead() throws {
        // What Excel writes as "Unicode text": every field may be quoted, the delimiter is a tab.
        let rows = try records("\"a\"\t\"b c\"\t\"d\"\r\n\"1\"\t\"x\ty\"\t\r\n\"2\"  \t\"\"\t\"z\"\r\n", delimiter: "\t")
        #expect(rows.map(\.fields) == [["a", "b c", "d"], ["1", "x\ty", ""], ["2", "", "z"]])
        // A tab after a closing quote is the delimiter, never padding: the next field keeps its place.
        #expect(try records("\"a\"\t\tb\n", delimiter: "\t").map(\.fields) == [["a", "", "b"]])
    }

    @Test func textAfterAClosingQuoteIsAStructuralError() throws {
        let error = #expect(throws: ExportFailure.self) { try records("a;b\n\"x\"y;2\n") }
        #expect(error?.issue.code == "text-after-quote")
        #expect(error?.issue.line == 2)
    }
}

@Suite struct TextEncodingTests {
    @Test func validUTF8IsReadAsUTF8AndTheBOMIsDropped() throws {
        let decoded = try TextDecoder.decode([0xEF, 0xBB, 0xBF] + Array("Zoë".utf8), as: .auto)
        #expect(decoded.encoding == .utf8)
        #expect(String(decoding: decoded.bytes, as: UTF8.self) == "Zoë")
    }

    @Test func invalidUTF8IsReadAsWindows1252() throws {
        // "Zoë €5 “x”" in Windows-1252.
        let decoded = try TextDecoder.decode([0x5A, 0x6F, 0xEB, 0x20, 0x80, 0x35, 0x20, 0x93, 0x78, 0x94], as: .auto)
        #expect(decoded.encoding == .windows1252)
        #expect(String(decoding: decoded.bytes, as: UTF8.self) == "Zoë €5 “x”")
    }

    @Test func aMappingThatRequiresUTF8RejectsOtherBytesWithPosition() {
        let error = #expect(throws: EncodingFailure.self) {
            try TextDecoder.decode(Array("a;b\nok;".utf8) + [0xE9], as: .utf8)
        }
        #expect(error?.line == 2)
        #expect(error?.column == 4)
    }

    @Test func overlongAndSurrogateSequencesAreNotUTF8() {
        #expect(TextDecoder.firstInvalidUTF8([0xC0, 0xAF]) != nil)
        #expect(TextDecoder.firstInvalidUTF8([0xED, 0xA0, 0x80]) != nil)
        // "/" written in three and in four bytes, and a value past U+10FFFF.
        #expect(TextDecoder.firstInvalidUTF8([0xE0, 0x80, 0xAF]) != nil)
        #expect(TextDecoder.firstInvalidUTF8([0xF0, 0x80, 0x80, 0xAF]) != nil)
        #expect(TextDecoder.firstInvalidUTF8([0xF4, 0x90, 0x80, 0x80]) != nil)
        #expect(TextDecoder.firstInvalidUTF8(Array("ok 😀".utf8)) == nil)
    }

    /// Runs of ASCII are checked eight bytes at a time: a fault is still found at its own byte, line and
    /// column wherever it stands in the run, and valid text of any width passes.
    @Test(arguments: 0..<300 as Range<UInt64>)
    func theFirstFaultIsFoundWhereverItStands(_ seed: UInt64) {
        var random = SeededRandom(seed: seed)
        let pieces = ["a", "b", "7", ";", " ", "\n", "\r\n", "é", "€", "😀", "中"]
        let text = (0..<Int.random(in: 0...60, using: &random)).map { _ in
            random.next() % 4 == 0 ? pieces.randomElement(using: &random)! : "x"
        }
        #expect(TextDecoder.firstInvalidUTF8(Array(text.joined().utf8)) == nil, "seed \(seed)")
        // Every piece that is not ASCII is a sequence of more than one byte.
        #expect(TextDecoder.containsMultiByteUTF8(Array(text.joined().utf8)) == text.joined().utf8.contains { $0 >= 0x80 }, "seed \(seed)")
        // A byte that is never UTF-8, or the lead of a sequence cut short, between two characters.
        let at = Int.random(in: 0...text.count, using: &random)
        let before = Array(text[..<at].joined().utf8), after = Array(text[at...].joined().utf8)
        let fault: [UInt8] = random.next() % 2 == 0 ? [[0xFF, 0x80, 0xC0, 0xF5].randomElement(using: &random)!] : [0xE2, 0x82]
        let bytes = before + fault + (fault.count == 2 ? Array("x".utf8) : []) + after
        let failure = TextDecoder.firstInvalidUTF8(bytes)
        let lines = before.split(separator: 0x0A, omittingEmptySubsequences: false)
        #expect(failure?.line == lines.count, "seed \(seed)")
        #expect(failure?.column == (lines.last?.count ?? 0) + 1, "seed \(seed)")
        #expect(failure?.byte == fault[0], "seed \(seed)")
    }
}

@Suite struct JSONParserTests {
    @Test func valuesKeepTheirPositions() throws {
        let node = try JSONParser.parse(Array("{\n  \"a\": [1, \"x\"],\n  \"b\": {\"c\": null}\n}".utf8))
        #expect(node["a"]?.line == 2)
        #expect(node["a"]?.column == 8)
        #expect(node["a"]?.elements?[1].string == "x")
        #expect(node["b"]?["c"]?.value == .null)
        #expect(node["a"]?.elements?[0].scalarText == "1")
    }

    @Test func escapesAndSurrogatePairs() throws {
        let node = try JSONParser.parse(Array(#"["\u00eb\n\"", "\ud83d\ude00"]"#.utf8))
        #expect(node.elements?[0].string == "ë\n\"")
        #expect(node.elements?[1].string == "😀")
    }

    @Test func syntaxErrorsNameLineAndColumn() {
        let error = #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(Array("{\n \"a\": 1,\n \"b\" 2\n}".utf8)) }
        #expect(error?.line == 3)
        #expect(error?.column == 6)
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(Array("[1, 2".utf8)) }
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(Array("{} x".utf8)) }
    }
}
