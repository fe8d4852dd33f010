import Foundation

/// The checks an address must pass before an account is made for it.
public enum EmailAddress {
    /// A practical check (RFC 5321 shape, no quoting): one `@`, a non-empty local part, a dotted domain,
    /// no spaces. Planning systems hold typos such as `jan@gmail` or `jan @x.nl`; those are not usable.
    public static func isValid(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count <= 254, let at = bytes.firstIndex(of: UInt8(ascii: "@")),
              at > 0, at < bytes.count - 1, bytes.lastIndex(of: UInt8(ascii: "@")) == at else { return false }
        let local = bytes[..<at], domain = bytes[(at + 1)...]
        guard local.count <= 64 else { return false }
        for byte in bytes where byte <= 0x20 || byte == 0x7F || "\"(),:;<>[\\]".utf8.contains(byte) { return false }
        let labels = domain.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard labels.count >= 2, labels.allSatisfy({ !$0.isEmpty && $0.first != UInt8(ascii: "-") && $0.last != UInt8(ascii: "-") }),
              let top = labels.last, top.count >= 2 else { return false }
        return local.first != UInt8(ascii: ".") && local.last != UInt8(ascii: ".")
    }

    /// The form used to compare addresses: trimmed, lowercased.
    public static func normalised(_ text: String) -> String {
        text.trimmingASCIISpaces.lowercased()
    }
}

extension String {
    /// Without leading and trailing spaces and tabs: a native scan, because Foundation's
    /// `trimmingCharacters(in:)` bridges through NSString and shows up in profiles of a 100k-child run.
    var trimmingASCIISpaces: String {
        let bytes = utf8
        guard let first = bytes.firstIndex(where: { $0 != 0x20 && $0 != 0x09 }) else { return "" }
        guard let last = bytes.lastIndex(where: { $0 != 0x20 && $0 != 0x09 }) else { return "" }
        if first == bytes.startIndex && last == bytes.index(before: bytes.endIndex) { return self }
        return String(self[first...last])
    }
}
