import Foundation

/// A real IMAP server (Debian's `dovecot-imapd`) run from a temporary configuration folder: IMAP over TLS
/// only, on loopback, with a throwaway certificate, one user and its maildir. Dovecot's master runs as
/// root (as in CI) and the mail as `nobody`; the machine's own Dovecot is not used.
public final class DovecotServer {
    public let folder: URL
    public let port: Int
    public let username = "bounces"
    public let password: String
    public let certificate: URL
    /// Dovecot's sockets: a short path of its own, as a Unix socket's path is at most 107 bytes.
    let run: String
    /// Dovecot's master, in the foreground (`-F`): stopping it stops every process it started.
    private let master = Process()
    var configuration: URL { folder.appendingPathComponent("dovecot.conf") }

    /// The user's inbox, a maildir: messages put in `new/` are what an IMAP client sees.
    public var inbox: URL { folder.appendingPathComponent("mail/\(username)") }

    public init(in parent: URL) throws {
        folder = parent.appendingPathComponent("dovecot-\(UUID().uuidString.prefix(8))")
        port = try PostfixServer.freePort()
        password = UUID().uuidString
        let manager = FileManager.default
        var template = Array("/tmp/dovecot-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw PostfixServer.Failed(description: "no folder for dovecot's sockets") }
        run = String(cString: made)
        chmod(run, 0o755)
        for name in ["state", "mail/\(username)/new", "mail/\(username)/cur", "mail/\(username)/tmp"] {
            try manager.createDirectory(at: folder.appendingPathComponent(name), withIntermediateDirectories: true)
        }
        (certificate, _) = try makeCertificate(in: folder)
        try Data("\(username):{PLAIN}\(password)\n".utf8).write(to: folder.appendingPathComponent("passwd"))
        let path = folder.path
        try Data("""
            base_dir = \(run)
            state_dir = \(path)/state
            log_path = \(path)/dovecot.log
            ssl = required
            ssl_cert = <\(path)/cert.pem
            ssl_key = <\(path)/key.pem
            listen = 127.0.0.1
            protocols = imap
            default_internal_user = dovecot
            default_login_user = dovenull
            mail_location = maildir:\(path)/mail/%u
            passdb {
              driver = passwd-file
              args = scheme=PLAIN username_format=%u \(path)/passwd
            }
            userdb {
              driver = static
              args = uid=nobody gid=nogroup home=\(path)/mail/%u
            }
            service imap-login {
              inet_listener imap {
                port = 0
              }
              inet_listener imaps {
                port = \(port)
                ssl = yes
              }
            }
            auth_mechanisms = plain login

            """.utf8).write(to: configuration)
        try chownTree(folder.appendingPathComponent("mail"), to: "nobody")
        master.executableURL = URL(fileURLWithPath: "/usr/sbin/dovecot")
        master.arguments = ["-F", "-c", configuration.path]
        master.standardInput = FileHandle.nullDevice
        master.standardOutput = FileHandle.nullDevice
        master.standardError = FileHandle.nullDevice
        try master.run()
        let deadline = Date().addingTimeInterval(20)
        while !PostfixServer.accepts(port: port) {
            guard master.isRunning, Date() < deadline else {
                stop()
                throw PostfixServer.Failed(description: "dovecot does not listen on \(port): \(log)")
            }
            Thread.sleep(forTimeInterval: 0.2)
        }
    }

    public var log: String { (try? String(contentsOf: folder.appendingPathComponent("dovecot.log"), encoding: .utf8)) ?? "(no log)" }

    /// Delivers a message into the inbox, as a mail server would (owned by the mail user).
    public func deliver(_ bytes: Data, name: String) throws {
        let url = inbox.appendingPathComponent("new/\(name)")
        try bytes.write(to: url)
        try chownTree(url, to: "nobody")
    }

    /// The messages in a folder of the user's maildir (`""` for the inbox, `Verwerkt` for `.Verwerkt`).
    public func messages(in folder: String) -> [URL] {
        let base = folder.isEmpty ? inbox : inbox.appendingPathComponent(".\(folder)")
        return ["new", "cur"].flatMap { sub in
            (try? FileManager.default.contentsOfDirectory(at: base.appendingPathComponent(sub), includingPropertiesForKeys: nil)) ?? []
        }
    }

    public func stop() {
        if master.isRunning {
            master.terminate()
            let deadline = Date().addingTimeInterval(10)
            while master.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
            if master.isRunning { kill(master.processIdentifier, SIGKILL) }
        }
        try? FileManager.default.removeItem(atPath: run)
    }

    deinit { stop() }

    func chownTree(_ url: URL, to user: String) throws {
        guard let entry = getpwnam(user) else { throw PostfixServer.Failed(description: "no user \(user)") }
        let uid = entry.pointee.pw_uid, gid = entry.pointee.pw_gid
        chown(url.path, uid, gid)
        let enumerator = FileManager.default.enumerator(atPath: url.path)
        while let item = enumerator?.nextObject() as? String { chown(url.appendingPathComponent(item).path, uid, gid) }
    }
}
