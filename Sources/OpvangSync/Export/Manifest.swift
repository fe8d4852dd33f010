import Foundation

/// The export's table of contents (SPEC §2): who made it, when, and what each file must hold.
public struct Manifest: Sendable {
    public struct File: Sendable {
        public let name: String
        public let rows: Int
        /// Absent for the entity arrays of a JSON export, which cannot hash the file that holds them.
        public let sha256: String?
    }

    public let system: String?
    public let organisationID: String
    public let organisationName: String?
    /// Where the planning system says parents log in. Never trusted as it is: the activation links start
    /// with the configured URL, else the one the first import kept (`PortalURL`, SPEC §5).
    public let portalURL: String?
    public let exportedAt: Date
    /// `exportedAt` as written in the manifest.
    public let exportedAtText: String
    public let files: [File]
    /// SHA-256 of the manifest's bytes: two runs of the same export share it ("already imported").
    public let fingerprint: String
    /// Whether files, row counts and checksums are checked against it (manifest mode `sha256`); without a
    /// manifest (`none`) only a ready marker says the export is complete.
    public var integrityVerified = true
    /// What the report must say about how the export was taken in (the integrity that was not verified,
    /// where its time came from).
    public var notes: [Issue] = []

    /// The manifest of an export that has none: who and when come from elsewhere, no file is listed.
    init(system: String?, organisationID: String, exportedAt: Date, exportedAtText: String, fingerprint: String, notes: [Issue]) {
        self.system = system
        self.organisationID = organisationID
        organisationName = nil
        portalURL = nil
        self.exportedAt = exportedAt
        self.exportedAtText = exportedAtText
        files = []
        self.fingerprint = fingerprint
        integrityVerified = false
        self.notes = notes
    }

    /// Reads a manifest node; `file` names it in errors.
    init(node: JSONNode, fingerprint: String, file: String) throws(ExportFailure) {
        func fail(_ at: JSONNode, _ message: String) -> ExportFailure {
            ExportFailure("manifest-invalid", file: file, line: at.line, column: at.column, message: message)
        }
        guard node.members != nil else { throw fail(node, "het manifest moet een JSON-object zijn") }
        guard let organisation = node["organisation"], organisation.members != nil else {
            throw fail(node, "het manifest mist \"organisation\"")
        }
        guard let idNode = organisation["id"], let id = idNode.scalarText, !id.isEmpty else {
            throw fail(organisation, "het manifest mist \"organisation.id\"")
        }
        // The id becomes part of folder names: a plain identifier, never a path.
        guard OrganisationID.isValid(id) else {
            throw fail(idNode, "\"organisation.id\" (\(OrganisationID.shown(id))) is geen geldige organisatiecode: alleen kleine letters, cijfers, - en _, beginnend met een letter of cijfer, hoogstens 64 tekens")
        }
        let name = organisation["name"]?.string
        if let name, name.unicodeScalars.contains(where: { TextSafety.isControl($0) }) {
            throw fail(organisation, "\"organisation.name\" bevat stuurtekens (zoals een regeleinde); die naam komt in de afzender van mail")
        }
        guard let exportedAtNode = node["exportedAt"], let exportedAtText = exportedAtNode.string else {
            throw fail(node, "het manifest mist \"exportedAt\"")
        }
        guard let exportedAt = Manifest.parseTimestamp(exportedAtText) else {
            throw fail(exportedAtNode, "\"exportedAt\" is geen ISO-8601-tijdstip met tijdzone: \(exportedAtText)")
        }
        var files: [File] = []
        if let filesNode = node["files"] {
            guard let elements = filesNode.elements else { throw fail(filesNode, "\"files\" moet een lijst zijn") }
            for element in elements {
                guard let name = element["name"]?.string, !name.isEmpty else {
                    throw fail(element, "een bestand in het manifest mist \"name\"")
                }
                if let problem = Manifest.fileNameProblem(name) {
                    throw fail(element["name"] ?? element, "bestandsnaam \"\(OrganisationID.shown(name))\" in het manifest is geen gewone bestandsnaam: \(problem)")
                }
                if files.contains(where: { $0.name == name }) {
                    throw fail(element, "het manifest noemt \(name) twee keer")
                }
                guard let rows = element["rows"]?.int, rows >= 0 else {
                    throw fail(element, "\"rows\" van \(name) ontbreekt of is geen geheel getal")
                }
                let sha = element["sha256"]?.string?.lowercased()
                if let sha, sha.count != 64 || !sha.allSatisfy(\.isHexDigit) {
                    throw fail(element, "\"sha256\" van \(name) is geen SHA-256 in hex")
                }
                files.append(File(name: name, rows: rows, sha256: sha))
            }
        }
        system = node["system"]?.string
        organisationID = id
        organisationName = name
        portalURL = organisation["portalUrl"]?.string
        self.exportedAt = exportedAt
        self.exportedAtText = exportedAtText
        self.files = files
        self.fingerprint = fingerprint
    }

    /// Why `name` cannot be a file of the export, or nil: a listed name is a plain file name inside the
    /// export folder, never a path.
    static func fileNameProblem(_ name: String) -> String? {
        if name.unicodeScalars.contains(where: TextSafety.isControl) {
            return "de naam bevat stuurtekens"
        }
        if name.contains("/") { return "de naam bevat een / (een map)" }
        if name.contains("\\") { return "de naam bevat een \\" }
        if name.contains("..") { return "de naam bevat .." }
        if name.hasPrefix(".") { return "de naam begint met een punt (een verborgen bestand)" }
        if name.utf8.count > 255 { return "de naam is langer dan 255 tekens" }
        return nil
    }

    /// ISO 8601 with a zone (`2026-11-21T23:15:00+01:00`, `...Z`), with or without fractional seconds, and
    /// nothing else: the whole text must match, the date must exist, hours run to 23 and the offset to
    /// ±14:00. (Foundation's parser ignores trailing text, so a manifest could smuggle lines into a report
    /// or an alert behind a date it accepts.)
    static func parseTimestamp(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        var index = 0
        func number(_ width: Int) -> Int? {
            guard index + width <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[index..<(index + width)] {
                guard byte &- 0x30 < 10 else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            index += width
            return value
        }
        func expect(_ character: Character) -> Bool {
            guard index < bytes.count, bytes[index] == character.asciiValue else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2),
              expect("T"), let hour = number(2), expect(":"), let minute = number(2), expect(":"), let second = number(2),
              Day(year: year, month: month, day: day) != nil, hour <= 23, minute <= 59, second <= 59 else { return nil }
        var fraction = 0.0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            var scale = 0.1
            let start = index
            while index < bytes.count, bytes[index] &- 0x30 < 10, index - start < 9 {
                fraction += Double(bytes[index] - 0x30) * scale
                scale /= 10
                index += 1
            }
            guard index > start else { return nil }
        }
        var offset = 0
        if expect("Z") {
            offset = 0
        } else {
            guard index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") else { return nil }
            let sign = bytes[index] == UInt8(ascii: "-") ? -1 : 1
            index += 1
            guard let hours = number(2), expect(":"), let minutes = number(2), minutes <= 59, hours * 60 + minutes <= 14 * 60 else { return nil }
            offset = sign * (hours * 3600 + minutes * 60)
        }
        guard index == bytes.count, let date = Day(year: year, month: month, day: day) else { return nil }
        let days: Int = date.dayNumber  // days since 1970-01-01
        let clock: Int = hour * 3600 + minute * 60 + second - offset
        let seconds: Double = Double(days * 86_400 + clock) + fraction
        return Date(timeIntervalSince1970: seconds)
    }
}
