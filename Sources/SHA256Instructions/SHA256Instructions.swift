#if arch(x86_64)
import _Builtin_intrinsics.intel

/// SHA-256's compression function on the x86 SHA extensions (`sha256rnds2`, `sha256msg1`, `sha256msg2`).
///
/// This module is compiled with the SHA, SSSE3 and SSE4.1 instruction sets enabled, so nothing in it may run
/// on a processor without them: the caller checks the processor first (see `SHA256` in OpvangSync) and calls
/// `compress` only where it answered yes. The sequence is the one in Intel's description of the extensions:
/// the state is held as ABEF and CDGH, each instruction does two rounds, and the message schedule for
/// rounds 16 to 63 is built four words at a time with `sha256msg1` and `sha256msg2`.
public enum SHA256Instructions {
    /// Hashes every whole 64-byte block of `blocks` into `state` (a, b, …, h).
    public static func compress(state: inout (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32),
                                blocks: UnsafeRawBufferPointer) {
        let abcd = SIMD4(state.0, state.1, state.2, state.3)
        let efgh = SIMD4(state.4, state.5, state.6, state.7)
        // The instructions want the words as ABEF and CDGH, highest lane first: (F, E, B, A) and (H, G, D, C).
        var abef = SIMD4(efgh[1], efgh[0], abcd[1], abcd[0])
        var cdgh = SIMD4(efgh[3], efgh[2], abcd[3], abcd[2])
        var offset = 0
        while offset + 64 <= blocks.count {
            let savedABEF = abef, savedCDGH = cdgh
            var m0 = word(blocks, offset), m1 = word(blocks, offset + 16)
            var m2 = word(blocks, offset + 32), m3 = word(blocks, offset + 48)
            // Rounds 0–15 use the block's own words; from round 16 on each group of four words is made
            // from the four before it, two groups ahead of its use.
            rounds(&abef, &cdgh, m0, 0)
            rounds(&abef, &cdgh, m1, 1); m0 = first(m0, m1)
            rounds(&abef, &cdgh, m2, 2); m1 = first(m1, m2)
            rounds(&abef, &cdgh, m3, 3); m0 = second(m0, m3, m2); m2 = first(m2, m3)
            var group = 4
            while group < 12 {
                rounds(&abef, &cdgh, m0, group); m1 = second(m1, m0, m3); m3 = first(m3, m0)
                rounds(&abef, &cdgh, m1, group + 1); m2 = second(m2, m1, m0); m0 = first(m0, m1)
                rounds(&abef, &cdgh, m2, group + 2); m3 = second(m3, m2, m1); m1 = first(m1, m2)
                rounds(&abef, &cdgh, m3, group + 3); m0 = second(m0, m3, m2); m2 = first(m2, m3)
                group += 4
            }
            rounds(&abef, &cdgh, m0, 12); m1 = second(m1, m0, m3); m3 = first(m3, m0)
            rounds(&abef, &cdgh, m1, 13); m2 = second(m2, m1, m0)
            rounds(&abef, &cdgh, m2, 14); m3 = second(m3, m2, m1)
            rounds(&abef, &cdgh, m3, 15)
            abef &+= savedABEF
            cdgh &+= savedCDGH
            offset += 64
        }
        state = (abef[3], abef[2], cdgh[3], cdgh[2], abef[1], abef[0], cdgh[1], cdgh[0])
    }

    /// Four message words of the block at `offset`, read big-endian.
    @inline(__always)
    private static func word(_ blocks: UnsafeRawBufferPointer, _ offset: Int) -> SIMD4<UInt32> {
        let raw = blocks.loadUnaligned(fromByteOffset: offset, as: SIMD4<UInt32>.self)
        return SIMD4(UInt32(bigEndian: raw[0]), UInt32(bigEndian: raw[1]),
                     UInt32(bigEndian: raw[2]), UInt32(bigEndian: raw[3]))
    }

    /// Four rounds with the message words `w` of group `group` (rounds 4·group to 4·group + 3).
    @inline(__always)
    private static func rounds(_ abef: inout SIMD4<UInt32>, _ cdgh: inout SIMD4<UInt32>,
                               _ w: SIMD4<UInt32>, _ group: Int) {
        let kw = w &+ k[group]
        cdgh = vector(_mm_sha256rnds2_epu32(m128(cdgh), m128(abef), m128(kw)))
        abef = vector(_mm_sha256rnds2_epu32(m128(abef), m128(cdgh), m128(SIMD4(kw[2], kw[3], kw[0], kw[1]))))
    }

    /// The first half of the next schedule group: σ0 of the words that follow `w` added to `w`.
    @inline(__always)
    private static func first(_ w: SIMD4<UInt32>, _ next: SIMD4<UInt32>) -> SIMD4<UInt32> {
        vector(_mm_sha256msg1_epu32(m128(w), m128(next)))
    }

    /// Completes a schedule group: adds the words seven back (the last three of `before`, the first of
    /// `latest`) and σ1 of the latest two.
    @inline(__always)
    private static func second(_ w: SIMD4<UInt32>, _ latest: SIMD4<UInt32>, _ before: SIMD4<UInt32>) -> SIMD4<UInt32> {
        let sevenBack = SIMD4(before[1], before[2], before[3], latest[0])
        return vector(_mm_sha256msg2_epu32(m128(w &+ sevenBack), m128(latest)))
    }

    @inline(__always)
    private static func m128(_ v: SIMD4<UInt32>) -> __m128i { unsafeBitCast(v, to: __m128i.self) }

    @inline(__always)
    private static func vector(_ v: __m128i) -> SIMD4<UInt32> { unsafeBitCast(v, to: SIMD4<UInt32>.self) }

    /// The round constants (FIPS 180-4 §4.2.2), four to a group.
    private static let k: [SIMD4<UInt32>] = [
        SIMD4(0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5), SIMD4(0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5),
        SIMD4(0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3), SIMD4(0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174),
        SIMD4(0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc), SIMD4(0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da),
        SIMD4(0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7), SIMD4(0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967),
        SIMD4(0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13), SIMD4(0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85),
        SIMD4(0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3), SIMD4(0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070),
        SIMD4(0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5), SIMD4(0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3),
        SIMD4(0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208), SIMD4(0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2),
    ]
}
#endif
