import Foundation
import Testing
import TestSupport
@testable import OpvangSync

/// The government's school-holiday file (rijksoverheid open data, infotype `schoolholidays`) and the
/// `schoolHolidays` configuration (SPEC §4 "Attendance lists", §6).
@Suite struct SchoolHolidayFileTests {
    static let fixture = Package.root.appendingPathComponent("Tests/Fixtures/schoolvakanties-2026-2027.json").path

    func day(_ iso: String) -> Day { Day(iso: iso)! }

    func holiday(_ calendar: SchoolHolidayCalendar, _ name: String, _ region: SchoolRegion?) -> SchoolHoliday? {
        calendar.holidays.first { $0.name == name && $0.region == region }
    }

    @Test func thePublishedFileBecomesHolidaysPerRegionInAmsterdamDates() throws {
        let calendar = try SchoolHolidayCalendar.load(SchoolHolidaySettings(files: [Self.fixture], region: .midden))
        #expect(calendar.holidays.count == 11)
        // "\n Herfstvakantie \n" is trimmed; 2026-10-18T21:59Z is 23:59 on the 18th in Amsterdam (summer time).
        let south = try #require(holiday(calendar, "Herfstvakantie", .zuid))
        #expect((south.from, south.to) == (day("2026-10-10"), day("2026-10-18")))
        #expect(south.schoolYear == "2026-2027")
        #expect(south.compulsory)
        // The 25th is the night summer time ends: 22:59Z is 23:59 winter time, still the 25th.
        let north = try #require(holiday(calendar, "Herfstvakantie", .noord))
        #expect((north.from, north.to) == (day("2026-10-17"), day("2026-10-25")))
        let christmas = try #require(holiday(calendar, "Kerstvakantie", nil))
        #expect((christmas.from, christmas.to) == (day("2026-12-19"), day("2027-01-03")))
        // A start written as local midnight in UTC (the evening before) is the next day.
        #expect(holiday(calendar, "Zomervakantie", .noord)?.from == day("2027-07-17"))
        #expect(holiday(calendar, "Meivakantie", nil)?.compulsory == false)
        #expect(calendar.coveredUntil == day("2027-09-05"))
    }

    @Test func aLocationHasItsRegionsHolidaysAndThoseOfTheWholeCountry() throws {
        let settings = SchoolHolidaySettings(files: [Self.fixture], region: .midden, regions: ["L3": .zuid])
        let calendar = try SchoolHolidayCalendar.load(settings)
        let autumn = day("2026-10-01")...day("2026-10-31")
        #expect(calendar.holidays(of: "L3", in: autumn).map(\.from) == [day("2026-10-10")])
        #expect(calendar.holidays(of: "L1", in: autumn).map(\.from) == [day("2026-10-17")])
        let winter = day("2026-12-01")...day("2027-01-10")
        #expect(calendar.holidays(of: "L3", in: winter).map(\.name) == ["Kerstvakantie"])
        // Without a region, only the holidays of the whole country.
        let unplaced = try SchoolHolidayCalendar.load(SchoolHolidaySettings(files: [Self.fixture], region: nil, regions: ["L3": .zuid]))
        #expect(unplaced.holidays(of: "L1", in: autumn).isEmpty)
        #expect(unplaced.holidays(of: "L1", in: winter).map(\.name) == ["Kerstvakantie"])
    }

    /// The fixture with `edit` applied to its text.
    func invalid(_ edit: (String) -> String) throws -> SchoolHolidayCalendar.Invalid? {
        let text = try String(contentsOfFile: Self.fixture, encoding: .utf8)
        let changed = edit(text)
        #expect(changed != text, "the edit must change the file")
        let file = temporaryFolder("holidays").appendingPathComponent("schoolvakanties.json")
        try Data(changed.utf8).write(to: file)
        return #expect(throws: SchoolHolidayCalendar.Invalid.self) {
            try SchoolHolidayCalendar.load(SchoolHolidaySettings(files: [file.path], region: .midden))
        }
    }

    @Test func aFileNotInThePublishedFormatIsAnErrorNamingTheFileAndWhatIsWrong() throws {
        let cases: [(String, (String) -> String)] = [
            ("a list of documents", { _ in "{\"content\": []}" }),
            ("a list of documents", { _ in "[]" }),
            ("\"content\"", { $0.replacingOccurrences(of: "\"content\": [", with: "\"inhoud\": [") }),
            ("\"schoolyear\"", { $0.replacingOccurrences(of: "\"2026-2027 \"", with: "\"2026\"") }),
            ("\"schoolyear\"", { $0.replacingOccurrences(of: "\"schoolyear\": \"2026-2027 \"", with: "\"schoolyear\": 2026") }),
            ("\"vacations\"", { $0.replacingOccurrences(of: "\"vacations\": [", with: "\"vacations\": \"geen\", \"x\": [") }),
            ("\"type\"", { $0.replacingOccurrences(of: "\"type\": \"\\n Meivakantie \\n\",", with: "") }),
            ("\"compulsorydates\"", { $0.replacingOccurrences(of: "\"compulsorydates\": \"false\"", with: "\"compulsorydates\": \"ja\"") }),
            ("\"oost\"", { $0.replacingOccurrences(of: "\"region\": \"zuid\"", with: "\"region\": \"oost\"") }),
            ("\"startdate\"", { $0.replacingOccurrences(of: "\"startdate\": \"2026-10-10T00:00:00.000Z\"", with: "\"startdate\": \"2026-10-10\"") }),
            ("\"enddate\"", { $0.replacingOccurrences(of: "\"enddate\": \"2026-10-18T21:59:00.000Z\"", with: "\"enddate\": null") }),
            ("ends before it starts", { $0.replacingOccurrences(of: "\"enddate\": \"2026-10-18T21:59:00.000Z\"", with: "\"enddate\": \"2026-10-01T21:59:00.000Z\"") }),
            ("outside school year", { $0.replacingOccurrences(of: "\"startdate\": \"2026-10-10T00:00:00.000Z\", \"enddate\": \"2026-10-18T21:59:00.000Z\"", with: "\"startdate\": \"2029-10-10T00:00:00.000Z\", \"enddate\": \"2029-10-18T21:59:00.000Z\"") }),
            ("more than 120 days", { $0.replacingOccurrences(of: "\"enddate\": \"2026-10-18T21:59:00.000Z\"", with: "\"enddate\": \"2027-10-18T21:59:00.000Z\"") }),
            ("\"regions\"", { $0.replacingOccurrences(of: "\"regions\": [\n              { \"region\": \"heel Nederland\", \"startdate\": \"2026-12-19T00:00:00.000Z\", \"enddate\": \"2027-01-03T22:59:00.000Z\" }\n            ]", with: "\"regions\": []") }),
            ("not valid JSON", { $0.replacingOccurrences(of: "\"title\": \"Schoolvakanties 2026-2027\",\n    \"content\"", with: "\"title\": \"Schoolvakanties 2026-2027\"\n    \"content\"") }),
        ]
        for (expected, edit) in cases {
            let error = try invalid(edit)
            let text = error?.description ?? ""
            #expect(text.contains(expected), "\(expected): \(text)")
            #expect(text.contains("schoolvakanties.json"), "the file is named: \(text)")
        }
        // Where in the file: the line and column of the value that is wrong.
        let region = try invalid { $0.replacingOccurrences(of: "\"region\": \"zuid\"", with: "\"region\": \"oost\"") }
        #expect(region?.line == 19)
        #expect(region?.column != nil)
    }

    @Test func aMissingFileIsAnErrorNamingIt() {
        let error = #expect(throws: SchoolHolidayCalendar.Invalid.self) {
            try SchoolHolidayCalendar.load(SchoolHolidaySettings(files: ["/nonexistent/schoolvakanties.json"], region: .noord))
        }
        #expect(error?.description.contains("/nonexistent/schoolvakanties.json") == true)
        #expect(error?.description.contains("schoolHolidays.file") == true)
    }

    @Test func aByteOrderMarkBeforeTheFileIsAllowed() throws {
        let file = temporaryFolder("holidays").appendingPathComponent("s.json")
        try Data([0xEF, 0xBB, 0xBF] + Array(try Data(contentsOf: URL(fileURLWithPath: Self.fixture)))).write(to: file)
        #expect(try SchoolHolidayCalendar.load(SchoolHolidaySettings(files: [file.path], region: .zuid)).holidays.count == 11)
    }

    @Test func aFileOfTooManyHolidaysOrNotAFileIsRefused() throws {
        let entry = #"{ "region": "noord", "startdate": "2026-10-17T00:00:00.000Z", "enddate": "2026-10-25T22:59:00.000Z" }"#
        let many = #"[{"content": [{"schoolyear": "2026-2027", "vacations": [{"type": "x", "compulsorydates": "true", "regions": ["#
            + Array(repeating: entry, count: 1001).joined(separator: ",") + "]}]}]}]"
        let file = temporaryFolder("holidays").appendingPathComponent("many.json")
        try Data(many.utf8).write(to: file)
        let error = #expect(throws: SchoolHolidayCalendar.Invalid.self) { try SchoolHolidayCalendar.load(SchoolHolidaySettings(files: [file.path], region: .noord)) }
        #expect(error?.reason.contains("more than 1000") == true)
        let folder = temporaryFolder("holidays")
        let notFile = #expect(throws: SchoolHolidayCalendar.Invalid.self) { try SchoolHolidayCalendar.load(SchoolHolidaySettings(files: [folder.path], region: .noord)) }
        #expect(notFile?.reason.contains("not a regular file") == true)
    }

    @Test func theBooleanFormOfCompulsoryDatesIsReadToo() throws {
        let text = try String(contentsOfFile: Self.fixture, encoding: .utf8).replacingOccurrences(of: "\"compulsorydates\": \"false\"", with: "\"compulsorydates\": false")
        let file = temporaryFolder("holidays").appendingPathComponent("s.json")
        try Data(text.utf8).write(to: file)
        let calendar = try SchoolHolidayCalendar.load(SchoolHolidaySettings(files: [file.path], region: .zuid))
        #expect(holiday(calendar, "Meivakantie", nil)?.compulsory == false)
    }

    @Test func aHorizonPastTheFileAndALocationWithoutRegionAreReported() throws {
        let calendar = try SchoolHolidayCalendar.load(SchoolHolidaySettings(files: [Self.fixture], region: nil, regions: ["L1": .noord]))
        var inputs = AttendanceInputs()
        inputs.groups = ["G1": .init(code: "G1", location: "L1", name: "A", careType: "KDV", capacity: nil), "G2": .init(code: "G2", location: "L2", name: "B", careType: "KDV", capacity: nil)]
        let builder = AttendanceBuilder(holidays: HolidayCalendar(), schoolHolidays: calendar)
        let late = builder.schoolHolidayIssues(inputs, days: day("2027-08-20")...day("2027-09-17"))
        #expect(late.map(\.code).sorted() == ["school-holiday-region-unknown", "school-holidays-outdated"])
        #expect(late.first { $0.code == "school-holiday-region-unknown" }?.message.contains("L2") == true)
        #expect(late.first { $0.code == "school-holidays-outdated" }?.message.contains("05-09-2027") == true)
        let inside = builder.schoolHolidayIssues(inputs, days: day("2026-10-01")...day("2026-10-29"))
        #expect(inside.map(\.code) == ["school-holiday-region-unknown"])
        #expect(AttendanceBuilder(holidays: HolidayCalendar()).schoolHolidayIssues(inputs, days: day("2027-08-20")...day("2027-09-17")).isEmpty)
    }
}

@Suite struct SchoolHolidayConfigurationTests {
    func configuration(_ json: String) throws(Configuration.Failure) -> Configuration {
        let root: JSONNode
        do { root = try JSONParser.parse(Array(json.utf8)) } catch { throw Configuration.Failure(path: "t.json", key: nil, reason: "\(error)") }
        return try Configuration(root: root, path: "/etc/opvangsync/opvangsync.json")
    }

    @Test func theSettingsAreReadAtTheTopAndPerOrganisation() throws {
        let read = try configuration("""
            {"schoolHolidays": {"file": "schoolvakanties.json", "region": "midden", "regions": {"LOC002": "zuid"}},
             "organisations": [{"id": "a"}, {"id": "b", "schoolHolidays": {"file": ["/srv/s1.json", "/srv/s2.json"], "region": "noord"}}]}
            """)
        let a = try read.settings(for: "a"), b = try read.settings(for: "b")
        #expect(a.schoolHolidays == SchoolHolidaySettings(files: ["/etc/opvangsync/schoolvakanties.json"], region: .midden, regions: ["LOC002": .zuid]))
        #expect(a.schoolHolidays?.region(of: "LOC002") == .zuid)
        #expect(a.schoolHolidays?.region(of: "LOC001") == .midden)
        #expect(b.schoolHolidays == SchoolHolidaySettings(files: ["/srv/s1.json", "/srv/s2.json"], region: .noord))
    }

    @Test func badSettingsNameTheirKey() {
        let cases: [(String, String)] = [
            (#"{"schoolHolidays": {"file": "s.json", "region": "oost"}}"#, "schoolHolidays.region"),
            (#"{"schoolHolidays": {"file": "s.json", "regions": {"L1": "Zuid"}}}"#, "schoolHolidays.regions.L1"),
            (#"{"schoolHolidays": {"region": "zuid"}}"#, "schoolHolidays.file"),
            (#"{"schoolHolidays": {"file": "s.json"}}"#, "schoolHolidays.region"),
            (#"{"schoolHolidays": {"file": "s.json", "region": "zuid", "url": "https://x"}}"#, "schoolHolidays.url"),
            (#"{"schoolHolidays": "s.json"}"#, "schoolHolidays"),
            (#"{"organisations": [{"id": "a", "schoolHolidays": {"file": "", "region": "zuid"}}]}"#, "organisations[0].schoolHolidays.file"),
        ]
        for (json, key) in cases {
            let error = #expect(throws: Configuration.Failure.self, "\(json)") { try configuration(json) }
            #expect(error?.key == key, "\(json): \(error?.description ?? "")")
        }
    }
}

/// The report's school holidays within the rebuilt days: one span per holiday and source, over every day and
/// group it holds for.
@Suite struct SchoolHolidaySpanTests {
    @Test func aSpanCoversEveryDayAndCountsEveryGroupItHoldsFor() {
        let autumn = SchoolHolidaySource(name: "Herfstvakantie", origin: .rijksoverheid, region: "zuid", schoolYear: "2026-2027")
        let closed = SchoolHolidaySource(name: "Studiedag", origin: .kalender, region: nil, schoolYear: nil)
        var spans = SchoolHolidaySpans()
        // Groups in turn, each over its days (as the lists are rebuilt), a day out of order, a group twice.
        for group in ["G1", "G2", "G3"] {
            for iso in ["2026-10-12", "2026-10-13", "2026-10-10", "2026-10-18"] { spans.add(autumn, day: Day(iso: iso)!, group: group) }
        }
        spans.add(autumn, day: Day(iso: "2026-10-14")!, group: "G2")
        spans.add(closed, day: Day(iso: "2026-10-20")!, group: "G3")
        let list = spans.list ?? []
        #expect(list.map(\.name) == ["Herfstvakantie", "Studiedag"])
        #expect(list.map(\.from) == ["2026-10-10", "2026-10-20"])
        #expect(list.map(\.to) == ["2026-10-18", "2026-10-20"])
        #expect(list.map(\.groups) == [3, 1])
        #expect(SchoolHolidaySpans().list == nil)
    }
}

