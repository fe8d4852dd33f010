import Foundation

/// A record's canonical values in schema order (nil = no value), kept in one buffer of bytes.
///
/// A record read from the export or the portal used to be an array of optional strings: a 32-byte array
/// header, 16 bytes per field, and a separate allocation for every text longer than 15 bytes. A first import
/// holds over 600,000 of them at once. Here a record's values are one allocation:
///
///     [width] [count] [count × width: where each value's text ends, little-endian] [the texts, in order]
///
/// `width` is 1, 2 or 4 bytes, the least that reaches the end of the texts. An absent value is the single
/// byte 0xFE, which UTF-8 never contains, so it cannot be mistaken for a text; an empty text has no bytes.
///
/// The bytes are an object of their own with no header beside the object's own 16 bytes: their length is in
/// the layout. An array of bytes has 16 bytes more (its count and capacity), and at a million children a run
/// holds over six million records.
///
/// Values are read as `String?` like the array they replace. Two lists of values are equal when their values
/// are equal as `String`s (canonical equivalence), with equal bytes as the quick answer.
///
/// Sendable though `ManagedBuffer` is not: the bytes are written once, before any other thread can see them,
/// and only read after that (setting a value lays out new bytes).
public struct FieldValues: @unchecked Sendable {
    /// nil: no values at all.
    private var storage: Storage?

    /// The laid-out bytes; never changed once made.
    private final class Storage: ManagedBuffer<Void, UInt8> {
        /// The number of bytes laid out, read from the layout itself.
        var length: Int {
            withUnsafeMutablePointerToElements { bytes in
                let width = Int(bytes[0]), count = Int(bytes[1])
                let header = 2 + count * width
                return count == 0 ? header : header + FieldValues.end(count - 1, width: width, in: bytes)
            }
        }
    }

    private static let absent: UInt8 = 0xFE

    public init() { storage = nil }

    private init(storage: Storage) { self.storage = storage }

    /// Calls `body` with the laid-out bytes (none for no values at all).
    @inline(__always)
    private func withBytes<Result>(_ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
        guard let storage else { return try body(UnsafeBufferPointer(start: nil, count: 0)) }
        let length = storage.length
        return try storage.withUnsafeMutablePointerToElements { try body(UnsafeBufferPointer(start: $0, count: length)) }
    }

    public init<Values: Collection>(_ values: Values) where Values.Element == String? {
        let values = Array(values)
        var textBytes = 0
        for value in values { textBytes += value?.utf8.count ?? 1 }
        storage = FieldValues.layout(count: values.count, textBytes: textBytes) { index, destination in
            values[index].map { FieldValues.copy($0, to: destination) }
        }
    }

    /// Values from bytes that need not be UTF-8 (a database's columns): `bytes(index)` gives value `index`'s
    /// bytes or nil when it is absent, the same each time it is asked (two or three times). They read as
    /// `String(decoding:as:)` would read them: a record with any byte beyond ASCII is decoded that way, so
    /// that a broken sequence is U+FFFD.
    public init(count: Int, bytes: (Int) -> UnsafeBufferPointer<UInt8>?) {
        var textBytes = 0
        for index in 0..<count {
            guard let value = bytes(index) else {
                textBytes += 1
                continue
            }
            if value.contains(where: { $0 >= 0x80 }) {
                self.init((0..<count).map { bytes($0).map { String(decoding: $0, as: UTF8.self) } })
                return
            }
            textBytes += value.count
        }
        self.init(storage: FieldValues.layout(count: count, textBytes: textBytes) { index, destination in
            bytes(index).map { value in
                if let base = value.baseAddress, !value.isEmpty { destination.initialize(from: base, count: value.count) }
                return value.count
            }
        })
    }

    /// The storage of `count` values whose texts take `textBytes` bytes together: `fill(index, destination)`
    /// copies value `index`'s bytes to `destination` and says how many, or gives nil for an absent value.
    private static func layout(count: Int, textBytes: Int, _ fill: (Int, UnsafeMutablePointer<UInt8>) -> Int?) -> Storage {
        precondition(count <= Int(UInt8.max), "a record has at most 255 fields")
        precondition(textBytes <= Int(UInt32.max), "a record's texts fit in 4 GB")
        let width = textBytes <= Int(UInt8.max) ? 1 : textBytes <= Int(UInt16.max) ? 2 : 4
        let header = 2 + count * width
        let storage = unsafeDowncast(Storage.create(minimumCapacity: header + textBytes) { _ in }, to: Storage.self)
        storage.withUnsafeMutablePointerToElements { buffer in
            buffer[0] = UInt8(width)
            buffer[1] = UInt8(count)
            var end = header
            for index in 0..<count {
                if let copied = fill(index, buffer + end) {
                    end += copied
                } else {
                    buffer[end] = absent
                    end += 1
                }
                var offset = end - header
                for byte in 0..<width {
                    buffer[2 + index * width + byte] = UInt8(truncatingIfNeeded: offset)
                    offset >>= 8
                }
            }
            // Every byte written was counted and allocated: a value that read longer the second time it was
            // asked would have written past the end.
            precondition(end == header + textBytes, "a record's values wrote more or fewer bytes than were counted")
        }
        return storage
    }

    /// Copies a text's UTF-8 to `destination`; returns the number of bytes.
    private static func copy(_ text: String, to destination: UnsafeMutablePointer<UInt8>) -> Int {
        let copied = text.utf8.withContiguousStorageIfAvailable { bytes -> Int in
            if let base = bytes.baseAddress, !bytes.isEmpty { destination.initialize(from: base, count: bytes.count) }
            return bytes.count
        }
        if let copied { return copied }
        var count = 0
        for byte in text.utf8 {
            (destination + count).initialize(to: byte)
            count += 1
        }
        return count
    }

    /// Where value `slot`'s text ends, counted from the end of the header.
    @inline(__always)
    private static func end(_ slot: Int, width: Int, in bytes: UnsafePointer<UInt8>) -> Int {
        let at = 2 + slot * width
        switch width {
        case 1: return Int(bytes[at])
        case 2: return Int(bytes[at]) | Int(bytes[at + 1]) << 8
        default: return Int(bytes[at]) | Int(bytes[at + 1]) << 8 | Int(bytes[at + 2]) << 16 | Int(bytes[at + 3]) << 24
        }
    }

    /// The bytes of value `index` within `bytes` (the storage), or nil for an absent value.
    @inline(__always)
    private static func range(_ index: Int, in bytes: UnsafeBufferPointer<UInt8>) -> Range<Int>? {
        let width = Int(bytes[0])
        let header = 2 + Int(bytes[1]) * width
        let base = bytes.baseAddress!
        let start = header + (index == 0 ? 0 : end(index - 1, width: width, in: base))
        let stop = header + end(index, width: width, in: base)
        if stop - start == 1 && bytes[start] == absent { return nil }
        return start..<stop
    }

    /// Whether value `index` is absent, without making its text.
    public func isAbsent(_ index: Int) -> Bool {
        precondition(index >= 0 && index < count, "field index out of range")
        return withBytes { FieldValues.range(index, in: $0) == nil }
    }

    /// Calls `body` with the UTF-8 of value `index`, or with nil when it is absent, without making a `String`.
    public func withUTF8<Result>(_ index: Int, _ body: (UnsafeBufferPointer<UInt8>?) throws -> Result) rethrows -> Result {
        precondition(index >= 0 && index < count, "field index out of range")
        return try withBytes { bytes in
            guard let range = FieldValues.range(index, in: bytes) else { return try body(nil) }
            return try body(UnsafeBufferPointer(rebasing: bytes[range]))
        }
    }

    /// Whether both hold the very same bytes: then every value is the same (the converse need not hold:
    /// canonically equivalent texts differ in bytes).
    func hasSameBytes(as other: FieldValues) -> Bool {
        if storage === other.storage { return true }
        return withBytes { mine in
            other.withBytes { theirs in
                mine.count == theirs.count && (mine.isEmpty || memcmp(mine.baseAddress!, theirs.baseAddress!, mine.count) == 0)
            }
        }
    }

    /// The values as an array, for code that builds on them.
    public var array: [String?] { Array(self) }
}

extension FieldValues: RandomAccessCollection {
    public var startIndex: Int { 0 }
    public var endIndex: Int { storage?.withUnsafeMutablePointerToElements { Int($0[1]) } ?? 0 }

    public subscript(index: Int) -> String? {
        get {
            precondition(index >= 0 && index < count, "field index out of range")
            return withBytes { bytes in
                FieldValues.range(index, in: bytes).map { range in
                    String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
                }
            }
        }
        set {
            // Rare (a location's hold puts one value back): the buffer is laid out again. Not a
            // `MutableCollection`, whose algorithms (sort, swap) would lay it out again at every step.
            var values = array
            values[index] = newValue
            self = FieldValues(values)
        }
    }
}

extension FieldValues: ExpressibleByArrayLiteral {
    public init(arrayLiteral values: String?...) { self.init(values) }
}

extension FieldValues: Equatable {
    public static func == (lhs: FieldValues, rhs: FieldValues) -> Bool {
        if lhs.hasSameBytes(as: rhs) { return true }
        return lhs.count == rhs.count && zip(lhs, rhs).allSatisfy { $0 == $1 }
    }
}

extension FieldValues: Hashable {
    public func hash(into hasher: inout Hasher) {
        hasher.combine(count)
        for value in self { hasher.combine(value) }
    }
}

extension FieldValues: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String { array.description }
    public var debugDescription: String { array.debugDescription }
}
