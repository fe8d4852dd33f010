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
        report.changes = changes
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
}
