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

/// min / median / p90 / max of a case's timed runs, in nanoseconds, and the medians of the rounds
/// it was measured in (`--rounds`; one round: just its median).
struct TimingSummary {
    let repetitions: Int
    let min: Double
    let median: Double
    let p90: Double
    let max: Double
    /// Each round's median, in the order the rounds ran.
    let roundMedians: [Double]

    var rounds: Int { roundMedians.count }
    var lowestRoundMedian: Double { roundMedians.min()! }
    var highestRoundMedian: Double { roundMedians.max()! }

    /// One round's timed runs.
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
        roundMedians = [median]
    }

    /// A case measured in several rounds: the median of the round medians (and of the round p90s,
    /// which keeps min ≤ median ≤ p90 ≤ max), the fastest and slowest run of all, every run counted.
    /// A burst on a shared machine that slows one round then moves the median little, and shows in
    /// the spread of the round medians instead. One round gives that round's summary unchanged.
    init(rounds: [TimingSummary]) {
        precondition(!rounds.isEmpty, "a case needs at least one round")
        repetitions = rounds.reduce(0) { $0 + $1.repetitions }
        min = rounds.map(\.min).min()!
        median = middle(rounds.map(\.median))
        p90 = middle(rounds.map(\.p90))
        max = rounds.map(\.max).max()!
        roundMedians = rounds.map(\.median)
    }

    /// A derived summary (the linear suite's sgemm+xent sum): one round, these statistics.
    init(repetitions: Int, min: Double, median: Double, p90: Double, max: Double) {
        self.repetitions = repetitions
        self.min = min
        self.median = median
        self.p90 = p90
        self.max = max
        roundMedians = [median]
    }
}

/// The median of `values`, the mean of the two middle ones for an even count.
func middle(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    let half = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[half] : (sorted[half - 1] + sorted[half]) / 2
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
