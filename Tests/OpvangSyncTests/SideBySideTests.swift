import Foundation
import Testing
@testable import OpvangSync

@Suite struct SideBySideTests {
    struct Failure: Error, Equatable { let which: String }

    @Test func bothResultsComeBackAndTheCallersPartStaysOnItsThread() throws {
        let caller = Thread.current
        var sameThread = false
        let (sum, text) = try sideBySide({ (1...1000).reduce(0, +) }, { () -> String in
            sameThread = Thread.current == caller
            return "hier"
        })
        #expect(sum == 500_500)
        #expect(text == "hier")
        #expect(sameThread)
    }

    @Test func aFailureOnEitherSideIsThrownAfterBothFinished() {
        let finished = Flag()
        #expect(throws: Failure(which: "here")) {
            _ = try sideBySide({ Thread.sleep(forTimeInterval: 0.05); finished.set(); return 1 }, { () -> Int in throw Failure(which: "here") })
        }
        #expect(finished.isSet, "the background work ended before the error was thrown")
        #expect(throws: Failure(which: "background")) {
            _ = try sideBySide({ () throws -> Int in throw Failure(which: "background") }, { 2 })
        }
    }

    final class Flag: @unchecked Sendable {
        private let lock = NSLock()
        private var value = false
        func set() { lock.lock(); value = true; lock.unlock() }
        var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
    }
}
