import Foundation
import OpvangSync
import PortalStore
import TestSupport
import Testing

/// The built binary on the shipped sample exports, read as a user would: exit code, stdout, report, portal.
@Suite struct SampleExportTests {
    let asOf = ["--as-of", "2026-11-22"]

    func manifestRows(_ export: String) throws -> [String: Int] {
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: export + "/manifest.json"))) as! [String: Any]
        var rows: [String: Int] = [:]
        for file in manifest["files"] as! [[String: Any]] { rows[file["name"] as! String] = file["rows"] as? Int }
        return rows
    }

    @Test func theSampleExportImportsExactlyItsRecordsAndTheReportAgrees() throws {
        let folder = temporaryFolder("sample")
        let result = try opvangsync(["import", Package.sample("zonnebloem")] + asOf, in: folder)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.summary.hasPrefix("opvangsync: zonnebloem; run "))
        #expect(result.summary.contains("applied"))

        let report = try reportJSON(of: result, in: folder)
        for key in ["schemaVersion", "runId", "organisation", "asOf", "startedAt", "finishedAt", "mode", "status", "export",
                    "counts", "accounts", "mail", "attendance", "changes", "issues", "abortReason"] {
            #expect(report.keys.contains(key), "report lacks \(key)")
        }
        #expect(report["schemaVersion"] as? Int == 1)
        #expect(report["status"] as? String == "applied")
        #expect(report["mode"] as? String == "apply")
        #expect(report["asOf"] as? String == "2026-11-22")

        let rows = try manifestRows(Package.sample("zonnebloem"))
        let mapping = try BuiltInMapping.flexkidsCSV.mapping()
        let counts = report["counts"] as! [String: [String: Int]]
        let database = try Database(path: folder.appendingPathComponent("portal.sqlite").path, mode: .readOnly)
        for kind in EntityKind.allCases {
            let file = mapping.entities[kind]!.name
            let expected = try #require(rows[file])
            #expect(counts[kind.rawValue]?["created"] == expected, "\(kind) created count")
            #expect(try database.scalarInt("SELECT COUNT(*) FROM \(kind.schema.table)") == expected, "\(kind) rows in portal")
        }
        #expect(rows["kinderen.csv"] == 150)
        // Diacritics survive Windows-1252 → UTF-8.
        let names = try database.query("SELECT first_name || ' ' || last_name FROM parents") { $0.string(0) ?? "" }
        #expect(names.contains { $0.contains("ö") || $0.contains("é") || $0.contains("ë") || $0.contains("ü") })
        #expect(try database.scalarInt("SELECT COUNT(*) FROM runs WHERE status = 'applied'") == 1)
    }

    @Test func theCSVAndJSONVariantsGiveIdenticalPortals() throws {
        let folder = temporaryFolder("variants")
        let csv = try opvangsync(["import", Package.sample("zonnebloem"), "--db", "csv.sqlite"] + asOf, in: folder)
        let json = try opvangsync(["import", Package.sample("zonnebloem-json"), "--db", "json.sqlite"] + asOf, in: folder)
        #expect(csv.status == 0 && json.status == 0, "\(csv.stderr)\(json.stderr)")
        let left = try portalContents(folder.appendingPathComponent("csv.sqlite").path)
        let right = try portalContents(folder.appendingPathComponent("json.sqlite").path)
        for table in left.keys.sorted() {
            #expect(left[table] == right[table], "table \(table) differs between the CSV and JSON imports")
        }
        #expect(left["children"]?.count == 150)
    }

    @Test func theSameExportTwiceChangesNothing() throws {
        let folder = temporaryFolder("twice")
        try opvangsync(["import", Package.sample("zonnebloem")] + asOf, in: folder)
        let before = try portalContents(folder.appendingPathComponent("portal.sqlite").path)

        let skipped = try opvangsync(["import", Package.sample("zonnebloem")] + asOf, in: folder)
        #expect(skipped.status == 0)
        #expect(try reportJSON(of: skipped, in: folder)["status"] as? String == "skipped")

        let forced = try opvangsync(["import", Package.sample("zonnebloem"), "--force", "--reason", "controle"] + asOf, in: folder)
        #expect(forced.status == 0, "\(forced.stderr)")
        let report = try reportJSON(of: forced, in: folder)
        #expect((report["changes"] as? [Any])?.isEmpty == true)
        let counts = report["counts"] as! [String: [String: Int]]
        for (kind, tally) in counts {
            #expect(tally["created"] == 0 && tally["updated"] == 0 && tally["ended"] == 0 && tally["vanished"] == 0, "\(kind): \(tally)")
        }
        #expect(try portalContents(folder.appendingPathComponent("portal.sqlite").path) == before)
    }

    @Test func aDryRunLeavesTheDatabaseByteForByteUnchanged() throws {
        let folder = temporaryFolder("dry")
        let path = folder.appendingPathComponent("portal.sqlite").path
        let none = try opvangsync(["import", Package.sample("zonnebloem"), "--dry-run"] + asOf, in: folder)
        #expect(none.status == 0)
        #expect(!FileManager.default.fileExists(atPath: path), "a dry run must not create the portal")
        #expect(try reportJSON(of: none, in: folder)["mode"] as? String == "dry-run")
        #expect(((try reportJSON(of: none, in: folder)["changes"]) as? [Any])?.count ?? 0 > 900)

        try opvangsync(["import", Package.sample("broken/bad-date")] + asOf, in: folder)
        let before = databaseBytes(path)
        let dry = try opvangsync(["import", Package.sample("zonnebloem"), "--dry-run"] + asOf, in: folder)
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(try reportJSON(of: dry, in: folder)["status"] as? String == "applied")
        #expect(databaseBytes(path) == before)
    }

    @Test func aGenerated100ChildExportInWindows1252WithCRLFProducesExactlyItsRecords() throws {
        let folder = temporaryFolder("hundred")
        let export = folder.appendingPathComponent("export").path
        let generated = try exportgen(["--children", "100", "--seed", "100", "--out", export], in: folder)
        #expect(generated.status == 0, "\(generated.stderr)")
        let raw = try Data(contentsOf: URL(fileURLWithPath: export + "/kinderen.csv"))
        #expect(raw.contains(Data([0x0D, 0x0A])), "CRLF line ends")
        #expect(String(data: raw, encoding: .utf8) == nil || !raw.contains(0xC3), "Windows-1252, not UTF-8")

        let result = try opvangsync(["import", export] + asOf, in: folder)
        #expect(result.status == 0, "\(result.stderr)")
        let report = try reportJSON(of: result, in: folder)
        let counts = report["counts"] as! [String: [String: Int]]
        let rows = try manifestRows(export)
        let database = try Database(path: folder.appendingPathComponent("portal.sqlite").path, mode: .readOnly)
        #expect(rows["kinderen.csv"] == 100)
        for kind in EntityKind.allCases {
            let file = try BuiltInMapping.flexkidsCSV.mapping().entities[kind]!.name
            #expect(counts[kind.rawValue]?["created"] == rows[file])
            #expect(try database.scalarInt("SELECT COUNT(*) FROM \(kind.schema.table)") == rows[file])
        }
        let files = (report["export"] as! [String: Any])["files"] as! [[String: Any]]
        #expect(files.contains { $0["name"] as? String == "kinderen.csv" && $0["encoding"] as? String == "windows-1252" })
    }

    @Test func reportsAreWrittenForTheirReadersOnly() throws {
        let folder = temporaryFolder("modes")
        let result = try opvangsync(["import", Package.sample("zonnebloem")] + asOf, in: folder)
        let report = try reportJSON(of: result, in: folder)
        let directory = folder.appendingPathComponent("reports/zonnebloem")
        let runId = report["runId"] as! String
        for suffix in [".json", ".md", "-wijzigingen.csv", "-afgewezen.csv"] {
            let attributes = try FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent(runId + suffix).path)
            #expect((attributes[.posixPermissions] as? Int) == 0o640, "\(suffix)")
        }
        let folderAttributes = try FileManager.default.attributesOfItem(atPath: directory.path)
        #expect((folderAttributes[.posixPermissions] as? Int) == 0o750)
        let markdown = try String(contentsOf: directory.appendingPathComponent(runId + ".md"), encoding: .utf8)
        #expect(markdown.contains("# Importrapport Kinderopvang De Zonnebloem"))
        #expect(markdown.contains("## Wat betekent dit?"))
        #expect(markdown.contains("| Kinderen | 150 |"))
    }
}
