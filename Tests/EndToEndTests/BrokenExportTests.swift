import Foundation
import OpvangSync
import PortalStore
import TestSupport
import Testing

/// Every folder in sample-exports/broken/ promises, in EXPECTED.json, what a run must say about it.
@Suite struct BrokenExportTests {
    static let cases: [String] = {
        let root = Package.root.appendingPathComponent("sample-exports/broken")
        return ((try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []).sorted()
    }()

    @Test func thereIsABrokenExportForEveryKindOfFault() {
        for name in ["unbalanced-quote", "missing-column", "bad-date", "unknown-code", "unknown-reference",
                     "missing-required-field", "duplicate-key", "checksum-mismatch", "file-missing",
                     "row-count-mismatch", "too-many-rejected", "invalid-manifest"] {
            #expect(Self.cases.contains(name), "sample-exports/broken/\(name) is missing")
        }
    }

    @Test(arguments: cases)
    func eachBrokenExportGivesTheErrorItsFolderPromises(_ name: String) throws {
        let export = Package.sample("broken/\(name)")
        let expected = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: export + "/EXPECTED.json"))) as! [String: Any]
        let issue = expected["issue"] as! [String: Any]
        let folder = temporaryFolder("broken-\(name)")

        // A portal that already holds the healthy organisation: a broken export must not disturb it.
        let healthy = try opvangsync(["import", Package.sample("zonnebloem"), "--as-of", "2026-11-22"], in: folder)
        #expect(healthy.status == 0)
        let before = try portalContents(folder.appendingPathComponent("portal.sqlite").path)

        // The broken exports are of a one-location organisation: over the sample's three, the removal
        // guards would speak first. `--allow-mass-changes` lets the overall guard through, and a share of
        // 1 no location can exceed keeps the other two from being held (SPEC §5), so the fault is what shows.
        try Data(#"{"rules": {"maxRemovalFractionPerLocation": 1}}"#.utf8).write(to: folder.appendingPathComponent("opvangsync.json"))
        let result = try opvangsync(["import", export, "--as-of", "2026-11-22", "--force", "--reason", "test", "--allow-mass-changes"], in: folder)
        #expect(result.status == expected["exitCode"] as! Int32, "stdout: \(result.stdout)\nstderr: \(result.stderr)")
        let report = try reportJSON(of: result, in: folder)
        #expect(report["status"] as? String == expected["status"] as? String)

        let issues = report["issues"] as! [[String: Any]]
        let match = issues.first { found in
            found["code"] as? String == issue["code"] as? String
                && found["file"] as? String == issue["file"] as? String
                && (issue["line"] == nil || found["line"] as? Int == issue["line"] as? Int)
                && (issue["column"] == nil || found["column"] as? Int == issue["column"] as? Int)
        }
        #expect(match != nil, "no issue \(issue) in \(issues.prefix(5))")
        // The operator reads the same fault on stderr, with file, line and column.
        let location = [issue["file"] as? String, (issue["line"] as? Int).map(String.init)].compactMap { $0 }.joined(separator: ":")
        #expect(result.stderr.contains(location), "stderr: \(result.stderr)")

        if expected["status"] as? String != "applied" {
            #expect(report["abortReason"] as? String != nil)
            #expect(try portalContents(folder.appendingPathComponent("portal.sqlite").path) == before,
                    "a failed or aborted run must leave the portal as it was")
        }
    }
}
