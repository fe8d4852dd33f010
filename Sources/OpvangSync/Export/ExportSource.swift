import Foundation

/// One field of one source row, with where it stood.
public struct RawCell: Sendable {
    /// Trimmed text; empty when the cell was empty or the field is not in the export.
    public var text: String
    public var line: Int
    public var column: Int
    /// Whether the export has this field at all (an optional column may be absent).
    public var present: Bool
}

/// One source row, its cells aligned with the entity's canonical fields.
public struct RawRow: Sendable {
    public var line: Int
    public var cells: [RawCell]
}

/// The rows a scoped run reads in full: those whose canonical field `field` holds one of `values`
/// (compared as trimmed text, before any normalising). Other rows are counted, not parsed.
public struct RowSelection: Sendable {
    public let field: Int
    public let values: Set<String>
    /// A field whose text is reported for every row left out: a key the selection does not determine
    /// (a placement number, selected by child), so that a key used twice is still found.
    public var watch: Int?

    public init(field: Int, values: Set<String>, watch: Int? = nil) {
        self.field = field
        self.values = values
        self.watch = watch
    }
}

/// A row a selection left out: where it stood and the text of the watched field.
public struct SkippedRow: Sendable {
    public var line: Int
    public var watched: String
}

/// What was read of one entity's file.
public struct FileRead: Sendable {
    public let file: String
    public let rows: Int
    /// The encoding actually used.
    public let encoding: TextEncoding?
}

/// An export on disk, read through a mapping.
public protocol ExportSource {
    var directory: String { get }
    var mapping: Mapping { get }
    /// Reads and parses the manifest.
    func loadManifest() throws(ExportFailure) -> Manifest
    /// Checks every file the manifest lists: present, and with the listed SHA-256. Row counts are
    /// checked while reading.
    func verify(_ manifest: Manifest) -> [Issue]
    /// Streams the rows of one entity; row-level faults go to `reject`, file-level faults throw. With a
    /// selection, only the selected rows reach `row` (and `reject`); the others go to `skipped`.
    ///
    /// A row rejected while reading (too few or too many cells, a value of the wrong JSON kind) goes to
    /// `reject` with the cells that could be read, so that its key still protects the record in the
    /// portal (a rejected row never ends a record); nil when nothing of the row can be read.
    func read(_ kind: EntityKind, selecting selection: RowSelection?, warn: (Issue) -> Void, reject: (Issue, RawRow?) -> Void,
              row: (RawRow) throws -> Void, skipped: (SkippedRow) -> Void) throws -> FileRead
    /// The trimmed text of a few fields of every row, nothing else parsed: what a scoped run looks at
    /// first to find the rows of its family.
    func project(_ kind: EntityKind, fields: [Int], _ body: ([String]) -> Void) throws
}

extension ExportSource {
    /// Every row of one entity.
    public func read(_ kind: EntityKind, warn: (Issue) -> Void, reject: (Issue, RawRow?) -> Void,
                     row: (RawRow) throws -> Void) throws -> FileRead {
        try read(kind, selecting: nil, warn: warn, reject: reject, row: row, skipped: { _ in })
    }
}

extension ExportSource {
    /// Reads a file of the export, or fails naming it.
    func contents(of name: String) throws(ExportFailure) -> [UInt8] {
        let path = (directory as NSString).appendingPathComponent(name)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw ExportFailure("file-missing", file: name, message: "bestand ontbreekt in de export (\(directory))")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ExportFailure("file-unreadable", file: name, message: "bestand kan niet worden gelezen (rechten?)")
        }
        return Array(data)
    }

    public func verify(_ manifest: Manifest) -> [Issue] {
        var issues: [Issue] = []
        for file in manifest.files {
            guard let expected = file.sha256 else { continue }
            let bytes: [UInt8]
            do {
                bytes = try contents(of: file.name)
            } catch {
                issues.append(Issue(.error, "manifest-file-missing", file: file.name,
                                    message: "het manifest noemt dit bestand, maar het ontbreekt in de export"))
                continue
            }
            let actual = SHA256.hex(of: bytes)
            if actual != expected {
                issues.append(Issue(.error, "manifest-checksum", file: file.name, message:
                    "SHA-256 wijkt af van het manifest (verwacht \(expected.prefix(12))…, gevonden \(actual.prefix(12))…); het bestand is onvolledig of gewijzigd na de export"))
            }
        }
        return issues
    }
}

/// True when `header` (trimmed, any case) is a citizen-service-number column.
func isSensitiveColumn(_ header: String, mapping: Mapping) -> Bool {
    mapping.sensitiveColumns.contains(header.trimmingUnicodeSpace.lowercased())
}
