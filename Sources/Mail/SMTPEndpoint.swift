import Foundation

/// Where an SMTP server is: `smtp://host[:port][/name]` (STARTTLS) or `smtps://host[:port][/name]` (TLS from
/// the first byte), read strictly.
///
/// The URL libcurl gets is rebuilt from the parts checked here, so what was checked is what is used. A user
/// name or password in the URL is refused: credentials come from `mail.username` and the password file,
/// and a URL is printed in logs and error messages far more often than a setting is. No message made here
/// repeats the text it was given.
public struct SMTPEndpoint: Sendable, Equatable {
    public enum Security: Sendable, Equatable {
        case startTLS
        case implicitTLS
    }

    public let security: Security
    /// The host as written, without the brackets of an IPv6 literal.
    public let host: String
    public let port: Int?
    /// The name opvangsync gives itself in EHLO (the URL's path), if any.
    public let localName: String?

    public struct Invalid: Error, CustomStringConvertible, Sendable {
        public let reason: String
        public var description: String { reason }
    }

    public init(parsing text: String) throws(Invalid) {
        let rest: Substring
        if text.hasPrefix("smtp://") {
            security = .startTLS
            rest = text.dropFirst("smtp://".count)
        } else if text.hasPrefix("smtps://") {
            security = .implicitTLS
            rest = text.dropFirst("smtps://".count)
        } else {
            throw Invalid(reason: "must start with smtp:// or smtps://")
        }
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        // Checked first, so that even a URL broken in other ways never gets its password quoted.
        guard !authority.contains("@") else {
            throw Invalid(reason: "may not hold a user name or password; use mail.username and mail.passwordFile (or OPVANGSYNC_SMTP_PASSWORD)")
        }
        guard text.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F && $0 != "\\" }) else {
            throw Invalid(reason: "may hold no spaces, control characters or characters outside ASCII")
        }
        guard !rest.contains("?"), !rest.contains("#") else { throw Invalid(reason: "may not hold a query (?) or fragment (#)") }

        var hostPart = authority
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw Invalid(reason: "has an IPv6 address without its closing ]") }
            hostPart = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw Invalid(reason: "has text after the IPv6 address that is not a port") }
                portText = after.dropFirst()
            }
            guard SMTPEndpoint.ipv6Bytes(String(hostPart)) != nil else { throw Invalid(reason: "has an IPv6 address that does not parse") }
        } else {
            if let colon = authority.firstIndex(of: ":") {
                hostPart = authority[..<colon]
                portText = authority[authority.index(after: colon)...]
            }
            guard !hostPart.isEmpty else { throw Invalid(reason: "names no host") }
            guard hostPart.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == ".") }),
                  !hostPart.split(separator: ".", omittingEmptySubsequences: false).dropLast().contains(where: \.isEmpty) else {
                throw Invalid(reason: "has a host name that is not a plain DNS name or IP address")
            }
        }
        if let portText {
            guard !portText.isEmpty, portText.count <= 5, portText.allSatisfy(\.isASCII), let port = Int(portText),
                  (1...65535).contains(port) else {
                throw Invalid(reason: "has a port that is not a number from 1 to 65535")
            }
            self.port = port
        } else {
            port = nil
        }
        host = String(hostPart)
        let path = rest.dropFirst(authority.count).drop { $0 == "/" }
        guard path.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == ".") }) else {
            throw Invalid(reason: "may only have a host name as its path (the name given in EHLO)")
        }
        localName = path.isEmpty ? nil : String(path)
    }

    /// The URL handed to libcurl, rebuilt from the checked parts.
    public var url: String {
        (security == .startTLS ? "smtp://" : "smtps://") + hostForURL + (port.map { ":\($0)" } ?? "") + "/" + (localName ?? "")
    }

    /// `smtp://host:port` for messages: never more than scheme, host and port.
    public var displayName: String {
        (security == .startTLS ? "smtp://" : "smtps://") + hostForURL + (port.map { ":\($0)" } ?? "")
    }

    private var hostForURL: String { host.contains(":") ? "[\(host)]" : host }

    /// True only for `localhost`, a dotted-quad literal in 127.0.0.0/8 or the IPv6 loopback address: the
    /// servers that may be spoken to without TLS. A name is looked up wherever DNS says, however much it
    /// looks like an address (`127.0.0.1.evil.example`, `127.evil.example`).
    public var isLoopback: Bool { SMTPEndpoint.isLoopbackHost(host) }

    /// The same rule for any host (without brackets): also what may have a plain `http://` portal URL.
    public static func isLoopbackHost(_ host: String) -> Bool {
        if host.lowercased() == "localhost" { return true }
        if let octets = ipv4Octets(host) { return octets[0] == 127 }
        if host.contains(":"), let bytes = ipv6Bytes(host) { return bytes == Array(repeating: 0, count: 15) + [1] }
        return false
    }

    /// The four octets of a dotted-quad IPv4 literal: four decimal numbers 0–255 without leading zeros
    /// (which some resolvers read as octal), nothing else.
    static func ipv4Octets(_ text: String) -> [Int]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var octets: [Int] = []
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy({ $0.isASCII && $0.isNumber }),
                  part == "0" || !part.hasPrefix("0"), let value = Int(part), value <= 255 else { return nil }
            octets.append(value)
        }
        return octets
    }

    /// The 16 bytes of an IPv6 literal (without brackets), as the C library reads it.
    static func ipv6Bytes(_ text: String) -> [UInt8]? {
        var address = in6_addr()
        guard inet_pton(AF_INET6, text, &address) == 1 else { return nil }
        return withUnsafeBytes(of: &address) { Array($0) }
    }
}
