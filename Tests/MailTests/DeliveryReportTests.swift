import Foundation
@testable import Mail
import TestSupport
import Testing

/// RFC 3464 delivery status notifications as Postfix, Exim and Exchange Online write them, and hostile
/// input in their place: nothing in a bounce mailbox is trusted.
@Suite struct DeliveryReportTests {
    static func fixture(_ name: String, to: String = "bounces+abcdefghijkmnpqr@mini.example",
                        recipient: String = "Jan.Jansen@Ontvanger.example", messageID: String = "f00.0000000007@mini.example") throws -> [UInt8] {
        let text = try String(contentsOf: Package.root.appendingPathComponent("Tests/Fixtures/bounces/\(name)"), encoding: .utf8)
        return Array(text.replacingOccurrences(of: "{{TO}}", with: to).replacingOccurrences(of: "{{RECIPIENT}}", with: recipient)
            .replacingOccurrences(of: "{{MESSAGE_ID}}", with: messageID).replacingOccurrences(of: "\n", with: "\r\n").utf8)
    }

    @Test(arguments: [("postfix.eml", "5.1.1", "550 5.1.1 <adres>: Recipient address rejected: User unknown in virtual mailbox table"),
                      ("exim.eml", "5.0.0", "550 5.1.1 <adres>: Recipient address rejected: User unknown"),
                      ("exchange-online.eml", "5.1.10", "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup")])
    func aPermanentFailureOfEachServerIsRead(file: String, status: String, diagnostic: String) throws {
        let report = try DeliveryReport.parse(Self.fixture(file))
        #expect(report.recipients.count == 1)
        let recipient = try #require(report.recipients.first)
        #expect(recipient.finalRecipient == "jan.jansen@ontvanger.example")
        #expect(recipient.action == .failed && recipient.isPermanentFailure && !recipient.isDelay)
        #expect(recipient.status == status)
        #expect(recipient.diagnostic == diagnostic, "the address is left out of what is kept")
        #expect(report.originalMessageID == "f00.0000000007@mini.example")
        #expect(report.deliveredTo.contains("bounces+abcdefghijkmnpqr@mini.example"))
    }

    @Test func aDelayIsOnlyADelay() throws {
        let report = try DeliveryReport.parse(Self.fixture("postfix-delay.eml"))
        let recipient = try #require(report.recipients.first)
        #expect(recipient.action == .delayed && recipient.isDelay && !recipient.isPermanentFailure)
        #expect(recipient.status == "4.4.1")
        #expect(recipient.diagnostic?.hasPrefix("connect to mailbox.ontvanger.example") == true)
    }

    @Test func theEnhancedCodeOfAReplyIsFound() {
        #expect(DeliveryReport.enhancedCode(in: "550 5.1.1 <adres>: unknown") == "5.1.1")
        #expect(DeliveryReport.enhancedCode(in: "smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound") == "5.1.10")
        #expect(DeliveryReport.enhancedCode(in: "550 no such user") == nil)
        #expect(DeliveryReport.enhancedCode(in: "version 1.2.3") == nil, "class 1 is no status")
    }

    @Test func anOrdinaryMessageIsNoReport() {
        let plain = Array("From: a@b.example\r\nSubject: Out of office\r\n\r\nIk ben op vakantie.\r\n".utf8)
        #expect(throws: DeliveryReport.Unrecognised.self) { try DeliveryReport.parse(plain) }
        // A report without any per-recipient fields.
        let empty = Array("""
            Content-Type: multipart/report; report-type=delivery-status; boundary=x\r
            \r
            --x\r
            Content-Type: message/delivery-status\r
            \r
            Reporting-MTA: dns; x.example\r
            --x--\r
            """.utf8)
        #expect(throws: DeliveryReport.Unrecognised.self) { try DeliveryReport.parse(empty) }
    }

    @Test func headerInjectionAndControlCharactersDoNotSurviveIntoWhatIsKept() throws {
        var bytes = try Self.fixture("exim.eml")
        let text = String(decoding: bytes, as: UTF8.self).replacingOccurrences(
            of: "Diagnostic-Code: smtp; 550 5.1.1",
            with: "Diagnostic-Code: smtp; 550 5.1.1 \u{1B}[2J\u{7}\u{0} evil\rBcc: x@evil.example\u{202E}txt.exe")
        bytes = Array(text.utf8)
        let report = try DeliveryReport.parse(bytes)
        let diagnostic = try #require(report.recipients.first?.diagnostic)
        #expect(diagnostic.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F }, "\(diagnostic)")
        #expect(!diagnostic.contains("x@evil.example"))
        #expect(diagnostic.count <= 300)
        // A Message-ID with a space or a line break in it is none.
        #expect(DeliveryReport.messageIDValue("<a b@c>") == nil)
        #expect(DeliveryReport.messageIDValue("<a\r\nBcc: x@y>") == nil)
        #expect(DeliveryReport.address(typed: "rfc822; <a@b.example>\r\nX: y") == nil)
    }

    @Test func malformedMIMEIsReadAsFarAsItGoesAndNeverHangs() throws {
        // No closing delimiter: the parts up to the end still count.
        var text = String(decoding: try Self.fixture("postfix.eml"), as: UTF8.self)
        text = text.replacingOccurrences(of: "--4A1B2C3D4E.1795480867/mx1.ontvanger.example--", with: "")
        #expect(try DeliveryReport.parse(Array(text.utf8)).recipients.first?.status == "5.1.1")
        // A boundary that never occurs, an empty boundary, no boundary at all.
        for header in ["boundary=nergens", "boundary=\"\"", ""] {
            let message = "Content-Type: multipart/report; report-type=delivery-status; \(header)\r\n\r\n--x\r\nContent-Type: message/delivery-status\r\n\r\n"
            #expect(throws: DeliveryReport.Unrecognised.self) { try DeliveryReport.parse(Array(message.utf8)) }
        }
        // Nesting 10,000 deep: bounded, quick, no stack overflow.
        var deep = ""
        for level in 0..<10_000 { deep += "Content-Type: multipart/mixed; boundary=b\(level)\r\n\r\n--b\(level)\r\n" }
        let started = Date()
        #expect(throws: DeliveryReport.Unrecognised.self) { try DeliveryReport.parse(Array(deep.utf8)) }
        // Many parts and many header fields.
        var wide = "Content-Type: multipart/report; report-type=delivery-status; boundary=w\r\n\r\n"
        for _ in 0..<50_000 { wide += "--w\r\nX: y\r\n\r\nz\r\n" }
        #expect(throws: DeliveryReport.Unrecognised.self) { try DeliveryReport.parse(Array(wide.utf8)) }
        var fields = ""
        for index in 0..<100_000 { fields += "X-\(index): \(String(repeating: "a", count: 50))\r\n" }
        #expect(throws: DeliveryReport.Unrecognised.self) { try DeliveryReport.parse(Array(fields.utf8)) }
        #expect(Date().timeIntervalSince(started) < 20)
    }

    @Test func randomBytesNeverCrashTheReader() {
        var generator = SystemRandomNumberGenerator()
        let seed = try? Self.fixture("exchange-online.eml")
        for round in 0..<400 {
            var bytes = seed ?? []
            // Damage the real report in random places, or make up noise.
            if round % 2 == 0 {
                for _ in 0..<Int.random(in: 1...40, using: &generator) where !bytes.isEmpty {
                    bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
                }
                bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &generator)))
            } else {
                bytes = (0..<Int.random(in: 0...4000, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            }
            _ = try? DeliveryReport.parse(bytes)
        }
    }

    @Test func base64AndQuotedPrintableAreUndone() {
        #expect(MIMEEntity.base64(Array("SGFsbG8g\r\nd2VyZWxk\r\n==".utf8)[...]) == Array("Hallo wereld".utf8))
        #expect(MIMEEntity.quotedPrintable(Array("caf=C3=A9 =\r\nen =ZZ".utf8)[...]) == Array("café en =ZZ".utf8))
    }
}
