/// Path arithmetic on plain strings. Foundation's `deletingLastPathComponent` traps on a one-letter
/// relative path (`--reports r`), so the folder of a path is worked out here.
enum Paths {
    /// The folder that holds `path`: "" for a bare name, "/" for an entry of the root.
    static func parent(of path: String) -> String {
        var bytes = Array(path.utf8)
        while bytes.count > 1, bytes.last == UInt8(ascii: "/") { bytes.removeLast() }
        guard let slash = bytes.lastIndex(of: UInt8(ascii: "/")) else { return "" }
        var end = slash
        while end > 0, bytes[end - 1] == UInt8(ascii: "/") { end -= 1 }
        return end == 0 ? "/" : String(decoding: bytes[..<end], as: UTF8.self)
    }
}
