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
        let imported = try importExport(export, in: folder, ["--send-mail"])
        #expect([0, 4].contains(imported.status), "\(imported.stderr)")
        let messages = server.messages()
        #expect(messages.count == 3)
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
