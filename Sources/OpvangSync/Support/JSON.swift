/// A parsed JSON value that remembers where it stood in its file, so errors can name line and column.
public indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// Numbers keep their literal text: a Kindnummer `00123` or a capacity `12` is used as written.
    case number(String)
    case string(String)
    case array([JSONNode])
    /// Members in file order; a key appears at most once (the parser refuses duplicates).
    case object([(key: String, node: JSONNode)])

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.number(a), .number(b)): return a == b
        case let (.string(a), .string(b)): return a == b
        case let (.array(a), .array(b)): return a == b
        case let (.object(a), .object(b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.node == $1.node }
        default: return false
        }
    }
}

/// A JSON value with its position.
public struct JSONNode: Sendable, Equatable {
    public let value: JSONValue
    public let line: Int
    public let column: Int

    /// The member `key` of an object, or nil.
    public subscript(key: String) -> JSONNode? {
        guard case .object(let members) = value else { return nil }
        return members.first { $0.key == key }?.node
    }

    public var members: [(key: String, node: JSONNode)]? {
        if case .object(let members) = value { return members }
        return nil
    }

    public var elements: [JSONNode]? {
        if case .array(let elements) = value { return elements }
        return nil
    }

    public var string: String? {
        if case .string(let text) = value { return text }
        return nil
    }

    /// Strings, numbers and booleans as text; nil for null, arrays and objects.
    public var scalarText: String? {
        switch value {
        case .string(let text), .number(let text): return text
        case .bool(let flag): return flag ? "true" : "false"
        default: return nil
        }
    }

    public var int: Int? {
        if case .number(let text) = value { return Int(text) }
        return nil
    }

    public var double: Double? {
        if case .number(let text) = value { return Double(text) }
        return nil
    }

    public var bool: Bool? {
        if case .bool(let flag) = value { return flag }
        return nil
    }

    /// A short English name of the value's kind, for error messages.
    public var kindName: String {
        switch value {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

/// A syntax error with its position.
public struct JSONSyntaxError: Error, Sendable {
    public let line: Int
    public let column: Int
    public let reason: String
}

/// A strict RFC 8259 parser over UTF-8 bytes: invalid UTF-8, lone surrogate escapes and a key used twice
/// in one object are errors with their line and column, never silently repaired or overwritten.
public enum JSONParser {
    public static func parse(_ bytes: [UInt8]) throws(JSONSyntaxError) -> JSONNode {
        var start = 0
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { start = 3 }
        var parser = Parser(bytes: bytes, index: start)
        let node = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        guard parser.index == bytes.count else { throw parser.error("unexpected text after the JSON value") }
        return node
    }

    private struct Parser {
        let bytes: [UInt8]
        var index: Int
        var line = 1
        var lineStart = 0

        init(bytes: [UInt8], index: Int) {
            self.bytes = bytes
            self.index = index
            self.lineStart = index
        }

        func error(_ reason: String) -> JSONSyntaxError {
            JSONSyntaxError(line: line, column: index - lineStart + 1, reason: reason)
        }

        mutating func skipWhitespace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0D: index += 1
                case 0x0A: index += 1; line += 1; lineStart = index
                default: return
                }
            }
        }

        mutating func parseValue(depth: Int) throws(JSONSyntaxError) -> JSONNode {
            guard depth < 128 else { throw error("nesting too deep") }
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of input") }
            let valueLine = line, valueColumn = index - lineStart + 1
            func node(_ value: JSONValue) -> JSONNode { JSONNode(value: value, line: valueLine, column: valueColumn) }
            switch bytes[index] {
            case UInt8(ascii: "{"):
                index += 1
                var members: [(key: String, node: JSONNode)] = []
                skipWhitespace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; return node(.object(members)) }
                var seen: Set<String> = []
                while true {
                    skipWhitespace()
                    guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw error("expected a quoted key") }
                    let keyLine = line, keyColumn = index - lineStart + 1
                    let key = try parseString()
                    // Which of two values is meant cannot be known: the last one silently winning is how a
                    // record gets the wrong key.
                    let duplicate = members.count < 12 ? members.contains { $0.key == key } : !seen.insert(key).inserted
                    if members.count == 11 { seen = Set(members.map(\.key)); seen.insert(key) }
                    if duplicate {
                        throw JSONSyntaxError(line: keyLine, column: keyColumn, reason: "duplicate key \"\(key.prefix(40))\" in one object")
                    }
                    skipWhitespace()
                    guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw error("expected ':' after a key") }
                    index += 1
                    members.append((key, try parseValue(depth: depth + 1)))
                    skipWhitespace()
                    guard index < bytes.count else { throw error("unexpected end of input inside an object") }
                    if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                    if bytes[index] == UInt8(ascii: "}") { index += 1; return node(.object(members)) }
                    throw error("expected ',' or '}'")
                }
            case UInt8(ascii: "["):
                index += 1
                var elements: [JSONNode] = []
                skipWhitespace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1; return node(.array(elements)) }
                while true {
                    elements.append(try parseValue(depth: depth + 1))
                    skipWhitespace()
                    guard index < bytes.count else { throw error("unexpected end of input inside an array") }
                    if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                    if bytes[index] == UInt8(ascii: "]") { index += 1; return node(.array(elements)) }
                    throw error("expected ',' or ']'")
                }
            case UInt8(ascii: "\""):
                return node(.string(try parseString()))
            case UInt8(ascii: "t"):
                try expectLiteral("true"); return node(.bool(true))
            case UInt8(ascii: "f"):
                try expectLiteral("false"); return node(.bool(false))
            case UInt8(ascii: "n"):
                try expectLiteral("null"); return node(.null)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                return node(.number(try parseNumber()))
            default:
                throw error("unexpected character")
            }
        }

        mutating func expectLiteral(_ literal: StaticString) throws(JSONSyntaxError) {
            let expected = UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount)
            guard index + expected.count <= bytes.count,
                  bytes[index..<(index + expected.count)].elementsEqual(expected) else {
                throw error("unexpected character")
            }
            index += expected.count
        }

        mutating func parseNumber() throws(JSONSyntaxError) -> String {
            let start = index
            if bytes[index] == UInt8(ascii: "-") { index += 1 }
            func digits() -> Int {
                let from = index
                while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 { index += 1 }
                return index - from
            }
            guard digits() > 0 else { throw error("invalid number") }
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                guard digits() > 0 else { throw error("invalid number") }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
                guard digits() > 0 else { throw error("invalid number") }
            }
            return String(decoding: bytes[start..<index], as: UTF8.self)
        }

        mutating func parseString() throws(JSONSyntaxError) -> String {
            index += 1 // opening quote
            var output: [UInt8] = []
            while index < bytes.count {
                let byte = bytes[index]
                switch byte {
                case UInt8(ascii: "\""):
                    index += 1
                    return String(decoding: output, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    index += 1
                    guard index < bytes.count else { break }
                    let escape = bytes[index]
                    index += 1
                    switch escape {
                    case UInt8(ascii: "\""): output.append(0x22)
                    case UInt8(ascii: "\\"): output.append(0x5C)
                    case UInt8(ascii: "/"): output.append(0x2F)
                    case UInt8(ascii: "b"): output.append(0x08)
                    case UInt8(ascii: "f"): output.append(0x0C)
                    case UInt8(ascii: "n"): output.append(0x0A)
                    case UInt8(ascii: "r"): output.append(0x0D)
                    case UInt8(ascii: "t"): output.append(0x09)
                    case UInt8(ascii: "u"):
                        var scalar = try parseHex4()
                        if (0xD800...0xDBFF).contains(scalar) {
                            guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"),
                                  bytes[index + 1] == UInt8(ascii: "u") else { throw error("unpaired surrogate") }
                            index += 2
                            let low = try parseHex4()
                            guard (0xDC00...0xDFFF).contains(low) else { throw error("unpaired surrogate") }
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        } else if (0xDC00...0xDFFF).contains(scalar) {
                            throw error("unpaired surrogate")
                        }
                        guard let unicode = Unicode.Scalar(scalar) else { throw error("invalid escape") }
                        output.append(contentsOf: Array(String(Character(unicode)).utf8))
                    default:
                        throw error("invalid escape")
                    }
                case 0x00...0x1F:
                    throw error("control character inside a string")
                case 0x80...0xFF:
                    let length = validUTF8Length(at: index)
                    guard length > 0 else { throw error("invalid UTF-8") }
                    output.append(contentsOf: bytes[index..<(index + length)])
                    index += length
                default:
                    output.append(byte)
                    index += 1
                }
            }
            throw error("unterminated string")
        }

        /// The length of the valid UTF-8 sequence at `start` (no overlong forms, no surrogates), or 0.
        func validUTF8Length(at start: Int) -> Int {
            let lead = bytes[start]
            let length: Int, minimum: UInt32
            var scalar: UInt32
            switch lead {
            case 0xC2...0xDF: length = 2; scalar = UInt32(lead & 0x1F); minimum = 0x80
            case 0xE0...0xEF: length = 3; scalar = UInt32(lead & 0x0F); minimum = 0x800
            case 0xF0...0xF4: length = 4; scalar = UInt32(lead & 0x07); minimum = 0x10000
            default: return 0
            }
            guard start + length <= bytes.count else { return 0 }
            for offset in 1..<length {
                let next = bytes[start + offset]
                guard next & 0xC0 == 0x80 else { return 0 }
                scalar = scalar << 6 | UInt32(next & 0x3F)
            }
            guard scalar >= minimum, scalar <= 0x10FFFF, !(0xD800...0xDFFF).contains(scalar) else { return 0 }
            return length
        }

        mutating func parseHex4() throws(JSONSyntaxError) -> UInt32 {
            guard index + 4 <= bytes.count else { throw error("invalid \\u escape") }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let byte = bytes[index]
                let digit: UInt32
                switch byte {
                case 0x30...0x39: digit = UInt32(byte - 0x30)
                case 0x41...0x46: digit = UInt32(byte - 0x41 + 10)
                case 0x61...0x66: digit = UInt32(byte - 0x61 + 10)
                default: throw error("invalid \\u escape")
                }
                value = value << 4 | digit
                index += 1
            }
            return value
        }
    }
}

/// The integer a JSON number literal denotes, exactly (no floating point).
enum JSONNumber {
    /// `100003.0`, `1.00003e5` and `100003` give `100003`; nil for a fractional value (`1.5`, `1e-1`) or
    /// one with more than 30 digits. A plain integer keeps its literal text (a Kindnummer `00123`).
    /// With `truncating`, a fractional value gives its integer part (toward zero).
    static func integerText(_ literal: String, truncating: Bool = false) -> String? {
        let bytes = Array(literal.utf8)
        guard !bytes.contains(where: { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }) else {
            return canonical(bytes, truncating: truncating)
        }
        return literal
    }

    private static func canonical(_ bytes: [UInt8], truncating: Bool) -> String? {
        var index = 0
        let negative = bytes.first == UInt8(ascii: "-")
        if negative { index += 1 }
        var digits: [UInt8] = []
        var pointShift = 0   // digits after the decimal point
        var afterPoint = false
        while index < bytes.count, bytes[index] != UInt8(ascii: "e"), bytes[index] != UInt8(ascii: "E") {
            let byte = bytes[index]
            if byte == UInt8(ascii: ".") { afterPoint = true } else {
                guard (0x30...0x39).contains(byte) else { return nil }
                digits.append(byte)
                if afterPoint { pointShift += 1 }
            }
            index += 1
        }
        var exponent = 0
        if index < bytes.count {
            index += 1
            var sign = 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") {
                if bytes[index] == UInt8(ascii: "-") { sign = -1 }
                index += 1
            }
            guard index < bytes.count else { return nil }
            while index < bytes.count {
                guard (0x30...0x39).contains(bytes[index]) else { return nil }
                exponent = exponent * 10 + Int(bytes[index] - 0x30)
                guard exponent < 1000 else { return nil }
                index += 1
            }
            exponent *= sign
        }
        // value = digits × 10^(exponent − pointShift)
        let shift = exponent - pointShift
        if shift < 0 {
            let cut = digits.count + shift
            let dropped = cut > 0 ? digits[cut...] : digits[...]
            guard truncating || dropped.allSatisfy({ $0 == 0x30 }) else { return nil }
            digits = cut > 0 ? Array(digits[..<cut]) : []
        } else {
            guard digits.count + shift <= 30 else {
                return digits.allSatisfy { $0 == 0x30 } ? "0" : nil
            }
            digits += [UInt8](repeating: 0x30, count: shift)
        }
        while digits.count > 1, digits.first == 0x30 { digits.removeFirst() }
        if digits.isEmpty { digits = [0x30] }
        guard digits.count <= 30 else { return nil }
        let text = String(decoding: digits, as: UTF8.self)
        return negative && text != "0" ? "-" + text : text
    }
}

/// A parsed value written back as nested JSON (what `runs --format json` shows of a stored summary):
/// numbers as numbers, objects as objects, never as a string holding JSON.
extension JSONNode: Encodable {
    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public func encode(to encoder: Encoder) throws {
        switch value {
        case .null:
            var container = encoder.singleValueContainer()
            try container.encodeNil()
        case .bool(let flag):
            var container = encoder.singleValueContainer()
            try container.encode(flag)
        case .number(let text):
            var container = encoder.singleValueContainer()
            if let whole = Int(text) { try container.encode(whole) } else if let real = Double(text) { try container.encode(real) } else { try container.encode(text) }
        case .string(let text):
            var container = encoder.singleValueContainer()
            try container.encode(text)
        case .array(let elements):
            var container = encoder.unkeyedContainer()
            for element in elements { try container.encode(element) }
        case .object(let members):
            var container = encoder.container(keyedBy: Key.self)
            for member in members { try container.encode(member.node, forKey: Key(stringValue: member.key)) }
        }
    }
}
