import Testing
@testable import OpvangSync

@Suite struct DifferTests {
    let asOf = Day(year: 2026, month: 11, day: 22)!

    func placement(_ key: String, end: String? = nil) -> [String?] {
        var values = [String?](repeating: nil, count: EntityKind.placement.schema.fields.count)
        let schema = EntityKind.placement.schema
        values[schema.index("number")] = key
        values[schema.index("childNumber")] = "K1"
        values[schema.index("groupCode")] = "G1"
        values[schema.index("careType")] = "KDV"
        values[schema.index("contractType")] = "52 weken"
        values[schema.index("startDate")] = "2025-01-01"
        values[schema.index("endDate")] = end
        values[schema.index("weeks")] = "alle"
        return values
    }

    func desired(_ records: [Record], kind: EntityKind = .placement, protected: Set<String> = []) -> DesiredState {
        var state = DesiredState()
        state.kinds = [kind]
        state.records[kind] = records
        state.protectedKeys[kind] = protected
        return state
    }

    func plan(_ desired: DesiredState, _ current: [String: StoredRecord], kind: EntityKind = .placement) -> Plan {
        Differ(asOf: asOf).plan(desired: desired, current: [kind: current])
    }

    @Test func newRecordsAreCreated() {
        let result = plan(desired([Record(key: "P1", values: placement("P1"), line: 2)]), [:])
        #expect(result.changes.map(\.action) == [.created])
        #expect(result.counts[.placement]?.created == 1)
    }

    /// A first import holds a change for every record, six million at a million children: a change is five
    /// words, its three one-byte values packed behind them.
    @Test func aChangeIsFiveWords() {
        #expect(MemoryLayout<Change>.stride <= 40)
    }

    @Test func changedFieldsAreUpdatedWithOldAndNewValues() {
        var values = placement("P1")
        values[EntityKind.placement.schema.index("groupCode")] = "G2"
        let result = plan(desired([Record(key: "P1", values: values, line: 2)]),
                          ["P1": StoredRecord(values: placement("P1"), status: .active)])
        let change = result.changes.first
        #expect(change?.action == .updated)
        #expect(change?.fields == [FieldChange(field: "groupCode", old: "G1", new: "G2")])
    }

    @Test func identicalRecordsAreUnchanged() {
        let result = plan(desired([Record(key: "P1", values: placement("P1"), line: 2)]),
                          ["P1": StoredRecord(values: placement("P1"), status: .active)])
        #expect(result.isEmpty)
        #expect(result.counts[.placement]?.unchanged == 1)
    }

    @Test func aPlacementPastItsEndDateIsEnded() {
        let values = placement("P1", end: "2026-11-21")
        let result = plan(desired([Record(key: "P1", values: values, line: 2)]),
                          ["P1": StoredRecord(values: values, status: .active)])
        #expect(result.changes.map(\.action) == [.ended])
        #expect(result.changes.first?.status == .ended)
    }

    @Test func aPlacementEndingTodayIsStillActive() {
        let values = placement("P1", end: "2026-11-22")
        let result = plan(desired([Record(key: "P1", values: values, line: 2)]),
                          ["P1": StoredRecord(values: values, status: .active)])
        #expect(result.isEmpty)
    }

    @Test func aPlacementMissingWithoutEndDateVanishes() {
        let result = plan(desired([]), ["P1": StoredRecord(values: placement("P1"), status: .active)])
        #expect(result.changes.map(\.action) == [.vanished])
        #expect(result.counts[.placement]?.vanished == 1)
    }

    @Test func aPlacementMissingAfterItsEndDateIsEndedNotVanished() {
        let result = plan(desired([]), ["P1": StoredRecord(values: placement("P1", end: "2026-10-01"), status: .active)])
        #expect(result.changes.map(\.action) == [.ended])
    }

    @Test func aMissingRecordBecomesInactiveNeverDeleted() {
        var state = DesiredState()
        state.kinds = [.location]
        state.records[.location] = []
        let result = Differ(asOf: asOf).plan(desired: state, current: [.location: ["L1": StoredRecord(values: ["L1", "A", nil, nil, nil, nil, nil, nil], status: .active)]])
        #expect(result.changes.map(\.action) == [.ended])
        #expect(result.changes.first?.status == .inactive)
        #expect(result.changes.first?.values == nil, "only the status changes: the data stays")
    }

    @Test func aRecordThatComesBackIsRestored() {
        let result = plan(desired([Record(key: "P1", values: placement("P1"), line: 2)]),
                          ["P1": StoredRecord(values: placement("P1"), status: .vanished)])
        #expect(result.changes.map(\.action) == [.restored])
        #expect(result.changes.first?.status == .active)
    }

    @Test func rowsThatWereRejectedAreNotEnded() {
        let result = plan(desired([], protected: ["P1"]), ["P1": StoredRecord(values: placement("P1"), status: .active)])
        #expect(result.isEmpty)
    }

    @Test func onlyRecordsMissingFromTheExportCountTowardsMassRemoval() {
        let ending = placement("P1", end: "2026-11-21")
        let result = plan(desired([Record(key: "P1", values: ending, line: 2)]), [
            "P1": StoredRecord(values: ending, status: .active),
            "P2": StoredRecord(values: placement("P2"), status: .active),
        ])
        #expect(result.counts[.placement]?.ended == 1)
        #expect(result.counts[.placement]?.vanished == 1)
        #expect(result.counts[.placement]?.removals == 1, "P1 ended by its own date; only P2 is missing")
    }

    @Test func activeBeforeCountsOnlyActiveRecords() {
        let result = plan(desired([]), [
            "P1": StoredRecord(values: placement("P1"), status: .active),
            "P2": StoredRecord(values: placement("P2"), status: .ended),
        ])
        #expect(result.activeBefore[.placement] == 1)
    }
}
