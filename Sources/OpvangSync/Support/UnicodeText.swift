import Foundation

/// The Unicode rules for values read from an export (SPEC §2): what is trimmed, and what a value may hold.
///
/// Trimming removes every `White_Space` scalar (space, tab, NBSP, ideographic space, line breaks, …) and
/// every format character (category Cf: the BOM U+FEFF, zero-width space and joiners, the word joiner,
/// the soft hyphen): invisible at the edge of a value, and a different key or address when kept.
enum UnicodeText {
    /// Whether `scalar` is removed from the ends of a value.
    @inline(__always)
    static func isTrimmed(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.value < 0x80 { return scalar.value == 0x20 || (0x09...0x0D).contains(scalar.value) }
        return scalar.properties.isWhitespace || scalar.properties.generalCategory == .format
    }

    /// A control character (category Cc: C0, DEL, C1) or a line or paragraph separator.
    @inline(__always)
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0x2028 || scalar.value == 0x2029
    }

    /// The range of `bytes` (valid UTF-8) without the trimmed scalars at either end.
    static func trimmedRange(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Range<Int> {
        var start = start, end = end
        while start < end {
            let byte = bytes[start]
            if byte < 0x80 {
                guard byte == 0x20 || (0x09...0x0D).contains(byte) else { break }
                start += 1
                continue
            }
            guard let (scalar, length) = decode(bytes, at: start, end: end), isTrimmed(scalar) else { break }
            start += length
        }
        while end > start {
            let byte = bytes[end - 1]
            if byte < 0x80 {
                guard byte == 0x20 || (0x09...0x0D).contains(byte) else { break }
                end -= 1
                continue
            }
            var first = end - 1
            while first > start, bytes[first] & 0xC0 == 0x80, end - first < 4 { first -= 1 }
            guard let (scalar, length) = decode(bytes, at: first, end: end), first + length == end, isTrimmed(scalar) else { break }
            end = first
        }
        return start..<end
    }

    /// The scalar that starts at `index`, and its length in bytes; nil when the bytes are not UTF-8: a
    /// sequence cut short, an overlong form, a surrogate or a value past U+10FFFF.
    static func decode(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int, end: Int) -> (Unicode.Scalar, Int)? {
        let lead = bytes[index]
        let length: Int
        let minimum: UInt32
        var value: UInt32
        switch lead {
        case 0x00...0x7F: return (Unicode.Scalar(lead), 1)
        case 0xC2...0xDF: length = 2; value = UInt32(lead & 0x1F); minimum = 0x80
        case 0xE0...0xEF: length = 3; value = UInt32(lead & 0x0F); minimum = 0x800
        case 0xF0...0xF4: length = 4; value = UInt32(lead & 0x07); minimum = 0x10000
        default: return nil
        }
        guard index + length <= end else { return nil }
        for offset in 1..<length {
            let next = bytes[index + offset]
            guard next & 0xC0 == 0x80 else { return nil }
            value = value << 6 | UInt32(next & 0x3F)
        }
        guard value >= minimum, let scalar = Unicode.Scalar(value) else { return nil }
        return (scalar, length)
    }
}

extension String {
    /// Without the white space and format characters of `UnicodeText` at either end.
    var trimmingUnicodeSpace: String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !UnicodeText.isTrimmed($0) }),
              let last = scalars.lastIndex(where: { !UnicodeText.isTrimmed($0) }) else { return "" }
        if first == scalars.startIndex && last == scalars.index(before: scalars.endIndex) { return self }
        return String(scalars[first...last])
    }
}

extension StringProtocol {
    /// Whether `needle` occurs in the text, compared byte for byte as UTF-8. Foundation's `contains` on
    /// `String` goes through `NSString` and a locale-aware search: in a loop over thousands of messages
    /// that search was most of the time a report took.
    func containsBytes(_ needle: String) -> Bool {
        let pattern = Array(needle.utf8)
        let search = { (bytes: UnsafeBufferPointer<UInt8>) in
            pattern.withUnsafeBytes { ByteSearch.firstRange(of: $0, in: UnsafeRawBufferPointer(bytes)) != nil }
        }
        return utf8.withContiguousStorageIfAvailable(search) ?? Array(utf8).withUnsafeBufferPointer(search)
    }
}

/// A search for bytes within bytes, as `memmem` does (which Swift does not see in Glibc).
enum ByteSearch {
    /// Where `needle` first occurs in `haystack` (an empty needle at 0): each place that starts with its first
    /// byte is found by `memchr`, and compared whole by `memcmp`.
    static func firstRange(of needle: UnsafeRawBufferPointer, in haystack: UnsafeRawBufferPointer) -> Range<Int>? {
        guard let first = needle.first else { return 0..<0 }
        guard needle.count <= haystack.count, let base = haystack.baseAddress, let pattern = needle.baseAddress else { return nil }
        let last = haystack.count - needle.count
        var start = 0
        while start <= last, let found = memchr(base + start, Int32(first), last - start + 1) {
            start = base.distance(to: UnsafeRawPointer(found))
            if memcmp(found, pattern, needle.count) == 0 { return start..<(start + needle.count) }
            start += 1
        }
        return nil
    }

    /// The same within byte arrays.
    static func firstRange(of needle: [UInt8], in haystack: [UInt8]) -> Range<Int>? {
        needle.withUnsafeBytes { needle in haystack.withUnsafeBytes { firstRange(of: needle, in: $0) } }
    }
}
