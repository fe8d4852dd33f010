import Testing
@testable import OpvangSync

/// `containsBytes`, the substring test the report uses on every message instead of Foundation's.
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
}
