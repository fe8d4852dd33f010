import Foundation
import PortalStore
import TestSupport
import Testing
@testable import OpvangSync

/// The day an incremental run's horizon gains is built, for every group no change reaches, from the
/// portal's columns instead of full records. Its lists must be the ones the post-run state gives.
@Suite struct GainedDayInputsTests {
    let gained = Day(iso: "2026-12-21")!...Day(iso: "2026-12-21")!

    func values(_ kind: EntityKind, _ fields: [String: String]) -> [String?] {
        var values = [String?](repeating: nil, count: kind.schema.fields.count)
        for (name, value) in fields { values[kind.schema.fieldIndex(name)!] = value }
        return values
    }

    func created(_ kind: EntityKind, _ key: String, _ fields: [String: String], status: RecordStatus = .active) -> Change {
        Change(kind: kind, key: key, action: .created, fields: [], values: values(kind, fields), status: status)
    }

    func placement(_ number: String, child: String, group: String, start: String, end: String? = nil) -> Change {
        var fields = ["number": number, "childNumber": child, "groupCode": group, "careType": "KDV",
                      "contractType": "52 weken", "startDate": start, "monday": "08:00-17:00", "weeks": "alle"]
        fields["endDate"] = end
        return created(.placement, number, fields)
    }

    /// The portal as an earlier run left it: two groups, placements that start, end and run through the
    /// gained Monday, an ended child, a deviation on the day and one before it, a closing day elsewhere.
    var stored: Plan {
        var plan = Plan()
        plan.changes = [
            created(.location, "L1", ["code": "L1", "name": "De Boomhut"]),
            created(.group, "G1", ["code": "G1", "locationCode": "L1", "name": "Eikels", "careType": "KDV"]),
            created(.group, "G2", ["code": "G2", "locationCode": "L1", "name": "Beukjes", "careType": "KDV"]),
            created(.group, "G3", ["code": "G3", "locationCode": "L1", "name": "Dicht", "careType": "KDV"], status: .ended),
            created(.child, "K1", ["number": "K1", "firstName": "Anna", "lastName": "Jansen", "birthDate": "2024-03-01"]),
            created(.child, "K2", ["number": "K2", "firstName": "Bram", "lastName": "Jansen", "birthDate": "2024-04-01"]),
            created(.child, "K3", ["number": "K3", "firstName": "Cas", "lastName": "Smit", "birthDate": "2024-05-01"]),
            created(.child, "K4", ["number": "K4", "firstName": "Dirk", "lastName": "Smit", "birthDate": "2024-06-01"], status: .ended),
            created(.child, "K5", ["number": "K5", "firstName": "Eva", "lastName": "Bos", "birthDate": "2024-07-01"]),
            placement("P1", child: "K1", group: "G1", start: "2025-01-06"),
            placement("P2", child: "K2", group: "G1", start: "2026-12-21"),
            placement("P3", child: "K3", group: "G1", start: "2025-01-06", end: "2026-12-20"),
            placement("P4", child: "K3", group: "G2", start: "2025-01-06", end: "2026-12-21"),
            placement("P5", child: "K4", group: "G2", start: "2025-01-06"),
            placement("P6", child: "K5", group: "G2", start: "2026-12-22"),
            // Care on Tuesdays only: nobody on the Monday's list from it.
            created(.placement, "P20", ["number": "P20", "childNumber": "K2", "groupCode": "G2", "careType": "KDV", "contractType": "52 weken",
                                       "startDate": "2025-01-06", "tuesday": "08:00-12:00", "weeks": "alle"]),
            created(.deviation, "K1/G1/2026-12-21/Afwezig", ["childNumber": "K1", "groupCode": "G1", "date": "2026-12-21", "kind": "Afwezig",
                                                           "description": "Ziek"]),
            created(.deviation, "K5/G2/2026-12-21/Extra dag", ["childNumber": "K5", "groupCode": "G2", "date": "2026-12-21", "kind": "Extra dag",
                                                             "from": "09:00", "to": "13:00"]),
            created(.deviation, "K2/G1/2026-12-14/Extra dag", ["childNumber": "K2", "groupCode": "G1", "date": "2026-12-14", "kind": "Extra dag",
                                                             "from": "09:00", "to": "13:00"]),
            created(.calendar, "2026-12-21/2026-12-21/Sluitingsdag/L9", ["from": "2026-12-21", "to": "2026-12-21", "kind": "Sluitingsdag",
                                                                        "locationCode": "L9"]),
        ]
        return plan
    }

    func portal(_ folder: URL, adding more: [Change] = []) throws -> PortalRepository {
        let repository = try PortalRepository(path: folder.appendingPathComponent("portal.sqlite").path)
        let writer = PortalWriter(database: repository.database)
        let run = RunRecord(id: "R1", organisation: "test", mode: "full", status: "applied", asOf: Day(iso: "2026-11-23")!,
                            startedAt: Date(), finishedAt: Date(), operator: "test", options: "{}", summary: "{}", exitCode: 0)
        var plan = stored
        plan.changes += more
        _ = try writer.transaction(run: run) { try writer.writeChanges(plan, runID: run.id, asOf: run.asOf) }
        return repository
    }

    /// The lists of `groups` on the gained day: from full records laid over with `plan`, and from the columns.
    func lists(_ repository: PortalRepository, groups: Set<String>, plan: Plan) throws -> (full: [AttendanceLists], columns: [AttendanceLists]) {
        let post = PostState(current: try repository.loadCurrent(EntityKind.allCases), plan: plan)
        let full = AttendanceInputs(post: post, groups: groups)
        let columns = try AttendanceInputs(portal: repository, groups: groups, days: gained, plan: plan, post: post)
        #expect(Set(columns.groups.keys) == Set(full.groups.keys))
        let builder = AttendanceBuilder(holidays: HolidayCalendar())
        return (groups.sorted().map { builder.build(full, group: $0, days: gained) },
                groups.sorted().map { builder.build(columns, group: $0, days: gained) })
    }

    func names(_ lists: [AttendanceLists]) -> [String] {
        lists.flatMap(\.entries).map { "\($0.group) \($0.child) \($0.absent ? "afwezig" : $0.times) \($0.source)" }
    }

    @Test func theGainedDayFromTheColumnsIsTheDayTheFullRecordsGive() throws {
        let folder = temporaryFolder("gained")
        defer { try? FileManager.default.removeItem(at: folder) }
        let repository = try portal(folder)
        let built = try lists(repository, groups: ["G1", "G2", "G3"], plan: Plan())
        #expect(names(built.columns) == names(built.full))
        // Not an empty agreement: who is expected on the Monday, and who is not (ended, not yet begun, ended child).
        #expect(names(built.columns) == ["G1 K1 afwezig P1", "G1 K2 08:00-17:00 P2", "G2 K3 08:00-17:00 P4", "G2 K5 09:00-13:00 Extra dag"])
    }

    @Test func thePlanIsLaidOverTheColumnsAsOverTheRecords() throws {
        let folder = temporaryFolder("gained")
        defer { try? FileManager.default.removeItem(at: folder) }
        let repository = try portal(folder)
        var plan = Plan()
        plan.changes = [
            // A new placement starting on the day, a child that ends, a closing day at the location.
            placement("P7", child: "K1", group: "G2", start: "2026-12-21"),
            Change(kind: .child, key: "K2", action: .ended, fields: [], values: nil, status: .ended),
            Change(kind: .placement, key: "P4", action: .ended, fields: [], values: nil, status: .ended),
        ]
        let built = try lists(repository, groups: ["G1", "G2"], plan: plan)
        #expect(names(built.columns) == names(built.full))
        #expect(names(built.columns) == ["G1 K1 afwezig P1", "G2 K1 08:00-17:00 P7", "G2 K5 09:00-13:00 Extra dag"])

        var closing = Plan()
        closing.changes = [created(.calendar, "2026-12-21/2026-12-21/Sluitingsdag/L1", ["from": "2026-12-21", "to": "2026-12-21",
                                                                                      "kind": "Sluitingsdag", "locationCode": "L1"])]
        let closed = try lists(repository, groups: ["G1", "G2"], plan: closing)
        #expect(names(closed.columns) == names(closed.full))
        #expect(closed.columns.map { $0.closed.count } == [1, 1])
    }

    /// An Extra dag without times of its own takes the child's usual hours in the group, from any of its
    /// placements there (one that has not begun yet, or has ended): the gained day must see them too.
    @Test func anExtraDayWithoutTimesTakesTheHoursOfAPlacementNotInEffectThatDay() throws {
        let folder = temporaryFolder("gained")
        defer { try? FileManager.default.removeItem(at: folder) }
        let repository = try portal(folder, adding: [
            created(.child, "K6", ["number": "K6", "firstName": "Fien", "lastName": "Bos", "birthDate": "2024-08-01"]),
            // Starts after the gained Monday; the parents asked for a first day to get used to the group.
            placement("P8", child: "K6", group: "G1", start: "2027-01-04"),
            created(.deviation, "K6/G1/2026-12-21/Extra dag", ["childNumber": "K6", "groupCode": "G1", "date": "2026-12-21", "kind": "Extra dag"]),
            // Ended before the gained Monday: its hours are the child's usual ones in G2.
            created(.child, "K7", ["number": "K7", "firstName": "Gijs", "lastName": "Bos", "birthDate": "2024-09-01"]),
            placement("P9", child: "K7", group: "G2", start: "2025-01-06", end: "2026-12-18"),
            created(.deviation, "K7/G2/2026-12-21/Ruildag", ["childNumber": "K7", "groupCode": "G2", "date": "2026-12-21", "kind": "Ruildag"]),
        ])
        let built = try lists(repository, groups: ["G1", "G2"], plan: Plan())
        #expect(names(built.full).contains("G1 K6 08:00-17:00 Extra dag"))
        #expect(names(built.full).contains("G2 K7 08:00-17:00 Ruildag"))
        #expect(names(built.columns) == names(built.full))
    }

    /// A run after some nights without one gains several days at once: placements that begin and end
    /// within them, and deviations on each, as the full records give them.
    @Test func severalGainedDaysAreTheDaysTheFullRecordsGive() throws {
        let folder = temporaryFolder("gained")
        defer { try? FileManager.default.removeItem(at: folder) }
        let repository = try portal(folder, adding: [
            placement("P10", child: "K5", group: "G1", start: "2026-12-22", end: "2026-12-28"),
            created(.deviation, "K1/G1/2026-12-24/Afwezig", ["childNumber": "K1", "groupCode": "G1", "date": "2026-12-24", "kind": "Afwezig"]),
            created(.deviation, "K1/G1/2026-12-28/Afwezig", ["childNumber": "K1", "groupCode": "G1", "date": "2026-12-28", "kind": "Afwezig"]),
        ])
        let days = Day(iso: "2026-12-19")!...Day(iso: "2026-12-28")!
        let post = PostState(current: try repository.loadCurrent(EntityKind.allCases), plan: Plan())
        let full = AttendanceInputs(post: post, groups: ["G1", "G2"])
        let columns = try AttendanceInputs(portal: repository, groups: ["G1", "G2"], days: days, plan: Plan(), post: post)
        let builder = AttendanceBuilder(holidays: HolidayCalendar())
        for group in ["G1", "G2"] {
            let fromFull = builder.build(full, group: group, days: days), fromColumns = builder.build(columns, group: group, days: days)
            #expect(names([fromColumns]) == names([fromFull]))
            #expect(fromColumns.issues == fromFull.issues)
        }
        #expect(names([builder.build(full, group: "G1", days: days)]).contains("G1 K5 08:00-17:00 P10"))
    }
}
