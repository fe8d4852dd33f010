import Foundation
import OpvangSync
import PortalStore
import TestSupport
import Testing

/// Issue 15, "Bounces that arrive later": `opvangsync mail bounces` reads RFC 3464 reports from a maildir,
/// matches each to the message it reports on, and customer service sees the result in `accounts show` and
/// the next import report. The formats of Postfix, Exim and Exchange Online (Tests/Fixtures/bounces), and
/// one bounce made by a real Postfix on this machine.
@Suite(.serialized) struct BounceTests {
    func configure(_ folder: URL, transport: String? = nil, from: String = "Kinderopvang Mini <noreply@mini.example>",
                   returnPath: String? = "bounces@mini.example", bounces: URL) throws {
        let transport = transport ?? "maildir:\(folder.appendingPathComponent("outbox").path)"
        try Data("""
            { "mail": { "transport": "\(transport)", "from": "\(from)",
                        \(returnPath.map { "\"returnPath\": \"\($0)\"," } ?? "")
                        "bounces": "maildir:\(bounces.path)" } }
            """.utf8).write(to: folder.appendingPathComponent("opvangsync.json"))
    }

    func database(_ folder: URL) throws -> Database { try Database(path: folder.appendingPathComponent("portal.sqlite").path) }

    /// A bounce of the fixture `name` for the message of `parent` in the outbox.
    func bounce(_ name: String, for parent: String, in folder: URL, byTag: Bool, recipient: String? = nil) throws -> Data {
        let db = try database(folder)
        let row = try #require(try db.query("SELECT message_id, recipient, return_tag FROM outbox WHERE account = ? ORDER BY id DESC LIMIT 1",
                                            [.text(parent)]) { ($0.string(0) ?? "", $0.string(1) ?? "", $0.string(2)) }.first)
        let to = byTag ? "bounces+\(row.2 ?? "none")@mini.example" : "noreply@mini.example"
        return Data(try DeliveryReportFixture.text(name, to: to, recipient: recipient ?? row.1, messageID: row.0).utf8)
    }

    func mailbox(_ folder: URL) throws -> URL {
        let box = folder.appendingPathComponent("bounces")
        for sub in ["new", "cur", "tmp"] { try FileManager.default.createDirectory(at: box.appendingPathComponent(sub), withIntermediateDirectories: true) }
        return box
    }

    /// Four families: O4 (Bas) is K3's second parent with an address of his own.
    func families() -> MiniExport {
        var export = MiniExport()
        export["ouders.csv"].append("O4;Bas;Vries;bas@example.nl;")
        export["relaties.csv"].append("K3;O4;Ouder 2")
        return export
    }

    func outbox(_ folder: URL, _ parent: String) throws -> (status: String, code: String?, diagnostic: String?, delayed: String?) {
        try #require(try database(folder).query("""
            SELECT status, bounce_status, bounce_diagnostic, delay_status FROM outbox WHERE account = ? ORDER BY id DESC LIMIT 1
            """, [.text(parent)]) { ($0.string(0) ?? "", $0.string(1), $0.string(2), $0.string(3)) }.first)
    }

    @Test func theBouncesOfEachServerAreMatchedOnceAndTheRestStaysWhereItIs() throws {
        let folder = temporaryFolder("bounces")
        let box = try mailbox(folder)
        try configure(folder, bounces: box)
        #expect(try night(families(), "2026-11-22", in: folder, ["--send-mail"]).0.status == 0)
        #expect(try database(folder).scalarInt("SELECT COUNT(*) FROM outbox WHERE status = 'sent' AND return_tag IS NOT NULL") == 4)

        let new = box.appendingPathComponent("new"), cur = box.appendingPathComponent("cur")
        try bounce("postfix.eml", for: "O1", in: folder, byTag: true).write(to: new.appendingPathComponent("1700000001.V1.postfix"))
        try bounce("exim.eml", for: "O2", in: folder, byTag: false).write(to: new.appendingPathComponent("1700000002.V2.exim"))
        try bounce("exchange-online.eml", for: "O4", in: folder, byTag: false).write(to: cur.appendingPathComponent("1700000003.V3.exchange:2,S"))
        try bounce("postfix-delay.eml", for: "O3", in: folder, byTag: true).write(to: new.appendingPathComponent("1700000004.V4.delay"))
        // What must stay: an autoreply, a forged report (O1's Message-ID, another recipient), a guessed tag,
        // one too large, a link to a file outside, a FIFO, and a name with a line break.
        try Data("From: x@y.example\r\nSubject: Afwezig\r\n\r\nIk ben er niet.\r\n".utf8).write(to: new.appendingPathComponent("1700000005.V5.autoreply"))
        try bounce("exim.eml", for: "O1", in: folder, byTag: false, recipient: "iemand@anders.example").write(to: new.appendingPathComponent("1700000006.V6.forged"))
        let guessed = String(decoding: try bounce("postfix.eml", for: "O1", in: folder, byTag: true), as: UTF8.self)
            .replacingOccurrences(of: #"bounces\+[a-z2-7]{16}@"#, with: "bounces+aaaaaaaaaaaaaaaa@", options: .regularExpression)
            .replacingOccurrences(of: #"Message-ID: <[^>]*>"#, with: "Message-ID: <unknown@mini.example>", options: .regularExpression)
        try Data(guessed.utf8).write(to: new.appendingPathComponent("1700000007.V7.guessed"))
        try Data(try bounce("postfix.eml", for: "O3", in: folder, byTag: true) + Data(repeating: 0x41, count: 1_100_000))
            .write(to: new.appendingPathComponent("1700000008.V8.huge"))
        let secret = folder.appendingPathComponent("secret.eml")
        try bounce("postfix.eml", for: "O3", in: folder, byTag: true).write(to: secret)
        try FileManager.default.createSymbolicLink(atPath: new.appendingPathComponent("1700000009.V9.link").path, withDestinationPath: secret.path)
        #expect(mkfifo(new.appendingPathComponent("1700000010.V10.fifo").path, 0o600) == 0)
        try bounce("postfix.eml", for: "O3", in: folder, byTag: true).write(to: new.appendingPathComponent("1700000011.V11\nline"))

        let first = try opvangsync(["mail", "bounces"], in: folder)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("11 berichten; 3 onbestelbaar, 1 vertraagd, 0 zonder gevolg; 7 niet herkend (blijven staan)"), "\(first.stdout)")
        #expect(first.stdout.contains("ouder O1: uitnodiging aan marieke@example.nl onbestelbaar (5.1.1)"))

        // Each permanent failure with its status and what the receiving server said; the delay only noted.
        let o1 = try outbox(folder, "O1"), o2 = try outbox(folder, "O2"), o3 = try outbox(folder, "O3"), o4 = try outbox(folder, "O4")
        #expect(o1.status == "bounced" && o1.code == "5.1.1" && o1.diagnostic?.contains("User unknown in virtual mailbox table") == true)
        #expect(o2.status == "bounced" && o2.code == "5.0.0" && o2.diagnostic?.contains("550 5.1.1") == true)
        #expect(o4.status == "bounced" && o4.code == "5.1.10" && o4.diagnostic?.contains("RESOLVER.ADR.RecipientNotFound") == true)
        #expect(o3.status == "sent" && o3.delayed == "4.4.1" && o3.code == nil)
        #expect(try database(folder).scalarInt("SELECT COUNT(*) FROM invitations WHERE revoked_reason = 'bounced'") == 3)

        // Dealt with: moved aside; the rest stays as it was, the linked file untouched.
        let processed = try FileManager.default.contentsOfDirectory(atPath: box.appendingPathComponent(".Verwerkt/cur").path).sorted()
        #expect(processed == ["1700000001.V1.postfix", "1700000002.V2.exim", "1700000003.V3.exchange:2,S", "1700000004.V4.delay"])
        let left = try FileManager.default.contentsOfDirectory(atPath: new.path).sorted()
        #expect(left.count == 7, "\(left)")
        #expect(try String(contentsOf: secret, encoding: .utf8).contains("Final-Recipient"))

        // Never counted twice: the same report again (another name) changes nothing and is moved aside too.
        try FileManager.default.copyItem(at: box.appendingPathComponent(".Verwerkt/cur/1700000001.V1.postfix"),
                                         to: new.appendingPathComponent("1700000012.V12.again"))
        let second = try opvangsync(["mail", "bounces"], in: folder)
        #expect(second.stdout.contains("8 berichten; 0 onbestelbaar, 0 vertraagd, 1 zonder gevolg; 7 niet herkend"), "\(second.stdout)")
        #expect(try database(folder).scalarInt("SELECT COUNT(*) FROM account_events WHERE kind = 'bounce'") == 3)

        // Customer service sees it.
        let shown = try opvangsync(["accounts", "show", "O1"], in: folder)
        #expect(shown.stdout.contains("status:              onbestelbaar"), "\(shown.stdout)")
        #expect(shown.stdout.contains("onbestelbaar (bounce) op"), "\(shown.stdout)")
        #expect(shown.stdout.contains("5.1.1 — de mailserver van de ontvanger meldt: 550 5.1.1 <adres>: Recipient address rejected: User unknown in virtual mailbox table"))
        #expect(shown.stdout.contains("ingetrokken op") && shown.stdout.contains("de mail was onbestelbaar"))
        let delayed = try opvangsync(["accounts", "show", "O3"], in: folder)
        #expect(delayed.stdout.contains("vertraging gemeld op") && delayed.stdout.contains("(4.4.1)"), "\(delayed.stdout)")
        let list = try opvangsync(["accounts", "list", "--status", "onbestelbaar", "--format", "csv"], in: folder)
        #expect(list.stdout.contains("O1;") && list.stdout.contains("O2;") && list.stdout.contains("O4;") && !list.stdout.contains("O3;"))
        let history = try opvangsync(["history", "parent", "O4"], in: folder)
        #expect(history.stdout.contains("e-mail onbestelbaar") && history.stdout.contains("5.1.10"), "\(history.stdout)")

        // The next report lists them, once.
        let (next, report) = try night(families(), "2026-11-23", in: folder)
        #expect(next.status == 0, "\(next.stderr)")
        #expect((report["mail"] as? [String: Int])?["bounced"] == 3)
        let undelivered = report["undeliveredMail"] as? [[String: Any]] ?? []
        #expect(Set(undelivered.compactMap { $0["statusCode"] as? String }) == ["5.1.1", "5.0.0", "5.1.10"])
        let markdown = try String(contentsOf: folder.appendingPathComponent("reports/mini/\(report["runId"] as? String ?? "").md"), encoding: .utf8)
        #expect(markdown.contains("3 e-mails kwamen niet aan"), "\(markdown)")
        #expect(markdown.contains("| `O4` | uitnodiging | bas@example.nl | onbestelbaar (bounce) (5.1.10) | 550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup |"), "\(markdown)")
        let (_, later) = try night(families(), "2026-11-24", in: folder)
        #expect((later["mail"] as? [String: Int])?["bounced"] == 0)
    }

    @Test func withoutAReturnPathTheMessageIDAndRecipientMatch() throws {
        let folder = temporaryFolder("bounces-msgid")
        let box = try mailbox(folder)
        try configure(folder, returnPath: nil, bounces: box)
        #expect(try night(families(), "2026-11-22", in: folder, ["--send-mail"]).0.status == 0)
        #expect(try database(folder).scalarInt("SELECT COUNT(*) FROM outbox WHERE return_tag IS NOT NULL") == 0)
        try bounce("postfix.eml", for: "O2", in: folder, byTag: false).write(to: box.appendingPathComponent("new/1.postfix"))
        let result = try opvangsync(["mail", "bounces", "--quiet"], in: folder)
        #expect(result.stdout.contains("1 onbestelbaar"), "quiet, but something bounced: \(result.stdout)")
        #expect(try outbox(folder, "O2").status == "bounced")
    }

    @Test func withoutABounceMailboxNothingIsRead() throws {
        let folder = temporaryFolder("bounces-none")
        #expect(try night(MiniExport(), "2026-11-22", in: folder).0.status == 0)
        let quiet = try opvangsync(["mail", "bounces", "--quiet"], in: folder)
        #expect(quiet.status == 0 && quiet.stdout.isEmpty && quiet.stderr.isEmpty)
        try Data(#"{ "mail": { "bounces": "pop3://x" } }"#.utf8).write(to: folder.appendingPathComponent("opvangsync.json"))
        let bad = try opvangsync(["mail", "bounces"], in: folder)
        #expect(bad.status == 2 && bad.stderr.contains("mail.bounces"))
        try Data(#"{ "mail": { "bounces": "imaps://user:geheim@imap.example/INBOX" } }"#.utf8).write(to: folder.appendingPathComponent("opvangsync.json"))
        let password = try opvangsync(["mail", "bounces"], in: folder)
        #expect(password.status == 2 && !password.stderr.contains("geheim"))
    }

    @Test func aRealPostfixBouncesMailForAnUnknownUserAndTheBounceIsMatchedEndToEnd() throws {
        #expect(getuid() == 0, "this test runs a Postfix of its own, whose master needs root (as in CI)")
        guard getuid() == 0 else { return }
        let folder = temporaryFolder("bounces-postfix")
        let postfix = try PostfixServer(in: folder)
        defer { postfix.stop() }
        try configure(folder, transport: "smtp://127.0.0.1:\(postfix.port)", from: "Kinderopvang Mini <noreply@bounce.test>",
                      returnPath: "bounces@bounce.test", bounces: postfix.bounces)
        var export = MiniExport()
        export["ouders.csv"] = ["Oudernummer;Voornaam;Achternaam;E-mail;E-mail 2",
                                "O1;Marieke;Dijk;niemand@local.test;", "O2;Joost;Smit;joost@delivered.test;", "O3;Inge;Vries;;inge@delivered.test"]
        let (imported, _) = try night(export, "2026-11-22", in: folder, ["--send-mail"])
        #expect(imported.status == 0, "\(imported.stderr)")
        _ = try postfix.waitForMessages(in: postfix.inbox, count: 2)
        let bounces = try postfix.waitForMessages(in: postfix.bounces, count: 1)
        let dsn = try String(contentsOf: bounces[0], encoding: .utf8)
        #expect(dsn.contains("multipart/report") && dsn.contains("Status: 5.1.1"), "a DSN from Postfix: \(dsn)")

        let read = try opvangsync(["mail", "bounces"], in: folder)
        #expect(read.status == 0, "\(read.stderr)")
        #expect(read.stdout.contains("1 onbestelbaar"), "\(read.stdout)\n\(postfix.log)")
        let o1 = try outbox(folder, "O1")
        #expect(o1.status == "bounced" && o1.code == "5.1.1" && o1.diagnostic?.contains("unknown user") == true, "\(o1)")
        #expect(try outbox(folder, "O2").status == "sent")
        let shown = try opvangsync(["accounts", "show", "niemand@local.test"], in: folder)
        #expect(shown.stdout.contains("onbestelbaar") && shown.stdout.contains("unknown user"), "\(shown.stdout)")
        let (_, report) = try night(export, "2026-11-23", in: folder)
        let listed = (report["undeliveredMail"] as? [[String: Any]] ?? []).first
        #expect(listed?["parent"] as? String == "O1" && listed?["statusCode"] as? String == "5.1.1")

        // Without a return path the bounce goes to the From address and is matched by its Message-ID.
        try configure(folder, transport: "smtp://127.0.0.1:\(postfix.port)", from: "Kinderopvang Mini <noreply@bounce.test>",
                      returnPath: nil, bounces: postfix.bounces)
        let resend = try opvangsync(["accounts", "resend", "O1", "--reason", "adres nagevraagd"], in: folder)
        #expect(resend.status == 0, "\(resend.stderr)")
        _ = try postfix.waitForMessages(in: postfix.bounces, count: 1)
        let again = try opvangsync(["mail", "bounces"], in: folder)
        #expect(again.stdout.contains("1 onbestelbaar"), "\(again.stdout)\n\(postfix.log)")
        #expect(try database(folder).scalarInt("SELECT COUNT(*) FROM outbox WHERE account = 'O1' AND status = 'bounced'") == 2)
    }
}

extension BounceTests {
    @Test func theBouncesAreReadOverIMAPWithTheCredentialsFromAFile() throws {
        #expect(getuid() == 0, "this test runs a Dovecot of its own, whose master needs root (as in CI)")
        guard getuid() == 0 else { return }
        let folder = temporaryFolder("bounces-imap")
        let dovecot = try DovecotServer(in: folder)
        defer { dovecot.stop() }
        let passwordFile = folder.appendingPathComponent("imap-password")
        try Data((dovecot.password + "\n").utf8).write(to: passwordFile)
        func configure(password file: URL) throws {
            try Data("""
                { "mail": { "transport": "maildir:\(folder.appendingPathComponent("outbox").path)", "returnPath": "bounces@mini.example",
                            "bounces": "imaps://127.0.0.1:\(dovecot.port)/INBOX", "bouncesUsername": "\(dovecot.username)",
                            "bouncesPasswordFile": "\(file.path)", "caFile": "\(dovecot.certificate.path)" } }
                """.utf8).write(to: folder.appendingPathComponent("opvangsync.json"))
        }
        try configure(password: passwordFile)
        #expect(try night(families(), "2026-11-22", in: folder, ["--send-mail"]).0.status == 0)
        try dovecot.deliver(try bounce("exchange-online.eml", for: "O4", in: folder, byTag: true), name: "1700000001.V1.bounce")
        try dovecot.deliver(Data("From: x@y.example\r\nSubject: Afwezig\r\n\r\nIk ben er niet.\r\n".utf8), name: "1700000002.V2.autoreply")

        let read = try opvangsync(["mail", "bounces"], in: folder)
        #expect(read.status == 0, "\(read.stderr)\n\(dovecot.log)")
        #expect(read.stdout.contains("2 berichten; 1 onbestelbaar, 0 vertraagd, 0 zonder gevolg; 1 niet herkend"), "\(read.stdout)")
        #expect(try outbox(folder, "O4").code == "5.1.10")
        // The report moved to the folder Verwerkt on the server; the autoreply stays in the inbox.
        #expect(dovecot.messages(in: processedFolderName).count == 1, "\(dovecot.log)")
        #expect(dovecot.messages(in: "").count == 1)
        let again = try opvangsync(["mail", "bounces"], in: folder)
        #expect(again.stdout.contains("1 bericht; 0 onbestelbaar"), "\(again.stdout)")

        // A wrong password: exit 1, said plainly, and no password in the output.
        let wrong = folder.appendingPathComponent("wrong-password")
        try Data("niet-het-wachtwoord\n".utf8).write(to: wrong)
        try configure(password: wrong)
        let refused = try opvangsync(["mail", "bounces"], in: folder)
        #expect(refused.status == 1 && refused.stderr.contains("refused the login"), "\(refused.stderr)")
        #expect(!(refused.stdout + refused.stderr).contains("niet-het-wachtwoord") && !(refused.stdout + refused.stderr).contains(dovecot.password))
    }

    var processedFolderName: String { "Verwerkt" }

    @Test func linksPlantedInTheMaildirAreNeverFollowed() throws {
        let folder = temporaryFolder("bounces-links")
        let box = try mailbox(folder)
        try configure(folder, bounces: box)
        #expect(try night(families(), "2026-11-22", in: folder, ["--send-mail"]).0.status == 0)
        // The folder for processed reports is a link to a folder elsewhere: nothing is moved into it.
        let elsewhere = folder.appendingPathComponent("elsewhere")
        try FileManager.default.createDirectory(at: elsewhere.appendingPathComponent("cur"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: box.appendingPathComponent(".Verwerkt").path, withDestinationPath: elsewhere.path)
        try bounce("postfix.eml", for: "O1", in: folder, byTag: true).write(to: box.appendingPathComponent("new/1.bounce"))
        let first = try opvangsync(["mail", "bounces"], in: folder)
        #expect(first.status == 0 && first.stdout.contains("1 onbestelbaar"), "\(first.stdout)\(first.stderr)")
        #expect(first.stderr.contains("not moved aside") && first.stderr.contains("symbolic link"), "\(first.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: elsewhere.appendingPathComponent("cur").path).isEmpty)
        #expect(FileManager.default.fileExists(atPath: box.appendingPathComponent("new/1.bounce").path))
        // Left in place, it is remembered: the next pass does not count it again.
        let second = try opvangsync(["mail", "bounces"], in: folder)
        #expect(second.stdout.contains("0 onbestelbaar, 0 vertraagd, 1 zonder gevolg"), "\(second.stdout)")
        #expect(try database(folder).scalarInt("SELECT COUNT(*) FROM account_events WHERE kind = 'bounce'") == 1)

        // new/ itself a link (to a folder of reports someone else wants counted): refused, nothing read.
        try FileManager.default.removeItem(at: box.appendingPathComponent("new"))
        let planted = folder.appendingPathComponent("planted")
        try FileManager.default.createDirectory(at: planted, withIntermediateDirectories: true)
        try bounce("exim.eml", for: "O2", in: folder, byTag: false).write(to: planted.appendingPathComponent("2.bounce"))
        try FileManager.default.createSymbolicLink(atPath: box.appendingPathComponent("new").path, withDestinationPath: planted.path)
        let refused = try opvangsync(["mail", "bounces"], in: folder)
        #expect(refused.status == 1 && refused.stderr.contains("symbolic link"), "\(refused.stderr)")
        #expect(try outbox(folder, "O2").status == "sent")
    }
}

/// The bounce templates of Tests/Fixtures/bounces, filled in.
enum DeliveryReportFixture {
    static func text(_ name: String, to: String, recipient: String, messageID: String) throws -> String {
        try String(contentsOf: Package.root.appendingPathComponent("Tests/Fixtures/bounces/\(name)"), encoding: .utf8)
            .replacingOccurrences(of: "{{TO}}", with: to).replacingOccurrences(of: "{{RECIPIENT}}", with: recipient)
            .replacingOccurrences(of: "{{MESSAGE_ID}}", with: messageID)
    }
}
