// The Double truth of a row and NUMERICS.md's accuracy bounds around it.
import Foundation
import Testing

/// Float's unit roundoff, u = 2⁻²⁴.
let unitRoundoff = 0x1p-24

/// One row computed from the contract's formulas in Double, independently of the package's
/// `.reference` kernel (which is itself held to these bounds). Nil for a row the contract makes
/// NaN (it holds NaN or +inf, or every class is masked).
struct RowTruth {
    let m: Double
    let lse: Double
    let p: [Double]
    let q: [Double]
    let sumQ: Double
    let loss: Double

    init?(logits z: ArraySlice<Float>, targets q: [Double]) {
        let zd = z.map(Double.init)
        guard !zd.contains(where: { $0.isNaN || $0 == .infinity }),
              let m = zd.max(), m > -.infinity else { return nil }
        let s = zd.reduce(0) { $0 + Foundation.exp($1 - m) }
        self.m = m
        lse = m + Foundation.log(s)
        p = zd.map { Foundation.exp($0 - m) / s }  // not exp(z − lse): at |m| ~ 1e30, m + log S is m
        self.q = q
        sumQ = q.reduce(0, +)
        loss = zip(q, zd).reduce(0) { [lse] acc, t in t.0 == 0 ? acc : acc + t.0 * (lse - t.1) }
    }

    /// ∂ℓ/∂z_j = p_j·Σq − q_j (unscaled).
    func gradient(_ j: Int) -> Double { p[j] * sumQ - q[j] }

    /// |ℓ − ℓ*| ≤ 1e-6·max(1, |lse*|), plus half an ulp of ℓ* in Float: per-row losses are
    /// returned as Float, which cannot hold ℓ* more closely than that.
    var lossBound: Double {
        1e-6 * Swift.max(1, abs(lse)) + (loss.isFinite ? Double(Float(loss).ulp) / 2 : 0)
    }

    /// (16 + |z_j − m|)·u·|p*_j·Σq| + 16u·|q_j| (before the reduction's scaling) + 1e-30.
    func gradientBound(_ j: Int, z: Float, scale: Double) -> Double {
        let gapTerm = p[j] == 0 ? 0 : (16 + abs(Double(z) - m)) * unitRoundoff * abs(p[j] * sumQ)
        return (gapTerm + 16 * unitRoundoff * abs(q[j])) * scale + 1e-30
    }
}

/// Holds one row of a kernel's output to the truth: loss within its bound, each gradient entry
/// within its bound (times the reduction's `scale`); NaN rows all NaN.
///
/// With a z-loss λ, the row's loss is `ℓ + λ·lse²` and its gradient gains `2λ·lse·p_j·zScale`;
/// the bounds grow by the same derivative (d(λ·lse²) = 2λ·lse·d lse).
func expectRow(
    logits z: ArraySlice<Float>, targets q: [Double], loss: Float, gradient: ArraySlice<Float>?,
    scale: Double, zLoss lambda: Double = 0, zScale: Double = 0, _ context: @autoclosure () -> String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    guard let truth = RowTruth(logits: z, targets: q) else {
        #expect(loss.isNaN, "\(context()): a bad row's loss must be NaN, got \(loss)", sourceLocation: sourceLocation)
        if let gradient, !gradient.allSatisfy({ $0.isNaN }) {
            Issue.record("\(context()): a bad row's gradient must be all NaN", sourceLocation: sourceLocation)
        }
        return
    }
    let expectedLoss = truth.loss + lambda * truth.lse * truth.lse
    let lossBound = truth.lossBound * (1 + 2 * lambda * abs(truth.lse)) + (lambda != 0 ? Double(loss.ulp) : 0)
    if expectedLoss.isInfinite {
        #expect(
            Double(loss) == expectedLoss, "\(context()): loss \(loss), truth \(expectedLoss)",
            sourceLocation: sourceLocation)
    } else {
        let error = abs(Double(loss) - expectedLoss)
        if !(error <= lossBound) {
            Issue.record(
                "\(context()): loss \(loss), truth \(expectedLoss), error \(error) > bound \(lossBound)",
                sourceLocation: sourceLocation)
        }
    }
    guard let gradient else { return }
    var worst: (j: Int, ratio: Double)? = nil
    for j in 0..<z.count {
        let g = gradient[gradient.startIndex + j]
        let zTerm = 2 * lambda * truth.lse * truth.p[j] * zScale
        let zBound = truth.p[j] == 0 || lambda == 0 ? 0
            : (16 + abs(Double(z[z.startIndex + j]) - truth.m)) * unitRoundoff * abs(zTerm)
                + 1e-6 * 2 * lambda * Swift.max(1, abs(truth.lse)) * truth.p[j] * abs(zScale)
        let bound = truth.gradientBound(j, z: z[z.startIndex + j], scale: scale) + zBound
        let ratio = abs(Double(g) - truth.gradient(j) * scale - zTerm) / bound
        if !(ratio <= 1), worst == nil || !(ratio <= worst!.ratio) { worst = (j, ratio) }
    }
    if let worst {
        let j = worst.j
        Issue.record(
            """
            \(context()): gradient[\(j)] = \(gradient[gradient.startIndex + j]), \
            truth \(truth.gradient(j) * scale + 2 * lambda * truth.lse * truth.p[j] * zScale), \
            error \(worst.ratio)× the bound \(truth.gradientBound(j, z: z[z.startIndex + j], scale: scale)); \
            logit \(z[z.startIndex + j]), max \(truth.m)
            """,
            sourceLocation: sourceLocation)
    }
}

/// The reduced loss: within the sum of the rows' bounds (divided like the loss) + 2e-7·|loss|.
func reducedLossBound(_ rows: [RowTruth?], divisor: Double, loss: Double) -> Double {
    rows.reduce(0) { $0 + ($1.map { $0.lossBound } ?? 0) } / divisor + 2e-7 * abs(loss)
}
