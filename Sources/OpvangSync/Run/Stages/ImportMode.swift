import Foundation

/// How much of the export a run reads and compares (SPEC §9 "Scale").
public enum ImportMode: String, Codable, Sendable {
    /// Every row parsed, checked and compared with the whole portal.
    case full
    /// Only rows whose content differs from what the portal applied last, plus what the date alone changes.
    case incremental
    /// One family or location (`--only`).
    case scoped
}

/// The mode of one run and why: an incremental run needs the hashes of a run made under the same basis
/// (the same opvangsync build, mapping and rules) and a run date not before that run's.
struct ModeChoice {
    let mode: ImportMode
    /// Why a full run was chosen, in Dutch, for the report; nil for an incremental or scoped run.
    let reason: String?
    /// What the portal knows of the last export it applied (incremental and full runs; for a family's scoped
    /// run, of the files it reads whole).
    let known: KnownRows?
    /// The run date of the last full or incremental run.
    let lastAsOf: Day?
    /// The basis this run works under; stored with its hashes.
    let basis: String
    /// The portal's secret for row hashes; a new one when the portal has none yet (a first import, or a
    /// portal from before row hashes were keyed), which a full run stores with the hashes it writes (a
    /// scoped run does not: the portal's other hashes are not under it).
    let rowHashKey: RowHash.Key

    static func choose(_ request: ImportRequest, mapping: Mapping, manifest: Manifest, asOf: Day,
                       repository: PortalRepository?) throws -> ModeChoice {
        let basis = ImportBasis.describe(mapping: mapping, settings: request.settings)
        let storedKey = try repository?.rowHashKey()
        let key = storedKey ?? RowHash.Key.random()
        if let scope = request.scope {
            // A family's run reads the files no scope selects (locations, groups, staff, the calendar) only for
            // what its rows refer to: those that are the bytes the portal applied under this basis are not parsed.
            var known: KnownRows?
            if scope.findsAFamily, storedKey != nil, let repository, let stored = try repository.importBasis(), stored.basis == basis {
                known = try repository.knownFiles(Set(EntityKind.allCases).subtracting(ScopedRead.selectedKinds),
                                                  manifest: manifest, mapping: mapping)
            }
            return ModeChoice(mode: .scoped, reason: nil, known: known, lastAsOf: nil, basis: basis, rowHashKey: key)
        }
        guard let repository, let stored = try repository.importBasis() else {
            return ModeChoice(mode: .full, reason: "er is nog geen eerdere import om mee te vergelijken",
                              known: nil, lastAsOf: nil, basis: basis, rowHashKey: key)
        }
        let known = try repository.knownRows(manifest: manifest, mapping: mapping, sameBasis: stored.basis == basis)
        if request.full {
            return ModeChoice(mode: .full, reason: "om een volledige vergelijking is gevraagd", known: known, lastAsOf: stored.asOf,
                              basis: basis, rowHashKey: key)
        }
        if stored.basis != basis {
            return ModeChoice(mode: .full, reason: "de mapping, de regels of de versie van opvangsync zijn gewijzigd sinds de vorige import",
                              known: known, lastAsOf: stored.asOf, basis: basis, rowHashKey: key)
        }
        if storedKey == nil, !known.isEmpty {
            // Hashes without the key they were made with (a portal from before the hashes were keyed, or a key
            // lost): they can no longer be compared, so every row is read and hashed again under a new key.
            return ModeChoice(mode: .full, reason: "de gegevens over de vorige import zijn in het portaal niet meer bruikbaar",
                              known: known, lastAsOf: stored.asOf, basis: basis, rowHashKey: key)
        }
        if known.isEmpty, try repository.activeCount(.child) + repository.activeCount(.parent) > 0 {
            // Hashes emptied by hand, or lost: without them a missing row could not be told from an unread one.
            return ModeChoice(mode: .full, reason: "de gegevens over de vorige import ontbreken in het portaal",
                              known: known, lastAsOf: stored.asOf, basis: basis, rowHashKey: key)
        }
        if asOf < stored.asOf {
            return ModeChoice(mode: .full, reason: "de peildatum ligt vóór die van de vorige import", known: known,
                              lastAsOf: stored.asOf, basis: basis, rowHashKey: key)
        }
        return ModeChoice(mode: .incremental, reason: nil, known: known, lastAsOf: stored.asOf, basis: basis, rowHashKey: key)
    }
}

/// What the stored hashes of a portal depend on besides the export itself. When any of it changes, the next
/// run is a full one: a row that did not change may still read differently.
enum ImportBasis {
    static func describe(mapping: Mapping, settings: OrganisationSettings) -> String {
        let mappingBytes = FileManager.default.contents(atPath: mapping.path).map(Array.init)
            ?? BuiltInMapping.all.first { $0.path == mapping.path }.map { Array($0.text.utf8) } ?? Array(mapping.path.utf8)
        // Only what changes a row's reading or a plan: the date rules and the holidays closed for (sorted:
        // a set prints in another order in every process).
        let r = settings.rules
        let holidays = settings.holidays.enabled.map { "\($0)" }.sorted().joined(separator: ",")
        // The school-holiday files by content, and the regions of the locations.
        var school = "none"
        if let settings = settings.schoolHolidays {
            let files = settings.files.map { FileManager.default.contents(atPath: $0).map { SHA256.hex(of: Array($0)) } ?? "missing:\($0)" }
            let regions = settings.regions.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            school = "\(files.joined(separator: ","))|\(settings.region.map { "\($0)" } ?? "-")|\(regions.joined(separator: ","))"
        }
        let rules = "invite=\(r.inviteDaysBeforeStart);activation=\(r.activationValidDays);horizon=\(r.attendanceHorizonDays);holidays=\(holidays);school=\(school)"
        return [executableIdentity, SHA256.hex(of: mappingBytes), SHA256.hex(of: Array(rules.utf8))].joined(separator: ":")
    }

    /// The running program, as its size and modification time: a new build or package reads everything once.
    static let executableIdentity: String = {
        var info = stat()
        guard stat("/proc/self/exe", &info) == 0 else { return "unknown" }
        return "\(info.st_size)-\(info.st_mtim.tv_sec)"
    }()
}
