import Foundation

/// A real Postfix (Debian's `postfix` package) run from a temporary configuration folder, listening on
/// loopback only: mail to `local.test` goes to local(8), which bounces every user it does not know
/// (5.1.1 "unknown user") back to the envelope sender; `bounce.test` and `delivered.test` are virtual
/// mailboxes in maildirs under `mail`: `bounces@bounce.test` (and `bounces+TAG@…`, by the `+` delimiter)
/// and `noreply@bounce.test` land in `mail/bounces/`, everything at `delivered.test` in `mail/inbox/`.
///
/// Postfix's master runs as root and drops to the `postfix` user; the machine's own Postfix is not used.
public final class PostfixServer {
    public let folder: URL
    public let port: Int
    public var bounces: URL { folder.appendingPathComponent("mail/bounces") }
    public var inbox: URL { folder.appendingPathComponent("mail/inbox") }
    var configuration: URL { folder.appendingPathComponent("conf") }

    public struct Failed: Error, CustomStringConvertible {
        public let description: String
    }

    public init(in parent: URL) throws {
        folder = parent.appendingPathComponent("postfix-\(UUID().uuidString.prefix(8))")
        port = try PostfixServer.freePort()
        let manager = FileManager.default
        for name in ["conf", "queue", "data", "mail"] {
            try manager.createDirectory(at: folder.appendingPathComponent(name), withIntermediateDirectories: true)
        }
        // Postfix checks that every folder above its queue is owned by root and not writable by others.
        var ancestor = folder
        while ancestor.path != "/" {
            chmod(ancestor.path, 0o755)
            ancestor.deleteLastPathComponent()
            if ancestor.path == FileManager.default.temporaryDirectory.path || ancestor.path == "/tmp" { break }
        }
        try PostfixServer.owner("postfix", of: folder.appendingPathComponent("data").path)
        try PostfixServer.owner("nobody", of: folder.appendingPathComponent("mail").path)
        let path = folder.path
        try Data("""
            compatibility_level = 3.6
            queue_directory = \(path)/queue
            data_directory = \(path)/data
            mail_owner = postfix
            setgid_group = postdrop
            myhostname = postfix.test
            mydomain = postfix.test
            myorigin = postfix.test
            mydestination = local.test
            inet_interfaces = loopback-only
            inet_protocols = ipv4
            local_recipient_maps =
            alias_maps =
            alias_database =
            recipient_delimiter = +
            virtual_mailbox_domains = bounce.test delivered.test
            virtual_mailbox_base = \(path)/mail
            virtual_mailbox_maps = inline:{ bounces@bounce.test=bounces/, noreply@bounce.test=bounces/, @delivered.test=inbox/ }
            virtual_uid_maps = static:65534
            virtual_gid_maps = static:65534
            virtual_minimum_uid = 100
            mynetworks = 127.0.0.0/8
            smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
            maillog_file = \(path)/maillog
            maillog_file_prefixes = \(path)
            biff = no
            delay_warning_time = 0
            queue_run_delay = 1s
            minimal_backoff_time = 1s
            maximal_backoff_time = 2s
            smtpd_banner = $myhostname ESMTP

            """.utf8).write(to: configuration.appendingPathComponent("main.cf"))
        try Data("""
            127.0.0.1:\(port) inet n - n - - smtpd
            pickup    unix  n       -       n       60      1       pickup
            cleanup   unix  n       -       n       -       0       cleanup
            qmgr      unix  n       -       n       300     1       qmgr
            rewrite   unix  -       -       n       -       -       trivial-rewrite
            bounce    unix  -       -       n       -       0       bounce
            defer     unix  -       -       n       -       0       bounce
            trace     unix  -       -       n       -       0       bounce
            verify    unix  -       -       n       -       1       verify
            flush     unix  n       -       n       1000?   0       flush
            proxymap  unix  -       -       n       -       -       proxymap
            smtp      unix  -       -       n       -       -       smtp
            relay     unix  -       -       n       -       -       smtp
            showq     unix  n       -       n       -       -       showq
            error     unix  -       -       n       -       -       error
            retry     unix  -       -       n       -       -       error
            discard   unix  -       -       n       -       -       discard
            local     unix  -       n       n       -       -       local
            virtual   unix  -       n       n       -       -       virtual
            anvil     unix  -       -       n       -       1       anvil
            scache    unix  -       -       n       -       1       scache
            postlog   unix-dgram n  -       n       -       1       postlogd

            """.utf8).write(to: configuration.appendingPathComponent("master.cf"))
        let started = try runProcess("/usr/sbin/postfix", ["-c", configuration.path, "start"], in: folder)
        guard started.status == 0 else {
            throw Failed(description: "postfix did not start (\(started.status)): \(started.stderr) \(log)")
        }
        // The SMTP listener is up once a connection is accepted.
        let deadline = Date().addingTimeInterval(20)
        while !PostfixServer.accepts(port: port) {
            guard Date() < deadline else { throw Failed(description: "postfix does not listen on port \(port): \(log)") }
            Thread.sleep(forTimeInterval: 0.2)
        }
    }

    /// What Postfix logged, for failure messages.
    public var log: String {
        (try? String(contentsOf: folder.appendingPathComponent("maillog"), encoding: .utf8)) ?? "(no log)"
    }

    /// Waits until a maildir holds `count` messages in `new/`; returns their paths.
    public func waitForMessages(in maildir: URL, count: Int, seconds: TimeInterval = 60) throws -> [URL] {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let new = maildir.appendingPathComponent("new")
            let files = ((try? FileManager.default.contentsOfDirectory(at: new, includingPropertiesForKeys: nil)) ?? []).sorted { $0.path < $1.path }
            if files.count >= count { return files }
            guard Date() < deadline else {
                throw Failed(description: "\(files.count) of \(count) messages in \(maildir.lastPathComponent) after \(Int(seconds)) s: \(log)")
            }
            Thread.sleep(forTimeInterval: 0.3)
        }
    }

    /// Stops the master and its children; a master that does not stop is killed.
    public func stop() {
        _ = try? runProcess("/usr/sbin/postfix", ["-c", configuration.path, "stop"], in: folder)
        let pidFile = folder.appendingPathComponent("queue/pid/master.pid")
        if let text = try? String(contentsOf: pidFile, encoding: .utf8), let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
            for _ in 0..<30 where kill(pid, 0) == 0 { Thread.sleep(forTimeInterval: 0.1) }
            if kill(pid, 0) == 0 { kill(pid, SIGKILL) }
        }
    }

    deinit { stop() }

    static func owner(_ user: String, of path: String) throws {
        guard let entry = getpwnam(user) else { throw Failed(description: "no user \(user): is the postfix package installed?") }
        guard chown(path, entry.pointee.pw_uid, entry.pointee.pw_gid) == 0 else {
            throw Failed(description: "cannot give \(path) to \(user): \(String(cString: strerror(errno)))")
        }
    }

    /// A port on loopback nobody listens on now.
    static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw Failed(description: "no socket") }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0 }
        }
        guard bound else { throw Failed(description: "cannot find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func accepts(port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}
