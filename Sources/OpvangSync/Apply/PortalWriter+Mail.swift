import Foundation
import Mail
import PortalStore

/// What `MailDelivery` records of each message. Every method is one step of its bookkeeping and keeps the
/// transaction it had there: the state before the SMTP call (a fresh token, the envelope's tag) is in
/// place before the message goes out, what became of it is written straight after, so a crash loses at
/// most the bookkeeping of one message (docs/operations.md, "Mail").
extension PortalWriter {
    /// A message of a kind this version does not know: failed, never sent.
    func failUnknownMail(outbox id: Int64, kind: String) throws {
        try database.run("UPDATE outbox SET status = 'failed', last_error = ? WHERE id = ?",
                         [.text("unknown message kind \(kind)"), .integer(id)])
    }

    /// An invitation that was closed (used, revoked) while its mail waited: the mail is not sent.
    func cancelMail(outbox id: Int64) throws {
        try database.run("UPDATE outbox SET status = 'cancelled', last_error = 'invitation no longer open' WHERE id = ?",
                         [.integer(id)])
    }

    /// The invitation's token for this attempt, by its hash only, committed before the mail goes out.
    func renewToken(invitation: Int64, hash: String, expires: Date) throws {
        try database.inTransaction {
            try database.run("UPDATE invitations SET token_hash = ?, expires_at = ? WHERE id = ?",
                             [.text(hash), .text(Timestamp.iso(expires)), .integer(invitation)])
        }
    }

    /// The message's own envelope tag, stored before the message goes out.
    func assignReturnTag(_ tag: String, outbox id: Int64) throws {
        try database.run("UPDATE outbox SET return_tag = ? WHERE id = ?", [.text(tag), .integer(id)])
    }

    /// The server took the message: sent, and so is its invitation.
    func markSent(outbox id: Int64, invitation: Int64?, attempts: Int, at now: Date) throws {
        try database.inTransaction {
            try database.run("UPDATE outbox SET status = 'sent', attempts = ?, sent_at = ?, last_error = NULL WHERE id = ?",
                             [.integer(Int64(attempts)), .text(Timestamp.iso(now)), .integer(id)])
            if let invitation {
                try database.run("UPDATE invitations SET sent_at = ? WHERE id = ?", [.text(Timestamp.iso(now)), .integer(invitation)])
            }
        }
    }

    /// The server refused the recipient for good while the message was being sent: bounced, the account's
    /// history records it, and its invitation is closed.
    func markBounced(outbox id: Int64, kind: String, account: String?, invitation: Int64?, recipient: String, attempts: Int,
                     code: Int, text: String, at now: Date) throws {
        try database.inTransaction {
            try database.run("""
                UPDATE outbox SET status = 'bounced', attempts = ?, last_error = ?, bounce_status = ?, bounce_diagnostic = ?, bounced_at = ?
                WHERE id = ?
                """, [.integer(Int64(attempts)), .text("\(code) \(text)"), DeliveryReport.enhancedCode(in: text).sqlValue,
                      .text("\(code) \(text)"), .text(Timestamp.iso(now)), .integer(id)])
            if let account {
                try recordAccountEvent(AccountEvent(
                    parent: account, at: Timestamp.iso(now), kind: "bounce", operator: nil, reason: nil, address: recipient,
                    detail: "\(DutchText.mailKind(kind)) geweigerd bij het versturen: \(code) \(text)"))
            }
            if let invitation {
                // The link never arrived: the invitation is closed, so a resend can open a new one.
                try database.run("UPDATE invitations SET revoked_at = ?, revoked_reason = 'bounced', token_hash = NULL WHERE id = ?",
                                 [.text(Timestamp.iso(now)), .integer(invitation)])
            }
        }
    }

    /// An attempt that did not go through: `status` queued (with the time of the next attempt) or failed.
    func recordAttempt(outbox id: Int64, status: String, attempts: Int, next: Date, problem: String) throws {
        try database.run("UPDATE outbox SET status = ?, attempts = ?, next_attempt_at = ?, last_error = ? WHERE id = ?",
                         [.text(status), .integer(Int64(attempts)), .text(Timestamp.iso(next)), .text(problem), .integer(id)])
    }

    /// The server refused the sender, the login or the message: the message stays queued and waits.
    func postponeMail(outbox id: Int64, attempts: Int, next: Date, problem: String) throws {
        try database.run("UPDATE outbox SET attempts = ?, next_attempt_at = ?, last_error = ? WHERE id = ?",
                         [.integer(Int64(attempts)), .text(Timestamp.iso(next)), .text(problem), .integer(id)])
    }
}
