import Foundation

/// An organisation's inbox: one folder per export, as the planning system drops them.
public struct Inbox: Sendable {
    public let path: String
    /// The mapping the organisation's exports are read with; nil: whichever built-in mapping finds a manifest.
    public let mapping: Mapping?
    /// Whose inbox it is: what an export without a manifest (manifest mode `none`) does not say itself.
    public let organisation: String?

    public init(path: String, mapping: Mapping? = nil, organisation: String? = nil) {
        self.path = path
        self.mapping = mapping
        self.organisation = organisation
    }

    /// What the inbox holds: the export to import, and the folders passed over that customer service must
    /// hear of.
    public struct Choice: Sendable {
        /// The newest complete export, nil when there is none.
        public var newest: String?
        /// Folders newer than `newest` whose manifest is missing, broken or still arriving (files it lists
        /// are not there yet), with why, in Dutch.
        public var passedOver: [(folder: String, why: String)] = []
    }

    /// The newest complete export: the newest folder (by the manifest's `exportedAt`) whose manifest
    /// parses and whose listed files are all present (without a manifest: whose ready marker is there, with
    /// every file the mapping reads). A folder still being uploaded is passed over, and
    /// named in `passedOver` when it is newer (by its modification time) than the export chosen.
    public func newestExport() -> String? { choose().newest }

    public func choose() -> Choice {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { return Choice() }
        var best: (date: Date, path: String, modified: Date)?
        var incomplete: [(folder: String, why: String, modified: Date)] = []
        for name in names.sorted() where !name.hasPrefix(".") {
            let folder = (path as NSString).appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else { continue }
            let modified = (try? FileManager.default.attributesOfItem(atPath: folder)[.modificationDate] as? Date) ?? .distantPast
            var why = mapping?.manifestMode == Mapping.ManifestMode.none ? "er staat geen gereed-bestand (\(mapping?.manifest ?? "")) in" : "er staat geen manifest in"
            let mappings = mapping.map { [$0] } ?? BuiltInMapping.all.compactMap { try? $0.mapping() }
            for mapping in mappings {
                let source: ExportSource = exportSource(in: folder, mapping: mapping, organisation: organisation)
                let manifest: Manifest
                do {
                    manifest = try source.loadManifest()
                } catch {
                    if error.issue.code != "file-missing" && error.issue.code != "ready-marker-missing" {
                        why = "\(mapping.manifestMode == .none ? "het gereed-bestand" : "het manifest") is onleesbaar (\(error.issue.message))"
                    }
                    continue
                }
                let missing = mapping.manifestMode == .none
                    ? ReadyMarker.verify(source).compactMap(\.file)
                    : manifest.files.filter { file in
                        file.sha256 != nil && !FileManager.default.fileExists(atPath: (folder as NSString).appendingPathComponent(file.name))
                    }.map(\.name)
                if manifest.exportedAt > Date().addingTimeInterval(24 * 3600) {
                    // A folder dated far ahead would win every night and be refused every night: passed over.
                    why = "\(mapping.manifestMode == .none ? "het gereed-bestand" : "het manifest") zegt dat de export is gemaakt op \(manifest.exportedAtText), meer dan een dag in de toekomst"
                } else if missing.isEmpty {
                    if best.map({ manifest.exportedAt > $0.date }) ?? true { best = (manifest.exportedAt, folder, modified) }
                    why = ""
                } else {
                    why = mapping.manifestMode == .none
                        ? "het gereed-bestand staat er, maar deze bestanden (nog) niet: \(missing.joined(separator: ", "))"
                        : "het manifest noemt bestanden die er (nog) niet zijn: \(missing.joined(separator: ", "))"
                }
                break
            }
            if !why.isEmpty { incomplete.append((folder, why, modified)) }
        }
        var choice = Choice(newest: best?.path)
        choice.passedOver = incomplete.filter { entry in best.map { entry.modified > $0.modified } ?? true }
            .map { ($0.folder, $0.why) }
        return choice
    }
}
