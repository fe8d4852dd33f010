import Foundation
import Mail
import PortalStore

extension RunPlanning {
    /// Mail that failed or bounced since the last report (refused when sent, or bounced later by a delivery
    /// report that `mail bounces` read): customer service hears of it once, in the next report.
    static func undeliveredMail(_ database: Database) throws -> [(id: Int64, status: String, issue: Issue, entry: UndeliveredMail)] {
        try database.query("""
            SELECT id, status, kind, account, attempts, last_error, recipient, bounce_status, bounce_diagnostic,
                   COALESCE(bounced_at, sent_at, next_attempt_at)
            FROM outbox WHERE status IN ('failed', 'bounced') AND reported_run IS NULL ORDER BY id
            """) { row in
            let status = row.string(1) ?? "failed"
            let account = row.string(3) ?? "?"
            let kind = row.string(2) ?? "invitation"
            let diagnostic = row.string(8) ?? row.string(5)
            let said = diagnostic.map { " (\($0))" } ?? ""
            let message = status == "bounced"
                ? "de \(DutchText.mailKind(kind)) voor ouder \(account) is geweigerd door de mailserver van de ontvanger\(said); controleer het e-mailadres in het planningssysteem en stuur daarna een nieuwe link (Nieuw wachtwoord verzenden)"
                : "de \(DutchText.mailKind(kind)) voor ouder \(account) kon na \(row.int(4) ?? 0) pogingen niet worden afgeleverd\(said); stuur een nieuwe link (Nieuw wachtwoord verzenden) zodra de oorzaak is opgelost"
            let issue = Issue(.error, status == "bounced" ? "mail-bounced" : "mail-failed", key: account, message: message)
            let entry = UndeliveredMail(parent: row.string(3), kind: kind, status: status, address: row.string(6) ?? "",
                                        statusCode: row.string(7) ?? (status == "bounced" ? DeliveryReport.enhancedCode(in: row.string(5) ?? "") : nil),
                                        diagnostic: diagnostic, at: row.string(9))
            return (Int64(row.int(0) ?? 0), status, issue, entry)
        }
    }
}
