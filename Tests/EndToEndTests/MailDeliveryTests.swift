import Foundation
import OpvangSync
import PortalStore
import TestSupport
import Testing

/// SPEC §8 and the account rules of §4, through the built binary and a real SMTP server on loopback.
@Suite(.serialized) struct MailDeliveryTests {
    func configure(_ folder: URL, transport: String, extra: String = "") throws {
        try Data("""
            { "mail": { "transport": "\(transport)", "from": "Kinderopvang Mini <noreply@mini.example>" \(extra) } }
            """.utf8).write(to: folder.appendingPathComponent("opvangsync.json"))
    }

    func database(_ folder: URL) throws -> Database {
        try Database(path: folder.appendingPathComponent("portal.sqlite").path)
    }

    func importExport(_ export: MiniExport, in folder: URL, _ extra: [String] = []) throws -> ProcessResult {
        let path = try export.write(to: folder.appendingPathComponent("export-\(UUID().uuidString)"))
        return try opvangsync(["import", path.path, "--as-of", "2026-11-22"] + extra, in: folder)
    }

    /// Every byte opvangsync wrote or printed, for "the token appears nowhere" checks.
    func everythingWritten(_ folder: URL, outputs: [ProcessResult]) throws -> Data {
        var all = Data()
        let enumerator = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil)
        while let url = enumerator?.nextObject() as? URL {
            // The delivered mail itself carries the link: that is where it belongs.
            if url.path.contains("/received-") { continue }
            if let data = FileManager.default.contents(atPath: url.path) { all.append(data) }
        }
        for output in outputs { all.append(Data((output.stdout + output.stderr).utf8)) }
        return all
    }

    @Test func invitationsArriveOverSMTPAndTheirLinkMatchesTheStoredHash() throws {
        let folder = temporaryFolder("smtp")
        let server = try SMTPServer(in: folder)
        try configure(folder, transport: "smtp://127.0.0.1:\(server.port)")
        let imported = try importExport(MiniExport(), in: folder)
        #expect(imported.status == 0, "\(imported.stderr)")
        let report = try reportJSON(of: imported, in: folder)
        #expect((report["mail"] as? [String: Int])?["queued"] == 3)
        #expect((report["accounts"] as? [String: Int])?["created"] == 3)
        #expect(server.messages().isEmpty, "import without --send-mail only queues")

        let sent = try opvangsync(["mail", "send"], in: folder)
        #expect(sent.status == 0, "\(sent.stdout)\(sent.stderr)")
        #expect(sent.stdout.contains("3 sent"))
        let messages = server.messages()
        #expect(messages.count == 3)
        #expect(Set(messages.compactMap { $0.headers["to"] }) == ["marieke@example.nl", "joost@example.nl", "inge@example.nl"])

        let db = try database(folder)
        var tokens: [String] = []
        for message in messages {
            #expect(message.headers["date"] != nil)
            #expect(message.headers["message-id"]?.hasSuffix("@mini.example>") == true)
            #expect(message.headers["from"] == "Kinderopvang Mini <noreply@mini.example>")
            #expect(message.headers["content-type"] == "text/plain; charset=UTF-8")
            #expect(message.subject == "Uw account voor het ouderportaal van Mini")
            for name in ["Marieke", "Joost", "Inge"] { #expect(!message.subject.contains(name)) }
            #expect(message.body.contains("Beste "))
            #expect(message.body.contains("Uw gebruikersnaam is uw e-mailadres: \(message.headers["to"] ?? "?")"))
            #expect(message.body.contains("De link werkt één keer"))
            let token = try #require(message.activationToken)
            #expect(token.count >= 22)
            #expect(message.body.contains("https://mini.example/activeren/\(token)"))
            // The portal can check the link: the SHA-256 of the token is stored, open and not expired.
            let hash = SHA256.hex(of: Array(token.utf8))
            let open = try db.scalarInt("""
                SELECT COUNT(*) FROM invitations WHERE token_hash = ? AND revoked_at IS NULL AND used_at IS NULL
                AND expires_at > strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '+13 days')
                """, [.text(hash)])
            #expect(open == 1)
            tokens.append(token)
        }
        #expect(messages.first { $0.headers["to"] == "inge@example.nl" }?.body.contains("Beste Inge Vries,") == true)

        // Again: nothing more is sent, and a re-import queues nothing.
        let again = try opvangsync(["mail", "send"], in: folder)
        let reimport = try importExport(MiniExport(), in: folder, ["--force", "--reason", "controle", "--send-mail"])
        #expect((try reportJSON(of: reimport, in: folder)["mail"] as? [String: Int])?["queued"] == 0)
        #expect(server.messages().count == 3, "each invitation is sent exactly once")

        let written = try everythingWritten(folder, outputs: [imported, sent, again, reimport])
        for token in tokens {
            #expect(written.range(of: Data(token.utf8)) == nil, "the token text is stored or logged somewhere")
        }
        server.stop()
    }

    @Test func startTLSAndImplicitTLSWithASelfSignedCertificate() throws {
        let folder = temporaryFolder("tls")
        let (certificate, key) = try makeCertificate(in: folder)
        let starttls = try SMTPServer(in: folder, mode: .startTLS(certificate: certificate, key: key))
        try configure(folder, transport: "smtp://127.0.0.1:\(starttls.port)", extra: ", \"caFile\": \"\(certificate.path)\"")
        #expect(try importExport(MiniExport(), in: folder, ["--send-mail"]).status == 0)
        #expect(starttls.messages().count == 3)
        #expect(starttls.messages().allSatisfy { $0.headers["x-test-tls"] == "yes" })
        starttls.stop()

        // A certificate nobody vouches for is refused: the mail waits rather than going out unverified.
        let untrusted = try SMTPServer(in: folder, mode: .startTLS(certificate: certificate, key: key))
        try configure(folder, transport: "smtp://127.0.0.1:\(untrusted.port)")
        let resend = try opvangsync(["accounts", "resend", "O1"], in: folder)
        #expect(resend.status == 1)
        #expect(untrusted.messages().isEmpty)
        untrusted.stop()

        let smtps = try SMTPServer(in: folder, mode: .implicitTLS(certificate: certificate, key: key))
        try configure(folder, transport: "smtps://127.0.0.1:\(smtps.port)", extra: ", \"caFile\": \"\(certificate.path)\"")
        try database(folder).run("UPDATE outbox SET next_attempt_at = '2000-01-01T00:00:00Z' WHERE status = 'queued'")
        let sent = try opvangsync(["mail", "send"], in: folder)
        #expect(sent.stdout.contains("1 sent"), "\(sent.stdout)\(sent.stderr)")
        #expect(smtps.messages().count == 1)
        #expect(smtps.messages().first?.headers["x-test-tls"] == "yes")
        smtps.stop()
    }

    @Test func aRefusedRecipientIsABounceReportedOnceInTheNextReport() throws {
        let folder = temporaryFolder("bounce")
        let server = try SMTPServer(in: folder, mode: .rejecting)
        try configure(folder, transport: "smtp://127.0.0.1:\(server.port)")
        #expect(try importExport(MiniExport(), in: folder).status == 0)
        let sent = try opvangsync(["mail", "send"], in: folder)
        #expect(sent.status == 4)
        #expect(sent.stdout.contains("3 bounced"))
        let db = try database(folder)
        #expect(try db.scalarInt("SELECT COUNT(*) FROM outbox WHERE status = 'bounced' AND attempts = 1") == 3, "a 5xx fails at once")
        #expect(try db.scalarString("SELECT last_error FROM outbox LIMIT 1")?.hasPrefix("550") == true)

        let next = try importExport(MiniExport(), in: folder, ["--force", "--reason", "volgende nacht"])
        let report = try reportJSON(of: next, in: folder)
        #expect((report["mail"] as? [String: Int])?["bounced"] == 3)
        let bounces = (report["issues"] as! [[String: Any]]).filter { $0["code"] as? String == "mail-bounced" }
        #expect(Set(bounces.compactMap { $0["key"] as? String }) == ["O1", "O2", "O3"])
        let markdown = try String(contentsOfFile: (try reportJSON(of: next, in: folder)["runId"] as! String).isEmpty ? "" :
            folder.appendingPathComponent("reports/mini/\(report["runId"] as! String).md").path, encoding: .utf8)
        #expect(markdown.contains("geweigerd door de mailserver"))
        let after = try importExport(MiniExport(), in: folder, ["--force", "--reason", "nacht erna"])
        #expect((try reportJSON(of: after, in: folder)["mail"] as? [String: Int])?["bounced"] == 0, "reported once")
        server.stop()
    }

    @Test func aServerThatIsDownLeavesTheMailQueuedForARetryWithNothingLost() throws {
        let folder = temporaryFolder("down")
        let gone = try SMTPServer(in: folder)
        let deadPort = gone.port
        gone.stop()
        try configure(folder, transport: "smtp://127.0.0.1:\(deadPort)")
        let imported = try importExport(MiniExport(), in: folder, ["--send-mail"])
        #expect(imported.status == 0, "the import itself succeeded: \(imported.stderr)")
        let report = try reportJSON(of: imported, in: folder)
        #expect((report["mail"] as? [String: Int])?["sent"] == 0)
        let db = try database(folder)
        #expect(try db.scalarInt("""
            SELECT COUNT(*) FROM outbox WHERE status = 'queued' AND attempts = 1 AND last_error IS NOT NULL
            AND next_attempt_at > strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '+4 minutes')
            """) == 3, "queued again with a delay")
        let early = try opvangsync(["mail", "send"], in: folder)
        #expect(early.stdout.contains("0 sent") && early.stdout.contains("3 waiting"), "not before the delay: \(early.stdout)")

        // The delay has passed and the server is back.
        let server = try SMTPServer(in: folder)
        try configure(folder, transport: "smtp://127.0.0.1:\(server.port)")
        try db.run("UPDATE outbox SET next_attempt_at = '2000-01-01T00:00:00Z'")
        let retried = try opvangsync(["mail", "send"], in: folder)
        #expect(retried.stdout.contains("3 sent"), "\(retried.stdout)\(retried.stderr)")
        #expect(server.messages().count == 3)
        #expect(try db.scalarInt("SELECT COUNT(*) FROM outbox WHERE status = 'sent' AND attempts = 2") == 3)
        server.stop()
    }

    @Test func anAddressChangeBeforeActivationMovesTheInvitation() throws {
        let folder = temporaryFolder("move")
        let server = try SMTPServer(in: folder)
        try configure(folder, transport: "smtp://127.0.0.1:\(server.port)")
        var export = MiniExport()
        #expect(try importExport(export, in: folder, ["--send-mail"]).status == 0)
        let oldToken = try #require(server.messages().first { $0.headers["to"] == "marieke@example.nl" }?.activationToken)

        export["ouders.csv"][1] = "O1;Marieke;Dijk;marieke.dijk@example.nl;"
        export.exportedAt = "2026-11-22T08:00:00+01:00"
        let moved = try importExport(export, in: folder, ["--send-mail"])
        let report = try reportJSON(of: moved, in: folder)
        #expect((report["accounts"] as? [String: Int])?["moved"] == 1)
        let db = try database(folder)
        #expect(try db.scalarString("SELECT username FROM accounts WHERE parent_number = 'O1'") == "marieke.dijk@example.nl")
        #expect(try db.scalarString("SELECT revoked_reason FROM invitations WHERE token_hash = ?",
                                    [.text(SHA256.hex(of: Array(oldToken.utf8)))]) == "address-changed", "the old link stops working")
        #expect(try db.scalarInt("SELECT COUNT(*) FROM invitations WHERE account = 'O1' AND revoked_at IS NULL AND used_at IS NULL") == 1)
        let newMail = try #require(server.messages().first { $0.headers["to"] == "marieke.dijk@example.nl" })
        #expect(newMail.subject == "Uw account voor het ouderportaal van Mini")
        #expect(server.messages().count == 4)
        server.stop()
    }

    @Test func anAddressChangeAfterActivationKeepsThePasswordAndTellsBothAddresses() throws {
        let folder = temporaryFolder("activated")
        let server = try SMTPServer(in: folder)
        try configure(folder, transport: "smtp://127.0.0.1:\(server.port)")
        var export = MiniExport()
        #expect(try importExport(export, in: folder, ["--send-mail"]).status == 0)
        try database(folder).run("""
            UPDATE accounts SET password_hash = '$argon2id$geheim', activated_at = '2026-11-22T09:00:00Z',
                terms_accepted_at = '2026-11-22T09:01:00Z' WHERE parent_number = 'O1'
            """)
        try database(folder).run("UPDATE invitations SET used_at = '2026-11-22T09:00:00Z' WHERE account = 'O1'")

        export["ouders.csv"][1] = "O1;Marieke;Dijk;m.dijk@example.nl;"
        export.exportedAt = "2026-11-22T10:00:00+01:00"
        #expect(try importExport(export, in: folder, ["--send-mail"]).status == 0)
        let db = try database(folder)
        #expect(try db.scalarString("SELECT username || ' ' || password_hash || ' ' || terms_accepted_at FROM accounts WHERE parent_number = 'O1'")
                == "m.dijk@example.nl $argon2id$geheim 2026-11-22T09:01:00Z")
        let notices = server.messages().filter { $0.subject.contains("inlog") || $0.subject.contains("logt") }
        #expect(Set(notices.compactMap { $0.headers["to"] }) == ["marieke@example.nl", "m.dijk@example.nl"])
        #expect(notices.allSatisfy { $0.activationToken == nil }, "no new link: the password stays")
        #expect(try db.scalarInt("SELECT COUNT(*) FROM invitations WHERE account = 'O1'") == 1, "no new invitation")
        server.stop()
    }

    @Test func aNewAddressOfAnotherFamilyIsAConflictAndNothingChanges() throws {
        let folder = temporaryFolder("conflict")
        try configure(folder, transport: "maildir:\(folder.appendingPathComponent("mail").path)")
        var export = MiniExport()
        #expect(try importExport(export, in: folder).status == 0)
        export["ouders.csv"][1] = "O1;Marieke;Dijk;JOOST@example.nl;"
        export.exportedAt = "2026-11-22T10:00:00+01:00"
        let result = try importExport(export, in: folder)
        let report = try reportJSON(of: result, in: folder)
        #expect((report["accounts"] as? [String: Int])?["conflicts"] == 1)
        #expect((report["issues"] as! [[String: Any]]).contains { $0["code"] as? String == "address-conflict" && $0["key"] as? String == "O1" })
        let db = try database(folder)
        #expect(try db.scalarString("SELECT username FROM accounts WHERE parent_number = 'O1'") == "marieke@example.nl")
        #expect(try db.scalarString("SELECT username FROM accounts WHERE parent_number = 'O2'") == "joost@example.nl")
        let list = try opvangsync(["accounts", "list", "--status", "conflict", "--format", "csv"], in: folder)
        #expect(list.stdout.contains("O1;"))
    }

    @Test func parentsSharingAnAddressAndChildrenGetOneAccount() throws {
        let folder = temporaryFolder("shared")
        try configure(folder, transport: "maildir:\(folder.appendingPathComponent("mail").path)")
        var export = MiniExport()
        export["ouders.csv"].append("O4;Bas;Smit;Joost@Example.nl;")
        export["relaties.csv"].append("K2;O4;Ouder 2")
        let result = try importExport(export, in: folder)
        let report = try reportJSON(of: result, in: folder)
        #expect((report["accounts"] as? [String: Int])?["created"] == 3)
        #expect((report["issues"] as! [[String: Any]]).contains { $0["code"] as? String == "shared-address" })
        let show = try opvangsync(["accounts", "show", "O4"], in: folder)
        #expect(show.stdout.contains("Gedeeld account van ouder O2"))
        #expect(show.stdout.contains("gebruikersnaam:      joost@example.nl"))
    }

    @Test func whichColumnAndWhenTheAccountIsMadeShowInAccountsShow() throws {
        let folder = temporaryFolder("show")
        try configure(folder, transport: "maildir:\(folder.appendingPathComponent("mail").path)")
        var export = MiniExport()
        export["plaatsingen.csv"][3] = "P3;K3;G1;KDV;52 weken;04-01-2027;;;08:00-17:00;"   // 43 days ahead
        #expect(try importExport(export, in: folder).status == 0)
        let inge = try opvangsync(["accounts", "show", "O3"], in: folder)
        #expect(inge.stdout.contains("status:              geen account (geen kind in de opvang"))
        export["plaatsingen.csv"][3] = "P3;K3;G1;KDV;52 weken;03-01-2027;;;08:00-17:00;"   // 42 days ahead
        export.exportedAt = "2026-11-22T10:00:00+01:00"
        #expect(try importExport(export, in: folder).status == 0)
        let invited = try opvangsync(["accounts", "show", "inge@example.nl"], in: folder)
        #expect(invited.stdout.contains("status:              uitgenodigd"))
        #expect(invited.stdout.contains("e-mailkolom:         E-mail 2"))
        #expect(invited.stdout.contains("voorwaarden:         niet geaccepteerd"))
        #expect(invited.stdout.contains("K3 Noël de Vries"))
    }

    @Test func aResendKillsThePreviousLink() throws {
        let folder = temporaryFolder("resend")
        let server = try SMTPServer(in: folder)
        try configure(folder, transport: "smtp://127.0.0.1:\(server.port)")
        #expect(try importExport(MiniExport(), in: folder, ["--send-mail"]).status == 0)
        let first = try #require(server.messages().first { $0.headers["to"] == "joost@example.nl" }?.activationToken)
        let resend = try opvangsync(["accounts", "resend", "joost@example.nl"], in: folder)
        #expect(resend.status == 0, "\(resend.stderr)")
        let mails = server.messages().filter { $0.headers["to"] == "joost@example.nl" }
        #expect(mails.count == 2)
        let second = try #require(mails.last?.activationToken)
        #expect(second != first)
        #expect(mails.last?.subject == "Nieuwe link voor het ouderportaal van Mini")
        let db = try database(folder)
        #expect(try db.scalarString("SELECT revoked_reason FROM invitations WHERE token_hash = ?", [.text(SHA256.hex(of: Array(first.utf8)))]) == "resend")
        #expect(try db.scalarInt("SELECT COUNT(*) FROM invitations WHERE token_hash = ? AND revoked_at IS NULL", [.text(SHA256.hex(of: Array(second.utf8)))]) == 1)
        #expect(try db.scalarInt("SELECT COUNT(*) FROM invitations WHERE account = 'O2' AND revoked_at IS NULL AND used_at IS NULL") == 1)
        server.stop()
    }

    @Test func theSampleImportedTwiceSendsEachInvitationExactlyOnce() throws {
        let folder = temporaryFolder("sample-mail")
        let first = try opvangsync(["import", Package.sample("zonnebloem"), "--as-of", "2026-11-22", "--send-mail"], in: folder)
        let invited = (try reportJSON(of: first, in: folder)["accounts"] as? [String: Int])?["invited"] ?? 0
        #expect(invited > 200)
        let second = try opvangsync(["import", Package.sample("zonnebloem"), "--as-of", "2026-11-22", "--force", "--reason", "nogmaals",
                                     "--send-mail"], in: folder)
        #expect(second.status == 0)
        let delivered = try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("outbox/new").path)
        #expect(delivered.count == invited)
        var recipients: [String] = []
        for name in delivered {
            let mail = String(decoding: FileManager.default.contents(atPath: folder.appendingPathComponent("outbox/new/\(name)").path) ?? Data(), as: UTF8.self)
            recipients += mail.components(separatedBy: "\r\n").filter { $0.hasPrefix("To: ") }
        }
        #expect(Set(recipients).count == recipients.count, "no address got two invitations")
    }

    @Test func aDeliveryProblemAfterTheCommitLeavesTheImportAppliedAndTheMailQueued() throws {
        let folder = temporaryFolder("mail-busy")
        try configure(folder, transport: "maildir:\(folder.appendingPathComponent("mail").path)")
        // Another `mail send` is busy with this portal's outbox.
        let held = try RunLock(databasePath: folder.appendingPathComponent("portal.sqlite").path + ".mail")
        let result = try importExport(MiniExport(), in: folder, ["--send-mail"])
        withExtendedLifetime(held) {}
        #expect(result.status == 0, "\(result.stderr)")
        let report = try reportJSON(of: result, in: folder)
        #expect(report["status"] as? String == "applied")
        #expect((report["issues"] as! [[String: Any]]).contains { $0["code"] as? String == "mail-not-sent" })
        #expect(try database(folder).scalarInt("SELECT COUNT(*) FROM outbox WHERE status = 'queued'") == 3)
        let unusable = try importExport(MiniExport(), in: folder, ["--send-mail", "--force", "--reason", "x", "--config", "bad.json"])
        #expect(unusable.status == 2, "a missing configuration file is a usage error before anything runs")
    }

    @Test func dryRunsAndAbortedRunsQueueNoMail() throws {
        let folder = temporaryFolder("nomail")
        let server = try SMTPServer(in: folder)
        try configure(folder, transport: "smtp://127.0.0.1:\(server.port)")
        let dry = try importExport(MiniExport(), in: folder, ["--dry-run", "--send-mail"])
        #expect(dry.status == 0)
        #expect((try reportJSON(of: dry, in: folder)["mail"] as? [String: Int])?["queued"] == 3, "the preview says what would be queued")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("portal.sqlite").path))

        var stale = MiniExport()
        stale.exportedAt = "2026-11-01T23:00:00+01:00"
        let aborted = try importExport(stale, in: folder, ["--send-mail"])
        #expect(aborted.status == 3)
        #expect(try database(folder).scalarInt("SELECT COUNT(*) FROM outbox") == 0)
        #expect(server.messages().isEmpty)
        server.stop()
    }
}
