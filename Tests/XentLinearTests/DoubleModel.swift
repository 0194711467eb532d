// The truth the fused linear head is held to: the logits H·Wᵀ + b formed in Double, the loss and
// its gradient from Xent's Double reference kernel on them, the three products in Double.
import Foundation
import Xent
import XentLinear

/// SplitMix64, seeded: the same draws on every platform.
struct Draws: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func uniform(_ range: ClosedRange<Float>) -> Float { Float.random(in: range, using: &self) }
    mutating func floats(_ count: Int, _ range: ClosedRange<Float>) -> [Float] {
        (0..<count).map { _ in uniform(range) }
    }
}

/// One problem: `H` (rows × d), `W` (classes × d), optional `b`, labels or soft targets.
struct LinearProblem {
    let rows: Int, hiddenSize: Int, classes: Int
    var hidden: [Float], weight: [Float], bias: [Float]?
    var labels: [Int32]
    var targets: [Float]?

    init(rows: Int, hiddenSize d: Int, classes: Int, bias: Bool, soft: Bool, seed: UInt64) {
        var draws = Draws(state: seed)
        self.rows = rows
        hiddenSize = d
        self.classes = classes
        hidden = draws.floats(rows * d, -1.5...1.5)
        weight = draws.floats(classes * d, -1...1)
        self.bias = bias ? draws.floats(classes, -2...2) : nil
        labels = (0..<rows).map { _ in Int32.random(in: 0..<Int32(classes), using: &draws) }
        if rows > 2 { labels[1] = -100 }  // an ignored row
        if rows > 3 { labels[3] = Int32(classes - 1) }  // the last class
        targets = soft ? draws.floats(rows * classes, 0...1) : nil
    }

    /// `z = H·Wᵀ + b` in Double, and per row the bound on its rounding in Float by the BLAS
    /// (NUMERICS.md "Fused linear head": `(d + 1)·u·(Σ_k |h_k·w_k| + |b|)`, the bias's addition
    /// counted as one more term).
    func logits() -> (z: [Double], rounding: [Double]) {
        let u = 0x1p-24
        var z = [Double](repeating: 0, count: rows * classes)
        var rounding = [Double](repeating: 0, count: rows)
        for i in 0..<rows {
            for j in 0..<classes {
                var sum = Double(bias?[j] ?? 0)
                var magnitude = abs(Double(bias?[j] ?? 0))
                for k in 0..<hiddenSize {
                    let term = Double(hidden[i * hiddenSize + k]) * Double(weight[j * hiddenSize + k])
                    sum += term
                    magnitude += abs(term)
                }
                z[i * classes + j] = sum
                rounding[i] = max(rounding[i], Double(hiddenSize + 1) * u * magnitude)
            }
        }
        return (z, rounding)
    }
}

/// The Double truth of one call and the bounds the head's outputs must meet.
struct LinearTruth {
    var loss: Double, lossBound: Double
    var rowLosses: [Double], rowLossBounds: [Double]
    var logSumExp: [Float]
    var hiddenGradient: [Double], hiddenBound: [Double]
    var weightGradient: [Double], weightBound: [Double]
    var biasGradient: [Double], biasBound: [Double]

    /// The reference kernel (Double arithmetic) on the logits rounded once to Float, then the products in
    /// Double. The gradient's bound per entry is NUMERICS.md's, with the logits' rounding δ added
    /// through the softmax (`4·s·δ` relative), and the products' `n·u·Σ|a·b|`.
    init(_ problem: LinearProblem, _ options: SoftmaxCrossEntropy) throws {
        let (n, v, d) = (problem.rows, problem.classes, problem.hiddenSize)
        let u = 0x1p-24
        let (zDouble, rounding) = problem.logits()
        let z = zDouble.map { Float($0) }
        var reference = options
        reference.kernel = .reference
        reference.threads = 1
        let statistics = RowStatistics()
        var g = [Float]()
        var unscaledOptions = reference
        unscaledOptions.reduction = .sum
        unscaledOptions.gradientScale = 1
        unscaledOptions.rowWeights = nil
        unscaledOptions.divisor = nil
        var unscaled = [Float]()
        let lossValue: Float
        if let targets = problem.targets {
            lossValue = try reference.lossAndGradient(
                logits: z, targets: targets, classes: v, gradient: &g, rowStatistics: statistics)
            _ = try unscaledOptions.lossAndGradient(logits: z, targets: targets, classes: v, gradient: &unscaled)
        } else {
            lossValue = try reference.lossAndGradient(
                logits: z, labels: problem.labels, classes: v, gradient: &g, rowStatistics: statistics)
            _ = try unscaledOptions.lossAndGradient(logits: z, labels: problem.labels, classes: v, gradient: &unscaled)
        }
        loss = Double(lossValue)
        rowLosses = statistics.losses.map(Double.init)
        logSumExp = statistics.logSumExp
        let s = Double(options.logitScale)
        // `.mean`'s two denominators, and the smaller one for the reduced loss's bound.
        var crossEntropyDenominator = 1.0
        var zLossDenominator = 1.0
        if options.reduction == .mean {
            crossEntropyDenominator = 0
            zLossDenominator = 0
            for i in 0..<n where problem.targets != nil || problem.labels[i] != options.ignoreIndex ?? Int32.min {
                let w = problem.targets == nil ? Double(options.classWeights?[Int(problem.labels[i])] ?? 1) : 1
                let r = Double(options.rowWeights?[i] ?? 1)
                crossEntropyDenominator += r * w
                zLossDenominator += r
            }
            crossEntropyDenominator = options.divisor ?? crossEntropyDenominator
        }
        var gradientBound = [Double](repeating: 0, count: n * v)
        rowLossBounds = []
        let alpha = Double(options.labelSmoothing)
        let lambda = Double(options.zLossScale)
        for i in 0..<n {
            let lse = Double(statistics.logSumExp[i])
            let r = Double(options.rowWeights?[i] ?? 1)
            var unscaledMass = 0.0
            for j in 0..<v { unscaledMass += abs(Double(unscaled[i * v + j])) }
            let delta = 4 * s * rounding[i]
            rowLossBounds.append(r * (1e-6 * max(1, abs(lse)) + delta * unscaledMass) + 1e-30)
            // The row's target vector v_c = w_c·q_c (NUMERICS.md §4–5) and its mass.
            let ignored = problem.targets == nil && problem.labels[i] == options.ignoreIndex ?? Int32.min
            var target = [Double](repeating: 0, count: v)
            if !ignored {
                for j in 0..<v {
                    let w = Double(options.classWeights?[j] ?? 1)
                    let y = problem.targets.map { Double($0[i * v + j]) } ?? (j == Int(problem.labels[i]) ? 1 : 0)
                    target[j] = w * ((1 - alpha) * y + alpha / Double(v))
                }
            }
            let mass = target.reduce(0, +)
            let upstream = abs(Double(options.gradientScale)) * r * s
            let crossEntropyScale = crossEntropyDenominator > 0 ? upstream / crossEntropyDenominator : 0
            let zLossScale = zLossDenominator > 0 ? upstream * 2 * lambda * abs(lse) / zLossDenominator : 0
            var m = -Double.infinity
            for j in 0..<v { m = max(m, Self.transform(z[i * v + j], options)) }
            for j in 0..<v {
                let t = Self.transform(z[i * v + j], options)
                let p = lse.isFinite ? exp(t - lse) : 0
                let a = crossEntropyScale * (p * mass + target[j]) + zLossScale * p
                let gap = t.isFinite && m.isFinite ? abs(t - m) : 0
                gradientBound[i * v + j] = ((16 + gap) * u + delta) * a + 1e-30
            }
        }
        let denominator = min(crossEntropyDenominator, lambda != 0 ? zLossDenominator : .infinity)
        lossBound = rowLossBounds.reduce(0, +) / max(denominator, 1e-30) + 2e-7 * abs(loss)
        hiddenGradient = [Double](repeating: 0, count: n * d)
        hiddenBound = [Double](repeating: 0, count: n * d)
        weightGradient = [Double](repeating: 0, count: v * d)
        weightBound = [Double](repeating: 0, count: v * d)
        biasGradient = [Double](repeating: 0, count: v)
        biasBound = [Double](repeating: 0, count: v)
        for i in 0..<n {
            for j in 0..<v {
                let gij = Double(g[i * v + j])
                let bound = gradientBound[i * v + j]
                biasGradient[j] += gij
                biasBound[j] += Double(n) * u * abs(gij) + bound
                for k in 0..<d {
                    let w = Double(problem.weight[j * d + k])
                    let h = Double(problem.hidden[i * d + k])
                    hiddenGradient[i * d + k] += gij * w
                    hiddenBound[i * d + k] += Double(v) * u * abs(gij * w) + bound * abs(w)
                    weightGradient[j * d + k] += gij * h
                    weightBound[j * d + k] += Double(n) * u * abs(gij * h) + bound * abs(h)
                }
            }
        }
    }

    /// The transformed logit in Double (scale, then softcap).
    static func transform(_ z: Float, _ options: SoftmaxCrossEntropy) -> Double {
        let scaled = Double(z * options.logitScale)
        guard let cap = options.softcap.map(Double.init) else { return scaled }
        return cap * tanh(scaled / cap)
    }
}

/// The first index where `actual` is farther from `expected` than `bound` allows, described.
func firstViolation(_ name: String, _ actual: [Float], _ expected: [Double], _ bound: [Double]) -> String? {
    guard actual.count == expected.count else { return "\(name): \(actual.count) values, expected \(expected.count)" }
    for i in actual.indices {
        let a = Double(actual[i])
        let e = expected[i]
        if a.isNaN && e.isNaN { continue }
        if a == e { continue }
        if !(abs(a - e) <= bound[i]) { return "\(name)[\(i)] = \(a), expected \(e) ± \(bound[i])" }
    }
    return nil
}
