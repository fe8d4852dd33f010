import Foundation
import Testing
@testable import OpvangSync

/// SPEC §7: the JSON report lists every change. Its `changes` are written by hand (a first import has
/// hundreds of thousands); they must read back exactly as the encoder would have written them.
@Suite struct ReportJSONTests {
    func report(_ changes: [RunReport.ReportChange]) -> RunReport {
        var report = RunReport(
            runId: "20261122T010000Z-abcdef", organisation: .init(id: "mini", name: "Mini"), asOf: "2026-11-22",
            startedAt: "2026-11-22T01:00:00Z", finishedAt: "2026-11-22T01:00:05Z", mode: "apply", status: .applied,
            exitCode: 0, operator: "test", reason: nil, options: .init(), export: .init(path: "/srv/export"))
        report.changes = RunReport.ChangeList(changes)
        report.attendance = AttendanceSummary()
        return report
    }

    @Test func handWrittenChangesReadBackAsEncoded() throws {
        let changes = [
            RunReport.ReportChange(entity: "parent", key: "O1", action: .updated, fields: [
                FieldChange(field: "lastName", old: "Dijk \"de\"", new: "van\\Dijk\n2"),
                FieldChange(field: "email", old: nil, new: "zoë@example.nl"),
            ]),
            RunReport.ReportChange(entity: "child", key: "K\u{1}9", action: .created, fields: []),
            RunReport.ReportChange(entity: "placement", key: "P/3", action: .ended, fields: []),
        ]
        let written = try ReportWriter.json(report(changes))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let expected = try JSONSerialization.jsonObject(with: encoder.encode(report(changes))) as? NSDictionary
        let actual = try JSONSerialization.jsonObject(with: Data(written)) as? NSDictionary
        #expect(actual == expected)
        #expect(try JSONDecoder().decode(RunReport.self, from: Data(written)).changes.map(\.key) == ["O1", "K\u{1}9", "P/3"])
        #expect(written.last == 0x0A)
    }

    /// The changes spreadsheet: a created or ended record on one row, an updated one on a row per field.
    @Test func theChangesSpreadsheetHasARowPerChangedField() {
        let changes = [
            RunReport.ReportChange(entity: "parent", key: "O1", action: .updated, fields: [
                FieldChange(field: "lastName", old: "Dijk", new: "van Dijk"),
                FieldChange(field: "email", old: nil, new: "=zoë@example.nl"),
            ]),
            RunReport.ReportChange(entity: "child", key: "K9", action: .created, fields: []),
            RunReport.ReportChange(entity: "placement", key: "P3", action: .ended, fields: []),
        ]
        let csv = String(decoding: ReportWriter.changesCSV(report(changes)), as: UTF8.self)
        #expect(csv == "\u{FEFF}entiteit;sleutel;actie;veld;oud;nieuw\r\n"
            + "parent;O1;updated;lastName;Dijk;van Dijk\r\n"
            + "parent;O1;updated;email;;'=zoë@example.nl\r\n"
            + "child;K9;created;;;\r\n"
            + "placement;P3;ended;;;\r\n")
    }

    /// A night can warn about thousands of rows: the issues are written by hand too, every key sorted and an
    /// absent value as null, as the encoder writes them.
    @Test func handWrittenIssuesReadBackAsEncoded() throws {
        var warned = report([RunReport.ReportChange(entity: "child", key: "K1", action: .created, fields: [])])
        warned.issues = [
            Issue(.warning, "invalid-email", file: "ouders.csv", line: 12, column: 4, field: "E-mail", key: "O\"2\\",
                  message: "ongeldig e-mailadres (\u{1}zoë\n\t/)"),
            Issue(.error, "locked", message: "een andere run werkt aan dit portaal"),
            Issue(.info, "scoped-read", file: "export.json#ouders", key: "", message: ""),
        ]
        let written = try ReportWriter.json(warned)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let expected = try JSONSerialization.jsonObject(with: encoder.encode(warned)) as? NSDictionary
        let actual = try JSONSerialization.jsonObject(with: Data(written)) as? NSDictionary
        #expect(actual == expected)
        #expect(try JSONDecoder().decode(RunReport.self, from: Data(written)).issues == warned.issues)
        let lines = String(decoding: written, as: UTF8.self).split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix("    {\"code\":\"invalid-email\",\"column\":4,\"field\":\"E-mail\",\"file\":\"ouders.csv\"") },
                "one issue per line, keys sorted")
    }

    /// Every parent without an account is listed every night (46,000 at a million children): written by hand
    /// as well, an absent name left out as the encoder leaves it out.
    @Test func handWrittenParentsWithoutAnAccountReadBackAsEncoded() throws {
        var listed = report([])
        var parents = ParentAccounts()
        parents.invited = [.init(parent: "O1", name: nil, address: "a@example.nl", column: "E-mail", why: "new-account")]
        parents.withoutAccount = [.init(parent: "O2", name: "Zoë \"de\" Vries\n", reason: "geen bruikbaar e-mailadres (E-mail is leeg)"),
                                  .init(parent: "O\u{1}3", name: nil, reason: "het e-mailadres hoort bij een ander gezin\\")]
        listed.parentAccounts = parents
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        for parents in [parents, ParentAccounts(), nil] {
            var report = listed
            report.parentAccounts = parents
            let written = try ReportWriter.json(report)
            let expected = try JSONSerialization.jsonObject(with: encoder.encode(report)) as? NSDictionary
            #expect(try JSONSerialization.jsonObject(with: Data(written)) as? NSDictionary == expected)
            #expect(try JSONDecoder().decode(RunReport.self, from: Data(written)).parentAccounts == parents)
        }
        let lines = String(decoding: try ReportWriter.json(listed), as: UTF8.self).split(separator: "\n")
        #expect(lines.contains("      {\"parent\":\"O\\u0001\u{33}\",\"reason\":\"het e-mailadres hoort bij een ander gezin\\\\\"}"), "one parent per line")
    }

    /// A first import's report is tens of megabytes: its JSON and spreadsheets are written to their files as
    /// they are made, and must come out byte for byte as the whole would.
    @Test func aLargeReportIsWrittenInPiecesExactlyAsWhole() throws {
        var large = report((0..<60_000).map { number in
            RunReport.ReportChange(entity: number % 3 == 0 ? "child" : "parent", key: "K\(number)", action: number % 2 == 0 ? .created : .updated,
                                   fields: number % 2 == 0 ? [] : [FieldChange(field: "lastName", old: "Dijk \"\(number)\"", new: "=van Dijk;\(number)")])
        })
        large.issues = (0..<20_000).map { number in
            Issue(number % 5 == 0 ? .error : .warning, "invalid-email", file: "ouders.csv", line: number + 2, column: 4, field: "E-mail",
                  key: "O\(number)", message: "ongeldig e-mailadres (zoë\(number)@)")
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(UUID().uuidString)").path
        try ProtectedFile.makeDirectory(folder)
        defer { try? FileManager.default.removeItem(atPath: folder) }

        // Each held at most a megabyte and one object or row at a time.
        func staged(_ name: String) throws -> (bytes: [UInt8], largest: Int) {
            var largest = 0
            let path = (folder as NSString).appendingPathComponent(name)
            let temporary = try ProtectedFile.stage(for: path) { spill in
                func watched(_ buffer: inout [UInt8]) throws {
                    largest = max(largest, buffer.count)
                    try spill(&buffer)
                }
                let rest = switch name {
                case "r.json": try ReportWriter.json(large, spill: watched)
                case "w.csv": try ReportWriter.changesCSV(large, spill: watched)
                default: try ReportWriter.issuesCSV(large, spill: watched)
                }
                largest = max(largest, rest.count)
                return rest
            }
            try ProtectedFile.commit(temporary, to: path)
            return (Array(try Data(contentsOf: URL(fileURLWithPath: path))), largest)
        }
        let whole = try ReportWriter.json(large)
        for (name, expected) in [("r.json", whole), ("w.csv", ReportWriter.changesCSV(large)), ("a.csv", ReportWriter.issuesCSV(large))] {
            let written = try staged(name)
            #expect(expected.count > 3 << 19, "\(name) is larger than the buffer")
            #expect(written.largest < (1 << 20) + 4096, "\(name)")
            #expect(written.bytes == expected, "\(name)")
        }

        // And so for every file of a staged report.
        let paths = try ReportWriter.stage(large, to: folder).commit()
        #expect(Array(try Data(contentsOf: URL(fileURLWithPath: paths.json))) == whole)
        #expect(Array(try Data(contentsOf: URL(fileURLWithPath: paths.changesCSV))) == ReportWriter.changesCSV(large))
        #expect(Array(try Data(contentsOf: URL(fileURLWithPath: paths.rejectedCSV))) == ReportWriter.issuesCSV(large))
    }

    /// The report is staged before the transaction and written again after the commit, with its end time,
    /// its mail counts and the issues noted since. The second copies the lists and the issues' digest of the
    /// first: every file must come out byte for byte as the final report staged afresh.
    @Test func aReportStagedAgainAfterTheCommitIsTheOneWrittenAfresh() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        func files(_ paths: ReportPaths) throws -> [[UInt8]] {
            try [paths.json, paths.markdown, paths.html, paths.changesCSV, paths.rejectedCSV].map { Array(try Data(contentsOf: URL(fileURLWithPath: $0))) }
        }
        func issue(_ number: Int) -> OpvangSync.Issue {
            Issue(number % 7 == 0 ? .error : number % 11 == 0 ? .info : .warning, number % 3 == 0 ? "invalid-email" : "stale-export",
                  file: "ouders.csv", line: number + 2, column: 4, field: "E-mail", key: "O\(number)",
                  message: number % 5 == 0 ? "ongeldig e-mailadres (zoë\(number)@), zie rules.maxExportAgeHours" : "ongeldig e-mailadres")
        }
        // Large enough that every list is copied over more than one megabyte; a night without changes; and a
        // night without issues until after the commit.
        let changes = (0..<12_000).map { number in
            RunReport.ReportChange(entity: "parent", key: "O\(number)", action: number % 2 == 0 ? .created : .updated,
                                   fields: number % 2 == 0 ? [] : [FieldChange(field: "lastName", old: "Dijk \"\(number)\"", new: "van Dijk")])
        }
        var parents = ParentAccounts()
        parents.withoutAccount = (0..<3_000).map { .init(parent: "O\($0)", name: $0 % 4 == 0 ? nil : "Ouder \($0)", reason: "geen bruikbaar e-mailadres") }
        for (index, (listed, issues)) in [(changes, 8_000), ([], 8_000), (changes, 0)].enumerated() {
            var report = report(listed)
            report.issues = (0..<issues).map(issue)
            report.mail = MailSummary()
            report.parentAccounts = parents
            var kept = report
            kept.changes = []
            // Staged with the JSON written for the runs row, as an import does.
            let staged = try ReportWriter.stage(report, json: ReportWriter.written(kept), folder: root + "/staged\(index)")
            let fresh = try ReportWriter.stage(report, folder: root + "/fresh\(index)").commit()
            #expect(try files(ReportWriter.stage(report, json: ReportWriter.written(kept), folder: root + "/again\(index)").commit()) == files(fresh),
                    "staged with the runs row's JSON (night \(index))")

            var final = report
            final.finishedAt = "2026-11-22T01:07:09Z"
            final.writeLockSeconds = 1.25
            final.mail?.queued = 12
            final.mail?.sent = 3
            final.issues += [OpvangSync.Issue(.error, "run-not-recorded", message: "de run kon niet in de database worden vastgelegd"),
                             OpvangSync.Issue(.warning, "mail-not-sent", message: "niet alle mail is verstuurd (`opvangsync mail send`)")]
            #expect(try files(staged.restaging(final).commit()) == files(ReportWriter.stage(final, folder: root + "/final\(index)").commit()),
                    "staged again after the commit, with two issues more (night \(index))")

            // Issues that are not those staged with more after them (one changed): written anew, not copied.
            guard issues > 0 else { continue }
            var changed = final
            changed.issues[5] = issue(5_000_000)
            let before = try ReportWriter.stage(report, json: ReportWriter.written(kept), folder: root + "/changed\(index)")
            #expect(try files(before.restaging(changed).commit()) == files(ReportWriter.stage(changed, folder: root + "/changed-fresh\(index)").commit()))
        }

        // A staged JSON replaced by another file, or cut short, is not copied from: the restaging fails (and the
        // import puts the files staged before the commit in place).
        var report = report(changes)
        report.issues = (0..<8_000).map(issue)
        let tampering: [(String) throws -> Void] = [
            { path in
                let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
                unlink(path)
                try bytes.write(to: URL(fileURLWithPath: path))      // the same bytes, another file
            },
            { path in _ = truncate(path, 1000) },
        ]
        for (index, tamper) in tampering.enumerated() {
            let staged = try ReportWriter.stage(report, json: nil, folder: root + "/tampered\(index)")
            let json = try #require(staged.files.first { $0.final == staged.paths.json }?.temporary)
            try tamper(json)
            #expect(throws: ProtectedFile.Failure.self, "tampered \(index)") { _ = try staged.restaging(report) }
            staged.discard()
        }
    }

    /// A file that fails half-way (a full disk, an error while it is made) leaves nothing behind, not even
    /// the part already written.
    @Test func aFileThatFailsHalfWayLeavesNothingBehind() throws {
        struct Stop: Error {}
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(UUID().uuidString)").path
        try ProtectedFile.makeDirectory(folder)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(throws: Stop.self) {
            _ = try ProtectedFile.stage(for: (folder as NSString).appendingPathComponent("r.json")) { spill in
                var buffer = [UInt8](repeating: 0x41, count: 3 << 20)
                try spill(&buffer)
                #expect(buffer.isEmpty, "a full buffer is written out")
                throw Stop()
            }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty)
    }

    @Test func aReportWithoutChangesIsTheEncodersOwn() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        #expect(try ReportWriter.json(report([])) == Array(encoder.encode(report([]))) + [0x0A])
    }

    @Test func theSummaryCountsInDutchSingularAndPlural() {
        var one = report([RunReport.ReportChange(entity: "child", key: "K1", action: .created, fields: [])])
        one.export.files = [FileSummary(entity: "child", name: "kinderen.csv", rows: 3, rejected: 1, encoding: "utf-8")]
        #expect(MarkdownReport.explanation(one) == "De export is verwerkt: 1 wijziging staat nu in het ouderportaal. Let op: 1 regel is afgewezen en niet verwerkt (zie hieronder).")
        var two = one
        two.changes += one.changes
        two.export.files[0].rejected = 2
        #expect(MarkdownReport.explanation(two) == "De export is verwerkt: 2 wijzigingen staan nu in het ouderportaal. Let op: 2 regels zijn afgewezen en niet verwerkt (zie hieronder).")
    }

    @Test func theWebPageEscapesEverythingFromOutside() {
        var hostile = report([RunReport.ReportChange(entity: "parent", key: "O1\"><script>", action: .updated, fields: [
            FieldChange(field: "firstName", old: "Jan", new: "<img src=x onerror=alert(1)>\u{202E}gpj.exe\u{1B}[31m"),
        ])])
        hostile.organisation.name = "</title><script>alert('t')</script>"
        hostile.reason = "a & b \" ' < >"
        hostile.issues = [Issue(.error, "unknown-code", file: "<x>.csv", line: 2, column: 3, field: "Naam\"onload=\"", key: "K'1",
                                message: "onbekend <b>")]
        let html = HTMLReport.render(hostile)
        #expect(!html.contains("<script") && !html.contains("<img") && !html.contains("<b>") && !html.contains("<x>"))
        #expect(html.contains("&lt;img src=x onerror=alert(1)&gt;gpj.exe[31m"), "the override and the escape left out")
        #expect(!html.unicodeScalars.contains { $0.value == 0x202E || $0.value == 0x1B })
        #expect(html.contains("&lt;/title&gt;&lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt;"))
        #expect(html.contains("a &amp; b &quot; &#39; &lt; &gt;"))
        // Every tag in the page is one opvangsync wrote: none comes from the data.
        let tags = Set(html.matches(of: /<\/?([a-zA-Z0-9]+)/).map { String($0.1).lowercased() })
        #expect(tags.isSubset(of: ["html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "h3", "h4", "p", "nav", "ol", "li", "a",
                                   "main", "section", "table", "thead", "tbody", "tr", "th", "td", "ul", "strong", "code", "div", "footer"]), "\(tags)")
    }

    @Test func timesAreLocalAndCountsAgree() {
        #expect(DutchText.localTime("2026-11-23T16:56:14Z") == "23-11-2026 17:56")
        #expect(DutchText.localTime("2026-07-01T10:00:00Z") == "01-07-2026 12:00", "summer time")
        #expect(DutchText.localTime("2026-11-21T23:40:00+01:00") == "21-11-2026 23:40")
        #expect(DutchText.localTime("2026-11-22") == "22-11-2026")
        #expect(DutchText.count(1, "groep", "groepen") == "1 groep" && DutchText.count(2, "groep", "groepen") == "2 groepen")
        #expect(DutchText.plain("de grens is 36 uur (maxExportAgeHours)") == "de grens is 36 uur")
        #expect(DutchText.plain("kalender.csv:3:5: error: aanhalingsteken niet afgesloten [unbalanced-quote]") == "kalender.csv:3:5: aanhalingsteken niet afgesloten")
        #expect(DutchText.plain("het certificaat is niet te controleren (zie mail.caFile); x") == "het certificaat is niet te controleren; x")
        #expect(DutchText.technicalTerms("de grens is 36 uur (maxExportAgeHours)") == ["maxExportAgeHours"])
        #expect(FieldNames.label("placement", "monday") == "Maandag")
        #expect(FieldNames.label("placement", "monday", in: ["placement": ["monday": "maandag"]]) == "maandag")
        #expect(FieldNames.display("placement", "startDate", "2026-01-05") == "05-01-2026")
        #expect(FieldNames.display("placement", "monday", "08:00-12:00") == "08:00-12:00")
    }

    /// A night that warns about more rows than the readable report lists: the sections count them all, list the
    /// first ones in order, and say how many more the spreadsheet holds; the technical table counts every code.
    @Test func theReadableReportCountsEveryIssueAndListsTheFirst() {
        var report = report([])
        let limit = ReportContent.listLimit
        for index in 1...(limit + 50) {
            report.issues.append(Issue(.warning, "invalid-email", file: "ouders.csv", line: index, key: "O\(index)",
                                       message: "ongeldig e-mailadres"))
            if index % 100 == 0 {
                report.issues.append(Issue(.error, "missing-required-field", file: "ouders.csv", line: index, key: "E\(index)",
                                           message: "verplicht veld is leeg"))
            }
        }
        let markdown = MarkdownReport.render(ReportContent.document(report))
        #expect(markdown.contains("Waarschuwingen (\(limit + 50))") && markdown.contains("Afgewezen regels en fouten (3)"))
        #expect(markdown.contains("… en nog 50;"))
        #expect(markdown.contains("`O\(limit)`") && !markdown.contains("`O\(limit + 1)`"))
        #expect(markdown.contains("`E300`") && !markdown.contains("… en nog 0"))
        #expect(markdown.contains("Bekijk de waarschuwingen hieronder"))
        #expect(markdown.contains("| `invalid-email` | `warning` | \(limit + 50) |") && markdown.contains("| `missing-required-field` | `error` | 3 |"))
    }
}

