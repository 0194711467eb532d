// The z-loss (λ·lse² per row) and the per-row log-sum-exp output, every kernel.
import Foundation
import Testing
import Xent

@Suite struct ZLossTests {
    @Test("z-loss: loss, gradient and row log-sum-exp against the Double truth",
          arguments: Variant.all, [37, 3000])
    func zLoss(variant: Variant, classes: Int) throws {
        let rows = 6
        var (logits, labels) = LogitKind.offset.batch(rows: rows, classes: classes, seed: 12)
        labels[3] = -100
        let targets = softTargets(for: logits, classes: classes, seed: 12)
        for (lambda, soft) in [(Float(1e-4), false), (1e-2, false), (1e-3, true)] {
            var ce = variant.configuration(.mean)
            ce.zLossScale = lambda
            var gradient = [Float](repeating: 0, count: logits.count)
            var rowLosses = [Float](repeating: 0, count: rows), lse = [Float](repeating: 0, count: rows)
            let loss = try logits.withUnsafeBufferPointer { z in
                try gradient.withUnsafeMutableBufferPointer { g in
                    try rowLosses.withUnsafeMutableBufferPointer { r in
                        try lse.withUnsafeMutableBufferPointer { l in
                            soft
                                ? try targets.withUnsafeBufferPointer { q in
                                    try ce.lossAndGradient(
                                        logits: z, targets: q, classes: classes, gradient: g,
                                        rowStatistics: .init(losses: r, logSumExp: l))
                                }
                                : try labels.withUnsafeBufferPointer { t in
                                    try ce.lossAndGradient(
                                        logits: z, labels: t, classes: classes, gradient: g,
                                        rowStatistics: .init(losses: r, logSumExp: l))
                                }
                        }
                    }
                }
            }
            let counted = soft ? rows : rows - 1
            var crossEntropy = 0.0, zPart = 0.0, bound = 0.0
            for r in 0..<rows where soft || labels[r] != -100 {
                let range = r * classes ..< (r + 1) * classes
                let q = soft ? targets[range].map(Double.init) : (0..<classes).map { $0 == Int(labels[r]) ? 1.0 : 0.0 }
                let truth = try #require(RowTruth(logits: logits[range], targets: q))
                let lambdaD = Double(lambda)
                crossEntropy += truth.loss
                zPart += lambdaD * truth.lse * truth.lse
                // d(λ·lse²) = 2λ·lse·d(lse): the lse bound, magnified.
                let lseBound = 1e-6 * max(1, abs(truth.lse))
                let rowBound = truth.lossBound * (1 + 2 * lambdaD * abs(truth.lse)) + Double(rowLosses[r].ulp)
                bound += rowBound
                #expect(
                    abs(Double(lse[r]) - truth.lse) <= lseBound + Double(Float(truth.lse).ulp),
                    "\(variant) λ \(lambda) row \(r): lse \(lse[r]) vs \(truth.lse)")
                #expect(
                    abs(Double(rowLosses[r]) - (truth.loss + lambdaD * truth.lse * truth.lse)) <= rowBound,
                    """
                    \(variant) λ \(lambda) row \(r): loss \(rowLosses[r]) \
                    vs \(truth.loss + lambdaD * truth.lse * truth.lse)
                    """)
                // g_j = (p_j·Σq − q_j)/N + 2λ·lse·p_j/N
                let scale = 1 / Double(counted)
                var worst = 0.0
                for j in 0..<classes {
                    let expected = truth.gradient(j) * scale + 2 * lambdaD * truth.lse * truth.p[j] * scale
                    let gBound = truth.gradientBound(j, z: logits[range.lowerBound + j], scale: scale)
                        + (16 + abs(Double(logits[range.lowerBound + j]) - truth.m)) * unitRoundoff * 2 * lambdaD
                        * abs(truth.lse) * truth.p[j] * scale
                        + 1e-6 * 2 * lambdaD * max(1, abs(truth.lse)) * truth.p[j] * scale
                    worst = max(worst, abs(Double(gradient[range.lowerBound + j]) - expected) / gBound)
                }
                #expect(worst <= 1, "\(variant) λ \(lambda) soft \(soft) row \(r): gradient error \(worst)× the bound")
            }
            let expected = crossEntropy / Double(counted) + zPart / Double(counted)
            #expect(abs(Double(loss) - expected) <= bound / Double(counted) + 2e-7 * abs(expected),
                    "\(variant) λ \(lambda): loss \(loss) vs \(expected)")
            if !soft { #expect(lse[3] == 0 && rowLosses[3] == 0, "ignored row: lse 0, loss 0") }
        }
    }

    @Test("λ = 0 is the plain loss, bit for bit; a negative or non-finite λ is refused", arguments: Variant.all)
    func zeroAndInvalid(variant: Variant) throws {
        let (logits, labels) = LogitKind.normal.batch(rows: 3, classes: 20, seed: 2)
        var ce = variant.configuration(.mean)
        var g0 = [Float](), g1 = [Float]()
        let plain = try ce.lossAndGradient(logits: logits, labels: labels, classes: 20, gradient: &g0)
        ce.zLossScale = 0
        #expect(try ce.lossAndGradient(logits: logits, labels: labels, classes: 20, gradient: &g1) == plain && g0 == g1)
        for bad in [Float(-1), .nan, .infinity] {
            ce.zLossScale = bad
            var g = [Float](repeating: 9, count: 60)
            #expect(throws: XentError.self) {
                try ce.lossAndGradient(logits: logits, labels: labels, classes: 20, gradient: &g)
            }
            #expect(g.allSatisfy { $0 == 9 })
        }
    }
}
