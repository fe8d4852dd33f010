import Foundation
import Mail

/// SPEC §8: where mail goes and how it is signed.
public struct MailSettings: Sendable, Equatable {
    /// `maildir:DIR` (default `maildir:outbox`), `smtp://host:port` (STARTTLS) or `smtps://host:port`.
    public var transport = "maildir:outbox"
    /// `Name <address>`; default: the organisation's name at `noreply@<portal host>`.
    public var from: String?
    public var username: String?
    /// A file holding the SMTP password; `OPVANGSYNC_SMTP_PASSWORD` in the environment is used otherwise.
    public var passwordFile: String?
    public var caFile: String?
    public var maxAttempts = 6
    /// Seconds one message may take in all.
    public var timeoutSeconds = 60
    /// Seconds to set up a connection (TCP, greeting, EHLO, STARTTLS).
    public var connectTimeoutSeconds = 10
    /// Seconds the server may take to answer one command.
    public var replyTimeoutSeconds = 30
    /// Seconds one `mail send` (or the mail of `import --send-mail`) may take; what is left waits for the next.
    public var batchDeadlineSeconds = 300
    /// Template kind → file replacing the built-in Dutch text.
    public var templates: [String: String] = [:]
    /// The envelope sender's address (`bounces@example.nl`): each message goes out from
    /// `bounces+TAG@example.nl`, TAG random and its own, so a bounce that comes back names its message (VERP).
    /// nil: the envelope sender is the From address, and bounces are matched by the original Message-ID.
    public var returnPath: String?
    /// Where bounces arrive: `maildir:DIR` or `imaps://host/MAILBOX`; nil: `mail bounces` reads nothing.
    public var bounces: String?
    public var bouncesUsername: String?
    /// A file holding the bounce mailbox's password (IMAP).
    public var bouncesPasswordFile: String?

    public init() {}

    /// The bounce mailbox these settings name, or nil when none is configured. The password is read here.
    public func makeBounceMailbox() throws -> BounceMailbox? {
        guard let bounces else { return nil }
        if bounces.hasPrefix("maildir:") { return MaildirBounceMailbox(directory: String(bounces.dropFirst("maildir:".count))) }
        guard let username = bouncesUsername, let file = bouncesPasswordFile else {
            throw UsageError("mail.bounces over IMAP needs mail.bouncesUsername and mail.bouncesPasswordFile")
        }
        guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
            throw UsageError("cannot read the bounce mailbox's password file \(file)")
        }
        do {
            return try IMAPBounceMailbox(settings: IMAPSettings(url: bounces, username: username,
                                                                password: text.trimmingCharacters(in: .newlines), caFile: caFile))
        } catch {
            throw UsageError("mail.bounces: \(error)")
        }
    }

    /// The envelope sender of one message: `local+TAG@domain` of `returnPath`; nil without one.
    public func envelopeSender(tag: String) -> String? {
        guard let returnPath, let at = returnPath.lastIndex(of: "@") else { return nil }
        return "\(returnPath[..<at])+\(tag)\(returnPath[at...])"
    }

    /// The transport these settings describe. The password is read here, at the last moment.
    public func makeTransport() throws -> MailTransport {
        if transport.hasPrefix("maildir:") {
            let directory = String(transport.dropFirst("maildir:".count))
            guard !directory.isEmpty else { throw UsageError("mail transport maildir: needs a folder, e.g. maildir:outbox") }
            return MaildirTransport(directory: directory)
        }
        var settings = SMTPSettings(url: transport, username: username, caFile: caFile)
        settings.timeoutSeconds = timeoutSeconds
        settings.connectTimeoutSeconds = connectTimeoutSeconds
        settings.replyTimeoutSeconds = replyTimeoutSeconds
        if let passwordFile {
            guard let data = FileManager.default.contents(atPath: passwordFile),
                  let text = String(data: data, encoding: .utf8) else {
                throw UsageError("cannot read the SMTP password file \(passwordFile)")
            }
            settings.password = text.trimmingCharacters(in: .newlines)
        } else if let password = ProcessInfo.processInfo.environment["OPVANGSYNC_SMTP_PASSWORD"] {
            settings.password = password
        }
        do {
            return try SMTPTransport(settings: settings)
        } catch {
            throw UsageError("mail.transport: \(error)")
        }
    }
}
