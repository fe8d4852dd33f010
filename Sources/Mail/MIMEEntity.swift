import Foundation

/// One MIME entity of a received message (RFC 2045, 2046): its header fields and its body, with the parts
/// of a multipart body parsed in turn. Made for messages nobody vouches for (bounce reports in a mailbox):
/// nesting, the number of parts and of header fields are bounded, and nothing malformed stops the parse;
/// what cannot be read is simply absent.
public struct MIMEEntity: Sendable {
    /// Header fields in order, names as written, values unfolded.
    public let headers: [(name: String, value: String)]
    /// The body as it stands in the message (still transfer-encoded).
    public let body: ArraySlice<UInt8>
    /// The parts of a multipart body; empty otherwise.
    public let parts: [MIMEEntity]

    /// Bounds for hostile input.
    public static let maxDepth = 8
    public static let maxParts = 64
    public static let maxHeaderFields = 500

    public init(parsing bytes: ArraySlice<UInt8>, depth: Int = 0) {
        let (headers, body) = MIMEEntity.splitHeaders(bytes)
        self.headers = headers
        self.body = body
        let contentType = MIMEEntity.contentType(headers)
        if contentType.type == "multipart", depth < MIMEEntity.maxDepth, let boundary = contentType.parameters["boundary"],
           !boundary.isEmpty, boundary.utf8.count <= 200 {
            parts = MIMEEntity.split(body, boundary: Array(boundary.utf8)).prefix(MIMEEntity.maxParts)
                .map { MIMEEntity(parsing: $0, depth: depth + 1) }
        } else {
            parts = []
        }
    }

    public init(parsing bytes: [UInt8]) { self.init(parsing: bytes[...]) }

    /// The first value of a header field, by name in any case.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    /// Every value of a header field, by name in any case.
    public func headers(_ name: String) -> [String] {
        headers.filter { $0.name.caseInsensitiveCompare(name) == .orderedSame }.map(\.value)
    }

    /// `type/subtype` lowercased with its parameters (names lowercased); `text/plain` when absent or unreadable.
    public var contentType: (type: String, subtype: String, parameters: [String: String]) { MIMEEntity.contentType(headers) }

    /// `type/subtype`, lowercased.
    public var mediaType: String { "\(contentType.type)/\(contentType.subtype)" }

    /// This entity and every entity inside it, depth first.
    public var all: [MIMEEntity] { [self] + parts.flatMap(\.all) }

    /// The body with its Content-Transfer-Encoding undone (base64, quoted-printable; anything else as is).
    public var decodedBody: [UInt8] {
        switch header("Content-Transfer-Encoding")?.trimmingCharacters(in: .whitespaces).lowercased() {
        case "base64": return MIMEEntity.base64(body)
        case "quoted-printable": return MIMEEntity.quotedPrintable(body)
        default: return Array(body)
        }
    }

    /// Header fields up to the first empty line, unfolded; the rest is the body. A message without an empty
    /// line is all header.
    static func splitHeaders(_ bytes: ArraySlice<UInt8>) -> ([(name: String, value: String)], ArraySlice<UInt8>) {
        var headers: [(name: String, value: String)] = []
        var index = bytes.startIndex
        var current: (name: String, value: [UInt8])?
        func flush() {
            if let field = current, headers.count < maxHeaderFields {
                headers.append((field.name, String(decoding: field.value, as: UTF8.self).trimmingCharacters(in: .whitespaces)))
            }
            current = nil
        }
        while index < bytes.endIndex {
            var end = index
            while end < bytes.endIndex, bytes[end] != 0x0A { end += 1 }
            var line = bytes[index..<end]
            if line.last == 0x0D { line = line.dropLast() }
            let next = end < bytes.endIndex ? end + 1 : end
            if line.isEmpty {
                flush()
                return (headers, bytes[next...])
            }
            if line.first == 0x20 || line.first == 0x09 {
                // A folded continuation of the field before it (RFC 5322 §2.2.3).
                if current != nil, (current?.value.count ?? 0) < 16_384 { current?.value += [0x20] + line.drop { $0 == 0x20 || $0 == 0x09 } }
            } else if let colon = line.firstIndex(of: 0x3A), colon > line.startIndex,
                      line[line.startIndex..<colon].allSatisfy({ $0 > 0x20 && $0 < 0x7F }) {
                flush()
                current = (String(decoding: line[line.startIndex..<colon], as: UTF8.self), Array(line[(colon + 1)...].prefix(16_384)))
            } else {
                // Not a header field (a body without a blank line before it, or garbage): the body starts here.
                flush()
                return (headers, bytes[index...])
            }
            index = next
        }
        flush()
        return (headers, bytes[bytes.endIndex...])
    }

    /// The parts between `--boundary` lines. A missing closing delimiter ends the last part at the end.
    static func split(_ body: ArraySlice<UInt8>, boundary: [UInt8]) -> [ArraySlice<UInt8>] {
        let delimiter: [UInt8] = [0x2D, 0x2D] + boundary
        var parts: [ArraySlice<UInt8>] = []
        var partStart: Int?
        var index = body.startIndex
        while index < body.endIndex {
            var end = index
            while end < body.endIndex, body[end] != 0x0A { end += 1 }
            var line = body[index..<end]
            if line.last == 0x0D { line = line.dropLast() }
            let next = end < body.endIndex ? end + 1 : end
            if line.starts(with: delimiter) {
                let rest = line.dropFirst(delimiter.count)
                let closing = rest.starts(with: [0x2D, 0x2D])
                let trailer = closing ? rest.dropFirst(2) : rest
                if trailer.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) {
                    if let start = partStart {
                        // The line break before a delimiter belongs to the delimiter.
                        var stop = index
                        if stop > start, body[stop - 1] == 0x0A { stop -= 1 }
                        if stop > start, body[stop - 1] == 0x0D { stop -= 1 }
                        parts.append(body[start..<stop])
                        if parts.count >= maxParts { return parts }
                    }
                    if closing { return parts }
                    partStart = next
                }
            }
            index = next
        }
        if let start = partStart, start < body.endIndex { parts.append(body[start..<body.endIndex]) }
        return parts
    }

    static func contentType(_ headers: [(name: String, value: String)]) -> (type: String, subtype: String, parameters: [String: String]) {
        guard let value = headers.first(where: { $0.name.caseInsensitiveCompare("Content-Type") == .orderedSame })?.value else {
            return ("text", "plain", [:])
        }
        let (media, parameters) = parameterised(value)
        let pieces = media.lowercased().split(separator: "/", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        guard pieces.count == 2, !pieces[0].isEmpty, !pieces[1].isEmpty else { return ("text", "plain", parameters) }
        return (pieces[0], pieces[1], parameters)
    }

    /// `value; name=token; name="quoted \" string"` → the value and its parameters (names lowercased).
    /// Comments in parentheses are not supported; they end up in a parameter's value, which is harmless here.
    static func parameterised(_ text: String) -> (String, [String: String]) {
        let scalars = Array(text.unicodeScalars)
        var index = 0
        var head = String.UnicodeScalarView()
        while index < scalars.count, scalars[index] != ";" { head.append(scalars[index]); index += 1 }
        var parameters: [String: String] = [:]
        while index < scalars.count, parameters.count < 32 {
            index += 1   // the ";"
            while index < scalars.count, scalars[index] == " " || scalars[index] == "\t" { index += 1 }
            var name = String.UnicodeScalarView()
            while index < scalars.count, scalars[index] != "=", scalars[index] != ";" { name.append(scalars[index]); index += 1 }
            guard index < scalars.count, scalars[index] == "=" else { continue }
            index += 1
            while index < scalars.count, scalars[index] == " " || scalars[index] == "\t" { index += 1 }
            var value = String.UnicodeScalarView()
            if index < scalars.count, scalars[index] == "\"" {
                index += 1
                while index < scalars.count, scalars[index] != "\"" {
                    if scalars[index] == "\\", index + 1 < scalars.count { index += 1 }
                    value.append(scalars[index])
                    index += 1
                }
                while index < scalars.count, scalars[index] != ";" { index += 1 }
            } else {
                while index < scalars.count, scalars[index] != ";" { value.append(scalars[index]); index += 1 }
            }
            let key = String(name).trimmingCharacters(in: .whitespaces).lowercased()
            if !key.isEmpty, parameters[key] == nil { parameters[key] = String(value).trimmingCharacters(in: .whitespaces) }
        }
        return (String(head).trimmingCharacters(in: .whitespaces), parameters)
    }

    /// Base64, skipping anything outside the alphabet (line breaks, garbage) and stopping at padding.
    static func base64(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 3 / 4)
        var buffer: UInt32 = 0
        var bits = 0
        for byte in bytes {
            let value: UInt32
            switch byte {
            case 0x41...0x5A: value = UInt32(byte - 0x41)
            case 0x61...0x7A: value = UInt32(byte - 0x61 + 26)
            case 0x30...0x39: value = UInt32(byte - 0x30 + 52)
            case 0x2B: value = 62
            case 0x2F: value = 63
            case 0x3D: return out
            default: continue
            }
            buffer = (buffer << 6) | value
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8((buffer >> UInt32(bits)) & 0xFF))
            }
        }
        return out
    }

    /// Quoted-printable: `=XX` escapes and soft line breaks; a malformed escape is kept as written.
    static func quotedPrintable(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        func hex(_ byte: UInt8) -> UInt8? {
            switch byte {
            case 0x30...0x39: return byte - 0x30
            case 0x41...0x46: return byte - 0x41 + 10
            case 0x61...0x66: return byte - 0x61 + 10
            default: return nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == 0x3D {
                if index + 1 < bytes.endIndex, bytes[index + 1] == 0x0A { index += 2; continue }
                if index + 2 < bytes.endIndex, bytes[index + 1] == 0x0D, bytes[index + 2] == 0x0A { index += 3; continue }
                if index + 2 < bytes.endIndex, let high = hex(bytes[index + 1]), let low = hex(bytes[index + 2]) {
                    out.append(high << 4 | low)
                    index += 3
                    continue
                }
            }
            out.append(byte)
            index += 1
        }
        return out
    }
}
