import Foundation
import Testing

/// The portal is changed in one place (SPEC §5: a run's writes land together or not at all, and only what
/// `PortalWriter` does can be in that transaction): every statement that changes it lives in
/// `Sources/OpvangSync/Apply` (the writer) or `Sources/PortalStore` (the schema's migrations), and the
/// command line reaches the database only through the library's purpose-named API.
@Suite struct PortalOwnershipTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The Swift files under `folder`, by their path relative to the package root, with their text.
    static func sources(under folder: String) throws -> [(path: String, text: String)] {
        let base = root.appendingPathComponent(folder)
        guard let walker = FileManager.default.enumerator(atPath: base.path) else { return [] }
        var files: [(String, String)] = []
        for case let name as String in walker where name.hasSuffix(".swift") {
            let text = try String(contentsOf: base.appendingPathComponent(name), encoding: .utf8)
            files.append((folder + "/" + name, text))
        }
        return files.sorted { $0.0 < $1.0 }
    }

    /// The text without its line comments: prose about a statement is not one.
    static func code(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("//") }
            .joined(separator: "\n")
    }

    static func matches(_ pattern: String, in text: String) -> [String] {
        guard let expression = try? NSRegularExpression(pattern: pattern) else { return ["bad pattern \(pattern)"] }
        let range = NSRange(text.startIndex..., in: text)
        return expression.matches(in: text, range: range).compactMap { Range($0.range, in: text).map { String(text[$0]) } }
    }

    /// SQL that changes rows: upper case, as every statement in this code base is written.
    static let changingSQL = #"\bINSERT\s+(OR\s+\w+\s+)?INTO\b|\bREPLACE\s+INTO\b|\bUPDATE\s+\S+\s+SET\b|\bDELETE\s+FROM\b"#

    @Test func thePatternFindsEveryFormOfAChange() {
        for statement in ["INSERT INTO runs (id) VALUES (?)", "INSERT OR IGNORE INTO t VALUES (1)", "REPLACE INTO t VALUES (1)",
                          "UPDATE outbox SET status = ?", "UPDATE \\(schema.table) SET x = ?", "DELETE FROM accounts WHERE x",
                          "\"\"\"\n    UPDATE outbox\n    SET status = 'bounced'"] {
            #expect(!Self.matches(Self.changingSQL, in: statement).isEmpty, "\(statement)")
        }
        for prose in ["the update of a record", "replacingOccurrences(of:)", "SELECT id FROM outbox", "Updates the hash"] {
            #expect(Self.matches(Self.changingSQL, in: prose).isEmpty, "\(prose)")
        }
    }

    @Test func onlyTheWriterAndTheSchemaChangeThePortal() throws {
        var offenders: [String] = []
        for (path, text) in try Self.sources(under: "Sources") {
            if path.hasPrefix("Sources/OpvangSync/Apply/") || path.hasPrefix("Sources/PortalStore/") { continue }
            for statement in Self.matches(Self.changingSQL, in: Self.code(text)) {
                offenders.append("\(path): \(statement.replacingOccurrences(of: "\n", with: " "))")
            }
        }
        #expect(offenders.isEmpty, "statements that change the portal belong in a PortalWriter extension:\n\(offenders.joined(separator: "\n"))")
    }

    @Test func theCommandLineDoesNotReachIntoTheDatabase() throws {
        var offenders: [String] = []
        for (path, text) in try Self.sources(under: "Sources/opvangsync") {
            let code = Self.code(text)
            for line in Self.matches(#"(?m)^.*\bimport\b.*\bPortalStore\b.*$"#, in: code) {
                offenders.append("\(path): \(line.trimmingCharacters(in: .whitespaces))")
            }
            // `settings.database` is the configured path; any other `.database` is a connection.
            for line in code.split(separator: "\n") where line.contains(".database") {
                let uses = Self.matches(#"\.database\b"#, in: String(line)).count
                let paths = Self.matches(#"\bsettings(\([^()]*\))?\s*\.database\b"#, in: String(line)).count
                if uses > paths { offenders.append("\(path): \(line.trimmingCharacters(in: .whitespaces))") }
            }
        }
        #expect(offenders.isEmpty, "the command line goes through PortalRepository, Importer and the other public API, never the database itself:\n\(offenders.joined(separator: "\n"))")
    }

    @Test func theLibraryHandsOutNoConnection() throws {
        var offenders: [String] = []
        for (path, text) in try Self.sources(under: "Sources/OpvangSync") {
            for declaration in Self.matches(#"\b(public|open)\s+(let|var)\s+\w+\s*:\s*Database\??"#, in: Self.code(text)) {
                offenders.append("\(path): \(declaration)")
            }
        }
        #expect(offenders.isEmpty, "a connection to the portal stays inside OpvangSync:\n\(offenders.joined(separator: "\n"))")
    }
}
