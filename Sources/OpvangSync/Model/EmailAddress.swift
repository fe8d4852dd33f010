import Foundation

/// The checks an address must pass before an account is made for it, and the form it is used in.
public enum EmailAddress {
    /// A practical check (RFC 5321 shape, no quoting): one `@`, a non-empty local part, a dotted domain,
    /// no spaces. Planning systems hold typos such as `jan@gmail` or `jan @x.nl`; those are not usable.
    public static func isValid(_ text: String) -> Bool { problem(text) == nil }

    /// Why `text` is no usable address, in Dutch for the report (never repeating the address), or nil.
    ///
    /// The local part must be ASCII (an internationalised local part needs SMTPUTF8, which mail servers
    /// of parents cannot be assumed to have); the domain may be internationalised and is then used in
    /// its IDNA A-label form (`bücher.nl` → `xn--bcher-kva.nl`).
    public static func problem(_ text: String) -> String? {
        // Nearly every address is ASCII: checked byte by byte, to the same rules in the same order.
        if text.utf8.allSatisfy({ $0 < 0x80 }) {
            var text = text
            return text.withUTF8(asciiProblem)
        }
        return generalProblem(text)
    }

    /// `problem` for any text, by Unicode scalar.
    static func generalProblem(_ text: String) -> String? {
        let scalars = Array(text.unicodeScalars)
        guard let at = scalars.firstIndex(of: "@"), scalars.lastIndex(of: "@") == at else {
            return "er moet precies één @ in staan"
        }
        let local = scalars[..<at], domain = String(String.UnicodeScalarView(scalars[(at + 1)...]))
        guard !local.isEmpty else { return "niets vóór de @" }
        guard !domain.isEmpty else { return "geen domein na de @" }
        guard local.allSatisfy(\.isASCII) else { return "tekens buiten ASCII vóór de @" }
        guard local.count <= 64 else { return "het deel vóór de @ is langer dan 64 tekens" }
        for scalar in local where scalar.value <= 0x20 || scalar.value == 0x7F || "\"(),:;<>[\\]".unicodeScalars.contains(scalar) {
            return "een spatie, stuurteken of een van \"(),:;<>[\\] vóór de @"
        }
        if local.first == "." || local.last == "." { return "een punt aan het begin of eind vóór de @" }
        if zip(local, local.dropFirst()).contains(where: { $0 == "." && $1 == "." }) { return "twee punten achter elkaar" }
        guard let ascii = asciiDomain(domain) else { return "de domeinnaam bevat tekens die in een domeinnaam niet mogen" }
        let labels = ascii.split(separator: ".", omittingEmptySubsequences: false)
        if labels.contains(where: \.isEmpty) {
            return ascii.contains("..") ? "twee punten achter elkaar" : "een punt aan het begin of eind van het domein"
        }
        guard labels.count >= 2 else { return "het domein heeft geen punt (zoals example.nl)" }
        for label in labels {
            if label.contains("_") { return "een _ in het domein" }
            guard label.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }) else {
                return "de domeinnaam bevat tekens die in een domeinnaam niet mogen"
            }
            if label.first == "-" || label.last == "-" { return "een streepje aan het begin of eind van een deel van het domein" }
            if label.utf8.count > 63 { return "een deel van het domein is langer dan 63 tekens" }
        }
        let top = labels[labels.count - 1]
        if top.utf8.count < 2 { return "de topleveldomeinnaam is korter dan twee tekens" }
        if top.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) { return "de topleveldomeinnaam bestaat uit cijfers" }
        if local.count + 1 + ascii.utf8.count > 254 { return "het adres is langer dan 254 tekens" }
        return nil
    }

    /// `problem` for ASCII text, on its bytes: the checks of `generalProblem`, in its order, with its messages.
    static func asciiProblem(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        let at = UInt8(ascii: "@"), dot = UInt8(ascii: "."), hyphen = UInt8(ascii: "-")
        guard let position = bytes.firstIndex(of: at), bytes.lastIndex(of: at) == position else {
            return "er moet precies één @ in staan"
        }
        let local = UnsafeBufferPointer(rebasing: bytes[..<position])
        let domain = UnsafeBufferPointer(rebasing: bytes[(position + 1)...])
        guard !local.isEmpty else { return "niets vóór de @" }
        guard !domain.isEmpty else { return "geen domein na de @" }
        guard local.count <= 64 else { return "het deel vóór de @ is langer dan 64 tekens" }
        for byte in local where byte <= 0x20 || byte == 0x7F || forbiddenInLocalPart.contains(byte) {
            return "een spatie, stuurteken of een van \"(),:;<>[\\] vóór de @"
        }
        if local.first == dot || local.last == dot { return "een punt aan het begin of eind vóór de @" }
        func twoDots(_ part: UnsafeBufferPointer<UInt8>) -> Bool { zip(part, part.dropFirst()).contains { $0 == dot && $1 == dot } }
        if twoDots(local) { return "twee punten achter elkaar" }
        // The domain as `asciiDomain` gives it: lowercased.
        var labels: [UnsafeBufferPointer<UInt8>] = []
        var start = 0
        for index in 0...domain.count where index == domain.count || domain[index] == dot {
            labels.append(UnsafeBufferPointer(rebasing: domain[start..<index]))
            start = index + 1
        }
        if labels.contains(where: \.isEmpty) {
            return twoDots(domain) ? "twee punten achter elkaar" : "een punt aan het begin of eind van het domein"
        }
        guard labels.count >= 2 else { return "het domein heeft geen punt (zoals example.nl)" }
        func lowered(_ byte: UInt8) -> UInt8 { byte >= 0x41 && byte <= 0x5A ? byte + 0x20 : byte }
        for label in labels {
            if label.contains(UInt8(ascii: "_")) { return "een _ in het domein" }
            guard label.allSatisfy({ byte in
                let byte = lowered(byte)
                return (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == hyphen
            }) else {
                return "de domeinnaam bevat tekens die in een domeinnaam niet mogen"
            }
            if label.first == hyphen || label.last == hyphen { return "een streepje aan het begin of eind van een deel van het domein" }
            if label.count > 63 { return "een deel van het domein is langer dan 63 tekens" }
        }
        let top = labels[labels.count - 1]
        if top.count < 2 { return "de topleveldomeinnaam is korter dan twee tekens" }
        if top.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) { return "de topleveldomeinnaam bestaat uit cijfers" }
        if local.count + 1 + domain.count > 254 { return "het adres is langer dan 254 tekens" }
        return nil
    }

    /// The characters a local part may not hold besides spaces and control characters.
    private static let forbiddenInLocalPart: Set<UInt8> = Set("\"(),:;<>[\\]".utf8)

    /// The form used to log in, to mail and to compare addresses: trimmed, lowercased, and with an
    /// internationalised domain as its IDNA A-label (what goes into `To:` and the SMTP envelope).
    public static func normalised(_ text: String) -> String {
        let lowered = text.trimmingUnicodeSpace.lowercased()
        guard let at = lowered.lastIndex(of: "@"), !lowered[lowered.index(after: at)...].allSatisfy(\.isASCII),
              let domain = asciiDomain(String(lowered[lowered.index(after: at)...])) else { return lowered }
        return String(lowered[...at]) + domain
    }

    /// `domain` lowercased, NFC, with every label that holds more than ASCII as `xn--` + Punycode; nil when
    /// a label holds something other than letters, marks, digits and hyphens.
    static func asciiDomain(_ domain: String) -> String? {
        // Nearly every address: nothing to compose or encode, and Foundation's normalisation is costly.
        if domain.utf8.allSatisfy({ $0 < 0x80 }) { return domain.lowercased() }
        let lowered = domain.precomposedStringWithCanonicalMapping.lowercased()
        var labels: [String] = []
        for label in lowered.split(separator: ".", omittingEmptySubsequences: false) {
            if label.unicodeScalars.allSatisfy(\.isASCII) {
                labels.append(String(label))
                continue
            }
            for scalar in label.unicodeScalars where !scalar.isASCII {
                switch scalar.properties.generalCategory {
                case .lowercaseLetter, .uppercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
                     .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber:
                    continue
                default:
                    return nil
                }
            }
            guard let encoded = Punycode.encode(Array(label.unicodeScalars)) else { return nil }
            labels.append("xn--" + encoded)
        }
        return labels.joined(separator: ".")
    }
}

/// Punycode (RFC 3492): a Unicode label as ASCII letters, digits and hyphens, for IDNA A-labels.
enum Punycode {
    private static let base = 36, tMin = 1, tMax = 26, skew = 38, damp = 700, initialBias = 72, initialN = 0x80

    /// The Punycode of `input` (without the `xn--` prefix); nil on overflow.
    static func encode(_ input: [Unicode.Scalar]) -> String? {
        var output: [UInt8] = input.filter(\.isASCII).map { UInt8($0.value) }
        let basicCount = output.count
        var handled = basicCount
        if basicCount > 0 { output.append(UInt8(ascii: "-")) }
        var n = initialN, delta = 0, bias = initialBias
        let codes = input.map { Int($0.value) }
        while handled < codes.count {
            guard let m = codes.filter({ $0 >= n }).min() else { return nil }
            let (product, overflow) = (m - n).multipliedReportingOverflow(by: handled + 1)
            guard !overflow, delta <= Int(Int32.max) - product else { return nil }
            delta += product
            n = m
            for code in codes {
                if code < n {
                    delta += 1
                    guard delta <= Int(Int32.max) else { return nil }
                }
                guard code == n else { continue }
                var q = delta
                var k = base
                while true {
                    let t = k <= bias ? tMin : (k >= bias + tMax ? tMax : k - bias)
                    if q < t { break }
                    output.append(digit(t + (q - t) % (base - t)))
                    q = (q - t) / (base - t)
                    k += base
                }
                output.append(digit(q))
                bias = adapt(delta, handled + 1, handled == basicCount)
                delta = 0
                handled += 1
            }
            delta += 1
            n += 1
        }
        return String(decoding: output, as: UTF8.self)
    }

    private static func digit(_ value: Int) -> UInt8 {
        value < 26 ? UInt8(0x61 + value) : UInt8(0x30 + value - 26)
    }

    private static func adapt(_ delta: Int, _ count: Int, _ first: Bool) -> Int {
        var delta = first ? delta / damp : delta / 2
        delta += delta / count
        var k = 0
        while delta > ((base - tMin) * tMax) / 2 {
            delta /= base - tMin
            k += base
        }
        return k + (base - tMin + 1) * delta / (delta + skew)
    }
}
