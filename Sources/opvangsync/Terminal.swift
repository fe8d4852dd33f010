import Foundation
import OpvangSync

/// Output helpers: results on stdout, diagnostics and progress on stderr.
enum Terminal {
    static let isInteractive = isatty(STDERR_FILENO) == 1
    /// `OPVANGSYNC_PROGRESS=1`: progress as plain lines on stderr even when it is not a terminal (logs).
    static let plainProgress = ProcessInfo.processInfo.environment["OPVANGSYNC_PROGRESS"] == "1"

    static func error(_ text: String) {
        FileHandle.standardError.write(Data((TextSafety.visible(text, keepingLineBreaks: true) + "\n").utf8))
    }

    /// A progress line that overwrites itself on a terminal; nothing when output is not a terminal,
    /// unless plain progress lines were asked for.
    static func progress(_ text: String) {
        if plainProgress {
            FileHandle.standardError.write(Data("progress: \(text)\n".utf8))
        } else if isInteractive {
            FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8))
        }
    }

    static func endProgress() {
        guard isInteractive, !plainProgress else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}
