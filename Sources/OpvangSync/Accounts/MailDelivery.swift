import Foundation
import Mail
import PortalStore

/// Drains the outbox (SPEC §8): renders each due message, sends it, and records what happened.
///
/// An invitation's token is made here, at the moment of sending, and only its SHA-256 is stored: the
/// outbox never holds a usable link. Each message is its own small transaction, so a crash loses at most
/// the bookkeeping of one message (see docs/operations.md, "Mail").
public struct MailDelivery {
    public let database: Database
    public let transport: MailTransport
    public let templates: MailTemplates
    public let settings: MailSettings
    public let rules: Rules

    public init(database: Database, transport: MailTransport, templates: MailTemplates, settings: MailSettings, rules: Rules) {
        self.database = database
        self.transport = transport
        self.templates = templates
        self.settings = settings
        self.rules = rules
    }

    /// Seconds to wait before attempt `attempt + 1`: 5 minutes, tripling, at most 6 hours.
    public static func retryDelay(afterAttempt attempt: Int) -> TimeInterval {
        min(6 * 3600, 300 * pow(3, Double(max(0, attempt - 1))))
    }

    struct Due {
        let id: Int64
        let messageID: String
        let kind: String
        let account: String?
        let invitation: Int64?
        let recipient: String
        let data: [String: String]
        let attempts: Int
    }

    /// Sends what is due now (or only `ids`), at most `limit` messages.
    public func deliver(limit: Int? = nil, ids: [Int64]? = nil, now: () -> Date = Date.init) throws -> MailSummary {
        var summary = MailSummary()
        let due = try database.query("""
            SELECT id, message_id, kind, account, invitation_id, recipient, data, attempts FROM outbox
            WHERE status = 'queued' AND next_attempt_at <= ? ORDER BY id LIMIT ?
            """, [.text(Timestamp.iso(now())), .integer(Int64(limit ?? Int(Int32.max)))]) { row in
            Due(id: Int64(row.int(0) ?? 0), messageID: row.string(1) ?? "", kind: row.string(2) ?? "", account: row.string(3),
                invitation: row.int(4).map(Int64.init), recipient: row.string(5) ?? "",
                data: MailDelivery.decode(row.string(6) ?? "{}"), attempts: row.int(7) ?? 0)
        }
        for message in due where ids?.contains(message.id) ?? true {
            switch try deliver(message, now: now()) {
            case .sent: summary.sent += 1
            case .failed: summary.failed += 1
            case .bounced: summary.bounced += 1
            case .retry, .cancelled: break
            }
        }
        return summary
    }

    enum Outcome { case sent, retry, failed, bounced, cancelled }

    private func deliver(_ message: Due, now: Date) throws -> Outcome {
        guard let kind = MailTemplates.Kind.allCases.first(where: { $0.outboxKind == message.kind }) else {
            try database.run("UPDATE outbox SET status = 'failed', last_error = ? WHERE id = ?",
                             [.text("unknown message kind \(message.kind)"), .integer(message.id)])
            return .failed
        }
        var values = message.data
        values["gebruikersnaam"] = values["gebruikersnaam"] ?? message.recipient
        if let invitation = message.invitation {
            let open = try database.scalarInt(
                "SELECT COUNT(*) FROM invitations WHERE id = ? AND revoked_at IS NULL AND used_at IS NULL", [.integer(invitation)]) ?? 0
            guard open > 0 else {
                try database.run("UPDATE outbox SET status = 'cancelled', last_error = 'invitation no longer open' WHERE id = ?",
                                 [.integer(message.id)])
                return .cancelled
            }
            // A fresh token for every attempt: only the last one sent can work.
            let token = ActivationToken()
            let validUntil = Day.today(now: now).adding(days: rules.activationValidDays)
            let expires = Calendar(identifier: .gregorian).date(byAdding: .day, value: rules.activationValidDays, to: now) ?? now
            try database.inTransaction {
                try database.run("UPDATE invitations SET token_hash = ?, expires_at = ? WHERE id = ?",
                                 [.text(token.hash), .text(Timestamp.iso(expires)), .integer(invitation)])
            }
            values["link"] = "\(values["portaal"] ?? "")/activeren/\(token.text)"
            values["geldigTot"] = validUntil.adding(days: -1).dutch
        }
        let (subject, body) = templates.render(kind, values: values)
        let organisation = values["organisatie"] ?? "Kinderopvang"
        let host = URLComponents(string: values["portaal"] ?? "")?.host ?? "opvangsync.invalid"
        let from = settings.from.flatMap(MailAddress.init(parsing:)) ?? MailAddress(name: organisation, address: "noreply@\(host)")
        let mail = MailMessage(from: from, to: MailAddress(address: message.recipient), subject: subject, body: body,
                               messageID: message.messageID, date: now,
                               extraHeaders: [("Auto-Submitted", "auto-generated")])
        let attempts = message.attempts + 1
        let failure: DeliveryError?
        do {
            try transport.send(mail)
            failure = nil
        } catch {
            failure = error
        }
        switch failure {
        case nil:
            try database.inTransaction {
                try database.run("UPDATE outbox SET status = 'sent', attempts = ?, sent_at = ?, last_error = NULL WHERE id = ?",
                                 [.integer(Int64(attempts)), .text(Timestamp.iso(now)), .integer(message.id)])
                if let invitation = message.invitation {
                    try database.run("UPDATE invitations SET sent_at = ? WHERE id = ?", [.text(Timestamp.iso(now)), .integer(invitation)])
                }
            }
            return .sent
        case .permanent(let code, let text):
            try database.inTransaction {
                try database.run("UPDATE outbox SET status = 'bounced', attempts = ?, last_error = ? WHERE id = ?",
                                 [.integer(Int64(attempts)), .text("\(code) \(text)"), .integer(message.id)])
                if let invitation = message.invitation {
                    // The link never arrived: the invitation is closed, so a resend can open a new one.
                    try database.run("UPDATE invitations SET revoked_at = ?, revoked_reason = 'bounced', token_hash = NULL WHERE id = ?",
                                     [.text(Timestamp.iso(now)), .integer(invitation)])
                }
            }
            return .bounced
        case .temporary(let text):
            let final = attempts >= settings.maxAttempts
            let next = now.addingTimeInterval(MailDelivery.retryDelay(afterAttempt: attempts))
            try database.run("UPDATE outbox SET status = ?, attempts = ?, next_attempt_at = ?, last_error = ? WHERE id = ?",
                             [.text(final ? "failed" : "queued"), .integer(Int64(attempts)), .text(Timestamp.iso(next)),
                              .text(text), .integer(message.id)])
            return final ? .failed : .retry
        }
    }

    static func decode(_ json: String) -> [String: String] {
        guard let node = try? JSONParser.parse(Array(json.utf8)), let members = node.members else { return [:] }
        var values: [String: String] = [:]
        for (key, value) in members { values[key] = value.string }
        return values
    }
}
