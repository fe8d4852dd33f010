/// The content of one export row as a 64-bit number (FNV-1a over each field's trimmed text as the mapping
/// reads it), so that a run can tell a row it applied before from one that changed without parsing it.
///
/// The portal keeps the hash of every row it applied (`record_hashes`). A row that was accepted with a
/// warning is stored as `recheck` (0), which no row hashes to, so that it is checked — and its warning
/// reported — every night until it is fixed.
enum RowHash {
    /// The stored value of a row that must be read again every night.
    static let recheck: UInt64 = 0

    static func of(_ cells: [RawCell]) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        @inline(__always) func mix(_ byte: UInt8) {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        for cell in cells {
            // Absent and empty are different rows: an optional column that appears changes every row.
            mix(cell.present ? 0x1E : 0x1D)
            for byte in cell.text.utf8 { mix(byte) }
            mix(0x1F)
        }
        return hash == recheck ? 1 : hash
    }
}
