import Foundation

/// The Dutch messages parents receive; an organisation can replace any of them with its own file.
///
/// A template is a `Subject:` line, a blank line and the body, with `{{placeholders}}`. The parent's name
/// (`{{naam}}`) is not allowed in a subject: subjects show up in lock screens and mail-server logs.
public struct MailTemplates: Sendable {
    public struct Template: Sendable, Equatable {
        public let subject: String
        public let body: String
    }

    public enum Kind: String, CaseIterable, Sendable {
        case invitation
        case resend
        case addressChangeOld
        case addressChangeNew

        /// The outbox kind it renders.
        var outboxKind: String {
            switch self {
            case .invitation: return "invitation"
            case .resend: return "resend"
            case .addressChangeOld: return "address-change-old"
            case .addressChangeNew: return "address-change-new"
            }
        }
    }

    public static let placeholders: Set<String> = ["organisatie", "portaal", "naam", "gebruikersnaam", "link", "geldigTot",
                                                   "oudAdres", "nieuwAdres"]

    public var templates: [Kind: Template]

    public struct Invalid: Error, CustomStringConvertible, Sendable {
        public let source: String
        public let reason: String
        public var description: String { "mail template \(source): \(reason)" }
    }

    /// The built-in templates with the organisation's replacements (kind → file) laid over.
    public static func load(overrides: [String: String]) throws(Invalid) -> MailTemplates {
        var templates: [Kind: Template] = [:]
        for kind in Kind.allCases { templates[kind] = try parse(builtIn[kind]!, source: "built-in \(kind.rawValue)") }
        for (key, path) in overrides {
            guard let kind = Kind(rawValue: key) else {
                throw Invalid(source: key, reason: "unknown template; known are \(Kind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                throw Invalid(source: path, reason: "cannot read the file as UTF-8")
            }
            templates[kind] = try parse(text, source: path)
        }
        return MailTemplates(templates: templates)
    }

    static func parse(_ text: String, source: String) throws(Invalid) -> Template {
        let normalised = text.replacingOccurrences(of: "\r\n", with: "\n")
        guard normalised.hasPrefix("Subject:"), let end = normalised.range(of: "\n\n") else {
            throw Invalid(source: source, reason: "must start with a \"Subject:\" line, then a blank line, then the body")
        }
        let subject = normalised[normalised.index(normalised.startIndex, offsetBy: 8)..<end.lowerBound].trimmingCharacters(in: .whitespaces)
        let body = String(normalised[end.upperBound...])
        guard !subject.contains("\n") else { throw Invalid(source: source, reason: "the subject must be one line") }
        if subject.contains("{{naam}}") {
            throw Invalid(source: source, reason: "the parent's name ({{naam}}) may not appear in a subject")
        }
        for name in names(in: subject + body) where !placeholders.contains(name) {
            throw Invalid(source: source, reason: "unknown placeholder {{\(name)}}; known are \(placeholders.sorted().map { "{{\($0)}}" }.joined(separator: ", "))")
        }
        return Template(subject: subject, body: body)
    }

    static func names(in text: String) -> [String] {
        var names: [String] = []
        var rest = Substring(text)
        while let open = rest.range(of: "{{"), let close = rest[open.upperBound...].range(of: "}}") {
            names.append(String(rest[open.upperBound..<close.lowerBound]))
            rest = rest[close.upperBound...]
        }
        return names
    }

    /// Fills in a template; placeholders without a value become empty.
    public func render(_ kind: Kind, values: [String: String]) -> (subject: String, body: String) {
        let template = templates[kind]!
        func fill(_ text: String) -> String {
            var output = text
            for name in MailTemplates.placeholders { output = output.replacingOccurrences(of: "{{\(name)}}", with: values[name] ?? "") }
            return output
        }
        return (fill(template.subject), fill(template.body))
    }

    static let builtIn: [Kind: String] = [
        .invitation: """
            Subject: Uw account voor het ouderportaal van {{organisatie}}

            Beste {{naam}},

            Welkom bij {{organisatie}}. In het ouderportaal ziet u de planning
            van uw kind, het dagboek en de foto's van de groep. U meldt uw kind
            er ziek of afwezig en vraagt er een extra dag of ruildag aan.

            Uw gebruikersnaam is uw e-mailadres: {{gebruikersnaam}}

            Stel uw wachtwoord in via deze link:
            {{link}}

            De link werkt één keer en is geldig tot en met {{geldigTot}}.
            Is hij verlopen? Vraag dan een nieuwe link aan bij onze klantenservice.

            Daarna logt u in op {{portaal}} of in de OuderApp.

            Met vriendelijke groet,
            {{organisatie}}

            """,
        .resend: """
            Subject: Nieuwe link voor het ouderportaal van {{organisatie}}

            Beste {{naam}},

            Op uw verzoek sturen wij u een nieuwe link om uw wachtwoord voor het
            ouderportaal in te stellen. Eerder verstuurde links werken niet meer.

            Uw gebruikersnaam is uw e-mailadres: {{gebruikersnaam}}

            Stel uw wachtwoord in via deze link:
            {{link}}

            De link werkt één keer en is geldig tot en met {{geldigTot}}.

            Met vriendelijke groet,
            {{organisatie}}

            """,
        .addressChangeOld: """
            Subject: Uw inlognaam voor het ouderportaal van {{organisatie}} is gewijzigd

            Beste {{naam}},

            Het e-mailadres waarmee u inlogt op het ouderportaal van
            {{organisatie}} is gewijzigd
            van: {{oudAdres}}
            naar: {{nieuwAdres}}
            Uw wachtwoord blijft hetzelfde.

            Heeft u deze wijziging niet zelf doorgegeven? Neem dan direct contact
            op met onze klantenservice.

            Met vriendelijke groet,
            {{organisatie}}

            """,
        .addressChangeNew: """
            Subject: U logt voortaan in met dit e-mailadres

            Beste {{naam}},

            Vanaf nu logt u op het ouderportaal van {{organisatie}}
            ({{portaal}}) in met dit e-mailadres: {{nieuwAdres}}
            Uw wachtwoord blijft hetzelfde. Met het oude adres ({{oudAdres}})
            kunt u niet meer inloggen.

            Met vriendelijke groet,
            {{organisatie}}

            """,
    ]
}
