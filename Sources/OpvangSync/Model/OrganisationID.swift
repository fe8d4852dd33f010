/// The identifier of an organisation (tenant): part of folder and file names, so a plain identifier and
/// nothing else (SPEC §5 "Trust boundary"). It may come from the manifest, `--org` or the configuration,
/// and is checked against the same rule wherever it comes from.
public enum OrganisationID {
    /// The rule, as people read it.
    public static let rule = "[a-z0-9][a-z0-9_-]{0,63}"

    /// True for `^[a-z0-9][a-z0-9_-]{0,63}$`.
    public static func isValid(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard (1...64).contains(bytes.count) else { return false }
        func lowerOrDigit(_ byte: UInt8) -> Bool { (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte) }
        guard lowerOrDigit(bytes[0]) else { return false }
        return bytes.dropFirst().allSatisfy { lowerOrDigit($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }

    /// The text as it may be shown in a message: control characters and anything beyond 64 characters left out.
    public static func shown(_ text: String) -> String {
        let printable = text.unicodeScalars.filter { !TextSafety.isControl($0) }
        let visible = String(String.UnicodeScalarView(printable))
        return visible.count > 64 ? String(visible.prefix(64)) + "…" : visible
    }
}
