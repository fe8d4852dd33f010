import Foundation
import Mail
import PortalStore

/// Drains the outbox (SPEC §8): renders each due message, sends it, and records what happened.
///
/// An invitation's token is made here, at the moment of sending, and only its SHA-256 is stored: the
/// outbox never holds a usable link. Each message is its own small transaction, so a crash loses at most
/// the bookkeeping of one message (see docs/operations.md, "Mail"). What it records, `PortalWriter` writes.
public struct MailDelivery {
    let database: Database
    public let transport: MailTransport
    public let templates: MailTemplates
    public let settings: MailSettings
    public let rules: Rules

    public init(repository: PortalRepository, transport: MailTransport, templates: MailTemplates, settings: MailSettings, rules: Rules) {
        self.database = repository.database
        self.transport = transport
        self.templates = templates
        self.settings = settings
        self.rules = rules
    }

    private var writer: PortalWriter { PortalWriter(database: database) }

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
        /// The message's own part of its envelope sender (VERP), once one was given.
        let returnTag: String?
    }

    /// What one batch did.
    public struct Result: Sendable {
        public var summary = MailSummary()
        /// Why mail stayed undelivered because of the transport (the server could not be reached, did not
        /// answer, or refused the sender, the login or the message), in Dutch for customer service; nil
        /// when every message due was delivered or refused for its recipient alone.
        public var transportProblem: String?
    }

    /// A batch stops after this many failed connections in a row: the server is down, trying the rest
    /// only makes `mail send` slow.
    public static let maxConsecutiveFailures = 3

    /// Sends what is due now (or only `ids`), at most `limit` messages, over one connection.
    ///
    /// The batch stops at once when the server refuses the sender, the login or the message (the same would
    /// happen to every message), after `maxConsecutiveFailures` failed connections in a row, and when
    /// `mail.batchDeadlineSeconds` have passed. What was not sent stays queued.
    public func deliver(limit: Int? = nil, ids: [Int64]? = nil, now: () -> Date = Date.init) throws -> Result {
        var result = Result()
        let due = try database.query("""
            SELECT id, message_id, kind, account, invitation_id, recipient, data, attempts, return_tag FROM outbox
            WHERE status = 'queued' AND next_attempt_at <= ? ORDER BY id LIMIT ?
            """, [.text(Timestamp.iso(now())), .integer(Int64(limit ?? Int(Int32.max)))]) { row in
            Due(id: Int64(row.int(0) ?? 0), messageID: row.string(1) ?? "", kind: row.string(2) ?? "", account: row.string(3),
                invitation: row.int(4).map(Int64.init), recipient: row.string(5) ?? "",
                data: MailDelivery.decode(row.string(6) ?? "{}"), attempts: row.int(7) ?? 0, returnTag: row.string(8))
        }.filter { ids?.contains($0.id) ?? true }
        let deadline = now().addingTimeInterval(TimeInterval(settings.batchDeadlineSeconds))
        var failuresInARow = 0
        batch: for (index, message) in due.enumerated() {
            let waiting = due.count - index - 1
            guard now() < deadline else {
                result.transportProblem = "de tijd voor het versturen is op (mail.batchDeadlineSeconds: \(settings.batchDeadlineSeconds) seconden); "
                    + "de overige mail blijft in de wachtrij"
                break
            }
            switch try deliver(message, now: now(), deadline: deadline) {
            case .sent:
                result.summary.sent += 1
                failuresInARow = 0
            case .bounced:
                result.summary.bounced += 1
                failuresInARow = 0
            case .failed:
                result.summary.failed += 1
            case .retry:
                failuresInARow = 0   // the server answered; it put off this recipient only
            case .cancelled:
                break
            case .transportFailed(let problem, let final):
                if final { result.summary.failed += 1 }
                failuresInARow += 1
                result.transportProblem = problem
                if failuresInARow >= MailDelivery.maxConsecutiveFailures && waiting > 0 {
                    result.transportProblem = problem + "; gestopt na \(failuresInARow) mislukte pogingen achter elkaar, "
                        + "de overige mail blijft in de wachtrij"
                    break batch
                }
            case .stopped(let problem):
                result.transportProblem = problem + "; het versturen is gestopt, de mail blijft in de wachtrij"
                break batch
            }
        }
        return result
    }

    enum Outcome {
        case sent, retry, failed, bounced, cancelled
        /// The server could not be reached or did not answer; the message waits for a retry (or, after its
        /// last attempt, `final`, is failed).
        case transportFailed(problem: String, final: Bool)
        /// The server refused the sender, the login or the message: the batch stops, the message waits.
        case stopped(problem: String)
    }

    private func deliver(_ message: Due, now: Date, deadline: Date) throws -> Outcome {
        guard let kind = MailTemplates.Kind.allCases.first(where: { $0.outboxKind == message.kind }) else {
            try writer.failUnknownMail(outbox: message.id, kind: message.kind)
            return .failed
        }
        var values = message.data
        // The organisation's name comes from the export's manifest: one line of text, whatever it held.
        values["organisatie"] = values["organisatie"].map(MIME.headerText)
        values["gebruikersnaam"] = values["gebruikersnaam"] ?? message.recipient
        if let invitation = message.invitation {
            let open = try database.scalarInt(
                "SELECT COUNT(*) FROM invitations WHERE id = ? AND revoked_at IS NULL AND used_at IS NULL", [.integer(invitation)]) ?? 0
            guard open > 0 else {
                try writer.cancelMail(outbox: message.id)
                return .cancelled
            }
            // A fresh token for every attempt: only the last one sent can work.
            let token = ActivationToken()
            let validUntil = Day.today(now: now).adding(days: rules.activationValidDays)
            let expires = Calendar(identifier: .gregorian).date(byAdding: .day, value: rules.activationValidDays, to: now) ?? now
            try writer.renewToken(invitation: invitation, hash: token.hash, expires: expires)
            values["link"] = "\(values["portaal"] ?? "")/activeren/\(token.text)"
            values["geldigTot"] = validUntil.adding(days: -1).dutch
        }
        let (subject, body) = templates.render(kind, values: values)
        let organisation = values["organisatie"] ?? "Kinderopvang"
        let host = MailDelivery.senderDomain(portal: values["portaal"])
        let from = settings.from.flatMap(MailAddress.init(parsing:)) ?? MailAddress(name: organisation, address: "noreply@\(host)")
        // With mail.returnPath, the envelope sender names this message: a bounce hours later finds it back.
        var envelope: String?
        if settings.returnPath != nil {
            let tag = try message.returnTag ?? assignReturnTag(message.id)
            envelope = settings.envelopeSender(tag: tag)
        }
        let mail = MailMessage(from: from, to: MailAddress(address: message.recipient), subject: subject, body: body,
                               messageID: message.messageID, date: now,
                               extraHeaders: [("Auto-Submitted", "auto-generated")], envelopeFrom: envelope)
        let attempts = message.attempts + 1
        let failure: DeliveryError?
        do {
            try transport.send(mail, before: deadline)
            failure = nil
        } catch {
            failure = error
        }
        switch failure {
        case nil:
            try writer.markSent(outbox: message.id, invitation: message.invitation, attempts: attempts, at: now)
            return .sent
        case .bounced(let code, let text):
            try writer.markBounced(outbox: message.id, kind: message.kind, account: message.account, invitation: message.invitation,
                                   recipient: message.recipient, attempts: attempts, code: code, text: text, at: now)
            return .bounced
        case .deferred(let reply):
            return try retryLater(message, attempts: attempts, now: now,
                                  problem: "de mailserver vraagt dit bericht later opnieuw aan te bieden: \(reply)") ? .failed : .retry
        case .temporary(let step, let reply, let detail):
            let problem = MailDelivery.dutch(step: step, reply: reply, detail: detail, refused: false)
            let final = try retryLater(message, attempts: attempts, now: now, problem: problem)
            return .transportFailed(problem: problem, final: final)
        case .refused(let step, let reply, let detail):
            // Not the message's fault: it stays queued however often this happens, and waits like a retry
            // so that one message the server will not take does not stop every batch before the others.
            let problem = MailDelivery.dutch(step: step, reply: reply, detail: detail, refused: true)
            let next = now.addingTimeInterval(MailDelivery.retryDelay(afterAttempt: attempts))
            try writer.postponeMail(outbox: message.id, attempts: attempts, next: next, problem: problem)
            return .stopped(problem: problem)
        }
    }

    /// A random tag of 16 letters and digits for a message's envelope sender, stored before the message goes
    /// out: a bounce that names it can only be of this message.
    private func assignReturnTag(_ id: Int64) throws -> String {
        var random = SystemRandomNumberGenerator()
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567")
        let tag = String((0..<16).map { _ in alphabet[Int(random.next() as UInt64 % 32)] })
        try writer.assignReturnTag(tag, outbox: id)
        return tag
    }

    /// Puts a message back for a later attempt, or fails it after its last one; true when it failed.
    private func retryLater(_ message: Due, attempts: Int, now: Date, problem: String) throws -> Bool {
        let final = attempts >= settings.maxAttempts
        let next = now.addingTimeInterval(MailDelivery.retryDelay(afterAttempt: attempts))
        try writer.recordAttempt(outbox: message.id, status: final ? "failed" : "queued", attempts: attempts, next: next, problem: problem)
        return final
    }

    /// The domain of the default sender, `noreply@<portal host>`. The portal's URL comes from the export's
    /// manifest: a host that is not a plain DNS name (`URLComponents.host` decodes `%0D%0A`) would put a
    /// line break into the envelope's MAIL FROM and the From header.
    static func senderDomain(portal: String?) -> String {
        guard let host = URLComponents(string: portal ?? "")?.percentEncodedHost, !host.isEmpty,
              host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == ".") }) else {
            return "opvangsync.invalid"
        }
        return host
    }

    /// What went wrong, in Dutch for customer service, with what the server answered. Never a password,
    /// an address or the transport URL: the reply is cleaned by `SMTPReply`, the detail is libcurl's text.
    static func dutch(step: SMTPStep, reply: SMTPReply?, detail: String, refused: Bool) -> String {
        let answer = reply.map { "antwoord van de server: \($0)" } ?? detail
        switch step {
        case .connection:
            return refused ? "de mailserver weigert de verbinding; \(answer)"
                : "de mailserver is niet bereikbaar of antwoordde niet op tijd; \(answer)"
        case .startTLS:
            return "de mailserver biedt geen STARTTLS aan en opvangsync verstuurt alleen versleuteld, "
                + "behalve naar een server op deze machine; \(answer)"
        case .certificate:
            return "het certificaat van de mailserver is niet te controleren (zie mail.caFile); \(answer)"
        case .login:
            return refused ? "de mailserver weigert de aanmelding (controleer mail.username en het wachtwoord); \(answer)"
                : "de aanmelding bij de mailserver lukte nu niet; \(answer)"
        case .sender:
            return refused ? "de mailserver weigert de afzender (controleer mail.from); \(answer)"
                : "de mailserver nam de afzender nu niet aan; \(answer)"
        case .recipient:
            return "de mailserver nam de ontvanger nu niet aan; \(answer)"
        case .message:
            return refused ? "de mailserver weigert het bericht; \(answer)" : "het bericht kwam nu niet door; \(answer)"
        }
    }

    static func decode(_ json: String) -> [String: String] {
        guard let node = try? JSONParser.parse(Array(json.utf8)), let members = node.members else { return [:] }
        var values: [String: String] = [:]
        for (key, value) in members { values[key] = value.string }
        return values
    }
}
