internal import CCurl
import Foundation

/// How to reach an SMTP server. The password never appears in errors or logs: not even printing or
/// dumping the settings shows it.
public struct SMTPSettings: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// `smtp://host:port` (STARTTLS) or `smtps://host:port` (TLS from the first byte); see `SMTPEndpoint`.
    public var url: String
    public var username: String?
    public var password: String?
    /// A CA bundle for servers with a private certificate authority.
    public var caFile: String?
    /// Seconds to set up a connection: TCP, the greeting, EHLO, STARTTLS.
    public var connectTimeoutSeconds = 10
    /// Seconds the server may take to answer one command.
    public var replyTimeoutSeconds = 30
    /// Seconds one message may take in all.
    public var timeoutSeconds = 60

    public init(url: String, username: String? = nil, password: String? = nil, caFile: String? = nil) {
        self.url = url
        self.username = username
        self.password = password
        self.caFile = caFile
    }

    /// The host part of the URL; empty when the URL does not parse.
    public var host: String { (try? SMTPEndpoint(parsing: url))?.host ?? "" }

    /// True for `localhost`, a dotted-quad literal in 127.0.0.0/8 and `::1`: the only servers allowed
    /// without TLS. False for anything that does not parse.
    public var isLoopback: Bool { (try? SMTPEndpoint(parsing: url))?.isLoopback ?? false }

    public var description: String {
        let server = (try? SMTPEndpoint(parsing: url))?.displayName ?? "(an unusable URL)"
        return "SMTPSettings(\(server), username: \(username ?? "none"), password: \(password == nil ? "none" : "(hidden)"))"
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(self, children: ["server": (try? SMTPEndpoint(parsing: url))?.displayName ?? "(an unusable URL)",
                                "username": username as Any, "caFile": caFile as Any,
                                "connectTimeoutSeconds": connectTimeoutSeconds, "replyTimeoutSeconds": replyTimeoutSeconds,
                                "timeoutSeconds": timeoutSeconds], displayStyle: .struct)
    }
}

/// What the server said, as the debug callback sees the session: the step of the last command sent and
/// the reply to it. Commands are reduced to their verb (AUTH lines carry credentials, RCPT lines addresses).
final class SMTPConversation {
    private(set) var step: SMTPStep = .connection
    /// The complete reply to the last command sent (or the greeting), nil while none came.
    private(set) var reply: SMTPReply?
    private var partial: [String] = []
    /// QUIT was sent: libcurl closes a connection after a failure, and the server's `221 Bye` is no answer
    /// to the command that failed.
    private var quitting = false

    /// A new transfer: on a reused connection it starts with MAIL FROM.
    func reset() {
        quitting = false
        step = .connection
        reply = nil
        partial = []
    }

    func sent(_ bytes: UnsafeBufferPointer<UInt8>) {
        let verb = String(decoding: bytes.prefix { $0 != 0x20 && $0 != 0x0D && $0 != 0x0A }, as: UTF8.self).uppercased()
        let next: SMTPStep?
        switch verb {
        case "EHLO", "HELO": next = .connection
        case "STARTTLS": next = .startTLS
        case "AUTH": next = .login
        case "MAIL": next = .sender
        case "RCPT": next = .recipient
        case "DATA": next = .message
        default: next = nil   // QUIT, or a SASL continuation (base64) that belongs to AUTH
        }
        if let next { step = next }
        if verb == "QUIT" {
            quitting = true
        } else {
            quitting = false
            reply = nil
            partial = []
        }
    }

    func received(_ bytes: UnsafeBufferPointer<UInt8>) {
        for line in String(decoding: bytes, as: UTF8.self).split(whereSeparator: { $0 == "\r\n" || $0 == "\n" || $0 == "\r" }) {
            let characters = Array(line)
            guard characters.count >= 3, let code = Int(String(characters[0..<3])) else { continue }
            if quitting && code == 221 { continue }
            quitting = false   // a greeting: a new connection
            let text = characters.count > 4 ? String(characters[4...]) : ""
            partial.append(text)
            if characters.count == 3 || characters[3] != "-" {
                reply = SMTPReply(code: code, text: partial.joined(separator: " "))
                partial = []
            }
        }
    }
}

/// One libcurl easy handle, released in `deinit`, with what its callbacks write into. Not `Sendable`:
/// used by one thread. Kept for a whole batch, so libcurl reuses its connection from message to message.
final class CurlHandle {
    let raw: UnsafeMutableRawPointer
    let conversation = SMTPConversation()
    let errorBuffer: UnsafeMutablePointer<CChar>

    private static let globalInit: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK

    init?() {
        guard CurlHandle.globalInit, let raw = curl_easy_init() else { return nil }
        self.raw = raw
        errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        _ = opvangsync_curl_setopt_pointer(raw, CURLOPT_ERRORBUFFER, errorBuffer)
        // The conversation is read through the debug callback; VERBOSE only switches it on.
        _ = opvangsync_curl_setopt_debug_function(raw) { _, type, data, size, userdata in
            guard let data, let userdata else { return 0 }
            let conversation = Unmanaged<SMTPConversation>.fromOpaque(userdata).takeUnretainedValue()
            let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(data).assumingMemoryBound(to: UInt8.self), count: size)
            if type == CURLINFO_HEADER_OUT { conversation.sent(bytes) }
            if type == CURLINFO_HEADER_IN { conversation.received(bytes) }
            return 0
        }
        _ = opvangsync_curl_setopt_pointer(raw, CURLOPT_DEBUGDATA, Unmanaged.passUnretained(conversation).toOpaque())
        set(CURLOPT_VERBOSE, 1)
    }

    deinit {
        // Cleanup says QUIT on an open connection; the conversation and the error buffer outlive it.
        curl_easy_cleanup(raw)
        errorBuffer.deallocate()
    }

    func set(_ option: CURLoption, _ value: Int) { _ = opvangsync_curl_setopt_long(raw, option, value) }
    func set(_ option: CURLoption, _ value: String) { _ = opvangsync_curl_setopt_string(raw, option, value) }

    var errorText: String {
        let text = String(cString: errorBuffer)
        return SMTPReply.clean(text)
    }
}

/// The message bytes libcurl pulls through its read callback.
private final class Upload {
    let bytes: [UInt8]
    var offset = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }
}

/// Delivers over SMTP through the system libcurl, one connection for all the messages it is given.
///
/// Not `Sendable`: one transport belongs to one batch on one thread.
public final class SMTPTransport: MailTransport {
    public let settings: SMTPSettings
    public let endpoint: SMTPEndpoint
    private var handle: CurlHandle?

    public struct InvalidSettings: Error, CustomStringConvertible, Sendable {
        public let reason: String
        public var description: String { reason }
    }

    public init(settings: SMTPSettings) throws(InvalidSettings) {
        do {
            endpoint = try SMTPEndpoint(parsing: settings.url)
        } catch {
            throw InvalidSettings(reason: "the URL \(error.reason)")
        }
        self.settings = settings
    }

    /// The handle of this batch, set up once: libcurl keeps its connection open between transfers.
    private func curl() throws(DeliveryError) -> CurlHandle {
        if let handle { return handle }
        guard let curl = CurlHandle() else { throw .temporary(step: .connection, reply: nil, detail: "libcurl could not start") }
        curl.set(CURLOPT_URL, endpoint.url)
        // STARTTLS is required, except towards a server on this machine.
        curl.set(CURLOPT_USE_SSL, Int(endpoint.isLoopback ? CURLUSESSL_TRY.rawValue : CURLUSESSL_ALL.rawValue))
        curl.set(CURLOPT_NOSIGNAL, 1)
        curl.set(CURLOPT_SERVER_RESPONSE_TIMEOUT, settings.replyTimeoutSeconds)
        // A server that takes the message and then stalls: less than a byte a second for a reply timeout.
        curl.set(CURLOPT_LOW_SPEED_LIMIT, 1)
        curl.set(CURLOPT_LOW_SPEED_TIME, settings.replyTimeoutSeconds)
        if let caFile = settings.caFile { curl.set(CURLOPT_CAINFO, caFile) }
        if let username = settings.username { curl.set(CURLOPT_USERNAME, username) }
        if let password = settings.password { curl.set(CURLOPT_PASSWORD, password) }
        curl.set(CURLOPT_UPLOAD, 1)
        _ = opvangsync_curl_setopt_read_function(curl.raw) { buffer, size, count, userdata in
            guard let buffer, let userdata else { return 0 }
            let upload = Unmanaged<Upload>.fromOpaque(userdata).takeUnretainedValue()
            let length = min(size * count, upload.bytes.count - upload.offset)
            upload.bytes.withUnsafeBytes { source in
                guard let base = source.baseAddress else { return }
                memcpy(buffer, base + upload.offset, length)
            }
            upload.offset += length
            return length
        }
        handle = curl
        return curl
    }

    /// An envelope address goes into an SMTP command line as it is: nothing that could end or extend it.
    static func isEnvelopeSafe(_ address: String) -> Bool {
        !address.isEmpty && address.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value != 0x7F && $0 != "<" && $0 != ">" }
            && !address.unicodeScalars.contains { (0x80...0x9F).contains($0.value) }
    }

    public func send(_ message: MailMessage, before deadline: Date?) throws(DeliveryError) {
        let sender = message.envelopeFrom ?? message.from.address
        guard SMTPTransport.isEnvelopeSafe(sender) else {
            throw .refused(step: .sender, reply: nil, detail: "the sender address cannot be used in an SMTP envelope")
        }
        guard SMTPTransport.isEnvelopeSafe(message.to.address) else {
            throw .bounced(code: 501, message: "5.1.3 the recipient address cannot be used in an SMTP envelope (not sent)")
        }
        var totalMilliseconds = settings.timeoutSeconds * 1000
        var connectMilliseconds = settings.connectTimeoutSeconds * 1000
        if let deadline {
            let left = Int(deadline.timeIntervalSinceNow * 1000)
            guard left > 0 else { throw .temporary(step: .connection, reply: nil, detail: "the time for this batch is up") }
            totalMilliseconds = min(totalMilliseconds, left)
            connectMilliseconds = min(connectMilliseconds, left)
        }
        let curl = try curl()
        curl.set(CURLOPT_TIMEOUT_MS, totalMilliseconds)
        curl.set(CURLOPT_CONNECTTIMEOUT_MS, connectMilliseconds)
        curl.set(CURLOPT_MAIL_FROM, "<\(sender)>")
        var recipients: UnsafeMutablePointer<curl_slist>?
        recipients = curl_slist_append(recipients, "<\(message.to.address)>")
        _ = opvangsync_curl_setopt_slist(curl.raw, CURLOPT_MAIL_RCPT, recipients)
        let upload = Upload(message.rendered())
        let context = Unmanaged.passRetained(upload)
        _ = opvangsync_curl_setopt_pointer(curl.raw, CURLOPT_READDATA, context.toOpaque())
        _ = opvangsync_curl_setopt_size(curl.raw, CURLOPT_INFILESIZE_LARGE, curl_off_t(upload.bytes.count))
        curl.errorBuffer[0] = 0
        curl.conversation.reset()

        let result = curl_easy_perform(curl.raw)

        // libcurl keeps neither list nor upload past the transfer; the handle must not point at them.
        _ = opvangsync_curl_setopt_slist(curl.raw, CURLOPT_MAIL_RCPT, nil)
        _ = opvangsync_curl_setopt_pointer(curl.raw, CURLOPT_READDATA, nil)
        curl_slist_free_all(recipients)
        context.release()
        guard result != CURLE_OK else { return }
        throw SMTPTransport.classify(result, step: curl.conversation.step, reply: curl.conversation.reply,
                                     detail: curl.errorText.isEmpty ? String(cString: curl_easy_strerror(result)) : curl.errorText)
    }

    /// Which failure this is, from the step the session was in and the server's reply to it. libcurl's
    /// code alone cannot say: a refused MAIL FROM, RCPT TO and DATA all end in CURLE_SEND_ERROR.
    static func classify(_ result: CURLcode, step: SMTPStep, reply: SMTPReply?, detail: String) -> DeliveryError {
        switch result {
        case CURLE_USE_SSL_FAILED:
            return .refused(step: .startTLS, reply: nil, detail: detail)
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CERTPROBLEM, CURLE_SSL_ISSUER_ERROR,
             CURLE_SSL_PINNEDPUBKEYNOTMATCH:
            return .refused(step: .certificate, reply: nil, detail: detail)
        case CURLE_LOGIN_DENIED:
            return .refused(step: .login, reply: reply, detail: detail)
        case CURLE_OPERATION_TIMEDOUT, CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_GOT_NOTHING,
             CURLE_SSL_CONNECT_ERROR:
            return .temporary(step: step == .connection || reply == nil ? .connection : step, reply: nil, detail: detail)
        default:
            break
        }
        guard let reply, reply.code >= 400 else {
            // The connection broke without a refusal, or the server said something that is not SMTP.
            return .temporary(step: step, reply: reply, detail: detail)
        }
        let permanent = reply.code >= 500
        switch step {
        case .recipient:
            return permanent ? .bounced(code: reply.code, message: reply.text) : .deferred(reply: reply)
        default:
            return permanent ? .refused(step: step, reply: reply, detail: detail) : .temporary(step: step, reply: reply, detail: detail)
        }
    }
}
