import Foundation

/// The export as it passed the gate: its manifest, the portal link to use, and the source that hashes each
/// file against the manifest as it is read.
struct CheckedExport {
    let manifest: Manifest
    /// The portal address activation links point to.
    let portalURL: String
    let source: ExportSource
}

/// Stage 1 of SPEC §1, "check the export": everything decided from the manifest and the portal's record
/// of earlier runs, before a single row is read. Whose export it is (the portal's owner), whether it is
/// whole (every file listed and there; the SHA-256 of a file the mapping reads is checked as the file is
/// read, so that each is read and hashed once), fresh, new, and not older than what was applied last.
struct ExportGate {
    let request: ImportRequest
    let mapping: Mapping
    let asOf: Day

    func check(_ source: ExportSource, repository: PortalRepository?, report: inout RunReport) throws -> CheckedExport {
        var source = source
        let manifest = try source.loadManifest()
        if let organisation = request.organisation, organisation != manifest.organisationID {
            throw ExportFailure("organisation-mismatch", file: mapping.manifest, message:
                "de export is van organisatie \"\(manifest.organisationID)\", niet van \"\(organisation)\"")
        }
        report.organisation = .init(id: manifest.organisationID, name: manifest.organisationName)
        // A portal belongs to the organisation of its first import; another's export never touches it.
        let owner = try repository?.owner()
        if let owner, owner.id != manifest.organisationID {
            throw ExportFailure("organisation-mismatch", file: mapping.manifest, message:
                "dit portaal hoort bij organisatie \"\(owner.id)\", de export is van organisatie \"\(manifest.organisationID)\"; er is niets verwerkt. Controleer welke export in welke map staat")
        }
        let link = try PortalURL.resolve(configured: request.settings.portalURL, stored: owner?.portalURL,
                                         exported: manifest.portalURL, manifestFile: mapping.manifest)
        report.issues += link.issues
        report.export.system = manifest.system
        report.export.exportedAt = manifest.exportedAtText
        report.export.fingerprint = manifest.fingerprint
        report.export.integrity = mapping.manifestMode.rawValue
        report.issues += manifest.notes

        let manifestIssues: [Issue]
        var deferred = false
        if var csv = source as? CSVExportSource, mapping.manifestMode != .none {
            // The files the mapping reads are hashed as they are read (or, when the run skips one, on
            // their own), once; `ExportReading` turns a mismatch into this stage's refusal.
            manifestIssues = csv.verify(manifest, deferring: Set(mapping.entities.values.map(\.name)))
            csv.expectedSHA256 = Dictionary(manifest.files.compactMap { file in file.sha256.map { (file.name, $0) } },
                                            uniquingKeysWith: { first, _ in first })
            source = csv
            deferred = true
        } else {
            manifestIssues = source.verify(manifest)
        }
        if !manifestIssues.isEmpty {
            report.issues += manifestIssues
            throw RunStop.manifestMismatch(manifestIssues)
        }
        let checked = report.issues
        do {
            try checkAge(manifest, report: &report)
            try checkNew(manifest, repository: repository, report: &report)
            try checkOrder(manifest, repository: repository, report: &report)
        } catch let stop as RunStop where deferred {
            // The run ends before the read that would hash the files: they are hashed now, and an export
            // whose files differ from the manifest is refused for that, as if every file had been hashed first.
            let issues = source.verify(manifest)
            guard !issues.isEmpty else { throw stop }
            report.issues = checked + issues
            throw RunStop.manifestMismatch(issues)
        }
        return CheckedExport(manifest: manifest, portalURL: link.url, source: source)
    }

    /// Too old (`maxExportAgeHours`), or made far after the run date (a clock ahead would block every later
    /// night): refused unless forced.
    private func checkAge(_ manifest: Manifest, report: inout RunReport) throws {
        let ageHours = Importer.staleness(manifest.exportedAt, asOf: request.asOf, now: request.now)
        if ageHours > request.settings.rules.maxExportAgeHours {
            let text = "de export is \(Int(ageHours)) uur oud; de grens is \(Int(request.settings.rules.maxExportAgeHours)) uur (maxExportAgeHours)"
            try refuseUnlessForced("stale-export", file: mapping.manifest, text, abort: "verouderde export", report: &report)
        } else if ageHours < -24 {
            let text = "de export zegt gemaakt te zijn op \(manifest.exportedAtText), \(Int(-ageHours)) uur na de peildatum; de klok van het planningssysteem loopt vermoedelijk verkeerd"
            try refuseUnlessForced("export-in-future", file: mapping.manifest, text, abort: "export uit de toekomst", report: &report)
        } else if ageHours < -1 {
            report.issues.append(Issue(.warning, "export-in-future", file: mapping.manifest,
                                       message: "exportedAt ligt \(Int(-ageHours)) uur na de peildatum"))
        }
    }

    /// An export applied before is skipped unless forced. A scoped run fixes one family now; it neither
    /// counts as nor is blocked by a full import.
    private func checkNew(_ manifest: Manifest, repository: PortalRepository?, report: inout RunReport) throws {
        guard request.scope == nil, let repository, try repository.wasImported(fingerprint: manifest.fingerprint) else { return }
        if let release = request.release {
            // Releasing a held location re-applies the export that held it.
            report.issues.append(Issue(.info, "already-imported", message: "deze export is al eerder ingelezen; opnieuw ingelezen om locatie \(release) vrij te geven"))
            return
        }
        if !request.force {
            report.issues.append(Issue(.info, "already-imported", message: "deze export is al eerder ingelezen"))
            throw RunStop.skipped
        }
        report.issues.append(Issue(.info, "already-imported", message: "deze export is al eerder ingelezen; geforceerd opnieuw"))
    }

    /// Exports are applied in the order they were made (an older one would roll newer data back), and days
    /// before the latest run's date are history (a clock behind must not rebuild them).
    private func checkOrder(_ manifest: Manifest, repository: PortalRepository?, report: inout RunReport) throws {
        guard let repository else { return }
        let newest = try repository.newestAppliedExport().compactMap { text in Manifest.parseTimestamp(text).map { (text, $0) } }
            .max { $0.1 < $1.1 }
        if let newest, manifest.exportedAt < newest.1 {
            let text = "deze export is gemaakt op \(manifest.exportedAtText), vóór de laatst ingelezen export (\(newest.0)); inlezen zou nieuwere gegevens terugdraaien"
            try refuseUnlessForced("older-export", file: mapping.manifest, text, abort: "oudere export", report: &report)
        }
        if let text = try AttendanceHistory.refusal(asOf: asOf, repository: repository) {
            try refuseUnlessForced("as-of-before-last-run", file: nil, text, abort: "peildatum vóór de laatste run", report: &report)
        }
    }

    /// A check that `--force` overrides: an error that stops the run, or with `--force` a warning that says so.
    private func refuseUnlessForced(_ code: String, file: String?, _ text: String, abort: String, report: inout RunReport) throws {
        if !request.force {
            report.issues.append(Issue(.error, code, file: file, message: text))
            throw RunStop.aborted("\(abort): \(text)")
        }
        report.issues.append(Issue(.warning, code, file: file, message: text + "; geforceerd ingelezen"))
    }
}
