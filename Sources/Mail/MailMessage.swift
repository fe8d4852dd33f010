import Foundation

/// An address with an optional display name: `Kinderopvang De Zonnebloem <noreply@zonnebloem.example>`.
public struct MailAddress: Sendable, Equatable, CustomStringConvertible {
    public let name: String?
    public let address: String

    public init(name: String? = nil, address: String) {
        self.name = name
        self.address = address
    }

    /// Parses `Name <addr>` or a bare `addr`. Text with a control character (a line break above all) is no
    /// address: it would end the header it is put in.
    public init?(parsing text: String) {
        guard !text.unicodeScalars.contains(where: MIME.isControl) else { return nil }
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let open = trimmed.lastIndex(of: "<"), trimmed.hasSuffix(">") {
            let address = String(trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)])
            let name = trimmed[..<open].trimmingCharacters(in: CharacterSet(charactersIn: " \""))
            guard address.contains("@"), !address.contains(" "), !address.contains("<") else { return nil }
            self.init(name: name.isEmpty ? nil : name, address: address)
        } else {
            guard trimmed.contains("@"), !trimmed.contains(" ") else { return nil }
            self.init(address: trimmed)
        }
    }

    /// The header form, the display name encoded when it is not plain ASCII. Whatever the name and address
    /// hold, the result is one header line: control characters become spaces in the name and are dropped,
    /// with spaces and angle brackets, from the address.
    public var headerValue: String {
        let address = String(String.UnicodeScalarView(self.address.unicodeScalars.filter {
            !MIME.isControl($0) && $0 != " " && $0 != "<" && $0 != ">"
        }))
        guard let name = name.map(MIME.headerText), !name.isEmpty else { return address }
        let isPlain = name.unicodeScalars.allSatisfy { $0.isASCII && $0.value >= 0x20 && !"\"\\<>@,;:()[]".unicodeScalars.contains($0) }
        return (isPlain ? name : MIME.encodedWord(name)) + " <\(address)>"
    }

    public var description: String { headerValue }
}

/// An RFC 5322 message with a UTF-8 plain-text body, rendered with CRLF line ends.
public struct MailMessage: Sendable {
    public var from: MailAddress
    public var to: MailAddress
    public var subject: String
    public var body: String
    /// Kept the same across delivery attempts, so a message that went out twice can be recognised.
    public var messageID: String
    public var date: Date
    public var extraHeaders: [(String, String)]
    /// The envelope sender (SMTP `MAIL FROM`), where bounces go; nil: the `From` address. A per-message
    /// address (VERP, `bounces+tag@domain`) lets a bounce that comes back later name its message.
    public var envelopeFrom: String?

    public init(from: MailAddress, to: MailAddress, subject: String, body: String, messageID: String,
                date: Date = Date(), extraHeaders: [(String, String)] = [], envelopeFrom: String? = nil) {
        self.from = from
        self.to = to
        self.subject = subject
        self.body = body
        self.messageID = messageID
        self.date = date
        self.extraHeaders = extraHeaders
        self.envelopeFrom = envelopeFrom
    }

    /// The message as it goes over the wire: headers, a blank line, quoted-printable body, CRLF throughout.
    ///
    /// Every header value is one line whatever the caller passed in: a CR or LF in a subject, a name, an
    /// address, a Message-ID or an extra header would otherwise start a header of its own (`Bcc:`) or end
    /// the header block. Header text comes from untrusted places (the export's organisation name).
    public func rendered() -> [UInt8] {
        let id = String(String.UnicodeScalarView(messageID.unicodeScalars.filter { !MIME.isControl($0) && $0 != " " && $0 != "<" && $0 != ">" }))
        var headers: [(String, String)] = [
            ("Date", MIME.rfc5322Date(date)),
            ("From", from.headerValue),
            ("To", to.headerValue),
            ("Subject", MIME.encodedWordIfNeeded(MIME.headerText(subject))),
            ("Message-ID", "<\(id)>"),
            ("MIME-Version", "1.0"),
            ("Content-Type", "text/plain; charset=UTF-8"),
            ("Content-Transfer-Encoding", "quoted-printable"),
        ]
        for (name, value) in extraHeaders {
            // A field name is printable ASCII without a colon (RFC 5322 §2.2).
            let field = String(String.UnicodeScalarView(name.unicodeScalars.filter { $0.value > 0x20 && $0.value < 0x7F && $0 != ":" }))
            guard !field.isEmpty else { continue }
            headers.append((field, MIME.encodedWordIfNeeded(MIME.headerText(value))))
        }
        var text = ""
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        text += "\r\n"
        text += MIME.quotedPrintable(body)
        return Array(text.utf8)
    }
}

/// The encodings RFC 2045/2047 ask for.
public enum MIME {
    /// C0 and C1 control characters, DEL, and the Unicode line and paragraph separators: nothing a header
    /// value may hold, encoded or not.
    public static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0x2028 || scalar.value == 0x2029
    }

    /// `text` as one header line: every run of control characters (CR, LF, tab, ...) becomes one space.
    public static func headerText(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        var inRun = false
        for scalar in text.unicodeScalars {
            if isControl(scalar) {
                if !inRun { scalars.append(" ") }
                inRun = true
            } else {
                scalars.append(scalar)
                inRun = false
            }
        }
        return String(scalars).trimmingCharacters(in: .whitespaces)
    }

    /// `=?UTF-8?B?...?=` words of at most 39 bytes each (64 characters encoded), so that even the first,
    /// after `Subject: `, keeps its line within 78 characters.
    public static func encodedWord(_ text: String) -> String {
        var words: [String] = []
        var chunk: [UInt8] = []
        for character in text {
            let bytes = Array(String(character).utf8)
            if chunk.count + bytes.count > 39 {
                words.append("=?UTF-8?B?\(Data(chunk).base64EncodedString())?=")
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty { words.append("=?UTF-8?B?\(Data(chunk).base64EncodedString())?=") }
        return words.joined(separator: "\r\n ")
    }

    public static func encodedWordIfNeeded(_ text: String) -> String {
        text.unicodeScalars.allSatisfy({ $0.isASCII && $0.value >= 0x20 }) && text.count <= 70 ? text : encodedWord(text)
    }

    /// Quoted-printable with CRLF line ends and soft breaks before 76 characters.
    public static func quotedPrintable(_ text: String) -> String {
        let normalised = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        var output = ""
        let hex = Array("0123456789ABCDEF")
        var lines = normalised.split(separator: "\n", omittingEmptySubsequences: false)
        // A final line break ends the last line; it does not start an empty one.
        if normalised.hasSuffix("\n") { lines.removeLast() }
        for line in lines {
            var encoded = ""
            var length = 0
            let bytes = Array(line.utf8)
            for (index, byte) in bytes.enumerated() {
                let isLast = index == bytes.count - 1
                var piece: String
                if (byte >= 33 && byte <= 126 && byte != 61) || ((byte == 32 || byte == 9) && !isLast) {
                    piece = String(UnicodeScalar(byte))
                } else {
                    piece = "=" + String(hex[Int(byte >> 4)]) + String(hex[Int(byte & 0x0F)])
                }
                if length + piece.count > 75 {
                    encoded += "=\r\n"
                    length = 0
                }
                encoded += piece
                length += piece.count
            }
            output += encoded + "\r\n"
        }
        return output
    }

    /// `Sun, 22 Nov 2026 02:30:00 +0100`, in Europe/Amsterdam.
    public static func rfc5322Date(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "Europe/Amsterdam")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        return formatter.string(from: date)
    }
}
