import Foundation
import Testing
@testable import PortalStore

/// A fresh database file in its own temporary folder.
func temporaryDatabasePath() -> String {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("portalstore-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return folder.appendingPathComponent("portal.sqlite").path
}

@Suite struct DatabaseTests {
    @Test func opensInWALModeWithBusyTimeoutAndForeignKeys() throws {
        let database = try Database(path: temporaryDatabasePath(), busyTimeoutMilliseconds: 1234)
        #expect(try database.scalarString("PRAGMA journal_mode") == "wal")
        #expect(try database.scalarInt("PRAGMA busy_timeout") == 1234)
        #expect(try database.scalarInt("PRAGMA foreign_keys") == 1)
        #expect(try database.scalarInt("PRAGMA synchronous") == 2)
        // Statement journals stay in memory instead of spilling to /var/tmp (2 = MEMORY).
        #expect(try database.scalarInt("PRAGMA temp_store") == 2)
    }

    @Test func aNewPortalFileIsReadableByItsGroupOnly() throws {
        let path = temporaryDatabasePath()
        let database = try Database(path: path)
        try database.execute("CREATE TABLE t (v TEXT)")
        for file in [path, path + "-wal"] {
            let attributes = try FileManager.default.attributesOfItem(atPath: file)
            #expect(attributes[.posixPermissions] as? Int == 0o640, "\(file)")
        }
    }

    @Test func transactionRollsBackEverythingOnError() throws {
        let database = try Database(path: temporaryDatabasePath())
        try database.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
        struct Boom: Error {}
        #expect(throws: Boom.self) {
            try database.inTransaction {
                try database.run("INSERT INTO t (name) VALUES (?)", [.text("a")])
                try database.run("INSERT INTO t (name) VALUES (?)", [.text("b")])
                throw Boom()
            }
        }
        #expect(try database.scalarInt("SELECT COUNT(*) FROM t") == 0)
        try database.inTransaction { try database.run("INSERT INTO t (name) VALUES (?)", [.text("c")]) }
        #expect(try database.scalarInt("SELECT COUNT(*) FROM t") == 1)
    }

    @Test func transactionTakesTheWriteLockUpFront() throws {
        let path = temporaryDatabasePath()
        let first = try Database(path: path)
        try first.execute("CREATE TABLE t (id INTEGER)")
        let second = try Database(path: path, busyTimeoutMilliseconds: 50)
        try first.execute("BEGIN IMMEDIATE")
        let error = #expect(throws: DatabaseError.self) { try second.inTransaction {} }
        #expect(error?.isBusy == true)
        try first.execute("ROLLBACK")
    }

    @Test func preparedStatementsAreCachedAndReused() throws {
        let database = try Database(path: temporaryDatabasePath())
        try database.execute("CREATE TABLE t (v TEXT)")
        let sql = "INSERT INTO t (v) VALUES (?)"
        let first = try database.statement(sql)
        for index in 0..<100 { try database.run(sql, [.text("row \(index)")]) }
        #expect(try database.statement(sql) === first)
        #expect(try database.scalarInt("SELECT COUNT(*) FROM t") == 100)
    }

    @Test func emptyTextIsStoredAsEmptyNotNull() throws {
        let database = try Database(path: temporaryDatabasePath())
        try database.execute("CREATE TABLE t (v TEXT)")
        try database.run("INSERT INTO t (v) VALUES (?)", [.text("")])
        try database.run("INSERT INTO t (v) VALUES (?)", [.null])
        #expect(try database.scalarInt("SELECT COUNT(*) FROM t WHERE v = ''") == 1)
        #expect(try database.scalarInt("SELECT COUNT(*) FROM t WHERE v IS NULL") == 1)
    }

    @Test func textRoundTripsUnicodeAndEmbeddedQuotes() throws {
        let database = try Database(path: temporaryDatabasePath())
        try database.execute("CREATE TABLE t (v TEXT)")
        let text = "Zoë van 't Hoekje \"de\" 😀 ; ñ"
        try database.run("INSERT INTO t (v) VALUES (?)", [.text(text)])
        #expect(try database.scalarString("SELECT v FROM t") == text)
    }

    @Test func errorsCarryTheSQLButNotTheValues() throws {
        let database = try Database(path: temporaryDatabasePath())
        try database.execute("CREATE TABLE t (v TEXT NOT NULL)")
        let error = #expect(throws: DatabaseError.self) {
            try database.run("INSERT INTO t (v) VALUES (?)", [.null])
        }
        #expect(error?.sql == "INSERT INTO t (v) VALUES (?)")
        #expect(error?.description.contains("NOT NULL") == true)
    }

    @Test func migrationsAreVersionedAndAppliedOnce() throws {
        let database = try Database(path: temporaryDatabasePath())
        let migrations = [
            Migration(version: 1, summary: "one", sql: "CREATE TABLE a (x INTEGER)"),
            Migration(version: 2, summary: "two", sql: "ALTER TABLE a ADD COLUMN y TEXT"),
        ]
        try database.migrate(Array(migrations.prefix(1)))
        #expect(try database.schemaVersion() == 1)
        try database.migrate(migrations)
        try database.migrate(migrations)
        #expect(try database.schemaVersion() == 2)
        #expect(try database.scalarInt("SELECT COUNT(*) FROM schema_migrations") == 2)
    }

    @Test func aDatabaseFromANewerVersionIsRefused() throws {
        let database = try Database(path: temporaryDatabasePath())
        try database.migrate([Migration(version: 3, summary: "future", sql: "CREATE TABLE f (x)")])
        #expect(throws: DatabaseError.self) {
            try database.migrate([Migration(version: 1, summary: "old", sql: "CREATE TABLE a (x)")])
        }
    }

    @Test func portalSchemaMigratesAndPassesIntegrityCheck() throws {
        let database = try Database(path: temporaryDatabasePath())
        try database.migrate(PortalSchema.migrations)
        #expect(try database.integrityCheck() == "ok")
        let tables = try database.query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name") { $0.string(0) ?? "" }
        for table in ["runs", "locations", "groups", "staff", "children", "parents", "relations", "placements",
                      "deviations", "calendar", "change_log", "accounts", "consents"] {
            #expect(tables.contains(table), "missing table \(table)")
        }
    }

    @Test func purgedKeysAreFoundThroughTheirPartialIndexes() throws {
        let database = try Database(path: temporaryDatabasePath())
        try database.migrate(PortalSchema.migrations)
        for table in ["children", "parents"] {
            let plan = try database.query("EXPLAIN QUERY PLAN SELECT key FROM \(table) WHERE purged_at IS NOT NULL") { $0.string(3) ?? "" }
            #expect(plan.contains { $0.contains("USING COVERING INDEX \(table)_purged") || $0.contains("USING INDEX \(table)_purged") }, "\(plan)")
        }
    }

    @Test func queryOnlyConnectionCannotWriteAndLeavesNoWALFiles() throws {
        let path = temporaryDatabasePath()
        do {
            let writer = try Database(path: path)
            try writer.execute("CREATE TABLE t (v TEXT)")
        }
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
        let before = FileManager.default.contents(atPath: path)
        do {
            let reader = try Database(path: path, mode: .queryOnly)
            #expect(throws: DatabaseError.self) { try reader.run("INSERT INTO t (v) VALUES ('x')") }
            #expect(try reader.scalarInt("SELECT COUNT(*) FROM t") == 0)
        }
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
        #expect(FileManager.default.contents(atPath: path) == before)
    }

    @Test func readOnlyConnectionCannotWrite() throws {
        let path = temporaryDatabasePath()
        let writer = try Database(path: path)
        try writer.execute("CREATE TABLE t (v TEXT)")
        let reader = try Database(path: path, mode: .readOnly)
        #expect(throws: DatabaseError.self) { try reader.run("INSERT INTO t (v) VALUES ('x')") }
    }
}
