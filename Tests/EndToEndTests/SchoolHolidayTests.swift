import Foundation
import OpvangSync
import PortalStore
import TestSupport
import Testing

/// SPEC §4: school holidays from the government's open-data file, per region, merged with the export's
/// `Schoolvakantie` rows. A child with a `Schoolweken` contract is off the list only in its own location's
/// region's holidays; the lists, the report and `attendance show` name where a holiday comes from.
@Suite struct SchoolHolidayEndToEndTests {
    static let fixture = Package.root.appendingPathComponent("Tests/Fixtures/schoolvakanties-2026-2027.json").path

    /// Three locations, one per region (L2 by the default region), each with a BSO group holding a child on a
    /// `Schoolweken` contract and one on `52 weken`; L3 also has a child on a `Vakantie` contract.
    static func export() -> MiniExport {
        var export = MiniExport()
        export["locaties.csv"] = ["Locatiecode;Naam", "L1;Noord", "L2;Midden", "L3;Zuid"]
        export["groepen.csv"] = ["Groepcode;Locatiecode;Naam;Opvangsoort;Capaciteit", "G1;L1;Noorderlicht;BSO;20", "G2;L2;Middenweg;BSO;20", "G3;L3;Zuiderzon;BSO;20"]
        export["medewerkers.csv"] = ["Medewerkernummer;Voornaam;Achternaam;Groepcodes", "M1;Anne;Bakker;G1|G2|G3"]
        var children = ["Kindnummer;Roepnaam;Tussenvoegsel;Achternaam;Geboortedatum;Mentor"]
        var parents = ["Oudernummer;Voornaam;Achternaam;E-mail;E-mail 2"]
        var relations = ["Kindnummer;Oudernummer;Rol"]
        var placements = ["Plaatsingsnummer;Kindnummer;Groepcode;Opvangsoort;Contractsoort;Ingangsdatum;Einddatum;Maandag;Dinsdag;Woensdag;Donderdag;Vrijdag;Weken"]
        let week = Array(repeating: "14:00-18:30", count: 5).joined(separator: ";")
        for (group, contracts) in [("1", ["Schoolweken", "52 weken"]), ("2", ["Schoolweken", "52 weken"]), ("3", ["Schoolweken", "52 weken", "Vakantie"])] {
            for (index, contract) in contracts.enumerated() {
                let child = "K\(group)\(index)"
                children.append("\(child);Kind;;\(group)\(index);01-01-2019;M1")
                parents.append("O\(group)\(index);Ouder;\(group)\(index);;")
                relations.append("\(child);O\(group)\(index);Ouder 1")
                placements.append("P\(group)\(index);\(child);G\(group);BSO;\(contract);01-09-2025;;\(week);alle")
            }
        }
        export["kinderen.csv"] = children
        export["ouders.csv"] = parents
        export["relaties.csv"] = relations
        export["plaatsingen.csv"] = placements
        export["afwijkingen.csv"] = ["Kindnummer;Groepcode;Datum;Soort;Van;Tot;Omschrijving"]
        // The planning system's own calendar: Christmas for everyone, and a week off for the school of L2 only.
        export["kalender.csv"] = ["Van;Tot;Soort;Locatiecode;Omschrijving", "19-12-2026;03-01-2027;Schoolvakantie;;Kerstvakantie",
                                  "02-11-2026;06-11-2026;Schoolvakantie;L2;Extra vrije week"]
        export.exportedAt = "2026-10-04T23:40:00+02:00"
        return export
    }

    func workFolder(_ name: String, horizon: Int = 45, holidayFile: String = fixture) throws -> URL {
        let folder = temporaryFolder(name)
        let config = """
            {"portalUrl": "https://mini.example", "rules": {"attendanceHorizonDays": \(horizon), "maxExportAgeHours": 2000},
             "schoolHolidays": {"file": \(quoted(holidayFile)), "region": "midden", "regions": {"L1": "noord", "L3": "zuid"}}}
            """
        try Data(config.utf8).write(to: folder.appendingPathComponent("opvangsync.json"))
        return folder
    }

    func quoted(_ text: String) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: [text]), as: UTF8.self).dropFirst().dropLast().description
    }

    struct ListDay: Decodable {
        struct Child: Decodable { let number: String }
        let date: String
        let closed: String?
        let schoolHoliday: String?
        let children: [Child]
    }

    func lists(_ group: String, from: String, days: Int, in folder: URL) throws -> [ListDay] {
        let result = try opvangsync(["attendance", "show", "--group", group, "--date", from, "--days", "\(days)", "--format", "json"], in: folder)
        #expect(result.status == 0, "\(result.stderr)")
        return try JSONDecoder().decode([ListDay].self, from: Data(result.stdout.utf8))
    }

    func day(_ iso: String) -> Day { Day(iso: iso)! }

    @Test func schoolweekChildrenAreOffTheListOnlyInTheirOwnRegionsHolidays() throws {
        let folder = try workFolder("regions")
        let export = try Self.export().write(to: folder.appendingPathComponent("export"))
        let result = try opvangsync(["import", export.path, "--as-of", "2026-10-05"], in: folder)
        #expect(result.status == 0, "\(result.stderr)")

        // The autumn holiday: zuid 10-18 October, noord and midden 17-25 October; L2's school has its own week off.
        let off: [String: ClosedRange<Day>?] = ["1": day("2026-10-17")...day("2026-10-25"), "2": day("2026-10-17")...day("2026-10-25"),
                                                "3": day("2026-10-10")...day("2026-10-18")]
        for group in ["1", "2", "3"] {
            let days = try lists("G\(group)", from: "2026-10-05", days: 46, in: folder)
            #expect(days.count == 46)
            for listed in days {
                let date = day(listed.date)
                guard date.isoWeekday <= 5 else { continue }
                let inHoliday = off[group]!!.contains(date) || (group == "2" && (day("2026-11-02")...day("2026-11-06")).contains(date))
                let numbers = Set(listed.children.map(\.number))
                #expect(numbers.contains("K\(group)1"), "G\(group) \(listed.date): the 52-weken child comes every weekday")
                #expect(numbers.contains("K\(group)0") == !inHoliday, "G\(group) \(listed.date): school weeks only outside the region's holidays")
                if group == "3" { #expect(numbers.contains("K32") == inHoliday, "\(listed.date): the holiday contract only in holidays") }
                #expect((listed.schoolHoliday != nil) == inHoliday, "G\(group) \(listed.date): \(listed.schoolHoliday ?? "no note")")
            }
        }
        // Each day names where its holiday comes from.
        let south = try lists("G3", from: "2026-10-12", days: 1, in: folder)[0]
        #expect(south.schoolHoliday == "Herfstvakantie (regio zuid; schoolvakanties van de rijksoverheid, schooljaar 2026-2027)")
        let own = try lists("G2", from: "2026-11-03", days: 1, in: folder)[0]
        #expect(own.schoolHoliday == "Extra vrije week (kalender van het planningssysteem)")
        let table = try opvangsync(["attendance", "show", "--group", "G1", "--date", "2026-10-19"], in: folder)
        #expect(table.stdout.contains("Schoolvakantie: Herfstvakantie (regio noord; schoolvakanties van de rijksoverheid, schooljaar 2026-2027)"), "\(table.stdout)")

        // The report lists the holidays within the lists' days with their source.
        let report = try reportJSON(of: result, in: folder)
        let spans = (report["attendance"] as? [String: Any])?["schoolHolidays"] as? [[String: Any]] ?? []
        let zuid = spans.first { $0["region"] as? String == "zuid" }
        #expect(zuid?["source"] as? String == "rijksoverheid")
        #expect((zuid?["from"] as? String, zuid?["to"] as? String, zuid?["groups"] as? Int) == ("2026-10-10", "2026-10-18", 1))
        #expect(spans.contains { $0["source"] as? String == "kalender" && $0["name"] as? String == "Extra vrije week" })
        let markdown = try String(contentsOfFile: String(result.stdout.split(separator: "\n").first { $0.hasPrefix("report: ") }!.dropFirst(8)), encoding: .utf8)
        #expect(markdown.contains("- Herfstvakantie (regio zuid; schoolvakanties van de rijksoverheid, schooljaar 2026-2027): 10-10-2026 t/m 18-10-2026, 1 groep"))

        // Planning verversen builds the same lists from the same sources.
        let refresh = try opvangsync(["attendance", "refresh", "--group", "G3", "--as-of", "2026-10-05"], in: folder)
        #expect(refresh.status == 0, "\(refresh.stderr)")
        #expect(refresh.stdout.contains("0 erbij, 0 eraf, 0 gewijzigd"), "\(refresh.stdout)")
    }

    @Test func aHolidayInBothSourcesNamesBoth() throws {
        let folder = try workFolder("christmas", horizon: 28)
        var export = Self.export()
        export.exportedAt = "2026-12-13T23:40:00+01:00"
        let written = try export.write(to: folder.appendingPathComponent("export"))
        let result = try opvangsync(["import", written.path, "--as-of", "2026-12-14"], in: folder)
        #expect(result.status == 0, "\(result.stderr)")
        for group in ["G1", "G2", "G3"] {
            let listed = try lists(group, from: "2026-12-21", days: 1, in: folder)[0]
            #expect(listed.schoolHoliday == "Kerstvakantie (heel Nederland; schoolvakanties van de rijksoverheid, schooljaar 2026-2027); Kerstvakantie (kalender van het planningssysteem)")
            #expect(!listed.children.contains { $0.number.hasSuffix("0") }, "\(group): no school-week child at Christmas")
            // Eerste kerstdag is a closing day: no list, whatever the schools do.
            #expect(try lists(group, from: "2026-12-25", days: 1, in: folder)[0].closed != nil)
        }
    }

    /// A location without a region is named in every report, also by an incremental run that rebuilds the
    /// lists of another location only (a second export on the same day gains no days to build for the rest).
    @Test func aLocationWithoutARegionIsNamedByEveryRunWhateverItRebuilds() throws {
        let folder = temporaryFolder("no-region")
        let config = """
            {"rules": {"maxExportAgeHours": 2000}, "schoolHolidays": {"file": \(quoted(Self.fixture)), "regions": {"L01": "noord"}}}
            """
        try Data(config.utf8).write(to: folder.appendingPathComponent("opvangsync.json"))
        var export = MiniExport.locations(2)
        func regionUnknown(_ written: URL) throws -> (mode: String?, locations: [String]) {
            let result = try opvangsync(["import", written.path, "--as-of", "2026-11-22"], in: folder)
            #expect(result.status == 0, "\(result.stderr)")
            let report = try reportJSON(of: result, in: folder)
            let messages = (report["issues"] as? [[String: Any]] ?? []).filter { $0["code"] as? String == "school-holiday-region-unknown" }
            return ((report["comparison"] as? [String: Any])?["mode"] as? String,
                    messages.compactMap { $0["message"] as? String }.map { $0.contains("L02") ? "L02" : "?" })
        }
        let first = try regionUnknown(export.night("2026-11-22", in: folder))
        #expect(first.mode == "full" && first.locations == ["L02"])
        // The same day, a second export: a family at L01 changed.
        export["ouders.csv"] = export["ouders.csv"].map { $0.hasPrefix("O0101;") ? "O0101;Ouder;Anders;ouder.k0101@example.nl;" : $0 }
        export.exportedAt = "2026-11-22T05:00:00+01:00"
        let second = try regionUnknown(export.write(to: folder.appendingPathComponent("second")))
        #expect(second.mode == "incremental" && second.locations == ["L02"], "\(second)")
    }

    @Test func aBrokenHolidayFileIsAConfigurationErrorAndNothingIsRun() throws {
        let broken = temporaryFolder("broken-file").appendingPathComponent("schoolvakanties.json")
        let text = try String(contentsOfFile: Self.fixture, encoding: .utf8).replacingOccurrences(of: "\"region\": \"zuid\"", with: "\"region\": \"zuidwest\"")
        try Data(text.utf8).write(to: broken)
        let folder = try workFolder("broken", holidayFile: broken.path)
        let export = try Self.export().write(to: folder.appendingPathComponent("export"))
        let result = try opvangsync(["import", export.path, "--as-of", "2026-10-05"], in: folder)
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains(broken.path) && result.stderr.contains("zuidwest") && result.stderr.contains("line 19"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("portal.sqlite").path))
    }
}
