import Foundation
import OpvangSync
import PortalStore
import TestSupport
import Testing

/// SPEC §4 "Lifecycle edges": families that diverge, addresses that disappear, parents unlinked, care that
/// vanishes. Each is a sequence of nights through the built binary.
@Suite struct AccountEdgeTests {
    func db(_ folder: URL) throws -> Database { try Database(path: folder.appendingPathComponent("portal.sqlite").path) }

    func codes(_ report: [String: Any]) -> [String] {
        (report["issues"] as? [[String: Any]] ?? []).compactMap { $0["code"] as? String }
    }

    func members(_ folder: URL) throws -> [String] {
        try db(folder).query("SELECT parent_number || '>' || account FROM account_members ORDER BY parent_number") { $0.string(0) ?? "" }
    }

    /// P5 and P6 share gezin@samen.example and child KG.
    func sharing() -> MiniExport {
        var export = MiniExport()
        export["kinderen.csv"].append(contentsOf: ["KG;Gijs;;Samen;01-01-2023;M1", "KZ;Zara;;Samen;01-01-2024;M1"])
        export["ouders.csv"].append(contentsOf: ["P5;Petra;Samen;gezin@samen.example;", "P6;Paul;Samen;gezin@samen.example;"])
        export["relaties.csv"].append(contentsOf: ["KG;P5;Ouder 1", "KG;P6;Ouder 2"])
        export["plaatsingen.csv"].append(contentsOf: ["PG;KG;G1;KDV;52 weken;01-09-2025;;08:00-17:00;;",
                                                      "PZ;KZ;G1;KDV;52 weken;01-09-2025;;08:00-17:00;;"])
        return export
    }

    @Test func aSharedAccountEndsWhenTheFamiliesDiverge() throws {
        let folder = temporaryFolder("diverge")
        var export = sharing()
        #expect(try night(export, "2026-11-22", in: folder).0.status == 0)
        #expect(try members(folder).contains("P6>P5"))

        // Night 2: P6 is also linked to KZ; the two no longer have the same children.
        export["relaties.csv"].append("KZ;P6;Ouder 1")
        let (second, report) = try night(export, "2026-11-23", in: folder)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(codes(report).contains("member-detached"))
        #expect(!(try members(folder)).contains("P6>P5"))
        let shown = try opvangsync(["accounts", "show", "P5"], in: folder)
        #expect(!shown.stdout.contains("KZ"), "P6's child under P5's account: \(shown.stdout)")

        // Three nights later it is still so, and it matches a first import of the last night.
        for day in ["2026-11-24", "2026-11-25", "2026-11-26"] { #expect(try night(export, day, in: folder).0.status == 0) }
        #expect(!(try opvangsync(["accounts", "show", "P5"], in: folder)).stdout.contains("KZ"))
        let fresh = temporaryFolder("diverge-fresh")
        #expect(try night(export, "2026-11-26", in: fresh).0.status == 0)
        #expect(try members(folder) == members(fresh))
    }

    @Test func anAddressThatDisappearsWithdrawsTheInvitationOfAnAccountNotYetActivated() throws {
        let folder = temporaryFolder("address-gone")
        var export = MiniExport()
        #expect(try night(export, "2026-11-22", in: folder).0.status == 0)
        #expect(try db(folder).scalarInt("SELECT COUNT(*) FROM outbox WHERE account = 'O2' AND status = 'queued'") == 1)

        // The wrong address removed upstream (the seed FAQ's recipe): E-mail empty, no E-mail 2.
        export["ouders.csv"][2] = "O2;Joost;Smit;;"
        let (second, report) = try night(export, "2026-11-23", in: folder)
        #expect(second.status == 0, "\(second.stderr)")
        let issues = report["issues"] as? [[String: Any]] ?? []
        #expect(issues.contains { $0["code"] as? String == "invitation-withdrawn" && $0["key"] as? String == "O2" })
        #expect(!issues.contains { $0["code"] as? String == "parent-without-email" && $0["key"] as? String == "O2" },
                "no \"geen account\" for a parent who still has one")
        let database = try db(folder)
        #expect(try database.scalarInt("SELECT COUNT(*) FROM outbox WHERE account = 'O2' AND status = 'queued'") == 0)
        #expect(try database.scalarInt("SELECT COUNT(*) FROM invitations WHERE account = 'O2' AND revoked_at IS NULL AND used_at IS NULL") == 0)
        #expect(try database.scalarInt("SELECT COUNT(*) FROM accounts WHERE parent_number = 'O2'") == 1, "the account itself stays")
    }

    @Test func anActivatedAccountWhoseAddressConflictsIsKeptAndFlagged() throws {
        let folder = temporaryFolder("address-flagged")
        var export = MiniExport()
        #expect(try night(export, "2026-11-22", in: folder).0.status == 0)
        try db(folder).run("UPDATE accounts SET password_hash = 'x', activated_at = '2026-11-22T09:00:00Z' WHERE parent_number = 'O2'")

        // O2's new address is another family's (O1's): a conflict.
        export["ouders.csv"][2] = "O2;Joost;Smit;marieke@example.nl;"
        let (second, report) = try night(export, "2026-11-23", in: folder)
        #expect(second.status == 0, "\(second.stderr)")
        let issues = report["issues"] as? [[String: Any]] ?? []
        #expect(issues.contains { $0["code"] as? String == "account-flagged" && $0["key"] as? String == "O2" })
        let database = try db(folder)
        #expect(try database.scalarString("SELECT username FROM accounts WHERE parent_number = 'O2'") == "joost@example.nl")
        #expect(try database.scalarString("SELECT password_hash FROM accounts WHERE parent_number = 'O2'") == "x")
        #expect((report["accounts"] as? [String: Any])?["flagged"] as? Int == 1)
    }

    @Test func aParentUnlinkedFromEveryChildLosesItsInvitationAndAccessAtOnce() throws {
        let folder = temporaryFolder("unlinked")
        var export = MiniExport()
        export["ouders.csv"].append("O5;Bas;Dijk;bas@example.nl;")
        export["relaties.csv"].append("K1;O5;Ouder 2")
        #expect(try night(export, "2026-11-22", in: folder).0.status == 0)
        try db(folder).run("UPDATE accounts SET password_hash = 'x', activated_at = '2026-11-22T09:00:00Z' WHERE parent_number = 'O1'")

        // Night 2: both of K1's relations are removed (a change of custody); the parents stay in the export.
        export["relaties.csv"] = export["relaties.csv"].filter { !$0.hasPrefix("K1;") }
        let (second, report) = try night(export, "2026-11-23", in: folder)
        #expect(second.status == 0, "\(second.stderr)")
        let database = try db(folder)
        // Not activated (O5): the open invitation dies.
        #expect(codes(report).contains("invitation-withdrawn"))
        #expect(try database.scalarInt("SELECT COUNT(*) FROM outbox WHERE account = 'O5' AND status = 'queued'") == 0)
        // Activated (O1): no window of 8 weeks, the account is disabled now; the report says both steps.
        #expect(try database.scalarInt("SELECT COUNT(*) FROM access_windows WHERE child_number = 'K1'") == 0)
        #expect(try database.scalarString("SELECT disabled_at FROM accounts WHERE parent_number = 'O1'") == "2026-11-23")
        #expect(codes(report).contains("account-disabled-unlinked"))
        #expect(try database.scalarString("SELECT state FROM account_state WHERE parent_number = 'O5'") == "not-eligible")
    }

    @Test func careThatVanishesEndsAccessOnTheDayItVanished() throws {
        let folder = temporaryFolder("vanished")
        // One placement of three is far above the mass-removal guard of this tiny export.
        try Data(#"{"rules": {"maxRemovalFraction": 0.5}}"#.utf8).write(to: folder.appendingPathComponent("opvangsync.json"))
        var export = MiniExport()
        #expect(try night(export, "2026-11-22", in: folder).0.status == 0)
        // K2's only placement leaves the export without an Einddatum.
        export["plaatsingen.csv"] = export["plaatsingen.csv"].filter { !$0.hasPrefix("P2;") }
        let (second, _) = try night(export, "2026-11-23", in: folder)
        #expect(second.status == 0, "\(second.stderr)")
        let database = try db(folder)
        #expect(try database.scalarString("SELECT status FROM placements WHERE key = 'P2'") == "vanished")
        #expect(try database.scalarString("SELECT last_end FROM access_windows WHERE child_number = 'K2' AND parent_number = 'O2'") == "2026-11-23")
        #expect(try database.scalarString("SELECT photos_until FROM access_windows WHERE child_number = 'K2'") == "2027-01-18")

        // The next nights keep the day it vanished, not the day of the run.
        #expect(try night(export, "2026-11-30", in: folder).0.status == 0)
        #expect(try db(folder).scalarString("SELECT last_end FROM access_windows WHERE child_number = 'K2'") == "2026-11-23")

        // It comes back: restored as today, the window goes.
        export["plaatsingen.csv"].append("P2;K2;G2;BSO;Schoolweken;01-09-2025;;14:00-18:30;;even")
        #expect(try night(export, "2026-12-01", in: folder).0.status == 0)
        #expect(try db(folder).scalarInt("SELECT COUNT(*) FROM access_windows WHERE child_number = 'K2'") == 0)
    }

    @Test func aMentorWhoLeftIsAWarningNotARejection() throws {
        let folder = temporaryFolder("mentor-left")
        var export = MiniExport()
        export["kinderen.csv"][1] = "K1;Zoë;van;Dijk;03-02-2024;M9"
        let (result, report) = try night(export, "2026-11-22", in: folder)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(codes(report).contains("unknown-optional-reference"))
        let database = try db(folder)
        #expect(try database.scalarString("SELECT status FROM children WHERE key = 'K1'") == "active")
        #expect(try database.scalarString("SELECT mentor FROM children WHERE key = 'K1'") == nil)
        #expect(try database.scalarInt("SELECT COUNT(*) FROM outbox WHERE account = 'O1'") == 1, "its parent is still invited")
        // A required reference still rejects the row.
        export["plaatsingen.csv"].append("P9;K1;G9;KDV;52 weken;01-09-2025;;08:00-17:00;;")
        let (second, secondReport) = try night(export, "2026-11-23", in: folder)
        #expect(second.status != 0)
        #expect(codes(secondReport).contains("unknown-reference"))
    }

    @Test func anExpiredInvitationIsReportedOnceAndShownAsVerlopen() throws {
        let folder = temporaryFolder("expired")
        let export = MiniExport()
        #expect(try night(export, "2026-11-22", in: folder).0.status == 0)
        #expect(try opvangsync(["mail", "send"], in: folder).status == 0)
        // O1's link runs out between the two runs; O2's is still good.
        Thread.sleep(forTimeInterval: 1.1)
        try db(folder).run("UPDATE invitations SET expires_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE account = 'O1'")
        Thread.sleep(forTimeInterval: 1.1)
        let (second, report) = try night(export, "2026-11-23", in: folder, ["--force", "--reason", "nacht"])
        #expect(second.status == 0, "\(second.stderr)")
        let expired = (report["issues"] as? [[String: Any]] ?? []).filter { $0["code"] as? String == "invitation-expired" }
        #expect(expired.map { $0["key"] as? String } == ["O1"])
        let list = try opvangsync(["accounts", "list", "--status", "verlopen", "--format", "csv"], in: folder)
        #expect(list.stdout.contains("O1;") && !list.stdout.contains("O2;"), "\(list.stdout)")
        // Said once: the next night does not repeat it, and nothing was sent by itself.
        let (_, third) = try night(export, "2026-11-24", in: folder, ["--force", "--reason", "nacht"])
        #expect(!codes(third).contains("invitation-expired"))
        #expect(try db(folder).scalarInt("SELECT COUNT(*) FROM outbox WHERE account = 'O1'") == 1)
    }

    @Test func aResendForADisabledAccountNeedsAReason() throws {
        let folder = temporaryFolder("resend-disabled")
        #expect(try night(MiniExport(), "2026-11-22", in: folder).0.status == 0)
        try db(folder).run("UPDATE accounts SET disabled_at = '2026-11-22' WHERE parent_number = 'O1'")
        let refused = try opvangsync(["accounts", "resend", "O1"], in: folder)
        #expect(refused.status == 3, "\(refused.stderr)")
        #expect(refused.stderr.contains("disabled"))
        #expect(try db(folder).scalarInt("SELECT COUNT(*) FROM outbox WHERE account = 'O1'") == 1)
        let forced = try opvangsync(["accounts", "resend", "O1", "--force", "--reason", "ouder belde, nieuwe plaatsing volgt"], in: folder)
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(try db(folder).scalarInt("SELECT COUNT(*) FROM outbox WHERE account = 'O1'") == 2)
    }

    @Test func aMemberWithNoChildInCareIsDetachedWhenItsFamilyDiverges() throws {
        let folder = temporaryFolder("stale-member")
        var export = MiniExport()
        // Night 1: O1 and O2 share marieke@ and both have K1: one shared account.
        export["ouders.csv"][2] = "O2;Joost;Dijk;marieke@example.nl;"
        export["relaties.csv"][2] = "K1;O2;Ouder 2"
        #expect(try night(export, "2026-11-22", in: folder).0.status == 0)
        #expect(try members(folder).contains("O2>O1"))

        // Night 2: O2 has its own address and only K3, whose care starts in 2027 (so O2 is not looked at).
        export["ouders.csv"][2] = "O2;Joost;Smit;joost@example.nl;"
        export["relaties.csv"][2] = "K3;O2;Ouder 2"
        export["plaatsingen.csv"][3] = "P3;K3;G1;KDV;52 weken;01-06-2027;;;08:00-17:00;"
        export["relaties.csv"].append("K2;O3;Ouder 1")
        let (second, report) = try night(export, "2026-11-23", in: folder, ["--allow-mass-changes", "--reason", "test"])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(codes(report).contains("member-detached"))
        #expect(!(try members(folder)).contains("O2>O1"))
        let shown = try opvangsync(["accounts", "show", "marieke@example.nl"], in: folder)
        #expect(!shown.stdout.contains("K3"), "another family's child in the account: \(shown.stdout)")
    }

    @Test func theOldLinkDiesWhenTheAddressChangesAfterCareEnded() throws {
        let folder = temporaryFolder("ended-address")
        var export = MiniExport()
        #expect(try night(export, "2026-11-22", in: folder).0.status == 0)
        #expect(try opvangsync(["mail", "send"], in: folder).status == 0)
        // Care of K1 ended; the planning system removes Marieke's address (or gives her another).
        export["plaatsingen.csv"][1] = "P1;K1;G1;KDV;52 weken;01-09-2025;20-11-2026;07:30-18:00;07:30-18:00;"
        export["ouders.csv"][1] = "O1;Marieke;Dijk;;"
        let (second, report) = try night(export, "2026-11-23", in: folder)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(codes(report).contains("invitation-withdrawn"))
        let database = try db(folder)
        #expect(try database.scalarInt("SELECT COUNT(*) FROM invitations WHERE account = 'O1' AND revoked_at IS NULL AND used_at IS NULL") == 0)
        // Said once.
        let (_, third) = try night(export, "2026-11-24", in: folder)
        #expect(!codes(third).contains("invitation-withdrawn"))

        // A withdrawn link is listed as such, and a resend needs a deliberate decision.
        let list = try opvangsync(["accounts", "list", "--status", "ingetrokken", "--format", "csv"], in: folder)
        #expect(list.stdout.contains("O1;"), "\(list.stdout)")
        let resend = try opvangsync(["accounts", "resend", "O1"], in: folder)
        #expect(resend.status == 3, "\(resend.stderr)")
        #expect(try db(folder).scalarInt("SELECT COUNT(*) FROM invitations WHERE account = 'O1' AND revoked_at IS NULL AND used_at IS NULL") == 0)
    }
}
