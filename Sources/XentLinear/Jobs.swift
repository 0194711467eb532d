// Fixed jobs shared out over a few threads, claimed as the threads come.
import Xent

enum Jobs {
    /// A value (raw pointers, mostly) the caller promises is safe to share: every job touches
    /// memory no other job touches.
    struct Shared<Value>: @unchecked Sendable {
        let value: Value
        init(_ value: Value) { self.value = value }
    }

    /// Runs `body(job)` for every job in `0 ..< count` on up to `workers` threads, Xent's threads
    /// (under the calling thread's floating-point controls). Each thread claims the next job when it
    /// has finished the last, in order — put the largest first — so that a thread that starts late
    /// or runs slow takes fewer jobs instead of holding the call up, as jobs dealt out in advance
    /// did. What a job computes must not depend on which thread runs it.
    static func run(_ count: Int, workers: Int, _ body: (Int) -> Void) {
        Parallel.forEachClaimedItem(count, workers: workers, body)
    }
}
