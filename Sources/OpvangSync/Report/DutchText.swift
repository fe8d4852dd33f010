import Foundation

/// The words customer service and auditors read: local times, Dutch statuses and plurals.
///
/// One place for them, so the Markdown and HTML reports and the commands' Dutch summaries say the same
/// thing in the same way. Codes (`invited`, `bounced`) stay in the JSON for machines; people read these.
public enum DutchText {
    /// Europe/Amsterdam: the organisation's clock, whatever the server's.
    static let calendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/Amsterdam") ?? .current
        return calendar
    }()

    /// `dd-mm-jjjj HH:mm` in Europe/Amsterdam for an ISO 8601 instant (`2026-11-23T16:56:14Z` →
    /// `23-11-2026 17:56`); a plain date `jjjj-mm-dd` becomes `dd-mm-jjjj`. Text that is neither is returned
    /// as it is.
    public static func localTime(_ iso: String) -> String {
        if iso.utf8.count == 10, let day = Day(iso: iso) { return day.dutch }
        guard let date = Manifest.parseTimestamp(iso) else { return iso }
        return localTime(date)
    }

    public static func localTime(_ date: Date) -> String {
        let p = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        return Day.digits(p.day ?? 0, 2) + "-" + Day.digits(p.month ?? 0, 2) + "-" + Day.digits(p.year ?? 0, 4) + " "
            + Day.digits(p.hour ?? 0, 2) + ":" + Day.digits(p.minute ?? 0, 2)
    }

    /// The local time of an optional instant, or `fallback`.
    public static func localTime(_ iso: String?, or fallback: String) -> String {
        iso.map { localTime($0) } ?? fallback
    }

    /// `1 groep`, `2 groepen`, `0 groepen`.
    public static func count(_ number: Int, _ singular: String, _ plural: String) -> String {
        "\(number) \(number == 1 ? singular : plural)"
    }

    /// `accounts list` statuses as people read them.
    public static func accountStatus(_ code: String) -> String {
        switch code {
        case "invited": return "uitgenodigd"
        case "verlopen": return "link verlopen"
        case "ingetrokken": return "link ingetrokken"
        case "bounced": return "onbestelbaar"
        case "active": return "actief"
        case "disabled": return "uitgeschakeld"
        case "none": return "geen account"
        case "conflict": return "adresconflict"
        default: return code
        }
    }

    /// The status words `accounts list --status` takes, in Dutch (first) and in the codes of the JSON, for
    /// each status code.
    public static let accountStatusWords: [(code: String, words: [String])] = [
        ("invited", ["uitgenodigd", "invited"]),
        ("verlopen", ["verlopen"]),
        ("ingetrokken", ["ingetrokken"]),
        ("bounced", ["onbestelbaar", "bounced"]),
        ("active", ["actief", "active"]),
        ("disabled", ["uitgeschakeld", "disabled"]),
        ("none", ["geen", "none"]),
        ("conflict", ["conflict"]),
    ]

    /// The status code for a word of `accounts list --status`, or nil.
    public static func accountStatusCode(_ word: String) -> String? {
        accountStatusWords.first { $0.words.contains(word.lowercased()) }?.code
    }

    /// An outbox message's state.
    public static func mailStatus(_ code: String) -> String {
        switch code {
        case "queued": return "wacht op verzending"
        case "sent": return "verstuurd"
        case "failed": return "niet afgeleverd (mislukt)"
        case "bounced": return "onbestelbaar (bounce)"
        case "cancelled": return "niet verstuurd (vervallen)"
        default: return code
        }
    }

    /// An outbox message's kind.
    public static func mailKind(_ code: String) -> String {
        switch code {
        case "invitation": return "uitnodiging"
        case "resend": return "nieuwe activatielink"
        case "address-change-old": return "melding adreswijziging (aan het oude adres)"
        case "address-change-new": return "melding adreswijziging (aan het nieuwe adres)"
        default: return code
        }
    }

    /// Why an invitation's link was withdrawn.
    public static func revokedReason(_ code: String?) -> String {
        switch code {
        case "resend": return "vervangen door een nieuwe link"
        case "address-gone": return "het e-mailadres is verdwenen of niet meer bruikbaar"
        case "no-children": return "de ouder is aan geen kind meer gekoppeld"
        case "address-changed": return "het e-mailadres is gewijzigd"
        case "joined-shared-account": return "opgenomen in een gedeeld account"
        case "bounced": return "de mail was onbestelbaar"
        case nil: return "onbekende reden"
        case let other?: return other
        }
    }

    /// A run's status in a word.
    public static func runStatus(_ code: String) -> String {
        switch code {
        case "applied": return "verwerkt"
        case "skipped": return "overgeslagen"
        case "aborted": return "afgebroken"
        case "failed": return "mislukt"
        default: return code
        }
    }

    /// A run's mode.
    public static func runMode(_ code: String) -> String {
        switch code {
        case "apply": return "import"
        case "dry-run": return "proefrun"
        case "refresh": return "planning verversen"
        default: return code
        }
    }

    /// A change to a record.
    public static func action(_ code: String) -> String {
        switch code {
        case "created": return "nieuw"
        case "updated": return "gewijzigd"
        case "restored": return "hersteld"
        case "ended": return "beëindigd"
        case "vanished": return "verdwenen"
        default: return code
        }
    }

    /// Dutch singular of a record kind, lowercase: `kind`, `plaatsing`.
    public static func kind(_ entity: String) -> String {
        EntityKind(rawValue: entity)?.dutchSingular.lowercased() ?? entity
    }

    /// The severity of an issue.
    public static func severity(_ severity: Issue.Severity) -> String {
        switch severity {
        case .error: return "fout"
        case .warning: return "waarschuwing"
        case .info: return "ter informatie"
        }
    }

    /// A message as customer service reads it: without what the report keeps for IT. Configuration keys in
    /// parentheses (`(maxExportAgeHours)`, `(zie mail.caFile)`), commands and options in backquotes, the
    /// code in square brackets and the English severity word of a `file:line:column: error: …` line are
    /// left out; the closing "Technische gegevens" keeps them.
    public static func plain(_ text: String) -> String {
        // Most messages name nothing technical: no pattern below can match without one of these characters.
        guard text.utf8.contains(where: { $0 == UInt8(ascii: "`") || $0 == UInt8(ascii: "[") || $0 == UInt8(ascii: "(") || $0 == UInt8(ascii: ":") })
                || text.containsBytes("opvangsync ") else {
            return text
        }
        var result = text
        for (expression, template) in Plain.rules {
            result = expression.stringByReplacingMatches(in: result, range: NSRange(result.startIndex..., in: result),
                                                         withTemplate: template)
        }
        return result
    }

    /// The configuration keys, commands and options a message names: what `plain` leaves out, for the
    /// technical section.
    public static func technicalTerms(_ text: String) -> [String] {
        guard mayNameTerms(text) else { return [] }
        var terms: [String] = []
        for expression in Plain.terms {
            let range = NSRange(text.startIndex..., in: text)
            for match in expression.matches(in: text, range: range) {
                guard let found = Range(match.range, in: text) else { continue }
                let term = text[found].trimmingCharacters(in: CharacterSet(charactersIn: "`"))
                if !terms.contains(term) { terms.append(term) }
            }
        }
        return terms
    }

    /// False when `text` cannot name a term: each pattern of `technicalTerms` needs one of these to match,
    /// and most messages have none.
    static func mayNameTerms(_ text: String) -> Bool {
        text.utf8.contains(where: { $0 == UInt8(ascii: "`") || $0 == UInt8(ascii: ".") }) || text.containsBytes("max")
            || text.containsBytes("reportRetentionDays") || text.containsBytes("opvangsync ")
    }

    /// The patterns of `plain` and `technicalTerms`, compiled once: a report of a large run passes thousands
    /// of messages through them, and compiling a pattern costs more than matching it.
    private enum Plain {
        static let rules: [(NSRegularExpression, String)] = [
            // `file:line:column: error: message (kolom X) [code]`: the form of a terminal line, in an abort reason.
            (#"(:\d+)?(:\d+)?: (error|warning|info): "#, "$1$2: "),
            (#"\s*\[[a-z0-9]+(-[a-z0-9]+)*\]"#, ""),
            // `(maxExportAgeHours)`, `(rules.x)`, `(mail.batchDeadlineSeconds: 300 seconden)`, `(zie mail.caFile)`,
            // `(controleer mail.from)`: a parenthesis that names a configuration key.
            (#"\s*\((zie |controleer )?(max[A-Z][A-Za-z]*|rules\.[A-Za-z.]+|mail\.[A-Za-z.]+|alerts\.[A-Za-z.]+|reportRetentionDays)[^()]*\)"#, ""),
            // A command or option in backquotes: said in words instead.
            (#"`opvangsync mail send`"#, "de volgende verzendronde"),
            (#"`opvangsync [^`]*`"#, "de beheerder"),
            (#"`--[^`]*`"#, "de beheerder"),
            (#"opvangsync accounts resend \S+"#, "Nieuw wachtwoord verzenden"),
        ].map { pattern, template in (compiled(pattern), template) }

        static let terms: [NSRegularExpression] = [
            #"\b(max[A-Z][A-Za-z]*|rules\.[A-Za-z.]+[A-Za-z]|mail\.[A-Za-z.]+[A-Za-z]|alerts\.[A-Za-z.]+[A-Za-z]|reportRetentionDays)\b"#,
            #"`[^`]+`"#, #"opvangsync accounts resend \S+"#,
        ].map(compiled)

        private static func compiled(_ pattern: String) -> NSRegularExpression {
            do { return try NSRegularExpression(pattern: pattern) } catch { preconditionFailure("pattern \(pattern): \(error)") }
        }
    }
}
