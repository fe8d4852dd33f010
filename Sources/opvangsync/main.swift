import Foundation
import OpvangSync
internal import CMalloc

// One malloc arena for every thread. A run reads, hashes and renders on both cores; the second thread would
// otherwise allocate from arenas of its own, whose freed memory the main thread never reuses (a nightly run
// peaked a quarter higher for it, and was no faster).
mallopt(M_ARENA_MAX, 1)

let usage = """
    Usage: opvangsync COMMAND [options]

    Keeps the parent portal in step with the planning system's nightly export.

    Commands:
      import [EXPORT_DIR]     read an export and apply it to the portal database
      runs                    the history of runs
      report RUN_ID           show one run's report (--format md|html|json|csv)
      history KIND ID         every change to one record (child, parent, placement, ...)
      accounts list|show|resend   parent accounts: status, addresses, invitations and their mail, a new link
      mail send [--limit N]   deliver queued mail
      mail bounces            read the bounces that came back (mail.bounces)
      attendance show|refresh --group CODE   a group's attendance list; rebuild it without an export
      team show --group CODE  the staff of a group ("Ons team")
      --version               the version of opvangsync

    Run `opvangsync COMMAND --help` for a command's options.
    """

/// Maps every error to its exit code and a message on stderr; nothing else happens here.
func main() -> Int32 {
    var words = Array(CommandLine.arguments.dropFirst())
    guard let command = words.first else {
        Terminal.error(usage)
        return ExitCode.usage.rawValue
    }
    words.removeFirst()
    do {
        let code: ExitCode
        switch command {
        case "import": code = try ImportCommand.run(words)
        case "runs": code = try HistoryCommands.runs(words)
        case "report": code = try HistoryCommands.report(words)
        case "history": code = try HistoryCommands.history(words)
        case "accounts": code = try AccountCommands.accounts(words)
        case "mail": code = try AccountCommands.mail(words)
        case "attendance": code = try AttendanceCommands.run(words)
        case "team": code = try AccountCommands.team(words)
        case "--version", "version":
            print("opvangsync \(opvangsyncVersion)")
            code = .success
        case "--help", "-h", "help":
            print(usage)
            code = .success
        default:
            Terminal.error("opvangsync: unknown command \"\(command)\"\n\n\(usage)")
            code = .usage
        }
        return code.rawValue
    } catch let error as UsageError {
        Terminal.error("opvangsync: \(error)")
        return ExitCode.usage.rawValue
    } catch let error as Arguments.Invalid {
        Terminal.error("opvangsync: \(error)")
        return ExitCode.usage.rawValue
    } catch let error as Configuration.Failure {
        Terminal.error("opvangsync: \(error)")
        return ExitCode.usage.rawValue
    } catch let error as MailTemplates.Invalid {
        Terminal.error("opvangsync: \(error)")
        return ExitCode.usage.rawValue
    } catch let error as ForeignDatabase {
        Terminal.error("opvangsync: \(error)")
        return ExitCode.usage.rawValue
    } catch let error as RunLock.Held {
        Terminal.error("opvangsync: \(error)")
        return ExitCode.failed.rawValue
    } catch {
        Terminal.error("opvangsync: failed: \(error)")
        return ExitCode.failed.rawValue
    }
}

// A full disk or `ulimit -f` must be an error that rolls the run back, not a signal that kills the
// process (perhaps after its transaction has committed, before its report is in place).
signal(SIGXFSZ, SIG_IGN)
exit(main())
