import Foundation

/// A delivery status notification (RFC 3464, inside a `multipart/report; report-type=delivery-status` of
/// RFC 6522): the bounce a mail server sends back hours after it accepted a message.
///
/// Read from a mailbox anyone can write to, so nothing in it is trusted: every value is reduced to one
/// printable line of bounded length, and the report only says what it claims; matching it to a message
/// that was really sent is the caller's job.
public struct DeliveryReport: Sendable, Equatable {
    public enum Action: String, Sendable {
        case failed, delayed, delivered, relayed, expanded
    }

    /// One per-recipient block.
    public struct Recipient: Sendable, Equatable {
        /// The address the report is about (`Final-Recipient`), lowercased, without its `rfc822;` type.
        public var finalRecipient: String?
        /// The address as the original message's envelope had it (`Original-Recipient`), when given.
        public var originalRecipient: String?
        public var action: Action?
        /// The enhanced status code (RFC 3463), `5.1.1`; nil when absent or malformed.
        public var status: String?
        /// What the remote server said (`Diagnostic-Code`), without its type, cleaned.
        public var diagnostic: String?

        /// A permanent failure: the message will not be delivered. `Action: failed` (whatever the class of its
        /// status: 4.4.7 means the retries ran out), or a 5.x.x status without an action.
        public var isPermanentFailure: Bool {
            action == .failed || (action == nil && status?.hasPrefix("5.") == true)
        }

        /// Only a delay: the server keeps trying (`Action: delayed`, or a 4.x.x status without an action).
        public var isDelay: Bool {
            action == .delayed || (action == nil && status?.hasPrefix("4.") == true)
        }
    }

    public var recipients: [Recipient]
    /// The Message-ID of the message the report is about (without angle brackets), from the returned
    /// message or its headers, when the report carries them.
    public var originalMessageID: String?
    /// The addresses this report was delivered to (`Delivered-To`, `X-Original-To`, `Envelope-To`, `To`):
    /// where a per-message return path (VERP) shows which message bounced.
    public var deliveredTo: [String]
    /// The server that wrote the report (`Reporting-MTA`), for the record.
    public var reportingMTA: String?

    /// Why a message is not a delivery report this reader can use.
    public struct Unrecognised: Error, Sendable, Equatable, CustomStringConvertible {
        public let reason: String
        public var description: String { reason }
    }

    /// Reads a whole message (header and body, as stored in a maildir file or fetched over IMAP).
    public static func parse(_ bytes: [UInt8]) throws(Unrecognised) -> DeliveryReport {
        let message = MIMEEntity(parsing: bytes)
        let entities = message.all
        // The machine-readable part: message/delivery-status (or its UTF-8 form, RFC 6533).
        guard let status = entities.first(where: { ["message/delivery-status", "message/global-delivery-status"].contains($0.mediaType) }) else {
            throw Unrecognised(reason: entities.contains { $0.mediaType == "multipart/report" }
                ? "a multipart/report without a message/delivery-status part"
                : "not a delivery status notification (no multipart/report with a message/delivery-status part)")
        }
        let groups = fieldGroups(status.decodedBody)
        guard groups.count >= 2 else { throw Unrecognised(reason: "the delivery-status part has no per-recipient fields") }
        let perMessage = groups[0]
        var recipients: [Recipient] = []
        for group in groups.dropFirst().prefix(100) {
            func field(_ name: String) -> String? { group.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value }
            let recipient = Recipient(
                finalRecipient: field("Final-Recipient").flatMap(address(typed:)),
                originalRecipient: field("Original-Recipient").flatMap(address(typed:)),
                action: field("Action").flatMap { Action(rawValue: $0.trimmingCharacters(in: .whitespaces).lowercased()) },
                status: field("Status").flatMap(enhancedCode(exactly:)),
                diagnostic: field("Diagnostic-Code").map(diagnostic))
            guard recipient.finalRecipient != nil || recipient.originalRecipient != nil else { continue }
            recipients.append(recipient)
        }
        guard !recipients.isEmpty else { throw Unrecognised(reason: "no recipient with a Final-Recipient in the delivery-status part") }

        // The message it reports on: returned whole (message/rfc822) or only its header (text/rfc822-headers).
        let returned = entities.first { ["message/rfc822", "text/rfc822-headers", "message/global", "message/global-headers"].contains($0.mediaType) }
        var messageID = returned.flatMap { MIMEEntity(parsing: $0.decodedBody).header("Message-ID") }.flatMap(messageIDValue)
        if messageID == nil {
            let fields = perMessage.first { ["X-Original-Message-ID", "Original-Message-ID"].contains($0.name) }?.value
            messageID = fields.flatMap(messageIDValue)
        }
        var delivered: [String] = []
        for name in ["Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", "To"] {
            for value in message.headers(name) {
                for found in addresses(in: value) where !delivered.contains(found) { delivered.append(found) }
            }
        }
        let mta = perMessage.first { $0.name.caseInsensitiveCompare("Reporting-MTA") == .orderedSame }?.value
        return DeliveryReport(recipients: recipients, originalMessageID: messageID, deliveredTo: Array(delivered.prefix(20)),
                              reportingMTA: mta.map { clean($0, limit: 200) })
    }

    /// Groups of `Name: value` fields separated by empty lines (RFC 3464 §2.1), unfolded.
    static func fieldGroups(_ bytes: [UInt8]) -> [[(name: String, value: String)]] {
        var groups: [[(name: String, value: String)]] = []
        var rest = bytes[...]
        while !rest.isEmpty, groups.count < 101 {
            // Empty lines between groups.
            while let first = rest.first, first == 0x0A || first == 0x0D { rest = rest.dropFirst() }
            guard !rest.isEmpty else { break }
            let (fields, after) = MIMEEntity.splitHeaders(rest)
            if fields.isEmpty {
                // A line that is no field: skip it.
                guard let newline = rest.firstIndex(of: 0x0A) else { break }
                rest = rest[(newline + 1)...]
                continue
            }
            groups.append(fields)
            guard after.count < rest.count else { break }
            rest = after
        }
        return groups
    }

    /// `rfc822; Jan@Example.nl` → `jan@example.nl`; nil when it is not an address.
    static func address(typed text: String) -> String? {
        let value = text.split(separator: ";", maxSplits: 1).last.map(String.init) ?? text
        let address = value.trimmingCharacters(in: CharacterSet(charactersIn: " \t<>")).lowercased()
        guard address.contains("@"), address.utf8.count <= 254,
              address.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F && $0 != "<" && $0 != ">" }) else { return nil }
        return address
    }

    /// Every `local@domain` in a header value (`Name <a@b>, c@d`), lowercased.
    static func addresses(in text: String) -> [String] {
        var found: [String] = []
        for token in text.split(whereSeparator: { " \t,;<>()\"".contains($0) }) where token.contains("@") {
            if let address = address(typed: String(token)) { found.append(address) }
            if found.count >= 20 { break }
        }
        return found
    }

    /// `<id@host>` → `id@host`; nil for anything that is not one plain token.
    static func messageIDValue(_ text: String) -> String? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let inner = trimmed.hasPrefix("<") && trimmed.hasSuffix(">") ? String(trimmed.dropFirst().dropLast()) : trimmed
        guard !inner.isEmpty, inner.utf8.count <= 250,
              inner.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F && $0 != "<" && $0 != ">" }) else { return nil }
        return inner
    }

    /// `5.1.1` when `text` is exactly an enhanced status code (class 2, 4 or 5; RFC 3463), possibly followed
    /// by a comment.
    static func enhancedCode(exactly text: String) -> String? {
        let word = text.trimmingCharacters(in: .whitespaces).split(whereSeparator: { $0 == " " || $0 == "(" }).first.map(String.init) ?? ""
        return isEnhancedCode(word) ? word : nil
    }

    /// The first enhanced status code in a reply text (`550 5.1.1 <adres>: unknown`), or nil.
    public static func enhancedCode(in text: String) -> String? {
        text.split(whereSeparator: { $0 == " " || $0 == ";" || $0 == "#" || $0 == "," }).lazy.map(String.init).first(where: isEnhancedCode)
    }

    static func isEnhancedCode(_ word: String) -> Bool {
        let pieces = word.split(separator: ".", omittingEmptySubsequences: false)
        guard pieces.count == 3, ["2", "4", "5"].contains(pieces[0]) else { return false }
        return pieces.dropFirst().allSatisfy { (1...3).contains($0.count) && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }
    }

    /// `smtp; 550 5.1.1 <jan@x.nl>: unknown` → `550 5.1.1 <adres>: unknown`: without its type, one printable
    /// line, no addresses, at most 300 characters (as `SMTPReply` keeps replies).
    static func diagnostic(_ text: String) -> String {
        let parts = text.split(separator: ";", maxSplits: 1)
        let value = parts.count == 2 && parts[0].allSatisfy({ $0.isLetter || $0 == "-" }) ? String(parts[1]) : text
        return SMTPReply.clean(value.trimmingCharacters(in: .whitespaces))
    }

    /// One printable line of at most `limit` characters.
    static func clean(_ text: String, limit: Int) -> String {
        let printable = String(String.UnicodeScalarView(text.unicodeScalars.map { $0.value >= 0x20 && $0.value < 0x7F ? $0 : " " }))
        return String(printable.split(separator: " ").joined(separator: " ").prefix(limit))
    }
}
