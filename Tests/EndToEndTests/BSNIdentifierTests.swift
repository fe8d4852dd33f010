import Foundation
import OpvangSync
import PortalStore
import TestSupport
import Testing

/// SPEC §4 "Data minimisation": a citizen service number is scrubbed from free text only; an identifier is
/// never rewritten, and a key column that holds BSNs is refused as a whole.
@Suite struct BSNIdentifierTests {
    func run(_ export: MiniExport, asOf: String = "2026-11-22", in folder: URL, _ extra: [String] = []) throws -> (ProcessResult, [String: Any]) {
        var copy = export
        copy.exportedAt = "\(asOf)T01:00:00+01:00"
        let path = try copy.write(to: folder.appendingPathComponent("export-\(UUID().uuidString)"))
        let result = try opvangsync(["import", path.path, "--as-of", asOf] + extra, in: folder)
        return (result, try reportJSON(of: result, in: folder))
    }

    func issues(_ report: [String: Any]) -> [[String: Any]] { report["issues"] as? [[String: Any]] ?? [] }

    /// `count` families whose child and parent numbers are consecutive 9-digit numbers.
    func numberedExport(children firstChild: Int, parents firstParent: Int, count: Int, childPrefix: String = "") -> MiniExport {
        var export = MiniExport()
        export["kinderen.csv"] = ["Kindnummer;Roepnaam;Tussenvoegsel;Achternaam;Geboortedatum;Mentor"]
        export["ouders.csv"] = ["Oudernummer;Voornaam;Achternaam;E-mail;E-mail 2"]
        export["relaties.csv"] = ["Kindnummer;Oudernummer;Rol"]
        export["plaatsingen.csv"] = ["Plaatsingsnummer;Kindnummer;Groepcode;Opvangsoort;Contractsoort;Ingangsdatum;Einddatum;Maandag;Dinsdag;Weken"]
        export["afwijkingen.csv"] = ["Kindnummer;Groepcode;Datum;Soort;Van;Tot;Omschrijving"]
        for index in 0..<count {
            let child = childPrefix + String(format: "%09d", firstChild + index)
            let parent = String(format: "%09d", firstParent + index)
            export["kinderen.csv"].append("\(child);Kind;;Nummer\(index);01-01-2023;M1")
            export["ouders.csv"].append("\(parent);Ouder;Nummer\(index);ouder\(index)@example.nl;")
            export["relaties.csv"].append("\(child);\(parent);Ouder 1")
            export["plaatsingen.csv"].append("P\(index);\(child);G1;KDV;52 weken;01-09-2025;;08:00-17:00;;")
        }
        return export
    }

    func passing(_ numbers: [String]) -> Int { numbers.filter { BSN.keyEvidence($0).passes }.count }

    @Test func nineDigitChildAndParentNumbersImportWithEveryKeyIntact() throws {
        let folder = temporaryFolder("bsn-keys")
        let export = numberedExport(children: 98_430_000, parents: 200_000_001, count: 60)
        let children = export["kinderen.csv"].dropFirst().map { String($0.prefix(9)) }
        let parents = export["ouders.csv"].dropFirst().map { String($0.prefix(9)) }
        // About one in eleven passes the 11-proef by chance: the test is only meaningful when some do.
        #expect(passing(children) >= 3 && passing(parents) >= 3, "\(passing(children)) / \(passing(parents))")

        let (result, report) = try run(export, in: folder)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        let database = try Database(path: folder.appendingPathComponent("portal.sqlite").path)
        #expect(try database.query("SELECT key FROM children ORDER BY key") { $0.string(0) ?? "" } == children.sorted())
        #expect(try database.query("SELECT key FROM parents ORDER BY key") { $0.string(0) ?? "" } == parents.sorted())
        #expect(try database.scalarInt("SELECT COUNT(*) FROM relations WHERE status = 'active'") == 60)
        #expect(try database.scalarInt("SELECT COUNT(*) FROM children WHERE key LIKE '%BSN%'") == 0)
        #expect(!issues(report).contains { ["bsn-in-value", "duplicate-key", "unknown-reference", "bsn-key-column"].contains($0["code"] as? String) },
                "\(issues(report))")
    }

    @Test func nineDigitRunsInsideACodeStayIntact() throws {
        let folder = temporaryFolder("bsn-codes")
        let export = numberedExport(children: 98_430_000, parents: 300_000_001, count: 40, childPrefix: "K")
        let children = export["kinderen.csv"].dropFirst().map { String($0.prefix(10)) }
        #expect(passing(children) >= 2)
        let (result, _) = try run(export, in: folder)
        #expect(result.status == 0, "\(result.stderr)")
        let database = try Database(path: folder.appendingPathComponent("portal.sqlite").path)
        #expect(try database.query("SELECT key FROM children ORDER BY key") { $0.string(0) ?? "" } == children.sorted())
    }

    @Test func anExportKeyedByBSNsIsRefusedBeforeAnythingIsApplied() throws {
        let folder = temporaryFolder("bsn-refused")
        // Valid citizen service numbers as Kindnummer: every one passes the 11-proef.
        let bsns = (100_000_000..<100_000_400).map { String($0) }.filter { BSN.keyEvidence($0).passes }.prefix(12)
        #expect(bsns.count == 12)
        var export = numberedExport(children: 0, parents: 400_000_001, count: 12)
        for (index, bsn) in bsns.enumerated() {
            let old = String(format: "%09d", index)
            for file in ["kinderen.csv", "relaties.csv", "plaatsingen.csv"] {
                export[file] = export[file].map { $0.replacingOccurrences(of: old + ";", with: bsn + ";") }
            }
        }
        let (result, report) = try run(export, in: folder)
        #expect(result.status == 3, "\(result.stdout)\n\(result.stderr)")
        #expect(report["status"] as? String == "aborted")
        let refusal = issues(report).first { $0["code"] as? String == "bsn-key-column" }
        #expect(refusal?["severity"] as? String == "error")
        #expect(refusal?["file"] as? String == "kinderen.csv" && refusal?["field"] as? String == "Kindnummer")
        #expect((refusal?["message"] as? String)?.contains("burgerservicenummers") == true)
        #expect((report["abortReason"] as? String ?? "").contains("Kindnummer"))
        let database = try Database(path: folder.appendingPathComponent("portal.sqlite").path)
        #expect(try database.scalarInt("SELECT COUNT(*) FROM children") == 0)
        // The refusal names the column, not the numbers.
        let markdown = try String(contentsOf: folder.appendingPathComponent("reports/mini/\(report["runId"] as! String).md"), encoding: .utf8)
        for bsn in bsns { #expect(!markdown.contains(bsn) && !result.stderr.contains(bsn)) }
    }

    @Test func aKeyColumnWithManyPassingNumbersIsWarnedAbout() throws {
        let folder = temporaryFolder("bsn-warned")
        // 4 of 12 pass: far above chance, not enough to refuse.
        let bsns = (100_000_000..<100_000_400).map { String($0) }.filter { BSN.keyEvidence($0).passes }.prefix(4)
        var export = numberedExport(children: 0, parents: 500_000_001, count: 12)
        for (index, bsn) in bsns.enumerated() {
            let old = String(format: "%09d", index)
            for file in ["kinderen.csv", "relaties.csv", "plaatsingen.csv"] {
                export[file] = export[file].map { $0.replacingOccurrences(of: old + ";", with: bsn + ";") }
            }
        }
        #expect(passing(export["kinderen.csv"].dropFirst().map { String($0.prefix(9)) }) == 4)
        let (result, report) = try run(export, in: folder)
        #expect(result.status == 0)
        let warning = issues(report).first { $0["code"] as? String == "bsn-key-column" }
        #expect(warning?["severity"] as? String == "warning")
    }

    @Test func aBSNInAnAbsenceDescriptionIsStillScrubbedAndWarnedAbout() throws {
        let folder = temporaryFolder("bsn-free-text")
        var export = MiniExport()
        export["afwijkingen.csv"].append("K1;G1;25-11-2026;Afwezig;;;ziek, BSN 123456782 bekend bij de GGD")
        let (result, report) = try run(export, in: folder)
        #expect(result.status == 0)
        #expect(issues(report).contains { $0["code"] as? String == "bsn-in-value" && $0["file"] as? String == "afwijkingen.csv" })
        let database = try Database(path: folder.appendingPathComponent("portal.sqlite").path)
        #expect(try database.scalarString("SELECT description FROM deviations WHERE date = '2026-11-25'")
                == "ziek, BSN [BSN verwijderd] bekend bij de GGD")
    }

    @Test func phoneNumbersPostcodesAndLRKNumbersWithNineDigitRunsAreKept() throws {
        let folder = temporaryFolder("bsn-contact")
        var export = MiniExport()
        // 123456782 passes the 11-proef; in these fields it is a number of another kind.
        export["locaties.csv"] = ["Locatiecode;Naam;Postcode;Telefoon;LRK-nummer", "L1;De Zonnebloem;123456782;+31 123456782;123456782"]
        export["ouders.csv"] = ["Oudernummer;Voornaam;Achternaam;E-mail;E-mail 2;Telefoon;Mobiel;Postcode",
                                "O1;Marieke;Dijk;marieke@example.nl;;0123456782;123456782;123456782",
                                "O2;Joost;Smit;joost@example.nl;;;;", "O3;Inge;Vries;;inge@example.nl;;;"]
        let (result, report) = try run(export, in: folder)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!issues(report).contains { $0["code"] as? String == "bsn-in-value" })
        let database = try Database(path: folder.appendingPathComponent("portal.sqlite").path)
        #expect(try database.query("SELECT postcode, phone, lrk_number FROM locations") { [$0.string(0), $0.string(1), $0.string(2)] }
                == [["123456782", "+31 123456782", "123456782"]])
        #expect(try database.query("SELECT phone, mobile, postcode FROM parents WHERE key = 'O1'") { [$0.string(0), $0.string(1), $0.string(2)] }
                == [["0123456782", "123456782", "123456782"]])
    }

    @Test func everyCanonicalFieldHasAKindAndOnlyFreeTextIsScrubbed() {
        for kind in EntityKind.allCases {
            for field in kind.schema.fields {
                if field.references != nil || kind.schema.keyFields.contains(kind.schema.fieldIndex(field.name) ?? -1) {
                    #expect(!field.type.scrubsBSN, "\(kind).\(field.name) is a key or reference")
                }
            }
        }
        #expect(EntityKind.location.schema.fields.first { $0.name == "lrkNumber" }?.type == .registration)
        #expect(EntityKind.deviation.schema.fields.first { $0.name == "description" }?.type.scrubsBSN == true)
    }
}
