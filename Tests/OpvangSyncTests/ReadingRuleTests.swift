import Testing
@testable import OpvangSync

/// Unit tests of the reading rules of SPEC §2 that the end-to-end tests reach through the binary.
@Suite struct ReadingRuleTests {
    @Test func punycodeMatchesTheSamplesOfRFC3492() {
        func encode(_ text: String) -> String? { Punycode.encode(Array(text.unicodeScalars)) }
        #expect(encode("bücher") == "bcher-kva")
        #expect(encode("münchen") == "mnchen-3ya")
        #expect(encode("\u{644}\u{64A}\u{647}\u{645}\u{627}\u{628}\u{62A}\u{643}\u{644}\u{645}\u{648}\u{634}\u{639}\u{631}\u{628}\u{64A}\u{61F}")
                == "egbpdaj6bu4bxfgehfvwxn")                                 // RFC 3492 7.1 (A) Arabic
        #expect(encode("3\u{5E74}B\u{7D44}\u{91D1}\u{516B}\u{5148}\u{751F}") == "3B-ww4c5e180e575a65lsy2b")   // (L)
        #expect(encode("\u{305D}\u{306E}\u{30B9}\u{30D4}\u{30FC}\u{30C9}\u{3067}") == "d9juau41awczczp")      // (S)
    }

    @Test func anInternationalisedDomainIsUsedAsItsALabel() {
        #expect(EmailAddress.normalised(" Jan@Bücher.Example\u{A0}") == "jan@xn--bcher-kva.example")
        #expect(EmailAddress.normalised("jan@example.nl") == "jan@example.nl")
        // A plain ASCII domain in capitals is as valid as in small letters.
        #expect(EmailAddress.problem("Jan@Example.NL") == nil)
        #expect(EmailAddress.asciiDomain("Example.NL") == "example.nl")
        #expect(EmailAddress.isValid("jan@bücher.example"))
        #expect(!EmailAddress.isValid("jan@b☃cher.example"), "a symbol is no letter of a domain name")
    }

    @Test func unusableAddressesSayWhy() {
        #expect(EmailAddress.problem("a..b@example.nl") == "twee punten achter elkaar")
        #expect(EmailAddress.problem("a@example..nl") == "twee punten achter elkaar")
        #expect(EmailAddress.problem("a@exa_mple.nl") == "een _ in het domein")
        #expect(EmailAddress.problem("a@example.123") == "de topleveldomeinnaam bestaat uit cijfers")
        #expect(EmailAddress.problem("ïnge@example.nl") == "tekens buiten ASCII vóór de @")
        #expect(EmailAddress.problem("jan@gmail") != nil)
        #expect(EmailAddress.problem("jan.de.vries+opvang@example.co.uk") == nil)
    }

    /// The byte-by-byte check of ASCII addresses gives what the general check gives, message and all: for
    /// every address of the rule tests and for 30,000 generated ones, made of the characters the rules
    /// look at (both cases, dots, hyphens, underscores, `@`, spaces, control characters, the characters a
    /// local part may not hold) at lengths around the limits of 63, 64 and 254.
    @Test func theASCIICheckOfAnAddressAgreesWithTheGeneralOne() {
        func ascii(_ text: String) -> String? {
            var text = text
            return text.withUTF8(EmailAddress.asciiProblem)
        }
        let fixed = ["a..b@example.nl", "a@example..nl", "a@exa_mple.nl", "a@example.123", "Jan@Example.NL", "@x.nl", "a@", "a@b",
                     "a@.nl", "a@nl.", ".a@x.nl", "a.@x.nl", "a b@x.nl", "a\u{0}b@x.nl", "a\u{7F}@x.nl", "a@-x.nl", "a@x-.nl",
                     "a@x.n", "a@x.10", "a@x.0", "a@x.1a", "a@@x.nl", "a@x@y.nl", "\"a\"@x.nl", "a@x y.nl", "a@X.NL", String(repeating: "a", count: 64) + "@x.nl",
                     String(repeating: "a", count: 65) + "@x.nl", "a@" + String(repeating: "b", count: 63) + ".nl",
                     "a@" + String(repeating: "b", count: 64) + ".nl", String(repeating: "a", count: 60) + "@" + Array(repeating: String(repeating: "b", count: 60), count: 4).joined(separator: ".") + ".nl"]
        for address in fixed {
            #expect(ascii(address) == EmailAddress.generalProblem(address), "\(address.debugDescription)")
        }
        let alphabet = Array("aZ09.-_@ \t\u{0}\u{7F}\"(),:;<>[\\]+!".utf8)
        var seed: UInt64 = 0x2545F4914F6CDD1D
        func next(_ bound: Int) -> Int {
            seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17
            return Int(seed % UInt64(bound))
        }
        var disagreements: [String] = []
        for _ in 0..<30_000 {
            // Mostly address-shaped: a local part, an @, and dotted labels, each sometimes damaged.
            var bytes: [UInt8] = []
            let lengths = [1, 2, 3, 8, 62, 63, 64, 65, 120]
            for _ in 0..<lengths[next(lengths.count)] { bytes.append(next(4) == 0 ? alphabet[next(alphabet.count)] : UInt8(ascii: "a")) }
            if next(8) != 0 { bytes.append(UInt8(ascii: "@")) }
            for label in 0..<(1 + next(4)) {
                if label > 0 { bytes.append(UInt8(ascii: ".")) }
                let digits = next(8) == 0
                for _ in 0..<lengths[next(lengths.count)] {
                    if digits { bytes.append(UInt8(ascii: "0") + UInt8(next(10))); continue }
                    bytes.append(next(6) == 0 ? alphabet[next(alphabet.count)] : UInt8(ascii: next(2) == 0 ? "b" : "B"))
                }
            }
            let address = String(decoding: bytes, as: UTF8.self)
            if ascii(address) != EmailAddress.generalProblem(address) { disagreements.append(address) }
        }
        #expect(disagreements.isEmpty, "\(disagreements.prefix(5).map(\.debugDescription))")
    }

    @Test func anIntegerValuedJSONNumberIsThatInteger() {
        #expect(JSONNumber.integerText("100003") == "100003")
        #expect(JSONNumber.integerText("00123") == "00123", "a plain integer keeps its digits")
        #expect(JSONNumber.integerText("100003.0") == "100003")
        #expect(JSONNumber.integerText("1.00003e5") == "100003")
        #expect(JSONNumber.integerText("1000030E-1") == "100003")
        #expect(JSONNumber.integerText("-0.0") == "0")
        #expect(JSONNumber.integerText("100003.5") == nil)
        #expect(JSONNumber.integerText("1e-1") == nil)
        #expect(JSONNumber.integerText("1e400") == nil, "too large to be a key")
        #expect(JSONNumber.integerText("100003.5", truncating: true) == "100003")
    }

    @Test func aKeyGivenTwiceInOneJSONObjectIsAnErrorAtTheSecond() {
        let error = #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(Array("{\"a\": 1,\n  \"a\": 2}".utf8)) }
        #expect(error?.line == 2)
        #expect(error?.column == 3)
        // Past the small-object scan, the set catches it as well.
        let many = "{" + (0..<20).map { "\"k\($0)\": \($0)" }.joined(separator: ", ") + ", \"k3\": 0}"
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(Array(many.utf8)) }
    }

    @Test func invalidUTF8InAJSONStringIsAnError() {
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse([0x22, 0x61, 0xC3, 0x22]) }
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse([0x22, 0xED, 0xA0, 0x80, 0x22]) }
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse([0x22, 0xC0, 0xAF, 0x22]) }
        #expect((try? JSONParser.parse(Array("\"Koç\"".utf8)))?.string == "Koç")
    }

    @Test func encodingDetectionRefusesDamageInAUTF8File() {
        let mixed = Array("a;b\nZoë;".utf8) + [0xFF]
        let error = #expect(throws: EncodingFailure.self) { try TextDecoder.decode(mixed, as: .auto) }
        #expect(error?.reason == .invalidUTF8InUTF8File)
        #expect(error?.line == 2)
        #expect(error?.column == 6)
        for undefined: UInt8 in [0x81, 0x8D, 0x8F, 0x90, 0x9D] {
            let failure = #expect(throws: EncodingFailure.self) { try TextDecoder.decode([0x41, 0xEB, undefined], as: .auto) }
            #expect(failure?.reason == .undefinedInWindows1252)
            #expect(failure?.column == 3)
        }
    }

    @Test func fieldsAreTrimmedOfUnicodeWhiteSpaceAndFormatCharacters() throws {
        let rows = try records("\u{FEFF}K1\u{A0};\u{200B} x \u{2060};\"\u{3000}y\u{2029}\"\n")
        #expect(rows[0].fields == ["K1", "x", "y"])
    }
}
