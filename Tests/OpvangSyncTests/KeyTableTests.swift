import Testing
@testable import OpvangSync

/// `KeyTable`, the table of record keys a run looks its rows up in: it must answer as a `[String: UInt64]`
/// does, for every form of key an export or the portal can hold.
@Suite struct KeyTableTests {
    /// Keys of every form: short ASCII (packed), 15 and 16 bytes (either side of packing), beyond ASCII,
    /// canonically equal spellings (the Kelvin sign and `K`, a composed and a decomposed `é`), the empty key
    /// and a NUL byte.
    static let keys: [String] = [
        "1", "200001", "123456/200001", "K1", "\u{212A}1", "P000123", "", "a\u{0}", "a",
        "123456789012345", "1234567890123456", "12345678901234567890/1", "caf\u{E9}", "cafe\u{301}",
        "\u{212A}23456789012345", "K23456789012345", "\u{212A}234567890123456", "K234567890123456", "G-Ë/12",
        "LOC001-G01", "LOC001-G02", ";", "\u{37E}",
    ]

    @Test func answersAsADictionaryOfStringsDoes() {
        var random = SeededRandom(seed: 13)
        var table = KeyTable()
        var reference: [String: UInt64] = [:]
        // Many more numbers than the first room, so that the table grows while keys come and go.
        let keys = KeyTableTests.keys + (0..<3000).map { "\($0 * 7919 % 100_000)" }
        for step in 0..<40_000 {
            let key = keys[Int(random.next() % UInt64(keys.count))]
            switch random.next() % 4 {
            case 0, 1:
                let value = random.next()
                #expect(table.updateValue(value, forKey: key) == reference.updateValue(value, forKey: key), "step \(step): \(key)")
            case 2:
                #expect(table.removeValue(forKey: key) == reference.removeValue(forKey: key), "step \(step): remove \(key)")
            default:
                #expect(table[key] == reference[key], "step \(step): \(key)")
                #expect(table.contains(key) == (reference[key] != nil))
            }
            #expect(table.count == reference.count)
        }
        for key in keys {
            #expect(table[key] == reference[key], "\(key)")
            // Looked up by the bytes of a database column: the same answer, packed or not.
            #expect(Array(key.utf8).withUnsafeBufferPointer { table.value(forKeyBytes: $0) } == reference[key], "bytes of \(key)")
        }
        // The keys as first given, each once, byte for byte (`String`s would be equal in any canonical spelling).
        #expect(KeyTableTests.bytes(table.keys) == KeyTableTests.bytes(reference.keys))
        var pairs: [String: UInt64] = [:]
        for key in table.keys { pairs[key] = table[key] }
        #expect(pairs == reference)
    }

    @Test func canonicallyEqualSpellingsAreOneKeyKeptAsFirstGiven() {
        var table = KeyTable()
        table.updateValue(1, forKey: "\u{212A}1")
        #expect(table["K1"] == 1 && table.count == 1)
        #expect(table.updateValue(2, forKey: "K1") == 1)
        #expect(KeyTableTests.bytes(table.keys) == [Array("\u{212A}1".utf8)] && table["\u{212A}1"] == 2)
        #expect(table.removeValue(forKey: "K1") == 2 && table.isEmpty && table.keys.isEmpty)
        table.updateValue(3, forKey: "cafe\u{301}")
        #expect(table["caf\u{E9}"] == 3 && KeyTableTests.bytes(table.keys) == [Array("cafe\u{301}".utf8)])
        // A spelling given after the ASCII form is not kept; one removed is forgotten.
        table.updateValue(5, forKey: "K2")
        table.updateValue(6, forKey: "\u{212A}2")
        table.updateValue(7, forKey: "\u{212A}3")
        table.removeValue(forKey: "K3")
        table.updateValue(8, forKey: "K3")
        var spelled: [[UInt8]: UInt64] = [:]
        for key in table.keys { spelled[Array(key.utf8)] = table[key] }
        #expect(spelled == [Array("cafe\u{301}".utf8): 3, Array("K2".utf8): 6, Array("K3".utf8): 8])
        // A NUL byte is a byte of the key, not its end.
        table.updateValue(4, forKey: "a")
        #expect(table["a\u{0}"] == nil && table["a"] == 4)
    }

    @Test func keysFromTheDatabaseAreFoundByTheirBytes() {
        var table = KeyTable(minimumCapacity: 4)
        for (index, key) in KeyTableTests.keys.enumerated() {
            Array(key.utf8).withUnsafeBufferPointer { table.updateValue(UInt64(index), forKeyBytes: $0) }
        }
        var reference: [String: UInt64] = [:]
        for (index, key) in KeyTableTests.keys.enumerated() { reference[key] = UInt64(index) }
        for key in KeyTableTests.keys {
            #expect(table[key] == reference[key], "\(key)")
        }
        #expect(table.count == reference.count)
        #expect(KeyTableTests.bytes(KeyTable(reference).keys) == KeyTableTests.bytes(reference.keys))
        // Bytes that are not UTF-8 are read as `String(decoding:)` reads them: both of these are "1\u{FFFD}".
        var repaired = KeyTable()
        [0x31, 0xFF].withUnsafeBufferPointer { repaired.updateValue(1, forKeyBytes: $0) }
        [0x31, 0xC0].withUnsafeBufferPointer { repaired.updateValue(2, forKeyBytes: $0) }
        #expect(repaired.count == 1 && repaired["1\u{FFFD}"] == 2)
        #expect([0x31, 0xFE].withUnsafeBufferPointer { repaired.value(forKeyBytes: $0) } == 2)
        // Not there, short and long, ASCII and beyond.
        for missing in ["2", "1234567890123457", "\u{212A}9", "caf\u{E9}-caf\u{E9}-caf\u{E9}"] {
            #expect(table[missing] == nil, "\(missing)")
            #expect(Array(missing.utf8).withUnsafeBufferPointer { table.value(forKeyBytes: $0) } == nil, "bytes of \(missing)")
        }
    }

    /// Small tables under many seeds: keys come and go in runs that wrap from the last slot to the first, where
    /// a removal must move back the keys after it (under one random seed a run would meet few such removals).
    @Test func keysComeAndGoInRunsThatWrapAroundUnderManySeeds() {
        let keys = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "K1", "\u{212A}2", "1234567890123456"]
        for seed in 0..<400 as Range<UInt64> {
            var random = SeededRandom(seed: seed)
            var table = KeyTable(seeds: (random.next(), random.next()))
            var reference: [String: UInt64] = [:]
            for step in 0..<120 {
                let key = keys[Int(random.next() % UInt64(keys.count))]
                if random.next() % 3 == 0 {
                    #expect(table.removeValue(forKey: key) == reference.removeValue(forKey: key), "seed \(seed), step \(step): remove \(key)")
                } else {
                    #expect(table.updateValue(UInt64(step), forKey: key) == reference.updateValue(UInt64(step), forKey: key), "seed \(seed), step \(step)")
                }
                for key in keys where table[key] != reference[key] {
                    Testing.Issue.record("seed \(seed), step \(step): \(key) is \(String(describing: table[key])), not \(String(describing: reference[key]))")
                }
            }
        }
    }

    static func bytes<Keys: Sequence<String>>(_ keys: Keys) -> [[UInt8]] {
        keys.map { Array($0.utf8) }.sorted { $0.lexicographicallyPrecedes($1) }
    }
}

