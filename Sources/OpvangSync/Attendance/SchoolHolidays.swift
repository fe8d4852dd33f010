import Foundation

/// The school-holiday regions of the Netherlands, as the government publishes them.
public enum SchoolRegion: String, CaseIterable, Sendable, Codable {
    case noord, midden, zuid
}

/// Where an organisation's school holidays come from (`schoolHolidays` in the configuration): the government's
/// open-data file, the region of most locations, and the locations in another region.
public struct SchoolHolidaySettings: Sendable, Equatable {
    /// The files as the rijksoverheid open-data service publishes them (one per school year).
    public var files: [String]
    /// The region of every location not in `regions`; nil: such a location gets no school holidays from the files.
    public var region: SchoolRegion?
    /// Locatiecode → region.
    public var regions: [String: SchoolRegion] = [:]

    public init(files: [String], region: SchoolRegion?, regions: [String: SchoolRegion] = [:]) {
        self.files = files
        self.region = region
        self.regions = regions
    }

    /// The region of a location, or nil.
    public func region(of location: String) -> SchoolRegion? { regions[location] ?? region }
}

/// One school holiday of one region, or of the whole country, from the government's file.
public struct SchoolHoliday: Sendable, Equatable {
    /// `Herfstvakantie`, as published (trimmed).
    public let name: String
    /// nil: heel Nederland.
    public let region: SchoolRegion?
    public let from: Day
    public let to: Day
    /// `2026-2027`.
    public let schoolYear: String
    /// False when the dates are advice: schools may choose their own (the service's `compulsorydates`).
    public let compulsory: Bool
}

/// Where a school-holiday day on a list comes from: the government's file for the location's region, or a
/// `Schoolvakantie` row of the export's calendar. The report and `attendance show` name it.
public struct SchoolHolidaySource: Codable, Sendable, Hashable {
    public enum Origin: String, Codable, Sendable { case rijksoverheid, kalender }
    public var name: String
    public var origin: Origin
    /// `noord`, `midden`, `zuid` or `heel Nederland`; nil for a calendar row.
    public var region: String?
    public var schoolYear: String?

    /// "Herfstvakantie (regio zuid; schoolvakanties van de rijksoverheid, schooljaar 2026-2027)".
    public var dutch: String {
        switch origin {
        case .rijksoverheid:
            let area = region == "heel Nederland" ? "heel Nederland" : "regio \(region ?? "?")"
            return "\(name) (\(area); schoolvakanties van de rijksoverheid, schooljaar \(schoolYear ?? "?"))"
        case .kalender:
            return "\(name) (kalender van het planningssysteem)"
        }
    }
}

/// The school holidays of the government's files, per region.
public struct SchoolHolidayCalendar: Sendable {
    public let settings: SchoolHolidaySettings?
    public let holidays: [SchoolHoliday]
    /// The last day the files speak for: past it a region's holidays are unknown.
    public let coveredUntil: Day?

    public static let none = SchoolHolidayCalendar(settings: nil, holidays: [], coveredUntil: nil)

    init(settings: SchoolHolidaySettings?, holidays: [SchoolHoliday], coveredUntil: Day?) {
        self.settings = settings
        self.holidays = holidays
        self.coveredUntil = coveredUntil
    }

    /// A file that is not as the service publishes it: a configuration error (exit 2) naming the file,
    /// where in it, and what is wrong.
    public struct Invalid: Error, Sendable, CustomStringConvertible {
        public let file: String
        public let line: Int?
        public let column: Int?
        public let reason: String
        public var description: String {
            "school-holiday file \(file) (configuration key schoolHolidays.file)"
                + (line.map { ": line \($0)" + (column.map { ", column \($0)" } ?? "") } ?? "") + ": \(reason)"
        }
    }

    /// The largest file accepted: a published school year is about 10 KB.
    static let maxBytes = 16 << 20
    /// The most holidays one file may hold: a school year has about fifteen (five holidays, three regions).
    static let maxHolidays = 1000

    /// The organisation's school holidays; a file that cannot be used is a usage error (exit 2), as any
    /// configuration fault is.
    public static func configured(_ settings: OrganisationSettings) throws(UsageError) -> SchoolHolidayCalendar {
        do {
            return try load(settings.schoolHolidays)
        } catch {
            throw UsageError(error.description)
        }
    }

    /// Reads the configured files; without settings, no school holidays come from files.
    public static func load(_ settings: SchoolHolidaySettings?) throws(Invalid) -> SchoolHolidayCalendar {
        guard let settings else { return .none }
        var holidays: [SchoolHoliday] = []
        var covered: Day?
        for file in settings.files {
            let (read, until) = try parse(file: file)
            holidays += read
            covered = max(covered ?? until, until)
        }
        return SchoolHolidayCalendar(settings: settings, holidays: holidays, coveredUntil: covered)
    }

    static func parse(file: String) throws(Invalid) -> ([SchoolHoliday], Day) {
        func fail(_ node: JSONNode?, _ reason: String) -> Invalid { Invalid(file: file, line: node?.line, column: node?.column, reason: reason) }
        var bytes = try contents(file)
        // A browser's "save as" may put a UTF-8 byte order mark before the service's JSON.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        let root: JSONNode
        do {
            root = try JSONParser.parse(bytes)
        } catch {
            throw Invalid(file: file, line: error.line, column: error.column, reason: "not valid JSON: \(error.reason)")
        }
        return try parse(root, fail: fail)
    }

    /// The published shape: `[{"content": [{"schoolyear": "2026-2027", "vacations": [{"type": "…",
    /// "compulsorydates": "true", "regions": [{"region": "noord", "startdate": "…Z", "enddate": "…Z"}]}]}]}]`.
    /// Other keys (id, title, notice, …) are the service's own and are not read.
    static func parse(_ root: JSONNode, fail: (JSONNode?, String) -> Invalid) throws(Invalid) -> ([SchoolHoliday], Day) {
        let shape = "as the rijksoverheid open-data service publishes it (infotype schoolholidays)"
        guard let documents = root.elements, !documents.isEmpty else {
            throw fail(root, "the file must be a list of documents \(shape), found \(root.elements == nil ? root.kindName : "an empty list")")
        }
        var holidays: [SchoolHoliday] = []
        var covered: Day?
        for document in documents {
            guard document.members != nil else { throw fail(document, "each document must be an object with \"content\"") }
            guard let contents = document["content"]?.elements, !contents.isEmpty else {
                throw fail(document["content"] ?? document, "a document must have \"content\": a list with the school year and its vacations")
            }
            for content in contents {
                guard content.members != nil else { throw fail(content, "each entry of \"content\" must be an object") }
                guard let yearNode = content["schoolyear"], let yearText = yearNode.string?.trimmingUnicodeSpace else {
                    throw fail(content["schoolyear"] ?? content, "\"schoolyear\" is missing or not a text such as \"2026-2027\"")
                }
                let years = yearText.split(separator: "-").map { Int($0) }
                guard years.count == 2, let first = years[0], let second = years[1], second == first + 1,
                      let end = Day(year: second, month: 7, day: 31), let earliest = Day(year: first, month: 7, day: 1),
                      let latest = Day(year: second, month: 9, day: 30) else {
                    throw fail(yearNode, "\"schoolyear\" must be two years in a row such as \"2026-2027\", found \(Mapping.quoted(String(yearText.prefix(40))))")
                }
                guard let vacations = content["vacations"]?.elements else {
                    throw fail(content["vacations"] ?? content, "\"vacations\" is missing or not a list")
                }
                var last = end
                for vacation in vacations {
                    guard vacation.members != nil else { throw fail(vacation, "each vacation must be an object") }
                    guard let name = vacation["type"]?.string?.trimmingUnicodeSpace, !name.isEmpty else {
                        throw fail(vacation["type"] ?? vacation, "a vacation's \"type\" (such as \"Herfstvakantie\") is missing or empty")
                    }
                    guard name.utf8.count <= 100, !name.unicodeScalars.contains(where: { UnicodeText.isControl($0) }) else {
                        throw fail(vacation["type"], "a vacation's \"type\" is longer than 100 bytes or holds a control character")
                    }
                    let compulsoryNode = vacation["compulsorydates"]
                    let compulsory: Bool
                    switch compulsoryNode?.string?.trimmingUnicodeSpace.lowercased() ?? compulsoryNode?.bool.map({ $0 ? "true" : "false" }) {
                    case "true": compulsory = true
                    case "false": compulsory = false
                    default: throw fail(compulsoryNode ?? vacation, "\"compulsorydates\" of \(name) must be \"true\" or \"false\"")
                    }
                    guard let regions = vacation["regions"]?.elements, !regions.isEmpty else {
                        throw fail(vacation["regions"] ?? vacation, "\(name) has no \"regions\" list")
                    }
                    for entry in regions {
                        guard entry.members != nil else { throw fail(entry, "each region of \(name) must be an object") }
                        guard let regionText = entry["region"]?.string?.trimmingUnicodeSpace else {
                            throw fail(entry["region"] ?? entry, "a region of \(name) has no \"region\"")
                        }
                        let region: SchoolRegion?
                        if regionText.lowercased() == "heel nederland" {
                            region = nil
                        } else if let known = SchoolRegion(rawValue: regionText.lowercased()) {
                            region = known
                        } else {
                            throw fail(entry["region"], "region \(Mapping.quoted(String(regionText.prefix(40)))) of \(name) is none of noord, midden, zuid and heel Nederland")
                        }
                        func day(_ key: String) throws(Invalid) -> Day {
                            guard let node = entry[key], let text = node.string, let instant = Manifest.parseTimestamp(text.trimmingUnicodeSpace),
                                  let day = SchoolHolidayCalendar.amsterdamDay(instant) else {
                                throw fail(entry[key] ?? entry, "\"\(key)\" of \(name) (\(regionText)) must be an ISO-8601 time with its zone, such as \"2026-10-10T00:00:00.000Z\"")
                            }
                            return day
                        }
                        let from = try day("startdate"), to = try day("enddate")
                        guard from <= to else { throw fail(entry["enddate"], "\(name) (\(regionText)) ends before it starts") }
                        guard from.days(until: to) <= 120 else { throw fail(entry["enddate"], "\(name) (\(regionText)) lasts more than 120 days; no school holiday does") }
                        guard earliest <= from, to <= latest else {
                            throw fail(entry["startdate"], "\(name) (\(regionText)) lies outside school year \(yearText) (\(from.iso) to \(to.iso))")
                        }
                        guard holidays.count < maxHolidays else { throw fail(entry, "more than \(maxHolidays) holidays; a school year has about fifteen") }
                        holidays.append(SchoolHoliday(name: name, region: region, from: from, to: to, schoolYear: yearText, compulsory: compulsory))
                        last = max(last, to)
                    }
                }
                // A school year speaks for itself and for its summer holiday, wherever that ends.
                covered = max(covered ?? last, last)
            }
        }
        guard let covered else { throw fail(root, "the file holds no school year") }
        return (holidays, covered)
    }

    /// The day an instant falls on in Europe/Amsterdam: the service writes a holiday's last day as 23:59 local
    /// time in UTC (`2026-10-18T21:59:00.000Z`), its first as midnight UTC or local.
    static func amsterdamDay(_ instant: Date) -> Day? {
        guard let zone = TimeZone(identifier: "Europe/Amsterdam") else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let parts = calendar.dateComponents([.year, .month, .day], from: instant)
        guard let year = parts.year, let month = parts.month, let day = parts.day else { return nil }
        return Day(year: year, month: month, day: day)
    }

    /// The file's bytes; the configuration is trusted, but the file came from the internet: its size is bounded.
    static func contents(_ file: String) throws(Invalid) -> [UInt8] {
        var info = stat()
        guard stat(file, &info) == 0 else {
            throw Invalid(file: file, line: nil, column: nil, reason: "cannot be read (\(String(cString: strerror(errno)))); download it from the rijksoverheid open-data service")
        }
        guard info.st_mode & S_IFMT == S_IFREG else { throw Invalid(file: file, line: nil, column: nil, reason: "is not a regular file") }
        guard info.st_size <= maxBytes else {
            throw Invalid(file: file, line: nil, column: nil, reason: "is \(info.st_size / 1_048_576) MB; a school-holiday file is a few KB")
        }
        guard let data = FileManager.default.contents(atPath: file), data.count <= maxBytes else {
            throw Invalid(file: file, line: nil, column: nil, reason: "cannot be read")
        }
        return Array(data)
    }

    /// The government's holidays of `location` that touch `days`.
    func holidays(of location: String, in days: ClosedRange<Day>) -> [SchoolHoliday] {
        guard let settings, !holidays.isEmpty else { return [] }
        let region = settings.region(of: location)
        return holidays.filter { holiday in
            holiday.to >= days.lowerBound && holiday.from <= days.upperBound
                && (holiday.region == nil || (region != nil && holiday.region == region))
        }
    }
}
