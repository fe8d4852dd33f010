import Foundation
import OpvangSync
import PortalStore
import TestSupport
import Testing

/// SPEC §4 "Entities" through the built binary, on small hand-made exports.
@Suite struct EntityRuleTests {
    func importExport(_ export: MiniExport, in folder: URL, _ extra: [String] = []) throws -> (ProcessResult, [String: Any]) {
        let path = try export.write(to: folder.appendingPathComponent("export-\(UUID().uuidString)"))
        let result = try opvangsync(["import", path.path, "--as-of", "2026-11-22"] + extra, in: folder)
        return (result, try reportJSON(of: result, in: folder))
    }

    func database(_ folder: URL) throws -> Database {
        try Database(path: folder.appendingPathComponent("portal.sqlite").path)
    }

    @Test func fieldsThePortalOwnsAreNeverTouchedByAnImport() throws {
        let folder = temporaryFolder("owned")
        var export = MiniExport()
        let (first, _) = try importExport(export, in: folder)
        #expect(first.status == 0, "\(first.stderr)")
        do {
            let db = try database(folder)
            // What the portal writes once the parent activates: the import made the account itself.
            try db.run("""
                UPDATE accounts SET password_hash = '$argon2id$v=19$hash', activated_at = '2026-10-01T10:00:00Z',
                    terms_accepted_at = '2026-10-01T10:01:00Z', notification_settings = '{"dagboek":true}'
                WHERE parent_number = 'O1'
                """)
            try db.run("INSERT INTO consents (child_number, kind, granted, set_at) VALUES ('K1', 'foto', 1, '2026-10-02')")
        }
        export["ouders.csv"][1] = "O1;Marieke;van Dijk;marieke.vandijk@example.nl;"
        export["kinderen.csv"][1] = "K1;Zoë Anna;van;Dijk;03-02-2024;M1"
        export.exportedAt = "2026-11-22T01:00:00+01:00"
        let (second, report) = try importExport(export, in: folder)
        #expect(second.status == 0, "\(second.stderr)")
        #expect((report["counts"] as! [String: [String: Int]])["parent"]?["updated"] == 1)

        let db = try database(folder)
        let account = try db.query("SELECT username, password_hash, activated_at, terms_accepted_at, notification_settings FROM accounts") { row in
            (0..<5).map { index in row.string(index) ?? "" }
        }
        // The address changed, so the username moved (SPEC §4); everything the portal owns stayed.
        #expect(account.first { $0[0] == "marieke.vandijk@example.nl" }
                == ["marieke.vandijk@example.nl", "$argon2id$v=19$hash", "2026-10-01T10:00:00Z", "2026-10-01T10:01:00Z", "{\"dagboek\":true}"])
        #expect(try db.scalarString("SELECT kind || granted || set_at FROM consents") == "foto12026-10-02")
        #expect(try db.scalarString("SELECT first_name FROM children WHERE key = 'K1'") == "Zoë Anna")
    }

    @Test func changesAreLoggedWithOldAndNewValues() throws {
        let folder = temporaryFolder("changelog")
        var export = MiniExport()
        _ = try importExport(export, in: folder)
        export["plaatsingen.csv"][2] = "P2;K2;G2;BSO;52 weken;01-09-2025;;14:00-18:30;14:00-18:30;even"
        export.exportedAt = "2026-11-22T01:00:00+01:00"
        let (result, report) = try importExport(export, in: folder)
        #expect(result.status == 0)
        let change = (report["changes"] as! [[String: Any]]).first { $0["key"] as? String == "P2" }
        let fields = change?["fields"] as? [[String: Any]] ?? []
        #expect(fields.contains { $0["field"] as? String == "contractType" && $0["old"] as? String == "Schoolweken" && $0["new"] as? String == "52 weken" })
        #expect(fields.contains { $0["field"] as? String == "tuesday" && $0["old"] is NSNull && $0["new"] as? String == "14:00-18:30" })

        let history = try opvangsync(["history", "placement", "P2"], in: folder)
        #expect(history.status == 0)
        #expect(history.stdout.contains("nieuw"))
        #expect(history.stdout.contains("Contractsoort: Schoolweken → 52 weken"))
    }

    @Test func missingRecordsBecomeInactiveAndAreRestoredWhenTheyReturn() throws {
        let folder = temporaryFolder("inactive")
        let export = MiniExport()
        _ = try importExport(export, in: folder)

        var without = export
        without["kinderen.csv"].removeLast()                       // K3
        without["relaties.csv"].removeLast()                       // K3/O3
        without["plaatsingen.csv"].removeLast()                    // P3, no end date: vanished
        without["ouders.csv"].removeLast()                         // O3
        without.exportedAt = "2026-11-22T01:00:00+01:00"
        let (removed, report) = try importExport(without, in: folder, ["--allow-mass-changes", "--reason", "test: gezin vertrokken"])
        #expect(removed.status == 0, "\(removed.stderr)")
        let counts = report["counts"] as! [String: [String: Int]]
        #expect(counts["child"]?["ended"] == 1)
        #expect(counts["placement"]?["vanished"] == 1)
        #expect((report["issues"] as! [[String: Any]]).contains { $0["code"] as? String == "placement-vanished" && $0["key"] as? String == "P3" })
        var db = try database(folder)
        #expect(try db.scalarString("SELECT status FROM children WHERE key = 'K3'") == "inactive")
        #expect(try db.scalarString("SELECT first_name FROM children WHERE key = 'K3'") == "Noël", "never deleted")
        #expect(try db.scalarString("SELECT status FROM placements WHERE key = 'P3'") == "vanished")

        var back = export
        back.exportedAt = "2026-11-22T02:00:00+01:00"
        let (restored, again) = try importExport(back, in: folder)
        #expect(restored.status == 0)
        #expect((again["counts"] as! [String: [String: Int]])["child"]?["restored"] == 1)
        db = try database(folder)
        #expect(try db.scalarString("SELECT status FROM children WHERE key = 'K3'") == "active")
        #expect(try db.scalarString("SELECT status FROM placements WHERE key = 'P3'") == "active")
    }

    @Test func aPlacementEndsByItsEndDate() throws {
        let folder = temporaryFolder("ended")
        var export = MiniExport()
        export["plaatsingen.csv"][1] = "P1;K1;G1;KDV;52 weken;01-09-2025;25-11-2026;07:30-18:00;;"
        _ = try importExport(export, in: folder)
        #expect(try database(folder).scalarString("SELECT status FROM placements WHERE key = 'P1'") == "active")

        export.exportedAt = "2026-11-26T01:00:00+01:00"
        let path = try export.write(to: folder.appendingPathComponent("later"))
        let later = try opvangsync(["import", path.path, "--as-of", "2026-11-26"], in: folder)
        let report = try reportJSON(of: later, in: folder)
        #expect((report["counts"] as! [String: [String: Int]])["placement"]?["ended"] == 1)
        #expect(try database(folder).scalarString("SELECT status FROM placements WHERE key = 'P1'") == "ended")
    }

    @Test func aRejectedRowLeavesItsRecordAsItWas() throws {
        let folder = temporaryFolder("protected")
        var export = MiniExport()
        _ = try importExport(export, in: folder)
        export["plaatsingen.csv"][1] = "P1;K1;G1;KDV;52 weken;31-09-2025;;07:30-18:00;;"
        export.exportedAt = "2026-11-22T01:00:00+01:00"
        // One of three rows is a third: let this small organisation through the rejected-rows guard.
        try Data(#"{"rules": {"maxRejectedFraction": 0.5}}"#.utf8).write(to: folder.appendingPathComponent("opvangsync.json"))
        let (result, report) = try importExport(export, in: folder)
        #expect(result.status == 4)
        #expect((report["counts"] as! [String: [String: Int]])["placement"]?["vanished"] == 0)
        #expect(try database(folder).scalarString("SELECT status FROM placements WHERE key = 'P1'") == "active")
    }

    @Test func anotherSystemsExportIsReadThroughItsOwnMappingWithoutCodeChanges() throws {
        let folder = temporaryFolder("mapping")
        // The same organisation as MiniExport, as another planning system writes it: English column names,
        // commas, ISO-like dates with slashes, its own care-type codes.
        let files: [String: String] = [
            "sites.csv": "site_id,site_name\nL1,De Zonnebloem\n",
            "rooms.csv": "room,site,title,service\nG1,L1,Egeltjes,DAYCARE\nG2,L1,Uilen,AFTERSCHOOL\n",
            "kids.csv": "id,given,prefix,family,dob\nK1,Zoë,van,Dijk,2024/02/03\nK2,Daan,,Smit,2019/06/15\nK3,Noël,de,Vries,2023/01/01\n",
            "carers.csv": "id,given,family,mail,mail_alt\nO1,Marieke,Dijk,marieke@example.nl,\nO2,Joost,Smit,joost@example.nl,\nO3,Inge,Vries,,inge@example.nl\n",
            "links.csv": "kid,carer,kind\nK1,O1,primary\nK2,O2,primary\nK3,O3,primary\n",
            "bookings.csv": "booking,kid,room,service,plan,from,until,mon,tue,parity\nP1,K1,G1,DAYCARE,fulltime,2025/09/01,,07:30-18:00,07:30-18:00,\nP2,K2,G2,AFTERSCHOOL,termtime,2025/09/01,,14:00-18:30,,even\nP3,K3,G1,DAYCARE,fulltime,2026/01/01,,,08:00-17:00,\n",
        ]
        let export = folder.appendingPathComponent("other-system")
        try FileManager.default.createDirectory(at: export, withIntermediateDirectories: true)
        var listed: [[String: Any]] = []
        for (name, text) in files {
            try Data(text.utf8).write(to: export.appendingPathComponent(name))
            listed.append(["name": name, "rows": text.split(separator: "\n").count - 1, "sha256": SHA256.hex(of: Array(text.utf8))])
        }
        let manifest: [String: Any] = ["organisation": ["id": "mini", "portalUrl": "https://mini.example"],
                                       "exportedAt": "2026-11-21T23:00:00Z", "files": listed]
        try JSONSerialization.data(withJSONObject: manifest).write(to: export.appendingPathComponent("export-manifest.json"))
        let mapping = """
            { "name": "Other system", "format": "csv", "delimiter": ",", "encoding": "utf-8", "dateFormat": "yyyy/mm/dd",
              "manifest": "export-manifest.json",
              "entities": {
                "location": {"file": "sites.csv", "fields": {"code": "site_id", "name": "site_name"}},
                "group": {"file": "rooms.csv", "fields": {"code": "room", "locationCode": "site", "name": "title", "careType": "service"}},
                "child": {"file": "kids.csv", "fields": {"number": "id", "firstName": "given", "infix": "prefix", "lastName": "family", "birthDate": "dob"}},
                "parent": {"file": "carers.csv", "fields": {"number": "id", "firstName": "given", "lastName": "family", "email": "mail", "email2": "mail_alt"}},
                "relation": {"file": "links.csv", "fields": {"childNumber": "kid", "parentNumber": "carer", "role": "kind"}},
                "placement": {"file": "bookings.csv", "fields": {"number": "booking", "childNumber": "kid", "groupCode": "room",
                  "careType": "service", "contractType": "plan", "startDate": "from", "endDate": "until", "monday": "mon",
                  "tuesday": "tue", "weeks": "parity"}}
              },
              "codes": { "careType": {"DAYCARE": "KDV", "AFTERSCHOOL": "BSO"}, "contractType": {"fulltime": "52 weken", "termtime": "Schoolweken"},
                         "role": {"primary": "Ouder 1"} } }
            """
        try Data(mapping.utf8).write(to: folder.appendingPathComponent("other.json"))
        let other = try opvangsync(["import", export.path, "--mapping", "other.json", "--db", "other.sqlite", "--as-of", "2026-11-22"], in: folder)
        #expect(other.status == 0, "\(other.stdout)\(other.stderr)")

        var withoutStaff = MiniExport()
        withoutStaff["kinderen.csv"] = withoutStaff["kinderen.csv"].map { $0.hasSuffix(";M1") ? String($0.dropLast(2)) : $0 }
        let reference = try withoutStaff.write(to: folder.appendingPathComponent("reference"))
        let flexkids = try opvangsync(["import", reference.path, "--db", "flexkids.sqlite", "--as-of", "2026-11-22"], in: folder)
        #expect(flexkids.status == 0)
        let left = try portalContents(folder.appendingPathComponent("other.sqlite").path)
        let right = try portalContents(folder.appendingPathComponent("flexkids.sqlite").path)
        for table in ["locations", "children", "parents", "relations", "placements"] {
            #expect(left[table] == right[table], "\(table) differs")
        }
        #expect(left["groups"]?.map { $0.replacingOccurrences(of: "|12|", with: "|∅|").replacingOccurrences(of: "|20|", with: "|∅|") }
                == right["groups"]?.map { $0.replacingOccurrences(of: "|12|", with: "|∅|").replacingOccurrences(of: "|20|", with: "|∅|") })
    }
}
