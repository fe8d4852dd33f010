import Foundation
import OpvangSync
import PortalStore
import TestSupport
import Testing

/// SPEC §4 "Attendance lists" through the built binary, on an organisation made for the purpose.
/// The run date is Monday 30-11-2026 (ISO week 49, odd); the horizon reaches Monday 28-12-2026.
@Suite struct AttendanceTests {
    static let asOf = "2026-11-30"

    static func export() -> MiniExport {
        var export = MiniExport()
        export["locaties.csv"] = ["Locatiecode;Naam", "L1;De Zonnebloem", "L2;Het Kabouterhuis"]
        export["groepen.csv"] = ["Groepcode;Locatiecode;Naam;Opvangsoort;Capaciteit",
                                 "G1;L1;Egeltjes;KDV;1", "G2;L1;Uilen;BSO;20", "G3;L2;Vlinders;KDV;12"]
        export["medewerkers.csv"] = ["Medewerkernummer;Voornaam;Achternaam;Groepcodes", "M1;Anne;Bakker;G1|G2|G3"]
        let children = (1...8).map { "K\($0);Kind\($0);;Test;01-01-2022;M1" }
        export["kinderen.csv"] = ["Kindnummer;Roepnaam;Tussenvoegsel;Achternaam;Geboortedatum;Mentor"] + children
        export["ouders.csv"] = ["Oudernummer;Voornaam;Achternaam;E-mail;E-mail 2"] + (1...8).map { "O\($0);Ouder;Test;ouder\($0)@example.nl;" }
        export["relaties.csv"] = ["Kindnummer;Oudernummer;Rol"] + (1...8).map { "K\($0);O\($0);Ouder 1" }
        export["plaatsingen.csv"] = [
            "Plaatsingsnummer;Kindnummer;Groepcode;Opvangsoort;Contractsoort;Ingangsdatum;Einddatum;Maandag;Dinsdag;Woensdag;Donderdag;Vrijdag;Weken",
            "P1;K1;G1;KDV;52 weken;01-01-2025;;07:30-18:00;07:30-18:00;07:30-18:00;07:30-18:00;07:30-18:00;",
            "P2;K2;G2;BSO;Schoolweken;01-01-2025;;14:00-18:30;;;;;",
            "P3;K3;G2;BSO;Vakantie;01-01-2025;;08:00-18:00;08:00-18:00;08:00-18:00;08:00-18:00;08:00-18:00;",
            "P4;K4;G1;KDV;Flexibel;01-01-2025;;;;;;;",
            "P5;K5;G1;KDV;52 weken;01-01-2025;;;07:30-18:00;;;;even",
            "P6;K6;G1;KDV;52 weken;09-12-2026;;;;08:00-17:00;;;",
            "P7;K7;G1;KDV;52 weken;01-01-2025;10-12-2026;;;;07:30-18:00;;",
            "P8;K8;G3;KDV;52 weken;01-01-2025;;07:30-18:00;07:30-18:00;07:30-18:00;07:30-18:00;07:30-18:00;",
            "P9;K1;G2;BSO;52 weken;01-01-2025;;14:00-18:30;;;;;",
        ]
        export["afwijkingen.csv"] = ["Kindnummer;Groepcode;Datum;Soort;Van;Tot;Omschrijving",
                                     "K1;G1;01-12-2026;Afwezig;;;ziek",
                                     "K4;G1;02-12-2026;Extra dag;09:00;13:00;flexibele dag",
                                     "K5;G1;01-12-2026;Ruildag;;;"]
        export["kalender.csv"] = ["Van;Tot;Soort;Locatiecode;Omschrijving",
                                  "19-12-2026;03-01-2027;Schoolvakantie;;Kerstvakantie",
                                  "07-12-2026;07-12-2026;Sluitingsdag;L1;Studiedag team"]
        export.exportedAt = "2026-11-29T23:40:00+01:00"
        return export
    }

    /// Imports, then returns `attendance show` as JSON for each group over the whole horizon.
    func setUp(_ name: String) throws -> URL {
        let folder = temporaryFolder(name)
        let path = try Self.export().write(to: folder.appendingPathComponent("export"))
        let result = try opvangsync(["import", path.path, "--as-of", Self.asOf], in: folder)
        #expect(result.status == 0, "\(result.stderr)")
        return folder
    }

    /// "K1 07:30-18:00" per child on the group's list for the day; absent children as "K1 afwezig: ziek".
    func list(_ folder: URL, _ group: String, _ date: String) throws -> [String] {
        let result = try opvangsync(["attendance", "show", "--group", group, "--date", date, "--format", "json"], in: folder)
        let days = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [[String: Any]]
        if let closed = days[0]["closed"] as? String { return ["gesloten: \(closed)"] }
        return (days[0]["children"] as! [[String: Any]]).map { child in
            let number = child["number"] as! String
            return child["absent"] as! Bool ? "\(number) afwezig: \(child["reason"] as? String ?? "")" : "\(number) \(child["times"] as! String)"
        }.sorted()
    }

    @Test func everyContractTypeWeekParityAndDateRange() throws {
        let folder = try setUp("attendance-rules")
        // 52 weken every week; Flexibel only through deviations; parity; start and end inside the horizon.
        #expect(try list(folder, "G1", "2026-11-30") == ["K1 07:30-18:00"])
        #expect(try list(folder, "G1", "2026-12-08") == ["K1 07:30-18:00", "K5 07:30-18:00"], "week 50 is even")
        #expect(try list(folder, "G1", "2026-12-15") == ["K1 07:30-18:00"], "week 51 is odd")
        #expect(try list(folder, "G1", "2026-12-03") == ["K1 07:30-18:00", "K7 07:30-18:00"])
        #expect(try list(folder, "G1", "2026-12-10") == ["K1 07:30-18:00", "K7 07:30-18:00"], "the end date is inclusive")
        #expect(try list(folder, "G1", "2026-12-17") == ["K1 07:30-18:00"], "after the end date")
        #expect(try list(folder, "G1", "2026-12-09") == ["K1 07:30-18:00", "K6 08:00-17:00"], "the start date is inclusive")
        #expect(try !list(folder, "G1", "2026-12-02").contains("K6 08:00-17:00"), "before the start date")
        // Schoolweken pause in the school holiday, Vakantie runs only in it.
        #expect(try list(folder, "G2", "2026-12-14") == ["K1 14:00-18:30", "K2 14:00-18:30"])
        #expect(try list(folder, "G2", "2026-12-21") == ["K1 14:00-18:30", "K3 08:00-18:00"])
        #expect(try list(folder, "G2", "2026-12-15").isEmpty)
        #expect(try list(folder, "G2", "2026-12-22") == ["K3 08:00-18:00"])
    }

    @Test func deviationsAddOrMarkChildren() throws {
        let folder = try setUp("attendance-deviations")
        #expect(try list(folder, "G1", "2026-12-01") == ["K1 afwezig: ziek", "K5 07:30-18:00"],
                "absent stays on the list with the reason; a Ruildag without times takes the placement's hours")
        #expect(try list(folder, "G1", "2026-12-02") == ["K1 07:30-18:00", "K4 09:00-13:00"], "Extra dag with its own times")
    }

    @Test func closingDaysHolidaysAndAChildInTwoGroups() throws {
        let folder = try setUp("attendance-closed")
        #expect(try list(folder, "G1", "2026-12-07") == ["gesloten: Studiedag team"])
        #expect(try list(folder, "G2", "2026-12-07") == ["gesloten: Studiedag team"])
        #expect(try list(folder, "G3", "2026-12-07") == ["K8 07:30-18:00"], "the closing day is for location L1 only")
        #expect(try list(folder, "G3", "2026-12-25") == ["gesloten: Eerste kerstdag"])
        #expect(try list(folder, "G1", "2026-12-28") == ["K1 07:30-18:00"])
        // K1 is in G1 all day and in G2 after school on Mondays.
        #expect(try list(folder, "G1", "2026-11-30").contains("K1 07:30-18:00"))
        #expect(try list(folder, "G2", "2026-11-30").contains("K1 14:00-18:30"))
    }

    @Test func showFlagsADayOverCapacityInDutch() throws {
        let folder = try setUp("attendance-show")
        let table = try opvangsync(["attendance", "show", "--group", "G1", "--date", "2026-12-03"], in: folder)
        #expect(table.stdout.contains("Aanwezigheidslijst Egeltjes (G1) — donderdag 03-12-2026"))
        #expect(table.stdout.contains("Verwacht: 2 van 1 plaatsen"))
        #expect(table.stdout.contains("LET OP: 2 kinderen verwacht, meer dan de capaciteit van 1"))
        let absent = try opvangsync(["attendance", "show", "--group", "G1", "--date", "2026-12-01"], in: folder)
        #expect(absent.stdout.contains("afwezig: ziek"))
        let csv = try opvangsync(["attendance", "show", "--group", "G2", "--date", "2026-12-14", "--days", "7", "--format", "csv"], in: folder)
        #expect(csv.stdout.contains("2026-12-14;G2;K2;Kind2 Test;14:00-18:30;aanwezig"))
    }

    @Test func historyIsNeverRewrittenAndTheSameExportChangesNothing() throws {
        let folder = try setUp("attendance-history")
        var export = Self.export()
        let again = try opvangsync(["import", try export.write(to: folder.appendingPathComponent("again")).path,
                                    "--as-of", Self.asOf, "--force", "--reason", "nogmaals"], in: folder)
        let attendance = try reportJSON(of: again, in: folder)["attendance"] as! [String: Any]
        #expect(attendance["added"] as? Int == 0 && attendance["removed"] as? Int == 0 && attendance["changed"] as? Int == 0)

        // A week later K1's placement is gone: the lists from then on change, the days before stay as they were.
        export["plaatsingen.csv"] = export["plaatsingen.csv"].filter { !$0.hasPrefix("P1;") }
        export.exportedAt = "2026-12-06T23:40:00+01:00"
        let later = try opvangsync(["import", try export.write(to: folder.appendingPathComponent("later")).path,
                                    "--as-of", "2026-12-07", "--allow-mass-changes", "--reason", "plaatsing beëindigd"], in: folder)
        #expect(later.status == 0, "\(later.stderr)")
        #expect(try list(folder, "G1", "2026-12-03").contains("K1 07:30-18:00"), "history is untouched")
        #expect(try !list(folder, "G1", "2026-12-08").contains("K1 07:30-18:00"))
        let report = try reportJSON(of: later, in: folder)["attendance"] as! [String: Any]
        #expect(report["removed"] as? Int ?? 0 > 0)
        let changes = report["changes"] as! [[String: Any]]
        #expect(changes.allSatisfy { ($0["date"] as! String) >= "2026-12-07" })
        let markdown = try String(contentsOf: folder.appendingPathComponent("reports/mini/\(try reportJSON(of: later, in: folder)["runId"] as! String).md"), encoding: .utf8)
        #expect(markdown.contains("### Egeltjes (De Zonnebloem) — groep `G1`"))
        #expect(markdown.contains("| eraf |"))
    }

    @Test func refreshRebuildsOneGroupFromThePlanInThePortal() throws {
        let folder = try setUp("attendance-refresh")
        let db = try Database(path: folder.appendingPathComponent("portal.sqlite").path)
        // The plan in the portal changed (K6 also comes on Thursdays) without a new export.
        try db.run("UPDATE placements SET thursday = '08:00-17:00' WHERE key = 'P6'")
        let before = try db.scalarString("SELECT run_id FROM attendance WHERE group_code = 'G2' LIMIT 1")
        #expect(try !list(folder, "G1", "2026-12-10").contains("K6 08:00-17:00"))

        let refreshed = try opvangsync(["attendance", "refresh", "--group", "G1", "--as-of", Self.asOf], in: folder)
        #expect(refreshed.status == 0, "\(refreshed.stderr)")
        #expect(refreshed.stdout.contains("groep G1 ververst: 3 erbij"), "\(refreshed.stdout)")
        #expect(try list(folder, "G1", "2026-12-10").contains("K6 08:00-17:00"))
        #expect(try db.scalarString("SELECT run_id FROM attendance WHERE group_code = 'G2' LIMIT 1") == before, "other groups untouched")
        let runs = try opvangsync(["runs"], in: folder)
        #expect(runs.stdout.contains("refresh"))
        #expect(try opvangsync(["attendance", "refresh", "--group", "G9"], in: folder).status == 2)
    }
}
