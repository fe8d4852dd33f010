/// One numbered schema step. Steps are applied in order, each in its own transaction.
public struct Migration: Sendable {
    public let version: Int
    public let summary: String
    public let sql: String

    public init(version: Int, summary: String, sql: String) {
        self.version = version
        self.summary = summary
        self.sql = sql
    }
}

extension Database {
    /// The highest schema version applied to this file, 0 for a new one.
    public func schemaVersion() throws -> Int {
        try execute("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version INTEGER PRIMARY KEY,
                summary TEXT NOT NULL,
                applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
            )
            """)
        return try scalarInt("SELECT COALESCE(MAX(version), 0) FROM schema_migrations") ?? 0
    }

    /// Applies every migration newer than the file's version.
    ///
    /// A file written by a newer opvangsync (a version this binary does not know) is refused rather than
    /// silently used with a schema it does not understand.
    public func migrate(_ migrations: [Migration]) throws {
        let current = try schemaVersion()
        let known = migrations.map(\.version).max() ?? 0
        if current > known {
            throw DatabaseError(
                code: 1,
                message: "database schema version \(current) is newer than this opvangsync knows (\(known))",
                sql: nil, path: path)
        }
        for migration in migrations.sorted(by: { $0.version < $1.version }) where migration.version > current {
            try inTransaction {
                try execute(migration.sql)
                try run("INSERT INTO schema_migrations (version, summary) VALUES (?, ?)",
                        [.integer(Int64(migration.version)), .text(migration.summary)])
            }
        }
    }
}
