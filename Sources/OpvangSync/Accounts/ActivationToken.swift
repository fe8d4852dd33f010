/// A single-use activation token: 256 bits from the system's random source (getrandom on Linux),
/// base64url without padding. Only its SHA-256 is ever stored.
public struct ActivationToken: Sendable {
    public let text: String

    public init() {
        var generator = SystemRandomNumberGenerator()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        for _ in 0..<4 {
            let word = generator.next()
            for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: word >> UInt64(shift))) }
        }
        text = ActivationToken.base64url(bytes)
    }

    /// What the portal stores and compares: the SHA-256 of the token text, in hex.
    public var hash: String { ActivationToken.hash(of: text) }

    public static func hash(of token: String) -> String { SHA256.hex(of: Array(token.utf8)) }

    static func base64url(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        var output = ""
        var index = 0
        while index + 3 <= bytes.count {
            let value = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            for shift in [18, 12, 6, 0] { output.append(alphabet[Int((value >> UInt32(shift)) & 63)]) }
            index += 3
        }
        let rest = bytes.count - index
        if rest > 0 {
            var value = UInt32(bytes[index]) << 16
            if rest == 2 { value |= UInt32(bytes[index + 1]) << 8 }
            for shift in [18, 12, 6, 0].prefix(rest + 1) { output.append(alphabet[Int((value >> UInt32(shift)) & 63)]) }
        }
        return output
    }
}
