import Foundation
import Mail

/// One organisation's settings, with the file's defaults applied (SPEC §6).
public struct OrganisationSettings: Sendable {
    public var id: String?
    /// Folder holding one sub-folder per export; `import --org ID` takes the newest complete one.
    public var inbox: String?
    public var database: String
    public var reports: String
    /// nil: the built-in mapping for the export's format.
    public var mapping: String?
    public var rules: Rules
    public var mail = MailSettings()
    public var holidays = HolidayCalendar()
    /// `schoolHolidays`: the government's school-holiday file and the region of each location.
    public var schoolHolidays: SchoolHolidaySettings?
    /// `portalUrl`: the base of every activation link. When set, it wins over the export's manifest.
    public var portalURL: String?
    /// `alerts`: who hears of a failed or aborted run, by mail through `mail.transport`.
    public var alerts = AlertSettings()
    /// `metrics`: a Prometheus text file rewritten after every run (node_exporter's textfile collector).
    public var metrics: String?
    /// `reportRetentionDays`: report files of runs older than this are removed; the runs table keeps the summary.
    public var reportRetentionDays = 730
}

/// The configuration file: top-level defaults and an `organisations` list that may override them.
public struct Configuration: Sendable {
    public var defaults: OrganisationSettings
    public var organisations: [OrganisationSettings]
    /// The file it came from, nil for the built-in defaults.
    public var path: String?

    /// A configuration file that cannot be used: exit code 2, naming the key.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let path: String
        public let key: String?
        public let reason: String
        public var description: String {
            "configuration \(path)" + (key.map { ", key \"\($0)\"" } ?? "") + ": \(reason)"
        }
    }

    public init(defaults: OrganisationSettings, organisations: [OrganisationSettings], path: String?) {
        self.defaults = defaults
        self.organisations = organisations
        self.path = path
    }

    /// Built-in defaults: `./portal.sqlite`, `./reports/`, the built-in mapping.
    public static let builtIn = Configuration(
        defaults: OrganisationSettings(id: nil, inbox: nil, database: "portal.sqlite", reports: "reports",
                                       mapping: nil, rules: Rules()),
        organisations: [], path: nil)

    /// The settings for `organisation` (placeholders `{org}` filled in), or the defaults when the file
    /// does not list it.
    public func settings(for organisation: String?) throws(Failure) -> OrganisationSettings {
        var settings = defaults
        // Without an organisation, `{org}` must not silently become some name: a single configured
        // organisation is the one meant; with several, or with `{org}` in a path, it must be named.
        var organisation = organisation
        if organisation == nil, organisations.count == 1 {
            organisation = organisations[0].id
        } else if organisation == nil, organisations.count > 1 {
            throw Failure(path: path ?? "(defaults)", key: "organisations",
                          reason: "several organisations are configured (\(organisations.compactMap(\.id).joined(separator: ", "))); name one with --org")
        } else if organisation == nil, [defaults.database, defaults.reports, defaults.inbox ?? ""].contains(where: { $0.contains("{org}") }) {
            throw Failure(path: path ?? "(defaults)", key: "database",
                          reason: "the configured paths hold {org}; name the organisation with --org")
        }
        if let organisation {
            // The id becomes part of folder names: a plain identifier, never a path.
            guard OrganisationID.isValid(organisation) else {
                throw Failure(path: "--org", key: nil, reason: "\"\(OrganisationID.shown(organisation))\" is not an organisation id: it must match \(OrganisationID.rule)")
            }
            if let match = organisations.first(where: { $0.id == organisation }) {
                settings = match
            } else if !organisations.isEmpty {
                throw Failure(path: path ?? "(defaults)", key: "organisations",
                              reason: "no organisation with id \"\(organisation)\"; known: \(organisations.compactMap(\.id).joined(separator: ", "))")
            }
            settings.id = organisation
        }
        let id = settings.id ?? ""
        settings.database = settings.database.replacingOccurrences(of: "{org}", with: id)
        settings.reports = settings.reports.replacingOccurrences(of: "{org}", with: id)
        settings.inbox = settings.inbox?.replacingOccurrences(of: "{org}", with: id)
        settings.metrics = settings.metrics?.replacingOccurrences(of: "{org}", with: id)
        return settings
    }

    /// Loads `path`; when `path` is nil, `./opvangsync.json` if it exists, otherwise the built-in defaults.
    public static func load(path: String?) throws(Failure) -> Configuration {
        let chosen: String
        if let path {
            chosen = path
        } else if FileManager.default.fileExists(atPath: "opvangsync.json") {
            chosen = "opvangsync.json"
        } else {
            return builtIn
        }
        guard let data = FileManager.default.contents(atPath: chosen) else {
            throw Failure(path: chosen, key: nil, reason: "cannot read the file")
        }
        let root: JSONNode
        do {
            root = try JSONParser.parse(Array(data))
        } catch {
            throw Failure(path: chosen, key: nil, reason: "invalid JSON at line \(error.line), column \(error.column): \(error.reason)")
        }
        return try Configuration(root: root, path: chosen)
    }

    init(root: JSONNode, path: String) throws(Failure) {
        func fail(_ key: String?, _ reason: String) -> Failure { Failure(path: path, key: key, reason: reason) }
        guard root.members != nil else { throw fail(nil, "the configuration must be a JSON object") }
        let baseDirectory = Paths.parent(of: path)
        func resolve(_ value: String) -> String {
            value.hasPrefix("/") || baseDirectory.isEmpty ? value : (baseDirectory as NSString).appendingPathComponent(value)
        }

        func text(_ value: JSONNode, _ keyPath: String) throws(Failure) -> String {
            guard let text = value.string, !text.isEmpty else { throw fail(keyPath, "must be a non-empty string") }
            return text
        }
        func whole(_ value: JSONNode, _ keyPath: String, _ range: ClosedRange<Int>) throws(Failure) -> Int {
            guard let number = value.int, range.contains(number) else {
                throw fail(keyPath, "must be a whole number from \(range.lowerBound) to \(range.upperBound)")
            }
            return number
        }

        func read(_ node: JSONNode, prefix: String, base: OrganisationSettings, allowed: Set<String>) throws(Failure) -> OrganisationSettings {
            var settings = base
            for (key, value) in node.members ?? [] {
                let keyPath = prefix + key
                guard allowed.contains(key) else {
                    throw fail(keyPath, "unknown key; allowed here: \(allowed.sorted().joined(separator: ", "))")
                }
                switch key {
                case "id": settings.id = try text(value, keyPath)
                case "inbox": settings.inbox = resolve(try text(value, keyPath))
                case "database": settings.database = resolve(try text(value, keyPath))
                case "reports": settings.reports = resolve(try text(value, keyPath))
                case "mapping": settings.mapping = resolve(try text(value, keyPath))
                case "portalUrl":
                    let url = try text(value, keyPath)
                    if let problem = PortalURL.problem(url) { throw fail(keyPath, problem.english) }
                    settings.portalURL = url
                case "rules": settings.rules = try readRules(value, prefix: keyPath + ".", base: settings.rules)
                case "mail": settings.mail = try readMail(value, prefix: keyPath + ".", base: settings.mail)
                case "templates":
                    guard let members = value.members else { throw fail(keyPath, "must be an object") }
                    for (kind, file) in members {
                        guard MailTemplates.Kind(rawValue: kind) != nil else {
                            throw fail("\(keyPath).\(kind)", "unknown template; known are \(MailTemplates.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
                        }
                        guard let path = file.string, !path.isEmpty else { throw fail("\(keyPath).\(kind)", "must name a file") }
                        settings.mail.templates[kind] = resolve(path)
                    }
                case "holidays":
                    guard let members = value.members else { throw fail(keyPath, "must be an object") }
                    for (name, flag) in members {
                        guard let holiday = DutchHoliday(rawValue: name) else {
                            throw fail("\(keyPath).\(name)", "unknown holiday; known are \(DutchHoliday.allCases.map(\.rawValue).joined(separator: ", "))")
                        }
                        guard let on = flag.bool else { throw fail("\(keyPath).\(name)", "must be true or false") }
                        if on { settings.holidays.enabled.insert(holiday) } else { settings.holidays.enabled.remove(holiday) }
                    }
                case "schoolHolidays": settings.schoolHolidays = try readSchoolHolidays(value, prefix: keyPath + ".")
                case "alerts": settings.alerts = try readAlerts(value, prefix: keyPath + ".", base: settings.alerts)
                case "metrics": settings.metrics = resolve(try text(value, keyPath))
                case "reportRetentionDays": settings.reportRetentionDays = try whole(value, keyPath, 1...36500)
                default: break
                }
            }
            return settings
        }

        /// `{"file": PATH or [PATH, ...], "region": "midden", "regions": {"LOC002": "zuid"}}`; an organisation's
        /// own object replaces the top-level one as a whole.
        func readSchoolHolidays(_ node: JSONNode, prefix: String) throws(Failure) -> SchoolHolidaySettings {
            guard let members = node.members else { throw fail(String(prefix.dropLast()), "must be an object with file, region and regions") }
            func region(_ value: JSONNode, _ keyPath: String) throws(Failure) -> SchoolRegion {
                guard let text = value.string, let region = SchoolRegion(rawValue: text) else {
                    throw fail(keyPath, "must be \"noord\", \"midden\" or \"zuid\"")
                }
                return region
            }
            var settings = SchoolHolidaySettings(files: [], region: nil)
            for (key, value) in members {
                let keyPath = prefix + key
                switch key {
                case "file":
                    for item in value.elements ?? [value] { settings.files.append(resolve(try text(item, keyPath))) }
                    guard !settings.files.isEmpty else { throw fail(keyPath, "must name the school-holiday file") }
                case "region": settings.region = try region(value, keyPath)
                case "regions":
                    guard let regions = value.members else { throw fail(keyPath, "must be an object: Locatiecode → region") }
                    for (location, entry) in regions {
                        guard !location.isEmpty else { throw fail(keyPath, "a Locatiecode may not be empty") }
                        settings.regions[location] = try region(entry, "\(keyPath).\(location)")
                    }
                default:
                    throw fail(keyPath, "unknown key; known: file, region, regions")
                }
            }
            guard !settings.files.isEmpty else { throw fail(prefix + "file", "required: the school-holiday file as the rijksoverheid open-data service publishes it") }
            guard settings.region != nil || !settings.regions.isEmpty else {
                throw fail(prefix + "region", "required (or regions per Locatiecode): which school-holiday region the locations are in")
            }
            return settings
        }

        func readAlerts(_ node: JSONNode, prefix: String, base: AlertSettings) throws(Failure) -> AlertSettings {
            guard let members = node.members else { throw fail(String(prefix.dropLast()), "must be an object") }
            var alerts = base
            for (key, value) in members {
                let keyPath = prefix + key
                switch key {
                case "to":
                    let list = value.elements ?? [value]
                    var addresses: [String] = []
                    for item in list {
                        guard let address = item.string, !address.unicodeScalars.contains(where: MIME.isControl),
                              MailAddress(parsing: address) != nil else {
                            throw fail(keyPath, "must be an e-mail address or a list of them")
                        }
                        addresses.append(address)
                    }
                    guard !addresses.isEmpty else { throw fail(keyPath, "must name at least one address") }
                    alerts.to = addresses
                case "onRejected":
                    guard let flag = value.bool else { throw fail(keyPath, "must be true or false") }
                    alerts.onRejected = flag
                default:
                    throw fail(keyPath, "unknown key; known: onRejected, to")
                }
            }
            return alerts
        }

        func readMail(_ node: JSONNode, prefix: String, base: MailSettings) throws(Failure) -> MailSettings {
            guard let members = node.members else { throw fail(String(prefix.dropLast()), "must be an object") }
            var mail = base
            for (key, value) in members {
                let keyPath = prefix + key
                switch key {
                case "transport":
                    let transport = try text(value, keyPath)
                    if transport.hasPrefix("maildir:") {
                        mail.transport = "maildir:" + resolve(String(transport.dropFirst("maildir:".count)))
                    } else if transport.hasPrefix("smtp://") || transport.hasPrefix("smtps://") {
                        // The reason never quotes the URL: it may hold a password.
                        do {
                            _ = try SMTPEndpoint(parsing: transport)
                        } catch {
                            throw fail(keyPath, error.reason)
                        }
                        mail.transport = transport
                    } else {
                        throw fail(keyPath, "must be maildir:DIR, smtp://host:port or smtps://host:port")
                    }
                case "from":
                    let from = try text(value, keyPath)
                    guard !from.unicodeScalars.contains(where: MIME.isControl) else {
                        throw fail(keyPath, "may not contain a line break or another control character")
                    }
                    guard MailAddress(parsing: from) != nil else { throw fail(keyPath, "must be an address, e.g. \"Kinderopvang <noreply@example.nl>\"") }
                    mail.from = from
                case "username": mail.username = try text(value, keyPath)
                case "password":
                    throw fail(keyPath, "a password is never written in the configuration; use passwordFile or OPVANGSYNC_SMTP_PASSWORD")
                case "passwordFile": mail.passwordFile = resolve(try text(value, keyPath))
                case "caFile": mail.caFile = resolve(try text(value, keyPath))
                case "maxAttempts": mail.maxAttempts = try whole(value, keyPath, 1...50)
                case "timeoutSeconds": mail.timeoutSeconds = try whole(value, keyPath, 1...600)
                case "connectTimeoutSeconds": mail.connectTimeoutSeconds = try whole(value, keyPath, 1...300)
                case "replyTimeoutSeconds": mail.replyTimeoutSeconds = try whole(value, keyPath, 1...600)
                case "batchDeadlineSeconds": mail.batchDeadlineSeconds = try whole(value, keyPath, 1...86400)
                case "returnPath":
                    let address = try text(value, keyPath)
                    guard EmailAddress.isValid(address), !address.contains("+"), address == address.trimmingCharacters(in: .whitespaces) else {
                        throw fail(keyPath, "must be a plain address without a +, e.g. \"bounces@zonnebloem.example\": each message is sent from bounces+TAG@… so that its bounce names it")
                    }
                    mail.returnPath = address.lowercased()
                case "bounces":
                    let bounces = try text(value, keyPath)
                    if bounces.hasPrefix("maildir:") {
                        let folder = String(bounces.dropFirst("maildir:".count))
                        guard !folder.isEmpty else { throw fail(keyPath, "maildir: needs a folder, e.g. maildir:/var/mail/bounces") }
                        mail.bounces = "maildir:" + resolve(folder)
                    } else if bounces.hasPrefix("imaps://") {
                        // The reason never quotes the URL: it may hold a password.
                        if let problem = IMAPSettings.problem(bounces) { throw fail(keyPath, problem) }
                        mail.bounces = bounces
                    } else {
                        throw fail(keyPath, "must be maildir:DIR or imaps://host/MAILBOX")
                    }
                case "bouncesUsername": mail.bouncesUsername = try text(value, keyPath)
                case "bouncesPasswordFile": mail.bouncesPasswordFile = resolve(try text(value, keyPath))
                default:
                    throw fail(keyPath, "unknown key; known: batchDeadlineSeconds, bounces, bouncesPasswordFile, bouncesUsername, caFile, connectTimeoutSeconds, from, maxAttempts, passwordFile, replyTimeoutSeconds, returnPath, timeoutSeconds, transport, username")
                }
            }
            return mail
        }

        func readRules(_ node: JSONNode, prefix: String, base: Rules) throws(Failure) -> Rules {
            guard let members = node.members else { throw fail(String(prefix.dropLast()), "must be an object") }
            var rules = base
            for (key, value) in members {
                let keyPath = prefix + key
                func fraction() throws(Failure) -> Double {
                    guard let number = value.double, (0...1).contains(number) else {
                        throw fail(keyPath, "must be a number from 0 to 1")
                    }
                    return number
                }
                switch key {
                case "inviteDaysBeforeStart": rules.inviteDaysBeforeStart = try whole(value, keyPath, 0...366)
                case "activationValidDays": rules.activationValidDays = try whole(value, keyPath, 1...365)
                case "attendanceHorizonDays": rules.attendanceHorizonDays = try whole(value, keyPath, 1...366)
                case "maxRemovalFraction": rules.maxRemovalFraction = try fraction()
                case "maxRemovalFractionPerLocation": rules.maxRemovalFractionPerLocation = try fraction()
                case "maxRejectedFraction": rules.maxRejectedFraction = try fraction()
                case "maxExportAgeHours":
                    guard let number = value.double, number > 0, number <= 24 * 366 else {
                        throw fail(keyPath, "must be a positive number of hours")
                    }
                    rules.maxExportAgeHours = number
                default:
                    throw fail(keyPath, "unknown rule; known: activationValidDays, attendanceHorizonDays, inviteDaysBeforeStart, maxExportAgeHours, maxRejectedFraction, maxRemovalFraction, maxRemovalFractionPerLocation")
                }
            }
            return rules
        }

        let shared: Set = ["database", "reports", "mapping", "mail", "rules", "templates", "holidays", "schoolHolidays", "portalUrl",
                           "alerts", "metrics", "reportRetentionDays"]
        defaults = try read(root, prefix: "", base: Configuration.builtIn.defaults, allowed: shared.union(["organisations"]))
        var organisations: [OrganisationSettings] = []
        if let list = root["organisations"] {
            guard let elements = list.elements else { throw fail("organisations", "must be a list") }
            for (index, element) in elements.enumerated() {
                guard element.members != nil else { throw fail("organisations[\(index)]", "must be an object") }
                let entry = try read(element, prefix: "organisations[\(index)].", base: defaults,
                                     allowed: shared.union(["id", "inbox"]))
                guard let id = entry.id else { throw fail("organisations[\(index)].id", "required key is missing") }
                guard OrganisationID.isValid(id) else {
                    throw fail("organisations[\(index)].id", "must match \(OrganisationID.rule): lower-case letters, digits, - and _")
                }
                if organisations.contains(where: { $0.id == id }) {
                    throw fail("organisations[\(index)].id", "\"\(id)\" is listed twice")
                }
                organisations.append(entry)
            }
        }
        self.organisations = organisations
        self.path = path
    }
}
