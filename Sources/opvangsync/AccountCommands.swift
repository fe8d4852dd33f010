import Foundation
import OpvangSync

/// `accounts` and `mail`: what customer service uses when a parent calls.
enum AccountCommands {
    static func settings(_ arguments: Arguments) throws -> OrganisationSettings {
        let configuration = try Configuration.load(path: arguments.value("config"))
        var settings = try configuration.settings(for: arguments.value("org"))
        if let db = arguments.value("db") { settings.database = db }
        settings.reports = AfterRun.absolute(settings.reports)
        guard FileManager.default.fileExists(atPath: settings.database) else {
            throw UsageError("no portal database at \(settings.database); run an import first or pass --db FILE")
        }
        return settings
    }

    /// The words `accounts list --status` takes: Dutch first, with the codes of the JSON.
    static var statusWords: String { DutchText.accountStatusWords.map { $0.words[0] }.joined(separator: "|") }

    static func accounts(_ words: [String]) throws -> ExitCode {
        let help = """
            Usage: opvangsync accounts list [--status \(statusWords)] [--format table|json|csv]
                   opvangsync accounts show EMAIL|OUDERNUMMER|KINDNUMMER [--format table|json]
                   opvangsync accounts resend EMAIL|OUDERNUMMER [--reason TEXT] [--force]

            list     every parent with an account or an account problem, with status and dates (local time)
            show     one parent's account, or the accounts of every parent of a child: status, both addresses
                     of the planning system and which one is used and why, every invitation with what became
                     of its mail (a bounce with what the receiving server said), terms accepted, the children,
                     and who sent a new link when and why
            resend   a fresh activation link ("Nieuw wachtwoord verzenden"); the previous link stops working.
                     The mail is sent straight away; the account's history keeps who sent it, --reason, and
                     the address. A disabled account, or a parent without a usable address of its own, needs
                     --force and --reason TEXT.

            Options: --db FILE, --config FILE, --org ID
            """
        guard let subcommand = words.first else {
            print(help)
            return .usage
        }
        let arguments = try Arguments(Array(words.dropFirst()), options: ["config", "org", "db", "format", "status", "reason"],
                                      flags: ["help", "force"])
        if arguments.flag("help") || subcommand == "--help" {
            print(help)
            return .success
        }
        let settings = try settings(arguments)
        switch subcommand {
        case "list":
            var status: String?
            if let word = arguments.value("status") {
                guard let code = DutchText.accountStatusCode(word) else {
                    throw UsageError("--status takes \(DutchText.accountStatusWords.map { $0.words[0] }.joined(separator: ", "))")
                }
                status = code
            }
            let repository = try PortalRepository(readOnlyAt: settings.database)
            let listings = try repository.accountListings(status: status)
            let rows = listings.map { item -> [String] in
                let column = FieldNames.emailColumn(item.emailColumn, in: HistoryCommands.fieldNames(settings)) ?? ""
                return [item.parent, item.name, DutchText.accountStatus(item.status), item.username ?? "", column,
                        DutchText.localTime(item.invitedAt, or: ""), DutchText.localTime(item.activatedAt, or: ""),
                        DutchText.localTime(item.termsAcceptedAt, or: ""), item.detail ?? ""]
            }
            try Table.print(header: ["ouder", "naam", "status", "gebruikersnaam", "kolom", "uitgenodigd", "geactiveerd",
                                     "voorwaarden geaccepteerd", "opmerking"],
                            rows: rows, json: listings, format: arguments.value("format"))
            return .success
        case "show":
            guard arguments.positionals.count == 1 else {
                throw UsageError("accounts show takes one e-mail address, Oudernummer or Kindnummer")
            }
            let repository = try PortalRepository(readOnlyAt: settings.database)
            guard let lookup = try repository.accountLookup(arguments.positionals[0]) else {
                Terminal.error("opvangsync: onbekend: geen ouder, kind of account \(TextSafety.visible(arguments.positionals[0])) in dit portaal")
                return .failed
            }
            switch arguments.value("format") ?? "table" {
            case "json": try Table.print(header: [], rows: [], json: lookup, format: "json")
            case "table": AccountView.print(lookup, columns: HistoryCommands.fieldNames(settings))
            case let other: throw UsageError("--format takes table or json, got \(other)")
            }
            return .success
        case "resend":
            return try resend(arguments, settings: settings)
        default:
            throw UsageError("accounts takes list, show or resend")
        }
    }

    static func resend(_ arguments: Arguments, settings: OrganisationSettings) throws -> ExitCode {
        guard arguments.positionals.count == 1 else { throw UsageError("accounts resend takes one e-mail address or Oudernummer") }
        let lock = try RunLock(databasePath: settings.database)
        defer { withExtendedLifetime(lock) {} }
        let repository = try PortalRepository(path: settings.database)
        guard let (parent, owner) = try repository.resolveAccount(arguments.positionals[0]) else {
            throw UsageError("no parent or account \(arguments.positionals[0]) in this portal")
        }
        guard let owner else { throw UsageError("parent \(parent) has no account; `opvangsync accounts show \(parent)` says why") }
        let reason = arguments.value("reason").flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 }
        // A disabled account has nothing left to see (or was disabled for a reason): a new link needs a
        // deliberate decision, recorded with who made it and why.
        // A parent the planning system gave no usable address, another family's address or no child in
        // care, or whose link was withdrawn for that: a new link would go where the export no longer
        // points. The same deliberate decision is needed.
        let listing = try repository.accountListings().first { $0.parent == parent }
        let withdrawn = listing?.status == "ingetrokken" || ["no-email", "conflict", "not-eligible"].contains(listing?.state ?? "")
        if try repository.isDisabled(account: owner) || withdrawn {
            guard arguments.flag("force"), let reason else {
                Terminal.error(withdrawn
                    ? "opvangsync: parent \(parent) has no usable address of its own in the planning system, or no child in care, or its link was withdrawn for that; no new link was sent. Correct the planning system, or use --force --reason TEXT when it must."
                    : "opvangsync: the account of parent \(owner) is disabled (every window after care has passed, or the family is linked to no child any more); no new link was sent. Only with --force --reason TEXT when it must.")
                return .aborted
            }
            Terminal.info("opvangsync: resend for the disabled account of parent \(owner) forced: \(reason)")
        }
        let sent = try repository.resendInvitation(account: owner, parent: parent, operator: Operator.current(), reason: reason)
        let templates = try MailTemplates.load(overrides: settings.mail.templates)
        let result = try Importer.sendQueuedMail(repository, settings: settings, templates: templates, ids: [sent.message])
        let column = FieldNames.emailColumn(sent.column, in: HistoryCommands.fieldNames(settings)).map { " (kolom \($0))" } ?? ""
        if result.summary.sent == 1 {
            print("Een nieuwe activatielink is verstuurd naar \(sent.address)\(column) voor ouder \(owner); de vorige link werkt niet meer.")
            return .success
        }
        if let problem = result.transportProblem { Terminal.error("opvangsync: \(problem)") }
        Terminal.error("opvangsync: de nieuwe link voor ouder \(owner) (naar \(sent.address)\(column)) staat klaar maar is nog niet afgeleverd; `opvangsync accounts show \(owner)` laat zien waarom")
        return .failed
    }

    static func team(_ words: [String]) throws -> ExitCode {
        let arguments = try Arguments(Array(words.dropFirst()), options: ["config", "org", "db", "group", "format"], flags: ["help"])
        guard words.first == "show", !arguments.flag("help"), let group = arguments.value("group") else {
            print("""
                Usage: opvangsync team show --group CODE [--format table|json|csv]

                "Ons team": the staff of a group, with their role and how many of the group's children they mentor.
                """)
            return words.first == "--help" || arguments.flag("help") ? .success : .usage
        }
        let repository = try PortalRepository(readOnlyAt: try settings(arguments).database)
        let team = try repository.team(group: group)
        try Table.print(header: ["medewerker", "naam", "functie", "mentor van"],
                        rows: team.map { [$0.number, $0.name, $0.role ?? "", String($0.mentorOf)] }, json: team,
                        format: arguments.value("format"))
        return .success
    }

    static func mail(_ words: [String]) throws -> ExitCode {
        if words.first == "bounces" { return try bounces(Array(words.dropFirst())) }
        guard words.first == "send" else {
            print("""
                Usage: opvangsync mail send [--limit N] [--quiet] [--db FILE] [--config FILE] [--org ID]
                       opvangsync mail bounces [--quiet] [--db FILE] [--config FILE] [--org ID]
                """)
            return words.first == "--help" ? .success : .usage
        }
        let arguments = try Arguments(Array(words.dropFirst()), options: ["config", "org", "db", "limit"], flags: ["help", "quiet"])
        if arguments.flag("help") {
            print("""
                Usage: opvangsync mail send [--limit N] [--quiet] [--db FILE] [--config FILE] [--org ID]

                Delivers queued mail (invitations, address-change notices) through the configured transport
                (maildir:DIR by default, smtp:// with STARTTLS, or smtps://), over one connection. Messages that
                fail are retried later with a growing delay; a recipient the server refuses for good (5xx to
                RCPT TO) is a bounce, listed in the next report. A refused sender, login or message, three
                failed connections in a row or mail.batchDeadlineSeconds stop the batch; the mail waits.

                Exit codes: 0 everything due was sent; 4 some recipients bounced or failed for good;
                1 mail stayed undelivered because of the mail server (the reason is on stderr).
                --quiet prints nothing when everything due was sent (for cron, which mails any output).
                """)
            return .success
        }
        Terminal.quiet = arguments.flag("quiet")
        let settings = try settings(arguments)
        var limit: Int?
        if let text = arguments.value("limit") {
            guard let number = Int(text), number > 0 else { throw UsageError("--limit takes a positive whole number") }
            limit = number
        }
        let repository = try PortalRepository(path: settings.database)
        let templates = try MailTemplates.load(overrides: settings.mail.templates)
        let result = try Importer.sendQueuedMail(repository, settings: settings, templates: templates, limit: limit)
        let summary = result.summary
        let waiting = try repository.queuedMailCount()
        AfterRun.writeMetrics(settings: settings, repository: repository)
        let line = "opvangsync: mail \(summary.sent) sent, \(summary.failed) failed, \(summary.bounced) bounced, \(waiting) waiting"
        // Quiet (cron): only a batch with bounced or failed mail says so, on stderr.
        if !Terminal.quiet {
            print(line)
        } else if summary.failed + summary.bounced > 0 {
            Terminal.warning(line)
        }
        if let problem = result.transportProblem {
            Terminal.error("opvangsync: niet alle mail is verstuurd: \(problem)")
            return .failed
        }
        return summary.failed + summary.bounced > 0 ? .appliedWithRejections : .success
    }

    static func bounces(_ words: [String]) throws -> ExitCode {
        let arguments = try Arguments(words, options: ["config", "org", "db"], flags: ["help", "quiet"])
        if arguments.flag("help") {
            print("""
                Usage: opvangsync mail bounces [--quiet] [--db FILE] [--config FILE] [--org ID]

                Reads the delivery status notifications (RFC 3464 bounces) that came back to the bounce mailbox,
                mail.bounces: "maildir:DIR", or "imaps://host/MAILBOX" with mail.bouncesUsername and
                mail.bouncesPasswordFile. Each is matched to the message it reports on: by the envelope sender
                bounces+TAG@… (set mail.returnPath to send every message with a tag of its own), or by the
                original Message-ID and the recipient. A permanent failure (5.x.x) marks the message bounced
                with the status and what the receiving server said: `accounts show` shows it and the next import
                report lists it. A delay (4.x.x) is only noted. Reports that were dealt with move to the folder
                Verwerkt and are never counted twice; anything else stays where it is and is counted.
                The nightly service runs this before each import.

                Exit codes: 0 the mailbox was read (or none is configured); 1 it could not be read.
                --quiet prints nothing unless something bounced or could not be read (for cron).
                """)
            return .success
        }
        Terminal.quiet = arguments.flag("quiet")
        let configuration = try Configuration.load(path: arguments.value("config"))
        var settings = try configuration.settings(for: arguments.value("org"))
        if let db = arguments.value("db") { settings.database = db }
        guard FileManager.default.fileExists(atPath: settings.database) else {
            // Before the first import nothing was sent, so nothing can have bounced.
            if !Terminal.quiet { print("opvangsync: no portal database at \(settings.database) yet; no bounces read") }
            return .success
        }
        guard let mailbox = try settings.mail.makeBounceMailbox() else {
            if !Terminal.quiet { print("opvangsync: no bounce mailbox configured (mail.bounces); nothing read") }
            return .success
        }
        let lock = try RunLock(databasePath: settings.database + ".bounces")
        defer { withExtendedLifetime(lock) {} }
        let repository = try PortalRepository(path: settings.database)
        let result: BounceReading.Result
        do {
            result = try BounceReading(repository: repository).read(mailbox)
        } catch let error as UsageError {
            throw error
        } catch {
            // The mailbox could not be listed, read or changed: nothing was lost, the next pass tries again.
            Terminal.error("opvangsync: \(error)")
            return .failed
        }
        let summary = "opvangsync: bounces gelezen: \(DutchText.count(result.read, "bericht", "berichten")); "
            + "\(result.bounced) onbestelbaar, \(result.delayed) vertraagd, \(result.withoutEffect) zonder gevolg; "
            + "\(result.unrecognised + result.unmatched) niet herkend (blijven staan)"
        if !Terminal.quiet || result.bounced > 0 {
            for line in result.lines { print("  \(TextSafety.visible(line))") }
            print(summary)
        }
        for problem in result.notMoved { Terminal.warning("opvangsync: not moved aside: \(problem)") }
        return .success
    }
}
