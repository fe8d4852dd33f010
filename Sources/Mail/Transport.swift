import Foundation

/// Why a message was not delivered.
public enum DeliveryError: Error, Sendable, CustomStringConvertible {
    /// The server refused for good (SMTP 5xx): a bounce. Retrying will not help.
    case permanent(code: Int, message: String)
    /// The server could not be reached or asked to try later (4xx, timeouts): retry with a delay.
    case temporary(message: String)

    public var description: String {
        switch self {
        case .permanent(let code, let message): return "permanent failure (\(code)): \(message)"
        case .temporary(let message): return "temporary failure: \(message)"
        }
    }
}

/// Where messages go.
public protocol MailTransport {
    func send(_ message: MailMessage) throws(DeliveryError)
}

/// Writes each message as an `.eml` file into a maildir (`DIR/new/`), for trying opvangsync out and for
/// organisations that hand mail to another system. Written to `tmp/` first, then renamed.
public struct MaildirTransport: MailTransport {
    public let directory: String

    public init(directory: String) { self.directory = directory }

    public func send(_ message: MailMessage) throws(DeliveryError) {
        let fileManager = FileManager.default
        let tmp = (directory as NSString).appendingPathComponent("tmp")
        let new = (directory as NSString).appendingPathComponent("new")
        do {
            for folder in [tmp, new, (directory as NSString).appendingPathComponent("cur")] {
                try fileManager.createDirectory(atPath: folder, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o750])
            }
            let safeID = message.messageID.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." ? $0 : "_" }
            let name = "\(Int(Date().timeIntervalSince1970)).\(String(safeID)).eml"
            let staging = (tmp as NSString).appendingPathComponent(name)
            guard fileManager.createFile(atPath: staging, contents: Data(message.rendered()),
                                         attributes: [.posixPermissions: 0o640]) else {
                throw DeliveryError.temporary(message: "cannot write \(staging)")
            }
            try fileManager.moveItem(atPath: staging, toPath: (new as NSString).appendingPathComponent(name))
        } catch let error as DeliveryError {
            throw error
        } catch {
            throw .temporary(message: "maildir \(directory): \(error.localizedDescription)")
        }
    }
}
