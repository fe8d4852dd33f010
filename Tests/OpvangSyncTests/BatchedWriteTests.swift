import Foundation
import PortalStore
import TestSupport
import Testing
@testable import OpvangSync

/// The writer sends rows to SQLite in batches (`PortalWriter.inBatches`). Every row added must land, in the
/// order it was added, whether it fills a batch or is one of the rows left over, and a row added twice
/// must end as the later one, as it would one statement at a time.
@Suite struct BatchedWriteTests {
    func run(_ id: String) -> RunRecord {
        RunRecord(id: id, organisation: "test", mode: "full", status: "applied", asOf: Day(iso: "2026-11-23")!,
                  startedAt: Date(), finishedAt: Date(), operator: "test", options: "{}", summary: "{}", exitCode: 0)
    }

    func child(_ number: Int, _ action: ChangeAction = .created, status: RecordStatus = .active, name: String = "Anna") -> Change {
        var values = [String?](repeating: nil, count: EntityKind.child.schema.fields.count)
        values[EntityKind.child.schema.fieldIndex("number")!] = "K\(number)"
        values[EntityKind.child.schema.fieldIndex("firstName")!] = "\(name) \(number)"
        values[EntityKind.child.schema.fieldIndex("lastName")!] = "Jansen"
        values[EntityKind.child.schema.fieldIndex("birthDate")!] = "2024-03-01"
        let fields = action == .updated ? [FieldChange(field: "firstName", old: "Anna \(number)", new: "\(name) \(number)")] : []
        return Change(kind: .child, key: "K\(number)", action: action, fields: fields,
                      values: action == .ended ? nil : values, status: status)
    }

    func parent(_ number: Int) -> Change {
        var values = [String?](repeating: nil, count: EntityKind.parent.schema.fields.count)
        values[EntityKind.parent.schema.fieldIndex("number")!] = "O\(number)"
        values[EntityKind.parent.schema.fieldIndex("lastName")!] = "Jansen"
        return Change(kind: .parent, key: "O\(number)", action: .created, fields: [], values: values, status: .active)
    }

    @Test func everyChangeLandsWithItsLogRowInThePlansOrder() throws {
        let folder = temporaryFolder("batched")
        defer { try? FileManager.default.removeItem(at: folder) }
        let repository = try PortalRepository(path: folder.appendingPathComponent("portal.sqlite").path)
        let writer = PortalWriter(database: repository.database)
        let size = PortalWriter.RowBatch.size
        // Two full batches and a few left over, then another kind (a batch of its own that is never full),
        // a single created record between them, and more children after it.
        var first = Plan()
        first.changes = (1...(2 * size + 5)).map { child($0) } + (1...7).map { parent($0) } + [child(1_000)]
            + (1_001...(1_000 + size)).map { child($0) }
        _ = try writer.transaction(run: run("R1")) { try writer.writeChanges(first, runID: "R1", asOf: Day(iso: "2026-11-23")!) }

        // A night of mixed changes: created records between updated and ended ones.
        var second = Plan()
        second.changes = [child(1, .updated, name: "Bea"), child(2, .ended, status: .ended)] + (2_001...(2_000 + size + 1)).map { child($0) }
            + [child(3, .updated, name: "Cor")] + (3_001...3_002).map { child($0) }
        _ = try writer.transaction(run: run("R2")) { try writer.writeChanges(second, runID: "R2", asOf: Day(iso: "2026-11-24")!) }

        let database = repository.database
        let log = try database.query("SELECT run_id, entity, key, action FROM change_log ORDER BY id") {
            "\($0.string(0)!) \($0.string(1)!) \($0.string(2)!) \($0.string(3)!)"
        }
        let planned = [("R1", first), ("R2", second)].flatMap { run, plan in
            plan.changes.map { "\(run) \($0.kind.rawValue) \($0.key) \($0.action.rawValue)" }
        }
        #expect(log == planned)

        let children = try database.query("SELECT key, first_name, status, created_run, updated_run FROM children ORDER BY rowid") {
            "\($0.string(0)!) \($0.string(1)!) \($0.string(2)!) \($0.string(3)!) \($0.string(4)!)"
        }
        let created = (first.changes + second.changes).filter { $0.kind == .child && $0.action == .created }
        #expect(children.count == created.count)
        #expect(children.map { $0.split(separator: " ")[0] } == created.map { Substring($0.key) })
        #expect(children.contains("K1 Bea 1 active R1 R2"))
        #expect(children.contains("K2 Anna 2 ended R1 R2"))
        #expect(children.contains("K3 Cor 3 active R1 R2"))
        #expect(children.last == "K3002 Anna 3002 active R2 R2")
        #expect(try database.scalarInt("SELECT COUNT(*) FROM parents") == 7)

        // The log row of a created record holds every value it was created with.
        let entry = try database.query("SELECT changes FROM change_log WHERE key = 'K\(2 * size + 5)'") { $0.string(0)! }
        #expect(entry == [JSONText.createdFields(EntityKind.child.schema, child(2 * size + 5).values!)])
    }

    @Test func rowsAddedInBatchesAreAllWrittenAndTheLaterOfTwoWins() throws {
        let folder = temporaryFolder("batched-rows")
        defer { try? FileManager.default.removeItem(at: folder) }
        let repository = try PortalRepository(path: folder.appendingPathComponent("portal.sqlite").path)
        let writer = PortalWriter(database: repository.database)
        let database = repository.database
        try database.execute("CREATE TEMP TABLE numbers (key TEXT PRIMARY KEY, value INTEGER, seq INTEGER)")
        let size = PortalWriter.RowBatch.size
        var sequence = 0
        try writer.inBatches("INSERT OR REPLACE INTO numbers (key, value, seq) VALUES ", columns: 3) { rows in
            for number in 0..<(3 * size + 1) {
                sequence += 1
                try rows.add([.text("k\(number)"), .integer(Int64(number)), .integer(Int64(sequence))])
                // The same key again inside the batch, and once more across a batch boundary.
                if number % 10 == 0 {
                    sequence += 1
                    try rows.add([.text("k\(number)"), .integer(Int64(-number)), .integer(Int64(sequence))])
                }
            }
            sequence += 1
            try rows.add([.text("k0"), .integer(42), .integer(Int64(sequence))])
        }
        #expect(try database.scalarInt("SELECT COUNT(*) FROM numbers") == 3 * size + 1)
        #expect(try database.scalarInt("SELECT value FROM numbers WHERE key = 'k0'") == 42)
        #expect(try database.scalarInt("SELECT value FROM numbers WHERE key = 'k10'") == -10)
        #expect(try database.scalarInt("SELECT value FROM numbers WHERE key = 'k\(3 * size)'") == Int(3 * size) * (3 * size % 10 == 0 ? -1 : 1))
        #expect(try database.scalarInt("SELECT COUNT(*) FROM numbers WHERE value = CAST(substr(key, 2) AS INTEGER) OR value = -CAST(substr(key, 2) AS INTEGER) OR key = 'k0'") == 3 * size + 1)
        #expect(try database.scalarInt("SELECT MAX(seq) FROM numbers") == sequence)
    }
}
