// A figure measured over rounds with its range, and how the summary judges a target against it.
import Foundation

/// A time or ratio as the summary states it: `value` from the medians, and the range [`low`, `high`]
/// the rounds span. With one round the range is the value itself and judging is as before rounds
/// existed: met or missed by the value alone.
struct Spread {
    let value: Double
    let low: Double
    let high: Double
    let rounds: Int

    /// A case's time over a fixed divisor (a bound, the element count): each round median divided by it.
    init(_ timing: TimingSummary, over divisor: Double) {
        value = timing.median / divisor
        low = timing.lowestRoundMedian / divisor
        high = timing.highestRoundMedian / divisor
        rounds = timing.rounds
    }

    private init(value: Double, low: Double, high: Double, rounds: Int) {
        self.value = value
        self.low = low
        self.high = high
        self.rounds = rounds
    }

    /// `numerator / denominator` of two Xent cases, which every round measures: the ratio of their
    /// medians, and the range of the ratios round by round. Both cases of a round ran minutes apart at
    /// most, so a burst that slows a whole round cancels in its ratio. (The ratio of the medians lies
    /// in that range: each round's numerator is at least `low` times its denominator, so the medians
    /// are too, and likewise for `high`.)
    static func pairedRatio(_ numerator: TimingSummary, _ denominator: TimingSummary) -> Spread {
        guard numerator.rounds == denominator.rounds else { return unpairedRatio(numerator, denominator) }
        let ratios = zip(numerator.roundMedians, denominator.roundMedians).map { $0 / $1 }
        return Spread(value: numerator.median / denominator.median, low: ratios.min()!, high: ratios.max()!,
                      rounds: ratios.count)
    }

    /// `numerator / denominator` of two cases whose rounds are not paired in time (a peer's rounds run
    /// after all of Xent's, in the peer's own process): the ratio of the medians, and the widest
    /// range the round medians allow, lowest over highest to highest over lowest.
    static func unpairedRatio(_ numerator: TimingSummary, _ denominator: TimingSummary) -> Spread {
        Spread(value: numerator.median / denominator.median,
               low: numerator.lowestRoundMedian / denominator.highestRoundMedian,
               high: numerator.highestRoundMedian / denominator.lowestRoundMedian,
               rounds: Swift.min(numerator.rounds, denominator.rounds))
    }

    /// The value, and with more than one round its range: "1.42× (1.38–1.47)". Judged against
    /// `thresholds`, a figure that `format` would print as a threshold's own digits without being
    /// equal to it takes more decimals ("%.2f" → "%.3f", up to four more), so that a verdict reads
    /// "1.354× ≤ 1.35× no", not "1.35× ≤ 1.35× no".
    func text(_ format: String, suffix: String = "", thresholds: [Double] = []) -> String {
        var format = format
        func printsAsAThreshold(_ figure: Double) -> Bool {
            thresholds.contains { figure != $0 && String(format: format, figure) == String(format: format, $0) }
        }
        for _ in 0..<4 where [self.value, low, high].contains(where: printsAsAThreshold) {
            format = Self.oneMoreDecimal(format)
        }
        let value = String(format: format, self.value) + suffix
        guard rounds > 1 else { return value }
        return value + " (" + String(format: format, low) + "–" + String(format: format, high) + ")"
    }

    /// "%.2f" → "%.3f"; a format of another form as it is.
    static func oneMoreDecimal(_ format: String) -> String {
        guard format.hasPrefix("%."), format.hasSuffix("f"), let digits = Int(format.dropFirst(2).dropLast())
        else { return format }
        return "%.\(digits + 1)f"
    }
}

/// A target's outcome. With rounds, "within noise" when the threshold lies in the range of the
/// rounds, [low, high]: the rounds disagree, so neither met nor missed is a finding. Met (missed)
/// then means the whole range meets (misses) it, the median included. "n/a" where a ratio is
/// reported without a target (the issue asks for none there).
enum Verdict: String {
    case met = "yes"
    case missed = "no"
    case withinNoise = "within noise"
    case notApplicable = "n/a"

    /// A target "at most `threshold`" (a time or a ratio to a bound).
    static func atMost(_ threshold: Double, _ measured: Spread) -> Verdict {
        if measured.rounds > 1 && measured.low <= threshold && threshold <= measured.high { return .withinNoise }
        return measured.value <= threshold ? .met : .missed
    }

    /// A target "at least `threshold`" (a speedup).
    static func atLeast(_ threshold: Double, _ measured: Spread) -> Verdict {
        if measured.rounds > 1 && measured.low <= threshold && threshold <= measured.high { return .withinNoise }
        return measured.value >= threshold ? .met : .missed
    }

    /// A target "more than `threshold`" ("faster": a speedup of exactly 1 is not one).
    static func above(_ threshold: Double, _ measured: Spread) -> Verdict {
        if measured.rounds > 1 && measured.low <= threshold && threshold <= measured.high { return .withinNoise }
        return measured.value > threshold ? .met : .missed
    }
}
