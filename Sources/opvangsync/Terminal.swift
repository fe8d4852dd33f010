import Foundation
import OpvangSync

/// Output helpers: results on stdout, diagnostics and progress on stderr.
enum Terminal {
    static let isInteractive = isatty(STDERR_FILENO) == 1
    /// `OPVANGSYNC_PROGRESS=1`: progress as plain lines on stderr even when it is not a terminal (logs).
    static let plainProgress = ProcessInfo.processInfo.environment["OPVANGSYNC_PROGRESS"] == "1"
    /// Set by `--quiet`: nothing on stdout (cron mails whatever a job prints).
    nonisolated(unsafe) static var quiet = false

    static func error(_ text: String) { write(text, .error) }
    static func warning(_ text: String) { write(text, .warning) }
    static func info(_ text: String) { write(text, .info) }

    /// A progress line that overwrites itself on a terminal; nothing when output is not a terminal,
    /// unless plain progress lines were asked for.
    static func progress(_ text: String) {
        if plainProgress {
            write("progress: \(text)", .info)
        } else if isInteractive {
            FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8))
        }
    }

    static func endProgress() {
        guard isInteractive, !plainProgress else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }

    private static func write(_ text: String, _ priority: JournalPriority) {
        // Nothing from the export may move the cursor or forge a line in a terminal, a cron mail or the journal.
        let safe = TextSafety.visible(text, keepingLineBreaks: true)
        FileHandle.standardError.write(Data(JournalPriority.lines(safe, priority, prefixed: stderrIsJournal).utf8))
    }

    /// systemd sets `JOURNAL_STREAM` to the device and inode of the stream it connected to stdout and
    /// stderr. Only when stderr still is that stream (a child's stderr may have been redirected) do the
    /// lines carry a priority prefix: `journalctl -p warning` then shows the errors and warnings.
    static let stderrIsJournal: Bool = {
        guard let value = ProcessInfo.processInfo.environment["JOURNAL_STREAM"] else { return false }
        var status = stat()
        guard fstat(STDERR_FILENO, &status) == 0 else { return false }
        return value == "\(status.st_dev):\(status.st_ino)"
    }()
}

/// The syslog priority of a stderr line, written as `<N>` in front of it for the journal (sd-daemon(3)).
enum JournalPriority: Int {
    case error = 3
    case warning = 4
    case info = 6

    /// `text` as lines ending in a newline, each starting with `<N>` when `prefixed`.
    static func lines(_ text: String, _ priority: JournalPriority, prefixed: Bool) -> String {
        guard prefixed else { return text + "\n" }
        return text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { "<\(priority.rawValue)>\($0)\n" }.joined()
    }
}
