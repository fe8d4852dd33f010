import Foundation

/// An organisation's inbox: one folder per export, as the planning system drops them.
public struct Inbox: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    /// The newest complete export: the newest folder (by the manifest's `exportedAt`) whose manifest
    /// parses and whose listed files are all present. A folder still being uploaded is passed over.
    public func newestExport() -> String? {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { return nil }
        var best: (date: Date, path: String)?
        for name in names where !name.hasPrefix(".") {
            let folder = (path as NSString).appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else { continue }
            for builtIn in BuiltInMapping.all {
                guard let mapping = try? builtIn.mapping() else { continue }
                let source: ExportSource = mapping.format == .csv
                    ? CSVExportSource(directory: folder, mapping: mapping)
                    : JSONExportSource(directory: folder, mapping: mapping)
                guard let manifest = try? source.loadManifest() else { continue }
                let complete = manifest.files.allSatisfy { file in
                    file.sha256 == nil || FileManager.default.fileExists(atPath: (folder as NSString).appendingPathComponent(file.name))
                }
                if complete, best.map({ manifest.exportedAt > $0.date }) ?? true {
                    best = (manifest.exportedAt, folder)
                }
                break
            }
        }
        return best?.path
    }
}
