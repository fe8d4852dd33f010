/// The held and released locations of a run (SPEC §5) as customer service reads them: what the export
/// would have removed, what that means for the location's parents and staff, and what to do. Dutch, in
/// plain words; the command and the configuration key only in the report's closing technical section.
enum HeldLocationsReport {
    /// One location's account, for the JSON report, its issue and the alert mail.
    static func message(_ location: RunReport.HeldLocation, childrenElsewhere: Int, reason: String?) -> String {
        let name = location.name.map { "\(location.code) (\($0))" } ?? location.code
        let numbers = "\(location.placementsWouldEnd) van de \(location.activePlacements) actieve plaatsingen (\(MarkdownReport.percent(fraction(location.placementsWouldEnd, location.activePlacements)))) en \(location.childrenWouldEnd) van de \(location.activeChildren) kinderen (\(MarkdownReport.percent(fraction(location.childrenWouldEnd, location.activeChildren))))"
        if location.released {
            var text = "Locatie \(name) is vrijgegeven"
            if let reason, !reason.isEmpty { text += " (reden: \(reason))" }
            return text + ": de export is voor deze locatie verwerkt, ook wat eruit verdwenen is: \(numbers)."
        }
        var text = location.missingFromLocationsFile
            ? "Locatie \(name) staat niet meer in het locatiebestand van de export. Dat telt als een locatie zonder plaatsingen: \(numbers) zouden verdwijnen."
            : "Volgens de export zouden bij locatie \(name) \(numbers) verdwijnen."
        text += " Dat is meer dan \(MarkdownReport.percent(location.threshold)) van de locatie en lijkt op een fout in de export, dus de locatie is vastgehouden zoals ze was."
        text += " Voor deze locatie is niets gewijzigd: ouders en medewerkers zien de gegevens van de vorige import, ook op de aanwezigheidslijsten, en er gaan geen uitnodigingen uit of accounts dicht. De andere locaties zijn wel bijgewerkt."
        if childrenElsewhere > 0 {
            text += childrenElsewhere == 1
                ? " 1 kind van deze locatie staat in de export bij een andere locatie en is daar wel verwerkt."
                : " \(childrenElsewhere) kinderen van deze locatie staan in de export bij een andere locatie en zijn daar wel verwerkt."
        }
        text += " Wat nu: controleer in het planningssysteem of deze plaatsingen echt zijn beëindigd. Ontbreken ze door een fout (een verkeerd filter, een afgebroken upload), laat dan opnieuw exporteren: de volgende import verwerkt de locatie weer gewoon. Zijn ze echt beëindigd (de locatie sluit, de kinderen zijn verhuisd), laat de locatie dan door een beheerder vrijgeven."
        return text
    }

    static func fraction(_ part: Int, _ whole: Int) -> Double { whole == 0 ? 0 : Double(part) / Double(whole) }

    /// The sections the report opens with, when a location was held or released: what customer service
    /// must act on first.
    static func sections(_ report: RunReport) -> [ReportDocument.Section] {
        let locations = report.heldLocations ?? []
        guard !locations.isEmpty else { return [] }
        let held = locations.filter { !$0.released }, released = locations.filter(\.released)
        var sections: [ReportDocument.Section] = []
        let dryRun = report.mode == "dry-run"
        if !held.isEmpty {
            let subject = held.count == 1 ? "Bij 1 locatie" : "Bij \(held.count) locaties"
            var blocks: [ReportDocument.Block] = [.paragraph([.text(dryRun
                ? "\(subject) zou de export meer weghalen dan een gewone nacht kan verklaren. Een echte import zou \(held.count == 1 ? "die locatie" : "die locaties") vasthouden zoals \(held.count == 1 ? "ze was" : "ze waren") en de rest verwerken."
                : "\(subject) haalt de export meer weg dan een gewone nacht kan verklaren. \(held.count == 1 ? "Die locatie is" : "Die locaties zijn") vastgehouden zoals \(held.count == 1 ? "ze was" : "ze waren"): daar is niets gewijzigd, ook de aanwezigheidslijsten en de accounts van de ouders niet. Alle andere locaties zijn bijgewerkt.")])]
            blocks.append(table(held))
            blocks.append(.paragraph([.strong("Wat nu?")]))
            blocks.append(.list([
                [.text("Controleer in het planningssysteem of deze plaatsingen echt zijn beëindigd.")],
                [.text("Ontbreken ze door een fout in de export (een verkeerd filter, een afgebroken upload): laat het planningssysteem opnieuw exporteren. De volgende import verwerkt de locatie dan weer gewoon, en tot die tijd blijft ze zoals ze was.")],
                [.text("Zijn ze echt beëindigd (de locatie sluit, de kinderen zijn verhuisd): laat een beheerder de locatie vrijgeven. Dan worden de beëindigingen alsnog verwerkt (zie de technische toelichting onderaan).")],
                [.text("Tot dan zien de ouders en medewerkers van deze locatie de gegevens van de vorige import: nieuwe gezinnen krijgen nog geen uitnodiging en de aanwezigheidslijsten worden niet bijgewerkt.")],
            ]))
            let elsewhere = report.issues.filter { $0.code == "held-child-placed-elsewhere" }.count
            if elsewhere > 0 {
                blocks.append(.paragraph([.text(elsewhere == 1
                    ? "1 kind van een vastgehouden locatie staat in de export bij een andere locatie en is daar verwerkt; het staat tot de vrijgave op de lijsten van beide (zie de waarschuwingen)."
                    : "\(elsewhere) kinderen van een vastgehouden locatie staan in de export bij een andere locatie en zijn daar verwerkt; ze staan tot de vrijgave op de lijsten van beide (zie de waarschuwingen).")]))
            }
            sections.append(ReportDocument.Section(title: "Vastgehouden locaties", anchor: "vastgehouden", blocks: blocks))
        }
        if !released.isEmpty {
            let reason = report.reason.map { " (reden: \($0))" } ?? ""
            sections.append(ReportDocument.Section(title: "Vrijgegeven locaties", anchor: "vrijgegeven", blocks: [
                .paragraph([.text("\(released.count == 1 ? "Deze locatie zou zijn vastgehouden, maar is" : "Deze locaties zouden zijn vastgehouden, maar zijn") op verzoek vrijgegeven\(reason): de export is \(dryRun ? "in deze proefrun " : "")verwerkt, ook wat eruit verdwenen is.")]),
                table(released),
            ]))
        }
        return sections
    }

    private static func table(_ locations: [RunReport.HeldLocation]) -> ReportDocument.Block {
        let rows: [[ReportDocument.Text]] = locations.map { location in
            var name: ReportDocument.Text = [.code(location.code)]
            if let label = location.name { name.append(.text(" \(label)")) }
            if location.missingFromLocationsFile { name.append(.text(" (niet in het locatiebestand)")) }
            return [name, [.text(String(location.activePlacements))],
                    [.text("\(location.placementsWouldEnd) (\(MarkdownReport.percent(fraction(location.placementsWouldEnd, location.activePlacements))))")],
                    [.text(String(location.activeChildren))],
                    [.text("\(location.childrenWouldEnd) (\(MarkdownReport.percent(fraction(location.childrenWouldEnd, location.activeChildren))))")],
                    [.text(MarkdownReport.percent(location.threshold))]]
        }
        return .table(header: ["Locatie", "Actieve plaatsingen", "Zouden verdwijnen", "Actieve kinderen", "Zouden verdwijnen", "Grens"],
                      numeric: [1, 2, 3, 4, 5], rows: rows)
    }

    /// For IT, after the rest of the report: how an administrator releases a held location.
    static func technicalSection(_ report: RunReport) -> ReportDocument.Section? {
        let held = report.held
        guard !held.isEmpty else { return nil }
        return ReportDocument.Section(title: "Technische toelichting", anchor: "vrijgeven", blocks: [
            .paragraph([.text("Een locatie wordt vastgehouden als de export meer dan "), .code("rules.maxRemovalFractionPerLocation"),
                        .text(" (nu \(MarkdownReport.percent(held[0].threshold))) van haar actieve plaatsingen of kinderen zou beëindigen. Vrijgeven, met dezelfde export (en, op de server, met dezelfde "),
                        .code("--config"), .text(" en "), .code("--org"), .text(" als de nachtelijke import):")]),
            .list(held.map { location in
                [.code("opvangsync import \(shellQuoted(report.export.path)) --release location=\(shellQuoted(location.code)) --reason \"...\"")]
            }),
        ])
    }

    /// A word as the shell reads it back: plain when it is, else in single quotes.
    static func shellQuoted(_ text: String) -> String {
        let plain = !text.isEmpty && text.unicodeScalars.allSatisfy { scalar in
            scalar.properties.isAlphabetic && scalar.isASCII || ("0"..."9").contains(scalar) || "-_./=:@+,".unicodeScalars.contains(scalar)
        }
        return plain ? text : "'" + TextSafety.visible(text).replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
