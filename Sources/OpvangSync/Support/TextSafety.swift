/// Text from outside (an export, a manifest, a mail server) on its way to a terminal, a log or a header:
/// the characters that could change what the reader sees around it.
public enum TextSafety {
    /// C0 and C1 control characters, DEL, the Unicode line and paragraph separators, and the marks and
    /// overrides that reorder text (bidi): none of them belongs in a name, a key or a message.
    public static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        return UnicodeText.isControl(scalar)
            || value == 0x200E || value == 0x200F || value == 0x061C
            || (0x202A...0x202E).contains(value) || (0x2066...0x2069).contains(value)
    }

    /// `text` with every control character shown as `\u{…}`: what it says stays readable, and no escape
    /// sequence, carriage return or line break from the data reaches a terminal or a log line. Line breaks
    /// of the program's own text are kept when `keepingLineBreaks` is set.
    public static func visible(_ text: String, keepingLineBreaks: Bool = false) -> String {
        guard text.unicodeScalars.contains(where: { isControl($0) && !(keepingLineBreaks && ($0 == "\n" || $0 == "\t")) }) else {
            return text
        }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if isControl(scalar), !(keepingLineBreaks && (scalar == "\n" || scalar == "\t")) {
                out.append(contentsOf: "\\u{\(String(scalar.value, radix: 16))}".unicodeScalars)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    /// True when every byte of `text` is printable ASCII (space to `~`) and none is one of `special`: text
    /// an escaper gives back as it is. Most of a report is such text, so the escapers ask this first and
    /// look at characters one by one only when it says no.
    static func isPlainASCII(_ text: String, avoiding special: StaticString) -> Bool {
        var avoided: (UInt64, UInt64) = (0, 0)
        special.withUTF8Buffer { bytes in
            for byte in bytes where byte < 0x80 {
                if byte < 64 { avoided.0 |= 1 << UInt64(byte) } else { avoided.1 |= 1 << UInt64(byte - 64) }
            }
        }
        func plain(_ byte: UInt8) -> Bool {
            guard byte >= 0x20, byte < 0x7F else { return false }
            return byte < 64 ? avoided.0 & (1 << UInt64(byte)) == 0 : avoided.1 & (1 << UInt64(byte - 64)) == 0
        }
        return text.utf8.withContiguousStorageIfAvailable { $0.allSatisfy(plain) } ?? text.utf8.allSatisfy(plain)
    }
}
