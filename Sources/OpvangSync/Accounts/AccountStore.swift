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

/// The account tables as a run reads them (the writes are `PortalWriter`'s).
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

    /// The standing issues the portal keeps for every parent but `skipped`, as the run that last planned each
    /// parent found them.
    func standingIssues(except skipped: Set<String>) throws -> [Issue] {
        var issues: [Issue] = []
        try database.statement("""
            SELECT parent_number, severity, code, message FROM standing_issues
            WHERE parent_number NOT IN \(PortalLookup.set) ORDER BY parent_number, position
            """).forEachRow([PortalLookup.bind(skipped)]) { row in
            guard let parent = row.string(0), let severity = row.string(1).flatMap(Issue.Severity.init(rawValue:)),
                  let code = row.string(2), let message = row.string(3) else { return }
            issues.append(Issue(severity, code, key: parent, message: message))
        }
        return issues
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
