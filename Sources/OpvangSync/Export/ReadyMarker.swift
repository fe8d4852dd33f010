import Foundation

/// An export without a manifest (manifest mode `none`, SPEC §3): a ready-marker file says the planning system
/// finished writing it. Row counts and checksums are not checked; the report says so. The time of the
/// export is the marker's contents when they are an ISO-8601 time, else its modification time.
enum ReadyMarker {
    /// A marker holds a time, or nothing; more than this is no marker.
    static let maxBytes: Int64 = 64 * 1024

    /// The manifest of `source`'s export: its organisation from the configuration, its time from the marker.
    static func manifest(of source: ExportSource) throws(ExportFailure) -> Manifest {
        let name = source.mapping.manifest
        let marker: (bytes: [UInt8], info: stat)
        do {
            marker = try source.opened(name, limit: maxBytes)
        } catch where error.issue.code == "file-missing" {
            throw ExportFailure("ready-marker-missing", file: name, message:
                "het gereed-bestand ontbreekt: het planningssysteem is nog niet klaar met deze export, of zet het bestand niet neer (de mapping noemt het bij \(Mapping.keyPath(["manifest", "readyMarker"])))")
        }
        guard let organisation = source.organisation, OrganisationID.isValid(organisation) else {
            throw ExportFailure("organisation-unknown", file: name, message:
                "een export zonder manifest zegt niet van welke organisatie hij is; noem de organisatie in de configuratie of met --org")
        }
        var notes = [Issue(.info, "integrity-not-verified", file: name, message:
            "de export heeft geen manifest met aantallen regels en controlegetallen; of hij volledig en ongeschonden is, is niet gecontroleerd (de controles op afgewezen regels en op te veel beëindigingen gelden wel)")]
        let exportedAt: Date
        let exportedAtText: String
        let content = String(decoding: marker.bytes, as: UTF8.self).trimmingUnicodeSpace
        if let date = timestamp(content) {
            exportedAt = date
            exportedAtText = content
        } else {
            let modified = marker.info.st_mtim
            exportedAt = Date(timeIntervalSince1970: Double(modified.tv_sec) + Double(modified.tv_nsec) / 1e9)
            exportedAtText = Timestamp.iso(exportedAt)
            // The contents are not shown: they are the export's, and may be anything.
            notes.append(Issue(.info, "ready-marker-time", file: name, message: content.isEmpty
                ? "het gereed-bestand is leeg; als moment van de export geldt de wijzigingstijd van het bestand (\(exportedAtText))"
                : "het gereed-bestand bevat geen ISO-8601-tijdstip; als moment van de export geldt de wijzigingstijd van het bestand (\(exportedAtText))"))
        }
        return Manifest(system: source.mapping.name, organisationID: organisation, exportedAt: exportedAt, exportedAtText: exportedAtText,
                        fingerprint: fingerprint(of: source, marker: marker.bytes), notes: notes)
    }

    /// `2026-11-21T23:40:00+01:00` or `...Z` (with or without fractions), or the same without a zone, which
    /// is a time in Europe/Amsterdam (a space may stand for the `T`). Nil for anything else.
    static func timestamp(_ text: String) -> Date? {
        guard text.utf8.count <= 40 else { return nil }
        if let zoned = Manifest.parseTimestamp(text) { return zoned }
        var local = text
        if local.utf8.count > 10, Array(local.utf8)[10] == UInt8(ascii: " ") {
            local = String(local.prefix(10)) + "T" + String(local.dropFirst(11))
        }
        // Read as if it were UTC, then placed in Amsterdam's clock of that day (summer or winter time).
        guard let asUTC = Manifest.parseTimestamp(local + "Z"), let amsterdam = TimeZone(identifier: "Europe/Amsterdam") else { return nil }
        var utc = Calendar(identifier: .gregorian)
        utc.timeZone = TimeZone(identifier: "UTC") ?? utc.timeZone
        var parts = utc.dateComponents([.year, .month, .day, .hour, .minute, .second, .nanosecond], from: asUTC)
        parts.timeZone = amsterdam
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = amsterdam
        return calendar.date(from: parts)
    }

    /// What makes two runs of one export the same: the marker's contents, and the name, size, modification
    /// time and inode of every file the mapping reads (a new export rewrites them). Nothing is hashed whole:
    /// an inbox of many large exports is looked through without reading them.
    static func fingerprint(of source: ExportSource, marker: [UInt8]) -> String {
        var text: [UInt8] = Array("opvangsync ready marker\n".utf8) + Array(source.mapping.manifest.utf8) + [0] + marker + [0]
        for name in dataFiles(source.mapping) {
            var info = stat()
            let path = (source.directory as NSString).appendingPathComponent(name)
            guard lstat(path, &info) == 0 else { text += Array("\(name) absent\n".utf8); continue }
            text += Array("\(name) \(info.st_size) \(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec) \(info.st_ino)\n".utf8)
        }
        return SHA256.hex(of: text)
    }

    /// The files the mapping reads, each once, in a fixed order.
    static func dataFiles(_ mapping: Mapping) -> [String] {
        mapping.format == .json ? [mapping.exportFile ?? "export.json"] : Set(mapping.entities.values.map(\.name)).sorted()
    }

    /// With the marker there, every file the mapping reads must be there too, as a regular file: otherwise
    /// the export is incomplete and nothing is applied.
    static func verify(_ source: ExportSource) -> [Issue] {
        var issues: [Issue] = []
        for name in dataFiles(source.mapping) {
            if let problem = Manifest.fileNameProblem(name) {
                issues.append(Issue(.error, "file-not-plain", file: OrganisationID.shown(name), message: "geen gewone bestandsnaam: \(problem)"))
                continue
            }
            var info = stat()
            let path = (source.directory as NSString).appendingPathComponent(name)
            guard lstat(path, &info) == 0 else {
                issues.append(Issue(.error, "file-missing", file: name, message:
                    "de mapping leest dit bestand, maar het ontbreekt in de export, terwijl het gereed-bestand \(source.mapping.manifest) er wel is; de export is onvolledig"))
                continue
            }
            if let kind = ExportFileKind(mode: info.st_mode).problem {
                issues.append(Issue(.error, "file-not-regular", file: name, message: "dit is geen gewoon bestand maar \(kind); het wordt niet gelezen"))
            }
        }
        return issues
    }
}
