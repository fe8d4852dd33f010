import Foundation
@testable import OpvangSync
import PortalStore
import TestSupport
import Testing

/// What an attacker who can write an inbox (or a careless upload) tried after the trust boundary was first
/// closed, each through the built binary. SPEC §5 "Trust boundary".
@Suite struct AttackRegressionTests {
    func write(_ export: MiniExport, in folder: URL, name: String = "export") throws -> URL {
        try export.write(to: folder.appendingPathComponent(name))
    }

    func importing(_ path: URL, in folder: URL, _ extra: [String] = []) throws -> ProcessResult {
        try opvangsync(["import", path.path, "--as-of", "2026-11-22"] + extra, in: folder)
    }

    func reportIssues(_ result: ProcessResult, _ folder: URL) throws -> [[String: Any]] {
        try reportJSON(of: result, in: folder)["issues"] as? [[String: Any]] ?? []
    }

    /// `count` citizen service numbers: nine digits that pass the 11-proef.
    func bsns(_ count: Int) -> [String] {
        Array((111_222_000..<111_230_000).map(String.init).filter { BSN.keyEvidence($0).passes }.prefix(count))
    }

    // MARK: Links planted in the configured folders

    @Test func aLinkPlantedAsTheLockFileTruncatesNothing() throws {
        let folder = temporaryFolder("lock-link")
        let victim = folder.appendingPathComponent("victim.txt")
        try Data("IMPORTANT DATA\n".utf8).write(to: victim)
        let work = folder.appendingPathComponent("work")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: work.appendingPathComponent("portal.sqlite.lock").path, withDestinationPath: victim.path)
        let result = try importing(try write(MiniExport(), in: folder), in: work)
        #expect(result.status == 1, "\(result.stderr)")
        #expect(try String(contentsOf: victim, encoding: .utf8) == "IMPORTANT DATA\n")
    }

    @Test func aLinkPlantedAsTheDatabaseIsNotFollowed() throws {
        let folder = temporaryFolder("db-link")
        let work = folder.appendingPathComponent("work")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let elsewhere = folder.appendingPathComponent("elsewhere.sqlite")
        try FileManager.default.createSymbolicLink(atPath: work.appendingPathComponent("portal.sqlite").path, withDestinationPath: elsewhere.path)
        let result = try importing(try write(MiniExport(), in: folder), in: work)
        #expect(result.status != 0)
        #expect(result.stderr.contains("symbolic link"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: elsewhere.path))
    }

    @Test func aLinkPlantedAsTheOrganisationsReportFolderIsNotFollowed() throws {
        let folder = temporaryFolder("report-link")
        let work = folder.appendingPathComponent("work")
        let outside = folder.appendingPathComponent("outside")
        try FileManager.default.createDirectory(at: work.appendingPathComponent("reports"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: work.appendingPathComponent("reports/mini").path, withDestinationPath: outside.path)
        let result = try importing(try write(MiniExport(), in: folder), in: work)
        #expect(result.status == 1, "\(result.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside.path).isEmpty)
        #expect(try Database(path: work.appendingPathComponent("portal.sqlite").path).scalarInt("SELECT COUNT(*) FROM children") == 0,
                "the report could not be written, so nothing was applied")
    }

    @Test func aLinkPlantedInTheMaildirGetsNoActivationLink() throws {
        let folder = temporaryFolder("maildir-link")
        let outside = folder.appendingPathComponent("outside")
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        #expect(try importing(try write(MiniExport(), in: folder), in: folder).status == 0)
        for sub in ["tmp", "cur"] {
            try FileManager.default.createDirectory(at: folder.appendingPathComponent("outbox/\(sub)"), withIntermediateDirectories: true)
        }
        try FileManager.default.createSymbolicLink(atPath: folder.appendingPathComponent("outbox/new").path, withDestinationPath: outside.path)
        let sent = try opvangsync(["mail", "send"], in: folder)
        #expect(sent.status == 1, "\(sent.stdout)\(sent.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside.path).isEmpty)
        #expect(try Database(path: folder.appendingPathComponent("portal.sqlite").path)
            .scalarInt("SELECT COUNT(*) FROM outbox WHERE status = 'queued'") == 3, "the mail waits")
    }

    // MARK: Settings and the organisation

    @Test func anExportImportedWithoutOrgUsesItsOrganisationsSettings() throws {
        let folder = temporaryFolder("org-settings")
        try Data(#"{"database": "db/{org}.sqlite", "reports": "reports/{org}", "organisations": [{"id": "mini", "portalUrl": "https://good.example"}]}"#.utf8)
            .write(to: folder.appendingPathComponent("opvangsync.json"))
        var export = MiniExport()
        export.portalURL = "https://evil.example"
        let result = try importing(try write(export, in: folder), in: folder)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("db/mini.sqlite").path))
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("db/default.sqlite").path))
        let links = try Database(path: folder.appendingPathComponent("db/mini.sqlite").path)
            .query("SELECT DISTINCT json_extract(data, '$.portaal') FROM outbox") { $0.string(0) ?? "" }
        #expect(links == ["https://good.example"])

        // An export of an organisation the configuration does not list is a configuration error.
        var other = MiniExport()
        other.organisation = "andere"
        try Data(#"{"database": "db/{org}.sqlite", "organisations": [{"id": "mini"}, {"id": "nog-een"}]}"#.utf8)
            .write(to: folder.appendingPathComponent("opvangsync.json"))
        let unknown = try importing(try write(other, in: folder, name: "other"), in: folder)
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("andere"))
    }

    @Test func anExportFromTheFarFutureIsRefusedAndBlocksNothing() throws {
        let folder = temporaryFolder("future")
        var future = MiniExport()
        future.exportedAt = "2099-01-01T00:00:00+01:00"
        let refused = try importing(try write(future, in: folder, name: "future"), in: folder)
        #expect(refused.status == 3)
        #expect(try reportIssues(refused, folder).contains { $0["code"] as? String == "export-in-future" && $0["severity"] as? String == "error" })
        #expect(try importing(try write(MiniExport(), in: folder, name: "now"), in: folder).status == 0)
    }

    @Test func aFailedRunOfAnUnknownOrganisationIsFiledWhereNoOrganisationLives() throws {
        let folder = temporaryFolder("unknown-org")
        let export = try write(MiniExport(), in: folder)
        try Data("{ kapot".utf8).write(to: export.appendingPathComponent("manifest.json"))
        let result = try importing(export, in: folder)
        #expect(result.status == 1)
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("reports/\(RunReport.unknownOrganisation)").path))
        #expect(!OrganisationID.isValid(RunReport.unknownOrganisation))
    }

    // MARK: Files that are not an opvangsync portal

    @Test func aForeignDatabaseWithAWALLeftBehindIsNotCheckpointed() throws {
        let folder = temporaryFolder("foreign-wal")
        let path = folder.appendingPathComponent("portal.sqlite").path
        // Another program's database in WAL mode, its last writes still in the WAL (copied while it runs).
        let script = """
            import shutil, sqlite3, sys
            c = sqlite3.connect(sys.argv[1] + ".src")
            c.execute("PRAGMA journal_mode=WAL"); c.execute("PRAGMA wal_autocheckpoint=0")
            c.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, amount INTEGER)")
            c.executemany("INSERT INTO invoices (amount) VALUES (?)", [(i,) for i in range(200)]); c.commit()
            shutil.copy(sys.argv[1] + ".src", sys.argv[1]); shutil.copy(sys.argv[1] + ".src-wal", sys.argv[1] + "-wal")
            """
        #expect(try runProcess("/usr/bin/python3", ["-c", script, path], in: folder).status == 0)
        let main = FileManager.default.contents(atPath: path), wal = FileManager.default.contents(atPath: path + "-wal")
        #expect(wal?.isEmpty == false)
        for command in [["runs"], ["accounts", "list"], ["mail", "send"], ["import", try write(MiniExport(), in: folder).path, "--as-of", "2026-11-22"]] {
            let result = try opvangsync(command, in: folder)
            #expect(result.status == 2, "\(command): \(result.stderr)")
            #expect(FileManager.default.contents(atPath: path) == main, "\(command) changed the file")
            #expect(FileManager.default.contents(atPath: path + "-wal") == wal, "\(command) changed or removed the WAL")
        }
    }

    @Test func aForeignDatabaseWithLookAlikeTablesIsNotAPortal() throws {
        let folder = temporaryFolder("look-alike")
        let path = folder.appendingPathComponent("portal.sqlite").path
        do {
            let foreign = try Database(path: path)
            try foreign.execute("""
                PRAGMA journal_mode = DELETE;
                CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, summary TEXT);
                INSERT INTO schema_migrations VALUES (1, 'create users');
                CREATE TABLE runs (id TEXT); CREATE TABLE organisation (id TEXT);
                CREATE TABLE children (id TEXT); CREATE TABLE parents (id TEXT);
                """)
        }
        let before = FileManager.default.contents(atPath: path)
        let result = try importing(try write(MiniExport(), in: folder), in: folder)
        #expect(result.status == 2, "\(result.stderr)")
        #expect(FileManager.default.contents(atPath: path) == before)
    }

    // MARK: Export files

    @Test func aHugeSparseFileIsRefusedNotAllocated() throws {
        let folder = temporaryFolder("sparse")
        let export = try write(MiniExport(), in: folder)
        let big = export.appendingPathComponent("kalender.csv")
        #expect(truncate(big.path, 30 << 30) == 0)
        let result = try importing(export, in: folder)
        #expect([1, 3].contains(result.status), "a clean refusal, not a crash: \(result.status) \(result.stderr)")
        #expect(result.stderr.contains("file-too-large"), "\(result.stderr)")
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("reports/mini").path))
    }

    // MARK: Citizen service numbers

    /// Children keyed by `keys`, each with a parent and a placement.
    func keyed(_ keys: [String]) -> MiniExport {
        var export = MiniExport()
        for (index, key) in keys.enumerated() {
            export["kinderen.csv"].append("\(key);Kind;;Nummer;01-01-2023;M1")
            export["ouders.csv"].append("OB\(index);Ouder;Nummer;ob\(index)@example.nl;")
            export["relaties.csv"].append("\(key);OB\(index);Ouder 1")
            export["plaatsingen.csv"].append("PB\(index);\(key);G1;KDV;52 weken;01-09-2025;;08:00-17:00;;")
        }
        return export
    }

    func leaks(_ numbers: [String], in folder: URL, _ outputs: [ProcessResult]) -> [String] {
        var everything = Data()
        for path in (FileManager.default.enumerator(atPath: folder.path)?.allObjects as? [String] ?? []) where !path.hasPrefix("export") {
            if let data = FileManager.default.contents(atPath: folder.appendingPathComponent(path).path) { everything.append(data) }
        }
        for output in outputs { everything.append(Data((output.stdout + output.stderr).utf8)) }
        return numbers.filter { everything.range(of: Data($0.utf8)) != nil }
    }

    @Test func aScopedRunOfABSNKeyedExportIsRefusedToo() throws {
        let folder = temporaryFolder("bsn-scoped")
        let numbers = bsns(6)
        // A portal that exists (a scoped run needs one), then an export keyed by BSNs, one family at a time.
        #expect(try importing(try write(MiniExport(), in: folder, name: "first"), in: folder).status == 0)
        var next = keyed(numbers)
        next.exportedAt = "2026-11-22T01:00:00+01:00"
        let export = try write(next, in: folder)
        let scoped = try importing(export, in: folder, ["--only", "child=\(numbers[0])"])
        #expect(scoped.status == 3, "\(scoped.stderr)")
        #expect(try reportIssues(scoped, folder).contains { $0["code"] as? String == "bsn-key-column" })
        #expect(leaks(numbers, in: folder, [scoped]).isEmpty)
        // The rows outside the family are weighed as a whole run weighs them: the same columns, counts and words.
        let whole = try importing(export, in: folder, ["--force", "--reason", "test"])
        #expect(whole.status == 3, "\(whole.stderr)")
        func keyColumns(_ result: ProcessResult) throws -> [String] {
            try reportIssues(result, folder).filter { $0["code"] as? String == "bsn-key-column" }
                .map { "\($0["severity"] ?? "-")|\($0["file"] ?? "-")|\($0["field"] ?? "-")|\($0["message"] ?? "-")" }.sorted()
        }
        #expect(try keyColumns(scoped) == keyColumns(whole))
    }

    @Test func BSNsOnlyInAReferenceColumnAreRefusedAndNeverEchoed() throws {
        let folder = temporaryFolder("bsn-reference")
        let numbers = bsns(4)
        var export = MiniExport()
        for (index, number) in numbers.enumerated() {
            export["relaties.csv"].append("\(number);O\(index % 3 + 1);Verzorger")
        }
        // A warning that repeats a key, in the same refused export.
        export["relaties.csv"].append("K1;O2;Ouder 1")
        let result = try importing(try write(export, in: folder), in: folder)
        #expect(result.status == 3, "\(result.stderr)")
        #expect(try reportIssues(result, folder).contains { $0["code"] as? String == "bsn-key-column" && $0["field"] as? String == "Kindnummer" })
        #expect(leaks(numbers, in: folder, [result]).isEmpty, "\(leaks(numbers, in: folder, [result]))")
    }

    @Test func smallGroupedAndShortenedBSNKeysAreRefused() throws {
        let three = bsns(3)
        let grouped = bsns(5).map { "\($0.prefix(3))-\($0.dropFirst(3).prefix(3))-\($0.suffix(3))" }
        // A leading zero dropped by a spreadsheet: 0xxxxxxxx written as eight digits.
        let shortened = Array((11_222_000..<11_240_000).map(String.init)
            .filter { BSN.isValid(([0] + $0.compactMap(\.wholeNumberValue))) }.prefix(5))
        for (name, keys) in [("three", three), ("grouped", grouped), ("shortened", shortened)] {
            let folder = temporaryFolder("bsn-\(name)")
            let result = try importing(try write(keyed(keys), in: folder), in: folder)
            #expect(result.status == 3, "\(name): \(result.stderr)")
            #expect(try Database(path: folder.appendingPathComponent("portal.sqlite").path).scalarInt("SELECT COUNT(*) FROM children") == 0)
        }
    }

    @Test func aBSNWrittenWithHyphensInFreeTextIsScrubbed() throws {
        let folder = temporaryFolder("bsn-hyphens")
        var export = MiniExport()
        export["afwijkingen.csv"].append("K1;G1;25-11-2026;Afwezig;;;ziek, bsn 123-456-782")
        #expect(try importing(try write(export, in: folder), in: folder).status == 0)
        #expect(try Database(path: folder.appendingPathComponent("portal.sqlite").path)
            .scalarString("SELECT description FROM deviations WHERE date = '2026-11-25'") == "ziek, bsn [BSN verwijderd]")
    }

    // MARK: Terminals, logs and reports

    @Test func escapeSequencesFromTheExportNeverReachTheTerminal() throws {
        let folder = temporaryFolder("escapes")
        var export = MiniExport()
        export["groepen.csv"][1] = "G1;L1;Egeltjes;\u{1B}[31mKDV\u{1B}[2J\u{07};12"
        export["kinderen.csv"].append("K9;Zoë\u{1B}[2J;;Dijk;03-02-2024;M1\r\nopvangsync: mini; applied")
        let result = try importing(try write(export, in: folder), in: folder)
        #expect(!result.stderr.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 }, "\(result.stderr.debugDescription)")
        #expect(!result.stderr.split(separator: "\n").contains { $0.hasPrefix("opvangsync: mini; applied") })
    }

    @Test func aLinkInExportTextIsNotClickableInTheMarkdown() throws {
        let folder = temporaryFolder("autolink")
        #expect(try importing(try write(MiniExport(), in: folder), in: folder).status == 0)
        var next = MiniExport()
        next.exportedAt = "2026-11-22T01:00:00+01:00"
        next["groepen.csv"][1] = "G1;L1;Ga naar https://evil.example/activeren/x of www.evil.example;KDV;12"
        let result = try importing(try write(next, in: folder, name: "next"), in: folder)
        let id = try reportJSON(of: result, in: folder)["runId"] as! String
        let markdown = try String(contentsOf: folder.appendingPathComponent("reports/mini/\(id).md"), encoding: .utf8)
        #expect(!markdown.contains("https://evil") && !markdown.contains("www.evil"))
        #expect(markdown.contains("evil.example/activeren/x"))
    }

    @Test(arguments: ["https://mini.example:443:evil.example", "https://mini.example:99999", "https://mini.example:", "https://[::1"])
    func aPortalURLWithAMalformedPortIsRefused(_ url: String) {
        #expect(PortalURL.problem(url) != nil, "\(url)")
    }

    // MARK: Second round

    @Test func aSingleBSNInAReferenceOrARowRejectedWhileReadingIsNeverEchoed() throws {
        let numbers = bsns(3)
        let folder = temporaryFolder("bsn-echo")
        var export = MiniExport()
        export["relaties.csv"].append("\(numbers[0]);O1;Verzorger")
        let one = try importing(try write(export, in: folder), in: folder)
        #expect([3, 4].contains(one.status), "\(one.stderr)")
        #expect(leaks([numbers[0]], in: folder, [one]).isEmpty)

        // Rows whose keys are BSNs, rejected for their width before a value is read: still weighed, refused.
        let wide = temporaryFolder("bsn-wide")
        var rejected = keyed(numbers)
        rejected["kinderen.csv"] = rejected["kinderen.csv"].map { $0.hasPrefix("111") ? $0 + ";x" : $0 }
        let result = try importing(try write(rejected, in: wide), in: wide)
        #expect(result.status == 3, "\(result.stderr)")
        #expect(leaks(numbers, in: wide, [result]).isEmpty, "\(leaks(numbers, in: wide, [result]))")
    }

    @Test func paddedAndSlashedBSNKeysAreRefused() throws {
        for (name, format) in [("padded", { (bsn: String) in "0" + bsn }), ("slashed", { (bsn: String) in "\(bsn.prefix(3))/\(bsn.dropFirst(3).prefix(3))/\(bsn.suffix(3))" })] {
            let folder = temporaryFolder("bsn-\(name)")
            let result = try importing(try write(keyed(bsns(4).map(format)), in: folder), in: folder)
            #expect(result.status == 3, "\(name): \(result.stderr)")
        }
    }

    @Test func exportedAtIsAStrictTimestamp() throws {
        for text in ["2026-11-22T10:00:00Zxyz", "2026-11-21T23:40:00+01:00\n\n# GEHACKT", "2026-11-21T23:40:00+99:00",
                     "2026-02-30T10:00:00Z", "2026-11-21T24:00:00Z", "2026-11-21 23:40:00+01:00", "2026-11-21T23:40:00"] {
            #expect(Manifest.parseTimestamp(text) == nil, "\(text.debugDescription)")
        }
        #expect(Manifest.parseTimestamp("2026-11-21T23:40:00+01:00") == Manifest.parseTimestamp("2026-11-21T22:40:00Z"))
        #expect(Manifest.parseTimestamp("2026-11-21T22:40:00.250Z")?.timeIntervalSince(Manifest.parseTimestamp("2026-11-21T22:40:00Z")!) == 0.25)
        #expect(Manifest.parseTimestamp("2026-11-21T22:40:00Z")?.timeIntervalSince1970 == 1_795_300_800)
        let folder = temporaryFolder("exported-at")
        var export = MiniExport()
        export.exportedAt = "2026-11-21T23:40:00+01:00\n\nDRINGEND: log in op https://evil.example"
        let result = try importing(try write(export, in: folder), in: folder)
        #expect(result.status == 1)
        #expect(!result.stderr.contains("DRINGEND") || !result.stderr.contains("\nDRINGEND"))
    }

    /// The mini export imported into the portal of `folder`, and the next night's export of the same files
    /// written beside it (not imported).
    func nextNightAfterAnImport(in folder: URL) throws -> URL {
        var export = MiniExport()
        #expect(try importing(try write(export, in: folder, name: "n1"), in: folder).status == 0)
        export.exportedAt = "2026-11-22T01:00:00+01:00"
        return try write(export, in: folder, name: "n2")
    }

    /// Replaces a parent's address in the `ouders.csv` of `export`, under its manifest's checksum.
    func plantAttackerAddress(in export: URL) throws {
        let ouders = export.appendingPathComponent("ouders.csv")
        let text = try String(contentsOf: ouders, encoding: .utf8).replacingOccurrences(of: "marieke@example.nl", with: "attacker@evil.example")
        try Data(text.utf8).write(to: ouders)
    }

    /// A nightly run does not read a file whose manifest gives the SHA-256 of the file it applied last; the
    /// file itself is still hashed, so one altered under an unchanged manifest line is refused, not skipped.
    @Test func aFileThatTheManifestCallsUnchangedIsHashedAllTheSame() throws {
        let folder = temporaryFolder("unchanged-claim")
        let next = try nextNightAfterAnImport(in: folder)
        try plantAttackerAddress(in: next)
        let result = try importing(next, in: folder)
        #expect(result.status == 3, "\(result.stdout) \(result.stderr)")
        #expect(try reportIssues(result, folder).contains { $0["code"] as? String == "manifest-checksum" && $0["file"] as? String == "ouders.csv" })
        let portal = try Database(path: folder.appendingPathComponent("portal.sqlite").path, mode: .readOnly)
        #expect(try portal.scalarInt("SELECT COUNT(*) FROM parents WHERE email LIKE '%evil%'") == 0)
    }

    /// The files the run reads are hashed as they are read, but a run the gate stops before reading (an
    /// export applied before, one too old) is refused for its altered files as a gate that hashed every file
    /// first refused it: exit 3, every altered file named, and nothing else said of the export.
    @Test func anAlteredExportIsRefusedForItsFilesWhereTheGateWouldStopItBeforeReading() throws {
        let folder = temporaryFolder("altered-before-read")
        func alter(_ path: URL) throws {
            for name in ["ouders.csv", "kalender.csv"] {
                let file = path.appendingPathComponent(name)
                try Data((try String(contentsOf: file, encoding: .utf8) + "\n").utf8).write(to: file)
            }
        }
        func refusal(_ result: ProcessResult, _ why: String) throws {
            #expect(result.status == 3, "\(why): \(result.stdout) \(result.stderr)")
            let issues = try reportIssues(result, folder).filter { $0["severity"] as? String != "info" }
            #expect(issues.map { "\($0["code"] ?? "-")|\($0["file"] ?? "-")" }.sorted()
                    == ["manifest-checksum|kalender.csv", "manifest-checksum|ouders.csv"], "\(why): \(issues)")
        }
        // Applied before, then altered under the same manifest: the export looks applied, but is not that export.
        let applied = try write(MiniExport(), in: folder, name: "applied")
        #expect(try importing(applied, in: folder).status == 0)
        try alter(applied)
        try refusal(try importing(applied, in: folder), "applied before")

        // Too old to read.
        var old = MiniExport()
        old.exportedAt = "2026-11-10T23:40:00+01:00"
        let stale = try write(old, in: folder, name: "stale")
        try alter(stale)
        try refusal(try importing(stale, in: folder), "too old")
    }

    /// A file skipped as applied and one read last, both altered, in a nightly and in a scoped run: the run
    /// is refused naming both, as when every file was hashed before a row was read, and nothing is applied.
    @Test func aSkippedAndALateFileBothAlteredAreBothNamedInEveryKindOfRun() throws {
        let folder = temporaryFolder("altered-skipped-late")
        let next = try nextNightAfterAnImport(in: folder)
        try plantAttackerAddress(in: next)
        let kalender = next.appendingPathComponent("kalender.csv")
        try Data((try String(contentsOf: kalender, encoding: .utf8) + "01-02-2027;01-02-2027;Sluitingsdag;;x\n").utf8).write(to: kalender)
        for extra in [[], ["--only", "parent=O1"]] {
            let result = try importing(next, in: folder, extra)
            #expect(result.status == 3, "\(extra): \(result.stdout) \(result.stderr)")
            let named = try reportIssues(result, folder).filter { $0["code"] as? String == "manifest-checksum" }.compactMap { $0["file"] as? String }
            #expect(named.sorted() == ["kalender.csv", "ouders.csv"], "\(extra)")
            #expect(!result.stdout.contains("applied"), "\(extra): \(result.stdout)")
        }
        let portal = try Database(path: folder.appendingPathComponent("portal.sqlite").path, mode: .readOnly)
        #expect(try portal.scalarInt("SELECT COUNT(*) FROM parents WHERE email LIKE '%evil%'") == 0)
    }

    @Test func aFileChangedAfterItsCheckIsNotApplied() throws {
        let folder = temporaryFolder("toctou")
        let path = try write(MiniExport(), in: folder)
        let mapping = try BuiltInMapping.flexkidsCSV.mapping()
        var source = CSVExportSource(directory: path.path, mapping: mapping)
        let manifest = try source.loadManifest()
        #expect(source.verify(manifest).isEmpty)
        source.expectedSHA256 = Dictionary(uniqueKeysWithValues: manifest.files.compactMap { file in file.sha256.map { (file.name, $0) } })
        // Replaced between the check and the read, with the same number of rows.
        let ouders = path.appendingPathComponent("ouders.csv")
        let text = try String(contentsOf: ouders, encoding: .utf8).replacingOccurrences(of: "marieke@example.nl", with: "attacker@evil.example")
        try Data(text.utf8).write(to: ouders)
        #expect(throws: ExportFailure.self) {
            _ = try source.read(.parent, warn: { _ in }, reject: { _, _ in }, row: { _ in })
        }
    }

    @Test func theRunsTableShowsNoEscapeSequenceFromAFolderName() throws {
        // A short path, so that the table's column width does not cut the sequence off.
        let folder = URL(fileURLWithPath: "/tmp/r\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = try write(MiniExport(), in: folder, name: "x\u{1B}]0;PWNED\u{07}\u{1B}[2J")
        #expect(try importing(path, in: folder).status == 0)
        for format in ["table", "csv"] {
            let runs = try opvangsync(["runs", "--format", format], in: folder)
            #expect(runs.stdout.contains("PWNED"), "the row is there: \(runs.stdout)")
            #expect(!runs.stdout.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 }, "\(format): \(runs.stdout.debugDescription)")
        }
    }

    @Test func aHardLinkedOrLinkedLockFileChangesNothing() throws {
        let folder = temporaryFolder("hardlink")
        let victim = folder.appendingPathComponent("victim.txt")
        try Data("DATA\n".utf8).write(to: victim)
        let work = folder.appendingPathComponent("work")
        try FileManager.default.createDirectory(at: work.appendingPathComponent("metrics"), withIntermediateDirectories: true)
        try FileManager.default.linkItem(at: victim, to: work.appendingPathComponent("portal.sqlite.lock"))
        let result = try importing(try write(MiniExport(), in: folder), in: work)
        #expect(result.status == 1, "\(result.stderr)")
        #expect(try String(contentsOf: victim, encoding: .utf8) == "DATA\n")

        // The metrics file's lock, likewise.
        try FileManager.default.removeItem(at: work.appendingPathComponent("portal.sqlite.lock"))
        try Data(#"{"metrics": "metrics/opvangsync.prom"}"#.utf8).write(to: work.appendingPathComponent("opvangsync.json"))
        let created = folder.appendingPathComponent("created-through-link")
        try FileManager.default.createSymbolicLink(atPath: work.appendingPathComponent("metrics/opvangsync.prom.lock").path, withDestinationPath: created.path)
        _ = try importing(try write(MiniExport(), in: folder, name: "again"), in: work)
        #expect(!FileManager.default.fileExists(atPath: created.path))
    }

    @Test func aDoubledColumnAndAnEndlessValueAreRefused() throws {
        let folder = temporaryFolder("doubled")
        var export = MiniExport()
        export["kinderen.csv"][0] = "Kindnummer;Roepnaam;Tussenvoegsel;Achternaam;Geboortedatum;Kindnummer"
        let doubled = try importing(try write(export, in: folder), in: folder)
        #expect(doubled.status == 1)
        #expect(doubled.stderr.contains("duplicate-column"))

        let long = temporaryFolder("endless")
        var endless = MiniExport()
        endless["kinderen.csv"][1] = "K1;\(String(repeating: "Zoë", count: 20_000));van;Dijk;03-02-2024;M1"
        let result = try importing(try write(endless, in: long), in: long)
        #expect(try reportIssues(result, long).contains { $0["code"] as? String == "value-too-long" })
    }

    // MARK: Third round

    @Test func reportRetentionDeletesNothingThroughALinkedReportFolder() throws {
        let folder = temporaryFolder("retention-link")
        let victim = folder.appendingPathComponent("victim")
        try FileManager.default.createDirectory(at: victim, withIntermediateDirectories: true)
        for name in ["20200101T000000Z-abcdef.json", "20200101T000000Z-abcdef.md", "keep.txt"] {
            try Data("x\n".utf8).write(to: victim.appendingPathComponent(name))
        }
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("reports"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: folder.appendingPathComponent("reports/mini").path, withDestinationPath: victim.path)
        _ = try importing(try write(MiniExport(), in: folder), in: folder)
        #expect(try FileManager.default.contentsOfDirectory(atPath: victim.path).sorted()
                == ["20200101T000000Z-abcdef.json", "20200101T000000Z-abcdef.md", "keep.txt"])
    }

    @Test func aDecoyFromTheFutureInTheInboxDoesNotBlockTheRealExport() throws {
        let folder = temporaryFolder("decoy")
        let inbox = folder.appendingPathComponent("inbox")
        try MiniExport().write(to: inbox.appendingPathComponent("2026-11-21"))
        var decoy = MiniExport()
        decoy.exportedAt = "2099-01-01T00:00:00+01:00"
        try decoy.write(to: inbox.appendingPathComponent("zz-decoy"))
        // Uploaded after the real export: a folder written within the same tick of the file system's clock
        // would otherwise carry the same time.
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(60)],
                                              ofItemAtPath: inbox.appendingPathComponent("zz-decoy").path)
        try Data(#"{"organisations": [{"id": "mini", "inbox": "inbox"}]}"#.utf8).write(to: folder.appendingPathComponent("opvangsync.json"))
        let result = try opvangsync(["import", "--org", "mini", "--as-of", "2026-11-22"], in: folder)
        #expect(result.status == 0, "\(result.stderr)")
        let issues = try reportIssues(result, folder)
        #expect(issues.contains { $0["code"] as? String == "inbox-folder-passed-over" && ($0["file"] as? String)?.hasSuffix("zz-decoy") == true })
    }
}
