import Foundation
import OpvangSync
import PortalStore
import TestSupport
import Testing

/// SPEC §5 "Scoped runs": `--only` applies the export to one family or location; nothing else moves.
@Suite struct ScopedRunTests {
    /// A portal with MiniExport applied, and a next export in which three families changed.
    func setUp(_ name: String) throws -> (folder: URL, next: URL) {
        let folder = temporaryFolder(name)
        // Three families only: one ending placement is a third of them, so relax the removal guard.
        try Data(#"{"rules": {"maxRemovalFraction": 0.5}}"#.utf8).write(to: folder.appendingPathComponent("opvangsync.json"))
        let base = try MiniExport().write(to: folder.appendingPathComponent("base"))
        let first = try opvangsync(["import", base.path, "--as-of", "2026-11-22"], in: folder)
        #expect(first.status == 0, "\(first.stderr)")
        var next = MiniExport()
        next["ouders.csv"][1] = "O1;Marieke;Dijk;marieke.dijk@example.nl;"        // family of K1
        next["ouders.csv"][2] = "O2;Joost;Smit-Bakker;joost@example.nl;"           // family of K2
        next["plaatsingen.csv"].removeLast()                                        // K3's placement P3
        next.exportedAt = "2026-11-22T09:00:00+01:00"
        return (folder, try next.write(to: folder.appendingPathComponent("next")))
    }

    func value(_ folder: URL, _ sql: String) throws -> String? {
        try Database(path: folder.appendingPathComponent("portal.sqlite").path, mode: .queryOnly).scalarString(sql)
    }

    @Test func aScopedDryRunPreviewsExactlyThatFamilyAndWritesNothing() throws {
        let (folder, next) = try setUp("scope-preview")
        let path = folder.appendingPathComponent("portal.sqlite").path
        let before = databaseBytes(path)
        let preview = try opvangsync(["import", next.path, "--only", "parent=O1", "--dry-run", "--as-of", "2026-11-22"], in: folder)
        #expect(preview.status == 0, "\(preview.stderr)")
        let report = try reportJSON(of: preview, in: folder)
        let changes = report["changes"] as! [[String: Any]]
        #expect(changes.map { "\($0["entity"]!)/\($0["key"]!)" } == ["parent/O1"])
        #expect((report["options"] as? [String: Any])?["only"] as? String == "parent=O1")
        #expect(databaseBytes(path) == before)
    }

    @Test func aScopedRunChangesThatFamilyAndNothingElse() throws {
        let (folder, next) = try setUp("scope-apply")
        let result = try opvangsync(["import", next.path, "--only", "parent=O1", "--as-of", "2026-11-22"], in: folder)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try value(folder, "SELECT email FROM parents WHERE key = 'O1'") == "marieke.dijk@example.nl")
        #expect(try value(folder, "SELECT last_name FROM parents WHERE key = 'O2'") == "Smit", "another family is untouched")
        #expect(try value(folder, "SELECT status FROM placements WHERE key = 'P3'") == "active", "nothing outside the scope is ended")

        let child = try opvangsync(["import", next.path, "--only", "child=K3", "--as-of", "2026-11-22"], in: folder)
        #expect(child.status == 0, "\(child.stderr)")
        #expect(try value(folder, "SELECT status FROM placements WHERE key = 'P3'") == "vanished")
        #expect(try value(folder, "SELECT last_name FROM parents WHERE key = 'O2'") == "Smit")

        // The full export is still to be imported: a scoped run does not count as having imported it.
        let full = try opvangsync(["import", next.path, "--as-of", "2026-11-22"], in: folder)
        #expect(full.status == 0)
        #expect(try reportJSON(of: full, in: folder)["status"] as? String == "applied")
        #expect(try value(folder, "SELECT last_name FROM parents WHERE key = 'O2'") == "Smit-Bakker")
    }

    @Test func aLocationScopeCoversItsGroupsChildrenAndFamilies() throws {
        let (folder, next) = try setUp("scope-location")
        let result = try opvangsync(["import", next.path, "--only", "location=L1", "--dry-run", "--as-of", "2026-11-22"], in: folder)
        let keys = Set((try reportJSON(of: result, in: folder)["changes"] as! [[String: Any]]).map { "\($0["entity"]!)/\($0["key"]!)" })
        #expect(keys == ["parent/O1", "parent/O2", "placement/P3"])
    }

    @Test func aScopeThatMatchesNothingIsAUsageError() throws {
        let (folder, next) = try setUp("scope-unknown")
        let result = try opvangsync(["import", next.path, "--only", "parent=O999", "--as-of", "2026-11-22"], in: folder)
        #expect(result.status == 2)
        #expect(result.stderr.contains("parent=O999"))
        #expect(try opvangsync(["import", next.path, "--only", "family=O1"], in: folder).status == 2)
    }

    /// The scoped run reads only the family's rows (SPEC §9: customer service fixes a family now); it must
    /// still do for that family exactly what the full import does, and nothing to anyone else.
    @Test func aScopedRunDoesForItsFamilyWhatTheFullRunDoes() throws {
        let folder = temporaryFolder("scope-equivalence")
        for arguments in [["--out", "night1"], ["--next-night", "--out", "night2"]] {
            let generated = try exportgen(["--children", "600", "--seed", "11"] + arguments, in: folder)
            #expect(generated.status == 0, "\(generated.stderr)")
        }
        func database(_ name: String) -> String { folder.appendingPathComponent(name).path }
        func importing(_ export: String, into name: String, _ extra: [String]) throws -> ProcessResult {
            try opvangsync(["import", export, "--db", database(name), "--reports", "reports", "--as-of"] + extra, in: folder)
        }
        #expect(try importing("night1", into: "base.sqlite", ["2026-11-22"]).status == 0)
        func copy(_ name: String) throws {
            for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: database("base.sqlite") + suffix) {
                try? FileManager.default.removeItem(atPath: database(name) + suffix)
                try FileManager.default.copyItem(atPath: database("base.sqlite") + suffix, toPath: database(name) + suffix)
            }
        }
        try copy("full.sqlite")
        let full = try importing("night2", into: "full.sqlite", ["2026-11-23", "--allow-mass-changes", "--reason", "test"])
        #expect(full.status == 0, "\(full.stderr)")
        let base = try Database(path: database("base.sqlite"), mode: .queryOnly)
        let whole = try Database(path: database("full.sqlite"), mode: .queryOnly)
        let horizonEnd = try base.scalarString("SELECT MAX(date) FROM attendance") ?? ""

        // Families the next night changed, each named by its lowest parent number.
        var families: Set<String> = []
        for change in try reportJSON(of: full, in: folder)["changes"] as? [[String: Any]] ?? [] {
            let key = change["key"] as? String ?? ""
            if change["entity"] as? String == "parent" {
                families.insert(key)
                continue
            }
            let child: String? = switch change["entity"] as? String {
            case "child": key
            case "placement": try whole.scalarString("SELECT child_number FROM placements WHERE key = ?", [.text(key)])
            case "deviation", "relation": String(key.split(separator: "|").first ?? "")
            default: nil
            }
            if let child, let parent = try whole.scalarString("SELECT MIN(parent_number) FROM relations WHERE child_number = ?", [.text(child)]) {
                families.insert(parent)
            }
        }
        #expect(families.count >= 3, "the next night should change several families")

        for parent in families.sorted().prefix(8) {
            try copy("scoped.sqlite")
            let scoped = try importing("night2", into: "scoped.sqlite", ["2026-11-23", "--only", "parent=\(parent)"])
            #expect(scoped.status == 0, "\(scoped.stderr)")
            let one = try Database(path: database("scoped.sqlite"), mode: .queryOnly)
            let children = try whole.query("SELECT child_number FROM relations WHERE parent_number = ?", [.text(parent)]) { $0.string(0) ?? "" }
            let list = "(" + children.map { "'\($0)'" }.joined(separator: ",") + ")"
            let parents = "(SELECT parent_number FROM relations WHERE child_number IN \(list))"
            let family = [
                "SELECT key, first_name, last_name, email, email2, status FROM parents WHERE key IN \(parents)",
                "SELECT key, first_name, last_name, birth_date, status FROM children WHERE key IN \(list)",
                "SELECT key, role, status FROM relations WHERE child_number IN \(list)",
                "SELECT key, group_code, contract_type, start_date, end_date, monday, tuesday, wednesday, thursday, friday, weeks, status FROM placements WHERE child_number IN \(list)",
                "SELECT key, from_time, to_time, description, status FROM deviations WHERE child_number IN \(list)",
                "SELECT parent_number, username, email_column, disabled_at IS NULL FROM accounts WHERE parent_number IN \(parents)",
                "SELECT parent_number, account FROM account_members WHERE parent_number IN \(parents)",
                "SELECT parent_number, state, email_column, detail FROM account_state WHERE parent_number IN \(parents)",
                "SELECT kind, account, recipient, status FROM outbox WHERE account IN \(parents)",
                "SELECT group_code, date, child_number, start_time, end_time, absent, reason, source FROM attendance WHERE child_number IN \(list) AND date BETWEEN '2026-11-23' AND '\(horizonEnd)'",
            ]
            for sql in family {
                #expect(try rows(one, sql) == rows(whole, sql), "parent=\(parent): \(sql)")
            }
            // Everyone else's lists stay as they were: rebuilding a group keeps the other children on it.
            let others = "SELECT group_code, date, child_number, start_time, end_time, absent, reason, source FROM attendance WHERE child_number NOT IN \(list) AND date BETWEEN '2026-11-23' AND '\(horizonEnd)'"
            #expect(try rows(one, others) == rows(base, others), "parent=\(parent): other children's lists")
            #expect(try rows(one, "SELECT key, email, status FROM parents WHERE key NOT IN \(parents)")
                == rows(base, "SELECT key, email, status FROM parents WHERE key NOT IN \(parents)"))
        }
    }

    /// A location scope reads that location's rows, but a child placed elsewhere too is still in care:
    /// its parents keep their access, exactly as after a full run.
    @Test func aChildPlacedAtTwoLocationsStaysInCareWhenOneScopeEndsAPlacement() throws {
        let folder = temporaryFolder("scope-two-locations")
        var base = MiniExport()
        base["locaties.csv"].append("L2;De Vlinder")
        base["groepen.csv"].append("G3;L2;Vlinders;KDV;12")
        base["plaatsingen.csv"].append("P4;K1;G3;KDV;52 weken;01-09-2025;;08:00-17:00;;")
        #expect(try opvangsync(["import", try base.write(to: folder.appendingPathComponent("base")).path, "--as-of", "2026-11-22"], in: folder).status == 0)
        var next = base
        next["plaatsingen.csv"][1] = "P1;K1;G1;KDV;52 weken;01-09-2025;20-11-2026;07:30-18:00;07:30-18:00;"
        next.exportedAt = "2026-11-22T09:00:00+01:00"
        let export = try next.write(to: folder.appendingPathComponent("next")).path
        let scoped = try opvangsync(["import", export, "--only", "location=L1", "--as-of", "2026-11-22"], in: folder)
        #expect(scoped.status == 0, "\(scoped.stderr)")
        #expect(try value(folder, "SELECT status FROM placements WHERE key = 'P1'") == "ended")
        #expect(try value(folder, "SELECT COUNT(*) FROM access_windows") == "0", "K1 is still in care at L2")
        #expect(try value(folder, "SELECT disabled_at IS NULL FROM accounts WHERE parent_number = 'O1'") == "1")
        #expect(try value(folder, "SELECT COUNT(*) FROM attendance WHERE group_code = 'G3' AND child_number = 'K1'") != "0")
    }

    /// The scoped run reads the family's accounts, and those of every family that has one of its addresses:
    /// another family's login address is still a conflict, not a second account, and the run says so in the
    /// words of a full run, which weighs both families.
    @Test func anAddressOfAnotherFamilysAccountIsAConflictInAScopedRun() throws {
        let (folder, _) = try setUp("scope-conflict")
        let copy = folder.appendingPathComponent("copy.sqlite").path
        try FileManager.default.copyItem(atPath: folder.appendingPathComponent("portal.sqlite").path, toPath: copy)
        var next = MiniExport()
        next["ouders.csv"][1] = "O1;Marieke;Dijk;Joost@Example.nl;"
        next.exportedAt = "2026-11-22T09:00:00+01:00"
        let export = try next.write(to: folder.appendingPathComponent("conflict"))
        let result = try opvangsync(["import", export.path, "--only", "parent=O1", "--as-of", "2026-11-22"], in: folder)
        #expect(result.status == 0, "\(result.stderr)")
        func ofO1(_ result: ProcessResult) throws -> [String] {
            (try reportJSON(of: result, in: folder)["issues"] as? [[String: Any]] ?? [])
                .filter { $0["key"] as? String == "O1" }.map { "\($0["severity"] ?? "")|\($0["code"] ?? "")|\($0["message"] ?? "")" }.sorted()
        }
        let issues = try ofO1(result)
        #expect(issues.contains { $0.hasPrefix("error|address-conflict|") }, "\(issues)")
        #expect(try value(folder, "SELECT username FROM accounts WHERE parent_number = 'O1'") == "marieke@example.nl")
        #expect(try value(folder, "SELECT state FROM account_state WHERE parent_number = 'O1'") == "conflict")
        let full = try opvangsync(["import", export.path, "--db", copy, "--full", "--as-of", "2026-11-22", "--force", "--reason", "test"], in: folder)
        #expect([0, 4].contains(full.status), "\(full.stderr)")
        #expect(try ofO1(full) == issues, "the scoped run says of O1 what a full run says")
    }

    /// A scoped run parses only its family's rows: another family's broken rows, in every file a family is
    /// selected from, are counted and not checked, so they neither reject rows nor hold the family back
    /// (the nightly run reports them). A child's run finds the family from the relations as well.
    @Test func anotherFamilysBrokenRowsAreCountedNotCheckedInAScopedRun() throws {
        let (folder, _) = try setUp("scope-others-broken")
        var next = MiniExport()
        next["ouders.csv"][1] = "O1;Marieke;Dijk;marieke.dijk@example.nl;"
        next["kinderen.csv"][2] = "K2;Daan;;Smit;31-02-2019;M1"
        next["ouders.csv"][2] = "O2;Joost;;;"
        next["relaties.csv"][2] = "K2;O2;Oom"
        next["plaatsingen.csv"][2] = "P2;K2;G9;BSO;Schoolweken;01-09-2025;;14:00-18:30;;even"
        next["afwijkingen.csv"].append("K2;G2;32-11-2026;Afwezig;;;ziek")
        next.exportedAt = "2026-11-22T09:00:00+01:00"
        let export = try next.write(to: folder.appendingPathComponent("others-broken"))
        for scope in ["parent=O1", "child=K1"] {
            let result = try opvangsync(["import", export.path, "--only", scope, "--dry-run", "--as-of", "2026-11-22"], in: folder)
            #expect(result.status == 0, "\(scope): \(result.stdout) \(result.stderr)")
            let report = try reportJSON(of: result, in: folder)
            let errors = (report["issues"] as? [[String: Any]] ?? []).filter { $0["severity"] as? String == "error" }
            #expect(errors.isEmpty, "\(scope): \(errors)")
            let changes = (report["changes"] as? [[String: Any]] ?? []).map { "\($0["entity"]!)/\($0["key"]!)" }
            #expect(changes == ["parent/O1"], "\(scope)")
        }
        let full = try opvangsync(["import", export.path, "--dry-run", "--as-of", "2026-11-22"], in: folder)
        let rejected = (try reportJSON(of: full, in: folder)["issues"] as? [[String: Any]] ?? [])
            .filter { $0["severity"] as? String == "error" }.compactMap { $0["file"] as? String }
        #expect(Set(rejected) == ["kinderen.csv", "ouders.csv", "relaties.csv", "plaatsingen.csv", "afwijkingen.csv"], "\(rejected)")
    }

    /// The relations a family is found from are read on another core while other files are read: a relations
    /// file altered after its manifest, or one that cannot be decoded, still refuses the run and names the file,
    /// as the full run does.
    @Test func aFamilysRunIsRefusedOnARelationsFileThatIsNotTheOneListed() throws {
        let (folder, _) = try setUp("scope-relations-refused")
        var next = MiniExport()
        next.exportedAt = "2026-11-22T09:00:00+01:00"
        let altered = try next.write(to: folder.appendingPathComponent("altered"))
        let relaties = altered.appendingPathComponent("relaties.csv")
        try Data((try String(contentsOf: relaties, encoding: .utf8) + "K3;O1;Ouder 2\n").utf8).write(to: relaties)
        // UTF-8 with a byte that is not: damage, not another encoding.
        next.raw["relaties.csv"] = Array((next["relaties.csv"].joined(separator: "\n") + "\nK3;O1;Ouder 2 \u{00E9}").utf8) + [0xFF, 0x0A]
        let broken = try next.write(to: folder.appendingPathComponent("broken"))
        for export in [altered, broken] {
            let full = try opvangsync(["import", export.path, "--dry-run", "--as-of", "2026-11-22"], in: folder)
            let expected = try errors(full, in: folder)
            #expect(expected.count == 1 && expected.first?.hasSuffix("|relaties.csv") == true, "\(expected)")
            #expect([1, 3].contains(full.status), "\(full.stdout)")
            for scope in ["parent=O1", "child=K1"] {
                let result = try opvangsync(["import", export.path, "--only", scope, "--as-of", "2026-11-22"], in: folder)
                #expect(result.status == full.status, "\(scope): \(result.stdout) \(result.stderr)")
                #expect(try errors(result, in: folder) == expected, "\(scope)")
            }
        }
        #expect(try value(folder, "SELECT COUNT(*) FROM relations WHERE child_number = 'K3' AND parent_number = 'O1'") == "0")
    }

    /// A family's run reads the locations, groups, staff and calendar only for what its rows refer to. When
    /// they are the files the portal applied, they are not parsed: the keys its rows refer to, the warnings
    /// those files gave and the care types its placements are weighed against are the portal's, and the run
    /// does what the same run does with every file read. A file that is not the one listed is still refused.
    @Test func aFamilysRunDoesNotParseTheFilesItReadsWholeWhenTheyAreTheOnesApplied() throws {
        let folder = temporaryFolder("scope-skips")
        var export = MiniExport()
        export["medewerkers.csv"].append("M2;Sara;Jansen;G1|G9")                                   // G9 does not exist: a warning
        export["plaatsingen.csv"][1] = "P1;K1;G1;BSO;52 weken;01-09-2025;;07:30-18:00;07:30-18:00;"  // G1 is KDV: a warning
        let first = try opvangsync(["import", export.write(to: folder.appendingPathComponent("n1")).path, "--as-of", "2026-11-22"], in: folder)
        #expect(first.status == 0, "\(first.stderr)")
        export["ouders.csv"][1] = "O1;Marieke;Dijk;marieke.dijk@example.nl;"
        export.exportedAt = "2026-11-22T09:00:00+01:00"
        let next = try export.write(to: folder.appendingPathComponent("n2"))
        // The same run on a copy of the portal that keeps no record of the files it applied: it reads them all.
        let reading = temporaryFolder("scope-skips-reading")
        let portal = folder.appendingPathComponent("portal.sqlite").path, copy = reading.appendingPathComponent("portal.sqlite").path
        try Database(path: portal).run("VACUUM INTO '\(copy)'")
        try Database(path: copy).run("DELETE FROM applied_files")
        let arguments = ["import", next.path, "--only", "parent=O1", "--as-of", "2026-11-22"]
        let skipping = try opvangsync(arguments, in: folder), whole = try opvangsync(arguments, in: reading)
        #expect(skipping.status == 0 && whole.status == 0, "\(skipping.stderr) \(whole.stderr)")
        let (skipped, read) = (try reportJSON(of: skipping, in: folder), try reportJSON(of: whole, in: reading))
        func unparsed(_ report: [String: Any]) -> [String] {
            ((report["export"] as? [String: Any])?["files"] as? [[String: Any]] ?? []).filter { $0["encoding"] == nil }.compactMap { $0["name"] as? String }
        }
        #expect(unparsed(skipped) == ["locaties.csv", "groepen.csv", "medewerkers.csv", "kalender.csv"], "\(unparsed(skipped))")
        #expect(unparsed(read).isEmpty)
        // The readable report says so in its technical section, where it names each file's encoding.
        let markdown = try #require(skipping.stdout.split(separator: "\n").first { $0.hasSuffix(".md") }?.split(separator: " ").last)
        let table = try String(contentsOfFile: markdown.hasPrefix("/") ? String(markdown) : folder.appendingPathComponent(String(markdown)).path,
                               encoding: .utf8)
        #expect(table.contains("| `medewerkers.csv` | staff | 2 | 0 | niet gelezen: ongewijzigd sinds de vorige import |"), "\(table)")
        func issues(_ report: [String: Any]) -> [String] {
            (report["issues"] as? [[String: Any]] ?? []).map { issue in
                ["severity", "code", "file", "line", "column", "field", "key", "message"].map { "\(issue[$0] ?? "-")" }.joined(separator: "|")
            }
        }
        #expect(issues(skipped) == issues(read))
        #expect(issues(skipped).contains { $0.contains("|unknown-optional-reference|medewerkers.csv|") }, "\(issues(skipped))")
        #expect(issues(skipped).contains { $0.contains("|care-type-mismatch|plaatsingen.csv|") }, "\(issues(skipped))")
        #expect(try value(folder, "SELECT email FROM parents WHERE key = 'O1'") == "marieke.dijk@example.nl")
        var (after, afterRead) = (try IncrementalDifferentialTests.contents(portal), try IncrementalDifferentialTests.contents(copy))
        (after["applied_files"], afterRead["applied_files"]) = (nil, nil)
        #expect(after == afterRead, "the same portal, apart from the record of the files applied")

        // A staff member's row hash deleted by hand: the portal no longer knows every key of the staff file,
        // which is read again, with the same warnings.
        try Database(path: portal).run("DELETE FROM record_hashes WHERE entity = 'staff' AND key = 'M2'")
        let unhashed = try opvangsync(arguments, in: folder)
        #expect(unhashed.status == 0, "\(unhashed.stderr)")
        let reread = try reportJSON(of: unhashed, in: folder)
        #expect(unparsed(reread) == ["locaties.csv", "groepen.csv", "kalender.csv"], "\(unparsed(reread))")
        #expect(issues(reread) == issues(read))

        // Another group name: the groups are read, and so are the staff, who refer to them.
        export["groepen.csv"][2] = "G2;L1;Vossen;BSO;20"
        export.exportedAt = "2026-11-22T10:00:00+01:00"
        let renamed = try opvangsync(["import", export.write(to: folder.appendingPathComponent("n3")).path, "--only", "parent=O1",
                                      "--as-of", "2026-11-22"], in: folder)
        #expect(renamed.status == 0, "\(renamed.stderr)")
        #expect(unparsed(try reportJSON(of: renamed, in: folder)) == ["locaties.csv", "kalender.csv"])

        // A staff file altered after its manifest (the bytes listed are those applied): refused as a full run refuses it.
        let staff = next.appendingPathComponent("medewerkers.csv")
        try Data(try String(contentsOf: staff, encoding: .utf8).replacingOccurrences(of: "Sara", with: "Sera").utf8).write(to: staff)
        let full = try opvangsync(["import", next.path, "--dry-run", "--full", "--as-of", "2026-11-22"], in: folder)
        let scoped = try opvangsync(arguments, in: folder)
        #expect([1, 3].contains(full.status) && scoped.status == full.status, "\(full.status) \(scoped.status): \(scoped.stdout) \(scoped.stderr)")
        let (refused, expected) = (try errors(scoped, in: folder), try errors(full, in: folder))
        #expect(refused == expected && expected.first?.hasSuffix("|medewerkers.csv") == true, "\(refused)")
    }

    /// A placement number used twice is ambiguous even when the other row belongs to another family.
    @Test func aKeyThatAnotherFamilyAlsoUsesIsRejectedInAScopedRun() throws {
        let (folder, _) = try setUp("scope-duplicate")
        var next = MiniExport()
        next["plaatsingen.csv"][3] = "P1;K3;G1;KDV;52 weken;01-01-2026;;;08:00-17:00;"
        next.exportedAt = "2026-11-22T09:00:00+01:00"
        let export = try next.write(to: folder.appendingPathComponent("duplicate"))
        let result = try opvangsync(["import", export.path, "--only", "parent=O1", "--dry-run", "--as-of", "2026-11-22"], in: folder)
        let issues = try reportJSON(of: result, in: folder)["issues"] as? [[String: Any]] ?? []
        let duplicate = issues.first { $0["code"] as? String == "duplicate-key" }
        #expect(duplicate?["key"] as? String == "P1")
        #expect((duplicate?["message"] as? String)?.contains("regel 4") == true, "\(String(describing: duplicate))")
        #expect(issues.contains { $0["code"] as? String == "scoped-read" })
    }

    /// The export gives placement P3, which the portal holds for K3 (another family), to K1. A run for K1's
    /// family cannot move it: K3's family would lose a placement without its accounts and access being
    /// planned again. The row is refused with a clear reason, the rest of the family is applied, and the
    /// next full run moves the placement with both families in view.
    @Test func aPlacementThePortalHoldsForAnotherFamilyIsNotMovedByAScopedRun() throws {
        let (folder, _) = try setUp("scope-moved-placement")
        var next = MiniExport()
        next["ouders.csv"][1] = "O1;Marieke;Dijk;marieke.dijk@example.nl;"
        next["plaatsingen.csv"][3] = "P3;K1;G1;KDV;52 weken;01-01-2026;;;08:00-17:00;"
        next.exportedAt = "2026-11-22T09:00:00+01:00"
        let export = try next.write(to: folder.appendingPathComponent("moved"))
        let scoped = try opvangsync(["import", export.path, "--only", "parent=O1", "--as-of", "2026-11-22"], in: folder)
        #expect(scoped.status == 4, "applied, with a row refused: \(scoped.stderr)")
        let report = try reportJSON(of: scoped, in: folder)
        let issues = report["issues"] as? [[String: Any]] ?? []
        let refused = issues.first { $0["key"] as? String == "P3" && $0["severity"] as? String == "error" }
        #expect(refused?["file"] as? String == "plaatsingen.csv")
        #expect(refused?["line"] as? Int == 4)
        #expect((refused?["message"] as? String)?.contains("K3") == true, "\(String(describing: refused))")
        #expect(!issues.contains { $0["code"] as? String == "internal-error" })
        #expect(try value(folder, "SELECT child_number FROM placements WHERE key = 'P3'") == "K3")
        #expect(try value(folder, "SELECT last_name FROM parents WHERE key = 'O1'") == "Dijk", "the family's own change is applied")

        let full = try opvangsync(["import", export.path, "--as-of", "2026-11-22", "--force", "--reason", "test"], in: folder)
        #expect(full.status == 0, "\(full.stderr)")
        #expect(try value(folder, "SELECT child_number FROM placements WHERE key = 'P3'") == "K1")
    }

    /// A portal with MiniExport and a second location, L2, whose group G3 holds K4 (of O4): the families of
    /// each location apart.
    func twoLocations(_ name: String) throws -> (folder: URL, base: MiniExport) {
        let folder = temporaryFolder(name)
        var base = MiniExport()
        base["locaties.csv"].append("L2;De Vlinder")
        base["groepen.csv"].append("G3;L2;Vlinders;KDV;12")
        base["kinderen.csv"].append("K4;Sem;;Jansen;04-04-2024;")
        base["ouders.csv"].append("O4;Lotte;Jansen;lotte@example.nl;")
        base["relaties.csv"].append("K4;O4;Ouder 1")
        base["plaatsingen.csv"].append("P4;K4;G3;KDV;52 weken;01-09-2025;;08:00-17:00;;")
        let first = try opvangsync(["import", try base.write(to: folder.appendingPathComponent("base")).path, "--as-of", "2026-11-22"], in: folder)
        #expect(first.status == 0, "\(first.stderr)")
        return (folder, base)
    }

    /// The export gives group G3, which the portal holds at L2, to L1. A run for L1 cannot move it: L2 would
    /// lose a group, its placements and its lists without being weighed or planned (the removal guard weighs a
    /// location in a run that sees the whole export). The group's row is refused with both locations named,
    /// nothing of G3 changes, L1's own changes are applied, and the next full run moves the group.
    @Test func aGroupThePortalHoldsAtAnotherLocationIsNotMovedIntoALocationsRun() throws {
        let (folder, base) = try twoLocations("scope-group-in")
        var next = base
        next["groepen.csv"][3] = "G3;L1;Vlinders;KDV;12"
        next["ouders.csv"][1] = "O1;Marieke;Dijk;marieke.dijk@example.nl;"
        next["plaatsingen.csv"][4] = "P4;K4;G3;KDV;52 weken;01-09-2025;;08:00-17:30;;"
        next.exportedAt = "2026-11-22T09:00:00+01:00"
        let export = try next.write(to: folder.appendingPathComponent("moved"))
        let scoped = try opvangsync(["import", export.path, "--only", "location=L1", "--as-of", "2026-11-22"], in: folder)
        #expect(scoped.status == 4, "applied, with a row refused: \(scoped.stderr)")
        let issues = try reportJSON(of: scoped, in: folder)["issues"] as? [[String: Any]] ?? []
        let refused = issues.first { $0["key"] as? String == "G3" && $0["severity"] as? String == "error" }
        #expect(refused?["file"] as? String == "groepen.csv")
        #expect(refused?["line"] as? Int == 4)
        let message = refused?["message"] as? String ?? ""
        #expect(message.contains("L2") && message.contains("L1"), "\(message)")
        #expect(!issues.contains { $0["code"] as? String == "internal-error" })
        #expect(try value(folder, "SELECT location_code FROM groups WHERE key = 'G3'") == "L2")
        #expect(try value(folder, "SELECT monday FROM placements WHERE key = 'P4'") == "08:00-17:00", "the group's placements stay as they are")
        #expect(try value(folder, "SELECT email FROM parents WHERE key = 'O1'") == "marieke.dijk@example.nl", "L1's own change is applied")

        let full = try opvangsync(["import", export.path, "--as-of", "2026-11-22", "--force", "--reason", "test"], in: folder)
        #expect(full.status == 0, "\(full.stderr)")
        #expect(try value(folder, "SELECT location_code FROM groups WHERE key = 'G3'") == "L1")
        #expect(try value(folder, "SELECT monday FROM placements WHERE key = 'P4'") == "08:00-17:30")
    }

    /// The other way round: the export gives L1's group G2 to L2. L1's run leaves G2 at L1, with its
    /// placement and lists, and says why.
    @Test func aGroupIsNotMovedOutOfALocationByThatLocationsRun() throws {
        let (folder, base) = try twoLocations("scope-group-out")
        var next = base
        next["groepen.csv"][2] = "G2;L2;Uilen;BSO;20"
        next.exportedAt = "2026-11-22T09:00:00+01:00"
        let export = try next.write(to: folder.appendingPathComponent("moved"))
        let listsBefore = try value(folder, "SELECT COUNT(*) FROM attendance WHERE group_code = 'G2'")
        let scoped = try opvangsync(["import", export.path, "--only", "location=L1", "--as-of", "2026-11-22"], in: folder)
        #expect(scoped.status == 4, "applied, with a row refused: \(scoped.stderr)")
        let issues = try reportJSON(of: scoped, in: folder)["issues"] as? [[String: Any]] ?? []
        let refused = issues.first { $0["key"] as? String == "G2" && $0["severity"] as? String == "error" }
        #expect(refused?["file"] as? String == "groepen.csv")
        #expect(refused?["line"] as? Int == 3)
        #expect(try value(folder, "SELECT location_code FROM groups WHERE key = 'G2'") == "L1")
        #expect(try value(folder, "SELECT status FROM placements WHERE key = 'P2'") == "active")
        #expect(try value(folder, "SELECT COUNT(*) FROM attendance WHERE group_code = 'G2'") == listsBefore)

        // A run for L2 does not take it either.
        let other = try opvangsync(["import", export.path, "--only", "location=L2", "--as-of", "2026-11-22"], in: folder)
        #expect(other.status == 4, "\(other.stderr)")
        #expect(try value(folder, "SELECT location_code FROM groups WHERE key = 'G2'") == "L1")

        let full = try opvangsync(["import", export.path, "--as-of", "2026-11-22", "--force", "--reason", "test"], in: folder)
        #expect(full.status == 0, "\(full.stderr)")
        #expect(try value(folder, "SELECT location_code FROM groups WHERE key = 'G2'") == "L2")
    }

    /// A closing day that a location's run adds closes that location's lists at once, as a full run does; the
    /// next nightly run, which sees nothing changed, has nothing left to do.
    @Test func aClosingDayAddedByALocationsRunClosesItsLists() throws {
        let (folder, base) = try twoLocations("scope-closing-day")
        var next = base
        next["kalender.csv"].append("30-11-2026;01-12-2026;Sluitingsdag;L1;Studiedag")
        next.exportedAt = "2026-11-22T09:00:00+01:00"
        let export = try next.write(to: folder.appendingPathComponent("closed"))
        let scoped = try opvangsync(["import", export.path, "--only", "location=L1", "--as-of", "2026-11-22"], in: folder)
        #expect(scoped.status == 0, "\(scoped.stderr)")
        for group in ["G1", "G2"] {
            #expect(try value(folder, "SELECT closed_reason FROM attendance_days WHERE group_code = '\(group)' AND date = '2026-11-30'") == "Studiedag", "\(group)")
            #expect(try value(folder, "SELECT COUNT(*) FROM attendance WHERE group_code = '\(group)' AND date IN ('2026-11-30', '2026-12-01')") == "0", "\(group)")
        }
        #expect(try value(folder, "SELECT closed_reason FROM attendance_days WHERE group_code = 'G3' AND date = '2026-11-30'") == nil, "L2 stays open")
        #expect(try value(folder, "SELECT COUNT(*) FROM attendance WHERE group_code = 'G3' AND date = '2026-11-30'") == "1")
    }

    /// O1b shares O1's address and children, so uses O1's account. A child's run links K5 to O1 alone: O1b's
    /// children are no longer the owner's, and O1b must leave the account there and then, as a full run has
    /// it leave, or O1b would see K5, a child that is not theirs. The next nightly run sees nothing changed.
    @Test func aScopedRunThatGivesAnOwnerAnotherChildDetachesTheMembersWhoseChildrenDiffer() throws {
        let folder = temporaryFolder("scope-shared-member")
        var base = MiniExport()
        base["ouders.csv"].append("O1b;Peter;Dijk;Marieke@example.nl;")
        base["relaties.csv"].append("K1;O1b;Ouder 2")
        base["kinderen.csv"].append("K5;Fien;;Smit;02-02-2024;")
        base["ouders.csv"].append("O5;Els;Smit;els@example.nl;")
        base["relaties.csv"].append("K5;O5;Ouder 1")
        base["plaatsingen.csv"].append("P6;K5;G1;KDV;52 weken;01-09-2025;;08:00-17:00;;")
        #expect(try opvangsync(["import", try base.write(to: folder.appendingPathComponent("base")).path, "--as-of", "2026-11-22"], in: folder).status == 0)
        #expect(try value(folder, "SELECT account FROM account_members WHERE parent_number = 'O1b'") == "O1")
        var next = base
        next["relaties.csv"].append("K5;O1;Ouder 2")
        next.exportedAt = "2026-11-22T09:00:00+01:00"
        let export = try next.write(to: folder.appendingPathComponent("next"))
        let scoped = try opvangsync(["import", export.path, "--only", "child=K5", "--as-of", "2026-11-22"], in: folder)
        #expect([0, 4].contains(scoped.status), "\(scoped.stderr)")
        #expect(try value(folder, "SELECT COUNT(*) FROM account_members WHERE parent_number = 'O1b'") == "0", "O1b no longer sees O1's children")
        let nightly = try opvangsync(["import", export.path, "--as-of", "2026-11-23", "--force", "--reason", "test"], in: folder)
        #expect([0, 4].contains(nightly.status), "\(nightly.stderr)")
        #expect(try value(folder, "SELECT COUNT(*) FROM account_members WHERE parent_number = 'O1b'") == "0")
    }

    /// The export gives K1's placement P1 to K2. A run for K1's family does not read K2's rows and must not
    /// take P1 for one that left the export: ending it (as vanished) would take K1 off the lists and open
    /// windows as if K1's care were over. It stays as it is, the report says why, and the next nightly run
    /// moves it with both families in view.
    @Test func aPlacementTheExportGivesToAnotherFamilyIsNotEndedByAScopedRun() throws {
        let (folder, _) = try setUp("scope-moved-out")
        var next = MiniExport()
        next["plaatsingen.csv"][1] = "P1;K2;G1;KDV;52 weken;01-09-2025;;07:30-18:00;07:30-18:00;"
        next.exportedAt = "2026-11-22T09:00:00+01:00"
        let export = try next.write(to: folder.appendingPathComponent("moved"))
        let listed = try value(folder, "SELECT COUNT(*) FROM attendance WHERE child_number = 'K1'")
        let scoped = try opvangsync(["import", export.path, "--only", "parent=O1", "--as-of", "2026-11-22"], in: folder)
        #expect([0, 4].contains(scoped.status), "\(scoped.stderr)")
        #expect(try value(folder, "SELECT child_number || '|' || status FROM placements WHERE key = 'P1'") == "K1|active")
        #expect(try value(folder, "SELECT COUNT(*) FROM attendance WHERE child_number = 'K1'") == listed)
        #expect(try value(folder, "SELECT COUNT(*) FROM access_windows") == "0")
        let issues = try reportJSON(of: scoped, in: folder)["issues"] as? [[String: Any]] ?? []
        let said = issues.first { $0["key"] as? String == "P1" && $0["code"] as? String == "scoped-moved-out" }
        #expect((said?["message"] as? String)?.contains("K2") == true, "\(issues)")
        #expect(!issues.contains { $0["code"] as? String == "placement-vanished" })

        let nightly = try opvangsync(["import", export.path, "--as-of", "2026-11-23", "--force", "--reason", "test"], in: folder)
        #expect([0, 4].contains(nightly.status), "\(nightly.stderr)")
        #expect(try value(folder, "SELECT child_number || '|' || status FROM placements WHERE key = 'P1'") == "K2|active")
    }

    /// A deviation in one of the location's groups for a child placed at another location (an extra day
    /// elsewhere) refers to a child the location's placements do not name: the child's row is read all the
    /// same, and the deviation is applied as a full run applies it, not rejected as a reference to no child.
    @Test func aLocationsRunAppliesADeviationOfAChildPlacedElsewhere() throws {
        let (folder, base) = try twoLocations("scope-deviation-elsewhere")
        var next = base
        next["afwijkingen.csv"].append("K4;G1;25-11-2026;Extra dag;08:00;12:00;wendag")
        next.exportedAt = "2026-11-22T09:00:00+01:00"
        let export = try next.write(to: folder.appendingPathComponent("extra"))
        let scoped = try opvangsync(["import", export.path, "--only", "location=L1", "--as-of", "2026-11-22"], in: folder)
        #expect(scoped.status == 0, "\(scoped.stderr)")
        let errors = (try reportJSON(of: scoped, in: folder)["issues"] as? [[String: Any]] ?? []).filter { $0["severity"] as? String == "error" }
        #expect(errors.isEmpty, "\(errors)")
        #expect(try value(folder, "SELECT description FROM deviations WHERE child_number = 'K4' AND group_code = 'G1'") == "wendag")
    }

    /// M1 works in groups of both locations. A location's run does not change what the other location's
    /// group has: M1's row is refused with the groups it names elsewhere, and the night's run applies it.
    @Test func aLocationsRunDoesNotChangeStaffWhoAlsoWorkAtAnotherLocation() throws {
        let folder = temporaryFolder("scope-staff-elsewhere")
        var base = MiniExport()
        base["locaties.csv"].append("L2;De Vlinder")
        base["groepen.csv"].append("G3;L2;Vlinders;KDV;12")
        base["medewerkers.csv"][1] = "M1;Anne;Bakker;G1|G3"
        base["medewerkers.csv"].append("M2;Piet;Jansen;G1")
        #expect(try opvangsync(["import", try base.write(to: folder.appendingPathComponent("base")).path, "--as-of", "2026-11-22"], in: folder).status == 0)
        var next = base
        next["medewerkers.csv"][1] = "M1;Anne;Bakker;G1"
        next["medewerkers.csv"][2] = "M2;Piet;Janssen;G1"
        next.exportedAt = "2026-11-22T09:00:00+01:00"
        let export = try next.write(to: folder.appendingPathComponent("next"))
        let scoped = try opvangsync(["import", export.path, "--only", "location=L1", "--as-of", "2026-11-22"], in: folder)
        #expect(scoped.status == 4, "applied, with a row refused: \(scoped.stderr)")
        #expect(try value(folder, "SELECT group_codes FROM staff WHERE key = 'M1'") == "G1|G3")
        #expect(try value(folder, "SELECT last_name FROM staff WHERE key = 'M2'") == "Janssen", "the location's own staff change is applied")
        let issues = try reportJSON(of: scoped, in: folder)["issues"] as? [[String: Any]] ?? []
        let refused = issues.first { $0["key"] as? String == "M1" && $0["severity"] as? String == "error" }
        #expect(refused?["file"] as? String == "medewerkers.csv")
        #expect((refused?["message"] as? String)?.contains("G3") == true, "\(issues)")
        let nightly = try opvangsync(["import", export.path, "--as-of", "2026-11-23", "--force", "--reason", "test"], in: folder)
        #expect([0, 4].contains(nightly.status), "\(nightly.stderr)")
        #expect(try value(folder, "SELECT group_codes FROM staff WHERE key = 'M1'") == "G1")
    }

    /// The errors a run's report names, as `code|file`.
    func errors(_ result: ProcessResult, in folder: URL) throws -> [String] {
        (try reportJSON(of: result, in: folder)["issues"] as? [[String: Any]] ?? [])
            .filter { $0["severity"] as? String == "error" }.map { "\($0["code"] ?? "-")|\($0["file"] ?? "-")" }
    }

    func rows(_ database: Database, _ sql: String) throws -> [String] {
        try database.query(sql) { row in (0..<row.count).map { row.string($0) ?? "∅" }.joined(separator: "|") }.sorted()
    }
}
