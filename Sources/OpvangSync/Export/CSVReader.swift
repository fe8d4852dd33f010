/// One record of a CSV file: byte spans into the decoded file, turned into strings only when asked.
public struct CSVRecord {
    struct Span {
        var start: Int
        var end: Int
        /// The field was quoted and holds `""` pairs that must collapse to `"`.
        var hasEscapedQuotes: Bool
    }

    /// The physical line on which the record starts (1-based; the header is line 1).
    public internal(set) var line: Int = 0
    var spans: [Span] = []
    let bytes: UnsafeBufferPointer<UInt8>

    /// Number of fields in this record.
    public var count: Int { spans.count }

    /// The field at `index` (0-based), trimmed of white space and format characters (`UnicodeText`);
    /// "" when the record is shorter.
    public func field(_ index: Int) -> String {
        guard index < spans.count else { return "" }
        let span = spans[index]
        let range = UnicodeText.trimmedRange(bytes, span.start, span.end)
        return text(Span(start: range.lowerBound, end: range.upperBound, hasEscapedQuotes: span.hasEscapedQuotes))
    }

    /// The field at `index` exactly as it stands between its delimiters (quotes removed, `""` collapsed).
    public func rawField(_ index: Int) -> String {
        guard index < spans.count else { return "" }
        return text(spans[index])
    }

    /// The bytes of `field(index)` when they are its text byte for byte: trimmed as `field` trims, and nil
    /// when the field holds `""` pairs to collapse. A field is weighed or compared on them without its
    /// `String` being made; they are valid while the record is.
    func fieldBytes(_ index: Int) -> UnsafeBufferPointer<UInt8>? {
        guard index < spans.count else { return UnsafeBufferPointer(start: nil, count: 0) }
        let span = spans[index]
        guard !span.hasEscapedQuotes else { return nil }
        let range = UnicodeText.trimmedRange(bytes, span.start, span.end)
        return UnsafeBufferPointer(rebasing: bytes[range])
    }

    private func text(_ span: Span) -> String {
        let slice = UnsafeBufferPointer(rebasing: bytes[span.start..<span.end])
        guard span.hasEscapedQuotes else { return String(decoding: slice, as: UTF8.self) }
        var collapsed: [UInt8] = []
        collapsed.reserveCapacity(slice.count)
        var previousWasQuote = false
        for byte in slice {
            if byte == 0x22, previousWasQuote {
                previousWasQuote = false
                continue
            }
            previousWasQuote = byte == 0x22
            collapsed.append(byte)
        }
        return String(decoding: collapsed, as: UTF8.self)
    }
}

/// Reads RFC 4180 CSV from UTF-8 bytes in one pass: quoting with `""` escapes and line breaks inside
/// quotes, CRLF or LF line ends, any one-byte delimiter. Empty lines are skipped.
public enum CSVReader {
    /// Calls `body` for every record, the header first. Throws on unbalanced quotes or text after a
    /// closing quote, naming the line and the field number (column) of the fault; the character position
    /// is in the message.
    public static func read(
        _ bytes: [UInt8], delimiter: UInt8, file: String,
        _ body: (CSVRecord) throws -> Void
    ) throws {
        try bytes.withUnsafeBufferPointer { buffer in
            var record = CSVRecord(bytes: buffer)
            record.spans.reserveCapacity(32)
            let count = buffer.count
            var index = 0
            var line = 1
            var lineStart = 0

            while index < count {
                record.spans.removeAll(keepingCapacity: true)
                record.line = line
                var endOfRecord = false
                while !endOfRecord {
                    if index < count, buffer[index] == 0x22 {
                        // Quoted field.
                        let quoteLine = line, quoteColumn = index - lineStart + 1
                        index += 1
                        let start = index
                        var escaped = false
                        var closed = false
                        while index < count {
                            let byte = buffer[index]
                            if byte == 0x22 {
                                if index + 1 < count, buffer[index + 1] == 0x22 {
                                    escaped = true
                                    index += 2
                                    continue
                                }
                                closed = true
                                break
                            }
                            if byte == 0x0A { line += 1; lineStart = index + 1 }
                            index += 1
                        }
                        guard closed else {
                            throw ExportFailure(
                                "unbalanced-quote", file: file, line: quoteLine, column: record.spans.count + 1,
                                message: "aanhalingsteken (teken \(quoteColumn) van de regel) wordt niet afgesloten; het bestand is waarschijnlijk afgebroken of beschadigd")
                        }
                        record.spans.append(.init(start: start, end: index, hasEscapedQuotes: escaped))
                        index += 1 // past the closing quote
                        // Spaces and tabs may pad a quoted field; anything else before the delimiter is a fault.
                        // A tab that is the delimiter is never padding (tab-delimited files quote fields too).
                        while index < count, buffer[index] != delimiter, buffer[index] == 0x20 || buffer[index] == 0x09 { index += 1 }
                        if index < count, buffer[index] != delimiter, buffer[index] != 0x0A, buffer[index] != 0x0D {
                            throw ExportFailure(
                                "text-after-quote", file: file, line: line, column: record.spans.count,
                                message: "tekst na een afsluitend aanhalingsteken (teken \(index - lineStart + 1) van de regel); aanhalingstekens in een veld moeten verdubbeld zijn (\"\")")
                        }
                    } else {
                        let start = index
                        while index < count {
                            let byte = buffer[index]
                            if byte == delimiter || byte == 0x0A || byte == 0x0D { break }
                            index += 1
                        }
                        record.spans.append(.init(start: start, end: index, hasEscapedQuotes: false))
                    }
                    // After a field: delimiter, line end or end of input.
                    if index >= count {
                        endOfRecord = true
                    } else if buffer[index] == delimiter {
                        index += 1
                    } else {
                        if buffer[index] == 0x0D { index += 1 }
                        if index < count, buffer[index] == 0x0A { index += 1 }
                        line += 1
                        lineStart = index
                        endOfRecord = true
                    }
                }
                let isBlank = record.spans.count == 1 && record.spans[0].start == record.spans[0].end
                if !isBlank { try body(record) }
            }
        }
    }
}
