import Foundation
import PortalStore
import TestSupport
import Testing

/// On the sample organisation, every group's list on every day of the horizon holds exactly the children
/// SPEC §4 gives. The expectation is computed here from the CSV files with its own small reading of the
/// rules, independent of opvangsync's builder.
@Suite struct AttendanceOracleTests {
    struct Row { let cells: [String: String] }

    /// The sample's CSV files are Windows-1252 with `;` and (in afwijkingen.csv) quoted line breaks.
    func read(_ file: String) throws -> [Row] {
        let data = try Data(contentsOf: URL(fileURLWithPath: Package.sample("zonnebloem") + "/" + file))
        let text = String(data: data, encoding: .windowsCP1252) ?? ""
        var records: [[String]] = [], field = "", record: [String] = [], quoted = false
        var characters = Array(text.unicodeScalars)[...]
        while let c = characters.popFirst() {
            if quoted {
                if c == "\"" { if characters.first == "\"" { field.unicodeScalars.append("\""); characters.removeFirst() } else { quoted = false } }
                else { field.unicodeScalars.append(c) }
            } else if c == "\"" { quoted = true }
            else if c == ";" { record.append(field); field = "" }
            else if c == "\n" { record.append(field); records.append(record); record = []; field = "" }
            else if c != "\r" { field.unicodeScalars.append(c) }
        }
        let header = records.removeFirst()
        return records.map { values in Row(cells: Dictionary(uniqueKeysWithValues: zip(header, values + Array(repeating: "", count: max(0, header.count - values.count))))) }
    }

    func date(_ text: String) -> Date? {
        let parts = text.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3 else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar.date(from: DateComponents(year: parts[2], month: parts[1], day: parts[0]))
    }

    @Test func everyGroupOnEveryDayListsExactlyTheRightChildren() throws {
        let folder = temporaryFolder("oracle")
        let result = try opvangsync(["import", Package.sample("zonnebloem"), "--as-of", "2026-11-22"], in: folder)
        #expect(result.status == 0, "\(result.stderr)")

        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let start = date("22-11-2026")!
        let days = (0...28).map { calendar.date(byAdding: .day, value: $0, to: start)! }
        let groups = try read("groepen.csv")
        let locationOf = Dictionary(uniqueKeysWithValues: groups.map { ($0.cells["Groepcode"]!, $0.cells["Locatiecode"]!) })
        let placements = try read("plaatsingen.csv"), deviations = try read("afwijkingen.csv"), periods = try read("kalender.csv")
        // Dutch closing holidays inside this horizon: Eerste and Tweede kerstdag.
        let holidays: Set<Date> = [date("25-12-2026")!, date("26-12-2026")!]
        let weekdayColumns = ["Maandag", "Dinsdag", "Woensdag", "Donderdag", "Vrijdag", "Zaterdag", "Zondag"]

        var expected: Set<String> = [], closedDays: Set<String> = []
        for group in groups.map({ $0.cells["Groepcode"]! }) {
            for day in days {
                let iso = ISO8601DateFormatter.string(from: day, timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withFullDate])
                func covers(_ period: Row) -> Bool {
                    date(period.cells["Van"]!)! <= day && day <= date(period.cells["Tot"]!)!
                        && (period.cells["Locatiecode"]!.isEmpty || period.cells["Locatiecode"] == locationOf[group])
                }
                if holidays.contains(day) || periods.contains(where: { $0.cells["Soort"] == "Sluitingsdag" && covers($0) }) {
                    closedDays.insert("\(group)|\(iso)")
                    continue
                }
                let schoolHoliday = periods.contains { $0.cells["Soort"] == "Schoolvakantie" && covers($0) }
                let weekday = (calendar.component(.weekday, from: day) + 5) % 7   // Monday = 0
                let week = calendar.component(.weekOfYear, from: day)
                var present: [String: String] = [:]   // child → "times" or "afwezig"
                for placement in placements where placement.cells["Groepcode"] == group {
                    let p = placement.cells
                    guard date(p["Ingangsdatum"]!)! <= day, p["Einddatum"]!.isEmpty || day <= date(p["Einddatum"]!)! else { continue }
                    let hours = p[weekdayColumns[weekday]] ?? ""
                    guard !hours.isEmpty else { continue }
                    if p["Weken"] == "even" && week % 2 != 0 || p["Weken"] == "oneven" && week % 2 != 1 { continue }
                    switch p["Contractsoort"] {
                    case "52 weken": break
                    case "Schoolweken": if schoolHoliday { continue }
                    case "Vakantie": if !schoolHoliday { continue }
                    default: continue
                    }
                    if present[p["Kindnummer"]!] == nil { present[p["Kindnummer"]!] = hours }
                }
                let todays = deviations.filter { $0.cells["Groepcode"] == group && date($0.cells["Datum"]!) == day }
                for deviation in todays where deviation.cells["Soort"] != "Afwezig" {
                    let child = deviation.cells["Kindnummer"]!
                    if present[child] == nil { present[child] = "extra" }
                }
                for deviation in todays where deviation.cells["Soort"] == "Afwezig" {
                    let child = deviation.cells["Kindnummer"]!
                    if present[child] != nil { present[child] = "afwezig" }
                }
                for (child, state) in present {
                    expected.insert("\(group)|\(iso)|\(child)|\(state == "afwezig" ? "afwezig" : "aanwezig")")
                }
            }
        }

        let database = try Database(path: folder.appendingPathComponent("portal.sqlite").path, mode: .queryOnly)
        let actual = Set(try database.query("SELECT group_code, date, child_number, absent FROM attendance") { row in
            "\(row.string(0)!)|\(row.string(1)!)|\(row.string(2)!)|\(row.int(3) == 1 ? "afwezig" : "aanwezig")"
        })
        let closed = Set(try database.query("SELECT group_code, date FROM attendance_days WHERE closed_reason IS NOT NULL") { row in
            "\(row.string(0)!)|\(row.string(1)!)"
        })
        #expect(expected.count > 500, "the sample exercises the lists")
        #expect(actual.subtracting(expected).sorted().prefix(10) == [], "on a list but not expected")
        #expect(expected.subtracting(actual).sorted().prefix(10) == [], "expected but missing from a list")
        #expect(closed == closedDays)
    }
}
