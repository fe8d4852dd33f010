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
    public static func redacted(_ text: String) -> String? {
        let characters = Array(text)
        var output = ""
        var found = false
        var index = 0
        while index < characters.count {
            guard characters[index].isASCII, characters[index].isNumber,
                  index == 0 || !(characters[index - 1].isASCII && characters[index - 1].isNumber) else {
                output.append(characters[index])
                index += 1
                continue
            }
            // A run of digits, with single dots or spaces between groups.
            var end = index
            var digits: [Int] = []
            while end < characters.count {
                if characters[end].isASCII, let digit = characters[end].wholeNumberValue {
                    digits.append(digit)
                    end += 1
                } else if (characters[end] == "." || characters[end] == " "), end + 1 < characters.count,
                          characters[end + 1].isASCII, characters[end + 1].isNumber, !digits.isEmpty {
                    end += 1
                } else {
                    break
                }
            }
            if isValid(digits) {
                output += "[BSN verwijderd]"
                found = true
            } else {
                output += String(characters[index..<end])
            }
            index = end
        }
        return found ? output : nil
    }
}
