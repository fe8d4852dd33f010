/// The content of one export row as a 64-bit number, so that a run can tell a row it applied before from one
/// that changed without parsing it: SipHash-2-4 over each field's trimmed text as the mapping reads it, keyed
/// with the portal's own secret (`Key`, kept in `row_hash_key`).
///
/// The key is what keeps an export from steering the comparison. With an unkeyed hash (FNV-1a, as before),
/// whoever writes the export could append a few chosen bytes to a changed row's free text so that it hashes
/// as the row the portal applied, and the nightly run would pass the change over as unchanged. SipHash is a
/// keyed pseudorandom function: without the key, which never leaves the portal, no one can tell which rows
/// share a hash.
///
/// The portal keeps the hash of every row it applied (`record_hashes`). The hash of a row read clean is
/// even; a row that was accepted with a warning is stored as `warned(hash)`, the same hash with its lowest
/// bit set. No row read clean matches it, so the row is parsed and its warning reported every night until
/// it is fixed; and a row that gives the same warning on the same content is still known as unchanged, so
/// the files that refer to it need not be read. (`recheck`, 0, is what runs before stored for such rows.)
enum RowHash {
    /// The stored value of a row that must be read again every night.
    static let recheck: UInt64 = 0

    /// The stored value of a row accepted with a warning.
    static func warned(_ hash: UInt64) -> UInt64 { hash | 1 }

    /// A portal's secret for its row hashes: 128 bits from the system's random source, made by its first full
    /// or incremental run and kept in the portal (as 32 hexadecimal digits, the first half `k0`).
    struct Key: Sendable, Equatable {
        let k0: UInt64
        let k1: UInt64

        static func random() -> Key {
            var generator = SystemRandomNumberGenerator()
            return Key(k0: generator.next(), k1: generator.next())
        }

        /// The key as stored: each half's bytes in little-endian order, in hexadecimal.
        var hex: String {
            (0..<16).map { index in UInt8(truncatingIfNeeded: (index < 8 ? k0 : k1) >> (8 * UInt64(index % 8))) }.hexString
        }

        init(k0: UInt64, k1: UInt64) {
            self.k0 = k0
            self.k1 = k1
        }

        /// A stored key; nil unless it is exactly 32 hexadecimal digits.
        init?(hex: String) {
            let digits = Array(hex.utf8)
            guard digits.count == 32 else { return nil }
            var halves: [UInt64] = [0, 0]
            for (index, digit) in digits.enumerated() {
                let nibble: UInt8
                switch digit {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = digit - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = digit - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = digit - UInt8(ascii: "A") + 10
                default: return nil
                }
                // Byte `index / 2` of the key, its high nibble first; bytes 0-7 are k0, low byte first.
                let byte = index / 2
                let shift = UInt64(8 * (byte % 8) + (index % 2 == 0 ? 4 : 0))
                halves[byte / 8] |= UInt64(nibble) << shift
            }
            self.init(k0: halves[0], k1: halves[1])
        }
    }

    static func of(_ cells: [RawCell], key: Key) -> UInt64 {
        var hash = Builder(key: key)
        for cell in cells {
            hash.begin(present: cell.present)
            for byte in cell.text.utf8 { hash.mix(byte) }
            hash.end()
        }
        return hash.value
    }

    /// The hash built byte by byte: `of` builds it from cells, a CSV file from the bytes of its records
    /// (`CSVRecord.hashField`), so that an unchanged row is known before any of its text is made.
    ///
    /// SipHash-2-4 as its authors define it (Aumasson and Bernstein, 2012): the bytes are taken eight at a
    /// time as a little-endian word, two rounds per word, the length's low byte in the last word, four rounds
    /// to finish.
    struct Builder {
        private var v0: UInt64
        private var v1: UInt64
        private var v2: UInt64
        private var v3: UInt64
        /// Bytes not yet taken in, low byte first.
        private var pending: UInt64 = 0
        private var length: UInt64 = 0

        init(key: Key) {
            v0 = key.k0 ^ 0x736F_6D65_7073_6575
            v1 = key.k1 ^ 0x646F_7261_6E64_6F6D
            v2 = key.k0 ^ 0x6C79_6765_6E65_7261
            v3 = key.k1 ^ 0x7465_6462_7974_6573
        }

        @inline(__always) private mutating func round() {
            v0 &+= v1; v1 = v1.rotatedLeft(13); v1 ^= v0; v0 = v0.rotatedLeft(32)
            v2 &+= v3; v3 = v3.rotatedLeft(16); v3 ^= v2
            v0 &+= v3; v3 = v3.rotatedLeft(21); v3 ^= v0
            v2 &+= v1; v1 = v1.rotatedLeft(17); v1 ^= v2; v2 = v2.rotatedLeft(32)
        }

        @inline(__always) private mutating func compress(_ word: UInt64) {
            v3 ^= word
            round()
            round()
            v0 ^= word
        }

        @inline(__always) mutating func mix(_ byte: UInt8) {
            pending |= UInt64(byte) << ((length & 7) << 3)
            length &+= 1
            if length & 7 == 0 {
                compress(pending)
                pending = 0
            }
        }

        /// Absent and empty are different rows: an optional column that appears changes every row.
        @inline(__always) mutating func begin(present: Bool) { mix(present ? 0x1E : 0x1D) }

        @inline(__always) mutating func end() { mix(0x1F) }

        /// The SipHash-2-4 of the bytes mixed in.
        var digest: UInt64 {
            var state = self
            state.compress(state.pending | (length << 56))
            state.v2 ^= 0xFF
            for _ in 0..<4 { state.round() }
            return state.v0 ^ state.v1 ^ state.v2 ^ state.v3
        }

        var value: UInt64 {
            let even = digest & ~1
            return even == RowHash.recheck ? 2 : even
        }
    }
}

private extension UInt64 {
    @inline(__always) func rotatedLeft(_ count: UInt64) -> UInt64 { (self << count) | (self >> (64 - count)) }
}

extension CSVRecord {
    /// Feeds the bytes of `field(index)` to `hash`, without making the `String`: the same bytes, trimmed and
    /// with `""` collapsed (the decoded file is valid UTF-8, so `String` repairs nothing).
    func hashField(_ index: Int, into hash: inout RowHash.Builder) {
        guard index < spans.count else { return }
        let span = spans[index]
        let range = UnicodeText.trimmedRange(bytes, span.start, span.end)
        guard span.hasEscapedQuotes else {
            for position in range { hash.mix(bytes[position]) }
            return
        }
        var previousWasQuote = false
        for position in range {
            let byte = bytes[position]
            if byte == 0x22, previousWasQuote {
                previousWasQuote = false
                continue
            }
            previousWasQuote = byte == 0x22
            hash.mix(byte)
        }
    }
}
