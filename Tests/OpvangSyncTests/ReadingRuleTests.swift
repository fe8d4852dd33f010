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
