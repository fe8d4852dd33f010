import Foundation

/// One run per portal database (SPEC §5): an exclusive `flock` on `<database>.lock`, taken without waiting.
///
/// The kernel drops the lock when the process dies, however it dies, so a `kill -9` never leaves a lock
/// that blocks the next night. The file holds the holder's pid so the refusal can name it.
public final class RunLock {
    private let descriptor: Int32
    public let path: String

    public struct Held: Error, CustomStringConvertible, Sendable {
        public let path: String
        public let holder: String
        public var description: String {
            "another opvangsync run holds the lock on this portal database (pid \(holder), lock file \(path)); not waiting for it"
        }
    }

    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let path: String
        public let reason: String
        public var description: String { "cannot take the run lock \(path): \(reason)" }
    }

    public init(databasePath: String) throws {
        path = databasePath + ".lock"
        // Never through a link: a link planted in the portal's folder must not let the lock truncate
        // whatever file it points at.
        descriptor = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o640)
        guard descriptor >= 0 else {
            let reason = errno == ELOOP ? "the lock file is a symbolic link; remove it" : String(cString: strerror(errno))
            throw Failure(path: path, reason: reason)
        }
        var info = stat()
        // A second name (a hard link) would let the lock truncate another file when it writes the pid.
        guard fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_nlink == 1 else {
            close(descriptor)
            throw Failure(path: path, reason: "the lock file is not a plain file of its own (a hard link or not a regular file); remove it")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            var buffer = [UInt8](repeating: 0, count: 32)
            let count = pread(descriptor, &buffer, buffer.count, 0)
            close(descriptor)
            if code == EWOULDBLOCK {
                let holder = String(decoding: buffer.prefix(max(0, count)), as: UTF8.self)
                    .trimmingCharacters(in: .whitespacesAndNewlines)
                throw Held(path: path, holder: holder.isEmpty ? "unknown" : holder)
            }
            throw Failure(path: path, reason: String(cString: strerror(code)))
        }
        let pid = Array("\(getpid())\n".utf8)
        ftruncate(descriptor, 0)
        _ = pid.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
    }

    deinit {
        ftruncate(descriptor, 0)
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
