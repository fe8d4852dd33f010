import Foundation
import OpvangSync
import PortalStore
import TestSupport
import Testing

/// SPEC §4 "Access after the last placement", "Data minimisation" and "Team", and the privacy of §7,
/// through the built binary.
@Suite struct PrivacyTests {
    func run(_ export: MiniExport, asOf: String, in folder: URL, _ extra: [String] = []) throws -> (ProcessResult, [String: Any]) {
        var copy = export
        copy.exportedAt = "\(asOf)T01:00:00+01:00"
        let path = try copy.write(to: folder.appendingPathComponent("export-\(UUID().uuidString)"))
        let result = try opvangsync(["import", path.path, "--as-of", asOf] + extra, in: folder)
        return (result, try reportJSON(of: result, in: folder))
    }

    func db(_ folder: URL) throws -> Database { try Database(path: folder.appendingPathComponent("portal.sqlite").path) }

    /// K3 with two parents (O3 Ouder 1, O5 Ouder 2); care ends 15-08-2026.
    func family() -> MiniExport {
        var export = MiniExport()
        export["ouders.csv"].append("O5;Bas;Vries;bas@example.nl;")
        export["relaties.csv"].append("K3;O5;Ouder 2")
        export["plaatsingen.csv"][3] = "P3;K3;G1;KDV;52 weken;01-01-2026;15-08-2026;;08:00-17:00;"
        return export
    }

    @Test func accountsShowTheWindowsAfterCareEnds() throws {
        let folder = temporaryFolder("windows")
        var export = family()
        export["plaatsingen.csv"][3] = "P3;K3;G1;KDV;52 weken;01-01-2026;31-08-2026;;08:00-17:00;"
        let (result, report) = try run(export, asOf: "2026-09-01", in: folder)
        #expect(result.status == 0, "\(result.stderr)")
        #expect((report["retention"] as? [String: Any])?["windowsOpened"] as? Int == 2)
        let first = try opvangsync(["accounts", "show", "O3"], in: folder)
        #expect(first.stdout.contains("foto's en dagboek tot en met 26-10-2026, documenten tot en met 31-08-2028"), "\(first.stdout)")
        let second = try opvangsync(["accounts", "show", "O5"], in: folder)
        #expect(second.stdout.contains("foto's en dagboek tot en met 26-10-2026, geen documenten (alleen Ouder 1)"))
        #expect(second.stdout.contains("mentor: —; groepen: geen lopende plaatsing"))

        // A leap day: 29-02-2024 plus 24 months is 28-02-2026.
        let leapFolder = temporaryFolder("windows-leap")
        export["plaatsingen.csv"][3] = "P3;K3;G1;KDV;52 weken;01-01-2023;29-02-2024;;08:00-17:00;"
        #expect(try run(export, asOf: "2024-03-01", in: leapFolder).0.status == 0)
        let leap = try opvangsync(["accounts", "show", "O3"], in: leapFolder)
        #expect(leap.stdout.contains("foto's en dagboek tot en met 25-04-2024, documenten tot en met 28-02-2026"), "\(leap.stdout)")
    }

    @Test func aMentorWhoIsNoStaffMemberIsLeftOutWithAWarning() throws {
        let folder = temporaryFolder("mentor")
        var export = MiniExport()
        export["kinderen.csv"][2] = "K2;Daan;;Smit;15-06-2019;M7"
        let (result, report) = try run(export, asOf: "2026-11-22", in: folder)
        #expect(result.status == 0)
        let issue = (report["issues"] as! [[String: Any]]).first { $0["code"] as? String == "unknown-optional-reference" && $0["key"] as? String == "K2" }
        #expect(issue?["severity"] as? String == "warning")
        #expect(issue?["field"] as? String == "Mentor")
        #expect(issue?["line"] as? Int == 3)
        #expect(issue?["column"] as? Int == 6)
        #expect(try db(folder).scalarString("SELECT status FROM children WHERE key = 'K2'") == "active")
    }

    @Test func accountsAreDisabledWhenEveryWindowPassedEnabledByANewPlacementAndPurgedAtTheEnd() throws {
        let folder = temporaryFolder("retention")
        var export = family()
        #expect(try run(export, asOf: "2026-08-01", in: folder).0.status == 0)
        #expect(try db(folder).scalarInt("SELECT COUNT(*) FROM accounts WHERE parent_number IN ('O3', 'O5')") == 2)

        // Eight weeks after 15-08: Ouder 2 has seen everything it may; Ouder 1 keeps documents.
        let (_, photos) = try run(export, asOf: "2026-10-11", in: folder)
        #expect((photos["accounts"] as? [String: Int])?["disabled"] == 1)
        #expect(try db(folder).scalarString("SELECT disabled_at FROM accounts WHERE parent_number = 'O5'") == "2026-10-11")
        #expect(try db(folder).scalarString("SELECT disabled_at FROM accounts WHERE parent_number = 'O3'") == nil)
        #expect(try opvangsync(["accounts", "list", "--status", "disabled", "--format", "csv"], in: folder).stdout.contains("O5;"))

        // A new placement: the account is enabled again.
        export["plaatsingen.csv"].append("P10;K3;G1;KDV;52 weken;01-11-2026;15-11-2026;;08:00-17:00;")
        let (_, back) = try run(export, asOf: "2026-10-12", in: folder)
        #expect((back["accounts"] as? [String: Int])?["enabled"] == 1)
        #expect(try db(folder).scalarString("SELECT disabled_at FROM accounts WHERE parent_number = 'O5'") == nil)
        #expect(try db(folder).scalarInt("SELECT COUNT(*) FROM access_windows WHERE child_number = 'K3'") == 0)

        // 24 months after the last end date (15-11-2026): a dry run shows the purge and changes nothing.
        let before = databaseBytes(folder.appendingPathComponent("portal.sqlite").path)
        let (_, preview) = try run(export, asOf: "2028-11-16", in: folder, ["--dry-run"])
        #expect((preview["retention"] as? [String: Any])?["childrenPurged"] as? [String] == ["K3"])
        #expect(databaseBytes(folder.appendingPathComponent("portal.sqlite").path) == before)

        let (purged, report) = try run(export, asOf: "2028-11-16", in: folder)
        #expect(purged.status == 0, "\(purged.stderr)")
        let retention = report["retention"] as! [String: Any]
        #expect(retention["childrenPurged"] as? [String] == ["K3"])
        #expect(retention["parentsPurged"] as? [String] == ["O3", "O5"])
        let database = try db(folder)
        #expect(try database.scalarString("SELECT COALESCE(first_name, '') || COALESCE(last_name, '') || COALESCE(birth_date, '') || purged_at FROM children WHERE key = 'K3'") == "2028-11-16")
        #expect(try database.scalarString("SELECT COALESCE(last_name, '') || COALESCE(email2, '') || purged_at FROM parents WHERE key = 'O3'") == "2028-11-16")
        #expect(try database.scalarInt("SELECT COUNT(*) FROM relations WHERE child_number = 'K3'") == 0)
        #expect(try database.scalarInt("SELECT COUNT(*) FROM accounts WHERE parent_number IN ('O3', 'O5')") == 0)
        #expect(try database.scalarInt("SELECT COUNT(*) FROM outbox WHERE recipient IN ('inge@example.nl', 'bas@example.nl')") == 0)
        // The change log keeps keys, dates and actions, not the names or addresses.
        let log = try database.query("SELECT changes FROM change_log WHERE key IN ('K3', 'O3', 'O5')") { $0.string(0) ?? "" }.joined()
        #expect(!log.isEmpty)
        for personal in ["Noël", "Vries", "Inge", "inge@example.nl", "bas@example.nl", "2023-01-01"] {
            #expect(!log.contains(personal), "\(personal) is still in the change log")
        }
        #expect(try database.scalarInt("SELECT COUNT(*) FROM change_log WHERE key = 'K3' AND action = 'created'") == 1)

        // Still in the planning system's export the next night: it stays purged.
        let (again, next) = try run(export, asOf: "2028-11-17", in: folder)
        #expect(again.status == 0)
        #expect(try db(folder).scalarString("SELECT first_name FROM children WHERE key = 'K3'") == nil)
        #expect(!(next["changes"] as! [[String: Any]]).contains { ["K3", "O3", "O5"].contains($0["key"] as? String ?? "") })
    }

    @Test func noBSNEverReachesTheDatabaseAReportOrALog() throws {
        let folder = temporaryFolder("bsn")
        var export = MiniExport()
        export["kinderen.csv"] = ["Kindnummer;Roepnaam;Tussenvoegsel;Achternaam;Geboortedatum;Mentor;BSN",
                                  "K1;Zoë;van;Dijk;03-02-2024;M1;123456782", "K2;Daan;;Smit;15-06-2019;M1;111222333",
                                  "K3;Noël;de;Vries;01-01-2023;;999999990"]
        export["ouders.csv"][1] = "O1;Marieke;Dijk;marieke@example.nl;"
        export["afwijkingen.csv"].append("K1;G1;25-11-2026;Afwezig;;;ziek, BSN 111.222.333 bekend bij de GGD")
        export["relaties.csv"][1] = "K1;O1;123456782"
        try Data(#"{"rules": {"maxRejectedFraction": 0.5}}"#.utf8).write(to: folder.appendingPathComponent("opvangsync.json"))
        let (result, report) = try run(export, asOf: "2026-11-22", in: folder, ["--send-mail"])
        #expect(result.status == 4, "the relation with a BSN as its role is rejected: \(result.stderr)")
        let codes = (report["issues"] as! [[String: Any]]).compactMap { $0["code"] as? String }
        #expect(codes.contains("bsn-in-export"))
        #expect(codes.contains("bsn-in-value"))

        // A mapping that names the column is not obeyed either.
        let mapping = BuiltInMapping.flexkidsCSV.text.replacingOccurrences(of: #""mentor": "Mentor""#, with: #""mentor": "Mentor", "bsn": "BSN""#)
        try Data(mapping.utf8).write(to: folder.appendingPathComponent("with-bsn.json"))
        let (mapped, mappedReport) = try run(export, asOf: "2026-11-22", in: folder, ["--mapping", "with-bsn.json", "--force", "--reason", "x", "--dry-run"])
        #expect((mappedReport["issues"] as! [[String: Any]]).contains { $0["code"] as? String == "bsn-in-mapping" })

        var everything = Data()
        let enumerator = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil)
        while let url = enumerator?.nextObject() as? URL {
            if url.path.contains("/export-") { continue }  // the planning system's own files
            if let data = FileManager.default.contents(atPath: url.path) { everything.append(data) }
        }
        for output in [result, mapped] { everything.append(Data((output.stdout + output.stderr).utf8)) }
        for bsn in ["123456782", "111222333", "111.222.333", "999999990"] {
            #expect(everything.range(of: Data(bsn.utf8)) == nil, "BSN \(bsn) was written somewhere")
        }
    }

    @Test func noPasswordEverAppearsInAReportOrALog() throws {
        let folder = temporaryFolder("secret")
        let secret = "Geheim-Wachtwoord-42"
        try Data((secret + "\n").utf8).write(to: folder.appendingPathComponent("smtp-password"))
        try Data(#"{"mail": {"transport": "smtp://127.0.0.1:1", "username": "opvangsync", "passwordFile": "smtp-password"}}"#.utf8)
            .write(to: folder.appendingPathComponent("opvangsync.json"))
        let (imported, _) = try run(MiniExport(), asOf: "2026-11-22", in: folder, ["--send-mail"])
        let sent = try opvangsync(["mail", "send"], in: folder)
        var everything = Data((imported.stdout + imported.stderr + sent.stdout + sent.stderr).utf8)
        for path in (FileManager.default.enumerator(atPath: folder.path)?.allObjects as? [String] ?? []) where path != "smtp-password" {
            if let data = FileManager.default.contents(atPath: folder.appendingPathComponent(path).path) { everything.append(data) }
        }
        #expect(everything.range(of: Data(secret.utf8)) == nil)
        #expect(try db(folder).scalarInt("SELECT COUNT(*) FROM outbox WHERE status = 'queued' AND last_error IS NOT NULL") == 3)
    }

    @Test func spreadsheetFormulasInTheExportAreMadeInert() throws {
        let folder = temporaryFolder("formula")
        var export = MiniExport()
        _ = try run(export, asOf: "2026-11-22", in: folder)
        export["ouders.csv"][2] = "O2;Joost;=HYPERLINK(\"http://x.example\",\"klik\");joost@example.nl;"
        let (_, report) = try run(export, asOf: "2026-11-23", in: folder)
        let csv = try String(contentsOf: folder.appendingPathComponent("reports/mini/\(report["runId"] as! String)-wijzigingen.csv"), encoding: .utf8)
        #expect(csv.contains("\"'=HYPERLINK(\"\"http://x.example\"\",\"\"klik\"\")\""))
        #expect(!csv.contains(";=HYPERLINK"))
    }

    @Test func theTeamOfAGroupAndNoAccountsForStaff() throws {
        let folder = temporaryFolder("team")
        var export = MiniExport()
        export["medewerkers.csv"] = ["Medewerkernummer;Voornaam;Achternaam;E-mail;Functie;Groepcodes",
                                     "M1;Anne;Bakker;anne@example.nl;Pedagogisch medewerker;G1|G2",
                                     "M2;Kees;Kok;kees@example.nl;Locatiemanager;G2"]
        #expect(try run(export, asOf: "2026-11-22", in: folder).0.status == 0)
        let team = try opvangsync(["team", "show", "--group", "G1", "--format", "csv"], in: folder)
        #expect(team.stdout.contains("M1;Anne Bakker;Pedagogisch medewerker;1"), "mentor of K1 in G1 (K3 has none): \(team.stdout)")
        let show = try opvangsync(["accounts", "show", "O1"], in: folder)
        #expect(show.stdout.contains("mentor: Anne Bakker (M1); groepen: Egeltjes (G1)"), "\(show.stdout)")
        #expect(!team.stdout.contains("M2"))
        let g2 = try opvangsync(["team", "show", "--group", "G2"], in: folder)
        #expect(g2.stdout.contains("Kees Kok"))
        let accounts = try opvangsync(["accounts", "list", "--format", "csv"], in: folder)
        #expect(!accounts.stdout.contains("anne@example.nl") && !accounts.stdout.contains("kees@example.nl"))
        #expect(try opvangsync(["team", "show", "--group", "G9"], in: folder).status == 2)
    }
}
