import Foundation
import OpvangSync
import PortalStore
import TestSupport
import Testing

/// SPEC §5 "Trust boundary": exports and manifests are untrusted; nothing they say may reach a place it
/// must not. Each test runs the built binary as the timer or customer service would.
@Suite struct TrustBoundaryTests {
    func write(_ export: MiniExport, in folder: URL, name: String = "export-\(UUID().uuidString)") throws -> URL {
        try export.write(to: folder.appendingPathComponent(name))
    }

    func importing(_ path: URL, in folder: URL, _ extra: [String] = [], environment: [String: String] = [:]) throws -> ProcessResult {
        try runProcess(Package.binary("opvangsync"), ["import", path.path, "--as-of", "2026-11-22"] + extra,
                       in: folder, environment: environment)
    }

    /// Rewrites the manifest of an export folder.
    func editManifest(_ export: URL, _ edit: (inout [String: Any]) -> Void) throws {
        let url = export.appendingPathComponent("manifest.json")
        var manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        edit(&manifest)
        try JSONSerialization.data(withJSONObject: manifest, options: [.sortedKeys]).write(to: url)
    }

    func everything(below folder: URL) -> [String] {
        (FileManager.default.enumerator(atPath: folder.path)?.allObjects as? [String] ?? []).sorted()
    }

    // MARK: Tenants and paths

    @Test func anOrganisationIdInTheManifestThatIsAPathIsRefused() throws {
        let root = temporaryFolder("org-path")
        let folder = root.appendingPathComponent("a/b")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var export = MiniExport()
        export.organisation = "../../x"
        let result = try importing(try write(export, in: folder), in: folder)
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("organisation.id"))
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("a/x").path))
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("x").path))
        #expect(!everything(below: root).contains { $0.hasSuffix("/x") || $0 == "x" })
        for id in ["Zonnebloem", "-mini", "mini/x", "mini\n", String(repeating: "a", count: 65), "miñi"] {
            var other = MiniExport()
            other.organisation = id
            #expect(try importing(try write(other, in: folder), in: folder).status == 1, "\(id)")
        }
    }

    @Test func anOrganisationIdOnTheCommandLineOrInTheConfigurationIsAPlainIdentifier() throws {
        let root = temporaryFolder("org-flag")
        let folder = root.appendingPathComponent("a/b")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data(#"{"database": "data/{org}.sqlite", "reports": "rep/{org}"}"#.utf8).write(to: folder.appendingPathComponent("opvangsync.json"))
        let export = try write(MiniExport(), in: folder)
        let result = try importing(export, in: folder, ["--org", "../../escape"])
        #expect(result.status == 2, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stderr.contains("organisation id"))
        #expect(!everything(below: root).contains { $0.contains("escape") })
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("a/escape.sqlite").path))

        try Data(#"{"organisations": [{"id": "Zonnebloem"}]}"#.utf8).write(to: folder.appendingPathComponent("opvangsync.json"))
        let configured = try importing(export, in: folder)
        #expect(configured.status == 2)
        #expect(configured.stderr.contains("organisations[0].id"))
    }

    @Test func noFolderIsChmodedExceptOneOpvangsyncCreated() throws {
        let folder = temporaryFolder("chmod")
        let work = folder.appendingPathComponent("work")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        chmod(folder.path, 0o755)
        chmod(work.path, 0o755)
        let export = try write(MiniExport(), in: folder)
        let result = try importing(export, in: work, ["--reports", "x/..", "--db", "y/../portal.sqlite"])
        #expect(result.status == 0, "\(result.stderr)")
        func mode(_ url: URL) -> Int { (try? FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as? Int) ?? -1 }
        #expect(mode(work) == 0o755, "the working folder kept its mode")
        #expect(mode(folder) == 0o755)
        #expect(mode(work.appendingPathComponent("x")) == 0o750, "a folder opvangsync made is 0750")
        #expect(mode(work.appendingPathComponent("mini")) == 0o750)
    }

    @Test func aPortalBelongsToTheOrganisationOfItsFirstImport() throws {
        let folder = temporaryFolder("one-org")
        #expect(try importing(try write(MiniExport(), in: folder), in: folder).status == 0)
        var other = MiniExport()
        other.organisation = "andere"
        other["kinderen.csv"][1] = "K1;Anders;van;Dijk;03-02-2024;M1"
        let result = try importing(try write(other, in: folder), in: folder)
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("\"mini\"") && result.stderr.contains("\"andere\""))
        let database = try Database(path: folder.appendingPathComponent("portal.sqlite").path)
        #expect(try database.scalarInt("SELECT COUNT(*) FROM organisation") == 1)
        #expect(try database.scalarString("SELECT id FROM organisation") == "mini")
        #expect(try database.scalarString("SELECT first_name FROM children WHERE key = 'K1'") == "Zoë")
    }

    @Test func aDatabaseThatIsNotAPortalIsLeftUntouched() throws {
        let folder = temporaryFolder("foreign")
        let path = folder.appendingPathComponent("portal.sqlite").path
        do {
            let foreign = try Database(path: path)
            try foreign.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, amount INTEGER); INSERT INTO invoices VALUES (1, 100);")
            try foreign.checkpoint()
        }
        try? FileManager.default.removeItem(atPath: path + "-wal")
        try? FileManager.default.removeItem(atPath: path + "-shm")
        let before = FileManager.default.contents(atPath: path)
        let result = try importing(try write(MiniExport(), in: folder), in: folder)
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("not an opvangsync portal"))
        #expect(FileManager.default.contents(atPath: path) == before)
        for command in [["runs"], ["accounts", "list"], ["mail", "send"]] {
            #expect(try opvangsync(command, in: folder).status == 2, "\(command)")
        }
        #expect(FileManager.default.contents(atPath: path) == before)

        // A portal this program made carries the mark.
        let fresh = temporaryFolder("marked")
        #expect(try importing(try write(MiniExport(), in: fresh), in: fresh).status == 0)
        let marked = try Database(path: fresh.appendingPathComponent("portal.sqlite").path)
        #expect(try marked.scalarInt("PRAGMA application_id") == Int(PortalSchema.applicationID))
    }

    // MARK: The manifest and the files it lists

    @Test func aListedNameIsAPlainFileName() throws {
        let folder = temporaryFolder("names")
        let cases: [(String, String)] = [("../kinderen.csv", ".."), ("sub/kinderen.csv", "/"), ("kind\\eren.csv", "\\"),
                                        ("kinderen.csv\n", "stuurtekens"), (".kinderen.csv", "punt")]
        for (name, reason) in cases {
            let export = try write(MiniExport(), in: folder)
            try editManifest(export) { manifest in
                var files = manifest["files"] as! [[String: Any]]
                files.append(["name": name, "rows": 1, "sha256": String(repeating: "0", count: 64)])
                manifest["files"] = files
            }
            let result = try importing(export, in: folder)
            #expect(result.status == 1, "\(name)")
            #expect(result.stderr.contains("geen gewone bestandsnaam") && result.stderr.contains(reason), "\(name): \(result.stderr)")
        }
    }

    @Test func aListedFileIsARegularFileNotALinkAFIFOOrAFolder() throws {
        let folder = temporaryFolder("kinds")
        let outside = folder.appendingPathComponent("secret.csv")
        try Data("Kindnummer;Roepnaam;Tussenvoegsel;Achternaam;Geboortedatum;Mentor\nK9;Geheim;;Kind;01-01-2024;\n".utf8).write(to: outside)

        let linked = try write(MiniExport(), in: folder)
        let target = linked.appendingPathComponent("kinderen.csv")
        try FileManager.default.removeItem(at: target)
        try FileManager.default.createSymbolicLink(at: target, withDestinationURL: outside)
        try editManifest(linked) { manifest in
            manifest["files"] = (manifest["files"] as! [[String: Any]]).map { file in
                guard file["name"] as? String == "kinderen.csv" else { return file }
                return ["name": "kinderen.csv", "rows": 1, "sha256": SHA256.hex(of: Array(FileManager.default.contents(atPath: outside.path)!))]
            }
        }
        let viaLink = try importing(linked, in: folder)
        #expect(viaLink.status == 3, "\(viaLink.stderr)")
        #expect(viaLink.stderr.contains("symbolische koppeling"), "\(viaLink.stderr)")

        let fifo = try write(MiniExport(), in: folder)
        try FileManager.default.removeItem(at: fifo.appendingPathComponent("kalender.csv"))
        #expect(mkfifo(fifo.appendingPathComponent("kalender.csv").path, 0o600) == 0)
        let viaFIFO = try importing(fifo, in: folder)  // must not hang waiting for a writer
        #expect(viaFIFO.status == 3)
        #expect(viaFIFO.stderr.contains("FIFO"), "\(viaFIFO.stderr)")

        let directory = try write(MiniExport(), in: folder)
        try FileManager.default.removeItem(at: directory.appendingPathComponent("kalender.csv"))
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("kalender.csv"), withIntermediateDirectories: false)
        let viaFolder = try importing(directory, in: folder)
        #expect(viaFolder.status == 3)
        #expect(viaFolder.stderr.contains("een map"), "\(viaFolder.stderr)")
        #expect(try Database(path: folder.appendingPathComponent("portal.sqlite").path).scalarInt("SELECT COUNT(*) FROM children") == 0)
    }

    @Test func everyFileTheMappingReadsIsListedWithItsChecksum() throws {
        let folder = temporaryFolder("unlisted")
        let export = try write(MiniExport(), in: folder)
        try editManifest(export) { manifest in
            manifest["files"] = (manifest["files"] as! [[String: Any]]).filter { $0["name"] as? String != "ouders.csv" }
        }
        let result = try importing(export, in: folder)
        #expect(result.status == 3, "\(result.stderr)")
        #expect(result.stderr.contains("ouders.csv") && result.stderr.contains("manifest-file-unlisted"))

        let unsummed = try write(MiniExport(), in: folder)
        try editManifest(unsummed) { manifest in
            manifest["files"] = (manifest["files"] as! [[String: Any]]).map { file in
                file["name"] as? String == "ouders.csv" ? ["name": "ouders.csv", "rows": 3] : file
            }
        }
        let second = try importing(unsummed, in: folder)
        #expect(second.status == 3)
        #expect(second.stderr.contains("ouders.csv"))
    }

    // MARK: The activation link

    func links(_ folder: URL) throws -> Set<String> {
        let database = try Database(path: folder.appendingPathComponent("portal.sqlite").path)
        return Set(try database.query("SELECT json_extract(data, '$.portaal') FROM outbox") { $0.string(0) ?? "" })
    }

    @Test func theActivationLinkComesFromTheConfigurationElseTheFirstImport() throws {
        let folder = temporaryFolder("links")
        #expect(try importing(try write(MiniExport(), in: folder), in: folder).status == 0)
        #expect(try links(folder) == ["https://mini.example"])

        // A later export that points elsewhere: a warning, and new links keep the first import's base.
        var phishing = MiniExport()
        phishing.exportedAt = "2026-11-22T01:00:00+01:00"
        phishing["ouders.csv"].append("O4;Nieuw;Ouder;nieuw@example.nl;")
        phishing["relaties.csv"].append("K1;O4;Ouder 2")
        let export = try write(phishing, in: folder)
        try editManifest(export) { manifest in
            var organisation = manifest["organisation"] as! [String: Any]
            organisation["portalUrl"] = "https://phish.example"
            manifest["organisation"] = organisation
        }
        let result = try importing(export, in: folder)
        #expect(result.status == 0, "\(result.stderr)")
        let report = try reportJSON(of: result, in: folder)
        #expect((report["issues"] as! [[String: Any]]).contains { $0["code"] as? String == "portal-url-ignored" })
        #expect(try links(folder) == ["https://mini.example"])

        // The configuration wins over both.
        let configured = temporaryFolder("links-config")
        try Data(#"{"portalUrl": "https://ouders.mini.example"}"#.utf8).write(to: configured.appendingPathComponent("opvangsync.json"))
        #expect(try importing(try write(MiniExport(), in: configured), in: configured).status == 0)
        #expect(try links(configured) == ["https://ouders.mini.example"])
    }

    @Test func aPortalURLThatIsNotHTTPSOrHoldsControlCharactersIsRefused() throws {
        let folder = temporaryFolder("bad-url")
        let export = try write(MiniExport(), in: folder)
        try editManifest(export) { manifest in
            var organisation = manifest["organisation"] as! [String: Any]
            organisation["portalUrl"] = "http://phish.example"
            manifest["organisation"] = organisation
        }
        let result = try importing(export, in: folder)
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("portal-url-invalid"))
        let linksWritten = FileManager.default.fileExists(atPath: folder.appendingPathComponent("portal.sqlite").path)
            ? try links(folder) : []
        #expect(linksWritten.isEmpty)

        for url in ["http://phish.example", "https://mini.example/\r\nBcc: x@example", "javascript:alert(1)", "https://user:pw@mini.example"] {
            try JSONSerialization.data(withJSONObject: ["portalUrl": url]).write(to: folder.appendingPathComponent("opvangsync.json"))
            let configured = try importing(try write(MiniExport(), in: folder), in: folder)
            #expect(configured.status == 2, "\(url)")
            #expect(configured.stderr.contains("portalUrl"))
        }
        try Data(#"{"portalUrl": "http://localhost:8080"}"#.utf8).write(to: folder.appendingPathComponent("opvangsync.json"))
        #expect(try importing(try write(MiniExport(), in: folder), in: folder).status == 0, "localhost may use http")
    }

    // MARK: Output that others open

    @Test func exportTextInTheMarkdownReportIsEscaped() throws {
        let folder = temporaryFolder("markdown")
        #expect(try importing(try write(MiniExport(), in: folder), in: folder).status == 0)
        var hostile = MiniExport()
        hostile.exportedAt = "2026-11-22T01:00:00+01:00"
        hostile["groepen.csv"][1] = "G1;L1;<script>alert(1)</script>;KDV;12"
        hostile["locaties.csv"][1] = "L1;[klik hier](javascript:alert(1))"
        hostile["medewerkers.csv"][1] = "M1;Anne;`code` | gebroken;G1|G2"
        hostile["kinderen.csv"].append("K4|x;<img src=x onerror=alert(1)>;;Dijk;03-02-2024;M1")
        let result = try importing(try write(hostile, in: folder), in: folder)
        let report = try reportJSON(of: result, in: folder)
        let markdown = try String(contentsOf: folder.appendingPathComponent("reports/mini/\(report["runId"] as! String).md"), encoding: .utf8)
        #expect(!markdown.contains("<script>"))
        #expect(!markdown.contains("<img"))
        #expect(markdown.range(of: #"[^\\]\]\(javascript:"#, options: .regularExpression) == nil, "an unescaped link")
        #expect(markdown.contains(#"\[klik hier\](javascript:"#))
        #expect(!markdown.contains("`code`"))
        #expect(markdown.contains("&lt;script&gt;"))
        // Every table row still has its cells: no pipe from the data split one.
        for line in markdown.split(separator: "\n") where line.hasPrefix("| Groep") || line.contains("gebroken") {
            #expect(!line.contains(" | gebroken"), "\(line)")
        }
    }

    @Test func reportFilesAreNeverWrittenThroughALinkLeftInTheFolder() throws {
        let folder = temporaryFolder("tmp-link")
        let target = folder.appendingPathComponent("elsewhere.txt")
        try Data("keep me\n".utf8).write(to: target)
        let path = folder.appendingPathComponent("report.json").path
        // The name the writer used to use for its temporary file, planted as a link.
        try FileManager.default.createSymbolicLink(atPath: path + ".tmp-\(getpid())", withDestinationPath: target.path)
        try ProtectedFile.write("{}\n", to: path)
        #expect(try String(contentsOf: target, encoding: .utf8) == "keep me\n")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "{}\n")
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect(attributes[.type] as? FileAttributeType == .typeRegular)
        #expect(attributes[.posixPermissions] as? Int == 0o640)
    }

    @Test func theOperatorIsTheRealUserNotWhatTheEnvironmentSays() throws {
        let folder = temporaryFolder("operator")
        let real = Operator.current(environment: [:])
        let result = try importing(try write(MiniExport(), in: folder), in: folder, ["--dry-run"],
                                   environment: ["SUDO_USER": "anyone", "USER": "anyone", "LOGNAME": "anyone"])
        let report = try reportJSON(of: result, in: folder)
        #expect(report["operator"] as? String == real)
        #expect(real != "anyone")
        #expect(Operator.current(environment: ["SUDO_USER": "anyone", "SUDO_UID": "0"], uid: 0) == Operator.current(environment: [:], uid: 0),
                "SUDO_USER must name the account of SUDO_UID")
        #expect(Operator.current(environment: ["SUDO_USER": "root", "SUDO_UID": "0"], uid: 1) != "root",
                "SUDO_USER counts only when running as root")
    }
}
