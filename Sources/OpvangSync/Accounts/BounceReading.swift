import Foundation
import Mail
import PortalStore

/// `opvangsync mail bounces`: reads the delivery status notifications (RFC 3464) that came back to the
/// envelope sender's mailbox and matches each to the message it reports on (SPEC §8, issue "Ouder krijgt
/// geen mail").
///
/// - A report names its message by the envelope sender's tag (`bounces+TAG@…`, VERP: TAG is random per
///   message, so a report cannot be made up for a message one did not receive), or by the original
///   Message-ID together with the recipient's address.
/// - A permanent failure marks the message bounced, with the status and what the receiving server said;
///   its invitation is closed, the next import report lists it, `accounts show` shows it.
/// - A delay (4.x.x) is only noted. A report of a delivery changes nothing.
/// - A report that was dealt with is moved aside and remembered by its SHA-256: never counted twice.
/// - Anything else (no delivery report, too large, no message of this portal) is left where it is and
///   counted.
public struct BounceReading {
    /// What one pass did.
    public struct Result: Sendable, Equatable {
        /// Messages looked at.
        public var read = 0
        /// Messages marked bounced by a permanent failure.
        public var bounced = 0
        /// Delays noted.
        public var delayed = 0
        /// Reports of a message already bounced, of a delivery, or read before: moved aside, nothing changed.
        public var withoutEffect = 0
        /// Messages that are no delivery report this reader can use (or are larger than `sizeLimit`).
        public var unrecognised = 0
        /// Delivery reports of no message this portal sent.
        public var unmatched = 0
        /// What happened to each bounced or delayed message, in Dutch, for the output.
        public var lines: [String] = []
        /// Messages dealt with that could not be moved aside (they are remembered, so not counted again).
        public var notMoved: [String] = []
    }

    /// A bounce for one of our small messages is a few kilobytes, even with the message returned whole.
    public static let sizeLimit = 1 << 20

    let database: Database

    public init(repository: PortalRepository) { self.database = repository.database }

    /// The message a report is about, as the outbox has it.
    struct Sent {
        let id: Int64
        let account: String?
        let recipient: String
        let kind: String
        let status: String
    }

    public func read(_ mailbox: BounceMailbox, now: () -> Date = Date.init) throws -> Result {
        var result = Result()
        for id in try mailbox.messages() {
            result.read += 1
            let shown = TextSafety.visible(id)
            guard let bytes = try mailbox.read(id, limit: BounceReading.sizeLimit) else {
                result.unrecognised += 1
                continue
            }
            let report: DeliveryReport
            do {
                report = try DeliveryReport.parse(bytes)
            } catch {
                result.unrecognised += 1
                continue
            }
            let hash = SHA256.hex(of: bytes)
            let seen = try database.scalarInt("SELECT COUNT(*) FROM delivery_reports WHERE sha256 = ?", [.text(hash)]) ?? 0 > 0
            var handled = seen
            if seen {
                result.withoutEffect += 1
            } else if let sent = try match(report) {
                let recipient = report.recipients.first { [$0.finalRecipient, $0.originalRecipient].contains(sent.recipient) }
                    ?? report.recipients[0]
                let stamp = Timestamp.iso(now())
                let writer = PortalWriter(database: database)
                let action: String
                if recipient.isPermanentFailure, sent.status != "bounced" {
                    action = "bounced"
                    result.bounced += 1
                    result.lines.append("ouder \(sent.account ?? "?"): \(DutchText.mailKind(sent.kind)) aan \(sent.recipient) onbestelbaar"
                                        + (recipient.status.map { " (\($0))" } ?? "") + (recipient.diagnostic.map { ": \($0)" } ?? ""))
                } else if recipient.isDelay, sent.status != "bounced" {
                    action = "delayed"
                    result.delayed += 1
                    result.lines.append("ouder \(sent.account ?? "?"): \(DutchText.mailKind(sent.kind)) aan \(sent.recipient) vertraagd"
                                        + (recipient.status.map { " (\($0))" } ?? "") + "; de mailserver probeert het nog")
                } else {
                    action = "delivered"
                    result.withoutEffect += 1
                }
                try database.inTransaction {
                    switch action {
                    case "bounced":
                        try writer.recordBounce(outbox: sent.id, account: sent.account, address: sent.recipient, kind: sent.kind,
                                                status: recipient.status, diagnostic: recipient.diagnostic, at: stamp)
                    case "delayed":
                        try writer.recordDelay(outbox: sent.id, account: sent.account, address: sent.recipient, kind: sent.kind,
                                               status: recipient.status, diagnostic: recipient.diagnostic, at: stamp)
                    default:
                        break
                    }
                    try writer.recordDeliveryReport(sha256: hash, source: mailbox.name, outbox: sent.id, action: action,
                                                    status: recipient.status, diagnostic: recipient.diagnostic, at: stamp)
                }
                handled = true
            } else {
                result.unmatched += 1
            }
            guard handled else { continue }
            do {
                try mailbox.moveAside(id)
            } catch {
                result.notMoved.append("\(shown): \(error)")
            }
        }
        return result
    }

    /// The sent message a report is about: by the tag of its envelope sender, else by its Message-ID and
    /// recipient. Nil when it names nothing this portal sent.
    func match(_ report: DeliveryReport) throws -> Sent? {
        for address in report.deliveredTo {
            guard let tag = BounceReading.tag(in: address) else { continue }
            if let sent = try sent(where: "return_tag = ?", .text(tag)) { return sent }
        }
        guard let messageID = report.originalMessageID, let sent = try sent(where: "message_id = ?", .text(messageID)) else { return nil }
        // The Message-ID alone is not secret (its recipient saw it): the report must name the same recipient.
        let recipients = report.recipients.flatMap { [$0.finalRecipient, $0.originalRecipient] }.compactMap { $0 }
        return recipients.contains(sent.recipient.lowercased()) ? sent : nil
    }

    /// `local+TAG@domain` → TAG, when TAG has the form of the tags `MailDelivery` gives.
    static func tag(in address: String) -> String? {
        guard let at = address.lastIndex(of: "@"), let plus = address[..<at].lastIndex(of: "+") else { return nil }
        let tag = address[address.index(after: plus)..<at]
        guard tag.count == 16, tag.allSatisfy({ ("a"..."z").contains($0) || ("2"..."7").contains($0) }) else { return nil }
        return String(tag)
    }

    private func sent(where condition: String, _ value: SQLValue) throws -> Sent? {
        try database.statement("SELECT id, account, recipient, kind, status FROM outbox WHERE \(condition)").firstRow([value]) { row in
            Sent(id: Int64(row.int(0) ?? 0), account: row.string(1), recipient: row.string(2) ?? "", kind: row.string(3) ?? "",
                 status: row.string(4) ?? "")
        } ?? nil
    }
}
