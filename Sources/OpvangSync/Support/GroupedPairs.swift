/// Values grouped by a key, as one list of pairs sorted by the key and found by binary search.
///
/// The planners keep, for every parent or child, a few others: a parent's children, a child's parents, an
/// account's members. As a table of arrays or sets, one per key, that was a million and a half small objects
/// at the scale of the whole market, most of them holding one or two values. Here it is one array.
///
/// Keys are compared with `<` and `==`: for `String`-based keys canonically, as a `Dictionary` compares
/// them, so two spellings of one number are one key.
struct GroupedPairs<Key: Comparable, Value> {
    typealias Values = LazyMapCollection<ArraySlice<(key: Key, value: Value)>, Value>
    private let pairs: [(key: Key, value: Value)]

    /// `pairs` in any order. The values of one key keep no particular order unless `valueOrder` gives one.
    init(_ pairs: consuming [(key: Key, value: Value)], valueOrder: ((Value, Value) -> Bool)? = nil) {
        // Taken, not borrowed: the list is sorted where it is, not copied first.
        if let valueOrder {
            pairs.sort { $0.key != $1.key ? $0.key < $1.key : valueOrder($0.value, $1.value) }
        } else {
            pairs.sort { $0.key < $1.key }
        }
        self.pairs = pairs
    }

    /// An already grouped list: used to drop repeats from a sorted one.
    private init(sorted pairs: [(key: Key, value: Value)]) {
        self.pairs = pairs
    }

    /// The values of `key`; none for a key without a pair.
    subscript(key: Key) -> Values {
        // The first pair whose key is not before `key`.
        var low = 0, high = pairs.count
        while low < high {
            let middle = (low + high) / 2
            if pairs[middle].key < key { low = middle + 1 } else { high = middle }
        }
        var end = low
        while end < pairs.count, pairs[end].key == key { end += 1 }
        return pairs[low..<end].lazy.map(\.value)
    }

    /// Every key once, in order, with its values.
    var groups: Groups { Groups(pairs: pairs) }

    struct Groups: Sequence, IteratorProtocol {
        fileprivate let pairs: [(key: Key, value: Value)]
        private var start = 0

        fileprivate init(pairs: [(key: Key, value: Value)]) { self.pairs = pairs }

        mutating func next() -> (key: Key, values: Values)? {
            guard start < pairs.count else { return nil }
            var end = start + 1
            while end < pairs.count, pairs[end].key == pairs[start].key { end += 1 }
            defer { start = end }
            return (pairs[start].key, pairs[start..<end].lazy.map(\.value))
        }
    }
}

extension GroupedPairs where Value: Comparable {
    /// The values of each key in order, a pair given twice (its parts spelled in two canonically equal ways)
    /// kept once, as one member of a set.
    init(distinct pairs: consuming [(key: Key, value: Value)]) {
        var pairs = GroupedPairs(consume pairs, valueOrder: <).pairs
        var kept = 0
        for index in pairs.indices where kept == 0 || pairs[index].key != pairs[kept - 1].key || pairs[index].value != pairs[kept - 1].value {
            pairs[kept] = pairs[index]
            kept += 1
        }
        pairs.removeLast(pairs.count - kept)
        self.init(sorted: pairs)
    }
}
