import Foundation
import OpvangSync
import PortalStore
import TestSupport
import Testing

/// SPEC §5: "a crash or kill at any moment leaves the portal as it was, and the next run succeeds".
@Suite(.serialized) struct CrashSafetyTests {
    /// Starts an import and sends SIGKILL the moment its progress output shows `trigger`.
    /// Returns true when the process died of the kill (not of finishing first).
    func importKilled(at trigger: String, export: String, in folder: URL) throws -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Package.binary("opvangsync"))
        process.arguments = ["import", export, "--as-of", "2026-11-22", "--allow-mass-changes", "--reason", "crash test"]
        process.currentDirectoryURL = folder
        var environment = ProcessInfo.processInfo.environment
        environment["OPVANGSYNC_PROGRESS"] = "1"
        process.environment = environment
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        var seen = ""
        let handle = pipe.fileHandleForReading
        while true {
            let data = handle.availableData
            if data.isEmpty { break }
            seen += String(decoding: data, as: UTF8.self)
            if seen.contains(trigger) {
                kill(process.processIdentifier, SIGKILL)
                break
            }
        }
        process.waitUntilExit()
        return process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL
    }

    @Test func aKillAtAnyMomentLeavesThePortalAsItWasAndTheNextRunSucceeds() throws {
        let folder = temporaryFolder("kill")
        try exportgen(["--children", "300", "--seed", "6", "--out", "before"], in: folder)
        try exportgen(["--children", "6000", "--seed", "5", "--out", "large"], in: folder)
        let large = folder.appendingPathComponent("large").path
        let first = try opvangsync(["import", "before", "--as-of", "2026-11-22"], in: folder)
        #expect(first.status == 0, "\(first.stderr)")
        let portal = folder.appendingPathComponent("portal.sqlite").path
        let before = try portalContents(portal)

        // What a complete run of the large export gives, on a copy.
        let reference = folder.appendingPathComponent("reference")
        try FileManager.default.createDirectory(at: reference, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: portal, toPath: reference.appendingPathComponent("portal.sqlite").path)
        let complete = try opvangsync(["import", large, "--as-of", "2026-11-22", "--allow-mass-changes", "--reason", "reference"], in: reference)
        #expect(complete.status == 0, "\(complete.stderr)")
        let after = try portalContents(reference.appendingPathComponent("portal.sqlite").path)
        #expect(after != before)

        let moments = ["lezen 44%", "vergelijken met het portaal", "toepassen…", "toepassen 26%", "toepassen 53%",
                       "toepassen 80%", "toepassen 100%"]
        var killedBeforeCommit = 0
        for moment in moments {
            let killed = try importKilled(at: moment, export: large, in: folder)
            let database = try Database(path: portal)
            #expect(try database.integrityCheck() == "ok", "after a kill at \(moment)")
            let contents = try portalContents(portal)
            if moment == "toepassen 100%" {
                // The last progress line comes just before COMMIT: either outcome is whole.
                #expect(contents == before || contents == after, "a kill at \(moment) left a half-applied portal")
            } else {
                #expect(killed, "the run finished before the kill at \(moment)")
                #expect(contents == before, "a kill at \(moment) changed the portal")
                if contents == before { killedBeforeCommit += 1 }
            }
            if contents == after { break }
        }
        #expect(killedBeforeCommit >= 6)

        let next = try opvangsync(["import", large, "--as-of", "2026-11-22", "--allow-mass-changes", "--reason", "after the kills"], in: folder)
        #expect([0, 4].contains(next.status), "\(next.stderr)")
        #expect(try portalContents(portal) == after)
        // The runs killed inside their transaction left their staged report files (personal data under
        // temporary names, which no retention sees); the next run removed them.
        let reports = folder.appendingPathComponent("reports").path
        let left = (FileManager.default.enumerator(atPath: reports)?.compactMap { $0 as? String } ?? []).filter { $0.contains(".tmp-") }
        #expect(left.isEmpty, "\(left)")
    }
}
