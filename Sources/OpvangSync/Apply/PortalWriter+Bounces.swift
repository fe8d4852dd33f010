import Foundation
import PortalStore

extension PortalWriter {
    /// A permanent failure reported later by a delivery report: the message is bounced (so the next import
    /// report lists it, once), its invitation closed if still open (the link never arrived; a resend opens a
    /// new one), and the account's history records it.
    func recordBounce(outbox id: Int64, account: String?, address: String, kind: String, status: String?, diagnostic: String?,
                      at stamp: String) throws {
        try database.run("""
            UPDATE outbox SET status = 'bounced', bounce_status = ?, bounce_diagnostic = ?, bounced_at = ?, reported_run = NULL
            WHERE id = ?
            """, [status.sqlValue, diagnostic.sqlValue, .text(stamp), .integer(id)])
        try database.run("""
            UPDATE invitations SET revoked_at = ?, revoked_reason = 'bounced', token_hash = NULL
            WHERE id = (SELECT invitation_id FROM outbox WHERE id = ?) AND revoked_at IS NULL AND used_at IS NULL
            """, [.text(stamp), .integer(id)])
        if let account {
            try recordAccountEvent(AccountEvent(parent: account, at: stamp, kind: "bounce", operator: nil, reason: nil, address: address,
                                                detail: "\(DutchText.mailKind(kind)) onbestelbaar: " + [status, diagnostic].compactMap { $0 }.joined(separator: " — ")))
        }
    }

    /// A delay reported by a delivery report: only noted, the server is still trying.
    func recordDelay(outbox id: Int64, account: String?, address: String, kind: String, status: String?, diagnostic: String?,
                     at stamp: String) throws {
        try database.run("UPDATE outbox SET delay_status = ?, delay_diagnostic = ?, delayed_at = ? WHERE id = ?",
                         [status.sqlValue, diagnostic.sqlValue, .text(stamp), .integer(id)])
        if let account {
            try recordAccountEvent(AccountEvent(parent: account, at: stamp, kind: "delay", operator: nil, reason: nil, address: address,
                                                detail: "\(DutchText.mailKind(kind)) vertraagd: " + [status, diagnostic].compactMap { $0 }.joined(separator: " — ")))
        }
    }

    /// A delivery report that was dealt with, by the SHA-256 of its bytes: the same report is never counted twice.
    func recordDeliveryReport(sha256: String, source: String, outbox id: Int64?, action: String, status: String?, diagnostic: String?,
                              at stamp: String) throws {
        try database.run("""
            INSERT OR IGNORE INTO delivery_reports (sha256, processed_at, source, outbox_id, action, status, diagnostic)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """, [.text(sha256), .text(stamp), .text(source), id.map { .integer($0) } ?? .null, .text(action), status.sqlValue, diagnostic.sqlValue])
    }
}
