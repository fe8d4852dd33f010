/// The portal as it will be once a plan is applied: the current records with the plan's changes laid over.
///
/// Account rules are decided on this, so they see exactly what the portal will hold: scoped runs, rows that
/// were rejected (and so keep their old values) and records that end this run are all accounted for.
///
/// The changes are laid over, not copied in: a record the plan changes is made from its change when it is
/// asked for. A first import changes every record, and a table of them all beside the plan's was a tenth of
/// its memory; a nightly run changes a few, and a copy of the portal's tables with them was all of them twice.
struct PostState: Sendable {
    private let current: [EntityKind: [String: StoredRecord]]
    private let changes: [Change]
    /// Per kind, where each changed key's change is in `changes` (the last one, should a key have two).
    private let changed: [EntityKind: ChangeIndex]

    init(current: [EntityKind: [String: StoredRecord]], plan: Plan) {
        precondition(plan.changes.count < Int(Int32.max), "more changes than a run can hold")
        var changed: [EntityKind: ChangeIndex] = [:]
        for (kind, counts) in plan.counts {
            let total = counts.created + counts.updated + counts.restored + counts.ended + counts.vanished
            if total > 0 { changed[kind] = ChangeIndex(minimumCapacity: total) }
        }
        for (index, change) in plan.changes.enumerated() {
            changed[change.kind, default: ChangeIndex()].insert(index, of: plan.changes)
        }
        self.current = current
        self.changes = plan.changes
        self.changed = changed
    }

    /// Every record of a kind after the run, whatever its status, lazily: the planners walk hundreds of
    /// thousands of them.
    func records(_ kind: EntityKind) -> Records {
        Records(current: current[kind] ?? [:], changed: changed[kind] ?? ChangeIndex(), changes: changes)
    }

    /// Active records of a kind, lazily.
    func active(_ kind: EntityKind) -> LazyMapSequence<LazyFilterSequence<Records>, (key: String, values: FieldValues)> {
        records(kind).lazy.filter { $0.record.status == .active }.map { ($0.key, $0.record.values) }
    }

    func record(_ kind: EntityKind, _ key: String) -> StoredRecord? {
        guard let index = changed[kind]?.find(key, in: changes) else { return current[kind]?[key] }
        return PostState.applying(changes[index], to: current[kind]?[key])
    }

    /// The records of a kind, whatever their status.
    func count(_ kind: EntityKind) -> Int {
        let stored = current[kind] ?? [:]
        return stored.count + (changed[kind] ?? ChangeIndex()).reduce(0) { $0 + (stored[changes[$1].key] == nil ? 1 : 0) }
    }

    /// The keys of a kind's records, whatever their status.
    func keys(_ kind: EntityKind) -> Set<String> {
        var keys = Set((current[kind] ?? [:]).keys)
        for index in changed[kind] ?? ChangeIndex() { keys.insert(changes[index].key) }
        return keys
    }

    /// `stored` (nil for a record the portal does not have) as `change` leaves it.
    static func applying(_ change: Change, to stored: StoredRecord?) -> StoredRecord {
        var record = stored ?? StoredRecord(values: change.values ?? [], status: change.status)
        if let values = change.values { record.values = values }
        if record.status != change.status { record.statusSince = nil }
        record.status = change.status
        return record
    }

    /// The records of one kind after the run: the portal's that no change reaches, then the changed ones.
    struct Records: Sequence {
        fileprivate let current: [String: StoredRecord]
        fileprivate let changed: ChangeIndex
        fileprivate let changes: [Change]

        struct Iterator: IteratorProtocol {
            fileprivate let records: Records
            fileprivate var unchanged: Dictionary<String, StoredRecord>.Iterator
            fileprivate var changed: ChangeIndex.Iterator

            mutating func next() -> (key: String, record: StoredRecord)? {
                while let (key, stored) = unchanged.next() {
                    if records.changed.isEmpty || records.changed.find(key, in: records.changes) == nil { return (key, stored) }
                }
                guard let index = changed.next() else { return nil }
                let change = records.changes[index]
                return (change.key, PostState.applying(change, to: records.current[change.key]))
            }
        }

        func makeIterator() -> Iterator {
            Iterator(records: self, unchanged: current.makeIterator(), changed: changed.makeIterator())
        }

        var underestimatedCount: Int { changed.count }
    }
}

/// The changes of one kind by their key, each key to its last change, as positions in the plan's list of
/// changes.
///
/// The keys are not kept here: a slot holds a change's position and a 32-bit tag of its key's hash, and a key
/// is compared with the change's own. A first import at a million children changes some six million records;
/// a `Dictionary<String, Int32>` of them was 272 MB, over 40 bytes a key. This is 8 bytes a slot, at most 70%
/// of the slots taken. Keys are equal as `String`s are, canonically, and their tags come from `String`'s own
/// hash, which is seeded per process, so that an export cannot pile its keys onto one place.
struct ChangeIndex: Sendable, Sequence {
    /// The position plus one in the low 32 bits (0: an empty slot), the tag in the high 32.
    private var slots: [UInt64]
    private(set) var count = 0
    private let tag: @Sendable (String) -> UInt32

    /// At most this share of the slots is taken before the table grows.
    private static let load = 0.7

    /// `tag` gives a key's tag; a test gives every key the same to see them share a place.
    init(minimumCapacity: Int = 0, tag: @escaping @Sendable (String) -> UInt32 = ChangeIndex.hashTag) {
        slots = minimumCapacity == 0 ? [] : [UInt64](repeating: 0, count: ChangeIndex.slotCount(for: minimumCapacity))
        self.tag = tag
    }

    @Sendable static func hashTag(_ key: String) -> UInt32 {
        let hash = UInt64(bitPattern: Int64(key.hashValue))
        return UInt32(truncatingIfNeeded: hash ^ hash >> 32)
    }

    private static func slotCount(for keys: Int) -> Int { Swift.max(8, Int(Double(keys) / load) + 1) }

    var isEmpty: Bool { count == 0 }

    /// Where a tag's search starts: the tag scaled to the number of slots.
    @inline(__always)
    private func start(_ tag: UInt32) -> Int { Int((UInt64(tag) &* UInt64(slots.count)) >> 32) }

    /// The position in `changes` of `key`'s last change, or nil when it has none.
    func find(_ key: String, in changes: [Change]) -> Int? {
        guard count > 0, let slot = slot(of: key, tag: tag(key), in: changes) else { return nil }
        return ChangeIndex.position(slots[slot])
    }

    /// Notes `changes[index]` as its key's change: a later change of the same key takes the earlier's place.
    mutating func insert(_ index: Int, of changes: [Change]) {
        precondition(index < Int(UInt32.max) - 1, "more changes than an index can hold")
        let tag = self.tag(changes[index].key)
        let value = UInt64(tag) << 32 | UInt64(index + 1)
        if let slot = slot(of: changes[index].key, tag: tag, in: changes) {
            slots[slot] = value
            return
        }
        // A key not yet noted: room for it first.
        if Double(count + 1) > Double(slots.count) * ChangeIndex.load { grow() }
        slots[emptySlot(from: tag)] = value
        count += 1
    }

    /// The slot that holds `key`'s change, searched from where its tag starts; nil when it has none.
    private func slot(of key: String, tag: UInt32, in changes: [Change]) -> Int? {
        guard !slots.isEmpty else { return nil }
        var slot = start(tag)
        while slots[slot] != 0 {
            if UInt32(truncatingIfNeeded: slots[slot] >> 32) == tag, changes[ChangeIndex.position(slots[slot])].key == key { return slot }
            slot = slot + 1 == slots.count ? 0 : slot + 1
        }
        return nil
    }

    /// The first empty slot from where `tag` starts (there is always one: at most 70% are taken).
    private func emptySlot(from tag: UInt32) -> Int {
        var slot = start(tag)
        while slots[slot] != 0 { slot = slot + 1 == slots.count ? 0 : slot + 1 }
        return slot
    }

    /// The position in the changes that a taken slot holds.
    @inline(__always)
    private static func position(_ taken: UInt64) -> Int { Int(UInt32(truncatingIfNeeded: taken)) - 1 }

    /// Twice the slots, each taken slot placed again by its tag: no key is hashed again.
    private mutating func grow() {
        let old = slots
        slots = [UInt64](repeating: 0, count: Swift.max(8, old.count * 2))
        for taken in old where taken != 0 { slots[emptySlot(from: UInt32(truncatingIfNeeded: taken >> 32))] = taken }
    }

    /// The positions of the changes noted, in no particular order.
    struct Iterator: IteratorProtocol {
        fileprivate let slots: [UInt64]
        fileprivate var position = 0

        mutating func next() -> Int? {
            while position < slots.count {
                let taken = slots[position]
                position += 1
                if taken != 0 { return ChangeIndex.position(taken) }
            }
            return nil
        }
    }

    func makeIterator() -> Iterator { Iterator(slots: slots) }

    var underestimatedCount: Int { count }
}
