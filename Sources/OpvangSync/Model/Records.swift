// Typed records, one struct per kind: built once from a record's canonical values (`Record.values`,
// `StoredRecord.values`, `Change.values`), with every value parsed once (dates, times, numbers, keys).
//
// `Record` and `StoredRecord` stay the storage and diff form; these are what the rest of a run reads.
// Each `init?(values:)` is nil when a value the record cannot do without is missing or does not parse.
// Personal values are optional even where the export requires them: retention clears them from a purged
// record, whose keys, dates and references stay.
//
// The positions of the fields are resolved from `EntitySchema` once per kind (`Field`), not per record.

/// A record of one kind, read from its canonical values.
public protocol TypedRecord {
    init?(values: FieldValues)
}

extension TypedRecord {
    public init?(values: [String?]) { self.init(values: FieldValues(values)) }
}

/// Reads typed values out of one record's canonical values.
private struct Reader {
    let values: FieldValues

    func text(_ index: Int) -> String? { values[index] }
    func key<Key: RecordKey>(_ index: Int) -> Key? { values[index].map(Key.init) }
    func day(_ index: Int) -> Day? { values[index].flatMap(Day.init(iso:)) }
    func time(_ index: Int) -> TimeOfDay? { values[index].flatMap { TimeOfDay(Substring($0)) } }
    func range(_ index: Int) -> TimeRange? { values[index].flatMap(TimeRange.init) }
    func integer(_ index: Int) -> Int? { values[index].flatMap { Int($0) } }
    func list<Key: RecordKey>(_ index: Int) -> [Key] {
        values[index]?.split(separator: "|").map { Key(String($0)) } ?? []
    }
}

/// A location (Locatie).
public struct Location: TypedRecord, Sendable, Equatable {
    public let code: LocationCode
    public let name: String
    public let address: String?
    public let postcode: String?
    public let city: String?
    public let phone: String?
    public let email: String?
    public let lrkNumber: String?

    enum Field {
        static let code = EntityKind.location.schema.index("code")
        static let name = EntityKind.location.schema.index("name")
        static let address = EntityKind.location.schema.index("address")
        static let postcode = EntityKind.location.schema.index("postcode")
        static let city = EntityKind.location.schema.index("city")
        static let phone = EntityKind.location.schema.index("phone")
        static let email = EntityKind.location.schema.index("email")
        static let lrkNumber = EntityKind.location.schema.index("lrkNumber")
    }

    public init?(values: FieldValues) {
        let read = Reader(values: values)
        guard let code: LocationCode = read.key(Field.code), let name = read.text(Field.name) else { return nil }
        self.code = code
        self.name = name
        address = read.text(Field.address)
        postcode = read.text(Field.postcode)
        city = read.text(Field.city)
        phone = read.text(Field.phone)
        email = read.text(Field.email)
        lrkNumber = read.text(Field.lrkNumber)
    }
}

/// A group (Groep) at a location.
public struct Group: TypedRecord, Sendable, Equatable {
    public let code: GroupCode
    public let location: LocationCode
    public let name: String
    public let careType: String
    public let capacity: Int?

    enum Field {
        static let code = EntityKind.group.schema.index("code")
        static let location = EntityKind.group.schema.index("locationCode")
        static let name = EntityKind.group.schema.index("name")
        static let careType = EntityKind.group.schema.index("careType")
        static let capacity = EntityKind.group.schema.index("capacity")
    }

    public init(code: GroupCode, location: LocationCode, name: String, careType: String, capacity: Int?) {
        self.code = code
        self.location = location
        self.name = name
        self.careType = careType
        self.capacity = capacity
    }

    public init?(values: FieldValues) {
        let read = Reader(values: values)
        guard let code: GroupCode = read.key(Field.code), let location: LocationCode = read.key(Field.location),
              let name = read.text(Field.name), let careType = read.text(Field.careType) else { return nil }
        self.init(code: code, location: location, name: name, careType: careType, capacity: read.integer(Field.capacity))
    }
}

/// A staff member (Medewerker) and the groups they work in.
public struct Staff: TypedRecord, Sendable, Equatable {
    public let number: StaffNumber
    public let firstName: String?
    public let infix: String?
    public let lastName: String?
    public let email: String?
    public let role: String?
    /// In the export's order.
    public let groups: [GroupCode]

    enum Field {
        static let number = EntityKind.staff.schema.index("number")
        static let firstName = EntityKind.staff.schema.index("firstName")
        static let infix = EntityKind.staff.schema.index("infix")
        static let lastName = EntityKind.staff.schema.index("lastName")
        static let email = EntityKind.staff.schema.index("email")
        static let role = EntityKind.staff.schema.index("role")
        static let groups = EntityKind.staff.schema.index("groupCodes")
    }

    public init?(values: FieldValues) {
        let read = Reader(values: values)
        guard let number: StaffNumber = read.key(Field.number) else { return nil }
        self.number = number
        firstName = read.text(Field.firstName)
        infix = read.text(Field.infix)
        lastName = read.text(Field.lastName)
        email = read.text(Field.email)
        role = read.text(Field.role)
        groups = read.list(Field.groups)
    }
}

/// A child (Kind). Its name and birth date are nil once the child is purged.
public struct Child: TypedRecord, Sendable, Equatable {
    public let number: ChildNumber
    public let firstName: String?
    public let infix: String?
    public let lastName: String?
    public let birthDate: Day?
    public let gender: String?
    public let mentor: StaffNumber?

    enum Field {
        static let number = EntityKind.child.schema.index("number")
        static let firstName = EntityKind.child.schema.index("firstName")
        static let infix = EntityKind.child.schema.index("infix")
        static let lastName = EntityKind.child.schema.index("lastName")
        static let birthDate = EntityKind.child.schema.index("birthDate")
        static let gender = EntityKind.child.schema.index("gender")
        static let mentor = EntityKind.child.schema.index("mentor")
    }

    public init?(values: FieldValues) {
        let read = Reader(values: values)
        guard let number: ChildNumber = read.key(Field.number) else { return nil }
        self.number = number
        firstName = read.text(Field.firstName)
        infix = read.text(Field.infix)
        lastName = read.text(Field.lastName)
        birthDate = read.day(Field.birthDate)
        gender = read.text(Field.gender)
        mentor = read.key(Field.mentor)
    }
}

/// A parent (Ouder). Everything but the number is nil once the parent is purged.
public struct Parent: TypedRecord, Sendable, Equatable {
    public let number: ParentNumber
    public let firstName: String?
    public let infix: String?
    public let lastName: String?
    public let email: String?
    public let email2: String?
    public let phone: String?
    public let mobile: String?
    public let address: String?
    public let postcode: String?
    public let city: String?

    enum Field {
        static let number = EntityKind.parent.schema.index("number")
        static let firstName = EntityKind.parent.schema.index("firstName")
        static let infix = EntityKind.parent.schema.index("infix")
        static let lastName = EntityKind.parent.schema.index("lastName")
        static let email = EntityKind.parent.schema.index("email")
        static let email2 = EntityKind.parent.schema.index("email2")
        static let phone = EntityKind.parent.schema.index("phone")
        static let mobile = EntityKind.parent.schema.index("mobile")
        static let address = EntityKind.parent.schema.index("address")
        static let postcode = EntityKind.parent.schema.index("postcode")
        static let city = EntityKind.parent.schema.index("city")
    }

    public init?(values: FieldValues) {
        let read = Reader(values: values)
        guard let number: ParentNumber = read.key(Field.number) else { return nil }
        self.number = number
        firstName = read.text(Field.firstName)
        infix = read.text(Field.infix)
        lastName = read.text(Field.lastName)
        email = read.text(Field.email)
        email2 = read.text(Field.email2)
        phone = read.text(Field.phone)
        mobile = read.text(Field.mobile)
        address = read.text(Field.address)
        postcode = read.text(Field.postcode)
        city = read.text(Field.city)
    }

    /// "Voornaam tussenvoegsel achternaam", leaving out the parts it lacks.
    public var fullName: String {
        [firstName, infix, lastName].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " ")
    }
}

/// A parent-child relation (Ouder-kindrelatie).
public struct Relation: TypedRecord, Sendable, Equatable {
    public let child: ChildNumber
    public let parent: ParentNumber
    public let role: String

    enum Field {
        static let child = EntityKind.relation.schema.index("childNumber")
        static let parent = EntityKind.relation.schema.index("parentNumber")
        static let role = EntityKind.relation.schema.index("role")
    }

    public init?(values: FieldValues) {
        let read = Reader(values: values)
        guard let child: ChildNumber = read.key(Field.child), let parent: ParentNumber = read.key(Field.parent),
              let role = read.text(Field.role) else { return nil }
        self.child = child
        self.parent = parent
        self.role = role
    }

    /// "Ouder 1": the parent who sees the child's documents.
    public var isFirstParent: Bool { role == "Ouder 1" }
}

/// Which weeks of the year a placement's days apply (ISO week numbers).
public enum WeekParity: String, Sendable, CaseIterable {
    case every = "alle"
    case even
    case odd = "oneven"

    public func includes(_ day: Day) -> Bool {
        switch self {
        case .every: return true
        case .even: return day.isoWeek % 2 == 0
        case .odd: return day.isoWeek % 2 == 1
        }
    }
}

/// A placement (Plaatsing): a child in a group under a contract, with care hours per weekday.
///
/// Only its number, child and start date make a placement: those are what every reader (accounts,
/// retention, the lists) depends on. The export requires a group, care type and contract too, but a
/// reader that needs one of them checks for it, so that a placement without one still counts for the
/// child's care and access.
public struct Placement: TypedRecord, Sendable, Equatable {
    public let number: PlacementNumber
    public let child: ChildNumber
    public let group: GroupCode?
    public let careType: String?
    public let contract: String?
    public let start: Day
    public let end: Day?
    /// Care hours per ISO weekday (index 0 = Monday).
    public let hours: [TimeRange?]
    /// Every week when the value is missing (the schema's default) or not one of the code list's.
    public let weeks: WeekParity

    enum Field {
        static let number = EntityKind.placement.schema.index("number")
        static let child = EntityKind.placement.schema.index("childNumber")
        static let group = EntityKind.placement.schema.index("groupCode")
        static let careType = EntityKind.placement.schema.index("careType")
        static let contract = EntityKind.placement.schema.index("contractType")
        static let start = EntityKind.placement.schema.index("startDate")
        static let end = EntityKind.placement.schema.index("endDate")
        /// Monday to Sunday.
        static let weekdays = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
            .map { EntityKind.placement.schema.index($0) }
        static let weeks = EntityKind.placement.schema.index("weeks")
    }

    public init?(values: FieldValues) {
        let read = Reader(values: values)
        guard let number: PlacementNumber = read.key(Field.number), let child: ChildNumber = read.key(Field.child),
              let start = read.day(Field.start) else { return nil }
        self.number = number
        self.child = child
        group = read.key(Field.group)
        careType = read.text(Field.careType)
        contract = read.text(Field.contract)
        self.start = start
        end = read.day(Field.end)
        hours = Field.weekdays.map(read.range)
        weeks = read.text(Field.weeks).flatMap(WeekParity.init(rawValue:)) ?? .every
    }

    /// The care hours on `day`'s weekday (whatever the dates, weeks and contract say).
    public func hours(on day: Day) -> TimeRange? { hours[day.isoWeekday - 1] }

    /// Whether the placement runs on `day`: started, and not ended before it.
    public func runs(on day: Day) -> Bool { start <= day && (end.map { day <= $0 } ?? true) }
}

/// A deviation (Afwijking): an absence, an extra day or a swapped day of one child in one group.
public struct Deviation: TypedRecord, Sendable, Equatable {
    public let child: ChildNumber
    public let group: GroupCode
    public let date: Day
    public let kind: String
    public let from: TimeOfDay?
    public let to: TimeOfDay?
    public let description: String?

    enum Field {
        static let child = EntityKind.deviation.schema.index("childNumber")
        static let group = EntityKind.deviation.schema.index("groupCode")
        static let date = EntityKind.deviation.schema.index("date")
        static let kind = EntityKind.deviation.schema.index("kind")
        static let from = EntityKind.deviation.schema.index("from")
        static let to = EntityKind.deviation.schema.index("to")
        static let description = EntityKind.deviation.schema.index("description")
    }

    public init?(values: FieldValues) {
        let read = Reader(values: values)
        guard let child: ChildNumber = read.key(Field.child), let group: GroupCode = read.key(Field.group),
              let date = read.day(Field.date), let kind = read.text(Field.kind) else { return nil }
        self.child = child
        self.group = group
        self.date = date
        self.kind = kind
        from = read.time(Field.from)
        to = read.time(Field.to)
        description = read.text(Field.description)
    }
}

/// A calendar entry (Kalender): closing days or a school holiday, of one location or of all.
public struct CalendarEntry: TypedRecord, Sendable, Equatable {
    public let from: Day
    public let to: Day
    public let kind: String
    /// nil: every location.
    public let location: LocationCode?
    public let description: String?

    enum Field {
        static let from = EntityKind.calendar.schema.index("from")
        static let to = EntityKind.calendar.schema.index("to")
        static let kind = EntityKind.calendar.schema.index("kind")
        static let location = EntityKind.calendar.schema.index("locationCode")
        static let description = EntityKind.calendar.schema.index("description")
    }

    public init?(values: FieldValues) {
        let read = Reader(values: values)
        guard let from = read.day(Field.from), let to = read.day(Field.to), let kind = read.text(Field.kind) else { return nil }
        self.from = from
        self.to = to
        self.kind = kind
        location = read.key(Field.location)
        description = read.text(Field.description)
    }

    /// Whether `day` falls within the entry, both ends included.
    public func covers(_ day: Day) -> Bool { from <= day && day <= to }
}
