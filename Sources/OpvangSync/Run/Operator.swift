import Foundation

/// Who is running opvangsync: the person behind `sudo` when there is one, else the account.
public enum Operator {
    public static func current() -> String {
        let environment = ProcessInfo.processInfo.environment
        if let sudoUser = environment["SUDO_USER"], !sudoUser.isEmpty { return sudoUser }
        if let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name {
            return String(cString: name)
        }
        return environment["USER"] ?? "uid \(geteuid())"
    }
}
