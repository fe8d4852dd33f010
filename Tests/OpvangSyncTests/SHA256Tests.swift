import Foundation
import Testing
@testable import OpvangSync

/// The NIST FIPS 180-4 example vectors (and the CAVP "long message" one).
@Suite struct SHA256Tests {
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        ("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"),
    ])
    func nistVectors(message: String, digest: String) {
        #expect(SHA256.hex(of: Array(message.utf8)) == digest)
        #expect(SHA256.hex(of: Array(message.utf8), rounds: .portable) == digest)
    }

    @Test(arguments: [SHA256.Rounds.fastest, .portable])
    func oneMillionAs(rounds: SHA256.Rounds) {
        let bytes = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        #expect(SHA256.hex(of: bytes, rounds: rounds) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// The processor's instructions are used exactly where /proc/cpuinfo says it has them.
    @Test func theProcessorsSHAInstructionsAreUsedWhereItHasThem() throws {
        #if arch(x86_64)
        let cpuinfo = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let flags = cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") }.map { Set($0.split(separator: " ")) } ?? []
        let has = ["sha_ni", "ssse3", "sse4_1"].allSatisfy { flags.contains(Substring($0)) }
        #expect(SHA256.Rounds.fastest == (has ? .instructions : .portable))
        #else
        #expect(SHA256.Rounds.fastest == .portable)
        #endif
    }

    /// Every length from 0 to 300 bytes (every position of the padding and of a block boundary), and two
    /// longer messages, fed whole and in uneven pieces: the two kinds of rounds give the same digest.
    /// (Skipped, and said so, on a processor without the instructions: there both sides would be portable.)
    @Test(.enabled(if: SHA256.Rounds.fastest == .instructions, "this processor has no SHA instructions"))
    func theInstructionsAndThePortableRoundsAgree() {
        var seed: UInt64 = 0x9e3779b97f4a7c15
        func bytes(_ count: Int) -> [UInt8] {
            (0..<count).map { _ in
                seed = seed &* 6364136223846793005 &+ 1442695040888963407
                return UInt8(truncatingIfNeeded: seed >> 56)
            }
        }
        for message in (0...300).map(bytes) + [bytes(4096 + 7), bytes(100_003)] {
            let portable = SHA256.hex(of: message, rounds: .portable)
            #expect(SHA256.hex(of: message) == portable, "\(message.count) bytes")
            var pieces = SHA256()
            var start = 0, step = 1
            while start < message.count {
                pieces.update(Array(message[start..<min(start + step, message.count)]))
                start += step
                step = step * 3 % 191 + 1
            }
            #expect(pieces.finalize().hexString == portable, "\(message.count) bytes in pieces")
        }
    }

    @Test func feedingInPiecesGivesTheSameDigest() {
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var hasher = SHA256()
        for chunk in stride(from: 0, to: bytes.count, by: 37) {
            hasher.update(Array(bytes[chunk..<min(chunk + 37, bytes.count)]))
        }
        #expect(hasher.finalize().hexString == SHA256.hex(of: bytes))
    }
}
