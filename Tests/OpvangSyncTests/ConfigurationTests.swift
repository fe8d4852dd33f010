import Testing
@testable import OpvangSync

func parseConfiguration(_ json: String) throws(Configuration.Failure) -> Configuration {
    let root: JSONNode
    do { root = try JSONParser.parse(Array(json.utf8)) } catch { throw Configuration.Failure(path: "c.json", key: nil, reason: "\(error)") }
    return try Configuration(root: root, path: "/etc/opvangsync/c.json")
}

@Suite struct ConfigurationTests {
    @Test func withoutAFileEverythingHasAWorkingDefault() throws {
        let settings = try Configuration.builtIn.settings(for: nil)
        #expect(settings.database == "portal.sqlite")
        #expect(settings.reports == "reports")
        #expect(settings.mapping == nil)
        #expect(settings.rules == Rules())
        #expect(settings.rules.inviteDaysBeforeStart == 42)
        #expect(settings.rules.maxRemovalFraction == 0.10)
        #expect(settings.rules.maxRemovalFractionPerLocation == 0.5)
    }

    @Test func theShareThatHoldsALocationIsARuleOfItsOwn() throws {
        let configuration = try parseConfiguration("""
            { "rules": { "maxRemovalFractionPerLocation": 0.8 },
              "organisations": [ { "id": "keten", "rules": { "maxRemovalFractionPerLocation": 0.25 } }, { "id": "ander" } ] }
            """)
        #expect(try configuration.settings(for: "keten").rules.maxRemovalFractionPerLocation == 0.25)
        #expect(try configuration.settings(for: "ander").rules.maxRemovalFractionPerLocation == 0.8)
        #expect(try configuration.settings(for: "ander").rules.maxRemovalFraction == 0.10, "the overall guard is its own rule")
        for bad in [#"1.5"#, #"-0.1"#, #""half""#] {
            let error = #expect(throws: Configuration.Failure.self) {
                try parseConfiguration(#"{"rules": {"maxRemovalFractionPerLocation": \#(bad)}}"#)
            }
            #expect(error?.key == "rules.maxRemovalFractionPerLocation", "\(bad)")
        }
    }

    @Test func organisationsOverrideTheDefaultsAndFillInTheirId() throws {
        let configuration = try parseConfiguration("""
            { "database": "/var/lib/opvangsync/{org}.sqlite", "reports": "/var/lib/opvangsync/reports",
              "rules": { "maxExportAgeHours": 30 },
              "organisations": [ { "id": "zonnebloem", "inbox": "/srv/exports/{org}", "rules": { "maxRemovalFraction": 0.2 } } ] }
            """)
        let settings = try configuration.settings(for: "zonnebloem")
        #expect(settings.database == "/var/lib/opvangsync/zonnebloem.sqlite")
        #expect(settings.inbox == "/srv/exports/zonnebloem")
        #expect(settings.rules.maxRemovalFraction == 0.2)
        #expect(settings.rules.maxExportAgeHours == 30)
        #expect(throws: Configuration.Failure.self) { try configuration.settings(for: "onbekend") }
    }

    @Test func relativePathsAreResolvedAgainstTheFilesFolder() throws {
        let configuration = try parseConfiguration(#"{"database": "data/portal.sqlite"}"#)
        #expect(try configuration.settings(for: nil).database == "/etc/opvangsync/data/portal.sqlite")
    }

    @Test func anUnknownKeyIsNamed() {
        let error = #expect(throws: Configuration.Failure.self) { try parseConfiguration(#"{"databse": "x"}"#) }
        #expect(error?.key == "databse")
        let nested = #expect(throws: Configuration.Failure.self) {
            try parseConfiguration(#"{"organisations": [{"id": "a", "inboks": "/x"}]}"#)
        }
        #expect(nested?.key == "organisations[0].inboks")
    }

    @Test func mailSettingsAreReadAndAPasswordIsNeverAccepted() throws {
        let configuration = try parseConfiguration("""
            { "mail": { "transport": "smtp://mail.example.nl:587", "from": "Kinderopvang <noreply@example.nl>",
                        "username": "opvangsync", "passwordFile": "smtp-password", "maxAttempts": 4 } }
            """)
        let mail = try configuration.settings(for: nil).mail
        #expect(mail.transport == "smtp://mail.example.nl:587")
        #expect(mail.passwordFile == "/etc/opvangsync/smtp-password")
        #expect(mail.maxAttempts == 4)
        let password = #expect(throws: Configuration.Failure.self) {
            try parseConfiguration(#"{"mail": {"password": "geheim"}}"#)
        }
        #expect(password?.key == "mail.password")
        #expect(password?.description.contains("geheim") == false, "the secret is not echoed")
        let transport = #expect(throws: Configuration.Failure.self) { try parseConfiguration(#"{"mail": {"transport": "http://x"}}"#) }
        #expect(transport?.key == "mail.transport")
        let template = #expect(throws: Configuration.Failure.self) { try parseConfiguration(#"{"templates": {"welkom": "x.txt"}}"#) }
        #expect(template?.key == "templates.welkom")
    }

    @Test func aBadValueIsNamed() {
        let fraction = #expect(throws: Configuration.Failure.self) { try parseConfiguration(#"{"rules": {"maxRemovalFraction": 1.5}}"#) }
        #expect(fraction?.key == "rules.maxRemovalFraction")
        let days = #expect(throws: Configuration.Failure.self) { try parseConfiguration(#"{"rules": {"inviteDaysBeforeStart": "zes weken"}}"#) }
        #expect(days?.key == "rules.inviteDaysBeforeStart")
        let rule = #expect(throws: Configuration.Failure.self) { try parseConfiguration(#"{"rules": {"maxRemoval": 0.1}}"#) }
        #expect(rule?.key == "rules.maxRemoval")
        let id = #expect(throws: Configuration.Failure.self) { try parseConfiguration(#"{"organisations": [{"inbox": "/x"}]}"#) }
        #expect(id?.key == "organisations[0].id")
    }
}

@Suite struct ReportWriterTests {
    @Test(arguments: ["=SUM(A1)", "+31612345678", "-1+1", "@cmd", "\tx"])
    func formulaCellsAreMadeInert(_ value: String) {
        #expect(SpreadsheetCSV.cell(value).hasPrefix("'") || SpreadsheetCSV.cell(value).hasPrefix("\"'"))
    }

    @Test func cellsWithSeparatorsQuotesOrLineBreaksAreQuoted() {
        #expect(SpreadsheetCSV.cell("a;b") == "\"a;b\"")
        #expect(SpreadsheetCSV.cell("zei \"hoi\"") == "\"zei \"\"hoi\"\"\"")
        #expect(SpreadsheetCSV.cell("twee\r\nregels") == "\"twee\r\nregels\"")
        #expect(SpreadsheetCSV.cell("gewoon") == "gewoon")
        #expect(SpreadsheetCSV.cell(nil) == "")
        #expect(SpreadsheetCSV.cell("") == "")
        #expect(SpreadsheetCSV.cell("=1;\"2\"") == "\"'=1;\"\"2\"\"\"", "inert and quoted: the quote first, then the apostrophe")
        #expect(SpreadsheetCSV.cell("Zoë, Noël") == "\"Zoë, Noël\"")
        #expect(SpreadsheetCSV.cell("alleen\nLF") == "\"alleen\nLF\"")
        #expect(SpreadsheetCSV.document(header: ["a", "b"], rows: [["=x", nil], ["c;d", "e"]]) == "\u{FEFF}a;b\r\n'=x;\r\n\"c;d\";e\r\n")
    }

    @Test func markdownTableCellsCannotBreakTheTable() {
        #expect(MarkdownReport.escape("a|b\nc") == "a\\|b c")
    }

    /// Plain text comes back as it is; one character that means something, anywhere in otherwise plain
    /// text, is still escaped (the escapers skip their character-by-character pass for plain text).
    @Test func theEscapersPassPlainTextAndCatchEachSpecialCharacter() {
        let plain = "Kinderopvang De Zonnebloem, groep 3 (08:00-18:00) #12 = 100% ok; a/b {c} $d @e ^f"
        #expect(HTMLReport.escape(plain) == plain)
        #expect(MarkdownReport.escape(plain) == plain)
        let html: [(String, String)] = [("<", "&lt;"), (">", "&gt;"), ("&", "&amp;"), ("\"", "&quot;"), ("'", "&#39;"),
                                        ("\n", " "), ("\t", " "), ("\u{7F}", ""), ("\u{1B}", ""), ("\u{202E}", ""), ("é", "é")]
        for (character, escaped) in html {
            #expect(HTMLReport.escape("a\(character)b") == "a\(escaped)b", "\(character.unicodeScalars.map(\.value))")
        }
        let markdown: [(String, String)] = [("<", "&lt;"), (">", "&gt;"), ("&", "&amp;"), ("\\", "\\\\"), ("`", "\\`"),
                                            ("*", "\\*"), ("_", "\\_"), ("[", "\\["), ("]", "\\]"), ("|", "\\|"), ("~", "\\~"),
                                            ("\r", " "), ("\u{7F}", ""), ("\u{0}", ""), ("\u{200F}", ""), ("ë", "ë")]
        for (character, escaped) in markdown {
            #expect(MarkdownReport.escape("a\(character)b") == "a\(escaped)b", "\(character.unicodeScalars.map(\.value))")
        }
        #expect(MarkdownReport.escape("zie https://voorbeeld.nl of www.voorbeeld.nl") == "zie https&#58;//voorbeeld.nl of www&#46;voorbeeld.nl")
    }
}

@Suite struct PathsTests {
    @Test func theFolderOfAPath() {
        #expect(Paths.parent(of: "r") == "")
        #expect(Paths.parent(of: "reports/mini") == "reports")
        #expect(Paths.parent(of: "a/b/") == "a")
        #expect(Paths.parent(of: "/srv") == "/")
        #expect(Paths.parent(of: "/") == "/")
        #expect(Paths.parent(of: "/var//lib/x") == "/var//lib")
    }
}
