import Foundation

/// How an export file's bytes are to be read.
public enum TextEncoding: String, Sendable, Codable {
    /// Valid UTF-8 is UTF-8, anything else is Windows-1252 (SPEC §2).
    case auto
    case utf8 = "utf-8"
    case windows1252 = "windows-1252"

    /// Parses a mapping's `encoding` value; accepts the usual spellings.
    public init?(mappingValue: String) {
        switch mappingValue.lowercased().replacingOccurrences(of: "_", with: "-") {
        case "auto", "detect": self = .auto
        case "utf-8", "utf8": self = .utf8
        case "windows-1252", "cp1252", "win-1252", "windows1252": self = .windows1252
        default: return nil
        }
    }
}

/// UTF-8 bytes of a file, after BOM removal and any Windows-1252 conversion.
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
    }

    public let line: Int
    public let column: Int
    public var reason: Reason = .invalidUTF8
    /// The offending byte.
    public var byte: UInt8 = 0
}

enum TextDecoder {
    /// Turns raw file bytes into UTF-8 bytes, detecting the encoding when asked to.
    static func decode(_ raw: [UInt8], as encoding: TextEncoding) throws(EncodingFailure) -> DecodedText {
        var bytes = raw
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            bytes.removeFirst(3)
            if encoding != .windows1252 {
                if let failure = firstInvalidUTF8(bytes) { throw failure }
                return DecodedText(bytes: bytes, encoding: .utf8)
            }
        }
        switch encoding {
        case .utf8:
            if let failure = firstInvalidUTF8(bytes) { throw failure }
            return DecodedText(bytes: bytes, encoding: .utf8)
        case .windows1252:
            return DecodedText(bytes: try windows1252ToUTF8(bytes), encoding: .windows1252)
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
            while index < buffer.count {
                guard buffer[index] >= 0x80 else { index += 1; continue }
                if let (scalar, length) = UnicodeText.decode(buffer, at: index, end: buffer.count), length > 1,
                   scalar.value >= [0, 0, 0x80, 0x800, 0x10000][length] {
                    return true
                }
                index += 1
            }
            return false
        }
    }

    /// The line and column of the first byte that is not valid UTF-8, or nil when all is valid.
    static func firstInvalidUTF8(_ bytes: [UInt8]) -> EncodingFailure? {
        bytes.withUnsafeBufferPointer { buffer -> EncodingFailure? in
            var index = 0
            var line = 1
            var lineStart = 0
            let count = buffer.count
            while index < count {
                let byte = buffer[index]
                if byte < 0x80 {
                    if byte == 0x0A { line += 1; lineStart = index + 1 }
                    index += 1
                    continue
                }
                let length: Int
                let minimum: UInt32
                var scalar: UInt32
                switch byte {
                case 0xC2...0xDF: length = 2; scalar = UInt32(byte & 0x1F); minimum = 0x80
                case 0xE0...0xEF: length = 3; scalar = UInt32(byte & 0x0F); minimum = 0x800
                case 0xF0...0xF4: length = 4; scalar = UInt32(byte & 0x07); minimum = 0x10000
                default: return EncodingFailure(line: line, column: index - lineStart + 1, byte: byte)
                }
                guard index + length <= count else { return EncodingFailure(line: line, column: index - lineStart + 1, byte: byte) }
                for offset in 1..<length {
                    let next = buffer[index + offset]
                    guard next & 0xC0 == 0x80 else { return EncodingFailure(line: line, column: index - lineStart + 1, byte: byte) }
                    scalar = scalar << 6 | UInt32(next & 0x3F)
                }
                if scalar < minimum || scalar > 0x10FFFF || (0xD800...0xDFFF).contains(scalar) {
                    return EncodingFailure(line: line, column: index - lineStart + 1, byte: byte)
                }
                index += length
            }
            return nil
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

    static func windows1252ToUTF8(_ bytes: [UInt8]) throws(EncodingFailure) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count + bytes.count / 16)
        var line = 1, lineStart = 0
        for (index, byte) in bytes.enumerated() {
            if byte < 0x80 {
                if byte == 0x0A { line += 1; lineStart = index + 1 }
                output.append(byte)
                continue
            }
            let scalar = byte < 0xA0 ? high[Int(byte - 0x80)] : UInt32(byte)
            guard scalar != 0 else {
                throw EncodingFailure(line: line, column: index - lineStart + 1, reason: .undefinedInWindows1252, byte: byte)
            }
            if scalar < 0x800 {
                output.append(UInt8(0xC0 | (scalar >> 6)))
                output.append(UInt8(0x80 | (scalar & 0x3F)))
            } else {
                output.append(UInt8(0xE0 | (scalar >> 12)))
                output.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
                output.append(UInt8(0x80 | (scalar & 0x3F)))
            }
        }
        return output
    }
}
