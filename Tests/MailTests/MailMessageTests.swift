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
        #expect(throws: SMTPTransport.InvalidSettings.self) { try SMTPTransport(settings: SMTPSettings(url: "http://x")) }
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
