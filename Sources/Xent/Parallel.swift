// Running blocks of work, or single jobs, on several threads (Dispatch's concurrentPerform, claimed as
// the threads come), and how many `threads = nil` uses (AvailableCPUs.swift counts them).
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

    /// About the least work a thread claims at a time, in logits (the callers pass it as rows or
    /// chunks, at least one; ``forEachBlock(_:workers:minimumBlock:descending:_:)``): a claim is an
    /// atomic operation on a line the threads share, so blocks stay large enough for its cost to
    /// vanish, and small enough that the threads finish within a few microseconds of each other.
    static let minimumBlockElements = 16 * 1024

    /// Calls `body(i, w)` for every `i` in `0 ..< count` on up to `workers` threads, `w`
    /// (`0 ..< workers`) naming the thread that runs the item, for per-worker workspaces; the
    /// threads claim contiguous blocks of items as they go
    /// (``forEachBlock(_:workers:minimumBlock:descending:_:)``). `body` must only touch memory no
    /// other item touches.
    ///
    /// `descendingGroups` (k > 0): the blocks are claimed from the last item down, and each is walked
    /// in groups of k items from its last group to its first, each group's items in ascending order.
    /// A pass over what the pass before it wrote in ascending order then starts on what was written
    /// last, the most likely to be in a cache (one thread's or the other's), where an ascending walk
    /// would evict it before reaching it; ascending within a group keeps the hardware prefetcher's
    /// stream.
    static func forEach(
        _ count: Int, workers: Int, minimumBlock: Int = 1, descendingGroups: Int = 0,
        _ body: (_ item: Int, _ worker: Int) -> Void
    ) {
        let descending = descendingGroups > 0
        forEachBlock(count, workers: workers, minimumBlock: minimumBlock, descending: descending) { items, w in
            walk(items, descendingGroups: descendingGroups) { body($0, w) }
        }
    }

    /// Calls `body` with contiguous blocks of `0 ..< count` that cover it once, on up to `workers`
    /// threads, for a worker that carries something from one item to the next within a block;
    /// `worker` (`0 ..< workers`) names the thread, and no two threads run one worker's blocks at
    /// once. On one worker, one block: all of `0 ..< count`.
    ///
    /// Each thread claims its next block when it has finished the last (`xent_claim_block`: half of
    /// what is left over the workers, at least ``claimMinimum(_:workers:minimumBlock:)`` items),
    /// ascending, or from the last item down when `descending`. A thread that starts late (Dispatch
    /// wakes a second thread some microseconds after the call begins, and after an idle spell may
    /// not at all) or runs slow (a shared host takes a CPU away in bursts) then takes less of the
    /// work instead of holding the call up, as equal ranges fixed in advance did. Where the blocks
    /// begin and end depends only on `count`, `workers` and `minimumBlock`, not on which thread
    /// claims them. Blocks rather than items, because interleaved items put two cores on
    /// neighbouring memory, where the shim's prefetches (8 KiB ahead, for writing too) pull lines
    /// away from the core writing them, which made two threads slower than one. Which thread runs an
    /// item changes nothing in the results: every item is computed the same way on any thread.
    static func forEachBlock(
        _ count: Int, workers: Int, minimumBlock: Int = 1, descending: Bool = false,
        _ body: (_ items: Range<Int>, _ worker: Int) -> Void
    ) {
        let workers = Swift.min(workers, count)
        if workers <= 1 {
            if count > 0 { body(0..<count, 0) }
            return
        }
        let minimum = claimMinimum(count, workers: workers, minimumBlock: minimumBlock)
        performClaiming(workers) { claimed, w in
            var first = 0
            while true {
                let length = xent_claim_block(claimed, count, workers, minimum, &first)
                if length == 0 { break }
                body(descending ? count - first - length ..< count - first : first ..< first + length, w)
            }
        }
    }

    /// Calls `body(i)` for every `i` in `0 ..< count` on up to `workers` threads, which claim the
    /// items one at a time, in order, as they go (`xent_claim_item`): for a few large jobs of unequal
    /// cost, put the largest first — a thread that starts late or runs slow then takes fewer of them
    /// rather than holding the call up, as jobs dealt out in advance did. `body` must only touch
    /// memory no other item touches, and what it computes must not depend on the thread.
    package static func forEachClaimedItem(_ count: Int, workers: Int, _ body: (_ item: Int) -> Void) {
        let workers = Swift.min(workers, count)
        if workers <= 1 {
            for item in 0..<count { body(item) }
            return
        }
        performClaiming(workers) { claimed, _ in
            while true {
                let item = xent_claim_item(claimed)
                if item >= count { break }
                body(item)
            }
        }
    }

    /// ``perform(_:_:)`` with a count of claimed items (0 at first) that every worker's `body` gets, for
    /// `xent_claim_block` and `xent_claim_item`. The count sits alone on a cache line (128 bytes on
    /// Apple's arm64 cores, 64 on x86-64): every thread writes it, and nothing else should share it.
    private static func performClaiming(
        _ workers: Int, _ body: (_ claimed: UnsafeMutablePointer<Int>, _ worker: Int) -> Void
    ) {
        withUnsafeTemporaryAllocation(byteCount: 128, alignment: 128) { line in
            let claimed = line.baseAddress!.bindMemory(to: Int.self, capacity: 1)
            claimed.initialize(to: 0)
            let shared = SharedUnsafe(claimed)
            perform(workers) { w in body(shared.value, w) }
        }
    }

    /// The least block ``forEachBlock(_:workers:minimumBlock:descending:_:)`` claims over `count`
    /// items on `workers` (≥ 2) threads: `minimumBlock`, but no more than half of each worker's
    /// share (`count / (2·workers)`, at least 1), so that a small loop is still shared out — as a
    /// caller asking for threads expects, and as the tests of a few rows on several threads need.
    static func claimMinimum(_ count: Int, workers: Int, minimumBlock: Int) -> Int {
        Swift.max(1, Swift.min(minimumBlock, count / 2 / Swift.max(1, workers)))
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

    /// `range` in ascending order, or with `descendingGroups` k > 0 in groups of k from the last
    /// group to the first, ascending within each (the last group the shortest).
    @inline(__always)
    static func walk(_ range: Range<Int>, descendingGroups k: Int, _ body: (Int) -> Void) {
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
