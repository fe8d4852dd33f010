internal import CSQLite

/// A value bound to, or read from, an SQL statement.
public enum SQLValue: Equatable, Sendable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)

    /// The text form, or nil for NULL: how the domain compares stored fields.
    public var text: String? {
        switch self {
        case .null: return nil
        case .integer(let value): return String(value)
        case .real(let value): return String(value)
        case .text(let value): return value
        }
    }
}

/// Values that can be bound to a statement parameter.
public protocol SQLBindable {
    var sqlValue: SQLValue { get }
}

extension String: SQLBindable { public var sqlValue: SQLValue { .text(self) } }
extension Int: SQLBindable { public var sqlValue: SQLValue { .integer(Int64(self)) } }
extension Int64: SQLBindable { public var sqlValue: SQLValue { .integer(self) } }
extension Double: SQLBindable { public var sqlValue: SQLValue { .real(self) } }
extension Bool: SQLBindable { public var sqlValue: SQLValue { .integer(self ? 1 : 0) } }
extension SQLValue: SQLBindable { public var sqlValue: SQLValue { self } }
extension Optional: SQLBindable where Wrapped: SQLBindable {
    public var sqlValue: SQLValue { self?.sqlValue ?? .null }
}

/// One prepared statement, owned by its `Database` and reused across calls.
///
/// Not `Sendable`: a statement belongs to the connection's thread.
public final class Statement {
    let handle: OpaquePointer
    /// The SQL this statement was prepared from.
    public let sql: String
    private unowned let database: Database

    init(database: Database, sql: String) throws {
        var handle: OpaquePointer?
        let code = sqlite3_prepare_v2(database.handle, sql, -1, &handle, nil)
        guard code == SQLITE_OK, let handle else {
            throw database.error(code: code, sql: sql)
        }
        self.handle = handle
        self.sql = sql
        self.database = database
    }

    deinit {
        sqlite3_finalize(handle)
    }

    /// Clears earlier bindings and binds `values` to parameters 1...n.
    public func bind(_ values: [SQLValue]) throws {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let code: Int32
            switch value {
            case .null:
                code = sqlite3_bind_null(handle, index)
            case .integer(let number):
                code = sqlite3_bind_int64(handle, index, number)
            case .real(let number):
                code = sqlite3_bind_double(handle, index, number)
            case .text(let string):
                // withCString never hands out NULL, which SQLite would store as NULL instead of "".
                let length = Int32(string.utf8.count)
                code = string.withCString { opvangsync_sqlite_bind_text(handle, index, $0, length) }
            }
            guard code == SQLITE_OK else { throw database.error(code: code, sql: sql) }
        }
    }

    /// Runs the statement to completion, ignoring any rows.
    public func execute(_ values: [SQLValue] = []) throws {
        try bind(values)
        defer { sqlite3_reset(handle) }
        while true {
            let code = sqlite3_step(handle)
            if code == SQLITE_DONE { return }
            if code != SQLITE_ROW { throw database.error(code: code, sql: sql) }
        }
    }

    /// Runs a query and hands each row to `body`; the row is only valid inside the call.
    public func forEachRow(_ values: [SQLValue] = [], _ body: (Row) throws -> Void) throws {
        try bind(values)
        defer { sqlite3_reset(handle) }
        let row = Row(statement: self)
        while true {
            let code = sqlite3_step(handle)
            if code == SQLITE_DONE { return }
            guard code == SQLITE_ROW else { throw database.error(code: code, sql: sql) }
            try body(row)
        }
    }

    /// Collects every row through `transform`.
    public func rows<T>(_ values: [SQLValue] = [], _ transform: (Row) throws -> T) throws -> [T] {
        var result: [T] = []
        try forEachRow(values) { result.append(try transform($0)) }
        return result
    }

    /// The first row through `transform`, or nil when the query returns none.
    public func firstRow<T>(_ values: [SQLValue] = [], _ transform: (Row) throws -> T) throws -> T? {
        var result: T?
        try bind(values)
        defer { sqlite3_reset(handle) }
        let code = sqlite3_step(handle)
        if code == SQLITE_ROW {
            result = try transform(Row(statement: self))
        } else if code != SQLITE_DONE {
            throw database.error(code: code, sql: sql)
        }
        return result
    }
}

/// The current row of a running query. Columns are read after checking their type.
public struct Row {
    let statement: Statement

    /// Number of result columns.
    public var count: Int { Int(sqlite3_column_count(statement.handle)) }

    /// True when the column holds NULL.
    public func isNull(_ index: Int) -> Bool {
        sqlite3_column_type(statement.handle, Int32(index)) == SQLITE_NULL
    }

    /// The column as text, or nil when it is NULL. Built from the byte count, never from a C string.
    public func string(_ index: Int) -> String? {
        let column = Int32(index)
        guard sqlite3_column_type(statement.handle, column) != SQLITE_NULL,
              let bytes = sqlite3_column_text(statement.handle, column) else { return nil }
        let length = Int(sqlite3_column_bytes(statement.handle, column))
        return String(decoding: UnsafeBufferPointer(start: bytes, count: length), as: UTF8.self)
    }

    /// The column's text as bytes, as SQLite holds them, or nil when it is NULL: valid until the query moves to
    /// its next row, and not checked for UTF-8 (`string(_:)` repairs what is not).
    public func textBytes(_ index: Int) -> UnsafeBufferPointer<UInt8>? {
        let column = Int32(index)
        guard sqlite3_column_type(statement.handle, column) != SQLITE_NULL,
              let bytes = sqlite3_column_text(statement.handle, column) else { return nil }
        return UnsafeBufferPointer(start: bytes, count: Int(sqlite3_column_bytes(statement.handle, column)))
    }

    /// The column as an integer, or nil when it is NULL.
    public func int(_ index: Int) -> Int? {
        let column = Int32(index)
        guard sqlite3_column_type(statement.handle, column) != SQLITE_NULL else { return nil }
        return Int(sqlite3_column_int64(statement.handle, column))
    }

    /// The column as a double, or nil when it is NULL.
    public func double(_ index: Int) -> Double? {
        let column = Int32(index)
        guard sqlite3_column_type(statement.handle, column) != SQLITE_NULL else { return nil }
        return sqlite3_column_double(statement.handle, column)
    }

    /// The column as a typed value.
    public func value(_ index: Int) -> SQLValue {
        let column = Int32(index)
        switch sqlite3_column_type(statement.handle, column) {
        case SQLITE_NULL: return .null
        case SQLITE_INTEGER: return .integer(sqlite3_column_int64(statement.handle, column))
        case SQLITE_FLOAT: return .real(sqlite3_column_double(statement.handle, column))
        default: return string(index).map(SQLValue.text) ?? .null
        }
    }
}
