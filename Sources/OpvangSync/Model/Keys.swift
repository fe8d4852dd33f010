/// A planning system's number or code for one kind of record, as its text.
///
/// Each kind has its own type, so that a child number can never end up in a set of parent numbers: the
/// planning system numbers children and parents independently, and child 1001 says nothing of parent 1001.
/// They order as their text does (`String`'s `<`); code that needs byte order (as SQLite sorts) asks for
/// `text.utf8` explicitly.
public protocol RecordKey: Hashable, Comparable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The number or code exactly as the planning system wrote it.
    var text: String { get }
    init(_ text: String)
}

extension RecordKey {
    public var description: String { text }
    public init(stringLiteral text: String) { self.init(text) }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.text < rhs.text }
}

/// A location's code (Locatiecode).
public struct LocationCode: RecordKey {
    public let text: String
    public init(_ text: String) { self.text = text }
}

/// A group's code (Groepscode).
public struct GroupCode: RecordKey {
    public let text: String
    public init(_ text: String) { self.text = text }
}

/// A staff member's number (Medewerkernummer).
public struct StaffNumber: RecordKey {
    public let text: String
    public init(_ text: String) { self.text = text }
}

/// A child's number (Kindnummer).
public struct ChildNumber: RecordKey {
    public let text: String
    public init(_ text: String) { self.text = text }
}

/// A parent's number (Oudernummer).
public struct ParentNumber: RecordKey {
    public let text: String
    public init(_ text: String) { self.text = text }
}

/// A placement's number (Plaatsingsnummer).
public struct PlacementNumber: RecordKey {
    public let text: String
    public init(_ text: String) { self.text = text }
}

extension Set where Element: RecordKey {
    /// The keys as text, where a query binds them or a plain set of record keys expects them.
    var texts: Set<String> { Set<String>(map(\.text)) }
}
