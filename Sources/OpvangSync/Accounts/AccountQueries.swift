import Foundation
import PortalStore

/// One parent as `accounts list` shows it.
public struct AccountListing: Codable, Sendable {
    public var parent: String
    public var name: String
    /// `invited`, `verlopen`, `ingetrokken`, `bounced`, `active`, `disabled`, `none` or `conflict` (a code, for
    /// machines; `DutchText.accountStatus` says it in words).
    public var status: String
    /// Where the parent stands in the planning system's terms (`account_state.state`): `account`, `member`,
    /// `no-email`, `conflict`, `not-eligible`.
    public var state: String?
    public var username: String?
    public var emailColumn: String?
    public var invitedAt: String?
    public var activatedAt: String?
    public var termsAcceptedAt: String?
    public var detail: String?
}

/// One staff member of a group, as "Ons team" shows it.
public struct TeamMember: Codable, Sendable {
    public var number: String
    public var name: String
    public var role: String?
    /// Children of this group whose mentor this staff member is.
    public var mentorOf: Int
}

/// Everything customer service needs to answer a parent: `accounts show`.
public struct AccountDetails: Encodable, Sendable {
    public struct Child: Codable, Sendable {
        public var number: String
        public var name: String
        public var role: String
        /// The child's mentor: "Voornaam Achternaam (M00012)".
        public var mentor: String?
        /// Groups of the child's active placements.
        public var groups: [String]
        /// After care ended: photos and diary until, documents until (nil: no documents for this parent).
        public var photosUntil: String?
        public var documentsUntil: String?
    }

    /// What became of the mail of an invitation (or of any message): the outbox's record of it.
    public struct Delivery: Codable, Sendable {
        public var kind: String
        /// `queued`, `sent`, `failed`, `bounced` or `cancelled`.
        public var status: String
        public var recipient: String
        public var attempts: Int
        public var queuedAt: String
        public var sentAt: String?
        public var lastError: String?
        /// A bounce: the enhanced status code, what the receiving server said, and when it came back.
        public var bounceStatus: String?
        public var bounceDiagnostic: String?
        public var bouncedAt: String?
        /// A delay reported by a delivery report (4.x.x): noted only.
        public var delayStatus: String?
        public var delayDiagnostic: String?
        public var delayedAt: String?
    }

    public struct Invitation: Codable, Sendable {
        public var address: String
        public var createdAt: String
        public var sentAt: String?
        public var expiresAt: String?
        public var usedAt: String?
        public var revokedAt: String?
        public var revokedReason: String?
        /// The invitation's last message.
        public var delivery: Delivery?
    }

    /// Both addresses the planning system gives a parent, which one is the login and why.
    public struct Addresses: Codable, Sendable {
        public var parent: String
        /// `E-mail` and `E-mail 2` as the export has them (as written).
        public var email: String?
        public var email2: String?
        /// `E-mail` or `E-mail 2`: the column the login address comes from; nil when neither is usable.
        public var used: String?
        /// Why, in Dutch.
        public var why: String
    }

    public var parents: [AccountListing]
    public var addresses: [Addresses]
    public var owner: String?
    public var children: [Child]
    public var invitations: [Invitation]
    /// Every message of the account, oldest first.
    public var mail: [Delivery]
    /// New links sent by customer service, bounces and delays, oldest first.
    public var events: [AccountEvent]
}

/// What `accounts show` found for an e-mail address, an Oudernummer or a Kindnummer.
public struct AccountLookup: Encodable, Sendable {
    /// A child asked about: its number, name and parents (Oudernummer and role).
    public struct ChildMatch: Codable, Sendable {
        public var number: String
        public var name: String
        public var parents: [String]
    }

    public var child: ChildMatch?
    /// One entry per account (or parent without one) involved.
    public var accounts: [AccountDetails]
}

extension PortalRepository {
    /// SQL for "Voornaam tussenvoegsel achternaam" of a person row (`alias` is the table alias, or ""),
    /// without double spaces where the infix is empty.
    static func fullName(_ alias: String) -> String {
        let prefix = alias.isEmpty ? "" : alias + "."
        return "TRIM(REPLACE(COALESCE(\(prefix)first_name, '') || ' ' || COALESCE(\(prefix)infix, '') || ' ' || COALESCE(\(prefix)last_name, ''), '  ', ' '))"
    }

    /// Every parent with an account or an account state, one row each, optionally of one status.
    public func accountListings(status: String? = nil, now: Date = Date()) throws -> [AccountListing] {
        let rows = try database.query("""
            SELECT p.key, \(PortalRepository.fullName("p")),
                   s.state, s.email_column, s.detail, a.parent_number, a.username, a.activated_at, a.terms_accepted_at,
                   a.disabled_at, a.email_column,
                   (SELECT MAX(COALESCE(i.sent_at, i.created_at)) FROM invitations i WHERE i.account = a.parent_number),
                   (SELECT COUNT(*) FROM invitations i WHERE i.account = a.parent_number AND i.used_at IS NULL
                        AND i.revoked_at IS NULL AND (i.expires_at IS NULL OR i.expires_at > ?)),
                   (SELECT COUNT(*) FROM invitations i WHERE i.account = a.parent_number AND i.used_at IS NULL
                        AND i.revoked_at IS NULL AND i.expires_at <= ?),
                   (SELECT COUNT(*) FROM invitations i WHERE i.account = a.parent_number AND i.used_at IS NULL
                        AND i.revoked_at IS NOT NULL AND i.revoked_reason IN ('address-gone', 'no-children', 'address-changed')),
                   (SELECT i.revoked_reason FROM invitations i WHERE i.account = a.parent_number ORDER BY i.id DESC LIMIT 1)
            FROM parents p
            LEFT JOIN account_state s ON s.parent_number = p.key
            LEFT JOIN account_members m ON m.parent_number = p.key
            LEFT JOIN accounts a ON a.parent_number = m.account
            WHERE s.parent_number IS NOT NULL OR a.parent_number IS NOT NULL
            ORDER BY CAST(p.key AS INTEGER), p.key
            """, [.text(Timestamp.iso(now)), .text(Timestamp.iso(now))]) { row -> AccountListing in
            let state = row.string(2)
            let listingStatus: String
            if state == "conflict" {
                listingStatus = "conflict"
            } else if row.string(5) == nil {
                listingStatus = "none"
            } else if !row.isNull(9) {
                listingStatus = "disabled"
            } else if !row.isNull(7) {
                listingStatus = "active"
            } else if (row.int(12) ?? 0) == 0, (row.int(13) ?? 0) > 0 {
                // The link ran out before the parent used it: customer service sends a new one.
                listingStatus = "verlopen"
            } else if (row.int(12) ?? 0) == 0, row.string(15) == "bounced" {
                // The last link never arrived: the receiving server refused it (now, or in a bounce later).
                listingStatus = "bounced"
            } else if (row.int(12) ?? 0) == 0, (row.int(14) ?? 0) > 0 {
                // The link was withdrawn (the address went, the family changed): no working link now.
                listingStatus = "ingetrokken"
            } else {
                listingStatus = "invited"
            }
            return AccountListing(parent: row.string(0) ?? "", name: row.string(1) ?? "",
                                  status: listingStatus, state: state, username: row.string(6), emailColumn: row.string(3) ?? row.string(10),
                                  invitedAt: row.string(11), activatedAt: row.string(7), termsAcceptedAt: row.string(8),
                                  detail: row.string(4) ?? (state == "no-email" ? "geen bruikbaar e-mailadres" : state == "not-eligible" ? "geen kind in de opvang (binnen de uitnodigingstermijn)" : nil))
        }
        guard let status else { return rows }
        return rows.filter { $0.status == status }
    }

    /// The account owner for an e-mail address or Oudernummer, and the parent asked about.
    public func resolveAccount(_ query: String) throws -> (parent: String, owner: String?)? {
        if query.contains("@") {
            guard let owner = try database.scalarString("SELECT parent_number FROM accounts WHERE username = ?",
                                                        [.text(EmailAddress.normalised(query))]) else { return nil }
            return (owner, owner)
        }
        let exists = try database.scalarInt("SELECT COUNT(*) FROM parents WHERE key = ?", [.text(query)]) ?? 0 > 0
        let owner = try database.scalarString("SELECT account FROM account_members WHERE parent_number = ?", [.text(query)])
        return exists || owner != nil ? (query, owner) : nil
    }

    /// `accounts show`: an e-mail address (an account's username, or E-mail or E-mail 2 of a parent), an
    /// Oudernummer, or a Kindnummer (every parent of the child). Nil when nothing matches.
    public func accountLookup(_ query: String, now: Date = Date()) throws -> AccountLookup? {
        var parents: [String] = []
        var child: AccountLookup.ChildMatch?
        if query.contains("@") {
            let address = EmailAddress.normalised(query)
            if let owner = try database.scalarString("SELECT parent_number FROM accounts WHERE username = ?", [.text(address)]) {
                parents.append(owner)
            }
            // The address as the planning system holds it: a parent who uses the other column, or has no account.
            let lowered = query.trimmingUnicodeSpace.lowercased()
            parents += try database.query("""
                SELECT key FROM parents WHERE LOWER(TRIM(email)) = ? OR LOWER(TRIM(email2)) = ? ORDER BY CAST(key AS INTEGER), key
                """, [.text(lowered), .text(lowered)]) { $0.string(0) ?? "" }
        } else {
            if try database.scalarInt("SELECT COUNT(*) FROM parents WHERE key = ?", [.text(query)]) ?? 0 > 0
                || database.scalarInt("SELECT COUNT(*) FROM account_members WHERE parent_number = ?", [.text(query)]) ?? 0 > 0 {
                parents.append(query)
            }
            if let name = try database.statement("SELECT \(PortalRepository.fullName("")) FROM children WHERE key = ?")
                .firstRow([.text(query)], { $0.string(0) ?? "" }) {
                let linked = try database.query("""
                    SELECT parent_number, role FROM relations WHERE child_number = ? AND status = 'active' ORDER BY role, parent_number
                    """, [.text(query)]) { (number: $0.string(0) ?? "", role: $0.string(1) ?? "") }
                child = AccountLookup.ChildMatch(number: query, name: name, parents: linked.map { "\($0.number) (\($0.role))" })
                parents += linked.map(\.number)
            }
        }
        // One entry per account: a parent who shares an account is shown with it.
        var seen: Set<String> = []
        var accounts: [AccountDetails] = []
        for parent in parents {
            let owner = try database.scalarString("SELECT account FROM account_members WHERE parent_number = ?", [.text(parent)])
            guard seen.insert(owner ?? "parent:" + parent).inserted else { continue }
            accounts.append(try accountDetails(parent: parent, owner: owner, now: now))
        }
        guard child != nil || !accounts.isEmpty else { return nil }
        return AccountLookup(child: child, accounts: accounts)
    }

    /// The account of `parent` (owned by `owner`, or none), with all its members.
    func accountDetails(parent: String, owner: String?, now: Date) throws -> AccountDetails {
        var members = [parent]
        if let owner {
            members = try database.query("SELECT parent_number FROM account_members WHERE account = ? ORDER BY parent_number",
                                         [.text(owner)]) { $0.string(0) ?? "" }
        }
        let listings = try accountListings(now: now).filter { members.contains($0.parent) }
        let placeholders = Array(repeating: "?", count: members.count).joined(separator: ", ")
        let children = try database.query("""
            SELECT c.key, \(PortalRepository.fullName("c")),
                   r.role || ' (ouder ' || r.parent_number || ')',
                   (SELECT TRIM(COALESCE(s.first_name, '') || ' ' || COALESCE(s.last_name, '')) || ' (' || s.key || ')'
                    FROM staff s WHERE s.key = c.mentor),
                   (SELECT GROUP_CONCAT(g.name || ' (' || p.group_code || ')', ', ') FROM placements p
                    LEFT JOIN groups g ON g.key = p.group_code WHERE p.child_number = c.key AND p.status = 'active'),
                   w.photos_until, w.documents_until
            FROM relations r JOIN children c ON c.key = r.child_number
            LEFT JOIN access_windows w ON w.parent_number = r.parent_number AND w.child_number = r.child_number
            WHERE r.status = 'active' AND r.parent_number IN (\(placeholders)) ORDER BY c.key, r.parent_number
            """, members.map { .text($0) }) { row in
            AccountDetails.Child(number: row.string(0) ?? "", name: row.string(1) ?? "",
                                 role: row.string(2) ?? "", mentor: row.string(3),
                                 groups: (row.string(4) ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                                     .filter { !$0.isEmpty },
                                 photosUntil: row.string(5), documentsUntil: row.string(6))
        }
        let addresses = try database.query("""
            SELECT key, email, email2 FROM parents WHERE key IN (\(placeholders)) ORDER BY CAST(key AS INTEGER), key
            """, members.map { .text($0) }) { row -> AccountDetails.Addresses in
            let email = row.string(1), email2 = row.string(2)
            let (used, why) = PortalRepository.loginChoice(email: email, email2: email2)
            return AccountDetails.Addresses(parent: row.string(0) ?? "", email: email, email2: email2, used: used, why: why)
        }
        let invitations = try database.query("""
            SELECT i.address, i.created_at, i.sent_at, i.expires_at, i.used_at, i.revoked_at, i.revoked_reason, o.id
            FROM invitations i LEFT JOIN outbox o ON o.id = (SELECT MAX(x.id) FROM outbox x WHERE x.invitation_id = i.id)
            WHERE i.account = ? ORDER BY i.id
            """, [.text(owner ?? "")]) { row in
            (AccountDetails.Invitation(address: row.string(0) ?? "", createdAt: row.string(1) ?? "", sentAt: row.string(2),
                                       expiresAt: row.string(3), usedAt: row.string(4), revokedAt: row.string(5),
                                       revokedReason: row.string(6)), row.int(7))
        }
        let mail = try database.query("""
            SELECT id, kind, status, recipient, attempts, queued_at, sent_at, last_error, bounce_status, bounce_diagnostic, bounced_at,
                   delay_status, delay_diagnostic, delayed_at
            FROM outbox WHERE account = ? ORDER BY id
            """, [.text(owner ?? "")]) { row in
            (row.int(0) ?? 0, AccountDetails.Delivery(
                kind: row.string(1) ?? "", status: row.string(2) ?? "", recipient: row.string(3) ?? "", attempts: row.int(4) ?? 0,
                queuedAt: row.string(5) ?? "", sentAt: row.string(6), lastError: row.string(7), bounceStatus: row.string(8),
                bounceDiagnostic: row.string(9), bouncedAt: row.string(10), delayStatus: row.string(11), delayDiagnostic: row.string(12),
                delayedAt: row.string(13)))
        }
        let byID = Dictionary(mail, uniquingKeysWith: { first, _ in first })
        let events = try members.flatMap { try accountEvents(parent: $0) }.sorted { $0.at < $1.at }
        return AccountDetails(parents: listings, addresses: addresses, owner: owner, children: children,
                              invitations: invitations.map { invitation, message in
                                  var item = invitation
                                  item.delivery = message.flatMap { byID[$0] }
                                  return item
                              },
                              mail: mail.map(\.1), events: events)
    }

    /// Which column the login address comes from and why, in Dutch, by the rule of SPEC §4 "Which e-mail".
    static func loginChoice(email: String?, email2: String?) -> (column: String?, why: String) {
        func problem(_ value: String?) -> String? {
            guard let value, !value.trimmingUnicodeSpace.isEmpty else { return "leeg" }
            return EmailAddress.problem(value.trimmingUnicodeSpace).map { "ongeldig: \($0)" }
        }
        switch (problem(email), problem(email2)) {
        case (nil, _): return ("E-mail", "E-mail is een geldig adres; dat gaat altijd voor")
        case (let first?, nil): return ("E-mail 2", "E-mail is \(first), dus E-mail 2")
        case (let first?, let second?): return (nil, "geen bruikbaar adres: E-mail is \(first), E-mail 2 is \(second)")
        }
    }

    /// The staff of a group ("Ons team"): who works there, and how many of its children each mentors.
    public func team(group: String) throws -> [TeamMember] {
        guard try database.scalarInt("SELECT COUNT(*) FROM groups WHERE key = ?", [.text(group)]) ?? 0 > 0 else {
            throw UsageError("no group \(group) in this portal")
        }
        return try database.query("""
            SELECT s.key, \(PortalRepository.fullName("s")), s.role,
                   (SELECT COUNT(DISTINCT c.key) FROM children c JOIN placements p ON p.child_number = c.key
                    WHERE c.mentor = s.key AND p.group_code = ? AND p.status = 'active' AND c.status = 'active')
            FROM staff s
            WHERE s.status = 'active' AND ('|' || COALESCE(s.group_codes, '') || '|') LIKE '%|' || ? || '|%'
            ORDER BY s.last_name, s.first_name
            """, [.text(group), .text(group)]) { row in
            TeamMember(number: row.string(0) ?? "", name: row.string(1) ?? "",
                       role: row.string(2), mentorOf: row.int(3) ?? 0)
        }
    }

    /// The organisation as the last import described it, for mail sent outside an import.
    public func organisationContext() throws -> MailContext? {
        try database.statement("SELECT name, portal_url FROM organisation ORDER BY updated_run DESC LIMIT 1").firstRow { row in
            MailContext(name: row.string(0) ?? "", portalURL: row.string(1) ?? "")
        } ?? nil
    }

    /// Customer service's "Nieuw wachtwoord verzenden": revokes the open link and queues a new one.
    /// Returns the outbox id of the new message.
    /// Whether the account is disabled (every window of its children passed, or no child left).
    public func isDisabled(account owner: String) throws -> Bool {
        try database.scalarInt("SELECT COUNT(*) FROM accounts WHERE parent_number = ? AND disabled_at IS NOT NULL", [.text(owner)]) ?? 0 > 0
    }

    /// Accounts not yet activated whose last open invitation expired after `since` and by `now`: the parents
    /// a report names once, at the first run after their link ran out.
    public func invitationsExpired(since: String?, now: Date) throws -> [String] {
        try database.query("""
            SELECT DISTINCT i.account FROM invitations i JOIN accounts a ON a.parent_number = i.account
            WHERE a.activated_at IS NULL AND i.used_at IS NULL AND i.revoked_at IS NULL
              AND i.expires_at <= ? AND i.expires_at > ?
              AND NOT EXISTS (SELECT 1 FROM invitations o WHERE o.account = i.account AND o.used_at IS NULL
                              AND o.revoked_at IS NULL AND (o.expires_at IS NULL OR o.expires_at > ?))
            ORDER BY i.account
            """, [.text(Timestamp.iso(now)), .text(since ?? ""), .text(Timestamp.iso(now))]) { $0.string(0) ?? "" }
    }

    /// The start of the last run that applied an export, if any.
    public func lastAppliedRunStart() throws -> String? {
        try database.scalarString("SELECT MAX(started_at) FROM runs WHERE status = 'applied' AND mode = 'apply'")
    }

    /// A new link for the account of `owner`, asked for `parent` (the owner or a member), by `name` for
    /// `reason`: the previous link dies, and the account's history records who sent it, why and to which
    /// address. Returns the outbox id of the new message, the address and the column it came from.
    public func resendInvitation(account owner: String, parent: String? = nil, operator name: String, reason: String? = nil,
                                 now: Date = Date()) throws -> (message: Int64, address: String, column: String?) {
        guard let context = try organisationContext() else {
            throw UsageError("no import has run on this portal yet, so its name and portal URL are unknown")
        }
        let parentName = try database.scalarString("""
            SELECT \(PortalRepository.fullName("")) FROM parents WHERE key = ?
            """, [.text(owner)])
        let column = try database.scalarString("SELECT email_column FROM accounts WHERE parent_number = ?", [.text(owner)])
        return try database.inTransaction {
            let writer = PortalWriter(database: database)
            let message = try writer.resend(account: owner, name: parentName, organisation: context, runID: "resend by \(name)", now: now)
            let address = try database.scalarString("SELECT recipient FROM outbox WHERE id = ?", [.integer(message)]) ?? ""
            let detail = [column.map { "kolom \($0)" }, parent.flatMap { $0 == owner ? nil : "gedeeld account van ouder \(owner)" }]
                .compactMap { $0 }.joined(separator: ", ")
            try writer.recordAccountEvent(AccountEvent(parent: parent ?? owner, at: Timestamp.iso(now), kind: "resend", operator: name,
                                                       reason: reason, address: address, detail: detail))
            return (message, address, column)
        }
    }
}
