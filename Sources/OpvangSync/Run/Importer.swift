import Foundation
import PortalStore

/// What customer service or the timer asked for.
public struct ImportRequest: Sendable {
    public var exportDirectory: String
    public var settings: OrganisationSettings
    /// `--org`: must match the manifest's organisation when both are given.
    public var organisation: String?
    public var asOf: Day?
    public var dryRun = false
    public var force = false
    public var allowMassChanges = false
    public var reason: String?
    /// `--only`: apply the export to one family or location.
    public var scope: Scope?
    /// `--send-mail`: deliver the queued mail right after the commit.
    public var sendMail = false
    public var operatorName: String
    /// The wall clock, for the staleness check and timestamps.
    public var now = Date()
    /// Inbox folders newer than the export chosen that could not be used (a broken or incomplete manifest).
    public var passedOver: [(folder: String, why: String)] = []

    public init(exportDirectory: String, settings: OrganisationSettings, operatorName: String) {
        self.exportDirectory = exportDirectory
        self.settings = settings
        self.operatorName = operatorName
    }
}

/// How a run ended.
public struct ImportOutcome: Sendable {
    public let report: RunReport
    public let exitCode: ExitCode
    /// nil when the report could not be written (the error is in `reportError`).
    public let reportPaths: ReportPaths?
    public let reportError: String?
}

/// A request that cannot start: bad mapping, bad flags. Exit code 2.
public struct UsageError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Progress a terminal can show.
public enum ImportProgress: Sendable {
    case phase(String)
    /// One file read and checked: `index` of `total` files.
    case file(FileSummary, index: Int, total: Int)
    /// Changes written so far inside the transaction.
    case applying(done: Int, total: Int)
}

/// One import run: SPEC §1 from export folder to report, with the safety checks of §5 in order.
public struct Importer {
    public init() {}

    public func run(_ request: ImportRequest, progress: (ImportProgress) -> Void = { _ in }) throws -> ImportOutcome {
        if let organisation = request.organisation, !OrganisationID.isValid(organisation) {
            throw UsageError("--org \"\(OrganisationID.shown(organisation))\" is not an organisation id: it must match \(OrganisationID.rule)")
        }
        if (request.force || request.allowMassChanges), request.reason?.trimmingCharacters(in: .whitespaces).isEmpty ?? true {
            throw UsageError("--force and --allow-mass-changes need --reason TEXT: the report and change log keep why")
        }
        let mapping = try resolveMapping(request)
        let templates: MailTemplates
        do {
            templates = try MailTemplates.load(overrides: request.settings.mail.templates)
        } catch {
            throw UsageError("\(error)")
        }
        if request.sendMail {
            // A mail setting that cannot work is found now, not after the import has been committed.
            _ = try request.settings.mail.makeTransport()
        }
        var source: ExportSource = exportSource(in: request.exportDirectory, mapping: mapping)
        let asOf = request.asOf ?? Day.today(now: request.now)
        let started = request.now
        var run = RunState(request: request, mapping: mapping, asOf: asOf, started: started)
        for (folder, why) in request.passedOver {
            run.report.issues.append(Issue(.warning, "inbox-folder-passed-over", file: folder, message:
                "deze map in de inbox is nieuwer dan de export die is ingelezen, maar is overgeslagen: \(why). Als het planningssysteem nog aan het uploaden was, leest de volgende run haar in; anders is er een nieuwe export nodig"))
        }

        // One writer per portal: taken before anything is read, released when this run returns.
        let lock: RunLock?
        do {
            let folder = Paths.parent(of: request.settings.database)
            if !request.dryRun, !folder.isEmpty { try ProtectedFile.makeDirectory(folder) }
            lock = request.dryRun ? nil : try RunLock(databasePath: request.settings.database)
        } catch let held as RunLock.Held {
            // File the refusal under the export's organisation when its manifest says which that is.
            if let manifest = try? source.loadManifest() {
                run.report.organisation = .init(id: manifest.organisationID, name: manifest.organisationName)
            }
            run.report.issues.append(Issue(.error, "locked", message:
                "een andere run (pid \(held.holder)) werkt aan dit portaal; deze run is niet gestart"))
            return try finish(&run, .failed, nil, abort: "een andere run (pid \(held.holder)) houdt het portaal vast")
        }
        defer { withExtendedLifetime(lock) {} }
        let repository = try openRepository(request)

        do {
            progress(.phase("manifest"))
            let manifest = try source.loadManifest()
            if let organisation = request.organisation, organisation != manifest.organisationID {
                throw ExportFailure("organisation-mismatch", file: mapping.manifest, message:
                    "de export is van organisatie \"\(manifest.organisationID)\", niet van \"\(organisation)\"")
            }
            run.report.organisation = .init(id: manifest.organisationID, name: manifest.organisationName)
            // A portal belongs to the organisation of its first import; another's export never touches it.
            let owner = try repository?.owner()
            if let owner, owner.id != manifest.organisationID {
                throw ExportFailure("organisation-mismatch", file: mapping.manifest, message:
                    "dit portaal hoort bij organisatie \"\(owner.id)\", de export is van organisatie \"\(manifest.organisationID)\"; er is niets verwerkt. Controleer welke export in welke map staat")
            }
            let link = try PortalURL.resolve(configured: request.settings.portalURL, stored: owner?.portalURL,
                                             exported: manifest.portalURL, manifestFile: mapping.manifest)
            run.report.issues += link.issues
            run.report.export.system = manifest.system
            run.report.export.exportedAt = manifest.exportedAtText
            run.report.export.fingerprint = manifest.fingerprint

            let manifestIssues = source.verify(manifest)
            if var csv = source as? CSVExportSource {
                csv.expectedSHA256 = Dictionary(manifest.files.compactMap { file in file.sha256.map { (file.name, $0) } },
                                                uniquingKeysWith: { first, _ in first })
                source = csv
            }
            if !manifestIssues.isEmpty {
                run.report.issues += manifestIssues
                let files = manifestIssues.compactMap(\.file).joined(separator: ", ")
                return try finish(&run, .aborted, repository, abort: "export komt niet overeen met het manifest (\(files))")
            }

            let ageHours = staleness(manifest.exportedAt, asOf: request.asOf, now: request.now)
            if ageHours > request.settings.rules.maxExportAgeHours {
                let text = "de export is \(Int(ageHours)) uur oud; de grens is \(Int(request.settings.rules.maxExportAgeHours)) uur (maxExportAgeHours)"
                if !request.force {
                    run.report.issues.append(Issue(.error, "stale-export", file: mapping.manifest, message: text))
                    return try finish(&run, .aborted, repository, abort: "verouderde export: \(text)")
                }
                run.report.issues.append(Issue(.warning, "stale-export", file: mapping.manifest, message: text + "; geforceerd ingelezen"))
            } else if ageHours < -24 {
                // A clock far ahead (or a forged date) would make every later export look older than this
                // one and so block each night after it: refused unless forced.
                let text = "de export zegt gemaakt te zijn op \(manifest.exportedAtText), \(Int(-ageHours)) uur na de peildatum; de klok van het planningssysteem loopt vermoedelijk verkeerd"
                if !request.force {
                    run.report.issues.append(Issue(.error, "export-in-future", file: mapping.manifest, message: text))
                    return try finish(&run, .aborted, repository, abort: "export uit de toekomst: \(text)")
                }
                run.report.issues.append(Issue(.warning, "export-in-future", file: mapping.manifest, message: text + "; geforceerd ingelezen"))
            } else if ageHours < -1 {
                run.report.issues.append(Issue(.warning, "export-in-future", file: mapping.manifest,
                                               message: "exportedAt ligt \(Int(-ageHours)) uur na de peildatum"))
            }

            // A scoped run fixes one family now; it neither counts as nor is blocked by a full import.
            if request.scope == nil, let repository, try repository.wasImported(fingerprint: manifest.fingerprint) {
                if !request.force {
                    run.report.issues.append(Issue(.info, "already-imported", message: "deze export is al eerder ingelezen"))
                    return try finish(&run, .skipped, repository)
                }
                run.report.issues.append(Issue(.info, "already-imported", message: "deze export is al eerder ingelezen; geforceerd opnieuw"))
            }

            // Exports are applied in the order they were made: an older one would roll newer data back.
            if let repository {
                let newest = try repository.newestAppliedExport().compactMap { text in Manifest.parseTimestamp(text).map { (text, $0) } }
                    .max { $0.1 < $1.1 }
                if let newest, manifest.exportedAt < newest.1 {
                    let text = "deze export is gemaakt op \(manifest.exportedAtText), vóór de laatst ingelezen export (\(newest.0)); inlezen zou nieuwere gegevens terugdraaien"
                    if !request.force {
                        run.report.issues.append(Issue(.error, "older-export", file: mapping.manifest, message: text))
                        return try finish(&run, .aborted, repository, abort: "oudere export: \(text)")
                    }
                    run.report.issues.append(Issue(.warning, "older-export", file: mapping.manifest, message: text + "; geforceerd ingelezen"))
                }
            }

            // Days before the latest run's as-of date are history: a clock behind must not rebuild them.
            if let repository, let text = try AttendanceHistory.refusal(asOf: asOf, repository: repository) {
                if !request.force {
                    run.report.issues.append(Issue(.error, "as-of-before-last-run", message: text))
                    return try finish(&run, .aborted, repository, abort: "peildatum vóór de laatste run: \(text)")
                }
                run.report.issues.append(Issue(.warning, "as-of-before-last-run", message: text + "; geforceerd ingelezen"))
            }

            progress(.phase("lezen en controleren"))
            // A scoped run parses only its family's rows; everything else is counted, not checked.
            let scoped = try request.scope.map { try ScopedRead($0, source: source, repository: repository) }
            let expectedRows = Dictionary(manifest.files.map { ($0.name, $0.rows) }, uniquingKeysWith: { first, _ in first })
            var filesRead = 0
            // A full run reads the portal on a second core (its own connection) while this one reads the export.
            let kinds = EntityKind.allCases.filter { mapping.entities[$0] != nil }
            let snapshotPath = scoped == nil && repository != nil ? request.settings.database : nil
            let snapshot: PortalSnapshot?
            var validated: DesiredState
            (snapshot, validated) = try sideBySide({
                try snapshotPath.map { try PortalSnapshot(path: $0, kinds: kinds) }
            }, {
                try Validator(mapping: mapping, asOf: asOf).validate(source, expectedRows: mapping.format == .json
                    ? Dictionary(manifest.files.map { ("\(mapping.exportFile ?? "export.json")#\($0.name)", $0.rows) },
                                 uniquingKeysWith: { first, _ in first })
                    : expectedRows, selections: scoped?.selections ?? [:], progress: { summary in
                        filesRead += 1
                        progress(.file(summary, index: filesRead, total: mapping.entities.count))
                    })
            })
            run.report.export.files = validated.files
            run.report.issues += validated.issues
            if let scope = request.scope {
                run.report.issues.append(Issue(.info, "scoped-read", message:
                    "alleen de regels van \(scope.dutchDescription) zijn gelezen en gecontroleerd; de andere regels zijn geteld, niet gecontroleerd"))
            }

            let rowMismatches = validated.issues.filter { $0.code == "manifest-rows" }
            if !rowMismatches.isEmpty {
                return try finish(&run, .aborted, repository, abort:
                    "aantal regels wijkt af van het manifest (\(rowMismatches.compactMap(\.file).joined(separator: ", ")))")
            }
            if scoped != nil {
                // A scoped run parsed only its family's rows: the key columns are weighed whole, as a full
                // run weighs them, so that a BSN-keyed export is refused here too.
                let whole = try KeyColumnCheck.scan(source)
                run.report.issues.removeAll { $0.code == "bsn-key-column" }
                run.report.issues += whole
                validated.issues.removeAll { $0.code == "bsn-key-column" }
                validated.issues += whole
            }
            let bsnKeys = validated.issues.filter { $0.code == "bsn-key-column" && $0.severity == .error }
            if !bsnKeys.isEmpty {
                // The keys are citizen service numbers, and other files refer to them: no issue may name a
                // key, and no message may repeat one.
                run.report.options.only = run.report.options.only.map { BSN.redacted($0) ?? $0 }
                for index in run.report.issues.indices {
                    run.report.issues[index].key = nil
                    run.report.issues[index].message = BSN.redacted(run.report.issues[index].message) ?? run.report.issues[index].message
                }
                let columns = bsnKeys.map { "\($0.field ?? "?") in \($0.file ?? "?")" }.joined(separator: ", ")
                return try finish(&run, .aborted, repository, abort:
                    "de sleutelkolom \(columns) lijkt burgerservicenummers te bevatten; de mapping moet een ander nummer als sleutel gebruiken")
            }
            let limit = request.settings.rules.maxRejectedFraction
            let overLimit = validated.files.filter { $0.rows > 0 && Double($0.rejected) / Double($0.rows) > limit }
            if !overLimit.isEmpty {
                let detail = overLimit.map { "\($0.name): \($0.rejected) van \($0.rows)" }.joined(separator: ", ")
                return try finish(&run, .aborted, repository, abort:
                    "te veel afgewezen regels (\(detail)); de grens is \(MarkdownReport.percent(limit)) per bestand (maxRejectedFraction)")
            }

            progress(.phase("vergelijken met het portaal"))
            let current: [EntityKind: [String: StoredRecord]]
            let retentionStore = RetentionStore(database: repository?.database)
            let stored: RetentionPlanner.Stored
            if let loaded = snapshot {
                (current, stored) = (loaded.current, loaded.stored)
            } else {
                current = try repository.map { try scoped?.current(validated.kinds, repository: $0) ?? $0.loadCurrent(validated.kinds) } ?? [:]
                stored = try retentionStore.load()
            }
            var (desired, returning) = Importer.keepPurged(validated, stored: stored, asOf: asOf)
            var plan: Plan
            var scopeParents: Set<String>?
            if let scope = request.scope {
                if scope.matchesNothing(desired: desired, current: current) {
                    throw UsageError("--only \(scope): not in the export and not in the portal")
                }
                let (narrowed, narrowedCurrent, keys) = scope.narrow(desired, current)
                scopeParents = keys[.parent] ?? []
                plan = Differ(asOf: asOf).plan(desired: narrowed, current: narrowedCurrent)
                // The mass-removal guard weighs a scoped run against the whole portal, not the family
                // (counted only where the scope ends something: a count reads the whole table).
                for kind in validated.kinds where plan.counts[kind]?.removals ?? 0 > 0 {
                    plan.activeBefore[kind] = try repository?.activeCount(kind) ?? 0
                }
            } else {
                plan = Differ(asOf: asOf).plan(desired: desired, current: current)
            }
            // The plan holds what is needed from here on; the export's records (a third of the memory of a
            // large run) are let go before accounts and attendance build their own.
            validated = DesiredState()
            desired = DesiredState()
            _ = (validated, desired)
            run.report.counts = Dictionary(uniqueKeysWithValues: plan.counts.map { ($0.key.rawValue, $0.value) })
            run.report.changes = plan.changes.map { change in
                RunReport.ReportChange(entity: change.kind.rawValue, key: change.key, action: change.action,
                                       fields: change.action == .created ? [] : change.fields)
            }
            for issue in vanishedIssues(plan) { run.report.issues.append(issue) }

            // Before anything else is worked out: an aborted run's report must not describe accounts or
            // lists that were never made.
            let removals = massRemovals(plan, threshold: request.settings.rules.maxRemovalFraction)
            if !removals.isEmpty {
                run.report.removals = removals
                if !request.allowMassChanges {
                    let detail = removals.map { "\($0.wouldEnd) van \($0.activeBefore) \(EntityKind(rawValue: $0.entity)?.dutchPlural.lowercased() ?? $0.entity)" }
                        .joined(separator: ", ")
                    return try finish(&run, .aborted, repository, abort:
                        "de import zou \(detail) beëindigen; meer dan \(MarkdownReport.percent(request.settings.rules.maxRemovalFraction)) (maxRemovalFraction)")
                }
            }


            let accountStore = repository.map { AccountStore(database: $0.database) }
            // A scoped run has read only its family; the planners also see the portal around it.
            var portal = current
            if let scoped, let repository { ScopedRead.merge(&portal, try scoped.plannerContext(repository: repository)) }
            let post = PostState(current: portal, plan: plan)
            let existing = try accountStore?.load(parents: scopeParents, addresses: Set((scopeParents ?? []).compactMap { parent in
                post.record(.parent, parent).flatMap { record in
                    AccountPlanner.loginAddress(email: record.values[EntityKind.parent.schema.index("email")],
                                                email2: record.values[EntityKind.parent.schema.index("email2")])?.address
                }
            })) ?? ExistingAccounts()
            let undelivered = try repository.map { try Importer.undeliveredMail($0.database) } ?? []
            // Links that ran out since the last run, once: nothing is sent by itself, customer service resends.
            if request.scope == nil, let repository {
                let since = try repository.lastAppliedRunStart()
                for parent in try repository.invitationsExpired(since: since, now: request.now) {
                    run.report.issues.append(Issue(.warning, "invitation-expired", key: parent, message:
                        "de activatielink van ouder \(parent) is verlopen zonder dat het account is geactiveerd; stuur zo nodig een nieuwe link (Nieuw wachtwoord verzenden)"))
                }
            }

            // The attendance lists are built from the same post-run state, with (for a scoped run) every
            // child of the groups the scope touches; the account planners see only the scope's families.
            let horizon = asOf...asOf.adding(days: request.settings.rules.attendanceHorizonDays)
            let attendanceGroups = request.scope == nil ? nil : Importer.groupsTouched(by: plan, current: current, post: post)
            var listed = post
            if let attendanceGroups, let repository {
                ScopedRead.merge(&portal, try ScopedRead.attendanceContext(groups: attendanceGroups, days: horizon, repository: repository))
                listed = PostState(current: portal, plan: plan)
            }
            let inputs = AttendanceInputs(records: listed.records, groups: attendanceGroups)
            let builder = AttendanceBuilder(holidays: request.settings.holidays)
            let attendanceStore = AttendanceStore(database: repository?.database)

            // Accounts and attendance share nothing but their inputs: on two cores they run side by side,
            // the attendance on this thread because it reads the stored lists through this connection.
            let rules = request.settings.rules
            let excluded = stored.purgedParents.subtracting(returning.parents)
            let ((accountPlan, retention), attendance) = try sideBySide({ [post, existing, stored, scopeParents] in
                (AccountPlanner(asOf: asOf, rules: rules).plan(post, existing: existing, parents: scopeParents, excluded: excluded),
                 RetentionPlanner(asOf: asOf).plan(post, existing: existing, stored: stored, scope: scopeParents))
            }, {
                progress(.phase("accounts en aanwezigheidslijsten"))
                return try attendanceStore.diff(groups: Set(inputs.groups.keys), days: horizon) { group in
                    builder.build(inputs, group: group, days: horizon)
                }
            })
            run.report.accounts = accountPlan.summary
            run.report.accounts?.disabled = retention.disabledCount
            run.report.accounts?.enabled = retention.enabledCount
            run.report.retention = retention.summary
            run.report.issues += accountPlan.issues
            run.report.parentAccounts = ParentAccounts.of(accountPlan, post: post)
            run.report.locations = request.scope == nil ? LocationTotals.of(listed, plan: plan, asOf: asOf) : nil
            for owner in retention.unlinked {
                run.report.issues.append(Issue(.warning, "account-disabled-unlinked", key: owner, message:
                    "het account van ouder \(owner) is uitgeschakeld: het gezin is aan geen enkel kind meer gekoppeld (bijvoorbeeld na een wijziging in het gezag); er geldt geen termijn van 8 weken"))
            }
            var mail = MailSummary()
            mail.queued = accountPlan.actions.reduce(0) { count, action in
                switch action {
                case .create: return count + 1
                case .join, .detach, .withdraw: return count
                case .move(_, _, _, _, let activated): return count + (activated ? 2 : 1)
                }
            }
            for message in undelivered {
                if message.status == "bounced" { mail.bounced += 1 } else { mail.failed += 1 }
                run.report.issues.append(message.issue)
            }
            run.report.mail = mail
            run.report.undeliveredMail = undelivered.map(\.entry)
            run.report.attendance = Importer.summary(attendance, inputs: inputs, post: listed)
            run.report.issues += attendance.issues

            if request.dryRun {
                return try finish(&run, .applied, nil)
            }
            progress(.phase("toepassen"))
            guard let repository else { throw UsageError("no portal database") }
            // The run, its changes and its report commit together: the report is staged (and kept in the
            // runs row) inside the transaction, so a report that cannot be written rolls the run back.
            run.report.status = .applied
            run.report.exitCode = run.exitCodeForApplied.rawValue
            // Provisional: stamped again after the commit and any mail delivery.
            run.finishedAt = Date()
            run.report.finishedAt = Timestamp.iso(run.finishedAt ?? Date())
            var record = run.record(status: .applied, exit: run.exitCodeForApplied)
            // The runs row keeps the report without its list of changes: the change log, written in the same
            // transaction, holds every one of them (a first import's list is as large as the export).
            var kept = run.report
            kept.changes = []
            record.reportJSON = String(decoding: try ReportWriter.json(kept), as: UTF8.self)
            let context = MailContext(name: manifest.organisationName ?? manifest.organisationID, portalURL: link.url)
            let names = Importer.parentNames(post)
            var staged: StagedReport?
            do {
                try repository.apply(plan, run: record, progress: { done in progress(.applying(done: done, total: plan.changes.count)) }) { database in
                    try database.run("""
                        INSERT INTO organisation (id, name, portal_url, updated_run) VALUES (?, ?, ?, ?)
                        ON CONFLICT (id) DO UPDATE SET name = excluded.name, portal_url = excluded.portal_url, updated_run = excluded.updated_run
                        """, [.text(manifest.organisationID), .text(context.name), .text(context.portalURL), .text(record.id)])
                    _ = try AccountStore(database: database).apply(accountPlan, names: names, organisation: context,
                                                                   runID: record.id, now: request.now)
                    for message in undelivered {
                        try database.run("UPDATE outbox SET reported_run = ? WHERE id = ?", [.text(record.id), .integer(message.id)])
                    }
                    try attendanceStore.write(attendance, runID: record.id)
                    try retentionStore.apply(retention, runID: record.id, asOf: asOf)
                    for key in returning.children {
                        try database.run("UPDATE children SET purged_at = NULL WHERE key = ?", [.text(key)])
                    }
                    for key in returning.parents {
                        try database.run("UPDATE parents SET purged_at = NULL WHERE key = ?", [.text(key)])
                    }
                    staged = try ReportWriter.stage(run.report, to: request.settings.reports)
                }
            } catch {
                staged?.discard()
                throw error
            }
            if request.sendMail {
                progress(.phase("mail versturen"))
                do {
                    let delivered = try Importer.sendQueuedMail(repository.database, settings: request.settings, templates: templates)
                    run.report.mail?.sent += delivered.summary.sent
                    run.report.mail?.failed += delivered.summary.failed
                    run.report.mail?.bounced += delivered.summary.bounced
                    if let problem = delivered.transportProblem {
                        run.report.issues.append(Issue(.warning, "mail-not-sent", message:
                            "de import is verwerkt, maar niet alle mail is verstuurd: \(problem); de mail blijft klaarstaan en gaat mee met de volgende verzendronde"))
                    }
                } catch {
                    // The import is committed; the mail stays queued for `opvangsync mail send`.
                    run.report.issues.append(Issue(.warning, "mail-not-sent", message:
                        "de import is verwerkt, maar de mail is niet verstuurd: \(error); hij blijft klaarstaan en gaat mee met de volgende verzendronde"))
                }
            }
            return committed(&run, repository, staged: staged)
        } catch let failure as ExportFailure {
            run.report.issues.append(failure.issue)
            return try finish(&run, .failed, repository, abort: "de export is onleesbaar: \(failure.issue.description)")
        } catch let error as UsageError {
            throw error
        } catch {
            // Anything else (a full disk, a database error): the transaction rolled back, nothing is
            // applied; the run still leaves its report and, where the database allows, its record.
            run.report.issues.append(Issue(.error, "internal-error", message: "de run is gestopt door een fout: \(error)"))
            return try finish(&run, .failed, repository, abort: "fout tijdens de run, er is niets gewijzigd: \(error)")
        }
    }

    /// Sends every due message, holding the mail lock so two senders never send the same message.
    public static func sendQueuedMail(_ database: Database, settings: OrganisationSettings, templates: MailTemplates,
                                      limit: Int? = nil, ids: [Int64]? = nil) throws -> MailDelivery.Result {
        let lock = try RunLock(databasePath: settings.database + ".mail")
        defer { withExtendedLifetime(lock) {} }
        let delivery = MailDelivery(database: database, transport: try settings.mail.makeTransport(), templates: templates,
                                    settings: settings.mail, rules: settings.rules)
        return try delivery.deliver(limit: limit, ids: ids)
    }

    /// Purged children and parents stay purged while the planning system still exports them: their rows
    /// (and the relations and deviations of purged children) are left out and treated as unchanged. A
    /// child that is in care again (an active placement in the export) comes back, with its parents.
    static func keepPurged(_ desired: DesiredState, stored: RetentionPlanner.Stored, asOf: Day) -> (DesiredState, Returning) {
        guard !stored.purgedChildren.isEmpty || !stored.purgedParents.isEmpty else { return (desired, Returning()) }
        let p = EntityKind.placement.schema, r = EntityKind.relation.schema, d = EntityKind.deviation.schema
        // Child and parent numbers are kept apart: child 1001 returning says nothing of parent 1001.
        var returningChildren: Set<String> = []
        var returningParents: Set<String> = []
        for record in desired.records(of: .placement) {
            guard let child = record.values[p.index("childNumber")], stored.purgedChildren.contains(child) else { continue }
            if record.values[p.index("endDate")].flatMap(Day.init(iso:)).map({ $0 >= asOf }) ?? true { returningChildren.insert(child) }
        }
        let frozenChildren = stored.purgedChildren.subtracting(returningChildren)
        var liveParents: Set<String> = []
        for record in desired.records(of: .relation) {
            guard let child = record.values[r.index("childNumber")], let parent = record.values[r.index("parentNumber")] else { continue }
            if !frozenChildren.contains(child) { liveParents.insert(parent) }
            if returningChildren.contains(child) { returningParents.insert(parent) }
        }
        let frozenParents = stored.purgedParents.filter { !liveParents.contains($0) }
        var result = desired
        func freeze(_ kind: EntityKind, _ isFrozen: (Record) -> Bool) {
            let frozen = desired.records(of: kind).filter(isFrozen)
            guard !frozen.isEmpty else { return }
            let keys = Set(frozen.map(\.key))
            result.records[kind] = desired.records(of: kind).filter { !keys.contains($0.key) }
            result.protectedKeys[kind, default: []].formUnion(keys)
        }
        freeze(.child) { frozenChildren.contains($0.key) }
        freeze(.parent) { frozenParents.contains($0.key) }
        freeze(.relation) { frozenChildren.contains($0.values[r.index("childNumber")] ?? "") }
        freeze(.deviation) { frozenChildren.contains($0.values[d.index("childNumber")] ?? "") }
        return (result, Returning(children: returningChildren.intersection(stored.purgedChildren),
                                  parents: returningParents.intersection(stored.purgedParents)))
    }

    /// Purged children and parents that come back in this run, each kind in its own set.
    struct Returning: Sendable {
        var children: Set<String> = []
        var parents: Set<String> = []
    }

    /// The groups a scoped run must rebuild: those of its placements and deviations, before and after.
    static func groupsTouched(by plan: Plan, current: [EntityKind: [String: StoredRecord]], post: PostState) -> Set<String> {
        var groups: Set<String> = []
        for change in plan.changes {
            switch change.kind {
            case .group: groups.insert(change.key)
            case .placement, .deviation:
                let index = change.kind.schema.index("groupCode")
                if let code = current[change.kind]?[change.key]?.values[index] ?? nil { groups.insert(code) }
                if let code = post.record(change.kind, change.key)?.values[index] ?? nil { groups.insert(code) }
            case .child:
                // A child that ends or returns leaves or rejoins every list it is on.
                let p = EntityKind.placement.schema
                for (_, record) in post.records[.placement] ?? [:] where record.values[p.index("childNumber")] == change.key {
                    if let code = record.values[p.index("groupCode")] { groups.insert(code) }
                }
            default: break
            }
        }
        return groups
    }

    /// The report's attendance section: counts, the first changes, and names to group them by.
    static func summary(_ diff: AttendanceDiff, inputs: AttendanceInputs, post: PostState) -> AttendanceSummary {
        var summary = diff.summary
        summary.changes = Array(diff.changes.prefix(AttendanceSummary.listLimit))
        summary.changesTruncated = diff.changes.count > AttendanceSummary.listLimit
        let l = EntityKind.location.schema
        for code in Set(summary.changes.map(\.group)).union(summary.perGroup.map { Array($0.keys) } ?? []) {
            guard let group = inputs.groups[code] else { continue }
            let location = post.record(.location, group.location)?.values[l.index("name")] ?? nil
            summary.groupNames[code] = "\(group.name) (\(location ?? group.location))"
        }
        return summary
    }

    /// "Voornaam tussenvoegsel achternaam" per parent, for the salutation of their mail.
    static func parentNames(_ post: PostState) -> [String: String] {
        let schema = EntityKind.parent.schema
        var names: [String: String] = [:]
        for (key, values) in post.active(.parent) {
            names[key] = [values[schema.index("firstName")], values[schema.index("infix")], values[schema.index("lastName")]]
                .compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " ")
        }
        return names
    }

    /// The organisation id an export's manifest names, when it can be read and is a valid id; nil otherwise
    /// (the run itself then says what is wrong with the manifest).
    public static func organisation(ofExportAt folder: String, mapping: String?) -> String? {
        var settings = Configuration.builtIn.defaults
        settings.mapping = mapping
        let request = ImportRequest(exportDirectory: folder, settings: settings, operatorName: "")
        guard let resolved = try? Importer().resolveMapping(request) else { return nil }
        let source: ExportSource = exportSource(in: folder, mapping: resolved)
        return try? source.loadManifest().organisationID
    }

    /// The mapping the settings name; else `mappings/<built-in>.json` in the working folder when present,
    /// else the built-in copy. A folder with `export.json` and no `manifest.json` is read as JSON.
    func resolveMapping(_ request: ImportRequest) throws -> Mapping {
        let result: Result<Mapping, Mapping.Failure>
        if let path = request.settings.mapping {
            result = Result { () throws(Mapping.Failure) in try Mapping.load(path: path) }
        } else {
            let directory = request.exportDirectory as NSString
            let isJSON = FileManager.default.fileExists(atPath: directory.appendingPathComponent("export.json"))
                && !FileManager.default.fileExists(atPath: directory.appendingPathComponent("manifest.json"))
            let builtIn = isJSON ? BuiltInMapping.flexkidsJSON : BuiltInMapping.flexkidsCSV
            if FileManager.default.fileExists(atPath: builtIn.path) {
                result = Result { () throws(Mapping.Failure) in try Mapping.load(path: builtIn.path) }
            } else {
                result = Result { () throws(Mapping.Failure) in try builtIn.mapping() }
            }
        }
        switch result {
        case .success(let mapping): return mapping
        case .failure(let failure): throw UsageError(failure.description)
        }
    }

    private func openRepository(_ request: ImportRequest) throws -> PortalRepository? {
        let path = request.settings.database
        if request.dryRun {
            // A dry run must leave the file byte-for-byte as it was: open read-only, or not at all.
            guard FileManager.default.fileExists(atPath: path) else { return nil }
            return try PortalRepository(readOnlyAt: path)
        }
        let folder = Paths.parent(of: path)
        if !folder.isEmpty { try ProtectedFile.makeDirectory(folder) }
        return try PortalRepository(path: path)
    }

    /// Hours between the export and "now". With `--as-of`, "now" is noon of that day in Europe/Amsterdam,
    /// so a replayed export is judged against the day it is replayed for.
    func staleness(_ exportedAt: Date, asOf: Day?, now: Date) -> Double {
        var reference = now
        if let asOf {
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: "Europe/Amsterdam") ?? .current
            reference = calendar.date(from: DateComponents(year: asOf.year, month: asOf.month, day: asOf.day, hour: 12)) ?? now
        }
        return reference.timeIntervalSince(exportedAt) / 3600
    }

    func massRemovals(_ plan: Plan, threshold: Double) -> [RunReport.Removal] {
        [EntityKind.child, .parent, .placement].compactMap { kind in
            guard let counts = plan.counts[kind], let base = plan.activeBefore[kind], base > 0 else { return nil }
            let fraction = Double(counts.removals) / Double(base)
            guard fraction > threshold else { return nil }
            return RunReport.Removal(entity: kind.rawValue, activeBefore: base, wouldEnd: counts.removals,
                                     fraction: fraction, threshold: threshold)
        }
    }

    func vanishedIssues(_ plan: Plan) -> [Issue] {
        plan.changes.filter { $0.action == .vanished }.map { change in
            Issue(.warning, "placement-vanished", key: change.key, message:
                "plaatsing \(change.key) staat niet meer in de export en had geen einddatum; controleer het planningssysteem")
        }
    }

    /// The end of a committed run: `finishedAt` stamped after the commit and any mail, the final report kept
    /// in the runs row and its files put in place. Nothing here can undo the commit, so nothing here changes
    /// the exit code: a file that cannot be renamed is reported, and `opvangsync report RUN_ID` writes it
    /// again from the database.
    private func committed(_ run: inout RunState, _ repository: PortalRepository, staged: StagedReport?) -> ImportOutcome {
        let exit = run.exitCodeForApplied
        run.finishedAt = Date()
        run.report.finishedAt = Timestamp.iso(run.finishedAt ?? Date())
        let finishedAt = run.finishedAt ?? Date()
        var problems: [String] = []
        // The final report is serialised once: for its files, and only when they cannot be put in place, for
        // the runs row (which otherwise keeps no copy once the files are there).
        var files = staged
        do {
            // Only the JSON and the Markdown carry the end time and the mail counts: the CSV files staged
            // before the commit are final.
            files = try files?.restaging(run.report)
        } catch {
            // The report staged before the commit is still good; only the end time and mail counts differ.
            problems.append("\(error)")
        }
        do {
            if let paths = try files?.commit() {
                try? repository.finish(runID: run.report.runId, finishedAt: finishedAt, reportJSON: nil)
                return ImportOutcome(report: run.report, exitCode: exit, reportPaths: paths,
                                     reportError: problems.isEmpty ? nil : problems.joined(separator: "; "))
            }
        } catch {
            problems.append("\(error)")
        }
        var kept = run.report
        kept.changes = []
        try? repository.finish(runID: run.report.runId, finishedAt: finishedAt,
                               reportJSON: (try? ReportWriter.json(kept)).map { String(decoding: $0, as: UTF8.self) })
        return ImportOutcome(report: run.report, exitCode: exit, reportPaths: nil, reportError:
            "the import is applied, but its report files could not be written (\(problems.joined(separator: "; "))); `opvangsync report \(run.report.runId)` writes them from the database")
    }

    /// Sets the final status, records the run (unless it applied already or is a dry run) and writes the report.
    private func finish(_ run: inout RunState, _ status: RunReport.Status, _ repository: PortalRepository?,
                        abort: String? = nil) throws -> ImportOutcome {
        run.report.status = status
        run.report.abortReason = abort
        var exit: ExitCode = switch status {
        case .applied: run.exitCodeForApplied
        case .skipped: .success
        case .aborted: .aborted
        case .failed: .failed
        }
        run.report.exitCode = exit.rawValue
        run.finishedAt = run.finishedAt ?? Date()
        run.report.finishedAt = Timestamp.iso(run.finishedAt ?? Date())
        // The report is staged first: when it cannot be written, the run's record says so too, and the exit
        // code and the runs row agree.
        var staged: StagedReport?
        var reportError: String?
        do {
            staged = try ReportWriter.stage(run.report, to: run.request.settings.reports)
        } catch {
            reportError = "\(error)"
            // Whatever the run would have said, without its report nobody can read it: it failed.
            if exit != .failed {
                exit = .failed
                run.report.status = .failed
                run.report.exitCode = exit.rawValue
                run.report.abortReason = "het rapport kon niet worden geschreven: \(error)"
            }
        }
        if let repository, !run.request.dryRun {
            do {
                var record = run.record(status: run.report.status, exit: exit)
                record.reportJSON = try String(decoding: ReportWriter.json(run.report), as: UTF8.self)
                try repository.record(record)
            } catch {
                // The report below still says what happened; the runs table could not be written.
                run.report.issues.append(Issue(.error, "run-not-recorded", message: "de run kon niet in de database worden vastgelegd: \(error)"))
                if let again = try? ReportWriter.stage(run.report, to: run.request.settings.reports) {
                    staged?.discard()
                    staged = again
                }
            }
        }
        do {
            if let paths = try staged?.commit() {
                if !run.request.dryRun { try? repository?.releaseKeptReport(runID: run.report.runId) }
                return ImportOutcome(report: run.report, exitCode: exit, reportPaths: paths, reportError: nil)
            }
        } catch {
            reportError = "\(error)"
        }
        return ImportOutcome(report: run.report, exitCode: exit, reportPaths: nil, reportError: reportError)
    }
}

/// The mutable bookkeeping of one run.
struct RunState {
    let request: ImportRequest
    var report: RunReport
    var finishedAt: Date?

    init(request: ImportRequest, mapping: Mapping, asOf: Day, started: Date) {
        self.request = request
        report = RunReport(
            runId: RunID.make(started), organisation: .init(id: request.organisation ?? RunReport.unknownOrganisation, name: nil),
            asOf: asOf.iso, startedAt: Timestamp.iso(started), finishedAt: Timestamp.iso(started),
            mode: request.dryRun ? "dry-run" : "apply", status: .failed, exitCode: ExitCode.failed.rawValue,
            operator: request.operatorName, reason: request.reason,
            options: .init(force: request.force, allowMassChanges: request.allowMassChanges, only: request.scope?.description),
            export: .init(path: RunState.absolute(request.exportDirectory), mapping: mapping.path))
        report.columns = FieldNames.columns(of: mapping)
    }

    /// Auditors read the report later and elsewhere: a path relative to some working folder says little.
    static func absolute(_ path: String) -> String {
        let url = path.hasPrefix("/") ? URL(fileURLWithPath: path)
            : URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(path)
        return url.standardizedFileURL.path
    }

    var exitCodeForApplied: ExitCode { report.rejectedRows > 0 ? .appliedWithRejections : .success }

    /// The runs-table row; written with the apply transaction, or alone for runs that apply nothing.
    func record(status: RunReport.Status, exit: ExitCode) -> RunRecord {
        let summary = report.counts.sorted { $0.key < $1.key }.map { "\"\($0.key)\":{\"created\":\($0.value.created),\"updated\":\($0.value.updated),\"restored\":\($0.value.restored),\"ended\":\($0.value.ended),\"vanished\":\($0.value.vanished),\"unchanged\":\($0.value.unchanged)}" }
        let options = "{\"force\":\(report.options.force),\"allowMassChanges\":\(report.options.allowMassChanges),\"only\":\(JSONText.quote(report.options.only))}"
        let folder = (request.settings.reports as NSString).appendingPathComponent(report.organisation.id)
        return RunRecord(
            id: report.runId, organisation: report.organisation.id, mode: report.mode, status: status.rawValue,
            asOf: Day(iso: report.asOf) ?? Day(dayNumber: 0), startedAt: request.now, finishedAt: finishedAt ?? Date(),
            exportPath: report.export.path, exportFingerprint: report.export.fingerprint,
            exportedAt: report.export.exportedAt, operator: report.operator, reason: report.reason, options: options,
            summary: "{\"counts\":{\(summary.joined(separator: ","))},\"rejected\":\(report.rejectedRows),\"issues\":\(report.issues.count)}",
            reportPath: (folder as NSString).appendingPathComponent(report.runId + ".json"), exitCode: exit.rawValue)
    }
}

/// Run ids sort by time and stay unique when two runs start in the same second.
enum RunID {
    static func make(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let p = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let stamp = String(format: "%04d%02d%02dT%02d%02d%02dZ", p.year ?? 0, p.month ?? 0, p.day ?? 0, p.hour ?? 0, p.minute ?? 0, p.second ?? 0)
        var random = SystemRandomNumberGenerator()
        let suffix = (0..<3).map { _ in UInt8.random(in: 0...255, using: &random) }.hexString
        return "\(stamp)-\(suffix)"
    }
}

/// What a full run reads of the portal before it compares: every record of the export's kinds and the
/// retention state. Read through a connection of its own, so that it can be read on another thread
/// while the export is being checked. (The accounts are read later, once the export's records are gone.)
struct PortalSnapshot: Sendable {
    let current: [EntityKind: [String: StoredRecord]]
    let stored: RetentionPlanner.Stored

    init(path: String, kinds: [EntityKind]) throws {
        let repository = try PortalRepository(readOnlyAt: path)
        current = try repository.loadCurrent(kinds)
        stored = try RetentionStore(database: repository.database).load()
    }
}
