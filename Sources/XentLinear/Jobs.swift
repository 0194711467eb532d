// Fixed jobs over a few threads, taken in order from a shared counter.
import Dispatch
import Foundation

enum Jobs {
    /// A value (raw pointers, mostly) the caller promises is safe to share: every job touches
    /// memory no other job touches.
    struct Shared<Value>: @unchecked Sendable {
        let value: Value
        init(_ value: Value) { self.value = value }
    }

    /// Runs `body(job)` for every job in `0 ..< count` on up to `workers` threads, each thread taking
    /// the next job not yet taken (the first jobs first: put the largest first). What a job computes
    /// must not depend on which thread runs it.
    static func run(_ count: Int, workers: Int, _ body: (Int) -> Void) {
        let workers = Swift.min(workers, count)
        if workers <= 1 {
            for job in 0..<count { body(job) }
            return
        }
        let lock = NSLock()
        var next = 0
        withoutActuallyEscaping(body) { body in
            let shared = Shared((body, lock))
            withUnsafeMutablePointer(to: &next) { next in
                let counter = Shared(next)
                DispatchQueue.concurrentPerform(iterations: workers) { _ in
                    let (body, lock) = shared.value
                    while true {
                        lock.lock()
                        let job = counter.value.pointee
                        counter.value.pointee += 1
                        lock.unlock()
                        guard job < count else { return }
                        body(job)
                    }
                }
            }
        }
    }
}
