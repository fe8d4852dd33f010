import Foundation

/// Record keys, each with a 64-bit value (a stored row's content hash, or the line a row was read on), for the
/// large tables of a run: every row the portal keeps a hash for, and the rows read unchanged (millions of keys
/// at a million children, each looked up once or more per row read).
///
/// In a `Dictionary<String, UInt64>` each look-up hashes the text with SipHash and visits the table's keys and
/// values apart. Nearly every key is a short ASCII number or code (`200001`, `123456/200001`): such a key, up
/// to 15 bytes, is packed here into two words beside its value, in one array probed linearly from the place a
/// keyed multiply-mix of those words gives. A key of any other form (longer, or beyond ASCII) is kept in a
/// `Dictionary` by its text. Keys are equal as `String`s are, canonically: a text beyond ASCII whose composed
/// form is short ASCII (the Kelvin sign for `K`) is packed as that form, and its own spelling kept for `keys`.
struct KeyTable: Sendable {
    /// `k1` holds the key's length plus one in its top byte, so an occupied slot is never zero there.
    private struct Slot {
        var k0: UInt64
        var k1: UInt64
        var value: UInt64
    }

    private var slots: ContiguousArray<Slot>
    private var packedCount = 0
    /// Keys that are not packed, by their text.
    private var other: [String: UInt64] = [:]
    /// The first spelling of a packed key that was not its ASCII form, by that form.
    private var spellings: [String: String] = [:]

    /// Per process, so that an export cannot be made to pile its keys onto one place.
    static let processSeeds = (UInt64.random(in: .min ... .max), UInt64.random(in: .min ... .max) | 1)
    /// The keys of the mix (the second odd); a test sets them to place keys where it needs them.
    private let seeds: (UInt64, UInt64)
    /// At most this share of the slots is taken before the table grows.
    private static let load = 0.7

    init(minimumCapacity: Int = 0, seeds: (UInt64, UInt64) = KeyTable.processSeeds) {
        slots = ContiguousArray(repeating: Slot(k0: 0, k1: 0, value: 0), count: KeyTable.slotCount(for: minimumCapacity))
        self.seeds = (seeds.0, seeds.1 | 1)
    }

    private static func slotCount(for keys: Int) -> Int { Swift.max(8, Int(Double(keys) / load) + 1) }

    var count: Int { packedCount + other.count }
    var isEmpty: Bool { count == 0 }

    // MARK: Packing

    /// The two words of up to 15 ASCII bytes; nil for any other bytes.
    @inline(__always)
    private static func pack(_ bytes: UnsafeBufferPointer<UInt8>) -> (UInt64, UInt64)? {
        let length = bytes.count
        guard length <= 15 else { return nil }
        var k0: UInt64 = 0
        var k1 = UInt64(length + 1) << 56
        var seen: UInt8 = 0
        for index in 0..<length {
            let byte = bytes[index]
            seen |= byte
            if index < 8 { k0 |= UInt64(byte) << (8 * index) } else { k1 |= UInt64(byte) << (8 * (index - 8)) }
        }
        return seen < 0x80 ? (k0, k1) : nil
    }

    /// The text of packed words.
    private static func unpack(_ k0: UInt64, _ k1: UInt64) -> String {
        let length = Int(k1 >> 56) - 1
        return String(unsafeUninitializedCapacity: length) { buffer in
            for index in 0..<length {
                buffer[index] = UInt8(truncatingIfNeeded: index < 8 ? k0 >> (8 * index) : k1 >> (8 * (index - 8)))
            }
            return length
        }
    }

    private enum Form {
        case packed(UInt64, UInt64)
        /// Packed as its composed form; `spelling` is the key as given.
        case composed(UInt64, UInt64, spelling: String)
        case text(String)
    }

    private static func form(of key: String) -> Form {
        let packed = key.utf8.withContiguousStorageIfAvailable(pack) ?? Array(key.utf8).withUnsafeBufferPointer(pack)
        if let packed { return .packed(packed.0, packed.1) }
        // Plain ASCII is its own composed form; only a text beyond it can be canonically equal to a short one.
        guard key.utf8.contains(where: { $0 >= 0x80 }) else { return .text(key) }
        var composed = key.precomposedStringWithCanonicalMapping
        if let packed = composed.withUTF8(pack) { return .composed(packed.0, packed.1, spelling: key) }
        return .text(key)
    }

    // MARK: Probing

    @inline(__always)
    private func home(_ k0: UInt64, _ k1: UInt64) -> Int {
        let mixed = (k0 ^ seeds.0).multipliedFullWidth(by: k1 ^ seeds.1)
        // The mix spread over the slots (multiply and keep the high word: no division, any slot count).
        return Int((mixed.high ^ mixed.low).multipliedFullWidth(by: UInt64(slots.count)).high)
    }

    /// The slot that holds the words, or the empty slot where they would go.
    @inline(__always)
    private func find(_ k0: UInt64, _ k1: UInt64) -> (slot: Int, found: Bool) {
        slots.withUnsafeBufferPointer { slots in
            var slot = home(k0, k1)
            while true {
                let here = slots[slot]
                if here.k1 == 0 { return (slot, false) }
                if here.k1 == k1 && here.k0 == k0 { return (slot, true) }
                slot += 1
                if slot == slots.count { slot = 0 }
            }
        }
    }

    /// Makes room for one key more; true when the slots moved.
    private mutating func growIfFull() -> Bool {
        guard Double(packedCount + 1) > Double(slots.count) * KeyTable.load else { return false }
        let old = slots
        slots = ContiguousArray(repeating: Slot(k0: 0, k1: 0, value: 0), count: KeyTable.slotCount(for: 2 * (packedCount + 1)))
        for slot in old where slot.k1 != 0 {
            slots[find(slot.k0, slot.k1).slot] = slot
        }
        return true
    }

    /// Empties `slot`, moving back each later slot of its run that may take its place (deletion in a linearly
    /// probed table, without markers).
    private mutating func empty(_ slot: Int) {
        var hole = slot
        var next = slot
        while true {
            next += 1
            if next == slots.count { next = 0 }
            let moving = slots[next]
            if moving.k1 == 0 { break }
            let home = home(moving.k0, moving.k1)
            // It may move into the hole when its home is not within (hole, next], cyclically.
            let stays = hole <= next ? (hole < home && home <= next) : (hole < home || home <= next)
            if !stays {
                slots[hole] = moving
                hole = next
            }
        }
        slots[hole] = Slot(k0: 0, k1: 0, value: 0)
        packedCount -= 1
    }

    // MARK: Use

    subscript(key: String) -> UInt64? {
        switch KeyTable.form(of: key) {
        case .packed(let k0, let k1), .composed(let k0, let k1, _):
            let (slot, found) = find(k0, k1)
            return found ? slots[slot].value : nil
        case .text(let text):
            return other[text]
        }
    }

    func contains(_ key: String) -> Bool { self[key] != nil }

    /// The value of the key `bytes` (a column of the database), without a `String` made for a short ASCII one.
    func value(forKeyBytes bytes: UnsafeBufferPointer<UInt8>) -> UInt64? {
        guard let packed = KeyTable.pack(bytes) else { return self[String(decoding: bytes, as: UTF8.self)] }
        let (slot, found) = find(packed.0, packed.1)
        return found ? slots[slot].value : nil
    }

    /// Sets the value of `key`; returns the value it had.
    @discardableResult
    mutating func updateValue(_ value: UInt64, forKey key: String) -> UInt64? {
        switch KeyTable.form(of: key) {
        case .packed(let k0, let k1):
            return update(k0, k1, value, spelling: nil)
        case .composed(let k0, let k1, let spelling):
            return update(k0, k1, value, spelling: spelling)
        case .text(let text):
            return other.updateValue(value, forKey: text)
        }
    }

    /// Sets the value of the key `bytes` (a column of the database).
    mutating func updateValue(_ value: UInt64, forKeyBytes bytes: UnsafeBufferPointer<UInt8>) {
        if let packed = KeyTable.pack(bytes) {
            update(packed.0, packed.1, value, spelling: nil)
        } else {
            updateValue(value, forKey: String(decoding: bytes, as: UTF8.self))
        }
    }

    @discardableResult
    private mutating func update(_ k0: UInt64, _ k1: UInt64, _ value: UInt64, spelling: String?) -> UInt64? {
        var (slot, found) = find(k0, k1)
        if found {
            defer { slots[slot].value = value }
            return slots[slot].value
        }
        if growIfFull() { slot = find(k0, k1).slot }
        slots[slot] = Slot(k0: k0, k1: k1, value: value)
        packedCount += 1
        if let spelling { spellings[KeyTable.unpack(k0, k1)] = spelling }
        return nil
    }

    /// Removes `key`; returns the value it had.
    @discardableResult
    mutating func removeValue(forKey key: String) -> UInt64? {
        switch KeyTable.form(of: key) {
        case .packed(let k0, let k1), .composed(let k0, let k1, _):
            let (slot, found) = find(k0, k1)
            guard found else { return nil }
            let value = slots[slot].value
            empty(slot)
            if !spellings.isEmpty { spellings[KeyTable.unpack(k0, k1)] = nil }
            return value
        case .text(let text):
            return other.removeValue(forKey: text)
        }
    }

    /// Every key, as first given (in no particular order).
    var keys: [String] {
        var keys: [String] = []
        keys.reserveCapacity(count)
        for slot in slots where slot.k1 != 0 {
            let text = KeyTable.unpack(slot.k0, slot.k1)
            keys.append(spellings.isEmpty ? text : spellings[text] ?? text)
        }
        keys.append(contentsOf: other.keys)
        return keys
    }
}

extension KeyTable: Sequence {
    func makeIterator() -> IndexingIterator<[String]> { keys.makeIterator() }
    var underestimatedCount: Int { count }
}

extension KeyTable {
    /// The keys and values of `dictionary`.
    init(_ dictionary: [String: UInt64]) {
        self.init(minimumCapacity: dictionary.count)
        for (key, value) in dictionary { updateValue(value, forKey: key) }
    }
}
