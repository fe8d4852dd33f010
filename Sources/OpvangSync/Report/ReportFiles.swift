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
    public static func makeDirectory(_ directory: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw Failure(path: directory, reason: "exists and is not a folder") }
            return
        }
        let parent = Paths.parent(of: directory)
        if !parent.isEmpty, parent != directory { try makeDirectory(parent) }
        guard mkdir(directory, directoryMode) == 0 || errno == EEXIST else {
            throw Failure(path: directory, reason: String(cString: strerror(errno)))
        }
        chmod(directory, directoryMode)
    }

    /// Writes `bytes` to `path` with mode 0640; readers never see a half-written file.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        let temporary = path + ".tmp-\(getpid())"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, fileMode)
        guard descriptor >= 0 else { throw Failure(path: path, reason: String(cString: strerror(errno))) }
        // The umask may have narrowed the mode; set it exactly.
        fchmod(descriptor, fileMode)
        var offset = 0
        let ok = bytes.withUnsafeBytes { buffer -> Bool in
            while offset < buffer.count {
                let written = Foundation.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 { if errno == EINTR { continue }; return false }
                offset += written
            }
            return fsync(descriptor) == 0
        }
        close(descriptor)
        guard ok, rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw Failure(path: path, reason: reason)
        }
    }

    public static func write(_ text: String, to path: String) throws {
        try write(Array(text.utf8), to: path)
    }
}

/// CSV for spreadsheets: `;`-separated (Dutch Excel), UTF-8 with BOM, every cell quoted when needed, and
/// cells that a spreadsheet would run as a formula made inert.
public enum SpreadsheetCSV {
    /// Quotes a cell; a leading `=`, `+`, `-`, `@`, tab or CR gets a `'` in front (OWASP CSV injection).
    public static func cell(_ value: String?) -> String {
        guard var text = value, !text.isEmpty else { return "" }
        if let first = text.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) {
            text = "'" + text
        }
        // Scalars, not Characters: "\r\n" is one Character and would slip past a Character test.
        if text.unicodeScalars.contains(where: { $0 == ";" || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "," }) {
            return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return text
    }

    public static func document(header: [String], rows: [[String?]]) -> String {
        var text = "\u{FEFF}" + header.map { cell($0) }.joined(separator: ";") + "\r\n"
        for row in rows {
            text += row.map { cell($0) }.joined(separator: ";") + "\r\n"
        }
        return text
    }
}

/// Where one run's report files went.
public struct ReportPaths: Sendable {
    public let json: String
    public let markdown: String
    public let changesCSV: String
    public let rejectedCSV: String
}

public enum ReportWriter {
    /// Writes `<reports>/<org>/<run-id>.json`, `.md`, `-wijzigingen.csv` and `-afgewezen.csv`.
    public static func write(_ report: RunReport, to reportsDirectory: String) throws -> ReportPaths {
        let folder = (reportsDirectory as NSString).appendingPathComponent(report.organisation.id)
        try ProtectedFile.makeDirectory(folder)
        let base = (folder as NSString).appendingPathComponent(report.runId)
        let paths = ReportPaths(json: base + ".json", markdown: base + ".md",
                                changesCSV: base + "-wijzigingen.csv", rejectedCSV: base + "-afgewezen.csv")
        try ProtectedFile.write(try json(report), to: paths.json)
        try ProtectedFile.write(MarkdownReport.render(report), to: paths.markdown)
        try ProtectedFile.write(changesCSV(report), to: paths.changesCSV)
        try ProtectedFile.write(issuesCSV(report), to: paths.rejectedCSV)
        return paths
    }

    public static func json(_ report: RunReport) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        // A first import lists every record it created: hundreds of thousands of changes, which the
        // encoder would first build as a tree. They are written here, one object per line, instead.
        var shell = report
        shell.changes = []
        var bytes = Array(try encoder.encode(shell))
        let empty = Array("\n  \"changes\" : [\n\n  ]".utf8)
        guard !report.changes.isEmpty, let start = bytes.firstRange(of: empty)?.lowerBound else { return bytes + [0x0A] }
        var list = "\n  \"changes\" : ["
        for (index, change) in report.changes.enumerated() {
            list += index == 0 ? "\n    " : ",\n    "
            list += "{\"action\":\(JSONText.quote(change.action.rawValue)),\"entity\":\(JSONText.quote(change.entity)),\"fields\":["
            for (position, field) in change.fields.enumerated() {
                if position > 0 { list += "," }
                list += "{\"field\":\(JSONText.quote(field.field)),\"new\":\(JSONText.quote(field.new)),\"old\":\(JSONText.quote(field.old))}"
            }
            list += "],\"key\":\(JSONText.quote(change.key))}"
        }
        list += "\n  ]"
        bytes.replaceSubrange(start..<(start + empty.count), with: Array(list.utf8))
        return bytes + [0x0A]
    }

    public static func changesCSV(_ report: RunReport) -> String {
        var rows: [[String?]] = []
        for change in report.changes {
            if change.fields.isEmpty {
                rows.append([change.entity, change.key, change.action.rawValue, nil, nil, nil])
            }
            for field in change.fields {
                rows.append([change.entity, change.key, change.action.rawValue, field.field, field.old, field.new])
            }
        }
        return SpreadsheetCSV.document(header: ["entiteit", "sleutel", "actie", "veld", "oud", "nieuw"], rows: rows)
    }

    /// Every issue of the run: the rejected rows first, then warnings.
    public static func issuesCSV(_ report: RunReport) -> String {
        let sorted = report.issues.enumerated().sorted { lhs, rhs in
            lhs.element.severity != rhs.element.severity ? lhs.element.severity > rhs.element.severity : lhs.offset < rhs.offset
        }.map(\.element)
        let rows: [[String?]] = sorted.map { issue in
            [issue.severity.rawValue, issue.code, issue.file, issue.line.map(String.init), issue.column.map(String.init),
             issue.field, issue.key, issue.message]
        }
        return SpreadsheetCSV.document(
            header: ["ernst", "code", "bestand", "regel", "kolom", "veld", "sleutel", "melding"], rows: rows)
    }
}
