/// The human report, in Dutch, for customer service: what happened, what needs attention, what to do.
public enum MarkdownReport {
    /// At most this many changes are listed in the Markdown; the CSV holds them all.
    static let changeListLimit = 300

    /// How much of the export was compared, in words.
    static func comparisonText(_ comparison: RunReport.ComparisonMode) -> String {
        switch comparison.mode {
        case .incremental:
            return "alleen wat sinds de vorige import is gewijzigd (regels die gelijk bleven zijn niet opnieuw gelezen)"
        case .scoped:
            return "alleen het gezin of de locatie hieronder"
        case .full:
            return "volledig: elke regel is gelezen en vergeleken" + (comparison.reason.map { ". Waarom: \(escape($0))" } ?? "")
        }
    }

    public static func render(_ report: RunReport) -> String {
        var out: [String] = []
        let name = report.organisation.name.map { "\(escape($0)) (\(escape(report.organisation.id)))" } ?? escape(report.organisation.id)
        out.append("# Importrapport \(name)")
        out.append("")
        // A held location is what customer service must act on first.
        out += HeldLocationsReport.markdown(report)
        out.append("| | |")
        out.append("|---|---|")
        out.append("| Run | `\(report.runId)` |")
        out.append("| Status | **\(statusText(report))** |")
        out.append("| Soort run | \(report.mode == "dry-run" ? "proefrun (er is niets gewijzigd)" : report.mode == "refresh" ? "planning verversen (zonder export)" : "echte import") |")
        if let comparison = report.comparison { out.append("| Vergelijking | \(comparisonText(comparison)) |") }
        if let seconds = report.writeLockSeconds {
            out.append("| Portaal bezet | \(String(format: "%.1f", seconds).replacingOccurrences(of: ".", with: ",")) seconden (wijzigingen in het portaal wachtten zo lang) |")
        }
        out.append("| Peildatum | \(dutchDate(report.asOf)) |")
        out.append("| Gestart / klaar | \(report.startedAt) / \(report.finishedAt) |")
        out.append("| Export | \(report.export.path.isEmpty ? "geen: de planning die het portaal al heeft" : code(report.export.path)) |")
        if let exportedAt = report.export.exportedAt { out.append("| Export gemaakt op | \(escape(exportedAt)) |") }
        if let system = report.export.system { out.append("| Planningssysteem | \(escape(system)) |") }
        switch report.export.integrity {
        case "sha256": out.append("| Controle van de export | volledig: aantallen regels en controlegetallen uit het manifest |")
        case "none": out.append("| Controle van de export | **niet gecontroleerd**: geen manifest, alleen een gereed-bestand |")
        default: break
        }
        out.append("| Uitgevoerd door | \(escape(report.operator)) |")
        if let reason = report.reason { out.append("| Reden | \(escape(reason)) |") }
        if report.options.force { out.append("| Geforceerd | ja (`--force`) |") }
        if report.options.allowMassChanges { out.append("| Massawijzigingen toegestaan | ja (`--allow-mass-changes`) |") }
        if let only = report.options.only { out.append("| Beperkt tot | \(code(only)) |") }
        if let release = report.options.release { out.append("| Vrijgegeven | \(code(release)) |") }
        out.append("")

        out.append("## Wat betekent dit?")
        out.append("")
        out.append(explanation(report))
        out.append("")
        if report.export.integrity == "none" {
            // SPEC §3: said where everyone reads, not only in the list of issues.
            out.append("**Let op: de volledigheid van de export is niet gecontroleerd.** Dit planningssysteem levert geen manifest met het aantal regels en een controlegetal per bestand; alleen een gereed-bestand zegt dat de export klaar is. Een afgebroken of onvolledig bestand wordt daarom niet als zodanig herkend. De controles op te veel afgewezen regels en op te veel beëindigingen gelden wel.")
            out.append("")
        }
        if let reason = report.abortReason {
            out.append("> **Reden van afbreken:** \(escape(reason))")
            out.append("")
        }

        if !report.removals.isEmpty {
            out.append("## Te veel beëindigingen")
            out.append("")
            out.append("| Soort | Actief vóór de run | Zou beëindigen | Aandeel | Grens |")
            out.append("|---|---:|---:|---:|---:|")
            for removal in report.removals {
                out.append("| \(dutchPlural(removal.entity)) | \(removal.activeBefore) | \(removal.wouldEnd) | \(percent(removal.fraction)) | \(percent(removal.threshold)) |")
            }
            out.append("")
        }

        if !report.counts.isEmpty {
            out.append("## Samenvatting")
            out.append("")
            out.append("| Soort | Nieuw | Gewijzigd | Hersteld | Beëindigd | Verdwenen | Ongewijzigd |")
            out.append("|---|---:|---:|---:|---:|---:|---:|")
            for kind in EntityKind.allCases {
                guard let counts = report.counts[kind.rawValue] else { continue }
                out.append("| \(kind.dutchPlural) | \(counts.created) | \(counts.updated) | \(counts.restored) | \(counts.ended) | \(counts.vanished) | \(counts.unchanged) |")
            }
            out.append("")
        }

        if let accounts = report.accounts {
            out.append("## Accounts van ouders")
            out.append("")
            out.append("- Aangemaakt: \(accounts.created); uitnodigingen: \(accounts.invited); verhuisd naar ander adres: \(accounts.moved)")
            out.append("- Uitgeschakeld: \(accounts.disabled); weer ingeschakeld: \(accounts.enabled)")
            out.append("- Conflicten (adres bij een andere familie): \(accounts.conflicts); ouders zonder bruikbaar e-mailadres: \(accounts.withoutEmail)")
            out.append("")
        }
        if let mail = report.mail {
            out.append("## E-mail")
            out.append("")
            out.append("- In de wachtrij gezet: \(mail.queued); verstuurd: \(mail.sent); mislukt: \(mail.failed); geweigerd door de ontvanger (bounce): \(mail.bounced)")
            out.append("")
        }
        if let retention = report.retention,
           retention.windowsOpened + retention.childrenPurged.count + retention.parentsPurged.count > 0
            || (report.accounts?.disabled ?? 0) + (report.accounts?.enabled ?? 0) > 0 {
            out.append("## Na de opvang en bewaartermijnen")
            out.append("")
            out.append("- Opvang beëindigd voor \(retention.windowsOpened) ouder-kindcombinaties: foto's en dagboek blijven 8 weken zichtbaar, documenten 24 maanden (alleen voor Ouder 1).")
            out.append("- Accounts uitgeschakeld (alle termijnen verstreken): \(report.accounts?.disabled ?? 0); weer ingeschakeld (nieuwe plaatsing): \(report.accounts?.enabled ?? 0).")
            if !retention.childrenPurged.isEmpty || !retention.parentsPurged.isEmpty {
                let mode = report.mode == "dry-run" ? "zouden worden verwijderd" : "zijn verwijderd"
                out.append("- Persoonsgegevens \(mode) (bewaartermijn verstreken): \(retention.childrenPurged.count) kinderen, \(retention.parentsPurged.count) ouders, \(retention.relationsRemoved) ouder-kindrelaties. Sleutels: \(retention.childrenPurged.prefix(50).map(code).joined(separator: ", "))\(retention.parentsPurged.isEmpty ? "" : "; ouders " + retention.parentsPurged.prefix(50).map(code).joined(separator: ", ")).")
            }
            out.append("")
        }
        if let attendance = report.attendance {
            out.append("## Aanwezigheidslijsten")
            out.append("")
            out.append("\(attendance.groups) groepen, \(attendance.days) dagen (vanaf de peildatum): \(attendance.added) keer een kind erbij, \(attendance.removed) keer eraf, \(attendance.changed) keer andere tijden of een afmelding.")
            out.append("")
            if let holidays = attendance.schoolHolidays, !holidays.isEmpty {
                out.append("Schoolvakanties in deze dagen (kinderen met een contract voor schoolweken staan dan niet op de lijst, kinderen met een vakantiecontract juist wel), met de bron:")
                out.append("")
                for holiday in holidays {
                    let groups = holiday.groups == 1 ? "1 groep" : "\(holiday.groups) groepen"
                    out.append("- \(escape(holiday.description)): \(dutchDate(holiday.from)) t/m \(dutchDate(holiday.to)), \(groups)")
                }
                out.append("")
            }
            out += attendanceChanges(attendance)
        }

        if !report.export.files.isEmpty {
            out.append("## Bestanden")
            out.append("")
            out.append("| Bestand | Regels | Afgewezen | Tekenset |")
            out.append("|---|---:|---:|---|")
            for file in report.export.files {
                out.append("| \(code(file.name)) | \(file.rows) | \(file.rejected) | \(escape(file.encoding ?? "")) |")
            }
            out.append("")
        }

        let vanished = report.changes.filter { $0.action == .vanished }
        if !vanished.isEmpty {
            out.append("## Verdwenen plaatsingen — controleer deze in het planningssysteem")
            out.append("")
            out.append("Deze plaatsingen staan niet meer in de export, maar hadden geen einddatum. Meestal is dat een fout in het planningssysteem. Het portaal toont ze niet meer op de lijsten.")
            out.append("")
            for change in vanished { out.append("- Plaatsing \(code(change.key))") }
            out.append("")
        }

        let errors = report.issues.filter { $0.severity == .error }
        let warnings = report.issues.filter { $0.severity != .error }
        if !errors.isEmpty {
            out.append("## Afgewezen regels en fouten (\(errors.count))")
            out.append("")
            out.append("Deze regels zijn **niet** verwerkt. Wat het portaal al had voor deze records blijft staan. Pas de gegevens aan in het planningssysteem; de volgende import neemt ze dan mee.")
            out.append("")
            out.append(issueTable(errors))
        }
        if !warnings.isEmpty {
            out.append("## Waarschuwingen (\(warnings.count))")
            out.append("")
            out.append("Deze regels zijn wel verwerkt, maar verdienen aandacht.")
            out.append("")
            out.append(issueTable(warnings))
        }

        let listed = report.changes.filter { $0.action != .vanished }
        if !listed.isEmpty {
            out.append("## Wijzigingen")
            out.append("")
            if listed.count > changeListLimit {
                out.append("De eerste \(changeListLimit) van \(listed.count) wijzigingen; het CSV-bestand `\(report.runId)-wijzigingen.csv` bevat ze allemaal.")
                out.append("")
            }
            out.append("| Soort | Sleutel | Actie | Velden |")
            out.append("|---|---|---|---|")
            for change in listed.prefix(changeListLimit) {
                let fields = change.fields.map { "\(escape($0.field)): \(escape($0.old ?? "—")) → \(escape($0.new ?? "—"))" }.joined(separator: "; ")
                out.append("| \(dutchSingular(change.entity)) | \(code(change.key)) | \(actionText(change.action)) | \(fields) |")
            }
            out.append("")
        }
        out += HeldLocationsReport.technical(report)
        return out.joined(separator: "\n") + "\n"
    }

    /// Per location and group: which children came on or went off which day's list.
    static func attendanceChanges(_ attendance: AttendanceSummary) -> [String] {
        guard !attendance.changes.isEmpty else { return [] }
        var out: [String] = []
        let byGroup = Dictionary(grouping: attendance.changes, by: \.group)
        // "Groepnaam (Locatie)": sort on the location first, so each location's groups stand together.
        func location(_ code: String) -> String {
            let name = attendance.groupNames[code] ?? code
            return name.firstIndex(of: "(").map { String(name[$0...]) } ?? ""
        }
        let perGroupLimit = 25
        for code in byGroup.keys.sorted(by: { (location($0), $0) < (location($1), $1) }) {
            let changes = byGroup[code]!
            out.append("### \(escape(attendance.groupNames[code] ?? code)) — groep \(MarkdownReport.code(code))")
            out.append("")
            if changes.count > perGroupLimit, changes.allSatisfy({ $0.change == .added }) {
                // A list built for the first time: the days and children are in `attendance show`.
                out.append("Lijst opgebouwd: \(changes.count) keer een kind verwacht, van \(dutchDate(changes.first!.date)) tot en met \(dutchDate(changes.map(\.date).max()!)).")
                out.append("")
                continue
            }
            out.append("| Datum | Kind | Wijziging | Was | Wordt |")
            out.append("|---|---|---|---|---|")
            for change in changes.prefix(perGroupLimit) {
                let kind = change.change == .added ? "erbij" : change.change == .removed ? "eraf" : "gewijzigd"
                out.append("| \(dutchDate(change.date)) | \(MarkdownReport.code(change.child)) | \(kind) | \(escape(change.old ?? "")) | \(escape(change.new ?? "")) |")
            }
            if changes.count > perGroupLimit { out.append("| … | | nog \(changes.count - perGroupLimit) wijzigingen | | |") }
            out.append("")
        }
        if attendance.changesTruncated {
            out.append("Alleen de eerste \(AttendanceSummary.listLimit) wijzigingen staan hierboven; de aantallen zijn volledig.")
            out.append("")
        }
        return out
    }

    static func statusText(_ report: RunReport) -> String {
        switch report.status {
        case .applied:
            let held = report.held.count
            if report.mode == "dry-run" {
                if held > 0 { return held == 1 ? "proefrun, 1 locatie zou worden vastgehouden" : "proefrun, \(held) locaties zouden worden vastgehouden" }
                return report.rejectedRows > 0 ? "proefrun, met afgewezen regels" : "proefrun geslaagd"
            }
            if held > 0 { return held == 1 ? "verwerkt, 1 locatie vastgehouden" : "verwerkt, \(held) locaties vastgehouden" }
            return report.rejectedRows > 0 ? "verwerkt, met afgewezen regels" : "verwerkt"
        case .skipped: return "overgeslagen"
        case .aborted: return "afgebroken door een veiligheidscontrole"
        case .failed: return "mislukt"
        }
    }

    static func explanation(_ report: RunReport) -> String {
        switch report.status {
        case .applied where report.mode == "refresh":
            return "De aanwezigheidslijst is opnieuw opgebouwd uit de planning die het portaal al heeft (de laatste import), zonder nieuwe export. \(report.reason ?? "")"
        case .applied where report.mode == "dry-run":
            return "Dit was een proefrun: het portaal is niet gewijzigd en er is geen mail verstuurd. Hieronder staat wat een echte import zou doen."
        case .applied:
            let total = report.changes.count
            let held = report.held.count
            var text: String
            if held > 0 {
                text = held == 1
                    ? "Eén locatie is vastgehouden zoals ze was (zie boven): daar is niets gewijzigd. De export is verwerkt voor alle andere locaties"
                    : "\(held) locaties zijn vastgehouden zoals ze waren (zie boven): daar is niets gewijzigd. De export is verwerkt voor alle andere locaties"
                text += total == 0 ? "; daar was niets te wijzigen." : total == 1 ? ": 1 wijziging staat nu in het ouderportaal." : ": \(total) wijzigingen staan nu in het ouderportaal."
            } else {
                text = total == 0
                    ? "De export is verwerkt. Er was niets te wijzigen: het portaal was al gelijk aan het planningssysteem."
                    : total == 1 ? "De export is verwerkt: 1 wijziging staat nu in het ouderportaal."
                    : "De export is verwerkt: \(total) wijzigingen staan nu in het ouderportaal."
            }
            if report.rejectedRows > 0 {
                text += report.rejectedRows == 1
                    ? " Let op: 1 regel is afgewezen en niet verwerkt (zie hieronder)."
                    : " Let op: \(report.rejectedRows) regels zijn afgewezen en niet verwerkt (zie hieronder)."
            }
            return text
        case .skipped:
            return "Deze export is al eerder ingelezen; er is niets gewijzigd. Wilt u hem toch opnieuw inlezen, gebruik dan `--force --reason \"...\"`."
        case .aborted:
            return "De import is gestopt vóórdat er iets is gewijzigd: het ouderportaal is precies zoals het was. Een veiligheidscontrole vond iets wat op een fout in de export wijst. Controleer de export; als alles klopt, kan een beheerder de import forceren (zie docs/operations.md)."
        case .failed:
            return "De export kon niet worden gelezen; er is niets gewijzigd. Hieronder staat welk bestand, welke regel en welke kolom het probleem geeft. Vraag een nieuwe export aan het planningssysteem."
        }
    }

    static func issueTable(_ issues: [Issue]) -> String {
        var lines = ["| Bestand | Regel | Kolom | Sleutel | Melding |", "|---|---:|---|---|---|"]
        for issue in issues.prefix(changeListLimit) {
            let column = [issue.column.map(String.init), issue.field].compactMap { $0 }.joined(separator: " ")
            lines.append("| \(issue.file.map(code) ?? "") | \(issue.line.map(String.init) ?? "") | \(escape(column)) | \(issue.key.map(code) ?? "") | \(escape(issue.message)) |")
        }
        if issues.count > changeListLimit {
            lines.append("")
            lines.append("… en nog \(issues.count - changeListLimit); zie het CSV-bestand met afgewezen regels.")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func actionText(_ action: ChangeAction) -> String {
        switch action {
        case .created: return "nieuw"
        case .updated: return "gewijzigd"
        case .restored: return "hersteld"
        case .ended: return "beëindigd"
        case .vanished: return "verdwenen"
        }
    }

    static func dutchPlural(_ entity: String) -> String { EntityKind(rawValue: entity)?.dutchPlural ?? entity }
    static func dutchSingular(_ entity: String) -> String { EntityKind(rawValue: entity)?.dutchSingular ?? entity }

    static func dutchDate(_ iso: String) -> String { Day(iso: iso)?.dutch ?? iso }

    static func percent(_ fraction: Double) -> String {
        let tenths = Int((fraction * 1000).rounded())
        return "\(tenths / 10),\(tenths % 10)%"
    }

    /// Text from outside (the export, the manifest, a mail server) made inert for Markdown: it renders as
    /// the same characters and nothing else. HTML (`<script>`), links (`[x](javascript:…)`), emphasis,
    /// code spans, table pipes, line breaks and control characters cannot change the document around it.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            case "\\", "`", "*", "_", "[", "]", "|", "~":
                out += "\\"
                out.unicodeScalars.append(scalar)
            case "\r", "\n", "\t": out += " "
            default:
                // Other control characters (NUL, ESC, the C1 range, the bidi marks and overrides) are left out.
                if TextSafety.isControl(scalar) { continue }
                out.unicodeScalars.append(scalar)
            }
        }
        // No address from the data may become a link: renderers turn `https://…` and `www.…` into one.
        return out.replacingOccurrences(of: "://", with: "&#58;//").replacingOccurrences(of: "www.", with: "www&#46;")
    }

    /// A key, file name or code from outside as a code span, when it can be one safely; escaped text otherwise.
    static func code(_ text: String) -> String {
        let plain = text.unicodeScalars.allSatisfy { scalar in
            scalar.value >= 0x20 && scalar.value < 0x7F && scalar != "`" && scalar != "|" && scalar != "\\"
        }
        return plain && !text.isEmpty ? "`\(text)`" : escape(text)
    }
}
