// Running blocks of work on several threads (Dispatch's concurrentPerform), and how many `threads = nil`
// uses (AvailableCPUs.swift counts them).
import CXent
import Dispatch

/// A value (raw pointers, mostly) that the caller promises is safe to share: every worker
/// touches disjoint parts of the memory behind it.
struct SharedUnsafe<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

package enum Parallel {
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
    ///
    /// `descendingBlocks` (k > 0): each worker walks its range in blocks of k items, the blocks from
    /// the last to the first, each block's items in ascending order. A pass over what the pass
    /// before it wrote in ascending order then starts on what is still in cache (the most recently
    /// written), where an ascending walk would evict it before reaching it; ascending within a
    /// block keeps the hardware prefetcher's stream.
    static func forEach(
        _ count: Int, workers: Int, descendingBlocks: Int = 0, _ body: (_ item: Int, _ worker: Int) -> Void
    ) {
        forEachRange(count, workers: workers) { range, w in
            walk(range, descendingBlocks: descendingBlocks) { body($0, w) }
        }
    }

    /// Calls `body` once per worker with that worker's contiguous range of ``forEach(_:workers:_:)``
    /// (`w·count/workers ..< (w+1)·count/workers`, at most `count` workers), for a worker that
    /// carries something from one item to the next.
    static func forEachRange(_ count: Int, workers: Int, _ body: (_ items: Range<Int>, _ worker: Int) -> Void) {
        let workers = Swift.min(workers, count)
        if workers <= 1 {
            body(0..<count, 0)
            return
        }
        perform(workers) { w in body((w * count / workers) ..< ((w + 1) * count / workers), w) }
    }

    /// Calls `body(w)` for every `w` in `0 ..< workers` at once, each on its own thread (the calling
    /// thread among them), under the calling thread's floating-point controls (flush-to-zero,
    /// denormals-are-zero, the rounding mode): Dispatch's threads keep those of whichever thread
    /// created them, and a call's bits must not depend on which thread ran a row. Each thread's own
    /// controls are put back afterwards.
    package static func perform(_ workers: Int, _ body: (Int) -> Void) {
        let controls = xent_float_controls()
        withoutActuallyEscaping(body) { body in
            let shared = SharedUnsafe(body)
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                let own = xent_float_controls()
                if own != controls { xent_set_float_controls(controls) }
                shared.value(w)
                if own != controls { xent_set_float_controls(own) }
            }
        }
    }

    /// `range` in ascending order, or with `descendingBlocks` k > 0 in blocks of k from the last
    /// block to the first, ascending within each (the last block the shortest).
    @inline(__always)
    static func walk(_ range: Range<Int>, descendingBlocks k: Int, _ body: (Int) -> Void) {
        guard k > 0 else {
            for i in range { body(i) }
            return
        }
        var end = range.upperBound
        while end > range.lowerBound {
            let start = range.lowerBound + (end - range.lowerBound - 1) / k * k
            for i in start..<end { body(i) }
            end = start
        }
    }
}
