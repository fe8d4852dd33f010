import Foundation
import Mail

/// The alert mail of a run that did not apply its export (exit 1 or 3), applied it but held one or more
/// locations as they were (exit 5: someone must decide), or applied it with rejected rows (exit 4, when
/// `alerts.onRejected`). It goes straight through the configured transport, not through the
/// portal's outbox: the run may have failed because of that very database. Dutch, for customer service
/// and the ops engineer; no flags, keys or codes.
public struct RunAlert: Sendable {
    public let message: MailMessage

    /// The alert for this run, or nil when it needs none (applied, skipped, a dry run, no recipients).
    public init?(report: RunReport?, exitCode: ExitCode, reportPath: String?, failure: String? = nil,
                 settings: OrganisationSettings, now: Date = Date()) {
        guard !settings.alerts.to.isEmpty, report?.mode != "dry-run" else { return nil }
        switch exitCode {
        case .failed, .aborted, .appliedWithHeldLocations: break
        case .appliedWithRejections where settings.alerts.onRejected: break
        default: return nil
        }
        let organisationID = report?.organisation.id ?? settings.id ?? "onbekend"
        let name = report?.organisation.name.map(MIME.headerText) ?? organisationID
        let status: String
        let consequence: String
        switch exitCode {
        case .aborted:
            status = "afgebroken"
            consequence = "Het ouderportaal is niet gewijzigd: ouders en medewerkers zien de gegevens van de vorige import."
        case .appliedWithRejections:
            status = "verwerkt, met afgewezen regels"
            consequence = "De export is verwerkt, maar een deel van de regels is afgewezen. Die regels staan in het rapport; herstel ze in het planningssysteem, de volgende import neemt ze mee."
        case .appliedWithHeldLocations:
            let count = report?.held.count ?? 0
            status = count == 1 ? "verwerkt, 1 locatie vastgehouden" : "verwerkt, \(count) locaties vastgehouden"
            consequence = (count == 1 ? "De export is verwerkt, behalve voor één locatie: daar" : "De export is verwerkt, behalve voor \(count) locaties: daar")
                + " zou zoveel verdwijnen dat het op een fout in de export lijkt. Die locaties zijn vastgehouden zoals ze waren; ouders en medewerkers zien daar de gegevens van de vorige import."
        default:
            status = "mislukt"
            consequence = "Het ouderportaal is niet gewijzigd: ouders en medewerkers zien de gegevens van de vorige import."
        }
        let reason = DutchText.plain(report?.abortReason ?? failure ?? (exitCode == .appliedWithRejections
            ? "\(report?.rejectedRows ?? 0) regels afgewezen"
            : exitCode == .appliedWithHeldLocations ? "vastgehouden: " + (report?.held ?? []).map(\.code).joined(separator: ", ") : "onbekend"))
        var lines = [
            "De import van het ouderportaal van \(name) is \(status).",
            "",
            consequence,
            "",
        ]
        if exitCode == .appliedWithHeldLocations {
            for location in report?.held ?? [] { lines += [location.message, ""] }
        }
        lines += [
            "Organisatie: \(name) (\(organisationID))",
            "Status:      \(status)",
            "Reden:       \(reason)",
        ]
        if let report {
            lines.append("Run:         \(report.runId), gestart \(DutchText.localTime(report.startedAt))")
            if !report.export.path.isEmpty { lines.append("Export:      \(report.export.path)") }
        }
        lines.append("Rapport:     \(reportPath ?? "er is geen rapport geschreven")")
        lines += ["", "Het rapport zegt wat er mis is en wat er nodig is. Blijft de oorzaak onduidelijk, neem dan contact op met de beheerder van de koppeling.", "",
                  "Dit bericht is automatisch verstuurd door opvangsync."]
        let from = settings.mail.from.flatMap(MailAddress.init(parsing:))
            ?? MailAddress(name: "opvangsync", address: "noreply@\(MailDelivery.senderDomain(portal: settings.portalURL))")
        let recipients = settings.alerts.to.compactMap(MailAddress.init(parsing:))
        guard let first = recipients.first else { return nil }
        var random = SystemRandomNumberGenerator()
        let unique = (0..<8).map { _ in UInt8.random(in: 0...255, using: &random) }.hexString
        message = MailMessage(
            from: from, to: first, subject: "opvangsync: import \(name) \(status)", body: lines.joined(separator: "\n") + "\n",
            messageID: "<alert-\(report?.runId ?? unique)-\(unique)@\(from.address.split(separator: "@").last ?? "opvangsync.invalid")>",
            date: now, extraHeaders: [("Auto-Submitted", "auto-generated")])
        self.recipients = recipients
    }

    /// Every recipient of `alerts.to`; the message is sent to each.
    public let recipients: [MailAddress]

    /// Sends the alert to every recipient. Returns what went wrong, in English for the log, or nil.
    public func send(settings: OrganisationSettings) -> String? {
        let transport: MailTransport
        do {
            transport = try settings.mail.makeTransport()
        } catch {
            return "the alert could not be sent: \(error)"
        }
        var problems: [String] = []
        for recipient in recipients {
            var copy = message
            copy.to = recipient
            do {
                try transport.send(copy, before: Date().addingTimeInterval(Double(settings.mail.batchDeadlineSeconds)))
            } catch {
                problems.append("\(error)")
            }
        }
        return problems.isEmpty ? nil : "the alert could not be sent: \(problems.joined(separator: "; "))"
    }
}
