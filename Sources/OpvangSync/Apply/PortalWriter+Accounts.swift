import Foundation
import PortalStore

extension PortalWriter {
    /// What applying an account plan did: the messages queued, and the accounts the portal activated between
    /// the plan and the transaction, whose actions were planned again from what they are now.
    struct AccountsApplied {
        var queued = 0
        var activatedMeanwhile: [String] = []
    }

    /// The account plan: accounts, members, invitations and their mail, account states.
    ///
    /// The plan was made from the activation read before the transaction; the portal may have activated an
    /// account since. Each write that depends on it says what it read (`activated_at IS NULL`); when the
    /// account was activated in between, it is done as for an activated account (SPEC §4: notices to both
    /// addresses, the password stays, no new link).
    func applyAccounts(_ plan: AccountPlan, names: ParentNames, organisation: MailContext, runID: String,
                       now: Date) throws -> AccountsApplied {
        var applied = AccountsApplied()
        let stamp = Timestamp.iso(now)
        func isActivated(_ owner: String) throws -> Bool {
            try database.scalarInt("SELECT activated_at IS NOT NULL FROM accounts WHERE parent_number = ?", [.text(owner)]) == 1
        }
        for action in plan.actions {
            switch action {
            case .create(let owner, let username, let column, let members):
                try database.run("""
                    INSERT INTO accounts (parent_number, username, email_column, created_run, updated_run) VALUES (?, ?, ?, ?, ?)
                    """, [.text(owner), .text(username), .text(column), .text(runID), .text(runID)])
                for parent in [owner] + members {
                    try database.run("INSERT OR REPLACE INTO account_members (parent_number, account, since_run) VALUES (?, ?, ?)",
                                     [.text(parent), .text(owner), .text(runID)])
                }
                try invite(owner, username, kind: .invitation, name: names[owner], organisation: organisation, runID: runID, stamp: stamp)
                applied.queued += 1
            case .join(let parent, let owner):
                try database.run("INSERT OR REPLACE INTO account_members (parent_number, account, since_run) VALUES (?, ?, ?)",
                                 [.text(parent), .text(owner), .text(runID)])
                // A link the parent was sent for an account of its own is superseded by the shared account:
                // it dies here, in this run's transaction, with any of its mail still waiting.
                if parent != owner { try revokeOpenInvitations(of: parent, reason: "joined-shared-account", at: stamp) }
            case .detach(let parent, let owner):
                try database.run("DELETE FROM account_members WHERE parent_number = ? AND account = ?", [.text(parent), .text(owner)])
            case .withdraw(let owner, let reason):
                // Planned for an account not yet activated; one activated since keeps its password and its
                // (used) link, and is flagged in the report instead.
                if try isActivated(owner) {
                    applied.activatedMeanwhile.append(owner)
                } else {
                    try revokeOpenInvitations(of: owner, reason: reason, at: stamp)
                }
            case .move(let owner, let from, let to, let column, let plannedActivated):
                var activated = plannedActivated
                if !activated {
                    try database.run("""
                        UPDATE accounts SET username = ?, email_column = ?, updated_run = ? WHERE parent_number = ? AND activated_at IS NULL
                        """, [.text(to), .text(column), .text(runID), .text(owner)])
                    if database.changes == 0 {
                        guard try isActivated(owner) else { continue }
                        activated = true
                        applied.activatedMeanwhile.append(owner)
                    }
                }
                if activated {
                    try database.run("UPDATE accounts SET username = ?, email_column = ?, updated_run = ? WHERE parent_number = ?",
                                     [.text(to), .text(column), .text(runID), .text(owner)])
                    let data = ["oudAdres": from, "nieuwAdres": to, "gebruikersnaam": to]
                    try enqueue(QueuedMail(kind: .addressChangeOld, account: owner, recipient: from, data: data),
                                invitation: nil, name: names[owner], organisation: organisation, runID: runID, stamp: stamp)
                    try enqueue(QueuedMail(kind: .addressChangeNew, account: owner, recipient: to, data: data),
                                invitation: nil, name: names[owner], organisation: organisation, runID: runID, stamp: stamp)
                    applied.queued += 2
                } else {
                    try revokeOpenInvitations(of: owner, reason: "address-changed", at: stamp)
                    try invite(owner, to, kind: .invitation, name: names[owner], organisation: organisation, runID: runID, stamp: stamp)
                    applied.queued += 1
                }
            }
        }
        try inBatches("INSERT OR REPLACE INTO account_state (parent_number, state, email_column, detail, run_id) VALUES ",
                      columns: 5) { rows in
            for (parent, state) in plan.states {
                try rows.add([.text(parent), .text(state.state.rawValue), state.emailColumn.sqlValue, state.detail.sqlValue, .text(runID)])
            }
        }
        return applied
    }

    /// The standing issues of the parents this run planned replace what the portal kept for them: `parents`
    /// (nil: every parent) without `kept`, the families of a held location, whose issues stay as they were.
    func replaceStandingIssues(_ standing: [String: [Issue]], parents: Set<String>?, kept: Set<String>, runID: String) throws {
        if let parents {
            try database.run("DELETE FROM standing_issues WHERE parent_number IN \(PortalLookup.set)",
                             [PortalLookup.bind(parents.subtracting(kept))])
        } else {
            try database.run("DELETE FROM standing_issues WHERE parent_number NOT IN \(PortalLookup.set)", [PortalLookup.bind(kept)])
        }
        for (parent, issues) in standing.sorted(by: { $0.key < $1.key }) where !kept.contains(parent) {
            for (position, issue) in issues.enumerated() {
                try database.run("""
                    INSERT INTO standing_issues (parent_number, position, severity, code, message, run_id) VALUES (?, ?, ?, ?, ?, ?)
                    """, [.text(parent), .integer(Int64(position)), .text(issue.severity.rawValue), .text(issue.code),
                          .text(issue.message), .text(runID)])
            }
        }
    }

    /// Queues one message; the template values are stored, the rendering (and any token) waits for sending.
    @discardableResult
    func enqueue(_ mail: QueuedMail, invitation: Int64?, name: String?, organisation: MailContext, runID: String,
                 stamp: String) throws -> Int64 {
        var data = mail.data
        data["organisatie"] = organisation.name
        data["portaal"] = organisation.portalURL
        data["naam"] = name ?? ""
        var fields = "{"
        for (index, field) in data.sorted(by: { $0.key < $1.key }).enumerated() {
            if index > 0 { fields += "," }
            JSONText.append(field.key, to: &fields)
            fields += ":"
            JSONText.append(field.value, to: &fields)
        }
        fields += "}"
        try database.run("""
            INSERT INTO outbox (message_id, kind, account, invitation_id, recipient, data, next_attempt_at, queued_at, run_id)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [.text(MailContext.messageID(host: organisation.host)), .text(mail.kind.rawValue), .text(mail.account),
                  invitation.map { .integer($0) } ?? .null, .text(mail.recipient), .text(fields),
                  .text(stamp), .text(stamp), .text(runID)])
        return database.lastInsertedRowID
    }

    /// A new invitation to `address` with its mail; returns the outbox id.
    @discardableResult
    func invite(_ account: String, _ address: String, kind: QueuedMail.Kind, name: String?, organisation: MailContext,
                runID: String, stamp: String) throws -> Int64 {
        try database.run("INSERT INTO invitations (account, address, created_at, run_id) VALUES (?, ?, ?, ?)",
                         [.text(account), .text(address), .text(stamp), .text(runID)])
        let invitation = database.lastInsertedRowID
        return try enqueue(QueuedMail(kind: kind, account: account, recipient: address, data: ["gebruikersnaam": address]),
                           invitation: invitation, name: name, organisation: organisation, runID: runID, stamp: stamp)
    }

    /// The old link stops working: open invitations are revoked and their unsent mail cancelled.
    func revokeOpenInvitations(of account: String, reason: String, at stamp: String) throws {
        try database.run("""
            UPDATE outbox SET status = 'cancelled', last_error = ? WHERE status = 'queued' AND invitation_id IN
                (SELECT id FROM invitations WHERE account = ? AND revoked_at IS NULL AND used_at IS NULL)
            """, [.text("invitation revoked: \(reason)"), .text(account)])
        try database.run("""
            UPDATE invitations SET revoked_at = ?, revoked_reason = ? WHERE account = ? AND revoked_at IS NULL AND used_at IS NULL
            """, [.text(stamp), .text(reason), .text(account)])
    }

    /// A fresh link for an account (customer service's "Nieuw wachtwoord verzenden"): the previous one dies.
    /// Returns the outbox id of the new message.
    func resend(account: String, name: String?, organisation: MailContext, runID: String, now: Date) throws -> Int64 {
        guard let username = try database.scalarString("SELECT username FROM accounts WHERE parent_number = ?", [.text(account)]) else {
            throw UsageError("parent \(account) has no account")
        }
        let stamp = Timestamp.iso(now)
        try revokeOpenInvitations(of: account, reason: "resend", at: stamp)
        return try invite(account, username, kind: .resend, name: name, organisation: organisation, runID: runID, stamp: stamp)
    }

    /// Something done to a parent's account between runs (a new link, a bounce, a delay), for its history.
    func recordAccountEvent(_ event: AccountEvent) throws {
        try database.run("""
            INSERT INTO account_events (parent_number, at, kind, operator, reason, address, detail) VALUES (?, ?, ?, ?, ?, ?, ?)
            """, [.text(event.parent), .text(event.at), .text(event.kind), event.operator.sqlValue, event.reason.sqlValue,
                  event.address.sqlValue, event.detail.sqlValue])
    }
}
