import Foundation

/// A mailbox where bounces arrive: the envelope sender's mailbox, read by `opvangsync mail bounces`.
///
/// Anyone can send mail there, so everything in it is untrusted: messages are read up to a size limit,
/// and a message that was dealt with is moved aside (never deleted), so it is never counted twice and a
/// person can still look at it.
public protocol BounceMailbox {
    /// A readable name for messages and errors, without credentials.
    var name: String { get }
    /// The messages waiting, oldest first, as identifiers for `read` and `moveAside`.
    func messages() throws(MailboxError) -> [String]
    /// The message's bytes, or nil when it cannot be one (larger than `limit` bytes, which are then not read
    /// further; not a plain file): it is left where it is.
    func read(_ id: String, limit: Int) throws(MailboxError) -> [UInt8]?
    /// Moves a message that was dealt with out of the way, into the folder `processedFolder`.
    func moveAside(_ id: String) throws(MailboxError)
}

/// The folder processed bounces are moved to: `.Verwerkt` in a maildir (a Maildir++ folder, which mail
/// programs show as "Verwerkt"), `Verwerkt` over IMAP.
public let processedFolder = "Verwerkt"

/// Why a bounce mailbox could not be read or changed.
public struct MailboxError: Error, Sendable, CustomStringConvertible {
    public let mailbox: String
    public let reason: String
    public init(mailbox: String, reason: String) {
        self.mailbox = mailbox
        self.reason = reason
    }
    public var description: String { "bounce mailbox \(mailbox): \(reason)" }
}

/// A maildir (`DIR/new`, `DIR/cur`) that a mail server delivers bounces into.
///
/// Every entry of `new/` and `cur/` is a message to look at, except names starting with a dot (the
/// maildir's own). Only plain files with plain names are read, never through a symbolic link, a FIFO or a
/// device: anything else is counted and left alone. Processed messages move to `DIR/.Verwerkt/cur/` under
/// their own name, by a rename within the maildir, so nothing is written outside it.
public struct MaildirBounceMailbox: BounceMailbox {
    public let directory: String

    public init(directory: String) { self.directory = directory }

    public var name: String { "maildir:\(directory)" }

    func fail(_ reason: String) -> MailboxError { MailboxError(mailbox: name, reason: reason) }

    /// `new/NAME` or `cur/NAME`: a message's identifier, relative to the maildir.
    public func messages() throws(MailboxError) -> [String] {
        var found: [(String, Date)] = []
        var anyFolder = false
        for folder in ["new", "cur"] {
            let path = (directory as NSString).appendingPathComponent(folder)
            var info = stat()
            guard lstat(path, &info) == 0 else { continue }
            guard info.st_mode & S_IFMT == S_IFDIR else { throw fail("\(folder) is a symbolic link or not a folder; nothing is read through it") }
            anyFolder = true
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { throw fail("cannot list \(folder)") }
            for name in names where !name.hasPrefix(".") {
                var entry = stat()
                let modified = lstat((path as NSString).appendingPathComponent(name), &entry) == 0 ? TimeInterval(entry.st_mtim.tv_sec) : 0
                found.append(("\(folder)/\(name)", Date(timeIntervalSince1970: modified)))
            }
        }
        guard anyFolder else { throw fail("no maildir here (no new/ or cur/ folder)") }
        return found.sorted { ($0.1, $0.0) < ($1.1, $1.0) }.map(\.0)
    }

    /// A name a maildir holds: no path separator, no leading dot, printable and of reasonable length.
    static func isPlainName(_ name: String) -> Bool {
        !name.isEmpty && !name.hasPrefix(".") && name.utf8.count <= 255
            && name.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value != 0x7F && $0 != "/" && $0 != "\\" }
    }

    /// The path of an identifier from `messages()`; nil for anything else (`../x`, `new/../../etc/passwd`).
    func path(of id: String) -> String? {
        let parts = id.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, ["new", "cur"].contains(parts[0]), MaildirBounceMailbox.isPlainName(String(parts[1])) else { return nil }
        return (directory as NSString).appendingPathComponent(id)
    }

    public func read(_ id: String, limit: Int) throws(MailboxError) -> [UInt8]? {
        // A name with a line break, a control character or a path in it is no message anyone delivered.
        guard let path = path(of: id) else { return nil }
        // Not through a link, and not blocking on a FIFO someone left there.
        let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
        guard info.st_size <= limit else { return nil }
        var bytes = [UInt8](repeating: 0, count: limit + 1)
        var total = 0
        while total <= limit {
            let count = bytes.withUnsafeMutableBytes { buffer in
                Foundation.read(descriptor, buffer.baseAddress! + total, buffer.count - total)
            }
            if count < 0 {
                if errno == EINTR { continue }
                throw fail("cannot read \(id): \(String(cString: strerror(errno)))")
            }
            if count == 0 { break }
            total += count
        }
        // It grew while being read: still too large.
        guard total <= limit else { return nil }
        return Array(bytes.prefix(total))
    }

    public func moveAside(_ id: String) throws(MailboxError) {
        guard let path = path(of: id) else { throw fail("\(id) is not a message of this maildir") }
        var target = directory
        for part in [".\(processedFolder)", "cur"] {
            target = (target as NSString).appendingPathComponent(part)
            if mkdir(target, 0o750) != 0, errno != EEXIST { throw fail("cannot make \(target): \(String(cString: strerror(errno)))") }
            var info = stat()
            guard lstat(target, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
                throw fail("\(target) is a symbolic link or not a folder; nothing is moved through it")
            }
        }
        for part in ["new", "tmp"] {
            let sibling = ((directory as NSString).appendingPathComponent(".\(processedFolder)") as NSString).appendingPathComponent(part)
            _ = mkdir(sibling, 0o750)
        }
        let name = (id as NSString).lastPathComponent
        var destination = (target as NSString).appendingPathComponent(name)
        var attempt = 1
        while access(destination, F_OK) == 0 || errno != ENOENT {
            attempt += 1
            guard attempt < 1000 else { throw fail("cannot find a free name for \(name) in .\(processedFolder)/cur") }
            destination = (target as NSString).appendingPathComponent("\(name).\(attempt)")
        }
        guard rename(path, destination) == 0 else { throw fail("cannot move \(id) aside: \(String(cString: strerror(errno)))") }
    }
}
