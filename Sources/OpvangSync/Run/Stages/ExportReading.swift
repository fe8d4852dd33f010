/// What the reading stage hands on: the export's accepted records, and (for a full run) the portal's
/// records read beside them.
struct ReadExport {
    var validated: DesiredState
    let snapshot: PortalSnapshot?
    /// A scoped run's family or location, found before any row was parsed.
    let scoped: ScopedRead?
    /// Full, incremental or scoped, with what the portal knows of the last export.
    let choice: ModeChoice
}

/// Stage 2 of SPEC §1, "read and check": every row parsed and checked (a scoped run: only its family's),
/// with the checks that look at the export as a whole: row counts against the manifest, identifier
/// columns that hold citizen service numbers, and the share of rejected rows per file.
struct ExportReading {
    let request: ImportRequest
    let mapping: Mapping
    let asOf: Day

    func read(_ export: CheckedExport, choice: ModeChoice, repository: PortalRepository?, report: inout RunReport,
              progress: (ImportProgress) -> Void) throws -> ReadExport {
        do {
            return try readChecked(export, choice: choice, repository: repository, report: &report, progress: progress)
        } catch let failure as ExportFailure {
            // The files are hashed as they are read (`ExportGate` leaves that to this stage). A file that
            // fails, or any other unreadable file, is judged as the gate would have judged the export had
            // it hashed every file first: all of them are checked now, and the run is refused naming each.
            let issues = export.source.verify(export.manifest)
            guard !issues.isEmpty else { throw failure }
            report.issues += issues
            throw RunStop.manifestMismatch(issues)
        }
    }

    private func readChecked(_ export: CheckedExport, choice: ModeChoice, repository: PortalRepository?, report: inout RunReport,
                             progress: (ImportProgress) -> Void) throws -> ReadExport {
        let manifest = export.manifest, source = export.source
        // A scoped run parses only its family's rows; everything else is counted, not checked. A family is
        // found from the export's relations, read on the other core while the files that no scope selects
        // (locations, groups, staff) are read here, or skipped as the ones applied; a location's needs the
        // portal between its files.
        var scoped: ScopedRead?
        var pending: Validator.PendingSelections?
        if let scope = request.scope, scope.findsAFamily, let csv = source as? CSVExportSource {
            let relations = Background { try ScopedRead.relations(in: csv) }
            pending = Validator.PendingSelections(kinds: ScopedRead.selectedKinds) {
                let found = try ScopedRead(scope, source: source, relations: relations.take(), repository: repository)
                scoped = found
                return found.selections
            }
        } else if let scope = request.scope {
            scoped = try ScopedRead(scope, source: source, repository: repository)
        }
        let expectedRows = mapping.format == .json
            ? Dictionary(manifest.files.map { ("\(mapping.exportFile ?? "export.json")#\($0.name)", $0.rows) },
                         uniquingKeysWith: { first, _ in first })
            : Dictionary(manifest.files.map { ($0.name, $0.rows) }, uniquingKeysWith: { first, _ in first })
        var filesRead = 0
        // A full run reads the portal on a second core (its own connection) while this one reads the export.
        let kinds = EntityKind.allCases.filter { mapping.entities[$0] != nil }
        // An incremental run reads only the portal's records of what changed, after the export.
        let snapshotPath = choice.mode == .full && repository != nil ? request.settings.database : nil
        // What the portal knows of the export it applied: an incremental run compares rows with it, and a
        // family's scoped run skips the files it would read whole when they are the ones applied.
        let known = choice.mode == .full ? nil : choice.known
        let (snapshot, validated) = try sideBySide({
            try snapshotPath.map { try PortalSnapshot(path: $0, kinds: kinds) }
        }, { [mapping, asOf] in
            let validated = try Validator(mapping: mapping, asOf: asOf, rowHashKey: choice.rowHashKey).validate(
                source, expectedRows: expectedRows, selections: scoped?.selections ?? [:], pending: pending, known: known, progress: { summary in
                    filesRead += 1
                    progress(.file(summary, index: filesRead, total: mapping.entities.count))
                })
            // A family whose files the mapping does not read at all is still looked for.
            if let pending, scoped == nil { _ = try pending.resolve() }
            return validated
        })
        report.export.files = validated.files
        report.issues += validated.issues
        if let scope = request.scope {
            report.issues.append(Issue(.info, "scoped-read", message:
                "alleen de regels van \(scope.dutchDescription) zijn gelezen en gecontroleerd; de andere regels zijn geteld, niet gecontroleerd"))
        }

        let rowMismatches = validated.issues.filter { $0.code == "manifest-rows" }
        if !rowMismatches.isEmpty {
            throw RunStop.aborted("aantal regels wijkt af van het manifest (\(rowMismatches.compactMap(\.file).joined(separator: ", ")))")
        }
        // A scoped run parses only its family's rows, but the key columns of every row are weighed, as a
        // full run weighs them (the rows left out report their identifiers): a BSN-keyed export is refused
        // here too.
        try refuseCitizenServiceNumberKeys(validated, report: &report)
        let limit = request.settings.rules.maxRejectedFraction
        let overLimit = validated.files.filter { $0.rows > 0 && Double($0.rejected) / Double($0.rows) > limit }
        if !overLimit.isEmpty {
            let detail = overLimit.map { "\($0.name): \($0.rejected) van \($0.rows)" }.joined(separator: ", ")
            throw RunStop.aborted(
                "te veel afgewezen regels (\(detail)); de grens is \(MarkdownReport.percent(limit)) per bestand (maxRejectedFraction)")
        }
        return ReadExport(validated: validated, snapshot: snapshot, scoped: scoped, choice: choice)
    }

    /// The keys are citizen service numbers, and other files refer to them: the run stops, and no issue
    /// may name a key and no message may repeat one.
    private func refuseCitizenServiceNumberKeys(_ validated: DesiredState, report: inout RunReport) throws {
        let bsnKeys = validated.issues.filter { $0.code == "bsn-key-column" && $0.severity == .error }
        guard !bsnKeys.isEmpty else { return }
        report.options.only = report.options.only.map { BSN.redacted($0) ?? $0 }
        for index in report.issues.indices {
            report.issues[index].key = nil
            report.issues[index].message = BSN.redacted(report.issues[index].message) ?? report.issues[index].message
        }
        let columns = bsnKeys.map { "\($0.field ?? "?") in \($0.file ?? "?")" }.joined(separator: ", ")
        throw RunStop.aborted("de sleutelkolom \(columns) lijkt burgerservicenummers te bevatten; de mapping moet een ander nummer als sleutel gebruiken")
    }
}
