internal import CSQLite
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One connection to a portal database file.
///
/// Opens in WAL mode with a busy timeout and foreign keys on. Prepared statements are cached per SQL
/// string, so loops that write a row at a time reuse one compiled statement.
public final class Database {
    let handle: OpaquePointer
    /// The database file.
    public let path: String
    private var statements: [String: Statement] = [:]

    /// How the connection is opened.
    public enum Mode: Sendable {
        case readWrite
        case readOnly
        /// An existing file, opened read-write but with `PRAGMA query_only`: nothing can be written, and
        /// as the last connection SQLite still removes its `-wal` and `-shm` files on close, so the
        /// folder is left exactly as it was (dry runs).
        case queryOnly
    }

    /// Opens (or creates, in `.readWrite` mode) the database at `path`.
    ///
    /// A new file is created with `fileMode` (default 0640: the portal holds personal data); SQLite gives
    /// its `-wal` and `-shm` files the same mode.
    ///
    /// With `owner`, a file that already holds tables must carry that `PRAGMA application_id` (or, with
    /// `legacyTables`, hold all of those tables and the first migration named as given under the key
    /// `schema_migrations`: a file of this program from before it set the mark);
    /// anything else throws `ForeignDatabase` before a single byte of the file is written.
    public init(path: String, mode: Mode = .readWrite, busyTimeoutMilliseconds: Int32 = 5000,
                fileMode: mode_t = 0o640, owner: Int32? = nil, legacyTables: [String: String] = [:]) throws {
        // The file itself, never through a link: a link planted in its folder would put the portal (and its
        // personal data) wherever it points.
        var info = stat()
        if lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFLNK {
            throw DatabaseError(code: 1, message: "the database path is a symbolic link; opvangsync does not follow it", sql: nil, path: path)
        }
        // Whose file it is, decided through a read-only connection: a read-write one could already change
        // another program's file (a rollback journal replayed, a WAL checkpointed on close).
        if let owner, lstat(path, &info) == 0, info.st_size > 0 {
            try Database.checkOwner(path: path, owner: owner, legacyTables: legacyTables)
        }
        if mode == .readWrite {
            let descriptor = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, fileMode)
            if descriptor >= 0 {
                fchmod(descriptor, fileMode)
                close(descriptor)
            }
        }
        var handle: OpaquePointer?
        let flags: Int32 = switch mode {
        case .readWrite: SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW
        case .readOnly: SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW
        case .queryOnly: SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW
        }
        let code = sqlite3_open_v2(path, &handle, flags, nil)
        guard code == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            if let handle { sqlite3_close_v2(handle) }
            throw DatabaseError(code: code, message: message, sql: nil, path: path)
        }
        self.handle = handle
        self.path = path
        sqlite3_extended_result_codes(handle, 1)
        sqlite3_busy_timeout(handle, busyTimeoutMilliseconds)
        if mode == .readWrite {
            try execute("PRAGMA journal_mode = WAL")
            // FULL makes every commit durable before the run reports success.
            try execute("PRAGMA synchronous = FULL")
            // A statement that writes many rows (the importer inserts 64 to a statement) keeps a journal of
            // the pages it changes, to undo itself alone on a constraint error. Past 64 KB SQLite spills that
            // journal to a file in /var/tmp: a first import at 100,000 children wrote gigabytes there, a
            // quiet night 180 MB. In memory it is a copy of the few pages one statement touches.
            try execute("PRAGMA temp_store = MEMORY")
        }
        try execute("PRAGMA foreign_keys = ON")
        if mode == .queryOnly { try execute("PRAGMA query_only = ON") }
    }

    /// Refuses a file that belongs to another program. Reads only, through a connection of its own that is
    /// opened read-only, so nothing of the file (its journal, its WAL) is replayed or checkpointed.
    static func checkOwner(path: String, owner: Int32, legacyTables: [String: String]) throws {
        let probe = try Database(path: path, mode: .readOnly)
        let applicationID: Int
        let tables: [String]
        do {
            applicationID = try probe.scalarInt("PRAGMA application_id") ?? 0
            tables = try probe.query("SELECT name FROM sqlite_master WHERE type = 'table'") { $0.string(0) ?? "" }
        } catch let error as DatabaseError {
            throw ForeignDatabase(path: path, reason: "it cannot be read as an SQLite database (\(error.message))")
        }
        if applicationID == Int(owner) || tables.isEmpty && applicationID == 0 { return }
        // A file of this program from before it set the mark: its tables, and its first migration's own words.
        if applicationID == 0, !legacyTables.isEmpty, Set(legacyTables.keys).isSubset(of: Set(tables)),
           let first = try? probe.scalarString("SELECT summary FROM schema_migrations WHERE version = 1"),
           legacyTables["schema_migrations"] == first {
            return
        }
        let found = applicationID == 0 ? "no application id" : "application id \(applicationID)"
        throw ForeignDatabase(path: path, reason: "it has \(found) and \(tables.count) tables of its own (\(tables.prefix(5).joined(separator: ", ")))")
    }

    /// Sets `PRAGMA application_id` when the file does not carry it yet.
    public func claim(applicationID: Int32) throws {
        if try scalarInt("PRAGMA application_id") != Int(applicationID) {
            try execute("PRAGMA application_id = \(applicationID)")
        }
    }

    deinit {
        statements.removeAll()
        sqlite3_close_v2(handle)
    }

    func error(code: Int32, sql: String?) -> DatabaseError {
        let message = sqlite3_errmsg(handle).map { String(cString: $0) } ?? "unknown error"
        return DatabaseError(code: code, message: message, sql: sql, path: path)
    }

    /// Runs one or more SQL statements that take no parameters (DDL, PRAGMA).
    public func execute(_ sql: String) throws {
        var errorMessage: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(handle, sql, nil, nil, &errorMessage)
        if code != SQLITE_OK {
            let message = errorMessage.map { String(cString: $0) } ?? "unknown error"
            sqlite3_free(errorMessage)
            throw DatabaseError(code: code, message: message, sql: sql, path: path)
        }
    }

    /// The cached prepared statement for `sql`, compiled on first use.
    public func statement(_ sql: String) throws -> Statement {
        if let cached = statements[sql] { return cached }
        let statement = try Statement(database: self, sql: sql)
        statements[sql] = statement
        return statement
    }

    /// Runs a parameterised statement, reusing its cached compilation.
    public func run(_ sql: String, _ values: [SQLValue] = []) throws {
        try statement(sql).execute(values)
    }

    /// The rows of a parameterised query.
    public func query<T>(_ sql: String, _ values: [SQLValue] = [], _ transform: (Row) throws -> T) throws -> [T] {
        try statement(sql).rows(values, transform)
    }

    /// The first integer of a query's first row (COUNT(*), user_version...).
    public func scalarInt(_ sql: String, _ values: [SQLValue] = []) throws -> Int? {
        try statement(sql).firstRow(values) { $0.int(0) } ?? nil
    }

    /// The first text of a query's first row.
    public func scalarString(_ sql: String, _ values: [SQLValue] = []) throws -> String? {
        try statement(sql).firstRow(values) { $0.string(0) } ?? nil
    }

    /// Rows changed by the last INSERT/UPDATE/DELETE.
    public var changes: Int { Int(sqlite3_changes(handle)) }

    /// The rowid of the last row this connection inserted.
    public var lastInsertedRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// `body` with a page cache of `megabytes` instead of SQLite's default 2 MB. A large transaction changes
    /// pages all over its tables and their indexes: with the default cache they are spilled to the WAL and
    /// read back again and again. The cache is given back afterwards, so that a small run stays small.
    public func withPageCache<T>(megabytes: Int, _ body: () throws -> T) throws -> T {
        try execute("PRAGMA cache_size = -\(megabytes * 1024)")
        defer { try? execute("PRAGMA cache_size = -2000") }
        return try body()
    }

    /// `body` with the write-ahead log's automatic checkpoint held back, and the checkpoint made after it
    /// (passive: it copies what no reader still needs and never waits for the portal). SQLite otherwise
    /// checkpoints inside the commit that fills the log, which lengthens the transaction it ends; and
    /// leaving it to the portal would make a parent's next click pay for the import's pages.
    public func checkpointingAfter<T>(_ body: () throws -> T) throws -> T {
        try execute("PRAGMA wal_autocheckpoint = 0")
        defer {
            try? execute("PRAGMA wal_autocheckpoint = 1000")
            try? execute("PRAGMA wal_checkpoint(PASSIVE)")
        }
        return try body()
    }

    /// Runs `body` inside `BEGIN IMMEDIATE ... COMMIT`; any error rolls back and is rethrown.
    ///
    /// IMMEDIATE takes the write lock up front, so a run never discovers half-way that another writer
    /// got there first.
    public func inTransaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            // The first error is the one worth reporting; a failed rollback means SQLite already rolled back.
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// Ends WAL mode's write-ahead log into the main file, so the file alone holds everything.
    public func checkpoint() throws {
        try execute("PRAGMA wal_checkpoint(TRUNCATE)")
    }

    /// SQLite's own consistency check; "ok" when the file is sound.
    public func integrityCheck() throws -> String {
        try query("PRAGMA integrity_check") { $0.string(0) ?? "" }.joined(separator: "\n")
    }
}

/// A database file that is not the one this program owns: another program's SQLite file, or no SQLite
/// file at all. Nothing was written to it.
public struct ForeignDatabase: Error, Sendable, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "\(path) is not an opvangsync portal database: \(reason); it was left untouched" }
}
