import Mail

/// The base of every activation link (`<portalUrl>/activeren/<token>`). A link that a manifest could
/// point elsewhere would send parents to a phishing site, so the URL is checked wherever it comes from,
/// and the one in use comes from the configuration, else from the first import (SPEC §5).
public enum PortalURL {
    /// Why a text cannot be a portal URL.
    public enum Problem: Sendable, Equatable {
        case controlCharacters, notHTTPS, noHost, badHost, credentials, queryOrFragment

        /// For the configuration's error messages (read by the ops engineer).
        public var english: String {
            switch self {
            case .controlCharacters: return "holds spaces or control characters"
            case .notHTTPS: return "must start with https:// (http:// only for localhost)"
            case .noHost: return "names no host"
            case .badHost: return "the host must be a plain DNS name or address (letters, digits, dots, hyphens, an optional port)"
            case .credentials: return "must not hold a user name or password"
            case .queryOrFragment: return "must not hold a query (?) or fragment (#)"
            }
        }

        /// For the report (read by customer service).
        public var dutch: String {
            switch self {
            case .controlCharacters: return "het adres bevat spaties of stuurtekens"
            case .notHTTPS: return "het adres begint niet met https:// (alleen voor localhost mag http://)"
            case .noHost: return "het adres noemt geen server"
            case .badHost: return "de servernaam bevat tekens die in een servernaam niet voorkomen"
            case .credentials: return "het adres bevat een gebruikersnaam of wachtwoord"
            case .queryOrFragment: return "het adres bevat een vraag (?) of anker (#)"
            }
        }
    }

    /// Why `text` cannot be a portal URL, or nil when it can: `https://` with a host (plain `http://` only
    /// for localhost and loopback addresses, for trying opvangsync out), and no control characters or spaces.
    public static func problem(_ text: String) -> Problem? {
        if text.unicodeScalars.contains(where: { $0.value < 0x21 || $0.value == 0x7F || (0x80...0x9F).contains($0.value) }) {
            return .controlCharacters
        }
        let lower = text.lowercased()
        let scheme = lower.hasPrefix("https://") ? "https" : (lower.hasPrefix("http://") ? "http" : nil)
        guard let scheme else { return .notHTTPS }
        let rest = text.dropFirst(scheme.count + 3)
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard !authority.isEmpty, !hostPart(String(authority)).isEmpty else { return .noHost }
        guard !authority.contains("@") else { return .credentials }
        // A host is a DNS name or an address literal, with an optional port: nothing percent-encoded.
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]")
        guard authority.allSatisfy({ allowed.contains($0) }) else { return .badHost }
        // `host`, `host:port`, `[v6]` or `[v6]:port`; a port is a number up to 65535.
        let afterHost: Substring
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return .badHost }
            afterHost = authority[authority.index(after: close)...]
        } else {
            afterHost = authority.drop { $0 != ":" }
        }
        if !afterHost.isEmpty {
            guard afterHost.first == ":", let port = Int(afterHost.dropFirst()), (1...65535).contains(port),
                  afterHost.dropFirst().allSatisfy(\.isNumber) else { return .badHost }
        }
        guard !text.contains("?"), !text.contains("#") else { return .queryOrFragment }
        if scheme == "http" {
            let host = hostPart(String(authority))
            guard SMTPEndpoint.isLoopbackHost(host) else { return .notHTTPS }
        }
        return nil
    }

    /// The host of an authority (`host:port`, `[::1]:8080`), lowercased.
    static func hostPart(_ authority: String) -> String {
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            return String(authority[authority.index(after: authority.startIndex)..<close]).lowercased()
        }
        return String(authority.prefix { $0 != ":" }).lowercased()
    }

    /// The URL the activation links of this run use, and what the report must say about the export's.
    ///
    /// The configured URL wins; without one, the URL the portal kept from its first import; only a first
    /// import without configuration takes the export's, and only when it is a valid portal URL.
    public static func resolve(configured: String?, stored: String?, exported: String?, manifestFile: String)
        throws(ExportFailure) -> (url: String, issues: [Issue]) {
        func same(_ a: String, _ b: String) -> Bool { trimmed(a).lowercased() == trimmed(b).lowercased() }
        if let chosen = configured ?? stored {
            var issues: [Issue] = []
            if let exported, !same(exported, chosen) {
                let source = configured != nil ? "het ingestelde portaaladres" : "het portaaladres van de eerste import"
                issues.append(Issue(.warning, "portal-url-ignored", file: manifestFile, message:
                    "de export noemt een ander portaaladres (\(OrganisationID.shown(exported))); de activatielinks blijven \(source) gebruiken (\(chosen))"))
            }
            return (trimmed(chosen), issues)
        }
        guard let exported else {
            throw ExportFailure("manifest-invalid", file: manifestFile, message:
                "de export noemt geen portaaladres (organisation.portalUrl in het manifest; een export zonder manifest noemt er nooit een) en er is er ook geen ingesteld (portalUrl in de configuratie): activatielinks beginnen ermee")
        }
        if let problem = problem(exported) {
            throw ExportFailure("portal-url-invalid", file: manifestFile, message:
                "het portaaladres in het manifest (\(OrganisationID.shown(exported))) wordt niet gebruikt: \(problem.dutch)")
        }
        return (trimmed(exported), [])
    }

    static func trimmed(_ url: String) -> String { url.hasSuffix("/") ? String(url.dropLast()) : url }
}
