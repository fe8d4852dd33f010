import Foundation
import OpvangSync
import PortalStore
import TestSupport
import Testing

/// Issue 15: the reports and look-ups as Dutch customer service and an auditor read them, through the built
/// binary: the export's own column names, local times, Dutch statuses and plurals, the invited parents
/// with the column used, and CLI options, configuration keys and codes only in "Technische gegevens".
@Suite struct ReportReadingTests {
    static let technicalHeading = "## Technische gegevens"

    func file(_ report: [String: Any], _ suffix: String, in folder: URL) throws -> String {
        let id = report["runId"] as? String ?? ""
        let organisation = (report["organisation"] as? [String: Any])?["id"] as? String ?? "mini"
        return try String(contentsOf: folder.appendingPathComponent("reports/\(organisation)/\(id)\(suffix)"), encoding: .utf8)
    }

    /// The part of a Markdown report customer service reads: everything before "Technische gegevens".
    func body(_ markdown: String) -> String {
        markdown.components(separatedBy: Self.technicalHeading).first ?? markdown
    }

    /// What may not stand in Dutch text for customer service: options, configuration keys, issue codes,
    /// English statuses, UTC instants.
    func technicalTerms(in text: String, codes: [String]) -> [String] {
        var found: [String] = []
        // Keys are shown as they are (a deviation's key holds its date as stored): dates are checked outside them.
        let prose = text.replacingOccurrences(of: #"`[^`]*`"#, with: "", options: .regularExpression)
        if let range = prose.range(of: #"\b\d{4}-\d{2}-\d{2}\b"#, options: .regularExpression) { found.append(String(prose[range])) }
        let patterns = [#"(^|\s)--[a-z]"#, #"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}"#,
                        #"\b(maxExportAgeHours|maxRejectedFraction|maxRemovalFraction|inviteDaysBeforeStart|activationValidDays|attendanceHorizonDays|batchDeadlineSeconds|reportRetentionDays|passwordFile|caFile)\b"#,
                        #"\b(applied|skipped|aborted|failed|invited|queued|cancelled|bounced|active|disabled|dry-run)\b"#,
                        #"\[[a-z]+(-[a-z]+)+\]"#, #"\b(error|warning): "#, #"`opvangsync"#]
        for pattern in patterns {
            if let range = text.range(of: pattern, options: .regularExpression) { found.append(String(text[range])) }
        }
        for code in Set(codes) where code.contains("-") && text.contains(code) { found.append(code) }
        return found
    }

    func codes(_ report: [String: Any]) -> [String] {
        (report["issues"] as? [[String: Any]] ?? []).compactMap { $0["code"] as? String }
    }

    @Test func theReportNamesFieldsAsTheExportDoesAndGivesLocalTimes() throws {
        let folder = temporaryFolder("dutch-fields")
        var export = MiniExport()
        #expect(try night(export, "2026-11-22", in: folder).0.status == 0)
        // Night 2: K1's Maandag changes and Joost's E-mail goes (E-mail 2 takes over).
        export["plaatsingen.csv"][1] = "P1;K1;G1;KDV;52 weken;01-09-2025;;08:30-12:30;07:30-18:00;"
        export["ouders.csv"][0] = "Oudernummer;Voornaam;Achternaam;E-mail;E-mail 2"
        export["ouders.csv"][2] = "O2;Joost;Smit;;joost.smit@werk.example"
        let (second, report) = try night(export, "2026-11-23", in: folder)
        #expect(second.status == 0, "\(second.stderr)")
        for suffix in [".md", ".html"] {
            let text = try file(report, suffix, in: folder)
            #expect(text.contains("Maandag"), "\(suffix)")
            #expect(text.contains("07:30-18:00 → 08:30-12:30"), "\(suffix)")
            #expect(!text.contains("monday") && !text.contains("email2"), "\(suffix): a canonical field name")
            // Times: local (the run started at the wall clock; its as-of date is 23-11-2026).
            #expect(text.contains("23-11-2026"), "\(suffix)")
            #expect(text.range(of: #"\d{2}-\d{2}-\d{4} \d{2}:\d{2}"#, options: .regularExpression) != nil, "\(suffix): a local time")
        }
        let markdown = try file(report, ".md", in: folder)
        #expect(markdown.contains("**E-mail**: joost@example.nl → —"), "\(markdown)")
        #expect(markdown.contains("| Export gemaakt op | 23-11-2026 01:00 |"), "the manifest's +01:00 time, as Amsterdam reads it")
        // The invited parent, with the column the address came from.
        #expect(markdown.contains("## Uitgenodigde ouders (1)"))
        #expect(markdown.contains("| `O2` | Joost Smit | joost.smit@werk.example | E-mail 2 | nieuw e-mailadres, account nog niet geactiveerd |"), "\(markdown)")
        #expect(technicalTerms(in: body(markdown), codes: codes(report)).isEmpty, "\(technicalTerms(in: body(markdown), codes: codes(report)))")
    }

    @Test func theFirstReportListsTheInvitedParentsAndThoseWithoutAnAccount() throws {
        let folder = temporaryFolder("invited")
        var export = MiniExport()
        export["ouders.csv"].append("O4;Bas;Leeg;;bas@@example")
        export["kinderen.csv"].append("K4;Tim;;Leeg;01-01-2022;")
        export["relaties.csv"].append("K4;O4;Ouder 1")
        export["plaatsingen.csv"].append("P4;K4;G2;BSO;52 weken;01-09-2025;;14:00-18:30;;")
        let (result, report) = try night(export, "2026-11-22", in: folder)
        #expect(result.status == 0, "\(result.stderr)")
        let markdown = try file(report, ".md", in: folder)
        #expect(markdown.contains("## Uitgenodigde ouders (3)"))
        #expect(markdown.contains("| `O3` | Inge Vries | inge@example.nl | E-mail 2 | nieuw account |"), "\(markdown)")
        #expect(markdown.contains("| `O1` | Marieke Dijk | marieke@example.nl | E-mail | nieuw account |"))
        #expect(markdown.contains("## Ouders zonder account (1)"))
        #expect(markdown.contains("| `O4` | Bas Leeg | geen bruikbaar e-mailadres (E-mail is leeg; E-mail 2 is ongeldig: er moet precies één @ in staan) |"), "\(markdown)")
        let parents = report["parentAccounts"] as? [String: Any]
        #expect((parents?["invited"] as? [[String: Any]])?.map { $0["column"] as? String } == ["E-mail", "E-mail", "E-mail 2"])
        // Figures per location and per group.
        #expect(markdown.contains("| De Zonnebloem `L1` | 2 | 4 | 4 | 4 | 0 | 0 |"), "\(markdown)")
        #expect(markdown.contains("| Groep | Erbij | Eraf | Gewijzigd |"))
        #expect(technicalTerms(in: body(markdown), codes: codes(report)).isEmpty, "\(technicalTerms(in: body(markdown), codes: codes(report)))")
    }

    @Test func anIncrementalRunGivesTheSameFiguresPerLocationAndParentsWithoutAnAccountAsAFullOne() throws {
        var export = MiniExport()
        export["locaties.csv"].append("L2;Het Kabouterhuis")
        export["groepen.csv"].append("G3;L2;Bevers;KDV;10")
        // A location this night does not touch: its families are no part of the incremental run's scope.
        export["locaties.csv"].append("L3;Villa Kakelbont")
        export["groepen.csv"].append("G4;L3;Otters;BSO;20")
        export["kinderen.csv"].append(contentsOf: ["K5;Sem;;Visser;01-01-2019;", "K6;Noa;;Visser;01-01-2020;"])
        export["ouders.csv"].append(contentsOf: ["O5;Eva;Visser;eva@example.nl;", "O7;Piet;Visser;;"])
        export["relaties.csv"].append(contentsOf: ["K5;O5;Ouder 1", "K6;O5;Ouder 1", "K5;O7;Ouder 2"])
        export["plaatsingen.csv"].append(contentsOf: ["P5;K5;G4;BSO;52 weken;01-09-2025;;14:00-18:30;;",
                                                      "P6;K6;G4;BSO;52 weken;01-09-2025;;;14:00-18:30;",
                                                      "P7;K6;G4;BSO;52 weken;01-06-2027;;;14:00-18:30;",    // beyond the horizon
                                                      "P8;K5;G4;BSO;52 weken;01-09-2025;;;14:00-18:30;"])   // a second day: one child still
        var next = export
        next["plaatsingen.csv"][1] = "P1;K1;G3;KDV;52 weken;01-09-2025;;07:30-18:00;07:30-18:00;"   // to the other location
        next["plaatsingen.csv"][2] = "P2;K2;G2;BSO;Schoolweken;01-09-2025;22-11-2026;14:00-18:30;;even"  // ends
        next["kinderen.csv"].append("K4;Tim;;Bos;01-01-2022;")
        next["plaatsingen.csv"].append("P4;K4;G3;KDV;52 weken;01-12-2026;;08:00-17:00;;")                // starts later
        var figures: [[[String: Any]]] = []
        var without: [[String]] = []
        // The same day again (a corrected export that afternoon): no day of the lists' horizon is new, so
        // an incremental run reads nothing of the groups it does not touch.
        next.exportedAt = "2026-11-22T14:00:00+01:00"
        for extra in [[], ["--full"]] {
            let folder = temporaryFolder("locations")
            #expect(try night(export, "2026-11-22", in: folder).0.status == 0)
            let path = try next.write(to: folder.appendingPathComponent("afternoon"))
            let result = try opvangsync(["import", path.path, "--as-of", "2026-11-22"] + extra, in: folder)
            let report = try reportJSON(of: result, in: folder)
            #expect(result.status == 0, "\(result.stderr)")
            #expect((report["comparison"] as? [String: Any])?["mode"] as? String == (extra.isEmpty ? "incremental" : "full"))
            figures.append(report["locations"] as? [[String: Any]] ?? [])
            without.append(((report["parentAccounts"] as? [String: Any])?["withoutAccount"] as? [[String: Any]] ?? []).compactMap { $0["parent"] as? String })
        }
        #expect(without[0] == ["O7"] && without[1] == ["O7"], "a parent without an account is listed every night: \(without)")
        #expect(figures[0].count == 3)
        let villa = figures[0].first { $0["code"] as? String == "L3" }
        #expect(villa?["childrenInCare"] as? Int == 2 && villa?["groups"] as? Int == 1 && villa?["placements"] as? Int == 4, "\(villa ?? [:])")
        #expect(NSArray(array: figures[0]) == NSArray(array: figures[1]), "incremental \(figures[0]) full \(figures[1])")
        let kabouterhuis = figures[0].first { $0["code"] as? String == "L2" }
        #expect(kabouterhuis?["childrenInCare"] as? Int == 1 && kabouterhuis?["placements"] as? Int == 2 && kabouterhuis?["placementsCreated"] as? Int == 1)
    }

    @Test func optionsKeysAndCodesStayInTheTechnicalSection() throws {
        let folder = temporaryFolder("technical")
        // Stale: refused with the rule's configuration key, which only IT needs.
        var stale = MiniExport()
        stale.exportedAt = "2026-11-19T01:00:00+01:00"
        let path = try stale.write(to: folder.appendingPathComponent("stale"))
        let refused = try opvangsync(["import", path.path, "--as-of", "2026-11-22"], in: folder)
        #expect(refused.status == 3)
        let aborted = try reportJSON(of: refused, in: folder)
        let markdown = try file(aborted, ".md", in: folder)
        #expect((aborted["abortReason"] as? String)?.contains("maxExportAgeHours") == true, "the JSON keeps the key for IT")
        #expect(technicalTerms(in: body(markdown), codes: codes(aborted)).isEmpty, "\(technicalTerms(in: body(markdown), codes: codes(aborted)))")
        #expect(body(markdown).contains("de grens is 36 uur"))
        let technical = markdown.components(separatedBy: Self.technicalHeading).last ?? ""
        #expect(technical.contains("maxExportAgeHours") && technical.contains("`stale-export`") && technical.contains("--force"))

        // Already imported: the advice names no option.
        #expect(try night(MiniExport(), "2026-11-22", in: folder).0.status == 0)
        let (_, skipped) = try night(MiniExport(), "2026-11-22", in: folder)
        #expect(skipped["status"] as? String == "skipped")
        let skippedText = try file(skipped, ".md", in: folder)
        #expect(technicalTerms(in: body(skippedText), codes: codes(skipped)).isEmpty, "\(technicalTerms(in: body(skippedText), codes: codes(skipped)))")
        #expect(body(skippedText).contains("overgeslagen"))

        // A broken file: the reason without `error:` and `[unbalanced-quote]`.
        let failed = try opvangsync(["import", Package.sample("broken/unbalanced-quote"), "--as-of", "2026-11-22", "--db", "other.sqlite"], in: folder)
        #expect(failed.status == 1)
        let failedReport = try reportJSON(of: failed, in: folder)
        let failedText = try file(failedReport, ".md", in: folder)
        #expect(technicalTerms(in: body(failedText), codes: codes(failedReport)).isEmpty, "\(technicalTerms(in: body(failedText), codes: codes(failedReport)))")
        #expect(failedText.components(separatedBy: Self.technicalHeading).last?.contains("`unbalanced-quote`") == true)
    }

    @Test func countsAreInDutchSingularAndPlural() throws {
        let folder = temporaryFolder("plural")
        #expect(try night(MiniExport(), "2026-11-22", in: folder).0.status == 0)
        let refreshed = try opvangsync(["attendance", "refresh", "--group", "G1", "--as-of", "2026-11-22"], in: folder)
        #expect(refreshed.status == 0, "\(refreshed.stderr)")
        let reports = folder.appendingPathComponent("reports/mini")
        let markdowns = try FileManager.default.contentsOfDirectory(atPath: reports.path).filter { $0.hasSuffix(".md") }
            .map { try String(contentsOf: reports.appendingPathComponent($0), encoding: .utf8) }
        let markdown = try #require(markdowns.first { $0.contains("planning verversen (zonder export)") })
        #expect(markdown.contains("1 groep, 29 dagen vanaf de peildatum"), "\(markdown)")
        #expect(!markdown.contains("1 groepen"))
    }

    @Test func historyAndRunsSpeakDutchAndTheirJSONIsNested() throws {
        let folder = temporaryFolder("history-dutch")
        var export = MiniExport()
        #expect(try night(export, "2026-11-22", in: folder).0.status == 0)
        export["plaatsingen.csv"][1] = "P1;K1;G2;BSO;52 weken;01-09-2025;;07:30-18:00;07:30-18:00;"
        #expect(try night(export, "2026-11-23", in: folder).0.status == 0)

        let history = try opvangsync(["history", "placement", "P1"], in: folder)
        #expect(history.status == 0)
        #expect(history.stdout.contains("Groepcode: G1 → G2") && history.stdout.contains("gewijzigd"), "\(history.stdout)")
        #expect(!history.stdout.contains("groupCode") && !history.stdout.contains("updated"))
        let child = try opvangsync(["history", "child", "K1"], in: folder)
        #expect(child.stdout.contains("Roepnaam: — → Zoë"), "\(child.stdout)")

        let json = try opvangsync(["history", "placement", "P1", "--format", "json"], in: folder)
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        let changed = try #require(entries.last?["changes"] as? [[String: Any]], "changes as objects, not a string")
        #expect(changed.contains { $0["field"] as? String == "groupCode" && $0["old"] as? String == "G1" && $0["new"] as? String == "G2" })

        let runs = try opvangsync(["runs", "--format", "json"], in: folder)
        let list = try #require(try JSONSerialization.jsonObject(with: Data(runs.stdout.utf8)) as? [[String: Any]])
        #expect((list.first?["options"] as? [String: Any])?["force"] as? Bool == false)
        #expect(((list.first?["summary"] as? [String: Any])?["counts"] as? [String: Any])?["placement"] != nil)
        let table = try opvangsync(["runs"], in: folder)
        #expect(table.stdout.contains("verwerkt") && !table.stdout.contains("applied"))
        #expect(table.stdout.range(of: #"\d{2}-\d{2}-\d{4} \d{2}:\d{2}"#, options: .regularExpression) != nil)
    }

    @Test func historyOfAnUnknownKeyIsAnError() throws {
        let folder = temporaryFolder("history-unknown")
        #expect(try night(MiniExport(), "2026-11-22", in: folder).0.status == 0)
        let unknown = try opvangsync(["history", "child", "K99"], in: folder)
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("onbekend"), "\(unknown.stderr)")
        #expect(unknown.stdout.isEmpty)
        // A key that exists but never changed after it was made is no error.
        #expect(try opvangsync(["history", "child", "K2"], in: folder).status == 0)
    }

    @Test func historyTakesTheSameKindsInItsHelpItsErrorsAndTheReadme() throws {
        let folder = temporaryFolder("history-kinds")
        #expect(try night(MiniExport(), "2026-11-22", in: folder).0.status == 0)
        let help = try opvangsync(["history", "--help"], in: folder).stdout
        let helpKinds = try #require(help.firstMatch(of: /history ([a-z|]+) ID/)).1.split(separator: "|").map(String.init)
        let error = try opvangsync(["history", "kitten", "1"], in: folder)
        #expect(error.status == 2)
        let errorKinds = try #require(error.stderr.firstMatch(of: /history takes ([a-z, ]+), not/)).1
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let readme = try String(contentsOf: Package.root.appendingPathComponent("README.md"), encoding: .utf8)
        let readmeKinds = try #require(readme.firstMatch(of: /opvangsync history ([a-z|]+) ID/)).1.split(separator: "|").map(String.init)
        #expect(helpKinds == EntityKind.allCases.map(\.rawValue))
        #expect(errorKinds == helpKinds)
        #expect(readmeKinds == helpKinds)
        for kind in helpKinds { #expect(try opvangsync(["history", kind, "nope"], in: folder).status != 2, "\(kind) is refused as a kind") }
    }

    @Test func accountsShowFindsAChildsParentsWithBothAddressesAndWhichIsUsed() throws {
        let folder = temporaryFolder("show-child")
        var export = MiniExport()
        export["ouders.csv"][0] = "Oudernummer;Voornaam;Achternaam;E-mail;E-mail 2"
        export["ouders.csv"][1] = "O1;Marieke;Dijk;marieke@@example.nl;marieke@werk.example"
        export["ouders.csv"].append("O5;Kees;Dijk;kees@example.nl;")
        export["relaties.csv"].append("K1;O5;Ouder 2")
        #expect(try night(export, "2026-11-22", in: folder).0.status == 0)
        let shown = try opvangsync(["accounts", "show", "K1"], in: folder)
        #expect(shown.status == 0, "\(shown.stderr)")
        let out = shown.stdout
        #expect(out.contains("Kind K1 Zoë van Dijk"))
        #expect(out.contains("Ouder O1 Marieke Dijk") && out.contains("Ouder O5 Kees Dijk"), "\(out)")
        #expect(out.contains("E-mail:              marieke@@example.nl\n"))
        #expect(out.contains("E-mail 2:            marieke@werk.example  ← gebruikt"))
        #expect(out.contains("waarom:              E-mail is ongeldig: er moet precies één @ in staan, dus E-mail 2"), "\(out)")
        #expect(out.contains("status:              uitgenodigd"))
        #expect(out.range(of: #"uitgenodigd:         \d{2}-\d{2}-\d{4} \d{2}:\d{2}"#, options: .regularExpression) != nil)
        #expect(!out.contains("invited") && !out.contains("queued"))
        #expect(out.contains("e-mail: wacht op verzending"))
        // By the address of E-mail 2 too, and an unknown number is "onbekend".
        #expect(try opvangsync(["accounts", "show", "Marieke@Werk.example"], in: folder).stdout.contains("Ouder O1 Marieke Dijk"))
        let unknown = try opvangsync(["accounts", "show", "K99"], in: folder)
        #expect(unknown.status == 1 && unknown.stderr.contains("onbekend"))
        let list = try opvangsync(["accounts", "list", "--status", "uitgenodigd"], in: folder)
        #expect(list.status == 0 && list.stdout.contains("uitgenodigd") && list.stdout.contains("O5"))
    }

    @Test func aResendRecordsWhoWhyAndTheAddressAndSaysWhereItWent() throws {
        let folder = temporaryFolder("resend-history")
        try Data(#"{ "mail": { "transport": "maildir:\#(folder.appendingPathComponent("mail").path)" } }"#.utf8)
            .write(to: folder.appendingPathComponent("opvangsync.json"))
        #expect(try night(MiniExport(), "2026-11-22", in: folder, ["--send-mail"]).0.status == 0)
        let me = Operator.current()
        let resend = try opvangsync(["accounts", "resend", "O3", "--reason", "ouder belde: geen mail gekregen"], in: folder)
        #expect(resend.status == 0, "\(resend.stderr)")
        #expect(resend.stdout.contains("verstuurd naar inge@example.nl (kolom E-mail 2)"), "\(resend.stdout)")
        let history = try opvangsync(["history", "parent", "O3"], in: folder)
        #expect(history.stdout.contains("nieuwe activatielink") && history.stdout.contains("ouder belde: geen mail gekregen"), "\(history.stdout)")
        #expect(history.stdout.contains(me) && history.stdout.contains("inge@example.nl"))
        let shown = try opvangsync(["accounts", "show", "O3"], in: folder)
        #expect(shown.stdout.contains("nieuwe activatielink naar inge@example.nl (kolom E-mail 2) door \(me): ouder belde: geen mail gekregen"), "\(shown.stdout)")
        #expect(shown.stdout.contains("ingetrokken op") && shown.stdout.contains("vervangen door een nieuwe link"))
        #expect(shown.stdout.contains("geldig tot en met"))
    }

    @Test func theWebPageIsSelfContainedEscapedPrintableAndKeptLikeTheOthers() throws {
        let folder = temporaryFolder("html")
        var export = MiniExport()
        export["ouders.csv"][1] = "O1;<script>alert('x')</script>;Dijk;marieke@example.nl;"
        export.organisationName = "Mini <b>&</b> \"Co\" onmouseover=\"x"
        let (result, report) = try night(export, "2026-11-22", in: folder)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains(".html"))
        let id = report["runId"] as? String ?? ""
        let path = folder.appendingPathComponent("reports/mini/\(id).html").path
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o640)
        let html = try String(contentsOfFile: path, encoding: .utf8)
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(!html.contains("<script"), "no script, from the data or otherwise")
        #expect(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"))
        #expect(!html.contains("\" onmouseover=") && html.contains("&quot;Co&quot; onmouseover=&quot;x"))
        #expect(html.contains("Mini &lt;b&gt;&amp;&lt;/b&gt;") && !html.contains("<b>"))
        #expect(html.contains("Content-Security-Policy") && html.contains("default-src 'none'"))
        for external in ["src=", "href=\"http", "url(", "@import", "<link", "<img", "<iframe", "<object"] {
            #expect(!html.contains(external), "\(external): nothing is loaded from elsewhere")
        }
        #expect(html.contains("@page { size: A4;") && html.contains("break-inside: avoid") && html.contains("display: table-header-group"))
        // The summary comes first, the technical details last.
        let summary = try #require(html.range(of: "Wat betekent dit?")), technical = try #require(html.range(of: "<h2>Technische gegevens</h2>"))
        #expect(summary.lowerBound < technical.lowerBound)
        for heading in ["Per locatie", "Uitgenodigde ouders", "E-mail", "Wijzigingen", "Aanwezigheidslijsten", "Na de opvang en bewaartermijnen", "Herkomst van deze run"] {
            #expect(html.contains("<h2>\(heading)"), "\(heading)")
        }
        #expect(html.contains("opvangsync-versie") && html.contains(opvangsyncVersion))
        // `report RUN_ID --format html` prints it.
        let printed = try opvangsync(["report", id, "--format", "html"], in: folder)
        #expect(printed.status == 0 && printed.stdout == html)
    }

    @Test func reportRetentionRemovesTheWebPageWithTheRest() throws {
        let folder = temporaryFolder("html-retention")
        let reports = folder.appendingPathComponent("reports/mini")
        try FileManager.default.createDirectory(at: reports, withIntermediateDirectories: true)
        for suffix in [".json", ".md", ".html"] {
            try Data("{}".utf8).write(to: reports.appendingPathComponent("20200101T000000Z-abcdef\(suffix)"))
        }
        try Data(#"{ "reportRetentionDays": 30 }"#.utf8).write(to: folder.appendingPathComponent("opvangsync.json"))
        #expect(try night(MiniExport(), "2026-11-22", in: folder).0.status == 0)
        let left = try FileManager.default.contentsOfDirectory(atPath: reports.path)
        #expect(!left.contains { $0.hasPrefix("20200101T000000Z-abcdef") }, "\(left)")
    }
}
