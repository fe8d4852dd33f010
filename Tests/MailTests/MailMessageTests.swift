import Foundation
import Testing
import TestSupport
@testable import Mail

@Suite struct MailMessageTests {
    let message = MailMessage(
        from: MailAddress(name: "Kinderopvang De Zonnebloem", address: "noreply@zonnebloem.example"),
        to: MailAddress(address: "ouder@example.nl"),
        subject: "Uw account voor het ouderportaal van Kinderopvang Één",
        body: "Beste Zoë,\n\nDe link werkt één keer: https://portaal.example/activeren/\(String(repeating: "x", count: 90))\nGroet = groet \n",
        messageID: "abc-123@zonnebloem.example",
        date: Date(timeIntervalSince1970: 1_795_000_000))

    var text: String { String(decoding: message.rendered(), as: UTF8.self) }

    @Test func headersFollowRFC5322() {
        let head = text.components(separatedBy: "\r\n\r\n")[0]
        #expect(head.contains("Date: "))
        #expect(head.contains("Message-ID: <abc-123@zonnebloem.example>"))
        #expect(head.contains("From: Kinderopvang De Zonnebloem <noreply@zonnebloem.example>"))
        #expect(head.contains("To: ouder@example.nl"))
        #expect(head.contains("MIME-Version: 1.0"))
        #expect(head.contains("Content-Type: text/plain; charset=UTF-8"))
        #expect(head.contains("Content-Transfer-Encoding: quoted-printable"))
        #expect(head.contains("Subject: =?UTF-8?B?"))
    }

    @Test func everyLineEndsInCRLFAndStaysUnder78Characters() {
        let bytes = message.rendered()
        for (index, byte) in bytes.enumerated() where byte == 0x0A {
            #expect(index > 0 && bytes[index - 1] == 0x0D, "bare LF at byte \(index)")
        }
        for line in text.components(separatedBy: "\r\n") { #expect(line.utf8.count <= 78, "\(line)") }
    }

    @Test func theEncodedSubjectDecodesToTheOriginal() {
        let subjectLine = text.components(separatedBy: "\r\n\r\n")[0].components(separatedBy: "Subject: ")[1]
            .components(separatedBy: "\r\nMessage-ID")[0]
        let decoded = subjectLine.components(separatedBy: "\r\n ").map { word -> String in
            let payload = word.dropFirst("=?UTF-8?B?".count).dropLast(2)
            return String(decoding: Data(base64Encoded: String(payload)) ?? Data(), as: UTF8.self)
        }.joined()
        #expect(decoded == message.subject)
    }

    @Test func theQuotedPrintableBodyDecodesToTheOriginal() {
        let body = text.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
        #expect(ReceivedMail.decodeQuotedPrintable(body) == message.body.replacingOccurrences(of: "\n", with: "\r\n"))
        #expect(body.contains("=C3=A9=C3=A9n"), "é is encoded")
        #expect(body.contains("Groet =3D groet=20"), "= and a trailing space are encoded")
    }

    @Test func displayNamesWithDiacriticsAreEncoded() {
        #expect(MailAddress(name: "Crèche Één", address: "a@b.nl").headerValue.hasPrefix("=?UTF-8?B?"))
        #expect(MailAddress(parsing: "Kinderopvang <noreply@x.nl>") == MailAddress(name: "Kinderopvang", address: "noreply@x.nl"))
        #expect(MailAddress(parsing: "noreply@x.nl") == MailAddress(address: "noreply@x.nl"))
        #expect(MailAddress(parsing: "geen adres") == nil)
    }

    @Test func onlyLoopbackServersMayGoWithoutTLS() {
        #expect(SMTPSettings(url: "smtp://127.0.0.1:2525").isLoopback)
        #expect(SMTPSettings(url: "smtp://localhost:25").isLoopback)
        #expect(SMTPSettings(url: "smtp://[::1]:25").isLoopback)
        #expect(!SMTPSettings(url: "smtp://mail.example.nl:587").isLoopback)
        #expect(!SMTPSettings(url: "smtp://10.0.0.5:25").isLoopback)
        // Names that only look like a loopback literal resolve wherever DNS says.
        for host in ["127.evil.example", "127.0.0.1.evil.example", "127.1", "127.0.0.256", "127.0.0.01", "0127.0.0.1",
                     "127.0.0.1.", "127..0.1", "127.0.0.1x", "localhost.evil.example", "[::ffff:127.0.0.1]", "128.0.0.1"] {
            #expect(!SMTPSettings(url: "smtp://\(host):25").isLoopback, "\(host)")
        }
        for host in ["127.0.0.1", "127.255.255.254", "127.0.10.1", "LOCALHOST", "[0:0:0:0:0:0:0:1]"] {
            #expect(SMTPSettings(url: "smtp://\(host):25").isLoopback, "\(host)")
        }
        #expect(throws: SMTPTransport.InvalidSettings.self) { try SMTPTransport(settings: SMTPSettings(url: "http://x")) }
    }

    /// Every header line of `rendered`: a header of its own or a folded continuation (starting with a space).
    func headerLines(_ rendered: [UInt8]) -> [String] {
        let text = String(decoding: rendered, as: UTF8.self)
        return text.components(separatedBy: "\r\n\r\n")[0].components(separatedBy: "\r\n")
    }

    @Test func noHeaderValueCanCarryALineBreak() {
        let injected = "x\r\nBcc: spy@evil.example\r\n\r\nbody"
        let hostile = MailMessage(
            from: MailAddress(name: "Mini" + injected, address: "noreply@mini.example" + injected),
            to: MailAddress(name: injected, address: "ouder@example.nl\nBcc: spy@evil.example"),
            subject: "Welkom" + injected, body: "Beste ouder,\n",
            messageID: "abc@mini.example>\r\nBcc: spy@evil.example", date: Date(timeIntervalSince1970: 1_795_000_000),
            extraHeaders: [("Auto-Submitted", "auto-generated" + injected), ("X-Bad\r\nBcc", "spy@evil.example")])
        let lines = headerLines(hostile.rendered())
        let names = lines.filter { !$0.hasPrefix(" ") }.map { $0.prefix { $0 != ":" }.lowercased() }
        #expect(!names.contains("bcc"), "\(lines)")
        #expect(Set(names).isSubset(of: ["date", "from", "to", "subject", "message-id", "mime-version", "content-type",
                                         "content-transfer-encoding", "auto-submitted", "x-badbcc"]), "\(names)")
        for line in lines {
            #expect(!line.contains("\r") && !line.contains("\n"), "\(line.debugDescription)")
            #expect(line.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7F }, "a control character: \(line.debugDescription)")
        }
        // Encoded words may not smuggle a line break either: what a client decodes is one line.
        for line in lines where line.contains("=?UTF-8?B?") {
            for word in line.components(separatedBy: "=?UTF-8?B?").dropFirst() {
                let decoded = String(decoding: Data(base64Encoded: String(word.prefix { $0 != "?" })) ?? Data(), as: UTF8.self)
                #expect(!decoded.contains("\r") && !decoded.contains("\n"), "\(decoded.debugDescription)")
            }
        }
        #expect(String(decoding: hostile.rendered(), as: UTF8.self).components(separatedBy: "\r\n\r\n")[1] == "Beste ouder,\r\n",
                "the header ends where the message's own headers end")
    }

    @Test func anAddressWithALineBreakIsNoAddress() {
        #expect(MailAddress(parsing: "Kinderopvang <noreply@mini.example\r\nBcc: spy@evil.example>") == nil)
        #expect(MailAddress(parsing: "Kinderopvang\r\nBcc: spy@evil.example\r\nX: <noreply@mini.example>") == nil)
        #expect(MailAddress(parsing: "noreply@mini.example\n") == nil)
        #expect(MailAddress(parsing: "Kinderopvang\t<noreply@mini.example>") == nil)
    }

    @Test func aTransportURLIsReadStrictlyAndRebuiltFromWhatWasChecked() throws {
        let endpoint = try SMTPEndpoint(parsing: "smtp://mail.example.nl:587")
        #expect(endpoint.url == "smtp://mail.example.nl:587/")
        #expect(endpoint.displayName == "smtp://mail.example.nl:587")
        #expect(try SMTPEndpoint(parsing: "smtps://[::1]:465/opvang.example").url == "smtps://[::1]:465/opvang.example")
        #expect(try SMTPEndpoint(parsing: "smtp://127.0.0.1").port == nil)
        for url in ["smtp://user:Geheim-1@mail.example.nl:587", "smtp://Geheim-1@mail.example.nl", "smtps://u:Geheim 1@mail.example.nl",
                    "smtp://u:Geheim-1@", "smtp://mail.example.nl:587@evil.example", "smtp://u:Geheim-1%40x@mail.example.nl"] {
            let error = #expect(throws: SMTPEndpoint.Invalid.self) { try SMTPEndpoint(parsing: url) }
            #expect(error?.reason.contains("user name or password") == true, "\(url)")
            #expect(error?.reason.contains("Geheim") == false)
            let transportError = #expect(throws: SMTPTransport.InvalidSettings.self) { try SMTPTransport(settings: SMTPSettings(url: url)) }
            #expect(transportError?.description.contains("Geheim") == false)
        }
        for url in ["smtp://", "smtp://mail.example.nl:0", "smtp://mail.example.nl:99999", "smtp://mail example.nl",
                    "smtp://mail.example.nl:587?auth=x", "smtp://mail.example.nl#x", "smtp://mail\\example.nl", "smtp://[::1",
                    "smtp://[nope]:25", "smtp://mail.example.nl/a/b", "smtp://mail.exämple.nl", "smtp://mail.example.nl\r\n"] {
            #expect(throws: SMTPEndpoint.Invalid.self, "\(url)") { try SMTPEndpoint(parsing: url) }
        }
    }

    @Test func printingTheSettingsNeverShowsThePassword() {
        let settings = SMTPSettings(url: "smtp://mail.example.nl:587", username: "opvangsync", password: "Geheim-42")
        var dumped = ""
        dump(settings, to: &dumped)
        for text in [settings.description, String(describing: settings), String(reflecting: settings), dumped] {
            #expect(!text.contains("Geheim"), "\(text)")
        }
    }

    @Test func aServerReplyIsStoredWithoutAddressesOrControlCharacters() {
        let reply = SMTPReply(code: 550, text: "5.1.1 <ouder@example.nl>: Recipient address rejected\r\nX: \u{7}")
        #expect(reply.description == "550 5.1.1 <adres>: Recipient address rejected X:")
    }

    @Test func aMaildirGetsOneCompleteFilePerMessage() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("maildir-\(UUID().uuidString)").path
        try MaildirTransport(directory: folder).send(message)
        let files = try FileManager.default.contentsOfDirectory(atPath: folder + "/new")
        #expect(files.count == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder + "/tmp").isEmpty)
        #expect(FileManager.default.contents(atPath: folder + "/new/" + files[0]) == Data(message.rendered()))
    }

    @Test func aServerThatIsDownIsATemporaryFailure() {
        // Port 1 on loopback: nothing listens, the connection is refused at once.
        let transport = try? SMTPTransport(settings: SMTPSettings(url: "smtp://127.0.0.1:1"))
        let error = #expect(throws: DeliveryError.self) { try transport?.send(message) }
        if case .temporary = error {} else { Issue.record("expected a temporary failure, got \(String(describing: error))") }
    }
}
