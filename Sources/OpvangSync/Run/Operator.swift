import Foundation

/// Who started a run, as the report, the runs table and so the audit trail keep it.
public enum Operator {
    /// The name of the real user. The environment is the caller's to set, so it is believed only where the
    /// kernel backs it: `SUDO_USER` counts when opvangsync runs as root and `SUDO_UID` names a real account
    /// of that name; `USER` never counts.
    public static func current(environment: [String: String] = ProcessInfo.processInfo.environment,
                               uid: uid_t = getuid()) -> String {
        if uid == 0, let sudoUser = environment["SUDO_USER"], !sudoUser.isEmpty,
           let sudoUID = environment["SUDO_UID"].flatMap({ uid_t($0) }), name(of: sudoUID) == sudoUser {
            return sudoUser
        }
        return name(of: uid) ?? "uid \(uid)"
    }

    /// The account name of `uid`, from the password database.
    static func name(of uid: uid_t) -> String? {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getpwuid_r(uid, &entry, &buffer, buffer.count, &result) == 0, result != nil, let name = entry.pw_name else {
            return nil
        }
        return String(cString: name)
    }
}
