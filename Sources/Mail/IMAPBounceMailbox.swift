internal import CCurl
import Foundation

/// How to reach a bounce mailbox over IMAP: `imaps://host[:port]/MAILBOX` (TLS from the first byte), with
/// credentials from the configuration's password file, never from the URL.
public struct IMAPSettings: Sendable, CustomStringConvertible {
    public var url: String
    public var username: String
    public var password: String
    public var caFile: String?
    public var timeoutSeconds = 60

    public init(url: String, username: String, password: String, caFile: String? = nil) {
        self.url = url
        self.username = username
        self.password = password
        self.caFile = caFile
    }

    /// Why `url` cannot be a bounce mailbox, or nil: it must be `imaps://`, name a host, and hold no user
    /// name, password, query or fragment.
    public static func problem(_ url: String) -> String? {
        guard let components = URLComponents(string: url), components.scheme?.lowercased() == "imaps" else {
            return "must start with imaps:// (IMAP over TLS)"
        }
        guard let host = components.host, !host.isEmpty else { return "names no host" }
        guard components.user == nil, components.password == nil else {
            return "holds a user name or password; put them in mail.bouncesUsername and mail.bouncesPasswordFile"
        }
        guard components.query == nil, components.fragment == nil else { return "may hold no query or fragment" }
        guard url.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else { return "holds spaces or control characters" }
        return nil
    }

    /// The mailbox named in the URL's path; `INBOX` when none.
    var mailbox: String {
        let path = URLComponents(string: url)?.path ?? ""
        let name = path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        return name.isEmpty ? "INBOX" : name
    }

    /// The URL of the server with the mailbox, percent-encoded.
    var mailboxURL: String {
        guard var components = URLComponents(string: url) else { return url }
        components.path = "/" + mailbox
        return components.string ?? url
    }

    public var description: String {
        let host = URLComponents(string: url)?.host ?? "?"
        return "IMAPSettings(\(host)/\(mailbox), username: \(username), password: (hidden))"
    }
}

/// What the write callback collects: a message or the untagged answer to a command, up to a limit.
private final class Download {
    var bytes: [UInt8] = []
    let limit: Int
    var exceeded = false
    init(limit: Int) { self.limit = limit }
}

/// A bounce mailbox over IMAP, through the system libcurl: `UID SEARCH` lists the messages, `UID FETCH`
/// reads one, and `UID MOVE` (or `UID COPY` and a `\Deleted` flag where the server has no MOVE) puts it in
/// the folder `Verwerkt`.
///
/// Not `Sendable`: one session, one thread.
public final class IMAPBounceMailbox: BounceMailbox {
    public let settings: IMAPSettings
    private var handle: CurlHandle?

    public init(settings: IMAPSettings) throws(MailboxError) {
        if let problem = IMAPSettings.problem(settings.url) {
            throw MailboxError(mailbox: "imaps", reason: "the URL \(problem)")
        }
        self.settings = settings
    }

    public var name: String { "imaps://\(URLComponents(string: settings.url)?.host ?? "?")/\(settings.mailbox)" }

    func fail(_ reason: String) -> MailboxError { MailboxError(mailbox: name, reason: reason) }

    private func curl() throws(MailboxError) -> CurlHandle {
        if let handle { return handle }
        guard let curl = CurlHandle() else { throw fail("libcurl could not start") }
        curl.set(CURLOPT_NOSIGNAL, 1)
        curl.set(CURLOPT_USERNAME, settings.username)
        curl.set(CURLOPT_PASSWORD, settings.password)
        curl.set(CURLOPT_USE_SSL, Int(CURLUSESSL_ALL.rawValue))
        curl.set(CURLOPT_CONNECTTIMEOUT, 15)
        curl.set(CURLOPT_TIMEOUT, settings.timeoutSeconds)
        if let caFile = settings.caFile { curl.set(CURLOPT_CAINFO, caFile) }
        _ = opvangsync_curl_setopt_write_function(curl.raw) { data, size, count, userdata in
            guard let data, let userdata else { return 0 }
            let download = Unmanaged<Download>.fromOpaque(userdata).takeUnretainedValue()
            let length = size * count
            guard download.bytes.count + length <= download.limit else {
                download.exceeded = true
                return 0   // stops the transfer: a message larger than anything a bounce needs
            }
            download.bytes.append(contentsOf: UnsafeBufferPointer(start: UnsafeRawPointer(data).assumingMemoryBound(to: UInt8.self), count: length))
            return length
        }
        handle = curl
        return curl
    }

    /// One request: `url` with an optional custom command; the bytes the server sent for it.
    private func perform(url: String, command: String?, limit: Int) throws(MailboxError) -> (bytes: [UInt8], exceeded: Bool) {
        let curl = try curl()
        curl.set(CURLOPT_URL, url)
        if let command {
            curl.set(CURLOPT_CUSTOMREQUEST, command)
        } else {
            _ = opvangsync_curl_setopt_pointer(curl.raw, CURLOPT_CUSTOMREQUEST, nil)
        }
        let download = Download(limit: limit)
        let context = Unmanaged.passRetained(download)
        _ = opvangsync_curl_setopt_pointer(curl.raw, CURLOPT_WRITEDATA, context.toOpaque())
        curl.errorBuffer[0] = 0
        let result = curl_easy_perform(curl.raw)
        _ = opvangsync_curl_setopt_pointer(curl.raw, CURLOPT_WRITEDATA, nil)
        context.release()
        if download.exceeded { return (download.bytes, true) }
        guard result == CURLE_OK else {
            let detail = curl.errorText.isEmpty ? String(cString: curl_easy_strerror(result)) : curl.errorText
            switch result {
            case CURLE_LOGIN_DENIED: throw fail("the server refused the login (check mail.bouncesUsername and the password file)")
            case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE: throw fail("the server's certificate cannot be verified (see mail.caFile): \(detail)")
            default: throw fail(detail)
            }
        }
        return (download.bytes, false)
    }

    public func messages() throws(MailboxError) -> [String] {
        let answer = try perform(url: settings.mailboxURL, command: "UID SEARCH UNDELETED", limit: 4 << 20)
        var uids: [String] = []
        for line in String(decoding: answer.bytes, as: UTF8.self).split(whereSeparator: { $0 == "\r\n" || $0 == "\n" }) {
            let words = line.split(separator: " ")
            guard words.count >= 2, words[0] == "*", words[1].uppercased() == "SEARCH" else { continue }
            uids += words.dropFirst(2).filter { $0.allSatisfy(\.isNumber) && $0.count <= 10 }.map(String.init)
        }
        return uids.sorted { (Int($0) ?? 0) < (Int($1) ?? 0) }
    }

    public func read(_ id: String, limit: Int) throws(MailboxError) -> [UInt8]? {
        guard id.allSatisfy(\.isNumber), !id.isEmpty else { throw fail("\(id) is not a message UID") }
        let answer = try perform(url: settings.mailboxURL + ";UID=\(id)", command: nil, limit: limit)
        return answer.exceeded ? nil : answer.bytes
    }

    public func moveAside(_ id: String) throws(MailboxError) {
        guard id.allSatisfy(\.isNumber), !id.isEmpty else { throw fail("\(id) is not a message UID") }
        // The folder may exist already; a refusal to create it again is no error.
        _ = try? perform(url: settings.mailboxURL, command: "CREATE \(processedFolder)", limit: 1 << 16)
        do {
            _ = try perform(url: settings.mailboxURL, command: "UID MOVE \(id) \(processedFolder)", limit: 1 << 16)
        } catch {
            // A server without MOVE (RFC 6851): copy, then flag the original deleted; SEARCH UNDELETED skips it.
            _ = try perform(url: settings.mailboxURL, command: "UID COPY \(id) \(processedFolder)", limit: 1 << 16)
            _ = try perform(url: settings.mailboxURL, command: "UID STORE \(id) +FLAGS.SILENT (\\Deleted)", limit: 1 << 16)
        }
    }
}
