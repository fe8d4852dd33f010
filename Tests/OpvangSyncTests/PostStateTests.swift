import Testing
@testable import OpvangSync

/// The state after the run, on which accounts, retention and the lists are planned: the portal's records
/// with the plan's changes laid over them, each record once.
@Suite struct PostStateTests {
    let since = Day(year: 2026, month: 1, day: 5)!

    func child(_ number: String, _ firstName: String) -> [String?] {
        var values = [String?](repeating: nil, count: EntityKind.child.schema.fields.count)
        values[EntityKind.child.schema.index("number")] = number
        values[EntityKind.child.schema.index("firstName")] = firstName
        return values
    }

    func change(_ key: String, _ action: ChangeAction, _ values: [String?]?, _ status: RecordStatus) -> Change {
        Change(kind: .child, key: key, action: action, fields: [], values: values, status: status)
    }

    @Test func theChangesAreLaidOverThePortalsRecords() {
        let current: [EntityKind: [String: StoredRecord]] = [.child: [
            "K1": StoredRecord(values: child("K1", "Anna"), status: .active, statusSince: since),
            "K2": StoredRecord(values: child("K2", "Bram"), status: .active, statusSince: since),
            "K3": StoredRecord(values: child("K3", "Cor"), status: .active, statusSince: since),
        ]]
        var plan = Plan()
        plan.changes = [
            change("K1", .updated, child("K1", "Anne"), .active),
            change("K2", .ended, nil, .inactive),
            change("K4", .created, child("K4", "Dirk"), .active),
        ]
        plan.counts[.child] = ChangeCounts()
        plan.counts[.child]?.updated = 1
        plan.counts[.child]?.ended = 1
        plan.counts[.child]?.created = 1
        let post = PostState(current: current, plan: plan)
        let first = EntityKind.child.schema.index("firstName")

        // Changed values, the status and the day it was given kept.
        #expect(post.record(.child, "K1")?.values[first] == "Anne")
        #expect(post.record(.child, "K1")?.status == .active)
        #expect(post.record(.child, "K1")?.statusSince == since)
        // Only the status changes: the values stay, and the new status is given today.
        #expect(post.record(.child, "K2")?.values[first] == "Bram")
        #expect(post.record(.child, "K2")?.status == .inactive)
        #expect(post.record(.child, "K2")?.statusSince == nil)
        // Untouched and new.
        #expect(post.record(.child, "K3")?.values[first] == "Cor")
        #expect(post.record(.child, "K4")?.values[first] == "Dirk")
        #expect(post.record(.child, "K5") == nil)
        #expect(post.record(.parent, "K1") == nil)

        // Every record once, as `record` gives it.
        let all = Array(post.records(.child))
        #expect(all.map(\.key).sorted() == ["K1", "K2", "K3", "K4"])
        for (key, record) in all {
            #expect(record.values == post.record(.child, key)?.values)
            #expect(record.status == post.record(.child, key)?.status)
            #expect(record.statusSince == post.record(.child, key)?.statusSince)
        }
        #expect(post.active(.child).map(\.key).sorted() == ["K1", "K3", "K4"])
        #expect(post.count(.child) == 4)
        #expect(post.keys(.child) == ["K1", "K2", "K3", "K4"])
        #expect(post.count(.parent) == 0 && Array(post.records(.parent)).isEmpty)
    }

    @Test func aFirstImportIsItsChangesAlone() {
        var plan = Plan()
        plan.changes = (1...300).map { change("K\($0)", .created, child("K\($0)", "Kind \($0)"), $0 % 3 == 0 ? .ended : .active) }
        let post = PostState(current: [:], plan: plan)
        #expect(post.count(.child) == 300)
        #expect(Set(post.records(.child).map(\.key)).count == 300)
        #expect(post.active(.child).count { _ in true } == 200)
        #expect(post.record(.child, "K42")?.status == .ended)
        #expect(post.record(.child, "K41")?.values[EntityKind.child.schema.index("firstName")] == "Kind 41")
    }

    /// Keys spelled in canonically equal ways: composed and decomposed é, the Kelvin sign and K.
    static let spellings: [(String, String)] = [("Ré", "Re\u{301}"), ("K", "\u{212A}"), ("André", "Andre\u{301}")]

    /// Each key's last change, found as a dictionary of `String`s finds it, for keys noted once or more, in
    /// an index grown from nothing or reserved, and with every key given the same tag (at the table's start
    /// and at its end, where a search wraps around).
    @Test(arguments: [0, 1, 2, 3])
    func theChangeIndexFindsEachKeysLastChangeAsADictionaryDoes(variant: Int) {
        var random = SeededRandom(seed: UInt64(41 + variant))
        // Every key sharing one tag makes each search walk the lot: fewer keys then.
        let numbers: UInt64 = variant >= 2 ? 300 : 1_200
        var changes: [Change] = []
        for _ in 0..<Int(numbers) * 5 / 2 {
            let number = Int(random.next() % numbers)
            var key = "K\(number)"
            if number % 50 == 0 {
                let (composed, decomposed) = PostStateTests.spellings[number / 50 % 3]
                key = "\(random.next() % 2 == 0 ? composed : decomposed)\(number)"
            }
            changes.append(change(key, .updated, nil, .active))
        }
        let tag: @Sendable (String) -> UInt32 = switch variant {
        case 2: { _ in 7 }
        case 3: { _ in UInt32.max }
        default: ChangeIndex.hashTag
        }
        var index = ChangeIndex(minimumCapacity: variant == 1 ? changes.count : 0, tag: tag)
        var reference: [String: Int] = [:]
        for position in changes.indices {
            index.insert(position, of: changes)
            reference[changes[position].key] = position
        }
        #expect(index.count == reference.count)
        #expect(index.sorted() == reference.values.sorted())
        for number in 0..<Int(numbers) + 100 {
            for key in ["K\(number)"] + PostStateTests.spellings.flatMap({ ["\($0.0)\(number)", "\($0.1)\(number)"] }) {
                #expect(index.find(key, in: changes) == reference[key], "\(key)")
            }
        }
        #expect(ChangeIndex().find("K1", in: changes) == nil)
    }

    @Test func aKeyChangedTwiceIsAsItsLastChangeLeavesIt() {
        var plan = Plan()
        plan.changes = [
            change("K1", .created, child("K1", "Anna"), .active),
            change("K2", .created, child("K2", "Bram"), .active),
            change("K1", .updated, child("K1", "Anne"), .active),
        ]
        let post = PostState(current: [:], plan: plan)
        #expect(post.record(.child, "K1")?.values[EntityKind.child.schema.index("firstName")] == "Anne")
        #expect(post.count(.child) == 2)
        #expect(Array(post.records(.child)).count == 2)
    }
}
