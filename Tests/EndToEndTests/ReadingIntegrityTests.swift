import Foundation
import OpvangSync
import PortalStore
import TestSupport
import Testing

/// SPEC §2 and §5 on reading: the import never changes data without a word, never ends a record that was
/// still in the export and never mangles text. When it cannot be sure, it rejects the row or refuses the
/// run, naming file, line and column. Every case runs the built binary, as a user would meet it.
@Suite struct ReadingIntegrityTests {
    /// Writes `export` and imports it into the portal of `folder`.
    func importExport(_ export: MiniExport, in folder: URL, _ extra: [String] = []) throws -> (ProcessResult, [String: Any]) {
        let path = try export.write(to: folder.appendingPathComponent("export-\(UUID().uuidString)"))
        let result = try opvangsync(["import", path.path, "--as-of", "2026-11-22"] + extra, in: folder)
        return (result, try reportJSON(of: result, in: folder))
    }

    /// A portal that holds MiniExport, and the next night's export to change.
    func importedMini(_ name: String, rejectedFraction: Double? = nil) throws -> (URL, MiniExport) {
        let folder = temporaryFolder(name)
        if let rejectedFraction {
            // A small organisation: one rejected row of three must not trip the rejected-rows guard.
            try Data(#"{"rules": {"maxRejectedFraction": \#(rejectedFraction)}}"#.utf8).write(to: folder.appendingPathComponent("opvangsync.json"))
        }
        let (first, _) = try importExport(MiniExport(), in: folder)
        #expect(first.status == 0, "\(first.stderr)")
        var next = MiniExport()
        next.exportedAt = "2026-11-22T01:00:00+01:00"
        return (folder, next)
    }

    func database(_ folder: URL) throws -> Database {
        try Database(path: folder.appendingPathComponent("portal.sqlite").path)
    }

    func issues(_ report: [String: Any], _ code: String) -> [[String: Any]] {
        (report["issues"] as? [[String: Any]] ?? []).filter { $0["code"] as? String == code }
    }

    func counts(_ report: [String: Any], _ kind: String) -> [String: Int] {
        (report["counts"] as? [String: [String: Int]])?[kind] ?? [:]
    }

    /// `lines` as LF-separated UTF-8 bytes with `extra` spliced in at the byte offset `at`.
    func bytes(_ lines: [String], inserting extra: [UInt8] = [], at offset: Int? = nil) -> [UInt8] {
        var result = Array((lines.joined(separator: "\n") + "\n").utf8)
        if let offset { result.insert(contentsOf: extra, at: offset) }
        return result
    }

    // MARK: Encoding

    @Test func aFileWithValidMultiByteUTF8AndAnInvalidByteIsBrokenAtThatByte() throws {
        let (folder, export) = try importedMini("mixed-utf8")
        var next = export
        let lines = ["Oudernummer;Voornaam;Achternaam;E-mail;E-mail 2",
                     "O1;Hüseyin;Dijk;marieke@example.nl;", "O2;Joost;Smit;joost@example.nl;", "O3;Inge;Vries;;inge@example.nl"]
        // A stray 0xFF after "O2;Jo": line 3, byte 6 of that line.
        let offset = Array((lines[0] + "\n" + lines[1] + "\n" + "O2;Jo").utf8).count
        next.raw["ouders.csv"] = bytes(lines, inserting: [0xFF], at: offset)
        let (result, report) = try importExport(next, in: folder)
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(report["status"] as? String == "failed")
        let issue = issues(report, "invalid-encoding").first
        #expect(issue?["file"] as? String == "ouders.csv")
        #expect(issue?["line"] as? Int == 3)
        #expect(issue?["column"] as? Int == 6)
        #expect(result.stderr.contains("ouders.csv:3:6"))
        // Nothing applied: the name was not rewritten as Windows-1252 mojibake.
        #expect(try database(folder).scalarString("SELECT first_name FROM parents WHERE key = 'O1'") == "Marieke")
    }

    @Test func theFiveBytesWindows1252LeavesUndefinedAreErrorsNotControlCharacters() throws {
        let (folder, export) = try importedMini("cp1252-undefined")
        var next = export
        // Windows-1252 ("Noël" with 0xEB), and a 0x81 on line 3 after "O2;Joost;Sm".
        var raw = Array("Oudernummer;Voornaam;Achternaam;E-mail;E-mail 2\nO1;No".utf8) + [0xEB] + Array("l;Dijk;marieke@example.nl;\n".utf8)
        raw += Array("O2;Joost;Sm".utf8) + [0x81] + Array("it;joost@example.nl;\nO3;Inge;Vries;;inge@example.nl\n".utf8)
        next.raw["ouders.csv"] = raw
        let (result, report) = try importExport(next, in: folder)
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        let issue = issues(report, "invalid-encoding").first
        #expect(issue?["line"] as? Int == 3)
        #expect(issue?["column"] as? Int == 12)
        #expect(try database(folder).scalarString("SELECT last_name FROM parents WHERE key = 'O2'") == "Smit")
    }

    // MARK: Row width

    @Test func aRowWithFewerCellsThanTheHeaderIsRejectedAndItsParentKeptAsItWas() throws {
        let folder = temporaryFolder("short-row")
        try Data(#"{"rules": {"maxRejectedFraction": 0.5}}"#.utf8).write(to: folder.appendingPathComponent("opvangsync.json"))
        var export = MiniExport()
        export["ouders.csv"] = ["Oudernummer;Voornaam;Achternaam;E-mail;E-mail 2;Telefoon;Mobiel;Plaats",
                                "O1;Marieke;Dijk;marieke@example.nl;;020-1234567;06-12345678;Utrecht",
                                "O2;Joost;Smit;joost@example.nl;;;;", "O3;Inge;Vries;;inge@example.nl;;;"]
        #expect(try importExport(export, in: folder).0.status == 0)
        export["ouders.csv"][1] = "O1;Marieke;Dijk;marieke@example.nl;"     // 5 of 8 cells
        export.exportedAt = "2026-11-22T01:00:00+01:00"
        let (result, report) = try importExport(export, in: folder)
        #expect(result.status == 4, "\(result.stdout)\(result.stderr)")
        let issue = issues(report, "missing-fields").first
        #expect(issue?["line"] as? Int == 2)
        #expect(issue?["column"] as? Int == 6)
        #expect(issue?["key"] as? String == "O1")
        let db = try database(folder)
        #expect(try db.scalarString("SELECT phone || ' ' || mobile || ' ' || city || ' ' || status FROM parents WHERE key = 'O1'")
                == "020-1234567 06-12345678 Utrecht active")
    }

    // MARK: Keys

    @Test func aKeyIsTrimmedOfUnicodeWhiteSpaceAndFormatCharactersIncludingTheBOM() throws {
        let (folder, export) = try importedMini("key-trim")
        var next = export
        next["kinderen.csv"][1] = "\u{FEFF}K1;Zoë;van;Dijk;03-02-2024;M1"
        next["kinderen.csv"][2] = "K2\u{00A0};Daan;;Smit;15-06-2019;M1"
        next["kinderen.csv"][3] = "\u{200B}K3\u{2060};Noël;de;Vries;01-01-2023;"
        next["plaatsingen.csv"][1] = "P1;\u{FEFF}K1;G1;KDV;52 weken;01-09-2025;;07:30-18:00;07:30-18:00;"
        let (result, report) = try importExport(next, in: folder)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(counts(report, "child")["created"] == 0)
        #expect(counts(report, "child")["ended"] == 0)
        #expect(try database(folder).scalarInt("SELECT COUNT(*) FROM children WHERE status = 'active'") == 3)
        #expect(try database(folder).scalarInt("SELECT COUNT(*) FROM children") == 3)
    }

    @Test func aKeyThatStillHoldsWhiteSpaceOrAControlCharacterIsRejectedAndItsRecordKept() throws {
        let (folder, export) = try importedMini("key-inner", rejectedFraction: 0.7)
        var next = export
        next["kinderen.csv"][3] = "K\u{200B}3;Noël;de;Vries;01-01-2023;"
        next["ouders.csv"][2] = "O 2;Joost;Smit;joost@example.nl;"
        let (result, report) = try importExport(next, in: folder)
        #expect(result.status == 4, "\(result.stdout)\(result.stderr)")
        let rejected = issues(report, "invalid-key")
        #expect(rejected.contains { $0["file"] as? String == "kinderen.csv" && $0["line"] as? Int == 4 && $0["column"] as? Int == 1 })
        #expect(rejected.contains { $0["file"] as? String == "ouders.csv" && $0["line"] as? Int == 3 && $0["column"] as? Int == 1 })
        let db = try database(folder)
        #expect(try db.scalarInt("SELECT COUNT(*) FROM children") == 3)
        #expect(try db.scalarInt("SELECT COUNT(*) FROM parents") == 3)
        #expect(try db.scalarString("SELECT status FROM children WHERE key = 'K3'") == "active")
        #expect(try db.scalarString("SELECT status FROM parents WHERE key = 'O2'") == "active")
    }

    // MARK: JSON exports

    /// The JSON sample, imported once; `edit` makes the next night's `export.json` from its text.
    func importedJSON(_ name: String) throws -> (URL, String) {
        let folder = temporaryFolder(name)
        let first = try opvangsync(["import", Package.sample("zonnebloem-json"), "--as-of", "2026-11-22"], in: folder)
        #expect(first.status == 0, "\(first.stderr)")
        let text = try String(contentsOfFile: Package.sample("zonnebloem-json") + "/export.json", encoding: .utf8)
        return (folder, text)
    }

    func importJSON(_ bytes: [UInt8], in folder: URL) throws -> (ProcessResult, [String: Any]) {
        let export = folder.appendingPathComponent("export-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: export, withIntermediateDirectories: true)
        try Data(bytes).write(to: export.appendingPathComponent("export.json"))
        let result = try opvangsync(["import", export.path, "--as-of", "2026-11-22", "--force", "--reason", "test"], in: folder)
        return (result, try reportJSON(of: result, in: folder))
    }

    /// `text` with the first occurrence of `old` replaced.
    func replacingFirst(_ old: String, with new: String, in text: String) -> String {
        guard let range = text.range(of: old) else { Issue.record("\(old) not in the sample"); return text }
        return text.replacingCharacters(in: range, with: new)
    }

    @Test func anIntegerValuedJSONNumberIsThatIntegerAndAFractionalOneIsRejected() throws {
        let (folder, text) = try importedJSON("json-numbers")
        var edited = replacingFirst(#""kindnummer" : "100003""#, with: #""kindnummer" : 100003.0"#, in: text)
        edited = replacingFirst(#""kindnummer" : "100004""#, with: #""kindnummer" : 1.00004e5"#, in: edited)
        let (same, report) = try importJSON(Array(edited.utf8), in: folder)
        #expect(same.status == 0, "\(same.stdout)\(same.stderr)")
        #expect(counts(report, "child")["created"] == 0)
        #expect(counts(report, "child")["ended"] == 0)

        let fractional = replacingFirst(#""kindnummer" : "100003""#, with: #""kindnummer" : 100003.5"#, in: text)
        let (rejected, second) = try importJSON(Array(fractional.utf8), in: folder)
        #expect(rejected.status == 4, "\(rejected.stdout)\(rejected.stderr)")
        #expect(issues(second, "unparseable-number").contains { $0["file"] as? String == "export.json#children" })
        #expect(counts(second, "child")["created"] == 0)
        #expect(counts(second, "child")["ended"] == 0)
        #expect(try database(folder).scalarInt("SELECT COUNT(*) FROM children WHERE key LIKE '100003%'") == 1)
    }

    @Test func aDuplicateKeyInOneJSONObjectIsAnErrorWithLineAndColumn() throws {
        let (folder, text) = try importedJSON("json-duplicate")
        let edited = replacingFirst(#""kindnummer" : "100001","#, with: "\"kindnummer\" : \"100001\",\n      \"kindnummer\" : \"199999\",", in: text)
        let line = edited.components(separatedBy: "\n").firstIndex { $0.contains("199999") }.map { $0 + 1 }
        let (result, report) = try importJSON(Array(edited.utf8), in: folder)
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        let issue = issues(report, "invalid-json").first
        #expect(issue?["file"] as? String == "export.json")
        #expect(issue?["line"] as? Int == line)
        #expect(issue?["column"] as? Int == 7)
        #expect(try database(folder).scalarInt("SELECT COUNT(*) FROM children WHERE key = '199999'") == 0)
    }

    @Test func invalidUTF8InAJSONExportIsAnErrorWithLineAndColumn() throws {
        let (folder, text) = try importedJSON("json-utf8")
        let marker = "\"Ko\u{E7}\""
        let line = text.components(separatedBy: "\n").firstIndex { $0.contains(marker) }.map { $0 + 1 }
        var bytes = Array(text.utf8)
        let position = bytes.firstRange(of: Array(marker.utf8))!.lowerBound
        bytes.replaceSubrange(position..<(position + marker.utf8.count), with: Array("\"Ko".utf8) + [0xFF] + Array("\"".utf8))
        let (result, report) = try importJSON(bytes, in: folder)
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        let issue = issues(report, "invalid-json").first
        #expect(issue?["line"] as? Int == line)
        #expect(issue?["column"] as? Int == 25)   // `      "achternaam" : "Ko` is 24 bytes
        #expect(try database(folder).scalarString("SELECT last_name FROM children WHERE key = '100002'") == "Ko\u{E7}")
    }

    @Test func aLoneSurrogateInAJSONExportIsAnError() throws {
        let (folder, text) = try importedJSON("json-surrogate")
        let line = text.components(separatedBy: "\n").firstIndex { $0.contains("\"Ko\u{E7}\"") }.map { $0 + 1 }
        // As an escape, and as the three bytes a careless encoder writes for one (CESU-8).
        let escaped = Array(replacingFirst("\"Ko\u{E7}\"", with: #""Ko\ud800""#, in: text).utf8)
        var encoded = Array(text.utf8)
        let position = encoded.firstRange(of: Array("\"Ko\u{E7}\"".utf8))!.lowerBound
        encoded.replaceSubrange(position..<(position + "\"Ko\u{E7}\"".utf8.count), with: Array("\"Ko".utf8) + [0xED, 0xA0, 0x80] + Array("\"".utf8))
        for bytes in [escaped, encoded] {
            let (result, report) = try importJSON(bytes, in: folder)
            #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
            #expect(issues(report, "invalid-json").first?["line"] as? Int == line)
        }
        #expect(try database(folder).scalarString("SELECT last_name FROM children WHERE key = '100002'") == "Ko\u{E7}")
    }

    @Test func aNULEscapeInAJSONValueRejectsTheRow() throws {
        let (folder, text) = try importedJSON("json-nul")
        let edited = replacingFirst("\"Ko\u{E7}\"", with: #""Ko\u0000""#, in: text)
        let (result, report) = try importJSON(Array(edited.utf8), in: folder)
        #expect(result.status == 4, "\(result.stdout)\(result.stderr)")
        #expect(issues(report, "control-character").contains { $0["key"] as? String == "100002" })
        let db = try database(folder)
        #expect(try db.scalarString("SELECT last_name || ' ' || status FROM children WHERE key = '100002'") == "Ko\u{E7} active")
    }

    // MARK: A rejected row

    @Test func aRowRejectedWhileReadingKeepsItsRecordAsItWas() throws {
        let (folder, export) = try importedMini("rejected-extra", rejectedFraction: 0.5)
        var next = export
        next["kinderen.csv"][3] += ";extra"
        let (result, report) = try importExport(next, in: folder)
        #expect(result.status == 4, "\(result.stdout)\(result.stderr)")
        #expect(issues(report, "extra-fields").first?["key"] as? String == "K3")
        #expect(counts(report, "child")["ended"] == 0)
        let db = try database(folder)
        #expect(try db.scalarString("SELECT status FROM children WHERE key = 'K3'") == "active")
        #expect(try db.scalarString("SELECT status FROM placements WHERE key = 'P3'") == "active")
    }

    // MARK: Text

    @Test func valuesAreTrimmedOfAllUnicodeWhiteSpaceAndABlankRequiredFieldIsMissing() throws {
        let folder = temporaryFolder("value-trim")
        try Data(#"{"rules": {"maxRejectedFraction": 0.5}}"#.utf8).write(to: folder.appendingPathComponent("opvangsync.json"))
        var export = MiniExport()
        export["ouders.csv"][1] = "O1;Marieke;Dijk;marieke@example.nl\u{00A0};"
        export["ouders.csv"][2] = "O2;Joost;Smit;\u{3000}joost@example.nl\u{200B};"
        export["kinderen.csv"][3] = "K3;Noël;de;\u{00A0}\u{2003};01-01-2023;"
        let (result, report) = try importExport(export, in: folder)
        #expect(result.status == 4, "\(result.stdout)\(result.stderr)")
        #expect(issues(report, "missing-required-field").contains { $0["file"] as? String == "kinderen.csv" && $0["line"] as? Int == 4 })
        let db = try database(folder)
        #expect(try db.scalarString("SELECT email FROM parents WHERE key = 'O1'") == "marieke@example.nl")
        let usernames = try db.query("SELECT username FROM accounts ORDER BY username") { $0.string(0) ?? "" }
        #expect(usernames == ["joost@example.nl", "marieke@example.nl"])
    }

    @Test func controlCharactersAndLineBreaksInOneLineFieldsRejectTheRow() throws {
        let folder = temporaryFolder("control")
        try Data(#"{"rules": {"maxRejectedFraction": 0.9}}"#.utf8).write(to: folder.appendingPathComponent("opvangsync.json"))
        var export = MiniExport()
        export["ouders.csv"][1] = "O1;Mar\u{0}ieke;Dijk;marieke@example.nl;"
        export["ouders.csv"][2] = "O2;\"Jo\nost\";Smit;joost@example.nl;"
        export["afwijkingen.csv"][1] = "K1;G1;24-11-2026;Afwezig;;;\"ziek\r\nkoorts\""
        let (result, report) = try importExport(export, in: folder)
        #expect(result.status == 4, "\(result.stdout)\(result.stderr)")
        let rejected = issues(report, "control-character")
        #expect(rejected.contains { $0["line"] as? Int == 2 && $0["column"] as? Int == 2 && $0["key"] as? String == "O1" })
        #expect(rejected.contains { $0["line"] as? Int == 3 && $0["column"] as? Int == 2 && $0["key"] as? String == "O2" })
        let db = try database(folder)
        #expect(try db.scalarInt("SELECT COUNT(*) FROM parents WHERE key IN ('O1', 'O2')") == 0)
        // A description may keep its line breaks.
        #expect(try db.scalarString("SELECT description FROM deviations") == "ziek\r\nkoorts")
    }

    // MARK: E-mail

    @Test func unusableAddressesAreWarnedAboutWithTheReasonAndNotUsedForAnAccount() throws {
        let folder = temporaryFolder("email-shape")
        var export = MiniExport()
        export["ouders.csv"] = ["Oudernummer;Voornaam;Achternaam;E-mail;E-mail 2",
                                "O1;Marieke;Dijk;marieke..dijk@example.nl;marieke@example.org",
                                "O2;Joost;Smit;joost@exa_mple.nl;joost@example.org",
                                "O3;Inge;Vries;inge@example.123;\u{EF}nge@example.nl"]
        let (result, report) = try importExport(export, in: folder)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let warnings = issues(report, "invalid-email")
        #expect(warnings.count == 4)
        #expect(warnings.contains { $0["line"] as? Int == 2 && $0["column"] as? Int == 4 && ($0["message"] as? String ?? "").contains("punten") })
        #expect(warnings.contains { $0["line"] as? Int == 3 && ($0["message"] as? String ?? "").contains("_") })
        #expect(warnings.contains { $0["line"] as? Int == 4 && $0["column"] as? Int == 4 })
        #expect(warnings.contains { $0["line"] as? Int == 4 && $0["column"] as? Int == 5 })
        let messages = warnings.map { $0["message"] as? String ?? "" }
        #expect(!messages.contains { $0.contains("example") || $0.contains("marieke") }, "no address in a message")
        let usernames = try database(folder).query("SELECT username FROM accounts ORDER BY username") { $0.string(0) ?? "" }
        #expect(usernames == ["joost@example.org", "marieke@example.org"])
    }

    @Test func aNonASCIIDomainIsMailedAndLoggedInAsItsALabel() throws {
        let folder = temporaryFolder("idna")
        var export = MiniExport()
        export["ouders.csv"][1] = "O1;Marieke;Dijk;Marieke@B\u{FC}cher.example;"
        let (result, _) = try importExport(export, in: folder, ["--send-mail"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let db = try database(folder)
        #expect(try db.scalarString("SELECT email FROM parents WHERE key = 'O1'") == "Marieke@B\u{FC}cher.example", "stored as written")
        #expect(try db.scalarString("SELECT username FROM accounts WHERE parent_number = 'O1'") == "marieke@xn--bcher-kva.example")
        let outbox = folder.appendingPathComponent("outbox/new")
        var recipients: [String] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: outbox.path) {
            let mail = try Data(contentsOf: outbox.appendingPathComponent(name))
            recipients += String(decoding: mail, as: UTF8.self).components(separatedBy: "\r\n").filter { $0.hasPrefix("To:") }
        }
        #expect(recipients.contains { $0.contains("marieke@xn--bcher-kva.example") })
        #expect(recipients.allSatisfy { $0.utf8.allSatisfy { $0 < 0x80 } }, "\(recipients)")
    }

    // MARK: Dates

    @Test func aBirthDateAfterTheRunDateIsRejected() throws {
        let folder = temporaryFolder("birth-future")
        try Data(#"{"rules": {"maxRejectedFraction": 0.5}}"#.utf8).write(to: folder.appendingPathComponent("opvangsync.json"))
        var export = MiniExport()
        export["kinderen.csv"][2] = "K2;Daan;;Smit;15-06-2999;M1"
        let (result, report) = try importExport(export, in: folder)
        #expect(result.status == 4, "\(result.stdout)\(result.stderr)")
        let issue = issues(report, "birth-date-in-future").first
        #expect(issue?["line"] as? Int == 3)
        #expect(issue?["column"] as? Int == 5)
        let message = issue?["message"] as? String ?? ""
        #expect(!message.contains("2999"), "a birth date is personal data")
        #expect(try database(folder).scalarInt("SELECT COUNT(*) FROM children WHERE key = 'K2'") == 0)
    }
}
