/// The kinds of record an export carries (SPEC §2), in the order they are validated: every kind only
/// refers to kinds before it.
public enum EntityKind: String, CaseIterable, Sendable, Codable, Comparable {
    case location, group, staff, child, parent, relation, placement, deviation, calendar

    public static func < (lhs: EntityKind, rhs: EntityKind) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }

    /// The canonical description of this kind.
    public var schema: EntitySchema { EntitySchema.all[self]! }

    /// Dutch plural, as the report shows it.
    public var dutchPlural: String {
        switch self {
        case .location: return "Locaties"
        case .group: return "Groepen"
        case .staff: return "Medewerkers"
        case .child: return "Kinderen"
        case .parent: return "Ouders"
        case .relation: return "Ouder-kindrelaties"
        case .placement: return "Plaatsingen"
        case .deviation: return "Afwijkingen"
        case .calendar: return "Kalender"
        }
    }
}

/// Canonical code lists; a mapping translates a planning system's codes into these.
public enum CodeTable: String, CaseIterable, Sendable, Codable {
    case careType, contractType, role, deviationKind, calendarKind, weeks, gender

    public var values: [String] {
        switch self {
        case .careType: return ["KDV", "PG", "BSO", "VSO", "NSO", "TSO", "GO"]
        case .contractType: return ["52 weken", "Schoolweken", "Vakantie", "Flexibel"]
        case .role: return ["Ouder 1", "Ouder 2", "Verzorger"]
        case .deviationKind: return ["Afwezig", "Extra dag", "Ruildag"]
        case .calendarKind: return ["Sluitingsdag", "Schoolvakantie"]
        case .weeks: return ["alle", "even", "oneven"]
        // M jongen, V meisje, X anders of onbekend (as in Dutch identity documents).
        case .gender: return ["M", "V", "X"]
        }
    }
}

/// What a field holds, and so how it is parsed and normalised before it is stored.
///
/// Every canonical field has an explicit kind, and what is done to a value follows from its kind alone:
/// only `freeText` is scrubbed of citizen service numbers (SPEC §4 "Data minimisation"). A key, a code or
/// a phone number is kept exactly as written, because one in eleven 9-digit numbers passes the 11-proef
/// by chance and rewriting it would destroy the identifier.
public enum FieldType: Sendable, Equatable {
    /// A planning system's number or code for a record: its key, or a reference to another record's key.
    case identifier
    /// Text a person typed (a name, an address, a job title, the description of an absence): the one kind
    /// that may carry a BSN by accident, so the one kind that is scrubbed.
    case freeText
    /// A phone number or postcode: kept as written.
    case contact
    /// A registration number issued by a register (the LRK number): kept as written.
    case registration
    /// An e-mail address: trimmed, kept as written; an invalid one is a warning, not a rejection.
    case email
    /// Stored as `jjjj-mm-dd`.
    case date
    /// Stored as `HH:MM`.
    case time
    /// Stored as `HH:MM-HH:MM`.
    case timeRange
    case integer
    case code(CodeTable)
    /// Several identifiers; stored joined with `|`.
    case list

    /// Whether a citizen service number in a value of this kind is replaced before it is stored.
    public var scrubsBSN: Bool { self == .freeText }
}

/// One canonical field of an entity.
public struct FieldSpec: Sendable {
    /// The canonical name a mapping refers to (`birthDate`).
    public let name: String
    /// The portal database column (`birth_date`).
    public let column: String
    public let type: FieldType
    public let required: Bool
    /// Used when the export leaves an optional field empty.
    public let defaultValue: String?
    /// The entity this field refers to, if any (a reference to an unknown record rejects the row).
    public let references: EntityKind?
    /// Personal data that retention must purge and error messages must never show.
    public let personal: Bool
    /// A free-text description that may hold line breaks (LF or CR LF); every other field is one line.
    public let multiline: Bool

    init(_ name: String, _ column: String, _ type: FieldType, required: Bool = false,
         defaultValue: String? = nil, references: EntityKind? = nil, personal: Bool = false, multiline: Bool = false) {
        self.multiline = multiline
        self.name = name
        self.column = column
        self.type = type
        self.required = required
        self.defaultValue = defaultValue
        self.references = references
        self.personal = personal
    }
}

/// The canonical shape of one entity kind, and of its portal table.
public struct EntitySchema: Sendable {
    public let kind: EntityKind
    public let table: String
    public let fields: [FieldSpec]
    /// Indexes into `fields` that together form the planning system's key.
    public let keyFields: [Int]

    public func fieldIndex(_ name: String) -> Int? { fields.firstIndex { $0.name == name } }

    /// The index of a field that the schema is known to have.
    func index(_ name: String) -> Int {
        guard let index = fieldIndex(name) else { preconditionFailure("no field \(name) in \(kind)") }
        return index
    }

    init(_ kind: EntityKind, table: String, key: [String], fields: [FieldSpec]) {
        self.kind = kind
        self.table = table
        self.fields = fields
        self.keyFields = key.map { name in fields.firstIndex { $0.name == name }! }
    }

    static let all: [EntityKind: EntitySchema] = {
        let day: (String, String) -> FieldSpec = { FieldSpec($0, $1, .timeRange) }
        let list: [EntitySchema] = [
            EntitySchema(.location, table: "locations", key: ["code"], fields: [
                FieldSpec("code", "code", .identifier, required: true),
                FieldSpec("name", "name", .freeText, required: true),
                FieldSpec("address", "address", .freeText),
                FieldSpec("postcode", "postcode", .contact),
                FieldSpec("city", "city", .freeText),
                FieldSpec("phone", "phone", .contact),
                FieldSpec("email", "email", .email),
                FieldSpec("lrkNumber", "lrk_number", .registration),
            ]),
            EntitySchema(.group, table: "groups", key: ["code"], fields: [
                FieldSpec("code", "code", .identifier, required: true),
                FieldSpec("locationCode", "location_code", .identifier, required: true, references: .location),
                FieldSpec("name", "name", .freeText, required: true),
                FieldSpec("careType", "care_type", .code(.careType), required: true),
                FieldSpec("capacity", "capacity", .integer),
            ]),
            EntitySchema(.staff, table: "staff", key: ["number"], fields: [
                FieldSpec("number", "number", .identifier, required: true),
                FieldSpec("firstName", "first_name", .freeText, required: true, personal: true),
                FieldSpec("infix", "infix", .freeText, personal: true),
                FieldSpec("lastName", "last_name", .freeText, required: true, personal: true),
                FieldSpec("email", "email", .email, personal: true),
                FieldSpec("role", "role", .freeText),
                FieldSpec("groupCodes", "group_codes", .list, references: .group),
            ]),
            EntitySchema(.child, table: "children", key: ["number"], fields: [
                FieldSpec("number", "number", .identifier, required: true),
                FieldSpec("firstName", "first_name", .freeText, required: true, personal: true),
                FieldSpec("infix", "infix", .freeText, personal: true),
                FieldSpec("lastName", "last_name", .freeText, required: true, personal: true),
                FieldSpec("birthDate", "birth_date", .date, required: true, personal: true),
                FieldSpec("gender", "gender", .code(.gender), personal: true),
                FieldSpec("mentor", "mentor", .identifier, references: .staff),
            ]),
            EntitySchema(.parent, table: "parents", key: ["number"], fields: [
                FieldSpec("number", "number", .identifier, required: true),
                FieldSpec("firstName", "first_name", .freeText, personal: true),
                FieldSpec("infix", "infix", .freeText, personal: true),
                FieldSpec("lastName", "last_name", .freeText, required: true, personal: true),
                FieldSpec("email", "email", .email, personal: true),
                FieldSpec("email2", "email2", .email, personal: true),
                FieldSpec("phone", "phone", .contact, personal: true),
                FieldSpec("mobile", "mobile", .contact, personal: true),
                FieldSpec("address", "address", .freeText, personal: true),
                FieldSpec("postcode", "postcode", .contact, personal: true),
                FieldSpec("city", "city", .freeText, personal: true),
            ]),
            EntitySchema(.relation, table: "relations", key: ["childNumber", "parentNumber"], fields: [
                FieldSpec("childNumber", "child_number", .identifier, required: true, references: .child),
                FieldSpec("parentNumber", "parent_number", .identifier, required: true, references: .parent),
                FieldSpec("role", "role", .code(.role), required: true),
            ]),
            EntitySchema(.placement, table: "placements", key: ["number"], fields: [
                FieldSpec("number", "number", .identifier, required: true),
                FieldSpec("childNumber", "child_number", .identifier, required: true, references: .child),
                FieldSpec("groupCode", "group_code", .identifier, required: true, references: .group),
                FieldSpec("careType", "care_type", .code(.careType), required: true),
                FieldSpec("contractType", "contract_type", .code(.contractType), required: true),
                FieldSpec("startDate", "start_date", .date, required: true),
                FieldSpec("endDate", "end_date", .date),
                day("monday", "monday"), day("tuesday", "tuesday"), day("wednesday", "wednesday"),
                day("thursday", "thursday"), day("friday", "friday"), day("saturday", "saturday"),
                day("sunday", "sunday"),
                FieldSpec("weeks", "weeks", .code(.weeks), defaultValue: "alle"),
            ]),
            EntitySchema(.deviation, table: "deviations", key: ["childNumber", "groupCode", "date", "kind"], fields: [
                FieldSpec("childNumber", "child_number", .identifier, required: true, references: .child),
                FieldSpec("groupCode", "group_code", .identifier, required: true, references: .group),
                FieldSpec("date", "date", .date, required: true),
                FieldSpec("kind", "kind", .code(.deviationKind), required: true),
                FieldSpec("from", "from_time", .time),
                FieldSpec("to", "to_time", .time),
                FieldSpec("description", "description", .freeText, personal: true, multiline: true),
            ]),
            EntitySchema(.calendar, table: "calendar", key: ["from", "to", "kind", "locationCode"], fields: [
                FieldSpec("from", "from_date", .date, required: true),
                FieldSpec("to", "to_date", .date, required: true),
                FieldSpec("kind", "kind", .code(.calendarKind), required: true),
                FieldSpec("locationCode", "location_code", .identifier, references: .location),
                FieldSpec("description", "description", .freeText, multiline: true),
            ]),
        ]
        return Dictionary(uniqueKeysWithValues: list.map { ($0.kind, $0) })
    }()
}
