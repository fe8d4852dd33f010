import Foundation

/// A real SMTP server on loopback: Debian's aiosmtpd running Tests/Fixtures/smtp_server.py.
public final class SMTPServer {
    public let port: Int
    public let maildir: URL
    private let process: Process
    private let input: Pipe

    public enum Mode {
        case plain
        /// Refuses every recipient with 550.
        case rejecting
        /// Refuses these recipients with 550 and accepts the others.
        case rejectingRecipients([String])
        /// Refuses the sender: MAIL FROM gets 553.
        case rejectingSender
        /// Offers AUTH and refuses every login with 535.
        case rejectingLogin
        /// Accepts the recipients, then refuses the message after DATA with 554.
        case rejectingMessage
        /// Accepts TCP connections and never answers: no greeting, no replies.
        case silent
        /// Greets and answers EHLO, then never answers MAIL FROM.
        case stallingAfterGreeting
        /// Offers and requires STARTTLS with this certificate.
        case startTLS(certificate: URL, key: URL)
        /// TLS from the first byte (smtps).
        case implicitTLS(certificate: URL, key: URL)
    }

    public struct Failed: Error, CustomStringConvertible {
        public let description: String
    }

    public init(in folder: URL, mode: Mode = .plain) throws {
        maildir = folder.appendingPathComponent("received-\(UUID().uuidString)")
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        var arguments = [Package.root.appendingPathComponent("Tests/Fixtures/smtp_server.py").path, "--maildir", maildir.path]
        switch mode {
        case .plain: break
        case .rejecting: arguments.append("--reject")
        case .rejectingRecipients(let addresses): for address in addresses { arguments += ["--reject-rcpt", address] }
        case .rejectingSender: arguments.append("--reject-sender")
        case .rejectingLogin: arguments.append("--reject-login")
        case .rejectingMessage: arguments.append("--reject-message")
        case .silent: arguments.append("--silent")
        case .stallingAfterGreeting: arguments.append("--stall-sender")
        case .startTLS(let certificate, let key): arguments += ["--starttls", certificate.path, key.path]
        case .implicitTLS(let certificate, let key): arguments += ["--tls", certificate.path, key.path]
        }
        process.arguments = arguments
        input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        var text = ""
        while !text.contains("\n") {
            let data = output.fileHandleForReading.availableData
            if data.isEmpty { break }
            text += String(decoding: data, as: UTF8.self)
        }
        guard text.hasPrefix("READY "), let port = Int(text.dropFirst(6).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            process.terminate()
            throw Failed(description: "the SMTP test server did not start (is python3-aiosmtpd installed? `make test` installs it): \(text)")
        }
        self.port = port
    }

    deinit { stop() }

    /// Stops the server; it exits when its standard input closes.
    public func stop() {
        guard process.isRunning else { return }
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }

    /// How many TCP connections clients have opened so far.
    public func connections() -> Int {
        let text = (try? String(contentsOf: maildir.appendingPathComponent("connections"), encoding: .utf8)) ?? ""
        return Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }

    /// Every message received so far, in the order the server accepted them.
    public func messages() -> [ReceivedMail] {
        let folder = maildir.appendingPathComponent("new")
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted()
        return names.compactMap { name in
            FileManager.default.contents(atPath: folder.appendingPathComponent(name).path).map { ReceivedMail(raw: $0) }
        }.sorted { Int($0.headers["x-test-seq"] ?? "") ?? 0 < Int($1.headers["x-test-seq"] ?? "") ?? 0 }
    }
}

/// A received message, parsed the way a mail client would: unfolded headers, decoded subject and body.
public struct ReceivedMail {
    public let raw: Data
    /// Lowercased header name → value (first occurrence), unfolded.
    public let headers: [String: String]
    public let body: String

    init(raw: Data) {
        self.raw = raw
        let text = String(decoding: raw, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
        let parts = text.components(separatedBy: "\n\n")
        var headers: [String: String] = [:]
        var last: String?
        for line in parts[0].components(separatedBy: "\n") {
            if line.hasPrefix(" ") || line.hasPrefix("\t"), let last {
                headers[last, default: ""] += line.trimmingCharacters(in: .whitespaces)
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            if headers[name] == nil { headers[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces) }
            last = name
        }
        self.headers = headers
        let encodedBody = parts.dropFirst().joined(separator: "\n\n")
        body = headers["content-transfer-encoding"]?.lowercased() == "quoted-printable"
            ? ReceivedMail.decodeQuotedPrintable(encodedBody) : encodedBody
    }

    /// The subject with RFC 2047 encoded words decoded.
    public var subject: String { ReceivedMail.decodeWords(headers["subject"] ?? "") }

    static func decodeWords(_ text: String) -> String {
        var output = ""
        var rest = Substring(text)
        while let start = rest.range(of: "=?UTF-8?B?"), let end = rest[start.upperBound...].range(of: "?=") {
            let before = rest[..<start.lowerBound]
            if !before.allSatisfy({ $0 == " " }) { output += before }
            let payload = String(rest[start.upperBound..<end.lowerBound])
            output += String(decoding: Data(base64Encoded: payload) ?? Data(), as: UTF8.self)
            rest = rest[end.upperBound...]
        }
        return output + rest
    }

    /// Quoted-printable decoding, the way a mail client does it (CRLF or LF line ends).
    public static func decodeQuotedPrintable(_ text: String) -> String {
        let joined = Array(text.replacingOccurrences(of: "=\r\n", with: "").replacingOccurrences(of: "=\n", with: "").utf8)
        var bytes: [UInt8] = []
        var index = 0
        while index < joined.count {
            if joined[index] == UInt8(ascii: "="), index + 2 < joined.count,
               let value = UInt8(String(decoding: joined[(index + 1)...(index + 2)], as: UTF8.self), radix: 16) {
                bytes.append(value)
                index += 3
            } else {
                bytes.append(joined[index])
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The activation token in the message's link, if it has one.
    public var activationToken: String? {
        guard let range = body.range(of: "/activeren/") else { return nil }
        return String(body[range.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
    }
}

/// A throwaway self-signed certificate for 127.0.0.1 (openssl, installed by `make test`).
public func makeCertificate(in folder: URL) throws -> (certificate: URL, key: URL) {
    let certificate = folder.appendingPathComponent("cert.pem"), key = folder.appendingPathComponent("key.pem")
    let result = try runProcess("/usr/bin/openssl", [
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key.path, "-out", certificate.path, "-days", "2",
        "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
    ], in: folder)
    guard result.status == 0 else { throw SMTPServer.Failed(description: "openssl: \(result.stderr)") }
    return (certificate, key)
}
