import Foundation
import PortalStore

/// Everything a run will write besides its record changes, worked out before the transaction opens.
struct PlannedRun {
    let accounts: AccountPlan
    let retention: RetentionPlan
    let attendance: AttendanceDiff
    /// Failed and bounced mail not yet in a report: this run's report names it, once.
    let undelivered: [(id: Int64, status: String, issue: Issue, entry: UndeliveredMail)]
    /// "Voornaam tussenvoegsel achternaam" of each parent the account plan mails, for the salutation.
    let names: ParentNames
    /// The parents whose standing issues (`accounts.standing`) this run replaces (nil: every parent), and
    /// those it keeps as they are: the families of a held location, which it does not plan.
    let standingParents: Set<String>?
    let standingKept: Set<String>
}

/// Stage 5 of SPEC §1, "plan accounts and lists": the accounts, their mail and the retention of access
/// (SPEC §4, §6), and the attendance lists of the horizon (SPEC §5), all from the state the portal will
/// have after the run.
struct RunPlanning {
    let request: ImportRequest
    let asOf: Day
    /// The school holidays of the government's file, per region (`schoolHolidays`).
    let schoolHolidays: SchoolHolidayCalendar

    func plan(_ compared: Compared, scoped: ScopedRead?, choice: ModeChoice, repository: PortalRepository?,
              report: inout RunReport, progress: (ImportProgress) -> Void) throws -> PlannedRun {
        let plan = compared.plan, current = compared.current, stored = compared.stored
        var scopeParents = compared.scopeParents
        var scoped = scoped
        // An incremental run plans for the families its changes and the date reach, as a scoped run would.
        var incremental: IncrementalScope?
        if choice.mode == .incremental, let repository, let lastAsOf = choice.lastAsOf {
            let found = try IncrementalScope(plan, current: current, asOf: asOf, lastAsOf: lastAsOf,
                                             rules: request.settings.rules, database: repository.database)
            scoped = ScopedRead(children: found.children, parents: found.parents)
            scopeParents = found.parents
            incremental = found
        } else if choice.mode == .scoped, let repository, let family = scoped, let parents = scopeParents {
            // A scoped run plans the accounts of the parents who share an address or an account with its
            // family too, as a full run weighs them together (their records, windows and lists stay as they
            // are: retention keeps to the family).
            let sharing = try IncrementalScope.sharingParents(of: parents, plan: plan, current: current, database: repository.database)
            if !sharing.isEmpty {
                scoped = ScopedRead(children: family.children, parents: parents.union(sharing))
                scopeParents = parents.union(sharing)
            }
        }
        let accountStore = repository.map { AccountStore(database: $0.database) }
        // A scoped run has read only its family; the planners also see the portal around it.
        var portal = current
        // The children a scoped or incremental run has read whole; nil: a full run, which has read them all.
        var childrenInView: Set<String>?
        if let scoped, let repository {
            let context = try scoped.plannerContext(repository: repository)
            ScopedRead.merge(&portal, context.records)
            childrenInView = context.children
        }
        let post = PostState(current: portal, plan: plan)
        let existing = try accountStore?.load(parents: scopeParents, addresses: Set((scopeParents ?? []).compactMap { parent in
            post.record(.parent, parent).flatMap { Parent(values: $0.values) }.flatMap { record in
                AccountPlanner.loginAddress(email: record.email, email2: record.email2)?.address
            }
        })) ?? ExistingAccounts()
        let undelivered = try repository.map { try RunPlanning.undeliveredMail($0.database) } ?? []
        // Links that ran out since the last run, once: nothing is sent by itself, customer service resends.
        if request.scope == nil, let repository {
            let since = try repository.lastAppliedRunStart()
            for parent in try repository.invitationsExpired(since: since, now: request.now) {
                report.issues.append(Issue(.warning, "invitation-expired", key: parent, message:
                    "de activatielink van ouder \(parent) is verlopen zonder dat het account is geactiveerd; stuur zo nodig een nieuwe link (Nieuw wachtwoord verzenden)"))
            }
        }

        // The attendance lists are built from the same post-run state, with (for a scoped run) every
        // child of the groups the scope touches; the account planners see only the scope's families.
        let horizon = asOf...asOf.adding(days: request.settings.rules.attendanceHorizonDays)
        var attendanceGroups = request.scope == nil ? nil : RunPlanning.groupsTouched(by: plan, current: current, post: post)
        // An incremental run: the groups its changes touch for the whole horizon, every other group for the
        // days the horizon gained since the last run (nothing else about a day's list changes by itself).
        var gained: (groups: Set<String>, days: ClosedRange<Day>)?
        if let incremental, let repository, let lastAsOf = choice.lastAsOf {
            // Groups whose last rebuild found an issue are rebuilt whole again, so that it is reported every
            // night until it is solved, as a full run would.
            let flagged = try PortalLookup(database: repository.database).strings("SELECT group_code FROM attendance_flags", [])
            let touched = RunPlanning.groupsTouched(by: plan, current: current, post: post).union(incremental.groups).union(flagged)
            attendanceGroups = touched
            let first = max(asOf, lastAsOf.adding(days: request.settings.rules.attendanceHorizonDays + 1))
            if first <= horizon.upperBound {
                let others = Set(try PortalLookup(database: repository.database).strings("SELECT key FROM groups", []))
                    .union(plan.changes.filter { $0.kind == .group }.map(\.key)).subtracting(touched)
                if !others.isEmpty { gained = (others, first...horizon.upperBound) }
            }
        }
        var listed = post
        if let attendanceGroups, let repository {
            ScopedRead.merge(&portal, try ScopedRead.attendanceContext(groups: attendanceGroups, days: horizon, repository: repository))
            listed = PostState(current: portal, plan: plan)
        }
        // A held location's lists stay as they are: they are not rebuilt, not even for the days the horizon gained.
        var inputs = AttendanceInputs(post: listed, groups: compared.hold.listedGroups(attendanceGroups, post: listed))
        // The days the horizon gained, for the groups no change reaches: only what their lists need, from the
        // portal's columns: loaded as full records, every group's placements and children were a fifth of a next night.
        var gainedInputs: AttendanceInputs?
        if let gained, let repository {
            gainedInputs = try AttendanceInputs(portal: repository, groups: gained.groups.subtracting(compared.hold.groups),
                                                days: gained.days, plan: plan, post: post)
        }
        let builder = AttendanceBuilder(holidays: request.settings.holidays, schoolHolidays: schoolHolidays)
        // An incremental run's groups after the run, read once: for the school holidays and the location totals.
        let groupsAfter = incremental == nil ? nil : try repository.map { try LocationTotals.groupsAfter(post, plan: plan, database: $0.database) }
        if let groupsAfter {
            // What is said of the locations is said of every location a full run lists (the active groups,
            // without the held ones), not only of those whose groups this run rebuilds.
            let locations = Set(groupsAfter.filter { $0.value.active && !compared.hold.groups.contains($0.key) }.map(\.value.location))
            report.issues += builder.schoolHolidayIssues(locations: locations, days: horizon)
        } else {
            report.issues += builder.schoolHolidayIssues(inputs, days: horizon)
        }
        // An incremental run counts what it did not touch per location in the portal: on a connection of its
        // own, on the second core, while the accounts and the lists are planned.
        let locationCount: Background<[LocationTotals]>? = request.scope == nil ? groupsAfter.map { groups in
            Background { [post, plan, asOf, path = request.settings.database] in
                let portal = try PortalRepository(readOnlyAt: path)
                return try LocationTotals.incremental(post, plan: plan, asOf: asOf, groups: groups, database: portal.database)
            }
        } : nil
        let attendanceStore = AttendanceStore(database: repository?.database)

        // Accounts and attendance share nothing but their inputs: on two cores they run side by side,
        // the attendance on this thread because it reads the stored lists through this connection.
        let rules = request.settings.rules
        // The families of a held location keep their accounts and access exactly as they are.
        let excluded = stored.purgedParents.subtracting(compared.returning.parents).texts.union(compared.hold.parents)
        // A scoped run's retention keeps to its own family, whose records it read.
        let retentionScope = compared.hold.retentionScope(choice.mode == .scoped ? compared.scopeParents : scopeParents, post: post)
        let ((accountPlan, retention), rebuilt) = try sideBySide({ [post, existing, stored, scopeParents, childrenInView, asOf] in
            (AccountPlanner(asOf: asOf, rules: rules).plan(post, existing: existing, parents: scopeParents, excluded: excluded),
             RetentionPlanner(asOf: asOf).plan(post, existing: existing, stored: stored, scope: retentionScope, children: childrenInView))
        }, {
            progress(.phase("accounts en aanwezigheidslijsten"))
            let whole = Set(inputs.groups.keys).texts
            var diff = try attendanceStore.diff(groups: whole, days: horizon) { group in
                defer { inputs.release(group) }
                return builder.build(inputs, group: group, days: horizon)
            }
            diff.rebuilt = whole
            if let gained, let gainedInputs {
                diff.append(try attendanceStore.diff(groups: Set(gainedInputs.groups.keys).texts, days: gained.days) { group in
                    builder.build(gainedInputs, group: group, days: gained.days)
                })
            }
            return diff
        })
        // A held group's lists are rebuilt whole once it is no longer held (an incremental run would otherwise
        // only add the days the horizon gained meanwhile).
        var attendance = rebuilt
        attendance.flagged.formUnion(compared.hold.rebuildLater)
        report.accounts = accountPlan.summary
        report.accounts?.disabled = retention.disabledCount
        report.accounts?.enabled = retention.enabledCount
        report.retention = retention.summary
        report.issues += accountPlan.issues
        // The families an incremental run does not plan have the problems the run that last planned them
        // found: reported again, as a full run finds them every night until they are solved.
        if incremental != nil, let accountStore {
            report.issues += try accountStore.standingIssues(except: (scopeParents ?? []).union(compared.hold.parents))
        }
        report.parentAccounts = ParentAccounts.of(accountPlan, post: post)
        if incremental != nil, let repository { try report.parentAccounts?.addStored(from: repository.database, except: scopeParents ?? []) }
        if request.scope == nil {
            report.locations = try locationCount?.wait() ?? LocationTotals.of(listed, plan: plan, asOf: asOf)
        }
        for owner in retention.unlinked {
            report.issues.append(Issue(.warning, "account-disabled-unlinked", key: owner, message:
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
            report.issues.append(message.issue)
        }
        report.mail = mail
        report.undeliveredMail = undelivered.map(\.entry)
        report.attendance = RunPlanning.summary(attendance, groups: inputs.groups.merging(gainedInputs?.groups ?? [:]) { own, _ in own },
                                                post: listed)
        report.issues += attendance.issues
        return PlannedRun(accounts: accountPlan, retention: retention, attendance: attendance, undelivered: undelivered,
                          names: ParentNames(post, mailed: accountPlan.actions), standingParents: scopeParents, standingKept: compared.hold.parents)
    }

    /// The groups a scoped run must rebuild: those of its placements and deviations, before and after.
    static func groupsTouched(by plan: Plan, current: [EntityKind: [String: StoredRecord]], post: PostState) -> Set<String> {
        var groups: Set<GroupCode> = []
        func group(_ kind: EntityKind, _ record: StoredRecord?) -> GroupCode? {
            guard let values = record?.values else { return nil }
            return kind == .placement ? Placement(values: values)?.group : Deviation(values: values)?.group
        }
        // A child that ends or returns leaves or rejoins every list it is on: its groups, read once.
        lazy var groupsOfChild: [ChildNumber: Set<GroupCode>] = {
            var result: [ChildNumber: Set<GroupCode>] = [:]
            for placement in post.records(.placement).lazy.compactMap({ Placement(values: $0.record.values) }) {
                if let group = placement.group { result[placement.child, default: []].insert(group) }
            }
            return result
        }()
        // A location's closing days and the location itself reach every list of its groups; a closing day of no
        // location in particular, every list.
        var locations: Set<String> = []
        var everyGroup = false
        for change in plan.changes {
            switch change.kind {
            case .group: groups.insert(GroupCode(change.key))
            case .placement, .deviation:
                if let code = group(change.kind, current[change.kind]?[change.key]) { groups.insert(code) }
                if let code = group(change.kind, post.record(change.kind, change.key)) { groups.insert(code) }
            case .child:
                groups.formUnion(groupsOfChild[ChildNumber(change.key)] ?? [])
            case .location: locations.insert(change.key)
            case .calendar:
                for record in [current[.calendar]?[change.key], post.record(.calendar, change.key)] {
                    guard let values = record?.values else { continue }
                    if let location = values[EntityKind.calendar.schema.index("locationCode")] { locations.insert(location) } else { everyGroup = true }
                }
            default: break
            }
        }
        if everyGroup || !locations.isEmpty {
            for (key, record) in post.records(.group) {
                guard let location = Group(values: record.values)?.location.text else { continue }
                if everyGroup || locations.contains(location) { groups.insert(GroupCode(key)) }
            }
        }
        return groups.texts
    }

    /// The report's attendance section: counts, the first changes, and names to group them by.
    static func summary(_ diff: AttendanceDiff, groups: [GroupCode: Group], post: PostState) -> AttendanceSummary {
        var summary = diff.summary
        summary.changes = Array(diff.changes.prefix(AttendanceSummary.listLimit))
        summary.changesTruncated = diff.changes.count > AttendanceSummary.listLimit
        for code in Set(summary.changes.map(\.group)).union(summary.perGroup.map { Array($0.keys) } ?? []) {
            guard let group = groups[GroupCode(code)] else { continue }
            let location = post.record(.location, group.location.text).flatMap { Location(values: $0.values) }?.name
            summary.groupNames[code] = "\(group.name) (\(location ?? group.location.text))"
        }
        return summary
    }
}

/// "Voornaam tussenvoegsel achternaam" of each parent the account plan mails (an invitation, an address
/// change), from the state after the run, for the salutation. Only theirs: a table of every parent's name, held
/// through the transaction, also named the parents without a child in care, without an address, in a conflict
/// or a member of another's account.
struct ParentNames {
    private var names: [String: String] = [:]

    init(_ post: PostState, mailed actions: [AccountAction]) {
        for action in actions {
            let owner: String
            switch action {
            case .create(let parent, _, _, _), .move(let parent, _, _, _, _): owner = parent
            case .join, .detach, .withdraw: continue
            }
            guard let record = post.record(.parent, owner), record.status == .active,
                  let name = Parent(values: record.values)?.fullName else { continue }
            names[owner] = name
        }
    }

    subscript(parent: String) -> String? { names[parent] }
}
