import Foundation

/// How an export file's bytes are to be read.
public enum TextEncoding: String, Sendable, Codable {
    /// Valid UTF-8 is UTF-8, anything else is Windows-1252 (SPEC §2); a UTF-16 byte order mark is UTF-16.
    case auto
    case utf8 = "utf-8"
    /// UTF-16 with a byte order mark, which says little- or big-endian: what Excel writes as "Unicode text".
    case utf16 = "utf-16"
    /// Read as: UTF-16 little-endian (after its byte order mark).
    case utf16LE = "utf-16le"
    /// Read as: UTF-16 big-endian (after its byte order mark).
    case utf16BE = "utf-16be"
    case windows1252 = "windows-1252"
    /// Latin-1: every byte is the code point of the same number; 0x80-0x9F are control characters.
    case iso88591 = "iso-8859-1"
    /// Latin-9: Latin-1 with the euro sign and Š š Ž ž Œ œ Ÿ in place of eight rarely used signs.
    case iso885915 = "iso-8859-15"

    /// The values a mapping's `encoding` may take, as the reference lists them.
    public static let mappingValues = ["auto", "utf-8", "utf-16", "windows-1252", "iso-8859-1", "iso-8859-15"]

    /// Parses a mapping's `encoding` value; accepts the usual spellings.
    public init?(mappingValue: String) {
        switch mappingValue.lowercased().replacingOccurrences(of: "_", with: "-") {
        case "auto", "detect": self = .auto
        case "utf-8", "utf8": self = .utf8
        case "utf-16", "utf16", "unicode": self = .utf16
        case "windows-1252", "cp1252", "win-1252", "windows1252": self = .windows1252
        case "iso-8859-1", "iso8859-1", "latin1", "latin-1": self = .iso88591
        case "iso-8859-15", "iso8859-15", "latin9", "latin-9": self = .iso885915
        default: return nil
        }
    }
}

extension TextEncoding {
    /// One byte per character: a UTF-8 byte order mark in such a file means the mapping names the wrong encoding.
    var isSingleByte: Bool { self == .windows1252 || self == .iso88591 || self == .iso885915 }
}

/// UTF-8 bytes of a file, after BOM removal and any conversion from another encoding.
public struct DecodedText: Sendable {
    public let bytes: [UInt8]
    /// The encoding that was actually used.
    public let encoding: TextEncoding
}

/// Where an encoding error was found, and what kind it is.
public struct EncodingFailure: Error, Sendable, Equatable {
    public enum Reason: Sendable, Equatable {
        /// Not UTF-8 where UTF-8 was required (the mapping, or a BOM, says so).
        case invalidUTF8
        /// Valid multi-byte UTF-8 elsewhere in the file, so this byte is damage, not Windows-1252.
        case invalidUTF8InUTF8File
        /// One of the five bytes Windows-1252 leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D).
        case undefinedInWindows1252
        /// A byte 0x80-0x9F, a control character in ISO-8859-1 and -15: the file is almost always Windows-1252.
        case controlInISO8859
        /// The mapping says UTF-16, but the file does not start with a UTF-16 byte order mark.
        case missingUTF16BOM
        /// UTF-16 with an odd number of bytes: the last character is cut in half.
        case truncatedUTF16
        /// A UTF-16 surrogate without its partner: no character.
        case loneSurrogate
        /// A UTF-8 byte order mark in a file the mapping says is in a one-byte encoding.
        case utf8BOMInSingleByteFile
    }

    public let line: Int
    public let column: Int
    public var reason: Reason = .invalidUTF8
    /// The offending byte.
    public var byte: UInt8 = 0
}

extension EncodingFailure {
    /// The failure at byte `index` of `bytes`, with the line and column it stands on (counted only for a file
    /// that has one).
    init(at index: Int, in bytes: UnsafeBufferPointer<UInt8>, reason: Reason = .invalidUTF8) {
        let before = UnsafeBufferPointer(rebasing: bytes[..<index])
        let lineStart = before.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0
        self.init(line: 1 + before.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }, column: index - lineStart + 1,
                  reason: reason, byte: bytes[index])
    }
}

enum TextDecoder {
    /// Turns raw file bytes into UTF-8 bytes, detecting the encoding when asked to.
    static func decode(_ raw: [UInt8], as encoding: TextEncoding) throws(EncodingFailure) -> DecodedText {
        var bytes = raw
        let utf16BOM = bytes.starts(with: [0xFF, 0xFE]) ? TextEncoding.utf16LE : bytes.starts(with: [0xFE, 0xFF]) ? .utf16BE : nil
        switch encoding {
        case .utf16, .utf16LE, .utf16BE:
            // The byte order mark says which order; without one the mapping's choice cannot be checked.
            guard let order = utf16BOM else { throw EncodingFailure(line: 1, column: 1, reason: .missingUTF16BOM, byte: bytes.first ?? 0) }
            return DecodedText(bytes: try utf16ToUTF8(bytes, from: 2, bigEndian: order == .utf16BE), encoding: order)
        case .auto:
            // FF FE or FE FF opening a file is "ÿþ" or "þÿ" in Windows-1252: no export starts so; it is UTF-16.
            if let order = utf16BOM {
                return DecodedText(bytes: try utf16ToUTF8(bytes, from: 2, bigEndian: order == .utf16BE), encoding: order)
            }
        default:
            break
        }
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            // A UTF-8 byte order mark says UTF-8; read in a one-byte encoding, every accented letter would
            // silently become two wrong ones.
            if encoding.isSingleByte { throw EncodingFailure(line: 1, column: 1, reason: .utf8BOMInSingleByteFile, byte: 0xEF) }
            bytes.removeFirst(3)
            if let failure = firstInvalidUTF8(bytes) { throw failure }
            return DecodedText(bytes: bytes, encoding: .utf8)
        }
        switch encoding {
        case .utf8, .utf16, .utf16LE, .utf16BE:
            if let failure = firstInvalidUTF8(bytes) { throw failure }
            return DecodedText(bytes: bytes, encoding: .utf8)
        case .windows1252:
            return DecodedText(bytes: try windows1252ToUTF8(bytes), encoding: .windows1252)
        case .iso88591, .iso885915:
            return DecodedText(bytes: try iso8859ToUTF8(bytes, latin9: encoding == .iso885915), encoding: encoding)
        case .auto:
            guard var failure = firstInvalidUTF8(bytes) else { return DecodedText(bytes: bytes, encoding: .utf8) }
            // Windows-1252 text is invalid UTF-8, but it (almost) never forms a valid multi-byte sequence;
            // a file that holds one is UTF-8 with damage in it, and re-reading it would mangle every
            // accented letter (SPEC §2).
            if containsMultiByteUTF8(bytes) {
                failure.reason = .invalidUTF8InUTF8File
                throw failure
            }
            return DecodedText(bytes: try windows1252ToUTF8(bytes), encoding: .windows1252)
        }
    }

    /// Whether `bytes` hold at least one valid multi-byte UTF-8 sequence.
    static func containsMultiByteUTF8(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { buffer in
            var index = 0
            while true {
                index = nonASCII(buffer, from: index)
                guard index < buffer.count else { return false }
                if let (_, length) = UnicodeText.decode(buffer, at: index, end: buffer.count), length > 1 { return true }
                index += 1
            }
        }
    }

    /// The line and column of the first byte that is not valid UTF-8, or nil when all is valid.
    static func firstInvalidUTF8(_ bytes: [UInt8]) -> EncodingFailure? {
        bytes.withUnsafeBufferPointer { buffer in
            firstInvalidUTF8(in: buffer).map { EncodingFailure(at: $0, in: buffer) }
        }
    }

    /// The position of the first byte from `index` on that is not ASCII (`buffer.count` when there is none).
    /// Almost every byte of an export is ASCII: it is passed over eight bytes at a time.
    @inline(__always)
    static func nonASCII(_ buffer: UnsafeBufferPointer<UInt8>, from index: Int) -> Int {
        guard let base = buffer.baseAddress else { return index }
        var index = index
        while index + 8 <= buffer.count, UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
            index += 8
        }
        while index < buffer.count, buffer[index] < 0x80 { index += 1 }
        return index
    }

    /// The position of the first byte of `buffer` that is not valid UTF-8, or nil when all is valid.
    static func firstInvalidUTF8(in buffer: UnsafeBufferPointer<UInt8>) -> Int? {
        var index = 0
        while true {
            index = nonASCII(buffer, from: index)
            guard index < buffer.count else { return nil }
            guard let (_, length) = UnicodeText.decode(buffer, at: index, end: buffer.count) else { return index }
            index += length
        }
    }

    /// Code points of bytes 0x80...0x9F in Windows-1252; 0 marks the five bytes it leaves undefined, which
    /// are errors here (the WHATWG standard maps them to C1 controls, which no planning system means).
    private static let high: [UInt32] = [
        0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
        0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
        0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
        0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
    ]

    /// The eight places where ISO-8859-15 differs from ISO-8859-1.
    private static func latin9(_ byte: UInt8) -> UInt32? {
        switch byte {
        case 0xA4: return 0x20AC
        case 0xA6: return 0x0160
        case 0xA8: return 0x0161
        case 0xB4: return 0x017D
        case 0xB8: return 0x017E
        case 0xBC: return 0x0152
        case 0xBD: return 0x0153
        case 0xBE: return 0x0178
        default: return nil
        }
    }

    /// ISO-8859-1 or -15 to UTF-8. Bytes 0x80-0x9F are control characters there, and no planning system
    /// means them: a file holding them is Windows-1252 under the wrong name, so it is refused with where.
    static func iso8859ToUTF8(_ bytes: [UInt8], latin9 isLatin9: Bool) throws(EncodingFailure) -> [UInt8] {
        try singleByteToUTF8(bytes, otherwise: .controlInISO8859) { byte in
            byte < 0xA0 ? nil : (isLatin9 ? latin9(byte) : nil) ?? UInt32(byte)
        }
    }

    /// A one-byte encoding to UTF-8: ASCII as it is, every other byte through `character`, which gives its
    /// Unicode scalar, or nil for a byte that is none: the failure then says `otherwise`, the line and column.
    ///
    /// ASCII, nearly all of an export, is found eight bytes at a time and copied in runs; lines are counted
    /// only for a failure.
    private static func singleByteToUTF8(_ bytes: [UInt8], otherwise reason: EncodingFailure.Reason,
                                         _ character: (UInt8) -> UInt32?) throws(EncodingFailure) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count + bytes.count / 16)
        let refused: Int? = bytes.withUnsafeBufferPointer { input in
            let count = input.count
            var index = 0, runStart = 0
            while true {
                index = nonASCII(input, from: index)
                guard index < count else { break }
                let byte = input[index]
                output.append(contentsOf: UnsafeBufferPointer(rebasing: input[runStart..<index]))
                guard let scalar = character(byte) else { return index }
                appendUTF8(scalar, to: &output)
                index += 1
                runStart = index
            }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: input[runStart..<count]))
            return nil
        }
        if let index = refused {
            throw bytes.withUnsafeBufferPointer { EncodingFailure(at: index, in: $0, reason: reason) }
        }
        return output
    }

    /// UTF-16 from `start` (past the byte order mark) to UTF-8. Lines and columns of a failure count
    /// characters, as an editor shows them.
    static func utf16ToUTF8(_ bytes: [UInt8], from start: Int, bigEndian: Bool) throws(EncodingFailure) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count - start) / 2 + (bytes.count - start) / 8)
        var line = 1, column = 0
        var index = start
        let count = bytes.count
        func unit(_ at: Int) -> UInt32 {
            bigEndian ? UInt32(bytes[at]) << 8 | UInt32(bytes[at + 1]) : UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at])
        }
        while index < count {
            column += 1
            guard index + 1 < count else {
                throw EncodingFailure(line: line, column: column, reason: .truncatedUTF16, byte: bytes[index])
            }
            let first = unit(index)
            index += 2
            var scalar = first
            if (0xD800...0xDBFF).contains(first) {
                guard index + 1 < count, case let second = unit(index), (0xDC00...0xDFFF).contains(second) else {
                    throw EncodingFailure(line: line, column: column, reason: .loneSurrogate, byte: UInt8(first >> 8))
                }
                index += 2
                scalar = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(first) {
                throw EncodingFailure(line: line, column: column, reason: .loneSurrogate, byte: UInt8(first >> 8))
            }
            if scalar == 0x0A { line += 1; column = 0 }
            appendUTF8(scalar, to: &output)
        }
        return output
    }

    /// Appends the UTF-8 form of a valid scalar.
    private static func appendUTF8(_ scalar: UInt32, to output: inout [UInt8]) {
        if scalar < 0x80 {
            output.append(UInt8(scalar))
        } else if scalar < 0x800 {
            output.append(UInt8(0xC0 | (scalar >> 6)))
            output.append(UInt8(0x80 | (scalar & 0x3F)))
        } else if scalar < 0x10000 {
            output.append(UInt8(0xE0 | (scalar >> 12)))
            output.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
            output.append(UInt8(0x80 | (scalar & 0x3F)))
        } else {
            output.append(UInt8(0xF0 | (scalar >> 18)))
            output.append(UInt8(0x80 | ((scalar >> 12) & 0x3F)))
            output.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
            output.append(UInt8(0x80 | (scalar & 0x3F)))
        }
    }

    static func windows1252ToUTF8(_ bytes: [UInt8]) throws(EncodingFailure) -> [UInt8] {
        try singleByteToUTF8(bytes, otherwise: .undefinedInWindows1252) { byte in
            let scalar = byte < 0xA0 ? high[Int(byte - 0x80)] : UInt32(byte)
            return scalar == 0 ? nil : scalar
        }
    }
}

