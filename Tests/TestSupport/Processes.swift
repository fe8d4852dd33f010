import Foundation
import OpvangSync
import PortalStore

/// What a finished child process left behind.
public struct ProcessResult: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String

    /// The last line of stdout: opvangsync's one-line summary.
    public var summary: String { stdout.split(separator: "\n").last.map(String.init) ?? "" }
}

public enum Package {
    /// The package root, found from this file's place in the tree.
    public static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// A built executable of this package: next to the test bundle, else in `.build/debug`.
    ///
    /// `OPVANGSYNC_TEST_BINARIES` names another folder of built executables: the same tests run against
    /// an older build, to watch a new test fail before its fix.
    public static func binary(_ name: String) -> String {
        if let folder = ProcessInfo.processInfo.environment["OPVANGSYNC_TEST_BINARIES"], !folder.isEmpty {
            return URL(fileURLWithPath: folder).appendingPathComponent(name).path
        }
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(name)
        if FileManager.default.isExecutableFile(atPath: beside.path) { return beside.path }
        return root.appendingPathComponent(".build/debug/\(name)").path
    }

    public static func sample(_ name: String) -> String {
        root.appendingPathComponent("sample-exports/\(name)").path
    }
}

/// Runs a program to completion. Output goes through temporary files, so a chatty child can never
/// block on a full pipe while the test waits for it.
@discardableResult
public func runProcess(_ executable: String, _ arguments: [String], in directory: URL,
                       environment: [String: String] = [:]) throws -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.currentDirectoryURL = directory
    var env = ProcessInfo.processInfo.environment
    for (key, value) in environment { env[key] = value }
    process.environment = env
    let outURL = directory.appendingPathComponent(".out-\(UUID().uuidString)")
    let errURL = directory.appendingPathComponent(".err-\(UUID().uuidString)")
    _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    try out.close()
    try err.close()
    defer {
        try? FileManager.default.removeItem(at: outURL)
        try? FileManager.default.removeItem(at: errURL)
    }
    return ProcessResult(status: process.terminationStatus,
                         stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
                         stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
}

/// `opvangsync ARGS` in `directory`.
@discardableResult
public func opvangsync(_ arguments: [String], in directory: URL, environment: [String: String] = [:]) throws -> ProcessResult {
    try runProcess(Package.binary("opvangsync"), arguments, in: directory, environment: environment)
}

/// `exportgen ARGS` in `directory`.
@discardableResult
public func exportgen(_ arguments: [String], in directory: URL) throws -> ProcessResult {
    try runProcess(Package.binary("exportgen"), arguments, in: directory)
}

/// The report JSON a run wrote, found from its stdout.
public func reportJSON(of result: ProcessResult, in directory: URL) throws -> [String: Any] {
    guard let line = result.stdout.split(separator: "\n").first(where: { $0.hasSuffix(".json") }) else {
        throw ReportMissing(stdout: result.stdout, stderr: result.stderr)
    }
    let path = line.split(separator: " ").last.map(String.init) ?? ""
    let url = path.hasPrefix("/") ? URL(fileURLWithPath: path) : directory.appendingPathComponent(path)
    return try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any] ?? [:]
}

public struct ReportMissing: Error, CustomStringConvertible {
    public let stdout: String
    public let stderr: String
    public var description: String { "no report path in stdout:\n\(stdout)\nstderr:\n\(stderr)" }
}

/// Every imported table's rows, in key order, without the run ids: what two portals must agree on.
public func portalContents(_ path: String) throws -> [String: [String]] {
    let database = try Database(path: path, mode: .readOnly)
    var result: [String: [String]] = [:]
    for kind in EntityKind.allCases {
        let schema = kind.schema
        let columns = (["key"] + schema.fields.map(\.column) + ["status", "status_since"]).joined(separator: ", ")
        result[schema.table] = try database.query("SELECT \(columns) FROM \(schema.table) ORDER BY key") { row in
            (0..<row.count).map { row.string($0) ?? "∅" }.joined(separator: "|")
        }
    }
    return result
}

/// The bytes of a database file and its WAL, for "unchanged to the byte" checks.
public func databaseBytes(_ path: String) -> [String: Data] {
    var files: [String: Data] = [:]
    for suffix in ["", "-wal"] {
        if let data = FileManager.default.contents(atPath: path + suffix) { files[suffix] = data }
    }
    return files
}
