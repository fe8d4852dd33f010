#if arch(x86_64)
import _Builtin_intrinsics.intel.cpuid
import SHA256Instructions
#endif

/// SHA-256 (FIPS 180-4), checked against the NIST example vectors in the tests.
///
/// Written here rather than linked from libcrypto: it is small and has no build-time dependency. It checks
/// every export file against its manifest each night, so its speed sets the floor of a quiet night: where
/// the processor has the SHA extensions (most x86 servers since 2017–2021) whole blocks go through them,
/// about six times the speed of the portable rounds below, which every other processor uses.
public struct SHA256: Sendable {
    /// How whole blocks are hashed.
    public enum Rounds: Sendable {
        /// The processor's SHA instructions.
        case instructions
        /// The rounds written out in Swift.
        case portable

        /// The processor's instructions where it has them (SHA, SSSE3 and SSE4.1), the portable rounds
        /// otherwise. Asked once per process.
        public static let fastest: Rounds = {
            #if arch(x86_64)
            var a: UInt32 = 0, b: UInt32 = 0, c: UInt32 = 0, d: UInt32 = 0
            guard __get_cpuid_count(1, 0, &a, &b, &c, &d) != 0 else { return .portable }
            let ssse3 = c & (1 << 9) != 0, sse41 = c & (1 << 19) != 0
            guard __get_cpuid_count(7, 0, &a, &b, &c, &d) != 0 else { return .portable }
            let sha = b & (1 << 29) != 0
            return ssse3 && sse41 && sha ? .instructions : .portable
            #else
            return .portable
            #endif
        }()
    }

    private static let k: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]

    /// The eight working words, as eight values rather than an array: the rounds run on them directly.
    private var h0: UInt32 = 0x6a09e667, h1: UInt32 = 0xbb67ae85, h2: UInt32 = 0x3c6ef372, h3: UInt32 = 0xa54ff53a
    private var h4: UInt32 = 0x510e527f, h5: UInt32 = 0x9b05688c, h6: UInt32 = 0x1f83d9ab, h7: UInt32 = 0x5be0cd19
    private var pending: [UInt8] = []
    private var length: UInt64 = 0
    private let rounds: Rounds

    /// A hasher on the fastest rounds this processor has; `rounds` chooses them, for the tests that hold
    /// the two against each other.
    public init(rounds: Rounds = .fastest) {
        self.rounds = Rounds.fastest == .instructions ? rounds : .portable
        pending.reserveCapacity(64)
    }

    /// Feeds more bytes; whole 64-byte blocks are hashed straight from the caller's buffer.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        length &+= UInt64(bytes.count)
        var index = 0
        if !pending.isEmpty {
            while index < bytes.count, pending.count < 64 {
                pending.append(bytes[index])
                index += 1
            }
            guard pending.count == 64 else { return }
            compress(pending)
            pending.removeAll(keepingCapacity: true)
        }
        let whole = (bytes.count - index) / 64
        if whole > 0 {
            compress(blocks: UnsafeRawBufferPointer(rebasing: bytes[index..<(index + whole * 64)]))
            index += whole * 64
        }
        pending.append(contentsOf: bytes[index...])
    }

    /// Feeds more bytes.
    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The digest; the hasher should not be used afterwards.
    public mutating func finalize() -> [UInt8] {
        let bitLength = length &* 8
        var tail = pending
        tail.append(0x80)
        while tail.count % 64 != 56 { tail.append(0) }
        for shift in stride(from: 56, through: 0, by: -8) {
            tail.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift)))
        }
        compress(tail)
        var digest: [UInt8] = []
        digest.reserveCapacity(32)
        for word in [h0, h1, h2, h3, h4, h5, h6, h7] {
            digest.append(UInt8(truncatingIfNeeded: word >> 24))
            digest.append(UInt8(truncatingIfNeeded: word >> 16))
            digest.append(UInt8(truncatingIfNeeded: word >> 8))
            digest.append(UInt8(truncatingIfNeeded: word))
        }
        return digest
    }

    private mutating func compress(_ blocks: [UInt8]) {
        blocks.withUnsafeBytes { compress(blocks: $0) }
    }

    /// Whole 64-byte blocks (FIPS 180-4 §6.2.2). The working words stay in locals from block to block, the
    /// message schedule in a 64-word buffer on the stack, and the rounds are unrolled eight at a time so
    /// that the words rotate through the arguments instead of being moved: about twice the speed of a
    /// straightforward loop over an array state.
    private mutating func compress(blocks: UnsafeRawBufferPointer) {
        #if arch(x86_64)
        if rounds == .instructions {
            var state = (h0, h1, h2, h3, h4, h5, h6, h7)
            SHA256Instructions.compress(state: &state, blocks: blocks)
            (h0, h1, h2, h3, h4, h5, h6, h7) = state
            return
        }
        #endif
        var s0 = h0, s1 = h1, s2 = h2, s3 = h3, s4 = h4, s5 = h5, s6 = h6, s7 = h7
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { w in
            SHA256.k.withUnsafeBufferPointer { k in
                var offset = 0
                while offset + 64 <= blocks.count {
                    for t in 0..<16 {
                        w[t] = UInt32(bigEndian: blocks.loadUnaligned(fromByteOffset: offset + t * 4, as: UInt32.self))
                    }
                    for t in 16..<64 {
                        let x = w[t - 15], y = w[t - 2]
                        let sigma0 = x.rotatedRight(7) ^ x.rotatedRight(18) ^ (x >> 3)
                        let sigma1 = y.rotatedRight(17) ^ y.rotatedRight(19) ^ (y >> 10)
                        w[t] = w[t - 16] &+ sigma0 &+ w[t - 7] &+ sigma1
                    }
                    var a = s0, b = s1, c = s2, d = s3, e = s4, f = s5, g = s6, h = s7
                    var t = 0
                    while t < 64 {
                        SHA256.round(a, b, c, &d, e, f, g, &h, k[t] &+ w[t])
                        SHA256.round(h, a, b, &c, d, e, f, &g, k[t + 1] &+ w[t + 1])
                        SHA256.round(g, h, a, &b, c, d, e, &f, k[t + 2] &+ w[t + 2])
                        SHA256.round(f, g, h, &a, b, c, d, &e, k[t + 3] &+ w[t + 3])
                        SHA256.round(e, f, g, &h, a, b, c, &d, k[t + 4] &+ w[t + 4])
                        SHA256.round(d, e, f, &g, h, a, b, &c, k[t + 5] &+ w[t + 5])
                        SHA256.round(c, d, e, &f, g, h, a, &b, k[t + 6] &+ w[t + 6])
                        SHA256.round(b, c, d, &e, f, g, h, &a, k[t + 7] &+ w[t + 7])
                        t += 8
                    }
                    s0 &+= a; s1 &+= b; s2 &+= c; s3 &+= d; s4 &+= e; s5 &+= f; s6 &+= g; s7 &+= h
                    offset += 64
                }
            }
        }
        h0 = s0; h1 = s1; h2 = s2; h3 = s3; h4 = s4; h5 = s5; h6 = s6; h7 = s7
    }

    /// One round: `d` gains T1, `h` becomes T1 + T2; the caller passes the words rotated for the next.
    @inline(__always)
    private static func round(_ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: inout UInt32,
                              _ e: UInt32, _ f: UInt32, _ g: UInt32, _ h: inout UInt32, _ kw: UInt32) {
        let temp1 = h &+ (e.rotatedRight(6) ^ e.rotatedRight(11) ^ e.rotatedRight(25)) &+ (g ^ (e & (f ^ g))) &+ kw
        let temp2 = (a.rotatedRight(2) ^ a.rotatedRight(13) ^ a.rotatedRight(22)) &+ ((a & b) | (c & (a | b)))
        d &+= temp1
        h = temp1 &+ temp2
    }

    /// The digest of `bytes` as lowercase hex.
    public static func hex(of bytes: [UInt8], rounds: Rounds = .fastest) -> String {
        var hasher = SHA256(rounds: rounds)
        hasher.update(bytes)
        return hasher.finalize().hexString
    }
}

extension UInt32 {
    fileprivate func rotatedRight(_ count: UInt32) -> UInt32 { (self >> count) | (self << (32 - count)) }
}

extension Sequence where Element == UInt8 {
    /// Lowercase hexadecimal.
    public var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var bytes: [UInt8] = []
        for byte in self {
            bytes.append(digits[Int(byte >> 4)])
            bytes.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
