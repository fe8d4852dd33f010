import Foundation
import OpvangSync
import PortalStore
import TestSupport
import Testing

/// Every row of every portal table that belongs to one location, as text: the location, its groups,
/// placements, absences, closing days and staff, the children placed there with their relations and
/// parents, those parents' accounts, members, states, invitations, mail and access windows, the
/// children's consents, the groups' attendance lists and days, and the change log and content hashes of
/// all those records.
func locationRows(_ path: String, _ location: String) throws -> [String: [String]] {
    let database = try Database(path: path, mode: .readOnly)
    let groups = "(SELECT key FROM groups WHERE location_code = '\(location)')"
    let children = "(SELECT child_number FROM placements WHERE group_code IN \(groups))"
    let parents = "(SELECT parent_number FROM relations WHERE child_number IN \(children))"
    let accounts = "(SELECT account FROM account_members WHERE parent_number IN \(parents) UNION SELECT key FROM parents WHERE key IN \(parents))"
    let staff = "(SELECT key FROM staff WHERE '|' || group_codes || '|' LIKE '%|\(location)-%')"
    let selections: [(table: String, condition: String)] = [
        ("locations", "key = '\(location)'"),
        ("groups", "key IN \(groups)"),
        ("placements", "group_code IN \(groups)"),
        ("deviations", "group_code IN \(groups)"),
        ("calendar", "location_code = '\(location)'"),
        ("staff", "key IN \(staff)"),
        ("children", "key IN \(children)"),
        ("relations", "child_number IN \(children)"),
        ("parents", "key IN \(parents)"),
        ("accounts", "parent_number IN \(accounts)"),
        ("account_members", "parent_number IN \(parents)"),
        ("account_state", "parent_number IN \(parents)"),
        ("invitations", "account IN \(accounts)"),
        ("outbox", "account IN \(accounts)"),
        ("access_windows", "parent_number IN \(parents) OR child_number IN \(children)"),
        ("consents", "child_number IN \(children)"),
        ("attendance", "group_code IN \(groups)"),
        ("attendance_days", "group_code IN \(groups)"),
    ]
    // The change log, and the content hashes an incremental run compares the export's rows with.
    let records = """
        (entity = 'location' AND key = '\(location)') OR (entity = 'group' AND key IN \(groups))
        OR (entity = 'placement' AND key IN (SELECT key FROM placements WHERE group_code IN \(groups)))
        OR (entity = 'deviation' AND key IN (SELECT key FROM deviations WHERE group_code IN \(groups)))
        OR (entity = 'calendar' AND key IN (SELECT key FROM calendar WHERE location_code = '\(location)'))
        OR (entity = 'staff' AND key IN \(staff)) OR (entity = 'child' AND key IN \(children))
        OR (entity = 'relation' AND key IN (SELECT key FROM relations WHERE child_number IN \(children)))
        OR (entity = 'parent' AND key IN \(parents))
        """
    let selectionsWithRecords = selections + [("change_log", records), ("record_hashes", records)]
    var rows: [String: [String]] = [:]
    for (table, condition) in selectionsWithRecords {
        rows[table] = try database.query("SELECT * FROM \(table) WHERE \(condition) ORDER BY 1, 2") { row in
            (0..<row.count).map { row.string($0) ?? "∅" }.joined(separator: "|")
        }
    }
    return rows
}

/// SPEC §5, the mass-removal guard per location: when one location's data in the export is wrong, that
/// location is held exactly as it was and the others are brought up to date (exit 5).
@Suite struct HeldLocationTests {
    func database(_ folder: URL) -> String { folder.appendingPathComponent("portal.sqlite").path }

    func importing(_ export: MiniExport, _ asOf: String, in folder: URL, _ extra: [String] = []) throws -> (ProcessResult, [String: Any], URL) {
        let path = try export.night(asOf, in: folder)
        let result = try opvangsync(["import", path.path, "--as-of", asOf] + extra, in: folder)
        return (result, try reportJSON(of: result, in: folder), path)
    }

    func value(_ folder: URL, _ sql: String) throws -> String? {
        try Database(path: database(folder), mode: .readOnly).scalarString(sql)
    }

    func codes(_ report: [String: Any]) -> [String] {
        (report["issues"] as? [[String: Any]] ?? []).compactMap { $0["code"] as? String }
    }

    func held(_ report: [String: Any]) -> [[String: Any]] { report["heldLocations"] as? [[String: Any]] ?? [] }

    /// The first night of twenty locations, imported; the export to change for the next.
    func firstNight(_ name: String, locations: Int = 20) throws -> (URL, MiniExport) {
        let folder = temporaryFolder(name)
        let base = MiniExport.locations(locations)
        let (first, _, _) = try importing(base, "2026-11-22", in: folder)
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        return (folder, base)
    }

    /// The next night: L07 has lost every placement; elsewhere a new family (at L03), a changed name (at
    /// L05) and a new absence (at L10); at L07 a changed name and a new family, which must wait.
    func withoutL07(_ base: MiniExport) -> MiniExport {
        var next = base
        next.remove(from: "plaatsingen.csv") { $0.contains(";L07-G") }
        next["kinderen.csv"] += ["K0399;Nieuw;;Kind;01-05-2025;M03", "K0799;Ander;;Kind;01-05-2025;M07"]
        next["ouders.csv"] += ["O0399;Nieuwe;Ouder;nieuw@example.nl;", "O0799;Andere;Ouder;nieuw07@example.nl;"]
        next["relaties.csv"] += ["K0399;O0399;Ouder 1", "K0799;O0799;Ouder 1"]
        next["plaatsingen.csv"] += ["P0399;K0399;L03-G1;KDV;52 weken;01-12-2026;;08:00-17:00;08:00-17:00;;;;",
                                    "P0799;K0799;L07-G1;KDV;52 weken;01-12-2026;;08:00-17:00;08:00-17:00;;;;"]
        next["ouders.csv"] = next["ouders.csv"].map { row in
            row.hasPrefix("O0501;") ? "O0501;Ouder;Verhuisd;ouder.k0501@example.nl;"
                : row.hasPrefix("O0702;") ? "O0702;Ouder;Verhuisd;ouder.k0702@example.nl;" : row
        }
        next["afwijkingen.csv"].append("K1001;L10-G1;25-11-2026;Afwezig;;;griep")
        return next
    }

    @Test func aLocationThatLosesAllItsPlacementsIsHeldAndTheOtherNineteenAreApplied() throws {
        let (folder, base) = try firstNight("held")
        let before = try locationRows(database(folder), "L07")
        for table in ["locations", "groups", "placements", "deviations", "calendar", "staff", "children", "relations", "parents",
                      "accounts", "account_state", "invitations", "outbox", "attendance", "attendance_days", "change_log", "record_hashes"] {
            #expect(!(before[table] ?? []).isEmpty, "the comparison of \(table) must compare something")
        }
        let otherBefore = try locationRows(database(folder), "L08")
        let (second, report, _) = try importing(withoutL07(base), "2026-11-23", in: folder)

        #expect(second.status == 5, "\(second.stdout)\(second.stderr)")
        #expect(report["status"] as? String == "applied")
        #expect(report["exitCode"] as? Int == 5)
        #expect(second.summary.contains("1 location held"), "\(second.summary)")
        // The held location, untouched in every table.
        #expect(try locationRows(database(folder), "L07") == before)
        // The others up to date: the new family invited, the changed name visible, the lists rebuilt.
        #expect(try value(folder, "SELECT status FROM placements WHERE key = 'P0399'") == "active")
        #expect(try value(folder, "SELECT recipient FROM outbox WHERE account = 'O0399' AND kind = 'invitation'") == "nieuw@example.nl")
        #expect(try value(folder, "SELECT last_name FROM parents WHERE key = 'O0501'") == "Verhuisd")
        #expect(try value(folder, "SELECT absent || reason FROM attendance WHERE group_code = 'L10-G1' AND date = '2026-11-25' AND child_number = 'K1001'") == "1griep")
        #expect(try value(folder, "SELECT COUNT(*) FROM attendance WHERE group_code = 'L03-G1' AND date = '2026-12-01' AND child_number = 'K0399'") == "1")
        #expect(try value(folder, "SELECT MAX(date) FROM attendance_days WHERE group_code = 'L08-G1'") == "2026-12-21",
                "a healthy location's lists move on with the run date")
        #expect(try locationRows(database(folder), "L08") != otherBefore)
        // Nothing of the held location was invited or changed.
        #expect(try value(folder, "SELECT COUNT(*) FROM parents WHERE key = 'O0799'") == "0")
        #expect(try value(folder, "SELECT COUNT(*) FROM outbox WHERE recipient = 'nieuw07@example.nl'") == "0")

        // The report: the held location with the numbers that tripped the guard and what to do.
        let location = try #require(held(report).first)
        #expect(held(report).count == 1)
        #expect(location["code"] as? String == "L07")
        #expect(location["name"] as? String == "Locatie 07")
        #expect(location["released"] as? Bool == false)
        #expect(location["activePlacements"] as? Int == 5 && location["placementsWouldEnd"] as? Int == 5)
        #expect(location["activeChildren"] as? Int == 5 && location["childrenWouldEnd"] as? Int == 0)
        #expect(location["threshold"] as? Double == 0.5)
        let message = location["message"] as? String ?? ""
        #expect(message.contains("5 van de 5 actieve plaatsingen (100,0%)") && message.contains("50,0%"), "\(message)")
        #expect(message.contains("vastgehouden") && message.contains("Wat nu") && message.contains("opnieuw exporteren"), "\(message)")
        #expect(!message.contains("--") && !message.contains("maxRemovalFraction"), "plain Dutch, without flags or keys: \(message)")
        #expect(codes(report).contains("location-held"))
        let waiting = (report["issues"] as? [[String: Any]] ?? []).filter { $0["code"] as? String == "held-placement-waiting" }
        #expect(waiting.map { $0["key"] as? String } == ["P0799"], "the new family at L07 waits, and the report says so")
        let runs = try opvangsync(["runs"], in: folder)
        #expect(runs.stdout.contains("1 locatie vastgehouden"), "\(runs.stdout)")
        #expect(!codes(report).contains("placement-vanished"), "the held placements did not vanish")
        #expect((report["heldChanges"] as? [String: Int])?["placement"] == 6, "P0701–P0705 ending, P0799 new")
        let counts = report["counts"] as? [String: [String: Int]] ?? [:]
        #expect(counts["placement"]?["vanished"] == 0 && counts["placement"]?["created"] == 1)
        let changed = Set((report["changes"] as? [[String: Any]] ?? []).compactMap { $0["key"] as? String })
        #expect(changed.isDisjoint(with: ["P0701", "O0702", "K0799", "O0799", "P0799"]), "\(changed)")

        let markdownPath = try #require(second.stdout.split(separator: "\n").first { $0.hasSuffix(".md") }?.split(separator: " ").last)
        let markdown = try String(contentsOfFile: String(markdownPath), encoding: .utf8)
        let headings = markdown.split(separator: "\n").filter { $0.hasPrefix("## ") }
        #expect(headings.first == "## Vastgehouden locaties", "the report opens with the held location: \(headings)")
        #expect(markdown.contains("| `L07` Locatie 07 | 5 | 5 (100,0%) | 5 | 0 (0,0%) | 50,0% |"), "\(markdown)")
        #expect(markdown.contains("**Wat nu?**"))
        #expect(markdown.contains("**verwerkt, 1 locatie vastgehouden**"))
        #expect(markdown.contains("--release location=L07 --reason"), "the technical section says how to release it")
        let opening = markdown.components(separatedBy: "## Technische toelichting")[0]
        #expect(!opening.contains("--release") && !opening.contains("maxRemovalFractionPerLocation"),
                "flags and keys only in the closing technical section")
    }

    @Test func theHeldLocationIsAppliedNormallyWhenItIsWholeAgain() throws {
        let (folder, base) = try firstNight("whole-again")
        let before = try locationRows(database(folder), "L07")
        #expect(try importing(withoutL07(base), "2026-11-23", in: folder).0.status == 5)
        // The next night's export is as broken (an unchanged file, read incrementally): held, and said, again.
        let (again, againReport, _) = try importing(withoutL07(base), "2026-11-24", in: folder)
        #expect(again.status == 5, "\(again.stdout)\(again.stderr)")
        #expect(held(againReport).first?["code"] as? String == "L07")
        #expect(try locationRows(database(folder), "L07") == before)
        // The planning system fixed its filter: L07 is whole, and the real changes there come through.
        var whole = withoutL07(base)
        whole["plaatsingen.csv"] = base["plaatsingen.csv"] + ["P0399;K0399;L03-G1;KDV;52 weken;01-12-2026;;08:00-17:00;08:00-17:00;;;;",
                                                              "P0799;K0799;L07-G1;KDV;52 weken;01-12-2026;;08:00-17:00;08:00-17:00;;;;"]
        let (third, report, _) = try importing(whole, "2026-11-25", in: folder)
        #expect(third.status == 0, "\(third.stdout)\(third.stderr)")
        #expect(held(report).isEmpty)
        #expect(try value(folder, "SELECT COUNT(*) FROM placements WHERE group_code LIKE 'L07-%' AND status = 'active'") == "6")
        #expect(try value(folder, "SELECT last_name FROM parents WHERE key = 'O0702'") == "Verhuisd")
        #expect(try value(folder, "SELECT recipient FROM outbox WHERE account = 'O0799'") == "nieuw07@example.nl")
        // Its lists are whole again, the days the horizon gained while it was held included.
        for group in ["L07-G1", "L07-G2"] {
            #expect(try value(folder, "SELECT COUNT(*) || ' ' || MAX(date) FROM attendance_days WHERE group_code = '\(group)' AND date >= '2026-11-25'")
                    == "29 2026-12-23", "\(group)")
        }
        #expect(try value(folder, "SELECT COUNT(*) FROM attendance WHERE group_code = 'L07-G1' AND date = '2026-12-22'") == "6", "five children and the new one, on a Tuesday")
    }

    @Test func releasingAHeldLocationAppliesItsRemovalsWithTheReasonInTheHistory() throws {
        let (folder, base) = try firstNight("release")
        let (second, _, export) = try importing(withoutL07(base), "2026-11-23", in: folder)
        #expect(second.status == 5)
        let noReason = try opvangsync(["import", export.path, "--as-of", "2026-11-23", "--release", "location=L07"], in: folder)
        #expect(noReason.status == 2 && noReason.stderr.contains("--reason"), "\(noReason.stderr)")

        let released = try opvangsync(["import", export.path, "--as-of", "2026-11-23", "--release", "location=L07",
                                       "--reason", "Locatie 07 is gesloten"], in: folder)
        #expect(released.status == 0, "\(released.stdout)\(released.stderr)")
        let report = try reportJSON(of: released, in: folder)
        #expect(report["status"] as? String == "applied")
        #expect((report["options"] as? [String: Any])?["release"] as? String == "location=L07")
        let location = try #require(held(report).first)
        #expect(location["code"] as? String == "L07" && location["released"] as? Bool == true)
        #expect(codes(report).contains("location-released"))
        #expect(try value(folder, "SELECT COUNT(*) FROM placements WHERE group_code LIKE 'L07-%' AND status = 'vanished'") == "5")
        #expect(try value(folder, "SELECT last_name FROM parents WHERE key = 'O0702'") == "Verhuisd")
        #expect(try value(folder, "SELECT status FROM placements WHERE key = 'P0799'") == "active")
        let history = try opvangsync(["history", "placement", "P0701"], in: folder)
        #expect(history.stdout.contains("Locatie 07 is gesloten"), "\(history.stdout)")
        // The export that held it was imported once more, for this location only: nothing else moved.
        #expect((report["changes"] as? [[String: Any]] ?? []).allSatisfy { change in
            ["P0701", "P0702", "P0703", "P0704", "P0705", "P0799", "K0799", "O0799", "K0799/O0799", "O0702"].contains(change["key"] as? String ?? "")
        }, "\(report["changes"] ?? [])")
    }

    @Test func aFamilyAtAHeldAndAHealthyLocationIsHeldThereAndUpdatedHere() throws {
        let folder = temporaryFolder("spanning")
        var base = MiniExport.locations(20)
        // Parent OF with KA at L07 and KB at L08.
        base["kinderen.csv"] += ["KA;Anna;;Familie;01-05-2023;M07", "KB;Bram;;Familie;01-05-2022;M08"]
        base["ouders.csv"].append("OF;Fien;Familie;fien@example.nl;")
        base["relaties.csv"] += ["KA;OF;Ouder 1", "KB;OF;Ouder 1"]
        base["plaatsingen.csv"] += ["PA;KA;L07-G1;KDV;52 weken;01-09-2025;;08:00-17:00;;;;;",
                                    "PB;KB;L08-G1;KDV;52 weken;01-09-2025;;08:00-17:00;;;;;"]
        #expect(try importing(base, "2026-11-22", in: folder).0.status == 0)
        let account = "SELECT username || '|' || IFNULL(disabled_at, '-') FROM accounts WHERE parent_number = 'OF'"
        #expect(try value(folder, account) == "fien@example.nl|-")
        let invitation = "SELECT COUNT(*) FROM invitations WHERE account = 'OF' AND revoked_at IS NULL"
        #expect(try value(folder, invitation) == "1")

        // Next night L07 lost its placements, and KB left L08 (its placement is gone without an end date):
        // the family's only child at a healthy location. OF has a new surname.
        var next = base
        next.remove(from: "plaatsingen.csv") { $0.contains(";L07-G") || $0.hasPrefix("PB;") }
        next["ouders.csv"] = next["ouders.csv"].map { $0.hasPrefix("OF;") ? "OF;Fien;Familie-Nieuw;fien@example.nl;" : $0 }
        let (second, report, _) = try importing(next, "2026-11-23", in: folder)
        #expect(second.status == 5, "\(second.stdout)\(second.stderr)")
        #expect(held(report).map { $0["code"] as? String } == ["L07"])
        // Held where L07 is concerned: KA's placement, relation and record as they were.
        #expect(try value(folder, "SELECT status FROM placements WHERE key = 'PA'") == "active")
        #expect(try value(folder, "SELECT status FROM relations WHERE key = 'KA/OF'") == "active")
        #expect(try value(folder, "SELECT status FROM children WHERE key = 'KA'") == "active")
        // Updated elsewhere: KB's placement vanished at L08, the parent's surname changed.
        #expect(try value(folder, "SELECT status FROM placements WHERE key = 'PB'") == "vanished")
        #expect(try value(folder, "SELECT last_name FROM parents WHERE key = 'OF'") == "Familie-Nieuw")
        // Nothing of L07 ended as a side effect: the account stays enabled and its invitation open.
        #expect(try value(folder, account) == "fien@example.nl|-")
        #expect(try value(folder, invitation) == "1")
        #expect(try value(folder, "SELECT state FROM account_state WHERE parent_number = 'OF'") == "account")
        #expect(try value(folder, "SELECT COUNT(*) FROM attendance WHERE child_number = 'KA' AND date >= '2026-11-23'") != "0")
        #expect(try value(folder, "SELECT COUNT(*) FROM attendance WHERE child_number = 'KB' AND date >= '2026-11-23'") == "0")
    }

    /// A held family is not planned, so the report names none of its account problems, whether the night runs
    /// full or incremental; what the portal knows of them is kept, and reported again once the location is whole.
    @Test func theStandingProblemsOfAHeldFamilyWaitWithItAndReturnWithIt() throws {
        for secondNight in [["--full"], []] {
            let folder = temporaryFolder("held-standing")
            var base = MiniExport.locations(20)
            base["ouders.csv"] = base["ouders.csv"].map { $0.hasPrefix("O0703;") ? "O0703;Ouder;Achternaam 0703;;" : $0 }
            func withoutEmail(_ report: [String: Any]) -> Bool {
                (report["issues"] as? [[String: Any]] ?? []).contains { $0["code"] as? String == "parent-without-email" && $0["key"] as? String == "O0703" }
            }
            let (first, firstReport, _) = try importing(base, "2026-11-22", in: folder)
            #expect(first.status == 0 && withoutEmail(firstReport), "\(first.stderr)")
            let (held, heldReport, _) = try importing(withoutL07(base), "2026-11-23", in: folder, secondNight)
            #expect(held.status == 5, "\(held.stdout)\(held.stderr)")
            #expect(!withoutEmail(heldReport), "\(secondNight): the held family is not planned")
            var whole = withoutL07(base)
            whole["plaatsingen.csv"] = base["plaatsingen.csv"] + ["P0399;K0399;L03-G1;KDV;52 weken;01-12-2026;;08:00-17:00;08:00-17:00;;;;",
                                                                  "P0799;K0799;L07-G1;KDV;52 weken;01-12-2026;;08:00-17:00;08:00-17:00;;;;"]
            let (third, report, _) = try importing(whole, "2026-11-24", in: folder)
            #expect(third.status == 0, "\(third.stdout)\(third.stderr)")
            #expect((report["comparison"] as? [String: Any])?["mode"] as? String == "incremental")
            #expect(withoutEmail(report), "\(secondNight): whole again, the family's problem is reported again")
        }
    }

    @Test func aDropSpreadOverEveryLocationStillAbortsTheWholeRun() throws {
        let (folder, base) = try firstNight("spread")
        let before = try portalContents(database(folder))
        // One placement of five at every location: no location is held, but a fifth of all would go.
        var fifth = base
        fifth.remove(from: "plaatsingen.csv") { $0.hasPrefix("P") && $0.dropFirst(3).hasPrefix("01;") }
        let (first, report, _) = try importing(fifth, "2026-11-23", in: folder)
        #expect(first.status == 3, "\(first.stdout)\(first.stderr)")
        #expect(report["status"] as? String == "aborted")
        #expect(report["heldLocations"] is NSNull, "the overall guard stops the run before locations are weighed")
        // Three of five everywhere: every location would be held, and the export is as broken as it looks.
        var most = base
        most.remove(from: "plaatsingen.csv") { row in ["01;", "02;", "03;"].contains { row.hasPrefix("P") && row.dropFirst(3).hasPrefix($0) } }
        let (second, secondReport, _) = try importing(most, "2026-11-23", in: folder)
        #expect(second.status == 3, "\(second.stdout)\(second.stderr)")
        #expect(secondReport["status"] as? String == "aborted")
        #expect(try portalContents(database(folder)) == before)
    }

    @Test func aScopedRunOfAHeldLocationAppliesItOnlyWhenReleased() throws {
        let (folder, base) = try firstNight("scoped")
        let before = try locationRows(database(folder), "L07")
        let export = try withoutL07(base).night("2026-11-23", in: folder)
        let scoped = try opvangsync(["import", export.path, "--as-of", "2026-11-23", "--only", "location=L07"], in: folder)
        #expect(scoped.status == 5, "\(scoped.stdout)\(scoped.stderr)")
        #expect(held(try reportJSON(of: scoped, in: folder)).first?["code"] as? String == "L07")
        #expect(try locationRows(database(folder), "L07") == before)

        let released = try opvangsync(["import", export.path, "--as-of", "2026-11-23", "--only", "location=L07",
                                       "--release", "location=L07", "--reason", "locatie 07 sluit"], in: folder)
        #expect(released.status == 0, "\(released.stdout)\(released.stderr)")
        #expect(try value(folder, "SELECT COUNT(*) FROM placements WHERE group_code LIKE 'L07-%' AND status = 'vanished'") == "5")
        #expect(try value(folder, "SELECT last_name FROM parents WHERE key = 'O0702'") == "Verhuisd")
        #expect(try value(folder, "SELECT last_name FROM parents WHERE key = 'O0501'") == "Achternaam 0501", "outside the scope")
    }

    @Test func aLocationMissingFromTheLocationsFileIsHeldAsALocationWithoutPlacements() throws {
        let (folder, base) = try firstNight("missing-location")
        let before = try locationRows(database(folder), "L07")
        // Only its row in the locations file is gone (its groups and placements are rejected with it).
        var withoutRow = base
        withoutRow.remove(from: "locaties.csv") { $0.hasPrefix("L07;") }
        let (second, report, _) = try importing(withoutRow, "2026-11-23", in: folder)
        #expect(second.status == 5, "\(second.stdout)\(second.stderr)")
        let location = try #require(held(report).first)
        #expect(location["code"] as? String == "L07" && location["missingFromLocationsFile"] as? Bool == true)
        #expect(location["placementsWouldEnd"] as? Int == 5 && location["childrenWouldEnd"] as? Int == 5)
        #expect((location["message"] as? String ?? "").contains("niet meer in het locatiebestand"))
        #expect(try locationRows(database(folder), "L07") == before)

        // The whole location gone from every file.
        var gone = base
        for file in gone.files.keys { gone.remove(from: file) { $0.contains("L07") || $0.contains("K07") || $0.contains("O07") || $0.hasPrefix("M07;") } }
        let (third, thirdReport, _) = try importing(gone, "2026-11-24", in: folder)
        #expect(third.status == 5, "\(third.stdout)\(third.stderr)")
        #expect(held(thirdReport).first?["code"] as? String == "L07")
        #expect(try locationRows(database(folder), "L07") == before)
        #expect(try value(folder, "SELECT MAX(date) FROM attendance_days WHERE group_code = 'L08-G1'") == "2026-12-22")
    }

    @Test func theShareThatHoldsALocationIsConfigurable() throws {
        let (folder, base) = try firstNight("per-location-threshold")
        // Three of L07's five placements gone: 60%, more than the default half.
        var next = base
        next.remove(from: "plaatsingen.csv") { ["P0701;", "P0702;", "P0703;"].contains(where: $0.hasPrefix) }
        let (held, _, export) = try importing(next, "2026-11-23", in: folder, ["--dry-run"])
        #expect(held.status == 5, "\(held.stdout)\(held.stderr)")
        try Data(#"{"rules": {"maxRemovalFractionPerLocation": 0.7}}"#.utf8).write(to: folder.appendingPathComponent("opvangsync.json"))
        let applied = try opvangsync(["import", export.path, "--as-of", "2026-11-23"], in: folder)
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        #expect(try value(folder, "SELECT status FROM placements WHERE key = 'P0701'") == "vanished")
        try Data(#"{"rules": {"maxRemovalFractionPerLocation": 1.5}}"#.utf8).write(to: folder.appendingPathComponent("opvangsync.json"))
        let bad = try opvangsync(["import", export.path, "--as-of", "2026-11-23"], in: folder)
        #expect(bad.status == 2 && bad.stderr.contains("rules.maxRemovalFractionPerLocation"), "\(bad.stderr)")
    }

    @Test func aDryRunThatWouldHoldALocationSaysSoAndWritesNothing() throws {
        let (folder, base) = try firstNight("held-dry-run")
        let bytes = databaseBytes(database(folder))
        let (preview, report, _) = try importing(withoutL07(base), "2026-11-23", in: folder, ["--dry-run"])
        #expect(preview.status == 5, "\(preview.stdout)\(preview.stderr)")
        #expect(held(report).first?["code"] as? String == "L07")
        #expect(databaseBytes(database(folder)) == bytes)
    }

    @Test func aChildMovedOutOfAHeldLocationTheSameNightIsPlacedAtItsNewOneAndKeptAtTheOld() throws {
        let (folder, base) = try firstNight("moved")
        var next = base
        next.remove(from: "plaatsingen.csv") { $0.contains(";L07-G") }
        next["plaatsingen.csv"].append("P0701X;K0701;L08-G1;KDV;52 weken;23-11-2026;;07:30-18:00;;;;;")
        // And K0801 moves the other way, into the held location: its placement at L08 is gone from the export.
        next.remove(from: "plaatsingen.csv") { $0.hasPrefix("P0801;") }
        next["plaatsingen.csv"].append("P0801X;K0801;L07-G1;KDV;52 weken;23-11-2026;;07:30-18:00;;;;;")
        let (second, report, export) = try importing(next, "2026-11-23", in: folder)
        #expect(second.status == 5, "\(second.stdout)\(second.stderr)")
        // The move into the held location waits as a whole: K0801 stays where it was, on L08's list.
        #expect(try value(folder, "SELECT status FROM placements WHERE key = 'P0801'") == "active")
        #expect(try value(folder, "SELECT COUNT(*) FROM placements WHERE key = 'P0801X'") == "0")
        #expect(try value(folder, "SELECT COUNT(*) FROM attendance WHERE child_number = 'K0801' AND group_code = 'L08-G1' AND date = '2026-12-21'") == "1")
        let waiting = (report["issues"] as? [[String: Any]] ?? []).first { $0["code"] as? String == "held-placement-waiting" }
        #expect(waiting?["key"] as? String == "P0801X")
        #expect((waiting?["message"] as? String)?.contains("blijft ook de plaatsing staan die het kind verlaat") == true)
        #expect(try value(folder, "SELECT status FROM placements WHERE key = 'P0701'") == "active")
        #expect(try value(folder, "SELECT status FROM placements WHERE key = 'P0701X'") == "active")
        let moved = (report["issues"] as? [[String: Any]] ?? []).filter { $0["code"] as? String == "held-child-placed-elsewhere" }
        #expect(moved.map { $0["key"] as? String } == ["K0701"])
        #expect((held(report).first?["message"] as? String)?.contains("1 kind van deze locatie staat in de export bij een andere locatie") == true)
        // Released, the old placement goes.
        let released = try opvangsync(["import", export.path, "--as-of", "2026-11-23", "--release", "location=L07", "--reason", "verhuisd"], in: folder)
        #expect(released.status == 0, "\(released.stderr)")
        #expect(try value(folder, "SELECT status FROM placements WHERE key = 'P0701'") == "vanished")
        #expect(try value(folder, "SELECT status FROM placements WHERE key = 'P0701X'") == "active")
        #expect(try value(folder, "SELECT status FROM placements WHERE key = 'P0801'") == "vanished")
        #expect(try value(folder, "SELECT status FROM placements WHERE key = 'P0801X'") == "active")
    }

    @Test func releasingALocationThatIsNotHeldOrDoesNotExist() throws {
        let (folder, base) = try firstNight("release-edges")
        let export = try withoutL07(base).night("2026-11-23", in: folder)
        let unknown = try opvangsync(["import", export.path, "--as-of", "2026-11-23", "--release", "location=L99", "--reason", "x"], in: folder)
        #expect(unknown.status == 2, "\(unknown.stdout)\(unknown.stderr)")
        #expect(unknown.stderr.contains("L99"))
        let wrongKind = try opvangsync(["import", export.path, "--as-of", "2026-11-23", "--release", "parent=O0701", "--reason", "x"], in: folder)
        #expect(wrongKind.status == 2 && wrongKind.stderr.contains("location=CODE"), "\(wrongKind.stderr)")
        #expect(try value(folder, "SELECT COUNT(*) FROM runs") == "1", "no run recorded for a usage error")

        // L03 is not held: released or not, it is applied like any other; L07 stays held.
        let other = try opvangsync(["import", export.path, "--as-of", "2026-11-23", "--release", "location=L03", "--reason", "x"], in: folder)
        #expect(other.status == 5, "\(other.stdout)\(other.stderr)")
        let report = try reportJSON(of: other, in: folder)
        #expect(codes(report).contains("location-not-held"))
        #expect(held(report).map { $0["code"] as? String } == ["L07"])
        #expect(try value(folder, "SELECT status FROM placements WHERE key = 'P0399'") == "active")
        #expect(try value(folder, "SELECT status FROM placements WHERE key = 'P0701'") == "active")
    }

    @Test func aLocationCodeTheGroupsFileWritesDifferentlyEndsNothing() throws {
        let (folder, base) = try firstNight("code-differs")
        // The groups file says "L7" where the locations file says "L07": those groups and everything in
        // them are rejected, and their records stay as the portal has them.
        var next = base
        next["groepen.csv"] = next["groepen.csv"].map { $0.replacingOccurrences(of: "-G1;L07;", with: "-G1;L7;").replacingOccurrences(of: "-G2;L07;", with: "-G2;L7;") }
        let (second, report, _) = try importing(next, "2026-11-23", in: folder)
        #expect(second.status == 4, "\(second.stdout)\(second.stderr)")
        #expect(held(report).isEmpty)
        let rejected = (report["issues"] as? [[String: Any]] ?? []).filter { $0["code"] as? String == "unknown-reference" && $0["file"] as? String == "groepen.csv" }
        #expect(rejected.count == 2 && rejected.allSatisfy { ($0["message"] as? String ?? "").contains("L7") })
        #expect(try value(folder, "SELECT COUNT(*) FROM placements WHERE group_code LIKE 'L07-%' AND status = 'active'") == "5")
        #expect(try value(folder, "SELECT status || location_code FROM groups WHERE key = 'L07-G1'") == "activeL07")

        // The planning system renamed the location in every file: the old code is missing from the
        // locations file, so it is held with its groups; the new, empty one is made.
        var renamed = base
        for file in ["locaties.csv", "groepen.csv", "kalender.csv"] {
            renamed[file] = renamed[file].map { $0.replacingOccurrences(of: "L07;", with: "LOC07;") }
        }
        let before = try locationRows(database(folder), "L07")
        let (third, thirdReport, export) = try importing(renamed, "2026-11-24", in: folder)
        #expect(third.status == 5, "\(third.stdout)\(third.stderr)")
        #expect(held(thirdReport).first?["code"] as? String == "L07")
        #expect(held(thirdReport).first?["missingFromLocationsFile"] as? Bool == true)
        #expect(try locationRows(database(folder), "L07").filter { !$0.key.hasPrefix("attendance") } == before.filter { !$0.key.hasPrefix("attendance") },
                "the night before rebuilt its lists; this one keeps every record")
        #expect(try value(folder, "SELECT MAX(date) FROM attendance_days WHERE group_code = 'L07-G1'") == "2026-12-21", "not rebuilt tonight")
        #expect(try value(folder, "SELECT status FROM locations WHERE key = 'LOC07'") == "active")
        // Released, the groups move to the new code and the old one ends.
        let released = try opvangsync(["import", export.path, "--as-of", "2026-11-24", "--release", "location=L07", "--reason", "nieuwe code"], in: folder)
        #expect(released.status == 0, "\(released.stdout)\(released.stderr)")
        #expect(try value(folder, "SELECT status FROM locations WHERE key = 'L07'") == "inactive")
        #expect(try value(folder, "SELECT location_code FROM groups WHERE key = 'L07-G1'") == "LOC07")
        #expect(try value(folder, "SELECT COUNT(*) FROM placements WHERE group_code LIKE 'L07-%' AND status = 'active'") == "5")
    }

    @Test func anEmptyLocationThatLeavesTheExportIsEndedNotHeld() throws {
        let folder = temporaryFolder("empty-location")
        var base = MiniExport.locations(20)
        base["locaties.csv"].append("L99;Nooit gebruikt")
        #expect(try importing(base, "2026-11-22", in: folder).0.status == 0)
        var next = base
        next.remove(from: "locaties.csv") { $0.hasPrefix("L99;") }
        let (second, report, _) = try importing(next, "2026-11-23", in: folder)
        #expect(second.status == 0, "\(second.stdout)\(second.stderr)")
        #expect(held(report).isEmpty)
        #expect(try value(folder, "SELECT status FROM locations WHERE key = 'L99'") == "inactive")
    }

    @Test func aHeldLocationLargerThanTheOverallShareAbortsUntilMassChangesAreAllowedAndIsThenStillHeld() throws {
        // Five locations: one of them is a fifth of the organisation, more than the overall 10%.
        let (folder, base) = try firstNight("large-location", locations: 5)
        let before = try locationRows(database(folder), "L02")
        var next = base
        next.remove(from: "plaatsingen.csv") { $0.contains(";L02-G") }
        next["ouders.csv"] = next["ouders.csv"].map { $0.hasPrefix("O0101;") ? "O0101;Ouder;Verhuisd;ouder.k0101@example.nl;" : $0 }
        let (aborted, report, export) = try importing(next, "2026-11-23", in: folder)
        #expect(aborted.status == 3, "\(aborted.stdout)\(aborted.stderr)")
        #expect(report["heldLocations"] is NSNull)
        let allowed = try opvangsync(["import", export.path, "--as-of", "2026-11-23", "--allow-mass-changes", "--reason", "rest nu"], in: folder)
        #expect(allowed.status == 5, "\(allowed.stdout)\(allowed.stderr)")
        #expect(try locationRows(database(folder), "L02") == before)
        #expect(try value(folder, "SELECT last_name FROM parents WHERE key = 'O0101'") == "Verhuisd")
    }

    @Test func twoHeldLocationsAreReleasedOneAtATime() throws {
        let (folder, base) = try firstNight("two-held")
        var next = base
        next.remove(from: "plaatsingen.csv") { $0.contains(";L07-G") || $0.contains(";L09-G") }
        let (second, report, export) = try importing(next, "2026-11-23", in: folder)
        #expect(second.status == 5, "\(second.stdout)\(second.stderr)")
        #expect(held(report).map { $0["code"] as? String } == ["L07", "L09"])
        let bytes = databaseBytes(database(folder))
        let preview = try opvangsync(["import", export.path, "--as-of", "2026-11-23", "--release", "location=L09", "--reason", "proef", "--dry-run"], in: folder)
        #expect(preview.status == 5, "L07 is still held: \(preview.stdout)\(preview.stderr)")
        #expect(databaseBytes(database(folder)) == bytes)
        let l07 = try locationRows(database(folder), "L07")
        let released = try opvangsync(["import", export.path, "--as-of", "2026-11-23", "--release", "location=L09", "--reason", "L09 gesloten"], in: folder)
        #expect(released.status == 5, "\(released.stdout)\(released.stderr)")
        let releasedReport = try reportJSON(of: released, in: folder)
        #expect(held(releasedReport).map { "\($0["code"] ?? "")/\($0["released"] ?? "")" } == ["L07/0", "L09/1"])
        #expect(try value(folder, "SELECT COUNT(*) FROM placements WHERE group_code LIKE 'L09-%' AND status = 'vanished'") == "5")
        #expect(try locationRows(database(folder), "L07") == l07)
        let markdownPath = try #require(released.stdout.split(separator: "\n").first { $0.hasSuffix(".md") }?.split(separator: " ").last)
        let markdown = try String(contentsOfFile: String(markdownPath), encoding: .utf8)
        #expect(markdown.contains("## Vastgehouden locaties") && markdown.contains("## Vrijgegeven locaties") && markdown.contains("(reden: L09 gesloten)"))
        #expect(markdown.contains("--release location=L07") && !markdown.contains("--release location=L09 --reason \"...\""))
    }
}
