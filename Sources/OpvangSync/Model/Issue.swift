/// Something a run found that customer service must know about: a rejected row, a warning, a refusal.
///
/// `message` is Dutch (it is shown in the report); `code` is stable English for filtering and tests.
/// Messages name files, lines, columns and record keys, never names, addresses or e-mail addresses.
public struct Issue: Codable, Sendable, Equatable, CustomStringConvertible {
    public enum Severity: String, Codable, Sendable, Comparable {
        case info, warning, error

        private var rank: Int { self == .info ? 0 : (self == .warning ? 1 : 2) }
        public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }
    }

    public var severity: Severity
    public var code: String
    public var file: String?
    public var line: Int?
    public var column: Int?
    /// The column's header name (CSV) or key (JSON), when the issue is about one field.
    public var field: String?
    /// The record's key (Kindnummer, Plaatsingsnummer, ...) when known.
    public var key: String?
    public var message: String

    public init(_ severity: Severity, _ code: String, file: String? = nil, line: Int? = nil, column: Int? = nil,
                field: String? = nil, key: String? = nil, message: String) {
        self.severity = severity
        self.code = code
        self.file = file
        self.line = line
        self.column = column
        self.field = field
        // What a report or a terminal shows never repeats a citizen service number, wherever the text came
        // from (a reference to a key that is one, a value echoed in a message). Display only: what is
        // stored keeps its identifiers.
        self.key = key.map { BSN.redacted($0) ?? $0 }
        self.message = BSN.redacted(message) ?? message
    }

    /// `file:line:column: severity: message`, the form compilers use and editors can jump to.
    public var description: String {
        var location = ""
        if let file {
            location = file
            if let line { location += ":\(line)" }
            if let column { location += ":\(column)" }
            location += ": "
        }
        let fieldText = field.map { " (kolom \($0))" } ?? ""
        // Read in terminals and logs: nothing from the export may move the cursor or start a new line.
        return TextSafety.visible("\(location)\(severity.rawValue): \(message)\(fieldText) [\(code)]")
    }
}

/// A fault that stops the run before anything is applied: the export cannot be trusted as a whole.
public struct ExportFailure: Error, Sendable, CustomStringConvertible {
    public let issue: Issue

    public init(_ issue: Issue) { self.issue = issue }

    public init(_ code: String, file: String?, line: Int? = nil, column: Int? = nil, field: String? = nil,
                message: String) {
        issue = Issue(.error, code, file: file, line: line, column: column, field: field, message: message)
    }

    public var description: String { issue.description }
}
