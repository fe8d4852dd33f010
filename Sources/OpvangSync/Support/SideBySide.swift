import Foundation

/// Runs `background` on a second thread while `here` runs on this one, and returns both results; the
/// first error of either is rethrown once both have finished.
///
/// The second thread is a plain POSIX thread. When it cannot be started (a tight `ulimit -v` or `-u`, no
/// memory for its stack), both closures run here, one after the other: slower, never stuck. (A global
/// dispatch queue would instead retry creating its worker thread for ever.)
func sideBySide<A: Sendable, B>(_ background: @escaping @Sendable () throws -> A, _ here: () throws -> B) throws -> (A, B) {
    let theirs = Background(background)
    let mine = Result { try here() }
    return (try theirs.wait(), try mine.get())
}

/// Work started on a second thread now and waited for later, for a result needed only at the end of
/// what this thread does meanwhile. `wait()` joins the thread (once; later calls give the same result).
/// Like `sideBySide`, it runs the work on this thread, before `init` returns, when no thread can be started.
final class Background<A: Sendable> {
    private let slot = Slot<Result<A, Error>>()
    private var thread: pthread_t?

    init(_ body: @escaping @Sendable () throws -> A) {
        let slot = slot
        let job = Job { slot.value = Result { try body() } }
        let unmanaged = Unmanaged.passRetained(job)
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        // The planners recurse little; a modest stack leaves room under a tight address-space limit.
        pthread_attr_setstacksize(&attributes, 4 << 20)
        var thread = pthread_t()
        let started = pthread_create(&thread, &attributes, { argument in
            guard let argument else { return nil }
            Unmanaged<Job>.fromOpaque(argument).takeRetainedValue().body()
            return nil
        }, unmanaged.toOpaque())
        guard started == 0 else {
            unmanaged.release()
            slot.value = Result { try body() }
            return
        }
        self.thread = thread
    }

    /// The work's result, or its error, once it has finished.
    func wait() throws -> A {
        join()
        // The join orders the write on the other thread before this read.
        return try slot.value!.get()
    }

    /// The work's result, as `wait()` gives it, for the one call that uses it: this object keeps no copy,
    /// so what the result holds is freed as soon as the caller is done with it. Not to be called again.
    func take() throws -> A {
        join()
        guard let result = slot.value else { preconditionFailure("Background.take() called a second time") }
        slot.value = nil
        return try result.get()
    }

    private func join() {
        if let thread {
            pthread_join(thread, nil)
            self.thread = nil
        }
    }

    deinit {
        // Never left running unjoined, whatever path the caller took.
        if let thread { pthread_join(thread, nil) }
    }
}

/// The work handed to the second thread.
private final class Job: @unchecked Sendable {
    let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }
}

/// One value handed from a worker thread to the thread that waits for it.
private final class Slot<Value>: @unchecked Sendable {
    var value: Value?
}
