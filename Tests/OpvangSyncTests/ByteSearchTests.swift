import Testing
@testable import OpvangSync

/// `containsBytes`, the substring test the report uses on every message instead of Foundation's, and the
/// byte search under it, which also finds where the report's lists go in its JSON.
@Suite struct ByteSearchTests {
    @Test func findsWhatFoundationFinds() {
        let cases: [(String, String)] = [
            ("", ""), ("abc", ""), ("", "a"), ("abc", "abc"), ("abc", "abcd"), ("aaab", "aab"), ("xyzaab", "aab"),
            ("de grens (maxExportAgeHours)", "max"), ("zie mail.caFile", "."), ("Zoë://x", "://"), ("Zoë", "oë"),
            ("oe\u{308}", "ë"), ("www.example.nl", "www."), ("ww.w", "www."), ("opvangsync  x", "opvangsync "),
        ]
        for (text, needle) in cases {
            let expected = needle.isEmpty || Array(text.utf8).indices.contains { Array(text.utf8)[$0...].starts(with: Array(needle.utf8)) }
            #expect(text.containsBytes(needle) == expected, "\(text) / \(needle)")
        }
        #expect("aaab".containsBytes("aab") && !"abab".containsBytes("abb") && "x".prefix(1).containsBytes("x"))
    }

    @Test func findsTheFirstPlaceTheBytesOccur() {
        let cases: [(String, String)] = [
            ("", ""), ("abc", ""), ("", "a"), ("abc", "abc"), ("abc", "abcd"), ("aaab", "aab"), ("xyzaab", "aab"),
            ("abab", "ab"), ("abab", "bab"), ("aab", "b"), ("ba", "a"), ("a", "a"), ("zzz", "y"), ("abcabd", "abd"),
            ("\n  \"issues\" : [\n\n  ]", "\n  \"issues\" : [\n\n  ]"), ("x\n  \"changes\" : [\n\n  ]", "\"changes\" : ["),
        ]
        for (text, needle) in cases {
            let bytes = Array(text.utf8), pattern = Array(needle.utf8)
            // The first place, found by trying each in turn.
            let expected = pattern.count > bytes.count ? nil
                : (0...(bytes.count - pattern.count)).first { bytes[$0...].starts(with: pattern) }.map { $0..<($0 + pattern.count) }
            #expect(ByteSearch.firstRange(of: pattern, in: bytes) == expected, "\(text) / \(needle)")
        }
        // A needle whose first byte occurs in the last bytes, where a longer match cannot start.
        #expect(ByteSearch.firstRange(of: Array("cd".utf8), in: Array("abc".utf8)) == nil)
        #expect(ByteSearch.firstRange(of: Array("c".utf8), in: Array("abc".utf8)) == 2..<3)
    }
}
