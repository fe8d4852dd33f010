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
    /// Which of the mapping's parts read it (`Mapping.Source.parts`); 0 for most entities.
    public var part: Int = 0
    /// The row's `RowHash`, when the source worked it out before making the cells (a probed row,
    /// see `ExportSource.read`): the row was then already found not to be unchanged.
    public var hash: UInt64?

    public init(line: Int, cells: [RawCell], part: Int = 0) {
        self.line = line
        self.cells = cells
        self.part = part
    }

    /// Whether a part that reads only rows with a value in some fields skips this one.
    func isSkipped(by part: Mapping.Part) -> Bool {
        !part.onlyRowsWith.isEmpty && part.onlyRowsWith.allSatisfy { cells[$0].text.isEmpty }
    }
}

/// Care hours from a `from` and a `to` column, as one cell would hold them: `07:30-18:00`, empty when both
/// are empty, and with the missing side empty (`07:30-`) when only one is, which the validator rejects.
func joinedRange(_ from: String, _ to: String) -> String {
    from.isEmpty && to.isEmpty ? "" : from + "-" + to
}

/// The rows a scoped run reads in full: those whose canonical field `field` holds one of `values`
/// (compared as trimmed text, before any normalising). Other rows are counted, not parsed.
public struct RowSelection: Sendable {
    public let field: Int
    public let values: Set<String>
    /// A field whose text is reported for every row left out: a key the selection does not determine
    /// (a placement number, selected by child), so that a key used twice is still found.
    public var watch: Int?
    /// Fields whose texts are reported for every row left out: the identifier columns, which are weighed
    /// whole for citizen service numbers however few rows a run parses.
    public var identifiers: [Int] = []

    /// The `ASCIIKey.sieve` of each of `values` when every one of them is ASCII; nil when one is not.
    private let sieved: Set<UInt64>?

    public init(field: Int, values: Set<String>, watch: Int? = nil) {
        self.field = field
        self.values = values
        self.watch = watch
        var sieved: Set<UInt64>? = Set(minimumCapacity: values.count)
        for value in values {
            var value = value
            guard let hash = value.withUTF8(ASCIIKey.sieve) else {
                sieved = nil
                break
            }
            sieved?.insert(hash)
        }
        self.sieved = sieved
    }

    /// True when a field whose text is `bytes` is certainly not selected: they are ASCII, and no value sieves
    /// as they do. False when only the text can tell.
    func excludes(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let sieved, let hash = ASCIIKey.sieve(bytes) else { return false }
        return !sieved.contains(hash)
    }
}

/// A row a selection left out: where it stood, its watched key and what its identifier fields say of
/// citizen service numbers.
public struct SkippedRow: Sendable {
    /// The key of a row left out, as far as it is needed to find it used again by a selected row.
    public enum WatchedKey: Sendable, Equatable {
        /// No watched field, or an empty one.
        case absent
        case text(String)
        /// An ASCII key, by `ASCIIKey.fingerprint` of its bytes: its text was not made.
        case fingerprint(UInt64)

        /// A key from its text: by its fingerprint when it is ASCII, as the text itself otherwise.
        init(_ text: String) {
            if text.isEmpty {
                self = .absent
            } else if let fingerprint = ASCIIKey.fingerprint(text) {
                self = .fingerprint(fingerprint)
            } else {
                self = .text(text)
            }
        }
    }

    public var line: Int
    public var watched: WatchedKey
    /// `BSN.keyEvidence` of each identifier field, in the order of `RowSelection.identifiers`; empty when
    /// none holds nine digits.
    public var identifierEvidence: [BSN.KeyEvidence] = []
}

extension SkippedRow {
    /// What a row left out at `line` must still report: its watched key, and the evidence of its `count`
    /// identifier fields (`weigh` of each slot, in order) when one of them holds nine digits. Nil when it has
    /// neither. (`weigh` is a plain closure: a lazy sequence would box what it captures, row by row.)
    @inline(__always)
    init?(line: Int, watched: WatchedKey, identifiers count: Int, weigh: (Int) -> BSN.KeyEvidence) {
        var evidence: [BSN.KeyEvidence] = []
        for slot in 0..<count {
            let found = weigh(slot)
            // Nearly every row has no nine digits anywhere: no list is made for it.
            guard found.nineDigits || !evidence.isEmpty else { continue }
            if evidence.isEmpty { evidence = Array(repeating: (false, false), count: slot) }
            evidence.append(found)
        }
        guard watched != .absent || !evidence.isEmpty else { return nil }
        self.init(line: line, watched: watched, identifierEvidence: evidence)
    }
}

/// A 64-bit fingerprint of a key whose text is ASCII, from its bytes: how rows a selection leaves out are
/// compared with the selected keys without their text being made. For ASCII text, equal bytes and equal
/// `String`s are one and the same; any other text has no fingerprint (two `String`s of different bytes may be
/// equal, such as `K` and the Kelvin sign).
///
/// Two keys are taken to be the same when their fingerprints are. The fingerprint is the standard library's
/// `Hasher` (SipHash, seeded afresh by every process), so an export cannot be made to hold a key that passes
/// for another: what the seed is, its author cannot know.
enum ASCIIKey {
    /// A quicker hash of ASCII bytes (FNV-1a), which an export could make collide: only ever used to rule a
    /// value out. Bytes that sieve as a value does are compared as text.
    static func sieve(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64? {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes {
            guard byte < 0x80 else { return nil }
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        return hash
    }

    static func fingerprint(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64? {
        for byte in bytes where byte >= 0x80 { return nil }
        var hasher = Hasher()
        hasher.combine(bytes: UnsafeRawBufferPointer(bytes))
        return UInt64(bitPattern: Int64(hasher.finalize()))
    }

    static func fingerprint(_ text: String) -> UInt64? {
        var text = text
        return text.withUTF8 { fingerprint($0) }
    }

    /// `text` in the form that every text canonically equal to it shares: itself when it is ASCII, its
    /// composed form otherwise (the Kelvin sign becomes `K`); with that form's fingerprint when it is ASCII.
    static func composed(_ text: String) -> (text: String, fingerprint: UInt64?) {
        if let fingerprint = fingerprint(text) { return (text, fingerprint) }
        let composed = text.precomposedStringWithCanonicalMapping
        return (composed, fingerprint(composed))
    }
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
    /// Whose export this is, from the configuration or `--org`: what an export without a manifest
    /// (manifest mode `none`) cannot say itself.
    var organisation: String? { get }
    /// Reads and parses the manifest.
    func loadManifest() throws(ExportFailure) -> Manifest
    /// Checks every file the manifest lists: present, and with the listed SHA-256. Row counts are
    /// checked while reading.
    func verify(_ manifest: Manifest) -> [Issue]
    /// Checks the SHA-256 of the files of `kinds`, which the run means not to read (their checksums were
    /// left to the read); a source that checks every file up front has nothing left to do. Throws the
    /// failure of the first file in the order of `kinds`.
    func confirmUnread(_ kinds: [EntityKind]) throws
    /// Streams the rows of one entity; row-level faults go to `reject`, file-level faults throw. With a
    /// selection, only the selected rows reach `row` (and `reject`); the others go to `skipped`.
    ///
    /// A row rejected while reading (too few or too many cells, a value of the wrong JSON kind) goes to
    /// `reject` with the cells that could be read, so that its key still protects the record in the
    /// portal (a rejected row never ends a record); nil when nothing of the row can be read.
    ///
    /// With `probing` (an incremental run), a source that can hash a row's bytes as `RowHash.of` hashes its
    /// cells (with the probe's key) first hands `unchanged` the hash and the row with only the probe's fields filled in; a row it
    /// accepts goes no further, any other reaches `row` with its `hash` set. A source that cannot, ignores
    /// `probing` and gives every row to `row` whole.
    func read(_ kind: EntityKind, selecting selection: RowSelection?, probing: RowProbe?, warn: (Issue) -> Void,
              reject: (Issue, RawRow?) -> Void, row: (RawRow) throws -> Void, skipped: (SkippedRow) -> Void,
              unchanged: (UInt64, RawRow) -> Bool) throws -> FileRead
    /// The trimmed text of a few fields of every row, nothing else parsed: what a scoped run looks at
    /// first to find the rows of its family.
    func project(_ kind: EntityKind, fields: [Int], _ body: ([String]) -> Void) throws
}

/// What an incremental run asks a source to look at before it makes a row's cells: the row's hash under the
/// portal's key, and the few fields that tell whether it is the row applied before.
public struct RowProbe {
    let fields: [Int]
    let key: RowHash.Key
}

/// The export in `directory`, read the way `mapping` says (CSV files, or one JSON file). `organisation` is
/// whose export it is when the mapping's export has no manifest to say so (manifest mode `none`).
public func exportSource(in directory: String, mapping: Mapping, organisation: String? = nil) -> ExportSource {
    if mapping.format == .csv {
        var source = CSVExportSource(directory: directory, mapping: mapping)
        source.organisation = organisation
        return source
    }
    let source = JSONExportSource(directory: directory, mapping: mapping)
    source.organisation = organisation
    return source
}

extension ExportSource {
    /// How messages name one of the export's files: the file itself, or `export.json#list` in a JSON export.
    func label(of name: String) -> String {
        self is JSONExportSource ? "\(mapping.exportFile ?? "export.json")#\(name)" : name
    }

    /// Every row of one entity.
    public func read(_ kind: EntityKind, warn: (Issue) -> Void, reject: (Issue, RawRow?) -> Void,
                     row: (RawRow) throws -> Void) throws -> FileRead {
        try read(kind, selecting: nil, warn: warn, reject: reject, row: row, skipped: { _ in })
    }

    /// The rows of one entity, selected or not, each given whole to `row`.
    public func read(_ kind: EntityKind, selecting selection: RowSelection?, warn: (Issue) -> Void, reject: (Issue, RawRow?) -> Void,
                     row: (RawRow) throws -> Void, skipped: (SkippedRow) -> Void) throws -> FileRead {
        try read(kind, selecting: selection, probing: nil, warn: warn, reject: reject, row: row, skipped: skipped, unchanged: { _, _ in false })
    }

    public func confirmUnread(_ kinds: [EntityKind]) throws {}
}

extension ExportSource {
    /// Reads a file of the export, or fails naming it. Only a regular file directly inside the export
    /// folder is read: a name that is a path, a symbolic link, a folder, a FIFO or a device is refused
    /// (opened without following links and checked on the open descriptor, so nothing can be swapped in
    /// between the check and the read).
    func contents(of name: String) throws(ExportFailure) -> [UInt8] {
        try opened(name).bytes
    }

    /// What `opened` checks before it opens a file: a plain name, present, a regular file (not following a
    /// link), and not larger than `limit` bytes.
    func inspect(_ name: String, limit: Int64 = ExportLimits.maxFileBytes) throws(ExportFailure) {
        if let problem = Manifest.fileNameProblem(name) {
            throw ExportFailure("file-not-plain", file: OrganisationID.shown(name), message: "geen gewone bestandsnaam: \(problem)")
        }
        let path = (directory as NSString).appendingPathComponent(name)
        var info = stat()
        guard lstat(path, &info) == 0 else {
            throw ExportFailure("file-missing", file: name, message: "bestand ontbreekt in de export (\(directory))")
        }
        if let kind = ExportFileKind(mode: info.st_mode).problem {
            throw ExportFailure("file-not-regular", file: name, message: "dit is geen gewoon bestand maar \(kind); het wordt niet gelezen")
        }
        try refuseTooLarge(name, size: Int64(info.st_size), limit: limit)
    }

    private func refuseTooLarge(_ name: String, size: Int64, limit: Int64) throws(ExportFailure) {
        // The whole Dutch market's largest file is a few hundred MB; anything near this is no export (a
        // sparse file, a disk image) and would otherwise be allocated whole before a byte is read.
        guard size <= limit else {
            throw ExportFailure("file-too-large", file: name, message: limit < 1_048_576
                ? "het bestand is \(size) bytes; meer dan \(limit) bytes past niet bij wat het hoort te zijn, het wordt niet gelezen"
                : "het bestand is \(size / 1_048_576) MB; meer dan \(limit / 1_048_576) MB is geen export, het wordt niet gelezen")
        }
    }

    /// A file of the export, read as `contents(of:)` reads it, with what `fstat` said of the open file; a
    /// file larger than `limit` bytes is refused unread.
    func opened(_ name: String, limit: Int64 = ExportLimits.maxFileBytes) throws(ExportFailure) -> (bytes: [UInt8], info: stat) {
        try withOpened(name, limit: limit) { descriptor, info throws(ExportFailure) in
            // One byte more than the file holds, so that the read that finds its end needs no larger buffer
            // (growing it would copy the whole file); a file that grows meanwhile still grows the buffer. The
            // buffer is not zeroed first: only what `read` filled is kept.
            var bytes: [UInt8] = []
            var capacity = Int(info.st_size) + 1
            while true {
                var failed: Int32 = 0, ended = false
                let before = bytes.count
                let more = [UInt8](unsafeUninitializedCapacity: capacity - before) { buffer, filled in
                    while filled < buffer.count {
                        let count = Foundation.read(descriptor, buffer.baseAddress! + filled, buffer.count - filled)
                        if count < 0, errno == EINTR { continue }
                        if count < 0 { failed = errno; return }
                        if count == 0 { ended = true; return }
                        filled += count
                    }
                }
                if before == 0 { bytes = more } else { bytes.append(contentsOf: more) }
                try checkRead(name, failed: failed, total: bytes.count, limit: limit)
                if ended { return (bytes, info) }
                capacity = bytes.count + max(4096, bytes.count / 2)
            }
        }
    }

    /// The SHA-256 of a file of the export, in hexadecimal, checked as `contents(of:)` checks it. The file is
    /// read through one small buffer rather than whole: a file the run does not parse costs no memory of its
    /// size, nor the time of mapping that much memory afresh.
    func sha256(of name: String) throws(ExportFailure) -> String {
        let limit = ExportLimits.maxFileBytes
        return try withOpened(name, limit: limit) { descriptor, _ throws(ExportFailure) in
            var hasher = SHA256()
            var total = 0
            let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 18, alignment: 64)
            defer { chunk.deallocate() }
            while true {
                let count = Foundation.read(descriptor, chunk.baseAddress!, chunk.count)
                let failed = count < 0 ? errno : 0
                if failed == EINTR { continue }
                total += max(count, 0)
                try checkRead(name, failed: failed, total: total, limit: limit)
                if count == 0 { return hasher.finalize().hexString }
                hasher.update(UnsafeRawBufferPointer(rebasing: chunk[..<count]))
            }
        }
    }

    /// Opens a file of the export as `opened` describes, and gives `body` the open descriptor and what
    /// `fstat` said of it; the descriptor is closed afterwards.
    private func withOpened<T>(_ name: String, limit: Int64,
                               _ body: (Int32, stat) throws(ExportFailure) -> T) throws(ExportFailure) -> T {
        try inspect(name, limit: limit)
        let path = (directory as NSString).appendingPathComponent(name)
        var info = stat()
        let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else {
            let reason = errno == ELOOP ? "een symbolische koppeling" : String(cString: strerror(errno))
            throw ExportFailure("file-unreadable", file: name, message: "bestand kan niet worden gelezen (\(reason))")
        }
        defer { close(descriptor) }
        guard fstat(descriptor, &info) == 0, ExportFileKind(mode: info.st_mode).problem == nil else {
            throw ExportFailure("file-not-regular", file: name, message: "dit is geen gewoon bestand; het wordt niet gelezen")
        }
        try refuseTooLarge(name, size: Int64(info.st_size), limit: limit)
        return try body(descriptor, info)
    }

    /// Fails a read that `read` refused (`failed`, an errno) or that went past `limit` bytes in all.
    private func checkRead(_ name: String, failed: Int32, total: Int, limit: Int64) throws(ExportFailure) {
        if failed != 0 {
            throw ExportFailure("file-unreadable", file: name, message: "bestand kan niet worden gelezen (\(String(cString: strerror(failed))))")
        }
        if Int64(total) > limit {
            throw ExportFailure("file-too-large", file: name, message: "het bestand groeit tijdens het lezen voorbij \(limit) bytes; het wordt niet gelezen")
        }
    }

    public func verify(_ manifest: Manifest) -> [Issue] {
        verify(manifest, deferring: [])
    }

    /// `verify`, except that the SHA-256 of the files in `deferred` is left to the read that follows, which
    /// hashes the very bytes it parses (and `confirmUnread` for a file the run does not read): each file is
    /// then read and hashed once. They are still checked to be there and plain files.
    func verify(_ manifest: Manifest, deferring deferred: Set<String>) -> [Issue] {
        if mapping.manifestMode == .none { return ReadyMarker.verify(self) }
        var issues: [Issue] = []
        for file in manifest.files {
            guard let expected = file.sha256 else {
                issues.append(Issue(.error, "manifest-checksum", file: file.name,
                                    message: "het manifest geeft geen SHA-256 voor dit bestand; zonder controle wordt het niet gelezen"))
                continue
            }
            let actual: String
            do {
                if deferred.contains(file.name) {
                    try inspect(file.name)
                    continue
                }
                actual = try sha256(of: file.name)
            } catch {
                let code = error.issue.code == "file-missing" ? "manifest-file-missing" : error.issue.code
                let message = error.issue.code == "file-missing"
                    ? "het manifest noemt dit bestand, maar het ontbreekt in de export" : error.issue.message
                issues.append(Issue(.error, code, file: file.name, message: message))
                continue
            }
            if actual != expected {
                issues.append(Issue(.error, "manifest-checksum", file: file.name, message:
                    "SHA-256 wijkt af van het manifest (verwacht \(expected.prefix(12))…, gevonden \(actual.prefix(12))…); het bestand is onvolledig of gewijzigd na de export"))
            }
        }
        // A file that the mapping reads but the manifest does not list was never checksummed: it could be
        // a left-over or planted file, so it is not read.
        let listed = Set(manifest.files.map(\.name))
        for kind in EntityKind.allCases {
            guard let name = mapping.entities[kind]?.name, !listed.contains(name) else { continue }
            issues.append(Issue(.error, "manifest-file-unlisted", file: name, message:
                "de mapping leest dit bestand, maar het manifest noemt het niet (met SHA-256); zonder controle wordt het niet gelezen"))
        }
        return issues
    }
}

/// What `stat` says a directory entry is, for files that must be regular.
struct ExportFileKind {
    let mode: mode_t

    /// Dutch, for messages; nil for a regular file.
    var problem: String? {
        switch mode & S_IFMT {
        case S_IFREG: return nil
        case S_IFLNK: return "een symbolische koppeling"
        case S_IFDIR: return "een map"
        case S_IFIFO: return "een named pipe (FIFO)"
        case S_IFCHR, S_IFBLK: return "een apparaatbestand"
        case S_IFSOCK: return "een socket"
        default: return "een onbekend soort bestand"
        }
    }
}

/// True when `header` (trimmed, any case) is a citizen-service-number column.
func isSensitiveColumn(_ header: String, mapping: Mapping) -> Bool {
    mapping.sensitiveColumns.contains(header.trimmingUnicodeSpace.lowercased())
}

/// Bounds on what is read from an export.
public enum ExportLimits {
    /// One file of an export: 4 GiB (ten times the largest file of the whole Dutch market).
    public static let maxFileBytes: Int64 = 4 << 30
}

extension EncodingFailure {
    /// The run-stopping fault this is in `file`, in Dutch, naming the mapping when its `encoding` is the cause.
    func exportFailure(file: String, mapping: Mapping) -> ExportFailure {
        let byte = "0x" + String(self.byte, radix: 16, uppercase: true)
        let setting = "(de mapping \(mapping.path) zegt \(Mapping.keyPath(["encoding"])): \(Mapping.quoted(mapping.encoding.rawValue)))"
        let message: String
        switch reason {
        case .invalidUTF8:
            message = "ongeldige UTF-8 (byte \(byte)) terwijl de mapping of het BOM UTF-8 voorschrijft"
        case .invalidUTF8InUTF8File:
            message = "ongeldige UTF-8 (byte \(byte)) in een bestand dat verder UTF-8 is; het bestand is beschadigd en wordt niet als Windows-1252 gelezen"
        case .undefinedInWindows1252:
            message = "byte \(byte) bestaat niet in Windows-1252; het bestand is beschadigd of in een andere tekenset geschreven"
        case .controlInISO8859:
            message = "byte \(byte) is een stuurteken in \(mapping.encoding.rawValue.uppercased()) \(setting); zo'n bestand is bijna altijd Windows-1252: pas de mapping aan"
        case .missingUTF16BOM:
            message = "het bestand begint niet met een UTF-16-bytevolgordeteken (BOM) \(setting); het is dus geen UTF-16 zoals Excel het als Unicode-tekst schrijft"
        case .truncatedUTF16:
            message = "het UTF-16-bestand houdt midden in een teken op (een oneven aantal bytes); het is waarschijnlijk afgebroken"
        case .loneSurrogate:
            message = "half UTF-16-teken (een losse surrogaat); het bestand is beschadigd"
        case .utf8BOMInSingleByteFile:
            message = "het bestand begint met een UTF-8-bytevolgordeteken (BOM), dus het is UTF-8 \(setting); gelezen als \(mapping.encoding.rawValue) zou elke letter met een accent verminkt worden: pas de mapping aan"
        }
        return ExportFailure("invalid-encoding", file: file, line: line, column: column, message: message)
    }
}
