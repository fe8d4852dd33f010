import Foundation
import OpvangSync
import PortalStore
import TestSupport
import Testing

/// SPEC §9 "Scale": a nightly run reads only what changed. The incremental path must leave the portal
/// exactly as a full comparison does, night after night, through every kind of change and the days passing.
@Suite struct IncrementalDifferentialTests {
    /// One night's export as file → lines, edited in place from the night before.
    struct Night {
        var files: [String: [String]]
        var organisation: String
        var name: String
        var portalURL: String

        func write(to folder: URL, exportedAt: String) throws -> URL {
            var export = MiniExport()
            export.files = files
            export.organisation = organisation
            export.organisationName = name
            export.portalURL = portalURL
            export.exportedAt = exportedAt
            return try export.write(to: folder)
        }

        /// The line of `file` whose first field is `key`.
        func index(_ file: String, _ key: String) -> Int? {
            files[file]?.firstIndex { $0.split(separator: ";", omittingEmptySubsequences: false).first.map(String.init) == key }
        }

        /// Sets field `column` (by header name) of the line of `file` whose first field is `key`.
        mutating func set(_ file: String, _ key: String, _ column: String, _ value: String) {
            guard let line = index(file, key), let header = files[file]?.first else { Issue.record("\(key) not in \(file)"); return }
            let position = header.split(separator: ";", omittingEmptySubsequences: false).firstIndex { $0 == column }!
            var fields = files[file]![line].split(separator: ";", omittingEmptySubsequences: false).map(String.init)
            fields[position] = value
            files[file]![line] = fields.joined(separator: ";")
        }

        func field(_ file: String, line: Int, _ column: String) -> String {
            let header = files[file]![0].split(separator: ";", omittingEmptySubsequences: false)
            let position = header.firstIndex { $0 == column }!
            return String(files[file]![line].split(separator: ";", omittingEmptySubsequences: false)[position])
        }
    }

    static func dutch(_ day: Day) -> String { String(format: "%02d-%02d-%04d", day.day, day.month, day.year) }

    /// Every table of a portal, every row, without what differs by nature between two runs of the same
    /// import: run ids, row ids, Message-IDs, timestamps and token hashes (reduced to whether they are set).
    static func contents(_ path: String) throws -> [String: [String]] {
        let database = try Database(path: path, mode: .readOnly)
        let tables = try database.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name") {
            $0.string(0) ?? ""
        }
        var result: [String: [String]] = [:]
        for table in tables where !["runs", "schema_migrations"].contains(table) {
            let columns = try database.query("SELECT name FROM pragma_table_info(?)", [.text(table)]) { $0.string(0) ?? "" }
            let shown: [String] = columns.compactMap { column in
                if column == "id" || column == "message_id" || column == "run_id" || column.hasSuffix("_run") || column == "reported_run" {
                    return nil
                }
                if column.hasSuffix("_at") || column == "token_hash" || column.hasSuffix("_id") {
                    return "CASE WHEN \(column) IS NULL THEN '∅' ELSE 'set' END"
                }
                return "COALESCE(CAST(\(column) AS TEXT), '∅')"
            }
            guard !shown.isEmpty else { continue }
            result[table] = try database.query("SELECT \(shown.joined(separator: " || '|' || ")) FROM \(table)") {
                $0.string(0) ?? ""
            }.sorted()
        }
        return result
    }

    /// A row with a warning has its warning reported every night. When its file is byte for byte the one
    /// applied, the file is not read and the warnings it gave are repeated; when the file is read (it
    /// changed elsewhere), the warned row that did not change counts as unchanged, so a file that refers to
    /// it (the relations of a parent with a bad address) is not read.
    @Test func aWarnedRowIsReportedEveryNightWithoutMakingTheFilesThatReferToItBeRead() throws {
        let folder = temporaryFolder("warned")
        var export = MiniExport()
        export["ouders.csv"][2] = "O2;Joost;Smit;joost@@example;"
        func night(_ number: Int, _ day: String) throws -> [String: Any] {
            export.exportedAt = "\(Day(iso: day)!.adding(days: -1).iso)T23:\(10 + number):00+01:00"
            let result = try opvangsync(["import", export.write(to: folder.appendingPathComponent("n\(number)")).path, "--as-of", day], in: folder)
            #expect(result.status == 0, "\(result.stderr)")
            return try reportJSON(of: result, in: folder)
        }
        /// The files a run read (a file skipped as the one last applied shows no encoding).
        func read(_ report: [String: Any]) -> Set<String> {
            Set(((report["export"] as? [String: Any])?["files"] as? [[String: Any]] ?? []).compactMap { file in
                file["encoding"] == nil ? nil : file["name"] as? String
            })
        }
        func warned(_ report: [String: Any]) -> Bool {
            (report["issues"] as? [[String: Any]] ?? []).contains { $0["code"] as? String == "invalid-email" && $0["key"] as? String == "O2" }
        }
        let first = try night(1, "2026-11-22")
        #expect(warned(first))
        let second = try night(2, "2026-11-23")
        #expect((second["comparison"] as? [String: Any])?["mode"] as? String == "incremental")
        #expect(warned(second), "the warning is reported again")
        #expect(read(second).isEmpty, "every file is the one applied: none is read, the warning comes from the portal: \(read(second))")
        let repeated = (second["issues"] as? [[String: Any]] ?? []).first { $0["code"] as? String == "invalid-email" }
        let original = (first["issues"] as? [[String: Any]] ?? []).first { $0["code"] as? String == "invalid-email" }
        #expect(repeated.map(NSDictionary.init) == original.map(NSDictionary.init), "the same file, line, column and message")

        // The same parents in another order: the file is read, the warned row is unchanged, and the
        // relations, which refer to the unchanged parents, are not read.
        export["ouders.csv"].swapAt(1, 3)
        let reordered = try night(5, "2026-11-23")
        #expect(warned(reordered), "the warning is reported again")
        #expect(read(reordered).contains("ouders.csv"), "the file with the warned row is read")
        #expect(!read(reordered).contains("relaties.csv"), "the relations, which refer to the unchanged parents, are not: \(read(reordered))")
        let quietAgain = try night(6, "2026-11-23")
        #expect(warned(quietAgain) && read(quietAgain).isEmpty, "the reordered file, applied with its warning, is skipped: \(read(quietAgain))")
        // Stored warnings that cannot be read: the file is read again rather than skipped without them.
        let stored = try Database(path: folder.appendingPathComponent("portal.sqlite").path)
        try stored.run("UPDATE applied_files SET issues = '[{\"code\":' WHERE entity = 'parent'")
        let damaged = try night(7, "2026-11-23")
        #expect(warned(damaged) && read(damaged).contains("ouders.csv"), "\(read(damaged))")

        // The address fixed: the row changes, the warning is gone, and what refers to it is read again once.
        export["ouders.csv"][2] = "O2;Joost;Smit;joost@example.nl;"
        let fixed = try night(3, "2026-11-24")
        #expect(!warned(fixed))
        #expect(read(fixed).contains("relaties.csv"))
        let portal = try Database(path: folder.appendingPathComponent("portal.sqlite").path, mode: .readOnly)
        #expect(try portal.scalarString("SELECT email FROM parents WHERE key = 'O2'") == "joost@example.nl")
        let quiet = try night(4, "2026-11-25")
        #expect(read(quiet).isEmpty, "nothing changed and nothing warned: no file is read: \(read(quiet))")
    }

    /// A placement whose care type differs from its group's is warned about by an incremental night as by a
    /// full one, also when the group's row was not parsed that night (it is the one applied, or its whole
    /// file is): a changed placement in an unchanged group, a warned placement read again because its file
    /// changed elsewhere, and an unchanged placement whose group changed its care type.
    @Test func aPlacementIsWeighedAgainstItsGroupsCareTypeWhenTheGroupWasNotRead() throws {
        let incremental = temporaryFolder("care-type-incremental"), full = temporaryFolder("care-type-full")
        var export = MiniExport()
        var number = 0
        /// The night in both portals: the placements each run warns about for their care type, with the line.
        func night(_ day: String, _ what: String) throws -> (incremental: [String], full: [String]) {
            number += 1
            export.exportedAt = "\(Day(iso: day)!.adding(days: -1).iso)T23:\(10 + number):00+01:00"
            var warned: [[String]] = []
            for (folder, extra) in [(incremental, [] as [String]), (full, ["--full"])] {
                let path = try export.write(to: folder.appendingPathComponent("n\(number)")).path
                let result = try opvangsync(["import", path, "--as-of", day] + extra, in: folder)
                #expect(result.status == 0, "\(what): \(result.stderr)")
                let report = try reportJSON(of: result, in: folder)
                if extra.isEmpty, number > 1 {
                    #expect((report["comparison"] as? [String: Any])?["mode"] as? String == "incremental", "\(what)")
                }
                warned.append((report["issues"] as? [[String: Any]] ?? []).filter { $0["code"] as? String == "care-type-mismatch" }
                    .map { "\($0["key"] as? String ?? "?") line \($0["line"] as? Int ?? 0): \($0["message"] as? String ?? "")" })
            }
            #expect(warned[0] == warned[1], "\(what): incremental \(warned[0]), full \(warned[1])")
            return (warned[0], warned[1])
        }
        #expect(try night("2026-11-22", "the first import").full.isEmpty)
        // P1 (group G1, KDV) becomes BSO; the groups are the ones applied and are not read.
        export.files["plaatsingen.csv"]![1] = "P1;K1;G1;BSO;52 weken;01-09-2025;;07:30-18:00;07:30-18:00;"
        #expect(try night("2026-11-23", "a changed placement in an unchanged group").full.count == 1)
        // Another placement changes: the file is read, and P1, applied with its warning, is checked again.
        export.files["plaatsingen.csv"]![3] = "P3;K3;G1;KDV;52 weken;01-01-2026;;;08:00-17:30;"
        #expect(try night("2026-11-24", "a warned placement read again").full.count == 1)
        // A relation and a placement change: the placements are read beside the relations.
        export.files["relaties.csv"]!.append("K3;O1;Ouder 2")
        export.files["plaatsingen.csv"]![3] = "P3;K3;G1;KDV;52 weken;01-01-2026;;;08:00-17:00;"
        #expect(try night("2026-11-24", "placements read beside the relations").full.count == 1)
        // Nothing changed: the placements are skipped whole and their warnings repeated.
        #expect(try night("2026-11-25", "a quiet night").full.count == 1)
        // G2 becomes KDV: P2 (BSO) now differs from it although its own row did not change.
        export.files["groepen.csv"]![2] = "G2;L1;Uilen;KDV;20"
        #expect(try night("2026-11-26", "an unchanged placement in a changed group").full.count == 2)
        let after = try night("2026-11-27", "the night after")
        #expect(after.full.count == 2)
    }

    /// A problem that holds until it is solved is in every night's report, whether the night planned the
    /// family or not: a parent with a child in care and no usable address is reported by the first (full)
    /// import and by every incremental night after it, a scoped run of another family leaves it alone, and
    /// it is gone from the night its address is fixed on.
    @Test func aParentWithoutAnAddressIsReportedEveryNightUntilTheAddressIsFixed() throws {
        let folder = temporaryFolder("standing")
        var export = MiniExport()
        export["ouders.csv"][2] = "O2;Joost;Smit;;"
        var number = 0
        func night(_ day: String, _ extra: [String] = []) throws -> [String: Any] {
            number += 1
            export.exportedAt = "\(Day(iso: day)!.adding(days: -1).iso)T23:\(10 + number):00+01:00"
            let result = try opvangsync(["import", export.write(to: folder.appendingPathComponent("n\(number)")).path, "--as-of", day] + extra,
                                        in: folder)
            #expect(result.status == 0, "\(result.stderr)")
            return try reportJSON(of: result, in: folder)
        }
        func mode(_ report: [String: Any]) -> String? { (report["comparison"] as? [String: Any])?["mode"] as? String }
        func withoutEmail(_ report: [String: Any]) -> [String] {
            (report["issues"] as? [[String: Any]] ?? []).filter { $0["code"] as? String == "parent-without-email" }.compactMap { $0["key"] as? String }
        }
        let first = try night("2026-11-22")
        #expect(mode(first) == "full" && withoutEmail(first) == ["O2"])
        let second = try night("2026-11-23")
        #expect(mode(second) == "incremental")
        #expect(withoutEmail(second) == ["O2"], "nothing changed and the family is not planned: the problem still holds")
        let repeated = (second["issues"] as? [[String: Any]] ?? []).first { $0["code"] as? String == "parent-without-email" }
        let original = (first["issues"] as? [[String: Any]] ?? []).first { $0["code"] as? String == "parent-without-email" }
        #expect(repeated.map(NSDictionary.init) == original.map(NSDictionary.init), "the same severity, key and message")

        // Another family's new address, applied by a scoped run first: it plans that family alone.
        export["ouders.csv"][1] = "O1;Marieke;Dijk;marieke.dijk@example.nl;"
        let scoped = try night("2026-11-24", ["--only", "parent=O1"])
        #expect(mode(scoped) == "scoped" && withoutEmail(scoped).isEmpty, "a scoped run reports its own family")
        let third = try night("2026-11-24")
        #expect(mode(third) == "incremental" && withoutEmail(third) == ["O2"], "the scoped run left the other family's problem standing")

        export["ouders.csv"][2] = "O2;Joost;Smit;joost@example.nl;"
        let fixed = try night("2026-11-25")
        #expect(withoutEmail(fixed).isEmpty)
        let after = try night("2026-11-26")
        #expect(mode(after) == "incremental" && withoutEmail(after).isEmpty, "solved, and not reported again")
        let portal = try Database(path: folder.appendingPathComponent("portal.sqlite").path, mode: .readOnly)
        #expect(try portal.scalarString("SELECT username FROM accounts WHERE parent_number = 'O2'") == "joost@example.nl")
    }

    /// Each portal hashes the export's rows under a secret of its own, made by its first import and kept:
    /// a night hashes its unchanged rows as the portal stored them. A portal without a key (from before the
    /// hashes were keyed), or with a stored key that is no key, gets a new one, and every hash is stored again
    /// under it.
    @Test func eachPortalHashesTheRowsUnderASecretOfItsOwn() throws {
        let folder = temporaryFolder("row-hash-key")
        var export = MiniExport()
        var night = 0
        @discardableResult
        func importing(_ day: String, into portal: String) throws -> String? {
            night += 1
            export.exportedAt = "\(Day(iso: day)!.adding(days: -1).iso)T23:\(10 + night):00+01:00"
            let result = try opvangsync(["import", export.write(to: folder.appendingPathComponent("n\(night)")).path, "--as-of", day,
                                         "--db", folder.appendingPathComponent(portal).path], in: folder)
            #expect(result.status == 0, "\(result.stderr)")
            return (try reportJSON(of: result, in: folder)["comparison"] as? [String: Any])?["mode"] as? String
        }
        func key(_ portal: String) throws -> String? {
            try Database(path: folder.appendingPathComponent(portal).path, mode: .readOnly)
                .scalarString("SELECT key FROM row_hash_key WHERE id = 1")
        }
        func hashes(_ portal: String) throws -> [String: Int] {
            let rows = try Database(path: folder.appendingPathComponent(portal).path, mode: .readOnly)
                .query("SELECT entity || '/' || key, hash FROM record_hashes") { ($0.string(0) ?? "", $0.int(1) ?? 0) }
            return Dictionary(rows, uniquingKeysWith: { first, _ in first })
        }
        /// Portal a, changed by hand as a damaged or older portal would be.
        func changePortal(_ sql: String) throws {
            try Database(path: folder.appendingPathComponent("a.sqlite").path).execute(sql)
        }
        func changed(_ before: [String: Int], _ after: [String: Int]) -> [String] {
            after.keys.filter { before[$0] != after[$0] }.sorted()
        }
        /// A night on portal a on which parent row `line` became `row`: incremental, only that parent's hash new,
        /// and the stored key still `kept` (when given). The hashes after it.
        func changingParent(_ line: Int, to row: String, on day: String, since before: [String: Int],
                            keeping kept: String?) throws -> [String: Int] {
            export["ouders.csv"][line] = row
            #expect(try importing(day, into: "a.sqlite") == "incremental", "\(day)")
            if let kept { #expect(try key("a.sqlite") == kept, "\(day)") }
            let after = try hashes("a.sqlite")
            #expect(changed(before, after) == ["parent/\(row.prefix { $0 != ";" })"], "\(day)")
            return after
        }

        try importing("2026-11-22", into: "a.sqlite")
        try importing("2026-11-22", into: "b.sqlite")
        let (keyA, keyB) = (try #require(try key("a.sqlite")), try #require(try key("b.sqlite")))
        #expect(keyA.count == 32 && keyA.allSatisfy(\.isHexDigit) && keyA != keyB)
        let (first, other) = (try hashes("a.sqlite"), try hashes("b.sqlite"))
        #expect(first.count > 15 && Set(first.keys) == Set(other.keys))
        #expect(changed(first, other) == first.keys.sorted(), "the same rows must hash otherwise in another portal")

        // The next night, one parent changed: only that row's hash is new; the key stays.
        let second = try changingParent(2, to: "O2;Joost;Smit;joost.smit@example.nl;", on: "2026-11-23", since: first, keeping: keyA)

        // A portal from before the keyed hashes: a new key, and every row hashed again under it. A scoped run
        // in between stores no key, as the portal's other hashes are not under the one it used.
        try changePortal("DELETE FROM row_hash_key")
        export["ouders.csv"][2] = "O2;Joost;Smit;joost@example.nl;"
        night += 1
        export.exportedAt = "2026-11-23T23:\(10 + night):00+01:00"
        let scoped = try opvangsync(["import", export.write(to: folder.appendingPathComponent("n\(night)")).path, "--as-of", "2026-11-24",
                                     "--only", "parent=O2", "--db", folder.appendingPathComponent("a.sqlite").path], in: folder)
        #expect(scoped.status == 0, "\(scoped.stderr)")
        #expect(try key("a.sqlite") == nil)
        #expect(try importing("2026-11-24", into: "a.sqlite") == "full")
        let renewed = try #require(try key("a.sqlite"))
        #expect(renewed != keyA)
        let third = try hashes("a.sqlite")
        #expect(changed(second, third) == second.keys.sorted())
        // Kept from then on.
        let fourth = try changingParent(1, to: "O1;Marieke;Dijk;marieke.dijk@example.nl;", on: "2026-11-25", since: third, keeping: renewed)

        // The same key in capitals is the same key.
        try changePortal("UPDATE row_hash_key SET key = upper(key)")
        _ = try changingParent(1, to: "O1;Marieke;Dijk;marieke@example.nl;", on: "2026-11-26", since: fourth, keeping: nil)

        // What is stored is no key: replaced, as if there were none.
        try changePortal("UPDATE row_hash_key SET key = 'geen sleutel'")
        #expect(try importing("2026-11-27", into: "a.sqlite") == "full")
        let replaced = try #require(try key("a.sqlite"))
        #expect(replaced != renewed && replaced.count == 32)

        // Its table dropped: made again, with a new key.
        try changePortal("DROP TABLE row_hash_key")
        #expect(try importing("2026-11-28", into: "a.sqlite") == "full")
        let remade = try #require(try key("a.sqlite"))
        #expect(remade != replaced && remade.count == 32)
    }

    /// A run is incremental only when it can rely on what the portal knows of the last export.
    @Test func aRunIsFullWhenItsBasisChangedOrItsHashesAreGone() throws {
        let folder = temporaryFolder("basis")
        func mode(_ result: ProcessResult) throws -> (String?, String?) {
            let comparison = try reportJSON(of: result, in: folder)["comparison"] as? [String: Any]
            return (comparison?["mode"] as? String, comparison?["reason"] as? String)
        }
        var export = MiniExport()
        var night = 0
        func next(_ day: String, _ extra: [String] = []) throws -> ProcessResult {
            night += 1
            export.exportedAt = "\(Day(iso: day)!.adding(days: -1).iso)T23:\(10 + night):00+01:00"
            let result = try opvangsync(["import", export.write(to: folder.appendingPathComponent("n\(night)")).path, "--as-of", day] + extra, in: folder)
            #expect(result.status == 0, "\(result.stderr)")
            return result
        }
        #expect(try mode(next("2026-11-22")).0 == "full")
        #expect(try mode(next("2026-11-23")).0 == "incremental")
        let asked = try mode(next("2026-11-24", ["--full"]))
        #expect(asked.0 == "full" && (asked.1 ?? "").contains("gevraagd"))

        // Another mapping: the same built-in one with another description.
        let mapping = folder.appendingPathComponent("mapping.json")
        let text = BuiltInMapping.flexkidsCSV.text.replacingOccurrences(of: "\"description\": \"", with: "\"description\": \"Aangepast. ")
        try Data(text.utf8).write(to: mapping)
        let changed = try mode(next("2026-11-25", ["--mapping", mapping.path]))
        #expect(changed.0 == "full" && (changed.1 ?? "").contains("mapping"))
        #expect(try mode(next("2026-11-26", ["--mapping", mapping.path])).0 == "incremental")

        try Database(path: folder.appendingPathComponent("portal.sqlite").path).execute("DELETE FROM record_hashes")
        let lost = try mode(next("2026-11-27", ["--mapping", mapping.path]))
        #expect(lost.0 == "full" && (lost.1 ?? "").contains("ontbreken"))
        #expect(try mode(next("2026-11-28", ["--mapping", mapping.path])).0 == "incremental")
    }

    /// Runs each night's export on two portals, incrementally and with `--full`, and records every table that
    /// then differs.
    struct TwoPortals {
        let folder: URL
        var number = 0

        init(_ name: String) throws {
            folder = temporaryFolder(name)
            try Data(#"{"rules": {"maxRemovalFraction": 0.9, "maxRemovalFractionPerLocation": 0.9}}"#.utf8)
                .write(to: folder.appendingPathComponent("opvangsync.json"))
            // One portal's two futures: the same secret for their row hashes, so that those are compared too.
            let sharedKey = (0..<32).map { _ in String("0123456789abcdef".randomElement()!) }.joined()
            for portal in ["incremental.sqlite", "full.sqlite"] {
                let path = folder.appendingPathComponent(portal).path
                _ = try PortalRepository(path: path)
                try Database(path: path).execute("INSERT INTO row_hash_key (id, key) VALUES (1, '\(sharedKey)')")
            }
        }

        mutating func night(_ export: MiniExport, _ day: String) throws {
            number += 1
            var export = export
            export.exportedAt = "\(Day(iso: day)!.adding(days: -1).iso)T23:\(10 + number % 40):00+01:00"
            let written = try export.write(to: folder.appendingPathComponent("n\(number)"))
            for (portal, extra) in [("incremental.sqlite", [String]()), ("full.sqlite", ["--full"])] {
                let result = try opvangsync(["import", written.path, "--as-of", day, "--db", portal] + extra, in: folder)
                #expect([0, 4].contains(result.status), "\(day), \(portal): \(result.stderr)")
            }
            let incremental = try IncrementalDifferentialTests.contents(folder.appendingPathComponent("incremental.sqlite").path)
            let full = try IncrementalDifferentialTests.contents(folder.appendingPathComponent("full.sqlite").path)
            for table in Set(full.keys).union(incremental.keys).sorted() where full[table] != incremental[table] {
                Issue.record("""
                    \(day): table \(table) differs; only after full runs: \(Set(full[table] ?? []).subtracting(incremental[table] ?? []).sorted()); \
                    only after incremental runs: \(Set(incremental[table] ?? []).subtracting(full[table] ?? []).sorted())
                    """)
            }
        }

        func value(_ portal: String, _ sql: String) throws -> String? {
            try Database(path: folder.appendingPathComponent(portal).path, mode: .queryOnly).scalarString(sql)
        }
    }

    /// A nightly run sees only the records its changes and the date reach. A placement that ended long ago and
    /// leaves the export is such a record; the child's other placement, still running at another location, is
    /// not. Retention must not take the child for one whose care is over: it decides only for children whose
    /// placements and relations the run has read whole. (It purged the child, emptied its name and birth date,
    /// and scrubbed its change log.)
    @Test func aChildStillInCareElsewhereIsNotPurgedWhenAnOldPlacementLeavesTheExport() throws {
        var portals = try TwoPortals("retention-partial-view")
        var export = MiniExport()
        export["locaties.csv"].append("L2;De Vlinder")
        export["groepen.csv"].append("G3;L2;Vlinders;KDV;12")
        export["plaatsingen.csv"][1] = "P1;K1;G1;KDV;52 weken;01-09-2022;30-06-2024;07:30-18:00;07:30-18:00;"
        export["plaatsingen.csv"].append("P11;K1;G3;KDV;52 weken;01-09-2024;;08:00-17:00;;")
        try portals.night(export, "2026-11-22")
        export["plaatsingen.csv"].remove(at: 1)
        try portals.night(export, "2026-11-23")
        try portals.night(export, "2026-11-24")
        for portal in ["incremental.sqlite", "full.sqlite"] {
            #expect(try portals.value(portal, "SELECT first_name || '|' || COALESCE(purged_at, '-') FROM children WHERE key = 'K1'") == "Zoë|-", "\(portal)")
        }
    }

    /// A child unlinked from every parent (a change of custody: no window) is purged eight weeks after its care
    /// ended. Nothing changes in the export that night: the date alone reaches the child, and a nightly run
    /// must find it as a full run does.
    @Test func aChildUnlinkedFromEveryParentIsPurgedOnTheSameNightByEitherPath() throws {
        var portals = try TwoPortals("retention-unlinked")
        var export = MiniExport()
        export["plaatsingen.csv"][3] = "P3;K3;G1;KDV;52 weken;01-01-2026;30-11-2026;;08:00-17:00;"
        export["relaties.csv"][3] = "K3;O3;Ouder 2"
        try portals.night(export, "2026-11-22")
        try portals.night(export, "2026-12-01")
        export["relaties.csv"].remove(at: 3)
        try portals.night(export, "2026-12-20")
        for day in ["2027-01-24", "2027-01-25", "2027-01-26", "2027-01-27"] { try portals.night(export, day) }
        for portal in ["incremental.sqlite", "full.sqlite"] {
            #expect(try portals.value(portal, "SELECT COALESCE(first_name, '') || '|' || COALESCE(purged_at, '-') FROM children WHERE key = 'K3'") == "|2027-01-26",
                    "\(portal)")
        }
        // The purged child then leaves the export, with its placement, and so does O3 (a parent no longer
        // linked to any child, not purged): both paths take them for records that left it.
        export["kinderen.csv"].removeAll { $0.hasPrefix("K3;") }
        export["plaatsingen.csv"].removeAll { $0.hasPrefix("P3;") }
        export["ouders.csv"].removeAll { $0.hasPrefix("O3;") }
        try portals.night(export, "2027-02-01")
        for portal in ["incremental.sqlite", "full.sqlite"] {
            #expect(try portals.value(portal, "SELECT status FROM children WHERE key = 'K3'") == "inactive", "\(portal)")
        }
    }

    /// O2 takes O1's address and is in conflict with O1's account. O1 then moves to another address: the
    /// night after, the address is free and a full run gives it to O2. Nothing of O2's changes that night,
    /// so a nightly run must weigh the parents in conflict again of its own accord.
    @Test func aParentInConflictGetsTheAddressOnTheNightAFullRunGivesIt() throws {
        var portals = try TwoPortals("retention-conflict-freed")
        var export = MiniExport()
        try portals.night(export, "2026-11-22")
        export["ouders.csv"][2] = "O2;Joost;Smit;marieke@example.nl;"
        try portals.night(export, "2026-11-23")
        export["ouders.csv"][1] = "O1;Marieke;Dijk;marieke.new@example.nl;"
        try portals.night(export, "2026-11-24")
        try portals.night(export, "2026-11-25")
        for portal in ["incremental.sqlite", "full.sqlite"] {
            #expect(try portals.value(portal, "SELECT username FROM accounts WHERE parent_number = 'O2'") == "marieke@example.nl", "\(portal)")
        }
    }

    /// The planning system spells the same keys decomposed one night (`e` and a combining accent) where it
    /// spelled them composed (`é`) the night before. A full run sees the same records; so must a nightly run,
    /// which reads the changed rows' records from the portal by key: no second child, group or placement.
    @Test func keysSpelledInAnotherCanonicalFormAreTheSameRecordsToANightlyRun() throws {
        var portals = try TwoPortals("keys-decomposed")
        let composed = (group: "G\u{E9}", child: "K\u{E9}"), decomposed = (group: "Ge\u{301}", child: "Ke\u{301}")
        func export(_ keys: (group: String, child: String)) -> MiniExport {
            var export = MiniExport()
            export["groepen.csv"].append("\(keys.group);L1;Egels;KDV;10")
            export["kinderen.csv"].append("\(keys.child);Zeb;;Ee;01-01-2023;")
            export["ouders.csv"].append("O9;Ann;Ee;ann@example.nl;")
            export["relaties.csv"].append("\(keys.child);O9;Ouder 1")
            export["plaatsingen.csv"].append("P9;\(keys.child);\(keys.group);KDV;52 weken;01-09-2025;;08:00-17:00;;")
            return export
        }
        try portals.night(export(composed), "2026-11-22")
        // The night the keys are spelled anew, the child's name changes too: the change reaches the record.
        var renamed = export(decomposed)
        renamed["kinderen.csv"][renamed["kinderen.csv"].count - 1] = "\(decomposed.child);Zebedeüs;;Ee;01-01-2023;"
        try portals.night(renamed, "2026-11-23")
        try portals.night(renamed, "2026-11-24")
        for portal in ["incremental.sqlite", "full.sqlite"] {
            #expect(try portals.value(portal, "SELECT COUNT(*) FROM children") == "4", "\(portal)")
            #expect(try portals.value(portal, "SELECT COUNT(*) FROM groups") == "3", "\(portal)")
            #expect(try portals.value(portal, "SELECT first_name FROM children WHERE key = '\(composed.child)'") == "Zebedeüs", "\(portal)")
        }
    }

    /// O1b uses O1's account: the same address, the same child. O1 moves to another address; the night after,
    /// a full run finds O1b's address no longer the account's and gives O1b an account of their own. Nothing of
    /// O1b's changes that night, so a nightly run must find the members whose address left their account.
    @Test func aMemberWhoseAccountMovedToAnotherAddressLeavesItOnTheNightAFullRunDetachesThem() throws {
        var portals = try TwoPortals("member-account-moved")
        var export = MiniExport()
        export["ouders.csv"].append("O1b;Peter;Dijk;marieke@example.nl;")
        export["relaties.csv"].append("K1;O1b;Ouder 2")
        try portals.night(export, "2026-11-22")
        export["ouders.csv"][1] = "O1;Marieke;Dijk;marieke.new@example.nl;"
        try portals.night(export, "2026-11-23")
        try portals.night(export, "2026-11-24")
        for portal in ["incremental.sqlite", "full.sqlite"] {
            #expect(try portals.value(portal, "SELECT COUNT(*) FROM account_members WHERE parent_number = 'O1b' AND account = 'O1'") == "0", "\(portal)")
        }
    }

    @Test func tenNightsThroughTheIncrementalPathLeaveThePortalAsFullRunsDo() throws {
        let folder = temporaryFolder("differential")
        try Data(#"{"rules": {"maxRemovalFraction": 0.5}}"#.utf8).write(to: folder.appendingPathComponent("opvangsync.json"))
        let generated = folder.appendingPathComponent("generated")
        let made = try exportgen(["--children", "80", "--locations", "2", "--groups-per-location", "3", "--encoding", "utf-8",
                                  "--as-of", "2026-11-22", "--out", generated.path], in: folder)
        #expect(made.status == 0, "\(made.stderr)")
        var files: [String: [String]] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: generated.path) where name.hasSuffix(".csv") {
            files[name] = try String(contentsOf: generated.appendingPathComponent(name), encoding: .utf8)
                .split(whereSeparator: \.isNewline).map(String.init)
        }
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: generated.appendingPathComponent("manifest.json"))) as! [String: Any]
        let organisation = manifest["organisation"] as! [String: Any]
        var night = Night(files: files, organisation: organisation["id"] as! String, name: organisation["name"] as? String ?? "",
                          portalURL: organisation["portalUrl"] as? String ?? "https://portaal.example")
        let full = folder.appendingPathComponent("full.sqlite").path
        let incremental = folder.appendingPathComponent("incremental.sqlite").path
        // One portal's two futures: both begin with the same secret for their row hashes, so that the hashes
        // each path stores are compared too.
        let sharedKey = (0..<32).map { _ in String("0123456789abcdef".randomElement()!) }.joined()
        for path in [full, incremental] {
            _ = try PortalRepository(path: path)
            try Database(path: path).execute("INSERT INTO row_hash_key (id, key) VALUES (1, '\(sharedKey)')")
        }
        let start = Day(iso: "2026-11-22")!
        var number = 0

        /// Both portals take the same step; then every table must be the same.
        func both(_ arguments: [String], incrementalMode expected: String? = nil, _ what: String) throws {
            let isImport = arguments.first == "import"
            let a = try opvangsync(arguments + ["--db", full] + (isImport ? ["--reports", folder.appendingPathComponent("r-full").path] : []), in: folder)
            let b = try opvangsync(arguments + ["--db", incremental] + (isImport ? ["--reports", folder.appendingPathComponent("r-inc").path] : []), in: folder)
            #expect([0, 4].contains(a.status), "\(what), full: \(a.stdout) \(a.stderr)")
            #expect(a.status == b.status, "\(what): exit \(a.status) full, \(b.status) incremental; \(b.stderr)")
            if let expected, arguments.first == "import" {
                let mode = (try reportJSON(of: b, in: folder)["comparison"] as? [String: Any])?["mode"] as? String
                #expect(mode == expected, "\(what): the incremental portal ran \(mode ?? "?")")
            }
            try compare(what)
        }
        /// Every table of both portals, after `what`.
        func compare(_ what: String) throws {
            let left = try IncrementalDifferentialTests.contents(full), right = try IncrementalDifferentialTests.contents(incremental)
            for table in Set(left.keys).union(right.keys).sorted() where left[table] != right[table] {
                let onlyFull = Set(left[table] ?? []).subtracting(right[table] ?? []).sorted().prefix(5)
                let onlyIncremental = Set(right[table] ?? []).subtracting(left[table] ?? []).sorted().prefix(5)
                Issue.record("\(what): table \(table) differs; only after full runs: \(Array(onlyFull)); only after incremental runs: \(Array(onlyIncremental))")
            }
        }
        /// One night: the export as edited, imported with --full into one portal and incrementally into the other.
        func importNight(_ day: Day, _ what: String, mode: String = "incremental", extra: [String] = []) throws -> [String: Any] {
            number += 1
            let exportedAt = day.adding(days: -1).iso + "T23:40:00+01:00"
            let export = try night.write(to: folder.appendingPathComponent("night\(number)"), exportedAt: exportedAt)
            let a = try opvangsync(["import", export.path, "--as-of", day.iso, "--full", "--db", full,
                                    "--reports", folder.appendingPathComponent("r-full").path] + extra, in: folder)
            let b = try opvangsync(["import", export.path, "--as-of", day.iso, "--db", incremental,
                                    "--reports", folder.appendingPathComponent("r-inc").path] + extra, in: folder)
            #expect([0, 4].contains(a.status), "night \(number) (\(what)), full: \(a.stdout) \(a.stderr)")
            #expect(a.status == b.status, "night \(number) (\(what)): exit \(a.status) full, \(b.status) incremental; \(b.stderr)")
            let report = try reportJSON(of: b, in: folder)
            #expect((report["comparison"] as? [String: Any])?["mode"] as? String == mode, "night \(number) (\(what))")
            try compare("night \(number) (\(what))")
            // The report warns about and rejects the same rows of the export, whether a file was read or
            // skipped as applied, and names the same problems of the families, whether planned or not.
            let fullReport = try reportJSON(of: a, in: folder)
            let fullProblems = problems(fullReport), incrementalProblems = problems(report)
            // And the same totals per location, whether counted from the records or by the portal.
            func locations(_ report: [String: Any]) throws -> String {
                String(decoding: try JSONSerialization.data(withJSONObject: report["locations"] ?? [], options: [.sortedKeys]), as: UTF8.self)
            }
            #expect(try locations(fullReport) == locations(report), "night \(number) (\(what)): the location totals differ")
            #expect(fullProblems == incrementalProblems, """
                night \(number) (\(what)): only in the full run's report: \(Set(fullProblems).subtracting(incrementalProblems).sorted().prefix(5)); \
                only in the incremental run's: \(Set(incrementalProblems).subtracting(fullProblems).sorted().prefix(5))
                """)
            return report
        }
        /// Every warning and error of a report, as severity, code, file, line, column, key and message, each as
        /// often as the report gives it.
        func problems(_ report: [String: Any]) -> [String] {
            (report["issues"] as? [[String: Any]] ?? []).filter { $0["severity"] as? String != "info" }.map { issue in
                ["severity", "code", "file", "line", "column", "key", "message"].map { "\(issue[$0] ?? "-")" }.joined(separator: "|")
            }.sorted()
        }
        func rejectedCodes(_ report: [String: Any]) -> [String] {
            (report["issues"] as! [[String: Any]]).filter { $0["severity"] as? String == "error" }.compactMap { $0["code"] as? String }
        }

        // 1. The first import: a full run in both portals.
        _ = try importNight(start, "first import", mode: "full")

        // 2. Changed families and a new one, whose care starts beyond the invitation window.
        let placements = "plaatsingen.csv", parents = "ouders.csv", children = "kinderen.csv", relations = "relaties.csv"
        let firstParent = night.field(parents, line: 1, "Oudernummer")
        night.set(parents, firstParent, "E-mail", "nieuw.adres.\(firstParent)@example.nl")
        let firstChild = night.field(children, line: 1, "Kindnummer")
        night.set(children, firstChild, "Roepnaam", "Anouk")
        let group = night.field(placements, line: 1, "Groepcode")
        let careType = night.field(placements, line: 1, "Opvangsoort")
        /// A new family: one child, one parent, their relation and a placement starting in 50 days.
        func addNewFamily() {
            night.files[children]!.append("199001;Sem;;Nieuw;01-03-2024;M;")
            night.files[parents]!.append("299001;Lotte;;Nieuw;lotte.nieuw@example.nl;;;;;;")
            night.files[relations]!.append("199001;299001;Ouder 1")
            night.files[placements]!.append("399001;199001;\(group);\(careType);52 weken;\(Self.dutch(start.adding(days: 50)));;08:00-17:00;;;;;;;alle")
        }
        addNewFamily()
        _ = try importNight(start.adding(days: 1), "changed and new families")

        // 3. A placement ends, one vanishes, and a new row is rejected.
        let ending = night.field(placements, line: 2, "Plaatsingsnummer")
        night.set(placements, ending, "Einddatum", Self.dutch(start.adding(days: 1)))
        night.files[placements]!.remove(at: 3)
        night.files[placements]!.append("399002;199001;\(group);\(careType);52 weken;31-02-2026;;;08:00-17:00;;;;;;alle")
        var report = try importNight(start.adding(days: 2), "ended, vanished, rejected")
        #expect(rejectedCodes(report).contains("unparseable-date"))

        // 4. The rejected row is reported again; an absence; a change of custody.
        let absent = night.field(placements, line: 1, "Kindnummer")
        night.files["afwijkingen.csv"]!.append("\(absent);\(group);\(Self.dutch(start.adding(days: 5)));Afwezig;;;ziek")
        if let second = night.files[relations]!.firstIndex(where: { $0.hasSuffix(";Ouder 2") }) { night.files[relations]!.remove(at: second) }
        report = try importNight(start.adding(days: 3), "rejected again, absence, custody")
        #expect(rejectedCodes(report).contains("unparseable-date"), "a rejected row is reported every night until it is fixed")

        // The portal: a parent activates the account (the same in both).
        for path in [full, incremental] {
            let database = try Database(path: path)
            try database.run("UPDATE accounts SET activated_at = '2026-11-25T10:00:00Z' WHERE parent_number = ?", [.text(firstParent)])
        }

        // 5. The rejected row is fixed; a scoped run for the activated parent's new address, then the night.
        night.set(placements, "399002", "Ingangsdatum", Self.dutch(start.adding(days: 3)))
        night.set(parents, firstParent, "E-mail", "derde.adres.\(firstParent)@example.nl")
        number += 1
        let scopedExport = try night.write(to: folder.appendingPathComponent("night\(number)"), exportedAt: start.adding(days: 3).iso + "T23:40:00+01:00")
        try both(["import", scopedExport.path, "--only", "parent=\(firstParent)", "--as-of", start.adding(days: 4).iso], incrementalMode: "scoped", "scoped run")
        _ = try importNight(start.adding(days: 4), "after a scoped run")

        // 6. A refresh of one group's list, then a group and a closing day change.
        try both(["attendance", "refresh", "--group", group, "--as-of", start.adding(days: 5).iso], "refresh")
        night.set("groepen.csv", group, "Capaciteit", "9")
        let location = night.field("groepen.csv", line: 1, "Locatiecode")
        night.files["kalender.csv"]!.append("\(Self.dutch(start.adding(days: 10)));\(Self.dutch(start.adding(days: 10)));Sluitingsdag;\(location);Studiedag")
        // A parent takes the address of a parent of another family: who gets it is decided among both.
        let taker = night.field(parents, line: 10, "Oudernummer")
        night.set(parents, taker, "E-mail", night.field(parents, line: 20, "E-mail").uppercased())
        _ = try importNight(start.adding(days: 5), "group, closing day, an address taken")

        // 7. A week on: the new family's care comes within the invitation window; nothing else changed.
        _ = try importNight(start.adding(days: 12), "invitation window opens")

        // 8. A whole family leaves the export.
        let leaving = night.field(children, line: 5, "Kindnummer")
        let leavingParents = night.files[relations]!.filter { $0.hasPrefix(leaving + ";") }.map { String($0.split(separator: ";")[1]) }
        night.files[children]!.removeAll { $0.hasPrefix(leaving + ";") }
        night.files[relations]!.removeAll { $0.hasPrefix(leaving + ";") }
        night.files[placements]!.removeAll { $0.split(separator: ";")[1] == leaving }
        night.files["afwijkingen.csv"]!.removeAll { $0.hasPrefix(leaving + ";") }
        for parent in leavingParents where !night.files[relations]!.contains(where: { $0.hasSuffix(";\(parent);Ouder 1") || $0.contains(";\(parent);") }) {
            night.files[parents]!.removeAll { $0.hasPrefix(parent + ";") }
        }
        _ = try importNight(start.adding(days: 13), "a family leaves")

        // 9. A row with a warning (an address that is no address), 10. fixed, with a future end date.
        night.set(parents, "299001", "E-mail", "geen-adres")
        _ = try importNight(start.adding(days: 14), "warning")
        night.set(parents, "299001", "E-mail", "lotte.nieuw@example.nl")
        let later = night.field(placements, line: 4, "Plaatsingsnummer")
        night.set(placements, later, "Einddatum", Self.dutch(start.adding(days: 20)))
        _ = try importNight(start.adding(days: 15), "fixed, future end")

        // 11. Two months on: placements end by date alone, windows after care pass, accounts are disabled.
        _ = try importNight(start.adding(days: 80), "windows pass")

        // 12. The family that left comes back.
        night.files = files
        addNewFamily()
        _ = try importNight(start.adding(days: 81), "back as it was")

        // 13. Care ends for one child, whose rows stay in the export; 14. two years and more later it is
        // purged; 15. its unchanged rows stay purged; 16. it comes back into care.
        let leaver = night.field(placements, line: 2, "Kindnummer")
        for line in night.files[placements]!.indices.dropFirst() where night.field(placements, line: line, "Kindnummer") == leaver {
            night.set(placements, night.field(placements, line: line, "Plaatsingsnummer"), "Einddatum", Self.dutch(start.adding(days: 81)))
        }
        _ = try importNight(start.adding(days: 82), "care ends")
        _ = try importNight(start.adding(days: 82 + 800), "purged")
        let purged = try Database(path: incremental, mode: .readOnly).scalarString("SELECT purged_at FROM children WHERE key = ?", [.text(leaver)])
        #expect(purged != nil, "child \(leaver) is purged")
        _ = try importNight(start.adding(days: 82 + 801), "kept purged")
        night.files[placements]!.append("399003;\(leaver);\(group);\(careType);52 weken;\(Self.dutch(start.adding(days: 82 + 830)));;08:00-17:00;;;;;;;alle")
        _ = try importNight(start.adding(days: 82 + 802), "back in care")
        #expect(number >= 16)
    }
}
