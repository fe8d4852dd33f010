import Foundation
import OpvangSync

/// `attendance show` and `attendance refresh`: the lists group staff start their day with.
enum AttendanceCommands {
    static let help = """
        Usage: opvangsync attendance show --group CODE [--date jjjj-mm-dd] [--days N] [--format table|json|csv]
               opvangsync attendance refresh --group CODE [--as-of jjjj-mm-dd] [--force --reason TEXT]

        show      the attendance list ("aanwezigheidslijst") of a group: for each day the children expected,
                  with their times, the children reported absent with the reason, and the total expected
                  against the group's capacity (a day over capacity is flagged)
        refresh   "Planning verversen": rebuild the group's list from the plan last imported, without a new
                  export; days before the as-of date are history and stay as they are. An as-of date
                  before the latest run's is refused (exit 3, nothing changed) unless --force --reason TEXT

        Options: --db FILE, --config FILE, --org ID
        """

    static func run(_ words: [String]) throws -> ExitCode {
        guard let subcommand = words.first, subcommand != "--help" else {
            print(help)
            return words.first == "--help" ? .success : .usage
        }
        let arguments = try Arguments(Array(words.dropFirst()), options: ["config", "org", "db", "group", "date", "days", "format", "as-of", "reason"],
                                      flags: ["help", "force"])
        if arguments.flag("help") {
            print(help)
            return .success
        }
        guard let group = arguments.value("group") else { throw UsageError("attendance \(subcommand) needs --group CODE") }
        let settings = try AccountCommands.settings(arguments)
        func day(_ option: String) throws -> Day {
            guard let text = arguments.value(option) else { return Day.today() }
            guard let day = Day(iso: text) else { throw UsageError("--\(option) takes a date as jjjj-mm-dd, got \"\(text)\"") }
            return day
        }
        switch subcommand {
        case "refresh":
            let lock = try RunLock(databasePath: settings.database)
            defer { withExtendedLifetime(lock) {} }
            let repository = try PortalRepository(path: settings.database)
            let summary: AttendanceSummary
            do {
                summary = try AttendanceRefresh(repository: repository, settings: settings)
                    .run(group: group, asOf: try day("as-of"), operator: Operator.current(), force: arguments.flag("force"),
                         forceReason: arguments.value("reason"))
            } catch let refused as AttendanceHistory.Refused {
                Terminal.error("opvangsync: groep \(group) niet ververst: \(refused.message) Er is niets gewijzigd.")
                Terminal.error("opvangsync: to rebuild those days anyway: attendance refresh --group \(group) --as-of DATE --force --reason TEXT")
                return .aborted
            }
            for change in summary.changes.prefix(50) {
                let kind = change.change == .added ? "erbij" : change.change == .removed ? "eraf" : "gewijzigd"
                print("\(change.date)  \(change.child)  \(kind)  \(change.old ?? "") \(change.new.map { "→ \($0)" } ?? "")")
            }
            if let path = try repository.runs(limit: 1).first?.reportPath { print("report: \(path)") }
            print("opvangsync: groep \(group) ververst: \(summary.added) erbij, \(summary.removed) eraf, \(summary.changed) gewijzigd (\(summary.days) dagen)")
            return .success
        case "show":
            var days = 1
            if let text = arguments.value("days") {
                guard let number = Int(text), (1...366).contains(number) else { throw UsageError("--days takes a whole number from 1 to 366") }
                days = number
            }
            let repository = try PortalRepository(readOnlyAt: settings.database)
            let list = try repository.attendance(group: group, from: try day("date"), days: days)
            switch arguments.value("format") ?? "table" {
            case "json":
                try Table.print(header: [], rows: [], json: list, format: "json")
            case "csv":
                var rows: [[String]] = []
                for day in list {
                    for child in day.children {
                        let status = child.absent ? "afwezig" : child.absentHours == nil ? "aanwezig" : "deels afwezig"
                        rows.append([day.date, day.group, child.number, child.name, child.times, status,
                                     child.reason ?? "", day.closed ?? "", child.absentHours ?? "", child.expectedHours ?? "", day.schoolHoliday ?? ""])
                    }
                }
                try Table.print(header: ["datum", "groep", "kindnummer", "naam", "tijden", "status", "reden", "gesloten", "afwezig_tijden", "verwacht_tijden",
                                         "schoolvakantie"],
                                rows: rows, json: list, format: "csv")
            case "table":
                for day in list { printDay(day) }
            case let other:
                throw UsageError("--format takes table, json or csv, got \(other)")
            }
            return .success
        default:
            throw UsageError("attendance takes show or refresh")
        }
    }

    static func printDay(_ day: AttendanceDay) {
        let date = Day(iso: day.date)?.dutch ?? day.date
        print("Aanwezigheidslijst \(day.groupName) (\(day.group)) — \(day.weekday) \(date)")
        if let closed = day.closed {
            print("  Gesloten: \(closed)")
            print("")
            return
        }
        if !day.built {
            print("  Nog niet opgebouwd: deze dag valt buiten de lijsten van de laatste import.")
            print("")
            return
        }
        // Why children with a contract for school weeks are not on the list, and who says it is a holiday.
        if let holiday = day.schoolHoliday { print("  Schoolvakantie: \(holiday)") }
        let present = day.children.filter { !$0.absent }
        let absent = day.children.filter(\.absent)
        let width = max(20, (day.children.map { $0.name.count + $0.number.count + 3 }.max() ?? 20))
        for child in present {
            let label = "\(child.name) (\(child.number))".padding(toLength: width, withPad: " ", startingAt: 0)
            let note = child.source == "Extra dag" || child.source == "Ruildag" ? "  \(child.source.lowercased())" : ""
            if let away = child.absentHours {
                // Part of the day away: staff see when the child comes (or goes), and why.
                print("  \(label)  verwacht \(child.expectedHours ?? "")  (afwezig \(away): \(child.reason ?? "")\(child.times.isEmpty ? "" : "; dag \(child.times)"))\(note)")
            } else {
                let detail = child.source.contains("+") ? child.reason.map { "  (\($0))" } ?? "" : ""
                print("  \(label)  \(child.times.isEmpty ? "tijden onbekend" : child.times)\(note)\(detail)")
            }
        }
        for child in absent {
            let label = "\(child.name) (\(child.number))".padding(toLength: width, withPad: " ", startingAt: 0)
            print("  \(label)  afwezig: \(child.reason ?? "")")
        }
        let capacity = day.capacity.map { " van \($0) plaatsen" } ?? ""
        let partly = present.filter { $0.absentHours != nil }.count
        print("  Verwacht: \(day.expected)\(capacity)\(absent.isEmpty ? "" : ", \(absent.count) afgemeld")\(partly == 0 ? "" : ", \(partly) een deel van de dag afgemeld")")
        if day.overCapacity, let maximum = day.capacity {
            print("  LET OP: \(day.expected) kinderen verwacht, meer dan de capaciteit van \(maximum)")
        }
        print("")
    }
}
