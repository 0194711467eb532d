// Fixed jobs shared out over a few threads before they start.
import Xent

enum Jobs {
    /// A value (raw pointers, mostly) the caller promises is safe to share: every job touches
    /// memory no other job touches.
    struct Shared<Value>: @unchecked Sendable {
        let value: Value
        init(_ value: Value) { self.value = value }
    }

    /// Runs `body(job)` for every job in `0 ..< costs.count` on up to `workers` threads. The jobs
    /// are dealt out before any starts, each in turn to the thread with the least work so far
    /// (`costs`, in any unit; put the largest first). What a job computes must not depend on which
    /// thread runs it.
    static func run(costs: [Int], workers: Int, _ body: (Int) -> Void) {
        let count = costs.count
        let workers = Swift.min(workers, count)
        if workers <= 1 {
            for job in 0..<count { body(job) }
            return
        }
        var lists = [[Int]](repeating: [], count: workers)
        var load = [Int](repeating: 0, count: workers)
        for job in 0..<count {
            let w = load.indices.min { load[$0] < load[$1] }!
            lists[w].append(job)
            load[w] += costs[job]
        }
        // Xent's threads, which run under the calling thread's floating-point controls.
        Parallel.perform(workers) { w in
            for job in lists[w] { body(job) }
        }
    }

    /// ``run(costs:workers:_:)`` for `count` jobs of equal cost.
    static func run(_ count: Int, workers: Int, _ body: (Int) -> Void) {
        run(costs: [Int](repeating: 1, count: count), workers: workers, body)
    }
}
