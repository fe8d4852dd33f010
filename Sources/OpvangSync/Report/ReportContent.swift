/// What the human report of a run says, in Dutch for customer service and auditors (SPEC §7): first the
/// status in words, what it means and what to do; then the figures per location, what needs attention,
/// the parents and their mail, the changes, the attendance lists and retention; last the run's provenance
/// and, for IT, the technical details. Field names are the export's own; times are local.
///
/// CLI options, configuration keys and codes appear only in the closing "Technische gegevens" section.
enum ReportContent {
    typealias Text = ReportDocument.Text
    typealias Block = ReportDocument.Block

    /// At most this many changes, issues and parents are listed; the CSV files hold them all.
    static let listLimit = 300
    /// At most this many attendance changes per group are listed.
    static let perGroupLimit = 25

    /// `digest` is that of the report's issues, when the caller has it (`IssueDigest`).
    static func document(_ report: RunReport, digest: IssueDigest? = nil) -> ReportDocument {
        let digest = digest ?? IssueDigest(report.issues)
        let title: Text = [.text("Importrapport " + (report.organisation.name.map { "\($0) (\(report.organisation.id))" }
            ?? report.organisation.id))]
        // A held location is what customer service must act on first.
        var sections = HeldLocationsReport.sections(report)
        sections.append(ReportDocument.Section(title: "Wat betekent dit?", anchor: "betekenis", blocks: meaning(report)))
        sections.append(ReportDocument.Section(title: "Wat moet er gebeuren?", anchor: "actie", blocks: [.list(todo(report, digest).map { [.text($0)] })]))
        if let removals = removals(report) { sections.append(removals) }
        if let locations = locations(report) { sections.append(locations) }
        if let counts = counts(report) { sections.append(counts) }
        sections += vanished(report)
        sections += issues(digest)
        sections += parents(report)
        if let mail = mail(report) { sections.append(mail) }
        if let changes = changes(report) { sections.append(changes) }
        if let attendance = attendance(report) { sections.append(attendance) }
        if let retention = retention(report) { sections.append(retention) }
        sections.append(provenance(report))
        if let release = HeldLocationsReport.technicalSection(report) { sections.append(release) }
        sections.append(technical(report, digest))
        return ReportDocument(title: title, tone: tone(report, digest), status: statusText(report), sections: sections)
    }

    // MARK: - Summary

    static func tone(_ report: RunReport, _ digest: IssueDigest) -> ReportDocument.Tone {
        switch report.status {
        case .applied: return report.rejectedRows > 0 || digest.errors.count > 0 ? .attention : .good
        case .skipped: return .good
        case .aborted, .failed: return .bad
        }
    }

    static func statusText(_ report: RunReport) -> String {
        switch report.status {
        case .applied:
            let held = report.held.count
            if report.mode == "dry-run" {
                if held > 0 { return held == 1 ? "proefrun, 1 locatie zou worden vastgehouden" : "proefrun, \(held) locaties zouden worden vastgehouden" }
                return report.rejectedRows > 0 ? "proefrun, met afgewezen regels" : "proefrun geslaagd"
            }
            if report.mode == "refresh" { return "planning ververst" }
            if held > 0 { return held == 1 ? "verwerkt, 1 locatie vastgehouden" : "verwerkt, \(held) locaties vastgehouden" }
            return report.rejectedRows > 0 ? "verwerkt, met afgewezen regels" : "verwerkt"
        case .skipped: return "overgeslagen"
        case .aborted: return "afgebroken door een veiligheidscontrole"
        case .failed: return "mislukt"
        }
    }

    /// The status, what it means, and the run's key facts.
    static func meaning(_ report: RunReport) -> [Block] {
        var facts: [(String, Text)] = [
            ("Status", [.strong(statusText(report))]),
            ("Soort run", [.text(report.mode == "dry-run" ? "proefrun (er is niets gewijzigd)"
                : report.mode == "refresh" ? "planning verversen (zonder export)" : "import")]),
            ("Peildatum", [.text(DutchText.localTime(report.asOf))]),
            ("Gestart", [.text(DutchText.localTime(report.startedAt))]),
            ("Klaar", [.text(DutchText.localTime(report.finishedAt))]),
        ]
        if let exportedAt = report.export.exportedAt { facts.append(("Export gemaakt op", [.text(DutchText.localTime(exportedAt))])) }
        if report.export.path.isEmpty { facts.append(("Export", [.text("geen: de planning die het portaal al heeft")])) }
        switch report.export.integrity {
        case "sha256": facts.append(("Controle van de export", [.text("volledig: aantallen regels en controlegetallen uit het manifest")]))
        case "none": facts.append(("Controle van de export", [.strong("niet gecontroleerd"), .text(": geen manifest, alleen een gereed-bestand")]))
        default: break
        }
        if let comparison = report.comparison { facts.append(("Vergelijking", [.text(comparisonText(comparison))])) }
        if let seconds = report.writeLockSeconds {
            facts.append(("Portaal bezet", [.text("\(String(format: "%.1f", seconds).replacingOccurrences(of: ".", with: ",")) seconden (wijzigingen in het portaal wachtten zo lang)")]))
        }
        if report.options.force { facts.append(("Geforceerd", [.text("ja, voorbij de controles op ouderdom en dubbel inlezen")])) }
        if report.options.allowMassChanges { facts.append(("Veel beëindigingen toegestaan", [.text("ja")])) }
        if let only = report.options.only {
            facts.append(("Beperkt tot", [.text(Scope(argument: only)?.dutchDescription ?? only)]))
        }
        if let release = report.options.release {
            facts.append(("Vrijgegeven", [.text(release.hasPrefix("location=") ? "locatie " + release.dropFirst("location=".count) : release)]))
        }
        var blocks: [Block] = [.facts(facts), .paragraph([.text(explanation(report))])]
        if report.export.integrity == "none" {
            // SPEC §3: said where everyone reads, not only in the list of issues.
            blocks.append(.paragraph([.strong("Let op: de volledigheid van de export is niet gecontroleerd."),
                                      .text(" Dit planningssysteem levert geen manifest met het aantal regels en een controlegetal per bestand; alleen een gereed-bestand zegt dat de export klaar is. Een afgebroken of onvolledig bestand wordt daarom niet als zodanig herkend. De controles op te veel afgewezen regels en op te veel beëindigingen gelden wel.")]))
        }
        if let reason = report.abortReason {
            blocks.append(.note([.strong("Reden van afbreken: "), .text(DutchText.plain(reason))]))
        }
        return blocks
    }

    /// How much of the export was compared, in words.
    static func comparisonText(_ comparison: RunReport.ComparisonMode) -> String {
        switch comparison.mode {
        case .incremental:
            return "alleen wat sinds de vorige import is gewijzigd (regels die gelijk bleven zijn niet opnieuw gelezen)"
        case .scoped:
            return "alleen het gezin of de locatie hieronder"
        case .full:
            return "volledig: elke regel is gelezen en vergeleken" + (comparison.reason.map { ". Waarom: \($0)" } ?? "")
        }
    }

    static func explanation(_ report: RunReport) -> String {
        switch report.status {
        case .applied where report.mode == "refresh":
            return "De aanwezigheidslijst is opnieuw opgebouwd uit de planning die het portaal al heeft (de laatste import), zonder nieuwe export."
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
            return "Deze export is al eerder ingelezen; er is niets gewijzigd."
        case .aborted:
            return "De import is gestopt vóórdat er iets is gewijzigd: het ouderportaal is precies zoals het was. Een veiligheidscontrole vond iets wat op een fout in de export wijst."
        case .failed:
            return "De export kon niet worden gelezen; er is niets gewijzigd. Hieronder staat welk bestand, welke regel en welke kolom het probleem geeft."
        }
    }

    /// What customer service does next, one line per thing to do.
    static func todo(_ report: RunReport, _ digest: IssueDigest) -> [String] {
        let codes = digest.codes
        switch report.status {
        case .skipped:
            return ["Niets. Moet deze export toch opnieuw worden ingelezen, vraag dan de beheerder de import te forceren, met een reden."]
        case .failed:
            return ["Vraag het planningssysteem om een nieuwe export; de fout staat hieronder bij de afgewezen regels en fouten.",
                    "Blijft het misgaan, geef dan dit rapport aan de beheerder van de koppeling."]
        case .aborted:
            var lines: [String] = []
            if !report.removals.isEmpty {
                lines.append("Controleer of de export compleet is: hij zou veel kinderen, ouders of plaatsingen beëindigen.")
            }
            if codes.contains("stale-export") || codes.contains("no-new-export") {
                lines.append("Controleer of het planningssysteem de export nog elke nacht maakt en aflevert.")
            }
            if codes.contains(where: { $0.hasPrefix("manifest") }) {
                lines.append("De bestanden komen niet overeen met het manifest: vraag het planningssysteem de export opnieuw te maken.")
            }
            lines.append("Klopt de export toch, dan kan de beheerder de import forceren, met een reden. Tot die tijd ziet het ouderportaal de gegevens van de vorige import.")
            return lines
        case .applied:
            var lines: [String] = []
            if !report.held.isEmpty {
                lines.append(DutchText.count(report.held.count, "locatie is", "locaties zijn") + " vastgehouden: zie \"Vastgehouden locaties\" bovenaan, met wat er nu moet gebeuren.")
            }
            if report.rejectedRows > 0 {
                lines.append(DutchText.count(report.rejectedRows, "afgewezen regel", "afgewezen regels")
                             + ": herstel ze in het planningssysteem; de volgende import neemt ze mee.")
            }
            if report.changes.contains(where: { $0.action == .vanished }) {
                lines.append("Controleer de verdwenen plaatsingen in het planningssysteem (zonder einddatum uit de export verdwenen).")
            }
            let without = report.parentAccounts?.withoutAccount.count ?? 0
            if without > 0 {
                lines.append(DutchText.count(without, "ouder heeft", "ouders hebben") + " een kind in de opvang maar geen account: zet een juist e-mailadres in het planningssysteem.")
            }
            let bounced = report.undeliveredMail?.filter { $0.status == "bounced" }.count ?? (codes.contains("mail-bounced") ? 1 : 0)
            if bounced > 0 {
                lines.append(DutchText.count(bounced, "e-mail kwam", "e-mails kwamen") + " niet aan: controleer het e-mailadres in het planningssysteem en stuur daarna een nieuwe link (Nieuw wachtwoord verzenden).")
            }
            let failed = report.undeliveredMail?.filter { $0.status == "failed" }.count ?? (codes.contains("mail-failed") ? 1 : 0)
            if failed > 0 {
                lines.append(DutchText.count(failed, "e-mail kon", "e-mails konden") + " niet worden afgeleverd: stuur een nieuwe link (Nieuw wachtwoord verzenden) zodra de oorzaak is opgelost.")
            }
            if codes.contains("invitation-expired") {
                lines.append("Er zijn activatielinks verlopen: stuur die ouders zo nodig een nieuwe link (Nieuw wachtwoord verzenden).")
            }
            if codes.contains("account-flagged") || codes.contains("address-conflict") || codes.contains("address-in-use") {
                lines.append("Los de adresconflicten op in het planningssysteem (zie de fouten hieronder).")
            }
            if codes.contains("mail-not-sent") {
                lines.append("Niet alle mail is verstuurd; hij gaat mee met de volgende verzendronde. Blijft dat zo, waarschuw dan de beheerder.")
            }
            if digest.warningCount > 0 { lines.append("Bekijk de waarschuwingen hieronder; ze zijn verwerkt, maar verdienen aandacht.") }
            if lines.isEmpty { lines.append(report.mode == "dry-run" ? "Niets: dit was een proefrun." : "Niets: alles is verwerkt.") }
            return lines
        }
    }

    // MARK: - Figures

    static func removals(_ report: RunReport) -> ReportDocument.Section? {
        guard !report.removals.isEmpty else { return nil }
        let rows: [[Text]] = report.removals.map { removal in
            [[.text(EntityKind(rawValue: removal.entity)?.dutchPlural ?? removal.entity)], [.text(String(removal.activeBefore))],
             [.text(String(removal.wouldEnd))], [.text(MarkdownReport.percent(removal.fraction))], [.text(MarkdownReport.percent(removal.threshold))]]
        }
        return ReportDocument.Section(title: "Te veel beëindigingen", anchor: "beeindigingen", blocks: [
            .table(header: ["Soort", "Actief vóór de run", "Zou beëindigen", "Aandeel", "Grens"], numeric: [1, 2, 3, 4], rows: rows)])
    }

    static func locations(_ report: RunReport) -> ReportDocument.Section? {
        guard let locations = report.locations, !locations.isEmpty else { return nil }
        let rows: [[Text]] = locations.map { location in
            [[.text(location.name ?? location.code), .text(" "), .code(location.code)], [.text(String(location.groups))],
             [.text(String(location.childrenInCare))], [.text(String(location.placements))], [.text(String(location.placementsCreated))],
             [.text(String(location.placementsUpdated))], [.text(String(location.placementsEnded))]]
        }
        let intro = report.mode == "dry-run" ? "Na een echte import zou elke locatie dit hebben." : "Na deze run heeft elke locatie:"
        return ReportDocument.Section(title: "Per locatie", anchor: "locaties", blocks: [
            .paragraph([.text(intro + " kinderen in de opvang op de peildatum, lopende en toekomstige plaatsingen, en de plaatsingen die deze run nieuw maakte, wijzigde of beëindigde.")]),
            .table(header: ["Locatie", "Groepen", "Kinderen in de opvang", "Plaatsingen", "Nieuw", "Gewijzigd", "Beëindigd"],
                   numeric: [1, 2, 3, 4, 5, 6], rows: rows)])
    }

    static func counts(_ report: RunReport) -> ReportDocument.Section? {
        guard !report.counts.isEmpty else { return nil }
        var rows: [[Text]] = []
        for kind in EntityKind.allCases {
            guard let counts = report.counts[kind.rawValue] else { continue }
            rows.append([[.text(kind.dutchPlural)]] + [counts.created, counts.updated, counts.restored, counts.ended, counts.vanished, counts.unchanged]
                .map { [.text(String($0))] })
        }
        return ReportDocument.Section(title: "Samenvatting per soort", anchor: "samenvatting", blocks: [
            .table(header: ["Soort", "Nieuw", "Gewijzigd", "Hersteld", "Beëindigd", "Verdwenen", "Ongewijzigd"], numeric: [1, 2, 3, 4, 5, 6], rows: rows)])
    }

    static func vanished(_ report: RunReport) -> [ReportDocument.Section] {
        // A first import lists every record: the lists are walked lazily, never copied whole.
        let vanished = report.changes.lazy.filter { $0.action == .vanished }
        guard !vanished.isEmpty else { return [] }
        return [ReportDocument.Section(title: "Verdwenen plaatsingen — controleer deze in het planningssysteem", anchor: "verdwenen", blocks: [
            .paragraph([.text("Deze plaatsingen staan niet meer in de export, maar hadden geen einddatum. Meestal is dat een fout in het planningssysteem. Het portaal toont ze niet meer op de lijsten.")]),
            .list(vanished.prefix(listLimit).map { [.text("Plaatsing "), .code($0.key)] }),
        ])]
    }

    // MARK: - What needs attention

    static func issues(_ digest: IssueDigest) -> [ReportDocument.Section] {
        var sections: [ReportDocument.Section] = []
        if digest.errors.count > 0 {
            sections.append(ReportDocument.Section(title: "Afgewezen regels en fouten (\(digest.errors.count))", anchor: "fouten", blocks: [
                .paragraph([.text("Deze regels zijn "), .strong("niet"), .text(" verwerkt. Wat het portaal al had voor deze records blijft staan. Pas de gegevens aan in het planningssysteem; de volgende import neemt ze dan mee.")]),
            ] + issueTable(digest.errors.listed, count: digest.errors.count)))
        }
        if digest.others.count > 0 {
            sections.append(ReportDocument.Section(title: "Waarschuwingen (\(digest.others.count))", anchor: "waarschuwingen", blocks: [
                .paragraph([.text("Deze regels zijn wel verwerkt, maar verdienen aandacht.")]),
            ] + issueTable(digest.others.listed, count: digest.others.count)))
        }
        return sections
    }

    /// The table of the first `listLimit` of `count` issues, `listed`.
    static func issueTable(_ listed: [Issue], count: Int) -> [Block] {
        let rows: [[Text]] = listed.prefix(listLimit).map { issue in
            let column = [issue.column.map { "kolom \($0)" }, issue.field.map { "(\($0))" }].compactMap { $0 }.joined(separator: " ")
            return [issue.file.map { [.code($0)] } ?? [], [.text(issue.line.map(String.init) ?? "")], [.text(column)],
                    issue.key.map { [.code($0)] } ?? [], [.text(DutchText.plain(issue.message))]]
        }
        var blocks: [Block] = [.table(header: ["Bestand", "Regel", "Kolom", "Sleutel", "Melding"], numeric: [1], rows: rows, nowrap: [2])]
        if count > listLimit {
            blocks.append(.paragraph([.text("… en nog \(count - listLimit); het CSV-bestand met afgewezen regels bevat ze allemaal.")]))
        }
        return blocks
    }

    // MARK: - Parents and mail

    static func parents(_ report: RunReport) -> [ReportDocument.Section] {
        guard let parents = report.parentAccounts else { return [] }
        var sections: [ReportDocument.Section] = []
        let invitedCount = max(report.accounts?.invited ?? 0, parents.invited.count)
        let dry = report.mode == "dry-run"
        if invitedCount > 0 {
            var blocks: [Block] = [.paragraph([.text(dry
                ? "Een echte import zou deze ouders een uitnodiging met een activatielink sturen, naar het adres uit de genoemde kolom van het planningssysteem."
                : "Deze ouders krijgen een uitnodiging met een activatielink, naar het adres uit de genoemde kolom van het planningssysteem.")])]
            let rows: [[Text]] = parents.invited.prefix(listLimit).map { parent in
                [[.code(parent.parent)], [.text(parent.name ?? "")], [.text(parent.address)],
                 [.text(FieldNames.emailColumn(parent.column, in: report.columns) ?? parent.column)],
                 [.text(parent.why == "address-changed" ? "nieuw e-mailadres, account nog niet geactiveerd" : "nieuw account")]]
            }
            blocks.append(.table(header: ["Ouder", "Naam", "E-mailadres", "Kolom", "Waarom"], numeric: [], rows: rows, nowrap: [3]))
            if invitedCount > min(parents.invited.count, listLimit) {
                blocks.append(.paragraph([.text("De eerste \(min(parents.invited.count, listLimit)) van \(invitedCount) staan hierboven; de lijst van accounts in het portaal bevat ze allemaal.")]))
            }
            sections.append(ReportDocument.Section(title: "Uitgenodigde ouders (\(invitedCount))", anchor: "uitgenodigd", blocks: blocks))
        }
        if !parents.withoutAccount.isEmpty {
            let rows: [[Text]] = parents.withoutAccount.prefix(listLimit).map { parent in
                [[.code(parent.parent)], [.text(parent.name ?? "")], [.text(DutchText.plain(parent.reason))]]
            }
            var blocks: [Block] = [
                .paragraph([.text("Deze ouders hebben een kind in de opvang (of binnenkort), maar krijgen geen account. Ze staan in elk rapport tot het planningssysteem is aangepast.")]),
                .table(header: ["Ouder", "Naam", "Reden"], numeric: [], rows: rows),
            ]
            if parents.withoutAccount.count > listLimit {
                blocks.append(.paragraph([.text("… en nog \(parents.withoutAccount.count - listLimit).")]))
            }
            sections.append(ReportDocument.Section(title: "Ouders zonder account (\(parents.withoutAccount.count))", anchor: "zonder-account", blocks: blocks))
        }
        return sections
    }

    static func mail(_ report: RunReport) -> ReportDocument.Section? {
        guard let mail = report.mail else { return nil }
        let dry = report.mode == "dry-run"
        var blocks: [Block] = [.list([
            [.text((dry ? "Zou in de wachtrij zetten: " : "In de wachtrij gezet: ") + DutchText.count(mail.queued, "bericht", "berichten"))],
            [.text("Verstuurd: " + DutchText.count(mail.sent, "bericht", "berichten"))],
            [.text("Onbestelbaar (geweigerd door de ontvanger): " + DutchText.count(mail.bounced, "bericht", "berichten"))],
            [.text("Niet afgeleverd na alle pogingen: " + DutchText.count(mail.failed, "bericht", "berichten"))],
        ])]
        if let undelivered = report.undeliveredMail, !undelivered.isEmpty {
            blocks.append(.paragraph([.text("Deze mail is sinds het vorige rapport niet aangekomen. Controleer het adres in het planningssysteem en stuur daarna een nieuwe link (Nieuw wachtwoord verzenden).")]))
            let rows: [[Text]] = undelivered.prefix(listLimit).map { item in
                [item.parent.map { [.code($0)] } ?? [], [.text(DutchText.mailKind(item.kind))], [.text(item.address)],
                 [.text(DutchText.mailStatus(item.status) + (item.statusCode.map { " (\($0))" } ?? ""))],
                 [.text(item.diagnostic ?? "")], [.text(item.at.map { DutchText.localTime($0) } ?? "")]]
            }
            blocks.append(.table(header: ["Ouder", "Soort", "E-mailadres", "Status", "Melding van de mailserver", "Gemeld"], numeric: [],
                                 rows: rows, nowrap: [5]))
        }
        return ReportDocument.Section(title: "E-mail", anchor: "mail", blocks: blocks)
    }

    // MARK: - Changes

    static func changes(_ report: RunReport) -> ReportDocument.Section? {
        let listed = report.changes.lazy.filter { $0.action != .vanished }
        let count = report.changes.count - report.changes.reduce(0) { $1.action == .vanished ? $0 + 1 : $0 }
        guard count > 0 else { return nil }
        var blocks: [Block] = []
        if count > listLimit {
            blocks.append(.paragraph([.text("De eerste \(listLimit) van \(count) wijzigingen; het CSV-bestand met wijzigingen bevat ze allemaal.")]))
        }
        let rows: [[Text]] = listed.prefix(listLimit).map { change in
            let fields: Text = change.fields.isEmpty
                ? [.text(change.action == .created ? "" : "—")]
                : change.fields.enumerated().flatMap { index, field -> Text in
                    [.text(index == 0 ? "" : "; "), .strong(FieldNames.label(change.entity, field.field, in: report.columns)),
                     .text(": \(FieldNames.display(change.entity, field.field, field.old) ?? "—") → \(FieldNames.display(change.entity, field.field, field.new) ?? "—")")]
                }
            return [[.text(EntityKind(rawValue: change.entity)?.dutchSingular ?? change.entity)], [.code(change.key)],
                    [.text(DutchText.action(change.action.rawValue))], fields]
        }
        blocks.append(.table(header: ["Soort", "Sleutel", "Actie", "Velden"], numeric: [], rows: rows))
        return ReportDocument.Section(title: "Wijzigingen", anchor: "wijzigingen", blocks: blocks)
    }

    // MARK: - Attendance and retention

    static func attendance(_ report: RunReport) -> ReportDocument.Section? {
        guard let attendance = report.attendance else { return nil }
        var blocks: [Block] = [.paragraph([.text(
            "\(DutchText.count(attendance.groups, "groep", "groepen")), \(DutchText.count(attendance.days, "dag", "dagen")) vanaf de peildatum: "
            + "\(attendance.added) keer een kind erbij, \(attendance.removed) keer eraf, \(attendance.changed) keer andere tijden of een afmelding.")])]
        // "Groepnaam (Locatie)": each location's groups together.
        func location(_ code: String) -> String {
            let name = attendance.groupNames[code] ?? code
            return name.firstIndex(of: "(").map { String(name[$0...]) } ?? ""
        }
        func order(_ codes: some Sequence<String>) -> [String] { codes.sorted { (location($0), $0) < (location($1), $1) } }
        if let holidays = attendance.schoolHolidays, !holidays.isEmpty {
            blocks.append(.paragraph([.text("Schoolvakanties in deze dagen (kinderen met een contract voor schoolweken staan dan niet op de lijst, kinderen met een vakantiecontract juist wel), met de bron:")]))
            blocks.append(.list(holidays.map { holiday in
                [.text("\(holiday.description): \(DutchText.localTime(holiday.from)) t/m \(DutchText.localTime(holiday.to)), \(DutchText.count(holiday.groups, "groep", "groepen"))")]
            }))
        }
        if let perGroup = attendance.perGroup, !perGroup.isEmpty {
            let rows: [[Text]] = order(perGroup.keys).prefix(listLimit).map { code in
                let counts = perGroup[code] ?? GroupAttendance()
                return [[.text(attendance.groupNames[code] ?? code), .text(" "), .code(code)], [.text(String(counts.added))],
                        [.text(String(counts.removed))], [.text(String(counts.changed))]]
            }
            blocks.append(.table(header: ["Groep", "Erbij", "Eraf", "Gewijzigd"], numeric: [1, 2, 3], rows: rows))
        }
        let byGroup = Dictionary(grouping: attendance.changes, by: \.group)
        for code in order(byGroup.keys) {
            let changes = byGroup[code] ?? []
            let title: Text = [.text("\(attendance.groupNames[code] ?? code) — groep "), .code(code)]
            if changes.count > perGroupLimit, changes.allSatisfy({ $0.change == .added }),
               let first = changes.first?.date, let last = changes.map(\.date).max() {
                // A list built for the first time: the days and children are in the attendance list itself.
                blocks.append(.subsection(title: title, blocks: [.paragraph([.text(
                    "Lijst opgebouwd: \(changes.count) keer een kind verwacht, van \(DutchText.localTime(first)) tot en met \(DutchText.localTime(last)).")])]))
                continue
            }
            var rows: [[Text]] = changes.prefix(perGroupLimit).map { change in
                let kind = change.change == .added ? "erbij" : change.change == .removed ? "eraf" : "gewijzigd"
                return [[.text(DutchText.localTime(change.date))], [.code(change.child)], [.text(kind)], [.text(change.old ?? "")], [.text(change.new ?? "")]]
            }
            if changes.count > perGroupLimit { rows.append([[.text("…")], [], [.text("nog \(changes.count - perGroupLimit) wijzigingen")], [], []]) }
            blocks.append(.subsection(title: title, blocks: [.table(header: ["Datum", "Kind", "Wijziging", "Was", "Wordt"], numeric: [],
                                                                    rows: rows, nowrap: [0])]))
        }
        if attendance.changesTruncated {
            blocks.append(.paragraph([.text("Alleen de eerste \(AttendanceSummary.listLimit) wijzigingen staan hierboven; de aantallen zijn volledig.")]))
        }
        return ReportDocument.Section(title: "Aanwezigheidslijsten", anchor: "aanwezigheid", blocks: blocks)
    }

    static func retention(_ report: RunReport) -> ReportDocument.Section? {
        guard let retention = report.retention else { return nil }
        let disabled = report.accounts?.disabled ?? 0, enabled = report.accounts?.enabled ?? 0
        var lines: [Text] = [
            [.text("Opvang beëindigd voor \(DutchText.count(retention.windowsOpened, "ouder-kindcombinatie", "ouder-kindcombinaties")): foto's en dagboek blijven 8 weken zichtbaar, documenten 24 maanden (alleen voor Ouder 1).")],
            [.text("Accounts uitgeschakeld (alle termijnen verstreken): \(disabled); weer ingeschakeld (nieuwe plaatsing): \(enabled).")],
        ]
        if !retention.childrenPurged.isEmpty || !retention.parentsPurged.isEmpty {
            let mode = report.mode == "dry-run" ? "zouden worden verwijderd" : "zijn verwijderd"
            var line: Text = [.text("Persoonsgegevens \(mode) (bewaartermijn verstreken): \(DutchText.count(retention.childrenPurged.count, "kind", "kinderen")), \(DutchText.count(retention.parentsPurged.count, "ouder", "ouders")), \(DutchText.count(retention.relationsRemoved, "ouder-kindrelatie", "ouder-kindrelaties")).")]
            let keys = retention.childrenPurged.prefix(50).map { "kind \($0)" } + retention.parentsPurged.prefix(50).map { "ouder \($0)" }
            if !keys.isEmpty {
                line.append(.text(" Sleutels: "))
                for (index, key) in keys.enumerated() { line.append(.text(index == 0 ? "" : ", ")); line.append(.code(key)) }
            }
            lines.append(line)
        }
        return ReportDocument.Section(title: "Na de opvang en bewaartermijnen", anchor: "bewaartermijnen", blocks: [.list(lines)])
    }

    // MARK: - Provenance and technical details

    static func provenance(_ report: RunReport) -> ReportDocument.Section {
        var facts: [(String, Text)] = [
            ("Uitgevoerd door", [.text(report.operator)]),
            ("Reden", [.text(report.reason ?? "geen (de gewone nachtelijke import)")]),
            ("Computer", [.text(report.host ?? "onbekend")]),
            ("opvangsync-versie", [.text(report.version ?? "onbekend")]),
            ("Runnummer", [.code(report.runId)]),
            ("Gestart / klaar", [.text("\(DutchText.localTime(report.startedAt)) / \(DutchText.localTime(report.finishedAt))")]),
        ]
        if let system = report.export.system { facts.append(("Planningssysteem", [.text(system)])) }
        if let exportedAt = report.export.exportedAt { facts.append(("Export gemaakt op", [.text(DutchText.localTime(exportedAt))])) }
        return ReportDocument.Section(title: "Herkomst van deze run", anchor: "herkomst", blocks: [.facts(facts)])
    }

    /// For IT: codes, options, configuration keys and paths, which the rest of the report leaves out.
    static func technical(_ report: RunReport, _ digest: IssueDigest) -> ReportDocument.Section {
        var facts: [(String, Text)] = [
            ("Run", [.code(report.runId)]),
            ("Modus en status", [.code("mode=\(report.mode) status=\(report.status.rawValue) exitCode=\(report.exitCode)"
                                       + (report.comparison.map { " comparison=\($0.mode.rawValue)" } ?? ""))]),
        ]
        var options: [String] = []
        if report.options.force { options.append("--force") }
        if report.options.allowMassChanges { options.append("--allow-mass-changes") }
        if let only = report.options.only { options.append("--only \(only)") }
        if let release = report.options.release { options.append("--release \(release)") }
        if report.reason != nil { options.append("--reason") }
        if !options.isEmpty { facts.append(("Opties", [.code(options.joined(separator: " "))])) }
        if !report.export.path.isEmpty { facts.append(("Exportmap", [.code(report.export.path)])) }
        if let fingerprint = report.export.fingerprint { facts.append(("Vingerafdruk", [.code(fingerprint)])) }
        if let mapping = report.export.mapping { facts.append(("Mapping", [.code(mapping)])) }
        facts.append(("Rapportbestanden", [.code("\(report.runId).json"), .text(", "), .code("\(report.runId)-wijzigingen.csv"), .text(", "),
                                           .code("\(report.runId)-afgewezen.csv")]))
        facts.append(("Rapportschema", [.code("schemaVersion \(report.schemaVersion)")]))
        if let reason = report.abortReason, DutchText.plain(reason) != reason { facts.append(("Reden (volledig)", [.text(reason)])) }
        var blocks: [Block] = [.paragraph([.text("Voor de beheerder van de koppeling: opties, configuratie en codes achter dit rapport.")]), .facts(facts)]
        if !report.export.files.isEmpty {
            let rows: [[Text]] = report.export.files.map { file in
                // A file without an encoding was not read: the same bytes as the export applied before.
                [[.code(file.name)], [.text(file.entity)], [.text(String(file.rows))], [.text(String(file.rejected))],
                 file.encoding.map { [.code($0)] } ?? [.text("niet gelezen: ongewijzigd sinds de vorige import")]]
            }
            blocks.append(.table(header: ["Bestand", "Soort", "Regels", "Afgewezen", "Tekenset"], numeric: [2, 3], rows: rows))
        }
        if let reason = report.abortReason {
            let terms = DutchText.technicalTerms(reason)
            if !terms.isEmpty { blocks.append(.paragraph([.text("Genoemd in de reden van afbreken: ")] + codeList(terms))) }
        }
        // Every issue code with how often it occurred, and the options and keys its messages name.
        if !digest.perCode.isEmpty {
            let rows: [[Text]] = digest.perCode.map { entry in
                [[.code(entry.code)], [.code(entry.severity.rawValue)], [.text(String(entry.count))], codeList(entry.terms + hints(entry.code))]
            }
            blocks.append(.table(header: ["Code", "Ernst", "Aantal", "Opties en instellingen"], numeric: [2], rows: rows))
        }
        return ReportDocument.Section(title: "Technische gegevens", anchor: "technisch", blocks: blocks)
    }

    static func codeList(_ terms: [String]) -> Text {
        var text: Text = []
        for (index, term) in terms.enumerated() {
            if index > 0 { text.append(.text(", ")) }
            text.append(.code(term))
        }
        return text
    }

    /// The options and settings behind an issue code, for IT.
    static func hints(_ code: String) -> [String] {
        switch code {
        case "stale-export": return ["rules.maxExportAgeHours", "opvangsync import --force --reason TEXT"]
        case "already-imported", "older-export", "export-in-future", "as-of-before-last-run": return ["opvangsync import --force --reason TEXT"]
        case "no-new-export": return ["rules.maxExportAgeHours", "organisations[].inbox"]
        case "mail-not-sent": return ["opvangsync mail send"]
        case "mail-bounced", "mail-failed", "invitation-expired": return ["opvangsync accounts resend OUDERNUMMER"]
        case "portal-url-ignored", "portal-url-invalid": return ["portalUrl"]
        default: return []
        }
    }
}
