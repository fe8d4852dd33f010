import Foundation

/// One reply of an SMTP server: its code and its text, made safe to store and print (printable ASCII only,
/// e-mail addresses replaced by `<adres>`, at most 300 characters).
public struct SMTPReply: Sendable, Equatable, CustomStringConvertible {
    public let code: Int
    public let text: String

    public init(code: Int, text: String) {
        self.code = code
        self.text = SMTPReply.clean(text)
    }

    public var description: String { text.isEmpty ? String(code) : "\(code) \(text)" }

    /// Servers repeat addresses in their replies ("<ouder@example.nl>: User unknown"); a parent's address
    /// has no place in a log or report line.
    static func clean(_ text: String) -> String {
        let printable = String(String.UnicodeScalarView(text.unicodeScalars.map { $0.value >= 0x20 && $0.value < 0x7F ? $0 : " " }))
        let words = printable.split(separator: " ").map { $0.contains("@") ? "<adres>" + ($0.hasSuffix(":") ? ":" : "") : String($0) }
        return String(words.joined(separator: " ").prefix(300))
    }
}

/// The step of an SMTP session a failure happened in.
public enum SMTPStep: String, Sendable {
    /// Reaching the server: TCP, the greeting, EHLO.
    case connection
    /// The server does not offer STARTTLS where TLS is required.
    case startTLS
    /// The TLS handshake or the server's certificate.
    case certificate
    /// AUTH.
    case login
    /// MAIL FROM.
    case sender
    /// RCPT TO.
    case recipient
    /// DATA and the message itself (the reply after the final dot).
    case message
}

/// Why a message was not delivered.
public enum DeliveryError: Error, Sendable, CustomStringConvertible {
    /// The server refused the recipient for good (a 5xx reply to RCPT TO): a bounce, for this recipient only.
    case bounced(code: Int, message: String)
    /// The server refused the recipient for now (a 4xx reply to RCPT TO, e.g. greylisting): try this message
    /// again later; the server itself works.
    case deferred(reply: SMTPReply)
    /// The server could not be reached, did not answer in time or asked to try later (4xx): try again later.
    case temporary(step: SMTPStep, reply: SMTPReply?, detail: String)
    /// The server refused the sender, the login or the message (a 5xx reply to MAIL FROM, AUTH or DATA), or
    /// TLS could not be set up as required. Not the recipient's fault and not a passing problem: the
    /// configuration or the server needs a person; the mail waits.
    case refused(step: SMTPStep, reply: SMTPReply?, detail: String)

    public var description: String {
        switch self {
        case .bounced(let code, let message): return "recipient refused (\(code)): \(message)"
        case .deferred(let reply): return "recipient deferred: \(reply)"
        case .temporary(let step, let reply, let detail):
            return "temporary failure at \(step.rawValue): \(reply.map(\.description) ?? detail)"
        case .refused(let step, let reply, let detail):
            return "refused at \(step.rawValue): \(reply.map(\.description) ?? detail)"
        }
    }
}

/// Where messages go.
public protocol MailTransport {
    /// Delivers one message, giving up at `deadline` (nil: the transport's own timeouts only).
    func send(_ message: MailMessage, before deadline: Date?) throws(DeliveryError)
}

extension MailTransport {
    public func send(_ message: MailMessage) throws(DeliveryError) { try send(message, before: nil) }
}

/// Writes each message as an `.eml` file into a maildir (`DIR/new/`), for trying opvangsync out and for
/// organisations that hand mail to another system. Written to `tmp/` first, then renamed.
public struct MaildirTransport: MailTransport {
    public let directory: String

    public init(directory: String) { self.directory = directory }

    public func send(_ message: MailMessage, before deadline: Date?) throws(DeliveryError) {
        let fileManager = FileManager.default
        let tmp = (directory as NSString).appendingPathComponent("tmp")
        let new = (directory as NSString).appendingPathComponent("new")
        func fail(_ detail: String) -> DeliveryError { .refused(step: .message, reply: nil, detail: "maildir \(directory): \(detail)") }
        do {
            for folder in [tmp, new, (directory as NSString).appendingPathComponent("cur")] {
                try fileManager.createDirectory(atPath: folder, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o750])
                // The mail holds live activation links: never written through a link planted in the maildir.
                var info = stat()
                guard lstat(folder, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
                    throw fail("\((folder as NSString).lastPathComponent) is a symbolic link or not a folder; nothing is written through it")
                }
            }
            let safeID = message.messageID.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." ? $0 : "_" }
            let name = "\(Int(Date().timeIntervalSince1970)).\(String(safeID)).eml"
            let staging = (tmp as NSString).appendingPathComponent(name)
            let descriptor = open(staging, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o640)
            guard descriptor >= 0 else {
                throw DeliveryError.temporary(step: .message, reply: nil, detail: "cannot write \(staging): \(String(cString: strerror(errno)))")
            }
            fchmod(descriptor, 0o640)
            let bytes = message.rendered()
            var offset = 0
            var written = true
            bytes.withUnsafeBytes { buffer in
                while offset < buffer.count {
                    let count = write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                    if count < 0 { if errno == EINTR { continue }; written = false; return }
                    offset += count
                }
                if fsync(descriptor) != 0 { written = false }
            }
            close(descriptor)
            guard written else {
                unlink(staging)
                throw DeliveryError.temporary(step: .message, reply: nil, detail: "cannot write \(staging)")
            }
            guard rename(staging, (new as NSString).appendingPathComponent(name)) == 0 else {
                unlink(staging)
                throw DeliveryError.temporary(step: .message, reply: nil, detail: "cannot move \(name) into new/")
            }
        } catch let error as DeliveryError {
            throw error
        } catch {
            throw .temporary(step: .message, reply: nil, detail: "maildir \(directory): \(error.localizedDescription)")
        }
    }
}
