// Timing: a monotonic clock, repetitions until a time budget, and order statistics.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Nanoseconds from a monotonic clock.
func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// How many times to run a case: warm-up runs, then at least `minRepetitions` timed runs and
/// more until `minSeconds` have passed or `maxRepetitions` are done.
struct RepetitionPolicy {
    var warmup = 2
    var minRepetitions = 5
    var maxRepetitions = 50
    var minSeconds = 0.5
}

/// min / median / p90 / max of a case's timed runs, in nanoseconds.
struct TimingSummary {
    let repetitions: Int
    let min: Double
    let median: Double
    let p90: Double
    let max: Double

    init(_ samples: [Double]) {
        let sorted = samples.sorted()
        func quantile(_ q: Double) -> Double {
            // Linear interpolation between closest ranks.
            let position = q * Double(sorted.count - 1)
            let lower = Int(position.rounded(.down))
            let upper = Swift.min(lower + 1, sorted.count - 1)
            return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - Double(lower))
        }
        repetitions = sorted.count
        min = sorted.first!
        median = quantile(0.5)
        p90 = quantile(0.9)
        max = sorted.last!
    }
}

/// Times `body` under `policy`; `body` must do the whole operation once.
func measure(_ policy: RepetitionPolicy, _ body: () -> Void) -> TimingSummary {
    for _ in 0..<policy.warmup { body() }
    var samples: [Double] = []
    let start = monotonicNanoseconds()
    while samples.count < policy.minRepetitions
        || (samples.count < policy.maxRepetitions
            && Double(monotonicNanoseconds() - start) < policy.minSeconds * 1e9)
    {
        let t0 = monotonicNanoseconds()
        body()
        samples.append(Double(monotonicNanoseconds() - t0))
    }
    return TimingSummary(samples)
}
