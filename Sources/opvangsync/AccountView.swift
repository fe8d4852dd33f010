import Foundation
import OpvangSync

/// `accounts show` as customer service reads it on the phone with a parent: Dutch, local times, the
/// export's own column names.
enum AccountView {
    static func print(_ lookup: AccountLookup, columns: [String: [String: String]]?) {
        var lines: [String] = []
        func label(_ column: String?) -> String { FieldNames.emailColumn(column, in: columns) ?? "—" }
        if let child = lookup.child {
            lines.append("Kind \(child.number) \(child.name)")
            lines.append("  ouders:              \(child.parents.isEmpty ? "geen ouder gekoppeld" : child.parents.joined(separator: ", "))")
            lines.append("")
        }
        for (index, account) in lookup.accounts.enumerated() {
            if index > 0 { lines.append("") }
            for parent in account.parents {
                lines.append("Ouder \(parent.parent) \(parent.name)")
                lines.append("  status:              \(DutchText.accountStatus(parent.status))\(parent.detail.map { " (\($0))" } ?? "")")
                lines.append("  gebruikersnaam:      \(parent.username ?? "—")")
                lines.append("  e-mailkolom:         \(label(parent.emailColumn))")
                if let addresses = account.addresses.first(where: { $0.parent == parent.parent }) {
                    lines.append("  \(pad(label("E-mail") + ":"))\(shown(addresses.email))\(addresses.used == "E-mail" ? "  ← gebruikt" : "")")
                    lines.append("  \(pad(label("E-mail 2") + ":"))\(shown(addresses.email2))\(addresses.used == "E-mail 2" ? "  ← gebruikt" : "")")
                    lines.append("  waarom:              \(addresses.why)")
                }
                lines.append("  uitgenodigd:         \(DutchText.localTime(parent.invitedAt, or: "—"))")
                lines.append("  geactiveerd:         \(parent.activatedAt.map { DutchText.localTime($0) } ?? "nee")")
                lines.append("  voorwaarden:         \(parent.termsAcceptedAt.map { "geaccepteerd op \(DutchText.localTime($0))" } ?? "niet geaccepteerd")")
            }
            if account.parents.isEmpty {
                for addresses in account.addresses {
                    lines.append("Ouder \(addresses.parent): geen account")
                    lines.append("  \(pad(label("E-mail") + ":"))\(shown(addresses.email))")
                    lines.append("  \(pad(label("E-mail 2") + ":"))\(shown(addresses.email2))")
                    lines.append("  waarom:              \(addresses.why)")
                }
            }
            if let owner = account.owner, account.parents.count > 1 { lines.append("Gedeeld account van ouder \(owner)") }
            lines.append("Kinderen:")
            for child in account.children {
                lines.append("  \(child.number) \(child.name) — \(child.role)")
                lines.append("      mentor: \(child.mentor ?? "—"); groepen: \(child.groups.isEmpty ? "geen lopende plaatsing" : child.groups.joined(separator: ", "))")
                if let photos = child.photosUntil {
                    let documents = child.documentsUntil.map { "documenten tot en met \(Day(iso: $0)?.dutch ?? $0)" } ?? "geen documenten (alleen Ouder 1)"
                    lines.append("      opvang beëindigd: foto's en dagboek tot en met \(Day(iso: photos)?.dutch ?? photos), \(documents)")
                }
            }
            if account.children.isEmpty { lines.append("  —") }
            lines.append("Uitnodigingen:")
            for invitation in account.invitations {
                lines.append("  \(DutchText.localTime(invitation.createdAt)) aan \(invitation.address): \(state(invitation))")
                if let delivery = invitation.delivery { lines.append("      e-mail: \(self.delivery(delivery))") }
            }
            if account.invitations.isEmpty { lines.append("  —") }
            let other = account.mail.filter { !["invitation", "resend"].contains($0.kind) }
            if !other.isEmpty {
                lines.append("Andere mail:")
                for message in other { lines.append("  \(DutchText.mailKind(message.kind)) aan \(message.recipient): \(delivery(message))") }
            }
            lines.append("Geschiedenis van het account:")
            for event in account.events { lines.append("  \(self.event(event))") }
            if account.events.isEmpty { lines.append("  —") }
        }
        Swift.print(lines.map { TextSafety.visible($0) }.joined(separator: "\n"))
    }

    static func pad(_ label: String) -> String {
        label.count >= 21 ? label + " " : label.padding(toLength: 21, withPad: " ", startingAt: 0)
    }

    static func shown(_ address: String?) -> String {
        guard let address, !address.isEmpty else { return "—" }
        return address
    }

    /// Where an invitation's link stands.
    static func state(_ invitation: AccountDetails.Invitation) -> String {
        if let used = invitation.usedAt { return "gebruikt op \(DutchText.localTime(used)) (account geactiveerd)" }
        if let revoked = invitation.revokedAt {
            return "ingetrokken op \(DutchText.localTime(revoked)): \(DutchText.revokedReason(invitation.revokedReason))"
        }
        guard let sent = invitation.sentAt else { return "nog niet verstuurd" }
        guard let expires = invitation.expiresAt, let instant = ISO8601DateFormatter().date(from: expires) else {
            return "verstuurd op \(DutchText.localTime(sent))"
        }
        // The mail tells the parent the last whole day; the link itself works until the moment it expires.
        let lastDay = Day.today(now: instant).adding(days: -1).dutch
        if instant <= Date() { return "verstuurd op \(DutchText.localTime(sent)); verlopen op \(DutchText.localTime(expires))" }
        return "verstuurd op \(DutchText.localTime(sent)), geldig tot en met \(lastDay) (de link werkt tot \(DutchText.localTime(expires)))"
    }

    /// What became of one message.
    static func delivery(_ message: AccountDetails.Delivery) -> String {
        var text = DutchText.mailStatus(message.status)
        switch message.status {
        case "bounced":
            let when = message.bouncedAt.map { " op \(DutchText.localTime($0))" } ?? ""
            let code = message.bounceStatus.map { " \($0)" } ?? ""
            let said = message.bounceDiagnostic ?? message.lastError
            text += "\(when):\(code)\(said.map { " — de mailserver van de ontvanger meldt: \($0)" } ?? "")"
            if let sent = message.sentAt { text += " (verstuurd op \(DutchText.localTime(sent)))" }
        case "sent":
            if let sent = message.sentAt { text += " op \(DutchText.localTime(sent))" }
        case "failed":
            text += " na \(DutchText.count(message.attempts, "poging", "pogingen"))\(message.lastError.map { ": \($0)" } ?? "")"
        case "queued":
            if message.attempts > 0 { text += " (\(DutchText.count(message.attempts, "poging", "pogingen")); laatste fout: \(message.lastError ?? "onbekend"))" }
        default:
            break
        }
        if let delayed = message.delayedAt {
            text += "; vertraging gemeld op \(DutchText.localTime(delayed))\(message.delayStatus.map { " (\($0))" } ?? "")\(message.delayDiagnostic.map { ": \($0)" } ?? "")"
        }
        return text
    }

    static func event(_ event: AccountEvent) -> String {
        let when = DutchText.localTime(event.at)
        switch event.kind {
        case "resend":
            return "\(when) nieuwe activatielink naar \(event.address ?? "?")\(event.detail.map { $0.isEmpty ? "" : " (\($0))" } ?? "") door \(event.operator ?? "onbekend")\(event.reason.map { ": \($0)" } ?? " (geen reden opgegeven)")"
        case "bounce":
            return "\(when) e-mail aan \(event.address ?? "?") onbestelbaar\(event.detail.map { ": \($0)" } ?? "")"
        case "delay":
            return "\(when) e-mail aan \(event.address ?? "?") vertraagd\(event.detail.map { ": \($0)" } ?? "")"
        default:
            return "\(when) \(event.kind)"
        }
    }
}
