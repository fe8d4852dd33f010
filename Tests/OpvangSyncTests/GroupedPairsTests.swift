@testable import OpvangSync
import Testing

/// `GroupedPairs` stands in for a table of arrays (or sets) keyed by `String`: it must find what such a table
/// finds, for keys spelled in canonically equal ways too.
@Suite struct GroupedPairsTests {
    let keys = ["1", "2", "10", "caf\u{E9}", "cafe\u{301}", "\u{212A}1", "K1", "", "z"]
    let values = ["K1", "K2", "K10", "\u{212A}2", "Ke\u{301}", "K\u{E9}", "9"]

    func randomPairs(_ count: Int, seed: UInt64) -> [(key: String, value: String)] {
        var random = SeededRandom(seed: seed)
        // The last key is never given a value: it must come back empty.
        return (0..<count).map { _ in
            (keys[Int(random.next() % UInt64(keys.count - 1))], values[Int(random.next() % UInt64(values.count))])
        }
    }

    @Test(arguments: [(0, 1), (1, 2), (7, 3), (400, 4)])
    func eachKeyHasTheValuesATableOfArraysGivesIt(count: Int, seed: UInt64) {
        let pairs = randomPairs(count, seed: seed)
        var reference: [String: [String]] = [:]
        for (key, value) in pairs { reference[key, default: []].append(value) }
        let grouped = GroupedPairs(pairs)
        for key in keys {
            #expect(Array(grouped[key]).sorted() == (reference[key] ?? []).sorted(), "\(key)")
        }
        var seen: [String: [String]] = [:]
        var order: [String] = []
        for (key, values) in grouped.groups {
            #expect(seen[key] == nil, "\(key): one group per key")
            seen[key] = Array(values)
            order.append(key)
        }
        #expect(order == order.sorted(), "the groups come in the keys' order")
        #expect(seen.count == reference.count)
        for (key, values) in reference { #expect(seen[key]?.sorted() == values.sorted(), "\(key)") }
    }

    @Test(arguments: [(0, 5), (1, 6), (400, 7)])
    func distinctPairsAreThoseOfATableOfSets(count: Int, seed: UInt64) {
        let pairs = randomPairs(count, seed: seed)
        var reference: [String: Set<String>] = [:]
        for (key, value) in pairs { reference[key, default: []].insert(value) }
        let grouped = GroupedPairs(distinct: pairs)
        for key in keys {
            let found = Array(grouped[key])
            #expect(found.count == Set(found).count, "\(key): each value once")
            #expect(Set(found) == reference[key] ?? [], "\(key)")
            #expect(found == found.sorted(), "\(key): in order")
        }
        #expect(Array(grouped.groups).count == reference.count)
    }

    @Test func valuesKeepAGivenOrder() {
        let grouped = GroupedPairs([(key: 2, value: "b"), (key: 1, value: "z"), (key: 2, value: "a"), (key: 1, value: "y")],
                                   valueOrder: { $0 > $1 })
        #expect(Array(grouped[1]) == ["z", "y"])
        #expect(Array(grouped[2]) == ["b", "a"])
        #expect(grouped[3].isEmpty)
        #expect(grouped.groups.map(\.key) == [1, 2])
    }
}
