import Dispatch

/// Two pieces of work that share nothing but their inputs, run on two cores at once: `background` on
/// another thread, `here` on this one (which keeps any database connection it uses to itself).
///
/// Returns when both are done, also when `here` throws; a throw from `background` is rethrown after.
func sideBySide<A: Sendable, B>(_ background: @escaping @Sendable () throws -> A, _ here: () throws -> B) throws -> (A, B) {
    let slot = Slot<Result<A, Error>>()
    let done = DispatchGroup()
    done.enter()
    DispatchQueue.global(qos: .userInitiated).async {
        slot.value = Result { try background() }
        done.leave()
    }
    let mine = Result { try here() }
    done.wait()
    // The group's wait orders the write above before this read.
    let theirs = try slot.value!.get()
    return (theirs, try mine.get())
}

/// One value handed from a worker thread to the thread that waits for it.
private final class Slot<Value>: @unchecked Sendable {
    var value: Value?
}
