/// Dutch citizen service numbers (burgerservicenummer): never stored, reported or logged (SPEC §4
/// "Data minimisation"). Recognised by the 11-proef on nine digits, written together or as `123.456.782`.
public enum BSN {
    /// True for nine digits that pass the 11-proef (weights 9…2, and −1 for the last digit).
    public static func isValid<Digits: Collection>(_ digits: Digits) -> Bool where Digits.Element == Int {
        guard digits.count == 9, digits.contains(where: { $0 != 0 }) else { return false }
        var sum = 0
        for (index, digit) in digits.enumerated() { sum += digit * (index == 8 ? -1 : 9 - index) }
        return sum % 11 == 0
    }

    /// The text with every BSN replaced by `[BSN verwijderd]`, or nil when it holds none.
    ///
    /// Runs over the UTF-8 bytes: every field of every row passes through here, so a text with fewer
    /// than nine digits (almost all of them) is dismissed after one cheap count.
    public static func redacted(_ text: String) -> String? {
        var digitCount = 0
        for byte in text.utf8 where byte &- 0x30 < 10 { digitCount += 1 }
        guard digitCount >= 9 else { return nil }

        let bytes = Array(text.utf8)
        var output: [UInt8] = []
        var found = false
        var index = 0
        func isDigit(_ i: Int) -> Bool { i < bytes.count && bytes[i] &- 0x30 < 10 }
        while index < bytes.count {
            guard isDigit(index), index == 0 || !isDigit(index - 1) else {
                output.append(bytes[index])
                index += 1
                continue
            }
            // A run of digits, with single dots, spaces or hyphens between groups.
            var end = index
            var digits: [Int] = []
            while end < bytes.count {
                if isDigit(end) {
                    digits.append(Int(bytes[end] - 0x30))
                    end += 1
                } else if BSN.isGroupSeparator(bytes[end]), isDigit(end + 1) {
                    end += 1
                } else {
                    break
                }
            }
            if isValid(digits) {
                output += Array("[BSN verwijderd]".utf8)
                found = true
            } else {
                output += bytes[index..<end]
            }
            index = end
        }
        return found ? String(decoding: output, as: UTF8.self) : nil
    }

    /// Single characters that may stand between the digit groups of one written number.
    static func isGroupSeparator(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: ".") || byte == UInt8(ascii: " ") || byte == UInt8(ascii: "-")
            || byte == UInt8(ascii: "/") || byte == UInt8(ascii: "_")
    }

    /// What a key value says about citizen service numbers: whether it holds a run of exactly nine digits
    /// (or eight: a BSN whose leading zero a spreadsheet dropped)
    /// (on its own, inside a code such as `K098430002`, or in groups such as `123.456.782`), and whether
    /// such a run passes the 11-proef.
    public static func keyEvidence(_ text: String) -> KeyEvidence {
        keyEvidence(utf8: text.utf8)
    }

    /// Whether a key value holds a run of nine digits, and whether one passes the 11-proef.
    public typealias KeyEvidence = (nineDigits: Bool, passes: Bool)

    /// `keyEvidence` of the text whose UTF-8 is `utf8`: a CSV file's field is weighed on its bytes, without
    /// its text being made.
    public static func keyEvidence<Bytes: Collection>(utf8: Bytes) -> KeyEvidence where Bytes.Element == UInt8 {
        // Every identifier of every row passes through here: most hold fewer than eight digits in all.
        var digitCount = 0
        for byte in utf8 where byte &- 0x30 < 10 { digitCount += 1 }
        guard digitCount >= 8 else { return (false, false) }
        var nineDigits = false, passes = false
        var run: [Int] = []
        func close() {
            // Leading zeros say nothing (a system that pads its numbers to ten digits, a spreadsheet that
            // drops the zero of 012345672): what is left is weighed when it has eight or nine digits.
            var digits = run[...]
            if digits.count > 9 { digits = digits.drop { $0 == 0 } }
            if digits.count == 9 || digits.count == 8 {
                nineDigits = true
                if isValid(digits.count == 8 ? [0] + digits : Array(digits)) { passes = true }
            }
            run.removeAll(keepingCapacity: true)
        }
        let bytes = Array(utf8)
        for (index, byte) in bytes.enumerated() {
            if byte &- 0x30 < 10 {
                run.append(Int(byte - 0x30))
            } else if !run.isEmpty, BSN.isGroupSeparator(byte), index + 1 < bytes.count, bytes[index + 1] &- 0x30 < 10 {
                continue  // `123.456.782`, `123 456 782` and `123-456-782` are one number, as in `redacted`
            } else {
                close()
            }
        }
        close()
        return (nineDigits, passes)
    }
}
