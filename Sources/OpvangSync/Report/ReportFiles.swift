import Foundation

/// Writes files that hold personal data: mode 0640, folders 0750, atomically (temp file + rename).
public enum ProtectedFile {
    public static let fileMode: mode_t = 0o640
    public static let directoryMode: mode_t = 0o750

    public struct Failure: Error, CustomStringConvertible {
        public let path: String
        public let reason: String
        public var description: String { "cannot write \(path): \(reason)" }
    }

    /// Creates `directory` and missing parents with mode 0750.
    ///
    /// Only a folder created here gets that mode: an existing folder (the working folder, `/var/lib`, a
    /// folder reached through `..`) keeps the mode its owner gave it.
    public static func makeDirectory(_ directory: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw Failure(path: directory, reason: "exists and is not a folder") }
            return
        }
        let parent = Paths.parent(of: directory)
        if !parent.isEmpty, parent != directory { try makeDirectory(parent) }
        if mkdir(directory, directoryMode) == 0 {
            // The umask may have narrowed the mode; set it exactly, on the folder just made and no other:
            // through a descriptor opened without following links, so a link swapped in cannot redirect it.
            let descriptor = open(directory, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if descriptor >= 0 {
                fchmod(descriptor, directoryMode)
                close(descriptor)
            }
            return
        }
        guard errno == EEXIST, FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory),
              isDirectory.boolValue else {
            throw Failure(path: directory, reason: String(cString: strerror(errno)))
        }
    }

    /// Refuses a folder below a configured one that is a symbolic link (or not a folder at all): someone who
    /// can write there must not redirect files with personal data elsewhere.
    public static func requireRealDirectory(_ directory: String) throws {
        var info = stat()
        guard lstat(directory, &info) == 0 else { throw Failure(path: directory, reason: String(cString: strerror(errno))) }
        switch info.st_mode & S_IFMT {
        case S_IFDIR: return
        case S_IFLNK: throw Failure(path: directory, reason: "is a symbolic link; opvangsync does not write through it")
        default: throw Failure(path: directory, reason: "exists and is not a folder")
        }
    }

    /// Writes `bytes` to `path` with mode 0640; readers never see a half-written file.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        let temporary = try stage(bytes, for: path)
        try commit(temporary, to: path)
    }

    /// Writes `bytes` to a new temporary file beside `path` and returns its name; `commit` renames it into
    /// place. The temporary file is created exclusively and never through a symbolic link, so nothing that
    /// waits in the folder can redirect the write.
    public static func stage(_ bytes: [UInt8], for path: String) throws -> String {
        try StagingFile(for: path).finish(bytes)
    }

    /// Stages the file `produce` writes in pieces: it is handed a `spill` to call with its buffer between
    /// pieces, which writes the buffer out once it holds a megabyte and empties it; what it returns is the
    /// rest. A first import's report is tens of megabytes that are never held whole.
    static func stage(for path: String, _ produce: (_ spill: (inout [UInt8]) throws -> Void) throws -> [UInt8]) throws -> String {
        try staged(for: path, produce).temporary
    }

    /// The same, with what the staged file is, for reading it back (`WrittenJSON`).
    static func staged(for path: String, _ produce: (_ spill: (inout [UInt8]) throws -> Void) throws -> [UInt8]) throws
        -> (temporary: String, identity: StagingFile.Identity) {
        let file = try StagingFile(for: path)
        let rest = try produce { buffer in
            guard buffer.count >= StagingFile.spillSize else { return }
            try file.write(buffer)
            buffer.removeAll(keepingCapacity: true)
        }
        let temporary = try file.finish(rest)
        return (temporary, file.identity)
    }

    /// Renames a staged file into place and makes the rename durable (the folder is synced).
    public static func commit(_ temporary: String, to path: String) throws {
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw Failure(path: path, reason: reason)
        }
        let folder = Paths.parent(of: path)
        let descriptor = open(folder.isEmpty ? "." : folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw Failure(path: path, reason: "cannot open its folder to sync it") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw Failure(path: path, reason: String(cString: strerror(errno))) }
    }

    /// Removes a staged file that will not be committed.
    public static func discard(_ temporary: String) { unlink(temporary) }

    /// Removes the temporary files in `folder` that a process no longer running left behind (killed while
    /// its files waited for its commit): they hold personal data, and no retention would ever see them.
    /// A file of a live process (another run, or a process that took over the number) is left alone.
    public static func removeAbandonedTemporaries(in folder: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
        for name in names {
            guard let marker = name.range(of: ".tmp-", options: .backwards) else { continue }
            let parts = name[marker.upperBound...].split(separator: "-")
            guard parts.count == 2, let pid = pid_t(parts[0]), pid > 0, pid != getpid() else { continue }
            if kill(pid, 0) != 0, errno == ESRCH { unlink((folder as NSString).appendingPathComponent(name)) }
        }
    }

    public static func write(_ text: String, to path: String) throws {
        try write(Array(text.utf8), to: path)
    }
}

/// A temporary file beside its final path, written in pieces and then synced (`ProtectedFile.stage`).
/// One that is dropped before `finish` is removed: a run that fails half-way leaves no file behind.
final class StagingFile {
    static let spillSize = 1 << 20

    let path: String
    let temporary: String
    private var descriptor: Int32

    init(for path: String) throws {
        var random = SystemRandomNumberGenerator()
        self.path = path
        temporary = path + ".tmp-\(getpid())-\(String(random.next() as UInt64, radix: 36))"
        descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, ProtectedFile.fileMode)
        guard descriptor >= 0 else { throw ProtectedFile.Failure(path: path, reason: String(cString: strerror(errno))) }
        // The umask may have narrowed the mode; set it exactly.
        fchmod(descriptor, ProtectedFile.fileMode)
    }

    func write(_ bytes: [UInt8]) throws {
        var offset = 0
        var failure: Int32 = 0
        bytes.withUnsafeBytes { buffer in
            while offset < buffer.count {
                let written = Foundation.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                offset += written
            }
        }
        guard failure == 0 else { throw fail(failure) }
    }

    /// Which file this is, once finished: its device, its inode, its size, and when it last changed (a file
    /// removed and another made may get the same inode; writing to a file changes that time).
    struct Identity: Equatable, Sendable {
        var device: UInt64 = 0
        var inode: UInt64 = 0
        var size: Int64 = -1
        var changed = (seconds: 0, nanoseconds: 0)

        init() {}

        init(_ info: stat) {
            device = UInt64(info.st_dev)
            inode = UInt64(info.st_ino)
            size = Int64(info.st_size)
            changed = (info.st_ctim.tv_sec, info.st_ctim.tv_nsec)
        }

        static func == (lhs: Identity, rhs: Identity) -> Bool {
            lhs.device == rhs.device && lhs.inode == rhs.inode && lhs.size == rhs.size && lhs.changed == rhs.changed
        }
    }

    private(set) var identity = Identity()

    /// Writes `rest`, syncs and closes the file, and returns the temporary name for `ProtectedFile.commit`.
    func finish(_ rest: [UInt8]) throws -> String {
        try write(rest)
        guard fsync(descriptor) == 0 else { throw fail(errno) }
        var info = stat()
        if fstat(descriptor, &info) == 0 { identity = Identity(info) }
        let closed = close(descriptor)
        let failure = errno
        descriptor = -1
        guard closed == 0 else { throw fail(failure) }
        return temporary
    }

    /// Removes the file; `failure` is the reason, for the error.
    private func fail(_ failure: Int32) -> ProtectedFile.Failure {
        abandon()
        return ProtectedFile.Failure(path: path, reason: String(cString: strerror(failure)))
    }

    private func abandon() {
        if descriptor >= 0 { close(descriptor) }
        descriptor = -1
        unlink(temporary)
    }

    deinit {
        // Not finished: what was written is part of a file that will never be put in place.
        if descriptor >= 0 { abandon() }
    }
}

/// CSV for spreadsheets: `;`-separated (Dutch Excel), UTF-8 with BOM, every cell quoted when needed, and
/// cells that a spreadsheet would run as a formula made inert.
public enum SpreadsheetCSV {
    /// Quotes a cell; a leading `=`, `+`, `-`, `@`, tab or CR gets a `'` in front (OWASP CSV injection).
    public static func cell(_ value: String?) -> String {
        var bytes: [UInt8] = []
        append(value, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `cell(value)`, appended to `out` as UTF-8. Every character looked for is ASCII, so the bytes tell (a
    /// multi-byte character never holds an ASCII byte); a line break is looked for as CR and LF alike, so
    /// "\r\n" cannot slip past.
    static func append(_ value: String?, to out: inout [UInt8]) {
        guard var text = value, let first = text.utf8.first else { return }
        text.withUTF8 { bytes in
            let inert: Bool
            switch first {
            case UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "@"), 0x09, 0x0D: inert = true
            default: inert = false
            }
            let quoted = bytes.contains { $0 == UInt8(ascii: ";") || $0 == UInt8(ascii: "\"") || $0 == 0x0A || $0 == 0x0D || $0 == UInt8(ascii: ",") }
            if quoted { out.append(UInt8(ascii: "\"")) }
            if inert { out.append(UInt8(ascii: "'")) }
            guard quoted else {
                out.append(contentsOf: bytes)
                return
            }
            for byte in bytes {
                if byte == UInt8(ascii: "\"") { out.append(byte) }
                out.append(byte)
            }
            out.append(UInt8(ascii: "\""))
        }
    }

    public static func document(header: [String], rows: [[String?]]) -> String {
        String(decoding: bytes(header: header, rows: rows, spill: { _ in }), as: UTF8.self)
    }

    /// `document` as the UTF-8 bytes of the file; with `spill`, the bytes left once it has been given the
    /// rest row by row (`ProtectedFile.stage(for:_:)`).
    static func bytes<Rows: Sequence<[String?]>>(header: [String], rows: Rows,
                                                 spill: (inout [UInt8]) throws -> Void) rethrows -> [UInt8] {
        var out: [UInt8] = [0xEF, 0xBB, 0xBF]
        func append(_ row: [String?]) {
            for (index, value) in row.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ";")) }
                SpreadsheetCSV.append(value, to: &out)
            }
            out.append(0x0D)
            out.append(0x0A)
        }
        append(header)
        for row in rows {
            append(row)
            try spill(&out)
        }
        return out
    }
}

/// Where one run's report files went.
public struct ReportPaths: Sendable {
    public let json: String
    public let markdown: String
    /// The same report as a self-contained web page, for reading in a browser and printing.
    public let html: String
    public let changesCSV: String
    public let rejectedCSV: String
}

/// A run's report files written under temporary names, waiting for the run's commit to be renamed into
/// place: a report that cannot be written (a full disk) is found before the portal changes.
public struct StagedReport {
    public let paths: ReportPaths
    /// Each temporary file with the name it gets.
    let files: [(temporary: String, final: String)]
    /// The staged JSON, whose lists the final one copies; its issues are those the staged issues CSV lists.
    let json: WrittenJSON
    /// What the staged Markdown and web page say of the issues.
    let digest: IssueDigest

    /// Renames every file into place; when one cannot be, the temporaries not yet renamed are removed.
    public func commit() throws -> ReportPaths {
        for (index, file) in files.enumerated() {
            do {
                try ProtectedFile.commit(file.temporary, to: file.final)
            } catch {
                for rest in files[(index + 1)...] { ProtectedFile.discard(rest.temporary) }
                throw error
            }
        }
        return paths
    }

    /// The same files with the JSON, the Markdown and the web page written again from `report` (its end time
    /// and mail counts, known only after the commit), and the issues CSV when the run noted more since it
    /// was staged; the old temporaries of those are removed.
    public func restaging(_ report: RunReport) throws -> StagedReport {
        var fresh: [String: String] = [:]
        let paths = paths, staged = json
        let json: WrittenJSON, digest: IssueDigest
        do {
            let issuesChanged = report.issues.count != staged.issues.count
            // The lists are copied from the staged JSON, and the issues' digest is extended: only what the run
            // noted since is written anew.
            let (data, readable) = try sideBySide({
                try ReportWriter.stageData(report, json: staged, paths: paths, changes: false, issues: issuesChanged)
            }, { () -> (markdown: [UInt8], html: [UInt8], digest: IssueDigest) in
                let digest = self.digest.extended(to: report.issues)
                let rendered = ReportWriter.forPeople(report, digest: digest)
                return (rendered.markdown, rendered.html, digest)
            })
            json = data.json
            digest = readable.digest
            for file in data.files { fresh[file.final] = file.temporary }
            for (bytes, path) in [(readable.markdown, paths.markdown), (readable.html, paths.html)] {
                fresh[path] = try ProtectedFile.stage(bytes, for: path)
            }
        } catch {
            for temporary in fresh.values { ProtectedFile.discard(temporary) }
            throw error
        }
        var updated: [(temporary: String, final: String)] = []
        for file in files {
            if let temporary = fresh[file.final] {
                ProtectedFile.discard(file.temporary)
                updated.append((temporary, file.final))
            } else {
                updated.append(file)
            }
        }
        return StagedReport(paths: paths, files: updated, json: json, digest: digest)
    }

    /// Removes the temporary files (the run rolled back, or a newer version was staged).
    public func discard() {
        for file in files { ProtectedFile.discard(file.temporary) }
    }
}

/// A report's JSON written before in the same run, whose lists a later JSON of the run copies instead of
/// writing them anew (`ReportWriter.json(_:reusing:spill:)`). The report is written before the transaction
/// and again after the commit: its changes are the same then, and its issues at most a few more, while a
/// first import lists every record it made and a quiet night at a million children warns about 145,000 rows.
struct WrittenJSON: Sendable {
    /// Where each list's items are in the bytes (between its brackets).
    struct Places: Sendable {
        var changes: Range<Int> = 0..<0
        var issues: Range<Int> = 0..<0
    }

    enum Source: Sendable {
        case bytes([UInt8])
        /// A staged report file, written and synced, and what it was then: the file read back must be that one.
        case file(String, StagingFile.Identity)
    }

    let runId: String
    /// The issues it lists.
    let issues: [Issue]
    /// How many changes it lists, and the keys of the first and the last.
    let changes: (count: Int, first: String?, last: String?)
    let places: Places
    let source: Source

    init(_ report: RunReport, places: Places, source: Source) {
        runId = report.runId
        issues = report.issues
        changes = (report.changes.count, report.changes.first?.key, report.changes.last?.key)
        self.places = places
        self.source = source
    }

    /// The bytes, when they are in memory.
    var bytes: [UInt8]? {
        if case .bytes(let bytes) = source { return bytes }
        return nil
    }

    /// Whether it lists the changes `report` lists. A run's changes are settled before its report is first
    /// written: the same number, the same first and last, are the same changes.
    func listsTheChanges(of report: RunReport) -> Bool {
        runId == report.runId && changes.count == report.changes.count
            && changes.first == report.changes.first?.key && changes.last == report.changes.last?.key
    }

    /// How many of `report`'s issues it lists: those it lists, when `report`'s begin with them (a run only adds
    /// issues); otherwise none.
    func listedIssues(of report: RunReport) -> Int {
        guard runId == report.runId, issues.count <= report.issues.count,
              report.issues.prefix(issues.count).elementsEqual(issues) else { return 0 }
        return issues.count
    }

    /// Appends the bytes of `range` to `bytes`, handing them to `spill` a megabyte at a time.
    func copy(_ range: Range<Int>, into bytes: inout [UInt8], spill: (inout [UInt8]) throws -> Void) throws {
        guard !range.isEmpty else { return }
        switch source {
        case .bytes(let written):
            var start = range.lowerBound
            while start < range.upperBound {
                let end = min(start + StagingFile.spillSize, range.upperBound)
                bytes += written[start..<end]
                try spill(&bytes)
                start = end
            }
        case .file(let path, let identity):
            // Not through a link, never waiting on a pipe put in its place, and only the file that was written.
            let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
            guard descriptor >= 0 else { throw readBackFailure(path, String(cString: strerror(errno))) }
            defer { close(descriptor) }
            var info = stat()
            guard fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG, StagingFile.Identity(info) == identity else {
                throw readBackFailure(path, "it is no longer the file that was written")
            }
            var offset = range.lowerBound
            while offset < range.upperBound {
                let want = min(StagingFile.spillSize, range.upperBound - offset)
                let kept = bytes.count
                bytes.append(contentsOf: repeatElement(0, count: want))
                let read = bytes.withUnsafeMutableBytes { buffer in pread(descriptor, buffer.baseAddress! + kept, want, off_t(offset)) }
                if read < 0, errno == EINTR {
                    bytes.removeSubrange(kept...)
                    continue
                }
                guard read > 0 else {
                    throw readBackFailure(path, read < 0 ? String(cString: strerror(errno)) : "it is shorter than when it was written")
                }
                bytes.removeSubrange((kept + read)...)
                offset += read
                try spill(&bytes)
            }
        }
    }
}

/// A staged file that could not be read back.
private func readBackFailure(_ path: String, _ reason: String) -> ProtectedFile.Failure {
    ProtectedFile.Failure(path: path, reason: "its first version could not be read back: \(reason)")
}

public enum ReportWriter {
    /// Writes `<reports>/<org>/<run-id>.json`, `.md`, `.html`, `-wijzigingen.csv` and `-afgewezen.csv`.
    public static func write(_ report: RunReport, to reportsDirectory: String) throws -> ReportPaths {
        try stage(report, to: reportsDirectory).commit()
    }

    /// Writes the files of `report` under temporary names in `<reports>/<org>/`; nothing is in place yet.
    /// `json` is the JSON of `report` without its changes, when the caller has it: without changes it is the
    /// report's own, and otherwise its issues are copied from it.
    static func stage(_ report: RunReport, json: WrittenJSON?, to reportsDirectory: String) throws -> StagedReport {
        try stage(report, json: json, folder: (reportsDirectory as NSString).appendingPathComponent(report.organisation.id))
    }

    /// Writes the files of `report` under temporary names in `<reports>/<org>/`; nothing is in place yet.
    public static func stage(_ report: RunReport, to reportsDirectory: String) throws -> StagedReport {
        try stage(report, json: nil, to: reportsDirectory)
    }

    /// The same, into `folder` itself (the folder a run's recorded report path names).
    public static func stage(_ report: RunReport, folder: String) throws -> StagedReport {
        try stage(report, json: nil, folder: folder)
    }

    static func stage(_ report: RunReport, json prior: WrittenJSON?, folder: String) throws -> StagedReport {
        // The organisation id and run id become file names: plain identifiers only, checked again here.
        guard OrganisationID.isValid(report.organisation.id) || report.organisation.id == RunReport.unknownOrganisation,
              report.runId.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else {
            throw ProtectedFile.Failure(path: folder, reason: "the organisation or run id is not a plain identifier")
        }
        try ProtectedFile.makeDirectory(folder)
        try ProtectedFile.requireRealDirectory(folder)
        ProtectedFile.removeAbandonedTemporaries(in: folder)
        let base = (folder as NSString).appendingPathComponent(report.runId)
        let paths = ReportPaths(json: base + ".json", markdown: base + ".md", html: base + ".html",
                                changesCSV: base + "-wijzigingen.csv", rejectedCSV: base + "-afgewezen.csv")
        var files: [(temporary: String, final: String)] = []
        let json: WrittenJSON, digest: IssueDigest
        do {
            // Rendered on both cores: the JSON and the two spreadsheets, written to their files as they are
            // made, beside the document for people.
            let (data, readable) = try sideBySide({ try stageData(report, json: prior, paths: paths, changes: true, issues: true) }, {
                () -> (markdown: [UInt8], html: [UInt8], digest: IssueDigest) in
                let digest = IssueDigest(report.issues)
                let rendered = forPeople(report, digest: digest)
                return (rendered.markdown, rendered.html, digest)
            })
            files = data.files
            json = data.json
            digest = readable.digest
            for (bytes, path) in [(readable.markdown, paths.markdown), (readable.html, paths.html)] {
                files.append((try ProtectedFile.stage(bytes, for: path), path))
            }
        } catch {
            for file in files { ProtectedFile.discard(file.temporary) }
            throw error
        }
        return StagedReport(paths: paths, files: files, json: json, digest: digest)
    }

    /// Stages the JSON (copying from `prior`, a JSON of the run written before, what it can), the changes CSV
    /// unless `changes` is false, and the issues CSV when `issues` is true, each written to its file as it is
    /// made. When one of them cannot be, those already staged are removed.
    static func stageData(_ report: RunReport, json prior: WrittenJSON?, paths: ReportPaths, changes: Bool,
                          issues: Bool) throws -> (files: [(temporary: String, final: String)], json: WrittenJSON) {
        var files: [(temporary: String, final: String)] = []
        do {
            var places = WrittenJSON.Places()
            var identity = StagingFile.Identity()
            if let prior, let bytes = prior.bytes, report.changes.isEmpty, prior.listsTheChanges(of: report), prior.issues == report.issues {
                // The JSON of the report without its changes (the caller's word for the rest), and it has none:
                // the report's own.
                let staged = try ProtectedFile.staged(for: paths.json) { _ in bytes }
                files.append((staged.temporary, paths.json))
                identity = staged.identity
                places = prior.places
            } else {
                let staged = try ProtectedFile.staged(for: paths.json) { spill in
                    let written = try json(report, reusing: prior, spill: spill)
                    places = written.places
                    return written.rest
                }
                files.append((staged.temporary, paths.json))
                identity = staged.identity
            }
            if changes {
                files.append((try ProtectedFile.stage(for: paths.changesCSV) { try changesCSV(report, spill: $0) }, paths.changesCSV))
            }
            if issues {
                files.append((try ProtectedFile.stage(for: paths.rejectedCSV) { try issuesCSV(report, spill: $0) }, paths.rejectedCSV))
            }
            return (files, WrittenJSON(report, places: places, source: .file(files[0].temporary, identity)))
        } catch {
            for file in files { ProtectedFile.discard(file.temporary) }
            throw error
        }
    }

    /// The Markdown and the web page of `report`, rendered from one document; `digest` is that of its issues.
    static func forPeople(_ report: RunReport, digest: IssueDigest) -> (markdown: [UInt8], html: [UInt8]) {
        let document = ReportContent.document(report, digest: digest)
        return (Array(MarkdownReport.render(document).utf8), Array(HTMLReport.render(report, document).utf8))
    }

    public static func json(_ report: RunReport) throws -> [UInt8] {
        try json(report, spill: { _ in })
    }

    /// The JSON of `report`, given to `spill` object by object as it is written; returns the rest.
    static func json(_ report: RunReport, spill: (inout [UInt8]) throws -> Void) throws -> [UInt8] {
        try json(report, reusing: nil, spill: spill).rest
    }

    /// The JSON of `report` in memory, with where its lists are, for a later JSON of the run to copy them.
    static func written(_ report: RunReport) throws -> WrittenJSON {
        let (bytes, places) = try json(report, reusing: nil, spill: { _ in })
        return WrittenJSON(report, places: places, source: .bytes(bytes))
    }

    /// The JSON of `report`, given to `spill` object by object as it is written; returns the rest and where
    /// the lists' items are in the whole. The lists `prior` (a JSON of the same run written before) holds as
    /// they are here are copied from it rather than written anew: the changes when they are the same, the
    /// issues as far as they are.
    static func json(_ report: RunReport, reusing prior: WrittenJSON?,
                     spill: (inout [UInt8]) throws -> Void) throws -> (rest: [UInt8], places: WrittenJSON.Places) {
        // The lists below are written by closures kept in a table, for as long as this call.
        try withoutActuallyEscaping(spill) { spill in try json(report, reusing: prior, escaping: spill) }
    }

    private static func json(_ report: RunReport, reusing prior: WrittenJSON?,
                             escaping spill: @escaping (inout [UInt8]) throws -> Void) throws -> (rest: [UInt8], places: WrittenJSON.Places) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        // A first import lists every record it created, and a night can warn about thousands of rows: lists
        // the encoder would first build as a tree, object by object. They are written here, one object per
        // line, instead.
        var shell = report
        shell.changes = []
        shell.issues = []
        shell.parentAccounts?.withoutAccount = []
        let encoded = Array(try encoder.encode(shell))
        // How many bytes went to `spill`: with the buffer, where in the whole the writing is.
        var spilled = 0
        let counted: (inout [UInt8]) throws -> Void = { buffer in
            let before = buffer.count
            try spill(&buffer)
            spilled += before - buffer.count
        }
        typealias List = (key: String, indent: String, isEmpty: Bool, write: (inout [UInt8]) throws -> Void)
        let lists: [List] = [
            ("changes", "  ", report.changes.isEmpty, { bytes in
                var from = 0
                if let prior, prior.listsTheChanges(of: report) {
                    try prior.copy(prior.places.changes, into: &bytes, spill: counted)
                    from = report.changes.count
                }
                try writeList(report.changes.dropFirst(from), first: from == 0, indent: "    ", into: &bytes, spill: counted) { change, bytes in
                    var object = JSONMembers(&bytes)
                    object.add("action", change.action.rawValue, &bytes)
                    object.add("entity", change.entity, &bytes)
                    bytes.append(contentsOf: ",\"fields\":[".utf8)
                    for (position, field) in change.fields.enumerated() {
                        if position > 0 { bytes.append(UInt8(ascii: ",")) }
                        var member = JSONMembers(&bytes)
                        member.add("field", field.field, &bytes)
                        member.add("new", field.new, &bytes)
                        member.add("old", field.old, &bytes)
                        member.close(&bytes)
                    }
                    bytes.append(UInt8(ascii: "]"))
                    object.add("key", change.key, &bytes)
                    object.close(&bytes)
                }
            }),
            ("issues", "  ", report.issues.isEmpty, { bytes in
                // Those the prior JSON lists are copied, the rest written.
                let from = prior?.listedIssues(of: report) ?? 0
                if let prior, from > 0 { try prior.copy(prior.places.issues, into: &bytes, spill: counted) }
                try writeList(report.issues.dropFirst(from), first: from == 0, indent: "    ", into: &bytes, spill: counted) { issue, bytes in
                    issue.appendJSON(to: &bytes)
                }
            }),
            // Every parent without an account is listed every night: 46,000 at a million children.
            ("withoutAccount", "    ", report.parentAccounts?.withoutAccount.isEmpty ?? true, { bytes in
                let parents = report.parentAccounts?.withoutAccount ?? []
                try writeList(parents, first: true, indent: "      ", into: &bytes, spill: counted) { parent, bytes in
                    var object = JSONMembers(&bytes)
                    if let name = parent.name { object.add("name", name, &bytes) }
                    object.add("parent", parent.parent, &bytes)
                    object.add("reason", parent.reason, &bytes)
                    object.close(&bytes)
                }
            }),
        ]
        // Where each empty list stands in the encoded shell (looked for there, where it is small); then the
        // shell is copied around the lists, which are written in its place.
        var places: [(range: Range<Int>, list: List)] = []
        for list in lists {
            let empty = "\n\(list.indent)\"\(list.key)\" : [\n\n\(list.indent)]"
            if let range = ByteSearch.firstRange(of: Array(empty.utf8), in: encoded) {
                places.append((range, list))
            } else if !list.isEmpty {
                // A list with items and nowhere to write them would be left out without a word.
                throw ProtectedFile.Failure(path: report.runId + ".json", reason: "the report's list \(list.key) has no place in it")
            }
        }
        places.sort { $0.range.lowerBound < $1.range.lowerBound }
        var bytes: [UInt8] = []
        var copied = 0
        var found = WrittenJSON.Places()
        for place in places {
            bytes += encoded[copied..<place.range.lowerBound]
            bytes.append(contentsOf: "\n\(place.list.indent)\"\(place.list.key)\" : [".utf8)
            let start = spilled + bytes.count
            try place.list.write(&bytes)
            let items = start..<(spilled + bytes.count)
            if place.list.key == "changes" { found.changes = items } else if place.list.key == "issues" { found.issues = items }
            // An empty list stays as the encoder wrote it.
            bytes.append(contentsOf: ((place.list.isEmpty ? "\n\n" : "\n") + place.list.indent + "]").utf8)
            copied = place.range.upperBound
        }
        bytes += encoded[copied...]
        // Appended, not `bytes + [0x0A]`: a first import's report is tens of megabytes, and that would copy it.
        bytes.append(0x0A)
        return (bytes, found)
    }

    /// `items` as the body of a JSON list (or its continuation, when not `first`), one object per line after
    /// `indent`, each written by `object`.
    private static func writeList<Items: Sequence>(_ items: Items, first: Bool, indent: String, into bytes: inout [UInt8],
                                                     spill: (inout [UInt8]) throws -> Void,
                                                     _ object: (Items.Element, inout [UInt8]) -> Void) throws {
        var first = first
        for item in items {
            bytes.append(contentsOf: ((first ? "\n" : ",\n") + indent).utf8)
            first = false
            object(item, &bytes)
            try spill(&bytes)
        }
    }

    /// Every change, a row per changed field. The rows are made one at a time as they are written: a first
    /// import lists every record it created, and a list of them all would be held beside the file's bytes.
    public static func changesCSV(_ report: RunReport) -> [UInt8] {
        changesCSV(report, spill: { _ in })
    }

    /// The changes CSV, given to `spill` row by row; returns the rest.
    static func changesCSV(_ report: RunReport, spill: (inout [UInt8]) throws -> Void) rethrows -> [UInt8] {
        let rows = report.changes.lazy.flatMap { change -> [[String?]] in
            change.fields.isEmpty
                ? [[change.entity, change.key, change.action.rawValue, nil, nil, nil]]
                : change.fields.map { [change.entity, change.key, change.action.rawValue, $0.field, $0.old, $0.new] }
        }
        return try SpreadsheetCSV.bytes(header: ["entiteit", "sleutel", "actie", "veld", "oud", "nieuw"], rows: rows, spill: spill)
    }

    /// Every issue of the run: the rejected rows first, then warnings.
    public static func issuesCSV(_ report: RunReport) -> [UInt8] {
        issuesCSV(report, spill: { _ in })
    }

    /// The issues CSV, given to `spill` row by row; returns the rest.
    static func issuesCSV(_ report: RunReport, spill: (inout [UInt8]) throws -> Void) rethrows -> [UInt8] {
        let sorted = report.issues.enumerated().sorted { lhs, rhs in
            lhs.element.severity != rhs.element.severity ? lhs.element.severity > rhs.element.severity : lhs.offset < rhs.offset
        }.map(\.element)
        let rows = sorted.lazy.map { issue -> [String?] in
            [issue.severity.rawValue, issue.code, issue.file, issue.line.map(String.init), issue.column.map(String.init),
             issue.field, issue.key, issue.message]
        }
        return try SpreadsheetCSV.bytes(
            header: ["ernst", "code", "bestand", "regel", "kolom", "veld", "sleutel", "melding"], rows: rows, spill: spill)
    }
}

/// One JSON object written member by member straight onto a byte buffer, in the order given.
struct JSONMembers {
    private var first = true

    init(_ bytes: inout [UInt8]) { bytes.append(UInt8(ascii: "{")) }

    private mutating func name(_ name: String, _ bytes: inout [UInt8]) {
        bytes.append(contentsOf: (first ? "\"" : ",\"").utf8)
        bytes.append(contentsOf: name.utf8)
        bytes.append(contentsOf: "\":".utf8)
        first = false
    }

    mutating func add(_ name: String, _ value: String?, _ bytes: inout [UInt8]) {
        self.name(name, &bytes)
        JSONText.append(value, to: &bytes)
    }

    mutating func add(_ name: String, _ value: Int?, _ bytes: inout [UInt8]) {
        self.name(name, &bytes)
        bytes.append(contentsOf: (value.map(String.init) ?? "null").utf8)
    }

    func close(_ bytes: inout [UInt8]) { bytes.append(UInt8(ascii: "}")) }
}
