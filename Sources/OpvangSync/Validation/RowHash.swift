/// The content of one export row as a 64-bit number (FNV-1a over each field's trimmed text as the mapping
/// reads it), so that a run can tell a row it applied before from one that changed without parsing it.
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

    static func of(_ cells: [RawCell]) -> UInt64 {
        var hash = Builder()
        for cell in cells {
            hash.begin(present: cell.present)
            for byte in cell.text.utf8 { hash.mix(byte) }
            hash.end()
        }
        return hash.value
    }

    /// The hash built cell by cell: `of` builds it from cells, a CSV file from the bytes of its records
    /// (`CSVRecord.hashField`), so that an unchanged row is known before any of its text is made.
    struct Builder {
        private var hash: UInt64 = 0xCBF2_9CE4_8422_2325

        @inline(__always) mutating func mix(_ byte: UInt8) {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }

        /// Absent and empty are different rows: an optional column that appears changes every row.
        @inline(__always) mutating func begin(present: Bool) { mix(present ? 0x1E : 0x1D) }

        @inline(__always) mutating func end() { mix(0x1F) }

        var value: UInt64 {
            let even = hash & ~1
            return even == RowHash.recheck ? 2 : even
        }
    }
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
