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

    /// What `take()` gives is freed with the caller's copy: the work's thread keeps none (a scoped run's
    /// list of every relation would otherwise stay in memory while the largest files are read).
    @Test func aResultTakenIsNotKeptByTheBackgroundWork() throws {
        final class Payload: Sendable {}
        let work = Background { [Payload()] }
        weak var held: Payload?
        do {
            let taken = try work.take()
            held = taken.first
            #expect(held != nil)
        }
        #expect(held == nil, "the result is gone once the caller lets it go, while the work's object lives on")
        withExtendedLifetime(work) {}
    }

    @Test func backgroundWorkIsWaitedForOnceAndItsResultOrErrorKept() throws {
        let finished = Flag()
        let work = Background { () -> Int in
            Thread.sleep(forTimeInterval: 0.05)
            finished.set()
            return 42
        }
        #expect(try work.wait() == 42)
        #expect(finished.isSet, "wait returned only once the work was done")
        #expect(try work.wait() == 42, "a second wait gives the same result")
        let failing = Background { () throws -> Int in throw Failure(which: "background") }
        #expect(throws: Failure(which: "background")) { _ = try failing.wait() }
        #expect(throws: Failure(which: "background")) { _ = try failing.wait() }
        // Work never waited for is still joined when it goes.
        let abandoned = Flag()
        do {
            _ = Background { () -> Int in Thread.sleep(forTimeInterval: 0.05); abandoned.set(); return 1 }
        }
        #expect(abandoned.isSet)
    }

    final class Flag: @unchecked Sendable {
        private let lock = NSLock()
        private var value = false
        func set() { lock.lock(); value = true; lock.unlock() }
        var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
    }
}
