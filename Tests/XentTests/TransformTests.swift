// The logit transforms (logit scale, softcap) with every other option, every kernel, against a
// Double truth of NUMERICS.md §1–§7 and the bounds stated on `SoftmaxCrossEntropy.softcap`.
import Foundation
import Testing
import Xent

/// One row of the contract in Double, transforms included: `t = s·z` rounded to Float, then
/// `c·tanh(t/c)` in Double. Nil for a row the contract makes NaN.
struct TransformedTruth {
    let t: [Double]
    let m: Double
    let lse: Double
    let p: [Double]
    let v: [Double]
    let mass: Double
    let loss: Double
    let scale: Double
    let cap: Double?

    init?(
        logits z: ArraySlice<Float>, label: Int?, soft: ArraySlice<Float>?, smoothing alpha: Double,
        weights: [Float]?, scale: Float, cap: Float?
    ) {
        let t = z.map { zj -> Double in
            let scaled = Double(zj * scale)
            return cap.map { Double($0) * Foundation.tanh(scaled / Double($0)) } ?? scaled
        }
        guard !t.contains(where: { $0.isNaN || $0 == .infinity }), let m = t.max(), m > -.infinity else { return nil }
        let sum = t.reduce(0) { $0 + Foundation.exp($1 - m) }
        let lse = m + Foundation.log(sum)
        let unmasked = Double(t.count { $0 != -.infinity })
        let v = t.indices.map { c -> Double in
            let w = weights.map { Double($0[c]) } ?? 1
            let y = label.map { $0 == c ? 1.0 : 0.0 } ?? Double(soft![soft!.startIndex + c])
            return (1 - alpha) * w * y + (t[c] != -.infinity ? alpha / unmasked * w : 0)
        }
        self.t = t
        self.m = m
        self.lse = lse
        p = t.map { Foundation.exp($0 - m) / sum }
        self.v = v
        mass = v.reduce(0, +)
        loss = t.indices.reduce(0) { v[$1] == 0 ? $0 : $0 + v[$1] * (lse - t[$1]) }
        self.scale = Double(scale)
        self.cap = cap.map(Double.init)
    }

    /// `s·(1 − (t_j/c)²)`.
    func chain(_ j: Int) -> Double { scale * (cap.map { 1 - (t[j] / $0) * (t[j] / $0) } ?? 1) }

    /// The gradient of the transformed logits, `p_j·(P·Σv + Pz·lse) − P·v_j`, before the chain.
    func inner(_ j: Int, p P: Double, pLse Pz: Double) -> Double { p[j] * (P * mass + Pz * lse) - v[j] * P }

    func gradient(_ j: Int, p P: Double, pLse Pz: Double) -> Double { inner(j, p: P, pLse: Pz) * chain(j) }

    /// NUMERICS.md's bound on the transformed logits, times the chain factor, plus the softcap's
    /// own rounding as `SoftmaxCrossEntropy.softcap` states it.
    func gradientBound(_ j: Int, p P: Double, pLse Pz: Double, lambda: Double) -> Double {
        let u = unitRoundoff
        let capTerm = cap == nil ? 0 : 4 * (abs(t[j]) + abs(m))
        let gapTerm = p[j] == 0 ? 0 : (16 + abs(t[j] - m) + capTerm) * u * abs(p[j] * (P * mass + Pz * lse))
        var bound = gapTerm + 16 * u * abs(v[j] * P)
        if lambda != 0 { bound += 1e-6 * abs(Pz) * Swift.max(1, abs(lse)) * p[j] }
        bound *= abs(chain(j))
        if cap != nil { bound += 16 * u * scale * abs(inner(j, p: P, pLse: Pz)) }
        return bound + 1e-30
    }

    /// The row loss `ℓ + λ·lse²`'s bound.
    func lossBound(lambda: Double, loss value: Float) -> Double {
        let largest = t.filter(\.isFinite).map(abs).max() ?? 0
        let capLse = cap == nil ? 0 : 4 * unitRoundoff * largest
        let capLoss = cap == nil ? 0 : 8 * unitRoundoff * mass * largest
        return (1e-6 * Swift.max(1, abs(lse)) + capLse) * (1 + 2 * lambda * abs(lse)) + capLoss
            + Double(value.ulp)
    }
}

@Suite struct TransformTests {
    struct Setting: CustomStringConvertible, Sendable {
        var scale: Float = 1
        var cap: Float? = nil
        var smoothing: Float = 0
        var weighted = false
        var lambda: Float = 0
        var gradientScale: Float = 1
        var description: String {
            "s \(scale) c \(cap.map { "\($0)" } ?? "-") α \(smoothing) w \(weighted) λ \(lambda) gs \(gradientScale)"
        }
    }

    static let settings: [Setting] = [
        Setting(scale: 0.7),
        Setting(scale: 3),
        Setting(scale: 1e9),  // ±1e30 logits overflow to ±inf: +inf makes a bad row, −inf masks
        Setting(cap: 30),
        Setting(scale: 2, cap: 5),
        Setting(scale: 0.5, cap: 15, smoothing: 0.1, weighted: true, lambda: 1e-3, gradientScale: 0.5),
        Setting(cap: 50, smoothing: 0.2, lambda: 1e-4),
    ]

    @Test("logit scale and softcap, with smoothing, weights, z-loss, ignore index and masks, every kernel",
          arguments: Variant.all, [37, 5000])
    func transforms(variant: Variant, classes: Int) throws {
        let kinds = [LogitKind.normal, .huge, .offset, .masked, .dominant]
        for (k, kind) in kinds.enumerated() {
            // Long rows: every setting sees two of the kinds (the runtime of the Double truth).
            for (index, setting) in Self.settings.enumerated() where classes < 1000 || (index + k) % 3 == 0 {
                try check(variant: variant, classes: classes, kind: kind, setting: setting, seed: UInt64(index))
            }
        }
    }

    func check(variant: Variant, classes: Int, kind: LogitKind, setting: Setting, seed: UInt64) throws {
        let rows = 5
        var (logits, labels) = kind.batch(rows: rows, classes: classes, seed: 40 + seed)
        labels[2] = -100
        // Row 3 holds a +inf (softcap: c, a finite logit); row 4 is all −inf (softcap: −c each).
        logits[3 * classes + (Int(labels[3]) + 1) % classes] = .infinity
        for j in 0..<classes { logits[4 * classes + j] = -.infinity }
        let targets = softTargets(for: logits, classes: classes, seed: 40 + seed)
        var rng = SeededGenerator(seed: 7 + seed)
        let weights: [Float]? = setting.weighted ? (0..<classes).map { _ in Float.random(in: 0..<2, using: &rng) } : nil

        var ce = variant.configuration(.sum)
        ce.logitScale = setting.scale
        ce.softcap = setting.cap
        ce.labelSmoothing = setting.smoothing
        ce.classWeights = weights
        ce.zLossScale = setting.lambda
        ce.gradientScale = setting.gradientScale
        let P = Double(setting.gradientScale)
        let Pz = 2 * Double(setting.lambda) * P
        let lambda = Double(setting.lambda)

        for soft in [false, true] {
            for inPlace in [false, true] {
                let context = "\(variant) \(classes) \(kind) \(setting) soft \(soft) inPlace \(inPlace)"
                let rowLosses = RowStatistics(.losses)
                var gradient = inPlace ? logits : [Float](repeating: 0, count: logits.count)
                let loss: Float
                switch (soft, inPlace) {
                case (false, false):
                    loss = try ce.lossAndGradient(logits: logits, labels: labels, classes: classes,
                                                  gradient: &gradient, rowStatistics: rowLosses)
                case (true, false):
                    loss = try ce.lossAndGradient(logits: logits, targets: targets, classes: classes,
                                                  gradient: &gradient, rowStatistics: rowLosses)
                case (false, true):
                    loss = try ce.lossAndGradient(
                        inPlace: &gradient, labels: labels, classes: classes, rowStatistics: rowLosses)
                case (true, true):
                    loss = try ce.lossAndGradient(
                        inPlace: &gradient, targets: targets, classes: classes, rowStatistics: rowLosses)
                }
                // Forward only gives the same loss, bit for bit.
                let forward = soft
                    ? try ce.loss(logits: logits, targets: targets, classes: classes)
                    : try ce.loss(logits: logits, labels: labels, classes: classes)
                #expect(
                    forward.bitPattern == loss.bitPattern || (forward.isNaN && loss.isNaN),
                    "\(context): forward \(forward) vs \(loss)")

                var expected = 0.0, bound = 0.0, anyBad = false
                for r in 0..<rows {
                    let range = r * classes ..< (r + 1) * classes
                    if !soft && labels[r] == -100 {
                        #expect(
                            rowLosses.losses[r] == 0 && gradient[range].allSatisfy { $0 == 0 },
                            "\(context) row \(r): ignored")
                        continue
                    }
                    guard let truth = TransformedTruth(
                        logits: logits[range], label: soft ? nil : Int(labels[r]), soft: soft ? targets[range] : nil,
                        smoothing: Double(setting.smoothing), weights: weights, scale: setting.scale, cap: setting.cap)
                    else {
                        anyBad = true
                        #expect(
                            rowLosses.losses[r].isNaN && gradient[range].allSatisfy(\.isNaN),
                            "\(context) row \(r): a bad row is NaN")
                        continue
                    }
                    let rowTruth = truth.loss + lambda * truth.lse * truth.lse
                    let rowBound = truth.lossBound(lambda: lambda, loss: rowLosses.losses[r])
                    expected += rowTruth
                    bound += rowBound
                    if rowTruth.isInfinite {
                        #expect(
                            Double(rowLosses.losses[r]) == rowTruth, "\(context) row \(r): loss \(rowLosses.losses[r])")
                    } else {
                        #expect(abs(Double(rowLosses.losses[r]) - rowTruth) <= rowBound,
                                "\(context) row \(r): loss \(rowLosses.losses[r]) vs \(rowTruth), bound \(rowBound)")
                    }
                    var worst = (j: -1, ratio: 0.0)
                    for j in 0..<classes {
                        let error = abs(Double(gradient[range.lowerBound + j]) - truth.gradient(j, p: P, pLse: Pz))
                        let ratio = error / truth.gradientBound(j, p: P, pLse: Pz, lambda: lambda)
                        if !(ratio <= worst.ratio) { worst = (j, ratio) }
                    }
                    if !(worst.ratio <= 1) {
                        let j = worst.j
                        Issue.record(
                            """
                            \(context) row \(r): gradient[\(j)] = \(gradient[range.lowerBound + j]), \
                            truth \(truth.gradient(j, p: P, pLse: Pz)), \(worst.ratio)× the bound; \
                            logit \(logits[range.lowerBound + j]) → \(truth.t[j]), max \(truth.m)
                            """)
                    }
                }
                if anyBad {
                    #expect(loss.isNaN, "\(context): a bad row makes the loss NaN")
                } else if expected.isInfinite {
                    #expect(Double(loss) == expected, "\(context): loss \(loss) vs \(expected)")
                } else {
                    #expect(
                        abs(Double(loss) - expected) <= bound + 2e-7 * abs(expected),
                        "\(context): loss \(loss) vs \(expected)")
                }
            }
        }
    }

    @Test("softcap: one long row split over threads gives the bits of one thread", arguments: Variant.all)
    func threads(variant: Variant) throws {
        let classes = 9000
        let (logits, labels) = LogitKind.normal.batch(rows: 1, classes: classes, seed: 3)
        var results: [[Float]] = []
        var losses: [Float] = []
        for threads in [1, 2, 3] {
            var ce = variant.configuration(.mean)
            ce.softcap = 10
            ce.logitScale = 1.5
            ce.labelSmoothing = 0.1
            ce.threads = threads
            var gradient = [Float]()
            losses.append(try ce.lossAndGradient(logits: logits, labels: labels, classes: classes, gradient: &gradient))
            results.append(gradient)
        }
        #expect(losses.allSatisfy { $0.bitPattern == losses[0].bitPattern }
                && results.allSatisfy { $0.map(\.bitPattern) == results[0].map(\.bitPattern) })
    }

    @Test("argmax is that of the caller's logits, even where a softcap saturates", arguments: Variant.all)
    func argmax(variant: Variant) throws {
        // 1e6 and 2e6 both become 30 (in Float) under a softcap of 30: the caller's argmax is 2.
        let logits: [Float] = [1, 1e6, 2e6, 3]
        var ce = variant.configuration(.mean)
        ce.softcap = 30
        var argmax = [Int32](repeating: -7, count: 1)
        _ = try logits.withUnsafeBufferPointer { z in
            try [Int32(0)].withUnsafeBufferPointer { t in
                try argmax.withUnsafeMutableBufferPointer { a in
                    try ce.loss(logits: z, labels: t, classes: 4, rowStatistics: .init(argmax: a))
                }
            }
        }
        #expect(argmax == [2])

        // Across chunks: 1e6 in the first 2048-element chunk, 2e6 in the third; both cap to 30.
        var long = [Float](repeating: 0, count: 5000)
        long[100] = 1e6
        long[4500] = 2e6
        var longArgmax = [Int32](repeating: -7, count: 1)
        for threads in [1, 2] {
            ce.threads = threads
            _ = try long.withUnsafeBufferPointer { z in
                try [Int32(0)].withUnsafeBufferPointer { t in
                    try longArgmax.withUnsafeMutableBufferPointer { a in
                        try ce.loss(logits: z, labels: t, classes: 5000, rowStatistics: .init(argmax: a))
                    }
                }
            }
            #expect(longArgmax == [4500], "\(variant) threads \(threads)")
        }
    }

    @Test("invalid logit scales and softcaps are refused before anything is written", arguments: Variant.all)
    func invalid(variant: Variant) throws {
        let (logits, labels) = LogitKind.normal.batch(rows: 2, classes: 5, seed: 1)
        for (scale, cap) in [
            (Float(0), Float?.none), (-1, nil), (.nan, nil), (.infinity, nil), (1, 0), (1, -2), (1, .nan),
            (1, .infinity)
        ] {
            var ce = variant.configuration(.mean)
            ce.logitScale = scale
            ce.softcap = cap
            var gradient = [Float](repeating: 9, count: 10)
            #expect {
                try ce.lossAndGradient(logits: logits, labels: labels, classes: 5, gradient: &gradient)
            } throws: { error in
                guard case .invalidOption(let name, _, _) = error as? XentError else { return false }
                let text = "\(error)"
                return name == (cap == nil ? "logitScale" : "softcap") && text.contains(name)
                    && text.contains(cap.map { "\($0)" } ?? "\(scale)")
            }
            #expect(gradient.allSatisfy { $0 == 9 })
        }
    }
}
