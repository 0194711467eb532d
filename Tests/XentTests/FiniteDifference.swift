// The contract's loss in Double, read from NUMERICS.md alone, its bounds, and its central differences.
import Foundation
import Xent

/// The options of a call as NUMERICS.md states them, in `Double`.
struct ModelOptions: Sendable {
    var smoothing = 0.0
    var weights: [Double]? = nil
    var zLoss = 0.0
    /// §1's logit scale s: the contract's `z' = s·z` is the Float product (what a caller who
    /// scaled the logits first would pass, `SoftmaxCrossEntropy.logitScale`), so the model
    /// starts from it and multiplies its derivatives by s.
    var logitScale: Float = 1
    var softcap: Double? = nil
    var gradientScale = 1.0
    var divisor: Double? = nil
    var reduction: Reduction = .mean

    /// §1's softcap `z'' = c·tanh(z'/c)` in Double, on the Float `z' = s·z`.
    func transform(_ scaled: Double) -> Double {
        guard let c = softcap else { return scaled }
        return c * Foundation.tanh(scaled / c)
    }
}

/// Neumaier's compensated sum: a few ulps of the sum of magnitudes, whatever the count, so the
/// model's rounding does not swamp a central difference.
struct CompensatedSum {
    private(set) var sum = 0.0
    private var carry = 0.0
    mutating func add(_ x: Double) {
        let t = sum + x
        carry += abs(sum) >= abs(x) ? (sum - t) + x : (x - t) + sum
        sum = t
    }
    var value: Double { sum + carry }
}

/// One row of NUMERICS.md §1–5 at the scaled logits `z' = s·z`: the transformed logits, the max,
/// the log-sum-exp, the softmax, the target vector `v_c = w_c·q_c` and the cross-entropy
/// `Σ_c v_c·(lse − z_c)`. Nil for a row the contract makes NaN.
struct ModelRow {
    let z: [Double]
    let m: Double
    let lse: Double
    let p: [Double]
    let v: [Double]
    let sumV: Double
    let crossEntropy: Double

    init?(scaled: [Double], label: Int?, soft: ArraySlice<Double>?, options o: ModelOptions) {
        let n = scaled.count
        var z = [Double](repeating: 0, count: n)
        var m = -Double.infinity
        var unmasked = 0
        for j in 0..<n {
            let t = o.transform(scaled[j])
            if t.isNaN || t == .infinity { return nil }
            z[j] = t
            if t > m { m = t }
            if t != -.infinity { unmasked += 1 }
        }
        guard m > -.infinity else { return nil }
        var s = CompensatedSum()
        for j in 0..<n { s.add(Foundation.exp(z[j] - m)) }
        let lse = m + Foundation.log(s.value)
        var p = [Double](repeating: 0, count: n)
        var v = [Double](repeating: 0, count: n)
        var sumV = CompensatedSum(), loss = CompensatedSum()
        let alpha = o.smoothing
        for c in 0..<n {
            p[c] = Foundation.exp(z[c] - lse)
            let y: Double
            if let label { y = label == c ? 1 : 0 } else { y = soft![soft!.startIndex + c] }
            var q = (1 - alpha) * y
            if alpha != 0 && z[c] != -.infinity { q += alpha / Double(unmasked) }
            v[c] = (o.weights?[c] ?? 1) * q
            if v[c] != 0 {
                sumV.add(v[c])
                loss.add(v[c] * (lse - z[c]))
            }
        }
        (self.z, self.m, self.lse, self.p, self.v) = (z, m, lse, p, v)
        self.sumV = sumV.value
        crossEntropy = loss.value
    }
}

/// A whole call as the model sees it: the rows, which take part, the reduction's denominators,
/// and the per-row objective whose gradient (times s and the gradient scale) is the kernel's.
struct ModelProblem {
    let rows: Int
    let classes: Int
    /// The scaled logits `z' = s·z` (Float products), where the model's variables live.
    let logits: [Double]
    let labels: [Int]?
    let targets: [Double]?
    let ignored: [Bool]
    let options: ModelOptions
    let truths: [ModelRow?]
    /// 1/D for the cross-entropy part and for the z-loss part (0 when D is 0: NUMERICS.md's
    /// "every row ignored" case).
    let ceScale: Double
    let zScale: Double

    init(
        logits: [Float], labels: [Int32]?, targets: [Float]?, classes: Int, ignoreIndex: Int32?, options: ModelOptions
    ) {
        rows = logits.count / classes
        self.classes = classes
        self.logits = logits.map { Double($0 * options.logitScale) }
        self.labels = labels?.map(Int.init)
        self.targets = targets?.map(Double.init)
        let ignored = (0..<rows).map { r in labels.map { $0[r] == ignoreIndex } ?? false }
        self.ignored = ignored
        self.options = options
        let participating = ignored.filter { !$0 }.count
        var ce = 1.0, z = 1.0
        if options.reduction == .mean {
            z = Double(participating)
            if let divisor = options.divisor {
                ce = divisor
            } else if let labels, let w = options.weights {
                ce = 0
                for r in 0..<labels.count where !ignored[r] { ce += w[Int(labels[r])] }
            } else {
                ce = Double(participating)
            }
        }
        ceScale = ce > 0 ? 1 / ce : 0
        zScale = z > 0 ? 1 / z : 0
        var truths: [ModelRow?] = []
        let (scaled, intLabels, doubleTargets) = (self.logits, self.labels, self.targets)
        for r in 0..<rows {
            truths.append(Self.row(
                r, scaled: Array(scaled[r * classes ..< (r + 1) * classes]), labels: intLabels, targets: doubleTargets,
                ignored: ignored, classes: classes, options: options))
        }
        self.truths = truths
    }

    private static func row(
        _ r: Int, scaled: [Double], labels: [Int]?, targets: [Double]?, ignored: [Bool], classes: Int,
        options: ModelOptions
    ) -> ModelRow? {
        if ignored[r] { return nil }
        return ModelRow(
            scaled: scaled, label: labels?[r], soft: targets?[r * classes ..< (r + 1) * classes], options: options)
    }

    func scaledRow(_ r: Int) -> [Double] { Array(logits[r * classes ..< (r + 1) * classes]) }

    /// The row's part of the reduced loss, `ℓ_CE/D + λ·lse²/N`, at scaled logits `scaled`.
    func objective(_ r: Int, scaled: [Double]) -> Double {
        guard
            let row = Self.row(
                r, scaled: scaled, labels: labels, targets: targets, ignored: ignored, classes: classes,
                options: options)
        else { return .nan }
        return row.crossEntropy * ceScale + options.zLoss * row.lse * row.lse * zScale
    }

    /// A row's loss as `rowLosses` holds it: `ℓ + λ·lse²`, undivided.
    func rowLoss(_ r: Int) -> Double {
        guard let t = truths[r] else { return 0 }
        return t.crossEntropy + options.zLoss * t.lse * t.lse
    }

    /// The reduced loss (NUMERICS.md, "Reduction").
    var loss: Double {
        var ce = 0.0, z = 0.0
        for case let t? in truths {
            ce += t.crossEntropy
            z += options.zLoss * t.lse * t.lse
        }
        return ce * ceScale + z * zScale
    }

    // MARK: NUMERICS.md's accuracy bounds around the model

    /// `max_j |z''_j|` over the row's finite transformed logits: the softcap's rounding scale.
    private func largest(_ t: ModelRow) -> Double {
        var largest = 0.0
        for x in t.z where x.isFinite { largest = Swift.max(largest, abs(x)) }
        return largest
    }

    /// The lse's bound `1e-6·max(1, |lse*|)`, plus with a softcap the rounding of z'' to Float
    /// (`4u·max|z''|`, as `SoftmaxCrossEntropy.softcap` states).
    private func lseBound(_ t: ModelRow) -> Double {
        1e-6 * Swift.max(1, abs(t.lse)) + (options.softcap != nil ? 4 * 0x1p-24 * largest(t) : 0)
    }

    /// `|ℓ − ℓ*| ≤ 1e-6·max(1, |lse*|)`, grown by the z-loss's derivative `2λ·lse` (its lse is
    /// off by as much), plus the softcap's `8u·Σv·max|z''|`, plus the Float rounding of the
    /// returned row loss.
    func rowLossBound(_ r: Int) -> Double {
        guard let t = truths[r] else { return 0 }
        let lambda = options.zLoss
        let loss = rowLoss(r)
        let cap = options.softcap != nil ? 8 * 0x1p-24 * abs(t.sumV) * largest(t) : 0
        return lseBound(t) * (1 + 2 * lambda * abs(t.lse)) + cap
            + Double(Float(loss).ulp) / 2 + (lambda != 0 ? Double(Float(loss).ulp) : 0)
    }

    /// The reduced loss: the rows' bounds divided like the loss, plus `2e-7·|loss|`.
    var reducedLossBound: Double {
        var bound = 0.0
        for case let t? in truths {
            let cap = options.softcap != nil ? 8 * 0x1p-24 * abs(t.sumV) * largest(t) : 0
            bound += (lseBound(t) + cap) * ceScale + lseBound(t) * 2 * options.zLoss * abs(t.lse) * zScale
        }
        return bound + 2e-7 * abs(loss)
    }

    /// NUMERICS.md's componentwise gradient bound for row `r`, class `j`, on the transformed
    /// logits: `(16 + |z_j − m|)·u·|p_j·Σv| + 16u·|v_j|`, scaled like the gradient (gradient
    /// scale / D), plus the z-loss part `2λ·lse·p_j` held to the same relative bound and to the
    /// lse's own `1e-6·max(1, |lse|)`; then times the chain factor `s·(1 − (z''_j/c)²)`, plus
    /// the softcap's own terms (`4u·(|z''_j| + |max z''|)` beside the gap, `16u·s·|∂ℓ/∂z''_j|`);
    /// plus 1e-30.
    func gradientBound(_ r: Int, _ j: Int) -> Double {
        guard let t = truths[r] else { return 0 }
        let unitRoundoff = 0x1p-24
        let upstream = abs(options.gradientScale)
        let lambda = options.zLoss
        let s = Double(options.logitScale)
        var chain = s
        var capGap = 0.0
        if let c = options.softcap {
            chain *= 1 - (t.z[j] / c) * (t.z[j] / c)
            capGap = 4 * (abs(t.z[j]) + abs(t.m))
        }
        let gap = t.p[j] == 0 ? 0 : (16 + abs(t.z[j] - t.m) + capGap) * unitRoundoff * t.p[j]
        var bound = (gap * abs(t.sumV) + 16 * unitRoundoff * abs(t.v[j])) * ceScale
        if lambda != 0 && t.p[j] != 0 {
            bound += (gap * 2 * lambda * abs(t.lse) + 1e-6 * 2 * lambda * Swift.max(1, abs(t.lse)) * t.p[j]) * zScale
        }
        bound *= upstream * abs(chain)
        if options.softcap != nil {
            let inner = t.p[j] * (t.sumV * ceScale + 2 * lambda * t.lse * zScale) - t.v[j] * ceScale
            bound += 16 * unitRoundoff * s * abs(inner) * upstream
        }
        return bound + 1e-30
    }

    // MARK: Central differences

    /// The derivative of row `r`'s objective along `direction` (in the scaled logits z'), times
    /// s and the gradient scale (∂z'/∂z = s): what `Σ_j direction_j·g_j` must be.
    ///
    /// Central differences at h = 2⁻¹⁰ and h/2, combined by Richardson extrapolation (the h²
    /// error term cancels; what is left is O(h⁴)). The returned margin covers the model's
    /// truncation and rounding: |D(h) − D(h/2)|, the size of the h² term itself (far more than
    /// the O(h⁴) remainder), plus 32ε·A/h for the rounding of f, where A is the sum of the
    /// magnitudes the objective adds (its compensated sums keep f within a few ε·A).
    func centralDifference(row r: Int, along direction: [Double]) -> (estimate: Double, margin: Double) {
        let z = scaledRow(r)
        func f(_ t: Double) -> Double {
            var x = z
            for j in 0..<classes where direction[j] != 0 { x[j] += t * direction[j] }
            return objective(r, scaled: x)
        }
        let h = 0x1p-10
        let d1 = (f(h) - f(-h)) / (2 * h)
        let d2 = (f(h / 2) - f(-h / 2)) / h
        let estimate = (4 * d2 - d1) / 3
        guard let t = truths[r] else { return (0, 0) }
        var magnitude = 0.0
        for c in 0..<classes where t.v[c] != 0 { magnitude += abs(t.v[c]) * (abs(t.lse) + abs(t.z[c])) }
        magnitude = magnitude * ceScale + options.zLoss * t.lse * t.lse * zScale
        let margin = abs(d1 - d2) + 32 * Double.ulpOfOne * magnitude / h
        let upstream = options.gradientScale * Double(options.logitScale)
        return (estimate * upstream, margin * abs(upstream))
    }
}
