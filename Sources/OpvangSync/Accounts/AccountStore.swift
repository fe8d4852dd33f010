import Foundation
import PortalStore

/// The mail a run queues, described without the activation token (which is made only when it is sent).
struct QueuedMail: Sendable {
    enum Kind: String { case invitation, resend, addressChangeOld = "address-change-old", addressChangeNew = "address-change-new" }
    var kind: Kind
    var account: String
    var recipient: String
    /// Template values: names, organisation, addresses. Never a token.
    var data: [String: String]
}

/// The account tables: reading them once per run and writing a run's account actions.
struct AccountStore {
    let database: Database

    /// Every account, or for a scoped run those that `parents` own or use and those whose username is
    /// one of `addresses` (whoever holds a login address the scope's parents would take).
    func load(parents: Set<String>? = nil, addresses: Set<String> = []) throws -> ExistingAccounts {
        var existing = ExistingAccounts()
        var accountsSQL = "SELECT parent_number, username, email_column, activated_at, disabled_at FROM accounts"
        var membersSQL = "SELECT parent_number, account FROM account_members"
        var statesSQL = "SELECT parent_number, state, email_column, detail FROM account_state"
        let set = PortalLookup.set
        if parents != nil {
            accountsSQL += " WHERE parent_number IN \(set) OR username IN \(set) OR parent_number IN (SELECT account FROM account_members WHERE parent_number IN \(set))"
            membersSQL += " WHERE parent_number IN \(set) OR account IN \(set)"
            statesSQL += " WHERE parent_number IN \(set)"
        }
        let scope = parents.map { [PortalLookup.bind($0)] } ?? []
        try database.statement(accountsSQL).forEachRow(parents == nil ? [] : scope + [PortalLookup.bind(addresses)] + scope) { row in
            guard let owner = row.string(0), let username = row.string(1) else { return }
            existing.accounts[owner] = .init(owner: owner, username: username, emailColumn: row.string(2),
                                             activated: !row.isNull(3), disabled: !row.isNull(4))
            existing.ownerOfUsername[username] = owner
            existing.accountOf[owner] = owner
        }
        // The members of the scope's parents, and of every account just read.
        try database.statement(membersSQL).forEachRow(parents == nil ? [] : scope + [PortalLookup.bind(Set(existing.accounts.keys))]) { row in
            if let parent = row.string(0), let account = row.string(1) { existing.accountOf[parent] = account }
        }
        try database.statement(statesSQL).forEachRow(scope) { row in
            guard let parent = row.string(0), let state = row.string(1).flatMap(ParentAccountState.State.init(rawValue:)) else { return }
            existing.states[parent] = ParentAccountState(state: state, emailColumn: row.string(2), detail: row.string(3))
        }
        return existing
    }

    /// Writes the account plan; part of the run's transaction. Returns the number of messages queued.
    func apply(_ plan: AccountPlan, names: [String: String], organisation: MailContext, runID: String, now: Date) throws -> Int {
        var queued = 0
        let stamp = Timestamp.iso(now)
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
                queued += 1
            case .join(let parent, let owner):
                try database.run("INSERT OR REPLACE INTO account_members (parent_number, account, since_run) VALUES (?, ?, ?)",
                                 [.text(parent), .text(owner), .text(runID)])
                // A link the parent was sent for an account of its own is superseded by the shared account:
                // it dies here, in this run's transaction, with any of its mail still waiting.
                if parent != owner { try revokeOpenInvitations(of: parent, reason: "joined-shared-account", at: stamp) }
            case .detach(let parent, let owner):
                try database.run("DELETE FROM account_members WHERE parent_number = ? AND account = ?", [.text(parent), .text(owner)])
            case .withdraw(let owner, let reason):
                try revokeOpenInvitations(of: owner, reason: reason, at: stamp)
            case .move(let owner, let from, let to, let column, let activated):
                try database.run("UPDATE accounts SET username = ?, email_column = ?, updated_run = ? WHERE parent_number = ?",
                                 [.text(to), .text(column), .text(runID), .text(owner)])
                if activated {
                    let data = ["oudAdres": from, "nieuwAdres": to, "gebruikersnaam": to]
                    try enqueue(QueuedMail(kind: .addressChangeOld, account: owner, recipient: from, data: data),
                                invitation: nil, name: names[owner], organisation: organisation, runID: runID, stamp: stamp)
                    try enqueue(QueuedMail(kind: .addressChangeNew, account: owner, recipient: to, data: data),
                                invitation: nil, name: names[owner], organisation: organisation, runID: runID, stamp: stamp)
                    queued += 2
                } else {
                    try revokeOpenInvitations(of: owner, reason: "address-changed", at: stamp)
                    try invite(owner, to, kind: .invitation, name: names[owner], organisation: organisation, runID: runID, stamp: stamp)
                    queued += 1
                }
            }
        }
        for (parent, state) in plan.states {
            try database.run("""
                INSERT OR REPLACE INTO account_state (parent_number, state, email_column, detail, run_id) VALUES (?, ?, ?, ?, ?)
                """, [.text(parent), .text(state.state.rawValue), state.emailColumn.sqlValue, state.detail.sqlValue, .text(runID)])
        }
        return queued
    }

    /// Queues one message; the template values are stored, the rendering (and any token) waits for sending.
    @discardableResult
    func enqueue(_ mail: QueuedMail, invitation: Int64?, name: String?, organisation: MailContext, runID: String,
                 stamp: String) throws -> Int64 {
        var data = mail.data
        data["organisatie"] = organisation.name
        data["portaal"] = organisation.portalURL
        data["naam"] = name ?? ""
        let fields = data.sorted { $0.key < $1.key }.map { "\(JSONText.quote($0.key)):\(JSONText.quote($0.value))" }
        try database.run("""
            INSERT INTO outbox (message_id, kind, account, invitation_id, recipient, data, next_attempt_at, queued_at, run_id)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [.text(MailContext.messageID(host: organisation.host)), .text(mail.kind.rawValue), .text(mail.account),
                  invitation.map { .integer($0) } ?? .null, .text(mail.recipient), .text("{\(fields.joined(separator: ","))}"),
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
}

/// The organisation as mail shows it.
public struct MailContext: Sendable {
    public let name: String
    public let portalURL: String

    /// The portal's host name, for Message-IDs and the default sender. Parsed once: a first import
    /// queues a message for every family.
    public let host: String

    public init(name: String, portalURL: String) {
        self.name = name
        self.portalURL = portalURL.hasSuffix("/") ? String(portalURL.dropLast()) : portalURL
        host = URLComponents(string: self.portalURL)?.host ?? "opvangsync.invalid"
    }

    /// A Message-ID that no other message has: this process's random prefix and a running number. A
    /// first import queues a message for every family; ids in the order they are made keep the outbox's
    /// unique index growing at its end, where a random id per message would touch a random page each.
    static func messageID(host: String) -> String {
        "\(MessageSequence.prefix).\(MessageSequence.next())@\(host)"
    }
}

/// The running number behind Message-IDs, shared by every thread of the process.
private enum MessageSequence {
    static let prefix = UUID().uuidString.lowercased()
    private static let counter = Counter()

    /// Zero-padded, so that the ids sort as they were made.
    static func next() -> String {
        let number = String(counter.next())
        return String(repeating: "0", count: max(0, 10 - number.count)) + number
    }

    private final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0

        func next() -> Int {
            lock.lock()
            defer { lock.unlock() }
            value += 1
            return value
        }
    }
}
