import Foundation
import OpvangSync
import PortalStore
import TestSupport
import Testing

/// SPEC §5 "Trust boundary" for the mail server and §8: the server is untrusted, the configuration is
/// trusted but checked. Through the built binary and a real SMTP server on loopback that misbehaves on
/// purpose (see Tests/Fixtures/smtp_server.py).
@Suite(.serialized) struct MailServerTrustTests {
    func configure(_ folder: URL, transport: String, from: String? = "Kinderopvang Mini <noreply@mini.example>",
                   extra: String = "") throws {
        let fromMember = from.map { ", \"from\": \"\($0)\"" } ?? ""
        try Data("""
            { "mail": { "transport": "\(transport)"\(fromMember) \(extra) } }
            """.utf8).write(to: folder.appendingPathComponent("opvangsync.json"))
    }

    func database(_ folder: URL) throws -> Database {
        try Database(path: folder.appendingPathComponent("portal.sqlite").path)
    }

    func importExport(_ export: MiniExport, in folder: URL, _ extra: [String] = []) throws -> ProcessResult {
        let path = try export.write(to: folder.appendingPathComponent("export-\(UUID().uuidString)"))
        return try opvangsync(["import", path.path, "--as-of", "2026-11-22"] + extra, in: folder)
    }

    /// Queues the Mini export's three invitations with the mail going nowhere yet.
    func queueInvitations(in folder: URL, _ export: MiniExport = MiniExport()) throws {
        try configure(folder, transport: "maildir:\(folder.appendingPathComponent("unused").path)")
        let imported = try importExport(export, in: folder)
        #expect(imported.status == 0, "\(imported.stderr)")
    }

    /// The Mini export with two more families: five invitations.
    func fiveFamilies() -> MiniExport {
        var export = MiniExport()
        export["kinderen.csv"] += ["K4;Lotte;;Jansen;01-01-2022;M1", "K5;Sem;;Bos;01-03-2023;M1"]
        export["ouders.csv"] += ["O4;Sanne;Jansen;sanne@example.nl;", "O5;Pieter;Bos;pieter@example.nl;"]
        export["relaties.csv"] += ["K4;O4;Ouder 1", "K5;O5;Ouder 1"]
        export["plaatsingen.csv"] += ["P4;K4;G1;KDV;52 weken;01-09-2025;;07:30-18:00;;", "P5;K5;G1;KDV;52 weken;01-09-2025;;;08:00-17:00;"]
        return export
    }

    func count(_ db: Database, _ sql: String) throws -> Int { try db.scalarInt(sql) ?? -1 }

    // MARK: 1. Plaintext only to a literal loopback address

    @Test func plaintextGoesOnlyToALiteralLoopbackAddress() throws {
        let folder = temporaryFolder("loopback")
        let server = try SMTPServer(in: folder)   // offers no STARTTLS
        try queueInvitations(in: folder)
        // `127.1` reaches 127.0.0.1, but it is no dotted-quad literal: only a name that looks like one,
        // as `127.evil.example` does. Such a host must get TLS or nothing.
        try configure(folder, transport: "smtp://127.1:\(server.port)")
        let sent = try opvangsync(["mail", "send"], in: folder)
        #expect(server.messages().isEmpty, "mail went out in the clear to a host that is not a loopback literal")
        #expect(sent.status == 1, "\(sent.stdout)\(sent.stderr)")
        #expect(sent.stderr.contains("STARTTLS"), "\(sent.stderr)")
        let db = try database(folder)
        #expect(try count(db, "SELECT COUNT(*) FROM outbox WHERE status = 'queued'") == 3)
        #expect(try count(db, "SELECT COUNT(*) FROM invitations WHERE revoked_at IS NOT NULL") == 0)

        // The literal itself may go in the clear.
        try configure(folder, transport: "smtp://127.0.0.1:\(server.port)")
        try db.run("UPDATE outbox SET next_attempt_at = '2000-01-01T00:00:00Z'")
        let literal = try opvangsync(["mail", "send"], in: folder)
        #expect(literal.status == 0, "\(literal.stdout)\(literal.stderr)")
        #expect(server.messages().count == 3)
        server.stop()
    }

    // MARK: 2. No credentials in URLs

    @Test func credentialsInTheTransportURLAreAConfigurationErrorAndNeverPrinted() throws {
        let folder = temporaryFolder("userinfo")
        let server = try SMTPServer(in: folder)
        try queueInvitations(in: folder)
        for transport in ["smtp://opvang:Geheim-123@127.0.0.1:\(server.port)",
                          "smtps://opvang:Geheim-123@mail.example.nl:465",
                          "smtp://opvang:Geheim 123@mail.example.nl:587",
                          "smtp://Geheim-123@mail.example.nl:587"] {
            try configure(folder, transport: transport)
            for arguments in [["mail", "send"], ["accounts", "resend", "O1"]] {
                let result = try opvangsync(arguments, in: folder)
                #expect(result.status == 2, "\(transport) \(arguments): \(result.stdout)\(result.stderr)")
                #expect(result.stderr.contains("mail.transport"), "the message names the key: \(result.stderr)")
                #expect(!(result.stdout + result.stderr).contains("Geheim"), "the password is printed: \(result.stderr)")
            }
            let imported = try importExport(MiniExport(), in: folder, ["--send-mail", "--force", "--reason", "controle"])
            #expect(imported.status == 2, "\(imported.stdout)\(imported.stderr)")
            #expect(!(imported.stdout + imported.stderr).contains("Geheim"))
        }
        #expect(server.messages().isEmpty)
        #expect(server.connections() == 0)
        server.stop()
    }

    // MARK: 3. Only a 5xx to RCPT TO is a bounce

    @Test func aRefusedSenderStopsTheBatchAndIsNoBounce() throws {
        let folder = temporaryFolder("sender")
        let server = try SMTPServer(in: folder, mode: .rejectingSender)
        try queueInvitations(in: folder)
        try configure(folder, transport: "smtp://127.0.0.1:\(server.port)")
        let sent = try opvangsync(["mail", "send"], in: folder)
        #expect(sent.status == 1, "a refused sender is a transport failure: \(sent.stdout)\(sent.stderr)")
        #expect(sent.stdout.contains("0 bounced"), "\(sent.stdout)")
        #expect(sent.stderr.contains("553 5.7.1 Sender address rejected"), "the output says what the server answered: \(sent.stderr)")
        let db = try database(folder)
        #expect(try count(db, "SELECT COUNT(*) FROM outbox WHERE status = 'bounced'") == 0)
        #expect(try count(db, "SELECT COUNT(*) FROM outbox WHERE status = 'queued'") == 3)
        #expect(try count(db, "SELECT COUNT(*) FROM invitations WHERE revoked_at IS NOT NULL") == 0, "no invitation is revoked")
        #expect(try count(db, "SELECT SUM(attempts) FROM outbox") == 1, "the batch stopped at the first refusal")

        // The same through `import --send-mail`: the import is applied, the report says what the server said.
        try db.run("UPDATE outbox SET next_attempt_at = '2000-01-01T00:00:00Z'")
        let imported = try importExport(MiniExport(), in: folder, ["--send-mail", "--force", "--reason", "controle"])
        #expect(imported.status == 0, "\(imported.stderr)")
        let report = try reportJSON(of: imported, in: folder)
        #expect((report["mail"] as? [String: Int])?["bounced"] == 0)
        let issues = report["issues"] as? [[String: Any]] ?? []
        #expect(issues.contains { $0["code"] as? String == "mail-not-sent" && ($0["message"] as? String ?? "").contains("553 5.7.1") },
                "\(issues)")
        #expect(try count(db, "SELECT COUNT(*) FROM outbox WHERE status = 'queued'") == 3)
        #expect(try count(db, "SELECT COUNT(*) FROM invitations WHERE revoked_at IS NOT NULL") == 0)
        server.stop()
    }

    @Test func aRefusedLoginStopsTheBatchAndIsNoBounce() throws {
        let folder = temporaryFolder("login")
        let server = try SMTPServer(in: folder, mode: .rejectingLogin)
        try queueInvitations(in: folder)
        try configure(folder, transport: "smtp://127.0.0.1:\(server.port)", extra: #", "username": "opvangsync""#)
        let sent = try opvangsync(["mail", "send"], in: folder, environment: ["OPVANGSYNC_SMTP_PASSWORD": "Wachtwoord-789"])
        #expect(sent.status == 1, "\(sent.stdout)\(sent.stderr)")
        #expect(sent.stderr.contains("535 5.7.8"), "the output says what the server answered: \(sent.stderr)")
        #expect(!(sent.stdout + sent.stderr).contains("Wachtwoord-789"))
        #expect(server.connections() == 1, "one refused login is enough to stop")
        let db = try database(folder)
        #expect(try count(db, "SELECT COUNT(*) FROM outbox WHERE status = 'queued'") == 3)
        #expect(try count(db, "SELECT COUNT(*) FROM invitations WHERE revoked_at IS NOT NULL") == 0)
        #expect(try db.scalarString("SELECT group_concat(last_error) FROM outbox")?.contains("Wachtwoord") != true)
        server.stop()
    }

    @Test func aRefusedMessageStopsTheBatchAndIsNoBounce() throws {
        let folder = temporaryFolder("data")
        let server = try SMTPServer(in: folder, mode: .rejectingMessage)
        try queueInvitations(in: folder)
        try configure(folder, transport: "smtp://127.0.0.1:\(server.port)")
        let sent = try opvangsync(["mail", "send"], in: folder)
        #expect(sent.status == 1, "\(sent.stdout)\(sent.stderr)")
        #expect(sent.stderr.contains("554 5.7.1 Message rejected"), "\(sent.stderr)")
        let db = try database(folder)
        #expect(try count(db, "SELECT COUNT(*) FROM outbox WHERE status = 'bounced'") == 0)
        #expect(try count(db, "SELECT COUNT(*) FROM outbox WHERE status = 'queued'") == 3)
        #expect(try count(db, "SELECT COUNT(*) FROM invitations WHERE revoked_at IS NOT NULL") == 0)
        #expect(try count(db, "SELECT SUM(attempts) FROM outbox") == 1)
        server.stop()
    }

    @Test func onlyTheRefusedRecipientBounces() throws {
        let folder = temporaryFolder("one-rcpt")
        let server = try SMTPServer(in: folder, mode: .rejectingRecipients(["joost@example.nl"]))
        try queueInvitations(in: folder)
        try configure(folder, transport: "smtp://127.0.0.1:\(server.port)")
        let sent = try opvangsync(["mail", "send"], in: folder)
        #expect(sent.stdout.contains("2 sent") && sent.stdout.contains("1 bounced"), "\(sent.stdout)\(sent.stderr)")
        #expect(sent.status == 4, "a bounce is a data problem for customer service, as rejected rows are")
        #expect(Set(server.messages().compactMap { $0.headers["to"] }) == ["marieke@example.nl", "inge@example.nl"])
        let db = try database(folder)
        #expect(try db.scalarString("SELECT group_concat(account) FROM outbox WHERE status = 'bounced'") == "O2")
        #expect(try db.scalarString("SELECT group_concat(account) FROM invitations WHERE revoked_at IS NOT NULL") == "O2")
        // The server's reply names the address; issue messages never hold one (docs/report.md).
        #expect(try db.scalarString("SELECT last_error FROM outbox WHERE status = 'bounced'")?.hasPrefix("550 5.1.1") == true)
        #expect(try db.scalarString("SELECT last_error FROM outbox WHERE status = 'bounced'")?.contains("joost@") == false)
        let next = try importExport(MiniExport(), in: folder, ["--force", "--reason", "volgende nacht"])
        let issues = try reportJSON(of: next, in: folder)["issues"] as? [[String: Any]] ?? []
        let bounce = issues.first { $0["code"] as? String == "mail-bounced" }
        #expect(bounce?["key"] as? String == "O2")
        #expect((bounce?["message"] as? String)?.contains("joost@") == false, "\(String(describing: bounce))")
        server.stop()
    }

    // MARK: 4. `mail send` always finishes

    @Test func aRefusedConnectionExitsNonZeroAndKeepsTheMail() throws {
        let folder = temporaryFolder("refused")
        let gone = try SMTPServer(in: folder)
        let deadPort = gone.port
        gone.stop()
        try queueInvitations(in: folder)
        try configure(folder, transport: "smtp://127.0.0.1:\(deadPort)")
        let sent = try opvangsync(["mail", "send"], in: folder)
        #expect(sent.status == 1, "undelivered because of the transport: \(sent.stdout)\(sent.stderr)")
        #expect(sent.stderr.contains("niet bereikbaar"), "\(sent.stderr)")
        #expect(try count(try database(folder), "SELECT COUNT(*) FROM outbox WHERE status = 'queued'") == 3)
    }

    @Test func aServerThatNeverAnswersStopsAfterThreeConnections() throws {
        let folder = temporaryFolder("silent")
        let server = try SMTPServer(in: folder, mode: .silent)
        try queueInvitations(in: folder, fiveFamilies())
        try configure(folder, transport: "smtp://127.0.0.1:\(server.port)", extra: #", "timeoutSeconds": 2"#)
        let sent = try opvangsync(["mail", "send"], in: folder)
        #expect(sent.status == 1, "\(sent.stdout)\(sent.stderr)")
        #expect(server.connections() == 3, "three failed connections in a row end the batch")
        let db = try database(folder)
        #expect(try count(db, "SELECT COUNT(*) FROM outbox WHERE status = 'queued'") == 5)
        #expect(try count(db, "SELECT COUNT(*) FROM outbox WHERE attempts = 1") == 3)
        #expect(try count(db, "SELECT COUNT(*) FROM outbox WHERE attempts = 0") == 2, "the rest was not tried")
        server.stop()
    }

    @Test func shortTimeoutsFromTheConfigurationBoundASilentServer() throws {
        let folder = temporaryFolder("timeouts")
        let server = try SMTPServer(in: folder, mode: .silent)
        try queueInvitations(in: folder, fiveFamilies())
        try configure(folder, transport: "smtp://127.0.0.1:\(server.port)",
                      extra: #", "connectTimeoutSeconds": 1, "replyTimeoutSeconds": 1"#)
        let started = Date()
        let sent = try opvangsync(["mail", "send"], in: folder)
        #expect(sent.status == 1, "\(sent.stdout)\(sent.stderr)")
        #expect(Date().timeIntervalSince(started) < 60, "a generous bound: three 1-second timeouts")
        #expect(server.connections() == 3)
        server.stop()
    }

    @Test func aServerThatStopsAnsweringMidSessionIsBoundByTheReplyTimeout() throws {
        let folder = temporaryFolder("stall")
        let server = try SMTPServer(in: folder, mode: .stallingAfterGreeting)
        try queueInvitations(in: folder, fiveFamilies())
        // Only the reply timeout is short: a message alone may take 600 s, the batch as long.
        try configure(folder, transport: "smtp://127.0.0.1:\(server.port)",
                      extra: #", "replyTimeoutSeconds": 1, "timeoutSeconds": 600, "batchDeadlineSeconds": 3600"#)
        let started = Date()
        let sent = try opvangsync(["mail", "send"], in: folder)
        #expect(Date().timeIntervalSince(started) < 60, "a generous bound: three 1-second reply timeouts")
        #expect(sent.status == 1, "\(sent.stdout)\(sent.stderr)")
        #expect(sent.stderr.contains("niet op tijd"), "\(sent.stderr)")
        #expect(server.connections() == 3)
        #expect(try count(try database(folder), "SELECT COUNT(*) FROM outbox WHERE status = 'queued'") == 5)
        server.stop()
    }

    @Test func theBatchDeadlineEndsMailSend() throws {
        let folder = temporaryFolder("deadline")
        let server = try SMTPServer(in: folder, mode: .silent)
        try queueInvitations(in: folder, fiveFamilies())
        // Each connection alone could wait 30 s; the batch may take 2.
        try configure(folder, transport: "smtp://127.0.0.1:\(server.port)",
                      extra: #", "connectTimeoutSeconds": 30, "replyTimeoutSeconds": 30, "batchDeadlineSeconds": 2"#)
        let started = Date()
        let sent = try opvangsync(["mail", "send"], in: folder)
        #expect(Date().timeIntervalSince(started) < 25, "the deadline, not the 30-second timeouts, ended it")
        #expect(sent.status == 1, "\(sent.stdout)\(sent.stderr)")
        #expect(sent.stderr.contains("mail.batchDeadlineSeconds"), "\(sent.stderr)")
        #expect(server.connections() == 1)
        #expect(try count(try database(folder), "SELECT COUNT(*) FROM outbox WHERE status = 'queued'") == 5)
        server.stop()
    }

    @Test func badTimeoutSettingsAreConfigurationErrorsNamingTheKey() throws {
        let folder = temporaryFolder("bad-timeouts")
        try queueInvitations(in: folder)
        for (key, value) in [("connectTimeoutSeconds", "0"), ("replyTimeoutSeconds", "-1"), ("batchDeadlineSeconds", "\"lang\""),
                             ("connectTimeoutSeconds", "1.5"), ("batchDeadlineSeconds", "100000")] {
            try configure(folder, transport: "smtp://127.0.0.1:25", extra: ", \"\(key)\": \(value)")
            let result = try opvangsync(["mail", "send"], in: folder)
            #expect(result.status == 2, "\(key) \(value)")
            #expect(result.stderr.contains("mail.\(key)"), "\(result.stderr)")
        }
    }

    // MARK: 5. One connection for a batch

    @Test func oneConnectionCarriesTheWholeBatch() throws {
        let folder = temporaryFolder("reuse")
        let server = try SMTPServer(in: folder)
        try queueInvitations(in: folder, fiveFamilies())
        try configure(folder, transport: "smtp://127.0.0.1:\(server.port)")
        let sent = try opvangsync(["mail", "send"], in: folder)
        #expect(sent.status == 0, "\(sent.stdout)\(sent.stderr)")
        #expect(server.messages().count == 5)
        #expect(server.connections() == 1, "each message opened its own connection")
        server.stop()

        // The same over STARTTLS: the TLS session is set up once.
        let (certificate, key) = try makeCertificate(in: folder)
        let tls = try SMTPServer(in: folder, mode: .startTLS(certificate: certificate, key: key))
        let db = try database(folder)
        try db.run("UPDATE outbox SET status = 'queued', next_attempt_at = '2000-01-01T00:00:00Z'")
        try db.run("UPDATE invitations SET sent_at = NULL")
        try configure(folder, transport: "smtp://127.0.0.1:\(tls.port)", extra: ", \"caFile\": \"\(certificate.path)\"")
        let overTLS = try opvangsync(["mail", "send"], in: folder)
        #expect(overTLS.status == 0, "\(overTLS.stdout)\(overTLS.stderr)")
        #expect(tls.messages().count == 5)
        #expect(tls.messages().allSatisfy { $0.headers["x-test-tls"] == "yes" })
        #expect(tls.connections() == 1)
        tls.stop()
    }

    // MARK: 6. No CR or LF in a header

    @Test func aLineBreakInMailFromIsAConfigurationError() throws {
        let folder = temporaryFolder("from-crlf")
        let server = try SMTPServer(in: folder)
        try queueInvitations(in: folder)
        for from in [#"Kinderopvang <noreply@mini.example\r\nBcc: spy@evil.example>"#,
                     #"Kinderopvang\r\nBcc: spy@evil.example\r\nX: <noreply@mini.example>"#,
                     #"noreply@mini.example\nBcc:spy@evil.example"#] {
            try configure(folder, transport: "smtp://127.0.0.1:\(server.port)", from: from)
            let result = try opvangsync(["mail", "send"], in: folder)
            #expect(result.status == 2, "\(from): \(result.stdout)\(result.stderr)")
            #expect(result.stderr.contains("mail.from"), "\(result.stderr)")
        }
        #expect(server.messages().isEmpty)
        server.stop()
    }

    @Test func anOrganisationNameWithALineBreakNeverReachesAHeader() throws {
        let folder = temporaryFolder("org-crlf")
        let server = try SMTPServer(in: folder)
        // No mail.from: the organisation's name from the manifest becomes the sender's display name.
        try configure(folder, transport: "smtp://127.0.0.1:\(server.port)", from: nil)
        var export = MiniExport()
        export.organisationName = "Mini\r\nBcc: spy@evil.example\r\n\r\nnep"
        // The manifest is refused as a whole: the name is untrusted text bound for a header.
        let imported = try importExport(export, in: folder, ["--send-mail"])
        #expect(imported.status == 1, "\(imported.stderr)")
        #expect(imported.stderr.contains("organisation.name"), "\(imported.stderr)")
        let messages = server.messages()
        #expect(messages.isEmpty)
        for message in messages {
            #expect(message.headers["x-test-rcpt"]?.contains("evil") == false, "an extra recipient")
            let head = String(decoding: message.raw, as: UTF8.self).components(separatedBy: "\r\n\r\n")[0]
            #expect(!head.lowercased().contains("\nbcc:"), "an injected header")
            for value in [message.subject, ReceivedMailWords.decode(message.headers["from"] ?? "")] {
                #expect(!value.contains("\r") && !value.contains("\n"), "a line break in a header value: \(value.debugDescription)")
            }
            #expect(message.subject.contains("Mini"))
        }
        server.stop()
    }

    @Test func aPortalAddressWithALineBreakNeverReachesTheSender() throws {
        let folder = temporaryFolder("portal-crlf")
        let server = try SMTPServer(in: folder)
        // No mail.from: the sender is noreply@ the portal's host, and the manifest names the portal.
        try configure(folder, transport: "smtp://127.0.0.1:\(server.port)", from: nil)
        var export = MiniExport()
        export.portalURL = "https://mini.example%0D%0ABcc%3Aspy.evil.example/"
        // The portal URL is refused before anything is applied: its host is no host name.
        let imported = try importExport(export, in: folder, ["--send-mail"])
        #expect(imported.status == 1, "\(imported.stderr)")
        #expect(imported.stderr.contains("portal-url-invalid"), "\(imported.stderr)")
        let messages = server.messages()
        #expect(messages.isEmpty)
        for message in messages {
            let head = String(decoding: message.raw, as: UTF8.self).components(separatedBy: "\r\n\r\n")[0]
            #expect(!head.lowercased().contains("\nbcc:"), "an injected header")
            #expect(message.headers["from"]?.hasSuffix("<noreply@opvangsync.invalid>") == true, "\(message.headers["from"] ?? "")")
        }
        server.stop()
    }
}

/// RFC 2047 decoding of any header, as a mail client shows it.
enum ReceivedMailWords {
    static func decode(_ text: String) -> String {
        var output = ""
        var rest = Substring(text)
        while let start = rest.range(of: "=?UTF-8?B?"), let end = rest[start.upperBound...].range(of: "?=") {
            let before = rest[..<start.lowerBound]
            if !before.allSatisfy({ $0 == " " }) { output += before }
            output += String(decoding: Data(base64Encoded: String(rest[start.upperBound..<end.lowerBound])) ?? Data(), as: UTF8.self)
            rest = rest[end.upperBound...]
        }
        return output + rest
    }
}
