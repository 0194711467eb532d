// Running blocks of work on several threads (Dispatch's concurrentPerform), and how many `threads = nil`
// uses (AvailableCPUs.swift counts them).
import Dispatch

/// A value (raw pointers, mostly) that the caller promises is safe to share: every worker
/// touches disjoint parts of the memory behind it.
struct SharedUnsafe<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

enum Parallel {
    /// The threads a large call uses when ``SoftmaxCrossEntropy/threads`` is nil: the CPUs this process
    /// may run on (``availableCPUs()``: on Linux its affinity mask and cgroup CPU quota, not the host's
    /// online processors). Read once per process, on first use; a later `taskset` or quota change is
    /// not seen.
    static let cores: Int = availableCPUs()

    /// Below this many logits a call runs on one thread when ``SoftmaxCrossEntropy/threads`` is
    /// nil: handing work to a second thread costs more than it saves (the Performance article
    /// gives the measurements behind the cutoff).
    static let automaticCutoff = 512 * 1024

    /// Calls `body(i)` for every `i` in `0 ..< count`, on `workers` threads: worker `w` takes
    /// one contiguous range, `w·count/workers ..< (w+1)·count/workers`. Contiguous, because
    /// interleaved items put two cores on neighbouring memory, where the shim's prefetches
    /// (8 KiB ahead, for writing too) pull lines away from the core writing them, which made two
    /// threads slower than one. `body` must only touch memory no other item touches.
    static func forEach(_ count: Int, workers: Int, _ body: (Int) -> Void) {
        forEach(count, workers: workers) { i, _ in body(i) }
    }

    /// ``forEach(_:workers:_:)`` that also tells `body` which worker (`0 ..< workers`) runs the
    /// item, for per-worker workspaces.
    static func forEach(_ count: Int, workers: Int, _ body: (_ item: Int, _ worker: Int) -> Void) {
        let workers = Swift.min(workers, count)
        if workers <= 1 {
            for i in 0..<count { body(i, 0) }
            return
        }
        withoutActuallyEscaping(body) { body in
            let shared = SharedUnsafe(body)
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                for i in (w * count / workers) ..< ((w + 1) * count / workers) { shared.value(i, w) }
            }
        }
    }
}
