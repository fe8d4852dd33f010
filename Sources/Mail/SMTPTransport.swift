import CCurl
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
    public var connectTimeoutSeconds = 15
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
                                "connectTimeoutSeconds": connectTimeoutSeconds,
                                "timeoutSeconds": timeoutSeconds], displayStyle: .struct)
    }
}

/// One libcurl easy handle, released in `deinit`. Not `Sendable`: used by one thread for one message.
final class CurlHandle {
    let raw: UnsafeMutableRawPointer

    private static let globalInit: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK

    init?() {
        guard CurlHandle.globalInit, let raw = curl_easy_init() else { return nil }
        self.raw = raw
    }

    deinit { curl_easy_cleanup(raw) }

    func set(_ option: CURLoption, _ value: Int) { _ = opvangsync_curl_setopt_long(raw, option, value) }
    func set(_ option: CURLoption, _ value: String) { _ = opvangsync_curl_setopt_string(raw, option, value) }

    var responseCode: Int {
        var code = 0
        _ = opvangsync_curl_getinfo_long(raw, CURLINFO_RESPONSE_CODE, &code)
        return code
    }
}

/// The message bytes libcurl pulls through its read callback.
private final class Upload {
    let bytes: [UInt8]
    var offset = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }
}

/// Delivers over SMTP through the system libcurl.
public struct SMTPTransport: MailTransport {
    public let settings: SMTPSettings
    public let endpoint: SMTPEndpoint

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

    public func send(_ message: MailMessage) throws(DeliveryError) {
        guard let curl = CurlHandle() else { throw .temporary(message: "libcurl could not start") }
        curl.set(CURLOPT_URL, endpoint.url)
        // STARTTLS is required, except towards a server on this machine.
        curl.set(CURLOPT_USE_SSL, Int(endpoint.isLoopback ? CURLUSESSL_TRY.rawValue : CURLUSESSL_ALL.rawValue))
        curl.set(CURLOPT_NOSIGNAL, 1)
        curl.set(CURLOPT_CONNECTTIMEOUT, settings.connectTimeoutSeconds)
        curl.set(CURLOPT_TIMEOUT, settings.timeoutSeconds)
        if let caFile = settings.caFile { curl.set(CURLOPT_CAINFO, caFile) }
        if let username = settings.username { curl.set(CURLOPT_USERNAME, username) }
        if let password = settings.password { curl.set(CURLOPT_PASSWORD, password) }
        curl.set(CURLOPT_MAIL_FROM, "<\(message.from.address)>")

        var recipients: UnsafeMutablePointer<curl_slist>?
        recipients = curl_slist_append(recipients, "<\(message.to.address)>")
        defer { curl_slist_free_all(recipients) }
        _ = opvangsync_curl_setopt_slist(curl.raw, CURLOPT_MAIL_RCPT, recipients)

        let upload = Upload(message.rendered())
        let context = Unmanaged.passRetained(upload)
        defer { context.release() }
        curl.set(CURLOPT_UPLOAD, 1)
        _ = opvangsync_curl_setopt_size(curl.raw, CURLOPT_INFILESIZE_LARGE, curl_off_t(upload.bytes.count))
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
        _ = opvangsync_curl_setopt_pointer(curl.raw, CURLOPT_READDATA, context.toOpaque())

        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        defer { errorBuffer.deallocate() }
        _ = opvangsync_curl_setopt_pointer(curl.raw, CURLOPT_ERRORBUFFER, errorBuffer)

        let result = curl_easy_perform(curl.raw)
        guard result != CURLE_OK else { return }
        let detail = String(cString: errorBuffer)
        let text = detail.isEmpty ? String(cString: curl_easy_strerror(result)) : detail
        let code = curl.responseCode
        switch result {
        case CURLE_LOGIN_DENIED:
            throw .temporary(message: "SMTP authentication failed at \(endpoint.host) (check the username and password file)")
        case CURLE_USE_SSL_FAILED:
            throw .temporary(message: "\(endpoint.host) does not offer STARTTLS; opvangsync sends only over TLS")
        default:
            if (500...599).contains(code) { throw .permanent(code: code, message: text) }
            throw .temporary(message: code > 0 ? "\(code): \(text)" : text)
        }
    }
}
