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
    /// Where parents log in; activation links start with it.
    public let portalURL: String
    public let exportedAt: Date
    /// `exportedAt` as written in the manifest.
    public let exportedAtText: String
    public let files: [File]
    /// SHA-256 of the manifest's bytes: two runs of the same export share it ("already imported").
    public let fingerprint: String

    /// Reads a manifest node; `file` names it in errors.
    init(node: JSONNode, fingerprint: String, file: String) throws(ExportFailure) {
        func fail(_ at: JSONNode, _ message: String) -> ExportFailure {
            ExportFailure("manifest-invalid", file: file, line: at.line, column: at.column, message: message)
        }
        guard node.members != nil else { throw fail(node, "het manifest moet een JSON-object zijn") }
        guard let organisation = node["organisation"], organisation.members != nil else {
            throw fail(node, "het manifest mist \"organisation\"")
        }
        guard let id = organisation["id"]?.scalarText, !id.isEmpty else {
            throw fail(organisation, "het manifest mist \"organisation.id\"")
        }
        guard let portal = organisation["portalUrl"]?.string, portal.hasPrefix("https://") || portal.hasPrefix("http://"),
              URLComponents(string: portal)?.host != nil else {
            throw fail(organisation, "het manifest mist een geldige \"organisation.portalUrl\" (https://...): activatielinks beginnen ermee")
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
                guard let name = element["name"]?.string, !name.isEmpty,
                      !name.contains("/"), !name.hasPrefix(".") else {
                    throw fail(element, "een bestand in het manifest mist een geldige \"name\"")
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
        organisationName = organisation["name"]?.string
        portalURL = portal
        self.exportedAt = exportedAt
        self.exportedAtText = exportedAtText
        self.files = files
        self.fingerprint = fingerprint
    }

    /// ISO 8601 with a zone (`2026-11-21T23:15:00+01:00`, `...Z`), with or without fractional seconds.
    static func parseTimestamp(_ text: String) -> Date? {
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        if let date = plain.date(from: text) { return date }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: text)
    }
}
