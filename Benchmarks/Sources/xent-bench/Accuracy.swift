// Each case's accuracy: its per-row losses and gradient against `.reference` on the same data.

struct AccuracyResult {
    var maxLossError: Double
    var maxGradientError: Double?
}

enum Accuracy {
    /// Largest absolute differences from the reference's outputs (both computed with `.none`,
    /// so gradients are unscaled). NaN/inf entries count as equal when both sides agree.
    static func compare(
        losses: [Float], gradient: [Float]?, referenceLosses: [Float], referenceGradient: [Float]?
    ) -> AccuracyResult {
        func maxError(_ a: [Float], _ b: [Float]) -> Double {
            var worst = 0.0
            for (x, y) in zip(a, b) where !(x == y || (x.isNaN && y.isNaN)) {
                let e = abs(Double(x) - Double(y))
                worst = e.isNaN ? .infinity : Swift.max(worst, e)
            }
            return worst
        }
        return AccuracyResult(
            maxLossError: maxError(losses, referenceLosses),
            maxGradientError: gradient.flatMap { g in referenceGradient.map { maxError(g, $0) } })
    }
}
