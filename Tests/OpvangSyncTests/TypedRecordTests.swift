import Testing
@testable import OpvangSync

/// The typed records are built once from a record's canonical values: required values present, every
/// value parsed into its type, and each field read from the position of its own column.
@Suite struct TypedRecordTests {
    /// Canonical values of `kind` with the named fields set, the rest empty.
    func values(_ kind: EntityKind, _ fields: [String: String]) -> [String?] {
        var values = [String?](repeating: nil, count: kind.schema.fields.count)
        for (name, value) in fields { values[kind.schema.fieldIndex(name)!] = value }
        return values
    }

    func day(_ iso: String) -> Day { Day(iso: iso)! }

    let placementFields = ["number": "P1", "childNumber": "K1", "groupCode": "G1", "careType": "KDV",
                           "contractType": "52 weken", "startDate": "2026-01-05"]

    @Test func aPlacementIsReadWithItsDatesHoursAndWeeks() throws {
        var fields = placementFields
        fields["endDate"] = "2026-12-31"
        fields["monday"] = "07:30-18:00"
        fields["thursday"] = "08:00-12:30"
        fields["weeks"] = "oneven"
        let placement = try #require(Placement(values: values(.placement, fields)))
        #expect(placement.number == "P1")
        #expect(placement.child == "K1")
        #expect(placement.group == "G1")
        #expect(placement.careType == "KDV")
        #expect(placement.contract == "52 weken")
        #expect(placement.start == day("2026-01-05"))
        #expect(placement.end == day("2026-12-31"))
        #expect(placement.hours.map { $0?.description } == ["07:30-18:00", nil, nil, "08:00-12:30", nil, nil, nil])
        #expect(placement.weeks == .odd)
        #expect(placement.hours(on: day("2026-01-08"))?.description == "08:00-12:30")
        #expect(placement.runs(on: day("2026-01-05")) && placement.runs(on: day("2026-12-31")))
        #expect(!placement.runs(on: day("2026-01-04")) && !placement.runs(on: day("2027-01-01")))
    }

    @Test func aPlacementWithoutWeeksRunsEveryWeekAndWithoutEndRunsOn() throws {
        let placement = try #require(Placement(values: values(.placement, placementFields)))
        #expect(placement.weeks == .every)
        #expect(placement.end == nil)
        #expect(placement.runs(on: day("2099-06-01")))
    }

    @Test func weekParityFollowsTheISOWeekNumber() {
        // 2026-01-05 is in ISO week 2, 2026-01-12 in week 3; 2026-12-28 in week 53.
        let even = day("2026-01-05"), odd = day("2026-01-12"), week53 = day("2026-12-28")
        #expect(WeekParity.every.includes(even) && WeekParity.every.includes(odd))
        #expect(WeekParity.even.includes(even) && !WeekParity.even.includes(odd))
        #expect(WeekParity.odd.includes(odd) && !WeekParity.odd.includes(even))
        #expect(WeekParity.odd.includes(week53))
        #expect(WeekParity(rawValue: "alle") == .every && WeekParity(rawValue: "even") == .even && WeekParity(rawValue: "oneven") == .odd)
    }

    @Test func aPlacementWithoutANumberChildOrReadableStartIsNoPlacement() {
        for name in ["number", "childNumber", "startDate"] {
            var fields = placementFields
            fields[name] = nil
            #expect(Placement(values: values(.placement, fields)) == nil, "without \(name)")
        }
        var fields = placementFields
        fields["startDate"] = "05-01-2026"
        #expect(Placement(values: values(.placement, fields)) == nil)
    }

    @Test func aPlacementWithoutGroupOrContractStillCountsForItsChild() throws {
        // Accounts and retention read only the child and the dates.
        let placement = try #require(Placement(values: values(.placement, ["number": "P1", "childNumber": "K1", "startDate": "2026-01-05"])))
        #expect(placement.group == nil && placement.contract == nil && placement.careType == nil)
        var fields = placementFields
        fields["weeks"] = "soms"
        #expect(Placement(values: values(.placement, fields))?.weeks == .every)
    }

    @Test func aDeviationIsReadWithItsDateAndTimes() throws {
        let deviation = try #require(Deviation(values: values(.deviation, [
            "childNumber": "K1", "groupCode": "G1", "date": "2026-03-02", "kind": "Afwezig", "from": "8:00", "to": "12:30",
            "description": "tandarts",
        ])))
        #expect(deviation.child == "K1" && deviation.group == "G1")
        #expect(deviation.date == day("2026-03-02"))
        #expect(deviation.kind == "Afwezig")
        #expect(deviation.from == TimeOfDay(hour: 8, minute: 0) && deviation.to == TimeOfDay(hour: 12, minute: 30))
        #expect(deviation.description == "tandarts")
        #expect(Deviation(values: values(.deviation, ["childNumber": "K1", "groupCode": "G1", "kind": "Afwezig"])) == nil)
    }

    @Test func aCalendarEntryWithoutLocationIsForEveryLocation() throws {
        let entry = try #require(CalendarEntry(values: values(.calendar, ["from": "2026-12-24", "to": "2026-12-26", "kind": "Sluitingsdag"])))
        #expect(entry.location == nil)
        #expect(entry.covers(day("2026-12-24")) && entry.covers(day("2026-12-26")) && !entry.covers(day("2026-12-27")))
        let one = try #require(CalendarEntry(values: values(.calendar, ["from": "2026-12-24", "to": "2026-12-24", "kind": "Sluitingsdag",
                                                                        "locationCode": "L1"])))
        #expect(one.location == "L1")
        #expect(CalendarEntry(values: values(.calendar, ["from": "2026-12-24", "kind": "Sluitingsdag"])) == nil)
    }

    @Test func aGroupIsReadWithItsLocationAndCapacity() throws {
        let group = try #require(Group(values: values(.group, ["code": "G1", "locationCode": "L1", "name": "Dolfijnen", "careType": "KDV",
                                                               "capacity": "14"])))
        #expect(group.code == "G1" && group.location == "L1" && group.name == "Dolfijnen" && group.careType == "KDV")
        #expect(group.capacity == 14)
        #expect(Group(values: values(.group, ["code": "G1", "name": "Dolfijnen", "careType": "KDV"])) == nil)
    }

    @Test func aRelationKnowsItsFirstParent() throws {
        let first = try #require(Relation(values: values(.relation, ["childNumber": "1001", "parentNumber": "1001", "role": "Ouder 1"])))
        #expect(first.child == "1001" && first.parent == "1001")
        #expect(first.isFirstParent)
        #expect(Relation(values: values(.relation, ["childNumber": "1001", "parentNumber": "2002", "role": "Verzorger"]))?.isFirstParent == false)
        #expect(Relation(values: values(.relation, ["childNumber": "1001", "parentNumber": "2002"])) == nil)
    }

    @Test func aPurgedChildOrParentIsStillARecord() throws {
        // Retention clears the personal values; the number stays, and so does the record.
        let child = try #require(Child(values: values(.child, ["number": "K1"])))
        #expect(child.number == "K1" && child.firstName == nil && child.birthDate == nil)
        let parent = try #require(Parent(values: values(.parent, ["number": "O1"])))
        #expect(parent.fullName == "")
        #expect(Child(values: values(.child, ["firstName": "Anna"])) == nil)
    }

    @Test func aChildIsReadWithItsBirthDateAndMentor() throws {
        let child = try #require(Child(values: values(.child, ["number": "K1", "firstName": "Anna", "lastName": "Jansen",
                                                               "birthDate": "2024-02-29", "mentor": "M7"])))
        #expect(child.birthDate == day("2024-02-29"))
        #expect(child.mentor == "M7")
    }

    @Test func aParentsFullNameLeavesOutMissingParts() throws {
        let parent = try #require(Parent(values: values(.parent, ["number": "O1", "firstName": "Jan", "infix": "van", "lastName": "Dam",
                                                                  "email": "jan@example.nl"])))
        #expect(parent.fullName == "Jan van Dam")
        #expect(parent.email == "jan@example.nl" && parent.email2 == nil)
        #expect(Parent(values: values(.parent, ["number": "O2", "infix": "", "lastName": "Dam"]))?.fullName == "Dam")
    }

    @Test func aStaffMembersGroupsAreReadInTheExportsOrder() throws {
        let staff = try #require(Staff(values: values(.staff, ["number": "M1", "firstName": "Els", "lastName": "Bos", "groupCodes": "G2|G1"])))
        #expect(staff.groups == ["G2", "G1"])
        #expect(Staff(values: values(.staff, ["number": "M2"]))?.groups == [])
    }

    @Test func aLocationIsReadWithItsName() throws {
        let location = try #require(Location(values: values(.location, ["code": "L1", "name": "De Boomhut", "lrkNumber": "123456789"])))
        #expect(location.code == "L1" && location.name == "De Boomhut" && location.lrkNumber == "123456789")
        #expect(Location(values: values(.location, ["code": "L1"])) == nil)
    }

    @Test func keysReadAndOrderAsTheirText() {
        let numbers: [ChildNumber] = ["K10", "K2", "K1"]
        #expect(numbers.sorted().map(\.description) == ["K1", "K10", "K2"])
        #expect(ChildNumber("1001").text == "1001")
        #expect(Set<ParentNumber>(["1001", "1001"]).texts == ["1001"])
    }
}
