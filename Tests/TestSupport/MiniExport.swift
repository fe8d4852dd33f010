import Foundation
import OpvangSync

/// A small export written to a temporary folder: every file of the default mapping, UTF-8, `;`.
public struct MiniExport {
    public var files: [String: [String]] = [
        "locaties.csv": ["Locatiecode;Naam", "L1;De Zonnebloem"],
        "groepen.csv": ["Groepcode;Locatiecode;Naam;Opvangsoort;Capaciteit", "G1;L1;Egeltjes;KDV;12", "G2;L1;Uilen;BSO;20"],
        "medewerkers.csv": ["Medewerkernummer;Voornaam;Achternaam;Groepcodes", "M1;Anne;Bakker;G1|G2"],
        "kinderen.csv": ["Kindnummer;Roepnaam;Tussenvoegsel;Achternaam;Geboortedatum;Mentor",
                         "K1;Zoë;van;Dijk;03-02-2024;M1", "K2;Daan;;Smit;15-06-2019;M1", "K3;Noël;de;Vries;01-01-2023;"],
        "ouders.csv": ["Oudernummer;Voornaam;Achternaam;E-mail;E-mail 2",
                       "O1;Marieke;Dijk;marieke@example.nl;", "O2;Joost;Smit;joost@example.nl;", "O3;Inge;Vries;;inge@example.nl"],
        "relaties.csv": ["Kindnummer;Oudernummer;Rol", "K1;O1;Ouder 1", "K2;O2;Ouder 1", "K3;O3;Ouder 1"],
        "plaatsingen.csv": ["Plaatsingsnummer;Kindnummer;Groepcode;Opvangsoort;Contractsoort;Ingangsdatum;Einddatum;Maandag;Dinsdag;Weken",
                            "P1;K1;G1;KDV;52 weken;01-09-2025;;07:30-18:00;07:30-18:00;",
                            "P2;K2;G2;BSO;Schoolweken;01-09-2025;;14:00-18:30;;even",
                            "P3;K3;G1;KDV;52 weken;01-01-2026;;;08:00-17:00;"],
        "afwijkingen.csv": ["Kindnummer;Groepcode;Datum;Soort;Van;Tot;Omschrijving", "K1;G1;24-11-2026;Afwezig;;;ziek"],
        "kalender.csv": ["Van;Tot;Soort;Locatiecode;Omschrijving", "19-12-2026;03-01-2027;Schoolvakantie;;Kerstvakantie"],
    ]
    /// Files given as raw bytes (another encoding, a broken byte): these win over `files`.
    public var raw: [String: [UInt8]] = [:]
    public var exportedAt = "2026-11-21T23:40:00+01:00"
    public var organisation = "mini"
    /// The organisation's name in the manifest (untrusted text: it ends up in mail).
    public var organisationName = "Mini"
    public var portalURL = "https://mini.example"

    public init() {}

    public subscript(file: String) -> [String] {
        get { files[file] ?? [] }
        set { files[file] = newValue }
    }

    /// Writes the files (LF line ends) and a manifest that matches them.
    @discardableResult
    public func write(to folder: URL) throws -> URL {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var listed: [[String: Any]] = []
        let names = Set(files.keys).union(raw.keys).sorted()
        for name in names {
            let bytes = raw[name] ?? Array(((files[name] ?? []).joined(separator: "\n") + "\n").utf8)
            try Data(bytes).write(to: folder.appendingPathComponent(name))
            var rows = -1
            try CSVReader.read(bytes, delimiter: UInt8(ascii: ";"), file: name) { _ in rows += 1 }
            listed.append(["name": name, "rows": rows, "sha256": SHA256.hex(of: bytes)])
        }
        let manifest: [String: Any] = [
            "system": "test", "organisation": ["id": organisation, "name": organisationName, "portalUrl": portalURL],
            "exportedAt": exportedAt, "files": listed,
        ]
        try JSONSerialization.data(withJSONObject: manifest, options: [.sortedKeys]).write(to: folder.appendingPathComponent("manifest.json"))
        return folder
    }
}

/// A new folder of its own for a test, removed when the test process exits (a crash test's is 100 MB, and a run
/// of the suite makes hundreds). With `OPVANGSYNC_KEEP_TEST_FILES` set they are kept, to look at what a
/// failing test left.
public func temporaryFolder(_ name: String = "t") -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("opvangsync-\(name)-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    TemporaryFolders.shared.add(url)
    return url
}

/// The folders `temporaryFolder` made in this process.
private final class TemporaryFolders: @unchecked Sendable {
    static let shared: TemporaryFolders = {
        let folders = TemporaryFolders()
        if ProcessInfo.processInfo.environment["OPVANGSYNC_KEEP_TEST_FILES"] == nil {
            atexit { TemporaryFolders.shared.removeAll() }
        }
        return folders
    }()

    private let lock = NSLock()
    private var folders: [URL] = []

    func add(_ folder: URL) { lock.withLock { folders.append(folder) } }

    func removeAll() {
        for folder in lock.withLock({ folders }) {
            try? FileManager.default.removeItem(at: folder)
        }
    }
}


/// One night: `export` as made that night (01:00 on `asOf`), imported for `asOf` in `folder`; the run's
/// result and its JSON report.
public func night(_ export: MiniExport, _ asOf: String, in folder: URL, _ extra: [String] = []) throws -> (ProcessResult, [String: Any]) {
    var copy = export
    copy.exportedAt = "\(asOf)T01:00:00+01:00"
    let path = try copy.write(to: folder.appendingPathComponent("export-\(asOf)-\(UUID().uuidString)"))
    let result = try opvangsync(["import", path.path, "--as-of", asOf] + extra, in: folder)
    return (result, try reportJSON(of: result, in: folder))
}
