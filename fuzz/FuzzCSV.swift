// libFuzzer target: the export's bytes through encoding detection and the CSV reader (fuzz/run.sh).
// Compiled together with the reader's sources into one module, so internal API is in reach.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCSV(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    // The first byte picks the delimiter and the declared encoding, so every path is explored.
    let delimiters: [UInt8] = [UInt8(ascii: ";"), UInt8(ascii: ","), 0x09]
    let delimiter = delimiters[Int(input.first ?? 0) % delimiters.count]
    let encodings: [TextEncoding] = [.auto, .utf8, .windows1252, .utf16, .iso88591, .iso885915]
    let encoding = encodings[(Int(input.first ?? 0) / delimiters.count) % encodings.count]
    let bytes = Array(input.dropFirst())
    guard let decoded = try? TextDecoder.decode(bytes, as: encoding) else { return 0 }
    precondition(TextDecoder.firstInvalidUTF8(decoded.bytes) == nil, "decoded text is not UTF-8")
    var lastLine = 0
    do {
        try CSVReader.read(decoded.bytes, delimiter: delimiter, file: "fuzz.csv") { record in
            precondition(record.line > lastLine, "line numbers must increase")
            lastLine = record.line
            for index in 0..<record.count {
                let raw = record.rawField(index), field = record.field(index)
                if let first = field.unicodeScalars.first, let last = field.unicodeScalars.last {
                    precondition(!UnicodeText.isTrimmed(first) && !UnicodeText.isTrimmed(last), "field not trimmed")
                }
                precondition(field == raw.trimmingUnicodeSpace, "byte trimming and string trimming agree")
            }
            precondition(record.field(record.count).isEmpty, "a missing field is empty")
        }
    } catch let failure as ExportFailure {
        precondition(failure.issue.line != nil, "a structural error names its line")
    } catch {
        preconditionFailure("unexpected error \(error)")
    }
    return 0
}
