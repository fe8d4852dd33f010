import Foundation
import Testing
@testable import OpvangSync

/// The configuration keys of SPEC §6 for operations: `alerts`, `metrics`, `reportRetentionDays`; and the
/// Dutch alert text built from them.
@Suite struct OperationsConfigurationTests {
    @Test func alertsMetricsAndRetentionAreReadPerOrganisation() throws {
        let configuration = try parseConfiguration("""
            { "alerts": { "to": "beheer@example.nl" }, "metrics": "metrics/{org}.prom",
              "organisations": [ { "id": "zonnebloem", "reportRetentionDays": 365,
                                   "alerts": { "to": ["a@example.nl", "b@example.nl"], "onRejected": true } },
                                 { "id": "klaproos" } ] }
            """)
        let zonnebloem = try configuration.settings(for: "zonnebloem")
        #expect(zonnebloem.alerts.to == ["a@example.nl", "b@example.nl"])
        #expect(zonnebloem.alerts.onRejected)
        #expect(zonnebloem.reportRetentionDays == 365)
        #expect(zonnebloem.metrics == "/etc/opvangsync/metrics/zonnebloem.prom")
        let klaproos = try configuration.settings(for: "klaproos")
        #expect(klaproos.alerts.to == ["beheer@example.nl"])
        #expect(!klaproos.alerts.onRejected)
        #expect(klaproos.reportRetentionDays == 730, "the default")
    }

    @Test(arguments: [
        (#"{"alerts": {"to": "geen adres"}}"#, "alerts.to"),
        (#"{"alerts": {"to": "a@example.nl\r\nBcc: x@example.nl"}}"#, "alerts.to"),
        (#"{"alerts": {"to": []}}"#, "alerts.to"),
        (#"{"alerts": {"onRejected": "ja"}}"#, "alerts.onRejected"),
        (#"{"alerts": {"cc": "a@example.nl"}}"#, "alerts.cc"),
        (#"{"metrics": ""}"#, "metrics"),
        (#"{"reportRetentionDays": 0}"#, "reportRetentionDays"),
    ])
    func aBadValueIsAConfigurationErrorNamingTheKey(_ json: String, _ key: String) {
        #expect {
            try parseConfiguration(json)
        } throws: { error in
            (error as? Configuration.Failure)?.key == key
        }
    }

    @Test func theAlertIsDutchWithoutKeysFlagsOrCodes() throws {
        var settings = try parseConfiguration(#"{"alerts": {"to": "beheer@example.nl"}}"#).settings(for: nil)
        var report = RunReport(
            runId: "20261122T013000Z-1a2b3c", organisation: .init(id: "zonnebloem", name: "Kinderopvang De Zonnebloem"),
            asOf: "2026-11-22", startedAt: "2026-11-22T01:30:00Z", finishedAt: "2026-11-22T01:31:00Z", mode: "apply",
            status: .aborted, exitCode: 3, operator: "opvangsync", reason: nil, options: .init(),
            export: .init(path: "/srv/exports/zonnebloem/2026-11-21"))
        report.abortReason = "verouderde export: de export is 84 uur oud; de grens is 36 uur (maxExportAgeHours)"
        let alert = try #require(RunAlert(report: report, exitCode: .aborted, reportPath: "/var/lib/opvangsync/reports/zonnebloem/x.md",
                                          settings: settings))
        #expect(alert.message.body.contains("Reden:       verouderde export: de export is 84 uur oud; de grens is 36 uur\n"))
        #expect(alert.message.body.contains("gestart 22-11-2026 02:30"), "local time")
        #expect(!alert.message.body.contains("maxExportAgeHours"))
        #expect(alert.message.to.address == "beheer@example.nl")

        #expect(RunAlert(report: report, exitCode: .success, reportPath: nil, settings: settings) == nil)
        #expect(RunAlert(report: report, exitCode: .appliedWithRejections, reportPath: nil, settings: settings) == nil)
        settings.alerts.onRejected = true
        #expect(RunAlert(report: report, exitCode: .appliedWithRejections, reportPath: nil, settings: settings) != nil)
        report.mode = "dry-run"
        #expect(RunAlert(report: report, exitCode: .aborted, reportPath: nil, settings: settings) == nil, "a dry run changes nothing")
    }

    @Test func reportFileNamesGiveTheirRunsStart() {
        #expect(ReportRetention.runStart(fileName: "20240101T010203Z-abcdef-wijzigingen.csv")
                == Date(timeIntervalSince1970: 1_704_070_923))
        #expect(ReportRetention.runStart(fileName: "20240101T010203Z-abcdef.md") != nil)
        #expect(ReportRetention.runStart(fileName: "notities.md") == nil)
        #expect(ReportRetention.runStart(fileName: "20240101T010203Z-abcdef.sqlite") == nil)
    }
}
