internal import CSQLite

/// An error reported by SQLite, with the statement that caused it.
///
/// The SQL is kept, never the bound values: those can hold personal data.
public struct DatabaseError: Error, CustomStringConvertible, Sendable {
    /// The primary SQLite result code (`SQLITE_BUSY`, `SQLITE_CONSTRAINT`, ...).
    public let code: Int32
    /// SQLite's own message.
    public let message: String
    /// The SQL being prepared or run, when there was one.
    public let sql: String?
    /// The database file.
    public let path: String

    public init(code: Int32, message: String, sql: String?, path: String) {
        self.code = code
        self.message = message
        self.sql = sql
        self.path = path
    }

    /// True when another connection holds a lock that the busy timeout did not outlast.
    public var isBusy: Bool { code & 0xff == SQLITE_BUSY || code & 0xff == SQLITE_LOCKED }

    public var description: String {
        var text = "SQLite error \(code) in \(path): \(message)"
        if let sql { text += "\n  while running: \(sql.prefix(200))" }
        return text
    }
}
