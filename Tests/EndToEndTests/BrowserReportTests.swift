import Foundation
import OpvangSync
import TestSupport
import Testing

/// Issue 15: the web page report in a real browser. Debian's headless Chromium prints the sample import's
/// report to PDF and `pdftotext` (poppler-utils) reads back what a reader of the printout sees; a name with
/// `<script>` in the export must show as text. Chromium and poppler-utils are in the Makefile's PACKAGES:
/// a machine without them fails this suite instead of skipping it.
@Suite(.serialized) struct BrowserReportTests {
    static let asOf = "2026-11-22"

    /// A program on PATH.
    func program(_ name: String) throws -> String {
        for folder in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let path = "\(folder)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw Missing(name: name)
    }

    struct Missing: Error, CustomStringConvertible {
        let name: String
        var description: String { "\(name) is not installed: run `make deps` (Debian packages chromium and poppler-utils)" }
    }

    /// Headless Chromium with a profile of its own; as root (CI) only without its sandbox, which needs an
    /// unprivileged user. Nothing is loaded from the network: the page forbids it.
    func chromium(_ arguments: [String], in folder: URL) throws -> ProcessResult {
        var options = ["--headless", "--disable-gpu", "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                       "--disable-dev-shm-usage", "--user-data-dir=\(folder.appendingPathComponent("chromium-profile").path)"]
        if getuid() == 0 { options.append("--no-sandbox") }
        return try runProcess("/usr/bin/timeout", ["180", try program("chromium")] + options + arguments, in: folder)
    }

    /// The page printed to PDF (A4, from its print style sheet) and the PDF's text as pdftotext reads it.
    func printed(_ html: String, in folder: URL) throws -> (text: String, info: String) {
        let pdf = folder.appendingPathComponent(UUID().uuidString + ".pdf").path
        let printing = try chromium(["--no-pdf-header-footer", "--print-to-pdf=\(pdf)", URL(fileURLWithPath: html).absoluteString], in: folder)
        #expect(FileManager.default.fileExists(atPath: pdf), "chromium made no PDF: \(printing.stderr)")
        let text = try runProcess(try program("pdftotext"), ["-layout", "-enc", "UTF-8", pdf, "-"], in: folder)
        let info = try runProcess(try program("pdfinfo"), [pdf], in: folder)
        return (text.stdout, info.stdout)
    }

    func htmlPath(_ report: [String: Any], in folder: URL) -> String {
        folder.appendingPathComponent("reports/zonnebloem/\(report["runId"] as? String ?? "").html").path
    }

    /// The sample export of the next night: one Maandag changed and a parent's Voornaam that holds markup.
    func nextNight(in folder: URL) throws -> URL {
        let source = URL(fileURLWithPath: Package.sample("zonnebloem"))
        let target = folder.appendingPathComponent("zonnebloem-next")
        try FileManager.default.copyItem(at: source, to: target)
        func edit(_ name: String, _ change: ([UInt8]) -> [UInt8]) throws -> [UInt8] {
            let url = target.appendingPathComponent(name)
            let bytes = change(Array(try Data(contentsOf: url)))
            try Data(bytes).write(to: url)
            return bytes
        }
        func replacing(_ old: String, _ new: String) -> ([UInt8]) -> [UInt8] {
            { bytes in
                let data = Data(bytes)
                guard let range = data.range(of: Data(old.utf8)) else { return bytes }
                var copy = data
                copy.replaceSubrange(range, with: Data(new.utf8))
                return Array(copy)
            }
        }
        var hashes: [String: String] = [:]
        hashes["plaatsingen.csv"] = SHA256.hex(of: try edit("plaatsingen.csv", replacing(
            "300001;100001;LOC001-G04;PG;52 weken;04-04-2025;;;", "300001;100001;LOC001-G04;PG;52 weken;04-04-2025;;08:30-12:30;")))
        // ouders.csv is Windows-1252: the markup is ASCII, the rest of the line stays as it was.
        hashes["ouders.csv"] = SHA256.hex(of: try edit("ouders.csv", replacing("\n200019;", "\n200019;<script>alert(1)</script>")))
        let manifestURL = target.appendingPathComponent("manifest.json")
        var manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: manifestURL)) as? [String: Any] ?? [:]
        manifest["exportedAt"] = "2026-11-22T23:40:00+01:00"
        manifest["files"] = (manifest["files"] as? [[String: Any]] ?? []).map { file in
            var copy = file
            if let name = file["name"] as? String, let hash = hashes[name] { copy["sha256"] = hash }
            return copy
        }
        try JSONSerialization.data(withJSONObject: manifest, options: [.prettyPrinted, .sortedKeys]).write(to: manifestURL)
        return target
    }

    @Test func theSampleImportsReportPrintsAsA4WithWhatItsReadersNeed() throws {
        let folder = temporaryFolder("browser")
        let first = try opvangsync(["import", Package.sample("zonnebloem"), "--as-of", Self.asOf], in: folder)
        #expect(first.status == 0, "\(first.stderr)")
        let report = try reportJSON(of: first, in: folder)
        let (text, info) = try printed(htmlPath(report, in: folder), in: folder)
        #expect(info.contains("(A4)"), "\(info)")
        #expect((Int(info.firstMatch(of: /Pages:\s+(\d+)/)?.1 ?? "0") ?? 0) > 1, "a long report runs over several pages")
        #expect(text.contains("Importrapport Kinderopvang De Zonnebloem"), "the organisation name")
        #expect(text.contains("Wat betekent dit?") && text.contains("Wat moet er gebeuren?"))
        // A local time: when the run started, as Amsterdam reads it.
        #expect(text.contains(DutchText.localTime(report["startedAt"] as? String ?? "")), "a local time")
        #expect(text.contains("21-11-2026 23:40"), "the export's time, local")
        // An invited parent who gets the mail at the address in E-mail 2: on the same printed row.
        let invited = ((report["parentAccounts"] as? [String: Any])?["invited"] as? [[String: Any]]) ?? []
        let parent = try #require(invited.first { $0["column"] as? String == "E-mail 2" })
        let address = try #require(parent["address"] as? String)
        let row = try #require(text.split(separator: "\n").first { $0.contains(address) }, "\(address) is not in the printout")
        #expect(row.contains("E-mail 2") && row.contains(parent["parent"] as? String ?? "?"), "\(row)")
        // Dutch field names in the rows the warnings name.
        #expect(text.contains("kolom 5 (E-mail)"))
        // The technical section is the last, on a page of its own.
        #expect(text.contains("Technische gegevens"))
        #expect(!text.contains("maxExportAgeHours"))
    }

    @Test func theNextNightShowsDutchFieldNamesAndMarkupFromTheExportAsText() throws {
        let folder = temporaryFolder("browser-next")
        #expect(try opvangsync(["import", Package.sample("zonnebloem"), "--as-of", Self.asOf], in: folder).status == 0)
        let next = try opvangsync(["import", try nextNight(in: folder).path, "--as-of", "2026-11-23"], in: folder)
        #expect(next.status == 0, "\(next.stderr)")
        let report = try reportJSON(of: next, in: folder)
        let html = htmlPath(report, in: folder)
        let (text, _) = try printed(html, in: folder)
        #expect(text.contains("Maandag: — → 08:30-12:30"), "a Dutch field name with the change")
        #expect(text.contains("Voornaam: Bas → <script>alert(1)</script>Bas"), "markup from the export shows as text")
        #expect(!text.contains("monday") && !text.contains("firstName"))

        // The screenshot for the README: the top of the page as a reader first sees it.
        let shots = Package.root.appendingPathComponent(".build/browser")
        try FileManager.default.createDirectory(at: shots, withIntermediateDirectories: true)
        let png = shots.appendingPathComponent("report.png").path
        try? FileManager.default.removeItem(atPath: png)
        let shot = try chromium(["--hide-scrollbars", "--window-size=1100,1500", "--screenshot=\(png)", URL(fileURLWithPath: html).absoluteString],
                                in: folder)
        let bytes = try #require(FileManager.default.contents(atPath: png), "no screenshot: \(shot.stderr)")
        #expect(bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]), "a PNG")
        #expect(bytes.count > 20_000, "a page, not an empty canvas")
    }
}
